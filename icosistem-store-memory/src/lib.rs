//! # icosistem-store-memory
//!
//! Every store port of `icosistem-core` over in-process maps, with the semantics of a database:
//! unique keys, optimistic versions (stale → `Conflict`), soft-delete visibility, stable cursor
//! pagination and atomic units of work. It is the embedded default (the example server runs on
//! it with demo data) and the fast test double: the conformance suite that PostgreSQL passes
//! runs here in milliseconds.
//!
//! ## Layout
//!
//! - [`MemoryStore`]: the store, cheap to clone (shared state behind an `Arc`);
//! - [`MemoryTx`]: a unit of work. It holds the one async mutex over the whole state for its
//!   lifetime, so units of work are serializable by construction and an invariant checked inside
//!   one (capacity, load) cannot be broken by another. Writes apply in place and record an undo
//!   entry; dropping the transaction without `commit` replays the undo log backwards.
//! - `Table`: one entity's rows (ordered by id, i.e. by creation for UUID v7), its unique index
//!   and, for applications, its rows by program (`Groups`), so a program's list walks only them.
//!
//! ```
//! use icosistem_core::ports::{Clock, ManualClock, RecordingNotifier, SystemClock};
//! use icosistem_core::Ecosystem;
//! use icosistem_store_memory::MemoryStore;
//!
//! let clock = ManualClock::new(SystemClock.now());
//! let ecosystem = Ecosystem::new(MemoryStore::new(), RecordingNotifier::new(), clock);
//! # let _ = ecosystem;
//! ```

mod analytics;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use icosistem_core::StoreError;
use icosistem_core::model::{
    AccountToken, Application, ApplicationId, AuditEvent, Availability, CalendarFeed, Document, DocumentVersion,
    Enrollment, JobMark, Meeting, MeetingParticipant, MemberRole, Mentorship, Milestone, Notification, Organization,
    OrganizationId, OrganizationMember, OutboxMessage, Profile, Program, Project, ProjectId, RefreshToken, Review,
    Session, Task, TaskDependency, User, UserId, WebhookEndpoint,
};
use icosistem_core::model::{Block, Conversation, ConversationParticipant, Message};
use icosistem_core::ports::store::{
    ApplicationFilter, Entity, Order, Page, PageRequest, ProgramReach, ProjectFilter, Repo, Store, Transaction,
    UserFilter, program_reaches, project_matches, user_matches,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// An [`Ecosystem`](icosistem_core::Ecosystem) over the in-memory store: a host names one type
/// (`MemoryEcosystem`, or `MemoryEcosystem<MyNotifier>`) instead of three. The notifier defaults
/// to the recording one (tests, demos), the clock to the system's.
///
/// ```
/// use icosistem_core::ports::{RecordingNotifier, SystemClock};
/// use icosistem_store_memory::{MemoryEcosystem, MemoryStore};
///
/// let eco: MemoryEcosystem = MemoryEcosystem::new(MemoryStore::new(), RecordingNotifier::new(), SystemClock);
/// # let _ = eco;
/// ```
pub type MemoryEcosystem<N = icosistem_core::ports::RecordingNotifier, C = icosistem_core::ports::SystemClock> =
    icosistem_core::Ecosystem<MemoryStore, N, C>;

/// The in-memory store. Clones share the same data.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl Store for MemoryStore {
    type Tx = MemoryTx;

    async fn begin(&self) -> Result<MemoryTx, StoreError> {
        Ok(MemoryTx {
            state: Some(Arc::clone(&self.state).lock_owned().await),
            undo: Vec::new(),
        })
    }
}

type Undo = Box<dyn FnOnce(&mut State) + Send>;

/// A unit of work on the memory store: exclusive access to the whole state until it is
/// committed or dropped (dropped = rolled back).
pub struct MemoryTx {
    state: Option<OwnedMutexGuard<State>>,
    undo: Vec<Undo>,
}

impl std::fmt::Debug for MemoryTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTx")
            .field("pending_writes", &self.undo.len())
            .finish_non_exhaustive()
    }
}

impl MemoryTx {
    fn state(&mut self) -> &mut State {
        self.state.as_mut().expect("a unit of work is used only before commit")
    }
}

