//! `/api/v2/mentorships` and `/api/v2/allies`: entrepreneurs asking allies for mentorship and
//! the relationship's lifecycle; the ally directory, suggestions for the calling entrepreneur,
//! an ally's free session starts and the calling ally's weekly availability.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing;
use axum::{Json, Router};
use icosistem_core::Error;
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::MentorshipStatus;
use icosistem_core::model::{MentorshipId, ProjectId, Role, UserId};
use icosistem_core::ports::store::MentorshipFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::rules::availability::WeeklySlot;
use icosistem_core::service::{AllyQuery, RequestMentorship};
use icosistem_core::workflow::mentorship::MentorshipCommand;
use serde::Deserialize;
use utoipa::IntoParams;

use super::created;
use super::kit::{
    Authenticated, BadBody, BadInput, Conflict, Forbidden, IfMatch, ListQuery, NoId, NotFound, commands, list_query,
    lists, parse_id, reads,
};
use super::{finish, optional_enum, optional_id, required, required_id, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::parse::{bounded_number, clock_time, optional_flag, required_instant};
use crate::dto::schema::one_of_or_empty;
use crate::dto::{
    AllyDto, AllySuggestionDto, ApiJson, ApiQuery, AvailabilityDto, CommandRequest, CreateMentorshipRequest,
    FreeSlotsDto, MentorshipDto, PageDto, SetAvailabilityRequest, SuggestionsDto, WeeklySlotDto, WeeklySlotRequest,
};
use crate::error::ApiError;

/// The slots of an availability body, every unparseable field named `slots[i].<field>`. Range
/// and overlap rules are the core's.
fn weekly_slots(errors: &mut ValidationErrors, slots: &[WeeklySlotRequest]) -> Vec<WeeklySlot> {
    let mut parsed = Vec::with_capacity(slots.len());
    for (i, slot) in slots.iter().enumerate() {
        let weekday = match slot.weekday {
            None => {
                errors.push(format!("slots[{i}].weekday"), "is required");
                None
            }
            // Out of u8 is out of 0–6 too: let the core say so with its message.
            Some(d) => Some(u8::try_from(d).unwrap_or(u8::MAX)),
        };
        let start = clock_time(errors, format!("slots[{i}].start"), slot.start.as_deref());
        let end = clock_time(errors, format!("slots[{i}].end"), slot.end.as_deref());
        if let (Some(weekday), Some(start), Some(end)) = (weekday, start, end) {
            parsed.push(WeeklySlot { weekday, start, end });
        }
    }
    parsed
}

// ---------------------------------------------------------------------------------------------
// Mentorships

list_query! {
    /// `GET /api/v2/mentorships` filters.
    pub(crate) struct MentorshipQuery {
        /// Status.
        #[param(schema_with = one_of_or_empty::<MentorshipStatus>)]
        status: Option<String>,
    }
}

fn mentorship_response(m: &icosistem_core::model::Mentorship) -> Response {
    versioned(m.meta.version, MentorshipDto::from(m))
}

impl ListQuery for MentorshipQuery {
    type Filter = MentorshipFilter;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        MentorshipFilter {
            status: optional_enum(errors, "status", self.status.as_deref()),
            ..Default::default()
        }
    }
}

impl ListQuery for AllyDirectoryQuery {
    type Filter = AllyQuery;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        AllyQuery {
            available: optional_flag(errors, "available", self.available.as_deref()),
            specialization: self.specialization,
        }
    }
}

lists! {
    tag = "mentorships";
    /// The caller's mentorships (as ally or entrepreneur; admins: all), newest first (`?status`).
    list_mentorships: "/api/v2/mentorships", NoId, MentorshipQuery => MentorshipDto, [],
        |eco, ctx, NoId, filter, page| eco.list_mentorships(ctx, filter, page);
}

/// The calling entrepreneur asks an ally for mentorship.
#[utoipa::path(post, path = "/api/v2/mentorships", operation_id = "create_mentorship", tag = "mentorships", security(("bearer" = [])),
    request_body = CreateMentorshipRequest,
    responses(
        (status = 201, description = "Requested", body = MentorshipDto), Authenticated, Forbidden, Conflict, BadBody))]
