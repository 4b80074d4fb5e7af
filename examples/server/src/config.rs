//! The server's configuration, read from environment variables.
//!
//! Parsing takes a lookup function instead of reading `std::env` directly, so tests can check
//! every rule with a plain map and never race on the process environment.

use std::fmt::{self, Write as _};
use std::net::SocketAddr;
use std::time::Duration;

use icosistem_core::Limits;
use icosistem_core::model::secret::SecretString;
use icosistem_core::service::LimitField;
use icosistem_http::{Quota, RateLimits, ServeLimits};

/// The variables that set [`Limits`]: `ICOSISTEM_LIMIT_<FIELD>`, the field's name upper-cased
/// (`ICOSISTEM_LIMIT_MAX_ACTIVE_PROJECTS`, `ICOSISTEM_LIMIT_PASSWORD_MIN_LEN`).
pub const LIMIT_VAR_PREFIX: &str = "ICOSISTEM_LIMIT_";

/// Older names of limit variables, still read when the `ICOSISTEM_LIMIT_` one is unset
/// (deployments set them): (limit, variable).
pub const LIMIT_VAR_ALIASES: &[(&str, &str)] = &[("require_verified_email", "ICOSISTEM_REQUIRE_VERIFIED_EMAIL")];

/// Shortest JWT secret accepted in production: the library's own floor (32 bytes, the HS256 key
/// size), which `HttpConfig::validate` applies in every environment. Kept as a name here so the
/// start-up check can say it before the router is built; one number, one place.
pub const MIN_PRODUCTION_SECRET_BYTES: usize = icosistem_http::MIN_JWT_SECRET_BYTES;

/// Where the server runs. Only `production` changes behaviour: it refuses unsafe settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Anything but `production` (the default): a missing JWT secret is generated, the in-memory
    /// store is allowed.
    Development,
    /// `ICOSISTEM_ENV=production`.
    Production,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Text,
    /// One JSON object per line (`LOG_FORMAT=json`), for log collectors.
    Json,
}

