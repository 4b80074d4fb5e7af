//! Filters of documents and their versions (docs/domain.md §6).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::eq;
use crate::model::*;
use crate::ports::store::Entity;

/// Filter of documents.
#[derive(Debug, Clone, Default)]
pub struct DocumentFilter {
    /// The kind of thing they are attached to (with `parent_id`: one parent's documents).
    pub parent_type: Option<DocumentParentKind>,
    /// The id of the thing they are attached to.
    pub parent_id: Option<Uuid>,
    /// Uploaded first by this user.
    pub owner_id: Option<UserId>,
    /// Only those marked `blind_safe` (what a reviewer of a blind program may list).
    pub blind_safe_only: bool,
    /// Soft-deleted ones too.
    pub include_deleted: bool,
}

impl DocumentFilter {
    /// The live documents attached to `parent`.
    pub fn of(parent: DocumentParent) -> Self {
        Self {
            parent_type: Some(parent.kind()),
            parent_id: Some(parent.id()),
            ..Self::default()
        }
    }
}

impl Entity for Document {
    entity_basics!(DocumentId, DocumentId::KIND, DocumentFilter, |s| s.id, |m| m.meta);
    fn is_deleted(&self) -> bool {
        self.deletion.is_deleted()
    }
    fn matches(&self, f: &DocumentFilter) -> bool {
        eq(&f.parent_type, &self.parent_type)
            && eq(&f.parent_id, &self.parent_id)
            && eq(&f.owner_id, &self.owner_id)
            && (!f.blind_safe_only || self.blind_safe)
            && (f.include_deleted || !self.is_deleted())
    }
}

/// Filter of document versions.
#[derive(Debug, Clone, Default)]
pub struct DocumentVersionFilter {
    /// The versions of this document.
    pub document_id: Option<DocumentId>,
    /// The version whose bytes live under this blob key (how the orphan sweep tells a blob with
    /// metadata from one without).
    pub storage_key: Option<String>,
}

impl Entity for DocumentVersion {
    type Id = DocumentVersionId;
    type Filter = DocumentVersionFilter;
    const KIND: &'static str = DocumentVersionId::KIND;
    fn id(&self) -> DocumentVersionId {
        self.id
    }
    /// Versions are append-only: their row version is always 1.
    fn version(&self) -> u64 {
        1
    }
    fn set_version(&mut self, _version: u64) {}
    fn touch(&mut self, _now: DateTime<Utc>, _by: Option<UserId>) {}
    /// A number names one version of a document, and a blob one version.
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![
            ("document_number", super::pair(self.document_id, self.number)),
            ("storage_key", self.file.storage_key.clone()),
        ]
    }
    fn matches(&self, f: &DocumentVersionFilter) -> bool {
        eq(&f.document_id, &self.document_id) && eq(&f.storage_key, &self.file.storage_key)
    }
}
