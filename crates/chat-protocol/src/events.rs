//! Event names, spelled here once (contract sections 4, 5 and 4.6).

/// Client → server events (section 4).
pub mod inbound {
    /// Send a message.
    pub const MESSAGE_SEND: &str = "message:send";
    /// Move the read marker.
    pub const MESSAGE_READ: &str = "message:read";
    /// Typing started.
    pub const TYPING_START: &str = "typing:start";
    /// Typing stopped.
    pub const TYPING_STOP: &str = "typing:stop";
    /// Set this connection's presence.
    pub const PRESENCE_UPDATE: &str = "presence:update";
    /// Block a participant.
    pub const BLOCK_USER: &str = "block:user";
    /// Unblock a participant.
    pub const UNBLOCK_USER: &str = "unblock:user";
    /// Mute a conversation.
    pub const MUTE_CONVERSATION: &str = "mute:conversation";
    /// Unmute a conversation.
    pub const UNMUTE_CONVERSATION: &str = "unmute:conversation";
    /// Keep-alive with clock exchange.
    pub const SOCKET_PING: &str = "socket:ping";
    /// Refresh the token.
    pub const AUTH: &str = "auth";
}

/// Server → client events (sections 4 and 5).
pub mod outbound {
    use crate::ErrorCode;

    /// A new session.
    pub const CONNECTED: &str = "connected";
    /// A resumed session.
    pub const RECONNECTED: &str = "reconnected";
    /// A message was stored (to the sending socket).
    pub const MESSAGE_DELIVERED: &str = "message:delivered";
    /// A send failed (to the sending socket).
    pub const MESSAGE_FAILED: &str = "message:failed";
    /// A new message in a conversation.
    pub const MESSAGE_RECEIVED: &str = "message:received";
    /// A read marker moved.
    pub const READ_RECEIPT_RECEIVED: &str = "read_receipt:received";
    /// Someone typing.
    pub const TYPING_INDICATOR: &str = "typing:indicator";
    /// A user's aggregate presence changed.
    pub const PRESENCE_CHANGED: &str = "presence:changed";
    /// A block was placed (to the blocker).
    pub const USER_BLOCKED: &str = "user:blocked";
    /// A block was lifted (to the blocker).
    pub const USER_UNBLOCKED: &str = "user:unblocked";
    /// A mute was set (to the user).
    pub const CONVERSATION_MUTED: &str = "conversation:muted";
    /// A mute was lifted (to the user).
    pub const CONVERSATION_UNMUTED: &str = "conversation:unmuted";
    /// An unread count changed (to the user).
    pub const UNREAD_COUNT_UPDATED: &str = "unread_count:updated";
    /// The answer to `socket:ping`.
    pub const SOCKET_PONG: &str = "socket:pong";
    /// You became a member of a conversation (to the user).
    pub const CONVERSATION_JOINED: &str = "conversation:joined";
    /// You were removed from a conversation, or left it (to the user).
    pub const CONVERSATION_LEFT: &str = "conversation:left";
    /// Members were added (to the conversation).
    pub const MEMBER_ADDED: &str = "member:added";
    /// A member was removed or left (to the conversation).
    pub const MEMBER_REMOVED: &str = "member:removed";
    /// A member's role changed (to the conversation).
    pub const MEMBER_ROLE_CHANGED: &str = "member:role_changed";
    /// A group's title changed (to the conversation).
    pub const CONVERSATION_UPDATED: &str = "conversation:updated";
    /// This node may have missed live events (its Redis subscription was interrupted, or its
    /// inbound queue overflowed): the heads of the socket's conversations, to fetch the rest
    /// by history (to each socket of the node, contract 4.6).
    pub const SYNC_HINT: &str = "sync:hint";

    /// `error:{code}`, the event of every failure.
    #[must_use]
    pub fn error(code: ErrorCode) -> String {
        format!("error:{code}")
    }
}
