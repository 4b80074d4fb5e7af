//! [`S3BlobStore`]: blobs as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, GCS's S3
//! API …), through the `object_store` crate.
//!
//! A blob with key `k` is the object `k`. An upload that fits in one part is buffered (at most
//! [`S3Config::part_size`]) and sent with one `PutObject`; a larger one becomes a multipart upload
//! with one part in flight while the next fills, so an upload holds at most about two parts in
//! memory. S3 shows neither a `PutObject` nor a multipart upload until it completes, and an
//! upload refused half-way (too large, the body failed, the caller went away) is aborted, so a
//! failed upload leaves no object behind.

use std::io;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use icosistem_core::ports::blob::{
    BlobEntries, BlobEntry, BlobError, BlobKey, BlobRead, BlobStore, StoredBlob, UploadMeter, served_range,
};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore, PutPayload, WriteMultipart};

use crate::config::S3Config;

/// Blob storage in an S3-compatible bucket. Cheap to clone.
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    part_size: usize,
    bucket: String,
}

impl S3BlobStore {
    /// A store over the bucket `config` names. Makes no request: a wrong endpoint or credential
    /// shows on the first operation, as [`BlobError::Unavailable`].
    pub fn new(config: &S3Config) -> Result<Self, BlobError> {
        // From the environment first, so the standard AWS sources (`AWS_*`, the container or
        // instance role) fill in what the configuration leaves out.
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_virtual_hosted_style_request(config.virtual_hosted_style);
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some((id, secret)) = &config.credentials {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret.expose());
        }
        let store = builder
            .build()
            .map_err(|e| BlobError::unavailable(format!("configuring the S3 bucket {}", config.bucket), e))?;
        Ok(Self {
            store: Arc::new(store),
            part_size: config.part_size,
            bucket: config.bucket.clone(),
        })
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn unavailable(&self, what: &str, key: &str, e: object_store::Error) -> BlobError {
        BlobError::unavailable(format!("{what} s3://{}/{key}", self.bucket), e)
    }
}

/// The object path of a key. Keys are valid object_store paths by construction (no empty
/// segments, no `.` or `..`, only unreserved characters), so this never percent-encodes.
fn path_of(key: &BlobKey) -> Path {
    Path::from(key.as_str())
}

/// A multipart upload that is aborted unless it completed, including when the upload's future
/// is dropped half-way (S3 would otherwise keep, and bill, the parts sent so far).
struct Multipart(Option<WriteMultipart>);

impl Multipart {
    async fn abort(mut self) {
        if let Some(upload) = self.0.take() {
            // Best effort: a bucket lifecycle rule for incomplete uploads is the backstop.
            let _ = upload.abort().await;
        }
    }
}

impl Drop for Multipart {
    fn drop(&mut self) {
        if let Some(upload) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = upload.abort().await;
            });
        }
    }
}