impl Drop for MemoryTx {
    fn drop(&mut self) {
        if let Some(state) = self.state.as_mut() {
            while let Some(undo) = self.undo.pop() {
                undo(state);
            }
        }
    }
}

impl Transaction for MemoryTx {
    async fn commit(mut self) -> Result<(), StoreError> {
        self.undo.clear();
        self.state.take();
        Ok(())
    }
}

/// One entity's rows, its unique index and, for a table that has one, its rows by group.
struct Table<E: Entity> {
    rows: BTreeMap<E::Id, E>,
    unique: HashMap<(&'static str, String), E::Id>,
    groups: Option<Groups<E>>,
}

/// A table's rows by a key of theirs (applications by program), so a list filtered by that key
/// walks the group's rows instead of the whole table.
struct Groups<E: Entity> {
    key: fn(&E) -> uuid::Uuid,
    ids: HashMap<uuid::Uuid, BTreeSet<E::Id>>,
}

impl<E: Entity> Default for Table<E> {
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
            unique: HashMap::new(),
            groups: None,
        }
    }
}

/// Unique keys a row holds: none once soft-deleted.
fn live_keys<E: Entity>(row: &E) -> Vec<(&'static str, String)> {
    if row.is_deleted() {
        Vec::new()
    } else {
        row.unique_keys()
    }
}

impl<E: Entity> Table<E> {
    fn check_unique(&self, row: &E) -> Result<(), StoreError> {
        for key in live_keys(row) {
            if let Some(holder) = self.unique.get(&key)
                && *holder != row.id()
            {
                return Err(StoreError::Conflict {
                    entity: E::KIND,
                    field: key.0,
                });
            }
        }
        Ok(())
    }

    /// A table keeping its rows by `key` too.
    fn grouped_by(key: fn(&E) -> uuid::Uuid) -> Self {
        Self {
            groups: Some(Groups {
                key,
                ids: HashMap::new(),
            }),
            ..Self::default()
        }
    }

    /// Puts `row` (or nothing) at `id`, keeping the unique index and the groups in step.
    /// Returns what was there.
    fn put(&mut self, id: E::Id, row: Option<E>) -> Option<E> {
        if let Some(groups) = &mut self.groups {
            if let Some(old) = self.rows.get(&id).map(groups.key)
                && let Some(members) = groups.ids.get_mut(&old)
            {
                members.remove(&id);
                if members.is_empty() {
                    groups.ids.remove(&old);
                }
            }
            if let Some(new) = row.as_ref().map(groups.key) {
                groups.ids.entry(new).or_default().insert(id);
            }
        }
        let previous = match row {
            Some(row) => {
                for key in live_keys(&row) {
                    self.unique.insert(key, id);
                }
                self.rows.insert(id, row)
            }
            None => self.rows.remove(&id),
        };
        if let Some(prev) = &previous {
            let current = self.rows.get(&id).map(live_keys).unwrap_or_default();
            for key in live_keys(prev) {
                if !current.contains(&key) && self.unique.get(&key) == Some(&id) {
                    self.unique.remove(&key);
                }
            }
        }
        previous
    }

    /// The rows a list walks, in `order`, strictly past `after`: the rows named by `id_in`
    /// (point lookups, so a page's related rows cost what the page holds), those of a group
    /// (`only` of [`Only::Group`]), or the whole table. The caller's matcher still decides which
    /// of them belong.
    fn candidates<'a>(
        &'a self,
        only: Option<&Only<'_, E::Id>>,
        order: Order,
        after: Option<E::Id>,
    ) -> Box<dyn Iterator<Item = &'a E> + 'a> {
        use std::ops::{Bound, RangeBounds};

        // The ids strictly past `after` in `order`; a newest-first walk goes backwards.
        let past = match (order, after) {
            (_, None) => (Bound::Unbounded, Bound::Unbounded),
            (Order::NewestFirst, Some(after)) => (Bound::Unbounded, Bound::Excluded(after)),
            (Order::OldestFirst, Some(after)) => (Bound::Excluded(after), Bound::Unbounded),
        };
        let backwards = order == Order::NewestFirst;
        let rows = &self.rows;
        match only {
            Some(Only::Ids(ids)) => {
                let mut ids: Vec<E::Id> = ids.iter().copied().filter(|id| past.contains(id)).collect();
                ids.sort_unstable();
                ids.dedup();
                if backwards {
                    ids.reverse();
                }
                Box::new(ids.into_iter().filter_map(move |id| rows.get(&id)))
            }
            Some(Only::Group(group)) => {
                let Some(members) = self.groups.as_ref().and_then(|g| g.ids.get(group)) else {
                    return Box::new(std::iter::empty());
                };
                let ids = members.range(past);
                let ids: Box<dyn Iterator<Item = &E::Id>> = if backwards { Box::new(ids.rev()) } else { Box::new(ids) };
                Box::new(ids.filter_map(move |id| rows.get(id)))
            }
            None => {
                let all = rows.range(past).map(|(_, row)| row);
                if backwards { Box::new(all.rev()) } else { Box::new(all) }
            }
        }
    }
}

