//! Documents over HTTP on the memory store: a multipart upload, its metadata, the streamed
//! download (attachment, nosniff, the SHA-256 as `ETag`, one `Range`), versions, delete — and
//! the hostile-upload table of `icosistem_http::routes::documents`: each hostile upload gets its
//! documented status and problem code and leaves neither a document row nor a blob.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use futures::StreamExt;
use http_body_util::BodyExt;
use icosistem_core::model::{DocumentParent, Project};
use icosistem_core::ports::BlobStore;
use icosistem_core::ports::store::DocumentFilter;
use icosistem_core::testing::cases::pdf;
use tower::ServiceExt;

use crate::common::{App, INVALID, NOT_FOUND, Problem, Reply, multipart};

type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn form<'a>(filename: &'a str, bytes: &'a [u8]) -> Vec<Part<'a>> {
    vec![
        ("title", None, b"Pitch deck"),
        ("document_type", None, b"pitch_deck"),
        ("access", None, b"organization"),
        ("file", Some(filename), bytes),
    ]
}

async fn owner_and_project(app: &App) -> (String, Project) {
    let owner = app.world.entrepreneur().await;
    let project = app.world.project(&owner).await;
    (app.token(&owner), project)
}

/// The raw answer of a `GET` (the download's bytes are not JSON).
async fn raw_get(
    app: &App,
    path: &str,
    token: &str,
    range: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut builder = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(range) = range {
        builder = builder.header(header::RANGE, range);
    }
    let response = app
        .router
        .clone()
        .oneshot(builder.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

#[tokio::test]
async fn an_upload_is_read_downloaded_versioned_and_deleted() {
    let app = App::new().await;
    let (token, project) = owner_and_project(&app).await;
    let deck = pdf("the deck");
    let created = app
        .upload(
            &format!("/api/v2/projects/{}/documents", project.id),
            Some(&token),
            &form("Pitch deck (final).pdf", &deck),
        )
        .await;
    let body = created.ok(StatusCode::CREATED).clone();
    let id = created.id();
    assert_eq!(created.headers[header::LOCATION], format!("/api/v2/documents/{id}"));
    assert_eq!(body["content_type"], "application/pdf");
    assert_eq!(body["size"], deck.len());
    assert_eq!(body["access"], "organization");
    assert_eq!(body["file_version"], 1);
    assert!(body.get("storage_key").is_none(), "the key stays on the server");
    let sha = body["sha256"].as_str().expect("sha256").to_owned();

    app.get(&format!("/api/v2/documents/{id}"), &token)
        .await
        .ok(StatusCode::OK);
    let listed = app
        .get(&format!("/api/v2/projects/{}/documents", project.id), &token)
        .await;
    assert_eq!(listed.ok(StatusCode::OK)["items"][0]["id"], id.as_str());

    let content = format!("/api/v2/documents/{id}/content");
    let (status, headers, bytes) = raw_get(&app, &content, &token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, deck);
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::ETAG], format!("\"{sha}\"").as_str());
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"Pitch deck _final_.pdf\""),
        "{disposition}"
    );

    let (status, headers, bytes) = raw_get(&app, &content, &token, Some("bytes=1-3")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(bytes, b"PDF");
    assert_eq!(
        headers[header::CONTENT_RANGE],
        format!("bytes 1-3/{}", deck.len()).as_str()
    );
    let (status, headers, _) = raw_get(&app, &content, &token, Some("bytes=100000-")).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        headers[header::CONTENT_RANGE],
        format!("bytes */{}", deck.len()).as_str()
    );

    let second = pdf("the deck, revised");
    let file: [Part; 1] = [("file", Some("deck-v2.pdf"), &second)];
    let v2 = app
        .upload(&format!("/api/v2/documents/{id}/versions"), Some(&token), &file)
        .await;
    assert_eq!(v2.ok(StatusCode::CREATED)["file_version"], 2);
    let versions = app.get(&format!("/api/v2/documents/{id}/versions"), &token).await;
    let numbers: Vec<_> = versions.ok(StatusCode::OK)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    let (_, _, first) = raw_get(&app, &format!("{content}?version=1"), &token, None).await;
    assert_eq!(first, deck, "the earlier version stays readable");

    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v2/documents/{id}"),
            None,
            Some(&token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.raw);
    app.get_refused(&format!("/api/v2/documents/{id}"), &token, NOT_FOUND)
        .await;
}

