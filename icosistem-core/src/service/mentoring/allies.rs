//! The ally directory and the allies suggested to an entrepreneur (docs/domain.md §4.7).

use std::collections::BTreeSet;

use super::{active_mentees, has_capacity, is_mentoring_ally};
use crate::error::Result;
use crate::model::{AllyProfile, EntrepreneurProfile, Profile, ProfileData, ProjectStage, Role, User, UserId};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{MentorshipFilter, Page, PageRequest, ProfileFilter, ProjectFilter, Repo, Store};
use crate::ports::{Clock, Notifier};
use crate::rules::matching::match_score;
use crate::service::{Context, Ecosystem};

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
    /// Match score 0–1 (docs/domain.md §4.7), rounded to 3 decimals.
    pub score: f64,
    /// One sentence per part of the score that counted.
    pub reasons: Vec<String>,
}

pub(super) fn ally_card(user: &User, ally: &AllyProfile, active_mentees: u32) -> AllyCard {
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

/// Best first: higher score, then more ratings (a track record), then the smaller id so the
/// order is total and stable. Only scores strictly above `min_score`, at most `limit`.
pub(super) fn rank_suggestions(
    mut candidates: Vec<AllySuggestion>,
    min_score: f64,
    limit: usize,
) -> Vec<AllySuggestion> {
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

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
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

    /// Allies suggested to the calling entrepreneur, best first (docs/domain.md §4.7): scored with
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
}
