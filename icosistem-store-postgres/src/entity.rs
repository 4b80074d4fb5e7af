//! The mapping of an entity to its table and the generic repository built on it.

use std::str::FromStr;

use icosistem_core::StoreError;
use icosistem_core::ports::store::{Entity, Order, Page, PageRequest, Repo};
use sqlx::postgres::{PgArguments, PgQueryResult, PgRow};
use sqlx::query::Query;
use sqlx::query_builder::Separated;
use sqlx::{Executor, Postgres, QueryBuilder, Row};

use crate::PgTx;
use crate::error::{decode_error, map_error, unavailable_or_backend};

/// How one entity lives in PostgreSQL. Implemented for every entity of the core; the generic
/// [`Repo`] implementation of [`PgTx`] is written once against it.
pub trait PgEntity: Entity {
    /// The table.
    const TABLE: &'static str;
    /// Every column, `id` first, in the order [`PgEntity::bind_row`] binds them.
    const COLUMNS: &'static [&'static str];
    /// The table has `deleted_at`: soft-deleted rows are invisible unless the filter asks.
    const SOFT_DELETE: bool = false;
    /// `(constraint or unique index name, field)` for each uniqueness rule, the names the
    /// memory store reports (`email`, `slug`, `program_project` …).
    const UNIQUE: &'static [(&'static str, &'static str)] = &[];
    /// The table has a `version` column checked on update (append-only logs do not).
    const VERSIONED: bool = true;
    /// An insert waits for the end of the unit of work and goes with the others in one
    /// statement (see `deferred`): only for append-only rows no unit reads back right after
    /// writing them, in tables with no unique key but the id.
    const DEFERRED: bool = false;

    /// Binds every column value, in [`PgEntity::COLUMNS`] order.
    ///
    /// `TABLE`, `COLUMNS`, `SOFT_DELETE`, `bind_row` and `from_row` are written by
    /// `pg_mapping!` (in `mapping.rs`) from one list of columns.
    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>);
    /// Decodes a row selected with [`PgEntity::COLUMNS`].
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error>;
    /// Appends ` AND …` conditions for `filter` (the SQL twin of [`Entity::matches`]).
    fn push_filter(filter: &Self::Filter, qb: &mut QueryBuilder<Postgres>);
    /// The SELECT of one list page when `filter` needs another shape than the generic
    /// `filter + cursor + ORDER BY id` one (a project's visible set: a union of bounded
    /// branches), after `prefix` as in `list_query`; `None` keeps the generic one. It must
    /// select [`PgEntity::COLUMNS`], at most `limit + 1` rows in the page's order.
    fn list_query(_prefix: &str, _filter: &Self::Filter, _page: PageRequest) -> Option<QueryBuilder<Postgres>> {
        None
    }
    /// Whether `filter` asks for soft-deleted rows too.
    fn include_deleted(_filter: &Self::Filter) -> bool {
        false
    }
    /// The unique key value `filter` looks up exactly (`slug:<slug>`), if any. `list` and
    /// `count` first take a transaction-scoped advisory lock on it, so a unit of work that
    /// checks a key is free and then inserts it (the core's `free_slug`) runs one at a time per
    /// key — as on the memory store, whose units of work are serialized — instead of two of
    /// them seeing the key free and one failing on the unique index.
    fn lock_key(_filter: &Self::Filter) -> Option<String> {
        None
    }
}

/// Decodes a text column into a domain type parsed with `FromStr` (enums, value types).
pub(crate) fn parse<T>(row: &PgRow, column: &'static str) -> Result<T, sqlx::Error>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let raw: String = row.try_get(column)?;
    raw.parse().map_err(|e| decode_error(column, e))
}

/// Like [`parse`] for a nullable column.
pub(crate) fn parse_opt<T>(row: &PgRow, column: &'static str) -> Result<Option<T>, sqlx::Error>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let raw: Option<String> = row.try_get(column)?;
    raw.map(|r| r.parse().map_err(|e| decode_error(column, e))).transpose()
}

