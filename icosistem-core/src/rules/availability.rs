//! Weekly availability and free slots (docs/domain.md §4.7).
//!
//! An ally's availability is a set of weekly slots in the ally's own time zone (IANA name): "every
//! Monday 09:00–12:00 in America/Bogota". Local wall-clock times are turned into instants with
//! the time zone database, so a slot keeps its local time across daylight-saving changes and a
//! booking lands on the right instant. Local times that do not exist (the hour skipped when
//! clocks go forward) are not offered; ambiguous ones (the hour repeated when clocks go back)
//! take the earlier instant.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::ValidationErrors;

/// One weekly slot: `weekday` 0 = Monday … 6 = Sunday, `start < end` in local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WeeklySlot {
    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Local start time.
    pub start: NaiveTime,
    /// Local end time.
    pub end: NaiveTime,
}

/// A busy interval `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

/// Checks a weekly schedule: weekdays 0–6, start < end, no two slots of a day overlapping, at
/// most `max_slots`. Reports every failure with the slot's index (`slots[2].end`).
pub fn check_slots(slots: &[WeeklySlot], max_slots: usize) -> ValidationErrors {
    let mut errors = ValidationErrors::new();
    if slots.len() > max_slots {
        errors.push("slots", format!("at most {max_slots} weekly slots"));
    }
    for (i, slot) in slots.iter().enumerate() {
        if slot.weekday > 6 {
            errors.push(
                format!("slots[{i}].weekday"),
                "must be between 0 (Monday) and 6 (Sunday)",
            );
        }
        if slot.start >= slot.end {
            errors.push(format!("slots[{i}].end"), "must be after start");
        }
        let overlaps = slots[..i]
            .iter()
            .any(|o| o.weekday == slot.weekday && o.start < slot.end && slot.start < o.end);
        if overlaps {
            errors.push(format!("slots[{i}]"), "overlaps another slot of the same day");
        }
    }
    errors
}

/// The instant of a local wall-clock time in `tz`: `None` in a DST gap, the earlier instant when
/// ambiguous.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

fn weekday_index(date: NaiveDate) -> u8 {
    date.weekday().num_days_from_monday() as u8
}

/// Whether `[start, start + duration)` lies inside one weekly slot, read in `tz`.
pub fn within_availability(slots: &[WeeklySlot], tz: Tz, start: DateTime<Utc>, duration: Duration) -> bool {
    let local_start = start.with_timezone(&tz).naive_local();
    let local_end = (start + duration).with_timezone(&tz).naive_local();
    if local_end.date() != local_start.date() && local_end.time() != NaiveTime::MIN {
        return false;
    }
    let day = weekday_index(local_start.date());
    slots.iter().any(|slot| {
        slot.weekday == day
            && slot.start <= local_start.time()
            && (local_end.date() == local_start.date() && local_end.time() <= slot.end)
    })
}

/// The rules `free_slots` applies.
#[derive(Debug, Clone, Copy)]
pub struct SlotRules {
    /// Length of the session to place.
    pub duration: Duration,
    /// Grid of offered starts inside a slot (default 30 min).
    pub step: Duration,
    /// Free time kept around every busy interval (default 15 min).
    pub buffer: Duration,
    /// Nothing starts before this instant (now + the booking notice).
    pub earliest: DateTime<Utc>,
}

