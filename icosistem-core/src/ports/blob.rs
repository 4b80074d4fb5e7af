//! The blob port: where document bytes live (docs/domain.md §6).
//!
//! Metadata (owner, type, size, SHA-256, the storage key) lives in the store; the bytes live
//! behind [`BlobStore`]. A use case stores the bytes first ([`BlobStore::put`]), then commits the
//! metadata with its audit event; a blob whose metadata never committed is an orphan, found by
//! [`BlobStore::list`] (its `last_modified` tells an orphan from an upload still in flight) and
//! removed by a sweep job.
//!
//! Bodies are streams in both directions, so an upload is never held whole in memory by the
//! adapters that write to disk or to object storage: [`BlobStore::put`] reads chunks, counts
//! and hashes them as they pass ([`UploadMeter`]) and refuses the upload the moment it passes its
//! size limit.
//!
//! # Contracts (the same for every adapter; `icosistem-blob`'s conformance suite checks them)
//!
//! - `put` stores all of the body under the key or nothing: a body over `max_bytes`
//!   ([`BlobError::TooLarge`]), a body stream that fails ([`BlobError::Body`]), or a backend
//!   failure leave no blob (and no partial blob) behind. A `put` over an existing key replaces
//!   it atomically: readers see the old bytes or the new ones, never a mix.
//! - `get` of a missing key is [`BlobError::NotFound`]; `head` of a missing key is `Ok(None)`.
//! - `get` with a range serves `start..min(end, size)`; a range that starts at or after the end
//!   of the blob, or is empty, is [`BlobError::RangeNotSatisfiable`].
//! - `delete` is idempotent: deleting a missing key is `Ok(())`.
//! - `list(prefix)` yields every stored key that starts with `prefix` (a plain string prefix,
//!   not a path segment), each once, in no particular order; never an upload in progress.

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use super::{Clock, SystemClock};

/// The longest key, in bytes: one file name on common filesystems (the filesystem adapter keeps
/// a blob as one file named after its key), far below S3's 1024.
pub const MAX_KEY_BYTES: usize = 255;

/// Where a blob lives: made by the core (never derived from client input, docs/domain.md §6), for
/// example `documents/<document id>/<version>`.
///
/// A key is 1 to [`MAX_KEY_BYTES`] bytes of segments separated by `/`; each segment is non-empty,
/// made of ASCII letters, digits, `-`, `_` and `.`, and does not start with `.`. So a key is a
/// safe file name once its `/` are replaced (no `..`, no hidden files, which the filesystem
/// adapter keeps for uploads in progress) and a plain S3 object key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// Parses a key, refusing anything outside the rules above with [`BlobError::InvalidKey`].
    pub fn parse(key: impl Into<String>) -> Result<Self, BlobError> {
        let key = key.into();
        match key_problem(&key) {
            None => Ok(Self(key)),
            Some(reason) => Err(BlobError::InvalidKey { key, reason }),
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for BlobKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Why `key` is not a valid [`BlobKey`], or `None` when it is.
fn key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("is empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return Some("is longer than 255 bytes");
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return Some("has an empty segment (a leading, trailing or doubled `/`)");
        }
        if segment.starts_with('.') {
            return Some("has a segment starting with `.`");
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Some("has a character other than ASCII letters, digits, `-`, `_`, `.` and `/`");
        }
    }
    None
}

/// What a successful [`BlobStore::put`] stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBlob {
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes, computed while they streamed in.
    pub sha256: [u8; 32],
}

impl StoredBlob {
    /// The SHA-256 as 64 lower-case hex digits.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A stored blob as [`BlobStore::head`] and [`BlobStore::list`] see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobEntry {
    /// Its key.
    pub key: BlobKey,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written (the orphan sweep spares blobs younger than an upload can take).
    pub last_modified: DateTime<Utc>,
}

/// A body read from a store: chunks of bytes, or the error that stopped the read.
pub type BlobBody = Pin<Box<dyn Stream<Item = Result<Bytes, BlobError>> + Send + 'static>>;

