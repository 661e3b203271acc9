//! The `EventPublisher` port over socketioxide: events to rooms, and room membership. With a
//! remote adapter (Redis) both reach every node.

use std::sync::OnceLock;

use chat_domain::{
    ConversationId, RepoError, UserId,
    events::{Audience, ServerEvent},
    ports::EventPublisher,
};
use serde::Serialize;
use socketioxide::{
    BroadcastError, SocketError, SocketIo, adapter::Adapter, operators::BroadcastOperators,
};

use crate::{
    Handle,
    dto::{
        BlockOut, DeliveredOut, MuteOut, PresenceOut, ReceiptOut, ReceivedOut, TypingOut, UnreadOut,
    },
    names::{NAMESPACE, conversation_room, device_room, outbound, socket_room, user_room},
};

/// Publishes the domain's events through the Socket.IO server, attached once it is built (the
/// services that publish are needed to build it). With Redis rooms, events and room changes
/// reach every node.
#[derive(Default)]
pub struct SocketIoEventPublisher {
    io: OnceLock<Handle>,
}

impl std::fmt::Debug for SocketIoEventPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoEventPublisher")
            .field("attached", &self.io.get().is_some())
            .finish()
    }
}

fn unattached() -> RepoError {
    RepoError::unavailable("the Socket.IO server is not running")
}

impl SocketIoEventPublisher {
    /// A publisher with no server yet ([`crate::mount`] attaches it).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Attaches the server (once; later calls are ignored).
    pub(crate) fn attach(&self, io: Handle) {
        let _ = self.io.set(io);
    }

    fn handle(&self) -> Result<&Handle, RepoError> {
        self.io.get().ok_or_else(unattached)
    }
}

/// The `/` namespace's operators; `None` once the server closed (socketioxide panics on
/// `io.to(..)` after `close()`).
fn namespace<A: Adapter>(io: &SocketIo<A>) -> Result<BroadcastOperators<A>, RepoError> {
    io.of(NAMESPACE).ok_or_else(unattached)
}

fn operators<A: Adapter>(
    io: &SocketIo<A>,
    audience: &Audience,
) -> Result<BroadcastOperators<A>, RepoError> {
    let ns = namespace(io)?;
    Ok(match audience {
        Audience::User(u) => ns.to(user_room(*u)),
        Audience::Device(u, d) => ns.to(device_room(*u, d)),
        Audience::Socket(s) => ns.to(socket_room(s)),
        Audience::Conversation(c) => ns.to(conversation_room(*c)),
        Audience::ConversationExcept(c, s) => ns.to(conversation_room(*c)).except(socket_room(s)),
    })
}

async fn emit<A: Adapter, T: Serialize + ?Sized>(
    op: BroadcastOperators<A>,
    event: &str,
    payload: &T,
) -> Result<(), RepoError> {
    match op.emit(event, payload).await {
        Ok(()) => Ok(()),
        // Every other socket got it: a socket already closing is owed the event through
        // resume; a full one is a client not reading (its buffer is large: see `mount`).
        Err(BroadcastError::Socket(errors)) => {
            let full = errors
                .iter()
                .filter(|e| matches!(e, SocketError::InternalChannelFull))
                .count();
            if full > 0 {
                tracing::warn!(
                    sockets = full,
                    event,
                    "a socket's send buffer is full: the event was dropped for it"
                );
            }
            Ok(())
        }
        Err(error) => Err(RepoError::unavailable(error.to_string())),
    }
}

async fn publish_on<A: Adapter>(
    io: &SocketIo<A>,
    audience: &Audience,
    event: &ServerEvent,
) -> Result<(), RepoError> {
    let op = operators(io, audience)?;
    match event {
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
        ServerEvent::UserBlocked(b) => emit(op, outbound::USER_BLOCKED, &BlockOut::event(b)).await,
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

/// Puts (`join`) or takes (`!join`) every socket of `user`, on every node, in or out of a
/// conversation's room.
async fn membership<A: Adapter>(
    io: &SocketIo<A>,
    user: UserId,
    conversation: ConversationId,
    join: bool,
) -> Result<(), RepoError> {
    let op = namespace(io)?.to(user_room(user));
    let room = conversation_room(conversation);
    let done = if join {
        op.join(room).await
    } else {
        op.leave(room).await
    };
    done.map_err(|e| RepoError::unavailable(e.to_string()))
}

#[async_trait::async_trait]
impl EventPublisher for SocketIoEventPublisher {
    async fn publish(&self, audience: Audience, event: ServerEvent) -> Result<(), RepoError> {
        match self.handle()? {
            Handle::Local(io) => publish_on(io, &audience, &event).await,
            Handle::Redis(io) => publish_on(io, &audience, &event).await,
        }
    }

    async fn join_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError> {
        match self.handle()? {
            Handle::Local(io) => membership(io, user, conversation, true).await,
            Handle::Redis(io) => membership(io, user, conversation, true).await,
        }
    }

    async fn leave_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError> {
        match self.handle()? {
            Handle::Local(io) => membership(io, user, conversation, false).await,
            Handle::Redis(io) => membership(io, user, conversation, false).await,
        }
    }
}
