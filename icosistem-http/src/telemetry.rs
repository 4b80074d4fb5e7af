//! Trace context across process boundaries (W3C Trace Context: the `traceparent` and
//! `tracestate` headers), for the OpenTelemetry traces an embedder or the example server
//! exports.
//!
//! This crate only *creates* `tracing` spans — the `request` span of every request (see
//! [`middleware`](crate::middleware)) and whatever the store adds below it. Turning them into
//! OpenTelemetry spans and exporting them is the process's business: it installs a
//! `tracing_opentelemetry` layer in its subscriber and a text-map propagator with
//! [`opentelemetry::global::set_text_map_propagator`] (the example server does both when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set). Until then the functions here cost a header lookup
//! and do nothing: the global propagator is a no-op and the spans carry no OpenTelemetry
//! context.
//!
//! - [`accept_parent`]: makes a span (the request's) a child of the caller's trace, from the
//!   incoming request's headers;
//! - [`inject`] / [`traceparent`]: the headers that continue the current trace in an outgoing
//!   call — what webhook delivery sends, so a receiver's spans join the trace of the request
//!   that caused the webhook. A delivery that runs later (from the outbox) keeps the
//!   `traceparent` of the request that enqueued it and restores it with [`accept_parent`] on
//!   its own span before sending.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The W3C header naming the caller's trace and span.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

struct ReadHeaders<'a>(&'a HeaderMap);

impl Extractor for ReadHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct WriteHeaders<'a>(&'a mut HeaderMap);

impl Injector for WriteHeaders<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}

/// Makes `span` a child of the trace context `headers` carry (`traceparent`, `tracestate`), if
/// they carry a valid one and a propagator is installed. Call it before `span` is first
/// entered: OpenTelemetry fixes a span's parent when it starts.
pub fn accept_parent(span: &tracing::Span, headers: &HeaderMap) {
    if !headers.contains_key(&TRACEPARENT) {
        return;
    }
    let context = opentelemetry::global::get_text_map_propagator(|p| p.extract(&ReadHeaders(headers)));
    if context.span().span_context().is_valid() {
        // Refused only when the span was already entered or is disabled: then it simply
        // starts its own trace, which is not worth failing a request for.
        let _ = span.set_parent(context);
    }
}

/// Renames `span` in its OpenTelemetry export (the name of a `tracing` span is fixed at its
/// creation, and `otel.name` is only read until the span is first entered): the request span
/// gets its route template once routing has found it. `name` is only built when the span is
/// exported.
pub fn rename(span: &tracing::Span, name: impl FnOnce() -> String) {
    let context = span.context();
    let otel = context.span();
    if otel.is_recording() {
        otel.update_name(name());
    }
}

/// Writes the headers that continue the current span's trace (`traceparent`, and `tracestate`
/// when there is one) into `headers`. Writes nothing without an installed propagator and
/// OpenTelemetry layer.
pub fn inject(headers: &mut HeaderMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut WriteHeaders(headers)));
}

/// The `traceparent` value continuing the current span's trace, to store next to work that
/// runs later (an outbox message) or to send by hand; `None` without tracing.
pub fn traceparent() -> Option<String> {
    let mut headers = HeaderMap::new();
    inject(&mut headers);
    headers
        .get(&TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_tracing_nothing_is_injected_and_nothing_fails() {
        let mut headers = HeaderMap::new();
        headers.insert(
            TRACEPARENT,
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        accept_parent(&tracing::Span::none(), &headers);
        assert_eq!(traceparent(), None);
    }
}
