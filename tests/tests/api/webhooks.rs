//! Webhooks end to end (docs/domain.md §8): endpoints managed over the API, events delivered by the
//! outbox worker to a local receiver (axum on 127.0.0.1, port 0) that checks the Standard
//! Webhooks signature twice — with the documented algorithm written out here, and with the
//! `standardwebhooks` reference library from PyPI — and sees retries after 500s, no delivery to
//! a private address without the opt-in, and an endpoint disabled after its failure window.
//!
//! The app is the in-process router over the memory store whose notifier is the server's
//! webhook notifier ([`WithWebhooks`]) around the recording one; time is the world's
//! [`ManualClock`](icosistem_core::ports::ManualClock), set to the wall clock where the
//! reference library checks the timestamp's freshness.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::RecordingNotifier;
use icosistem_core::testing::fixtures::{Cohort, Person, ProgramSpec, World};
use icosistem_delivery::{WebhookConfig, WebhookNotifier, WithWebhooks};
use icosistem_http::{AppState, HttpConfig, router};
use icosistem_store_memory::MemoryStore;
use serde_json::{Value, json};
use sha2::Sha256;
use tower::ServiceExt;

use crate::common::{SECRET, access_token, assert_envelope, test_rate_limits};

type Hooked = WithWebhooks<Arc<RecordingNotifier>>;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

/// A webhook receiver on 127.0.0.1: answers each request with the next planned status (204
/// once the plan is used up) and keeps what it got.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    plan: Arc<Mutex<VecDeque<u16>>>,
    always: Arc<Mutex<Option<u16>>>,
}

impl Receiver {
    /// Starts it; answers its base URL.
    async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let me = me.clone();
                async move {
                    me.got.lock().unwrap().push(Received {
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    let planned = me.plan.lock().unwrap().pop_front();
                    let code = planned.or(*me.always.lock().unwrap()).unwrap_or(204);
                    StatusCode::from_u16(code).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://127.0.0.1:{}", addr.port())
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

struct HookApp {
    world: World<MemoryStore, Hooked>,
    router: axum::Router,
}

impl HookApp {
    async fn new(allow_private: bool) -> Self {
        let webhooks = WebhookNotifier::new(&WebhookConfig {
            timeout: StdDuration::from_secs(5),
            allow_private,
        })
        .expect("client");
        let notifier = WithWebhooks::new(Arc::new(RecordingNotifier::new()), webhooks);
        let world = World::with_notifier(MemoryStore::new(), notifier).await;
        // The reference library refuses timestamps more than five minutes from its own clock.
        world
            .clock
            .set(chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6));
        let config = HttpConfig::new(SecretString::new(SECRET)).with_rate_limits(test_rate_limits());
        let router = router(AppState::new(Arc::clone(&world.eco), config).expect("valid HTTP config"));
        Self { world, router }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        person: &Person,
    ) -> (StatusCode, Value, String) {
        let mut builder = Request::builder().method(method).uri(path).header(
            header::AUTHORIZATION,
            format!("Bearer {}", access_token(person, self.world.now())),
        );
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => {
                builder = builder.header(header::CONTENT_LENGTH, "0");
                builder.body(Body::empty())
            }
        };
        let response = self
            .router
            .clone()
            .oneshot(request.expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        assert_envelope(status, &headers, &raw);
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), raw)
    }

    /// Creates an endpoint as the cohort's owner; answers its id and secret.
    async fn endpoint(&self, cohort: &Cohort, url: &str, events: &[&str]) -> (String, String) {
        let (status, body, raw) = self
            .send(
                Method::POST,
                &format!("/api/v2/organizations/{}/webhooks", cohort.org.id),
                Some(json!({ "url": url, "events": events, "description": "CRM" })),
                &cohort.owner,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{raw}");
        let secret = body["secret"].as_str().expect("the secret, once").to_owned();
        (body["id"].as_str().expect("id").to_owned(), secret)
    }

    async fn deliver(&self) {
        self.world.eco.deliver_outbox(100).await.expect("deliver");
    }
}

/// The documented algorithm, written out: the key is the base64 after `whsec_`; the signed
/// content is `"{webhook-id}.{webhook-timestamp}.{body}"`; the header holds space-separated
/// `v1,<base64 HMAC-SHA256>` signatures, any one of which may match.
fn verifies(secret: &str, got: &Received) -> bool {
    let header = |name: &str| got.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("prefix"))
        .expect("base64 key");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{}.{}.{}", header("webhook-id"), header("webhook-timestamp"), got.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    header("webhook-signature").split(' ').any(|s| s == expected)
}

/// Whether the `standardwebhooks` reference library (PyPI) accepts what the receiver got.
/// `None` when the library is missing and the services are not required (the test then says
/// so and skips this check); with `ICOSISTEM_REQUIRE_SERVICES=1` or `CI=true` a missing
/// library fails.
fn reference_library_verifies(secret: &str, got: &Received) -> Option<bool> {
    let present = std::process::Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        let required = std::env::var("ICOSISTEM_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
            || std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !required,
            "the standardwebhooks package is required (python3 -m pip install standardwebhooks)"
        );
        eprintln!("skipping the reference-library check: python3 -m pip install standardwebhooks");
        return None;
    }
    let headers: serde_json::Map<String, Value> = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .map(|name| {
            let value = got.headers.get(*name).and_then(|v| v.to_str().ok()).unwrap_or_default();
            ((*name).to_owned(), Value::from(value))
        })
        .collect();
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
case = json.load(sys.stdin)
try:
    Webhook(case["secret"]).verify(case["body"].encode(), case["headers"])
except WebhookVerificationError as e:
    print(e)
    sys.exit(1)
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let case = json!({ "secret": secret, "body": got.body, "headers": headers });
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), case.to_string().as_bytes()).expect("write");
    let output = child.wait_with_output().expect("python3 ran");
    if !output.status.success() {
        eprintln!("standardwebhooks refused: {}", String::from_utf8_lossy(&output.stdout));
    }
    Some(output.status.success())
}

