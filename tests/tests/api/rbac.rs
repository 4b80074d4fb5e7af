//! Every route as every role: one table row per (method, path, body) with the expected answer
//! class of each caller, from docs/domain.md §2 (who may do what) and API.md (not signed in → 401,
//! signed in but not allowed → 403, a resource the caller may not even see → 404).
//!
//! Each row runs in a world of its own (the in-process app on the memory store) with its staff
//! and bystanders (the *cast*); each cell (row × role) runs against a fresh *scene* in it — the
//! entrepreneur, organization, programs, project, milestone and application, and the
//! mentorship, session, meeting, tasks, notification or enrollment the row names. Mutating
//! rows therefore never disturb another cell, and the order of the rows does not matter. (One
//! world per row rather than per test: the memory store scans its tables, and 1,400 scenes in
//! one world make the run quadratic.) A row that needs a state first (an
//! application under review, an active project) lists the steps that get there; they run as the
//! roles allowed to take them and must succeed.
//!
//! Adding a route is adding a row (and, if its path names a new kind of resource, one
//! placeholder in [`Scene::build`]). Mismatches are collected and reported together.

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use chrono::SecondsFormat;
use icosistem_core::Context;
use icosistem_core::model::{Role, User, UserId};
use icosistem_core::service::OpenConversation;
use icosistem_core::testing::fixtures::{PASSWORD, Person, day_at};
use icosistem_core::workflow::mentorship::MentorshipCommand;
use serde_json::{Value, json};

use crate::common::App;

/// The body of a row that uploads a document: a multipart form with a small PDF.
const UPLOAD: &str = "<multipart: a pdf>";

/// The answer expected of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Any 2xx.
    Ok,
    Unauthorized,
    Forbidden,
    NotFound,
    /// Allowed, but the state forbids it (`invalid_transition`, `conflict`).
    Conflict,
    /// Allowed, but the body names something the caller cannot use.
    Unprocessable,
}

