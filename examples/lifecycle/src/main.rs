//! # The life of one cohort
//!
//! A guided tour of Icosistem: this binary drives a whole accelerator cohort through the use
//! cases of `icosistem-core` on the in-memory store and prints what happens as a story.
//!
//! It shows, in order:
//!
//! 1. the platform bootstrapping its first admin, who creates the staff accounts; the director
//!    creating an incubator (she becomes its owner) and adding a coordinator and two reviewers;
//! 2. a program with 3 seats and 2 reviews per decision, created as a draft and published;
//! 3. six founders registering, verifying their email with the token `register` returns, signing
//!    in (`authenticate`) and creating their projects — plus a registration refused with every
//!    failing field at once;
//! 4. applications: drafts, submissions, one refused for eligibility until the project matures;
//! 5. reviews with scores, and a reviewer declaring a conflict of interest: the review is kept
//!    but does not count, so the coordinator steps in as a second reviewer;
//! 6. decisions under capacity: three accepted, the fourth accept refused with `ProgramFull`,
//!    two waitlisted, one rejected;
//! 7. a seat opening: an accepted founder withdraws and the best waitlisted application is
//!    promoted automatically, in the same unit of work, and its founder is notified;
//! 8. the clock reaching the start date: the program starts and enrollments become active;
//! 9. milestones created, progressed, delayed and completed, moving the project's progress;
//! 10. mentoring: three mentors join; a founder gets ally suggestions with scores and reasons,
//!     asks the best match, who accepts; his weekly availability (America/Bogota) and next
//!     week's free slots in his local time; a session booked from a free slot (and an
//!     overlapping one refused), confirmed, started, completed with a summary, feedback both
//!     ways and the ally's average rating; a meeting with participants and their answers; tasks
//!     whose subtasks roll progress up, a dependency and a refused cycle; the time-driven jobs
//!     sending a session reminder and sweeping a missed session as a no-show — each run twice,
//!     the second sending nothing;
//! 11. one founder's inbox and the audit trail;
//! 12. the outbox delivered through the notifier;
//! 13. whole-cohort mentor matching;
//! 14. a second program selecting in three review rounds (screening blind, an interview with
//!     two named reviewers, the director's committee): advances, rejections in a round with a
//!     reason, refused skips, and the rounds fixed once applications entered them
//!     ([`rounds`]).
//!
//! Time comes from a [`ManualClock`] that the story moves by hand, starting on
//! 2027-01-10 09:00 UTC, so every run prints the same story. Ids and tokens are random (UUID v7,
//! OS randomness) and are therefore never printed.
//!
//! Run it with `cargo run -p icosistem-example-lifecycle`.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::value::{Currency, Money};
use icosistem_core::model::{
    AllyProfile, Application, ApplicationStatus, EnrollmentStatus, EntrepreneurProfile, EntrepreneurStage, MemberRole,
    Milestone, NotificationStatus, Organization, OrganizationStatus, OrganizationType, ParticipantResponse,
    ProfileData, Program, ProgramFormat, ProgramId, ProgramType, Project, ProjectStage, ProjectType, Role,
    SessionStatus, TaskId, User,
};
use icosistem_core::ports::store::{AuditFilter, PageRequest};
use icosistem_core::ports::{Argon2idPasswordHasher, Clock as _, ManualClock, RecordingNotifier};
use icosistem_core::rules::availability::WeeklySlot;
use icosistem_core::rules::cohort::MatchObjective;
use icosistem_core::service::{
    AdminCreateUser, AllyQuery, BookSession, CreateMilestone, CreateOrganization, CreateProgram, CreateProject,
    CreateTask, Decision, JobsReport, MilestoneAction, Register, RequestMentorship, ScheduleMeeting, SessionAction,
    SubmitReview, UpdateMe,
};
use icosistem_core::workflow::mentorship::MentorshipCommand;
use icosistem_core::workflow::program::ProgramCommand;
use icosistem_core::workflow::project::ProjectCommand;
use icosistem_core::workflow::task::TaskCommand;
use icosistem_core::{Context, Ecosystem, Error};
use icosistem_store_memory::MemoryStore;
use serde_json::{Map, Value, json};

mod documents;
mod rounds;

/// The ecosystem of this story: memory store, a notifier that records what it "sends", and a
/// clock that only moves when the story says so. Both are behind `Arc`s so the story keeps a
/// handle on them after handing them to the ecosystem.
type Eco = Ecosystem<MemoryStore, Arc<RecordingNotifier>, Arc<ManualClock>>;

/// What `main` answers when something *unexpected* happens. Expected refusals are matched and
/// narrated; only a broken story ends up here (and makes the process exit non-zero).
type Outcome<T = ()> = Result<T, Box<dyn StdError>>;

/// One password for the whole cast: 12+ chars, not common, not containing anyone's email.
const PASSWORD: &str = "Quebrada-del-Condor-2027";

/// The instant the story starts.
fn opening_day() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 9, 0, 0)
        .single()
        .expect("a valid instant")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("a valid instant")
}

/// The ecosystem plus the handles the narration needs.
struct Story {
    eco: Eco,
    clock: Arc<ManualClock>,
    notifier: Arc<RecordingNotifier>,
}

impl Story {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new(opening_day()));
        let notifier = Arc::new(RecordingNotifier::new());
        // With `owasp()` parameters (19 MiB, 2 passes) each hash or verification takes ~0.4 s in
        // an unoptimized debug build, and the story does ~17 of them: `cargo run` took ~7 s.
        // The cheap parameters make it instant and change nothing the story shows (the flows are
        // the same). A real deployment keeps `Ecosystem::new`'s default, `owasp()`; the benches
        // measure what a login costs with it.
        let eco = Ecosystem::new(MemoryStore::new(), Arc::clone(&notifier), Arc::clone(&clock))
            .with_hasher(Argon2idPasswordHasher::fast_for_tests());
        Self { eco, clock, notifier }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Moves the clock and says so.
    fn travel_to(&self, to: DateTime<Utc>, why: &str) {
        self.clock.set(to);
        println!("\n  [clock → {}] {why}", stamp(to));
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%a %Y-%m-%d %H:%M UTC").to_string()
}

fn chapter(n: u32, title: &str) {
    let heading = format!("{n}. {title}");
    println!("\n{heading}\n{}", "-".repeat(heading.chars().count()));
}

/// Narrates an error the story expects, in the words the API would use (`code` + message).
/// Validation errors list every failing field, one per line when there are several.
fn refusal(e: &Error) -> String {
    match e {
        Error::Validation(errors) if errors.fields().len() > 1 => {
            let mut text = format!("refused [{}]:", e.code());
            for field in errors.fields() {
                text.push_str(&format!("\n      - {field}"));
            }
            text
        }
        Error::Validation(errors) => format!("refused [{}]: {errors}", e.code()),
        _ => format!("refused [{}]: {e}", e.code()),
    }
}

/// Unwraps an expected refusal; an unexpected success means the story (or the core) broke.
fn expect_refusal<T>(result: Result<T, Error>, what: &str) -> Outcome<Error> {
    match result {
        Ok(_) => Err(format!("{what} should have been refused").into()),
        Err(e) => Ok(e),
    }
}

/// "90.00" from a mean score × 100.
fn score(mean_centi: Option<u32>) -> String {
    mean_centi.map_or_else(|| "—".to_owned(), |c| format!("{}.{:02}", c / 100, c % 100))
}

// ---------------------------------------------------------------------------------------------
// The cast

/// Staff of the incubator, and the platform admin.
struct Staff {
    admin: User,
    director: User,
    coordinator: User,
    reviewers: [User; 2],
    org: Organization,
}

/// A founder as the story follows them.
struct Founder {
    user: User,
    project: Project,
    application: Option<Application>,
    /// Scores given by (Ana, Javier).
    scores: (i64, i64),
    /// Javier declares a conflict of interest on this one.
    javier_conflicted: bool,
}