/// The stored blobs [`BlobStore::list`] found.
pub type BlobEntries = Pin<Box<dyn Stream<Item = Result<BlobEntry, BlobError>> + Send + 'static>>;

/// An open read of a blob ([`BlobStore::get`]).
pub struct BlobRead {
    /// The size of the whole blob (an HTTP `Content-Range` needs it).
    pub size: u64,
    /// The bytes served: the whole blob, or the requested range cut at its end.
    pub range: Range<u64>,
    /// Those bytes, streamed.
    pub body: BlobBody,
}

impl std::fmt::Debug for BlobRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobRead")
            .field("size", &self.size)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

impl BlobRead {
    /// Reads the whole body into memory: for tests and small blobs only.
    pub async fn collect(self) -> Result<Bytes, BlobError> {
        let mut body = self.body;
        let mut out = BytesMut::with_capacity(usize::try_from(self.range.end - self.range.start).unwrap_or(0));
        while let Some(chunk) = body.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.freeze())
    }
}

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// No blob has this key.
    #[error("blob not found: {key}")]
    NotFound {
        /// The key asked for.
        key: String,
    },
    /// The body passed the size limit; nothing was stored.
    #[error("the upload is larger than {limit} bytes")]
    TooLarge {
        /// The limit it passed (`max_bytes`).
        limit: u64,
    },
    /// The key breaks the rules of [`BlobKey`].
    #[error("invalid blob key {key:?}: it {reason}")]
    InvalidKey {
        /// The key refused.
        key: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The range asked for is empty or starts at or after the end of the blob.
    #[error("range {start}..{end} is not satisfiable for a blob of {size} bytes")]
    RangeNotSatisfiable {
        /// The range's start.
        start: u64,
        /// The range's end (exclusive).
        end: u64,
        /// The blob's size.
        size: u64,
    },
    /// The body being uploaded failed (the client went away mid-upload); nothing was stored.
    #[error("the upload body failed")]
    Body(#[source] std::io::Error),
    /// The backend failed (disk, network, the object store's answer). Retrying may help.
    #[error("blob storage unavailable: {message}")]
    Unavailable {
        /// What was being done (no secrets).
        message: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl BlobError {
    /// A backend failure while doing `what`.
    pub fn unavailable(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::Unavailable {
            message: what.into(),
            source: source.into(),
        }
    }
}

/// Counts and hashes an upload as its chunks pass, and refuses it the moment it passes its
/// limit. Every adapter feeds its chunks through one, so the limit and the digest mean the same
/// on every backend.
#[derive(Debug, Clone)]
pub struct UploadMeter {
    hasher: Sha256,
    size: u64,
    max_bytes: u64,
}

impl UploadMeter {
    /// A meter for an upload of at most `max_bytes`.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            hasher: Sha256::new(),
            size: 0,
            max_bytes,
        }
    }

    /// Takes the next chunk: [`BlobError::TooLarge`] if it takes the upload past the limit (the
    /// chunk is then not hashed; the caller must discard what it stored so far).
    pub fn take(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        let size = self.size.saturating_add(chunk.len() as u64);
        if size > self.max_bytes {
            return Err(BlobError::TooLarge { limit: self.max_bytes });
        }
        self.size = size;
        self.hasher.update(chunk);
        Ok(())
    }

    /// Bytes taken so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The size and SHA-256 of everything taken.
    pub fn finish(self) -> StoredBlob {
        StoredBlob {
            size: self.size,
            sha256: self.hasher.finalize().into(),
        }
    }
}

/// The served part of a blob of `size` bytes for a requested `range` (see the contract above).
pub fn served_range(range: Option<Range<u64>>, size: u64) -> Result<Range<u64>, BlobError> {
    match range {
        None => Ok(0..size),
        Some(r) if r.start >= r.end || r.start >= size => Err(BlobError::RangeNotSatisfiable {
            start: r.start,
            end: r.end,
            size,
        }),
        Some(r) => Ok(r.start..r.end.min(size)),
    }
}

/// Blob storage. Implementations: `icosistem-blob` (filesystem and S3-compatible object storage)
/// and [`MemoryBlobStore`] here. The contracts are in the [module documentation](self).
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `body` under `key`, at most `max_bytes` of it, and answers its size and SHA-256.
    /// [`BlobError::TooLarge`] as soon as the body passes `max_bytes`; [`BlobError::Body`] when
    /// the body stream fails. Either way nothing is stored.
    fn put<B>(
        &self,
        key: &BlobKey,
        body: B,
        max_bytes: u64,
    ) -> impl Future<Output = Result<StoredBlob, BlobError>> + Send
    where
        B: Stream<Item = std::io::Result<Bytes>> + Send;

    /// Opens the blob (or `range` of it) for reading. [`BlobError::NotFound`] for a missing key;
    /// [`BlobError::RangeNotSatisfiable`] for an empty range or one past the end.
    fn get(&self, key: &BlobKey, range: Option<Range<u64>>)
    -> impl Future<Output = Result<BlobRead, BlobError>> + Send;

    /// The blob's size and age, `Ok(None)` when there is none.
    fn head(&self, key: &BlobKey) -> impl Future<Output = Result<Option<BlobEntry>, BlobError>> + Send;

    /// Removes the blob. Idempotent: a missing key is `Ok(())`.
    fn delete(&self, key: &BlobKey) -> impl Future<Output = Result<(), BlobError>> + Send;

    /// Every stored blob whose key starts with `prefix` (`""` for all), streamed.
    fn list(&self, prefix: &str) -> BlobEntries;

    /// Removes what uploads cut short by a crash left behind (they never become blobs) when it
    /// was last written before `older_than` — an upload still running writes more recently —
    /// and answers how many it removed. For the orphan sweep job. The default does nothing:
    /// for stores whose interrupted uploads leave nothing, or clean up after themselves (an S3
    /// bucket's `AbortIncompleteMultipartUpload` lifecycle rule).
    fn remove_abandoned_uploads(
        &self,
        older_than: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, BlobError>> + Send {
        let _ = older_than;
        async { Ok(0) }
    }
}

impl<T: BlobStore> BlobStore for Arc<T> {
    fn put<B>(
        &self,
        key: &BlobKey,
        body: B,
        max_bytes: u64,
    ) -> impl Future<Output = Result<StoredBlob, BlobError>> + Send
    where
        B: Stream<Item = std::io::Result<Bytes>> + Send,
    {
        (**self).put(key, body, max_bytes)
    }

    fn get(
        &self,
        key: &BlobKey,
        range: Option<Range<u64>>,
    ) -> impl Future<Output = Result<BlobRead, BlobError>> + Send {
        (**self).get(key, range)
    }

    fn head(&self, key: &BlobKey) -> impl Future<Output = Result<Option<BlobEntry>, BlobError>> + Send {
        (**self).head(key)
    }

    fn delete(&self, key: &BlobKey) -> impl Future<Output = Result<(), BlobError>> + Send {
        (**self).delete(key)
    }

    fn list(&self, prefix: &str) -> BlobEntries {
        (**self).list(prefix)
    }

    fn remove_abandoned_uploads(
        &self,
        older_than: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, BlobError>> + Send {
        (**self).remove_abandoned_uploads(older_than)
    }
}

/// Blobs in a map in memory: for tests, examples and the in-memory server. Holds every blob
/// whole, so it is no place for real uploads; the body is still metered while it streams in,
/// so the limit and the digest behave as on the real adapters.
pub struct MemoryBlobStore {
    blobs: Mutex<BTreeMap<BlobKey, (Bytes, DateTime<Utc>)>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryBlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.blobs.lock().map_or(0, |b| b.len());
        f.debug_struct("MemoryBlobStore")
            .field("blobs", &count)
            .finish_non_exhaustive()
    }
}

impl Default for MemoryBlobStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryBlobStore {
    /// An empty store whose blobs are stamped by the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store whose blobs are stamped by `clock` (tests of the orphan sweep move it).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            blobs: Mutex::new(BTreeMap::new()),
            clock,
        }
    }

    fn blobs(&self) -> std::sync::MutexGuard<'_, BTreeMap<BlobKey, (Bytes, DateTime<Utc>)>> {
        self.blobs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl BlobStore for MemoryBlobStore {
    async fn put<B>(&self, key: &BlobKey, body: B, max_bytes: u64) -> Result<StoredBlob, BlobError>
    where
        B: Stream<Item = std::io::Result<Bytes>> + Send,
    {
        let mut body = std::pin::pin!(body);
        let mut meter = UploadMeter::new(max_bytes);
        let mut bytes = BytesMut::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(BlobError::Body)?;
            meter.take(&chunk)?;
            bytes.extend_from_slice(&chunk);
        }
        let stored = meter.finish();
        self.blobs().insert(key.clone(), (bytes.freeze(), self.clock.now()));
        Ok(stored)
    }

    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> Result<BlobRead, BlobError> {
        let bytes = self
            .blobs()
            .get(key)
            .map(|(bytes, _)| bytes.clone())
            .ok_or_else(|| BlobError::NotFound { key: key.to_string() })?;
        let size = bytes.len() as u64;
        let range = served_range(range, size)?;
        // In range by construction, so the casts cannot truncate.
        let part = bytes.slice(range.start as usize..range.end as usize);
        Ok(BlobRead {
            size,
            range,
            body: Box::pin(futures::stream::once(async move { Ok(part) })),
        })
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobEntry>, BlobError> {
        Ok(self.blobs().get(key).map(|(bytes, at)| BlobEntry {
            key: key.clone(),
            size: bytes.len() as u64,
            last_modified: *at,
        }))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.blobs().remove(key);
        Ok(())
    }

    fn list(&self, prefix: &str) -> BlobEntries {
        let entries: Vec<_> = self
            .blobs()
            .iter()
            .filter(|(key, _)| key.as_str().starts_with(prefix))
            .map(|(key, (bytes, at))| {
                Ok(BlobEntry {
                    key: key.clone(),
                    size: bytes.len() as u64,
                    last_modified: *at,
                })
            })
            .collect();
        Box::pin(futures::stream::iter(entries))
    }
}

