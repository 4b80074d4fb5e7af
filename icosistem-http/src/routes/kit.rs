//! The declarative route form every module uses: typed extractors for the caller, the path id
//! and `If-Match`, the problem responses an operation may answer as `utoipa` response types, and
//! the macros that declare whole routes — handler, `#[utoipa::path]` with its explicit
//! `operation_id`, and mount — in a few lines: [`routes!`](crate::routes::kit::routes) (any
//! authenticated operation), [`public!`](crate::routes::kit::public) (operations anyone may
//! call), [`reads!`](crate::routes::kit::reads), [`lists!`](crate::routes::kit::lists) and
//! [`commands!`](crate::routes::kit::commands). Each emits its handler through
//! [`handler!`](crate::routes::kit::handler), the one handler shape, and each module builds its
//! router and its part of the document with [`api!`](crate::routes::kit::api).
//!
//! Each extractor documents itself (`IntoParams`), so `params(PathId<ProjectId>, IfMatch)` in a
//! route's attribute says exactly what the handler's signature parses.

use axum::extract::{FromRequestParts, Path};
use axum::http::header;
use axum::http::request::Parts;
use icosistem_core::Error;
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::Actor;
use icosistem_core::model::{
    ApplicationId, DocumentId, EnrollmentId, MeetingId, MentorshipId, MilestoneId, NotificationId, OrganizationId,
    OutboxId, ProgramId, ProjectId, SessionId, TaskId, UserId, WebhookId,
};
use icosistem_core::ports::PageRequest;
use icosistem_core::service::Context;
use serde::de::DeserializeOwned;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{Content, Ref, RefOr, Required, Response, ResponseBuilder};
use utoipa::{IntoParams, IntoResponses};

use crate::auth::{AuthUser, RequestMeta};
use crate::dto::ApiQuery;
use crate::error::{ApiError, PROBLEM_JSON};

/// An id type a path can name: its UUID and the entity kind a 404 reports.
pub(crate) trait EntityId: From<uuid::Uuid> + Send {
    /// The entity kind (`project`), as the core's id type names it.
    const KIND: &'static str;
}

macro_rules! entity_ids {
    ($($id:ty),+ $(,)?) => {$(
        impl EntityId for $id {
            const KIND: &'static str = <$id>::KIND;
        }
    )+};
}

entity_ids!(
    ApplicationId,
    DocumentId,
    EnrollmentId,
    MeetingId,
    MentorshipId,
    MilestoneId,
    NotificationId,
    OrganizationId,
    OutboxId,
    ProgramId,
    ProjectId,
    SessionId,
    TaskId,
    UserId,
    WebhookId,
);

/// A path segment as an id of kind `I`: anything but a UUID names nothing (404).
pub(crate) fn parse_id<I: From<uuid::Uuid>>(raw: &str, kind: &'static str) -> Result<I, ApiError> {
    raw.parse::<uuid::Uuid>()
        .map(I::from)
        .map_err(|_| ApiError::from(Error::not_found(kind, raw)))
}

/// The `{id}` of the path, as an `I` (404 `not_found` when it is not a UUID).
pub(crate) struct PathId<I>(pub I);

impl<I: EntityId, S: Send + Sync> FromRequestParts<S> for PathId<I> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::internal())?;
        let raw = params
            .iter()
            .find(|(name, _)| name == "id")
            .map_or("", |(_, value)| value.as_str());
        parse_id(raw, I::KIND).map(Self)
    }
}

/// Who calls an operation, as the use case's context.
pub(crate) trait Caller {
    /// The context the use case runs in.
    fn context(&self) -> &Context;
}

impl Caller for AuthUser {
    fn context(&self) -> &Context {
        &self.ctx
    }
}

/// The caller of an operation anyone may call (registration, sign-in): the anonymous actor,
/// with the request's id and client IP for the audit log.
pub(crate) struct Anonymous(Context);

impl<S: Send + Sync> FromRequestParts<S> for Anonymous {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let meta = RequestMeta::from_request_parts(parts, state).await?;
        Ok(Self(meta.context(Actor::Anonymous)))
    }
}

impl Caller for Anonymous {
    fn context(&self) -> &Context {
        &self.0
    }
}

/// A path parameter documented as a UUID.
pub(crate) fn uuid_param(name: &str, description: String) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        ))
        .build()
}

impl<I: EntityId> IntoParams for PathId<I> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![uuid_param("id", format!("The {} id", I::KIND.replace('_', " ")))]
    }
}

/// `If-Match: "<version>"`: the version the client read, guarding against lost updates. Absent
/// is `None`; anything but a (quoted, optionally weak) version is 422 on `If-Match`.
pub(crate) struct IfMatch(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        let text = value.to_str().unwrap_or_default().trim();
        let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
        text.parse::<u64>()
            .map(|version| Self(Some(version)))
            .map_err(|_| ApiError::invalid_field("If-Match", "must be the quoted version of the resource"))
    }
}

/// What the schema promises of `If-Match`: a quoted version (a subset of what is accepted, so
/// every value a client builds from it is taken).
pub(crate) const IF_MATCH_PATTERN: &str = r#"^"[0-9]{1,18}"$"#;

impl IntoParams for IfMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("If-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "The quoted version read (the `ETag` of the last answer); a stale one is 409",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(IF_MATCH_PATTERN)),
                ))
                .build(),
        ]
    }
}

/// One problem response: `status` with a `Problem` body.
fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem"))))
        .build()
        .into()
}

