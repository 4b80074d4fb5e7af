//! Use cases. Each public method of [`Ecosystem`] is one unit of work:
//! load → authorize → validate → transition → persist the new state, its audit events and its
//! notifications/outbox messages, atomically (a single [`Transaction`] committed at the end).
//!
//! Layout:
//! - this module: [`Ecosystem`], [`Context`] (who is acting, for audit), and the unit-of-work
//!   helper shared by all use cases;
//! - `limits`: [`Limits`] (every number of docs/domain.md that is a policy) and its field table;
//! - `account`: registration, email verification, login with lockout, passwords, admin user
//!   management;
//! - `sessions_auth`: refresh tokens of signed-in sessions — issue, rotate (reuse revokes the
//!   family), revoke on logout;
//! - `organization`: organizations and their members;
//! - `program`: programs and their lifecycle, enrollments;
//! - `project`: projects, stages, milestones;
//! - `application`: applications, reviewer assignment, reviews, decisions, the waitlist;
//! - `inbox`: in-app notifications, the audit log, outbox delivery;
//! - `mentoring`: mentorships, ally directory and suggestions, availability and free slots;
//! - `cohort_matching`: a program's whole-cohort mentor matching, proposed and confirmed;
//! - `sessions`: booking and running mentorship sessions, feedback;
//! - `meetings`: meetings and their participants;
//! - `tasks`: tasks, subtasks and dependencies;
//! - `analytics`: the read models of §9 (program, organization, mentoring, one's own);
//! - `jobs`: the time-driven rules (reminders, sweeps, cleanups), each idempotent;
//! - `webhooks`: an organization's webhook endpoints, the events the audit log turns into
//!   webhook messages, their signing at delivery and the endpoints' failure tracking;
//! - `documents`: documents attached to projects, applications, milestones and sessions, their
//!   versions and bytes (through the blob store), and the orphan blob sweep;
//! - `calendar`: the calendar entry session and meeting emails carry (for iCalendar invites)
//!   and each user's private, revocable calendar feed;
//! - `messaging`: direct and context conversations, messages, unread counts and blocks.

mod account;
mod analytics;
mod application;
mod calendar;
mod cohort_matching;
mod documents;
mod expect;
mod inbox;
mod inputs;
mod jobs;
mod limits;
mod meetings;
mod mentoring;
mod messaging;
mod organization;
mod program;
mod project;
mod rounds;
mod sessions;
mod sessions_auth;
mod tasks;
mod webhooks;

pub use crate::rules::rounds::RoundInput;
pub use account::{AdminCreateUser, AdminUpdateUser, LoginOutcome, Register, UpdateMe};
pub use analytics::ExportKind;
pub use application::{ApplicantSummary, ApplicationAction, ApplicationView, Decision, ProjectSummary, SubmitReview};
pub use calendar::{CalendarFeedView, IssuedCalendarFeed};
pub use cohort_matching::{CohortProposal, PoolSeats, ProposedPair};
pub use documents::{DocumentDownload, UploadDocument};
pub use expect::Expect;
pub use inbox::{DeliveryReport, OutboxBacklog};
pub use jobs::{JOB_BATCH_SIZE, JobFailure, JobReport, JobsReport};
pub use limits::{LimitField, Limits, Percent};
pub use meetings::{MeetingAction, ScheduleMeeting};
pub use mentoring::{AllyCard, AllyQuery, AllySuggestion, RequestMentorship};
pub use messaging::{ConversationView, MESSAGE_RECEIVED, OpenConversation, message_body};
pub use organization::{CreateOrganization, UpdateOrganization};
pub use program::{CreateProgram, UpdateProgram};
pub use project::{
    CreateMilestone, CreateProject, MilestoneAction, UpdateMilestone, UpdateProject, project_description,
};
pub use sessions::{BookSession, SessionAction};
pub use sessions_auth::IssuedRefreshToken;
pub use tasks::{CreateTask, UpdateTask, task_description, task_due_date, task_title};
pub use webhooks::{CreateWebhook, UpdateWebhook, WEBHOOK_DESCRIPTION_MAX, WebhookWithSecret};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::{
    Actor, AuditEvent, AuditEventId, Meta, Notification, NotificationStatus, OrganizationId, OutboxChannel,
    OutboxMessage, OutboxStatus, User, UserId,
};
use crate::ports::store::{Entity, EntityId, ListFilter, Page, PageRequest, Repo, Store, Transaction};
use crate::ports::{
    Argon2idPasswordHasher, BlobStore, Clock, IdGen, MemoryBlobStore, Notifier, PasswordHasher, SharedBlobStore,
    UuidV7Gen,
};

