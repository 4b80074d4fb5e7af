//! OpenTelemetry traces, opt-in: with `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, the server's `tracing` spans — one `request` span
//! per HTTP request (`icosistem_http::middleware`), one `store` span per PostgreSQL operation
//! below it (`icosistem_store_postgres`) — are exported over OTLP/HTTP (protobuf) to that
//! collector: Jaeger (`http://jaeger:4318`), an OpenTelemetry Collector, a vendor's endpoint
//! (`https://…`, with `OTEL_EXPORTER_OTLP_HEADERS` for its API key).
//!
//! Unset, nothing is built and nothing is exported: the spans stay plain `tracing` spans for
//! the logs. The standard variables apply: `OTEL_SERVICE_NAME` (default `icosistem-server`)
//! and `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG` (default:
//! every trace, and a caller's sampling decision is followed), `OTEL_BSP_*` (batching),
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT` (ms, default 10000),
//! `OTEL_EXPORTER_OTLP_COMPRESSION`; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`
//! turn the export off even with an endpoint.
//!
//! Incoming W3C `traceparent` headers are honoured (the request span joins the caller's trace)
//! and `icosistem_http::telemetry::inject` continues the trace in outgoing calls: [`Telemetry::start`]
//! installs the W3C trace-context propagator they use.
//!
//! The exporter's HTTP client is hyper (HTTP/1.1; `https://` through rustls with the webpki
//! roots) driven on the server's Tokio runtime, while the SDK batches and exports on a thread
//! of its own: a slow or absent collector never delays a request, spans beyond the queue
//! (`OTEL_BSP_MAX_QUEUE_SIZE`, 2048) are dropped.

use std::fmt;
use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::hyper::HyperClient;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::registry::LookupSpan;

use crate::BoxError;

/// The service name when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES` names one.
pub const DEFAULT_SERVICE_NAME: &str = "icosistem-server";

/// How long one export may take when `OTEL_EXPORTER_OTLP_TIMEOUT` does not say.
const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and as what traces are exported. Read from the environment by
/// [`TelemetryConfig::from_lookup`]; the rest of the `OTEL_*` variables are read by the SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// The OTLP/HTTP traces URL (`…/v1/traces`).
    pub traces_endpoint: String,
    /// `service.name`, when set here rather than by the SDK's resource detectors.
    pub service_name: Option<String>,
    /// The longest one export may take.
    pub timeout: Duration,
}

