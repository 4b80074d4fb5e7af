//! `icosistem-server worker` and `healthcheck`: two workers on one PostgreSQL send a due
//! reminder once (the advisory lock and the jobs' marks), a worker stops on its shutdown signal
//! after the round in progress, and the health probe tells a 200 from anything else.

use std::sync::Arc;
use std::time::Duration;

use icosistem_core::model::secret::SecretString;
use icosistem_core::testing::fixtures::{World, day_at};
use icosistem_http::{AppState, HttpConfig};
use icosistem_server::{WorkerReport, healthcheck, run_worker};
use icosistem_store_memory::MemoryStore;
use icosistem_store_postgres::testing::TestStore;
use tokio::sync::watch;

use crate::common::spawn_server;

const FAST: Duration = Duration::from_millis(50);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_database_send_a_due_reminder_once() {
    let Some(db) = TestStore::fresh().await else {
        return;
    };
    let pg = db.store().clone();
    let world = World::new(pg.clone()).await;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await;
    world.book(&mentee.person, mentee.id(), day_at(2, 10, 0), 60).await;
    // 24 h before the session: the first reminder is due.
    world.clock.set(day_at(1, 10, 0));

    let (stop, stopped) = watch::channel(false);
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let mut stopped = stopped.clone();
            tokio::spawn(run_worker(
                Arc::clone(&world.eco),
                Some(pg.clone()),
                FAST,
                FAST,
                async move {
                    let _ = stopped.wait_for(|s| *s).await;
                },
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.send(true).unwrap();
    let mut total = WorkerReport::default();
    for worker in workers {
        let report = tokio::time::timeout(Duration::from_secs(10), worker)
            .await
            .expect("the worker stops on its signal")
            .expect("the worker does not panic");
        total.job_rounds += report.job_rounds;
        total.job_rounds_skipped += report.job_rounds_skipped;
        total.outbox_rounds += report.outbox_rounds;
    }
    assert!(total.job_rounds >= 2, "the jobs ran round after round: {total:?}");
    assert!(total.outbox_rounds >= 2, "the outbox was delivered: {total:?}");
    for party in [ally.id(), mentee.person.id()] {
        assert_eq!(world.notifications(party, "session_reminder").await.len(), 1);
        assert_eq!(world.outbox(party, "session_reminder").await.len(), 1);
    }
    // Delivered by one of the workers, once each.
    let delivered = world
        .delivered()
        .into_iter()
        .filter(|m| m.kind == "session_reminder")
        .count();
    assert_eq!(delivered, 2);
}

#[tokio::test]
async fn a_worker_finishes_its_round_and_stops_on_the_signal() {
    let world = World::new(MemoryStore::new()).await;
    let (stop, mut stopped) = watch::channel(false);
    // Intervals far longer than the test: only the first (immediate) rounds run.
    let worker = tokio::spawn(run_worker(
        Arc::clone(&world.eco),
        None,
        Duration::from_secs(3600),
        Duration::from_secs(3600),
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        },
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!worker.is_finished(), "runs until told to stop");
    stop.send(true).unwrap();
    let report = tokio::time::timeout(Duration::from_secs(5), worker)
        .await
        .expect("stops promptly")
        .expect("no panic");
    assert_eq!(
        report,
        WorkerReport {
            job_rounds: 1,
            job_rounds_skipped: 0,
            outbox_rounds: 1
        }
    );
}

#[tokio::test]
async fn healthcheck_passes_on_200_only() {
    let world = World::new(MemoryStore::new()).await;
    let state = AppState::new(
        Arc::clone(&world.eco),
        HttpConfig::new(SecretString::new(icosistem_server::generate_secret())),
    )
    .expect("valid HTTP config");
    let (base, stop, server) = spawn_server(state).await;
    healthcheck(&format!("{base}/health")).await.expect("200 passes");
    let err = healthcheck(&format!("{base}/no-such-path")).await.unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    assert!(healthcheck("not a url").await.is_err());
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    // Nobody listens any more.
    assert!(healthcheck(&format!("{base}/health")).await.is_err());
}