/// Who is acting and where the command came from (recorded on every audit event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The actor.
    pub actor: Actor,
    /// The request id of the command, if any.
    pub request_id: Option<String>,
    /// The client's IP, if any.
    pub ip: Option<String>,
    /// The signed-in user's own row as the host's authentication read it for this request
    /// (with a caller cache, at most its TTL old), when the host has it. A use case that only
    /// shows or addresses the caller (a notice to the applicant who just submitted) takes it
    /// from here instead of reading it again. Nothing that authorizes the caller or updates the
    /// user's row reads it: those read the row in their own unit of work. A notice's delivery
    /// choices (the caller's notification preferences) may come from it, so a change of
    /// preferences takes effect on the caller's own notices within that TTL.
    pub caller: Option<Arc<User>>,
}

impl Context {
    /// A context for `actor` with no request metadata.
    pub fn new(actor: Actor) -> Self {
        Self {
            actor,
            request_id: None,
            ip: None,
            caller: None,
        }
    }

    /// The platform itself (jobs, automatic steps).
    pub fn system() -> Self {
        Self::new(Actor::System)
    }

    /// Someone not signed in.
    pub fn anonymous() -> Self {
        Self::new(Actor::Anonymous)
    }

    /// A signed-in user.
    pub fn user(user: &User) -> Self {
        Self::new(Actor::User {
            id: user.id,
            role: user.role,
        })
    }

    /// Adds the request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Adds the client IP.
    pub fn with_ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// Adds the signed-in user's row, as authentication read it (see [`Context::caller`]).
    pub fn with_caller(mut self, user: Arc<User>) -> Self {
        self.caller = Some(user);
        self
    }

    /// The caller's row when `id` is the caller and the host handed it over.
    pub(crate) fn caller_row(&self, id: UserId) -> Option<User> {
        self.caller.as_deref().filter(|u| u.id == id).cloned()
    }

    /// The signed-in user's id, or `Forbidden` for anonymous/system callers where a person is
    /// required.
    pub(crate) fn user_id(&self, action: &'static str) -> Result<UserId> {
        self.actor.user_id().ok_or(Error::Forbidden(crate::error::Forbidden {
            action,
            resource: "session",
        }))
    }
}

/// The ecosystem: every use case, over a store `S`, a notifier `N` and a clock `C`.
pub struct Ecosystem<S, N, C> {
    store: S,
    notifier: N,
    clock: C,
    ids: Arc<dyn IdGen>,
    hasher: Arc<dyn PasswordHasher>,
    blobs: SharedBlobStore,
    limits: Limits,
}

/// The ecosystem of a [`Ports`](crate::ports::Ports) bundle: one type parameter instead of
/// three (`EcosystemOf<MyHost>`).
pub type EcosystemOf<P> = Ecosystem<
    <P as crate::ports::Ports>::Store,
    <P as crate::ports::Ports>::Notifier,
    <P as crate::ports::Ports>::Clock,
