//! What the units of work send to PostgreSQL, statement by statement (each statement is one
//! round trip): a read-only use case sends no `BEGIN`, writes send no savepoint unless a unique
//! violation is possible, and the selection commands stay within a pinned number of round
//! trips (printed, so a change shows in the test output).

use std::collections::BTreeMap;

use icosistem_core::model::Role;
use icosistem_core::ports::store::PageRequest;
use icosistem_core::service::{ApplicationAction, Decision};
use icosistem_core::testing::fixtures::{ProgramSpec, World};
use icosistem_store_postgres::testing::TestStore;

fn is_transaction_control(sql: &str) -> bool {
    let head = sql.trim_start().to_ascii_uppercase();
    ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"]
        .iter()
        .any(|word| head.starts_with(word))
}

/// The statements by their first words (`BEGIN`, `SELECT`, `INSERT INTO audit_events` …), for
/// the printed summary.
fn summary(statements: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for sql in statements {
        let words: Vec<&str> = sql.split_whitespace().collect();
        let key = match words.first().copied() {
            Some("INSERT") | Some("DELETE") => words.iter().take(3).copied().collect::<Vec<_>>().join(" "),
            Some("UPDATE") => words.iter().take(2).copied().collect::<Vec<_>>().join(" "),
            Some("SELECT") => match words.iter().position(|w| *w == "FROM") {
                Some(at) => format!("SELECT … FROM {}", words.get(at + 1).unwrap_or(&"")),
                None => "SELECT".to_owned(),
            },
            _ => words.iter().take(2).copied().collect::<Vec<_>>().join(" "),
        };
        *counts.entry(key).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_use_cases_send_no_begin() {
    let Some(db) = TestStore::fresh().await else { return };
    let world = World::new(db.clone()).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let stranger = world.person(Role::Ally, "stranger").await;
    db.take_statements();

    world
        .eco
        .get_project(&owner.ctx, project.id)
        .await
        .expect("get project");
    let statements = db.take_statements();
    assert_eq!(
        statements.len(),
        1,
        "GET project as its owner is one SELECT: {statements:?}"
    );
    assert!(statements[0].starts_with("SELECT"), "{statements:?}");

    world.eco.get_user(&owner.ctx, owner.id()).await.expect("get user");
    world
        .eco
        .get_project(&stranger.ctx, project.id)
        .await
        .expect_err("a stranger does not see a draft project");
    world
        .eco
        .list_projects(&owner.ctx, Default::default(), PageRequest::first(20))
        .await
        .expect("list projects");
    let statements = db.take_statements();
    assert!(!statements.is_empty());
    let control: Vec<&String> = statements.iter().filter(|s| is_transaction_control(s)).collect();
    assert!(control.is_empty(), "read-only use cases sent {control:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_send_a_savepoint_only_when_refused() {
    let Some(db) = TestStore::fresh().await else { return };
    let world = World::new(db.clone()).await;
    let owner = world.entrepreneur().await;
    db.take_statements();
    world.project(&owner).await;
    let statements = db.take_statements();
    assert!(
        !statements.iter().any(|s| s.starts_with("SAVEPOINT")),
        "creating a project needs no savepoint: {statements:?}"
    );
    assert_eq!(statements.iter().filter(|s| s.as_str() == "BEGIN").count(), 1);
    assert_eq!(statements.iter().filter(|s| s.as_str() == "COMMIT").count(), 1);
}

/// The statements a fresh draft's submission and then its acceptance send: through the
/// commands alone (`submit_application`, `decide`), or with `with_view` through
/// `act_on_application`, which answers the view in the same unit of work.
async fn submit_and_accept(db: &TestStore, with_view: bool) -> (Vec<String>, Vec<String>) {
    let world = World::new(db.clone()).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let person = world.entrepreneur().await;
    let mut applicant = world.draft(&cohort, &person).await;
    let id = applicant.id();

    db.take_statements();
    if with_view {
        // As the HTTP layer calls it: with the caller's row its authentication read.
        let ctx = person.ctx.clone().with_caller(std::sync::Arc::new(person.user.clone()));
        world
            .eco
            .act_on_application(&ctx, id, ApplicationAction::Submit, None)
            .await
            .expect("submit");
    } else {
        world
            .eco
            .submit_application(&person.ctx, id, None)
            .await
            .expect("submit");
    }
    let submit = db.take_statements();

    applicant.application = world.row(id).await.expect("application");
    world.review(&cohort, &mut applicant, 4).await;
    db.take_statements();
    if with_view {
        let accept = ApplicationAction::Decide {
            decision: Decision::Accept,
            note: None,
        };
        world
            .eco
            .act_on_application(&cohort.owner.ctx, id, accept, None)
            .await
            .expect("accept");
    } else {
        world
            .eco
            .decide(&cohort.owner.ctx, id, Decision::Accept, None, None)
            .await
            .expect("accept");
    }
    (submit, db.take_statements())
}

/// Round trips of `submit_application` and `decide(Accept)`. Before the lazy unit of work and
/// the savepoint-free writes they were, on the same statements: one pool ping, `BEGIN`,
/// `COMMIT`, and three round trips (`SAVEPOINT`, the write, `RELEASE`) per write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selection_commands_stay_within_their_round_trips() {
    let Some(db) = TestStore::fresh().await else { return };
    let (submit, accept) = submit_and_accept(&db, false).await;

    for (name, statements, budget) in [("submit_application", &submit, 11), ("decide(Accept)", &accept, 15)] {
        let writes = statements
            .iter()
            .filter(|s| ["INSERT", "UPDATE", "DELETE", "WITH"].iter().any(|w| s.starts_with(w)))
            .count();
        let savepoints = statements.iter().filter(|s| s.starts_with("SAVEPOINT")).count();
        println!(
            "{name}: {} round trips now ({writes} writes, {savepoints} savepoints); {:?}",
            statements.len(),
            summary(statements)
        );
        assert_eq!(savepoints, 0, "{name} needs no savepoint: {statements:?}");
        // 30 and 32 before; a new statement in these commands should be a decision. Among them
        // the organization's active webhook endpoints (docs/domain.md §8: every audited event of
        // a selection may become a webhook), read once per unit of work. The applicant's own
        // submission reads no membership or review to authorize them (16), and the audit event,
        // notifications and outbox messages of each go in one statement before `COMMIT` (16
        // and 18 before that). A program's staff are read with their memberships in one
        // statement (`UserFilter::staff_of`; submit 12 before).
        assert!(
            statements.len() <= budget,
            "{name} takes {} round trips",
            statements.len()
        );
        assert_eq!(statements.iter().filter(|s| s.as_str() == "BEGIN").count(), 1);
    }
}

/// What an HTTP submit and accept cost: the command and the view it answers, in one unit of
/// work (`act_on_application`). Before, the route read the view in a second unit after the
/// commit: six more statements (application, program, membership, reviews, project, user).
/// (16 and 22 before the rows of append-only tables went in one statement; 12 for the submit
/// before its notice to the applicant took the caller's row from the context and the staff's
/// users came with their memberships.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_answered_with_their_view_stay_within_their_round_trips() {
    let Some(db) = TestStore::fresh().await else { return };
    let (submit, accepted) = submit_and_accept(&db, true).await;
    for (name, statements, budget) in [("submit + view", &submit, 10), ("accept + view", &accepted, 19)] {
        println!("{name}: {} round trips; {:?}", statements.len(), summary(statements));
        assert!(
            statements.len() <= budget,
            "{name} takes {} round trips",
            statements.len()
        );
    }
}