/// Bookable starts in `[from, to)`: every `step` from each slot's start, such that the whole
/// session fits the slot and `to`, starts no earlier than `rules.earliest`, and keeps
/// `rules.buffer` away from every busy interval. Sorted, without duplicates.
pub fn free_slots(
    slots: &[WeeklySlot],
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    busy: &[Busy],
    rules: &SlotRules,
) -> Vec<DateTime<Utc>> {
    let mut starts = Vec::new();
    if to <= from || rules.step <= Duration::zero() || rules.duration <= Duration::zero() {
        return starts;
    }
    // Local dates that can hold a slot overlapping [from, to): a day of margin on each side
    // covers every offset.
    let first = from.with_timezone(&tz).date_naive() - Duration::days(1);
    let last = to.with_timezone(&tz).date_naive() + Duration::days(1);
    let mut date = first;
    while date <= last {
        for slot in slots.iter().filter(|s| s.weekday == weekday_index(date)) {
            let mut local = date.and_time(slot.start);
            let slot_end = date.and_time(slot.end);
            while local + rules.duration <= slot_end {
                if let Some(start) = local_to_utc(tz, local) {
                    let end = start + rules.duration;
                    let clear = busy
                        .iter()
                        .all(|b| end + rules.buffer <= b.start || b.end + rules.buffer <= start);
                    if start >= from && end <= to && start >= rules.earliest && clear {
                        starts.push(start);
                    }
                }
                local += rules.step;
            }
        }
        date += Duration::days(1);
    }
    starts.sort();
    starts.dedup();
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn dst_keeps_local_time() {
        // New York moved to daylight time on Sunday 2027-03-14: Monday 09:00 local is 14:00Z the
        // Monday before and 13:00Z the Monday after.
        let tz: Tz = "America/New_York".parse().unwrap();
        let slots = [WeeklySlot {
            weekday: 0,
            start: t(9, 0),
            end: t(10, 0),
        }];
        let from = Utc.with_ymd_and_hms(2027, 3, 7, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2027, 3, 16, 0, 0, 0).unwrap();
        let rules = SlotRules {
            duration: Duration::minutes(60),
            step: Duration::minutes(30),
            buffer: Duration::minutes(15),
            earliest: from,
        };
        let starts = free_slots(&slots, tz, from, to, &[], &rules);
        assert_eq!(
            starts,
            vec![
                Utc.with_ymd_and_hms(2027, 3, 8, 14, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2027, 3, 15, 13, 0, 0).unwrap(),
            ]
        );
    }

    #[test]
    fn busy_time_and_buffer_are_kept_free() {
        let tz: Tz = "UTC".parse().unwrap();
        let slots = [WeeklySlot {
            weekday: 0,
            start: t(9, 0),
            end: t(12, 0),
        }];
        let from = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
        let to = from + Duration::days(1);
        let busy = [Busy {
            start: Utc.with_ymd_and_hms(2027, 3, 1, 10, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2027, 3, 1, 10, 30, 0).unwrap(),
        }];
        let rules = SlotRules {
            duration: Duration::minutes(30),
            step: Duration::minutes(30),
            buffer: Duration::minutes(15),
            earliest: from,
        };
        let hours: Vec<(u32, u32)> = free_slots(&slots, tz, from, to, &busy, &rules)
            .iter()
            .map(|s| (chrono::Timelike::hour(s), chrono::Timelike::minute(s)))
            .collect();
        // 09:30 ends at 10:00, inside the 15-minute buffer before 10:00; 10:30 starts inside the
        // buffer after 10:30.
        assert_eq!(hours, vec![(9, 0), (11, 0), (11, 30)]);
    }

    #[test]
    fn availability_check_and_slot_rules() {
        let tz: Tz = "America/Bogota".parse().unwrap();
        let slots = [WeeklySlot {
            weekday: 2,
            start: t(14, 0),
            end: t(17, 0),
        }];
        // Wednesday 2027-03-03 15:00 Bogotá = 20:00Z.
        let start = Utc.with_ymd_and_hms(2027, 3, 3, 20, 0, 0).unwrap();
        assert!(within_availability(&slots, tz, start, Duration::minutes(60)));
        assert!(!within_availability(&slots, tz, start, Duration::minutes(150)));
        let bad = [
            WeeklySlot {
                weekday: 7,
                start: t(9, 0),
                end: t(8, 0),
            },
            WeeklySlot {
                weekday: 1,
                start: t(9, 0),
                end: t(11, 0),
            },
            WeeklySlot {
                weekday: 1,
                start: t(10, 0),
                end: t(12, 0),
            },
        ];
        let e = check_slots(&bad, 50);
        assert!(e.has("slots[0].weekday") && e.has("slots[0].end") && e.has("slots[2]"));
    }
}
