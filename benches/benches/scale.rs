//! # Scale harness (issue #17)
//!
//! Generates the scale dataset inside PostgreSQL (`benches/scale/generate.sql`: projects,
//! twice as many applications, a fiftieth as many entrepreneurs, 10 organizations with 5
//! programs each, in the store's own row format with UUID v7 ids and realistic skew) into a
//! fresh database of its own (dropped at the end), then measures through the use cases — the
//! path the HTTP handlers take — with p50/p99 over `ICOSISTEM_SCALE_SAMPLES` sequential calls:
//!
//! - every list, first page and a deep page (cursor half-way through the table): projects for
//!   each role (admin with each filter, entrepreneur, client, organization owner, coordinator,
//!   reviewer), applications of the oldest, a middle and the newest program for their staff
//!   (with and without a status), the applicant's own, programs by organization, status and
//!   "accepting";
//! - the store statements each list call issues (a counting store around PostgreSQL);
//! - the candidate query of every job with nothing to do or as it stands, one round of every
//!   job (the review-overdue one past its first round, from a watermark);
//!
//! - every list again over HTTP: the real router (`icosistem-http`) served in process on
//!   127.0.0.1 by the release server's accept loop, over the same database, measured with a
//!   keep-alive client at concurrency 1 (p50/p99), with the process's RSS around the
//!   coordinator's project list (flat memory: nothing loads an unbounded set);
//!
//! and `EXPLAIN (ANALYZE, BUFFERS)` of the store query behind each list, asserting that none
//! scans a large table sequentially, that every 20-row page touches at most
//! [`BUFFER_BUDGET`] buffers, and that a list call issues at most [`STATEMENT_BUDGET`]
//! statements. The worst query's plan is printed whole.
//!
//! Run (1 M projects / 2 M applications, a few minutes to generate):
//! `ICOSISTEM_SCALE_PROJECTS=1000000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p icosistem-benches --bench scale`
//! Without `ICOSISTEM_SCALE_PROJECTS` it runs the CI variant (100 000 / 200 000). Without
//! `DATABASE_URL` it prints a skip line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use icosistem_core::model::{
    Application, ApplicationStatus, Milestone, Notification, NotificationStatus, Program, ProgramStatus, Project,
    ProjectStage, ProjectStatus, Session, SessionStatus, User, UserStatus,
};
use icosistem_core::ports::store::{
    ApplicationFilter, MilestoneFilter, NotificationFilter, Order, PageRequest, ProgramFilter, ProjectFilter,
    ProjectVisibility, Repo, ReviewFilter, SessionFilter, Store, UserFilter,
};
use icosistem_core::ports::{ManualClock, RecordingNotifier};
use icosistem_core::testing::cases::CountingStore;
use icosistem_core::{Context, Ecosystem};
use icosistem_store_postgres::testing::TestStore;
use uuid::Uuid;

/// Buffers one 20-row page may touch (the budget).
const BUFFER_BUDGET: u64 = 1_000;
/// Store statements one list call may issue, `begin` included.
const STATEMENT_BUDGET: usize = 6;

type Eco = Ecosystem<CountingStore<TestStore>, Arc<RecordingNotifier>, Arc<ManualClock>>;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 9, 0, 0).single().expect("valid")
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The buffers of the whole plan: the first `Buffers:` line belongs to the top node, whose
/// counts include its children's (the planning buffers come last and are left out).
fn plan_buffers(plan: &str) -> u64 {
    let Some(line) = plan.lines().find(|l| l.trim_start().starts_with("Buffers:")) else {
        return 0;
    };
    line.split_whitespace()
        .filter_map(|part| {
            let (key, value) = part.split_once('=')?;
            matches!(key, "hit" | "read").then(|| value.parse::<u64>().ok())?
        })
        .sum()
}

/// One measured list: how to call the use case and which store query to explain.
enum List {
    Projects {
        ctx: Context,
        filter: ProjectFilter,
        /// The store filter the use case builds for this caller.
        store_filter: ProjectFilter,
    },
    Applications {
        ctx: Context,
        filter: ApplicationFilter,
        store_filter: ApplicationFilter,
    },
    Programs {
        ctx: Context,
        filter: ProgramFilter,
        store_filter: ProgramFilter,
    },
}

