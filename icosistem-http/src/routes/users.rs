//! `/api/v2/users/me`: the caller's own account.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::UpdateMe;

use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{ApiJson, ChangePasswordRequest, UpdateMeRequest, UserDto};
use crate::error::{ApiError, Problem};

/// The user with its version as `ETag`.
fn user_response(user: &icosistem_core::model::User) -> Response {
    let mut response = Json(UserDto::from(user)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", user.meta.version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// `If-Match: "<version>"` (also `W/"<version>"` or a bare number) → the version.
pub(crate) fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<u64>()
        .map(Some)
        .map_err(|_| ApiError::invalid_field("If-Match", "must be the quoted version of the resource"))
}

/// The caller.
#[utoipa::path(get, path = "/api/v2/users/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn me(auth: AuthUser) -> Response {
    user_response(&auth.user)
}

/// Edits the caller's account. `If-Match: "<version>"` (or `version` in the body) guards
/// against lost updates.
#[utoipa::path(patch, path = "/api/v2/users/me", tag = "users", security(("bearer" = [])),
    request_body = UpdateMeRequest,
    params(("If-Match" = Option<String>, Header, description = "The quoted version read")),
    responses(
        (status = 200, description = "The updated caller", body = UserDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every failing field", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn update_me<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpdateMeRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?.or(body.version);
    let user = state
        .eco
        .update_me(
            &auth.ctx,
            UpdateMe {
                first_name: body.first_name,
                last_name: body.last_name,
                phone: body.phone,
                timezone: body.timezone,
                language: body.language,
                notification_preferences: body.notification_preferences.map(Into::into),
                version,
            },
        )
        .await?;
    Ok(user_response(&user))
}

/// Changes the caller's password after checking the current one.
#[utoipa::path(put, path = "/api/v2/users/me/password", tag = "users", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password or weak new one", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn change_password<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .eco
        .change_password(
            &auth.ctx,
            &SecretString::new(body.current_password),
            &SecretString::new(body.new_password),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
