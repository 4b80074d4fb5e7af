//! The router driven in-process (`tower::ServiceExt::oneshot`) on the memory store: every route
//! of this slice with its success and error answers, the problem+json shape, the middleware
//! headers, tokens (tampered, expired, wrong type, rotated, reused) and the OpenAPI document.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Duration;
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::{AccountToken, RefreshToken, Role, User, UserId};
use icosistem_core::ports::store::{AccountTokenFilter, RefreshTokenFilter, UserFilter};
use icosistem_core::testing::fixtures::{PASSWORD, Person, World};
use icosistem_http::{AppState, HttpConfig, router};
use icosistem_store_memory::MemoryStore;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{Reply, SECRET, json_request};

impl Reply {
    #[track_caller]
    fn assert_problem(&self, status: StatusCode, code: &str) -> &Self {
        // The status, content type and code as everywhere; then the rest of the problem body.
        self.problem(status, code);
        assert_eq!(self.body["status"], status.as_u16());
        assert!(self.body["type"].is_string() && self.body["title"].is_string() && self.body["detail"].is_string());
        assert!(self.body["errors"].is_array());
        assert_eq!(
            self.body["request_id"].as_str(),
            self.headers["x-request-id"].to_str().ok(),
            "the problem names the request id of the response"
        );
        self
    }
}

struct App {
    world: World<MemoryStore>,
    router: axum::Router,
    bodies: Mutex<Vec<String>>,
}

impl App {
    async fn new() -> Self {
        Self::with_config(
            HttpConfig::new(SecretString::new(SECRET)).with_rate_limits(crate::common::test_rate_limits()),
        )
        .await
    }

    async fn with_config(config: HttpConfig) -> Self {
        let world = World::new(MemoryStore::new()).await;
        let state = AppState::new(Arc::clone(&world.eco), config).expect("valid HTTP config");
        Self {
            router: router(state),
            world,
            bodies: Mutex::new(Vec::new()),
        }
    }

    async fn request(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let reply = Reply::read(response).await;
        self.bodies.lock().expect("lock").push(reply.raw.clone());
        reply
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>, token: Option<&str>) -> Reply {
        self.request(json_request(method, path, body, token, None)).await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, None, token).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body), None).await
    }

    /// A verified, active entrepreneur.
    async fn person(&self) -> Person {
        self.world.person(Role::Entrepreneur, "api").await
    }

    async fn login(&self, email: &str, password: &str) -> Reply {
        self.post("/api/v2/auth/login", json!({ "email": email, "password": password }))
            .await
    }

    /// Logs `person` in and answers (access token, refresh token).
    async fn session(&self, person: &Person) -> (String, String) {
        let reply = self.login(person.email(), PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
        (
            reply.body["access_token"].as_str().expect("access").to_owned(),
            reply.body["refresh_token"].as_str().expect("refresh").to_owned(),
        )
    }

    /// No response body of this app ever carried a password hash or a stored token hash.
    async fn assert_no_secrets_leaked(&self) {
        let users: Vec<User> = self
            .world
            .rows(UserFilter {
                include_deleted: true,
                ..Default::default()
            })
            .await;
        let refresh: Vec<RefreshToken> = self.world.rows(RefreshTokenFilter::default()).await;
        let account: Vec<AccountToken> = self.world.rows(AccountTokenFilter::default()).await;
        let mut secrets: Vec<String> = users.into_iter().map(|u| u.password_hash).collect();
        secrets.extend(refresh.into_iter().map(|t| t.token_hash));
        secrets.extend(account.into_iter().map(|t| t.token_hash));
        assert!(!secrets.is_empty());
        let bodies = self.bodies.lock().expect("lock");
        assert!(!bodies.is_empty());
        for body in bodies.iter() {
            assert!(!body.contains("$argon2"), "a password hash leaked: {body}");
            assert!(
                !body.contains("password_hash") && !body.contains("token_hash"),
                "{body}"
            );
            assert!(
                !body.contains("failed_logins") && !body.contains("security_stamp"),
                "{body}"
            );
            for secret in &secrets {
                assert!(!body.contains(secret.as_str()), "a stored secret leaked: {body}");
            }
        }
    }
}

fn bearer_token_claims(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode")
}

