//! Allies' weekly availability and the session starts it leaves free.

use crate::service::Expect;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;
use uuid::Uuid;

use super::find_ally;
use crate::error::{Error, Forbidden, Result, ValidationErrors};
use crate::model::value::{AtField, TimeZoneName};
use crate::model::{Availability, AvailabilityId, Meta, Role, UserId};
use crate::ports::store::{AvailabilityFilter, MeetingFilter, SessionFilter, Store};
use crate::ports::{Clock, Notifier};
use crate::rules::availability::{self, Busy, SlotRules, WeeklySlot};
use crate::rules::common::validate_range;
use crate::service::{Context, Ecosystem, check_version};

/// How many of the given session starts fall on each local day in `tz`.
pub(super) fn sessions_per_day(tz: Tz, starts: impl IntoIterator<Item = DateTime<Utc>>) -> BTreeMap<NaiveDate, u32> {
    let mut per_day = BTreeMap::new();
    for start in starts {
        *per_day.entry(start.with_timezone(&tz).date_naive()).or_default() += 1;
    }
    per_day
}

/// A span for messages: "31 days", "12 hours", "90 minutes".
pub(super) fn describe(span: Duration) -> String {
    let minutes = span.num_minutes();
    if minutes % (24 * 60) == 0 {
        format!("{} days", minutes / (24 * 60))
    } else if minutes % 60 == 0 {
        format!("{} hours", minutes / 60)
    } else {
        format!("{minutes} minutes")
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
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
        version: impl Into<Expect>,
    ) -> Result<Availability> {
        let version: Expect = version.into();
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
                if !version.allows(0) {
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
