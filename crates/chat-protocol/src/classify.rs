//! The one classification of every service error into the contract's codes. Both transports
//! render what this decides; internal causes are logged here, once, and never reach a client.

use std::{error::Error as StdError, fmt::Write as _};

use chat_domain::{
    BlockSide, RepoError,
    block::BlockTargetError,
    ports::TokenError,
    service::{
        AuthError, BlockError, CreateConversationError, HistoryError, MarkReadError, MuteError,
        PresenceUpdateError, RateLimited, RefreshError, SendMessageError, TypingError,
    },
};

use crate::error::{ErrorCode, Failure};

/// Why a handshake was refused: the `connect_error` message is this code (section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeRefusal {
    /// No token.
    #[error("token_missing")]
    TokenMissing,
    /// A bad token.
    #[error("token_invalid")]
    TokenInvalid,
    /// An expired token.
    #[error("token_expired")]
    TokenExpired,
    /// A token issued before the user's tokens were revoked.
    #[error("token_revoked")]
    TokenRevoked,
    /// A bad `deviceId` or `lastSequences`.
    #[error("validation")]
    Validation,
    /// Storage is down.
    #[error("unavailable")]
    Unavailable,
    /// A page of another origin, not in `CHAT_CORS_ORIGINS`.
    #[error("origin_not_allowed")]
    OriginNotAllowed,
}

impl HandshakeRefusal {
    /// The wire code.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TokenMissing => "token_missing",
            Self::TokenInvalid => "token_invalid",
            Self::TokenExpired => "token_expired",
            Self::TokenRevoked => "token_revoked",
            Self::Validation => "validation",
            Self::Unavailable => "unavailable",
            Self::OriginNotAllowed => "origin_not_allowed",
        }
    }
}

impl From<TokenError> for HandshakeRefusal {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Missing => Self::TokenMissing,
            TokenError::Invalid => Self::TokenInvalid,
            TokenError::Expired => Self::TokenExpired,
            TokenError::Revoked => Self::TokenRevoked,
        }
    }
}

impl From<AuthError> for HandshakeRefusal {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Token(token) => token.into(),
            AuthError::Repo(repo) => {
                log_repo(&repo);
                Self::Unavailable
            }
        }
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

fn log_repo(error: &RepoError) {
    match error {
        RepoError::NotFound | RepoError::Conflict => {}
        RepoError::Unavailable(_) => {
            tracing::warn!(error = %source_chain(error), "storage unavailable");
        }
        _ => tracing::error!(error = %source_chain(error), "storage failed"),
    }
}

impl Failure {
    fn not_participant() -> Self {
        Self::new(
            ErrorCode::NotParticipant,
            "you are not a participant of this conversation",
        )
    }

    fn blocked(side: BlockSide) -> Self {
        Self {
            reason: Some(side.as_str()),
            ..Self::new(ErrorCode::Blocked, format!("blocked ({})", side.as_str()))
        }
    }

    fn rate_limited(limited: RateLimited) -> Self {
        let secs = limited.retry_after_secs.max(1);
        Self {
            retry_after: Some(secs),
            ..Self::new(
                ErrorCode::RateLimitExceeded,
                format!("rate limit exceeded; retry after {secs} s"),
            )
        }
    }

    fn token(e: TokenError) -> Self {
        Self::unauthorized(match e {
            TokenError::Missing => "a bearer token is required",
            TokenError::Invalid => "the token is invalid",
            TokenError::Expired => "the token has expired",
            TokenError::Revoked => "the token was revoked",
        })
    }
}

impl From<RepoError> for Failure {
    fn from(e: RepoError) -> Self {
        log_repo(&e);
        match e {
            RepoError::NotFound => Self::new(ErrorCode::NotFound, "no such resource"),
            RepoError::Conflict => Self::new(
                ErrorCode::Conflict,
                "the request conflicts with stored data",
            ),
            RepoError::Unavailable(_) => {
                Self::unavailable("storage is unavailable; retry the request later")
            }
            _ => Self::new(ErrorCode::Failed, "the request failed"),
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
            BlockError::NotParticipant
            | BlockError::InvalidTarget(BlockTargetError::NotParticipant(_)) => {
                Self::not_participant()
            }
            BlockError::InvalidTarget(target) => Self::validation(target.to_string()),
            BlockError::RateLimited(r) => Self::rate_limited(r),
            BlockError::Repo(r) => r.into(),
        }
    }
}

impl From<MuteError> for Failure {
    fn from(e: MuteError) -> Self {
        match e {
            MuteError::NotParticipant => Self::not_participant(),
            MuteError::UntilInPast(past) => Self::validation(past.to_string()),
            MuteError::RateLimited(r) => Self::rate_limited(r),
            MuteError::Repo(r) => r.into(),
        }
    }
}

