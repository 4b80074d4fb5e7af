//! `/api/v2/…/analytics`: the read models of docs/domain.md §9 — a program's funnel, reviewer
//! workload, score distribution, time to decision, seats and milestones; an organization's
//! programs and enrollments over time; mentoring (the platform's for admins, an
//! organization's enrolled entrepreneurs' for its staff); and the caller's own figures. Each
//! takes an optional `?from&to` range (RFC 3339, `from` inclusive, `to` exclusive).

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::analytics::DateRange;
use icosistem_core::model::{Enrollment, OrganizationId, ProgramId, Session};
use icosistem_core::ports::{Clock, Notifier, Page, PageRequest, Store};
use icosistem_core::service::{ApplicationView, ExportKind};
use icosistem_core::{Context, Ecosystem, Error};
use utoipa::IntoParams;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};

use super::kit::{Authenticated, BadInput, Forbidden, NoId, NotFound, PathId, api, mount, routes};
use crate::AppState;
use crate::auth::AuthUser;
use crate::csv_export;
use crate::dto::parse::{optional_id, optional_instant};
use crate::dto::schema::instant_or_blank;
use crate::dto::{ApiQuery, MentoringAnalyticsDto, OrganizationAnalyticsDto, ProgramAnalyticsDto, UserAnalyticsDto};
use crate::error::ApiError;
use crate::rate_limit::limit_export;

/// `?from&to` as given.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
    organization_id: Option<String>,
}

impl RangeQuery {
    /// The range, each failing end (and an empty range) pushed to `errors`.
    fn range(&self, errors: &mut ValidationErrors) -> DateRange {
        let from = optional_instant(errors, "from", self.from.as_deref());
        let to = optional_instant(errors, "to", self.to.as_deref());
        DateRange::new(from, to).unwrap_or_else(|e| {
            errors.extend(e);
            DateRange::all()
        })
    }
}

fn range_params() -> Vec<Parameter> {
    [
        (
            "from",
            "Figures from this instant on (RFC 3339, inclusive); blank: from the start",
        ),
        (
            "to",
            "Figures before this instant (RFC 3339, exclusive); blank: up to now",
        ),
    ]
    .into_iter()
    .map(|(name, description)| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(instant_or_blank()))
            .build()
    })
    .collect()
}

/// The route's id slot `I` and its `?from&to` range (422 naming each failing parameter).
pub(crate) struct Ranged<I>(pub I, pub DateRange);

impl<I, S> FromRequestParts<S> for Ranged<I>
where
    I: FromRequestParts<S> + Send,
    I::Rejection: IntoResponse,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let id = I::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let ApiQuery(query) = ApiQuery::<RangeQuery>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut errors = ValidationErrors::new();
        let range = query.range(&mut errors);
        errors
            .into_result()
            .map_err(|e| ApiError::from(Error::Validation(e)).into_response())?;
        Ok(Self(id, range))
    }
}

impl<I: IntoParams> IntoParams for Ranged<I> {
    fn into_params(in_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = I::into_params(in_);
        params.extend(range_params());
        params
    }
}

/// `?organization_id&from&to` of the mentoring figures: with an organization, its enrolled
/// entrepreneurs' mentoring (its staff); without, the platform's (admins).
pub(crate) struct MentoringQuery(pub Option<OrganizationId>, pub DateRange);

impl<S: Send + Sync> FromRequestParts<S> for MentoringQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ApiQuery(query) = ApiQuery::<RangeQuery>::from_request_parts(parts, state).await?;
        let mut errors = ValidationErrors::new();
        let organization = optional_id(&mut errors, "organization_id", query.organization_id.as_deref());
        let range = query.range(&mut errors);
        errors.into_result().map_err(|e| ApiError::from(Error::Validation(e)))?;
        Ok(Self(organization, range))
    }
}

impl IntoParams for MentoringQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = vec![
            ParameterBuilder::new()
                .name("organization_id")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(
                    "This organization's enrolled entrepreneurs (its owners and coordinators); absent: the platform (admins)",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(
                            "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$",
                        )),
                ))
                .build(),
        ];
        params.extend(range_params());
        params
    }
}