/// Like [`parse`] for a `TEXT[]` column.
pub(crate) fn parse_all<T>(row: &PgRow, column: &'static str) -> Result<Vec<T>, sqlx::Error>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let raw: Vec<String> = row.try_get(column)?;
    raw.iter()
        .map(|r| r.parse().map_err(|e| decode_error(column, e)))
        .collect()
}

/// Decodes a JSONB column into a serde type.
pub(crate) fn json<T: serde::de::DeserializeOwned>(row: &PgRow, column: &'static str) -> Result<T, sqlx::Error> {
    let value: serde_json::Value = row.try_get(column)?;
    serde_json::from_value(value).map_err(|e| decode_error(column, e))
}

/// Like [`json`] for a nullable column: SQL NULL is `None`.
pub(crate) fn json_opt<T: serde::de::DeserializeOwned>(
    row: &PgRow,
    column: &'static str,
) -> Result<Option<T>, sqlx::Error> {
    let value: Option<serde_json::Value> = row.try_get(column)?;
    value
        .map(|v| serde_json::from_value(v).map_err(|e| decode_error(column, e)))
        .transpose()
}

/// A JSONB value to bind.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// An unsigned integer column stored as BIGINT/INTEGER.
pub(crate) fn unsigned<T: TryFrom<i64>>(row: &PgRow, column: &'static str) -> Result<T, sqlx::Error> {
    let raw: i64 = match row.try_get::<i64, _>(column) {
        Ok(v) => v,
        Err(_) => i64::from(row.try_get::<i32, _>(column)?),
    };
    in_range(raw, column)
}

/// Like [`unsigned`] for a nullable column.
pub(crate) fn unsigned_opt<T: TryFrom<i64>>(row: &PgRow, column: &'static str) -> Result<Option<T>, sqlx::Error> {
    let raw: Option<i64> = match row.try_get::<Option<i64>, _>(column) {
        Ok(v) => v,
        Err(_) => row.try_get::<Option<i32>, _>(column)?.map(i64::from),
    };
    raw.map(|raw| in_range(raw, column)).transpose()
}

fn in_range<T: TryFrom<i64>>(raw: i64, column: &'static str) -> Result<T, sqlx::Error> {
    T::try_from(raw).map_err(|_| decode_error(column, format!("{raw} is out of range")))
}

/// A built statement with its bound arguments.
type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

fn columns<E: PgEntity>() -> String {
    E::COLUMNS.join(", ")
}

fn select<E: PgEntity>() -> QueryBuilder<Postgres> {
    QueryBuilder::new(format!("SELECT {} FROM {} WHERE TRUE", columns::<E>(), E::TABLE))
}

/// The SELECT of one list page: the filter, the cursor and the order, after `prefix` (empty, or
/// `EXPLAIN ` for [`PgStore::explain_list`](crate::PgStore::explain_list), so the plan shown is
/// the plan run).
///
/// Plans from the first execution: sqlx prepares every statement, and PostgreSQL plans the
/// first five executions for their actual values (custom plans) before it may switch to one
/// generic plan. Both must be index plans, so `plan_cache_mode` is left alone and the queries
/// are written so that no value makes a primary-key walk the cheaper plan: every filter the
/// API sends has a composite index ending in `id` (0003/0004/0008), the partial indexes'
/// predicates are literals the query repeats (`status <> 'draft'`, `deleted_at IS NULL`), so a
/// generic plan with parameters still matches them, and a visible set is a union of branches
/// each bounded by its own `LIMIT` (see `visible_list_query` in `entities/project.rs`). The
/// scale harness (`benches/benches/scale.rs`) measures every list from its first call.
fn list_query<E: PgEntity>(prefix: &str, filter: &E::Filter, page: PageRequest) -> QueryBuilder<Postgres> {
    if let Some(qb) = E::list_query(prefix, filter, page) {
        return qb;
    }
    let mut qb = QueryBuilder::new(format!(
        "{prefix}SELECT {} FROM {} WHERE TRUE",
        columns::<E>(),
        E::TABLE
    ));
    if E::SOFT_DELETE && !E::include_deleted(filter) {
        qb.push(" AND deleted_at IS NULL");
    }
    E::push_filter(filter, &mut qb);
    let (cmp, dir) = match page.order {
        Order::NewestFirst => (" AND id < ", " ORDER BY id DESC"),
        Order::OldestFirst => (" AND id > ", " ORDER BY id ASC"),
    };
    if let Some(after) = page.after {
        qb.push(cmp).push_bind(after);
    }
    qb.push(dir);
    qb.push(" LIMIT ").push_bind(i64::from(page.limit).saturating_add(1));
    qb
}

