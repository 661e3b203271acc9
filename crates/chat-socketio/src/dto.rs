//! Payloads: what clients send (parsed and validated into domain values here) and what the
//! server sends (built from domain values here). Field names are the contract's, camelCase.

use std::collections::BTreeMap;

use chat_domain::{
    ClientSequence, ContentPolicy, ConversationId, MessageContent, MessageId, ServerSequence,
    StoredMessage, Timestamp, UserId,
    block::Block,
    events::{Delivery, ReadReceipt, UnreadUpdate},
    mute::Mute,
    presence::PresenceStatus,
    read_marker::ReadTarget,
    service::ReadAck,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::{error::Failure, wire_time};

/// Parses a JSON payload into `T`; anything that does not fit is a `validation` failure.
pub fn parse<T: DeserializeOwned>(payload: Value) -> Result<T, Failure> {
    if !payload.is_object() {
        return Err(Failure::validation("the payload must be a JSON object"));
    }
    serde_json::from_value(payload).map_err(|e| Failure::validation(e.to_string()))
}

fn uuid<T>(
    raw: &str,
    parse: fn(&str) -> Result<T, chat_domain::ids::ParseIdError>,
) -> Result<T, Failure> {
    parse(raw).map_err(|e| Failure::validation(e.to_string()))
}

/// `message:send`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendIn {
    conversation_id: String,
    content: String,
    message_id: String,
    client_timestamp: Option<i64>,
    client_sequence: Option<u64>,
    /// Informational (the sending device is the socket's), but type-checked like every field.
    #[serde(rename = "clientDeviceId")]
    _client_device_id: Option<String>,
}

/// A validated `message:send`.
#[derive(Debug, Clone)]
pub struct SendFields {
    /// Where.
    pub conversation_id: ConversationId,
    /// Which.
    pub message_id: MessageId,
    /// What.
    pub content: MessageContent,
    /// The device's numbering.
    pub client_sequence: Option<ClientSequence>,
    /// The client's clock.
    pub client_timestamp: Option<Timestamp>,
}

impl SendIn {
    /// Validates into domain values.
    ///
    /// # Errors
    /// `validation`.
    pub fn validate(self, policy: &ContentPolicy) -> Result<SendFields, Failure> {
        Ok(SendFields {
            conversation_id: uuid(&self.conversation_id, ConversationId::parse)?,
            message_id: uuid(&self.message_id, MessageId::parse)?,
            content: MessageContent::new(&self.content, policy)
                .map_err(|e| Failure::validation(e.to_string()))?,
            client_sequence: self.client_sequence.map(ClientSequence::new),
            client_timestamp: self.client_timestamp.map(Timestamp::from_millis),
        })
    }
}

/// `{conversationId}` (typing).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationIn {
    conversation_id: String,
}

impl ConversationIn {
    /// # Errors
    /// `validation`.
    pub fn validate(self) -> Result<ConversationId, Failure> {
        uuid(&self.conversation_id, ConversationId::parse)
    }
}

/// `message:read`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadIn {
    conversation_id: String,
    last_read_at: Option<String>,
    last_read_sequence: Option<u64>,
    message_ids: Option<Vec<String>>,
}

impl ReadIn {
    /// # Errors
    /// `validation`, also when none of the three targets is given.
    pub fn validate(self) -> Result<(ConversationId, ReadTarget), Failure> {
        let conversation = uuid(&self.conversation_id, ConversationId::parse)?;
        let at = self
            .last_read_at
            .as_deref()
            .map(|raw| wire_time::parse(raw, "lastReadAt"))
            .transpose()
            .map_err(Failure::validation)?;
        let ids = self
            .message_ids
            .unwrap_or_default()
            .iter()
            .map(|raw| uuid(raw, MessageId::parse))
            .collect::<Result<Vec<_>, _>>()?;
        let target = ReadTarget::new(self.last_read_sequence.map(ServerSequence::new), at, ids)
            .map_err(|e| Failure::validation(e.to_string()))?;
        Ok((conversation, target))
    }
}

