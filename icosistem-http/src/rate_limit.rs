//! Rate limiting: the deployment guide's limits, enforced by the application itself so they hold
//! whatever proxy (or none) is in front, and shared across replicas through Redis.
//!
//! - `/api/v2/auth/*`: per client IP, 1 request/s with a burst of 5 (password guessing and
//!   account creation are what this slows down);
//! - the rest of `/api/v2/*`: per user — the subject of a *verified* access token — 10 requests/s
//!   with a burst of 20; anonymous callers and invalid tokens count against their IP instead;
//! - health probes, `/metrics` and the documentation are never limited: an orchestrator or a
//!   scraper must not be locked out by a busy client.
//!
//! Over the limit the answer is 429 `rate_limited` (problem+json) with `Retry-After` in whole
//! seconds (at least 1).
//!
//! The algorithm is GCRA (the "generic cell rate algorithm", a token bucket stored as one
//! instant per key): each key keeps its *theoretical arrival time* (TAT); a request conforms when
//! `TAT - (burst - 1) × interval <= now`, and advances the TAT by one interval. One number per key,
//! no background refill, and a key whose TAT has passed holds no information, so it can be dropped.
//!
//! Two [`RateLimiter`]s implement it: [`InMemoryRateLimiter`] (the default; per process, bounded
//! memory) and, behind the cargo feature `redis`, `RedisRateLimiter` (one atomic Lua script per
//! check, keys with a TTL), so several replicas spend one budget.
//!
//! **A failing limiter lets the request through** (fail open), logs a warning and counts
//! `rate_limiter_errors_total{backend}`: rate limiting protects the service, and a Redis outage
//! should degrade that protection, not turn into an outage of the whole API. The readiness probe
//! reports Redis as down meanwhile, and the counter is what to alert on.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::AccessClaims;
use crate::error::ApiError;
use crate::middleware::ClientIp;

/// A rate: `per_second` requests per second on average, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quota {
    /// Sustained requests per second (at least 1).
    pub per_second: u32,
    /// Requests allowed at once after a quiet period (at least 1).
    pub burst: u32,
}

impl Quota {
    /// `per_second` requests per second with a burst of `burst`; zeros count as 1 (a quota that
    /// allows nothing is "disabled", which [`RateLimits::enabled`] says explicitly).
    pub const fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: if per_second == 0 { 1 } else { per_second },
            burst: if burst == 0 { 1 } else { burst },
        }
    }

    /// The time one request "costs": `1 s / per_second`.
    pub fn emission_interval(&self) -> Duration {
        Duration::from_secs(1) / self.per_second.max(1)
    }
}

/// The limits of [`HttpConfig`](crate::HttpConfig). The defaults are the deployment guide's
/// (login 1 r/s burst 5, API 10 r/s burst 20) and rate limiting is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Whether requests are limited at all.
    pub enabled: bool,
    /// `/api/v2/auth/*`, per client IP.
    pub auth: Quota,
    /// The rest of `/api/v2/*`, per user (per IP when anonymous).
    pub api: Quota,
    /// CSV exports (`….csv`), per user, on top of `api`: each streams a whole list, so a
    /// client gets a few at once, then one a second.
    pub export: Quota,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            auth: Quota::new(1, 5),
            api: Quota::new(10, 20),
            export: Quota::new(1, 3),
        }
    }
}

impl RateLimits {
    /// No limits at all.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Replaces the quota of `/api/v2/auth/*`.
    pub fn with_auth(mut self, quota: Quota) -> Self {
        self.auth = quota;
        self
    }

    /// Replaces the quota of the rest of the API.
    pub fn with_api(mut self, quota: Quota) -> Self {
        self.api = quota;
        self
    }

    /// Replaces the quota of CSV exports.
    pub fn with_export(mut self, quota: Quota) -> Self {
        self.export = quota;
        self
    }

    /// Turns limiting on or off.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }
}

/// The answer of a [`RateLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go on (and was counted).
    pub allowed: bool,
    /// When refused, how long until a request would conform (zero when allowed).
    pub retry_after: Duration,
}

