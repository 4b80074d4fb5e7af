//! The store contracts of `ports::store`, exercised through the repositories and the unit of
//! work directly.

use std::collections::HashSet;

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use crate::error::{Error, StoreError};
use crate::model::value::Slug;
use crate::model::*;
use crate::ports::store::*;
use crate::ports::{Store, Transaction};
use crate::service::{Decision, MilestoneAction, UpdateProject};
use crate::testing::fixtures::*;
use crate::workflow::project::ProjectCommand;

fn fresh<I: From<Uuid>>() -> I {
    I::from(Uuid::now_v7())
}

#[track_caller]
fn assert_store_conflict(error: &StoreError, entity: &str, field: &str) {
    assert!(
        matches!(error, StoreError::Conflict { entity: e, field: f } if *e == entity && *f == field),
        "expected StoreError::Conflict {{ {entity}, {field} }}, got {error:?}"
    );
}

#[track_caller]
fn assert_store_not_found(error: &StoreError, entity: &str) {
    assert!(
        matches!(error, StoreError::NotFound { entity: e, .. } if *e == entity),
        "expected StoreError::NotFound {entity}, got {error:?}"
    );
}

fn notification_row(user: UserId, n: usize, world_now: chrono::DateTime<chrono::Utc>) -> Notification {
    Notification {
        id: fresh(),
        user_id: user,
        kind: "conformance".to_owned(),
        title: format!("Note {n}"),
        body: String::new(),
        data: json!({ "n": n }),
        status: NotificationStatus::Unread,
        read_at: None,
        meta: Meta::new(world_now, None),
    }
}

/// A copy of `user` as a new row with another id and `email`.
fn user_copy(user: &User, email: &str) -> User {
    let mut copy = user.clone();
    copy.id = fresh();
    copy.email = crate::model::value::Email::parse(email).expect("a valid email");
    copy.meta.version = 1;
    copy.deletion = Deletion::default();
    copy
}

async fn insert_notifications<S: Store>(store: &S, user: UserId, count: usize, now: chrono::DateTime<chrono::Utc>) {
    let mut tx = store.begin().await.expect("begin");
    for n in 0..count {
        Repo::<Notification>::insert(&mut tx, &notification_row(user, n, now))
            .await
            .expect("insert notification");
    }
    tx.commit().await.expect("commit");
}

fn conformance_notes(user: UserId) -> NotificationFilter {
    NotificationFilter {
        user_id: Some(user),
        kind: Some("conformance".to_owned()),
        ..Default::default()
    }
}

/// `get` and `get_for_update` of ids nobody inserted answer `Ok(None)` for every entity.
pub async fn repo_get_of_unknown_ids_is_none<S: Store + Clone>(store: S) {
    let mut tx = store.begin().await.expect("begin");
    assert!(Repo::<User>::get(&mut tx, fresh()).await.expect("user").is_none());
    assert!(
        Repo::<User>::get_for_update(&mut tx, fresh())
            .await
            .expect("user lock")
            .is_none()
    );
    assert!(Repo::<Profile>::get(&mut tx, fresh()).await.expect("profile").is_none());
    assert!(
        Repo::<AccountToken>::get(&mut tx, fresh())
            .await
            .expect("token")
            .is_none()
    );
    assert!(
        Repo::<Organization>::get(&mut tx, fresh())
            .await
            .expect("organization")
            .is_none()
    );
    assert!(
        Repo::<OrganizationMember>::get(&mut tx, fresh())
            .await
            .expect("member")
            .is_none()
    );
    assert!(Repo::<Program>::get(&mut tx, fresh()).await.expect("program").is_none());
    assert!(
        Repo::<Program>::get_for_update(&mut tx, fresh())
            .await
            .expect("program lock")
            .is_none()
    );
    assert!(Repo::<Project>::get(&mut tx, fresh()).await.expect("project").is_none());
    assert!(
        Repo::<Milestone>::get(&mut tx, fresh())
            .await
            .expect("milestone")
            .is_none()
    );
    assert!(
        Repo::<Application>::get(&mut tx, fresh())
            .await
            .expect("application")
            .is_none()
    );
    assert!(Repo::<Review>::get(&mut tx, fresh()).await.expect("review").is_none());
    assert!(
        Repo::<Enrollment>::get(&mut tx, fresh())
            .await
            .expect("enrollment")
            .is_none()
    );
    assert!(
        Repo::<Notification>::get(&mut tx, fresh())
            .await
            .expect("notification")
            .is_none()
    );
    assert!(
        Repo::<OutboxMessage>::get(&mut tx, fresh())
            .await
            .expect("outbox")
            .is_none()
    );
    assert!(
        Repo::<AuditEvent>::get(&mut tx, fresh())
            .await
            .expect("audit")
            .is_none()
    );
}

/// Use cases answer `NotFound` (naming the entity) for ids that do not exist, even to admins.
pub async fn use_cases_answer_not_found_for_unknown_ids<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let admin = &world.admin.ctx;
    let eco = &world.eco;
    assert_not_found(&expect_err(eco.get_user(admin, fresh()).await), "user");
    assert_not_found(&expect_err(eco.get_organization(admin, fresh()).await), "organization");
    assert_not_found(&expect_err(eco.get_program(admin, fresh()).await), "program");
    assert_not_found(&expect_err(eco.get_project(admin, fresh()).await), "project");
    assert_not_found(&expect_err(eco.get_milestone(admin, fresh()).await), "milestone");
    assert_not_found(&expect_err(eco.get_application(admin, fresh()).await), "application");
    assert_not_found(&expect_err(eco.get_enrollment(admin, fresh()).await), "enrollment");
    assert_not_found(
        &expect_err(eco.decide(admin, fresh(), Decision::Accept, None, None).await),
        "application",
    );
    assert_not_found(
        &expect_err(eco.update_project(admin, fresh(), UpdateProject::default()).await),
        "project",
    );
    assert_not_found(&expect_err(eco.unlock_user(admin, fresh()).await), "user");
    assert_not_found(
        &expect_err(eco.read_notification(&world.admin.ctx, fresh()).await),
        "notification",
    );
}

