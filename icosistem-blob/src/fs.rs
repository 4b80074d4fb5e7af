//! [`FsBlobStore`]: blobs as files under a root directory (`UPLOAD_PATH`).
//!
//! A blob with key `k` is the file `<root>/<h0h1>/<h2h3>/<name>`, where `h` is the hex SHA-256
//! of `k` and `<name>` is `k` with every `/` written as `~` (not a key character, so the mapping
//! is one-to-one and every blob is one file at a fixed depth). The hash spreads blobs over 65 536
//! directories whatever the keys look like (time-ordered ids would otherwise crowd one).
//!
//! An upload streams into `.upload-<id>` in its destination directory (names starting with `.`
//! are never keys), is fsynced, renamed over the destination — atomic on POSIX filesystems — and
//! the directory is fsynced so the rename survives a crash. Readers see the old file or the new
//! one, never a part. A failed or cancelled upload removes its temporary file; one left by a
//! crash is never listed, and [`BlobStore::remove_abandoned_uploads`] removes it.

use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use icosistem_core::ports::blob::{
    BlobEntries, BlobEntry, BlobError, BlobKey, BlobRead, BlobStore, StoredBlob, UploadMeter, served_range,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};
use tokio_util::io::ReaderStream;

/// Bytes per read and per buffered write: large enough for few system calls, small enough that
/// many concurrent transfers stay cheap.
const IO_CHUNK: usize = 64 * 1024;

/// The name prefix of uploads in progress (never a key: keys do not start with `.`).
const UPLOAD_PREFIX: &str = ".upload-";

/// Listed entries buffered ahead of the consumer.
const LIST_BUFFER: usize = 256;

/// Blob storage in a directory. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// A store under `root`, created (with its parents) if missing.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        tokio::fs::create_dir_all(&root)
            .await
            .map_err(|e| BlobError::unavailable(format!("creating the upload directory {}", root.display()), e))?;
        Ok(Self { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The shard directory of `key` and its file name there.
    fn location(&self, key: &BlobKey) -> (PathBuf, String) {
        let hash = Sha256::digest(key.as_str().as_bytes());
        let dir = self
            .root
            .join(format!("{:02x}", hash[0]))
            .join(format!("{:02x}", hash[1]));
        (dir, key.as_str().replace('/', "~"))
    }

    /// Creates `dir` if missing and fsyncs the directories that gained an entry, so a blob
    /// renamed into a new shard is reachable after a crash.
    async fn ensure_dir(&self, dir: &Path) -> io::Result<()> {
        if tokio::fs::metadata(dir).await.is_ok() {
            return Ok(());
        }
        tokio::fs::create_dir_all(dir).await?;
        let mut child = dir;
        while let Some(parent) = child.parent() {
            sync_dir(parent).await?;
            if parent == self.root {
                break;
            }
            child = parent;
        }
        Ok(())
    }

    async fn write(
        &self,
        dir: &Path,
        temp: &Path,
        dest: &Path,
        body: impl Stream<Item = io::Result<Bytes>>,
        max_bytes: u64,
    ) -> Result<StoredBlob, BlobError> {
        let unavailable = |e| BlobError::unavailable(format!("writing the blob file {}", dest.display()), e);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(temp)
            .await
            .map_err(unavailable)?;
        let mut file = BufWriter::with_capacity(IO_CHUNK, file);
        let mut meter = UploadMeter::new(max_bytes);
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(BlobError::Body)?;
            meter.take(&chunk)?;
            file.write_all(&chunk).await.map_err(unavailable)?;
        }
        file.flush().await.map_err(unavailable)?;
        let file = file.into_inner();
        // Data on disk before the name points at it: otherwise a crash after the rename could
        // leave a complete-looking file of zeros.
        file.sync_all().await.map_err(unavailable)?;
        drop(file);
        tokio::fs::rename(temp, dest).await.map_err(unavailable)?;
        sync_dir(dir).await.map_err(unavailable)?;
        Ok(meter.finish())
    }
}

/// fsync of a directory: makes the entries created or renamed in it durable.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

/// Removes an upload's temporary file unless the upload completed, including when the upload's
/// future is dropped half-way (the client went away).
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            // Blocking, but one unlink; an async removal could not run once the future is gone.
            let _ = std::fs::remove_file(path);
        }
    }
}

impl BlobStore for FsBlobStore {
    async fn put<B>(&self, key: &BlobKey, body: B, max_bytes: u64) -> Result<StoredBlob, BlobError>
    where
        B: Stream<Item = io::Result<Bytes>> + Send,
    {
        let (dir, name) = self.location(key);
        self.ensure_dir(&dir)
            .await
            .map_err(|e| BlobError::unavailable(format!("creating the blob directory {}", dir.display()), e))?;
        let temp = dir.join(format!("{UPLOAD_PREFIX}{}", uuid::Uuid::now_v7()));
        let dest = dir.join(name);
        let mut guard = TempFile(Some(temp.clone()));
        let written = self.write(&dir, &temp, &dest, body, max_bytes).await;
        if written.is_ok() {
            // Renamed: nothing left to remove.
            guard.0 = None;
        }
        written
    }

