//! `/api/v2/meetings`: meetings anyone signed in may call, their participants and answers, and
//! their lifecycle (start, complete, cancel, reschedule).

use icosistem_core::model::{MeetingId, MeetingParticipant, MeetingStatus, ParticipantResponse};
use icosistem_core::ports::store::MeetingFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::MeetingAction;
use icosistem_core::{Context, Ecosystem};

use super::check_version;
use super::kit::{NoBody, NoId, PathId, api, filter_query, input, lists, reads, routes, use_case_commands};
use crate::dto::{
    AddParticipantRequest, ApiJson, CommandRequest, CreateMeetingRequest, MeetingDto, PageDto, ParticipantDto,
    ParticipantsDto, RescheduleMeetingRequest, RespondRequest,
};
use crate::error::ApiError;

filter_query! {
    /// `GET /api/v2/meetings` filters.
    pub(crate) struct MeetingQuery => MeetingFilter {
        /// Status.
        status: MeetingStatus,
    }
}

lists! {
    tag = "meetings";
    /// The meetings the caller attends (organizer or participant; admins: all), newest first
    /// (`?status`).
    list_meetings: "/api/v2/meetings", NoId, MeetingQuery => MeetingDto, [],
        |eco, ctx, NoId, filter, page| eco.list_my_meetings(ctx, filter, page);
}

reads! {
    tag = "meetings";
    /// One meeting (its attendees and admins; 404 for anyone else).
    get_meeting: "/api/v2/meetings/{id}", MeetingId => MeetingDto, |eco, ctx, id| eco.get_meeting(ctx, id);
}

/// The caller answers their invitation. The core takes no version for it: `version` is compared
/// with the caller's invitation as just read (not invited: nothing to compare; the command
/// itself answers 403).
async fn respond<S: Store, N: Notifier, C: Clock>(
    eco: &Ecosystem<S, N, C>,
    ctx: &Context,
    id: MeetingId,
    response: ParticipantResponse,
    version: Option<u64>,
) -> Result<MeetingParticipant, ApiError> {
    if version.is_some() {
        let invitations = eco.list_participants(ctx, id).await?;
        if let Some(mine) = invitations.iter().find(|p| Some(p.user_id) == ctx.actor.user_id()) {
            check_version("meeting_participant", version, mine.meta.version)?;
        }
    }
    Ok(eco.respond_to_meeting(ctx, id, response).await?)
}

routes! {
    tag = "meetings";
    /// Calls a meeting: the caller organizes it and every listed user is invited (`pending`).
    create_meeting: post "/api/v2/meetings", NoId, NoIfMatch, json<CreateMeetingRequest>
        => etag(201, "Scheduled", MeetingDto) [BadBody],
        |eco, ctx, NoId, _, ApiJson(b)| {
            let meeting = input(b)?;
            async move { eco.schedule_meeting(ctx, meeting).await.map(|(meeting, _)| meeting) }
        };
    /// The participants of a meeting (not the organizer), in invitation order.
    list_meeting_participants: get "/api/v2/meetings/{id}/participants", PathId<MeetingId>, NoIfMatch, none
        => json(200, "The participants", ParticipantsDto) [NotFound],
        |eco, ctx, PathId(id), _, NoBody| eco.list_participants(ctx, id);
    /// The organizer invites one more user to a meeting that is not over.
    add_meeting_participant: post "/api/v2/meetings/{id}/participants", PathId<MeetingId>, NoIfMatch, json<AddParticipantRequest>
        => etag(201, "Invited", ParticipantDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| eco.add_participant(ctx, id, input(b)?);
    /// The caller answers their invitation (`accepted`, `declined` or `tentative`); answers with
    /// their updated invitation. `If-Match` is the version of that invitation.
    respond_to_meeting: post "/api/v2/meetings/{id}/respond", PathId<MeetingId>, IfMatch, json<RespondRequest>
        => etag(200, "The caller's invitation", ParticipantDto) [NotFound, Conflict, Forbidden, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| respond(eco, ctx, id, input(b)?, version);
    /// The organizer moves a scheduled meeting (same id, same answers); every attendee is told.
    reschedule_meeting: post "/api/v2/meetings/{id}/reschedule", PathId<MeetingId>, IfMatch, json<RescheduleMeetingRequest>
        => etag(200, "The updated meeting", MeetingDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.meeting_command(ctx, id, input(b)?, version);
}

use_case_commands! {
    tag = "meetings", id = MeetingId, answer = MeetingDto, command = MeetingAction, run = meeting_command;
    /// The organizer starts a scheduled meeting.
    start_meeting: "/api/v2/meetings/{id}/start", CommandRequest, |body| MeetingAction::Start;
    /// The organizer ends a meeting in progress.
    complete_meeting: "/api/v2/meetings/{id}/complete", CommandRequest, |body| MeetingAction::Complete;
    /// The organizer calls a scheduled meeting off; every attendee is told.
    cancel_meeting: "/api/v2/meetings/{id}/cancel", CommandRequest, |body| MeetingAction::Cancel;
}

api!(
    [
        list_meetings,
        create_meeting,
        get_meeting,
        cancel_meeting,
        complete_meeting,
        list_meeting_participants,
        add_meeting_participant,
        reschedule_meeting,
        respond_to_meeting,
        start_meeting,
    ],
    components(
        schemas(
            MeetingDto,
            PageDto<MeetingDto>,
            ParticipantDto,
            ParticipantsDto,
            CreateMeetingRequest,
            AddParticipantRequest,
            RespondRequest,
            RescheduleMeetingRequest,
        ),
    ),
    tags((name = "meetings", description = "Meetings, participants and answers"))
);
