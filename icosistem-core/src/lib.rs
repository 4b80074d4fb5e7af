//! # icosistem-core
//!
//! The pure domain of Icosistem, an entrepreneurship ecosystem: organizations run programs,
//! entrepreneurs apply to them with their projects, applications are reviewed and decided under
//! capacity with a waitlist, accepted projects track milestones, everyone is notified and every
//! change is audited.
//!
//! This crate has no database, web framework or async runtime: it defines the rules and asks for
//! the outside world through traits (ports). Add a store crate (`icosistem-store-memory`, or
//! `icosistem-store-postgres`) and build an [`Ecosystem`](service::Ecosystem) to run the use
//! cases; the rules themselves are plain functions you can call anywhere:
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
//! - [`model`]: entities, one id newtype per entity (UUID v7), value types with fallible
//!   constructors (`Email`, `Slug`, `Money` …), secrets and password hashing, webhook endpoints
//!   and their Standard Webhooks signature, calendar entries (what an iCalendar invite or feed
//!   says of a session or meeting) and private calendar feeds;
//! - [`rules`]: validators returning every failing field;
//! - [`workflow`]: one module per state machine, pure transition functions returning the new
//!   state and the domain events;
//! - [`policy`]: `authorize(actor, action, facts)`, the permission table of DOMAIN.md §2;
//! - [`ports`]: the store traits (units of work over per-entity repositories), `Clock`, `IdGen`,
//!   `PasswordHasher`, `Notifier`;
//! - [`service`]: the use cases — load, authorize, validate, transition, and persist the new
//!   state with its audit events and notifications in one unit of work;
//! - [`error`]: domain and store errors;
//! - `testing` (feature `testing`): the conformance suite every store runs.

pub mod error;
pub mod model;
pub mod policy;
pub mod ports;
pub mod rules;
pub mod service;
pub mod workflow;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Error, Result, StoreError};
pub use service::{Context, Ecosystem, Limits};
