//! `/api/v2/users/me/profile`: the caller's role profile (entrepreneur, ally or client).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing;
use icosistem_core::Error;
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::value::{AtField, Currency, Money};
use icosistem_core::model::{
    AllyProfile, ClientProfile, ClientType, EntrepreneurProfile, EntrepreneurStage, Profile, ProfileData, ProjectStage,
    Role,
};
use icosistem_core::ports::{Clock, Notifier, Store};

use super::kit::{Authenticated, BadBody, Conflict, IfMatch, NotFound};
use super::{finish, optional_enum, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{ApiJson, MoneyDto, ProfileDto, UpdateProfileRequest};
use crate::error::ApiError;

fn profile_response(profile: &Profile) -> Response {
    versioned(profile.meta.version, ProfileDto::from(profile))
}

fn money(errors: &mut ValidationErrors, field: &'static str, dto: &MoneyDto) -> Option<Money> {
    let currency = errors.check(dto.currency.parse::<Currency>().at(field))?;
    errors.check(Money::new(dto.amount_minor, currency).at(field))
}

/// A number in `range`, else `message` under `field` (the core's bounds and words, checked here
/// so that one 422 lists them with the parsing failures).
fn bounded<T: TryFrom<i64>>(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
    message: &'static str,
) -> Option<T> {
    let value = value?;
    match T::try_from(value) {
        Ok(v) if range.contains(&value) => Some(v),
        _ => {
            errors.push(field, message);
            None
        }
    }
}

/// The profile data of `kind` from the body; fields of another role's group are refused.
fn profile_data(errors: &mut ValidationErrors, kind: Role, body: UpdateProfileRequest) -> Option<ProfileData> {
    let groups: [(Role, &[(&'static str, bool)]); 3] = [
        (
            Role::Entrepreneur,
            &[
                ("stage", body.stage.is_some()),
                ("sectors", body.sectors.is_some()),
                ("seeking_mentorship", body.seeking_mentorship.is_some()),
                ("mentorship_areas", body.mentorship_areas.is_some()),
            ],
        ),
        (
            Role::Ally,
            &[
                ("primary_expertise", body.primary_expertise.is_some()),
                ("specializations", body.specializations.is_some()),
                ("preferred_stages", body.preferred_stages.is_some()),
                ("max_mentees", body.max_mentees.is_some()),
                ("available", body.available.is_some()),
                ("session_duration_minutes", body.session_duration_minutes.is_some()),
            ],
        ),
        (
            Role::Client,
            &[
                ("client_type", body.client_type.is_some()),
                ("interest_areas", body.interest_areas.is_some()),
                ("investment_min", body.investment_min.is_some()),
                ("investment_max", body.investment_max.is_some()),
            ],
        ),
    ];
    for (role, fields) in groups {
        if role == kind {
            continue;
        }
        for (field, sent) in fields {
            if *sent {
                errors.push(*field, format!("does not apply to a {kind} profile"));
            }
        }
    }
    match kind {
        Role::Entrepreneur => {
            let defaults = EntrepreneurProfile::default();
            let stage = optional_enum::<EntrepreneurStage>(errors, "stage", body.stage.as_deref());
            Some(ProfileData::Entrepreneur(EntrepreneurProfile {
                stage: stage.unwrap_or(defaults.stage),
                sectors: body.sectors.unwrap_or_default(),
                seeking_mentorship: body.seeking_mentorship.unwrap_or(defaults.seeking_mentorship),
                mentorship_areas: body.mentorship_areas.unwrap_or_default(),
            }))
        }
        Role::Ally => {
            let defaults = AllyProfile::default();
            let preferred_stages = body
                .preferred_stages
                .unwrap_or_default()
                .iter()
                .filter_map(|s| optional_enum::<ProjectStage>(errors, "preferred_stages", Some(s)))
                .collect();
            let max_mentees = bounded::<u8>(
                errors,
                "max_mentees",
                body.max_mentees,
                0..=20,
                "must be between 0 and 20",
            );
            let session = bounded::<u16>(
                errors,
                "session_duration_minutes",
                body.session_duration_minutes,
                15..=240,
                "must be between 15 and 240",
            );
            Some(ProfileData::Ally(AllyProfile {
                primary_expertise: body.primary_expertise.filter(|p| !p.trim().is_empty()),
                specializations: body.specializations.unwrap_or_default(),
                preferred_stages,
                max_mentees: max_mentees.unwrap_or(defaults.max_mentees),
                available: body.available.unwrap_or(defaults.available),
                session_duration_minutes: session.unwrap_or(defaults.session_duration_minutes),
                // The core keeps the stored rating whatever is sent.
                ratings_total: 0,
                ratings_count: 0,
            }))
        }
        Role::Client => {
            let defaults = ClientProfile::default();
            let client_type = optional_enum::<ClientType>(errors, "client_type", body.client_type.as_deref());
            let investment_min = body
                .investment_min
                .as_ref()
                .and_then(|m| money(errors, "investment_min", m));
            let investment_max = body
                .investment_max
                .as_ref()
                .and_then(|m| money(errors, "investment_max", m));
            Some(ProfileData::Client(ClientProfile {
                client_type: client_type.unwrap_or(defaults.client_type),
                interest_areas: body.interest_areas.unwrap_or_default(),
                investment_min,
                investment_max,
            }))
        }
        Role::Admin => None,
    }
}

/// The caller's role profile (404 when they have none, e.g. admins).
#[utoipa::path(get, path = "/api/v2/users/me/profile", operation_id = "get_my_profile", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile", body = ProfileDto), Authenticated, NotFound))]
pub(crate) async fn get_my_profile<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
) -> Result<Response, ApiError> {
    let profile = state
        .eco
        .get_profile(&auth.ctx, auth.user.id)
        .await?
        .ok_or_else(|| ApiError::from(Error::not_found("profile", auth.user.id)))?;
    Ok(profile_response(&profile))
}

/// Replaces the caller's role profile. Send the fields of your role's group (see `ProfileDto`);
/// absent ones take their defaults; fields of another role's group, a `kind` other than your
/// role, unknown enum values, out-of-range numbers and invalid money each fail under their
/// field name (422). An ally's rating only changes through session feedback.
#[utoipa::path(put, path = "/api/v2/users/me/profile", operation_id = "put_my_profile", tag = "users", security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    params(("If-Match" = Option<String>, Header, description = "The quoted version of the profile read")),
    responses(
        (status = 200, description = "The profile", body = ProfileDto), Authenticated, Conflict, BadBody))]
pub(crate) async fn put_my_profile<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<UpdateProfileRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let kind = match body.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => Some(auth.user.role),
        Some(k) => optional_enum::<Role>(&mut errors, "kind", Some(k)),
    };
    let data = match kind {
        Some(Role::Admin) => {
            errors.push("kind", "admins have no role profile");
            None
        }
        Some(kind) if kind != auth.user.role => {
            errors.push("kind", "must match your role");
            None
        }
        Some(kind) => profile_data(&mut errors, kind, body),
        None => None,
    };
    finish(errors)?;
    let data = data.ok_or_else(ApiError::internal)?;
    let profile = state.eco.update_my_profile(&auth.ctx, data, version).await?;
    Ok(profile_response(&profile))
}

/// The document of the profile paths.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(get_my_profile, put_my_profile),
    components(schemas(ProfileDto, UpdateProfileRequest))
)]
pub(crate) struct Api;

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new().route(
        "/api/v2/users/me/profile",
        routing::get(get_my_profile::<S, N, C>).put(put_my_profile::<S, N, C>),
    )
}
