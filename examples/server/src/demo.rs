//! Demo data: enough of an ecosystem for a newcomer to log in and click around.
//!
//! Everything is created through the use cases (never written to the store directly), so the
//! demo data carries the same audit trail, notifications and invariants as real data, and
//! works unchanged on every store.

use chrono::{Duration, NaiveTime};
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::{
    AllyProfile, MemberRole, OrganizationStatus, OrganizationType, ProfileData, ProgramFormat, ProgramType,
    ProjectStage, ProjectType, Role, User,
};
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::rules::availability::WeeklySlot;
use icosistem_core::service::{
    AdminCreateUser, CreateOrganization, CreateProgram, CreateProject, Register, SubmitReview, UpdateMe,
};
use icosistem_core::workflow::program::ProgramCommand;
use icosistem_core::workflow::project::ProjectCommand;
use icosistem_core::{Context, Ecosystem, Error};
use serde_json::{Map, Value, json};

/// The demo admin's email.
pub const ADMIN_EMAIL: &str = "admin@icosistem.demo";

/// One password for every demo account: long enough for the policy, not a common password and
/// not containing any account's email. Printed at start, so it must never guard real data —
/// production refuses the in-memory store, and `seed-demo` says what it creates.
pub const DEMO_PASSWORD: &str = "Quebrada-del-Condor-2027";

/// A demo account a newcomer can sign in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    /// The account's platform role (`admin`, `entrepreneur` …).
    pub role: &'static str,
    /// The login email.
    pub email: &'static str,
    /// The password (always [`DEMO_PASSWORD`]).
    pub password: &'static str,
}

/// What [`seed`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The data was created; these are the logins.
    Created(Vec<DemoLogin>),
    /// The demo admin already existed: nothing was created, so seeding twice is harmless.
    AlreadyPresent(Vec<DemoLogin>),
}

impl SeedOutcome {
    /// The demo logins either way.
    pub fn logins(&self) -> &[DemoLogin] {
        match self {
            Self::Created(l) | Self::AlreadyPresent(l) => l,
        }
    }
}

struct Founder {
    first: &'static str,
    last: &'static str,
    email: &'static str,
    project: &'static str,
    tagline: &'static str,
    project_type: ProjectType,
    stage: ProjectStage,
    /// Submit the application (else it stays a draft, to show both states).
    submit: bool,
}

const FOUNDERS: [Founder; 3] = [
    Founder {
        first: "Valentina",
        last: "Rojas",
        email: "valentina@agrosense.demo",
        project: "AgroSense",
        tagline: "Soil sensors that tell smallholders when to water",
        project_type: ProjectType::Agtech,
        stage: ProjectStage::Prototype,
        submit: true,
    },
    Founder {
        first: "Mateo",
        last: "Quispe",
        email: "mateo@rutallama.demo",
        project: "Ruta Llama",
        tagline: "Last-mile delivery for Andean villages",
        project_type: ProjectType::Startup,
        stage: ProjectStage::Validation,
        submit: true,
    },
    Founder {
        first: "Camila",
        last: "Torres",
        email: "camila@solarandes.demo",
        project: "SolarAndes",
        tagline: "Pay-as-you-go solar kits for highland schools",
        project_type: ProjectType::Greentech,
        stage: ProjectStage::Pilot,
        submit: false,
    },
];

const ALLY_EMAIL: &str = "rodrigo@agromentores.demo";

/// The incubator's program coordinator: signs in to the coordinator dashboard (`/dashboard`)
/// and sees the demo program's figures as its staff would, not as an admin.
pub const COORDINATOR_EMAIL: &str = "lucia@andes-incubator.demo";

/// The coordinator's score of the first submitted application: one review done and one owed,
/// so the dashboard's reviewer workload and score distribution have something to show.
const DEMO_SCORE: i64 = 82;

