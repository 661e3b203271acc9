//! The web chat client (`web/`, embedded in the binary so `cargo run` works from any directory)
//! served at `/`, and the development-only token route `POST /dev/token`.
//!
//! `POST /dev/token` `{name}` answers `{token, userId}`: a token for a fresh user id with that
//! display name, signed with the development secret. It exists only while the gateway runs on the
//! development secret on a loopback address (see [`crate::App::build`]); anywhere else the path is
//! unknown (`404 not_found`, like any other unknown path).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Json, Router,
    extract::{Path, State, rejection::JsonRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chat_auth::HsTokenIssuer;
use chat_domain::ids::UserId;

/// How long a development token lives: a day of trying things out.
const DEV_TOKEN_TTL_SECS: u64 = 24 * 60 * 60;

const INDEX_HTML: &str = include_str!("../web/index.html");

/// The files under `/web/`: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../web/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../web/style.css"),
    ),
    (
        "socket.io.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../web/vendor/socket.io.min.js"),
    ),
];

/// The web client's routes: `GET /` (the page) and `GET /web/{file}` (its scripts and styles),
/// plus `POST /dev/token` when `dev_tokens` is given.
pub fn router(dev_tokens: Option<HsTokenIssuer>) -> Router {
    let web = Router::new()
        .route("/", get(index))
        .route("/web/{file}", get(asset));
    match dev_tokens {
        Some(issuer) => web.merge(
            Router::new()
                .route("/dev/token", post(dev_token))
                .with_state(Arc::new(issuer)),
        ),
        None => web,
    }
}

fn cached(content_type: &'static str, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The files change with the binary: always revalidate.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    let mut response = cached("text/html; charset=utf-8", INDEX_HTML);
    // Scripts only from this origin, nothing inline: message text can never run as code.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    // Links out of a conversation do not tell the other site which page (or token query) the
    // user came from.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => cached(content_type, *bytes),
        None => problem(StatusCode::NOT_FOUND, "not_found", "no such file"),
    }
}

/// A problem document like the REST API's (`application/problem+json`). `detail` must not need
/// JSON escaping (it is one of the fixed strings below).
fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = format!(
        r#"{{"type":"/problems/{code}","title":"{title}","status":{},"detail":"{detail}","code":"{code}"}}"#,
        status.as_u16()
    );
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        )],
        body,
    )
        .into_response()
}

/// `POST /dev/token` `{name}` → `{token, userId}` for a fresh user.
async fn dev_token(
    State(issuer): State<Arc<HsTokenIssuer>>,
    body: Result<Json<HashMap<String, toml::Value>>, JsonRejection>,
) -> Response {
    let invalid = || {
        problem(
            StatusCode::BAD_REQUEST,
            "validation",
            "expected a JSON body {name} with a display name of 1 to 100 characters",
        )
    };
    let Ok(Json(body)) = body else {
        return invalid();
    };
    let Some(toml::Value::String(name)) = body.get("name") else {
        return invalid();
    };
    let user = UserId::from(uuid::Uuid::new_v4());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match issuer.issue(user, Some(name), DEV_TOKEN_TTL_SECS, now) {
        Ok(token) => {
            // A JWT is base64url and dots, a user id a UUID: nothing to escape.
            let body = format!(r#"{{"token":"{token}","userId":"{user}"}}"#);
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response()
        }
        Err(chat_auth::IssueError::InvalidName(_)) => invalid(),
        Err(error) => {
            tracing::error!(error = %error, "minting a development token failed");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "failed",
                "could not mint a token",
            )
        }
    }
}
