//! [`serve`]: a [`Router`] on a TCP listener, with the connection-level limits that keep the
//! server up when clients are slow, many or half-open — for the example server and for any host
//! that embeds the router and serves it itself.
//!
//! `axum::serve` (and a bare hyper server) leaves a connection that sent half a request head
//! open for as long as hyper's 30 s header timeout and lets a graceful shutdown wait for it, and
//! bounds neither the number of connections nor what one address may hold. [`serve`] runs
//! hyper's HTTP/1.1 connection builder under its own accept loop and adds, per [`ServeLimits`]:
//!
//! | limit | default | what happens |
//! |---|---|---|
//! | [`header_read_timeout`](ServeLimits::header_read_timeout) | 10 s | a request head (request line and headers) must be complete this long after the connection opened or its first byte arrived; else the connection is closed |
//! | [`keep_alive_timeout`](ServeLimits::keep_alive_timeout) | 75 s | an idle keep-alive connection (no byte since the last answer) is closed after this; longer than nginx's upstream `keepalive_timeout` (60 s) so the proxy, not the server, retires idle upstream connections |
//! | [`body_read_timeout`](ServeLimits::body_read_timeout) | 15 s | a request body must be read completely this long after its head; else the request answers 408 (problem+json) and the connection is closed. Separate from the handler timeout ([`HttpConfig::request_timeout`](crate::HttpConfig::request_timeout)) |
//! | [`shutdown_grace`](ServeLimits::shutdown_grace) | 20 s | when `shutdown` resolves: stop accepting, close idle and half-open connections at once, signal streams ([`ShutdownSignal`]), let requests in flight finish, and cut whatever is left after this |
//! | [`max_connections`](ServeLimits::max_connections) | 4096 | connections beyond it are closed at accept (`http_connections_rejected_total{reason="max_connections"}`); lowered at start to the process's open-file limit minus a reserve |
//! | [`max_connections_per_ip`](ServeLimits::max_connections_per_ip) | 256 | connections of one peer address beyond it are closed at accept (`reason="per_ip"`); `None` for no cap (behind a proxy every connection has the proxy's address) |
//! | [`max_headers`](ServeLimits::max_headers) | 100 | more header fields answer 431 |
//! | [`max_header_bytes`](ServeLimits::max_header_bytes) | 32 KiB | a larger head (request line + headers) answers 431 |
//!
//! Requests in flight per connection: one. Only HTTP/1.1 is served and hyper answers a
//! connection's requests one after the other (pipelined requests wait, unparsed, in a read
//! buffer of at most ~400 KiB), so a connection never runs two handlers at once.
//!
//! Every request gets the peer address as [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo)
//! (audit and rate limiting read it) and a [`ShutdownSignal`] in its extensions. A long-lived
//! response (a server-sent event stream) should end when that signal fires, with a final event,
//! so a shutdown is not held up by it until the grace period cuts it:
//!
//! ```no_run
//! use std::convert::Infallible;
//! use axum::Extension;
//! use axum::response::sse::{Event, Sse};
//! use futures::StreamExt as _;
//! use icosistem_http::serve::ShutdownSignal;
//!
//! async fn events(shutdown: Option<Extension<ShutdownSignal>>) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
//!     let shutdown = shutdown.map(|Extension(s)| s);
//!     let updates = futures::stream::pending::<Result<Event, Infallible>>();
//!     let until = async move {
//!         match shutdown {
//!             Some(s) => s.triggered().await,
//!             None => std::future::pending().await,
//!         }
//!     };
//!     let bye = futures::stream::once(async { Ok(Event::default().event("shutdown").data("reconnect")) });
//!     Sse::new(updates.take_until(until).chain(bye))
//! }
//! # let _ = events;
//! ```
//!
//! A host serving the router some other way must set the equivalent itself: a header read
//! timeout, an idle timeout, a cap on connections (total and per address), header limits, a
//! shutdown that does not wait for idle or half-open connections, a bounded grace period, and
//! `ConnectInfo<SocketAddr>` (`into_make_service_with_connect_info`). With a [`ShutdownSignal`]
//! of its own ([`ShutdownSignal::new`]) in an `Extension` layer, its streams end on shutdown too.
//! Behind nginx, the proxy's settings should agree with these (see docs/DEPLOYMENT.md).
//!
//! WebSocket upgrades are not served (the API has none): an upgraded connection would leave
//! the bookkeeping above.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

use crate::error::{ApiError, PROBLEM_JSON};
use crate::metrics::{HTTP_CONNECTION_TIMEOUTS_TOTAL, HTTP_CONNECTIONS_OPEN, HTTP_CONNECTIONS_REJECTED_TOTAL};
use crate::middleware::X_REQUEST_ID;

