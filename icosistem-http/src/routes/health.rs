//! Liveness, readiness and the detailed health report (no auth, no secrets, no hostnames).
//!
//! Readiness checks the store and every [`ReadinessCheck`] of the configuration (the example
//! server adds `redis` when `REDIS_URL` is set). A failing check's error goes to the log, never
//! into the answer: it may name hosts.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use icosistem_core::ports::{Clock, Notifier, Store};
use serde_json::json;
use utoipa::IntoResponses;
use utoipa::openapi::{Content, Ref, RefOr, Response as Documented, ResponseBuilder};

use super::kit::{api, handler};
use crate::AppState;
use crate::dto::{HealthDetailed, HealthStatus};

/// What a [`ReadinessCheck`]'s probe returns: `Err` with a reason for the log.
pub(crate) type ProbeFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// An extra dependency of readiness: a name (the key under `checks`) and an async probe. Probes
/// run concurrently with the store's and are cut off after [`ReadinessCheck::TIMEOUT`].
#[derive(Clone)]
pub struct ReadinessCheck {
    name: String,
    probe: Arc<dyn Fn() -> ProbeFuture + Send + Sync>,
}

impl fmt::Debug for ReadinessCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadinessCheck").field("name", &self.name).finish()
    }
}

impl ReadinessCheck {
    /// The longest a probe may take before it counts as down.
    pub const TIMEOUT: Duration = Duration::from_secs(2);

    /// A check named `name` (e.g. `redis`) that is up when `probe` resolves to `Ok`.
    pub fn new<F, Fut, E>(name: impl Into<String>, probe: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        Self {
            name: name.into(),
            probe: Arc::new(move || {
                let fut = probe();
                Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
            }),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs the probe: whether it is up, and its `{"status", "latency_ms"}` entry.
    async fn run(&self) -> (bool, serde_json::Value) {
        let started = Instant::now();
        let outcome = match tokio::time::timeout(Self::TIMEOUT, (self.probe)()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("no answer within {:?}", Self::TIMEOUT)),
        };
        if let Err(reason) = &outcome {
            tracing::warn!(check = %self.name, reason = %reason, "readiness check failed");
        }
        entry(outcome.is_ok(), started)
    }
}

fn entry(ok: bool, started: Instant) -> (bool, serde_json::Value) {
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    let status = if ok { "up" } else { "down" };
    (ok, json!({ "status": status, "latency_ms": latency_ms }))
}

/// Every check: whether all are up, and `{"store": …, "<name>": …}`.
async fn checks<S: Store, N: Notifier, C: Clock>(state: &AppState<S, N, C>) -> (bool, serde_json::Value) {
    let extra = async {
        let mut results = Vec::with_capacity(state.config.readiness_checks.len());
        for check in &state.config.readiness_checks {
            results.push((check.name.clone(), check.run().await));
        }
        results
    };
    let ((mut ok, store), extra) = tokio::join!(store_check(state.eco.store()), extra);
    let mut map = serde_json::Map::new();
    map.insert("store".to_owned(), store);
    for (name, (up, value)) in extra {
        ok &= up;
        map.insert(name, value);
    }
    (ok, serde_json::Value::Object(map))
}

/// Whether the store answers, and how fast.
async fn store_check<S: Store>(store: &S) -> (bool, serde_json::Value) {
    let started = Instant::now();
    // Starting a unit of work takes a connection (PostgreSQL) or the state lock (memory):
    // exactly what every request needs. Dropping it rolls back.
    let ok = store.begin().await.is_ok();
    entry(ok, started)
}

/// A probe's two answers, both its own JSON (not problems): 200 when every dependency
/// answers, 503 naming under `checks` the ones that do not. `schema` is the body's component.
fn probe(schema: &str, up: &str) -> BTreeMap<String, RefOr<Documented>> {
    let body = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", Content::new(Some(Ref::from_schema_name(schema))))
            .build()
            .into()
    };
    [
        ("200".to_owned(), body(up)),
        ("503".to_owned(), body("A dependency is down; `checks` says which")),
    ]
    .into_iter()
    .collect()
}

/// The answers of readiness ([`HealthStatus`]).
struct Readiness;

impl IntoResponses for Readiness {
    fn responses() -> BTreeMap<String, RefOr<Documented>> {
        probe("HealthStatus", "Ready")
    }
}

/// The answers of the detailed report ([`HealthDetailed`]).
struct Detailed;

impl IntoResponses for Detailed {
    fn responses() -> BTreeMap<String, RefOr<Documented>> {
        probe("HealthDetailed", "Every dependency answers")
    }
}

/// Readiness: whether the store and every configured check answer (200), or which do not (503).
async fn readiness<S: Store, N: Notifier, C: Clock>(state: &AppState<S, N, C>) -> Response {
    let (ok, checks) = checks(state).await;
    let (status, body) = if ok {
        (
            StatusCode::OK,
            HealthStatus {
                status: "ready",
                checks: None,
            },
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            HealthStatus {
                status: "unavailable",
                checks: Some(checks),
            },
        )
    };
    (status, Json(body)).into_response()
}

/// Version, uptime and each dependency's status and latency: 200 when all answer, else 503.
async fn detailed<S: Store, N: Notifier, C: Clock>(state: &AppState<S, N, C>) -> Response {
    let (ok, checks) = checks(state).await;
    let body = HealthDetailed {
        status: if ok { "ok" } else { "unavailable" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
        checks,
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

// The probes are not JSON API operations (no token, no problem bodies of their own): each is
// declared with its explicit operation id and its answers, through the kit's one handler shape.
handler! {
    /// Liveness: the process answers.
    #[utoipa::path(get, path = "/health", operation_id = "health", tag = "operations",
        responses((status = 200, description = "The process runs", body = HealthStatus)))]
    health: get "/health" (_state) -> Json<HealthStatus> {
        Ok(Json(HealthStatus { status: "ok", checks: None }))
    }
}

handler! {
    /// Readiness: 200 when the store and every configured check answer, 503 otherwise.
    #[utoipa::path(get, path = "/health/ready", operation_id = "health_ready", tag = "operations", responses(Readiness))]
    health_ready: get "/health/ready" (state) -> Response { Ok(readiness(&state).await) }
}

handler! {
    /// Readiness under the API's base path (the same answer as `/health/ready`).
    #[utoipa::path(get, path = "/api/v2/health", operation_id = "api_health", tag = "operations", responses(Readiness))]
    api_health: get "/api/v2/health" (state) -> Response { Ok(readiness(&state).await) }
}

handler! {
    /// Version, uptime and each dependency's status and latency.
    #[utoipa::path(get, path = "/health/detailed", operation_id = "health_detailed", tag = "operations", responses(Detailed))]
    health_detailed: get "/health/detailed" (state) -> Response { Ok(detailed(&state).await) }
}

api!([api_health, health, health_detailed, health_ready]);

/// The probes without `/health/detailed` (`HttpConfig::health_detailed` off): liveness and
/// readiness stay, an orchestrator needs them.
pub(crate) fn probes<S: Store, N: Notifier, C: Clock>() -> axum::Router<AppState<S, N, C>> {
    let router = axum::Router::new();
    let router = api_health::mount(router);
    let router = health::mount(router);
    health_ready::mount(router)
}
