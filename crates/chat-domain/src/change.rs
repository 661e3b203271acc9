//! The change log of a conversation (contract section 9): every change gets a `changeSequence`,
//! per conversation, from 1, strictly increasing and gap-free in commit order, assigned in the
//! transaction that makes the change.

use std::fmt;

use crate::{
    conversation::ConversationKind,
    group::{GroupTitle, Role},
    ids::{ConversationId, UserId},
    message::StoredMessage,
    time::Timestamp,
};

/// The place of a change in its conversation's log. `ChangeSequence::ZERO` stands for "before
/// the first change".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ChangeSequence(u64);

impl ChangeSequence {
    /// Before the first change.
    pub const ZERO: Self = Self(0);

    /// Wraps a change sequence number.
    #[must_use]
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// The number.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The change after this one.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for ChangeSequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a change changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// A new message (it keeps its `serverSequence` as well).
    Message,
    /// A message's content was edited.
    Edit,
    /// A message was deleted (its content erased).
    Delete,
    /// A reaction was added or removed.
    Reaction,
    /// A member was added or removed, or their role changed.
    Member,
    /// The conversation was created, or its title changed.
    Conversation,
}

impl ChangeKind {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::Message,
        Self::Edit,
        Self::Delete,
        Self::Reaction,
        Self::Member,
        Self::Conversation,
    ];

    /// The wire and storage name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Edit => "edit",
            Self::Delete => "delete",
            Self::Reaction => "reaction",
            Self::Member => "member",
            Self::Conversation => "conversation",
        }
    }

    /// The kind named `raw` (storage), if any.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Whether changes of this kind are about one message (and so shown to a member only if
    /// that message is inside their windows).
    #[must_use]
    pub const fn is_about_a_message(self) -> bool {
        matches!(self, Self::Edit | Self::Delete | Self::Reaction)
    }
}

/// A change to a group's membership or description: what its live event reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupEvent {
    /// The conversation was created (its change 1) with its first members, the creator included.
    Created {
        /// One-to-one or group.
        kind: ConversationKind,
        /// The title (groups).
        title: Option<GroupTitle>,
        /// Who created it (`None` for one-to-ones created before the change log existed).
        created_by: Option<UserId>,
        /// The first members.
        member_ids: Vec<UserId>,
    },
    /// The title changed.
    Renamed {
        /// The new title.
        title: GroupTitle,
        /// Who changed it.
        by: UserId,
    },
    /// Members were added.
    MembersAdded {
        /// Who.
        user_ids: Vec<UserId>,
        /// By whom.
        by: UserId,
    },
    /// A member was removed, or left (`by` = `user_id`).
    MemberRemoved {
        /// Who.
        user_id: UserId,
        /// By whom.
        by: UserId,
    },
    /// A member's role changed.
    RoleChanged {
        /// Whose.
        user_id: UserId,
        /// The new role.
        role: Role,
        /// By whom.
        by: UserId,
    },
}

impl GroupEvent {
    /// The kind of change it is.
    #[must_use]
    pub const fn kind(&self) -> ChangeKind {
        match self {
            Self::Created { .. } | Self::Renamed { .. } => ChangeKind::Conversation,
            Self::MembersAdded { .. } | Self::MemberRemoved { .. } | Self::RoleChanged { .. } => {
                ChangeKind::Member
            }
        }
    }
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeBody {
    /// A new message (as stored now: erasure is retroactive).
    Message(StoredMessage),
    /// A membership or description change.
    Group(GroupEvent),
}

impl ChangeBody {
    /// The kind of change it is.
    #[must_use]
    pub const fn kind(&self) -> ChangeKind {
        match self {
            Self::Message(_) => ChangeKind::Message,
            Self::Group(event) => event.kind(),
        }
    }
}

/// One entry of a conversation's change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where.
    pub conversation_id: ConversationId,
    /// Its place in the log.
    pub sequence: ChangeSequence,
    /// When it was committed.
    pub at: Timestamp,
    /// What it did.
    pub body: ChangeBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ChangeKind::parse("typing"), None);
    }

    #[test]
    fn sequences_count_up_from_zero() {
        assert_eq!(ChangeSequence::ZERO.next(), ChangeSequence::new(1));
        assert!(ChangeSequence::new(2) > ChangeSequence::new(1));
    }
}
