//! The store conformance suite on PostgreSQL: the same cases, names and count as on the memory
//! store, each on a fresh database created from `DATABASE_URL` (and dropped afterwards).

use icosistem_store_postgres::testing::TestStore;

async fn setup() -> Option<TestStore> {
    TestStore::fresh().await
}

icosistem_core::store_conformance_tests!(setup);

#[test]
fn the_suite_is_the_memory_stores_suite() {
    // One case list feeds the macro in every store crate, so PostgreSQL runs exactly the cases
    // (names and count) the memory store runs; this pins the count seen here.
    let cases = icosistem_core::testing::CASES;
    assert!(cases.len() >= 124, "only {} conformance cases", cases.len());
    let mut names = cases.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
}
