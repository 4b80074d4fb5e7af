//! Fresh databases for tests (feature `testing`).
//!
//! [`TestStore::fresh`] creates a database named `icosistem_test_<uuid>` on the server of
//! `DATABASE_URL`, applies the migrations and hands out a store on it; the database is dropped
//! when the last clone of the store goes away. [`TestStore::empty`] does the same without
//! migrating, for tests of the migrations themselves. Without `DATABASE_URL` both print one skip
//! line per process and return `None` — unless `CI=true` or `ICOSISTEM_REQUIRE_SERVICES=1`, where
//! a missing or unreachable database fails the test instead of skipping it.
//!
//! Every test store records the statements its units of work send
//! ([`TestStore::take_statements`]), so tests can count round trips and `BEGIN`s.

use std::str::FromStr;
use std::sync::{Arc, Once};

use icosistem_core::StoreError;
use icosistem_core::ports::store::Store;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};

use crate::{PgStore, PgTx, PoolSettings, StatementLog};

/// Connections per test database: enough for the concurrency cases (50 racing commands) to
/// really run in parallel.
const POOL_SIZE: u32 = 16;

/// Whether the environment demands real services (a skip would hide a broken setup).
pub fn services_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("ICOSISTEM_REQUIRE_SERVICES").is_ok_and(|v| v == "1" || v == "true")
}

/// A store on a database of its own, dropped with the last clone.
#[derive(Clone, Debug)]
pub struct TestStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: PgStore,
    log: Arc<StatementLog>,
    admin: PgConnectOptions,
    name: String,
}

impl TestStore {
    /// A migrated store on a new database, or `None` (after one skip line) when `DATABASE_URL`
    /// is unset and services are not required. Panics with the reason when a database is
    /// required but missing or unreachable.
    pub async fn fresh() -> Option<Self> {
        let test = Self::empty().await?;
        if let Err(error) = test.inner.store.migrate().await {
            panic!(
                "cannot migrate the test database {}: {}",
                test.inner.name,
                chain(&error)
            );
        }
        Some(test)
    }

    /// Like [`TestStore::fresh`], on a new database left empty: no migration applied (for
    /// tests of the migrations themselves).
    pub async fn empty() -> Option<Self> {
        let Ok(url) = std::env::var("DATABASE_URL") else {
            if services_required() {
                panic!("DATABASE_URL is not set, but CI/ICOSISTEM_REQUIRE_SERVICES requires PostgreSQL");
            }
            static SKIP: Once = Once::new();
            SKIP.call_once(|| {
                // Written to the raw stderr handle: the test harness captures `println!`, and a
                // skip must be seen.
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    b"skipping PostgreSQL tests: DATABASE_URL is not set\n",
                );
            });
            return None;
        };
        match Self::create(&url).await {
            Ok(store) => Some(store),
            Err(error) => panic!("cannot create a test database on DATABASE_URL: {}", chain(&error)),
        }
    }

    async fn create(url: &str) -> Result<Self, StoreError> {
        let admin = PgConnectOptions::from_str(url).map_err(StoreError::backend)?;
        // v7, the workspace's only uuid generator: 74 random bits keep parallel tests apart.
        let name = format!("icosistem_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = admin.connect().await.map_err(StoreError::backend)?;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .map_err(StoreError::backend)?;
        conn.close().await.map_err(StoreError::backend)?;
        // The production pool settings (no ping per acquire), sized for the concurrency cases.
        let settings = PoolSettings {
            max_connections: POOL_SIZE,
            min_connections: 0,
            ..PoolSettings::default()
        };
        let pool = settings
            .options()
            .connect_with(admin.clone().database(&name))
            .await
            .map_err(StoreError::backend)?;
        let log = Arc::new(StatementLog::new());
        // From here on the database exists: `Inner`'s drop removes it, even if a later step
        // of the caller panics.
        Ok(Self {
            inner: Arc::new(Inner {
                store: PgStore::from_pool(pool).with_statement_log(Arc::clone(&log)),
                log,
                admin,
                name,
            }),
        })
    }

    /// The store.
    pub fn store(&self) -> &PgStore {
        &self.inner.store
    }

    /// Every statement the store's units of work sent since the last call (each one round
    /// trip), emptying the record: tests count `BEGIN`s and round trips with it.
    pub fn take_statements(&self) -> Vec<String> {
        self.inner.log.take()
    }

    /// The database's name.
    pub fn database_name(&self) -> &str {
        &self.inner.name
    }
}

/// An error and its sources, `: `-separated: `StoreError::Backend` alone only says "store
/// backend failure", and a setup panic must say what the database answered.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Store for TestStore {
    type Tx = PgTx;

    fn begin(&self) -> impl Future<Output = Result<PgTx, StoreError>> + Send {
        self.inner.store.begin()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Drop runs outside any async context we can rely on: close the pool and drop the
        // database on a thread with its own small runtime, and wait for it.
        let store = self.store.clone();
        let admin = self.admin.clone();
        let name = self.name.clone();
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                store.close().await;
                if let Ok(mut conn) = admin.connect().await {
                    let _ = conn
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