#[tokio::test]
async fn health_probes_answer() {
    let app = App::new().await;
    let live = app.get("/health", None).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.body, json!({ "status": "ok" }));
    for path in ["/health/ready", "/api/v2/health"] {
        let ready = app.get(path, None).await;
        assert_eq!(ready.status, StatusCode::OK, "{path}");
        assert_eq!(ready.body, json!({ "status": "ready" }), "{path}");
    }
    let detailed = app.get("/health/detailed", None).await;
    assert_eq!(detailed.status, StatusCode::OK);
    assert_eq!(detailed.body["status"], "ok");
    assert_eq!(detailed.body["version"], env!("CARGO_PKG_VERSION"));
    assert!(detailed.body["uptime_seconds"].is_u64());
    assert_eq!(detailed.body["checks"]["store"]["status"], "up");
    assert!(detailed.body["checks"]["store"]["latency_ms"].is_number());
}

#[tokio::test]
async fn register_verify_and_login() {
    let app = App::new().await;
    let body = json!({
        "email": "Nueva.Persona@Example.test",
        "password": PASSWORD,
        "first_name": "Nueva",
        "last_name": "Persona",
        "role": "entrepreneur",
    });
    let created = app.post("/api/v2/auth/register", body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.raw);
    assert_eq!(created.body["email"], "nueva.persona@example.test");
    assert_eq!(created.body["status"], "pending_verification");
    assert_eq!(created.body["version"], 1);
    assert!(created.body.get("locked_until").is_none());
    let id: UserId = created.body["id"]
        .as_str()
        .and_then(|s| s.parse::<uuid::Uuid>().ok())
        .expect("id")
        .into();

    app.post("/api/v2/auth/register", body)
        .await
        .assert_problem(StatusCode::CONFLICT, "conflict");

    // Unverified accounts may not log in.
    app.login("nueva.persona@example.test", PASSWORD)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "email_not_verified");

    let token = app.world.token_from_outbox(id, "email_verification").await;
    let verified = app.post("/api/v2/auth/verify-email", json!({ "token": token })).await;
    assert_eq!(verified.status, StatusCode::NO_CONTENT, "{}", verified.raw);
    let again = app.post("/api/v2/auth/verify-email", json!({ "token": token })).await;
    again.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(again.fields(), ["token"]);

    let login = app.login("nueva.persona@example.test", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.raw);
    assert_eq!(login.body["token_type"], "Bearer");
    assert_eq!(login.body["expires_in"], 900);
    assert!(
        login.body["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert_eq!(login.body["refresh_token"].as_str().map(str::len), Some(43));
    assert_eq!(login.body["user"]["status"], "active");
    assert_eq!(login.headers[header::CACHE_CONTROL], "no-store");
    app.assert_no_secrets_leaked().await;
}

#[tokio::test]
async fn register_reports_every_failing_field() {
    let app = App::new().await;
    let reply = app.post("/api/v2/auth/register", json!({})).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(reply.fields(), ["email", "first_name", "last_name", "password", "role"]);

    let reply = app
        .post(
            "/api/v2/auth/register",
            json!({ "email": "ok@example.test", "password": PASSWORD, "first_name": "Ana", "last_name": "Gómez", "role": "admin" }),
        )
        .await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(reply.fields(), ["role"]);
}

#[tokio::test]
async fn malformed_bodies_are_400_415_and_413() {
    let app = App::new().await;
    let malformed = Request::post("/api/v2/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"email\": "))
        .expect("request");
    app.request(malformed)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_json");

    let text = Request::post("/api/v2/auth/login")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .expect("request");
    app.request(text)
        .await
        .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let wrong_shape = app.post("/api/v2/auth/login", json!({ "email": 42 })).await;
    wrong_shape.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let huge = json!({ "email": "a".repeat(1024 * 1024 + 10), "password": "x" });
    app.post("/api/v2/auth/login", huge)
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // Without a Content-Length (a streamed body) the limit holds too.
    let small = App::with_config(HttpConfig::new(SecretString::new(SECRET)).with_body_limit(64)).await;
    let chunks: Vec<Result<String, std::io::Error>> = vec![
        Ok("{\"email\": \"".to_owned()),
        Ok("b".repeat(200)),
        Ok("\"}".to_owned()),
    ];
    let streamed = Request::post("/api/v2/auth/password-reset")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures_stream(chunks)))
        .expect("request");
    small
        .request(streamed)
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

fn futures_stream(
    chunks: Vec<Result<String, std::io::Error>>,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> + Send + 'static {
    futures::stream::iter(chunks)
}

