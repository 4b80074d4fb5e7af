//! # icosistem-server
//!
//! The Icosistem HTTP server: [`icosistem_http::router`] served by [`icosistem_http::serve()`]
//! over either the in-memory store (with demo data, the default: `cargo run -p
//! icosistem-server`) or PostgreSQL (`DATABASE_URL` set), configured from the environment.
//!
//! The binary (`src/main.rs`) is a thin clap front end; everything it runs lives here so the
//! tests can start a real server on port 0 in-process and stop it like SIGTERM would.
//!
//! ## Environment
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ICOSISTEM_ADDR` | `127.0.0.1:8080` | listen address |
//! | `DATABASE_URL` | unset | PostgreSQL URL; unset → in-memory store with demo data |
//! | `ICOSISTEM_DB_MAX_CONNECTIONS` | 20 | PostgreSQL pool size |
//! | `ICOSISTEM_DB_MIN_CONNECTIONS` | 2 | PostgreSQL connections kept open while idle |
//! | `ICOSISTEM_DB_ACQUIRE_TIMEOUT_MS` | 2000 | longest wait for a pooled connection; then 503 `unavailable` with `Retry-After` |
//! | `ICOSISTEM_DB_CHECK_IDLE_AFTER_SECS` | 30 | a pooled connection idle this long is pinged before use (no ping per request otherwise) |
//! | `ICOSISTEM_CALLER_CACHE_TTL_MS` | 1000 | how long a caller's user row is reused (0 = read on every request). A suspension, role change or revoked session evicts it at once on the replica that made the change and, with `REDIS_URL`, on the others within one pub/sub message (channel `icosistem:live:callers`); without Redis or while it is down, it takes effect within this TTL |
//! | `DATABASE_READ_URL` | unset | PostgreSQL read replica: lists, counts and analytics of read-only requests read there; writes, locks and a caller's reads for `ICOSISTEM_READ_AFTER_WRITE_MS` after their own write stay on the primary (see docs/DEPLOYMENT.md for the staleness) |
//! | `ICOSISTEM_DB_READ_MAX_CONNECTIONS` | `ICOSISTEM_DB_MAX_CONNECTIONS` | the read replica's pool size |
//! | `ICOSISTEM_READ_AFTER_WRITE_MS` | 2000 | after a caller's write commits, their reads stay on the primary this long (per process) |
//! | `ICOSISTEM_MALLOC_TUNING` | on | `off` keeps mimalloc's default options (see [`malloc`]); an operator's own `MIMALLOC_PURGE_DELAY` / `MIMALLOC_ARENA_EAGER_COMMIT` are always respected |
//! | `ICOSISTEM_AUTO_MIGRATE` | true | apply migrations when `serve` starts |
//! | `JWT_SECRET_KEY` (alias `SECRET_KEY`) | generated | HS256 secret of access tokens |
//! | `ICOSISTEM_ENV` | development | `production` refuses a secret < 32 bytes and the in-memory store |
//! | `ICOSISTEM_ADMIN_EMAIL` + `ICOSISTEM_ADMIN_PASSWORD` | unset | admin `serve` creates on start if missing |
//! | `ICOSISTEM_LIMIT_<FIELD>` | `Limits::default()` | every field of [`icosistem_core::Limits`] (README's table, [`config::limits_table`]), validated at start; `ICOSISTEM_REQUIRE_VERIFIED_EMAIL` is read as `ICOSISTEM_LIMIT_REQUIRE_VERIFIED_EMAIL` |
//! | `ICOSISTEM_OUTBOX_INTERVAL_SECS` | 5 | how often pending emails are delivered |
//! | `MAIL_SERVER` | unset | SMTP relay host; unset → outbox emails are written to the log (refused in production unless `ICOSISTEM_MAIL_LOG_ONLY=true`) |
//! | `MAIL_PORT` | 587 / 465 / 25 | SMTP port (default by security: STARTTLS / implicit TLS / plain) |
//! | `MAIL_USE_TLS` / `MAIL_USE_SSL` | false / false | STARTTLS (required, not opportunistic) / TLS from the first byte; at most one; neither = plain (a local relay only) |
//! | `MAIL_USERNAME` + `MAIL_PASSWORD` | unset | SMTP authentication, both or neither (the password is a secret: never logged) |
//! | `MAIL_DEFAULT_SENDER` | required with `MAIL_SERVER` | `From:` of every email (`Icosistem <no-reply@example.org>`) |
//! | `MAIL_TIMEOUT_SECS` / `MAIL_POOL_SIZE` | 10 / 4 | SMTP connect and command timeout; pooled SMTP connections |
//! | `ICOSISTEM_PUBLIC_URL` | `http://localhost:8000` | the application's public URL: the verification, reset and unsubscribe links of emails |
//! | `ICOSISTEM_MAIL_LOG_ONLY` | false | lets production deliver emails to the log instead of SMTP |
//! | `ICOSISTEM_JOBS_INTERVAL_SECS` | 60 | how often `run_due_jobs` runs |
//! | `ICOSISTEM_RUN_JOBS` | true | `serve` runs outbox delivery and the jobs itself; `false` when a separate `worker` runs them |
//! | `ICOSISTEM_PASSWORD_HASH_CONCURRENCY` | half the CPUs (≥ 1) | argon2id hashes run at once (19 MiB each): bounds a login flood's memory |
//! | `LOG_LEVEL` | info | tracing `EnvFilter` directive (`debug`, `info,icosistem_http=debug` …) |
//! | `LOG_FORMAT` | text | `json` for one JSON object per line |
//! | `REDIS_URL` | unset | Redis shared by the replicas' rate limiters (`redis://[:password@]host:6379/0`, or `rediss://…:6380/0` for TLS, verified against the webpki roots); also checked by `/health/ready` and `/health/detailed` as `redis`, and the live stream's fan-out (pub/sub channel `icosistem:live`). Unset → limits counted per process, live wake-ups in process |
//! | `ICOSISTEM_REDIS_CA_FILE` | unset | PEM file of the private CA a `rediss://` Redis's certificate must chain to (instead of the webpki roots) |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) | unset | export OpenTelemetry traces over OTLP/HTTP protobuf to this collector (`http://jaeger:4318`; `/v1/traces` is appended to the first, not to the second); unset → nothing exported (see [`telemetry`]) |
//! | `OTEL_SERVICE_NAME` | `icosistem-server` | the traces' `service.name`; the other standard `OTEL_*` variables of the SDK apply too (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_BSP_*`, `OTEL_SDK_DISABLED` …) |
//! | `ICOSISTEM_WEBHOOK_TIMEOUT_SECS` | 10 | whole-request timeout of a webhook delivery |
//! | `ICOSISTEM_WEBHOOK_ALLOW_PRIVATE` | false | let webhooks reach private, loopback and link-local addresses (development and tests only) |
//! | `ICOSISTEM_RATE_LIMIT_ENABLED` | true | rate limiting on/off |
//! | `ICOSISTEM_RATE_LIMIT_AUTH_PER_SECOND` / `ICOSISTEM_RATE_LIMIT_AUTH_BURST` | 1 / 5 | `/api/v2/auth/*`, per client IP |
//! | `ICOSISTEM_RATE_LIMIT_API_PER_SECOND` / `ICOSISTEM_RATE_LIMIT_API_BURST` | 10 / 20 | the rest of `/api/v2/*`, per user (per IP when anonymous) |
//! | `ICOSISTEM_RATE_LIMIT_EXPORT_PER_SECOND` / `ICOSISTEM_RATE_LIMIT_EXPORT_BURST` | 1 / 3 | CSV exports (`/api/v2/…/*.csv`), per user, on top of the API's limit |
//! | `ICOSISTEM_CORS_ORIGINS` | unset | comma-separated allowed origins (`https://app.example.org,https://admin.example.org`); `*` allows any; unset → no CORS headers |
//! | `ICOSISTEM_HEADER_READ_TIMEOUT_SECS` | 10 | a request head must be complete this long after the connection opened (or its first byte after an answer); else the connection is closed |
//! | `ICOSISTEM_KEEP_ALIVE_TIMEOUT_SECS` | 75 | idle keep-alive connections are closed after this (above nginx's upstream 60 s) |
//! | `ICOSISTEM_BODY_READ_TIMEOUT_SECS` | 15 | a request body must arrive this long after its head; else 408 and the connection is closed (the 30 s handler timeout is separate) |
//! | `ICOSISTEM_SHUTDOWN_GRACE_SECS` | 20 | on SIGTERM: idle and half-open connections close at once, requests in flight get this long, then the process exits |
//! | `ICOSISTEM_MAX_CONNECTIONS` | 4096 | connections open at once; more are closed at accept (lowered to `ulimit -n` − 128 when that is smaller) |
//! | `ICOSISTEM_MAX_CONNECTIONS_PER_IP` | 256 (none with `ICOSISTEM_TRUST_FORWARDED_FOR`) | connections open at once from one address; `0` = no cap |
//! | `ICOSISTEM_MAX_HEADERS` / `ICOSISTEM_MAX_HEADER_BYTES` | 100 / 32768 | header fields and head bytes per request; more answers 431 |
//! | `ICOSISTEM_LIVE_HEARTBEAT_SECS` | 15 | heartbeat comments of the live notification stream (`GET /api/v2/notifications/stream`); under the proxy's read timeout |
//! | `ICOSISTEM_LIVE_MAX_STREAMS_PER_USER` | 5 | live streams one user may hold open per process; one more answers 429 |
//! | `ICOSISTEM_TRUST_FORWARDED_FOR` | false | take the client IP from the last `X-Forwarded-For` entry: only behind a proxy that sets it (the Kubernetes ingress), else clients could pick their own rate-limit bucket |
//!
//! When Redis fails, rate limiting fails **open**: requests go through, a warning is logged and
//! `rate_limiter_errors_total{backend="redis"}` counts them (alert on it), while readiness reports
//! `redis` down. An outage of the limiter's store should weaken throttling, not stop the API.
//!
//! Metrics (`GET /metrics`, Prometheus text) are those of `icosistem_http::metrics`, plus
//! `notifications_delivered_total` / `notifications_failed_total`, `outbox_failed_total{channel}`
//! (dead letters), the `outbox_pending{channel}` gauge and the
//! `outbox_delivery_duration_seconds{channel,outcome}` histogram from the outbox delivery here; the store is wrapped in `icosistem_http::metrics::MeteredStore` for
//! `store_operation_duration_seconds`.
//!
//! ## Layout
//!
//! - this module: [`run`] (the generic `serve` for any store), [`run_server`] /
//!   [`run_server_with`] (serve the API on a listener with connection limits until a shutdown
//!   future resolves), [`shutdown_signal`], the background work ([`background`]: outbox
//!   delivery and the time-driven jobs on [`icosistem_runner`]'s loops, under [`RoundLock`],
//!   counted by [`DeliveryMetrics`]) and the helpers shared by the subcommands;
//! - [`config`]: [`Config`] and its production rules;
//! - [`notifier`]: [`ServerNotifier`]: webhooks POSTed to their endpoints, email by
//!   [`EmailNotifier`] (SMTP from the `MAIL_*` variables, or [`LogNotifier`] of
//!   `icosistem-runner`, emails written to the log), timing each delivery;
//! - [`demo`]: the demo data, created through the use cases;
//! - [`dashboard`]: the coordinator dashboard at `/dashboard` (static files embedded in the
//!   binary, drawn from the JSON API);
//! - [`telemetry`]: OpenTelemetry traces over OTLP/HTTP, on when `OTEL_EXPORTER_OTLP_ENDPOINT`
//!   is set;
//! - [`malloc`]: the global allocator (mimalloc) and the options that make it return memory,
//!   applied by re-executing at start unless an operator set them or `ICOSISTEM_MALLOC_TUNING=off`.

