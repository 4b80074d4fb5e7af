//! `/api/v2/programs`: the programs of organizations, their lifecycle commands and enrollments.

use axum::response::Response;
use icosistem_core::model::ProgramStatus;
use icosistem_core::model::{EnrollmentStatus, OrganizationId, ProgramId};
use icosistem_core::ports::store::ProgramFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::UpdateProgram;
use icosistem_core::workflow::program::ProgramCommand;

use super::kit::{NoId, PathId, answer, api, commands, filter_query, input, lists, reads, routes};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{
    ApiJson, CommandRequest, CreateProgramRequest, EnrollmentDto, PageDto, ProgramDto, UpdateProgramRequest,
};
use crate::error::ApiError;

filter_query! {
    /// `GET /api/v2/programs` filters.
    pub(crate) struct ProgramQuery {
        /// Run by this organization (its members also see its drafts).
        organization_id: OrganizationId,
        /// Status.
        status: ProgramStatus,
        /// `true`: only programs taking applications now.
        accepting: bool,
    } => (ProgramFilter, bool),
        (ProgramFilter { organization_id, status, ..Default::default() }, accepting.unwrap_or(false))
}

filter_query! {
    /// `GET /api/v2/programs/{id}/enrollments` filters.
    pub(crate) struct EnrollmentQuery {
        /// Status.
        status: EnrollmentStatus,
    } => Option<EnrollmentStatus>, status
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

routes! {
    tag = "programs";
    /// Creates a draft program of an organization (its staff and admins).
    create_program: post "/api/v2/programs", NoId, NoIfMatch, json<CreateProgramRequest>
        => etag(201, "Created (draft)", ProgramDto) [Forbidden, NotFound, BadBody],
        |eco, ctx, NoId, _, ApiJson(b)| eco.create_program(ctx, input(b)?);
    /// Edits a program (staff of its organization and admins).
    update_program: patch "/api/v2/programs/{id}", PathId<ProgramId>, IfMatch, json<UpdateProgramRequest>
        => etag(200, "The updated program", ProgramDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.update_program(ctx, id, UpdateProgram { version, ..input(b)? });
}

reads! {
    tag = "programs";
/// One program (404 when the caller may not see it, e.g. another organization's draft).
    get_program: "/api/v2/programs/{id}", ProgramId => ProgramDto, |eco, ctx, id| eco.get_program(ctx, id);
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
    Ok(answer::<_, ProgramDto>(&resource))
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

api!([
    list_programs,
    create_program,
    update_program,
    get_program,
    cancel_program,
    complete_program,
    list_program_enrollments,
    publish_program,
    start_program,
]);
