//! # icosistem-runner
//!
//! Drives an Icosistem [`Ecosystem`]'s background work on Tokio. The core is pure: emails and
//! webhooks wait in its outbox, and reminders, sweeps and cleanups wait for someone to run
//! [`Ecosystem::run_due_jobs`]. This crate is that someone:
//!
//! - [`BackgroundRunner`]: outbox delivery every `outbox_every` (default 5 s) and the due jobs
//!   every `jobs_every` (default 1 min), each pass through the core's
//!   [`Runner`], logged through `tracing`, until a
//!   [`Shutdown`] is triggered; the pass in progress then finishes, none is cut short;
//! - [`Shutdown`]: a cloneable stop signal (a cancellation token over `tokio::sync::watch`);
//! - [`Gate`]: an optional guard of each round, e.g. a cluster-wide lock so that several
//!   replicas never run the same round at once; [`Observer`]: a hook on each round's report
//!   (metrics);
//! - [`every`]: the interval loop underneath, for a host's own periodic work;
//! - [`LogNotifier`]: a [`Notifier`] for development that writes each outbox message to the log
//!   instead of sending it.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use icosistem_core::Ecosystem;
//! use icosistem_core::ports::SystemClock;
//! use icosistem_runner::{BackgroundRunner, LogNotifier, Shutdown};
//! use icosistem_store_memory::MemoryStore;
//!
//! # async fn demo() {
//! let eco = Arc::new(Ecosystem::new(MemoryStore::new(), LogNotifier, SystemClock));
//! let shutdown = Shutdown::new();
//! let background = BackgroundRunner::new(Arc::clone(&eco)).spawn(&shutdown);
//! // … serve requests with `eco` …
//! shutdown.trigger();
//! let stats = background.join().await;
//! println!("{} outbox rounds", stats.outbox_rounds);
//! # }
//! ```
//!
//! Without Tokio, call [`Runner::tick`](icosistem_core::runner::Runner::tick) (or
//! [`Ecosystem::tick`]) from whatever scheduler the host has.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use icosistem_core::Ecosystem;
use icosistem_core::error::ErrorChain;
use icosistem_core::model::OutboxMessage;
use icosistem_core::ports::{Clock, DeliveryError, Notifier, Store};
use icosistem_core::runner::{OutboxPass, Runner};
use icosistem_core::service::JobsReport;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// The name of the outbox delivery round (what a [`Gate`] is asked for).
pub const OUTBOX_ROUND: &str = "icosistem:outbox";
/// The name of the jobs round.
pub const JOBS_ROUND: &str = "icosistem:jobs";

/// How often outbox delivery runs by default.
pub const DEFAULT_OUTBOX_EVERY: Duration = Duration::from_secs(5);
/// How often the due jobs run by default.
pub const DEFAULT_JOBS_EVERY: Duration = Duration::from_secs(60);

/// A boxed, sendable future (what [`Gate::run`] takes and returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A stop signal shared by everyone it is cloned to: [`trigger`](Self::trigger) once, and every
/// [`wait`](Self::wait) resolves. Dropping every clone is not a trigger; a loop stops only when
/// told to.
#[derive(Debug, Clone)]
pub struct Shutdown {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Self {
        Self {
            sender: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Tells every waiter to stop. Idempotent.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether [`trigger`](Self::trigger) was called.
    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once the signal is triggered (at once if it already was).
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.sender.subscribe();
        async move {
            // The sender lives in `self`'s Arc, shared by this future's caller; were it gone,
            // nobody could trigger any more, so waiting on would be forever either way.
            if receiver.wait_for(|stopped| *stopped).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// A signal triggered when `future` resolves (a ctrl-c or SIGTERM listener, a test's
    /// oneshot). The watcher task lives until then.
    pub fn on(future: impl Future<Output = ()> + Send + 'static) -> Self {
        let shutdown = Self::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            future.await;
            trigger.trigger();
        });
        shutdown
    }
}

/// Runs `pass` every `period` (the first right away) until `shutdown` is triggered; a pass in
/// progress then finishes, none is cut short. A slow pass is not followed by a burst of
/// catch-up passes: the next waits a full period.
pub fn every<F, Fut>(period: Duration, shutdown: &Shutdown, mut pass: F) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let stop = shutdown.wait();
    tokio::spawn(async move {
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // Stop first: a triggered shutdown wins over a tick that is also ready.
                biased;
                () = &mut stop => break,
                _ = tick.tick() => {}
            }
            pass().await;
        }
    })
}