pub mod config;
pub mod dashboard;
pub mod demo;
pub mod malloc;
pub mod notifier;
pub mod telemetry;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use icosistem_core::error::ErrorChain;
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::{Role, UserId};
use icosistem_core::ports::{Argon2idPasswordHasher, Clock, Notifier, Store, SystemClock};
use icosistem_core::runner::{OutboxPass, Runner};
use icosistem_core::{Context, Ecosystem, Error};
use icosistem_http::live::{LiveConfig, LiveHub, LiveStore};
use icosistem_http::metrics::{
    MeteredStore, NOTIFICATIONS_DELIVERED_TOTAL, NOTIFICATIONS_FAILED_TOTAL, OUTBOX_DEAD_LETTERS, OUTBOX_FAILED_TOTAL,
    OUTBOX_PENDING,
};
use icosistem_http::rate_limit::RedisRateLimiter;
use icosistem_http::{AppState, HttpConfig, ReadinessCheck, ServeLimits, TokenVerifier};
use icosistem_runner::{BackgroundRunner, BoxFuture, Gate, Observer, RunnerHandle, Shutdown};
use icosistem_store_postgres::PgStore;
use tokio::net::TcpListener;

pub use config::{Config, ConfigError, Environment, LogFormat};
pub use notifier::{EmailNotifier, LogNotifier, ServerNotifier};

