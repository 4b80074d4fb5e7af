//! Review rounds (docs/domain.md §10): a program's selection process as data. An application enters
//! the first round when submitted, is reviewed in each round by that round's reviewers, and is
//! advanced or turned down round by round by the program's staff; the last round ends with the
//! capacity-checked `accept` (or `waitlist`) of §4.2. The guards are in
//! [`crate::workflow::rounds`]; a program without rounds never reaches this module's commands'
//! round logic and behaves exactly as before.

use crate::service::Expect;
use std::collections::HashSet;

use serde_json::json;

use super::application::mean_centi;
use super::{Context, Ecosystem, Notice, Uow};
use crate::error::{Error, Result, ValidationErrors};
use crate::model::value::optional_text;
use crate::model::{Application, ApplicationId, ApplicationStatus, OrganizationId, Program, Review, Round, UserId};
use crate::ports::store::{ApplicationFilter, MemberFilter, Store, Transaction};
use crate::ports::{Clock, Notifier};
use crate::rules::rounds::{RoundInput, check_rounds};
use crate::service::Decision;
use crate::workflow::rounds::{self as wf, RoundDecision, RoundFacts};

/// The facts of `app`'s current round, from its round's `qualified` reviews; `None` when the
/// program has no rounds (or the application has not entered them).
pub(crate) fn round_facts(program: &Program, app: &Application, qualified: &[Review]) -> Option<RoundFacts> {
    let index = app.current_round?;
    let round = program.round(Some(index))?;
    Some(RoundFacts {
        index,
        count: program.rounds.len() as u32,
        min_reviews: round.min_reviews,
        threshold: round.threshold,
        qualified_reviews: qualified.len() as u32,
        mean_score_centi: mean_centi(qualified),
    })
}

/// Why `reviewer` may not review `app` in its current round: the round names its reviewers
/// and `reviewer` is not among them.
pub(crate) fn round_refuses(program: &Program, app: &Application, reviewer: UserId) -> Option<String> {
    let round = program.round(app.current_round)?;
    (!round.reviewer_ids.is_empty() && !round.reviewer_ids.contains(&reviewer))
        .then(|| format!("is not a reviewer of the round {}", round.name))
}

impl<T: Transaction> Uow<T> {
    /// Checks rounds given for a program of `organization`: the data rules of
    /// [`check_rounds`] and that every named reviewer is a member of the organization.
    pub(crate) async fn checked_rounds(
        &mut self,
        organization: OrganizationId,
        input: &[RoundInput],
        limits: &super::Limits,
        errors: &mut ValidationErrors,
    ) -> Result<Option<Vec<Round>>> {
        let rounds = check_rounds(input, limits.max_review_rounds, limits.max_round_reviewers, errors);
        let Some(rounds) = rounds else {
            return Ok(None);
        };
        if rounds.iter().all(|r| r.reviewer_ids.is_empty()) {
            return Ok(Some(rounds));
        }
        let members: HashSet<UserId> = self
            .all(&MemberFilter {
                organization_id: Some(organization),
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        let mut ok = true;
        for (i, round) in rounds.iter().enumerate() {
            for (j, id) in round.reviewer_ids.iter().enumerate() {
                if !members.contains(id) {
                    errors.push(
                        format!("rounds[{i}].reviewer_ids[{j}]"),
                        "must be a member of the program's organization",
                    );
                    ok = false;
                }
            }
        }
        Ok(ok.then_some(rounds))
    }

    /// Whether an application of `program` has entered its rounds (anything but a draft).
    pub(crate) async fn rounds_entered(&mut self, program: &Program) -> Result<bool> {
        Ok(self
            .count(&ApplicationFilter {
                program_id: Some(program.id),
                exclude_drafts: true,
                ..Default::default()
            })
            .await?
            > 0)
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Moves an application under review to its program's next round (program staff,
    /// admins): the current round needs its quorum and a mean score at or above its
    /// threshold; the last round is left by `accept`, `waitlist` or `reject` instead. The
    /// applicant is notified; the reviews of the new round start from nothing.
    pub async fn advance_application(
        &self,
        ctx: &Context,
        id: ApplicationId,
        version: impl Into<Expect>,
    ) -> Result<Application> {
        let mut uow = self.uow(ctx).await?;
        // The same locks, in the same order, as every other decision on the application.
        let (program, mut app) = super::application::lock_for_decision(&mut uow, id, version).await?;
        if program.status.is_terminal() {
            return Err(Error::invalid(
                "program_id",
                "the program is finished; no more decisions",
            ));
        }
        let qualified = uow.qualified_reviews(&app).await?;
        let Some(facts) = round_facts(&program, &app, &qualified) else {
            if app.status != ApplicationStatus::UnderReview {
                return Err(Error::invalid_transition("application", app.status.as_str(), "advance"));
            }
            return Err(Error::invalid(
                "current_round",
                "the program has no review rounds: accept, waitlist or reject instead",
            ));
        };
        let next = wf::check(app.status, RoundDecision::Advance, &facts)?;
        let from = program.rounds[facts.index as usize].name.clone();
        let to = program.rounds[next as usize].name.clone();
        app.current_round = Some(next);
        // The mean score is the current round's: the next round starts without reviews.
        app.mean_score_centi = None;
        let app = uow.update(app).await?;
        let org = Some(program.organization_id);
        uow.audit_transition("application.advance", "application", app.id, org, &from, &to)
            .await?;
        uow.notify_id(
            app.applicant_id,
            Notice::new(
                "application_advanced",
                format!("Your application to {} moved on to {to}", program.name),
                format!(
                    "Your application to {} passed the round {from} and is now in the round {to}.",
                    program.name
                ),
                json!({ "application_id": app.id, "program_id": program.id, "round": to }),
            ),
        )
        .await?;
        uow.commit().await?;
        Ok(app)
    }

    /// Turns an application down in its current round (program staff, admins), with the
    /// `reason` (required, ≤ 2000 characters) as the decision note: the round's quorum is
    /// needed, its threshold is not. Without rounds it is a `reject` with a reason.
    pub async fn reject_application_in_round(
        &self,
        ctx: &Context,
        id: ApplicationId,
        reason: String,
        version: impl Into<Expect>,
    ) -> Result<Application> {
        let reason = optional_text("reason", Some(reason.as_str()), 2000)
            .map_err(ValidationErrors::from)?
            .ok_or_else(|| Error::invalid("reason", "must not be empty"))?;
        self.decide(ctx, id, Decision::Reject, Some(reason), version).await
    }
}
