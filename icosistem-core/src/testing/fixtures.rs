//! The world the conformance cases build on: an [`Ecosystem`] over the store under test with a
//! manual clock at [`t0`], a recording notifier and cheap hashing, plus helpers that create
//! people, organizations, open programs, projects and applications, allies with a profile and a
//! weekly schedule in a given time zone, mentorships, sessions, meetings and tasks, read rows
//! back straight from the store, and race commands on the multi-thread runtime.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde_json::Map;
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::secret::SecretString;
use crate::model::{
    AllyProfile, Application, ApplicationId, AuditEvent, Meeting, MemberRole, Mentorship, MentorshipId,
    MentorshipStatus, Milestone, Notification, Organization, OrganizationType, OutboxChannel, OutboxMessage,
    ProfileData, Program, ProgramId, ProgramType, Project, ProjectId, ProjectType, Role, Session, Task, TaskId, User,
    UserId, UserStatus,
};
use crate::ports::store::{
    ApplicationFilter, AuditFilter, Entity, EntityId, ListFilter, NotificationFilter, OutboxFilter, PageRequest, Repo,
    ReviewFilter,
};
use crate::ports::{Argon2idPasswordHasher, DeliveryError, ManualClock, Notifier, RecordingNotifier, Store};
use crate::rules::availability::WeeklySlot;
use crate::service::{
    AdminCreateUser, AdminUpdateUser, BookSession, CreateMilestone, CreateOrganization, CreateProgram, CreateProject,
    CreateTask, Decision, RequestMentorship, ScheduleMeeting, SubmitReview, UpdateMe,
};
use crate::workflow::mentorship::MentorshipCommand;
use crate::workflow::program::ProgramCommand;
use crate::{Context, Ecosystem};

/// A password every fixture user has: long enough, not common, not containing any fixture
/// email's local part.
pub const PASSWORD: &str = "correct horse battery staple 42";

/// The instant every world's clock starts at.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 3, 4, 9, 0, 0)
        .single()
        .expect("a valid instant")
}

/// [`PASSWORD`] as a secret.
pub fn password() -> SecretString {
    SecretString::new(PASSWORD)
}

/// The ecosystem of the cases: the store under test, notifier `N`, a shared manual clock.
pub type TestEcosystem<S, N = Arc<RecordingNotifier>> = Ecosystem<S, N, Arc<ManualClock>>;

/// A user and the context they act in.
#[derive(Debug, Clone)]
pub struct Person {
    /// The user as created.
    pub user: User,
    /// `Context::user(&user)`.
    pub ctx: Context,
}

impl Person {
    /// The user's id.
    pub fn id(&self) -> UserId {
        self.user.id
    }

    /// The user's email as stored.
    pub fn email(&self) -> &str {
        self.user.email.as_str()
    }
}

/// The shape of a program created by [`World::cohort`].
#[derive(Debug, Clone, Copy)]
pub struct ProgramSpec {
    /// Capacity.
    pub max_participants: u32,
    /// Minimum cohort to start.
    pub min_participants: u32,
    /// Qualified reviews per decision; the cohort gets this many reviewers.
    pub min_reviews: u32,
    /// Blind review.
    pub blind_review: bool,
}

impl Default for ProgramSpec {
    fn default() -> Self {
        Self {
            max_participants: 10,
            min_participants: 1,
            min_reviews: 1,
            blind_review: false,
        }
    }
}

impl ProgramSpec {
    /// A program of `max` seats, otherwise default.
    pub fn seats(max: u32) -> Self {
        Self {
            max_participants: max,
            ..Self::default()
        }
    }

    /// A program whose decisions need `n` qualified reviews (its cohort gets `n` reviewers),
    /// otherwise default.
    pub fn reviews(n: u32) -> Self {
        Self {
            min_reviews: n,
            ..Self::default()
        }
    }

    /// A program with blind review, otherwise default.
    pub fn blind() -> Self {
        Self {
            blind_review: true,
            ..Self::default()
        }
    }
}

/// An organization with an owner, reviewers and a published program open for applications.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// The organization.
    pub org: Organization,
    /// Its owner (an ally who created it): program staff.
    pub owner: Person,
    /// Members with the reviewer role, as many as the program's `min_reviews`.
    pub reviewers: Vec<Person>,
    /// The program, published, accepting applications at [`t0`].
    pub program: Program,
}

