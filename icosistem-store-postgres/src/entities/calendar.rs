//! Calendar feeds (`0011_calendar_feeds.sql`).

use icosistem_core::model::{CalendarFeed, Meta};
use icosistem_core::ports::store::CalendarFeedFilter;
use sqlx::{Postgres, QueryBuilder};

use crate::entity::PgEntity;
use crate::mapping::{filter_eq, pg_mapping};

impl PgEntity for CalendarFeed {
    pg_mapping! {
        table: "calendar_feeds",
        id: id,
        user_id: id,
        token_hash: value,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[
        ("calendar_feeds_user_id_key", "user_id"),
        ("calendar_feeds_token_hash_key", "token_hash"),
    ];

    fn push_filter(f: &CalendarFeedFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, user_id: id, token_hash: value);
    }
}
