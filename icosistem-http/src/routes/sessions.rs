//! `/api/v2/mentorships/{id}/sessions` and `/api/v2/sessions`: booking sessions inside an active
//! mentorship, their lifecycle (confirm, start, complete, cancel, reschedule) and feedback.
//!
//! No-shows have no path: the core lets only the platform itself mark one (the no-show sweep
//! job), so an HTTP command could only ever answer 403.

use icosistem_core::model::{MentorshipId, Session, SessionId, SessionStatus};
use icosistem_core::ports::store::SessionFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::SessionAction;
use icosistem_core::{Context, Ecosystem};

use super::PageQuery;
use super::check_version;
use super::kit::{NoId, PathId, api, filter_query, input, lists, reads, routes, use_case_commands};
use crate::dto::{
    ApiJson, BookSessionRequest, CancelSessionRequest, CommandRequest, CompleteSessionRequest, FeedbackDto,
    FeedbackRequest, NewFeedback, PageDto, RescheduleSessionRequest, SessionDto,
};
use crate::error::ApiError;

filter_query! {
    /// `GET /api/v2/sessions` filters.
    pub(crate) struct SessionQuery => SessionFilter {
        /// Status.
        status: SessionStatus,
    }
}

lists! {
    tag = "sessions";
    /// The sessions of a mentorship, newest first (its parties and admins).
    list_mentorship_sessions: "/api/v2/mentorships/{id}/sessions", PathId<MentorshipId>, PageQuery => SessionDto, [NotFound],
        |eco, ctx, PathId(id), (), page| eco.list_sessions(ctx, id, page);
    /// The caller's sessions (as ally or entrepreneur; admins: all), newest first (`?status`).
    list_my_sessions: "/api/v2/sessions", NoId, SessionQuery => SessionDto, [],
        |eco, ctx, NoId, filter, page| eco.list_my_sessions(ctx, filter, page);
}

reads! {
    tag = "sessions";
    /// One session (its parties and admins; 404 for anyone else).
    get_session: "/api/v2/sessions/{id}", SessionId => SessionDto, |eco, ctx, id| eco.get_session(ctx, id);
}

/// A party's feedback. The core takes no version for it (each party rates once): `version` is
/// compared with the session as just read.
async fn feedback<S: Store, N: Notifier, C: Clock>(
    eco: &Ecosystem<S, N, C>,
    ctx: &Context,
    id: SessionId,
    (rating, comment): NewFeedback,
    version: Option<u64>,
) -> Result<Session, ApiError> {
    if version.is_some() {
        let current = eco.get_session(ctx, id).await?;
        check_version("session", version, current.meta.version)?;
    }
    Ok(eco.session_feedback(ctx, id, rating, comment).await?)
}

routes! {
    tag = "sessions";
    /// Books a session in an active mentorship (either party or an admin): at least 24 h ahead,
    /// inside the ally's availability, clear by 15 minutes of both parties' sessions and meetings.
    book_session: post "/api/v2/mentorships/{id}/sessions", PathId<MentorshipId>, NoIfMatch, json<BookSessionRequest>
        => etag(201, "Booked", SessionDto) [NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| eco.book_session(ctx, id, input(b)?);
    /// Either party moves a scheduled or confirmed session (same id and length); it must pass every
    /// booking rule again and goes back to `scheduled`.
    reschedule_session: post "/api/v2/sessions/{id}/reschedule", PathId<SessionId>, IfMatch, json<RescheduleSessionRequest>
        => etag(200, "The updated session", SessionDto) [NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.session_command(ctx, id, input(b)?, version);
    /// A party rates a completed session (1–5, once per party); the entrepreneur's rating counts in
    /// the ally's average.
    give_session_feedback: post "/api/v2/sessions/{id}/feedback", PathId<SessionId>, IfMatch, json<FeedbackRequest>
        => etag(200, "The session with the feedback", SessionDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| feedback(eco, ctx, id, input(b)?, version);
}

use_case_commands! {
    tag = "sessions", id = SessionId, answer = SessionDto, command = SessionAction, run = session_command;
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

api!(
    [
        list_mentorship_sessions,
        book_session,
        list_my_sessions,
        get_session,
        cancel_session,
        complete_session,
        confirm_session,
        give_session_feedback,
        reschedule_session,
        start_session,
    ],
    components(
        schemas(
            SessionDto,
            FeedbackDto,
            PageDto<SessionDto>,
            BookSessionRequest,
            CompleteSessionRequest,
            CancelSessionRequest,
            RescheduleSessionRequest,
            FeedbackRequest,
        ),
    ),
    tags((
        name = "sessions",
        description = "Mentoring sessions, their lifecycle and feedback"
    ))
);
