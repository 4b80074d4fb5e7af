-- Webhook endpoints of an organization (DOMAIN.md §8). Their events travel through the outbox
-- (`outbox_messages`, channel `webhook`, `data.webhook_id` naming the endpoint), so the delivery
-- log of an endpoint is a query on the outbox, indexed below.
--
-- Secrets are stored as they are: signing needs them (an HMAC key cannot be hashed away).

CREATE TABLE webhook_endpoints (
    id                          UUID PRIMARY KEY,
    organization_id             UUID NOT NULL REFERENCES organizations (id),
    url                         TEXT NOT NULL CHECK (url <> ''),
    events                      TEXT[] NOT NULL CHECK (cardinality(events) >= 1),
    description                 TEXT NOT NULL,
    active                      BOOLEAN NOT NULL,
    secret                      TEXT NOT NULL CHECK (secret <> ''),
    previous_secret             TEXT,
    previous_secret_expires_at  TIMESTAMPTZ,
    failing_since               TIMESTAMPTZ,
    last_success_at             TIMESTAMPTZ,
    last_failure_at             TIMESTAMPTZ,
    disabled_reason             TEXT,
    created_at                  TIMESTAMPTZ NOT NULL,
    updated_at                  TIMESTAMPTZ NOT NULL,
    created_by                  UUID,
    updated_by                  UUID,
    version                     BIGINT NOT NULL CHECK (version >= 1),
    -- A rotation sets both; nothing clears one without the other.
    CONSTRAINT webhook_endpoints_previous_secret_check
        CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);
-- An organization's endpoints (the API's list) and its active ones (every audited event of it).
CREATE INDEX webhook_endpoints_organization_idx ON webhook_endpoints (organization_id, active, id DESC);

-- The delivery log of one endpoint, newest first.
CREATE INDEX outbox_messages_webhook_idx ON outbox_messages ((data ->> 'webhook_id'), id DESC)
    WHERE channel = 'webhook';
