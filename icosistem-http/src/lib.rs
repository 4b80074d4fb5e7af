//! # icosistem-http
//!
//! The HTTP adapter of Icosistem: an axum [`Router`](axum::Router) exposing the core's use cases
//! as the JSON API of `spec/API.md`, built by [`router`] so an embedder can `nest` it in their
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
//! ## Layout
//!
//! - this module: [`AppState`], [`HttpConfig`] and [`router`] (routes and middleware stack);
//! - [`error`]: [`ApiError`](error::ApiError), the mapping of the core's errors to statuses and
//!   problem bodies;
//! - [`middleware`]: request id, response time, security headers, problem finishing, panics;
//! - [`auth`]: access JWTs (HS256) and the [`AuthUser`](auth::AuthUser) extractor;
//! - [`dto`]: the request and response bodies (domain types never go out as they are);
//! - `routes`: the handlers — health, auth, the caller's account, organizations, programs,
//!   projects and milestones, applications and reviews;
//! - [`openapi`]: the OpenAPI 3.1 document and the offline `/docs` page.

pub mod auth;
pub mod dto;
pub mod error;
pub mod middleware;
pub mod openapi;
mod routes;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use icosistem_core::Ecosystem;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Clock, Notifier, Store};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use auth::AuthUser;
pub use error::ApiError;

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
}