/// File descriptors [`serve`] leaves for everything but client connections (the listener, the
/// database pool, Redis, logs, the runtime) when it lowers `max_connections` to the process's
/// open-file limit.
pub const RESERVED_FDS: usize = 128;

/// How long a connection with no request in flight may take to flush after a shutdown began
/// before it is dropped: long enough to send an answer just written, short enough that a
/// half-open connection does not hold the shutdown up.
const SHUTDOWN_LINGER: Duration = Duration::from_millis(250);

/// The connection-level limits of [`serve`]. See the [module docs](self) for what each does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeLimits {
    /// Time to receive a complete request head, from the connection's start or the first byte
    /// after an answer (default 10 s).
    pub header_read_timeout: Duration,
    /// Time an idle keep-alive connection is kept (default 75 s).
    pub keep_alive_timeout: Duration,
    /// Time to receive a request body, from its head (default 15 s).
    pub body_read_timeout: Duration,
    /// Longest a shutdown waits for requests in flight (default 20 s).
    pub shutdown_grace: Duration,
    /// Connections open at once (default 4096).
    pub max_connections: usize,
    /// Connections open at once from one peer address; `None` = no cap (default 256).
    pub max_connections_per_ip: Option<usize>,
    /// Header fields per request (default 100).
    pub max_headers: usize,
    /// Bytes of a request head (default 32 KiB).
    pub max_header_bytes: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(75),
            body_read_timeout: Duration::from_secs(15),
            shutdown_grace: Duration::from_secs(20),
            max_connections: 4096,
            max_connections_per_ip: Some(256),
            max_headers: 100,
            max_header_bytes: 32 * 1024,
        }
    }
}

impl ServeLimits {
    /// Replaces the header read timeout.
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Replaces the keep-alive idle timeout.
    pub fn with_keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.keep_alive_timeout = timeout;
        self
    }

    /// Replaces the body read timeout.
    pub fn with_body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Replaces the shutdown grace period.
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Replaces the connection cap (at least 1).
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Replaces the per-address connection cap (`None`: no cap).
    pub fn with_max_connections_per_ip(mut self, max: Option<usize>) -> Self {
        self.max_connections_per_ip = max.map(|m| m.max(1));
        self
    }

    /// Replaces the header count limit (at least 1).
    pub fn with_max_headers(mut self, max: usize) -> Self {
        self.max_headers = max.max(1);
        self
    }

    /// Replaces the head size limit in bytes.
    pub fn with_max_header_bytes(mut self, max: usize) -> Self {
        self.max_header_bytes = max.max(1);
        self
    }

    /// These limits with `max_connections` lowered to what the process's open-file limit
    /// allows ([`RESERVED_FDS`] kept for the rest), so a flood meets our refusal rather than
    /// `EMFILE` in the middle of a database call. Linux only; elsewhere unchanged.
    pub fn within_open_file_limit(mut self) -> Self {
        if let Some(limit) = open_file_limit() {
            let budget = limit.saturating_sub(RESERVED_FDS).max(1);
            if self.max_connections > budget {
                tracing::warn!(
                    max_connections = self.max_connections,
                    open_file_limit = limit,
                    lowered_to = budget,
                    "the open-file limit (ulimit -n) is too low for max_connections: lowered; raise the limit"
                );
                self.max_connections = budget;
            }
        }
        self
    }
}

/// The soft `RLIMIT_NOFILE` of this process, from `/proc/self/limits`.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Fires when the server starts shutting down. [`serve`] puts one in every request's
/// extensions; handlers of long-lived responses watch it to end them (see the module docs).
#[derive(Debug, Clone)]
pub struct ShutdownSignal {
    rx: watch::Receiver<bool>,
}

/// Fires its [`ShutdownSignal`]s.
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: watch::Sender<bool>,
}

impl ShutdownSignal {
    /// A signal and its trigger, for a host that serves the router itself. Dropping the trigger
    /// fires the signal too (nobody is left to fire it: the server is gone).
    pub fn new() -> (ShutdownTrigger, Self) {
        let (tx, rx) = watch::channel(false);
        (ShutdownTrigger { tx }, Self { rx })
    }

    /// Whether the shutdown has begun.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow() || self.rx.has_changed().is_err()
    }

    /// Resolves when the shutdown begins (at once if it has).
    pub async fn triggered(&self) {
        let mut rx = self.rx.clone();
        // An error means the trigger is gone: as good as fired.
        let _ = rx.wait_for(|fired| *fired).await;
    }
}

