//! The coordinator dashboard over a real socket: the server started in-process on port 0 with
//! the memory store and the demo data, its page and assets fetched with hyper's client (content
//! types, the dashboard's own Content-Security-Policy, caching), and the demo coordinator's
//! figures read through the API the page draws from. The page itself is driven in a browser by
//! `scripts/dashboard-check.sh`.

use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{self, HeaderMap};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use icosistem_core::Ecosystem;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Argon2idPasswordHasher, SystemClock};
use icosistem_http::{AppState, HttpConfig};
use icosistem_server::{Config, LogNotifier, ServerNotifier, dashboard, demo, run_server};
use icosistem_store_memory::MemoryStore;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Server {
    base: String,
    http: HttpClient,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start() -> Server {
    let cfg = Config::from_lookup(|_| None).expect("the defaults are valid");
    let eco = Ecosystem::new(MemoryStore::new(), ServerNotifier::from(LogNotifier), SystemClock)
        .with_limits(cfg.limits())
        // The demo's logins hash with OWASP's parameters otherwise: seconds in a debug build.
        .with_hasher(Argon2idPasswordHasher::fast_for_tests());
    demo::seed(&eco).await.expect("the demo data seeds");
    let state = AppState::new(
        Arc::new(eco),
        HttpConfig::new(SecretString::new(icosistem_server::generate_secret())),
    )
    .expect("valid HTTP config");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("port 0 binds");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(run_server(listener, state, async {
        let _ = stopped.await;
    }));
    Server {
        base,
        http: Client::builder(TokioExecutor::new()).build_http(),
        stop: Some(stop),
    }
}

impl Server {
    async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut req = Request::builder().method(method).uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                req = req.header("content-type", "application/json");
                Full::new(Bytes::from(json.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let res = self
            .http
            .request(req.body(body).expect("a valid request"))
            .await
            .expect("the server answers");
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.expect("a body").to_bytes();
        (parts.status, parts.headers, bytes)
    }

    async fn json(&self, path: &str, token: &str) -> Value {
        let auth = format!("Bearer {token}");
        let (status, _, body) = self.call(Method::GET, path, &[("authorization", &auth)], None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).expect("JSON")
    }
}

fn header(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .expect("ASCII")
}

#[tokio::test]
async fn the_page_and_its_assets_answer_with_their_types_and_the_dashboards_csp() {
    let server = start().await;
    let assets = [
        ("/dashboard", "text/html; charset=utf-8", "no-cache", "<!doctype html>"),
        (
            "/dashboard/dashboard.js",
            "text/javascript; charset=utf-8",
            "no-cache",
            "// The coordinator dashboard",
        ),
        (
            "/dashboard/dashboard.css",
            "text/css; charset=utf-8",
            "no-cache",
            "/* The coordinator dashboard",
        ),
        (
            dashboard::CHART_JS_PATH,
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
            "/*!\n * Chart.js v4.6.2",
        ),
    ];
    for (path, content_type, cache, start) in assets {
        let (status, headers, body) = server.call(Method::GET, path, &[], None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header(&headers, header::CONTENT_TYPE), content_type, "{path}");
        assert_eq!(
            header(&headers, header::CONTENT_SECURITY_POLICY),
            dashboard::CSP,
            "{path}"
        );
        assert_eq!(header(&headers, header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        assert_eq!(header(&headers, header::X_FRAME_OPTIONS), "DENY", "{path}");
        assert_eq!(header(&headers, header::CACHE_CONTROL), cache, "{path}");
        assert!(body.starts_with(start.as_bytes()), "{path}");

        // Revalidation: the same tag answers 304 without a body, keeping the policy.
        let etag = header(&headers, header::ETAG).to_owned();
        let (status, again, body) = server.call(Method::GET, path, &[("if-none-match", &etag)], None).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(body.is_empty());
        assert_eq!(header(&again, header::ETAG), etag);
        assert_eq!(header(&again, header::CONTENT_SECURITY_POLICY), dashboard::CSP);

        let (status, head, body) = server.call(Method::HEAD, path, &[], None).await;
        assert_eq!(status, StatusCode::OK, "HEAD {path}");
        assert!(body.is_empty());
        assert_eq!(header(&head, header::CONTENT_TYPE), content_type);
    }

    // The policy is strict: only this origin, nothing inline.
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(dashboard::CSP.contains(directive), "{directive}");
    }
    assert!(!dashboard::CSP.contains("unsafe-inline") && !dashboard::CSP.contains("unsafe-eval"));

    // The trailing slash has one canonical page.
    let (status, headers, _) = server.call(Method::GET, "/dashboard/", &[], None).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(header(&headers, header::LOCATION), "/dashboard");
    let (status, _, _) = server.call(Method::GET, "/dashboard/missing.js", &[], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = server.call(Method::POST, "/dashboard", &[], None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    // The API keeps its own, stricter policy.
    let (status, headers, _) = server.call(Method::GET, "/health", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, header::CONTENT_SECURITY_POLICY).starts_with("default-src 'none'"));
}

#[tokio::test]
async fn the_demo_coordinator_sees_the_demo_programs_figures_and_exports() {
    let server = start().await;
    let (status, _, body) = server
        .call(
            Method::POST,
            "/api/v2/auth/login",
            &[],
            Some(json!({ "email": demo::COORDINATOR_EMAIL, "password": demo::DEMO_PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let login: Value = serde_json::from_slice(&body).expect("JSON");
    let token = login["access_token"].as_str().expect("a token");
    // The page picks its labels from the user's language.
    assert!(login["user"]["language"].is_string());

    let programs = server.json("/api/v2/programs?limit=100", token).await;
    let program = &programs["items"][0];
    let id = program["id"].as_str().expect("an id");
    let figures = server.json(&format!("/api/v2/programs/{id}/analytics"), token).await;
    let funnel: Vec<(&str, u64)> = figures["applications"]["funnel"]
        .as_array()
        .expect("the funnel")
        .iter()
        .map(|row| {
            (
                row["status"].as_str().unwrap_or_default(),
                row["count"].as_u64().unwrap_or_default(),
            )
        })
        .filter(|(_, count)| *count > 0)
        .collect();
    // One draft; the two submitted ones under the coordinator's review.
    assert_eq!(funnel, [("draft", 1), ("under_review", 2)]);
    let reviewers = figures["reviews"]["reviewers"].as_array().expect("reviewers");
    assert_eq!(reviewers.len(), 1);
    assert_eq!(reviewers[0]["reviewer_id"], login["user"]["id"]);
    assert_eq!(
        (reviewers[0]["done"].as_u64(), reviewers[0]["owed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(figures["reviews"]["scores"]["count"], 1);

    // The organization's mentoring (the coordinator is not an admin) and the CSV the page downloads.
    let org = program["organization_id"].as_str().expect("an organization");
    server
        .json(&format!("/api/v2/analytics/mentoring?organization_id={org}"), token)
        .await;
    let auth = format!("Bearer {token}");
    let (status, headers, csv) = server
        .call(
            Method::GET,
            &format!("/api/v2/programs/{id}/applications.csv"),
            &[("authorization", &auth)],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, header::CONTENT_TYPE).starts_with("text/csv"));
    let csv = String::from_utf8(csv.to_vec()).expect("UTF-8");
    assert!(
        csv.trim_start_matches('\u{feff}').starts_with("application_id,status,"),
        "{csv}"
    );
    // Two submitted applications; the coordinator's staff view does not list drafts.
    assert!(csv.lines().count() >= 3, "{csv}");
}
