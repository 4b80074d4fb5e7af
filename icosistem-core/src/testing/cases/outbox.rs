//! Outbox delivery: once per message, retries with exponential backoff, then failure.

use std::sync::Arc;

use chrono::Duration;

use crate::Context;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::{DeliveryReport, Register};
use crate::testing::fixtures::*;

fn registration(email: &str) -> Register {
    Register {
        email: email.to_owned(),
        password: password(),
        first_name: "Olga".to_owned(),
        last_name: "Mejia".to_owned(),
        role: Role::Client,
    }
}

async fn backlog<S: Store, N: crate::ports::Notifier>(world: &World<S, N>) -> Vec<(OutboxChannel, u64, u64)> {
    world
        .eco
        .outbox_backlog()
        .await
        .expect("backlog")
        .into_iter()
        .map(|b| (b.channel, b.pending, b.failed))
        .collect()
}

fn pending() -> OutboxFilter {
    OutboxFilter {
        status: Some(OutboxStatus::Pending),
        ..Default::default()
    }
}

/// Each due message goes through the notifier once and is marked sent; a second run sends
/// nothing; a new message is sent on the next run; `batch` bounds a run.
pub async fn outbox_delivers_each_message_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    eco.register(&Context::anonymous(), registration("olga.outbox@example.test"))
        .await
        .expect("register");
    let due = world.rows(pending()).await;
    assert_eq!(due.len(), 2, "verification email and welcome");
    world.advance(Duration::seconds(30));
    let report = eco.deliver_outbox(100).await.expect("deliver");
    assert_eq!(
        report,
        DeliveryReport {
            sent: 2,
            retried: 0,
            failed: 0
        }
    );
    let mut delivered: Vec<OutboxId> = world.delivered().iter().map(|m| m.id).collect();
    delivered.sort_unstable();
    let mut expected: Vec<OutboxId> = due.iter().map(|m| m.id).collect();
    expected.sort_unstable();
    assert_eq!(delivered, expected);
    for message in &due {
        let stored = world.row(message.id).await.expect("message");
        assert_eq!(stored.status, OutboxStatus::Sent);
        assert_eq!(stored.attempts, 1);
        assert_eq!(stored.sent_at, Some(world.now()));
        assert_eq!(stored.last_error, None);
    }
    assert_eq!(
        eco.deliver_outbox(100).await.expect("deliver"),
        DeliveryReport::default()
    );
    assert_eq!(world.delivered().len(), 2);

    eco.register(&Context::anonymous(), registration("olga.second@example.test"))
        .await
        .expect("register");
    eco.register(&Context::anonymous(), registration("olga.third@example.test"))
        .await
        .expect("register");
    let backlog = world.rows(pending()).await;
    assert_eq!(backlog.len(), 4);
    assert_eq!(eco.deliver_outbox(3).await.expect("deliver").sent, 3);
    let left = world.rows(pending()).await;
    assert_eq!(
        left.iter().map(|m| m.id).collect::<Vec<_>>(),
        [backlog[0].id],
        "a batch smaller than the backlog takes the oldest messages"
    );
    assert_eq!(eco.deliver_outbox(3).await.expect("deliver").sent, 1);
    assert_eq!(world.delivered().len(), 6);
    let ids: std::collections::HashSet<OutboxId> = world.delivered().iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 6, "no message delivered twice");
}

/// Without jitter and with five attempts: a transient failure is recorded and retried after 1,
/// 2, 4 and 8 minutes (never earlier); the fifth failure marks the message failed and it is not
/// tried again.
pub async fn outbox_retries_with_backoff_then_fails<S: Store + Clone>(store: S) {
    let notifier = Arc::new(FailingNotifier::transient());
    let limits = crate::Limits {
        outbox_max_attempts: 5,
        outbox_retry_jitter_percent: crate::service::Percent(0),
        ..crate::Limits::default()
    };
    let world = World::with_limits(store, Arc::clone(&notifier), limits).await;
    let eco = &world.eco;
    eco.register(&Context::anonymous(), registration("olga.retry@example.test"))
        .await
        .expect("register");
    let messages = world.rows(pending()).await;
    assert_eq!(messages.len(), 2);
    let retried = |n| DeliveryReport {
        sent: 0,
        retried: n,
        failed: 0,
    };
    assert_eq!(eco.deliver_outbox(100).await.expect("run"), retried(2));
    for (attempt, backoff) in [(1u32, 1i64), (2, 2), (3, 4), (4, 8)] {
        for message in &messages {
            let stored = world.row(message.id).await.expect("message");
            assert_eq!(stored.status, OutboxStatus::Pending);
            assert_eq!(stored.attempts, attempt);
            assert_eq!(stored.next_attempt_at, world.now() + Duration::minutes(backoff));
            assert_eq!(stored.last_error.as_deref(), Some("smtp server unavailable"));
        }
        assert_eq!(notifier.attempts(), 2 * attempt);
        assert_eq!(eco.deliver_outbox(100).await.expect("run"), DeliveryReport::default());
        world.advance(Duration::minutes(backoff) - Duration::seconds(1));
        assert_eq!(
            eco.deliver_outbox(100).await.expect("run"),
            DeliveryReport::default(),
            "not due before its backoff"
        );
        world.advance(Duration::seconds(1));
        let report = eco.deliver_outbox(100).await.expect("run");
        if attempt < 4 {
            assert_eq!(report, retried(2));
        } else {
            assert_eq!(
                report,
                DeliveryReport {
                    sent: 0,
                    retried: 0,
                    failed: 2
                }
            );
        }
    }
    for message in &messages {
        let stored = world.row(message.id).await.expect("message");
        assert_eq!(stored.status, OutboxStatus::Failed);
        assert_eq!(stored.attempts, 5);
        assert_eq!(stored.sent_at, None);
    }
    assert_eq!(notifier.attempts(), 10);
    world.advance(Duration::days(1));
    assert_eq!(eco.deliver_outbox(100).await.expect("run"), DeliveryReport::default());
    assert_eq!(notifier.attempts(), 10, "failed messages are not tried again");
}

