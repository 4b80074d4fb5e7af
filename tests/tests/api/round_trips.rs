//! What one HTTP request sends to PostgreSQL: the caller's row is read once, by the
//! authentication, and handed to the use case (`Context::caller`), which does not read it again.
//! The store's own `round_trips` test pins the use cases' statements with the row handed over by
//! hand; this one proves the HTTP layer really hands it over.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use icosistem_core::model::secret::SecretString;
use icosistem_core::testing::fixtures::{ProgramSpec, World};
use icosistem_http::{AppState, HttpConfig, router};
use icosistem_store_postgres::testing::TestStore;
use tower::ServiceExt;

use crate::common::{SECRET, access_token, test_rate_limits};

/// Whether `sql` reads the `users` table (the caller by id, or a program's staff).
fn reads_users(sql: &str) -> bool {
    sql.trim_start().starts_with("SELECT") && sql.contains("FROM users")
}

// Multi-threaded like the other PostgreSQL tests: dropping the last `TestStore` blocks its thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_through_http_reads_the_caller_once() {
    let Some(db) = TestStore::fresh().await else {
        return;
    };
    let world = World::new(db.clone()).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let person = world.entrepreneur().await;
    let draft = world.draft(&cohort, &person).await;
    let config = HttpConfig::new(SecretString::new(SECRET)).with_rate_limits(test_rate_limits());
    let app = router(AppState::new(Arc::clone(&world.eco), config).expect("valid HTTP config"));
    let token = access_token(&person, world.now());

    // The caller is not cached yet: this request's authentication reads the row.
    db.take_statements();
    let request = Request::post(format!("/api/v2/applications/{}/submit", draft.id()))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let reply = app.oneshot(request).await.expect("infallible");
    assert_eq!(reply.status(), StatusCode::OK, "the submit");

    let statements = db.take_statements();
    let user_reads: Vec<&String> = statements.iter().filter(|sql| reads_users(sql)).collect();
    assert_eq!(
        user_reads.len(),
        2,
        "the authentication's read of the caller and the program's staff, nothing else (the applicant's \
         notice takes the caller's row from the context): {user_reads:#?}"
    );
    assert!(
        user_reads.iter().any(|sql| sql.contains("organization_members")),
        "one of them is the staff list: {user_reads:#?}"
    );
}
