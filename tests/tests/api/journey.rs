//! One whole journey over a real socket against PostgreSQL: the server's serving function on
//! port 0 over an ecosystem on a fresh database, driven by hyper's client like any client.
//!
//! An admin sets up an organization and its staff; a program is published; two entrepreneurs
//! register, verify their email and log in; their projects apply; reviewers are assigned and
//! score; one is accepted and the other waitlisted (the program has one seat); the accepted one
//! withdraws and the waitlisted one is promoted in the same transaction; the promoted project
//! tracks milestones; then the mentoring: a mentor opens her week, the promoted entrepreneur
//! requests her, she accepts, a session is booked and confirmed, notifications are read, and the
//! audit log shows it all to the admin and to each person their own actions. Documents and
//! messages run through it too: the applicant attaches a pitch deck that the program's staff
//! download; in a blind program the reviewer never receives the deck that names the applicant;
//! and the mentee and the ally write to each other until both have read everything. Every step asserts its status and key fields, and every answer is checked
//! for secrets (no password hash, no stored token hash).
//!
//! Email is real: the ecosystem delivers through the SMTP notifier to an aiosmtpd started for
//! the journey (`icosistem_delivery::testing`), and each newcomer verifies with the token of
//! the link in the email that arrived, as a person would.
//!
//! Skipped (one line on stderr) without `DATABASE_URL` or without python3's `aiosmtpd`, failed
//! instead under `CI=true` or `ICOSISTEM_REQUIRE_SERVICES=1` — the rule of `TestStore::fresh`.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use icosistem_core::model::UserId;
use icosistem_core::model::secret::SecretString;
use icosistem_core::testing::cases::pdf;
use icosistem_core::testing::fixtures::{PASSWORD, World};
use icosistem_delivery::testing::{SmtpSink, smtp_sink_available, unfold};
use icosistem_delivery::{SmtpConfig, SmtpNotifier};
use icosistem_http::{AppState, HttpConfig};
use icosistem_store_postgres::testing::TestStore;
use serde_json::{Value, json};

use crate::common::{SECRET, assert_no_secret, program_json, spawn_server, stored_secrets, unread_of};

/// A strong password of the people who register in the journey.
const NEW_PASSWORD: &str = "Seven-Long-Words-42";

/// The journey's world: PostgreSQL, email over SMTP.
type MailWorld = World<TestStore, Arc<SmtpNotifier>>;

/// The client side: base URL, hyper client, the store to check answers against, and the SMTP
/// server the emails arrive at.
struct Api {
    base: String,
    http: Client<HttpConnector, Full<Bytes>>,
    world: Arc<MailWorld>,
    mail: SmtpSink,
}

/// The public URL the emails' links point to.
const APP_URL: &str = "https://app.icosistem.test";

/// The SMTP notifier of `sink` (plain SMTP on loopback).
fn smtp_notifier(sink: &SmtpSink) -> SmtpNotifier {
    let port = sink.port().to_string();
    let vars = [
        ("MAIL_SERVER", "127.0.0.1"),
        ("MAIL_PORT", port.as_str()),
        ("MAIL_DEFAULT_SENDER", "Icosistem <no-reply@icosistem.test>"),
        ("ICOSISTEM_PUBLIC_URL", APP_URL),
    ];
    let config = SmtpConfig::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
        .expect("valid")
        .expect("MAIL_SERVER set");
    SmtpNotifier::new(&config).expect("the notifier builds")
}