/// Selects an entity's table out of the state.
trait HasTable<E: Entity> {
    fn table(&mut self) -> &mut Table<E>;
    fn table_ref(&self) -> &Table<E>;
}

/// How `list` and `count` decide whether a row matches a filter. For most entities that is
/// [`Entity::matches`] on the row alone; a filter with a relational part (a project's
/// visibility through programs) needs the other tables too.
trait RowMatch<E: Entity> {
    /// A predicate for `filter`, prepared once per list (so a relational part is computed once,
    /// not per row).
    fn matcher<'a>(&'a self, filter: &'a E::Filter) -> Box<dyn Fn(&E) -> bool + 'a>;

    /// The rows outside which none can match `filter` (`None`: any row may), so a list looks
    /// those up instead of walking the table: `id_in`, what a relational part narrows to, or a
    /// group of the table.
    fn only_ids<'a>(&'a self, filter: &'a E::Filter) -> Option<Only<'a, E::Id>> {
        E::id_in(filter).map(|ids| Only::Ids(Cow::Borrowed(ids)))
    }
}

/// Where a list's rows can only be (see [`RowMatch::only_ids`]).
enum Only<'a, I: Clone> {
    /// These ids.
    Ids(Cow<'a, [I]>),
    /// The group of this key (the table's [`Groups`]).
    Group(uuid::Uuid),
}

macro_rules! state {
    (@table) => {
        Table::default()
    };
    (@table $init:expr) => {
        $init
    };
    (
        row_only { $($field:ident: $entity:ty),+ $(,)? }
        relational { $($rfield:ident: $rentity:ty $(= $init:expr)?),+ $(,)? }
    ) => {
        struct State {
            $($field: Table<$entity>,)+
            $($rfield: Table<$rentity>,)+
        }

        impl Default for State {
            fn default() -> Self {
                Self {
                    $($field: Table::default(),)+
                    $($rfield: state!(@table $($init)?),)+
                }
            }
        }
        $(impl HasTable<$entity> for State {
            fn table(&mut self) -> &mut Table<$entity> {
                &mut self.$field
            }
            fn table_ref(&self) -> &Table<$entity> {
                &self.$field
            }
        }
        impl RowMatch<$entity> for State {
            fn matcher<'a>(&'a self, filter: &'a <$entity as Entity>::Filter) -> Box<dyn Fn(&$entity) -> bool + 'a> {
                Box::new(move |row| row.matches(filter))
            }
        })+
        $(impl HasTable<$rentity> for State {
            fn table(&mut self) -> &mut Table<$rentity> {
                &mut self.$rfield
            }
            fn table_ref(&self) -> &Table<$rentity> {
                &self.$rfield
            }
        })+
    };
}

state! {
    row_only {
        profiles: Profile,
        account_tokens: AccountToken,
        refresh_tokens: RefreshToken,
        organizations: Organization,
        members: OrganizationMember,
        programs: Program,
        milestones: Milestone,
        reviews: Review,
        enrollments: Enrollment,
        notifications: Notification,
        outbox: OutboxMessage,
        audit: AuditEvent,
        mentorships: Mentorship,
        availabilities: Availability,
        sessions: Session,
        meetings: Meeting,
        participants: MeetingParticipant,
        tasks: Task,
        dependencies: TaskDependency,
        job_marks: JobMark,
        webhooks: WebhookEndpoint,
        calendar_feeds: CalendarFeed,
        documents: Document,
        document_versions: DocumentVersion,
        conversations: Conversation,
        conversation_participants: ConversationParticipant,
        messages: Message,
        blocks: Block,
    }
    relational {
        users: User,
        projects: Project,
        applications: Application = Table::grouped_by(|app| app.program_id.into()),
    }
}

