//! Chapter 14: a selection in three rounds (docs/domain.md §10). The incubator's fellowship screens
//! blind, interviews with two reviewers, and lets the director's committee decide. Each round has
//! its own reviewers, quorum and threshold; applications advance round by round or are turned
//! down in the round with a reason, never skip one, and only the last round accepts (under
//! capacity, as every accept).

use chrono::Duration;
use icosistem_core::model::{Application, Program, ProgramType, User};
use icosistem_core::ports::store::{AuditFilter, PageRequest};
use icosistem_core::service::{CreateProgram, Decision, RoundInput, SubmitReview, UpdateProgram};
use icosistem_core::workflow::program::ProgramCommand;
use icosistem_core::{Context, Error};
use serde_json::json;

use super::{Founder, Outcome, Staff, Story, answers, chapter, expect_refusal, refusal, score, stamp};

fn round(name: &str, reviewers: &[&User], min_reviews: i64, threshold: i64, blind: bool) -> RoundInput {
    RoundInput {
        name: name.to_owned(),
        reviewer_ids: reviewers.iter().map(|u| u.id).collect(),
        min_reviews,
        threshold,
        blind,
    }
}

/// The round an application is in, by name.
fn round_of(program: &Program, app: &Application) -> String {
    program
        .round(app.current_round)
        .map_or_else(|| "—".to_owned(), |r| r.name.clone())
}

/// `reviewer` is assigned by the coordinator (unless they are staff scoring directly) and scores.
async fn score_in_round(s: &Story, staff: &Staff, app: &Application, reviewer: &User, score: i64) -> Result<(), Error> {
    if reviewer.id != staff.director.id {
        s.eco
            .assign_reviewer(&Context::user(&staff.coordinator), app.id, reviewer.id)
            .await?;
    }
    s.eco
        .submit_review(
            &Context::user(reviewer),
            app.id,
            SubmitReview {
                score,
                comment: None,
                conflict_declared: false,
            },
        )
        .await?;
    Ok(())
}

