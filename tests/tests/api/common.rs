//! What the resource test files share: an in-process app on the memory store, requests with a
//! bearer token and `If-Match`, and answers read as JSON.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use icosistem_core::model::Role;
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::{AccountToken, CalendarFeed, RefreshToken};
use icosistem_core::ports::store::{AccountTokenFilter, CalendarFeedFilter, PageRequest, RefreshTokenFilter, Repo};
use icosistem_core::ports::{Clock, Notifier, RecordingNotifier, Store, Transaction};
use icosistem_core::testing::fixtures::{Person, World};
use icosistem_http::{AppState, HttpConfig, router};
use icosistem_store_memory::MemoryStore;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

pub(crate) const SECRET: &str = "test secret of at least thirty-two bytes";

/// Rate limits that a test's quick bursts of requests never reach (still on, so every request
/// goes through the limiter); `ops` tests the real limits.
pub(crate) fn test_rate_limits() -> icosistem_http::RateLimits {
    icosistem_http::RateLimits::default()
        .with_auth(icosistem_http::Quota::new(10_000, 10_000))
        .with_api(icosistem_http::Quota::new(10_000, 10_000))
        .with_export(icosistem_http::Quota::new(10_000, 10_000))
}

/// A problem answer: its status and `code` (the `*_refused` helpers and [`Reply::refused`] check both).
pub(crate) type Problem = (StatusCode, &'static str);
/// 409 `invalid_transition`: the command is not allowed from the resource's status.
pub(crate) const INVALID_TRANSITION: Problem = (StatusCode::CONFLICT, "invalid_transition");
/// 409 `conflict`: a stale `If-Match` or a taken unique key.
pub(crate) const CONFLICT: Problem = (StatusCode::CONFLICT, "conflict");
/// 403 `forbidden`: visible to the caller, not theirs to change.
pub(crate) const FORBIDDEN: Problem = (StatusCode::FORBIDDEN, "forbidden");
/// 404 `not_found`: absent, or not the caller's to see.
pub(crate) const NOT_FOUND: Problem = (StatusCode::NOT_FOUND, "not_found");
/// 422 `validation_failed`: the input breaks a rule.
pub(crate) const INVALID: Problem = (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
    pub(crate) raw: String,
}

impl Reply {
    #[track_caller]
    pub(crate) fn ok(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "body: {}", self.raw);
        &self.body
    }

    #[track_caller]
    pub(crate) fn problem(&self, status: StatusCode, code: &str) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.raw);
        assert_eq!(
            self.headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{}",
            self.raw
        );
        assert_eq!(self.body["code"], code, "body: {}", self.raw);
        self
    }

    /// [`Reply::problem`] with a [`Problem`].
    #[track_caller]
    pub(crate) fn refused(&self, (status, code): Problem) -> &Self {
        self.problem(status, code)
    }

    pub(crate) fn fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        fields.sort();
        fields.dedup();
        fields
    }

    pub(crate) fn id(&self) -> String {
        self.body["id"].as_str().expect("id").to_owned()
    }

    pub(crate) fn version(&self) -> u64 {
        self.body["version"].as_u64().expect("version")
    }

    /// The ids of a list answer's `items`, in order.
    pub(crate) fn ids(&self) -> Vec<String> {
        self.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_owned())
            .collect()
    }
}

/// How many `items` a list answer's body holds (0 when it has none).
pub(crate) fn count(body: &Value) -> usize {
    body["items"].as_array().map(Vec::len).unwrap_or_default()
}

impl Reply {
    /// The whole answer: status, headers, the body as text and as JSON (`Null` when it is none).
    pub(crate) async fn read(response: axum::response::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }
}

/// A request of `method` to `path` with, each when given, a JSON `body`, a bearer `token` and
/// `If-Match: "<version>"`.
pub(crate) fn json_request(
    method: Method,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
    if_match: Option<u64>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(version) = if_match {
        builder = builder.header(header::IF_MATCH, format!("\"{version}\""));
    }
    let request = match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    };
    request.expect("request")
}

pub(crate) struct App {
    pub(crate) world: World<MemoryStore>,
    pub(crate) router: axum::Router,
}

impl App {
    pub(crate) async fn new() -> Self {
        Self::over(World::new(MemoryStore::new()).await)
    }

    /// The API over an ecosystem with `limits` instead of the defaults.
    pub(crate) async fn with_limits(limits: icosistem_core::Limits) -> Self {
        Self::over(World::with_limits(MemoryStore::new(), Arc::new(RecordingNotifier::new()), limits).await)
    }

    fn over(world: World<MemoryStore>) -> Self {
        let config = HttpConfig::new(SecretString::new(SECRET)).with_rate_limits(test_rate_limits());
        let state = AppState::new(Arc::clone(&world.eco), config).expect("valid HTTP config");
        Self {
            router: router(state),
            world,
        }
    }