impl Decision {
    /// Go on.
    pub const fn allow() -> Self {
        Self {
            allowed: true,
            retry_after: Duration::ZERO,
        }
    }

    /// Refused; retry in `retry_after`.
    pub const fn deny(retry_after: Duration) -> Self {
        Self {
            allowed: false,
            retry_after,
        }
    }

    /// `Retry-After` in whole seconds: rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        secs.max(1)
    }
}

/// A limiter backend failed (Redis unreachable, a script error …).
#[derive(Debug)]
pub struct RateLimitError {
    backend: &'static str,
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl RateLimitError {
    /// An error of `backend`, caused by `source`.
    pub fn new(backend: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self {
            backend,
            source: source.into(),
        }
    }

    /// The failing backend (`memory`, `redis`).
    pub fn backend(&self) -> &'static str {
        self.backend
    }
}

impl fmt::Display for RateLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} rate limiter failed", self.backend)
    }
}

impl std::error::Error for RateLimitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// What [`RateLimiter::check`] returns.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<Decision, RateLimitError>> + Send + 'a>>;

/// The port of rate limiting: count one request against `key` under `quota`. A `dyn` trait (the
/// backend is picked at start from the environment), hence the boxed future.
pub trait RateLimiter: Send + Sync + fmt::Debug + 'static {
    /// Counts one request of `key` if it conforms to `quota`, and says whether it does.
    fn check<'a>(&'a self, key: &'a str, quota: Quota) -> CheckFuture<'a>;

    /// A short name for logs and metrics (`memory`, `redis`).
    fn backend(&self) -> &'static str;
}

/// One GCRA step at `now` for a key whose stored TAT is `tat`: the decision and the TAT to store.
fn gcra(now: Duration, tat: Option<Duration>, quota: Quota) -> (Decision, Duration) {
    let interval = quota.emission_interval();
    let tolerance = interval * (quota.burst.max(1) - 1);
    let tat = tat.map_or(now, |t| t.max(now));
    // The earliest instant at which this request would conform.
    let allowed_at = tat.saturating_sub(tolerance);
    if allowed_at > now {
        (Decision::deny(allowed_at - now), tat)
    } else {
        (Decision::allow(), tat + interval)
    }
}

/// A time source for [`InMemoryRateLimiter`]: time elapsed since some fixed origin.
pub type Ticker = Arc<dyn Fn() -> Duration + Send + Sync>;

const SHARDS: usize = 16;
/// Checks between two sweeps of a shard's expired keys.
const SWEEP_EVERY: u32 = 1024;

#[derive(Default)]
struct Shard {
    /// Key → theoretical arrival time.
    tats: HashMap<String, Duration>,
    checks_since_sweep: u32,
}

impl Shard {
    /// Drops the keys whose TAT has passed: their bucket is full again, exactly as if absent.
    fn sweep(&mut self, now: Duration) {
        self.tats.retain(|_, tat| *tat > now);
        self.checks_since_sweep = 0;
    }
}

/// The in-process GCRA limiter: per replica, no dependencies. Memory is bounded: expired keys are
/// swept regularly, and at `max_keys` the least constrained key (the nearest TAT) is evicted —
/// under a flood of distinct keys that forgets the keys closest to being allowed anyway.
pub struct InMemoryRateLimiter {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    max_keys_per_shard: usize,
    ticker: Ticker,
}

impl fmt::Debug for InMemoryRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryRateLimiter")
            .field("keys", &self.len())
            .field("max_keys", &(self.max_keys_per_shard * SHARDS))
            .finish()
    }
}

impl Default for InMemoryRateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryRateLimiter {
    /// Keys kept at most by default (about 100k: a few MiB).
    pub const DEFAULT_MAX_KEYS: usize = 100_000;

    /// A limiter on the monotonic clock keeping at most [`Self::DEFAULT_MAX_KEYS`] keys.
    pub fn new() -> Self {
        let origin = Instant::now();
        Self::with_ticker(Arc::new(move || origin.elapsed()), Self::DEFAULT_MAX_KEYS)
    }