/// `presence:update`.
#[derive(Debug, Deserialize)]
pub struct PresenceIn {
    status: String,
}

impl PresenceIn {
    /// # Errors
    /// `validation` unless `online` or `away`.
    pub fn validate(self) -> Result<PresenceStatus, Failure> {
        PresenceStatus::parse_settable(&self.status).map_err(|e| Failure::validation(e.to_string()))
    }
}

/// `block:user` / `unblock:user`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockIn {
    conversation_id: String,
    blocked_user_id: String,
}

impl BlockIn {
    /// # Errors
    /// `validation`.
    pub fn validate(self) -> Result<(ConversationId, UserId), Failure> {
        Ok((
            uuid(&self.conversation_id, ConversationId::parse)?,
            uuid(&self.blocked_user_id, UserId::parse)?,
        ))
    }
}

/// `mute:conversation` / `unmute:conversation`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MuteIn {
    conversation_id: String,
    muted_until: Option<String>,
}

impl MuteIn {
    /// # Errors
    /// `validation`.
    pub fn validate(self) -> Result<(ConversationId, Option<Timestamp>), Failure> {
        let until = self
            .muted_until
            .as_deref()
            .map(|raw| wire_time::parse(raw, "mutedUntil"))
            .transpose()
            .map_err(Failure::validation)?;
        Ok((uuid(&self.conversation_id, ConversationId::parse)?, until))
    }
}

/// `socket:ping`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PingIn {
    /// Echoed back.
    pub client_time: Option<Value>,
}

/// `auth`.
#[derive(Debug, Deserialize)]
pub struct AuthIn {
    /// The fresh token.
    pub token: String,
}

/// The handshake's `auth` object.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandshakeAuth {
    /// The token (preferred over `?token=`).
    pub token: Option<String>,
    /// The device id.
    pub device_id: Option<String>,
    /// Where the client stands, per conversation.
    pub last_sequences: Option<BTreeMap<String, u64>>,
}

/// `MessageDelivered`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveredOut {
    message_id: String,
    conversation_id: String,
    status: &'static str,
    server_sequence: u64,
    server_timestamp: i64,
    persisted_at: String,
    duplicate: bool,
}

impl From<&Delivery> for DeliveredOut {
    fn from(d: &Delivery) -> Self {
        Self {
            message_id: d.message.id.to_string(),
            conversation_id: d.message.conversation_id.to_string(),
            status: "delivered",
            server_sequence: d.message.server_sequence.get(),
            server_timestamp: d.message.created_at.millis(),
            persisted_at: wire_time::format(d.message.created_at),
            duplicate: d.duplicate,
        }
    }
}

/// `MessageReceived`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedOut {
    message_id: String,
    conversation_id: String,
    sender_id: String,
    sender_name: Option<String>,
    sender_device_id: String,
    content: String,
    timestamp: String,
    server_sequence: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_sequence: Option<u64>,
    status: &'static str,
    read_by: [String; 0],
}

impl From<&StoredMessage> for ReceivedOut {
    fn from(m: &StoredMessage) -> Self {
        Self {
            message_id: m.id.to_string(),
            conversation_id: m.conversation_id.to_string(),
            sender_id: m.sender_id.to_string(),
            sender_name: m.sender_name.as_ref().map(|n| n.as_str().to_owned()),
            sender_device_id: m.sender_device_id.to_string(),
            content: m.content.as_str().to_owned(),
            timestamp: wire_time::format(m.created_at),
            server_sequence: m.server_sequence.get(),
            client_sequence: m.client_sequence.map(ClientSequence::get),
            status: "delivered",
            read_by: [],
        }
    }
}

/// `unread_count:updated`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreadOut {
    conversation_id: String,
    unread_count: u64,
    updated_at: String,
    last_read_at: Option<String>,
    last_read_sequence: u64,
    muted: bool,
}

impl From<&UnreadUpdate> for UnreadOut {
    fn from(u: &UnreadUpdate) -> Self {
        Self {
            conversation_id: u.conversation_id.to_string(),
            unread_count: u.unread_count,
            updated_at: wire_time::format(u.updated_at),
            last_read_at: u.last_read_at.map(wire_time::format),
            last_read_sequence: u.last_read_sequence.get(),
            muted: u.muted,
        }
    }
}

