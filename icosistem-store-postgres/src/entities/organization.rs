//! Organizations and their members.

use icosistem_core::model::{Deletion, Meta, Organization, OrganizationMember};
use icosistem_core::ports::store::{MemberFilter, OrganizationFilter};
use sqlx::{Postgres, QueryBuilder};

use crate::entity::PgEntity;
use crate::mapping::{filter_eq, pg_mapping};

impl PgEntity for Organization {
    pg_mapping! {
        table: "organizations",
        id: id,
        name: text,
        slug: text,
        organization_type: text,
        status: text,
        is_public: value,
        allow_applications: value,
        email: opt_text,
        website: opt_text,
        tax_id: value,
        description: value,
        meta: nested(Meta),
        deletion: nested(Deletion),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[
        ("organizations_slug_key", "slug"),
        ("organizations_tax_id_key", "tax_id"),
    ];

    fn push_filter(f: &OrganizationFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, status: text, organization_type: text, is_public: value, slug: text);
    }

    fn include_deleted(f: &OrganizationFilter) -> bool {
        f.include_deleted
    }

    fn lock_key(f: &OrganizationFilter) -> Option<String> {
        f.slug.as_ref().map(|s| format!("slug:{s}"))
    }
}

impl PgEntity for OrganizationMember {
    pg_mapping! {
        table: "organization_members",
        id: id,
        organization_id: id,
        user_id: id,
        role: text,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] =
        &[("organization_members_organization_user_key", "organization_user")];

    fn push_filter(f: &MemberFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, organization_id: id, user_id: id, role: text);
    }
}
