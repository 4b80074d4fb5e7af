//! The live notification stream (`GET /api/v2/notifications/stream`) over a real socket, served
//! by `icosistem_http::serve`: a notification caused by a request arrives on an open stream,
//! `Last-Event-ID` replays exactly what was missed, the per-user cap answers 429, the stream
//! ends with `token_expired` when the token expires by the ecosystem's (manual) clock and with
//! `shutdown` when the server shuts down; and two servers on one PostgreSQL and Redis, where a
//! stream on one receives what a request to the other caused.
//!
//! No test waits on a timer to decide anything: each reads the stream until the event it expects
//! (with a generous bound so a broken build fails instead of hanging). Heartbeats are short
//! (50 ms) so a fake-clock expiry is noticed quickly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use icosistem_core::model::Role;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Clock, RecordingNotifier, Store};
use icosistem_core::testing::fixtures::{Person, World};
use icosistem_http::live::{LiveConfig, LiveHub, LiveStore};
use icosistem_http::{AppState, HttpConfig, ServeLimits};
use icosistem_store_memory::MemoryStore;
use icosistem_store_postgres::testing::{TestStore, services_required};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::common::{SECRET, access_token as token, test_rate_limits};

/// The longest any step may take before the test fails instead of hanging.
const BOUND: Duration = Duration::from_secs(10);

type Http = Client<HttpConnector, Full<Bytes>>;

fn client() -> Http {
    Client::builder(TokioExecutor::new()).build_http()
}

/// One server on port 0.
struct Server {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start<S: Store, C: Clock>(state: AppState<S, Arc<RecordingNotifier>, C>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("port 0 binds");
        let base = format!("http://{}", listener.local_addr().expect("bound"));
        let (stop, stopped) = oneshot::channel::<()>();
        let limits = ServeLimits::default().with_shutdown_grace(Duration::from_secs(5));
        let task = tokio::spawn(icosistem_http::serve(
            listener,
            icosistem_http::router(state),
            limits,
            async {
                let _ = stopped.await;
            },
        ));
        Self {
            base,
            stop: Some(stop),
            task,
        }
    }
}

fn config(hub: LiveHub, heartbeat: Duration, max_streams: usize) -> HttpConfig {
    HttpConfig::new(SecretString::new(SECRET))
        .with_rate_limits(test_rate_limits())
        .with_live(
            LiveConfig::new(hub)
                .with_heartbeat(heartbeat)
                .with_max_streams_per_user(max_streams),
        )
}

