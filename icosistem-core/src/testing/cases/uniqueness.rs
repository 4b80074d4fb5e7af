//! Uniqueness rules, stale versions and soft delete as the use cases surface them.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Map;

use crate::Context;
use crate::model::*;
use crate::ports::store::*;
use crate::ports::{Repo, Store};
use crate::service::{
    AdminUpdateUser, Register, UpdateMe, UpdateMilestone, UpdateOrganization, UpdateProgram, UpdateProject,
};
use crate::testing::fixtures::*;
use crate::workflow::program::ProgramCommand;

fn register_input(email: &str) -> Register {
    Register {
        email: email.to_owned(),
        password: password(),
        first_name: "Marta".to_owned(),
        last_name: "Lozano".to_owned(),
        role: Role::Entrepreneur,
    }
}

/// Registering an email that is taken, in any letter case or with spaces around, is
/// `Conflict { entity: "user", field: "email" }`; admins creating users hit the same rule.
pub async fn duplicate_email_conflicts_case_insensitively<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let anonymous = Context::anonymous();
    let (user, _) = world
        .eco
        .register(&anonymous, register_input("A@x.co"))
        .await
        .expect("first registration");
    assert_eq!(user.email.as_str(), "a@x.co");
    for variant in ["a@x.co", "A@X.CO", "  a@x.co  "] {
        let error = expect_err(world.eco.register(&anonymous, register_input(variant)).await);
        assert_conflict(&error, "user", "email");
    }
    let error = expect_err(
        world
            .eco
            .admin_create_user(
                &world.admin.ctx,
                crate::service::AdminCreateUser {
                    email: "A@x.Co".to_owned(),
                    password: password(),
                    first_name: "Other".to_owned(),
                    last_name: "Person".to_owned(),
                    role: Role::Client,
                },
            )
            .await,
    );
    assert_conflict(&error, "user", "email");
    let same = UserFilter {
        email: Some(user.email.clone()),
        ..Default::default()
    };
    assert_eq!(world.count(same).await, 1);
    assert_eq!(world.audit("user.register", user.id).await.len(), 1);
}

/// Eight concurrent registrations of one email: exactly one succeeds, the others conflict.
pub async fn concurrent_registrations_with_one_email_admit_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let variants = ["race@example.test", "RACE@example.test", "Race@Example.Test"];
    let futures = (0..8)
        .map(|i| {
            let eco = Arc::clone(&world.eco);
            let email = variants[i % variants.len()].to_owned();
            async move { eco.register(&Context::anonymous(), register_input(&email)).await }
        })
        .collect();
    let results = race(futures).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        assert_conflict(&expect_err(result), "user", "email");
    }
    let users = world
        .rows(UserFilter {
            email: Some(value::Email::parse("race@example.test").expect("email")),
            ..Default::default()
        })
        .await;
    assert_eq!(users.len(), 1);
    assert_eq!(
        world
            .count(AccountTokenFilter {
                user_id: Some(users[0].id),
                ..Default::default()
            })
            .await,
        1,
        "only the winner's verification token exists"
    );
}

/// Names that derive the same slug get `-2`, `-3` …, per kind: organizations, programs and
/// projects each have their own slug space.
pub async fn same_names_get_numbered_slugs<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.ally().await;
    let mut slugs = Vec::new();
    for name in ["Ñandú Labs", "Nandu Labs", "ÑANDÚ  labs!"] {
        let org = world
            .eco
            .create_organization(&owner.ctx, organization_input(name))
            .await
            .expect("organization");
        slugs.push(org.slug.as_str().to_owned());
    }
    assert_eq!(slugs, ["nandu-labs", "nandu-labs-2", "nandu-labs-3"]);

    let org = world.organization(&owner).await;
    let mut program_slugs = Vec::new();
    for _ in 0..2 {
        let program = world
            .eco
            .create_program(
                &owner.ctx,
                world.program_input(&org, "Nandu Labs", ProgramSpec::default()),
            )
            .await
            .expect("program");
        program_slugs.push(program.slug.as_str().to_owned());
    }
    assert_eq!(
        program_slugs,
        ["nandu-labs", "nandu-labs-2"],
        "programs have their own slugs"
    );

    let ana = world.entrepreneur().await;
    let ben = world.entrepreneur().await;
    let first = world
        .eco
        .create_project(&ana.ctx, project_input("Café Verde"))
        .await
        .expect("project");
    let second = world
        .eco
        .create_project(&ben.ctx, project_input("Cafe verde"))
        .await
        .expect("project");
    assert_eq!(first.slug.as_str(), "cafe-verde");
    assert_eq!(
        second.slug.as_str(),
        "cafe-verde-2",
        "project slugs are unique across owners"
    );
}