/// Decides whether this process runs a round now. [`BackgroundRunner`] calls
/// [`run`](Self::run) with the round's name ([`OUTBOX_ROUND`], [`JOBS_ROUND`]) and the round
/// itself; the gate awaits it or not and says which. The default, [`Ungated`], always runs it;
/// a host with several replicas passes a cluster-wide lock (the PostgreSQL store's advisory
/// locks), so two replicas never deliver the same due messages at once.
pub trait Gate: Send + Sync + 'static {
    /// Runs `round` if this process may run the round `name` now; true when it ran.
    fn run<'a>(&'a self, name: &'static str, round: BoxFuture<'a, ()>) -> BoxFuture<'a, bool>;
}

/// The gate of a single process: every round runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ungated;

impl Gate for Ungated {
    fn run<'a>(&'a self, _name: &'static str, round: BoxFuture<'a, ()>) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            round.await;
            true
        })
    }
}

/// Sees the report of every round that ran (after the runner logged it): where a host counts
/// metrics. Both methods default to nothing.
pub trait Observer: Send + Sync + 'static {
    /// An outbox pass finished.
    fn outbox(&self, pass: &OutboxPass) {
        let _ = pass;
    }

    /// A jobs round finished.
    fn jobs(&self, report: &JobsReport) {
        let _ = report;
    }
}

/// An observer that sees nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// How many rounds a [`BackgroundRunner`] ran, and how many its [`Gate`] skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunnerStats {
    /// Outbox passes that ran.
    pub outbox_rounds: u64,
    /// Outbox passes the gate skipped.
    pub outbox_rounds_skipped: u64,
    /// Jobs rounds that ran.
    pub job_rounds: u64,
    /// Jobs rounds the gate skipped.
    pub job_rounds_skipped: u64,
}

#[derive(Debug, Default)]
struct Counters {
    outbox: AtomicU64,
    outbox_skipped: AtomicU64,
    jobs: AtomicU64,
    jobs_skipped: AtomicU64,
}

impl Counters {
    fn stats(&self) -> RunnerStats {
        RunnerStats {
            outbox_rounds: self.outbox.load(Relaxed),
            outbox_rounds_skipped: self.outbox_skipped.load(Relaxed),
            job_rounds: self.jobs.load(Relaxed),
            job_rounds_skipped: self.jobs_skipped.load(Relaxed),
        }
    }
}

/// Outbox delivery and the due jobs of one ecosystem, on two intervals. Build it, then either
/// [`spawn`](Self::spawn) it next to a server or [`run_until`](Self::run_until) a shutdown
/// future (a worker process). Cheap to clone: clones share the ecosystem, gate, observer and
/// counters.
pub struct BackgroundRunner<S, N, C> {
    eco: Arc<Ecosystem<S, N, C>>,
    pass: Runner,
    outbox_every: Duration,
    jobs_every: Duration,
    gate: Arc<dyn Gate>,
    observer: Arc<dyn Observer>,
    counters: Arc<Counters>,
}

impl<S, N, C> Clone for BackgroundRunner<S, N, C> {
    fn clone(&self) -> Self {
        Self {
            eco: Arc::clone(&self.eco),
            pass: self.pass,
            outbox_every: self.outbox_every,
            jobs_every: self.jobs_every,
            gate: Arc::clone(&self.gate),
            observer: Arc::clone(&self.observer),
            counters: Arc::clone(&self.counters),
        }
    }
}

impl<S: Store, N: Notifier, C: Clock> BackgroundRunner<S, N, C> {
    /// A runner of `eco` with the default intervals and batch, ungated and unobserved.
    pub fn new(eco: Arc<Ecosystem<S, N, C>>) -> Self {
        Self {
            eco,
            pass: Runner::new(),
            outbox_every: DEFAULT_OUTBOX_EVERY,
            jobs_every: DEFAULT_JOBS_EVERY,
            gate: Arc::new(Ungated),
            observer: Arc::new(NoObserver),
            counters: Arc::default(),
        }
    }

    /// Delivers the outbox every `period` (clamped to at least 1 ms: Tokio refuses a zero
    /// interval).
    #[must_use]
    pub fn outbox_every(mut self, period: Duration) -> Self {
        self.outbox_every = period.max(Duration::from_millis(1));
        self
    }

    /// Runs the due jobs every `period` (at least 1 ms).
    #[must_use]
    pub fn jobs_every(mut self, period: Duration) -> Self {
        self.jobs_every = period.max(Duration::from_millis(1));
        self
    }

    /// Runs each pass with `pass` (its outbox batch).
    #[must_use]
    pub fn with_pass(mut self, pass: Runner) -> Self {
        self.pass = pass;
        self
    }

    /// Guards each round with `gate`.
    #[must_use]
    pub fn with_gate(mut self, gate: impl Gate) -> Self {
        self.gate = Arc::new(gate);
        self
    }

