//! In-app notifications, the audit log and outbox delivery.

use super::{Context, Ecosystem};
use crate::error::{Error, Result};
use crate::model::{
    AuditEvent, Notification, NotificationId, NotificationStatus, OutboxChannel, OutboxId, OutboxMessage, OutboxStatus,
    Role,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{AuditFilter, NotificationFilter, OutboxFilter, Page, PageRequest, Store};
use crate::ports::{Clock, Notifier};

/// What one outbox delivery run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Delivered.
    pub sent: u32,
    /// Failed and scheduled for a retry.
    pub retried: u32,
    /// Failed for good.
    pub failed: u32,
}

/// One channel's backlog (see [`Ecosystem::outbox_backlog`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxBacklog {
    /// The channel.
    pub channel: OutboxChannel,
    /// Messages waiting for delivery, due or scheduled for a retry.
    pub pending: u64,
    /// Messages failed and not re-queued.
    pub failed: u64,
}

impl std::ops::AddAssign for DeliveryReport {
    fn add_assign(&mut self, other: Self) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// The caller's notifications (`?status=unread`), newest first.
    pub async fn list_notifications(
        &self,
        ctx: &Context,
        status: Option<NotificationStatus>,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        let me = ctx.user_id("notification.list")?;
        let mut uow = self.uow(ctx).await?;
        uow.list(
            &NotificationFilter {
                user_id: Some(me),
                status,
                ..Default::default()
            },
            page,
        )
        .await
    }

    /// Marks one of the caller's notifications read (`unread → read`).
    pub async fn read_notification(&self, ctx: &Context, id: NotificationId) -> Result<Notification> {
        self.move_notification(ctx, id, NotificationStatus::Read).await
    }

    /// Archives one of the caller's notifications (`read → archived`, or straight from unread).
    pub async fn archive_notification(&self, ctx: &Context, id: NotificationId) -> Result<Notification> {
        self.move_notification(ctx, id, NotificationStatus::Archived).await
    }

    async fn move_notification(
        &self,
        ctx: &Context,
        id: NotificationId,
        to: NotificationStatus,
    ) -> Result<Notification> {
        let me = ctx.user_id("notification.update")?;
        let mut uow = self.uow(ctx).await?;
        let mut n: Notification = uow.load_for_update(id).await?;
        if n.user_id != me {
            return Err(Error::not_found("notification", id));
        }
        let allowed = matches!(
            (n.status, to),
            (NotificationStatus::Unread, NotificationStatus::Read)
                | (NotificationStatus::Unread, NotificationStatus::Archived)
                | (NotificationStatus::Read, NotificationStatus::Archived)
        );
        if !allowed {
            return Err(Error::invalid_transition(
                "notification",
                n.status.as_str(),
                if to == NotificationStatus::Read {
                    "read"
                } else {
                    "archive"
                },
            ));
        }
        if n.read_at.is_none() {
            n.read_at = Some(uow.now);
        }
        n.status = to;
        let n = uow.update(n).await?;
        uow.commit().await?;
        Ok(n)
    }

    /// Marks every unread notification of the caller read; returns how many changed.
    pub async fn read_all_notifications(&self, ctx: &Context) -> Result<u32> {
        let me = ctx.user_id("notification.update")?;
        let mut uow = self.uow(ctx).await?;
        let unread = uow
            .all(&NotificationFilter {
                user_id: Some(me),
                status: Some(NotificationStatus::Unread),
                ..Default::default()
            })
            .await?;
        let count = unread.len() as u32;
        for mut n in unread {
            n.status = NotificationStatus::Read;
            n.read_at = Some(uow.now);
            uow.update(n).await?;
        }
        uow.commit().await?;
        Ok(count)
    }

