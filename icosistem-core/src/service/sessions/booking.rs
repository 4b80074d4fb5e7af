//! The booking rules that read the calendars: notice, availability, overlaps with the buffer
//! and the per-day cap (the module documentation of `sessions` states them).

use chrono::Duration;

use super::{Proposal, span};
use crate::error::{Result, ValidationErrors};
use crate::ports::store::{AvailabilityFilter, MeetingFilter, SessionFilter, Store};
use crate::ports::{Clock, Notifier};
use crate::rules::availability::within_availability;
use crate::service::{Ecosystem, Uow};

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Checks `proposal` against the booking rules that read the calendars (notice,
    /// availability, overlap with buffer, per-day cap), adding a `starts_at` error for each
    /// that fails. The caller holds both parties' calendar locks.
    pub(super) async fn check_booking(
        &self,
        uow: &mut Uow<S::Tx>,
        proposal: &Proposal,
        errors: &mut ValidationErrors,
    ) -> Result<()> {
        let limits = &self.limits;
        let start = proposal.starts_at;
        if start < uow.now + limits.booking_notice {
            errors.push(
                "starts_at",
                format!("must be at least {} from now", span(limits.booking_notice)),
            );
        }

        let availability = uow
            .first(&AvailabilityFilter {
                ally_id: Some(proposal.ally_id),
            })
            .await?;
        let day_tz = availability.as_ref().map_or(proposal.ally_tz, |a| a.timezone.tz());
        if let Some(duration) = proposal.duration {
            match &availability {
                None => errors.push("starts_at", "the ally has not published any availability"),
                Some(a) if !within_availability(&a.slots, a.timezone.tz(), start, duration) => {
                    errors.push("starts_at", "is outside the ally's availability");
                }
                Some(_) => {}
            }
            self.check_overlaps(uow, proposal, duration, errors).await?;
        }

        // The per-day cap counts sessions by the local day they start on; a two-day window
        // around the start covers that day in any time zone.
        let day = start.with_timezone(&day_tz).date_naive();
        let same_day = uow
            .all(&SessionFilter {
                ally_id: Some(proposal.ally_id),
                occupying_only: true,
                overlapping_from: Some(start - Duration::days(2)),
                overlapping_to: Some(start + Duration::days(2)),
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter(|s| Some(s.id) != proposal.ignore && s.starts_at.with_timezone(&day_tz).date_naive() == day)
            .count();
        if same_day as u64 >= u64::from(limits.max_sessions_per_day) {
            errors.push(
                "starts_at",
                format!(
                    "the ally already has {} sessions on {day}, the most per day",
                    limits.max_sessions_per_day
                ),
            );
        }
        Ok(())
    }

    /// The no-overlap rule: sessions and meetings of either party closer than the buffer.
    pub(super) async fn check_overlaps(
        &self,
        uow: &mut Uow<S::Tx>,
        proposal: &Proposal,
        duration: Duration,
        errors: &mut ValidationErrors,
    ) -> Result<()> {
        let buffer = self.limits.booking_buffer;
        // Everything ending after `start - buffer` and starting before `end + buffer` is too
        // close: the store's window filter selects exactly those.
        let from = proposal.starts_at - buffer;
        let to = proposal.starts_at + duration + buffer;
        let buffer_note = if buffer > Duration::zero() {
            format!(" (bookings keep {} apart)", span(buffer))
        } else {
            String::new()
        };
        for (party, who) in [(proposal.ally_id, "ally"), (proposal.entrepreneur_id, "entrepreneur")] {
            let sessions = uow
                .all(&SessionFilter {
                    participant_id: Some(party),
                    occupying_only: true,
                    overlapping_from: Some(from),
                    overlapping_to: Some(to),
                    ..Default::default()
                })
                .await?;
            // A clash involving both parties is reported once, for the ally.
            let clash = sessions
                .iter()
                .any(|s| Some(s.id) != proposal.ignore && (who == "ally" || !s.involves(proposal.ally_id)));
            if clash {
                errors.push(
                    "starts_at",
                    format!("overlaps another session of the {who}{buffer_note}"),
                );
            }
            let meetings = uow
                .all(&MeetingFilter {
                    attendee_id: Some(party),
                    occupying_only: true,
                    overlapping_from: Some(from),
                    overlapping_to: Some(to),
                    ..Default::default()
                })
                .await?;
            let clash = meetings
                .iter()
                .any(|m| who == "ally" || !m.attendee_ids.contains(&proposal.ally_id));
            if clash {
                errors.push("starts_at", format!("overlaps a meeting of the {who}{buffer_note}"));
            }
        }
        Ok(())
    }
}
