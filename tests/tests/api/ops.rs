//! The operational middleware: rate limits (per IP on auth, per verified user on the API, shared
//! through Redis), `/metrics`, CORS and the readiness of extra dependencies.
//!
//! Redis tests follow the rule of the PostgreSQL ones: without `REDIS_URL` they print a skip
//! line and pass, unless `CI` or `ICOSISTEM_REQUIRE_SERVICES` is set, where they fail.

use std::net::SocketAddr;
use std::sync::{Arc, Once};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use icosistem_core::model::Role;
use icosistem_core::model::secret::SecretString;
use icosistem_core::testing::fixtures::{PASSWORD, World};
use icosistem_http::metrics::MeteredStore;
use icosistem_http::rate_limit::RedisRateLimiter;
use icosistem_http::{AppState, HttpConfig, Quota, RateLimits, router};
use icosistem_store_memory::MemoryStore;
use icosistem_store_postgres::testing::services_required;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{Reply, SECRET, test_rate_limits};

/// A router over its own world, and requests from a chosen client address.
struct Ops {
    world: World<MeteredStore<MemoryStore>>,
    router: axum::Router,
}

const IP_A: [u8; 4] = [203, 0, 113, 10];
const IP_B: [u8; 4] = [203, 0, 113, 20];

fn config() -> HttpConfig {
    HttpConfig::new(SecretString::new(SECRET))
}

impl Ops {
    async fn new(config: HttpConfig) -> Self {
        let world = World::new(MeteredStore::new(MemoryStore::new())).await;
        let state = AppState::new(Arc::clone(&world.eco), config).expect("valid HTTP config");
        Self {
            router: router(state),
            world,
        }
    }

    async fn request(&self, mut request: Request<Body>, ip: [u8; 4]) -> Reply {
        // What `into_make_service_with_connect_info` puts in every request.
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((ip, 40_000))));
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        Reply::read(response).await
    }

    async fn login(&self, email: &str, password: &str, ip: [u8; 4]) -> Reply {
        let request = Request::post("/api/v2/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "email": email, "password": password }).to_string()))
            .expect("request");
        self.request(request, ip).await
    }

    /// A cheap request on an auth path (a refresh with an unknown token: 401 without hashing a
    /// password, so the test's pace is set by the limiter, not by argon2).
    async fn auth_attempt(&self, ip: [u8; 4]) -> Reply {
        let request = Request::post("/api/v2/auth/refresh")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "refresh_token": "unknown" }).to_string()))
            .expect("request");
        self.request(request, ip).await
    }

    async fn get(&self, path: &str, token: Option<&str>, ip: [u8; 4]) -> Reply {
        let mut builder = Request::get(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.request(builder.body(Body::empty()).expect("request"), ip).await
    }

    async fn token(&self, role: Role, label: &str) -> String {
        let person = self.world.person(role, label).await;
        let reply = self.login(person.email(), PASSWORD, IP_B).await;
        reply.ok(StatusCode::OK);
        reply.body["access_token"].as_str().expect("token").to_owned()
    }
}

#[track_caller]
fn assert_rate_limited(reply: &Reply) {
    reply.problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!(retry >= 1, "Retry-After {retry}");
    assert!(reply.body["request_id"].is_string(), "{}", reply.raw);
}

#[tokio::test]
async fn auth_paths_are_limited_per_client_ip() {
    let limits = test_rate_limits().with_auth(Quota::new(1, 3));
    let app = Ops::new(config().with_rate_limits(limits)).await;
    for _ in 0..3 {
        app.auth_attempt(IP_A)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let refused = app.auth_attempt(IP_A).await;
    assert_rate_limited(&refused);
    assert_eq!(refused.headers[header::RETRY_AFTER], "1");
    // Every auth path shares the IP's budget.
    let register = Request::post("/api/v2/auth/password-reset")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "email": "x@example.test" }).to_string()))
        .expect("request");
    assert_rate_limited(&app.request(register, IP_A).await);
    // Another address has its own budget.
    app.auth_attempt(IP_B)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    // Probes, metrics and docs are never limited.
    for path in [
        "/health",
        "/health/ready",
        "/api/v2/health",
        "/metrics",
        "/api-docs/openapi.json",
    ] {
        for _ in 0..5 {
            let reply = app.get(path, None, IP_A).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.raw);
        }
    }
    let metrics = app.get("/metrics", None, IP_A).await;
    assert!(
        metrics.raw.contains("rate_limited_total{scope=\"auth\"}"),
        "{}",
        metrics.raw
    );
    assert!(
        metrics
            .raw
            .contains("http_requests_total{method=\"POST\",route=\"/api/v2/auth/refresh\",status=\"429\"}"),
        "a 429 carries its route: {}",
        metrics.raw
    );
}