/// Eight organizations with one name created at once all succeed with distinct slugs
/// `twin-hub`, `twin-hub-2` … `twin-hub-8`.
pub async fn concurrent_same_name_organizations_get_distinct_slugs<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let mut owners = Vec::new();
    for _ in 0..8 {
        owners.push(world.ally().await);
    }
    let futures = owners
        .iter()
        .map(|owner| {
            let eco = Arc::clone(&world.eco);
            let ctx = owner.ctx.clone();
            async move { eco.create_organization(&ctx, organization_input("Twin Hub")).await }
        })
        .collect();
    let slugs: BTreeSet<String> = race(futures)
        .await
        .into_iter()
        .map(|r| r.expect("every creation succeeds").slug.as_str().to_owned())
        .collect();
    let mut expected: BTreeSet<String> = (2..=8).map(|n| format!("twin-hub-{n}")).collect();
    expected.insert("twin-hub".to_owned());
    assert_eq!(slugs, expected);
}

/// A tax id is unique among live organizations: `Conflict { field: "tax_id" }`; deleting the
/// holder frees it.
pub async fn duplicate_tax_id_conflicts<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.ally().await;
    let with_tax_id = |name: &str| crate::service::CreateOrganization {
        tax_id: Some("900123456-7".to_owned()),
        ..organization_input(name)
    };
    let first = world
        .eco
        .create_organization(&owner.ctx, with_tax_id("First Fund"))
        .await
        .expect("first");
    let error = expect_err(
        world
            .eco
            .create_organization(&owner.ctx, with_tax_id("Second Fund"))
            .await,
    );
    assert_conflict(&error, "organization", "tax_id");
    assert_eq!(
        world
            .count(OrganizationFilter {
                include_deleted: true,
                ..Default::default()
            })
            .await,
        1,
        "the refused organization left no row"
    );
    world
        .eco
        .delete_organization(&owner.ctx, first.id, None)
        .await
        .expect("delete");
    let second = world
        .eco
        .create_organization(&owner.ctx, with_tax_id("Second Fund"))
        .await
        .expect("the deleted holder released the tax id");
    assert_eq!(second.tax_id.as_deref(), Some("900123456-7"));
}

/// One non-withdrawn application per (program, project): a second one is
/// `Conflict { entity: "application", field: "program_project" }`; after withdrawing the first a
/// new one is accepted (and then the rule holds again).
pub async fn one_live_application_per_program_and_project<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let other_program = world
        .open_program(&cohort.owner, &cohort.org, ProgramSpec::default())
        .await;
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    let eco = &world.eco;
    let first = eco
        .create_application(&person.ctx, cohort.program.id, project.id, Map::new())
        .await
        .expect("first");
    let submitted = eco
        .submit_application(&person.ctx, first.id, None)
        .await
        .expect("submit");
    let error = expect_err(
        eco.create_application(&person.ctx, cohort.program.id, project.id, Map::new())
            .await,
    );
    assert_conflict(&error, "application", "program_project");
    eco.create_application(&person.ctx, other_program.id, project.id, Map::new())
        .await
        .expect("the same project may apply to another program");

    eco.withdraw_application(&person.ctx, submitted.id, None)
        .await
        .expect("withdraw");
    let renewed = eco
        .create_application(&person.ctx, cohort.program.id, project.id, Map::new())
        .await
        .expect("a withdrawn application frees the slot");
    assert_ne!(renewed.id, first.id);
    let error = expect_err(
        eco.create_application(&person.ctx, cohort.program.id, project.id, Map::new())
            .await,
    );
    assert_conflict(&error, "application", "program_project");
    let of_pair = ApplicationFilter {
        program_id: Some(cohort.program.id),
        project_id: Some(project.id),
        ..Default::default()
    };
    let statuses: Vec<ApplicationStatus> = world.rows(of_pair).await.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [ApplicationStatus::Draft, ApplicationStatus::Withdrawn]);
}

