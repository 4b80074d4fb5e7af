//! The unit of work itself: a refused write leaves it usable, reads see its own writes whether
//! they came before or after the first write, and units that only read end cleanly — the
//! contracts a store keeps however it implements them (serialized units in memory, a lazily
//! begun transaction on PostgreSQL).

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use crate::error::StoreError;
use crate::model::value::{PersonName, Slug};
use crate::model::*;
use crate::ports::store::*;
use crate::ports::{Store, Transaction};
use crate::testing::fixtures::*;

#[track_caller]
fn assert_refused(result: Result<impl std::fmt::Debug, StoreError>, entity: &str, field: &str) {
    match result {
        Err(StoreError::Conflict { entity: e, field: f }) if e == entity && f == field => {}
        other => panic!("expected StoreError::Conflict {{ {entity}, {field} }}, got {other:?}"),
    }
}

fn note(user: UserId, title: &str, now: chrono::DateTime<chrono::Utc>) -> Notification {
    Notification {
        id: NotificationId::from(Uuid::now_v7()),
        user_id: user,
        kind: "unit_of_work".to_owned(),
        title: title.to_owned(),
        body: String::new(),
        data: json!({}),
        status: NotificationStatus::Unread,
        read_at: None,
        meta: Meta::new(now, None),
    }
}

/// Every kind of refused write — an insert colliding on a unique key, an insert of an existing
/// id, an update taking another row's key (of a row read in this unit or not) — is answered
/// with its `Conflict`, writes nothing, and leaves the unit of work usable: the writes after it
/// succeed, read back inside the unit, and commit.
pub async fn refused_writes_leave_the_unit_of_work_usable<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let ana = world.entrepreneur().await;
    let bo = world.entrepreneur().await;
    let ana_project = world.project(&ana).await;
    let bo_project = world.project(&bo).await;
    let now = world.now();

    let mut tx = world.store().begin().await.expect("begin");
    // A read first, so a store that begins its transaction lazily starts out without one.
    let read: User = Repo::<User>::get(&mut tx, ana.id()).await.expect("get").expect("ana");

    // An update giving the row a key another row holds.
    let mut taking = read.clone();
    taking.email = bo.user.email.clone();
    assert_refused(Repo::<User>::update(&mut tx, &taking).await, "user", "email");
    // An insert colliding on a unique key, and one of an existing id.
    let mut twin = bo.user.clone();
    twin.id = UserId::from(Uuid::now_v7());
    assert_refused(Repo::<User>::insert(&mut tx, &twin).await, "user", "email");
    assert_refused(Repo::<User>::insert(&mut tx, &bo.user).await, "user", "id");
    // An update of a row this unit never read, taking another row's slug.
    let mut slug_taker = ana_project.clone();
    slug_taker.slug = bo_project.slug.clone();
    assert_refused(Repo::<Project>::update(&mut tx, &slug_taker).await, "project", "slug");

    // The unit goes on: the refused writes left nothing, the next ones land.
    let mut renamed = read.clone();
    renamed.first_name = PersonName::parse("Anabel").expect("name");
    let renamed = Repo::<User>::update(&mut tx, &renamed)
        .await
        .expect("update after refusals");
    assert_eq!(renamed.meta.version, read.meta.version + 1);
    let mut again = renamed.clone();
    again.last_name = PersonName::parse("Second").expect("name");
    let again = Repo::<User>::update(&mut tx, &again).await.expect("second update");
    let written = note(ana.id(), "after refusals", now);
    Repo::<Notification>::insert(&mut tx, &written).await.expect("insert");
    let seen = Repo::<User>::get(&mut tx, ana.id()).await.expect("get").expect("ana");
    assert_eq!(seen.meta.version, again.meta.version);
    assert_eq!(seen.email, read.email, "the refused email change left nothing");
    assert!(
        Repo::<User>::get(&mut tx, twin.id).await.expect("get twin").is_none(),
        "the refused insert left nothing"
    );
    assert!(
        Repo::<Notification>::get(&mut tx, written.id)
            .await
            .expect("get")
            .is_some()
    );
    tx.commit().await.expect("commit after refused writes");

    let stored = world.row(ana.id()).await.expect("ana");
    assert_eq!(stored.first_name.as_str(), "Anabel");
    assert_eq!(stored.last_name.as_str(), "Second");
    assert_eq!(stored.email, read.email);
    assert_eq!(world.row(bo_project.id).await.expect("project").slug, bo_project.slug);
    assert_eq!(world.row(ana_project.id).await.expect("project").slug, ana_project.slug);
    assert!(world.row(written.id).await.is_some());
    assert!(world.row(twin.id).await.is_none());
}

