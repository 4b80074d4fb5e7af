//! The OpenAPI document against the contract: every path and verb of the HTTP contract is in it with
//! its operation documented, it is OpenAPI 3.1, and an `insta` snapshot pins it so any change to
//! the public contract shows up in review (`cargo insta review` after an intended change).

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::common::App;

/// Every method and path of the HTTP contract (commands are `POST /{id}/<command>`).
const CONTRACT: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/health/ready"),
    ("get", "/health/detailed"),
    ("get", "/api/v2/health"),
    ("post", "/api/v2/auth/register"),
    ("post", "/api/v2/auth/verify-email"),
    ("post", "/api/v2/auth/login"),
    ("post", "/api/v2/auth/refresh"),
    ("post", "/api/v2/auth/logout"),
    ("post", "/api/v2/auth/password-reset"),
    ("post", "/api/v2/auth/password-reset/confirm"),
    ("get", "/api/v2/users/me"),
    ("patch", "/api/v2/users/me"),
    ("put", "/api/v2/users/me/password"),
    ("put", "/api/v2/users/me/profile"),
    ("get", "/api/v2/admin/users"),
    ("post", "/api/v2/admin/users"),
    ("get", "/api/v2/admin/users/{id}"),
    ("patch", "/api/v2/admin/users/{id}"),
    ("post", "/api/v2/admin/users/{id}/unlock"),
    ("get", "/api/v2/organizations"),
    ("post", "/api/v2/organizations"),
    ("get", "/api/v2/organizations/{id}"),
    ("get", "/api/v2/organizations/{id}/members"),
    ("post", "/api/v2/organizations/{id}/members"),
    ("delete", "/api/v2/organizations/{id}/members/{user_id}"),
    ("post", "/api/v2/organizations/{id}/activate"),
    ("post", "/api/v2/organizations/{id}/suspend"),
    ("get", "/api/v2/programs"),
    ("post", "/api/v2/programs"),
    ("get", "/api/v2/programs/{id}"),
    ("post", "/api/v2/programs/{id}/publish"),
    ("post", "/api/v2/programs/{id}/start"),
    ("post", "/api/v2/programs/{id}/complete"),
    ("post", "/api/v2/programs/{id}/cancel"),
    ("get", "/api/v2/programs/{id}/enrollments"),
    ("post", "/api/v2/programs/{id}/matching/proposals"),
    ("post", "/api/v2/programs/{id}/matching/confirm"),
    ("get", "/api/v2/enrollments/{id}"),
    ("post", "/api/v2/enrollments/{id}/drop-out"),
    ("get", "/api/v2/projects"),
    ("post", "/api/v2/projects"),
    ("get", "/api/v2/projects/{id}"),
    ("patch", "/api/v2/projects/{id}"),
    ("delete", "/api/v2/projects/{id}"),
    ("post", "/api/v2/projects/{id}/advance-stage"),
    ("post", "/api/v2/projects/{id}/activate"),
    ("post", "/api/v2/projects/{id}/pause"),
    ("post", "/api/v2/projects/{id}/resume"),
    ("post", "/api/v2/projects/{id}/complete"),
    ("post", "/api/v2/projects/{id}/cancel"),
    ("get", "/api/v2/projects/{id}/milestones"),
    ("post", "/api/v2/projects/{id}/milestones"),
    ("get", "/api/v2/milestones"),
    ("get", "/api/v2/milestones/{id}"),
    ("patch", "/api/v2/milestones/{id}"),
    ("post", "/api/v2/milestones/{id}/start"),
    ("post", "/api/v2/milestones/{id}/progress"),
    ("post", "/api/v2/milestones/{id}/complete"),
    ("post", "/api/v2/milestones/{id}/delay"),
    ("post", "/api/v2/milestones/{id}/cancel"),
    ("get", "/api/v2/applications"),
    ("post", "/api/v2/applications"),
    ("get", "/api/v2/applications/{id}"),
    ("patch", "/api/v2/applications/{id}"),
    ("post", "/api/v2/applications/{id}/submit"),
    ("post", "/api/v2/applications/{id}/withdraw"),
    ("post", "/api/v2/applications/{id}/accept"),
    ("post", "/api/v2/applications/{id}/reject"),
    ("post", "/api/v2/applications/{id}/waitlist"),
    ("post", "/api/v2/applications/{id}/promote"),
    ("post", "/api/v2/applications/{id}/reviewers"),
    ("get", "/api/v2/applications/{id}/reviews"),
    ("post", "/api/v2/applications/{id}/reviews"),
    ("get", "/api/v2/mentorships"),
    ("post", "/api/v2/mentorships"),
    ("get", "/api/v2/mentorships/{id}"),
    ("post", "/api/v2/mentorships/{id}/accept"),
    ("post", "/api/v2/mentorships/{id}/decline"),
    ("post", "/api/v2/mentorships/{id}/pause"),
    ("post", "/api/v2/mentorships/{id}/resume"),
    ("post", "/api/v2/mentorships/{id}/complete"),
    ("post", "/api/v2/mentorships/{id}/cancel"),
    ("get", "/api/v2/allies"),
    ("get", "/api/v2/allies/suggestions"),
    ("get", "/api/v2/allies/{id}/free-slots"),
    ("get", "/api/v2/allies/me/availability"),
    ("put", "/api/v2/allies/me/availability"),
    ("get", "/api/v2/mentorships/{id}/sessions"),
    ("post", "/api/v2/mentorships/{id}/sessions"),
    ("get", "/api/v2/sessions/{id}"),
    ("post", "/api/v2/sessions/{id}/confirm"),
    ("post", "/api/v2/sessions/{id}/start"),
    ("post", "/api/v2/sessions/{id}/complete"),
    ("post", "/api/v2/sessions/{id}/cancel"),
    ("post", "/api/v2/sessions/{id}/reschedule"),
    ("post", "/api/v2/sessions/{id}/feedback"),
    ("get", "/api/v2/meetings"),
    ("post", "/api/v2/meetings"),
    ("get", "/api/v2/meetings/{id}"),
    ("get", "/api/v2/meetings/{id}/participants"),
    ("post", "/api/v2/meetings/{id}/participants"),
    ("post", "/api/v2/meetings/{id}/respond"),
    ("post", "/api/v2/meetings/{id}/start"),
    ("post", "/api/v2/meetings/{id}/complete"),
    ("post", "/api/v2/meetings/{id}/cancel"),
    ("post", "/api/v2/meetings/{id}/reschedule"),
    ("get", "/api/v2/tasks"),
    ("post", "/api/v2/tasks"),
    ("get", "/api/v2/tasks/{id}"),
    ("patch", "/api/v2/tasks/{id}"),
    ("post", "/api/v2/tasks/{id}/dependencies"),
    ("post", "/api/v2/tasks/{id}/start"),
    ("post", "/api/v2/tasks/{id}/block"),
    ("post", "/api/v2/tasks/{id}/unblock"),
    ("post", "/api/v2/tasks/{id}/complete"),
    ("post", "/api/v2/tasks/{id}/cancel"),
    ("get", "/api/v2/notifications"),
    ("post", "/api/v2/notifications/read-all"),
    ("post", "/api/v2/notifications/{id}/read"),
    ("post", "/api/v2/notifications/{id}/archive"),
    ("get", "/api/v2/audit-events"),
];

