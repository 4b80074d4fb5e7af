//! The coordinator dashboard at `/dashboard`: a static front end (HTML, CSS, one script of its
//! own and Chart.js vendored from npm) embedded in the binary, so the server stays one
//! self-contained file and no page ever loads from a CDN. The page signs in through
//! `POST /api/v2/auth/login`, keeps the access token in `sessionStorage`, and draws a program's
//! figures from the JSON API (`/api/v2/programs/{id}/analytics`, `/api/v2/analytics/mentoring`)
//! and downloads its CSV exports with the bearer token — same origin, so no CORS.
//!
//! The routes are merged next to the API's router (see [`crate::run_server_with`]), outside its
//! layers: the API's `Content-Security-Policy` is `default-src 'none'`, which would block the
//! page's own script and style. Each answer here carries a policy of its own instead
//! ([`CSP`]: only same-origin scripts, styles and requests, no inline script or style) and the
//! API's other security headers.

use axum::Router;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// The dashboard's Content-Security-Policy: everything from this origin only, nothing inline
/// (`script-src 'self'` and `style-src 'self'` without `'unsafe-inline'`), images also as
/// `data:` URLs (a chart saved as PNG), no framing, no `<base>` rewriting, forms submit only
/// here (the sign-in form is handled by the script and never submits).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
                       form-action 'self'";

/// Where the dashboard is served.
pub const PATH: &str = "/dashboard";

/// One embedded file: its path under [`PATH`], content type, cache policy and bytes.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
    body: &'static [u8],
}

/// The page and the files it loads. The page and its own script and style are revalidated on
/// every load (`no-cache` with an `ETag`), so a new server version is picked up at once; the
/// vendored Chart.js carries its version in its path and never changes under it, so browsers
/// keep it for a year.
static ASSETS: [Asset; 4] = [
    Asset {
        path: "/dashboard",
        content_type: "text/html; charset=utf-8",
        cache_control: "no-cache",
        body: include_bytes!("../dashboard/index.html"),
    },
    Asset {
        path: "/dashboard/dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        cache_control: "no-cache",
        body: include_bytes!("../dashboard/dashboard.js"),
    },
    Asset {
        path: "/dashboard/dashboard.css",
        content_type: "text/css; charset=utf-8",
        cache_control: "no-cache",
        body: include_bytes!("../dashboard/dashboard.css"),
    },
    Asset {
        path: CHART_JS_PATH,
        content_type: "text/javascript; charset=utf-8",
        cache_control: "public, max-age=31536000, immutable",
        body: include_bytes!("../dashboard/vendor/chart.umd.min.js"),
    },
];

/// The vendored Chart.js (npm `chart.js@4.6.2`, `dist/chart.umd.min.js`, MIT: see
/// `dashboard/vendor/LICENSE.md`). `index.html` names the same path.
pub const CHART_JS_PATH: &str = "/dashboard/vendor/chart-4.6.2.umd.min.js";

/// The dashboard's routes (`GET`/`HEAD` each asset; `/dashboard/` redirects to `/dashboard`, so
/// the page's relative URLs resolve one way only).
pub fn router() -> Router {
    let mut router = Router::new().route("/dashboard/", get(|| async { Redirect::permanent(PATH) }));
    for asset in &ASSETS {
        // A strong validator of the embedded bytes: the same binary always answers the same tag.
        let etag = format!("\"{:016x}\"", fnv1a(asset.body));
        router = router.route(
            asset.path,
            get(move |method: Method, headers: HeaderMap| async move { serve(asset, &etag, &method, &headers) }),
        );
    }
    router
}

fn serve(asset: &'static Asset, etag: &str, method: &Method, request: &HeaderMap) -> Response {
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        StatusCode::OK.into_response()
    } else {
        (StatusCode::OK, asset.body).into_response()
    };
    let headers = response.headers_mut();
    if !fresh {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        if method == Method::HEAD {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(asset.body.len()));
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(asset.cache_control));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    security_headers(headers);
    response
}

/// The API's security headers (see `icosistem_http::middleware`), with the dashboard's [`CSP`].
fn security_headers(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    // The page's URL carries nothing secret, but nothing else needs it either.
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(
        headers,
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    );
}

/// 64-bit FNV-1a: enough to tell two versions of a file apart (the tag is not a security
/// boundary), and no dependency for it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_embedded_files_and_nothing_inline() {
        let html = std::str::from_utf8(ASSETS[0].body).expect("UTF-8");
        // Every script and stylesheet the page names is one this module serves.
        for src in html.split(['"', '\'']).filter(|s| s.starts_with("/dashboard/")) {
            assert!(ASSETS.iter().any(|a| a.path == src), "{src} is not served");
        }
        assert!(html.contains(CHART_JS_PATH));
        // A strict CSP blocks inline code and style: none may be in the page.
        assert!(!html.contains("style="), "inline style attribute");
        assert!(!html.contains("<style"), "inline stylesheet");
        let lower = html.to_lowercase();
        for (at, _) in lower.match_indices(" on") {
            let name: String = lower[at + 3..].chars().take_while(char::is_ascii_alphabetic).collect();
            let after = &lower[at + 3 + name.len()..];
            assert!(
                name.is_empty() || !after.starts_with('='),
                "inline event handler on{name}"
            );
        }
        for script in html.split("<script").skip(1) {
            assert!(
                script.trim_start().starts_with("src="),
                "inline script: <script{script}"
            );
        }
    }

    #[test]
    fn tags_differ_by_content() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}
