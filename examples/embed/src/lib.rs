//! # icosistem-example-embed
//!
//! How a Rust developer adds Icosistem to their own axum 0.8 service: the host keeps its own
//! state ([`Host`]: a greeting and a counter, next to the ecosystem's [`AppState`]), its own
//! routes — one of them protected by the ecosystem's login — and nests
//! [`icosistem_http::router`] under a prefix ([`PREFIX`], `/ecosystem`). Everything runs on the
//! in-memory store.
//!
//! Run it with `cargo run -p icosistem-example-embed` (listens on `EMBED_ADDR`, default
//! `127.0.0.1:3000`), then:
//!
//! ```text
//! curl -s http://127.0.0.1:3000/status                   # the host's own route
//! curl -s http://127.0.0.1:3000/ecosystem/health         # Icosistem, nested
//! open    http://127.0.0.1:3000/ecosystem/docs           # its docs, under the prefix
//! curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/hello
//! ```
//!
//! What each piece shows:
//!
//! - **The host's routes use the ecosystem's login.** [`Host`] gives the ecosystem's
//!   [`TokenVerifier`] by `FromRef`, so the host's handlers take [`AuthUser`] (401 problem
//!   without a valid token: `/hello`) or [`MaybeAuthUser`] (anonymous allowed: `/`). A token
//!   comes from the nested login, `POST /ecosystem/api/v2/auth/login`.
//! - **Nesting is complete.** Unknown paths under `/ecosystem` answer Icosistem's 404
//!   problem+json with a request id and the security headers; the host's own unknown paths keep
//!   the host's plain 404. [`HttpConfig::with_base_path`] names the prefix in the OpenAPI
//!   document's `servers`, and `/ecosystem/docs` loads `/ecosystem/api-docs/openapi.json`.
//! - **Only what the host wants is mounted.** `/metrics` is off ([`MetricsExport::Off`]): no
//!   process-global recorder is installed, the host owns its metrics.
//! - **The host runs the background work.** Emails are committed to the outbox with the change
//!   that caused them, and time-driven jobs (reminders, overdue notices …) run when called:
//!   [`spawn_background`] does both on a timer until told to stop.
//!
//! The pieces an embedder chooses are the three ports of [`Ecosystem`]: the store (here
//! [`MemoryStore`]; `icosistem_store_postgres::PgStore` in production), the notifier that
//! delivers outbox emails (here [`StdoutNotifier`]; your SMTP or email-API client), and the clock
//! ([`SystemClock`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::response::Json;
use axum::routing::get;
use icosistem_core::Ecosystem;
use icosistem_core::model::OutboxMessage;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{DeliveryError, Notifier, SystemClock};
use icosistem_http::live::{LiveConfig, LiveHub, LiveStore};
use icosistem_http::{AppState, AuthUser, ConfigError, HttpConfig, MaybeAuthUser, MetricsExport, TokenVerifier};
use icosistem_runner::{BackgroundRunner, Shutdown};
use icosistem_store_memory::MemoryStore;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// Where the Icosistem API lives inside the host app.
pub const PREFIX: &str = "/ecosystem";

/// The ecosystem this example embeds: in-memory store, emails to stdout, the system clock.
pub type Eco = Ecosystem<LiveStore<MemoryStore>, StdoutNotifier, SystemClock>;

/// The state `icosistem_http::router` needs for [`Eco`].
pub type EcoState = AppState<LiveStore<MemoryStore>, StdoutNotifier, SystemClock>;

/// How many delivered messages [`StdoutNotifier`] remembers (the newest).
const RECENT: usize = 100;

/// A notifier for a demo without a mail server: prints recipient, kind and subject of each
/// outbox message — never the body: verification and reset emails carry account tokens — and
/// remembers the last hundred it delivered ([`StdoutNotifier::recent`]) for a demo page or a
/// test to show.
#[derive(Debug, Clone, Default)]
pub struct StdoutNotifier {
    recent: Arc<Mutex<VecDeque<OutboxMessage>>>,
}

impl StdoutNotifier {
    /// The last messages delivered, oldest first.
    pub fn recent(&self) -> Vec<OutboxMessage> {
        self.recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

impl Notifier for StdoutNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        println!("email to {} ({}): {}", message.recipient, message.kind, message.subject);
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back(message.clone());
        Ok(())
    }
}

/// The host application's state: its own fields next to the ecosystem's.
#[derive(Clone)]
pub struct Host {
    /// What `/hello` says.
    pub greeting: Arc<str>,
    /// How many greetings `/hello` gave.
    pub hellos: Arc<AtomicU64>,
    /// The ecosystem, nested under [`PREFIX`] and shared with the host's handlers.
    pub ecosystem: EcoState,
}

