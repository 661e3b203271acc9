//! Groups and the change log (sections 7 and 9): membership events, the member list, and the
//! changes a member may see, each carrying its `changeSequence`.

use chat_domain::{
    ConversationId, UserId,
    change::{Change, ChangeBody, ChangeKind, ChangeSequence, GroupEvent},
    ports::ChangePage,
    service::{MemberList, MembersAdded},
};
use serde::Serialize;
use uuid::Uuid;

use super::{
    conversation::{Conversation, ConversationType, MemberRole, Presence},
    message::MessageReceived,
};
use crate::{events::outbound, time};

fn ids(users: &[UserId]) -> Vec<Uuid> {
    users.iter().map(|u| u.get()).collect()
}

/// `conversation:joined`: you became a member (a new conversation's first members included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ConversationJoined {
    /// The conversation as it is now.
    pub conversation: Conversation,
    /// The change that made you a member.
    pub change_sequence: u64,
}

/// `member:added`, to the conversation's room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MemberAdded {
    /// Where.
    pub conversation_id: Uuid,
    /// Who joined.
    pub user_ids: Vec<Uuid>,
    /// Who added them.
    pub added_by: Uuid,
    /// This change.
    pub change_sequence: u64,
}

/// `member:removed`, to the conversation's room (`removedBy` = `userId` when leaving).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MemberRemoved {
    /// Where.
    pub conversation_id: Uuid,
    /// Who left.
    pub user_id: Uuid,
    /// Who removed them.
    pub removed_by: Uuid,
    /// This change.
    pub change_sequence: u64,
}

/// `member:role_changed`, to the conversation's room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MemberRoleChanged {
    /// Where.
    pub conversation_id: Uuid,
    /// Whose role.
    pub user_id: Uuid,
    /// The new role.
    pub role: MemberRole,
    /// Who changed it (the one who left, when ownership passed on).
    pub changed_by: Uuid,
    /// This change.
    pub change_sequence: u64,
}

/// `conversation:updated`: the title changed, to the conversation's room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ConversationUpdated {
    /// Where.
    pub conversation_id: Uuid,
    /// The new title.
    pub title: String,
    /// Who changed it.
    pub updated_by: Uuid,
    /// This change.
    pub change_sequence: u64,
}

/// `conversation:left`: you were removed, or left, to every socket of yours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ConversationLeft {
    /// Where.
    pub conversation_id: Uuid,
    /// Who removed you (yourself when leaving).
    pub removed_by: Uuid,
    /// The change that removed you.
    pub change_sequence: u64,
}

impl ConversationLeft {
    /// `removed_by` removed the user from `conversation` with change `change`.
    #[must_use]
    pub fn new(conversation: ConversationId, removed_by: UserId, change: ChangeSequence) -> Self {
        Self {
            conversation_id: conversation.get(),
            removed_by: removed_by.get(),
            change_sequence: change.get(),
        }
    }
}

/// The data of change 1: the conversation was created with its first members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ConversationCreated {
    /// Which.
    pub conversation_id: Uuid,
    /// What kind.
    #[serde(rename = "type")]
    pub kind: ConversationType,
    /// A group's title; `null` for a one-to-one.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub title: Option<String>,
    /// Who created it (`null` for one-to-ones older than the change log).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub created_by: Option<Uuid>,
    /// The first members, the creator included.
    pub member_ids: Vec<Uuid>,
}

/// The payload of a change: that change's live event (a new message as `message:received`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub enum ChangeData {
    /// `kind: message`.
    Message(MessageReceived),
    /// `kind: conversation`, change 1.
    Created(ConversationCreated),
    /// `kind: conversation`, a new title.
    Updated(ConversationUpdated),
    /// `kind: member`, members added.
    Added(MemberAdded),
    /// `kind: member`, a member removed or gone.
    Removed(MemberRemoved),
    /// `kind: member`, a role changed.
    RoleChanged(MemberRoleChanged),
}

impl ChangeData {
    /// The payload of `change`.
    #[must_use]
    pub fn of(change: &Change) -> Self {
        let conversation_id = change.conversation_id.get();
        let change_sequence = change.sequence.get();
        match &change.body {
            ChangeBody::Message(m) => Self::Message(MessageReceived::from(m)),
            ChangeBody::Group(event) => match event {
                GroupEvent::Created {
                    kind,
                    title,
                    created_by,
                    member_ids,
                } => Self::Created(ConversationCreated {
                    conversation_id,
                    kind: (*kind).into(),
                    title: title.as_ref().map(|t| t.as_str().to_owned()),
                    created_by: created_by.map(|u| u.get()),
                    member_ids: ids(member_ids),
                }),
                GroupEvent::Renamed { title, by } => Self::Updated(ConversationUpdated {
                    conversation_id,
                    title: title.as_str().to_owned(),
                    updated_by: by.get(),
                    change_sequence,
                }),
                GroupEvent::MembersAdded { user_ids, by } => Self::Added(MemberAdded {
                    conversation_id,
                    user_ids: ids(user_ids),
                    added_by: by.get(),
                    change_sequence,
                }),
                GroupEvent::MemberRemoved { user_id, by } => Self::Removed(MemberRemoved {
                    conversation_id,
                    user_id: user_id.get(),
                    removed_by: by.get(),
                    change_sequence,
                }),
                GroupEvent::RoleChanged { user_id, role, by } => {
                    Self::RoleChanged(MemberRoleChanged {
                        conversation_id,
                        user_id: user_id.get(),
                        role: (*role).into(),
                        changed_by: by.get(),
                        change_sequence,
                    })
                }
            },
        }
    }

