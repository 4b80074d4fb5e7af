//! Prometheus metrics: what the router records, how `/metrics` renders it, and a store decorator
//! timing every store operation.
//!
//! Recording goes through the [`metrics`] facade, so an embedder with a recorder of their own gets
//! these metrics there. `/metrics` renders a [`PrometheusHandle`]: the one given with
//! [`HttpConfig::with_prometheus`](crate::HttpConfig::with_prometheus), else the one of
//! [`install_recorder`], which installs this crate's recorder as the process-global one the first
//! time it is called (once per process: [`OnceLock`]). When another recorder is already installed,
//! nothing panics: a warning is logged and `/metrics` is not served by this router.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `http_requests_total` | counter | `method`, `route` (the path template, `unmatched` for unknown paths), `status` |
//! | `http_request_duration_seconds` | histogram | `method`, `route` |
//! | `store_operation_duration_seconds` | histogram | `operation` (`begin`, `get`, `get_for_update`, `insert`, `update`, `delete`, `list`, `count`, `commit`, `unit_of_work`), `entity` |
//! | `applications_submitted_total` | counter | |
//! | `applications_decided_total` | counter | `decision` (`accepted`, `rejected`, `waitlisted`, `promoted`) |
//! | `logins_total` | counter | `outcome` (`ok`, `failed`) |
//! | `rate_limited_total` | counter | `scope` (`auth`, `api`) |
//! | `rate_limiter_errors_total` | counter | `backend` (requests let through because the limiter failed) |
//! | `notifications_delivered_total`, `notifications_failed_total` | counter | recorded by whoever runs outbox delivery (the example server) |
//! | `http_connections_open` | gauge | connections [`serve`](crate::serve::serve) holds open |
//! | `http_connections_rejected_total` | counter | `reason` (`max_connections`, `per_ip`): connections closed at accept |
//! | `http_connection_timeouts_total` | counter | `phase` (`header`, `idle`, `body`): connections or bodies cut by a [`serve`](crate::serve::serve) timeout |
//! | `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`, `process_start_time_seconds` | counter/gauges | read from `/proc/self` at each scrape (Linux) |
//!
//! The domain counters exist at zero for each known label from the first scrape (when this
//! crate installs the recorder), so alert rules never see "no data" for them.
//!
//! The domain counters are derived here from the answers of their routes (a 200 from
//! `POST …/applications/{id}/submit` is one submitted application), because the core is kept free
//! of metrics and has no hook for them; every success of those use cases goes through these routes.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use icosistem_core::StoreError;
use icosistem_core::model::analytics::{
    ApplicationFigures, DateRange, EnrollmentFigures, MentoringFigures, MentoringScope, MilestoneFigures, ReviewFigures,
};
use icosistem_core::ports::store::{AnalyticsRead, ApplicationScope, EnrollmentScope, MilestoneScope, ReviewScope};
use icosistem_core::ports::{Entity, PageRequest, Repo, Store, Transaction};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::middleware::RouteTemplate;

/// Requests served, by method, route template and status.
pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
/// Request latency, by method and route template.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";
/// Store operation latency, by operation and entity.
pub const STORE_OPERATION_DURATION_SECONDS: &str = "store_operation_duration_seconds";
/// Applications submitted.
pub const APPLICATIONS_SUBMITTED_TOTAL: &str = "applications_submitted_total";
/// Applications decided, by decision.
pub const APPLICATIONS_DECIDED_TOTAL: &str = "applications_decided_total";
/// Logins, by outcome.
pub const LOGINS_TOTAL: &str = "logins_total";
/// Outbox messages delivered.
pub const NOTIFICATIONS_DELIVERED_TOTAL: &str = "notifications_delivered_total";
/// Outbox delivery attempts that failed.
pub const NOTIFICATIONS_FAILED_TOTAL: &str = "notifications_failed_total";
/// Outbox messages waiting for delivery (due or scheduled for a retry), by channel; set by the
/// process that ran the last delivery round.
pub const OUTBOX_PENDING: &str = "outbox_pending";
/// Outbox messages failed and not re-queued (the dead letters an admin sees), by channel.
pub const OUTBOX_DEAD_LETTERS: &str = "outbox_dead_letters";
/// Outbox messages that failed for good (dead letters), by channel.
pub const OUTBOX_FAILED_TOTAL: &str = "outbox_failed_total";
/// Time a notifier took to hand one message over (SMTP transaction, webhook request), by
/// channel and outcome (`sent`, `retry`, `failed`).
pub const OUTBOX_DELIVERY_DURATION_SECONDS: &str = "outbox_delivery_duration_seconds";
/// Requests refused with 429, by scope.
pub const RATE_LIMITED_TOTAL: &str = "rate_limited_total";
/// Rate limiter failures (the request was let through), by backend.
pub const RATE_LIMITER_ERRORS_TOTAL: &str = "rate_limiter_errors_total";