    /// A limiter reading time from `ticker` (tests drive it by hand) and keeping about `max_keys`.
    pub fn with_ticker(ticker: Ticker, max_keys: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
            max_keys_per_shard: max_keys.div_ceil(SHARDS).max(1),
            ticker,
        }
    }

    /// Keys currently held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).tats.len())
            .sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check_now(&self, key: &str, quota: Quota) -> Decision {
        let now = (self.ticker)();
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        // A panic while holding the lock leaves the map consistent (every write is one insert).
        let mut shard = self.shards[index].lock().unwrap_or_else(PoisonError::into_inner);
        shard.checks_since_sweep += 1;
        if shard.checks_since_sweep >= SWEEP_EVERY {
            shard.sweep(now);
        }
        let (decision, tat) = gcra(now, shard.tats.get(key).copied(), quota);
        if decision.allowed {
            if !shard.tats.contains_key(key) && shard.tats.len() >= self.max_keys_per_shard {
                shard.sweep(now);
                if shard.tats.len() >= self.max_keys_per_shard
                    && let Some(victim) = shard.tats.iter().min_by_key(|(_, tat)| **tat).map(|(k, _)| k.clone())
                {
                    shard.tats.remove(&victim);
                }
            }
            shard.tats.insert(key.to_owned(), tat);
        }
        decision
    }
}

impl RateLimiter for InMemoryRateLimiter {
    fn check<'a>(&'a self, key: &'a str, quota: Quota) -> CheckFuture<'a> {
        let decision = self.check_now(key, quota);
        Box::pin(std::future::ready(Ok(decision)))
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

#[cfg(feature = "redis")]
pub use self::redis_backend::RedisRateLimiter;

#[cfg(feature = "redis")]
mod redis_backend {
    use std::fmt;
    use std::time::{Duration, Instant};

    use redis::aio::ConnectionManager;

    use super::{CheckFuture, Decision, Quota, RateLimitError, RateLimiter};

    /// GCRA in one atomic step. The time is Redis's own (`TIME`), so replicas with skewed clocks
    /// still share one consistent budget; TATs are microseconds since the epoch (exact in a Lua
    /// double up to 2^53) written with `%.0f`, since `tostring` would round them.
    const GCRA: &str = r"
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then
  tat = math.max(tonumber(stored), now)
end
local allowed_at = tat - (burst - 1) * interval
if allowed_at > now then
  return {0, allowed_at - now}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, 0}
";

    /// The Redis-backed GCRA limiter: every replica on the same Redis (and key prefix) spends
    /// one budget per key. Keys expire when their bucket is full again, so Redis holds only the
    /// keys of recently active clients. Connection loss is healed by the connection manager;
    /// meanwhile checks fail quickly (short timeouts) and the middleware lets requests through.
    #[derive(Clone)]
    pub struct RedisRateLimiter {
        conn: ConnectionManager,
        prefix: String,
        script: redis::Script,
    }

    impl fmt::Debug for RedisRateLimiter {
        // No URL: it may carry a password.
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("RedisRateLimiter")
                .field("prefix", &self.prefix)
                .finish_non_exhaustive()
        }
    }

    fn redis_error(error: redis::RedisError) -> RateLimitError {
        RateLimitError::new("redis", error)
    }

    impl RedisRateLimiter {
        /// The default key prefix.
        pub const DEFAULT_PREFIX: &'static str = "icosistem:rl:";

        /// A limiter on the Redis of `url` whose keys start with `prefix`. Connects lazily (a
        /// Redis that is down at start does not stop the server: requests fail open and the
        /// readiness probe says so); a malformed URL is an error. Must run inside a Tokio runtime.
        pub fn connect_lazy(url: &str, prefix: impl Into<String>) -> Result<Self, RateLimitError> {
            Self::with_client(redis::Client::open(url).map_err(redis_error)?, prefix)
        }