/// An application submitted to the cohort's program becomes one signed `application.submitted`
/// delivery, retried after two 500s with the same id and body, verified by the documented
/// algorithm and the reference library; the delivery log shows attempts, response code and
/// latency but no secret; a rotated secret signs next to the old one during the overlap.
#[tokio::test]
async fn webhooks_are_signed_retried_and_logged() {
    let app = HookApp::new(true).await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let cohort = app
        .world
        .cohort(ProgramSpec {
            blind_review: true,
            ..ProgramSpec::default()
        })
        .await;
    let (id, secret) = app
        .endpoint(&cohort, &format!("{base}/hook"), &["application.submitted"])
        .await;
    let (status, body, raw) = app
        .send(Method::GET, &format!("/api/v2/webhooks/{id}"), None, &cohort.owner)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["events"], json!(["application.submitted"]));
    assert!(
        body.get("secret").is_none() && !raw.contains(&secret),
        "a read never shows the secret"
    );

    receiver.plan.lock().unwrap().extend([500, 500]);
    let person = app.world.entrepreneur().await;
    let applicant = app.world.submit(&cohort, &person).await;
    app.deliver().await;
    assert_eq!(receiver.got().len(), 1);
    // Retries come after outbox_retry_base × 2ⁿ moved by up to ±25 % of jitter (the default
    // `outbox_retry_jitter_percent`): waiting the delay + 25 % always reaches them.
    app.world.advance(Duration::seconds(75));
    app.deliver().await;
    assert_eq!(receiver.got().len(), 2, "retried after the first 500");
    app.world.advance(Duration::seconds(150));
    app.deliver().await;
    let got = receiver.got();
    assert_eq!(got.len(), 3, "retried after the second 500, then delivered");
    app.world.advance(Duration::minutes(10));
    app.deliver().await;
    assert_eq!(receiver.got().len(), 3, "a delivered event is not sent again");

    let first = &got[0];
    for again in &got[1..] {
        assert_eq!(
            again.headers["webhook-id"], first.headers["webhook-id"],
            "one id per event"
        );
        assert_eq!(again.body, first.body);
    }
    for request in &got {
        assert!(verifies(&secret, request), "documented algorithm: {request:?}");
        assert_eq!(request.headers[header::CONTENT_TYPE], "application/json");
    }
    if let Some(ok) = reference_library_verifies(&secret, &got[2]) {
        assert!(ok, "the reference library verifies the signature");
    }
    let event: Value = serde_json::from_str(&first.body).expect("JSON");
    assert_eq!(event["type"], "application.submitted");
    assert_eq!(event["data"]["id"], applicant.id().to_string());
    assert!(
        !first.body.contains(&person.id().to_string()),
        "blind review: no applicant"
    );

    let (status, log, raw) = app
        .send(
            Method::GET,
            &format!("/api/v2/webhooks/{id}/deliveries"),
            None,
            &cohort.owner,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{raw}");
    let items = log["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["event_type"], "application.submitted");
    assert_eq!(items[0]["status"], "sent");
    assert_eq!(items[0]["attempts"], 3);
    assert_eq!(items[0]["response_code"], 204);
    assert!(items[0]["latency_ms"].is_u64());
    assert!(
        !raw.contains(&secret) && !raw.contains("v1,"),
        "no secret, no signature: {raw}"
    );

    // Rotation: the old secret keeps signing next to the new one during the overlap window.
    // Back to the wall clock, which the reference library compares the timestamp with.
    app.world
        .clock
        .set(chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6));
    let (status, rotated, raw) = app
        .send(
            Method::POST,
            &format!("/api/v2/webhooks/{id}/rotate-secret"),
            None,
            &cohort.owner,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{raw}");
    let new_secret = rotated["secret"].as_str().expect("new secret").to_owned();
    assert_ne!(new_secret, secret);
    let (status, _, raw) = app
        .send(
            Method::POST,
            &format!("/api/v2/webhooks/{id}/test"),
            None,
            &cohort.owner,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{raw}");
    app.deliver().await;
    let test = receiver.got().pop().expect("the test event");
    assert_eq!(
        serde_json::from_str::<Value>(&test.body).expect("JSON")["type"],
        "webhook.test"
    );
    assert!(verifies(&secret, &test) && verifies(&new_secret, &test));
    if let Some(ok) = reference_library_verifies(&new_secret, &test) {
        assert!(ok, "the reference library verifies with the new secret");
    }
}

/// Without `ICOSISTEM_WEBHOOK_ALLOW_PRIVATE`, a loopback target receives nothing: an IP literal
/// fails at once, a name resolving to loopback only is refused by the resolver (and retried).
#[tokio::test]
async fn private_targets_receive_nothing_without_the_opt_in() {
    let app = HookApp::new(false).await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let port = base.rsplit(':').next().expect("port").to_owned();
    let cohort = app.world.cohort(ProgramSpec::default()).await;
    let (literal, _) = app
        .endpoint(&cohort, &format!("{base}/hook"), &["application.submitted"])
        .await;
    let (named, _) = app
        .endpoint(
            &cohort,
            &format!("http://localhost:{port}/hook"),
            &["application.submitted"],
        )
        .await;
    let person = app.world.entrepreneur().await;
    app.world.submit(&cohort, &person).await;
    app.deliver().await;
    assert!(receiver.got().is_empty(), "nothing reached the private address");

    let log = |id: String| {
        let app = &app;
        let owner = &cohort.owner;
        async move {
            let (status, log, raw) = app
                .send(Method::GET, &format!("/api/v2/webhooks/{id}/deliveries"), None, owner)
                .await;
            assert_eq!(status, StatusCode::OK, "{raw}");
            log["items"][0].clone()
        }
    };
    let item = log(literal).await;
    assert_eq!(item["status"], "failed", "{item}");
    assert!(
        item["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("private address"))
    );
    assert_eq!(item["response_code"], Value::Null);
    let item = log(named).await;
    assert_eq!(item["status"], "pending", "{item}");
    assert_eq!(item["attempts"], 1);
    assert_eq!(item["response_code"], Value::Null);
}

/// An endpoint answering 500 for `webhook_disable_after_hours` is disabled, its owner is told,
/// and it receives nothing more until re-enabled.
#[tokio::test]
async fn an_endpoint_failing_for_its_window_is_disabled() {
    let app = HookApp::new(true).await;
    let receiver = Receiver::default();
    *receiver.always.lock().unwrap() = Some(500);
    let base = receiver.start().await;
    let cohort = app.world.cohort(ProgramSpec::default()).await;
    let (id, _) = app
        .endpoint(&cohort, &format!("{base}/hook"), &["application.submitted"])
        .await;
    let hours = i64::from(app.world.eco.limits().webhook_disable_after_hours);
    let path = format!("/api/v2/webhooks/{id}/test");
    let test = async |app: &HookApp| app.send(Method::POST, &path, None, &cohort.owner).await.0;

    assert_eq!(test(&app).await, StatusCode::ACCEPTED);
    app.deliver().await;
    assert_eq!(receiver.got().len(), 1);
    app.world.advance(Duration::hours(hours) - Duration::minutes(1));
    app.deliver().await;
    let (_, hook, _) = app
        .send(Method::GET, &format!("/api/v2/webhooks/{id}"), None, &cohort.owner)
        .await;
    assert_eq!(hook["active"], true, "not before the window ends");

    app.world.advance(Duration::minutes(1));
    assert_eq!(test(&app).await, StatusCode::ACCEPTED);
    app.deliver().await;
    let (_, hook, _) = app
        .send(Method::GET, &format!("/api/v2/webhooks/{id}"), None, &cohort.owner)
        .await;
    assert_eq!(hook["active"], false, "{hook}");
    assert!(hook["disabled_reason"].as_str().is_some());
    let (_, notices, _) = app
        .send(Method::GET, "/api/v2/notifications", None, &cohort.owner)
        .await;
    assert!(
        notices["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|n| n["kind"] == "webhook_disabled"),
        "{notices}"
    );

    let seen = receiver.got().len();
    assert_eq!(
        test(&app).await,
        StatusCode::CONFLICT,
        "a disabled endpoint takes no test"
    );
    app.world.advance(Duration::days(2));
    app.deliver().await;
    assert_eq!(receiver.got().len(), seen, "nothing more reaches a disabled endpoint");

    *receiver.always.lock().unwrap() = None;
    let (status, hook, raw) = app
        .send(
            Method::PATCH,
            &format!("/api/v2/webhooks/{id}"),
            Some(json!({ "active": true })),
            &cohort.owner,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{raw}");
    assert_eq!(hook["failing_since"], Value::Null);
    assert_eq!(test(&app).await, StatusCode::ACCEPTED);
    app.deliver().await;
    assert_eq!(receiver.got().len(), seen + 1, "re-enabled, it receives again");
}

/// Bad input names every failing field.
#[tokio::test]
async fn bad_endpoints_are_refused_field_by_field() {
    let app = HookApp::new(true).await;
    let cohort = app.world.cohort(ProgramSpec::default()).await;
    let (status, body, raw) = app
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{}/webhooks", cohort.org.id),
            Some(json!({ "url": "ftp://example.org/x", "events": ["nope"], "description": "x".repeat(501) })),
            &cohort.owner,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{raw}");
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["description", "events", "url"]);
    let (status, body, _) = app
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{}/webhooks", cohort.org.id),
            Some(json!({})),
            &cohort.owner,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2), "{body}");
}
