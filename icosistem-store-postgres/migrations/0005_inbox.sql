-- In-app notifications, the outbox of messages for other channels, and the append-only audit log
-- (DOMAIN.md §3). All three are written in the unit of work of the change that caused them.
--
-- Checks state what the core guarantees, never more: a row the core can write must never be
-- refused here (the memory store would accept it, and both stores answer alike). Lengths the
-- core does not enforce (a notification title is built from names) are not checked.

CREATE TABLE notifications (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL CHECK (kind <> ''),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    data        JSONB NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('unread', 'read', 'archived')),
    read_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    created_by  UUID,
    updated_by  UUID,
    version     BIGINT NOT NULL CHECK (version >= 1),
    -- Reading (or archiving unread) stamps `read_at` once; it is never cleared.
    CONSTRAINT notifications_read_at_check CHECK ((status = 'unread') = (read_at IS NULL))
);
-- A user's inbox, optionally by state, newest first (the API's list and the unread count).
CREATE INDEX notifications_user_status_idx ON notifications (user_id, status, id DESC);
CREATE INDEX notifications_kind_idx ON notifications (kind, id DESC);
-- The archiving job: read notifications read at or before a cut-off.
CREATE INDEX notifications_read_at_idx ON notifications (read_at) WHERE status = 'read';

CREATE TABLE outbox_messages (
    id               UUID PRIMARY KEY,
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    user_id          UUID REFERENCES users (id),
    recipient        TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind <> ''),
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    data             JSONB NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    -- BIGINT holds every u32 without a cast that could wrap.
    attempts         BIGINT NOT NULL CHECK (attempts BETWEEN 0 AND 4294967295),
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    sent_at          TIMESTAMPTZ,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    created_by       UUID,
    updated_by       UUID,
    version          BIGINT NOT NULL CHECK (version >= 1),
    -- Delivered exactly when stamped; settling (sent or failed) counts the attempt that did it.
    CONSTRAINT outbox_messages_sent_at_check CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CONSTRAINT outbox_messages_settled_check CHECK (status = 'pending' OR attempts >= 1)
);
-- The dispatcher: pending messages due now, oldest first (`ORDER BY id ASC`). The first index
-- answers the due test, the second walks pending ids in order when most of them are due.
CREATE INDEX outbox_messages_due_idx ON outbox_messages (status, next_attempt_at);
CREATE INDEX outbox_messages_status_idx ON outbox_messages (status, id);
CREATE INDEX outbox_messages_user_idx ON outbox_messages (user_id, id DESC) WHERE user_id IS NOT NULL;
CREATE INDEX outbox_messages_kind_idx ON outbox_messages (kind, id DESC);

-- Append-only: no version, no tracking columns (the event is its own record of who and when).
-- `target_id` names a row of any table (`target_kind` says which), so it cannot be a foreign
-- key; actor and organization can. Users and organizations are only ever soft-deleted, so these
-- keys never block a use case.
CREATE TABLE audit_events (
    id               UUID PRIMARY KEY,
    actor_id         UUID REFERENCES users (id),
    actor_kind       TEXT NOT NULL CHECK (actor_kind IN ('user', 'anonymous', 'system')),
    action           TEXT NOT NULL CHECK (action <> ''),
    target_kind      TEXT NOT NULL CHECK (target_kind <> ''),
    target_id        UUID NOT NULL,
    organization_id  UUID REFERENCES organizations (id),
    before           JSONB,
    after            JSONB,
    request_id       TEXT,
    -- TEXT, not INET: the core keeps whatever the adapter saw (a proxy may hand over a name).
    ip               TEXT,
    at               TIMESTAMPTZ NOT NULL,
    -- A signed-in actor always has an id; anonymous and system ones never do.
    CONSTRAINT audit_events_actor_check CHECK ((actor_kind = 'user') = (actor_id IS NOT NULL))
);
-- `?actor_id`, `?target_id`, `?action` and an organization's slice, each newest first; `?from&to`.
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, id DESC) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_events_target_idx ON audit_events (target_id, id DESC);
CREATE INDEX audit_events_action_idx ON audit_events (action, id DESC);
CREATE INDEX audit_events_organization_idx ON audit_events (organization_id, id DESC)
    WHERE organization_id IS NOT NULL;
CREATE INDEX audit_events_at_idx ON audit_events (at);

-- The log is evidence: once written, an event is neither changed nor removed. The core never
-- does either; this makes it true for every other client of the database too. (An operator who
-- must erase data lawfully can `ALTER TABLE audit_events DISABLE TRIGGER` for that session.)
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
