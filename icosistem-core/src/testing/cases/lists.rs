//! Lists that stay bounded at scale: the project visibility a store evaluates itself (through
//! programs, as a join or an index, never as ids carried into the server) pages exactly like
//! the reference rule on every store, and a page of applications costs a fixed number of store
//! statements whatever its length.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use uuid::Uuid;

use crate::Context;
use crate::model::analytics::{
    ApplicationFigures, DateRange, EnrollmentFigures, MentoringFigures, MentoringScope, MilestoneFigures, ReviewFigures,
};
use crate::model::*;
use crate::ports::store::*;
use crate::testing::fixtures::*;
use crate::workflow::program::ProgramCommand;

/// A store that counts the statements its units of work issue: `begin`, `commit` and every
/// repository call (each is one SQL statement on PostgreSQL, apart from the advisory lock of an
/// exact slug or token lookup, which a list page never does). Clones share the counter.
#[derive(Clone)]
pub struct CountingStore<S> {
    inner: S,
    statements: Arc<AtomicUsize>,
}

impl<S> CountingStore<S> {
    /// Counts the statements of `inner`'s units of work.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            statements: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Statements issued since the store was made.
    pub fn statements(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }

    fn tick(&self) {
        self.statements.fetch_add(1, Ordering::SeqCst);
    }
}

/// A unit of work of a [`CountingStore`].
pub struct CountingTx<T> {
    inner: T,
    statements: Arc<AtomicUsize>,
}

impl<T> CountingTx<T> {
    fn tick(&self) {
        self.statements.fetch_add(1, Ordering::SeqCst);
    }
}

impl<S: Store> Store for CountingStore<S> {
    type Tx = CountingTx<S::Tx>;

    async fn begin(&self) -> Result<Self::Tx, crate::StoreError> {
        self.tick();
        Ok(CountingTx {
            inner: self.inner.begin().await?,
            statements: Arc::clone(&self.statements),
        })
    }
}

impl<T: Transaction> Transaction for CountingTx<T> {
    async fn commit(self) -> Result<(), crate::StoreError> {
        self.tick();
        self.inner.commit().await
    }
}

impl<E: Entity, T: Repo<E>> Repo<E> for CountingTx<T> {
    async fn get(&mut self, id: E::Id) -> Result<Option<E>, crate::StoreError> {
        self.tick();
        self.inner.get(id).await
    }
    async fn get_for_update(&mut self, id: E::Id) -> Result<Option<E>, crate::StoreError> {
        self.tick();
        self.inner.get_for_update(id).await
    }
    async fn insert(&mut self, entity: &E) -> Result<(), crate::StoreError> {
        self.tick();
        self.inner.insert(entity).await
    }
    async fn update(&mut self, entity: &E) -> Result<E, crate::StoreError> {
        self.tick();
        self.inner.update(entity).await
    }
    async fn delete(&mut self, id: E::Id) -> Result<(), crate::StoreError> {
        self.tick();
        self.inner.delete(id).await
    }
    async fn list(&mut self, filter: &E::Filter, page: PageRequest) -> Result<Page<E>, crate::StoreError> {
        self.tick();
        self.inner.list(filter, page).await
    }
    async fn count(&mut self, filter: &E::Filter) -> Result<u64, crate::StoreError> {
        self.tick();
        self.inner.count(filter).await
    }
}

impl<T: AnalyticsRead> AnalyticsRead for CountingTx<T> {
    async fn application_figures(
        &mut self,
        scope: ApplicationScope,
        range: DateRange,
    ) -> Result<ApplicationFigures, crate::StoreError> {
        self.tick();
        self.inner.application_figures(scope, range).await
    }
    async fn review_figures(
        &mut self,
        scope: ReviewScope,
        range: DateRange,
    ) -> Result<ReviewFigures, crate::StoreError> {
        self.tick();
        self.inner.review_figures(scope, range).await
    }
    async fn enrollment_figures(
        &mut self,
        scope: EnrollmentScope,
        range: DateRange,
    ) -> Result<EnrollmentFigures, crate::StoreError> {
        self.tick();
        self.inner.enrollment_figures(scope, range).await
    }
    async fn milestone_figures(
        &mut self,
        scope: MilestoneScope,
        range: DateRange,
        today: chrono::NaiveDate,
    ) -> Result<MilestoneFigures, crate::StoreError> {
        self.tick();
        self.inner.milestone_figures(scope, range, today).await
    }
    async fn mentoring_figures(
        &mut self,
        scope: MentoringScope,
        range: DateRange,
        default_capacity: u64,
    ) -> Result<MentoringFigures, crate::StoreError> {
        self.tick();
        self.inner.mentoring_figures(scope, range, default_capacity).await
    }
}

