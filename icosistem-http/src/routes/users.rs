//! `/api/v2/users/me`: the caller's own account.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::UpdateMe;

use super::kit::{Authenticated, BadBody, Conflict, IfMatch};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{ApiJson, ChangePasswordRequest, UpdateMeRequest, UserDto};
use crate::error::ApiError;

/// The user with its version as `ETag`.
fn user_response(user: &icosistem_core::model::User) -> Response {
    super::versioned(user.meta.version, UserDto::from(user))
}

/// The caller.
#[utoipa::path(get, path = "/api/v2/users/me", operation_id = "get_me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserDto), Authenticated))]
pub(crate) async fn get_me(auth: AuthUser) -> Response {
    user_response(&auth.user)
}

/// Edits the caller's account. `If-Match: "<version>"` (or `version` in the body) guards
/// against lost updates.
#[utoipa::path(patch, path = "/api/v2/users/me", operation_id = "update_me", tag = "users", security(("bearer" = [])),
    request_body = UpdateMeRequest,
    params(IfMatch),
    responses(
        (status = 200, description = "The updated caller", body = UserDto), Authenticated, Conflict, BadBody))]
pub(crate) async fn update_me<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<UpdateMeRequest>,
) -> Result<Response, ApiError> {
    let version = if_match.or(body.version);
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
#[utoipa::path(put, path = "/api/v2/users/me/password", operation_id = "change_password", tag = "users", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"), Authenticated, BadBody))]
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

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route("/api/v2/users/me", routing::get(get_me).patch(update_me::<S, N, C>))
        .route("/api/v2/users/me/password", routing::put(change_password::<S, N, C>))
}

/// This module's part of the OpenAPI document (its components are listed in [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(get_me, update_me, change_password))]
pub(crate) struct Api;
