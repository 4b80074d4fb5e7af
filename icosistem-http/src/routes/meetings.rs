//! `/api/v2/meetings`: meetings anyone signed in may call, their participants and answers, and
//! their lifecycle (start, complete, cancel, reschedule).

use axum::extract::State;
use axum::response::Response;
use axum::routing;
use axum::{Json, Router};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::MeetingStatus;
use icosistem_core::model::{Meeting, MeetingId, ParticipantResponse, UserId};
use icosistem_core::ports::store::MeetingFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{MeetingAction, ScheduleMeeting};

use super::kit::{
    Authenticated, BadBody, Conflict, Forbidden, IfMatch, ListQuery, NoId, NotFound, PathId, commands, list_query,
    lists, reads,
};
use super::{check_version, created};
use super::{finish, optional_enum, required, required_enum, required_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::parse::{ids, required_instant};
use crate::dto::schema::one_of_or_empty;
use crate::dto::{
    AddParticipantRequest, ApiJson, CommandRequest, CreateMeetingRequest, MeetingDto, PageDto, ParticipantDto,
    ParticipantsDto, RescheduleMeetingRequest, RespondRequest,
};
use crate::error::ApiError;

list_query! {
    /// `GET /api/v2/meetings` filters.
    pub(crate) struct MeetingQuery {
        /// Status.
        #[param(schema_with = one_of_or_empty::<MeetingStatus>)]
        status: Option<String>,
    }
}

fn meeting_response(meeting: &Meeting) -> Response {
    versioned(meeting.meta.version, MeetingDto::from(meeting))
}

impl ListQuery for MeetingQuery {
    type Filter = MeetingFilter;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        MeetingFilter {
            status: optional_enum(errors, "status", self.status.as_deref()),
            ..Default::default()
        }
    }
}

lists! {
    tag = "meetings";
    /// The meetings the caller attends (organizer or participant; admins: all), newest first
    /// (`?status`).
    list_meetings: "/api/v2/meetings", NoId, MeetingQuery => MeetingDto, [],
        |eco, ctx, NoId, filter, page| eco.list_my_meetings(ctx, filter, page);
}

/// Calls a meeting: the caller organizes it and every listed user is invited (`pending`).
#[utoipa::path(post, path = "/api/v2/meetings", operation_id = "create_meeting", tag = "meetings", security(("bearer" = [])),
    request_body = CreateMeetingRequest,
    responses(
        (status = 201, description = "Scheduled", body = MeetingDto), Authenticated, BadBody))]
pub(crate) async fn create_meeting<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateMeetingRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let title = required(&mut errors, "title", body.title.filter(|t| !t.trim().is_empty()));
    let starts_at = required_instant(&mut errors, "starts_at", body.starts_at.as_deref());
    let ends_at = required_instant(&mut errors, "ends_at", body.ends_at.as_deref());
    let participant_ids = ids::<UserId>(&mut errors, "participant_ids", &body.participant_ids);
    finish(errors)?;
    let (Some(title), Some(starts_at), Some(ends_at)) = (title, starts_at, ends_at) else {
        return Err(ApiError::internal());
    };
    let (meeting, _) = state
        .eco
        .schedule_meeting(
            &auth.ctx,
            ScheduleMeeting {
                title,
                description: body.description,
                location: body.location,
                starts_at,
                ends_at,
                participant_ids,
            },
        )
        .await?;
    Ok(created(meeting.meta.version, MeetingDto::from(&meeting)))
}

reads! {
    tag = "meetings";
/// One meeting (its attendees and admins; 404 for anyone else).
    get_meeting: "/api/v2/meetings/{id}", MeetingId => MeetingDto, |eco, ctx, id| eco.get_meeting(ctx, id);
}

/// The participants of a meeting (not the organizer), in invitation order.
#[utoipa::path(get, path = "/api/v2/meetings/{id}/participants", operation_id = "list_meeting_participants", tag = "meetings", security(("bearer" = [])),
    params(PathId<MeetingId>),
    responses(
        (status = 200, description = "The participants", body = ParticipantsDto), Authenticated, NotFound))]
pub(crate) async fn list_meeting_participants<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<MeetingId>,
) -> Result<Json<ParticipantsDto>, ApiError> {
    let found = state.eco.list_participants(&auth.ctx, id).await?;
    Ok(Json(ParticipantsDto {
        items: found.iter().map(ParticipantDto::from).collect(),
    }))
}