/// An entrepreneur, their project and its application.
#[derive(Debug, Clone)]
pub struct Applicant {
    /// The entrepreneur.
    pub person: Person,
    /// Their project.
    pub project: Project,
    /// The application, as last returned.
    pub application: Application,
}

impl Applicant {
    /// The application's id.
    pub fn id(&self) -> ApplicationId {
        self.application.id
    }
}

/// An entrepreneur and their active mentorship with an ally.
#[derive(Debug, Clone)]
pub struct Mentee {
    /// The entrepreneur.
    pub person: Person,
    /// The mentorship, as returned by the accept.
    pub mentorship: Mentorship,
}

impl Mentee {
    /// The mentorship's id.
    pub fn id(&self) -> MentorshipId {
        self.mentorship.id
    }
}

/// The ecosystem under test, its clock, and an admin.
pub struct World<S, N = Arc<RecordingNotifier>> {
    /// The ecosystem (shared with spawned tasks).
    pub eco: Arc<TestEcosystem<S, N>>,
    /// Its clock, at [`t0`] until a case moves it.
    pub clock: Arc<ManualClock>,
    /// An admin created through `admin_create_user` by the system.
    pub admin: Person,
    seq: AtomicU64,
}

impl<S: Store> World<S> {
    /// A world over `store` with a [`RecordingNotifier`].
    pub async fn new(store: S) -> Self {
        Self::with_notifier(store, Arc::new(RecordingNotifier::new())).await
    }

    /// What the notifier delivered so far.
    pub fn delivered(&self) -> Vec<OutboxMessage> {
        self.eco.notifier().delivered()
    }
}

impl<S: Store, N: Notifier> World<S, N> {
    /// A world over `store` delivering through `notifier`.
    pub async fn with_notifier(store: S, notifier: N) -> Self {
        Self::with_limits(store, notifier, crate::Limits::default()).await
    }

    /// A world over `store` delivering through `notifier`, under `limits`.
    pub async fn with_limits(store: S, notifier: N, limits: crate::Limits) -> Self {
        let clock = Arc::new(ManualClock::new(t0()));
        let eco = Ecosystem::new(store, notifier, Arc::clone(&clock))
            .with_hasher(Argon2idPasswordHasher::fast_for_tests())
            // Blobs stamped by the world's clock, so the orphan sweep's grace is exact.
            .with_blob_store(crate::ports::MemoryBlobStore::with_clock(clock.clone()))
            .with_limits(limits);
        let eco = Arc::new(eco);
        let admin = create_person(&eco, Role::Admin, "admin0", "Ada", "Admin").await;
        Self {
            eco,
            clock,
            admin,
            seq: AtomicU64::new(1),
        }
    }

    /// The store under test.
    pub fn store(&self) -> &S {
        self.eco.store()
    }

    /// A number unique within this world.
    pub fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The clock's now.
    pub fn now(&self) -> DateTime<Utc> {
        crate::ports::Clock::now(&self.clock)
    }

    // -----------------------------------------------------------------------------------------
    // People and organizations

    /// A verified, active user of `role` created by the system (`{label}{n}@example.test`).
    pub async fn person(&self, role: Role, label: &str) -> Person {
        let n = self.next();
        let first = format!("{}{}", capitalize(label), n);
        create_person(&self.eco, role, &format!("{label}{n}"), &first, "Tester").await
    }

    /// A user with the given names (for identity checks).
    pub async fn person_named(&self, role: Role, first: &str, last: &str) -> Person {
        let local = format!("{}.{}{}", first.to_lowercase(), last.to_lowercase(), self.next());
        create_person(&self.eco, role, &local, first, last).await
    }

    /// An entrepreneur.
    pub async fn entrepreneur(&self) -> Person {
        self.person(Role::Entrepreneur, "ent").await
    }

    /// An ally (mentor); allies may create organizations.
    pub async fn ally(&self) -> Person {
        self.person(Role::Ally, "ally").await
    }

    /// An organization created by `owner` (who becomes its owner member).
    pub async fn organization(&self, owner: &Person) -> Organization {
        let n = self.next();
        self.eco
            .create_organization(&owner.ctx, organization_input(&format!("Hub {n}")))
            .await
            .expect("create organization")
    }

