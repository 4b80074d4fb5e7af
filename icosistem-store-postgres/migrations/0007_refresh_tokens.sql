-- Refresh tokens of signed-in sessions (DOMAIN.md §5): opaque, stored as the core's lower-case
-- hex SHA-256, rotated on every use within a family; reuse, logout or a stale security stamp
-- revoke the family.

CREATE TABLE refresh_tokens (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users (id),
    family_id       UUID NOT NULL,
    token_hash      TEXT NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ,
    security_stamp  BIGINT NOT NULL CHECK (security_stamp >= 0),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    created_by      UUID,
    updated_by      UUID,
    version         BIGINT NOT NULL CHECK (version >= 1)
);
-- A hash names one token forever (used, revoked and expired tokens keep theirs). The index name
-- is what the store maps a violation to (`Conflict { field: "token_hash" }`).
CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON refresh_tokens (token_hash);
-- Revoking a family (logout, reuse) and listing a user's sessions.
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id, id DESC);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id, id DESC);