pub(crate) async fn the_rounds(s: &Story, staff: &Staff, founders: &[Founder]) -> Outcome {
    chapter(14, "A selection in rounds");
    let coordinator = Context::user(&staff.coordinator);
    let director = Context::user(&staff.director);
    let [ana, javier] = &staff.reviewers;
    let rounds = vec![
        round("screening", &[], 1, 60, true),
        round("interview", &[ana, javier], 2, 70, false),
        round("committee", &[&staff.director], 1, 75, false),
    ];
    let program = s
        .eco
        .create_program(
            &coordinator,
            CreateProgram {
                organization_id: staff.org.id,
                name: "Andes Fellowship 2027".into(),
                program_type: ProgramType::Incubation,
                description: Some("A year-long fellowship, chosen in three rounds.".into()),
                application_opens_at: s.now(),
                application_deadline: s.now() + Duration::days(14),
                start_date: (s.now() + Duration::days(30)).date_naive(),
                end_date: (s.now() + Duration::days(365)).date_naive(),
                min_participants: Some(1),
                max_participants: 2,
                min_reviews: None,
                blind_review: Some(false),
                target_sectors: Vec::new(),
                target_stages: Vec::new(),
                format: None,
                rounds: Some(rounds),
            },
        )
        .await?;
    let program = s
        .eco
        .program_command(&coordinator, program.id, ProgramCommand::Publish, None)
        .await?;
    println!(
        "  {} publishes \"{}\" ({} seats), selected in {} rounds:",
        staff.coordinator.first_name,
        program.name,
        program.max_participants,
        program.rounds.len()
    );
    for (i, r) in program.rounds.iter().enumerate() {
        let who = if r.reviewer_ids.is_empty() {
            "any member".to_owned()
        } else {
            format!("{} named reviewer(s)", r.reviewer_ids.len())
        };
        println!(
            "    {}. {:<10} {} review(s), mean ≥ {}, {}{}",
            i + 1,
            r.name,
            r.min_reviews,
            r.threshold,
            who,
            if r.blind { ", blind" } else { "" }
        );
    }

    // Three founders apply; each enters the first round when submitting.
    let mut apps = Vec::new();
    for founder in &founders[..3] {
        let draft = s
            .eco
            .create_application(
                &founder.ctx(),
                program.id,
                founder.project.id,
                answers(json!({ "why": "A year to build with the fellowship" })),
            )
            .await?;
        let app = s.eco.submit_application(&founder.ctx(), draft.id, None).await?;
        println!(
            "  {} applies with {}: round {}.",
            founder.user.first_name,
            founder.project.name,
            round_of(&program, &app)
        );
        apps.push(app);
    }

    // Screening: blind, one review each.
    for (app, points) in apps.iter().zip([90, 55, 80]) {
        score_in_round(s, staff, app, ana, points).await?;
    }
    let view = s.eco.get_application(&Context::user(ana), apps[0].id).await?;
    println!(
        "  {} screens blind: she sees \"{}\" but no applicant ({}), and no mean score ({}).",
        ana.first_name,
        view.project.name,
        if view.applicant.is_none() { "hidden" } else { "shown" },
        score(view.mean_score_centi)
    );
    let low = &apps[1];
    let e = expect_refusal(
        s.eco.advance_application(&coordinator, low.id, None).await,
        "advancing a 55",
    )?;
    println!(
        "  Advancing {}'s 55 past a 60 bar: {}",
        founders[1].user.first_name,
        refusal(&e)
    );
    let out = s
        .eco
        .reject_application_in_round(&coordinator, low.id, "Below the screening bar this year".into(), None)
        .await?;
    println!(
        "  Rejected in the screening with a reason: {} (\"{}\").",
        out.status,
        out.decision_note.as_deref().unwrap_or_default()
    );
    let e = expect_refusal(
        s.eco
            .decide(&coordinator, apps[0].id, Decision::Accept, None, None)
            .await,
        "accepting in the screening",
    )?;
    println!("  Accepting straight from the screening: {}", refusal(&e));
    for i in [0, 2] {
        let app = s.eco.advance_application(&coordinator, apps[i].id, None).await?;
        println!(
            "  {} advances to the {}.",
            founders[i].user.first_name,
            round_of(&program, &app)
        );
        apps[i] = app;
    }

    // Interview: Ana and Javier, two reviews, names shown again.
    let e = expect_refusal(
        s.eco.advance_application(&coordinator, apps[0].id, None).await,
        "advancing without interview reviews",
    )?;
    println!("  Advancing before anyone interviewed: {}", refusal(&e));
    for (i, points) in [(0, (85, 80)), (2, (70, 60))] {
        score_in_round(s, staff, &apps[i], ana, points.0).await?;
        score_in_round(s, staff, &apps[i], javier, points.1).await?;
    }
    let view = s.eco.get_application(&Context::user(javier), apps[0].id).await?;
    println!(
        "  {} interviews {} (identity shown now: {}): mean {}; {}'s mean is 65.00.",
        javier.first_name,
        view.applicant.as_ref().map_or("someone", |a| a.name.as_str()),
        if view.blind { "no" } else { "yes" },
        score(view.mean_score_centi),
        founders[2].user.first_name,
    );
    let e = expect_refusal(
        s.eco.advance_application(&coordinator, apps[2].id, None).await,
        "advancing a 65",
    )?;
    println!(
        "  {}'s mean of 65 against a 70 bar: {}",
        founders[2].user.first_name,
        refusal(&e)
    );
    s.eco
        .reject_application_in_round(&coordinator, apps[2].id, "Strong idea, not yet the team".into(), None)
        .await?;
    println!("  Rejected in the interview.");
    apps[0] = s.eco.advance_application(&coordinator, apps[0].id, None).await?;
    println!(
        "  {} advances to the {}.",
        founders[0].user.first_name,
        round_of(&program, &apps[0])
    );

    // Committee: the director alone.
    let e = expect_refusal(
        s.eco.assign_reviewer(&coordinator, apps[0].id, ana.id).await,
        "Ana on the committee",
    )?;
    println!("  Assigning {} to the committee: {}", ana.first_name, refusal(&e));
    score_in_round(s, staff, &apps[0], &staff.director, 88).await?;
    let e = expect_refusal(
        s.eco.advance_application(&director, apps[0].id, None).await,
        "advancing past the committee",
    )?;
    println!("  Advancing past the last round: {}", refusal(&e));
    let accepted = s
        .eco
        .decide(
            &director,
            apps[0].id,
            Decision::Accept,
            Some("Welcome to the fellowship".into()),
            None,
        )
        .await?;
    println!(
        "  {} accepts {} in the committee: {} (mean {}).",
        staff.director.first_name,
        founders[0].user.first_name,
        accepted.status,
        score(accepted.mean_score_centi)
    );

    // The process is fixed now that applications entered it.
    let e = expect_refusal(
        s.eco
            .update_program(
                &coordinator,
                program.id,
                UpdateProgram {
                    rounds: Some(vec![round("committee", &[], 1, 50, false)]),
                    ..Default::default()
                },
            )
            .await,
        "changing the rounds",
    )?;
    println!("  Changing the rounds now: {}", refusal(&e));
    let trail = s
        .eco
        .list_audit_events(
            &Context::user(&staff.admin),
            AuditFilter {
                target_id: Some(apps[0].id.into()),
                action: Some("application.advance".into()),
                ..Default::default()
            },
            PageRequest::all(),
        )
        .await?;
    println!(
        "  {}'s path in the audit trail: {} advance(s), the last at {}.",
        founders[0].user.first_name,
        trail.items.len(),
        trail.items.first().map_or_else(|| "—".to_owned(), |e| stamp(e.at))
    );
    Ok(())
}