/// The reference [`ProgramReach`] over every row of the store, by [`program_reaches`].
struct ReferenceReach(HashMap<UserId, HashSet<ProjectId>>);

impl ProgramReach for ReferenceReach {
    fn reaches(&self, user: UserId, project: ProjectId) -> bool {
        self.0.get(&user).is_some_and(|set| set.contains(&project))
    }
}

async fn reference_reach<S: Store>(world: &World<S>, users: &[UserId]) -> ReferenceReach {
    let applications = world.rows(ApplicationFilter::default()).await;
    let programs: HashMap<ProgramId, Program> = world
        .rows(ProgramFilter {
            include_deleted: true,
            ..Default::default()
        })
        .await
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let members = world.rows(MemberFilter::default()).await;
    let reviews = world.rows(ReviewFilter::default()).await;
    let mut reach = HashMap::new();
    for &user in users {
        let set: HashSet<ProjectId> = applications
            .iter()
            .filter(|app| {
                let program = programs.get(&app.program_id);
                let role = program.and_then(|p| {
                    members
                        .iter()
                        .find(|m| m.user_id == user && m.organization_id == p.organization_id)
                        .map(|m| m.role)
                });
                let assigned = reviews
                    .iter()
                    .any(|r| r.reviewer_id == user && r.application_id == app.id);
                program_reaches(app, program, role, assigned)
            })
            .map(|app| app.project_id)
            .collect();
        reach.insert(user, set);
    }
    ReferenceReach(reach)
}

/// Every page of `list_projects` for `ctx` with `filter`, `limit` rows at a time, newest first.
async fn paged_projects<S: Store>(world: &World<S>, ctx: &Context, filter: &ProjectFilter, limit: u32) -> Vec<Uuid> {
    let mut ids = Vec::new();
    let mut page = PageRequest::first(limit);
    for _ in 0..1_000 {
        let got = world
            .eco
            .list_projects(ctx, filter.clone(), page)
            .await
            .expect("list projects");
        assert!(got.items.len() <= limit as usize);
        ids.extend(got.items.iter().map(|p| p.id.as_uuid()));
        match got.next_cursor {
            Some(cursor) => page = PageRequest::parse(Some(limit), Some(&cursor)).expect("cursor"),
            None => return ids,
        }
    }
    panic!("list_projects never ended");
}

