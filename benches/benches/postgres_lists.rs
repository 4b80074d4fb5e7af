//! # PostgreSQL load harness
//!
//! Loads 100 000 projects and 200 000 applications (plus 20 000 entrepreneurs, 10 organizations
//! and 50 programs) into a fresh database, then measures, with p50/p99 latencies:
//!
//! - every list query of API.md on the store — programs by organization, status and
//!   "accepting"; projects by owner, stage, status and `is_public`; applications by program,
//!   program + status, and the applicant's own — each as a first page and as a deep cursor page
//!   (the cursor half-way through the table);
//! - the `submit_application` and `decide(Accept)` use cases on the loaded database;
//!
//! and prints `EXPLAIN` of every list query, failing if one of them scans a large table
//! sequentially. Rows are loaded through the store's own repositories (2 000 per unit of work), so
//! the harness follows the schema wherever it goes.
//!
//! Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p icosistem-benches --bench postgres_lists`
//! (without `DATABASE_URL` it prints a skip line). `ICOSISTEM_BENCH_SCALE=0.1` loads a tenth.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::value::{Email, Name, Percent, PersonName, Slug};
use icosistem_core::model::{
    Application, ApplicationStatus, Deletion, FundingStage, Meta, NotificationPreferences, Organization,
    OrganizationStatus, OrganizationType, Priority, Program, ProgramFormat, ProgramStatus, ProgramType, Project,
    ProjectStage, ProjectStatus, ProjectType, Role, User, UserStatus,
};
use icosistem_core::ports::store::{
    ApplicationFilter, Entity, PageRequest, ProgramFilter, ProjectFilter, Repo, Store, Transaction,
};
use icosistem_core::ports::{Argon2idPasswordHasher, IdGen, ManualClock, RecordingNotifier, UuidV7Gen};
use icosistem_core::service::{
    AdminCreateUser, CreateOrganization, CreateProgram, CreateProject, Decision, SubmitReview,
};
use icosistem_core::{Context, Ecosystem};
use icosistem_store_postgres::PgEntity;
use icosistem_store_postgres::testing::TestStore;
use uuid::Uuid;

const BATCH: usize = 2_000;
const SAMPLES: usize = 200;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 9, 0, 0).single().expect("valid")
}