        /// A limiter on the Redis of `client` (e.g. `rediss://` with a private CA, from
        /// [`crate::redis_conn::client`]), connected lazily like [`Self::connect_lazy`].
        pub fn with_client(client: redis::Client, prefix: impl Into<String>) -> Result<Self, RateLimitError> {
            let conn = ConnectionManager::new_lazy_with_config(client, crate::redis_conn::manager_config())
                .map_err(redis_error)?;
            Ok(Self {
                conn,
                prefix: prefix.into(),
                script: redis::Script::new(GCRA),
            })
        }

        /// Like [`Self::connect_lazy`], and checks at once that Redis answers.
        pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, RateLimitError> {
            let limiter = Self::connect_lazy(url, prefix)?;
            limiter.ping().await?;
            Ok(limiter)
        }

        /// `PING`: whether Redis answers (the readiness probe).
        pub async fn ping(&self) -> Result<Duration, RateLimitError> {
            let started = Instant::now();
            let mut conn = self.conn.clone();
            let _: String = redis::cmd("PING").query_async(&mut conn).await.map_err(redis_error)?;
            Ok(started.elapsed())
        }

        /// The key prefix.
        pub fn prefix(&self) -> &str {
            &self.prefix
        }
    }

    impl RateLimiter for RedisRateLimiter {
        fn check<'a>(&'a self, key: &'a str, quota: Quota) -> CheckFuture<'a> {
            Box::pin(async move {
                let mut conn = self.conn.clone();
                let interval_us = u64::try_from(quota.emission_interval().as_micros()).unwrap_or(u64::MAX);
                let (allowed, wait_us): (i64, i64) = self
                    .script
                    .key(format!("{}{key}", self.prefix))
                    .arg(interval_us)
                    .arg(quota.burst)
                    .invoke_async(&mut conn)
                    .await
                    .map_err(redis_error)?;
                Ok(if allowed == 1 {
                    Decision::allow()
                } else {
                    Decision::deny(Duration::from_micros(wait_us.max(1).unsigned_abs()))
                })
            })
        }

        fn backend(&self) -> &'static str {
            "redis"
        }
    }
}

/// Which limit a path falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Auth,
    Api,
}

impl Scope {
    fn of(path: &str) -> Option<Self> {
        if path == "/api/v2/health" {
            None
        } else if path.starts_with("/api/v2/auth/") || path == "/api/v2/auth" {
            Some(Self::Auth)
        } else if path.starts_with("/api/v2/") {
            Some(Self::Api)
        } else {
            None
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Api => "api",
        }
    }
}

/// The access token's claims, verified once by the rate limiter and left in the request's
/// extensions so [`AuthUser`](crate::AuthUser) does not verify the signature a second time.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedClaims(pub(crate) AccessClaims);

/// Verifies a bearer token (signature and expiry, with the state's keys and clock).
pub(crate) type TokenVerifier = Arc<dyn Fn(&str) -> Option<AccessClaims> + Send + Sync>;

/// What the middleware needs: the backend, the limits and the token verifier.
#[derive(Clone)]
pub(crate) struct RateLimitState {
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) limits: RateLimits,
    pub(crate) verify: TokenVerifier,
}

/// The bucket of a client address: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64 — one
/// host usually owns a whole /64, so per-address buckets would be trivial to rotate through.
fn ip_bucket(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        // No connect info and no trusted X-Forwarded-For: every such request shares one bucket.
        None => "unknown".to_owned(),
    }
}

fn bearer(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The 429 answer.
pub(crate) fn too_many_requests(decision: &Decision) -> Response {
    let secs = decision.retry_after_secs();
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests; retry in {secs} s"),
    )
    .with_retry_after(i64::try_from(secs).unwrap_or(i64::MAX))
    .into_response()
}

