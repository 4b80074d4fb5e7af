//! A 16 MiB document upload through the HTTP server keeps the process's peak resident memory
//! growth under 8 MiB: the multipart part streams through the router, the core's sniffing and
//! metering and the filesystem blob store without ever being held whole.
//!
//! The router is served over a real TCP listener (`axum::serve` on port 0) with the
//! filesystem blob store, as the example server runs it; the client streams the request body
//! in 64 KiB chunks over the socket. Linux only: it reads `VmHWM` from `/proc/self/status`
//! after resetting it through `/proc/self/clear_refs` (as `icosistem-blob`'s `peak_memory`
//! does). One test in its own binary, so nothing else allocates meanwhile; the client shares
//! the process, so the figure is an upper bound of the server's own growth.

use std::sync::Arc;

use icosistem_core::model::DocumentParent;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::store::DocumentFilter;
use icosistem_core::testing::fixtures::World;
use icosistem_http::{AppState, HttpConfig, router};
use icosistem_store_memory::MemoryStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// The access tokens and the secret of the HTTP suite.
#[path = "api/common.rs"]
mod common;

use common::{SECRET, access_token};

const MIB: usize = 1024 * 1024;
const BOUNDARY: &str = "icosistem-upload-memory-boundary";

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

/// Uploads a `size`-byte PDF to `path` over a fresh connection, streaming the body in 64 KiB
/// chunks; answers the status line.
async fn upload(addr: std::net::SocketAddr, path: &str, token: &str, size: usize) -> String {
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nPitch deck\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\npitch_deck\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"deck.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let pdf_head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
    let length = head.len() + size + tail.len();
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\
         Connection: close\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.expect("write head");
    socket.write_all(head.as_bytes()).await.expect("write parts");
    let mut chunk = vec![b'0'; 64 * 1024];
    chunk[..pdf_head.len()].copy_from_slice(pdf_head);
    let mut sent = 0;
    while sent < size {
        let n = (size - sent).min(chunk.len());
        socket.write_all(&chunk[..n]).await.expect("write file");
        if sent == 0 {
            chunk[..pdf_head.len()].fill(b'0');
        }
        sent += n;
    }
    socket.write_all(tail.as_bytes()).await.expect("write tail");
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.expect("read answer");
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_16_mib_upload_grows_the_peak_rss_by_less_than_8_mib() {
    if rss().is_none() {
        eprintln!("skipped: no /proc/self/status on this platform");
        return;
    }
    let dir = std::env::temp_dir().join(format!("icosistem-upload-memory-{}", uuid::Uuid::now_v7()));
    let blobs = icosistem_blob::FsBlobStore::open(&dir)
        .await
        .expect("open the blob directory");
    let world = World::new(MemoryStore::new()).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    // The served ecosystem: the world's store and clock, the filesystem blob store.
    let served = icosistem_core::Ecosystem::new(
        world.store().clone(),
        Arc::new(icosistem_core::ports::RecordingNotifier::new()),
        Arc::clone(&world.clock),
    )
    .with_blob_store(blobs);
    let limit = usize::try_from(served.limits().max_upload_bytes).expect("limit");
    assert_eq!(limit, 16 * MIB, "the default limit is the seed's 16 MiB");
    let state = AppState::new(Arc::new(served), HttpConfig::new(SecretString::new(SECRET))).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    let token = access_token(&owner, world.now());
    let path = format!("/api/v2/projects/{}/documents", project.id);

    // Once before measuring, so the runtime's threads, the router and the buffers exist.
    let warm = upload(addr, &path, &token, limit).await;
    assert!(warm.contains("201"), "warm-up upload: {warm}");
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let (before, _) = rss().expect("rss");
    let status = upload(addr, &path, &token, limit).await;
    let (_, peak) = rss().expect("rss");
    assert!(status.contains("201"), "measured upload: {status}");
    let growth = peak.saturating_sub(before);
    println!(
        "a 16 MiB upload through the router over TCP grew the peak RSS by {:.2} MiB",
        growth as f64 / MIB as f64
    );
    let stored = world
        .count(DocumentFilter::of(DocumentParent::Project(project.id)))
        .await;
    assert_eq!(stored, 2);
    assert!(growth < 8 * MIB as u64, "peak RSS growth {growth} bytes");
    std::fs::remove_dir_all(&dir).expect("clean up");
}
