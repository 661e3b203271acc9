//! Read markers and unread counts: `ReadAck`, `unread_count:updated`, `read_receipt:received`.

use chat_domain::{
    events::{ReadReceipt, UnreadUpdate},
    service,
};
use serde::Serialize;
use uuid::Uuid;

use crate::time;

/// `ReadAck`: the answer to `message:read` and `POST /conversations/{id}/read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ReadAck {
    /// Where.
    pub conversation_id: Uuid,
    /// Your marker after the read (0: nothing read).
    pub last_read_sequence: u64,
    /// When your marker last moved, `null` if never.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, format = DateTime, example = "2026-01-27T10:30:01.234Z")
    )]
    pub last_read_at: Option<String>,
    /// When this read was handled.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub updated_at: String,
    /// Messages still unread after it.
    pub new_unread_count: u64,
}

impl From<&service::ReadAck> for ReadAck {
    fn from(a: &service::ReadAck) -> Self {
        Self {
            conversation_id: a.conversation_id.get(),
            last_read_sequence: a.last_read_sequence.get(),
            last_read_at: time::format_optional(a.last_read_at),
            updated_at: time::format(a.updated_at),
            new_unread_count: a.new_unread_count,
        }
    }
}

/// `unread_count:updated`, to every socket of the user whose count changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct UnreadCountUpdated {
    /// Which conversation.
    pub conversation_id: Uuid,
    /// Messages others sent after the marker.
    pub unread_count: u64,
    /// When computed.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub updated_at: String,
    /// When the marker last moved, `null` if never.
    #[cfg_attr(feature = "openapi", schema(required = true, format = DateTime))]
    pub last_read_at: Option<String>,
    /// The user's marker.
    pub last_read_sequence: u64,
    /// Whether the user muted the conversation.
    pub muted: bool,
}

impl From<&UnreadUpdate> for UnreadCountUpdated {
    fn from(u: &UnreadUpdate) -> Self {
        Self {
            conversation_id: u.conversation_id.get(),
            unread_count: u.unread_count,
            updated_at: time::format(u.updated_at),
            last_read_at: time::format_optional(u.last_read_at),
            last_read_sequence: u.last_read_sequence.get(),
            muted: u.muted,
        }
    }
}

/// `read_receipt:received`: a participant's marker moved, to the conversation's room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ReadReceiptReceived {
    /// Where.
    pub conversation_id: Uuid,
    /// Who read.
    pub user_id: Uuid,
    /// When the marker moved, `null` if never.
    #[cfg_attr(feature = "openapi", schema(required = true, format = DateTime))]
    pub last_read_at: Option<String>,
    /// Up to which message.
    pub last_read_sequence: u64,
}

impl From<&ReadReceipt> for ReadReceiptReceived {
    fn from(r: &ReadReceipt) -> Self {
        Self {
            conversation_id: r.conversation_id.get(),
            user_id: r.user_id.get(),
            last_read_at: time::format_optional(r.last_read_at),
            last_read_sequence: r.last_read_sequence.get(),
        }
    }
}
