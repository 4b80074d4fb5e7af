//! Hostile clients against `icosistem_http::serve` over real sockets: half-open heads, idle
//! keep-alive connections, slow bodies, too many connections, oversized heads, and a shutdown
//! while all of that is open. Timeouts are set to a few hundred milliseconds and every
//! assertion waits with a wide upper bound, so a slow CI machine does not make them flaky: what
//! is checked is *that* the server closes or answers, not how fast.
//!
//! Client sockets bind to other loopback addresses (127.0.0.2 …) to act as several clients.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::routing::get;
use icosistem_core::Ecosystem;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Argon2idPasswordHasher, SystemClock};
use icosistem_http::serve::ShutdownSignal;
use icosistem_http::{AppState, HttpConfig, ServeLimits};
use icosistem_server::{Config, ConfigError, LogNotifier};
use icosistem_store_memory::MemoryStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

/// A wide bound for "the server did it": far above the timeouts under test.
const WITHIN: Duration = Duration::from_secs(5);

struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn serve(router: axum::Router, limits: ServeLimits) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("port 0 binds");
    let addr = listener.local_addr().expect("bound");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(icosistem_http::serve(listener, router, limits, async {
        let _ = stopped.await;
    }));
    Server { addr, stop, task }
}

impl Server {
    /// Signals the shutdown and waits (bounded by [`WITHIN`]) for a clean stop.
    async fn stop(self) {
        self.stop.send(()).expect("running");
        timeout(WITHIN, self.task)
            .await
            .expect("stops")
            .expect("no panic")
            .expect("clean");
    }
}

/// The whole API over the memory store (no data: the tests only need its answers' shape).
fn api() -> axum::Router {
    let eco = Ecosystem::new(MemoryStore::new(), LogNotifier, SystemClock)
        .with_hasher(Argon2idPasswordHasher::fast_for_tests());
    icosistem_http::router(
        AppState::new(
            Arc::new(eco),
            HttpConfig::new(SecretString::new(crate::common::SECRET))
                .with_rate_limits(crate::common::test_rate_limits()),
        )
        .expect("valid HTTP config"),
    )
}

/// What the handlers of [`small_router`] share with the test: how many slow handlers have
/// started, and the release of `/slow`.
#[derive(Default)]
struct Probe {
    started: std::sync::atomic::AtomicUsize,
    release: tokio::sync::Notify,
}

