//! Uploads (docs/domain.md §6): the file name a client gives, and what a file's bytes must be.
//!
//! The type of an upload is decided by its content (magic bytes, the `infer` crate), never by
//! the name or the client's `Content-Type`; the name's extension must then agree with it. On
//! top of that, an upload is refused as a **polyglot** — a file that is valid as an allowed type
//! and as something dangerous at once — when:
//!
//! - its first [`SNIFF_BYTES`] carry HTML or script markup (`<script`, `<html`, `<iframe`,
//!   `<svg`, `<!doctype html`, `<?php`, `<body`, `<object`, `<embed`): a browser or viewer that
//!   sniffs would run it;
//! - it is a PDF, DOC, JPEG or PNG and its bytes anywhere contain a ZIP end-of-central-directory
//!   record (`PK\x05\x06`): a ZIP/JAR archive rides along and opens with an archive tool or a
//!   JVM. DOCX files are ZIP archives by design and are exempt. The signature is four bytes, so
//!   an honest file carries it by chance about once per 4 GiB of compressed data: for 16 MiB
//!   uploads a false refusal is rare enough to accept for the protection.

use crate::error::{Error, FieldError};

/// How much of the start of an upload is sniffed: enough for a DOCX's first ZIP entries
/// (`[Content_Types].xml`, `word/…`), which is what tells it from any other ZIP.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// Longest file name kept for display, in characters.
pub const FILENAME_MAX_CHARS: usize = 255;

/// One allowed type: its media type and the extensions that may name it.
struct Allowed {
    mime: &'static str,
    extensions: &'static [&'static str],
    /// A ZIP archive by design (its central directory is no sign of a polyglot).
    zip: bool,
}

/// docs/domain.md §6 (the seed's `ALLOWED_EXTENSIONS = pdf, doc, docx, jpg, jpeg, png`).
const ALLOWED: &[Allowed] = &[
    Allowed {
        mime: "application/pdf",
        extensions: &["pdf"],
        zip: false,
    },
    Allowed {
        mime: "application/msword",
        extensions: &["doc"],
        zip: false,
    },
    Allowed {
        mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        extensions: &["docx"],
        zip: true,
    },
    Allowed {
        mime: "image/jpeg",
        extensions: &["jpg", "jpeg"],
        zip: false,
    },
    Allowed {
        mime: "image/png",
        extensions: &["png"],
        zip: false,
    },
];

/// The media types a stored document can have (the allowed types of docs/domain.md §6): what a download's
/// `Content-Type` is one of (the HTTP contract lists them for `GET /documents/{id}/content`).
pub fn allowed_media_types() -> impl Iterator<Item = &'static str> {
    ALLOWED.iter().map(|allowed| allowed.mime)
}

/// Markup that makes a file a polyglot when found in its head (compared ASCII-case-insensitively).
const MARKUP: &[&[u8]] = &[
    b"<script",
    b"<html",
    b"<iframe",
    b"<svg",
    b"<!doctype html",
    b"<?php",
    b"<body",
    b"<object",
    b"<embed",
];

/// A ZIP end-of-central-directory record's signature.
const ZIP_EOCD: &[u8; 4] = b"PK\x05\x06";

/// Checks a client's file name (field `file`): kept for display only, so it must be a plain name
/// — 1 to [`FILENAME_MAX_CHARS`] characters, no path (`/`, `\`), no control characters, not
/// starting with `.` (hidden files, `..`), and with an extension. A name with a path is refused
/// rather than cut to its last segment: a client sending `../../etc/passwd` is not uploading a
/// document.
pub fn document_filename(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    let problem = if name.is_empty() {
        Some("needs a file name")
    } else if name.chars().count() > FILENAME_MAX_CHARS {
        Some("has a file name longer than 255 characters")
    } else if name.contains(['/', '\\']) {
        Some("has a file name with a path in it; send the bare name")
    } else if name.chars().any(char::is_control) {
        Some("has a file name with control characters")
    } else if name.starts_with('.') {
        Some("has a file name starting with `.`")
    } else if extension(name).is_none() {
        Some("has a file name without an extension (pdf, doc, docx, jpg, jpeg, png)")
    } else {
        None
    };
    match problem {
        Some(message) => Err(FieldError::new("file", message)),
        None => Ok(name.to_owned()),
    }
}

