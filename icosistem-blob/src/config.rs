//! [`BlobConfig`]: which backend holds the blobs, read from the environment, and
//! [`AnyBlobStore`], the store it opens.

use std::ops::Range;
use std::path::PathBuf;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::blob::{BlobEntries, BlobEntry, BlobError, BlobKey, BlobRead, BlobStore, StoredBlob};

/// The upload directory when `UPLOAD_PATH` is not set (relative to the working directory).
pub const DEFAULT_UPLOAD_PATH: &str = "uploads";
/// The region when none is configured (also what MinIO and moto expect by default).
pub const DEFAULT_S3_REGION: &str = "us-east-1";
/// The smallest part S3 accepts in a multipart upload (but the last), and the default part size.
pub const MIN_S3_PART_SIZE: usize = 5 * 1024 * 1024;
/// The largest part S3 accepts.
pub const MAX_S3_PART_SIZE: usize = 5 * 1024 * 1024 * 1024;

/// Where the blobs live.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobConfig {
    /// Files under a directory ([`FsBlobStore`](crate::FsBlobStore)).
    Fs {
        /// The root directory (`UPLOAD_PATH`).
        root: PathBuf,
    },
    /// An S3-compatible bucket (`S3BlobStore`, feature `s3`).
    S3(S3Config),
}

/// An S3-compatible bucket and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct S3Config {
    /// The bucket (it must exist).
    pub bucket: String,
    /// Its region.
    pub region: String,
    /// The server's base URL (`http://127.0.0.1:9000` for a local MinIO); `None` for AWS itself.
    /// An `http://` endpoint is allowed to be plain HTTP.
    pub endpoint: Option<String>,
    /// Access key id and secret; `None` takes them from the standard AWS sources (`AWS_*`
    /// variables, the container or instance role).
    pub credentials: Option<(String, SecretString)>,
    /// `https://<bucket>.<endpoint>` (virtual-hosted style) rather than
    /// `https://<endpoint>/<bucket>` (path style, the default, which every S3-compatible server
    /// understands).
    pub virtual_hosted_style: bool,
    /// Bytes per part of a multipart upload, at least [`MIN_S3_PART_SIZE`]. An upload holds
    /// about two parts in memory.
    pub part_size: usize,
}

impl S3Config {
    /// A bucket with the defaults: region [`DEFAULT_S3_REGION`], AWS itself, credentials from
    /// the standard AWS sources, path style, parts of [`MIN_S3_PART_SIZE`].
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            region: DEFAULT_S3_REGION.to_owned(),
            endpoint: None,
            credentials: None,
            virtual_hosted_style: false,
            part_size: MIN_S3_PART_SIZE,
        }
    }

    /// With the server at `endpoint` (MinIO, Ceph, a test server).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// With these credentials.
    pub fn with_credentials(mut self, access_key_id: impl Into<String>, secret: impl Into<SecretString>) -> Self {
        self.credentials = Some((access_key_id.into(), secret.into()));
        self
    }

    /// In `region`.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }
}

/// A variable that is missing or wrong, named.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobConfigError {
    /// A variable the chosen backend needs is not set.
    #[error("{variable} must be set when ICOSISTEM_BLOB_BACKEND=s3")]
    Missing {
        /// Its name.
        variable: &'static str,
    },
    /// A variable's value is not acceptable.
    #[error("{variable}: {reason}")]
    Invalid {
        /// Its name.
        variable: &'static str,
        /// What is wrong, and what is expected.
        reason: String,
    },
    /// The backend asked for was not compiled in.
    #[error("ICOSISTEM_BLOB_BACKEND={backend} needs icosistem-blob's feature `{backend}`")]
    NotBuilt {
        /// The backend (`fs`, `s3`).
        backend: &'static str,
    },
}