>;

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// An ecosystem with default limits, UUID v7 ids and argon2id (OWASP parameters).
    pub fn new(store: S, notifier: N, clock: C) -> Self {
        Self {
            store,
            notifier,
            clock,
            ids: Arc::new(UuidV7Gen),
            hasher: Arc::new(Argon2idPasswordHasher::owasp()),
            // In memory until the host chooses one (`with_blob_store`), as the memory store is
            // the embedded default.
            blobs: SharedBlobStore::new(MemoryBlobStore::new()),
            limits: Limits::default(),
        }
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Replaces the password hasher (tests use cheap parameters).
    pub fn with_hasher(mut self, hasher: impl PasswordHasher) -> Self {
        self.hasher = Arc::new(hasher);
        self
    }

    /// Replaces the blob store where document bytes live (docs/domain.md §6).
    pub fn with_blob_store(mut self, blobs: impl BlobStore) -> Self {
        self.blobs = SharedBlobStore::new(blobs);
        self
    }

    /// The blob store (the orphan sweep and tests look into it).
    pub fn blob_store(&self) -> &SharedBlobStore {
        &self.blobs
    }

    /// Replaces the id generator.
    pub fn with_ids(mut self, ids: impl IdGen) -> Self {
        self.ids = Arc::new(ids);
        self
    }

    /// The store (for reads outside use cases and for tests).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The notifier.
    pub fn notifier(&self) -> &N {
        &self.notifier
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Starts a unit of work for `ctx` at the clock's now.
    pub(crate) async fn uow(&self, ctx: &Context) -> Result<Uow<S::Tx>> {
        Ok(Uow {
            tx: self.store.begin().await?,
            now: self.clock.now(),
            ctx: ctx.clone(),
            ids: Arc::clone(&self.ids),
            webhooks: None,
        })
    }
}

/// What one notification says; [`Uow::notify`] writes it in-app and, when the recipient wants
/// email, as an outbox message too.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    pub(crate) kind: &'static str,
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) data: Value,
    /// The calendar entry of a session or meeting notice (a serialized
    /// [`CalendarEntry`](crate::model::CalendarEntry)): only its email carries it, as
    /// `data.calendar`, for the iCalendar invite; the in-app notification stays short.
    pub(crate) calendar: Option<Value>,
}

impl Notice {
    pub(crate) fn new(kind: &'static str, title: impl Into<String>, body: impl Into<String>, data: Value) -> Self {
        Self {
            kind,
            title: title.into(),
            body: body.into(),
            data,
            calendar: None,
        }
    }

    /// The same notice with a calendar entry for its email (see [`Notice::calendar`]).
    pub(crate) fn with_calendar(mut self, entry: Option<&Value>) -> Self {
        self.calendar = entry.cloned();
        self
    }
}

/// One unit of work of a use case: the transaction plus who acts and when.
pub(crate) struct Uow<T> {
    pub(crate) tx: T,
    pub(crate) now: DateTime<Utc>,
    pub(crate) ctx: Context,
    ids: Arc<dyn IdGen>,
    /// The active webhook endpoints of one organization, read once per unit of work: a command
    /// auditing several events (an accept and its enrollment) pays for one read.
    pub(crate) webhooks: Option<(OrganizationId, Vec<crate::model::WebhookEndpoint>)>,
}

impl<T: Transaction> Uow<T> {
    /// A fresh id of any entity.
    pub(crate) fn new_id<I: From<Uuid>>(&self) -> I {
        I::from(self.ids.new_uuid())
    }

    /// Tracking for a row created now by the actor.
    pub(crate) fn meta(&self) -> Meta {
        Meta::new(self.now, self.ctx.actor.user_id())
    }

    pub(crate) async fn get<I: EntityId>(&mut self, id: I) -> Result<Option<I::Entity>>
    where
        T: Repo<I::Entity>,
    {
        Ok(Repo::<I::Entity>::get(&mut self.tx, id).await?)
    }

    /// The live row or `NotFound`.
    pub(crate) async fn load<I: EntityId + std::fmt::Display>(&mut self, id: I) -> Result<I::Entity>
    where
        T: Repo<I::Entity>,
    {
        Repo::<I::Entity>::get(&mut self.tx, id)
            .await?
            .ok_or_else(|| Error::not_found(<I::Entity as Entity>::KIND, id))
    }

    /// The live row, locked until the end of the unit of work, or `NotFound`.
    pub(crate) async fn load_for_update<I: EntityId + std::fmt::Display>(&mut self, id: I) -> Result<I::Entity>
    where
        T: Repo<I::Entity>,
    {
        Repo::<I::Entity>::get_for_update(&mut self.tx, id)
            .await?
            .ok_or_else(|| Error::not_found(<I::Entity as Entity>::KIND, id))
    }

