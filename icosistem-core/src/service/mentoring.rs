//! Mentorships, allies, availability and matching (docs/domain.md §4.5, §4.7).
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

mod allies;
mod schedule;
#[cfg(test)]
mod tests;

pub use allies::{AllyCard, AllyQuery, AllySuggestion};

use crate::service::Expect;
use std::collections::BTreeSet;

use serde_json::json;

use super::{Context, Ecosystem, Notice, Uow, check_version};
use crate::error::{Error, Forbidden, Result, ValidationErrors};
use crate::model::value::{bounded_text, optional_text};
use crate::model::{
    Actor, AllyProfile, Mentorship, MentorshipId, MentorshipStatus, Profile, ProfileData, Project, ProjectId, Role,
    SessionStatus, User, UserId, UserStatus,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{MentorshipFilter, Page, PageRequest, Repo, SessionFilter, Store, Transaction};
use crate::ports::{Clock, Notifier};
use crate::rules::common::validate_range;
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
        version: impl Into<Expect>,
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
            // Sessions live inside their mentorship (docs/domain.md §4.6): the ones still ahead are
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
}
