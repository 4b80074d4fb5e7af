//! The conformance cases: `pub async fn case<S: Store + Clone>(store: S)`, each run on a fresh,
//! empty store by [`store_conformance_tests!`](crate::store_conformance_tests).
//!
//! Grouped by what they pin down:
//! - store contracts through [`Repo`](crate::ports::Repo): not found, duplicate ids and keys,
//!   versions, soft delete, deletes, filters, pagination, rollback;
//! - the unit of work itself: refused writes leave it usable, reads see its own writes before
//!   and after the first one, read-only units end cleanly;
//! - uniqueness, stale versions and soft delete as the use cases surface them;
//! - selection: capacity under concurrency, the waitlist, reviews, blind review, visibility;
//!   review rounds: quorum and threshold per round, no skipping, blindness per round;
//! - audit events and notifications written with every change;
//! - accounts: verification, lockout, password change and reset; refresh-token rotation, reuse
//!   and the security stamp;
//! - projects, milestones and the program lifecycle;
//! - outbox delivery; validation reporting every failing field;
//! - webhooks: one message per matching endpoint, blind-safe bodies, signing at delivery with
//!   the rotation overlap, owners-only management, disabling after the failure window;
//! - calendars: the calendar entry of session and meeting emails (stable UID, growing
//!   SEQUENCE, cancelled last) and private feeds resolved, rotated and revoked by token;
//! - documents: uploads, versions, reads by access level and blind review, the per-project
//!   limit under concurrency, refused uploads leaving no row and no blob, the orphan sweep;
//! - mentoring: mentorships under capacity, suggestions and free slots, session booking rules
//!   (also under concurrency and across daylight-saving changes), meetings, tasks and their
//!   dependencies, and the time-driven jobs run twice at the same `now`;
//! - messaging: one direct conversation per pair under concurrent opens, who may open one,
//!   context conversations seated from their context, exact unread counts and the email
//!   digest, blocks either way, the edit window, the per-minute limit;
//! - whole-cohort mentor matching: the optimal proposal, stale proposals, concurrent confirms.
//! - analytics: the same figures on every store, the §9 refusals;
//! - lists at scale: visibility through programs evaluated by the store and paged alike on
//!   every store, and a fixed number of statements per page of applications.

mod accounts;
mod analytics;
mod audit;
mod calendar;
mod cohort_matching;
mod documents;
mod jobs;
mod lists;
mod meetings;
mod mentoring;
mod messaging;
mod not_found;
mod outbox;
mod programs;
mod projects;
mod refresh;
mod rounds;
mod selection;
mod sessions;
mod store;
mod tasks;
mod uniqueness;
mod units_of_work;
mod validation;
mod webhooks;

pub use accounts::*;
pub use analytics::*;
pub use audit::*;
pub use calendar::*;
pub use cohort_matching::*;
pub use documents::*;
pub use jobs::*;
pub use lists::*;
pub use meetings::*;
pub use mentoring::*;
pub use messaging::*;
pub use not_found::*;
pub use outbox::*;
pub use programs::*;
pub use projects::*;
pub use refresh::*;
pub use rounds::*;
pub use selection::*;
pub use sessions::*;
pub use store::*;
pub use tasks::*;
pub use uniqueness::*;
pub use units_of_work::*;
pub use validation::*;
pub use webhooks::*;
