//! OpenTelemetry traces end to end: the server's trace pipeline (`icosistem_server::telemetry`,
//! as `serve` starts it from `OTEL_EXPORTER_OTLP_ENDPOINT`) exports to an OTLP/HTTP receiver
//! stand-in — an axum route on 127.0.0.1 decoding `POST /v1/traces` protobuf bodies — and a
//! request to a server on PostgreSQL arrives there as a server span with its route and status,
//! in the trace of the caller's `traceparent`, with the store operations as its descendants.
//!
//! A binary of its own: the OpenTelemetry layer goes into the process-wide subscriber, which
//! no other test should share.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use icosistem_core::Ecosystem;
use icosistem_core::ports::{Argon2idPasswordHasher, SystemClock};
use icosistem_http::AppState;
use icosistem_server::telemetry::{DEFAULT_SERVICE_NAME, Telemetry, TelemetryConfig};
use icosistem_server::{Config, LogNotifier, run_server};
use icosistem_store_postgres::testing::TestStore;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// What the receiver got: every span with its resource's `service.name`.
type Received = Arc<Mutex<Vec<(String, Span)>>>;

/// `POST /v1/traces` of OTLP/HTTP: a protobuf `ExportTraceServiceRequest`, answered with an
/// empty `ExportTraceServiceResponse`.
async fn receive(State(received): State<Received>, body: Bytes) -> impl IntoResponse {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export");
    let mut received = received.lock().expect("not poisoned");
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .as_ref()
            .and_then(|r| string(&r.attributes, "service.name"))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            received.extend(scope.spans.into_iter().map(|span| (service.clone(), span)));
        }
    }
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|AnyValue { value }| value.as_ref())
}

fn string(attributes: &[KeyValue], key: &str) -> Option<String> {
    match attribute(attributes, key) {
        Some(Value::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

fn int(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match attribute(attributes, key) {
        Some(Value::IntValue(i)) => Some(*i),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const CALLER_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN: &str = "b7ad6b7169203331";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_and_its_store_operations_reach_the_collector_in_the_callers_trace() {
    let Some(db) = TestStore::fresh().await else { return };

    // The collector stand-in.
    let received = Received::default();
    let collector = TcpListener::bind("127.0.0.1:0").await.expect("port 0 binds");
    let collector_addr = collector.local_addr().expect("bound");
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(receive))
        .with_state(Arc::clone(&received));
    tokio::spawn(async move { axum::serve(collector, app).await });

    // The pipeline, configured by the variable `serve` reads.
    let endpoint = format!("http://{collector_addr}");
    let config = TelemetryConfig::from_lookup(|name| (name == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| endpoint.clone()))
        .expect("valid")
        .expect("traces on");
    let telemetry = Telemetry::start(&config).expect("the exporter builds");
    tracing_subscriber::registry().with(telemetry.layer()).init();

    // The server on PostgreSQL.
    let cfg = Config::from_lookup(|_| None).expect("the defaults are valid");
    let eco = Ecosystem::new(db.store().clone(), LogNotifier, SystemClock)
        .with_limits(cfg.limits())
        .with_hasher(Argon2idPasswordHasher::fast_for_tests());
    let state = AppState::new(Arc::new(eco), icosistem_server::http_config(&cfg)).expect("valid HTTP config");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("port 0 binds");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(run_server(listener, state, async {
        let _ = stopped.await;
    }));

    // A caller in a trace of its own logs in with an unknown account: the lookup is a store
    // operation, the answer a 401.
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{base}/api/v2/auth/login"))
        .header("content-type", "application/json")
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .body(Full::new(Bytes::from(
            r#"{"email":"nobody@example.org","password":"not-the-password-1"}"#,
        )))
        .expect("a valid request");
    let response = client.request(request).await.expect("the server answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    drop(response);

    // The request span ends once its answer is sent; then flush, and wait for it to arrive.
    let deadline = Instant::now() + Duration::from_secs(15);
    let spans = loop {
        telemetry.flush().await.expect("the batch exports");
        let spans = received.lock().expect("not poisoned").clone();
        if spans
            .iter()
            .any(|(_, s)| string(&s.attributes, "route").as_deref() == Some("/api/v2/auth/login"))
            || Instant::now() > deadline
        {
            break spans;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let (service, request) = spans
        .iter()
        .find(|(_, s)| string(&s.attributes, "route").as_deref() == Some("/api/v2/auth/login"))
        .unwrap_or_else(|| panic!("no request span among {} received", spans.len()));
    assert_eq!(service, DEFAULT_SERVICE_NAME);
    assert_eq!(request.name, "POST /api/v2/auth/login");
    assert_eq!(request.kind, SpanKind::Server as i32);
    assert_eq!(string(&request.attributes, "method").as_deref(), Some("POST"));
    assert_eq!(
        int(&request.attributes, "status"),
        Some(401),
        "{:?}",
        request.attributes
    );
    assert_eq!(hex(&request.trace_id), CALLER_TRACE, "the caller's trace");
    assert_eq!(
        hex(&request.parent_span_id),
        CALLER_SPAN,
        "a child of the caller's span"
    );

    // Store operations under it: each a client span whose ancestry reaches the request span.
    let by_id: HashMap<&[u8], &Span> = spans.iter().map(|(_, s)| (s.span_id.as_slice(), s)).collect();
    let descends = |span: &Span| {
        let mut parent = span.parent_span_id.as_slice();
        while let Some(up) = by_id.get(parent) {
            if up.span_id == request.span_id {
                return true;
            }
            parent = up.parent_span_id.as_slice();
        }
        parent == request.span_id.as_slice()
    };
    let store: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| string(&s.attributes, "db.system.name").as_deref() == Some("postgresql"))
        .filter(|s| descends(s))
        .collect();
    assert!(
        !store.is_empty(),
        "no store span under the request; received: {:?}",
        spans.iter().map(|(_, s)| &s.name).collect::<Vec<_>>()
    );
    for span in &store {
        assert_eq!(hex(&span.trace_id), CALLER_TRACE);
        assert_eq!(span.kind, SpanKind::Client as i32);
        let operation = string(&span.attributes, "db.operation.name").expect("an operation");
        // `get users`, `list users` …; a unit of work's `commit` has no table.
        match string(&span.attributes, "db.collection.name") {
            Some(table) => assert_eq!(span.name, format!("{operation} {table}")),
            None => assert_eq!((operation.as_str(), span.name.as_str()), ("commit", "commit")),
        }
    }
    assert!(
        store
            .iter()
            .any(|s| string(&s.attributes, "db.collection.name").as_deref() == Some("users")),
        "the account lookup is among them: {:?}",
        store.iter().map(|s| &s.name).collect::<Vec<_>>()
    );

    let _ = stop.send(());
    server.await.expect("the server task").expect("served");
    telemetry.shutdown().await;
}