impl BlobConfig {
    /// Reads the process environment (see the crate documentation for the variables).
    pub fn from_env() -> Result<Self, BlobConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (tests pass a map). Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, BlobConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let backend = get("ICOSISTEM_BLOB_BACKEND").unwrap_or_else(|| "fs".to_owned());
        match backend.to_ascii_lowercase().as_str() {
            "fs" => Ok(Self::Fs {
                root: PathBuf::from(get("UPLOAD_PATH").unwrap_or_else(|| DEFAULT_UPLOAD_PATH.to_owned())),
            }),
            "s3" => {
                let bucket = get("ICOSISTEM_S3_BUCKET").ok_or(BlobConfigError::Missing {
                    variable: "ICOSISTEM_S3_BUCKET",
                })?;
                let region = get("ICOSISTEM_S3_REGION")
                    .or_else(|| get("AWS_REGION"))
                    .or_else(|| get("AWS_DEFAULT_REGION"))
                    .unwrap_or_else(|| DEFAULT_S3_REGION.to_owned());
                let endpoint = get("ICOSISTEM_S3_ENDPOINT").or_else(|| get("AWS_ENDPOINT_URL"));
                if let Some(endpoint) = &endpoint
                    && !(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
                {
                    return Err(BlobConfigError::Invalid {
                        variable: "ICOSISTEM_S3_ENDPOINT",
                        reason: format!("{endpoint:?} is not an http(s) URL"),
                    });
                }
                let id = get("ICOSISTEM_S3_ACCESS_KEY_ID").or_else(|| get("AWS_ACCESS_KEY_ID"));
                let secret = get("ICOSISTEM_S3_SECRET_ACCESS_KEY").or_else(|| get("AWS_SECRET_ACCESS_KEY"));
                let credentials = match (id, secret) {
                    (Some(id), Some(secret)) => Some((id, SecretString::new(secret))),
                    (None, None) => None,
                    (Some(_), None) => {
                        return Err(BlobConfigError::Missing {
                            variable: "ICOSISTEM_S3_SECRET_ACCESS_KEY",
                        });
                    }
                    (None, Some(_)) => {
                        return Err(BlobConfigError::Missing {
                            variable: "ICOSISTEM_S3_ACCESS_KEY_ID",
                        });
                    }
                };
                let virtual_hosted_style = match get("ICOSISTEM_S3_VIRTUAL_HOSTED").as_deref() {
                    None | Some("false" | "0") => false,
                    Some("true" | "1") => true,
                    Some(other) => {
                        return Err(BlobConfigError::Invalid {
                            variable: "ICOSISTEM_S3_VIRTUAL_HOSTED",
                            reason: format!("{other:?} is not true or false"),
                        });
                    }
                };
                let part_size = match get("ICOSISTEM_S3_PART_SIZE") {
                    None => MIN_S3_PART_SIZE,
                    Some(raw) => match raw.parse::<usize>() {
                        Ok(n) if (MIN_S3_PART_SIZE..=MAX_S3_PART_SIZE).contains(&n) => n,
                        _ => {
                            return Err(BlobConfigError::Invalid {
                                variable: "ICOSISTEM_S3_PART_SIZE",
                                reason: format!(
                                    "{raw:?} is not a number of bytes from {MIN_S3_PART_SIZE} (5 MiB) to {MAX_S3_PART_SIZE} (5 GiB)"
                                ),
                            });
                        }
                    },
                };
                Ok(Self::S3(S3Config {
                    bucket,
                    region,
                    endpoint,
                    credentials,
                    virtual_hosted_style,
                    part_size,
                }))
            }
            _ => Err(BlobConfigError::Invalid {
                variable: "ICOSISTEM_BLOB_BACKEND",
                reason: format!("{backend:?} is neither fs nor s3"),
            }),
        }
    }

    /// Opens the configured store: creates the upload directory, or configures the S3 client
    /// (which makes no request yet).
    pub async fn open(&self) -> Result<AnyBlobStore, OpenError> {
        match self {
            #[cfg(feature = "fs")]
            Self::Fs { root } => Ok(AnyBlobStore::Fs(crate::FsBlobStore::open(root.clone()).await?)),
            #[cfg(not(feature = "fs"))]
            Self::Fs { .. } => Err(OpenError::Config(BlobConfigError::NotBuilt { backend: "fs" })),
            #[cfg(feature = "s3")]
            Self::S3(config) => Ok(AnyBlobStore::S3(crate::S3BlobStore::new(config)?)),
            #[cfg(not(feature = "s3"))]
            Self::S3(_) => Err(OpenError::Config(BlobConfigError::NotBuilt { backend: "s3" })),
        }
    }
}

/// Why [`BlobConfig::open`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The configuration asks for something this build cannot do.
    #[error(transparent)]
    Config(#[from] BlobConfigError),
    /// The backend refused (the directory cannot be created, the S3 settings are unusable).
    #[error(transparent)]
    Backend(#[from] BlobError),
}

/// The store a [`BlobConfig`] opened: one type for a server that picks its backend at start.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyBlobStore {
    /// Files.
    #[cfg(feature = "fs")]
    Fs(crate::FsBlobStore),
    /// S3-compatible object storage.
    #[cfg(feature = "s3")]
    S3(crate::S3BlobStore),
}