    /// Adds `user` to `org` with `role`, acting as `by` (an owner or admin).
    pub async fn add_member(&self, by: &Person, org: &Organization, user: &Person, role: MemberRole) {
        self.eco
            .add_member(&by.ctx, org.id, user.id(), role)
            .await
            .expect("add member");
    }

    /// The input of a program open at [`t0`]-relative instants: opens one day before now,
    /// deadline in 10 days, starts in 20 days, ends in 80.
    pub fn program_input(&self, org: &Organization, name: &str, spec: ProgramSpec) -> CreateProgram {
        let now = self.now();
        CreateProgram {
            organization_id: org.id,
            name: name.to_owned(),
            program_type: ProgramType::Acceleration,
            description: None,
            application_opens_at: now - Duration::days(1),
            application_deadline: now + Duration::days(10),
            start_date: (now + Duration::days(20)).date_naive(),
            end_date: (now + Duration::days(80)).date_naive(),
            min_participants: Some(spec.min_participants),
            max_participants: spec.max_participants,
            min_reviews: Some(spec.min_reviews),
            blind_review: Some(spec.blind_review),
            target_sectors: Vec::new(),
            target_stages: Vec::new(),
            format: None,
            rounds: None,
        }
    }

    /// A published program of `org`, created and published by `staff`, accepting applications.
    pub async fn open_program(&self, staff: &Person, org: &Organization, spec: ProgramSpec) -> Program {
        let n = self.next();
        let program = self
            .eco
            .create_program(&staff.ctx, self.program_input(org, &format!("Cohort {n}"), spec))
            .await
            .expect("create program");
        self.eco
            .program_command(&staff.ctx, program.id, ProgramCommand::Publish, None)
            .await
            .expect("publish program")
    }

    /// An organization (owned by a new ally), `spec.min_reviews` reviewer members, and an open
    /// program.
    pub async fn cohort(&self, spec: ProgramSpec) -> Cohort {
        let owner = self.ally().await;
        let org = self.organization(&owner).await;
        let mut reviewers = Vec::new();
        for _ in 0..spec.min_reviews {
            let reviewer = self.ally().await;
            self.add_member(&owner, &org, &reviewer, MemberRole::Reviewer).await;
            reviewers.push(reviewer);
        }
        let program = self.open_program(&owner, &org, spec).await;
        Cohort {
            org,
            owner,
            reviewers,
            program,
        }
    }

    /// The program as stored now.
    pub async fn program(&self, cohort: &Cohort) -> Program {
        self.row(cohort.program.id).await.expect("program exists")
    }

    // -----------------------------------------------------------------------------------------
    // Projects and applications

    /// A draft project of `owner` named `Venture {n}`.
    pub async fn project(&self, owner: &Person) -> Project {
        let n = self.next();
        self.eco
            .create_project(&owner.ctx, project_input(&format!("Venture {n}")))
            .await
            .expect("create project")
    }

    /// `person`'s new project, applied and submitted to the cohort's program.
    pub async fn submit(&self, cohort: &Cohort, person: &Person) -> Applicant {
        let mut applicant = self.draft(cohort, person).await;
        applicant.application = self
            .eco
            .submit_application(&person.ctx, applicant.id(), None)
            .await
            .expect("submit application");
        applicant
    }

    /// A new project of `person` with a draft application (not submitted) to `cohort`'s
    /// program.
    pub async fn draft(&self, cohort: &Cohort, person: &Person) -> Applicant {
        let project = self.project(person).await;
        let application = self
            .eco
            .create_application(&person.ctx, cohort.program.id, project.id, Map::new())
            .await
            .expect("create application");
        Applicant {
            person: person.clone(),
            project,
            application,
        }
    }

    /// Assigns every reviewer of the cohort and has each submit `score`.
    pub async fn review(&self, cohort: &Cohort, applicant: &mut Applicant, score: i64) {
        for reviewer in &cohort.reviewers {
            self.eco
                .assign_reviewer(&cohort.owner.ctx, applicant.id(), reviewer.id())
                .await
                .expect("assign reviewer");
            self.eco
                .submit_review(
                    &reviewer.ctx,
                    applicant.id(),
                    SubmitReview {
                        score,
                        comment: None,
                        conflict_declared: false,
                    },
                )
                .await
                .expect("submit review");
        }
        applicant.application = self.row(applicant.id()).await.expect("application exists");
    }

