//! The OpenAPI 3.1 document, generated from the handlers' annotations, and the interactive
//! documentation at `/docs` (Swagger UI with its assets compiled into the binary, so it works
//! without internet access).

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::dto::{
    ChangePasswordRequest, HealthDetailed, HealthStatus, LoginRequest, NotificationPreferencesDto,
    PasswordResetConfirm, PasswordResetRequest, RefreshRequest, RegisterRequest, TokenRequest, TokenResponse,
    UpdateMeRequest, UserDto,
};
use crate::error::{Problem, ProblemField};
use crate::routes::{auth, health, users};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api-docs/openapi.json";

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Icosistem API", description = "The entrepreneurship ecosystem API (spec/API.md)."),
    paths(
        health::health,
        health::ready,
        health::detailed,
        health::api_health,
        auth::register,
        auth::verify_email,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::password_reset,
        auth::password_reset_confirm,
        users::me,
        users::update_me,
        users::change_password,
    ),
    components(schemas(
        Problem,
        ProblemField,
        UserDto,
        NotificationPreferencesDto,
        RegisterRequest,
        TokenRequest,
        LoginRequest,
        RefreshRequest,
        PasswordResetRequest,
        PasswordResetConfirm,
        ChangePasswordRequest,
        UpdateMeRequest,
        TokenResponse,
        HealthStatus,
        HealthDetailed,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Health probes"),
        (name = "auth", description = "Registration, login and sessions"),
        (name = "users", description = "The caller's account"),
    )
)]
pub struct ApiDoc;

/// `/api-docs/openapi.json` and the Swagger UI at `/docs`.
pub(crate) fn docs_router() -> Router {
    SwaggerUi::new("/docs").url(OPENAPI_PATH, ApiDoc::openapi()).into()
}