impl ShutdownTrigger {
    /// Fires the signal.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }
}

/// Serves `router` on `listener` with `limits` until `shutdown` resolves, then shuts down as
/// the [module docs](self) describe and returns once every connection is closed — at most
/// [`ServeLimits::shutdown_grace`] (plus a few milliseconds) later. Errors accepting a
/// connection (the process out of file descriptors …) are logged and retried, never fatal.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let limits = limits.within_open_file_limit();
    let mut http = http1::Builder::new();
    // Our own deadlines replace hyper's header timeout: hyper's also runs while a keep-alive
    // connection is idle, so it could not be shorter than the keep-alive timeout.
    http.keep_alive(true)
        .header_read_timeout(None)
        .max_headers(limits.max_headers)
        .max_header_size(limits.max_header_bytes);
    let http = Arc::new(http);
    let registry = Arc::new(Registry::default());
    let (trigger, signal) = ShutdownSignal::new();
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(joined) = connections.join_next(), if !connections.is_empty() => log_join(joined),
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        accept_error(error).await;
                        continue;
                    }
                };
                let Some(slot) = registry.admit(peer.ip(), &limits) else {
                    // Closed at once: the client learns now rather than after a timeout.
                    drop(stream);
                    continue;
                };
                // Small answers go out at once rather than waiting for Nagle's delayed ACK.
                let _ = stream.set_nodelay(true);
                let conn = Connection {
                    http: Arc::clone(&http),
                    router: router.clone(),
                    limits,
                    signal: signal.clone(),
                    peer,
                };
                connections.spawn(conn.run(stream, slot));
            }
        }
    }
    drop(listener);
    trigger.trigger();
    let in_flight = connections.len();
    tracing::info!(
        connections = in_flight,
        grace = ?limits.shutdown_grace,
        "shutting down: closing idle connections, finishing requests in flight"
    );
    let deadline = Instant::now() + limits.shutdown_grace;
    loop {
        tokio::select! {
            joined = connections.join_next() => match joined {
                Some(joined) => log_join(joined),
                None => break,
            },
            () = tokio::time::sleep_until(deadline) => {
                tracing::warn!(
                    connections = connections.len(),
                    "shutdown grace period over: closing the connections still busy"
                );
                connections.shutdown().await;
                break;
            }
        }
    }
    Ok(())
}

fn log_join(joined: Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        tracing::error!(%error, "a connection task panicked");
    }
}

/// A failed `accept`: the client's own failures are ignored; anything else (out of file
/// descriptors, out of memory) is logged and the loop pauses so it does not spin.
async fn accept_error(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// The connections open, in total and per peer address.
#[derive(Debug, Default)]
struct Registry {
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    open: usize,
    per_ip: HashMap<IpAddr, usize>,
}

impl Registry {
    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a connection from `ip`, or `None` (counted) when a cap is reached.
    fn admit(self: &Arc<Self>, ip: IpAddr, limits: &ServeLimits) -> Option<Slot> {
        let mut counts = self.counts();
        let reason = if counts.open >= limits.max_connections {
            Some("max_connections")
        } else if limits
            .max_connections_per_ip
            .is_some_and(|cap| counts.per_ip.get(&ip).copied().unwrap_or(0) >= cap)
        {
            Some("per_ip")
        } else {
            None
        };
        if let Some(reason) = reason {
            drop(counts);
            metrics::counter!(HTTP_CONNECTIONS_REJECTED_TOTAL, "reason" => reason).increment(1);
            tracing::debug!(%ip, reason, "connection refused");
            return None;
        }
        counts.open += 1;
        *counts.per_ip.entry(ip).or_insert(0) += 1;
        metrics::gauge!(HTTP_CONNECTIONS_OPEN).increment(1.0);
        Some(Slot {
            registry: Arc::clone(self),
            ip,
        })
    }
}

/// A connection's place in the [`Registry`], given back when the connection task ends (also
/// when it is aborted).
#[derive(Debug)]
struct Slot {
    registry: Arc<Registry>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.registry.counts();
        counts.open = counts.open.saturating_sub(1);
        if let Some(n) = counts.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
        metrics::gauge!(HTTP_CONNECTIONS_OPEN).decrement(1.0);
    }
}

/// What one connection is doing, for its deadlines. Shared by the socket wrapper (bytes read),
/// the service (requests begun and answered) and the connection task (which sleeps until the
/// next deadline and is woken by `changed`).
#[derive(Debug)]
struct ConnState {
    track: Mutex<Track>,
    changed: Notify,
}

