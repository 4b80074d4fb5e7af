//! `/api/v2/users/me`: the caller's own account.

use axum::extract::State;
use axum::response::Response;
use icosistem_core::model::secret::SecretString;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::UpdateMe;

use super::kit::{Authenticated, NoId, answer, api, mount, routes};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::{ApiJson, ChangePasswordRequest, UpdateMeRequest, UserDto};

/// The caller.
#[utoipa::path(get, path = "/api/v2/users/me", operation_id = "get_me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserDto), Authenticated))]
pub(crate) async fn get_me<S: Store, N: Notifier, C: Clock>(_: State<AppState<S, N, C>>, auth: AuthUser) -> Response {
    answer::<_, UserDto>(&*auth.user)
}
mount!(get_me: get "/api/v2/users/me");

routes! {
    tag = "users";
    /// Edits the caller's account. `If-Match: "<version>"` (or `version` in the body) guards
    /// against lost updates.
    update_me: patch "/api/v2/users/me", NoId, IfMatch, json<UpdateMeRequest>
        => etag(200, "The updated caller", UserDto) [Conflict, BadBody],
        |eco, ctx, NoId, version, ApiJson(b)| eco.update_me(ctx, UpdateMe {
            first_name: b.first_name,
            last_name: b.last_name,
            phone: b.phone,
            timezone: b.timezone,
            language: b.language,
            notification_preferences: b.notification_preferences.map(Into::into),
             version,
        });
    /// Changes the caller's password after checking the current one.
    change_password: put "/api/v2/users/me/password", NoId, NoIfMatch, json<ChangePasswordRequest>
        => empty(204, "Changed") [BadBody],
        |eco, ctx, NoId, _, ApiJson(b)| eco.change_password(
            ctx,
            &SecretString::new(b.current_password),
            &SecretString::new(b.new_password),
        );
}

api!([get_me, update_me, change_password]);
