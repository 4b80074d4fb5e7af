//! Documents and their versions (docs/domain.md §6). The storage key never leaves the server.

use chrono::{DateTime, Utc};
use icosistem_core::model::{Document, DocumentVersion};
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::one_of;

/// A document's metadata (its current version's file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DocumentDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Who uploaded it.
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: String,
    /// What it is attached to: `project`, `application`, `milestone` or `session`.
    pub parent_type: String,
    /// The id of what it is attached to.
    #[schema(value_type = String, format = Uuid)]
    pub parent_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// What it is.
    #[schema(schema_with = one_of::<icosistem_core::model::DocumentType>)]
    pub document_type: String,
    /// Who may read it.
    #[schema(schema_with = one_of::<icosistem_core::model::DocumentAccess>)]
    pub access: String,
    /// Free of the applicant's identity (readable by reviewers of a blind program).
    pub blind_safe: bool,
    /// Its current version number, from 1.
    pub file_version: u32,
    /// The file name given at upload (display only).
    pub filename: String,
    /// The media type decided from the content.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes (hex): the content's `ETag`.
    pub sha256: String,
    /// Optimistic-concurrency version of the metadata.
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Document> for DocumentDto {
    fn from(d: &Document) -> Self {
        Self {
            id: d.id.to_string(),
            owner_id: d.owner_id.to_string(),
            parent_type: d.parent_type.as_str().to_owned(),
            parent_id: d.parent_id.to_string(),
            title: d.title.clone(),
            description: d.description.clone(),
            document_type: d.document_type.as_str().to_owned(),
            access: d.access.as_str().to_owned(),
            blind_safe: d.blind_safe,
            file_version: d.file_version,
            filename: d.file.filename.clone(),
            content_type: d.file.content_type.clone(),
            size: d.file.size,
            sha256: d.file.sha256.clone(),
            version: d.meta.version,
            created_at: d.meta.created_at,
            updated_at: d.meta.updated_at,
        }
    }
}

/// One version of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DocumentVersionDto {
    /// Its number, from 1 (`GET …/content?version=<number>` downloads it).
    pub number: u32,
    /// The file name given at upload.
    pub filename: String,
    /// The media type decided from the content.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes (hex).
    pub sha256: String,
    /// Who uploaded it.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub uploaded_by: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<&DocumentVersion> for DocumentVersionDto {
    fn from(v: &DocumentVersion) -> Self {
        Self {
            number: v.number,
            filename: v.file.filename.clone(),
            content_type: v.file.content_type.clone(),
            size: v.file.size,
            sha256: v.file.sha256.clone(),
            uploaded_by: v.meta.created_by.map(|u| u.to_string()),
            created_at: v.meta.created_at,
        }
    }
}

/// The multipart form of an upload (`multipart/form-data`). The text fields come first and
/// `file` last: the file streams to storage as it arrives, so what describes it must be known
/// before it. Exactly one `file`.
#[derive(Debug, ToSchema)]
#[allow(
    dead_code,
    reason = "documents the multipart body; the handler reads the parts as they stream"
)]
// No other parts: the server reads only these names, and documents it so that generated
// clients (and fuzzers) send nothing else.
#[serde(deny_unknown_fields)]
pub struct UploadDocumentForm {
    /// Title, 1–300 characters.
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    /// Description, at most 2000 characters.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// What it is.
    #[schema(schema_with = one_of::<icosistem_core::model::DocumentType>)]
    pub document_type: String,
    /// Who may read it (default `private`).
    #[schema(schema_with = one_of::<icosistem_core::model::DocumentAccess>)]
    pub access: Option<String>,
    /// `true` when it carries nothing of the applicant's identity (default `false`).
    pub blind_safe: Option<bool>,
    /// The file: pdf, doc, docx, jpg/jpeg or png (decided by its content, which must agree with
    /// its name's extension), at most `ICOSISTEM_LIMIT_MAX_UPLOAD_BYTES` (16 MiB).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// The multipart form of a new version: only the file.
#[derive(Debug, ToSchema)]
#[allow(
    dead_code,
    reason = "documents the multipart body; the handler reads the parts as they stream"
)]
// No other parts: the server reads only these names, and documents it so that generated
// clients (and fuzzers) send nothing else.
#[serde(deny_unknown_fields)]
pub struct UploadVersionForm {
    /// The file, as for an upload.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// A document's bytes as a download serves them: the OpenAPI schema of a binary body (`string`,
/// `format: binary`), not an array of numbers.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code, reason = "documents the streamed body of a download")]
pub struct FileBytes(Vec<u8>);
