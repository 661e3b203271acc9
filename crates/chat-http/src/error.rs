//! The one error type of the REST API, answered as `application/problem+json` (RFC 9457). The
//! classification of service errors is the protocol's ([`chat_protocol::classify`]); this only
//! renders a [`Failure`] as a problem, with the status of its code.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chat_domain::{
    RepoError,
    service::{
        AuthError, BlockError, CreateConversationError, HistoryError, MarkReadError, MuteError,
        PresenceUpdateError, RefreshError, SendMessageError, TypingError,
    },
};
pub use chat_protocol::ErrorCode;
use chat_protocol::Failure;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details body (RFC 9457) with the contract's `code`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// `/problems/{code}`.
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation")]
    pub kind: String,
    /// The HTTP status phrase.
    #[schema(example = "Bad Request")]
    pub title: String,
    /// The HTTP status.
    #[schema(example = 400)]
    pub status: u16,
    /// What went wrong, for humans.
    pub detail: String,
    /// The contract's code.
    pub code: ErrorCode,
    /// Seconds until the request may be retried (`rate_limit_exceeded` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// A failed request: a [`Failure`] and the HTTP status it is answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {}: {}", failure.code, failure.message)]
pub struct ApiError {
    status: StatusCode,
    failure: Failure,
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        let status = StatusCode::from_u16(failure.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self { status, failure }
    }
}

/// Every service error becomes an [`ApiError`] through the protocol's one classification.
macro_rules! classified {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for ApiError {
            fn from(error: $error) -> Self {
                Failure::from(error).into()
            }
        }
    )*};
}

classified!(
    RepoError,
    AuthError,
    RefreshError,
    SendMessageError,
    MarkReadError,
    TypingError,
    PresenceUpdateError,
    BlockError,
    MuteError,
    CreateConversationError,
    HistoryError,
);

impl ApiError {
    /// `400 validation`.
    pub fn validation(detail: impl Into<String>) -> Self {
        Failure::validation(detail).into()
    }

    /// `413 validation`: the body is larger than the configured limit.
    #[must_use]
    pub fn payload_too_large() -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..Self::validation("the request body is larger than the server accepts")
        }
    }

    /// `401 unauthorized`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Failure::unauthorized(detail).into()
    }

    /// `404 not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Failure::new(ErrorCode::NotFound, detail).into()
    }

    /// `405 validation`: the path exists, the method does not.
    #[must_use]
    pub fn method_not_allowed() -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            ..Self::validation("this method is not allowed on this path")
        }
    }

    /// The HTTP status and the contract's code.
    #[must_use]
    pub const fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        (self.status, self.failure.code)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Failure {
            code,
            message,
            retry_after,
            ..
        } = self.failure;
        let problem = Problem {
            kind: format!("/problems/{code}"),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: message,
            code,
            retry_after,
        };
        let mut response = (self.status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 section 3: a 401 names the scheme it wants.
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
