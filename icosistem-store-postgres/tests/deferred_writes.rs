//! Rows of append-only tables (audit events, notifications, outbox messages) wait for the end of
//! their unit of work and go in one statement: what is sent, when, and that the unit stays all
//! or nothing — including when the rows are sent early or refused at the end.

use icosistem_core::model::*;
use icosistem_core::ports::store::{AuditFilter, NotificationFilter, Repo};
use icosistem_core::ports::{Store, Transaction};
use icosistem_core::testing::fixtures::World;
use icosistem_store_postgres::testing::TestStore;
use serde_json::json;
use uuid::Uuid;

fn notice(user: UserId, kind: &str, now: chrono::DateTime<chrono::Utc>) -> Notification {
    Notification {
        id: NotificationId::from(Uuid::now_v7()),
        user_id: user,
        kind: kind.to_owned(),
        title: "title".to_owned(),
        body: String::new(),
        data: json!({}),
        status: NotificationStatus::Unread,
        read_at: None,
        meta: Meta::new(now, None),
    }
}

fn event(actor: UserId, action: &str, now: chrono::DateTime<chrono::Utc>) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::from(Uuid::now_v7()),
        actor_id: Some(actor),
        actor_kind: "user".to_owned(),
        action: action.to_owned(),
        target_kind: "user".to_owned(),
        target_id: actor.into(),
        organization_id: None,
        before: None,
        after: None,
        request_id: None,
        ip: None,
        at: now,
    }
}

/// Inserts `row` in `tx`: it waits for the commit, so the insert itself never fails.
async fn insert_notice(tx: &mut <TestStore as Store>::Tx, row: Notification) {
    Repo::<Notification>::insert(tx, &row)
        .await
        .expect("an insert that waits");
}

fn of_kind(user: UserId, kind: &str) -> NotificationFilter {
    NotificationFilter {
        user_id: Some(user),
        kind: Some(kind.to_owned()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_only_rows_go_in_one_statement_at_the_end() {
    let Some(db) = TestStore::fresh().await else { return };
    let world = World::new(db.clone()).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let now = world.now();

    // Only append-only rows: one statement in autocommit, no transaction around it.
    db.take_statements();
    let mut tx = db.begin().await.expect("begin");
    insert_notice(&mut tx, notice(owner.id(), "alone", now)).await;
    insert_notice(&mut tx, notice(owner.id(), "alone", now)).await;
    Repo::<AuditEvent>::insert(&mut tx, &event(owner.id(), "test.alone", now))
        .await
        .expect("insert");
    assert!(db.take_statements().is_empty(), "nothing is sent before the commit");
    tx.commit().await.expect("commit");
    let sent = db.take_statements();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].starts_with("WITH w0 AS (INSERT INTO notifications"),
        "{}",
        sent[0]
    );
    assert_eq!(world.count(of_kind(owner.id(), "alone")).await, 2);

    // With another write: the rows go last, inside its transaction.
    db.take_statements();
    let mut tx = db.begin().await.expect("begin");
    let mut changed = Repo::<Project>::get(&mut tx, project.id)
        .await
        .expect("get")
        .expect("project");
    changed.tagline = Some("deferred".to_owned());
    insert_notice(&mut tx, notice(owner.id(), "with", now)).await;
    Repo::<Project>::update(&mut tx, &changed).await.expect("update");
    tx.commit().await.expect("commit");
    let sent: Vec<String> = db
        .take_statements()
        .into_iter()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .collect();
    // (The log notes an `UPDATE` before the `BEGIN` its execution sends.)
    assert_eq!(
        sent[1..],
        ["UPDATE projects SET", "BEGIN", "INSERT INTO notifications", "COMMIT"],
        "{sent:?}"
    );
    assert_eq!(world.count(of_kind(owner.id(), "with")).await, 1);

    // Dropped before its commit: nothing was sent, nothing is stored.
    db.take_statements();
    let mut tx = db.begin().await.expect("begin");
    insert_notice(&mut tx, notice(owner.id(), "dropped", now)).await;
    drop(tx);
    assert!(db.take_statements().is_empty());
    assert_eq!(world.count(of_kind(owner.id(), "dropped")).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_refused_at_the_end_fails_the_whole_unit() {
    let Some(db) = TestStore::fresh().await else { return };
    let world = World::new(db.clone()).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let now = world.now();

    let mut tx = db.begin().await.expect("begin");
    let mut changed = Repo::<Project>::get(&mut tx, project.id)
        .await
        .expect("get")
        .expect("project");
    changed.tagline = Some("never committed".to_owned());
    Repo::<Project>::update(&mut tx, &changed).await.expect("update");
    insert_notice(&mut tx, notice(owner.id(), "kept", now)).await;
    // A row the table's checks refuse (read, with no instant of reading), at the commit.
    let refused = || Notification {
        status: NotificationStatus::Read,
        ..notice(owner.id(), "refused", now)
    };
    insert_notice(&mut tx, refused()).await;
    tx.commit().await.expect_err("the commit fails with its row");

    let stored = world.row(project.id).await.expect("project");
    assert_eq!(stored.tagline, project.tagline, "the unit's update was undone");
    assert_eq!(world.count(of_kind(owner.id(), "kept")).await, 0);

    // The same alone (autocommit): the one statement is all or nothing.
    let mut tx = db.begin().await.expect("begin");
    insert_notice(&mut tx, notice(owner.id(), "kept", now)).await;
    insert_notice(&mut tx, refused()).await;
    tx.commit().await.expect_err("the commit fails with its row");
    assert_eq!(world.count(of_kind(owner.id(), "kept")).await, 0);

    // The store is fine afterwards.
    let mut tx = db.begin().await.expect("begin");
    insert_notice(&mut tx, notice(owner.id(), "kept", now)).await;
    tx.commit().await.expect("commit");
    assert_eq!(world.count(of_kind(owner.id(), "kept")).await, 1);
}

/// A batch past the parameter limit is sent in parts as it grows — inside the transaction, so
/// dropping the unit still leaves nothing — and a read of the table sends what waits first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_sent_early_stay_in_the_unit() {
    let Some(db) = TestStore::fresh().await else { return };
    let world = World::new(db.clone()).await;
    let owner = world.entrepreneur().await;
    let now = world.now();
    let audits = world.count(AuditFilter::default()).await;

    for commit in [false, true] {
        db.take_statements();
        let mut tx = db.begin().await.expect("begin");
        for _ in 0..3_000 {
            insert_notice(&mut tx, notice(owner.id(), "batch", now)).await;
        }
        Repo::<AuditEvent>::insert(&mut tx, &event(owner.id(), "test.batch", now))
            .await
            .expect("insert");
        let sent: Vec<String> = db
            .take_statements()
            .into_iter()
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect();
        assert!(sent.len() >= 3, "3,000 rows go in parts: {sent:?}");
        assert_eq!(sent[0], "BEGIN", "rows sent early go in the transaction: {sent:?}");
        // The unit reads its own rows.
        let mine = Repo::<Notification>::count(&mut tx, &of_kind(owner.id(), "batch"))
            .await
            .expect("count");
        assert_eq!(mine, 3_000);
        if commit {
            tx.commit().await.expect("commit");
        } else {
            drop(tx);
        }
        let expected = if commit { 3_000 } else { 0 };
        assert_eq!(world.count(of_kind(owner.id(), "batch")).await, expected);
        let audit_rows = world.count(AuditFilter::default()).await;
        assert_eq!(audit_rows, audits + u64::from(commit));
    }
}