impl Founder {
    fn ctx(&self) -> Context {
        Context::user(&self.user)
    }

    fn app(&self) -> Outcome<&Application> {
        self.application
            .as_ref()
            .ok_or_else(|| format!("{} has no application", self.user.full_name()).into())
    }
}

/// Static description of one founder and their venture.
struct Pitch {
    first: &'static str,
    last: &'static str,
    email: &'static str,
    project: &'static str,
    tagline: &'static str,
    category: &'static str,
    project_type: ProjectType,
    stage: ProjectStage,
    team_size: u32,
    funding_target_usd: i64,
    scores: (i64, i64),
    javier_conflicted: bool,
}

const PITCHES: [Pitch; 6] = [
    Pitch {
        first: "Valentina",
        last: "Rojas",
        email: "valentina@agrosense.co",
        project: "AgroSense",
        tagline: "Soil sensors that tell smallholders when to water",
        category: "agtech",
        project_type: ProjectType::Agtech,
        stage: ProjectStage::Prototype,
        team_size: 4,
        funding_target_usd: 250_000,
        scores: (92, 88),
        javier_conflicted: false,
    },
    Pitch {
        first: "Mateo",
        last: "Quispe",
        email: "mateo@rutallama.pe",
        project: "Ruta Llama",
        tagline: "Last-mile delivery for Andean villages",
        category: "logistics",
        project_type: ProjectType::Startup,
        stage: ProjectStage::Validation,
        team_size: 6,
        funding_target_usd: 400_000,
        scores: (85, 91),
        javier_conflicted: false,
    },
    Pitch {
        first: "Camila",
        last: "Torres",
        email: "camila@solarandes.cl",
        project: "SolarAndes",
        tagline: "Pay-as-you-go solar kits for highland schools",
        category: "greentech",
        project_type: ProjectType::Greentech,
        stage: ProjectStage::Pilot,
        team_size: 5,
        funding_target_usd: 300_000,
        scores: (84, 86),
        javier_conflicted: false,
    },
    Pitch {
        first: "Diego",
        last: "Mamani",
        email: "diego@quipupay.bo",
        project: "Quipu Pay",
        tagline: "Savings circles, digitized",
        category: "fintech",
        project_type: ProjectType::Fintech,
        stage: ProjectStage::Development,
        team_size: 3,
        funding_target_usd: 150_000,
        scores: (80, 84),
        javier_conflicted: false,
    },
    Pitch {
        first: "Lucía",
        last: "Fernández",
        email: "lucia@saludcerca.ec",
        project: "Salud Cerca",
        tagline: "Telemedicine kiosks for rural pharmacies",
        category: "healthtech",
        project_type: ProjectType::Healthtech,
        stage: ProjectStage::Validation,
        team_size: 4,
        funding_target_usd: 200_000,
        // Javier's 95 is declared conflicted: it is recorded and does not count.
        scores: (78, 95),
        javier_conflicted: true,
    },
    Pitch {
        first: "Andrés",
        last: "Gutiérrez",
        email: "andres@edunube.co",
        project: "EduNube",
        tagline: "Offline-first lessons for rural classrooms",
        category: "edtech",
        project_type: ProjectType::Edtech,
        // Too early for this program: the submission is refused until the project matures.
        stage: ProjectStage::Idea,
        team_size: 2,
        funding_target_usd: 80_000,
        scores: (60, 58),
        javier_conflicted: false,
    },
];

// ---------------------------------------------------------------------------------------------
// Chapters

/// 1. The admin, the staff accounts, the incubator and its members.
async fn the_incubator(s: &Story) -> Outcome<Staff> {
    chapter(1, "The platform and the incubator");
    // Only an admin creates admins. On a fresh install nobody is, so the first admin is created
    // by the platform itself: the `system` actor may do everything.
    let admin = s
        .eco
        .admin_create_user(
            &Context::system(),
            AdminCreateUser {
                email: "laura.mendez@icosistem.org".into(),
                password: PASSWORD.into(),
                first_name: "Laura".into(),
                last_name: "Méndez".into(),
                role: Role::Admin,
            },
        )
        .await?;
    println!(
        "  The platform bootstraps its first admin: {} <{}>.",
        admin.full_name(),
        admin.email
    );

    let as_admin = Context::user(&admin);
    let staff_account = async |first: &str, last: &str, email: &str| {
        // Incubator staff are mentors on the platform: the `ally` role. Their organization
        // roles (owner, coordinator, reviewer) are memberships, granted below.
        s.eco
            .admin_create_user(
                &as_admin,
                AdminCreateUser {
                    email: email.into(),
                    password: PASSWORD.into(),
                    first_name: first.into(),
                    last_name: last.into(),
                    role: Role::Ally,
                },
            )
            .await
    };
    let director = staff_account("Isabel", "Restrepo", "isabel@andes-incubator.co").await?;
    let coordinator = staff_account("Tomás", "Herrera", "tomas@andes-incubator.co").await?;
    let ana = staff_account("Ana", "Vargas", "ana@andes-incubator.co").await?;
    let javier = staff_account("Javier", "Paredes", "javier@andes-incubator.co").await?;
    println!(
        "  Laura creates four staff accounts (role ally, active, verified): {}, {}, {}, {}.",
        director.full_name(),
        coordinator.full_name(),
        ana.full_name(),
        javier.full_name()
    );

    let as_director = Context::user(&director);
    let org = s
        .eco
        .create_organization(
            &as_director,
            CreateOrganization {
                name: "Andes Startup Incubator".into(),
                organization_type: OrganizationType::Incubator,
                is_public: Some(true),
                allow_applications: Some(true),
                email: Some("hola@andes-incubator.co".into()),
                // No scheme: the platform adds https://.
                website: Some("andes-incubator.co".into()),
                tax_id: Some("900.123.456-7".into()),
                description: Some("Backing founders from Bogotá to La Paz since 2019.".into()),
            },
        )
        .await?;
    println!(
        "  {} creates \"{}\" (slug {}, {}, status {}) and becomes its owner.",
        director.first_name,
        org.name,
        org.slug,
        org.website.as_ref().map_or("no website", |w| w.as_str()),
        org.status
    );
    for (user, role) in [
        (&coordinator, MemberRole::Coordinator),
        (&ana, MemberRole::Reviewer),
        (&javier, MemberRole::Reviewer),
    ] {
        s.eco.add_member(&as_director, org.id, user.id, role).await?;
        println!("    + {} joins as {role}", user.full_name());
    }
    let org = s
        .eco
        .set_organization_status(&as_admin, org.id, OrganizationStatus::Verified)
        .await?;
    println!("  Laura checks the paperwork: the organization is now {}.", org.status);
    Ok(Staff {
        admin,
        director,
        coordinator,
        reviewers: [ana, javier],
        org,
    })
}

/// 2. The program, created as a draft and published.
async fn the_program(s: &Story, staff: &Staff) -> Outcome<Program> {
    chapter(2, "The program");
    let as_coordinator = Context::user(&staff.coordinator);
    let program = s
        .eco
        .create_program(
            &as_coordinator,
            CreateProgram {
                organization_id: staff.org.id,
                name: "Andes Accelerator — Cohort 2027".into(),
                program_type: ProgramType::Acceleration,
                description: Some("Twelve weeks to go from pilot to paying customers.".into()),
                application_opens_at: s.now(),
                application_deadline: at(2027, 1, 31, 23) + Duration::minutes(59),
                start_date: date(2027, 2, 15),
                end_date: date(2027, 5, 14),
                min_participants: Some(2),
                max_participants: 3,
                min_reviews: Some(2),
                blind_review: Some(false),
                target_sectors: Vec::new(),
                // Ideas are too early for an accelerator.
                target_stages: vec![
                    ProjectStage::Prototype,
                    ProjectStage::Validation,
                    ProjectStage::Development,
                    ProjectStage::Pilot,
                ],
                format: Some(ProgramFormat::Hybrid),
                rounds: None,
            },
        )
        .await?;
    println!(
        "  {} drafts \"{}\" (slug {}):",
        staff.coordinator.first_name, program.name, program.slug
    );
    println!(
        "    {} seats (at least {} to start), {} reviews per decision, stages {}",
        program.max_participants,
        program.min_participants,
        program.min_reviews,
        program
            .target_stages
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("/")
    );
    println!(
        "    applications {} → {}; runs {} → {}",
        stamp(program.application_opens_at),
        stamp(program.application_deadline),
        program.start_date,
        program.end_date
    );
    let program = s
        .eco
        .program_command(
            &as_coordinator,
            program.id,
            ProgramCommand::Publish,
            Some(program.meta.version),
        )
        .await?;
    println!(
        "  Published. Status {}, accepting applications now: {}.",
        program.status,
        yes_no(program.accepts_applications(s.now()))
    );
    Ok(program)
}

