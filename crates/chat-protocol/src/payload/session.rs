//! Sessions, typing, presence, ping and token refresh (sections 2, 4.3, 4.4 and 5).

use std::collections::BTreeMap;

use chat_domain::{
    ConversationId, DeviceId, PresenceStatus, SocketId, StoredMessage, Timestamp, UserId,
};
use serde::Serialize;
use uuid::Uuid;

use super::{conversation::Presence, message::MessageReceived};
use crate::time;

/// `{conversationId: n}`.
#[must_use]
pub fn by_conversation(counts: &[(ConversationId, u64)]) -> BTreeMap<String, u64> {
    counts.iter().map(|(c, n)| (c.to_string(), *n)).collect()
}

/// Who a greeting is for.
#[derive(Debug, Clone, Copy)]
pub struct Greeted<'a> {
    /// The user.
    pub user_id: UserId,
    /// Their device.
    pub device_id: &'a DeviceId,
    /// This connection.
    pub socket_id: &'a SocketId,
}

/// `connected`: a new session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Connected {
    /// Who.
    pub user_id: Uuid,
    /// The device (made by the server when the handshake named none).
    pub device_id: String,
    /// This connection.
    pub socket_id: String,
    /// Always `false`.
    pub resumed: bool,
    /// Unread messages per conversation.
    pub unread_counts: BTreeMap<String, u64>,
    /// The server's clock, epoch milliseconds.
    pub server_time: i64,
}

impl Connected {
    /// The greeting of a new session.
    #[must_use]
    pub fn new(who: Greeted<'_>, unread: &[(ConversationId, u64)], now: Timestamp) -> Self {
        Self {
            user_id: who.user_id.get(),
            device_id: who.device_id.to_string(),
            socket_id: who.socket_id.to_string(),
            resumed: false,
            unread_counts: by_conversation(unread),
            server_time: now.millis(),
        }
    }
}

/// The status of a resumed session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub enum ResumeStatus {
    /// The device came back within the resume window.
    Resumed,
}

/// `reconnected`: the same device came back within the resume window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Reconnected {
    /// Always `resumed`.
    pub status: ResumeStatus,
    /// Who.
    pub user_id: Uuid,
    /// The device.
    pub device_id: String,
    /// This connection.
    pub socket_id: String,
    /// What was committed while the device was away, oldest first by (conversation,
    /// `serverSequence`), at most 500.
    pub pending_messages: Vec<MessageReceived>,
    /// Unread messages per conversation.
    pub unread_counts: BTreeMap<String, u64>,
    /// Whether more than `pendingMessages` were missed (page REST history for the rest).
    pub has_more: bool,
    /// The server's clock, epoch milliseconds.
    pub server_time: i64,
}

impl Reconnected {
    /// The greeting of a resumed session.
    #[must_use]
    pub fn new(
        who: Greeted<'_>,
        pending: &[StoredMessage],
        has_more: bool,
        unread: &[(ConversationId, u64)],
        now: Timestamp,
    ) -> Self {
        Self {
            status: ResumeStatus::Resumed,
            user_id: who.user_id.get(),
            device_id: who.device_id.to_string(),
            socket_id: who.socket_id.to_string(),
            pending_messages: pending.iter().map(MessageReceived::from).collect(),
            unread_counts: by_conversation(unread),
            has_more,
            server_time: now.millis(),
        }
    }
}

/// The ack of `typing:start` / `typing:stop`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct TypingAck {
    /// Where.
    pub conversation_id: Uuid,
    /// Started or stopped.
    pub is_typing: bool,
}

/// `typing:indicator`, to the conversation's room but the socket that typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct TypingIndicator {
    /// Where.
    pub conversation_id: Uuid,
    /// Who.
    pub user_id: Uuid,
    /// Started or cleared.
    pub is_typing: bool,
    /// When it clears by itself (starts only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub expires_at: Option<String>,
}

impl TypingIndicator {
    /// `user` started (with its expiry) or stopped typing in `conversation`.
    #[must_use]
    pub fn new(
        conversation: ConversationId,
        user: UserId,
        is_typing: bool,
        expires_at: Option<Timestamp>,
    ) -> Self {
        Self {
            conversation_id: conversation.get(),
            user_id: user.get(),
            is_typing,
            expires_at: time::format_optional(expires_at),
        }
    }
}

/// The ack of `presence:update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct PresenceAck {
    /// Who.
    pub user_id: Uuid,
    /// What this connection now says.
    pub status: Presence,
}

/// `presence:changed`: a user's aggregate presence changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct PresenceChanged {
    /// Whose.
    pub user_id: Uuid,
    /// The new aggregate.
    pub status: Presence,
    /// When it changed.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub last_seen_at: String,
}

impl PresenceChanged {
    /// `user`'s aggregate became `status` at `at`.
    #[must_use]
    pub fn new(user: UserId, status: PresenceStatus, at: Timestamp) -> Self {
        Self {
            user_id: user.get(),
            status: status.into(),
            last_seen_at: time::format(at),
        }
    }
}

/// The ack of `socket:ping`, and `socket:pong`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Pong {
    /// The ping's `clientTime`, as sent (`null` when absent).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[cfg_attr(feature = "typescript", ts(type = "unknown"))]
    pub client_time: serde_json::Value,
    /// The server's clock, epoch milliseconds.
    pub server_time: i64,
}

/// The ack of `auth` (a token refresh).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct AuthAck {
    /// Who (unchanged).
    pub user_id: Uuid,
    /// When the new token expires.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub expires_at: String,
}