/// Everything the server reads from the environment. See the crate docs for the variables.
#[derive(Clone)]
pub struct Config {
    /// `ICOSISTEM_ENV`.
    pub environment: Environment,
    /// `ICOSISTEM_ADDR` (default `127.0.0.1:8080`).
    pub addr: SocketAddr,
    /// `DATABASE_URL`; `None` selects the in-memory store. A secret: it may hold a password.
    pub database_url: Option<SecretString>,
    /// `ICOSISTEM_DB_MAX_CONNECTIONS` (default 20).
    pub db_max_connections: u32,
    /// `ICOSISTEM_AUTO_MIGRATE` (default true): apply migrations when `serve` starts.
    pub auto_migrate: bool,
    /// `JWT_SECRET_KEY`, else `SECRET_KEY`; `None` outside production means "generate one".
    pub jwt_secret: Option<SecretString>,
    /// `ICOSISTEM_ADMIN_EMAIL` + `ICOSISTEM_ADMIN_PASSWORD`: the admin `serve` ensures exists.
    pub admin: Option<(String, SecretString)>,
    /// The domain's limits: `Limits::default()` with every `ICOSISTEM_LIMIT_<FIELD>` that is set
    /// (see [`limit_var`]), checked by `Limits::validate`.
    pub limits: Limits,
    /// `LOG_LEVEL`: a tracing `EnvFilter` directive (default `info`).
    pub log_level: String,
    /// `LOG_FORMAT`: `json`, or text otherwise.
    pub log_format: LogFormat,
    /// `ICOSISTEM_OUTBOX_INTERVAL_SECS` (default 5): how often pending emails are delivered.
    pub outbox_interval: Duration,
    /// `ICOSISTEM_JOBS_INTERVAL_SECS` (default 60): how often the time-driven jobs run.
    pub jobs_interval: Duration,
    /// `ICOSISTEM_RUN_JOBS` (default true): whether `serve` runs outbox delivery and the jobs
    /// itself (the single-process setup); `false` when a separate `worker` is deployed.
    pub run_jobs: bool,
    /// `ICOSISTEM_PASSWORD_HASH_CONCURRENCY` (default: half the CPUs, at least one): how many argon2id
    /// hashes (logins, registrations, password changes) run at once; each holds 19 MiB, so this
    /// bounds the memory a login flood can take. Others wait their turn.
    pub password_hash_concurrency: Option<u32>,
    /// `REDIS_URL`: the Redis shared by the replicas' rate limiters (and checked by readiness);
    /// `None` = limits counted in process. A secret: it may hold a password.
    pub redis_url: Option<SecretString>,
    /// `ICOSISTEM_REDIS_CA_FILE`: PEM certificates of the private CA a `rediss://` Redis's
    /// certificate must chain to (default: the webpki roots, Mozilla's CAs).
    pub redis_ca_file: Option<std::path::PathBuf>,
    /// `ICOSISTEM_RATE_LIMIT_ENABLED` (default true) and `ICOSISTEM_RATE_LIMIT_{AUTH,API,EXPORT}_{PER_SECOND,BURST}`
    /// (defaults 1/5, 10/20 and 1/3, the deployment guide's).
    pub rate_limits: RateLimits,
    /// `ICOSISTEM_CORS_ORIGINS`: comma-separated allowed origins (default none: no CORS headers).
    pub cors_origins: Vec<String>,
    /// `ICOSISTEM_TRUST_FORWARDED_FOR` (default false): take the client IP from `X-Forwarded-For`
    /// (set it only behind a proxy that writes that header, like the Kubernetes ingress).
    pub trust_forwarded_for: bool,
    /// The connection limits of `serve` (see `icosistem_http::serve`):
    /// `ICOSISTEM_HEADER_READ_TIMEOUT_SECS` (10), `ICOSISTEM_KEEP_ALIVE_TIMEOUT_SECS` (75),
    /// `ICOSISTEM_BODY_READ_TIMEOUT_SECS` (15), `ICOSISTEM_SHUTDOWN_GRACE_SECS` (20),
    /// `ICOSISTEM_MAX_CONNECTIONS` (4096), `ICOSISTEM_MAX_CONNECTIONS_PER_IP` (256, `0` = no cap;
    /// no cap by default when `ICOSISTEM_TRUST_FORWARDED_FOR` is set, since every connection then
    /// comes from the proxy), `ICOSISTEM_MAX_HEADERS` (100), `ICOSISTEM_MAX_HEADER_BYTES` (32768).
    pub serve: ServeLimits,
    /// `ICOSISTEM_DB_MIN_CONNECTIONS` (default 2): connections kept open while idle.
    pub db_min_connections: u32,
    /// `ICOSISTEM_DB_ACQUIRE_TIMEOUT_MS` (default 2000): how long a request waits for a pooled
    /// connection before answering 503 `unavailable` with `Retry-After`.
    pub db_acquire_timeout: Duration,
    /// `ICOSISTEM_DB_CHECK_IDLE_AFTER_SECS` (default 30): a pooled connection idle this long is
    /// pinged before use (others are not: no round trip per request).
    pub db_check_idle_after: Duration,
    /// `ICOSISTEM_DB_WARM_CONNECTIONS` (default: half of `ICOSISTEM_DB_MAX_CONNECTIONS`; 0 =
    /// off): clean connections handed from one unit of work to the next without the ping sqlx
    /// sends on every release to its pool. At most `ICOSISTEM_DB_MAX_CONNECTIONS - 1`, so job
    /// locks always find a connection.
    pub db_warm_connections: u32,
    /// `ICOSISTEM_CALLER_CACHE_TTL_MS` (default 1000; 0 = off): how long an authenticated
    /// caller's user row is reused. A suspension, role change or revoked session evicts it at
    /// once on the replica that committed it and, with `REDIS_URL`, on the others when the
    /// pub/sub message arrives; this TTL is the bound without Redis or while it is down.
    pub caller_cache_ttl: Duration,
    /// `DATABASE_READ_URL`: a read replica of `DATABASE_URL` for the lists, counts and
    /// analytics of read-only units of work (see `icosistem_store_postgres`, "Read replica");
    /// `None`: everything on the primary. A secret, like `DATABASE_URL`.
    pub database_read_url: Option<SecretString>,
    /// `ICOSISTEM_DB_READ_MAX_CONNECTIONS` (default: `ICOSISTEM_DB_MAX_CONNECTIONS`): the read
    /// replica's pool size (its other pool settings are the primary's).
    pub db_read_max_connections: u32,
    /// `ICOSISTEM_READ_AFTER_WRITE_MS` (default 2000): after a caller's write commits, their
    /// reads stay on the primary this long (on this process).
    pub read_after_write: Duration,
    /// `ICOSISTEM_LIVE_HEARTBEAT_SECS` (default 15): heartbeat interval of the live notification
    /// stream (`GET /api/v2/notifications/stream`); keep it under the proxy's read timeout.
    pub live_heartbeat: Duration,
    /// `ICOSISTEM_LIVE_MAX_STREAMS_PER_USER` (default 5): live streams one user may hold open
    /// per process; one more answers 429.
    pub live_max_streams_per_user: u32,
    /// The seed's `MAIL_SERVER`, `MAIL_PORT`, `MAIL_USE_TLS`, `MAIL_USE_SSL`, `MAIL_USERNAME`,
    /// `MAIL_PASSWORD`, `MAIL_DEFAULT_SENDER`, plus `MAIL_TIMEOUT_SECS`, `MAIL_POOL_SIZE` and
    /// `ICOSISTEM_PUBLIC_URL` (the links in emails): email over SMTP. `None` (no
    /// `MAIL_SERVER`): outbox messages are written to the log.
    pub mail: Option<icosistem_delivery::SmtpConfig>,
    /// `ICOSISTEM_MAIL_LOG_ONLY` (default false): lets production run without `MAIL_SERVER`,
    /// writing emails to the log (a staging copy, an outage of the relay).
    pub mail_log_only: bool,
    /// Webhook delivery: `ICOSISTEM_WEBHOOK_TIMEOUT_SECS` (default 10) and
    /// `ICOSISTEM_WEBHOOK_ALLOW_PRIVATE` (default false: private, loopback and link-local
    /// targets are refused).
    pub webhooks: icosistem_delivery::WebhookConfig,
}

