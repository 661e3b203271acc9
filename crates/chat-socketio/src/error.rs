//! The one mapping from the services' errors to the contract's error codes, for this transport.

use chat_domain::{
    BlockSide, RepoError,
    service::{
        BlockError, MarkReadError, MuteError, PresenceUpdateError, RateLimited, RefreshError,
        SendMessageError, TypingError,
    },
};
use serde::Serialize;

use crate::connect::ConnectRefusal;

/// The contract's error codes (section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Bad or missing token; another user's token on refresh.
    Unauthorized,
    /// Bad or missing field, oversized content, not a UUID, a binary attachment.
    Validation,
    /// Not an active participant.
    NotParticipant,
    /// A block stands.
    Blocked,
    /// Over a rate limit.
    RateLimitExceeded,
    /// Id already used by another sender or conversation.
    Conflict,
    /// Storage down; the same request may be retried.
    Unavailable,
    /// Anything else.
    Failed,
}

impl ErrorCode {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Validation => "validation",
            Self::NotParticipant => "not_participant",
            Self::Blocked => "blocked",
            Self::RateLimitExceeded => "rate_limit_exceeded",
            Self::Conflict => "conflict",
            Self::Unavailable => "unavailable",
            Self::Failed => "failed",
        }
    }
}

/// A failed event, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The code.
    pub code: ErrorCode,
    /// A human-readable message (never an internal cause).
    pub message: String,
    /// For rate limits: whole seconds to wait.
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

    fn not_participant() -> Self {
        Self::new(
            ErrorCode::NotParticipant,
            "not a participant of this conversation",
        )
    }

    fn blocked(side: BlockSide) -> Self {
        Self {
            reason: Some(side.as_str()),
            ..Self::new(ErrorCode::Blocked, format!("blocked ({})", side.as_str()))
        }
    }

    fn rate_limited(r: RateLimited) -> Self {
        Self {
            retry_after: Some(r.retry_after_secs),
            ..Self::new(ErrorCode::RateLimitExceeded, "rate limit exceeded")
        }
    }

    /// The ack body of a failure: `{error: {code, message, retryAfter?, reason?}}`.
    #[must_use]
    pub fn ack(&self) -> FailureAck {
        FailureAck { error: self.body() }
    }

    /// `{code, message, retryAfter?, reason?}`.
    #[must_use]
    pub fn body(&self) -> FailureBody {
        FailureBody {
            code: self.code.as_str(),
            message: self.message.clone(),
            retry_after: self.retry_after,
            reason: self.reason,
        }
    }
}

/// `{error: {...}}`.
#[derive(Debug, Serialize)]
pub struct FailureAck {
    error: FailureBody,
}

/// The inside of a failure ack.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureBody {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

impl From<RepoError> for Failure {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Unavailable(_) => {
                tracing::warn!(error = %e, source = ?std::error::Error::source(&e), "storage unavailable");
                Self::new(ErrorCode::Unavailable, "storage unavailable, retry later")
            }
            RepoError::Conflict => Self::new(ErrorCode::Conflict, "conflict"),
            RepoError::NotFound => Self::new(ErrorCode::Failed, "not found"),
            other => {
                tracing::error!(error = %other, source = ?std::error::Error::source(&other), "storage failed");
                Self::new(ErrorCode::Failed, "internal error")
            }
        }
    }
}

impl From<SendMessageError> for Failure {
    fn from(e: SendMessageError) -> Self {
        match e {
            SendMessageError::NotParticipant => Self::not_participant(),
            SendMessageError::Blocked(side) => Self::blocked(side),
            SendMessageError::RateLimited(r) => Self::rate_limited(r),
            SendMessageError::Conflict => Self::new(
                ErrorCode::Conflict,
                "messageId or clientSequence already used by another message",
            ),
            SendMessageError::Repo(r) => r.into(),
        }
    }
}

impl From<MarkReadError> for Failure {
    fn from(e: MarkReadError) -> Self {
        match e {
            MarkReadError::NotParticipant => Self::not_participant(),
            MarkReadError::RateLimited(r) => Self::rate_limited(r),
            MarkReadError::Repo(r) => r.into(),
        }
    }
}

impl From<TypingError> for Failure {
    fn from(e: TypingError) -> Self {
        match e {
            TypingError::NotParticipant => Self::not_participant(),
            TypingError::Blocked(side) => Self::blocked(side),
            TypingError::RateLimited(r) => Self::rate_limited(r),
            TypingError::Repo(r) => r.into(),
        }
    }
}

impl From<PresenceUpdateError> for Failure {
    fn from(e: PresenceUpdateError) -> Self {
        match e {
            PresenceUpdateError::Repo(r) => r.into(),
        }
    }
}

impl From<BlockError> for Failure {
    fn from(e: BlockError) -> Self {
        match e {
            BlockError::NotParticipant => Self::not_participant(),
            BlockError::InvalidTarget(t) => Self::validation(t.to_string()),
            BlockError::RateLimited(r) => Self::rate_limited(r),
            BlockError::Repo(r) => r.into(),
        }
    }
}

impl From<MuteError> for Failure {
    fn from(e: MuteError) -> Self {
        match e {
            MuteError::NotParticipant => Self::not_participant(),
            MuteError::UntilInPast(t) => Self::validation(t.to_string()),
            MuteError::RateLimited(r) => Self::rate_limited(r),
            MuteError::Repo(r) => r.into(),
        }
    }
}

impl From<RefreshError> for Failure {
    fn from(e: RefreshError) -> Self {
        match e {
            // The message is the token's wire code, as in a refused handshake.
            RefreshError::Token(t) => {
                Self::new(ErrorCode::Unauthorized, ConnectRefusal::from(t).to_string())
            }
            RefreshError::DifferentUser => {
                Self::new(ErrorCode::Unauthorized, "the token belongs to another user")
            }
            RefreshError::Repo(r) => r.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::ports::TokenError;

    use super::*;

    #[test]
    fn a_refused_refresh_says_the_token_code_not_the_domain_prose() {
        for (token, code) in [
            (TokenError::Missing, "token_missing"),
            (TokenError::Invalid, "token_invalid"),
            (TokenError::Expired, "token_expired"),
        ] {
            let failure = Failure::from(RefreshError::Token(token));
            assert_eq!(failure.code, ErrorCode::Unauthorized);
            assert_eq!(failure.message, code);
        }
    }
}
