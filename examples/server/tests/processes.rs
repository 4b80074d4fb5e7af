//! Two `icosistem-server serve` OS processes (the real binary) on one PostgreSQL database of the
//! test's own and one Redis: a client streaming notifications from process A receives, within
//! one second, a notification caused by a request to process B (the fan-out through Redis
//! pub/sub, heartbeats far longer than the bound), and a reconnect to A with `Last-Event-ID`
//! receives exactly the notifications it missed, then the next live one.
//!
//! Skipped (one line on stderr) without `DATABASE_URL` or `REDIS_URL`, failed instead under
//! `CI=true` or `ICOSISTEM_REQUIRE_SERVICES=1`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use icosistem_server::LIVE_CHANNEL;
use icosistem_store_postgres::testing::{TestStore, services_required};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The longest any step may take before the test fails instead of hanging.
const BOUND: Duration = Duration::from_secs(20);

type Http = Client<HttpConnector, Full<Bytes>>;

/// One server process; killed when dropped.
struct Process {
    base: String,
    _child: Child,
}

impl Process {
    /// Starts `icosistem-server serve` on a free port of 127.0.0.1 and waits until it is ready.
    async fn start(http: &Http, database_url: &str, redis_url: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("bound")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_icosistem-server"))
            .arg("serve")
            .env("ICOSISTEM_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database_url)
            .env("REDIS_URL", redis_url)
            .env("JWT_SECRET_KEY", "a-shared-secret-of-the-two-processes-0123456789")
            // The test's database is migrated already; delivery and jobs are not under test.
            .env("ICOSISTEM_AUTO_MIGRATE", "false")
            .env("ICOSISTEM_RUN_JOBS", "false")
            .env("ICOSISTEM_LIMIT_REQUIRE_VERIFIED_EMAIL", "false")
            .env("ICOSISTEM_RATE_LIMIT_ENABLED", "false")
            // Far beyond the one-second bound: only a wake-up through Redis can be in time.
            .env("ICOSISTEM_LIVE_HEARTBEAT_SECS", "60")
            .env("ICOSISTEM_MALLOC_TUNING", "off")
            .env("ICOSISTEM_DB_MAX_CONNECTIONS", "5")
            .env("LOG_LEVEL", "warn")
            .env_remove("ICOSISTEM_ENV")
            .env_remove("MAIL_SERVER")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + BOUND;
        loop {
            let ready = call(http, &base, Method::GET, "/health/ready", None, None).await;
            if ready.is_some_and(|(status, _)| status == StatusCode::OK) {
                break;
            }
            assert!(Instant::now() < deadline, "{base} was not ready in {BOUND:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { base, _child: child }
    }
}

/// `(status, JSON body)`, or `None` when nothing answers (yet).
async fn call(
    http: &Http,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Option<(StatusCode, Value)> {
    let mut request = Request::builder().method(method).uri(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            Full::new(Bytes::from(json.to_string()))
        }
        None => Full::new(Bytes::new()),
    };
    let response = tokio::time::timeout(BOUND, http.request(request.body(body).expect("request")))
        .await
        .expect("answered in time")
        .ok()?;
    let status = response.status();
    let bytes = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// `call` that must answer `expected`; the body.
async fn expect(
    http: &Http,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    expected: StatusCode,
) -> Value {
    let (status, body) = call(http, base, method, path, token, body).await.expect("answered");
    assert_eq!(status, expected, "{path}: {body}");
    body
}

/// Registers (no verification needed here) and logs in: (user id, access token).
async fn person(http: &Http, base: &str, name: &str) -> (String, String) {
    let email = format!("{name}.{}@example.test", uuid::Uuid::now_v7().simple());
    let password = "Seven-Long-Words-42";
    let user = expect(
        http,
        base,
        Method::POST,
        "/api/v2/auth/register",
        None,
        Some(
            json!({ "email": email, "password": password, "first_name": name, "last_name": "Proceso", "role": "ally" }),
        ),
        StatusCode::CREATED,
    )
    .await;
    let login = expect(
        http,
        base,
        Method::POST,
        "/api/v2/auth/login",
        None,
        Some(json!({ "email": email, "password": password })),
        StatusCode::OK,
    )
    .await;
    (
        user["id"].as_str().expect("id").to_owned(),
        login["access_token"].as_str().expect("token").to_owned(),
    )
}

/// The owner creates an organization on `base` and adds the member: one notification for them.
async fn notify(http: &Http, base: &str, owner: &str, member_id: &str, name: &str) {
    let org = expect(
        http,
        base,
        Method::POST,
        "/api/v2/organizations",
        Some(owner),
        Some(json!({ "name": name, "organization_type": "incubator" })),
        StatusCode::CREATED,
    )
    .await;
    let id = org["id"].as_str().expect("id");
    expect(
        http,
        base,
        Method::POST,
        &format!("/api/v2/organizations/{id}/members"),
        Some(owner),
        Some(json!({ "user_id": member_id, "role": "reviewer" })),
        StatusCode::CREATED,
    )
    .await;
}

/// An open event stream, read event by event (heartbeat comments skipped).
struct Events {
    body: Incoming,
    buffer: String,
}

impl Events {
    async fn open(http: &Http, base: &str, token: &str, last_event_id: Option<&str>) -> Self {
        let mut request = Request::builder()
            .uri(format!("{base}/api/v2/notifications/stream"))
            .header("authorization", format!("Bearer {token}"))
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = tokio::time::timeout(
            BOUND,
            http.request(request.body(Full::new(Bytes::new())).expect("request")),
        )
        .await
        .expect("answered in time")
        .expect("answered");
        assert_eq!(response.status(), StatusCode::OK);
        Self {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event's `(event, id)`.
    async fn next(&mut self) -> (String, String) {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id) = (None, None);
                for line in block.lines() {
                    match line.split_once(':') {
                        Some(("event", v)) => event = Some(v.trim().to_owned()),
                        Some(("id", v)) => id = Some(v.trim().to_owned()),
                        _ => {}
                    }
                }
                if let (Some(event), Some(id)) = (event, id) {
                    return (event, id);
                }
            }
            let frame = tokio::time::timeout(BOUND, self.body.frame())
                .await
                .expect("the stream said something in time")
                .expect("the stream stays open")
                .expect("a frame");
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
}

/// Waits (bounded) until `count` processes subscribed to the live channel.
async fn subscribed(redis_url: &str, count: i64) {
    let client = redis::Client::open(redis_url).expect("REDIS_URL parses");
    let mut conn = client.get_multiplexed_async_connection().await.expect("Redis answers");
    let deadline = Instant::now() + BOUND;
    loop {
        let (_, n): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(LIVE_CHANNEL)
            .query_async(&mut conn)
            .await
            .expect("PUBSUB NUMSUB");
        if n >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the processes did not subscribe to {LIVE_CHANNEL}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `DATABASE_URL` with the test database's name as its path.
fn database_url_of(db: &TestStore) -> String {
    let url = std::env::var("DATABASE_URL").expect("set when a TestStore exists");
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url.as_str(), String::new()),
    };
    // postgres://user@host:port[/database]: the path is whatever follows the authority.
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[after_scheme..].find('/').map_or(base.len(), |i| after_scheme + i);
    format!("{}/{}{query}", &base[..authority_end], db.database_name())
}

fn redis_url() -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                !services_required(),
                "REDIS_URL is not set, but CI/ICOSISTEM_REQUIRE_SERVICES requires Redis"
            );
            eprintln!("skipping the two-process stream test: REDIS_URL is not set");
            None
        }
    }
}

// Multi-threaded: dropping the last `TestStore` blocks its thread until its pool closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_on_one_process_receives_what_a_request_to_the_other_caused() {
    let Some(db) = TestStore::fresh().await else {
        return;
    };
    let Some(redis_url) = redis_url() else {
        return;
    };
    let database_url = database_url_of(&db);
    let http: Http = Client::builder(TokioExecutor::new()).build_http();
    let a = Process::start(&http, &database_url, &redis_url).await;
    let b = Process::start(&http, &database_url, &redis_url).await;
    subscribed(&redis_url, 2).await;

