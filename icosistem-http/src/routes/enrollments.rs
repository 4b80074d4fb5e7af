//! `/api/v2/enrollments/{id}`: one enrollment in a program, and the participant leaving it.
//! (A program's list of enrollments lives with the programs.)

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing;
use icosistem_core::model::{Enrollment, EnrollmentId};
use icosistem_core::ports::{Clock, Notifier, Store};

use super::kit::{Authenticated, BadBody, Conflict, Forbidden, NotFound, PathId, reads};
use super::versioned;
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{DropOutRequest, EnrollmentDto, OptionalJson};
use crate::error::ApiError;

fn enrollment_response(enrollment: &Enrollment) -> Response {
    versioned(enrollment.meta.version, EnrollmentDto::from(enrollment))
}

reads! {
    tag = "enrollments";
/// One enrollment: its entrepreneur, the program's staff and admins (404 for everyone else).
    get_enrollment: "/api/v2/enrollments/{id}", EnrollmentId => EnrollmentDto, |eco, ctx, id| eco.get_enrollment(ctx, id);
}

/// The participant leaves the program (themselves, the program's staff, admins). Before the
/// program starts the seat goes to the best waitlisted application. The core takes no version
/// for this command: `If-Match` is not read.
#[utoipa::path(post, path = "/api/v2/enrollments/{id}/drop-out", operation_id = "drop_out_enrollment", tag = "enrollments", security(("bearer" = [])),
    request_body(content = Option<DropOutRequest>, description = "Optional: why"),
    params(PathId<EnrollmentId>),
    responses(
        (status = 200, description = "The enrollment, dropped out", body = EnrollmentDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn drop_out_enrollment<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<EnrollmentId>,
    OptionalJson(body): OptionalJson<DropOutRequest>,
) -> Result<Response, ApiError> {
    let enrollment = state.eco.drop_out(&auth.ctx, id, body.reason).await?;
    Ok(enrollment_response(&enrollment))
}

/// The document of the enrollment paths.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(get_enrollment, drop_out_enrollment),
    components(schemas(DropOutRequest)),
    tags((name = "enrollments", description = "Enrollments in programs"))
)]
pub(crate) struct Api;

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route("/api/v2/enrollments/{id}", routing::get(get_enrollment::<S, N, C>))
        .route(
            "/api/v2/enrollments/{id}/drop-out",
            routing::post(drop_out_enrollment::<S, N, C>),
        )
}