/// A write that gives up a unique key and a later one that takes it, in one unit: the second
/// succeeds (the first released the key), and a key given up by a soft delete is free too.
pub async fn keys_released_in_a_unit_of_work_are_free_in_it<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let first = world.project(&owner).await;
    let second = world.project(&owner).await;
    let freed = first.slug.clone();

    let mut tx = world.store().begin().await.expect("begin");
    let mut moved = Repo::<Project>::get(&mut tx, first.id)
        .await
        .expect("get")
        .expect("first");
    moved.slug = Slug::parse(&format!("{}-moved", freed.as_str())).expect("slug");
    Repo::<Project>::update(&mut tx, &moved)
        .await
        .expect("give up the slug");
    let mut taker = Repo::<Project>::get(&mut tx, second.id)
        .await
        .expect("get")
        .expect("second");
    taker.slug = freed.clone();
    let taker = Repo::<Project>::update(&mut tx, &taker)
        .await
        .expect("take the freed slug");
    tx.commit().await.expect("commit");
    assert_eq!(world.row(second.id).await.expect("second").slug, freed);
    assert_eq!(taker.slug, freed);
}

/// Reads before the first write see committed rows; after it they see the unit's own writes;
/// dropping the unit undoes the writes, and a unit that only read commits (or is dropped)
/// without effect — many times over, so one that kept a connection or a transaction open
/// would exhaust the store.
pub async fn reads_see_the_units_own_writes_and_read_only_units_end_cleanly<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let now = world.now();
    let mine = NotificationFilter {
        user_id: Some(owner.id()),
        kind: Some("unit_of_work".to_owned()),
        ..Default::default()
    };

    let mut tx = world.store().begin().await.expect("begin");
    let before: Project = Repo::<Project>::get(&mut tx, project.id)
        .await
        .expect("get")
        .expect("project");
    assert_eq!(before.id, project.id);
    assert_eq!(Repo::<Notification>::count(&mut tx, &mine).await.expect("count"), 0);
    let written = note(owner.id(), "uncommitted", now);
    Repo::<Notification>::insert(&mut tx, &written).await.expect("insert");
    assert!(
        Repo::<Notification>::get(&mut tx, written.id)
            .await
            .expect("get")
            .is_some()
    );
    assert_eq!(Repo::<Notification>::count(&mut tx, &mine).await.expect("count"), 1);
    let listed = Repo::<Notification>::list(&mut tx, &mine, PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    drop(tx);
    assert!(world.row(written.id).await.is_none(), "a dropped unit leaves nothing");

    // 40 read-only units, half committed, half dropped: more than any test pool holds.
    for round in 0..40 {
        let mut tx = world.store().begin().await.expect("begin a read-only unit");
        let seen = Repo::<Project>::get(&mut tx, project.id)
            .await
            .expect("get")
            .expect("project");
        assert_eq!(seen.meta.version, project.meta.version);
        Repo::<Notification>::list(&mut tx, &mine, PageRequest::first(5))
            .await
            .expect("list");
        if round % 2 == 0 {
            tx.commit().await.expect("commit of a read-only unit");
        }
    }
    // And the use cases that only read, through the ecosystem.
    for _ in 0..40 {
        let got = world
            .eco
            .get_project(&owner.ctx, project.id)
            .await
            .expect("get project");
        assert_eq!(got.id, project.id);
    }
    world.advance(Duration::seconds(1));
    let written = note(owner.id(), "committed", world.now());
    let mut tx = world.store().begin().await.expect("begin");
    Repo::<Notification>::insert(&mut tx, &written).await.expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(world.count(mine).await, 1);
}
