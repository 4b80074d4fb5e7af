//! Documents (docs/domain.md §6): `/api/v2/{projects|applications|milestones|sessions}/{id}/documents`
//! (upload, list), `/api/v2/documents/{id}` (read, delete), `/api/v2/documents/{id}/content`
//! (download) and `/api/v2/documents/{id}/versions` (list, upload a new version).
//!
//! Uploads are `multipart/form-data` with the text parts first and `file` last. The file part
//! is never held whole: its chunks go through a channel of [`UPLOAD_CHANNEL_CHUNKS`] chunks
//! straight into the core's upload use case, which sniffs the first bytes, meters and hashes
//! the rest on the way to the blob store. A part after the file (a second file) fails the
//! stream before the metadata commits, so nothing is stored. Uploads have their own body limit
//! (`Limits::max_upload_bytes` plus [`UPLOAD_OVERHEAD`], set by `middleware::limit_body`); every
//! other route keeps the JSON body limit.
//!
//! Hostile uploads and their answers (each stores nothing; the test `api::documents` pins them):
//!
//! | upload | answer |
//! | --- | --- |
//! | an executable (or anything not pdf/doc/docx/jpg/jpeg/png) named `deck.pdf` | 415 `unsupported_media_type` |
//! | a polyglot: an allowed type whose first 8 KiB carry HTML/script markup, or a PDF/DOC/JPEG/PNG carrying a ZIP directory anywhere | 415 `unsupported_media_type` |
//! | content of one allowed type named with another's extension | 415 `unsupported_media_type` |
//! | a zero-byte file | 422 `validation_failed` on `file` |
//! | more than `max_upload_bytes` | 413 `payload_too_large` |
//! | a path as the file name (`../../etc/passwd`): refused, not cut to its last segment | 422 `validation_failed` on `file` |
//! | two files, or any part after `file` | 422 `validation_failed` on `file` |
//! | not `multipart/form-data` | 415 `unsupported_media_type` |

use std::collections::BTreeMap;
use std::io;
use std::sync::Mutex;

use axum::body::Body;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::SinkExt;
use futures::channel::{mpsc, oneshot};
use icosistem_core::Error;
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{
    ApplicationId, Document, DocumentAccess, DocumentId, DocumentParent, DocumentType, MilestoneId, ProjectId,
    SessionId,
};
use icosistem_core::ports::{Clock, Notifier, Store};
use icosistem_core::service::UploadDocument;
use serde::Deserialize;
use utoipa::IntoParams;

use super::PageQuery;
use super::kit::{PathId, api, lists, reads, routes};
use crate::AppState;
use crate::auth::AuthUser;
use crate::dto::parse::{optional_enum, required_enum};
use crate::dto::{
    ApiQuery, DocumentDto, DocumentVersionDto, FileBytes, PageDto, UploadDocumentForm, UploadVersionForm,
};
use crate::error::ApiError;

/// What a multipart body may carry besides the file's bytes (boundaries, part headers, the
/// text parts): the upload body limit is `max_upload_bytes` plus this.
pub(crate) const UPLOAD_OVERHEAD: u64 = 64 * 1024;

/// Chunks of the file in flight between the request body and the blob store.
const UPLOAD_CHANNEL_CHUNKS: usize = 2;

/// Longest text part of an upload form, in bytes (a description is at most 2000 characters).
const TEXT_PART_MAX_BYTES: usize = 8 * 1024;

/// The text parts an upload form may carry.
const TEXT_PARTS: &[&str] = &["title", "description", "document_type", "access", "blind_safe"];

/// Whether `path` (of a `POST`) is an upload route: `…/{projects|applications|milestones|sessions}/{id}/documents`
/// or `…/documents/{id}/versions`. By the path's end, so a host nesting the router under a
/// prefix keeps the upload limit.
pub(crate) fn is_upload_path(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_end_matches('/').rsplit('/').take(3).collect();
    match segments.as_slice() {
        ["documents", _, parent] => matches!(*parent, "projects" | "applications" | "milestones" | "sessions"),
        ["versions", _, "documents"] => true,
        _ => false,
    }
}

