//! Conversations, the chat list and history.

use chat_domain::{
    ConversationKind, PresenceStatus, StoredMessage,
    service::{self, HistoryMessage, HistoryView, read_by},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::time_format::format_timestamp;

/// `POST /conversations/create/one-to-one` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOneToOne {
    /// The other user.
    pub participant_id: Uuid,
}

/// The kind of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationType {
    /// Two participants.
    OneToOne,
}

impl From<ConversationKind> for ConversationType {
    fn from(kind: ConversationKind) -> Self {
        match kind {
            ConversationKind::OneToOne => Self::OneToOne,
        }
    }
}

/// A participant of a conversation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    /// Who.
    pub user_id: Uuid,
    /// Display name, `null` when unknown.
    #[schema(required = true)]
    pub name: Option<String>,
    /// When they joined.
    #[schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub joined_at: String,
}

/// A conversation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// Which.
    pub conversation_id: Uuid,
    /// What kind (`one_to_one`).
    #[serde(rename = "type")]
    pub kind: ConversationType,
    /// Its participants.
    pub participants: Vec<Participant>,
    /// When it was created.
    #[schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub created_at: String,
}

impl From<&chat_domain::Conversation> for Conversation {
    fn from(c: &chat_domain::Conversation) -> Self {
        Self {
            conversation_id: c.id.get(),
            kind: c.kind.into(),
            participants: c
                .participants
                .iter()
                .filter(|p| p.is_active())
                .map(|p| Participant {
                    user_id: p.user_id.get(),
                    name: p.name.as_ref().map(|n| n.as_str().to_owned()),
                    joined_at: format_timestamp(p.joined_at),
                })
                .collect(),
            created_at: format_timestamp(c.created_at),
        }
    }
}

/// A message as history and the chat list show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The client's id for it.
    pub message_id: Uuid,
    /// Where.
    pub conversation_id: Uuid,
    /// Who sent it.
    pub sender_id: Uuid,
    /// The sender's display name, `null` when unknown.
    #[schema(required = true)]
    pub sender_name: Option<String>,
    /// The text.
    pub content: String,
    /// When it was committed.
    #[schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub timestamp: String,
    /// Its place in the conversation (from 1).
    pub server_sequence: u64,
    /// The participants, the sender excepted, whose read marker has reached it.
    pub read_by: Vec<Uuid>,
}

impl From<HistoryMessage> for Message {
    fn from(h: HistoryMessage) -> Self {
        let m: StoredMessage = h.message;
        Self {
            message_id: m.id.get(),
            conversation_id: m.conversation_id.get(),
            sender_id: m.sender_id.get(),
            sender_name: m.sender_name.map(|n| n.as_str().to_owned()),
            content: m.content.as_str().to_owned(),
            timestamp: format_timestamp(m.created_at),
            server_sequence: m.server_sequence.get(),
            read_by: h.read_by.into_iter().map(|u| u.get()).collect(),
        }
    }
}

/// `GET /conversations/{id}/messages` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct History {
    /// Ascending by `serverSequence`.
    pub items: Vec<Message>,
    /// Whether more exist in the paging direction.
    pub has_more: bool,
}

impl From<HistoryView> for History {
    fn from(v: HistoryView) -> Self {
        Self {
            items: v.items.into_iter().map(Message::from).collect(),
            has_more: v.has_more,
        }
    }
}

/// `GET /conversations/{id}/messages` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct HistoryParams {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Without `beforeSequence`/`afterSequence`: how many of the newest to skip (default 0).
    pub offset: Option<u64>,
    /// Page back: the newest `limit` messages before this sequence.
    pub before_sequence: Option<u64>,
    /// Catch up: the first `limit` messages after this sequence.
    pub after_sequence: Option<u64>,
    /// Only messages at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Only messages at or before this instant (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
}

/// A user's presence as the viewer may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// A device is online.
    Online,
    /// Every connected device is away.
    Away,
    /// Not connected (or hidden by a block).
    Offline,
}

impl From<PresenceStatus> for Presence {
    fn from(s: PresenceStatus) -> Self {
        match s {
            PresenceStatus::Online => Self::Online,
            PresenceStatus::Away => Self::Away,
            PresenceStatus::Offline => Self::Offline,
        }
    }
}

/// A participant as the chat list shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatListParticipant {
    /// Who.
    pub user_id: Uuid,
    /// Display name, `null` when unknown.
    #[schema(required = true)]
    pub name: Option<String>,
    /// Their presence.
    pub presence: Presence,
}

/// One conversation of the chat list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatListItem {
    /// Which.
    pub conversation_id: Uuid,
    /// What kind.
    #[serde(rename = "type")]
    pub kind: ConversationType,
    /// Its participants, you included.
    pub participants: Vec<ChatListParticipant>,
    /// The newest message, `null` when none.
    #[schema(required = true)]
    pub last_message: Option<Message>,
    /// Messages others sent after your read marker.
    pub unread_count: u64,
    /// Whether you muted it.
    pub muted: bool,
    /// Whether you blocked someone in it.
    pub blocked_by_me: bool,
    /// Whether someone in it blocked you.
    pub blocked_me: bool,
    /// Newest activity: the last message's time, else the creation time.
    #[schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")]
    pub updated_at: String,
}

impl From<service::ChatListItem> for ChatListItem {
    fn from(item: service::ChatListItem) -> Self {
        let entry = item.entry;
        let last_message = entry.last_message.map(|mut message| {
            let read_by = read_by(&message, &entry.participants);
            if message.sender_name.is_none() {
                message.sender_name = entry
                    .participants
                    .iter()
                    .find(|p| p.user_id == message.sender_id)
                    .and_then(|p| p.name.clone());
            }
            Message::from(HistoryMessage { message, read_by })
        });
        Self {
            conversation_id: entry.conversation_id.get(),
            kind: entry.kind.into(),
            participants: item
                .participants
                .into_iter()
                .map(|p| ChatListParticipant {
                    user_id: p.user_id.get(),
                    name: p.name.map(|n| n.as_str().to_owned()),
                    presence: p.presence.into(),
                })
                .collect(),
            last_message,
            unread_count: entry.unread_count,
            muted: entry.muted,
            blocked_by_me: entry.blocked_by_me,
            blocked_me: entry.blocked_me,
            updated_at: format_timestamp(entry.updated_at),
        }
    }
}

/// `GET /conversations/chat-list` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatList {
    /// Newest activity first.
    pub items: Vec<ChatListItem>,
    /// How many conversations you are in.
    pub total: u64,
    /// The page size used.
    pub limit: u32,
    /// The offset used.
    pub offset: u64,
}

/// `GET /conversations/chat-list` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ChatListParams {
    /// Page size, 1..=100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// How many to skip (default 0).
    pub offset: Option<u64>,
}
