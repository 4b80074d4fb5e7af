//! Mentorships, allies, availability and matching (DOMAIN.md §4.5, §4.7).
//!
//! The one cross-row invariant here is the ally's mentee load: active mentorships ≤
//! `max_mentees`, and none accepted while the ally is unavailable. Accepting and resuming are the
//! only commands that make a mentorship active, and both lock the ally's profile row (the guard
//! row of the load, also locked by `update_my_profile` when the ally changes `max_mentees` or
//! `available`) *before* counting the ally's active mentorships, in the unit of work that writes
//! the new status. Two accepts for the same ally therefore run one after the other: the second
//! counts the first's mentee or waits for it to roll back, so the load holds under any
//! interleaving, on every store, without retries. The other commands only free seats and lock the
//! mentorship alone.
//!
//! The one-open-relationship-per-pair rule needs no lock: it is the store's unique key
//! `ally_entrepreneur`, held by requested/active/paused rows only.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;
use uuid::Uuid;

use super::{Context, Ecosystem, Notice, Uow, check_version};
use crate::error::{Error, Forbidden, Result, ValidationErrors};
use crate::model::value::{AtField, TimeZoneName, bounded_text, optional_text};
use crate::model::{
    Actor, AllyProfile, Availability, AvailabilityId, EntrepreneurProfile, Mentorship, MentorshipId, MentorshipStatus,
    Meta, Profile, ProfileData, Project, ProjectId, ProjectStage, Role, SessionStatus, User, UserId, UserStatus,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{
    AvailabilityFilter, MeetingFilter, MentorshipFilter, Page, PageRequest, ProfileFilter, ProjectFilter, Repo,
    SessionFilter, Store, Transaction,
};
use crate::ports::{Clock, Notifier};
use crate::rules::availability::{self, Busy, SlotRules, WeeklySlot};
use crate::rules::common::validate_range;
use crate::rules::matching::match_score;
use crate::workflow::mentorship::{self as wf, AllyLoad, MentorshipCommand};

/// Areas a mentorship request may name at most.
const MAX_AREAS: usize = 20;
/// Longest area name, in chars.
const MAX_AREA_CHARS: usize = 100;
/// Longest request message, in chars.
const MAX_MESSAGE_CHARS: usize = 2000;

/// Input of [`Ecosystem::request_mentorship`].
#[derive(Debug, Clone)]
pub struct RequestMentorship {
    /// The ally asked (a user with role ally and an ally profile).
    pub ally_id: UserId,
    /// A note to the ally (trimmed, ≤ 2000 chars; blank means none).
    pub message: Option<String>,
    /// Areas the entrepreneur wants help with: ≤ 20, each trimmed 1–100 chars; repeats (compared
    /// case-insensitively) are dropped, the first spelling kept.
    pub areas: Vec<String>,
    /// The entrepreneur's own project it is about, if any.
    pub project_id: Option<ProjectId>,
    /// Planned length in months, 1–24 (default `Limits::mentorship_default_months`).
    pub duration_months: Option<u8>,
}

/// Query of the ally directory ([`Ecosystem::list_allies`]).
#[derive(Debug, Clone, Default)]
pub struct AllyQuery {
    /// Allies with this specialization or primary expertise (trimmed, case-insensitive; blank
    /// means any).
    pub specialization: Option<String>,
    /// Allies whose "open to new mentees" flag is this (capacity is not part of it: see
    /// [`AllyCard::has_capacity`]).
    pub available: Option<bool>,
}

/// An ally as the directory shows them to any signed-in user: public mentoring facts, no contact
/// details.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AllyCard {
    /// The ally's user id.
    pub id: UserId,
    /// Full name.
    pub name: String,
    /// Main area of expertise.
    pub primary_expertise: Option<String>,
    /// Specializations.
    pub specializations: Vec<String>,
    /// Project stages the ally prefers.
    pub preferred_stages: Vec<ProjectStage>,
    /// The ally's "open to new mentees" flag.
    pub available: bool,
    /// Mentee capacity.
    pub max_mentees: u8,
    /// Active mentorships now (paused ones hold no seat).
    pub active_mentees: u32,
    /// Whether a request accepted now would fit: available and below capacity.
    pub has_capacity: bool,
    /// Average session rating × 100 (450 = 4.5), once rated.
    pub average_rating_centi: Option<u32>,
    /// Session ratings received.
    pub ratings_count: u32,
}

/// An ally suggested to an entrepreneur, with the match score and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AllySuggestion {
    /// The ally.
    pub ally: AllyCard,
    /// Match score 0–1 (DOMAIN.md §4.7), rounded to 3 decimals.
    pub score: f64,
    /// One sentence per part of the score that counted.
    pub reasons: Vec<String>,
}

/// Whether a user can take part in mentoring as `role`: still of that role, and an account that
/// is neither suspended nor deactivated (one that has not verified its email yet still can).
/// Shared with whole-cohort matching, which applies it to entrepreneurs too.
pub(super) fn takes_part_as(user: &User, role: Role) -> bool {
    user.role == role && !matches!(user.status, UserStatus::Suspended | UserStatus::Inactive)
}

