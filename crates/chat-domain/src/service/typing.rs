//! `typing:start` / `typing:stop` and the automatic clear (contract 4.3).
//!
//! Typing is per user, not per device: one indicator per user and conversation, which the
//! latest start or stop from any of the user's sockets decides, with one timer keyed by user.
//! The indicator state lives in this process (the user's sockets on this node share it). The
//! adapter owns the timers: after a start it calls [`TypingService::expire`] at the returned
//! `expires_at`, and at disconnect [`TypingService::clear_socket`], which clears what that
//! socket was the user's last typing socket for.

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

/// One typing indicator: a user in a conversation, whichever of their devices types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypingKey {
    /// Where.
    pub conversation_id: ConversationId,
    /// Who.
    pub user_id: UserId,
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
    /// Over the typing quota (a start only: a stop is never refused for rate).
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
    tracker: Mutex<TypingTracker<TypingKey, SocketId>>,
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

    /// A participant; for a start, no block stands and the quota allows it. A stop is never
    /// refused for a block or for rate, and counts nothing (contract 4.3).
    async fn check(&self, key: &TypingKey, start: bool, now: Timestamp) -> Result<(), TypingError> {
        participant_conversation(&*self.conversations, key.user_id, key.conversation_id)
            .await?
            .ok_or(TypingError::NotParticipant)?;
        if !start {
            return Ok(());
        }
        let blocks = self
            .blocks
            .list_conversation_blocks(key.conversation_id)
            .await?;
        ensure_not_blocked(key.user_id, &blocks).map_err(TypingError::Blocked)?;
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

    fn tracker(&self) -> std::sync::MutexGuard<'_, TypingTracker<TypingKey, SocketId>> {
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `typing:start` from socket `by`: broadcasts unless a start of the user's was broadcast
    /// within the throttle, and moves the user's timer.
    ///
    /// # Errors
    /// [`TypingError`].
    #[tracing::instrument(skip_all, fields(user.id = %key.user_id, conversation.id = %key.conversation_id))]
    pub async fn start(&self, key: TypingKey, by: SocketId) -> Result<TypingAck, TypingError> {
        let now = self.clock.now();
        self.check(&key, true, now).await?;
        let started = self.tracker().start(key.clone(), by.clone(), now);
        if let TypingStart::Broadcast { expires_at } = started {
            self.broadcast(&key, &by, true, Some(expires_at)).await;
        }
        Ok(TypingAck {
            conversation_id: key.conversation_id,
            is_typing: true,
            expires_at: Some(started.expires_at()),
        })
    }

    /// `typing:stop` from socket `by`: clears the user's indicator if it is up, whichever of
    /// the user's sockets started it.
    ///
    /// # Errors
    /// [`TypingError`] (neither a block nor the quota prevents stopping).
    #[tracing::instrument(skip_all, fields(user.id = %key.user_id, conversation.id = %key.conversation_id))]
    pub async fn stop(&self, key: TypingKey, by: SocketId) -> Result<TypingAck, TypingError> {
        let now = self.clock.now();
        self.check(&key, false, now).await?;
        let was_typing = self.tracker().stop(&key);
        if was_typing {
            self.broadcast(&key, &by, false, None).await;
        }
        Ok(TypingAck {
            conversation_id: key.conversation_id,
            is_typing: false,
            expires_at: None,
        })
    }

    /// A start's timer fired: clears the user's indicator unless it was refreshed (from any of
    /// the user's sockets) or stopped.
    pub async fn expire(&self, key: TypingKey) {
        let now = self.clock.now();
        let expired = self.tracker().expire(&key, now);
        if let Some(last) = expired {
            self.broadcast(&key, &last, false, None).await;
        }
    }

    /// A socket left: clears every indicator it was the user's last typing socket for.
    pub async fn clear_socket(&self, socket: &SocketId) {
        let keys = self.tracker().leave(socket);
        for key in keys {
            self.broadcast(&key, socket, false, None).await;
        }
    }

    /// To the conversation except `by`, the socket whose event (or timer) it is.
    async fn broadcast(
        &self,
        key: &TypingKey,
        by: &SocketId,
        is_typing: bool,
        expires_at: Option<Timestamp>,
    ) {
        publish(
            &*self.publisher,
            Audience::ConversationExcept(key.conversation_id, by.clone()),
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
