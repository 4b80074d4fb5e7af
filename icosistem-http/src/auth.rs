//! Access tokens and the [`AuthUser`] extractor (DOMAIN.md §5).
//!
//! Access tokens are HS256 JWTs living 15 minutes with the claims `sub` (user id), `role`,
//! `security_stamp`, `iat`, `exp` and `typ = "access"`. Expiry is checked against the
//! ecosystem's clock (not the machine's), so tests move time like everywhere else. Every
//! authenticated request also reads the user — once: the [`AuthUser`] it builds is what the
//! handler hands to the use case — so a token of a deleted, suspended or re-stamped account
//! (password reset, role change) stops working, and the role acted under is the stored one.
//!
//! The read may be served from a [`CallerCache`] (`HttpConfig::caller_cache_ttl`, off by
//! default): a user row read less than the TTL ago (on the ecosystem's clock) is used again
//! instead of a database round trip per request. The bound is then the TTL: a suspension,
//! deletion, role change or new security stamp is enforced at most one TTL after it was
//! committed, on every replica, since each replica's entries die by age alone.

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

/// Recently read callers, by id, each with the time it was read (see the module docs). Bounded:
/// when full, it is emptied rather than grown (a cache miss costs one read).
#[derive(Debug)]
pub(crate) struct CallerCache {
    ttl: chrono::Duration,
    entries: std::sync::Mutex<std::collections::HashMap<UserId, (User, DateTime<Utc>)>>,
}

impl CallerCache {
    /// Entries at most before the cache starts over.
    const CAPACITY: usize = 10_000;

    /// A cache keeping rows for `ttl`; zero (or less) turns it off.
    pub(crate) fn new(ttl: chrono::Duration) -> Self {
        Self {
            ttl,
            entries: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn enabled(&self) -> bool {
        self.ttl > chrono::Duration::zero()
    }

    /// The row of `id` read less than the TTL before `now` (and not in the future of it).
    fn get(&self, id: UserId, now: DateTime<Utc>) -> Option<User> {
        if !self.enabled() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        let (user, read_at) = entries.get(&id)?;
        (*read_at <= now && now - *read_at < self.ttl).then(|| user.clone())
    }

    fn put(&self, user: &User, now: DateTime<Utc>) {
        if !self.enabled() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::CAPACITY && !entries.contains_key(&user.id) {
                entries.clear();
            }
            entries.insert(user.id, (user.clone(), now));
        }
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
        let now = state.eco.clock().now();
        let user = match state.callers.get(id, now) {
            Some(user) => user,
            None => match state.eco.get_user(&ctx, id).await {
                Ok(user) => {
                    state.callers.put(&user, now);
                    user
                }
                Err(Error::NotFound { .. }) => return Err(ApiError::unauthorized("the account no longer exists")),
                Err(other) => return Err(other.into()),
            },
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::AuthUser;
    use crate::{AppState, HttpConfig};
    use axum::extract::FromRequestParts;
    use axum::http::{Request, StatusCode};
    use icosistem_core::model::UserStatus;
    use icosistem_core::model::secret::SecretString;
    use icosistem_core::ports::{Argon2idPasswordHasher, Clock, ManualClock, RecordingNotifier};
    use icosistem_core::service::{AdminCreateUser, AdminUpdateUser};
    use icosistem_core::{Context, Ecosystem};
    use icosistem_store_memory::MemoryStore;

    const SECRET: &str = "a test secret of at least thirty-two bytes";

    /// With the cache on, a suspended user's token keeps working for less than the TTL and is
    /// refused from the TTL on (the stated bound); with it off, at once.
    #[tokio::test]
    async fn a_suspended_caller_is_refused_within_the_cache_ttl() {
        for ttl_ms in [0_i64, 1000] {
            let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
            let eco = Ecosystem::new(MemoryStore::new(), RecordingNotifier::new(), Arc::clone(&clock))
                .with_hasher(Argon2idPasswordHasher::fast_for_tests());
            let eco = Arc::new(eco);
            let system = Context::system();
            let user = eco
                .admin_create_user(
                    &system,
                    AdminCreateUser {
                        email: format!("cached{ttl_ms}@example.test"),
                        password: SecretString::new("a long enough password 1"),
                        first_name: "Cache".to_owned(),
                        last_name: "Case".to_owned(),
                        role: icosistem_core::model::Role::Entrepreneur,
                    },
                )
                .await
                .expect("create user");
            let config = HttpConfig::new(SecretString::new(SECRET))
                .with_caller_cache_ttl(chrono::Duration::milliseconds(ttl_ms));
            let state = AppState::new(Arc::clone(&eco), config);
            let token = state
                .keys
                .issue(&user, clock.now(), chrono::Duration::minutes(15))
                .expect("token");
            let me = || async {
                let (mut parts, ()) = Request::get("/api/v2/users/me")
                    .header("authorization", format!("Bearer {token}"))
                    .body(())
                    .expect("request")
                    .into_parts();
                match AuthUser::from_request_parts(&mut parts, &state).await {
                    Ok(_) => StatusCode::OK,
                    Err(error) => error.status(),
                }
            };
            assert_eq!(me().await, StatusCode::OK);
            eco.admin_update_user(
                &system,
                user.id,
                AdminUpdateUser {
                    status: Some(UserStatus::Suspended),
                    ..Default::default()
                },
            )
            .await
            .expect("suspend");
            if ttl_ms > 0 {
                clock.advance(chrono::Duration::milliseconds(ttl_ms - 1));
                assert_eq!(me().await, StatusCode::OK, "served from the cache inside the bound");
                clock.advance(chrono::Duration::milliseconds(1));
            }
            assert_eq!(me().await, StatusCode::UNAUTHORIZED, "refused once the bound passed");
        }
    }
}
