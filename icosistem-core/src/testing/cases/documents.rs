//! Documents (docs/domain.md §6): upload, versions, reads by access level, blind review, the
//! per-project limit under concurrency, refused uploads leaving nothing behind, soft delete and
//! the orphan blob sweep.

use bytes::Bytes;
use chrono::Duration;
use futures::{Stream, StreamExt};

use crate::Limits;
use crate::error::Error;
use crate::model::*;
use crate::ports::store::*;
use crate::ports::{BlobKey, BlobStore, RecordingNotifier, Store};
use crate::service::UploadDocument;
use crate::testing::fixtures::*;

/// A small PDF whose body says `marker` (so versions differ).
pub fn pdf(marker: &str) -> Vec<u8> {
    format!("%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Marker ({marker}) >>\nendobj\ntrailer\n%%EOF\n").into_bytes()
}

/// `bytes` as an upload body, in chunks of 1000 bytes.
fn body(bytes: Vec<u8>) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let chunks: Vec<_> = bytes.chunks(1000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    futures::stream::iter(chunks)
}

fn input(parent: DocumentParent, access: DocumentAccess, blind_safe: bool) -> UploadDocument {
    let mut input = UploadDocument::new(parent, "Pitch deck", DocumentType::PitchDeck, "deck.pdf");
    input.access = access;
    input.blind_safe = blind_safe;
    input
}

async fn blob_count<S: Store>(world: &World<S>) -> usize {
    world.eco.blob_store().list("").count().await
}

fn assert_document_not_found<T: std::fmt::Debug>(result: crate::error::Result<T>) {
    match result {
        Err(Error::NotFound { entity: "document", .. }) => {}
        other => panic!("expected NotFound document, got {other:?}"),
    }
}

