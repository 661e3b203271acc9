//! The one error type of the REST API, answered as `application/problem+json` (RFC 9457), and
//! the mapping of every service error to the contract's codes. Internal causes are logged here,
//! once, with their source chain; the client sees only a generic detail.

use std::{error::Error as StdError, fmt::Write as _};

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chat_domain::{
    RepoError,
    block::BlockTargetError,
    ports::TokenError,
    service::{
        AuthError, BlockError, CreateConversationError, HistoryError, MarkReadError, MuteError,
        RateLimited,
    },
};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The contract's error codes (section 4), the `code` of a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A bad or missing field, a malformed body, path or query, a body too large.
    Validation,
    /// No token, or a bad or expired one.
    Unauthorized,
    /// Not a participant of the conversation (or no such conversation).
    NotParticipant,
    /// A block forbids the action.
    Blocked,
    /// No such resource.
    NotFound,
    /// A uniqueness rule refused the write.
    Conflict,
    /// Over the quota; retry after `retryAfter` seconds.
    RateLimitExceeded,
    /// Storage is down; the same request may be retried.
    Unavailable,
    /// Anything else.
    Failed,
}

impl ErrorCode {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Validation => "validation",
            Self::Unauthorized => "unauthorized",
            Self::NotParticipant => "not_participant",
            Self::Blocked => "blocked",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::RateLimitExceeded => "rate_limit_exceeded",
            Self::Unavailable => "unavailable",
            Self::Failed => "failed",
        }
    }
}

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

/// A failed request: a status, a code and a detail safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {}: {detail}", code.as_str())]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    detail: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// `400 validation`.
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::Validation, detail)
    }

    /// `413 validation`: the body is larger than the configured limit.
    #[must_use]
    pub fn payload_too_large() -> Self {
        let detail = "the request body is larger than the server accepts";
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::Validation, detail)
    }

    /// `401 unauthorized`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, detail)
    }

    /// `403 not_participant`.
    #[must_use]
    pub fn not_participant() -> Self {
        let detail = "you are not a participant of this conversation";
        Self::new(StatusCode::FORBIDDEN, ErrorCode::NotParticipant, detail)
    }

    /// `404 not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, detail)
    }

    /// `405 validation`: the path exists, the method does not.
    #[must_use]
    pub fn method_not_allowed() -> Self {
        let detail = "this method is not allowed on this path";
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Validation,
            detail,
        )
    }

    /// `429 rate_limit_exceeded` with `Retry-After`.
    #[must_use]
    pub fn rate_limited(limited: RateLimited) -> Self {
        let secs = limited.retry_after_secs.max(1);
        let detail = format!("rate limit exceeded; retry after {secs} s");
        Self {
            retry_after: Some(secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimitExceeded,
                detail,
            )
        }
    }

    /// The HTTP status and the contract's code.
    #[must_use]
    pub const fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        (self.status, self.code)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("/problems/{}", self.code.as_str()),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code,
            retry_after: self.retry_after,
        };
        let mut response = (self.status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// `error` and its sources, `: `-separated.
fn source_chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

impl From<RepoError> for ApiError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::NotFound => Self::not_found("no such resource"),
            RepoError::Conflict => {
                let detail = "the request conflicts with stored data";
                Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, detail)
            }
            RepoError::Unavailable(_) => {
                tracing::error!(error = %source_chain(&error), "storage unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
                    "storage is unavailable; retry the request later",
                )
            }
            other => {
                tracing::error!(error = %source_chain(&other), "request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Failed,
                    "the request failed",
                )
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Token(TokenError::Missing) => {
                Self::unauthorized("a bearer token is required")
            }
            AuthError::Token(TokenError::Expired) => Self::unauthorized("the token has expired"),
            AuthError::Token(TokenError::Invalid) => Self::unauthorized("the token is invalid"),
            AuthError::Repo(repo) => repo.into(),
        }
    }
}

impl From<CreateConversationError> for ApiError {
    fn from(error: CreateConversationError) -> Self {
        match error {
            CreateConversationError::SameUser(_) => {
                Self::validation("participantId must be another user than you")
            }
            CreateConversationError::Repo(repo) => repo.into(),
        }
    }
}

impl From<HistoryError> for ApiError {
    fn from(error: HistoryError) -> Self {
        match error {
            HistoryError::NotParticipant => Self::not_participant(),
            HistoryError::Repo(repo) => repo.into(),
        }
    }
}

impl From<MarkReadError> for ApiError {
    fn from(error: MarkReadError) -> Self {
        match error {
            MarkReadError::NotParticipant => Self::not_participant(),
            MarkReadError::RateLimited(limited) => Self::rate_limited(limited),
            MarkReadError::Repo(repo) => repo.into(),
        }
    }
}

impl From<BlockError> for ApiError {
    fn from(error: BlockError) -> Self {
        match error {
            BlockError::NotParticipant => Self::not_participant(),
            BlockError::InvalidTarget(BlockTargetError::NotParticipant(_)) => {
                Self::not_participant()
            }
            BlockError::InvalidTarget(target) => Self::validation(target.to_string()),
            BlockError::RateLimited(limited) => Self::rate_limited(limited),
            BlockError::Repo(repo) => repo.into(),
        }
    }
}

impl From<MuteError> for ApiError {
    fn from(error: MuteError) -> Self {
        match error {
            MuteError::NotParticipant => Self::not_participant(),
            MuteError::UntilInPast(past) => Self::validation(past.to_string()),
            MuteError::RateLimited(limited) => Self::rate_limited(limited),
            MuteError::Repo(repo) => repo.into(),
        }
    }
}
