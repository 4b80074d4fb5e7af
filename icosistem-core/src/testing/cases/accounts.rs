//! Accounts (docs/domain.md §5): email verification, login with lockout, password change and reset,
//! admin user management.

use std::sync::Arc;

use chrono::Duration;

use crate::Context;
use crate::error::Error;
use crate::model::secret::SecretString;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::service::Register;
use crate::testing::fixtures::*;

fn register_input(email: &str) -> Register {
    Register {
        email: email.to_owned(),
        password: password(),
        first_name: "Julia".to_owned(),
        last_name: "Restrepo".to_owned(),
        role: Role::Entrepreneur,
    }
}

fn secret(s: &str) -> SecretString {
    SecretString::new(s)
}

fn wrong() -> SecretString {
    secret("definitely not the password 1")
}

#[track_caller]
fn assert_locked_until(error: &Error, until: chrono::DateTime<chrono::Utc>) {
    assert!(
        matches!(error, Error::AccountLocked { until: u } if *u == until),
        "expected AccountLocked until {until}, got {error:?}"
    );
}

#[track_caller]
fn assert_invalid_credentials(error: &Error) {
    assert!(
        matches!(error, Error::InvalidCredentials),
        "expected InvalidCredentials, got {error:?}"
    );
}

#[track_caller]
fn assert_invalid_token(error: &Error) {
    assert!(
        matches!(error, Error::InvalidToken),
        "expected InvalidToken, got {error:?}"
    );
}

/// The verification token returned by `register` (and emailed) verifies once; a second use, a
/// wrong token, or a token used 48 h or more after it was issued is `InvalidToken`.
pub async fn email_verification_token_is_single_use_and_expires<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let anonymous = Context::anonymous();
    let (first, token) = eco
        .register(&anonymous, register_input("first.verify@example.test"))
        .await
        .expect("register");
    assert_eq!(first.status, UserStatus::PendingVerification);
    assert_eq!(world.token_from_outbox(first.id, "email_verification").await, token);
    let verified = eco.verify_email(&anonymous, &token).await.expect("verify");
    assert_eq!(verified.status, UserStatus::Active);
    assert_eq!(verified.email_verified_at, Some(world.now()));
    assert_invalid_token(&expect_err(eco.verify_email(&anonymous, &token).await));
    assert_invalid_token(&expect_err(eco.verify_email(&anonymous, "no-such-token").await));

    let (on_time, on_time_token) = eco
        .register(&anonymous, register_input("on.time@example.test"))
        .await
        .expect("register");
    let (too_late, too_late_token) = eco
        .register(&anonymous, register_input("too.late@example.test"))
        .await
        .expect("register");
    world.advance(Duration::hours(48) - Duration::seconds(1));
    eco.verify_email(&anonymous, &on_time_token)
        .await
        .expect("still valid one second before 48 h");
    assert_eq!(world.row(on_time.id).await.expect("user").status, UserStatus::Active);
    world.advance(Duration::seconds(1));
    assert_invalid_token(&expect_err(eco.verify_email(&anonymous, &too_late_token).await));
    let stored = world.row(too_late.id).await.expect("user");
    assert_eq!(stored.status, UserStatus::PendingVerification);
    assert_eq!(stored.email_verified_at, None);
}

/// Five concurrent verifications with one token: exactly one succeeds.
pub async fn concurrent_verifications_of_one_token_admit_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let (user, token) = world
        .eco
        .register(&Context::anonymous(), register_input("race.verify@example.test"))
        .await
        .expect("register");
    let futures = (0..5)
        .map(|_| {
            let eco = Arc::clone(&world.eco);
            let token = token.clone();
            async move { eco.verify_email(&Context::anonymous(), &token).await }
        })
        .collect();
    let results = race(futures).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        assert_invalid_token(&expect_err(result));
    }
    assert_eq!(world.audit("user.verify_email", user.id).await.len(), 1);
}