struct Row {
    name: String,
    p50: Duration,
    p99: Duration,
    rows: usize,
    statements: usize,
    buffers: u64,
    plan: String,
}

struct Harness {
    test: TestStore,
    counting: CountingStore<TestStore>,
    eco: Eco,
    samples: usize,
}

impl Harness {
    async fn call(&self, list: &List, page: PageRequest) -> usize {
        match list {
            List::Projects { ctx, filter, .. } => self
                .eco
                .list_projects(ctx, filter.clone(), page)
                .await
                .expect("list projects")
                .items
                .len(),
            List::Applications { ctx, filter, .. } => self
                .eco
                .list_applications(ctx, filter.clone(), page)
                .await
                .expect("list applications")
                .items
                .len(),
            List::Programs { ctx, filter, .. } => self
                .eco
                .list_programs(ctx, filter.clone(), page)
                .await
                .expect("list programs")
                .items
                .len(),
        }
    }

    async fn explain(&self, list: &List, page: PageRequest) -> String {
        let pg = self.test.store();
        match list {
            List::Projects { store_filter, .. } => pg.explain_analyze_list::<Project>(store_filter, page).await,
            List::Applications { store_filter, .. } => pg.explain_analyze_list::<Application>(store_filter, page).await,
            List::Programs { store_filter, .. } => pg.explain_analyze_list::<Program>(store_filter, page).await,
        }
        .expect("explain")
    }

    async fn measure(&self, name: String, list: &List, after: Option<Uuid>) -> Row {
        let page = PageRequest {
            after,
            ..PageRequest::first(20)
        };
        // The first call is measured too: plans must be index plans from the first execution.
        let mut samples = Vec::with_capacity(self.samples);
        let mut rows = 0;
        let mut statements = 0;
        for _ in 0..self.samples {
            let before = self.counting.statements();
            let started = Instant::now();
            rows = self.call(list, page).await;
            samples.push(started.elapsed());
            statements = statements.max(self.counting.statements() - before);
        }
        samples.sort();
        let plan = self.explain(list, page).await;
        Row {
            name,
            p50: percentile(&samples, 0.5),
            p99: percentile(&samples, 0.99),
            rows,
            statements,
            buffers: plan_buffers(&plan),
            plan,
        }
    }
}

async fn generate(test: &TestStore, projects: usize) {
    let sql = include_str!("../scale/generate.sql");
    // One connection for both: the analytics program reads generate.sql's temporary tables.
    let analytics = include_str!("../scale/analytics.sql");
    let started = Instant::now();
    let mut conn = test.store().pool().acquire().await.expect("connection");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET icosistem_scale.projects = {projects};\n{sql}\n{analytics}"
    )))
    .execute(&mut *conn)
    .await
    .expect("generate the dataset");
    drop(conn);
    // Index-only scans need the visibility map; a freshly loaded table has none until vacuumed
    // (autovacuum would do it minutes later).
    sqlx::raw_sql("VACUUM (ANALYZE) projects, applications, reviews, users, programs, organization_members")
        .execute(test.store().pool())
        .await
        .expect("vacuum");
    println!(
        "generated {projects} projects, {} applications (+ the analytics program's 10 000 and 30 000 reviews) in {:.1} s",
        projects * 2,
        started.elapsed().as_secs_f64()
    );
}

async fn user(test: &TestStore, email: &str) -> User {
    let mut tx = test.begin().await.expect("begin");
    let email = icosistem_core::model::value::Email::parse(email).expect("email");
    Repo::<User>::list(
        &mut tx,
        &UserFilter {
            email: Some(email),
            ..Default::default()
        },
        PageRequest::first(1),
    )
    .await
    .expect("user")
    .items
    .pop()
    .expect("generated user")
}

