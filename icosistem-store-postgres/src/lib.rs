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
//! - `deferred`: the rows of append-only tables (audit events, notifications, outbox messages)
//!   a unit of work inserts, kept until its commit and sent then in one statement;
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
mod deferred;
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
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions, PgTransactionManager};
use sqlx::{Connection, Postgres, migrate::Migrator};
use sqlx_core::transaction::TransactionManager;
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
///   goes back (sqlx tests every connection it gets back);
/// - nor on every release: sqlx pings each connection that returns to its pool, a second round
///   trip for a one-statement read. A unit of work that ended cleanly (committed, or read with
///   every statement answered) hands its connection to the next unit directly instead, through
///   a set of at most [`PoolSettings::warm_connections`] (see [`PgStore`]); only the others go
///   back to sqlx and its test;
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
    /// Clean connections kept for the next unit of work without going back to sqlx's pool
    /// (which pings every connection it gets back). They count as in use for the pool: keep
    /// this below `max_connections` so [`PgStore::pool`] users (job locks, an embedding host)
    /// always find connections. `0` turns the set off.
    pub warm_connections: u32,
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
            warm_connections: 10,
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
///
/// Units of work take their connection from a small set of warm ones before asking the pool:
/// a connection whose unit ended cleanly goes straight to the next unit (LIFO, so the busiest
/// few stay hot), skipping the ping sqlx sends on every release. A warm connection idle for
/// longer than [`PoolSettings::check_idle_after`] is pinged before use, one past
/// [`PoolSettings::max_lifetime`] (counted from when the store took it) goes back to the pool,
/// and so does one that waited longer than [`PoolSettings::idle_timeout`] — so idle
/// connections still reach the pool's own idle management.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    warm: Arc<Warm>,
    replica: Option<Arc<ReadReplica>>,
    log: Option<Arc<StatementLog>>,
}

/// The warm connections of a [`PgStore`] (see there).
#[derive(Debug)]
struct Warm {
    idle: Mutex<Vec<WarmConn>>,
    max: usize,
    check_idle_after: Duration,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
}

/// A connection waiting in the warm set, since it was put back.
#[derive(Debug)]
struct WarmConn {
    held: Held,
    since: Instant,
}

/// A connection a unit of work holds, with when the store took it from the pool.
#[derive(Debug)]
pub(crate) struct Held {
    conn: PoolConnection<Postgres>,
    taken: Instant,
}

