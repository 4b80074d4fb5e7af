//! # icosistem-store-postgres
//!
//! Every store port of `icosistem-core` on PostgreSQL with `sqlx` (runtime queries, no
//! compile-time macros that would need a database to build). The schema in `migrations/` states
//! the invariants it can — foreign keys, check constraints for ranges and enums, partial unique
//! indexes for every uniqueness rule of DOMAIN.md, `version` and soft-delete columns, and an
//! index for every list filter and for cursor pagination — and [`PgStore::migrate`] applies it.
//!
//! ## Layout
//!
//! - [`PgStore`]: a connection pool; [`PgStore::begin`](icosistem_core::ports::Store::begin)
//!   starts a [`PgTx`], one database transaction per unit of work (dropping it rolls back);
//! - `entity`: the [`PgEntity`] mapping of one entity to its table (columns, row decoding, filter
//!   translation, unique constraints) and the generic repository built on it, so every entity
//!   gets `get`/`get_for_update`/`insert`/`update`/`delete`/`list`/`count` with the same SQL shape;
//! - `entities/`: one module per group of entities with their `PgEntity` impls;
//! - `error`: mapping of database errors to the core's `StoreError` — a unique violation
//!   (SQLSTATE 23505) becomes the same `Conflict { entity, field }` the memory store returns,
//!   found by constraint name; everything else is `Backend` with its source kept.
//!
//! - [`testing`] (feature `testing`): a fresh database per test, created from `DATABASE_URL`
//!   (migrated, or empty for migration tests) and dropped afterwards.
//!
//! ## Concurrency
//!
//! Units of work run at READ COMMITTED. Cross-row invariants are decided after locking the row
//! that guards them with `SELECT … FOR NO KEY UPDATE` ([`Repo::get_for_update`]): the program
//! row for capacity, the ally's profile row for mentee load, each person's user row for
//! bookings. A competing unit of work waits on that lock and, once it gets it, reads everything
//! the winner committed — so no retry storms and no broken invariant. (`NO KEY` lets foreign-key
//! checks of rows that merely refer to the locked one pass without waiting.) Optimistic
//! `version` checks remain on every update (`UPDATE … WHERE version = $read`).
//!
//! Two more rules make PostgreSQL answer like the memory store, whose units of work are
//! serialized:
//!
//! - every write runs inside a savepoint, so a refused write (a unique violation → `Conflict`)
//!   undoes only itself and the unit of work goes on, instead of PostgreSQL aborting the whole
//!   transaction;
//! - a lookup by an exact unique key (a slug, a token hash: [`PgEntity::lock_key`]) first takes a
//!   transaction-scoped advisory lock on that key, so "check the key is free, then insert it"
//!   and "find the token, then consume it" run one at a time per key.
//!
//! [`Repo::get_for_update`]: icosistem_core::ports::Repo::get_for_update

mod entities;
mod entity;
mod error;
#[cfg(feature = "testing")]
pub mod testing;

pub use entity::PgEntity;

use icosistem_core::StoreError;
use icosistem_core::ports::store::{Store, Transaction};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, migrate::Migrator};

/// The embedded migrations of the schema.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The PostgreSQL store: a pool of connections. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects a pool of at most `max_connections` to `database_url`.
    pub async fn connect(database_url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect(database_url)
            .await
            .map_err(StoreError::backend)?;
        Ok(Self { pool })
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool, for health checks and embedding.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the embedded migrations that are not applied yet (a no-op when up to date).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(StoreError::backend)
    }

    /// Whether the database answers (`SELECT 1`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(StoreError::backend)
    }
}

impl PgStore {
    /// Tries to take the cluster-wide lock `name` (a transaction-level advisory lock,
    /// `pg_try_advisory_xact_lock` on the 64-bit hash of the name) without waiting: `None` when
    /// another holder has it. The lock is held by a transaction on a connection of its own until
    /// [`JobLock::release`] — or until the guard is dropped (the transaction rolls back) or the
    /// process dies (PostgreSQL ends the session): a crashed holder never keeps it. Used by
    /// workers so only one replica runs a given round of jobs at a time.
    pub async fn try_job_lock(&self, name: &str) -> Result<Option<JobLock>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::backend)?;
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        if taken {
            Ok(Some(JobLock { tx }))
        } else {
            tx.rollback().await.map_err(StoreError::backend)?;
            Ok(None)
        }
    }
}

/// A lock of [`PgStore::try_job_lock`], held until released or dropped.
#[derive(Debug)]
pub struct JobLock {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
}

impl JobLock {
    /// Releases the lock now (ends its transaction) and returns its connection to the pool.
    pub async fn release(self) -> Result<(), StoreError> {
        self.tx.rollback().await.map_err(StoreError::backend)
    }
}

/// A unit of work: one PostgreSQL transaction. Dropped without `commit`, it rolls back.
#[derive(Debug)]
pub struct PgTx {
    tx: sqlx::Transaction<'static, Postgres>,
}

impl Store for PgStore {
    type Tx = PgTx;

    async fn begin(&self) -> Result<PgTx, StoreError> {
        let tx = self.pool.begin().await.map_err(StoreError::backend)?;
        Ok(PgTx { tx })
    }
}

impl Transaction for PgTx {
    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(StoreError::backend)
    }
}
