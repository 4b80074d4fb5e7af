//! `/api/v2/admin/users`: user management, admins only. Every path first asks the core's policy
//! whether the caller may manage users (`users.manage`), so a non-admin gets 403 on the whole
//! namespace — also where the use case alone would answer 404 to hide a user.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing;
use axum::{Json, Router};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::value::{AtField, Email, PersonName};
use icosistem_core::model::{Role, User, UserId, UserStatus};
use icosistem_core::policy::{Action, Facts, authorize};
use icosistem_core::ports::store::UserFilter;
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::{AdminCreateUser, AdminUpdateUser};

use super::kit::{
    Authenticated, BadBody, BadInput, Conflict, Forbidden, IfMatch, ListQuery, Listed, NotFound, PathId, list_query,
};
use super::{finish, optional_enum, required, required_enum, versioned};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::schema::one_of_or_empty;
use crate::dto::{AdminCreateUserRequest, AdminUpdateUserRequest, ApiJson, PageDto, UserDto};
use crate::error::ApiError;

list_query! {
    /// `GET /api/v2/admin/users` filters.
    pub(crate) struct AdminUserQuery {
        /// `admin`, `entrepreneur`, `ally` or `client`.
        #[param(schema_with = one_of_or_empty::<Role>)]
        role: Option<String>,
        /// `pending_verification`, `active`, `suspended` or `inactive`.
        #[param(schema_with = one_of_or_empty::<UserStatus>)]
        status: Option<String>,
        /// Exact email.
        #[param(schema_with = crate::dto::schema::email_or_blank)]
        email: Option<String>,
    }
}

fn user_response(user: &User) -> Response {
    versioned(user.meta.version, UserDto::from(user))
}

/// The core's decision whether the caller manages users.
fn admin_only(auth: &AuthUser) -> Result<(), ApiError> {
    authorize(&auth.ctx.actor, Action::ManageUsers, &Facts::none())
        .map_err(|f| ApiError::from(icosistem_core::Error::Forbidden(f)))
}

impl ListQuery for AdminUserQuery {
    type Filter = UserFilter;

    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter {
        UserFilter {
            role: optional_enum(errors, "role", self.role.as_deref()),
            status: optional_enum(errors, "status", self.status.as_deref()),
            email: self
                .email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .and_then(|e| errors.check(Email::parse(e).at("email"))),
            ..Default::default()
        }
    }
}

/// Lists users, newest first (`?role&status&email`).
#[utoipa::path(get, path = "/api/v2/admin/users", operation_id = "admin_list_users", tag = "admin", security(("bearer" = [])),
    params(AdminUserQuery),
    responses((status = 200, description = "A page of users", body = PageDto<UserDto>), Authenticated, Forbidden, BadInput))]
pub(crate) async fn admin_list_users<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Listed { filter, page }: Listed<AdminUserQuery>,
) -> Result<Json<PageDto<UserDto>>, ApiError> {
    admin_only(&auth)?;
    let found = state.eco.list_users(&auth.ctx, filter, page).await?;
    Ok(Json(PageDto::from_page(found)))
}

/// Creates a user of any role (admins included), verified and active.
#[utoipa::path(post, path = "/api/v2/admin/users", operation_id = "admin_create_user", tag = "admin", security(("bearer" = [])),
    request_body = AdminCreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserDto), Authenticated, Forbidden, Conflict, BadBody))]
pub(crate) async fn admin_create_user<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    ApiJson(body): ApiJson<AdminCreateUserRequest>,
) -> Result<Response, ApiError> {
    admin_only(&auth)?;
    let mut errors = ValidationErrors::new();
    // Presence and the shapes the HTTP layer can tell are checked here so one answer names every
    // failing field; the core checks them again, with the password policy, before storing.
    let email = required(&mut errors, "email", body.email.filter(|e| !e.trim().is_empty()));
    if let Some(e) = email.as_deref() {
        errors.check(Email::parse(e).at("email"));
    }
    let password = required(&mut errors, "password", body.password.filter(|p| !p.is_empty()));
    let first_name = required(
        &mut errors,
        "first_name",
        body.first_name.filter(|n| !n.trim().is_empty()),
    );
    if let Some(n) = first_name.as_deref() {
        errors.check(PersonName::parse(n).at("first_name"));
    }
    let last_name = required(
        &mut errors,
        "last_name",
        body.last_name.filter(|n| !n.trim().is_empty()),
    );
    if let Some(n) = last_name.as_deref() {
        errors.check(PersonName::parse(n).at("last_name"));
    }
    let role = required_enum::<Role>(&mut errors, "role", body.role.as_deref());
    finish(errors)?;
    let (Some(email), Some(password), Some(first_name), Some(last_name), Some(role)) =
        (email, password, first_name, last_name, role)
    else {
        return Err(ApiError::internal());
    };
    let user = state
        .eco
        .admin_create_user(
            &auth.ctx,
            AdminCreateUser {
                email,
                password: SecretString::new(password),
                first_name,
                last_name,
                role,
            },
        )
        .await?;
    let mut response = user_response(&user);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// One user.
#[utoipa::path(get, path = "/api/v2/admin/users/{id}", operation_id = "admin_get_user", tag = "admin", security(("bearer" = [])),
    params(PathId<UserId>),
    responses(
        (status = 200, description = "The user", body = UserDto), Authenticated, Forbidden, NotFound))]
