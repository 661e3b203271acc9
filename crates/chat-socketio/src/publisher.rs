//! The `EventPublisher` port over socketioxide: events to rooms, and room membership. With a
//! remote adapter (Redis) both reach every node.

use std::sync::OnceLock;

use chat_domain::{
    ConversationId, RepoError, UserId,
    events::{Audience, ServerEvent},
    ports::EventPublisher,
};
use serde::Serialize;
use socketioxide::{SocketIo, adapter::Adapter, operators::BroadcastOperators};

use crate::{
    dto::{
        BlockOut, DeliveredOut, MuteOut, PresenceOut, ReceiptOut, ReceivedOut, TypingOut, UnreadOut,
    },
    names::{NAMESPACE, conversation_room, device_room, outbound, socket_room, user_room},
};

/// Publishes the domain's events through a `SocketIo` handle, attached once it is built (the
/// services that publish are needed to build it).
#[derive(Debug)]
pub struct SocketIoEventPublisher<A: Adapter> {
    io: OnceLock<SocketIo<A>>,
}

impl<A: Adapter> Default for SocketIoEventPublisher<A> {
    fn default() -> Self {
        Self {
            io: OnceLock::new(),
        }
    }
}

fn unattached() -> RepoError {
    RepoError::unavailable("the Socket.IO server is not running")
}

impl<A: Adapter> SocketIoEventPublisher<A> {
    /// A publisher with no server yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Attaches the server (once; later calls are ignored).
    pub fn attach(&self, io: SocketIo<A>) {
        let _ = self.io.set(io);
    }

    /// The `/` namespace's operators; `None` before the server is attached or once it closed
    /// (socketioxide panics on `io.to(..)` after `close()`).
    fn namespace(&self) -> Result<BroadcastOperators<A>, RepoError> {
        self.io
            .get()
            .and_then(|io| io.of(NAMESPACE))
            .ok_or_else(unattached)
    }

    fn operators(&self, audience: &Audience) -> Result<BroadcastOperators<A>, RepoError> {
        let ns = self.namespace()?;
        Ok(match audience {
            Audience::User(u) => ns.to(user_room(*u)),
            Audience::Device(u, d) => ns.to(device_room(*u, d)),
            Audience::Socket(s) => ns.to(socket_room(s)),
            Audience::Conversation(c) => ns.to(conversation_room(*c)),
            Audience::ConversationExcept(c, s) => {
                ns.to(conversation_room(*c)).except(socket_room(s))
            }
        })
    }
}

async fn emit<A: Adapter, T: Serialize + ?Sized>(
    op: BroadcastOperators<A>,
    event: &str,
    payload: &T,
) -> Result<(), RepoError> {
    op.emit(event, payload)
        .await
        .map_err(|e| RepoError::unavailable(e.to_string()))
}

#[async_trait::async_trait]
impl<A: Adapter> EventPublisher for SocketIoEventPublisher<A> {
    async fn publish(&self, audience: Audience, event: ServerEvent) -> Result<(), RepoError> {
        let op = self.operators(&audience)?;
        match &event {
            ServerEvent::MessageDelivered(d) => {
                emit(op, outbound::MESSAGE_DELIVERED, &DeliveredOut::from(d)).await
            }
            ServerEvent::MessageReceived(m) => {
                emit(op, outbound::MESSAGE_RECEIVED, &ReceivedOut::from(m)).await
            }
            ServerEvent::UnreadCountUpdated(u) => {
                emit(op, outbound::UNREAD_COUNT_UPDATED, &UnreadOut::from(u)).await
            }
            ServerEvent::ReadReceiptReceived(r) => {
                emit(op, outbound::READ_RECEIPT_RECEIVED, &ReceiptOut::from(r)).await
            }
            ServerEvent::TypingIndicator {
                conversation_id,
                user_id,
                is_typing,
                expires_at,
            } => {
                let out = TypingOut::new(*conversation_id, *user_id, *is_typing, *expires_at);
                emit(op, outbound::TYPING_INDICATOR, &out).await
            }
            ServerEvent::PresenceChanged {
                user_id,
                status,
                last_seen_at,
            } => {
                let out = PresenceOut::new(*user_id, *status, *last_seen_at);
                emit(op, outbound::PRESENCE_CHANGED, &out).await
            }
            ServerEvent::UserBlocked(b) => {
                emit(op, outbound::USER_BLOCKED, &BlockOut::event(b)).await
            }
            ServerEvent::UserUnblocked(b) => {
                emit(op, outbound::USER_UNBLOCKED, &BlockOut::event(b)).await
            }
            ServerEvent::ConversationMuted(m) => {
                let out = MuteOut::new(false, m.conversation_id, Some(m));
                emit(op, outbound::CONVERSATION_MUTED, &out).await
            }
            ServerEvent::ConversationUnmuted { conversation_id } => {
                let out = MuteOut::new(false, *conversation_id, None);
                emit(op, outbound::CONVERSATION_UNMUTED, &out).await
            }
        }
    }

    async fn join_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError> {
        self.namespace()?
            .to(user_room(user))
            .join(conversation_room(conversation))
            .await
            .map_err(|e| RepoError::unavailable(e.to_string()))
    }

    async fn leave_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError> {
        self.namespace()?
            .to(user_room(user))
            .leave(conversation_room(conversation))
            .await
            .map_err(|e| RepoError::unavailable(e.to_string()))
    }
}
