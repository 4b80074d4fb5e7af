//! State-machine test of mentorship sessions (docs/domain.md §4.6, §4.7, §4.9) against a reference
//! model.
//!
//! Each case builds one small world on the memory store — two allies with weekly availability
//! in different time zones (ally A in America/Bogota, UTC−5, with an evening slot that crosses
//! midnight UTC; ally B in Asia/Kolkata, UTC+5:30, whose local day starts at 18:30 UTC), three
//! entrepreneurs with four active mentorships between them (E2 is mentored by both allies, so an
//! entrepreneur's calendar spans two allies) plus one mentorship still `requested`, an admin and
//! a stranger (an ally with no mentorship) — then runs a random sequence of commands from random
//! actors through the `Ecosystem` use cases: book (a start on a 15-minute grid over the next
//! days, inside or outside availability, next to existing sessions and meetings, filling a
//! day; a random duration, sometimes invalid), confirm, start, complete, cancel, reschedule,
//! feedback, `free_slots`, meetings (scheduled and cancelled: they block the calendars of
//! everyone they invite), clock moves and `sweep_no_shows`.
//!
//! A reference model predicts every answer — success, or exactly which error, down to *which*
//! booking rules refused a start (notice, availability, a session or a meeting of the ally or of
//! the entrepreneur, the per-day cap in the ally's time zone) — and the resulting state. After
//! every step the store is checked:
//!
//! - **no two non-cancelled sessions of one person overlap** (ally or entrepreneur), and none
//!   comes closer than the 15-minute booking buffer — computed from the stored rows alone;
//! - **nothing leaves a terminal state** (completed, cancelled, no_show): the status and the
//!   time of such a session never change again;
//! - every stored session equals the model's (parties, status, times, duration, late
//!   cancellation, reschedule count, who gave feedback), every stored meeting too, and the
//!   allies' rating sums equal the model's;
//! - `free_slots` offers exactly the starts the model finds bookable for the ally;
//! - the no-show sweep marks exactly the sessions the model expects, notifying both parties.
//!
//! Sequences are "rounds" shaped like a session's life (book, book, confirm, move the clock to a
//! start, start, complete, feedback twice, then a cancellation, a move, a sweep, a meeting or a
//! free-slots query) or "fill" rounds (five bookings on one day of one ally), with noise; steps
//! aim at sessions where the command can succeed, or at terminal ones (see [`Aim`]). The run
//! ends by checking that the generated cases reached every corner (each refusal kind, late
//! cancellations, swept no-shows, refusals from each terminal status).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use icosistem_core::Context;
use icosistem_core::error::Error;
use icosistem_core::model::{
    MeetingId, MeetingStatus, MentorshipId, ProfileData, Role, Session, SessionId, SessionStatus, User,
};
use icosistem_core::ports::store::{MeetingFilter, PageRequest, SessionFilter};
use icosistem_core::ports::{Clock, ManualClock};
use icosistem_core::rules::availability::WeeklySlot;
use icosistem_core::service::{BookSession, MeetingAction, RequestMentorship, ScheduleMeeting, SessionAction};
use icosistem_core::workflow::mentorship::MentorshipCommand;

mod support;

use support::{Eco, create_user};

// ---------------------------------------------------------------------------------------------
// The cast and the calendar

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Person {
    AllyA,
    AllyB,
    E1,
    E2,
    E3,
    Admin,
    /// An ally with no mentorship at all.
    Stranger,
}

const EVERYONE: &[Person] = &[
    Person::AllyA,
    Person::AllyB,
    Person::E1,
    Person::E2,
    Person::E3,
    Person::Admin,
    Person::Stranger,
];

/// (ally, entrepreneur, accepted). The last one stays `requested`: booking in it is refused.
const MENTORSHIPS: [(Person, Person, bool); 5] = [
    (Person::AllyA, Person::E1, true),
    (Person::AllyA, Person::E2, true),
    (Person::AllyB, Person::E2, true),
    (Person::AllyB, Person::E3, true),
    (Person::AllyA, Person::E3, false),
];

/// A weekly slot: (weekday 0 = Monday, start h, start m, end h, end m), local time.
type Slot = (u8, u32, u32, u32, u32);

struct AllySpec {
    zone: &'static str,
    /// The zone's offset from UTC in seconds; neither zone has daylight-saving time, so the
    /// model can use a fixed offset.
    offset_secs: i32,
    slots: &'static [Slot],
}

/// Bogotá (UTC−5). The Tuesday/Thursday evening slot (00:00–03:00 UTC the next day) makes the
/// per-day cap count by the local day, not the UTC one.
const ALLY_A: AllySpec = AllySpec {
    zone: "America/Bogota",
    offset_secs: -5 * 3600,
    slots: &[
        (0, 9, 0, 12, 0),
        (0, 14, 0, 18, 0),
        (1, 9, 0, 12, 0),
        (1, 14, 0, 18, 0),
        (1, 19, 0, 22, 0),
        (2, 9, 0, 12, 0),
        (2, 14, 0, 18, 0),
        (3, 9, 0, 12, 0),
        (3, 14, 0, 18, 0),
        (3, 19, 0, 22, 0),
        (4, 9, 0, 12, 0),
        (4, 14, 0, 18, 0),
        (5, 10, 0, 13, 0),
    ],
};

/// Kolkata (UTC+5:30): the local day starts at 18:30 UTC.
const ALLY_B: AllySpec = AllySpec {
    zone: "Asia/Kolkata",
    offset_secs: 5 * 3600 + 1800,
    slots: &[
        (0, 8, 0, 12, 0),
        (0, 16, 0, 22, 30),
        (1, 8, 0, 12, 0),
        (1, 16, 0, 22, 30),
        (2, 8, 0, 12, 0),
        (2, 16, 0, 22, 30),
        (3, 8, 0, 12, 0),
        (3, 16, 0, 22, 30),
        (4, 8, 0, 12, 0),
        (4, 16, 0, 22, 30),
        (5, 8, 0, 12, 0),
    ],
};

fn spec(ally: Person) -> &'static AllySpec {
    match ally {
        Person::AllyA => &ALLY_A,
        Person::AllyB => &ALLY_B,
        other => unreachable!("{other:?} is not a mentoring ally"),
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")
}

fn weekly_slots(ally: &AllySpec) -> Vec<WeeklySlot> {
    ally.slots
        .iter()
        .map(|&(weekday, sh, sm, eh, em)| WeeklySlot {
            weekday,
            start: hm(sh, sm),
            end: hm(eh, em),
        })
        .collect()
}

fn offset(ally: Person) -> FixedOffset {
    FixedOffset::east_opt(spec(ally).offset_secs).expect("a valid offset")
}

fn local_date(ally: Person, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&offset(ally)).date_naive()
}

// The default limits the model reproduces.
const NOTICE_HOURS: i64 = 24;
const BUFFER_MINUTES: i64 = 15;
const MAX_PER_DAY: usize = 4;
const NO_SHOW_HOURS: i64 = 24;
const LATE_WINDOW_HOURS: i64 = 24;
/// The allies' preferred session length (the profile's default): what `free_slots` places.
const PROFILE_MINUTES: i64 = 60;

// ---------------------------------------------------------------------------------------------
// Commands, as generated

/// Who acts: a party of the targeted session/mentorship, or a fixed person.
#[derive(Debug, Clone, Copy)]
enum Who {
    Ally,
    Entrepreneur,
    Fixed(Person),
}