/// Inserting a row whose id exists is `Conflict { field: "id" }`, and writes nothing.
pub async fn repo_insert_of_an_existing_id_conflicts<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let mut copy = project.clone();
    copy.slug = Slug::parse("a-slug-nobody-has").expect("slug");
    copy.tagline = Some("the copy".to_owned());
    let mut tx = world.store().begin().await.expect("begin");
    let error = Repo::<Project>::insert(&mut tx, &copy).await.expect_err("duplicate id");
    assert_store_conflict(&error, "project", "id");
    let user_copy = User {
        email: crate::model::value::Email::parse("someone.else@example.test").expect("email"),
        ..owner.user.clone()
    };
    let error = Repo::<User>::insert(&mut tx, &user_copy)
        .await
        .expect_err("duplicate user id");
    assert_store_conflict(&error, "user", "id");
    tx.commit().await.expect("commit");
    let stored = world.row(project.id).await.expect("project still there");
    assert_eq!(stored.tagline, None);
    assert_eq!(stored.slug, project.slug);
}

/// A successful update stores `version + 1` and returns it; an update carrying any other version
/// than the stored one is `Conflict { field: "version" }` and changes nothing.
pub async fn repo_update_bumps_the_version_and_refuses_a_stale_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let read = world.row(project.id).await.expect("project");
    let v = read.meta.version;

    let mut tx = world.store().begin().await.expect("begin");
    let mut changed = read.clone();
    changed.tagline = Some("first edit".to_owned());
    let stored = Repo::<Project>::update(&mut tx, &changed).await.expect("update");
    assert_eq!(stored.meta.version, v + 1);
    assert_eq!(stored.tagline.as_deref(), Some("first edit"));
    tx.commit().await.expect("commit");
    let now = world.row(project.id).await.expect("project");
    assert_eq!(now.meta.version, v + 1);
    assert_eq!(now.tagline.as_deref(), Some("first edit"));

    let mut tx = world.store().begin().await.expect("begin");
    let mut stale = read.clone();
    stale.tagline = Some("lost update".to_owned());
    assert_store_conflict(
        &Repo::<Project>::update(&mut tx, &stale).await.expect_err("stale"),
        "project",
        "version",
    );
    let mut ahead = read.clone();
    ahead.meta.version = v + 5;
    assert_store_conflict(
        &Repo::<Project>::update(&mut tx, &ahead).await.expect_err("ahead"),
        "project",
        "version",
    );
    drop(tx);
    let after = world.row(project.id).await.expect("project");
    assert_eq!(after.meta.version, v + 1);
    assert_eq!(after.tagline.as_deref(), Some("first edit"));

    // Two successive updates in one unit of work chain their versions.
    let mut tx = world.store().begin().await.expect("begin");
    let once = Repo::<Project>::update(&mut tx, &after).await.expect("once");
    let twice = Repo::<Project>::update(&mut tx, &once).await.expect("twice");
    assert_eq!(twice.meta.version, v + 3);
    tx.commit().await.expect("commit");
    assert_eq!(world.row(project.id).await.expect("project").meta.version, v + 3);
}

/// `update` of a row that was never inserted and `delete` of an absent id are
/// `StoreError::NotFound`.
pub async fn repo_update_and_delete_of_missing_rows_are_not_found<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let mut ghost = project.clone();
    ghost.id = fresh();
    ghost.slug = Slug::parse("ghost-project").expect("slug");
    let mut tx = world.store().begin().await.expect("begin");
    assert_store_not_found(
        &Repo::<Project>::update(&mut tx, &ghost)
            .await
            .expect_err("ghost update"),
        "project",
    );
    assert_store_not_found(
        &Repo::<OrganizationMember>::delete(&mut tx, fresh())
            .await
            .expect_err("ghost delete"),
        "organization_member",
    );
    assert_store_not_found(
        &Repo::<Notification>::delete(&mut tx, fresh())
            .await
            .expect_err("ghost delete"),
        "notification",
    );
    drop(tx);
    assert!(world.row(ghost.id).await.is_none());
}

/// Unique keys hold on insert and on update: a taken slug or email is
/// `Conflict { field: "slug" | "email" }`.
pub async fn repo_unique_slug_is_enforced_on_insert_and_update<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let alpha = world.project(&owner).await;
    let beta = world.project(&owner).await;

    let mut tx = world.store().begin().await.expect("begin");
    let mut copy = beta.clone();
    copy.id = fresh();
    copy.slug = alpha.slug.clone();
    assert_store_conflict(
        &Repo::<Project>::insert(&mut tx, &copy).await.expect_err("taken slug"),
        "project",
        "slug",
    );
    let mut renamed = Repo::<Project>::get(&mut tx, beta.id)
        .await
        .expect("get")
        .expect("beta");
    renamed.slug = alpha.slug.clone();
    assert_store_conflict(
        &Repo::<Project>::update(&mut tx, &renamed)
            .await
            .expect_err("taken slug on update"),
        "project",
        "slug",
    );
    let twin = user_copy(&owner.user, owner.email());
    assert_store_conflict(
        &Repo::<User>::insert(&mut tx, &twin).await.expect_err("taken email"),
        "user",
        "email",
    );
    // A row may keep its own keys on update.
    let same = Repo::<Project>::get(&mut tx, beta.id)
        .await
        .expect("get")
        .expect("beta");
    Repo::<Project>::update(&mut tx, &same)
        .await
        .expect("own slug is not a conflict");
    tx.commit().await.expect("commit");
    assert_eq!(world.row(beta.id).await.expect("beta").slug, beta.slug);
}

