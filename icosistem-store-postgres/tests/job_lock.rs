//! `PgStore::try_job_lock`: one holder at a time across pools (replicas), free again once
//! released or dropped.

use icosistem_store_postgres::PgStore;
use icosistem_store_postgres::testing::TestStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_lock_has_one_holder_at_a_time() {
    let Some(db) = TestStore::fresh().await else {
        return;
    };
    let one = db.store().clone();
    // A second pool on the same database stands for another replica.
    let other = PgStore::from_pool(db.store().pool().clone());
    let held = one.try_job_lock("jobs").await.unwrap().expect("free at first");
    assert!(other.try_job_lock("jobs").await.unwrap().is_none(), "held elsewhere");
    let outbox = other
        .try_job_lock("outbox")
        .await
        .unwrap()
        .expect("another name is another lock");
    held.release().await.unwrap();
    let again = other.try_job_lock("jobs").await.unwrap().expect("free once released");
    drop(again);
    // Dropping the guard rolls its transaction back, which frees the lock too.
    let mut freed = None;
    for _ in 0..50 {
        freed = one.try_job_lock("jobs").await.unwrap();
        if freed.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(freed.is_some(), "free once dropped");
    outbox.release().await.unwrap();
}