#[tokio::test]
async fn the_api_is_limited_per_verified_user() {
    let limits = test_rate_limits().with_api(Quota::new(1, 3));
    let app = Ops::new(config().with_rate_limits(limits)).await;
    let first = app.token(Role::Entrepreneur, "first").await;
    let second = app.token(Role::Entrepreneur, "second").await;
    for _ in 0..3 {
        app.get("/api/v2/users/me", Some(&first), IP_A).await.ok(StatusCode::OK);
    }
    let refused = app.get("/api/v2/users/me", Some(&first), IP_A).await;
    assert_rate_limited(&refused);
    // The same user from another address is still over their budget …
    assert_rate_limited(&app.get("/api/v2/projects", Some(&first), IP_B).await);
    // … and another user from the same address is not limited.
    for _ in 0..3 {
        app.get("/api/v2/users/me", Some(&second), IP_A)
            .await
            .ok(StatusCode::OK);
    }

    // A token that is not signed with our keys counts against the caller's IP, not against the
    // subject it claims: IP_B's anonymous budget runs out, `second` keeps theirs.
    let third = app.token(Role::Entrepreneur, "third").await;
    let claims: Value = {
        let payload = third.split('.').nth(1).expect("payload");
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64");
        serde_json::from_slice(&bytes).expect("claims")
    };
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"another secret of thirty-two bytes!!"),
    )
    .expect("encode");
    for _ in 0..3 {
        app.get("/api/v2/users/me", Some(&forged), IP_B)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    assert_rate_limited(&app.get("/api/v2/users/me", Some(&forged), IP_B).await);
    assert_rate_limited(&app.get("/api/v2/programs", None, IP_B).await);
    for _ in 0..3 {
        app.get("/api/v2/users/me", Some(&third), IP_B).await.ok(StatusCode::OK);
    }
}

