//! Unit tests of the mentoring rules that need no store.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::allies::rank_suggestions;
use super::schedule::sessions_per_day;
use super::*;
use crate::model::Meta;

fn user() -> UserId {
    UserId::from_uuid(Uuid::now_v7())
}

fn mentorship(ally: UserId, entrepreneur: UserId) -> Mentorship {
    Mentorship {
        id: MentorshipId::from_uuid(Uuid::now_v7()),
        ally_id: ally,
        entrepreneur_id: entrepreneur,
        project_id: None,
        status: MentorshipStatus::Requested,
        message: None,
        areas: Vec::new(),
        duration_months: 6,
        started_at: None,
        ended_at: None,
        meta: Meta::new(chrono::DateTime::UNIX_EPOCH, None),
    }
}

fn card(id: u128, ratings_count: u32) -> AllyCard {
    AllyCard {
        id: UserId::from_uuid(Uuid::from_u128(id)),
        name: "Ana Ally".into(),
        primary_expertise: None,
        specializations: Vec::new(),
        preferred_stages: Vec::new(),
        available: true,
        max_mentees: 3,
        active_mentees: 0,
        has_capacity: true,
        average_rating_centi: None,
        ratings_count,
    }
}

#[test]
fn command_rights_hide_strangers_and_keep_the_entrepreneur_to_cancel() {
    let (ally, entrepreneur, stranger, admin) = (user(), user(), user(), user());
    let m = mentorship(ally, entrepreneur);
    let as_ally = Actor::User {
        id: ally,
        role: Role::Ally,
    };
    let as_entrepreneur = Actor::User {
        id: entrepreneur,
        role: Role::Entrepreneur,
    };
    let as_stranger = Actor::User {
        id: stranger,
        role: Role::Ally,
    };
    let as_admin = Actor::User {
        id: admin,
        role: Role::Admin,
    };
    for command in MentorshipCommand::ALL.iter().copied() {
        // `m` is a request: the ally answers it by declining, never by cancelling (§4.5).
        assert_eq!(
            check_command_rights(&as_ally, &m, command).is_ok(),
            command != MentorshipCommand::Cancel,
            "ally {command}"
        );
        assert!(check_command_rights(&as_admin, &m, command).is_ok(), "admin {command}");
        assert!(
            matches!(
                check_command_rights(&as_stranger, &m, command),
                Err(Error::NotFound {
                    entity: "mentorship",
                    ..
                })
            ),
            "stranger {command}"
        );
        let by_entrepreneur = check_command_rights(&as_entrepreneur, &m, command);
        if command == MentorshipCommand::Cancel {
            assert!(by_entrepreneur.is_ok());
        } else {
            assert!(
                matches!(by_entrepreneur, Err(Error::Forbidden(_))),
                "entrepreneur {command}"
            );
        }
    }
    assert!(matches!(
        check_command_rights(&Actor::Anonymous, &m, MentorshipCommand::Cancel),
        Err(Error::NotFound { .. })
    ));
    let mut active = m.clone();
    active.status = MentorshipStatus::Active;
    assert!(check_command_rights(&as_ally, &active, MentorshipCommand::Cancel).is_ok());
    assert_eq!(counterparts(&as_ally, &m), vec![entrepreneur]);
    assert_eq!(counterparts(&as_entrepreneur, &m), vec![ally]);
    assert_eq!(counterparts(&as_admin, &m), vec![entrepreneur, ally]);
}

#[test]
fn suggestions_are_above_the_threshold_best_first_with_stable_ties() {
    let s = |id, ratings, score| AllySuggestion {
        ally: card(id, ratings),
        score,
        reasons: Vec::new(),
    };
    let ranked = rank_suggestions(
        vec![
            s(1, 0, 0.3),
            s(2, 0, 0.5),
            s(3, 4, 0.5),
            s(4, 0, 0.9),
            s(5, 4, 0.5),
            s(6, 0, 0.31),
        ],
        0.3,
        4,
    );
    let ids: Vec<u128> = ranked.iter().map(|s| s.ally.id.as_uuid().as_u128()).collect();
    // 0.3 is not above the threshold; 3 and 5 tie on score and ratings: smaller id first;
    // 6 is cut by the limit.
    assert_eq!(ids, vec![4, 3, 5, 2]);
}

#[test]
fn areas_are_trimmed_deduplicated_and_every_failure_reported() {
    let mut errors = ValidationErrors::new();
    let areas = clean_areas(
        &mut errors,
        &[
            " Fundraising ".into(),
            "fundraising".into(),
            "  ".into(),
            "x".repeat(101),
            "Sales".into(),
        ],
    );
    assert_eq!(areas, vec!["Fundraising".to_owned(), "Sales".to_owned()]);
    assert!(errors.has("areas[2]") && errors.has("areas[3]") && !errors.has("areas"));
    let mut errors = ValidationErrors::new();
    clean_areas(&mut errors, &vec!["a".to_owned(); MAX_AREAS + 1]);
    assert!(errors.has("areas"));
}

#[test]
fn sessions_are_counted_per_local_day_of_the_allys_time_zone() {
    let bogota: Tz = "America/Bogota".parse().unwrap();
    // 2027-03-02 02:00Z is still March 1st in Bogotá (UTC-5).
    let starts = [
        Utc.with_ymd_and_hms(2027, 3, 1, 15, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2027, 3, 2, 2, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2027, 3, 2, 15, 0, 0).unwrap(),
    ];
    let march = |d| NaiveDate::from_ymd_opt(2027, 3, d).unwrap();
    assert_eq!(
        sessions_per_day(bogota, starts),
        BTreeMap::from([(march(1), 2), (march(2), 1)])
    );
    assert_eq!(
        sessions_per_day(chrono_tz::UTC, starts),
        BTreeMap::from([(march(1), 1), (march(2), 2)])
    );
}

#[test]
fn cards_promise_a_seat_only_when_accept_would_give_one() {
    let ally = AllyProfile {
        max_mentees: 2,
        ..Default::default()
    };
    for active in 0..4 {
        let load = ally_load(Some(&ally), active);
        let accept = wf::transition(MentorshipStatus::Requested, MentorshipCommand::Accept, &load);
        assert_eq!(has_capacity(&ally, active), accept.is_ok(), "{active} active");
    }
    let away = AllyProfile {
        available: false,
        ..ally
    };
    assert!(!has_capacity(&away, 0));
    assert!(ally_load(None, 0).max_mentees == 0);
}