impl crate::PgStore {
    /// `EXPLAIN` of the query `list` runs for `filter` and `page`, one plan line per line — for
    /// benches and for checking that every list query of the API uses an index.
    pub async fn explain_list<E: PgEntity>(&self, filter: &E::Filter, page: PageRequest) -> Result<String, StoreError> {
        self.explain_with::<E>("EXPLAIN ", filter, page).await
    }

    /// `EXPLAIN (ANALYZE, BUFFERS)` of the query `list` runs for `filter` and `page`: it runs
    /// the query and tells the buffers each plan node touched — for the scale harness, which
    /// holds every 20-row page to a buffer budget.
    pub async fn explain_analyze_list<E: PgEntity>(
        &self,
        filter: &E::Filter,
        page: PageRequest,
    ) -> Result<String, StoreError> {
        self.explain_with::<E>("EXPLAIN (ANALYZE, BUFFERS) ", filter, page)
            .await
    }

    async fn explain_with<E: PgEntity>(
        &self,
        prefix: &str,
        filter: &E::Filter,
        page: PageRequest,
    ) -> Result<String, StoreError> {
        let rows = list_query::<E>(prefix, filter, page)
            .build()
            .fetch_all(self.pool())
            .await
            .map_err(StoreError::backend)?;
        let lines = rows
            .iter()
            .map(|row| row.try_get::<String, _>(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::backend)?;
        Ok(lines.join("\n"))
    }
}

impl PgTx {
    async fn fetch_by_id<E: PgEntity>(&mut self, id: E::Id, lock: bool) -> Result<Option<E>, StoreError> {
        self.send_deferred_of::<E>().await?;
        let mut qb = select::<E>();
        qb.push(" AND id = ").push_bind(id.into());
        if E::SOFT_DELETE {
            qb.push(" AND deleted_at IS NULL");
        }
        if lock {
            // NO KEY UPDATE, not UPDATE: it excludes every other `get_for_update` and every
            // update of the row just the same, but not the `KEY SHARE` lock a foreign-key check
            // takes on it. With `FOR UPDATE`, a unit of work inserting an audit event or an
            // enrollment that merely refers to a locked user or program would wait for the
            // lock holder, and two such units of work could deadlock.
            qb.push(" FOR NO KEY UPDATE");
        }
        self.note(qb.sql().as_str());
        // A lock needs the transaction; a plain read does not (READ COMMITTED: the statement's
        // own snapshot is what it would see inside one).
        let conn = if lock {
            self.writer().await?
        } else {
            self.reader().await?
        };
        let row = qb
            .build()
            .fetch_optional(conn)
            .await
            .map_err(|e| map_error(e, E::KIND, E::UNIQUE))?;
        self.answered();
        let entity = row.as_ref().map(E::from_row).transpose().map_err(StoreError::backend)?;
        if let Some(found) = &entity {
            self.remember(found);
        }
        Ok(entity)
    }

    /// Remembers the unique keys `entity` holds at its version (only for tables with unique
    /// rules: the others never need a savepoint).
    fn remember<E: PgEntity>(&mut self, entity: &E) {
        if !E::UNIQUE.is_empty() && E::VERSIONED {
            self.saw(E::TABLE, entity.id().into(), entity.version(), entity.unique_keys());
        }
    }

