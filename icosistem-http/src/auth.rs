//! Access tokens and the [`AuthUser`] extractor (docs/domain.md §5).
//!
//! Access tokens are HS256 JWTs living 15 minutes with the claims `sub` (user id), `role`,
//! `security_stamp`, `iat`, `exp` and `typ = "access"`. Expiry is checked against the
//! ecosystem's clock (not the machine's), so tests move time like everywhere else; a token's
//! signature and claims are checked once per process (the keys keep a bounded memo of the
//! tokens they verified), its expiry on every request. Every authenticated request also reads
//! the user — once: the [`AuthUser`] it builds is what the handler hands to the use case — so a
//! token of a deleted, suspended or re-stamped account (password reset, role change) stops
//! working, and the role acted under is the stored one.
//!
//! The read may be served from a cache of callers (`HttpConfig::caller_cache_ttl`, off by
//! default): a user row read less than the TTL ago (on the ecosystem's clock) is used again
//! instead of a database round trip per request. Entries also die when the row changes: the
//! [`LiveStore`](crate::live::LiveStore) the ecosystem runs on sees every committed update or
//! delete of a user (a suspension, role change, password change or reset, logout everywhere, a
//! job deactivating the account — whatever use case or job did it) and tells its
//! [`LiveHub`](crate::live::LiveHub), which evicts the entry from the caches of this process at
//! once and, with Redis, publishes the user id to every replica, which evict theirs. The bound
//! within which a suspension, deletion, role change or new security stamp is enforced:
//!
//! - on the process that committed it: at once (evicted before the commit returns);
//! - on another replica sharing the hub's Redis: the delivery of one pub/sub message;
//! - without Redis, while Redis is unreachable (the subscription reconnects with backoff, and
//!   empties the caches once back: messages published meanwhile are lost), or when the
//!   ecosystem's store is not a `LiveStore`: one TTL, since entries die by age regardless.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use icosistem_core::model::{Actor, Role, User, UserId, UserStatus};
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::{Context, Ecosystem, Error};
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

/// The HS256 keys, derived once from the configured secret, and the tokens they verified.
pub(crate) struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    verified: VerifiedTokens,
}

/// Access tokens these keys already verified, by their exact text, with their claims. A client
/// sends the same token for its 15 minutes; checking its signature and parsing its header and
/// claims again each time cost more server CPU than the rest of an authenticated GET of the
/// memory store outside the HTTP stack (a profile of `benches/http/compare.sh`). A token found
/// here is the very text verified before with these keys, so only its expiry is checked again;
/// what the claims name (the user's status, stamp and role) is checked per request as before.
/// At most 4,096 tokens (a few hundred bytes each).
type VerifiedTokens = BoundedMap<Box<str>, AccessClaims>;

/// A map of at most `capacity` entries that starts over when full rather than grow: a forgotten
/// entry costs one more check or read, never a wrong answer. The memo of verified tokens and the
/// caller cache.
#[derive(Debug)]
struct BoundedMap<K, V> {
    capacity: usize,
    entries: std::sync::Mutex<std::collections::HashMap<K, V>>,
}

impl<K: Eq + std::hash::Hash, V: Clone> BoundedMap<K, V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn get<Q: Eq + std::hash::Hash + ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.entries.lock().ok()?.get(key).cloned()
    }

    /// Stores `value` under `key` unless `stale()`, which is asked under the lock (so that a
    /// [`BoundedMap::remove`] counted before it is seen). Replacing a key never starts over.
    fn insert_unless(&self, key: K, value: V, stale: impl FnOnce() -> bool) {
        if let Ok(mut entries) = self.entries.lock() {
            if stale() {
                return;
            }
            if entries.len() >= self.capacity && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, value);
        }
    }

    fn insert(&self, key: K, value: V) {
        self.insert_unless(key, value, || false);
    }

    fn remove(&self, key: &K) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    #[cfg(feature = "redis")]
    fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

impl JwtKeys {
    pub(crate) fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            verified: VerifiedTokens::new(4_096),
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
        let claims = match self.verified.get(token) {
            Some(claims) => claims,
            None => {
                let claims = self.decode(token)?;
                self.verified.insert(token.into(), claims.clone());
                claims
            }
        };
        if claims.exp <= now.timestamp() {
            return Err(ApiError::unauthorized("the access token has expired"));
        }
        Ok(claims)
    }

    /// The claims of a well-signed access token, expired or not.
    fn decode(&self, token: &str) -> Result<AccessClaims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked by `verify`, against the ecosystem's clock; the claims' presence is
        // enforced by deserialization.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|_| ApiError::unauthorized("the access token is invalid"))?;
        let claims = data.claims;
        if claims.typ != ACCESS_TYPE {
            return Err(ApiError::unauthorized("the token is not an access token"));
        }
        Ok(claims)
    }
}

