//! `/api/v2/programs`: the programs of organizations, their lifecycle commands and enrollments.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing;
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::ProgramStatus;
use icosistem_core::model::value::Name;
use icosistem_core::model::{EnrollmentStatus, OrganizationId, ProgramFormat, ProgramId, ProgramType, ProjectStage};
use icosistem_core::ports::store::ProgramFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{CreateProgram, UpdateProgram};
use icosistem_core::workflow::program::ProgramCommand;

use super::kit::{
    Authenticated, BadBody, Conflict, Forbidden, IfMatch, ListQuery, NoId, NotFound, PathId, commands, list_query,
    lists, reads,
};
use super::{finish, optional_enum, optional_id, required, required_enum, required_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::schema::one_of_or_empty;
use crate::dto::{
    ApiJson, CommandRequest, CreateProgramRequest, EnrollmentDto, PageDto, ProgramDto, UpdateProgramRequest,
};
use crate::error::ApiError;

list_query! {
    /// `GET /api/v2/programs` filters.
    pub(crate) struct ProgramQuery {
        /// Run by this organization (its members also see its drafts).
        #[param(value_type = Option<String>, pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$")]
        organization_id: Option<String>,
        /// Status.
        #[param(schema_with = one_of_or_empty::<ProgramStatus>)]
        status: Option<String>,
        /// `true`: only programs taking applications now.
        accepting: Option<bool>,
    }
}

list_query! {
    /// `GET /api/v2/programs/{id}/enrollments` filters.
    pub(crate) struct EnrollmentQuery {
        /// Status.
        #[param(schema_with = one_of_or_empty::<EnrollmentStatus>)]
        status: Option<String>,
    }
}

fn program_response(program: &icosistem_core::model::Program) -> Response {
    versioned(program.meta.version, ProgramDto::from(program))
}

/// Target stages by name, each failure pushed to `errors` under `field`.
fn stages(errors: &mut ValidationErrors, field: &'static str, names: &[String]) -> Vec<ProjectStage> {
    names
        .iter()
        .filter_map(|name| optional_enum::<ProjectStage>(errors, field, Some(name)))
        .collect()
}

impl ListQuery for ProgramQuery {
    type Filter = (ProgramFilter, bool);

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        let filter = ProgramFilter {
            organization_id: optional_id(errors, "organization_id", self.organization_id.as_deref()),
            status: optional_enum(errors, "status", self.status.as_deref()),
            ..Default::default()
        };
        (filter, self.accepting.unwrap_or(false))
    }
}

impl ListQuery for EnrollmentQuery {
    type Filter = Option<EnrollmentStatus>;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        optional_enum(errors, "status", self.status.as_deref())
    }
}

lists! {
    tag = "programs";
    /// Lists programs, newest first (`?organization_id&status&accepting=true`). Drafts show only to
    /// admins and to members of the organization named in the filter.
    list_programs: "/api/v2/programs", NoId, ProgramQuery => ProgramDto, [],
        |eco, ctx, NoId, (filter, accepting), page| eco.list_programs(
            ctx,
            ProgramFilter { accepting_at: accepting.then(|| eco.clock().now()), ..filter },
            page,
        );
}

/// Creates a draft program of an organization (its staff and admins).
#[utoipa::path(post, path = "/api/v2/programs", operation_id = "create_program", tag = "programs", security(("bearer" = [])),
    request_body = CreateProgramRequest,
    responses(
        (status = 201, description = "Created (draft)", body = ProgramDto), Authenticated, Forbidden, NotFound, BadBody))]
pub(crate) async fn create_program<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateProgramRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let organization_id =
        required_id::<OrganizationId>(&mut errors, "organization_id", body.organization_id.as_deref());
    let name = required(&mut errors, "name", body.name.filter(|n| !n.trim().is_empty()));
    if let Some(Err(e)) = name.as_deref().map(Name::parse) {
        errors.push("name", e.message().to_owned());
    }
    let program_type = required_enum::<ProgramType>(&mut errors, "program_type", body.program_type.as_deref());
    let opens = required(&mut errors, "application_opens_at", body.application_opens_at);
    let deadline = required(&mut errors, "application_deadline", body.application_deadline);
    let start = required(&mut errors, "start_date", body.start_date);
    let end = required(&mut errors, "end_date", body.end_date);
    let max = required(&mut errors, "max_participants", body.max_participants);
    let target_stages = stages(&mut errors, "target_stages", &body.target_stages);
    let format = optional_enum::<ProgramFormat>(&mut errors, "format", body.format.as_deref());
    finish(errors)?;
    let (
        Some(organization_id),
        Some(name),
        Some(program_type),
        Some(application_opens_at),
        Some(application_deadline),
        Some(start_date),
        Some(end_date),
        Some(max_participants),
    ) = (organization_id, name, program_type, opens, deadline, start, end, max)
    else {
        return Err(ApiError::internal());
    };
    let program = state
        .eco
        .create_program(
            &auth.ctx,
            CreateProgram {
                organization_id,
                name,
                program_type,
                description: body.description,
                application_opens_at,
                application_deadline,
                start_date,
                end_date,
                min_participants: body.min_participants,
                max_participants,
                min_reviews: body.min_reviews,
                blind_review: body.blind_review,
                target_sectors: body.target_sectors,
                target_stages,
                format,
            },
        )
        .await?;
    let mut response = program_response(&program);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

