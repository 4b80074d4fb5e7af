//! # icosistem-example-embed
//!
//! How an embedder serves the Icosistem API from their own axum 0.8 application: the host app
//! keeps its own routes (`/` and `/status` here) and nests [`icosistem_http::router`] under a
//! prefix ([`PREFIX`], `/ecosystem`), so the API answers at `/ecosystem/api/v2/...` and its
//! probes at `/ecosystem/health`. Everything runs on the in-memory store.
//!
//! Run it with `cargo run -p icosistem-example-embed` (listens on `EMBED_ADDR`, default
//! `127.0.0.1:3000`), then:
//!
//! ```text
//! curl -s http://127.0.0.1:3000/status            # the host's own route
//! curl -s http://127.0.0.1:3000/ecosystem/health  # Icosistem, nested
//! ```
//!
//! The pieces an embedder chooses are the three ports of [`Ecosystem`]: the store (here
//! [`MemoryStore`]; `icosistem_store_postgres::PgStore` in production), the notifier that
//! delivers outbox emails (here [`StdoutNotifier`]; your SMTP or email-API client), and the clock
//! ([`SystemClock`]). The outbox is only delivered when someone calls
//! [`Ecosystem::deliver_outbox`]: `main.rs` runs it every few seconds, as `icosistem-server` does.
//!
//! One thing does not follow the prefix yet: the Swagger UI. Its `/docs` redirect and the URL of
//! `openapi.json` it loads are absolute, so under `/ecosystem` the page's spec request misses.
//! The JSON API itself is prefix-agnostic.

use std::sync::Arc;

use axum::Router;
use axum::response::Json;
use axum::routing::get;
use icosistem_core::Ecosystem;
use icosistem_core::model::OutboxMessage;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{DeliveryError, Notifier, SystemClock};
use icosistem_http::live::{LiveConfig, LiveHub, LiveStore};
use icosistem_http::{AppState, HttpConfig};
use icosistem_store_memory::MemoryStore;

/// Where the Icosistem API lives inside the host app.
pub const PREFIX: &str = "/ecosystem";

/// The ecosystem this example embeds: in-memory store, emails to stdout, the system clock.
pub type Eco = Ecosystem<LiveStore<MemoryStore>, StdoutNotifier, SystemClock>;

/// The state `icosistem_http::router` needs for [`Eco`].
pub type State = AppState<LiveStore<MemoryStore>, StdoutNotifier, SystemClock>;

/// A notifier for a demo without a mail server: prints recipient, kind and subject of each
/// outbox message. Never the body: verification and reset emails carry account tokens.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdoutNotifier;

impl Notifier for StdoutNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        println!("email to {} ({}): {}", message.recipient, message.kind, message.subject);
        Ok(())
    }
}

/// The Icosistem state over a fresh in-memory store, signing access tokens with `jwt_secret`.
pub fn state(jwt_secret: SecretString) -> State {
    // The store tells the live notification stream (`/api/v2/notifications/stream`) of new
    // notifications through the hub the HTTP config shares (in process: one replica).
    let hub = LiveHub::in_process();
    let eco = Ecosystem::new(
        LiveStore::new(MemoryStore::new(), hub.clone()),
        StdoutNotifier,
        SystemClock,
    );
    AppState::new(
        Arc::new(eco),
        HttpConfig::new(jwt_secret).with_live(LiveConfig::new(hub)),
    )
}

/// The host application: its own routes, and the whole Icosistem API (with its middleware and
/// problem+json errors) under [`PREFIX`]. The host's routes are untouched by
/// Icosistem's middleware, which wraps only the nested router.
pub fn app(state: State) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/status", get(status))
        .nest(PREFIX, icosistem_http::router(state))
}

async fn home() -> &'static str {
    "The host application. The ecosystem API lives under /ecosystem/api/v2.\n"
}

async fn status() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "service": "host", "ecosystem": PREFIX }))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;

    async fn get(app: &Router, path: &str) -> (StatusCode, Value) {
        let request = Request::get(path).body(Body::empty()).expect("request");
        let response = app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body)
    }

    fn test_app() -> Router {
        app(state(SecretString::new("a test secret of at least thirty-two bytes")))
    }

    #[tokio::test]
    async fn the_nested_api_and_the_host_routes_both_answer() {
        let app = test_app();

        let (status, body) = get(&app, "/ecosystem/health").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ok");

        let (status, body) = get(&app, "/status").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["service"], "host");
    }

    #[tokio::test]
    async fn the_api_lives_only_under_the_prefix_with_its_own_errors() {
        let app = test_app();

        // Not mounted at the root: the host's plain 404, not Icosistem's problem body.
        let (status, body) = get(&app, "/health").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, Value::Null);

        // A nested route still runs Icosistem's auth and answers its problem+json.
        let (status, body) = get(&app, "/ecosystem/api/v2/users/me").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "unauthorized");
    }
}