/// Whether to log a limiter failure now: at most one warning per 10 s, since during an outage
/// every request fails the same way (the counter has the exact number).
fn warning_due() -> bool {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    static LAST: AtomicU64 = AtomicU64::new(u64::MAX);
    let now = ORIGIN.get_or_init(Instant::now).elapsed().as_secs();
    let last = LAST.load(Ordering::Relaxed);
    (last == u64::MAX || now.saturating_sub(last) >= 10)
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// Spends one of `user`'s CSV exports ([`RateLimits::export`]): `Some(429 answer)` when over
/// the quota. The route calls it once it knows the caller (exports are `api` requests first,
/// limited by the middleware like any other). A limiter that cannot answer lets it through, as
/// the middleware does.
pub(crate) async fn limit_export(
    limiter: &dyn RateLimiter,
    limits: &RateLimits,
    user: impl std::fmt::Display,
) -> Option<Response> {
    if !limits.enabled {
        return None;
    }
    match limiter.check(&format!("export:user:{user}"), limits.export).await {
        Ok(decision) if !decision.allowed => {
            metrics::counter!(crate::metrics::RATE_LIMITED_TOTAL, "scope" => "export").increment(1);
            Some(too_many_requests(&decision))
        }
        Ok(_) => None,
        Err(error) => {
            metrics::counter!(crate::metrics::RATE_LIMITER_ERRORS_TOTAL, "backend" => error.backend()).increment(1);
            None
        }
    }
}

/// The middleware (a route layer, so a 429 is labelled with its route in the metrics).
pub(crate) async fn limit(State(state): State<RateLimitState>, mut request: Request, next: Next) -> Response {
    let Some(scope) = Scope::of(request.uri().path()) else {
        return next.run(request).await;
    };
    if !state.limits.enabled {
        return next.run(request).await;
    }
    let ip = ip_bucket(request.extensions().get::<ClientIp>().and_then(|c| c.0.as_deref()));
    let (key, quota) = match scope {
        Scope::Auth => (format!("auth:ip:{ip}"), state.limits.auth),
        Scope::Api => {
            // Only a verified subject names a bucket: an unverified `sub` would let anyone spend
            // someone else's budget, or dodge their own by inventing subjects.
            let claims = bearer(&request).and_then(|token| (state.verify)(token));
            match claims {
                Some(claims) => {
                    let key = format!("api:user:{}", claims.sub);
                    request.extensions_mut().insert(VerifiedClaims(claims));
                    (key, state.limits.api)
                }
                None => (format!("api:ip:{ip}"), state.limits.api),
            }
        }
    };
    match state.limiter.check(&key, quota).await {
        Ok(decision) if !decision.allowed => {
            metrics::counter!(crate::metrics::RATE_LIMITED_TOTAL, "scope" => scope.as_str()).increment(1);
            tracing::debug!(scope = scope.as_str(), "rate limited");
            return too_many_requests(&decision);
        }
        Ok(_) => {}
        Err(error) => {
            metrics::counter!(crate::metrics::RATE_LIMITER_ERRORS_TOTAL, "backend" => error.backend()).increment(1);
            if warning_due() {
                let cause = std::error::Error::source(&error)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                tracing::warn!(
                    error = %error,
                    cause = %cause,
                    "rate limiter unavailable: letting requests through (counted in rate_limiter_errors_total)"
                );
            }
        }
    }
    next.run(request).await
}

/// Documents the 429 answer on every operation the limiter guards. Called last in
/// [`openapi::document`](crate::openapi::document), so it covers the merged route modules too.
pub(crate) fn document_429(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{Content, Ref, ResponseBuilder};

    let retry_after = HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
        .description(Some("Seconds to wait, at least 1"))
        .build();
    let response = ResponseBuilder::new()
        .description("Rate limited (`rate_limited`): over the caller's quota")
        .header("Retry-After", retry_after)
        .content(
            crate::error::PROBLEM_JSON,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build();
    for (path, item) in &mut doc.paths.paths {
        if Scope::of(path).is_none() {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            operation
                .responses
                .responses
                .entry("429".to_owned())
                .or_insert_with(|| response.clone().into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manual() -> (Arc<AtomicU64>, Ticker) {
        let millis = Arc::new(AtomicU64::new(1_000_000));
        let read = Arc::clone(&millis);
        (
            millis,
            Arc::new(move || Duration::from_millis(read.load(Ordering::SeqCst))),
        )
    }

    #[test]
    fn gcra_allows_the_burst_then_one_per_interval() {
        let (millis, ticker) = manual();
        let limiter = InMemoryRateLimiter::with_ticker(ticker, 100);
        let quota = Quota::new(1, 5);
        for i in 0..5 {
            assert!(limiter.check_now("k", quota).allowed, "request {i} of the burst");
        }
        let refused = limiter.check_now("k", quota);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        assert_eq!(refused.retry_after_secs(), 1);
        // Another key has its own bucket.
        assert!(limiter.check_now("other", quota).allowed);
        millis.fetch_add(999, Ordering::SeqCst);
        assert!(!limiter.check_now("k", quota).allowed, "not yet");
        millis.fetch_add(1, Ordering::SeqCst);
        assert!(limiter.check_now("k", quota).allowed, "one interval later");
        assert!(!limiter.check_now("k", quota).allowed);
        // A quiet period refills the whole burst, no more.
        millis.fetch_add(60_000, Ordering::SeqCst);
        let allowed = (0..10).filter(|_| limiter.check_now("k", quota).allowed).count();
        assert_eq!(allowed, 5);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(Decision::deny(Duration::from_millis(1)).retry_after_secs(), 1);
        assert_eq!(Decision::deny(Duration::from_millis(1001)).retry_after_secs(), 2);
        assert_eq!(Decision::deny(Duration::ZERO).retry_after_secs(), 1);
        let (_, ticker) = manual();
        let limiter = InMemoryRateLimiter::with_ticker(ticker, 100);
        let slow = Quota::new(1, 1);
        assert!(limiter.check_now("k", slow).allowed);
        let fast = Quota::new(10, 1);
        assert!(limiter.check_now("f", fast).allowed);
        let refused = limiter.check_now("f", fast);
        assert_eq!(refused.retry_after, Duration::from_millis(100));
        assert_eq!(refused.retry_after_secs(), 1);
    }

    #[test]
    fn memory_stays_bounded() {
        let (millis, ticker) = manual();
        let limiter = InMemoryRateLimiter::with_ticker(ticker, 64);
        let quota = Quota::new(1, 5);
        for i in 0..10_000 {
            assert!(limiter.check_now(&format!("ip:{i}"), quota).allowed);
        }
        assert!(limiter.len() <= 64 + SHARDS, "{} keys", limiter.len());
        // Expired keys are swept, not kept until evicted: after a quiet period, new clients
        // find only each other.
        millis.fetch_add(10_000, Ordering::SeqCst);
        for i in 0..10_000 {
            limiter.check_now(&format!("new:{i}"), quota);
        }
        assert!(limiter.len() <= 64 + SHARDS, "{} keys", limiter.len());
        let stale = limiter
            .shards
            .iter()
            .flat_map(|s| s.lock().expect("lock").tats.keys().cloned().collect::<Vec<_>>())
            .filter(|k| k.starts_with("ip:"))
            .count();
        assert_eq!(stale, 0);
    }

    #[test]
    fn paths_fall_under_their_scope() {
        assert_eq!(Scope::of("/api/v2/auth/login"), Some(Scope::Auth));
        assert_eq!(Scope::of("/api/v2/programs"), Some(Scope::Api));
        assert_eq!(Scope::of("/api/v2/health"), None);
        assert_eq!(Scope::of("/health/ready"), None);
        assert_eq!(Scope::of("/metrics"), None);
        assert_eq!(Scope::of("/docs/"), None);
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(ip_bucket(Some("203.0.113.9")), "203.0.113.9");
        assert_eq!(ip_bucket(Some("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(ip_bucket(Some("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            ip_bucket(Some("2001:db8:1:2:ffff::9")),
            ip_bucket(Some("2001:db8:1:2::1"))
        );
        assert_eq!(ip_bucket(None), "unknown");
        assert_eq!(ip_bucket(Some("not an ip")), "unknown");
    }
}
