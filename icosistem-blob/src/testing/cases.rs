//! The cases of the blob conformance suite. Each takes a fresh, empty store and asserts one
//! exact outcome per step; bodies are generated chunk by chunk, so the large cases hold no more
//! in the test than the store under test does.

use std::collections::BTreeSet;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use icosistem_core::ports::blob::{BlobError, BlobKey, BlobStore};
use sha2::{Digest, Sha256};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

fn key(raw: &str) -> BlobKey {
    BlobKey::parse(raw).expect("a valid key")
}

/// Deterministic bytes, different for each `seed`: byte `i` of the body `seed`.
fn byte_at(seed: u64, i: u64) -> u8 {
    // A cheap mix so neighbouring bytes and seeds differ (a constant body hides offset bugs).
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed.wrapping_mul(0xD1B5_4A32_D192_ED03);
    (x >> 29) as u8
}

/// The body `seed` of `len` bytes, whole (small bodies only).
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    (0..len as u64).map(|i| byte_at(seed, i)).collect()
}

/// The body `seed` of `len` bytes as a stream of `chunk`-byte chunks, each made when asked for.
fn body(seed: u64, len: usize, chunk: usize) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures::stream::unfold(0usize, move |at| async move {
        (at < len).then(|| {
            let end = (at + chunk).min(len);
            let part: Vec<u8> = (at as u64..end as u64).map(|i| byte_at(seed, i)).collect();
            (Ok(Bytes::from(part)), end)
        })
    })
}

/// The body `seed` for `len` bytes, then an I/O error (a client that went away).
fn failing_body(seed: u64, len: usize, chunk: usize) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    body(seed, len, chunk).chain(futures::stream::once(async {
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "the client went away"))
    }))
}

fn sha256_of_body(seed: u64, len: usize) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut at = 0u64;
    let mut buf = Vec::with_capacity(64 * KIB);
    while at < len as u64 {
        let end = (at + 64 * KIB as u64).min(len as u64);
        buf.clear();
        buf.extend((at..end).map(|i| byte_at(seed, i)));
        hasher.update(&buf);
        at = end;
    }
    hasher.finalize().into()
}

async fn read<S: BlobStore>(store: &S, key: &BlobKey, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let read = store.get(key, range).await.expect("get");
    read.collect().await.expect("read the body").to_vec()
}

async fn listed<S: BlobStore>(store: &S, prefix: &str) -> BTreeSet<String> {
    let entries: Vec<_> = store.list(prefix).try_collect().await.expect("list");
    let keys: BTreeSet<String> = entries.iter().map(|e| e.key.to_string()).collect();
    assert_eq!(keys.len(), entries.len(), "each key listed once: {entries:?}");
    keys
}

/// Nothing is stored under `key`, by every way of looking.
async fn assert_absent<S: BlobStore>(store: &S, key: &BlobKey) {
    assert_eq!(store.head(key).await.expect("head"), None, "{key} is absent");
    assert!(
        matches!(store.get(key, None).await, Err(BlobError::NotFound { .. })),
        "{key} is not found"
    );
    assert!(!listed(store, "").await.contains(key.as_str()), "{key} is not listed");
}

/// Chunks of several sizes come back byte for byte, with the size and SHA-256 of what was sent.
pub async fn put_then_get_gives_back_the_bytes_and_their_sha256<S: BlobStore>(store: S) {
    let k = key("documents/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/1");
    let chunks = vec![
        Ok(Bytes::from_static(b"%PDF-1.7\n")),
        Ok(Bytes::new()),
        Ok(Bytes::from(bytes(1, 3000))),
        Ok(Bytes::from_static(b"%%EOF")),
    ];
    let whole: Vec<u8> = chunks
        .iter()
        .flat_map(|c: &io::Result<Bytes>| c.as_ref().expect("ok").to_vec())
        .collect();
    let stored = store
        .put(&k, futures::stream::iter(chunks), 1_000_000)
        .await
        .expect("put");
    assert_eq!(stored.size, whole.len() as u64);
    assert_eq!(stored.sha256, <[u8; 32]>::from(Sha256::digest(&whole)));
    assert_eq!(stored.sha256_hex().len(), 64);

    let got = store.get(&k, None).await.expect("get");
    assert_eq!(
        (got.size, got.range.clone()),
        (whole.len() as u64, 0..whole.len() as u64)
    );
    assert_eq!(got.collect().await.expect("body").to_vec(), whole);
    let head = store.head(&k).await.expect("head").expect("present");
    assert_eq!((head.key, head.size), (k, whole.len() as u64));
}

