//! The real-time effects the services publish: which event goes to whom. The socket adapter
//! turns each into the contract's event name and payload.

use crate::{
    block::Block,
    change::{Change, ChangeSequence},
    conversation::Conversation,
    ids::{ConversationId, DeviceId, SocketId, UserId},
    message::StoredMessage,
    mute::Mute,
    presence::PresenceStatus,
    sequence::ServerSequence,
    time::Timestamp,
};

/// Who receives an event (the contract's rooms, section 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every socket of a user (`user:{userId}`).
    User(UserId),
    /// Every socket of one device (`device:{userId}:{deviceId}`).
    Device(UserId, DeviceId),
    /// One socket.
    Socket(SocketId),
    /// Every socket in a conversation's room (`conversation:{id}`).
    Conversation(ConversationId),
    /// A conversation's room but one socket (the one that caused the event).
    ConversationExcept(ConversationId, SocketId),
}

/// The ack of a stored message (`MessageDelivered`, also emitted as `message:delivered` to the
/// sending socket by the adapter that holds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The stored message.
    pub message: StoredMessage,
    /// Whether this answered a resend.
    pub duplicate: bool,
}

/// A user's unread count of one conversation, after a change (`unread_count:updated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadUpdate {
    /// Which conversation.
    pub conversation_id: ConversationId,
    /// Messages others sent after the marker.
    pub unread_count: u64,
    /// When computed.
    pub updated_at: Timestamp,
    /// The user's marker.
    pub last_read_sequence: ServerSequence,
    /// When the marker last moved.
    pub last_read_at: Option<Timestamp>,
    /// Whether the user muted the conversation.
    pub muted: bool,
}

/// A participant's marker moved (`read_receipt:received`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReceipt {
    /// Where.
    pub conversation_id: ConversationId,
    /// Who read.
    pub user_id: UserId,
    /// Up to which message.
    pub last_read_sequence: ServerSequence,
    /// When.
    pub last_read_at: Option<Timestamp>,
}

/// Every event a service publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// `message:received`, to the conversation.
    MessageReceived(StoredMessage),
    /// `unread_count:updated`, to a user.
    UnreadCountUpdated(UnreadUpdate),
    /// `read_receipt:received`, to the conversation.
    ReadReceiptReceived(ReadReceipt),
    /// `typing:indicator`, to the conversation but the typing socket.
    TypingIndicator {
        /// Where.
        conversation_id: ConversationId,
        /// Who.
        user_id: UserId,
        /// Started or cleared.
        is_typing: bool,
        /// When it clears by itself (starts only).
        expires_at: Option<Timestamp>,
    },
    /// `presence:changed`, to each conversation the user shares with others.
    PresenceChanged {
        /// Whose.
        user_id: UserId,
        /// The new aggregate.
        status: PresenceStatus,
        /// When it changed.
        last_seen_at: Timestamp,
    },
    /// `user:blocked`, to the blocker.
    UserBlocked(Block),
    /// `user:unblocked`, to the blocker.
    UserUnblocked(Block),
    /// `conversation:muted`, to the user.
    ConversationMuted(Mute),
    /// `conversation:unmuted`, to the user.
    ConversationUnmuted {
        /// Which.
        conversation_id: ConversationId,
    },
    /// A membership or description change of a group, to its room: `member:added`,
    /// `member:removed`, `member:role_changed` or `conversation:updated`.
    GroupChanged(Change),
    /// `conversation:joined`, to a user who became a member (a new conversation's first members
    /// included).
    ConversationJoined {
        /// The conversation as it is now.
        conversation: Conversation,
        /// The change that made them a member.
        change: ChangeSequence,
    },
    /// `conversation:left`, to a user who was removed or left.
    ConversationLeft {
        /// Which.
        conversation_id: ConversationId,
        /// Who removed them (themselves when leaving).
        removed_by: UserId,
        /// The change that removed them.
        change: ChangeSequence,
    },
}