pub(crate) async fn create_mentorship<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateMentorshipRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let ally_id = required_id::<UserId>(&mut errors, "ally_id", body.ally_id.as_deref());
    let project_id = optional_id::<ProjectId>(&mut errors, "project_id", body.project_id.as_deref());
    let duration_months = bounded_number::<u8>(
        &mut errors,
        "duration_months",
        body.duration_months,
        "must be between 1 and 24",
    );
    finish(errors)?;
    let ally_id = ally_id.ok_or_else(ApiError::internal)?;
    let mentorship = state
        .eco
        .request_mentorship(
            &auth.ctx,
            RequestMentorship {
                ally_id,
                message: body.message,
                areas: body.areas,
                project_id,
                duration_months,
            },
        )
        .await?;
    Ok(created(mentorship.meta.version, MentorshipDto::from(&mentorship)))
}

reads! {
    tag = "mentorships";
/// One mentorship (its ally, its entrepreneur, admins; 404 for anyone else).
    get_mentorship: "/api/v2/mentorships/{id}", MentorshipId => MentorshipDto, |eco, ctx, id| eco.get_mentorship(ctx, id);
}

/// Runs a mentorship lifecycle command.
async fn mentorship_command<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    auth: &AuthUser,
    id: MentorshipId,
    version: Option<u64>,
    command: MentorshipCommand,
) -> Result<Response, ApiError> {
    let resource = state.eco.mentorship_command(&auth.ctx, id, command, version).await?;
    Ok(mentorship_response(&resource))
}

commands! {
    tag = "mentorships", id = MentorshipId, answer = MentorshipDto, run = mentorship_command;
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

list_query! {
    /// `GET /api/v2/allies` filters.
    pub(crate) struct AllyDirectoryQuery {
        /// A specialization or primary expertise (case-insensitive).
        specialization: Option<String>,
        /// `true`: allies open to new mentees; `false`: those who are not.
        #[param(value_type = Option<bool>)]
        available: Option<String>,
    }
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

lists! {
    tag = "allies";
    /// The ally directory, newest allies first (`?specialization&available=true`), for any
    /// signed-in user.
    list_allies: "/api/v2/allies", NoId, AllyDirectoryQuery => AllyDto, [],
        |eco, ctx, NoId, query, page| eco.list_allies(ctx, query, page);
}

/// Allies suggested to the calling entrepreneur, best first, with the score and its reasons:
/// at most 5, above 0.3, never one without capacity or already mentoring the caller.
#[utoipa::path(get, path = "/api/v2/allies/suggestions", operation_id = "suggest_allies", tag = "allies", security(("bearer" = [])),
    responses(
        (status = 200, description = "The suggestions", body = SuggestionsDto), Authenticated, Forbidden))]
pub(crate) async fn suggest_allies<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
) -> Result<Json<SuggestionsDto>, ApiError> {
    let found = state.eco.suggest_allies(&auth.ctx).await?;
    Ok(Json(SuggestionsDto {
        items: found.iter().map(AllySuggestionDto::from).collect(),
    }))
}

/// Bookable session starts of an ally in `[from, to)`, for any signed-in user: inside the ally's
/// weekly slots, 24 h ahead at least, clear of the ally's sessions and meetings by 15 minutes.
/// `me` names the caller.
#[utoipa::path(get, path = "/api/v2/allies/{id}/free-slots", operation_id = "list_ally_free_slots", tag = "allies", security(("bearer" = [])),
    params(("id" = String, Path, description = "The ally's user id, or `me`"), FreeSlotsQuery),
    responses(
        (status = 200, description = "The free starts", body = FreeSlotsDto), Authenticated, NotFound, BadInput))]