#[derive(Debug, Clone, Copy)]
struct Track {
    /// Requests begun and not yet answered to the last byte.
    in_flight: usize,
    /// Whether a request head is due: the connection is new, or bytes came after an answer.
    head_due: bool,
    /// Since when the current phase (head due, or idle) runs.
    since: Instant,
}

/// Why a connection's deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    Header,
    Idle,
    Shutdown,
}

impl ConnState {
    fn new() -> Self {
        Self {
            track: Mutex::new(Track {
                in_flight: 0,
                head_due: true,
                since: Instant::now(),
            }),
            changed: Notify::new(),
        }
    }

    fn track(&self) -> MutexGuard<'_, Track> {
        self.track.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn begin_request(&self) {
        self.track().in_flight += 1;
        self.changed.notify_one();
    }

    fn end_request(&self) {
        let mut track = self.track();
        track.in_flight = track.in_flight.saturating_sub(1);
        if track.in_flight == 0 {
            track.head_due = false;
            track.since = Instant::now();
        }
        drop(track);
        self.changed.notify_one();
    }

    /// Bytes arrived: on an idle connection, a request head is now due.
    fn bytes_read(&self) {
        let mut track = self.track();
        if track.in_flight == 0 && !track.head_due {
            track.head_due = true;
            track.since = Instant::now();
            drop(track);
            self.changed.notify_one();
        }
    }

    /// The next deadline and what it is, `None` while a request is in flight (the handler and
    /// body timeouts bound it, and the shutdown grace period).
    fn deadline(&self, limits: &ServeLimits, draining_since: Option<Instant>) -> Option<(Instant, Expiry)> {
        let track = *self.track();
        if track.in_flight > 0 {
            return None;
        }
        let phase = if track.head_due {
            (track.since + limits.header_read_timeout, Expiry::Header)
        } else {
            (track.since + limits.keep_alive_timeout, Expiry::Idle)
        };
        match draining_since {
            Some(since) if since + SHUTDOWN_LINGER < phase.0 => Some((since + SHUTDOWN_LINGER, Expiry::Shutdown)),
            _ => Some(phase),
        }
    }
}

/// One accepted connection: what its task needs.
struct Connection {
    http: Arc<http1::Builder>,
    router: Router,
    limits: ServeLimits,
    signal: ShutdownSignal,
    peer: SocketAddr,
}

impl Connection {
    /// Serves the connection until it ends, a deadline passes, or (during a shutdown) it has
    /// no request in flight. Dropping the hyper connection closes the socket.
    async fn run(self, stream: TcpStream, _slot: Slot) {
        let state = Arc::new(ConnState::new());
        let io = TokioIo::new(TrackedIo {
            inner: stream,
            state: Arc::clone(&state),
        });
        let service = ConnService {
            router: self.router,
            peer: self.peer,
            state: Arc::clone(&state),
            body_read_timeout: self.limits.body_read_timeout,
            signal: self.signal.clone(),
        };
        let conn = self.http.serve_connection(io, service);
        let mut conn = std::pin::pin!(conn);
        let mut draining_since = None;
        loop {
            let deadline = state.deadline(&self.limits, draining_since);
            let sleep = async {
                match deadline {
                    Some((at, _)) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(peer = %self.peer, %error, "connection ended with an error");
                    }
                    return;
                }
                () = state.changed.notified() => {}
                () = self.signal.triggered(), if draining_since.is_none() => {
                    // Idle connections close at once; one with a request in flight answers it
                    // with `Connection: close`.
                    conn.as_mut().graceful_shutdown();
                    draining_since = Some(Instant::now());
                }
                () = sleep => {
                    // The state may have moved since the deadline was computed.
                    let Some((at, expiry)) = state.deadline(&self.limits, draining_since) else {
                        continue;
                    };
                    if at > Instant::now() {
                        continue;
                    }
                    let phase = match expiry {
                        Expiry::Header => "header",
                        Expiry::Idle => "idle",
                        Expiry::Shutdown => return,
                    };
                    metrics::counter!(HTTP_CONNECTION_TIMEOUTS_TOTAL, "phase" => phase).increment(1);
                    tracing::debug!(peer = %self.peer, phase, "connection timed out");
                    return;
                }
            }
        }
    }
}

