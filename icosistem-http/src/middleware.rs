//! The response pipeline every request goes through: request id, response time, security
//! headers, and the guarantee that every error answer is a problem+json body carrying the
//! request id (also for errors produced outside the handlers: unknown routes, wrong methods,
//! the body limit, the timeout, a panic).

use std::any::Any;
use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
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
    path.starts_with("/api/v2/auth") || path.starts_with("/api/v2/users")
}

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The outermost layer: assigns the request id, times the request, adds the security headers
/// and turns any error answer that is not yet a problem into one, stamping the request id in.
pub(crate) async fn finish(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let path = request.uri().path().to_owned();
    request.extensions_mut().insert(RequestId(request_id.clone()));
    request.extensions_mut().insert(ClientIp(ip));

    let span = tracing::info_span!("request", request_id = %request_id, method = %request.method(), path = %path);
    let response = tracing::Instrument::instrument(next.run(request), span).await;
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
    tracing::info!(
        request_id = %request_id,
        path = %path,
        status = response.status().as_u16(),
        elapsed_ms = elapsed.as_secs_f64() * 1000.0,
        "request served"
    );
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
            let is_problem = parts
                .headers
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
            if is_problem {
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
    fn request_ids_are_kept_only_when_safe() {
        assert!(valid_request_id("3f1c-ab_12.x:y"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a b"));
        assert!(!valid_request_id(&"a".repeat(129)));
    }
}
