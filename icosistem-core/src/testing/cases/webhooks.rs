//! Webhooks (docs/domain.md §8): events become one outbox message per matching endpoint, signed at
//! delivery with the current (and, during the overlap window, the previous) secret; endpoints
//! failing for `webhook_disable_after_hours` are disabled and their owners told.

use std::sync::Arc;

use chrono::Duration;
use serde_json::Value;

use crate::model::webhook::verify;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::{CreateWebhook, UpdateWebhook, WebhookWithSecret};
use crate::testing::fixtures::*;

fn endpoint(events: &[&str]) -> CreateWebhook {
    CreateWebhook {
        url: "https://hooks.example.org/icosistem".to_owned(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        description: Some("CRM".to_owned()),
    }
}

async fn webhook_messages<S: Store, N: crate::ports::Notifier>(
    world: &World<S, N>,
    id: WebhookId,
) -> Vec<OutboxMessage> {
    world
        .rows(OutboxFilter {
            webhook_id: Some(id),
            ..Default::default()
        })
        .await
}

/// Checks the signature headers a delivered webhook message carries against `secret`.
fn signed_with(message: &OutboxMessage, secret: &WebhookSecret) -> bool {
    let headers = &message.data["headers"];
    let id = headers["webhook-id"].as_str().expect("webhook-id");
    let timestamp: i64 = headers["webhook-timestamp"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("webhook-timestamp");
    let signature = headers["webhook-signature"].as_str().expect("webhook-signature");
    assert_eq!(id, message.id.to_string(), "the outbox id is the idempotency key");
    verify(secret, id, timestamp, &message.body, signature)
}

/// A submission to a blind program reaches exactly the active endpoints subscribed to
/// `application.submitted`, once each, as `{type, timestamp, data}` naming nobody; the delivery
/// log of each endpoint holds its own messages only.
pub async fn webhook_events_reach_each_matching_endpoint_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::blind()).await;
    let owner = &cohort.owner.ctx;
    let submitted = eco
        .create_webhook(
            owner,
            cohort.org.id,
            endpoint(&["application.submitted", "application.decided"]),
        )
        .await
        .expect("create");
    assert!(submitted.secret.expose().starts_with("whsec_"));
    assert!(submitted.endpoint.active);
    let decided = eco
        .create_webhook(owner, cohort.org.id, endpoint(&["application.decided"]))
        .await
        .expect("create");
    let paused = eco
        .create_webhook(owner, cohort.org.id, endpoint(&["application.submitted"]))
        .await
        .expect("create");
    eco.update_webhook(
        owner,
        paused.endpoint.id,
        UpdateWebhook {
            active: Some(false),
            ..Default::default()
        },
    )
    .await
    .expect("disable");
    // Another organization's endpoint hears nothing of this one.
    let other_owner = world.ally().await;
    let other_org = world.organization(&other_owner).await;
    let other = eco
        .create_webhook(&other_owner.ctx, other_org.id, endpoint(&["application.submitted"]))
        .await
        .expect("create");

    let person = world.person_named(Role::Entrepreneur, "Bianca", "Ciega").await;
    let applicant = world.submit(&cohort, &person).await;

    let messages = webhook_messages(&world, submitted.endpoint.id).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert_eq!(message.channel, OutboxChannel::Webhook);
    assert_eq!(message.kind, "application.submitted");
    assert_eq!(message.recipient, "https://hooks.example.org/icosistem");
    let body: Value = serde_json::from_str(&message.body).expect("JSON body");
    assert_eq!(body["type"], "application.submitted");
    assert_eq!(body["data"]["id"], applicant.id().to_string());
    assert_eq!(body["data"]["organization_id"], cohort.org.id.to_string());
    assert_eq!(body["data"]["current"]["status"], "submitted");
    assert!(body["timestamp"].as_str().is_some_and(|t| t.starts_with("20")));
    for identity in [person.id().to_string(), "Bianca".to_owned(), person.email().to_owned()] {
        assert!(!message.body.contains(&identity), "blind review: {identity} leaked");
    }
    assert!(webhook_messages(&world, decided.endpoint.id).await.is_empty());
    assert!(webhook_messages(&world, paused.endpoint.id).await.is_empty());
    assert!(webhook_messages(&world, other.endpoint.id).await.is_empty());

    let log = eco
        .list_webhook_deliveries(owner, submitted.endpoint.id, PageRequest::first(20))
        .await
        .expect("log");
    assert_eq!(log.items.iter().map(|m| m.id).collect::<Vec<_>>(), [message.id]);
    let listed = eco
        .list_webhooks(owner, cohort.org.id, PageRequest::first(20))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 3);
    assert_eq!(listed.items[0].id, paused.endpoint.id, "newest first");
}

