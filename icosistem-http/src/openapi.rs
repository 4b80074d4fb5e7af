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
    RegisterRequest, ReviewDto, SubmitReviewRequest, TokenRequest, TokenResponse, UpdateApplicationRequest,
    UpdateMeRequest, UpdateMilestoneRequest, UpdateOrganizationRequest, UpdateProgramRequest, UpdateProjectRequest,
    UserDto,
};
use crate::error::{Problem, ProblemField};
use crate::routes::{applications, auth, health, organizations, programs, projects, users};

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
        organizations::list,
        organizations::create,
        organizations::get,
        organizations::update,
        organizations::activate,
        organizations::suspend,
        organizations::members,
        organizations::add_member,
        organizations::remove_member,
        programs::list,
        programs::create,
        programs::get,
        programs::update,
        programs::publish,
        programs::start,
        programs::complete,
        programs::cancel,
        programs::enrollments,
        projects::list,
        projects::create,
        projects::get,
        projects::update,
        projects::delete,
        projects::advance_stage,
        projects::activate,
        projects::pause,
        projects::resume,
        projects::complete,
        projects::cancel,
        projects::project_milestones,
        projects::create_milestone,
        projects::my_milestones,
        projects::get_milestone,
        projects::update_milestone,
        projects::start_milestone,
        projects::progress_milestone,
        projects::complete_milestone,
        projects::delay_milestone,
        projects::cancel_milestone,
        applications::list,
        applications::create,
        applications::get,
        applications::update,
        applications::submit,
        applications::withdraw,
        applications::accept,
        applications::reject,
        applications::waitlist,
        applications::promote,
        applications::assign_reviewer,
        applications::reviews,
        applications::submit_review,
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
    )
)]
pub struct ApiDoc;

/// The whole document: [`ApiDoc`] plus the path groups that keep their own `OpenApi` next to
/// their handlers (each `routes` module may declare one; it is merged here).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    // Route modules with their own document, one line each:
    doc.merge(crate::routes::tasks::TasksApi::openapi());
    doc.merge(crate::routes::inbox::InboxApi::openapi());
    doc.merge(crate::routes::enrollments::EnrollmentsApi::openapi());
    doc.merge(crate::routes::matching::MatchingApi::openapi());
    doc.merge(crate::routes::profile::ProfileApi::openapi());
    doc.merge(crate::routes::admin::AdminApi::openapi());
    doc.merge(crate::routes::mentoring::MentoringApi::openapi());
    doc.merge(crate::routes::sessions::SessionsApi::openapi());
    doc.merge(crate::routes::meetings::MeetingsApi::openapi());
    doc.merge(crate::metrics::MetricsApi::openapi());
    doc.merge(crate::live::LiveApi::openapi());
    // Keep last: documents the 429 of every rate-limited operation merged above.
    crate::rate_limit::document_429(&mut doc);
    unique_operation_ids(&mut doc);
    doc
}

/// utoipa names an operation after its handler, and handlers of different modules share names
/// (`list`, `get`, `create` …), while OpenAPI requires `operationId` to be unique — client
/// generators key methods on it. A name used once stays as it is; a shared one gets its first
/// tag in front (`applications_list`), and the method and path when even that repeats.
fn unique_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    use std::collections::HashMap;

    fn operations(
        item: &mut utoipa::openapi::PathItem,
    ) -> impl Iterator<Item = (&'static str, &mut utoipa::openapi::path::Operation)> {
        [
            ("get", item.get.as_mut()),
            ("put", item.put.as_mut()),
            ("post", item.post.as_mut()),
            ("delete", item.delete.as_mut()),
            ("patch", item.patch.as_mut()),
        ]
        .into_iter()
        .filter_map(|(method, op)| op.map(|op| (method, op)))
    }

    let mut uses: HashMap<String, usize> = HashMap::new();
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            if let Some(id) = &op.operation_id {
                *uses.entry(id.clone()).or_default() += 1;
            }
        }
    }
    let mut tagged: HashMap<String, usize> = HashMap::new();
    let candidate = |op: &utoipa::openapi::path::Operation| -> Option<String> {
        let id = op.operation_id.as_ref()?;
        if uses.get(id).copied().unwrap_or(0) <= 1 {
            return None;
        }
        let tag = op.tags.as_ref().and_then(|t| t.first()).map_or("api", String::as_str);
        Some(format!("{}_{id}", tag.replace('-', "_")))
    };
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            if let Some(name) = candidate(op) {
                *tagged.entry(name).or_default() += 1;
            }
        }
    }
    for (path, item) in &mut doc.paths.paths {
        for (method, op) in operations(item) {
            let Some(name) = candidate(op) else { continue };
            op.operation_id = Some(if tagged.get(&name).copied().unwrap_or(0) > 1 {
                let slug: String = path
                    .trim_start_matches("/api/v2/")
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                format!("{method}_{}", slug.trim_matches('_').replace("__", "_"))
            } else {
                name
            });
        }
    }
}

/// `/api-docs/openapi.json` and the Swagger UI at `/docs`.
pub(crate) fn docs_router() -> Router {
    SwaggerUi::new("/docs").url(OPENAPI_PATH, document()).into()
}
