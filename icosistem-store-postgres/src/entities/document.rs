//! Documents and their versions (`0014_documents.sql`).

use icosistem_core::model::{Deletion, Document, DocumentVersion, Meta, StoredFile};
use icosistem_core::ports::store::{DocumentFilter, DocumentVersionFilter};
use sqlx::{Postgres, QueryBuilder};

use crate::entity::PgEntity;
use crate::mapping::{Columns, filter_eq, pg_mapping};

/// The file columns both tables share. Sizes are bounded by `max_upload_bytes`, far below
/// `i64::MAX`.
impl Columns for StoredFile {
    pg_mapping! {
        filename: value,
        content_type: value,
        size: bigint,
        sha256: value,
        storage_key: value,
    }
}

impl PgEntity for Document {
    pg_mapping! {
        table: "documents",
        id: id,
        owner_id: id,
        parent_type: text,
        parent_id: value,
        title: value,
        description: value,
        document_type: text,
        access: text,
        blind_safe: value,
        file_version: int,
        file: nested(StoredFile),
        meta: nested(Meta),
        deletion: nested(Deletion),
    }

    fn push_filter(f: &DocumentFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, parent_type: text, parent_id: value, owner_id: id);
        if f.blind_safe_only {
            qb.push(" AND blind_safe");
        }
    }

    fn include_deleted(f: &DocumentFilter) -> bool {
        f.include_deleted
    }
}

impl PgEntity for DocumentVersion {
    pg_mapping! {
        table: "document_versions",
        id: id,
        document_id: id,
        number: int,
        file: nested(StoredFile),
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[
        ("document_versions_document_number_key", "document_number"),
        ("document_versions_storage_key_key", "storage_key"),
    ];
    const VERSIONED: bool = false;

    fn push_filter(f: &DocumentVersionFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, document_id: id, storage_key: value);
    }
}
