//! The Tokio loops: they deliver what is due, report what they ran, go through their gate, and
//! stop promptly once told to.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use icosistem_core::Context;
use icosistem_core::model::Role;
use icosistem_core::ports::{Argon2idPasswordHasher, RecordingNotifier, SystemClock};
use icosistem_core::runner::OutboxPass;
use icosistem_core::service::{JobsReport, Register};
use icosistem_runner::{BackgroundRunner, BoxFuture, Gate, Observer, RunnerStats, Shutdown};
use icosistem_store_memory::{MemoryEcosystem, MemoryStore};

type Eco = MemoryEcosystem<Arc<RecordingNotifier>, SystemClock>;

/// An ecosystem with one registered user: two emails (verification, welcome) wait in the
/// outbox.
async fn ecosystem_with_mail() -> (Arc<Eco>, Arc<RecordingNotifier>) {
    let notifier = Arc::new(RecordingNotifier::new());
    let eco = MemoryEcosystem::new(MemoryStore::new(), Arc::clone(&notifier), SystemClock)
        .with_hasher(Argon2idPasswordHasher::fast_for_tests());
    eco.register(
        &Context::anonymous(),
        Register::new(
            "runner@example.test",
            icosistem_core::testing::fixtures::password(),
            "Run",
            "Ner",
            Role::Client,
        ),
    )
    .await
    .expect("register");
    (Arc::new(eco), notifier)
}

/// Polls `done` every 5 ms for at most 5 s.
async fn eventually(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "not done within 5 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_loops_deliver_the_outbox_and_run_the_jobs() {
    let (eco, notifier) = ecosystem_with_mail().await;
    let shutdown = Shutdown::new();
    let handle = BackgroundRunner::new(eco)
        .outbox_every(Duration::from_millis(10))
        .jobs_every(Duration::from_secs(3600))
        .spawn(&shutdown);
    eventually(|| notifier.delivered().len() == 2).await;
    // Both loops run their first round at once.
    eventually(|| handle.stats().job_rounds == 1).await;
    let stats = handle.stop().await;
    assert!(shutdown.is_triggered());
    assert!(stats.outbox_rounds >= 1, "{stats:?}");
    assert_eq!(stats.job_rounds, 1, "the next jobs round is an hour away");
    assert_eq!((stats.outbox_rounds_skipped, stats.job_rounds_skipped), (0, 0));
    // Delivered once each, however many rounds ran.
    assert_eq!(notifier.delivered().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loops_stop_promptly_when_shutdown_is_triggered() {
    let (eco, _notifier) = ecosystem_with_mail().await;
    let shutdown = Shutdown::new();
    // Hour-long intervals: after the first rounds the loops wait, and must not keep waiting.
    let handle = BackgroundRunner::new(eco)
        .outbox_every(Duration::from_secs(3600))
        .jobs_every(Duration::from_secs(3600))
        .spawn(&shutdown);
    eventually(|| {
        let s = handle.stats();
        s.outbox_rounds == 1 && s.job_rounds == 1
    })
    .await;
    let started = Instant::now();
    shutdown.trigger();
    let stats = tokio::time::timeout(Duration::from_secs(1), handle.join())
        .await
        .expect("the loops stop within a second");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        stats,
        RunnerStats {
            outbox_rounds: 1,
            job_rounds: 1,
            ..RunnerStats::default()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_until_returns_when_its_shutdown_future_resolves() {
    let (eco, notifier) = ecosystem_with_mail().await;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let runner = BackgroundRunner::new(eco)
        .outbox_every(Duration::from_secs(3600))
        .jobs_every(Duration::from_secs(3600));
    let probe = runner.clone();
    let worker = tokio::spawn(runner.run_until(async {
        let _ = rx.await;
    }));
    eventually(|| probe.stats().outbox_rounds == 1).await;
    assert_eq!(notifier.delivered().len(), 2);
    tx.send(()).expect("the worker waits");
    let stats = tokio::time::timeout(Duration::from_secs(1), worker)
        .await
        .expect("stops within a second")
        .expect("no panic");
    assert_eq!(stats.outbox_rounds, 1);
}

#[tokio::test]
async fn a_triggered_shutdown_resolves_every_wait_even_later_ones() {
    let shutdown = Shutdown::new();
    let early = shutdown.wait();
    let clone = shutdown.clone();
    clone.trigger();
    tokio::time::timeout(Duration::from_secs(1), early)
        .await
        .expect("early waiter");
    tokio::time::timeout(Duration::from_secs(1), shutdown.wait())
        .await
        .expect("late waiter");
    let on = Shutdown::on(async {});
    tokio::time::timeout(Duration::from_secs(1), on.wait())
        .await
        .expect("triggered by its future");
}

/// Refuses every round, counting the asks.
#[derive(Default)]
struct Closed(AtomicU64);

impl Gate for Closed {
    fn run<'a>(&'a self, _name: &'static str, _round: BoxFuture<'a, ()>) -> BoxFuture<'a, bool> {
        self.0.fetch_add(1, Relaxed);
        Box::pin(async { false })
    }
}

/// Counts what it sees.
#[derive(Default, Clone)]
struct Seen(Arc<(AtomicU64, AtomicU64)>);

impl Observer for Seen {
    fn outbox(&self, pass: &OutboxPass) {
        self.0.0.fetch_add(pass.total().sent.into(), Relaxed);
    }

    fn jobs(&self, report: &JobsReport) {
        assert!(report.is_ok());
        self.0.1.fetch_add(1, Relaxed);
    }
}

#[tokio::test]
async fn a_gate_may_skip_rounds_and_an_observer_sees_the_rounds_that_ran() {
    let (eco, notifier) = ecosystem_with_mail().await;
    let closed = BackgroundRunner::new(Arc::clone(&eco)).with_gate(Closed::default());
    assert!(!closed.outbox_round().await);
    assert!(!closed.jobs_round().await);
    assert!(notifier.delivered().is_empty(), "a skipped round delivers nothing");
    assert_eq!(
        closed.stats(),
        RunnerStats {
            outbox_rounds_skipped: 1,
            job_rounds_skipped: 1,
            ..RunnerStats::default()
        }
    );

    let seen = Seen::default();
    let open = BackgroundRunner::new(eco).with_observer(seen.clone());
    assert!(open.outbox_round().await);
    assert!(open.jobs_round().await);
    assert_eq!(notifier.delivered().len(), 2);
    assert_eq!((seen.0.0.load(Relaxed), seen.0.1.load(Relaxed)), (2, 1));
}
