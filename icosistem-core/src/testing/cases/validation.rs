//! Creates report every failing field at once, and a refused create writes nothing.

use chrono::Duration;

use crate::Context;
use crate::model::secret::SecretString;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::{CreateProgram, CreateProject, Register};
use crate::testing::fixtures::*;

/// `register` with a bad email, password, names and role reports all five fields; password rules
/// (common, containing the email) report on `password`; nothing is written.
pub async fn register_reports_every_bad_field<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let anonymous = Context::anonymous();
    let users = world
        .count(UserFilter {
            include_deleted: true,
            ..Default::default()
        })
        .await;
    let error = expect_err(
        eco.register(
            &anonymous,
            Register {
                email: "not-an-email".to_owned(),
                password: SecretString::new("short"),
                first_name: "A".to_owned(),
                last_name: "   ".to_owned(),
                role: Role::Admin,
            },
        )
        .await,
    );
    assert_fields(&error, &["email", "password", "first_name", "last_name", "role"]);
    for bad_password in ["password1234", "valentina rocks 2030!"] {
        let error = expect_err(
            eco.register(
                &anonymous,
                Register {
                    email: "Valentina@example.test".to_owned(),
                    password: SecretString::new(bad_password),
                    first_name: "Valentina".to_owned(),
                    last_name: "Rojas".to_owned(),
                    role: Role::Entrepreneur,
                },
            )
            .await,
        );
        assert_fields(&error, &["password"]);
    }
    assert_eq!(
        world
            .count(UserFilter {
                include_deleted: true,
                ..Default::default()
            })
            .await,
        users
    );
    assert_eq!(world.count(OutboxFilter::default()).await, 0);
}

/// `create_program` with a bad name, description, window, dates and sizes reports each field;
/// nothing is written.
pub async fn create_program_reports_every_bad_field<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.ally().await;
    let org = world.organization(&owner).await;
    let now = world.now();
    let error = expect_err(
        world
            .eco
            .create_program(
                &owner.ctx,
                CreateProgram {
                    organization_id: org.id,
                    name: "x".to_owned(),
                    program_type: ProgramType::Bootcamp,
                    description: Some("d".repeat(10_001)),
                    application_opens_at: now + Duration::days(5),
                    application_deadline: now + Duration::days(1),
                    start_date: now.date_naive(),
                    end_date: now.date_naive() - Duration::days(1),
                    min_participants: Some(0),
                    max_participants: 0,
                    min_reviews: Some(0),
                    blind_review: None,
                    target_sectors: Vec::new(),
                    target_stages: Vec::new(),
                    format: None,
                    rounds: None,
                },
            )
            .await,
    );
    assert_fields(
        &error,
        &[
            "name",
            "description",
            "application_deadline",
            "start_date",
            "end_date",
            "min_participants",
            "max_participants",
            "min_reviews",
        ],
    );
    let mut too_big = world.program_input(&org, "Huge Cohort", ProgramSpec::default());
    too_big.max_participants = 1001;
    too_big.min_participants = Some(1002);
    too_big.min_reviews = Some(21);
    assert_fields(
        &expect_err(world.eco.create_program(&owner.ctx, too_big).await),
        &["max_participants", "min_participants", "min_reviews"],
    );
    assert_eq!(
        world
            .count(ProgramFilter {
                include_deleted: true,
                ..Default::default()
            })
            .await,
        0
    );
}

/// `create_project` with a bad name, description, tagline, category and team size reports each
/// field; nothing is written.
pub async fn create_project_reports_every_bad_field<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    let error = expect_err(
        world
            .eco
            .create_project(
                &person.ctx,
                CreateProject {
                    name: " ".to_owned(),
                    description: "too short".to_owned(),
                    tagline: Some("t".repeat(301)),
                    category: Some("c".repeat(101)),
                    team_size: Some(0),
                    ..project_input("unused")
                },
            )
            .await,
    );
    assert_fields(&error, &["name", "description", "tagline", "category", "team_size"]);
    assert_fields(
        &expect_err(
            world
                .eco
                .create_project(
                    &person.ctx,
                    CreateProject {
                        team_size: Some(101),
                        ..project_input("Big Team")
                    },
                )
                .await,
        ),
        &["team_size"],
    );
    assert_eq!(
        world
            .count(ProjectFilter {
                include_deleted: true,
                ..Default::default()
            })
            .await,
        0
    );
    world.assert_not_notified(person.id(), "project_created").await;
}