macro_rules! problem_responses {
    ($($(#[$meta:meta])* $name:ident { $($status:literal => $description:literal),+ $(,)? })+) => {$(
        $(#[$meta])*
        pub(crate) struct $name;

        impl IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<String, RefOr<Response>> {
                [$(($status.to_owned(), problem($description))),+].into_iter().collect()
            }
        }
    )+};
}

problem_responses! {
    /// Every authenticated operation: no, a bad or an expired access token; the store down.
    Authenticated {
        "401" => "Not signed in (`unauthorized`): no, an invalid or an expired access token",
        "503" => "The store is unavailable (`unavailable`); retry later",
    }
    /// Login and token refresh: the credentials or the refresh token are refused.
    Unauthorized {
        "401" => "Refused credentials or token (`unauthorized`); the same for an unknown email",
    }
    /// Login: too many failed attempts lock the account for a while.
    Locked {
        "423" => "Too many failed logins (`account_locked`): the account is locked for a while",
    }
    /// Operations that read or write the store without a token (auth, health).
    Unavailable {
        "503" => "The store is unavailable (`unavailable`); retry later",
    }
    /// The caller's role or relation does not allow it.
    Forbidden {
        "403" => "Not allowed (`forbidden`): the caller's role or relation to the resource",
    }
    /// The path names nothing the caller may see (a non-UUID id included).
    NotFound {
        "404" => "No such resource (`not_found`), or not one the caller may see",
    }
    /// A stale `If-Match`/`version`, a state that does not accept the command, or a taken
    /// unique field.
    Conflict {
        "409" => "Conflict: a stale version (`conflict`), a state that does not accept it (`invalid_transition`) or a taken unique field",
    }
    /// Operations with a JSON body.
    BadBody {
        "400" => "The body is not JSON (`malformed_json`)",
        "413" => "The body is larger than the server accepts (`payload_too_large`)",
        "415" => "The body is not `application/json` (`unsupported_media_type`)",
        "422" => "Invalid fields (`validation_failed`), every failing one listed in `errors`",
    }
    /// Operations with query parameters or checked headers but no body.
    BadInput {
        "422" => "Invalid parameters (`validation_failed`), every failing one listed in `errors`",
    }
}

/// The one handler shape every declaring macro of this module emits: generic over the store,
/// notifier and clock, the application `State` bound to the name given (so that the body, written
/// by the calling macro, may use it), then the extractors given; mounted at `method path` by
/// [`mount!`](crate::routes::kit::mount). The attributes before the name (documentation,
/// `#[utoipa::path]`) go on the function.
macro_rules! handler {
    (
        $(#[$meta:meta])* $name:ident: $method:ident $path:literal
        ($state:ident $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty $body:block
    ) => {
        $(#[$meta])*
        pub(crate) async fn $name<
            S: ::icosistem_core::ports::Store,
            N: ::icosistem_core::ports::Notifier,
            C: ::icosistem_core::ports::Clock,
        >(
            ::axum::extract::State($state): ::axum::extract::State<$crate::AppState<S, N, C>>,
            $($arg: $ty),*
        ) -> Result<$ret, $crate::error::ApiError> $body
        $crate::routes::kit::mount!($name: $method $path);
    };
}
pub(crate) use handler;

/// Declares lifecycle-command routes: each `POST <path>` on one resource, with an optional body
/// carrying `version` (or `If-Match`), answering the resource as `run` returns it. One line of
/// documentation and one of declaration per route; the handler, its `#[utoipa::path]` with the
/// route's name as `operation_id`, the parameters and the problem responses are all generated.
///
/// ```ignore
/// commands! {
///     tag = "projects", id = ProjectId, answer = ProjectDto, run = project_command;
///     /// Pauses an active project.
///     pause_project: "/api/v2/projects/{id}/pause", CommandRequest, |_body| ProjectCommand::Pause;
/// }
/// ```
///
/// `run(&state, &auth, id, version, command)` performs the command.
macro_rules! commands {
    (
        tag = $tag:literal, id = $id:ty, answer = $dto:ty, run = $run:path;
        $( $(#[doc = $doc:literal])* $name:ident: $path:literal, $body:ty, |$b:ident| $command:expr; )+
    ) => {$(
        $crate::routes::kit::handler! {
            $(#[doc = $doc])*
            #[utoipa::path(post, path = $path, operation_id = stringify!($name), tag = $tag, security(("bearer" = [])),
                request_body(content = Option<$body>, description = "Optional: the version read and the command's fields"),
                params($crate::routes::kit::PathId<$id>, $crate::routes::kit::IfMatch),
                responses((status = 200, description = "The resource after the command, its version as `ETag`", body = $dto),
                    $crate::routes::kit::Authenticated, $crate::routes::kit::Forbidden, $crate::routes::kit::NotFound,
                    $crate::routes::kit::Conflict, $crate::routes::kit::BadBody))]
            $name: post $path (state,
                auth: $crate::auth::AuthUser,
                id: $crate::routes::kit::PathId<$id>,
                if_match: $crate::routes::kit::IfMatch,
                body: $crate::dto::OptionalJson<$body>,
            ) -> ::axum::response::Response {
                let ($crate::routes::kit::PathId(id), $crate::dto::OptionalJson($b)) = (id, body);
                let version = if_match.0.or($b.version);
                $run(&state, &auth, id, version, $command).await
            }
        }
    )+};
}
pub(crate) use commands;

/// What an answer's `ETag` comes from.
pub(crate) trait Versioned {
    /// The resource's version.
    fn version(&self) -> u64;
}

macro_rules! versioned_by_meta {
    ($($ty:ty),+ $(,)?) => {$(
        impl Versioned for $ty {
            fn version(&self) -> u64 {
                self.meta.version
            }
        }
    )+};
}

versioned_by_meta!(
    icosistem_core::model::Document,
    icosistem_core::model::Enrollment,
    icosistem_core::model::Meeting,
    icosistem_core::model::Mentorship,
    icosistem_core::model::Milestone,
    icosistem_core::model::Notification,
    icosistem_core::model::Organization,
    icosistem_core::model::OutboxMessage,
    icosistem_core::model::Profile,
    icosistem_core::model::Program,
    icosistem_core::model::Project,
    icosistem_core::model::Session,
    icosistem_core::model::Task,
    icosistem_core::model::User,
    icosistem_core::model::WebhookEndpoint,
);

impl Versioned for icosistem_core::service::WebhookWithSecret {
    fn version(&self) -> u64 {
        self.endpoint.meta.version
    }
}

impl Versioned for icosistem_core::service::ApplicationView {
    fn version(&self) -> u64 {
        self.version
    }
}

/// `resource` as `D`, its version as `ETag`.
pub(crate) fn answer<R: Versioned, D: for<'a> From<&'a R> + serde::Serialize>(
    resource: &R,
) -> axum::response::Response {
    crate::routes::versioned(resource.version(), D::from(resource))
}

/// Declares get-one routes: `GET <path>` naming one resource by `{id}`, answering it with its
/// `ETag` (404 for an id the caller may not see).
///
/// ```ignore
/// reads! {
///     tag = "projects";
///     /// One project.
///     get_project: "/api/v2/projects/{id}", ProjectId => ProjectDto, |eco, ctx, id| eco.get_project(ctx, id);
/// }
/// ```
macro_rules! reads {
    (
        tag = $tag:literal;
        $( $(#[doc = $doc:literal])* $name:ident: $path:literal, $id:ty => $dto:ty,
            |$eco:ident, $ctx:ident, $idv:ident| $call:expr; )+
    ) => {$(
        $crate::routes::kit::routes!(@emit [] [$crate::routes::kit::NoBody] [params($crate::routes::kit::PathId<$id>),]
            [$(#[doc = $doc])*] $name get $path $tag [$crate::routes::kit::PathId<$id>] NoIfMatch
            etag 200 "The resource, its version as `ETag`" [$dto] [NotFound]
            $eco $ctx [$crate::routes::kit::PathId($idv)] [_] [_] [$call]
            ($crate::auth::AuthUser, Authenticated, [security(("bearer" = [])),], [.eco]));
    )+};
}
pub(crate) use reads;

/// The query string of a list: its page (`?limit&cursor`) and its filter, parsed at once so
/// that every failing parameter is reported together (422).
pub(crate) trait ListQuery: Paged {
    /// What the use case filters by.
    type Filter;
    /// The filter, each failing parameter pushed to `errors`.
    fn filter(self, errors: &mut ValidationErrors) -> Self::Filter;
}

/// A list's filter and page: `?limit&cursor` and the filters of `Q`, 422 with every failing one.
pub(crate) struct Listed<Q: ListQuery> {
    /// The filter.
    pub(crate) filter: Q::Filter,
    /// The page asked for.
    pub(crate) page: PageRequest,
}

impl<Q, S> FromRequestParts<S> for Listed<Q>
where
    Q: ListQuery + DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ApiQuery(query) = ApiQuery::<Q>::from_request_parts(parts, state).await?;
        let mut errors = ValidationErrors::new();
        let (limit, cursor) = query.page();
        let page = PageRequest::parse(limit, cursor).map_err(|e| errors.extend(e));
        let filter = query.filter(&mut errors);
        match page {
            Ok(page) if errors.is_empty() => Ok(Self { filter, page }),
            _ => Err(ApiError::from(Error::Validation(errors))),
        }
    }
}

/// A slot of a route's declaration that the route does not use: it reads nothing from the
/// request, documents no parameter and sends no version. [`NoId`], [`NoIfMatch`] and [`NoBody`]
/// are its names in the path, `If-Match` and body slots.
pub(crate) struct Absent;

impl<S: Send + Sync> FromRequestParts<S> for Absent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self)
    }
}

impl IntoParams for Absent {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        Vec::new()
    }
}

/// No path id: the route is not under a resource.
pub(crate) use Absent as NoId;
/// No `If-Match`: the route takes no version.
pub(crate) use Absent as NoIfMatch;
/// No body: the route reads none.
pub(crate) use Absent as NoBody;

/// Declares list routes: `GET <path>` (under a resource's `{id}`, or `NoId`) with a page and the
/// filters of a [`ListQuery`], answering a [`PageDto`](crate::dto::PageDto) newest first.
///
/// ```ignore
/// lists! {
///     tag = "projects";
///     /// Lists projects.
///     list_projects: "/api/v2/projects", NoId, ProjectQuery => ProjectDto, [],
///         |eco, ctx, _id, filter, page| eco.list_projects(ctx, filter, page);
/// }
/// ```
macro_rules! lists {
    (
        tag = $tag:literal;
        $( $(#[doc = $doc:literal])* $name:ident: $path:literal, $id:ty, $query:ty => $dto:ty, [$($extra:ident),*],
            |$eco:ident, $ctx:ident, $idv:pat_param, $filter:pat_param, $page:ident| $call:expr; )+
    ) => {$(
        $crate::routes::kit::handler! {
            $(#[doc = $doc])*
            #[utoipa::path(get, path = $path, operation_id = stringify!($name), tag = $tag, security(("bearer" = [])),
                params($id, $query),
                responses((status = 200, description = "A page, newest first", body = $crate::dto::PageDto<$dto>),
                    $crate::routes::kit::Authenticated, $($crate::routes::kit::$extra,)* $crate::routes::kit::BadInput))]
            $name: get $path (state,
                auth: $crate::auth::AuthUser,
                id: $id,
                listed: $crate::routes::kit::Listed<$query>,
            ) -> ::axum::Json<$crate::dto::PageDto<$dto>> {
                let ($eco, $ctx, $idv, $filter, $page) = (&state.eco, &auth.ctx, id, listed.filter, listed.page);
                let found = $call.await?;
                Ok(::axum::Json($crate::dto::PageDto::from_page(found)))
            }
        }
    )+};
}
pub(crate) use lists;

impl ListQuery for PageQuery {
    type Filter = ();

    fn filter(self, _: &mut ValidationErrors) -> Self::Filter {}
}

/// `?limit&cursor` of a list query.
pub(crate) trait Paged {
    /// `limit` and `cursor` as given.
    fn page(&self) -> (Option<u32>, Option<&str>);
}

/// `?limit&cursor`: the page of a list (their rules in the schema: `limit` within the core's
/// `PageRequest` bounds, `cursor` as `next_cursor` gives it). A list without filters takes it as
/// its query; [`filter_query!`] adds its filters to these two.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Rows per page (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub(crate) limit: Option<u32>,
    /// The `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = "^([0-9a-fA-F]{32})?$")]
    pub(crate) cursor: Option<String>,
}

impl Paged for PageQuery {
    fn page(&self) -> (Option<u32>, Option<&str>) {
        (self.limit, self.cursor.as_deref())
    }
}

/// The document's query parameter `name` filtering by a `T`: optional, described by the lines
/// of its doc comment.
pub(crate) fn filter_param<T: FilterValue>(name: &str, doc: &[&str]) -> Parameter {
    let description: Vec<&str> = doc.iter().map(|line| line.trim()).collect();
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description.join("\n")))
        .schema(Some(T::schema()))
        .build()
}

