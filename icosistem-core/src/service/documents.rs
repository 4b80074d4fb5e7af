//! Documents (docs/domain.md §6): upload, new version, read, list, download, delete, and the
//! orphan blob sweep.
//!
//! Bytes and metadata live in two places that cannot share a transaction, so the order is
//! fixed: the bytes go to the blob store first, under a key the core makes up
//! (`documents/<document id>/<version id>`), then the metadata and its audit event commit in one
//! unit of work. If that unit of work is refused (the project is full, the caller lost their
//! rights meanwhile, the store fails), the blob is deleted before answering; if the process dies
//! in between, the blob has no version row and [`Ecosystem::sweep_orphan_blobs`] removes it once
//! it is older than `Limits::orphan_blob_grace`. A blob with a version row is never an orphan.
//!
//! Who may do what is decided by [`authorize`](crate::policy::authorize) on the facts of what
//! the document is attached to (its parent): participants upload and delete; readers follow the
//! document's access level; a blind view of an application never carries a document the
//! applicant did not mark `blind_safe` — not in a list, not by id, not as content. A document
//! the caller may not read is `NotFound`, so its existence does not leak either.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde_json::json;

use super::{Context, Ecosystem, Notice, Uow};
use crate::error::{Error, Result, ValidationErrors};
use crate::model::{
    Document, DocumentAccess, DocumentId, DocumentParent, DocumentType, DocumentVersion, DocumentVersionId, JobMark,
    OrganizationId, Program, Project, StoredFile,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{
    DocumentFilter, DocumentVersionFilter, JobMarkFilter, Page, PageRequest, Store, Transaction,
};
use crate::ports::{BlobError, BlobKey, BlobRead, BlobStore, Clock, Notifier};
use crate::rules::documents::{PolyglotScan, SNIFF_BYTES, SniffedType, document_filename, sniff};

use super::jobs::JobReport;

/// Where document blobs live in the blob store (the orphan sweep lists only these).
const BLOB_PREFIX: &str = "documents/";

/// A new document: what is attached where, and how it is shown. The bytes come separately, as
/// a stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UploadDocument {
    /// What it is attached to.
    pub parent: DocumentParent,
    /// Title, 1–300 characters.
    pub title: String,
    /// Description, at most 2000 characters.
    pub description: Option<String>,
    /// What it is.
    pub document_type: DocumentType,
    /// Who may read it.
    pub access: DocumentAccess,
    /// Free of the applicant's identity: reviewers of a blind program may read it.
    pub blind_safe: bool,
    /// The file's name as the client gave it (display only; a plain name, never a path).
    pub filename: String,
}

impl UploadDocument {
    /// A private document titled `title` attached to `parent`, named `filename`.
    pub fn new(
        parent: DocumentParent,
        title: impl Into<String>,
        document_type: DocumentType,
        filename: impl Into<String>,
    ) -> Self {
        Self {
            parent,
            title: title.into(),
            description: None,
            document_type,
            access: DocumentAccess::Private,
            blind_safe: false,
            filename: filename.into(),
        }
    }
}

/// An open download: the document, the version served, and its bytes.
#[derive(Debug)]
pub struct DocumentDownload {
    /// The document as the caller may see it.
    pub document: Document,
    /// The version served (the current one unless another was asked for).
    pub version: u32,
    /// Its file (name, type, size, SHA-256).
    pub file: StoredFile,
    /// The bytes, or the requested range of them.
    pub read: BlobRead,
}

/// How the caller relates to a document's parent.
struct ParentStanding {
    facts: Facts,
    /// The caller sees the parent without the applicant's identity (blind program or round).
    blind: bool,
    /// The application's program, for its staff's notification and the audit's organization.
    program: Option<Program>,
}

impl ParentStanding {
    fn organization_id(&self) -> Option<OrganizationId> {
        self.program.as_ref().map(|p| p.organization_id)
    }