/// Where a start falls; resolved against the model at run time (see [`Model::start`]).
#[derive(Debug, Clone, Copy)]
enum StartSpec {
    /// `now` rounded down to 15 minutes, plus this many quarters (0..=384: the next 4 days).
    Grid(u32),
    /// Inside a weekly slot of the ally, `day` local days after today (skipping days without a
    /// slot), `quarter` quarters after the slot's start (modulo the slot's length).
    InSlot { day: u8, slot: u8, quarter: u8 },
    /// An existing session's or meeting's start plus `delta` quarters: collisions and near
    /// misses.
    Near { session: usize, delta: i8 },
    /// The `k`-th start (modulo their count) on the 30-minute grid of the ally's slots, `day`
    /// local days after today, where an hour fits the slot, after the notice and clear of the
    /// ally's own sessions and meetings — ignoring the per-day cap, so filling a day runs into
    /// it.
    Free { day: u8, k: u8 },
}

#[derive(Debug, Clone, Copy)]
enum Cmd {
    Book {
        mentorship: usize,
        start: StartSpec,
        minutes: Option<u16>,
    },
    Confirm,
    Start,
    Complete,
    Cancel,
    Reschedule(StartSpec),
    Feedback(i64),
    /// Moves the clock forward by this many minutes.
    Advance(i64),
    /// Moves the clock to a session's start plus this many minutes (forward only).
    JumpTo(i64),
    Sweep,
    /// `free_slots` of ally A (false) or B (true) from now over this many days.
    FreeSlots {
        ally_b: bool,
        days: u8,
    },
    /// The acting person calls a meeting with `participant` (none when it is the organizer),
    /// placed like a session of `ally` (A or B), lasting `minutes`. Meetings are never refused
    /// for clashing, but they block session bookings of everyone they invite.
    Meeting {
        participant: Person,
        ally_b: bool,
        start: StartSpec,
        minutes: i64,
    },
    /// Cancels a meeting (`target` modulo the meeting count).
    CancelMeeting,
}

