//! `icosistem-server`: the command line of the Icosistem server. See the library docs
//! (`icosistem_server`) for the environment variables; this file only parses the command,
//! sets up logging (and OpenTelemetry traces, `icosistem_server::telemetry`) and picks the
//! store.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use icosistem_core::model::secret::SecretString;
use icosistem_server::telemetry::Telemetry;
use icosistem_server::{
    BoxError, Config, LogFormat, LogNotifier, ServerNotifier, demo, ecosystem, ensure_admin, healthcheck, run,
    run_worker, shutdown_signal,
};
use icosistem_store_memory::MemoryStore;
use icosistem_store_postgres::PgStore;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, fmt};

/// The Icosistem HTTP server. Configuration comes from the environment (ICOSISTEM_ADDR,
/// DATABASE_URL, JWT_SECRET_KEY, ICOSISTEM_ENV, LOG_LEVEL, LOG_FORMAT …; see the README).
#[derive(Debug, Parser)]
#[command(name = "icosistem-server", version, about)]
struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API: the in-memory store with demo data when DATABASE_URL is unset, PostgreSQL
    /// (migrated on start unless ICOSISTEM_AUTO_MIGRATE=false) when it is set.
    Serve,
    /// Apply the PostgreSQL migrations of DATABASE_URL and exit.
    Migrate,
    /// Create the demo data in the PostgreSQL database of DATABASE_URL (a no-op when present).
    SeedDemo,
    /// Run outbox delivery and the time-driven jobs (no HTTP), until SIGTERM/ctrl-c. With
    /// DATABASE_URL, each round takes a PostgreSQL advisory lock so only one worker replica runs
    /// it at a time; without, it runs on an empty in-memory store (only useful for trying it).
    Worker,
    /// Probe a running server: exit 0 when GET URL answers 200 within 3 s, 1 otherwise.
    Healthcheck {
        /// The URL to probe (default: http://$ICOSISTEM_ADDR/health).
        #[arg(long)]
        url: Option<String>,
    },
    /// Create an admin in the PostgreSQL database of DATABASE_URL unless that email exists.
    CreateAdmin {
        /// The admin's email.
        #[arg(long, env = "ICOSISTEM_ADMIN_EMAIL")]
        email: String,
        /// The admin's password (prefer the environment variable: arguments show up in `ps`).
        #[arg(long, env = "ICOSISTEM_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

/// See `icosistem_server::malloc` for why, and for the options it runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Before any thread or allocation that matters: see `icosistem_server::malloc`.
    icosistem_server::malloc::reexec_with_tunables();
    serve_main()
}

#[tokio::main]
async fn serve_main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = match Config::from_env() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("icosistem-server: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    // Traces only for the long-running commands: a healthcheck or a migration has nothing to
    // trace, and would start (and wait for) an exporter for nothing.
    let telemetry = match &command {
        Command::Serve | Command::Worker => Telemetry::from_env().unwrap_or_else(|e| {
            // Traces are an aid, not a reason to refuse to serve.
            eprintln!("icosistem-server: OpenTelemetry traces are off: {e}");
            None
        }),
        _ => None,
    };
    init_logging(&cfg, telemetry.as_ref());
    if telemetry.is_some() {
        tracing::info!("exporting OpenTelemetry traces (OTEL_EXPORTER_OTLP_ENDPOINT)");
    }
    let outcome = execute(command, cfg).await;
    if let Some(telemetry) = telemetry {
        telemetry.shutdown().await;
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "icosistem-server failed");
            ExitCode::FAILURE
        }
    }
}

/// The subscriber: logs filtered by `LOG_LEVEL`, and — with traces on — the OpenTelemetry
/// layer with a filter of its own (INFO: the request and store spans, whatever the log level).
fn init_logging(cfg: &Config, telemetry: Option<&Telemetry>) {
    let filter = EnvFilter::try_new(&cfg.log_level).unwrap_or_else(|e| {
        eprintln!(
            "icosistem-server: LOG_LEVEL {:?} is invalid ({e}); using info",
            cfg.log_level
        );
        EnvFilter::new("info")
    });
    let traces = telemetry.map(|t| t.layer().with_filter(LevelFilter::INFO));
    let registry = tracing_subscriber::registry().with(traces);
    match cfg.log_format {
        LogFormat::Json => registry.with(fmt::layer().json().with_filter(filter)).init(),
        LogFormat::Text => registry.with(fmt::layer().with_filter(filter)).init(),
    }
}

