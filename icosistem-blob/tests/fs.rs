//! The blob conformance suite on the filesystem adapter, each case in a fresh directory, and
//! what only the filesystem shows: the sharded layout and that no temporary file outlives a
//! failed upload.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::stream;
use icosistem_blob::FsBlobStore;
use icosistem_core::ports::blob::{BlobEntries, BlobEntry, BlobError, BlobKey, BlobRead, BlobStore, StoredBlob};

fn fresh_dir() -> PathBuf {
    std::env::temp_dir().join(format!("icosistem-blob-fs-{}", uuid::Uuid::now_v7()))
}

async fn setup() -> Option<Scratch> {
    Some(Scratch(FsBlobStore::open(fresh_dir()).await.expect("open")))
}

/// A store in a directory of its own, removed with it when the case ends (passed or not).
struct Scratch(FsBlobStore);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.root());
    }
}

impl BlobStore for Scratch {
    async fn put<B>(&self, key: &BlobKey, body: B, max_bytes: u64) -> Result<StoredBlob, BlobError>
    where
        B: futures::Stream<Item = std::io::Result<Bytes>> + Send,
    {
        self.0.put(key, body, max_bytes).await
    }

    async fn get(&self, key: &BlobKey, range: Option<std::ops::Range<u64>>) -> Result<BlobRead, BlobError> {
        self.0.get(key, range).await
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobEntry>, BlobError> {
        self.0.head(key).await
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.0.delete(key).await
    }

    fn list(&self, prefix: &str) -> BlobEntries {
        self.0.list(prefix)
    }
}

icosistem_blob::blob_conformance_tests!(setup);

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).expect("under").to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_blob_is_one_file_in_its_shard_and_failed_uploads_leave_no_file() {
    let dir = fresh_dir();
    let store = FsBlobStore::open(&dir).await.expect("open");
    let key = BlobKey::parse("documents/abc/1").expect("key");
    let body = stream::iter([Ok(Bytes::from_static(b"hello"))]);
    store.put(&key, body, 10).await.expect("put");
    // sha256("documents/abc/1") starts with these two bytes.
    let digest = <sha2::Sha256 as sha2::Digest>::digest(b"documents/abc/1");
    let expected = format!("{:02x}/{:02x}/documents~abc~1", digest[0], digest[1]);
    assert_eq!(files(&dir), vec![expected.clone()]);

    let too_large = stream::iter([Ok(Bytes::from_static(b"0123456789")), Ok(Bytes::from_static(b"!"))]);
    assert!(matches!(
        store.put(&BlobKey::parse("other").unwrap(), too_large, 10).await,
        Err(BlobError::TooLarge { limit: 10 })
    ));
    let broken = stream::iter([Ok(Bytes::from_static(b"01")), Err(std::io::Error::other("gone"))]);
    assert!(matches!(store.put(&key, broken, 10).await, Err(BlobError::Body(_))));
    assert_eq!(files(&dir), vec![expected], "no temporary file is left");

    // A crash's leftover upload is not a blob.
    let shard = dir.join(&files(&dir)[0]).parent().expect("shard").to_path_buf();
    std::fs::write(shard.join(".upload-leftover"), b"partial").expect("write");
    let listed: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(store.list(""))
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[tokio::test]
async fn an_upload_dropped_half_way_leaves_no_file() {
    let dir = fresh_dir();
    let store = FsBlobStore::open(&dir).await.expect("open");
    let key = BlobKey::parse("dropped").expect("key");
    // A body that sends one chunk, says so when the next is asked for, and never sends it.
    let (asked, next_asked) = tokio::sync::oneshot::channel::<()>();
    let stalled = stream::once(async move {
        let _ = asked.send(());
        std::future::pending::<std::io::Result<Bytes>>().await
    });
    let body = futures::StreamExt::chain(stream::iter([Ok(Bytes::from_static(b"part"))]), stalled);
    let upload = store.put(&key, body, 100);
    tokio::select! {
        _ = upload => panic!("the upload cannot end without its body"),
        _ = next_asked => {}
    }
    // The upload's future is dropped here, half-way, as when a client goes away.
    assert!(
        files(&dir).is_empty(),
        "the dropped upload removed its file: {:?}",
        files(&dir)
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}
