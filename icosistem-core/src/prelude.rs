//! What a host embedding the core needs, in one import:
//!
//! ```
//! use icosistem_core::prelude::*;
//! ```
//!
//! brings the [`Ecosystem`] and its [`Context`], [`Limits`] and [`Error`]; every entity, id,
//! status and value type of [`model`](crate::model); every command input (`CreateProgram` …)
//! and view of [`service`](crate::service); every command ([`commands`](crate::commands)) and
//! [`Expect`]; the ports' traits and stock implementations ([`Store`], [`Notifier`],
//! [`Clock`], [`SystemClock`] …) and the [`Ports`] bundle; the [`Runner`];
//! and the `chrono` and `serde_json` types that appear in those signatures ([`DateTime`],
//! [`Utc`], [`NaiveDate`], [`NaiveTime`], [`TimeDelta`], [`Map`], [`Value`], [`json!`]).

pub use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
pub use serde_json::{Map, Value, json};

pub use crate::commands::*;
pub use crate::error::{Error, FieldError, Result, StoreError, ValidationErrors};
pub use crate::model::secret::SecretString;
pub use crate::model::value::{Currency, Email, Money, Slug};
pub use crate::model::*;
pub use crate::ports::{
    Argon2idPasswordHasher, Clock, DeliveryError, IdGen, ManualClock, Notifier, Page, PageRequest, PasswordHasher,
    RecordingNotifier, Store, SystemClock, Transaction, UuidV7Gen,
};
pub use crate::runner::{OutboxPass, Runner, TickReport};
pub use crate::service::*;
pub use crate::{EcosystemOf, Ports};