routes! {
    tag = "analytics";
    /// A program's figures (its owners and coordinators, admins): the funnel by status, time
    /// to decision (median, p90), reviews done and owed per reviewer, the score distribution in
    /// 10-point buckets with mean and spread, seats used, the cohort's enrollments and its
    /// milestones on time and late. A blind program's figures name no applicant (none does).
    program_analytics: get "/api/v2/programs/{id}/analytics", Ranged<PathId<ProgramId>>, NoIfMatch, none
        => json(200, "The program's figures", ProgramAnalyticsDto) [Forbidden, NotFound, BadInput],
        |eco, ctx, Ranged(PathId(id), range), _, _| eco.program_analytics(ctx, id, range);
    /// An organization's figures (its owners, admins): programs by status, applications to
    /// them, enrollments by status and per month.
    organization_analytics: get "/api/v2/organizations/{id}/analytics", Ranged<PathId<OrganizationId>>, NoIfMatch, none
        => json(200, "The organization's figures", OrganizationAnalyticsDto) [Forbidden, NotFound, BadInput],
        |eco, ctx, Ranged(PathId(id), range), _, _| eco.organization_analytics(ctx, id, range);
    /// Mentoring figures: mentor load against capacity, sessions held, cancelled and missed,
    /// average rating and feedback completion — the platform's (admins) or, with
    /// `organization_id`, its enrolled entrepreneurs' (its owners and coordinators).
    mentoring_analytics: get "/api/v2/analytics/mentoring", MentoringQuery, NoIfMatch, none
        => json(200, "The mentoring figures", MentoringAnalyticsDto) [Forbidden, NotFound, BadInput],
        |eco, ctx, MentoringQuery(organization, range), _, _| eco.mentoring_analytics(ctx, organization, range);
    /// The caller's own figures: their applications, their projects' milestones, their reviews
    /// and their mentoring.
    my_analytics: get "/api/v2/users/me/analytics", Ranged<NoId>, NoIfMatch, none
        => json(200, "The caller's figures", UserAnalyticsDto) [BadInput],
        |eco, ctx, Ranged(NoId, range), _, _| eco.my_analytics(ctx, range);
}

// ---------------------------------------------------------------------------------------------
// CSV exports: the lists behind the figures, streamed (see `crate::csv_export`).

/// A mean score kept in hundredths, as `66.25`.
fn score(centi: Option<u32>) -> String {
    centi.map(|c| format!("{}.{:02}", c / 100, c % 100)).unwrap_or_default()
}

const APPLICATION_COLUMNS: [&str; 11] = [
    "application_id",
    "status",
    "submitted_at",
    "decided_at",
    "project_id",
    "project_name",
    "applicant_id",
    "applicant_name",
    "applicant_email",
    "mean_score",
    "decision_note",
];

/// The columns naming the applicant, left out of a blind program's export.
const APPLICANT_COLUMNS: [&str; 3] = ["applicant_id", "applicant_name", "applicant_email"];

fn application_row(a: &ApplicationView) -> Vec<String> {
    let applicant = a.applicant.as_ref();
    vec![
        a.id.to_string(),
        a.status.as_str().to_owned(),
        csv_export::instant(a.submitted_at),
        csv_export::instant(a.decided_at),
        a.project.id.to_string(),
        a.project.name.clone(),
        applicant.map(|p| p.id.to_string()).unwrap_or_default(),
        applicant.map(|p| p.name.clone()).unwrap_or_default(),
        applicant.map(|p| p.email.as_str().to_owned()).unwrap_or_default(),
        score(a.mean_score_centi),
        a.decision_note.clone().unwrap_or_default(),
    ]
}

/// A blind program's row: the applicant's columns are not there at all (whoever exports,
/// admins included), not merely empty.
fn blind_application_row(a: &ApplicationView) -> Vec<String> {
    APPLICATION_COLUMNS
        .iter()
        .zip(application_row(a))
        .filter(|(column, _)| !APPLICANT_COLUMNS.contains(column))
        .map(|(_, value)| value)
        .collect()
}

