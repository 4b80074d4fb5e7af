//! Ports: what the core needs from the outside world, as traits.
//!
//! - [`store`]: persistence, as units of work ([`Store::begin`] → [`Transaction`]) carrying one
//!   generic repository per entity ([`Repo`]);
//! - [`Clock`] and [`IdGen`]: every "now" and every id comes from these, so tests are exact;
//! - [`PasswordHasher`]: password hashing off the async executor;
//! - [`Notifier`]: delivery of outbox messages on other channels (email, webhook);
//! - [`BlobStore`]: the bytes of documents, streamed in and out ([`blob`] has the contracts).
//! - [`Ports`]: the three a host chooses (store, notifier, clock) as one type.

pub mod blob;
mod clock;
mod hasher;
mod notifier;
pub mod store;

pub use blob::{BlobEntry, BlobError, BlobKey, BlobRead, BlobStore, MemoryBlobStore, SharedBlobStore, StoredBlob};
pub use clock::{Clock, ManualClock, SystemClock};
pub use hasher::{Argon2idPasswordHasher, HashFuture, PasswordHasher};
pub use notifier::{DeliveryError, DeliveryReceipt, Notifier, RecordingNotifier};
pub use store::{Entity, EntityId, ListFilter, Order, Page, PageRequest, Repo, Store, Transaction};

use uuid::Uuid;

/// The three ports a host chooses, named together so its code says one type instead of three:
///
/// ```
/// use std::marker::PhantomData;
///
/// use icosistem_core::EcosystemOf;
/// use icosistem_core::ports::{Ports, RecordingNotifier, Store, SystemClock};
///
/// /// What this host runs on (`S`: the store of its store crate, e.g. `PgStore`).
/// struct Host<S>(PhantomData<S>);
///
/// impl<S: Store> Ports for Host<S> {
///     type Store = S;
///     type Notifier = RecordingNotifier;
///     type Clock = SystemClock;
/// }
///
/// // Handlers name `EcosystemOf<P>`, not `Ecosystem<S, N, C>`.
/// fn capacity_cap<P: Ports>(eco: &EcosystemOf<P>) -> u32 {
///     eco.limits().max_program_participants
/// }
/// ```
///
/// A tuple `(S, N, C)` and an [`Ecosystem`](crate::Ecosystem) are `Ports` too, so generic code
/// can take `E: Ports` and recover the parts.
pub trait Ports: 'static {
    /// Persistence.
    type Store: Store;
    /// Delivery of outbox messages.
    type Notifier: Notifier;
    /// Every "now".
    type Clock: Clock;
}

impl<S: Store, N: Notifier, C: Clock> Ports for (S, N, C) {
    type Store = S;
    type Notifier = N;
    type Clock = C;
}

impl<S: Store, N: Notifier, C: Clock> Ports for crate::Ecosystem<S, N, C> {
    type Store = S;
    type Notifier = N;
    type Clock = C;
}

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