/// A boxed future of a blob operation.
type BlobFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BlobError>> + Send + 'a>>;

/// An upload body behind a pointer.
type UploadBody<'a> = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'a>>;

/// [`BlobStore`] with boxed futures, so one can sit behind `dyn` (the generic `put` of the port
/// cannot). Implemented for every blob store.
trait ErasedBlobStore: Send + Sync + 'static {
    fn put<'a>(&'a self, key: &'a BlobKey, body: UploadBody<'a>, max_bytes: u64) -> BlobFuture<'a, StoredBlob>;
    fn get<'a>(&'a self, key: &'a BlobKey, range: Option<Range<u64>>) -> BlobFuture<'a, BlobRead>;
    fn head<'a>(&'a self, key: &'a BlobKey) -> BlobFuture<'a, Option<BlobEntry>>;
    fn delete<'a>(&'a self, key: &'a BlobKey) -> BlobFuture<'a, ()>;
    fn list(&self, prefix: &str) -> BlobEntries;
    fn remove_abandoned_uploads(&self, older_than: DateTime<Utc>) -> BlobFuture<'_, u64>;
}

impl<T: BlobStore> ErasedBlobStore for T {
    fn put<'a>(&'a self, key: &'a BlobKey, body: UploadBody<'a>, max_bytes: u64) -> BlobFuture<'a, StoredBlob> {
        Box::pin(BlobStore::put(self, key, body, max_bytes))
    }
    fn get<'a>(&'a self, key: &'a BlobKey, range: Option<Range<u64>>) -> BlobFuture<'a, BlobRead> {
        Box::pin(BlobStore::get(self, key, range))
    }
    fn head<'a>(&'a self, key: &'a BlobKey) -> BlobFuture<'a, Option<BlobEntry>> {
        Box::pin(BlobStore::head(self, key))
    }
    fn delete<'a>(&'a self, key: &'a BlobKey) -> BlobFuture<'a, ()> {
        Box::pin(BlobStore::delete(self, key))
    }
    fn list(&self, prefix: &str) -> BlobEntries {
        BlobStore::list(self, prefix)
    }
    fn remove_abandoned_uploads(&self, older_than: DateTime<Utc>) -> BlobFuture<'_, u64> {
        Box::pin(BlobStore::remove_abandoned_uploads(self, older_than))
    }
}

