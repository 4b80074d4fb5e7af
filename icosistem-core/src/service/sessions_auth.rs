//! Refresh tokens of signed-in sessions (docs/domain.md §5): opaque, stored hashed, 30 days, rotated
//! on every use; reusing a rotated token revokes its whole family; logout revokes the family;
//! a token minted under an older `security_stamp` of its user is refused.
//!
//! The access token (a short-lived JWT) is the HTTP layer's business: the core only keeps the
//! long-lived, revocable half of a session.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Context, Ecosystem, Uow};
use crate::error::{Error, Result};
use crate::model::secret::{generate_token, hash_token};
use crate::model::{RefreshToken, User, UserId, UserStatus};
use crate::ports::store::{RefreshTokenFilter, Store};
use crate::ports::{Clock, Notifier};

/// A refresh token just issued: the plain token (for the client; only its hash is stored) and
/// the user it signs in.
#[derive(Clone)]
pub struct IssuedRefreshToken {
    /// The opaque token to hand to the client.
    pub token: String,
    /// Until when it can be exchanged.
    pub expires_at: DateTime<Utc>,
    /// The signed-in user, as stored.
    pub user: User,
}

impl std::fmt::Debug for IssuedRefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedRefreshToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("user", &self.user)
            .finish()
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Starts a new refresh-token family for `user_id` (after a successful
    /// [`authenticate`](Self::authenticate)). The user must be active.
    ///
    /// Errors: `NotFound` for an unknown user, `AccountInactive` for a suspended, inactive or
    /// unverified one.
    pub async fn issue_refresh_token(&self, ctx: &Context, user_id: UserId) -> Result<IssuedRefreshToken> {
        let mut uow = self.uow(ctx).await?;
        let user = uow.load(user_id).await?;
        if user.status != UserStatus::Active && !self.may_sign_in_pending(&user) {
            return Err(Error::AccountInactive);
        }
        let family_id = uow.new_id::<uuid::Uuid>();
        let (token, expires_at) = self.insert_refresh_token(&mut uow, &user, family_id).await?;
        uow.commit().await?;
        Ok(IssuedRefreshToken {
            token,
            expires_at,
            user,
        })
    }

    /// Exchanges a refresh token for a new one of the same family, under the token's row lock
    /// (of two concurrent exchanges one wins; the other is a reuse).
    ///
    /// Errors: `Validation` on `refresh_token` for a blank token; else all `InvalidRefreshToken`
    /// so a client learns nothing more: an unknown, expired or
    /// revoked token; a token used before — then the whole family is revoked and
    /// `auth.token_reuse_detected` audited; a token minted under an older `security_stamp`, or
    /// whose user is no longer active — then the family is revoked too.
    pub async fn rotate_refresh_token(&self, ctx: &Context, token: &str) -> Result<IssuedRefreshToken> {
        require_token(token)?;
        let mut uow = self.uow(ctx).await?;
        let Some(found) = uow
            .first(&RefreshTokenFilter {
                token_hash: Some(hash_token(token.trim())),
                ..Default::default()
            })
            .await?
        else {
            return Err(Error::InvalidRefreshToken);
        };
        let record: RefreshToken = uow
            .load_for_update(found.id)
            .await
            .map_err(|_| Error::InvalidRefreshToken)?;
        if record.revoked_at.is_some() || record.expires_at <= uow.now {
            return Err(Error::InvalidRefreshToken);
        }
        if record.used_at.is_some() {
            let revoked = self.revoke_family(&mut uow, record.family_id).await?;
            uow.audit(
                "auth.token_reuse_detected",
                "user",
                record.user_id,
                None,
                None,
                Some(json!({ "family_id": record.family_id, "revoked": revoked })),
            )
            .await?;
            uow.commit().await?;
            return Err(Error::InvalidRefreshToken);
        }
        // The user must still be the one the family was issued to: same security stamp (no
        // password reset, role or status change since) and allowed to sign in.
        let user = match uow.get(record.user_id).await? {
            Some(user)
                if user.security_stamp == record.security_stamp
                    && (user.status == UserStatus::Active || self.may_sign_in_pending(&user)) =>
            {
                user
            }
            _ => {
                self.revoke_family(&mut uow, record.family_id).await?;
                uow.audit(
                    "auth.token_refused",
                    "user",
                    record.user_id,
                    None,
                    None,
                    Some(json!({ "family_id": record.family_id, "reason": "security_stamp" })),
                )
                .await?;
                uow.commit().await?;
                return Err(Error::InvalidRefreshToken);
            }
        };
        let mut used = record;
        used.used_at = Some(uow.now);
        let family_id = used.family_id;
        uow.update(used).await?;
        let (token, expires_at) = self.insert_refresh_token(&mut uow, &user, family_id).await?;
        uow.audit(
            "auth.token_refreshed",
            "user",
            user.id,
            None,
            None,
            Some(json!({ "family_id": family_id })),
        )
        .await?;
        uow.commit().await?;
        Ok(IssuedRefreshToken {
            token,
            expires_at,
            user,
        })
    }

    /// Logout: revokes the family of `token` (every token of that login, past and current).
    /// A blank token is `Validation` on `refresh_token`. An unknown or already revoked token
    /// answers `Ok(())` as well: logging out twice is not an
    /// error and tells nothing about which tokens exist.
    pub async fn revoke_refresh_family(&self, ctx: &Context, token: &str) -> Result<()> {
        require_token(token)?;
        let mut uow = self.uow(ctx).await?;
        let Some(found) = uow
            .first(&RefreshTokenFilter {
                token_hash: Some(hash_token(token.trim())),
                ..Default::default()
            })
            .await?
        else {
            return Ok(());
        };
        let revoked = self.revoke_family(&mut uow, found.family_id).await?;
        if revoked > 0 {
            uow.audit(
                "auth.logout",
                "user",
                found.user_id,
                None,
                None,
                Some(json!({ "family_id": found.family_id })),
            )
            .await?;
        }
        uow.commit().await
    }

    /// Pending accounts hold sessions only when the limits let them log in.
    fn may_sign_in_pending(&self, user: &User) -> bool {
        user.status == UserStatus::PendingVerification && !self.limits.require_verified_email
    }

    async fn insert_refresh_token(
        &self,
        uow: &mut Uow<S::Tx>,
        user: &User,
        family_id: uuid::Uuid,
    ) -> Result<(String, DateTime<Utc>)> {
        let token = generate_token();
        let expires_at = uow.now + self.limits.refresh_token_ttl;
        let record = RefreshToken {
            id: uow.new_id(),
            user_id: user.id,
            family_id,
            token_hash: hash_token(&token),
            expires_at,
            used_at: None,
            revoked_at: None,
            security_stamp: user.security_stamp,
            meta: uow.meta(),
        };
        uow.insert(&record).await?;
        Ok((token, expires_at))
    }

    /// Revokes every unrevoked token of a family; answers how many.
    async fn revoke_family(&self, uow: &mut Uow<S::Tx>, family_id: uuid::Uuid) -> Result<usize> {
        let tokens = uow
            .all(&RefreshTokenFilter {
                family_id: Some(family_id),
                unrevoked_only: true,
                ..Default::default()
            })
            .await?;
        let n = tokens.len();
        for mut token in tokens {
            token.revoked_at = Some(uow.now);
            uow.update(token).await?;
        }
        Ok(n)
    }
}

/// A refresh token must be given: a blank one is a field to fill in, not a session that ended.
fn require_token(token: &str) -> Result<()> {
    if token.trim().is_empty() {
        return Err(Error::invalid("refresh_token", "is required"));
    }
    Ok(())
}