async fn scalar(test: &TestStore, sql: &'static str) -> Uuid {
    sqlx::query_scalar::<_, Uuid>(sql)
        .fetch_one(test.store().pool())
        .await
        .expect("scalar")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(test) = TestStore::fresh().await else {
        return;
    };
    let projects = env_number("ICOSISTEM_SCALE_PROJECTS", 100_000);
    let samples = env_number("ICOSISTEM_SCALE_SAMPLES", 200).max(1);
    println!("database {} (dropped at the end)", test.database_name());
    generate(&test, projects).await;

    let counting = CountingStore::new(test.clone());
    let clock = Arc::new(ManualClock::new(now()));
    let eco = Ecosystem::new(counting.clone(), Arc::new(RecordingNotifier::new()), Arc::clone(&clock));
    let harness = Harness {
        test: test.clone(),
        counting,
        eco,
        samples,
    };

    let admin = user(&test, "admin@scale.example.org").await;
    let client = user(&test, "client@scale.example.org").await;
    let heavy = user(&test, "founder1@scale.example.org").await;
    // An ordinary entrepreneur (the heavy owners are founder1–founder10).
    let founder = user(&test, &format!("founder{}@scale.example.org", (projects / 100).max(11))).await;
    let owner = user(&test, "staff0-0@scale.example.org").await;
    let coordinator = user(&test, "staff0-1@scale.example.org").await;
    let reviewer = user(&test, "staff0-3@scale.example.org").await;
    let org = scalar(
        &test,
        "SELECT organization_id FROM programs WHERE slug = 'scale-program-0'",
    )
    .await;
    let oldest = scalar(&test, "SELECT id FROM programs WHERE slug = 'scale-program-0'").await;
    let middle = scalar(&test, "SELECT id FROM programs WHERE slug = 'scale-program-25'").await;
    let newest = scalar(&test, "SELECT id FROM programs WHERE slug = 'scale-program-45'").await;
    // The program still taking applications at the harness's now (it holds the newest drafts).
    let accepting = scalar(&test, "SELECT id FROM programs WHERE slug = 'scale-program-49'").await;
    let middle_project = scalar(
        &test,
        "SELECT id FROM projects ORDER BY id OFFSET (SELECT count(*) / 2 FROM projects) LIMIT 1",
    )
    .await;
    let middle_application = scalar(
        &test,
        "SELECT id FROM applications ORDER BY id OFFSET (SELECT count(*) / 2 FROM applications) LIMIT 1",
    )
    .await;
    let middle_program = scalar(&test, "SELECT id FROM programs ORDER BY id OFFSET 25 LIMIT 1").await;

    // What `list_projects` adds for a caller who is not an admin (allies have no mentees here).
    let seen_by = |u: &User| ProjectVisibility {
        owners: if u.role == icosistem_core::model::Role::Entrepreneur {
            vec![u.id]
        } else {
            Vec::new()
        },
        public: u.role == icosistem_core::model::Role::Client,
        via_programs_of: Some(u.id),
        ..Default::default()
    };
    let projects_of = |u: &User, filter: ProjectFilter| {
        let store_filter = if u.role == icosistem_core::model::Role::Admin {
            filter.clone()
        } else {
            ProjectFilter {
                visible_to: Some(seen_by(u)),
                ..filter.clone()
            }
        };
        List::Projects {
            ctx: Context::user(u),
            filter,
            store_filter,
        }
    };
    let staff_applications = |u: &User, program: Uuid, status: Option<ApplicationStatus>| {
        let filter = ApplicationFilter {
            program_id: Some(program.into()),
            status,
            ..Default::default()
        };
        List::Applications {
            ctx: Context::user(u),
            store_filter: ApplicationFilter {
                exclude_drafts: true,
                ..filter.clone()
            },
            filter,
        }
    };
    let programs = |filter: ProgramFilter| List::Programs {
        ctx: Context::user(&admin),
        store_filter: filter.clone(),
        filter,
    };

    let lists: Vec<(&str, List, Uuid)> = vec![
        (
            "projects, admin, all",
            projects_of(&admin, ProjectFilter::default()),
            middle_project,
        ),
        (
            "projects, admin, ?owner_id (heavy owner)",
            projects_of(
                &admin,
                ProjectFilter {
                    owner_id: Some(heavy.id),
                    ..Default::default()
                },
            ),
            middle_project,
        ),
        (
            "projects, admin, ?stage=development",
            projects_of(
                &admin,
                ProjectFilter {
                    stage: Some(ProjectStage::Development),
                    ..Default::default()
                },
            ),
            middle_project,
        ),
        (
            "projects, admin, ?status=active",
            projects_of(
                &admin,
                ProjectFilter {
                    status: Some(ProjectStatus::Active),
                    ..Default::default()
                },
            ),
            middle_project,
        ),
        (
            "projects, admin, ?is_public=true",
            projects_of(
                &admin,
                ProjectFilter {
                    is_public: Some(true),
                    ..Default::default()
                },
            ),
            middle_project,
        ),
        (
            "projects, entrepreneur (heavy owner)",
            projects_of(&heavy, ProjectFilter::default()),
            middle_project,
        ),
        (
            "projects, entrepreneur",
            projects_of(&founder, ProjectFilter::default()),
            middle_project,
        ),
        (
            "projects, client",
            projects_of(&client, ProjectFilter::default()),
            middle_project,
        ),
        (
            "projects, org owner",
            projects_of(&owner, ProjectFilter::default()),
            middle_project,
        ),
        (
            "projects, coordinator",
            projects_of(&coordinator, ProjectFilter::default()),
            middle_project,
        ),
        (
            "projects, coordinator, ?stage=pilot",
            projects_of(
                &coordinator,
                ProjectFilter {
                    stage: Some(ProjectStage::Pilot),
                    ..Default::default()
                },
            ),
            middle_project,
        ),
        (
            "projects, reviewer",
            projects_of(&reviewer, ProjectFilter::default()),
            middle_project,
        ),
        (
            "applications ?program_id (oldest), coordinator",
            staff_applications(&coordinator, oldest, None),
            middle_application,
        ),
        (
            "applications ?program_id (middle), admin",
            staff_applications(&admin, middle, None),
            middle_application,
        ),
        (
            "applications ?program_id (newest), admin",
            staff_applications(&admin, newest, None),
            middle_application,
        ),
        (
            "applications ?program_id&status=rejected, coordinator",
            staff_applications(&coordinator, oldest, Some(ApplicationStatus::Rejected)),
            middle_application,
        ),
        (
            "applications, mine (heavy owner)",
            List::Applications {
                ctx: Context::user(&heavy),
                filter: ApplicationFilter::default(),
                store_filter: ApplicationFilter {
                    applicant_id: Some(heavy.id),
                    ..Default::default()
                },
            },
            middle_application,
        ),
        (
            "programs ?organization_id",
            programs(ProgramFilter {
                organization_id: Some(org.into()),
                ..Default::default()
            }),
            middle_program,
        ),
        (
            "programs ?status=published",
            programs(ProgramFilter {
                status: Some(ProgramStatus::Published),
                ..Default::default()
            }),
            middle_program,
        ),
        (
            "programs ?accepting=true",
            programs(ProgramFilter {
                accepting_at: Some(now()),
                ..Default::default()
            }),
            middle_program,
        ),
    ];

    // Open the pool's connections first, so the first measured call pays for its query, not for
    // a TCP and authentication handshake. (No query is warmed: plans must be index plans from
    // the first execution.)
    let warm: Vec<_> = (0..2).map(|_| test.store().pool().acquire()).collect();
    for conn in warm {
        drop(conn.await.expect("connection"));
    }

    let mut table = Vec::new();
    for (name, list, deep) in &lists {
        table.push(harness.measure(format!("{name} (first page)"), list, None).await);
        table.push(harness.measure(format!("{name} (deep page)"), list, Some(*deep)).await);
    }

    // Every job's candidate query (its first page, oldest first) as the job runs it now.
    let job_page = PageRequest {
        limit: icosistem_core::service::JOB_BATCH_SIZE,
        after: None,
        order: Order::OldestFirst,
    };
    let pg = test.store();
    let cutoff = now() - chrono::Duration::days(14);
    let jobs: Vec<(&str, String)> = vec![
        (
            "job: session reminders",
            pg.explain_analyze_list::<Session>(
                &SessionFilter {
                    status_in: vec![SessionStatus::Scheduled, SessionStatus::Confirmed],
                    starts_after: Some(now()),
                    starts_at_or_before: Some(now() + chrono::Duration::hours(24)),
                    ..Default::default()
                },
                job_page,
            )
            .await
            .expect("explain"),
        ),
        (
            "job: milestone overdue",
            pg.explain_analyze_list::<Milestone>(
                &MilestoneFilter {
                    overdue_on: Some(now().date_naive()),
                    ..Default::default()
                },
                job_page,
            )
            .await
            .expect("explain"),
        ),
        (
            "job: review overdue",
            pg.explain_analyze_list::<Application>(
                &ApplicationFilter {
                    status: Some(ApplicationStatus::UnderReview),
                    submitted_at_or_before: Some(cutoff),
                    ..Default::default()
                },
                job_page,
            )
            .await
            .expect("explain"),
        ),
        (
            "job: application deadline (programs)",
            pg.explain_analyze_list::<Program>(
                &ProgramFilter {
                    accepting_at: Some(now()),
                    deadline_at_or_before: Some(now() + chrono::Duration::hours(48)),
                    ..Default::default()
                },
                PageRequest::all(),
            )
            .await
            .expect("explain"),
        ),
        (
            "job: application deadline (a program's drafts, first round)",
            pg.explain_analyze_list::<Application>(
                &ApplicationFilter {
                    program_id: Some(accepting.into()),
                    status: Some(ApplicationStatus::Draft),
                    ..Default::default()
                },
                job_page,
            )
            .await
            .expect("explain"),
        ),
        (
            "job: application deadline (a program's drafts, from its watermark)",
            pg.explain_analyze_list::<Application>(
                &ApplicationFilter {
                    program_id: Some(accepting.into()),
                    status: Some(ApplicationStatus::Draft),
                    created_after: Some(now() - chrono::Duration::minutes(6)),
                    ..Default::default()
                },
                job_page,
            )
            .await
            .expect("explain"),
        ),
        (
            "waitlist promotion (the best waitlisted of the oldest program)",
            pg.explain_analyze_list::<Application>(
                &ApplicationFilter {
                    program_id: Some(oldest.into()),
                    status: Some(ApplicationStatus::Waitlisted),
                    waitlist_rank: true,
                    ..Default::default()
                },
                PageRequest::first(1),
            )
            .await
            .expect("explain"),
        ),
        (
            "job: unverified accounts",
            pg.explain_analyze_list::<User>(
                &UserFilter {
                    status: Some(UserStatus::PendingVerification),
                    created_before: Some(now() - chrono::Duration::days(30)),
                    ..Default::default()
                },
                job_page,
            )
            .await
            .expect("explain"),
        ),
        (
            "job: archive read notifications",
            pg.explain_analyze_list::<Notification>(
                &NotificationFilter {
                    status: Some(NotificationStatus::Read),
                    read_at_or_before: Some(now() - chrono::Duration::days(90)),
                    ..Default::default()
                },
                job_page,
            )
            .await
            .expect("explain"),
        ),
        (
            "job: review overdue, a round's windows (after its first round)",
            pg.explain_analyze_list::<icosistem_core::model::Review>(
                &ReviewFilter {
                    created_after: Some(cutoff - chrono::Duration::minutes(6)),
                    created_at_or_before: Some(cutoff),
                    ..Default::default()
                },
                job_page,
            )
            .await
            .expect("explain"),
        ),
    ];

    println!("\n| list (20 rows) | p50 ms | p99 ms | rows | statements | buffers |\n|---|---:|---:|---:|---:|---:|");
    for row in &table {
        println!(
            "| {} | {:.2} | {:.2} | {} | {} | {} |",
            row.name,
            ms(row.p50),
            ms(row.p99),
            row.rows,
            row.statements,
            row.buffers
        );
    }
    println!("\n| job candidate query | buffers |\n|---|---:|");
    for (name, plan) in &jobs {
        println!("| {name} | {} |", plan_buffers(plan));
    }

    // A round of every job but the review-overdue one, timed: on this data they have nothing
    // due. (The review job's candidates are every old application under review; its first round
    // here would notify tens of thousands of them — its candidate query is measured above.)
    let started = Instant::now();
    let eco = &harness.eco;
    let rounds = [
        ("session reminders", eco.send_session_reminders().await),
        ("no-shows", eco.sweep_no_shows().await),
        ("feedback reminders", eco.send_feedback_reminders().await),
        ("milestone overdue", eco.send_milestone_overdue_notices().await),
        ("application deadline", eco.send_application_deadline_notices().await),
        ("unverified accounts", eco.deactivate_unverified_accounts().await),
        ("read notifications", eco.archive_read_notifications().await),
    ];
    for (name, report) in &rounds {
        let report = report.as_ref().expect("job round");
        println!("job round {name}: examined {}", report.examined);
    }
    println!("one round of those jobs: {:.1} ms", ms(started.elapsed()));

    // The review-overdue job as it runs once past its first round: the watermark of a round a
    // minute ago, as that round would have left it. Its first round (the backlog of every old
    // application under review, notified once) is not run here.
    sqlx::query(
        "INSERT INTO job_marks (id, key, at) VALUES \
         ($1, 'review_overdue:watermark:cutoff', $3 - interval '14 days' - interval '1 minute'), \
         ($2, 'review_overdue:watermark:now', $3 - interval '1 minute')",
    )
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .bind(now())
    .execute(pg.pool())
    .await
    .expect("watermark");
    let started = Instant::now();
    let review = harness
        .eco
        .send_review_overdue_notices()
        .await
        .expect("review-overdue round");
    println!(
        "review-overdue round after the first: {:.1} ms, examined {}, notified {}",
        ms(started.elapsed()),
        review.examined,
        review.notified
    );

    analytics(&harness, &admin).await;

    let people = [&admin, &client, &heavy, &founder, &owner, &coordinator, &reviewer];
    http::measure(&test, clock, &lists, &people, samples).await;

    let worst = table.iter().max_by_key(|r| r.buffers).expect("rows");
    println!(
        "\nworst list query: {} ({} buffers)\n{}",
        worst.name, worst.buffers, worst.plan
    );

    let mut failures = Vec::new();
    for row in &table {
        for big in ["projects", "applications", "users", "reviews"] {
            if row.plan.contains(&format!("Seq Scan on {big}")) {
                failures.push(format!("{}: Seq Scan on {big}", row.name));
            }
        }
        if row.buffers > BUFFER_BUDGET {
            failures.push(format!("{}: {} buffers > {BUFFER_BUDGET}", row.name, row.buffers));
        }
        if row.statements > STATEMENT_BUDGET {
            failures.push(format!(
                "{}: {} statements > {STATEMENT_BUDGET}",
                row.name, row.statements
            ));
        }
        if row.rows == 0 && row.name.ends_with("(first page)") {
            failures.push(format!("{}: an empty page measures nothing", row.name));
        }
    }
    for (name, plan) in &jobs {
        // The first page of the review job's first round is bounded by its limit; the round
        // is not (every old application under review), which is why later rounds use windows.
        let buffers = plan_buffers(plan);
        if buffers > BUFFER_BUDGET {
            failures.push(format!("{name}: {buffers} buffers > {BUFFER_BUDGET}"));
        }
    }
    assert!(failures.is_empty(), "scale budgets exceeded: {failures:#?}");
    println!("\nevery list page: index plans, ≤ {BUFFER_BUDGET} buffers, ≤ {STATEMENT_BUDGET} statements");
}