/// The ecosystem the server runs: any store, email by SMTP or to the log and webhooks over HTTP
/// ([`ServerNotifier`]), the system clock.
pub type Eco<S> = Ecosystem<S, ServerNotifier, SystemClock>;

/// Outbox messages delivered per pass of the delivery task.
pub const OUTBOX_BATCH: u32 = 100;

/// Any error of the server's start-up, reported by `main` and turned into a non-zero exit.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The ecosystem over `store` delivering through `notifier`, with the configuration's limits
/// and production password hashing. Commands that deliver nothing (`seed-demo`,
/// `create-admin`) pass `LogNotifier.into()`; `serve` and `worker` pass
/// [`ServerNotifier::from_config`].
pub fn ecosystem<S: Store>(store: S, cfg: &Config, notifier: ServerNotifier) -> Eco<S> {
    let mut hasher = Argon2idPasswordHasher::owasp();
    if let Some(n) = cfg.password_hash_concurrency {
        hasher = hasher.with_max_concurrent(n as usize);
    }
    Ecosystem::new(store, notifier, SystemClock)
        .with_hasher(hasher)
        .with_limits(cfg.limits())
}

/// The blob store of the environment (`icosistem_blob::BlobConfig::from_env`): files under
/// `UPLOAD_PATH` (created if missing) by default, an S3-compatible bucket with
/// `ICOSISTEM_BLOB_BACKEND=s3` and the `ICOSISTEM_S3_*` settings. Document bytes live there;
/// their metadata in the store.
pub async fn blob_store() -> Result<icosistem_blob::AnyBlobStore, BoxError> {
    let config = icosistem_blob::BlobConfig::from_env()?;
    Ok(config.open().await?)
}

