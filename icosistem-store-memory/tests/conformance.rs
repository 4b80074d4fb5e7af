//! The store conformance suite of `icosistem-core` (feature `testing`), run on the memory store:
//! the same cases PostgreSQL passes, each on a fresh `MemoryStore`.

use icosistem_store_memory::MemoryStore;

/// A fresh, empty store per case: the memory store is always available.
async fn setup() -> Option<MemoryStore> {
    Some(MemoryStore::new())
}

icosistem_core::store_conformance_tests!(setup);

#[test]
fn the_suite_keeps_its_cases() {
    // The macro emits one test per listed case; a list shrinking below the agreed floor means
    // cases were dropped rather than moved.
    let cases = icosistem_core::testing::CASES;
    assert!(cases.len() >= 124, "only {} conformance cases", cases.len());
    assert!(cases.contains(&"concurrent_accepts_never_exceed_capacity"));
    assert!(cases.contains(&"concurrent_accepts_never_exceed_max_mentees"));
    assert!(cases.contains(&"concurrent_overlapping_bookings_admit_one"));
}
