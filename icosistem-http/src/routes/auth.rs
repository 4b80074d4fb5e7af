//! `/api/v2/auth/*`: registration, email verification, login, refresh, logout, password reset.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing;
use axum::{Json, Router};
use icosistem_core::Error;
use icosistem_core::model::Role;
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::{Actor, User};
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::Register;

use super::kit::{BadBody, Conflict, Forbidden, Locked, Unauthorized, Unavailable};
use crate::AppState;
use crate::auth::RequestMeta;
use crate::dto::{
    ApiJson, LoginRequest, PasswordResetConfirm, PasswordResetRequest, RefreshRequest, RegisterRequest, TokenRequest,
    TokenResponse, UserDto,
};
use crate::error::ApiError;

fn token_response<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    user: &User,
    refresh_token: String,
) -> Result<Json<TokenResponse>, ApiError> {
    let ttl = state.config.access_ttl;
    let access_token = state.keys.issue(user, state.eco.clock().now(), ttl)?;
    Ok(Json(TokenResponse {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ttl.num_seconds(),
        user: UserDto::from(user),
    }))
}

/// Creates an account (`pending_verification`) and emails a verification token.
#[utoipa::path(post, path = "/api/v2/auth/register", operation_id = "register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered", body = UserDto), Unavailable, Conflict, BadBody))]
pub(crate) async fn register<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<impl IntoResponse, ApiError> {
    // An unknown role is refused by the core exactly like `admin` (on the `role` field), along
    // with every other failing field.
    let role = body.role.trim().parse::<Role>().unwrap_or(Role::Admin);
    let (user, _token) = state
        .eco
        .register(
            &meta.context(Actor::Anonymous),
            Register {
                email: body.email,
                password: SecretString::new(body.password),
                first_name: body.first_name,
                last_name: body.last_name,
                role,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(UserDto::from(&user))))
}

/// Verifies the email with the token sent at registration.
#[utoipa::path(post, path = "/api/v2/auth/verify-email", operation_id = "verify_email", tag = "auth", request_body = TokenRequest,
    responses(
        (status = 204, description = "Verified"), Unavailable, BadBody))]
pub(crate) async fn verify_email<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .eco
        .verify_email(&meta.context(Actor::Anonymous), &body.token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Logs in: an access token and a new refresh-token family.
#[utoipa::path(post, path = "/api/v2/auth/login", operation_id = "login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse), Unavailable, Forbidden, Unauthorized, Locked, BadBody))]
pub(crate) async fn login<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let ctx = meta.context(Actor::Anonymous);
    let outcome = state
        .eco
        .authenticate(&ctx, &body.email, &SecretString::new(body.password))
        .await
        .map_err(|e| match e {
            // The lock ends by the ecosystem's clock, which is the one that decides.
            Error::AccountLocked { until } => {
                let seconds = (until - state.eco.clock().now()).num_seconds();
                ApiError::from(e).with_retry_after(seconds)
            }
            other => other.into(),
        })?;
    let ctx = meta.context(Actor::User {
        id: outcome.user.id,
        role: outcome.user.role,
    });
    let issued = state.eco.issue_refresh_token(&ctx, outcome.user.id).await?;
    token_response(&state, &issued.user, issued.token)
}

/// Exchanges a refresh token for a new pair. A token used before revokes its whole family.
#[utoipa::path(post, path = "/api/v2/auth/refresh", operation_id = "refresh_token", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokenResponse), Unavailable, Unauthorized, BadBody))]
pub(crate) async fn refresh_token<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    if body.refresh_token.trim().is_empty() {
        return Err(ApiError::invalid_field("refresh_token", "is required"));
    }
    let issued = state
        .eco
        .rotate_refresh_token(&meta.context(Actor::Anonymous), &body.refresh_token)
        .await
        .map_err(|e| match e {
            Error::InvalidToken => ApiError::unauthorized("the refresh token is invalid, expired or revoked"),
            other => other.into(),
        })?;
    token_response(&state, &issued.user, issued.token)
}

/// Ends the session: revokes the refresh token's family.
#[utoipa::path(post, path = "/api/v2/auth/logout", operation_id = "logout", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out (also for an unknown or revoked token)"), Unavailable, BadBody))]
pub(crate) async fn logout<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    if body.refresh_token.trim().is_empty() {
        return Err(ApiError::invalid_field("refresh_token", "is required"));
    }
    state
        .eco
        .revoke_refresh_family(&meta.context(Actor::Anonymous), &body.refresh_token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts a password reset. Always 202: the answer tells nothing about which emails exist.
#[utoipa::path(post, path = "/api/v2/auth/password-reset", operation_id = "request_password_reset", tag = "auth", request_body = PasswordResetRequest,
    responses((status = 202, description = "If the account exists, a reset token was emailed"), Unavailable, BadBody))]
pub(crate) async fn request_password_reset<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .eco
        .request_password_reset(&meta.context(Actor::Anonymous), &body.email)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with a reset token; every session of the account ends.
#[utoipa::path(post, path = "/api/v2/auth/password-reset/confirm", operation_id = "confirm_password_reset", tag = "auth", request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "Password changed"), Unavailable, BadBody))]
pub(crate) async fn confirm_password_reset<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<PasswordResetConfirm>,
) -> Result<StatusCode, ApiError> {
    state
        .eco
        .confirm_password_reset(
            &meta.context(Actor::Anonymous),
            &body.token,
            &SecretString::new(body.new_password),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route("/api/v2/auth/login", routing::post(login::<S, N, C>))
        .route("/api/v2/auth/logout", routing::post(logout::<S, N, C>))
        .route(
            "/api/v2/auth/password-reset",
            routing::post(request_password_reset::<S, N, C>),
        )
        .route(
            "/api/v2/auth/password-reset/confirm",
            routing::post(confirm_password_reset::<S, N, C>),
        )
        .route("/api/v2/auth/refresh", routing::post(refresh_token::<S, N, C>))
        .route("/api/v2/auth/register", routing::post(register::<S, N, C>))
        .route("/api/v2/auth/verify-email", routing::post(verify_email::<S, N, C>))
}

/// This module's part of the OpenAPI document (its components are listed in [`crate::openapi::ApiDoc`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    login,
    logout,
    request_password_reset,
    confirm_password_reset,
    refresh_token,
    register,
    verify_email
))]
pub(crate) struct Api;