/// A zero-byte upload is stored and read back empty, with the SHA-256 of nothing.
pub async fn an_empty_blob_is_a_blob<S: BlobStore>(store: S) {
    let k = key("empty");
    let stored = store.put(&k, futures::stream::empty(), 10).await.expect("put");
    assert_eq!(stored.size, 0);
    assert_eq!(
        stored.sha256_hex(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(read(&store, &k, None).await, Vec::<u8>::new());
    assert_eq!(store.head(&k).await.expect("head").expect("present").size, 0);
    assert!(matches!(
        store.get(&k, Some(0..1)).await,
        Err(BlobError::RangeNotSatisfiable { size: 0, .. })
    ));
}

/// A second upload under a key replaces the first; a refused one leaves the first in place.
pub async fn put_over_a_key_replaces_the_blob<S: BlobStore>(store: S) {
    let k = key("replaced");
    store.put(&k, body(1, 5000, 1000), 10_000).await.expect("first");
    store.put(&k, body(2, 300, 100), 10_000).await.expect("second");
    assert_eq!(read(&store, &k, None).await, bytes(2, 300));
    assert!(matches!(
        store.put(&k, body(3, 20_000, 1000), 10_000).await,
        Err(BlobError::TooLarge { limit: 10_000 })
    ));
    assert!(matches!(
        store.put(&k, failing_body(4, 1000, 100), 10_000).await,
        Err(BlobError::Body(_))
    ));
    assert_eq!(
        read(&store, &k, None).await,
        bytes(2, 300),
        "the refused uploads changed nothing"
    );
    assert_eq!(listed(&store, "").await, BTreeSet::from(["replaced".to_owned()]));
}

/// `max_bytes` itself is allowed; one byte more is `TooLarge` and stores nothing.
pub async fn the_exact_limit_is_accepted_and_one_byte_more_stores_nothing<S: BlobStore>(store: S) {
    let limit = 10_000u64;
    let exact = key("limit/exact");
    let stored = store
        .put(&exact, body(1, 10_000, 999), limit)
        .await
        .expect("at the limit");
    assert_eq!(stored.size, limit);
    assert_eq!(stored.sha256, sha256_of_body(1, 10_000));

    let over = key("limit/over");
    let refused = store.put(&over, body(2, 10_001, 999), limit).await;
    assert!(
        matches!(refused, Err(BlobError::TooLarge { limit: 10_000 })),
        "{refused:?}"
    );
    assert_absent(&store, &over).await;
    // The byte that passes the limit may arrive alone.
    let last = futures::stream::iter([Ok(Bytes::from(bytes(3, 10_000))), Ok(Bytes::from_static(b"x"))]);
    assert!(matches!(
        store.put(&over, last, limit).await,
        Err(BlobError::TooLarge { .. })
    ));
    assert_absent(&store, &over).await;
    assert_eq!(
        listed(&store, "limit/").await,
        BTreeSet::from(["limit/exact".to_owned()])
    );
}

/// A body that fails half-way is `BlobError::Body` and stores nothing.
pub async fn a_failing_body_stores_nothing<S: BlobStore>(store: S) {
    let k = key("broken");
    let refused = store.put(&k, failing_body(1, 4000, 1000), 1_000_000).await;
    assert!(
        matches!(&refused, Err(BlobError::Body(e)) if e.kind() == io::ErrorKind::ConnectionReset),
        "{refused:?}"
    );
    assert_absent(&store, &k).await;
    let at_once = futures::stream::once(async { Err(io::Error::other("nothing at all")) });
    assert!(matches!(store.put(&k, at_once, 100).await, Err(BlobError::Body(_))));
    assert_absent(&store, &k).await;
    assert!(listed(&store, "").await.is_empty());
}

/// Uploads refused after several MiB (S3: after the multipart upload began) store nothing.
pub async fn large_uploads_refused_half_way_store_nothing<S: BlobStore>(store: S) {
    let too_large = key("large/too-large");
    let refused = store
        .put(&too_large, body(1, 12 * MIB, 64 * KIB), 10 * MIB as u64)
        .await;
    assert!(matches!(refused, Err(BlobError::TooLarge { .. })), "{refused:?}");
    assert_absent(&store, &too_large).await;

    let broken = key("large/broken");
    let refused = store
        .put(&broken, failing_body(2, 7 * MIB, 64 * KIB), 16 * MIB as u64)
        .await;
    assert!(matches!(refused, Err(BlobError::Body(_))), "{refused:?}");
    assert_absent(&store, &broken).await;
    assert!(listed(&store, "large/").await.is_empty());
}

/// A range serves `start..min(end, size)`; an empty one or one from the end on is refused.
pub async fn ranges_are_cut_at_the_end_and_refused_past_it<S: BlobStore>(store: S) {
    let k = key("ranged");
    let whole = bytes(1, 100_000);
    store.put(&k, body(1, 100_000, 7000), 100_000).await.expect("put");

    for (range, served) in [
        (0..10, 0..10),
        (99_999..100_000, 99_999..100_000),
        (65_530..65_600, 65_530..65_600),
        (40_000..1_000_000, 40_000..100_000),
        (0..100_000, 0..100_000),
    ] {
        let got = store.get(&k, Some(range.clone())).await.expect("ranged get");
        assert_eq!((got.size, got.range.clone()), (100_000, served.clone()), "{range:?}");
        let body = got.collect().await.expect("body");
        assert_eq!(
            &body[..],
            &whole[served.start as usize..served.end as usize],
            "{range:?}"
        );
    }
    // A reversed range (end before start) is empty too.
    #[allow(clippy::reversed_empty_ranges)]
    let refused = [100_000..100_001, 200_000..300_000, 5..5, 10..3];
    for range in refused {
        let refused = store.get(&k, Some(range.clone())).await;
        assert!(
            matches!(
                refused,
                Err(BlobError::RangeNotSatisfiable { start, end, size: 100_000 }) if start == range.start && end == range.end
            ),
            "{range:?}: {refused:?}"
        );
    }
    assert!(matches!(
        store.get(&key("ranged-missing"), Some(0..10)).await,
        Err(BlobError::NotFound { .. })
    ));
}

/// Reading or heading a key never stored: `NotFound` and `None`, naming the key.
pub async fn missing_keys_are_not_found<S: BlobStore>(store: S) {
    let k = key("never/stored");
    match store.get(&k, None).await {
        Err(BlobError::NotFound { key }) => assert_eq!(key, "never/stored"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(store.head(&k).await.expect("head"), None);
}

/// Deleting removes the blob; deleting again, or a key never stored, is `Ok`.
pub async fn delete_is_idempotent<S: BlobStore>(store: S) {
    let k = key("deleted");
    let kept = key("kept");
    store.put(&k, body(1, 100, 10), 100).await.expect("put");
    store.put(&kept, body(2, 100, 10), 100).await.expect("put");
    store.delete(&k).await.expect("delete");
    assert_absent(&store, &k).await;
    store.delete(&k).await.expect("delete again");
    store.delete(&key("never/stored")).await.expect("delete a missing key");
    assert_eq!(
        read(&store, &kept, None).await,
        bytes(2, 100),
        "other blobs are untouched"
    );
}

/// `list` matches a plain string prefix, not whole path segments, with sizes and times.
pub async fn list_finds_keys_by_string_prefix<S: BlobStore>(store: S) {
    let keys = ["a/1", "a/2", "ab/3", "b/1", "a/sub/4", "a"];
    for (i, k) in keys.iter().enumerate() {
        store.put(&key(k), body(i as u64, 10 + i, 4), 100).await.expect("put");
    }
    let set = |ks: &[&str]| ks.iter().map(|k| (*k).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(listed(&store, "").await, set(&keys));
    assert_eq!(listed(&store, "a/").await, set(&["a/1", "a/2", "a/sub/4"]));
    assert_eq!(listed(&store, "a").await, set(&["a", "a/1", "a/2", "ab/3", "a/sub/4"]));
    assert_eq!(listed(&store, "a/s").await, set(&["a/sub/4"]));
    assert_eq!(listed(&store, "a/sub/4").await, set(&["a/sub/4"]));
    assert_eq!(listed(&store, "c").await, set(&[]));
    let entries: Vec<_> = store.list("ab").try_collect().await.expect("list");
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].key.as_str(), entries[0].size), ("ab/3", 12));
    let age = chrono::Utc::now() - entries[0].last_modified;
    assert!(
        age.num_seconds().abs() < 300,
        "last_modified is when it was written: {}",
        entries[0].last_modified
    );
}

/// Keys outside the rules cannot be made, so no adapter ever sees one.
pub async fn invalid_keys_are_refused<S: BlobStore>(store: S) {
    for bad in [
        "",
        "../etc/passwd",
        "/abs",
        "a/../b",
        "a/./b",
        ".upload-1",
        "a//b",
        "a/",
        "é",
        "a b",
        "a~b",
    ] {
        assert!(
            matches!(BlobKey::parse(bad), Err(BlobError::InvalidKey { .. })),
            "{bad:?} is refused"
        );
    }
    assert!(BlobKey::parse("x".repeat(256)).is_err());
    // The longest valid key works end to end.
    let longest = key(&"x".repeat(255));
    store.put(&longest, body(1, 10, 10), 10).await.expect("put");
    assert_eq!(read(&store, &longest, None).await, bytes(1, 10));
    assert_eq!(listed(&store, "x").await.len(), 1);
}

/// Sixteen uploads at once, each to its own key, all land intact.
pub async fn concurrent_puts_of_different_keys_all_land<S: BlobStore>(store: S) {
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..16u64)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let k = key(&format!("concurrent/{i}"));
                let len = 50_000 + i as usize * 1000;
                let stored = store.put(&k, body(i, len, 4096), 1_000_000).await.expect("put");
                assert_eq!(stored.sha256, sha256_of_body(i, len));
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(listed(&*store, "concurrent/").await.len(), 16);
    for i in 0..16u64 {
        let len = 50_000 + i as usize * 1000;
        assert_eq!(
            read(&*store, &key(&format!("concurrent/{i}")), None).await,
            bytes(i, len)
        );
    }
}

/// 16 MiB (the default upload limit, docs/domain.md §6) in 64 KiB chunks at exactly the limit, read
/// back as a stream and hashed on the way.
pub async fn a_16_mib_upload_streams_in_and_out<S: BlobStore>(store: S) {
    let k = key("large/16mib");
    let len = 16 * MIB;
    let stored = store.put(&k, body(7, len, 64 * KIB), len as u64).await.expect("put");
    let expected = sha256_of_body(7, len);
    assert_eq!((stored.size, stored.sha256), (len as u64, expected));

    let got = store.get(&k, None).await.expect("get");
    assert_eq!(got.size, len as u64);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut body = got.body;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("chunk");
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    assert_eq!(size, len as u64);
    assert_eq!(<[u8; 32]>::from(hasher.finalize()), expected);
    // A range in the middle of it, across a 5 MiB (S3 part) boundary.
    let start = 5 * MIB as u64 - 10;
    assert_eq!(
        read(&store, &k, Some(start..start + 20)).await,
        (start..start + 20).map(|i| byte_at(7, i)).collect::<Vec<_>>()
    );
}