const ENROLLMENT_COLUMNS: [&str; 8] = [
    "enrollment_id",
    "status",
    "application_id",
    "project_id",
    "entrepreneur_id",
    "enrolled_at",
    "ended_at",
    "drop_reason",
];

fn enrollment_row(e: &Enrollment) -> Vec<String> {
    vec![
        e.id.to_string(),
        e.status.as_str().to_owned(),
        e.application_id.to_string(),
        e.project_id.to_string(),
        e.entrepreneur_id.to_string(),
        csv_export::instant(Some(e.meta.created_at)),
        csv_export::instant(e.ended_at),
        e.drop_reason.clone().unwrap_or_default(),
    ]
}

fn blind_enrollment_row(e: &Enrollment) -> Vec<String> {
    ENROLLMENT_COLUMNS
        .iter()
        .zip(enrollment_row(e))
        .filter(|(column, _)| **column != "entrepreneur_id")
        .map(|(_, value)| value)
        .collect()
}

const SESSION_COLUMNS: [&str; 11] = [
    "session_id",
    "mentorship_id",
    "ally_id",
    "entrepreneur_id",
    "starts_at",
    "duration_minutes",
    "status",
    "late_cancellation",
    "reschedule_count",
    "ally_rating",
    "entrepreneur_rating",
];

fn session_row(s: &Session) -> Vec<String> {
    let rating = |f: &Option<icosistem_core::model::Feedback>| {
        f.as_ref().map(|f| f.rating.get().to_string()).unwrap_or_default()
    };
    vec![
        s.id.to_string(),
        s.mentorship_id.to_string(),
        s.ally_id.to_string(),
        s.entrepreneur_id.to_string(),
        csv_export::instant(Some(s.starts_at)),
        s.duration_minutes.to_string(),
        s.status.as_str().to_owned(),
        s.late_cancellation.to_string(),
        s.reschedule_count.to_string(),
        rating(&s.ally_feedback),
        rating(&s.entrepreneur_feedback),
    ]
}

fn without(columns: &[&'static str], dropped: &[&str]) -> Vec<&'static str> {
    columns.iter().copied().filter(|c| !dropped.contains(c)).collect()
}

/// One of a program's CSV exports: what it is, its columns and rows, and which columns a
/// blind-review program's export leaves out (its `blind_row` writes the rest).
struct ProgramCsv<R> {
    kind: ExportKind,
    file: &'static str,
    columns: &'static [&'static str],
    identity: &'static [&'static str],
    row: fn(&R) -> Vec<String>,
    blind_row: fn(&R) -> Vec<String>,
}

