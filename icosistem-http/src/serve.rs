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
//! | [`max_headers`](ServeLimits::max_headers) | 100 | more header fields answer a 431 problem (`header_fields_too_large`) |
//! | [`max_header_bytes`](ServeLimits::max_header_bytes) | 32 KiB | a larger head (request line + headers) answers a 431 problem |
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

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

mod connection;
mod limits;

pub use connection::BodyTimeout;
use connection::Connection;
use limits::Registry;
pub use limits::{RESERVED_FDS, ServeLimits};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