/// A multipart body the server could not read: too large, or not multipart at all.
fn multipart_error(error: &MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large()
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_multipart",
            "the body is not a well-formed multipart/form-data body",
        )
    }
}

fn not_multipart(_: MultipartRejection) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as multipart/form-data",
    )
}

fn only_one_file() -> ApiError {
    ApiError::invalid_field("file", "must be the last part and the only file")
}

/// Receives an upload: reads the text parts, hands them with the file's name to `describe`,
/// then streams the `file` part into `upload` (the core's use case) through a small channel.
/// Anything after the file fails the stream, so the use case stores nothing.
async fn receive<M, F>(
    mut multipart: Multipart,
    describe: impl FnOnce(&BTreeMap<String, String>, String) -> Result<M, ApiError> + Send,
    upload: impl FnOnce(M, mpsc::Receiver<io::Result<Bytes>>) -> F + Send,
) -> Result<Document, ApiError>
where
    M: Send,
    F: Future<Output = Result<Document, Error>> + Send,
{
    let (meta_tx, meta_rx) = oneshot::channel::<Result<M, ApiError>>();
    let (chunks, chunk_rx) = mpsc::channel::<io::Result<Bytes>>(UPLOAD_CHANNEL_CHUNKS);
    // Why the stream was failed on purpose; it answers instead of the use case's error.
    let refusal: Mutex<Option<ApiError>> = Mutex::new(None);
    let refuse = |error: ApiError| {
        *refusal.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    };

    let producer = async {
        // Owned here, so the file's stream ends when the producer does, on every path.
        let mut chunks = chunks;
        let mut texts = BTreeMap::new();
        let mut field = loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => {
                    let _ = meta_tx.send(Err(ApiError::invalid_field("file", "is required")));
                    return;
                }
                Err(error) => {
                    let _ = meta_tx.send(Err(multipart_error(&error)));
                    return;
                }
            };
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                break field;
            }
            if !TEXT_PARTS.contains(&name.as_str()) || texts.contains_key(&name) {
                let _ = meta_tx.send(Err(ApiError::invalid_field(
                    &name,
                    "is not a part of this form, or is given twice",
                )));
                return;
            }
            match read_text(field).await {
                Ok(Some(text)) => {
                    texts.insert(name, text);
                }
                Ok(None) => {
                    let _ = meta_tx.send(Err(ApiError::invalid_field(&name, "is too long")));
                    return;
                }
                Err(error) => {
                    let _ = meta_tx.send(Err(error));
                    return;
                }
            }
        };
        let filename = field.file_name().unwrap_or_default().to_owned();
        match describe(&texts, filename) {
            Ok(meta) => {
                if meta_tx.send(Ok(meta)).is_err() {
                    return;
                }
            }
            Err(error) => {
                let _ = meta_tx.send(Err(error));
                return;
            }
        }
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if chunks.send(Ok(chunk)).await.is_err() {
                        // The use case stopped reading (refused the upload): nothing to add.
                        return;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    refuse(multipart_error(&error));
                    let _ = chunks.send(Err(io::Error::other("the upload body failed"))).await;
                    return;
                }
            }
        }
        drop(field);
        // The stream ends only after this check, so the use case commits nothing before it.
        match multipart.next_field().await {
            Ok(None) => {}
            Ok(Some(_)) => {
                refuse(only_one_file());
                let _ = chunks.send(Err(io::Error::other("a part after the file"))).await;
            }
            Err(error) => {
                refuse(multipart_error(&error));
                let _ = chunks.send(Err(io::Error::other("the upload body failed"))).await;
            }
        }
    };
    let consumer = async {
        let meta = match meta_rx.await {
            Ok(Ok(meta)) => meta,
            Ok(Err(error)) => return Err(error),
            Err(_) => return Err(ApiError::invalid_field("file", "is required")),
        };
        upload(meta, chunk_rx).await.map_err(ApiError::from)
    };
    let ((), result) = futures::join!(producer, consumer);
    let refused = refusal.lock().unwrap_or_else(|e| e.into_inner()).take();
    match (result, refused) {
        (Err(_), Some(refusal)) => Err(refusal),
        (result, _) => result,
    }
}