/// An upload stores the bytes (size and SHA-256 computed on the way, type sniffed), audits
/// `document.upload`; a new version numbers itself n+1 and the earlier one stays readable;
/// downloads (whole or a range) are audited `document.download`; a soft delete hides the
/// document from reads and lists but keeps its versions' bytes.
pub async fn documents_upload_version_download_and_soft_delete<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let parent = DocumentParent::Project(project.id);

    let doc = world
        .eco
        .upload_document(
            &owner.ctx,
            input(parent, DocumentAccess::Private, false),
            body(pdf("one")),
        )
        .await
        .expect("upload");
    assert_eq!(doc.file_version, 1);
    assert_eq!(doc.file.content_type, "application/pdf");
    assert_eq!(doc.file.size, pdf("one").len() as u64);
    assert_eq!(doc.file.filename, "deck.pdf");
    assert!(doc.file.storage_key.starts_with("documents/"));
    assert_eq!(world.row(doc.id).await.as_ref(), Some(&doc));
    world.audited("document.upload", doc.id).await;

    let v2 = world
        .eco
        .upload_document_version(&owner.ctx, doc.id, "deck-v2.pdf", body(pdf("two, longer")))
        .await
        .expect("new version");
    assert_eq!(v2.file_version, 2);
    assert_eq!(v2.file.filename, "deck-v2.pdf");
    assert_ne!(v2.file.storage_key, doc.file.storage_key);
    let versions = world.eco.list_document_versions(&owner.ctx, doc.id).await.unwrap();
    assert_eq!(versions.iter().map(|v| v.number).collect::<Vec<_>>(), [2, 1]);

    let current = world
        .eco
        .download_document(&owner.ctx, doc.id, None, None)
        .await
        .unwrap();
    assert_eq!(current.version, 2);
    assert_eq!(current.read.collect().await.unwrap(), Bytes::from(pdf("two, longer")));
    let first = world
        .eco
        .download_document(&owner.ctx, doc.id, Some(1), None)
        .await
        .unwrap();
    assert_eq!(first.file.sha256, doc.file.sha256);
    assert_eq!(first.read.collect().await.unwrap(), Bytes::from(pdf("one")));
    let part = world
        .eco
        .download_document(&owner.ctx, doc.id, Some(1), Some(0..4))
        .await
        .unwrap();
    assert_eq!(part.read.collect().await.unwrap(), Bytes::from_static(b"%PDF"));
    assert!(matches!(
        world
            .eco
            .download_document(&owner.ctx, doc.id, None, Some(10_000..10_001))
            .await,
        Err(Error::RangeNotSatisfiable { .. })
    ));
    assert!(matches!(
        world.eco.download_document(&owner.ctx, doc.id, Some(3), None).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(world.audit("document.download", doc.id).await.len(), 3);

    let listed = world
        .eco
        .list_documents(&owner.ctx, parent, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(listed.items.iter().map(|d| d.id).collect::<Vec<_>>(), [doc.id]);

    world.eco.delete_document(&owner.ctx, doc.id).await.expect("delete");
    world.audited("document.delete", doc.id).await;
    assert_document_not_found(world.eco.get_document(&owner.ctx, doc.id).await);
    assert_document_not_found(world.eco.download_document(&owner.ctx, doc.id, None, None).await);
    let listed = world
        .eco
        .list_documents(&owner.ctx, parent, PageRequest::first(10))
        .await
        .unwrap();
    assert!(listed.items.is_empty(), "a deleted document is not listed");
    assert_eq!(blob_count(&world).await, 2, "soft delete keeps the versions' bytes");
}

/// Upload is for the participants of the parent; reading follows the access level: `private`
/// for participants, `organization` adds the staff who see the parent, `public` every
/// signed-in user; delete is for the uploader, participants and admins.
pub async fn document_access_follows_the_parent_and_the_level<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world.cohort(ProgramSpec::default()).await;
    let applicant = world.submit(&cohort, &world.entrepreneur().await).await;
    let owner = &applicant.person;
    let parent = DocumentParent::Project(applicant.project.id);
    let stranger = world.entrepreneur().await;
    let staff = &cohort.owner;

    let upload = |access| input(parent, access, false);
    let private = world
        .eco
        .upload_document(&owner.ctx, upload(DocumentAccess::Private), body(pdf("p")))
        .await
        .unwrap();
    let org = world
        .eco
        .upload_document(&owner.ctx, upload(DocumentAccess::Organization), body(pdf("o")))
        .await
        .unwrap();
    let public = world
        .eco
        .upload_document(&owner.ctx, upload(DocumentAccess::Public), body(pdf("u")))
        .await
        .unwrap();

    // Staff of the program the project applies to see the project: organization and public.
    assert_document_not_found(world.eco.get_document(&staff.ctx, private.id).await);
    assert_eq!(world.eco.get_document(&staff.ctx, org.id).await.unwrap().id, org.id);
    let seen = world
        .eco
        .list_documents(&staff.ctx, parent, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(seen.items.iter().map(|d| d.id).collect::<Vec<_>>(), [public.id, org.id]);
    // Staff see the project but are no participants: they attach nothing and delete nothing.
    assert_forbidden(
        &world
            .eco
            .upload_document(&staff.ctx, upload(DocumentAccess::Public), body(pdf("s")))
            .await
            .unwrap_err(),
    );
    assert_forbidden(&world.eco.delete_document(&staff.ctx, org.id).await.unwrap_err());

    // A stranger does not see the (private) project at all, but a public document is public.
    assert!(matches!(
        world
            .eco
            .list_documents(&stranger.ctx, parent, PageRequest::first(10))
            .await,
        Err(Error::NotFound { entity: "project", .. })
    ));
    assert_document_not_found(world.eco.get_document(&stranger.ctx, org.id).await);
    assert_eq!(
        world.eco.get_document(&stranger.ctx, public.id).await.unwrap().id,
        public.id
    );
    assert!(matches!(
        world
            .eco
            .upload_document(&stranger.ctx, upload(DocumentAccess::Public), body(pdf("x")))
            .await,
        Err(Error::NotFound { entity: "project", .. })
    ));

    // Admins read and delete everything.
    assert_eq!(
        world.eco.get_document(&world.admin.ctx, private.id).await.unwrap().id,
        private.id
    );
    world
        .eco
        .delete_document(&world.admin.ctx, private.id)
        .await
        .expect("admin deletes");
    assert_eq!(blob_count(&world).await, 3, "refused uploads stored nothing");
}

/// A blind program's reviewers (and staff, who also see it blind) never receive a document the
/// applicant did not mark `blind_safe`: not listed, not by id, not as content. Safe ones they
/// do read. Attaching a document to an application tells the program's staff.
pub async fn blind_reviewers_never_receive_identity_bearing_documents<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let cohort = world
        .cohort(ProgramSpec {
            blind_review: true,
            ..ProgramSpec::default()
        })
        .await;
    let mut applicant = world.submit(&cohort, &world.entrepreneur().await).await;
    let parent = DocumentParent::Application(applicant.id());
    let owner = applicant.person.clone();
    let identity = world
        .eco
        .upload_document(
            &owner.ctx,
            input(parent, DocumentAccess::Organization, false),
            body(pdf("Jane Doe's deck")),
        )
        .await
        .unwrap();
    let safe = world
        .eco
        .upload_document(
            &owner.ctx,
            input(parent, DocumentAccess::Organization, true),
            body(pdf("anonymous")),
        )
        .await
        .unwrap();
    let notices = world.notifications(cohort.owner.id(), "document_attached").await;
    assert_eq!(notices.len(), 2, "one per document");
    assert!(
        notices.iter().all(|n| !n.body.contains("Pitch deck")),
        "staff are told that, not what: {notices:?}"
    );

    world.review(&cohort, &mut applicant, 80).await;
    for reader in [&cohort.reviewers[0], &cohort.owner] {
        let listed = world
            .eco
            .list_documents(&reader.ctx, parent, PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(listed.items.iter().map(|d| d.id).collect::<Vec<_>>(), [safe.id]);
        assert_document_not_found(world.eco.get_document(&reader.ctx, identity.id).await);
        assert_document_not_found(world.eco.download_document(&reader.ctx, identity.id, None, None).await);
        assert_document_not_found(world.eco.list_document_versions(&reader.ctx, identity.id).await);
        let read = world
            .eco
            .download_document(&reader.ctx, safe.id, None, None)
            .await
            .unwrap();
        assert_eq!(read.read.collect().await.unwrap(), Bytes::from(pdf("anonymous")));
    }
    // The applicant reads both.
    let mine = world
        .eco
        .list_documents(&owner.ctx, parent, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 2);
}

/// 20 uploads racing into one project never take it past `max_documents_per_project`: the
/// count is decided under the project's lock, and every refused upload's blob is gone.
pub async fn concurrent_uploads_never_exceed_max_documents_per_project<S: Store + Clone>(store: S) {
    let limits = Limits {
        max_documents_per_project: 5,
        ..Limits::default()
    };
    let world = World::with_limits(store, std::sync::Arc::new(RecordingNotifier::new()), limits).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let parent = DocumentParent::Project(project.id);
    let uploads = (0..20)
        .map(|n| {
            let (eco, ctx) = (world.eco.clone(), owner.ctx.clone());
            async move {
                eco.upload_document(
                    &ctx,
                    input(parent, DocumentAccess::Private, false),
                    body(pdf(&n.to_string())),
                )
                .await
            }
        })
        .collect();
    let results = race(uploads).await;
    let stored = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(stored, 5, "{results:?}");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_fields(refused, &["file"]);
    }
    assert_eq!(world.count(DocumentFilter::of(parent)).await, 5);
    assert_eq!(blob_count(&world).await, 5, "refused uploads left no blob");
}

/// A refused upload case: file name, bytes, what it is, and the refusal expected.
type RefusedUpload = (&'static str, Vec<u8>, &'static str, fn(&Error) -> bool);

/// An executable named `.pdf`, a polyglot (PDF carrying a ZIP directory, or markup), an empty
/// file and one past `max_upload_bytes` are refused with their own error, and leave neither a
/// row nor a blob.
pub async fn refused_uploads_leave_no_row_and_no_blob<S: Store + Clone>(store: S) {
    let limits = Limits {
        max_upload_bytes: 4096,
        ..Limits::default()
    };
    let world = World::with_limits(store, std::sync::Arc::new(RecordingNotifier::new()), limits).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let parent = DocumentParent::Project(project.id);
    let mut zip_tail = pdf("polyglot");
    zip_tail.extend_from_slice(&[0u8; 2000]);
    zip_tail.extend_from_slice(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let mut markup = pdf("polyglot");
    markup.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let mut too_big = pdf("big");
    too_big.resize(4097, b' ');
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0".to_vec();

    let cases: Vec<RefusedUpload> = vec![
        ("deck.pdf", elf, "renamed executable", |e| {
            matches!(e, Error::UnsupportedMediaType { .. })
        }),
        ("deck.pdf", zip_tail, "zip polyglot", |e| {
            matches!(e, Error::UnsupportedMediaType { .. })
        }),
        ("deck.pdf", markup, "markup polyglot", |e| {
            matches!(e, Error::UnsupportedMediaType { .. })
        }),
        ("deck.png", pdf("x"), "extension disagrees", |e| {
            matches!(e, Error::UnsupportedMediaType { .. })
        }),
        ("deck.pdf", Vec::new(), "empty", |e| matches!(e, Error::Validation(_))),
        ("deck.pdf", too_big, "too large", |e| {
            matches!(e, Error::PayloadTooLarge { limit: 4096 })
        }),
        ("../../etc/passwd", pdf("x"), "path", |e| {
            matches!(e, Error::Validation(_))
        }),
    ];
    for (filename, bytes, what, expected) in cases {
        let mut upload = input(parent, DocumentAccess::Private, false);
        upload.filename = filename.to_owned();
        let error = world
            .eco
            .upload_document(&owner.ctx, upload, body(bytes))
            .await
            .unwrap_err();
        assert!(expected(&error), "{what}: {error:?}");
        assert_eq!(world.count(DocumentFilter::of(parent)).await, 0, "{what}: no row");
        assert_eq!(blob_count(&world).await, 0, "{what}: no blob");
    }
}

/// The orphan sweep removes document blobs no version names once they are older than the grace
/// period, spares younger ones and those with metadata, and runs once per hour.
pub async fn orphan_blobs_are_swept_after_their_grace<S: Store + Clone>(store: S) {
    let world = World::new(store).await;
    let owner = world.entrepreneur().await;
    let project = world.project(&owner).await;
    let kept = world
        .eco
        .upload_document(
            &owner.ctx,
            input(DocumentParent::Project(project.id), DocumentAccess::Private, false),
            body(pdf("k")),
        )
        .await
        .unwrap();
    let blobs = world.eco.blob_store();
    let orphan = BlobKey::parse("documents/orphan/old").unwrap();
    blobs.put(&orphan, body(pdf("o")), 1 << 20).await.unwrap();
    world.advance(Duration::hours(23));
    let young = BlobKey::parse("documents/orphan/young").unwrap();
    blobs.put(&young, body(pdf("y")), 1 << 20).await.unwrap();
    world.advance(Duration::hours(2));

    let report = world.eco.sweep_orphan_blobs().await.unwrap();
    assert_eq!((report.examined, report.processed), (2, 1), "{report:?}");
    assert!(blobs.head(&orphan).await.unwrap().is_none());
    assert!(blobs.head(&young).await.unwrap().is_some(), "inside its grace period");
    let kept_key = BlobKey::parse(kept.file.storage_key.as_str()).unwrap();
    assert!(blobs.head(&kept_key).await.unwrap().is_some(), "named by a version");
    assert_eq!(
        world.eco.sweep_orphan_blobs().await.unwrap().examined,
        0,
        "once per hour"
    );
    world.advance(Duration::hours(23));
    assert_eq!(world.eco.sweep_orphan_blobs().await.unwrap().processed, 1);
    assert!(blobs.head(&young).await.unwrap().is_none());
}