/// The host's handlers may take the ecosystem's state (`State<EcoState>`) …
impl FromRef<Host> for EcoState {
    fn from_ref(host: &Host) -> Self {
        host.ecosystem.clone()
    }
}

/// … and [`AuthUser`] / [`MaybeAuthUser`] find the token verifier through this.
impl FromRef<Host> for TokenVerifier {
    fn from_ref(host: &Host) -> Self {
        host.ecosystem.verifier()
    }
}

/// The Icosistem settings of this host: signing with `jwt_secret`, documented under
/// [`PREFIX`], no `/metrics`, the live stream's hub.
pub fn http_config(jwt_secret: SecretString, hub: LiveHub) -> HttpConfig {
    HttpConfig::new(jwt_secret)
        .with_base_path(PREFIX)
        .with_metrics(MetricsExport::Off)
        .with_live(LiveConfig::new(hub))
}

/// The host's state over a fresh in-memory store, signing access tokens with `jwt_secret`.
///
/// # Errors
///
/// A secret shorter than 32 bytes ([`ConfigError::WeakJwtSecret`]).
pub fn host(jwt_secret: SecretString, greeting: &str) -> Result<Host, ConfigError> {
    // The store tells the live notification stream (`/api/v2/notifications/stream`) of new
    // notifications through the hub the HTTP config shares (in process: one replica).
    let hub = LiveHub::in_process();
    let eco = Ecosystem::new(
        LiveStore::new(MemoryStore::new(), hub.clone()),
        StdoutNotifier::default(),
        SystemClock,
    );
    Ok(Host {
        greeting: Arc::from(greeting),
        hellos: Arc::new(AtomicU64::new(0)),
        ecosystem: AppState::new(Arc::new(eco), http_config(jwt_secret, hub))?,
    })
}

/// The host application: its own routes, and the whole Icosistem API (with its middleware and
/// problem+json errors) under [`PREFIX`]. Icosistem's middleware wraps only the nested router:
/// the host's routes and the host's 404 are the host's.
pub fn app(host: Host) -> Router {
    let ecosystem = icosistem_http::router(host.ecosystem.clone());
    Router::new()
        .route("/", get(home))
        .route("/status", get(status))
        .route("/hello", get(hello))
        .with_state(host)
        .nest(PREFIX, ecosystem)
}

/// Anyone; says who is signed in when the request carries a token.
async fn home(MaybeAuthUser(caller): MaybeAuthUser) -> String {
    let who = match caller {
        Some(caller) => format!("signed in as {}", caller.user.email),
        None => "not signed in".to_owned(),
    };
    format!("The host application ({who}). The ecosystem API lives under {PREFIX}/api/v2.\n")
}

async fn status() -> Json<Value> {
    Json(json!({ "service": "host", "ecosystem": PREFIX }))
}

/// Signed-in callers only, with the ecosystem's tokens: 401 problem otherwise.
async fn hello(State(host): State<Host>, caller: AuthUser) -> Json<Value> {
    let hellos = host.hellos.fetch_add(1, Ordering::Relaxed) + 1;
    Json(json!({
        "greeting": format!("{}, {}", host.greeting, caller.user.first_name),
        "user_id": caller.user.id,
        "role": caller.user.role.as_str(),
        "hellos": hellos,
    }))
}

/// How often [`spawn_background`] works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Outbox delivery rounds (`icosistem-server` uses 5 s).
    pub outbox: Duration,
    /// Rounds of the time-driven jobs (`icosistem-server` uses a minute).
    pub jobs: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            outbox: Duration::from_secs(5),
            jobs: Duration::from_secs(60),
        }
    }
}

/// The host's background work until `shutdown` is triggered: the library's
/// [`BackgroundRunner`] delivers the outbox and runs the due jobs, each on its own interval
/// (failures are logged and retried next round; the outbox retries each message with backoff),
/// then one last delivery round sends the emails the last requests committed.
pub fn spawn_background(eco: Arc<Eco>, schedule: Schedule, shutdown: &Shutdown) -> JoinHandle<()> {
    let runner = BackgroundRunner::new(eco)
        .outbox_every(schedule.outbox)
        .jobs_every(schedule.jobs);
    let last = runner.clone();
    let loops = runner.spawn(shutdown);
    tokio::spawn(async move {
        loops.join().await;
        last.outbox_round().await;
    })
}