/// The socket, reporting reads to the connection's deadlines.
struct TrackedIo {
    inner: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for TrackedIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.state.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The per-connection service: the router, with the connection's extensions, the body timeout
/// and the in-flight bookkeeping around it.
#[derive(Clone)]
struct ConnService {
    router: Router,
    peer: SocketAddr,
    state: Arc<ConnState>,
    body_read_timeout: Duration,
    signal: ShutdownSignal,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<AnsweredBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.state.begin_request();
        let in_flight = InFlight(Arc::clone(&self.state));
        let timed_out = Arc::new(AtomicBool::new(false));
        let (mut parts, body) = request.into_parts();
        parts.extensions.insert(ConnectInfo(self.peer));
        parts.extensions.insert(self.signal.clone());
        let body = Body::new(TimedBody {
            inner: body,
            deadline: Instant::now() + self.body_read_timeout,
            sleep: None,
            timed_out: Arc::clone(&timed_out),
        });
        let router = self.router.clone();
        Box::pin(async move {
            let response = match router.oneshot(Request::from_parts(parts, body)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let response = if timed_out.load(Ordering::Relaxed) {
                body_timeout_response(response)
            } else {
                response
            };
            Ok(response.map(|inner| AnsweredBody {
                inner,
                _in_flight: in_flight,
            }))
        })
    }
}

/// The answer to a request whose body did not arrive in time: whatever the handler made of the
/// failed read (usually a 400 about the JSON) becomes a 408 problem, keeping the headers the
/// router set (request id, security headers), and the connection is closed (the rest of the
/// body is still unread).
fn body_timeout_response(response: Response<Body>) -> Response<Body> {
    metrics::counter!(HTTP_CONNECTION_TIMEOUTS_TOTAL, "phase" => "body").increment(1);
    let (mut parts, _) = response.into_parts();
    let mut problem = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "timeout",
        "the request body did not arrive in time",
    )
    .problem();
    problem.request_id = parts
        .headers
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    parts.status = StatusCode::REQUEST_TIMEOUT;
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    Response::from_parts(parts, Body::from(serde_json::to_vec(&problem).unwrap_or_default()))
}

/// Ends the request's in-flight time when dropped: hyper drops the answer's body once it has
/// written its last byte (or the connection is gone).
struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end_request();
    }
}

/// An answer's body, holding the request in flight until it is written.
struct AnsweredBody {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for AnsweredBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The request body did not arrive within the body read timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body read timeout")]
pub struct BodyTimeout;

/// A request body that fails with [`BodyTimeout`] once its deadline has passed — checked before
/// each read, so a client dripping a byte at a time cannot stretch it.
struct TimedBody {
    inner: Incoming,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

impl TimedBody {
    fn fail(&self) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        self.timed_out.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(Box::new(BodyTimeout))))
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            return this.fail();
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_ready() {
            return this.fail();
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_address_and_in_total() {
        let registry = Arc::new(Registry::default());
        let limits = ServeLimits::default()
            .with_max_connections(3)
            .with_max_connections_per_ip(Some(2));
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let first = registry.admit(a, &limits).expect("room");
        let _second = registry.admit(a, &limits).expect("room");
        assert!(registry.admit(a, &limits).is_none(), "per address");
        let _third = registry.admit(b, &limits).expect("room");
        assert!(registry.admit(b, &limits).is_none(), "in total");
        drop(first);
        assert!(
            registry.admit(a, &limits).is_some(),
            "a closed connection frees its slot"
        );
        assert!(registry.counts().per_ip.len() <= 2);
    }

    #[test]
    fn deadlines_follow_the_connection_phase() {
        let limits = ServeLimits::default();
        let state = ConnState::new();
        let start = state.track().since;
        assert_eq!(
            state.deadline(&limits, None),
            Some((start + limits.header_read_timeout, Expiry::Header))
        );
        state.begin_request();
        assert_eq!(state.deadline(&limits, None), None, "a request in flight has none");
        assert_eq!(state.deadline(&limits, Some(start)), None, "not even when draining");
        state.end_request();
        let idle = state.track().since;
        assert_eq!(
            state.deadline(&limits, None),
            Some((idle + limits.keep_alive_timeout, Expiry::Idle))
        );
        assert_eq!(
            state.deadline(&limits, Some(idle)),
            Some((idle + SHUTDOWN_LINGER, Expiry::Shutdown))
        );
        state.bytes_read();
        let head = state.track().since;
        assert_eq!(
            state.deadline(&limits, None),
            Some((head + limits.header_read_timeout, Expiry::Header))
        );
    }

    #[test]
    fn the_signal_fires_when_triggered_or_dropped() {
        let (trigger, signal) = ShutdownSignal::new();
        assert!(!signal.is_triggered());
        trigger.trigger();
        assert!(signal.is_triggered());
        let (trigger, signal) = ShutdownSignal::new();
        drop(trigger);
        assert!(signal.is_triggered());
    }

    #[test]
    fn open_file_limit_reads_proc() {
        if cfg!(target_os = "linux") {
            assert!(open_file_limit().is_some_and(|n| n > 0));
        }
    }
}
