//! Refresh tokens (docs/domain.md §5): rotation on every use, reuse revoking the family, logout,
//! and the security stamp.

use chrono::Duration;

use crate::error::Error;
use crate::model::secret::hash_token;
use crate::model::*;
use crate::ports::Store;
use crate::ports::store::*;
use crate::testing::fixtures::*;

#[track_caller]
fn assert_invalid_token(error: &Error) {
    assert!(
        matches!(error, Error::InvalidRefreshToken),
        "expected InvalidRefreshToken, got {error:?}"
    );
}

async fn token_row<S: Store>(world: &World<S>, token: &str) -> RefreshToken {
    let mut rows = world
        .rows(RefreshTokenFilter {
            token_hash: Some(hash_token(token)),
            ..Default::default()
        })
        .await;
    assert_eq!(rows.len(), 1, "one row per token hash");
    rows.remove(0)
}

/// How many refresh tokens of `person` are not revoked.
async fn live_tokens<S: Store>(world: &World<S>, person: &Person) -> u64 {
    world
        .count(RefreshTokenFilter {
            user_id: Some(person.id()),
            unrevoked_only: true,
            ..Default::default()
        })
        .await
}

/// Every exchange marks the presented token used and issues a new one of the same family, valid
/// 30 days; only hashes are stored; an expired token is refused.
pub async fn refresh_tokens_rotate_on_every_use<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let issued = eco.issue_refresh_token(&person.ctx, person.id()).await.expect("issue");
    assert_eq!(issued.user.id, person.id());
    assert_eq!(issued.expires_at, world.now() + Duration::days(30));
    let first = token_row(&world, &issued.token).await;
    assert_ne!(first.token_hash, issued.token, "the plain token is never stored");
    assert_eq!(first.security_stamp, person.user.security_stamp);

    world.advance(Duration::minutes(20));
    let rotated = eco
        .rotate_refresh_token(&person.ctx, &issued.token)
        .await
        .expect("rotate");
    assert_ne!(rotated.token, issued.token);
    assert_eq!(rotated.expires_at, world.now() + Duration::days(30));
    let used = token_row(&world, &issued.token).await;
    assert_eq!(used.used_at, Some(world.now()));
    let second = token_row(&world, &rotated.token).await;
    assert_eq!(second.family_id, first.family_id);
    assert!(second.is_usable(world.now()));
    assert_eq!(world.audit("auth.token_refreshed", person.id()).await.len(), 1);

    world.advance(Duration::days(30));
    assert_invalid_token(&expect_err(eco.rotate_refresh_token(&person.ctx, &rotated.token).await));
    assert_invalid_token(&expect_err(
        eco.rotate_refresh_token(&person.ctx, "no-such-token").await,
    ));
}

/// Presenting a token that was already exchanged revokes its whole family (the successor too)
/// and is audited; other families of the user live on. Logout revokes a family and is audited.
pub async fn reusing_a_rotated_refresh_token_revokes_the_family<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let other_device = eco.issue_refresh_token(&person.ctx, person.id()).await.expect("issue");
    let first = eco.issue_refresh_token(&person.ctx, person.id()).await.expect("issue");
    let second = eco
        .rotate_refresh_token(&person.ctx, &first.token)
        .await
        .expect("rotate");

    assert_invalid_token(&expect_err(eco.rotate_refresh_token(&person.ctx, &first.token).await));
    let event = world.audited("auth.token_reuse_detected", person.id()).await;
    // The exchanged token and its successor.
    assert_eq!(event.after.as_ref().and_then(|a| a["revoked"].as_u64()), Some(2));
    let successor = token_row(&world, &second.token).await;
    assert_eq!(successor.revoked_at, Some(world.now()));
    assert_invalid_token(&expect_err(eco.rotate_refresh_token(&person.ctx, &second.token).await));

    let other = eco
        .rotate_refresh_token(&person.ctx, &other_device.token)
        .await
        .expect("another family is untouched");
    eco.revoke_refresh_family(&person.ctx, &other.token)
        .await
        .expect("logout");
    assert_eq!(world.audit("auth.logout", person.id()).await.len(), 1);
    assert_invalid_token(&expect_err(eco.rotate_refresh_token(&person.ctx, &other.token).await));
    eco.revoke_refresh_family(&person.ctx, &other.token)
        .await
        .expect("logging out twice is fine");
    assert_eq!(world.audit("auth.logout", person.id()).await.len(), 1);
    assert_eq!(live_tokens(&world, &person).await, 0);
}

/// A refresh token minted before the user's security stamp changed (here: a role change) is
/// refused and its family revoked; a new login works.
pub async fn refresh_tokens_of_an_older_security_stamp_are_refused<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let eco = &world.eco;
    let person = world.entrepreneur().await;
    let issued = eco.issue_refresh_token(&person.ctx, person.id()).await.expect("issue");
    let changed = world.set_role(person.id(), Role::Ally).await;
    assert!(changed.security_stamp > person.user.security_stamp);
    assert_invalid_token(&expect_err(eco.rotate_refresh_token(&person.ctx, &issued.token).await));
    assert_eq!(token_row(&world, &issued.token).await.revoked_at, Some(world.now()));
    let fresh = eco
        .issue_refresh_token(&person.ctx, person.id())
        .await
        .expect("issue after the change");
    assert_eq!(
        token_row(&world, &fresh.token).await.security_stamp,
        changed.security_stamp
    );
    eco.rotate_refresh_token(&person.ctx, &fresh.token)
        .await
        .expect("a token of the current stamp rotates");
}

/// Five concurrent exchanges of one refresh token: exactly one gets a successor; the others are
/// reuses, so the family ends revoked (the winner's successor included) and the reuse is
/// audited. The token's row lock decides, so no exchange fails with a version conflict.
pub async fn concurrent_refreshes_of_one_token_admit_one<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let person = world.entrepreneur().await;
    let issued = world
        .eco
        .issue_refresh_token(&person.ctx, person.id())
        .await
        .expect("issue");
    let futures = (0..5)
        .map(|_| {
            let eco = std::sync::Arc::clone(&world.eco);
            let token = issued.token.clone();
            let ctx = person.ctx.clone();
            async move { eco.rotate_refresh_token(&ctx, &token).await }
        })
        .collect();
    let results = race(futures).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        assert_invalid_token(&expect_err(result));
    }
    assert!(!world.audit("auth.token_reuse_detected", person.id()).await.is_empty());
    assert_eq!(live_tokens(&world, &person).await, 0);
}