/// Every demo login, in the order they are printed.
pub fn logins() -> Vec<DemoLogin> {
    let login = |role, email| DemoLogin {
        role,
        email,
        password: DEMO_PASSWORD,
    };
    let mut all = vec![
        login("admin", ADMIN_EMAIL),
        // Its platform role (what `/users/me` says); the coordinator role is the membership's.
        login("client", COORDINATOR_EMAIL),
        login("ally", ALLY_EMAIL),
    ];
    all.extend(FOUNDERS.iter().map(|f| login("entrepreneur", f.email)));
    all
}

/// Creates the demo ecosystem: the admin `admin@icosistem.demo`, a verified incubator with a
/// coordinator, a published program open for applications for 30 days, three verified
/// entrepreneurs with an active project each (two applications submitted, one draft), the
/// coordinator assigned to review both submitted ones and done with the first, and an ally with
/// a mentoring profile and a weekly availability. Idempotent: when the demo admin exists,
/// nothing is done.
pub async fn seed<S: Store, N: Notifier, C: Clock>(eco: &Ecosystem<S, N, C>) -> Result<SeedOutcome, Error> {
    let admin = match create_user(eco, &Context::system(), ADMIN_EMAIL, ("Ada", "Admin"), Role::Admin).await {
        Err(Error::Conflict {
            entity: "user",
            field: "email",
        }) => return Ok(SeedOutcome::AlreadyPresent(logins())),
        other => other?,
    };
    let as_admin = Context::user(&admin);
    let org = eco
        .create_organization(
            &as_admin,
            CreateOrganization {
                name: "Andes Startup Incubator (demo)".into(),
                organization_type: OrganizationType::Incubator,
                is_public: Some(true),
                allow_applications: Some(true),
                email: Some("hello@andes-incubator.demo".into()),
                website: None,
                tax_id: None,
                description: Some("A demo incubator: everything here is made up.".into()),
            },
        )
        .await?;
    eco.set_organization_status(&as_admin, org.id, OrganizationStatus::Verified)
        .await?;

    // Dates relative to now, so the program is open for applications whenever the demo starts.
    let now = eco.clock().now();
    let start = (now + Duration::days(45)).date_naive();
    let program = eco
        .create_program(
            &as_admin,
            CreateProgram {
                organization_id: org.id,
                name: "Andes Accelerator — Demo Cohort".into(),
                program_type: ProgramType::Acceleration,
                description: Some("Twelve weeks from pilot to paying customers.".into()),
                application_opens_at: now,
                application_deadline: now + Duration::days(30),
                start_date: start,
                end_date: start + Duration::weeks(12),
                min_participants: Some(1),
                max_participants: 10,
                min_reviews: Some(1),
                blind_review: Some(false),
                target_sectors: Vec::new(),
                target_stages: Vec::new(),
                format: Some(ProgramFormat::Hybrid),
                rounds: None,
            },
        )
        .await?;
    let program = eco
        .program_command(
            &as_admin,
            program.id,
            ProgramCommand::Publish,
            Some(program.meta.version),
        )
        .await?;

    let mut submitted = Vec::new();
    for f in &FOUNDERS {
        let user = verified_entrepreneur(eco, f).await?;
        let ctx = Context::user(&user);
        let project = eco
            .create_project(
                &ctx,
                CreateProject {
                    name: f.project.into(),
                    description: format!("{} — {}.", f.project, f.tagline),
                    project_type: f.project_type,
                    tagline: Some(f.tagline.into()),
                    category: None,
                    priority: None,
                    stage: Some(f.stage),
                    funding_stage: None,
                    funding_target: None,
                    team_size: Some(3),
                    is_public: Some(true),
                    seeking_mentorship: Some(true),
                },
            )
            .await?;
        let project = eco
            .project_command(&ctx, project.id, ProjectCommand::Activate, Some(project.meta.version))
            .await?;
        let draft = eco
            .create_application(&ctx, program.id, project.id, answers(json!({ "why_now": f.tagline })))
            .await?;
        if f.submit {
            submitted.push(
                eco.submit_application(&ctx, draft.id, Some(draft.meta.version))
                    .await?
                    .id,
            );
        }
    }

    // A client account (the platform role of staff who are neither founders nor mentors) made
    // the incubator's coordinator by the admin, the way a real deployment staffs a program.
    let coordinator = create_user(eco, &as_admin, COORDINATOR_EMAIL, ("Lucía", "Mamani"), Role::Client).await?;
    eco.add_member(&as_admin, org.id, coordinator.id, MemberRole::Coordinator)
        .await?;
    let as_coordinator = Context::user(&coordinator);
    for (i, application) in submitted.iter().enumerate() {
        eco.assign_reviewer(&as_coordinator, *application, coordinator.id)
            .await?;
        if i == 0 {
            let review = SubmitReview {
                score: DEMO_SCORE,
                comment: Some("Clear problem, a working prototype and first farmers on board.".into()),
                conflict_declared: false,
            };
            eco.submit_review(&as_coordinator, *application, review).await?;
        }
    }

    let ally = create_user(eco, &as_admin, ALLY_EMAIL, ("Rodrigo", "Salazar"), Role::Ally).await?;
    let as_ally = Context::user(&ally);
    eco.update_me(
        &as_ally,
        UpdateMe {
            timezone: Some("America/Bogota".into()),
            ..Default::default()
        },
    )
    .await?;
    eco.update_my_profile(
        &as_ally,
        ProfileData::Ally(AllyProfile {
            primary_expertise: Some("agtech".into()),
            specializations: vec!["fundraising".into(), "go-to-market".into(), "agtech".into()],
            preferred_stages: vec![ProjectStage::Prototype, ProjectStage::Validation, ProjectStage::Pilot],
            max_mentees: 5,
            ..AllyProfile::default()
        }),
        None,
    )
    .await?;
    eco.set_my_availability(
        &as_ally,
        "America/Bogota".into(),
        vec![weekly(0, 9, 12), weekly(2, 9, 12), weekly(3, 14, 17)],
        None,
    )
    .await?;
    Ok(SeedOutcome::Created(logins()))
}

