//! Router-wide pieces: problems for unknown paths and methods, the declared-length check of
//! the body limit, and request metrics.

use std::{sync::Once, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    http::{Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use chat_protocol::{ANSWER_DEADLINE, Failure, past_deadline};

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

/// Answers `503 unavailable` once a request's work has run for [`ANSWER_DEADLINE`] (contract
/// 4.6), whatever it waits for. The work runs in its own task and is not cancelled: a commit
/// already under way completes with all its events, and a retry of it is answered as a replay.
pub(crate) async fn answer_within_deadline(req: Request, next: Next) -> Response {
    let work = tokio::spawn(next.run(req));
    match tokio::time::timeout(ANSWER_DEADLINE, work).await {
        Ok(Ok(response)) => response,
        Ok(Err(panicked)) => {
            tracing::error!(error = %panicked, "a request handler panicked");
            ApiError::from(Failure::new(
                chat_protocol::ErrorCode::Failed,
                "internal error",
            ))
            .into_response()
        }
        Err(_) => {
            tracing::warn!(
                deadline_ms = ANSWER_DEADLINE.as_millis(),
                "a request outlived its deadline: answered unavailable"
            );
            ApiError::from(past_deadline()).into_response()
        }
    }
}

/// The `method` label: the methods the API and CORS use by name, every other (any token a
/// client sends is a valid method) as `other`, so no client can add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `# HELP` of the request metrics, given to the recorder before their first sample.
fn describe_metrics() {
    static DESCRIBED: Once = Once::new();
    DESCRIBED.call_once(|| {
        metrics::describe_counter!(
            "http_requests_total",
            "HTTP requests answered, by method (other: any method the API does not use), route template (unmatched: no route) and status"
        );
        metrics::describe_histogram!(
            "http_request_duration_seconds",
            metrics::Unit::Seconds,
            "Time to answer an HTTP request, by method, route template and status"
        );
    });
}

/// Counts requests and their latency by method, route template and status
/// (`http_requests_total`, `http_request_duration_seconds`). Every label is bounded: the method
/// by [`method_label`], the route is the matched template (`unmatched` for the fallback), never
/// the raw path.
pub(crate) async fn record_metrics(req: Request, next: Next) -> Response {
    describe_metrics();
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_fixed_set_share_one_label() {
        for (method, label) in [
            ("GET", "GET"),
            ("POST", "POST"),
            ("OPTIONS", "OPTIONS"),
            ("PROPFIND", "other"),
            ("MXYZ", "other"),
            ("get", "other"),
            ("CONNECT", "other"),
        ] {
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            assert_eq!(method_label(&m), label, "{method}");
        }
    }
}