    pub(crate) async fn request(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        // An event stream (the live notifications) never ends on its own: its answer is the
        // status and headers; dropping the body closes it. `stream` reads streams.
        if headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v == "text/event-stream")
        {
            assert_envelope(status, &headers, "");
            return Reply {
                status,
                headers,
                body: Value::Null,
                raw: String::new(),
            };
        }
        let reply = Reply::read(response).await;
        assert_no_secret(&reply.raw, &stored_secrets(self.world.store()).await);
        assert_envelope(reply.status, &reply.headers, &reply.raw);
        reply
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        if_match: Option<u64>,
    ) -> Reply {
        self.request(json_request(method, path, body, token, if_match)).await
    }

    /// `POST path` with a `multipart/form-data` body of `parts`: `(name, file name, bytes)`,
    /// a part with a file name being a file.
    pub(crate) async fn upload(&self, path: &str, token: Option<&str>, parts: &[(&str, Option<&str>, &[u8])]) -> Reply {
        let (content_type, body) = multipart(parts);
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.request(builder.body(Body::from(body)).expect("request")).await
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, None, Some(token), None).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value, token: &str) -> Reply {
        self.send(Method::POST, path, Some(body), Some(token), None).await
    }

    /// A command without a body.
    pub(crate) async fn command(&self, path: &str, token: &str) -> Reply {
        self.send(Method::POST, path, None, Some(token), None).await
    }

    /// `GET path` as the holder of `token`: refused with `problem`.
    pub(crate) async fn get_refused(&self, path: &str, token: &str, problem: Problem) -> Reply {
        let reply = self.get(path, token).await;
        reply.refused(problem);
        reply
    }

    /// A command without a body as the holder of `token`: refused with `problem`.
    pub(crate) async fn command_refused(&self, path: &str, token: &str, problem: Problem) -> Reply {
        let reply = self.command(path, token).await;
        reply.refused(problem);
        reply
    }

    /// `POST path` with `body` as the holder of `token`: 422 `validation_failed`; the failing fields.
    pub(crate) async fn post_invalid(&self, path: &str, body: Value, token: &str) -> Vec<String> {
        self.post(path, body, token).await.refused(INVALID).fields()
    }

    /// `GET path` as the holder of `token`: 422 `validation_failed`; the failing fields.
    pub(crate) async fn get_invalid(&self, path: &str, token: &str) -> Vec<String> {
        self.get(path, token).await.refused(INVALID).fields()
    }

    /// A command without a body as the holder of `token`: 200 with the resource now in `status`;
    /// the answer's body.
    pub(crate) async fn transition(&self, path: &str, token: &str, status: &str) -> Value {
        let reply = self.command(path, token).await;
        let body = reply.ok(StatusCode::OK).clone();
        assert_eq!(body["status"], status, "POST {path}: {}", reply.raw);
        body
    }

    pub(crate) async fn patch(&self, path: &str, body: Value, token: &str, if_match: Option<u64>) -> Reply {
        self.send(Method::PATCH, path, Some(body), Some(token), if_match).await
    }

    /// `method path` (with `body`) without a token: refused with 401 `unauthorized`.
    pub(crate) async fn assert_unauthorized(&self, method: Method, path: &str, body: Option<Value>) {
        let reply = self.send(method.clone(), path, body, None, None).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token: {}",
            reply.raw
        );
        reply.problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }

    /// `GET path` as the holder of `token`: 404 `not_found` (absent, or not theirs to see).
    pub(crate) async fn assert_not_found(&self, path: &str, token: &str) {
        let reply = self.get(path, token).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "GET {path}: {}", reply.raw);
        reply.problem(StatusCode::NOT_FOUND, "not_found");
    }

    /// The contract of the list at `path`: each holder of `parties` lists exactly `id`, the
    /// `outsider` nothing; `?status=` `listed` keeps it and `unlisted` leaves it out (asked by the
    /// first party); an `unknown` status with `limit=0` is 422 on both; no token is 401.
    pub(crate) async fn assert_list_contract(
        &self,
        path: &str,
        id: &str,
        parties: &[&str],
        outsider: &str,
        [listed, unlisted, unknown]: [&str; 3],
    ) {
        for token in parties {
            assert_eq!(self.get(path, token).await.ids(), [id], "GET {path}");
        }
        assert!(
            self.get(path, outsider).await.ids().is_empty(),
            "GET {path} as an outsider"
        );
        let by_status = |status: &str| format!("{path}?status={status}");
        assert_eq!(self.get(&by_status(listed), parties[0]).await.ids(), [id]);
        assert!(self.get(&by_status(unlisted), parties[0]).await.ids().is_empty());
        let invalid = format!("{}&limit=0", by_status(unknown));
        assert_eq!(self.get_invalid(&invalid, parties[0]).await, ["limit", "status"]);
        self.assert_unauthorized(Method::GET, path, None).await;
    }

    /// A verified, active user of `role` and an access token of theirs.
    pub(crate) async fn user(&self, role: Role, label: &str) -> (Person, String) {
        let person = self.world.person(role, label).await;
        let token = self.token(&person);
        (person, token)
    }

    /// A valid access token of `person` (signed like the server does, by the world's clock).
    pub(crate) fn token(&self, person: &Person) -> String {
        access_token(person, self.world.now())
    }

    /// An organization created over the API by the holder of `token`.
    pub(crate) async fn organization(&self, token: &str, name: &str) -> Reply {
        let reply = self
            .post(
                "/api/v2/organizations",
                json!({ "name": name, "organization_type": "incubator" }),
                token,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
        reply
    }

    /// `person` made a `role` member of organization `org` by the holder of `token`.
    pub(crate) async fn add_member(&self, token: &str, org: &str, person: &Person, role: &str) {
        self.post(
            &format!("/api/v2/organizations/{org}/members"),
            json!({ "user_id": person.id().to_string(), "role": role }),
            token,
        )
        .await
        .ok(StatusCode::CREATED);
    }

    /// Program `program` published by the holder of `token`.
    pub(crate) async fn publish(&self, token: &str, program: &str) {
        self.command(&format!("/api/v2/programs/{program}/publish"), token)
            .await
            .ok(StatusCode::OK);
    }

    /// A new entrepreneur with a project named after `label`: (person, token, project id).
    pub(crate) async fn applicant(&self, label: &str) -> (Person, String, String) {
        let (person, token) = self.user(Role::Entrepreneur, label).await;
        let project = self
            .post(
                "/api/v2/projects",
                json!({ "name": format!("Project {label}"), "description": "Something worth funding", "project_type": "startup" }),
                &token,
            )
            .await
            .id();
        (person, token, project)
    }

    /// A draft application of `project` to `program` by the holder of `token`; its id.
    pub(crate) async fn draft(&self, token: &str, program: &str, project: &str) -> String {
        self.post(
            "/api/v2/applications",
            json!({ "program_id": program, "project_id": project }),
            token,
        )
        .await
        .id()
    }

    /// A program body of `organization_id` open now (deadline in 10 days) with `max` seats.
    pub(crate) fn program_body(&self, organization_id: &str, name: &str, max: u32) -> Value {
        program_json(organization_id, name, max, self.world.now())
    }
}