impl Probe {
    /// Waits until `n` slow handlers run (so their requests are in flight, not just sent).
    async fn wait_started(&self, n: usize) {
        let deadline = Instant::now() + WITHIN;
        while self.started.load(std::sync::atomic::Ordering::SeqCst) < n {
            assert!(Instant::now() < deadline, "the handlers never started");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// `/health`, `/slow` (answers when the probe releases it) and `/stream` (a long-lived answer
/// that ends on the shutdown signal with a final event).
fn small_router(probe: &Arc<Probe>) -> axum::Router {
    let (slow, stream) = (Arc::clone(probe), Arc::clone(probe));
    axum::Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/slow",
            get(move || {
                let probe = Arc::clone(&slow);
                async move {
                    probe.started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    probe.release.notified().await;
                    "finished"
                }
            }),
        )
        .route(
            "/stream",
            get(move |Extension(shutdown): Extension<ShutdownSignal>| {
                let probe = Arc::clone(&stream);
                async move {
                    probe.started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    shutdown.triggered().await;
                    "event: shutdown\n\n"
                }
            }),
        )
}

/// A connection from the loopback address `127.0.0.<host>`.
async fn connect_from(host: u8, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket
        .bind(SocketAddr::from(([127, 0, 0, host], 0)))
        .expect("loopback addresses bind");
    socket.connect(server).await.expect("connects")
}

fn get_request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

/// Reads one whole answer (head and a `Content-Length` body) from a keep-alive connection.
async fn read_answer(conn: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = timeout(WITHIN, conn.read(&mut chunk))
            .await
            .expect("answered in time")
            .expect("reads");
        assert!(n > 0, "closed before a whole answer: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

/// Whether the server closes `conn` (EOF or reset) within `WITHIN`; whatever it sent first is
/// returned.
async fn closed_by_server(conn: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    match timeout(WITHIN, conn.read_to_end(&mut buf)).await {
        Ok(_) => Some(String::from_utf8_lossy(&buf).into_owned()),
        Err(_) => None,
    }
}

async fn answered(conn: &mut TcpStream, path: &str) -> String {
    conn.write_all(get_request(path).as_bytes()).await.expect("writes");
    read_answer(conn).await
}

#[tokio::test]
async fn half_open_and_idle_connections_are_closed_by_their_timeouts() {
    let limits = ServeLimits::default()
        .with_header_read_timeout(Duration::from_millis(300))
        .with_keep_alive_timeout(Duration::from_millis(600));
    let server = serve(small_router(&Arc::default()), limits).await;

    // Half a head, and a connection that sends nothing at all.
    let mut half = TcpStream::connect(server.addr).await.expect("connects");
    half.write_all(b"GET /health HTTP/1.1\r\nHost: te")
        .await
        .expect("writes");
    let mut silent = TcpStream::connect(server.addr).await.expect("connects");
    // A well-behaved keep-alive client is answered, twice, meanwhile.
    let mut good = TcpStream::connect(server.addr).await.expect("connects");
    assert!(answered(&mut good, "/health").await.starts_with("HTTP/1.1 200"));
    assert!(answered(&mut good, "/health").await.starts_with("HTTP/1.1 200"));

    let started = Instant::now();
    assert_eq!(
        closed_by_server(&mut half).await.as_deref(),
        Some(""),
        "half-open closed"
    );
    assert_eq!(
        closed_by_server(&mut silent).await.as_deref(),
        Some(""),
        "silent closed"
    );
    // The idle keep-alive connection goes after its own (longer) timeout.
    assert_eq!(closed_by_server(&mut good).await.as_deref(), Some(""), "idle closed");
    assert!(started.elapsed() < WITHIN);

    // A head that keeps trickling is still cut: the timeout runs from its first byte.
    let mut drip = TcpStream::connect(server.addr).await.expect("connects");
    let dripping = async {
        for byte in b"GET /health HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if drip.write_all(&[*byte]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    assert!(
        timeout(WITHIN, dripping).await.expect("bounded"),
        "the server closed the dripping connection before the head was complete"
    );

    server.stop().await;
}

#[tokio::test]
async fn connection_caps_close_the_excess_at_accept_and_free_slots_on_close() {
    let limits = ServeLimits::default()
        .with_max_connections(3)
        .with_max_connections_per_ip(Some(2));
    let server = serve(small_router(&Arc::default()), limits).await;

    let mut a1 = connect_from(2, server.addr).await;
    let mut a2 = connect_from(2, server.addr).await;
    assert!(answered(&mut a1, "/health").await.starts_with("HTTP/1.1 200"));
    assert!(answered(&mut a2, "/health").await.starts_with("HTTP/1.1 200"));
    // A third from the same address is closed without an answer.
    let mut a3 = connect_from(2, server.addr).await;
    let _ = a3.write_all(get_request("/health").as_bytes()).await;
    assert_eq!(closed_by_server(&mut a3).await.as_deref(), Some(""), "per-address cap");

    // Another address has room until the total cap.
    let mut b1 = connect_from(3, server.addr).await;
    assert!(answered(&mut b1, "/health").await.starts_with("HTTP/1.1 200"));
    let mut c1 = connect_from(4, server.addr).await;
    let _ = c1.write_all(get_request("/health").as_bytes()).await;
    assert_eq!(closed_by_server(&mut c1).await.as_deref(), Some(""), "total cap");

    // The connections held keep being served at the cap.
    assert!(answered(&mut a1, "/health").await.starts_with("HTTP/1.1 200"));

    // Closing one frees its slot (once the server has seen the close).
    drop(a2);
    let deadline = Instant::now() + WITHIN;
    loop {
        let mut retry = connect_from(4, server.addr).await;
        if retry.write_all(get_request("/health").as_bytes()).await.is_ok() {
            let mut buf = [0u8; 64];
            if let Ok(Ok(n)) = timeout(WITHIN, retry.read(&mut buf)).await
                && buf[..n].starts_with(b"HTTP/1.1 200")
            {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the slot was never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    server.stop().await;
}

#[tokio::test]
async fn a_slow_body_answers_408_problem_and_closes_the_connection() {
    let limits = ServeLimits::default().with_body_read_timeout(Duration::from_millis(300));
    let server = serve(api(), limits).await;
    let mut conn = TcpStream::connect(server.addr).await.expect("connects");
    conn.write_all(
        b"POST /api/v2/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
          X-Request-ID: slow-body-1\r\nContent-Length: 100\r\n\r\n{\"email\":",
    )
    .await
    .expect("writes");
    let answer = closed_by_server(&mut conn).await.expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("content-type: application/problem+json"), "{answer}");
    assert!(lower.contains("connection: close"), "{answer}");
    assert!(answer.contains("\"request_id\":\"slow-body-1\""), "{answer}");
    assert!(answer.contains("\"code\":\"timeout\""), "{answer}");

    server.stop().await;
}

/// A 431 is a problem like every other error: its body, its media type and a request id.
#[track_caller]
fn assert_header_problem(answer: &str) {
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("content-type: application/problem+json"), "{answer}");
    assert!(lower.contains("x-request-id: "), "{answer}");
    assert!(lower.contains("connection: close"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let problem: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(problem["status"], 431, "{answer}");
    assert_eq!(problem["code"], "header_fields_too_large", "{answer}");
    assert!(problem["request_id"].is_string(), "{answer}");
}

#[tokio::test]
async fn too_many_or_too_large_headers_answer_431() {
    let limits = ServeLimits::default().with_max_headers(20).with_max_header_bytes(2048);
    let server = serve(small_router(&Arc::default()), limits).await;

    let mut many = TcpStream::connect(server.addr).await.expect("connects");
    let headers: String = (0..30).map(|i| format!("X-H{i}: v\r\n")).collect();
    many.write_all(format!("GET /health HTTP/1.1\r\nHost: test\r\n{headers}\r\n").as_bytes())
        .await
        .expect("writes");
    let answer = closed_by_server(&mut many).await.expect("answered");
    assert_header_problem(&answer);

    let mut large = TcpStream::connect(server.addr).await.expect("connects");
    let big = "a".repeat(4096);
    large
        .write_all(format!("GET /health HTTP/1.1\r\nHost: test\r\nX-Big: {big}\r\n\r\n").as_bytes())
        .await
        .expect("writes");
    let answer = closed_by_server(&mut large).await.expect("answered");
    assert_header_problem(&answer);

    // Within the limits, answered.
    let mut fine = TcpStream::connect(server.addr).await.expect("connects");
    assert!(answered(&mut fine, "/health").await.starts_with("HTTP/1.1 200"));

    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_idle_and_half_open_at_once_ends_streams_and_answers_the_request_in_flight() {
    // Long timeouts: only the shutdown may close anything here.
    let limits = ServeLimits::default()
        .with_header_read_timeout(Duration::from_secs(60))
        .with_shutdown_grace(Duration::from_secs(30));
    let probe = Arc::new(Probe::default());
    let server = serve(small_router(&probe), limits).await;

    let mut half_open = Vec::new();
    for _ in 0..30 {
        let mut conn = TcpStream::connect(server.addr).await.expect("connects");
        conn.write_all(b"GET /health HTTP/1.1\r\nHost: te")
            .await
            .expect("writes");
        half_open.push(conn);
    }
    let mut idle = Vec::new();
    for _ in 0..10 {
        let mut conn = TcpStream::connect(server.addr).await.expect("connects");
        assert!(answered(&mut conn, "/health").await.starts_with("HTTP/1.1 200"));
        idle.push(conn);
    }
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    stream
        .write_all(get_request("/stream").as_bytes())
        .await
        .expect("writes");
    let mut in_flight = TcpStream::connect(server.addr).await.expect("connects");
    in_flight
        .write_all(get_request("/slow").as_bytes())
        .await
        .expect("writes");
    probe.wait_started(2).await;

    let signalled = Instant::now();
    server.stop.send(()).expect("running");
    for conn in half_open.iter_mut().chain(idle.iter_mut()) {
        assert_eq!(closed_by_server(conn).await.as_deref(), Some(""), "closed at once");
    }
    // The stream ended with its final event.
    let ended = closed_by_server(&mut stream).await.expect("the stream ended");
    assert!(
        ended.starts_with("HTTP/1.1 200") && ended.ends_with("event: shutdown\n\n"),
        "{ended}"
    );
    // Long before the 30 s grace period.
    assert!(signalled.elapsed() < WITHIN);
    assert!(!server.task.is_finished(), "the request in flight is waited for");
    probe.release.notify_one();
    let answer = closed_by_server(&mut in_flight).await.expect("answered");
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("finished"),
        "{answer}"
    );
    timeout(WITHIN, server.task)
        .await
        .expect("stops")
        .expect("no panic")
        .expect("clean");
    // Nothing accepts on the port any more.
    assert!(TcpStream::connect(server.addr).await.is_err());
}

#[tokio::test]
async fn a_connection_runs_one_request_at_a_time_even_when_pipelined() {
    let probe = Arc::new(Probe::default());
    let server = serve(small_router(&probe), ServeLimits::default()).await;
    let mut conn = TcpStream::connect(server.addr).await.expect("connects");
    let two = format!("{}{}", get_request("/slow"), get_request("/slow"));
    conn.write_all(two.as_bytes()).await.expect("writes");
    probe.wait_started(1).await;
    // The second request is in the server's buffer, not in a handler: only one is in flight.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(probe.started.load(std::sync::atomic::Ordering::SeqCst), 1);
    probe.release.notify_one();
    assert!(read_answer(&mut conn).await.ends_with("finished"));
    probe.wait_started(2).await;
    probe.release.notify_one();
    assert!(read_answer(&mut conn).await.ends_with("finished"));

    server.stop().await;
}

#[tokio::test]
async fn the_grace_period_bounds_a_shutdown_whatever_the_handlers_do() {
    let limits = ServeLimits::default().with_shutdown_grace(Duration::from_millis(300));
    // `/slow` is never released.
    let probe = Arc::new(Probe::default());
    let server = serve(small_router(&probe), limits).await;
    let mut stuck = TcpStream::connect(server.addr).await.expect("connects");
    stuck.write_all(get_request("/slow").as_bytes()).await.expect("writes");
    probe.wait_started(1).await;

    // Within WITHIN, though the handler never ends: the grace period cut it short.
    server.stop().await;
    assert_eq!(
        closed_by_server(&mut stuck).await.as_deref(),
        Some(""),
        "cut, not answered"
    );
}

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

#[test]
fn connection_limits_come_from_the_environment_with_safe_defaults() {
    let cfg = config(&[]).expect("parses");
    assert_eq!(cfg.serve, ServeLimits::default());
    assert_eq!(cfg.serve.header_read_timeout, Duration::from_secs(10));
    assert_eq!(cfg.serve.keep_alive_timeout, Duration::from_secs(75));
    assert_eq!(cfg.serve.body_read_timeout, Duration::from_secs(15));
    assert!(
        cfg.serve.shutdown_grace < Duration::from_secs(30),
        "under Kubernetes' grace"
    );
    assert_eq!(cfg.serve.max_connections, 4096);
    assert_eq!(cfg.serve.max_connections_per_ip, Some(256));
    assert_eq!((cfg.serve.max_headers, cfg.serve.max_header_bytes), (100, 32 * 1024));

    let cfg = config(&[
        ("ICOSISTEM_HEADER_READ_TIMEOUT_SECS", "2"),
        ("ICOSISTEM_KEEP_ALIVE_TIMEOUT_SECS", "30"),
        ("ICOSISTEM_BODY_READ_TIMEOUT_SECS", "4"),
        ("ICOSISTEM_SHUTDOWN_GRACE_SECS", "8"),
        ("ICOSISTEM_MAX_CONNECTIONS", "1500"),
        ("ICOSISTEM_MAX_CONNECTIONS_PER_IP", "64"),
        ("ICOSISTEM_MAX_HEADERS", "50"),
        ("ICOSISTEM_MAX_HEADER_BYTES", "8192"),
    ])
    .expect("parses");
    let expected = ServeLimits::default()
        .with_header_read_timeout(Duration::from_secs(2))
        .with_keep_alive_timeout(Duration::from_secs(30))
        .with_body_read_timeout(Duration::from_secs(4))
        .with_shutdown_grace(Duration::from_secs(8))
        .with_max_connections(1500)
        .with_max_connections_per_ip(Some(64))
        .with_max_headers(50)
        .with_max_header_bytes(8192);
    assert_eq!(cfg.serve, expected);

    // Behind a proxy every connection has the proxy's address: no per-address cap unless set.
    let proxied = config(&[("ICOSISTEM_TRUST_FORWARDED_FOR", "true")]).expect("parses");
    assert_eq!(proxied.serve.max_connections_per_ip, None);
    let set = config(&[
        ("ICOSISTEM_TRUST_FORWARDED_FOR", "true"),
        ("ICOSISTEM_MAX_CONNECTIONS_PER_IP", "500"),
    ])
    .expect("parses");
    assert_eq!(set.serve.max_connections_per_ip, Some(500));
    let off = config(&[("ICOSISTEM_MAX_CONNECTIONS_PER_IP", "0")]).expect("parses");
    assert_eq!(off.serve.max_connections_per_ip, None);

    for var in [
        "ICOSISTEM_HEADER_READ_TIMEOUT_SECS",
        "ICOSISTEM_SHUTDOWN_GRACE_SECS",
        "ICOSISTEM_MAX_CONNECTIONS",
    ] {
        for bad in ["0", "-1", "soon"] {
            assert!(
                matches!(config(&[(var, bad)]), Err(ConfigError::Invalid { var: v, .. }) if v == var),
                "{var}={bad}"
            );
        }
    }
}