/// A text part, `Ok(None)` when it is longer than [`TEXT_PART_MAX_BYTES`].
async fn read_text(mut field: axum::extract::multipart::Field<'_>) -> Result<Option<String>, ApiError> {
    let name = field.name().unwrap_or_default().to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
        if bytes.len() + chunk.len() > TEXT_PART_MAX_BYTES {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| ApiError::invalid_field(&name, "is not UTF-8 text"))
}

/// The metadata of a new document from the form's text parts: every failing part reported.
fn describe_document(
    parent: DocumentParent,
) -> impl FnOnce(&BTreeMap<String, String>, String) -> Result<UploadDocument, ApiError> + Send {
    move |texts, filename| {
        let mut errors = ValidationErrors::new();
        let text = |name: &str| texts.get(name).map(String::as_str);
        let document_type = required_enum::<DocumentType>(&mut errors, "document_type", text("document_type"));
        let access = optional_enum::<DocumentAccess>(&mut errors, "access", text("access"));
        let blind_safe = match text("blind_safe").map(str::trim) {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                errors.push("blind_safe", "must be true or false");
                false
            }
        };
        if filename.is_empty() {
            errors.push("file", "needs a file name");
        }
        errors.into_result().map_err(|e| ApiError::from(Error::Validation(e)))?;
        let Some(document_type) = document_type else {
            return Err(ApiError::invalid_field("document_type", "is required"));
        };
        let mut input = UploadDocument::new(parent, text("title").unwrap_or_default(), document_type, filename);
        input.description = text("description").map(str::to_owned);
        input.access = access.unwrap_or(DocumentAccess::Private);
        input.blind_safe = blind_safe;
        Ok(input)
    }
}

/// Uploads a new document to `parent` and answers 201 with it.
async fn upload_to<S: Store, N: Notifier, C: Clock>(
    state: AppState<S, N, C>,
    auth: AuthUser,
    parent: DocumentParent,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let multipart = multipart.map_err(not_multipart)?;
    let eco = &state.eco;
    let ctx = &auth.ctx;
    let document = receive(multipart, describe_document(parent), |input, body| {
        eco.upload_document(ctx, input, body)
    })
    .await?;
    Ok(created(&document))
}

/// 201 with the document, its version as `ETag` and its URL as `Location`.
fn created(document: &Document) -> Response {
    let mut response = super::versioned(document.meta.version, DocumentDto::from(document));
    *response.status_mut() = StatusCode::CREATED;
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v2/documents/{}", document.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The problem answers of an upload.
pub(crate) struct UploadProblems;

impl utoipa::IntoResponses for UploadProblems {
    fn responses() -> BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        let problem = |description: &str| {
            utoipa::openapi::ResponseBuilder::new()
                .description(description)
                .content(
                    crate::error::PROBLEM_JSON,
                    utoipa::openapi::Content::new(Some(utoipa::openapi::Ref::from_schema_name("Problem"))),
                )
                .build()
                .into()
        };
        [
            ("400", "The body is not well-formed multipart (`malformed_multipart`)"),
            (
                "413",
                "The file is larger than `ICOSISTEM_LIMIT_MAX_UPLOAD_BYTES` (`payload_too_large`)",
            ),
            (
                "415",
                "Not multipart/form-data, or the file's content is not pdf, doc, docx, jpg/jpeg or png agreeing with its extension, or is a polyglot (`unsupported_media_type`)",
            ),
            (
                "422",
                "Invalid parts (`validation_failed`): an empty file, a path as its name, two files, a missing or bad text part",
            ),
        ]
        .into_iter()
        .map(|(status, description)| (status.to_owned(), problem(description)))
        .collect()
    }
}

