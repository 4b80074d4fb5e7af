//! # Selection benches
//!
//! Criterion benches of the selection use cases of `icosistem-core` on the in-memory store:
//!
//! - `pipeline/single`: the whole pipeline for one application — create and publish a program,
//!   draft and submit an application, assign two reviewers, submit both reviews, accept — on a
//!   current-thread runtime;
//! - `pipeline_concurrent/{8,32}`: a program is created and published, then N applications run
//!   the same pipeline as N concurrent tasks on a multi-thread runtime, all accepted into that
//!   one program (capacity N); throughput is in applications decided per second;
//! - `use_case/*`: `submit_application`, `decide(Accept)`, and `list_applications` (the first
//!   page of 20) over a table of 10 000 applications;
//! - `authenticate/*`: a successful login with the test hasher and with `owasp()`, to show that
//!   password hashing, not the domain, is what a login costs.
//!
//! Every bench but `authenticate/owasp` hashes passwords with `fast_for_tests()` so fixtures are
//! cheap to build and what is measured is the domain. Fixtures are built outside the timed
//! section: criterion's `iter_batched` takes a *synchronous* setup called inside the runtime,
//! which cannot build an async fixture, so the benches use `iter_custom` and time only the
//! routine (see [`timed_in_chunks`]).
//!
//! Run: `cargo bench -p icosistem-benches -- --warm-up-time 1 --measurement-time 3`.

mod common;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::{
    ApplicationId, ApplicationStatus, MemberRole, OrganizationId, ProgramId, ProgramType, ProjectId, Role,
};
use icosistem_core::ports::store::{ApplicationFilter, PageRequest};
use icosistem_core::ports::{Argon2idPasswordHasher, ManualClock, RecordingNotifier};
use icosistem_core::service::{CreateProgram, CreateProject, Decision, SubmitReview};
use icosistem_core::testing::fixtures::{organization_input, project_input};
use icosistem_core::workflow::program::ProgramCommand;
use icosistem_core::{Context, Ecosystem};
use icosistem_store_memory::MemoryStore;
use tokio::runtime::Runtime;

use common::{Eco, PASSWORD, current_thread, timed_in_chunks, user};

/// The fixed "now" of every fixture: programs open at this instant.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 9, 0, 0)
        .single()
        .expect("a valid instant")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn multi_thread() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// An ecosystem with an incubator: a coordinator (owner) and two reviewers.
struct Incubator {
    eco: Arc<Eco>,
    org: OrganizationId,
    coordinator: Context,
    reviewers: [Context; 2],
}

/// A project ready to apply, and its owner's context.
#[derive(Clone)]
struct Applicant {
    ctx: Context,
    project: ProjectId,
}

fn eco(hasher: Argon2idPasswordHasher) -> Eco {
    Ecosystem::new(MemoryStore::new(), RecordingNotifier::new(), ManualClock::new(now())).with_hasher(hasher)
}

async fn incubator() -> Incubator {
    let eco = eco(Argon2idPasswordHasher::fast_for_tests());
    let coordinator = Context::user(&user(&eco, "coordinator@incubator.co", Role::Ally).await);
    let reviewers = [
        user(&eco, "ana@incubator.co", Role::Ally).await,
        user(&eco, "javier@incubator.co", Role::Ally).await,
    ];
    let org = eco
        .create_organization(&coordinator, organization_input("Andes Startup Incubator"))
        .await
        .expect("create organization");
    for reviewer in &reviewers {
        eco.add_member(&coordinator, org.id, reviewer.id, MemberRole::Reviewer)
            .await
            .expect("add reviewer");
    }
    Incubator {
        eco: Arc::new(eco),
        org: org.id,
        coordinator,
        reviewers: reviewers.map(|r| Context::user(&r)),
    }
}

/// `n` projects ready to apply: entrepreneurs with 5 projects each (the default limit).
async fn applicants(eco: &Eco, n: usize) -> Vec<Applicant> {
    let mut out = Vec::with_capacity(n);
    let mut owner = None;
    for i in 0..n {
        if i % 5 == 0 {
            let u = user(eco, &format!("founder{}@ventures.co", i / 5), Role::Entrepreneur).await;
            owner = Some(Context::user(&u));
        }
        let ctx = owner.clone().expect("an owner was created at i % 5 == 0");
        let project = eco
            .create_project(
                &ctx,
                CreateProject {
                    description: "A venture applying to the accelerator.".into(),
                    ..project_input(&format!("Venture {i}"))
                },
            )
            .await
            .expect("create project");
        out.push(Applicant {
            ctx,
            project: project.id,
        });
    }
    out
}