/// The token hashes the store holds (refresh, account and calendar feed tokens): no answer may
/// ever carry one.
/// Read in one unit of work per reply; the suites' stores hold a handful of tokens.
pub(crate) async fn stored_secrets<S: Store>(store: &S) -> Vec<String> {
    let mut tx = store.begin().await.expect("begin");
    let refresh = Repo::<RefreshToken>::list(&mut tx, &RefreshTokenFilter::default(), PageRequest::all())
        .await
        .expect("refresh tokens");
    let account = Repo::<AccountToken>::list(&mut tx, &AccountTokenFilter::default(), PageRequest::all())
        .await
        .expect("account tokens");
    let feeds = Repo::<CalendarFeed>::list(&mut tx, &CalendarFeedFilter::default(), PageRequest::all())
        .await
        .expect("calendar feeds");
    // Ended at once: a PostgreSQL connection goes back to the pool now, not when a rollback
    // gets scheduled.
    tx.commit().await.expect("commit");
    refresh
        .items
        .into_iter()
        .map(|t| t.token_hash)
        .chain(account.items.into_iter().map(|t| t.token_hash))
        .chain(feeds.items.into_iter().map(|f| f.token_hash))
        .collect()
}

/// Fails when a raw answer body carries a password hash (`$argon2…`) or one of `secrets`.
#[track_caller]
pub(crate) fn assert_no_secret(raw: &str, secrets: &[String]) {
    assert!(!raw.contains("$argon2"), "a password hash leaked: {raw}");
    for secret in secrets {
        assert!(
            secret.is_empty() || !raw.contains(secret.as_str()),
            "a stored token hash leaked: {raw}"
        );
    }
}