/// The HTTP settings. Without a configured JWT secret, a random one is generated and a warning
/// logged: that is fine for trying the server, but tokens then die with the process and several
/// replicas would reject each other's tokens. (`serve` in production never gets here without a
/// secret: [`Config::check_serve`] refuses first.)
pub fn http_config(cfg: &Config) -> HttpConfig {
    let secret = match &cfg.jwt_secret {
        Some(secret) => secret.clone(),
        None => {
            tracing::warn!(
                "JWT_SECRET_KEY is not set: using a random secret; tokens will not survive a restart \
                 (set JWT_SECRET_KEY to 32+ random bytes)"
            );
            SecretString::new(generate_secret())
        }
    };
    HttpConfig::new(secret)
        .with_rate_limits(cfg.rate_limits)
        .with_cors_origins(cfg.cors_origins.clone())
        .with_trust_forwarded_for(cfg.trust_forwarded_for)
        // Calendar feed URLs start with the public URL the emails' links use.
        .with_public_url(cfg.mail.as_ref().map(|mail| mail.app_url.clone()))
        .with_caller_cache_ttl(
            chrono::Duration::from_std(cfg.caller_cache_ttl).unwrap_or_else(|_| chrono::Duration::zero()),
        )
}

/// The Redis client of `REDIS_URL` (`redis://`, or `rediss://` for TLS), with the private CA of
/// `ICOSISTEM_REDIS_CA_FILE` when set; `None` without `REDIS_URL`. Errors name the variable
/// and the problem, never the URL (it may hold a password).
pub fn redis_client(cfg: &Config) -> Result<Option<redis::Client>, BoxError> {
    let Some(url) = &cfg.redis_url else {
        return Ok(None);
    };
    let ca = match &cfg.redis_ca_file {
        Some(path) => {
            Some(std::fs::read(path).map_err(|e| format!("ICOSISTEM_REDIS_CA_FILE {}: {e}", path.display()))?)
        }
        None => None,
    };
    let client = icosistem_http::redis_conn::client(url.expose(), ca.as_deref()).map_err(|e| {
        // The redis crate's messages name the problem, not the URL.
        let var = if ca.is_some() {
            "REDIS_URL or ICOSISTEM_REDIS_CA_FILE"
        } else {
            "REDIS_URL"
        };
        format!("{var} is invalid: {e}")
    })?;
    Ok(Some(client))
}

/// The Redis rate limiter of `REDIS_URL`, if set (connected lazily: a Redis down at start does
/// not stop the server). A malformed URL or CA file is an error. Must run inside the Tokio
/// runtime.
pub fn redis_limiter(cfg: &Config) -> Result<Option<RedisRateLimiter>, BoxError> {
    let Some(client) = redis_client(cfg)? else {
        return Ok(None);
    };
    let limiter = RedisRateLimiter::with_client(client, RedisRateLimiter::DEFAULT_PREFIX)
        .map_err(|e| format!("REDIS_URL: {e}"))?;
    Ok(Some(limiter))
}

/// The live stream's fan-out: through Redis pub/sub when `REDIS_URL` is set (a notification
/// committed by any replica or the worker wakes the streams of every replica), else in
/// process. Connected lazily, like the rate limiter. Must run inside the Tokio runtime.
pub fn live_hub(cfg: &Config) -> Result<LiveHub, BoxError> {
    let Some(client) = redis_client(cfg)? else {
        return Ok(LiveHub::in_process());
    };
    LiveHub::redis_client(client, LIVE_CHANNEL).map_err(|e| format!("REDIS_URL: {:?}", e.kind()).into())
}

