//! The OpenAPI 3.1 document, generated from the handlers' annotations, and the interactive
//! documentation at `/docs` (Swagger UI with its assets compiled into the binary, so it works
//! without internet access). Both follow the [`HttpConfig`]: only the mounted paths are listed,
//! its base path is the document's server, and either can be turned off. The bounds that a
//! deployment sets through its `Limits` (the password policy) are the served document's too.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::Config;

use icosistem_core::service::Limits;

use crate::HttpConfig;
use crate::dto::{
    AddMemberRequest, AdvanceStageRequest, ApplicantDto, ApplicationDto, ApplicationProjectDto, AssignReviewerRequest,
    ChangePasswordRequest, CommandRequest, CreateApplicationRequest, CreateMilestoneRequest, CreateOrganizationRequest,
    CreateProgramRequest, CreateProjectRequest, DecisionRequest, DelayRequest, EnrollmentDto, HealthDetailed,
    HealthStatus, LoginRequest, MemberDto, MilestoneDto, MoneyDto, NotificationPreferencesDto, OrganizationDto,
    PageDto, PasswordResetConfirm, PasswordResetRequest, ProgramDto, ProgressRequest, ProjectDto, RefreshRequest,
    RegisterRequest, RejectInRoundRequest, ReviewDto, RoundDto, RoundRequest, SubmitReviewRequest, TokenRequest,
    TokenResponse, UpdateApplicationRequest, UpdateMeRequest, UpdateMilestoneRequest, UpdateOrganizationRequest,
    UpdateProgramRequest, UpdateProjectRequest, UserDto,
};
use crate::error::{Problem, ProblemField};
use crate::routes;

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
    info(title = "Icosistem API", description = "The entrepreneurship ecosystem API: organizations, programs, projects, applications and their review, mentoring, notifications."),
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
        CommandRequest,
        OrganizationDto,
        MemberDto,
        CreateOrganizationRequest,
        UpdateOrganizationRequest,
        AddMemberRequest,
        ProgramDto,
        EnrollmentDto,
        CreateProgramRequest,
        UpdateProgramRequest,
        RoundDto,
        RoundRequest,
        PageDto<OrganizationDto>,
        PageDto<MemberDto>,
        PageDto<ProgramDto>,
        PageDto<EnrollmentDto>,
        MoneyDto,
        ProjectDto,
        CreateProjectRequest,
        UpdateProjectRequest,
        AdvanceStageRequest,
        MilestoneDto,
        CreateMilestoneRequest,
        UpdateMilestoneRequest,
        ProgressRequest,
        DelayRequest,
        PageDto<ProjectDto>,
        PageDto<MilestoneDto>,
        ApplicationDto,
        ApplicationProjectDto,
        ApplicantDto,
        ReviewDto,
        CreateApplicationRequest,
        UpdateApplicationRequest,
        DecisionRequest,
        RejectInRoundRequest,
        AssignReviewerRequest,
        SubmitReviewRequest,
        PageDto<ApplicationDto>,
        PageDto<ReviewDto>,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Health probes"),
        (name = "auth", description = "Registration, login and sessions"),
        (name = "users", description = "The caller's account"),
        (name = "organizations", description = "Organizations and their members"),
        (name = "programs", description = "Programs, their lifecycle and enrollments"),
        (name = "projects", description = "Entrepreneurs' projects, their stage and lifecycle"),
        (name = "milestones", description = "Project milestones"),
        (name = "applications", description = "Applications to programs, reviewers and reviews"),
        (name = "analytics", description = "Figures of programs, organizations, mentoring and one's own (docs/domain.md §9)"),
    )
)]
pub struct ApiDoc;

/// The whole document: [`ApiDoc`] plus the path groups that keep their own `OpenApi` next to
/// their handlers (each `routes` module may declare one; it is merged here).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    // Each route module documents its own paths next to its handlers.
    for part in [
        routes::health::Api::openapi(),
        routes::auth::Api::openapi(),
        routes::users::Api::openapi(),
        routes::profile::Api::openapi(),
        routes::admin::Api::openapi(),
        routes::outbox::Api::openapi(),
        routes::organizations::Api::openapi(),
        routes::programs::Api::openapi(),
        routes::enrollments::Api::openapi(),
        routes::projects::Api::openapi(),
        routes::applications::Api::openapi(),
        routes::tasks::Api::openapi(),
        routes::inbox::Api::openapi(),
        routes::mentoring::Api::openapi(),
        routes::sessions::Api::openapi(),
        routes::meetings::Api::openapi(),
        routes::matching::Api::openapi(),
        routes::webhooks::Api::openapi(),
        routes::calendar::Api::openapi(),
        routes::documents::Api::openapi(),
        routes::conversations::Api::openapi(),
        routes::analytics::Api::openapi(),
        crate::metrics::MetricsApi::openapi(),
        crate::live::LiveApi::openapi(),
    ] {
        doc.merge(part);
    }
    link_creates(&mut doc);
    drop_defaults_of_required_fields(&mut doc);
    // Keep last: documents the 429 of every rate-limited operation merged above.
    crate::rate_limit::document_429(&mut doc);
    doc
}

