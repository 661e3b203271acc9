//! `GET /health/live`, `GET /health/ready`, `GET /metrics` and `GET /openapi.json`: no token
//! needed.

use axum::{
    Extension, Json,
    body::Bytes,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};

use crate::{
    dto::{Liveness, ReadinessReport},
    state::HttpState,
};

/// The Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The process is up.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "operations",
    security(()),
    responses((status = 200, description = "The process is up", body = Liveness))
)]
pub async fn live() -> Json<Liveness> {
    Json(Liveness {
        status: "ok".to_owned(),
    })
}

/// Every backing service (database, Redis) is reachable.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "Ready: every dependency answered", body = ReadinessReport),
        (status = 503, description = "Not ready: a dependency is down", body = ReadinessReport),
    )
)]
pub async fn ready(State(state): State<HttpState>) -> (StatusCode, Json<ReadinessReport>) {
    let report = ReadinessReport::new(state.readiness.check().await);
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        tracing::warn!(
            down = ?report.dependencies.iter().filter(|d| !d.ok).map(|d| &d.name).collect::<Vec<_>>(),
            "not ready"
        );
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

/// The process's metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    security(()),
    responses((
        status = 200,
        description = "Prometheus text exposition format",
        body = String,
        content_type = "text/plain; version=0.0.4"
    ))
)]
pub async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], (state.metrics)())
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 description of this API", body = Object))
)]
pub async fn openapi_json(Extension(docs): Extension<ApiDocuments>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], docs.openapi)
}

/// The Socket.IO side, described as this document describes REST.
#[utoipa::path(
    get,
    path = "/asyncapi.json",
    tag = "operations",
    security(()),
    responses((status = 200, description = "The AsyncAPI 3 description of every Socket.IO event and payload", body = Object))
)]
pub async fn asyncapi_json(Extension(docs): Extension<ApiDocuments>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], docs.asyncapi)
}

/// The OpenAPI and AsyncAPI documents, serialized once when the router is built.
#[derive(Debug, Clone)]
pub struct ApiDocuments {
    /// `/openapi.json`.
    pub openapi: Bytes,
    /// `/asyncapi.json`.
    pub asyncapi: Bytes,
}