#[tokio::test]
async fn forwarded_for_is_used_only_when_trusted() {
    let limits = test_rate_limits().with_auth(Quota::new(1, 2));
    let login = |forwarded: &str| {
        Request::post("/api/v2/auth/refresh")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", forwarded)
            .body(Body::from(json!({ "refresh_token": "unknown" }).to_string()))
            .expect("request")
    };
    // Behind the ingress: the address it appended (the last one) is the client.
    let app = Ops::new(config().with_rate_limits(limits).with_trust_forwarded_for(true)).await;
    for _ in 0..2 {
        app.request(login("1.1.1.1, 198.51.100.7"), IP_A)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // A client inventing a first entry does not get a new bucket.
    assert_rate_limited(&app.request(login("9.9.9.9, 198.51.100.7"), IP_A).await);
    // Another client behind the same proxy has its own.
    app.request(login("198.51.100.8"), IP_A)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");

    // Not trusted: the header is ignored and the peer address counts.
    let app = Ops::new(config().with_rate_limits(limits)).await;
    for forwarded in ["198.51.100.1", "198.51.100.2"] {
        app.request(login(forwarded), IP_A)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    assert_rate_limited(&app.request(login("198.51.100.3"), IP_A).await);
}

#[tokio::test]
async fn limits_are_configurable_and_default_to_the_guide() {
    let defaults = RateLimits::default();
    assert!(defaults.enabled);
    assert_eq!((defaults.auth.per_second, defaults.auth.burst), (1, 5));
    assert_eq!((defaults.api.per_second, defaults.api.burst), (10, 20));
    assert_eq!(config().rate_limits, defaults, "HttpConfig::new limits by default");

    // The guide's login limit: a burst of 5, then 429.
    let app = Ops::new(config()).await;
    for _ in 0..5 {
        app.auth_attempt(IP_A)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    assert_rate_limited(&app.auth_attempt(IP_A).await);

    // Switched off: no 429, however many.
    let app = Ops::new(config().with_rate_limits(RateLimits::disabled())).await;
    for _ in 0..30 {
        app.auth_attempt(IP_A)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // A bigger burst is honoured.
    let app = Ops::new(config().with_rate_limits(RateLimits::default().with_auth(Quota::new(1, 12)))).await;
    for _ in 0..12 {
        app.auth_attempt(IP_A)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    assert_rate_limited(&app.auth_attempt(IP_A).await);
}

#[tokio::test]
async fn metrics_list_requests_by_route_template_and_the_domain_counters() {
    let app = Ops::new(config().with_rate_limits(test_rate_limits())).await;
    let person = app.world.person(Role::Entrepreneur, "metrics").await;
    app.login(person.email(), PASSWORD, IP_A).await.ok(StatusCode::OK);
    app.login(person.email(), "not the password", IP_A)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let token = app.token(Role::Entrepreneur, "reader").await;
    let missing = "/api/v2/programs/0190d5c8-0000-7000-8000-000000000000";
    app.get(missing, Some(&token), IP_A)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    app.get("/no/such/route", None, IP_A).await;

    let metrics = app.get("/metrics", None, IP_A).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|v| v.starts_with("text/plain")),
        "{:?}",
        metrics.headers
    );
    let text = &metrics.raw;
    for line in [
        "http_requests_total{method=\"GET\",route=\"/api/v2/programs/{id}\",status=\"404\"}",
        "http_requests_total{method=\"POST\",route=\"/api/v2/auth/login\",status=\"200\"}",
        "http_requests_total{method=\"POST\",route=\"/api/v2/auth/login\",status=\"401\"}",
        "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}",
        "http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v2/auth/login\",le=\"",
        "http_request_duration_seconds_count{method=\"POST\",route=\"/api/v2/auth/login\"}",
        "logins_total{outcome=\"ok\"}",
        "logins_total{outcome=\"failed\"}",
        "store_operation_duration_seconds_bucket{operation=\"commit\",entity=\"unit_of_work\",le=\"",
        "store_operation_duration_seconds_bucket{operation=\"get\",entity=\"user\",le=\"",
        "# TYPE http_request_duration_seconds histogram",
        "# TYPE http_requests_total counter",
    ] {
        assert!(text.contains(line), "{line} is missing from:\n{text}");
    }
    assert!(!text.contains("0190d5c8"), "raw paths never become labels");
    assert!(!text.contains("no/such/route"), "raw paths never become labels");
    assert!(!text.contains("quantile="), "histograms, not summaries");
}

async fn preflight(app: &Ops, origin: &str) -> Reply {
    let request = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/v2/programs")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PATCH")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,if-match,x-request-id,content-type",
        )
        .body(Body::empty())
        .expect("request");
    app.request(request, IP_A).await
}

#[tokio::test]
async fn cors_answers_configured_origins_only() {
    let origin = "https://app.example.org";
    let app = Ops::new(
        config()
            .with_rate_limits(test_rate_limits())
            .with_cors_origins([origin, "https://admin.example.org"]),
    )
    .await;
    let reply = preflight(&app, origin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], origin);
    let allowed_headers = reply.headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    for name in ["authorization", "if-match", "x-request-id", "content-type"] {
        assert!(allowed_headers.contains(name), "{name} in {allowed_headers}");
    }
    let methods = reply.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(methods.contains("PATCH") && methods.contains("DELETE"), "{methods}");
    // A simple request exposes the headers a client reads.
    let simple = Request::get("/health")
        .header(header::ORIGIN, origin)
        .body(Body::empty())
        .expect("request");
    let reply = app.request(simple, IP_A).await;
    assert_eq!(reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], origin);
    let exposed = reply.headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    for name in ["x-request-id", "etag", "retry-after"] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }
    // An origin not on the list gets no grant.
    let reply = preflight(&app, "https://evil.example.com").await;
    assert!(!reply.headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));

    // Without configuration: no CORS headers at all.
    let app = Ops::new(config().with_rate_limits(test_rate_limits())).await;
    let reply = preflight(&app, origin).await;
    assert!(
        !reply.headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "{:?}",
        reply.headers
    );
    let reply = app.get("/health", None, IP_A).await;
    assert!(!reply.headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));

    // `*` only when given literally.
    let app = Ops::new(config().with_rate_limits(test_rate_limits()).with_cors_origins(["*"])).await;
    let reply = preflight(&app, "https://anyone.example.net").await;
    assert_eq!(reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
}