impl Class {
    fn matches(self, status: StatusCode) -> bool {
        match self {
            Class::Ok => status.is_success(),
            Class::Unauthorized => status == StatusCode::UNAUTHORIZED,
            Class::Forbidden => status == StatusCode::FORBIDDEN,
            Class::NotFound => status == StatusCode::NOT_FOUND,
            Class::Conflict => status == StatusCode::CONFLICT,
            Class::Unprocessable => status == StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

// Short names keep a row's nine answers on one line, under the column header.
const OK: Class = Class::Ok;
const U401: Class = Class::Unauthorized;
const F403: Class = Class::Forbidden;
const N404: Class = Class::NotFound;
const C409: Class = Class::Conflict;
const V422: Class = Class::Unprocessable;

/// The callers, in the order of a row's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Admin,
    /// Owner of the scene's organization (an ally, since allies may create organizations).
    Owner,
    /// Coordinator of the organization.
    Coordinator,
    /// Reviewer member of the organization (assigned to the application only where a row's
    /// steps assign them).
    Reviewer,
    /// The entrepreneur who owns the scene's project, milestone and application.
    Entrepreneur,
    /// Another entrepreneur.
    Other,
    /// An ally outside the organization, mentoring nobody — except in scenes naming a
    /// `{mentorship}` or `{session}`, where this column is a fresh ally the scene's
    /// entrepreneur asked for mentorship. The scene's meeting invites them and its task is
    /// assigned to them.
    Ally,
    /// A client.
    Client,
    Anonymous,
}

const ROLES: [Who; 9] = [
    Who::Admin,
    Who::Owner,
    Who::Coordinator,
    Who::Reviewer,
    Who::Entrepreneur,
    Who::Other,
    Who::Ally,
    Who::Client,
    Who::Anonymous,
];

/// A request that brings the scene into the state a row needs (a `POST`, as `who`).
struct Step {
    who: Who,
    path: &'static str,
    body: Option<&'static str>,
}

fn step(who: Who, path: &'static str, body: Option<&'static str>) -> Step {
    Step { who, path, body }
}

/// One route called by every role. `path` and `body` may name the scene's `{placeholders}`.
struct Row {
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    steps: Vec<Step>,
    expect: [Class; 9],
}

impl Row {
    /// The steps that run (in each cell's own scene) before the call.
    fn after(mut self, steps: Vec<Step>) -> Self {
        self.steps = steps;
        self
    }
}

fn get(path: &'static str, expect: [Class; 9]) -> Row {
    call(Method::GET, path, None, expect)
}

fn post(path: &'static str, body: Option<&'static str>, expect: [Class; 9]) -> Row {
    call(Method::POST, path, body, expect)
}

fn call(method: Method, path: &'static str, body: Option<&'static str>, expect: [Class; 9]) -> Row {
    Row {
        method,
        path,
        body,
        steps: Vec::new(),
        expect,
    }
}

// The application's states, as the steps that reach them from the scene's draft.

fn submitted() -> Vec<Step> {
    vec![step(
        Who::Entrepreneur,
        "/api/v2/applications/{application}/submit",
        None,
    )]
}

/// Submitted, the scene's reviewer assigned (which makes it `under_review`).
fn under_review() -> Vec<Step> {
    let mut steps = submitted();
    steps.push(step(
        Who::Owner,
        "/api/v2/applications/{application}/reviewers",
        Some(r#"{"reviewer_id": "{reviewer_id}"}"#),
    ));
    steps
}

/// Under review with the reviewer's score in: ready for a decision (`min_reviews` is 1).
fn reviewed() -> Vec<Step> {
    let mut steps = under_review();
    steps.push(step(
        Who::Reviewer,
        "/api/v2/applications/{application}/reviews",
        Some(r#"{"score": 80}"#),
    ));
    steps
}

fn waitlisted() -> Vec<Step> {
    let mut steps = reviewed();
    steps.push(step(Who::Owner, "/api/v2/applications/{application}/waitlist", None));
    steps
}

fn accepted() -> Vec<Step> {
    let mut steps = reviewed();
    steps.push(step(Who::Owner, "/api/v2/applications/{application}/accept", None));
    steps
}

fn project_active() -> Vec<Step> {
    vec![step(Who::Entrepreneur, "/api/v2/projects/{project}/activate", None)]
}

fn milestone_started() -> Vec<Step> {
    vec![step(Who::Entrepreneur, "/api/v2/milestones/{milestone}/start", None)]
}

/// Every route of `router()`, as every role.
#[rustfmt::skip]
fn table() -> Vec<Row> {
    vec![
        // ----------------------------------------------------------------------------------
        // Operations and documentation: no auth.
        //                                                admin owner coord review ent  other ally client anon
        get("/health",                                   [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        get("/health/ready",                             [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        get("/health/detailed",                          [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        get("/api/v2/health",                            [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        get("/metrics",                                  [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        get("/api-docs/openapi.json",                    [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        get("/docs/",                                    [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),

        // ----------------------------------------------------------------------------------
        // Auth: public routes; a bearer token changes nothing.
        post("/api/v2/auth/register",
            Some(r#"{"email": "{email}", "password": "Seven-Long-Words-42", "first_name": "Nueva", "last_name": "Persona", "role": "entrepreneur"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        post("/api/v2/auth/verify-email", Some(r#"{"token": "{verify_token}"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        post("/api/v2/auth/login", Some(r#"{"email": "{ent_email}", "password": "{password}"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        post("/api/v2/auth/refresh", Some(r#"{"refresh_token": "{refresh_token}"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        post("/api/v2/auth/logout", Some(r#"{"refresh_token": "{refresh_token}"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        post("/api/v2/auth/password-reset", Some(r#"{"email": "{ent_email}"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),
        post("/api/v2/auth/password-reset/confirm",
            Some(r#"{"token": "{reset_token}", "new_password": "Seven-Long-Words-42"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),

        // ----------------------------------------------------------------------------------
        // The caller's account.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/users/me",                          [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        call(Method::PATCH, "/api/v2/users/me", Some(r#"{"first_name": "Renamed"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        call(Method::PUT, "/api/v2/users/me/password",
            Some(r#"{"current_password": "{password}", "new_password": "Seven-Long-Words-42"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),

        // ----------------------------------------------------------------------------------
        // The caller's calendar feed: anyone signed in has (at most) one of their own; the feed
        // URL is answered to whoever holds its token, signed in or not.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/users/me/calendar-feed",            [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        post("/api/v2/users/me/calendar-feed", None,     [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        // Nobody of the scene has a feed to revoke.
        call(Method::DELETE, "/api/v2/users/me/calendar-feed", None,
                                                         [N404, N404, N404, N404, N404, N404, N404, N404, U401]),
        get("/api/v2/calendar/{calendar_token}.ics",     [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK]),

        // ----------------------------------------------------------------------------------
        // Organizations: created by admins, allies and clients; edited and staffed by their
        // owner and admins; activated and suspended by admins. Public ones are seen by all.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/organizations",                     [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        post("/api/v2/organizations", Some(r#"{"name": "New Hub", "organization_type": "incubator"}"#),
                                                         [OK,   OK,   OK,   OK,   F403, F403, OK,   OK,   U401]),
        get("/api/v2/organizations/{org}",               [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/organizations/{private_org}",       [OK,   OK,   OK,   OK,   N404, N404, N404, N404, U401]),
        call(Method::PATCH, "/api/v2/organizations/{org}", Some(r#"{"name": "Renamed Hub"}"#),
                                                         [OK,   OK,   F403, F403, F403, F403, F403, F403, U401]),
        call(Method::PATCH, "/api/v2/organizations/{private_org}", Some(r#"{"name": "Renamed Hub"}"#),
                                                         [OK,   OK,   F403, F403, N404, N404, N404, N404, U401]),
        get("/api/v2/organizations/{org}/members",       [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/organizations/{private_org}/members",
                                                         [OK,   OK,   OK,   OK,   N404, N404, N404, N404, U401]),
        post("/api/v2/organizations/{org}/members", Some(r#"{"user_id": "{newcomer_id}", "role": "reviewer"}"#),
                                                         [OK,   OK,   F403, F403, F403, F403, F403, F403, U401]),
        call(Method::DELETE, "/api/v2/organizations/{org}/members/{leaver_id}", None,
                                                         [OK,   OK,   F403, F403, F403, F403, F403, F403, U401]),
        post("/api/v2/organizations/{org}/activate", None,
                                                         [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),
        post("/api/v2/organizations/{org}/suspend", None,
                                                         [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),

        // ----------------------------------------------------------------------------------
        // Programs: managed by admins and the organization's owner and coordinators; a
        // published one is seen by all, a draft by the organization's members and admins.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/programs",                          [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        post("/api/v2/programs",
            Some(r#"{"organization_id": "{org}", "name": "New cohort", "program_type": "acceleration", "application_opens_at": "{opens_at}", "application_deadline": "{deadline}", "start_date": "{start_date}", "end_date": "{end_date}", "max_participants": 10}"#),
                                                         [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401]),
        get("/api/v2/programs/{program}",                [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/programs/{draft_program}",          [OK,   OK,   OK,   OK,   N404, N404, N404, N404, U401]),
        call(Method::PATCH, "/api/v2/programs/{program}", Some(r#"{"name": "Renamed cohort"}"#),
                                                         [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401]),
        call(Method::PATCH, "/api/v2/programs/{draft_program}", Some(r#"{"name": "Renamed cohort"}"#),
                                                         [OK,   OK,   OK,   F403, N404, N404, N404, N404, U401]),
        // Rounds change while only a draft applied; once an application entered them, never.
        call(Method::PATCH, "/api/v2/programs/{program}", Some(r#"{"rounds": [{"name": "screening"}, {"name": "committee"}]}"#),
                                                         [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401]),
        call(Method::PATCH, "/api/v2/programs/{program}", Some(r#"{"rounds": [{"name": "screening"}, {"name": "committee"}]}"#),
                                                         [V422, V422, V422, F403, F403, F403, F403, F403, U401])
            .after(submitted()),
        post("/api/v2/programs/{draft_program}/publish", None,
                                                         [OK,   OK,   OK,   F403, N404, N404, N404, N404, U401]),
        // Allowed, but the start date is weeks away: 422 on `start_date` (a precondition of the
        // command, not a wrong state).
        post("/api/v2/programs/{program}/start", None,   [V422, V422, V422, F403, F403, F403, F403, F403, U401]),
        // Allowed, but a published program has not started.
        post("/api/v2/programs/{program}/complete", None,
                                                         [C409, C409, C409, F403, F403, F403, F403, F403, U401]),
        post("/api/v2/programs/{program}/cancel", None,  [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401]),
        post("/api/v2/programs/{draft_program}/cancel", None,
                                                         [OK,   OK,   OK,   F403, N404, N404, N404, N404, U401]),
        get("/api/v2/programs/{program}/enrollments",    [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401]),
        get("/api/v2/programs/{draft_program}/enrollments",
                                                         [OK,   OK,   OK,   F403, N404, N404, N404, N404, U401]),
        // Whole-cohort matching (docs/domain.md §11): staff only; proposing writes nothing, so a draft
        // program with no cohort still answers (an empty proposal). The confirm row sends a
        // proposal of the scene's program whose fingerprint matches no data: stale for staff.
        post("/api/v2/programs/{program}/matching/proposals", None,
                                                         [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401]),
        post("/api/v2/programs/{draft_program}/matching/proposals", None,
                                                         [OK,   OK,   OK,   F403, N404, N404, N404, N404, U401]),
        post("/api/v2/programs/{program}/matching/confirm", Some(STALE_PROPOSAL),
                                                         [C409, C409, C409, F403, F403, F403, F403, F403, U401]),

        // ----------------------------------------------------------------------------------
        // Projects: created by entrepreneurs and admins, edited by their owner and admins;
        // seen by the program staff once they apply, by assigned reviewers, and by every
        // signed-in role when public (docs/domain.md §2 "view project", widened below the table).
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/projects",                          [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        post("/api/v2/projects",
            Some(r#"{"name": "Another venture", "description": "Something worth funding", "project_type": "startup"}"#),
                                                         [OK,   F403, F403, F403, OK,   OK,   F403, F403, U401]),
        // Only a draft application so far: invisible to the program.
        get("/api/v2/projects/{project}",                [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        get("/api/v2/projects/{project}",                [OK,   OK,   OK,   N404, OK,   N404, N404, N404, U401])
            .after(submitted()),
        get("/api/v2/projects/{project}",                [OK,   OK,   OK,   OK,   OK,   N404, N404, N404, U401])
            .after(under_review()),
        get("/api/v2/projects/{public_project}",         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        call(Method::PATCH, "/api/v2/projects/{project}", Some(r#"{"name": "Renamed venture"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        call(Method::PATCH, "/api/v2/projects/{project}", Some(r#"{"name": "Renamed venture"}"#),
                                                         [OK,   F403, F403, N404, OK,   N404, N404, N404, U401])
            .after(submitted()),
        call(Method::DELETE, "/api/v2/projects/{spare_project}", None,
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        call(Method::DELETE, "/api/v2/projects/{public_project}", None,
                                                         [OK,   F403, F403, F403, OK,   F403, F403, F403, U401]),
        post("/api/v2/projects/{project}/advance-stage", Some(r#"{"stage": "concept"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/projects/{project}/advance-stage", Some(r#"{"stage": "concept"}"#),
                                                         [OK,   F403, F403, F403, OK,   N404, N404, N404, U401])
            .after(under_review()),
        post("/api/v2/projects/{project}/activate", None,
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/projects/{project}/pause", None,   [OK,   N404, N404, N404, OK,   N404, N404, N404, U401])
            .after(project_active()),
        post("/api/v2/projects/{project}/resume", None,  [OK,   N404, N404, N404, OK,   N404, N404, N404, U401])
            .after(vec![
                step(Who::Entrepreneur, "/api/v2/projects/{project}/activate", None),
                step(Who::Entrepreneur, "/api/v2/projects/{project}/pause", None),
            ]),
        post("/api/v2/projects/{project}/complete", None,
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401])
            .after(project_active()),
        post("/api/v2/projects/{project}/cancel", None,  [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/projects/{public_project}/cancel", None,
                                                         [OK,   F403, F403, F403, OK,   F403, F403, F403, U401]),

        // ----------------------------------------------------------------------------------
        // Milestones: follow their project (seeing it lets one read them; editing it lets one
        // change them).
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/projects/{project}/milestones",     [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        get("/api/v2/projects/{project}/milestones",     [OK,   OK,   OK,   N404, OK,   N404, N404, N404, U401])
            .after(submitted()),
        post("/api/v2/projects/{project}/milestones", Some(r#"{"title": "Second pilot", "target_date": "{target_date}"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/projects/{project}/milestones", Some(r#"{"title": "Second pilot", "target_date": "{target_date}"}"#),
                                                         [OK,   F403, F403, N404, OK,   N404, N404, N404, U401])
            .after(submitted()),
        get("/api/v2/milestones",                        [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/milestones/{milestone}",            [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        get("/api/v2/milestones/{milestone}",            [OK,   OK,   OK,   OK,   OK,   N404, N404, N404, U401])
            .after(under_review()),
        call(Method::PATCH, "/api/v2/milestones/{milestone}", Some(r#"{"title": "Renamed pilot"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/milestones/{milestone}/start", None,
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/milestones/{milestone}/start", None,
                                                         [OK,   F403, F403, F403, OK,   N404, N404, N404, U401])
            .after(under_review()),
        post("/api/v2/milestones/{milestone}/progress", Some(r#"{"progress": 50}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401])
            .after(milestone_started()),
        post("/api/v2/milestones/{milestone}/complete", None,
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401])
            .after(milestone_started()),
        post("/api/v2/milestones/{milestone}/delay", Some(r#"{"target_date": "{later_date}", "reason": "Supplier late"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/milestones/{milestone}/cancel", None,
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),

        // ----------------------------------------------------------------------------------
        // Applications: drafted, submitted and withdrawn by the project's entrepreneur; seen
        // by the program's staff once submitted and by assigned reviewers; reviewers assigned
        // and decisions taken by the staff and admins; scores by staff and assigned reviewers.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/applications",                      [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/applications?program_id={program}", [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        // Someone else's project is "no such project" (422 on `project_id`), not a 404 path.
        post("/api/v2/applications", Some(r#"{"program_id": "{program}", "project_id": "{spare_project}"}"#),
                                                         [F403, V422, V422, V422, OK,   V422, V422, V422, U401]),
        get("/api/v2/applications/{application}",        [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        get("/api/v2/applications/{application}",        [OK,   OK,   OK,   N404, OK,   N404, N404, N404, U401])
            .after(submitted()),
        get("/api/v2/applications/{application}",        [OK,   OK,   OK,   OK,   OK,   N404, N404, N404, U401])
            .after(under_review()),
        call(Method::PATCH, "/api/v2/applications/{application}", Some(r#"{"answers": {"team": 3}}"#),
                                                         [F403, N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/applications/{application}/submit", None,
                                                         [F403, N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/applications/{application}/withdraw", None,
                                                         [F403, N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/applications/{application}/withdraw", None,
                                                         [F403, F403, F403, F403, OK,   N404, N404, N404, U401])
            .after(accepted()),
        post("/api/v2/applications/{application}/reviewers", Some(r#"{"reviewer_id": "{reviewer_id}"}"#),
                                                         [OK,   OK,   OK,   N404, F403, N404, N404, N404, U401])
            .after(submitted()),
        // The applicant sees the application but not its reviews: the reviews are what they
        // may not see (404).
        get("/api/v2/applications/{application}/reviews",
                                                         [OK,   OK,   OK,   OK,   N404, N404, N404, N404, U401])
            .after(under_review()),
        post("/api/v2/applications/{application}/reviews", Some(r#"{"score": 75, "comment": "Solid team"}"#),
                                                         [F403, OK,   OK,   OK,   F403, N404, N404, N404, U401])
            .after(under_review()),
        post("/api/v2/applications/{application}/accept", None,
                                                         [OK,   OK,   OK,   F403, F403, N404, N404, N404, U401])
            .after(reviewed()),
        post("/api/v2/applications/{application}/reject", Some(r#"{"note": "Not this cohort"}"#),
                                                         [OK,   OK,   OK,   F403, F403, N404, N404, N404, U401])
            .after(reviewed()),
        post("/api/v2/applications/{application}/waitlist", None,
                                                         [OK,   OK,   OK,   F403, F403, N404, N404, N404, U401])
            .after(reviewed()),
        post("/api/v2/applications/{application}/promote", None,
                                                         [OK,   OK,   OK,   F403, F403, N404, N404, N404, U401])
            .after(waitlisted()),
        // Review rounds (docs/domain.md §10): decided by the program's staff. The scene's program has
        // no rounds: advancing is allowed but has nowhere to go (422 on `current_round`), a
        // rejection in the (implicit) round is a rejection with a reason.
        post("/api/v2/applications/{application}/advance", None,
                                                         [V422, V422, V422, F403, F403, N404, N404, N404, U401])
            .after(reviewed()),
        post("/api/v2/applications/{application}/reject-in-round", Some(r#"{"reason": "Below the screening bar"}"#),
                                                         [OK,   OK,   OK,   F403, F403, N404, N404, N404, U401])
            .after(reviewed()),
        get("/api/v2/programs/{program}/enrollments",    [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401])
            .after(accepted()),

        // ----------------------------------------------------------------------------------
        // Enrollments: the accepted application's seat, seen by the entrepreneur and the
        // program's staff; left by the participant, the staff or admins.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/enrollments/{enrollment}",          [OK,   OK,   OK,   N404, OK,   N404, N404, N404, U401]),
        // Those who cannot see the enrollment (GET 404) get 404 here too: no existence leak.
        post("/api/v2/enrollments/{enrollment}/drop-out", Some(r#"{"reason": "Moving abroad"}"#),
                                                         [OK,   OK,   OK,   N404, OK,   N404, N404, N404, U401]),

        // ----------------------------------------------------------------------------------
        // The caller's role profile (admins have none) and the admin's user management.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/users/me/profile",                  [N404, OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        // An empty body takes the defaults of the caller's role; an admin has no role profile
        // (422 on `kind`).
        call(Method::PUT, "/api/v2/users/me/profile", Some("{}"),
                                                         [V422, OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/admin/users",                       [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),
        post("/api/v2/admin/users",
            Some(r#"{"email": "{email}", "password": "Seven-Long-Words-42", "first_name": "Nueva", "last_name": "Persona", "role": "client"}"#),
                                                         [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),
        get("/api/v2/admin/users/{ent_id}",              [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),
        call(Method::PATCH, "/api/v2/admin/users/{ent_id}", Some(r#"{"first_name": "Renamed"}"#),
                                                         [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),
        post("/api/v2/admin/users/{ent_id}/unlock", None,
                                                         [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),
        // The outbox's dead letters: admins only (docs/domain.md §8).
        get("/api/v2/admin/outbox?status=failed",        [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),
        get("/api/v2/admin/outbox/{outbox}",             [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),
        post("/api/v2/admin/outbox/{outbox}/retry", None,
                                                         [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),
        post("/api/v2/admin/outbox/retry", Some(r#"{"channel": "email"}"#),
                                                         [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),

        // ----------------------------------------------------------------------------------
        // Mentorships: requested by entrepreneurs; accepted, declined and managed by their
        // ally and admins; seen by both parties and admins. In these rows the ally column is
        // the mentorship's ally.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/mentorships",                       [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        post("/api/v2/mentorships", Some(r#"{"ally_id": "{free_ally_id}", "message": "Hello", "areas": ["Product"]}"#),
                                                         [F403, F403, F403, F403, OK,   OK,   F403, F403, U401]),
        get("/api/v2/mentorships/{mentorship}",          [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        post("/api/v2/mentorships/{mentorship}/accept", None,
                                                         [OK,   N404, N404, N404, F403, N404, OK,   N404, U401]),
        post("/api/v2/mentorships/{mentorship}/decline", None,
                                                         [OK,   N404, N404, N404, F403, N404, OK,   N404, U401]),
        post("/api/v2/mentorships/{mentorship}/pause", None,
                                                         [OK,   N404, N404, N404, F403, N404, OK,   N404, U401])
            .after(mentorship_active()),
        post("/api/v2/mentorships/{mentorship}/resume", None,
                                                         [OK,   N404, N404, N404, F403, N404, OK,   N404, U401])
            .after(vec![
                step(Who::Ally, "/api/v2/mentorships/{mentorship}/accept", None),
                step(Who::Ally, "/api/v2/mentorships/{mentorship}/pause", None),
            ]),
        post("/api/v2/mentorships/{mentorship}/complete", None,
                                                         [OK,   N404, N404, N404, F403, N404, OK,   N404, U401])
            .after(mentorship_active()),
        // docs/domain.md §4.5 gives `requested → cancelled` to the entrepreneur: the ally declines.
        post("/api/v2/mentorships/{mentorship}/cancel", Some(r#"{"reason": "moving on"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, F403, N404, U401]),
        get("/api/v2/mentorships/{mentorship}/sessions", [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401])
            .after(mentorship_active()),
        // Admins manage sessions (docs/domain.md §2), booking included.
        post("/api/v2/mentorships/{mentorship}/sessions",
            Some(r#"{"starts_at": "{session_start}", "duration_minutes": 60, "agenda": "Roadmap"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401])
            .after(mentorship_active()),

        // ----------------------------------------------------------------------------------
        // Allies: the directory and free slots for everyone signed in; suggestions for the
        // calling entrepreneur; the weekly availability of the calling ally.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/allies",                            [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/allies/suggestions",                [F403, F403, F403, F403, OK,   OK,   F403, F403, U401]),
        get("/api/v2/allies/me/availability",            [F403, OK,   OK,   OK,   F403, F403, OK,   F403, U401]),
        call(Method::PUT, "/api/v2/allies/me/availability",
            Some(r#"{"timezone": "UTC", "slots": [{"weekday": 0, "start": "09:00", "end": "12:00"}]}"#),
                                                         [F403, OK,   OK,   OK,   F403, F403, OK,   F403, U401]),
        get("/api/v2/allies/{free_ally_id}/free-slots?from={from}&to={to}",
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),

        // ----------------------------------------------------------------------------------
        // Sessions (a booked session of the scene's mentorship): seen and run by both parties
        // and admins, confirmed by the ally. The clock stands a day before the session:
        // starting the confirmed one is early (422 on `starts_at`), completing and rating it
        // wrong for its state (409).
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/sessions",                          [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/sessions/{session}",                [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        post("/api/v2/sessions/{session}/confirm", None, [OK,   N404, N404, N404, F403, N404, OK,   N404, U401]),
        post("/api/v2/sessions/{session}/start", None,   [V422, N404, N404, N404, V422, N404, V422, N404, U401])
            .after(vec![step(Who::Ally, "/api/v2/sessions/{session}/confirm", None)]),
        post("/api/v2/sessions/{session}/complete", Some(r#"{"summary": "Roadmap agreed"}"#),
                                                         [C409, N404, N404, N404, C409, N404, C409, N404, U401]),
        post("/api/v2/sessions/{session}/cancel", Some(r#"{"reason": "travelling"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        post("/api/v2/sessions/{session}/reschedule", Some(r#"{"starts_at": "{later_session_start}"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        post("/api/v2/sessions/{session}/feedback", Some(r#"{"rating": 5, "comment": "Very useful"}"#),
                                                         [F403, N404, N404, N404, C409, N404, C409, N404, U401]),

        // ----------------------------------------------------------------------------------
        // Meetings (organized by the scene's entrepreneur, the ally invited): anyone signed in
        // schedules one; attendees and admins see it; the organizer runs it; participants
        // answer.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/meetings",                          [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        post("/api/v2/meetings", Some(r#"{"title": "Sync", "starts_at": "{meeting_start}", "ends_at": "{meeting_end}"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/meetings/{meeting}",                [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        get("/api/v2/meetings/{meeting}/participants",   [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        post("/api/v2/meetings/{meeting}/participants", Some(r#"{"user_id": "{newcomer_id}"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, F403, N404, U401]),
        post("/api/v2/meetings/{meeting}/respond", Some(r#"{"response": "accepted"}"#),
                                                         [F403, N404, N404, N404, F403, N404, OK,   N404, U401]),
        post("/api/v2/meetings/{meeting}/start", None,   [OK,   N404, N404, N404, OK,   N404, F403, N404, U401]),
        post("/api/v2/meetings/{meeting}/complete", None,
                                                         [OK,   N404, N404, N404, OK,   N404, F403, N404, U401])
            .after(vec![step(Who::Entrepreneur, "/api/v2/meetings/{meeting}/start", None)]),
        post("/api/v2/meetings/{meeting}/cancel", None,  [OK,   N404, N404, N404, OK,   N404, F403, N404, U401]),
        post("/api/v2/meetings/{meeting}/reschedule",
            Some(r#"{"starts_at": "{later_meeting_start}", "ends_at": "{later_meeting_end}"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, F403, N404, U401]),

        // ----------------------------------------------------------------------------------
        // Tasks (the scene's entrepreneur's, assigned to the ally): personal work items, seen
        // by their owner, assignee and admins; edited by the owner and admins; moved along by
        // the assignee too.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/tasks",                             [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        post("/api/v2/tasks", Some(r#"{"title": "Write the pitch"}"#),
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/tasks/{task}",                      [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        call(Method::PATCH, "/api/v2/tasks/{task}", Some(r#"{"title": "Renamed task"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, F403, N404, U401]),
        post("/api/v2/tasks/{task}/start", None,         [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        post("/api/v2/tasks/{task}/block", None,         [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        post("/api/v2/tasks/{task}/unblock", None,       [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401])
            .after(vec![step(Who::Entrepreneur, "/api/v2/tasks/{task}/block", None)]),
        post("/api/v2/tasks/{task}/complete", None,      [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401])
            .after(vec![step(Who::Entrepreneur, "/api/v2/tasks/{task}/start", None)]),
        // The assignee runs every command of the task, cancel included.
        post("/api/v2/tasks/{task}/cancel", None,        [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        get("/api/v2/tasks/{task}/dependencies",         [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        post("/api/v2/tasks/{task}/dependencies", Some(r#"{"depends_on": "{other_task}"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, F403, N404, U401]),
        call(Method::DELETE, "/api/v2/tasks/{task}/dependencies/{other_task}", None,
                                                         [OK,   N404, N404, N404, OK,   N404, F403, N404, U401])
            .after(vec![step(
                Who::Entrepreneur,
                "/api/v2/tasks/{task}/dependencies",
                Some(r#"{"depends_on": "{other_task}"}"#),
            )]),

        // ----------------------------------------------------------------------------------
        // Notifications (one of the scene's entrepreneur's): their recipient's alone.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/notifications",                     [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        post("/api/v2/notifications/read-all", None,     [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/notifications/stream",              [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        post("/api/v2/notifications/{notification}/read", None,
                                                         [N404, N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/notifications/{notification}/archive", None,
                                                         [N404, N404, N404, N404, OK,   N404, N404, N404, U401]),

        // ----------------------------------------------------------------------------------
        // Webhooks (docs/domain.md §8): the organization's owner and admins alone. Members see that
        // an endpoint exists (403); outsiders do not (404), though the public organization
        // itself is visible to them (403 on its collection).
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/organizations/{org}/webhooks",      [OK,   OK,   F403, F403, F403, F403, F403, F403, U401]),
        post("/api/v2/organizations/{org}/webhooks",
            Some(r#"{"url": "https://hooks.example.org/new", "events": ["application.decided"]}"#),
                                                         [OK,   OK,   F403, F403, F403, F403, F403, F403, U401]),
        get("/api/v2/organizations/{private_org}/webhooks",
                                                         [OK,   OK,   F403, F403, N404, N404, N404, N404, U401]),
        get("/api/v2/webhooks/{webhook}",                [OK,   OK,   F403, F403, N404, N404, N404, N404, U401]),
        call(Method::PATCH, "/api/v2/webhooks/{webhook}", Some(r#"{"description": "CRM"}"#),
                                                         [OK,   OK,   F403, F403, N404, N404, N404, N404, U401]),
        call(Method::DELETE, "/api/v2/webhooks/{webhook}", None,
                                                         [OK,   OK,   F403, F403, N404, N404, N404, N404, U401]),
        get("/api/v2/webhooks/{webhook}/deliveries",     [OK,   OK,   F403, F403, N404, N404, N404, N404, U401]),
        post("/api/v2/webhooks/{webhook}/rotate-secret", None,
                                                         [OK,   OK,   F403, F403, N404, N404, N404, N404, U401]),
        post("/api/v2/webhooks/{webhook}/test", None,    [OK,   OK,   F403, F403, N404, N404, N404, N404, U401]),

        // ----------------------------------------------------------------------------------
        // Documents (docs/domain.md §6): whoever may edit the parent (its participants,
        // admins) uploads; whoever sees it reads by the access level; those who cannot see the
        // parent get 404. The scene's `{document}` is the entrepreneur's, on the project,
        // `private`. Staff who see a submitted application read its documents but attach none.
        //                                                admin owner coord review ent  other ally client anon
        post("/api/v2/projects/{project}/documents", Some(UPLOAD),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        get("/api/v2/projects/{project}/documents",      [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/applications/{application}/documents", Some(UPLOAD),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/applications/{application}/documents", Some(UPLOAD),
                                                         [OK,   F403, F403, N404, OK,   N404, N404, N404, U401])
            .after(submitted()),
        get("/api/v2/applications/{application}/documents",
                                                         [OK,   OK,   OK,   N404, OK,   N404, N404, N404, U401])
            .after(submitted()),
        post("/api/v2/milestones/{milestone}/documents", Some(UPLOAD),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        get("/api/v2/milestones/{milestone}/documents",  [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/sessions/{session}/documents", Some(UPLOAD),
                                                         [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        get("/api/v2/sessions/{session}/documents",      [OK,   N404, N404, N404, OK,   N404, OK,   N404, U401]),
        get("/api/v2/documents/{document}",              [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        get("/api/v2/documents/{document}/content",      [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        get("/api/v2/documents/{document}/versions",     [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/documents/{document}/versions", Some(UPLOAD),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        call(Method::DELETE, "/api/v2/documents/{document}", None,
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),

        // ----------------------------------------------------------------------------------
        // The audit log: admins all of it; everyone else their own actions (the filter is
        // forced to them); an organization's slice for its owner and coordinators.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/audit-events",                      [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/audit-events?organization_id={org}",
                                                         [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401]),

        // ----------------------------------------------------------------------------------
        // Analytics and CSV exports (docs/domain.md §9): a program's for its owners and
        // coordinators (reviewers see the program, not its figures); an organization's for its
        // owner; mentoring: the platform's for admins, an organization's for its staff; one's
        // own for everyone. Whoever may not see the program or organization gets 404.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/programs/{program}/analytics",      [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401]),
        get("/api/v2/programs/{draft_program}/analytics",
                                                         [OK,   OK,   OK,   F403, N404, N404, N404, N404, U401]),
        get("/api/v2/organizations/{org}/analytics",     [OK,   OK,   F403, F403, F403, F403, F403, F403, U401]),
        get("/api/v2/organizations/{private_org}/analytics",
                                                         [OK,   OK,   F403, F403, N404, N404, N404, N404, U401]),
        get("/api/v2/analytics/mentoring",               [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),
        get("/api/v2/analytics/mentoring?organization_id={org}",
                                                         [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401]),
        get("/api/v2/users/me/analytics",                [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        get("/api/v2/programs/{program}/applications.csv",
                                                         [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401])
            .after(under_review()),
        get("/api/v2/programs/{draft_program}/applications.csv",
                                                         [OK,   OK,   OK,   F403, N404, N404, N404, N404, U401]),
        get("/api/v2/programs/{program}/enrollments.csv",
                                                         [OK,   OK,   OK,   F403, F403, F403, F403, F403, U401]),
        get("/api/v2/analytics/mentoring/sessions.csv",  [OK,   F403, F403, F403, F403, F403, F403, F403, U401]),

        // ----------------------------------------------------------------------------------
        // Messaging (docs/domain.md §7). `{conversation}` is the direct conversation the admin
        // opened with the scene's entrepreneur, `{message}` the admin's message in it: private
        // to those two (404 for anyone else); only the sender edits or deletes. A direct open
        // needs a shared context (admins need none; oneself is 422); a context one a party.
        //                                                admin owner coord review ent  other ally client anon
        get("/api/v2/conversations",                     [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
        post("/api/v2/conversations", Some(r#"{"user_id": "{ent_id}"}"#),
                                                         [OK,   F403, F403, F403, V422, F403, F403, F403, U401]),
        post("/api/v2/conversations", Some(r#"{"context_type": "mentorship", "context_id": "{mentorship}"}"#),
                                                         [OK,   F403, F403, F403, OK,   F403, OK,   F403, U401])
            .after(mentorship_active()),
        get("/api/v2/conversations/{conversation}",      [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        get("/api/v2/conversations/{conversation}/messages",
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/conversations/{conversation}/messages", Some(r#"{"body": "Hello"}"#),
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        post("/api/v2/conversations/{conversation}/read", None,
                                                         [OK,   N404, N404, N404, OK,   N404, N404, N404, U401]),
        call(Method::PATCH, "/api/v2/messages/{message}", Some(r#"{"body": "Edited"}"#),
                                                         [OK,   N404, N404, N404, F403, N404, N404, N404, U401]),
        call(Method::DELETE, "/api/v2/messages/{message}", None,
                                                         [OK,   N404, N404, N404, F403, N404, N404, N404, U401]),
        call(Method::PUT, "/api/v2/users/{ent_id}/block", None,
                                                         [OK,   OK,   OK,   OK,   V422, OK,   OK,   OK,   U401]),
        call(Method::DELETE, "/api/v2/users/{ent_id}/block", None,
                                                         [OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   U401]),
    ]
}

/// The scene's mentorship, accepted by its ally.
fn mentorship_active() -> Vec<Step> {
    vec![step(Who::Ally, "/api/v2/mentorships/{mentorship}/accept", None)]
}

/// The shared people of a world: everyone but the scene's entrepreneur.
struct Cast {
    ids: HashMap<Who, UserId>,
}

impl Cast {
    async fn new(app: &App) -> Self {
        let mut ids = HashMap::from([(Who::Admin, app.world.admin.id())]);
        for (who, role, label) in [
            (Who::Owner, Role::Ally, "owner"),
            (Who::Coordinator, Role::Ally, "coordinator"),
            (Who::Reviewer, Role::Ally, "reviewer"),
            (Who::Other, Role::Entrepreneur, "other"),
            (Who::Ally, Role::Ally, "ally"),
            (Who::Client, Role::Client, "client"),
        ] {
            ids.insert(who, app.world.person(role, label).await.id());
        }
        Self { ids }
    }
}

/// `id` as a fixture person (for the world's shortcuts), as stored now.
async fn person_of(app: &App, id: UserId) -> Person {
    let user: User = app.world.row(id).await.expect("the user exists");
    let ctx = Context::user(&user);
    Person { user, ctx }
}

/// A fresh access token of `id`, minted from the user as stored now (a row that changes the
/// password renews the security stamp; the next cell must not carry the stale one).
async fn token_of(app: &App, id: UserId) -> String {
    let user: User = app.world.row(id).await.expect("the user exists");
    let ctx = Context::user(&user);
    app.token(&Person { user, ctx })
}

/// The placeholders of the selection part of a scene; a row naming none of them (nor its steps)
/// skips building it.
const SELECTION: [&str; 10] = [
    "{org}",
    "{webhook}",
    "{program}",
    "{draft_program}",
    "{project}",
    "{milestone}",
    "{application}",
    "{enrollment}",
    "{leaver_id}",
    // A document lives on the scene's project.
    "{document}",
];

/// The resources a cell's request names, created fresh for the cell, and its callers' tokens.
struct Scene {
    vars: HashMap<&'static str, String>,
    tokens: HashMap<Who, String>,
}

impl Scene {
    /// Builds the scene; the `{placeholders}` used in `needs` that are costly (extra users,
    /// logins) are created only when named there.
    async fn build(app: &App, cast: &Cast, needs: &str) -> Self {
        let w = &app.world;
        let ent = w.person(Role::Entrepreneur, "ent").await;
        let mut tokens = HashMap::new();
        for (who, id) in &cast.ids {
            tokens.insert(*who, token_of(app, *id).await);
        }
        tokens.insert(Who::Entrepreneur, token_of(app, ent.id()).await);
        let t = |who: Who| tokens[&who].clone();
        let now = w.now();
        let day = |days: i64| (now + chrono::Duration::days(days)).date_naive().to_string();
        let mut vars: HashMap<&'static str, String> = HashMap::from([
            ("ent_email", ent.email().to_owned()),
            ("password", PASSWORD.to_owned()),
            ("reviewer_id", cast.ids[&Who::Reviewer].to_string()),
            ("opens_at", (now - chrono::Duration::days(1)).to_rfc3339()),
            ("deadline", (now + chrono::Duration::days(10)).to_rfc3339()),
            ("start_date", day(20)),
            ("end_date", day(80)),
            ("target_date", day(30)),
            ("later_date", day(60)),
        ]);

        // The selection (organization, programs, project, milestone, application) only for
        // the rows that name a part of it: most of the mentoring rows do not.
        if SELECTION.iter().any(|p| needs.contains(p)) {
            let org = app.organization(&t(Who::Owner), "Hub").await.id();
            for (who, role) in [(Who::Coordinator, "coordinator"), (Who::Reviewer, "reviewer")] {
                ok(app
                    .post(
                        &format!("/api/v2/organizations/{org}/members"),
                        json!({ "user_id": cast.ids[&who].to_string(), "role": role }),
                        &t(Who::Owner),
                    )
                    .await
                    .status_and_raw());
            }
            let program = created(
                app.post("/api/v2/programs", app.program_body(&org, "Cohort", 10), &t(Who::Owner))
                    .await
                    .status_and_raw(),
            );
            ok(app
                .command(&format!("/api/v2/programs/{program}/publish"), &t(Who::Owner))
                .await
                .status_and_raw());
            let draft_program = created(
                app.post(
                    "/api/v2/programs",
                    app.program_body(&org, "Next cohort", 10),
                    &t(Who::Owner),
                )
                .await
                .status_and_raw(),
            );
            let project = new_project(app, &t(Who::Entrepreneur), "Venture", false).await;
            let milestone = created(
                app.post(
                    &format!("/api/v2/projects/{project}/milestones"),
                    json!({ "title": "First pilot", "target_date": vars["target_date"] }),
                    &t(Who::Entrepreneur),
                )
                .await
                .status_and_raw(),
            );
            let application = created(
                app.post(
                    "/api/v2/applications",
                    json!({ "program_id": program, "project_id": project }),
                    &t(Who::Entrepreneur),
                )
                .await
                .status_and_raw(),
            );
            if needs.contains("{webhook}") {
                let webhook = created(
                    app.post(
                        &format!("/api/v2/organizations/{org}/webhooks"),
                        json!({ "url": "https://hooks.example.org/in", "events": ["application.submitted"] }),
                        &t(Who::Owner),
                    )
                    .await
                    .status_and_raw(),
                );
                vars.insert("webhook", webhook);
            }
            vars.extend([
                ("org", org.clone()),
                ("program", program),
                ("draft_program", draft_program),
                ("project", project),
                ("milestone", milestone),
                ("application", application),
            ]);
        }

        vars.insert("ent_id", ent.id().to_string());
        let mut mentor_token = None;
        for (key, at) in [
            ("session_start", day_at(1, 10, 0)),
            ("later_session_start", day_at(2, 10, 0)),
            ("meeting_start", day_at(1, 14, 0)),
            ("meeting_end", day_at(1, 15, 0)),
            ("later_meeting_start", day_at(2, 14, 0)),
            ("later_meeting_end", day_at(2, 15, 0)),
            ("from", day_at(1, 0, 0)),
            ("to", day_at(2, 0, 0)),
        ] {
            vars.insert(key, at.to_rfc3339_opts(SecondsFormat::Secs, true));
        }
        if needs.contains("{free_ally_id}") {
            vars.insert("free_ally_id", w.available_ally().await.id().to_string());
        }
        if needs.contains("{mentorship}") || needs.contains("{session}") {
            // A fresh ally per scene: the cast's would reach its mentee capacity and its
            // daily session limit within a row.
            let mentor = w.available_ally().await;
            mentor_token = Some(app.token(&mentor));
            let mentorship = w.request_mentorship(&ent, &mentor).await.id;
            if needs.contains("{session}") {
                w.mentorship_step(&mentor, mentorship, MentorshipCommand::Accept).await;
                let session = w.book(&ent, mentorship, day_at(1, 10, 0), 60).await;
                vars.insert("session", session.id.to_string());
            }
            vars.insert("mentorship", mentorship.to_string());
        }
        if needs.contains("{meeting}") {
            let ally = person_of(app, cast.ids[&Who::Ally]).await;
            let meeting = w.meeting(&ent, &[&ally], day_at(1, 14, 0), day_at(1, 15, 0)).await;
            vars.insert("meeting", meeting.id.to_string());
        }
        if needs.contains("{task}") {
            let task = json!({ "title": "Write the pitch", "assignee_id": cast.ids[&Who::Ally].to_string() });
            let task = created(
                app.post("/api/v2/tasks", task, &tokens[&Who::Entrepreneur])
                    .await
                    .status_and_raw(),
            );
            vars.insert("task", task);
        }
        if needs.contains("{other_task}") {
            let other = json!({ "title": "Test the pitch" });
            let other = created(
                app.post("/api/v2/tasks", other, &tokens[&Who::Entrepreneur])
                    .await
                    .status_and_raw(),
            );
            vars.insert("other_task", other);
        }
        if needs.contains("{notification}") {
            // The client hands the entrepreneur a task: a `task_assigned` notice for them.
            let task = json!({ "title": "Call me back", "assignee_id": ent.id().to_string() });
            created(
                app.post("/api/v2/tasks", task, &tokens[&Who::Client])
                    .await
                    .status_and_raw(),
            );
            let notice = w.assert_notified(ent.id(), "task_assigned").await;
            vars.insert("notification", notice.id.to_string());
        }
        if needs.contains("{outbox}") {
            let id = crate::common::failed_outbox_message(w.store(), ent.id(), now).await;
            vars.insert("outbox", id.to_string());
        }
        if needs.contains("{enrollment}") {
            // The application accepted (the steps of `accepted()`), then its enrollment.
            let application = vars["application"].clone();
            let base = format!("/api/v2/applications/{application}");
            ok(app
                .command(&format!("{base}/submit"), &tokens[&Who::Entrepreneur])
                .await
                .status_and_raw());
            let reviewer = json!({ "reviewer_id": vars["reviewer_id"] });
            ok(app
                .post(&format!("{base}/reviewers"), reviewer, &tokens[&Who::Owner])
                .await
                .status_and_raw());
            let review = json!({ "score": 80 });
            ok(app
                .post(&format!("{base}/reviews"), review, &tokens[&Who::Reviewer])
                .await
                .status_and_raw());
            ok(app
                .command(&format!("{base}/accept"), &tokens[&Who::Owner])
                .await
                .status_and_raw());
            let seats = app
                .get(
                    &format!("/api/v2/programs/{}/enrollments", vars["program"]),
                    &tokens[&Who::Owner],
                )
                .await;
            assert_eq!(seats.status, StatusCode::OK, "enrollments: {}", seats.raw);
            let enrollment = seats.body["items"][0]["id"].as_str().expect("an enrollment").to_owned();
            vars.insert("enrollment", enrollment);
        }
        if needs.contains("{conversation}") || needs.contains("{message}") {
            let direct = OpenConversation::Direct(ent.id());
            let opened = w.eco.open_conversation(&w.admin.ctx, direct).await;
            let conversation = opened.expect("the admin opens a conversation").conversation.id;
            let sent = w.eco.send_message(&w.admin.ctx, conversation, "Welcome").await;
            vars.insert("message", sent.expect("the admin writes").id.to_string());
            vars.insert("conversation", conversation.to_string());
        }
        if needs.contains("{private_org}") {
            let private = created(
                app.post(
                    "/api/v2/organizations",
                    json!({ "name": "Quiet Hub", "organization_type": "incubator", "is_public": false }),
                    &t(Who::Owner),
                )
                .await
                .status_and_raw(),
            );
            for (who, role) in [(Who::Coordinator, "coordinator"), (Who::Reviewer, "reviewer")] {
                ok(app
                    .post(
                        &format!("/api/v2/organizations/{private}/members"),
                        json!({ "user_id": cast.ids[&who].to_string(), "role": role }),
                        &t(Who::Owner),
                    )
                    .await
                    .status_and_raw());
            }
            vars.insert("private_org", private);
        }
        if needs.contains("{public_project}") {
            let public = new_project(app, &t(Who::Entrepreneur), "Open venture", true).await;
            vars.insert("public_project", public);
        }
        if needs.contains("{spare_project}") {
            let spare = new_project(app, &t(Who::Entrepreneur), "Spare venture", false).await;
            vars.insert("spare_project", spare);
        }
        if needs.contains("{newcomer_id}") {
            vars.insert("newcomer_id", w.person(Role::Ally, "newcomer").await.id().to_string());
        }
        if needs.contains("{leaver_id}") {
            let leaver = w.person(Role::Ally, "leaver").await.id().to_string();
            ok(app
                .post(
                    &format!("/api/v2/organizations/{}/members", vars["org"]),
                    json!({ "user_id": leaver, "role": "reviewer" }),
                    &t(Who::Owner),
                )
                .await
                .status_and_raw());
            vars.insert("leaver_id", leaver);
        }
        if needs.contains("{email}") {
            vars.insert("email", format!("newcomer{}@example.test", w.next()));
        }
        if needs.contains("{verify_token}") {
            let email = format!("unverified{}@example.test", w.next());
            let reply = app
                .send(
                    Method::POST,
                    "/api/v2/auth/register",
                    Some(json!({ "email": email, "password": "Seven-Long-Words-42", "first_name": "Nueva", "last_name": "Persona", "role": "client" })),
                    None,
                    None,
                )
                .await;
            let id: uuid::Uuid = created(reply.status_and_raw()).parse().expect("a uuid");
            let token = w.token_from_outbox(UserId::from(id), "email_verification").await;
            vars.insert("verify_token", token);
        }
        if needs.contains("{refresh_token}") {
            let reply = app
                .send(
                    Method::POST,
                    "/api/v2/auth/login",
                    Some(json!({ "email": ent.email(), "password": PASSWORD })),
                    None,
                    None,
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "login: {}", reply.raw);
            let refresh = reply.body["refresh_token"]
                .as_str()
                .expect("a refresh token")
                .to_owned();
            vars.insert("refresh_token", refresh);
        }
        if needs.contains("{calendar_token}") {
            let reply = app
                .send(
                    Method::POST,
                    "/api/v2/users/me/calendar-feed",
                    None,
                    Some(&t(Who::Entrepreneur)),
                    None,
                )
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "calendar feed: {}", reply.raw);
            let path = reply.body["path"].as_str().expect("a feed path");
            let token = path
                .strip_prefix("/api/v2/calendar/")
                .and_then(|p| p.strip_suffix(".ics"))
                .expect("/api/v2/calendar/{token}.ics");
            vars.insert("calendar_token", token.to_owned());
        }
        if needs.contains("{document}") {
            let scene = Self {
                vars: vars.clone(),
                tokens: tokens.clone(),
            };
            let (status, raw) = scene
                .send(
                    app,
                    Who::Entrepreneur,
                    Method::POST,
                    "/api/v2/projects/{project}/documents",
                    Some(UPLOAD),
                )
                .await;
            vars.insert("document", created((status, raw)));
        }
        if needs.contains("{reset_token}") {
            let reply = app
                .send(
                    Method::POST,
                    "/api/v2/auth/password-reset",
                    Some(json!({ "email": ent.email() })),
                    None,
                    None,
                )
                .await;
            assert_eq!(reply.status, StatusCode::ACCEPTED, "reset: {}", reply.raw);
            vars.insert("reset_token", w.token_from_outbox(ent.id(), "password_reset").await);
        }
        if let Some(token) = mentor_token {
            tokens.insert(Who::Ally, token);
        }
        Self { vars, tokens }
    }

    /// `template` with every `{placeholder}` of the scene replaced.
    fn fill(&self, template: &str) -> String {
        let mut text = template.to_owned();
        for (key, value) in &self.vars {
            text = text.replace(&format!("{{{key}}}"), value);
        }
        text
    }

    fn token(&self, who: Who) -> Option<&str> {
        self.tokens.get(&who).map(String::as_str)
    }

    /// Sends `method path body` as `who`, placeholders filled.
    async fn send(&self, app: &App, who: Who, method: Method, path: &str, body: Option<&str>) -> (StatusCode, String) {
        let path = self.fill(path);
        assert!(!path.contains('{'), "an unknown placeholder in {path}");
        if body == Some(UPLOAD) {
            let pdf = crate::common::pdf_bytes();
            let parts: [(&str, Option<&str>, &[u8]); 3] = [
                ("title", None, b"Pitch deck"),
                ("document_type", None, b"pitch_deck"),
                ("file", Some("deck.pdf"), &pdf),
            ];
            return app.upload(&path, self.token(who), &parts).await.status_and_raw();
        }
        let body = body.map(|b| {
            let text = self.fill(b);
            serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("the body template {text}: {e}"))
        });
        app.send(method, &path, body, self.token(who), None)
            .await
            .status_and_raw()
    }
}

async fn new_project(app: &App, token: &str, name: &str, public: bool) -> String {
    created(
        app.post(
            "/api/v2/projects",
            json!({ "name": name, "description": "Something worth funding", "project_type": "startup", "is_public": public }),
            token,
        )
        .await
        .status_and_raw(),
    )
}

#[track_caller]
fn ok((status, raw): (StatusCode, String)) {
    assert!(status.is_success(), "a scene step failed: {status} {raw}");
}

/// The id of a created resource.
#[track_caller]
fn created((status, raw): (StatusCode, String)) -> String {
    assert_eq!(status, StatusCode::CREATED, "a scene step failed: {raw}");
    let body: Value = serde_json::from_str(&raw).expect("json");
    body["id"].as_str().expect("an id").to_owned()
}

trait StatusAndRaw {
    fn status_and_raw(self) -> (StatusCode, String);
}

impl StatusAndRaw for crate::common::Reply {
    fn status_and_raw(self) -> (StatusCode, String) {
        (self.status, self.raw)
    }
}

fn label(row: &Row) -> String {
    let mut text = format!("{} {}", row.method, row.path);
    if let Some(last) = row.steps.last() {
        text.push_str(&format!(
            " (after {})",
            last.path.rsplit('/').next().unwrap_or(last.path)
        ));
    }
    text
}

/// The cells of one row, in a world of its own: the mismatches.
async fn run_row(row: &Row) -> Vec<String> {
    let app = App::new().await;
    let cast = Cast::new(&app).await;
    let mut needs = format!("{} {}", row.path, row.body.unwrap_or_default());
    for s in &row.steps {
        needs.push_str(&format!(" {} {}", s.path, s.body.unwrap_or_default()));
    }
    let mut mismatches = Vec::new();
    for (who, expected) in ROLES.iter().zip(row.expect) {
        let scene = Scene::build(&app, &cast, &needs).await;
        for s in &row.steps {
            let (status, raw) = scene.send(&app, s.who, Method::POST, s.path, s.body).await;
            assert!(
                status.is_success(),
                "{} as {who:?}: the step POST {} as {:?} failed: {status} {raw}",
                label(row),
                s.path,
                s.who
            );
        }
        let (status, raw) = scene.send(&app, *who, row.method.clone(), row.path, row.body).await;
        if !expected.matches(status) {
            let raw: String = raw.chars().take(240).collect();
            mismatches.push(format!(
                "{} as {who:?}: expected {expected:?}, got {status} {raw}",
                label(row)
            ));
        }
        // Every refusal is a problem body with the code of its status.
        if let Some(code) = problem_code(status) {
            let body: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
            if body["code"] != code {
                mismatches.push(format!(
                    "{} as {who:?}: {status} with code {}",
                    label(row),
                    body["code"]
                ));
            }
        }
    }
    mismatches
}

// The rows are independent worlds: run them side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_role_as_the_table_says() {
    let rows = table();
    let count = rows.len();
    let tasks: Vec<_> = rows
        .into_iter()
        .map(|row| tokio::spawn(async move { run_row(&row).await }))
        .collect();
    let mut mismatches = Vec::new();
    for task in tasks {
        mismatches.extend(task.await.expect("a row's scene was built"));
    }
    let cells = count * ROLES.len();
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells ({count} rows × {} roles) disagree with the table:\n{}",
        mismatches.len(),
        ROLES.len(),
        mismatches.join("\n")
    );
}

/// The problem `code` a refusal of `status` carries.
fn problem_code(status: StatusCode) -> Option<&'static str> {
    match status {
        StatusCode::UNAUTHORIZED => Some("unauthorized"),
        StatusCode::FORBIDDEN => Some("forbidden"),
        StatusCode::NOT_FOUND => Some("not_found"),
        _ => None,
    }
}

/// `path` with every `{placeholder}` as `{}` and without its query: the route it calls.
fn route_of(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .map(|segment| if segment.starts_with('{') { "{}" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// A well-formed cohort matching proposal of the scene's program that no data produces.
const STALE_PROPOSAL: &str = r#"{"proposal": {"program_id": "{program}", "objective": "max_total_score",
    "min_score": 0.3, "pairs": [], "unassigned": [], "total_score": 0.0, "greedy_total_score": 0.0,
    "pool": [], "fingerprint": "stale", "proposed_at": "2030-01-01T00:00:00Z"}}"#;

/// A route added to the API (and so to its OpenAPI document) without a row fails here, naming
/// the route: the table stays the complete list.
#[tokio::test]
async fn the_table_has_a_row_for_every_documented_operation() {
    let app = App::new().await;
    let reply = app.send(Method::GET, "/api-docs/openapi.json", None, None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let covered: std::collections::HashSet<(String, String)> = table()
        .iter()
        .map(|row| (row.method.as_str().to_lowercase(), route_of(row.path)))
        .collect();
    let mut missing = Vec::new();
    for (path, operations) in reply.body["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            if !covered.contains(&(method.clone(), route_of(path))) {
                missing.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes without a row in the RBAC table:\n{}",
        missing.join("\n")
    );
}

/// The secret guard of every answer (`common::assert_no_secret`) does refuse what it should.
#[test]
fn the_secret_guard_refuses_a_password_hash_and_a_stored_token_hash() {
    let hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA";
    let leaked = std::panic::catch_unwind(|| crate::common::assert_no_secret(&format!("{{\"x\":\"{hash}\"}}"), &[]));
    assert!(leaked.is_err());
    let stored = vec!["5f2b9c0e".repeat(8)];
    let leaked = std::panic::catch_unwind(|| crate::common::assert_no_secret(&format!("[\"{}\"]", stored[0]), &stored));
    assert!(leaked.is_err());
    crate::common::assert_no_secret("{\"status\":\"ok\"}", &stored);
}
