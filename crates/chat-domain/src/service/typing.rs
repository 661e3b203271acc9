//! `typing:start` / `typing:stop` and the automatic clear (contract 4.3).
//!
//! The indicator state lives in this process: a socket lives on one node, and so do its
//! indicators. The adapter owns the timers: after a start it calls [`TypingService::expire`] at
//! the returned `expires_at`, and at disconnect [`TypingService::clear_socket`].

use std::sync::{Arc, Mutex, PoisonError};

use super::{Policies, RateLimited, check_rate, participant_conversation, publish};
use crate::{
    block::{BlockSide, ensure_not_blocked},
    error::RepoError,
    events::{Audience, ServerEvent},
    ids::{ConversationId, SocketId, UserId},
    ports::{BlockRepository, Clock, ConversationRepository, EventPublisher, RateLimiter},
    rate_limit::RateLimitedAction,
    time::Timestamp,
    typing::{TypingStart, TypingTracker},
};

/// One typing indicator: a socket of a user in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypingKey {
    /// Where.
    pub conversation_id: ConversationId,
    /// Who.
    pub user_id: UserId,
    /// From which socket (excluded from the broadcast).
    pub socket_id: SocketId,
}

/// The ack of a typing event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypingAck {
    /// Where.
    pub conversation_id: ConversationId,
    /// Started or stopped.
    pub is_typing: bool,
    /// For a start: when it clears by itself; the adapter calls `expire` then.
    pub expires_at: Option<Timestamp>,
}

/// Why a typing event failed.
#[derive(Debug, thiserror::Error)]
pub enum TypingError {
    /// Not an active participant.
    #[error("not a participant of this conversation")]
    NotParticipant,
    /// A block stands in the conversation.
    #[error("blocked: {0}")]
    Blocked(BlockSide),
    /// Over the typing quota.
    #[error("rate limit exceeded")]
    RateLimited(RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Typing indicators.
pub struct TypingService {
    conversations: Arc<dyn ConversationRepository>,
    blocks: Arc<dyn BlockRepository>,
    rate_limiter: Arc<dyn RateLimiter>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    policies: Policies,
    tracker: Mutex<TypingTracker<TypingKey>>,
}

impl std::fmt::Debug for TypingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypingService")
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

impl TypingService {
    /// A typing service over these ports, with no indicator up.
    #[must_use]
    pub fn new(
        conversations: Arc<dyn ConversationRepository>,
        blocks: Arc<dyn BlockRepository>,
        rate_limiter: Arc<dyn RateLimiter>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        policies: Policies,
    ) -> Self {
        Self {
            conversations,
            blocks,
            rate_limiter,
            publisher,
            clock,
            policies,
            tracker: Mutex::new(TypingTracker::new(policies.typing)),
        }
    }

    async fn check(&self, key: &TypingKey, start: bool, now: Timestamp) -> Result<(), TypingError> {
        participant_conversation(&*self.conversations, key.user_id, key.conversation_id)
            .await?
            .ok_or(TypingError::NotParticipant)?;
        if start {
            let blocks = self
                .blocks
                .list_conversation_blocks(key.conversation_id)
                .await?;
            ensure_not_blocked(key.user_id, &blocks).map_err(TypingError::Blocked)?;
        }
        check_rate(
            &*self.rate_limiter,
            &self.policies.rate,
            key.user_id,
            RateLimitedAction::Typing,
            now,
        )
        .await?
        .map_err(TypingError::RateLimited)
    }

    fn tracker(&self) -> std::sync::MutexGuard<'_, TypingTracker<TypingKey>> {
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `typing:start`: broadcasts unless a start was broadcast within the throttle.
    ///
    /// # Errors
    /// [`TypingError`].
    #[tracing::instrument(skip_all, fields(user.id = %key.user_id, conversation.id = %key.conversation_id))]
    pub async fn start(&self, key: TypingKey) -> Result<TypingAck, TypingError> {
        let now = self.clock.now();
        self.check(&key, true, now).await?;
        let started = self.tracker().start(key.clone(), now);
        if let TypingStart::Broadcast { expires_at } = started {
            self.broadcast(&key, true, Some(expires_at)).await;
        }
        Ok(TypingAck {
            conversation_id: key.conversation_id,
            is_typing: true,
            expires_at: Some(started.expires_at()),
        })
    }

    /// `typing:stop`: clears the indicator if it is up.
    ///
    /// # Errors
    /// [`TypingError`] (a block does not prevent stopping).
    #[tracing::instrument(skip_all, fields(user.id = %key.user_id, conversation.id = %key.conversation_id))]
    pub async fn stop(&self, key: TypingKey) -> Result<TypingAck, TypingError> {
        let now = self.clock.now();
        self.check(&key, false, now).await?;
        let was_typing = self.tracker().stop(&key);
        if was_typing {
            self.broadcast(&key, false, None).await;
        }
        Ok(TypingAck {
            conversation_id: key.conversation_id,
            is_typing: false,
            expires_at: None,
        })
    }

    /// A start's timer fired: clears the indicator unless it was refreshed or stopped.
    pub async fn expire(&self, key: TypingKey) {
        let now = self.clock.now();
        let expired = self.tracker().expire(&key, now);
        if expired {
            self.broadcast(&key, false, None).await;
        }
    }

    /// A socket left: clears every indicator it had up.
    pub async fn clear_socket(&self, socket: &SocketId) {
        let keys = self.tracker().remove_where(|k| &k.socket_id == socket);
        for key in keys {
            self.broadcast(&key, false, None).await;
        }
    }

    async fn broadcast(&self, key: &TypingKey, is_typing: bool, expires_at: Option<Timestamp>) {
        publish(
            &*self.publisher,
            Audience::ConversationExcept(key.conversation_id, key.socket_id.clone()),
            ServerEvent::TypingIndicator {
                conversation_id: key.conversation_id,
                user_id: key.user_id,
                is_typing,
                expires_at,
            },
        )
        .await;
    }
}