/// The Redis pub/sub channel of the live stream's wake-ups.
pub const LIVE_CHANNEL: &str = "icosistem:live";

/// `http` with the live stream on `hub` and the configuration's heartbeat and per-user cap.
pub fn with_live(http: HttpConfig, hub: LiveHub, cfg: &Config) -> HttpConfig {
    http.with_live(
        LiveConfig::new(hub)
            .with_heartbeat(cfg.live_heartbeat)
            .with_max_streams_per_user(cfg.live_max_streams_per_user as usize),
    )
}

/// `http` counting rate limits in `limiter` (shared by every replica on that Redis) and with
/// `redis` among the readiness checks.
pub fn with_redis(http: HttpConfig, limiter: RedisRateLimiter) -> HttpConfig {
    let probe = limiter.clone();
    http.with_rate_limiter(Arc::new(limiter))
        .with_readiness_check(ReadinessCheck::new("redis", move || {
            let probe = probe.clone();
            async move { probe.ping().await.map(|_| ()) }
        }))
}

/// 32 random bytes from the OS, base64url-encoded (43 characters).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator failing means the machine cannot do cryptography at all: an unsigned
    // default would be worse than stopping.
    getrandom::fill(&mut bytes).expect("the OS random number generator is available");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Creates the admin `email` as the system actor unless a user with that email exists — how a
