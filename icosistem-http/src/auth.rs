//! Access tokens and the [`AuthUser`] extractor (DOMAIN.md §5).
//!
//! Access tokens are HS256 JWTs living 15 minutes with the claims `sub` (user id), `role`,
//! `security_stamp`, `iat`, `exp` and `typ = "access"`. Expiry is checked against the
//! ecosystem's clock (not the machine's), so tests move time like everywhere else. Every
//! authenticated request also reads the user: a token of a deleted, suspended or re-stamped
//! account (password reset, role change) stops working at once, and the role acted under is the
//! stored one.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use icosistem_core::model::{Actor, Role, User, UserId, UserStatus};
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::{Context, Error};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};

/// The `typ` claim of access tokens.
pub const ACCESS_TYPE: &str = "access";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    /// The role when issued.
    pub role: String,
    /// The user's security stamp when issued.
    pub security_stamp: u32,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Token type: `access`.
    pub typ: String,
}

/// The HS256 keys, derived once from the configured secret.
#[derive(Clone)]
pub(crate) struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub(crate) fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// A signed access token for `user`, valid from `now` for `ttl`.
    pub(crate) fn issue(&self, user: &User, now: DateTime<Utc>, ttl: chrono::Duration) -> Result<String, ApiError> {
        let claims = AccessClaims {
            sub: user.id.to_string(),
            role: user.role.as_str().to_owned(),
            security_stamp: user.security_stamp,
            exp: (now + ttl).timestamp(),
            iat: now.timestamp(),
            typ: ACCESS_TYPE.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "signing an access token failed");
            ApiError::internal()
        })
    }

    /// The claims of a well-signed, unexpired access token.
    pub(crate) fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the ecosystem's clock; the claims' presence is
        // enforced by deserialization.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|_| ApiError::unauthorized("the access token is invalid"))?;
        let claims = data.claims;
        if claims.typ != ACCESS_TYPE {
            return Err(ApiError::unauthorized("the token is not an access token"));
        }
        if claims.exp <= now.timestamp() {
            return Err(ApiError::unauthorized("the access token has expired"));
        }
        Ok(claims)
    }
}

/// The request metadata recorded with every command: request id and client IP.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// The request id.
    pub request_id: Option<String>,
    /// The client's IP.
    pub ip: Option<String>,
}

impl RequestMeta {
    fn from_parts(parts: &Parts) -> Self {
        Self {
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
            ip: parts.extensions.get::<ClientIp>().and_then(|c| c.0.clone()),
        }
    }

    /// A context for `actor` carrying this metadata.
    pub fn context(&self, actor: Actor) -> Context {
        let mut ctx = Context::new(actor);
        ctx.request_id = self.request_id.clone();
        ctx.ip = self.ip.clone();
        ctx
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

/// The signed-in caller: their user row as stored and the [`Context`] to run use cases in.
/// Rejects with 401 (`WWW-Authenticate: Bearer`) a missing, malformed, tampered, expired or
/// non-access token, and a token whose user is gone, inactive or re-stamped.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The caller as stored.
    pub user: User,
    /// The context of their commands.
    pub ctx: Context,
}

impl<S: Store, N: Notifier, C: Clock> FromRequestParts<AppState<S, N, C>> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S, N, C>) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("an access token is required"))?;
        // The rate limiter verified this very header already, with the same keys and clock.
        let claims = match parts.extensions.get::<crate::rate_limit::VerifiedClaims>() {
            Some(verified) => verified.0.clone(),
            None => state.keys.verify(token, state.eco.clock().now())?,
        };
        let id: UserId = claims
            .sub
            .parse::<uuid::Uuid>()
            .map(UserId::from)
            .map_err(|_| ApiError::unauthorized("the access token is invalid"))?;
        let role: Role = claims
            .role
            .parse()
            .map_err(|_| ApiError::unauthorized("the access token is invalid"))?;
        let meta = RequestMeta::from_parts(parts);
        let ctx = meta.context(Actor::User { id, role });
        let user = match state.eco.get_user(&ctx, id).await {
            Ok(user) => user,
            Err(Error::NotFound { .. }) => return Err(ApiError::unauthorized("the account no longer exists")),
            Err(other) => return Err(other.into()),
        };
        if user.security_stamp != claims.security_stamp {
            return Err(ApiError::unauthorized("the session was revoked; log in again"));
        }
        if matches!(user.status, UserStatus::Suspended | UserStatus::Inactive) {
            return Err(ApiError::unauthorized("the account is not active"));
        }
        let ctx = meta.context(Actor::User {
            id: user.id,
            role: user.role,
        });
        Ok(Self { user, ctx })
    }
}
