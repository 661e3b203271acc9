//! The Socket.IO server with its rooms adapter erased: [`Server`] is implemented once for every
//! `SocketIo<A>`, and the rest of the crate holds an `Arc<dyn Server>` ([`crate::mount`] picks
//! the adapter, nothing after it matches on it).

use std::{collections::BTreeMap, sync::Arc};

use chat_domain::{
    ConversationId, RepoError, SocketId, UserId,
    events::{Audience, ServerEvent},
};
use chat_protocol::{
    events::outbound,
    payload::{
        BlockEntry, ChangeData, ConversationJoined, ConversationLeft, MessageReceived, MuteChange,
        PresenceChanged, ReadReceiptReceived, SyncHint, TypingIndicator, UnreadCountUpdated,
    },
};
use serde::Serialize;
use socketioxide::{
    BroadcastError, SocketError, SocketIo, adapter::Adapter, operators::BroadcastOperators,
};

use crate::{
    names::{NAMESPACE, conversation_room, device_room, socket_room, user_room},
    user::SocketUser,
};

/// Whether a socket listed a moment ago is still connected.
pub(crate) type LiveCheck = Box<dyn Fn() -> bool + Send + Sync>;

/// What the crate does with the running server, whatever its rooms adapter.
#[async_trait::async_trait]
pub(crate) trait Server: Send + Sync {
    /// Emits `event` to `audience` (on every node with a remote adapter).
    async fn publish(&self, audience: &Audience, event: &ServerEvent) -> Result<(), RepoError>;

    /// Puts (`join`) or takes (`!join`) every socket of `user`, on every node, in or out of a
    /// conversation's room.
    async fn membership(
        &self,
        user: UserId,
        conversation: ConversationId,
        join: bool,
    ) -> Result<(), RepoError>;

    /// Closes every socket of this node (their disconnect handlers run).
    async fn close(&self);

    /// The registered sockets of this node, each with a check of whether it is still connected.
    fn connections(&self) -> Vec<(UserId, SocketId, LiveCheck)>;

    /// Emits `sync:hint` to each registered socket of this node whose user has one in `hints`
    /// (this node only: it is the one that may have missed events). Returns how many got it.
    fn hint(&self, hints: &BTreeMap<UserId, SyncHint>) -> usize;
}

fn closed() -> RepoError {
    RepoError::unavailable("the Socket.IO server is not running")
}

/// The `/` namespace's operators; an error once the server closed (socketioxide panics on
/// `io.to(..)` after `close()`).
fn namespace<A: Adapter>(io: &SocketIo<A>) -> Result<BroadcastOperators<A>, RepoError> {
    io.of(NAMESPACE).ok_or_else(closed)
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
        // Every other socket got it. A socket already closing is owed the event through
        // resume. A full one is a client not reading (its buffer is large: see `mount`): the
        // engine closed it when its buffer refused the packet (contract 4.6; the patch in
        // `vendor/engineioxide`, which also covers broadcasts from other nodes), so it resumes
        // and gets the event in `pendingMessages`; it is never skipped while connected.
        Err(BroadcastError::Socket(errors)) => {
            let full = errors
                .iter()
                .filter(|e| matches!(e, SocketError::InternalChannelFull))
                .count();
            if full > 0 {
                tracing::info!(
                    sockets = full,
                    event,
                    "send buffers full: those sockets were disconnected and will resume"
                );
            }
            Ok(())
        }
        Err(error) => Err(RepoError::unavailable(error.to_string())),
    }
}

