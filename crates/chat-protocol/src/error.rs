//! The contract's error codes, a failure as both transports render it, and the bodies that carry
//! it: the Socket.IO ack `{error}`, the `error:{code}` event and `message:failed`. The REST
//! adapter wraps the same [`Failure`] in a problem (`chat-http`), with [`ErrorCode::http_status`].

use serde::Serialize;

/// The contract's error codes (sections 4 and 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub enum ErrorCode {
    /// No token, or a bad or expired one; another user's token on refresh.
    Unauthorized,
    /// A bad or missing field, oversized content, not a UUID, a malformed body, path or query.
    Validation,
    /// Not an active participant of the conversation (or no such conversation).
    NotParticipant,
    /// A block forbids the action.
    Blocked,
    /// No such resource.
    NotFound,
    /// An id already used by another sender or conversation.
    Conflict,
    /// Over a rate limit; retry after `retryAfter` seconds.
    RateLimitExceeded,
    /// Storage is down; the same request may be retried.
    Unavailable,
    /// Anything else.
    Failed,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [Self; 9] = [
        Self::Unauthorized,
        Self::Validation,
        Self::NotParticipant,
        Self::Blocked,
        Self::NotFound,
        Self::Conflict,
        Self::RateLimitExceeded,
        Self::Unavailable,
        Self::Failed,
    ];

    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Validation => "validation",
            Self::NotParticipant => "not_participant",
            Self::Blocked => "blocked",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::RateLimitExceeded => "rate_limit_exceeded",
            Self::Unavailable => "unavailable",
            Self::Failed => "failed",
        }
    }

    /// The HTTP status a REST answer with this code has (section 6).
    #[must_use]
    pub const fn http_status(self) -> u16 {
        match self {
            Self::Validation => 400,
            Self::Unauthorized => 401,
            Self::NotParticipant | Self::Blocked => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::RateLimitExceeded => 429,
            Self::Failed => 500,
            Self::Unavailable => 503,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed operation, as the client sees it on either transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The code.
    pub code: ErrorCode,
    /// What went wrong, for humans (never an internal cause).
    pub message: String,
    /// For rate limits: whole seconds to wait (at least 1).
    pub retry_after: Option<u64>,
    /// For blocks: `user_blocked` or `you_blocked`.
    pub reason: Option<&'static str>,
}

impl Failure {
    /// A failure with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
            reason: None,
        }
    }

    /// A `validation` failure.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message)
    }

    /// An `unauthorized` failure.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// An `unavailable` failure (the same request may be retried).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// `{code, message, retryAfter?, reason?}`.
    #[must_use]
    pub fn body(&self) -> FailureBody {
        FailureBody {
            code: self.code,
            message: self.message.clone(),
            retry_after: self.retry_after,
            reason: self.reason,
        }
    }

    /// The ack of a failed event: `{error: {code, message, retryAfter?, reason?}}`.
    #[must_use]
    pub fn ack(&self) -> FailureAck {
        FailureAck { error: self.body() }
    }
}

/// The ack of a failed event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct FailureAck {
    /// What failed.
    pub error: FailureBody,
}

/// What failed: the inside of a failure ack and of `message:failed`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(optional_fields))]
pub struct FailureBody {
    /// The code.
    pub code: ErrorCode,
    /// For humans.
    pub message: String,
    /// Seconds to wait (`rate_limit_exceeded` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// `user_blocked` or `you_blocked` (`blocked` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// `ErrorPayload`, emitted as `error:{code}` for every failed event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(optional_fields))]
pub struct ErrorPayload {
    /// The error code; for `error:unauthorized` after a token lapsed, `token_expired`.
    pub code: &'static str,
    /// For humans.
    pub message: String,
    /// The event that failed (as the client named it).
    pub event: String,
    /// The conversation the payload named, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// The message the payload named, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Seconds to wait (`rate_limit_exceeded` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// `user_blocked` or `you_blocked` (`blocked` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// When (RFC 3339).
    pub timestamp: String,
}

impl ErrorPayload {
    /// The event about `failure` of `event`, with the ids its payload named.
    #[must_use]
    pub fn new(
        failure: &Failure,
        event: &str,
        context: &FailureContext,
        timestamp: String,
    ) -> Self {
        Self {
            code: failure.code.as_str(),
            message: failure.message.clone(),
            event: event.to_owned(),
            conversation_id: context.conversation_id.clone(),
            message_id: context.message_id.clone(),
            retry_after: failure.retry_after,
            reason: failure.reason,
            timestamp,
        }
    }

    /// `error:unauthorized` `{code: "token_expired"}`: a socket's token lapsed without refresh.
    #[must_use]
    pub fn token_expired(timestamp: String) -> Self {
        Self::token_ended(
            crate::HandshakeRefusal::TokenExpired,
            "the token expired",
            timestamp,
        )
    }

    /// `error:unauthorized` `{code: "token_revoked"}`: the user's tokens were revoked.
    #[must_use]
    pub fn token_revoked(timestamp: String) -> Self {
        Self::token_ended(
            crate::HandshakeRefusal::TokenRevoked,
            "the token was revoked",
            timestamp,
        )
    }

    fn token_ended(why: crate::HandshakeRefusal, message: &str, timestamp: String) -> Self {
        Self {
            code: why.as_str(),
            message: message.to_owned(),
            event: crate::events::inbound::AUTH.to_owned(),
            conversation_id: None,
            message_id: None,
            retry_after: None,
            reason: None,
            timestamp,
        }
    }
}

/// The ids a failing payload named (best effort, read before validation).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FailureContext {
    /// `conversationId`, when the payload had a string there.
    pub conversation_id: Option<String>,
    /// `messageId`, when the payload had a string there.
    pub message_id: Option<String>,
}

impl FailureContext {
    /// Reads the ids from a payload (nothing from one that did not parse).
    #[must_use]
    pub fn of(payload: Option<&serde_json::Value>) -> Self {
        let field = |name: &str| {
            payload
                .and_then(|v| v.get(name))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        Self {
            conversation_id: field("conversationId"),
            message_id: field("messageId"),
        }
    }
}

/// `message:failed`, to the sending socket after a failed `message:send`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(optional_fields))]
pub struct MessageFailed {
    /// The message the payload named, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The conversation the payload named, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// Always `failed`.
    #[cfg_attr(feature = "typescript", ts(type = "\"failed\""))]
    pub status: &'static str,
    /// What failed.
    pub error: FailureBody,
}

impl MessageFailed {
    /// The event after `failure` of a send that named `context`.
    #[must_use]
    pub fn new(failure: &Failure, context: &FailureContext) -> Self {
        Self {
            message_id: context.message_id.clone(),
            conversation_id: context.conversation_id.clone(),
            status: "failed",
            error: failure.body(),
        }
    }
}
