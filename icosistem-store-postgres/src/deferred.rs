//! Rows of append-only tables, written at the end of the unit of work in one statement.
//!
//! Almost every command writes, besides its own rows, an audit event, a notification or two and
//! their outbox messages. Nothing reads those rows back in the unit that writes them, and their
//! tables have no unique key but the id (a fresh UUIDv7): such an insert cannot be refused for
//! anything the unit could still handle. So instead of one round trip each, a unit keeps them
//! ([`Deferred`]) and sends them all as one statement — a multi-row `INSERT`, or data-modifying
//! `WITH` parts of one statement when there are several tables — right before `COMMIT`. A unit
//! that wrote nothing else sends that statement alone, in autocommit (one statement is atomic by
//! itself): no `BEGIN`, no `COMMIT`.
//!
//! The rows are sent earlier, inside the transaction, when the unit reads or changes a table that
//! has some waiting or runs an aggregate (whose SQL may read any table): read-your-writes holds.
//! They are also sent when they would bind more parameters than [`MAX_BINDS`]. A unit dropped
//! before it commits never sends them, as a rollback would undo them. A row the database refuses
//! at the end (one of the table's checks) fails the commit, and with it the whole unit. These
//! tables have no foreign keys (migration 0017): a key check would share-lock the recipient and
//! the organization on every command.

use icosistem_core::StoreError;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder};

use crate::entity::PgEntity;

/// Parameters one deferred statement binds at most (PostgreSQL's limit is 65,535).
pub(crate) const MAX_BINDS: usize = 16_000;

/// Rows a deferred statement may hold and still be kept prepared on its connection.
pub(crate) const PREPARED_ROWS_MAX: usize = 16;

/// Binds one row's values, as [`PgEntity::bind_row`] does for the entity it was made from.
type BindRow = Box<dyn FnOnce(&mut Separated<'_, Postgres, &'static str>) + Send + Sync>;

/// The waiting rows of one table.
struct Rows {
    table: &'static str,
    kind: &'static str,
    /// `INSERT INTO <table> (<columns>) VALUES ` (`entity::insert_head`).
    head: String,
    /// Parameters one row binds: its columns.
    width: usize,
    rows: Vec<BindRow>,
}

/// What a deferred statement sends of one table: the table, its entity's kind (to name the one
/// a refusal is about) and how many rows.
pub(crate) type Sent = (&'static str, &'static str, usize);

/// The rows a unit of work has not sent yet, table by table in the order it first wrote each.
#[derive(Default)]
pub(crate) struct Deferred {
    tables: Vec<Rows>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for t in &self.tables {
            map.entry(&t.table, &t.rows.len());
        }
        map.finish()
    }
}

impl Deferred {
    /// Whether no row waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Whether rows of `table` wait.
    pub(crate) fn holds(&self, table: &str) -> bool {
        self.tables.iter().any(|t| t.table == table)
    }

    /// Whether one more row of `E` would bind more than [`MAX_BINDS`] parameters.
    pub(crate) fn full_for<E: PgEntity>(&self) -> bool {
        let binds: usize = self.tables.iter().map(|t| t.width * t.rows.len()).sum();
        binds + E::COLUMNS.len() > MAX_BINDS
    }

    /// Keeps `entity` to be inserted later.
    pub(crate) fn push<E: PgEntity>(&mut self, entity: &E) {
        let row = entity.clone();
        let bind: BindRow = Box::new(move |values| row.bind_row(values));
        match self.tables.iter_mut().find(|t| t.table == E::TABLE) {
            Some(rows) => rows.rows.push(bind),
            None => self.tables.push(Rows {
                table: E::TABLE,
                kind: E::KIND,
                head: crate::entity::insert_head::<E>(),
                width: E::COLUMNS.len(),
                rows: vec![bind],
            }),
        }
    }

    /// The one statement that inserts every waiting row (none wait after it), and what it
    /// sends of each table; `None` when nothing waits.
    pub(crate) fn take_statement(&mut self) -> Option<(QueryBuilder<Postgres>, Vec<Sent>)> {
        let tables = std::mem::take(&mut self.tables);
        if tables.is_empty() {
            return None;
        }
        let kinds = tables.iter().map(|t| (t.table, t.kind, t.rows.len())).collect();
        let count = tables.len();
        let mut qb = QueryBuilder::new("");
        for (at, rows) in tables.into_iter().enumerate() {
            // Every table but the last is a part of the `WITH`: PostgreSQL runs each such part
            // exactly once, to completion, whether or not the main statement reads it.
            if at + 1 < count {
                qb.push(if at == 0 { "WITH " } else { ", " });
                qb.push(format!("w{at} AS ("));
            } else if count > 1 {
                qb.push(" ");
            }
            qb.push(rows.head);
            for (n, bind) in rows.rows.into_iter().enumerate() {
                qb.push(if n == 0 { "(" } else { ", (" });
                bind(&mut qb.separated(", "));
                qb.push(")");
            }
            if at + 1 < count {
                qb.push(")");
            }
        }
        Some((qb, kinds))
    }
}

/// The error a deferred statement's failure becomes: a unique violation names the entity of
/// the table it happened in (only an id can collide there), anything else is the database's.
pub(crate) fn map_deferred_error(error: sqlx::Error, sent: &[Sent]) -> StoreError {
    if let sqlx::Error::Database(db) = &error
        && db.code().as_deref() == Some("23505")
    {
        let table = db.table().unwrap_or_default();
        if let Some((_, kind, _)) = sent.iter().find(|(t, ..)| *t == table) {
            return StoreError::Conflict {
                entity: kind,
                field: "id",
            };
        }
    }
    crate::error::unavailable_or_backend(error)
}