/// One upload route per kind of parent: the handler, its OpenAPI operation and its mount (with
/// the JSON body limit lifted: `middleware::limit_body` bounds the upload instead).
macro_rules! upload_routes {
    ($($name:ident: $path:literal, $id:ty, $variant:ident, $what:literal;)+) => {$(
        #[doc = concat!("Attaches a document to ", $what, " (its participants and admins): `multipart/form-data` with the text parts first and `file` last.")]
        #[utoipa::path(post, path = $path, operation_id = stringify!($name), tag = "documents",
            security(("bearer" = [])), params(PathId<$id>),
            request_body(content = UploadDocumentForm, content_type = "multipart/form-data"),
            responses(
                (status = 201, description = "Stored; the document, its version as `ETag`", body = DocumentDto),
                super::kit::Authenticated, super::kit::Forbidden, super::kit::NotFound, UploadProblems))]
        pub(crate) async fn $name<S: Store, N: Notifier, C: Clock>(
            State(state): State<AppState<S, N, C>>,
            auth: AuthUser,
            PathId(id): PathId<$id>,
            multipart: Result<Multipart, MultipartRejection>,
        ) -> Result<Response, ApiError> {
            upload_to(state, auth, DocumentParent::$variant(id), multipart).await
        }

        #[doc(hidden)]
        pub(crate) mod $name {
            /// Adds the route to `router`.
            pub(crate) fn mount<S: super::Store, N: super::Notifier, C: super::Clock>(
                router: ::axum::Router<super::AppState<S, N, C>>,
            ) -> ::axum::Router<super::AppState<S, N, C>> {
                router.route(
                    $path,
                    ::axum::routing::post(super::$name::<S, N, C>).layer(super::DefaultBodyLimit::disable()),
                )
            }
        }
    )+};
}

upload_routes! {
    upload_project_document: "/api/v2/projects/{id}/documents", ProjectId, Project, "a project";
    upload_application_document: "/api/v2/applications/{id}/documents", ApplicationId, Application, "an application";
    upload_milestone_document: "/api/v2/milestones/{id}/documents", MilestoneId, Milestone, "a milestone";
    upload_session_document: "/api/v2/sessions/{id}/documents", SessionId, Session, "a mentorship session";
}

/// Uploads a new version of a document (who may attach to what it is attached to): only the
/// `file` part. Earlier versions stay readable.
#[utoipa::path(post, path = "/api/v2/documents/{id}/versions", operation_id = "upload_document_version",
    tag = "documents", security(("bearer" = [])), params(PathId<DocumentId>),
    request_body(content = UploadVersionForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored; the document at its new version", body = DocumentDto),
        super::kit::Authenticated, super::kit::Forbidden, super::kit::NotFound, UploadProblems))]
pub(crate) async fn upload_document_version<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<DocumentId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let multipart = multipart.map_err(not_multipart)?;
    let (eco, ctx) = (&state.eco, &auth.ctx);
    let describe = |_: &BTreeMap<String, String>, filename: String| Ok(filename);
    let document = receive(multipart, describe, |filename: String, body| async move {
        eco.upload_document_version(ctx, id, &filename, body).await
    })
    .await?;
    Ok(created(&document))
}

#[doc(hidden)]
pub(crate) mod upload_document_version {
    /// Adds the route to `router`.
    pub(crate) fn mount<S: super::Store, N: super::Notifier, C: super::Clock>(
        router: ::axum::Router<super::AppState<S, N, C>>,
    ) -> ::axum::Router<super::AppState<S, N, C>> {
        router.route(
            "/api/v2/documents/{id}/versions",
            ::axum::routing::post(super::upload_document_version::<S, N, C>).layer(super::DefaultBodyLimit::disable()),
        )
    }
}

/// `?version` of a download.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ContentQuery {
    /// The version to download (default: the current one).
    #[param(minimum = 1)]
    version: Option<u32>,
}