/// A soft delete is an update setting `deleted_at`: the row disappears from `get`, `list` and
/// `count` unless asked for, frees its unique keys, and a later update is `NotFound`.
pub async fn repo_soft_delete_hides_the_row_and_frees_its_keys<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    let email = person.user.email.clone();
    let mut tx = world.store().begin().await.expect("begin");
    let mut user = Repo::<User>::get(&mut tx, person.id())
        .await
        .expect("get")
        .expect("user");
    user.deletion.deleted_at = Some(world.now());
    user.deletion.deleted_by = Some(world.admin.id());
    let deleted = Repo::<User>::update(&mut tx, &user).await.expect("soft delete");
    tx.commit().await.expect("commit");

    assert!(world.row(person.id()).await.is_none(), "get hides a deleted row");
    let by_email = UserFilter {
        email: Some(email.clone()),
        ..Default::default()
    };
    assert!(world.rows(by_email.clone()).await.is_empty());
    assert_eq!(world.count(by_email.clone()).await, 0);
    let with_deleted = UserFilter {
        include_deleted: true,
        ..by_email.clone()
    };
    let found = world.rows(with_deleted.clone()).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, person.id());
    assert!(found[0].deletion.deleted_at.is_some());
    assert_eq!(world.count(with_deleted).await, 1);

    let mut tx = world.store().begin().await.expect("begin");
    let mut again = deleted.clone();
    again.first_name = crate::model::value::PersonName::parse("Revived").expect("name");
    assert_store_not_found(
        &Repo::<User>::update(&mut tx, &again)
            .await
            .expect_err("update of a deleted row"),
        "user",
    );
    let successor = user_copy(&person.user, email.as_str());
    Repo::<User>::insert(&mut tx, &successor)
        .await
        .expect("the deleted row's email is free");
    tx.commit().await.expect("commit");
    assert_eq!(world.rows(by_email).await.len(), 1);
    assert_eq!(world.row(successor.id).await.expect("successor").email, email);
}

/// `delete` removes a membership for good (freeing its key); deleting it again is `NotFound`.
pub async fn repo_delete_removes_memberships<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.ally().await;
    let reviewer = world.ally().await;
    let org = world.organization(&owner).await;
    world.add_member(&owner, &org, &reviewer, MemberRole::Reviewer).await;
    let of_org = MemberFilter {
        organization_id: Some(org.id),
        ..Default::default()
    };
    let members = world.rows(of_org.clone()).await;
    assert_eq!(members.len(), 2);
    let membership = members
        .iter()
        .find(|m| m.user_id == reviewer.id())
        .expect("reviewer membership")
        .clone();

    let mut tx = world.store().begin().await.expect("begin");
    Repo::<OrganizationMember>::delete(&mut tx, membership.id)
        .await
        .expect("delete");
    assert!(
        Repo::<OrganizationMember>::get(&mut tx, membership.id)
            .await
            .expect("get")
            .is_none()
    );
    tx.commit().await.expect("commit");

    assert!(world.row(membership.id).await.is_none());
    assert_eq!(world.count(of_org.clone()).await, 1);
    let mut tx = world.store().begin().await.expect("begin");
    assert_store_not_found(
        &Repo::<OrganizationMember>::delete(&mut tx, membership.id)
            .await
            .expect_err("second delete"),
        "organization_member",
    );
    drop(tx);
    world.add_member(&owner, &org, &reviewer, MemberRole::Coordinator).await;
    let members = world.rows(of_org).await;
    assert_eq!(members.len(), 2);
    assert!(
        members
            .iter()
            .any(|m| m.user_id == reviewer.id() && m.role == MemberRole::Coordinator)
    );
}

/// `UserFilter::staff_of` selects the owners and coordinators of that organization — not its
/// reviewers, not another organization's staff, not a deleted user — and combines with the other
/// fields; it counts and pages like any filter.
pub async fn a_user_filter_selects_an_organizations_staff<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.ally().await;
    let coordinator = world.ally().await;
    let reviewer = world.ally().await;
    let gone = world.ally().await;
    let org = world.organization(&owner).await;
    world
        .add_member(&owner, &org, &coordinator, MemberRole::Coordinator)
        .await;
    world.add_member(&owner, &org, &reviewer, MemberRole::Reviewer).await;
    world.add_member(&owner, &org, &gone, MemberRole::Coordinator).await;
    // Another organization whose owner coordinates nothing here.
    let elsewhere = world.ally().await;
    world.organization(&elsewhere).await;

    let mut tx = world.store().begin().await.expect("begin");
    let mut deleted = Repo::<User>::get(&mut tx, gone.id()).await.expect("get").expect("user");
    deleted.deletion = Deletion {
        deleted_at: Some(world.now()),
        deleted_by: None,
    };
    Repo::<User>::update(&mut tx, &deleted).await.expect("soft delete");
    tx.commit().await.expect("commit");

    let staff = UserFilter {
        staff_of: Some(org.id),
        ..Default::default()
    };
    let mut expected = vec![owner.id(), coordinator.id()];
    expected.sort();
    let mut found: Vec<UserId> = world.ids(staff.clone()).await;
    found.sort();
    assert_eq!(found, expected);
    assert_eq!(world.count(staff.clone()).await, 2);
    let mut tx = world.store().begin().await.expect("begin");
    let page = Repo::<User>::list(&mut tx, &staff, PageRequest::first(1))
        .await
        .expect("list");
    drop(tx);
    assert_eq!(page.items.len(), 1);
    assert!(page.next_cursor.is_some(), "a second page");

    let only_owner = UserFilter {
        id_in: Some(vec![owner.id(), reviewer.id()]),
        ..staff.clone()
    };
    let found: Vec<UserId> = world.ids(only_owner).await;
    assert_eq!(found, vec![owner.id()]);
    let with_deleted = UserFilter {
        include_deleted: true,
        ..staff
    };
    assert_eq!(world.count(with_deleted).await, 3);
}