/// Owners and admins manage endpoints; a coordinator is refused, an outsider sees no endpoint; bad
/// input names every failing field; the count per organization is bounded.
pub async fn webhook_management_is_for_owners_and_admins<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let coordinator = world.ally().await;
    world
        .add_member(&cohort.owner, &cohort.org, &coordinator, MemberRole::Coordinator)
        .await;
    let outsider = world.ally().await;
    let input = endpoint(&["application.submitted"]);

    assert_forbidden(&expect_err(
        eco.create_webhook(&coordinator.ctx, cohort.org.id, input.clone()).await,
    ));
    // The organization is public: an outsider sees it but may not manage it; its endpoints
    // stay invisible to them (below).
    assert_forbidden(&expect_err(
        eco.create_webhook(&outsider.ctx, cohort.org.id, input.clone()).await,
    ));
    let created = eco
        .create_webhook(&world.admin.ctx, cohort.org.id, input.clone())
        .await
        .expect("admin creates");
    assert_forbidden(&expect_err(
        eco.get_webhook(&coordinator.ctx, created.endpoint.id).await,
    ));
    assert_not_found(
        &expect_err(eco.get_webhook(&outsider.ctx, created.endpoint.id).await),
        "webhook",
    );
    assert_eq!(
        eco.get_webhook(&cohort.owner.ctx, created.endpoint.id)
            .await
            .expect("get")
            .url,
        input.url
    );

    let bad = CreateWebhook {
        url: "http://hooks.example.org/x".to_owned(),
        events: vec!["application.exploded".to_owned()],
        description: Some("x".repeat(501)),
    };
    let error = expect_err(eco.create_webhook(&cohort.owner.ctx, cohort.org.id, bad).await);
    assert_fields(&error, &["url", "events", "description"]);
    let none = CreateWebhook {
        events: Vec::new(),
        ..input.clone()
    };
    assert_fields(
        &expect_err(eco.create_webhook(&cohort.owner.ctx, cohort.org.id, none).await),
        &["events"],
    );
    // Plain http only to loopback (development; delivery still refuses it unless allowed).
    let local = CreateWebhook {
        url: "http://127.0.0.1:9/hook".to_owned(),
        ..input.clone()
    };
    eco.create_webhook(&cohort.owner.ctx, cohort.org.id, local)
        .await
        .expect("loopback http");

    let stale = expect_err(
        eco.update_webhook(
            &cohort.owner.ctx,
            created.endpoint.id,
            UpdateWebhook {
                description: Some("new".to_owned()),
                version: Some(created.endpoint.meta.version + 7),
                ..Default::default()
            },
        )
        .await,
    );
    assert_conflict(&stale, "webhook", "version");

    eco.delete_webhook(&cohort.owner.ctx, created.endpoint.id)
        .await
        .expect("delete");
    assert_not_found(
        &expect_err(eco.get_webhook(&cohort.owner.ctx, created.endpoint.id).await),
        "webhook",
    );
    assert_eq!(world.audit("webhook.delete", created.endpoint.id).await.len(), 1);

    let max = eco.limits().max_webhooks_per_organization;
    for _ in 1..max {
        eco.create_webhook(&cohort.owner.ctx, cohort.org.id, input.clone())
            .await
            .expect("under the limit");
    }
    assert_fields(
        &expect_err(eco.create_webhook(&cohort.owner.ctx, cohort.org.id, input).await),
        &["url"],
    );
}

/// Deliveries are signed when sent: the test event verifies with the secret shown at creation;
/// after a rotation both secrets sign until the overlap window ends, then only the new one. A
/// deleted endpoint's queued message fails without being sent.
pub async fn webhook_deliveries_are_signed_when_sent_and_rotation_overlaps<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let owner = &cohort.owner.ctx;
    let WebhookWithSecret {
        endpoint: hook,
        secret: first,
    } = eco
        .create_webhook(owner, cohort.org.id, endpoint(&["application.submitted"]))
        .await
        .expect("create");

    let delivered_to_hook = || {
        world
            .delivered()
            .into_iter()
            .filter(|m| m.channel == OutboxChannel::Webhook)
            .collect::<Vec<_>>()
    };
    let queued = eco.send_test_webhook(owner, hook.id).await.expect("test");
    assert_eq!(queued.kind, "webhook.test");
    eco.deliver_outbox(100).await.expect("deliver");
    let sent = delivered_to_hook();
    assert_eq!(sent.len(), 1);
    assert!(signed_with(&sent[0], &first));
    let stored = world.row(queued.id).await.expect("row");
    assert_eq!(stored.status, OutboxStatus::Sent);
    assert!(stored.data.get("headers").is_none(), "signatures are not stored");
    assert!(world.row(hook.id).await.expect("hook").last_success_at.is_some());

    // Queued before the rotation, sent after it: signed with both secrets.
    eco.send_test_webhook(owner, hook.id).await.expect("test");
    let rotated = eco.rotate_webhook_secret(owner, hook.id).await.expect("rotate");
    assert_ne!(rotated.secret, first);
    eco.deliver_outbox(100).await.expect("deliver");
    let sent = delivered_to_hook();
    assert_eq!(sent.len(), 2);
    assert!(signed_with(&sent[1], &first));
    assert!(signed_with(&sent[1], &rotated.secret));

    world.advance(eco.limits().webhook_secret_overlap + Duration::seconds(1));
    eco.send_test_webhook(owner, hook.id).await.expect("test");
    eco.deliver_outbox(100).await.expect("deliver");
    let sent = delivered_to_hook();
    assert_eq!(sent.len(), 3);
    assert!(!signed_with(&sent[2], &first), "the old secret expired");
    assert!(signed_with(&sent[2], &rotated.secret));

    let orphan = eco.send_test_webhook(owner, hook.id).await.expect("test");
    eco.delete_webhook(owner, hook.id).await.expect("delete");
    eco.deliver_outbox(100).await.expect("deliver");
    assert_eq!(delivered_to_hook().len(), 3, "nothing sent to a deleted endpoint");
    let orphan = world.row(orphan.id).await.expect("row");
    assert_eq!(orphan.status, OutboxStatus::Failed);
    assert_eq!(orphan.last_error.as_deref(), Some("the webhook endpoint was deleted"));
}

