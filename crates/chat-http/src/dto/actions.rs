//! Read markers, blocks and mutes: request bodies, answers and the `users/me` lists.

use chat_domain::{Block, ConversationId, Mute, service};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::time_format::{format_optional, format_timestamp};

/// `POST /conversations/{id}/read` body: at least one of the fields.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadRequest {
    /// Read up to the newest message at or before this instant (RFC 3339).
    #[schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub last_read_at: Option<String>,
    /// Read up to this sequence.
    pub last_read_sequence: Option<u64>,
    /// Read up to the newest of these messages.
    #[serde(default)]
    pub message_ids: Vec<Uuid>,
}

/// The answer to a read.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadAck {
    /// Where.
    pub conversation_id: Uuid,
    /// Your marker after the read (0: nothing read).
    pub last_read_sequence: u64,
    /// When your marker last moved, `null` if never.
    #[schema(required = true, format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub last_read_at: Option<String>,
    /// When this read was handled.
    #[schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub updated_at: String,
    /// Messages still unread after it.
    pub new_unread_count: u64,
}

impl From<service::ReadAck> for ReadAck {
    fn from(a: service::ReadAck) -> Self {
        Self {
            conversation_id: a.conversation_id.get(),
            last_read_sequence: a.last_read_sequence.get(),
            last_read_at: format_optional(a.last_read_at),
            updated_at: format_timestamp(a.updated_at),
            new_unread_count: a.new_unread_count,
        }
    }
}

/// `POST /conversations/{id}/block` and `/unblock` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockRequest {
    /// The other participant.
    pub blocked_user_id: Uuid,
}

/// The answer to a block or unblock.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockResult {
    /// Always `true` (failures are problems).
    pub success: bool,
    /// Where.
    pub conversation_id: Uuid,
    /// Whom.
    pub blocked_user_id: Uuid,
    /// Since when the block stands (block only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub blocked_at: Option<String>,
}

impl BlockResult {
    /// The answer to a block.
    #[must_use]
    pub fn blocked(block: &Block) -> Self {
        Self {
            success: true,
            conversation_id: block.conversation_id.get(),
            blocked_user_id: block.blocked_id.get(),
            blocked_at: Some(format_timestamp(block.blocked_at)),
        }
    }

    /// The answer to an unblock (whether or not a block stood).
    #[must_use]
    pub fn unblocked(conversation: ConversationId, blocked_user: Uuid) -> Self {
        Self {
            success: true,
            conversation_id: conversation.get(),
            blocked_user_id: blocked_user,
            blocked_at: None,
        }
    }
}

/// `POST /conversations/{id}/mute` body (may be empty: muted until unmuted).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MuteRequest {
    /// Until when (RFC 3339, in the future); absent or `null`: until unmuted.
    #[schema(format = DateTime, example = "2026-01-28T10:30:00.000Z")]
    pub muted_until: Option<String>,
}

/// The answer to a mute or unmute.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MuteResult {
    /// Always `true` (failures are problems).
    pub success: bool,
    /// Where.
    pub conversation_id: Uuid,
    /// Since when (mute only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub muted_at: Option<String>,
    /// Until when (mute with an expiry only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, example = "2026-01-28T10:30:00.000Z")]
    pub muted_until: Option<String>,
}

impl MuteResult {
    /// The answer to a mute.
    #[must_use]
    pub fn muted(mute: &Mute) -> Self {
        Self {
            success: true,
            conversation_id: mute.conversation_id.get(),
            muted_at: Some(format_timestamp(mute.muted_at)),
            muted_until: format_optional(mute.muted_until),
        }
    }

    /// The answer to an unmute (whether or not a mute stood).
    #[must_use]
    pub fn unmuted(conversation: ConversationId) -> Self {
        Self {
            success: true,
            conversation_id: conversation.get(),
            muted_at: None,
            muted_until: None,
        }
    }
}

/// One block you made (`GET /users/me/blocks`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockEntry {
    /// Where.
    pub conversation_id: Uuid,
    /// Whom.
    pub blocked_user_id: Uuid,
    /// Since when.
    #[schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub blocked_at: String,
}

impl From<Block> for BlockEntry {
    fn from(b: Block) -> Self {
        Self {
            conversation_id: b.conversation_id.get(),
            blocked_user_id: b.blocked_id.get(),
            blocked_at: format_timestamp(b.blocked_at),
        }
    }
}

/// One mute of yours in force (`GET /users/me/mutes`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MuteEntry {
    /// Where.
    pub conversation_id: Uuid,
    /// Since when.
    #[schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub muted_at: String,
    /// Until when; `null`: until unmuted.
    #[schema(required = true, format = DateTime, example = "2026-01-28T10:30:00.000Z")]
    pub muted_until: Option<String>,
}

impl From<Mute> for MuteEntry {
    fn from(m: Mute) -> Self {
        Self {
            conversation_id: m.conversation_id.get(),
            muted_at: format_timestamp(m.muted_at),
            muted_until: format_optional(m.muted_until),
        }
    }
}
