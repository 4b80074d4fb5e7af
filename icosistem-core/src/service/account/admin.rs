//! Admin user management: creating, editing, listing and unlocking users.

use serde_json::json;

use super::{parse_new_user, rename};
use crate::error::{Error, Result, ValidationErrors};
use crate::model::secret::SecretString;
use crate::model::{Profile, ProfileData, Role, User, UserId, UserStatus};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{Page, PageRequest, Repo, Store, UserFilter};
use crate::ports::{Clock, Notifier};
use crate::service::{Context, Ecosystem, Notice, check_version};
use crate::workflow::account::{self, AccountCommand};

/// An admin creating any user, admins included. The account starts verified and active.
#[derive(Debug, Clone)]
pub struct AdminCreateUser {
    /// Email.
    pub email: String,
    /// Initial password.
    pub password: SecretString,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Any role.
    pub role: Role,
}

/// An admin editing a user: role, status, names. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AdminUpdateUser {
    /// New role (a new role profile is created when needed).
    pub role: Option<Role>,
    /// New status (must be a move of the account graph).
    pub status: Option<UserStatus>,
    /// New given name.
    pub first_name: Option<String>,
    /// New family name.
    pub last_name: Option<String>,
    /// The version the admin read.
    pub version: Option<u64>,
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Lists users (admins only).
    pub async fn list_users(&self, ctx: &Context, filter: UserFilter, page: PageRequest) -> Result<Page<User>> {
        authorize(&ctx.actor, Action::ManageUsers, &Facts::none())?;
        let mut uow = self.uow(ctx).await?;
        uow.list(&filter, page).await
    }

    /// An admin creates a user of any role, verified and active.
    pub async fn admin_create_user(&self, ctx: &Context, input: AdminCreateUser) -> Result<User> {
        authorize(&ctx.actor, Action::ManageUsers, &Facts::none())?;
        let parsed = parse_new_user(
            &input.email,
            &input.password,
            &input.first_name,
            &input.last_name,
            &self.limits.password,
        )?;
        let hash = self.hash_password(&input.password).await?;
        let mut uow = self.uow(ctx).await?;
        let mut user = self
            .insert_user(&mut uow, parsed, hash, input.role, UserStatus::Active)
            .await?;
        user.email_verified_at = Some(uow.now);
        let user = uow.update(user).await?;
        uow.audit(
            "user.create",
            "user",
            user.id,
            None,
            None,
            Some(json!({ "role": user.role, "status": user.status })),
        )
        .await?;
        uow.commit().await?;
        Ok(user)
    }

    /// An admin changes a user's role, status or names. Role changes create the new role's
    /// profile and bump the security stamp (existing sessions end).
    pub async fn admin_update_user(&self, ctx: &Context, id: UserId, input: AdminUpdateUser) -> Result<User> {
        authorize(&ctx.actor, Action::ManageUsers, &Facts::none())?;
        let mut uow = self.uow(ctx).await?;
        let mut user = uow.load_for_update(id).await?;
        check_version(&user, input.version)?;
        let mut errors = ValidationErrors::new();
        rename(
            &mut errors,
            &mut user,
            input.first_name.as_deref(),
            input.last_name.as_deref(),
        );
        errors.into_result()?;
        let before = json!({ "role": user.role, "status": user.status });
        if let Some(status) = input.status.filter(|s| *s != user.status) {
            let command = match status {
                UserStatus::Active => AccountCommand::Activate,
                UserStatus::Suspended => AccountCommand::Suspend,
                UserStatus::Inactive => AccountCommand::Deactivate,
                UserStatus::PendingVerification => {
                    return Err(Error::invalid("status", "cannot be set back to pending_verification"));
                }
            };
            user.status = account::transition(user.status, command)?;
            user.security_stamp += 1;
        }
        let role_changed = input.role.is_some_and(|r| r != user.role);
        if let Some(role) = input.role.filter(|_| role_changed) {
            user.role = role;
            user.security_stamp += 1;
            if let Some(data) = ProfileData::default_for(role) {
                match Repo::<Profile>::get_for_update(&mut uow.tx, id).await? {
                    Some(mut profile) => {
                        profile.data = data;
                        uow.update(profile).await?;
                    }
                    None => {
                        let profile = Profile {
                            user_id: id,
                            data,
                            meta: uow.meta(),
                        };
                        uow.insert(&profile).await?;
                    }
                }
            }
        }
        let user = uow.update(user).await?;
        let after = json!({ "role": user.role, "status": user.status });
        if before != after {
            let action = if role_changed {
                "user.role_changed"
            } else {
                "user.status_changed"
            };
            uow.audit(action, "user", user.id, None, Some(before), Some(after))
                .await?;
            uow.notify(
                &user,
                Notice::new(
                    "account_status",
                    "Your account was updated",
                    format!("Your account is now {} with role {}.", user.status, user.role),
                    json!({ "status": user.status, "role": user.role }),
                ),
            )
            .await?;
        } else {
            uow.audit("user.update", "user", user.id, None, None, None).await?;
        }
        uow.commit().await?;
        Ok(user)
    }

    /// An admin lifts a lockout.
    pub async fn unlock_user(&self, ctx: &Context, id: UserId) -> Result<User> {
        authorize(&ctx.actor, Action::ManageUsers, &Facts::none())?;
        let mut uow = self.uow(ctx).await?;
        let mut user = uow.load_for_update(id).await?;
        user.locked_until = None;
        user.failed_logins = 0;
        let user = uow.update(user).await?;
        uow.audit("user.unlock", "user", user.id, None, None, None).await?;
        uow.commit().await?;
        Ok(user)
    }
}