/// Streams a program's export: rate limited per user, authorized and audited by the core
/// before the first byte, then one page of `page` at a time.
async fn program_export<S, N, C, R, P, Fut>(
    state: AppState<S, N, C>,
    auth: AuthUser,
    id: ProgramId,
    csv: ProgramCsv<R>,
    page: P,
) -> Result<Response, ApiError>
where
    S: Store,
    N: Notifier,
    C: Clock,
    R: Send + 'static,
    P: Fn(Arc<Ecosystem<S, N, C>>, Context, ProgramId, PageRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<R>, Error>> + Send + 'static,
{
    if let Some(limited) = limit_export(&*state.rate_limiter, &state.config.rate_limits, auth.user.id).await {
        return Ok(limited);
    }
    let program = state.eco.start_program_export(&auth.ctx, id, csv.kind).await?;
    let (eco, ctx) = (Arc::clone(&state.eco), auth.ctx);
    let fetch = move |request| page(Arc::clone(&eco), ctx.clone(), id, request);
    let name = format!("program-{id}-{}.csv", csv.file);
    Ok(if program.ever_blind() {
        csv_export::stream(&name, without(csv.columns, csv.identity), fetch, csv.blind_row)
    } else {
        csv_export::stream(&name, csv.columns.to_vec(), fetch, csv.row)
    })
}

/// The applications export: with each one's mean review score, no applicant columns when blind.
const APPLICATIONS_CSV: ProgramCsv<ApplicationView> = ProgramCsv {
    kind: ExportKind::Applications,
    file: "applications",
    columns: &APPLICATION_COLUMNS,
    identity: &APPLICANT_COLUMNS,
    row: application_row,
    blind_row: blind_application_row,
};

/// The enrollments export: no entrepreneur column when blind.
const ENROLLMENTS_CSV: ProgramCsv<Enrollment> = ProgramCsv {
    kind: ExportKind::Enrollments,
    file: "enrollments",
    columns: &ENROLLMENT_COLUMNS,
    identity: &["entrepreneur_id"],
    row: enrollment_row,
    blind_row: blind_enrollment_row,
};

/// Declares a program's CSV export routes: `name: "path", EXPORT, page_use_case;` gives the
/// handler (through [`program_export`]), its document entry and its mount.
macro_rules! program_csv_routes {
    ($( $(#[doc = $doc:literal])* $name:ident: $path:literal, $csv:expr, $page:ident; )+) => {$(
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, operation_id = stringify!($name),
            tag = "analytics", security(("bearer" = [])), params(PathId<ProgramId>),
            responses((status = 200, description = "UTF-8 CSV with BOM (RFC 4180), streamed", content_type = "text/csv", body = String),
                Authenticated, Forbidden, NotFound))]
        pub(crate) async fn $name<S: Store, N: Notifier, C: Clock>(
            State(state): State<AppState<S, N, C>>,
            auth: AuthUser,
            PathId(id): PathId<ProgramId>,
        ) -> Result<Response, ApiError> {
            program_export(state, auth, id, $csv, |eco, ctx, id, page| async move {
                eco.$page(&ctx, id, page).await
            })
            .await
        }
        mount!($name: get $path);
    )+};
}

program_csv_routes! {
    /// A program's submitted applications as CSV (its owners and coordinators, admins), oldest
    /// first, with each one's mean review score. A blind-review program's export has no applicant
    /// columns. Audited as `export.csv`; rate limited per user on top of the API's limit.
    export_applications: "/api/v2/programs/{id}/applications.csv", APPLICATIONS_CSV, export_applications_page;
    /// A program's enrollments as CSV (its owners and coordinators, admins), oldest first; a
    /// blind-review program's has no entrepreneur column. Audited as `export.csv`; rate limited.
    export_enrollments: "/api/v2/programs/{id}/enrollments.csv", ENROLLMENTS_CSV, export_enrollments_page;
}

/// The platform's mentoring sessions starting in `?from&to` as CSV (admins), oldest first,
/// with each party's rating. Audited as `export.csv`; rate limited.
#[utoipa::path(get, path = "/api/v2/analytics/mentoring/sessions.csv", operation_id = "export_sessions",
    tag = "analytics", security(("bearer" = [])), params(Ranged<NoId>),
    responses((status = 200, description = "UTF-8 CSV with BOM (RFC 4180), streamed", content_type = "text/csv", body = String),
        Authenticated, Forbidden, BadInput))]
pub(crate) async fn export_sessions<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    Ranged(NoId, range): Ranged<NoId>,
) -> Result<Response, ApiError> {
    if let Some(limited) = limit_export(&*state.rate_limiter, &state.config.rate_limits, auth.user.id).await {
        return Ok(limited);
    }
    state.eco.start_sessions_export(&auth.ctx).await?;
    let (eco, ctx) = (Arc::clone(&state.eco), auth.ctx);
    let fetch = move |page| {
        let (eco, ctx) = (Arc::clone(&eco), ctx.clone());
        async move { eco.export_sessions_page(&ctx, range, page).await }
    };
    Ok(csv_export::stream(
        "mentoring-sessions.csv",
        SESSION_COLUMNS.to_vec(),
        fetch,
        session_row,
    ))
}
mount!(export_sessions: get "/api/v2/analytics/mentoring/sessions.csv");

api!([
    program_analytics,
    organization_analytics,
    mentoring_analytics,
    my_analytics,
    export_applications,
    export_enrollments,
    export_sessions,
]);
