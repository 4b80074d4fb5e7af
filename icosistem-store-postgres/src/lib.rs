//! # icosistem-store-postgres
//!
//! Every store port of `icosistem-core` on PostgreSQL with `sqlx` (runtime queries, no
//! compile-time macros that would need a database to build). The schema in `migrations/` states
//! the invariants it can — foreign keys, check constraints for ranges and enums, partial unique
//! indexes for every uniqueness rule of docs/domain.md, `version` and soft-delete columns, and an
//! index for every list filter and for cursor pagination — and [`PgStore::migrate`] applies it.
//!
//! ## Layout
//!
//! - [`PgStore`]: a connection pool with deliberate [`PoolSettings`];
//!   [`PgStore::begin`](icosistem_core::ports::Store::begin) starts a [`PgTx`], a unit of work
//!   that takes a connection at its first statement and opens a database transaction at its
//!   first write or lock (dropping it rolls back; a unit that only read never had one);
//! - `entity`: the [`PgEntity`] mapping of one entity to its table (columns, row decoding, filter
//!   translation, unique constraints) and the generic repository built on it, so every entity
//!   gets `get`/`get_for_update`/`insert`/`update`/`delete`/`list`/`count` with the same SQL shape;
//! - `entities/`: one module per group of entities with their `PgEntity` impls;
//! - `error`: mapping of database errors to the core's `StoreError` — a unique violation
//!   (SQLSTATE 23505) becomes the same `Conflict { entity, field }` the memory store returns,
//!   found by constraint name; an exhausted pool or an unreachable, restarting database is
//!   `Unavailable` (the HTTP layer answers 503 with `Retry-After`); everything else is
//!   `Backend` with its source kept.
//! - every store operation runs in a `store` tracing span (`entity::traced`), a child of the
//!   request's: with an OpenTelemetry layer in the process, one client span per operation;
//! - [`StatementLog`]: an opt-in record of every statement a unit of work sends, for the tests
//!   and benches that count round trips;
//! - [`PgStore::with_read_replica`] and [`read_session`]: an optional pool on a read replica
//!   (see "Read replica" below).
//!
//! - `testing` (feature `testing`): a fresh database per test, created from `DATABASE_URL`
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
//! Reads before the first write or lock run on the unit's connection outside any transaction:
//! at READ COMMITTED every statement takes its own snapshot anyway, so `SELECT` alone sees what
//! `BEGIN; SELECT` would, without the `BEGIN` and the `ROLLBACK` (a read-only use case — every
//! GET — costs one round trip per statement and nothing else). The first write, row lock or
//! key lock sends `BEGIN` on that same connection, so everything after it — reads included —
//! runs in the transaction and under its locks.
//!
//! Two more rules make PostgreSQL answer like the memory store, whose units of work are
//! serialized:
//!
//! - a refused write (a unique violation → `Conflict`) undoes only itself and the unit of work
//!   goes on, instead of PostgreSQL aborting the whole transaction. It costs a savepoint only
//!   where a violation can happen: an insert is `INSERT … ON CONFLICT DO NOTHING` (nothing
//!   inserted = a conflict; only then is the insert repeated inside a savepoint, to learn which
//!   rule refused it), and an update runs in a savepoint only when it may give the row a unique
//!   key it did not hold when this unit of work read it (a row read and updated at the same
//!   version with the same keys cannot collide);
//! - a lookup by an exact unique key (a slug, a token hash: [`PgEntity::lock_key`]) first takes a
//!   transaction-scoped advisory lock on that key, so "check the key is free, then insert it"
//!   and "find the token, then consume it" run one at a time per key.
//!
//! ## Read replica
//!
//! With a replica pool ([`PgStore::with_read_replica`], the server's `DATABASE_READ_URL`), the
//! lists, counts and analytics of a unit of work that has not written or locked anything yet run
//! on the replica; everything else runs on the primary:
//!
//! - a unit's first write or lock begins its transaction on the primary (a replica connection it
//!   read on goes back to its pool first): writes, locks and every read after them see the
//!   primary. What it read on the replica before is fine at READ COMMITTED, where each statement
//!   has its own snapshot anyway — as long as decisions rest on locked rows and `version`
//!   checks, which always run on the primary;
//! - a read by id that starts a unit runs on the primary (the caller's own user on every
//!   request, a resource fetched right after creating it); once a unit reads on the replica,
//!   its later reads by id use the same connection;
//! - **read after write**: for [`ReadReplica::read_after_write`] after a unit of work of a
//!   session (the caller's user id, set by [`read_session`] around a request) committed a
//!   write, that session's units read on the primary only — so a caller's list right after
//!   their own write shows it. The record is per process: a caller whose next request reaches
//!   another server replica may read there what the replica has replayed so far;
//! - a replica that fails to hand out a connection is skipped for [`REPLICA_RETRY_AFTER`]:
//!   reads go to the primary meanwhile (slower, not failing).
//!
//! So a read-only list may lag the primary by the replica's replay lag (what
//! `now() - pg_last_xact_replay_timestamp()` on the replica reports; watch it), except for the
//! caller's own writes within the read-after-write window on the same process.
//!
//! [`Repo::get_for_update`]: icosistem_core::ports::Repo::get_for_update