/// Whether a user can be offered and take mentees ([`takes_part_as`] an ally).
fn is_mentoring_ally(user: &User) -> bool {
    takes_part_as(user, Role::Ally)
}

fn ally_data(profile: Option<Profile>) -> Option<AllyProfile> {
    match profile?.data {
        ProfileData::Ally(ally) => Some(ally),
        _ => None,
    }
}

/// The same "has room" as the accept guard of the workflow, so a card never promises a seat an
/// accept would refuse.
fn has_capacity(ally: &AllyProfile, active_mentees: u32) -> bool {
    ally.available && active_mentees < u32::from(ally.max_mentees)
}

/// The load the accept/resume guard checks. An ally without an ally profile (the role changed
/// since the request) has no seat to give.
fn ally_load(ally: Option<&AllyProfile>, active_mentees: u32) -> AllyLoad {
    match ally {
        Some(a) => AllyLoad {
            available: a.available,
            active_mentees,
            max_mentees: u32::from(a.max_mentees),
        },
        None => AllyLoad {
            available: false,
            active_mentees,
            max_mentees: 0,
        },
    }
}

/// Only accept and resume read the load; the other commands pass this.
const LOAD_NOT_READ: AllyLoad = AllyLoad {
    available: true,
    active_mentees: 0,
    max_mentees: u32::MAX,
};

fn ally_card(user: &User, ally: &AllyProfile, active_mentees: u32) -> AllyCard {
    AllyCard {
        id: user.id,
        name: user.full_name(),
        primary_expertise: ally.primary_expertise.clone(),
        specializations: ally.specializations.clone(),
        preferred_stages: ally.preferred_stages.clone(),
        available: ally.available,
        max_mentees: ally.max_mentees,
        active_mentees,
        has_capacity: has_capacity(ally, active_mentees),
        average_rating_centi: ally.average_rating_centi(),
        ratings_count: ally.ratings_count,
    }
}

/// Trims and checks the requested areas (every failure reported), dropping repeats.
fn clean_areas(errors: &mut ValidationErrors, areas: &[String]) -> Vec<String> {
    if areas.len() > MAX_AREAS {
        errors.push("areas", format!("at most {MAX_AREAS} areas"));
    }
    let mut seen = BTreeSet::new();
    let mut kept = Vec::with_capacity(areas.len());
    for (i, area) in areas.iter().enumerate() {
        if let Some(area) = errors.check(bounded_text(format!("areas[{i}]"), area, 1, MAX_AREA_CHARS))
            && seen.insert(area.to_lowercase())
        {
            kept.push(area);
        }
    }
    kept
}

/// Admins and the platform see every mentorship; everyone else only their own.
fn sees_all(actor: &Actor) -> bool {
    actor.is_admin() || matches!(actor, Actor::System)
}

fn is_party(actor: &Actor, m: &Mentorship) -> bool {
    actor
        .user_id()
        .is_some_and(|me| me == m.ally_id || me == m.entrepreneur_id)
}

/// Who may run `command` on `m`: the ally or an admin for every command; the entrepreneur only to
/// cancel. Not a party (and not an admin) is `NotFound`, so ids do not leak; a party without
/// the right is `Forbidden`.
fn check_command_rights(actor: &Actor, m: &Mentorship, command: MentorshipCommand) -> Result<()> {
    if !is_party(actor, m) && !sees_all(actor) {
        return Err(Error::not_found("mentorship", m.id));
    }
    let me = actor.user_id();
    if command == MentorshipCommand::Cancel && me == Some(m.entrepreneur_id) {
        // Calling off one's own request or mentorship is the other half of asking for it.
        authorize(actor, Action::RequestMentorship, &Facts::owned(true))?;
    } else {
        authorize(actor, Action::ManageMentorship, &Facts::owned(me == Some(m.ally_id)))?;
        // DOMAIN §4.5 gives `requested → cancelled` to the entrepreneur alone: an ally answers a
        // request by accepting or declining it, so the entrepreneur learns it was declined.
        if command == MentorshipCommand::Cancel && m.status == MentorshipStatus::Requested && me == Some(m.ally_id) {
            return Err(Error::Forbidden(Forbidden {
                action: "mentorship.cancel",
                resource: "mentorship",
            }));
        }
    }
    Ok(())
}

/// Who hears about a command: the other party, or both when neither acted (an admin, the
/// platform).
fn counterparts(actor: &Actor, m: &Mentorship) -> Vec<UserId> {
    match actor.user_id() {
        Some(me) if me == m.ally_id => vec![m.entrepreneur_id],
        Some(me) if me == m.entrepreneur_id => vec![m.ally_id],
        _ => vec![m.entrepreneur_id, m.ally_id],
    }
}