/// A single `Range: bytes=<start>-[<end>]` as a half-open range; `None` for no header or one
/// this server ignores (several ranges, suffix ranges), which RFC 9110 allows: the answer is
/// then the whole content.
fn requested_range(headers: &HeaderMap) -> Option<std::ops::Range<u64>> {
    let value = headers.get(header::RANGE)?.to_str().ok()?;
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => u64::MAX,
        end => end.parse::<u64>().ok()?.checked_add(1)?,
    };
    Some(start..end)
}

/// `attachment` with the name as plain ASCII (anything else becomes `_`) and as UTF-8 per RFC
/// 5987, so no name can break out of the header or suggest a path.
fn content_disposition(filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Downloads a document's bytes (the current version, or `?version`), streamed: `Content-Disposition:
/// attachment`, `X-Content-Type-Options: nosniff`, the SHA-256 as `ETag`, and one `Range`
/// (206 with `Content-Range`; 416 past the end). Audited `document.download`.
#[utoipa::path(get, path = "/api/v2/documents/{id}/content", operation_id = "download_document",
    tag = "documents", security(("bearer" = [])), params(PathId<DocumentId>, ContentQuery),
    responses(
        // The media type sniffed at upload: one of `rules::documents::allowed_media_types()`
        // (a test holds the two lists equal).
        (status = 200, description = "The bytes, as the media type sniffed at upload", content(
            (FileBytes = "application/pdf"), (FileBytes = "application/msword"),
            (FileBytes = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (FileBytes = "image/jpeg"), (FileBytes = "image/png"))),
        (status = 206, description = "The requested range, with `Content-Range`", content(
            (FileBytes = "application/pdf"), (FileBytes = "application/msword"),
            (FileBytes = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (FileBytes = "image/jpeg"), (FileBytes = "image/png"))),
        (status = 416, description = "The range starts past the end (`range_not_satisfiable`); `Content-Range: bytes */<size>`"),
        super::kit::Authenticated, super::kit::NotFound, super::kit::BadInput))]
pub(crate) async fn download_document<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    PathId(id): PathId<DocumentId>,
    ApiQuery(query): ApiQuery<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let range = requested_range(&headers);
    let partial = range.is_some();
    let download = match state.eco.download_document(&auth.ctx, id, query.version, range).await {
        Ok(download) => download,
        Err(Error::RangeNotSatisfiable { size }) => {
            let mut response = ApiError::from(Error::RangeNotSatisfiable { size }).into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
        Err(error) => return Err(error.into()),
    };
    let read = download.read;
    let mut response = Response::new(Body::from_stream(read.body));
    *response.status_mut() = if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let h = response.headers_mut();
    let content_type = HeaderValue::from_str(&download.file.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(read.range.end - read.range.start),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&download.file.filename),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", download.file.sha256)) {
        h.insert(header::ETAG, etag);
    }
    if partial
        && let Ok(value) = HeaderValue::from_str(&format!(
            "bytes {}-{}/{}",
            read.range.start,
            read.range.end - 1,
            read.size
        ))
    {
        h.insert(header::CONTENT_RANGE, value);
    }
    Ok(response)
}
super::kit::mount!(download_document: get "/api/v2/documents/{id}/content");

lists! {
    tag = "documents";
    /// The documents of a project the caller may read, newest first.
    list_project_documents: "/api/v2/projects/{id}/documents", PathId<ProjectId>, PageQuery => DocumentDto, [NotFound],
        |eco, ctx, PathId(id), (), page| eco.list_documents(ctx, DocumentParent::Project(id), page);
    /// The documents of an application the caller may read, newest first (a blind view lists
    /// only those marked `blind_safe`).
    list_application_documents: "/api/v2/applications/{id}/documents", PathId<ApplicationId>, PageQuery => DocumentDto, [NotFound],
        |eco, ctx, PathId(id), (), page| eco.list_documents(ctx, DocumentParent::Application(id), page);
    /// The documents of a milestone the caller may read, newest first.
    list_milestone_documents: "/api/v2/milestones/{id}/documents", PathId<MilestoneId>, PageQuery => DocumentDto, [NotFound],
        |eco, ctx, PathId(id), (), page| eco.list_documents(ctx, DocumentParent::Milestone(id), page);
    /// The documents of a mentorship session the caller may read, newest first.
    list_session_documents: "/api/v2/sessions/{id}/documents", PathId<SessionId>, PageQuery => DocumentDto, [NotFound],
        |eco, ctx, PathId(id), (), page| eco.list_documents(ctx, DocumentParent::Session(id), page);
}

