-- Private calendar feeds (issue #12 "Calendars"): `GET /api/v2/calendar/{token}.ics` lists a
-- user's sessions and meetings to calendar apps. The token in the URL is the only credential,
-- so only its SHA-256 is kept, as for account and refresh tokens. One feed per user: rotating
-- replaces the hash in place (the old URL stops working at once), revoking deletes the row.

CREATE TABLE calendar_feeds (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    created_by  UUID,
    updated_by  UUID,
    version     BIGINT NOT NULL CHECK (version >= 1)
);
CREATE UNIQUE INDEX calendar_feeds_user_id_key ON calendar_feeds (user_id);
CREATE UNIQUE INDEX calendar_feeds_token_hash_key ON calendar_feeds (token_hash);