    /// `reviewer` assigned to `application` by the cohort's owner.
    pub async fn assign(&self, cohort: &Cohort, application: ApplicationId, reviewer: UserId) {
        self.eco
            .assign_reviewer(&cohort.owner.ctx, application, reviewer)
            .await
            .expect("assign reviewer");
    }

    /// A new entrepreneur whose application is under review with every review in (`score`).
    pub async fn ready(&self, cohort: &Cohort, score: i64) -> Applicant {
        let person = self.entrepreneur().await;
        let mut applicant = self.submit(cohort, &person).await;
        self.review(cohort, &mut applicant, score).await;
        applicant
    }

    /// The error of the cohort's owner deciding `application`; panics if the decision is taken.
    pub async fn refused_decision(&self, cohort: &Cohort, application: ApplicationId, decision: Decision) -> Error {
        expect_err(
            self.eco
                .decide(&cohort.owner.ctx, application, decision, None, None)
                .await,
        )
    }

    /// The cohort's owner decides.
    pub async fn decide(&self, cohort: &Cohort, applicant: &mut Applicant, decision: Decision) {
        applicant.application = self
            .eco
            .decide(&cohort.owner.ctx, applicant.id(), decision, None, None)
            .await
            .unwrap_or_else(|e| panic!("{decision:?} failed: {e:?}"));
    }

    /// A new applicant, reviewed (`score`) and accepted.
    pub async fn accepted(&self, cohort: &Cohort, score: i64) -> Applicant {
        let mut applicant = self.ready(cohort, score).await;
        self.decide(cohort, &mut applicant, Decision::Accept).await;
        applicant
    }

    /// A new applicant, reviewed (`score`) and waitlisted.
    pub async fn waitlisted(&self, cohort: &Cohort, score: i64) -> Applicant {
        let mut applicant = self.ready(cohort, score).await;
        self.decide(cohort, &mut applicant, Decision::Waitlist).await;
        applicant
    }

    // -----------------------------------------------------------------------------------------
    // Mentoring: allies, mentorships, sessions, meetings, tasks

    /// A new ally whose account lives in `timezone`, with `profile` and a weekly schedule of
    /// `slots` in that zone.
    pub async fn mentor(&self, profile: AllyProfile, timezone: &str, slots: Vec<WeeklySlot>) -> Person {
        let mut ally = self.ally().await;
        ally.user = self
            .eco
            .update_me(
                &ally.ctx,
                UpdateMe {
                    timezone: Some(timezone.to_owned()),
                    ..Default::default()
                },
            )
            .await
            .expect("set the ally's time zone");
        self.eco
            .update_my_profile(&ally.ctx, ProfileData::Ally(profile), None)
            .await
            .expect("ally profile");
        self.eco
            .set_my_availability(&ally.ctx, timezone.to_owned(), slots, None)
            .await
            .expect("ally availability");
        ally
    }

    /// A new ally in UTC, default profile (10 mentees, available, 60-minute sessions), available
    /// Monday to Friday 08:00–18:00.
    pub async fn available_ally(&self) -> Person {
        self.mentor(AllyProfile::default(), "UTC", weekdays(8, 18)).await
    }

    /// A new ally in UTC available Monday to Friday 08:00–18:00 who takes at most `max_mentees`.
    pub async fn ally_with_capacity(&self, max_mentees: u8) -> Person {
        let profile = AllyProfile {
            max_mentees,
            ..AllyProfile::default()
        };
        self.mentor(profile, "UTC", weekdays(8, 18)).await
    }

    /// `entrepreneur` asks `ally` for mentorship (no message, no areas, default length).
    pub async fn request_mentorship(&self, entrepreneur: &Person, ally: &Person) -> Mentorship {
        self.eco
            .request_mentorship(&entrepreneur.ctx, mentorship_request(ally.id()))
            .await
            .expect("request mentorship")
    }

    /// Runs `command` on a mentorship as `by`, expecting success.
    pub async fn mentorship_step(&self, by: &Person, id: MentorshipId, command: MentorshipCommand) -> Mentorship {
        self.eco
            .mentorship_command(&by.ctx, id, command, None)
            .await
            .unwrap_or_else(|e| panic!("{command} failed: {e:?}"))
    }

    /// A new entrepreneur in an active mentorship with `ally` (requested, then accepted).
    pub async fn mentee(&self, ally: &Person) -> Mentee {
        let person = self.entrepreneur().await;
        let requested = self.request_mentorship(&person, ally).await;
        let mentorship = self
            .mentorship_step(ally, requested.id, MentorshipCommand::Accept)
            .await;
        assert_eq!(mentorship.status, MentorshipStatus::Active);
        Mentee { person, mentorship }
    }