/// A permanent failure marks the message failed at the first attempt.
pub async fn outbox_permanent_failure_fails_at_once<S: Store + Clone>(store: S) {
    let notifier = Arc::new(FailingNotifier::permanent());
    let world = World::with_notifier(store, Arc::clone(&notifier)).await;
    let eco = &world.eco;
    eco.register(&Context::anonymous(), registration("olga.bounce@example.test"))
        .await
        .expect("register");
    let messages = world.rows(pending()).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(
        eco.deliver_outbox(100).await.expect("run"),
        DeliveryReport {
            sent: 0,
            retried: 0,
            failed: 2
        }
    );
    let mut seen = notifier.seen();
    seen.sort_unstable();
    let mut ids: Vec<OutboxId> = messages.iter().map(|m| m.id).collect();
    ids.sort_unstable();
    assert_eq!(seen, ids);
    for message in &messages {
        let stored = world.row(message.id).await.expect("message");
        assert_eq!(stored.status, OutboxStatus::Failed);
        assert_eq!(stored.attempts, 1);
        assert_eq!(stored.last_error.as_deref(), Some("mailbox does not exist"));
    }
    world.advance(Duration::hours(1));
    assert_eq!(eco.deliver_outbox(100).await.expect("run"), DeliveryReport::default());
    assert_eq!(notifier.attempts(), 2);
}

/// With the default jitter (25 %), each retry lands at the delay `retry_delay` computes for
/// that message and attempt: within a quarter of the plain doubling, and not the same for two
/// messages that failed together.
pub async fn outbox_retry_delays_carry_jitter<S: Store + Clone>(store: S) {
    let notifier = Arc::new(FailingNotifier::transient());
    let world = World::with_notifier(store, Arc::clone(&notifier)).await;
    let eco = &world.eco;
    assert_eq!(eco.limits().outbox_retry_jitter_percent.get(), 25);
    assert_eq!(eco.limits().outbox_max_attempts, 8, "docs/domain.md §8's default");
    for n in 0..3 {
        eco.register(
            &Context::anonymous(),
            registration(&format!("olga.jitter{n}@example.test")),
        )
        .await
        .expect("register");
    }
    let messages = world.rows(pending()).await;
    assert_eq!(messages.len(), 6);
    assert_eq!(eco.deliver_outbox(100).await.expect("run").retried, 6);
    let base = eco.limits().outbox_retry_base;
    let mut delays = std::collections::HashSet::new();
    for message in &messages {
        let stored = world.row(message.id).await.expect("message");
        let delay = stored.next_attempt_at - world.now();
        assert_eq!(
            delay,
            crate::rules::delivery::retry_delay(base, 1, message.id.into(), 25),
            "exactly the rule's delay"
        );
        assert!(delay >= base * 3 / 4 && delay <= base * 5 / 4, "{delay}");
        delays.insert(delay);
    }
    assert!(
        delays.len() > 1,
        "messages failing together come back at different times"
    );
}

/// A round delivers a channel's messages concurrently, never more at once than
/// `outbox_delivery_concurrency`, and each once.
pub async fn outbox_delivers_a_channel_with_bounded_concurrency<S: Store + Clone>(store: S) {
    let notifier = Arc::new(SlowNotifier::default());
    let limits = crate::Limits {
        outbox_delivery_concurrency: 3,
        ..crate::Limits::default()
    };
    let world = World::with_limits(store, Arc::clone(&notifier), limits).await;
    let eco = &world.eco;
    for n in 0..4 {
        eco.register(
            &Context::anonymous(),
            registration(&format!("olga.lane{n}@example.test")),
        )
        .await
        .expect("register");
    }
    assert_eq!(world.rows(pending()).await.len(), 8);
    assert_eq!(eco.deliver_outbox(100).await.expect("run").sent, 8);
    assert_eq!(notifier.delivered(), 8);
    assert_eq!(notifier.most_in_flight(), 3, "concurrent, and bounded");
    assert_eq!(eco.deliver_outbox(100).await.expect("run"), DeliveryReport::default());
    assert_eq!(notifier.delivered(), 8);
}