/// The version a request body sent (`version`), which `If-Match` overrides: the bodies of the
/// routes that take `If-Match` implement it.
pub(crate) trait SentVersion {
    /// The body's `version`, if any.
    fn sent_version(&self) -> Option<u64>;
}

impl SentVersion for Absent {
    fn sent_version(&self) -> Option<u64> {
        None
    }
}

impl<B: SentVersion> SentVersion for crate::dto::ApiJson<B> {
    fn sent_version(&self) -> Option<u64> {
        self.0.sent_version()
    }
}

macro_rules! sent_versions {
    ($($ty:ident),+ $(,)?) => {$(
        impl SentVersion for crate::dto::$ty {
            fn sent_version(&self) -> Option<u64> {
                self.version
            }
        }
    )+};
}

sent_versions!(
    AdminUpdateUserRequest,
    AdvanceStageRequest,
    DelayRequest,
    FeedbackRequest,
    ProgressRequest,
    RescheduleMeetingRequest,
    RescheduleSessionRequest,
    RejectInRoundRequest,
    RespondRequest,
    SetAvailabilityRequest,
    UpdateApplicationRequest,
    UpdateMeRequest,
    UpdateMilestoneRequest,
    UpdateOrganizationRequest,
    UpdateProfileRequest,
    UpdateProgramRequest,
    UpdateProjectRequest,
    UpdateTaskRequest,
    UpdateWebhookRequest,
);

