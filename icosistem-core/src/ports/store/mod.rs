//! The store port: units of work over generic per-entity repositories.
//!
//! A use case calls [`Store::begin`], reads and writes through the [`Transaction`] it gets, and
//! calls [`Transaction::commit`]. Everything written in between becomes visible at once, or not
//! at all: dropping a transaction without committing rolls it back. Loads that guard a cross-row
//! invariant use [`Repo::get_for_update`], which locks the row until the end of the unit of work
//! (the program for capacity; later the ally for mentee load). The memory store serializes whole
//! units of work; PostgreSQL uses `SELECT … FOR UPDATE`.
//!
//! `begin` is cheap and may be lazy: a store may defer taking a connection to the first
//! statement and opening a transaction to the first write or lock (`insert`, `update`,
//! `delete`, `get_for_update`, or a `list`/`count` by an exact unique key, which locks the key).
//! So a unit of work that only reads costs its reads and nothing else, and `commit` of a unit
//! that wrote nothing (or dropping it) just releases it. This is why invariants are never
//! decided on plain reads: the row that guards one is loaded with `get_for_update` first, and
//! everything read after it sees what the previous holder of the lock committed.
//!
//! # Contracts (the same for every store; the conformance suite checks them)
//!
//! - `get` of an unknown id, or of a soft-deleted row, is `Ok(None)`.
//! - `insert` of a row whose [`Entity::unique_keys`] collide with a live row's is
//!   `Err(StoreError::Conflict { entity, field })`, `field` naming the rule (`email`, `slug`,
//!   `program_project`, `application_reviewer`, `organization_user`, `tax_id`, `token_hash`).
//!   Inserting an id that exists is `Conflict { field: "id" }`.
//! - `update` takes the entity with the `version` it was read with. If the stored version differs
//!   it is `Conflict { entity, field: "version" }`; if the row does not exist (or was
//!   soft-deleted before this update) it is `StoreError::NotFound`. On success the store writes
//!   `version + 1` and returns the entity as stored. Uniqueness is checked as for `insert`.
//!   Soft delete is an update that sets `deletion.deleted_at`; the row then releases its unique
//!   keys and disappears from `get` and from `list` unless the filter asks for deleted rows.
//! - `list` answers rows matching the filter ([`Entity::matches`] is the reference semantics)
//!   in the page's [`Order`] — newest first (id descending; ids are UUID v7) unless asked for
//!   oldest first — strictly after the cursor, at most `limit` of them, with `next_cursor` set
//!   when more may follow. Rows inserted while a client pages newest first are newer than its
//!   cursor, so pages never skip or repeat a row.
//! - `count` answers how many rows `list` would yield without a limit.
//! - A refused write (`Conflict` from `insert` or `update`) writes nothing and leaves the unit of
//!   work usable: later reads and writes in it behave as if the refused one had not been tried,
//!   and `commit` commits them. Reads see the unit's own writes, whether they come before or
//!   after its first write.

use std::fmt::Debug;
use std::future::Future;

use uuid::Uuid;

use crate::error::{StoreError, ValidationErrors};

/// A persisted entity: what a store needs to know to keep it.
pub trait Entity: Clone + Debug + Send + Sync + 'static {
    /// Its id newtype.
    type Id: Copy + Eq + Ord + std::hash::Hash + Debug + Send + Sync + Into<Uuid> + From<Uuid> + 'static;
    /// Its list filter. `Default` matches every live row.
    type Filter: Clone + Debug + Default + Send + Sync + 'static;
    /// Entity kind, as in errors and audit (`program`).
    const KIND: &'static str;

    /// Its id.
    fn id(&self) -> Self::Id;
    /// The version it was read with.
    fn version(&self) -> u64;
    /// Sets the version (stores do this on write).
    fn set_version(&mut self, version: u64);
    /// Soft-deleted rows are invisible unless a filter asks for them.
    fn is_deleted(&self) -> bool {
        false
    }
    /// Unique keys this row holds while live: `(rule name, value)`. A row may hold none (e.g. a
    /// withdrawn application does not hold its (program, project) slot).
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// Whether the row matches `filter` (including the deleted-rows switch).
    fn matches(&self, filter: &Self::Filter) -> bool;
    /// Stamps a change at `now` by `by` (`updated_at`, `updated_by`).
    fn touch(&mut self, now: chrono::DateTime<chrono::Utc>, by: Option<crate::model::UserId>);
    /// The order `filter` asks for instead of the ids' (the waitlist's rank), if any: a list
    /// then holds the first `limit` matching rows in that order, and its cursor means nothing
    /// (`after` is ignored). Every store sorts by this same function or its SQL twin.
    fn rank(_filter: &Self::Filter) -> Option<fn(&Self, &Self) -> std::cmp::Ordering> {
        None
    }
    /// The ids `filter` restricts rows to (`id_in`), if any. A store may then look these rows
    /// up by key instead of walking the table: a page's related rows (`= ANY($1)` on
    /// PostgreSQL) cost what the page holds, not what the table holds. [`matches`] still
    /// decides, so the answer is the same either way.
    ///
    /// [`matches`]: Entity::matches
    fn id_in(_filter: &Self::Filter) -> Option<&[Self::Id]> {
        None
    }
}

/// Maps an id type to its entity, so `uow.load(program_id)` knows it loads a `Program`.
pub trait EntityId: Copy + Send + Sync + 'static {
    /// The entity this id names.
    type Entity: Entity<Id = Self>;
}

/// Maps a filter type to its entity, so `uow.list(&ProgramFilter { .. })` lists programs.
pub trait ListFilter: Clone + Send + Sync + 'static {
    /// The entity this filter selects.
    type Entity: Entity<Filter = Self>;
}

