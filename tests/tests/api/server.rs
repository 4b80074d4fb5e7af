//! The server over a real socket: started in-process on port 0 with the memory store and the
//! demo data, driven with hyper's client, stopped the way SIGTERM stops it. Plus the
//! configuration rules, checked on the parsing function rather than the process environment
//! (tests run in parallel threads and share one environment).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use icosistem_core::Ecosystem;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Argon2idPasswordHasher, SystemClock};
use icosistem_http::{AppState, HttpConfig};
use icosistem_server::demo::{self, SeedOutcome};
use icosistem_server::{Config, ConfigError, Environment, LogFormat, ensure_admin};
use icosistem_store_memory::MemoryStore;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::common::{program_json, spawn_server};

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A running server: its base URL, the trigger of its shutdown and its task.
struct Running {
    base: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

fn eco(cfg: &Config) -> icosistem_server::Eco<MemoryStore> {
    // OWASP argon2 parameters cost ~0.4 s per hash in a debug build; the flows are the same.
    Ecosystem::new(
        MemoryStore::new(),
        icosistem_server::ServerNotifier::from_config(cfg).expect("the notifier builds"),
        SystemClock,
    )
    .with_limits(cfg.limits())
    .with_hasher(Argon2idPasswordHasher::fast_for_tests())
}

async fn start() -> Running {
    start_with(&Config::from_lookup(|_| None).expect("the defaults are valid")).await
}

async fn start_with(cfg: &Config) -> Running {
    let eco = eco(cfg);
    let seeded = demo::seed(&eco).await.expect("the demo data seeds");
    assert!(matches!(seeded, SeedOutcome::Created(_)));
    let state = AppState::new(
        Arc::new(eco),
        HttpConfig::new(SecretString::new(icosistem_server::generate_secret()))
            .with_rate_limits(crate::common::test_rate_limits()),
    )
    .expect("valid HTTP config");
    let (base, stop, task) = spawn_server(state).await;
    Running { base, stop, task }
}

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn call(
    client: &HttpClient,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(url);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(json) => {
            req = req.header("content-type", "application/json");
            Full::new(Bytes::from(json.to_string()))
        }
        None => Full::new(Bytes::new()),
    };
    let res = client
        .request(req.body(body).expect("a valid request"))
        .await
        .expect("the server answers");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("a body").to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, value)
}