/// Best first: higher score, then more ratings (a track record), then the smaller id so the
/// order is total and stable. Only scores strictly above `min_score`, at most `limit`.
fn rank_suggestions(mut candidates: Vec<AllySuggestion>, min_score: f64, limit: usize) -> Vec<AllySuggestion> {
    candidates.retain(|s| s.score > min_score);
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.ally.ratings_count.cmp(&a.ally.ratings_count))
            .then(a.ally.id.cmp(&b.ally.id))
    });
    candidates.truncate(limit);
    candidates
}

/// How many of the given session starts fall on each local day in `tz`.
fn sessions_per_day(tz: Tz, starts: impl IntoIterator<Item = DateTime<Utc>>) -> BTreeMap<NaiveDate, u32> {
    let mut per_day = BTreeMap::new();
    for start in starts {
        *per_day.entry(start.with_timezone(&tz).date_naive()).or_default() += 1;
    }
    per_day
}

/// A span for messages: "31 days", "12 hours", "90 minutes".
fn describe(span: Duration) -> String {
    let minutes = span.num_minutes();
    if minutes % (24 * 60) == 0 {
        format!("{} days", minutes / (24 * 60))
    } else if minutes % 60 == 0 {
        format!("{} hours", minutes / 60)
    } else {
        format!("{minutes} minutes")
    }
}