/// Dead letters: an admin lists the failed messages (by channel), reads one, re-queues one
/// (`failed → pending`, due now, attempts from zero, audited) and then all the others; a
/// message that is not failed cannot be re-queued; nobody else may do any of it.
pub async fn outbox_dead_letters_are_listed_and_requeued_by_admins<S: Store + Clone>(store: S) {
    let notifier = Arc::new(FailingNotifier::permanent());
    let world = World::with_notifier(store, Arc::clone(&notifier)).await;
    let eco = &world.eco;
    for n in 0..2 {
        eco.register(
            &Context::anonymous(),
            registration(&format!("olga.dead{n}@example.test")),
        )
        .await
        .expect("register");
    }
    assert_eq!(eco.deliver_outbox(100).await.expect("run").failed, 4);
    let admin = &world.admin.ctx;
    let failed = eco
        .list_outbox(admin, Some(OutboxStatus::Failed), None, PageRequest::first(3))
        .await
        .expect("list");
    assert_eq!(failed.items.len(), 3);
    assert!(failed.next_cursor.is_some());
    let email = eco
        .list_outbox(
            admin,
            Some(OutboxStatus::Failed),
            Some(OutboxChannel::Email),
            PageRequest::first(100),
        )
        .await
        .expect("list");
    assert_eq!(email.items.len(), 4);
    let webhooks = eco
        .list_outbox(admin, None, Some(OutboxChannel::Webhook), PageRequest::first(100))
        .await
        .expect("list");
    assert!(webhooks.items.is_empty());
    assert_eq!(
        backlog(&world).await,
        [(OutboxChannel::Email, 0, 4), (OutboxChannel::Webhook, 0, 0)]
    );

    let someone = world.person(Role::Entrepreneur, "nosy").await;
    let target = email.items[0].id;
    assert_forbidden(
        &eco.list_outbox(&someone.ctx, None, None, PageRequest::first(10))
            .await
            .expect_err("not an admin"),
    );
    assert_forbidden(
        &eco.get_outbox_message(&someone.ctx, target)
            .await
            .expect_err("not an admin"),
    );
    assert_forbidden(
        &eco.retry_outbox_message(&someone.ctx, target)
            .await
            .expect_err("not an admin"),
    );
    assert_forbidden(
        &eco.retry_failed_outbox(&someone.ctx, None)
            .await
            .expect_err("not an admin"),
    );

    assert_eq!(
        eco.get_outbox_message(admin, target).await.expect("get").status,
        OutboxStatus::Failed
    );
    world.advance(Duration::minutes(5));
    let requeued = eco.retry_outbox_message(admin, target).await.expect("retry");
    assert_eq!(requeued.status, OutboxStatus::Pending);
    assert_eq!(requeued.attempts, 0);
    assert_eq!(requeued.next_attempt_at, world.now());
    assert_eq!(requeued.last_error.as_deref(), Some("mailbox does not exist"));
    let again = eco.retry_outbox_message(admin, target).await.expect_err("pending now");
    assert!(
        matches!(again, crate::Error::InvalidTransition { command: "retry", .. }),
        "{again:?}"
    );
    assert_eq!(
        backlog(&world).await,
        [(OutboxChannel::Email, 1, 3), (OutboxChannel::Webhook, 0, 0)]
    );
    let audit = world
        .rows(AuditFilter {
            action: Some("outbox.retry".to_owned()),
            ..Default::default()
        })
        .await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].target_id, uuid::Uuid::from(target));
    assert_eq!(audit[0].actor_id, Some(world.admin.id()));

    assert_eq!(
        eco.retry_failed_outbox(admin, Some(OutboxChannel::Webhook))
            .await
            .expect("none"),
        0
    );
    assert_eq!(eco.retry_failed_outbox(admin, None).await.expect("all"), 3);
    assert!(
        eco.list_outbox(admin, Some(OutboxStatus::Failed), None, PageRequest::first(10))
            .await
            .expect("list")
            .items
            .is_empty()
    );
    // Delivered again (and, this notifier bouncing everything, failed again).
    assert_eq!(eco.deliver_outbox(100).await.expect("run").failed, 4);
    assert_eq!(notifier.attempts(), 8);
    let missing = eco
        .retry_outbox_message(admin, OutboxId::from(uuid::Uuid::nil()))
        .await
        .expect_err("unknown");
    assert_not_found(&missing, "outbox_message");
}