// Hand-written so `{:?}` can never print the database password or the secrets.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("addr", &self.addr)
            .field("database", &self.database_url.as_ref().map(|_| "postgres"))
            .field("db_max_connections", &self.db_max_connections)
            .field("auto_migrate", &self.auto_migrate)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "[set]"))
            .field("admin", &self.admin.as_ref().map(|(email, _)| email))
            .field("limits", &self.limits)
            .field("log_level", &self.log_level)
            .field("log_format", &self.log_format)
            .field("outbox_interval", &self.outbox_interval)
            .field("jobs_interval", &self.jobs_interval)
            .field("run_jobs", &self.run_jobs)
            .field("password_hash_concurrency", &self.password_hash_concurrency)
            .field("redis", &self.redis_url.as_ref().map(|_| "[set]"))
            .field("redis_ca_file", &self.redis_ca_file)
            .field("rate_limits", &self.rate_limits)
            .field("cors_origins", &self.cors_origins)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("serve", &self.serve)
            .field("db_min_connections", &self.db_min_connections)
            .field("db_acquire_timeout", &self.db_acquire_timeout)
            .field("db_check_idle_after", &self.db_check_idle_after)
            .field("db_warm_connections", &self.db_warm_connections)
            .field("caller_cache_ttl", &self.caller_cache_ttl)
            .field("database_read", &self.database_read_url.as_ref().map(|_| "postgres"))
            .field("db_read_max_connections", &self.db_read_max_connections)
            .field("read_after_write", &self.read_after_write)
            .field("live_heartbeat", &self.live_heartbeat)
            .field("live_max_streams_per_user", &self.live_max_streams_per_user)
            // SmtpConfig's Debug redacts the password.
            .field("mail", &self.mail)
            .field("mail_log_only", &self.mail_log_only)
            .field("webhooks", &self.webhooks)
            .finish()
    }
}

/// Why the configuration was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A variable has a value that does not parse.
    Invalid {
        /// The variable.
        var: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// Only one of `ICOSISTEM_ADMIN_EMAIL` / `ICOSISTEM_ADMIN_PASSWORD` is set.
    IncompleteAdmin,
    /// Production without a JWT secret, or with one shorter than 32 bytes.
    WeakSecret,
    /// Production on the in-memory store (everything would be lost on restart).
    InMemoryStore,
    /// A `MAIL_*` variable is missing or malformed: the variable and why.
    Mail(String),
    /// Production delivering the outbox without `MAIL_SERVER` (no user would ever get a
    /// verification email) and without `ICOSISTEM_MAIL_LOG_ONLY=true`.
    NoMail,
    /// `ICOSISTEM_LIMIT_*` values that do not parse, or that break a rule between limits (a
    /// shortest session longer than the longest): every one of them.
    Limits(Vec<LimitProblem>),
}

