//! `/api/v2/auth/*`: registration, email verification, login, refresh, logout, password reset.
//! Anyone may call them: each runs as the anonymous actor (login signs the user in).

use futures::TryFutureExt;
use icosistem_core::Error;
use icosistem_core::model::Actor;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{Context, IssuedRefreshToken};

use super::kit::{api, public};
use crate::AppState;
use crate::dto::{
    LoginRequest, PasswordResetConfirm, PasswordResetRequest, RefreshRequest, RegisterRequest, TokenRequest,
    TokenResponse, UserDto,
};
use crate::error::ApiError;

/// A signed-in session: the refresh token the core issued and the access token minted for it.
struct SignedIn {
    issued: IssuedRefreshToken,
    access_token: String,
    expires_in: i64,
}

impl From<&SignedIn> for TokenResponse {
    fn from(signed: &SignedIn) -> Self {
        Self {
            access_token: signed.access_token.clone(),
            refresh_token: signed.issued.token.clone(),
            token_type: "Bearer",
            expires_in: signed.expires_in,
            user: UserDto::from(&signed.issued.user),
        }
    }
}

/// Mints the access token of a session the core has just issued (or refused).
async fn sign_in<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    issued: impl Future<Output = Result<IssuedRefreshToken, Error>>,
) -> Result<SignedIn, ApiError> {
    let issued = issued.await?;
    let ttl = state.config.access_ttl;
    let access_token = state.keys.issue(&issued.user, state.eco.clock().now(), ttl)?;
    Ok(SignedIn {
        issued,
        access_token,
        expires_in: ttl.num_seconds(),
    })
}

/// Checks the credentials, then starts a refresh-token family signed in as the user. A lockout
/// tells when it ends (`Retry-After`) by the ecosystem's clock, which is the one that decides.
async fn authenticate<S: Store, N: Notifier, C: Clock>(
    state: &AppState<S, N, C>,
    ctx: &Context,
    body: LoginRequest,
) -> Result<SignedIn, ApiError> {
    let outcome = state
        .eco
        .authenticate(ctx, &body.email, &SecretString::new(body.password))
        .await
        .map_err(|e| match e {
            Error::AccountLocked { until } => {
                let seconds = (until - state.eco.clock().now()).num_seconds();
                ApiError::from(e).with_retry_after(seconds)
            }
            other => other.into(),
        })?;
    let user = &outcome.user;
    let ctx = Context {
        actor: Actor::User {
            id: user.id,
            role: user.role,
        },
        ..ctx.clone()
    };
    sign_in(state, state.eco.issue_refresh_token(&ctx, user.id)).await
}

public! {
    tag = "auth";
    /// Creates an account (`pending_verification`) and emails a verification token.
    register: post "/api/v2/auth/register", RegisterRequest
        => json(201, "Registered", UserDto) [Conflict, BadBody],
        |state, ctx, b| state.eco.register(ctx, b.into()).map_ok(|(user, _token)| user);
    /// Verifies the email with the token sent at registration.
    verify_email: post "/api/v2/auth/verify-email", TokenRequest
        => empty(204, "Verified") [BadBody],
        |state, ctx, b| state.eco.verify_email(ctx, &b.token);
    /// Logs in: an access token and a new refresh-token family.
    login: post "/api/v2/auth/login", LoginRequest
        => json(200, "Logged in", TokenResponse) [Forbidden, Unauthorized, Locked, BadBody],
        |state, ctx, b| authenticate(state, ctx, b);
    /// Exchanges a refresh token for a new pair. A token used before revokes its whole family.
    refresh_token: post "/api/v2/auth/refresh", RefreshRequest
        => json(200, "A new pair", TokenResponse) [Unauthorized, BadBody],
        |state, ctx, b| sign_in(state, state.eco.rotate_refresh_token(ctx, &b.refresh_token));
    /// Ends the session: revokes the refresh token's family.
    logout: post "/api/v2/auth/logout", RefreshRequest
        => empty(204, "Logged out (also for an unknown or revoked token)") [BadBody],
        |state, ctx, b| state.eco.revoke_refresh_family(ctx, &b.refresh_token);
    /// Starts a password reset. Always 202: the answer tells nothing about which emails exist.
    request_password_reset: post "/api/v2/auth/password-reset", PasswordResetRequest
        => empty(202, "If the account exists, a reset token was emailed") [BadBody],
        |state, ctx, b| state.eco.request_password_reset(ctx, &b.email);
    /// Sets a new password with a reset token; every session of the account ends.
    confirm_password_reset: post "/api/v2/auth/password-reset/confirm", PasswordResetConfirm
        => empty(204, "Password changed") [BadBody],
        |state, ctx, b| state.eco.confirm_password_reset(ctx, &b.token, &SecretString::new(b.new_password));
}

api!([
    login,
    logout,
    request_password_reset,
    confirm_password_reset,
    refresh_token,
    register,
    verify_email,
]);