/// Lists `filter` in full and in pages of two, and checks both against `Entity::matches` over
/// the `universe` (every row of the entity) and against `count`.
async fn assert_filter_agrees<S: Store, F: ListFilter + std::fmt::Debug>(
    world: &World<S>,
    universe: &[F::Entity],
    filter: F,
) where
    S::Tx: Repo<F::Entity>,
{
    let expected: Vec<Uuid> = universe
        .iter()
        .filter(|row| row.matches(&filter))
        .map(|row| row.id().into())
        .collect();
    let listed: Vec<Uuid> = world.rows(filter.clone()).await.iter().map(|r| r.id().into()).collect();
    assert_eq!(listed, expected, "list of {filter:?}");
    assert_eq!(
        world.count(filter.clone()).await,
        expected.len() as u64,
        "count of {filter:?}"
    );
    let mut paged = Vec::new();
    let mut page = PageRequest::first(2);
    let mut tx = world.store().begin().await.expect("begin");
    loop {
        let got = Repo::<F::Entity>::list(&mut tx, &filter, page).await.expect("page");
        assert!(got.items.len() <= 2);
        paged.extend(got.items.iter().map(|r| r.id().into()));
        match got.next_cursor {
            Some(cursor) => page = PageRequest::parse(Some(2), Some(&cursor)).expect("cursor"),
            None => break,
        }
    }
    assert_eq!(paged, expected, "pages of {filter:?}");
}

async fn universe<S: Store, F: ListFilter>(world: &World<S>, everything: F) -> Vec<F::Entity>
where
    S::Tx: Repo<F::Entity>,
{
    let rows = world.rows(everything).await;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id().into()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "rows come newest first (id descending)");
    rows
}

