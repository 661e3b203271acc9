//! Room names (contract section 3), spelled here once. Event names are the protocol's
//! (`chat_protocol::events`).

use chat_domain::{ConversationId, DeviceId, SocketId, UserId};

/// The one namespace.
pub const NAMESPACE: &str = "/";

/// `user:{userId}`: every socket of a user.
#[must_use]
pub fn user_room(user: UserId) -> String {
    format!("user:{user}")
}

/// `device:{userId}:{deviceId}`: every socket of one device.
#[must_use]
pub fn device_room(user: UserId, device: &DeviceId) -> String {
    format!("device:{user}:{device}")
}

/// `socket:{socketId}`: one socket (socketioxide puts no socket in a room of its own id).
#[must_use]
pub fn socket_room(socket: &SocketId) -> String {
    format!("socket:{socket}")
}

/// `conversation:{conversationId}`: every socket in a conversation.
#[must_use]
pub fn conversation_room(conversation: ConversationId) -> String {
    format!("conversation:{conversation}")
}