/// One refused limit: its variable and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitProblem {
    /// The variable (`ICOSISTEM_LIMIT_SESSION_MIN_MINUTES`).
    pub var: String,
    /// Why, completing the variable's name (`must be at most session_max_minutes`).
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid { var, expected } => write!(f, "{var} must be {expected}"),
            Self::IncompleteAdmin => {
                f.write_str("ICOSISTEM_ADMIN_EMAIL and ICOSISTEM_ADMIN_PASSWORD must be set together")
            }
            Self::WeakSecret => write!(
                f,
                "ICOSISTEM_ENV=production requires JWT_SECRET_KEY (or SECRET_KEY) of at least \
                 {MIN_PRODUCTION_SECRET_BYTES} bytes"
            ),
            Self::InMemoryStore => f.write_str(
                "ICOSISTEM_ENV=production requires DATABASE_URL: the in-memory store loses everything on restart",
            ),
            Self::Mail(problem) => f.write_str(problem),
            Self::NoMail => f.write_str(
                "ICOSISTEM_ENV=production requires MAIL_SERVER and MAIL_DEFAULT_SENDER (SMTP for the \
                 verification and reset emails), or ICOSISTEM_MAIL_LOG_ONLY=true to write emails to the log",
            ),
            Self::Limits(problems) => {
                for (i, problem) in problems.iter().enumerate() {
                    let separator = if i == 0 { "" } else { "; " };
                    write!(f, "{separator}{} {}", problem.var, problem.reason)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`. Empty values count as unset, because orchestrators
    /// often render an unset variable as `VAR=`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let environment = match get("ICOSISTEM_ENV").map(|v| v.to_ascii_lowercase()).as_deref() {
            Some("production" | "prod") => Environment::Production,
            _ => Environment::Development,
        };
        let addr = match get("ICOSISTEM_ADDR") {
            Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
                var: "ICOSISTEM_ADDR",
                expected: "a socket address such as 127.0.0.1:8080",
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let admin = match (get("ICOSISTEM_ADMIN_EMAIL"), get("ICOSISTEM_ADMIN_PASSWORD")) {
            (Some(email), Some(password)) => Some((email, SecretString::new(password))),
            (None, None) => None,
            _ => return Err(ConfigError::IncompleteAdmin),
        };
        let log_format = match get("LOG_FORMAT").map(|v| v.to_ascii_lowercase()).as_deref() {
            Some("json") => LogFormat::Json,
            _ => LogFormat::Text,
        };
        let trust_forwarded_for = parse_bool(&get, "ICOSISTEM_TRUST_FORWARDED_FOR", false)?;
        let db_max_connections = parse_number(&get, "ICOSISTEM_DB_MAX_CONNECTIONS", 20)?;
        Ok(Self {
            serve: serve_limits(&get, trust_forwarded_for)?,
            environment,
            addr,
            database_url: get("DATABASE_URL").map(SecretString::new),
            db_max_connections,
            auto_migrate: parse_bool(&get, "ICOSISTEM_AUTO_MIGRATE", true)?,
            jwt_secret: get("JWT_SECRET_KEY")
                .or_else(|| get("SECRET_KEY"))
                .map(SecretString::new),
            admin,
            limits: limits(&get)?,
            // The deployment guide writes `LOG_LEVEL=INFO`; filter directives are lowercase.
            log_level: get("LOG_LEVEL").map_or_else(|| "info".to_owned(), |v| v.to_ascii_lowercase()),
            log_format,
            outbox_interval: Duration::from_secs(
                parse_number(&get, "ICOSISTEM_OUTBOX_INTERVAL_SECS", 5)?.max(1).into(),
            ),
            jobs_interval: Duration::from_secs(parse_number(&get, "ICOSISTEM_JOBS_INTERVAL_SECS", 60)?.max(1).into()),
            run_jobs: parse_bool(&get, "ICOSISTEM_RUN_JOBS", true)?,
            password_hash_concurrency: match get("ICOSISTEM_PASSWORD_HASH_CONCURRENCY") {
                Some(_) => Some(parse_positive(&get, "ICOSISTEM_PASSWORD_HASH_CONCURRENCY", 1)?),
                None => None,
            },
            redis_url: get("REDIS_URL").map(SecretString::new),
            redis_ca_file: get("ICOSISTEM_REDIS_CA_FILE").map(Into::into),
            rate_limits: rate_limits(&get)?,
            cors_origins: get("ICOSISTEM_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|o| !o.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            trust_forwarded_for,
            db_min_connections: parse_number(&get, "ICOSISTEM_DB_MIN_CONNECTIONS", 2)?,
            db_acquire_timeout: Duration::from_millis(
                parse_number(&get, "ICOSISTEM_DB_ACQUIRE_TIMEOUT_MS", 2000)?
                    .max(1)
                    .into(),
            ),
            db_check_idle_after: Duration::from_secs(
                parse_number(&get, "ICOSISTEM_DB_CHECK_IDLE_AFTER_SECS", 30)?.into(),
            ),
            db_warm_connections: warm_connections(&get, db_max_connections)?,
            caller_cache_ttl: Duration::from_millis(parse_number(&get, "ICOSISTEM_CALLER_CACHE_TTL_MS", 1000)?.into()),
            database_read_url: get("DATABASE_READ_URL").map(SecretString::new),
            db_read_max_connections: parse_positive(&get, "ICOSISTEM_DB_READ_MAX_CONNECTIONS", db_max_connections)?,
            read_after_write: Duration::from_millis(parse_number(&get, "ICOSISTEM_READ_AFTER_WRITE_MS", 2000)?.into()),
            live_heartbeat: Duration::from_secs(parse_positive(&get, "ICOSISTEM_LIVE_HEARTBEAT_SECS", 15)?.into()),
            live_max_streams_per_user: parse_positive(&get, "ICOSISTEM_LIVE_MAX_STREAMS_PER_USER", 5)?,
            mail: icosistem_delivery::SmtpConfig::from_lookup(&lookup).map_err(|e| ConfigError::Mail(e.to_string()))?,
            mail_log_only: parse_bool(&get, "ICOSISTEM_MAIL_LOG_ONLY", false)?,
            webhooks: icosistem_delivery::WebhookConfig {
                timeout: Duration::from_secs(parse_positive(&get, "ICOSISTEM_WEBHOOK_TIMEOUT_SECS", 10)?.into()),
                allow_private: parse_bool(&get, "ICOSISTEM_WEBHOOK_ALLOW_PRIVATE", false)?,
            },
        })
    }

    /// The PostgreSQL pool settings these variables select.
    pub fn pool_settings(&self) -> icosistem_store_postgres::PoolSettings {
        icosistem_store_postgres::PoolSettings {
            max_connections: self.db_max_connections,
            min_connections: self.db_min_connections,
            acquire_timeout: self.db_acquire_timeout,
            check_idle_after: self.db_check_idle_after,
            warm_connections: self.db_warm_connections,
            ..icosistem_store_postgres::PoolSettings::default()
        }
    }

    /// The read replica's pool settings: the primary's, with its own size.
    pub fn read_pool_settings(&self) -> icosistem_store_postgres::PoolSettings {
        icosistem_store_postgres::PoolSettings {
            max_connections: self.db_read_max_connections,
            ..self.pool_settings()
        }
    }

    /// The rules `serve` enforces before starting: in production, a JWT secret of at least 32
    /// bytes, a real database and, when it delivers the outbox itself (`ICOSISTEM_RUN_JOBS`),
    /// SMTP ([`check_mail`](Self::check_mail)). Other commands (`migrate`, `create-admin`) need
    /// none of it.
    pub fn check_serve(&self) -> Result<(), ConfigError> {
        if self.environment != Environment::Production {
            return Ok(());
        }
        let strong = self
            .jwt_secret
            .as_ref()
            .is_some_and(|s| s.expose().len() >= MIN_PRODUCTION_SECRET_BYTES);
        if !strong {
            return Err(ConfigError::WeakSecret);
        }
        if self.database_url.is_none() {
            return Err(ConfigError::InMemoryStore);
        }
        if self.run_jobs {
            self.check_mail()?;
        }
        Ok(())
    }

    /// The rule of whatever delivers the outbox (`worker`, `serve` with in-process jobs): in
    /// production, `MAIL_SERVER` is set, or `ICOSISTEM_MAIL_LOG_ONLY=true` says the log is meant.
    pub fn check_mail(&self) -> Result<(), ConfigError> {
        if self.environment == Environment::Production && self.mail.is_none() && !self.mail_log_only {
            return Err(ConfigError::NoMail);
        }
        Ok(())
    }

    /// The core's limits with this configuration's overrides.
    pub fn limits(&self) -> Limits {
        self.limits.clone()
    }
}

/// The variable that sets `field`: [`LIMIT_VAR_PREFIX`] and its name upper-cased.
pub fn limit_var(field: &LimitField) -> String {
    format!("{LIMIT_VAR_PREFIX}{}", field.name().to_ascii_uppercase())
}

/// The older variable still read for `field`, if any.
fn limit_alias(field: &LimitField) -> Option<&'static str> {
    LIMIT_VAR_ALIASES
        .iter()
        .find(|(name, _)| *name == field.name())
        .map(|(_, alias)| *alias)
}

/// `Limits::default()` with every limit variable that is set, or every problem found: values
/// that do not parse first, then (when all parse) the rules between limits.
fn limits(get: &impl Fn(&str) -> Option<String>) -> Result<Limits, ConfigError> {
    let mut limits = Limits::default();
    let mut problems = Vec::new();
    let fields = Limits::fields();
    for field in &fields {
        let var = limit_var(field);
        let alias = limit_alias(field);
        let Some((var, raw)) = get(&var)
            .map(|raw| (var, raw))
            .or_else(|| alias.and_then(|alias| get(alias).map(|raw| (alias.to_owned(), raw))))
        else {
            continue;
        };
        if let Err(expected) = field.set(&mut limits, &raw) {
            problems.push(LimitProblem {
                var,
                reason: format!("must be {expected}"),
            });
        }
    }
    if problems.is_empty()
        && let Err(errors) = limits.validate()
    {
        problems.extend(errors.fields().iter().map(|error| LimitProblem {
            var: format!("{LIMIT_VAR_PREFIX}{}", error.field.to_ascii_uppercase()),
            reason: error.message.clone().into_owned(),
        }));
    }
    if problems.is_empty() {
        Ok(limits)
    } else {
        Err(ConfigError::Limits(problems))
    }
}

/// The Markdown table of every limit variable: its name, default and meaning. README's
/// configuration section holds it verbatim (a test compares them), so it cannot drift from
/// `Limits`.
pub fn limits_table() -> String {
    let defaults = Limits::default();
    let mut table = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for field in Limits::fields() {
        let meaning = field.doc().split_whitespace().collect::<Vec<_>>().join(" ");
        let var = limit_var(&field);
        let alias = limit_alias(&field)
            .map(|alias| format!(" (alias `{alias}`)"))
            .unwrap_or_default();
        let default = field.get(&defaults);
        // Writing to a String cannot fail.
        let _ = writeln!(table, "| `{var}`{alias} | `{default}` | {meaning} |");
    }
    table
}

fn rate_limits(get: &impl Fn(&str) -> Option<String>) -> Result<RateLimits, ConfigError> {
    let defaults = RateLimits::default();
    let quota = |per_second: &'static str, burst: &'static str, default: Quota| -> Result<Quota, ConfigError> {
        Ok(Quota::new(
            parse_positive(get, per_second, default.per_second)?,
            parse_positive(get, burst, default.burst)?,
        ))
    };
    Ok(RateLimits::default()
        .with_enabled(parse_bool(get, "ICOSISTEM_RATE_LIMIT_ENABLED", true)?)
        .with_auth(quota(
            "ICOSISTEM_RATE_LIMIT_AUTH_PER_SECOND",
            "ICOSISTEM_RATE_LIMIT_AUTH_BURST",
            defaults.auth,
        )?)
        .with_api(quota(
            "ICOSISTEM_RATE_LIMIT_API_PER_SECOND",
            "ICOSISTEM_RATE_LIMIT_API_BURST",
            defaults.api,
        )?)
        .with_export(quota(
            "ICOSISTEM_RATE_LIMIT_EXPORT_PER_SECOND",
            "ICOSISTEM_RATE_LIMIT_EXPORT_BURST",
            defaults.export,
        )?))
}

fn serve_limits(get: &impl Fn(&str) -> Option<String>, behind_proxy: bool) -> Result<ServeLimits, ConfigError> {
    let defaults = ServeLimits::default();
    let secs = |var: &'static str, default: Duration| -> Result<Duration, ConfigError> {
        let default = u32::try_from(default.as_secs()).unwrap_or(u32::MAX);
        Ok(Duration::from_secs(parse_positive(get, var, default)?.into()))
    };
    let count = |var: &'static str, default: usize| -> Result<usize, ConfigError> {
        let default = u32::try_from(default).unwrap_or(u32::MAX);
        Ok(parse_positive(get, var, default)? as usize)
    };
    // Behind a proxy every connection has the proxy's address: a per-address cap would cap the
    // proxy. Set explicitly, it applies anyway; 0 turns it off.
    let per_ip_default = if behind_proxy {
        0
    } else {
        defaults.max_connections_per_ip.unwrap_or(0)
    };
    let per_ip = parse_number(
        get,
        "ICOSISTEM_MAX_CONNECTIONS_PER_IP",
        u32::try_from(per_ip_default).unwrap_or(u32::MAX),
    )?;
    Ok(defaults
        .with_header_read_timeout(secs(
            "ICOSISTEM_HEADER_READ_TIMEOUT_SECS",
            defaults.header_read_timeout,
        )?)
        .with_keep_alive_timeout(secs("ICOSISTEM_KEEP_ALIVE_TIMEOUT_SECS", defaults.keep_alive_timeout)?)
        .with_body_read_timeout(secs("ICOSISTEM_BODY_READ_TIMEOUT_SECS", defaults.body_read_timeout)?)
        .with_shutdown_grace(secs("ICOSISTEM_SHUTDOWN_GRACE_SECS", defaults.shutdown_grace)?)
        .with_max_connections(count("ICOSISTEM_MAX_CONNECTIONS", defaults.max_connections)?)
        .with_max_connections_per_ip((per_ip > 0).then_some(per_ip as usize))
        .with_max_headers(count("ICOSISTEM_MAX_HEADERS", defaults.max_headers)?)
        .with_max_header_bytes(count("ICOSISTEM_MAX_HEADER_BYTES", defaults.max_header_bytes)?))
}

/// A number of at least 1 (a zero rate would refuse everything: turn limiting off instead).
fn parse_positive(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: u32) -> Result<u32, ConfigError> {
    match parse_number(get, var, default)? {
        0 => Err(ConfigError::Invalid {
            var,
            expected: "a positive integer",
        }),
        n => Ok(n),
    }
}

fn parse_bool(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match get(var).map(|v| v.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(_) => Err(ConfigError::Invalid {
            var,
            expected: "true or false",
        }),
    }
}

/// `ICOSISTEM_DB_WARM_CONNECTIONS`: half the pool unless set; at most one less than the pool,
/// so a connection is always left for job locks and health checks.
fn warm_connections(get: &impl Fn(&str) -> Option<String>, max_connections: u32) -> Result<u32, ConfigError> {
    let var = "ICOSISTEM_DB_WARM_CONNECTIONS";
    let warm = parse_number(get, var, max_connections / 2)?;
    if warm > 0 && warm >= max_connections {
        return Err(ConfigError::Invalid {
            var,
            expected: "a number below ICOSISTEM_DB_MAX_CONNECTIONS",
        });
    }
    Ok(warm)
}

fn parse_number(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: u32) -> Result<u32, ConfigError> {
    get(var).map_or(Ok(default), |v| {
        v.parse().map_err(|_| ConfigError::Invalid {
            var,
            expected: "a positive integer",
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    /// Warm connections: half the pool by default, settable, and refused by name when they
    /// would leave no connection for the pool's other users.
    #[test]
    fn warm_connections_leave_the_pool_a_connection() {
        let cfg = parse(&[("ICOSISTEM_DB_MAX_CONNECTIONS", "12")]).expect("valid");
        assert_eq!(cfg.pool_settings().warm_connections, 6);
        let cfg = parse(&[("ICOSISTEM_DB_WARM_CONNECTIONS", "0")]).expect("off");
        assert_eq!(cfg.pool_settings().warm_connections, 0);
        let err = parse(&[
            ("ICOSISTEM_DB_MAX_CONNECTIONS", "4"),
            ("ICOSISTEM_DB_WARM_CONNECTIONS", "4"),
        ])
        .expect_err("no connection left");
        assert!(err.to_string().contains("ICOSISTEM_DB_WARM_CONNECTIONS"), "{err}");
    }

    /// The read replica's settings: off by default; its pool the primary's size unless set; a
    /// zero pool refused by name; the read-after-write window in milliseconds. Its URL is a
    /// secret, like the primary's.
    #[test]
    fn the_read_replica_settings() {
        let cfg = parse(&[("ICOSISTEM_DB_MAX_CONNECTIONS", "12")]).expect("valid");
        assert!(cfg.database_read_url.is_none());
        assert_eq!(cfg.read_pool_settings().max_connections, 12);
        assert_eq!(cfg.read_after_write, Duration::from_millis(2000));
        let cfg = parse(&[
            ("DATABASE_READ_URL", "postgres://reader:hunter2@replica:5432/icosistem"),
            ("ICOSISTEM_DB_READ_MAX_CONNECTIONS", "40"),
            ("ICOSISTEM_READ_AFTER_WRITE_MS", "500"),
        ])
        .expect("valid");
        assert_eq!(cfg.read_pool_settings().max_connections, 40);
        assert_eq!(
            cfg.read_pool_settings().acquire_timeout,
            cfg.pool_settings().acquire_timeout
        );
        assert_eq!(cfg.read_after_write, Duration::from_millis(500));
        assert!(!format!("{cfg:?}").contains("hunter2"));
        assert!(matches!(
            parse(&[("ICOSISTEM_DB_READ_MAX_CONNECTIONS", "0")]),
            Err(ConfigError::Invalid {
                var: "ICOSISTEM_DB_READ_MAX_CONNECTIONS",
                ..
            })
        ));
    }

    /// Every limit through its variable: the parsed `Limits` has each value that was set (and
    /// none left at its default, so a field the table missed would show).
    #[test]
    fn every_limit_is_set_from_its_variable() {
        let values: Vec<(String, String)> = Limits::fields()
            .iter()
            .map(|field| {
                let value = match field.name() {
                    "require_verified_email" => "false",
                    "password_min_len" => "16",
                    "password_max_len" => "64",
                    "mentorship_default_months" => "12",
                    "session_min_minutes" => "20",
                    "session_max_minutes" => "90",
                    "session_default_minutes" => "30",
                    "suggestion_min_score" => "0.55",
                    "session_reminders" => "3h,10m",
                    _ if field.expected().starts_with("a duration") => "7h",
                    _ => "7",
                };
                (limit_var(field), value.to_owned())
            })
            .collect();
        let vars: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let cfg = parse(&vars).expect("every limit parses");
        let defaults = Limits::default();
        for (field, (_, value)) in Limits::fields().iter().zip(&values) {
            let mut expected = Limits::default();
            field.set(&mut expected, value).expect("valid");
            assert_eq!(field.get(&cfg.limits), field.get(&expected), "{}", field.name());
            assert_ne!(
                field.get(&cfg.limits),
                field.get(&defaults),
                "{} left at its default",
                field.name()
            );
        }
        assert_eq!(cfg.limits(), cfg.limits);
        assert!(!cfg.limits.require_verified_email);
        assert_eq!(cfg.limits.max_program_participants, 7);
        assert_eq!(cfg.limits.lockout_duration, chrono::Duration::hours(7));
    }

    #[test]
    fn the_older_verified_email_variable_still_counts_and_the_new_one_wins() {
        let cfg = parse(&[("ICOSISTEM_REQUIRE_VERIFIED_EMAIL", "false")]).expect("parses");
        assert!(!cfg.limits.require_verified_email);
        let cfg = parse(&[
            ("ICOSISTEM_REQUIRE_VERIFIED_EMAIL", "false"),
            ("ICOSISTEM_LIMIT_REQUIRE_VERIFIED_EMAIL", "true"),
        ])
        .expect("parses");
        assert!(cfg.limits.require_verified_email);
    }

    #[test]
    fn bad_limits_stop_the_server_naming_each_variable_and_why() {
        let error = parse(&[
            ("ICOSISTEM_LIMIT_MAX_ACTIVE_PROJECTS", "0"),
            ("ICOSISTEM_LIMIT_LOCKOUT_DURATION", "15"),
            ("ICOSISTEM_REQUIRE_VERIFIED_EMAIL", "maybe"),
        ])
        .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "ICOSISTEM_LIMIT_MAX_ACTIVE_PROJECTS must be a whole number of at least 1; \
             ICOSISTEM_LIMIT_LOCKOUT_DURATION must be a duration: a whole number and a unit s, m, h or d \
             (90s, 15m, 48h, 30d); ICOSISTEM_REQUIRE_VERIFIED_EMAIL must be true or false"
        );
        // Each value parses, but together they make no sense.
        let error = parse(&[
            ("ICOSISTEM_LIMIT_SESSION_MIN_MINUTES", "120"),
            ("ICOSISTEM_LIMIT_SESSION_MAX_MINUTES", "60"),
            ("ICOSISTEM_LIMIT_PASSWORD_MIN_LEN", "200"),
        ])
        .expect_err("refused");
        let ConfigError::Limits(problems) = error else {
            panic!("expected limit problems, got {error:?}");
        };
        let vars: Vec<&str> = problems.iter().map(|p| p.var.as_str()).collect();
        assert_eq!(
            vars,
            [
                "ICOSISTEM_LIMIT_PASSWORD_MIN_LEN",
                "ICOSISTEM_LIMIT_SESSION_MIN_MINUTES",
                "ICOSISTEM_LIMIT_SESSION_DEFAULT_MINUTES",
            ]
        );
        assert_eq!(problems[1].reason, "must be at most session_max_minutes");
    }

    #[test]
    fn the_export_quota_comes_from_the_environment() {
        let defaults = RateLimits::default();
        let cfg = parse(&[]).expect("parses");
        assert_eq!(cfg.rate_limits.export, defaults.export);
        let cfg = parse(&[
            ("ICOSISTEM_RATE_LIMIT_EXPORT_PER_SECOND", "4"),
            ("ICOSISTEM_RATE_LIMIT_EXPORT_BURST", "12"),
        ])
        .expect("parses");
        assert_eq!(
            (cfg.rate_limits.export.per_second, cfg.rate_limits.export.burst),
            (4, 12)
        );
        // The other quotas are left alone.
        assert_eq!(
            (cfg.rate_limits.auth, cfg.rate_limits.api),
            (defaults.auth, defaults.api)
        );
        for var in [
            "ICOSISTEM_RATE_LIMIT_EXPORT_PER_SECOND",
            "ICOSISTEM_RATE_LIMIT_EXPORT_BURST",
        ] {
            for bad in ["0", "-1", "fast"] {
                assert!(
                    matches!(parse(&[(var, bad)]), Err(ConfigError::Invalid { var: v, .. }) if v == var),
                    "{var}={bad}"
                );
            }
        }
        // README's table of the server's environment names both.
        let readme = include_str!("../../../README.md");
        assert!(readme.contains("| `ICOSISTEM_RATE_LIMIT_EXPORT_PER_SECOND` / `_EXPORT_BURST` | `1` / `3` |"));
    }

    /// README's table of limit variables is [`limits_table`] verbatim: a field added to `Limits`
    /// fails this test until the README lists it (paste the printed table).
    #[test]
    fn the_readme_lists_every_limit_variable() {
        let readme = include_str!("../../../README.md");
        let table = limits_table();
        assert!(
            readme.contains(&table),
            "README.md's table of limits is out of date; replace it with:\n\n{table}"
        );
        for field in Limits::fields() {
            assert!(readme.contains(&format!("| `{}`", limit_var(&field))));
        }
    }
}