/// `list` and `count` answer exactly the rows `Entity::matches` selects, for the filters of
/// every main entity, in full and page by page.
pub async fn count_and_list_agree_with_entity_matches<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::seats(2)).await;
    let draft_program = world
        .eco
        .create_program(
            &cohort.owner.ctx,
            world.program_input(&cohort.org, "Draft Cohort", ProgramSpec::default()),
        )
        .await
        .expect("draft program");
    let ana = world.entrepreneur().await;
    let ben = world.entrepreneur().await;
    let accepted = world.accepted(&cohort, 80).await;
    let waitlisted = world.waitlisted(&cohort, 60).await;
    let submitted = world.submit(&cohort, &ana).await;
    let public = world.project(&ben).await;
    let public = world
        .eco
        .update_project(
            &ben.ctx,
            public.id,
            UpdateProject {
                is_public: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("make public");
    world
        .eco
        .project_command(&ben.ctx, public.id, ProjectCommand::Activate, None)
        .await
        .expect("activate");
    let cancelled = world.project(&ben).await;
    world
        .eco
        .project_command(&ben.ctx, cancelled.id, ProjectCommand::Cancel, None)
        .await
        .expect("cancel");
    let deleted = world.project(&ben).await;
    world
        .eco
        .delete_project(&ben.ctx, deleted.id, None)
        .await
        .expect("delete");
    world
        .eco
        .advance_stage(&ana.ctx, submitted.project.id, ProjectStage::Concept, None)
        .await
        .expect("advance");
    let soon = world.milestone(&ana, submitted.project.id, "Soon", 2).await;
    world.milestone(&ana, submitted.project.id, "Later", 60).await;
    world
        .eco
        .milestone_command(&ana.ctx, soon.id, MilestoneAction::Start, None)
        .await
        .expect("start");
    world.advance(Duration::days(5));
    let today = world.now().date_naive();

    let projects = universe(
        &world,
        ProjectFilter {
            include_deleted: true,
            ..Default::default()
        },
    )
    .await;
    for filter in [
        ProjectFilter::default(),
        ProjectFilter {
            include_deleted: true,
            ..Default::default()
        },
        ProjectFilter {
            owner_id: Some(ben.id()),
            ..Default::default()
        },
        ProjectFilter {
            owner_id: Some(ben.id()),
            open_only: true,
            ..Default::default()
        },
        ProjectFilter {
            status: Some(ProjectStatus::Active),
            ..Default::default()
        },
        ProjectFilter {
            status: Some(ProjectStatus::Draft),
            ..Default::default()
        },
        ProjectFilter {
            is_public: Some(true),
            ..Default::default()
        },
        ProjectFilter {
            is_public: Some(false),
            include_deleted: true,
            ..Default::default()
        },
        ProjectFilter {
            stage: Some(ProjectStage::Concept),
            ..Default::default()
        },
        ProjectFilter {
            slug: Some(public.slug.clone()),
            ..Default::default()
        },
        // The visible set of one caller: nothing, each branch alone, the union, and narrowed by
        // the other fields.
        ProjectFilter {
            visible_to: Some(ProjectVisibility::default()),
            ..Default::default()
        },
        ProjectFilter {
            visible_to: Some(ProjectVisibility {
                owners: vec![ana.id()],
                ..Default::default()
            }),
            ..Default::default()
        },
        ProjectFilter {
            visible_to: Some(ProjectVisibility {
                public: true,
                ..Default::default()
            }),
            include_deleted: true,
            ..Default::default()
        },
        ProjectFilter {
            visible_to: Some(ProjectVisibility {
                ids: vec![accepted.project.id, deleted.id],
                ..Default::default()
            }),
            include_deleted: true,
            ..Default::default()
        },
        ProjectFilter {
            visible_to: Some(ProjectVisibility {
                owners: vec![ana.id(), waitlisted.person.id()],
                public: true,
                ids: vec![accepted.project.id, cancelled.id],
                ..Default::default()
            }),
            ..Default::default()
        },
        ProjectFilter {
            owner_id: Some(ben.id()),
            visible_to: Some(ProjectVisibility {
                owners: vec![ana.id()],
                public: true,
                ids: vec![cancelled.id],
                ..Default::default()
            }),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &projects, filter).await;
    }

    let applications = universe(&world, ApplicationFilter::default()).await;
    assert_eq!(applications.len(), 3);
    for filter in [
        ApplicationFilter::default(),
        applications_of(cohort.program.id),
        ApplicationFilter {
            status: Some(ApplicationStatus::Accepted),
            ..Default::default()
        },
        ApplicationFilter {
            status: Some(ApplicationStatus::Waitlisted),
            program_id: Some(cohort.program.id),
            ..Default::default()
        },
        ApplicationFilter {
            applicant_id: Some(ana.id()),
            ..Default::default()
        },
        ApplicationFilter {
            project_id: Some(accepted.project.id),
            ..Default::default()
        },
        ApplicationFilter {
            project_id: Some(waitlisted.project.id),
            status: Some(ApplicationStatus::Accepted),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &applications, filter).await;
    }

    let programs = universe(
        &world,
        ProgramFilter {
            include_deleted: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(programs.len(), 2);
    let at_t0 = crate::testing::fixtures::t0();
    for filter in [
        ProgramFilter::default(),
        ProgramFilter {
            exclude_drafts: true,
            ..Default::default()
        },
        ProgramFilter {
            status: Some(ProgramStatus::Draft),
            ..Default::default()
        },
        ProgramFilter {
            accepting_at: Some(at_t0),
            ..Default::default()
        },
        ProgramFilter {
            accepting_at: Some(at_t0 + Duration::days(30)),
            ..Default::default()
        },
        ProgramFilter {
            organization_id: Some(cohort.org.id),
            slug: Some(draft_program.slug.clone()),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &programs, filter).await;
    }

    let milestones = universe(&world, MilestoneFilter::default()).await;
    assert_eq!(milestones.len(), 2);
    for filter in [
        MilestoneFilter {
            overdue_on: Some(today),
            ..Default::default()
        },
        MilestoneFilter {
            owner_id: Some(ana.id()),
            status: Some(MilestoneStatus::Pending),
            ..Default::default()
        },
        MilestoneFilter {
            project_id: Some(submitted.project.id),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &milestones, filter).await;
    }
    assert_eq!(
        world
            .ids(MilestoneFilter {
                overdue_on: Some(today),
                ..Default::default()
            })
            .await,
        vec![soon.id]
    );

    let users = universe(
        &world,
        UserFilter {
            include_deleted: true,
            ..Default::default()
        },
    )
    .await;
    for filter in [
        UserFilter {
            role: Some(Role::Entrepreneur),
            ..Default::default()
        },
        UserFilter {
            role: Some(Role::Ally),
            status: Some(UserStatus::Active),
            ..Default::default()
        },
        UserFilter {
            email: Some(ana.user.email.clone()),
            ..Default::default()
        },
        UserFilter {
            created_before: Some(at_t0 + Duration::seconds(1)),
            ..Default::default()
        },
        UserFilter {
            created_before: Some(at_t0),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &users, filter).await;
    }

    let members = universe(&world, MemberFilter::default()).await;
    for filter in [
        MemberFilter {
            organization_id: Some(cohort.org.id),
            role: Some(MemberRole::Reviewer),
            ..Default::default()
        },
        MemberFilter {
            user_id: Some(cohort.owner.id()),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &members, filter).await;
    }

    let reviews = universe(&world, ReviewFilter::default()).await;
    for filter in [
        ReviewFilter {
            submitted: Some(true),
            ..Default::default()
        },
        ReviewFilter {
            submitted: Some(false),
            ..Default::default()
        },
        ReviewFilter {
            reviewer_id: Some(cohort.reviewers[0].id()),
            application_id: Some(accepted.id()),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &reviews, filter).await;
    }

    let enrollments = universe(&world, EnrollmentFilter::default()).await;
    assert_eq!(enrollments.len(), 1);
    for filter in [
        EnrollmentFilter {
            program_id: Some(cohort.program.id),
            status: Some(EnrollmentStatus::Enrolled),
            ..Default::default()
        },
        EnrollmentFilter {
            entrepreneur_id: Some(ana.id()),
            ..Default::default()
        },
        EnrollmentFilter {
            application_id: Some(accepted.id()),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &enrollments, filter).await;
    }

    let notifications = universe(&world, NotificationFilter::default()).await;
    for filter in [
        NotificationFilter {
            user_id: Some(ana.id()),
            ..Default::default()
        },
        NotificationFilter {
            kind: Some("application_received".to_owned()),
            status: Some(NotificationStatus::Unread),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &notifications, filter).await;
    }

    let outbox = universe(&world, OutboxFilter::default()).await;
    for filter in [
        OutboxFilter {
            status: Some(OutboxStatus::Pending),
            ..Default::default()
        },
        OutboxFilter {
            due_at: Some(at_t0 - Duration::seconds(1)),
            ..Default::default()
        },
        OutboxFilter {
            due_at: Some(at_t0),
            user_id: Some(accepted.person.id()),
            ..Default::default()
        },
        OutboxFilter {
            kind: Some("application_accepted".to_owned()),
            ..Default::default()
        },
        OutboxFilter {
            channel: Some(OutboxChannel::Email),
            status: Some(OutboxStatus::Pending),
            ..Default::default()
        },
        OutboxFilter {
            channel: Some(OutboxChannel::Webhook),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &outbox, filter).await;
    }

    let audit = universe(&world, AuditFilter::default()).await;
    for filter in [
        AuditFilter {
            actor_id: Some(cohort.owner.id()),
            ..Default::default()
        },
        AuditFilter {
            action: Some("application.submit".to_owned()),
            ..Default::default()
        },
        AuditFilter {
            organization_id: Some(cohort.org.id),
            ..Default::default()
        },
        AuditFilter {
            target_id: Some(accepted.id().into()),
            ..Default::default()
        },
        AuditFilter {
            from: Some(at_t0),
            to: Some(at_t0 + Duration::days(1)),
            ..Default::default()
        },
        AuditFilter {
            from: Some(at_t0 + Duration::seconds(1)),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &audit, filter).await;
    }

    let tokens = universe(&world, AccountTokenFilter::default()).await;
    for filter in [
        AccountTokenFilter {
            usable_at: Some(world.now()),
            ..Default::default()
        },
        AccountTokenFilter {
            purpose: Some(AccountTokenPurpose::PasswordReset),
            ..Default::default()
        },
    ] {
        assert_filter_agrees(&world, &tokens, filter).await;
    }
}

/// Pages of `k` rows over `n` rows give every row exactly once, id descending, with
/// `next_cursor` on every page but the last (also when `n` is a multiple of `k`).
pub async fn pagination_visits_every_row_once_newest_first<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    insert_notifications(world.store(), person.id(), 23, world.now()).await;
    let filter = conformance_notes(person.id());
    let all: Vec<NotificationId> = world.ids(filter.clone()).await;
    assert_eq!(all.len(), 23);

    for k in [1u32, 5, 22, 23, 50] {
        let mut seen = Vec::new();
        let mut pages = 0;
        let mut cursor: Option<String> = None;
        loop {
            let request = PageRequest::parse(Some(k), cursor.as_deref()).expect("page request");
            let mut tx = world.store().begin().await.expect("begin");
            let page = Repo::<Notification>::list(&mut tx, &filter, request)
                .await
                .expect("page");
            drop(tx);
            pages += 1;
            let expected_len = (all.len() - seen.len()).min(k as usize);
            assert_eq!(page.items.len(), expected_len, "page {pages} of size {k}");
            seen.extend(page.items.iter().map(|n| n.id));
            match page.next_cursor {
                Some(next) => {
                    assert!(seen.len() < all.len(), "a cursor after the last row (k = {k})");
                    cursor = Some(next);
                }
                None => break,
            }
        }
        assert_eq!(seen, all, "pages of {k}");
        assert_eq!(pages, all.len().div_ceil(k as usize), "page count for {k}");
    }
    let mut sorted = all.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(all, sorted, "newest first");

    // The use case pages the same way.
    let first = world
        .eco
        .list_notifications(&person.ctx, None, PageRequest::first(10))
        .await
        .expect("first page");
    assert_eq!(first.items.iter().map(|n| n.id).collect::<Vec<_>>(), all[..10]);
    let second = world
        .eco
        .list_notifications(
            &person.ctx,
            None,
            PageRequest::parse(Some(10), first.next_cursor.as_deref()).expect("cursor"),
        )
        .await
        .expect("second page");
    assert_eq!(second.items.iter().map(|n| n.id).collect::<Vec<_>>(), all[10..20]);

    // Any id is a position: the largest gives every row, the smallest none.
    let mut tx = world.store().begin().await.expect("begin");
    let from_max = Repo::<Notification>::list(
        &mut tx,
        &filter,
        PageRequest {
            after: Some(Uuid::max()),
            ..PageRequest::first(100)
        },
    )
    .await
    .expect("after max");
    assert_eq!(from_max.items.len(), 23);
    assert_eq!(from_max.next_cursor, None);
    let from_nil = Repo::<Notification>::list(
        &mut tx,
        &filter,
        PageRequest {
            after: Some(Uuid::nil()),
            ..PageRequest::first(100)
        },
    )
    .await
    .expect("after nil");
    assert!(from_nil.items.is_empty());
    assert_eq!(from_nil.next_cursor, None);
}

/// Oldest-first pages (the order of queues such as the outbox) give every matching row exactly
/// once, id ascending, with the same cursor rules; a row inserted meanwhile shows up at the end.
pub async fn pagination_oldest_first_visits_every_row_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    insert_notifications(world.store(), person.id(), 11, world.now()).await;
    let filter = conformance_notes(person.id());
    let mut ascending: Vec<NotificationId> = world.ids(filter.clone()).await;
    ascending.reverse();
    for k in [1u32, 4, 11, 12] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let request = PageRequest::parse(Some(k), cursor.as_deref())
                .expect("page request")
                .oldest_first();
            assert_eq!(request.order, Order::OldestFirst);
            let mut tx = world.store().begin().await.expect("begin");
            let page = Repo::<Notification>::list(&mut tx, &filter, request)
                .await
                .expect("page");
            drop(tx);
            assert!(page.items.len() <= k as usize);
            seen.extend(page.items.iter().map(|n| n.id));
            match page.next_cursor {
                Some(next) => {
                    assert!(seen.len() < ascending.len(), "a cursor after the last row (k = {k})");
                    cursor = Some(next);
                }
                None => break,
            }
        }
        assert_eq!(seen, ascending, "oldest-first pages of {k}");
    }
    // A row inserted after the first page comes last.
    let mut tx = world.store().begin().await.expect("begin");
    let first = Repo::<Notification>::list(&mut tx, &filter, PageRequest::first(5).oldest_first())
        .await
        .expect("page");
    drop(tx);
    insert_notifications(world.store(), person.id(), 1, world.now()).await;
    let mut rest = Vec::new();
    let mut cursor = first.next_cursor.clone();
    while let Some(c) = cursor {
        let mut tx = world.store().begin().await.expect("begin");
        let page = Repo::<Notification>::list(
            &mut tx,
            &filter,
            PageRequest::parse(Some(5), Some(&c)).expect("cursor").oldest_first(),
        )
        .await
        .expect("page");
        rest.extend(page.items.iter().map(|n| n.id));
        cursor = page.next_cursor;
    }
    assert_eq!(rest.len(), 7);
    assert_eq!(&rest[..6], &ascending[5..]);
    assert!(!ascending.contains(&rest[6]), "the new row is last");
}

