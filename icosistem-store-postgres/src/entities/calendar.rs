//! Calendar feeds (`0011_calendar_feeds.sql`).

use icosistem_core::model::CalendarFeed;
use icosistem_core::ports::store::CalendarFeedFilter;
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::identity::{bind_meta, filter_eq, meta};
use crate::entity::PgEntity;

impl PgEntity for CalendarFeed {
    const TABLE: &'static str = "calendar_feeds";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "user_id",
        "token_hash",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[
        ("calendar_feeds_user_id_key", "user_id"),
        ("calendar_feeds_token_hash_key", "token_hash"),
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.user_id))
            .push_bind(self.token_hash.clone());
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(CalendarFeed {
            id: row.try_get::<Uuid, _>("id")?.into(),
            user_id: row.try_get::<Uuid, _>("user_id")?.into(),
            token_hash: row.try_get("token_hash")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &CalendarFeedFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "user_id", f.user_id.map(Uuid::from));
        filter_eq!(qb, "token_hash", f.token_hash.clone());
    }
}