/// An endpoint whose deliveries fail for `webhook_disable_after_hours` is disabled (not
/// earlier), its owner is told in-app and by email, and its queued messages are not sent.
/// Re-enabling it starts a fresh window.
pub async fn failing_webhooks_are_disabled_after_their_window<S: Store + Clone>(store: S) {
    let notifier = Arc::new(FailingNotifier::transient());
    let world = World::with_notifier(store, Arc::clone(&notifier)).await;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let owner = &cohort.owner.ctx;
    let hook = eco
        .create_webhook(owner, cohort.org.id, endpoint(&["application.submitted"]))
        .await
        .expect("create")
        .endpoint;
    let window = Duration::hours(i64::from(eco.limits().webhook_disable_after_hours));
    let started = world.now();

    eco.send_test_webhook(owner, hook.id).await.expect("test");
    eco.deliver_outbox(100).await.expect("deliver");
    let failing = world.row(hook.id).await.expect("hook");
    assert!(failing.active);
    assert_eq!(failing.failing_since, Some(started));
    let log = eco
        .list_webhook_deliveries(owner, hook.id, PageRequest::first(20))
        .await
        .expect("log");
    assert_eq!(log.items.len(), 1);
    assert_eq!(log.items[0].attempts, 1);
    assert_eq!(log.items[0].status, OutboxStatus::Pending, "retried like email");

    world.advance(window - Duration::minutes(1));
    eco.send_test_webhook(owner, hook.id).await.expect("test");
    eco.deliver_outbox(100).await.expect("deliver");
    assert!(
        world.row(hook.id).await.expect("hook").active,
        "not before the window ends"
    );
    world.assert_not_notified(cohort.owner.id(), "webhook_disabled").await;

    world.advance(Duration::minutes(1));
    let queued = eco.send_test_webhook(owner, hook.id).await.expect("test");
    eco.deliver_outbox(100).await.expect("deliver");
    let disabled = world.row(hook.id).await.expect("hook");
    assert!(!disabled.active);
    assert!(disabled.disabled_reason.is_some());
    world.assert_notified(cohort.owner.id(), "webhook_disabled").await;
    assert_eq!(world.audit("webhook.auto_disable", hook.id).await.len(), 1);
    assert!(world.row(queued.id).await.expect("row").attempts >= 1);

    // Queued messages of a disabled endpoint are settled without a delivery attempt.
    let queue: Vec<OutboxId> = webhook_messages(&world, hook.id)
        .await
        .into_iter()
        .filter(|m| m.status == OutboxStatus::Pending)
        .map(|m| m.id)
        .collect();
    assert!(!queue.is_empty(), "earlier test events wait for their retry");
    let attempts = notifier.attempts() as usize;
    world.advance(Duration::days(1));
    eco.deliver_outbox(100).await.expect("deliver");
    let tried: Vec<OutboxId> = notifier.seen().into_iter().skip(attempts).collect();
    assert!(
        queue.iter().all(|id| !tried.contains(id)),
        "nothing sent to a disabled endpoint"
    );
    assert!(
        webhook_messages(&world, hook.id)
            .await
            .iter()
            .all(|m| m.status == OutboxStatus::Failed),
        "a disabled endpoint's queue fails"
    );
    assert_eq!(
        expect_err(eco.send_test_webhook(owner, hook.id).await).to_string(),
        "invalid transition of webhook from disabled by test"
    );

    let enabled = eco
        .update_webhook(
            owner,
            hook.id,
            UpdateWebhook {
                active: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("re-enable");
    assert!(enabled.active);
    assert_eq!(enabled.failing_since, None);
    assert_eq!(enabled.disabled_reason, None);
}
