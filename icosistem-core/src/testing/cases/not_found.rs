//! How a missing row is named: every store, and the use cases above them, spell the id of a
//! `NotFound` as the bare UUID (`0190…`), never as the id type's `Debug` form (`ProgramId(…)`),
//! so that an error or a log line reads the same whatever the backend.

use uuid::Uuid;

use crate::error::{Error, StoreError};
use crate::model::value::Slug;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::testing::fixtures::*;

#[track_caller]
fn assert_names(error: StoreError, entity: &str, id: Uuid) {
    match Error::from(error) {
        Error::NotFound { entity: e, id: named } => {
            assert_eq!((e, named.as_str()), (entity, id.to_string().as_str()));
        }
        other => panic!("expected NotFound {entity} {id}, got {other:?}"),
    }
}

/// `update` and `delete` of missing rows, and a use case's lookup, name the bare UUID.
pub async fn not_found_names_the_bare_uuid<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let mut ghost = world.project(&owner).await;
    ghost.id = ProjectId::from(Uuid::now_v7());
    ghost.slug = Slug::parse("ghost-of-a-project").expect("slug");
    let absent = NotificationId::from(Uuid::now_v7());

    let mut tx = world.store().begin().await.expect("begin");
    let update = Repo::<Project>::update(&mut tx, &ghost)
        .await
        .expect_err("ghost update");
    assert_names(update, "project", ghost.id.into());
    let delete = Repo::<Notification>::delete(&mut tx, absent)
        .await
        .expect_err("ghost delete");
    assert_names(delete, "notification", absent.into());
    drop(tx);

    let program = ProgramId::from(Uuid::now_v7());
    match world.eco.get_program(&world.admin.ctx, program).await {
        Err(Error::NotFound { entity, id }) => assert_eq!((entity, id), ("program", program.to_string())),
        other => panic!("expected NotFound program, got {other:?}"),
    }
}