/// A filter naming its rows by id (`id_in`, which a store may serve by key lookups) pages like
/// any other list: in order both ways, each row once however often it is named, unknown ids
/// ignored, the filter's other conditions still applied, and `count` agreeing.
pub async fn a_list_by_ids_pages_like_any_other_list<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let mut people = Vec::new();
    for _ in 0..5 {
        people.push(world.entrepreneur().await.id());
    }
    people.sort();
    let unknown = UserId::from(Uuid::now_v7());
    let named = vec![people[4], people[0], people[2], people[2], people[3], unknown];
    let filter = UserFilter {
        id_in: Some(named),
        role: Some(Role::Entrepreneur),
        ..Default::default()
    };
    let pages = |order: Order, k: u32| {
        let (world, filter) = (&world, &filter);
        async move {
            let mut pages: Vec<Vec<UserId>> = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut request = PageRequest::parse(Some(k), cursor.as_deref()).expect("page request");
                if order == Order::OldestFirst {
                    request = request.oldest_first();
                }
                let mut tx = world.store().begin().await.expect("begin");
                let page = Repo::<User>::list(&mut tx, filter, request).await.expect("page");
                drop(tx);
                pages.push(page.items.iter().map(|u| u.id).collect());
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => return pages,
                }
            }
        }
    };
    let (a, b, c, d) = (people[0], people[2], people[3], people[4]);
    assert_eq!(pages(Order::NewestFirst, 2).await, vec![vec![d, c], vec![b, a]]);
    assert_eq!(pages(Order::OldestFirst, 3).await, vec![vec![a, b, c], vec![d]]);
    let mut tx = world.store().begin().await.expect("begin");
    assert_eq!(Repo::<User>::count(&mut tx, &filter).await.expect("count"), 4);
    let admins = UserFilter {
        role: Some(Role::Admin),
        ..filter.clone()
    };
    assert_eq!(Repo::<User>::count(&mut tx, &admins).await.expect("count"), 0);
    let none = UserFilter {
        id_in: Some(Vec::new()),
        ..Default::default()
    };
    assert!(
        Repo::<User>::list(&mut tx, &none, PageRequest::first(10))
            .await
            .expect("page")
            .items
            .is_empty(),
        "an empty id_in names no row"
    );
}