impl TelemetryConfig {
    /// The configuration of the `OTEL_*` variables `lookup` returns, or `None` when traces are
    /// not to be exported (no endpoint, or the SDK disabled). An unparsable
    /// `OTEL_EXPORTER_OTLP_TIMEOUT` is an error naming it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, BoxError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || get("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"))
        {
            return Ok(None);
        }
        // As the specification says: the per-signal URL is used as is, the generic one gets the
        // signal's path.
        let traces_endpoint = match (
            get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            get("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(url), _) => url,
            (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
        let timeout = match get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT").or_else(|| get("OTEL_EXPORTER_OTLP_TIMEOUT")) {
            None => DEFAULT_EXPORT_TIMEOUT,
            Some(ms) => Duration::from_millis(
                ms.parse()
                    .map_err(|_| format!("OTEL_EXPORTER_OTLP_TIMEOUT {ms:?} is not a number of milliseconds"))?,
            ),
        };
        let named = get("OTEL_SERVICE_NAME").is_some()
            || get("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|v| v.contains("service.name="));
        Ok(Some(Self {
            traces_endpoint,
            service_name: (!named).then(|| DEFAULT_SERVICE_NAME.to_owned()),
            timeout,
        }))
    }

    /// [`TelemetryConfig::from_lookup`] over the process environment.
    pub fn from_env() -> Result<Option<Self>, BoxError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// The running trace pipeline: the SDK's tracer provider, batching spans and exporting them.
/// Keep it for the life of the process and call [`Telemetry::shutdown`] before exiting, or the
/// last batch is lost.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// The pipeline of the environment's `OTEL_*` variables, or `None` when they do not ask
    /// for traces. Must run inside the Tokio runtime.
    pub fn from_env() -> Result<Option<Self>, BoxError> {
        TelemetryConfig::from_env()?
            .map(|config| Self::start(&config))
            .transpose()
    }

    /// Builds the exporter to `config.traces_endpoint`, starts the batch processor and installs
    /// the W3C trace-context propagator. Nothing is sent until spans end; a collector that is
    /// down costs failed exports (logged by the SDK), never a request. Must run inside the
    /// Tokio runtime, whose handle the exports run on.
    pub fn start(config: &TelemetryConfig) -> Result<Self, BoxError> {
        let client = OnRuntime {
            client: HyperClient::new(https_or_http(), config.timeout, None),
            runtime: tokio::runtime::Handle::try_current()
                .map_err(|_| "OpenTelemetry export needs the Tokio runtime")?,
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(config.traces_endpoint.clone())
            .with_timeout(config.timeout)
            .with_http_client(client)
            .build()
            .map_err(|e| format!("OTEL_EXPORTER_OTLP_ENDPOINT: {e}"))?;
        let mut resource = Resource::builder();
        if let Some(name) = &config.service_name {
            resource = resource.with_service_name(name.clone());
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        Ok(Self { provider })
    }

    /// The `tracing` layer that turns spans into OpenTelemetry spans of this pipeline. Give it
    /// its own level filter (`INFO`: the request and store spans) so a `LOG_LEVEL=debug` does not
    /// flood the collector, nor `LOG_LEVEL=warn` empty it.
    pub fn layer<S>(&self) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("icosistem"))
            .with_threads(false)
            .with_location(false)
    }

    /// Exports every span that ended so far (the tests' synchronisation point). Blocks the
    /// calling thread while the runtime sends, so it runs on a blocking thread.
    pub async fn flush(&self) -> Result<(), BoxError> {
        let provider = self.provider.clone();
        tokio::task::spawn_blocking(move || provider.force_flush())
            .await
            .map_err(|e| format!("flushing traces: {e}"))?
            .map_err(|e| format!("flushing traces: {e}").into())
    }

    /// Exports what is left and stops the pipeline (at exit).
    pub async fn shutdown(self) {
        let provider = self.provider;
        match tokio::task::spawn_blocking(move || provider.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the last traces were not exported"),
            Err(e) => tracing::warn!(error = %e, "stopping the trace exporter failed"),
        }
    }
}

/// A connector for `http://` and `https://` collectors: rustls (ring) with the webpki roots.
fn https_or_http() -> HttpsConnector<HttpConnector> {
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build()
}

/// The hyper client, run on the server's runtime: the SDK's batch processor exports from a
/// thread of its own, outside any runtime, where hyper (Tokio sockets, timers, spawned
/// connection tasks) cannot run. Each export is spawned on `runtime` and awaited from there.
#[derive(Clone)]
struct OnRuntime {
    client: HyperClient<HttpsConnector<HttpConnector>>,
    runtime: tokio::runtime::Handle,
}

impl fmt::Debug for OnRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnRuntime").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move { client.send_bytes(request).await });
        // A runtime shutting down cancels the task: the batch is lost, the process is exiting.
        sent.await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Option<TelemetryConfig>, BoxError> {
        TelemetryConfig::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn traces_are_opt_in_and_follow_the_standard_variables() {
        assert_eq!(config(&[]).expect("valid"), None);
        let base = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318/")])
            .expect("valid")
            .expect("on");
        assert_eq!(base.traces_endpoint, "http://jaeger:4318/v1/traces");
        assert_eq!(base.service_name.as_deref(), Some(DEFAULT_SERVICE_NAME));
        assert_eq!(base.timeout, DEFAULT_EXPORT_TIMEOUT);
        let exact = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://otlp.example/api/traces"),
            ("OTEL_SERVICE_NAME", "icosistem-eu"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ])
        .expect("valid")
        .expect("on");
        assert_eq!(exact.traces_endpoint, "https://otlp.example/api/traces");
        assert_eq!(exact.service_name, None, "the SDK reads OTEL_SERVICE_NAME itself");
        assert_eq!(exact.timeout, Duration::from_millis(2500));
        for off in [("OTEL_SDK_DISABLED", "true"), ("OTEL_TRACES_EXPORTER", "none")] {
            assert_eq!(
                config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318"), off]).expect("valid"),
                None
            );
        }
        let bad = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
        ]);
        assert!(
            bad.expect_err("refused")
                .to_string()
                .contains("OTEL_EXPORTER_OTLP_TIMEOUT")
        );
    }
}