/// Issue #14's target: the analytics of a program with 10 000 applications and 30 000 reviews
/// (`benches/scale/analytics.sql`) through the use case, p50 and p99 over the samples, next to a
/// one-row read of the same program in the same run (the reference: what one round trip of this
/// machine costs now). Printed, not asserted: timings are measured, budgets are the buffers and
/// statements above.
async fn analytics(harness: &Harness, admin: &User) {
    use icosistem_core::model::ProgramId;
    use icosistem_core::model::analytics::DateRange;
    let id: ProgramId = scalar(&harness.test, "SELECT id FROM programs WHERE slug = 'scale-analytics'")
        .await
        .into();
    let ctx = Context::user(admin);
    let eco = &harness.eco;
    let figures = eco
        .program_analytics(&ctx, id, DateRange::default())
        .await
        .expect("program analytics");
    let applications: u64 = figures.applications.funnel.iter().map(|s| s.count).sum();
    // Reviews of withdrawn or decided applications are neither done nor owed: count the rows.
    let reviews: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reviews r JOIN applications a ON a.id = r.application_id \
         JOIN programs p ON p.id = a.program_id WHERE p.slug = 'scale-analytics'",
    )
    .fetch_one(harness.test.store().pool())
    .await
    .expect("count reviews");
    assert_eq!(applications, 10_000, "the analytics program's applications");
    assert_eq!(reviews, 30_000, "the analytics program's reviews");
    let time = |samples: &mut Vec<Duration>| {
        samples.sort();
        (percentile(samples, 0.5), percentile(samples, 0.99))
    };
    let (mut figures_times, mut reference_times) = (Vec::new(), Vec::new());
    for _ in 0..harness.samples {
        let started = Instant::now();
        eco.program_analytics(&ctx, id, DateRange::default())
            .await
            .expect("program analytics");
        figures_times.push(started.elapsed());
        let started = Instant::now();
        eco.get_program(&ctx, id).await.expect("program");
        reference_times.push(started.elapsed());
    }
    let (p50, p99) = time(&mut figures_times);
    let (reference, _) = time(&mut reference_times);
    println!(
        "\nprogram analytics, 10 000 applications / 30 000 reviews ({} scores, {} reviewers): p50 {:.2} ms, p99 {:.2} ms \
         (issue #14: p50 ≤ 20 ms); one-row program read p50 {:.2} ms, ratio {:.1}×",
        figures.reviews.scores.count,
        figures.reviews.reviewers.len(),
        ms(p50),
        ms(p99),
        ms(reference),
        p50.as_secs_f64() / reference.as_secs_f64().max(1e-9)
    );
}

