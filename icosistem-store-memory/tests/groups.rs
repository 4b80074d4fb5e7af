//! The memory store's applications by program: a list filtered by program walks that program's
//! rows only (its group), and answers exactly that program's applications, in both orders and
//! across pages, around a rolled-back insert and a delete.

use icosistem_core::model::{Application, ApplicationId, ProjectId};
use icosistem_core::ports::store::{ApplicationFilter, Order, PageRequest, Repo, Store, Transaction};
use icosistem_core::testing::fixtures::{Cohort, ProgramSpec, World};
use icosistem_store_memory::MemoryStore;

/// The ids of `program`'s applications, page by page (`limit` rows each), in `order`.
async fn listed(store: &MemoryStore, cohort: &Cohort, order: Order, limit: u32) -> Vec<ApplicationId> {
    let filter = ApplicationFilter {
        program_id: Some(cohort.program.id),
        ..Default::default()
    };
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let mut tx = store.begin().await.expect("begin");
        let page = Repo::<Application>::list(&mut tx, &filter, PageRequest { limit, after, order })
            .await
            .expect("list");
        ids.extend(page.items.iter().map(|app| app.id));
        match page.items.last() {
            Some(last) if page.next_cursor.is_some() => after = Some(last.id.into()),
            _ => return ids,
        }
    }
}

#[tokio::test]
async fn a_program_list_holds_its_applications_only_through_writes_and_rollbacks() {
    let store = MemoryStore::new();
    let world = World::new(store.clone()).await;
    let (a, b) = (
        world.cohort(ProgramSpec::seats(10)).await,
        world.cohort(ProgramSpec::seats(10)).await,
    );
    // Interleaved, so every application of `a` has newer ones of `b` around it.
    let mut of_a = Vec::new();
    for _ in 0..5 {
        let person = world.entrepreneur().await;
        of_a.push(world.submit(&a, &person).await.id());
        world.submit(&b, &person).await;
    }

    let mut newest_first = of_a.clone();
    newest_first.reverse();
    assert_eq!(listed(&store, &a, Order::NewestFirst, 2).await, newest_first);
    assert_eq!(listed(&store, &a, Order::OldestFirst, 2).await, of_a);

    // A rolled-back insert leaves no trace in the group.
    let mut tx = store.begin().await.expect("begin");
    let template: Application = tx.get(of_a[0]).await.expect("get").expect("exists");
    let ghost = Application {
        id: ApplicationId::from(uuid::Uuid::now_v7()),
        project_id: ProjectId::from(uuid::Uuid::now_v7()),
        ..template
    };
    tx.insert(&ghost).await.expect("insert");
    drop(tx);
    assert_eq!(listed(&store, &a, Order::OldestFirst, 10).await, of_a);

    // A deleted row leaves its group; the other program's rows never entered it.
    let mut tx = store.begin().await.expect("begin");
    Repo::<Application>::delete(&mut tx, of_a[2]).await.expect("delete");
    tx.commit().await.expect("commit");
    let mut rest = of_a.clone();
    rest.remove(2);
    assert_eq!(listed(&store, &a, Order::OldestFirst, 3).await, rest);
    let filter = ApplicationFilter {
        program_id: Some(a.program.id),
        ..Default::default()
    };
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(Repo::<Application>::count(&mut tx, &filter).await.expect("count"), 4);
}
