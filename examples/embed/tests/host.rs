//! The embedding example as a host developer meets it, driven in process (tower's `oneshot`) on
//! the in-memory store: the host's protected route behind the ecosystem's login, the nested
//! ecosystem's 404s and docs under the prefix, `/metrics` off, and the background loop
//! delivering the outbox.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use icosistem_core::model::secret::SecretString;
use icosistem_example_embed::{Host, PREFIX, Schedule, app, host, spawn_background};
use icosistem_http::ConfigError;
use icosistem_runner::Shutdown;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "an embed test secret of at least thirty-two bytes";
const EMAIL: &str = "ana.host@example.test";
const PASSWORD: &str = "a long enough password 1";

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    raw: String,
    body: Value,
}

async fn send(app: &Router, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        raw,
        body,
    }
}

async fn get(app: &Router, path: &str, token: Option<&str>) -> Reply {
    send(app, Method::GET, path, token, None).await
}

async fn post(app: &Router, path: &str, body: Value) -> Reply {
    send(app, Method::POST, path, None, Some(body)).await
}

fn test_host() -> Host {
    host(SecretString::new(SECRET), "Hello").expect("a strong secret")
}

/// `relative` resolved against the absolute path `base` (only `../` and plain segments: what
/// the docs page uses), as a browser would.
fn resolve(base: &str, relative: &str) -> String {
    let mut segments: Vec<&str> = base.split('/').collect();
    // The last segment is the document itself (empty for a directory URL).
    segments.pop();
    let mut rest = relative;
    while let Some(after) = rest.strip_prefix("../") {
        segments.pop();
        rest = after;
    }
    let rest = rest.strip_prefix("./").unwrap_or(rest);
    format!("{}/{rest}", segments.join("/"))
}

/// Registers, reads the verification email the background loop delivered, verifies and logs in
/// through the nested API: the access token.
async fn sign_up(app: &Router, host: &Host) -> String {
    let registered = post(
        app,
        &format!("{PREFIX}/api/v2/auth/register"),
        json!({
            "email": EMAIL,
            "password": PASSWORD,
            "first_name": "Ana",
            "last_name": "Host",
            "role": "entrepreneur",
        }),
    )
    .await;
    assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.raw);

    // Nobody but the background loop delivers the outbox.
    let notifier = host.ecosystem.eco.notifier();
    let mut verification = None;
    for _ in 0..200 {
        verification = notifier
            .recent()
            .into_iter()
            .find(|m| m.kind == "email_verification" && m.recipient == EMAIL);
        if verification.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let verification = verification.expect("the background loop delivered the verification email");
    let token = verification.data["token"].as_str().expect("token").to_owned();

    let verified = post(
        app,
        &format!("{PREFIX}/api/v2/auth/verify-email"),
        json!({ "token": token }),
    )
    .await;
    assert_eq!(verified.status, StatusCode::NO_CONTENT, "{}", verified.raw);
    let login = post(
        app,
        &format!("{PREFIX}/api/v2/auth/login"),
        json!({ "email": EMAIL, "password": PASSWORD }),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.raw);
    login.body["access_token"].as_str().expect("access token").to_owned()
}

#[tokio::test]
async fn the_host_route_takes_the_ecosystem_login_and_the_background_loop_delivers() {
    let host = test_host();
    let app = app(host.clone());
    let shutdown = Shutdown::new();
    let schedule = Schedule {
        outbox: Duration::from_millis(20),
        jobs: Duration::from_millis(200),
    };
    let background = spawn_background(std::sync::Arc::clone(&host.ecosystem.eco), schedule, &shutdown);

    // Without a token the host's route answers the ecosystem's 401 problem.
    let anonymous = get(&app, "/hello", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.raw);
    assert_eq!(anonymous.body["code"], "unauthorized", "{}", anonymous.raw);
    assert!(
        anonymous.headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|v| v.starts_with("application/problem+json"))
    );
    let forged = get(&app, "/hello", Some("not.a.token")).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);

    let token = sign_up(&app, &host).await;

    let hello = get(&app, "/hello", Some(&token)).await;
    assert_eq!(hello.status, StatusCode::OK, "{}", hello.raw);
    assert_eq!(hello.body["greeting"], "Hello, Ana");
    assert_eq!(hello.body["role"], "entrepreneur");
    assert_eq!(hello.body["hellos"], 1);
    let again = get(&app, "/hello", Some(&token)).await;
    assert_eq!(again.body["hellos"], 2, "the host's own state is shared");

    // The optional extractor: anonymous is fine, a token names the caller.
    let home = get(&app, "/", None).await;
    assert!(home.raw.contains("not signed in"), "{}", home.raw);
    let home = get(&app, "/", Some(&token)).await;
    assert!(home.raw.contains(&format!("signed in as {EMAIL}")), "{}", home.raw);
    let home = get(&app, "/", Some("not.a.token")).await;
    assert_eq!(
        home.status,
        StatusCode::UNAUTHORIZED,
        "a refused token is not anonymous"
    );

    // The same token works on the nested API.
    let me = get(&app, &format!("{PREFIX}/api/v2/users/me"), Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.raw);
    assert_eq!(me.body["email"], EMAIL);

    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(10), background)
        .await
        .expect("the loop stops when told")
        .expect("the loop did not panic");
}

