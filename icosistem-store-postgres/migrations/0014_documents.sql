-- Documents (DOMAIN.md §6): files attached to exactly one project, application, milestone or
-- session. The bytes live in the blob store under `storage_key` (made by the core, never from
-- client input); these rows are the metadata, written in the unit of work of the audit event.
-- `documents` holds each document with its current version's file; `document_versions` keeps
-- every version (append-only), so earlier versions stay readable and the orphan sweep can tell
-- a blob with metadata from one without (`document_versions_storage_key_key`).

CREATE TABLE documents (
    id            UUID PRIMARY KEY,
    owner_id      UUID NOT NULL REFERENCES users (id),
    -- The parent is polymorphic (four tables), so it carries no foreign key; the core loads it
    -- before every write.
    parent_type   TEXT NOT NULL CHECK (parent_type IN ('project', 'application', 'milestone', 'session')),
    parent_id     UUID NOT NULL,
    title         TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 300),
    description   TEXT,
    document_type TEXT NOT NULL CHECK (document_type IN ('business_plan', 'pitch_deck', 'financial_model',
        'market_research', 'legal_document', 'contract', 'report', 'presentation', 'spreadsheet', 'image', 'other')),
    access        TEXT NOT NULL CHECK (access IN ('private', 'organization', 'public')),
    blind_safe    BOOLEAN NOT NULL,
    file_version  INTEGER NOT NULL CHECK (file_version >= 1),
    filename      TEXT NOT NULL CHECK (filename <> ''),
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL CHECK (size >= 1),
    sha256        TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key   TEXT NOT NULL CHECK (storage_key <> ''),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    created_by    UUID,
    updated_by    UUID,
    version       BIGINT NOT NULL CHECK (version >= 1),
    deleted_at    TIMESTAMPTZ,
    deleted_by    UUID
);
-- A parent's live documents, newest first (the API's list, and the per-project count under the
-- project's lock).
CREATE INDEX documents_parent_idx ON documents (parent_type, parent_id, id DESC) WHERE deleted_at IS NULL;
-- What a user uploaded (the owner filter).
CREATE INDEX documents_owner_idx ON documents (owner_id, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE document_versions (
    id            UUID PRIMARY KEY,
    document_id   UUID NOT NULL REFERENCES documents (id),
    number        INTEGER NOT NULL CHECK (number >= 1),
    filename      TEXT NOT NULL CHECK (filename <> ''),
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL CHECK (size >= 1),
    sha256        TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key   TEXT NOT NULL CHECK (storage_key <> ''),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    created_by    UUID,
    updated_by    UUID,
    version       BIGINT NOT NULL CHECK (version >= 1)
);
-- A document's versions (newest first by id) and one row per number.
CREATE UNIQUE INDEX document_versions_document_number_key ON document_versions (document_id, number);
CREATE INDEX document_versions_document_idx ON document_versions (document_id, id DESC);
-- The orphan sweep's lookup by blob key.
CREATE UNIQUE INDEX document_versions_storage_key_key ON document_versions (storage_key);