/// Six concurrent drafts of one (program, project): exactly one is created.
pub async fn concurrent_duplicate_applications_admit_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    let futures = (0..6)
        .map(|_| {
            let eco = Arc::clone(&world.eco);
            let ctx = person.ctx.clone();
            let (program, project) = (cohort.program.id, project.id);
            async move { eco.create_application(&ctx, program, project, Map::new()).await }
        })
        .collect();
    let results = race(futures).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        assert_conflict(&expect_err(result), "application", "program_project");
    }
    let filter = ApplicationFilter {
        program_id: Some(cohort.program.id),
        project_id: Some(project.id),
        ..Default::default()
    };
    assert_eq!(world.count(filter).await, 1);
}

/// Assigning the same reviewer twice is `Conflict { entity: "review", field:
/// "application_reviewer" }` and leaves one assignment.
pub async fn duplicate_reviewer_assignment_conflicts<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let person = world.entrepreneur().await;
    let applicant = world.submit(&cohort, &person).await;
    let reviewer = &cohort.reviewers[0];
    world.assign(&cohort, applicant.id(), reviewer.id()).await;
    let error = expect_err(
        world
            .eco
            .assign_reviewer(&cohort.owner.ctx, applicant.id(), reviewer.id())
            .await,
    );
    assert_conflict(&error, "review", "application_reviewer");
    let reviews = reviews_of(applicant.id());
    assert_eq!(world.count(reviews).await, 1);
    assert_eq!(world.notifications(reviewer.id(), "review_assigned").await.len(), 1);
    assert_eq!(
        world.audit("application.reviewer_assigned", applicant.id()).await.len(),
        1
    );
}

/// Six concurrent assignments of one reviewer: one assignment, one review start, one notice.
pub async fn concurrent_reviewer_assignments_admit_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let person = world.entrepreneur().await;
    let applicant = world.submit(&cohort, &person).await;
    let reviewer = cohort.reviewers[0].id();
    let futures = (0..6)
        .map(|_| {
            let eco = Arc::clone(&world.eco);
            let ctx = cohort.owner.ctx.clone();
            let id = applicant.id();
            async move { eco.assign_reviewer(&ctx, id, reviewer).await }
        })
        .collect();
    let results = race(futures).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        assert_conflict(&expect_err(result), "review", "application_reviewer");
    }
    assert_eq!(world.count(reviews_of(applicant.id())).await, 1);
    let app = world.row(applicant.id()).await.expect("application");
    assert_eq!(app.status, ApplicationStatus::UnderReview);
    assert_eq!(world.audit("application.start_review", applicant.id()).await.len(), 1);
    assert_eq!(world.notifications(reviewer, "review_assigned").await.len(), 1);
}

/// A user is a member of an organization once: adding them again, with any role, is
/// `Conflict { entity: "organization_member", field: "organization_user" }`; two concurrent
/// additions admit one.
pub async fn duplicate_membership_conflicts<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.ally().await;
    let org = world.organization(&owner).await;
    let member = world.ally().await;
    world.add_member(&owner, &org, &member, MemberRole::Reviewer).await;
    for role in [MemberRole::Reviewer, MemberRole::Coordinator] {
        let error = expect_err(world.eco.add_member(&owner.ctx, org.id, member.id(), role).await);
        assert_conflict(&error, "organization_member", "organization_user");
    }
    let error = expect_err(
        world
            .eco
            .add_member(&owner.ctx, org.id, owner.id(), MemberRole::Owner)
            .await,
    );
    assert_conflict(&error, "organization_member", "organization_user");

    let newcomer = world.ally().await;
    let futures = (0..2)
        .map(|_| {
            let eco = Arc::clone(&world.eco);
            let ctx = owner.ctx.clone();
            let (org, user) = (org.id, newcomer.id());
            async move { eco.add_member(&ctx, org, user, MemberRole::Reviewer).await }
        })
        .collect();
    let results = race(futures).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    let members = world
        .rows(MemberFilter {
            organization_id: Some(org.id),
            ..Default::default()
        })
        .await;
    assert_eq!(members.len(), 3);
    assert_eq!(members.iter().filter(|m| m.user_id == member.id()).count(), 1);
    assert_eq!(members.iter().filter(|m| m.user_id == newcomer.id()).count(), 1);
}

