-- Users, role profiles and single-use account tokens (DOMAIN.md §3, §5).

CREATE TABLE users (
    id                 UUID PRIMARY KEY,
    email              TEXT NOT NULL CHECK (email = lower(btrim(email)) AND length(email) <= 254),
    password_hash      TEXT NOT NULL,
    first_name         TEXT NOT NULL CHECK (char_length(first_name) BETWEEN 2 AND 80),
    last_name          TEXT NOT NULL CHECK (char_length(last_name) BETWEEN 2 AND 80),
    role               TEXT NOT NULL CHECK (role IN ('admin', 'entrepreneur', 'ally', 'client')),
    status             TEXT NOT NULL CHECK (status IN ('pending_verification', 'active', 'suspended', 'inactive')),
    email_verified_at  TIMESTAMPTZ,
    failed_logins      INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until       TIMESTAMPTZ,
    last_login_at      TIMESTAMPTZ,
    security_stamp     BIGINT NOT NULL DEFAULT 0 CHECK (security_stamp >= 0),
    phone              TEXT CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    timezone           TEXT NOT NULL DEFAULT 'UTC',
    language           TEXT NOT NULL DEFAULT 'es' CHECK (language ~ '^[a-z]{2}$'),
    notify_in_app      BOOLEAN NOT NULL DEFAULT TRUE,
    notify_email       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    created_by         UUID,
    updated_by         UUID,
    version            BIGINT NOT NULL CHECK (version >= 1),
    deleted_at         TIMESTAMPTZ,
    deleted_by         UUID
);
-- One live account per email; a soft-deleted account releases its email.
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE deleted_at IS NULL;
CREATE INDEX users_role_idx ON users (role, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX users_status_created_idx ON users (status, created_at) WHERE deleted_at IS NULL;
