//! `/api/v2/mentorships` and `/api/v2/allies`: entrepreneurs asking allies for mentorship and
//! the relationship's lifecycle; the ally directory, suggestions for the calling entrepreneur,
//! an ally's free session starts and the calling ally's weekly availability.

use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{Availability, MentorshipId, MentorshipStatus, Role, UserId};
use icosistem_core::ports::store::MentorshipFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::AllyQuery;
use icosistem_core::workflow::mentorship::MentorshipCommand;
use icosistem_core::{Context, Ecosystem, Error};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};

use super::kit::{NoBody, NoId, api, filter_query, input, lists, parse_id, reads, routes, use_case_commands};
use crate::dto::parse::required_instant;
use crate::dto::{
    AllyDto, AllySuggestionDto, ApiJson, ApiQuery, AvailabilityDto, CommandRequest, CreateMentorshipRequest,
    FreeSlotsDto, MentorshipDto, NewSchedule, PageDto, SetAvailabilityRequest, SuggestionsDto, WeeklySlotDto,
    WeeklySlotRequest,
};
use crate::error::ApiError;

/// The signed-in caller's id (`me` of a path).
fn caller(ctx: &Context) -> Result<UserId, ApiError> {
    ctx.actor
        .user_id()
        .ok_or_else(|| ApiError::unauthorized("`me` names the signed-in caller"))
}

// ---------------------------------------------------------------------------------------------
// Mentorships

filter_query! {
    /// `GET /api/v2/mentorships` filters.
    pub(crate) struct MentorshipQuery => MentorshipFilter {
        /// Status.
        status: MentorshipStatus,
    }
}

lists! {
    tag = "mentorships";
    /// The caller's mentorships (as ally or entrepreneur; admins: all), newest first (`?status`).
    list_mentorships: "/api/v2/mentorships", NoId, MentorshipQuery => MentorshipDto, [],
        |eco, ctx, NoId, filter, page| eco.list_mentorships(ctx, filter, page);
}

routes! {
    tag = "mentorships";
    /// The calling entrepreneur asks an ally for mentorship.
    create_mentorship: post "/api/v2/mentorships", NoId, NoIfMatch, json<CreateMentorshipRequest>
        => etag(201, "Requested", MentorshipDto) [Forbidden, Conflict, BadBody],
        |eco, ctx, NoId, _, ApiJson(b)| eco.request_mentorship(ctx, input(b)?);
}

reads! {
    tag = "mentorships";
    /// One mentorship (its ally, its entrepreneur, admins; 404 for anyone else).
    get_mentorship: "/api/v2/mentorships/{id}", MentorshipId => MentorshipDto, |eco, ctx, id| eco.get_mentorship(ctx, id);
}

use_case_commands! {
    tag = "mentorships", id = MentorshipId, answer = MentorshipDto, command = MentorshipCommand, run = mentorship_command;
    /// The ally accepts a request; the ally must be available and below capacity (409
    /// `ally_at_capacity`).
    accept_mentorship: "/api/v2/mentorships/{id}/accept", CommandRequest, |body| MentorshipCommand::Accept;
    /// The ally declines a request.
    decline_mentorship: "/api/v2/mentorships/{id}/decline", CommandRequest, |body| MentorshipCommand::Decline;
    /// The ally puts an active mentorship on hold.
    pause_mentorship: "/api/v2/mentorships/{id}/pause", CommandRequest, |body| MentorshipCommand::Pause;
    /// The ally resumes a paused mentorship; it takes a seat again (409 `ally_at_capacity`).
    resume_mentorship: "/api/v2/mentorships/{id}/resume", CommandRequest, |body| MentorshipCommand::Resume;
    /// The ally completes a mentorship; its upcoming sessions are cancelled.
    complete_mentorship: "/api/v2/mentorships/{id}/complete", CommandRequest, |body| MentorshipCommand::Complete;
    /// Either party calls a mentorship (or a request) off; its upcoming sessions are cancelled.
    cancel_mentorship: "/api/v2/mentorships/{id}/cancel", CommandRequest, |body| MentorshipCommand::Cancel;
}

// ---------------------------------------------------------------------------------------------
// Allies

filter_query! {
    /// `GET /api/v2/allies` filters.
    pub(crate) struct AllyDirectoryQuery {
        /// A specialization or primary expertise (case-insensitive).
        specialization: String,
        /// `true`: allies open to new mentees; `false`: those who are not.
        available: bool,
    } => AllyQuery, AllyQuery { specialization, available }
}

lists! {
    tag = "allies";
    /// The ally directory, newest allies first (`?specialization&available=true`), for any
    /// signed-in user.
    list_allies: "/api/v2/allies", NoId, AllyDirectoryQuery => AllyDto, [],
        |eco, ctx, NoId, query, page| eco.list_allies(ctx, query, page);
}

/// `GET /api/v2/allies/{id}/free-slots` window.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct FreeSlotsQuery {
    /// Window start (RFC 3339), required.
    #[param(required = true, value_type = String, format = DateTime)]
    from: Option<String>,
    /// Window end (RFC 3339), after `from`, at most 31 days later, required.
    #[param(required = true, value_type = String, format = DateTime)]
    to: Option<String>,
    /// Session length in minutes, 15–240 (default: the ally's preferred length).
    duration_minutes: Option<String>,
}

/// What `GET /api/v2/allies/{id}/free-slots` asks: the ally (`None` for `me`, the caller; 404
/// for anything but a UUID) and the window of its query (422 naming every failing parameter).
pub(crate) struct FreeSlotsAsked {
    ally: Option<UserId>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    minutes: Option<u16>,
}

