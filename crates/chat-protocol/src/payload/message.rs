//! Messages: `Message` (history, chat list), `message:received`, `MessageDelivered`.

use chat_domain::{ClientSequence, StoredMessage, UserId, events::Delivery};
use serde::Serialize;
use uuid::Uuid;

use crate::time;

/// A message as history and the chat list show it (`Message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Message {
    /// The client's id for it.
    pub message_id: Uuid,
    /// Where.
    pub conversation_id: Uuid,
    /// Who sent it.
    pub sender_id: Uuid,
    /// The sender's display name, `null` when unknown.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub sender_name: Option<String>,
    /// The text.
    pub content: String,
    /// When it was committed (RFC 3339).
    #[cfg_attr(
        feature = "openapi",
        schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")
    )]
    pub timestamp: String,
    /// Its place in the conversation (from 1).
    pub server_sequence: u64,
    /// The participants, the sender excepted, whose read marker has reached it.
    pub read_by: Vec<Uuid>,
}

impl Message {
    /// `m`, read by `read_by`.
    #[must_use]
    pub fn new(m: &StoredMessage, read_by: &[UserId]) -> Self {
        Self {
            message_id: m.id.get(),
            conversation_id: m.conversation_id.get(),
            sender_id: m.sender_id.get(),
            sender_name: m.sender_name.as_ref().map(|n| n.as_str().to_owned()),
            content: m.content.as_str().to_owned(),
            timestamp: time::format(m.created_at),
            server_sequence: m.server_sequence.get(),
            read_by: read_by.iter().map(|u| u.get()).collect(),
        }
    }
}

/// The status of a stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub enum DeliveryStatus {
    /// Durably committed.
    Delivered,
}

/// `message:received`: a new message, to the conversation's room (the sender's other devices
/// included); also each item of `pendingMessages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MessageReceived {
    /// The message (`readBy` is empty: nobody has read it yet).
    #[serde(flatten)]
    pub message: Message,
    /// The sending device.
    pub sender_device_id: String,
    /// The sending device's numbering, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub client_sequence: Option<u64>,
    /// Always `delivered`.
    pub status: DeliveryStatus,
}

impl From<&StoredMessage> for MessageReceived {
    fn from(m: &StoredMessage) -> Self {
        Self {
            message: Message::new(m, &[]),
            sender_device_id: m.sender_device_id.to_string(),
            client_sequence: m.client_sequence.map(ClientSequence::get),
            status: DeliveryStatus::Delivered,
        }
    }
}

/// `MessageDelivered`: the ack of `message:send`, and `message:delivered` to the sending socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MessageDelivered {
    /// Which.
    pub message_id: Uuid,
    /// Where.
    pub conversation_id: Uuid,
    /// Always `delivered`.
    pub status: DeliveryStatus,
    /// Its place in the conversation.
    pub server_sequence: u64,
    /// When it was committed, epoch milliseconds.
    pub server_timestamp: i64,
    /// When it was committed (RFC 3339).
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub persisted_at: String,
    /// Whether this answered a resend of a stored message.
    pub duplicate: bool,
}

impl From<&Delivery> for MessageDelivered {
    fn from(d: &Delivery) -> Self {
        Self {
            message_id: d.message.id.get(),
            conversation_id: d.message.conversation_id.get(),
            status: DeliveryStatus::Delivered,
            server_sequence: d.message.server_sequence.get(),
            server_timestamp: d.message.created_at.millis(),
            persisted_at: time::format(d.message.created_at),
            duplicate: d.duplicate,
        }
    }
}