    /// The facts for `action` on `document` (or on a new document, `None`).
    fn facts_for(&self, ctx: &Context, document: Option<&Document>) -> Facts {
        let mut facts = self.facts;
        if let Some(document) = document {
            facts.owner |= ctx.actor.user_id() == Some(document.owner_id);
            facts.document_access = document.access;
            facts.identity_withheld = self.blind && !document.blind_safe;
        }
        facts
    }
}

impl<T: Transaction> Uow<T> {
    /// The caller's standing towards `parent`; `NotFound` when they may not see it at all.
    /// `lock` locks the project row of a project parent (the guard of its document count).
    async fn parent_standing(&mut self, parent: DocumentParent, lock: bool) -> Result<ParentStanding> {
        let actor = self.ctx.actor;
        let project_standing = |facts: Facts| -> Result<ParentStanding> {
            authorize(&actor, Action::ViewProject, &facts).map_err(|_| Error::not_found("project", parent.id()))?;
            Ok(ParentStanding {
                facts,
                blind: false,
                program: None,
            })
        };
        match parent {
            DocumentParent::Project(id) => {
                let project: Project = if lock {
                    self.load_for_update(id).await?
                } else {
                    self.load(id).await?
                };
                let facts = self.project_facts(&project).await?;
                project_standing(facts)
            }
            DocumentParent::Milestone(id) => {
                let milestone = self.load(id).await?;
                let project: Project = self
                    .get(milestone.project_id)
                    .await?
                    .ok_or_else(|| Error::not_found("milestone", id))?;
                let facts = self.project_facts(&project).await?;
                project_standing(facts).map_err(|_| Error::not_found("milestone", id))
            }
            DocumentParent::Application(id) => {
                let app = self.load(id).await?;
                let program: Program = self.load(app.program_id).await?;
                let standing = self.standing(&app, &program).await?;
                authorize(&actor, Action::ViewApplication, &standing.facts)
                    .map_err(|_| Error::not_found("application", id))?;
                Ok(ParentStanding {
                    facts: standing.facts,
                    blind: standing.blind.blind,
                    program: Some(program),
                })
            }
            DocumentParent::Session(id) => {
                let session = self.load(id).await?;
                let party = actor.user_id().is_some_and(|me| session.involves(me));
                if !party && !actor.is_admin() && actor.user_id().is_some() {
                    return Err(Error::not_found("session", id));
                }
                Ok(ParentStanding {
                    facts: Facts::owned(party),
                    blind: false,
                    program: None,
                })
            }
        }
    }

    /// A live document the caller may read, with their standing towards its parent; `NotFound`
    /// otherwise (a document one may not read does not exist for them).
    async fn readable_document(&mut self, id: DocumentId, lock: bool) -> Result<(Document, ParentStanding)> {
        let document: Document = if lock {
            self.load_for_update(id).await?
        } else {
            self.load(id).await?
        };
        let standing = match self.parent_standing(document.parent(), false).await {
            Ok(standing) => standing,
            // One who cannot see the parent has no relation to it: only a `public` document
            // is theirs to read.
            Err(Error::NotFound { .. }) => ParentStanding {
                facts: Facts::none(),
                blind: false,
                program: None,
            },
            Err(other) => return Err(other),
        };
        authorize(
            &self.ctx.actor,
            Action::ReadDocument,
            &standing.facts_for(&self.ctx, Some(&document)),
        )
        .map_err(|_| Error::not_found("document", id))?;
        Ok((document, standing))
    }
}

/// A checked title and description (both fields reported together).
fn check_text(errors: &mut ValidationErrors, title: &str, description: Option<&str>) -> (String, Option<String>) {
    let title = errors
        .check(crate::model::value::bounded_text("title", title, 1, 300))
        .unwrap_or_default();
    let description = errors
        .check(crate::model::value::optional_text("description", description, 2000))
        .flatten();
    (title, description)
}

/// The blob key of one version: both ids are made here, never taken from the client.
fn blob_key(document: DocumentId, version: DocumentVersionId) -> Result<BlobKey> {
    BlobKey::parse(format!(
        "{BLOB_PREFIX}{}/{}",
        document.as_uuid().simple(),
        version.as_uuid().simple()
    ))
    .map_err(Error::Blob)
}