/// Any [`BlobStore`], shared and type-erased: what the [`Ecosystem`](crate::Ecosystem) carries
/// (as it carries its password hasher), so choosing a blob store adds no type parameter to
/// every use case. Cloning shares the store. Itself a `BlobStore`; the boxing costs one
/// allocation per operation, nothing next to the I/O behind it.
#[derive(Clone)]
pub struct SharedBlobStore(Arc<dyn ErasedBlobStore>);

impl SharedBlobStore {
    /// Shares `store`.
    pub fn new(store: impl BlobStore) -> Self {
        Self(Arc::new(store))
    }
}

impl std::fmt::Debug for SharedBlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBlobStore").finish_non_exhaustive()
    }
}

impl BlobStore for SharedBlobStore {
    async fn put<B>(&self, key: &BlobKey, body: B, max_bytes: u64) -> Result<StoredBlob, BlobError>
    where
        B: Stream<Item = std::io::Result<Bytes>> + Send,
    {
        let body: UploadBody<'_> = Box::pin(body);
        self.0.put(key, body, max_bytes).await
    }

    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> Result<BlobRead, BlobError> {
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

    async fn remove_abandoned_uploads(&self, older_than: DateTime<Utc>) -> Result<u64, BlobError> {
        self.0.remove_abandoned_uploads(older_than).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_safe_relative_paths() {
        for good in ["a", "documents/0193a1b2-c3d4/v1", "x.pdf", "A_b-c.d/e"] {
            assert!(BlobKey::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/a",
            "a/",
            "a//b",
            "..",
            "a/../b",
            ".hidden",
            "a/.upload-1",
            "a b",
            "a\\b",
            "ñ",
            "a\0b",
        ] {
            assert!(
                matches!(BlobKey::parse(bad), Err(BlobError::InvalidKey { .. })),
                "{bad:?}"
            );
        }
        assert!(BlobKey::parse("a".repeat(255)).is_ok());
        assert!(BlobKey::parse("a".repeat(256)).is_err());
        assert!(BlobKey::parse(vec!["a".repeat(100); 3].join("/")).is_err());
    }

    #[test]
    fn the_meter_refuses_past_the_limit_and_hashes_what_it_took() {
        let mut meter = UploadMeter::new(5);
        meter.take(b"abc").unwrap();
        meter.take(b"de").unwrap();
        assert!(matches!(
            meter.clone().take(b"f"),
            Err(BlobError::TooLarge { limit: 5 })
        ));
        let stored = meter.finish();
        assert_eq!(stored.size, 5);
        // sha256("abcde")
        assert_eq!(
            stored.sha256_hex(),
            "36bbe50ed96841d10443bcb670d6554f0a34b761be67ec9c4a8ad2c0c44ca42c"
        );
    }

    #[test]
    fn ranges_are_cut_at_the_end_and_refused_past_it() {
        assert_eq!(served_range(None, 10).unwrap(), 0..10);
        assert_eq!(served_range(Some(2..5), 10).unwrap(), 2..5);
        assert_eq!(served_range(Some(8..50), 10).unwrap(), 8..10);
        assert!(served_range(Some(10..11), 10).is_err());
        assert!(served_range(Some(3..3), 10).is_err());
        assert!(served_range(Some(0..1), 0).is_err());
    }
}