/// An unknown email, a malformed one and a wrong password all answer `InvalidCredentials`;
/// only the wrong password counts against the account.
pub async fn unknown_email_and_wrong_password_answer_the_same<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let anonymous = Context::anonymous();
    let person = world.entrepreneur().await;
    assert_invalid_credentials(&expect_err(
        eco.authenticate(&anonymous, "nobody@example.test", &password()).await,
    ));
    assert_invalid_credentials(&expect_err(
        eco.authenticate(&anonymous, "not an email", &password()).await,
    ));
    assert_eq!(world.row(person.id()).await.expect("user").failed_logins, 0);
    let unknown = world.audit("auth.login_failed", uuid::Uuid::nil()).await;
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].after, Some(serde_json::json!({ "reason": "unknown_email" })));

    assert_invalid_credentials(&expect_err(
        eco.authenticate(&anonymous, person.email(), &wrong()).await,
    ));
    // The email is matched case-insensitively, so this is the same account.
    assert_invalid_credentials(&expect_err(
        eco.authenticate(&anonymous, &person.email().to_uppercase(), &wrong())
            .await,
    ));
    assert_eq!(world.row(person.id()).await.expect("user").failed_logins, 2);
    let ok = eco
        .authenticate(&anonymous, &person.email().to_uppercase(), &password())
        .await
        .expect("login");
    assert_eq!(ok.user.failed_logins, 0, "a success resets the counter");
    assert_eq!(ok.user.last_login_at, Some(world.now()));
}

/// Five consecutive failures lock the account for 15 minutes (`AccountLocked`): even the right
/// password is refused until then, and works from then on.
pub async fn lockout_after_five_failures_lasts_fifteen_minutes<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let anonymous = Context::anonymous();
    let person = world.entrepreneur().await;
    for _ in 0..4 {
        assert_invalid_credentials(&expect_err(
            eco.authenticate(&anonymous, person.email(), &wrong()).await,
        ));
    }
    let until = world.now() + Duration::minutes(15);
    assert_locked_until(
        &expect_err(eco.authenticate(&anonymous, person.email(), &wrong()).await),
        until,
    );
    let stored = world.row(person.id()).await.expect("user");
    assert_eq!(stored.locked_until, Some(until));
    assert_locked_until(
        &expect_err(eco.authenticate(&anonymous, person.email(), &password()).await),
        until,
    );
    world.advance(Duration::minutes(15) - Duration::seconds(1));
    assert_locked_until(
        &expect_err(eco.authenticate(&anonymous, person.email(), &password()).await),
        until,
    );
    world.advance(Duration::seconds(1));
    let ok = eco
        .authenticate(&anonymous, person.email(), &password())
        .await
        .expect("the lock has expired");
    assert_eq!(ok.user.locked_until, None);
    assert_eq!(ok.user.failed_logins, 0);
    assert_eq!(world.audit("auth.lockout", person.id()).await.len(), 1);
    // Every attempt refused by the lock is a security event of its own.
    let refused = world.audit("auth.login_refused", person.id()).await;
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .all(|e| e.after == Some(serde_json::json!({ "reason": "locked" })))
    );
    assert_eq!(world.audit("auth.login_failed", person.id()).await.len(), 5);
}

/// Five wrong passwords at once: each is counted exactly once, so exactly one attempt locks the
/// account (`AccountLocked`) and four answer `InvalidCredentials`.
pub async fn concurrent_failed_logins_lock_exactly_once<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    let futures = (0..5)
        .map(|_| {
            let eco = Arc::clone(&world.eco);
            let email = person.email().to_owned();
            async move { eco.authenticate(&Context::anonymous(), &email, &wrong()).await }
        })
        .collect();
    let results = race(futures).await;
    let until = world.now() + Duration::minutes(15);
    let mut locked = 0;
    let mut invalid = 0;
    for result in results {
        match expect_err(result) {
            Error::AccountLocked { until: u } => {
                assert_eq!(u, until);
                locked += 1;
            }
            Error::InvalidCredentials => invalid += 1,
            other => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((locked, invalid), (1, 4));
    assert_eq!(world.audit("auth.login_failed", person.id()).await.len(), 5);
    assert_eq!(world.audit("auth.lockout", person.id()).await.len(), 1);
    assert_eq!(world.row(person.id()).await.expect("user").locked_until, Some(until));
}

/// An admin lifts a lockout at once; nobody else may.
pub async fn admin_unlock_lifts_a_lockout<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let anonymous = Context::anonymous();
    let person = world.entrepreneur().await;
    for _ in 0..5 {
        let _ = eco.authenticate(&anonymous, person.email(), &wrong()).await;
    }
    assert!(matches!(
        expect_err(eco.authenticate(&anonymous, person.email(), &password()).await),
        Error::AccountLocked { .. }
    ));
    let other = world.entrepreneur().await;
    assert_forbidden(&expect_err(eco.unlock_user(&other.ctx, person.id()).await));
    assert_forbidden(&expect_err(eco.unlock_user(&person.ctx, person.id()).await));
    let unlocked = eco.unlock_user(&world.admin.ctx, person.id()).await.expect("unlock");
    assert_eq!(unlocked.locked_until, None);
    assert_eq!(unlocked.failed_logins, 0);
    eco.authenticate(&anonymous, person.email(), &password())
        .await
        .expect("login right after the unlock");
}