/// What API.md promises on every response, checked on every answer of the suite: the request id,
/// the response time, the security headers, and problem+json for every error (the readiness
/// probes' 503 is plain JSON by contract).
#[track_caller]
pub(crate) fn assert_envelope(status: StatusCode, headers: &HeaderMap, raw: &str) {
    for name in [
        "x-request-id",
        "x-response-time",
        "strict-transport-security",
        "referrer-policy",
    ] {
        assert!(headers.contains_key(name), "{status} without {name}: {raw}");
    }
    assert_eq!(headers["x-content-type-options"], "nosniff", "{raw}");
    assert_eq!(headers["x-frame-options"], "DENY", "{raw}");
    let readiness = raw.contains("\"checks\"") && status == StatusCode::SERVICE_UNAVAILABLE;
    if (status.is_client_error() || status.is_server_error()) && !readiness {
        assert_eq!(
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{status} is not a problem: {raw}"
        );
    }
}

/// An access token of `person` issued at `now` for 15 minutes, signed with [`SECRET`] like the
/// server signs its own (for suites that run servers of their own, not the `Api` harness).
pub(crate) fn access_token(person: &Person, now: chrono::DateTime<chrono::Utc>) -> String {
    let now = now.timestamp();
    let claims = json!({
        "sub": person.id().to_string(),
        "role": person.user.role.as_str(),
        "security_stamp": person.user.security_stamp,
        "iat": now,
        "exp": now + 900,
        "typ": "access",
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("encode")
}

/// Writes a failed (dead-letter) email for `user` straight into the store, as the delivery of
/// a bounced message leaves it; returns its id.
pub(crate) async fn failed_outbox_message<S: Store>(
    store: &S,
    user: icosistem_core::model::UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> icosistem_core::model::OutboxId {
    use icosistem_core::model::{Meta, OutboxChannel, OutboxMessage, OutboxStatus};
    let message = OutboxMessage {
        id: uuid::Uuid::now_v7().into(),
        channel: OutboxChannel::Email,
        user_id: Some(user),
        recipient: "bounced@example.test".to_owned(),
        kind: "generic".to_owned(),
        subject: "Hello".to_owned(),
        body: "Hello there.".to_owned(),
        data: json!({}),
        status: OutboxStatus::Failed,
        attempts: 1,
        next_attempt_at: now,
        sent_at: None,
        last_error: Some("550 mailbox unavailable".to_owned()),
        meta: Meta::new(now, None),
    };
    let mut tx = store.begin().await.expect("begin");
    Repo::<OutboxMessage>::insert(&mut tx, &message).await.expect("insert");
    tx.commit().await.expect("commit");
    message.id
}

/// A `multipart/form-data` body of `parts` (`(name, file name, bytes)`) and its content type.
pub(crate) fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "icosistem-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match filename {
            Some(file) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// A small PDF (what an upload of a pitch deck carries in tests).
pub(crate) fn pdf_bytes() -> Vec<u8> {
    icosistem_core::testing::cases::pdf("test deck")
}

/// A documented-routes table: the `(path, methods)` of `rows`, then `POST {resource}/{command}`
/// for each command of each `(resource, commands)`.
pub(crate) fn routes(
    rows: &[(&str, &[&'static str])],
    commands: &[(&str, &[&str])],
) -> Vec<(String, Vec<&'static str>)> {
    let plain = rows
        .iter()
        .map(|(path, methods)| ((*path).to_owned(), methods.to_vec()));
    let posts = commands.iter().flat_map(|(resource, names)| {
        names
            .iter()
            .map(move |name| (format!("{resource}/{name}"), vec!["post"]))
    });
    plain.chain(posts).collect()
}

/// A program body of `organization_id` open at `now` (deadline 10 days later) with `max` seats.
pub(crate) fn program_json(
    organization_id: impl Into<Value>,
    name: &str,
    max: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    let organization_id: Value = organization_id.into();
    json!({
        "organization_id": organization_id,
        "name": name,
        "program_type": "acceleration",
        "application_opens_at": (now - chrono::Duration::days(1)).to_rfc3339(),
        "application_deadline": (now + chrono::Duration::days(10)).to_rfc3339(),
        "start_date": (now + chrono::Duration::days(20)).date_naive().to_string(),
        "end_date": (now + chrono::Duration::days(80)).date_naive().to_string(),
        "max_participants": max,
    })
}

/// The `unread` of `conversation` in the body of a list of conversations, if it is listed.
pub(crate) fn unread_of(list: &Value, conversation: &str) -> Option<u64> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["id"] == conversation)
        .and_then(|c| c["unread"].as_u64())
}

/// An `icosistem-server` serving `state` on a free loopback port: its base URL, the sender that
/// stops it, and its task.
pub(crate) async fn spawn_server<S: Store, N: Notifier, C: Clock>(
    state: AppState<S, N, C>,
) -> (String, oneshot::Sender<()>, JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("port 0 binds");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(icosistem_server::run_server(listener, state, async {
        let _ = stopped.await;
    }));
    (base, stop, task)
}