/// Connections open in [`serve`](crate::serve::serve).
pub const HTTP_CONNECTIONS_OPEN: &str = "http_connections_open";
/// Connections closed at accept, by reason (`max_connections`, `per_ip`).
pub const HTTP_CONNECTIONS_REJECTED_TOTAL: &str = "http_connections_rejected_total";
/// Connections (or request bodies) cut by a timeout of [`serve`](crate::serve::serve), by phase
/// (`header`, `idle`, `body`).
pub const HTTP_CONNECTION_TIMEOUTS_TOTAL: &str = "http_connection_timeouts_total";

/// Latency buckets of requests, in seconds: 1 ms to 10 s.
pub const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Latency buckets of store operations, in seconds: 50 µs to 5 s.
pub const STORE_BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Buckets of outbox deliveries, in seconds: 5 ms (a local relay) to a minute (a timeout).
pub const DELIVERY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The exporter's builder as this crate configures it: every histogram rendered as a Prometheus
/// histogram (buckets, not a summary). For embedders installing the recorder themselves.
pub fn prometheus_builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets(HTTP_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full(STORE_OPERATION_DURATION_SECONDS.to_owned()),
                STORE_BUCKETS,
            )
        })
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full(OUTBOX_DELIVERY_DURATION_SECONDS.to_owned()),
                DELIVERY_BUCKETS,
            )
        })
        // Only empty bucket lists are refused, and these are constants.
        .expect("the bucket lists are not empty")
}

/// Installs this crate's recorder as the process-global `metrics` recorder, once, and returns
/// its handle; `None` (after one warning) when the process already has another recorder.
pub fn install_recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| match prometheus_builder().install_recorder() {
            Ok(handle) => {
                describe();
                register_zeroes();
                Some(handle)
            }
            Err(error) => {
                tracing::warn!(
                    error = %error,
                    "a metrics recorder is already installed: /metrics is not served by icosistem-http \
                     (pass a PrometheusHandle with HttpConfig::with_prometheus to serve one)"
                );
                None
            }
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_histogram};
    describe_counter!(HTTP_REQUESTS_TOTAL, "HTTP requests served");
    describe_histogram!(HTTP_REQUEST_DURATION_SECONDS, Unit::Seconds, "HTTP request latency");
    describe_histogram!(
        STORE_OPERATION_DURATION_SECONDS,
        Unit::Seconds,
        "Store operation latency"
    );
    describe_counter!(APPLICATIONS_SUBMITTED_TOTAL, "Applications submitted");
    describe_counter!(APPLICATIONS_DECIDED_TOTAL, "Applications decided");
    describe_counter!(LOGINS_TOTAL, "Login attempts");
    describe_counter!(NOTIFICATIONS_DELIVERED_TOTAL, "Outbox messages delivered");
    describe_counter!(NOTIFICATIONS_FAILED_TOTAL, "Outbox delivery attempts that failed");
    metrics::describe_gauge!(OUTBOX_PENDING, "Outbox messages waiting for delivery");
    metrics::describe_gauge!(OUTBOX_DEAD_LETTERS, "Outbox messages failed and not re-queued");
    describe_counter!(OUTBOX_FAILED_TOTAL, "Outbox messages failed for good (dead letters)");
    describe_histogram!(
        OUTBOX_DELIVERY_DURATION_SECONDS,
        Unit::Seconds,
        "Time to hand one outbox message to its channel"
    );
    describe_counter!(RATE_LIMITED_TOTAL, "Requests refused by the rate limiter");
    describe_counter!(
        RATE_LIMITER_ERRORS_TOTAL,
        "Rate limiter failures (requests let through)"
    );
    metrics::describe_gauge!(HTTP_CONNECTIONS_OPEN, "HTTP connections open");
    describe_counter!(HTTP_CONNECTIONS_REJECTED_TOTAL, "HTTP connections closed at accept");
    describe_counter!(
        HTTP_CONNECTION_TIMEOUTS_TOTAL,
        "HTTP connections or request bodies cut by a timeout"
    );
}