/// The projects one user reaches through programs ([`ProjectVisibility::via_programs_of`]),
/// computed from the other tables with the core's reference rule [`program_reaches`]: the
/// user's memberships (a handful) select the organizations; their programs and the user's
/// review assignments are looked up in maps keyed by id; the applications are walked once.
/// Built once per list or count, so the page costs one pass, not one per project.
///
/// [`ProjectVisibility::via_programs_of`]: icosistem_core::ports::store::ProjectVisibility::via_programs_of
struct Reach(HashSet<ProjectId>);

impl Reach {
    fn of(state: &State, user: UserId) -> Self {
        let roles: HashMap<OrganizationId, MemberRole> = state
            .members
            .rows
            .values()
            .filter(|m| m.user_id == user)
            .map(|m| (m.organization_id, m.role))
            .collect();
        if roles.is_empty() {
            return Self(HashSet::new());
        }
        let assigned: HashSet<ApplicationId> = state
            .reviews
            .rows
            .values()
            .filter(|r| r.reviewer_id == user)
            .map(|r| r.application_id)
            .collect();
        let reached = state
            .applications
            .rows
            .values()
            .filter(|app| {
                let program = state.programs.rows.get(&app.program_id);
                let role = program.and_then(|p| roles.get(&p.organization_id).copied());
                program_reaches(app, program, role, assigned.contains(&app.id))
            })
            .map(|app| app.project_id)
            .collect();
        Self(reached)
    }
}

impl ProgramReach for Reach {
    fn reaches(&self, _user: UserId, project: ProjectId) -> bool {
        self.0.contains(&project)
    }
}

impl RowMatch<Project> for State {
    fn matcher<'a>(&'a self, filter: &'a ProjectFilter) -> Box<dyn Fn(&Project) -> bool + 'a> {
        let reach = filter
            .visible_to
            .as_ref()
            .and_then(|v| v.via_programs_of)
            .map(|user| Reach::of(self, user))
            .unwrap_or(Reach(HashSet::new()));
        Box::new(move |row| project_matches(row, filter, &reach))
    }
}

impl State {
    /// The staff (owners, coordinators) of `organization`: a handful of memberships.
    fn staff_of(&self, organization: OrganizationId) -> Vec<UserId> {
        self.members
            .rows
            .values()
            .filter(|m| m.organization_id == organization && m.role.is_staff())
            .map(|m| m.user_id)
            .collect()
    }
}

impl RowMatch<Application> for State {
    fn matcher<'a>(&'a self, filter: &'a ApplicationFilter) -> Box<dyn Fn(&Application) -> bool + 'a> {
        Box::new(move |row| row.matches(filter))
    }

    /// A program's applications are its group: a staff list walks them, not every newer
    /// application of other programs.
    fn only_ids<'a>(&'a self, filter: &'a ApplicationFilter) -> Option<Only<'a, ApplicationId>> {
        match (Application::id_in(filter), filter.program_id) {
            (Some(ids), _) => Some(Only::Ids(Cow::Borrowed(ids))),
            (None, Some(program)) => Some(Only::Group(program.into())),
            (None, None) => None,
        }
    }
}

impl RowMatch<User> for State {
    fn matcher<'a>(&'a self, filter: &'a UserFilter) -> Box<dyn Fn(&User) -> bool + 'a> {
        let staff: HashSet<UserId> = filter
            .staff_of
            .map(|org| self.staff_of(org).into_iter().collect())
            .unwrap_or_default();
        Box::new(move |row| user_matches(row, filter, &|id| staff.contains(&id)))
    }

    /// A program's staff are looked up by id, not found by walking every user.
    fn only_ids<'a>(&'a self, filter: &'a UserFilter) -> Option<Only<'a, UserId>> {
        match filter.staff_of {
            Some(org) => Some(Only::Ids(Cow::Owned(self.staff_of(org)))),
            None => User::id_in(filter).map(|ids| Only::Ids(Cow::Borrowed(ids))),
        }
    }
}

