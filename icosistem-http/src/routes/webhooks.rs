//! `/api/v2/organizations/{id}/webhooks` and `/api/v2/webhooks`: an organization's webhook
//! endpoints (its owners and admins), their secrets, test events and delivery log.

use icosistem_core::model::{OrganizationId, WebhookId};
use icosistem_core::service::UpdateWebhook;

use super::PageQuery;
use super::kit::{PathId, api, input, lists, reads, routes};
use crate::dto::{
    ApiJson, CreateWebhookRequest, PageDto, UpdateWebhookRequest, WebhookDeliveryDto, WebhookDto, WebhookSecretDto,
};

lists! {
    tag = "webhooks";
    /// Lists an organization's webhook endpoints, newest first (its owners and admins).
    list_webhooks: "/api/v2/organizations/{id}/webhooks", PathId<OrganizationId>, PageQuery => WebhookDto, [Forbidden, NotFound],
        |eco, ctx, PathId(id), (), page| eco.list_webhooks(ctx, id, page);
    /// The delivery log of an endpoint, newest first: state, attempts, last response code and
    /// latency of each event (no bodies, no signatures).
    list_webhook_deliveries: "/api/v2/webhooks/{id}/deliveries", PathId<WebhookId>, PageQuery => WebhookDeliveryDto, [Forbidden, NotFound],
        |eco, ctx, PathId(id), (), page| eco.list_webhook_deliveries(ctx, id, page);
}

routes! {
    tag = "webhooks";
    /// Registers a webhook endpoint (the organization's owners and admins). The answer carries
    /// the signing `secret`, shown only this once.
    create_webhook: post "/api/v2/organizations/{id}/webhooks", PathId<OrganizationId>, NoIfMatch, json<CreateWebhookRequest>
        => etag(201, "Created; `secret` is shown only here", WebhookSecretDto) [Forbidden, NotFound, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| eco.create_webhook(ctx, id, input(b)?);
    /// Changes an endpoint's URL, events, description or `active` flag (disable: `false`).
    update_webhook: patch "/api/v2/webhooks/{id}", PathId<WebhookId>, IfMatch, json<UpdateWebhookRequest>
        => etag(200, "The updated endpoint", WebhookDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| eco.update_webhook(ctx, id, UpdateWebhook { version, ..b.into() });
    /// Removes an endpoint; its queued events are not sent.
    delete_webhook: delete "/api/v2/webhooks/{id}", PathId<WebhookId>, NoIfMatch, none
        => empty(204, "Deleted") [Forbidden, NotFound],
        |eco, ctx, PathId(id), _, _| eco.delete_webhook(ctx, id);
    /// Replaces the signing secret; the previous one keeps signing for the overlap window
    /// (`Limits::webhook_secret_overlap`). The answer carries the new `secret`, shown only here.
    rotate_webhook_secret: post "/api/v2/webhooks/{id}/rotate-secret", PathId<WebhookId>, NoIfMatch, none
        => etag(200, "The endpoint with its new secret", WebhookSecretDto) [Forbidden, NotFound],
        |eco, ctx, PathId(id), _, _| eco.rotate_webhook_secret(ctx, id);
    /// Queues a `webhook.test` event to an active endpoint (409 `invalid_transition` when it is
    /// disabled).
    test_webhook: post "/api/v2/webhooks/{id}/test", PathId<WebhookId>, NoIfMatch, none
        => json(202, "The queued test delivery", WebhookDeliveryDto) [Forbidden, NotFound, Conflict],
        |eco, ctx, PathId(id), _, _| eco.send_test_webhook(ctx, id);
}

reads! {
    tag = "webhooks";
    /// One webhook endpoint, without its secret.
    get_webhook: "/api/v2/webhooks/{id}", WebhookId => WebhookDto, |eco, ctx, id| eco.get_webhook(ctx, id);
}

api!(
    [
        list_webhooks,
        create_webhook,
        get_webhook,
        update_webhook,
        delete_webhook,
        rotate_webhook_secret,
        test_webhook,
        list_webhook_deliveries,
    ],
    components(
        schemas(
            WebhookDto,
            WebhookSecretDto,
            WebhookDeliveryDto,
            CreateWebhookRequest,
            UpdateWebhookRequest,
            PageDto<WebhookDto>,
            PageDto<WebhookDeliveryDto>,
        ),
    ),
    tags((
        name = "webhooks",
        description = "An organization's webhook endpoints, their secrets and delivery log"
    ))
);