/// Which page of a list: at most `limit` rows strictly after `after` in `order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows at most.
    pub limit: u32,
    /// The id of the last row of the previous page.
    pub after: Option<Uuid>,
    /// Newest first (the API's order) or oldest first (queues such as the outbox).
    pub order: Order,
}

/// The order of a list, by id (ids are UUID v7, so by creation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Descending ids: newest first. The default and the API's order.
    #[default]
    NewestFirst,
    /// Ascending ids: oldest first.
    OldestFirst,
}

impl PageRequest {
    /// The API's default page size.
    pub const DEFAULT_LIMIT: u32 = 20;
    /// The API's largest page.
    pub const MAX_LIMIT: u32 = 100;

    /// The first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        Self {
            limit,
            after: None,
            order: Order::NewestFirst,
        }
    }

    /// The same page, oldest first.
    pub fn oldest_first(self) -> Self {
        Self {
            order: Order::OldestFirst,
            ..self
        }
    }

    /// Every row (for internal queries with a natural bound, like one application's reviews).
    pub fn all() -> Self {
        Self {
            limit: u32::MAX,
            after: None,
            order: Order::NewestFirst,
        }
    }

    /// Parses the API's `limit` (1–100, default 20) and opaque `cursor`, reporting both fields.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            errors.push("limit", format!("must be between 1 and {}", Self::MAX_LIMIT));
        }
        let after = match cursor {
            None | Some("") => None,
            Some(c) => errors.check(decode_cursor(c)),
        };
        errors.into_result()?;
        Ok(Self {
            limit,
            after,
            order: Order::NewestFirst,
        })
    }
}

/// Cursors are the last id in simple hex: opaque to clients, stable across stores.
fn decode_cursor(cursor: &str) -> Result<Uuid, crate::error::FieldError> {
    Uuid::try_parse(cursor).map_err(|_| crate::error::FieldError::new("cursor", "is not a cursor returned by this API"))
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<E> {
    /// The rows, newest first.
    pub items: Vec<E>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<E> Page<E> {
    /// Builds a page from up to `limit + 1` rows fetched in order: the extra row only tells that
    /// more follow.
    pub fn from_overfetch(mut rows: Vec<E>, limit: u32, id_of: impl Fn(&E) -> Uuid) -> Self {
        let limit = limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|last| id_of(last).simple().to_string())
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// Maps the rows, keeping the cursor.
    pub fn map<T>(self, f: impl FnMut(E) -> T) -> Page<T> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// The repository of one entity inside a unit of work. See the module docs for the contracts.
pub trait Repo<E: Entity>: Send {
    /// The live row with this id, `Ok(None)` if absent or soft-deleted.
    fn get(&mut self, id: E::Id) -> impl Future<Output = Result<Option<E>, StoreError>> + Send;
    /// Like `get`, and locks the row against concurrent units of work until this one ends.
    fn get_for_update(&mut self, id: E::Id) -> impl Future<Output = Result<Option<E>, StoreError>> + Send;
    /// Inserts a new row (its version as given, normally 1).
    fn insert(&mut self, entity: &E) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Writes a changed row read at `entity.version()`; returns it with the new version.
    fn update(&mut self, entity: &E) -> impl Future<Output = Result<E, StoreError>> + Send;
    /// Removes a row for good (only for rows without history of their own, like memberships);
    /// `StoreError::NotFound` when absent.
    fn delete(&mut self, id: E::Id) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// One page of the rows matching `filter`, newest first.
    fn list(
        &mut self,
        filter: &E::Filter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<E>, StoreError>> + Send;
    /// How many rows match `filter`.
    fn count(&mut self, filter: &E::Filter) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

use crate::model::{
    AccountToken, Application, AuditEvent, Availability, CalendarFeed, Document, DocumentVersion, Enrollment, JobMark,
    Meeting, MeetingParticipant, Mentorship, Milestone, Notification, Organization, OrganizationMember, OutboxMessage,
    Profile, Program, Project, RefreshToken, Review, Session, Task, TaskDependency, User, WebhookEndpoint,
};
use crate::model::{Block, Conversation, ConversationParticipant, Message};

/// A unit of work: a repository for every entity, committed at once or not at all.
pub trait Transaction:
    Send
    + Repo<User>
    + Repo<Profile>
    + Repo<AccountToken>
    + Repo<RefreshToken>
    + Repo<Organization>
    + Repo<OrganizationMember>
    + Repo<Program>
    + Repo<Project>
    + Repo<Milestone>
    + Repo<Application>
    + Repo<Review>
    + Repo<Enrollment>
    + Repo<Notification>
    + Repo<OutboxMessage>
    + Repo<AuditEvent>
    + Repo<Mentorship>
    + Repo<Availability>
    + Repo<Session>
    + Repo<Meeting>
    + Repo<MeetingParticipant>
    + Repo<Task>
    + Repo<TaskDependency>
    + Repo<JobMark>
    + Repo<WebhookEndpoint>
    + Repo<CalendarFeed>
    + Repo<Document>
    + Repo<DocumentVersion>
    + Repo<Conversation>
    + Repo<ConversationParticipant>
    + Repo<Message>
    + Repo<Block>
    + AnalyticsRead
{
    /// Makes every write of this unit of work visible, atomically.
    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A store: a factory of units of work.
pub trait Store: Send + Sync + 'static {
    /// Its unit of work.
    type Tx: Transaction;
    /// Starts a unit of work.
    fn begin(&self) -> impl Future<Output = Result<Self::Tx, StoreError>> + Send;
}

pub mod analytics;
pub mod filters;
pub use analytics::{AnalyticsRead, ApplicationScope, EnrollmentScope, MilestoneScope, ReviewScope};
pub use filters::*;