async fn document() -> Value {
    let app = App::new().await;
    let reply = app
        .send(axum::http::Method::GET, "/api-docs/openapi.json", None, None, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    reply.body
}

#[tokio::test]
async fn every_path_of_the_contract_is_documented() {
    let doc = document().await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")),
        "OpenAPI 3.1, got {}",
        doc["openapi"]
    );
    let mut missing = Vec::new();
    for (method, path) in CONTRACT {
        let operation = &doc["paths"][path][method];
        if !operation.is_object() {
            missing.push(format!("{} {path}", method.to_uppercase()));
            continue;
        }
        let responses = operation["responses"].as_object();
        assert!(
            responses.is_some_and(|r| !r.is_empty()),
            "{method} {path} documents no responses"
        );
        // Every authenticated operation documents its 401; every body-taking one its 422.
        if path.starts_with("/api/v2/") && !path.starts_with("/api/v2/auth/") && *path != "/api/v2/health" {
            assert!(
                operation["security"].is_array(),
                "{method} {path} does not declare the bearer scheme"
            );
        }
    }
    assert!(missing.is_empty(), "undocumented paths of API.md: {missing:#?}");
}

#[tokio::test]
async fn every_documented_reference_resolves() {
    // A `$ref` to a schema that is not in `components` makes the document invalid for every
    // client generator; utoipa only checks this at runtime, so walk the whole tree.
    let doc = document().await;
    let schemas = doc["components"]["schemas"].as_object().expect("schemas").clone();
    let mut dangling = Vec::new();
    let mut stack = vec![&doc];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref")
                    && let Some(name) = target.strip_prefix("#/components/schemas/")
                    && !schemas.contains_key(name)
                {
                    dangling.push(target.clone());
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    dangling.sort();
    dangling.dedup();
    assert!(dangling.is_empty(), "dangling schema references: {dangling:?}");
}

#[tokio::test]
async fn the_document_matches_its_snapshot() {
    let mut doc = document().await;
    // The crate version changes with every release and says nothing about the contract.
    doc["info"]["version"] = Value::from("<version>");
    insta::assert_json_snapshot!("openapi", doc);
}

/// The document and the validators agree: for every bounded or enumerated field of the request
/// bodies below (and `limit`), a value the schema allows at its edge is not refused on that field,
/// and a value one past the edge (or outside the enum) is refused with 422 naming it. A validator
/// bound changed without the schema (or the reverse) fails here.
#[tokio::test]
async fn the_schema_and_the_validators_agree() {
    use icosistem_core::model::Role;
    use serde_json::json;

    let doc = document().await;
    let app = App::new().await;
    let (_, admin) = app.user(Role::Admin, "schema-admin").await;
    let (_, founder) = app.user(Role::Entrepreneur, "schema-founder").await;
    let org = app.organization(&admin, "Schema Org").await.id();
    let project = app
        .post(
            "/api/v2/projects",
            json!({"name": "Schema Project", "description": "A project to hang milestones on.", "project_type": "startup"}),
            &founder,
        )
        .await;
    assert_eq!(project.status, StatusCode::CREATED, "{}", project.raw);
    let project = project.id();
    let cases: Vec<(Method, String, &str, &str, Value)> = vec![
        (
            Method::POST,
            "/api/v2/organizations".into(),
            "CreateOrganizationRequest",
            admin.as_str(),
            json!({"name": "Bounds Org", "organization_type": "incubator"}),
        ),
        (
            Method::POST,
            "/api/v2/programs".into(),
            "CreateProgramRequest",
            admin.as_str(),
            app.program_body(&org, "Bounds Program", 10),
        ),
        (
            Method::POST,
            "/api/v2/projects".into(),
            "CreateProjectRequest",
            founder.as_str(),
            json!({"name": "Bounds Project", "description": "Long enough to pass.", "project_type": "startup"}),
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{project}/milestones"),
            "CreateMilestoneRequest",
            founder.as_str(),
            json!({"title": "Bounds milestone", "target_date": (app.world.now() + chrono::Duration::days(30)).date_naive().to_string()}),
        ),
        (
            Method::POST,
            "/api/v2/admin/users".into(),
            "AdminCreateUserRequest",
            admin.as_str(),
            json!({"email": "bounds@example.org", "password": "a long enough passphrase", "first_name": "Ada", "last_name": "Lovelace", "role": "client"}),
        ),
        (
            Method::POST,
            "/api/v2/tasks".into(),
            "CreateTaskRequest",
            founder.as_str(),
            json!({"title": "Bounds task"}),
        ),
        // Updates: every field optional, the same bounds.
        (
            Method::PATCH,
            format!("/api/v2/projects/{project}"),
            "UpdateProjectRequest",
            founder.as_str(),
            json!({}),
        ),
        (
            Method::PATCH,
            format!("/api/v2/organizations/{org}"),
            "UpdateOrganizationRequest",
            admin.as_str(),
            json!({}),
        ),
        (
            Method::PATCH,
            "/api/v2/users/me".into(),
            "UpdateMeRequest",
            founder.as_str(),
            json!({}),
        ),
    ];
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for (method, path, schema, token, base) in cases {
        let properties = doc["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{schema} has properties"));
        for (field, rule) in properties {
            let mut probes: Vec<(Value, bool)> = Vec::new();
            // Distinct letters keep names unique (a slug collision would answer 409, not 422).
            let text = |n: u64| -> Value {
                Value::from(
                    (0..n)
                        .map(|i| char::from(b'a' + u8::try_from((i * 7 + n) % 26).unwrap_or(0)))
                        .collect::<String>(),
                )
            };
            // Letters alone are a valid value of a plain or trimmed text, not of a shaped one
            // (email, web address): those are probed by their pattern below.
            let letters_fit = rule.get("pattern").is_none() || rule.get("x-trimmed-length").is_some();
            if let Some(max) = rule["maxLength"].as_u64().filter(|_| letters_fit) {
                probes.push((text(max), true));
                probes.push((text(max + 1), false));
            }
            if let Some(min) = rule["minLength"].as_u64().filter(|_| letters_fit) {
                probes.push((text(min), true));
                if min > 1 {
                    probes.push((text(min - 1), false));
                }
            }
            if let Some(max) = rule["maximum"].as_i64() {
                probes.push((Value::from(max), true));
                probes.push((Value::from(max + 1), false));
            }
            if let Some(min) = rule["minimum"].as_i64() {
                probes.push((Value::from(min), true));
                probes.push((Value::from(min - 1), false));
            }
            // A text the core trims: its bounds hold for the trimmed value, so surrounding
            // whitespace is taken at both edges, and blank is refused when required.
            if let Some(trimmed) = rule.get("x-trimmed-length") {
                let (min, max) = (
                    trimmed["min"].as_u64().expect("min"),
                    trimmed["max"].as_u64().expect("max"),
                );
                let padded = |n: u64| Value::from(format!(" \t{} \u{3000}", text(n).as_str().unwrap_or_default()));
                probes.push((text(max), true));
                probes.push((text(max + 1), false));
                probes.push((padded(max), true));
                probes.push((padded(max + 1), false));
                if min > 1 {
                    probes.push((text(min), true));
                    probes.push((text(min - 1), false));
                }
                if min > 0 {
                    probes.push((padded(min), true));
                    probes.push((Value::from("   "), false));
                }
            } else if rule.get("pattern").is_some() {
                // The other patterns (email, web address, tax id) refuse a value with an inner
                // space and nothing else.
                probes.push((Value::from("x y"), false));
            }
            if let Some(values) = rule["enum"].as_array() {
                probes.extend(values.iter().filter(|v| !v.is_null()).map(|v| (v.clone(), true)));
                probes.push((Value::from("not_one_of_them"), false));
            }
            for (value, allowed) in probes {
                let mut body = base.clone();
                body[field.as_str()] = value.clone();
                let reply = app.send(method.clone(), &path, Some(body), Some(token), None).await;
                let refused = reply.status == StatusCode::UNPROCESSABLE_ENTITY && reply.fields().contains(field);
                if refused == allowed {
                    let shown = match value.as_str() {
                        Some(text) if text.len() > 20 => format!("<{} chars>", text.chars().count()),
                        _ => value.to_string(),
                    };
                    disagreements.push(format!(
                        "{method} {schema}.{field} = {shown}: the schema says {}, the server answered {} {}",
                        if allowed { "allowed" } else { "refused" },
                        reply.status,
                        reply.raw
                    ));
                }
                checked += 1;
            }
        }
    }
    // `limit` of every list: the schema's bounds are the core's page bounds.
    let limit = doc["paths"]["/api/v2/projects"]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
        .expect("limit")["schema"]
        .clone();
    let max = limit["maximum"].as_u64().expect("limit maximum");
    let min = limit["minimum"].as_u64().expect("limit minimum");
    for (value, allowed) in [(max, true), (max + 1, false), (min, true), (min - 1, false)] {
        let reply = app.get(&format!("/api/v2/projects?limit={value}"), &founder).await;
        if (reply.status == StatusCode::OK) != allowed {
            disagreements.push(format!("limit = {value}: {} {}", reply.status, reply.raw));
        }
        checked += 1;
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(checked > 40, "only {checked} probes: the schemas lost their rules");
}

/// A deployment's password policy (`ICOSISTEM_LIMIT_PASSWORD_MIN_LEN` / `_MAX_LEN`) is its served
/// document's too: every password a request sets carries the deployment's bounds, and the server
/// refuses exactly outside them (so a generated client checks what the server checks).
#[tokio::test]
async fn the_served_document_states_the_deployments_password_policy() {
    use serde_json::json;

    let mut limits = icosistem_core::Limits::default();
    limits.password.min_len = 16;
    limits.password.max_len = 40;
    let app = App::with_limits(limits).await;
    let reply = app.send(Method::GET, "/api-docs/openapi.json", None, None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let schemas = &reply.body["components"]["schemas"];
    for (schema, field) in [
        ("RegisterRequest", "password"),
        ("AdminCreateUserRequest", "password"),
        ("ChangePasswordRequest", "new_password"),
        ("PasswordResetConfirm", "new_password"),
    ] {
        let rule = &schemas[schema]["properties"][field];
        assert_eq!(rule["minLength"], 16, "{schema}.{field}: {rule}");
        assert_eq!(rule["maxLength"], 40, "{schema}.{field}: {rule}");
    }
    let described = schemas["RegisterRequest"]["properties"]["password"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(described.contains("16–40"), "{described}");
    // A password only checked, never set, has no length bound.
    assert!(
        schemas["LoginRequest"]["properties"]["password"]
            .get("minLength")
            .is_none()
    );

    for (n, allowed) in [(15, false), (16, true), (40, true), (41, false)] {
        let password: String = (0..n).map(|i| char::from(b'a' + (i * 5 % 26) as u8)).collect();
        let body = json!({
            "email": format!("policy{n}@example.org"), "password": password,
            "first_name": "Ada", "last_name": "Lovelace", "role": "entrepreneur",
        });
        let reply = app
            .send(Method::POST, "/api/v2/auth/register", Some(body), None, None)
            .await;
        let refused =
            reply.status == StatusCode::UNPROCESSABLE_ENTITY && reply.fields().contains(&"password".to_owned());
        assert_eq!(refused, !allowed, "{n} chars: {} {}", reply.status, reply.raw);
    }
}