/// The organizer invites one more user to a meeting that is not over.
#[utoipa::path(post, path = "/api/v2/meetings/{id}/participants", operation_id = "add_meeting_participant", tag = "meetings", security(("bearer" = [])),
    request_body = AddParticipantRequest,
    params(PathId<MeetingId>),
    responses(
        (status = 201, description = "Invited", body = ParticipantDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn add_meeting_participant<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<MeetingId>,
    ApiJson(body): ApiJson<AddParticipantRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let user_id = required_id::<UserId>(&mut errors, "user_id", body.user_id.as_deref());
    finish(errors)?;
    let user_id = user_id.ok_or_else(ApiError::internal)?;
    let participant = state.eco.add_participant(&auth.ctx, id, user_id).await?;
    Ok(created(participant.meta.version, ParticipantDto::from(&participant)))
}

/// The caller answers their invitation (`accepted`, `declined` or `tentative`); answers with
/// their updated invitation. `If-Match` is the version of that invitation.
#[utoipa::path(post, path = "/api/v2/meetings/{id}/respond", operation_id = "respond_to_meeting", tag = "meetings", security(("bearer" = [])),
    request_body = RespondRequest,
    params(PathId<MeetingId>, IfMatch),
    responses(
        (status = 200, description = "The caller's invitation", body = ParticipantDto), Authenticated, NotFound, Conflict, Forbidden, BadBody))]
pub(crate) async fn respond_to_meeting<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<MeetingId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<RespondRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let response = required_enum::<ParticipantResponse>(&mut errors, "response", body.response.as_deref());
    finish(errors)?;
    let response = response.ok_or_else(ApiError::internal)?;
    if version.is_some() {
        let invitations = state.eco.list_participants(&auth.ctx, id).await?;
        // Not invited: no version to compare; the command itself answers 403.
        if let Some(mine) = invitations.iter().find(|p| p.user_id == auth.user.id) {
            check_version("meeting_participant", version, mine.meta.version)?;
        }
    }
    let participant = state.eco.respond_to_meeting(&auth.ctx, id, response).await?;
    Ok(versioned(participant.meta.version, ParticipantDto::from(&participant)))
}

/// Runs a meeting action.
async fn meeting_command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: MeetingId,
    version: Option<u64>,
    command: MeetingAction,
) -> Result<Response, ApiError> {
    let resource = state.eco.meeting_command(&auth.ctx, id, command, version).await?;
    Ok(meeting_response(&resource))
}

commands! {
    tag = "meetings", id = MeetingId, answer = MeetingDto, run = meeting_command;
    /// The organizer starts a scheduled meeting.
    start_meeting: "/api/v2/meetings/{id}/start", CommandRequest, |body| MeetingAction::Start;
    /// The organizer ends a meeting in progress.
    complete_meeting: "/api/v2/meetings/{id}/complete", CommandRequest, |body| MeetingAction::Complete;
    /// The organizer calls a scheduled meeting off; every attendee is told.
    cancel_meeting: "/api/v2/meetings/{id}/cancel", CommandRequest, |body| MeetingAction::Cancel;
}

/// The organizer moves a scheduled meeting (same id, same answers); every attendee is told.
#[utoipa::path(post, path = "/api/v2/meetings/{id}/reschedule", operation_id = "reschedule_meeting", tag = "meetings", security(("bearer" = [])),
    request_body = RescheduleMeetingRequest,
    params(PathId<MeetingId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated meeting", body = MeetingDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn reschedule_meeting<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<MeetingId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<RescheduleMeetingRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let starts_at = required_instant(&mut errors, "starts_at", body.starts_at.as_deref());
    let ends_at = required_instant(&mut errors, "ends_at", body.ends_at.as_deref());
    finish(errors)?;
    let (Some(starts_at), Some(ends_at)) = (starts_at, ends_at) else {
        return Err(ApiError::internal());
    };
    meeting_command(
        &state,
        &auth,
        id,
        version,
        MeetingAction::Reschedule { starts_at, ends_at },
    )
    .await
}

/// The meetings part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_meetings, create_meeting, get_meeting, cancel_meeting, complete_meeting, list_meeting_participants, add_meeting_participant, reschedule_meeting, respond_to_meeting, start_meeting),
    components(schemas(
        MeetingDto,
        PageDto<MeetingDto>,
        ParticipantDto,
        ParticipantsDto,
        CreateMeetingRequest,
        AddParticipantRequest,
        RespondRequest,
        RescheduleMeetingRequest,
    )),
    tags((name = "meetings", description = "Meetings, participants and answers"))
)]
pub(crate) struct Api;

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route(
            "/api/v2/meetings",
            routing::get(list_meetings::<S, N, C>).post(create_meeting::<S, N, C>),
        )
        .route("/api/v2/meetings/{id}", routing::get(get_meeting::<S, N, C>))
        .route("/api/v2/meetings/{id}/cancel", routing::post(cancel_meeting::<S, N, C>))
        .route(
            "/api/v2/meetings/{id}/complete",
            routing::post(complete_meeting::<S, N, C>),
        )
        .route(
            "/api/v2/meetings/{id}/participants",
            routing::get(list_meeting_participants::<S, N, C>).post(add_meeting_participant::<S, N, C>),
        )
        .route(
            "/api/v2/meetings/{id}/reschedule",
            routing::post(reschedule_meeting::<S, N, C>),
        )
        .route(
            "/api/v2/meetings/{id}/respond",
            routing::post(respond_to_meeting::<S, N, C>),
        )
        .route("/api/v2/meetings/{id}/start", routing::post(start_meeting::<S, N, C>))
}
