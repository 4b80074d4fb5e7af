//! The connection limits of [`serve`](super::serve) and the accounting that enforces the caps
//! on connections: in total and per peer address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::metrics::{HTTP_CONNECTIONS_OPEN, HTTP_CONNECTIONS_REJECTED_TOTAL};

/// File descriptors [`serve`](super::serve) leaves for everything but client connections (the listener, the
/// database pool, Redis, logs, the runtime) when it lowers `max_connections` to the process's
/// open-file limit.
pub const RESERVED_FDS: usize = 128;

/// The connection-level limits of [`serve`](super::serve). See the [module docs](super) for what each does.
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

/// The connections open, in total and per peer address.
#[derive(Debug, Default)]
pub(super) struct Registry {
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
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr, limits: &ServeLimits) -> Option<Slot> {
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
pub(super) struct Slot {
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
    fn open_file_limit_reads_proc() {
        if cfg!(target_os = "linux") {
            assert!(open_file_limit().is_some_and(|n| n > 0));
        }
    }
}