/// While a client pages, other units of work insert rows: the rows that existed at the start
/// are each seen exactly once, in order, and no row is seen twice.
pub async fn pagination_is_stable_under_concurrent_inserts<S: Store + Clone>(store: S) {
    let world = World::new(store.clone()).await;
    let person = world.entrepreneur().await;
    insert_notifications(world.store(), person.id(), 30, world.now()).await;
    let filter = conformance_notes(person.id());
    let original: Vec<NotificationId> = world.ids(filter.clone()).await;
    assert_eq!(original.len(), 30);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut round = 0;
    loop {
        round += 1;
        let inserter = {
            let store = store.clone();
            let user = person.id();
            let now = world.now();
            tokio::spawn(async move { insert_notifications(&store, user, 3, now).await })
        };
        let request = PageRequest::parse(Some(4), cursor.as_deref()).expect("page request");
        let mut tx = world.store().begin().await.expect("begin");
        let page = Repo::<Notification>::list(&mut tx, &filter, request)
            .await
            .expect("page");
        drop(tx);
        inserter.await.expect("inserter");
        seen.extend(page.items.iter().map(|n| n.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(round < 50, "pagination does not end");
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a row was seen twice");
    // Rows inserted after the first page are newer than every cursor, so they only may show on
    // the first page; the rest is exactly the original rows in order.
    let first_original = seen.iter().position(|id| original.contains(id)).expect("original rows");
    assert!(first_original <= 4);
    assert_eq!(
        &seen[first_original..],
        &original[..],
        "original rows, each once, in order"
    );
    assert_eq!(world.count(filter).await, 30 + 3 * round as u64);
}

/// `PageRequest::parse` reports a bad cursor on `cursor` and a bad limit on `limit`, both at
/// once; an empty cursor is the first page and a cursor from a page round-trips.
pub async fn page_request_parse_reports_bad_cursor_and_limit<S: Store + Clone>(store: S) {
    let fields = |r: Result<PageRequest, crate::error::ValidationErrors>| -> Vec<String> {
        let e = r.expect_err("invalid page request");
        e.fields().iter().map(|f| f.field.to_string()).collect()
    };
    assert_eq!(fields(PageRequest::parse(Some(10), Some("not-a-cursor"))), ["cursor"]);
    assert_eq!(fields(PageRequest::parse(Some(0), Some("zz"))), ["limit", "cursor"]);
    assert_eq!(fields(PageRequest::parse(Some(101), None)), ["limit"]);
    assert_eq!(
        PageRequest::parse(None, None).expect("defaults"),
        PageRequest::first(20)
    );
    assert_eq!(PageRequest::parse(Some(5), Some("")).expect("empty cursor").after, None);

    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    insert_notifications(world.store(), person.id(), 3, world.now()).await;
    let mut tx = world.store().begin().await.expect("begin");
    let page = Repo::<Notification>::list(&mut tx, &conformance_notes(person.id()), PageRequest::first(2))
        .await
        .expect("page");
    drop(tx);
    let cursor = page.next_cursor.expect("more rows follow");
    let parsed = PageRequest::parse(Some(2), Some(&cursor)).expect("a returned cursor parses");
    assert_eq!(parsed.after, Some(page.items[1].id.as_uuid()));
    // As a use-case error (what the API shows): a validation failure on `cursor`.
    let error = Error::from(PageRequest::parse(Some(2), Some(&format!("{cursor}x"))).expect_err("bad cursor"));
    assert_fields(&error, &["cursor"]);
}

/// Dropping a unit of work without committing undoes its inserts, updates and deletes, and
/// releases the unique keys it took; inside it, its own writes were visible.
pub async fn dropped_transaction_leaves_no_trace<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    let owner = world.ally().await;
    let reviewer = world.ally().await;
    let org = world.organization(&owner).await;
    world.add_member(&owner, &org, &reviewer, MemberRole::Reviewer).await;
    let membership = world
        .rows(MemberFilter {
            user_id: Some(reviewer.id()),
            ..Default::default()
        })
        .await
        .remove(0);
    let before = world.row(project.id).await.expect("project");
    let newcomer = user_copy(&person.user, "newcomer@example.test");
    let note = notification_row(person.id(), 0, world.now());
    let audits_before = world.count(AuditFilter::default()).await;

    {
        let mut tx = world.store().begin().await.expect("begin");
        Repo::<User>::insert(&mut tx, &newcomer).await.expect("insert user");
        Repo::<Notification>::insert(&mut tx, &note)
            .await
            .expect("insert notification");
        let mut changed = before.clone();
        changed.tagline = Some("never committed".to_owned());
        changed.slug = Slug::parse("renamed-in-vain").expect("slug");
        Repo::<Project>::update(&mut tx, &changed).await.expect("update");
        Repo::<OrganizationMember>::delete(&mut tx, membership.id)
            .await
            .expect("delete");
        // Read-your-writes inside the unit of work.
        assert!(Repo::<User>::get(&mut tx, newcomer.id).await.expect("get").is_some());
        assert_eq!(
            Repo::<Project>::get(&mut tx, project.id)
                .await
                .expect("get")
                .expect("project")
                .meta
                .version,
            before.meta.version + 1
        );
        assert!(
            Repo::<OrganizationMember>::get(&mut tx, membership.id)
                .await
                .expect("get")
                .is_none()
        );
        // Dropped here without commit.
    }

    assert!(world.row(newcomer.id).await.is_none(), "insert rolled back");
    assert!(world.row(note.id).await.is_none(), "insert rolled back");
    assert_eq!(
        world.row(project.id).await.expect("project"),
        before,
        "update rolled back"
    );
    assert_eq!(
        world.row(membership.id).await,
        Some(membership.clone()),
        "delete rolled back"
    );
    assert_eq!(world.count(AuditFilter::default()).await, audits_before);

    // The keys the dropped unit of work took are free again.
    let mut tx = world.store().begin().await.expect("begin");
    let again = user_copy(&person.user, "newcomer@example.test");
    Repo::<User>::insert(&mut tx, &again).await.expect("email released");
    let mut other = Repo::<Project>::get(&mut tx, project.id)
        .await
        .expect("get")
        .expect("project");
    other.slug = Slug::parse("renamed-in-vain").expect("slug");
    let renamed = Repo::<Project>::update(&mut tx, &other).await.expect("slug released");
    tx.commit().await.expect("commit");
    assert_eq!(renamed.meta.version, before.meta.version + 1);
    assert!(world.row(again.id).await.is_some());
}

/// A committed unit of work makes all of its writes visible to the next one.
pub async fn committed_transaction_is_visible_to_the_next_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    let before = world.row(project.id).await.expect("project");
    let newcomer = user_copy(&person.user, "committed@example.test");
    let note = notification_row(person.id(), 7, world.now());
    let mut tx = world.store().begin().await.expect("begin");
    Repo::<User>::insert(&mut tx, &newcomer).await.expect("insert");
    Repo::<Notification>::insert(&mut tx, &note).await.expect("insert");
    let mut changed = before.clone();
    changed.tagline = Some("committed".to_owned());
    Repo::<Project>::update(&mut tx, &changed).await.expect("update");
    Repo::<Notification>::delete(&mut tx, note.id).await.expect("delete");
    tx.commit().await.expect("commit");

    assert_eq!(
        world.row(newcomer.id).await.expect("user").email.as_str(),
        "committed@example.test"
    );
    let after = world.row(project.id).await.expect("project");
    assert_eq!(after.tagline.as_deref(), Some("committed"));
    assert_eq!(after.meta.version, before.meta.version + 1);
    assert!(world.row(note.id).await.is_none());
}

/// A use case that fails after some of its writes leaves nothing behind: no state change, no
/// audit event, no notification.
pub async fn failed_use_case_writes_nothing<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::seats(1)).await;
    let applicant = world.ready(&cohort, 70).await;
    // Plant an enrollment for the application so that the accept fails on its last write
    // (the enrollment insert), after the application, the audit and the seat count changed.
    let planted = Enrollment {
        id: fresh(),
        program_id: cohort.program.id,
        application_id: applicant.id(),
        project_id: applicant.project.id,
        entrepreneur_id: applicant.person.id(),
        status: EnrollmentStatus::DroppedOut,
        ended_at: Some(world.now()),
        drop_reason: Some("planted".to_owned()),
        meta: Meta::new(world.now(), None),
    };
    let mut tx = world.store().begin().await.expect("begin");
    Repo::<Enrollment>::insert(&mut tx, &planted).await.expect("plant");
    tx.commit().await.expect("commit");
    let audits = world.count(AuditFilter::default()).await;
    let notes = world.count(NotificationFilter::default()).await;
    let outbox = world.count(OutboxFilter::default()).await;

    let error = world.refused_decision(&cohort, applicant.id(), Decision::Accept).await;
    assert_conflict(&error, "enrollment", "application");
    let app = world.row(applicant.id()).await.expect("application");
    assert_eq!(app, applicant.application, "the application is untouched");
    assert_eq!(world.program(&cohort).await.accepted_count, 0);
    assert_eq!(world.count(AuditFilter::default()).await, audits);
    assert!(world.audit("application.accept", applicant.id()).await.is_empty());
    assert_eq!(world.count(NotificationFilter::default()).await, notes);
    assert_eq!(world.count(OutboxFilter::default()).await, outbox);

    // A refused accept (full program) writes nothing either.
    let mut tx = world.store().begin().await.expect("begin");
    Repo::<Enrollment>::delete(&mut tx, planted.id).await.expect("unplant");
    tx.commit().await.expect("commit");
    let mut first = applicant;
    world.decide(&cohort, &mut first, Decision::Accept).await;
    let late = world.ready(&cohort, 90).await;
    let audits = world.count(AuditFilter::default()).await;
    let notes = world.count(NotificationFilter::default()).await;
    let error = world.refused_decision(&cohort, late.id(), Decision::Accept).await;
    assert!(matches!(error, Error::ProgramFull), "{error:?}");
    assert_eq!(world.row(late.id()).await.expect("late"), late.application);
    assert_eq!(world.count(AuditFilter::default()).await, audits);
    assert_eq!(world.count(NotificationFilter::default()).await, notes);
    assert_eq!(world.program(&cohort).await.accepted_count, 1);
}