#[async_trait::async_trait]
impl<A: Adapter> Server for SocketIo<A> {
    async fn publish(&self, audience: &Audience, event: &ServerEvent) -> Result<(), RepoError> {
        let op = operators(self, audience)?;
        match event {
            ServerEvent::MessageReceived(m) => {
                let out = MessageReceived::from(m);
                emit(op, outbound::MESSAGE_RECEIVED, &out).await
            }
            ServerEvent::UnreadCountUpdated(u) => {
                let out = UnreadCountUpdated::from(u);
                emit(op, outbound::UNREAD_COUNT_UPDATED, &out).await
            }
            ServerEvent::ReadReceiptReceived(r) => {
                let out = ReadReceiptReceived::from(r);
                emit(op, outbound::READ_RECEIPT_RECEIVED, &out).await
            }
            ServerEvent::TypingIndicator {
                conversation_id,
                user_id,
                is_typing,
                expires_at,
            } => {
                let out = TypingIndicator::new(*conversation_id, *user_id, *is_typing, *expires_at);
                emit(op, outbound::TYPING_INDICATOR, &out).await
            }
            ServerEvent::PresenceChanged {
                user_id,
                status,
                last_seen_at,
            } => {
                let out = PresenceChanged::new(*user_id, *status, *last_seen_at);
                emit(op, outbound::PRESENCE_CHANGED, &out).await
            }
            ServerEvent::UserBlocked(b) => {
                emit(op, outbound::USER_BLOCKED, &BlockEntry::from(b)).await
            }
            ServerEvent::UserUnblocked(b) => {
                emit(op, outbound::USER_UNBLOCKED, &BlockEntry::from(b)).await
            }
            ServerEvent::ConversationMuted(m) => {
                let out = MuteChange::new(m.conversation_id, Some(m));
                emit(op, outbound::CONVERSATION_MUTED, &out).await
            }
            ServerEvent::ConversationUnmuted { conversation_id } => {
                let out = MuteChange::new(*conversation_id, None);
                emit(op, outbound::CONVERSATION_UNMUTED, &out).await
            }
            ServerEvent::GroupChanged(change) => {
                let out = ChangeData::of(change);
                // Change 1 has no live event: its members hear `conversation:joined`.
                match out.live_event() {
                    Some(name) => emit(op, name, &out).await,
                    None => Ok(()),
                }
            }
            ServerEvent::ConversationJoined {
                conversation,
                change,
            } => {
                let out = ConversationJoined {
                    conversation: conversation.into(),
                    change_sequence: change.get(),
                };
                emit(op, outbound::CONVERSATION_JOINED, &out).await
            }
            ServerEvent::ConversationLeft {
                conversation_id,
                removed_by,
                change,
            } => {
                let out = ConversationLeft::new(*conversation_id, *removed_by, *change);
                emit(op, outbound::CONVERSATION_LEFT, &out).await
            }
        }
    }

    async fn membership(
        &self,
        user: UserId,
        conversation: ConversationId,
        join: bool,
    ) -> Result<(), RepoError> {
        let op = namespace(self)?.to(user_room(user));
        let room = conversation_room(conversation);
        let done = if join {
            op.join(room).await
        } else {
            op.leave(room).await
        };
        done.map_err(|e| RepoError::unavailable(e.to_string()))
    }

    async fn close(&self) {
        SocketIo::close(self).await;
    }

    fn connections(&self) -> Vec<(UserId, SocketId, LiveCheck)> {
        self.sockets()
            .into_iter()
            .filter_map(|s| {
                let user = s.extensions.get::<Arc<SocketUser<A>>>()?;
                if !user.is_registered() {
                    return None;
                }
                let live: LiveCheck = Box::new(move || s.connected());
                Some((user.user_id, user.socket_id.clone(), live))
            })
            .collect()
    }

    fn hint(&self, hints: &BTreeMap<UserId, SyncHint>) -> usize {
        self.sockets()
            .into_iter()
            .filter(|s| {
                let Some(user) = s.extensions.get::<Arc<SocketUser<A>>>() else {
                    return false;
                };
                let Some(hint) = hints.get(&user.user_id) else {
                    return false;
                };
                // A full buffer closes the socket (it resumes): nothing else to do.
                user.is_registered() && s.emit(outbound::SYNC_HINT, hint).is_ok()
            })
            .count()
    }
}