/// `REDIS_URL`, or `None` after a skip line; a missing Redis fails when services are required.
pub(crate) fn redis_url() -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if services_required() {
                panic!("REDIS_URL is not set, but CI/ICOSISTEM_REQUIRE_SERVICES requires Redis");
            }
            static SKIP: Once = Once::new();
            SKIP.call_once(|| {
                let _ =
                    std::io::Write::write_all(&mut std::io::stderr(), b"skipping Redis tests: REDIS_URL is not set\n");
            });
            None
        }
    }
}

/// A Redis limiter with keys of this test only.
async fn redis_limiter(url: &str) -> RedisRateLimiter {
    let prefix = format!("icosistem-test:{}:", uuid::Uuid::now_v7());
    RedisRateLimiter::connect(url, prefix)
        .await
        .expect("Redis of REDIS_URL answers")
}

fn with_redis(config: HttpConfig, limiter: RedisRateLimiter) -> HttpConfig {
    icosistem_server::with_redis(config, limiter)
}

#[tokio::test]
async fn replicas_on_one_redis_share_one_budget() {
    let Some(url) = redis_url() else { return };
    let limiter = redis_limiter(&url).await;
    let limits = test_rate_limits()
        .with_auth(Quota::new(1, 3))
        .with_api(Quota::new(1, 3));
    // Two replicas: separate states over separate stores, one Redis (and key prefix).
    let one = Ops::new(with_redis(config().with_rate_limits(limits), limiter.clone())).await;
    let two = Ops::new(with_redis(config().with_rate_limits(limits), limiter)).await;
    for _ in 0..3 {
        one.auth_attempt(IP_A)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let refused = two.auth_attempt(IP_A).await;
    assert_rate_limited(&refused);
    assert_eq!(refused.headers[header::RETRY_AFTER], "1");
    assert_rate_limited(&one.auth_attempt(IP_A).await);
    // Another IP is unaffected on both.
    two.auth_attempt(IP_B)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");

    // Readiness reports Redis, without its address.
    let ready = one.get("/health/ready", None, IP_A).await;
    assert_eq!(ready.ok(StatusCode::OK), &json!({ "status": "ready" }));
    let detailed = one.get("/health/detailed", None, IP_A).await;
    let body = detailed.ok(StatusCode::OK);
    assert_eq!(body["checks"]["redis"]["status"], "up", "{body}");
    assert!(body["checks"]["redis"]["latency_ms"].is_number(), "{body}");
    assert_eq!(body["checks"]["store"]["status"], "up", "{body}");
    assert!(
        !detailed.raw.contains("6379") && !detailed.raw.contains("127.0.0.1"),
        "{}",
        detailed.raw
    );
}

#[tokio::test]
async fn the_api_budget_of_a_user_is_shared_through_redis() {
    let Some(url) = redis_url() else { return };
    let limiter = redis_limiter(&url).await;
    let limits = test_rate_limits().with_api(Quota::new(1, 2));
    let one = Ops::new(with_redis(config().with_rate_limits(limits), limiter.clone())).await;
    let two = Ops::new(with_redis(config().with_rate_limits(limits), limiter)).await;
    let token = one.token(Role::Entrepreneur, "shared").await;
    for _ in 0..2 {
        one.get("/api/v2/users/me", Some(&token), IP_A).await.ok(StatusCode::OK);
    }
    // The token is valid on the second replica too (same secret); its budget is spent there.
    assert_rate_limited(&two.get("/api/v2/users/me", Some(&token), IP_B).await);
}

#[tokio::test]
async fn an_unreachable_redis_fails_open_and_readiness_says_so() {
    // Nothing listens on port 1: every check fails at once.
    let limiter = RedisRateLimiter::connect_lazy("redis://127.0.0.1:1", "icosistem-test:down:").expect("a valid URL");
    let limits = test_rate_limits().with_auth(Quota::new(1, 1));
    let app = Ops::new(with_redis(config().with_rate_limits(limits), limiter)).await;
    for _ in 0..3 {
        app.auth_attempt(IP_A)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let ready = app.get("/health/ready", None, IP_A).await;
    let body = ready.ok(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["redis"]["status"], "down", "{body}");
    assert_eq!(body["checks"]["store"]["status"], "up", "{body}");
    assert!(!ready.raw.contains("127.0.0.1"), "{}", ready.raw);
    let detailed = app.get("/health/detailed", None, IP_A).await;
    assert_eq!(
        detailed.ok(StatusCode::SERVICE_UNAVAILABLE)["checks"]["redis"]["status"],
        "down"
    );
    let metrics = app.get("/metrics", None, IP_A).await;
    assert!(
        metrics.raw.contains("rate_limiter_errors_total{backend=\"redis\"}"),
        "{}",
        metrics.raw
    );
}

#[tokio::test]
async fn the_server_limits_by_the_peer_address_over_a_socket() {
    let eco = icosistem_core::Ecosystem::new(
        MemoryStore::new(),
        icosistem_server::LogNotifier,
        icosistem_core::ports::SystemClock,
    );
    let limits = test_rate_limits().with_auth(Quota::new(1, 2));
    let state = AppState::new(Arc::new(eco), config().with_rate_limits(limits)).expect("valid HTTP config");
    // The same state (and so the same in-process limiter) in-process, without connect info.
    let in_process = router(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("bound");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(icosistem_server::run_server(listener, state, async {
        let _ = stopped.await;
    }));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<hyper::body::Bytes>>();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let request = hyper::Request::post(format!("http://{addr}/api/v2/auth/refresh"))
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(hyper::body::Bytes::from(
                json!({ "refresh_token": "unknown" }).to_string(),
            )))
            .expect("request");
        let response = client.request(request).await.expect("answers");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 429]);
    // The socket's requests were counted against their peer address (127.0.0.1), not the
    // shared bucket of requests without one, which is still full.
    let request = Request::post("/api/v2/auth/refresh")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "refresh_token": "unknown" }).to_string()))
        .expect("request");
    let response = in_process.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    stop.send(()).expect("running");
    task.await.expect("no panic").expect("clean stop");
}