#[tokio::test]
async fn login_failures_answer_401_then_423() {
    let app = App::new().await;
    let person = app.person().await;
    let unknown = app.login("nobody@example.test", PASSWORD).await;
    unknown.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(unknown.headers[header::WWW_AUTHENTICATE], "Bearer");
    let wrong = app.login(person.email(), "wrong password entirely").await;
    wrong.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(wrong.body["detail"], unknown.body["detail"], "no account enumeration");
    for _ in 0..3 {
        app.login(person.email(), "wrong password entirely")
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let locked = app.login(person.email(), "wrong password entirely").await;
    locked.assert_problem(StatusCode::LOCKED, "account_locked");
    assert_eq!(locked.headers[header::RETRY_AFTER], "900");
    app.login(person.email(), PASSWORD)
        .await
        .assert_problem(StatusCode::LOCKED, "account_locked");
    app.world.advance(Duration::minutes(15));
    assert_eq!(app.login(person.email(), PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn users_me_needs_a_valid_access_token() {
    let app = App::new().await;
    let person = app.person().await;
    let (access, refresh) = app.session(&person).await;

    let me = app.get("/api/v2/users/me", Some(&access)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.raw);
    assert_eq!(me.body["id"], person.id().to_string());
    assert_eq!(me.headers[header::ETAG], format!("\"{}\"", me.body["version"]));
    assert_eq!(me.headers[header::CACHE_CONTROL], "no-store");

    let missing = app.get("/api/v2/users/me", None).await;
    missing.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(missing.headers[header::WWW_AUTHENTICATE], "Bearer");

    // Tampered: the payload changed, the signature kept.
    let mut parts: Vec<&str> = access.split('.').collect();
    let forged_payload = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&engine.decode(parts[1]).expect("b64")).expect("json");
        claims["role"] = json!("admin");
        engine.encode(claims.to_string())
    };
    parts[1] = &forged_payload;
    let tampered = parts.join(".");
    app.get("/api/v2/users/me", Some(&tampered))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    // Signed with another secret.
    let now = app.world.now().timestamp();
    let claims = json!({ "sub": person.id().to_string(), "role": "entrepreneur", "security_stamp": person.user.security_stamp,
        "iat": now, "exp": now + 900, "typ": "access" });
    let foreign = bearer_token_claims(claims.clone(), "another secret of at least thirty-two bytes");
    app.get("/api/v2/users/me", Some(&foreign))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    // The right secret but the wrong type.
    let mut refresh_typed = claims.clone();
    refresh_typed["typ"] = json!("refresh");
    let wrong_type = bearer_token_claims(refresh_typed, SECRET);
    app.get("/api/v2/users/me", Some(&wrong_type))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    // A hand-made token with every claim right works (the control of the two above).
    let control = bearer_token_claims(claims, SECRET);
    assert_eq!(app.get("/api/v2/users/me", Some(&control)).await.status, StatusCode::OK);
    app.get("/api/v2/users/me", Some(&refresh))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    app.get("/api/v2/users/me", Some("not.a.jwt"))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");

    // Expired after 15 minutes by the ecosystem's clock.
    app.world.advance(Duration::minutes(15));
    app.get("/api/v2/users/me", Some(&access))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    app.assert_no_secrets_leaked().await;
}

#[tokio::test]
async fn patch_me_checks_if_match_and_every_field() {
    let app = App::new().await;
    let person = app.person().await;
    let (access, _) = app.session(&person).await;
    let version = app.get("/api/v2/users/me", Some(&access)).await.body["version"]
        .as_u64()
        .expect("version");

    let patch = |if_match: Option<String>, body: Value| {
        let mut builder = Request::patch("/api/v2/users/me")
            .header(header::AUTHORIZATION, format!("Bearer {access}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(v) = if_match {
            builder = builder.header(header::IF_MATCH, v);
        }
        builder.body(Body::from(body.to_string())).expect("request")
    };

    let updated = app
        .request(patch(
            Some(format!("\"{version}\"")),
            json!({ "first_name": "Renata", "phone": "+573001234567", "timezone": "America/Bogota" }),
        ))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.raw);
    assert_eq!(updated.body["first_name"], "Renata");
    assert_eq!(updated.body["phone"], "+573001234567");
    assert_eq!(updated.body["version"], version + 1);

    let cleared = app.request(patch(None, json!({ "phone": null }))).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.raw);
    assert_eq!(cleared.body["phone"], Value::Null);

    let stale = app
        .request(patch(Some(format!("\"{version}\"")), json!({ "last_name": "Suárez" })))
        .await;
    stale.assert_problem(StatusCode::CONFLICT, "conflict");
    assert_eq!(stale.fields(), ["version"]);

    let invalid = app
        .request(patch(
            None,
            json!({ "first_name": "x", "language": "english", "timezone": "Mars/Olympus" }),
        ))
        .await;
    invalid.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(invalid.fields(), ["first_name", "language", "timezone"]);

    app.request(patch(Some("soon".to_owned()), json!({})))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn change_password_checks_the_current_one() {
    let app = App::new().await;
    let person = app.person().await;
    let (access, _) = app.session(&person).await;
    let put = |body: Value, token: Option<&str>| {
        let mut builder = Request::put("/api/v2/users/me/password").header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        builder.body(Body::from(body.to_string())).expect("request")
    };
    let new_password = "a brand new passphrase 77";
    app.request(put(
        json!({ "current_password": PASSWORD, "new_password": new_password }),
        None,
    ))
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let wrong = app
        .request(put(
            json!({ "current_password": "not it at all, sorry", "new_password": "short" }),
            Some(&access),
        ))
        .await;
    wrong.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(wrong.fields(), ["current_password", "new_password"]);
    let done = app
        .request(put(
            json!({ "current_password": PASSWORD, "new_password": new_password }),
            Some(&access),
        ))
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.raw);
    assert_eq!(app.login(person.email(), new_password).await.status, StatusCode::OK);
    app.login(person.email(), PASSWORD)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = App::new().await;
    let person = app.person().await;
    let (_, first) = app.session(&person).await;

    let rotated = app
        .post("/api/v2/auth/refresh", json!({ "refresh_token": first }))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.raw);
    assert_eq!(rotated.headers[header::CACHE_CONTROL], "no-store");
    let second = rotated.body["refresh_token"].as_str().expect("refresh").to_owned();
    assert_ne!(second, first);
    let access = rotated.body["access_token"].as_str().expect("access").to_owned();
    assert_eq!(app.get("/api/v2/users/me", Some(&access)).await.status, StatusCode::OK);

    // The old one again: 401, and the whole family is gone — the successor too.
    let reuse = app
        .post("/api/v2/auth/refresh", json!({ "refresh_token": first }))
        .await;
    reuse.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    app.post("/api/v2/auth/refresh", json!({ "refresh_token": second }))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(app.world.audit("auth.token_reuse_detected", person.id()).await.len(), 1);
    let live = app
        .world
        .count(RefreshTokenFilter {
            user_id: Some(person.id()),
            unrevoked_only: true,
            ..Default::default()
        })
        .await;
    assert_eq!(live, 0);

    app.post("/api/v2/auth/refresh", json!({}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.post("/api/v2/auth/refresh", json!({ "refresh_token": "made-up" }))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    app.assert_no_secrets_leaked().await;
}

#[tokio::test]
async fn logout_revokes_the_family() {
    let app = App::new().await;
    let person = app.person().await;
    let (_, refresh) = app.session(&person).await;
    let (_, other_device) = app.session(&person).await;
    let out = app
        .post("/api/v2/auth/logout", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.raw);
    app.post("/api/v2/auth/refresh", json!({ "refresh_token": refresh }))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        app.post("/api/v2/auth/logout", json!({ "refresh_token": refresh }))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post("/api/v2/auth/refresh", json!({ "refresh_token": other_device }))
            .await
            .status,
        StatusCode::OK,
        "another session lives on"
    );
    assert_eq!(app.world.audit("auth.logout", person.id()).await.len(), 1);
    app.post("/api/v2/auth/logout", json!({}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn password_reset_answers_202_and_ends_every_session() {
    let app = App::new().await;
    let person = app.person().await;
    let (access, refresh) = app.session(&person).await;

    let unknown = app
        .post("/api/v2/auth/password-reset", json!({ "email": "nobody@example.test" }))
        .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    let known = app
        .post("/api/v2/auth/password-reset", json!({ "email": person.email() }))
        .await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!(known.raw, unknown.raw, "the answer tells nothing");

    let bad = app
        .post(
            "/api/v2/auth/password-reset/confirm",
            json!({ "token": "nope", "new_password": "another fine passphrase 9" }),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(bad.fields(), ["token"]);

    let token = app.world.token_from_outbox(person.id(), "password_reset").await;
    let confirmed = app
        .post(
            "/api/v2/auth/password-reset/confirm",
            json!({ "token": token, "new_password": "another fine passphrase 9" }),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::NO_CONTENT, "{}", confirmed.raw);
    // The security stamp moved: the old access and refresh tokens are refused.
    app.get("/api/v2/users/me", Some(&access))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    app.post("/api/v2/auth/refresh", json!({ "refresh_token": refresh }))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        app.login(person.email(), "another fine passphrase 9").await.status,
        StatusCode::OK
    );
    app.assert_no_secrets_leaked().await;
}

#[tokio::test]
async fn every_response_has_the_request_id_and_security_headers() {
    let app = App::new().await;
    let check = |reply: &Reply| {
        for name in [
            "x-request-id",
            "x-response-time",
            "strict-transport-security",
            "content-security-policy",
        ] {
            assert!(reply.headers.contains_key(name), "{name} missing");
        }
        assert_eq!(reply.headers["x-content-type-options"], "nosniff");
        assert_eq!(reply.headers["x-frame-options"], "DENY");
        assert_eq!(reply.headers["referrer-policy"], "strict-origin-when-cross-origin");
    };
    let ok = app.get("/health", None).await;
    check(&ok);
    assert!(uuid::Uuid::parse_str(ok.headers["x-request-id"].to_str().expect("ascii")).is_ok());
    assert!(!ok.headers.contains_key(header::CACHE_CONTROL));

    let missing = app.get("/api/v2/nowhere", None).await;
    check(&missing);
    missing.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let wrong_method = app.send(Method::DELETE, "/health", None, None).await;
    check(&wrong_method);
    wrong_method.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");

    let mine = Request::get("/api/v2/users/me")
        .header("x-request-id", "client-chosen-id.42")
        .body(Body::empty())
        .expect("request");
    let reply = app.request(mine).await;
    check(&reply);
    assert_eq!(reply.headers["x-request-id"], "client-chosen-id.42");
    reply.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(reply.body["request_id"], "client-chosen-id.42");

    let hostile = Request::get("/health")
        .header("x-request-id", "<script>alert(1)</script>")
        .body(Body::empty())
        .expect("request");
    let reply = app.request(hostile).await;
    assert_ne!(reply.headers["x-request-id"], "<script>alert(1)</script>");
}

#[tokio::test]
async fn the_request_id_reaches_the_audit_log() {
    let app = App::new().await;
    let person = app.person().await;
    let login = Request::post("/api/v2/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-request-id", "login-req-1")
        .body(Body::from(
            json!({ "email": person.email(), "password": PASSWORD }).to_string(),
        ))
        .expect("request");
    assert_eq!(app.request(login).await.status, StatusCode::OK);
    let event = app.world.audited("auth.login", person.id()).await;
    assert_eq!(event.request_id.as_deref(), Some("login-req-1"));
}

#[tokio::test]
async fn openapi_document_lists_the_paths_and_docs_render() {
    let app = App::new().await;
    let doc = app.get("/api-docs/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(
        doc.body["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc.body["openapi"]
    );
    let paths = doc.body["paths"].as_object().expect("paths");
    for path in [
        "/health",
        "/health/ready",
        "/health/detailed",
        "/api/v2/health",
        "/api/v2/auth/register",
        "/api/v2/auth/verify-email",
        "/api/v2/auth/login",
        "/api/v2/auth/refresh",
        "/api/v2/auth/logout",
        "/api/v2/auth/password-reset",
        "/api/v2/auth/password-reset/confirm",
        "/api/v2/users/me",
        "/api/v2/users/me/password",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    assert!(paths["/api/v2/users/me"]["patch"].is_object());
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc.body["components"]["schemas"]["Problem"].is_object());

    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.raw.contains("swagger"), "{}", &docs.raw[..docs.raw.len().min(200)]);
    let redirect = app.get("/docs", None).await;
    assert!(
        redirect.status == StatusCode::OK || redirect.status.is_redirection(),
        "{}",
        redirect.status
    );
}

#[tokio::test]
async fn the_router_nests_under_a_prefix() {
    let world = World::new(MemoryStore::new()).await;
    let state =
        AppState::new(Arc::clone(&world.eco), HttpConfig::new(SecretString::new(SECRET))).expect("valid HTTP config");
    let app = axum::Router::new().nest("/eco", router(state));
    let response = app
        .oneshot(Request::get("/eco/health").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-request-id"));
}
