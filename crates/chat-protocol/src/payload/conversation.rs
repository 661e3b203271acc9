//! Conversations, the chat list and history (section 6).

use chat_domain::{
    ConversationKind, PresenceStatus,
    group::Role,
    service::{self, HistoryMessage, HistoryView, read_by},
};
use serde::Serialize;
use uuid::Uuid;

use super::message::Message;
use crate::time;

/// The kind of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub enum ConversationType {
    /// Two participants.
    OneToOne,
    /// A titled group with roles.
    Group,
}

impl From<ConversationKind> for ConversationType {
    fn from(kind: ConversationKind) -> Self {
        match kind {
            ConversationKind::OneToOne => Self::OneToOne,
            ConversationKind::Group => Self::Group,
        }
    }
}

/// A member's role: exactly one `owner` per group; both sides of a one-to-one are `member`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub enum MemberRole {
    /// Manages the group, admins included.
    Owner,
    /// Manages members and the title.
    Admin,
    /// Sends and reads.
    Member,
}

impl From<Role> for MemberRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => Self::Owner,
            Role::Admin => Self::Admin,
            Role::Member => Self::Member,
        }
    }
}

/// A participant of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Participant {
    /// Who.
    pub user_id: Uuid,
    /// Display name, `null` when unknown.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: Option<String>,
    /// Their role.
    pub role: MemberRole,
    /// When they joined.
    #[cfg_attr(
        feature = "openapi",
        schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")
    )]
    pub joined_at: String,
}

/// A conversation (`Conversation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Conversation {
    /// Which.
    pub conversation_id: Uuid,
    /// What kind.
    #[serde(rename = "type")]
    pub kind: ConversationType,
    /// A group's title; `null` for a one-to-one.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub title: Option<String>,
    /// How many members it has now.
    pub member_count: u32,
    /// Its active participants (a group's members, owner first).
    pub participants: Vec<Participant>,
    /// When it was created.
    #[cfg_attr(
        feature = "openapi",
        schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")
    )]
    pub created_at: String,
}

impl From<&chat_domain::Conversation> for Conversation {
    fn from(c: &chat_domain::Conversation) -> Self {
        let mut participants: Vec<Participant> = c
            .participants
            .iter()
            .filter(|p| p.is_active())
            .map(|p| Participant {
                user_id: p.user_id.get(),
                name: p.name.as_ref().map(|n| n.as_str().to_owned()),
                role: p.role.into(),
                joined_at: time::format(p.joined_at),
            })
            .collect();
        if c.kind == ConversationKind::Group {
            participants.sort_by_key(|p| p.role != MemberRole::Owner);
        }
        Self {
            conversation_id: c.id.get(),
            kind: c.kind.into(),
            title: c.title.as_ref().map(|t| t.as_str().to_owned()),
            member_count: u32::try_from(participants.len()).unwrap_or(u32::MAX),
            participants,
            created_at: time::format(c.created_at),
        }
    }
}

impl From<HistoryMessage> for Message {
    fn from(h: HistoryMessage) -> Self {
        Self::new(&h.message, &h.read_by)
    }
}

/// `GET /conversations/{id}/messages` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
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

/// A user's presence as the viewer may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ChatListParticipant {
    /// Who.
    pub user_id: Uuid,
    /// Display name, `null` when unknown.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: Option<String>,
    /// Their presence.
    pub presence: Presence,
}

/// One conversation of the chat list (`ChatListItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ChatListItem {
    /// Which.
    pub conversation_id: Uuid,
    /// What kind.
    #[serde(rename = "type")]
    pub kind: ConversationType,
    /// Its participants, you included.
    pub participants: Vec<ChatListParticipant>,
    /// The newest message, `null` when none.
    #[cfg_attr(feature = "openapi", schema(required = true))]
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
    #[cfg_attr(
        feature = "openapi",
        schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")
    )]
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
            Message::new(&message, &read_by)
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
            updated_at: time::format(entry.updated_at),
        }
    }
}

/// `GET /conversations/chat-list` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
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
