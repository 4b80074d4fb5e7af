//! Documents and their versions (`0014_documents.sql`).

use icosistem_core::model::{Document, DocumentVersion, StoredFile};
use icosistem_core::ports::store::{DocumentFilter, DocumentVersionFilter};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::identity::{bind_deletion, bind_meta, deletion, filter_eq, meta};
use crate::entity::{PgEntity, parse, sql_int, unsigned};

/// Binds the file columns both tables share (`filename` … `storage_key`, in that order).
fn bind_file(file: &StoredFile, row: &mut Separated<'_, Postgres, &'static str>) {
    // Sizes are bounded by `max_upload_bytes`, far below i64::MAX.
    row.push_bind(file.filename.clone())
        .push_bind(file.content_type.clone())
        .push_bind(i64::try_from(file.size).unwrap_or(i64::MAX))
        .push_bind(file.sha256.clone())
        .push_bind(file.storage_key.clone());
}

fn file(row: &PgRow) -> Result<StoredFile, sqlx::Error> {
    Ok(StoredFile {
        filename: row.try_get("filename")?,
        content_type: row.try_get("content_type")?,
        size: unsigned(row, "size")?,
        sha256: row.try_get("sha256")?,
        storage_key: row.try_get("storage_key")?,
    })
}

impl PgEntity for Document {
    const TABLE: &'static str = "documents";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "owner_id",
        "parent_type",
        "parent_id",
        "title",
        "description",
        "document_type",
        "access",
        "blind_safe",
        "file_version",
        "filename",
        "content_type",
        "size",
        "sha256",
        "storage_key",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
        "deleted_at",
        "deleted_by",
    ];
    const SOFT_DELETE: bool = true;

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.owner_id))
            .push_bind(self.parent_type.as_str())
            .push_bind(self.parent_id)
            .push_bind(self.title.clone())
            .push_bind(self.description.clone())
            .push_bind(self.document_type.as_str())
            .push_bind(self.access.as_str())
            .push_bind(self.blind_safe)
            .push_bind(sql_int(self.file_version));
        bind_file(&self.file, row);
        bind_meta(&self.meta, row);
        bind_deletion(&self.deletion, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Document {
            id: row.try_get::<Uuid, _>("id")?.into(),
            owner_id: row.try_get::<Uuid, _>("owner_id")?.into(),
            parent_type: parse(row, "parent_type")?,
            parent_id: row.try_get("parent_id")?,
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            document_type: parse(row, "document_type")?,
            access: parse(row, "access")?,
            blind_safe: row.try_get("blind_safe")?,
            file_version: unsigned(row, "file_version")?,
            file: file(row)?,
            meta: meta(row)?,
            deletion: deletion(row)?,
        })
    }

    fn push_filter(f: &DocumentFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "parent_type", f.parent_type.map(|k| k.as_str()));
        filter_eq!(qb, "parent_id", f.parent_id);
        filter_eq!(qb, "owner_id", f.owner_id.map(Uuid::from));
        if f.blind_safe_only {
            qb.push(" AND blind_safe");
        }
    }

    fn include_deleted(f: &DocumentFilter) -> bool {
        f.include_deleted
    }
}

impl PgEntity for DocumentVersion {
    const TABLE: &'static str = "document_versions";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "document_id",
        "number",
        "filename",
        "content_type",
        "size",
        "sha256",
        "storage_key",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[
        ("document_versions_document_number_key", "document_number"),
        ("document_versions_storage_key_key", "storage_key"),
    ];
    const VERSIONED: bool = false;

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.document_id))
            .push_bind(sql_int(self.number));
        bind_file(&self.file, row);
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(DocumentVersion {
            id: row.try_get::<Uuid, _>("id")?.into(),
            document_id: row.try_get::<Uuid, _>("document_id")?.into(),
            number: unsigned(row, "number")?,
            file: file(row)?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &DocumentVersionFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "document_id", f.document_id.map(Uuid::from));
        filter_eq!(qb, "storage_key", f.storage_key.clone());
    }
}