    async fn get(&self, key: &BlobKey, range: Option<Range<u64>>) -> Result<BlobRead, BlobError> {
        let (dir, name) = self.location(key);
        let path = dir.join(name);
        let unavailable = |e| BlobError::unavailable(format!("reading the blob file {}", path.display()), e);
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound { key: key.to_string() });
            }
            Err(e) => return Err(unavailable(e)),
        };
        // The size of the open file: a replacement renamed in meanwhile is another inode.
        let size = file.metadata().await.map_err(unavailable)?.len();
        let range = served_range(range, size)?;
        if range.start > 0 {
            file.seek(SeekFrom::Start(range.start)).await.map_err(unavailable)?;
        }
        let reader = tokio::io::AsyncReadExt::take(file, range.end - range.start);
        let what = format!("reading the blob file {}", path.display());
        let body = ReaderStream::with_capacity(reader, IO_CHUNK)
            .map(move |chunk| chunk.map_err(|e| BlobError::unavailable(what.clone(), e)));
        Ok(BlobRead {
            size,
            range,
            body: Box::pin(body),
        })
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobEntry>, BlobError> {
        let (dir, name) = self.location(key);
        let path = dir.join(name);
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(Some(BlobEntry {
                key: key.clone(),
                size: meta.len(),
                last_modified: modified(&meta),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BlobError::unavailable(
                format!("reading the blob file {}", path.display()),
                e,
            )),
        }
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        let (dir, name) = self.location(key);
        let path = dir.join(name);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError::unavailable(
                format!("deleting the blob file {}", path.display()),
                e,
            )),
        }
    }

    fn list(&self, prefix: &str) -> BlobEntries {
        // The walk is blocking directory reads, on a blocking thread; a bounded channel keeps
        // memory flat however many blobs there are.
        let (tx, rx) = tokio::sync::mpsc::channel(LIST_BUFFER);
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = walk(&root, &prefix, &tx) {
                let _ = tx.blocking_send(Err(BlobError::unavailable(
                    format!("listing the upload directory {}", root.display()),
                    e,
                )));
            }
        });
        Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }

    async fn remove_abandoned_uploads(&self, older_than: DateTime<Utc>) -> Result<u64, BlobError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut removed = 0;
            walk_shards(&root, &mut |entry| {
                let is_upload = entry.file_name().to_str().is_some_and(|n| n.starts_with(UPLOAD_PREFIX));
                if !is_upload {
                    return Ok(true);
                }
                let meta = match entry.metadata() {
                    Ok(meta) => meta,
                    // Renamed or removed by its upload meanwhile.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
                    Err(e) => return Err(e),
                };
                if meta.is_file() && modified(&meta) < older_than {
                    match std::fs::remove_file(entry.path()) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(true)
            })
            .map(|()| removed)
            .map_err(|e| BlobError::unavailable(format!("sweeping the upload directory {}", root.display()), e))
        })
        .await
        .map_err(|e| BlobError::unavailable("sweeping the upload directory", e))?
    }
}

/// Calls `visit` with every entry of every shard directory under `root`, until it answers
/// `Ok(false)`.
fn walk_shards(root: &Path, visit: &mut dyn FnMut(&std::fs::DirEntry) -> io::Result<bool>) -> io::Result<()> {
    let shards = |dir: &Path| -> io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let is_shard = name
                .to_str()
                .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()));
            if is_shard && entry.file_type()?.is_dir() {
                out.push(entry.path());
            }
        }
        Ok(out)
    };
    for first in shards(root)? {
        for second in shards(&first)? {
            for entry in std::fs::read_dir(&second)? {
                if !visit(&entry?)? {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Sends every blob under `root` whose key starts with `prefix`. Stops early (`Ok`) when the
/// receiver is gone.
fn walk(root: &Path, prefix: &str, tx: &tokio::sync::mpsc::Sender<Result<BlobEntry, BlobError>>) -> io::Result<()> {
    walk_shards(root, &mut |entry| {
        let Some(name) = entry.file_name().to_str().map(|n| n.replace('~', "/")) else {
            return Ok(true);
        };
        // Uploads in progress (`.upload-…`) and anything that is not a key's file.
        let Ok(key) = BlobKey::parse(name) else {
            return Ok(true);
        };
        if !key.as_str().starts_with(prefix) {
            return Ok(true);
        }
        let meta = match entry.metadata() {
            Ok(meta) if meta.is_file() => meta,
            Ok(_) => return Ok(true),
            // Deleted between the read and the stat.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
            Err(e) => return Err(e),
        };
        let listed = BlobEntry {
            key,
            size: meta.len(),
            last_modified: modified(&meta),
        };
        Ok(tx.blocking_send(Ok(listed)).is_ok())
    })
}

/// A file's modification time (the epoch where the platform has none).
fn modified(meta: &std::fs::Metadata) -> DateTime<Utc> {
    meta.modified().map(DateTime::<Utc>::from).unwrap_or_default()
}