impl BlobStore for S3BlobStore {
    async fn put<B>(&self, key: &BlobKey, body: B, max_bytes: u64) -> Result<StoredBlob, BlobError>
    where
        B: Stream<Item = io::Result<Bytes>> + Send,
    {
        let path = path_of(key);
        let mut body = std::pin::pin!(body);
        let mut meter = UploadMeter::new(max_bytes);
        // The first part is gathered before anything is sent: most documents fit in it, and
        // then one request stores them.
        let mut first = Vec::new();
        let mut buffered = 0;
        loop {
            match body.next().await {
                None => {
                    let payload: PutPayload = first.into_iter().collect();
                    self.store
                        .put(&path, payload)
                        .await
                        .map_err(|e| self.unavailable("storing", key.as_str(), e))?;
                    return Ok(meter.finish());
                }
                Some(chunk) => {
                    let chunk = chunk.map_err(BlobError::Body)?;
                    meter.take(&chunk)?;
                    buffered += chunk.len();
                    first.push(chunk);
                    if buffered >= self.part_size {
                        break;
                    }
                }
            }
        }
        let upload = self
            .store
            .put_multipart(&path)
            .await
            .map_err(|e| self.unavailable("starting an upload of", key.as_str(), e))?;
        let mut upload = Multipart(Some(WriteMultipart::new_with_chunk_size(upload, self.part_size)));
        let writer = upload.0.as_mut().expect("set above");
        for chunk in first {
            writer.put(chunk);
        }
        while let Some(chunk) = body.next().await {
            let taken = chunk.map_err(BlobError::Body).and_then(|chunk| {
                meter.take(&chunk)?;
                Ok(chunk)
            });
            let chunk = match taken {
                Ok(chunk) => chunk,
                Err(e) => {
                    upload.abort().await;
                    return Err(e);
                }
            };
            let writer = upload.0.as_mut().expect("not aborted");
            // One part in flight while the next fills: memory stays at about two parts.
            if let Err(e) = writer.wait_for_capacity(1).await {
                upload.abort().await;
                return Err(self.unavailable("uploading", key.as_str(), e));
            }
            writer.put(chunk);
        }
        let writer = upload.0.take().expect("not aborted");
        // `finish` aborts the upload itself when completing it fails.
        writer
            .finish()
            .await
            .map_err(|e| self.unavailable("completing the upload of", key.as_str(), e))?;
        Ok(meter.finish())
    }

    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> Result<BlobRead, BlobError> {
        let path = path_of(key);
        let not_found = |e: object_store::Error| match e {
            object_store::Error::NotFound { .. } => BlobError::NotFound { key: key.to_string() },
            e => self.unavailable("reading", key.as_str(), e),
        };
        let options = match range {
            None => GetOptions::default(),
            Some(range) => {
                // The size first, so a range past the end is refused the same way on every
                // adapter (S3 answers 416 with a message of its own).
                let size = self.store.head(&path).await.map_err(not_found)?.size;
                GetOptions {
                    range: Some(GetRange::Bounded(served_range(Some(range), size)?)),
                    ..GetOptions::default()
                }
            }
        };
        let got = self.store.get_opts(&path, options).await.map_err(not_found)?;
        let size = got.meta.size;
        let served = got.range.clone();
        let what = format!("reading s3://{}/{key}", self.bucket);
        let body = got
            .into_stream()
            .map(move |chunk| chunk.map_err(|e| BlobError::unavailable(what.clone(), e)));
        Ok(BlobRead {
            size,
            range: served,
            body: Box::pin(body),
        })
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobEntry>, BlobError> {
        match self.store.head(&path_of(key)).await {
            Ok(meta) => Ok(Some(BlobEntry {
                key: key.clone(),
                size: meta.size,
                last_modified: meta.last_modified,
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.unavailable("reading", key.as_str(), e)),
        }
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match self.store.delete(&path_of(key)).await {
            // S3 answers 204 for a missing key too; other S3-compatible servers may say 404.
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.unavailable("deleting", key.as_str(), e)),
        }
    }

    fn list(&self, prefix: &str) -> BlobEntries {
        // object_store lists by whole path segments; ask for the prefix's directory and keep
        // the keys that start with the whole prefix.
        let dir = prefix.rsplit_once('/').map(|(dir, _)| Path::from(dir));
        let prefix = prefix.to_owned();
        let bucket = self.bucket.clone();
        let listed = self.store.list(dir.as_ref()).filter_map(move |meta| {
            let entry = match meta {
                Ok(ObjectMeta {
                    location,
                    size,
                    last_modified,
                    ..
                }) => match BlobKey::parse(location.as_ref()) {
                    // Objects that are not ours (not a key) are neither listed nor swept.
                    Ok(key) if key.as_str().starts_with(&prefix) => Some(Ok(BlobEntry {
                        key,
                        size,
                        last_modified,
                    })),
                    _ => None,
                },
                Err(e) => Some(Err(BlobError::unavailable(format!("listing s3://{bucket}"), e))),
            };
            std::future::ready(entry)
        });
        Box::pin(listed)
    }
}