/// A body as the core's input `I` (its `TryFrom`, next to the body's type in `dto`): the fields
/// it cannot read, all at once, as a 422.
pub(crate) fn input<B, I: TryFrom<B, Error = ValidationErrors>>(body: B) -> Result<I, ApiError> {
    I::try_from(body).map_err(|e| ApiError::from(Error::Validation(e)))
}

/// The status of a route's declared answer (a literal of the declaration, so always valid).
fn status(code: u16) -> axum::http::StatusCode {
    axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::OK)
}

/// Answer `code` with `resource` as `D` and its version as `ETag`.
pub(crate) fn etag<R: Versioned, D: for<'a> From<&'a R> + serde::Serialize>(
    code: u16,
    resource: R,
) -> axum::response::Response {
    let mut response = answer::<R, D>(&resource);
    *response.status_mut() = status(code);
    response
}

/// Answer `code` with `resource` as `D` (a resource without a version of its own).
pub(crate) fn json<R, D: for<'a> From<&'a R> + serde::Serialize>(code: u16, resource: R) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status(code), axum::Json(D::from(&resource))).into_response()
}

/// Answer `code` without a body.
pub(crate) fn empty<R>(code: u16, _: R) -> axum::response::Response {
    use axum::response::IntoResponse;
    status(code).into_response()
}