    /// Shows each round's report to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: impl Observer) -> Self {
        self.observer = Arc::new(observer);
        self
    }

    /// The ecosystem driven.
    pub fn ecosystem(&self) -> &Arc<Ecosystem<S, N, C>> {
        &self.eco
    }

    /// The rounds run and skipped so far.
    pub fn stats(&self) -> RunnerStats {
        self.counters.stats()
    }

    /// One outbox pass through the gate, logged and observed; true when it ran. What the loop
    /// calls every `outbox_every`, and what a host calls once more after stopping so that the
    /// emails of the last requests leave now rather than at the next start.
    pub async fn outbox_round(&self) -> bool {
        let round = Box::pin(async {
            let pass = self.pass.deliver_outbox(&self.eco).await;
            log_outbox(&pass);
            self.observer.outbox(&pass);
        });
        let ran = self.gate.run(OUTBOX_ROUND, round).await;
        let counter = if ran {
            &self.counters.outbox
        } else {
            &self.counters.outbox_skipped
        };
        counter.fetch_add(1, Relaxed);
        ran
    }

    /// One run of the due jobs through the gate, logged and observed; true when it ran.
    pub async fn jobs_round(&self) -> bool {
        let round = Box::pin(async {
            let report = self.pass.run_jobs(&self.eco).await;
            for failure in &report.failures {
                tracing::warn!(job = failure.job, error = %ErrorChain(&failure.error), "scheduled job failed");
            }
            tracing::debug!(?report, "scheduled jobs ran");
            self.observer.jobs(&report);
        });
        let ran = self.gate.run(JOBS_ROUND, round).await;
        let counter = if ran {
            &self.counters.jobs
        } else {
            &self.counters.jobs_skipped
        };
        counter.fetch_add(1, Relaxed);
        ran
    }

    /// Starts both loops (their first rounds right away); they stop when `shutdown` is
    /// triggered, after the round in progress.
    pub fn spawn(self, shutdown: &Shutdown) -> RunnerHandle {
        let outbox = {
            let runner = self.clone();
            every(self.outbox_every, shutdown, move || {
                let runner = runner.clone();
                async move {
                    runner.outbox_round().await;
                }
            })
        };
        let jobs = {
            let runner = self.clone();
            every(self.jobs_every, shutdown, move || {
                let runner = runner.clone();
                async move {
                    runner.jobs_round().await;
                }
            })
        };
        tracing::info!(
            outbox_every = ?self.outbox_every,
            jobs_every = ?self.jobs_every,
            "background runner started"
        );
        RunnerHandle {
            tasks: vec![outbox, jobs],
            counters: self.counters,
            shutdown: shutdown.clone(),
        }
    }

    /// Runs both loops until `shutdown` resolves, then lets the rounds in progress finish and
    /// reports what ran.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> RunnerStats {
        let signal = Shutdown::new();
        let handle = self.spawn(&signal);
        shutdown.await;
        tracing::info!("background runner stopping after the rounds in progress");
        signal.trigger();
        handle.join().await
    }
}

/// The running loops of [`BackgroundRunner::spawn`].
#[derive(Debug)]
pub struct RunnerHandle {
    tasks: Vec<JoinHandle<()>>,
    counters: Arc<Counters>,
    shutdown: Shutdown,
}

impl RunnerHandle {
    /// The rounds run and skipped so far.
    pub fn stats(&self) -> RunnerStats {
        self.counters.stats()
    }

    /// Triggers the shutdown the loops watch (every other user of that [`Shutdown`] sees it
    /// too) and waits for them, as [`join`](Self::join).
    pub async fn stop(self) -> RunnerStats {
        self.shutdown.trigger();
        self.join().await
    }

    /// Waits for the loops to stop (after their shutdown is triggered) and reports what ran. A
    /// loop that panicked is logged, not propagated: the others still stop cleanly.
    pub async fn join(self) -> RunnerStats {
        for task in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "a background runner task panicked");
            }
        }
        self.counters.stats()
    }
}

/// Logs what a pass did, per channel that did something (info), and every lane that failed
/// (warn). [`BackgroundRunner`] logs each of its passes so; a host running passes itself calls
/// it.
pub fn log_outbox(pass: &OutboxPass) {
    for (channel, outcome) in &pass.channels {
        match outcome {
            Ok(r) if r.sent + r.retried + r.failed > 0 => tracing::info!(
                %channel,
                sent = r.sent,
                retried = r.retried,
                failed = r.failed,
                "outbox delivered"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(%channel, error = %ErrorChain(e), "outbox delivery failed"),
        }
    }
}

/// A notifier for development and for hosts without a mail server: each message becomes one log
/// line (`tracing`, level info) with its channel, recipient, kind and subject, so one sees that a
/// verification or reset email went out. The body is never logged: verification and
/// password-reset bodies carry a token that would let anyone reading the logs take over the
/// account.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        tracing::info!(
            channel = %message.channel,
            recipient = %message.recipient,
            kind = %message.kind,
            subject = %message.subject,
            attempt = message.attempts + 1,
            "outbox message delivered to the log (no SMTP configured)"
        );
        Ok(())
    }
}
