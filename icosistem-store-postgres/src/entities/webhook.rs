//! Webhook endpoints (`0010_webhooks.sql`).

use icosistem_core::model::{Meta, WebhookEndpoint, WebhookSecret};
use icosistem_core::ports::store::WebhookFilter;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::entity::PgEntity;
use crate::mapping::{filter_eq, pg_mapping};

/// A secret as stored (the column holds it as the core keeps it).
fn stored(secret: &WebhookSecret) -> String {
    secret.expose().to_owned()
}

fn secret(row: &PgRow, column: &'static str) -> Result<WebhookSecret, sqlx::Error> {
    Ok(WebhookSecret::from_stored(row.try_get::<String, _>(column)?))
}

fn stored_opt(secret: &Option<WebhookSecret>) -> Option<String> {
    secret.as_ref().map(stored)
}

fn secret_opt(row: &PgRow, column: &'static str) -> Result<Option<WebhookSecret>, sqlx::Error> {
    Ok(row
        .try_get::<Option<String>, _>(column)?
        .map(WebhookSecret::from_stored))
}

impl PgEntity for WebhookEndpoint {
    pg_mapping! {
        table: "webhook_endpoints",
        id: id,
        organization_id: id,
        url: value,
        events: value,
        description: value,
        active: value,
        secret: with(stored, secret),
        previous_secret: with(stored_opt, secret_opt),
        previous_secret_expires_at: value,
        failing_since: value,
        last_success_at: value,
        last_failure_at: value,
        disabled_reason: value,
        meta: nested(Meta),
    }

    fn push_filter(f: &WebhookFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, organization_id: id, active: value);
    }
}
