//! Accounts: registration, email verification, login with lockout, password change and reset,
//! and admin user management (docs/domain.md §2, §3 User, §5).

use crate::service::Expect;
use chrono::Duration;
use serde_json::json;

use super::{Context, Ecosystem, Notice, Uow, check_version};
use crate::error::{Error, Result, ValidationErrors};
use crate::model::secret::{SecretString, generate_token, hash_token};
use crate::model::value::{AtField, Email, Language, PersonName, Phone, TimeZoneName};
use crate::model::{
    AccountToken, AccountTokenPurpose, NotificationPreferences, Profile, ProfileData, Role, User, UserId, UserStatus,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{AccountTokenFilter, Repo, Store, UserFilter};
use crate::ports::{Clock, Notifier};
use crate::rules::common::validate_password;
use crate::workflow::account::{self, AccountCommand};

mod admin;
mod password;

pub use admin::{AdminCreateUser, AdminUpdateUser};

/// Self-registration input.
#[derive(Debug, Clone)]
pub struct Register {
    /// Email.
    pub email: String,
    /// Password (checked against the policy).
    pub password: SecretString,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// `entrepreneur`, `ally` or `client`.
    pub role: Role,
}

/// A user editing themselves.
#[derive(Debug, Clone, Default)]
pub struct UpdateMe {
    /// New given name.
    pub first_name: Option<String>,
    /// New family name.
    pub last_name: Option<String>,
    /// New phone; `Some(None)` clears it.
    pub phone: Option<Option<String>>,
    /// New IANA time zone.
    pub timezone: Option<String>,
    /// New language.
    pub language: Option<String>,
    /// New notification preferences.
    pub notification_preferences: Option<NotificationPreferences>,
    /// The version read.
    pub version: Option<u64>,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// The user, as stored after the login.
    pub user: User,
}

struct NewUser {
    email: Email,
    first_name: PersonName,
    last_name: PersonName,
}

fn parse_new_user(
    email: &str,
    password: &SecretString,
    first_name: &str,
    last_name: &str,
    policy: &crate::rules::common::PasswordPolicy,
) -> Result<NewUser> {
    let mut errors = ValidationErrors::new();
    let email = errors.check(Email::parse(email).at("email"));
    let first_name = errors.check(PersonName::parse(first_name).at("first_name"));
    let last_name = errors.check(PersonName::parse(last_name).at("last_name"));
    errors.extend(validate_password("password", password.expose(), email.as_ref(), policy));
    errors.into_result()?;
    match (email, first_name, last_name) {
        (Some(email), Some(first_name), Some(last_name)) => Ok(NewUser {
            email,
            first_name,
            last_name,
        }),
        _ => unreachable!("every missing value recorded an error"),
    }
}

/// Applies the name edits of an update (`None` keeps a name), each invalid one reported under
/// its field.
fn rename(errors: &mut ValidationErrors, user: &mut User, first_name: Option<&str>, last_name: Option<&str>) {
    if let Some(v) = first_name
        && let Some(v) = errors.check(PersonName::parse(v).at("first_name"))
    {
        user.first_name = v;
    }
    if let Some(v) = last_name
        && let Some(v) = errors.check(PersonName::parse(v).at("last_name"))
    {
        user.last_name = v;
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Self-registration. Creates the user (`pending_verification`), their role profile and an
    /// email verification token, and queues the verification email and a welcome notification.
    /// Returns the user and the plain verification token (it is stored only hashed; the caller
    /// normally drops it — it travels by email).
    ///
    /// Errors: `Validation` with every failing field (an admin role is refused on `role`);
    /// `Conflict { entity: "user", field: "email" }` when the email is taken.
    pub async fn register(&self, ctx: &Context, input: Register) -> Result<(User, String)> {
        let mut role_errors = ValidationErrors::new();
        if !input.role.self_registrable() {
            role_errors.push("role", "must be entrepreneur, ally or client");
        }
        let parsed = parse_new_user(
            &input.email,
            &input.password,
            &input.first_name,
            &input.last_name,
            &self.limits.password,
        );
        let parsed = match (parsed, role_errors.is_empty()) {
            (Ok(p), true) => p,
            (Ok(_), false) => return Err(role_errors.into()),
            (Err(Error::Validation(mut e)), _) => {
                e.extend(role_errors);
                return Err(e.into());
            }
            (Err(e), _) => return Err(e),
        };
        let hash = self.hash_password(&input.password).await?;
        let mut uow = self.uow(ctx).await?;
        let user = self
            .insert_user(&mut uow, parsed, hash, input.role, UserStatus::PendingVerification)
            .await?;
        let token = self
            .issue_token(&mut uow, &user, AccountTokenPurpose::EmailVerification)
            .await?;
        uow.audit(
            "user.register",
            "user",
            user.id,
            None,
            None,
            Some(json!({ "role": user.role, "status": user.status })),
        )
        .await?;
        uow.email(
            &user,
            Notice::new(
                "email_verification",
                "Verify your email",
                format!("Welcome to Icosistem. Your verification code is {token}. It expires in 48 hours."),
                json!({ "token": token, "user_id": user.id }),
            ),
        )
        .await?;
        uow.notify(
            &user,
            Notice::new(
                "welcome",
                "Welcome to Icosistem",
                format!(
                    "Hello {}, your account is ready once you verify your email.",
                    user.first_name
                ),
                json!({ "user_id": user.id }),
            ),
        )
        .await?;
        uow.commit().await?;
        Ok((user, token))
    }

    /// Verifies an email with the token sent at registration (48 h, single use).
    pub async fn verify_email(&self, ctx: &Context, token: &str) -> Result<User> {
        let mut uow = self.uow(ctx).await?;
        let (mut record, mut user) = self
            .consume_token(&mut uow, token, AccountTokenPurpose::EmailVerification)
            .await?;
        record.used_at = Some(uow.now);
        uow.update(record).await?;
        let from = user.status;
        if user.status == UserStatus::PendingVerification {
            user.status = account::transition(user.status, AccountCommand::Verify)?;
        }
        user.email_verified_at = Some(uow.now);
        let user = uow.update(user).await?;
        uow.audit_transition(
            "user.verify_email",
            "user",
            user.id,
            None,
            from.as_str(),
            user.status.as_str(),
        )
        .await?;
        uow.commit().await?;
        Ok(user)
    }

    /// Checks email and password. Unknown email and wrong password answer the same
    /// `InvalidCredentials` (and take the same time: a dummy hash is verified). After
    /// `lockout_threshold` consecutive failures the account is locked for `lockout_duration`
    /// (`AccountLocked`); a success resets the counter. Suspended or inactive accounts answer
    /// `AccountInactive`; unverified ones `EmailNotVerified` when the limits require it. Every
    /// outcome is audited.
    pub async fn authenticate(&self, ctx: &Context, email: &str, password: &SecretString) -> Result<LoginOutcome> {
        let Ok(email) = Email::parse(email) else {
            self.dummy_verify(password).await;
            return Err(Error::InvalidCredentials);
        };
        // Read first, verify outside the unit of work (hashing is slow), then decide under the
        // user's row lock so concurrent failures count exactly.
        let found = {
            let mut uow = self.uow(ctx).await?;
            uow.first(&UserFilter {
                email: Some(email.clone()),
                ..Default::default()
            })
            .await?
        };
        let Some(found) = found else {
            self.dummy_verify(password).await;
            let mut uow = self.uow(ctx).await?;
            uow.audit(
                "auth.login_failed",
                "user",
                uuid::Uuid::nil(),
                None,
                None,
                Some(json!({ "reason": "unknown_email" })),
            )
            .await?;
            uow.commit().await?;
            return Err(Error::InvalidCredentials);
        };
        let now = self.clock.now();
        if found.is_locked(now) {
            self.audit_refused_login(ctx, found.id, "locked").await?;
            return Err(Error::AccountLocked {
                until: found.locked_until.unwrap_or(now),
            });
        }
        let password_ok = self
            .hasher
            .verify(password, &found.password_hash)
            .await
            .map_err(|e| Error::Store(crate::error::StoreError::backend(e)))?;
        let mut uow = self.uow(ctx).await?;
        let mut user = uow.load_for_update(found.id).await?;
        if user.is_locked(uow.now) {
            uow.audit(
                "auth.login_refused",
                "user",
                user.id,
                None,
                None,
                Some(json!({ "reason": "locked" })),
            )
            .await?;
            let until = user.locked_until.unwrap_or(uow.now);
            uow.commit().await?;
            return Err(Error::AccountLocked { until });
        }
        if !password_ok || user.password_hash != found.password_hash {
            user.failed_logins += 1;
            let mut locked = None;
            if user.failed_logins >= self.limits.lockout_threshold {
                let until = uow.now + self.limits.lockout_duration;
                user.locked_until = Some(until);
                user.failed_logins = 0;
                locked = Some(until);
            }
            let user = uow.update(user).await?;
            // The user id is the target, but the actor stays anonymous: nobody proved who they are.
            uow.audit("auth.login_failed", "user", user.id, None, None, None)
                .await?;
            if let Some(until) = locked {
                uow.audit(
                    "auth.lockout",
                    "user",
                    user.id,
                    None,
                    None,
                    Some(json!({ "locked_until": until })),
                )
                .await?;
                uow.notify(
                    &user,
                    Notice::new(
                        "account_locked",
                        "Your account was locked",
                        format!("Too many failed logins. Your account is locked until {until}."),
                        json!({ "locked_until": until }),
                    ),
                )
                .await?;
            }
            uow.commit().await?;
            return Err(match locked {
                Some(until) => Error::AccountLocked { until },
                None => Error::InvalidCredentials,
            });
        }
        let refusal = match user.status {
            UserStatus::Suspended | UserStatus::Inactive => Some(("inactive", Error::AccountInactive)),
            UserStatus::PendingVerification if self.limits.require_verified_email => {
                Some(("email_not_verified", Error::EmailNotVerified))
            }
            _ => None,
        };
        if let Some((reason, error)) = refusal {
            // The password was right: the counter of failures starts over, the refusal is audited.
            user.failed_logins = 0;
            let user = uow.update(user).await?;
            uow.audit(
                "auth.login_refused",
                "user",
                user.id,
                None,
                None,
                Some(json!({ "reason": reason })),
            )
            .await?;
            uow.commit().await?;
            return Err(error);
        }
        user.failed_logins = 0;
        user.locked_until = None;
        user.last_login_at = Some(uow.now);
        let user = uow.update(user).await?;
        uow.audit("auth.login", "user", user.id, None, None, None).await?;
        uow.commit().await?;
        Ok(LoginOutcome { user })
    }

    /// A user by id: the caller themselves or, for admins, anyone.
    pub async fn get_user(&self, ctx: &Context, id: UserId) -> Result<User> {
        if ctx.actor.user_id() != Some(id) {
            authorize(&ctx.actor, Action::ManageUsers, &Facts::none()).map_err(|_| Error::not_found("user", id))?;
        }
        let mut uow = self.uow(ctx).await?;
        uow.load(id).await
    }

    /// The role profile of a user (visible like the user).
    pub async fn get_profile(&self, ctx: &Context, id: UserId) -> Result<Option<Profile>> {
        self.get_user(ctx, id).await?;
        let mut uow = self.uow(ctx).await?;
        Ok(Repo::<Profile>::get(&mut uow.tx, id).await?)
    }

    /// The caller's own role profile; `NotFound` (`profile`) when they have none (admins).
    pub async fn get_my_profile(&self, ctx: &Context) -> Result<Profile> {
        let id = ctx.user_id("profile.read")?;
        self.get_profile(ctx, id)
            .await?
            .ok_or_else(|| Error::not_found("profile", id))
    }

    /// The caller edits their own account.
    pub async fn update_me(&self, ctx: &Context, input: UpdateMe) -> Result<User> {
        let id = ctx.user_id("user.update")?;
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
        match input.phone {
            Some(Some(v)) => {
                if let Some(v) = errors.check(Phone::parse(&v).at("phone")) {
                    user.phone = Some(v);
                }
            }
            Some(None) => user.phone = None,
            None => {}
        }
        if let Some(v) = input.timezone.as_deref()
            && let Some(v) = errors.check(TimeZoneName::parse(v).at("timezone"))
        {
            user.timezone = v;
        }
        if let Some(v) = input.language.as_deref()
            && let Some(v) = errors.check(Language::parse(v).at("language"))
        {
            user.language = v;
        }
        if let Some(p) = input.notification_preferences {
            user.notification_preferences = p;
        }
        errors.into_result()?;
        let user = uow.update(user).await?;
        uow.audit("user.update", "user", user.id, None, None, None).await?;
        uow.commit().await?;
        Ok(user)
    }

    /// The caller replaces their role profile (its kind must match their role). An ally's rating
    /// (`ratings_total`, `ratings_count`) is kept as stored whatever is sent: only session
    /// feedback changes it.
    pub async fn update_my_profile(
        &self,
        ctx: &Context,
        data: ProfileData,
        version: impl Into<Expect>,
    ) -> Result<Profile> {
        let id = ctx.user_id("profile.update")?;
        let mut errors = ValidationErrors::new();
        if Some(data.role()) != ctx.actor.role() {
            errors.push("kind", "must match your role");
        }
        if let ProfileData::Ally(ally) = &data {
            ally.check(&mut errors);
        }
        errors.into_result()?;
        let mut uow = self.uow(ctx).await?;
        let existing = Repo::<Profile>::get_for_update(&mut uow.tx, id).await?;
        let mut data = data;
        if let ProfileData::Ally(ally) = &mut data {
            // The rating is what session feedback made it (docs/domain.md §4.6), never what the ally
            // sends: keep the stored sum and count (none yet for a new profile).
            let (total, count) = match existing.as_ref().map(|p| &p.data) {
                Some(ProfileData::Ally(stored)) => (stored.ratings_total, stored.ratings_count),
                _ => (0, 0),
            };
            ally.ratings_total = total;
            ally.ratings_count = count;
        }
        let profile = match existing {
            Some(mut profile) => {
                check_version(&profile, version)?;
                profile.data = data;
                uow.update(profile).await?
            }
            None => {
                let profile = Profile {
                    user_id: id,
                    data,
                    meta: uow.meta(),
                };
                uow.insert(&profile).await?;
                profile
            }
        };
        uow.audit("profile.update", "user", id, None, None, None).await?;
        uow.commit().await?;
        Ok(profile)
    }

    /// Audits a login refused before any password check (its own small unit of work).
    async fn audit_refused_login(&self, ctx: &Context, user: UserId, reason: &str) -> Result<()> {
        let mut uow = self.uow(ctx).await?;
        uow.audit(
            "auth.login_refused",
            "user",
            user,
            None,
            None,
            Some(json!({ "reason": reason })),
        )
        .await?;
        uow.commit().await
    }

    async fn hash_password(&self, password: &SecretString) -> Result<String> {
        self.hasher
            .hash(password)
            .await
            .map_err(|e| Error::Store(crate::error::StoreError::backend(e)))
    }

    /// Spends the time of a real verification so unknown emails cannot be told apart by timing.
    async fn dummy_verify(&self, password: &SecretString) {
        const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        let _ = self.hasher.verify(password, DUMMY).await;
    }

    async fn insert_user(
        &self,
        uow: &mut Uow<S::Tx>,
        parsed: NewUser,
        password_hash: String,
        role: Role,
        status: UserStatus,
    ) -> Result<User> {
        let user = User {
            id: uow.new_id(),
            email: parsed.email,
            password_hash,
            first_name: parsed.first_name,
            last_name: parsed.last_name,
            role,
            status,
            email_verified_at: None,
            failed_logins: 0,
            locked_until: None,
            last_login_at: None,
            security_stamp: 0,
            phone: None,
            timezone: TimeZoneName::default(),
            language: Language::default(),
            notification_preferences: NotificationPreferences::default(),
            meta: uow.meta(),
            deletion: Default::default(),
        };
        uow.insert(&user).await?;
        if let Some(data) = ProfileData::default_for(role) {
            let profile = Profile {
                user_id: user.id,
                data,
                meta: uow.meta(),
            };
            uow.insert(&profile).await?;
        }
        Ok(user)
    }

    /// Creates a token for `purpose`, revoking the user's earlier unused ones of that purpose.
    async fn issue_token(&self, uow: &mut Uow<S::Tx>, user: &User, purpose: AccountTokenPurpose) -> Result<String> {
        let earlier = uow
            .all(&AccountTokenFilter {
                user_id: Some(user.id),
                purpose: Some(purpose),
                usable_at: Some(uow.now),
                ..Default::default()
            })
            .await?;
        for mut old in earlier {
            old.used_at = Some(uow.now);
            uow.update(old).await?;
        }
        let ttl: Duration = match purpose {
            AccountTokenPurpose::EmailVerification => self.limits.email_verification_ttl,
            AccountTokenPurpose::PasswordReset => self.limits.password_reset_ttl,
        };
        let token = generate_token();
        let record = AccountToken {
            id: uow.new_id(),
            user_id: user.id,
            purpose,
            token_hash: hash_token(&token),
            expires_at: uow.now + ttl,
            used_at: None,
            meta: uow.meta(),
        };
        uow.insert(&record).await?;
        Ok(token)
    }

    /// Finds a usable token of `purpose` and its user, or `InvalidToken`.
    async fn consume_token(
        &self,
        uow: &mut Uow<S::Tx>,
        token: &str,
        purpose: AccountTokenPurpose,
    ) -> Result<(AccountToken, User)> {
        let found = uow
            .first(&AccountTokenFilter {
                token_hash: Some(hash_token(token.trim())),
                purpose: Some(purpose),
                usable_at: Some(uow.now),
                ..Default::default()
            })
            .await?
            .ok_or(Error::InvalidToken)?;
        // Lock the token and check it again: of two concurrent uses, the second waits here and
        // then finds it used — `InvalidToken`, not a version conflict.
        let record: AccountToken = uow.load_for_update(found.id).await.map_err(|_| Error::InvalidToken)?;
        if !record.is_usable(uow.now) {
            return Err(Error::InvalidToken);
        }
        let user = uow.get(record.user_id).await?.ok_or(Error::InvalidToken)?;
        Ok((record, user))
    }
}
