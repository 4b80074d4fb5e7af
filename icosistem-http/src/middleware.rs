//! The response pipeline every request goes through: request id, response time, security
//! headers, and the guarantee that every error answer is a problem+json body carrying the
//! request id (also for errors produced outside the handlers: unknown routes, wrong methods,
//! the body limit, the timeout, a panic). Plus the route tag (the matched path template, for
//! metrics and logs) and the client address (connect info, or `X-Forwarded-For` when trusted).
//!
//! Each request runs in a `request` span carrying `request_id`, `method`, `path`, and — once
//! answered — `route`, `status` and `latency_ms`; the `request served` event is logged inside it.
//! The span continues the caller's trace when the request carries a W3C `traceparent` (see
//! [`telemetry`](crate::telemetry)).
//! `Authorization`, `Cookie` and `Set-Cookie` are marked sensitive (tower-http), so no layer that
//! logs headers prints them.

use std::any::Any;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, PROBLEM_JSON, Problem};

/// The request-id header.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The response-time header (`12.345ms`).
pub const X_RESPONSE_TIME: HeaderName = HeaderName::from_static("x-response-time");

/// The id of the request being served (in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The client's address, when the server was started with connect info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub Option<String>);

/// The matched route's path template (`/api/v2/programs/{id}`), left in the response's
/// extensions by the `tag_route` route layer for the outer layers (metrics, the request span).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTemplate(pub String);

/// A route layer: tags the response with the route's template.
pub(crate) async fn tag_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteTemplate(route));
    }
    response
}

/// Whether to take the client address from `X-Forwarded-For` (behind a trusted proxy only:
/// anyone can send the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrustForwardedFor(pub(crate) bool);

/// The client's address: with a trusted proxy, the *last* address of `X-Forwarded-For` — the one
/// the proxy in front of us appended (earlier entries are whatever the client claimed) —
/// otherwise the peer of the connection (`ConnectInfo`), when the server was started with it.
fn client_ip(request: &Request, trust_forwarded_for: bool) -> Option<String> {
    if trust_forwarded_for {
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
            .and_then(|v| v.parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return Some(ip.to_string());
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// A client's request id is kept when it is short and made of safe characters (it ends up in
/// logs and audit rows); anything else is replaced.
fn valid_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Paths whose answers are personal or carry credentials: never cached.
fn is_sensitive(path: &str) -> bool {
    path.starts_with("/api/v2/auth")
        || path.starts_with("/api/v2/users")
        || path.starts_with("/api/v2/admin")
        || path.starts_with(CALENDAR_FEEDS)
}

/// Where calendar feeds live: their path holds the feed's only credential.
const CALENDAR_FEEDS: &str = "/api/v2/calendar/";

/// The path as logged: a calendar feed's token (the credential in its URL) never reaches a log
/// line or a trace.
fn loggable_path(path: &str) -> String {
    if path.starts_with(CALENDAR_FEEDS) {
        format!("{CALENDAR_FEEDS}[redacted]")
    } else {
        path.to_owned()
    }
}

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The outermost layer: assigns the request id, times the request, adds the security headers
/// and turns any error answer that is not yet a problem into one, stamping the request id in.
pub(crate) async fn finish(
    State(TrustForwardedFor(trust_forwarded_for)): State<TrustForwardedFor>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let ip = client_ip(&request, trust_forwarded_for);
    let path = request.uri().path().to_owned();
    request.extensions_mut().insert(RequestId(request_id.clone()));
    request.extensions_mut().insert(ClientIp(ip));

    // The `otel.*` fields are read by an OpenTelemetry layer, when one is installed (see
    // `telemetry`): a server span named `METHOD` and, once routed, `METHOD /route/{template}`;
    // an error status on 5xx.
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %loggable_path(&path),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
        otel.name = %request.method(),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
    );
    crate::telemetry::accept_parent(&span, request.headers());
    let method = request.method().clone();
    let response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    let mut response = problem_body(response, &request_id);

    let elapsed = started.elapsed();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(X_REQUEST_ID, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("{:.3}ms", elapsed.as_secs_f64() * 1000.0)) {
        headers.insert(X_RESPONSE_TIME, value);
    }
    security_headers(headers, &path);
    let status = response.status().as_u16();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if let Some(RouteTemplate(route)) = response.extensions().get::<RouteTemplate>() {
        span.record("route", route.as_str());
        crate::telemetry::rename(&span, || format!("{method} {route}"));
    }
    // As i64: an OpenTelemetry layer exports a u64 as a string.
    span.record("status", i64::from(status));
    if response.status().is_server_error() {
        span.record("otel.status_code", "error");
    }
    span.record("latency_ms", latency_ms);
    span.in_scope(|| tracing::info!(status, latency_ms, "request served"));
    response
}

fn security_headers(headers: &mut HeaderMap, path: &str) {
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=63072000; includeSubDomains"),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    let csp = if path.starts_with("/docs") { DOCS_CSP } else { API_CSP };
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    if is_sensitive(path) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
}

/// Rewrites an error answer into a problem with the request id: a handler's [`ApiError`] left
/// its [`Problem`] in the extensions; errors from axum or tower (404, 405, 408, 413 …) get the
/// problem of their status.
fn problem_body(response: Response, request_id: &str) -> Response {
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let mut problem = match parts.extensions.remove::<Problem>() {
        Some(problem) => problem,
        None => {
            // A problem already, or a JSON body a handler answered on purpose (the readiness
            // probes' 503 `{"status":"unavailable","checks":…}` of the HTTP contract).
            let keep = parts.headers.get(header::CONTENT_TYPE).is_some_and(|v| {
                v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()) || v.as_bytes().starts_with(b"application/json")
            });
            if keep {
                return Response::from_parts(parts, body);
            }
            status_problem(status).problem()
        }
    };
    problem.request_id = Some(request_id.to_owned());
    let bytes = serde_json::to_vec(&problem).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

/// The problem of an error status produced outside the handlers.
fn status_problem(status: StatusCode) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::new(status, "not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::new(status, "method_not_allowed", "the route does not accept this method")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::new(status, "unsupported_media_type", "send the body as application/json")
        }
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            ApiError::new(status, "timeout", "the request took too long")
        }
        s if s.is_server_error() => ApiError::internal(),
        s => ApiError::new(s, "bad_request", "the request was refused"),
    }
}