/// Creates every domain counter at zero for each of its known labels, so each series exists
/// from the first scrape: `rate()` and alert rules see 0, not "no data", until the first event.
fn register_zeroes() {
    metrics::counter!(APPLICATIONS_SUBMITTED_TOTAL).increment(0);
    for decision in ["accepted", "rejected", "waitlisted", "promoted"] {
        metrics::counter!(APPLICATIONS_DECIDED_TOTAL, "decision" => decision).increment(0);
    }
    for outcome in ["ok", "failed"] {
        metrics::counter!(LOGINS_TOTAL, "outcome" => outcome).increment(0);
    }
    for scope in ["auth", "api"] {
        metrics::counter!(RATE_LIMITED_TOTAL, "scope" => scope).increment(0);
    }
    metrics::counter!(NOTIFICATIONS_DELIVERED_TOTAL).increment(0);
    metrics::counter!(NOTIFICATIONS_FAILED_TOTAL).increment(0);
    for channel in icosistem_core::model::OutboxChannel::ALL {
        metrics::counter!(OUTBOX_FAILED_TOTAL, "channel" => channel.as_str()).increment(0);
    }
    metrics::gauge!(HTTP_CONNECTIONS_OPEN).increment(0.0);
    for reason in ["max_connections", "per_ip"] {
        metrics::counter!(HTTP_CONNECTIONS_REJECTED_TOTAL, "reason" => reason).increment(0);
    }
    for phase in ["header", "idle", "body"] {
        metrics::counter!(HTTP_CONNECTION_TIMEOUTS_TOTAL, "phase" => phase).increment(0);
    }
}

/// `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds` and
/// `process_start_time_seconds` as the Prometheus client libraries' process collector names
/// them, read from `/proc/self` at scrape time (Linux; elsewhere nothing is added). The alert
/// rules watch the memory of each replica.
fn process_metrics() -> String {
    use std::fmt::Write as _;
    // USER_HZ is 100 on every Linux ABI Rust targets; the page size does not matter: the
    // resident set is read in kB from `status`.
    const TICKS_PER_SECOND: f64 = 100.0;
    let mut out = String::new();
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // The fields after the command name (which may hold spaces) start at state (field 3).
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
        if let (Some(utime), Some(stime)) = (field(14), field(15)) {
            let _ = writeln!(
                out,
                "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
                 # TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}",
                (utime + stime) / TICKS_PER_SECOND
            );
        }
        let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime "))
                .and_then(|v| v.trim().parse::<f64>().ok())
        });
        if let (Some(boot), Some(start)) = (boot, field(22)) {
            let _ = writeln!(
                out,
                "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n\
                 # TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {}",
                boot + start / TICKS_PER_SECOND
            );
        }
    }
    let rss_kb = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    });
    if let Some(kb) = rss_kb {
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n\
             # TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}",
            kb * 1024
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        let _ = writeln!(
            out,
            "# HELP process_open_fds Number of open file descriptors.\n\
             # TYPE process_open_fds gauge\nprocess_open_fds {}",
            fds.count()
        );
    }
    out
}

/// The Prometheus text exposition of every metric.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain")))]
pub(crate) async fn render(State(handle): State<PrometheusHandle>) -> Response {
    let mut text = handle.render();
    text.push_str(&process_metrics());
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// The OpenAPI document of `/metrics`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(render))]
pub(crate) struct MetricsApi;

/// `GET /metrics` over `handle`.
pub(crate) fn router(handle: PrometheusHandle) -> Router {
    Router::new().route("/metrics", get(render)).with_state(handle)
}

/// Histogram upkeep (draining recorded samples into buckets) without a background task: the
/// request path runs it at most this often. Scrapes also drain.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The metrics middleware: counts and times every request by route template, and derives the
/// domain counters from the answers of their routes.
pub(crate) async fn track(State(handle): State<Option<PrometheusHandle>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or_else(|| "unmatched".to_owned(), |r| r.0.clone());
    record_domain(&method, &route, status);
    metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, "method" => method.to_string(), "route" => route.clone())
        .record(elapsed.as_secs_f64());
    metrics::counter!(
        HTTP_REQUESTS_TOTAL,
        "method" => method.to_string(),
        "route" => route,
        "status" => status.as_str().to_owned()
    )
    .increment(1);
    if let Some(handle) = handle {
        upkeep(&handle);
    }
    response
}