    /// Whether writing `next` over the row this unit saw at version `read` may violate a unique
    /// index. It cannot when the row keeps only keys it already held at that version: the
    /// `UPDATE` matches only that version, whose keys the index already admitted, and a row
    /// that matches nothing writes nothing.
    fn may_collide<E: PgEntity>(&self, read: u64, next: &E) -> bool {
        if E::UNIQUE.is_empty() {
            return false;
        }
        let keys = next.unique_keys();
        if keys.is_empty() {
            return false;
        }
        match self.seen(E::TABLE, next.id().into()) {
            Some(seen) if E::VERSIONED && seen.version == read => !keys.iter().all(|k| seen.keys.contains(k)),
            _ => true,
        }
    }

    /// Sends the rows of `E`'s table that wait (see `deferred`) before a statement reads or
    /// changes that table: this unit reads its own writes.
    async fn send_deferred_of<E: PgEntity>(&mut self) -> Result<(), StoreError> {
        if self.deferred.holds(E::TABLE) {
            self.send_deferred(false).await?;
        }
        Ok(())
    }

    /// Sends every waiting row in one statement: in the transaction (begun now if need be), or
    /// with `alone` — at the commit of a unit that wrote nothing else — in autocommit on the
    /// primary, where the one statement is atomic by itself.
    pub(crate) async fn send_deferred(&mut self, alone: bool) -> Result<(), StoreError> {
        let Some((mut qb, kinds)) = self.deferred.take_statement() else {
            return Ok(());
        };
        // The connection first, so the log shows a `BEGIN` this sends before the statement.
        if alone {
            self.primary().await?;
        } else {
            self.writer().await?;
        }
        self.note(qb.sql().as_str());
        let conn = self.reader().await?;
        // A usual shape (a command's audit event and notices) stays prepared on the connection;
        // a batch's one-off shape is not kept, so it evicts none of them.
        let rows: usize = kinds.iter().map(|(_, _, rows)| rows).sum();
        qb.build()
            .persistent(rows <= crate::deferred::PREPARED_ROWS_MAX)
            .execute(conn)
            .await
            .map_err(|e| crate::deferred::map_deferred_error(e, &kinds))?;
        self.answered();
        Ok(())
    }

    /// Runs the write `query` in the transaction (begun now if need be).
    async fn execute<E: PgEntity>(&mut self, query: PgQuery<'_>) -> Result<PgQueryResult, StoreError> {
        let conn = self.writer().await?;
        let done = query
            .execute(conn)
            .await
            .map_err(|e| map_error(e, E::KIND, E::UNIQUE))?;
        self.answered();
        Ok(done)
    }

    /// Runs one write statement inside a savepoint, so that its failure (a unique violation)
    /// undoes that statement only and leaves the unit of work usable, as the port's contract
    /// requires ("a conflicting insert writes nothing"): without it PostgreSQL aborts the whole
    /// transaction and refuses every later statement until rollback. Only for writes that may
    /// collide (see the crate docs); the savepoint statements go over the simple query protocol
    /// (no arguments, nothing to prepare).
    async fn in_savepoint<E: PgEntity>(&mut self, query: PgQuery<'_>) -> Result<PgQueryResult, StoreError> {
        self.note("SAVEPOINT icosistem_write");
        let conn = self.writer().await?;
        conn.execute("SAVEPOINT icosistem_write")
            .await
            .map_err(unavailable_or_backend)?;
        let result = query.execute(&mut *conn).await;
        let settle = if result.is_ok() {
            "RELEASE SAVEPOINT icosistem_write"
        } else {
            "ROLLBACK TO SAVEPOINT icosistem_write; RELEASE SAVEPOINT icosistem_write"
        };
        conn.execute(settle).await.map_err(unavailable_or_backend)?;
        self.answered();
        self.note(settle);
        result.map_err(|e| map_error(e, E::KIND, E::UNIQUE))
    }

