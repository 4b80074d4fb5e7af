//! `/api/v2/programs/{id}/matching/*`: a whole-cohort proposal over HTTP (the core's JSON, with
//! reasons), confirmed once into mentorship requests; the same proposal again is stale (409),
//! and participants may not ask (403).

use axum::http::StatusCode;
use icosistem_core::model::{AllyProfile, EntrepreneurProfile, ProfileData};
use icosistem_core::testing::fixtures::{ProgramSpec, weekdays};
use serde_json::json;

use crate::common::{App, CONFLICT, FORBIDDEN, INVALID};

#[tokio::test]
async fn a_cohort_is_proposed_confirmed_once_and_refused_when_stale() {
    let app = App::new().await;
    let w = &app.world;
    let cohort = w.cohort(ProgramSpec::default()).await;
    let mut participants = Vec::new();
    for sector in ["fintech", "health"] {
        let applicant = w.accepted(&cohort, 80).await;
        w.eco
            .update_my_profile(
                &applicant.person.ctx,
                ProfileData::Entrepreneur(EntrepreneurProfile {
                    sectors: vec![sector.to_owned()],
                    ..EntrepreneurProfile::default()
                }),
                None,
            )
            .await
            .expect("profile");
        participants.push(applicant);
        let profile = AllyProfile {
            primary_expertise: Some(sector.to_owned()),
            max_mentees: 1,
            ..AllyProfile::default()
        };
        w.mentor(profile, "UTC", weekdays(8, 18)).await;
    }
    let staff = app.token(&cohort.owner);
    let base = format!("/api/v2/programs/{}/matching", cohort.program.id);

    let participant = app.token(&participants[0].person);
    app.post(&format!("{base}/proposals"), json!({}), &participant)
        .await
        .refused(FORBIDDEN);
    app.post(
        &format!("{base}/proposals"),
        json!({ "objective": "best_vibes" }),
        &staff,
    )
    .await
    .refused(INVALID);

    let reply = app
        .post(
            &format!("{base}/proposals"),
            json!({ "objective": "max_coverage" }),
            &staff,
        )
        .await;
    let proposal = reply.ok(StatusCode::OK).clone();
    assert_eq!(proposal["objective"], "max_coverage");
    let pairs = proposal["pairs"].as_array().expect("pairs");
    assert_eq!(pairs.len(), 2, "{proposal}");
    for pair in pairs {
        assert_eq!(pair["score"], 0.4, "{pair}");
        assert!(!pair["reasons"].as_array().expect("reasons").is_empty());
    }
    assert_eq!(proposal["unassigned"], json!([]));

    let created = app
        .post(&format!("{base}/confirm"), json!({ "proposal": proposal }), &staff)
        .await;
    let created = created.ok(StatusCode::CREATED).as_array().expect("mentorships").clone();
    assert_eq!(created.len(), 2);
    assert!(created.iter().all(|m| m["status"] == "requested"));
    app.post(&format!("{base}/confirm"), json!({ "proposal": proposal }), &staff)
        .await
        .refused(CONFLICT);
    app.post(
        &format!("{base}/confirm"),
        json!({ "proposal": { "pairs": [] } }),
        &staff,
    )
    .await
    .refused(INVALID);
}
