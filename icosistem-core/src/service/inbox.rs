//! In-app notifications, the audit log and outbox delivery.

use super::{Context, Ecosystem};
use crate::error::{Error, Result};
use crate::model::{AuditEvent, Notification, NotificationId, NotificationStatus, OutboxMessage, OutboxStatus, Role};
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
            return Err(Error::InvalidTransition {
                entity: "notification",
                from: n.status.as_str(),
                command: if to == NotificationStatus::Read {
                    "read"
                } else {
                    "archive"
                },
            });
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

    /// Delivers up to `batch` due outbox messages through the notifier. A failure is recorded
    /// and retried with exponential backoff (`outbox_retry_base` × 2ⁿ) until
    /// `outbox_max_attempts`, then marked failed. Each message is claimed and settled in its own
    /// unit of work, so a crash mid-run loses nothing and repeats at most one delivery.
    pub async fn deliver_outbox(&self, batch: u32) -> Result<DeliveryReport> {
        let ctx = Context::system();
        let due: Vec<OutboxMessage> = {
            let mut uow = self.uow(&ctx).await?;
            uow.list(
                &OutboxFilter {
                    status: Some(OutboxStatus::Pending),
                    due_at: Some(uow.now),
                    ..Default::default()
                },
                // Oldest first: a backlog larger than a batch must not starve old messages.
                PageRequest::first(batch).oldest_first(),
            )
            .await?
            .items
        };
        let mut report = DeliveryReport::default();
        for message in due {
            // A refusal (the webhook endpoint is deleted or disabled) says nothing about the
            // receiver, so it does not count on the endpoint's failure run.
            let (outcome, receipt, refused) = match self.prepare_delivery(&message).await? {
                super::webhooks::Prepared::Deliver(prepared) => {
                    let (outcome, receipt) = self.notifier.deliver_with_receipt(&prepared).await;
                    (outcome, receipt, false)
                }
                super::webhooks::Prepared::Refuse(error) => (Err(error), Default::default(), true),
            };
            let mut uow = self.uow(&ctx).await?;
            let Some(mut current) = uow.get(message.id).await? else {
                continue;
            };
            if current.status != OutboxStatus::Pending {
                continue;
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
                        let backoff = self.limits.outbox_retry_base * 2i32.pow(current.attempts.min(16) - 1);
                        current.next_attempt_at = uow.now + backoff;
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
        }
        Ok(report)
    }
}
