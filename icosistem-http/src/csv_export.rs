//! CSV exports (docs/domain.md §9): RFC 4180 records (CRLF, fields quoted when they hold a comma,
//! a quote or a line break) written by the `csv` crate, UTF-8 with a byte-order mark so
//! spreadsheets read accents right, and every cell that a spreadsheet would run as a formula
//! (one starting with `=`, `+`, `-`, `@`, a tab or a carriage return) prefixed with `'`.
//!
//! The body is a stream: the BOM and the header first, then one chunk per page the store
//! answers, so memory stays flat however long the list. Authorization and the audit entry
//! happen before the first byte (a refusal is a normal problem answer); each page is
//! authorized again by its use case, and a failure after the first byte ends the body early
//! (the client sees a truncated download, never a problem document inside the CSV).

use std::borrow::Cow;
use std::future::Future;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use icosistem_core::Error;
use icosistem_core::ports::{Page, PageRequest};

/// The UTF-8 byte-order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `value` made inert for spreadsheets: a leading `=`, `+`, `-`, `@`, tab or carriage return
/// gets a `'` in front (OWASP's CSV injection advice).
pub(crate) fn cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// One RFC 4180 record (CRLF-terminated) of escaped cells.
pub(crate) fn record<I, T>(fields: I) -> Vec<u8>
where
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let cells: Vec<String> = fields.into_iter().map(|f| cell(f.as_ref()).into_owned()).collect();
    // Writing to a `Vec` cannot fail; a record the crate refuses would be a bug here.
    if writer.write_record(&cells).is_err() {
        return Vec::new();
    }
    writer.into_inner().unwrap_or_default()
}

enum Next {
    Page(PageRequest),
    Done,
}

/// A streamed `text/csv` answer named `filename`: the BOM and `header`, then the rows of every
/// page `fetch` answers (oldest first, [`PageRequest::MAX_LIMIT`] rows a page), each turned
/// into cells by `row`.
pub(crate) fn stream<R, F, Fut>(
    filename: &str,
    header: Vec<&'static str>,
    fetch: F,
    row: fn(&R) -> Vec<String>,
) -> Response
where
    R: Send + 'static,
    F: Fn(PageRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<R>, Error>> + Send + 'static,
{
    let mut head = BOM.to_vec();
    head.extend(record(header));
    let first = futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) });
    let start = Next::Page(PageRequest::first(PageRequest::MAX_LIMIT).oldest_first());
    let rows = futures::stream::unfold((start, fetch), move |(next, fetch)| async move {
        let Next::Page(page) = next else {
            return None;
        };
        match fetch(page).await {
            Ok(found) => {
                let mut chunk = Vec::new();
                for item in &found.items {
                    chunk.extend(record(row(item)));
                }
                let next = match found.next_cursor.as_deref() {
                    Some(cursor) => match PageRequest::parse(Some(PageRequest::MAX_LIMIT), Some(cursor)) {
                        Ok(page) => Next::Page(page.oldest_first()),
                        Err(_) => Next::Done,
                    },
                    None => Next::Done,
                };
                Some((Ok(Bytes::from(chunk)), (next, fetch)))
            }
            Err(error) => {
                tracing::warn!(error = %error, "export stopped");
                Some((Err(std::io::Error::other(error.to_string())), (Next::Done, fetch)))
            }
        }
    });
    let body = Body::from_stream(futures::StreamExt::chain(first, rows));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
}

/// An optional instant as a cell (RFC 3339 UTC, empty when absent).
pub(crate) fn instant(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_escaped() {
        for risky in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(cell(risky), format!("'{risky}"));
        }
        for safe in ["", "plain", "a=b", "1-2", "José"] {
            assert_eq!(cell(safe), safe);
        }
    }

    #[test]
    fn records_follow_rfc_4180() {
        let line = record(["a,b", "say \"hi\"", "two\nlines", "=cmd"]);
        assert_eq!(
            String::from_utf8(line).expect("utf-8"),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",'=cmd\r\n"
        );
    }
}
