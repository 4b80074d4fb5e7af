//! `/api/v2/admin/outbox`: the outbox's dead letters, admins only (docs/domain.md §8). Messages are
//! listed and read without their body or data (one-time tokens live there); failed ones are
//! re-queued one by one or all at once. The core authorizes (`outbox.manage`) before it looks
//! anything up, so a non-admin gets 403 on the whole namespace.

use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{OutboxChannel, OutboxId, OutboxStatus};

use super::finish;
use super::kit::{NoBody, NoId, PathId, api, filter_query, lists, routes};
use crate::dto::{OptionalJson, OutboxMessageDto, PageDto, RequeuedDto, RetryOutboxRequest};

filter_query! {
    /// `GET /api/v2/admin/outbox` filters.
    pub(crate) struct OutboxQuery {
        /// `pending`, `sent` or `failed` (the dead letters).
        status: OutboxStatus,
        /// `email` or `webhook`.
        channel: OutboxChannel,
    } => (Option<OutboxStatus>, Option<OutboxChannel>), (status, channel)
}

/// The channel of a re-queue-all body (422 naming `channel` when unknown).
fn retry_channel(body: RetryOutboxRequest) -> Result<Option<OutboxChannel>, crate::error::ApiError> {
    let mut errors = ValidationErrors::new();
    let channel = crate::dto::parse::body_enum(&mut errors, "channel", body.channel.as_deref());
    finish(errors)?;
    Ok(channel)
}

lists! {
    tag = "admin";
    /// Lists outbox messages, newest first (`?status=failed&channel`), without bodies.
    admin_list_outbox: "/api/v2/admin/outbox", NoId, OutboxQuery => OutboxMessageDto, [Forbidden],
        |eco, ctx, NoId, (status, channel), page| eco.list_outbox(ctx, status, channel, page);
}

routes! {
    tag = "admin";
    /// One outbox message, without its body.
    admin_get_outbox_message: get "/api/v2/admin/outbox/{id}", PathId<OutboxId>, NoIfMatch, none
        => etag(200, "The message, its version as `ETag`", OutboxMessageDto) [Forbidden, NotFound],
        |eco, ctx, PathId(id), _, NoBody| eco.get_outbox_message(ctx, id);
    /// Re-queues a failed message: pending, due now, attempts from zero (409
    /// `invalid_transition` unless it is failed). Audited as `outbox.retry`.
    admin_retry_outbox_message: post "/api/v2/admin/outbox/{id}/retry", PathId<OutboxId>, NoIfMatch, none
        => etag(200, "The re-queued message", OutboxMessageDto) [Forbidden, NotFound, Conflict],
        |eco, ctx, PathId(id), _, NoBody| eco.retry_outbox_message(ctx, id);
    /// Re-queues every failed message (of `channel`, when given); answers how many. Each is
    /// audited as `outbox.retry`.
    admin_retry_outbox: post "/api/v2/admin/outbox/retry", NoId, NoIfMatch,
        optional<RetryOutboxRequest, "Optional: only the failed messages of this channel">
        => json(200, "How many messages were re-queued", RequeuedDto) [Forbidden, BadBody],
        |eco, ctx, NoId, _, OptionalJson(b)| eco.retry_failed_outbox(ctx, retry_channel(b)?);
}

api!([
    admin_list_outbox,
    admin_retry_outbox,
    admin_get_outbox_message,
    admin_retry_outbox_message,
]);
