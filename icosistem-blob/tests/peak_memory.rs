//! Uploads stream: the peak resident memory of a 64 MiB upload and download stays far below
//! 64 MiB on the filesystem adapter, and on the S3 adapter against moto (when available).
//!
//! Linux only (it reads `VmHWM` from `/proc/self/status` after resetting it through
//! `/proc/self/clear_refs`). One test in its own binary, so nothing else allocates meanwhile.

use std::io;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use icosistem_core::ports::blob::{BlobKey, BlobStore};

const MIB: u64 = 1024 * 1024;
const SIZE: u64 = 64 * MIB;

/// `len` bytes in 64 KiB chunks, each made when asked for.
fn body(len: u64) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    let chunk = 64 * 1024;
    futures::stream::unfold(0u64, move |at| async move {
        (at < len).then(|| {
            let end = (at + chunk).min(len);
            (Ok(Bytes::from(vec![(at / chunk) as u8; (end - at) as usize])), end)
        })
    })
}

/// Resident memory now and at its peak since the last reset, in bytes.
fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The growth of the peak resident memory while `work` runs.
async fn peak_growth(work: impl std::future::Future<Output = ()>) -> Option<u64> {
    // "5" resets the peak (VmHWM) to the current resident size.
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let (before, _) = rss()?;
    work.await;
    let (_, peak) = rss()?;
    Some(peak.saturating_sub(before))
}

async fn round_trip<S: BlobStore>(store: &S, name: &str) {
    let key = BlobKey::parse(name).expect("key");
    let stored = store.put(&key, body(SIZE), SIZE).await.expect("put");
    assert_eq!(stored.size, SIZE);
    let mut read = store.get(&key, None).await.expect("get").body;
    let mut size = 0;
    while let Some(chunk) = read.next().await {
        size += chunk.expect("chunk").len() as u64;
    }
    assert_eq!(size, SIZE);
    store.delete(&key).await.expect("delete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_64_mib_round_trip_stays_far_below_64_mib_of_memory() {
    if rss().is_none() {
        eprintln!("skipped: no /proc/self/status on this platform");
        return;
    }
    let dir = std::env::temp_dir().join(format!("icosistem-blob-peak-{}", uuid::Uuid::now_v7()));
    let fs = icosistem_blob::FsBlobStore::open(&dir).await.expect("open");
    // Once before measuring, so the runtime's threads and buffers exist already.
    round_trip(&fs, "warm-up").await;
    if let Some(growth) = peak_growth(round_trip(&fs, "measured")).await {
        println!(
            "filesystem: a 64 MiB put and get grew the peak RSS by {:.1} MiB",
            growth as f64 / MIB as f64
        );
        assert!(growth < 8 * MIB, "filesystem peak growth {growth} bytes");
    }
    std::fs::remove_dir_all(&dir).expect("clean up");

    #[cfg(feature = "s3")]
    if icosistem_blob::testing::moto_available() {
        let server = icosistem_blob::testing::MotoServer::shared();
        let s3 = icosistem_blob::S3BlobStore::new(&server.bucket("icosistem-peak").await).expect("configure");
        round_trip(&s3, "warm-up").await;
        if let Some(growth) = peak_growth(round_trip(&s3, "measured")).await {
            println!(
                "s3 (moto): a 64 MiB put and get grew the peak RSS by {:.1} MiB",
                growth as f64 / MIB as f64
            );
            // About two 5 MiB parts, the client's buffers, and the allocator's slack.
            assert!(growth < 24 * MIB, "s3 peak growth {growth} bytes");
        }
    }
}