/// The token of the verification link in `mail` (the text part's
/// `<APP_URL>/verify-email?token=…`), percent-decoded.
fn link_token(mail: &str) -> String {
    let prefix = format!("{APP_URL}/verify-email?token=");
    let unfolded = unfold(mail);
    let start = unfolded.find(&prefix).expect("a verification link") + prefix.len();
    let encoded: String = unfolded[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_.~%".contains(*c))
        .collect();
    let mut out = Vec::new();
    let bytes = encoded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("a percent escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8 token")
}

/// An answer: status and JSON body (`Null` when empty).
struct Answer {
    status: StatusCode,
    body: Value,
    raw: String,
}

impl Answer {
    /// The body, after asserting the status.
    #[track_caller]
    fn expect(&self, status: StatusCode, step: &str) -> &Value {
        assert_eq!(self.status, status, "{step}: {}", self.raw);
        &self.body
    }

    /// Asserts a problem answer with `code`.
    #[track_caller]
    fn problem(&self, status: StatusCode, code: &str, step: &str) {
        assert_eq!(self.status, status, "{step}: {}", self.raw);
        assert_eq!(self.body["code"], code, "{step}: {}", self.raw);
    }

    #[track_caller]
    fn id(&self) -> String {
        self.body["id"].as_str().expect("an id").to_owned()
    }
}

impl Api {
    /// A request to `path` with the caller's bearer token, if any.
    fn request(&self, method: Method, path: &str, token: Option<&str>) -> hyper::http::request::Builder {
        let req = Request::builder().method(method).uri(format!("{}{path}", self.base));
        match token {
            Some(token) => req.header("authorization", format!("Bearer {token}")),
            None => req,
        }
    }

    /// Sends `req` with `body`: the status, the headers and the whole body.
    async fn exchange(
        &self,
        req: hyper::http::request::Builder,
        body: Vec<u8>,
    ) -> (StatusCode, hyper::HeaderMap, Bytes) {
        let res = self
            .http
            .request(req.body(Full::new(Bytes::from(body))).expect("a valid request"))
            .await
            .expect("the server answers");
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.expect("a body").to_bytes();
        (parts.status, parts.headers, bytes)
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let req = self.request(method, path, token);
        match body {
            Some(json) => {
                let req = req.header("content-type", "application/json");
                self.answer(req, json.to_string().into_bytes()).await
            }
            None => self.answer(req, Vec::new()).await,
        }
    }

    /// `POST path` with a `multipart/form-data` body of `parts` (a document upload).
    async fn upload(&self, path: &str, token: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Answer {
        let (content_type, body) = crate::common::multipart(parts);
        let req = self
            .request(Method::POST, path, Some(token))
            .header("content-type", content_type);
        self.answer(req, body).await
    }

    /// A download: the status, headers and bytes of `GET path` (not JSON).
    async fn download(&self, path: &str, token: &str) -> (StatusCode, hyper::HeaderMap, Bytes) {
        self.exchange(self.request(Method::GET, path, Some(token)), Vec::new())
            .await
    }

    /// Sends `req` and reads a JSON answer.
    async fn answer(&self, req: hyper::http::request::Builder, body: Vec<u8>) -> Answer {
        let (status, _, bytes) = self.exchange(req, body).await;
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        // The same guard as the in-process suite's: no answer carries a secret.
        assert_no_secret(&raw, &stored_secrets(self.world.store()).await);
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status, body, raw }
    }

    async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// A command without a body.
    async fn command(&self, path: &str, token: &str) -> Answer {
        self.call(Method::POST, path, Some(token), None).await
    }

    async fn login(&self, email: &str, password: &str) -> Answer {
        self.post(
            "/api/v2/auth/login",
            None,
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Registers `role` as `first last`, checks that login waits for the verification,
    /// verifies with the token mailed (read from the outbox) and logs in: (user id, access
    /// token, refresh token).
    async fn newcomer(&self, first: &str, last: &str, role: &str) -> (String, String, String) {
        let email = format!("{}.{}@example.test", first.to_lowercase(), last.to_lowercase());
        let registered = self
            .post(
                "/api/v2/auth/register",
                None,
                json!({ "email": email, "password": NEW_PASSWORD, "first_name": first, "last_name": last, "role": role }),
            )
            .await;
        let user = registered.expect(StatusCode::CREATED, "register");
        assert_eq!(user["email"], email.as_str());
        assert_eq!(user["role"], role);
        assert_eq!(user["status"], "pending_verification");
        let id = registered.id();
        self.login(&email, NEW_PASSWORD).await.problem(
            StatusCode::FORBIDDEN,
            "email_not_verified",
            "login before verification",
        );
        // A delivery round (what the worker does every few seconds) sends the verification
        // email to the SMTP server; it arrives once, with both parts, in the user's language.
        self.world.eco.deliver_outbox(100).await.expect("outbox delivered");
        let to = format!("To: {email}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mails = loop {
            let mails: Vec<String> = self
                .mail
                .received()
                .into_iter()
                .filter(|m| m.contains(&to) && m.contains("/verify-email?token="))
                .collect();
            if !mails.is_empty() || tokio::time::Instant::now() >= deadline {
                break mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(mails.len(), 1, "one verification email to {email}");
        let mail = &mails[0];
        // In the user's language (the platform's default, `es`, for a new account).
        let subject = match user["language"].as_str() {
            Some("en") => "Subject: Verify your email",
            _ => "Subject: Verifica tu correo",
        };
        assert!(mail.contains(subject), "{mail}");
        assert!(mail.contains("text/plain") && mail.contains("text/html"), "{mail}");
        let token = link_token(mail);
        self.post("/api/v2/auth/verify-email", None, json!({ "token": token }))
            .await
            .expect(StatusCode::NO_CONTENT, "verify email");
        let login = self.login(&email, NEW_PASSWORD).await;
        let body = login.expect(StatusCode::OK, "login");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["user"]["status"], "active");
        (
            id,
            body["access_token"].as_str().expect("access").to_owned(),
            body["refresh_token"].as_str().expect("refresh").to_owned(),
        )
    }
}

// Multi-threaded like the store's own tests: dropping the last `TestStore` blocks its thread
// until the pool closes, and the pool waits for connections this runtime must release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selection_journey_over_a_socket_on_postgres() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    if !smtp_sink_available() {
        return;
    }
    let mail = SmtpSink::start().await;
    let world = Arc::new(World::with_notifier(store, Arc::new(smtp_notifier(&mail))).await);
    let state = AppState::new(
        Arc::clone(&world.eco),
        HttpConfig::new(SecretString::new(SECRET)).with_rate_limits(crate::common::test_rate_limits()),
    )
    .expect("valid HTTP config");
    let (base, stop, server) = spawn_server(state).await;
    let api = Api {
        base,
        http: Client::builder(TokioExecutor::new()).build_http(),
        world: Arc::clone(&world),
        mail,
    };

    // 1. The probes.
    assert_eq!(
        api.call(Method::GET, "/health/ready", None, None)
            .await
            .expect(StatusCode::OK, "ready")["status"],
        "ready"
    );

    // 2. The admin (created in the store by the world, as `ensure_admin` would) logs in.
    let login = api.login(world.admin.email(), PASSWORD).await;
    let admin = login.expect(StatusCode::OK, "admin login")["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    let me = api.get("/api/v2/users/me", &admin).await;
    assert_eq!(me.expect(StatusCode::OK, "admin me")["role"], "admin");

    // 3. Staff register; the admin creates and activates the organization and staffs it.
    let (coordinator_id, coordinator, _) = api.newcomer("Carla", "Coordina", "ally").await;
    let (reviewer_id, reviewer, _) = api.newcomer("Rita", "Revisora", "ally").await;
    let org = api
        .post(
            "/api/v2/organizations",
            Some(&admin),
            json!({ "name": "Hub Andino", "organization_type": "accelerator" }),
        )
        .await;
    let body = org.expect(StatusCode::CREATED, "create organization");
    assert_eq!(body["slug"], "hub-andino");
    assert_eq!(body["status"], "pending");
    let org = org.id();
    let activated = api
        .command(&format!("/api/v2/organizations/{org}/activate"), &admin)
        .await;
    assert_eq!(
        activated.expect(StatusCode::OK, "activate organization")["status"],
        "active"
    );
    for (user, role) in [(&coordinator_id, "coordinator"), (&reviewer_id, "reviewer")] {
        let member = api
            .post(
                &format!("/api/v2/organizations/{org}/members"),
                Some(&admin),
                json!({ "user_id": user, "role": role }),
            )
            .await;
        assert_eq!(member.expect(StatusCode::CREATED, "add member")["role"], role);
    }
    let members = api.get(&format!("/api/v2/organizations/{org}/members"), &admin).await;
    // The admin created it, so the admin is its owner, plus the two staff.
    assert_eq!(
        members.expect(StatusCode::OK, "members")["items"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // 4. The coordinator creates a one-seat program and publishes it.
    let now = world.now();
    let program = api
        .post(
            "/api/v2/programs",
            Some(&coordinator),
            program_json(org.as_str(), "Cohorte 2030", 1, now),
        )
        .await;
    let body = program.expect(StatusCode::CREATED, "create program");
    assert_eq!(
        (body["status"].as_str(), body["min_reviews"].as_u64()),
        (Some("draft"), Some(1))
    );
    let program = program.id();
    let published = api
        .command(&format!("/api/v2/programs/{program}/publish"), &coordinator)
        .await;
    assert_eq!(published.expect(StatusCode::OK, "publish")["status"], "published");
    let open = api.get("/api/v2/programs?accepting=true", &admin).await;
    assert_eq!(
        open.expect(StatusCode::OK, "accepting programs")["items"][0]["id"],
        program.as_str()
    );

    // 5. Two entrepreneurs register, verify, log in and create projects.
    let (ana_id, ana, _) = api.newcomer("Ana", "Emprende", "entrepreneur").await;
    let (beto_id, beto, beto_refresh) = api.newcomer("Beto", "Funda", "entrepreneur").await;
    let mut projects = Vec::new();
    for (token, name) in [(&ana, "Cafe Verde"), (&beto, "Agua Clara")] {
        let project = api
            .post(
                "/api/v2/projects",
                Some(token),
                json!({ "name": name, "description": "Something worth funding", "project_type": "startup" }),
            )
            .await;
        let body = project.expect(StatusCode::CREATED, "create project");
        assert_eq!(
            (body["status"].as_str(), body["stage"].as_str()),
            (Some("draft"), Some("idea"))
        );
        let id = project.id();
        let active = api.command(&format!("/api/v2/projects/{id}/activate"), token).await;
        assert_eq!(active.expect(StatusCode::OK, "activate project")["status"], "active");
        projects.push(id);
    }

    // 6. Drafts, edited under If-Match, submitted; Ana's with her pitch deck attached.
    let deck = pdf("Cafe Verde pitch");
    let mut deck_id = None;
    let mut applications = Vec::new();
    for (token, project) in [(&ana, &projects[0]), (&beto, &projects[1])] {
        let draft = api
            .post(
                "/api/v2/applications",
                Some(token),
                json!({ "program_id": program, "project_id": project }),
            )
            .await;
        let body = draft.expect(StatusCode::CREATED, "draft");
        assert_eq!(body["status"], "draft");
        let id = draft.id();
        let version = body["version"].as_u64().expect("version");
        let mut req = Request::builder()
            .method(Method::PATCH)
            .uri(format!("{}/api/v2/applications/{id}", api.base))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("if-match", format!("\"{version}\""));
        req = req.header("x-request-id", "journey-edit");
        let res = api
            .http
            .request(
                req.body(Full::new(Bytes::from(
                    json!({ "answers": { "why": "growth" } }).to_string(),
                )))
                .expect("request"),
            )
            .await
            .expect("answers");
        assert_eq!(res.status(), StatusCode::OK, "edit the draft under If-Match");
        assert_eq!(res.headers()["x-request-id"], "journey-edit");
        // Ana attaches her pitch deck while she prepares the application, for the program's
        // staff to read (`organization`).
        if project == &projects[0] {
            let uploaded = api
                .upload(
                    &format!("/api/v2/applications/{id}/documents"),
                    token,
                    &deck_form("Pitch deck Cafe Verde", "organization", false, &deck),
                )
                .await;
            let body = uploaded.expect(StatusCode::CREATED, "upload the pitch deck");
            assert_eq!(
                (
                    body["parent_type"].as_str(),
                    body["document_type"].as_str(),
                    body["size"].as_u64()
                ),
                (Some("application"), Some("pitch_deck"), Some(deck.len() as u64))
            );
            assert_eq!(body["sha256"], hex_sha256(&deck).as_str());
            deck_id = Some(uploaded.id());
        }
        let submitted = api.command(&format!("/api/v2/applications/{id}/submit"), token).await;
        let body = submitted.expect(StatusCode::OK, "submit");
        assert_eq!(body["status"], "submitted");
        assert_eq!(body["answers"], json!({ "why": "growth" }));
        assert!(body["submitted_at"].is_string());
        applications.push(id);
    }
    let (ana_app, beto_app) = (applications[0].clone(), applications[1].clone());
    let staff_view = api
        .get(&format!("/api/v2/applications?program_id={program}"), &coordinator)
        .await;
    assert_eq!(
        staff_view.expect(StatusCode::OK, "program's applications")["items"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // 6b. The coordinator (the program's staff) finds the deck on the application and downloads
    // it: the same bytes, as an attachment the browser must not sniff, its SHA-256 as ETag.
    let deck_id = deck_id.expect("Ana uploaded her deck");
    let attached = api
        .get(&format!("/api/v2/applications/{ana_app}/documents"), &coordinator)
        .await;
    assert_eq!(
        attached.expect(StatusCode::OK, "the application's documents")["items"][0]["id"],
        deck_id.as_str()
    );
    let (status, headers, bytes) = api
        .download(&format!("/api/v2/documents/{deck_id}/content"), &coordinator)
        .await;
    assert_eq!(status, StatusCode::OK, "staff download the deck");
    assert_eq!(bytes.as_ref(), deck.as_slice());
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["etag"], format!("\"{}\"", hex_sha256(&deck)).as_str());
    let disposition = headers["content-disposition"].to_str().expect("ascii");
    assert!(disposition.starts_with("attachment"), "{disposition}");

    // 7. Reviewers assigned; the applications go under review; the reviewer scores.
    for (app, score) in [(&ana_app, 90), (&beto_app, 70)] {
        let assigned = api
            .post(
                &format!("/api/v2/applications/{app}/reviewers"),
                Some(&coordinator),
                json!({ "reviewer_id": reviewer_id }),
            )
            .await;
        assert_eq!(
            assigned.expect(StatusCode::CREATED, "assign reviewer")["reviewer_id"],
            reviewer_id.as_str()
        );
        let seen = api.get(&format!("/api/v2/applications/{app}"), &reviewer).await;
        assert_eq!(
            seen.expect(StatusCode::OK, "reviewer sees it")["status"],
            "under_review"
        );
        let review = api
            .post(
                &format!("/api/v2/applications/{app}/reviews"),
                Some(&reviewer),
                json!({ "score": score, "comment": "Clear plan" }),
            )
            .await;
        let body = review.expect(StatusCode::CREATED, "review");
        assert_eq!(
            (body["score"].as_u64(), body["conflict_declared"].as_bool()),
            (Some(score), Some(false))
        );
        let reviews = api
            .get(&format!("/api/v2/applications/{app}/reviews"), &coordinator)
            .await;
        assert_eq!(
            reviews.expect(StatusCode::OK, "reviews")["items"][0]["score"].as_u64(),
            Some(score)
        );
    }

    // 7b. A blind program of the same organization: the reviewer never receives a document that
    // carries the applicant's identity, only what the applicant marked blind-safe.
    blind_documents(&api, &coordinator, &org, &reviewer_id, &reviewer, &ana, &projects[0]).await;

    // 8. One seat: Ana is accepted, Beto does not fit and is waitlisted.
    let accepted = api
        .command(&format!("/api/v2/applications/{ana_app}/accept"), &coordinator)
        .await;
    let body = accepted.expect(StatusCode::OK, "accept");
    assert_eq!(body["status"], "accepted");
    assert!(body["decided_at"].is_string());
    api.command(&format!("/api/v2/applications/{beto_app}/accept"), &coordinator)
        .await
        .problem(StatusCode::CONFLICT, "program_full", "accept over capacity");
    let waitlisted = api
        .command(&format!("/api/v2/applications/{beto_app}/waitlist"), &coordinator)
        .await;
    assert_eq!(waitlisted.expect(StatusCode::OK, "waitlist")["status"], "waitlisted");
    let enrollments = api
        .get(&format!("/api/v2/programs/{program}/enrollments"), &coordinator)
        .await;
    let body = enrollments.expect(StatusCode::OK, "enrollments");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["items"][0]["entrepreneur_id"], ana_id.as_str());
    assert_eq!(body["items"][0]["status"], "enrolled");

    // 9. Ana withdraws before the start: Beto is promoted in the same transaction.
    let withdrawn = api
        .command(&format!("/api/v2/applications/{ana_app}/withdraw"), &ana)
        .await;
    assert_eq!(withdrawn.expect(StatusCode::OK, "withdraw")["status"], "withdrawn");
    let promoted = api.get(&format!("/api/v2/applications/{beto_app}"), &beto).await;
    assert_eq!(promoted.expect(StatusCode::OK, "promoted")["status"], "accepted");
    let enrollments = api
        .get(&format!("/api/v2/programs/{program}/enrollments"), &admin)
        .await;
    let body = enrollments.expect(StatusCode::OK, "enrollments after the promotion");
    let enrolled: Vec<&Value> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["status"] == "enrolled")
        .collect();
    assert_eq!(enrolled.len(), 1, "{body}");
    assert_eq!(enrolled[0]["entrepreneur_id"], beto_id.as_str());
    let beto_uuid: uuid::Uuid = beto_id.parse().expect("uuid");
    assert!(
        !world
            .outbox(UserId::from(beto_uuid), "application_promoted")
            .await
            .is_empty()
            || !world
                .notifications(UserId::from(beto_uuid), "application_promoted")
                .await
                .is_empty(),
        "the promoted applicant is notified"
    );

    // 10. The promoted project tracks milestones; progress follows them.
    let beto_project = &projects[1];
    let target = (now + chrono::Duration::days(30)).date_naive().to_string();
    let milestone = api
        .post(
            &format!("/api/v2/projects/{beto_project}/milestones"),
            Some(&beto),
            json!({ "title": "Pilot in two towns", "target_date": target }),
        )
        .await;
    let body = milestone.expect(StatusCode::CREATED, "milestone");
    assert_eq!(
        (body["status"].as_str(), body["priority"].as_str()),
        (Some("pending"), Some("medium"))
    );
    let milestone = milestone.id();
    let started = api
        .command(&format!("/api/v2/milestones/{milestone}/start"), &beto)
        .await;
    assert_eq!(
        started.expect(StatusCode::OK, "start milestone")["status"],
        "in_progress"
    );
    let progressed = api
        .post(
            &format!("/api/v2/milestones/{milestone}/progress"),
            Some(&beto),
            json!({ "progress": 60 }),
        )
        .await;
    assert_eq!(progressed.expect(StatusCode::OK, "progress")["progress"], 60);
    let completed = api
        .command(&format!("/api/v2/milestones/{milestone}/complete"), &beto)
        .await;
    let body = completed.expect(StatusCode::OK, "complete milestone");
    assert_eq!(body["status"], "completed");
    assert!(body["completed_on"].is_string());
    let project = api.get(&format!("/api/v2/projects/{beto_project}"), &beto).await;
    let body = project.expect(StatusCode::OK, "project");
    assert_eq!(
        (body["milestones_total"].as_u64(), body["milestones_completed"].as_u64()),
        (Some(1), Some(1))
    );
    // Stage `idea` is worth 5, plus 10 × all milestones completed.
    assert_eq!(body["progress"], 15);
    let mine = api.get("/api/v2/milestones?status=completed", &beto).await;
    assert_eq!(
        mine.expect(StatusCode::OK, "my milestones")["items"][0]["id"],
        milestone.as_str()
    );

    // 10b. Beto makes his project public: Ana, another entrepreneur, reads it and finds it in
    // the public list (docs/domain.md §2: `is_public` projects are readable by every signed-in role).
    let version = body["version"].as_u64().expect("version");
    let opened = api
        .call(
            Method::PATCH,
            &format!("/api/v2/projects/{beto_project}"),
            Some(&beto),
            Some(json!({ "is_public": true, "version": version })),
        )
        .await;
    assert_eq!(opened.expect(StatusCode::OK, "make public")["is_public"], true);
    let seen = api.get(&format!("/api/v2/projects/{beto_project}"), &ana).await;
    assert_eq!(
        seen.expect(StatusCode::OK, "another entrepreneur reads a public project")["name"],
        "Agua Clara"
    );
    let listed = api.get("/api/v2/projects?is_public=true", &ana).await;
    let listed = listed.expect(StatusCode::OK, "public projects")["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert!(listed.contains(beto_project), "the public list holds Beto's project");
    assert!(!listed.contains(&projects[0]), "Ana's private project is not listed");

    // 11. Beto's session: the refresh token rotates; the old one is refused; logout.
    let refreshed = api
        .post("/api/v2/auth/refresh", None, json!({ "refresh_token": beto_refresh }))
        .await;
    let new_refresh = refreshed.expect(StatusCode::OK, "refresh")["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_ne!(new_refresh, beto_refresh);
    api.post("/api/v2/auth/refresh", None, json!({ "refresh_token": beto_refresh }))
        .await
        .problem(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "reuse of a rotated refresh token",
        );

    // 12. The mentoring part: mentorship, session, notifications, audit events.
    let (ally_id, ally) = mentoring_tail(&api, &admin, &beto, &beto_id, &ana_app).await;

    // 13. Ally and mentee write to each other; unread counts go to zero once read.
    messaging_tail(&api, &beto, &beto_id, &ally, &ally_id).await;

    api.post("/api/v2/auth/logout", None, json!({ "refresh_token": new_refresh }))
        .await
        .expect(StatusCode::NO_CONTENT, "logout");

    stop.send(()).expect("the server is running");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("graceful shutdown")
        .expect("no panic")
        .expect("a clean stop");
}

/// The journey's tail (mentorships, allies, sessions, notifications, audit events): a mentor
/// registers and opens her week, the promoted entrepreneur requests her, she accepts, a session
/// is booked and confirmed, the entrepreneur reads their notifications, and the audit log shows
/// the selection and the mentoring — everything as seen by whom it concerns.
async fn mentoring_tail(
    api: &Api,
    admin: &str,
    entrepreneur: &str,
    entrepreneur_id: &str,
    application: &str,
) -> (String, String) {
    let now = api.world.now();

    // The mentor: registered, verified, available every day 08:00–18:00 UTC.
    let (ally_id, ally, _) = api.newcomer("Mara", "Mentora", "ally").await;
    let slots: Vec<Value> = (0..7)
        .map(|day| json!({ "weekday": day, "start": "08:00", "end": "18:00" }))
        .collect();
    let availability = api
        .call(
            Method::PUT,
            "/api/v2/allies/me/availability",
            Some(&ally),
            Some(json!({ "timezone": "UTC", "slots": slots })),
        )
        .await;
    availability.expect(StatusCode::OK, "availability");
    let directory = api.get("/api/v2/allies?available=true", entrepreneur).await;
    let body = directory.expect(StatusCode::OK, "ally directory");
    assert!(
        body["items"].as_array().is_some_and(|items| items
            .iter()
            .any(|a| a["id"] == ally_id.as_str() || a["user_id"] == ally_id.as_str())),
        "{body}"
    );

    // Mentorship: requested by the entrepreneur, accepted by the ally.
    let requested = api
        .post(
            "/api/v2/mentorships",
            Some(entrepreneur),
            json!({ "ally_id": ally_id, "message": "Help with the pilot", "areas": ["operations"] }),
        )
        .await;
    let body = requested.expect(StatusCode::CREATED, "request mentorship");
    assert_eq!(body["status"], "requested");
    let mentorship = requested.id();
    let accepted = api
        .command(&format!("/api/v2/mentorships/{mentorship}/accept"), &ally)
        .await;
    assert_eq!(accepted.expect(StatusCode::OK, "accept mentorship")["status"], "active");
    let mine = api.get("/api/v2/mentorships", entrepreneur).await;
    assert_eq!(
        mine.expect(StatusCode::OK, "my mentorships")["items"][0]["id"],
        mentorship.as_str()
    );

    // A session two days ahead, inside the ally's hours; confirmed by the ally.
    let starts_at = (now + chrono::Duration::days(2))
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .expect("a time")
        .and_utc();
    let booked = api
        .post(
            &format!("/api/v2/mentorships/{mentorship}/sessions"),
            Some(entrepreneur),
            json!({ "starts_at": starts_at.to_rfc3339(), "duration_minutes": 60, "agenda": "Pilot metrics" }),
        )
        .await;
    let body = booked.expect(StatusCode::CREATED, "book session");
    assert_eq!(body["status"], "scheduled");
    let session = booked.id();
    let confirmed = api.command(&format!("/api/v2/sessions/{session}/confirm"), &ally).await;
    assert_eq!(
        confirmed.expect(StatusCode::OK, "confirm session")["status"],
        "confirmed"
    );

    // Notifications: the entrepreneur's unread ones, one read, then all.
    let unread = api.get("/api/v2/notifications?status=unread", entrepreneur).await;
    let body = unread.expect(StatusCode::OK, "unread notifications");
    let items = body["items"].as_array().expect("items");
    assert!(!items.is_empty(), "{body}");
    assert!(items.iter().all(|n| n["status"] == "unread"), "{body}");
    assert!(
        items.iter().any(|n| n["kind"] == "mentorship_accepted"),
        "the entrepreneur hears of the accept: {body}"
    );
    let first = items[0]["id"].as_str().expect("id").to_owned();
    let read = api
        .command(&format!("/api/v2/notifications/{first}/read"), entrepreneur)
        .await;
    assert_eq!(read.expect(StatusCode::OK, "read one")["status"], "read");
    let all = api.command("/api/v2/notifications/read-all", entrepreneur).await;
    assert_eq!(
        all.expect(StatusCode::OK, "read all")["updated"].as_u64(),
        Some(items.len() as u64 - 1)
    );
    let left = api.get("/api/v2/notifications?status=unread", entrepreneur).await;
    assert_eq!(left.expect(StatusCode::OK, "none unread")["items"], json!([]));

    // Audit: the admin sees the selection of the application and the mentoring, filtered by
    // target and action; the entrepreneur and the ally only their own actions.
    let actions_of = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|e| e["action"].as_str().map(str::to_owned))
            .collect()
    };
    let events = api
        .get(&format!("/api/v2/audit-events?target_id={application}"), admin)
        .await;
    let body = events.expect(StatusCode::OK, "audit of the application");
    let actions = actions_of(body);
    for action in ["application.submit", "application.accept", "application.withdraw"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
    assert!(
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["target_id"] == application),
        "{body}"
    );
    let events = api
        .get(&format!("/api/v2/audit-events?target_id={mentorship}"), admin)
        .await;
    let actions = actions_of(events.expect(StatusCode::OK, "audit of the mentorship"));
    for action in ["mentorship.request", "mentorship.accept"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
    let accepts = api
        .get(
            &format!("/api/v2/audit-events?target_id={mentorship}&action=mentorship.accept"),
            admin,
        )
        .await;
    let body = accepts.expect(StatusCode::OK, "the mentorship's accept");
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["actor_id"], ally_id.as_str());
    assert_eq!(items[0]["target_kind"], "mentorship");
    let booking = api
        .get(
            &format!("/api/v2/audit-events?action=session.book&target_id={session}"),
            admin,
        )
        .await;
    let body = booking.expect(StatusCode::OK, "the session's booking");
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["actor_id"], entrepreneur_id);

    let own = api.get("/api/v2/audit-events", entrepreneur).await;
    let body = own.expect(StatusCode::OK, "own audit events");
    let items = body["items"].as_array().expect("items");
    assert!(items.iter().all(|e| e["actor_id"] == entrepreneur_id), "{body}");
    let actions = actions_of(body);
    for action in ["mentorship.request", "session.book"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
    // Asking for someone else's actions still answers only one's own.
    let theirs = api
        .get(&format!("/api/v2/audit-events?actor_id={ally_id}"), entrepreneur)
        .await;
    let body = theirs.expect(StatusCode::OK, "someone else's actions");
    assert!(
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["actor_id"] == entrepreneur_id),
        "{body}"
    );
    let ally_own = api.get("/api/v2/audit-events", &ally).await;
    let body = ally_own.expect(StatusCode::OK, "an ally reads their own actions");
    let actions = actions_of(body);
    assert!(actions.iter().any(|a| a == "mentorship.accept"), "{actions:?}");
    assert!(
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["actor_id"] == ally_id.as_str()),
        "{body}"
    );
    (ally_id, ally)
}

/// The upload form of a pitch deck (`deck.pdf`) titled `title` at `access`.
fn deck_form<'a>(
    title: &'a str,
    access: &'a str,
    blind_safe: bool,
    deck: &'a [u8],
) -> Vec<(&'a str, Option<&'a str>, &'a [u8])> {
    vec![
        ("title", None, title.as_bytes()),
        ("document_type", None, b"pitch_deck"),
        ("access", None, access.as_bytes()),
        ("blind_safe", None, if blind_safe { b"true" } else { b"false" }),
        ("file", Some("deck.pdf"), deck),
    ]
}

/// The lowercase hex SHA-256 of `bytes`, as the API reports a document's content.
fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A blind program of `org`: Ana applies with `project`, attaching a deck that names her and an
/// anonymous one marked blind-safe; the reviewer assigned to the application sees and downloads
/// only the anonymous one, and the other answers 404 as if it did not exist (docs/domain.md §6).
async fn blind_documents(
    api: &Api,
    coordinator: &str,
    org: &str,
    reviewer_id: &str,
    reviewer: &str,
    applicant: &str,
    project: &str,
) {
    let mut body = program_json(org, "Cohorte Ciega 2030", 5, api.world.now());
    body["blind_review"] = json!(true);
    let program = api.post("/api/v2/programs", Some(coordinator), body).await;
    assert_eq!(
        program.expect(StatusCode::CREATED, "create the blind program")["blind_review"],
        true
    );
    let program = program.id();
    api.command(&format!("/api/v2/programs/{program}/publish"), coordinator)
        .await
        .expect(StatusCode::OK, "publish the blind program");
    let draft = api
        .post(
            "/api/v2/applications",
            Some(applicant),
            json!({ "program_id": program, "project_id": project }),
        )
        .await;
    draft.expect(StatusCode::CREATED, "draft to the blind program");
    let application = draft.id();
    let documents = format!("/api/v2/applications/{application}/documents");
    let (named, anonymous) = (pdf("Ana Emprende, Cafe Verde"), pdf("an anonymous deck"));
    let named = api
        .upload(
            &documents,
            applicant,
            &deck_form("Deck with our team", "organization", false, &named),
        )
        .await;
    named.expect(StatusCode::CREATED, "upload the identity-bearing deck");
    let anonymous = api
        .upload(
            &documents,
            applicant,
            &deck_form("Anonymous deck", "organization", true, &anonymous),
        )
        .await;
    assert_eq!(
        anonymous.expect(StatusCode::CREATED, "upload the blind-safe deck")["blind_safe"],
        true
    );
    api.command(&format!("/api/v2/applications/{application}/submit"), applicant)
        .await
        .expect(StatusCode::OK, "submit to the blind program");
    api.post(
        &format!("/api/v2/applications/{application}/reviewers"),
        Some(coordinator),
        json!({ "reviewer_id": reviewer_id }),
    )
    .await
    .expect(StatusCode::CREATED, "assign the reviewer");

    let listed = api.get(&documents, reviewer).await;
    let ids: Vec<&str> = listed.expect(StatusCode::OK, "the reviewer lists the documents")["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(ids, [anonymous.id().as_str()], "only the blind-safe deck is listed");
    let (status, _, _) = api
        .download(&format!("/api/v2/documents/{}/content", named.id()), reviewer)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the identity-bearing deck is not the reviewer's"
    );
    api.get(&format!("/api/v2/documents/{}", named.id()), reviewer)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found", "its metadata neither");
    let (status, _, bytes) = api
        .download(&format!("/api/v2/documents/{}/content", anonymous.id()), reviewer)
        .await;
    assert_eq!(status, StatusCode::OK, "the blind-safe deck is");
    assert_eq!(bytes.as_ref(), pdf("an anonymous deck").as_slice());
}

/// The mentee opens the conversation with their ally and writes twice; the ally sees two
/// unread, reads and answers; each side's unread count is zero once they read.
async fn messaging_tail(api: &Api, mentee: &str, mentee_id: &str, ally: &str, ally_id: &str) {
    let opened = api
        .post("/api/v2/conversations", Some(mentee), json!({ "user_id": ally_id }))
        .await;
    let body = opened.expect(StatusCode::OK, "the mentee opens the conversation");
    assert_eq!(body["kind"], "direct");
    let conversation = opened.id();
    // The ally opening it finds the same one: one conversation per pair.
    let again = api
        .post("/api/v2/conversations", Some(ally), json!({ "user_id": mentee_id }))
        .await;
    assert_eq!(
        again.expect(StatusCode::OK, "the ally opens it")["id"],
        conversation.as_str()
    );
    let messages = format!("/api/v2/conversations/{conversation}/messages");
    for text in ["Thanks for accepting!", "I uploaded our deck to the application."] {
        let sent = api.post(&messages, Some(mentee), json!({ "body": text })).await;
        assert_eq!(
            sent.expect(StatusCode::CREATED, "the mentee writes")["sender_id"],
            mentee_id
        );
    }
    assert_eq!(unread_in(api, ally, &conversation).await, 2, "the ally has two unread");
    assert_eq!(
        unread_in(api, mentee, &conversation).await,
        0,
        "one's own messages are read"
    );
    let page = api.get(&messages, ally).await;
    let bodies: Vec<&str> = page.expect(StatusCode::OK, "the ally reads the messages")["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(
        bodies,
        ["I uploaded our deck to the application.", "Thanks for accepting!"],
        "newest first"
    );
    let read = api
        .command(&format!("/api/v2/conversations/{conversation}/read"), ally)
        .await;
    assert_eq!(read.expect(StatusCode::OK, "the ally marks it read")["unread"], 0);
    assert_eq!(unread_in(api, ally, &conversation).await, 0);
    api.post(
        &messages,
        Some(ally),
        json!({ "body": "Great, see you on the session." }),
    )
    .await
    .expect(StatusCode::CREATED, "the ally answers");
    assert_eq!(
        unread_in(api, mentee, &conversation).await,
        1,
        "the mentee has the answer unread"
    );
    api.command(&format!("/api/v2/conversations/{conversation}/read"), mentee)
        .await
        .expect(StatusCode::OK, "the mentee marks it read");
    assert_eq!(unread_in(api, mentee, &conversation).await, 0);
}

/// The `unread` count of `conversation` in the caller's list of conversations.
async fn unread_in(api: &Api, token: &str, conversation: &str) -> u64 {
    let list = api.get("/api/v2/conversations", token).await;
    unread_of(list.expect(StatusCode::OK, "my conversations"), conversation)
        .unwrap_or_else(|| panic!("{conversation} is not listed: {}", list.raw))
}