fn upkeep(handle: &PrometheusHandle) {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = ORIGIN.get_or_init(Instant::now).elapsed().as_secs();
    let last = LAST.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= UPKEEP_EVERY.as_secs()
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        handle.run_upkeep();
    }
}

/// The domain counters, from a route's answer. Routes are matched by their end, so a router
/// nested under a prefix counts the same.
fn record_domain(method: &Method, route: &str, status: StatusCode) {
    if method != Method::POST {
        return;
    }
    if route.ends_with("/api/v2/auth/login") {
        let outcome = match status {
            StatusCode::OK => "ok",
            // Bad credentials, locked, unverified or inactive: a refused login.
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::LOCKED => "failed",
            _ => return,
        };
        metrics::counter!(LOGINS_TOTAL, "outcome" => outcome).increment(1);
        return;
    }
    if status != StatusCode::OK {
        return;
    }
    let Some((_, command)) = route.rsplit_once("/api/v2/applications/{id}/") else {
        return;
    };
    let decision = match command {
        "submit" => {
            metrics::counter!(APPLICATIONS_SUBMITTED_TOTAL).increment(1);
            return;
        }
        "accept" => "accepted",
        "reject" => "rejected",
        "waitlist" => "waitlisted",
        "promote" => "promoted",
        _ => return,
    };
    metrics::counter!(APPLICATIONS_DECIDED_TOTAL, "decision" => decision).increment(1);
}

fn observe(operation: &'static str, entity: &'static str, started: Instant) {
    metrics::histogram!(STORE_OPERATION_DURATION_SECONDS, "operation" => operation, "entity" => entity)
        .record(started.elapsed().as_secs_f64());
}

/// Runs `operation` on `entity` and records how long it took.
async fn timed<T>(operation: &'static str, entity: &'static str, run: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = run.await;
    observe(operation, entity, started);
    result
}

/// A [`Store`] decorator recording `store_operation_duration_seconds` for every operation of
/// `S` (and for each whole unit of work, begin to commit, as `operation="unit_of_work"`). The
/// core stays free of metrics; the example server wraps its store in this.
#[derive(Debug, Clone, Default)]
pub struct MeteredStore<S> {
    inner: S,
}

impl<S> MeteredStore<S> {
    /// Times the operations of `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    /// The decorated store.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Store> Store for MeteredStore<S> {
    type Tx = MeteredTx<S::Tx>;

    async fn begin(&self) -> Result<Self::Tx, StoreError> {
        let started = Instant::now();
        let tx = self.inner.begin().await;
        observe("begin", "unit_of_work", started);
        Ok(MeteredTx { inner: tx?, started })
    }
}

/// The unit of work of a [`MeteredStore`].
#[derive(Debug)]
pub struct MeteredTx<T> {
    inner: T,
    started: Instant,
}

impl<E: Entity, T: Repo<E>> Repo<E> for MeteredTx<T> {
    async fn get(&mut self, id: E::Id) -> Result<Option<E>, StoreError> {
        timed("get", E::KIND, self.inner.get(id)).await
    }

    async fn get_for_update(&mut self, id: E::Id) -> Result<Option<E>, StoreError> {
        timed("get_for_update", E::KIND, self.inner.get_for_update(id)).await
    }

    async fn insert(&mut self, entity: &E) -> Result<(), StoreError> {
        timed("insert", E::KIND, self.inner.insert(entity)).await
    }

    async fn update(&mut self, entity: &E) -> Result<E, StoreError> {
        timed("update", E::KIND, self.inner.update(entity)).await
    }

    async fn delete(&mut self, id: E::Id) -> Result<(), StoreError> {
        timed("delete", E::KIND, self.inner.delete(id)).await
    }

    async fn list(
        &mut self,
        filter: &E::Filter,
        page: PageRequest,
    ) -> Result<icosistem_core::ports::Page<E>, StoreError> {
        timed("list", E::KIND, self.inner.list(filter, page)).await
    }

    async fn count(&mut self, filter: &E::Filter) -> Result<u64, StoreError> {
        timed("count", E::KIND, self.inner.count(filter)).await
    }
}

impl<T: Transaction> Transaction for MeteredTx<T> {
    async fn commit(self) -> Result<(), StoreError> {
        let began = self.started;
        let result = timed("commit", "unit_of_work", self.inner.commit()).await;
        observe("unit_of_work", "unit_of_work", began);
        result
    }
}