/// Active mentorships of `ally` now. Inside accept/resume it is read under the ally's profile
/// lock, which is what makes it exact.
async fn active_mentees<T: Transaction>(uow: &mut Uow<T>, ally: UserId) -> Result<u32> {
    let n = uow
        .count(&MentorshipFilter {
            ally_id: Some(ally),
            status: Some(MentorshipStatus::Active),
            ..Default::default()
        })
        .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The ally with this id and their ally profile (if any); `NotFound { entity: "user" }` when no
/// live user with role ally has this id.
async fn find_ally<T: Transaction>(uow: &mut Uow<T>, id: UserId) -> Result<(User, Option<AllyProfile>)> {
    let user: Option<User> = uow.get(id).await?;
    let user = user
        .filter(|u| u.role == Role::Ally)
        .ok_or_else(|| Error::not_found("user", id))?;
    let profile = ally_data(Repo::<Profile>::get(&mut uow.tx, id).await?);
    Ok((user, profile))
}

async fn name_of<T: Transaction>(uow: &mut Uow<T>, id: UserId) -> Result<String> {
    let user: Option<User> = uow.get(id).await?;
    Ok(user.map_or_else(|| "a former user".to_owned(), |u| u.full_name()))
}

fn command_notice(m: &Mentorship, command: MentorshipCommand, ally: &str, entrepreneur: &str) -> Notice {
    let (kind, title, body) = match m.status {
        MentorshipStatus::Active if command == MentorshipCommand::Accept => (
            "mentorship_accepted",
            format!("{ally} accepted the mentorship"),
            format!("The mentorship of {entrepreneur} by {ally} is now active."),
        ),
        MentorshipStatus::Declined => (
            "mentorship_declined",
            format!("{ally} declined the mentorship request"),
            format!("The mentorship request of {entrepreneur} to {ally} was declined."),
        ),
        status => (
            "mentorship_status",
            format!("Mentorship {status}"),
            format!("The mentorship of {entrepreneur} by {ally} is now {status}."),
        ),
    };
    Notice::new(
        kind,
        title,
        body,
        json!({ "mentorship_id": m.id, "status": m.status, "command": command }),
    )
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// The calling entrepreneur asks an ally for mentorship; the ally is notified
    /// (`mentorship_requested`) and the request audited (`mentorship.request`).
    ///
    /// Availability and capacity are not checked here but when the ally accepts: a request to a
    /// busy ally waits until a seat frees.
    ///
    /// # Errors
    /// - `Forbidden` unless the caller is an entrepreneur;
    /// - `Validation`, every failing field at once: `ally_id` (no live user with role ally whose
    ///   account is neither suspended nor inactive, or no ally profile), `project_id` (not a
    ///   live project of the caller), `message` (> 2000 chars), `areas` (> 20) and `areas[i]`
    ///   (blank or > 100 chars), `duration_months` (outside 1–24);
    /// - `Conflict { entity: "mentorship", field: "ally_entrepreneur" }` when the pair already
    ///   has a requested, active or paused mentorship.
    pub async fn request_mentorship(&self, ctx: &Context, input: RequestMentorship) -> Result<Mentorship> {
        authorize(&ctx.actor, Action::RequestMentorship, &Facts::none())?;
        let me = ctx.user_id("mentorship.request")?;
        let mut errors = ValidationErrors::new();
        let message = errors
            .check(optional_text("message", input.message.as_deref(), MAX_MESSAGE_CHARS))
            .flatten();
        let areas = clean_areas(&mut errors, &input.areas);
        let duration_months = input.duration_months.unwrap_or(self.limits.mentorship_default_months);
        errors.check(validate_range("duration_months", duration_months, 1, 24));
        let mut uow = self.uow(ctx).await?;
        let ally: Option<User> = uow.get(input.ally_id).await?;
        match ally.filter(is_mentoring_ally) {
            None => errors.push("ally_id", "no such ally"),
            Some(_) => {
                if ally_data(Repo::<Profile>::get(&mut uow.tx, input.ally_id).await?).is_none() {
                    errors.push("ally_id", "the ally has no ally profile");
                }
            }
        }
        if let Some(project_id) = input.project_id {
            let project: Option<Project> = uow.get(project_id).await?;
            // Someone else's project is answered like a missing one: ids do not leak.
            if project.is_none_or(|p| p.owner_id != me) {
                errors.push("project_id", "no such project of yours");
            }
        }
        errors.into_result()?;
        let mentorship = Mentorship {
            id: uow.new_id(),
            ally_id: input.ally_id,
            entrepreneur_id: me,
            project_id: input.project_id,
            status: MentorshipStatus::Requested,
            message,
            areas,
            duration_months,
            started_at: None,
            ended_at: None,
            meta: uow.meta(),
        };
        // The unique key `ally_entrepreneur` refuses a second open relationship, also when two
        // requests race.
        uow.insert(&mentorship).await?;
        uow.audit(
            "mentorship.request",
            "mentorship",
            mentorship.id,
            None,
            None,
            Some(json!({
                "status": mentorship.status,
                "ally_id": mentorship.ally_id,
                "entrepreneur_id": mentorship.entrepreneur_id,
            })),
        )
        .await?;
        let entrepreneur = name_of(&mut uow, me).await?;
        uow.notify_id(
            mentorship.ally_id,
            Notice::new(
                "mentorship_requested",
                format!("{entrepreneur} asks for your mentorship"),
                format!(
                    "{entrepreneur} asked you to mentor them for {} months.",
                    mentorship.duration_months
                ),
                json!({ "mentorship_id": mentorship.id, "entrepreneur_id": me }),
            ),
        )
        .await?;
        uow.commit().await?;
        Ok(mentorship)
    }

    /// Runs a command on a mentorship: `accept`, `decline`, `pause`, `resume`, `complete` (the
    /// ally or an admin) or `cancel` (the entrepreneur or an admin from requested, active or
    /// paused; the ally from active or paused — a request is declined, not cancelled). Accepting sets `started_at`; a terminal status sets `ended_at`. The
    /// other party is notified (`mentorship_accepted`, `mentorship_declined`, else
    /// `mentorship_status`; both parties when an admin acts) and the change audited as
    /// `mentorship.<command>` with the status before and after.
    ///
    /// `accept` and `resume` take a seat: they lock the ally's profile row first and count the
    /// ally's active mentorships under that lock, so concurrent accepts never exceed
    /// `max_mentees` (with 3 seats, 20 concurrent accepts make exactly 3 active).
    ///
    /// # Errors
    /// - `NotFound` when there is no such mentorship or the caller is neither one of its parties
    ///   nor an admin;
    /// - `Forbidden` when a party lacks the right (the entrepreneur for anything but `cancel`);
    /// - `Conflict { entity: "mentorship", field: "version" }` when `version` is stale;
    /// - `InvalidTransition` when the command does not apply to the current status;
    /// - `AllyAtCapacity` when accepting while the ally is unavailable or full, or resuming while
    ///   the ally is full.
    pub async fn mentorship_command(
        &self,
        ctx: &Context,
        id: MentorshipId,
        command: MentorshipCommand,
        version: Option<u64>,
    ) -> Result<Mentorship> {
        let mut uow = self.uow(ctx).await?;
        let peek: Mentorship = uow.load(id).await?;
        check_command_rights(&ctx.actor, &peek, command)?;
        let load = if matches!(command, MentorshipCommand::Accept | MentorshipCommand::Resume) {
            // The guard row first, always before the mentorship row, so two seat-taking commands
            // of one ally queue on it instead of deadlocking on each other's mentorships.
            let ally = ally_data(Repo::<Profile>::get_for_update(&mut uow.tx, peek.ally_id).await?);
            let active = active_mentees(&mut uow, peek.ally_id).await?;
            ally_load(ally.as_ref(), active)
        } else {
            LOAD_NOT_READ
        };
        let mut mentorship: Mentorship = uow.load_for_update(id).await?;
        check_version(&mentorship, version)?;
        let from = mentorship.status;
        let to = wf::transition(from, command, &load)?;
        mentorship.status = to;
        if command == MentorshipCommand::Accept {
            mentorship.started_at = Some(uow.now);
        }
        if to.is_terminal() {
            mentorship.ended_at = Some(uow.now);
        }
        let mentorship = uow.update(mentorship).await?;
        uow.audit_transition(
            &format!("mentorship.{}", command.as_str()),
            "mentorship",
            mentorship.id,
            None,
            from.as_str(),
            to.as_str(),
        )
        .await?;
        if to.is_terminal() {
            // Sessions live inside their mentorship (DOMAIN.md §4.6): the ones still ahead are
            // called off with it, in the same unit of work.
            let open = uow
                .all(&SessionFilter {
                    mentorship_id: Some(mentorship.id),
                    status_in: vec![SessionStatus::Scheduled, SessionStatus::Confirmed],
                    ..Default::default()
                })
                .await?;
            for mut session in open {
                let before = session.status;
                session.status = SessionStatus::Cancelled;
                session.cancel_reason = Some(format!("the mentorship was {to}"));
                let session = uow.update(session).await?;
                uow.audit_transition(
                    "session.cancel",
                    "session",
                    session.id,
                    None,
                    before.as_str(),
                    "cancelled",
                )
                .await?;
            }
        }
        let ally = name_of(&mut uow, mentorship.ally_id).await?;
        let entrepreneur = name_of(&mut uow, mentorship.entrepreneur_id).await?;
        let notice = command_notice(&mentorship, command, &ally, &entrepreneur);
        for user in counterparts(&ctx.actor, &mentorship) {
            uow.notify_id(user, notice.clone()).await?;
        }
        uow.commit().await?;
        Ok(mentorship)
    }

    /// A mentorship, for its ally, its entrepreneur and admins.
    ///
    /// # Errors
    /// `NotFound` when there is no such mentorship or the caller is not allowed to see it.
    pub async fn get_mentorship(&self, ctx: &Context, id: MentorshipId) -> Result<Mentorship> {
        let mut uow = self.uow(ctx).await?;
        let mentorship: Mentorship = uow.load(id).await?;
        if !is_party(&ctx.actor, &mentorship) && !sees_all(&ctx.actor) {
            return Err(Error::not_found("mentorship", id));
        }
        Ok(mentorship)
    }

    /// Lists mentorships, newest first. Admins see every mentorship matching `filter`; anyone
    /// else only those where they are the ally or the entrepreneur (`participant_id` is forced to
    /// the caller, so asking for someone else's yields an empty page).
    ///
    /// # Errors
    /// `Forbidden` for a caller who is not signed in.
    pub async fn list_mentorships(
        &self,
        ctx: &Context,
        mut filter: MentorshipFilter,
        page: PageRequest,
    ) -> Result<Page<Mentorship>> {
        if !ctx.actor.is_admin() {
            filter.participant_id = Some(ctx.user_id("mentorship.list")?);
        }
        let mut uow = self.uow(ctx).await?;
        uow.list(&filter, page).await
    }

    /// The ally directory, newest allies first, for any signed-in user: one card per ally
    /// profile matching `query`. Allies whose account is deleted, suspended or deactivated are
    /// left out, so a page may hold fewer than `limit` cards; `next_cursor` still pages through
    /// every ally.
    ///
    /// # Errors
    /// `Forbidden` for a caller who is not signed in.
    pub async fn list_allies(&self, ctx: &Context, query: AllyQuery, page: PageRequest) -> Result<Page<AllyCard>> {
        ctx.user_id("ally.list")?;
        let filter = ProfileFilter {
            role: Some(Role::Ally),
            specialization: query
                .specialization
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            available: query.available,
        };
        let mut uow = self.uow(ctx).await?;
        let profiles = uow.list(&filter, page).await?;
        let mut cards = Vec::with_capacity(profiles.items.len());
        for profile in profiles.items {
            let ProfileData::Ally(ally) = &profile.data else {
                continue;
            };
            let user: Option<User> = uow.get(profile.user_id).await?;
            let Some(user) = user.filter(is_mentoring_ally) else {
                continue;
            };
            let active = active_mentees(&mut uow, user.id).await?;
            cards.push(ally_card(&user, ally, active));
        }
        Ok(Page {
            items: cards,
            next_cursor: profiles.next_cursor,
        })
    }

    /// Allies suggested to the calling entrepreneur, best first (DOMAIN.md §4.7): scored with
    /// [`match_score`] against the caller's entrepreneur profile (an empty one if they have
    /// none) and the stages of their open (draft/active/paused) projects. Never an ally who is
    /// unavailable, at capacity, not an active account, or already in a requested/active/paused
    /// mentorship with the caller. Only scores above `Limits::suggestion_min_score`, at most
    /// `Limits::suggestions_limit`; ties go to more ratings, then the smaller id.
    ///
    /// # Errors
    /// `Forbidden` unless the caller is an entrepreneur.
    pub async fn suggest_allies(&self, ctx: &Context) -> Result<Vec<AllySuggestion>> {
        authorize(&ctx.actor, Action::RequestMentorship, &Facts::none())?;
        let me = ctx.user_id("mentorship.suggest")?;
        let mut uow = self.uow(ctx).await?;
        let entrepreneur = match Repo::<Profile>::get(&mut uow.tx, me).await? {
            Some(Profile {
                data: ProfileData::Entrepreneur(profile),
                ..
            }) => profile,
            _ => EntrepreneurProfile::default(),
        };
        let stages: Vec<ProjectStage> = uow
            .all(&ProjectFilter {
                owner_id: Some(me),
                open_only: true,
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|p| p.stage)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let taken: BTreeSet<UserId> = uow
            .all(&MentorshipFilter {
                entrepreneur_id: Some(me),
                open_only: true,
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|m| m.ally_id)
            .collect();
        let allies = uow
            .all(&ProfileFilter {
                role: Some(Role::Ally),
                available: Some(true),
                ..Default::default()
            })
            .await?;
        let mut candidates = Vec::new();
        for profile in allies {
            let ProfileData::Ally(ally) = &profile.data else {
                continue;
            };
            if taken.contains(&profile.user_id) {
                continue;
            }
            let user: Option<User> = uow.get(profile.user_id).await?;
            let Some(user) = user.filter(is_mentoring_ally) else {
                continue;
            };
            let active = active_mentees(&mut uow, user.id).await?;
            let card = ally_card(&user, ally, active);
            if !card.has_capacity {
                continue;
            }
            let matched = match_score(&entrepreneur, &stages, ally, true);
            candidates.push(AllySuggestion {
                ally: card,
                score: matched.score,
                reasons: matched.reasons,
            });
        }
        Ok(rank_suggestions(
            candidates,
            self.limits.suggestion_min_score,
            self.limits.suggestions_limit,
        ))
    }

    /// An ally's weekly availability, for any signed-in user. An ally who never set one gets an
    /// empty schedule in UTC that is not stored: nil id and version 0.
    ///
    /// # Errors
    /// - `Forbidden` for a caller who is not signed in;
    /// - `NotFound { entity: "user" }` when no live user with role ally has this id.
    pub async fn get_availability(&self, ctx: &Context, ally_id: UserId) -> Result<Availability> {
        ctx.user_id("availability.view")?;
        let mut uow = self.uow(ctx).await?;
        find_ally(&mut uow, ally_id).await?;
        let stored = uow.first(&AvailabilityFilter { ally_id: Some(ally_id) }).await?;
        Ok(stored.unwrap_or_else(|| Availability {
            id: AvailabilityId::from_uuid(Uuid::nil()),
            ally_id,
            timezone: TimeZoneName::utc(),
            slots: Vec::new(),
            meta: Meta {
                version: 0,
                ..Meta::new(uow.now, None)
            },
        }))
    }

    /// The calling ally replaces their weekly schedule: slots in `timezone`, stored sorted by
    /// weekday and start. The first call stores it (send no version or 0, the version of the
    /// empty schedule), later calls update it. Audited as `availability.update`.
    ///
    /// Takes the ally's calendar lock (their user row, the lock session bookings take), so a
    /// booking checked against the old schedule cannot interleave with the change, and two
    /// first-time saves queue instead of colliding.
    ///
    /// # Errors
    /// - `Forbidden` unless the caller is an ally;
    /// - `Validation`, every failing field at once: `timezone` (not an IANA zone), `slots` (more
    ///   than `Limits::max_availability_slots`), `slots[i].weekday`, `slots[i].end`, `slots[i]`
    ///   (overlap within a day);
    /// - `Conflict { entity: "availability", field: "version" }` when `version` is stale.
    pub async fn set_my_availability(
        &self,
        ctx: &Context,
        timezone: String,
        mut slots: Vec<WeeklySlot>,
        version: Option<u64>,
    ) -> Result<Availability> {
        let me = ctx.user_id("availability.update")?;
        if ctx.actor.role() != Some(Role::Ally) {
            return Err(Error::Forbidden(Forbidden {
                action: "availability.update",
                resource: "availability",
            }));
        }
        let mut errors = ValidationErrors::new();
        let timezone = errors.check(TimeZoneName::parse(&timezone).at("timezone"));
        errors.extend(availability::check_slots(&slots, self.limits.max_availability_slots));
        errors.into_result()?;
        let timezone = timezone.expect("validated");
        slots.sort_by_key(|s| (s.weekday, s.start, s.end));
        let mut uow = self.uow(ctx).await?;
        uow.lock_calendars(&[me]).await?;
        let existing = uow.first(&AvailabilityFilter { ally_id: Some(me) }).await?;
        let (before, saved) = match existing {
            Some(mut current) => {
                check_version(&current, version)?;
                let before = json!({ "timezone": current.timezone, "slots": current.slots.len() });
                current.timezone = timezone;
                current.slots = slots;
                (Some(before), uow.update(current).await?)
            }
            None => {
                // Nothing stored reads as version 0; expecting anything newer is stale.
                if version.is_some_and(|v| v != 0) {
                    return Err(Error::Conflict {
                        entity: AvailabilityId::KIND,
                        field: "version",
                    });
                }
                let created = Availability {
                    id: uow.new_id(),
                    ally_id: me,
                    timezone,
                    slots,
                    meta: uow.meta(),
                };
                uow.insert(&created).await?;
                (None, created)
            }
        };
        uow.audit(
            "availability.update",
            "availability",
            saved.id,
            None,
            before,
            Some(json!({ "timezone": saved.timezone, "slots": saved.slots.len() })),
        )
        .await?;
        uow.commit().await?;
        Ok(saved)
    }

    /// Bookable session starts of an ally in `[from, to)`, sorted, for any signed-in user: every
    /// `Limits::slot_step` inside the ally's weekly slots (read in the ally's time zone) where a
    /// session of `duration_minutes` (default: the ally's preferred session length) fits the
    /// slot and `to`, starts at or after now + `Limits::booking_notice`, and keeps
    /// `Limits::booking_buffer` away from every non-cancelled session of the ally and every
    /// non-cancelled meeting they attend. Local days (ally's time zone) on which the ally already
    /// holds `Limits::max_sessions_per_day` sessions offer nothing. The ally's `available` flag
    /// is not consulted: it is about new mentees, not sessions of current ones. An ally without a
    /// schedule has no free slots.
    ///
    /// # Errors
    /// - `Forbidden` for a caller who is not signed in;
    /// - `Validation`: `from` (not before `to`), `to` (more than `Limits::free_slots_max_range`
    ///   after `from`), `duration_minutes` (outside `session_min_minutes..=session_max_minutes`);
    /// - `NotFound { entity: "user" }` when no live user with role ally has this id.
    pub async fn free_slots(
        &self,
        ctx: &Context,
        ally_id: UserId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        duration_minutes: Option<u16>,
    ) -> Result<Vec<DateTime<Utc>>> {
        ctx.user_id("availability.free_slots")?;
        let limits = &self.limits;
        let mut errors = ValidationErrors::new();
        if from >= to {
            errors.push("from", "must be before to");
        } else if to - from > limits.free_slots_max_range {
            errors.push(
                "to",
                format!("must be at most {} after from", describe(limits.free_slots_max_range)),
            );
        }
        if let Some(minutes) = duration_minutes {
            errors.check(validate_range(
                "duration_minutes",
                minutes,
                limits.session_min_minutes,
                limits.session_max_minutes,
            ));
        }
        errors.into_result()?;
        let mut uow = self.uow(ctx).await?;
        let (_, profile) = find_ally(&mut uow, ally_id).await?;
        let Some(schedule) = uow.first(&AvailabilityFilter { ally_id: Some(ally_id) }).await? else {
            return Ok(Vec::new());
        };
        let tz = schedule.timezone.tz();
        let minutes = duration_minutes
            .or(profile.map(|p| p.session_duration_minutes))
            .unwrap_or(limits.session_default_minutes);
        // A day of margin covers the whole local day of any start in range, whatever the offset,
        // for the per-day count; the buffer is inside it.
        let margin = Duration::days(1) + limits.booking_buffer;
        let sessions = uow
            .all(&SessionFilter {
                participant_id: Some(ally_id),
                occupying_only: true,
                overlapping_from: Some(from - margin),
                overlapping_to: Some(to + margin),
                ..Default::default()
            })
            .await?;
        let meetings = uow
            .all(&MeetingFilter {
                attendee_id: Some(ally_id),
                occupying_only: true,
                overlapping_from: Some(from - margin),
                overlapping_to: Some(to + margin),
                ..Default::default()
            })
            .await?;
        let busy: Vec<Busy> = sessions
            .iter()
            .map(|s| Busy {
                start: s.starts_at,
                end: s.ends_at,
            })
            .chain(meetings.iter().map(|m| Busy {
                start: m.starts_at,
                end: m.ends_at,
            }))
            .collect();
        let per_day = sessions_per_day(
            tz,
            sessions.iter().filter(|s| s.ally_id == ally_id).map(|s| s.starts_at),
        );
        let rules = SlotRules {
            duration: Duration::minutes(i64::from(minutes)),
            step: limits.slot_step,
            buffer: limits.booking_buffer,
            earliest: uow.now + limits.booking_notice,
        };
        let mut starts = availability::free_slots(&schedule.slots, tz, from, to, &busy, &rules);
        starts.retain(|s| {
            let day = s.with_timezone(&tz).date_naive();
            per_day.get(&day).copied().unwrap_or(0) < limits.max_sessions_per_day
        });
        Ok(starts)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn user() -> UserId {
        UserId::from_uuid(Uuid::now_v7())
    }

    fn mentorship(ally: UserId, entrepreneur: UserId) -> Mentorship {
        Mentorship {
            id: MentorshipId::from_uuid(Uuid::now_v7()),
            ally_id: ally,
            entrepreneur_id: entrepreneur,
            project_id: None,
            status: MentorshipStatus::Requested,
            message: None,
            areas: Vec::new(),
            duration_months: 6,
            started_at: None,
            ended_at: None,
            meta: Meta::new(chrono::DateTime::UNIX_EPOCH, None),
        }
    }

    fn card(id: u128, ratings_count: u32) -> AllyCard {
        AllyCard {
            id: UserId::from_uuid(Uuid::from_u128(id)),
            name: "Ana Ally".into(),
            primary_expertise: None,
            specializations: Vec::new(),
            preferred_stages: Vec::new(),
            available: true,
            max_mentees: 3,
            active_mentees: 0,
            has_capacity: true,
            average_rating_centi: None,
            ratings_count,
        }
    }

    #[test]
    fn command_rights_hide_strangers_and_keep_the_entrepreneur_to_cancel() {
        let (ally, entrepreneur, stranger, admin) = (user(), user(), user(), user());
        let m = mentorship(ally, entrepreneur);
        let as_ally = Actor::User {
            id: ally,
            role: Role::Ally,
        };
        let as_entrepreneur = Actor::User {
            id: entrepreneur,
            role: Role::Entrepreneur,
        };
        let as_stranger = Actor::User {
            id: stranger,
            role: Role::Ally,
        };
        let as_admin = Actor::User {
            id: admin,
            role: Role::Admin,
        };
        for command in MentorshipCommand::ALL.iter().copied() {
            // `m` is a request: the ally answers it by declining, never by cancelling (§4.5).
            assert_eq!(
                check_command_rights(&as_ally, &m, command).is_ok(),
                command != MentorshipCommand::Cancel,
                "ally {command}"
            );
            assert!(check_command_rights(&as_admin, &m, command).is_ok(), "admin {command}");
            assert!(
                matches!(
                    check_command_rights(&as_stranger, &m, command),
                    Err(Error::NotFound {
                        entity: "mentorship",
                        ..
                    })
                ),
                "stranger {command}"
            );
            let by_entrepreneur = check_command_rights(&as_entrepreneur, &m, command);
            if command == MentorshipCommand::Cancel {
                assert!(by_entrepreneur.is_ok());
            } else {
                assert!(
                    matches!(by_entrepreneur, Err(Error::Forbidden(_))),
                    "entrepreneur {command}"
                );
            }
        }
        assert!(matches!(
            check_command_rights(&Actor::Anonymous, &m, MentorshipCommand::Cancel),
            Err(Error::NotFound { .. })
        ));
        let mut active = m.clone();
        active.status = MentorshipStatus::Active;
        assert!(check_command_rights(&as_ally, &active, MentorshipCommand::Cancel).is_ok());
        assert_eq!(counterparts(&as_ally, &m), vec![entrepreneur]);
        assert_eq!(counterparts(&as_entrepreneur, &m), vec![ally]);
        assert_eq!(counterparts(&as_admin, &m), vec![entrepreneur, ally]);
    }

    #[test]
    fn suggestions_are_above_the_threshold_best_first_with_stable_ties() {
        let s = |id, ratings, score| AllySuggestion {
            ally: card(id, ratings),
            score,
            reasons: Vec::new(),
        };
        let ranked = rank_suggestions(
            vec![
                s(1, 0, 0.3),
                s(2, 0, 0.5),
                s(3, 4, 0.5),
                s(4, 0, 0.9),
                s(5, 4, 0.5),
                s(6, 0, 0.31),
            ],
            0.3,
            4,
        );
        let ids: Vec<u128> = ranked.iter().map(|s| s.ally.id.as_uuid().as_u128()).collect();
        // 0.3 is not above the threshold; 3 and 5 tie on score and ratings: smaller id first;
        // 6 is cut by the limit.
        assert_eq!(ids, vec![4, 3, 5, 2]);
    }

    #[test]
    fn areas_are_trimmed_deduplicated_and_every_failure_reported() {
        let mut errors = ValidationErrors::new();
        let areas = clean_areas(
            &mut errors,
            &[
                " Fundraising ".into(),
                "fundraising".into(),
                "  ".into(),
                "x".repeat(101),
                "Sales".into(),
            ],
        );
        assert_eq!(areas, vec!["Fundraising".to_owned(), "Sales".to_owned()]);
        assert!(errors.has("areas[2]") && errors.has("areas[3]") && !errors.has("areas"));
        let mut errors = ValidationErrors::new();
        clean_areas(&mut errors, &vec!["a".to_owned(); MAX_AREAS + 1]);
        assert!(errors.has("areas"));
    }

    #[test]
    fn sessions_are_counted_per_local_day_of_the_allys_time_zone() {
        let bogota: Tz = "America/Bogota".parse().unwrap();
        // 2027-03-02 02:00Z is still March 1st in Bogotá (UTC-5).
        let starts = [
            Utc.with_ymd_and_hms(2027, 3, 1, 15, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 3, 2, 2, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 3, 2, 15, 0, 0).unwrap(),
        ];
        let march = |d| NaiveDate::from_ymd_opt(2027, 3, d).unwrap();
        assert_eq!(
            sessions_per_day(bogota, starts),
            BTreeMap::from([(march(1), 2), (march(2), 1)])
        );
        assert_eq!(
            sessions_per_day(chrono_tz::UTC, starts),
            BTreeMap::from([(march(1), 1), (march(2), 2)])
        );
    }

    #[test]
    fn cards_promise_a_seat_only_when_accept_would_give_one() {
        let ally = AllyProfile {
            max_mentees: 2,
            ..Default::default()
        };
        for active in 0..4 {
            let load = ally_load(Some(&ally), active);
            let accept = wf::transition(MentorshipStatus::Requested, MentorshipCommand::Accept, &load);
            assert_eq!(has_capacity(&ally, active), accept.is_ok(), "{active} active");
        }
        let away = AllyProfile {
            available: false,
            ..ally
        };
        assert!(!has_capacity(&away, 0));
        assert!(ally_load(None, 0).max_mentees == 0);
    }
}