    /// `by` books a session of `minutes` at `starts_at` in `mentorship`, expecting success.
    pub async fn book(&self, by: &Person, mentorship: MentorshipId, starts_at: DateTime<Utc>, minutes: u16) -> Session {
        self.eco
            .book_session(&by.ctx, mentorship, booking(starts_at, minutes))
            .await
            .unwrap_or_else(|e| panic!("booking at {starts_at} failed: {e:?}"))
    }

    /// `organizer` calls a meeting `[starts_at, ends_at)` with `participants`, expecting success.
    pub async fn meeting(
        &self,
        organizer: &Person,
        participants: &[&Person],
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> Meeting {
        let input = meeting_input(
            "Quarterly check-in",
            starts_at,
            ends_at,
            participants.iter().map(|p| p.id()).collect(),
        );
        self.eco
            .schedule_meeting(&organizer.ctx, input)
            .await
            .expect("schedule meeting")
            .0
    }

    /// A task of `owner` titled `title`, a subtask of `parent` when given.
    pub async fn task(&self, owner: &Person, title: &str, parent: Option<TaskId>) -> Task {
        self.eco
            .create_task(
                &owner.ctx,
                CreateTask {
                    title: title.to_owned(),
                    parent_id: parent,
                    ..Default::default()
                },
            )
            .await
            .expect("create task")
    }

    /// A milestone of `project` titled `title`, created by `owner`, due `days` after the clock's date.
    pub async fn milestone(&self, owner: &Person, project: ProjectId, title: &str, days: i64) -> Milestone {
        let target = self.now().date_naive() + Duration::days(days);
        self.eco
            .create_milestone(&owner.ctx, project, milestone_input(title, target))
            .await
            .expect("milestone")
    }

    /// `change` applied to `user` by the world's admin; the user as changed.
    pub async fn admin_update(&self, user: UserId, change: AdminUpdateUser) -> User {
        self.eco
            .admin_update_user(&self.admin.ctx, user, change)
            .await
            .expect("admin update")
    }

    /// `user`'s role set to `role` by the world's admin.
    pub async fn set_role(&self, user: UserId, role: Role) -> User {
        self.admin_update(user, role_change(role)).await
    }

    /// `user`'s status set to `status` by the world's admin.
    pub async fn set_status(&self, user: UserId, status: UserStatus) -> User {
        self.admin_update(user, status_change(status)).await
    }

    // -----------------------------------------------------------------------------------------
    // Reading the store directly

    /// The live row with this id, read in its own unit of work.
    pub async fn row<I: EntityId>(&self, id: I) -> Option<I::Entity>
    where
        S::Tx: Repo<I::Entity>,
    {
        let mut tx = self.store().begin().await.expect("begin");
        Repo::<I::Entity>::get(&mut tx, id).await.expect("get")
    }

    /// Every row matching `filter`, newest first.
    pub async fn rows<F: ListFilter>(&self, filter: F) -> Vec<F::Entity>
    where
        S::Tx: Repo<F::Entity>,
    {
        let mut tx = self.store().begin().await.expect("begin");
        Repo::<F::Entity>::list(&mut tx, &filter, PageRequest::all())
            .await
            .expect("list")
            .items
    }

    /// The ids of every row matching `filter`, newest first.
    pub async fn ids<F: ListFilter>(&self, filter: F) -> Vec<<F::Entity as Entity>::Id>
    where
        S::Tx: Repo<F::Entity>,
    {
        ids(&self.rows(filter).await)
    }

    /// How many rows match `filter`.
    pub async fn count<F: ListFilter>(&self, filter: F) -> u64
    where
        S::Tx: Repo<F::Entity>,
    {
        let mut tx = self.store().begin().await.expect("begin");
        Repo::<F::Entity>::count(&mut tx, &filter).await.expect("count")
    }

    /// The audit events with `action` about `target`.
    pub async fn audit(&self, action: &str, target: impl Into<Uuid>) -> Vec<AuditEvent> {
        self.rows(AuditFilter {
            action: Some(action.to_owned()),
            target_id: Some(target.into()),
            ..Default::default()
        })
        .await
    }

    /// How many audit events have `action` (about any target).
    pub async fn audit_count(&self, action: &str) -> u64 {
        self.count(AuditFilter {
            action: Some(action.to_owned()),
            ..Default::default()
        })
        .await
    }

    /// The one audit event with `action` about `target`; panics unless there is exactly one.
    pub async fn audited(&self, action: &str, target: impl Into<Uuid>) -> AuditEvent {
        let target = target.into();
        let mut events = self.audit(action, target).await;
        assert_eq!(
            events.len(),
            1,
            "expected one `{action}` audit event about {target}, found {events:?}"
        );
        events.remove(0)
    }

    /// The in-app notifications of `user` of `kind`.
    pub async fn notifications(&self, user: UserId, kind: &str) -> Vec<Notification> {
        self.rows(NotificationFilter {
            user_id: Some(user),
            kind: Some(kind.to_owned()),
            ..Default::default()
        })
        .await
    }

    /// The outbox messages for `user` of `kind`.
    pub async fn outbox(&self, user: UserId, kind: &str) -> Vec<OutboxMessage> {
        self.rows(OutboxFilter {
            user_id: Some(user),
            kind: Some(kind.to_owned()),
            ..Default::default()
        })
        .await
    }

    /// Asserts that `user` got exactly one `kind` notification in-app and exactly one as an
    /// email in the outbox, and returns the in-app one.
    pub async fn assert_notified(&self, user: UserId, kind: &str) -> Notification {
        let mut in_app = self.notifications(user, kind).await;
        assert_eq!(
            in_app.len(),
            1,
            "expected one in-app `{kind}` notification for {user}, found {in_app:?}"
        );
        let outbox = self.outbox(user, kind).await;
        assert_eq!(
            outbox.len(),
            1,
            "expected one `{kind}` outbox message for {user}, found {outbox:?}"
        );
        assert_eq!(outbox[0].channel, OutboxChannel::Email);
        in_app.remove(0)
    }

    /// Fails when `user` has an in-app `kind` notification.
    pub async fn assert_not_notified(&self, user: UserId, kind: &str) {
        let in_app = self.notifications(user, kind).await;
        assert!(
            in_app.is_empty(),
            "expected no `{kind}` notification for {user}, found {in_app:?}"
        );
    }

    /// The token in the newest `kind` outbox message of `user` (`data["token"]`).
    pub async fn token_from_outbox(&self, user: UserId, kind: &str) -> String {
        let messages = self.outbox(user, kind).await;
        let newest = messages
            .first()
            .unwrap_or_else(|| panic!("no `{kind}` message for {user}"));
        newest.data["token"]
            .as_str()
            .unwrap_or_else(|| panic!("`{kind}` message without a token: {:?}", newest.data))
            .to_owned()
    }
}

async fn create_person<S: Store, N: Notifier>(
    eco: &TestEcosystem<S, N>,
    role: Role,
    local: &str,
    first: &str,
    last: &str,
) -> Person {
    let user = eco
        .admin_create_user(
            &Context::system(),
            AdminCreateUser {
                email: format!("{local}@example.test"),
                password: password(),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                role,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("create {role} {local}: {e:?}"));
    let ctx = Context::user(&user);
    Person { user, ctx }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The input of an organization named `name` with defaults elsewhere.
pub fn organization_input(name: &str) -> CreateOrganization {
    CreateOrganization {
        name: name.to_owned(),
        organization_type: OrganizationType::Incubator,
        is_public: None,
        allow_applications: None,
        email: None,
        website: None,
        tax_id: None,
        description: None,
    }
}

/// The input of a milestone titled `title` due on `target`, no description or priority.
pub fn milestone_input(title: &str, target: NaiveDate) -> CreateMilestone {
    CreateMilestone {
        title: title.to_owned(),
        description: None,
        target_date: target,
        priority: None,
    }
}

/// An admin's change of a user's role to `role` only.
pub fn role_change(role: Role) -> AdminUpdateUser {
    AdminUpdateUser {
        role: Some(role),
        ..Default::default()
    }
}

/// An admin's change of a user's status to `status` only.
pub fn status_change(status: UserStatus) -> AdminUpdateUser {
    AdminUpdateUser {
        status: Some(status),
        ..Default::default()
    }
}

/// The applications of `program` (any status).
pub fn applications_of(program: ProgramId) -> ApplicationFilter {
    ApplicationFilter {
        program_id: Some(program),
        ..Default::default()
    }
}

/// The reviews of `application` (assigned or submitted).
pub fn reviews_of(application: ApplicationId) -> ReviewFilter {
    ReviewFilter {
        application_id: Some(application),
        ..Default::default()
    }
}

/// The ids of `rows`, in their order.
pub fn ids<E: Entity>(rows: &[E]) -> Vec<E::Id> {
    rows.iter().map(Entity::id).collect()
}

/// The input of a project named `name` with defaults elsewhere.
pub fn project_input(name: &str) -> CreateProject {
    CreateProject::new(
        name,
        "A venture that makes something people want.",
        ProjectType::Startup,
    )
}

// ---------------------------------------------------------------------------------------------
// Mentoring inputs and instants

/// A weekly slot on `weekday` (0 = Monday) from `start` to `end`, each `(hour, minute)` local.
pub fn slot(weekday: u8, start: (u32, u32), end: (u32, u32)) -> WeeklySlot {
    let time = |(h, m): (u32, u32)| NaiveTime::from_hms_opt(h, m, 0).expect("a valid time");
    WeeklySlot {
        weekday,
        start: time(start),
        end: time(end),
    }
}

/// Monday to Friday, `start_hour`:00–`end_hour`:00 local.
pub fn weekdays(start_hour: u32, end_hour: u32) -> Vec<WeeklySlot> {
    (0..5).map(|d| slot(d, (start_hour, 0), (end_hour, 0))).collect()
}

/// `h:m` UTC on the day `days` after [`t0`]'s date (t0 is a Monday: `day_at(2, 10, 0)` is
/// Wednesday 10:00Z). Sessions need 24 h notice, so at t0 the first bookable instant is
/// `day_at(1, 9, 0)`.
pub fn day_at(days: i64, h: u32, m: u32) -> DateTime<Utc> {
    let date = t0().date_naive() + Duration::days(days);
    Utc.from_utc_datetime(&date.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")))
}

/// The instant of the wall-clock time `date h:m` in the IANA zone `zone` (which must exist
/// and be unambiguous there).
pub fn local(zone: &str, date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let tz: chrono_tz::Tz = zone.parse().expect("an IANA zone");
    tz.from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")))
        .single()
        .expect("an unambiguous local time")
        .with_timezone(&Utc)
}

/// A request to `ally` with defaults elsewhere.
pub fn mentorship_request(ally: UserId) -> RequestMentorship {
    RequestMentorship {
        ally_id: ally,
        message: None,
        areas: Vec::new(),
        project_id: None,
        duration_months: None,
    }
}

/// A booking of `minutes` at `starts_at`, no agenda.
pub fn booking(starts_at: DateTime<Utc>, minutes: u16) -> BookSession {
    BookSession {
        starts_at,
        duration_minutes: Some(minutes),
        agenda: None,
    }
}

/// A meeting titled `title` with `participants`, no description or location.
pub fn meeting_input(
    title: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    participants: Vec<UserId>,
) -> ScheduleMeeting {
    ScheduleMeeting {
        title: title.to_owned(),
        description: None,
        location: None,
        starts_at,
        ends_at,
        participant_ids: participants,
    }
}

// ---------------------------------------------------------------------------------------------
// Assertions

/// The error of `result`; panics with the value on `Ok`.
#[track_caller]
pub fn expect_err<T: Debug>(result: Result<T>) -> Error {
    match result {
        Ok(value) => panic!("expected an error, got Ok({value:?})"),
        Err(error) => error,
    }
}

/// Asserts `error` is a validation failure naming exactly `fields` (each at least once, and no
/// other field).
#[track_caller]
pub fn assert_fields(error: &Error, fields: &[&str]) {
    let Error::Validation(errors) = error else {
        panic!("expected a validation error on {fields:?}, got {error:?}");
    };
    let mut got: Vec<&str> = errors.fields().iter().map(|f| f.field.as_ref()).collect();
    got.sort_unstable();
    got.dedup();
    let mut want = fields.to_vec();
    want.sort_unstable();
    want.dedup();
    assert_eq!(got, want, "failing fields of {errors}");
}

/// Asserts `error` is a validation failure on `field` only, with exactly one message per entry
/// of `expected`, each containing that entry (in any order).
#[track_caller]
pub fn assert_messages(error: &Error, field: &str, expected: &[&str]) {
    let Error::Validation(errors) = error else {
        panic!("expected a validation error on {field}, got {error:?}");
    };
    let mut messages: Vec<&str> = Vec::new();
    for f in errors.fields() {
        assert_eq!(f.field.as_ref(), field, "unexpected failing field in {errors}");
        messages.push(f.message.as_ref());
    }
    assert_eq!(
        messages.len(),
        expected.len(),
        "expected {expected:?} on {field}, got {messages:?}"
    );
    for want in expected {
        let at = messages
            .iter()
            .position(|m| m.contains(want))
            .unwrap_or_else(|| panic!("no message on {field} says {want:?}: {messages:?}"));
        messages.remove(at);
    }
}

/// Asserts `error` is `Conflict { entity, field }`.
#[track_caller]
pub fn assert_conflict(error: &Error, entity: &str, field: &str) {
    assert!(
        matches!(error, Error::Conflict { entity: e, field: f } if *e == entity && *f == field),
        "expected Conflict {{ {entity}, {field} }}, got {error:?}"
    );
}

/// Asserts `error` is `InvalidTransition` of `entity` out of `from`, refusing `command` (any
/// command when `None`).
#[track_caller]
pub fn assert_invalid_transition(error: &Error, entity: &str, from: &str, command: Option<&str>) {
    assert!(
        matches!(
            error,
            Error::InvalidTransition { entity: e, from: f, command: c }
                if *e == entity && *f == from && command.is_none_or(|command| *c == command)
        ),
        "expected InvalidTransition {{ {entity}, {from}, {command:?} }}, got {error:?}"
    );
}

/// Asserts `error` is `NotFound` for `entity`.
#[track_caller]
pub fn assert_not_found(error: &Error, entity: &str) {
    assert!(
        matches!(error, Error::NotFound { entity: e, .. } if *e == entity),
        "expected NotFound {entity}, got {error:?}"
    );
}

/// Asserts `error` is `Forbidden`.
#[track_caller]
pub fn assert_forbidden(error: &Error) {
    assert!(
        matches!(error, Error::Forbidden(_)),
        "expected Forbidden, got {error:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency

/// Runs every future on its own task of the multi-thread runtime, all released at once by a
/// barrier, and returns their outputs in order.
pub async fn race<T, F>(futures: Vec<F>) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(futures.len()));
    let handles: Vec<_> = futures
        .into_iter()
        .map(|future| {
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                future.await
            })
        })
        .collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("a raced task panicked"));
    }
    outputs
}

