//! One wire vocabulary: every service error, rendered by the REST adapter (a problem) and by the
//! Socket.IO adapter (an ack, `error:{code}` and its payload), carries the same code, and the
//! REST status is the one the contract gives that code.

#![allow(clippy::expect_used, reason = "tests")]

use axum::{body::to_bytes, response::IntoResponse};
use chat_domain::{
    BlockSide, RepoError, Timestamp,
    block::BlockTargetError,
    conversation::{NotParticipant, SameUserError},
    mute::MuteUntilInPast,
    ports::TokenError,
    service::{
        AuthError, BlockError, CreateConversationError, HistoryError, MarkReadError, MuteError,
        PresenceUpdateError, RateLimited, RefreshError, SendMessageError, TypingError,
    },
};
use chat_http::ApiError;
use chat_protocol::{ErrorCode, Failure, FailureContext, events::inbound};
use serde_json::Value;

const LIMITED: RateLimited = RateLimited {
    retry_after_secs: 7,
};

/// Makes one service error twice (they are not `Clone`): once for each transport.
type Sample = Box<dyn Fn() -> (ApiError, Failure)>;

/// One sample of every variant of every service error.
fn samples() -> Vec<(&'static str, Sample)> {
    macro_rules! both {
        ($e:expr) => {
            Box::new(|| (ApiError::from($e), Failure::from($e)))
        };
    }
    vec![
        ("repo not found", both!(RepoError::NotFound)),
        ("repo conflict", both!(RepoError::Conflict)),
        ("repo unavailable", both!(RepoError::unavailable("down"))),
        ("repo internal", both!(RepoError::internal("bug"))),
        (
            "send not participant",
            both!(SendMessageError::NotParticipant),
        ),
        (
            "send blocked",
            both!(SendMessageError::Blocked(BlockSide::UserBlocked)),
        ),
        (
            "send you blocked",
            both!(SendMessageError::Blocked(BlockSide::YouBlocked)),
        ),
        (
            "send rate limited",
            both!(SendMessageError::RateLimited(LIMITED)),
        ),
        ("send conflict", both!(SendMessageError::Conflict)),
        (
            "send repo",
            both!(SendMessageError::Repo(RepoError::unavailable("down"))),
        ),
        ("read not participant", both!(MarkReadError::NotParticipant)),
        (
            "read rate limited",
            both!(MarkReadError::RateLimited(LIMITED)),
        ),
        (
            "read repo",
            both!(MarkReadError::Repo(RepoError::internal("bug"))),
        ),
        ("typing not participant", both!(TypingError::NotParticipant)),
        (
            "typing blocked",
            both!(TypingError::Blocked(BlockSide::YouBlocked)),
        ),
        (
            "typing rate limited",
            both!(TypingError::RateLimited(LIMITED)),
        ),
        (
            "typing repo",
            both!(TypingError::Repo(RepoError::unavailable("down"))),
        ),
        (
            "presence repo",
            both!(PresenceUpdateError::Repo(RepoError::unavailable("down"))),
        ),
        ("block not participant", both!(BlockError::NotParticipant)),
        (
            "block caller outside",
            both!(BlockError::InvalidTarget(BlockTargetError::NotParticipant(
                NotParticipant
            ))),
        ),
        (
            "block self",
            both!(BlockError::InvalidTarget(BlockTargetError::SelfBlock)),
        ),
        (
            "block stranger",
            both!(BlockError::InvalidTarget(
                BlockTargetError::TargetNotParticipant
            )),
        ),
        (
            "block rate limited",
            both!(BlockError::RateLimited(LIMITED)),
        ),
        ("block repo", both!(BlockError::Repo(RepoError::Conflict))),
        ("mute not participant", both!(MuteError::NotParticipant)),
        (
            "mute in the past",
            both!(MuteError::UntilInPast(MuteUntilInPast)),
        ),
        ("mute rate limited", both!(MuteError::RateLimited(LIMITED))),
        ("mute repo", both!(MuteError::Repo(RepoError::NotFound))),
        ("auth missing", both!(AuthError::Token(TokenError::Missing))),
        ("auth invalid", both!(AuthError::Token(TokenError::Invalid))),
        ("auth expired", both!(AuthError::Token(TokenError::Expired))),
        (
            "auth repo",
            both!(AuthError::Repo(RepoError::unavailable("down"))),
        ),
        (
            "refresh token",
            both!(RefreshError::Token(TokenError::Expired)),
        ),
        ("refresh other user", both!(RefreshError::DifferentUser)),
        (
            "refresh repo",
            both!(RefreshError::Repo(RepoError::internal("bug"))),
        ),
        (
            "create same user",
            both!(CreateConversationError::SameUser(SameUserError)),
        ),
        (
            "create repo",
            both!(CreateConversationError::Repo(RepoError::Conflict)),
        ),
        (
            "history not participant",
            both!(HistoryError::NotParticipant),
        ),
        (
            "history repo",
            both!(HistoryError::Repo(RepoError::unavailable("down"))),
        ),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

/// The REST rendering: status and the problem's code, retryAfter and Retry-After header.
fn rest(error: ApiError) -> (u16, Value, Option<String>) {
    let response = error.into_response();
    let status = response.status().as_u16();
    let retry_header = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = runtime()
        .block_on(to_bytes(response.into_body(), 1 << 16))
        .expect("a body");
    let problem: Value = serde_json::from_slice(&body).expect("a JSON problem");
    (status, problem, retry_header)
}

#[test]
fn every_service_error_has_one_code_on_both_transports() {
    let context = FailureContext {
        conversation_id: Some("c".to_owned()),
        message_id: Some("m".to_owned()),
    };
    let mut seen = std::collections::BTreeSet::new();
    for (name, make) in samples() {
        let (api, failure) = make();
        let (status, problem, retry_header) = rest(api);
        let frames = chat_socketio::render_failure(
            &failure,
            inbound::MESSAGE_SEND,
            &context,
            Timestamp::from_millis(0),
        );
        let ack = serde_json::to_value(&frames.ack).expect("an ack");
        let payload = serde_json::to_value(&frames.payload).expect("a payload");
        let code = ack["error"]["code"].as_str().expect("a code").to_owned();

        assert_eq!(problem["code"], code.as_str(), "{name}: REST vs socket ack");
        assert_eq!(payload["code"], code.as_str(), "{name}: error payload");
        assert_eq!(frames.event, format!("error:{code}"), "{name}: event name");
        assert_eq!(
            problem["detail"], ack["error"]["message"],
            "{name}: one text for humans"
        );
        let code_enum = ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == code)
            .expect("a contract code");
        assert_eq!(status, code_enum.http_status(), "{name}: status of {code}");
        assert_eq!(
            problem["retryAfter"], ack["error"]["retryAfter"],
            "{name}: retryAfter"
        );
        assert_eq!(
            retry_header,
            ack["error"]["retryAfter"].as_u64().map(|s| s.to_string()),
            "{name}: Retry-After header"
        );
        let failed = serde_json::to_value(&frames.message_failed).expect("message:failed");
        assert_eq!(failed["error"], ack["error"], "{name}: message:failed");
        seen.insert(code);
    }
    // The samples reach every code the services can produce.
    for code in [
        "unauthorized",
        "validation",
        "not_participant",
        "blocked",
        "not_found",
    ] {
        assert!(seen.contains(code), "no sample gives {code}");
    }
    for code in ["conflict", "rate_limit_exceeded", "unavailable", "failed"] {
        assert!(seen.contains(code), "no sample gives {code}");
    }
}

#[test]
fn internal_causes_never_reach_a_client() {
    for (name, make) in samples() {
        let (api, failure) = make();
        let (_, problem, _) = rest(api);
        for text in [problem.to_string(), failure.ack().error.message.clone()] {
            for secret in ["down", "bug"] {
                assert!(
                    !text
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|w| w == secret),
                    "{name}: {text}"
                );
            }
        }
    }
}