#[tokio::test]
async fn unknown_nested_paths_answer_the_ecosystem_problem_with_its_headers() {
    let app = app(test_host());
    let request = Request::get(format!("{PREFIX}/no/such/route"))
        .header("x-request-id", "embed-404-check")
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let headers = response.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(headers["x-request-id"], "embed-404-check");
    assert!(headers.contains_key("x-response-time"));
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert!(headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let problem: Value = serde_json::from_slice(&bytes).expect("problem body");
    assert_eq!(problem["status"], 404);
    assert_eq!(problem["code"], "not_found");
    assert_eq!(problem["request_id"], "embed-404-check");

    // A generated request id when the client sends none.
    let generated = get(&app, &format!("{PREFIX}/nope"), None).await;
    assert_eq!(generated.status, StatusCode::NOT_FOUND);
    let id = generated.headers["x-request-id"].to_str().expect("ascii");
    assert_eq!(generated.body["request_id"], id);

    // Outside the prefix the host's own (plain) 404 answers.
    let outside = get(&app, "/no/such/route", None).await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
    assert_eq!(outside.body, Value::Null);
    assert!(!outside.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn the_docs_work_under_the_prefix() {
    let app = app(test_host());

    let redirect = get(&app, &format!("{PREFIX}/docs"), None).await;
    assert!(redirect.status.is_redirection(), "{}", redirect.status);
    let location = redirect.headers[header::LOCATION].to_str().expect("location");
    let page_path = resolve(&format!("{PREFIX}/docs"), location);
    assert_eq!(page_path, format!("{PREFIX}/docs/"));

    let page = get(&app, &page_path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.raw.contains("swagger"), "{}", &page.raw[..page.raw.len().min(300)]);

    // The page's script names the document's URL; the browser resolves it against the page.
    let initializer = get(&app, &format!("{PREFIX}/docs/swagger-initializer.js"), None).await;
    assert_eq!(initializer.status, StatusCode::OK);
    let url = initializer
        .raw
        .split('"')
        .find(|s| s.ends_with("openapi.json"))
        .unwrap_or_else(|| panic!("no document URL in {}", initializer.raw));
    let document_path = resolve(&page_path, url);
    assert_eq!(document_path, format!("{PREFIX}/api-docs/openapi.json"));

    let document = get(&app, &document_path, None).await;
    assert_eq!(document.status, StatusCode::OK, "{}", document.raw);
    assert_eq!(document.body["servers"], json!([{ "url": PREFIX }]));
    let paths = document.body["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/api/v2/auth/login"));
    assert!(!paths.contains_key("/metrics"), "an unmounted path is not documented");
}

#[tokio::test]
async fn metrics_are_off() {
    let app = app(test_host());
    let nested = get(&app, &format!("{PREFIX}/metrics"), None).await;
    assert_eq!(nested.status, StatusCode::NOT_FOUND);
    assert_eq!(nested.body["code"], "not_found");
    let root = get(&app, "/metrics", None).await;
    assert_eq!(root.status, StatusCode::NOT_FOUND);
    // And the probes stay.
    let health = get(&app, &format!("{PREFIX}/health"), None).await;
    assert_eq!(health.status, StatusCode::OK);
}

#[test]
fn a_weak_secret_is_refused() {
    let refused = host(SecretString::new("short"), "Hello").err();
    assert_eq!(refused, Some(ConfigError::WeakJwtSecret { bytes: 5, min: 32 }));
}
