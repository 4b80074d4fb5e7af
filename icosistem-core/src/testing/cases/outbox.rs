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

/// A transient failure is recorded and retried after 1, 2, 4 and 8 minutes (never earlier);
/// the fifth failure marks the message failed and it is not tried again.
pub async fn outbox_retries_with_backoff_then_fails<S: Store + Clone>(store: S) {
    let notifier = Arc::new(FailingNotifier::transient());
    let world = World::with_notifier(store, Arc::clone(&notifier)).await;
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