/// Removes the `default` of every component-schema property that is required or whose default is
/// the empty string.
///
/// The request DTOs carry `#[serde(default)]` so that a body missing several required fields is
/// answered with one 422 naming every one of them (the core's validators decide), instead of
/// serde's first error. utoipa then documents each field's `Default` value: `null` for a required
/// `Option`, `""` for a `String` such as a login's email. Neither is a default the server
/// applies — the validators refuse both — and each is invalid against its own schema (non-null
/// type, `minLength`), which openapi-spec-validator rejects. Real defaults (`[]` for an omitted
/// list, `false` for an omitted flag) stay.
fn drop_defaults_of_required_fields(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::Schema;

    each_property(doc, |required, _, field| {
        let default = match field {
            Schema::Object(f) => &mut f.default,
            Schema::Array(f) => &mut f.default,
            Schema::OneOf(f) => &mut f.default,
            Schema::AllOf(f) => &mut f.default,
            Schema::AnyOf(f) => &mut f.default,
            _ => return,
        };
        if required || default.as_ref().is_some_and(|d| d.as_str() == Some("")) {
            *default = None;
        }
    });
}

/// Calls `visit(required, name, property)` on every inline property of every component object.
fn each_property(doc: &mut utoipa::openapi::OpenApi, mut visit: impl FnMut(bool, &str, &mut utoipa::openapi::Schema)) {
    use utoipa::openapi::{RefOr, Schema};

    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for (name, property) in object.properties.iter_mut() {
            if let RefOr::T(property) = property {
                visit(object.required.contains(name), name, property);
            }
        }
    }
}

/// OpenAPI links from each create (`POST <collection>` answering 201 with an `id`) to every
/// operation on the created resource (`<collection>/{id}…`), so clients and the stateful fuzzer
/// can follow a create to its reads and commands: `id` is `$response.body#/id`.
fn link_creates(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::link::LinkBuilder;

    let mut targets: Vec<(String, String)> = Vec::new();
    for (path, item) in &doc.paths.paths {
        let operations = [&item.get, &item.put, &item.post, &item.delete, &item.patch];
        for operation in operations.into_iter().flatten() {
            if let Some(id) = &operation.operation_id {
                targets.push((path.clone(), id.clone()));
            }
        }
    }
    for (path, item) in &mut doc.paths.paths {
        let Some(create) = item.post.as_mut() else { continue };
        let Some(RefOr::T(created)) = create.responses.responses.get_mut("201") else {
            continue;
        };
        // The created resource lives under its collection (`/projects` → `/projects/{id}`), or,
        // for one created under a parent (`/projects/{id}/milestones`), under its own
        // (`/milestones/{id}`).
        let last = path.rsplit('/').next().unwrap_or_default();
        let prefixes = [format!("{path}/{{id}}"), format!("/api/v2/{last}/{{id}}")];
        for (target, operation_id) in &targets {
            // Only the resource's own paths: `{id}` is the last parameter (no second one to fill).
            let own = prefixes
                .iter()
                .any(|prefix| target.starts_with(prefix.as_str()) && !target[prefix.len()..].contains('{'));
            if own {
                let link = LinkBuilder::new()
                    .operation_id(operation_id.clone())
                    .parameter("id", "$response.body#/id")
                    .build();
                created.links.insert(operation_id.clone(), RefOr::T(link));
            }
        }
    }
}

/// The document as a router built with `config` over an ecosystem with `limits` serves it: only
/// the paths it mounts (no `/metrics` with [`MetricsExport::Off`](crate::MetricsExport::Off), no
/// `/health/detailed` when that is off), [`HttpConfig::base_path`] as its server, so clients and
/// the docs page call the operations under the host's prefix, and the bounds of the deployment's
/// own [`Limits`] (see [`follow_limits`]).
pub fn document_for(config: &HttpConfig, limits: &Limits) -> utoipa::openapi::OpenApi {
    let metrics = !matches!(config.metrics, crate::MetricsExport::Off);
    shaped(config, metrics, limits)
}

/// The request properties whose length is the password policy's
/// ([`Limits::password`](icosistem_core::service::Limits)). A password that is only checked, not
/// set (a login's, a password change's `current_password`), has no length bound in the document.
const PASSWORD_FIELDS: &[&str] = &["password", "new_password"];