/// Removing a member deletes the membership; the last owner cannot be removed (`Validation` on
/// `user_id`) until another owner exists; removing a non-member is `NotFound`.
pub async fn member_removal_keeps_the_last_owner<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.ally().await;
    let org = world.organization(&owner).await;
    let reviewer = world.ally().await;
    let co_owner = world.ally().await;
    world.add_member(&owner, &org, &reviewer, MemberRole::Reviewer).await;
    world
        .eco
        .remove_member(&owner.ctx, org.id, reviewer.id())
        .await
        .expect("remove reviewer");
    let of_user = |user: UserId| MemberFilter {
        organization_id: Some(org.id),
        user_id: Some(user),
        ..Default::default()
    };
    assert_eq!(world.count(of_user(reviewer.id())).await, 0);
    assert_not_found(
        &expect_err(world.eco.remove_member(&owner.ctx, org.id, reviewer.id()).await),
        "organization_member",
    );
    assert_fields(
        &expect_err(world.eco.remove_member(&owner.ctx, org.id, owner.id()).await),
        &["user_id"],
    );
    assert_eq!(world.count(of_user(owner.id())).await, 1);
    world.add_member(&owner, &org, &co_owner, MemberRole::Owner).await;
    world
        .eco
        .remove_member(&co_owner.ctx, org.id, owner.id())
        .await
        .expect("another owner remains");
    assert_eq!(world.count(of_user(owner.id())).await, 0);
    assert_forbidden(&expect_err(
        world.eco.remove_member(&reviewer.ctx, org.id, co_owner.id()).await,
    ));
}

