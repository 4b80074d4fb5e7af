//! # icosistem-http
//!
//! The HTTP adapter of Icosistem: an axum [`Router`](axum::Router) exposing the core's use cases
//! as the JSON API of the HTTP contract, built by [`router`] so an embedder can `nest` it in their
//! own axum service (or serve it as is). It is generic over the store, notifier and clock ports,
//! like [`Ecosystem`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use icosistem_core::Ecosystem;
//! use icosistem_core::model::secret::SecretString;
//! use icosistem_core::ports::{RecordingNotifier, SystemClock};
//! use icosistem_http::{AppState, HttpConfig, router};
//! use icosistem_store_memory::MemoryStore;
//!
//! let eco = Ecosystem::new(MemoryStore::new(), RecordingNotifier::new(), SystemClock);
//! let state = AppState::new(Arc::new(eco), HttpConfig::new(SecretString::new("a secret of at least 32 bytes!!!")));
//! let app = axum::Router::new().nest("/ecosystem", router(state));
//! # let _ = app;
//! ```
//!
//! What it guarantees on every response: an `X-Request-ID` (the client's when valid, else a new
//! UUID) and `X-Response-Time`, the security headers, `Cache-Control: no-store` on the auth and
//! account paths, and — for every error, also a panic, an unknown route or an oversized body —
//! an RFC 9457 `application/problem+json` body carrying the request id.
//!
//! ## Operations
//!
//! - **Rate limits** ([`HttpConfig::rate_limits`], on by default with the deployment guide's
//!   values): `/api/v2/auth/*` per client IP, the rest of `/api/v2/*` per user. The backend is
//!   per `AppState` in process unless [`HttpConfig::with_rate_limiter`] gives a shared one (Redis).
//!   The client IP is the connection's peer — serve with
//!   `into_make_service_with_connect_info::<SocketAddr>()` — or, with
//!   [`HttpConfig::trust_forwarded_for`], the last `X-Forwarded-For` entry.
//! - **Metrics**: the [`metrics`] facade records; `/metrics` renders Prometheus text. The recorder
//!   is process-global, so it is installed once per process (on the first [`router`] call, by
//!   [`metrics::install_recorder`]) unless [`HttpConfig::with_prometheus`] hands a handle in.
//!   An embedder that already installed a recorder of their own does not get a panic: our metrics
//!   go to their recorder and this router serves no `/metrics` (or theirs, if they pass a
//!   Prometheus handle).
//! - **CORS** ([`HttpConfig::cors_origins`]): none unless origins are configured; `*` only when
//!   given literally.
//! - **Readiness** ([`HttpConfig::with_readiness_check`]): extra probes (Redis …) next to the
//!   store's in `/health/ready` and `/health/detailed`.
//!
//! ## Layout
//!
//! - this module: [`AppState`], [`HttpConfig`] and [`router`] (routes and middleware stack);
//! - [`error`]: [`ApiError`](error::ApiError), the mapping of the core's errors to statuses and
//!   problem bodies;
//! - [`middleware`]: request id, response time, security headers, problem finishing, panics;
//! - [`auth`]: access JWTs (HS256) and the [`AuthUser`](auth::AuthUser) extractor;
//! - [`rate_limit`]: the [`RateLimiter`](rate_limit::RateLimiter) port, its in-process and Redis
//!   (feature `redis`) backends and the middleware (429 `rate_limited` with `Retry-After`);
//! - `redis_conn` (feature `redis`): the Redis client of `redis://` and `rediss://` (TLS) URLs;
//! - [`metrics`]: the Prometheus recorder, `/metrics`, the request and domain counters and the
//!   [`MeteredStore`](metrics::MeteredStore) decorator timing store operations;
//! - [`serve`](mod@serve): [`serve`](serve()) the router on a listener with connection limits and
//!   timeouts, and a shutdown that does not wait for idle or half-open clients;
//! - [`dto`]: the request and response bodies (domain types never go out as they are);
//! - `routes`: the handlers, one module per group of paths — health, auth, the caller's account
//!   and role profile, admin users, organizations, programs, enrollments, projects and
//!   milestones, applications and reviews, mentorships and allies, sessions, meetings, tasks,
//!   notifications and audit events, webhooks, calendar feeds (`/api/v2/calendar/{token}.ics`,
//!   rendered by `icosistem_delivery::calendar`). Each module owns its `router()` and its
//!   `OpenApi` fragment
//!   (merged by [`openapi::document`]); `routes::kit` is the declarative form they are written
//!   in: the `PathId<I>`/`IfMatch` extractors, the shared problem responses and `commands!`;
//! - [`live`]: the live notification stream (Server-Sent Events), its fan-out hub (in process
//!   or Redis) and the [`LiveStore`](live::LiveStore) decorator that feeds it;
//! - [`openapi`]: the OpenAPI 3.1 document and the offline `/docs` page;
//! - [`telemetry`]: W3C trace context in and out (the request span joins the caller's trace;
//!   the `traceparent` of outgoing calls such as webhooks).

