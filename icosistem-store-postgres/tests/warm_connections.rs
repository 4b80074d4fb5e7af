//! Warm connections: a unit of work that ended cleanly hands its connection to the next one
//! without sqlx's ping on release, and nothing of a unit that did not end cleanly (an
//! uncommitted write, a statement cancelled halfway) reaches the next unit.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use icosistem_core::model::value::Name;
use icosistem_core::model::{Project, ProjectId};
use icosistem_core::ports::store::{PageRequest, ProjectFilter, Repo, Store, Transaction};
use icosistem_core::testing::fixtures::World;
use icosistem_store_postgres::testing::TestStore;
use icosistem_store_postgres::{PgStore, PoolSettings};

/// The name of project `id` as the database has it, read outside the store's units of work.
async fn stored_name(store: &PgStore, id: ProjectId) -> String {
    sqlx::query_scalar("SELECT name FROM projects WHERE id = $1")
        .bind(uuid::Uuid::from(id))
        .fetch_one(store.pool())
        .await
        .expect("read the row")
}

async fn get(store: &PgStore, id: ProjectId) -> Project {
    let mut tx = store.begin().await.expect("begin");
    Repo::<Project>::get(&mut tx, id).await.expect("get").expect("exists")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_units_pass_their_connection_on() {
    let Some(db) = TestStore::fresh().await else { return };
    let world = World::new(db.clone()).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let store = db.store();
    for _ in 0..50 {
        assert_eq!(get(store, project.id).await.id, project.id);
    }
    // Fifty sequential read units and one connection did them all: it went from unit to unit
    // (held by the store, so not idle in sqlx's pool) instead of back to the pool each time.
    let pool = store.pool();
    assert!(pool.size() <= 2, "the pool opened {} connections", pool.size());
    assert_eq!(pool.size() as usize - pool.num_idle(), 1, "one warm connection");

    // Off (0), every connection goes back to the pool.
    let cold = PgStore::from_pool_with(
        pool.clone(),
        &PoolSettings {
            warm_connections: 0,
            ..PoolSettings::default()
        },
    );
    let busy_before = pool.size() as usize - pool.num_idle();
    assert_eq!(get(&cold, project.id).await.id, project.id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pool.size() as usize - pool.num_idle(), busy_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncommitted_write_never_reaches_the_next_unit() {
    let Some(db) = TestStore::fresh().await else { return };
    let world = World::new(db.clone()).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let store = db.store();
    let original = project.name.as_str().to_owned();

    // A unit renames the project and is dropped without committing.
    let mut tx = store.begin().await.expect("begin");
    let mut renamed: Project = Repo::get(&mut tx, project.id).await.expect("get").expect("exists");
    renamed.name = Name::parse("Never Committed").expect("name");
    Repo::update(&mut tx, &renamed).await.expect("update");
    drop(tx);

    // The next units see the committed row, read outside any transaction: the dropped unit's
    // connection went back to the pool with its rollback, not to them.
    for _ in 0..5 {
        assert_eq!(get(store, project.id).await.name.as_str(), original);
    }
    assert_eq!(stored_name(store, project.id).await, original);

    // And a unit that commits on a warm connection commits for real.
    let mut tx = store.begin().await.expect("begin");
    let mut renamed: Project = Repo::get(&mut tx, project.id).await.expect("get").expect("exists");
    renamed.name = Name::parse("Committed").expect("name");
    Repo::update(&mut tx, &renamed).await.expect("update");
    tx.commit().await.expect("commit");
    assert_eq!(stored_name(store, project.id).await, "Committed");
    assert_eq!(get(store, project.id).await.name.as_str(), "Committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_cancelled_halfway_leaves_the_next_units_whole() {
    let Some(db) = TestStore::fresh().await else { return };
    let world = World::new(db.clone()).await;
    let owner = world.entrepreneur().await;
    let mut projects = Vec::new();
    for _ in 0..3 {
        projects.push(world.project(&owner).await);
    }
    let store = db.store();
    let mine = ProjectFilter {
        owner_id: Some(owner.id()),
        ..Default::default()
    };

    // Cut lists off after one to three polls: by then the statement is sent and its answer is
    // on its way (a round trip cannot complete within a poll), so each unit is dropped
    // mid-statement, in read-only units and in units that wrote first.
    let mut cancelled = 0;
    for step in 0..60u64 {
        let mut tx = store.begin().await.expect("begin");
        if step % 2 == 1 {
            let mut row: Project = Repo::get_for_update(&mut tx, projects[0].id)
                .await
                .expect("lock")
                .expect("exists");
            row.name = Name::parse("Cancelled Write").expect("name");
            Repo::update(&mut tx, &row).await.expect("update");
        }
        {
            let mut listing = Box::pin(Repo::<Project>::list(&mut tx, &mine, PageRequest::first(20)));
            let mut answered = false;
            for _ in 0..=(step % 3) {
                let poll = std::future::poll_fn(|cx| Poll::Ready(listing.as_mut().poll(cx))).await;
                if poll.is_ready() {
                    answered = true;
                    break;
                }
                tokio::task::yield_now().await;
            }
            if !answered {
                cancelled += 1;
            }
        }
        drop(tx);

        // Whatever was cut off, the next unit answers exactly, on a whole connection.
        let mut next = store.begin().await.expect("begin");
        let page = Repo::<Project>::list(&mut next, &mine, PageRequest::first(20))
            .await
            .expect("list after a cancellation");
        assert_eq!(page.items.len(), 3);
        assert!(page.items.iter().all(|p| p.name.as_str() != "Cancelled Write"));
        next.commit().await.expect("read-only commit");
    }
    println!("{cancelled} of 60 lists cut off mid-statement");
    assert!(cancelled > 0, "no list was cancelled: the test proved nothing");
    assert!(stored_name(store, projects[0].id).await != "Cancelled Write");
}
