//! Webhook endpoints (`0010_webhooks.sql`).

use icosistem_core::model::{WebhookEndpoint, WebhookSecret};
use icosistem_core::ports::store::WebhookFilter;
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::identity::{bind_meta, filter_eq, meta};
use crate::entity::PgEntity;

impl PgEntity for WebhookEndpoint {
    const TABLE: &'static str = "webhook_endpoints";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "organization_id",
        "url",
        "events",
        "description",
        "active",
        "secret",
        "previous_secret",
        "previous_secret_expires_at",
        "failing_since",
        "last_success_at",
        "last_failure_at",
        "disabled_reason",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.organization_id))
            .push_bind(self.url.clone())
            .push_bind(self.events.clone())
            .push_bind(self.description.clone())
            .push_bind(self.active)
            .push_bind(self.secret.expose().to_owned())
            .push_bind(self.previous_secret.as_ref().map(|s| s.expose().to_owned()))
            .push_bind(self.previous_secret_expires_at)
            .push_bind(self.failing_since)
            .push_bind(self.last_success_at)
            .push_bind(self.last_failure_at)
            .push_bind(self.disabled_reason.clone());
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(WebhookEndpoint {
            id: row.try_get::<Uuid, _>("id")?.into(),
            organization_id: row.try_get::<Uuid, _>("organization_id")?.into(),
            url: row.try_get("url")?,
            events: row.try_get("events")?,
            description: row.try_get("description")?,
            active: row.try_get("active")?,
            secret: WebhookSecret::from_stored(row.try_get::<String, _>("secret")?),
            previous_secret: row
                .try_get::<Option<String>, _>("previous_secret")?
                .map(WebhookSecret::from_stored),
            previous_secret_expires_at: row.try_get("previous_secret_expires_at")?,
            failing_since: row.try_get("failing_since")?,
            last_success_at: row.try_get("last_success_at")?,
            last_failure_at: row.try_get("last_failure_at")?,
            disabled_reason: row.try_get("disabled_reason")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &WebhookFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "organization_id", f.organization_id.map(Uuid::from));
        filter_eq!(qb, "active", f.active);
    }
}
