//! # Mentoring benches
//!
//! Criterion benches of the calendar use cases of `icosistem-core` on the in-memory store, with
//! an ally whose calendar looks like a busy mentor's:
//!
//! - weekly availability in America/Bogota, Monday–Friday 08:00–12:00 and 14:00–19:00 (10
//!   slots, 45 hours a week);
//! - 10 mentees in active mentorships;
//! - 50 sessions of 60 minutes over the three weeks after "now" (3–4 a day, the per-day cap is
//!   4), plus 2 meetings in the measured week.
//!
//! Benches:
//!
//! - `book_session/busy_ally`: one booking into that calendar (notice, availability, overlap
//!   with both parties' sessions and meetings, per-day cap, under the calendar locks), on a free
//!   day after the three busy weeks; each fixture takes 16 bookings, one per day;
//! - `free_slots/one_week_busy_ally`: the bookable starts of the second busy week (15 of the
//!   50 sessions and both meetings fall in it; 30 starts remain), the window a booking page
//!   shows;
//! - `free_slots/31_days_busy_ally`: the longest window `free_slots` answers (all 50 sessions;
//!   188 starts remain), for scale.
//!
//! Fixtures are built outside the timed section (same approach as `selection.rs`: `iter_custom`
//! times only the routine, see [`timed_in_chunks`]); passwords are hashed with
//! `fast_for_tests()`.
//!
//! Run: `cargo bench -p icosistem-benches --bench mentoring -- --warm-up-time 1 --measurement-time 3`.

mod common;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use icosistem_core::model::{MentorshipId, Role, UserId};
use icosistem_core::ports::{Argon2idPasswordHasher, ManualClock, RecordingNotifier};
use icosistem_core::rules::availability::WeeklySlot;
use icosistem_core::service::{BookSession, RequestMentorship, ScheduleMeeting};
use icosistem_core::workflow::mentorship::MentorshipCommand;
use icosistem_core::{Context, Ecosystem};
use icosistem_store_memory::MemoryStore;

use common::{Eco, current_thread, timed_in_chunks, user};

const MENTEES: usize = 10;
const BUSY_SESSIONS: usize = 50;
/// Bogotá is UTC−5 all year.
const BOGOTA_OFFSET_HOURS: i64 = 5;

/// The fixed "now" of every fixture: Wednesday 2027-01-06 12:00 UTC.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 6, 12, 0, 0)
        .single()
        .expect("a valid instant")
}

/// Local midnight (Bogotá) of the Monday that starts busy week `week` (0, 1, 2) — the Mondays
/// after now — plus `day` days and `hour` local hours, as an instant.
fn local(week: i64, day: i64, hour: f64) -> DateTime<Utc> {
    let monday = Utc
        .with_ymd_and_hms(2027, 1, 11, 0, 0, 0)
        .single()
        .expect("a valid instant");
    monday
        + chrono::Duration::days(7 * week + day)
        + chrono::Duration::hours(BOGOTA_OFFSET_HOURS)
        + chrono::Duration::minutes((hour * 60.0) as i64)
}

// ---------------------------------------------------------------------------------------------
// Fixture

/// A busy ally: availability, mentees, 50 sessions and 2 meetings.
struct BusyAlly {
    eco: Eco,
    ally: UserId,
    /// The ally's context (the ally books for their mentees).
    ctx: Context,
    mentorships: Vec<MentorshipId>,
}

fn slot(weekday: u8, from: u32, to: u32) -> WeeklySlot {
    WeeklySlot {
        weekday,
        start: NaiveTime::from_hms_opt(from, 0, 0).expect("a valid time"),
        end: NaiveTime::from_hms_opt(to, 0, 0).expect("a valid time"),
    }
}