/// Restates the bounds that come from [`Limits`] rather than from a type, so the document a
/// deployment serves is the contract it enforces: a server started with
/// `ICOSISTEM_LIMIT_PASSWORD_MIN_LEN=16` documents `minLength: 16`, and a generated client or
/// form checks what the server will check. The derive writes the defaults; this replaces them on
/// every password property that carries them, in the bounds and in the description's "12–128".
pub fn follow_limits(doc: &mut utoipa::openapi::OpenApi, limits: &Limits) {
    use utoipa::openapi::Schema;

    let defaults = Limits::default().password;
    let policy = limits.password;
    each_property(doc, |_, name, property| {
        let Schema::Object(property) = property else {
            return;
        };
        if !PASSWORD_FIELDS.contains(&name) || property.min_length.is_none() {
            return;
        }
        property.min_length = Some(policy.min_len);
        property.max_length = Some(policy.max_len);
        if let Some(description) = property.description.as_mut() {
            *description = description.replace(
                &format!("{}–{}", defaults.min_len, defaults.max_len),
                &format!("{}–{}", policy.min_len, policy.max_len),
            );
        }
    });
}

/// [`document`] shaped by `config` and `limits`, listing `/metrics` when `metrics` is served.
fn shaped(config: &HttpConfig, metrics: bool, limits: &Limits) -> utoipa::openapi::OpenApi {
    let mut doc = document();
    follow_limits(&mut doc, limits);
    if !metrics {
        doc.paths.paths.remove("/metrics");
    }
    if !config.health_detailed {
        doc.paths.paths.remove("/health/detailed");
    }
    // At the root the document names no server: OpenAPI's default is `/`, and the snapshot of
    // the standalone server stays as it was.
    if !config.base_path.is_empty() {
        doc.servers = Some(vec![Server::new(config.base_path.clone())]);
    }
    doc
}

/// Where the docs page is served.
const DOCS_PATH: &str = "/docs";

/// `/api-docs/openapi.json` and the Swagger UI at `/docs`, each when `config` mounts it;
/// `metrics` says whether `/metrics` is served (and so documented).
///
/// Both work under any prefix a host nests the router at: the redirect from `/docs` and the
/// document's URL in the page are relative (`docs/`, `../api-docs/openapi.json`), so the browser
/// resolves them against wherever the page was loaded from.
pub(crate) fn docs_router(config: &Arc<HttpConfig>, metrics: bool, limits: &Limits) -> Router {
    let mut router = Router::new();
    if !config.openapi {
        return router;
    }
    // Built and serialized once, on the first request for it: the document is large and never
    // changes while the router lives, and a replica that is never asked for it neither keeps its
    // bytes nor pages in the code that builds it (several MiB of resident memory at start).
    let document = Arc::new(std::sync::OnceLock::<Option<Bytes>>::new());
    let (config_for_doc, limits) = (Arc::clone(config), limits.clone());
    router = router.route(
        OPENAPI_PATH,
        get(move || {
            let json = document
                .get_or_init(
                    || match serde_json::to_vec(&shaped(&config_for_doc, metrics, &limits)) {
                        Ok(json) => Some(Bytes::from(json)),
                        Err(error) => {
                            tracing::error!(%error, "the OpenAPI document does not serialize");
                            None
                        }
                    },
                )
                .clone();
            async move {
                match json {
                    Some(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
                    None => crate::error::ApiError::internal().into_response(),
                }
            }
        }),
    );
    if config.docs {
        let page = Arc::new(Config::new([format!("..{OPENAPI_PATH}")]));
        let slash = format!("{DOCS_PATH}/");
        // `docs/` relative to `…/docs` is `…/docs/`, under whatever prefix.
        router = router
            .route(DOCS_PATH, get(|| async { Redirect::to("docs/") }))
            .route(
                &slash,
                get({
                    let page = Arc::clone(&page);
                    move || docs_file(String::new(), page)
                }),
            )
            .route(
                &format!("{slash}{{*file}}"),
                get(move |Path(file): Path<String>| docs_file(file, page)),
            );
    }
    router
}

/// A file of the Swagger UI page (`""`: its `index.html`), or 404.
async fn docs_file(file: String, page: Arc<Config<'static>>) -> Response {
    match utoipa_swagger_ui::serve(&file, page) {
        Ok(Some(found)) => {
            let mut response = (
                [(header::CONTENT_TYPE, found.content_type)],
                Bytes::from(found.bytes.into_owned()),
            )
                .into_response();
            if found.gzpipped {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering a Swagger UI file failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
