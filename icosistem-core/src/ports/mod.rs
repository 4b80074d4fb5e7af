//! Ports: what the core needs from the outside world, as traits.
//!
//! - [`store`]: persistence, as units of work ([`Store::begin`] → [`Transaction`]) carrying one
//!   generic repository per entity ([`Repo`]);
//! - [`Clock`] and [`IdGen`]: every "now" and every id comes from these, so tests are exact;
//! - [`PasswordHasher`]: password hashing off the async executor;
//! - [`Notifier`]: delivery of outbox messages on other channels (email, webhook);
//! - [`BlobStore`]: the bytes of documents, streamed in and out ([`blob`] has the contracts).

pub mod blob;
mod clock;
mod hasher;
mod notifier;
pub mod store;

pub use blob::{BlobEntry, BlobError, BlobKey, BlobRead, BlobStore, MemoryBlobStore, StoredBlob};
pub use clock::{Clock, ManualClock, SystemClock};
pub use hasher::{Argon2idPasswordHasher, HashFuture, PasswordHasher};
pub use notifier::{DeliveryError, DeliveryReceipt, Notifier, RecordingNotifier};
pub use store::{Entity, EntityId, ListFilter, Order, Page, PageRequest, Repo, Store, Transaction};

use uuid::Uuid;

/// Source of new ids. The default is UUID v7 (time-ordered, monotonic within the process), which
/// the stores rely on for "newest first" ordering.
pub trait IdGen: Send + Sync + 'static {
    /// A fresh UUID.
    fn new_uuid(&self) -> Uuid;
}

/// UUID v7 from the uuid crate's process-wide monotonic context.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Gen;

impl IdGen for UuidV7Gen {
    fn new_uuid(&self) -> Uuid {
        Uuid::now_v7()
    }
}
