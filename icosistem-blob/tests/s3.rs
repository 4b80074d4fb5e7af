//! The blob conformance suite on the S3 adapter against a real S3-compatible server: moto
//! (PyPI, `moto[server]`) started by `icosistem_blob::testing::MotoServer`, one bucket per case.
//!
//! Needs `python3` with `moto[server]` (`.ci/run` installs it). Without it the tests print one
//! skip line and pass, unless `ICOSISTEM_REQUIRE_SERVICES=1`, where they fail.
#![cfg(feature = "s3")]

use bytes::Bytes;
use futures::stream;
use icosistem_blob::S3BlobStore;
use icosistem_blob::testing::{MotoServer, moto_available};
use icosistem_core::ports::blob::{BlobError, BlobKey, BlobStore};

fn bucket_name() -> String {
    // Bucket names: lower-case letters, digits and `-`, at most 63.
    format!("icosistem-{}", uuid::Uuid::now_v7().simple())[..40].to_owned()
}

async fn setup() -> Option<S3BlobStore> {
    if !moto_available() {
        return None;
    }
    let config = MotoServer::shared().bucket(&bucket_name()).await;
    Some(S3BlobStore::new(&config).expect("configure"))
}

icosistem_blob::blob_conformance_tests!(setup);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_multipart_uploads_are_aborted() {
    if !moto_available() {
        return;
    }
    let server = MotoServer::shared();
    let bucket = bucket_name();
    let store = S3BlobStore::new(&server.bucket(&bucket).await).expect("configure");
    let key = BlobKey::parse("large").expect("key");
    let mib = Bytes::from(vec![7u8; 1024 * 1024]);
    // 8 MiB under a 6 MiB limit: the first 5 MiB part is already on its way when it is refused.
    let too_large = stream::iter((0..8).map(|_| Ok(mib.clone())));
    assert!(matches!(
        store.put(&key, too_large, 6 * 1024 * 1024).await,
        Err(BlobError::TooLarge { .. })
    ));
    let broken = stream::iter(
        (0..6)
            .map(|_| Ok(mib.clone()))
            .chain([Err(std::io::Error::other("gone"))]),
    );
    assert!(matches!(
        store.put(&key, broken, 16 * 1024 * 1024).await,
        Err(BlobError::Body(_))
    ));
    assert_eq!(server.unfinished_uploads(&bucket).await, Vec::<String>::new());
    assert_eq!(store.head(&key).await.expect("head"), None);
}

#[tokio::test]
async fn a_missing_bucket_is_unavailable_not_not_found() {
    if !moto_available() {
        return;
    }
    let config = icosistem_blob::S3Config::new("no-such-bucket")
        .with_endpoint(MotoServer::shared().endpoint())
        .with_credentials("testing", "testing");
    let store = S3BlobStore::new(&config).expect("configure");
    let key = BlobKey::parse("x").expect("key");
    let put = store.put(&key, stream::iter([Ok(Bytes::from_static(b"x"))]), 10).await;
    assert!(matches!(put, Err(BlobError::Unavailable { .. })), "{put:?}");
}
