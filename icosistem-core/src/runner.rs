//! The background work of an ecosystem, without a scheduler: outbox delivery and the
//! time-driven jobs, run once per [`Runner::tick`].
//!
//! The core has no runtime and reads time only from its [`Clock`], so it cannot run anything
//! "every minute" by itself. A host calls [`Runner::tick`] (or its two halves,
//! [`Runner::deliver_outbox`] and [`Runner::run_jobs`]) from whatever drives it: the
//! `icosistem-runner` crate's Tokio loop with graceful shutdown, a cron job, a test with a
//! [`ManualClock`](crate::ports::ManualClock). Every pass is safe to repeat: jobs are
//! idempotent (their `JobMark`s) and delivered messages leave the outbox.
//!
//! ```
//! # async fn demo<S: icosistem_core::ports::Store, N: icosistem_core::ports::Notifier, C: icosistem_core::ports::Clock>(
//! #     eco: &icosistem_core::Ecosystem<S, N, C>,
//! # ) {
//! use icosistem_core::runner::Runner;
//!
//! let report = Runner::new().tick(eco).await;
//! if !report.is_ok() {
//!     for (channel, error) in report.outbox.errors() {
//!         eprintln!("outbox {channel}: {error}");
//!     }
//!     for failure in &report.jobs.failures {
//!         eprintln!("job {}: {}", failure.job, failure.error);
//!     }
//! }
//! # }
//! ```

use crate::error::Error;
use crate::model::OutboxChannel;
use crate::ports::{Clock, Notifier, Store};
use crate::service::{DeliveryReport, Ecosystem, JobsReport};

/// Outbox messages delivered per channel and pass unless [`Runner::with_outbox_batch`] says
/// otherwise.
pub const DEFAULT_OUTBOX_BATCH: u32 = 100;

/// How one pass of background work runs: today, how many outbox messages a channel delivers per
/// pass. Cheap to copy; holds no ecosystem, so one runner serves any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runner {
    outbox_batch: u32,
}

impl Default for Runner {
    fn default() -> Self {
        Self::new()
    }
}

impl Runner {
    /// A runner delivering [`DEFAULT_OUTBOX_BATCH`] messages per channel and pass.
    pub const fn new() -> Self {
        Self {
            outbox_batch: DEFAULT_OUTBOX_BATCH,
        }
    }

    /// Delivers at most `batch` messages per channel and pass (at least 1). The rest wait for
    /// the next pass, so one pass stays short however large the backlog.
    #[must_use]
    pub const fn with_outbox_batch(mut self, batch: u32) -> Self {
        self.outbox_batch = if batch == 0 { 1 } else { batch };
        self
    }

    /// Messages delivered per channel and pass.
    pub const fn outbox_batch(&self) -> u32 {
        self.outbox_batch
    }

    /// One pass of outbox delivery: every channel in its own lane, the lanes at once (a slow
    /// webhook endpoint does not hold up email), each with the core's bounded concurrency and
    /// retry policy ([`Ecosystem::deliver_outbox_channel`]).
    pub async fn deliver_outbox<S: Store, N: Notifier, C: Clock>(&self, eco: &Ecosystem<S, N, C>) -> OutboxPass {
        let batch = self.outbox_batch;
        let lanes = OutboxChannel::ALL
            .iter()
            .map(|channel| async move { (*channel, eco.deliver_outbox_channel(*channel, batch).await) });
        OutboxPass {
            channels: futures::future::join_all(lanes).await,
        }
    }

    /// One run of every due job ([`Ecosystem::run_due_jobs`]) at the clock's now.
    pub async fn run_jobs<S: Store, N: Notifier, C: Clock>(&self, eco: &Ecosystem<S, N, C>) -> JobsReport {
        eco.run_due_jobs().await
    }

    /// One pass of everything: the due jobs first (their notices join the outbox), then outbox
    /// delivery, so a reminder written by this tick leaves by this tick.
    pub async fn tick<S: Store, N: Notifier, C: Clock>(&self, eco: &Ecosystem<S, N, C>) -> TickReport {
        let jobs = self.run_jobs(eco).await;
        let outbox = self.deliver_outbox(eco).await;
        TickReport { outbox, jobs }
    }
}

/// What one outbox pass did, channel by channel.
#[derive(Debug)]
pub struct OutboxPass {
    /// Each channel's report, or the store error that stopped its lane (the other lanes ran).
    pub channels: Vec<(OutboxChannel, Result<DeliveryReport, Error>)>,
}

impl OutboxPass {
    /// The sum over the channels that ran.
    pub fn total(&self) -> DeliveryReport {
        let mut total = DeliveryReport::default();
        for report in self.channels.iter().filter_map(|(_, report)| report.as_ref().ok()) {
            total += *report;
        }
        total
    }

    /// The channels whose lane failed, with why.
    pub fn errors(&self) -> impl Iterator<Item = (OutboxChannel, &Error)> {
        self.channels
            .iter()
            .filter_map(|(channel, report)| report.as_ref().err().map(|e| (*channel, e)))
    }

    /// True when every lane ran (single deliveries may still have failed; see
    /// [`DeliveryReport`]).
    pub fn is_ok(&self) -> bool {
        self.errors().next().is_none()
    }

    /// True when the pass handed no message to the notifier.
    pub fn is_idle(&self) -> bool {
        let total = self.total();
        total.sent + total.retried + total.failed == 0
    }
}

/// What one [`Runner::tick`] did.
#[derive(Debug)]
pub struct TickReport {
    /// The outbox pass.
    pub outbox: OutboxPass,
    /// The jobs.
    pub jobs: JobsReport,
}

impl TickReport {
    /// True when every outbox lane and every job ran without error.
    pub fn is_ok(&self) -> bool {
        self.outbox.is_ok() && self.jobs.is_ok()
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// One pass of background work with the default [`Runner`]: the due jobs, then outbox
    /// delivery. See [`Runner::tick`].
    pub async fn tick(&self) -> TickReport {
        Runner::new().tick(self).await
    }
}
