//! # icosistem-http
//!
//! The HTTP adapter of Icosistem: an axum [`Router`] exposing the core's use cases
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
//! # fn main() -> Result<(), icosistem_http::ConfigError> {
//! let eco = Ecosystem::new(MemoryStore::new(), RecordingNotifier::new(), SystemClock);
//! let config = HttpConfig::new(SecretString::new("a secret of at least 32 bytes!!!"))
//!     // The OpenAPI document's `servers` entry; the docs page works under any prefix.
//!     .with_base_path("/ecosystem");
//! let state = AppState::new(Arc::new(eco), config)?;
//! let app = axum::Router::new().nest("/ecosystem", router(state));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! ## Embedding
//!
//! - **Secrets**: [`AppState::new`] refuses a JWT secret shorter than [`MIN_JWT_SECRET_BYTES`]
//!   (and the other mistakes of [`HttpConfig::validate`]) with a [`ConfigError`].
//! - **The host's own routes** authenticate with the ecosystem's tokens through the
//!   [`AuthUser`] / [`MaybeAuthUser`] extractors over the host's state (give it a
//!   [`TokenVerifier`] by `FromRef`), or the [`auth::require_auth`] layer.
//! - **Nesting**: unknown paths under the prefix answer the router's own 404 problem, with the
//!   request id and security headers; [`HttpConfig::base_path`] goes into the OpenAPI document's
//!   `servers`, and the docs page loads the document relative to itself, so both work under the
//!   prefix.
//! - **What is mounted**: `/docs`, `/api-docs/openapi.json`, `/metrics` and `/health/detailed`
//!   are on by default and each can be turned off ([`HttpConfig::with_docs`],
//!   [`HttpConfig::with_openapi`], [`HttpConfig::with_metrics`],
//!   [`HttpConfig::with_health_detailed`]); the document only lists what is mounted.
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
//!   is process-global, so by default ([`MetricsExport::Global`]) it is installed once per
//!   process (on the first [`router`] call, by [`metrics::install_recorder`]);
//!   [`HttpConfig::with_prometheus`] hands the host's Prometheus handle in instead, and
//!   [`MetricsExport::Off`] installs nothing and serves no `/metrics`. An embedder that already
//!   installed a recorder of their own does not get a panic: our metrics go to their recorder
//!   and this router serves no `/metrics` (or theirs, if they pass a Prometheus handle).
//! - **CORS** ([`HttpConfig::cors_origins`]): none unless origins are configured; `*` only when
//!   given literally.
//! - **Readiness** ([`HttpConfig::with_readiness_check`]): extra probes (Redis …) next to the
//!   store's in `/health/ready` and `/health/detailed`.
//!
//! ## Layout
//!
//! - this module: [`AppState`], [`HttpConfig`] and [`router`] (routes and middleware stack);
//! - [`error`]: [`ApiError`], the mapping of the core's errors to statuses and
//!   problem bodies;
//! - [`middleware`]: request id, response time, security headers, problem finishing, panics;
//! - [`auth`]: access JWTs (HS256), the [`TokenVerifier`] and the [`AuthUser`] /
//!   [`MaybeAuthUser`] extractors;
//! - [`rate_limit`]: the [`RateLimiter`] port, its in-process and Redis
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
use tower_http::sensitive_headers::{SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer};
use tower_http::timeout::TimeoutLayer;