/// Adds a handler to its module's router: `mount!(name: post "/api/v2/…")` declares
/// `name::mount`, which [`api!`](crate::routes::kit::api) calls. The macros of this module mount
/// what they declare; a hand-written handler says it in this one line.
macro_rules! mount {
    ($name:ident: $method:ident $path:literal) => {
        #[doc(hidden)]
        pub(crate) mod $name {
            /// Adds the route to `router`.
            #[allow(dead_code, reason = "until every route module builds its router with `api!`")]
            pub(crate) fn mount<
                S: ::icosistem_core::ports::Store,
                N: ::icosistem_core::ports::Notifier,
                C: ::icosistem_core::ports::Clock,
            >(
                router: ::axum::Router<$crate::AppState<S, N, C>>,
            ) -> ::axum::Router<$crate::AppState<S, N, C>> {
                router.route($path, ::axum::routing::$method(super::$name::<S, N, C>))
            }
        }
    };
}
pub(crate) use mount;

/// A route module's `router()` and its part of the OpenAPI document (`Api`), from the list of
/// its handlers (each mounted by [`mount!`](crate::routes::kit::mount)) and any further
/// `#[openapi]` arguments (components, tags).
macro_rules! api {
    ([$($name:ident),+ $(,)?] $($openapi:tt)*) => {
        /// This module's routes.
        pub(crate) fn router<
            S: ::icosistem_core::ports::Store,
            N: ::icosistem_core::ports::Notifier,
            C: ::icosistem_core::ports::Clock,
        >() -> ::axum::Router<$crate::AppState<S, N, C>> {
            let router = ::axum::Router::new();
            $(let router = $name::mount(router);)+
            router
        }

        /// This module's part of the OpenAPI document (its components are listed in
        /// [`crate::openapi::ApiDoc`] or below).
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($name),+) $($openapi)*)]
        pub(crate) struct Api;
    };
}
pub(crate) use api;