    /// Reads the audit log (`?actor_id&target_id&action&from&to`): admins everything; owners
    /// and coordinators their organization's events (pass `organization_id`); everyone else
    /// only their own actions.
    pub async fn list_audit_events(
        &self,
        ctx: &Context,
        mut filter: AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>> {
        let mut uow = self.uow(ctx).await?;
        if ctx.actor != crate::model::Actor::System && ctx.actor.role() != Some(Role::Admin) {
            let me = ctx.user_id("audit.read")?;
            let org_role = match filter.organization_id {
                Some(org) => uow.org_role(org).await?,
                None => None,
            };
            let facts = Facts {
                owner: filter.organization_id.is_none(),
                org_role,
                ..Facts::none()
            };
            authorize(&ctx.actor, Action::ReadAudit, &facts)?;
            match (org_role.filter(|r| r.is_staff()), filter.organization_id) {
                (Some(_), Some(org)) => {
                    // Staff read their organization's slice, but people outside it (applicants
                    // of blind programs among them) stay anonymous there.
                    let members: std::collections::HashSet<_> = uow
                        .all(&crate::ports::store::MemberFilter {
                            organization_id: Some(org),
                            ..Default::default()
                        })
                        .await?
                        .into_iter()
                        .map(|m| m.user_id)
                        .collect();
                    let mut page = uow.list(&filter, page).await?;
                    for event in &mut page.items {
                        if event.actor_id.is_some_and(|a| !members.contains(&a)) {
                            event.actor_id = None;
                        }
                    }
                    return Ok(page);
                }
                _ => filter.actor_id = Some(me),
            }
        }
        uow.list(&filter, page).await
    }

    /// Delivers the due outbox messages of every channel, each channel in its own lane and the
    /// lanes at once (a slow webhook endpoint does not hold up email): see
    /// [`deliver_outbox_channel`](Self::deliver_outbox_channel). `batch` bounds each lane.
    /// Returns the sum of the lanes; the first store error, if any, after every lane finished.
    pub async fn deliver_outbox(&self, batch: u32) -> Result<DeliveryReport> {
        let lanes = OutboxChannel::ALL
            .iter()
            .map(|channel| self.deliver_outbox_channel(*channel, batch));
        let mut total = DeliveryReport::default();
        for report in futures::future::join_all(lanes).await {
            total += report?;
        }
        Ok(total)
    }

    /// Delivers up to `batch` due messages of `channel`, oldest first, at most
    /// `outbox_delivery_concurrency` at once. A failure is recorded and retried after
    /// [`retry_delay`](crate::rules::delivery::retry_delay) (`outbox_retry_base` × 2ⁿ with
    /// `outbox_retry_jitter_percent` of jitter) until `outbox_max_attempts`, then the message is
    /// failed (a dead letter, re-queueable by an admin). Each message is settled in its own unit
    /// of work, so a crash mid-run loses nothing and repeats at most the deliveries in flight.
    ///
    /// A round hands each message to the notifier once; two rounds at once (two workers) would
    /// both pick the same due messages, which is why the server runs rounds under a
    /// cluster-wide lock.
    pub async fn deliver_outbox_channel(&self, channel: OutboxChannel, batch: u32) -> Result<DeliveryReport> {
        use futures::StreamExt as _;
        let ctx = Context::system();
        let due: Vec<OutboxMessage> = {
            let mut uow = self.uow(&ctx).await?;
            uow.list(
                &OutboxFilter {
                    status: Some(OutboxStatus::Pending),
                    channel: Some(channel),
                    due_at: Some(uow.now),
                    ..Default::default()
                },
                // Oldest first: a backlog larger than a batch must not starve old messages.
                PageRequest::first(batch).oldest_first(),
            )
            .await?
            .items
        };
        let parallel = self.limits.outbox_delivery_concurrency.max(1) as usize;
        let outcomes: Vec<Result<DeliveryReport>> = futures::stream::iter(due)
            .map(|message| self.deliver_one(&ctx, message))
            .buffer_unordered(parallel)
            .collect()
            .await;
        let mut report = DeliveryReport::default();
        let mut first_error = None;
        for outcome in outcomes {
            match outcome {
                Ok(one) => report += one,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Hands one message to the notifier (a webhook message signed first, see
    /// [`prepare_delivery`](Self::prepare_delivery)) and records the outcome, and for a webhook
    /// its endpoint's failure run.
    async fn deliver_one(&self, ctx: &Context, message: OutboxMessage) -> Result<DeliveryReport> {
        // A refusal (the webhook endpoint is deleted or disabled) says nothing about the
        // receiver, so it does not count on the endpoint's failure run.
        let (outcome, receipt, refused) = match self.prepare_delivery(&message).await? {
            super::webhooks::Prepared::Deliver(prepared) => {
                let (outcome, receipt) = self.notifier.deliver_with_receipt(&prepared).await;
                (outcome, receipt, false)
            }
            super::webhooks::Prepared::Refuse(error) => (Err(error), Default::default(), true),
        };
        let mut uow = self.uow(ctx).await?;
        let mut report = DeliveryReport::default();
        let Some(mut current) = uow.get(message.id).await? else {
            return Ok(report);
        };
        if current.status != OutboxStatus::Pending {
            return Ok(report);
        }
        current.attempts += 1;
        super::webhooks::record_receipt(&mut current, receipt);
        let delivered = outcome.is_ok();
        match outcome {
            Ok(()) => {
                current.status = OutboxStatus::Sent;
                current.sent_at = Some(uow.now);
                current.last_error = None;
                report.sent += 1;
            }
            Err(error) => {
                current.last_error = Some(error.message.clone());
                if error.permanent || current.attempts >= self.limits.outbox_max_attempts {
                    current.status = OutboxStatus::Failed;
                    report.failed += 1;
                } else {
                    current.next_attempt_at = uow.now
                        + crate::rules::delivery::retry_delay(
                            self.limits.outbox_retry_base,
                            current.attempts,
                            current.id.into(),
                            self.limits.outbox_retry_jitter_percent.get(),
                        );
                    report.retried += 1;
                }
            }
        }
        let current = uow.update(current).await?;
        if !refused {
            let disable_after = chrono::Duration::hours(i64::from(self.limits.webhook_disable_after_hours));
            uow.settle_webhook(&current, delivered, disable_after).await?;
        }
        uow.commit().await?;
        Ok(report)
    }

    /// The outbox for an admin (`?status=failed&channel`), newest first. Bodies are the
    /// adapter's to drop: they may carry one-time tokens.
    pub async fn list_outbox(
        &self,
        ctx: &Context,
        status: Option<OutboxStatus>,
        channel: Option<OutboxChannel>,
        page: PageRequest,
    ) -> Result<Page<OutboxMessage>> {
        authorize(&ctx.actor, Action::ManageOutbox, &Facts::none())?;
        let mut uow = self.uow(ctx).await?;
        uow.list(
            &OutboxFilter {
                status,
                channel,
                ..Default::default()
            },
            page,
        )
        .await
    }

    /// One outbox message, for an admin.
    pub async fn get_outbox_message(&self, ctx: &Context, id: OutboxId) -> Result<OutboxMessage> {
        authorize(&ctx.actor, Action::ManageOutbox, &Facts::none())?;
        let mut uow = self.uow(ctx).await?;
        uow.load(id).await
    }

    /// Re-queues a failed message (`failed → pending`): due now, with a fresh count of attempts
    /// (the last error stays until the next attempt). Any other state is `invalid_transition`.
    pub async fn retry_outbox_message(&self, ctx: &Context, id: OutboxId) -> Result<OutboxMessage> {
        authorize(&ctx.actor, Action::ManageOutbox, &Facts::none())?;
        let mut uow = self.uow(ctx).await?;
        let message: OutboxMessage = uow.load_for_update(id).await?;
        if message.status != OutboxStatus::Failed {
            return Err(Error::invalid_transition(
                "outbox_message",
                message.status.as_str(),
                "retry",
            ));
        }
        let message = requeue(&mut uow, message).await?;
        uow.commit().await?;
        Ok(message)
    }

    /// Re-queues every failed message (of `channel`, when given); returns how many. Pages
    /// through the failed messages by id, each page in its own unit of work, so a large dead
    /// letter queue is not one long transaction, and a message failing again while this runs
    /// is not re-queued twice.
    pub async fn retry_failed_outbox(&self, ctx: &Context, channel: Option<OutboxChannel>) -> Result<u32> {
        authorize(&ctx.actor, Action::ManageOutbox, &Facts::none())?;
        let filter = OutboxFilter {
            status: Some(OutboxStatus::Failed),
            channel,
            ..Default::default()
        };
        let mut after = None;
        let mut count = 0u32;
        loop {
            let mut uow = self.uow(ctx).await?;
            let page = uow
                .list(
                    &filter,
                    PageRequest {
                        after,
                        ..PageRequest::first(PageRequest::MAX_LIMIT).oldest_first()
                    },
                )
                .await?;
            let Some(last) = page.items.last() else {
                break;
            };
            after = Some(last.id.into());
            for listed in page.items {
                // Locked and re-checked: a concurrent single retry may have re-queued it.
                let message: OutboxMessage = uow.load_for_update(listed.id).await?;
                if message.status == OutboxStatus::Failed {
                    requeue(&mut uow, message).await?;
                    count += 1;
                }
            }
            uow.commit().await?;
            if page.next_cursor.is_none() {
                break;
            }
        }
        Ok(count)
    }

    /// Per channel, how many messages wait for delivery (pending, due or not) and how many
    /// failed (dead letters not re-queued): the outbox gauges.
    pub async fn outbox_backlog(&self) -> Result<Vec<OutboxBacklog>> {
        let mut uow = self.uow(&Context::system()).await?;
        let mut out = Vec::with_capacity(OutboxChannel::ALL.len());
        for channel in OutboxChannel::ALL {
            let count = |status| OutboxFilter {
                status: Some(status),
                channel: Some(*channel),
                ..Default::default()
            };
            out.push(OutboxBacklog {
                channel: *channel,
                pending: uow.count(&count(OutboxStatus::Pending)).await?,
                failed: uow.count(&count(OutboxStatus::Failed)).await?,
            });
        }
        Ok(out)
    }
}

/// `failed → pending`, due at once, attempts from zero; audited as `outbox.retry`.
async fn requeue<T: crate::ports::store::Transaction>(
    uow: &mut super::Uow<T>,
    mut message: OutboxMessage,
) -> Result<OutboxMessage> {
    message.status = OutboxStatus::Pending;
    message.attempts = 0;
    message.next_attempt_at = uow.now;
    let message = uow.update(message).await?;
    uow.audit(
        "outbox.retry",
        "outbox_message",
        message.id,
        None,
        Some(serde_json::json!({ "status": "failed" })),
        Some(serde_json::json!({ "status": "pending", "channel": message.channel })),
    )
    .await?;
    Ok(message)
}
