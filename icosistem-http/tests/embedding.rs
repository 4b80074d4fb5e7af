//! What an embedder relies on: the router nested in a host app (`Router::nest`) keeps its
//! problem+json 404 with its layers' headers, its docs and document follow the prefix, the
//! switches unmount what they name, weak secrets are refused, and the host's own routes
//! authenticate with the ecosystem's tokens over the host's own state.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::routing::get;
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::{Role, User};
use icosistem_core::ports::{Argon2idPasswordHasher, RecordingNotifier, SystemClock};
use icosistem_core::service::AdminCreateUser;
use icosistem_core::{Context, Ecosystem};
use icosistem_http::auth::require_auth;
use icosistem_http::{
    AppState, AuthUser, ConfigError, HttpConfig, MIN_JWT_SECRET_BYTES, MaybeAuthUser, MetricsExport, TokenVerifier,
    router,
};
use icosistem_store_memory::MemoryStore;
use serde_json::Value;
use tower::ServiceExt;

type State_ = AppState<MemoryStore, RecordingNotifier, SystemClock>;

const SECRET: &str = "an embedding test secret of at least 32 bytes";

fn eco() -> Arc<Ecosystem<MemoryStore, RecordingNotifier, SystemClock>> {
    Arc::new(
        Ecosystem::new(MemoryStore::new(), RecordingNotifier::new(), SystemClock)
            .with_hasher(Argon2idPasswordHasher::fast_for_tests()),
    )
}

fn config() -> HttpConfig {
    HttpConfig::new(SecretString::new(SECRET))
}

async fn call(app: &Router, path: &str, token: Option<&str>) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (parts.status, parts.headers, body)
}

