//! `message:send` (contract 4.1).

use std::sync::Arc;

use super::{Policies, Ports, RateLimited, check_rate, publish};
use crate::{
    block::{BlockSide, ensure_not_blocked},
    conversation::{Conversation, ensure_active_participant},
    error::RepoError,
    events::{Audience, Delivery, ServerEvent, UnreadUpdate},
    ids::{ConversationId, DeviceId, MessageId, SocketId, UserId},
    message::{
        AppendOutcome, Collision, MessageContent, NewMessage, StoredMessage, classify_collision,
    },
    rate_limit::RateLimitedAction,
    sequence::ClientSequence,
    time::Timestamp,
};

/// A validated send. The sender comes from the token, never from the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessage {
    /// Who sends.
    pub sender_id: UserId,
    /// From which device.
    pub device_id: DeviceId,
    /// From which socket (receives `message:delivered`).
    pub socket_id: SocketId,
    /// Where.
    pub conversation_id: ConversationId,
    /// The client's id (idempotency key).
    pub message_id: MessageId,
    /// The text.
    pub content: MessageContent,
    /// The device's numbering, when given.
    pub client_sequence: Option<ClientSequence>,
    /// The client's clock, when given.
    pub client_timestamp: Option<Timestamp>,
}

/// Why a send failed. Nothing was stored or published.
#[derive(Debug, thiserror::Error)]
pub enum SendMessageError {
    /// The sender is not an active participant (or the conversation does not exist).
    #[error("not a participant of this conversation")]
    NotParticipant,
    /// A block stands between the sender and another participant.
    #[error("blocked ({})", .0.as_str())]
    Blocked(BlockSide),
    /// Over the send quota.
    #[error("rate limit exceeded")]
    RateLimited(RateLimited),
    /// The message id belongs to another sender or conversation, or the client sequence is
    /// taken by another message.
    #[error("messageId or clientSequence already used")]
    Conflict,
    /// Storage failed.
    #[error(transparent)]
    Repo(RepoError),
}

impl From<RepoError> for SendMessageError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict => Self::Conflict,
            other => Self::Repo(other),
        }
    }
}

/// Sends messages.
#[derive(Debug)]
pub struct MessagingService {
    ports: Arc<Ports>,
    policies: Policies,
}

impl MessagingService {
    pub(super) fn new(ports: Arc<Ports>, policies: Policies) -> Self {
        Self { ports, policies }
    }

    /// Checks, stores once, acknowledges. A resend of a stored message is acknowledged with the
    /// original even when the sender is over the send quota. On a new message, publishes `message:delivered` to
    /// the sending socket, `message:received` to the conversation and `unread_count:updated` to
    /// every other participant; on a resend, only `message:delivered` (with `duplicate`).
    ///
    /// # Errors
    /// [`SendMessageError`], in the contract's order of checks.
    #[tracing::instrument(skip_all, fields(user.id = %cmd.sender_id, conversation.id = %cmd.conversation_id, message.id = %cmd.message_id))]
    pub async fn send(&self, cmd: SendMessage) -> Result<Delivery, SendMessageError> {
        let ports = &*self.ports;
        let now = ports.clock.now();
        let conversation = ports
            .conversations
            .find_conversation(cmd.conversation_id)
            .await?
            .ok_or(SendMessageError::NotParticipant)?;
        ensure_active_participant(cmd.sender_id, &conversation.participants)
            .map_err(|_| SendMessageError::NotParticipant)?;
        let blocks = ports
            .blocks
            .list_conversation_blocks(cmd.conversation_id)
            .await?;
        ensure_not_blocked(cmd.sender_id, &blocks).map_err(SendMessageError::Blocked)?;
        let socket = cmd.socket_id.clone();
        let new = NewMessage {
            id: cmd.message_id,
            conversation_id: cmd.conversation_id,
            sender_id: cmd.sender_id,
            sender_device_id: cmd.device_id,
            client_sequence: cmd.client_sequence,
            content: cmd.content,
            client_timestamp: cmd.client_timestamp,
            created_at: now,
        };
        let limited = check_rate(
            ports,
            &self.policies,
            cmd.sender_id,
            RateLimitedAction::MessageSend,
            now,
        )
        .await?;
        let outcome = match limited {
            Ok(()) => ports.messages.append(new).await?,
            // A resend of a stored message is answered even over the quota (its ack may have
            // been lost); only then is the extra lookup paid.
            Err(limited) => match ports.messages.find_message(new.id).await? {
                Some(original) if classify_collision(&original, &new) == Collision::Duplicate => {
                    AppendOutcome::Duplicate(original)
                }
                _ => return Err(SendMessageError::RateLimited(limited)),
            },
        };
        let duplicate = outcome.is_duplicate();
        let mut message = match outcome {
            AppendOutcome::Created(m) | AppendOutcome::Duplicate(m) => m,
        };
        if message.sender_name.is_none() {
            message.sender_name = conversation
                .participant(message.sender_id)
                .and_then(|p| p.name.clone());
        }
        let delivery = Delivery {
            message: message.clone(),
            duplicate,
        };
        tracing::info!(
            server.sequence = message.server_sequence.get(),
            duplicate,
            "message stored"
        );
        publish(
            ports,
            Audience::Socket(socket),
            ServerEvent::MessageDelivered(delivery.clone()),
        )
        .await;
        if !duplicate {
            self.fan_out(&conversation, message, now).await;
        }
        Ok(delivery)
    }

    /// The newest client sequence `sender` committed from `device` in `conversation`: where a
    /// reorder buffer for that stream starts.
    ///
    /// # Errors
    /// The repository's.
    pub async fn last_client_sequence(
        &self,
        conversation: ConversationId,
        sender: UserId,
        device: DeviceId,
    ) -> Result<Option<ClientSequence>, RepoError> {
        self.ports
            .messages
            .last_client_sequence(conversation, sender, device)
            .await
    }

    /// `message:received` to the room, `unread_count:updated` to every other participant.
    async fn fan_out(&self, conversation: &Conversation, message: StoredMessage, now: Timestamp) {
        let ports = &*self.ports;
        let sender = message.sender_id;
        publish(
            ports,
            Audience::Conversation(conversation.id),
            ServerEvent::MessageReceived(message),
        )
        .await;
        for p in conversation
            .participants
            .iter()
            .filter(|p| p.is_active() && p.user_id != sender)
        {
            let counted = ports
                .conversations
                .unread_count(conversation.id, p.user_id)
                .await;
            let mute = ports.mutes.find_mute(conversation.id, p.user_id).await;
            match (counted, mute) {
                (Ok(unread_count), Ok(mute)) => {
                    let update = UnreadUpdate {
                        conversation_id: conversation.id,
                        unread_count,
                        updated_at: now,
                        last_read_sequence: p.last_read_sequence,
                        last_read_at: p.last_read_at,
                        muted: mute.is_some_and(|m| m.is_active(now)),
                    };
                    publish(
                        ports,
                        Audience::User(p.user_id),
                        ServerEvent::UnreadCountUpdated(update),
                    )
                    .await;
                }
                (Err(error), _) | (_, Err(error)) => {
                    tracing::warn!(error = %error, user.id = %p.user_id, "unread count after send failed");
                }
            }
        }
    }
}
