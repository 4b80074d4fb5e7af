//! Session feedback: each party rates a completed session once; the entrepreneur's rating
//! feeds the ally's average.

use serde_json::json;

use super::{COMMENT_MAX, local_when, oversees, session_data};
use crate::error::{Error, Forbidden, Result, ValidationErrors};
use crate::model::value::{Rating, optional_text};
use crate::model::{Feedback, Profile, ProfileData, Session, SessionId, SessionStatus};
use crate::ports::store::{Repo, Store};
use crate::ports::{Clock, Notifier};
use crate::service::{Context, Ecosystem, Notice};

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Records the caller's feedback on a completed session: a rating 1–5 and an optional
    /// comment (≤ 2000 chars), once per party. When the entrepreneur rates, the ally's profile
    /// `ratings_total`/`ratings_count` (their average rating) are updated in the same unit of
    /// work, under the profile's lock. The other party is notified
    /// (`session_feedback_received`); audited as `session.feedback`.
    ///
    /// # Errors
    ///
    /// - `NotFound { entity: "session" }`: no such session, or the caller can't see it;
    /// - `Forbidden`: an admin (or the system) who is not a party — feedback is the parties'
    ///   own;
    /// - `Validation`: `rating` outside 1–5, `comment` too long;
    /// - `InvalidTransition { entity: "session", command: "feedback" }`: the session is not
    ///   completed;
    /// - `InvalidTransition { entity: "session_feedback", from: "given", command: "feedback" }`:
    ///   this party already gave feedback on the session (feedback is final, never replaced);
    /// - `Store` on a backend failure.
    pub async fn session_feedback(
        &self,
        ctx: &Context,
        id: SessionId,
        rating: i64,
        comment: Option<String>,
    ) -> Result<Session> {
        let mut uow = self.uow(ctx).await?;
        let peek: Session = uow.load(id).await?;
        let me = ctx.actor.user_id();
        let party = me.is_some_and(|me| peek.involves(me));
        if !party {
            if oversees(&ctx.actor) {
                return Err(Error::Forbidden(Forbidden {
                    action: "session.feedback",
                    resource: "session",
                }));
            }
            return Err(Error::not_found("session", id));
        }
        let mut errors = ValidationErrors::new();
        let rating = errors.check(Rating::new(rating).map_err(|e| e.at("rating")));
        let comment = errors
            .check(optional_text("comment", comment.as_deref(), COMMENT_MAX))
            .flatten();
        errors.into_result()?;
        let rating = rating.expect("validated");

        let mut session: Session = uow.load_for_update(id).await?;
        if session.status != SessionStatus::Completed {
            return Err(Error::invalid_transition(
                "session",
                session.status.as_str(),
                "feedback",
            ));
        }
        let by_entrepreneur = me == Some(session.entrepreneur_id);
        let slot = if by_entrepreneur {
            &mut session.entrepreneur_feedback
        } else {
            &mut session.ally_feedback
        };
        if slot.is_some() {
            return Err(Error::invalid_transition("session_feedback", "given", "feedback"));
        }
        *slot = Some(Feedback {
            rating,
            comment,
            at: uow.now,
        });
        let session = uow.update(session).await?;

        if by_entrepreneur {
            // The ally's average is a running sum and count on the profile; the profile lock
            // keeps two ratings committed at once from losing one.
            let profile: Option<Profile> = Repo::<Profile>::get_for_update(&mut uow.tx, session.ally_id).await?;
            if let Some(mut profile) = profile
                && let ProfileData::Ally(ally) = &mut profile.data
            {
                ally.ratings_total = ally.ratings_total.saturating_add(u32::from(rating.get()));
                ally.ratings_count = ally.ratings_count.saturating_add(1);
                uow.update(profile).await?;
            }
        }
        uow.audit(
            "session.feedback",
            "session",
            session.id,
            None,
            None,
            Some(json!({
                "by": if by_entrepreneur { "entrepreneur" } else { "ally" },
                "rating": rating.get(),
            })),
        )
        .await?;
        let other = if by_entrepreneur {
            session.ally_id
        } else {
            session.entrepreneur_id
        };
        let mut data = session_data(&session);
        data["rating"] = json!(rating.get());
        uow.notify_reader(other, |reader| {
            Notice::new(
                "session_feedback_received",
                "New feedback on your mentoring session",
                format!(
                    "You received a {}/5 rating for the mentoring session of {}.",
                    rating.get(),
                    local_when(session.starts_at, reader)
                ),
                data,
            )
        })
        .await?;
        uow.commit().await?;
        Ok(session)
    }
}