impl HttpConfig {
    /// The defaults with `jwt_secret`.
    pub fn new(jwt_secret: SecretString) -> Self {
        Self {
            jwt_secret,
            access_ttl: chrono::Duration::minutes(15),
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
        }
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
}

impl<S, N, C> Clone for AppState<S, N, C> {
    fn clone(&self) -> Self {
        Self {
            eco: Arc::clone(&self.eco),
            config: Arc::clone(&self.config),
            keys: Arc::clone(&self.keys),
            started: self.started,
        }
    }
}

impl<S, N, C> AppState<S, N, C> {
    /// The state over `eco` with `config`.
    pub fn new(eco: Arc<Ecosystem<S, N, C>>, config: HttpConfig) -> Self {
        let keys = auth::JwtKeys::new(config.jwt_secret.expose().as_bytes());
        Self {
            eco,
            config: Arc::new(config),
            keys: Arc::new(keys),
            started: Instant::now(),
        }
    }
}

/// The whole API as a router with its middleware, ready to serve or to `nest`.
pub fn router<S: Store, N: Notifier, C: Clock>(state: AppState<S, N, C>) -> Router {
    let config = Arc::clone(&state.config);
    let api = Router::new()
        .route("/health", get(routes::health::health))
        .route("/health/ready", get(routes::health::ready::<S, N, C>))
        .route("/health/detailed", get(routes::health::detailed::<S, N, C>))
        .route("/api/v2/health", get(routes::health::api_health::<S, N, C>))
        .route("/api/v2/auth/register", post(routes::auth::register::<S, N, C>))
        .route("/api/v2/auth/verify-email", post(routes::auth::verify_email::<S, N, C>))
        .route("/api/v2/auth/login", post(routes::auth::login::<S, N, C>))
        .route("/api/v2/auth/refresh", post(routes::auth::refresh::<S, N, C>))
        .route("/api/v2/auth/logout", post(routes::auth::logout::<S, N, C>))
        .route(
            "/api/v2/auth/password-reset",
            post(routes::auth::password_reset::<S, N, C>),
        )
        .route(
            "/api/v2/auth/password-reset/confirm",
            post(routes::auth::password_reset_confirm::<S, N, C>),
        )
        .route(
            "/api/v2/users/me",
            get(routes::users::me).patch(routes::users::update_me::<S, N, C>),
        )
        .route(
            "/api/v2/users/me/password",
            put(routes::users::change_password::<S, N, C>),
        )
        .route(
            "/api/v2/organizations",
            get(routes::organizations::list::<S, N, C>).post(routes::organizations::create::<S, N, C>),
        )
        .route(
            "/api/v2/organizations/{id}",
            get(routes::organizations::get::<S, N, C>).patch(routes::organizations::update::<S, N, C>),
        )
        .route(
            "/api/v2/organizations/{id}/members",
            get(routes::organizations::members::<S, N, C>).post(routes::organizations::add_member::<S, N, C>),
        )
        .route(
            "/api/v2/organizations/{id}/members/{user_id}",
            delete(routes::organizations::remove_member::<S, N, C>),
        )
        .route(
            "/api/v2/organizations/{id}/activate",
            post(routes::organizations::activate::<S, N, C>),
        )
        .route(
            "/api/v2/organizations/{id}/suspend",
            post(routes::organizations::suspend::<S, N, C>),
        )
        .route(
            "/api/v2/programs",
            get(routes::programs::list::<S, N, C>).post(routes::programs::create::<S, N, C>),
        )
        .route(
            "/api/v2/programs/{id}",
            get(routes::programs::get::<S, N, C>).patch(routes::programs::update::<S, N, C>),
        )
        .route(
            "/api/v2/programs/{id}/publish",
            post(routes::programs::publish::<S, N, C>),
        )
        .route("/api/v2/programs/{id}/start", post(routes::programs::start::<S, N, C>))
        .route(
            "/api/v2/programs/{id}/complete",
            post(routes::programs::complete::<S, N, C>),
        )
        .route(
            "/api/v2/programs/{id}/cancel",
            post(routes::programs::cancel::<S, N, C>),
        )
        .route(
            "/api/v2/programs/{id}/enrollments",
            get(routes::programs::enrollments::<S, N, C>),
        )
        .route(
            "/api/v2/projects",
            get(routes::projects::list::<S, N, C>).post(routes::projects::create::<S, N, C>),
        )
        .route(
            "/api/v2/projects/{id}",
            get(routes::projects::get::<S, N, C>)
                .patch(routes::projects::update::<S, N, C>)
                .delete(routes::projects::delete::<S, N, C>),
        )
        .route(
            "/api/v2/projects/{id}/advance-stage",
            post(routes::projects::advance_stage::<S, N, C>),
        )
        .route(
            "/api/v2/projects/{id}/activate",
            post(routes::projects::activate::<S, N, C>),
        )
        .route("/api/v2/projects/{id}/pause", post(routes::projects::pause::<S, N, C>))
        .route(
            "/api/v2/projects/{id}/resume",
            post(routes::projects::resume::<S, N, C>),
        )
        .route(
            "/api/v2/projects/{id}/complete",
            post(routes::projects::complete::<S, N, C>),
        )
        .route(
            "/api/v2/projects/{id}/cancel",
            post(routes::projects::cancel::<S, N, C>),
        )
        .route(
            "/api/v2/projects/{id}/milestones",
            get(routes::projects::project_milestones::<S, N, C>).post(routes::projects::create_milestone::<S, N, C>),
        )
        .route("/api/v2/milestones", get(routes::projects::my_milestones::<S, N, C>))
        .route(
            "/api/v2/milestones/{id}",
            get(routes::projects::get_milestone::<S, N, C>).patch(routes::projects::update_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/milestones/{id}/start",
            post(routes::projects::start_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/milestones/{id}/progress",
            post(routes::projects::progress_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/milestones/{id}/complete",
            post(routes::projects::complete_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/milestones/{id}/delay",
            post(routes::projects::delay_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/milestones/{id}/cancel",
            post(routes::projects::cancel_milestone::<S, N, C>),
        )
        .route(
            "/api/v2/applications",
            get(routes::applications::list::<S, N, C>).post(routes::applications::create::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}",
            get(routes::applications::get::<S, N, C>).patch(routes::applications::update::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/submit",
            post(routes::applications::submit::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/withdraw",
            post(routes::applications::withdraw::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/accept",
            post(routes::applications::accept::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/reject",
            post(routes::applications::reject::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/waitlist",
            post(routes::applications::waitlist::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/promote",
            post(routes::applications::promote::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/reviewers",
            post(routes::applications::assign_reviewer::<S, N, C>),
        )
        .route(
            "/api/v2/applications/{id}/reviews",
            get(routes::applications::reviews::<S, N, C>).post(routes::applications::submit_review::<S, N, C>),
        )
        .route(
            "/api/v2/tasks",
            get(routes::tasks::list::<S, N, C>).post(routes::tasks::create::<S, N, C>),
        )
        .route(
            "/api/v2/tasks/{id}",
            get(routes::tasks::get::<S, N, C>).patch(routes::tasks::update::<S, N, C>),
        )
        .route("/api/v2/tasks/{id}/start", post(routes::tasks::start::<S, N, C>))
        .route("/api/v2/tasks/{id}/block", post(routes::tasks::block::<S, N, C>))
        .route("/api/v2/tasks/{id}/unblock", post(routes::tasks::unblock::<S, N, C>))
        .route("/api/v2/tasks/{id}/complete", post(routes::tasks::complete::<S, N, C>))
        .route("/api/v2/tasks/{id}/cancel", post(routes::tasks::cancel::<S, N, C>))
        .route(
            "/api/v2/tasks/{id}/dependencies",
            get(routes::tasks::dependencies::<S, N, C>).post(routes::tasks::add_dependency::<S, N, C>),
        )
        .route(
            "/api/v2/tasks/{id}/dependencies/{depends_on}",
            delete(routes::tasks::remove_dependency::<S, N, C>),
        )
        .route("/api/v2/notifications", get(routes::inbox::list::<S, N, C>))
        .route(
            "/api/v2/notifications/read-all",
            post(routes::inbox::read_all::<S, N, C>),
        )
        .route("/api/v2/notifications/{id}/read", post(routes::inbox::read::<S, N, C>))
        .route(
            "/api/v2/notifications/{id}/archive",
            post(routes::inbox::archive::<S, N, C>),
        )
        .route("/api/v2/audit-events", get(routes::inbox::audit_events::<S, N, C>))
        .route("/api/v2/enrollments/{id}", get(routes::enrollments::get::<S, N, C>))
        .route(
            "/api/v2/enrollments/{id}/drop-out",
            post(routes::enrollments::drop_out::<S, N, C>),
        )
        .route(
            "/api/v2/users/me/profile",
            get(routes::profile::get::<S, N, C>).put(routes::profile::put::<S, N, C>),
        )
        .route(
            "/api/v2/admin/users",
            get(routes::admin::list::<S, N, C>).post(routes::admin::create::<S, N, C>),
        )
        .route(
            "/api/v2/admin/users/{id}",
            get(routes::admin::get::<S, N, C>).patch(routes::admin::update::<S, N, C>),
        )
        .route(
            "/api/v2/admin/users/{id}/unlock",
            post(routes::admin::unlock::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships",
            get(routes::mentoring::list::<S, N, C>).post(routes::mentoring::create::<S, N, C>),
        )
        .route("/api/v2/mentorships/{id}", get(routes::mentoring::get::<S, N, C>))
        .route(
            "/api/v2/mentorships/{id}/accept",
            post(routes::mentoring::accept::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/decline",
            post(routes::mentoring::decline::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/pause",
            post(routes::mentoring::pause::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/resume",
            post(routes::mentoring::resume::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/complete",
            post(routes::mentoring::complete::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/cancel",
            post(routes::mentoring::cancel::<S, N, C>),
        )
        .route(
            "/api/v2/mentorships/{id}/sessions",
            get(routes::sessions::mentorship_sessions::<S, N, C>).post(routes::sessions::book::<S, N, C>),
        )
        .route("/api/v2/allies", get(routes::mentoring::allies::<S, N, C>))
        .route(
            "/api/v2/allies/suggestions",
            get(routes::mentoring::suggestions::<S, N, C>),
        )
        .route(
            "/api/v2/allies/me/availability",
            get(routes::mentoring::my_availability::<S, N, C>).put(routes::mentoring::set_my_availability::<S, N, C>),
        )
        .route(
            "/api/v2/allies/{id}/free-slots",
            get(routes::mentoring::free_slots::<S, N, C>),
        )
        .route("/api/v2/sessions", get(routes::sessions::mine::<S, N, C>))
        .route("/api/v2/sessions/{id}", get(routes::sessions::get::<S, N, C>))
        .route(
            "/api/v2/sessions/{id}/confirm",
            post(routes::sessions::confirm::<S, N, C>),
        )
        .route("/api/v2/sessions/{id}/start", post(routes::sessions::start::<S, N, C>))
        .route(
            "/api/v2/sessions/{id}/complete",
            post(routes::sessions::complete::<S, N, C>),
        )
        .route(
            "/api/v2/sessions/{id}/cancel",
            post(routes::sessions::cancel::<S, N, C>),
        )
        .route(
            "/api/v2/sessions/{id}/reschedule",
            post(routes::sessions::reschedule::<S, N, C>),
        )
        .route(
            "/api/v2/sessions/{id}/feedback",
            post(routes::sessions::feedback::<S, N, C>),
        )
        .route(
            "/api/v2/meetings",
            get(routes::meetings::list::<S, N, C>).post(routes::meetings::create::<S, N, C>),
        )
        .route("/api/v2/meetings/{id}", get(routes::meetings::get::<S, N, C>))
        .route(
            "/api/v2/meetings/{id}/participants",
            get(routes::meetings::participants::<S, N, C>).post(routes::meetings::add_participant::<S, N, C>),
        )
        .route(
            "/api/v2/meetings/{id}/respond",
            post(routes::meetings::respond::<S, N, C>),
        )
        .route("/api/v2/meetings/{id}/start", post(routes::meetings::start::<S, N, C>))
        .route(
            "/api/v2/meetings/{id}/complete",
            post(routes::meetings::complete::<S, N, C>),
        )
        .route(
            "/api/v2/meetings/{id}/cancel",
            post(routes::meetings::cancel::<S, N, C>),
        )
        .route(
            "/api/v2/meetings/{id}/reschedule",
            post(routes::meetings::reschedule::<S, N, C>),
        )
        .with_state(state)
        .merge(openapi::docs_router());
    // Outermost first: `finish` sees every answer, including the timeout's and the panic's.
    api.layer(DefaultBodyLimit::max(config.body_limit))
        .layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(axum::middleware::from_fn(middleware::finish))
}