#[tokio::test]
async fn the_openapi_document_shows_metrics_and_the_429s() {
    let app = Ops::new(config().with_rate_limits(test_rate_limits())).await;
    let doc = app.get("/api-docs/openapi.json", None, IP_A).await;
    let paths = &doc.ok(StatusCode::OK)["paths"];
    assert!(paths["/metrics"]["get"].is_object(), "{paths}");
    let limited = &paths["/api/v2/auth/login"]["post"]["responses"]["429"];
    assert!(limited["headers"]["Retry-After"].is_object(), "{limited}");
    assert!(limited["content"]["application/problem+json"].is_object(), "{limited}");
    assert!(paths["/api/v2/users/me"]["get"]["responses"]["429"].is_object());
    for unlimited in ["/health", "/health/ready", "/api/v2/health", "/metrics"] {
        assert!(
            paths[unlimited]["get"]["responses"]["429"].is_null(),
            "{unlimited} is never limited"
        );
    }
}

#[tokio::test]
async fn outbox_delivery_counts_notifications() {
    let app = Ops::new(config().with_rate_limits(test_rate_limits())).await;
    let register = Request::post("/api/v2/auth/register")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({
                "email": "outbox.metrics@example.test",
                "password": PASSWORD,
                "first_name": "Olga",
                "last_name": "Bux",
                "role": "entrepreneur",
            })
            .to_string(),
        ))
        .expect("request");
    app.request(register, IP_A).await.ok(StatusCode::CREATED);
    // The verification email waits in the outbox; the server's delivery pass sends it.
    icosistem_server::deliver(&app.world.eco).await;
    let metrics = app.get("/metrics", None, IP_A).await;
    let delivered = metrics
        .raw
        .lines()
        .find_map(|line| line.strip_prefix("notifications_delivered_total "))
        .and_then(|value| value.trim().parse::<f64>().ok());
    assert!(delivered.is_some_and(|n| n >= 1.0), "{}", metrics.raw);
}