/// An unverified account answers `EmailNotVerified` to the right password (and
/// `InvalidCredentials` to a wrong one); a suspended one `AccountInactive` until reactivated.
pub async fn unverified_and_inactive_accounts_cannot_log_in<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let anonymous = Context::anonymous();
    eco.register(&anonymous, register_input("pending.login@example.test"))
        .await
        .expect("register");
    assert!(matches!(
        expect_err(
            eco.authenticate(&anonymous, "pending.login@example.test", &password())
                .await
        ),
        Error::EmailNotVerified
    ));
    assert_invalid_credentials(&expect_err(
        eco.authenticate(&anonymous, "pending.login@example.test", &wrong())
            .await,
    ));
    let pending = world
        .rows(UserFilter {
            email: Some(value::Email::parse("pending.login@example.test").expect("email")),
            ..Default::default()
        })
        .await
        .remove(0);
    let refused = world.audited("auth.login_refused", pending.id).await;
    assert_eq!(
        refused.after,
        Some(serde_json::json!({ "reason": "email_not_verified" }))
    );
    assert_eq!(world.audit("auth.login_failed", pending.id).await.len(), 1);

    let person = world.entrepreneur().await;
    world.set_status(person.id(), UserStatus::Suspended).await;
    assert!(matches!(
        expect_err(eco.authenticate(&anonymous, person.email(), &password()).await),
        Error::AccountInactive
    ));
    let refused = world.audited("auth.login_refused", person.id()).await;
    assert_eq!(refused.after, Some(serde_json::json!({ "reason": "inactive" })));
    world.set_status(person.id(), UserStatus::Active).await;
    eco.authenticate(&anonymous, person.email(), &password())
        .await
        .expect("login after reactivation");
}

/// Password reset: the request always answers `Ok` (an unknown email writes nothing); the
/// emailed token sets a new password once, bumps `security_stamp` and clears a lockout; it is
/// single use, replaced by a newer request, and expires after 1 h.
pub async fn password_reset_flow<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let anonymous = Context::anonymous();
    let person = world.entrepreneur().await;

    let outbox = world.count(OutboxFilter::default()).await;
    let audit = world.count(AuditFilter::default()).await;
    let tokens = world.count(AccountTokenFilter::default()).await;
    eco.request_password_reset(&anonymous, "ghost@example.test")
        .await
        .expect("always Ok");
    eco.request_password_reset(&anonymous, "not an email")
        .await
        .expect("always Ok");
    assert_eq!(world.count(OutboxFilter::default()).await, outbox);
    assert_eq!(world.count(AuditFilter::default()).await, audit);
    assert_eq!(world.count(AccountTokenFilter::default()).await, tokens);

    // Lock the account first: the reset also clears the lockout.
    for _ in 0..5 {
        let _ = eco.authenticate(&anonymous, person.email(), &wrong()).await;
    }
    eco.request_password_reset(&anonymous, &person.email().to_uppercase())
        .await
        .expect("request");
    let token = world.token_from_outbox(person.id(), "password_reset").await;
    let message = world.outbox(person.id(), "password_reset").await.remove(0);
    assert_eq!(message.recipient, person.email());
    assert_eq!(message.channel, OutboxChannel::Email);

    assert_fields(
        &expect_err(eco.confirm_password_reset(&anonymous, &token, &secret("short")).await),
        &["new_password"],
    );
    let stamp = world.row(person.id()).await.expect("user").security_stamp;
    let new_password = secret("the new secret phrase 2030");
    let reset = eco
        .confirm_password_reset(&anonymous, &token, &new_password)
        .await
        .expect("confirm");
    assert_eq!(reset.security_stamp, stamp + 1);
    assert_eq!(reset.locked_until, None);
    world.assert_notified(person.id(), "password_changed").await;
    assert_invalid_credentials(&expect_err(
        eco.authenticate(&anonymous, person.email(), &password()).await,
    ));
    eco.authenticate(&anonymous, person.email(), &new_password)
        .await
        .expect("login with the new password");
    assert_invalid_token(&expect_err(
        eco.confirm_password_reset(&anonymous, &token, &secret("yet another phrase 31"))
            .await,
    ));

    // A newer request replaces the older token.
    eco.request_password_reset(&anonymous, person.email())
        .await
        .expect("request");
    let older = world.token_from_outbox(person.id(), "password_reset").await;
    eco.request_password_reset(&anonymous, person.email())
        .await
        .expect("request");
    let newer = world.token_from_outbox(person.id(), "password_reset").await;
    assert_ne!(older, newer);
    assert_invalid_token(&expect_err(
        eco.confirm_password_reset(&anonymous, &older, &secret("older token phrase 11"))
            .await,
    ));

    // It expires after one hour.
    world.advance(Duration::hours(1));
    assert_invalid_token(&expect_err(
        eco.confirm_password_reset(&anonymous, &newer, &secret("expired token phrase 12"))
            .await,
    ));
    eco.authenticate(&anonymous, person.email(), &new_password)
        .await
        .expect("the password did not change");
}

