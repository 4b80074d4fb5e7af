//! `/api/v2/…/analytics` and the CSV exports (docs/domain.md §9): the figures as JSON with their
//! refusals and range checks; the exports streamed with a BOM, RFC 4180 records that Python's
//! `csv` module reads back exactly, formula-injection escaping, no applicant identity for a
//! blind program, an audit entry each, and their own rate limit.

use std::sync::Arc;

use axum::http::StatusCode;
use icosistem_core::model::Role;
use icosistem_core::model::secret::SecretString;
use icosistem_core::service::Decision;
use icosistem_core::testing::fixtures::{ProgramSpec, World, project_input};
use icosistem_http::{AppState, HttpConfig, Quota, router};
use icosistem_store_memory::MemoryStore;
use serde_json::Value;

use crate::common::{App, FORBIDDEN, INVALID, SECRET, test_rate_limits};

#[tokio::test]
async fn analytics_answer_figures_to_staff_and_refuse_others() {
    let app = App::new().await;
    let world = &app.world;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let mut applicant = world.ready(&cohort, 88).await;
    world.advance(chrono::Duration::hours(2));
    world.decide(&cohort, &mut applicant, Decision::Accept).await;
    let owner = app.token(&cohort.owner);
    let reviewer = app.token(&cohort.reviewers[0]);
    let founder = app.token(&applicant.person);
    let admin = app.token(&world.admin);
    let program = cohort.program.id;
    let org = cohort.org.id;

    let figures = app.get(&format!("/api/v2/programs/{program}/analytics"), &owner).await;
    let body = figures.ok(StatusCode::OK);
    assert_eq!(body["program_id"], program.to_string());
    assert_eq!(body["blind_review"], false);
    let funnel = body["applications"]["funnel"].as_array().expect("funnel");
    assert_eq!(funnel.len(), 7, "every status");
    assert_eq!(funnel[3], serde_json::json!({ "status": "accepted", "count": 1 }));
    assert_eq!(body["applications"]["decision_median_seconds"], 7200);
    assert_eq!(body["reviews"]["scores"]["buckets"].as_array().map(Vec::len), Some(10));
    assert_eq!(body["reviews"]["scores"]["buckets"][8]["count"], 1);
    assert_eq!(
        body["reviews"]["scores"]["buckets"][9],
        serde_json::json!({ "min": 90, "max": 100, "count": 0 })
    );
    assert_eq!(body["reviews"]["scores"]["mean"], 88.0);
    assert_eq!(body["capacity"]["accepted"], 1);
    assert_eq!(body["enrollments"]["by_month"][0]["count"], 1);

    // A range: nothing created after now.
    let later = (world.now() + chrono::Duration::seconds(1)).to_rfc3339();
    let quiet = app
        .get(
            &format!("/api/v2/programs/{program}/analytics?from={}", urlencode(&later)),
            &owner,
        )
        .await;
    let body = quiet.ok(StatusCode::OK);
    assert!(
        body["applications"]["funnel"]
            .as_array()
            .expect("funnel")
            .iter()
            .all(|s| s["count"] == 0)
    );
    assert_eq!(body["from"].as_str().map(|s| s.starts_with(&later[..19])), Some(true));
    // Bad ranges name their field.
    assert_eq!(
        app.get_invalid(&format!("/api/v2/programs/{program}/analytics?from=yesterday"), &owner)
            .await,
        ["from"]
    );
    let now = urlencode(&world.now().to_rfc3339());
    assert_eq!(
        app.get_invalid(
            &format!("/api/v2/programs/{program}/analytics?from={now}&to={now}"),
            &owner,
        )
        .await,
        ["to"]
    );

    // Refusals: a reviewer sees the program but reads no analytics; the applicant neither.
    for token in [&reviewer, &founder] {
        app.get_refused(&format!("/api/v2/programs/{program}/analytics"), token, FORBIDDEN)
            .await;
    }
    app.get(&format!("/api/v2/organizations/{org}/analytics"), &owner)
        .await
        .ok(StatusCode::OK);
    app.get_refused(&format!("/api/v2/organizations/{org}/analytics"), &reviewer, FORBIDDEN)
        .await;
    app.get_refused("/api/v2/analytics/mentoring", &owner, FORBIDDEN).await;
    let platform = app.get("/api/v2/analytics/mentoring", &admin).await;
    assert_eq!(platform.ok(StatusCode::OK)["organization_id"], Value::Null);
    let of_org = app
        .get(&format!("/api/v2/analytics/mentoring?organization_id={org}"), &owner)
        .await;
    assert_eq!(of_org.ok(StatusCode::OK)["organization_id"], org.to_string());
    app.get_refused("/api/v2/analytics/mentoring?organization_id=nope", &owner, INVALID)
        .await;
    let mine = app.get("/api/v2/users/me/analytics", &founder).await;
    let body = mine.ok(StatusCode::OK);
    assert_eq!(body["user_id"], applicant.person.id().to_string());
    assert_eq!(body["applications"]["funnel"][3]["count"], 1);
    assert_eq!(body["mentoring"]["average_rating"], Value::Null);
}