impl MemoryTx {
    /// Writes `row` at `id` and records how to put back what was there.
    fn write<E: Entity>(&mut self, id: E::Id, row: Option<E>)
    where
        State: HasTable<E>,
    {
        let previous = HasTable::<E>::table(self.state()).put(id, row);
        self.undo.push(Box::new(move |state: &mut State| {
            HasTable::<E>::table(state).put(id, previous);
        }));
    }

    fn live<E: Entity>(&mut self, id: E::Id) -> Option<E>
    where
        State: HasTable<E>,
    {
        HasTable::<E>::table(self.state())
            .rows
            .get(&id)
            .filter(|row| !row.is_deleted())
            .cloned()
    }
}

impl<E: Entity> Repo<E> for MemoryTx
where
    State: HasTable<E> + RowMatch<E>,
{
    fn get(&mut self, id: E::Id) -> impl Future<Output = Result<Option<E>, StoreError>> + Send {
        let row = self.live(id);
        async move { Ok(row) }
    }

    fn get_for_update(&mut self, id: E::Id) -> impl Future<Output = Result<Option<E>, StoreError>> + Send {
        // The whole state is already held exclusively by this unit of work.
        let row = self.live(id);
        async move { Ok(row) }
    }

    fn insert(&mut self, entity: &E) -> impl Future<Output = Result<(), StoreError>> + Send {
        let result = (|| {
            let table = HasTable::<E>::table(self.state());
            if table.rows.contains_key(&entity.id()) {
                return Err(StoreError::Conflict {
                    entity: E::KIND,
                    field: "id",
                });
            }
            table.check_unique(entity)?;
            self.write(entity.id(), Some(entity.clone()));
            Ok(())
        })();
        async move { result }
    }

    fn update(&mut self, entity: &E) -> impl Future<Output = Result<E, StoreError>> + Send {
        let result = (|| {
            let id = entity.id();
            let table = HasTable::<E>::table(self.state());
            let stored = table
                .rows
                .get(&id)
                .filter(|row| !row.is_deleted())
                .ok_or_else(|| StoreError::not_found(E::KIND, id))?;
            if stored.version() != entity.version() {
                return Err(StoreError::stale(E::KIND));
            }
            table.check_unique(entity)?;
            let mut row = entity.clone();
            row.set_version(entity.version() + 1);
            self.write(id, Some(row.clone()));
            Ok(row)
        })();
        async move { result }
    }

    fn delete(&mut self, id: E::Id) -> impl Future<Output = Result<(), StoreError>> + Send {
        let result = if HasTable::<E>::table(self.state()).rows.contains_key(&id) {
            self.write::<E>(id, None);
            Ok(())
        } else {
            Err(StoreError::not_found(E::KIND, id))
        };
        async move { result }
    }

    fn list(
        &mut self,
        filter: &E::Filter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<E>, StoreError>> + Send {
        let state: &State = self.state();
        let matches = RowMatch::<E>::matcher(state, filter);
        let only = RowMatch::<E>::only_ids(state, filter);
        let table = HasTable::<E>::table_ref(state);
        let take = (page.limit as usize).saturating_add(1);
        if let Some(rank) = E::rank(filter) {
            // A ranked list: every match sorted, the first page only (`Entity::rank`).
            let mut rows: Vec<E> = table
                .candidates(only.as_ref(), Order::OldestFirst, None)
                .filter(|row| matches(row))
                .cloned()
                .collect();
            rows.sort_by(rank);
            rows.truncate(take);
            return std::future::ready(Ok(Page::from_overfetch(rows, page.limit, |row| row.id().into())));
        }
        let after = page.after.map(E::Id::from);
        let rows: Vec<E> = table
            .candidates(only.as_ref(), page.order, after)
            .filter(|row| matches(row))
            .take(take)
            .cloned()
            .collect();
        std::future::ready(Ok(Page::from_overfetch(rows, page.limit, |row| row.id().into())))
    }

    fn count(&mut self, filter: &E::Filter) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let state: &State = self.state();
        let matches = RowMatch::<E>::matcher(state, filter);
        let only = RowMatch::<E>::only_ids(state, filter);
        let n = HasTable::<E>::table_ref(state)
            .candidates(only.as_ref(), Order::OldestFirst, None)
            .filter(|row| matches(row))
            .count() as u64;
        async move { Ok(n) }
    }
}