    let (_, owner) = person(&http, &b.base, "owner").await;
    let (member_id, member) = person(&http, &a.base, "member").await;

    // Live: a stream on A, the cause on B.
    let mut events = Events::open(&http, &a.base, &member, None).await;
    notify(&http, &b.base, &owner, &member_id, "Via B").await;
    let caused = Instant::now();
    let (event, seen) = events.next().await;
    let latency = caused.elapsed();
    assert_eq!(event, "notification");
    assert!(latency < Duration::from_secs(1), "delivered after {latency:?}");
    drop(events);

    // Missed while disconnected, caused on B; the reconnect to A replays exactly those.
    notify(&http, &b.base, &owner, &member_id, "Missed B1").await;
    notify(&http, &b.base, &owner, &member_id, "Missed B2").await;
    let inbox = expect(
        &http,
        &b.base,
        Method::GET,
        "/api/v2/notifications",
        Some(&member),
        None,
        StatusCode::OK,
    )
    .await;
    // Newest first: the ones after the event seen, oldest first.
    let mut missed: Vec<String> = inbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .take_while(|id| *id != seen)
        .collect();
    missed.reverse();
    assert_eq!(missed.len(), 2, "{inbox}");
    let mut events = Events::open(&http, &a.base, &member, Some(&seen)).await;
    let mut replayed = Vec::new();
    for _ in 0..missed.len() {
        replayed.push(events.next().await.1);
    }
    assert_eq!(replayed, missed, "exactly what was missed, in order");
    notify(&http, &b.base, &owner, &member_id, "After").await;
    let (_, after) = events.next().await;
    assert!(!missed.contains(&after) && after != seen, "then the next live one");
    drop(events);
    drop((a, b));
}
