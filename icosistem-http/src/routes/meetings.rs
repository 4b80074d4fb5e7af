//! `/api/v2/meetings`: meetings anyone signed in may call, their participants and answers, and
//! their lifecycle (start, complete, cancel, reschedule).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{Meeting, MeetingId, MeetingStatus, ParticipantResponse, UserId};
use icosistem_core::ports::store::MeetingFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{MeetingAction, ScheduleMeeting};
use serde::Deserialize;
use utoipa::IntoParams;

use super::mentoring::{check_version, created, page, required_instant};
use super::{finish, optional_enum, path_id, required, required_enum, required_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{
    AddParticipantRequest, ApiJson, ApiQuery, CommandRequest, CreateMeetingRequest, MeetingDto, OptionalJson, PageDto,
    ParticipantDto, ParticipantsDto, RescheduleMeetingRequest, RespondRequest,
};
use crate::error::{ApiError, Problem};
use crate::routes::users::if_match;

/// `GET /api/v2/meetings` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct MeetingQuery {
    /// Rows per page, 1–100 (default 20).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Status.
    status: Option<String>,
}

fn meeting_response(meeting: &Meeting) -> Response {
    versioned(meeting.meta.version, MeetingDto::from(meeting))
}

/// The meetings the caller attends (organizer or participant; admins: all), newest first
/// (`?status`).
#[utoipa::path(get, path = "/api/v2/meetings", tag = "meetings", security(("bearer" = [])),
    params(MeetingQuery),
    responses(
        (status = 200, description = "A page of meetings", body = PageDto<MeetingDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<MeetingQuery>,
) -> Result<Json<PageDto<MeetingDto>>, ApiError> {
    let mut errors = ValidationErrors::new();
    let page = page(&mut errors, query.limit, query.cursor.as_deref());
    let status = optional_enum::<MeetingStatus>(&mut errors, "status", query.status.as_deref());
    finish(errors)?;
    let filter = MeetingFilter {
        status,
        ..Default::default()
    };
    let found = state
        .eco
        .list_my_meetings(&auth.ctx, filter, page.ok_or_else(ApiError::internal)?)
        .await?;
    Ok(Json(PageDto::from_page(found)))
}

/// Calls a meeting: the caller organizes it and every listed user is invited (`pending`).
#[utoipa::path(post, path = "/api/v2/meetings", tag = "meetings", security(("bearer" = [])),
    request_body = CreateMeetingRequest,
    responses(
        (status = 201, description = "Scheduled", body = MeetingDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field (`participant_ids[i]` for an unknown user)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateMeetingRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let title = required(&mut errors, "title", body.title.filter(|t| !t.trim().is_empty()));
    let starts_at = required_instant(&mut errors, "starts_at", body.starts_at.as_deref());
    let ends_at = required_instant(&mut errors, "ends_at", body.ends_at.as_deref());
    let mut participant_ids = Vec::with_capacity(body.participant_ids.len());
    for (i, raw) in body.participant_ids.iter().enumerate() {
        match raw.trim().parse::<uuid::Uuid>() {
            Ok(id) => participant_ids.push(UserId::from(id)),
            Err(_) => errors.push(format!("participant_ids[{i}]"), "must be a UUID"),
        }
    }
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

/// One meeting (its attendees and admins; 404 for anyone else).
#[utoipa::path(get, path = "/api/v2/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path, description = "Meeting id")),
    responses(
        (status = 200, description = "The meeting", body = MeetingDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: MeetingId = path_id(&id, "meeting")?;
    let meeting = state.eco.get_meeting(&auth.ctx, id).await?;
    Ok(meeting_response(&meeting))
}

/// The participants of a meeting (not the organizer), in invitation order.
#[utoipa::path(get, path = "/api/v2/meetings/{id}/participants", tag = "meetings", security(("bearer" = [])),
    params(("id" = String, Path, description = "Meeting id")),
    responses(
        (status = 200, description = "The participants", body = ParticipantsDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn participants<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<ParticipantsDto>, ApiError> {
    let id: MeetingId = path_id(&id, "meeting")?;
    let found = state.eco.list_participants(&auth.ctx, id).await?;
    Ok(Json(ParticipantsDto {
        items: found.iter().map(ParticipantDto::from).collect(),
    }))
}

/// The organizer invites one more user to a meeting that is not over.
#[utoipa::path(post, path = "/api/v2/meetings/{id}/participants", tag = "meetings", security(("bearer" = [])),
    request_body = AddParticipantRequest,
    params(("id" = String, Path, description = "Meeting id")),
    responses(
        (status = 201, description = "Invited", body = ParticipantDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the organizer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already invited, or the meeting is over", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`user_id` missing, unknown or the organizer", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn add_participant<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddParticipantRequest>,
) -> Result<Response, ApiError> {
    let id: MeetingId = path_id(&id, "meeting")?;
    let mut errors = ValidationErrors::new();
    let user_id = required_id::<UserId>(&mut errors, "user_id", body.user_id.as_deref());
    finish(errors)?;
    let user_id = user_id.ok_or_else(ApiError::internal)?;
    let participant = state.eco.add_participant(&auth.ctx, id, user_id).await?;
    Ok(created(participant.meta.version, ParticipantDto::from(&participant)))
}

/// The caller answers their invitation (`accepted`, `declined` or `tentative`); answers with
/// their updated invitation. `If-Match` is the version of that invitation.
#[utoipa::path(post, path = "/api/v2/meetings/{id}/respond", tag = "meetings", security(("bearer" = [])),
    request_body = RespondRequest,
    params(("id" = String, Path, description = "Meeting id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version of the caller's invitation")),
    responses(
        (status = 200, description = "The caller's invitation", body = ParticipantDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not invited (the organizer, an admin)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version, or the meeting is over", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`response` missing or not an answer", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn respond<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RespondRequest>,
) -> Result<Response, ApiError> {
    let id: MeetingId = path_id(&id, "meeting")?;
    let version = if_match(&headers)?.or(body.version);
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

async fn meeting_command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: &str,
    version: Option<u64>,
    action: MeetingAction,
) -> Result<Response, ApiError> {
    let id: MeetingId = path_id(id, "meeting")?;
    let meeting = state.eco.meeting_command(&auth.ctx, id, action, version).await?;
    Ok(meeting_response(&meeting))
}

macro_rules! meeting_command {
    ($name:ident, $action:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "meetings", security(("bearer" = [])),
            request_body(content = Option<CommandRequest>, description = "Optional: the version read"),
            params(("id" = String, Path, description = "Meeting id"),
                ("If-Match" = Option<String>, Header, description = "The quoted version read")),
            responses(
                (status = 200, description = "The updated meeting", body = MeetingDto),
                (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not the organizer", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json")))]
        pub(crate) async fn $name<S: Store, N: Notifier, C: Clock>(
            State(state): State<AppState<S, N, C>>,
            auth: AuthUser,
            Path(id): Path<String>,
            headers: HeaderMap,
            OptionalJson(body): OptionalJson<CommandRequest>,
        ) -> Result<Response, ApiError> {
            let version = if_match(&headers)?.or(body.version);
            meeting_command(&state, &auth, &id, version, $action).await
        }
    };
}

meeting_command!(
    start,
    MeetingAction::Start,
    "/api/v2/meetings/{id}/start",
    "The organizer starts a scheduled meeting."
);
meeting_command!(
    complete,
    MeetingAction::Complete,
    "/api/v2/meetings/{id}/complete",
    "The organizer ends a meeting in progress."
);
meeting_command!(
    cancel,
    MeetingAction::Cancel,
    "/api/v2/meetings/{id}/cancel",
    "The organizer calls a scheduled meeting off; every attendee is told."
);

/// The organizer moves a scheduled meeting (same id, same answers); every attendee is told.
#[utoipa::path(post, path = "/api/v2/meetings/{id}/reschedule", tag = "meetings", security(("bearer" = [])),
    request_body = RescheduleMeetingRequest,
    params(("id" = String, Path, description = "Meeting id"),
        ("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated meeting", body = MeetingDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the organizer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or invalid transition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`starts_at`/`ends_at` missing, invalid or breaking the time rules", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn reschedule<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RescheduleMeetingRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?.or(body.version);
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
        &id,
        version,
        MeetingAction::Reschedule { starts_at, ends_at },
    )
    .await
}

/// The meetings part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list,
        create,
        get,
        participants,
        add_participant,
        respond,
        start,
        complete,
        cancel,
        reschedule,
    ),
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
pub(crate) struct MeetingsApi;
