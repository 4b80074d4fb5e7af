//! Every state change writes an audit event in its own unit of work, and every notification is
//! written in-app and (as email) to the outbox in that same unit of work.

use chrono::Duration;
use serde_json::json;

use crate::Context;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::{Decision, MilestoneAction, Register, UpdateMe, UpdateOrganization, UpdateProgram, UpdateProject};
use crate::testing::fixtures::*;
use crate::workflow::program::ProgramCommand;
use crate::workflow::project::ProjectCommand;

fn wrong_password() -> crate::model::secret::SecretString {
    crate::model::secret::SecretString::new("not my password at all 99")
}

/// Register, verify, login ok/failed, lockout, unlock, password change and reset, admin creation,
/// role and status changes: each writes its audit event about the user.
pub async fn account_changes_are_audited<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let anonymous = Context::anonymous();
    let (user, token) = eco
        .register(
            &anonymous,
            Register {
                email: "lucia.audit@example.test".to_owned(),
                password: password(),
                first_name: "Lucia".to_owned(),
                last_name: "Pardo".to_owned(),
                role: Role::Entrepreneur,
            },
        )
        .await
        .expect("register");
    let registered = world.audited("user.register", user.id).await;
    assert_eq!(registered.actor_kind, "anonymous");
    assert_eq!(registered.actor_id, None);
    assert_eq!(registered.target_kind, "user");

    eco.verify_email(&anonymous, &token).await.expect("verify");
    let verified = world.audited("user.verify_email", user.id).await;
    assert_eq!(verified.before, Some(json!({ "status": "pending_verification" })));
    assert_eq!(verified.after, Some(json!({ "status": "active" })));

    eco.authenticate(&anonymous, "lucia.audit@example.test", &password())
        .await
        .expect("login");
    world.audited("auth.login", user.id).await;

    for _ in 0..5 {
        let _ = eco
            .authenticate(&anonymous, "lucia.audit@example.test", &wrong_password())
            .await;
    }
    let failures = world.audit("auth.login_failed", user.id).await;
    assert_eq!(failures.len(), 5);
    assert!(
        failures
            .iter()
            .all(|e| e.actor_kind == "anonymous" && e.actor_id.is_none())
    );
    let lockout = world.audited("auth.lockout", user.id).await;
    assert_eq!(
        lockout.after,
        Some(json!({ "locked_until": world.now() + Duration::minutes(15) }))
    );

    eco.unlock_user(&world.admin.ctx, user.id).await.expect("unlock");
    assert_eq!(
        world.audited("user.unlock", user.id).await.actor_id,
        Some(world.admin.id())
    );

    let ctx = Context::user(&world.row(user.id).await.expect("user"));
    let new_password = crate::model::secret::SecretString::new("a brand new passphrase 77");
    eco.change_password(&ctx, &password(), &new_password)
        .await
        .expect("change password");
    assert_eq!(
        world.audited("auth.password_changed", user.id).await.actor_id,
        Some(user.id)
    );

    eco.request_password_reset(&anonymous, "lucia.audit@example.test")
        .await
        .expect("request reset");
    world.audited("auth.password_reset_requested", user.id).await;
    let reset_token = world.token_from_outbox(user.id, "password_reset").await;
    eco.confirm_password_reset(&anonymous, &reset_token, &password())
        .await
        .expect("confirm reset");
    world.audited("auth.password_reset", user.id).await;
    let revoked = world.audited("auth.tokens_revoked", user.id).await;
    assert_eq!(revoked.after, Some(json!({ "reason": "password_reset" })));

    let created = world.ally().await;
    let creation = world.audited("user.create", created.id()).await;
    assert_eq!(creation.actor_kind, "system");
    assert_eq!(creation.after, Some(json!({ "role": "ally", "status": "active" })));

    world.set_role(user.id, Role::Client).await;
    let role_change = world.audited("user.role_changed", user.id).await;
    assert_eq!(role_change.actor_id, Some(world.admin.id()));
    assert_eq!(
        role_change.before,
        Some(json!({ "role": "entrepreneur", "status": "active" }))
    );
    assert_eq!(role_change.after, Some(json!({ "role": "client", "status": "active" })));

    world.set_status(user.id, UserStatus::Suspended).await;
    let suspension = world.audited("user.status_changed", user.id).await;
    assert_eq!(
        suspension.after,
        Some(json!({ "role": "client", "status": "suspended" }))
    );

    eco.update_me(
        &created.ctx,
        UpdateMe {
            language: Some("en".to_owned()),
            ..Default::default()
        },
    )
    .await
    .expect("update me");
    world.audited("user.update", created.id()).await;
}