mod analytics;
mod entities;
mod entity;
mod error;
mod mapping;
#[cfg(feature = "testing")]
pub mod testing;

pub use entity::PgEntity;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use icosistem_core::StoreError;
use icosistem_core::ports::store::{Store, Transaction};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, migrate::Migrator};
use uuid::Uuid;

use crate::error::unavailable_or_backend;

/// The embedded migrations of the schema.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How the pool hands out connections. Every number is a decision, not sqlx's default:
///
/// - connections are not pinged on every acquire (sqlx's `test_before_acquire`, a round trip
///   per unit of work); only one idle for longer than [`PoolSettings::check_idle_after`] is,
///   which still catches the connections a database restart killed while they sat idle. A
///   connection that dies in use fails its statement with `Unavailable` and is closed when it
///   goes back (sqlx tests every connection on release);
/// - [`PoolSettings::min_connections`] stay open, so the first requests after a quiet spell do
///   not pay for a TCP + authentication handshake;
/// - waiting longer than [`PoolSettings::acquire_timeout`] for a connection (pool exhausted,
///   database unreachable) is `StoreError::Unavailable`: the caller answers 503 with
///   `Retry-After` instead of hanging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    /// Connections at most.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a unit of work waits for a connection before `Unavailable`.
    pub acquire_timeout: Duration,
    /// A connection idle for longer than this is pinged before it is handed out.
    pub check_idle_after: Duration,
    /// Idle connections above `min_connections` are closed after this long.
    pub idle_timeout: Option<Duration>,
    /// Connections are replaced after this long (spreads load after a failover).
    pub max_lifetime: Option<Duration>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 20,
            min_connections: 2,
            acquire_timeout: Duration::from_secs(2),
            check_idle_after: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
        }
    }
}

impl PoolSettings {
    /// These settings as sqlx pool options.
    pub fn options(&self) -> PgPoolOptions {
        let check_after = self.check_idle_after;
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .min_connections(self.min_connections.min(self.max_connections))
            .acquire_timeout(self.acquire_timeout)
            .idle_timeout(self.idle_timeout)
            .max_lifetime(self.max_lifetime)
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= check_after {
                        // An error here makes the pool close this connection and open another.
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
    }
}

/// An [`Ecosystem`](icosistem_core::Ecosystem) over PostgreSQL: a host names one type
/// (`PgEcosystem<MyNotifier>`) instead of three; the clock defaults to the system's.
pub type PgEcosystem<N, C = icosistem_core::ports::SystemClock> = icosistem_core::Ecosystem<PgStore, N, C>;

/// The PostgreSQL store: a pool of connections (and optionally one on a read replica). Cheap to
/// clone.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    replica: Option<Arc<ReadReplica>>,
    log: Option<Arc<StatementLog>>,
}

