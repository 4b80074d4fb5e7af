//! # icosistem-core
//!
//! The pure domain of Icosistem, an entrepreneurship ecosystem: organizations run programs,
//! entrepreneurs apply to them with their projects, applications are reviewed and decided under
//! capacity with a waitlist, accepted projects track milestones, everyone is notified and every
//! change is audited.
//!
//! This crate has no database, web framework or async runtime: it defines the rules and asks for
//! the outside world through traits (ports). Add a store crate (`icosistem-store-memory`, or
//! `icosistem-store-postgres`) and build an [`Ecosystem`] to run the use cases, then drive its
//! background work (outbox delivery, time-driven jobs) with [`runner::Runner::tick`] or the
//! `icosistem-runner` crate's Tokio loops. The rules are written out, section by section, in
//! [`docs/domain.md`](https://example.invalid/icosistem/blob/main/docs/domain.md) (in the
//! repository; code comments cite it as `docs/domain.md §N`).
//!
//! A host needs one import, [`prelude`]:
//!
//! ```
//! use icosistem_core::prelude::*;
//!
//! # fn demo(org: OrganizationId, now: DateTime<Utc>) {
//! let today = now.date_naive();
//! let input = CreateProgram::new(
//!     org,
//!     "Cohorte 2027",
//!     ProgramType::Acceleration,
//!     now..now + TimeDelta::days(30),
//!     today + TimeDelta::days(45)..=today + TimeDelta::days(135),
//!     10,
//! )
//! .with_min_reviews(2)
//! .with_blind_review(true);
//! // `eco.create_program(&ctx, input)`, later `eco.program_command(&ctx, id, ProgramCommand::Publish, Expect::Any)`.
//! # let _ = input;
//! # }
//! ```
//!
//! and the rules themselves are plain functions you can call anywhere:
//!
//! ```
//! use icosistem_core::model::value::{Email, Slug};
//! use icosistem_core::workflow::application::{transition, ApplicationCommand, ApplicationFacts, ApplicationStatus};
//! use icosistem_core::workflow::program::ProgramStatus;
//! use icosistem_core::Error;
//!
//! // Values are parsed once and valid from then on.
//! assert_eq!(Email::parse(" Ana@Example.ORG ").unwrap().as_str(), "ana@example.org");
//! assert_eq!(Slug::derive("Aceleradora Andina — Cohorte 2027").as_str(), "aceleradora-andina-cohorte-2027");
//!
//! // Transitions are pure: the last seat is refused with a typed error, never a silent no-op.
//! let full = ApplicationFacts {
//!     program_status: ProgramStatus::Published,
//!     program_accepting: true,
//!     accepted: 10,
//!     max_participants: 10,
//!     qualified_reviews: 2,
//!     min_reviews: 2,
//! };
//! let refused = transition(ApplicationStatus::UnderReview, ApplicationCommand::Accept, &full);
//! assert!(matches!(refused, Err(Error::ProgramFull)));
//! ```
//!
//! ## Layout
//!
//! - [`prelude`]: everything a host names, in one import; [`commands`]: every command enum in
//!   one place; [`Expect`]: the version a command expects;
//! - [`Ports`]: the store, notifier and clock as one type ([`EcosystemOf`]);
//! - [`runner`]: one pass of background work (the due jobs, then outbox delivery), without a
//!   scheduler;
//! - [`model`]: entities, one id newtype per entity (UUID v7), value types with fallible
//!   constructors (`Email`, `Slug`, `Money` …), secrets and password hashing, webhook endpoints
//!   and their Standard Webhooks signature, calendar entries (what an iCalendar invite or feed
//!   says of a session or meeting) and private calendar feeds;
//! - [`rules`]: validators returning every failing field;
//! - [`workflow`]: one module per state machine, pure transition functions returning the new
//!   state and the domain events;
//! - [`policy`]: `authorize(actor, action, facts)`, the permission table of `docs/domain.md` §2;
//! - [`ports`]: the store traits (units of work over per-entity repositories), `Clock`, `IdGen`,
//!   `PasswordHasher`, `Notifier`;
//! - [`service`]: the use cases — load, authorize, validate, transition, and persist the new
//!   state with its audit events and notifications in one unit of work;
//! - [`error`]: domain and store errors;
//! - `testing` (feature `testing`): the conformance suite every store runs.

pub mod commands;
pub mod error;
pub mod model;
pub mod policy;
pub mod ports;
pub mod prelude;
pub mod rules;
pub mod runner;
pub mod service;
pub mod workflow;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Error, Result, StoreError};
pub use ports::Ports;
pub use service::{Context, Ecosystem, EcosystemOf, Expect, Limits};

// The types of these two crates appear in public signatures (`DateTime<Utc>`, `NaiveDate`,
// `serde_json::Map` …): re-exported so a host uses the very versions the core was built with.
pub use chrono;
pub use serde_json;