/// `read_receipt:received`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptOut {
    conversation_id: String,
    user_id: String,
    last_read_at: Option<String>,
    last_read_sequence: u64,
}

impl From<&ReadReceipt> for ReceiptOut {
    fn from(r: &ReadReceipt) -> Self {
        Self {
            conversation_id: r.conversation_id.to_string(),
            user_id: r.user_id.to_string(),
            last_read_at: r.last_read_at.map(wire_time::format),
            last_read_sequence: r.last_read_sequence.get(),
        }
    }
}

/// `ReadAck`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadAckOut {
    conversation_id: String,
    last_read_sequence: u64,
    last_read_at: Option<String>,
    updated_at: String,
    new_unread_count: u64,
}

impl From<&ReadAck> for ReadAckOut {
    fn from(a: &ReadAck) -> Self {
        Self {
            conversation_id: a.conversation_id.to_string(),
            last_read_sequence: a.last_read_sequence.get(),
            last_read_at: a.last_read_at.map(wire_time::format),
            updated_at: wire_time::format(a.updated_at),
            new_unread_count: a.new_unread_count,
        }
    }
}

/// The block ack and `user:blocked` / `user:unblocked`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    success: Option<bool>,
    conversation_id: String,
    blocked_user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked_at: Option<String>,
}

impl BlockOut {
    /// The ack of a block or unblock.
    #[must_use]
    pub fn ack(conversation: ConversationId, blocked: UserId, at: Option<Timestamp>) -> Self {
        Self {
            success: Some(true),
            conversation_id: conversation.to_string(),
            blocked_user_id: blocked.to_string(),
            blocked_at: at.map(wire_time::format),
        }
    }

    /// The event about a block.
    #[must_use]
    pub fn event(b: &Block) -> Self {
        Self {
            success: None,
            conversation_id: b.conversation_id.to_string(),
            blocked_user_id: b.blocked_id.to_string(),
            blocked_at: Some(wire_time::format(b.blocked_at)),
        }
    }
}

/// The mute ack and `conversation:muted` / `conversation:unmuted`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MuteOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    success: Option<bool>,
    conversation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    muted_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    muted_until: Option<String>,
}

impl MuteOut {
    /// The ack (`success: true`) or the event, of a mute or of an unmute (`mute: None`).
    #[must_use]
    pub fn new(ack: bool, conversation: ConversationId, mute: Option<&Mute>) -> Self {
        Self {
            success: ack.then_some(true),
            conversation_id: conversation.to_string(),
            muted_at: mute.map(|m| wire_time::format(m.muted_at)),
            muted_until: mute.and_then(|m| m.muted_until).map(wire_time::format),
        }
    }
}

/// `typing:indicator`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingOut {
    conversation_id: String,
    user_id: String,
    is_typing: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
}

impl TypingOut {
    /// Builds the indicator.
    #[must_use]
    pub fn new(
        conversation: ConversationId,
        user: UserId,
        is_typing: bool,
        expires_at: Option<Timestamp>,
    ) -> Self {
        Self {
            conversation_id: conversation.to_string(),
            user_id: user.to_string(),
            is_typing,
            expires_at: expires_at.map(wire_time::format),
        }
    }
}

/// `presence:changed`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceOut {
    user_id: String,
    status: &'static str,
    last_seen_at: String,
}

impl PresenceOut {
    /// Builds the event.
    #[must_use]
    pub fn new(user: UserId, status: PresenceStatus, at: Timestamp) -> Self {
        Self {
            user_id: user.to_string(),
            status: status.as_str(),
            last_seen_at: wire_time::format(at),
        }
    }
}

/// `{conversationId: n}`.
#[must_use]
pub fn unread_map(counts: &[(ConversationId, u64)]) -> BTreeMap<String, u64> {
    counts.iter().map(|(c, n)| (c.to_string(), *n)).collect()
}