    /// The live event this payload goes out as, when it is broadcast to the room (change 1 is
    /// not: its members get `conversation:joined`).
    #[must_use]
    pub const fn live_event(&self) -> Option<&'static str> {
        match self {
            Self::Message(_) => Some(outbound::MESSAGE_RECEIVED),
            Self::Created(_) => None,
            Self::Updated(_) => Some(outbound::CONVERSATION_UPDATED),
            Self::Added(_) => Some(outbound::MEMBER_ADDED),
            Self::Removed(_) => Some(outbound::MEMBER_REMOVED),
            Self::RoleChanged(_) => Some(outbound::MEMBER_ROLE_CHANGED),
        }
    }
}

/// The kind of a change, as the wire names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub enum ChangeKindName {
    /// A new message.
    Message,
    /// An edit.
    Edit,
    /// A delete.
    Delete,
    /// A reaction added or removed.
    Reaction,
    /// A member added, removed, or their role changed.
    Member,
    /// The conversation created, or its title changed.
    Conversation,
}

impl From<ChangeKind> for ChangeKindName {
    fn from(kind: ChangeKind) -> Self {
        match kind {
            ChangeKind::Message => Self::Message,
            ChangeKind::Edit => Self::Edit,
            ChangeKind::Delete => Self::Delete,
            ChangeKind::Reaction => Self::Reaction,
            ChangeKind::Member => Self::Member,
            ChangeKind::Conversation => Self::Conversation,
        }
    }
}

/// One change of the log (`GET /conversations/{id}/changes` items; `pendingChanges` items also
/// carry `conversationId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ChangeItem {
    /// The conversation (in `pendingChanges` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub conversation_id: Option<Uuid>,
    /// Its place in the conversation's log.
    pub change_sequence: u64,
    /// What changed.
    pub kind: ChangeKindName,
    /// When it was committed.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub at: String,
    /// The payload of that change's live event.
    pub data: ChangeData,
}

impl ChangeItem {
    /// `change`; with its conversation named when `named` (resume lists several).
    #[must_use]
    pub fn new(change: &Change, named: bool) -> Self {
        Self {
            conversation_id: named.then(|| change.conversation_id.get()),
            change_sequence: change.sequence.get(),
            kind: change.body.kind().into(),
            at: time::format(change.at),
            data: ChangeData::of(change),
        }
    }
}

/// `GET /conversations/{id}/changes` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Changes {
    /// Ascending by `changeSequence`; the numbering may jump (changes outside your windows).
    pub items: Vec<ChangeItem>,
    /// Whether more follow.
    pub has_more: bool,
    /// The newest change you may know of (the end of your last window once removed).
    pub last_change_sequence: u64,
}

impl From<&ChangePage> for Changes {
    fn from(page: &ChangePage) -> Self {
        Self {
            items: page
                .items
                .iter()
                .map(|c| ChangeItem::new(c, false))
                .collect(),
            has_more: page.has_more,
            last_change_sequence: page.last_change.get(),
        }
    }
}

/// A member, as the member list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Member {
    /// Who.
    pub user_id: Uuid,
    /// Display name, `null` when unknown.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: Option<String>,
    /// Their role.
    pub role: MemberRole,
    /// When their current membership began.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub joined_at: String,
    /// Their presence (at any group size).
    pub presence: Presence,
}

/// `GET /conversations/{id}/members` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MemberPage {
    /// Owner first, then by `joinedAt`.
    pub items: Vec<Member>,
    /// How many members the conversation has.
    pub total: u64,
    /// The page size used.
    pub limit: u32,
    /// The offset used.
    pub offset: u64,
}

impl MemberPage {
    /// A page of `list`, asked with `limit` and `offset`.
    #[must_use]
    pub fn new(list: &MemberList, limit: u32, offset: u64) -> Self {
        Self {
            items: list
                .items
                .iter()
                .map(|v| Member {
                    user_id: v.member.user_id.get(),
                    name: v.member.name.as_ref().map(|n| n.as_str().to_owned()),
                    role: v.member.role.into(),
                    joined_at: time::format(v.member.joined_at),
                    presence: v.presence.into(),
                })
                .collect(),
            total: list.total,
            limit,
            offset,
        }
    }
}

/// `POST /conversations/{id}/members` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MembersAddedAnswer {
    /// Who was added.
    pub added: Vec<Uuid>,
    /// Who already was a member.
    pub already_members: Vec<Uuid>,
}

impl From<&MembersAdded> for MembersAddedAnswer {
    fn from(m: &MembersAdded) -> Self {
        Self {
            added: ids(&m.added),
            already_members: ids(&m.already_members),
        }
    }
}