pub mod auth;
mod csv_export;
pub mod dto;
pub mod error;
pub mod live;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod rate_limit;
#[cfg(feature = "redis")]
pub mod redis_conn;
mod routes;
pub mod serve;
pub mod telemetry;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use icosistem_core::Ecosystem;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Clock, Notifier, Store};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::sensitive_headers::{SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer};
use tower_http::timeout::TimeoutLayer;

pub use auth::AuthUser;
pub use error::ApiError;
pub use rate_limit::{Quota, RateLimiter, RateLimits};
pub use routes::health::ReadinessCheck;
pub use serve::{ServeLimits, ShutdownSignal, serve};

/// Settings of the HTTP adapter. The refresh-token lifetime (30 days) is a domain rule and lives
/// in the core's [`Limits`](icosistem_core::Limits) (`refresh_token_ttl`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpConfig {
    /// The HS256 secret of access tokens.
    pub jwt_secret: SecretString,
    /// Access token lifetime (default 15 min).
    pub access_ttl: chrono::Duration,
    /// Largest request body (default 1 MiB); larger answers 413.
    pub body_limit: usize,
    /// Longest a request may take (default 30 s); slower answers 408.
    pub request_timeout: Duration,
    /// Rate limits (default: on, the deployment guide's values).
    pub rate_limits: RateLimits,
    /// A shared rate limiter backend (Redis); `None` = in process, one per [`AppState`].
    pub rate_limiter: Option<Arc<dyn RateLimiter>>,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy that sets it; default off).
    pub trust_forwarded_for: bool,
    /// Origins allowed by CORS (`https://app.example.org`, or `*` for any); empty = no CORS
    /// headers at all (the default).
    pub cors_origins: Vec<String>,
    /// Extra readiness probes, next to the store's.
    pub readiness_checks: Vec<ReadinessCheck>,
    /// The Prometheus handle `/metrics` renders; `None` = this crate's process-global recorder.
    pub prometheus: Option<PrometheusHandle>,
    /// How long an authenticated caller's user row may be reused without reading it again
    /// (default zero: read on every request). It is the bound within which a suspension, role
    /// change or revoked session takes effect (see [`auth`]).
    pub caller_cache_ttl: chrono::Duration,
    /// The live notification stream ([`live`]): its fan-out hub, heartbeat and per-user cap.
    pub live: live::LiveConfig,
    /// The public URL of the application (`https://app.example.org`), the origin of the calendar
    /// feed URLs it hands out; `None`: the request's `Host`.
    pub public_url: Option<String>,
}

impl HttpConfig {
    /// The defaults with `jwt_secret`.
    pub fn new(jwt_secret: SecretString) -> Self {
        Self {
            jwt_secret,
            access_ttl: chrono::Duration::minutes(15),
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            rate_limits: RateLimits::default(),
            rate_limiter: None,
            trust_forwarded_for: false,
            cors_origins: Vec::new(),
            readiness_checks: Vec::new(),
            prometheus: None,
            caller_cache_ttl: chrono::Duration::zero(),
            live: live::LiveConfig::default(),
            public_url: None,
        }
    }

    /// Sets the public URL calendar feed URLs start with (see [`HttpConfig::public_url`]).
    pub fn with_public_url(mut self, url: Option<String>) -> Self {
        self.public_url = url;
        self
    }

    /// Reuses a caller's user row for `ttl` (zero turns the cache off).
    pub fn with_caller_cache_ttl(mut self, ttl: chrono::Duration) -> Self {
        self.caller_cache_ttl = ttl;
        self
    }

    /// Replaces the rate limits.
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Counts requests in `limiter` (e.g. Redis, shared by replicas) instead of in process.
    pub fn with_rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// Trusts (or not) `X-Forwarded-For` for the client IP.
    pub fn with_trust_forwarded_for(mut self, trust: bool) -> Self {
        self.trust_forwarded_for = trust;
        self
    }

