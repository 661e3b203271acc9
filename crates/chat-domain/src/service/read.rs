//! `message:read` and `POST /conversations/{id}/read` (contract 4.2).

use std::sync::Arc;

use super::{Policies, RateLimited, check_rate, participant_conversation, publish};
use crate::{
    error::RepoError,
    events::{Audience, ReadReceipt, ServerEvent, UnreadUpdate},
    ids::{ConversationId, UserId},
    ports::{
        Clock, ConversationRepository, EventPublisher, MessageRepository, MuteRepository,
        RateLimiter,
    },
    rate_limit::RateLimitedAction,
    read_marker::{MarkerMove, ReadTarget},
    sequence::ServerSequence,
    time::Timestamp,
};

/// A validated read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRead {
    /// Who read.
    pub user_id: UserId,
    /// Where.
    pub conversation_id: ConversationId,
    /// Up to where.
    pub target: ReadTarget,
}

/// The answer to a read (`ReadAck`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadAck {
    /// Where.
    pub conversation_id: ConversationId,
    /// The marker after the read.
    pub last_read_sequence: ServerSequence,
    /// When the marker last moved.
    pub last_read_at: Option<Timestamp>,
    /// When this read was handled.
    pub updated_at: Timestamp,
    /// Unread messages after it.
    pub new_unread_count: u64,
    /// Whether the marker moved.
    pub advanced: bool,
}

/// Why a read failed. The marker did not move.
#[derive(Debug, thiserror::Error)]
pub enum MarkReadError {
    /// Not an active participant (or no such conversation).
    #[error("not a participant of this conversation")]
    NotParticipant,
    /// Over the read quota.
    #[error("rate limit exceeded")]
    RateLimited(RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Moves read markers.
pub struct ReadService {
    conversations: Arc<dyn ConversationRepository>,
    messages: Arc<dyn MessageRepository>,
    mutes: Arc<dyn MuteRepository>,
    rate_limiter: Arc<dyn RateLimiter>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    policies: Policies,
}

impl std::fmt::Debug for ReadService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadService")
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

impl ReadService {
    /// A read service over these ports.
    #[must_use]
    pub fn new(
        conversations: Arc<dyn ConversationRepository>,
        messages: Arc<dyn MessageRepository>,
        mutes: Arc<dyn MuteRepository>,
        rate_limiter: Arc<dyn RateLimiter>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        policies: Policies,
    ) -> Self {
        Self {
            conversations,
            messages,
            mutes,
            rate_limiter,
            publisher,
            clock,
            policies,
        }
    }

    /// Moves the reader's marker forward to the furthest message the target names. When it
    /// moves, publishes `unread_count:updated` to the reader's devices and
    /// `read_receipt:received` to the conversation; an older target is acknowledged with the
    /// current marker and publishes nothing.
    ///
    /// # Errors
    /// [`MarkReadError`].
    #[tracing::instrument(skip_all, fields(user.id = %cmd.user_id, conversation.id = %cmd.conversation_id))]
    pub async fn mark_read(&self, cmd: MarkRead) -> Result<ReadAck, MarkReadError> {
        let now = self.clock.now();
        participant_conversation(&*self.conversations, cmd.user_id, cmd.conversation_id)
            .await?
            .ok_or(MarkReadError::NotParticipant)?;
        check_rate(
            &*self.rate_limiter,
            &self.policies.rate,
            cmd.user_id,
            RateLimitedAction::MessageRead,
            now,
        )
        .await?
        .map_err(MarkReadError::RateLimited)?;

        let proposed = self
            .messages
            .resolve_read_target(cmd.conversation_id, cmd.target)
            .await?
            .unwrap_or(ServerSequence::ZERO);
        // The marker and the count after it come from one atomic step of the store: under
        // concurrent reads (several devices), a count read apart could be another read's.
        let advance = match self
            .conversations
            .advance_read_marker(cmd.conversation_id, cmd.user_id, proposed, now)
            .await
        {
            Err(RepoError::NotFound) => return Err(MarkReadError::NotParticipant),
            other => other?,
        };
        let (moved, unread) = (advance.moved, advance.unread_count);
        let marker = moved.marker();
        let ack = ReadAck {
            conversation_id: cmd.conversation_id,
            last_read_sequence: marker.sequence,
            last_read_at: marker.read_at,
            updated_at: now,
            new_unread_count: unread,
            advanced: matches!(moved, MarkerMove::Advanced(_)),
        };
        if ack.advanced {
            let muted = match self.mutes.find_mute(cmd.conversation_id, cmd.user_id).await {
                Ok(m) => m.is_some_and(|m| m.is_active(now)),
                Err(error) => {
                    tracing::warn!(error = %error, "reading the mute after a read failed");
                    false
                }
            };
            let update = UnreadUpdate {
                conversation_id: cmd.conversation_id,
                unread_count: unread,
                updated_at: now,
                last_read_sequence: marker.sequence,
                last_read_at: marker.read_at,
                muted,
            };
            publish(
                &*self.publisher,
                Audience::User(cmd.user_id),
                ServerEvent::UnreadCountUpdated(update),
            )
            .await;
            let receipt = ReadReceipt {
                conversation_id: cmd.conversation_id,
                user_id: cmd.user_id,
                last_read_sequence: marker.sequence,
                last_read_at: marker.read_at,
            };
            publish(
                &*self.publisher,
                Audience::Conversation(cmd.conversation_id),
                ServerEvent::ReadReceiptReceived(receipt),
            )
            .await;
        }
        Ok(ack)
    }
}
