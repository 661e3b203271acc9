//! Conversations and participants, and the active-participant rule.

use crate::{
    group::{GroupTitle, Role},
    ids::{ConversationId, UserId},
    message::StoredMessage,
    presence::PresenceStatus,
    sequence::ServerSequence,
    time::Timestamp,
    user::DisplayName,
};

/// The kind of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationKind {
    /// Two participants.
    OneToOne,
    /// A titled group with roles (contract section 7).
    Group,
}

impl ConversationKind {
    /// The wire and storage name (`one_to_one`, `group`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OneToOne => "one_to_one",
            Self::Group => "group",
        }
    }

    /// The kind named `raw` (storage), if any.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::OneToOne, Self::Group]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

/// Asking for a one-to-one conversation with yourself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a one-to-one conversation needs two different users")]
pub struct SameUserError;

/// The two users of a one-to-one conversation, in a canonical order, so that `(a, b)` and
/// `(b, a)` name the same conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OneToOnePair {
    low: UserId,
    high: UserId,
}

impl OneToOnePair {
    /// Orders the pair.
    ///
    /// # Errors
    /// [`SameUserError`] when both are the same user.
    pub fn new(a: UserId, b: UserId) -> Result<Self, SameUserError> {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => Ok(Self { low: a, high: b }),
            std::cmp::Ordering::Greater => Ok(Self { low: b, high: a }),
            std::cmp::Ordering::Equal => Err(SameUserError),
        }
    }

    /// Both users, lower id first.
    #[must_use]
    pub const fn users(self) -> [UserId; 2] {
        [self.low, self.high]
    }

    /// A stable key for the pair (`low:high`), unique per one-to-one conversation.
    #[must_use]
    pub fn key(self) -> String {
        format!("{}:{}", self.low, self.high)
    }
}

/// A participant of a conversation, with their read marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Who.
    pub user_id: UserId,
    /// Display name, when known.
    pub name: Option<DisplayName>,
    /// Their role (both sides of a one-to-one are members).
    pub role: Role,
    /// When their current (or last) membership began.
    pub joined_at: Timestamp,
    /// When they left; `None` while active.
    pub left_at: Option<Timestamp>,
    /// The newest message they have read (`ServerSequence::ZERO`: none).
    pub last_read_sequence: ServerSequence,
    /// When they last moved their marker.
    pub last_read_at: Option<Timestamp>,
}

impl Participant {
    /// Whether the participant has not left.
    #[must_use]
    pub const fn is_active(&self) -> bool {
        self.left_at.is_none()
    }
}

/// A conversation with its participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Which.
    pub id: ConversationId,
    /// What kind.
    pub kind: ConversationKind,
    /// A group's title (`None` for a one-to-one).
    pub title: Option<GroupTitle>,
    /// When it was created.
    pub created_at: Timestamp,
    /// The newest server sequence assigned in it.
    pub last_sequence: ServerSequence,
    /// Everyone who ever joined.
    pub participants: Vec<Participant>,
}

impl Conversation {
    /// The active participants' ids.
    pub fn active_participant_ids(&self) -> impl Iterator<Item = UserId> + '_ {
        self.participants
            .iter()
            .filter(|p| p.is_active())
            .map(|p| p.user_id)
    }

    /// The participant entry of `user`, active or not.
    #[must_use]
    pub fn participant(&self, user: UserId) -> Option<&Participant> {
        self.participants.iter().find(|p| p.user_id == user)
    }
}

/// The user is not an active participant of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an active participant of this conversation")]
pub struct NotParticipant;

/// The active-participant rule: `user` may act in a conversation only while an active participant.
///
/// # Errors
/// [`NotParticipant`] otherwise.
pub fn ensure_active_participant(
    user: UserId,
    participants: &[Participant],
) -> Result<(), NotParticipant> {
    if participants
        .iter()
        .any(|p| p.user_id == user && p.is_active())
    {
        Ok(())
    } else {
        Err(NotParticipant)
    }
}

/// Whether a conversation was just created or already existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// Made by this call.
    New,
    /// Found.
    Existing,
}

/// One participant as shown in the chat list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatListParticipant {
    /// Who.
    pub user_id: UserId,
    /// Display name, when known.
    pub name: Option<DisplayName>,
    /// Their presence as the viewer may see it.
    pub presence: PresenceStatus,
}

/// One entry of a user's chat list, as the repository assembles it (the service adds the
/// participants' presence from the presence store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatListEntry {
    /// Which conversation.
    pub conversation_id: ConversationId,
    /// What kind.
    pub kind: ConversationKind,
    /// Its participants (viewer included).
    pub participants: Vec<Participant>,
    /// The newest message, if any.
    pub last_message: Option<StoredMessage>,
    /// Messages others sent after the viewer's marker.
    pub unread_count: u64,
    /// Whether the viewer has an active mute.
    pub muted: bool,
    /// Whether the viewer blocked someone here.
    pub blocked_by_me: bool,
    /// Whether someone here blocked the viewer.
    pub blocked_me: bool,
    /// Newest activity: the last message's time, else the creation time.
    pub updated_at: Timestamp,
}

/// A page of the chat list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatListPage {
    /// The entries, newest activity first.
    pub items: Vec<ChatListEntry>,
    /// How many conversations the viewer is in.
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn user(n: u128) -> UserId {
        UserId::new(Uuid::from_u128(n))
    }

    fn participant(n: u128, left: bool) -> Participant {
        Participant {
            user_id: user(n),
            name: None,
            role: crate::group::Role::Member,
            joined_at: Timestamp::EPOCH,
            left_at: left.then_some(Timestamp::from_millis(5)),
            last_read_sequence: ServerSequence::ZERO,
            last_read_at: None,
        }
    }

    #[test]
    fn active_participant_rule_as_a_table() {
        let ps = [participant(1, false), participant(2, true)];
        let cases = [
            (1, Ok(())),
            (2, Err(NotParticipant)),
            (3, Err(NotParticipant)),
        ];
        for (who, want) in cases {
            assert_eq!(
                ensure_active_participant(user(who), &ps),
                want,
                "user {who}"
            );
        }
        assert_eq!(ensure_active_participant(user(1), &[]), Err(NotParticipant));
    }

    #[test]
    fn pairs_are_canonical_and_refuse_self() {
        let ab = OneToOnePair::new(user(1), user(2)).unwrap();
        let ba = OneToOnePair::new(user(2), user(1)).unwrap();
        assert_eq!(ab, ba);
        assert_eq!(ab.key(), ba.key());
        assert_eq!(ab.users(), [user(1), user(2)]);
        assert_eq!(OneToOnePair::new(user(1), user(1)), Err(SameUserError));
    }
}