// Each figure is one aggregate statement; timed like the repositories' operations.
impl<T: AnalyticsRead> AnalyticsRead for MeteredTx<T> {
    async fn application_figures(
        &mut self,
        scope: ApplicationScope,
        range: DateRange,
    ) -> Result<ApplicationFigures, StoreError> {
        timed(
            "application_figures",
            "analytics",
            self.inner.application_figures(scope, range),
        )
        .await
    }
    async fn review_figures(&mut self, scope: ReviewScope, range: DateRange) -> Result<ReviewFigures, StoreError> {
        timed("review_figures", "analytics", self.inner.review_figures(scope, range)).await
    }
    async fn enrollment_figures(
        &mut self,
        scope: EnrollmentScope,
        range: DateRange,
    ) -> Result<EnrollmentFigures, StoreError> {
        timed(
            "enrollment_figures",
            "analytics",
            self.inner.enrollment_figures(scope, range),
        )
        .await
    }
    async fn milestone_figures(
        &mut self,
        scope: MilestoneScope,
        range: DateRange,
        today: chrono::NaiveDate,
    ) -> Result<MilestoneFigures, StoreError> {
        timed(
            "milestone_figures",
            "analytics",
            self.inner.milestone_figures(scope, range, today),
        )
        .await
    }
    async fn mentoring_figures(
        &mut self,
        scope: MentoringScope,
        range: DateRange,
        default_capacity: u64,
    ) -> Result<MentoringFigures, StoreError> {
        timed(
            "mentoring_figures",
            "analytics",
            self.inner.mentoring_figures(scope, range, default_capacity),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_renders_histograms_not_summaries() {
        let recorder = prometheus_builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, "route" => "/x").record(0.003);
            metrics::histogram!(STORE_OPERATION_DURATION_SECONDS, "operation" => "get").record(0.0002);
        });
        let text = handle.render();
        assert!(
            text.contains("http_request_duration_seconds_bucket{route=\"/x\",le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("store_operation_duration_seconds_bucket{operation=\"get\",le=\"0.00025\"} 1"),
            "{text}"
        );
        assert!(!text.contains("quantile"), "{text}");
    }

    #[test]
    fn domain_counters_follow_their_routes() {
        let recorder = prometheus_builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            record_domain(&Method::POST, "/api/v2/auth/login", StatusCode::OK);
            record_domain(&Method::POST, "/eco/api/v2/auth/login", StatusCode::UNAUTHORIZED);
            record_domain(&Method::POST, "/api/v2/auth/login", StatusCode::UNPROCESSABLE_ENTITY);
            record_domain(&Method::POST, "/api/v2/applications/{id}/submit", StatusCode::OK);
            record_domain(&Method::POST, "/api/v2/applications/{id}/submit", StatusCode::CONFLICT);
            record_domain(&Method::POST, "/api/v2/applications/{id}/accept", StatusCode::OK);
            record_domain(&Method::POST, "/api/v2/applications/{id}/waitlist", StatusCode::OK);
            record_domain(&Method::GET, "/api/v2/applications/{id}/reject", StatusCode::OK);
        });
        let text = handle.render();
        for line in [
            "logins_total{outcome=\"ok\"} 1",
            "logins_total{outcome=\"failed\"} 1",
            "applications_submitted_total 1",
            "applications_decided_total{decision=\"accepted\"} 1",
            "applications_decided_total{decision=\"waitlisted\"} 1",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(!text.contains("rejected"), "{text}");
    }

    #[test]
    fn zeroes_exist_for_every_known_label() {
        let recorder = prometheus_builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, register_zeroes);
        let text = handle.render();
        for line in [
            "applications_decided_total{decision=\"promoted\"} 0",
            "rate_limited_total{scope=\"auth\"} 0",
            "rate_limited_total{scope=\"api\"} 0",
            "notifications_failed_total 0",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_metrics_are_read_from_proc() {
        let text = process_metrics();
        assert!(text.contains("# TYPE process_resident_memory_bytes gauge"), "{text}");
        assert!(text.contains("\nprocess_cpu_seconds_total "), "{text}");
        let rss: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
            .and_then(|v| v.parse().ok())
            .expect("a number");
        assert!(rss > 1_000_000.0, "{text}");
    }
}
