-- Organizations (the tenants) and their members (DOMAIN.md §2, §3).
--
-- Checks state what the core guarantees, never more: a row the core can write must never be
-- refused here. Text lengths are those the core validates (names 2–200, slugs ≤ 100 …).

CREATE TABLE organizations (
    id                  UUID PRIMARY KEY,
    name                TEXT NOT NULL CHECK (char_length(name) BETWEEN 2 AND 200),
    slug                TEXT NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    organization_type   TEXT NOT NULL CHECK (organization_type IN (
                            'incubator', 'accelerator', 'university', 'research_center', 'corporation',
                            'government', 'ngo', 'foundation', 'venture_capital', 'angel_network',
                            'startup_hub', 'coworking', 'consultancy', 'other')),
    status              TEXT NOT NULL CHECK (status IN (
                            'pending', 'active', 'verified', 'partner', 'suspended', 'inactive')),
    is_public           BOOLEAN NOT NULL,
    allow_applications  BOOLEAN NOT NULL,
    email               TEXT CHECK (email = lower(btrim(email)) AND length(email) <= 254),
    website             TEXT CHECK (website ~ '^https?://' AND char_length(website) <= 2048),
    tax_id              TEXT CHECK (char_length(tax_id) BETWEEN 5 AND 50),
    description         TEXT CHECK (char_length(description) <= 5000),
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    created_by          UUID,
    updated_by          UUID,
    version             BIGINT NOT NULL CHECK (version >= 1),
    deleted_at          TIMESTAMPTZ,
    deleted_by          UUID
);
-- Slugs and tax ids are unique among live organizations; deleting one releases both.
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX organizations_tax_id_key ON organizations (tax_id)
    WHERE deleted_at IS NULL AND tax_id IS NOT NULL;
-- The list filters (`status`, `organization_type`, `is_public`), each newest first.
CREATE INDEX organizations_status_idx ON organizations (status, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX organizations_type_idx ON organizations (organization_type, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX organizations_public_idx ON organizations (is_public, id DESC) WHERE deleted_at IS NULL;

-- Memberships are removed for good (`Repo::delete`): nothing refers to them.
CREATE TABLE organization_members (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations (id),
    user_id          UUID NOT NULL REFERENCES users (id),
    role             TEXT NOT NULL CHECK (role IN ('owner', 'coordinator', 'reviewer')),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    created_by       UUID,
    updated_by       UUID,
    version          BIGINT NOT NULL CHECK (version >= 1)
);
-- A user is a member of an organization once, whatever the role.
CREATE UNIQUE INDEX organization_members_organization_user_key ON organization_members (organization_id, user_id);
-- An organization's members newest first (a role filter only rechecks a handful of rows), and a
-- user's memberships. The unfiltered lists of every table walk the primary key backwards.
CREATE INDEX organization_members_organization_idx ON organization_members (organization_id, id DESC);
CREATE INDEX organization_members_user_idx ON organization_members (user_id, id DESC);