/// Organization create, update, status, member added and removed, delete: each audited with the
/// organization set (so its staff can read them).
pub async fn organization_changes_are_audited<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let owner = world.ally().await;
    let org = world.organization(&owner).await;
    let created = world.audited("organization.create", org.id).await;
    assert_eq!(created.actor_id, Some(owner.id()));
    assert_eq!(created.organization_id, Some(org.id));
    assert_eq!(created.after, Some(json!({ "status": "pending" })));

    eco.update_organization(
        &owner.ctx,
        org.id,
        UpdateOrganization {
            website: Some(Some("hub.example.org".to_owned())),
            ..Default::default()
        },
    )
    .await
    .expect("update");
    world.audited("organization.update", org.id).await;

    eco.set_organization_status(&world.admin.ctx, org.id, OrganizationStatus::Verified)
        .await
        .expect("status");
    let status = world.audited("organization.status", org.id).await;
    assert_eq!(status.actor_id, Some(world.admin.id()));
    assert_eq!(status.before, Some(json!({ "status": "pending" })));
    assert_eq!(status.after, Some(json!({ "status": "verified" })));

    let member = world.ally().await;
    let membership = eco
        .add_member(&owner.ctx, org.id, member.id(), MemberRole::Coordinator)
        .await
        .expect("add");
    let added = world.audited("organization.member_added", membership.id).await;
    assert_eq!(added.organization_id, Some(org.id));
    assert_eq!(
        added.after,
        Some(json!({ "user_id": member.id(), "role": "coordinator" }))
    );
    eco.remove_member(&owner.ctx, org.id, member.id())
        .await
        .expect("remove");
    let removed = world.audited("organization.member_removed", membership.id).await;
    assert_eq!(
        removed.before,
        Some(json!({ "user_id": member.id(), "role": "coordinator" }))
    );

    eco.delete_organization(&owner.ctx, org.id, None).await.expect("delete");
    world.audited("organization.delete", org.id).await;

    // The owner reads their organization's log; it holds each of these events.
    let log = eco
        .list_audit_events(
            &owner.ctx,
            AuditFilter {
                organization_id: Some(org.id),
                ..Default::default()
            },
            PageRequest::first(100),
        )
        .await
        .expect("organization log");
    let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "organization.create",
        "organization.update",
        "organization.status",
        "organization.member_added",
        "organization.member_removed",
        "organization.delete",
    ] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
}

/// Program create, update, publish, start, complete and cancel are audited with their status
/// move; starting and completing audit every enrollment they move.
pub async fn program_lifecycle_is_audited<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::seats(3)).await;
    let id = cohort.program.id;
    let created = world.audited("program.create", id).await;
    assert_eq!(created.actor_id, Some(cohort.owner.id()));
    assert_eq!(created.organization_id, Some(cohort.org.id));
    let published = world.audited("program.publish", id).await;
    assert_eq!(published.before, Some(json!({ "status": "draft" })));
    assert_eq!(published.after, Some(json!({ "status": "published" })));
    eco.update_program(
        &cohort.owner.ctx,
        id,
        UpdateProgram {
            description: Some(Some("Twelve weeks of building.".to_owned())),
            ..Default::default()
        },
    )
    .await
    .expect("update");
    world.audited("program.update", id).await;

    let participant = world.accepted(&cohort, 80).await;
    let enrollment = world
        .rows(EnrollmentFilter {
            application_id: Some(participant.id()),
            ..Default::default()
        })
        .await
        .remove(0);
    world.audited("enrollment.create", enrollment.id).await;
    world.advance(Duration::days(20));
    eco.program_command(&cohort.owner.ctx, id, ProgramCommand::Start, None)
        .await
        .expect("start");
    let started = world.audited("program.start", id).await;
    assert_eq!(started.after, Some(json!({ "status": "in_progress" })));
    let activated = world.audited("enrollment.activate", enrollment.id).await;
    assert_eq!(activated.before, Some(json!({ "status": "enrolled" })));
    assert_eq!(activated.after, Some(json!({ "status": "active" })));
    eco.program_command(&cohort.owner.ctx, id, ProgramCommand::Complete, None)
        .await
        .expect("complete");
    world.audited("program.complete", id).await;
    let graduated = world.audited("enrollment.graduate", enrollment.id).await;
    assert_eq!(graduated.after, Some(json!({ "status": "graduated" })));

    let other = world
        .eco
        .create_program(
            &cohort.owner.ctx,
            world.program_input(&cohort.org, "Called Off", ProgramSpec::default()),
        )
        .await
        .expect("program");
    eco.program_command(&cohort.owner.ctx, other.id, ProgramCommand::Cancel, None)
        .await
        .expect("cancel");
    let cancelled = world.audited("program.cancel", other.id).await;
    assert_eq!(cancelled.before, Some(json!({ "status": "draft" })));
    assert_eq!(cancelled.after, Some(json!({ "status": "cancelled" })));
}