/// A coordinator, an owner, a reviewer (assigned to one application), a member of another
/// organization, an entrepreneur and a client see, page by page at every page size, exactly
/// the projects the reference rule gives them — through open-review programs of their
/// organizations (not drafts, not blind programs, not soft-deleted programs, not deleted
/// projects), their assignments and their own — and the store's `count` and `list` of the same
/// visibility agree.
pub async fn project_lists_page_the_visibility_through_programs<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let open = world.cohort(ProgramSpec::default()).await;
    let coordinator = world.ally().await;
    world
        .add_member(&open.owner, &open.org, &coordinator, MemberRole::Coordinator)
        .await;
    let second = world.open_program(&open.owner, &open.org, ProgramSpec::default()).await;
    let blind = world.open_program(&open.owner, &open.org, ProgramSpec::blind()).await;
    let doomed = world.open_program(&open.owner, &open.org, ProgramSpec::default()).await;
    let other = world.cohort(ProgramSpec::default()).await;
    let client = world.person(Role::Client, "client").await;

    let ana = world.entrepreneur().await;
    let ben = world.entrepreneur().await;
    let cara = world.entrepreneur().await;
    let mut applicants = Vec::new();
    for person in [&ana, &ben, &ana, &ben, &ana] {
        applicants.push(world.submit(&open, person).await);
    }
    let reviewed = applicants[1].id();
    world
        .eco
        .assign_reviewer(&open.owner.ctx, reviewed, open.reviewers[0].id())
        .await
        .expect("assign reviewer");
    // A project applying to the second program too, once per program.
    let both = applicants[2].project.id;
    let again = world
        .eco
        .create_application(&ana.ctx, second.id, both, Default::default())
        .await
        .expect("application to the second program");
    world
        .eco
        .submit_application(&ana.ctx, again.id, None)
        .await
        .expect("submit to the second program");
    // A draft grants nothing; a blind program, a deleted program and a deleted project neither.
    world.draft(&open, &ben).await;
    for program in [blind.id, doomed.id] {
        let project = world.project(&cara).await;
        let app = world
            .eco
            .create_application(&cara.ctx, program, project.id, Default::default())
            .await
            .expect("application");
        world
            .eco
            .submit_application(&cara.ctx, app.id, None)
            .await
            .expect("submit");
    }
    let doomed = world
        .eco
        .program_command(&open.owner.ctx, doomed.id, ProgramCommand::Cancel, None)
        .await
        .expect("cancel program");
    world
        .eco
        .delete_program(&open.owner.ctx, doomed.id, None)
        .await
        .expect("delete program");
    // A withdrawn application still reaches its project; the project's deletion hides it.
    let gone = applicants[3].project.clone();
    world
        .eco
        .withdraw_application(&ben.ctx, applicants[3].id(), None)
        .await
        .expect("withdraw");
    world
        .eco
        .delete_project(&ben.ctx, gone.id, None)
        .await
        .expect("delete project");
    let other_app = world.submit(&other, &ana).await;
    let public = world.project(&cara).await;
    world
        .eco
        .update_project(
            &cara.ctx,
            public.id,
            crate::service::UpdateProject {
                is_public: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("make public");

    let callers = [
        &open.owner,
        &coordinator,
        &open.reviewers[0],
        &other.owner,
        &ana,
        &client,
    ];
    let reach = reference_reach(&world, &callers.iter().map(|p| p.id()).collect::<Vec<_>>()).await;
    let projects = world
        .rows(ProjectFilter {
            include_deleted: true,
            ..Default::default()
        })
        .await;
    // The sets the rule gives, spelled out for the main callers.
    let staff_set: HashSet<ProjectId> = reach.0[&coordinator.id()].clone();
    assert_eq!(
        staff_set,
        applicants.iter().map(|a| a.project.id).collect::<HashSet<_>>(),
        "staff reach the submitted applications of the open programs only (deleted projects drop out of the list)"
    );
    assert_eq!(
        reach.0[&open.reviewers[0].id()],
        HashSet::from([applicants[1].project.id])
    );
    assert_eq!(reach.0[&other.owner.id()], HashSet::from([other_app.project.id]));

    for caller in callers {
        for filter in [
            ProjectFilter::default(),
            ProjectFilter {
                owner_id: Some(ana.id()),
                ..Default::default()
            },
            ProjectFilter {
                is_public: Some(false),
                ..Default::default()
            },
        ] {
            // What `list_projects` sets for a caller who is not an admin.
            let visibility = ProjectVisibility {
                owners: if caller.user.role == Role::Entrepreneur {
                    vec![caller.id()]
                } else {
                    Vec::new()
                },
                public: true,
                via_programs_of: Some(caller.id()),
                ..Default::default()
            };
            let scoped = ProjectFilter {
                visible_to: Some(visibility),
                ..filter.clone()
            };
            let expected: Vec<Uuid> = projects
                .iter()
                .filter(|p| project_matches(p, &scoped, &reach))
                .map(|p| p.id.as_uuid())
                .collect();
            assert!(!expected.contains(&gone.id.as_uuid()));
            for limit in [1, 2, 3, 20] {
                assert_eq!(
                    paged_projects(&world, &caller.ctx, &filter, limit).await,
                    expected,
                    "pages of {limit} for {} with {filter:?}",
                    caller.email()
                );
            }
            assert_eq!(
                world.count(scoped.clone()).await,
                expected.len() as u64,
                "count for {}",
                caller.email()
            );
            let listed: Vec<Uuid> = world
                .rows(scoped.clone())
                .await
                .iter()
                .map(|p| p.id.as_uuid())
                .collect();
            assert_eq!(listed, expected, "store list for {}", caller.email());
            // Oldest first pages the same set the other way round.
            let mut oldest = Vec::new();
            let mut page = PageRequest::first(2).oldest_first();
            let mut tx = world.store().begin().await.expect("begin");
            loop {
                let got = Repo::<Project>::list(&mut tx, &scoped, page).await.expect("page");
                oldest.extend(got.items.iter().map(|p| p.id.as_uuid()));
                match got.next_cursor {
                    Some(cursor) => {
                        page = PageRequest::parse(Some(2), Some(&cursor))
                            .expect("cursor")
                            .oldest_first()
                    }
                    None => break,
                }
            }
            drop(tx);
            oldest.reverse();
            assert_eq!(oldest, expected, "oldest first for {}", caller.email());
        }
    }
    // The staff actually see something, so the comparison above is not vacuous.
    let seen = paged_projects(&world, &coordinator.ctx, &ProjectFilter::default(), 20).await;
    assert_eq!(
        seen.len(),
        5,
        "five submitted projects, one deleted, and the public one (seen by everyone)"
    );
}

/// A page of 20 applications (of 25) costs at most 6 store statements, `begin` included —
/// the program, the caller's membership, the page, its projects and its applicants — for the
/// program's staff and for an applicant's own list, where one statement per row would cost 40
/// more. Both views carry every project and applicant.
pub async fn a_page_of_applications_costs_a_fixed_number_of_statements<S: Store + Clone>(store: S) {
    let counting = CountingStore::new(store);
    let world = World::new(counting.clone()).await;
    let cohort = world.cohort(ProgramSpec::seats(50)).await;
    let ana = world.entrepreneur().await;
    let mut others = Vec::new();
    for i in 0..25 {
        let person = if i % 5 == 0 {
            ana.clone()
        } else {
            world.entrepreneur().await
        };
        others.push(world.submit(&cohort, &person).await);
    }

    let before = counting.statements();
    let page = world
        .eco
        .list_applications(
            &cohort.owner.ctx,
            applications_of(cohort.program.id),
            PageRequest::first(20),
        )
        .await
        .expect("staff list");
    let spent = counting.statements() - before;
    assert_eq!(page.items.len(), 20);
    assert!(page.next_cursor.is_some());
    assert!(spent <= 6, "a staff page of 20 applications cost {spent} statements");
    for view in &page.items {
        let app = others.iter().find(|a| a.id() == view.id).expect("one of ours");
        assert_eq!(view.project.id, app.project.id);
        assert_eq!(view.applicant.as_ref().map(|a| a.id), Some(app.person.id()));
    }

    let before = counting.statements();
    let mine = world
        .eco
        .list_applications(&ana.ctx, ApplicationFilter::default(), PageRequest::first(20))
        .await
        .expect("own list");
    let spent = counting.statements() - before;
    assert_eq!(mine.items.len(), 5);
    assert!(spent <= 6, "an applicant's page cost {spent} statements");
    assert!(
        mine.items
            .iter()
            .all(|v| v.applicant.as_ref().map(|a| a.id) == Some(ana.id()))
    );
}

/// After its first round, the review-overdue job examines only what is due: a round with
/// nothing new examines no application however many old ones stay under review; a reviewer
/// assigned to an application already overdue is told in the next round, alone; an application
/// whose review starts later is found when it crosses the cut-off.
pub async fn review_overdue_rounds_examine_only_what_is_due<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::reviews(2)).await;
    let ana = world.entrepreneur().await;
    let ben = world.entrepreneur().await;
    let old = world.submit(&cohort, &ana).await;
    let late = world.submit(&cohort, &ben).await;
    let assign = |app: ApplicationId, reviewer: UserId| {
        let eco = std::sync::Arc::clone(&world.eco);
        let ctx = cohort.owner.ctx.clone();
        async move {
            eco.assign_reviewer(&ctx, app, reviewer).await.expect("assign");
        }
    };
    assign(old.id(), cohort.reviewers[0].id()).await;
    world.advance(chrono::Duration::days(14) + chrono::Duration::minutes(1));
    let first = world.eco.send_review_overdue_notices().await.expect("first round");
    assert_eq!((first.examined, first.processed), (1, 2), "{first:?}");

    // Once past the windows' five-minute overlap (the round right after may look at the first
    // assignment again, and sends nothing), a round finds nothing to examine.
    world.advance(chrono::Duration::minutes(10));
    let settle = world.eco.send_review_overdue_notices().await.expect("round");
    assert_eq!(settle.processed, 0, "{settle:?}");
    for _ in 0..3 {
        world.advance(chrono::Duration::minutes(10));
        let quiet = world.eco.send_review_overdue_notices().await.expect("quiet round");
        assert_eq!(
            quiet.examined, 0,
            "a round with nothing due examines nothing: {quiet:?}"
        );
    }

    assign(old.id(), cohort.reviewers[1].id()).await;
    world.advance(chrono::Duration::minutes(1));
    let added = world.eco.send_review_overdue_notices().await.expect("round");
    assert_eq!((added.examined, added.processed), (1, 1), "{added:?}");
    world.assert_notified(cohort.reviewers[1].id(), "review_overdue").await;

    assign(late.id(), cohort.reviewers[0].id()).await;
    world.advance(chrono::Duration::days(14) - chrono::Duration::minutes(1));
    let early = world.eco.send_review_overdue_notices().await.expect("round");
    assert_eq!(early.processed, 0, "{early:?}");
    world.advance(chrono::Duration::minutes(1));
    let crossed = world.eco.send_review_overdue_notices().await.expect("round");
    assert_eq!(crossed.processed, 2, "the owner and the reviewer: {crossed:?}");
    let again = world.eco.send_review_overdue_notices().await.expect("round");
    assert_eq!(again.processed, 0, "{again:?}");
}
