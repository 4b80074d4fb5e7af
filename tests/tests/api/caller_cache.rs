//! The cache of callers across replicas: two `AppState`s ("replicas") over one store, each with
//! a caller cache whose TTL (60 s, on a manual clock that never moves by itself) is far longer
//! than any test. A user cached on replica B is suspended by an admin through replica A:
//!
//! - with Redis, B refuses the user's token within one pub/sub message (polled, bound 1 s);
//! - with Redis unreachable, requests still answer, A (which committed the change) refuses at
//!   once, and B serves its cached entry until the TTL passes, then refuses: the stated
//!   fallback bound.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use icosistem_core::model::Role;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Argon2idPasswordHasher, RecordingNotifier};
use icosistem_core::testing::fixtures::{Person, World};
use icosistem_http::live::{LiveConfig, LiveHub, LiveStore};
use icosistem_http::{AppState, HttpConfig, router};
use icosistem_store_memory::MemoryStore;
use serde_json::json;
use tower::ServiceExt;

use crate::common::{SECRET, access_token, test_rate_limits};

/// The caller cache's TTL: far beyond every bound asserted here.
const TTL: chrono::Duration = chrono::Duration::seconds(60);

/// How soon replica B must refuse a user suspended through replica A, with Redis.
const BOUND: Duration = Duration::from_secs(1);

/// Two replicas over one memory store, each with its hub (`hub_a`, `hub_b`) and a cache of
/// callers; the world (its admin, its people) lives on replica A.
struct Replicas {
    world: World<LiveStore<MemoryStore>>,
    a: axum::Router,
    b: axum::Router,
}

impl Replicas {
    async fn new(hub_a: LiveHub, hub_b: LiveHub) -> Self {
        let store = MemoryStore::new();
        let world = World::new(LiveStore::new(store.clone(), hub_a.clone())).await;
        let eco_b = Arc::new(
            icosistem_core::Ecosystem::new(
                LiveStore::new(store, hub_b.clone()),
                Arc::new(RecordingNotifier::new()),
                Arc::clone(&world.clock),
            )
            .with_hasher(Argon2idPasswordHasher::fast_for_tests()),
        );
        let config = |hub: LiveHub| {
            HttpConfig::new(SecretString::new(SECRET))
                .with_rate_limits(test_rate_limits())
                .with_caller_cache_ttl(TTL)
                .with_live(LiveConfig::new(hub))
        };
        let a = router(AppState::new(Arc::clone(&world.eco), config(hub_a)).expect("valid HTTP config"));
        let b = router(AppState::new(eco_b, config(hub_b)).expect("valid HTTP config"));
        Self { world, a, b }
    }

    /// `GET /api/v2/users/me` with `token` on `replica`: the status.
    async fn me(replica: &axum::Router, token: &str) -> StatusCode {
        let request = Request::get("/api/v2/users/me")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        replica.clone().oneshot(request).await.expect("infallible").status()
    }

    /// The admin suspends `person` through replica A.
    async fn suspend_through_a(&self, person: &Person) {
        let admin = access_token(&self.world.admin, self.world.now());
        let request = Request::patch(format!("/api/v2/admin/users/{}", person.id()))
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "status": "suspended" }).to_string()))
            .expect("request");
        let reply = self.a.clone().oneshot(request).await.expect("infallible");
        assert_eq!(reply.status(), StatusCode::OK, "the suspension through A");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_through_one_replica_is_refused_by_the_other_within_a_pub_sub_message() {
    let Some(url) = crate::ops::redis_url() else {
        return;
    };
    // A channel of this test's own: other tests share the Redis.
    let channel = format!("icosistem:live:test:{}", uuid::Uuid::now_v7());
    let hub = || LiveHub::redis(&url, channel.clone()).expect("a hub on REDIS_URL");
    let replicas = Replicas::new(hub(), hub()).await;
    crate::stream::subscribed(&url, &format!("{channel}:callers"), 2).await;
    let person = replicas.world.person(Role::Entrepreneur, "cached").await;
    let token = access_token(&person, replicas.world.now());
    // Read once on each replica, which caches the row for the whole TTL.
    assert_eq!(Replicas::me(&replicas.a, &token).await, StatusCode::OK);
    assert_eq!(Replicas::me(&replicas.b, &token).await, StatusCode::OK);

    replicas.suspend_through_a(&person).await;
    let suspended = Instant::now();
    assert_eq!(
        Replicas::me(&replicas.a, &token).await,
        StatusCode::UNAUTHORIZED,
        "the replica that committed the change evicted its entry at once"
    );
    loop {
        let status = Replicas::me(&replicas.b, &token).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            suspended.elapsed() < BOUND,
            "replica B still served the suspended user after {BOUND:?} (TTL {TTL})"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!(
        "replica B refused the suspended user {:?} after the suspension through A",
        suspended.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_requests_answer_and_the_other_replica_refuses_within_the_ttl() {
    // Nothing listens on port 1: every publish and subscription fails (and is logged).
    let hub = || LiveHub::redis("redis://127.0.0.1:1", "icosistem:live:unreachable").expect("a valid URL");
    let replicas = Replicas::new(hub(), hub()).await;
    let person = replicas.world.person(Role::Entrepreneur, "cached").await;
    let token = access_token(&person, replicas.world.now());
    assert_eq!(Replicas::me(&replicas.a, &token).await, StatusCode::OK);
    assert_eq!(Replicas::me(&replicas.b, &token).await, StatusCode::OK);

    replicas.suspend_through_a(&person).await;
    assert_eq!(
        Replicas::me(&replicas.a, &token).await,
        StatusCode::UNAUTHORIZED,
        "A evicts its own entry without Redis"
    );
    // B never hears of it: its entry lives out the TTL, no longer.
    replicas.world.advance(TTL - chrono::Duration::milliseconds(1));
    assert_eq!(Replicas::me(&replicas.b, &token).await, StatusCode::OK);
    replicas.world.advance(chrono::Duration::milliseconds(1));
    assert_eq!(Replicas::me(&replicas.b, &token).await, StatusCode::UNAUTHORIZED);
}
