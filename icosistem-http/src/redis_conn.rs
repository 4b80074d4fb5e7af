//! The Redis connection every Redis user of this crate shares the rules of: the
//! [`RedisRateLimiter`](crate::rate_limit::RedisRateLimiter) and the live stream's
//! [`LiveHub::redis_client`](crate::live::LiveHub::redis_client).
//!
//! - `redis://[:password@]host:6379/0` is plain TCP (a private network only);
//! - `rediss://[:password@]host:6380/0` is TLS through rustls (the ring provider, like the
//!   PostgreSQL driver), checking the server's certificate and name against the webpki roots
//!   (Mozilla's CAs, built in: managed Redis services need nothing else), or only against a
//!   private CA when its PEM is given ([`client`]'s `ca_pem`). There is no "accept any
//!   certificate" mode.

use std::time::Duration;

use redis::aio::ConnectionManagerConfig;

/// The client of `url` (`redis://` or `rediss://`). With `ca_pem` (PEM certificates of a
/// private CA), a `rediss://` server must present a certificate issued by that CA; `ca_pem`
/// with a plain `redis://` URL is refused (the CA would silently be ignored).
pub fn client(url: &str, ca_pem: Option<&[u8]>) -> redis::RedisResult<redis::Client> {
    let Some(ca_pem) = ca_pem else {
        return redis::Client::open(url);
    };
    // Checked here, before the PEM is parsed: which of the two `build_with_tls` reports first
    // depends on the redis crate's TLS features.
    if !url.starts_with("rediss://") {
        return Err(redis::RedisError::from((
            redis::ErrorKind::InvalidClientConfig,
            "a private CA needs a rediss:// URL",
        )));
    }
    redis::Client::build_with_tls(
        url,
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca_pem.to_vec()),
        },
    )
}

/// The connection manager settings of the server's Redis uses. Short timeouts: a rate-limit
/// check is on every request's path and a live publish follows a commit, so failing (open,
/// or to the next heartbeat) after half a second beats holding requests for the defaults.
pub(crate) fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(500)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_needs_a_tls_url() {
        let pem = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
        let refused = client("redis://127.0.0.1:6379", Some(pem)).expect_err("plain URL with a CA");
        assert_eq!(refused.kind(), redis::ErrorKind::InvalidClientConfig);
        assert!(client("rediss://127.0.0.1:6380", None).is_ok());
        assert!(client("redis://127.0.0.1:6379", None).is_ok());
    }
}