    /// Takes the advisory lock of [`PgEntity::lock_key`], held until the unit of work ends (so
    /// it begins the transaction). It is its own statement: at READ COMMITTED the lookup that
    /// follows takes a fresh snapshot, so it sees whatever the previous holder committed.
    pub(crate) async fn lock_key<E: PgEntity>(&mut self, filter: &E::Filter) -> Result<(), StoreError> {
        let Some(key) = E::lock_key(filter) else {
            return Ok(());
        };
        let sql = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
        self.note(sql);
        let conn = self.writer().await?;
        // A hash collision only makes two unrelated keys wait for each other.
        sqlx::query(sql)
            .bind(format!("{}:{key}", E::TABLE))
            .execute(conn)
            .await
            .map_err(|e| map_error(e, E::KIND, E::UNIQUE))?;
        self.answered();
        Ok(())
    }
}

/// `INSERT INTO <table> (<every column>) VALUES `, for one row or several.
pub(crate) fn insert_head<E: PgEntity>() -> String {
    format!("INSERT INTO {} ({}) VALUES ", E::TABLE, columns::<E>())
}

/// `INSERT` of every column of `entity`; with `skip_conflicts`, a row that would violate a
/// unique index is skipped (`ON CONFLICT DO NOTHING`) instead of failing the statement.
fn insert_query<E: PgEntity>(entity: &E, skip_conflicts: bool) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::new(insert_head::<E>());
    qb.push("(");
    {
        let mut values = qb.separated(", ");
        entity.bind_row(&mut values);
    }
    qb.push(")");
    if skip_conflicts {
        qb.push(" ON CONFLICT DO NOTHING");
    }
    qb
}

/// Runs one store operation (`get`, `insert` … on `table`, or the unit of work's `commit`) in
/// its own `store` span. The span opens under the request's, so with an OpenTelemetry layer
/// installed it is a client span of the request's trace (`db.operation.name`,
/// `db.collection.name`), timed from the pool checkout to the last row. Every operation of
/// every entity goes through here (the generic [`Repo`] below, [`PgTx`]'s commit). A failure
/// of the database (`Backend`, `Unavailable`) marks the span as an error; a conflict or a
/// missing row is an answer, not a failure.
///
/// The operation's future goes to the heap here, before the span's own future exists: nested
/// in a use case's (one operation inside another, inside a unit of work …) it would otherwise
/// add its whole size at every level, and a debug build's test thread runs out of stack.
pub(crate) fn traced<'a, T: 'a>(
    operation: &'static str,
    table: Option<&'static str>,
    work: impl Future<Output = Result<T, StoreError>> + Send + 'a,
) -> impl Future<Output = Result<T, StoreError>> + Send + 'a {
    let span = tracing::info_span!(
        "store",
        otel.name = %format_args!("{operation}{}{}", if table.is_some() { " " } else { "" }, table.unwrap_or("")),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        db.system.name = "postgresql",
        db.operation.name = operation,
        db.collection.name = table,
    );
    let work = Box::pin(tracing::Instrument::instrument(work, span.clone()));
    async move {
        let result = work.await;
        if let Err(StoreError::Backend(_) | StoreError::Unavailable(_)) = &result {
            span.record("otel.status_code", "error");
        }
        result
    }
}

impl<E: PgEntity> Repo<E> for PgTx {
    async fn get(&mut self, id: E::Id) -> Result<Option<E>, StoreError> {
        traced("get", Some(E::TABLE), self.fetch_by_id(id, false)).await
    }

    async fn get_for_update(&mut self, id: E::Id) -> Result<Option<E>, StoreError> {
        traced("get_for_update", Some(E::TABLE), self.fetch_by_id(id, true)).await
    }

    async fn insert(&mut self, entity: &E) -> Result<(), StoreError> {
        traced("insert", Some(E::TABLE), async {
            if E::DEFERRED {
                if self.deferred.full_for::<E>() {
                    self.send_deferred(false).await?;
                }
                self.deferred.push(entity);
                return Ok(());
            }
            // One statement, no savepoint: a colliding row is skipped rather than aborting the
            // transaction. Only then is the insert repeated inside a savepoint, where the unique
            // violation names its constraint and so the field of the `Conflict` (and should the
            // colliding row have gone meanwhile, the insert simply succeeds).
            let mut qb = insert_query(entity, true);
            self.note(qb.sql().as_str());
            let done = self.execute::<E>(qb.build()).await?;
            if done.rows_affected() == 0 {
                let mut again = insert_query(entity, false);
                self.note(again.sql().as_str());
                self.in_savepoint::<E>(again.build()).await?;
            }
            self.remember(entity);
            Ok(())
        })
        .await
    }