    pub(crate) async fn insert<E: Entity>(&mut self, entity: &E) -> Result<()>
    where
        T: Repo<E>,
    {
        Ok(Repo::<E>::insert(&mut self.tx, entity).await?)
    }

    /// Stamps the change (`updated_at`, `updated_by`) and writes it; returns the stored row.
    pub(crate) async fn update<E: Entity>(&mut self, mut entity: E) -> Result<E>
    where
        T: Repo<E>,
    {
        entity.touch(self.now, self.ctx.actor.user_id());
        Ok(Repo::<E>::update(&mut self.tx, &entity).await?)
    }

    pub(crate) async fn delete<I: EntityId>(&mut self, id: I) -> Result<()>
    where
        T: Repo<I::Entity>,
    {
        Ok(Repo::<I::Entity>::delete(&mut self.tx, id).await?)
    }

    pub(crate) async fn list<F: ListFilter>(&mut self, filter: &F, page: PageRequest) -> Result<Page<F::Entity>>
    where
        T: Repo<F::Entity>,
    {
        Ok(Repo::<F::Entity>::list(&mut self.tx, filter, page).await?)
    }

    /// Every matching row (for internal queries with a natural bound).
    pub(crate) async fn all<F: ListFilter>(&mut self, filter: &F) -> Result<Vec<F::Entity>>
    where
        T: Repo<F::Entity>,
    {
        Ok(self.list(filter, PageRequest::all()).await?.items)
    }

    pub(crate) async fn first<F: ListFilter>(&mut self, filter: &F) -> Result<Option<F::Entity>>
    where
        T: Repo<F::Entity>,
    {
        Ok(self.list(filter, PageRequest::first(1)).await?.items.into_iter().next())
    }

    pub(crate) async fn count<F: ListFilter>(&mut self, filter: &F) -> Result<u64>
    where
        T: Repo<F::Entity>,
    {
        Ok(Repo::<F::Entity>::count(&mut self.tx, filter).await?)
    }

