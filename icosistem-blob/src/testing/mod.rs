//! The blob conformance suite and a local S3 server for tests (feature `testing`).
//!
//! - [`cases`]: the test bodies, `async fn case<S: BlobStore>(store: S)`, each on a fresh, empty
//!   store; they check the contracts of [`icosistem_core::ports::blob`].
//! - [`blob_conformance_tests!`](crate::blob_conformance_tests): expands to one `#[tokio::test]`
//!   per case (multi-thread runtime, so the concurrent cases really race); [`CASES`] names them.
//! - [`MotoServer`]: a real S3-compatible server, [moto](https://pypi.org/project/moto/) in
//!   server mode, started through `python3` once per test binary, with a fresh bucket per store.
//!
//! ```ignore
//! // icosistem-blob/tests/xyz.rs
//! async fn setup() -> Option<XyzBlobStore> {
//!     // `None` = no backend available: the case passes without running.
//!     Some(XyzBlobStore::new())
//! }
//! icosistem_blob::blob_conformance_tests!(setup);
//! ```

pub mod cases;
mod moto;

pub use moto::{MotoServer, moto_available};

/// The runtime the generated tests run on (re-exported so the macro's expansion needs no direct
/// path to it).
#[doc(hidden)]
pub use tokio;

/// The case list → tests expansion shared with the store conformance suite.
#[doc(hidden)]
pub use icosistem_core::__icosistem_conformance_emit;

/// The one list of case names, handed to a callback macro (so [`CASES`] and the generated tests
/// cannot drift apart).
#[doc(hidden)]
#[macro_export]
macro_rules! __icosistem_blob_case_list {
    ($($head:tt)*) => {
        $crate::testing::__icosistem_conformance_emit! {
            $($head)* ;
            put_then_get_gives_back_the_bytes_and_their_sha256,
            an_empty_blob_is_a_blob,
            put_over_a_key_replaces_the_blob,
            the_exact_limit_is_accepted_and_one_byte_more_stores_nothing,
            a_failing_body_stores_nothing,
            large_uploads_refused_half_way_store_nothing,
            ranges_are_cut_at_the_end_and_refused_past_it,
            missing_keys_are_not_found,
            delete_is_idempotent,
            list_finds_keys_by_string_prefix,
            invalid_keys_are_refused,
            concurrent_puts_of_different_keys_all_land,
            a_16_mib_upload_streams_in_and_out,
        }
    };
}

/// Expands to the whole blob conformance suite: one `#[tokio::test]` per case of [`cases`],
/// named after it. `setup` is a path to an `async fn() -> Option<S>` with `S: BlobStore`, called
/// once per test for a fresh, empty store; `None` means "no backend available" and the test
/// returns without running the case (the setup prints its own skip line).
///
/// Invoke it once, at the top level of an integration test file.
#[macro_export]
macro_rules! blob_conformance_tests {
    ($setup:path) => {
        #[allow(unused_imports)]
        use $crate::testing::tokio as __icosistem_blob_tokio;
        $crate::__icosistem_blob_case_list!(tests $crate $setup, __icosistem_blob_tokio = "__icosistem_blob_tokio");
    };
}

/// The names of every case, in the order the macro emits them.
pub const CASES: &[&str] = crate::__icosistem_blob_case_list!(names);