impl<S: Send + Sync> FromRequestParts<S> for FreeSlotsAsked {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::internal())?;
        let ally = if id == "me" { None } else { Some(parse_id(&id, "user")?) };
        let ApiQuery(query) = ApiQuery::<FreeSlotsQuery>::from_request_parts(parts, state).await?;
        let mut errors = ValidationErrors::new();
        let from = required_instant(&mut errors, "from", query.from.as_deref());
        let to = required_instant(&mut errors, "to", query.to.as_deref());
        let minutes = match query
            .duration_minutes
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(raw) => raw
                .parse::<u16>()
                .map_err(|_| errors.push("duration_minutes", "must be a whole number of minutes"))
                .ok(),
        };
        match (from, to) {
            (Some(from), Some(to)) if errors.is_empty() => Ok(Self {
                ally,
                from,
                to,
                minutes,
            }),
            _ => Err(ApiError::from(Error::Validation(errors))),
        }
    }
}

impl IntoParams for FreeSlotsAsked {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let ally = ParameterBuilder::new()
            .name("id")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some("The ally's user id, or `me`"))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build();
        let mut params = vec![ally];
        params.extend(FreeSlotsQuery::into_params(|| Some(ParameterIn::Query)));
        params
    }
}

/// The free session starts of the ally asked for, in its window.
async fn free_slots<S: Store, N: Notifier, C: Clock>(
    eco: &Ecosystem<S, N, C>,
    ctx: &Context,
    asked: FreeSlotsAsked,
) -> Result<FreeSlotsDto, ApiError> {
    let ally = match asked.ally {
        Some(ally) => ally,
        None => caller(ctx)?,
    };
    let slots = eco.free_slots(ctx, ally, asked.from, asked.to, asked.minutes).await?;
    Ok(FreeSlotsDto {
        ally_id: ally.to_string(),
        from: asked.from,
        to: asked.to,
        slots,
    })
}

/// The caller's weekly availability. "No such ally" about oneself means the caller is not an
/// ally: not a missing resource but a path that is not theirs (403).
async fn my_availability<S: Store, N: Notifier, C: Clock>(
    eco: &Ecosystem<S, N, C>,
    ctx: &Context,
) -> Result<Availability, ApiError> {
    match eco.get_availability(ctx, caller(ctx)?).await {
        Err(Error::NotFound { .. }) if ctx.actor.role() != Some(Role::Ally) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only allies have an availability",
        )),
        found => Ok(found?),
    }
}

/// Saves the caller's weekly schedule, in their account's time zone unless the body names one.
async fn save_availability<S: Store, N: Notifier, C: Clock>(
    eco: &Ecosystem<S, N, C>,
    ctx: &Context,
    (timezone, slots): NewSchedule,
    version: Option<u64>,
) -> Result<Availability, ApiError> {
    let timezone = match timezone {
        Some(timezone) => timezone,
        None => eco.get_user(ctx, caller(ctx)?).await?.timezone.as_str().to_owned(),
    };
    Ok(eco.set_my_availability(ctx, timezone, slots, version).await?)
}

routes! {
    tag = "allies";
    /// Allies suggested to the calling entrepreneur, best first, with the score and its reasons:
    /// at most 5, above 0.3, never one without capacity or already mentoring the caller.
    suggest_allies: get "/api/v2/allies/suggestions", NoId, NoIfMatch, none
        => json(200, "The suggestions", SuggestionsDto) [Forbidden],
        |eco, ctx, NoId, _, NoBody| eco.suggest_allies(ctx);
    /// Bookable session starts of an ally in `[from, to)`, for any signed-in user: inside the ally's
    /// weekly slots, 24 h ahead at least, clear of the ally's sessions and meetings by 15 minutes.
    /// `me` names the caller.
    list_ally_free_slots: get "/api/v2/allies/{id}/free-slots", FreeSlotsAsked, NoIfMatch, none
        => as_is(200, "The free starts", FreeSlotsDto) [NotFound, BadInput],
        |eco, ctx, asked, _, NoBody| free_slots(eco, ctx, asked);
    /// The calling ally's weekly availability (version 0 and no slots until first saved).
    get_my_availability: get "/api/v2/allies/me/availability", NoId, NoIfMatch, none
        => etag(200, "The schedule", AvailabilityDto) [Forbidden],
        |eco, ctx, NoId, _, NoBody| my_availability(eco, ctx);
    /// Replaces the calling ally's weekly schedule. `If-Match` (or `version`) guards against lost
    /// updates; the first save expects version 0 or none.
    set_my_availability: put "/api/v2/allies/me/availability", NoId, IfMatch, json<SetAvailabilityRequest>
        => etag(200, "The saved schedule", AvailabilityDto) [Forbidden, Conflict, BadBody],
        |eco, ctx, NoId, version, ApiJson(b)| save_availability(eco, ctx, input(b)?, version);
}

api!(
    [
        list_allies,
        get_my_availability,
        set_my_availability,
        suggest_allies,
        list_ally_free_slots,
        list_mentorships,
        create_mentorship,
        get_mentorship,
        accept_mentorship,
        cancel_mentorship,
        complete_mentorship,
        decline_mentorship,
        pause_mentorship,
        resume_mentorship,
    ],
    components(
        schemas(
            MentorshipDto,
            CreateMentorshipRequest,
            PageDto<MentorshipDto>,
            AllyDto,
            PageDto<AllyDto>,
            AllySuggestionDto,
            SuggestionsDto,
            FreeSlotsDto,
            AvailabilityDto,
            WeeklySlotDto,
            SetAvailabilityRequest,
            WeeklySlotRequest,
        ),
    ),
    tags(
        (
            name = "mentorships",
            description = "Mentorship requests and relationships"
        ),
        (
            name = "allies",
            description = "The ally directory, suggest_allies, availability and free slots"
        ),
    )
);
