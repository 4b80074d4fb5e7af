//! Passwords: change, reset request and reset confirmation.

use serde_json::json;

use crate::error::{Error, Result};
use crate::model::secret::SecretString;
use crate::model::value::Email;
use crate::model::{AccountTokenPurpose, User, UserStatus};
use crate::ports::store::{Store, UserFilter};
use crate::ports::{Clock, Notifier};
use crate::rules::common::validate_password;
use crate::service::{Context, Ecosystem, Notice};

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Changes the caller's password after checking the current one.
    pub async fn change_password(&self, ctx: &Context, current: &SecretString, new: &SecretString) -> Result<User> {
        let user_id = ctx.user_id("user.change_password")?;
        let user = {
            let mut uow = self.uow(ctx).await?;
            uow.load(user_id).await?
        };
        let ok = self
            .hasher
            .verify(current, &user.password_hash)
            .await
            .map_err(|e| Error::Store(crate::error::StoreError::backend(e)))?;
        let mut errors = validate_password("new_password", new.expose(), Some(&user.email), &self.limits.password);
        if !ok {
            errors.push("current_password", "is not your current password");
        }
        if current.expose() == new.expose() {
            errors.push("new_password", "must differ from the current password");
        }
        errors.into_result()?;
        let hash = self.hash_password(new).await?;
        let mut uow = self.uow(ctx).await?;
        let mut user = uow.load_for_update(user_id).await?;
        user.password_hash = hash;
        let user = uow.update(user).await?;
        uow.audit("auth.password_changed", "user", user.id, None, None, None)
            .await?;
        uow.notify(
            &user,
            Notice::new(
                "password_changed",
                "Your password was changed",
                "If this was not you, reset your password now.",
                json!({}),
            ),
        )
        .await?;
        uow.commit().await?;
        Ok(user)
    }

    /// Starts a password reset: when the email belongs to an active account, a reset token (1 h,
    /// single use) is created and emailed. Answers `Ok(())` in every case so the caller cannot
    /// learn which emails exist.
    pub async fn request_password_reset(&self, ctx: &Context, email: &str) -> Result<()> {
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        let mut uow = self.uow(ctx).await?;
        let Some(user) = uow
            .first(&UserFilter {
                email: Some(email),
                ..Default::default()
            })
            .await?
        else {
            return Ok(());
        };
        if matches!(user.status, UserStatus::Suspended | UserStatus::Inactive) {
            return Ok(());
        }
        let token = self
            .issue_token(&mut uow, &user, AccountTokenPurpose::PasswordReset)
            .await?;
        uow.audit("auth.password_reset_requested", "user", user.id, None, None, None)
            .await?;
        uow.email(
            &user,
            Notice::new(
                "password_reset",
                "Reset your password",
                format!("Your password reset code is {token}. It expires in 1 hour."),
                json!({ "token": token, "user_id": user.id }),
            ),
        )
        .await?;
        uow.commit().await
    }

    /// Sets a new password with a reset token. The token is consumed, the lockout cleared, and
    /// the user's `security_stamp` bumped so every refresh token issued before is revoked.
    pub async fn confirm_password_reset(&self, ctx: &Context, token: &str, new: &SecretString) -> Result<User> {
        let (_, user) = {
            let mut uow = self.uow(ctx).await?;
            self.consume_token(&mut uow, token, AccountTokenPurpose::PasswordReset)
                .await?
        };
        validate_password("new_password", new.expose(), Some(&user.email), &self.limits.password).into_result()?;
        let hash = self.hash_password(new).await?;
        let mut uow = self.uow(ctx).await?;
        // Re-read under lock: the token must still be unused (two concurrent confirms, one wins).
        let (mut record, _) = self
            .consume_token(&mut uow, token, AccountTokenPurpose::PasswordReset)
            .await?;
        record.used_at = Some(uow.now);
        uow.update(record).await?;
        let mut user = uow.load_for_update(user.id).await?;
        user.password_hash = hash;
        user.failed_logins = 0;
        user.locked_until = None;
        user.security_stamp += 1;
        let user = uow.update(user).await?;
        uow.audit("auth.password_reset", "user", user.id, None, None, None)
            .await?;
        uow.audit(
            "auth.tokens_revoked",
            "user",
            user.id,
            None,
            None,
            Some(json!({ "reason": "password_reset" })),
        )
        .await?;
        uow.notify(
            &user,
            Notice::new(
                "password_changed",
                "Your password was reset",
                "Your password was reset and every session was signed out.",
                json!({}),
            ),
        )
        .await?;
        uow.commit().await?;
        Ok(user)
    }
}
