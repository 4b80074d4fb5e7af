//! The server's read sessions over a PostgreSQL read replica (`icosistem_server::app` with
//! `read_sessions`): a second, empty test database stands in for the replica, so an empty user
//! list shows the replica served it. An admin's list reads on the replica; right after the
//! admin's own write (a role change through the API), their list reads on the primary and shows
//! it, while another admin's list still reads on the replica; without read sessions the
//! writer's list goes to the replica too.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use icosistem_core::model::Role;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Argon2idPasswordHasher, RecordingNotifier};
use icosistem_core::testing::fixtures::World;
use icosistem_http::{AppState, HttpConfig};
use icosistem_store_postgres::testing::TestStore;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{SECRET, access_token, test_rate_limits};

/// The users an admin's `GET /api/v2/admin/users` lists on `app`.
async fn listed(app: &axum::Router, token: &str) -> usize {
    let request = Request::get("/api/v2/admin/users")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let reply = app.clone().oneshot(request).await.expect("infallible");
    assert_eq!(reply.status(), StatusCode::OK);
    let body: Value =
        serde_json::from_slice(&reply.into_body().collect().await.expect("body").to_bytes()).expect("JSON");
    body["items"].as_array().expect("items").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_list_right_after_their_write_reads_the_primary() {
    let Some(primary) = TestStore::fresh().await else {
        return;
    };
    let Some(replica) = TestStore::fresh().await else {
        return;
    };
    let world = World::new(primary.clone()).await;
    let writer = world.admin.clone();
    let other = world.person(Role::Admin, "otheradmin").await;
    let target = world.person(Role::Entrepreneur, "target").await;
    let store = primary
        .store()
        .clone()
        .with_read_replica(replica.store().pool().clone(), Duration::from_secs(60));
    let eco = Arc::new(
        icosistem_core::Ecosystem::new(store, RecordingNotifier::new(), Arc::clone(&world.clock))
            .with_hasher(Argon2idPasswordHasher::fast_for_tests()),
    );
    let state = AppState::new(
        eco,
        HttpConfig::new(SecretString::new(SECRET)).with_rate_limits(test_rate_limits()),
    )
    .expect("valid HTTP config");
    let app = icosistem_server::app(state.clone(), true);
    let without_sessions = icosistem_server::app(state, false);
    let (writer_token, other_token) = (access_token(&writer, world.now()), access_token(&other, world.now()));

    assert_eq!(
        listed(&app, &writer_token).await,
        0,
        "a read-only list reads the (empty) replica"
    );

    let request = Request::patch(format!("/api/v2/admin/users/{}", target.id()))
        .header(header::AUTHORIZATION, format!("Bearer {writer_token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "role": "ally" }).to_string()))
        .expect("request");
    let reply = app.clone().oneshot(request).await.expect("infallible");
    assert_eq!(reply.status(), StatusCode::OK, "the write, on the primary");

    assert!(
        listed(&app, &writer_token).await >= 3,
        "the writer's next list reads the primary"
    );
    assert_eq!(
        listed(&app, &other_token).await,
        0,
        "another caller still reads the replica"
    );
    assert_eq!(
        listed(&without_sessions, &writer_token).await,
        0,
        "without read sessions the store cannot tell the writer"
    );
}
