//! The blob conformance suite on the core's in-memory store, so the test double answers like
//! the real adapters.

use icosistem_core::ports::MemoryBlobStore;

async fn setup() -> Option<MemoryBlobStore> {
    Some(MemoryBlobStore::new())
}

icosistem_blob::blob_conformance_tests!(setup);