    async fn update(&mut self, entity: &E) -> Result<E, StoreError> {
        traced("update", Some(E::TABLE), async {
            self.send_deferred_of::<E>().await?;
            let read = entity.version();
            let mut next = entity.clone();
            next.set_version(read + 1);
            let mut qb = QueryBuilder::new(format!("UPDATE {} SET ({}) = ROW(", E::TABLE, columns::<E>()));
            {
                let mut values = qb.separated(", ");
                next.bind_row(&mut values);
            }
            qb.push(") WHERE id = ").push_bind(entity.id().into());
            if E::SOFT_DELETE {
                qb.push(" AND deleted_at IS NULL");
            }
            if E::VERSIONED {
                qb.push(" AND version = ").push_bind(read as i64);
            }
            self.note(qb.sql().as_str());
            let done = if self.may_collide(read, &next) {
                self.in_savepoint::<E>(qb.build()).await?
            } else {
                self.execute::<E>(qb.build()).await?
            };
            if done.rows_affected() == 1 {
                self.remember(&next);
                return Ok(next);
            }
            // Nothing matched: tell a missing (or deleted) row from a stale version.
            let live = Repo::<E>::get(self, entity.id()).await?;
            Err(match live {
                Some(_) => StoreError::stale(E::KIND),
                None => StoreError::not_found(E::KIND, entity.id()),
            })
        })
        .await
    }

    async fn delete(&mut self, id: E::Id) -> Result<(), StoreError> {
        traced("delete", Some(E::TABLE), async {
            self.send_deferred_of::<E>().await?;
            // No savepoint: removing a row cannot violate a unique index.
            let mut qb = QueryBuilder::new(format!("DELETE FROM {} WHERE id = ", E::TABLE));
            qb.push_bind(id.into());
            self.note(qb.sql().as_str());
            let done = self.execute::<E>(qb.build()).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::not_found(E::KIND, id));
            }
            Ok(())
        })
        .await
    }

    async fn list(&mut self, filter: &E::Filter, page: PageRequest) -> Result<Page<E>, StoreError> {
        traced("list", Some(E::TABLE), async {
            self.send_deferred_of::<E>().await?;
            self.lock_key::<E>(filter).await?;
            let mut qb = list_query::<E>("", filter, page);
            self.note(qb.sql().as_str());
            let conn = self.list_reader().await?;
            let rows = qb
                .build()
                .fetch_all(conn)
                .await
                .map_err(|e| map_error(e, E::KIND, E::UNIQUE))?;
            self.answered();
            let rows = rows
                .iter()
                .map(E::from_row)
                .collect::<Result<Vec<E>, _>>()
                .map_err(StoreError::backend)?;
            Ok(Page::from_overfetch(rows, page.limit, |row| row.id().into()))
        })
        .await
    }

    async fn count(&mut self, filter: &E::Filter) -> Result<u64, StoreError> {
        traced("count", Some(E::TABLE), async {
            self.send_deferred_of::<E>().await?;
            self.lock_key::<E>(filter).await?;
            let mut qb = QueryBuilder::new(format!("SELECT COUNT(*) FROM {} WHERE TRUE", E::TABLE));
            if E::SOFT_DELETE && !E::include_deleted(filter) {
                qb.push(" AND deleted_at IS NULL");
            }
            E::push_filter(filter, &mut qb);
            self.note(qb.sql().as_str());
            let conn = self.list_reader().await?;
            let n: i64 = qb
                .build()
                .fetch_one(conn)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|e| map_error(e, E::KIND, E::UNIQUE))?;
            self.answered();
            Ok(n as u64)
        })
        .await
    }
}