impl Cmd {
    fn kind(self) -> &'static str {
        match self {
            Cmd::Book { .. } => "book",
            Cmd::Confirm => "confirm",
            Cmd::Start => "start",
            Cmd::Complete => "complete",
            Cmd::Cancel => "cancel",
            Cmd::Reschedule(_) => "reschedule",
            Cmd::Feedback(_) => "feedback",
            Cmd::Advance(_) => "advance",
            Cmd::JumpTo(_) => "jump_to",
            Cmd::Sweep => "sweep",
            Cmd::FreeSlots { .. } => "free_slots",
            Cmd::Meeting { .. } => "meeting",
            Cmd::CancelMeeting => "cancel_meeting",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Step {
    /// Which session or meeting, modulo the count of those `aim` selects.
    target: usize,
    aim: Aim,
    who: Who,
    cmd: Cmd,
}

/// Which sessions a step chooses its target among. Random targets seldom fit the command: a
/// pass through the workflow needs a scheduled session to confirm, a confirmed one to start …
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aim {
    /// Those where the command can succeed (all of them when none can).
    Fit,
    /// Those in a terminal status (completed, cancelled, no_show), which must refuse.
    Terminal,
    /// Any.
    Any,
}

#[derive(Debug, Clone)]
struct Scenario {
    steps: Vec<Step>,
}

fn who(usual: &'static [Who]) -> impl Strategy<Value = Who> {
    prop_oneof![
        8 => prop::sample::select(usual),
        1 => Just(Who::Fixed(Person::Admin)),
        1 => prop::sample::select(EVERYONE).prop_map(Who::Fixed),
    ]
}

const PARTIES: &[Who] = &[Who::Ally, Who::Entrepreneur];
const ALLY: &[Who] = &[Who::Ally];

fn start_spec() -> impl Strategy<Value = StartSpec> {
    prop_oneof![
        2 => (0u32..=384).prop_map(StartSpec::Grid),
        // Mostly tomorrow and the day after: days fill up and the per-day cap is reached.
        5 => (prop::sample::select(&[1u8, 1, 1, 2, 2, 3, 4][..]), 0u8..4, 0u8..28)
            .prop_map(|(day, slot, quarter)| StartSpec::InSlot { day, slot, quarter }),
        3 => (0usize..64, -8i8..=8).prop_map(|(session, delta)| StartSpec::Near { session, delta }),
        3 => (1u8..=2, any::<u8>()).prop_map(|(day, k)| StartSpec::Free { day, k }),
    ]
}

fn minutes() -> impl Strategy<Value = Option<u16>> {
    prop_oneof![
        10 => prop::sample::select(&[30u16, 45, 60, 60, 90][..]).prop_map(Some),
        2 => Just(None),
        2 => prop::sample::select(&[15u16, 120, 240][..]).prop_map(Some),
        1 => prop::sample::select(&[0u16, 10, 241, 300][..]).prop_map(Some),
    ]
}

type Act = BoxedStrategy<(Who, Cmd)>;

fn book() -> Act {
    let mentorship = prop_oneof![14 => 0usize..4, 1 => Just(4usize)];
    (who(PARTIES), mentorship, start_spec(), minutes())
        .prop_map(|(who, mentorship, start, minutes)| {
            (
                who,
                Cmd::Book {
                    mentorship,
                    start,
                    minutes,
                },
            )
        })
        .boxed()
}

fn simple(usual: &'static [Who], cmd: Cmd) -> Act {
    who(usual).prop_map(move |who| (who, cmd)).boxed()
}

fn reschedule() -> Act {
    (who(PARTIES), start_spec())
        .prop_map(|(who, start)| (who, Cmd::Reschedule(start)))
        .boxed()
}

fn feedback() -> Act {
    let rating = prop_oneof![12 => 1i64..=5, 1 => prop::sample::select(&[0i64, 6][..])];
    (who(PARTIES), rating)
        .prop_map(|(who, rating)| (who, Cmd::Feedback(rating)))
        .boxed()
}

fn clock() -> Act {
    let nobody = Who::Fixed(Person::Admin);
    prop_oneof![
        3 => prop::sample::select(&[-20i64, -10, -10, 0, 5, 30, 24 * 60, 25 * 60][..])
            .prop_map(move |m| (nobody, Cmd::JumpTo(m))),
        1 => prop::sample::select(&[15i64, 60, 6 * 60, 24 * 60 + 15][..]).prop_map(move |m| (nobody, Cmd::Advance(m))),
    ]
    .boxed()
}

fn sweep() -> Act {
    Just((Who::Fixed(Person::Admin), Cmd::Sweep)).boxed()
}

fn free_slots() -> Act {
    (prop::sample::select(EVERYONE), any::<bool>(), 1u8..=4)
        .prop_map(|(p, ally_b, days)| (Who::Fixed(p), Cmd::FreeSlots { ally_b, days }))
        .boxed()
}

const MENTORING: &[Person] = &[
    Person::AllyA,
    Person::AllyB,
    Person::E1,
    Person::E2,
    Person::E3,
    Person::Stranger,
];

fn meeting() -> Act {
    (
        prop::sample::select(MENTORING),
        prop::sample::select(MENTORING),
        any::<bool>(),
        start_spec(),
        prop::sample::select(&[30i64, 60, 90][..]),
    )
        .prop_map(|(organizer, participant, ally_b, start, minutes)| {
            (
                Who::Fixed(organizer),
                Cmd::Meeting {
                    participant,
                    ally_b,
                    start,
                    minutes,
                },
            )
        })
        .boxed()
}

fn cancel_meeting() -> Act {
    // `Who::Ally` stands for the meeting's organizer here, `Who::Entrepreneur` for its
    // participant.
    prop_oneof![
        6 => Just(Who::Ally),
        2 => Just(Who::Entrepreneur),
        1 => Just(Who::Fixed(Person::Admin)),
        1 => prop::sample::select(EVERYONE).prop_map(Who::Fixed),
    ]
    .prop_map(|who| (who, Cmd::CancelMeeting))
    .boxed()
}

fn any_command() -> Act {
    prop_oneof![
        4 => book(),
        2 => simple(ALLY, Cmd::Confirm),
        2 => simple(PARTIES, Cmd::Start),
        2 => simple(PARTIES, Cmd::Complete),
        2 => simple(PARTIES, Cmd::Cancel),
        2 => reschedule(),
        2 => feedback(),
        2 => clock(),
        1 => sweep(),
        1 => free_slots(),
        2 => meeting(),
        1 => cancel_meeting(),
    ]
    .boxed()
}

fn step(command: Act) -> impl Strategy<Value = Step> {
    let target = prop_oneof![2 => Just(0usize), 1 => 0usize..64];
    let aim = prop_oneof![17 => Just(Aim::Fit), 2 => Just(Aim::Terminal), 1 => Just(Aim::Any)];
    (target, aim, command).prop_map(|(target, aim, (who, cmd))| Step { target, aim, who, cmd })
}

fn slot(command: Act) -> impl Strategy<Value = Option<Step>> {
    prop::option::weighted(0.95, step(prop_oneof![6 => command, 1 => any_command()].boxed()))
}

/// Up to ten steps shaped like one session's life — sometimes a meeting first, two bookings,
/// confirm, a clock move, start, complete, two feedbacks — then one of the side roads.
fn round() -> impl Strategy<Value = Vec<Step>> {
    let tail = prop_oneof![
        3 => simple(PARTIES, Cmd::Cancel),
        3 => reschedule(),
        2 => sweep(),
        2 => free_slots(),
        2 => meeting(),
        2 => cancel_meeting(),
        1 => clock(),
    ]
    .boxed();
    (
        prop::option::weighted(0.3, step(meeting())),
        slot(book()),
        slot(book()),
        slot(simple(ALLY, Cmd::Confirm)),
        slot(clock()),
        slot(simple(PARTIES, Cmd::Start)),
        slot(simple(PARTIES, Cmd::Complete)),
        slot(feedback()),
        slot(feedback()),
        slot(tail),
    )
        .prop_map(|(m, a, b, c, d, e, f, g, h, i)| [m, a, b, c, d, e, f, g, h, i].into_iter().flatten().collect())
}

/// Five bookings with one ally on one local day: the day fills up and the per-day cap refuses.
fn fill_round() -> impl Strategy<Value = Vec<Step>> {
    let booking = |ally_b: bool| {
        let mentorship = if ally_b { 2usize..4 } else { 0usize..2 };
        (
            who(PARTIES),
            mentorship,
            any::<u8>(),
            prop_oneof![3 => Just(Some(60u16)), 1 => Just(None), 1 => Just(Some(45u16))],
        )
    };
    (any::<bool>(), 1u8..=2).prop_flat_map(move |(ally_b, day)| {
        prop::collection::vec(booking(ally_b), 5).prop_map(move |bookings| {
            bookings
                .into_iter()
                .map(|(who, mentorship, k, minutes)| Step {
                    target: 0,
                    aim: Aim::Fit,
                    who,
                    cmd: Cmd::Book {
                        mentorship,
                        start: StartSpec::Free { day, k },
                        minutes,
                    },
                })
                .collect::<Vec<_>>()
        })
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let rounds = || prop_oneof![4 => round(), 1 => fill_round()];
    prop_oneof![1 => prop::collection::vec(rounds(), 1..=5), 3 => prop::collection::vec(rounds(), 5)].prop_map(
        |rounds| Scenario {
            steps: rounds.into_iter().flatten().collect(),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Reference model

#[derive(Debug, Clone, PartialEq, Eq)]
struct SessionModel {
    mentorship: usize,
    ally: Person,
    entrepreneur: Person,
    start: DateTime<Utc>,
    minutes: u16,
    status: SessionStatus,
    late: bool,
    reschedules: u32,
    ally_feedback: bool,
    entrepreneur_feedback: bool,
}

impl SessionModel {
    fn end(&self) -> DateTime<Utc> {
        self.start + Duration::minutes(i64::from(self.minutes))
    }

    fn involves(&self, p: Person) -> bool {
        self.ally == p || self.entrepreneur == p
    }

    fn occupies(&self) -> bool {
        self.status != SessionStatus::Cancelled
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct MeetingModel {
    organizer: Person,
    /// The organizer first, then the participants.
    attendees: Vec<Person>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    cancelled: bool,
}

#[derive(Debug, Clone)]
struct Model {
    now: DateTime<Utc>,
    sessions: Vec<SessionModel>,
    meetings: Vec<MeetingModel>,
    /// (sum, count) of the entrepreneurs' ratings of ally A and of ally B.
    ratings: [(u32, u32); 2],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionCmd {
    Confirm,
    Start,
    Complete,
    Cancel,
    Reschedule(DateTime<Utc>),
}

impl SessionCmd {
    fn name(self) -> &'static str {
        match self {
            SessionCmd::Confirm => "confirm",
            SessionCmd::Start => "start",
            SessionCmd::Complete => "complete",
            SessionCmd::Cancel => "cancel",
            SessionCmd::Reschedule(_) => "reschedule",
        }
    }
}

/// A step resolved against the model: concrete ids, instants and actors.
#[derive(Debug, Clone, Copy)]
enum Action {
    Book {
        mentorship: usize,
        actor: Person,
        starts_at: DateTime<Utc>,
        minutes: Option<u16>,
    },
    Command {
        session: usize,
        actor: Person,
        cmd: SessionCmd,
    },
    Feedback {
        session: usize,
        actor: Person,
        rating: i64,
    },
    Advance(Duration),
    Sweep,
    FreeSlots {
        actor: Person,
        ally: Person,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    Meeting {
        organizer: Person,
        participant: Option<Person>,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
    CancelMeeting {
        meeting: usize,
        actor: Person,
    },
    /// A command on a session or meeting when there is none yet.
    Skip,
}

/// An answer of a use case, reduced to what the model predicts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    NotFound(&'static str),
    Forbidden,
    /// Validation failed for these reasons (see [`reason`]).
    Invalid(BTreeSet<String>),
    InvalidTransition {
        entity: &'static str,
        from: &'static str,
        command: &'static str,
    },
    /// The sweep marked this many sessions.
    Swept(u32),
    /// `free_slots` offered these starts.
    Slots(Vec<DateTime<Utc>>),
    Unexpected(String),
}

/// The booking rule (or field) a validation message stands for.
fn reason(field: &str, message: &str) -> String {
    let rule = match field {
        "starts_at" if message.contains("from now") => "notice",
        "starts_at" if message.contains("availability") => "availability",
        "starts_at" if message.starts_with("overlaps another session of the ally") => "overlap_ally",
        "starts_at" if message.starts_with("overlaps another session of the entrepreneur") => "overlap_entrepreneur",
        "starts_at" if message.starts_with("overlaps a meeting of the ally") => "meeting_ally",
        "starts_at" if message.starts_with("overlaps a meeting of the entrepreneur") => "meeting_entrepreneur",
        "starts_at" if message.contains("sessions on") => "day_cap",
        "starts_at" if message.contains("15 minutes early") => "too_early",
        "starts_at" if message.contains("too late to start") => "too_late",
        "duration_minutes" | "rating" => return field.to_owned(),
        _ => return format!("{field}:{message}"),
    };
    format!("starts_at:{rule}")
}

impl Outcome {
    fn of<T>(result: &Result<T, Error>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(Error::NotFound { entity, .. }) => Outcome::NotFound(entity),
            Err(Error::Forbidden(_)) => Outcome::Forbidden,
            Err(Error::Validation(errors)) => {
                Outcome::Invalid(errors.fields().iter().map(|f| reason(&f.field, &f.message)).collect())
            }
            Err(Error::InvalidTransition { entity, from, command }) => {
                Outcome::InvalidTransition { entity, from, command }
            }
            Err(other) => Outcome::Unexpected(format!("{other:?}")),
        }
    }

    fn label(&self) -> String {
        match self {
            Outcome::Ok | Outcome::Swept(_) | Outcome::Slots(_) => "ok".into(),
            Outcome::NotFound(entity) => format!("not_found({entity})"),
            Outcome::Forbidden => "forbidden".into(),
            Outcome::Invalid(reasons) => format!("invalid({})", reasons.iter().cloned().collect::<Vec<_>>().join(",")),
            Outcome::InvalidTransition { entity, from, .. } => format!("invalid_transition({entity} from {from})"),
            Outcome::Unexpected(e) => format!("unexpected({e})"),
        }
    }
}

fn conflicts(a_start: DateTime<Utc>, a_end: DateTime<Utc>, b_start: DateTime<Utc>, b_end: DateTime<Utc>) -> bool {
    let buffer = Duration::minutes(BUFFER_MINUTES);
    a_start < b_end + buffer && b_start < a_end + buffer
}

/// Whether `[start, start + minutes)` lies inside one weekly slot of `ally`, in local time.
fn within_availability(ally: Person, start: DateTime<Utc>, minutes: i64) -> bool {
    let local_start = start.with_timezone(&offset(ally)).naive_local();
    let local_end = local_start + Duration::minutes(minutes);
    if local_end.date() != local_start.date() {
        return false;
    }
    let weekday = local_start.weekday().num_days_from_monday() as u8;
    spec(ally).slots.iter().any(|&(day, sh, sm, eh, em)| {
        day == weekday && hm(sh, sm) <= local_start.time() && local_end.time() <= hm(eh, em)
    })
}

fn session_transition(from: SessionStatus, cmd: SessionCmd) -> Option<SessionStatus> {
    use SessionStatus as S;
    match (from, cmd) {
        (S::Scheduled, SessionCmd::Confirm) => Some(S::Confirmed),
        (S::Confirmed, SessionCmd::Start) => Some(S::InProgress),
        (S::InProgress, SessionCmd::Complete) => Some(S::Completed),
        (S::Scheduled | S::Confirmed, SessionCmd::Cancel) => Some(S::Cancelled),
        (S::Scheduled | S::Confirmed, SessionCmd::Reschedule(_)) => Some(S::Scheduled),
        _ => None,
    }
}

fn rated(ally: Person) -> usize {
    usize::from(ally == Person::AllyB)
}

impl Model {
    fn new(now: DateTime<Utc>) -> Self {
        Model {
            now,
            sessions: Vec::new(),
            meetings: Vec::new(),
            ratings: [(0, 0); 2],
        }
    }

    /// Every booking rule that refuses `[start, start + minutes)` for the pair, `ignore` being
    /// the session being moved. `minutes` is `None` when the duration itself is invalid.
    fn booking_reasons(
        &self,
        ally: Person,
        entrepreneur: Person,
        start: DateTime<Utc>,
        minutes: Option<i64>,
        ignore: Option<usize>,
    ) -> BTreeSet<String> {
        let mut reasons = BTreeSet::new();
        if start < self.now + Duration::hours(NOTICE_HOURS) {
            reasons.insert("starts_at:notice".to_owned());
        }
        let others = || {
            self.sessions
                .iter()
                .enumerate()
                .filter(move |(i, s)| Some(*i) != ignore && s.occupies())
                .map(|(_, s)| s)
        };
        if let Some(minutes) = minutes {
            let end = start + Duration::minutes(minutes);
            if !within_availability(ally, start, minutes) {
                reasons.insert("starts_at:availability".to_owned());
            }
            if others().any(|s| s.involves(ally) && conflicts(start, end, s.start, s.end())) {
                reasons.insert("starts_at:overlap_ally".to_owned());
            }
            // A clash with a session of both parties is reported once, for the ally.
            if others()
                .any(|s| s.involves(entrepreneur) && !s.involves(ally) && conflicts(start, end, s.start, s.end()))
            {
                reasons.insert("starts_at:overlap_entrepreneur".to_owned());
            }
            // Meetings block their attendees' calendars whatever the answer; one both attend is
            // reported for the ally.
            let meetings = || {
                self.meetings
                    .iter()
                    .filter(|m| !m.cancelled && conflicts(start, end, m.start, m.end))
            };
            if meetings().any(|m| m.attendees.contains(&ally)) {
                reasons.insert("starts_at:meeting_ally".to_owned());
            }
            if meetings().any(|m| m.attendees.contains(&entrepreneur) && !m.attendees.contains(&ally)) {
                reasons.insert("starts_at:meeting_entrepreneur".to_owned());
            }
        }
        let day = local_date(ally, start);
        if others()
            .filter(|s| s.ally == ally && local_date(ally, s.start) == day)
            .count()
            >= MAX_PER_DAY
        {
            reasons.insert("starts_at:day_cap".to_owned());
        }
        reasons
    }

    /// The instant a [`StartSpec`] stands for, for a session of `ally`.
    fn start(&self, spec_: StartSpec, ally: Person) -> DateTime<Utc> {
        let quarter = Duration::minutes(15);
        let floor = |t: DateTime<Utc>| {
            let secs = t.timestamp();
            Utc.timestamp_opt(secs - secs.rem_euclid(15 * 60), 0)
                .single()
                .expect("a valid instant")
        };
        match spec_ {
            StartSpec::Grid(k) => floor(self.now) + quarter * k as i32,
            StartSpec::Near { session, delta } if !self.sessions.is_empty() || !self.meetings.is_empty() => {
                let starts: Vec<DateTime<Utc>> = self
                    .sessions
                    .iter()
                    .map(|s| s.start)
                    .chain(self.meetings.iter().map(|m| m.start))
                    .collect();
                starts[session % starts.len()] + quarter * i32::from(delta)
            }
            StartSpec::Near { .. } => floor(self.now) + Duration::hours(30),
            StartSpec::Free { day, k } => {
                let (date, slots) = self.working_day(ally, day);
                let from = date.and_time(NaiveTime::MIN);
                let candidates = self.grid_starts(ally, from, from + Duration::days(1), false);
                match candidates.len() {
                    0 => {
                        let &(_, sh, sm, ..) = slots[0];
                        Self::instant(ally, date.and_time(hm(sh, sm)))
                    }
                    n => candidates[usize::from(k) % n],
                }
            }
            StartSpec::InSlot { day, slot, quarter: q } => {
                let (date, slots) = self.working_day(ally, day);
                let &(_, sh, sm, eh, em) = slots[usize::from(slot) % slots.len()];
                let quarters = (hm(eh, em) - hm(sh, sm)).num_minutes() / 15;
                Self::instant(
                    ally,
                    date.and_time(hm(sh, sm)) + quarter * (i64::from(q) % quarters) as i32,
                )
            }
        }
    }

    /// The instant of a local time of `ally`.
    fn instant(ally: Person, local: NaiveDateTime) -> DateTime<Utc> {
        offset(ally)
            .from_local_datetime(&local)
            .single()
            .expect("a fixed offset has no gaps")
            .with_timezone(&Utc)
    }

    /// The first local date `day` days after today (or later) on which `ally` has slots, and
    /// those slots.
    fn working_day(&self, ally: Person, day: u8) -> (NaiveDate, Vec<&'static Slot>) {
        let mut date = local_date(ally, self.now) + Duration::days(i64::from(day));
        loop {
            let weekday = date.weekday().num_days_from_monday() as u8;
            let slots: Vec<&Slot> = spec(ally).slots.iter().filter(|s| s.0 == weekday).collect();
            if !slots.is_empty() {
                return (date, slots);
            }
            date += Duration::days(1);
        }
    }

    /// The session a command works on: among those `step.aim` selects (`fits` for
    /// [`Aim::Fit`]), or among all when none is selected; `None` when there is no session yet.
    fn pick(&self, step: &Step, fits: impl Fn(&SessionModel) -> bool) -> Option<usize> {
        if self.sessions.is_empty() {
            return None;
        }
        let chosen: Vec<usize> = match step.aim {
            Aim::Fit => (0..self.sessions.len()).filter(|&i| fits(&self.sessions[i])).collect(),
            Aim::Terminal => (0..self.sessions.len())
                .filter(|&i| self.sessions[i].status.is_terminal())
                .collect(),
            Aim::Any => Vec::new(),
        };
        if chosen.is_empty() {
            Some(step.target % self.sessions.len())
        } else {
            Some(chosen[step.target % chosen.len()])
        }
    }

    fn actor(who: Who, ally: Person, entrepreneur: Person) -> Person {
        match who {
            Who::Ally => ally,
            Who::Entrepreneur => entrepreneur,
            Who::Fixed(p) => p,
        }
    }

    /// Turns a generated step into a concrete action (see [`Aim`]).
    fn resolve(&self, step: &Step) -> Action {
        use SessionStatus as S;
        let waiting = |s: &SessionModel| matches!(s.status, S::Scheduled | S::Confirmed);
        let session_cmd = |cmd: SessionCmd, fits: &dyn Fn(&SessionModel) -> bool| match self.pick(step, fits) {
            Some(i) => {
                let s = &self.sessions[i];
                Action::Command {
                    session: i,
                    actor: Self::actor(step.who, s.ally, s.entrepreneur),
                    cmd,
                }
            }
            None => Action::Skip,
        };
        match step.cmd {
            Cmd::Book {
                mentorship,
                start,
                minutes,
            } => {
                let (ally, entrepreneur, _) = MENTORSHIPS[mentorship];
                Action::Book {
                    mentorship,
                    actor: Self::actor(step.who, ally, entrepreneur),
                    starts_at: self.start(start, ally),
                    minutes,
                }
            }
            Cmd::Confirm => session_cmd(SessionCmd::Confirm, &|s| s.status == S::Scheduled),
            // Prefer sessions that may start now; then any confirmed one (too early).
            Cmd::Start => {
                let now = self.now;
                let ready = |s: &SessionModel| s.status == S::Confirmed && now >= s.start - Duration::minutes(15);
                if self.sessions.iter().any(ready) {
                    session_cmd(SessionCmd::Start, &ready)
                } else {
                    session_cmd(SessionCmd::Start, &|s| s.status == S::Confirmed)
                }
            }
            Cmd::Complete => session_cmd(SessionCmd::Complete, &|s| s.status == S::InProgress),
            Cmd::Cancel => session_cmd(SessionCmd::Cancel, &waiting),
            Cmd::Reschedule(start) => match self.pick(step, waiting) {
                Some(i) => {
                    let s = &self.sessions[i];
                    Action::Command {
                        session: i,
                        actor: Self::actor(step.who, s.ally, s.entrepreneur),
                        cmd: SessionCmd::Reschedule(self.start(start, s.ally)),
                    }
                }
                None => Action::Skip,
            },
            Cmd::Feedback(rating) => {
                let missing = |s: &SessionModel| {
                    s.status == S::Completed
                        && match step.who {
                            Who::Ally => !s.ally_feedback,
                            Who::Entrepreneur => !s.entrepreneur_feedback,
                            Who::Fixed(_) => true,
                        }
                };
                match self.pick(step, missing) {
                    Some(i) => {
                        let s = &self.sessions[i];
                        Action::Feedback {
                            session: i,
                            actor: Self::actor(step.who, s.ally, s.entrepreneur),
                            rating,
                        }
                    }
                    None => Action::Skip,
                }
            }
            Cmd::Advance(minutes) => Action::Advance(Duration::minutes(minutes)),
            Cmd::JumpTo(minutes) => {
                // Confirmed sessions first (so they can start), then scheduled ones.
                let target = if self
                    .sessions
                    .iter()
                    .any(|s| s.status == S::Confirmed && s.start > self.now)
                {
                    self.pick(step, |s| s.status == S::Confirmed && s.start > self.now)
                } else {
                    self.pick(step, |s| waiting(s) && s.start > self.now)
                };
                let to = target.map(|i| self.sessions[i].start + Duration::minutes(minutes));
                match to {
                    Some(to) if to > self.now => Action::Advance(to - self.now),
                    _ => Action::Advance(Duration::minutes(15)),
                }
            }
            Cmd::Sweep => Action::Sweep,
            Cmd::Meeting {
                participant,
                ally_b,
                start,
                minutes,
            } => {
                let organizer = match step.who {
                    Who::Fixed(p) => p,
                    _ => Person::E1,
                };
                let starts_at = self.start(start, if ally_b { Person::AllyB } else { Person::AllyA });
                Action::Meeting {
                    organizer,
                    participant: (participant != organizer).then_some(participant),
                    starts_at,
                    ends_at: starts_at + Duration::minutes(minutes),
                }
            }
            Cmd::CancelMeeting if self.meetings.is_empty() => Action::Skip,
            Cmd::CancelMeeting => {
                let fitting: Vec<usize> = (0..self.meetings.len())
                    .filter(|&i| !self.meetings[i].cancelled)
                    .collect();
                let meeting = if step.aim == Aim::Fit && !fitting.is_empty() {
                    fitting[step.target % fitting.len()]
                } else {
                    step.target % self.meetings.len()
                };
                let m = &self.meetings[meeting];
                let actor = match step.who {
                    Who::Fixed(p) => p,
                    Who::Entrepreneur => m.attendees.last().copied().unwrap_or(m.organizer),
                    Who::Ally => m.organizer,
                };
                Action::CancelMeeting { meeting, actor }
            }
            Cmd::FreeSlots { ally_b, days } => {
                let actor = match step.who {
                    Who::Fixed(p) => p,
                    _ => Person::E1,
                };
                Action::FreeSlots {
                    actor,
                    ally: if ally_b { Person::AllyB } else { Person::AllyA },
                    from: self.now,
                    to: self.now + Duration::days(i64::from(days)),
                }
            }
        }
    }

    /// The starts `free_slots` should offer for `ally` in `[from, to)`: every 30 minutes from
    /// each slot's local start where a profile-length session fits the slot and `to`, after the
    /// notice, clear of the ally's sessions by the buffer, on a day below the cap (when
    /// `honour_cap`).
    fn grid_starts(
        &self,
        ally: Person,
        from: NaiveDateTime,
        to: NaiveDateTime,
        honour_cap: bool,
    ) -> Vec<DateTime<Utc>> {
        self.free_slots(ally, Self::instant(ally, from), Self::instant(ally, to), honour_cap)
    }

    /// See [`Model::grid_starts`]; `[from, to)` as instants.
    fn free_slots(&self, ally: Person, from: DateTime<Utc>, to: DateTime<Utc>, honour_cap: bool) -> Vec<DateTime<Utc>> {
        let length = Duration::minutes(PROFILE_MINUTES);
        let mut starts = Vec::new();
        let mut date = local_date(ally, from) - Duration::days(1);
        while date <= local_date(ally, to) + Duration::days(1) {
            let weekday = date.weekday().num_days_from_monday() as u8;
            for &(_, sh, sm, eh, em) in spec(ally).slots.iter().filter(|s| s.0 == weekday) {
                let mut local = date.and_time(hm(sh, sm));
                while local + length <= date.and_time(hm(eh, em)) {
                    let start = Self::instant(ally, local);
                    let end = start + length;
                    let clear = self
                        .sessions
                        .iter()
                        .filter(|s| s.occupies() && s.involves(ally))
                        .all(|s| !conflicts(start, end, s.start, s.end()))
                        && self
                            .meetings
                            .iter()
                            .filter(|m| !m.cancelled && m.attendees.contains(&ally))
                            .all(|m| !conflicts(start, end, m.start, m.end));
                    let day = local_date(ally, start);
                    let that_day = self
                        .sessions
                        .iter()
                        .filter(|s| s.occupies() && s.ally == ally && local_date(ally, s.start) == day)
                        .count();
                    if start >= from
                        && end <= to
                        && start >= self.now + Duration::hours(NOTICE_HOURS)
                        && clear
                        && (!honour_cap || that_day < MAX_PER_DAY)
                    {
                        starts.push(start);
                    }
                    local += Duration::minutes(30);
                }
            }
            date += Duration::days(1);
        }
        starts.sort();
        starts.dedup();
        starts
    }

    /// Predicts the outcome of `action` and applies it when it succeeds.
    fn apply(&mut self, action: &Action) -> Outcome {
        use SessionStatus as S;
        match *action {
            Action::Skip => Outcome::Ok,
            Action::Advance(by) => {
                self.now += by;
                Outcome::Ok
            }
            Action::Book {
                mentorship,
                actor,
                starts_at,
                minutes,
            } => {
                let (ally, entrepreneur, active) = MENTORSHIPS[mentorship];
                if actor != ally && actor != entrepreneur && actor != Person::Admin {
                    return Outcome::NotFound("mentorship");
                }
                let length = minutes.unwrap_or(60);
                let length_ok = (15..=240).contains(&length);
                let mut reasons = self.booking_reasons(
                    ally,
                    entrepreneur,
                    starts_at,
                    length_ok.then_some(i64::from(length)),
                    None,
                );
                if !length_ok {
                    reasons.insert("duration_minutes".to_owned());
                }
                if !reasons.is_empty() {
                    return Outcome::Invalid(reasons);
                }
                if !active {
                    return Outcome::InvalidTransition {
                        entity: "mentorship",
                        from: "requested",
                        command: "book_session",
                    };
                }
                self.sessions.push(SessionModel {
                    mentorship,
                    ally,
                    entrepreneur,
                    start: starts_at,
                    minutes: length,
                    status: S::Scheduled,
                    late: false,
                    reschedules: 0,
                    ally_feedback: false,
                    entrepreneur_feedback: false,
                });
                Outcome::Ok
            }
            Action::Command { session, actor, cmd } => {
                let s = &self.sessions[session];
                if !s.involves(actor) && actor != Person::Admin {
                    return Outcome::NotFound("session");
                }
                if cmd == SessionCmd::Confirm && actor != s.ally && actor != Person::Admin {
                    return Outcome::Forbidden;
                }
                if let SessionCmd::Reschedule(to) = cmd {
                    let reasons =
                        self.booking_reasons(s.ally, s.entrepreneur, to, Some(i64::from(s.minutes)), Some(session));
                    if !reasons.is_empty() {
                        return Outcome::Invalid(reasons);
                    }
                }
                let Some(next) = session_transition(s.status, cmd) else {
                    return Outcome::InvalidTransition {
                        entity: "session",
                        from: s.status.as_str(),
                        command: cmd.name(),
                    };
                };
                if cmd == SessionCmd::Start && self.now < s.start - Duration::minutes(15) {
                    return Outcome::Invalid(BTreeSet::from(["starts_at:too_early".to_owned()]));
                }
                // Past the no-show point (24 h after the start) a session can no longer start.
                if cmd == SessionCmd::Start && self.now >= s.start + Duration::hours(24) {
                    return Outcome::Invalid(BTreeSet::from(["starts_at:too_late".to_owned()]));
                }
                let now = self.now;
                let s = &mut self.sessions[session];
                s.status = next;
                match cmd {
                    SessionCmd::Cancel => s.late = s.start - now < Duration::hours(LATE_WINDOW_HOURS),
                    SessionCmd::Reschedule(to) => {
                        s.start = to;
                        s.reschedules += 1;
                    }
                    _ => {}
                }
                Outcome::Ok
            }
            Action::Feedback { session, actor, rating } => {
                let s = &self.sessions[session];
                if !s.involves(actor) {
                    return if actor == Person::Admin {
                        Outcome::Forbidden
                    } else {
                        Outcome::NotFound("session")
                    };
                }
                if !(1..=5).contains(&rating) {
                    return Outcome::Invalid(BTreeSet::from(["rating".to_owned()]));
                }
                if s.status != S::Completed {
                    return Outcome::InvalidTransition {
                        entity: "session",
                        from: s.status.as_str(),
                        command: "feedback",
                    };
                }
                let by_entrepreneur = actor == s.entrepreneur;
                let given = if by_entrepreneur {
                    s.entrepreneur_feedback
                } else {
                    s.ally_feedback
                };
                if given {
                    return Outcome::InvalidTransition {
                        entity: "session_feedback",
                        from: "given",
                        command: "feedback",
                    };
                }
                let ally = s.ally;
                let s = &mut self.sessions[session];
                if by_entrepreneur {
                    s.entrepreneur_feedback = true;
                    let (sum, count) = &mut self.ratings[rated(ally)];
                    *sum += rating as u32;
                    *count += 1;
                } else {
                    s.ally_feedback = true;
                }
                Outcome::Ok
            }
            Action::Sweep => {
                let due = self.now - Duration::hours(NO_SHOW_HOURS);
                let mut swept = 0;
                for s in &mut self.sessions {
                    if matches!(s.status, S::Scheduled | S::Confirmed) && s.start <= due {
                        s.status = S::NoShow;
                        swept += 1;
                    }
                }
                Outcome::Swept(swept)
            }
            Action::FreeSlots { ally, from, to, .. } => Outcome::Slots(self.free_slots(ally, from, to, true)),
            Action::Meeting {
                organizer,
                participant,
                starts_at,
                ends_at,
            } => {
                if starts_at < self.now + Duration::minutes(5) {
                    return Outcome::Invalid(BTreeSet::from(["starts_at:notice".to_owned()]));
                }
                self.meetings.push(MeetingModel {
                    organizer,
                    attendees: std::iter::once(organizer).chain(participant).collect(),
                    start: starts_at,
                    end: ends_at,
                    cancelled: false,
                });
                Outcome::Ok
            }
            Action::CancelMeeting { meeting, actor } => {
                let m = &mut self.meetings[meeting];
                if !m.attendees.contains(&actor) && actor != Person::Admin {
                    return Outcome::NotFound("meeting");
                }
                if actor != m.organizer && actor != Person::Admin {
                    return Outcome::Forbidden;
                }
                if m.cancelled {
                    return Outcome::InvalidTransition {
                        entity: "meeting",
                        from: "cancelled",
                        command: "cancel",
                    };
                }
                m.cancelled = true;
                Outcome::Ok
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The world

struct World {
    eco: Eco,
    clock: Arc<ManualClock>,
    users: BTreeMap<Person, User>,
    mentorships: Vec<MentorshipId>,
    /// Session ids in booking order (the model's indices).
    sessions: Vec<SessionId>,
    /// Meeting ids in scheduling order.
    meetings: Vec<MeetingId>,
}

const T0: (i32, u32, u32) = (2031, 3, 3);

impl World {
    async fn new() -> World {
        let (eco, clock) = support::ecosystem(support::instant(T0, 7));
        let cast = [
            (Person::AllyA, "Amalia", "Andrade", Role::Ally),
            (Person::AllyB, "Bhaskar", "Bose", Role::Ally),
            (Person::E1, "Elena", "Uno", Role::Entrepreneur),
            (Person::E2, "Emilio", "Dos", Role::Entrepreneur),
            (Person::E3, "Esther", "Tres", Role::Entrepreneur),
            (Person::Admin, "Ada", "Operator", Role::Admin),
            (Person::Stranger, "Sigrid", "Stranger", Role::Ally),
        ];
        let mut users = BTreeMap::new();
        for (who, first, last, role) in cast {
            users.insert(who, create_user(&eco, first, last, role).await);
        }
        for ally in [Person::AllyA, Person::AllyB] {
            eco.set_my_availability(
                &Context::user(&users[&ally]),
                spec(ally).zone.to_owned(),
                weekly_slots(spec(ally)),
                None,
            )
            .await
            .expect("availability");
        }
        let mut mentorships = Vec::new();
        for (ally, entrepreneur, accepted) in MENTORSHIPS {
            let m = eco
                .request_mentorship(
                    &Context::user(&users[&entrepreneur]),
                    RequestMentorship {
                        ally_id: users[&ally].id,
                        message: None,
                        areas: vec!["Fundraising".into()],
                        project_id: None,
                        duration_months: None,
                    },
                )
                .await
                .expect("request mentorship");
            if accepted {
                eco.mentorship_command(&Context::user(&users[&ally]), m.id, MentorshipCommand::Accept, None)
                    .await
                    .expect("accept mentorship");
            }
            mentorships.push(m.id);
        }
        World {
            eco,
            clock,
            users,
            mentorships,
            sessions: Vec::new(),
            meetings: Vec::new(),
        }
    }

    fn ctx(&self, p: Person) -> Context {
        Context::user(&self.users[&p])
    }

    async fn run(&mut self, action: &Action) -> Outcome {
        let eco = &self.eco;
        match *action {
            Action::Skip => Outcome::Ok,
            Action::Advance(by) => {
                self.clock.advance(by);
                Outcome::Ok
            }
            Action::Book {
                mentorship,
                actor,
                starts_at,
                minutes,
            } => {
                let input = BookSession {
                    starts_at,
                    duration_minutes: minutes,
                    agenda: Some("Pricing and the next fundraising round".into()),
                };
                let result = eco
                    .book_session(&self.ctx(actor), self.mentorships[mentorship], input)
                    .await;
                if let Ok(session) = &result {
                    self.sessions.push(session.id);
                }
                Outcome::of(&result)
            }
            Action::Command { session, actor, cmd } => {
                let action = match cmd {
                    SessionCmd::Confirm => SessionAction::Confirm,
                    SessionCmd::Start => SessionAction::Start,
                    SessionCmd::Complete => SessionAction::Complete {
                        summary: Some("Went through the unit economics.".into()),
                    },
                    SessionCmd::Cancel => SessionAction::Cancel {
                        reason: Some("Something came up".into()),
                    },
                    SessionCmd::Reschedule(starts_at) => SessionAction::Reschedule { starts_at },
                };
                Outcome::of(
                    &eco.session_command(&self.ctx(actor), self.sessions[session], action, None)
                        .await,
                )
            }
            Action::Feedback { session, actor, rating } => Outcome::of(
                &eco.session_feedback(
                    &self.ctx(actor),
                    self.sessions[session],
                    rating,
                    Some("Useful and concrete.".into()),
                )
                .await,
            ),
            Action::Sweep => match eco.sweep_no_shows().await {
                Ok(report) => {
                    // Every swept session notifies both of its (existing) parties.
                    if report.notified != 2 * report.processed {
                        return Outcome::Unexpected(format!("sweep report {report:?}"));
                    }
                    Outcome::Swept(report.processed)
                }
                Err(e) => Outcome::Unexpected(format!("{e:?}")),
            },
            Action::Meeting {
                organizer,
                participant,
                starts_at,
                ends_at,
            } => {
                let input = ScheduleMeeting {
                    title: "Pitch rehearsal".into(),
                    description: None,
                    location: Some("https://meet.example/rehearsal".into()),
                    starts_at,
                    ends_at,
                    participant_ids: participant.map(|p| self.users[&p].id).into_iter().collect(),
                };
                let result = eco.schedule_meeting(&self.ctx(organizer), input).await;
                if let Ok((meeting, _)) = &result {
                    self.meetings.push(meeting.id);
                }
                Outcome::of(&result)
            }
            Action::CancelMeeting { meeting, actor } => Outcome::of(
                &eco.meeting_command(&self.ctx(actor), self.meetings[meeting], MeetingAction::Cancel, None)
                    .await,
            ),
            Action::FreeSlots { actor, ally, from, to } => {
                match eco
                    .free_slots(&self.ctx(actor), self.users[&ally].id, from, to, None)
                    .await
                {
                    Ok(starts) => Outcome::Slots(starts),
                    Err(e) => Outcome::of::<()>(&Err(e)),
                }
            }
        }
    }

    fn person(&self, id: icosistem_core::model::UserId) -> Person {
        *self
            .users
            .iter()
            .find(|(_, u)| u.id == id)
            .map(|(p, _)| p)
            .expect("a member of the cast")
    }
}

#[derive(Default)]
struct Coverage {
    outcomes: BTreeMap<(String, String), u64>,
    late_cancellations: u64,
    swept: u64,
    offered_slots: u64,
    booked: u64,
}

impl Coverage {
    /// Outcomes of `kind` whose label contains `needle`.
    fn count(&self, kind: &str, needle: &str) -> u64 {
        self.outcomes
            .iter()
            .filter(|((k, o), _)| k == kind && o.contains(needle))
            .map(|(_, n)| n)
            .sum()
    }
}

/// The invariants and the model, checked against what the store holds after a step.
async fn check_store(
    world: &World,
    model: &Model,
    previous: &mut HashMap<SessionId, (SessionStatus, DateTime<Utc>)>,
) -> Result<(), TestCaseError> {
    let admin = world.ctx(Person::Admin);
    let stored: Vec<Session> = world
        .eco
        .list_my_sessions(&admin, SessionFilter::default(), PageRequest::all())
        .await
        .expect("admin lists sessions")
        .items;
    prop_assert_eq!(stored.len(), model.sessions.len(), "number of sessions");

    // No two non-cancelled sessions of one person overlap, nor come closer than the buffer.
    let buffer = Duration::minutes(BUFFER_MINUTES);
    for who in [Person::AllyA, Person::AllyB, Person::E1, Person::E2, Person::E3] {
        let id = world.users[&who].id;
        let mut busy: Vec<&Session> = stored
            .iter()
            .filter(|s| s.status != SessionStatus::Cancelled && s.involves(id))
            .collect();
        busy.sort_by_key(|s| s.starts_at);
        for pair in busy.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            prop_assert!(
                a.ends_at <= b.starts_at,
                "{:?} has overlapping sessions: {} [{} – {}) {} and {} [{} – {}) {}",
                who,
                a.id,
                a.starts_at,
                a.ends_at,
                a.status,
                b.id,
                b.starts_at,
                b.ends_at,
                b.status
            );
            prop_assert!(
                a.ends_at + buffer <= b.starts_at,
                "{:?} has sessions closer than the buffer: [{} – {}) and [{} – {})",
                who,
                a.starts_at,
                a.ends_at,
                b.starts_at,
                b.ends_at
            );
        }
    }

    let by_id: HashMap<SessionId, &Session> = stored.iter().map(|s| (s.id, s)).collect();
    for (i, id) in world.sessions.iter().enumerate() {
        let s = by_id.get(id).copied();
        prop_assert!(s.is_some(), "session {} is missing from the store", i);
        let s = s.expect("checked");
        let m = &model.sessions[i];
        let seen = (
            world.person(s.ally_id),
            world.person(s.entrepreneur_id),
            s.status,
            s.starts_at,
            s.ends_at,
            s.duration_minutes,
            s.late_cancellation,
            s.reschedule_count,
            s.ally_feedback.is_some(),
            s.entrepreneur_feedback.is_some(),
        );
        let wanted = (
            m.ally,
            m.entrepreneur,
            m.status,
            m.start,
            m.end(),
            m.minutes,
            m.late,
            m.reschedules,
            m.ally_feedback,
            m.entrepreneur_feedback,
        );
        prop_assert_eq!(seen, wanted, "session {} (mentorship {})", i, m.mentorship);
        prop_assert_eq!(
            s.mentorship_id,
            world.mentorships[m.mentorship],
            "mentorship of session {}",
            i
        );
        if let Some((status, start)) = previous.insert(*id, (s.status, s.starts_at))
            && status.is_terminal()
        {
            prop_assert_eq!(
                (s.status, s.starts_at),
                (status, start),
                "session {} left the terminal status {}",
                i,
                status
            );
        }
    }

    let meetings = world
        .eco
        .list_my_meetings(&admin, MeetingFilter::default(), PageRequest::all())
        .await
        .expect("admin lists meetings")
        .items;
    prop_assert_eq!(meetings.len(), model.meetings.len(), "number of meetings");
    for (i, id) in world.meetings.iter().enumerate() {
        let m = meetings.iter().find(|m| m.id == *id);
        prop_assert!(m.is_some(), "meeting {} is missing from the store", i);
        let m = m.expect("checked");
        let wanted = &model.meetings[i];
        let attendees: Vec<Person> = m.attendee_ids.iter().map(|u| world.person(*u)).collect();
        let cancelled = m.status == MeetingStatus::Cancelled;
        prop_assert_eq!(
            (
                world.person(m.organizer_id),
                attendees,
                m.starts_at,
                m.ends_at,
                cancelled
            ),
            (
                wanted.organizer,
                wanted.attendees.clone(),
                wanted.start,
                wanted.end,
                wanted.cancelled
            ),
            "meeting {}",
            i
        );
    }

    // The allies' running rating sums.
    for ally in [Person::AllyA, Person::AllyB] {
        let profile = world
            .eco
            .get_profile(&admin, world.users[&ally].id)
            .await
            .expect("admin reads profiles");
        let Some(ProfileData::Ally(profile)) = profile.map(|p| p.data) else {
            return Err(TestCaseError::fail(format!("{ally:?} lost their ally profile")));
        };
        prop_assert_eq!(
            (profile.ratings_total, profile.ratings_count),
            model.ratings[rated(ally)],
            "ratings of {:?}",
            ally
        );
    }
    Ok(())
}

async fn run_scenario(s: &Scenario, coverage: &mut Coverage) -> Result<Model, TestCaseError> {
    let mut world = World::new().await;
    let mut model = Model::new(world.clock.now());
    let mut previous = HashMap::new();
    for (n, step) in s.steps.iter().enumerate() {
        let action = model.resolve(step);
        let before = model.clone();
        let predicted = model.apply(&action);
        let outcome = world.run(&action).await;
        prop_assert_eq!(model.now, world.clock.now(), "clock");
        let kind = match action {
            Action::Skip => "skip",
            _ => step.cmd.kind(),
        };
        *coverage.outcomes.entry((kind.to_owned(), outcome.label())).or_default() += 1;
        let target = match action {
            Action::Command { session, .. } | Action::Feedback { session, .. } => {
                before.sessions.get(session).map(|s| format!("{s:?}"))
            }
            Action::CancelMeeting { meeting, .. } => before.meetings.get(meeting).map(|m| format!("{m:?}")),
            _ => None,
        };
        prop_assert_eq!(
            &outcome,
            &predicted,
            "step {} {:?} → {:?} at {} (session before: {:?})",
            n,
            step,
            action,
            before.now,
            target
        );
        match (&action, &outcome) {
            (Action::Book { .. }, Outcome::Ok) => coverage.booked += 1,
            (Action::FreeSlots { .. }, Outcome::Slots(starts)) => coverage.offered_slots += starts.len() as u64,
            (Action::Sweep, Outcome::Swept(n)) => coverage.swept += u64::from(*n),
            _ => {}
        }
        check_store(&world, &model, &mut previous).await?;
    }
    // The model's flags equal the stored ones (checked above).
    coverage.late_cancellations += model.sessions.iter().filter(|s| s.late).count() as u64;
    Ok(model)
}

#[test]
fn sessions_never_overlap_and_match_the_reference_model() {
    let coverage = RefCell::new(Coverage::default());
    support::check_model("session_state_machine", scenario(), |s| {
        support::block_on(run_scenario(&s, &mut coverage.borrow_mut())).map(drop)
    });

    // The generators must reach the corners; a run that never fills a day or never sweeps a
    // no-show would prove nothing about them.
    let c = coverage.into_inner();
    let table = support::outcome_table(&c.outcomes, 12, 72);
    eprintln!(
        "{table}booked: {}, late cancellations: {}, swept no-shows: {}, free slots offered: {}",
        c.booked, c.late_cancellations, c.swept, c.offered_slots
    );
    for kind in [
        "book",
        "meeting",
        "cancel_meeting",
        "confirm",
        "start",
        "complete",
        "cancel",
        "reschedule",
        "feedback",
        "sweep",
        "free_slots",
    ] {
        assert!(
            c.count(kind, "ok") > 0,
            "no successful {kind} in the whole run:\n{table}"
        );
    }
    for (kind, needle) in [
        ("book", "starts_at:notice"),
        ("book", "starts_at:availability"),
        ("book", "starts_at:overlap_ally"),
        ("book", "starts_at:overlap_entrepreneur"),
        ("book", "starts_at:meeting_ally"),
        ("book", "starts_at:meeting_entrepreneur"),
        ("meeting", "ok"),
        ("cancel_meeting", "ok"),
        ("cancel_meeting", "forbidden"),
        ("book", "starts_at:day_cap"),
        ("book", "duration_minutes"),
        ("book", "not_found(mentorship)"),
        ("book", "invalid_transition(mentorship from requested)"),
        ("reschedule", "starts_at:overlap_ally"),
        ("reschedule", "starts_at:notice"),
        ("confirm", "forbidden"),
        ("confirm", "not_found(session)"),
        ("start", "starts_at:too_early"),
        ("feedback", "invalid_transition(session_feedback from given)"),
        ("feedback", "forbidden"),
        ("feedback", "rating"),
    ] {
        assert!(c.count(kind, needle) > 0, "never saw {kind} -> {needle}:\n{table}");
    }
    // Terminal sessions refuse every command, from each of the three terminal statuses.
    let terminal_refusals = ["completed", "cancelled", "no_show"]
        .iter()
        .map(|from| {
            ["confirm", "start", "complete", "cancel", "reschedule"]
                .iter()
                .map(|kind| c.count(kind, &format!("invalid_transition(session from {from})")))
                .sum::<u64>()
        })
        .collect::<Vec<_>>();
    assert!(
        terminal_refusals.iter().all(|&n| n > 0),
        "commands on terminal sessions (completed, cancelled, no_show): {terminal_refusals:?}\n{table}"
    );
    assert!(c.late_cancellations > 0, "no late cancellation happened");
    assert!(c.swept > 0, "the sweep never marked a no-show");
    assert!(c.offered_slots > 0, "free_slots never offered anything");
}