/// The first chunks of `body`, at least [`SNIFF_BYTES`] of them unless the body is shorter,
/// and the rest of the body.
async fn peek<B>(mut body: std::pin::Pin<&mut B>) -> Result<Vec<Bytes>>
where
    B: Stream<Item = std::io::Result<Bytes>> + Send,
{
    let mut head = Vec::new();
    let mut seen = 0;
    while seen < SNIFF_BYTES {
        match body.next().await {
            Some(Ok(chunk)) => {
                seen += chunk.len();
                head.push(chunk);
            }
            Some(Err(error)) => return Err(upload_cut(BlobError::Body(error))),
            None => break,
        }
    }
    Ok(head)
}

/// An upload whose body failed: the client went away, or the adapter stopped it.
fn upload_cut(error: BlobError) -> Error {
    match error {
        BlobError::Body(_) => Error::invalid("file", "the upload was cut short; nothing was stored"),
        other => other.into(),
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Checks the head of an upload and stores all of it under a new key: the sniffed type and
    /// what was stored. Nothing is stored when it is refused.
    async fn store_upload<B>(
        &self,
        filename: &str,
        key: &BlobKey,
        body: B,
    ) -> Result<(SniffedType, crate::ports::StoredBlob)>
    where
        B: Stream<Item = std::io::Result<Bytes>> + Send,
    {
        let mut body = std::pin::pin!(body);
        let head = peek(body.as_mut()).await?;
        // Only the first SNIFF_BYTES are sniffed, however large the first chunks are.
        let head_bytes: Vec<u8> = head.iter().flat_map(|c| c.iter().copied()).take(SNIFF_BYTES).collect();
        if head_bytes.is_empty() {
            return Err(Error::invalid("file", "is empty"));
        }
        let sniffed = sniff(filename, &head_bytes)?;
        drop(head_bytes);
        // The polyglot scan sees every byte on its way to the store; its verdict outlives the
        // stream, so a refusal reads as 415 rather than as a failed body.
        let verdict: Arc<Mutex<Option<Error>>> = Arc::default();
        let mut scan = PolyglotScan::new(sniffed);
        let seen = Arc::clone(&verdict);
        let inspected = futures::stream::iter(head.into_iter().map(Ok))
            .chain(body)
            .map(move |chunk| {
                let chunk = chunk?;
                if let Err(refusal) = scan.take(&chunk) {
                    let message = refusal.to_string();
                    *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(refusal);
                    return Err(std::io::Error::other(message));
                }
                Ok(chunk)
            });
        match self.blobs.put(key, inspected, self.limits.max_upload_bytes).await {
            Ok(stored) => Ok((sniffed, stored)),
            Err(error) => {
                let refusal = verdict.lock().unwrap_or_else(|e| e.into_inner()).take();
                Err(refusal.unwrap_or_else(|| upload_cut(error)))
            }
        }
    }

    /// Runs `write` (the metadata's unit of work) and deletes the blob under `key` if it fails,
    /// so a refused upload leaves nothing behind.
    async fn commit_or_discard(
        &self,
        key: &BlobKey,
        write: impl Future<Output = Result<Document>>,
    ) -> Result<Document> {
        match write.await {
            Ok(document) => Ok(document),
            Err(error) => {
                // If this delete fails too, the orphan sweep gets the blob later.
                let _ = self.blobs.delete(key).await;
                Err(error)
            }
        }
    }

    /// Attaches a new document to `input.parent` (who may edit the parent: its participants and
    /// admins). The bytes are streamed to the blob store, at most `Limits::max_upload_bytes`
    /// (`PayloadTooLarge` past it), typed by their content (`UnsupportedMediaType` unless pdf,
    /// doc, docx, jpg/jpeg or png agreeing with the file name's extension, or a polyglot); an
    /// empty file is a validation error on `file`. A project holds at most
    /// `Limits::max_documents_per_project` live documents (checked under the project's lock, so
    /// concurrent uploads never pass it). Audited `document.upload`; a document attached to an
    /// application notifies the program's staff.
    pub async fn upload_document<B>(&self, ctx: &Context, input: UploadDocument, body: B) -> Result<Document>
    where
        B: Stream<Item = std::io::Result<Bytes>> + Send,
    {
        let mut errors = ValidationErrors::new();
        let (title, description) = check_text(&mut errors, &input.title, input.description.as_deref());
        let filename = errors.check(document_filename(&input.filename)).unwrap_or_default();
        errors.into_result()?;
        // Refuse early whoever may not attach here, before reading a byte of the body.
        {
            let mut uow = self.uow(ctx).await?;
            let standing = uow.parent_standing(input.parent, false).await?;
            authorize(&ctx.actor, Action::UploadDocument, &standing.facts_for(ctx, None))?;
        }
        let id = DocumentId::from(self.ids.new_uuid());
        let version_id = DocumentVersionId::from(self.ids.new_uuid());
        let key = blob_key(id, version_id)?;
        let (sniffed, stored) = self.store_upload(&filename, &key, body).await?;
        let file = StoredFile {
            filename,
            content_type: sniffed.mime.to_owned(),
            size: stored.size,
            sha256: stored.sha256_hex(),
            storage_key: key.to_string(),
        };
        let write = async {
            let mut uow = self.uow(ctx).await?;
            let lock = matches!(input.parent, DocumentParent::Project(_));
            let standing = uow.parent_standing(input.parent, lock).await?;
            authorize(&ctx.actor, Action::UploadDocument, &standing.facts_for(ctx, None))?;
            if lock {
                let held = uow.count(&DocumentFilter::of(input.parent)).await?;
                let max = self.limits.max_documents_per_project;
                if held >= u64::from(max) {
                    return Err(Error::invalid(
                        "file",
                        format!("the project already holds the most documents allowed ({max})"),
                    ));
                }
            }
            let document = Document {
                id,
                owner_id: ctx.user_id("document.upload")?,
                parent_type: input.parent.kind(),
                parent_id: input.parent.id(),
                title,
                description,
                document_type: input.document_type,
                access: input.access,
                blind_safe: input.blind_safe,
                file_version: 1,
                file: file.clone(),
                meta: uow.meta(),
                deletion: Default::default(),
            };
            uow.insert(&document).await?;
            uow.insert(&DocumentVersion {
                id: version_id,
                document_id: id,
                number: 1,
                file,
                meta: uow.meta(),
            })
            .await?;
            uow.audit(
                "document.upload",
                "document",
                id,
                standing.organization_id(),
                None,
                Some(audit_data(&document)),
            )
            .await?;
            if let Some(program) = &standing.program {
                // Staff learn that something arrived, not what it is called: the title may
                // carry the applicant's name in a blind program.
                uow.notify_staff(
                    program,
                    Notice::new(
                        "document_attached",
                        format!("New document on an application to {}", program.name),
                        format!("A document was attached to an application to {}.", program.name),
                        json!({
                            "document_id": id,
                            "application_id": document.parent_id,
                            "program_id": program.id,
                        }),
                    ),
                )
                .await?;
            }
            uow.commit().await?;
            Ok(document)
        };
        self.commit_or_discard(&key, write).await
    }

    /// Uploads a new version of a document (who may attach to its parent); the earlier versions
    /// stay readable. Same checks on the bytes as [`Ecosystem::upload_document`]; audited
    /// `document.upload` with the version number.
    pub async fn upload_document_version<B>(
        &self,
        ctx: &Context,
        id: DocumentId,
        filename: &str,
        body: B,
    ) -> Result<Document>
    where
        B: Stream<Item = std::io::Result<Bytes>> + Send,
    {
        let filename = document_filename(filename).map_err(|e| Error::Validation(e.into()))?;
        {
            let mut uow = self.uow(ctx).await?;
            let (_, standing) = uow.readable_document(id, false).await?;
            authorize(&ctx.actor, Action::UploadDocument, &standing.facts_for(ctx, None))?;
        }
        let version_id = DocumentVersionId::from(self.ids.new_uuid());
        let key = blob_key(id, version_id)?;
        let (sniffed, stored) = self.store_upload(&filename, &key, body).await?;
        let write = async {
            let mut uow = self.uow(ctx).await?;
            // The lock orders concurrent new versions: each numbers itself after the last.
            let (mut document, standing) = uow.readable_document(id, true).await?;
            authorize(&ctx.actor, Action::UploadDocument, &standing.facts_for(ctx, None))?;
            let number = document.file_version + 1;
            let file = StoredFile {
                filename,
                content_type: sniffed.mime.to_owned(),
                size: stored.size,
                sha256: stored.sha256_hex(),
                storage_key: key.to_string(),
            };
            uow.insert(&DocumentVersion {
                id: version_id,
                document_id: id,
                number,
                file: file.clone(),
                meta: uow.meta(),
            })
            .await?;
            let before = audit_data(&document);
            document.file_version = number;
            document.file = file;
            let document = uow.update(document).await?;
            uow.audit(
                "document.upload",
                "document",
                id,
                standing.organization_id(),
                Some(before),
                Some(audit_data(&document)),
            )
            .await?;
            uow.commit().await?;
            Ok(document)
        };
        self.commit_or_discard(&key, write).await
    }

    /// A document the caller may read (`NotFound` otherwise, also for a blind reviewer and a
    /// document not `blind_safe`).
    pub async fn get_document(&self, ctx: &Context, id: DocumentId) -> Result<Document> {
        let mut uow = self.uow(ctx).await?;
        let (document, _) = uow.readable_document(id, false).await?;
        uow.commit().await?;
        Ok(document)
    }

    /// The documents of `parent` the caller may read, newest first (`NotFound` when the caller
    /// may not see the parent). A page may hold fewer than `limit` rows when some on it are not
    /// the caller's to read; its cursor still continues after the last row examined.
    pub async fn list_documents(
        &self,
        ctx: &Context,
        parent: DocumentParent,
        page: PageRequest,
    ) -> Result<Page<Document>> {
        let mut uow = self.uow(ctx).await?;
        let standing = uow.parent_standing(parent, false).await?;
        let filter = DocumentFilter {
            // A blind view lists only what the applicant marked safe, in the store's query.
            blind_safe_only: standing.blind,
            ..DocumentFilter::of(parent)
        };
        let mut listed = uow.list(&filter, page).await?;
        listed
            .items
            .retain(|d| authorize(&ctx.actor, Action::ReadDocument, &standing.facts_for(ctx, Some(d))).is_ok());
        uow.commit().await?;
        Ok(listed)
    }

    /// Every version of a document the caller may read, newest first.
    pub async fn list_document_versions(&self, ctx: &Context, id: DocumentId) -> Result<Vec<DocumentVersion>> {
        let mut uow = self.uow(ctx).await?;
        uow.readable_document(id, false).await?;
        let mut versions = uow
            .all(&DocumentVersionFilter {
                document_id: Some(id),
                ..Default::default()
            })
            .await?;
        versions.sort_by_key(|v| std::cmp::Reverse(v.number));
        uow.commit().await?;
        Ok(versions)
    }

    /// Opens a document's bytes (the current version, or `version`), or `range` of them, for a
    /// caller who may read it. Audited `document.download` before the bytes flow.
    /// `RangeNotSatisfiable` for a range past the end; `NotFound` for an unknown version.
    pub async fn download_document(
        &self,
        ctx: &Context,
        id: DocumentId,
        version: Option<u32>,
        range: Option<Range<u64>>,
    ) -> Result<DocumentDownload> {
        let mut uow = self.uow(ctx).await?;
        let (document, standing) = uow.readable_document(id, false).await?;
        let (number, file) = match version {
            None => (document.file_version, document.file.clone()),
            Some(number) => {
                let versions = uow
                    .all(&DocumentVersionFilter {
                        document_id: Some(id),
                        ..Default::default()
                    })
                    .await?;
                let found = versions
                    .into_iter()
                    .find(|v| v.number == number)
                    .ok_or_else(|| Error::not_found("document_version", number))?;
                (number, found.file)
            }
        };
        let key = BlobKey::parse(file.storage_key.as_str()).map_err(Error::Blob)?;
        let read = self.blobs.get(&key, range).await?;
        uow.audit(
            "document.download",
            "document",
            id,
            standing.organization_id(),
            None,
            Some(json!({ "version": number, "range": read.range.start != 0 || read.range.end != read.size })),
        )
        .await?;
        uow.commit().await?;
        Ok(DocumentDownload {
            document,
            version: number,
            file,
            read,
        })
    }

    /// Soft-deletes a document (its uploader, the participants of its parent, admins): it
    /// disappears from lists and reads; its versions and bytes stay for the audit trail.
    /// Audited `document.delete`.
    pub async fn delete_document(&self, ctx: &Context, id: DocumentId) -> Result<()> {
        let mut uow = self.uow(ctx).await?;
        let (mut document, standing) = uow.readable_document(id, true).await?;
        authorize(
            &ctx.actor,
            Action::DeleteDocument,
            &standing.facts_for(ctx, Some(&document)),
        )?;
        let before = audit_data(&document);
        document.deletion.deleted_at = Some(uow.now);
        document.deletion.deleted_by = ctx.actor.user_id();
        uow.update(document).await?;
        uow.audit(
            "document.delete",
            "document",
            id,
            standing.organization_id(),
            Some(before),
            None,
        )
        .await?;
        uow.commit().await
    }

    /// The orphan blob sweep (a job): removes the document blobs that no version row names and
    /// that are older than `Limits::orphan_blob_grace` (younger ones may belong to an upload
    /// whose metadata is about to commit), and what interrupted uploads left behind. Runs at
    /// most once per clock hour (a job mark), since it lists the whole blob store.
    pub async fn sweep_orphan_blobs(&self) -> Result<JobReport> {
        let ctx = Context::system();
        let now = self.clock.now();
        let mut report = JobReport::default();
        let mark_key = format!("orphan_blobs:{}", now.format("%Y-%m-%dT%H"));
        let mark = JobMarkFilter {
            key: Some(mark_key.clone()),
        };
        {
            let mut uow = self.uow(&ctx).await?;
            if uow.count(&mark).await? > 0 {
                return Ok(report);
            }
        }
        let cutoff = now - self.limits.orphan_blob_grace;
        let mut entries = self.blobs.list(BLOB_PREFIX);
        while let Some(entry) = entries.next().await {
            let entry = entry?;
            if entry.last_modified > cutoff {
                continue;
            }
            report.examined += 1;
            // One short unit of work per blob: the sweep never holds the store while it walks
            // the blob store.
            let mut uow = self.uow(&ctx).await?;
            let named = uow
                .count(&DocumentVersionFilter {
                    storage_key: Some(entry.key.to_string()),
                    ..Default::default()
                })
                .await?;
            drop(uow);
            if named == 0 {
                self.blobs.delete(&entry.key).await?;
                report.processed += 1;
            }
        }
        let abandoned = self.blobs.remove_abandoned_uploads(cutoff).await?;
        report.processed += u32::try_from(abandoned).unwrap_or(u32::MAX);
        let mut uow = self.uow(&ctx).await?;
        uow.insert(&JobMark {
            id: uow.new_id(),
            key: mark_key,
            at: now,
        })
        .await?;
        uow.commit().await?;
        Ok(report)
    }
}

/// What the audit log keeps of a document: no file name or title, which may name the applicant.
fn audit_data(document: &Document) -> serde_json::Value {
    json!({
        "parent_type": document.parent_type,
        "parent_id": document.parent_id,
        "document_type": document.document_type,
        "access": document.access,
        "blind_safe": document.blind_safe,
        "file_version": document.file_version,
        "content_type": document.file.content_type,
        "size": document.file.size,
        "sha256": document.file.sha256,
    })
}