impl From<AuthError> for Failure {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Token(token) => Self::token(token),
            AuthError::Repo(repo) => repo.into(),
        }
    }
}

impl From<RefreshError> for Failure {
    fn from(e: RefreshError) -> Self {
        match e {
            // The socket's refresh answers with the handshake's codes as its message, so that a
            // client tells an expired token from a bad one as it does at connect.
            RefreshError::Token(token) => {
                Self::unauthorized(HandshakeRefusal::from(token).as_str())
            }
            RefreshError::DifferentUser => Self::unauthorized("the token belongs to another user"),
            RefreshError::Repo(r) => r.into(),
        }
    }
}

impl From<CreateConversationError> for Failure {
    fn from(e: CreateConversationError) -> Self {
        match e {
            CreateConversationError::SameUser(_) => {
                Self::validation("participantId must be another user than you")
            }
            CreateConversationError::Repo(r) => r.into(),
        }
    }
}

impl From<HistoryError> for Failure {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::NotParticipant => Self::not_participant(),
            HistoryError::Repo(r) => r.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::{conversation::NotParticipant, mute::MuteUntilInPast};

    use super::*;

    #[test]
    fn a_caller_outside_the_conversation_is_not_participant_whatever_the_service() {
        let cases: [Failure; 5] = [
            SendMessageError::NotParticipant.into(),
            MarkReadError::NotParticipant.into(),
            BlockError::NotParticipant.into(),
            BlockError::InvalidTarget(BlockTargetError::NotParticipant(NotParticipant)).into(),
            HistoryError::NotParticipant.into(),
        ];
        for failure in cases {
            assert_eq!(failure.code, ErrorCode::NotParticipant, "{failure:?}");
        }
    }

    #[test]
    fn bad_targets_and_past_mutes_are_validation() {
        let cases: [Failure; 3] = [
            BlockError::InvalidTarget(BlockTargetError::SelfBlock).into(),
            BlockError::InvalidTarget(BlockTargetError::TargetNotParticipant).into(),
            MuteError::UntilInPast(MuteUntilInPast).into(),
        ];
        for failure in cases {
            assert_eq!(failure.code, ErrorCode::Validation, "{failure:?}");
        }
    }

    #[test]
    fn rate_limits_wait_at_least_a_second() {
        let f = Failure::from(MarkReadError::RateLimited(RateLimited {
            retry_after_secs: 0,
        }));
        assert_eq!(
            (f.code, f.retry_after),
            (ErrorCode::RateLimitExceeded, Some(1))
        );
    }

    #[test]
    fn storage_errors_keep_their_cause_to_themselves() {
        let f = Failure::from(SendMessageError::Repo(RepoError::unavailable(
            "connection refused to 10.0.0.7",
        )));
        assert_eq!(f.code, ErrorCode::Unavailable);
        assert!(!f.message.contains("10.0.0.7"));
        let f = Failure::from(RepoError::internal("syntax error at or near"));
        assert_eq!(f.code, ErrorCode::Failed);
        assert!(!f.message.contains("syntax"));
    }

    #[test]
    fn blocks_say_which_side() {
        let f = Failure::from(TypingError::Blocked(BlockSide::YouBlocked));
        assert_eq!(
            (f.code, f.reason),
            (ErrorCode::Blocked, Some("you_blocked"))
        );
    }

    #[test]
    fn token_errors_are_unauthorized_on_events_and_their_own_codes_at_handshake() {
        for e in [
            TokenError::Missing,
            TokenError::Invalid,
            TokenError::Expired,
            TokenError::Revoked,
        ] {
            assert_eq!(
                Failure::from(RefreshError::Token(e)).code,
                ErrorCode::Unauthorized
            );
        }
        assert_eq!(
            HandshakeRefusal::from(AuthError::Token(TokenError::Expired)).to_string(),
            "token_expired"
        );
        assert_eq!(
            HandshakeRefusal::from(AuthError::Token(TokenError::Revoked)).to_string(),
            "token_revoked"
        );
    }

    #[test]
    fn a_refused_refresh_says_the_token_code_not_the_domain_prose() {
        for (token, code) in [
            (TokenError::Missing, "token_missing"),
            (TokenError::Invalid, "token_invalid"),
            (TokenError::Expired, "token_expired"),
            (TokenError::Revoked, "token_revoked"),
        ] {
            let failure = Failure::from(RefreshError::Token(token));
            assert_eq!(failure.code, ErrorCode::Unauthorized);
            assert_eq!(failure.message, code);
        }
    }
}