/// Every use case that takes the version the caller read refuses a stale one with
/// `Conflict { field: "version" }` and changes nothing; the right one succeeds and bumps the
/// version by exactly 1.
pub async fn stale_versions_conflict_through_use_cases<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let person = world.entrepreneur().await;

    // Project.
    let project = world.project(&person).await;
    let v = project.meta.version;
    let renamed = eco
        .update_project(
            &person.ctx,
            project.id,
            UpdateProject {
                name: Some("Renamed Venture".to_owned()),
                version: Some(v),
                ..Default::default()
            },
        )
        .await
        .expect("update with the read version");
    assert_eq!(renamed.meta.version, v + 1);
    let error = expect_err(
        eco.update_project(
            &person.ctx,
            project.id,
            UpdateProject {
                name: Some("Lost Update".to_owned()),
                version: Some(v),
                ..Default::default()
            },
        )
        .await,
    );
    assert_conflict(&error, "project", "version");
    let stored = world.row(project.id).await.expect("project");
    assert_eq!(stored.name.as_str(), "Renamed Venture");
    assert_eq!(stored.meta.version, v + 1);
    assert_conflict(
        &expect_err(
            eco.project_command(
                &person.ctx,
                project.id,
                crate::workflow::project::ProjectCommand::Activate,
                Some(v),
            )
            .await,
        ),
        "project",
        "version",
    );
    assert_conflict(
        &expect_err(eco.delete_project(&person.ctx, project.id, Some(v)).await),
        "project",
        "version",
    );

    // Program.
    let program = world.program(&cohort).await;
    let pv = program.meta.version;
    let error = expect_err(
        eco.update_program(
            &cohort.owner.ctx,
            program.id,
            UpdateProgram {
                name: Some("Stale Name".to_owned()),
                version: Some(pv - 1),
                ..Default::default()
            },
        )
        .await,
    );
    assert_conflict(&error, "program", "version");
    let updated = eco
        .update_program(
            &cohort.owner.ctx,
            program.id,
            UpdateProgram {
                name: Some("Fresh Name".to_owned()),
                version: Some(pv),
                ..Default::default()
            },
        )
        .await
        .expect("update program");
    assert_eq!(updated.meta.version, pv + 1);
    assert_conflict(
        &expect_err(
            eco.program_command(&cohort.owner.ctx, program.id, ProgramCommand::Cancel, Some(pv))
                .await,
        ),
        "program",
        "version",
    );
    assert_eq!(world.program(&cohort).await.status, ProgramStatus::Published);

    // Organization.
    let org = world.row(cohort.org.id).await.expect("org");
    let ov = org.meta.version;
    let updated = eco
        .update_organization(
            &cohort.owner.ctx,
            org.id,
            UpdateOrganization {
                description: Some(Some("We grow ventures.".to_owned())),
                version: Some(ov),
                ..Default::default()
            },
        )
        .await
        .expect("update organization");
    assert_eq!(updated.meta.version, ov + 1);
    assert_conflict(
        &expect_err(
            eco.update_organization(
                &cohort.owner.ctx,
                org.id,
                UpdateOrganization {
                    is_public: Some(false),
                    version: Some(ov),
                    ..Default::default()
                },
            )
            .await,
        ),
        "organization",
        "version",
    );
    assert!(world.row(org.id).await.expect("org").is_public);

    // Application (draft answers) and decisions.
    let draft = eco
        .create_application(&person.ctx, cohort.program.id, project.id, Map::new())
        .await
        .expect("draft");
    let mut answers = Map::new();
    answers.insert("team".to_owned(), serde_json::json!("two founders"));
    let edited = eco
        .update_application(&person.ctx, draft.id, answers.clone(), Some(draft.meta.version))
        .await
        .expect("edit draft");
    assert_eq!(edited.meta.version, draft.meta.version + 1);
    assert_conflict(
        &expect_err(
            eco.update_application(&person.ctx, draft.id, Map::new(), Some(draft.meta.version))
                .await,
        ),
        "application",
        "version",
    );
    assert_conflict(
        &expect_err(
            eco.submit_application(&person.ctx, draft.id, Some(draft.meta.version))
                .await,
        ),
        "application",
        "version",
    );
    let stored = world.row(draft.id).await.expect("application");
    assert_eq!(stored.answers, answers);
    assert_eq!(stored.status, ApplicationStatus::Draft);
    let ready = world.ready(&cohort, 70).await;
    assert_conflict(
        &expect_err(
            eco.decide(
                &cohort.owner.ctx,
                ready.id(),
                crate::service::Decision::Accept,
                None,
                Some(ready.application.meta.version - 1),
            )
            .await,
        ),
        "application",
        "version",
    );
    assert_eq!(world.program(&cohort).await.accepted_count, 0);

    // Milestone.
    let milestone = world.milestone(&person, project.id, "First customer", 30).await;
    let mv = milestone.meta.version;
    let edited = eco
        .update_milestone(
            &person.ctx,
            milestone.id,
            UpdateMilestone {
                title: Some("First paying customer".to_owned()),
                version: Some(mv),
                ..Default::default()
            },
        )
        .await
        .expect("edit milestone");
    assert_eq!(edited.meta.version, mv + 1);
    assert_conflict(
        &expect_err(
            eco.update_milestone(
                &person.ctx,
                milestone.id,
                UpdateMilestone {
                    title: Some("Stale".to_owned()),
                    version: Some(mv),
                    ..Default::default()
                },
            )
            .await,
        ),
        "milestone",
        "version",
    );

    // User.
    let me = world.row(person.id()).await.expect("user");
    let uv = me.meta.version;
    let updated = eco
        .update_me(
            &person.ctx,
            UpdateMe {
                first_name: Some("Renata".to_owned()),
                version: Some(uv),
                ..Default::default()
            },
        )
        .await
        .expect("update me");
    assert_eq!(updated.meta.version, uv + 1);
    assert_conflict(
        &expect_err(
            eco.update_me(
                &person.ctx,
                UpdateMe {
                    first_name: Some("Stale".to_owned()),
                    version: Some(uv),
                    ..Default::default()
                },
            )
            .await,
        ),
        "user",
        "version",
    );
    assert_conflict(
        &expect_err(
            eco.admin_update_user(
                &world.admin.ctx,
                person.id(),
                AdminUpdateUser {
                    role: Some(Role::Client),
                    version: Some(uv),
                    ..Default::default()
                },
            )
            .await,
        ),
        "user",
        "version",
    );
    let stored = world.row(person.id()).await.expect("user");
    assert_eq!(stored.first_name.as_str(), "Renata");
    assert_eq!(stored.role, Role::Entrepreneur);
}

