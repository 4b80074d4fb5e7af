//! Organizations and their members.

use icosistem_core::model::value::{Email, Name, Slug, Url};
use icosistem_core::model::{Organization, OrganizationMember};
use icosistem_core::ports::store::{MemberFilter, OrganizationFilter};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder, Row};

use super::identity::{bind_deletion, bind_meta, deletion, filter_eq, meta};
use crate::entity::{PgEntity, parse, parse_opt};

impl PgEntity for Organization {
    const TABLE: &'static str = "organizations";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "name",
        "slug",
        "organization_type",
        "status",
        "is_public",
        "allow_applications",
        "email",
        "website",
        "tax_id",
        "description",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
        "deleted_at",
        "deleted_by",
    ];
    const SOFT_DELETE: bool = true;
    const UNIQUE: &'static [(&'static str, &'static str)] = &[
        ("organizations_slug_key", "slug"),
        ("organizations_tax_id_key", "tax_id"),
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(self.name.as_str().to_owned())
            .push_bind(self.slug.as_str().to_owned())
            .push_bind(self.organization_type.as_str())
            .push_bind(self.status.as_str())
            .push_bind(self.is_public)
            .push_bind(self.allow_applications)
            .push_bind(self.email.as_ref().map(|e| e.as_str().to_owned()))
            .push_bind(self.website.as_ref().map(|w| w.as_str().to_owned()))
            .push_bind(self.tax_id.clone())
            .push_bind(self.description.clone());
        bind_meta(&self.meta, row);
        bind_deletion(&self.deletion, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Organization {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            name: parse::<Name>(row, "name")?,
            slug: parse::<Slug>(row, "slug")?,
            organization_type: parse(row, "organization_type")?,
            status: parse(row, "status")?,
            is_public: row.try_get("is_public")?,
            allow_applications: row.try_get("allow_applications")?,
            email: parse_opt::<Email>(row, "email")?,
            website: parse_opt::<Url>(row, "website")?,
            tax_id: row.try_get("tax_id")?,
            description: row.try_get("description")?,
            meta: meta(row)?,
            deletion: deletion(row)?,
        })
    }

    fn push_filter(f: &OrganizationFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
        filter_eq!(qb, "organization_type", f.organization_type.map(|t| t.as_str()));
        filter_eq!(qb, "is_public", f.is_public);
        filter_eq!(qb, "slug", f.slug.as_ref().map(|s| s.as_str().to_owned()));
    }

    fn include_deleted(f: &OrganizationFilter) -> bool {
        f.include_deleted
    }

    fn lock_key(f: &OrganizationFilter) -> Option<String> {
        f.slug.as_ref().map(|s| format!("slug:{s}"))
    }
}

impl PgEntity for OrganizationMember {
    const TABLE: &'static str = "organization_members";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "organization_id",
        "user_id",
        "role",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] =
        &[("organization_members_organization_user_key", "organization_user")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(uuid::Uuid::from(self.organization_id))
            .push_bind(uuid::Uuid::from(self.user_id))
            .push_bind(self.role.as_str());
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(OrganizationMember {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            organization_id: row.try_get::<uuid::Uuid, _>("organization_id")?.into(),
            user_id: row.try_get::<uuid::Uuid, _>("user_id")?.into(),
            role: parse(row, "role")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &MemberFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "organization_id", f.organization_id.map(uuid::Uuid::from));
        filter_eq!(qb, "user_id", f.user_id.map(uuid::Uuid::from));
        filter_eq!(qb, "role", f.role.map(|r| r.as_str()));
    }
}