    /// Replaces the CORS origins.
    pub fn with_cors_origins<I: IntoIterator<Item = T>, T: Into<String>>(mut self, origins: I) -> Self {
        self.cors_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a readiness probe.
    pub fn with_readiness_check(mut self, check: ReadinessCheck) -> Self {
        self.readiness_checks.push(check);
        self
    }

    /// Renders `/metrics` from `handle` (a recorder the embedder installed).
    pub fn with_prometheus(mut self, handle: PrometheusHandle) -> Self {
        self.prometheus = Some(handle);
        self
    }

    /// Replaces the live stream settings (give its hub to the [`live::LiveStore`] too).
    pub fn with_live(mut self, live: live::LiveConfig) -> Self {
        self.live = live;
        self
    }

    /// Replaces the access token lifetime.
    pub fn with_access_ttl(mut self, ttl: chrono::Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// Replaces the body limit.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Replaces the request timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

/// What every handler shares: the ecosystem, the configuration and the signing keys.
pub struct AppState<S, N, C> {
    /// The use cases.
    pub eco: Arc<Ecosystem<S, N, C>>,
    /// The settings.
    pub config: Arc<HttpConfig>,
    pub(crate) keys: Arc<auth::JwtKeys>,
    pub(crate) started: Instant,
    pub(crate) rate_limiter: Arc<dyn RateLimiter>,
    pub(crate) callers: Arc<auth::CallerCache>,
}

impl<S, N, C> Clone for AppState<S, N, C> {
    fn clone(&self) -> Self {
        Self {
            eco: Arc::clone(&self.eco),
            config: Arc::clone(&self.config),
            keys: Arc::clone(&self.keys),
            started: self.started,
            rate_limiter: Arc::clone(&self.rate_limiter),
            callers: Arc::clone(&self.callers),
        }
    }
}

impl<S, N, C> AppState<S, N, C> {
    /// The state over `eco` with `config`.
    pub fn new(eco: Arc<Ecosystem<S, N, C>>, config: HttpConfig) -> Self {
        let keys = auth::JwtKeys::new(config.jwt_secret.expose().as_bytes());
        let rate_limiter = config
            .rate_limiter
            .clone()
            .unwrap_or_else(|| Arc::new(rate_limit::InMemoryRateLimiter::new()));
        let callers = Arc::new(auth::CallerCache::new(config.caller_cache_ttl));
        Self {
            eco,
            config: Arc::new(config),
            keys: Arc::new(keys),
            started: Instant::now(),
            rate_limiter,
            callers,
        }
    }
}

/// The whole API as a router with its middleware, ready to serve or to `nest`.
pub fn router<S: Store, N: Notifier, C: Clock>(state: AppState<S, N, C>) -> Router {
    let config = Arc::clone(&state.config);
    let rate_limits = rate_limit::RateLimitState {
        limiter: Arc::clone(&state.rate_limiter),
        limits: config.rate_limits,
        verify: {
            let state = state.clone();
            Arc::new(move |token: &str| state.keys.verify(token, state.eco.clock().now()).ok())
        },
    };
    let api = Router::new()
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::profile::router())
        .merge(routes::admin::router())
        .merge(routes::outbox::router())
        .merge(routes::organizations::router())
        .merge(routes::programs::router())
        .merge(routes::enrollments::router())
        .merge(routes::projects::router())
        .merge(routes::applications::router())
        .merge(routes::tasks::router())
        .merge(routes::inbox::router())
        .merge(routes::mentoring::router())
        .merge(routes::sessions::router())
        .merge(routes::meetings::router())
        .merge(routes::matching::router())
        .merge(routes::webhooks::router())
        .merge(routes::calendar::router())
        .merge(routes::analytics::router())
        .route(
            "/api/v2/notifications/stream",
            axum::routing::get(live::stream::<S, N, C>),
        )
        .with_state(state)
        .merge(openapi::docs_router());
    let prometheus = config.prometheus.clone().or_else(metrics::install_recorder);
    let api = match &prometheus {
        Some(handle) => api.merge(metrics::router(handle.clone())),
        None => api,
    };
    // Route layers run after routing: the rate limiter's 429 and every answer carry the route
    // template; unknown paths are neither limited nor labelled with their raw path.
    let api = api
        .route_layer(axum::middleware::from_fn_with_state(rate_limits, rate_limit::limit))
        .route_layer(axum::middleware::from_fn(middleware::tag_route));
    // Each `.layer` wraps the ones before: read bottom-up for the order a request meets them.
    let api = api
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ));
    // CORS outside the limiter: preflights are answered without spending budget, and 429s carry
    // the CORS headers a browser needs to read them.
    let api = match cors_layer(&config.cors_origins) {
        Some(cors) => api.layer(cors),
        None => api,
    };
    // Metrics inside `finish` (which only rewrites bodies, never statuses); `finish` outermost
    // sees every answer, including the timeout's and the panic's; the sensitive-header marks
    // come first so nothing below can log a credential.
    api.layer(axum::middleware::from_fn_with_state(prometheus, metrics::track))
        .layer(axum::middleware::from_fn_with_state(
            middleware::TrustForwardedFor(config.trust_forwarded_for),
            middleware::finish,
        ))
        .layer(SetSensitiveResponseHeadersLayer::new([header::SET_COOKIE]))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::PROXY_AUTHORIZATION,
            header::COOKIE,
        ]))
}

/// The CORS layer of `origins`, or none when empty. Origins that are not valid header values
/// are skipped with a warning; `*` (given literally) allows any origin.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o.trim() == "*") {
        AllowOrigin::any()
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| {
                let o = o.trim().trim_end_matches('/');
                HeaderValue::from_str(o)
                    .map_err(|_| tracing::warn!(origin = %o, "ignoring an invalid CORS origin"))
                    .ok()
            })
            .collect();
        if list.is_empty() {
            return None;
        }
        AllowOrigin::list(list)
    };
    let x_request_id = middleware::X_REQUEST_ID;
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::IF_MATCH,
                x_request_id.clone(),
            ])
            .expose_headers([
                x_request_id,
                header::ETAG,
                header::RETRY_AFTER,
                HeaderName::from_static("x-response-time"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}