/// A deleted project is gone from `get` and from lists (unless an admin asks for deleted rows),
/// its slug is free again, and editing or deleting it again is `NotFound`.
pub async fn soft_deleted_project_is_hidden_and_frees_its_slug<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let project = eco
        .create_project(&person.ctx, project_input("Solar Kiosk"))
        .await
        .expect("project");
    assert_eq!(project.slug.as_str(), "solar-kiosk");
    eco.delete_project(&person.ctx, project.id, Some(project.meta.version))
        .await
        .expect("delete");

    assert_not_found(&expect_err(eco.get_project(&person.ctx, project.id).await), "project");
    assert_not_found(
        &expect_err(eco.get_project(&world.admin.ctx, project.id).await),
        "project",
    );
    assert!(world.row(project.id).await.is_none());
    let mine = eco
        .list_projects(
            &person.ctx,
            ProjectFilter {
                include_deleted: true,
                ..Default::default()
            },
            PageRequest::first(50),
        )
        .await
        .expect("list mine");
    assert!(
        mine.items.iter().all(|p| p.id != project.id),
        "owners never list deleted rows"
    );
    let admin_default = eco
        .list_projects(&world.admin.ctx, ProjectFilter::default(), PageRequest::first(50))
        .await
        .expect("admin list");
    assert!(admin_default.items.iter().all(|p| p.id != project.id));
    let admin_all = eco
        .list_projects(
            &world.admin.ctx,
            ProjectFilter {
                include_deleted: true,
                ..Default::default()
            },
            PageRequest::first(50),
        )
        .await
        .expect("admin list with deleted");
    let listed = admin_all
        .items
        .iter()
        .find(|p| p.id == project.id)
        .expect("deleted project listed on request");
    assert_eq!(listed.deletion.deleted_at, Some(world.now()));
    assert_eq!(listed.deletion.deleted_by, Some(person.id()));

    let successor = eco
        .create_project(&person.ctx, project_input("Solar Kiosk"))
        .await
        .expect("same name again");
    assert_eq!(successor.slug.as_str(), "solar-kiosk", "the slug was freed");
    assert_not_found(
        &expect_err(
            eco.update_project(
                &person.ctx,
                project.id,
                UpdateProject {
                    tagline: Some(Some("back from the dead".to_owned())),
                    ..Default::default()
                },
            )
            .await,
        ),
        "project",
    );
    assert_not_found(
        &expect_err(eco.delete_project(&person.ctx, project.id, None).await),
        "project",
    );
    let event = world.audited("project.delete", project.id).await;
    assert_eq!(event.actor_id, Some(person.id()));
}

