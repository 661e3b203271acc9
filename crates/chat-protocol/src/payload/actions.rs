//! Blocks and mutes: the acks, the events to the acting user, and the `users/me` lists.

use chat_domain::{Block, ConversationId, Mute, UserId};
use serde::Serialize;
use uuid::Uuid;

use crate::time;

/// The ack of `block:user` / `unblock:user` and the answer of their REST twins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct BlockResult {
    /// Always `true` (failures are errors).
    pub success: bool,
    /// Where.
    pub conversation_id: Uuid,
    /// Whom.
    pub blocked_user_id: Uuid,
    /// Since when the block stands (a block only: an unblock answers the same whether it lifted
    /// one or none stood).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub blocked_at: Option<String>,
}

impl BlockResult {
    /// A block (`Some`: the standing block) or an unblock (`None`) of `blocked` in
    /// `conversation`.
    #[must_use]
    pub fn new(conversation: ConversationId, blocked: UserId, block: Option<&Block>) -> Self {
        Self {
            success: true,
            conversation_id: conversation.get(),
            blocked_user_id: blocked.get(),
            blocked_at: block.map(|b| time::format(b.blocked_at)),
        }
    }
}

/// A block: `user:blocked` / `user:unblocked` to the blocker, and `GET /users/me/blocks` items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct BlockEntry {
    /// Where.
    pub conversation_id: Uuid,
    /// Whom.
    pub blocked_user_id: Uuid,
    /// Since when.
    #[cfg_attr(
        feature = "openapi",
        schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")
    )]
    pub blocked_at: String,
}

impl From<&Block> for BlockEntry {
    fn from(b: &Block) -> Self {
        Self {
            conversation_id: b.conversation_id.get(),
            blocked_user_id: b.blocked_id.get(),
            blocked_at: time::format(b.blocked_at),
        }
    }
}

/// A mute set or lifted: `conversation:muted` / `conversation:unmuted` to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(optional_fields))]
pub struct MuteChange {
    /// Where.
    pub conversation_id: Uuid,
    /// Since when (a mute only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub muted_at: Option<String>,
    /// Until when (a mute with an expiry only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub muted_until: Option<String>,
}

impl MuteChange {
    /// A mute (`Some`) or an unmute (`None`) of `conversation`.
    #[must_use]
    pub fn new(conversation: ConversationId, mute: Option<&Mute>) -> Self {
        Self {
            conversation_id: conversation.get(),
            muted_at: mute.map(|m| time::format(m.muted_at)),
            muted_until: mute.and_then(|m| time::format_optional(m.muted_until)),
        }
    }
}

/// The ack of `mute:conversation` / `unmute:conversation` and the answer of their REST twins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MuteResult {
    /// Always `true` (failures are errors).
    pub success: bool,
    /// What changed.
    #[serde(flatten)]
    pub change: MuteChange,
}

impl MuteResult {
    /// A mute (`Some`) or an unmute (`None`) of `conversation`.
    #[must_use]
    pub fn new(conversation: ConversationId, mute: Option<&Mute>) -> Self {
        Self {
            success: true,
            change: MuteChange::new(conversation, mute),
        }
    }
}

/// One mute of yours in force (`GET /users/me/mutes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MuteEntry {
    /// Where.
    pub conversation_id: Uuid,
    /// Since when.
    #[cfg_attr(
        feature = "openapi",
        schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")
    )]
    pub muted_at: String,
    /// Until when; `null`: until unmuted.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, format = DateTime, example = "2099-01-28T10:30:00.000Z")
    )]
    pub muted_until: Option<String>,
}

impl From<&Mute> for MuteEntry {
    fn from(m: &Mute) -> Self {
        Self {
            conversation_id: m.conversation_id.get(),
            muted_at: time::format(m.muted_at),
            muted_until: time::format_optional(m.muted_until),
        }
    }
}