/// Project create, update, each lifecycle command, stage moves, delete; milestone create, edit
/// and status changes: each audited.
pub async fn project_and_milestone_changes_are_audited<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    let created = world.audited("project.create", project.id).await;
    assert_eq!(created.actor_id, Some(person.id()));
    assert_eq!(created.after, Some(json!({ "status": "draft", "stage": "idea" })));
    eco.update_project(
        &person.ctx,
        project.id,
        UpdateProject {
            team_size: Some(3),
            ..Default::default()
        },
    )
    .await
    .expect("update");
    world.audited("project.update", project.id).await;
    for (command, from, to) in [
        (ProjectCommand::Activate, "draft", "active"),
        (ProjectCommand::Pause, "active", "paused"),
        (ProjectCommand::Resume, "paused", "active"),
    ] {
        eco.project_command(&person.ctx, project.id, command, None)
            .await
            .expect("command");
        let event = world
            .audited(&format!("project.{}", command.as_str()), project.id)
            .await;
        assert_eq!(event.before, Some(json!({ "status": from })));
        assert_eq!(event.after, Some(json!({ "status": to })));
    }
    eco.advance_stage(&person.ctx, project.id, ProjectStage::Concept, None)
        .await
        .expect("advance");
    let stage = world.audited("project.advance_stage", project.id).await;
    assert_eq!(stage.before, Some(json!({ "stage": "idea" })));
    assert_eq!(stage.after, Some(json!({ "stage": "concept" })));

    let milestone = world.milestone(&person, project.id, "Pilot signed", 14).await;
    world.audited("milestone.create", milestone.id).await;
    eco.update_milestone(
        &person.ctx,
        milestone.id,
        crate::service::UpdateMilestone {
            description: Some(Some("With the city of Medellín".to_owned())),
            ..Default::default()
        },
    )
    .await
    .expect("edit milestone");
    world.audited("milestone.update", milestone.id).await;
    eco.milestone_command(&person.ctx, milestone.id, MilestoneAction::Start, None)
        .await
        .expect("start");
    eco.milestone_command(&person.ctx, milestone.id, MilestoneAction::Complete, None)
        .await
        .expect("complete");
    let moves: Vec<_> = world
        .audit("milestone.update_status", milestone.id)
        .await
        .into_iter()
        .rev()
        .map(|e| (e.before, e.after))
        .collect();
    assert_eq!(
        moves,
        [
            (
                Some(json!({ "status": "pending" })),
                Some(json!({ "status": "in_progress" }))
            ),
            (
                Some(json!({ "status": "in_progress" })),
                Some(json!({ "status": "completed" }))
            ),
        ]
    );

    eco.project_command(&person.ctx, project.id, ProjectCommand::Complete, None)
        .await
        .expect("complete");
    world.audited("project.complete", project.id).await;
    let other = world.project(&person).await;
    eco.delete_project(&person.ctx, other.id, None).await.expect("delete");
    world.audited("project.delete", other.id).await;
}