pub(crate) async fn list_ally_free_slots<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<FreeSlotsQuery>,
) -> Result<Json<FreeSlotsDto>, ApiError> {
    let ally_id: UserId = if id == "me" {
        auth.user.id
    } else {
        parse_id(&id, "user")?
    };
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
        Some(raw) => match raw.parse::<u16>() {
            Ok(m) => Some(m),
            Err(_) => {
                errors.push("duration_minutes", "must be a whole number of minutes");
                None
            }
        },
    };
    finish(errors)?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::internal());
    };
    let slots = state.eco.free_slots(&auth.ctx, ally_id, from, to, minutes).await?;
    Ok(Json(FreeSlotsDto {
        ally_id: ally_id.to_string(),
        from,
        to,
        slots,
    }))
}

/// The calling ally's weekly availability (version 0 and no slots until first saved).
#[utoipa::path(get, path = "/api/v2/allies/me/availability", operation_id = "get_my_availability", tag = "allies", security(("bearer" = [])),
    responses(
        (status = 200, description = "The schedule", body = AvailabilityDto), Authenticated, Forbidden))]
pub(crate) async fn get_my_availability<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
) -> Result<Response, ApiError> {
    let availability = match state.eco.get_availability(&auth.ctx, auth.user.id).await {
        Ok(a) => a,
        // "No such ally" about oneself means the caller is not an ally: not a missing resource
        // but a path that is not theirs.
        Err(Error::NotFound { .. }) if auth.user.role != Role::Ally => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "only allies have an availability",
            ));
        }
        Err(other) => return Err(other.into()),
    };
    Ok(versioned(
        availability.meta.version,
        AvailabilityDto::from(&availability),
    ))
}

/// Replaces the calling ally's weekly schedule. `If-Match` (or `version`) guards against lost
/// updates; the first save expects version 0 or none.
#[utoipa::path(put, path = "/api/v2/allies/me/availability", operation_id = "set_my_availability", tag = "allies", security(("bearer" = [])),
    request_body = SetAvailabilityRequest,
    params(IfMatch),
    responses(
        (status = 200, description = "The saved schedule", body = AvailabilityDto), Authenticated, Forbidden, Conflict, BadBody))]
pub(crate) async fn set_my_availability<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<SetAvailabilityRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let slots = required(&mut errors, "slots", body.slots.as_deref()).map(|s| weekly_slots(&mut errors, s));
    finish(errors)?;
    let timezone = body.timezone.unwrap_or_else(|| auth.user.timezone.as_str().to_owned());
    let saved = state
        .eco
        .set_my_availability(&auth.ctx, timezone, slots.unwrap_or_default(), version)
        .await?;
    Ok(versioned(saved.meta.version, AvailabilityDto::from(&saved)))
}

/// The mentorships and allies part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_allies, get_my_availability, set_my_availability, suggest_allies, list_ally_free_slots, list_mentorships, create_mentorship, get_mentorship, accept_mentorship, cancel_mentorship, complete_mentorship, decline_mentorship, pause_mentorship, resume_mentorship),
    components(schemas(
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
    )),
    tags(
        (name = "mentorships", description = "Mentorship requests and relationships"),
        (name = "allies", description = "The ally directory, suggest_allies, availability and free slots"),
    )
)]
pub(crate) struct Api;

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route("/api/v2/allies", routing::get(list_allies::<S, N, C>))
        .route(
            "/api/v2/allies/me/availability",
            routing::get(get_my_availability::<S, N, C>).put(set_my_availability::<S, N, C>),
        )
        .route("/api/v2/allies/suggestions", routing::get(suggest_allies::<S, N, C>))
        .route(
            "/api/v2/allies/{id}/free-slots",
            routing::get(list_ally_free_slots::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships",
            routing::get(list_mentorships::<S, N, C>).post(create_mentorship::<S, N, C>),
        )
        .route("/api/v2/mentorships/{id}", routing::get(get_mentorship::<S, N, C>))
        .route(
            "/api/v2/mentorships/{id}/accept",
            routing::post(accept_mentorship::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/cancel",
            routing::post(cancel_mentorship::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/complete",
            routing::post(complete_mentorship::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/decline",
            routing::post(decline_mentorship::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/pause",
            routing::post(pause_mentorship::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/resume",
            routing::post(resume_mentorship::<S, N, C>),
        )
}