/// How long a replica that failed to hand out a connection is left aside (its reads go to the
/// primary) before it is tried again.
pub const REPLICA_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Sessions remembered as recent writers before the stale ones are swept out.
const RECENT_WRITERS_SWEEP: usize = 4096;

/// A read replica's pool and the rule for using it (see the crate docs, "Read replica").
#[derive(Debug)]
pub struct ReadReplica {
    pool: PgPool,
    read_after_write: Duration,
    /// When each session last committed a write, for those that did within `read_after_write`
    /// (older entries are swept out now and then).
    recent_writers: Mutex<HashMap<Uuid, Instant>>,
    /// Until when the replica is left aside after failing to hand out a connection.
    down_until: Mutex<Option<Instant>>,
}

impl ReadReplica {
    /// How long after a session's write its units of work read on the primary only.
    pub fn read_after_write(&self) -> Duration {
        self.read_after_write
    }

    /// The replica's pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether a unit of work begun now in `session` may read on the replica.
    fn serves(&self, session: Option<Uuid>) -> bool {
        let now = Instant::now();
        if self.down_until.lock().is_ok_and(|until| until.is_some_and(|t| now < t)) {
            return false;
        }
        let Some(session) = session else {
            return true;
        };
        let writers = self.recent_writers.lock();
        !writers.is_ok_and(|w| {
            w.get(&session)
                .is_some_and(|at| now.duration_since(*at) < self.read_after_write)
        })
    }

    /// Records that `session` committed a write now.
    fn wrote(&self, session: Uuid) {
        if self.read_after_write.is_zero() {
            return;
        }
        if let Ok(mut writers) = self.recent_writers.lock() {
            let now = Instant::now();
            if writers.len() >= RECENT_WRITERS_SWEEP {
                writers.retain(|_, at| now.duration_since(*at) < self.read_after_write);
            }
            writers.insert(session, now);
        }
    }

    /// A connection on the replica, or `None` (and the replica left aside for
    /// [`REPLICA_RETRY_AFTER`]) when it cannot hand one out.
    async fn acquire(&self) -> Option<PoolConnection<Postgres>> {
        match self.pool.acquire().await {
            Ok(conn) => Some(conn),
            Err(error) => {
                tracing::warn!(%error, "the read replica is unavailable; reading on the primary for a while");
                if let Ok(mut until) = self.down_until.lock() {
                    *until = Some(Instant::now() + REPLICA_RETRY_AFTER);
                }
                None
            }
        }
    }
}

tokio::task_local! {
    static READ_SESSION: Uuid;
}

/// Runs `work` as `session` (the caller's user id): the units of work it begins on a store with
/// a read replica read on the primary for [`ReadReplica::read_after_write`] after one of them
/// committed a write, so the session reads its own writes. The server wraps each authenticated
/// request in it; outside any session, units of work never count as anybody's writes.
pub async fn read_session<F: Future>(session: Uuid, work: F) -> F::Output {
    READ_SESSION.scope(session, work).await
}

impl PgStore {
    /// Connects a pool of at most `max_connections` to `database_url`, with the other
    /// [`PoolSettings`] at their defaults.
    pub async fn connect(database_url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let settings = PoolSettings {
            max_connections,
            ..PoolSettings::default()
        };
        Self::connect_with(database_url, &settings).await
    }

