//! Liveness, readiness and the detailed health report (no auth, no secrets, no hostnames).

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use icosistem_core::ports::{Clock, Notifier, Store};
use serde_json::json;

use crate::AppState;
use crate::dto::{HealthDetailed, HealthStatus};

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process runs", body = HealthStatus)))]
pub(crate) async fn health() -> Json<HealthStatus> {
    Json(HealthStatus {
        status: "ok",
        checks: None,
    })
}

/// Whether the store answers, and how fast.
async fn store_check<S: Store>(store: &S) -> (bool, serde_json::Value) {
    let started = Instant::now();
    // Starting a unit of work takes a connection (PostgreSQL) or the state lock (memory):
    // exactly what every request needs. Dropping it rolls back.
    let ok = store.begin().await.is_ok();
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    let status = if ok { "up" } else { "down" };
    (ok, json!({ "status": status, "latency_ms": latency_ms }))
}

/// Readiness: 200 when the store answers, 503 otherwise.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = HealthStatus),
        (status = 503, description = "A dependency is down", body = HealthStatus)))]
pub(crate) async fn ready<S: Store, N: Notifier, C: Clock>(State(state): State<AppState<S, N, C>>) -> Response {
    let (ok, store) = store_check(state.eco.store()).await;
    if ok {
        Json(HealthStatus {
            status: "ready",
            checks: None,
        })
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthStatus {
                status: "unavailable",
                checks: Some(json!({ "store": store })),
            }),
        )
            .into_response()
    }
}

/// Readiness under the API's base path (the same answer as `/health/ready`).
#[utoipa::path(get, path = "/api/v2/health", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = HealthStatus),
        (status = 503, description = "A dependency is down", body = HealthStatus)))]
pub(crate) async fn api_health<S: Store, N: Notifier, C: Clock>(state: State<AppState<S, N, C>>) -> Response {
    ready(state).await
}

/// Version, uptime and each dependency's status and latency.
#[utoipa::path(get, path = "/health/detailed", tag = "operations",
    responses(
        (status = 200, description = "Every dependency answers", body = HealthDetailed),
        (status = 503, description = "A dependency is down", body = HealthDetailed)))]
pub(crate) async fn detailed<S: Store, N: Notifier, C: Clock>(State(state): State<AppState<S, N, C>>) -> Response {
    let (ok, store) = store_check(state.eco.store()).await;
    let body = HealthDetailed {
        status: if ok { "ok" } else { "unavailable" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
        checks: json!({ "store": store }),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