/// A JSON request; the status and body.
async fn call(
    http: &Http,
    base: &str,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut builder = Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("authorization", format!("Bearer {token}"));
    let body = match body {
        Some(body) => {
            builder = builder.header("content-type", "application/json");
            Full::new(Bytes::from(body.to_string()))
        }
        None => Full::new(Bytes::new()),
    };
    let response = tokio::time::timeout(BOUND, http.request(builder.body(body).expect("request")))
        .await
        .expect("answered in time")
        .expect("answered");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `owner_token`'s new organization with `member` added as a reviewer: one notification for
/// `member`. Returns the organization id.
async fn notify(http: &Http, base: &str, owner_token: &str, member: &Person, name: &str) -> String {
    let (status, org) = call(
        http,
        base,
        Method::POST,
        "/api/v2/organizations",
        owner_token,
        Some(json!({ "name": name, "organization_type": "incubator" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    let id = org["id"].as_str().expect("id").to_owned();
    let (status, body) = call(
        http,
        base,
        Method::POST,
        &format!("/api/v2/organizations/{id}/members"),
        owner_token,
        Some(json!({ "user_id": member.id().to_string(), "role": "reviewer" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id
}

/// An organization owner's access token, and the member their commands notify with theirs:
/// (owner token, member, member token).
async fn owner_and_member<S: Store>(world: &World<S>) -> (String, Person, String) {
    let owner = world.person(Role::Ally, "owner").await;
    let member = world.person(Role::Ally, "member").await;
    let (owner_token, member_token) = (token(&owner, world.now()), token(&member, world.now()));
    (owner_token, member, member_token)
}

/// The ids of `token`'s notifications other than `seen_id`, oldest first: what a stream that
/// saw `seen_id` last has missed.
async fn missed_since(http: &Http, base: &str, token: &str, seen_id: &str) -> Vec<String> {
    let (status, inbox) = call(http, base, Method::GET, "/api/v2/notifications", token, None).await;
    assert_eq!(status, StatusCode::OK, "{inbox}");
    let mut missed: Vec<String> = inbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|n| n["id"].as_str().map(str::to_owned))
        .filter(|id| id != seen_id)
        .collect();
    missed.reverse();
    missed
}

/// One server-sent event (or a comment).
#[derive(Debug, Default, Clone)]
struct SseEvent {
    event: Option<String>,
    id: Option<String>,
    data: String,
    comment: bool,
}

impl SseEvent {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).expect("JSON data")
    }
}

/// An open stream, read event by event.
struct Events {
    body: Incoming,
    buffer: String,
}

impl Events {
    /// Opens the stream as `token` (after `last_event_id`); the answer's status and, on 200, the
    /// events.
    async fn open(
        http: &Http,
        base: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> Result<Self, (StatusCode, String, Value)> {
        let mut builder = Request::builder()
            .uri(format!("{base}/api/v2/notifications/stream"))
            .header("authorization", format!("Bearer {token}"))
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            builder = builder.header("last-event-id", id);
        }
        let response = tokio::time::timeout(
            BOUND,
            http.request(builder.body(Full::new(Bytes::new())).expect("request")),
        )
        .await
        .expect("answered in time")
        .expect("answered");
        let status = response.status();
        if status != StatusCode::OK {
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap_or_default().to_owned())
                .unwrap_or_default();
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            return Err((
                status,
                content_type,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            ));
        }
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Ok(Self {
            body: response.into_body(),
            buffer: String::new(),
        })
    }

    /// The next event or comment; `None` when the server closed the stream.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent::default();
                for line in block.lines() {
                    if let Some(comment) = line.strip_prefix(':') {
                        event.comment = true;
                        event.data = comment.trim().to_owned();
                    } else if let Some((field, value)) = line.split_once(':') {
                        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                        match field {
                            "event" => event.event = Some(value),
                            "id" => event.id = Some(value),
                            "data" => event.data.push_str(&value),
                            _ => {}
                        }
                    }
                }
                return Some(event);
            }
            let frame = tokio::time::timeout(BOUND, self.body.frame())
                .await
                .expect("the stream said something in time");
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// The next event that is not a heartbeat.
    async fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            let event = self.next().await?;
            if !event.comment {
                return Some(event);
            }
        }
    }
}

/// A world on the memory store behind a live hub, and its server.
async fn memory_server(heartbeat: Duration, max_streams: usize) -> (Arc<World<LiveStore<MemoryStore>>>, Server) {
    let hub = LiveHub::in_process();
    let world = Arc::new(World::new(LiveStore::new(MemoryStore::new(), hub.clone())).await);
    let state = AppState::new(Arc::clone(&world.eco), config(hub, heartbeat, max_streams)).expect("valid HTTP config");
    (world, Server::start(state).await)
}

const FAST: Duration = Duration::from_millis(50);

#[tokio::test]
async fn a_notification_caused_by_a_request_arrives_on_an_open_stream() {
    let (world, server) = memory_server(Duration::from_secs(30), 5).await;
    let http = client();
    let (owner_token, member, member_token) = owner_and_member(&world).await;

    let mut events = Events::open(&http, &server.base, &member_token, None)
        .await
        .expect("stream opens");
    notify(&http, &server.base, &owner_token, &member, "Hub Live").await;
    let event = events.next_event().await.expect("an event");
    assert_eq!(event.event.as_deref(), Some("notification"), "{event:?}");
    let body = event.json();
    assert_eq!(event.id.as_deref(), body["id"].as_str());
    assert_eq!(body["user_id"], member.id().to_string());
    // The same notification as the inbox lists.
    let (_, inbox) = call(
        &http,
        &server.base,
        Method::GET,
        "/api/v2/notifications",
        &member_token,
        None,
    )
    .await;
    assert_eq!(inbox["items"][0]["id"], body["id"]);
    // The owner's stream is not the member's: nothing of theirs arrives here.
    drop(events);
}

#[tokio::test]
async fn last_event_id_replays_exactly_what_was_missed() {
    let (world, server) = memory_server(FAST, 5).await;
    let http = client();
    let (owner_token, member, member_token) = owner_and_member(&world).await;

    let mut events = Events::open(&http, &server.base, &member_token, None)
        .await
        .expect("stream opens");
    notify(&http, &server.base, &owner_token, &member, "Seen").await;
    let seen = events.next_event().await.expect("the first event");
    let seen_id = seen.id.clone().expect("an id");
    drop(events);

    // Missed while disconnected: two, in order.
    notify(&http, &server.base, &owner_token, &member, "Missed one").await;
    notify(&http, &server.base, &owner_token, &member, "Missed two").await;
    let missed = missed_since(&http, &server.base, &member_token, &seen_id).await;
    assert_eq!(missed.len(), 2);

    let mut events = Events::open(&http, &server.base, &member_token, Some(&seen_id))
        .await
        .expect("stream reopens");
    let mut replayed = Vec::new();
    // Until the first heartbeat after the replay: then nothing else is owed.
    loop {
        let event = events.next().await.expect("open");
        if event.comment {
            if replayed.len() >= missed.len() {
                break;
            }
            continue;
        }
        replayed.push(event.id.expect("id"));
    }
    assert_eq!(replayed, missed);

    // A malformed Last-Event-ID is a 422, not a silent replay of everything.
    let Err((status, _, problem)) = Events::open(&http, &server.base, &member_token, Some("nope")).await else {
        panic!("a malformed Last-Event-ID was accepted");
    };
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
}

#[tokio::test]
async fn streams_per_user_are_capped() {
    let (world, server) = memory_server(FAST, 2).await;
    let http = client();
    let member = world.person(Role::Ally, "member").await;
    let other = world.person(Role::Ally, "other").await;
    let member_token = token(&member, world.now());

    let first = Events::open(&http, &server.base, &member_token, None)
        .await
        .expect("first");
    let _second = Events::open(&http, &server.base, &member_token, None)
        .await
        .expect("second");
    let Err((status, content_type, problem)) = Events::open(&http, &server.base, &member_token, None).await else {
        panic!("a third stream was accepted");
    };
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(problem["code"], "too_many_streams", "{problem}");
    // Another user is not affected.
    Events::open(&http, &server.base, &token(&other, world.now()), None)
        .await
        .expect("another user's stream");
    // A closed stream gives its place back (once the server notices, at its next heartbeat).
    drop(first);
    let deadline = Instant::now() + BOUND;
    loop {
        match Events::open(&http, &server.base, &member_token, None).await {
            Ok(_) => break,
            Err((StatusCode::TOO_MANY_REQUESTS, ..)) if Instant::now() < deadline => {
                tokio::time::sleep(FAST).await;
            }
            Err((status, _, problem)) => panic!("{status}: {problem}"),
        }
    }
}

#[tokio::test]
async fn the_stream_closes_when_the_token_expires_by_the_clock() {
    let (world, server) = memory_server(FAST, 5).await;
    let http = client();
    let member = world.person(Role::Ally, "member").await;
    let mut events = Events::open(&http, &server.base, &token(&member, world.now()), None)
        .await
        .expect("stream opens");
    // A heartbeat first: the stream is alive while the token is.
    assert!(events.next().await.expect("a heartbeat").comment);
    world.advance(chrono::Duration::minutes(15));
    let last = events.next_event().await.expect("a final event");
    assert_eq!(last.event.as_deref(), Some("token_expired"), "{last:?}");
    assert_eq!(last.json()["reason"], "token_expired");
    assert!(events.next().await.is_none(), "the stream ended");
}

#[tokio::test]
async fn shutdown_sends_a_final_event_and_ends_the_stream() {
    let (world, mut server) = memory_server(Duration::from_secs(30), 5).await;
    let http = client();
    let member = world.person(Role::Ally, "member").await;
    let mut events = Events::open(&http, &server.base, &token(&member, world.now()), None)
        .await
        .expect("stream opens");
    let _ = server.stop.take().expect("running").send(());
    let last = events.next_event().await.expect("a final event");
    assert_eq!(last.event.as_deref(), Some("shutdown"), "{last:?}");
    assert!(events.next().await.is_none(), "the stream ended");
    // The server did not wait for the grace period: the stream ended itself.
    let started = Instant::now();
    tokio::time::timeout(BOUND, server.task)
        .await
        .expect("serve returned")
        .expect("joined")
        .expect("served");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

/// `REDIS_URL`, or `None` after a skip line; a missing Redis fails when services are required.
fn redis_url() -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                !services_required(),
                "REDIS_URL is not set, but CI/ICOSISTEM_REQUIRE_SERVICES requires Redis"
            );
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"skipping the two-replica stream test: REDIS_URL is not set\n",
            );
            None
        }
    }
}