pub use auth::{AuthUser, MaybeAuthUser, TokenVerifier};
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
    /// Where metrics go and whether `/metrics` is served (default [`MetricsExport::Global`]).
    pub metrics: MetricsExport,
    /// The path the router is nested under by the host (`/ecosystem`), `""` when served at the
    /// root (the default). The OpenAPI document names it as its server
    /// (`servers: [{url: base_path}]`) so its operations resolve under the prefix; the routes
    /// themselves never need it (`Router::nest` strips the prefix).
    pub base_path: String,
    /// Serve the OpenAPI document at [`openapi::OPENAPI_PATH`] (default on).
    pub openapi: bool,
    /// Serve the interactive documentation at `/docs` (default on; needs [`HttpConfig::openapi`]).
    pub docs: bool,
    /// Serve `/health/detailed` (version, uptime, each dependency's latency; default on). It is
    /// public, like the other probes: a host exposing the router to the internet may turn it
    /// off. `/health`, `/health/ready` and `/api/v2/health` are always served.
    pub health_detailed: bool,
    /// How long an authenticated caller's user row may be reused without reading it again
    /// (default zero: read on every request). Changes committed through a
    /// [`live::LiveStore`] on the [`HttpConfig::live`] hub evict the row sooner (at once here,
    /// on the other replicas when Redis delivers the hub's message); the TTL is the bound
    /// within which a suspension, role change or revoked session takes effect otherwise (see
    /// [`auth`]).
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
            metrics: MetricsExport::Global,
            base_path: String::new(),
            openapi: true,
            docs: true,
            health_detailed: true,
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

    /// Renders `/metrics` from `handle` (a recorder the embedder installed): the same as
    /// `with_metrics(MetricsExport::Handle(handle))`.
    pub fn with_prometheus(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = MetricsExport::Handle(handle);
        self
    }

    /// Chooses where metrics go and whether `/metrics` is served (see [`MetricsExport`]).
    pub fn with_metrics(mut self, metrics: MetricsExport) -> Self {
        self.metrics = metrics;
        self
    }

    /// Sets the path the host nests the router under (`/ecosystem`; see
    /// [`HttpConfig::base_path`]). Checked by [`HttpConfig::validate`].
    pub fn with_base_path(mut self, base_path: impl Into<String>) -> Self {
        self.base_path = base_path.into();
        self
    }

    /// Serves (or not) the OpenAPI document; without it there are no `/docs` either.
    pub fn with_openapi(mut self, on: bool) -> Self {
        self.openapi = on;
        self
    }

    /// Serves (or not) the interactive documentation at `/docs`.
    pub fn with_docs(mut self, on: bool) -> Self {
        self.docs = on;
        self
    }

    /// Serves (or not) `/health/detailed`.
    pub fn with_health_detailed(mut self, on: bool) -> Self {
        self.health_detailed = on;
        self
    }

    /// Checks the settings [`AppState::new`] relies on: a JWT secret of at least
    /// [`MIN_JWT_SECRET_BYTES`], a base path that is empty or `/segment[/segment…]`, and the
    /// documentation page only with the document it loads.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let secret = self.jwt_secret.expose().len();
        if secret < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError::WeakJwtSecret {
                bytes: secret,
                min: MIN_JWT_SECRET_BYTES,
            });
        }
        let base = self.base_path.as_str();
        let valid_base = base.is_empty()
            || (base.starts_with('/')
                && !base.ends_with('/')
                && base.split('/').skip(1).all(|segment| {
                    !segment.is_empty()
                        && segment
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
                }));
        if !valid_base {
            return Err(ConfigError::BasePath(self.base_path.clone()));
        }
        if self.docs && !self.openapi {
            return Err(ConfigError::DocsWithoutOpenApi);
        }
        Ok(())
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

/// The shortest JWT secret [`HttpConfig::validate`] accepts, in bytes: 32, the output size of
/// HS256's hash (RFC 7518 §3.2 requires a key at least that long). A shorter secret can be
/// brute-forced offline from any one token, and then anyone can sign tokens as anyone.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// A setting of [`HttpConfig`] that [`AppState::new`] refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `jwt_secret` is shorter than [`MIN_JWT_SECRET_BYTES`].
    #[error("jwt_secret: must be at least {min} bytes, got {bytes} (use 32+ random bytes)")]
    WeakJwtSecret {
        /// The secret's length.
        bytes: usize,
        /// The minimum.
        min: usize,
    },
    /// `base_path` is neither empty nor `/segment[/segment…]` of URL-safe characters.
    #[error("base_path: {0:?} must be empty or like \"/ecosystem\" (leading slash, no trailing slash)")]
    BasePath(String),
    /// `docs` is on while `openapi` is off: the page would load a document that is not served.
    #[error("docs: the documentation page needs the OpenAPI document (openapi is off)")]
    DocsWithoutOpenApi,
}

/// Where the router's metrics go and whether it serves `/metrics` ([`HttpConfig::metrics`]).
///
/// The router records through the [`metrics`](::metrics) facade, whose recorder is
/// process-global: whichever recorder the process installed receives the counters, in every
/// variant. The variants decide whether this crate installs one and what `/metrics` renders.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum MetricsExport {
    /// Install this crate's Prometheus recorder as the process-global one (once per process, by
    /// [`metrics::install_recorder`]) and serve `/metrics` from it. The default. When the
    /// process already has another recorder, nothing is installed and `/metrics` is not served.
    #[default]
    Global,
    /// Serve `/metrics` from this handle, of a recorder the host installed (e.g. built with
    /// [`metrics::prometheus_builder`]); install nothing.
    Handle(PrometheusHandle),
    /// Install nothing and serve no `/metrics`: the host owns the recorder and its exposition
    /// (or records nothing at all).
    Off,
}

/// What every handler shares: the ecosystem, the configuration and the signing keys. Its
/// fields ([`AppStateParts`]) are read through `Deref` (`state.eco`, `state.config`).
///
/// One `Arc` inside: axum clones the state for every handler and every stateful middleware of
/// every request, and one shared counter costs less than a counter per field (measured: the
/// per-field clone and drop were ~3 % of a memory-store GET's CPU).
pub struct AppState<S, N, C>(Arc<AppStateParts<S, N, C>>);

/// The parts of an [`AppState`].
pub struct AppStateParts<S, N, C> {
    /// The use cases.
    pub eco: Arc<Ecosystem<S, N, C>>,
    /// The settings.
    pub config: Arc<HttpConfig>,
    pub(crate) keys: Arc<auth::JwtKeys>,
    pub(crate) verifier: auth::TokenVerifier,
    pub(crate) started: Instant,
    pub(crate) rate_limiter: Arc<dyn RateLimiter>,
}

