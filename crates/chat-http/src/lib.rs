//! The REST side of the chat gateway (contract section 6): axum routes over the domain
//! services, `application/problem+json` errors, and an OpenAPI 3.1 document generated from the
//! code with utoipa.
//!
//! ```ignore
//! let app = chat_http::router(HttpState::new(services, readiness, metrics), &HttpConfig::default());
//! ```
//!
//! CORS and request tracing are layered by the gateway, around this router and Socket.IO alike.
//!
//! # Layout
//! - [`state`]: [`HttpState`], [`HttpConfig`], the [`Readiness`] probe.
//! - [`auth`]: the [`AuthUser`] extractor (`Authorization: Bearer`).
//! - [`error`]: [`ApiError`], the problem body, and the one mapping of every service error.
//! - `extract`: JSON, query and path extractors whose rejections are `validation` problems.
//! - [`dto`]: the REST-only shapes (query strings, health); every other body is the
//!   protocol's (`chat-protocol`), shared with the socket side.
//! - `routes`: one module per group of routes; [`openapi`]: the document's fixed parts.

pub mod auth;
pub mod dto;
pub mod error;
mod extract;
mod middleware;
pub mod openapi;
mod routes;
pub mod state;

use axum::{Extension, Router, body::Bytes, extract::DefaultBodyLimit, middleware::from_fn};

use crate::routes::health::ApiDocuments;
pub use crate::{
    auth::AuthUser,
    error::{ApiError, ErrorCode, Problem},
    state::{DependencyStatus, HttpConfig, HttpState, MetricsRenderer, NoDependencies, Readiness},
};

/// The OpenAPI 3.1 document of every route.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes::api().into_openapi();
    openapi::amend(&mut doc);
    doc
}

/// The AsyncAPI 3 document of the Socket.IO side (served at `/asyncapi.json`).
#[must_use]
pub fn asyncapi() -> serde_json::Value {
    chat_protocol::asyncapi::document()
}

/// Every route of contract section 6, `GET /openapi.json` included, with the body limit of
/// `config`, `404`/`405` problems for unknown paths and methods, and per-route request metrics.
pub fn router(state: HttpState, config: &HttpConfig) -> Router {
    let (routes, mut doc) = routes::api().split_for_parts();
    openapi::amend(&mut doc);
    let serialized = |json: Result<String, serde_json::Error>, what: &str| match json {
        Ok(json) => Bytes::from(json),
        Err(error) => {
            tracing::error!(error = %error, document = what, "serializing an API document failed");
            Bytes::from_static(b"{}")
        }
    };
    let documents = ApiDocuments {
        openapi: serialized(doc.to_json(), "openapi"),
        asyncapi: serialized(serde_json::to_string(&asyncapi()), "asyncapi"),
    };
    let max_body_bytes = config.max_body_bytes;
    routes
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(Extension(documents))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(from_fn(move |req, next| {
            middleware::limit_declared_length(max_body_bytes, req, next)
        }))
        .layer(from_fn(middleware::answer_within_deadline))
        .layer(from_fn(middleware::record_metrics))
        .with_state(state)
}
