//! `/api/v2/mentorships/{id}/sessions` and `/api/v2/sessions`: booking sessions inside an active
//! mentorship, their lifecycle (confirm, start, complete, cancel, reschedule) and feedback.
//!
//! No-shows have no path: the core lets only the platform itself mark one (the no-show sweep
//! job), so an HTTP command could only ever answer 403.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing;
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::SessionStatus;
use icosistem_core::model::{MentorshipId, Session, SessionId};
use icosistem_core::ports::store::SessionFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{BookSession, SessionAction};

use super::kit::{
    Authenticated, BadBody, Conflict, Forbidden, IfMatch, ListQuery, NoId, NotFound, PathId, commands, list_query,
    lists, reads,
};
use super::{check_version, created};
use super::{finish, optional_enum, required, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::parse::{bounded_number, required_instant};
use crate::dto::schema::one_of_or_empty;
use crate::dto::{
    ApiJson, BookSessionRequest, CancelSessionRequest, CommandRequest, CompleteSessionRequest, FeedbackDto,
    FeedbackRequest, PageDto, RescheduleSessionRequest, SessionDto,
};
use crate::error::ApiError;

list_query! {
    /// `GET /api/v2/sessions` filters.
    pub(crate) struct SessionQuery {
        /// Status.
        #[param(schema_with = one_of_or_empty::<SessionStatus>)]
        status: Option<String>,
    }
}

list_query! {
    /// `GET /api/v2/mentorships/{id}/sessions` paging.
    pub(crate) struct MentorshipSessionQuery {
    }
}

fn session_response(session: &Session) -> Response {
    versioned(session.meta.version, SessionDto::from(session))
}

impl ListQuery for MentorshipSessionQuery {
    type Filter = ();

    fn filter(self, _errors: &mut ValidationErrors) -> Self::Filter {}
}

impl ListQuery for SessionQuery {
    type Filter = SessionFilter;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        SessionFilter {
            status: optional_enum(errors, "status", self.status.as_deref()),
            ..Default::default()
        }
    }
}

lists! {
    tag = "sessions";
    /// The sessions of a mentorship, newest first (its parties and admins).
    list_mentorship_sessions: "/api/v2/mentorships/{id}/sessions", PathId<MentorshipId>, MentorshipSessionQuery => SessionDto, [NotFound],
        |eco, ctx, PathId(id), (), page| eco.list_sessions(ctx, id, page);
}

/// Books a session in an active mentorship (either party or an admin): at least 24 h ahead,
/// inside the ally's availability, clear by 15 minutes of both parties' sessions and meetings.
#[utoipa::path(post, path = "/api/v2/mentorships/{id}/sessions", operation_id = "book_session", tag = "sessions", security(("bearer" = [])),
    request_body = BookSessionRequest,
    params(PathId<MentorshipId>),
    responses(
        (status = 201, description = "Booked", body = SessionDto), Authenticated, NotFound, Conflict, BadBody))]
pub(crate) async fn book_session<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<MentorshipId>,
    ApiJson(body): ApiJson<BookSessionRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let starts_at = required_instant(&mut errors, "starts_at", body.starts_at.as_deref());
    let duration_minutes = bounded_number::<u16>(
        &mut errors,
        "duration_minutes",
        body.duration_minutes,
        "must be between 15 and 240 minutes",
    );
    finish(errors)?;
    let starts_at = starts_at.ok_or_else(ApiError::internal)?;
    let session = state
        .eco
        .book_session(
            &auth.ctx,
            id,
            BookSession {
                starts_at,
                duration_minutes,
                agenda: body.agenda,
            },
        )
        .await?;
    Ok(created(session.meta.version, SessionDto::from(&session)))
}

lists! {
    tag = "sessions";
    /// The caller's sessions (as ally or entrepreneur; admins: all), newest first (`?status`).
    list_my_sessions: "/api/v2/sessions", NoId, SessionQuery => SessionDto, [],
        |eco, ctx, NoId, filter, page| eco.list_my_sessions(ctx, filter, page);
}

reads! {
    tag = "sessions";
/// One session (its parties and admins; 404 for anyone else).
    get_session: "/api/v2/sessions/{id}", SessionId => SessionDto, |eco, ctx, id| eco.get_session(ctx, id);
}

/// Runs a session action.
async fn session_command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: SessionId,
    version: Option<u64>,
    command: SessionAction,
) -> Result<Response, ApiError> {
    let resource = state.eco.session_command(&auth.ctx, id, command, version).await?;
    Ok(session_response(&resource))
}