/// `value` percent-encoded for a query string.
fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Rows of `raw` as Python's `csv` module reads them (`utf-8-sig` drops the BOM).
fn python_rows(raw: &str) -> Vec<Vec<String>> {
    let dir = std::env::temp_dir().join(format!("icosistem-csv-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("export.csv");
    std::fs::write(&file, raw.as_bytes()).expect("write");
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import csv, json, sys\n\
             with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n    \
             print(json.dumps(list(csv.reader(f, strict=True))))",
        )
        .arg(&file)
        .output()
        .expect("python3 runs");
    std::fs::remove_dir_all(&dir).ok();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("json rows")
}

#[tokio::test]
async fn csv_exports_escape_round_trip_and_hide_blind_identity() {
    let app = App::new().await;
    let world = &app.world;
    let eco = &world.eco;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let founder = world.entrepreneur().await;
    let tricky = "=HYPERLINK(\"http://x\"), \"quoted\"";
    let project = eco
        .create_project(&founder.ctx, project_input(tricky))
        .await
        .expect("project");
    let draft = eco
        .create_application(&founder.ctx, cohort.program.id, project.id, Default::default())
        .await
        .expect("draft");
    eco.submit_application(&founder.ctx, draft.id, None)
        .await
        .expect("submit");
    let mut applicant = icosistem_core::testing::fixtures::Applicant {
        person: founder.clone(),
        project: project.clone(),
        application: draft,
    };
    world.review(&cohort, &mut applicant, 71).await;
    let note = "line one\r\nline two, with \"quotes\"\n-then a minus";
    eco.decide(
        &cohort.owner.ctx,
        applicant.id(),
        Decision::Accept,
        Some(note.into()),
        None,
    )
    .await
    .expect("accept");
    let owner = app.token(&cohort.owner);
    let program = cohort.program.id;

    let export = app
        .get(&format!("/api/v2/programs/{program}/applications.csv"), &owner)
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.raw);
    assert_eq!(
        export.headers["content-type"],
        "text/csv; charset=utf-8; header=present"
    );
    assert!(export.raw.starts_with('\u{feff}'), "the BOM comes first");
    let rows = python_rows(&export.raw);
    assert_eq!(
        rows[0],
        [
            "application_id",
            "status",
            "submitted_at",
            "decided_at",
            "project_id",
            "project_name",
            "applicant_id",
            "applicant_name",
            "applicant_email",
            "mean_score",
            "decision_note",
        ]
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let row = &rows[1];
    assert_eq!(row[0], applicant.id().to_string());
    assert_eq!(row[1], "accepted");
    assert_eq!(
        row[5],
        format!("'{tricky}"),
        "a formula is escaped, quotes and commas survive"
    );
    assert_eq!(row[6], founder.id().to_string());
    assert_eq!(row[8], founder.email());
    assert_eq!(row[9], "71.00");
    assert_eq!(row[10], note, "line breaks and quotes round-trip");
    assert!(
        !world.audit("export.csv", program.as_uuid()).await.is_empty(),
        "audited"
    );

    let enrollments = app
        .get(&format!("/api/v2/programs/{program}/enrollments.csv"), &owner)
        .await;
    let rows = python_rows(&enrollments.raw);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][1], "enrolled");
    assert_eq!(rows[1][4], founder.id().to_string());

    // A blind program: no applicant column, no applicant identity anywhere in the file.
    let blind = world
        .cohort(ProgramSpec {
            blind_review: true,
            ..ProgramSpec::default()
        })
        .await;
    let hidden = world.accepted(&blind, 64).await;
    for token in [app.token(&blind.owner), app.token(&world.admin)] {
        let export = app
            .get(
                &format!("/api/v2/programs/{}/applications.csv", blind.program.id),
                &token,
            )
            .await;
        let rows = python_rows(&export.raw);
        assert!(!rows[0].iter().any(|c| c.starts_with("applicant")), "{:?}", rows[0]);
        assert_eq!(rows.len(), 2);
        for identity in [
            hidden.person.id().to_string(),
            hidden.person.email().to_owned(),
            hidden.person.user.first_name.to_string(),
        ] {
            assert!(!export.raw.contains(&identity), "{identity} leaked");
        }
        let enrollments = app
            .get(
                &format!("/api/v2/programs/{}/enrollments.csv", blind.program.id),
                &token,
            )
            .await;
        assert!(!enrollments.raw.contains(&hidden.person.id().to_string()));
    }

    // Who may export: program staff and admins; sessions: admins.
    let reviewer = app.token(&cohort.reviewers[0]);
    app.get_refused(
        &format!("/api/v2/programs/{program}/applications.csv"),
        &reviewer,
        FORBIDDEN,
    )
    .await;
    app.get_refused("/api/v2/analytics/mentoring/sessions.csv", &owner, FORBIDDEN)
        .await;
    let sessions = app
        .get("/api/v2/analytics/mentoring/sessions.csv", &app.token(&world.admin))
        .await;
    assert_eq!(sessions.status, StatusCode::OK);
    assert_eq!(python_rows(&sessions.raw)[0][0], "session_id");
}

#[tokio::test]
async fn exports_have_their_own_rate_limit() {
    let world = World::new(MemoryStore::new()).await;
    let limits = test_rate_limits().with_export(Quota::new(1, 1));
    let config = HttpConfig::new(SecretString::new(SECRET)).with_rate_limits(limits);
    let app = App {
        router: router(AppState::new(Arc::clone(&world.eco), config).expect("valid HTTP config")),
        world,
    };
    let (admin, _) = app.user(Role::Admin, "exporter").await;
    let token = app.token(&admin);
    let path = "/api/v2/analytics/mentoring/sessions.csv";
    assert_eq!(app.get(path, &token).await.status, StatusCode::OK);
    let limited = app.get(path, &token).await;
    limited.problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    // The JSON figures are not exports.
    app.get("/api/v2/analytics/mentoring", &token).await.ok(StatusCode::OK);
}