// ---------------------------------------------------------------------------------------------
// Notifiers

/// A notifier that fails every delivery (transiently, or permanently), counting attempts.
#[derive(Debug, Default)]
pub struct FailingNotifier {
    permanent: bool,
    attempts: AtomicU32,
    seen: Mutex<Vec<crate::model::OutboxId>>,
}

impl FailingNotifier {
    /// Fails with a transient error (retried).
    pub fn transient() -> Self {
        Self::default()
    }

    /// Fails with a permanent error (not retried).
    pub fn permanent() -> Self {
        Self {
            permanent: true,
            ..Self::default()
        }
    }

    /// Deliveries attempted so far.
    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::SeqCst)
    }

    /// The ids of the messages attempted, in order.
    pub fn seen(&self) -> Vec<crate::model::OutboxId> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A notifier that succeeds after yielding a few times, recording how many deliveries were in
/// flight at once: a round that delivers concurrently shows more than one.
#[derive(Debug, Default)]
pub struct SlowNotifier {
    in_flight: AtomicU32,
    most: AtomicU32,
    delivered: AtomicU32,
}

impl SlowNotifier {
    /// The most deliveries in flight at once so far.
    pub fn most_in_flight(&self) -> u32 {
        self.most.load(Ordering::SeqCst)
    }

    /// Deliveries completed so far.
    pub fn delivered(&self) -> u32 {
        self.delivered.load(Ordering::SeqCst)
    }
}

impl Notifier for SlowNotifier {
    async fn deliver(&self, _message: &OutboxMessage) -> Result<(), DeliveryError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.delivered.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Notifier for FailingNotifier {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).push(message.id);
        if self.permanent {
            Err(DeliveryError::permanent("mailbox does not exist"))
        } else {
            Err(DeliveryError::transient("smtp server unavailable"))
        }
    }
}