/// The same lists over HTTP, as issue #17 measured them: the real router over the same
/// PostgreSQL store, served in process by the release server's accept loop
/// (`icosistem_http::serve`) on 127.0.0.1, one keep-alive client connection, sequential
/// requests. Access tokens are signed with the state's secret for the generated users (their
/// passwords are placeholders nobody can log in with); each request is authenticated as usual.
mod http {
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use icosistem_core::Ecosystem;
    use icosistem_core::model::User;
    use icosistem_core::model::secret::SecretString;
    use icosistem_core::ports::store::{ApplicationFilter, ProgramFilter, ProjectFilter};
    use icosistem_core::ports::{ManualClock, RecordingNotifier};
    use icosistem_http::auth::{ACCESS_TYPE, AccessClaims};
    use icosistem_http::{AppState, HttpConfig, RateLimits, ServeLimits, router};
    use icosistem_store_postgres::testing::TestStore;
    use uuid::Uuid;

    use super::{List, ms, now, percentile};

    /// A signing secret for this run only.
    const SECRET: &str = "scale-harness-signing-secret-0123456789abcdef";

    /// The process's resident memory in MiB (`VmRSS` of /proc/self/status), `None` off Linux.
    fn rss_mib() -> Option<f64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    fn token(user: &User) -> String {
        let claims = AccessClaims {
            sub: user.id.to_string(),
            role: user.role.as_str().to_owned(),
            security_stamp: user.security_stamp,
            exp: (now() + chrono::Duration::days(1)).timestamp(),
            iat: now().timestamp(),
            typ: ACCESS_TYPE.to_owned(),
        };
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("sign")
    }

