//! One accepted connection: its deadlines (head, idle, shutdown linger), the socket reporting
//! reads to them, the per-connection service with its in-flight bookkeeping, and the request
//! body's read timeout.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
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
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

use crate::error::{ApiError, PROBLEM_JSON};
use crate::metrics::HTTP_CONNECTION_TIMEOUTS_TOTAL;
use crate::middleware::X_REQUEST_ID;

use super::ShutdownSignal;
use super::limits::{ServeLimits, Slot};

/// How long a connection with no request in flight may take to flush after a shutdown began
/// before it is dropped: long enough to send an answer just written, short enough that a
/// half-open connection does not hold the shutdown up.
const SHUTDOWN_LINGER: Duration = Duration::from_millis(250);

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
pub(super) struct Connection {
    pub(super) http: Arc<http1::Builder>,
    pub(super) router: Router,
    pub(super) limits: ServeLimits,
    pub(super) signal: ShutdownSignal,
    pub(super) peer: SocketAddr,
}

impl Connection {
    /// Serves the connection until it ends, a deadline passes, or (during a shutdown) it has
    /// no request in flight. Dropping the hyper connection closes the socket.
    pub(super) async fn run(self, stream: TcpStream, _slot: Slot) {
        let state = Arc::new(ConnState::new());
        let io = TokioIo::new(TrackedIo {
            inner: stream,
            state: Arc::clone(&state),
            rewrite: None,
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

/// The socket, reporting reads to the connection's deadlines, and answering a head over the
/// limits as a problem.
struct TrackedIo {
    inner: TcpStream,
    state: Arc<ConnState>,
    /// Set once hyper began its own 431: the problem written in its place.
    rewrite: Option<Rewrite>,
}

/// Hyper answers a head with too many or too large header fields (`max_headers`,
/// `max_header_bytes`) by itself, before any service runs, with a bare status and no body; it
/// offers no hook to shape that answer. Its status line is recognised as the first bytes hyper
/// writes for an answer (no route answers 431), and the answer is replaced by a problem like
/// every other error; hyper closes the connection after it.
const HYPER_431: &[u8] = b"HTTP/1.1 431 ";

/// The problem written in place of hyper's 431, and how much of it is written.
struct Rewrite {
    bytes: Vec<u8>,
    written: usize,
}

impl Rewrite {
    fn new() -> Self {
        let request_id = uuid::Uuid::now_v7().to_string();
        let mut problem = ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "header_fields_too_large",
            "the request has too many or too large header fields",
        )
        .problem();
        problem.request_id = Some(request_id.clone());
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut bytes = format!(
            "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: {PROBLEM_JSON}\r\n\
             content-length: {}\r\n{X_REQUEST_ID}: {request_id}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&body);
        Self { bytes, written: 0 }
    }
}

impl TrackedIo {
    /// Writes what is left of the problem in place of hyper's `len` bytes (which are dropped:
    /// hyper's answer and anything after it until it closes the connection).
    fn poll_rewrite(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<io::Result<usize>> {
        let Some(rewrite) = self.rewrite.as_mut() else {
            return Poll::Ready(Ok(len));
        };
        while rewrite.written < rewrite.bytes.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &rewrite.bytes[rewrite.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => rewrite.written += n,
                other => return other,
            }
        }
        Poll::Ready(Ok(len))
    }

    /// Whether hyper's write starting with `first` is its own 431 — written while no request
    /// is being answered (from then on every write is rewritten).
    fn rewriting(&mut self, first: &[u8]) -> bool {
        if self.rewrite.is_none() && first.starts_with(HYPER_431) && self.state.track().in_flight == 0 {
            self.rewrite = Some(Rewrite::new());
        }
        self.rewrite.is_some()
    }
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
        let this = self.get_mut();
        if this.rewriting(buf) {
            return this.poll_rewrite(cx, buf.len());
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
        if this.rewriting(first) {
            return this.poll_rewrite(cx, bufs.iter().map(|b| b.len()).sum());
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
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
}