#[tokio::test]
async fn a_nested_unknown_path_is_a_problem_with_the_request_id_and_security_headers() {
    let state = AppState::new(eco(), config()).expect("config");
    let app = Router::new()
        .route("/host", get(|| async { "host" }))
        .nest("/eco", router(state));
    let (status, headers, body) = call(&app, "/eco/api/v2/nothing-here", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    let id = headers["x-request-id"].to_str().expect("request id");
    assert_eq!(body["request_id"], id);
    assert_eq!(body["code"], "not_found");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    // Under the nested auth path, the sensitive paths' no-store still applies to the 404.
    let (_, headers, _) = call(&app, "/eco/api/v2/auth/nothing", None).await;
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    // The host's own unknown paths stay the host's.
    let (status, headers, _) = call(&app, "/elsewhere", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn the_document_names_the_base_path_and_the_docs_load_it_relatively() {
    let state = AppState::new(eco(), config().with_base_path("/eco")).expect("config");
    let app = Router::new().nest("/eco", router(state));
    let (status, _, doc) = call(&app, "/eco/api-docs/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["servers"][0]["url"], "/eco");
    let (status, headers, _) = call(&app, "/eco/docs", None).await;
    assert!(status.is_redirection());
    assert_eq!(
        headers[header::LOCATION],
        "docs/",
        "relative: resolves under any prefix"
    );
    let (status, _, init) = call(&app, "/eco/docs/swagger-initializer.js", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        init.as_str()
            .is_some_and(|js| js.contains("\"../api-docs/openapi.json\"")),
        "{init}"
    );
    let (status, headers, _) = call(&app, "/eco/docs/", None).await;
    assert_eq!(status, StatusCode::OK);
    // The docs page's policy lets it load its own scripts.
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .is_ok_and(|csp| csp.contains("script-src 'self'"))
    );

    // At the root (the default) the document names no server.
    let root = router(AppState::new(eco(), config()).expect("config"));
    let (_, _, doc) = call(&root, "/api-docs/openapi.json", None).await;
    assert!(doc.get("servers").is_none(), "{}", doc["servers"]);
}

#[tokio::test]
async fn the_switches_unmount_what_they_name() {
    let off = config()
        .with_docs(false)
        .with_openapi(false)
        .with_health_detailed(false)
        .with_metrics(MetricsExport::Off);
    let app = router(AppState::new(eco(), off).expect("config"));
    for path in ["/docs/", "/api-docs/openapi.json", "/metrics", "/health/detailed"] {
        let (status, _, body) = call(&app, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "not_found", "{path}");
    }
    for path in ["/health", "/health/ready", "/api/v2/health"] {
        assert_eq!(call(&app, path, None).await.0, StatusCode::OK, "{path}");
    }

    // The document of a router without `/health/detailed` does not list it.
    let app = router(AppState::new(eco(), config().with_health_detailed(false)).expect("config"));
    let (_, _, doc) = call(&app, "/api-docs/openapi.json", None).await;
    assert!(doc["paths"].get("/health/detailed").is_none());
    assert!(doc["paths"].get("/health/ready").is_some());
}

#[test]
fn weak_secrets_and_bad_settings_are_typed_errors() {
    let short = "x".repeat(MIN_JWT_SECRET_BYTES - 1);
    assert_eq!(
        HttpConfig::new(SecretString::new(short)).validate(),
        Err(ConfigError::WeakJwtSecret { bytes: 31, min: 32 })
    );
    assert_eq!(
        AppState::new(eco(), HttpConfig::new(SecretString::new(""))).err(),
        Some(ConfigError::WeakJwtSecret { bytes: 0, min: 32 })
    );
    let exact = "x".repeat(MIN_JWT_SECRET_BYTES);
    assert_eq!(HttpConfig::new(SecretString::new(exact)).validate(), Ok(()));
    for bad in ["eco", "/eco/", "/", "/e co", "//eco"] {
        assert_eq!(
            config().with_base_path(bad).validate(),
            Err(ConfigError::BasePath(bad.to_owned())),
            "{bad:?}"
        );
    }
    assert_eq!(config().with_base_path("/api/eco-v1").validate(), Ok(()));
    assert_eq!(
        config().with_openapi(false).validate(),
        Err(ConfigError::DocsWithoutOpenApi)
    );
    assert_eq!(config().with_openapi(false).with_docs(false).validate(), Ok(()));
    assert!(
        ConfigError::WeakJwtSecret { bytes: 3, min: 32 }
            .to_string()
            .starts_with("jwt_secret"),
        "the message names the field"
    );
}

/// A host's own state, holding the ecosystem's.
#[derive(Clone)]
struct Host {
    name: &'static str,
    eco: State_,
}

impl FromRef<Host> for TokenVerifier {
    fn from_ref(host: &Host) -> Self {
        host.eco.verifier()
    }
}

async fn whoami(State(host): State<Host>, caller: AuthUser) -> String {
    format!("{}:{}", host.name, caller.user.email)
}

async fn maybe(caller: MaybeAuthUser) -> String {
    caller
        .0
        .map_or_else(|| "anonymous".to_owned(), |c| c.user.email.to_string())
}

async fn behind_layer(caller: AuthUser) -> String {
    caller.user.email.to_string()
}

async fn signed_in(state: &State_, email: &str) -> (User, String) {
    let user = state
        .eco
        .admin_create_user(
            &Context::system(),
            AdminCreateUser {
                email: email.to_owned(),
                password: SecretString::new("a long enough password 1"),
                first_name: "Host".to_owned(),
                last_name: "User".to_owned(),
                role: Role::Entrepreneur,
            },
        )
        .await
        .expect("user");
    // The token the ecosystem's own login route would hand out, through the nested router.
    let app = Router::new().nest("/eco", router(state.clone()));
    let request = Request::post("/eco/api/v2/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({ "email": email, "password": "a long enough password 1" }).to_string(),
        ))
        .expect("request");
    let response = app.oneshot(request).await.expect("infallible");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let body: Value = serde_json::from_slice(&bytes).expect("json");
    let token = body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    (user, token)
}

#[tokio::test]
async fn the_hosts_routes_authenticate_with_the_ecosystems_tokens() {
    let state = AppState::new(eco(), config()).expect("config");
    let (user, token) = signed_in(&state, "host.user@example.test").await;
    let verifier = state.verifier();
    let host = Host {
        name: "host",
        eco: state.clone(),
    };
    let app = Router::new()
        .route("/whoami", get(whoami))
        .route("/maybe", get(maybe))
        .with_state(host)
        .merge(
            Router::new()
                .route("/layered", get(behind_layer))
                .layer(axum::middleware::from_fn_with_state(verifier.clone(), require_auth))
                .with_state(verifier.clone()),
        );

    let (status, headers, body) = call(&app, "/whoami", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(body["code"], "unauthorized");
    let (status, _, body) = call(&app, "/whoami", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, format!("host:{}", user.email).as_str());

    assert_eq!(call(&app, "/maybe", None).await.2, "anonymous");
    assert_eq!(call(&app, "/maybe", Some(&token)).await.2, user.email.as_str());
    assert_eq!(call(&app, "/maybe", Some("garbage")).await.0, StatusCode::UNAUTHORIZED);

    assert_eq!(call(&app, "/layered", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&app, "/layered", Some(&token)).await.2, user.email.as_str());

    // The verifier on its own: the claims of a good token, a 401 for a tampered one.
    let claims = verifier.verify(&token).expect("valid");
    assert_eq!(claims.sub, user.id.to_string());
    let mut tampered = token.clone();
    tampered.push('x');
    assert_eq!(
        verifier.verify(&tampered).expect_err("tampered").status(),
        StatusCode::UNAUTHORIZED
    );
}