/// Waits (bounded) until `channel` has `count` subscribers, so a publish is not lost to a
/// subscription still being set up.
pub(crate) async fn subscribed(url: &str, channel: &str, count: i64) {
    let client = redis::Client::open(url).expect("REDIS_URL parses");
    let mut conn = client.get_multiplexed_async_connection().await.expect("Redis answers");
    let deadline = Instant::now() + BOUND;
    loop {
        let (_, n): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut conn)
            .await
            .expect("PUBSUB NUMSUB");
        if n >= count {
            return;
        }
        assert!(Instant::now() < deadline, "the replicas did not subscribe to {channel}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// Multi-threaded like the other PostgreSQL tests: dropping the last `TestStore` blocks its thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_postgres_and_redis_share_the_stream() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let Some(url) = redis_url() else {
        return;
    };
    // A channel of this test's own: other tests (and helpers) share the Redis.
    let channel = format!("icosistem:live:test:{}", uuid::Uuid::now_v7());
    let (hub_a, hub_b) = (
        LiveHub::redis(&url, channel.clone()).expect("hub A"),
        LiveHub::redis(&url, channel.clone()).expect("hub B"),
    );
    // Replica A: the world (its admin, its people) on the database.
    let world = Arc::new(World::new(LiveStore::new(store.clone(), hub_a.clone())).await);
    // Replica B: another ecosystem on the same database, with its own hub: what it commits
    // reaches A only through Redis. Heartbeats are long, so only a wake-up can deliver in time.
    let eco_b = Arc::new(
        icosistem_core::Ecosystem::new(
            LiveStore::new(store.clone(), hub_b.clone()),
            Arc::new(RecordingNotifier::new()),
            Arc::clone(&world.clock),
        )
        .with_hasher(icosistem_core::ports::Argon2idPasswordHasher::fast_for_tests()),
    );
    let slow = Duration::from_secs(30);
    let a =
        Server::start(AppState::new(Arc::clone(&world.eco), config(hub_a, slow, 5)).expect("valid HTTP config")).await;
    let b = Server::start(AppState::new(eco_b, config(hub_b, slow, 5)).expect("valid HTTP config")).await;
    subscribed(&url, &channel, 2).await;

    let http = client();
    let (owner_token, member, member_token) = owner_and_member(&world).await;

    let mut events = Events::open(&http, &a.base, &member_token, None)
        .await
        .expect("stream on A");
    notify(&http, &b.base, &owner_token, &member, "Via B").await;
    let caused = Instant::now();
    let event = events.next_event().await.expect("an event on A");
    let latency = caused.elapsed();
    assert_eq!(event.event.as_deref(), Some("notification"), "{event:?}");
    assert!(latency < Duration::from_secs(1), "delivered after {latency:?}");
    let seen_id = event.id.expect("id");
    drop(events);

    // Missed on A while disconnected, caused on B; the reconnect to A replays exactly those.
    notify(&http, &b.base, &owner_token, &member, "Missed B1").await;
    notify(&http, &b.base, &owner_token, &member, "Missed B2").await;
    let missed = missed_since(&http, &b.base, &member_token, &seen_id).await;
    assert_eq!(missed.len(), 2);
    let mut events = Events::open(&http, &a.base, &member_token, Some(&seen_id))
        .await
        .expect("stream reopens on A");
    let mut replayed = Vec::new();
    for _ in 0..missed.len() {
        replayed.push(events.next_event().await.expect("replayed").id.expect("id"));
    }
    assert_eq!(replayed, missed);
    // And nothing more: the next notification caused on B is the next event.
    notify(&http, &b.base, &owner_token, &member, "After").await;
    let after = events.next_event().await.expect("the live one");
    assert!(!missed.contains(&after.id.clone().expect("id")), "{after:?}");
    drop(events);

    for mut server in [a, b] {
        let _ = server.stop.take().expect("running").send(());
        let _ = tokio::time::timeout(BOUND, server.task).await;
    }
}