/// Declares authenticated routes of any shape — create, update, delete, a command with a body —
/// each in a few lines: the handler, its `#[utoipa::path]` with the route's name as
/// `operation_id`, its parameters, request body and problem responses, and its mount.
///
/// ```ignore
/// routes! {
///     tag = "projects";
///     /// Edits a project (its owner and admins).
///     update_project: patch "/api/v2/projects/{id}", PathId<ProjectId>, IfMatch, json<UpdateProjectRequest>
///         => etag(200, "The updated project", ProjectDto) [Forbidden, NotFound, Conflict, BadBody],
///         |eco, ctx, PathId(id), version, ApiJson(b)| eco.update_project(ctx, id, UpdateProject { version, ..input(b)? });
/// }
/// ```
///
/// - the path slot: [`NoId`] or [`PathId<I>`]; the `If-Match` slot: [`IfMatch`] or
///   [`NoIfMatch`]; with `IfMatch` the closure's version is `If-Match`, else the body's
///   `version` (its type implements [`SentVersion`]), and without it `None`;
/// - the body: `json<B>` (required), `optional<B>` (`B::default()` when absent, with an
///   optional description) or `none`;
/// - the answer: `etag(status, description, Dto)` (the resource as `Dto` with its version as
///   `ETag`), `json(status, description, Dto)` or `empty(status, description)`, then the
///   problem responses besides [`Authenticated`];
/// - the closure-like tail names the ecosystem, the caller's context, the path id, the version
///   and the body, and gives the use case's future (`?` returns early with a problem).
macro_rules! routes {
    // The version the request sent: `If-Match`, else the body's `version`; none without `If-Match`.
    (@version IfMatch $if_match:ident $body:ident) => {
        $if_match.0.or($crate::routes::kit::SentVersion::sent_version(&$body))
    };
    (@version NoIfMatch $if_match:ident $body:ident) => {{
        let $crate::routes::kit::NoIfMatch = $if_match;
        None::<u64>
    }};
    (tag = $tag:literal;) => {};
    // No path id and no `If-Match`: no parameters at all (not an empty list).
    (
        tag = $tag:literal;
        $(#[doc = $doc:literal])* $name:ident: $method:ident $path:literal, NoId, NoIfMatch, $($rest:tt)*
    ) => {
        $crate::routes::kit::routes!(@route $tag [] [$(#[doc = $doc])*] $name $method $path [NoId] NoIfMatch $($rest)*);
    };
    (
        tag = $tag:literal;
        $(#[doc = $doc:literal])* $name:ident: $method:ident $path:literal, $id:ty, $ifm:ident, $($rest:tt)*
    ) => {
        $crate::routes::kit::routes!(@route $tag [params($id, $crate::routes::kit::$ifm),]
            [$(#[doc = $doc])*] $name $method $path [$id] $ifm $($rest)*);
    };
    (
        @route $tag:literal [$($params:tt)*] [$($doc:tt)*] $name:ident $method:ident $path:literal [$id:ty] $ifm:ident
        $bk:ident $(<$bty:ty $(, $bdesc:literal)?>)?
            => $ak:ident($status:literal, $desc:literal $(, $dto:ty)?) [$($extra:ident),*],
            |$eco:ident, $ctx:ident, $idp:pat_param, $ver:pat_param, $bp:pat_param| $call:expr;
        $($rest:tt)*
    ) => {
        $crate::routes::kit::routes!(@body $bk [$($bty $(, $bdesc)?)?] {
            [$($params)*] [$($doc)*] $name $method $path $tag [$id] $ifm
            $ak $status $desc [$($dto)?] [$($extra),*] $eco $ctx [$idp] [$ver] [$bp] [$call]
            ($crate::auth::AuthUser, Authenticated, [security(("bearer" = [])),], [.eco])
        });
        $crate::routes::kit::routes!(tag = $tag; $($rest)*);
    };
    (@body json [$bty:ty] {$($route:tt)*}) => {
        $crate::routes::kit::routes!(@emit [request_body = $bty,] [$crate::dto::ApiJson<$bty>] $($route)*);
    };
    (@body optional [$bty:ty] {$($route:tt)*}) => {
        $crate::routes::kit::routes!(@body optional [$bty, "Optional: the version read and the command's fields"] {$($route)*});
    };
    (@body optional [$bty:ty, $bdesc:literal] {$($route:tt)*}) => {
        $crate::routes::kit::routes!(@emit [request_body(content = Option<$bty>, description = $bdesc),]
            [$crate::dto::OptionalJson<$bty>] $($route)*);
    };
    (@body none [] {$($route:tt)*}) => {
        $crate::routes::kit::routes!(@emit [] [$crate::routes::kit::NoBody] $($route)*);
    };
    // The caller group: who may call ([`Caller`]), the problem responses every call may get,
    // the security requirement, and what of the state the closure's first name binds (`.eco`:
    // the ecosystem; nothing: the whole state).
    (
        @emit [$($rb:tt)*] [$body:ty] [$($params:tt)*] [$($doc:tt)*] $name:ident $method:ident $path:literal $tag:literal [$id:ty]
        $ifm:ident $ak:ident $status:literal $desc:literal [$($dto:ty)?] [$($extra:ident),*]
        $eco:ident $ctx:ident [$idp:pat_param] [$ver:pat_param] [$bp:pat_param] [$call:expr]
        ($caller:ty, $base:ident, [$($security:tt)*], [$($state:tt)*])
    ) => {
        $crate::routes::kit::handler! {
            $($doc)*
            #[utoipa::path($method, path = $path, operation_id = stringify!($name), tag = $tag, $($security)*
                $($rb)* $($params)*
                responses((status = $status, description = $desc $(, body = $dto)?), $crate::routes::kit::$base
                    $(, $crate::routes::kit::$extra)*))]
            $name: $method $path (state,
                caller: $caller,
                id: $id,
                if_match: $crate::routes::kit::$ifm,
                body: $body,
            ) -> ::axum::response::Response {
                let version = $crate::routes::kit::routes!(@version $ifm if_match body);
                let ctx = $crate::routes::kit::Caller::context(&caller);
                let ($eco, $ctx, $idp, $ver, $bp) = (&state $($state)*, ctx, id, version, body);
                let resource = $call.await?;
                Ok($crate::routes::kit::$ak::<_ $(, $dto)?>($status, resource))
            }
        }
    };
}
pub(crate) use routes;

/// Declares the operations anyone may call (registration, sign-in, tokens): `POST <path>` with
/// a JSON body, run as the anonymous actor with the request's meta (client IP, user agent) — the
/// handler, its `#[utoipa::path]` with the route's name as `operation_id` and its mount, like
/// [`routes!`] but without a bearer token (so without its 401, and [`Unavailable`] in place of
/// [`Authenticated`]).
///
/// ```ignore
/// public! {
///     tag = "auth";
///     /// Verifies the email with the token sent at registration.
///     verify_email: post "/api/v2/auth/verify-email", TokenRequest
///         => empty(204, "Verified") [BadBody],
///         |state, ctx, b| state.eco.verify_email(ctx, &b.token);
/// }
/// ```
///
/// The closure-like tail names the application state (`eco`, keys, configuration), the
/// anonymous context and the body, and gives the use case's future; the answer is one of
/// [`routes!`]'s.
macro_rules! public {
    (
        tag = $tag:literal;
        $( $(#[doc = $doc:literal])* $name:ident: post $path:literal, $body:ty
            => $ak:ident($status:literal, $desc:literal $(, $dto:ty)?) [$($extra:ident),*],
            |$state:ident, $ctx:ident, $bp:pat_param| $call:expr; )+
    ) => {$(
        $crate::routes::kit::routes!(@emit [request_body = $body,] [$crate::dto::ApiJson<$body>] []
            [$(#[doc = $doc])*] $name post $path $tag [$crate::routes::kit::NoId] NoIfMatch
            $ak $status $desc [$($dto)?] [$($extra),*] $state $ctx [_] [_] [$crate::dto::ApiJson($bp)] [$call]
            ($crate::routes::kit::Anonymous, Unavailable, [], []));
    )+};
}
pub(crate) use public;

// routes-a additions -----------------------------------------------------------------------------
// (meetings, sessions, mentoring, matching, tasks): more versioned resources, two answer kinds,
// a second path id and lifecycle commands whose `run` is one use case call.

versioned_by_meta!(
    icosistem_core::model::Availability,
    icosistem_core::model::MeetingParticipant,
);

/// Answer `code` with `resource` serialized as it is, documented as `D`: for the core's own JSON
/// (a matching proposal goes back exactly as proposed) and answers the route builds itself.
#[allow(
    clippy::extra_unused_type_parameters,
    reason = "`D` is the documented body: `routes!` names it here and in the route's attribute"
)]
pub(crate) fn as_is<R: serde::Serialize, D>(code: u16, resource: R) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status(code), axum::Json(resource)).into_response()
}

/// A `Vec` of DTOs built from the core's rows, one each.
pub(crate) trait FromEach<R> {
    /// Every row as a DTO, in order.
    fn from_each(rows: &[R]) -> Self;
}

impl<R, D: for<'a> From<&'a R>> FromEach<R> for Vec<D> {
    fn from_each(rows: &[R]) -> Self {
        rows.iter().map(D::from).collect()
    }
}

/// Answer `code` with every row as `D` (`Vec<Dto>`), a JSON array.
pub(crate) fn each<R, D: FromEach<R> + serde::Serialize>(code: u16, rows: Vec<R>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status(code), axum::Json(D::from_each(&rows))).into_response()
}

/// A second path segment naming an entity under the resource's `{id}`
/// (`/tasks/{id}/dependencies/{depends_on}`); declared with [`path_segment!`].
pub(crate) trait PathSegment: Sized + Send {
    /// The segment's name in the path template.
    const NAME: &'static str;
    /// The segment as its id (404 naming the entity when it is not a UUID).
    fn parse(raw: &str) -> Result<Self, ApiError>;
    /// How the document describes it.
    fn param() -> Parameter;
}

/// Declares a [`PathSegment`]: `Name(IdType): "segment", "entity kind of a 404", "description";`.
macro_rules! path_segment {
    ($(#[doc = $doc:literal])* $name:ident($id:ty): $segment:literal, $kind:literal, $description:literal;) => {
        $(#[doc = $doc])*
        pub(crate) struct $name(pub $id);

        impl $crate::routes::kit::PathSegment for $name {
            const NAME: &'static str = $segment;

            fn parse(raw: &str) -> Result<Self, $crate::error::ApiError> {
                $crate::routes::kit::parse_id(raw, $kind).map(Self)
            }

            fn param() -> ::utoipa::openapi::path::Parameter {
                $crate::routes::kit::uuid_param($segment, $description.to_owned())
            }
        }
    };
}
pub(crate) use path_segment;

/// The `{id}` of the path as an `I` and a second segment `P` under it (each 404 when it is not a
/// UUID, the `{id}` first).
pub(crate) struct PathIdAnd<I, P>(pub I, pub P);

impl<I: EntityId, P: PathSegment, S: Send + Sync> FromRequestParts<S> for PathIdAnd<I, P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let PathId(id) = PathId::<I>::from_request_parts(parts, state).await?;
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::internal())?;
        let raw = params
            .iter()
            .find(|(name, _)| name == P::NAME)
            .map_or("", |(_, value)| value.as_str());
        Ok(Self(id, P::parse(raw)?))
    }
}

impl<I: EntityId, P: PathSegment> IntoParams for PathIdAnd<I, P> {
    fn into_params(in_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = PathId::<I>::into_params(in_);
        params.push(P::param());
        params
    }
}

/// [`commands!`] whose `run` is the ecosystem's use case of the same name, called as
/// `eco.run(ctx, id, command, version)` and answering the resource: declares `run` (taking the
/// command type given), then the routes.
///
/// ```ignore
/// use_case_commands! {
///     tag = "tasks", id = TaskId, answer = TaskDto, command = TaskCommand, run = task_command;
///     /// Starts a task.
///     start_task: "/api/v2/tasks/{id}/start", CommandRequest, |body| TaskCommand::Start;
/// }
/// ```
macro_rules! use_case_commands {
    (
        tag = $tag:literal, id = $id:ty, answer = $dto:ty, command = $command:ty, run = $run:ident;
        $($routes:tt)+
    ) => {
        /// Runs one command of these routes and answers the resource with its `ETag`.
        async fn $run<
            S: ::icosistem_core::ports::Store,
            N: ::icosistem_core::ports::Notifier,
            C: ::icosistem_core::ports::Clock,
        >(
            state: &$crate::AppState<S, N, C>,
            auth: &$crate::auth::AuthUser,
            id: $id,
            version: Option<u64>,
            command: $command,
        ) -> Result<::axum::response::Response, $crate::error::ApiError> {
            let resource = state.eco.$run(&auth.ctx, id, command, version).await?;
            Ok($crate::routes::kit::answer::<_, $dto>(&resource))
        }

        $crate::routes::kit::commands! {
            tag = $tag, id = $id, answer = $dto, run = $run;
            $($routes)+
        }
    };
}
pub(crate) use use_case_commands;

/// A value a list query filters by, read from its text: an enum name, an id, an instant, a
/// flag, an email or a text. Blank is absent (no filter).
pub(crate) trait FilterValue: Sized {
    /// How the document describes the parameter.
    fn schema() -> utoipa::openapi::schema::Schema;
    /// The parameter's value, its failure pushed under `field`.
    fn read(errors: &mut ValidationErrors, field: &'static str, raw: Option<&str>) -> Option<Self>;
}

macro_rules! filter_enums {
    ($($ty:ty),+ $(,)?) => {$(
        impl FilterValue for $ty {
            fn schema() -> utoipa::openapi::schema::Schema {
                crate::dto::schema::one_of_or_empty::<$ty>().into()
            }

            fn read(errors: &mut ValidationErrors, field: &'static str, raw: Option<&str>) -> Option<Self> {
                crate::dto::parse::optional_enum(errors, field, raw)
            }
        }
    )+};
}

filter_enums!(
    icosistem_core::model::ApplicationStatus,
    icosistem_core::model::EnrollmentStatus,
    icosistem_core::model::MeetingStatus,
    icosistem_core::model::MentorshipStatus,
    icosistem_core::model::MilestoneStatus,
    icosistem_core::model::NotificationStatus,
    icosistem_core::model::OrganizationStatus,
    icosistem_core::model::OrganizationType,
    icosistem_core::model::OutboxChannel,
    icosistem_core::model::OutboxStatus,
    icosistem_core::model::ProgramStatus,
    icosistem_core::model::ProjectStage,
    icosistem_core::model::ProjectStatus,
    icosistem_core::model::Role,
    icosistem_core::model::SessionStatus,
    icosistem_core::model::TaskStatus,
    icosistem_core::model::UserStatus,
);

macro_rules! filter_ids {
    ($($ty:ty),+ $(,)?) => {$(
        impl FilterValue for $ty {
            fn schema() -> utoipa::openapi::schema::Schema {
                crate::dto::schema::uuid_or_empty().into()
            }

            fn read(errors: &mut ValidationErrors, field: &'static str, raw: Option<&str>) -> Option<Self> {
                crate::dto::parse::optional_id(errors, field, raw)
            }
        }
    )+};
}

filter_ids!(OrganizationId, ProgramId, ProjectId, TaskId, UserId, uuid::Uuid);

/// An instant (RFC 3339).
impl FilterValue for chrono::DateTime<chrono::Utc> {
    fn schema() -> utoipa::openapi::schema::Schema {
        crate::dto::schema::instant_or_blank()
    }

    fn read(errors: &mut ValidationErrors, field: &'static str, raw: Option<&str>) -> Option<Self> {
        crate::dto::parse::optional_instant(errors, field, raw)
    }
}

/// A flag: `true` or `false`.
impl FilterValue for bool {
    fn schema() -> utoipa::openapi::schema::Schema {
        ObjectBuilder::new().schema_type(Type::Boolean).build().into()
    }

    fn read(errors: &mut ValidationErrors, field: &'static str, raw: Option<&str>) -> Option<Self> {
        crate::dto::parse::optional_flag(errors, field, raw)
    }
}

/// A text, trimmed.
impl FilterValue for String {
    fn schema() -> utoipa::openapi::schema::Schema {
        ObjectBuilder::new().schema_type(Type::String).build().into()
    }

    fn read(_: &mut ValidationErrors, _: &'static str, raw: Option<&str>) -> Option<Self> {
        raw.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
    }
}

/// An email address, as the core reads one.
impl FilterValue for icosistem_core::model::value::Email {
    fn schema() -> utoipa::openapi::schema::Schema {
        crate::dto::schema::email_or_blank()
    }

    fn read(errors: &mut ValidationErrors, field: &'static str, raw: Option<&str>) -> Option<Self> {
        use icosistem_core::model::value::AtField;
        let raw = raw.map(str::trim).filter(|v| !v.is_empty())?;
        errors.check(Self::parse(raw).at(field))
    }
}

/// Declares a list query whose parameters are [`FilterValue`]s: the struct (with the paging of
/// [`PageQuery`]), each parameter's description and schema, and its reading, 422 naming every
/// failing one. Either each parameter is the field of the same name of the store's filter (the rest of it
/// default), or an expression builds the query's filter from the parameters' values (each an
/// `Option` named as its parameter).
///
/// ```ignore
/// filter_query! {
///     /// `GET /api/v2/tasks` filters.
///     pub(crate) struct TaskQuery => TaskFilter {
///         /// Status.
///         status: TaskStatus,
///         /// Of this project.
///         project_id: ProjectId,
///     }
/// }
/// filter_query! {
///     /// `GET /api/v2/milestones` filters.
///     pub(crate) struct MilestoneQuery {
///         /// Status.
///         status: MilestoneStatus,
///         /// `true`: only overdue ones.
///         overdue: bool,
///     } => (Option<MilestoneStatus>, bool), (status, overdue.unwrap_or(false))
/// }
/// ```
macro_rules! filter_query {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident => $filter:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident: $ty:ty, )+
        }
    ) => {
        $crate::routes::kit::filter_query! {
            $(#[doc = $doc])*
            $vis struct $name { $( $(#[doc = $fdoc])* $field: $ty, )+ }
                => $filter, $filter { $($field,)+ ..Default::default() }
        }
    };
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            $( $(#[doc = $fdoc:literal])* $field:ident: $ty:ty, )+
        } => $filter:ty, $build:expr
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Default, serde::Deserialize)]
        #[serde(default)]
        $vis struct $name {
            limit: Option<u32>,
            cursor: Option<String>,
            $( $field: Option<String>, )+
        }

        impl $crate::routes::kit::Paged for $name {
            fn page(&self) -> (Option<u32>, Option<&str>) {
                (self.limit, self.cursor.as_deref())
            }
        }

        impl ::utoipa::IntoParams for $name {
            fn into_params(
                in_: impl Fn() -> Option<::utoipa::openapi::path::ParameterIn>,
            ) -> Vec<::utoipa::openapi::path::Parameter> {
                let mut params = <$crate::routes::kit::PageQuery as ::utoipa::IntoParams>::into_params(in_);
                $(params.push($crate::routes::kit::filter_param::<$ty>(stringify!($field), &[$($fdoc),*]));)+
                params
            }
        }

        impl $crate::routes::kit::ListQuery for $name {
            type Filter = $filter;

            #[allow(clippy::needless_update, reason = "the shorthand form defaults the filter's other fields, if any")]
            fn filter(self, errors: &mut ::icosistem_core::error::ValidationErrors) -> Self::Filter {
                $(let $field = <$ty as $crate::routes::kit::FilterValue>::read(
                    errors,
                    stringify!($field),
                    self.$field.as_deref(),
                );)+
                $build
            }
        }
    };
}
pub(crate) use filter_query;