impl<S, N, C> Clone for AppState<S, N, C> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S, N, C> std::ops::Deref for AppState<S, N, C> {
    type Target = AppStateParts<S, N, C>;
    fn deref(&self) -> &AppStateParts<S, N, C> {
        &self.0
    }
}

impl<S, N, C> AppState<S, N, C> {
    /// The state over `eco` with `config`.
    ///
    /// # Errors
    ///
    /// What [`HttpConfig::validate`] refuses: a JWT secret shorter than
    /// [`MIN_JWT_SECRET_BYTES`], a malformed base path, docs without the document.
    pub fn new(eco: Arc<Ecosystem<S, N, C>>, config: HttpConfig) -> Result<Self, ConfigError>
    where
        S: Store,
        N: Notifier,
        C: Clock,
    {
        config.validate()?;
        let keys = Arc::new(auth::JwtKeys::new(config.jwt_secret.expose().as_bytes()));
        let rate_limiter = config
            .rate_limiter
            .clone()
            .unwrap_or_else(|| Arc::new(rate_limit::InMemoryRateLimiter::new()));
        let callers = Arc::new(auth::CallerCache::new(config.caller_cache_ttl));
        // Users changed through a `LiveStore` on this hub (on any replica, with Redis) leave the
        // cache at once instead of at the end of their TTL.
        config.live.hub.watch_callers(&callers);
        // The verifier owns the cache; the hub keeps only a weak reference to evict from it.
        let verifier = auth::TokenVerifier::new(&eco, Arc::clone(&keys), callers);
        Ok(Self(Arc::new(AppStateParts {
            eco,
            config: Arc::new(config),
            keys,
            verifier,
            started: Instant::now(),
            rate_limiter,
        })))
    }

    /// The verifier of this state's access tokens, for an embedder's own routes (see
    /// [`auth::TokenVerifier`]).
    pub fn verifier(&self) -> auth::TokenVerifier {
        self.verifier.clone()
    }
}

/// The whole API as a router with its middleware, ready to serve or to `nest`.
pub fn router<S: Store, N: Notifier, C: Clock>(state: AppState<S, N, C>) -> Router {
    let config = Arc::clone(&state.config);
    // The served document states the ecosystem's own bounds (openapi::follow_limits).
    let limits = state.eco.limits().clone();
    // Uploads stream up to the core's limit plus the multipart framing; everything else keeps
    // the JSON body limit.
    let upload_limit = state
        .eco
        .limits()
        .max_upload_bytes
        .saturating_add(routes::documents::UPLOAD_OVERHEAD);
    let rate_limits = rate_limit::RateLimitState {
        limiter: Arc::clone(&state.rate_limiter),
        limits: config.rate_limits,
        verify: {
            let verifier = state.verifier();
            Arc::new(move |token: &str| verifier.verify(token).ok())
        },
    };
    let health = if config.health_detailed {
        routes::health::router()
    } else {
        routes::health::probes()
    };
    let api = Router::new()
        .merge(health)
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
        .merge(routes::documents::router())
        .merge(routes::conversations::router())
        .merge(routes::analytics::router())
        .route(
            "/api/v2/notifications/stream",
            axum::routing::get(live::stream::<S, N, C>),
        )
        .with_state(state);
    let prometheus = match &config.metrics {
        MetricsExport::Global => metrics::install_recorder(),
        MetricsExport::Handle(handle) => Some(handle.clone()),
        MetricsExport::Off => None,
    };
    let api = api.merge(openapi::docs_router(&config, prometheus.is_some(), &limits));
    let api = match &prometheus {
        Some(handle) => api.merge(metrics::router(handle.clone())),
        None => api,
    };
    // Unknown paths answer a 404 problem. A fallback of our own rather than axum's default, so
    // that when a host nests this router (`Router::nest`) unknown paths under the prefix still
    // reach it — and, added before the layers below, it gets the request id, the security
    // headers and the problem body like every route.
    let api = api.fallback(middleware::not_found);
    // Route layers run after routing: the rate limiter's 429 and every answer carry the route
    // template; unknown paths are neither limited nor labelled with their raw path. With rate
    // limits off the limiter is not layered at all (it would only pass every request on).
    let api = if rate_limits.limits.enabled {
        api.route_layer(axum::middleware::from_fn_with_state(rate_limits, rate_limit::limit))
    } else {
        api
    };
    let api = api.route_layer(axum::middleware::from_fn(middleware::tag_route));
    // Each `.layer` wraps the ones before: read bottom-up for the order a request meets them.
    let api = api
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(axum::middleware::from_fn_with_state(
            middleware::BodyLimits {
                json: config.body_limit,
                upload: usize::try_from(upload_limit).unwrap_or(usize::MAX),
            },
            middleware::limit_body,
        ))
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
