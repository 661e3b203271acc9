//! Router-wide pieces: problems for unknown paths and methods, the declared-length check of
//! the body limit, and request metrics.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::ApiError;

/// `404 not_found` for a path no route matches.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// `405` for a method the path does not have.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Refuses at once (`413`) a body whose `Content-Length` is over the limit; a body without
/// one is cut off by `DefaultBodyLimit` while it is read.
pub(crate) async fn limit_declared_length(max_bytes: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let max = u64::try_from(max_bytes).unwrap_or(u64::MAX);
    if declared.is_some_and(|len| len > max) {
        return ApiError::payload_too_large().into_response();
    }
    next.run(req).await
}

/// Counts requests and their latency by method, route template and status
/// (`http_requests_total`, `http_request_duration_seconds`).
pub(crate) async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