/// Application create, edit, submit, reviewer assigned, review start, review, each decision,
/// withdrawal, enrollment creation and drop-out: each audited, with the organization set.
pub async fn selection_changes_are_audited<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::seats(5)).await;
    let person = world.entrepreneur().await;
    let project = world.project(&person).await;
    let draft = eco
        .create_application(&person.ctx, cohort.program.id, project.id, serde_json::Map::new())
        .await
        .expect("draft");
    let created = world.audited("application.create", draft.id).await;
    assert_eq!(created.actor_id, Some(person.id()));
    assert_eq!(created.organization_id, Some(cohort.org.id));
    let mut answers = serde_json::Map::new();
    answers.insert("why".to_owned(), json!("to grow"));
    eco.update_application(&person.ctx, draft.id, answers, None)
        .await
        .expect("edit");
    world.audited("application.update", draft.id).await;
    eco.submit_application(&person.ctx, draft.id, None)
        .await
        .expect("submit");
    let submitted = world.audited("application.submit", draft.id).await;
    assert_eq!(submitted.before, Some(json!({ "status": "draft" })));
    assert_eq!(submitted.after, Some(json!({ "status": "submitted" })));

    let reviewer = &cohort.reviewers[0];
    let review = eco
        .assign_reviewer(&cohort.owner.ctx, draft.id, reviewer.id())
        .await
        .expect("assign");
    let assigned = world.audited("application.reviewer_assigned", draft.id).await;
    assert_eq!(assigned.after, Some(json!({ "reviewer_id": reviewer.id() })));
    let start = world.audited("application.start_review", draft.id).await;
    assert_eq!(start.after, Some(json!({ "status": "under_review" })));
    eco.submit_review(&reviewer.ctx, draft.id, crate::service::SubmitReview::new(66))
        .await
        .expect("review");
    let reviewed = world.audited("application.review", review.id).await;
    assert_eq!(reviewed.actor_id, Some(reviewer.id()));
    assert_eq!(reviewed.organization_id, Some(cohort.org.id));

    eco.decide(&cohort.owner.ctx, draft.id, Decision::Accept, None, None)
        .await
        .expect("accept");
    let accepted = world.audited("application.accept", draft.id).await;
    assert_eq!(accepted.actor_id, Some(cohort.owner.id()));
    assert_eq!(accepted.before, Some(json!({ "status": "under_review" })));
    assert_eq!(accepted.after, Some(json!({ "status": "accepted" })));
    let enrollment = world
        .rows(EnrollmentFilter {
            application_id: Some(draft.id),
            ..Default::default()
        })
        .await
        .remove(0);
    world.audited("enrollment.create", enrollment.id).await;
    eco.drop_out(&person.ctx, enrollment.id, None).await.expect("drop out");
    let dropped = world.audited("enrollment.drop_out", enrollment.id).await;
    assert_eq!(dropped.before, Some(json!({ "status": "enrolled" })));
    assert_eq!(dropped.after, Some(json!({ "status": "dropped_out" })));
    eco.withdraw_application(&person.ctx, draft.id, None)
        .await
        .expect("withdraw");
    let withdrawn = world.audited("application.withdraw", draft.id).await;
    assert_eq!(withdrawn.after, Some(json!({ "status": "withdrawn" })));

    let mut rejected = world.ready(&cohort, 30).await;
    world.decide(&cohort, &mut rejected, Decision::Reject).await;
    assert_eq!(
        world.audited("application.reject", rejected.id()).await.after,
        Some(json!({ "status": "rejected" }))
    );
    let mut waiting = world.ready(&cohort, 55).await;
    world.decide(&cohort, &mut waiting, Decision::Waitlist).await;
    world.audited("application.waitlist", waiting.id()).await;
    world.decide(&cohort, &mut waiting, Decision::Promote).await;
    let promoted = world.audited("application.promote", waiting.id()).await;
    assert_eq!(
        promoted.actor_id,
        Some(cohort.owner.id()),
        "a manual promotion is the staff's"
    );
}

/// Audit events record who acted, when, and the request id and IP of the command.
pub async fn audit_events_carry_request_metadata<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    world.advance(Duration::minutes(7));
    let ctx = person.ctx.clone().with_request_id("req-42").with_ip("203.0.113.7");
    let project = world
        .eco
        .create_project(&ctx, project_input("Traced Venture"))
        .await
        .expect("project");
    let event = world.audited("project.create", project.id).await;
    assert_eq!(event.request_id.as_deref(), Some("req-42"));
    assert_eq!(event.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(event.actor_id, Some(person.id()));
    assert_eq!(event.actor_kind, "user");
    assert_eq!(event.target_kind, "project");
    assert_eq!(event.at, world.now());
    let own = world
        .eco
        .list_audit_events(&person.ctx, AuditFilter::default(), PageRequest::first(50))
        .await
        .expect("own log");
    assert!(own.items.iter().all(|e| e.actor_id == Some(person.id())));
    assert!(own.items.iter().any(|e| e.id == event.id));
}