/// Forwards a call to the store inside.
macro_rules! each {
    ($self:ident, $store:ident => $call:expr) => {
        // `*self` rather than `self`: a build with neither backend has an empty enum, and only
        // a match on the value itself may then have no arms.
        match *$self {
            #[cfg(feature = "fs")]
            AnyBlobStore::Fs(ref $store) => $call,
            #[cfg(feature = "s3")]
            AnyBlobStore::S3(ref $store) => $call,
        }
    };
}

impl BlobStore for AnyBlobStore {
    async fn put<B>(&self, key: &BlobKey, body: B, max_bytes: u64) -> Result<StoredBlob, BlobError>
    where
        B: Stream<Item = std::io::Result<Bytes>> + Send,
    {
        each!(self, store => store.put(key, body, max_bytes).await)
    }

    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> Result<BlobRead, BlobError> {
        each!(self, store => store.get(key, range).await)
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobEntry>, BlobError> {
        each!(self, store => store.head(key).await)
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        each!(self, store => store.delete(key).await)
    }

    fn list(&self, prefix: &str) -> BlobEntries {
        each!(self, store => store.list(prefix))
    }

    async fn remove_abandoned_uploads(&self, older_than: DateTime<Utc>) -> Result<u64, BlobError> {
        each!(self, store => store.remove_abandoned_uploads(older_than).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<BlobConfig, BlobConfigError> {
        BlobConfig::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn the_filesystem_under_uploads_is_the_default() {
        assert_eq!(
            config(&[]).unwrap(),
            BlobConfig::Fs {
                root: PathBuf::from("uploads")
            }
        );
        assert_eq!(
            config(&[("UPLOAD_PATH", "/srv/icosistem")]).unwrap(),
            BlobConfig::Fs {
                root: PathBuf::from("/srv/icosistem")
            }
        );
    }

    #[test]
    fn s3_reads_its_variables_and_falls_back_to_the_aws_names() {
        let BlobConfig::S3(s3) = config(&[
            ("ICOSISTEM_BLOB_BACKEND", "s3"),
            ("ICOSISTEM_S3_BUCKET", "docs"),
            ("ICOSISTEM_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "id"),
            ("ICOSISTEM_S3_SECRET_ACCESS_KEY", "secret"),
            ("ICOSISTEM_S3_PART_SIZE", "8388608"),
        ])
        .unwrap() else {
            panic!("s3")
        };
        assert_eq!(s3.bucket, "docs");
        assert_eq!(s3.region, "eu-west-1");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        let (id, secret) = s3.credentials.clone().unwrap();
        assert_eq!((id.as_str(), secret.expose()), ("id", "secret"));
        assert_eq!(s3.part_size, 8 * 1024 * 1024);
        assert!(!s3.virtual_hosted_style);
        assert!(
            !format!("{s3:?}").contains("secret\""),
            "the secret is redacted: {s3:?}"
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let s3 = |extra: (&'static str, &'static str)| {
            config(&[("ICOSISTEM_BLOB_BACKEND", "s3"), ("ICOSISTEM_S3_BUCKET", "docs"), extra])
        };
        assert_eq!(
            config(&[("ICOSISTEM_BLOB_BACKEND", "s3")]),
            Err(BlobConfigError::Missing {
                variable: "ICOSISTEM_S3_BUCKET"
            })
        );
        assert!(matches!(
            config(&[("ICOSISTEM_BLOB_BACKEND", "nfs")]),
            Err(BlobConfigError::Invalid {
                variable: "ICOSISTEM_BLOB_BACKEND",
                ..
            })
        ));
        assert!(matches!(
            s3(("ICOSISTEM_S3_PART_SIZE", "1024")),
            Err(BlobConfigError::Invalid {
                variable: "ICOSISTEM_S3_PART_SIZE",
                ..
            })
        ));
        assert!(matches!(
            s3(("ICOSISTEM_S3_ENDPOINT", "minio:9000")),
            Err(BlobConfigError::Invalid {
                variable: "ICOSISTEM_S3_ENDPOINT",
                ..
            })
        ));
        assert!(matches!(
            s3(("ICOSISTEM_S3_VIRTUAL_HOSTED", "maybe")),
            Err(BlobConfigError::Invalid {
                variable: "ICOSISTEM_S3_VIRTUAL_HOSTED",
                ..
            })
        ));
        assert_eq!(
            s3(("ICOSISTEM_S3_ACCESS_KEY_ID", "id")),
            Err(BlobConfigError::Missing {
                variable: "ICOSISTEM_S3_SECRET_ACCESS_KEY"
            })
        );
    }
}