/// fresh deployment gets its first admin. Returns whether it was created. Relying on the
/// store's unique email (instead of looking first) keeps two replicas starting together from
/// both creating it.
pub async fn ensure_admin<S: Store, N: Notifier, C: Clock>(
    eco: &Ecosystem<S, N, C>,
    email: &str,
    password: &SecretString,
) -> Result<bool, Error> {
    let created = demo::create_user_with_password(
        eco,
        &Context::system(),
        email,
        password.clone(),
        ("Platform", "Admin"),
        Role::Admin,
    )
    .await;
    match created {
        Ok(_) => Ok(true),
        Err(Error::Conflict {
            entity: "user",
            field: "email",
        }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Serves the API of `state` (and the dashboard) on `listener` with the default [`ServeLimits`] until `shutdown`
/// resolves; see [`run_server_with`].
pub async fn run_server<S: Store, N: Notifier, C: Clock>(
    listener: TcpListener,
    state: AppState<S, N, C>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    run_server_with(listener, state, ServeLimits::default(), shutdown).await
}

/// Serves the API of `state` and the coordinator dashboard ([`dashboard`], at `/dashboard`) on
/// `listener` with `limits` ([`icosistem_http::serve()`]: header,
/// keep-alive and body timeouts, connection caps) until `shutdown` resolves, then stops
/// accepting, closes idle and half-open connections at once and waits for the requests in
/// flight to finish, at most `limits.shutdown_grace`. Handlers see the client's address
/// (`ConnectInfo<SocketAddr>`), used for audit and rate limiting.
pub async fn run_server_with<S: Store, N: Notifier, C: Clock>(
    listener: TcpListener,
    state: AppState<S, N, C>,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    icosistem_http::serve(listener, app(state, false), limits, shutdown).await
}

/// The API of `state` and the dashboard. With `read_sessions` (a PostgreSQL read replica is
/// configured), each request bearing a valid access token runs as its caller's
/// [`icosistem_store_postgres::read_session`], so the caller reads their own writes on the
/// primary; without a replica that would only cost a token check per request.
pub fn app<S: Store, N: Notifier, C: Clock>(state: AppState<S, N, C>, read_sessions: bool) -> axum::Router {
    let verifier = state.verifier();
    let app = icosistem_http::router(state).merge(dashboard::router());
    if read_sessions {
        app.layer(axum::middleware::from_fn_with_state(verifier, read_session))
    } else {
        app
    }
}

/// Runs `request` as the read session of its bearer token's user, if it has a valid one.
async fn read_session(
    axum::extract::State(verifier): axum::extract::State<TokenVerifier>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let caller = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .and_then(|token| verifier.verify(token.trim()).ok())
        .and_then(|claims| claims.sub.parse::<UserId>().ok());
    match caller {
        Some(user) => icosistem_store_postgres::read_session(user.into(), next.run(request)).await,
        None => next.run(request).await,
    }
}

/// The PostgreSQL store of `url` (`DATABASE_URL`) with the configured pool and, when
/// `DATABASE_READ_URL` is set, its read replica (connected lazily: a replica down at start only
/// sends reads to the primary).
pub async fn connect_postgres(cfg: &Config, url: &SecretString) -> Result<PgStore, BoxError> {
    let store = PgStore::connect_with(url.expose(), &cfg.pool_settings()).await?;
    tracing::info!(max_connections = cfg.db_max_connections, "connected to PostgreSQL");
    let Some(read_url) = &cfg.database_read_url else {
        return Ok(store);
    };
    // Not the error's text: it may quote the URL, and the URL may hold a password.
    let store = store
        .connect_read_replica(read_url.expose(), &cfg.read_pool_settings(), cfg.read_after_write)
        .map_err(|_| "DATABASE_READ_URL is not a valid PostgreSQL URL")?;
    tracing::info!(
        max_connections = cfg.db_read_max_connections,
        read_after_write_ms = cfg.read_after_write.as_millis() as u64,
        "lists and analytics of read-only requests read on the replica of DATABASE_READ_URL"
    );
    Ok(store)
}

/// Resolves on ctrl-c or, on Unix, SIGTERM (what container orchestrators send to stop a pod).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("ctrl-c received: shutting down"),
        () = terminate => tracing::info!("SIGTERM received: shutting down"),
    }
}

/// The background work of `eco` as `serve` and `worker` run it ([`icosistem_runner`]):
///
/// - outbox delivery every `outbox_interval` (default 5 s): emails are committed to the outbox
///   with the change that caused them and delivered here, retried with backoff by the core;
/// - `run_due_jobs` every `jobs_interval` (default 1 min): session reminders, the no-show
///   sweep, overdue notices, cleanups. Each job is idempotent, so several replicas running
///   them, or a run after a restart, send nothing twice.
///
/// With `lock` (PostgreSQL), each round runs under a cluster-wide advisory lock
/// ([`OUTBOX_LOCK`], [`JOBS_LOCK`], see [`RoundLock`]): several `serve` replicas running their
/// jobs in process (or next to a worker) never deliver one message twice. Every outbox pass
/// is counted into the delivery metrics ([`DeliveryMetrics`]).
pub fn background<S: Store, N: Notifier, C: Clock>(
    eco: Arc<Ecosystem<S, N, C>>,
    lock: Option<PgStore>,
    outbox_interval: Duration,
    jobs_interval: Duration,
) -> BackgroundRunner<S, N, C> {
    BackgroundRunner::new(eco)
        .with_pass(Runner::new().with_outbox_batch(OUTBOX_BATCH))
        .outbox_every(outbox_interval)
        .jobs_every(jobs_interval)
        .with_gate(RoundLock(lock))
        .with_observer(DeliveryMetrics)
}

/// Starts the background work of [`background`] with the configuration's intervals; it stops
/// when `shutdown` is triggered, never in the middle of a pass, so no unit of work is cut short.
pub fn spawn_background<S: Store, N: Notifier, C: Clock>(
    eco: Arc<Ecosystem<S, N, C>>,
    cfg: &Config,
    lock: Option<PgStore>,
    shutdown: &Shutdown,
) -> RunnerHandle {
    background(eco, lock, cfg.outbox_interval, cfg.jobs_interval).spawn(shutdown)
}

/// One pass of outbox delivery, every channel at once (each with the core's bounded
/// concurrency), counted and logged when it did something. Ungated: for tests and one-off
/// commands; the loops go through [`background`].
pub async fn deliver<S: Store, N: Notifier, C: Clock>(eco: &Ecosystem<S, N, C>) {
    let pass = Runner::new().with_outbox_batch(OUTBOX_BATCH).deliver_outbox(eco).await;
    icosistem_runner::log_outbox(&pass);
    DeliveryMetrics.outbox(&pass);
}

/// Counts every outbox pass into `notifications_delivered_total`,
/// `notifications_failed_total` and `outbox_failed_total{channel}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryMetrics;

impl Observer for DeliveryMetrics {
    fn outbox(&self, pass: &OutboxPass) {
        for (channel, outcome) in &pass.channels {
            if let Ok(r) = outcome
                && r.sent + r.retried + r.failed > 0
            {
                // Failed attempts, whether retried later or given up on: each is a delivery that
                // did not happen when it should have.
                metrics::counter!(NOTIFICATIONS_DELIVERED_TOTAL).increment(r.sent.into());
                metrics::counter!(NOTIFICATIONS_FAILED_TOTAL).increment((r.retried + r.failed).into());
                metrics::counter!(OUTBOX_FAILED_TOTAL, "channel" => channel.as_str()).increment(r.failed.into());
            }
        }
    }
}

/// Sets the outbox gauges from the store: `outbox_pending{channel}` (waiting, due or not) and
/// `outbox_dead_letters{channel}` (failed, waiting for an admin's re-queue). Every `serve`
/// replica runs this, whether or not it delivers: the worker serves no `/metrics`, and the
/// backlog is the same whoever counts it.
pub async fn outbox_gauges<S: Store, N: Notifier, C: Clock>(eco: &Ecosystem<S, N, C>) {
    match eco.outbox_backlog().await {
        Ok(backlog) => {
            for row in backlog {
                let channel = row.channel.as_str();
                metrics::gauge!(OUTBOX_PENDING, "channel" => channel).set(row.pending as f64);
                metrics::gauge!(OUTBOX_DEAD_LETTERS, "channel" => channel).set(row.failed as f64);
            }
        }
        Err(e) => tracing::warn!(error = %ErrorChain(&e), "cannot count the outbox backlog"),
    }
}

/// `serve`, for any store: optionally seeds the demo data and prints its logins, ensures the
/// configured admin, binds `ICOSISTEM_ADDR`, serves until ctrl-c/SIGTERM, then stops the
/// background tasks and makes a last outbox pass. Closing the store (the PostgreSQL pool) is
/// the caller's, which owns its concrete type.
pub async fn run<S: Store>(store: S, cfg: &Config, seed_demo: bool, lock: Option<PgStore>) -> Result<(), BoxError> {
    // Notifications committed through this store wake the live streams (see icosistem_http::live).
    let hub = live_hub(cfg)?;
    let notifier = if cfg.run_jobs {
        ServerNotifier::from_config(cfg)?
    } else {
        // This replica delivers nothing: the worker's notifier does.
        LogNotifier.into()
    };
    let eco = ecosystem(LiveStore::new(MeteredStore::new(store), hub.clone()), cfg, notifier)
        .with_blob_store(blob_store().await?);
    let logins = if seed_demo { Some(demo::seed(&eco).await?) } else { None };
    if let Some((email, password)) = &cfg.admin
        && ensure_admin(&eco, email, password).await?
    {
        tracing::info!(%email, "created the admin of ICOSISTEM_ADMIN_EMAIL");
    }
    let mut http = with_live(http_config(cfg), hub, cfg);
    if let Some(limiter) = redis_limiter(cfg)? {
        tracing::info!("rate limits shared through Redis (REDIS_URL)");
        http = with_redis(http, limiter);
    }
    let state = AppState::new(Arc::new(eco), http)?;
    // The recorder first (the router would install it anyway), so the delivery counters exist at
    // zero from the first scrape on: an absent series reads as "no data", not "none sent".
    icosistem_http::metrics::install_recorder();
    metrics::counter!(NOTIFICATIONS_DELIVERED_TOTAL).increment(0);
    metrics::counter!(NOTIFICATIONS_FAILED_TOTAL).increment(0);
    let listener = TcpListener::bind(cfg.addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening; API docs at http://{addr}/docs");
    if let Some(seeded) = &logins {
        print_logins(addr, seeded.logins());
    }

    let shutdown = Shutdown::new();
    let runner = cfg.run_jobs.then(|| {
        background(
            Arc::clone(&state.eco),
            lock.clone(),
            cfg.outbox_interval,
            cfg.jobs_interval,
        )
    });
    let running = match &runner {
        Some(runner) => Some(runner.clone().spawn(&shutdown)),
        None => {
            tracing::info!("ICOSISTEM_RUN_JOBS=false: outbox delivery and jobs are left to the worker");
            None
        }
    };
    let gauges = {
        let eco = Arc::clone(&state.eco);
        icosistem_runner::every(cfg.outbox_interval, &shutdown, move || {
            let eco = Arc::clone(&eco);
            async move { outbox_gauges(&eco).await }
        })
    };
    let app = app(state, cfg.database_read_url.is_some());
    let served = icosistem_http::serve(listener, app, cfg.serve, shutdown_signal()).await;
    tracing::info!("no longer accepting connections; in-flight requests finished");
    shutdown.trigger();
    if let Some(running) = running {
        running.join().await;
    }
    if let Err(e) = gauges.await {
        tracing::error!(error = %e, "a background task panicked");
    }
    // Emails committed by the last requests go out now rather than at the next start.
    if let Some(runner) = runner {
        runner.outbox_round().await;
    }
    served?;
    Ok(())
}

/// Lock names of the worker's rounds (see [`PgStore::try_job_lock`]): the runner's round names.
pub const JOBS_LOCK: &str = icosistem_runner::JOBS_ROUND;
/// Lock name of the outbox delivery round.
pub const OUTBOX_LOCK: &str = icosistem_runner::OUTBOX_ROUND;

/// What a [`run_worker`] did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Rounds of `run_due_jobs` this worker ran (it held the lock).
    pub job_rounds: u64,
    /// Rounds skipped because another replica held the jobs lock.
    pub job_rounds_skipped: u64,
    /// Outbox delivery rounds this worker ran.
    pub outbox_rounds: u64,
}

/// `worker`: outbox delivery every `outbox_interval` and `run_due_jobs` every `jobs_interval`
/// (the first rounds right away), until `shutdown` resolves; the round in progress then
/// finishes, none is cut short.
///
/// With `lock` (the PostgreSQL store), each round first takes a cluster-wide advisory lock
/// ([`JOBS_LOCK`], [`OUTBOX_LOCK`]) without waiting and is skipped when another replica holds it,
/// so several workers never run the same round at once. The jobs are idempotent anyway (their
/// `JobMark`s): the lock saves duplicated work, it is not what prevents double sends. Without a
/// lock (the in-memory store) the rounds just run in this process — a worker is only useful
/// next to `serve` replicas sharing PostgreSQL.
pub async fn run_worker<S: Store, N: Notifier, C: Clock>(
    eco: Arc<Ecosystem<S, N, C>>,
    lock: Option<PgStore>,
    outbox_interval: Duration,
    jobs_interval: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> WorkerReport {
    tracing::info!(locked = lock.is_some(), "worker starting");
    let stats = background(eco, lock, outbox_interval, jobs_interval)
        .run_until(shutdown)
        .await;
    WorkerReport {
        job_rounds: stats.job_rounds,
        job_rounds_skipped: stats.job_rounds_skipped,
        outbox_rounds: stats.outbox_rounds,
    }
}

/// The [`Gate`] of the server's rounds: with a PostgreSQL store, each round first takes the
/// cluster-wide advisory lock of its name ([`PgStore::try_job_lock`]) without waiting and is
/// skipped when another replica holds it; without one (the in-memory store, a single process)
/// every round runs.
#[derive(Debug, Clone)]
pub struct RoundLock(pub Option<PgStore>);

impl Gate for RoundLock {
    fn run<'a>(&'a self, name: &'static str, round: BoxFuture<'a, ()>) -> BoxFuture<'a, bool> {
        Box::pin(locked(self.0.as_ref(), name, round))
    }
}

