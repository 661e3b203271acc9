//! `message:send` (contract 4.1).

use std::sync::Arc;

use super::{Policies, RateLimited, SendContextCache, check_rate, publish};
use crate::{
    block::{BlockSide, ensure_not_blocked},
    conversation::ensure_active_participant,
    error::RepoError,
    events::{Audience, Delivery, ServerEvent, UnreadUpdate},
    ids::{ConversationId, DeviceId, MessageId, UserId},
    message::{AppendOutcome, Collision, MessageContent, NewMessage, classify_collision},
    ports::{
        CheckedAppend, Clock, ContextVersion, ConversationRepository, EventPublisher,
        MessageRepository, RateLimiter, RecipientState, SendContext,
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
    #[error("blocked: {0}")]
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
pub struct MessagingService {
    conversations: Arc<dyn ConversationRepository>,
    messages: Arc<dyn MessageRepository>,
    rate_limiter: Arc<dyn RateLimiter>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    policies: Policies,
    cache: Arc<SendContextCache>,
}

impl std::fmt::Debug for MessagingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessagingService")
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

/// How many times a send re-reads a context that changed under it before giving up.
const MAX_STALE_RETRIES: usize = 4;

impl MessagingService {
    /// A messaging service over these ports. `cache` is shared with the services that change
    /// what a send checks ([`super::BlockService`], [`super::MuteService`]), which invalidate
    /// it.
    #[must_use]
    pub fn new(
        conversations: Arc<dyn ConversationRepository>,
        messages: Arc<dyn MessageRepository>,
        rate_limiter: Arc<dyn RateLimiter>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        policies: Policies,
        cache: Arc<SendContextCache>,
    ) -> Self {
        Self {
            conversations,
            messages,
            rate_limiter,
            publisher,
            clock,
            policies,
            cache,
        }
    }

    /// Checks, stores once, acknowledges. A resend of a stored message is acknowledged with the
    /// original even when the sender is over the send quota. Publishes `message:received` to the
    /// conversation, a resend's too (so that a message whose first broadcast died with its node
    /// still arrives live; receivers drop repeats by `messageId`), and, for a new message,
    /// `unread_count:updated` to every other participant. The sending socket's
    /// `message:delivered` is the caller's: it holds the socket.
    ///
    /// # Errors
    /// [`SendMessageError`], in the contract's order of checks.
    #[tracing::instrument(skip_all, fields(user.id = %cmd.sender_id, conversation.id = %cmd.conversation_id, message.id = %cmd.message_id))]
    pub async fn send(&self, cmd: SendMessage) -> Result<Delivery, SendMessageError> {
        let now = self.clock.now();
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
        let (mut context, mut fresh) = self.context(new.conversation_id, None).await?;
        let mut counted = false;
        let mut attempts = 0;
        loop {
            let checked =
                ensure_active_participant(new.sender_id, &context.conversation.participants)
                    .map_err(|_| SendMessageError::NotParticipant)
                    .and_then(|()| {
                        ensure_not_blocked(new.sender_id, &context.blocks)
                            .map_err(SendMessageError::Blocked)
                    });
            if let Err(refused) = checked {
                if fresh {
                    return Err(refused);
                }
                // Refused on a cached context: it may be out of date (a block lifted on
                // another node). Only a fresh read may refuse.
                (context, fresh) = self
                    .context(new.conversation_id, Some(context.version))
                    .await?;
                continue;
            }
            if !counted {
                let quota = check_rate(
                    &*self.rate_limiter,
                    &self.policies.rate,
                    new.sender_id,
                    RateLimitedAction::MessageSend,
                    now,
                )
                .await?;
                if let Err(limited) = quota {
                    return self.resend_over_quota(&new, &context, limited).await;
                }
                counted = true;
            }
            attempts += 1;
            match self
                .messages
                .append_if_current(new.clone(), context.version)
                .await?
            {
                CheckedAppend::Done {
                    outcome,
                    recipients,
                } => {
                    return Ok(self.delivered(&context, outcome, recipients, now).await);
                }
                CheckedAppend::StaleContext if attempts >= MAX_STALE_RETRIES => {
                    return Err(SendMessageError::Repo(RepoError::unavailable(
                        "the conversation kept changing during the send",
                    )));
                }
                CheckedAppend::StaleContext => {
                    (context, fresh) = self
                        .context(new.conversation_id, Some(context.version))
                        .await?;
                }
            }
        }
    }

    /// The send context, and whether it was just read: cached, or read (again, when the
    /// cached one is the `stale` version or older).
    async fn context(
        &self,
        id: ConversationId,
        stale: Option<ContextVersion>,
    ) -> Result<(Arc<SendContext>, bool), SendMessageError> {
        if let Some(cached) = self.cache.get(id)
            && stale.is_none_or(|v| cached.version > v)
        {
            return Ok((cached, false));
        }
        let fresh = Arc::new(
            self.conversations
                .fetch_send_context(id)
                .await?
                .ok_or(SendMessageError::NotParticipant)?,
        );
        self.cache.put(fresh.clone());
        Ok((fresh, true))
    }

    /// Over the quota: a resend of a stored message is still answered (its ack may have been
    /// lost); anything else is refused. Only then is the extra lookup paid.
    async fn resend_over_quota(
        &self,
        new: &NewMessage,
        context: &SendContext,
        limited: RateLimited,
    ) -> Result<Delivery, SendMessageError> {
        match self.messages.find_message(new.id).await? {
            Some(original) if classify_collision(&original, new) == Collision::Duplicate => {
                let now = self.clock.now();
                let outcome = AppendOutcome::Duplicate(original);
                Ok(self.delivered(context, outcome, Vec::new(), now).await)
            }
            _ => Err(SendMessageError::RateLimited(limited)),
        }
    }

    /// Acknowledges and publishes a stored message: `message:received` to the room, and for a
    /// new one `unread_count:updated` to each other participant.
    async fn delivered(
        &self,
        context: &SendContext,
        outcome: AppendOutcome,
        recipients: Vec<RecipientState>,
        now: Timestamp,
    ) -> Delivery {
        let publisher = &*self.publisher;
        let duplicate = outcome.is_duplicate();
        let mut message = match outcome {
            AppendOutcome::Created(m) | AppendOutcome::Duplicate(m) => m,
        };
        if message.sender_name.is_none() {
            message.sender_name = context
                .conversation
                .participant(message.sender_id)
                .and_then(|p| p.name.clone());
        }
        let delivery = Delivery {
            message: message.clone(),
            duplicate,
        };
        tracing::debug!(
            server.sequence = message.server_sequence.get(),
            duplicate,
            "message stored"
        );
        let conversation_id = message.conversation_id;
        publish(
            publisher,
            Audience::Conversation(conversation_id),
            ServerEvent::MessageReceived(message),
        )
        .await;
        if duplicate {
            return delivery;
        }
        for r in recipients {
            let muted = context
                .mutes
                .iter()
                .any(|m| m.user_id == r.user_id && m.is_active(now));
            let update = UnreadUpdate {
                conversation_id,
                unread_count: r.unread_count,
                updated_at: now,
                last_read_sequence: r.last_read_sequence,
                last_read_at: r.last_read_at,
                muted,
            };
            publish(
                publisher,
                Audience::User(r.user_id),
                ServerEvent::UnreadCountUpdated(update),
            )
            .await;
        }
        delivery
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
        self.messages
            .last_client_sequence(conversation, sender, device)
            .await
    }
}