pub(crate) async fn admin_get_user<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<UserId>,
) -> Result<Response, ApiError> {
    admin_only(&auth)?;
    let user = state.eco.get_user(&auth.ctx, id).await?;
    Ok(user_response(&user))
}

/// Changes a user's role (their sessions end; the new role's profile is created), status (a
/// move the account allows: `active`, `suspended`, `inactive`) or names. The user is notified
/// of a role or status change.
#[utoipa::path(patch, path = "/api/v2/admin/users/{id}", operation_id = "admin_update_user", tag = "admin", security(("bearer" = [])),
    request_body = AdminUpdateUserRequest,
    params(PathId<UserId>,
        IfMatch),
    responses(
        (status = 200, description = "The updated user", body = UserDto), Authenticated, Forbidden, NotFound, Conflict, BadBody))]
pub(crate) async fn admin_update_user<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<UserId>,
    IfMatch(if_match): IfMatch,
    ApiJson(body): ApiJson<AdminUpdateUserRequest>,
) -> Result<Response, ApiError> {
    admin_only(&auth)?;
    let version = if_match.or(body.version);
    let mut errors = ValidationErrors::new();
    let role = optional_enum::<Role>(&mut errors, "role", body.role.as_deref());
    let status = optional_enum::<UserStatus>(&mut errors, "status", body.status.as_deref());
    if status == Some(UserStatus::PendingVerification) {
        errors.push("status", "cannot be set back to pending_verification");
    }
    finish(errors)?;
    let user = state
        .eco
        .admin_update_user(
            &auth.ctx,
            id,
            AdminUpdateUser {
                role,
                status,
                first_name: body.first_name,
                last_name: body.last_name,
                version,
            },
        )
        .await?;
    Ok(user_response(&user))
}

/// Lifts a login lockout (the failed-login count starts again at 0). The lockout itself is
/// never shown in a user.
#[utoipa::path(post, path = "/api/v2/admin/users/{id}/unlock", operation_id = "admin_unlock_user", tag = "admin", security(("bearer" = [])),
    params(PathId<UserId>),
    responses(
        (status = 200, description = "The user", body = UserDto), Authenticated, Forbidden, NotFound))]
pub(crate) async fn admin_unlock_user<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<UserId>,
) -> Result<Response, ApiError> {
    admin_only(&auth)?;
    let user = state.eco.unlock_user(&auth.ctx, id).await?;
    Ok(user_response(&user))
}

/// The document of the admin paths.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(admin_list_users, admin_create_user, admin_get_user, admin_update_user, admin_unlock_user),
    components(schemas(AdminCreateUserRequest, AdminUpdateUserRequest, PageDto<UserDto>)),
    tags((name = "admin", description = "User management (admins only)"))
)]
pub(crate) struct Api;

/// This module's routes.
pub(crate) fn router<S: Store, N: Notifier, C: Clock>() -> Router<AppState<S, N, C>> {
    Router::new()
        .route(
            "/api/v2/admin/users",
            routing::get(admin_list_users::<S, N, C>).post(admin_create_user::<S, N, C>),
        )
        .route(
            "/api/v2/admin/users/{id}",
            routing::get(admin_get_user::<S, N, C>).patch(admin_update_user::<S, N, C>),
        )
        .route(
            "/api/v2/admin/users/{id}/unlock",
            routing::post(admin_unlock_user::<S, N, C>),
        )
}