/// Runs `round` under the advisory lock `name` when there is a store to lock in; false when
/// the lock was held elsewhere (or could not be asked for) and the round skipped.
async fn locked(lock: Option<&PgStore>, name: &str, round: impl Future<Output = ()>) -> bool {
    let Some(store) = lock else {
        round.await;
        return true;
    };
    match store.try_job_lock(name).await {
        Ok(Some(guard)) => {
            round.await;
            if let Err(e) = guard.release().await {
                // The transaction (and with it the lock) ends with its connection anyway.
                tracing::warn!(lock = name, error = %e, "cannot release the round lock");
            }
            true
        }
        Ok(None) => {
            tracing::debug!(lock = name, "another replica is running this round: skipped");
            false
        }
        Err(e) => {
            tracing::warn!(lock = name, error = %e, "cannot take the round lock: round skipped");
            false
        }
    }
}

/// `healthcheck`: GET `url` with a 3 s timeout; true on a 200. For container health checks
/// (the image has no curl).
pub async fn healthcheck(url: &str) -> Result<(), BoxError> {
    use http_body_util::Empty;
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let uri: hyper::Uri = url.parse().map_err(|e| format!("invalid URL {url}: {e}"))?;
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let response = tokio::time::timeout(Duration::from_secs(3), client.get(uri))
        .await
        .map_err(|_| format!("{url}: no answer within 3 s"))?
        .map_err(|e| format!("{url}: {e}"))?;
    if response.status() == hyper::StatusCode::OK {
        Ok(())
    } else {
        Err(format!("{url} answered {}", response.status()).into())
    }
}

/// Prints the demo logins to stdout (not the log: a newcomer must see them even with
/// `LOG_FORMAT=json`).
pub fn print_logins(addr: SocketAddr, logins: &[demo::DemoLogin]) {
    println!();
    println!("  Icosistem demo on http://{addr}  (API docs: http://{addr}/docs)");
    println!(
        "  Coordinator dashboard: http://{addr}{}  (sign in as {})",
        dashboard::PATH,
        demo::COORDINATOR_EMAIL
    );
    println!("  Demo logins (password for all: {}):", demo::DEMO_PASSWORD);
    for l in logins {
        println!("    {:<13} {}", l.role, l.email);
    }
    println!(
        "  Try: curl -s http://{addr}/api/v2/auth/login -H 'content-type: application/json' \\\n         -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'",
        demo::ADMIN_EMAIL,
        demo::DEMO_PASSWORD
    );
    println!();
}