reads! {
    tag = "documents";
    /// A document's metadata (404 for one the caller may not read).
    get_document: "/api/v2/documents/{id}", DocumentId => DocumentDto, |eco, ctx, id| eco.get_document(ctx, id);
}

routes! {
    tag = "documents";
    /// Deletes a document (its uploader, the participants of what it is attached to, admins):
    /// it disappears from reads and lists. Audited `document.delete`.
    delete_document: delete "/api/v2/documents/{id}", PathId<DocumentId>, NoIfMatch, none
        => empty(204, "Deleted") [Forbidden, NotFound],
        |eco, ctx, PathId(id), _, _| eco.delete_document(ctx, id);
    /// Every version of a document, newest first (`next_cursor` is always null).
    list_document_versions: get "/api/v2/documents/{id}/versions", PathId<DocumentId>, NoIfMatch, none
        => json(200, "The versions", PageDto<DocumentVersionDto>) [NotFound],
        |eco, ctx, PathId(id), _, _| eco.list_document_versions(ctx, id);
}

api!(
    [
        upload_project_document,
        upload_application_document,
        upload_milestone_document,
        upload_session_document,
        list_project_documents,
        list_application_documents,
        list_milestone_documents,
        list_session_documents,
        get_document,
        delete_document,
        download_document,
        list_document_versions,
        upload_document_version,
    ],
    components(
        schemas(
            DocumentDto,
            DocumentVersionDto,
            UploadDocumentForm,
            UploadVersionForm,
            PageDto<DocumentDto>,
            PageDto<DocumentVersionDto>,
        ),
    ),
    tags((
        name = "documents",
        description = "Documents attached to projects, applications, milestones and sessions, their versions and bytes"
    ))
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_paths_are_recognized_by_their_end() {
        for path in [
            "/api/v2/projects/x/documents",
            "/api/v2/applications/x/documents/",
            "/prefix/api/v2/sessions/x/documents",
            "/api/v2/documents/x/versions",
        ] {
            assert!(is_upload_path(path), "{path}");
        }
        for path in [
            "/api/v2/documents/x",
            "/api/v2/documents/x/content",
            "/api/v2/users/x/documents",
            "/api/v2/projects",
        ] {
            assert!(!is_upload_path(path), "{path}");
        }
    }

    #[test]
    fn a_download_documents_every_media_type_an_upload_can_have() {
        let doc = crate::openapi::document();
        let value = serde_json::to_value(&doc).unwrap();
        let responses = &value["paths"]["/api/v2/documents/{id}/content"]["get"]["responses"];
        let allowed: Vec<&str> = icosistem_core::rules::documents::allowed_media_types().collect();
        for status in ["200", "206"] {
            let documented: Vec<&str> = responses[status]["content"]
                .as_object()
                .unwrap_or_else(|| panic!("{status} has no content"))
                .keys()
                .map(String::as_str)
                .collect();
            let mut expected = allowed.clone();
            expected.sort_unstable();
            let mut documented = documented;
            documented.sort_unstable();
            assert_eq!(documented, expected, "status {status}");
        }
    }

    #[test]
    fn ranges_and_dispositions_are_safe() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=2-5"));
        assert_eq!(requested_range(&headers), Some(2..6));
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=7-"));
        assert_eq!(requested_range(&headers), Some(7..u64::MAX));
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=0-1,4-5"));
        assert_eq!(requested_range(&headers), None);
        let value = content_disposition("Plan \"final\"\r\n.pdf");
        let text = value.to_str().unwrap();
        assert!(
            text.starts_with("attachment; filename=\"Plan _final___.pdf\""),
            "{text}"
        );
        assert!(!text.contains('\r'));
    }
}
