//! # icosistem-blob
//!
//! Where the bytes of Icosistem's documents live (docs/domain.md §6): the adapters of the core's
//! [`BlobStore`](icosistem_core::ports::BlobStore) port. The metadata of a document (owner,
//! type, size, SHA-256, its storage key) is in the store; its bytes are here, under a key the
//! core made.
//!
//! - [`FsBlobStore`] (feature `fs`, the default): files under a directory, written to a
//!   temporary file, fsynced and renamed into place, in directories sharded by the key's hash;
//! - `S3BlobStore` (feature `s3`): an S3-compatible bucket — AWS S3, MinIO, Ceph, GCS's S3 API
//!   — through the `object_store` crate, large uploads as multipart uploads.
//!
//! Both stream: an upload passes through a buffer of 64 KiB (filesystem) or about two S3 parts
//! (5 MiB each by default), never held whole; its size limit is enforced and its SHA-256 computed
//! while it streams ([`UploadMeter`](icosistem_core::ports::blob::UploadMeter)); reads are
//! streams too, of the whole blob or a byte range. An upload that fails for any reason — too
//! large, the client went away, the backend failed — leaves nothing behind.
//!
//! ```no_run
//! use futures::stream;
//! use icosistem_blob::BlobConfig;
//! use icosistem_core::ports::{BlobKey, BlobStore};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let blobs = BlobConfig::from_env()?.open().await?;
//! let key = BlobKey::parse("documents/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/1")?;
//! let body = stream::iter([Ok(bytes::Bytes::from_static(b"%PDF-1.7 ..."))]);
//! let stored = blobs.put(&key, body, 16 * 1024 * 1024).await?;
//! println!("{} bytes, sha256 {}", stored.size, stored.sha256_hex());
//! let bytes = blobs.get(&key, Some(0..8)).await?.collect().await?;
//! assert_eq!(&bytes[..], b"%PDF-1.7");
//! # Ok(())
//! # }
//! ```
//!
//! ## Configuration ([`BlobConfig::from_env`])
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ICOSISTEM_BLOB_BACKEND` | `fs` | `fs` (files under `UPLOAD_PATH`) or `s3` |
//! | `UPLOAD_PATH` | `uploads` | the root directory of the filesystem backend (created if missing) |
//! | `ICOSISTEM_S3_BUCKET` | — (required with `s3`) | the bucket; it must exist |
//! | `ICOSISTEM_S3_REGION` | `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1` | the bucket's region |
//! | `ICOSISTEM_S3_ENDPOINT` | `AWS_ENDPOINT_URL`, else AWS | the server's URL (`http://minio:9000`); `http://` allows plain HTTP |
//! | `ICOSISTEM_S3_ACCESS_KEY_ID` | `AWS_ACCESS_KEY_ID` | access key id (set both or neither) |
//! | `ICOSISTEM_S3_SECRET_ACCESS_KEY` | `AWS_SECRET_ACCESS_KEY` | secret access key; without either, the standard AWS sources (the container or instance role) |
//! | `ICOSISTEM_S3_VIRTUAL_HOSTED` | `false` | `true`: `https://<bucket>.<endpoint>` requests instead of path style |
//! | `ICOSISTEM_S3_PART_SIZE` | `5242880` (5 MiB) | bytes per multipart part, 5 MiB to 5 GiB; an upload holds about two in memory |
//!
//! The upload size limit is not here: the caller passes it to each `put` (the core's limits).
//!
//! ## Layout
//!
//! - [`fs`]: [`FsBlobStore`], its on-disk layout and how a write is made atomic and durable;
//! - `s3` (feature `s3`): `S3BlobStore`, single and multipart uploads and their abort;
//! - [`config`]: [`BlobConfig`] from the environment, [`AnyBlobStore`] (the store it opens, one
//!   type whatever the backend);
//! - `testing` (feature `testing`): the blob conformance suite every adapter runs
//!   (`blob_conformance_tests!`) and a local S3 server (moto) for the S3 adapter's tests.

pub mod config;
#[cfg(feature = "fs")]
pub mod fs;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::{AnyBlobStore, BlobConfig, BlobConfigError, OpenError, S3Config};
#[cfg(feature = "fs")]
pub use fs::FsBlobStore;
#[cfg(feature = "s3")]
pub use s3::S3BlobStore;