/// Creates and publishes program number `n` of `capacity` seats needing two reviews per
/// decision. Distinct names keep slug derivation at one probe, as for most real programs.
async fn open_program(inc: &Incubator, capacity: u32, n: u64) -> ProgramId {
    let program = inc
        .eco
        .create_program(
            &inc.coordinator,
            CreateProgram {
                organization_id: inc.org,
                name: format!("Andes Accelerator — Cohort {n}"),
                program_type: ProgramType::Acceleration,
                description: None,
                application_opens_at: now(),
                application_deadline: Utc.with_ymd_and_hms(2027, 1, 31, 23, 59, 0).single().expect("instant"),
                start_date: date(2027, 2, 15),
                end_date: date(2027, 5, 14),
                min_participants: Some(1),
                max_participants: capacity,
                min_reviews: Some(2),
                blind_review: None,
                target_sectors: Vec::new(),
                target_stages: Vec::new(),
                format: None,
                rounds: None,
            },
        )
        .await
        .expect("create program");
    inc.eco
        .program_command(&inc.coordinator, program.id, ProgramCommand::Publish, None)
        .await
        .expect("publish program");
    program.id
}

async fn draft(eco: &Eco, program: ProgramId, applicant: &Applicant) -> ApplicationId {
    eco.create_application(&applicant.ctx, program, applicant.project, Default::default())
        .await
        .expect("create application")
        .id
}

/// Submit, assign both reviewers and have them score the application.
async fn submit_and_review(
    eco: &Eco,
    coordinator: &Context,
    reviewers: &[Context; 2],
    applicant: &Context,
    app: ApplicationId,
) {
    eco.submit_application(applicant, app, None).await.expect("submit");
    for (reviewer, score) in reviewers.iter().zip([82, 77]) {
        let id = reviewer.actor.user_id().expect("reviewers are users");
        eco.assign_reviewer(coordinator, app, id)
            .await
            .expect("assign reviewer");
        eco.submit_review(
            reviewer,
            app,
            SubmitReview {
                score,
                comment: None,
                conflict_declared: false,
            },
        )
        .await
        .expect("review");
    }
}

/// The pipeline of one application into an open program: draft → submit → 2 reviews → accept.
async fn select(eco: &Eco, coordinator: &Context, reviewers: &[Context; 2], program: ProgramId, applicant: &Applicant) {
    let app = draft(eco, program, applicant).await;
    submit_and_review(eco, coordinator, reviewers, &applicant.ctx, app).await;
    let decided = eco
        .decide(coordinator, app, Decision::Accept, None, None)
        .await
        .expect("accept");
    debug_assert_eq!(decided.status, ApplicationStatus::Accepted);
}

// ---------------------------------------------------------------------------------------------
// Benches

/// (a) The whole pipeline for one application, on a current-thread runtime.
fn pipeline_single(c: &mut Criterion) {
    let rt = current_thread();
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(1));
    group.bench_function("single", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            timed_in_chunks(
                iters,
                // One incubator and one project serve 16 runs: each run opens its own program.
                16,
                async |_| {
                    let inc = incubator().await;
                    let applicant = applicants(&inc.eco, 1).await.remove(0);
                    (inc, applicant)
                },
                async |(inc, applicant), i| {
                    let program = open_program(inc, 3, i).await;
                    select(&inc.eco, &inc.coordinator, &inc.reviewers, program, applicant).await;
                },
            )
        });
    });
    group.finish();
}

/// (b) N applications through the pipeline as N concurrent tasks into one program.
fn pipeline_concurrent(c: &mut Criterion) {
    let rt = multi_thread();
    let mut group = c.benchmark_group("pipeline_concurrent");
    for n in [8_usize, 32] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.to_async(&rt).iter_custom(|iters| {
                timed_in_chunks(
                    iters,
                    8,
                    async |_| {
                        let inc = incubator().await;
                        let applicants = applicants(&inc.eco, n).await;
                        (inc, applicants)
                    },
                    async |(inc, applicants), i| {
                        let program = open_program(inc, n as u32, i).await;
                        let mut tasks = tokio::task::JoinSet::new();
                        for applicant in applicants {
                            let applicant = applicant.clone();
                            let eco = Arc::clone(&inc.eco);
                            let coordinator = inc.coordinator.clone();
                            let reviewers = inc.reviewers.clone();
                            tasks.spawn(async move {
                                select(&eco, &coordinator, &reviewers, program, &applicant).await;
                            });
                        }
                        while let Some(done) = tasks.join_next().await {
                            done.expect("a pipeline task panicked");
                        }
                    },
                )
            });
        });
    }
    group.finish();
}