impl std::ops::Deref for Held {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

impl Warm {
    fn new(settings: &PoolSettings) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            max: settings.warm_connections.min(settings.max_connections) as usize,
            check_idle_after: settings.check_idle_after,
            idle_timeout: settings.idle_timeout,
            max_lifetime: settings.max_lifetime,
        }
    }

    /// The most recently used warm connection, if any is fit to use (pinged first when it sat
    /// idle long enough to have died with a database restart).
    async fn take(&self) -> Option<Held> {
        loop {
            let WarmConn { mut held, since } = self.idle.lock().ok()?.pop()?;
            if self.max_lifetime.is_some_and(|max| held.taken.elapsed() >= max) {
                // Back to the pool, which closes it past its lifetime.
                continue;
            }
            if since.elapsed() >= self.check_idle_after && held.conn.ping().await.is_err() {
                continue;
            }
            return Some(held);
        }
    }

    /// Gives every warm connection back to the pool.
    fn drain(&self) {
        let drained = self.idle.lock().map(|mut idle| std::mem::take(&mut *idle));
        drop(drained);
    }

    /// Keeps `held`, which a unit of work ended cleanly, for the next unit (or gives it back to
    /// the pool when the set is full or it waited past the idle timeout).
    fn put(&self, held: Held) {
        let Ok(mut idle) = self.idle.lock() else { return };
        let now = Instant::now();
        // The least recently used connection waits at the bottom: past the idle timeout it
        // goes back to the pool, whose idle management may then close it.
        if let (Some(timeout), Some(oldest)) = (self.idle_timeout, idle.first())
            && now.duration_since(oldest.since) >= timeout
        {
            drop(idle.remove(0));
        }
        if idle.len() < self.max {
            idle.push(WarmConn { held, since: now });
        }
    }
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
        Ok(Self::from_pool_with(pool, settings))
    }

    /// Wraps an existing pool, with the warm connections of the default [`PoolSettings`]
    /// (bounded by the pool's own `max_connections`).
    pub fn from_pool(pool: PgPool) -> Self {
        let settings = PoolSettings {
            max_connections: pool.options().get_max_connections(),
            warm_connections: PoolSettings::default()
                .warm_connections
                .min(pool.options().get_max_connections() / 2),
            ..PoolSettings::default()
        };
        Self::from_pool_with(pool, &settings)
    }

    /// Wraps an existing pool, keeping warm connections as `settings` say (its pool fields are
    /// the pool's business and not applied here).
    pub fn from_pool_with(pool: PgPool, settings: &PoolSettings) -> Self {
        Self {
            pool,
            warm: Arc::new(Warm::new(settings)),
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

    /// The pool, for health checks and embedding. Close it with [`PgStore::close`]: the
    /// warm connections are checked out of it, and `PgPool::close` waits for every checked-out
    /// connection.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the store: its warm connections go back to the pool, then the pool closes (it
    /// waits for the connections units of work still hold). Units of work begun afterwards fail
    /// with `Unavailable`.
    pub async fn close(&self) {
        self.warm.drain();
        self.pool.close().await;
        // A unit that ended while the pool closed may have put its connection back meanwhile.
        self.warm.drain();
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
    warm: Arc<Warm>,
    conn: Conn,
    /// A statement was handed the connection and has not reported its answer: dropped like
    /// this, the unit was cancelled mid-statement and its connection goes back to the pool
    /// (which settles it) instead of to the next unit.
    in_flight: bool,
    /// The read replica, when this unit may read on it (none, or its session wrote recently:
    /// `None`).
    replica: Option<Arc<ReadReplica>>,
    /// The session this unit runs in ([`read_session`]), to record its writes against.
    session: Option<(Uuid, Arc<ReadReplica>)>,
    log: Option<Arc<StatementLog>>,
    /// The unique keys of rows this unit read or wrote, at the version it saw them: an update
    /// that keeps the row within them cannot violate a unique index (see `entity`).
    seen: Vec<SeenKeys>,
    /// Inserted rows of append-only tables not sent yet (see `deferred`).
    deferred: deferred::Deferred,
}

/// The connection of a unit of work, in the order it moves through these states.
#[derive(Debug)]
enum Conn {
    /// Nothing sent yet.
    None,
    /// Reads only so far: a pooled connection in autocommit mode.
    Reading(Held),
    /// Reads only so far, on the read replica (autocommit too).
    Replica(PoolConnection<Postgres>),
    /// Since the first write or lock: a transaction on that same connection (begun, committed
    /// and rolled back through sqlx's transaction manager, as `sqlx::Transaction` would, but
    /// keeping the connection for the warm set after the commit).
    Writing(Held),
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
            warm: Arc::clone(&store.warm),
            conn: Conn::None,
            in_flight: false,
            replica,
            session: session.zip(store.replica.clone()),
            log: store.log.clone(),
            seen: Vec::new(),
            deferred: deferred::Deferred::default(),
        }
    }

    /// Records `sql` in the statement log, if one is on.
    pub(crate) fn note(&self, sql: &str) {
        if let Some(log) = &self.log {
            log.record(sql);
        }
    }

    /// A primary connection for this unit: a warm one, else one from the pool.
    async fn acquire(&self) -> Result<Held, StoreError> {
        if let Some(held) = self.warm.take().await {
            return Ok(held);
        }
        let conn = self.pool.acquire().await.map_err(unavailable_or_backend)?;
        Ok(Held {
            conn,
            taken: Instant::now(),
        })
    }

    /// The connection to read on: the transaction's once there is one, else the unit's own
    /// connection, taken at the first statement. The statement that gets it reports its
    /// answer with [`PgTx::answered`].
    pub(crate) async fn reader(&mut self) -> Result<&mut PgConnection, StoreError> {
        if matches!(self.conn, Conn::None) {
            self.conn = Conn::Reading(self.acquire().await?);
        }
        self.in_flight = true;
        match &mut self.conn {
            Conn::Reading(conn) | Conn::Writing(conn) => Ok(&mut **conn),
            Conn::Replica(conn) => Ok(&mut **conn),
            Conn::None => Err(StoreError::backend(std::io::Error::other("no connection"))),
        }
    }

    /// Reports that the statement given the connection last has its whole answer: the
    /// connection is clean again (see `in_flight`). A statement that fails does not report,
    /// so its connection goes back to the pool, which tests it.
    pub(crate) fn answered(&mut self) {
        self.in_flight = false;
    }

    /// A primary connection in autocommit (a replica connection goes back to its pool), or the
    /// transaction's once there is one.
    pub(crate) async fn primary(&mut self) -> Result<&mut PgConnection, StoreError> {
        if matches!(self.conn, Conn::Replica(_)) {
            self.conn = Conn::None;
        }
        self.reader().await
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
        // From here the connection is busy: `BEGIN`, then the caller's statement.
        self.in_flight = true;
        if !matches!(self.conn, Conn::Writing(_)) {
            self.note("BEGIN");
            // A replica connection goes back to its pool: writes and locks are the primary's.
            let mut held = match std::mem::replace(&mut self.conn, Conn::None) {
                Conn::Reading(held) => held,
                _ => self.acquire().await?,
            };
            self.replica = None;
            PgTransactionManager::begin(&mut held, None)
                .await
                .map_err(unavailable_or_backend)?;
            self.conn = Conn::Writing(held);
        }
        match &mut self.conn {
            Conn::Writing(conn) => Ok(&mut **conn),
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
    async fn commit(mut self) -> Result<(), StoreError> {
        let wrote = entity::traced("commit", None, self.finish()).await?;
        if wrote && let Some((session, replica)) = &self.session {
            replica.wrote(*session);
        }
        Ok(())
    }
}

impl PgTx {
    /// Ends the unit of work for [`Transaction::commit`]: sends the rows of append-only tables
    /// that wait, then `COMMIT` when a transaction runs. Whether it wrote anything.
    async fn finish(&mut self) -> Result<bool, StoreError> {
        let alone = !matches!(self.conn, Conn::Writing(_));
        let deferred = !self.deferred.is_empty();
        if deferred {
            // In one statement (see `deferred`); when those rows are all this unit wrote, that
            // statement is the whole write: no transaction to end.
            self.send_deferred(alone).await?;
        }
        if alone {
            // Nothing else was written: the connection (if any) goes to the next unit as
            // `Drop` decides.
            return Ok(deferred);
        }
        self.note("COMMIT");
        self.in_flight = true;
        if let Conn::Writing(conn) = &mut self.conn {
            PgTransactionManager::commit(conn)
                .await
                .map_err(unavailable_or_backend)?;
        }
        self.in_flight = false;
        // Committed: the connection is in autocommit again, like one that only read.
        if let Conn::Writing(held) = std::mem::replace(&mut self.conn, Conn::None) {
            self.conn = Conn::Reading(held);
        }
        Ok(true)
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.conn, Conn::None) {
            Conn::Reading(held) if !self.in_flight && !self.pool.is_closed() => self.warm.put(held),
            // Not committed: queue the rollback, as `sqlx::Transaction` does when dropped; the
            // pool sends it with the test it runs on every connection it gets back.
            Conn::Writing(mut held) => PgTransactionManager::start_rollback(&mut held),
            // Cancelled mid-statement, or a replica's: back to the pool, which settles it.
            _ => {}
        }
    }
}
