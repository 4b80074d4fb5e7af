//! The read replica (`PgStore::with_read_replica`): a second test database stands in for it,
//! holding a marker user the primary does not (and the primary one it does not), so every list
//! shows which pool served it. Checked: a read-only unit lists on the replica; a unit that
//! writes or locks does so on the primary and reads its own writes there, even after a list on
//! the replica; a session's reads right after its own write stay on the primary (for the
//! read-after-write window, and only for that session).

use std::time::Duration;

use icosistem_core::model::value::PersonName;
use icosistem_core::model::{Role, User};
use icosistem_core::ports::store::{PageRequest, Repo, UserFilter};
use icosistem_core::ports::{RecordingNotifier, Store, SystemClock, Transaction};
use icosistem_core::testing::fixtures::{Person, World};
use icosistem_core::{Context, Ecosystem};
use icosistem_store_postgres::testing::TestStore;
use icosistem_store_postgres::{PgStore, read_session};

/// Where a list was served from, told by the marker users it holds.
#[derive(Debug, PartialEq, Eq)]
enum Served {
    Primary,
    Replica,
}

/// The two databases (kept alive: dropping one drops its database), the marker user of each,
/// and the admin of the primary.
struct Setup {
    _primary: TestStore,
    _replica: TestStore,
    on_primary: Person,
    on_replica: Person,
    admin: Context,
}

impl Setup {
    async fn new() -> Option<Self> {
        let primary = TestStore::fresh().await?;
        let replica = TestStore::fresh().await?;
        // Fixtures written to each database directly (the world's own use cases must not meet
        // a "replica" that is another database).
        let replica_world = World::new(replica.clone()).await;
        let on_replica = replica_world.person(Role::Ally, "replicamarker").await;
        let world = World::new(primary.clone()).await;
        let on_primary = world.person(Role::Ally, "primarymarker").await;
        Some(Self {
            admin: world.admin.ctx.clone(),
            _primary: primary,
            _replica: replica,
            on_primary,
            on_replica,
        })
    }

    /// The store under test: the primary, with the other database as its replica.
    fn store(&self, read_after_write: Duration) -> PgStore {
        self._primary
            .store()
            .clone()
            .with_read_replica(self._replica.store().pool().clone(), read_after_write)
    }

    /// Which database `users` came from.
    #[track_caller]
    fn served(&self, users: &[User]) -> Served {
        let has = |p: &Person| users.iter().any(|u| u.id == p.id());
        match (has(&self.on_primary), has(&self.on_replica)) {
            (true, false) => Served::Primary,
            (false, true) => Served::Replica,
            other => panic!("a list from neither or both databases: {other:?}"),
        }
    }
}

async fn list_users(tx: &mut <PgStore as Store>::Tx) -> Vec<User> {
    Repo::<User>::list(tx, &UserFilter::default(), PageRequest::all())
        .await
        .expect("list users")
        .items
}

/// A read-only unit of work lists on the replica.
async fn read_only_list(store: &PgStore) -> Vec<User> {
    let mut tx = store.begin().await.expect("begin");
    let users = list_users(&mut tx).await;
    tx.commit().await.expect("commit");
    users
}