/// (c) Single use cases: submit, accept, and the first page of a 10k-row application list.
fn use_cases(c: &mut Criterion) {
    let rt = current_thread();
    let mut group = c.benchmark_group("use_case");
    group.throughput(Throughput::Elements(1));

    // 100 drafts per fixture; each run submits the next one.
    group.bench_function("submit_application", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            timed_in_chunks(
                iters,
                100,
                async |n| {
                    let inc = incubator().await;
                    let program = open_program(&inc, 1000, 0).await;
                    let mut drafts = Vec::new();
                    for applicant in applicants(&inc.eco, n as usize).await {
                        drafts.push((draft(&inc.eco, program, &applicant).await, applicant.ctx));
                    }
                    (inc, drafts)
                },
                async |(inc, drafts), i| {
                    let (app, ctx) = &drafts[i as usize];
                    inc.eco.submit_application(ctx, *app, None).await.expect("submit");
                },
            )
        });
    });

    // 100 applications with their two reviews per fixture; each run accepts the next one.
    group.bench_function("decide_accept", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            timed_in_chunks(
                iters,
                100,
                async |n| {
                    let inc = incubator().await;
                    let program = open_program(&inc, 1000, 0).await;
                    let mut ready = Vec::new();
                    for applicant in applicants(&inc.eco, n as usize).await {
                        let app = draft(&inc.eco, program, &applicant).await;
                        submit_and_review(&inc.eco, &inc.coordinator, &inc.reviewers, &applicant.ctx, app).await;
                        ready.push(app);
                    }
                    (inc, ready)
                },
                async |(inc, ready), i| {
                    inc.eco
                        .decide(&inc.coordinator, ready[i as usize], Decision::Accept, None, None)
                        .await
                        .expect("accept");
                },
            )
        });
    });

    // A read-only fixture built once: 10 programs × 1 000 projects = 10 000 submitted
    // applications, created project by project, so one program's rows are interleaved with the
    // other nine's as they would be in a real table; and a small program whose 5 applications
    // are the oldest rows of all.
    let (inc, programs, small, oldest_applicant) = rt.block_on(async {
        let inc = incubator().await;
        let small = open_program(&inc, 1000, 10).await;
        let mut programs = Vec::new();
        for i in 0..10 {
            programs.push(open_program(&inc, 1000, i).await);
        }
        let applicants = applicants(&inc.eco, 1000).await;
        for applicant in &applicants[..5] {
            let app = draft(&inc.eco, small, applicant).await;
            inc.eco
                .submit_application(&applicant.ctx, app, None)
                .await
                .expect("submit");
        }
        for applicant in &applicants {
            for &program in &programs {
                let app = draft(&inc.eco, program, applicant).await;
                inc.eco
                    .submit_application(&applicant.ctx, app, None)
                    .await
                    .expect("submit");
            }
        }
        let oldest = applicants[0].ctx.clone();
        (inc, programs, small, oldest)
    });
    let page = PageRequest::first(PageRequest::DEFAULT_LIMIT);
    // A staff list of one of the ten (its rows interleaved with the others'), and the small
    // program's (its rows the oldest, past every other program's): the first page of each.
    for (name, program, rows) in [
        ("list_applications/staff_first_page_of_10k", programs[0], 20),
        ("list_applications/staff_small_program_among_10k", small, 5),
    ] {
        let filter = ApplicationFilter {
            program_id: Some(program),
            ..Default::default()
        };
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let page = inc
                    .eco
                    .list_applications(&inc.coordinator, filter.clone(), page)
                    .await
                    .expect("list");
                assert_eq!(page.items.len(), rows);
                page
            });
        });
    }
    // The applicant's own list has no program filter: the memory store walks the table from the
    // newest row, and the oldest applicant's rows are at the far end — its worst case.
    group.bench_function("list_applications/applicant_first_page_of_10k", |b| {
        b.to_async(&rt).iter(|| async {
            let page = inc
                .eco
                .list_applications(&oldest_applicant, ApplicationFilter::default(), page)
                .await
                .expect("list");
            assert_eq!(page.items.len(), 20);
            page
        });
    });
    group.finish();
}

/// A successful login, with cheap and with OWASP hashing parameters.
fn authenticate(c: &mut Criterion) {
    let rt = current_thread();
    let mut group = c.benchmark_group("authenticate");
    group.throughput(Throughput::Elements(1));
    for (name, hasher) in [
        ("fast_for_tests", Argon2idPasswordHasher::fast_for_tests()),
        ("owasp", Argon2idPasswordHasher::owasp()),
    ] {
        if name == "owasp" {
            // Tens of milliseconds per login: ten samples are plenty and keep the run short.
            group.sample_size(10);
        }
        let eco = eco(hasher);
        let email = "valentina@agrosense.co";
        rt.block_on(user(&eco, email, Role::Entrepreneur));
        let password = SecretString::from(PASSWORD);
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                eco.authenticate(&Context::anonymous(), email, &password)
                    .await
                    .expect("login")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline_single, pipeline_concurrent, use_cases, authenticate);
criterion_main!(benches);