/// Each notification docs/domain.md implies exists in-app and as an email in the outbox for its
/// recipient; with email turned off only the in-app one is written. Account emails
/// (verification) go to the outbox only.
pub async fn notifications_are_written_in_app_and_to_the_outbox<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let anonymous = Context::anonymous();
    let (user, _) = eco
        .register(
            &anonymous,
            Register {
                email: "nora.notify@example.test".to_owned(),
                password: password(),
                first_name: "Nora".to_owned(),
                last_name: "Vidal".to_owned(),
                role: Role::Entrepreneur,
            },
        )
        .await
        .expect("register");
    world.assert_notified(user.id, "welcome").await;
    world.assert_not_notified(user.id, "email_verification").await;
    let verification = world.outbox(user.id, "email_verification").await;
    assert_eq!(verification.len(), 1);
    assert_eq!(verification[0].recipient, "nora.notify@example.test");
    assert_eq!(verification[0].status, OutboxStatus::Pending);

    let cohort = world.cohort(ProgramSpec::seats(5)).await;
    let coordinator = world.ally().await;
    world
        .add_member(&cohort.owner, &cohort.org, &coordinator, MemberRole::Coordinator)
        .await;
    world
        .assert_notified(coordinator.id(), "organization_member_added")
        .await;
    let person = world.entrepreneur().await;
    let mut applicant = world.submit(&cohort, &person).await;
    world.assert_notified(person.id(), "application_submitted").await;
    for staff in [&cohort.owner, &coordinator] {
        let notice = world.assert_notified(staff.id(), "application_received").await;
        assert_eq!(notice.data["application_id"], json!(applicant.id()));
    }
    assert!(
        world
            .notifications(cohort.reviewers[0].id(), "application_received")
            .await
            .is_empty(),
        "reviewers are not staff"
    );
    world.review(&cohort, &mut applicant, 88).await;
    world.assert_notified(cohort.reviewers[0].id(), "review_assigned").await;
    world.decide(&cohort, &mut applicant, Decision::Accept).await;
    let accepted = world.assert_notified(person.id(), "application_accepted").await;
    assert_eq!(accepted.data["program_id"], json!(cohort.program.id));
    let mut rejected = world.ready(&cohort, 20).await;
    world.decide(&cohort, &mut rejected, Decision::Reject).await;
    world
        .assert_notified(rejected.person.id(), "application_rejected")
        .await;
    let mut waiting = world.ready(&cohort, 50).await;
    world.decide(&cohort, &mut waiting, Decision::Waitlist).await;
    world
        .assert_notified(waiting.person.id(), "application_waitlisted")
        .await;
    eco.withdraw_application(&waiting.person.ctx, waiting.id(), None)
        .await
        .expect("withdraw");
    world.assert_notified(cohort.owner.id(), "application_withdrawn").await;

    let milestone = world.milestone(&person, applicant.project.id, "MVP live", 9).await;
    eco.milestone_command(&person.ctx, milestone.id, MilestoneAction::Progress(100), None)
        .await
        .expect("complete");
    let achieved = world.assert_notified(person.id(), "milestone_achieved").await;
    assert_eq!(achieved.data["milestone_id"], json!(milestone.id));

    let locked = world.entrepreneur().await;
    for _ in 0..5 {
        let _ = eco.authenticate(&anonymous, locked.email(), &wrong_password()).await;
    }
    world.assert_notified(locked.id(), "account_locked").await;

    let changer = world.entrepreneur().await;
    eco.change_password(
        &changer.ctx,
        &password(),
        &crate::model::secret::SecretString::new("another fine passphrase 8"),
    )
    .await
    .expect("change");
    world.assert_notified(changer.id(), "password_changed").await;

    // Email off: in-app only.
    let quiet = world.entrepreneur().await;
    eco.update_me(
        &quiet.ctx,
        UpdateMe {
            notification_preferences: Some(NotificationPreferences {
                in_app: true,
                email: false,
            }),
            ..Default::default()
        },
    )
    .await
    .expect("preferences");
    eco.create_project(&quiet.ctx, project_input("Quiet Venture"))
        .await
        .expect("project");
    assert_eq!(world.notifications(quiet.id(), "project_created").await.len(), 1);
    assert!(world.outbox(quiet.id(), "project_created").await.is_empty());
    let loud = world.entrepreneur().await;
    eco.create_project(&loud.ctx, project_input("Loud Venture"))
        .await
        .expect("project");
    world.assert_notified(loud.id(), "project_created").await;
}