/// Registers a founder the way a visitor would, then verifies the email with the token that
/// `register` hands back (in production it travels by email).
async fn verified_entrepreneur<S: Store, N: Notifier, C: Clock>(
    eco: &Ecosystem<S, N, C>,
    f: &Founder,
) -> Result<User, Error> {
    let (_, token) = eco
        .register(
            &Context::anonymous(),
            Register {
                email: f.email.into(),
                password: SecretString::new(DEMO_PASSWORD),
                first_name: f.first.into(),
                last_name: f.last.into(),
                role: Role::Entrepreneur,
            },
        )
        .await?;
    eco.verify_email(&Context::anonymous(), &token).await
}

/// Creates an active, verified account with the demo password through `admin_create_user`.
pub async fn create_user<S: Store, N: Notifier, C: Clock>(
    eco: &Ecosystem<S, N, C>,
    ctx: &Context,
    email: &str,
    (first_name, last_name): (&str, &str),
    role: Role,
) -> Result<User, Error> {
    create_user_with_password(
        eco,
        ctx,
        email,
        SecretString::new(DEMO_PASSWORD),
        (first_name, last_name),
        role,
    )
    .await
}

/// [`create_user`] with an explicit password. Public because `serve` and `create-admin`
/// bootstrap the first admin through it too (as `Context::system()`, see
/// [`ensure_admin`](crate::ensure_admin)), so every account is born the same way.
pub async fn create_user_with_password<S: Store, N: Notifier, C: Clock>(
    eco: &Ecosystem<S, N, C>,
    ctx: &Context,
    email: &str,
    password: SecretString,
    (first_name, last_name): (&str, &str),
    role: Role,
) -> Result<User, Error> {
    eco.admin_create_user(
        ctx,
        AdminCreateUser {
            email: email.into(),
            password,
            first_name: first_name.into(),
            last_name: last_name.into(),
            role,
        },
    )
    .await
}

fn weekly(weekday: u8, from: u32, to: u32) -> WeeklySlot {
    WeeklySlot {
        weekday,
        start: NaiveTime::from_hms_opt(from, 0, 0).unwrap_or_default(),
        end: NaiveTime::from_hms_opt(to, 0, 0).unwrap_or_default(),
    }
}

fn answers(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
