//! The OpenAPI 3.1 document, generated from the handlers' annotations, and the interactive
//! documentation at `/docs` (Swagger UI with its assets compiled into the binary, so it works
//! without internet access).

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

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
    info(title = "Icosistem API", description = "The entrepreneurship ecosystem API (spec/API.md)."),
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
        (name = "analytics", description = "Figures of programs, organizations, mentoring and one's own (DOMAIN.md §9)"),
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
    use utoipa::openapi::{RefOr, Schema};

    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for (name, property) in object.properties.iter_mut() {
            let required = object.required.contains(name);
            let RefOr::T(field) = property else {
                continue;
            };
            let default = match field {
                Schema::Object(f) => &mut f.default,
                Schema::Array(f) => &mut f.default,
                Schema::OneOf(f) => &mut f.default,
                Schema::AllOf(f) => &mut f.default,
                Schema::AnyOf(f) => &mut f.default,
                _ => continue,
            };
            if required || default.as_ref().is_some_and(|d| d.as_str() == Some("")) {
                *default = None;
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

/// `/api-docs/openapi.json` and the Swagger UI at `/docs`.
pub(crate) fn docs_router() -> Router {
    SwaggerUi::new("/docs").url(OPENAPI_PATH, document()).into()
}