/// Every hostile upload of the table in `icosistem_http::routes::documents`: its status and
/// code, and nothing stored.
#[tokio::test]
async fn hostile_uploads_get_their_4xx_and_store_nothing() {
    let app = App::new().await;
    let (token, project) = owner_and_project(&app).await;
    let path = format!("/api/v2/projects/{}/documents", project.id);
    let limit = usize::try_from(app.world.eco.limits().max_upload_bytes).unwrap();

    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0\x78\x00\x40\0".to_vec();
    let mut zip_polyglot = pdf("looks like a deck");
    zip_polyglot.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0payload.class");
    zip_polyglot.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0\x30\0\0\0\x20\0\0\0\0\0");
    let mut html_polyglot = pdf("looks like a deck");
    html_polyglot.extend_from_slice(b"<html><body><script>fetch('/api/v2/users/me')</script></body></html>");
    let mut too_large = pdf("big");
    too_large.resize(limit + 1, b'0');
    let deck = pdf("fine");

    let unsupported: Problem = (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let payload_too_large: Problem = (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let two_files = {
        let mut parts = form("deck.pdf", &deck);
        parts.push(("file", Some("other.pdf"), &deck));
        parts
    };
    let cases: Vec<(&str, Vec<Part>, Problem)> = vec![
        ("renamed executable", form("deck.pdf", &elf), unsupported),
        (
            "PDF carrying a ZIP archive",
            form("deck.pdf", &zip_polyglot),
            unsupported,
        ),
        (
            "PDF carrying HTML and script",
            form("deck.pdf", &html_polyglot),
            unsupported,
        ),
        ("PDF named .png", form("deck.png", &deck), unsupported),
        ("zero-byte file", form("deck.pdf", b""), INVALID),
        ("16 MiB + 1 byte", form("deck.pdf", &too_large), payload_too_large),
        ("a path as the file name", form("../../etc/passwd", &deck), INVALID),
        ("two files", two_files, INVALID),
        ("no file at all", form("deck.pdf", &deck)[..3].to_vec(), INVALID),
    ];
    for (what, parts, problem) in cases {
        let reply: Reply = app.upload(&path, Some(&token), &parts).await;
        assert_eq!(reply.status, problem.0, "{what}: {}", reply.raw);
        reply.refused(problem);
        assert_no_document_and_no_blob(&app, &project, what).await;
    }

    // Not multipart at all: the JSON body the other routes take.
    let json = app
        .post(&path, serde_json::json!({ "title": "Pitch deck" }), &token)
        .await;
    json.refused(unsupported);
    assert_no_document_and_no_blob(&app, &project, "json body").await;

    // A declared length past the upload limit is refused before a byte is read.
    let (content_type, body) = multipart(&form("deck.pdf", &too_large));
    let request = Request::builder()
        .method(Method::POST)
        .uri(&path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, body.len() + 128 * 1024)
        .body(Body::from(body))
        .unwrap();
    app.request(request).await.refused(payload_too_large);
    assert_no_document_and_no_blob(&app, &project, "declared length").await;

    // And the JSON routes keep their 1 MiB limit.
    let big_json = serde_json::json!({ "description": "x".repeat(2 * 1024 * 1024) });
    app.patch(&format!("/api/v2/projects/{}", project.id), big_json, &token, None)
        .await
        .refused(payload_too_large);
}

async fn assert_no_document_and_no_blob(app: &App, project: &Project, what: &str) {
    let rows = app
        .world
        .count(DocumentFilter {
            include_deleted: true,
            ..DocumentFilter::of(DocumentParent::Project(project.id))
        })
        .await;
    assert_eq!(rows, 0, "{what}: a document row remains");
    let blobs = app.world.eco.blob_store().list("").count().await;
    assert_eq!(blobs, 0, "{what}: a blob remains");
}