    /// Connects a pool with `settings` to `database_url`.
    pub async fn connect_with(database_url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        let pool = settings
            .options()
            .connect(database_url)
            .await
            .map_err(unavailable_or_backend)?;
        Ok(Self::from_pool(pool))
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            replica: None,
            log: None,
        }
    }

    /// The same store, reading lists, counts and analytics of read-only units of work on the
    /// replica of `replica` (see the crate docs), and a session's reads on the primary for
    /// `read_after_write` after its writes.
    pub fn with_read_replica(mut self, replica: PgPool, read_after_write: Duration) -> Self {
        self.replica = Some(Arc::new(ReadReplica {
            pool: replica,
            read_after_write,
            recent_writers: Mutex::new(HashMap::new()),
            down_until: Mutex::new(None),
        }));
        self
    }

    /// [`PgStore::with_read_replica`] on a pool with `settings` to `read_url`. The pool connects
    /// lazily: a replica that is down at start only sends reads to the primary.
    ///
    /// # Errors
    ///
    /// `Backend` for a malformed URL.
    pub fn connect_read_replica(
        self,
        read_url: &str,
        settings: &PoolSettings,
        read_after_write: Duration,
    ) -> Result<Self, StoreError> {
        let pool = settings.options().connect_lazy(read_url).map_err(StoreError::backend)?;
        Ok(self.with_read_replica(pool, read_after_write))
    }

    /// The read replica, when there is one.
    pub fn read_replica(&self) -> Option<&ReadReplica> {
        self.replica.as_deref()
    }

    /// The same store, recording every statement its units of work send in `log` (tests and
    /// benches count round trips with it; production leaves it off).
    pub fn with_statement_log(mut self, log: Arc<StatementLog>) -> Self {
        self.log = Some(log);
        self
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
            .map_err(unavailable_or_backend)
    }
}

/// The statements units of work sent, in order (the SQL text; `BEGIN`, `COMMIT`, `SAVEPOINT …`
/// included). Each is one round trip to the database.
#[derive(Debug, Default)]
pub struct StatementLog {
    statements: Mutex<Vec<String>>,
}

impl StatementLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&self, sql: &str) {
        if let Ok(mut statements) = self.statements.lock() {
            statements.push(sql.to_owned());
        }
    }

    /// Everything recorded since the last `take`, emptying the log.
    pub fn take(&self) -> Vec<String> {
        self.statements
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
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
        let mut tx = self.pool.begin().await.map_err(unavailable_or_backend)?;
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable_or_backend)?;
        if taken {
            Ok(Some(JobLock { tx }))
        } else {
            tx.rollback().await.map_err(unavailable_or_backend)?;
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
        self.tx.rollback().await.map_err(unavailable_or_backend)
    }
}

/// A unit of work. It holds no connection until its first statement and no transaction until
/// its first write or lock; dropped without `commit`, it rolls back whatever it began.
#[derive(Debug)]
pub struct PgTx {
    pool: PgPool,
    conn: Conn,
    /// The read replica, when this unit may read on it (none, or its session wrote recently:
    /// `None`).
    replica: Option<Arc<ReadReplica>>,
    /// The session this unit runs in ([`read_session`]), to record its writes against.
    session: Option<(Uuid, Arc<ReadReplica>)>,
    log: Option<Arc<StatementLog>>,
    /// The unique keys of rows this unit read or wrote, at the version it saw them: an update
    /// that keeps the row within them cannot violate a unique index (see `entity`).
    seen: Vec<SeenKeys>,
}

/// The connection of a unit of work, in the order it moves through these states.
#[derive(Debug)]
enum Conn {
    /// Nothing sent yet.
    None,
    /// Reads only so far: a pooled connection in autocommit mode.
    Reading(PoolConnection<Postgres>),
    /// Reads only so far, on the read replica (autocommit too).
    Replica(PoolConnection<Postgres>),
    /// Since the first write or lock: a transaction on that same connection.
    Writing(sqlx::Transaction<'static, Postgres>),
}

/// Rows whose unique keys one unit of work remembers at most.
const SEEN_MAX: usize = 256;

/// The unique keys row `id` of `table` held at `version`, as this unit of work saw it.
#[derive(Debug)]
pub(crate) struct SeenKeys {
    pub(crate) table: &'static str,
    pub(crate) id: Uuid,
    pub(crate) version: u64,
    pub(crate) keys: Vec<(&'static str, String)>,
}

impl PgTx {
    fn new(store: &PgStore) -> Self {
        let session = READ_SESSION.try_with(|s| *s).ok();
        let replica = store
            .replica
            .as_ref()
            .filter(|replica| replica.serves(session))
            .map(Arc::clone);
        Self {
            pool: store.pool.clone(),
            conn: Conn::None,
            replica,
            session: session.zip(store.replica.clone()),
            log: store.log.clone(),
            seen: Vec::new(),
        }
    }