async fn execute(command: Command, cfg: Config) -> Result<(), BoxError> {
    tracing::debug!(?cfg, "configuration");
    match command {
        Command::Serve => {
            cfg.check_serve()?;
            match &cfg.database_url {
                None => {
                    tracing::info!("DATABASE_URL is not set: in-memory store with demo data (lost on exit)");
                    run(MemoryStore::new(), &cfg, true, None).await
                }
                Some(url) => {
                    let store = connect(&cfg, url).await?;
                    if cfg.auto_migrate {
                        store.migrate().await?;
                        tracing::info!("migrations applied");
                    }
                    let served = run(store.clone(), &cfg, false, Some(store.clone())).await;
                    // After the last request and the last outbox pass: nothing uses the pool.
                    store.close().await;
                    served
                }
            }
        }
        Command::Worker => {
            cfg.check_mail()?;
            let interval = (cfg.outbox_interval, cfg.jobs_interval);
            match &cfg.database_url {
                None => {
                    if cfg.environment == icosistem_server::Environment::Production {
                        return Err(icosistem_server::ConfigError::InMemoryStore.into());
                    }
                    tracing::warn!("DATABASE_URL is not set: the worker runs on an empty in-memory store");
                    let notifier = ServerNotifier::from_config(&cfg)?;
                    let eco = ecosystem(MemoryStore::new(), &cfg, notifier)
                        .with_blob_store(icosistem_server::blob_store().await?);
                    let eco = std::sync::Arc::new(eco);
                    run_worker(eco, None, interval.0, interval.1, shutdown_signal()).await;
                }
                Some(url) => {
                    let store = connect(&cfg, url).await?;
                    // The worker's notifications (reminders …) wake the serve replicas' live
                    // streams through Redis.
                    let hub = icosistem_server::live_hub(&cfg)?;
                    let live = icosistem_http::live::LiveStore::new(store.clone(), hub);
                    let notifier = ServerNotifier::from_config(&cfg)?;
                    // The worker runs the orphan blob sweep: it sees the same blob store.
                    let eco = ecosystem(live, &cfg, notifier).with_blob_store(icosistem_server::blob_store().await?);
                    let eco = std::sync::Arc::new(eco);
                    let report = run_worker(eco, Some(store.clone()), interval.0, interval.1, shutdown_signal()).await;
                    tracing::info!(?report, "worker stopped");
                    store.close().await;
                }
            }
            Ok(())
        }
        Command::Healthcheck { url } => {
            let url = url.unwrap_or_else(|| format!("http://{}/health", cfg.addr));
            healthcheck(&url).await
        }
        Command::Migrate => {
            let store = connect(&cfg, require_database(&cfg)?).await?;
            store.migrate().await?;
            tracing::info!("migrations applied");
            store.close().await;
            Ok(())
        }
        Command::SeedDemo => {
            let store = connect(&cfg, require_database(&cfg)?).await?;
            if cfg.auto_migrate {
                store.migrate().await?;
            }
            // The demo's emails wait in the outbox for `serve` or `worker` to deliver.
            let eco = ecosystem(store.clone(), &cfg, LogNotifier.into());
            let outcome = demo::seed(&eco).await;
            store.close().await;
            match outcome? {
                demo::SeedOutcome::Created(_) => println!("Demo data created."),
                demo::SeedOutcome::AlreadyPresent(_) => println!("Demo data already present: nothing created."),
            }
            println!("Demo logins (password for all: {}):", demo::DEMO_PASSWORD);
            for l in demo::logins() {
                println!("  {:<13} {}", l.role, l.email);
            }
            Ok(())
        }
        Command::CreateAdmin { email, password } => {
            let store = connect(&cfg, require_database(&cfg)?).await?;
            let eco = ecosystem(store.clone(), &cfg, LogNotifier.into());
            let created = ensure_admin(&eco, &email, &SecretString::new(password)).await;
            store.close().await;
            if created? {
                println!("Admin {email} created.");
            } else {
                println!("A user with email {email} already exists: nothing changed.");
            }
            Ok(())
        }
    }
}

/// The commands that write to a database need one: the in-memory store would vanish on exit.
fn require_database(cfg: &Config) -> Result<&SecretString, BoxError> {
    cfg.database_url
        .as_ref()
        .ok_or_else(|| "DATABASE_URL is not set: this command needs PostgreSQL".into())
}

async fn connect(cfg: &Config, url: &SecretString) -> Result<PgStore, BoxError> {
    icosistem_server::connect_postgres(cfg, url).await
}