#[tokio::test]
async fn serves_demo_logins_over_a_socket_and_shuts_down_gracefully() {
    let server = start().await;
    let http = client();

    let (status, body) = call(&http, Method::GET, &format!("{}/health", server.base), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "status": "ok" }));

    // Every demo login works as printed at start.
    for login in demo::logins() {
        let (status, body) = call(
            &http,
            Method::POST,
            &format!("{}/api/v2/auth/login", server.base),
            None,
            Some(json!({ "email": login.email, "password": login.password })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", login.email);
        assert!(body["refresh_token"].as_str().is_some_and(|t| !t.is_empty()));
        let token = body["access_token"].as_str().expect("an access token").to_owned();

        let (status, me) = call(
            &http,
            Method::GET,
            &format!("{}/api/v2/users/me", server.base),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["email"], login.email);
        assert_eq!(me["role"], login.role);
    }

    // A wrong password is refused (the demo password is not a master key).
    let (status, _) = call(
        &http,
        Method::POST,
        &format!("{}/api/v2/auth/login", server.base),
        None,
        Some(json!({ "email": demo::ADMIN_EMAIL, "password": "not-the-demo-password" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Shutdown completes although the client still holds an idle keep-alive connection, and
    // afterwards nothing accepts connections on that port.
    server.stop.send(()).expect("the server is running");
    let finished = tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("graceful shutdown completes within 10 s");
    finished
        .expect("the server task did not panic")
        .expect("the server stopped cleanly");
    let after = client()
        .request(
            Request::get(format!("{}/health", server.base))
                .body(Full::new(Bytes::new()))
                .expect("a valid request"),
        )
        .await;
    assert!(after.is_err(), "the listener is closed after shutdown");
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let server = start().await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    // A raw connection, so the request can be left half-sent: headers and part of the body are
    // in, the handler is waiting for the rest when the shutdown starts.
    let mut conn = TcpStream::connect(&addr).await.expect("connects");
    let body = json!({ "email": demo::ADMIN_EMAIL, "password": demo::DEMO_PASSWORD }).to_string();
    let (head, tail) = body.split_at(10);
    let request = format!(
        "POST /api/v2/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.expect("writes");
    // Generous on loopback: the server reads what is in its socket as soon as it is readable.
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.stop.send(()).expect("the server is running");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!server.task.is_finished(), "the server waits for the request in flight");
    conn.write_all(tail.as_bytes())
        .await
        .expect("the connection is still open");
    let mut response = Vec::new();
    // The server closes the connection after answering, since it is shutting down.
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut response))
        .await
        .expect("answered in time")
        .expect("reads");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("access_token"), "{response}");
    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("graceful shutdown completes")
        .expect("no panic")
        .expect("a clean stop");
}

#[tokio::test]
async fn demo_seed_and_admin_bootstrap_are_idempotent() {
    let eco = eco(&config(&[]).expect("the defaults are valid"));
    assert!(matches!(demo::seed(&eco).await, Ok(SeedOutcome::Created(_))));
    assert!(matches!(demo::seed(&eco).await, Ok(SeedOutcome::AlreadyPresent(_))));
    let password = SecretString::new("Another-Long-Passphrase-42");
    assert!(ensure_admin(&eco, "ops@example.org", &password).await.expect("created"));
    assert!(
        !ensure_admin(&eco, "ops@example.org", &password)
            .await
            .expect("already there")
    );
    // An existing demo account is left alone, whatever its role.
    assert!(
        !ensure_admin(&eco, demo::ADMIN_EMAIL, &password)
            .await
            .expect("already there")
    );
}

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

const STRONG: &str = "0123456789abcdef0123456789abcdef";
const DB: &str = "postgres://app:pw@db:5432/icosistem";

#[test]
fn production_refuses_a_short_or_missing_secret() {
    let short = config(&[
        ("ICOSISTEM_ENV", "production"),
        ("JWT_SECRET_KEY", "too-short"),
        ("DATABASE_URL", DB),
    ])
    .expect("parses");
    assert_eq!(short.check_serve(), Err(ConfigError::WeakSecret));
    let missing = config(&[("ICOSISTEM_ENV", "production"), ("DATABASE_URL", DB)]).expect("parses");
    assert_eq!(missing.check_serve(), Err(ConfigError::WeakSecret));
    // 31 bytes is one short.
    let almost = config(&[
        ("ICOSISTEM_ENV", "production"),
        ("JWT_SECRET_KEY", &STRONG[1..]),
        ("DATABASE_URL", DB),
    ])
    .expect("parses");
    assert_eq!(almost.check_serve(), Err(ConfigError::WeakSecret));
}

#[test]
fn production_refuses_the_in_memory_store() {
    let cfg = config(&[("ICOSISTEM_ENV", "production"), ("JWT_SECRET_KEY", STRONG)]).expect("parses");
    assert_eq!(cfg.check_serve(), Err(ConfigError::InMemoryStore));
}

#[test]
fn production_accepts_a_strong_secret_a_database_and_smtp() {
    // `SECRET_KEY` is the deployment guide's alias of `JWT_SECRET_KEY`.
    let cfg = config(&[
        ("ICOSISTEM_ENV", "PRODUCTION"),
        ("SECRET_KEY", STRONG),
        ("DATABASE_URL", DB),
        ("MAIL_SERVER", "smtp.example.org"),
        ("MAIL_USE_TLS", "true"),
        ("MAIL_USERNAME", "apikey"),
        ("MAIL_PASSWORD", "smtp-secret"),
        ("MAIL_DEFAULT_SENDER", "Icosistem <no-reply@example.org>"),
    ])
    .expect("parses");
    assert_eq!(cfg.environment, Environment::Production);
    assert_eq!(cfg.check_serve(), Ok(()));
    assert_eq!(cfg.check_mail(), Ok(()));
    let mail = cfg.mail.as_ref().expect("SMTP configured");
    assert_eq!((mail.server.as_str(), mail.port), ("smtp.example.org", 587));
    assert!(!format!("{cfg:?}").contains("smtp-secret"), "the password never shows");
}

#[test]
fn production_refuses_to_deliver_without_smtp_unless_told_to_log() {
    let base = [
        ("ICOSISTEM_ENV", "production"),
        ("JWT_SECRET_KEY", STRONG),
        ("DATABASE_URL", DB),
    ];
    let cfg = config(&base).expect("parses");
    assert_eq!(cfg.check_serve(), Err(ConfigError::NoMail));
    assert_eq!(cfg.check_mail(), Err(ConfigError::NoMail));
    assert!(cfg.check_serve().unwrap_err().to_string().contains("MAIL_SERVER"));
    // A serve replica that leaves delivery to the worker needs no SMTP of its own.
    let api_only = config(&[base.as_slice(), &[("ICOSISTEM_RUN_JOBS", "false")]].concat()).expect("parses");
    assert_eq!(api_only.check_serve(), Ok(()));
    assert_eq!(api_only.check_mail(), Err(ConfigError::NoMail), "but its worker does");
    let log_only = config(&[base.as_slice(), &[("ICOSISTEM_MAIL_LOG_ONLY", "true")]].concat()).expect("parses");
    assert_eq!(log_only.check_serve(), Ok(()));
    // Malformed mail settings are refused naming the variable, in any environment.
    let bad = config(&[("MAIL_SERVER", "smtp.example.org")]).expect_err("no sender");
    assert!(
        matches!(&bad, ConfigError::Mail(m) if m.contains("MAIL_DEFAULT_SENDER")),
        "{bad}"
    );
    let bad = config(&[
        ("MAIL_SERVER", "smtp.example.org"),
        ("MAIL_DEFAULT_SENDER", "a@example.org"),
        ("MAIL_POOL_SIZE", "0"),
    ])
    .expect_err("no pool");
    assert!(bad.to_string().contains("MAIL_POOL_SIZE"), "{bad}");
    // Development writes to the log without being told.
    assert_eq!(config(&[]).expect("parses").check_mail(), Ok(()));
}

#[test]
fn development_defaults_allow_everything_and_read_the_guide_names() {
    let cfg = config(&[]).expect("parses");
    assert_eq!(cfg.environment, Environment::Development);
    assert_eq!(cfg.addr.to_string(), "127.0.0.1:8080");
    assert!(cfg.database_url.is_none() && cfg.jwt_secret.is_none() && cfg.admin.is_none());
    assert!(cfg.auto_migrate && cfg.limits.require_verified_email);
    assert_eq!((cfg.log_level.as_str(), cfg.log_format), ("info", LogFormat::Text));
    assert_eq!(cfg.check_serve(), Ok(()));
    assert!(cfg.limits().require_verified_email);

    let cfg = config(&[
        ("ICOSISTEM_ADDR", "0.0.0.0:9000"),
        ("ICOSISTEM_AUTO_MIGRATE", "false"),
        ("ICOSISTEM_REQUIRE_VERIFIED_EMAIL", "0"),
        ("JWT_SECRET_KEY", "jwt"),
        ("SECRET_KEY", "flask"),
        ("LOG_LEVEL", "INFO"),
        ("LOG_FORMAT", "json"),
        ("ICOSISTEM_ADMIN_EMAIL", "ops@example.org"),
        ("ICOSISTEM_ADMIN_PASSWORD", "Another-Long-Passphrase-42"),
        // Empty counts as unset, as orchestrators render unset variables.
        ("DATABASE_URL", ""),
    ])
    .expect("parses");
    assert_eq!(cfg.addr.to_string(), "0.0.0.0:9000");
    assert!(!cfg.auto_migrate && !cfg.limits().require_verified_email);
    assert_eq!(cfg.jwt_secret.as_ref().map(SecretString::expose), Some("jwt"));
    assert_eq!((cfg.log_level.as_str(), cfg.log_format), ("info", LogFormat::Json));
    assert_eq!(cfg.admin.as_ref().map(|(e, _)| e.as_str()), Some("ops@example.org"));
    assert!(cfg.database_url.is_none());
    // Debug output never shows secrets.
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("jwt\"") && !debug.contains("Passphrase"), "{debug}");
}

#[test]
fn invalid_values_are_refused_with_the_variable_name() {
    assert!(matches!(
        config(&[("ICOSISTEM_ADDR", "localhost")]),
        Err(ConfigError::Invalid {
            var: "ICOSISTEM_ADDR",
            ..
        })
    ));
    assert!(matches!(
        config(&[("ICOSISTEM_AUTO_MIGRATE", "maybe")]),
        Err(ConfigError::Invalid {
            var: "ICOSISTEM_AUTO_MIGRATE",
            ..
        })
    ));
    assert_eq!(
        config(&[("ICOSISTEM_ADMIN_EMAIL", "ops@example.org")]).err(),
        Some(ConfigError::IncompleteAdmin)
    );
}

#[test]
fn rate_limits_cors_and_redis_come_from_the_environment() {
    let cfg = config(&[]).expect("parses");
    // The deployment guide's limits, on by default.
    assert_eq!(cfg.rate_limits, icosistem_http::RateLimits::default());
    assert!(cfg.rate_limits.enabled);
    assert_eq!((cfg.rate_limits.auth.per_second, cfg.rate_limits.auth.burst), (1, 5));
    assert_eq!((cfg.rate_limits.api.per_second, cfg.rate_limits.api.burst), (10, 20));
    assert!(cfg.cors_origins.is_empty() && !cfg.trust_forwarded_for && cfg.redis_url.is_none());

    let cfg = config(&[
        ("ICOSISTEM_RATE_LIMIT_AUTH_PER_SECOND", "2"),
        ("ICOSISTEM_RATE_LIMIT_AUTH_BURST", "8"),
        ("ICOSISTEM_RATE_LIMIT_API_PER_SECOND", "50"),
        ("ICOSISTEM_RATE_LIMIT_API_BURST", "100"),
        ("ICOSISTEM_RATE_LIMIT_ENABLED", "false"),
        (
            "ICOSISTEM_CORS_ORIGINS",
            " https://app.example.org, https://admin.example.org ,",
        ),
        ("ICOSISTEM_TRUST_FORWARDED_FOR", "true"),
        ("REDIS_URL", "redis://:hunter2@cache:6379/0"),
    ])
    .expect("parses");
    assert!(!cfg.rate_limits.enabled);
    assert_eq!((cfg.rate_limits.auth.per_second, cfg.rate_limits.auth.burst), (2, 8));
    assert_eq!((cfg.rate_limits.api.per_second, cfg.rate_limits.api.burst), (50, 100));
    assert_eq!(
        cfg.cors_origins,
        ["https://app.example.org", "https://admin.example.org"]
    );
    assert!(cfg.trust_forwarded_for);
    assert!(cfg.redis_url.is_some());
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    let http = icosistem_server::http_config(&cfg);
    assert_eq!(http.rate_limits, cfg.rate_limits);
    assert_eq!(http.cors_origins, cfg.cors_origins);
    assert!(http.trust_forwarded_for);

    for var in ["ICOSISTEM_RATE_LIMIT_AUTH_PER_SECOND", "ICOSISTEM_RATE_LIMIT_API_BURST"] {
        for bad in ["0", "-1", "fast"] {
            assert!(
                matches!(config(&[(var, bad)]), Err(ConfigError::Invalid { var: v, .. }) if v == var),
                "{var}={bad}"
            );
        }
    }
    assert!(matches!(
        config(&[("ICOSISTEM_TRUST_FORWARDED_FOR", "perhaps")]),
        Err(ConfigError::Invalid {
            var: "ICOSISTEM_TRUST_FORWARDED_FOR",
            ..
        })
    ));
}

#[tokio::test]
async fn a_malformed_redis_url_stops_the_start() {
    let cfg = config(&[("REDIS_URL", "not a url")]).expect("parses");
    let error = icosistem_server::redis_limiter(&cfg).expect_err("refused");
    assert!(error.to_string().contains("REDIS_URL"), "{error}");
    let none = icosistem_server::redis_limiter(&config(&[]).expect("parses")).expect("no redis");
    assert!(none.is_none());
}

#[test]
fn password_hash_concurrency_is_a_positive_setting() {
    assert_eq!(config(&[]).expect("parses").password_hash_concurrency, None);
    let two = config(&[("ICOSISTEM_PASSWORD_HASH_CONCURRENCY", "2")]).expect("parses");
    assert_eq!(two.password_hash_concurrency, Some(2));
    let error = config(&[("ICOSISTEM_PASSWORD_HASH_CONCURRENCY", "0")]).expect_err("zero would refuse every login");
    assert!(
        error.to_string().contains("ICOSISTEM_PASSWORD_HASH_CONCURRENCY"),
        "{error}"
    );
}

/// Limits set in the environment are the ones the server enforces: a longer password minimum
/// and a smaller program capacity are answered 422 on the field, with the configured bound.
#[tokio::test]
async fn limits_from_the_environment_are_in_effect() {
    let cfg = config(&[
        ("ICOSISTEM_LIMIT_PASSWORD_MIN_LEN", "20"),
        ("ICOSISTEM_LIMIT_MAX_PROGRAM_PARTICIPANTS", "10"),
    ])
    .expect("parses");
    let server = start_with(&cfg).await;
    let http = client();
    let url = |path: &str| format!("{}{path}", server.base);

    let (status, body) = call(
        &http,
        Method::POST,
        &url("/api/v2/auth/register"),
        None,
        Some(json!({
            "email": "limits@example.test",
            "password": "Fourteen-chars",
            "first_name": "Lima",
            "last_name": "Its",
            "role": "entrepreneur",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "password", "{body}");
    assert!(
        body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("20")),
        "{body}"
    );

    let admin = &demo::logins()[0];
    let (_, login) = call(
        &http,
        Method::POST,
        &url("/api/v2/auth/login"),
        None,
        Some(json!({ "email": admin.email, "password": admin.password })),
    )
    .await;
    let token = login["access_token"]
        .as_str()
        .expect("the demo admin logs in")
        .to_owned();
    let (_, organizations) = call(&http, Method::GET, &url("/api/v2/organizations"), Some(&token), None).await;
    let organization = organizations["items"][0]["id"].clone();
    let now = chrono::Utc::now();
    let (status, body) = call(
        &http,
        Method::POST,
        &url("/api/v2/programs"),
        Some(&token),
        Some(program_json(organization, "Capped by the environment", 50, now)),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let capacity = body["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["field"] == "max_participants"))
        .unwrap_or_else(|| panic!("max_participants refused: {body}"));
    assert!(capacity["message"].as_str().is_some_and(|m| m.contains("10")), "{body}");

    server.stop.send(()).expect("the server is running");
    server
        .task
        .await
        .expect("the server task did not panic")
        .expect("the server stopped cleanly");
}
