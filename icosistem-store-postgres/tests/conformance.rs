//! The store conformance suite on PostgreSQL: the same cases, names and count as on the memory
//! store, each on a fresh database created from `DATABASE_URL` (and dropped afterwards).

use icosistem_store_postgres::testing::TestStore;

async fn setup() -> Option<TestStore> {
    TestStore::fresh().await
}

icosistem_core::store_conformance_tests!(setup);