    /// `?name=value` pairs of the filter fields the API takes.
    fn query(list: &List) -> String {
        let mut q: Vec<String> = vec!["limit=20".to_owned()];
        let path = match list {
            List::Projects { filter, .. } => {
                let ProjectFilter {
                    owner_id,
                    stage,
                    status,
                    is_public,
                    ..
                } = filter;
                q.extend(owner_id.map(|v| format!("owner_id={v}")));
                q.extend(stage.map(|v| format!("stage={}", v.as_str())));
                q.extend(status.map(|v| format!("status={}", v.as_str())));
                q.extend(is_public.map(|v| format!("is_public={v}")));
                "projects"
            }
            List::Applications { filter, .. } => {
                let ApplicationFilter { program_id, status, .. } = filter;
                q.extend(program_id.map(|v| format!("program_id={v}")));
                q.extend(status.map(|v| format!("status={}", v.as_str())));
                "applications"
            }
            List::Programs { filter, .. } => {
                let ProgramFilter {
                    organization_id,
                    status,
                    accepting_at,
                    ..
                } = filter;
                q.extend(organization_id.map(|v| format!("organization_id={v}")));
                q.extend(status.map(|v| format!("status={}", v.as_str())));
                q.extend(accepting_at.map(|_| "accepting=true".to_owned()));
                "programs"
            }
        };
        format!("/api/v2/{path}?{}", q.join("&"))
    }