/// The answers of an application form: a JSON object.
fn answers(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// 3. Founders register, verify their email, sign in and create their projects.
async fn the_founders(s: &Story) -> Outcome<Vec<Founder>> {
    chapter(3, "Founders sign up");
    // Every failing field is reported at once, so a form can show them all.
    let sloppy = s
        .eco
        .register(
            &Context::anonymous(),
            Register {
                email: "not-an-email".into(),
                password: "password".into(),
                first_name: "X".into(),
                last_name: "Nobody".into(),
                role: Role::Admin,
            },
        )
        .await;
    let e = expect_refusal(sloppy, "a sloppy registration")?;
    println!("  A visitor fills the form in a hurry → {}", refusal(&e));

    let mut founders = Vec::new();
    for (i, pitch) in PITCHES.iter().enumerate() {
        let (user, token) = s
            .eco
            .register(
                &Context::anonymous(),
                Register {
                    email: pitch.email.into(),
                    password: PASSWORD.into(),
                    first_name: pitch.first.into(),
                    last_name: pitch.last.into(),
                    role: Role::Entrepreneur,
                },
            )
            .await?;
        if i == 0 {
            // Show once what happens when someone signs in before clicking the email link.
            let early = s
                .eco
                .authenticate(&Context::anonymous(), pitch.email, &SecretString::from(PASSWORD))
                .await;
            let e = expect_refusal(early, "a login before verification")?;
            println!(
                "  {} registers ({}) and tries to sign in at once → {}",
                user.first_name,
                user.status,
                refusal(&e)
            );
        }
        // The token travels by email in real life; `register` hands it back so callers (and
        // this story) can complete the flow.
        s.eco.verify_email(&Context::anonymous(), &token).await?;
        let login = s
            .eco
            .authenticate(&Context::anonymous(), pitch.email, &SecretString::from(PASSWORD))
            .await?;
        let user = login.user.clone();
        let ctx = Context::user(&user);
        let project = s
            .eco
            .create_project(
                &ctx,
                CreateProject {
                    name: pitch.project.into(),
                    description: format!("{} — {}.", pitch.project, pitch.tagline),
                    project_type: pitch.project_type,
                    tagline: Some(pitch.tagline.into()),
                    category: Some(pitch.category.into()),
                    priority: None,
                    stage: Some(pitch.stage),
                    funding_stage: None,
                    funding_target: Some(Money::new(pitch.funding_target_usd * 100, Currency::Usd)?),
                    team_size: Some(pitch.team_size),
                    is_public: Some(true),
                    seeking_mentorship: Some(true),
                },
            )
            .await?;
        let project = s
            .eco
            .project_command(&ctx, project.id, ProjectCommand::Activate, Some(project.meta.version))
            .await?;
        println!(
            "  {:<18} verified, signed in, created {:<12} ({}, {}, {}%)",
            user.full_name(),
            project.name.as_str(),
            project.category.as_deref().unwrap_or("-"),
            project.stage,
            project.progress.get()
        );
        founders.push(Founder {
            user,
            project,
            application: None,
            scores: pitch.scores,
            javier_conflicted: pitch.javier_conflicted,
        });
    }
    // A wrong password, for the audit trail to have something to say about security.
    let wrong = s
        .eco
        .authenticate(
            &Context::anonymous(),
            PITCHES[1].email,
            &SecretString::from("Quebrada-del-Condor"),
        )
        .await;
    let e = expect_refusal(wrong, "a wrong password")?;
    println!("  Mateo mistypes his password once → {}", refusal(&e));
    Ok(founders)
}

/// 4. Drafts and submissions, one of them refused for eligibility first.
async fn the_applications(s: &Story, staff: &Staff, program: &Program, founders: &mut [Founder]) -> Outcome {
    chapter(4, "Applications");
    for (i, f) in founders.iter_mut().enumerate() {
        s.clock.set(at(2027, 1, 12 + i as u32, 10));
        let ctx = f.ctx();
        let draft = s
            .eco
            .create_application(
                &ctx,
                program.id,
                f.project.id,
                answers(json!({
                    "why_now": format!("{} is ready to grow", f.project.name),
                    "team_size": f.project.team_size,
                })),
            )
            .await?;
        let submitted = match s.eco.submit_application(&ctx, draft.id, Some(draft.meta.version)).await {
            Ok(app) => app,
            Err(e @ Error::Validation(_)) if f.project.stage == ProjectStage::Idea => {
                println!(
                    "  {} — {} submits {} → {}",
                    stamp(s.now()),
                    f.user.first_name,
                    f.project.name,
                    refusal(&e)
                );
                // The graph only moves one step at a time: idea → concept → prototype.
                for stage in [ProjectStage::Concept, ProjectStage::Prototype] {
                    f.project = s
                        .eco
                        .advance_stage(&ctx, f.project.id, stage, Some(f.project.meta.version))
                        .await?;
                }
                println!(
                    "      {} finishes a prototype: stage idea → concept → {} (progress {}%), and resubmits.",
                    f.user.first_name,
                    f.project.stage,
                    f.project.progress.get()
                );
                s.clock.advance(Duration::hours(30));
                s.eco
                    .submit_application(&ctx, draft.id, Some(draft.meta.version))
                    .await?
            }
            Err(e) => return Err(e.into()),
        };
        println!(
            "  {} — {} submits {} ({})",
            stamp(s.now()),
            f.user.first_name,
            f.project.name,
            submitted.status
        );
        f.application = Some(submitted);
    }
    let inbox = s
        .eco
        .list_notifications(
            &Context::user(&staff.coordinator),
            Some(NotificationStatus::Unread),
            PageRequest::all(),
        )
        .await?;
    let received = inbox.items.iter().filter(|n| n.kind == "application_received").count();
    println!(
        "  {}'s inbox: {} unread, {} of them \"New application to {}\".",
        staff.coordinator.first_name,
        inbox.items.len(),
        received,
        program.name
    );
    Ok(())
}

/// 5. Reviewer assignment and reviews; a declared conflict that does not count.
async fn the_reviews(s: &Story, staff: &Staff, program: &Program, founders: &mut [Founder]) -> Outcome {
    chapter(5, "Review");
    s.travel_to(at(2027, 2, 1, 9), "the application window has closed");
    let program_now = s
        .eco
        .get_program(&Context::user(&staff.coordinator), program.id)
        .await?;
    println!(
        "  Accepting applications: {}. {} assigns both reviewers to every application.",
        yes_no(program_now.accepts_applications(s.now())),
        staff.coordinator.first_name
    );
    let as_coordinator = Context::user(&staff.coordinator);
    let [ana, javier] = &staff.reviewers;
    for f in founders.iter_mut() {
        let app_id = f.app()?.id;
        for reviewer in [ana, javier] {
            s.eco.assign_reviewer(&as_coordinator, app_id, reviewer.id).await?;
        }
        let (ana_score, javier_score) = f.scores;
        s.eco
            .submit_review(
                &Context::user(ana),
                app_id,
                SubmitReview {
                    score: ana_score,
                    comment: Some(format!("{}: solid team, clear market.", f.project.name)),
                    conflict_declared: false,
                },
            )
            .await?;
        let comment = if f.javier_conflicted {
            "I advised this team last year; declaring a conflict."
        } else {
            "Good traction for the stage."
        };
        s.eco
            .submit_review(
                &Context::user(javier),
                app_id,
                SubmitReview {
                    score: javier_score,
                    comment: Some(comment.into()),
                    conflict_declared: f.javier_conflicted,
                },
            )
            .await?;
        if f.javier_conflicted {
            println!(
                "  {} reviews {} ({}) but declares a conflict of interest: the review is kept, it does not count.",
                javier.first_name, f.project.name, javier_score
            );
            let early = s
                .eco
                .decide(&as_coordinator, app_id, Decision::Waitlist, None, None)
                .await;
            let e = expect_refusal(early, "a decision with one qualified review")?;
            println!(
                "  {} tries to decide on {} → {}",
                staff.coordinator.first_name,
                f.project.name,
                refusal(&e)
            );
            // Staff may review too: the coordinator takes the second seat on the panel.
            s.eco
                .assign_reviewer(&as_coordinator, app_id, staff.coordinator.id)
                .await?;
            s.eco
                .submit_review(
                    &as_coordinator,
                    app_id,
                    SubmitReview {
                        score: 80,
                        comment: Some("Strong pilot data; pharmacies renew.".into()),
                        conflict_declared: false,
                    },
                )
                .await?;
            println!(
                "  So {} assigns himself as a second reviewer and scores it 80.",
                staff.coordinator.first_name
            );
        }
    }
    println!(
        "\n  {:<12} {:>5} {:>7} {:>6} {:>7}",
        "project", "Ana", "Javier", "Tomás", "mean"
    );
    for f in founders.iter_mut() {
        let view = s.eco.get_application(&as_coordinator, f.app()?.id).await?;
        let reviews = s.eco.list_reviews(&as_coordinator, view.id).await?;
        let by = |user: &User| {
            reviews
                .iter()
                .find(|r| r.reviewer_id == user.id)
                .map_or_else(String::new, |r| {
                    let score = r.score.map_or_else(|| "-".to_owned(), |s| s.get().to_string());
                    if r.conflict_declared {
                        format!("({score})")
                    } else {
                        score
                    }
                })
        };
        println!(
            "  {:<12} {:>5} {:>7} {:>6} {:>7}",
            f.project.name.as_str(),
            by(ana),
            by(javier),
            by(&staff.coordinator),
            score(view.mean_score_centi)
        );
    }
    println!("  (a score in parentheses was declared conflicted and is left out of the mean)");
    Ok(())
}

/// 6. Decisions under capacity: accept up to the seats, `ProgramFull`, waitlist, reject.
async fn the_decisions(s: &Story, staff: &Staff, founders: &mut [Founder]) -> Outcome {
    chapter(6, "Decisions");
    s.travel_to(at(2027, 2, 3, 15), "the selection committee meets");
    let as_coordinator = Context::user(&staff.coordinator);
    // Rank by the mean of the qualified reviews, as the committee would.
    let mut ranked: Vec<usize> = (0..founders.len()).collect();
    let mut means = Vec::new();
    for f in founders.iter() {
        means.push(
            s.eco
                .get_application(&as_coordinator, f.app()?.id)
                .await?
                .mean_score_centi,
        );
    }
    ranked.sort_by_key(|&i| std::cmp::Reverse(means[i]));

    for (rank, &i) in ranked.iter().enumerate() {
        let f = &mut founders[i];
        let app_id = f.app()?.id;
        let decision = match rank {
            0..=2 => Decision::Accept,
            // The fourth-best is worth a seat too — but there is none left.
            3 => {
                let full = s
                    .eco
                    .decide(&as_coordinator, app_id, Decision::Accept, None, None)
                    .await;
                let e = expect_refusal(full, "an accept beyond capacity")?;
                if !matches!(e, Error::ProgramFull) {
                    return Err(e.into());
                }
                println!("  {:<12} accept → {}", f.project.name.as_str(), refusal(&e));
                Decision::Waitlist
            }
            4 => Decision::Waitlist,
            _ => Decision::Reject,
        };
        let note = match decision {
            Decision::Reject => Some("Promising, but too early for acceleration. Apply to pre-incubation.".to_owned()),
            _ => None,
        };
        let app = s.eco.decide(&as_coordinator, app_id, decision, note, None).await?;
        let aside = match app.status {
            ApplicationStatus::Accepted => " (enrollment created)",
            ApplicationStatus::Waitlisted => " (keeps its place in line)",
            _ => "",
        };
        println!("  {:<12} {}{aside}", f.project.name.as_str(), app.status);
        f.application = Some(app);
    }
    let program = s
        .eco
        .get_program(&as_coordinator, founders[0].app()?.program_id)
        .await?;
    println!(
        "  Seats taken: {}/{}.",
        program.accepted_count, program.max_participants
    );
    Ok(())
}

/// 7. A withdrawal frees a seat; the best waitlisted application is promoted automatically.
async fn a_seat_opens(s: &Story, staff: &Staff, founders: &mut [Founder]) -> Outcome {
    chapter(7, "A seat opens");
    s.travel_to(at(2027, 2, 8, 11), "a week before the start");
    let program_id = founders[0].app()?.program_id;
    let as_coordinator = Context::user(&staff.coordinator);

    // The program cannot start early, whatever its staff wish.
    let early = s
        .eco
        .program_command(&as_coordinator, program_id, ProgramCommand::Start, None)
        .await;
    let e = expect_refusal(early, "starting before the start date")?;
    println!(
        "  {} tries to start the program today → {}",
        staff.coordinator.first_name,
        refusal(&e)
    );

    let leaver = founders
        .iter()
        .position(|f| f.project.name.as_str() == "Ruta Llama")
        .ok_or("Ruta Llama is in the cast")?;
    let f = &mut founders[leaver];
    let app = s.eco.withdraw_application(&f.ctx(), f.app()?.id, None).await?;
    println!(
        "  {} closes a seed round and withdraws {}: {}.",
        f.user.first_name, f.project.name, app.status
    );
    f.application = Some(app);

    // Nobody called `promote`: the withdrawal did, in the same unit of work, as the platform.
    for f in founders.iter_mut() {
        let ctx = f.ctx();
        let view = s.eco.get_application(&ctx, f.app()?.id).await?;
        if f.app()?.status == ApplicationStatus::Waitlisted && view.status == ApplicationStatus::Accepted {
            println!(
                "  The best waitlisted application moves up on its own: {} ({}) is now {}.",
                f.project.name,
                score(view.mean_score_centi),
                view.status
            );
            let latest = s.eco.list_notifications(&ctx, None, PageRequest::first(1)).await?;
            if let Some(n) = latest.items.first() {
                println!(
                    "  {}'s newest notification: [{}] \"{}\"",
                    f.user.first_name, n.kind, n.title
                );
            }
        }
        if let Some(app) = f.application.as_mut() {
            app.status = view.status;
        }
    }
    let lucia = founders
        .iter()
        .find(|f| f.javier_conflicted)
        .ok_or("the conflicted application is in the cast")?;
    println!(
        "  ({} stays waitlisted: counting Javier's conflicted 95 would have put her ahead.)",
        lucia.project.name
    );

    let enrollments = s
        .eco
        .list_enrollments(&as_coordinator, program_id, None, PageRequest::all())
        .await?;
    println!("  Enrollments:");
    for e in enrollments.items.iter().rev() {
        let name = founders
            .iter()
            .find(|f| f.project.id == e.project_id)
            .map_or("?", |f| f.project.name.as_str());
        println!("    {name:<12} {}", e.status);
    }
    Ok(())
}

/// 8. The start date: the program starts and enrollments become active.
async fn the_start(s: &Story, staff: &Staff, program_id: ProgramId) -> Outcome {
    chapter(8, "The cohort starts");
    s.travel_to(at(2027, 2, 15, 9), "opening day");
    let as_coordinator = Context::user(&staff.coordinator);
    let program = s
        .eco
        .program_command(&as_coordinator, program_id, ProgramCommand::Start, None)
        .await?;
    let active = s
        .eco
        .list_enrollments(
            &as_coordinator,
            program_id,
            Some(EnrollmentStatus::Active),
            PageRequest::all(),
        )
        .await?;
    println!(
        "  \"{}\" is {}: {} enrollments are now active.",
        program.name,
        program.status,
        active.items.len()
    );
    Ok(())
}

/// 9. Milestones move a project's progress: stage base + 10 × completed / non-cancelled.
async fn the_milestones(s: &Story, founders: &[Founder]) -> Outcome {
    chapter(9, "Milestones");
    let valentina = &founders[0];
    let ctx = valentina.ctx();
    let project_id = valentina.project.id;
    let progress = async || -> Outcome<u8> { Ok(s.eco.get_project(&ctx, project_id).await?.progress.get()) };
    println!(
        "  {} plans {}'s quarter (stage {}, progress {}%):",
        valentina.user.first_name,
        valentina.project.name,
        valentina.project.stage,
        progress().await?
    );
    let mut milestones: Vec<Milestone> = Vec::new();
    for (title, target) in [
        ("Pilot with 20 farms in Boyacá", date(2027, 3, 15)),
        ("First paying cooperative", date(2027, 4, 15)),
        ("Seed deck reviewed by mentors", date(2027, 4, 30)),
    ] {
        let m = s
            .eco
            .create_milestone(
                &ctx,
                project_id,
                CreateMilestone {
                    title: title.into(),
                    description: None,
                    target_date: target,
                    priority: None,
                },
            )
            .await?;
        println!("    + \"{}\" due {}", m.title, m.target_date);
        milestones.push(m);
    }
    println!("  Progress with 0/3 done: {}%", progress().await?);

    s.travel_to(at(2027, 3, 1, 9), "two weeks in");
    let m = s
        .eco
        .milestone_command(&ctx, milestones[0].id, MilestoneAction::Progress(60), None)
        .await?;
    println!(
        "  \"{}\": {}% ({}) → project {}%",
        m.title,
        m.progress.get(),
        m.status,
        progress().await?
    );

    s.travel_to(at(2027, 3, 12, 17), "the pilot ends");
    let m = s
        .eco
        .milestone_command(&ctx, milestones[0].id, MilestoneAction::Complete, None)
        .await?;
    println!(
        "  \"{}\" {} on {} → project {}%",
        m.title,
        m.status,
        m.completed_on.map_or_else(String::new, |d| d.to_string()),
        progress().await?
    );
    let project = s
        .eco
        .advance_stage(&ctx, project_id, ProjectStage::Validation, None)
        .await?;
    println!(
        "  The pilot validates the product: stage {} → project {}%",
        project.stage,
        project.progress.get()
    );

    s.travel_to(at(2027, 4, 14, 9), "mid-April");
    let m = s
        .eco
        .milestone_command(
            &ctx,
            milestones[2].id,
            MilestoneAction::Delay {
                target_date: date(2027, 5, 10),
                reason: Some("Mentor availability".into()),
            },
            None,
        )
        .await?;
    println!("  \"{}\" is {} to {}", m.title, m.status, m.target_date);
    let m = s
        .eco
        .milestone_command(&ctx, milestones[1].id, MilestoneAction::Progress(100), None)
        .await?;
    println!(
        "  \"{}\" reports 100% → {} → project {}%",
        m.title,
        m.status,
        progress().await?
    );
    // Trying to finish a finished milestone is an error, not a silent no-op.
    let again = s
        .eco
        .milestone_command(&ctx, milestones[1].id, MilestoneAction::Complete, None)
        .await;
    let e = expect_refusal(again, "completing a completed milestone")?;
    println!("  Completing it twice → {}", refusal(&e));

    s.travel_to(at(2027, 5, 7, 16), "a week before demo day");
    let m = s
        .eco
        .milestone_command(&ctx, milestones[2].id, MilestoneAction::Complete, None)
        .await?;
    println!("  \"{}\" {} → project {}%", m.title, m.status, progress().await?);
    Ok(())
}

/// Everyone in the mentoring chapter lives in Colombia.
const BOGOTA: &str = "America/Bogota";

/// A new ally (mentor), created by the admin, living in Bogotá, with a mentoring profile.
async fn new_mentor(s: &Story, admin: &User, name: (&str, &str), email: &str, profile: AllyProfile) -> Outcome<User> {
    let user = s
        .eco
        .admin_create_user(
            &Context::user(admin),
            AdminCreateUser {
                email: email.into(),
                password: PASSWORD.into(),
                first_name: name.0.into(),
                last_name: name.1.into(),
                role: Role::Ally,
            },
        )
        .await?;
    let ctx = Context::user(&user);
    let user = s
        .eco
        .update_me(
            &ctx,
            UpdateMe {
                timezone: Some(BOGOTA.into()),
                ..Default::default()
            },
        )
        .await?;
    s.eco.update_my_profile(&ctx, ProfileData::Ally(profile), None).await?;
    Ok(user)
}

fn weekly(weekday: u8, from: u32, to: u32) -> WeeklySlot {
    WeeklySlot {
        weekday,
        start: NaiveTime::from_hms_opt(from, 0, 0).expect("a valid time"),
        end: NaiveTime::from_hms_opt(to, 0, 0).expect("a valid time"),
    }
}

/// What one run of the jobs did, in a line: only the jobs that did something.
fn jobs_summary(report: &JobsReport) -> String {
    let mut parts = Vec::new();
    for (name, job) in [
        ("session reminders", report.session_reminders),
        ("no-shows", report.no_shows),
        ("feedback reminders", report.feedback_reminders),
        ("milestone overdue", report.milestone_overdue),
        ("review overdue", report.review_overdue),
        ("application deadline", report.application_deadline),
        ("unverified accounts", report.unverified_accounts),
        ("archived notifications", report.archived_notifications),
    ] {
        if job.processed + job.notified > 0 {
            parts.push(format!("{name}: {} done, {} notified", job.processed, job.notified));
        }
    }
    for failure in &report.failures {
        parts.push(format!("{} FAILED: {}", failure.job, failure.error));
    }
    if parts.is_empty() {
        "nothing to do — nothing sent".to_owned()
    } else {
        parts.join("; ")
    }
}

/// "Mon 05-17 09:00" in `user`'s own time zone.
fn local(t: DateTime<Utc>, user: &User) -> String {
    t.with_timezone(&user.timezone.tz())
        .format("%a %m-%d %H:%M")
        .to_string()
}

/// 10. Mentoring: matching, a session's whole life, a meeting, tasks, and the jobs.
async fn the_mentoring(s: &Story, staff: &Staff, founders: &[Founder]) -> Outcome {
    chapter(10, "Mentoring");
    s.travel_to(at(2027, 5, 10, 14), "demo-day week: the mentoring track opens");
    let valentina = founders
        .iter()
        .find(|f| f.project.name.as_str() == "AgroSense")
        .ok_or("AgroSense is in the cast")?;
    let as_valentina = valentina.ctx();
    let valentina_user = s
        .eco
        .update_me(
            &as_valentina,
            UpdateMe {
                timezone: Some(BOGOTA.into()),
                ..Default::default()
            },
        )
        .await?;
    s.eco
        .update_my_profile(
            &as_valentina,
            ProfileData::Entrepreneur(EntrepreneurProfile {
                stage: EntrepreneurStage::Early,
                sectors: vec!["agtech".into(), "climate".into()],
                seeking_mentorship: true,
                mentorship_areas: vec!["fundraising".into(), "go-to-market".into(), "pricing".into()],
            }),
            None,
        )
        .await?;
    // The project as it is now (chapter 9 moved it on), for the stage the matching reads.
    let project = s.eco.get_project(&as_valentina, valentina.project.id).await?;
    println!(
        "  {} wants mentoring in fundraising, go-to-market and pricing (sectors agtech, climate; {} is at {}).",
        valentina.user.first_name, project.name, project.stage
    );

    // Three mentors join the platform. Jorge matches best on paper, but has no seat left.
    let mentor = |primary: &str, specializations: &[&str], stages: Vec<ProjectStage>, max_mentees: u8| AllyProfile {
        primary_expertise: Some(primary.into()),
        specializations: specializations.iter().map(|s| (*s).to_owned()).collect(),
        preferred_stages: stages,
        max_mentees,
        available: true,
        session_duration_minutes: 60,
        ratings_total: 0,
        ratings_count: 0,
    };
    let rodrigo = new_mentor(
        s,
        &staff.admin,
        ("Rodrigo", "Salazar"),
        "rodrigo@agromentores.co",
        mentor(
            "agtech",
            &["fundraising", "go-to-market", "agtech"],
            vec![ProjectStage::Validation, ProjectStage::Pilot],
            3,
        ),
    )
    .await?;
    let marta = new_mentor(
        s,
        &staff.admin,
        ("Marta", "Ibáñez"),
        "marta@finmentor.mx",
        mentor(
            "fintech",
            &["fundraising", "pricing"],
            vec![ProjectStage::Development],
            5,
        ),
    )
    .await?;
    let jorge = new_mentor(
        s,
        &staff.admin,
        ("Jorge", "Peña"),
        "jorge@campolab.co",
        mentor(
            "agtech",
            &["fundraising", "go-to-market", "pricing"],
            vec![ProjectStage::Validation],
            0,
        ),
    )
    .await?;
    println!(
        "  Laura adds three mentors (role ally, America/Bogota): {} (agtech), {} (fintech), {} (agtech, no seat left).",
        rodrigo.full_name(),
        marta.full_name(),
        jorge.full_name()
    );

    let suggestions = s.eco.suggest_allies(&as_valentina).await?;
    println!(
        "  suggest_allies for {} (score 0–1, best first):",
        valentina.user.first_name
    );
    for suggestion in &suggestions {
        println!(
            "    {:.2}  {:<16} {}",
            suggestion.score,
            suggestion.ally.name,
            suggestion.reasons.join("; ")
        );
    }
    if !suggestions.iter().any(|x| x.ally.id == jorge.id) {
        println!(
            "    ({} is never suggested: an ally at capacity has no seat to offer.)",
            jorge.first_name
        );
    }
    let best = suggestions.first().ok_or("at least one suggestion")?;
    if best.ally.id != rodrigo.id {
        return Err(format!("expected {} first, got {}", rodrigo.full_name(), best.ally.name).into());
    }

    let as_rodrigo = Context::user(&rodrigo);
    let requested = s
        .eco
        .request_mentorship(
            &as_valentina,
            RequestMentorship {
                ally_id: rodrigo.id,
                message: Some(
                    "We closed the pilot; now we need a seed round and our first paying cooperatives.".into(),
                ),
                areas: vec!["Fundraising".into(), "Go-to-market".into()],
                project_id: Some(valentina.project.id),
                duration_months: Some(4),
            },
        )
        .await?;
    let mentorship = s
        .eco
        .mentorship_command(&as_rodrigo, requested.id, MentorshipCommand::Accept, None)
        .await?;
    println!(
        "  {} asks {} for a {}-month mentorship ({}); he accepts: {}.",
        valentina.user.first_name,
        rodrigo.first_name,
        mentorship.duration_months,
        mentorship.areas.join(", "),
        mentorship.status
    );

    let availability = s
        .eco
        .set_my_availability(
            &as_rodrigo,
            BOGOTA.into(),
            vec![weekly(0, 9, 12), weekly(2, 9, 12), weekly(3, 14, 17)],
            None,
        )
        .await?;
    println!(
        "  {} publishes his week in {}: Mon 09–12, Wed 09–12, Thu 14–17.",
        rodrigo.first_name, availability.timezone
    );

    // Next week, Monday 00:00 to Monday 00:00 in Bogotá (UTC−5, no daylight saving).
    let week_from = at(2027, 5, 17, 5);
    let week_to = week_from + Duration::days(7);
    let free = s
        .eco
        .free_slots(&as_valentina, rodrigo.id, week_from, week_to, None)
        .await?;
    println!(
        "  free_slots for next week: {} starts of 60 minutes, in {}'s time:",
        free.len(),
        rodrigo.first_name
    );
    let print_days = |starts: &[DateTime<Utc>]| {
        let mut by_day: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for start in starts {
            let local = start.with_timezone(&rodrigo.timezone.tz());
            by_day
                .entry(local.format("%m-%d %a").to_string())
                .or_default()
                .push(local.format("%H:%M").to_string());
        }
        for (day, times) in by_day {
            println!("    {day}  {}", times.join(" "));
        }
    };
    print_days(&free);

    let first = *free.first().ok_or("a free slot next week")?;
    let wednesday = *free
        .iter()
        .find(|t| t.with_timezone(&rodrigo.timezone.tz()).weekday() == Weekday::Wed)
        .ok_or("a free slot on Wednesday")?;
    let book = async |starts_at: DateTime<Utc>, agenda: &str| {
        s.eco
            .book_session(
                &as_valentina,
                mentorship.id,
                BookSession {
                    starts_at,
                    duration_minutes: None,
                    agenda: Some(agenda.into()),
                },
            )
            .await
    };
    let session = book(first, "Seed round: how much, from whom, at what valuation").await?;
    let later = book(wednesday, "Go-to-market with the coffee cooperatives").await?;
    println!(
        "  {} books two sessions from those slots: {} ({} min) and {}.",
        valentina.user.first_name,
        local(session.starts_at, &valentina_user),
        session.duration_minutes,
        local(later.starts_at, &valentina_user)
    );
    let clash = book(first + Duration::minutes(30), "One more thing").await;
    let e = expect_refusal(clash, "a booking overlapping another session")?;
    println!(
        "  A third one at {} → {}",
        local(first + Duration::minutes(30), &valentina_user),
        refusal(&e)
    );
    let monday_after = s
        .eco
        .free_slots(
            &as_valentina,
            rodrigo.id,
            week_from,
            week_from + Duration::days(1),
            None,
        )
        .await?;
    println!(
        "  Monday now offers only {} (the session plus a 15-minute buffer on each side are taken).",
        monday_after
            .iter()
            .map(|t| t.with_timezone(&rodrigo.timezone.tz()).format("%H:%M").to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    for id in [session.id, later.id] {
        s.eco
            .session_command(&as_rodrigo, id, SessionAction::Confirm, None)
            .await?;
    }
    println!("  {} confirms both.", rodrigo.first_name);

    s.travel_to(first - Duration::minutes(5), "five minutes before the first session");
    let held = s
        .eco
        .session_command(&as_rodrigo, session.id, SessionAction::Start, None)
        .await?;
    println!("  {} starts the session: {}.", rodrigo.first_name, held.status);
    s.clock.advance(Duration::minutes(65));
    let held = s
        .eco
        .session_command(
            &as_rodrigo,
            session.id,
            SessionAction::Complete {
                summary: Some(
                    "Raise USD 250k on a SAFE; price the sensors per hectare; call three cooperatives by Friday."
                        .into(),
                ),
            },
            None,
        )
        .await?;
    println!(
        "  At {} it is {}: \"{}\"",
        local(s.now(), &valentina_user),
        held.status,
        held.summary.as_deref().unwrap_or("")
    );
    s.eco
        .session_feedback(
            &as_valentina,
            session.id,
            5,
            Some("Concrete next steps for the round.".into()),
        )
        .await?;
    s.eco
        .session_feedback(&as_rodrigo, session.id, 4, Some("Well prepared, clear numbers.".into()))
        .await?;
    let again = s.eco.session_feedback(&as_valentina, session.id, 1, None).await;
    let e = expect_refusal(again, "a second feedback by the same party")?;
    println!(
        "  Feedback both ways: {} gives 5/5, {} gives 4/5; rating again → {}",
        valentina.user.first_name,
        rodrigo.first_name,
        refusal(&e)
    );
    let cards = s
        .eco
        .list_allies(
            &as_valentina,
            AllyQuery {
                specialization: Some("go-to-market".into()),
                available: Some(true),
            },
            PageRequest::all(),
        )
        .await?;
    let card = cards
        .items
        .iter()
        .find(|c| c.id == rodrigo.id)
        .ok_or("Rodrigo is in the directory")?;
    println!(
        "  {}'s average rating in the ally directory: {} from {} rating{}; mentees {}/{}.",
        rodrigo.first_name,
        score(card.average_rating_centi),
        card.ratings_count,
        if card.ratings_count == 1 { "" } else { "s" },
        card.active_mentees,
        card.max_mentees
    );

    // A meeting with participants and their answers.
    s.travel_to(s.now() + Duration::hours(1), "after the session");
    let dry_run_start = at(2027, 5, 20, 22);
    let (meeting, invited) = s
        .eco
        .schedule_meeting(
            &as_rodrigo,
            ScheduleMeeting {
                title: "AgroSense investor dry-run".into(),
                description: Some("Valentina pitches; we play the investors.".into()),
                location: Some("Andes Startup Incubator, room 2".into()),
                starts_at: dry_run_start,
                ends_at: dry_run_start + Duration::minutes(45),
                participant_ids: vec![valentina.user.id, staff.reviewers[0].id, staff.coordinator.id],
            },
        )
        .await?;
    println!(
        "  {} calls \"{}\" for {} with {} participants (all pending).",
        rodrigo.first_name,
        meeting.title,
        local(meeting.starts_at, &rodrigo),
        invited.len()
    );
    for (user, response) in [
        (&valentina.user, ParticipantResponse::Accepted),
        (&staff.reviewers[0], ParticipantResponse::Tentative),
        (&staff.coordinator, ParticipantResponse::Declined),
    ] {
        s.eco
            .respond_to_meeting(&Context::user(user), meeting.id, response)
            .await?;
    }
    let participants = s.eco.list_participants(&as_rodrigo, meeting.id).await?;
    let everyone = [&valentina.user, &staff.reviewers[0], &staff.coordinator];
    let answers: Vec<String> = participants
        .iter()
        .map(|p| {
            let name = everyone
                .iter()
                .find(|u| u.id == p.user_id)
                .map_or_else(|| "?".to_owned(), |u| u.first_name.to_string());
            format!("{name} {}", p.response)
        })
        .collect();
    println!("    answers: {}", answers.join(", "));

    // Tasks: a deck with subtasks whose progress rolls up, and a dependency.
    let task = async |title: &str, parent: Option<TaskId>, due: Option<NaiveDate>| {
        s.eco
            .create_task(
                &as_valentina,
                CreateTask {
                    title: title.into(),
                    project_id: Some(valentina.project.id),
                    parent_id: parent,
                    due_date: due,
                    ..Default::default()
                },
            )
            .await
    };
    let deck = task("Seed round deck", None, Some(date(2027, 5, 31))).await?;
    let mut parts = Vec::new();
    for title in [
        "Market sizing slide",
        "Unit economics from the pilot",
        "Team and roadmap slide",
    ] {
        parts.push(task(title, Some(deck.id), None).await?);
    }
    let send = task("Send the deck to five investors", None, Some(date(2027, 6, 4))).await?;
    s.eco.add_task_dependency(&as_valentina, send.id, deck.id).await?;
    println!(
        "  {} plans \"{}\" with {} subtasks, and \"{}\", which depends on it.",
        valentina.user.first_name,
        deck.title,
        parts.len(),
        send.title
    );
    let cycle = s.eco.add_task_dependency(&as_valentina, deck.id, send.id).await;
    let e = expect_refusal(cycle, "a dependency closing a cycle")?;
    println!("    the deck depending on the sending too → {}", refusal(&e));
    let progress = async || -> Outcome<u8> { Ok(s.eco.get_task(&as_valentina, deck.id).await?.progress.get()) };
    for part in &parts[..2] {
        s.eco
            .task_command(&as_valentina, part.id, TaskCommand::Start, None)
            .await?;
        let done = s
            .eco
            .task_command(&as_valentina, part.id, TaskCommand::Complete, None)
            .await?;
        println!(
            "    \"{}\" {} → the deck is at {}%",
            done.title,
            done.status,
            progress().await?
        );
    }
    s.eco
        .task_command(&as_valentina, send.id, TaskCommand::Start, None)
        .await?;
    let early = s
        .eco
        .task_command(&as_valentina, send.id, TaskCommand::Complete, None)
        .await;
    let e = expect_refusal(early, "completing a task before its dependency")?;
    println!(
        "    sending before the deck is done → {}",
        refusal(&e).replace(&deck.id.to_string(), "\"Seed round deck\"")
    );

    // The time-driven jobs, run as a worker would: reminders, then the no-show sweep.
    s.travel_to(
        later.starts_at - Duration::hours(22),
        "the day before the second session; the worker runs the jobs",
    );
    println!("  run_due_jobs: {}", jobs_summary(&s.eco.run_due_jobs().await));
    println!("  run_due_jobs again: {}", jobs_summary(&s.eco.run_due_jobs().await));
    let reminders = s
        .eco
        .list_notifications(&as_valentina, None, PageRequest::all())
        .await?
        .items
        .into_iter()
        .filter(|n| n.kind == "session_reminder")
        .count();
    println!(
        "  {} has {reminders} session reminder{} in her inbox.",
        valentina.user.first_name,
        if reminders == 1 { "" } else { "s" }
    );

    s.travel_to(
        later.starts_at + Duration::hours(25),
        "nobody started Wednesday's session; a day has passed",
    );
    println!("  run_due_jobs: {}", jobs_summary(&s.eco.run_due_jobs().await));
    println!("  run_due_jobs again: {}", jobs_summary(&s.eco.run_due_jobs().await));
    let missed = s.eco.get_session(&as_valentina, later.id).await?;
    let sessions = s
        .eco
        .list_sessions(&as_rodrigo, mentorship.id, PageRequest::all())
        .await?;
    println!(
        "  The mentorship's sessions: {}.",
        sessions
            .items
            .iter()
            .rev()
            .map(|x| format!("{} {}", local(x.starts_at, &valentina_user), x.status))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if missed.status != SessionStatus::NoShow {
        return Err(format!("the missed session is {}, not no_show", missed.status).into());
    }
    Ok(())
}

/// 11. One founder's notifications and the audit trail.
async fn inbox_and_audit(s: &Story, staff: &Staff, founders: &[Founder]) -> Outcome {
    chapter(11, "Inbox and audit trail");
    let diego = founders
        .iter()
        .find(|f| f.project.name.as_str() == "Quipu Pay")
        .ok_or("Quipu Pay is in the cast")?;
    let inbox = s.eco.list_notifications(&diego.ctx(), None, PageRequest::all()).await?;
    println!("  {}'s notifications, oldest first:", diego.user.full_name());
    for n in inbox.items.iter().rev() {
        println!(
            "    {} [{:<22}] {}",
            n.meta.created_at.format("%m-%d %H:%M"),
            n.kind,
            n.title
        );
    }

    let audit = s
        .eco
        .list_audit_events(&Context::user(&staff.admin), AuditFilter::default(), PageRequest::all())
        .await?;
    let mut by_action: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &audit.items {
        *by_action.entry(e.action.as_str()).or_default() += 1;
    }
    println!(
        "\n  The audit trail holds {} events. Counts by action:",
        audit.items.len()
    );
    let mut line = String::from("   ");
    for (action, n) in &by_action {
        let item = format!(" {action} ×{n};");
        if line.chars().count() + item.chars().count() > 100 {
            println!("{line}");
            line = String::from("   ");
        }
        line.push_str(&item);
    }
    println!("{line}");
    let by_system: Vec<_> = audit.items.iter().filter(|e| e.actor_kind == "system").collect();
    println!(
        "  Highlights: failed logins {}; {} events by the platform itself ({});",
        by_action.get("auth.login_failed").copied().unwrap_or(0),
        by_system.len(),
        by_system
            .iter()
            .rev()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let conflicted = audit
        .items
        .iter()
        .filter(|e| e.action == "application.review")
        .filter(|e| e.after.as_ref().and_then(|a| a.get("conflict_declared")) == Some(&json!(true)))
        .count();
    println!("  {conflicted} review with a declared conflict; every status change has its before/after.");
    let org_view = s
        .eco
        .list_audit_events(
            &Context::user(&staff.director),
            AuditFilter {
                organization_id: Some(staff.org.id),
                ..Default::default()
            },
            PageRequest::all(),
        )
        .await?;
    println!(
        "  {} (owner) reads her organization's slice of the log: {} events.",
        staff.director.first_name,
        org_view.items.len()
    );
    Ok(())
}

/// 12. Every notification that wants email went to the outbox with its cause; deliver it.
async fn the_outbox(s: &Story) -> Outcome {
    chapter(12, "The outbox");
    let mut batches = 0;
    let mut sent = 0;
    loop {
        let report = s.eco.deliver_outbox(50).await?;
        if report.sent + report.retried + report.failed == 0 {
            break;
        }
        batches += 1;
        sent += report.sent;
    }
    let delivered = s.notifier.delivered();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &delivered {
        *by_kind.entry(m.kind.as_str()).or_default() += 1;
    }
    println!("  deliver_outbox sent {sent} emails in {batches} batches of up to 50; the notifier recorded:");
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for chunk in kinds.chunks(3) {
        let cells: Vec<String> = chunk.iter().map(|(k, n)| format!("{k:<26} {n:>3}")).collect();
        println!("    {}", cells.join("   "));
    }
    let again = s.eco.deliver_outbox(50).await?;
    println!("  A second run finds nothing left to send: {} sent.", again.sent);
    Ok(())
}

/// Chapter 13: the whole cohort gets mentors at once (docs/domain.md §11) — the optimal assignment
/// under seats and conflicts, each pair with its reasons and each participant left out with why,
/// confirmed into requests in one unit of work; confirming the same proposal again is stale.
async fn the_cohort_matching(s: &Story, staff: &Staff, program: &Program, founders: &[Founder]) -> Outcome {
    chapter(13, "Cohort matching");
    // What each founder wants help with: their project's category is their sector.
    const AREAS: [&[&str]; 6] = [
        &["fundraising", "go-to-market", "pricing"],
        &["operations", "fundraising"],
        &["fundraising", "pricing"],
        &["pricing", "go-to-market"],
        &["operations"],
        &["go-to-market"],
    ];
    for (founder, areas) in founders.iter().zip(AREAS) {
        let sector = founder.project.category.clone().unwrap_or_default();
        s.eco
            .update_my_profile(
                &founder.ctx(),
                ProfileData::Entrepreneur(EntrepreneurProfile {
                    stage: EntrepreneurStage::Early,
                    sectors: vec![sector],
                    seeking_mentorship: true,
                    mentorship_areas: areas.iter().map(|a| (*a).to_owned()).collect(),
                }),
                None,
            )
            .await?;
    }
    let mentor = |primary: &str, specializations: &[&str], max_mentees: u8| AllyProfile {
        primary_expertise: Some(primary.into()),
        specializations: specializations.iter().map(|s| (*s).to_owned()).collect(),
        max_mentees,
        ..AllyProfile::default()
    };
    let lucia = new_mentor(
        s,
        &staff.admin,
        ("Lucía", "Fernández"),
        "lucia@andeslog.pe",
        mentor("logistics", &["operations", "go-to-market"], 1),
    )
    .await?;
    let andres = new_mentor(
        s,
        &staff.admin,
        ("Andrés", "Vidal"),
        "andres@greenfund.cl",
        mentor("greentech", &["fundraising", "pricing"], 1),
    )
    .await?;
    println!(
        "  Two more mentors join: {} (logistics, 1 seat) and {} (greentech, 1 seat).",
        lucia.full_name(),
        andres.full_name()
    );
    let mut names: BTreeMap<icosistem_core::model::UserId, String> = BTreeMap::new();
    for founder in founders {
        names.insert(founder.user.id, founder.user.full_name());
    }
    for ally in s
        .eco
        .list_allies(
            &Context::user(&staff.admin),
            AllyQuery::default(),
            PageRequest::first(100),
        )
        .await?
        .items
    {
        names.insert(ally.id, ally.name);
    }
    let name = |id: &icosistem_core::model::UserId| names.get(id).cloned().unwrap_or_else(|| id.to_string());

    let as_director = Context::user(&staff.director);
    let proposal = s
        .eco
        .propose_cohort_matching(&as_director, program.id, MatchObjective::MaxTotalScore)
        .await?;
    println!(
        "  {} asks for a whole-cohort proposal: {} pairs, total score {:.3} (one founder at a time, each taking their best remaining mentor, would total {:.3}).",
        staff.director.first_name,
        proposal.pairs.len(),
        proposal.total_score,
        proposal.greedy_total_score
    );
    for pair in &proposal.pairs {
        println!(
            "    {:.2}  {:<18} ← {:<18} {}",
            pair.score,
            name(&pair.entrepreneur_id),
            name(&pair.ally_id),
            pair.reasons.join("; ")
        );
    }
    for left in &proposal.unassigned {
        println!("    left out: {} — {}", name(&left.entrepreneur_id), left.explanation);
    }
    let created = s
        .eco
        .confirm_cohort_matching(&as_director, program.id, &proposal)
        .await?;
    println!(
        "  {} confirms: {} mentorship requests created in one unit of work, each ally and founder notified.",
        staff.director.first_name,
        created.len()
    );
    let again = expect_refusal(
        s.eco.confirm_cohort_matching(&as_director, program.id, &proposal).await,
        "confirming the same proposal twice",
    )?;
    println!("  Confirming the same proposal again is refused: {}", refusal(&again));
    Ok(())
}

#[tokio::main]
async fn main() -> Outcome {
    let s = Story::new();
    println!("Icosistem — the life of one cohort");
    println!("==================================");
    println!("In-memory store; the clock starts on {}.", stamp(s.now()));

    let staff = the_incubator(&s).await?;
    let program = the_program(&s, &staff).await?;
    let mut founders = the_founders(&s).await?;
    the_applications(&s, &staff, &program, &mut founders).await?;
    the_reviews(&s, &staff, &program, &mut founders).await?;
    the_decisions(&s, &staff, &mut founders).await?;
    a_seat_opens(&s, &staff, &mut founders).await?;
    the_start(&s, &staff, program.id).await?;
    the_milestones(&s, &founders).await?;
    the_mentoring(&s, &staff, &founders).await?;
    inbox_and_audit(&s, &staff, &founders).await?;
    the_outbox(&s).await?;
    the_cohort_matching(&s, &staff, &program, &founders).await?;
    rounds::the_rounds(&s, &staff, &founders).await?;
    documents::the_documents_and_messages(&s, &staff, &founders).await?;

    println!("\nThe end — {}.", stamp(s.now()));
    Ok(())
}
