//! `/api/v2/admin/users`: user management, admins only. Every path first asks the core's policy
//! whether the caller may manage users (`users.manage`), so a non-admin gets 403 on the whole
//! namespace — also where the use case alone would answer 404 to hide a user.

use icosistem_core::Error;
use icosistem_core::model::value::Email;
use icosistem_core::model::{Role, UserId, UserStatus};
use icosistem_core::policy::{Action, Facts, authorize};
use icosistem_core::ports::store::UserFilter;
use icosistem_core::service::{AdminUpdateUser, Context};

use super::kit::{NoBody, NoId, PathId, api, filter_query, input, lists, routes};
use crate::dto::{AdminCreateUserRequest, AdminUpdateUserRequest, ApiJson, PageDto, UserDto};

filter_query! {
    /// `GET /api/v2/admin/users` filters.
    pub(crate) struct AdminUserQuery => UserFilter {
        /// `admin`, `entrepreneur`, `ally` or `client`.
        role: Role,
        /// `pending_verification`, `active`, `suspended` or `inactive`.
        status: UserStatus,
        /// Exact email.
        email: Email,
    }
}

/// The core's decision whether the caller manages users, asked before a body is read or a user
/// looked up (where the use case alone would answer 422, or 404 to hide a user).
fn admin_only(ctx: &Context) -> Result<(), Error> {
    authorize(&ctx.actor, Action::ManageUsers, &Facts::none()).map_err(Error::Forbidden)
}

lists! {
    tag = "admin";
    /// Lists users, newest first (`?role&status&email`).
    admin_list_users: "/api/v2/admin/users", NoId, AdminUserQuery => UserDto, [Forbidden],
        |eco, ctx, NoId, filter, page| eco.list_users(ctx, filter, page);
}

routes! {
    tag = "admin";
    /// Creates a user of any role (admins included), verified and active.
    admin_create_user: post "/api/v2/admin/users", NoId, NoIfMatch, json<AdminCreateUserRequest>
        => etag(201, "Created", UserDto) [Forbidden, Conflict, BadBody],
        |eco, ctx, NoId, _, ApiJson(b)| {
            admin_only(ctx)?;
            eco.admin_create_user(ctx, input(b)?)
        };
    /// One user.
    admin_get_user: get "/api/v2/admin/users/{id}", PathId<UserId>, NoIfMatch, none
        => etag(200, "The user", UserDto) [Forbidden, NotFound],
        |eco, ctx, PathId(id), _, NoBody| {
            admin_only(ctx)?;
            eco.get_user(ctx, id)
        };
    /// Changes a user's role (their sessions end; the new role's profile is created), status (a
    /// move the account allows: `active`, `suspended`, `inactive`) or names. The user is notified
    /// of a role or status change.
    admin_update_user: patch "/api/v2/admin/users/{id}", PathId<UserId>, IfMatch, json<AdminUpdateUserRequest>
        => etag(200, "The updated user", UserDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), version, ApiJson(b)| {
            admin_only(ctx)?;
            eco.admin_update_user(ctx, id, AdminUpdateUser { version, ..input(b)? })
        };
    /// Lifts a login lockout (the failed-login count starts again at 0). The lockout itself is
    /// never shown in a user.
    admin_unlock_user: post "/api/v2/admin/users/{id}/unlock", PathId<UserId>, NoIfMatch, none
        => etag(200, "The user", UserDto) [Forbidden, NotFound],
        |eco, ctx, PathId(id), _, NoBody| eco.unlock_user(ctx, id);
}

api!(
    [
        admin_list_users,
        admin_create_user,
        admin_get_user,
        admin_update_user,
        admin_unlock_user
    ],
    components(schemas(AdminCreateUserRequest, AdminUpdateUserRequest, PageDto<UserDto>)),
    tags((name = "admin", description = "User management (admins only)"))
);