    /// Records `sql` in the statement log, if one is on.
    pub(crate) fn note(&self, sql: &str) {
        if let Some(log) = &self.log {
            log.record(sql);
        }
    }

    /// The connection to read on: the transaction's once there is one, else the unit's own
    /// connection, taken from the pool at the first statement.
    pub(crate) async fn reader(&mut self) -> Result<&mut PgConnection, StoreError> {
        if matches!(self.conn, Conn::None) {
            let conn = self.pool.acquire().await.map_err(unavailable_or_backend)?;
            self.conn = Conn::Reading(conn);
        }
        match &mut self.conn {
            Conn::Reading(conn) | Conn::Replica(conn) => Ok(&mut **conn),
            Conn::Writing(tx) => Ok(&mut **tx),
            Conn::None => Err(StoreError::backend(std::io::Error::other("no connection"))),
        }
    }

    /// The connection for a list, count or aggregate: the replica's when this unit may read
    /// there and has no connection yet (see the crate docs, "Read replica"), else
    /// [`PgTx::reader`]'s.
    pub(crate) async fn list_reader(&mut self) -> Result<&mut PgConnection, StoreError> {
        if matches!(self.conn, Conn::None)
            && let Some(replica) = &self.replica
        {
            match replica.acquire().await {
                Some(conn) => self.conn = Conn::Replica(conn),
                None => self.replica = None,
            }
        }
        self.reader().await
    }

    /// The transaction to write or lock in, begun now (on the unit's connection, if it has
    /// one) unless it already runs.
    pub(crate) async fn writer(&mut self) -> Result<&mut PgConnection, StoreError> {
        if !matches!(self.conn, Conn::Writing(_)) {
            self.note("BEGIN");
            // A replica connection goes back to its pool: writes and locks are the primary's.
            let tx = match std::mem::replace(&mut self.conn, Conn::None) {
                Conn::Reading(conn) => sqlx::Transaction::begin(conn, None).await,
                _ => self.pool.begin().await,
            };
            self.replica = None;
            self.conn = Conn::Writing(tx.map_err(unavailable_or_backend)?);
        }
        match &mut self.conn {
            Conn::Writing(tx) => Ok(&mut **tx),
            _ => Err(StoreError::backend(std::io::Error::other("no transaction"))),
        }
    }

    /// Remembers the unique keys of `table`'s row `id` at `version`. At most [`SEEN_MAX`] rows
    /// are remembered (a batch job reading thousands pays a savepoint per update beyond them
    /// instead of a quadratic search).
    pub(crate) fn saw(&mut self, table: &'static str, id: Uuid, version: u64, keys: Vec<(&'static str, String)>) {
        self.seen.retain(|s| !(s.table == table && s.id == id));
        if self.seen.len() >= SEEN_MAX {
            return;
        }
        self.seen.push(SeenKeys {
            table,
            id,
            version,
            keys,
        });
    }

    /// What this unit saw of `table`'s row `id`.
    pub(crate) fn seen(&self, table: &'static str, id: Uuid) -> Option<&SeenKeys> {
        self.seen.iter().find(|s| s.table == table && s.id == id)
    }
}

impl Store for PgStore {
    type Tx = PgTx;

    async fn begin(&self) -> Result<PgTx, StoreError> {
        Ok(PgTx::new(self))
    }
}

impl Transaction for PgTx {
    async fn commit(self) -> Result<(), StoreError> {
        match self.conn {
            Conn::Writing(tx) => {
                if let Some(log) = &self.log {
                    log.record("COMMIT");
                }
                entity::traced("commit", None, async {
                    tx.commit().await.map_err(unavailable_or_backend)
                })
                .await?;
                if let Some((session, replica)) = &self.session {
                    replica.wrote(*session);
                }
                Ok(())
            }
            // Nothing was written: the connection (if any) goes back to the pool as it is,
            // with no transaction to end.
            Conn::Reading(_) | Conn::Replica(_) | Conn::None => Ok(()),
        }
    }
}