/// The lower-cased extension of `name`, if it has one.
fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// The type of an upload whose name is `filename` (checked by [`document_filename`]) and whose
/// first bytes are `head` (at least [`SNIFF_BYTES`] of them, or the whole file when shorter):
/// its media type, and whether it is a ZIP by design. `UnsupportedMediaType` when the content
/// is not an allowed type, disagrees with the extension, or carries markup.
pub fn sniff(filename: &str, head: &[u8]) -> Result<SniffedType, Error> {
    let refuse = |reason: String| Err(Error::UnsupportedMediaType { reason });
    let Some(kind) = infer::get(head) else {
        return refuse("the content is not of an allowed type (pdf, doc, docx, jpg, jpeg, png)".into());
    };
    let Some(allowed) = ALLOWED.iter().find(|a| a.mime == kind.mime_type()) else {
        return refuse(format!(
            "the content is {} ({}), not an allowed type (pdf, doc, docx, jpg, jpeg, png)",
            kind.mime_type(),
            kind.extension()
        ));
    };
    let ext = extension(filename).unwrap_or_default();
    if !allowed.extensions.contains(&ext.as_str()) {
        return refuse(format!(
            "the file name says .{ext} but the content is {}",
            allowed.extensions[0]
        ));
    }
    if let Some(tag) = MARKUP.iter().find(|tag| contains_ignore_case(head, tag)) {
        return refuse(format!(
            "the content carries markup ({}) besides being {}: a polyglot",
            String::from_utf8_lossy(tag),
            allowed.extensions[0]
        ));
    }
    Ok(SniffedType {
        mime: allowed.mime,
        zip: allowed.zip,
    })
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// What [`sniff`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SniffedType {
    /// The media type (`application/pdf`).
    pub mime: &'static str,
    /// A ZIP archive by design (DOCX).
    zip: bool,
}

/// Watches every byte of an upload for the second polyglot rule (a ZIP archive inside a
/// non-ZIP type), chunk by chunk, including a signature split across two chunks.
#[derive(Debug, Clone)]
pub struct PolyglotScan {
    active: bool,
    /// The last bytes of the previous chunk (at most 3).
    tail: Vec<u8>,
}

impl PolyglotScan {
    /// A scan for an upload of `sniffed` type.
    pub fn new(sniffed: SniffedType) -> Self {
        Self {
            active: !sniffed.zip,
            tail: Vec::with_capacity(ZIP_EOCD.len()),
        }
    }

    /// Takes the next chunk; `UnsupportedMediaType` once a ZIP directory shows up.
    pub fn take(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if !self.active {
            return Ok(());
        }
        let split = ZIP_EOCD.len() - 1;
        let mut joined = std::mem::take(&mut self.tail);
        joined.extend_from_slice(&chunk[..chunk.len().min(split)]);
        if joined.windows(ZIP_EOCD.len()).any(|w| w == ZIP_EOCD) || chunk.windows(ZIP_EOCD.len()).any(|w| w == ZIP_EOCD)
        {
            return Err(Error::UnsupportedMediaType {
                reason: "the content carries a ZIP archive besides its own type: a polyglot".into(),
            });
        }
        // Keep the last `split` bytes seen, across short chunks too.
        if chunk.len() >= split {
            self.tail = chunk[chunk.len() - split..].to_vec();
        } else {
            let keep = joined.len().saturating_sub(split);
            self.tail = joined.split_off(keep);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0";

    fn refused(result: Result<SniffedType, Error>) -> bool {
        matches!(result, Err(Error::UnsupportedMediaType { .. }))
    }

    #[test]
    fn allowed_types_pass_when_the_extension_agrees() {
        assert_eq!(sniff("deck.pdf", PDF).unwrap().mime, "application/pdf");
        assert_eq!(sniff("Logo.PNG", PNG).unwrap().mime, "image/png");
        assert!(refused(sniff("deck.png", PDF)), "extension disagrees");
        assert!(refused(sniff("deck.pdf", ELF)), "renamed executable");
        assert!(refused(sniff("notes.pdf", b"just some text")), "unknown content");
    }

    #[test]
    fn markup_in_the_head_is_a_polyglot() {
        let mut polyglot = PDF.to_vec();
        polyglot.extend_from_slice(b"<ScRiPt>alert(1)</script>");
        assert!(refused(sniff("deck.pdf", &polyglot)));
    }

    #[test]
    fn a_zip_directory_anywhere_is_a_polyglot_even_split_across_chunks() {
        let pdf = sniff("deck.pdf", PDF).unwrap();
        let mut scan = PolyglotScan::new(pdf);
        assert!(scan.take(b"%PDF-1.7 lots of bytes P").is_ok());
        assert!(scan.take(b"K").is_ok());
        assert!(scan.take(b"\x05\x06 trailer").is_err());
        let mut clean = PolyglotScan::new(pdf);
        for chunk in [&b"PK\x03"[..], b"\x04", b"PK", b"\x05"] {
            assert!(clean.take(chunk).is_ok());
        }
    }

    #[test]
    fn file_names_are_plain_names() {
        assert_eq!(document_filename("  Pitch deck.pdf ").unwrap(), "Pitch deck.pdf");
        for bad in [
            "",
            "../../etc/passwd",
            "a/b.pdf",
            "a\\b.pdf",
            ".hidden.pdf",
            "noext",
            "bad\u{0}.pdf",
        ] {
            assert!(document_filename(bad).is_err(), "{bad:?}");
        }
        assert!(document_filename(&format!("{}.pdf", "a".repeat(252))).is_err());
    }
}