/// The router's fallback: a path no route matches. The same problem [`status_problem`] gives a
/// bare 404, answered by the router itself so a host's `Router::nest` sends unknown paths under
/// its prefix here, through this router's layers (request id, security headers).
pub(crate) async fn not_found() -> ApiError {
    status_problem(StatusCode::NOT_FOUND)
}

/// What [`tower_http::catch_panic::CatchPanicLayer`] answers: a 500 problem; the panic message
/// goes to the log only.
pub(crate) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = %message, "handler panicked");
    ApiError::internal().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_answers_a_500_problem_without_its_message() {
        let response = panic_response(Box::new("secret internals: db at 10.0.0.7"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        let problem = response.extensions().get::<Problem>().expect("problem").clone();
        assert_eq!(problem.code, "internal");
        assert!(!problem.detail.contains("10.0.0.7"));
        let finished = problem_body(response, "req-1");
        let problem = finished.extensions().get::<Problem>();
        assert!(problem.is_none(), "the problem was rendered into the body");
    }

    #[test]
    fn the_client_ip_comes_from_a_trusted_proxy_only() {
        let mut request = Request::builder()
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
            .body(Body::empty())
            .expect("request");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 2], 4000))));
        assert_eq!(client_ip(&request, false).as_deref(), Some("10.0.0.2"));
        // The proxy appended the real peer last; the first entry is the client's own claim.
        assert_eq!(client_ip(&request, true).as_deref(), Some("203.0.113.7"));
        let garbage = Request::builder()
            .header("x-forwarded-for", "not-an-ip")
            .body(Body::empty())
            .expect("request");
        assert_eq!(client_ip(&garbage, true), None);
    }

    #[test]
    fn request_ids_are_kept_only_when_safe() {
        assert!(valid_request_id("3f1c-ab_12.x:y"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a b"));
        assert!(!valid_request_id(&"a".repeat(129)));
    }
}

/// The request body limits: JSON bodies and uploads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    /// Every route but uploads.
    pub(crate) json: usize,
    /// `POST` to an upload route (`routes::documents::is_upload_path`).
    pub(crate) upload: usize,
}

/// Bounds every request body: a declared `Content-Length` over the limit is refused at once
/// (413), and the body is cut off where it passes the limit (the reader gets an error, so a
/// streamed upload stops and stores nothing). Uploads get their own, larger limit; the JSON
/// limit stays for everything else.
pub(crate) async fn limit_body(State(limits): State<BodyLimits>, request: Request, next: Next) -> Response {
    let upload =
        request.method() == axum::http::Method::POST && crate::routes::documents::is_upload_path(request.uri().path());
    let limit = if upload { limits.upload } else { limits.json };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return ApiError::payload_too_large().into_response();
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}
