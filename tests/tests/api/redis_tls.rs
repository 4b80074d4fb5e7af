//! Redis over TLS (`rediss://`): a TLS-only `redis-server` started here, with a private CA and
//! a certificate for `localhost` made on the spot, reached through the server's own code path
//! (`REDIS_URL` + `ICOSISTEM_REDIS_CA_FILE` → `icosistem_server::redis_limiter` / `live_hub`).
//! Without the CA the certificate is refused, and plaintext does not reach a TLS port.
//!
//! Needs the `redis-server` binary (Debian's is built with TLS); without it the test is skipped,
//! or fails when services are required.

use std::collections::HashMap;
use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use icosistem_http::Quota;
use icosistem_http::rate_limit::RateLimiter as _;
use icosistem_server::Config;
use icosistem_store_postgres::testing::services_required;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A `redis-server` listening with TLS only on `port`, stopped (and its files removed) on drop.
struct TlsRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TlsRedis {
    /// The CA's PEM file.
    fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Starts one, or `None` after a skip line when `redis-server` is missing and services are
    /// not required.
    fn start() -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("icosistem-redis-tls-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        write_certificates(&dir);
        // A free port: bound by the OS, released just before redis-server takes it.
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let spawned = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(dir.join("server.pem"))
            .arg("--tls-key-file")
            .arg(dir.join("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(dir.join("ca.pem"))
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&dir);
                if services_required() {
                    panic!("redis-server cannot start ({error}), but CI/ICOSISTEM_REQUIRE_SERVICES requires it");
                }
                eprintln!("skipping the Redis TLS test: redis-server cannot start ({error})");
                return None;
            }
        };
        let redis = Self { child, port, dir };
        // Listening once a TCP connection is accepted.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(redis)
    }
}

/// A private CA (`ca.pem`) and a certificate for `localhost` / 127.0.0.1 it issued
/// (`server.pem`, `server.key`).
fn write_certificates(dir: &std::path::Path) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "icosistem test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key")).expect("CA certificate");
    let server_key = KeyPair::generate().expect("server key");
    let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params")
        .signed_by(&server_key, &ca)
        .expect("server certificate");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("ca.pem");
    std::fs::write(dir.join("server.pem"), server.pem()).expect("server.pem");
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).expect("server.key");
}

fn config(vars: &[(&str, String)]) -> Config {
    let vars: HashMap<&str, String> = vars.iter().cloned().collect();
    Config::from_lookup(|name| vars.get(name).cloned()).expect("a valid configuration")
}

#[tokio::test]
async fn the_server_uses_redis_over_tls_with_a_private_ca() {
    let Some(redis) = TlsRedis::start() else { return };
    let url = format!("rediss://localhost:{}/0", redis.port);
    let cfg = config(&[
        ("REDIS_URL", url.clone()),
        ("ICOSISTEM_REDIS_CA_FILE", redis.ca_file().display().to_string()),
    ]);

    // The rate limiter: a round trip and its GCRA script, over TLS.
    let limiter = icosistem_server::redis_limiter(&cfg)
        .expect("a valid REDIS_URL")
        .expect("Redis configured");
    limiter.ping().await.expect("PING over TLS");
    let quota = Quota::new(1, 1);
    let key = format!("tls:{}", uuid::Uuid::now_v7());
    assert!(limiter.check(&key, quota).await.expect("checked").allowed);
    assert!(
        !limiter.check(&key, quota).await.expect("checked").allowed,
        "the budget is shared state in Redis"
    );

    // The live hub subscribes over TLS too.
    let _hub = icosistem_server::live_hub(&cfg).expect("a hub");
    let client = icosistem_server::redis_client(&cfg)
        .expect("a client")
        .expect("Redis configured");
    let mut conn = client.get_multiplexed_async_connection().await.expect("TLS connection");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, subscribers): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(icosistem_server::LIVE_CHANNEL)
            .query_async(&mut conn)
            .await
            .expect("PUBSUB NUMSUB");
        if subscribers >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the live hub never subscribed over TLS");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The certificate is checked: the webpki roots alone do not know this CA.
    let untrusted = icosistem_server::redis_limiter(&config(&[("REDIS_URL", url)]))
        .expect("a valid REDIS_URL")
        .expect("Redis configured");
    assert!(
        untrusted.ping().await.is_err(),
        "a certificate of an unknown CA was accepted"
    );

    // And plaintext to the TLS port gets no answer.
    let plain =
        icosistem_server::redis_limiter(&config(&[("REDIS_URL", format!("redis://localhost:{}/0", redis.port))]))
            .expect("a valid REDIS_URL")
            .expect("Redis configured");
    assert!(plain.ping().await.is_err());

    // A CA file with a plain URL is a configuration error, not a silent plaintext connection.
    let mixed = config(&[
        ("REDIS_URL", format!("redis://localhost:{}/0", redis.port)),
        ("ICOSISTEM_REDIS_CA_FILE", redis.ca_file().display().to_string()),
    ]);
    let error = icosistem_server::redis_limiter(&mixed).expect_err("refused");
    assert!(error.to_string().contains("ICOSISTEM_REDIS_CA_FILE"), "{error}");
}
