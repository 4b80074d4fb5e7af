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

-- One role profile per user (admins have none). `Profile` is keyed by its user's id, so `id` is
-- both the primary key and the reference to `users` (the generic repository addresses every
-- table by `id`). The role-specific data stays one JSONB document (its shape is the core's
-- `ProfileData`, tagged by `kind`); the ally fields the directory filters on are copied into
-- plain columns written from the same value on every write, so `?available` and
-- `?specialization` use indexes and compare exactly as the core does.
CREATE TABLE profiles (
    id              UUID PRIMARY KEY REFERENCES users (id),
    role            TEXT NOT NULL CHECK (role IN ('entrepreneur', 'ally', 'client')),
    data            JSONB NOT NULL,
    -- The ally's "open to new mentees" flag; NULL for other roles, so `available = $1` never
    -- matches them (the core's filter selects ally profiles only).
    available       BOOLEAN,
    -- The ally's specializations and primary expertise, trimmed and lower-cased by the core's
    -- own rules in Rust (`str::trim`, `str::to_lowercase`), so a lookup compares exactly like
    -- `ProfileFilter::specialization`; empty for other roles.
    expertise_keys  TEXT[] NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    created_by      UUID,
    updated_by      UUID,
    version         BIGINT NOT NULL CHECK (version >= 1),
    CONSTRAINT profiles_data_check CHECK (jsonb_typeof(data) = 'object' AND data ->> 'kind' = role),
    CONSTRAINT profiles_ally_columns_check CHECK (
        (role = 'ally') = (available IS NOT NULL)
        AND (role = 'ally' OR cardinality(expertise_keys) = 0)
    ),
    -- The ally limits of DOMAIN.md §3, checked by the core on every profile edit.
    CONSTRAINT profiles_ally_ranges_check CHECK (
        role <> 'ally'
        OR (
            available = (data ->> 'available')::boolean
            AND (data ->> 'max_mentees')::integer BETWEEN 0 AND 20
            AND (data ->> 'session_duration_minutes')::integer BETWEEN 15 AND 240
        )
    )
);
CREATE INDEX profiles_role_idx ON profiles (role, id DESC);
-- The ally directory: `?available=true` and `?specialization=` (any element of the array).
CREATE INDEX profiles_ally_available_idx ON profiles (available, id DESC) WHERE role = 'ally';
CREATE INDEX profiles_ally_expertise_idx ON profiles USING GIN (expertise_keys) WHERE role = 'ally';

-- Single-use email tokens (verification 48 h, password reset 1 h). Only the SHA-256 of the
-- token is stored, as the core's lower-case hex.
CREATE TABLE account_tokens (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('email_verification', 'password_reset')),
    token_hash  TEXT NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    created_by  UUID,
    updated_by  UUID,
    version     BIGINT NOT NULL CHECK (version >= 1)
);
-- A hash names one token forever (used and expired tokens keep theirs), so it is unique among
-- all rows, not only the usable ones.
CREATE UNIQUE INDEX account_tokens_token_hash_key ON account_tokens (token_hash);
-- A user's tokens of one purpose (revoking the older usable ones when a new one is issued).
CREATE INDEX account_tokens_user_purpose_idx ON account_tokens (user_id, purpose, id DESC);