/// Four concurrent confirmations with one reset token: exactly one sets its password.
pub async fn concurrent_reset_confirmations_admit_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    let stamp = person.user.security_stamp;
    world
        .eco
        .request_password_reset(&Context::anonymous(), person.email())
        .await
        .expect("request");
    let token = world.token_from_outbox(person.id(), "password_reset").await;
    let passwords: Vec<String> = (0..4).map(|i| format!("racing passphrase number {i}")).collect();
    let futures = passwords
        .iter()
        .map(|p| {
            let eco = Arc::clone(&world.eco);
            let (token, p) = (token.clone(), secret(p));
            async move { eco.confirm_password_reset(&Context::anonymous(), &token, &p).await }
        })
        .collect();
    let results = race(futures).await;
    let winner = results.iter().position(Result::is_ok).expect("one winner");
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        assert_invalid_token(&expect_err(result));
    }
    assert_eq!(world.row(person.id()).await.expect("user").security_stamp, stamp + 1);
    world
        .eco
        .authenticate(&Context::anonymous(), person.email(), &secret(&passwords[winner]))
        .await
        .expect("the winner's password is set");
}

/// `change_password` reports every failing field at once; a valid change replaces the password.
pub async fn change_password_reports_every_failing_field<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.person_named(Role::Entrepreneur, "Camila", "Ortiz").await;
    let local = person.user.email.local_part().to_owned();
    assert_fields(
        &expect_err(eco.change_password(&person.ctx, &wrong(), &secret("short")).await),
        &["current_password", "new_password"],
    );
    assert_fields(
        &expect_err(
            eco.change_password(&person.ctx, &wrong(), &secret(&format!("my {local} passphrase")))
                .await,
        ),
        &["current_password", "new_password"],
    );
    assert_fields(
        &expect_err(eco.change_password(&person.ctx, &password(), &password()).await),
        &["new_password"],
    );
    assert_fields(
        &expect_err(
            eco.change_password(&person.ctx, &password(), &secret("password1234"))
                .await,
        ),
        &["new_password"],
    );
    let anonymous = Context::anonymous();
    eco.authenticate(&anonymous, person.email(), &password())
        .await
        .expect("nothing changed yet");
    let fresh = secret("a truly fresh passphrase 5");
    eco.change_password(&person.ctx, &password(), &fresh)
        .await
        .expect("change");
    assert_invalid_credentials(&expect_err(
        eco.authenticate(&anonymous, person.email(), &password()).await,
    ));
    eco.authenticate(&anonymous, person.email(), &fresh)
        .await
        .expect("login with the new password");
}

/// An admin's role change creates the new role's profile, bumps the security stamp and notifies
/// the user; non-admins may not; an impossible status move is refused.
pub async fn admin_role_change_bumps_the_security_stamp<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let stamp = person.user.security_stamp;
    assert_forbidden(&expect_err(
        eco.admin_update_user(&person.ctx, person.id(), role_change(Role::Admin))
            .await,
    ));
    let changed = world.set_role(person.id(), Role::Ally).await;
    assert_eq!(changed.role, Role::Ally);
    assert_eq!(changed.security_stamp, stamp + 1);
    let profile = eco
        .get_profile(&world.admin.ctx, person.id())
        .await
        .expect("profile")
        .expect("an ally profile");
    assert_eq!(profile.data.role(), Role::Ally);
    let notice = world.assert_notified(person.id(), "account_status").await;
    assert_eq!(notice.data["role"], serde_json::json!("ally"));
    assert_fields(
        &expect_err(
            eco.admin_update_user(
                &world.admin.ctx,
                person.id(),
                status_change(UserStatus::PendingVerification),
            )
            .await,
        ),
        &["status"],
    );
    assert_eq!(world.row(person.id()).await.expect("user").status, UserStatus::Active);
}