/// A caller's row and when it was read.
type CachedCaller = (Arc<User>, DateTime<Utc>);

/// Recently read callers, by id, each with the time it was read (see the module docs). Bounded:
/// when full, it is emptied rather than grown (a cache miss costs one read).
#[derive(Debug)]
pub(crate) struct CallerCache {
    ttl: chrono::Duration,
    entries: BoundedMap<UserId, CachedCaller>,
    /// Evictions so far. A row read before an eviction is not stored after it: it may be the
    /// very row the eviction was about, read just before the change committed.
    evictions: std::sync::atomic::AtomicU64,
}

impl CallerCache {
    /// Entries at most before the cache starts over.
    const CAPACITY: usize = 10_000;

    /// A cache keeping rows for `ttl`; zero (or less) turns it off.
    pub(crate) fn new(ttl: chrono::Duration) -> Self {
        Self {
            ttl,
            entries: BoundedMap::new(Self::CAPACITY),
            evictions: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The eviction count to hand back to [`CallerCache::put`] for a row read from now on.
    fn epoch(&self) -> u64 {
        self.evictions.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Forgets `id`'s row: it changed (see [`crate::live::LiveHub::caller_changed`]).
    pub(crate) fn evict(&self, id: UserId) {
        self.evictions.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.entries.remove(&id);
    }

    /// Forgets every row: changes may have been missed (the Redis subscription was down).
    #[cfg(feature = "redis")]
    pub(crate) fn clear(&self) {
        self.evictions.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.entries.clear();
    }

    fn enabled(&self) -> bool {
        self.ttl > chrono::Duration::zero()
    }

    /// The row of `id` read less than the TTL before `now` (and not in the future of it).
    fn get(&self, id: UserId, now: DateTime<Utc>) -> Option<Arc<User>> {
        if !self.enabled() {
            return None;
        }
        let (user, read_at) = self.entries.get(&id)?;
        (read_at <= now && now - read_at < self.ttl).then_some(user)
    }

    /// Stores `user`, read at `now` by a load that began at eviction count `epoch` — unless an
    /// eviction happened since (checked under the lock `evict` takes after counting).
    fn put(&self, user: &Arc<User>, now: DateTime<Utc>, epoch: u64) {
        if self.enabled() {
            self.entries
                .insert_unless(user.id, (Arc::clone(user), now), || self.epoch() != epoch);
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

/// The bearer token of a request's `Authorization` header, if it carries one.
fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Reads a user for [`TokenVerifier`]: the ecosystem's `get_user`, with its store, notifier and
/// clock types erased so the verifier (and the extractors) work over any router state.
type LoadUser = dyn Fn(Context, UserId) -> BoxFuture<'static, Result<User, Error>> + Send + Sync;

/// Verifies access tokens and resolves their caller, for the ecosystem's handlers and for an
/// embedder's own routes alike.
///
/// Built from the [`AppState`] ([`AppState::verifier`], or `TokenVerifier::from_ref(&state)`),
/// it shares the state's keys, clock and caller cache; cloning it clones a few `Arc`s. The
/// [`AuthUser`] and [`MaybeAuthUser`] extractors find it in any router state `T` with
/// `TokenVerifier: FromRef<T>` — `AppState` itself, or a host's state:
///
/// ```
/// # use icosistem_core::ports::{RecordingNotifier, SystemClock};
/// # use icosistem_store_memory::MemoryStore;
/// use axum::extract::FromRef;
/// use icosistem_http::auth::{AuthUser, TokenVerifier};
///
/// type Eco = icosistem_http::AppState<MemoryStore, RecordingNotifier, SystemClock>;
///
/// #[derive(Clone)]
/// struct Host {
///     greeting: String,
///     ecosystem: Eco,
/// }
///
/// impl FromRef<Host> for Eco {
///     fn from_ref(host: &Host) -> Self {
///         host.ecosystem.clone()
///     }
/// }
///
/// // What `AuthUser` needs from the host's state.
/// impl FromRef<Host> for TokenVerifier {
///     fn from_ref(host: &Host) -> Self {
///         host.ecosystem.verifier()
///     }
/// }
///
/// async fn hello(axum::extract::State(host): axum::extract::State<Host>, caller: AuthUser) -> String {
///     format!("{}, {}", host.greeting, caller.user.id)
/// }
/// # let _ = axum::Router::<Host>::new().route("/hello", axum::routing::get(hello));
/// ```
///
/// (The extractors cannot ask for `AppState<S, N, C>: FromRef<T>` directly: `S`, `N` and `C`
/// would appear nowhere in the implementing type, which Rust does not allow.)
///
/// Without an extractor, [`TokenVerifier::verify`] checks a token's signature and expiry and
/// [`TokenVerifier::authenticate`] also reads the caller; [`require_auth`] is the same as a
/// layer over a whole router.
#[derive(Clone)]
pub struct TokenVerifier(Arc<VerifierParts>);

/// Behind one `Arc`: extractors clone the verifier on every request, and one shared counter
/// costs less than four.
struct VerifierParts {
    keys: Arc<JwtKeys>,
    now: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    callers: Arc<CallerCache>,
    load: Box<LoadUser>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// The verifier over `eco`'s clock and users, with `keys` and `callers`.
    pub(crate) fn new<S: Store, N: Notifier, C: Clock>(
        eco: &Arc<Ecosystem<S, N, C>>,
        keys: Arc<JwtKeys>,
        callers: Arc<CallerCache>,
    ) -> Self {
        let clock = Arc::clone(eco);
        let users = Arc::clone(eco);
        Self(Arc::new(VerifierParts {
            keys,
            now: Box::new(move || clock.clock().now()),
            callers,
            load: Box::new(move |ctx: Context, id: UserId| {
                let eco = Arc::clone(&users);
                Box::pin(async move { eco.get_user(&ctx, id).await })
            }),
        }))
    }

    /// The claims of `token` when it is a well-signed, unexpired access token (on the
    /// ecosystem's clock). It does not read the user: a token of a suspended or re-stamped
    /// account still verifies here; [`TokenVerifier::authenticate`] refuses it.
    ///
    /// # Errors
    ///
    /// A 401 [`ApiError`] for an invalid, tampered, expired or non-access token.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, ApiError> {
        self.0.keys.verify(token, (self.0.now)())
    }

    /// The caller of `token`, read from the store (or the caller cache), with a [`Context`]
    /// carrying `meta`: what the [`AuthUser`] extractor does.
    ///
    /// # Errors
    ///
    /// A 401 [`ApiError`] for a token [`TokenVerifier::verify`] refuses, or whose user is gone,
    /// inactive or re-stamped; the store's error otherwise.
    pub async fn authenticate(&self, token: &str, meta: &RequestMeta) -> Result<AuthUser, ApiError> {
        let claims = self.verify(token)?;
        self.caller(claims, meta).await
    }

    /// The caller of already verified `claims`.
    async fn caller(&self, claims: AccessClaims, meta: &RequestMeta) -> Result<AuthUser, ApiError> {
        let id: UserId = claims
            .sub
            .parse::<uuid::Uuid>()
            .map(UserId::from)
            .map_err(|_| ApiError::unauthorized("the access token is invalid"))?;
        let role: Role = claims
            .role
            .parse()
            .map_err(|_| ApiError::unauthorized("the access token is invalid"))?;
        let now = (self.0.now)();
        let epoch = self.0.callers.epoch();
        let user = match self.0.callers.get(id, now) {
            Some(user) => user,
            None => match (self.0.load)(meta.context(Actor::User { id, role }), id).await {
                Ok(user) => {
                    let user = Arc::new(user);
                    self.0.callers.put(&user, now, epoch);
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
        let ctx = meta
            .context(Actor::User {
                id: user.id,
                role: user.role,
            })
            .with_caller(Arc::clone(&user));
        Ok(AuthUser { user, ctx })
    }

    /// The caller of a request's bearer token: `None` without one.
    async fn caller_of(&self, parts: &Parts) -> Result<Option<AuthUser>, ApiError> {
        if let Some(Authenticated(caller)) = parts.extensions.get::<Authenticated>() {
            return Ok(Some(caller.clone()));
        }
        let Some(token) = bearer(parts) else {
            return Ok(None);
        };
        // The rate limiter verified this very header already, with the same keys and clock.
        let claims = match parts.extensions.get::<crate::rate_limit::VerifiedClaims>() {
            Some(verified) => verified.0.clone(),
            None => self.verify(token)?,
        };
        self.caller(claims, &RequestMeta::from_parts(parts)).await.map(Some)
    }
}

impl<S: Store, N: Notifier, C: Clock> FromRef<AppState<S, N, C>> for TokenVerifier {
    fn from_ref(state: &AppState<S, N, C>) -> Self {
        state.verifier()
    }
}

/// The caller [`require_auth`] authenticated, for the extractors behind it. Crate-private, so
/// nothing else can plant a caller in a request.
#[derive(Clone)]
struct Authenticated(AuthUser);

/// A middleware refusing (401 problem, `WWW-Authenticate: Bearer`) every request without a
/// valid access token of an active user, for a host's own routes:
///
/// ```ignore
/// let protected = Router::new()
///     .route("/reports", get(reports))
///     .layer(axum::middleware::from_fn_with_state(verifier, icosistem_http::auth::require_auth));
/// ```
///
/// The caller it read is handed to [`AuthUser`] and [`MaybeAuthUser`] behind it (no second
/// read). Its 401 is a problem body; it carries a request id when the ecosystem's middleware
/// (or the host's) set one.
pub async fn require_auth(State(verifier): State<TokenVerifier>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match verifier.caller_of(&parts).await {
        Ok(Some(caller)) => {
            parts.extensions.insert(Authenticated(caller));
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(None) => ApiError::unauthorized("an access token is required").into_response(),
        Err(error) => error.into_response(),
    }
}

/// The signed-in caller: their user row as stored and the [`Context`] to run use cases in.
/// Rejects with 401 (`WWW-Authenticate: Bearer`) a missing, malformed, tampered, expired or
/// non-access token, and a token whose user is gone, inactive or re-stamped.
///
/// It extracts from any router state `T` the [`TokenVerifier`] can be taken from
/// (`TokenVerifier: FromRef<T>`): the ecosystem's [`AppState`], or an embedder's own state.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The caller as stored (shared with the caller cache and with [`Context::caller`]: an
    /// authenticated request copies no user row).
    pub user: Arc<User>,
    /// The context of their commands.
    pub ctx: Context,
}

impl<T> FromRequestParts<T> for AuthUser
where
    TokenVerifier: FromRef<T>,
    T: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &T) -> Result<Self, Self::Rejection> {
        TokenVerifier::from_ref(state)
            .caller_of(parts)
            .await?
            .ok_or_else(|| ApiError::unauthorized("an access token is required"))
    }
}

/// The signed-in caller when the request carries a token, `None` when it carries none: for
/// routes that answer anonymous callers too (a public page that shows more to members).
///
/// A token that is present but refused (expired, tampered, of a suspended user) is still a 401,
/// not an anonymous request: a client learns its session ended instead of silently seeing less.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl<T> FromRequestParts<T> for MaybeAuthUser
where
    TokenVerifier: FromRef<T>,
    T: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &T) -> Result<Self, Self::Rejection> {
        TokenVerifier::from_ref(state).caller_of(parts).await.map(Self)
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
    /// A full map starts over for a new key, not for one it replaces; a stale insert is dropped.
    #[test]
    fn a_bounded_map_starts_over_only_for_a_new_key() {
        let map = super::BoundedMap::new(2);
        map.insert(1, "a");
        map.insert(2, "b");
        map.insert(2, "b2");
        assert_eq!((map.get(&1), map.get(&2)), (Some("a"), Some("b2")));
        map.insert(3, "c");
        assert_eq!((map.get(&1), map.get(&2), map.get(&3)), (None, None, Some("c")));
        map.insert_unless(4, "d", || true);
        assert_eq!(map.get(&4), None);
        map.remove(&3);
        assert_eq!(map.get(&3), None);
    }

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
            let state = AppState::new(Arc::clone(&eco), config).expect("valid config");
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

    /// A token verified once is still refused from its expiry on, and its text altered by one
    /// character (a forged claim or signature) is verified anew and refused.
    #[tokio::test]
    async fn a_verified_token_still_expires_and_a_forged_one_is_refused() {
        let keys = super::JwtKeys::new(SECRET.as_bytes());
        let now = chrono::Utc::now();
        let eco = Ecosystem::new(MemoryStore::new(), RecordingNotifier::new(), ManualClock::new(now))
            .with_hasher(Argon2idPasswordHasher::fast_for_tests());
        let user = eco
            .admin_create_user(
                &Context::system(),
                AdminCreateUser {
                    email: "memo@example.test".to_owned(),
                    password: SecretString::new("a long enough password 1"),
                    first_name: "Memo".to_owned(),
                    last_name: "Case".to_owned(),
                    role: icosistem_core::model::Role::Entrepreneur,
                },
            )
            .await
            .expect("create user");
        let token = keys.issue(&user, now, chrono::Duration::minutes(15)).expect("token");
        assert!(keys.verify(&token, now).is_ok(), "first verification");
        assert!(keys.verify(&token, now).is_ok(), "served from the memo");
        let expiry = now + chrono::Duration::minutes(15);
        let refused = keys.verify(&token, expiry).expect_err("expired");
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        for at in [token.len() / 2, token.len() - 2] {
            let mut forged = token.clone().into_bytes();
            forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(forged).expect("ASCII");
            let refused = keys.verify(&forged, now).expect_err("forged");
            assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        }
    }
}
