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
//! - [`dto`]: the wire shapes; [`time_format`]: RFC 3339 millisecond instants.
//! - `routes`: one module per group of routes; [`openapi`]: the document's fixed parts.

pub mod auth;
pub mod dto;
pub mod error;
mod extract;
mod middleware;
pub mod openapi;
mod routes;
pub mod state;
pub mod time_format;

use axum::{Extension, Router, body::Bytes, extract::DefaultBodyLimit, middleware::from_fn};

use crate::routes::health::OpenApiDocument;
pub use crate::{
    auth::AuthUser,
    error::{ApiError, ErrorCode, Problem},
    state::{DependencyStatus, HttpConfig, HttpState, MetricsRenderer, NoDependencies, Readiness},
};

/// The OpenAPI 3.1 document of every route.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::api().into_openapi()
}

/// Every route of contract section 6, `GET /openapi.json` included, with the body limit of
/// `config`, `404`/`405` problems for unknown paths and methods, and per-route request metrics.
pub fn router(state: HttpState, config: &HttpConfig) -> Router {
    let (routes, doc) = routes::api().split_for_parts();
    let document = match doc.to_json() {
        Ok(json) => Bytes::from(json),
        Err(error) => {
            tracing::error!(error = %error, "serializing the OpenAPI document failed");
            Bytes::from_static(b"{}")
        }
    };
    let max_body_bytes = config.max_body_bytes;
    routes
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(Extension(OpenApiDocument(document)))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(from_fn(move |req, next| {
            middleware::limit_declared_length(max_body_bytes, req, next)
        }))
        .layer(from_fn(middleware::record_metrics))
        .with_state(state)
}