    /// Appends an audit event for the acting context, and the webhook messages it produces.
    pub(crate) async fn audit(
        &mut self,
        action: &str,
        target_kind: &str,
        target_id: impl Into<Uuid>,
        organization_id: Option<OrganizationId>,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Result<()> {
        let (actor_id, actor_kind) = match self.ctx.actor {
            Actor::User { id, .. } => (Some(id), "user"),
            Actor::Anonymous => (None, "anonymous"),
            Actor::System => (None, "system"),
        };
        let event = AuditEvent {
            id: self.new_id::<AuditEventId>(),
            actor_id,
            actor_kind: actor_kind.to_owned(),
            action: action.to_owned(),
            target_kind: target_kind.to_owned(),
            target_id: target_id.into(),
            organization_id,
            before,
            after,
            request_id: self.ctx.request_id.clone(),
            ip: self.ctx.ip.clone(),
            at: self.now,
        };
        self.insert(&event).await?;
        // Every audited change an organization's systems may want passes here, so this is the
        // one place webhook events are produced.
        self.enqueue_webhook_events(&event).await
    }

    /// Audits a status change `from → to` of an entity.
    pub(crate) async fn audit_transition(
        &mut self,
        action: &str,
        target_kind: &str,
        target_id: impl Into<Uuid>,
        organization_id: Option<OrganizationId>,
        from: &str,
        to: &str,
    ) -> Result<()> {
        self.audit(
            action,
            target_kind,
            target_id,
            organization_id,
            Some(serde_json::json!({ "status": from })),
            Some(serde_json::json!({ "status": to })),
        )
        .await
    }

    /// Writes an in-app notification for `user` and, when they want email, an outbox message,
    /// in this unit of work.
    pub(crate) async fn notify(&mut self, user: &User, notice: Notice) -> Result<()> {
        self.notify_in_app(user, &notice).await?;
        if user.notification_preferences.email {
            self.email(user, notice).await?;
        }
        Ok(())
    }

    /// Writes the in-app notification of `notice` for `user` only (messaging decides the email
    /// itself, at most one per conversation per digest window).
    pub(crate) async fn notify_in_app(&mut self, user: &User, notice: &Notice) -> Result<()> {
        // The platform writes notifications: their tracking names no user, because the
        // recipient reads the row and must not learn who caused it (blind review: staff are told
        // an application arrived, not who sent it).
        let meta = Meta::new(self.now, None);
        let notification = Notification {
            id: self.new_id(),
            user_id: user.id,
            kind: notice.kind.to_owned(),
            title: notice.title.clone(),
            body: notice.body.clone(),
            data: notice.data.clone(),
            status: NotificationStatus::Unread,
            read_at: None,
            meta,
        };
        self.insert(&notification).await
    }

    /// Notifies the user with this id (skipping users that no longer exist).
    pub(crate) async fn notify_id(&mut self, user_id: UserId, notice: Notice) -> Result<()> {
        match self.get(user_id).await? {
            Some(user) => self.notify(&user, notice).await,
            None => Ok(()),
        }
    }

    /// Writes an email to `user` into the outbox (account emails go here whatever the
    /// preferences say: a verification link is not optional).
    pub(crate) async fn email(&mut self, user: &User, notice: Notice) -> Result<()> {
        // The email is rendered later, from a template in the recipient's language: the data
        // carries it because the delivery side sees only the outbox row.
        let mut data = notice.data;
        if let Value::Object(fields) = &mut data {
            fields.insert("language".to_owned(), Value::from(user.language.as_str()));
            if let Some(entry) = notice.calendar {
                fields.insert("calendar".to_owned(), entry);
            }
        }
        let message = OutboxMessage {
            id: self.new_id(),
            channel: OutboxChannel::Email,
            user_id: Some(user.id),
            recipient: user.email.as_str().to_owned(),
            kind: notice.kind.to_owned(),
            subject: notice.title,
            body: notice.body,
            data,
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: self.now,
            sent_at: None,
            last_error: None,
            meta: self.meta(),
        };
        self.insert(&message).await
    }

    /// Locks the calendars of `users` (their user rows) for the rest of the unit of work, in id
    /// order so two bookings locking the same pair can never deadlock. Every command that adds
    /// or moves a session or meeting of a person takes this lock first, so overlap and per-day
    /// checks made after it see every concurrent booking.
    pub(crate) async fn lock_calendars(&mut self, users: &[UserId]) -> Result<Vec<User>> {
        let mut ids = users.to_vec();
        ids.sort();
        ids.dedup();
        let mut locked = Vec::with_capacity(ids.len());
        for id in ids {
            locked.push(self.load_for_update(id).await?);
        }
        Ok(locked)
    }

    /// Records that a job did `key` once. Returns `false` when it was already recorded, so the
    /// caller skips the work: running a job twice at the same `now` notifies nobody twice.
    pub(crate) async fn mark_once(&mut self, key: String) -> Result<bool> {
        use crate::ports::store::JobMarkFilter;
        if self.count(&JobMarkFilter { key: Some(key.clone()) }).await? > 0 {
            return Ok(false);
        }
        let mark = crate::model::JobMark {
            id: self.new_id(),
            key,
            at: self.now,
        };
        self.insert(&mark).await?;
        Ok(true)
    }

    pub(crate) async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }
}

/// Authorizes `action` on a resource the actor must first be able to see: a resource they may
/// not see is `NotFound` (no existence leak across tenants), one they see but may not act on is
/// `Forbidden`. Pass the view action itself as `action` for plain reads.
pub(crate) fn authorize_seen(
    actor: &Actor,
    view: crate::policy::Action,
    action: crate::policy::Action,
    facts: &crate::policy::Facts,
    entity: &'static str,
    id: impl std::fmt::Display,
) -> Result<()> {
    crate::policy::authorize(actor, view, facts).map_err(|_| Error::not_found(entity, id))?;
    Ok(crate::policy::authorize(actor, action, facts)?)
}

/// Checks the version a caller sent (from `If-Match` or the body) against the one loaded, so a
/// stale edit is refused before any work. The store re-checks on write, which covers races.
pub(crate) fn check_version<E: Entity>(entity: &E, expected: impl Into<Expect>) -> Result<()> {
    if expected.into().allows(entity.version()) {
        Ok(())
    } else {
        Err(Error::Conflict {
            entity: E::KIND,
            field: "version",
        })
    }
}