commands! {
    tag = "sessions", id = SessionId, answer = SessionDto, run = session_command;
    /// The ally confirms a scheduled session.
    confirm_session: "/api/v2/sessions/{id}/confirm", CommandRequest, |body| SessionAction::Confirm;
    /// Either party starts a confirmed session, from 15 minutes before its start (422 on
    /// `starts_at` before).
    start_session: "/api/v2/sessions/{id}/start", CommandRequest, |body| SessionAction::Start;
    /// Either party completes a session in progress, with an optional summary.
    complete_session: "/api/v2/sessions/{id}/complete", CompleteSessionRequest,
        |body| SessionAction::Complete { summary: body.summary };
    /// Either party cancels a scheduled or confirmed session (late when less than 24 h before).
    cancel_session: "/api/v2/sessions/{id}/cancel", CancelSessionRequest,
        |body| SessionAction::Cancel { reason: body.reason };
}

/// Either party moves a scheduled or confirmed session (same id and length); it must pass every
/// booking rule again and goes back to `scheduled`.
#[utoipa::path(post, path = "/api/v2/sessions/{id}/reschedule", operation_id = "reschedule_session", tag = "sessions", security(("bearer" = [])),
    request_body = RescheduleSessionRequest,
    params(PathId<SessionId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated session", body = SessionDto), Authenticated, NotFound, Conflict, BadBody))]
pub(crate) async fn reschedule_session<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<SessionId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<RescheduleSessionRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let starts_at = required_instant(&mut errors, "starts_at", body.starts_at.as_deref());
    finish(errors)?;
    let starts_at = starts_at.ok_or_else(ApiError::internal)?;
    session_command(&state, &auth, id, version, SessionAction::Reschedule { starts_at }).await
}

/// A party rates a completed session (1–5, once per party); the entrepreneur's rating counts in
/// the ally's average.
#[utoipa::path(post, path = "/api/v2/sessions/{id}/feedback", operation_id = "give_session_feedback", tag = "sessions", security(("bearer" = [])),
    request_body = FeedbackRequest,
    params(PathId<SessionId>,
        IfMatch),
    responses(
        (status = 200, description = "The session with the feedback", body = SessionDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn give_session_feedback<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<SessionId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<FeedbackRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let rating = required(&mut errors, "rating", body.rating);
    finish(errors)?;
    let rating = rating.ok_or_else(ApiError::internal)?;
    if version.is_some() {
        let current = state.eco.get_session(&auth.ctx, id).await?;
        check_version("session", version, current.meta.version)?;
    }
    let session = state.eco.session_feedback(&auth.ctx, id, rating, body.comment).await?;
    Ok(session_response(&session))
}

/// The sessions part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_mentorship_sessions, book_session, list_my_sessions, get_session, cancel_session, complete_session, confirm_session, give_session_feedback, reschedule_session, start_session),
    components(schemas(
        SessionDto,
        FeedbackDto,
        PageDto<SessionDto>,
        BookSessionRequest,
        CompleteSessionRequest,
        CancelSessionRequest,
        RescheduleSessionRequest,
        FeedbackRequest,
    )),
    tags((name = "sessions", description = "Mentoring sessions, their lifecycle and feedback"))
)]
pub(crate) struct Api;

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route(
            "/api/v2/mentorships/{id}/sessions",
            routing::get(list_mentorship_sessions::<S, N, C>).post(book_session::<S, N, C>),
        )
        .route("/api/v2/sessions", routing::get(list_my_sessions::<S, N, C>))
        .route("/api/v2/sessions/{id}", routing::get(get_session::<S, N, C>))
        .route("/api/v2/sessions/{id}/cancel", routing::post(cancel_session::<S, N, C>))
        .route(
            "/api/v2/sessions/{id}/complete",
            routing::post(complete_session::<S, N, C>),
        )
        .route(
            "/api/v2/sessions/{id}/confirm",
            routing::post(confirm_session::<S, N, C>),
        )
        .route(
            "/api/v2/sessions/{id}/feedback",
            routing::post(give_session_feedback::<S, N, C>),
        )
        .route(
            "/api/v2/sessions/{id}/reschedule",
            routing::post(reschedule_session::<S, N, C>),
        )
        .route("/api/v2/sessions/{id}/start", routing::post(start_session::<S, N, C>))
}
