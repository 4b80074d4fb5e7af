-- Messaging (DOMAIN.md §7): conversations, their participants, messages and blocks.
--
-- Unique rules carry the names `PgEntity::UNIQUE` maps to the memory store's fields
-- (`direct_pair`, `context`, `conversation_user`, `blocker_blocked`). A direct conversation's
-- ordered pair is unique, so concurrent opens of one pair insert one row and the others read it.

CREATE TABLE conversations (
    id               UUID PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('direct', 'context')),
    context_type     TEXT CHECK (context_type IN ('mentorship', 'application', 'cohort')),
    context_id       UUID,
    direct_pair      TEXT,
    title            TEXT,
    last_message_at  TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    created_by       UUID,
    updated_by       UUID,
    version          BIGINT NOT NULL CHECK (version >= 1),
    -- A direct conversation names its pair and no context; a context one the reverse.
    CONSTRAINT conversations_shape_check CHECK (
        (kind = 'direct' AND direct_pair IS NOT NULL AND context_type IS NULL AND context_id IS NULL)
        OR (kind = 'context' AND direct_pair IS NULL AND context_type IS NOT NULL AND context_id IS NOT NULL)
    )
);
CREATE UNIQUE INDEX conversations_direct_pair_key ON conversations (direct_pair);
CREATE UNIQUE INDEX conversations_context_key ON conversations (context_type, context_id);

CREATE TABLE conversation_participants (
    id               UUID PRIMARY KEY,
    conversation_id  UUID NOT NULL REFERENCES conversations (id),
    user_id          UUID NOT NULL REFERENCES users (id),
    joined_at        TIMESTAMPTZ NOT NULL,
    last_read_at     TIMESTAMPTZ,
    unread_count     INTEGER NOT NULL CHECK (unread_count >= 0),
    last_emailed_at  TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    created_by       UUID,
    updated_by       UUID,
    version          BIGINT NOT NULL CHECK (version >= 1)
);
-- One seat per user and conversation; also serves "the seats of a conversation".
CREATE UNIQUE INDEX conversation_participants_conversation_user_key
    ON conversation_participants (conversation_id, user_id);
-- "My conversations", paged newest seat first.
CREATE INDEX conversation_participants_user_idx ON conversation_participants (user_id, id DESC);

CREATE TABLE messages (
    id               UUID PRIMARY KEY,
    conversation_id  UUID NOT NULL REFERENCES conversations (id),
    sender_id        UUID NOT NULL REFERENCES users (id),
    body             TEXT NOT NULL CHECK (char_length(body) BETWEEN 1 AND 10000),
    edited_at        TIMESTAMPTZ,
    deleted_at       TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    created_by       UUID,
    updated_by       UUID,
    version          BIGINT NOT NULL CHECK (version >= 1)
);
-- A conversation's messages, newest first (the cursor is the id).
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id DESC);
-- The per-minute limit counts a sender's recent messages.
CREATE INDEX messages_sender_created_idx ON messages (sender_id, created_at);

CREATE TABLE blocks (
    id          UUID PRIMARY KEY,
    blocker_id  UUID NOT NULL REFERENCES users (id),
    blocked_id  UUID NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    created_by  UUID,
    updated_by  UUID,
    version     BIGINT NOT NULL CHECK (version >= 1),
    CONSTRAINT blocks_parties_check CHECK (blocker_id <> blocked_id)
);
CREATE UNIQUE INDEX blocks_blocker_blocked_key ON blocks (blocker_id, blocked_id);
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id);