async fn busy_ally() -> BusyAlly {
    let eco = Ecosystem::new(MemoryStore::new(), RecordingNotifier::new(), ManualClock::new(now()))
        .with_hasher(Argon2idPasswordHasher::fast_for_tests());
    let ally = user(&eco, "rodrigo@agromentores.co", Role::Ally).await;
    let ctx = Context::user(&ally);
    let slots = (0..5).flat_map(|d| [slot(d, 8, 12), slot(d, 14, 19)]).collect();
    eco.set_my_availability(&ctx, "America/Bogota".into(), slots, None)
        .await
        .expect("availability");
    let mut mentorships = Vec::new();
    for i in 0..MENTEES {
        let mentee = user(&eco, &format!("founder{i}@ventures.co"), Role::Entrepreneur).await;
        let requested = eco
            .request_mentorship(
                &Context::user(&mentee),
                RequestMentorship {
                    ally_id: ally.id,
                    message: None,
                    areas: vec!["Fundraising".into()],
                    project_id: None,
                    duration_months: None,
                },
            )
            .await
            .expect("request mentorship");
        eco.mentorship_command(&ctx, requested.id, MentorshipCommand::Accept, None)
            .await
            .expect("accept mentorship");
        mentorships.push(requested.id);
    }
    // 50 sessions over the 15 working days of the next three weeks: 08:00, 10:00 and 14:00
    // every day, 16:30 on the first days, one mentee after the other.
    let mut booked = 0;
    'weeks: for hour in [8.0, 10.0, 14.0, 16.5] {
        for week in 0..3 {
            for day in 0..5 {
                if booked == BUSY_SESSIONS {
                    break 'weeks;
                }
                eco.book_session(
                    &ctx,
                    mentorships[booked % MENTEES],
                    BookSession {
                        starts_at: local(week, day, hour),
                        duration_minutes: Some(60),
                        agenda: Some("Weekly check-in".into()),
                    },
                )
                .await
                .expect("book a busy-week session");
                booked += 1;
            }
        }
    }
    // Two meetings in the measured week (week 1).
    for day in [1, 3] {
        eco.schedule_meeting(
            &ctx,
            ScheduleMeeting {
                title: "Mentors' circle".into(),
                description: None,
                location: None,
                starts_at: local(1, day, 12.0),
                ends_at: local(1, day, 13.0),
                participant_ids: Vec::new(),
            },
        )
        .await
        .expect("schedule meeting");
    }
    BusyAlly {
        eco,
        ally: ally.id,
        ctx,
        mentorships,
    }
}

// ---------------------------------------------------------------------------------------------
// Benches

/// One booking into the busy calendar, on an empty day after the busy weeks (day `i` of the
/// fixture: week 3 onwards, 11:00 local), for mentee `i mod 10`.
fn book_session(c: &mut Criterion) {
    let rt = current_thread();
    let mut group = c.benchmark_group("book_session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("busy_ally", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            timed_in_chunks(
                iters,
                16,
                async |_| busy_ally().await,
                async |fixture, i| {
                    let i = i as i64;
                    let session = fixture
                        .eco
                        .book_session(
                            &fixture.ctx,
                            fixture.mentorships[i as usize % MENTEES],
                            BookSession {
                                starts_at: local(3 + i / 5, i % 5, 11.0),
                                duration_minutes: Some(60),
                                agenda: None,
                            },
                        )
                        .await
                        .expect("book");
                    debug_assert_eq!(session.duration_minutes, 60);
                },
            )
        });
    });
    group.finish();
}

/// `free_slots` over the busy calendar: one week (the booking page) and 31 days.
fn free_slots(c: &mut Criterion) {
    let rt = current_thread();
    let fixture = rt.block_on(busy_ally());
    let mut group = c.benchmark_group("free_slots");
    group.throughput(Throughput::Elements(1));
    for (name, from, days) in [
        ("one_week_busy_ally", local(1, 0, 0.0), 7),
        ("31_days_busy_ally", local(0, 0, 0.0), 31),
    ] {
        let to = from + chrono::Duration::days(days);
        // What is measured must be a real answer: the busy week still has room, but not much.
        let starts = rt
            .block_on(fixture.eco.free_slots(&fixture.ctx, fixture.ally, from, to, None))
            .expect("free slots");
        assert!(!starts.is_empty(), "{name}: no free slot at all");
        eprintln!("free_slots/{name}: {} bookable starts", starts.len());
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                fixture
                    .eco
                    .free_slots(&fixture.ctx, fixture.ally, from, to, None)
                    .await
                    .expect("free slots")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, book_session, free_slots);
criterion_main!(benches);
