//! `/api/v2/enrollments/{id}`: one enrollment in a program, and the participant leaving it.
//! (A program's list of enrollments lives with the programs.)

use axum::extract::{Path, State};
use axum::response::Response;
use icosistem_core::model::{Enrollment, EnrollmentId};
use icosistem_core::ports::{Clock, Notifier, Store};

use super::{path_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{DropOutRequest, EnrollmentDto, OptionalJson};
use crate::error::{ApiError, Problem};

fn enrollment_response(enrollment: &Enrollment) -> Response {
    versioned(enrollment.meta.version, EnrollmentDto::from(enrollment))
}

/// One enrollment: its entrepreneur, the program's staff and admins (404 for everyone else).
#[utoipa::path(get, path = "/api/v2/enrollments/{id}", tag = "enrollments", security(("bearer" = [])),
    params(("id" = String, Path, description = "Enrollment id")),
    responses(
        (status = 200, description = "The enrollment", body = EnrollmentDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enrollment", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: EnrollmentId = path_id(&id, "enrollment")?;
    let enrollment = state.eco.get_enrollment(&auth.ctx, id).await?;
    Ok(enrollment_response(&enrollment))
}

/// The participant leaves the program (themselves, the program's staff, admins). Before the
/// program starts the seat goes to the best waitlisted application. The core takes no version
/// for this command: `If-Match` is not read.
#[utoipa::path(post, path = "/api/v2/enrollments/{id}/drop-out", tag = "enrollments", security(("bearer" = [])),
    request_body(content = Option<DropOutRequest>, description = "Optional: why"),
    params(("id" = String, Path, description = "Enrollment id")),
    responses(
        (status = 200, description = "The enrollment, dropped out", body = EnrollmentDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sees the program but is neither the participant nor its staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enrollment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The enrollment has ended (invalid_transition)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`reason` too long", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn drop_out<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<DropOutRequest>,
) -> Result<Response, ApiError> {
    let id: EnrollmentId = path_id(&id, "enrollment")?;
    let enrollment = state.eco.drop_out(&auth.ctx, id, body.reason).await?;
    Ok(enrollment_response(&enrollment))
}

/// The document of the enrollment paths.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(get, drop_out),
    components(schemas(DropOutRequest)),
    tags((name = "enrollments", description = "Enrollments in programs"))
)]
pub(crate) struct EnrollmentsApi;