/// Renames `person` in a unit of work of its own (a write, committed).
async fn rename(store: &PgStore, person: &Person, name: &str) {
    let mut tx = store.begin().await.expect("begin");
    let mut user = Repo::<User>::get(&mut tx, person.id())
        .await
        .expect("get")
        .expect("the user is on the primary");
    user.first_name = PersonName::parse(name).expect("name");
    Repo::<User>::update(&mut tx, &user)
        .await
        .expect("update on the primary");
    tx.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_lists_come_from_the_replica_and_writes_go_to_the_primary() {
    let Some(setup) = Setup::new().await else { return };
    let store = setup.store(Duration::from_secs(60));

    // A read-only unit: lists and counts on the replica.
    assert_eq!(setup.served(&read_only_list(&store).await), Served::Replica);
    let mut tx = store.begin().await.expect("begin");
    let count = Repo::<User>::count(&mut tx, &UserFilter::default())
        .await
        .expect("count");
    let replica_count = {
        let mut on_replica = setup._replica.store().begin().await.expect("begin");
        Repo::<User>::count(&mut on_replica, &UserFilter::default())
            .await
            .expect("count on the replica")
    };
    assert_eq!(count, replica_count);
    tx.commit().await.expect("commit");

    // A use case that only lists (the admin's user list) reads on the replica too.
    let eco = Ecosystem::new(store.clone(), RecordingNotifier::new(), SystemClock);
    let page = eco
        .list_users(&setup.admin, UserFilter::default(), PageRequest::all())
        .await
        .expect("list users");
    assert_eq!(setup.served(&page.items), Served::Replica);

    // A unit that lists (replica), then locks and writes: the lock and the write go to the
    // primary (the primary's marker is not on the replica: locking it there would find
    // nothing), and so does every read after them.
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(setup.served(&list_users(&mut tx).await), Served::Replica);
    let mut user = Repo::<User>::get_for_update(&mut tx, setup.on_primary.id())
        .await
        .expect("lock")
        .expect("locked on the primary");
    user.first_name = PersonName::parse("Renamed").expect("name");
    Repo::<User>::update(&mut tx, &user)
        .await
        .expect("update on the primary");
    let after = list_users(&mut tx).await;
    assert_eq!(setup.served(&after), Served::Primary);
    let renamed = after.iter().find(|u| u.id == user.id).expect("listed");
    assert_eq!(
        renamed.first_name.to_string(),
        "Renamed",
        "the unit reads its own write"
    );
    tx.commit().await.expect("commit");

    // Outside any session, a write does not keep later read-only units on the primary.
    assert_eq!(setup.served(&read_only_list(&store).await), Served::Replica);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_reads_right_after_their_write_come_from_the_primary() {
    let Some(setup) = Setup::new().await else { return };
    let store = setup.store(Duration::from_secs(60));
    let writer = setup.on_primary.id().into();
    let other = setup.on_replica.id().into();

    // Before any write of theirs, a caller's lists come from the replica.
    let before = read_session(writer, read_only_list(&store)).await;
    assert_eq!(setup.served(&before), Served::Replica);

    read_session(writer, rename(&store, &setup.on_primary, "Written")).await;

    // Their next reads: on the primary, and they show the write.
    let after = read_session(writer, read_only_list(&store)).await;
    assert_eq!(setup.served(&after), Served::Primary);
    let own = after.iter().find(|u| u.id == setup.on_primary.id()).expect("listed");
    assert_eq!(own.first_name.to_string(), "Written");
    // Another caller, and work outside any session, still read on the replica.
    assert_eq!(
        setup.served(&read_session(other, read_only_list(&store)).await),
        Served::Replica
    );
    assert_eq!(setup.served(&read_only_list(&store).await), Served::Replica);

    // With no read-after-write window, the writer is back on the replica at once: the window
    // is what keeps them on the primary.
    let no_window = setup.store(Duration::ZERO);
    read_session(writer, rename(&no_window, &setup.on_primary, "Again")).await;
    assert_eq!(
        setup.served(&read_session(writer, read_only_list(&no_window)).await),
        Served::Replica
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_replica_sends_reads_to_the_primary() {
    let Some(setup) = Setup::new().await else { return };
    // A pool on a port nothing listens on, failing fast.
    let dead = icosistem_store_postgres::PoolSettings {
        acquire_timeout: Duration::from_millis(300),
        min_connections: 0,
        ..Default::default()
    }
    .options()
    .connect_lazy("postgres://postgres@127.0.0.1:1/none")
    .expect("a valid URL");
    let store = setup
        ._primary
        .store()
        .clone()
        .with_read_replica(dead, Duration::from_secs(60));
    assert_eq!(setup.served(&read_only_list(&store).await), Served::Primary);
    // Left aside for a while: the next read does not wait for it again.
    let started = std::time::Instant::now();
    assert_eq!(setup.served(&read_only_list(&store).await), Served::Primary);
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}