fn scale() -> f64 {
    std::env::var("ICOSISTEM_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

struct Loaded {
    organizations: Vec<Organization>,
    programs: Vec<Program>,
    entrepreneurs: Vec<User>,
    middle_project: Uuid,
    middle_application: Uuid,
    middle_program: Uuid,
}

async fn insert_all<E: Entity>(store: &TestStore, rows: Vec<E>)
where
    <TestStore as Store>::Tx: Repo<E>,
{
    for chunk in rows.chunks(BATCH) {
        let mut tx = store.begin().await.expect("begin");
        for row in chunk {
            Repo::<E>::insert(&mut tx, row).await.expect("insert");
        }
        tx.commit().await.expect("commit");
    }
}

fn meta() -> Meta {
    Meta::new(now(), None)
}

async fn load(store: &TestStore) -> Loaded {
    let ids = UuidV7Gen;
    let users_n = (20_000.0 * scale()) as usize;
    let projects_n = (100_000.0 * scale()) as usize;
    let stages = ProjectStage::ALL;
    let started = Instant::now();

    let entrepreneurs: Vec<User> = (0..users_n)
        .map(|i| User {
            id: ids.new_uuid().into(),
            email: Email::parse(&format!("founder{i}@bench.example.org")).expect("email"),
            // Never used to log in: the bench measures queries, not hashing.
            password_hash: "$argon2id$v=19$m=8,t=1,p=1$YmVuY2hzYWx0$bench".to_owned(),
            first_name: PersonName::parse("Bench").expect("name"),
            last_name: PersonName::parse("Founder").expect("name"),
            role: Role::Entrepreneur,
            status: UserStatus::Active,
            email_verified_at: Some(now()),
            failed_logins: 0,
            locked_until: None,
            last_login_at: None,
            security_stamp: 0,
            phone: None,
            timezone: Default::default(),
            language: Default::default(),
            notification_preferences: NotificationPreferences::default(),
            meta: meta(),
            deletion: Deletion::default(),
        })
        .collect();
    insert_all(store, entrepreneurs.clone()).await;

    let organizations: Vec<Organization> = (0..10)
        .map(|i| Organization {
            id: ids.new_uuid().into(),
            name: Name::parse(&format!("Bench Organization {i}")).expect("name"),
            slug: Slug::parse(&format!("bench-organization-{i}")).expect("slug"),
            organization_type: OrganizationType::Incubator,
            status: OrganizationStatus::Active,
            is_public: true,
            allow_applications: true,
            email: None,
            website: None,
            tax_id: None,
            description: None,
            meta: meta(),
            deletion: Deletion::default(),
        })
        .collect();
    insert_all(store, organizations.clone()).await;

    let programs: Vec<Program> = (0..50)
        .map(|i| Program {
            id: ids.new_uuid().into(),
            organization_id: organizations[i % organizations.len()].id,
            name: Name::parse(&format!("Bench Program {i}")).expect("name"),
            slug: Slug::parse(&format!("bench-program-{i}")).expect("slug"),
            program_type: ProgramType::Acceleration,
            status: if i % 5 == 0 {
                ProgramStatus::Draft
            } else {
                ProgramStatus::Published
            },
            description: None,
            application_opens_at: now() - chrono::Duration::days(10),
            application_deadline: now() + chrono::Duration::days(20),
            start_date: NaiveDate::from_ymd_opt(2027, 3, 1).expect("date"),
            end_date: NaiveDate::from_ymd_opt(2027, 6, 1).expect("date"),
            min_participants: 1,
            max_participants: 1000,
            accepted_count: 0,
            min_reviews: 1,
            blind_review: false,
            target_sectors: Vec::new(),
            target_stages: Vec::new(),
            format: ProgramFormat::Hybrid,
            rounds: Vec::new(),
            meta: meta(),
            deletion: Deletion::default(),
        })
        .collect();
    insert_all(store, programs.clone()).await;

    let projects: Vec<Project> = (0..projects_n)
        .map(|i| Project {
            id: ids.new_uuid().into(),
            owner_id: entrepreneurs[i % entrepreneurs.len()].id,
            name: Name::parse(&format!("Bench Project {i}")).expect("name"),
            slug: Slug::parse(&format!("bench-project-{i}")).expect("slug"),
            tagline: None,
            description: "A project loaded by the PostgreSQL load harness.".to_owned(),
            project_type: ProjectType::Startup,
            category: Some("fintech".to_owned()),
            priority: Priority::Medium,
            stage: stages[i % stages.len()],
            status: [ProjectStatus::Draft, ProjectStatus::Active, ProjectStatus::Paused][i % 3],
            funding_stage: FundingStage::Bootstrapped,
            funding_target: None,
            funding_raised: None,
            team_size: 3,
            is_public: i % 4 == 0,
            seeking_mentorship: true,
            progress: Percent::new(10).expect("percent"),
            launch_date: None,
            milestones_total: 0,
            milestones_completed: 0,
            meta: meta(),
            deletion: Deletion::default(),
        })
        .collect();
    let middle_project = projects[projects.len() / 2].id.into();
    let statuses = [
        ApplicationStatus::Draft,
        ApplicationStatus::Submitted,
        ApplicationStatus::UnderReview,
        ApplicationStatus::Waitlisted,
        ApplicationStatus::Rejected,
    ];
    let applications: Vec<Application> = projects
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            [i % programs.len(), (i + programs.len() / 2) % programs.len()].map(|k| {
                let status = statuses[(i + k) % statuses.len()];
                let decided = matches!(status, ApplicationStatus::Waitlisted | ApplicationStatus::Rejected);
                Application {
                    id: ids.new_uuid().into(),
                    program_id: programs[k].id,
                    project_id: p.id,
                    applicant_id: p.owner_id,
                    answers: serde_json::Map::new(),
                    status,
                    submitted_at: (status != ApplicationStatus::Draft).then(now),
                    decided_at: decided.then(now),
                    decision_note: None,
                    mean_score_centi: None,
                    current_round: None,
                    meta: meta(),
                }
            })
        })
        .collect();
    let middle_application = applications[applications.len() / 2].id.into();
    insert_all(store, projects).await;
    insert_all(store, applications).await;
    println!(
        "loaded {} entrepreneurs, 10 organizations, 50 programs, {} projects, {} applications in {:.1} s",
        users_n,
        projects_n,
        projects_n * 2,
        started.elapsed().as_secs_f64()
    );
    // Fresh statistics, as autovacuum would give a real deployment after a bulk load.
    sqlx::query("ANALYZE")
        .execute(store.store().pool())
        .await
        .expect("analyze");
    Loaded {
        middle_program: programs[programs.len() / 2].id.into(),
        organizations,
        programs,
        entrepreneurs,
        middle_project,
        middle_application,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(name: &str, mut samples: Vec<Duration>, rows: usize) {
    samples.sort();
    println!(
        "{name:<58} p50 {:>8.3} ms   p99 {:>8.3} ms   ({rows} rows)",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
    );
}

async fn measure_list<E: PgEntity>(
    store: &TestStore,
    name: &str,
    filter: E::Filter,
    after: Option<Uuid>,
    plans: &mut Vec<(String, String)>,
) where
    <TestStore as Store>::Tx: Repo<E>,
{
    let page = PageRequest {
        after,
        ..PageRequest::first(20)
    };
    let mut samples = Vec::with_capacity(SAMPLES);
    let mut rows = 0;
    for _ in 0..SAMPLES {
        let mut tx = store.begin().await.expect("begin");
        let started = Instant::now();
        let result = Repo::<E>::list(&mut tx, &filter, page).await.expect("list");
        samples.push(started.elapsed());
        rows = result.items.len();
        drop(tx);
    }
    report(name, samples, rows);
    let plan = store.store().explain_list::<E>(&filter, page).await.expect("explain");
    plans.push((name.to_owned(), plan));
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let loaded = load(&store).await;
    let mut plans = Vec::new();
    let org = loaded.organizations[3].id;
    let program = loaded.programs[7].id;
    let owner = loaded.entrepreneurs[42].id;
    for (label, after) in [("first page", None), ("deep page", Some(()))] {
        let pick = |id: Uuid| after.map(|_| id);
        for (query, filter) in [
            (
                "programs ?organization_id",
                ProgramFilter {
                    organization_id: Some(org),
                    ..Default::default()
                },
            ),
            (
                "programs ?status=published",
                ProgramFilter {
                    status: Some(ProgramStatus::Published),
                    ..Default::default()
                },
            ),
            (
                "programs ?accepting=true",
                ProgramFilter {
                    accepting_at: Some(now()),
                    ..Default::default()
                },
            ),
        ] {
            let name = format!("{query} ({label})");
            measure_list::<Program>(&store, &name, filter, pick(loaded.middle_program), &mut plans).await;
        }
        for (query, filter) in [
            (
                "projects ?owner_id",
                ProjectFilter {
                    owner_id: Some(owner),
                    ..Default::default()
                },
            ),
            (
                "projects ?stage=development",
                ProjectFilter {
                    stage: Some(ProjectStage::Development),
                    ..Default::default()
                },
            ),
            (
                "projects ?status=active",
                ProjectFilter {
                    status: Some(ProjectStatus::Active),
                    ..Default::default()
                },
            ),
            (
                "projects ?is_public=true",
                ProjectFilter {
                    is_public: Some(true),
                    ..Default::default()
                },
            ),
        ] {
            let name = format!("{query} ({label})");
            measure_list::<Project>(&store, &name, filter, pick(loaded.middle_project), &mut plans).await;
        }
        for (query, filter) in [
            (
                "applications ?program_id",
                ApplicationFilter {
                    program_id: Some(program),
                    exclude_drafts: true,
                    ..Default::default()
                },
            ),
            (
                "applications ?program_id&status=rejected",
                ApplicationFilter {
                    program_id: Some(program),
                    status: Some(ApplicationStatus::Rejected),
                    ..Default::default()
                },
            ),
            (
                "applications mine",
                ApplicationFilter {
                    applicant_id: Some(owner),
                    ..Default::default()
                },
            ),
        ] {
            let name = format!("{query} ({label})");
            measure_list::<Application>(&store, &name, filter, pick(loaded.middle_application), &mut plans).await;
        }
    }

    use_cases(&store).await;

    println!("\nEXPLAIN of every list query:");
    let mut seq_scans = Vec::new();
    for (name, plan) in &plans {
        println!("-- {name}\n{plan}");
        for table in ["projects", "applications", "users"] {
            if plan.contains(&format!("Seq Scan on {table}")) {
                seq_scans.push(format!("{name}: Seq Scan on {table}"));
            }
        }
    }
    assert!(
        seq_scans.is_empty(),
        "list queries scan large tables sequentially: {seq_scans:#?}"
    );
    println!("no list query scans a large table sequentially");
}

/// `submit_application` and `decide(Accept)` through the use cases on the loaded database.
async fn use_cases(store: &TestStore) {
    let clock = Arc::new(ManualClock::new(now()));
    let eco = Ecosystem::new(store.clone(), RecordingNotifier::new(), Arc::clone(&clock))
        .with_hasher(Argon2idPasswordHasher::fast_for_tests());
    let system = Context::system();
    let password = SecretString::new("Quebrada-del-Condor-2027");
    // Every user of the run, created by the platform: verified and active.
    let user = async |email: String, first: &str, last: &str, role: Role| {
        eco.admin_create_user(
            &system,
            AdminCreateUser::new(email, password.clone(), first, last, role),
        )
        .await
        .expect("user")
    };
    let staff = user(
        "coordinator@bench.example.org".into(),
        "Bench",
        "Coordinator",
        Role::Ally,
    )
    .await;
    let staff_ctx = Context::user(&staff);
    let org = eco
        .create_organization(
            &staff_ctx,
            CreateOrganization::new("Bench Use Case Org", OrganizationType::Accelerator),
        )
        .await
        .expect("org");
    let program = eco
        .create_program(
            &staff_ctx,
            CreateProgram::new(
                org.id,
                "Bench Use Case Program",
                ProgramType::Acceleration,
                now() - chrono::Duration::hours(1)..now() + chrono::Duration::days(10),
                NaiveDate::from_ymd_opt(2027, 3, 1).expect("date")..=NaiveDate::from_ymd_opt(2027, 6, 1).expect("date"),
                1000,
            ),
        )
        .await
        .expect("program");
    eco.program_command(
        &staff_ctx,
        program.id,
        icosistem_core::workflow::program::ProgramCommand::Publish,
        None,
    )
    .await
    .expect("publish");
    let mut drafts = Vec::new();
    for i in 0..SAMPLES {
        let founder = user(
            format!("usecase{i}@bench.example.org"),
            "Use",
            "Case",
            Role::Entrepreneur,
        )
        .await;
        let ctx = Context::user(&founder);
        let project = eco
            .create_project(
                &ctx,
                CreateProject::new(
                    format!("Use case project {i}"),
                    "Measured by the load harness.",
                    ProjectType::Startup,
                ),
            )
            .await
            .expect("project");
        let app = eco
            .create_application(&ctx, program.id, project.id, serde_json::Map::new())
            .await
            .expect("draft");
        drafts.push((ctx, app.id));
    }
    let mut submit = Vec::new();
    for (ctx, id) in &drafts {
        let started = Instant::now();
        eco.submit_application(ctx, *id, None).await.expect("submit");
        submit.push(started.elapsed());
    }
    report("use case submit_application", submit, 1);
    for (_, id) in &drafts {
        eco.assign_reviewer(&staff_ctx, *id, staff.id).await.expect("assign");
        eco.submit_review(&staff_ctx, *id, SubmitReview::new(80))
            .await
            .expect("review");
    }
    let mut decide = Vec::new();
    for (_, id) in &drafts {
        let started = Instant::now();
        eco.decide(&staff_ctx, *id, Decision::Accept, None, None)
            .await
            .expect("decide");
        decide.push(started.elapsed());
    }
    report("use case decide(Accept)", decide, 1);
}