/// A deleted (draft) program is gone from `get` and lists (admins may ask for it), its slug is
/// free again, and editing it is `NotFound`.
pub async fn soft_deleted_program_is_hidden_and_frees_its_slug<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let owner = world.ally().await;
    let org = world.organization(&owner).await;
    let program = eco
        .create_program(
            &owner.ctx,
            world.program_input(&org, "Winter Cohort", ProgramSpec::default()),
        )
        .await
        .expect("program");
    assert_eq!(program.slug.as_str(), "winter-cohort");
    eco.delete_program(&owner.ctx, program.id, Some(program.meta.version))
        .await
        .expect("delete");

    assert_not_found(&expect_err(eco.get_program(&owner.ctx, program.id).await), "program");
    assert_not_found(
        &expect_err(eco.get_program(&world.admin.ctx, program.id).await),
        "program",
    );
    let of_org = |include_deleted| ProgramFilter {
        organization_id: Some(org.id),
        include_deleted,
        ..Default::default()
    };
    let staff_list = eco
        .list_programs(&owner.ctx, of_org(true), PageRequest::first(50))
        .await
        .expect("staff list");
    assert!(staff_list.items.is_empty(), "non-admins never list deleted programs");
    let admin_default = eco
        .list_programs(&world.admin.ctx, of_org(false), PageRequest::first(50))
        .await
        .expect("admin list");
    assert!(admin_default.items.is_empty());
    let admin_all = eco
        .list_programs(&world.admin.ctx, of_org(true), PageRequest::first(50))
        .await
        .expect("admin list with deleted");
    assert_eq!(admin_all.items.iter().map(|p| p.id).collect::<Vec<_>>(), [program.id]);

    let successor = eco
        .create_program(
            &owner.ctx,
            world.program_input(&org, "Winter Cohort", ProgramSpec::default()),
        )
        .await
        .expect("same name again");
    assert_eq!(successor.slug.as_str(), "winter-cohort");
    assert_not_found(
        &expect_err(
            eco.update_program(
                &owner.ctx,
                program.id,
                UpdateProgram {
                    name: Some("Spring Cohort".to_owned()),
                    ..Default::default()
                },
            )
            .await,
        ),
        "program",
    );
    assert_not_found(
        &expect_err(
            eco.program_command(&owner.ctx, program.id, ProgramCommand::Publish, None)
                .await,
        ),
        "program",
    );
    world.audited("program.delete", program.id).await;
}

/// A deleted organization is gone from `get` and lists (admins may ask for it), its slug is free
/// again, and editing it or adding members is `NotFound`.
pub async fn soft_deleted_organization_is_hidden_and_frees_its_slug<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let owner = world.ally().await;
    let org = eco
        .create_organization(&owner.ctx, organization_input("Delta Hub"))
        .await
        .expect("organization");
    assert_eq!(org.slug.as_str(), "delta-hub");
    eco.delete_organization(&owner.ctx, org.id, Some(org.meta.version))
        .await
        .expect("delete");

    assert_not_found(
        &expect_err(eco.get_organization(&owner.ctx, org.id).await),
        "organization",
    );
    assert_not_found(
        &expect_err(eco.get_organization(&world.admin.ctx, org.id).await),
        "organization",
    );
    let all = OrganizationFilter {
        include_deleted: true,
        ..Default::default()
    };
    let public_list = eco
        .list_organizations(&owner.ctx, all.clone(), PageRequest::first(50))
        .await
        .expect("list");
    assert!(
        public_list.items.is_empty(),
        "non-admins never list deleted organizations"
    );
    let admin_default = eco
        .list_organizations(&world.admin.ctx, OrganizationFilter::default(), PageRequest::first(50))
        .await
        .expect("admin list");
    assert!(admin_default.items.is_empty());
    let admin_all = eco
        .list_organizations(&world.admin.ctx, all, PageRequest::first(50))
        .await
        .expect("admin list with deleted");
    assert_eq!(admin_all.items.iter().map(|o| o.id).collect::<Vec<_>>(), [org.id]);

    let successor = eco
        .create_organization(&owner.ctx, organization_input("Delta Hub"))
        .await
        .expect("same name again");
    assert_eq!(successor.slug.as_str(), "delta-hub");
    assert_not_found(
        &expect_err(
            eco.update_organization(
                &owner.ctx,
                org.id,
                UpdateOrganization {
                    name: Some("Gamma Hub".to_owned()),
                    ..Default::default()
                },
            )
            .await,
        ),
        "organization",
    );
    let someone = world.ally().await;
    assert_not_found(
        &expect_err(
            eco.add_member(&owner.ctx, org.id, someone.id(), MemberRole::Reviewer)
                .await,
        ),
        "organization",
    );
    let mut tx = world.store().begin().await.expect("begin");
    assert!(Repo::<Organization>::get(&mut tx, org.id).await.expect("get").is_none());
    drop(tx);
    world.audited("organization.delete", org.id).await;
    assert!(matches!(
        eco.get_organization(&owner.ctx, successor.id).await,
        Ok(ref o) if o.id == successor.id
    ));
}