    fn caller(list: &List) -> Option<icosistem_core::model::UserId> {
        match list {
            List::Projects { ctx, .. } | List::Applications { ctx, .. } | List::Programs { ctx, .. } => {
                ctx.actor.user_id()
            }
        }
    }

    pub(super) async fn measure(
        test: &TestStore,
        clock: Arc<ManualClock>,
        lists: &[(&str, List, Uuid)],
        people: &[&User],
        samples: usize,
    ) {
        let eco = Ecosystem::new(test.clone(), Arc::new(RecordingNotifier::new()), clock);
        // The harness sends thousands of requests from one address in seconds: rate limiting
        // would measure the limiter's 429s, not the lists.
        let config = HttpConfig::new(SecretString::new(SECRET.to_owned())).with_rate_limits(RateLimits::disabled());
        let state = AppState::new(Arc::new(eco), config).expect("valid HTTP config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().expect("bound"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(icosistem_http::serve(
            listener,
            router(state),
            ServeLimits::default(),
            async {
                let _ = stopped.await;
            },
        ));
        // One pooled connection, reused by every request (keep-alive), one request at a time.
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1)
            .build_http::<Empty<Bytes>>();
        let tokens: HashMap<_, _> = people.iter().map(|u| (u.id, token(u))).collect();

        let get = async |url: &str, token: &str| -> (Duration, usize) {
            let request = hyper::Request::get(url)
                .header("authorization", format!("Bearer {token}"))
                .body(Empty::<Bytes>::new())
                .expect("request");
            let started = Instant::now();
            let response = client.request(request).await.expect("the server answers");
            let status = response.status();
            let body = response.into_body().collect().await.expect("body").to_bytes();
            let elapsed = started.elapsed();
            assert_eq!(status, 200, "GET {url}: {}", String::from_utf8_lossy(&body));
            let page: serde_json::Value = serde_json::from_slice(&body).expect("a JSON page");
            (elapsed, page["items"].as_array().map_or(0, Vec::len))
        };

        println!("\n| over HTTP, keep-alive, concurrency 1 (20 rows) | p50 ms | p99 ms | rows |\n|---|---:|---:|---:|");
        let mut memory = Vec::new();
        for (name, list, deep) in lists {
            let user = caller(list).expect("a user's list");
            let token = &tokens[&user];
            for (page, cursor) in [("first page", None), ("deep page", Some(*deep))] {
                let mut url = format!("{base}{}", query(list));
                if let Some(cursor) = cursor {
                    url.push_str(&format!("&cursor={cursor}"));
                }
                let coordinator = name.contains("coordinator") && name.starts_with("projects");
                let before = rss_mib();
                let mut times = Vec::with_capacity(samples);
                let mut rows = 0;
                for _ in 0..samples {
                    let (elapsed, n) = get(&url, token).await;
                    times.push(elapsed);
                    rows = n;
                }
                times.sort();
                println!(
                    "| {name} ({page}) | {:.2} | {:.2} | {rows} |",
                    ms(percentile(&times, 0.5)),
                    ms(percentile(&times, 0.99))
                );
                if coordinator {
                    memory.push((format!("{name} ({page})"), before, rss_mib()));
                }
            }
        }
        for (name, before, after) in memory {
            let show = |m: Option<f64>| m.map_or("?".to_owned(), |m| format!("{m:.1} MiB"));
            println!("RSS around {samples} × `{name}`: {} → {}", show(before), show(after));
        }
        let _ = stop.send(());
        server.await.expect("server task").expect("server");
    }
}