reads! {
    tag = "programs";
/// One program (404 when the caller may not see it, e.g. another organization's draft).
    get_program: "/api/v2/programs/{id}", ProgramId => ProgramDto, |eco, ctx, id| eco.get_program(ctx, id);
}

/// Edits a program (staff of its organization and admins).
#[utoipa::path(patch, path = "/api/v2/programs/{id}", operation_id = "update_program", tag = "programs", security(("bearer" = [])),
    request_body = UpdateProgramRequest,
    params(PathId<ProgramId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated program", body = ProgramDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn update_program<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<ProgramId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<UpdateProgramRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let target_stages = body
        .target_stages
        .as_deref()
        .map(|names| stages(&mut errors, "target_stages", names));
    let format = optional_enum::<ProgramFormat>(&mut errors, "format", body.format.as_deref());
    finish(errors)?;
    let program = state
        .eco
        .update_program(
            &auth.ctx,
            id,
            UpdateProgram {
                name: body.name,
                description: body.description,
                application_opens_at: body.application_opens_at,
                application_deadline: body.application_deadline,
                start_date: body.start_date,
                end_date: body.end_date,
                min_participants: body.min_participants,
                max_participants: body.max_participants,
                min_reviews: body.min_reviews,
                blind_review: body.blind_review,
                target_sectors: body.target_sectors,
                target_stages,
                format,
                version,
            },
        )
        .await?;
    Ok(program_response(&program))
}

/// Runs a program lifecycle command.
async fn command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: ProgramId,
    version: Option<u64>,
    command: ProgramCommand,
) -> Result<Response, ApiError> {
    let resource = state.eco.program_command(&auth.ctx, id, command, version).await?;
    Ok(program_response(&resource))
}

commands! {
    tag = "programs", id = ProgramId, answer = ProgramDto, run = command;
    /// Publishes a draft program: it takes applications inside its window.
    publish_program: "/api/v2/programs/{id}/publish", CommandRequest, |body| ProgramCommand::Publish;
    /// Starts the cohort; the enrollments become active.
    start_program: "/api/v2/programs/{id}/start", CommandRequest, |body| ProgramCommand::Start;
    /// Completes the program; active enrollments graduate.
    complete_program: "/api/v2/programs/{id}/complete", CommandRequest, |body| ProgramCommand::Complete;
    /// Calls the program off.
    cancel_program: "/api/v2/programs/{id}/cancel", CommandRequest, |body| ProgramCommand::Cancel;
}

lists! {
    tag = "programs";
    /// The enrollments of a program (its staff and admins).
    list_program_enrollments: "/api/v2/programs/{id}/enrollments", PathId<ProgramId>, EnrollmentQuery => EnrollmentDto, [Forbidden, NotFound],
        |eco, ctx, PathId(id), status, page| eco.list_enrollments(ctx, id, status, page);
}

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route(
            "/api/v2/programs",
            routing::get(list_programs::<S, N, C>).post(create_program::<S, N, C>),
        )
        .route(
            "/api/v2/programs/{id}",
            routing::patch(update_program::<S, N, C>).get(get_program::<S, N, C>),
        )
        .route("/api/v2/programs/{id}/cancel", routing::post(cancel_program::<S, N, C>))
        .route(
            "/api/v2/programs/{id}/complete",
            routing::post(complete_program::<S, N, C>),
        )
        .route(
            "/api/v2/programs/{id}/enrollments",
            routing::get(list_program_enrollments::<S, N, C>),
        )
        .route(
            "/api/v2/programs/{id}/publish",
            routing::post(publish_program::<S, N, C>),
        )
        .route("/api/v2/programs/{id}/start", routing::post(start_program::<S, N, C>))
}

/// This module's part of the OpenAPI document (its components are listed in [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_programs,
    create_program,
    update_program,
    get_program,
    cancel_program,
    complete_program,
    list_program_enrollments,
    publish_program,
    start_program
))]
pub(crate) struct Api;
