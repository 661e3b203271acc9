//! `block:user` / `unblock:user` and their REST twins (contract 4.5).

use std::sync::Arc;

use super::{Policies, RateLimited, SendContextCache, check_rate, publish};
use crate::{
    block::{Block, BlockTargetError, ensure_block_target, is_kept_out},
    error::RepoError,
    events::{Audience, ServerEvent},
    ids::{ConversationId, UserId},
    ports::{BlockRepository, Clock, ConversationRepository, EventPublisher, RateLimiter},
    rate_limit::RateLimitedAction,
};

/// Why a block or unblock failed. Nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// The actor is not an active participant (or no such conversation).
    #[error("not a participant of this conversation")]
    NotParticipant,
    /// The target is the actor or not a participant.
    #[error(transparent)]
    InvalidTarget(BlockTargetError),
    /// Over the block quota (a block only: unblocking is never refused for rate).
    #[error("rate limit exceeded")]
    RateLimited(RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// The result of an unblock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnblockOutcome {
    /// The block stood and is lifted.
    Lifted(Block),
    /// There was no such block; nothing changed.
    NotBlocked,
}

/// Blocks.
pub struct BlockService {
    conversations: Arc<dyn ConversationRepository>,
    blocks: Arc<dyn BlockRepository>,
    rate_limiter: Arc<dyn RateLimiter>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    policies: Policies,
    cache: Arc<SendContextCache>,
}

impl std::fmt::Debug for BlockService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockService")
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

impl BlockService {
    /// A block service over these ports. A block or unblock invalidates the conversation in
    /// `cache` (the one [`super::MessagingService`] reads).
    #[must_use]
    pub fn new(
        conversations: Arc<dyn ConversationRepository>,
        blocks: Arc<dyn BlockRepository>,
        rate_limiter: Arc<dyn RateLimiter>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        policies: Policies,
        cache: Arc<SendContextCache>,
    ) -> Self {
        Self {
            conversations,
            blocks,
            rate_limiter,
            publisher,
            clock,
            policies,
            cache,
        }
    }

    /// The actor and the target are participants, the target another one.
    async fn check(
        &self,
        actor: UserId,
        conversation: ConversationId,
        target: UserId,
    ) -> Result<(), BlockError> {
        let found = self
            .conversations
            .find_conversation(conversation)
            .await?
            .ok_or(BlockError::NotParticipant)?;
        ensure_block_target(actor, target, &found.participants).map_err(|e| match e {
            BlockTargetError::NotParticipant(_) => BlockError::NotParticipant,
            other => BlockError::InvalidTarget(other),
        })
    }

    /// Blocks `target` in `conversation` (idempotent: an existing block is returned as it is).
    /// Publishes `user:blocked` to the blocker and takes the blocked user's sockets out of the
    /// room.
    ///
    /// # Errors
    /// [`BlockError`].
    #[tracing::instrument(skip_all, fields(user.id = %actor, conversation.id = %conversation))]
    pub async fn block(
        &self,
        actor: UserId,
        conversation: ConversationId,
        target: UserId,
    ) -> Result<Block, BlockError> {
        self.check(actor, conversation, target).await?;
        check_rate(
            &*self.rate_limiter,
            &self.policies.rate,
            actor,
            RateLimitedAction::Block,
            self.clock.now(),
        )
        .await?
        .map_err(BlockError::RateLimited)?;
        let block = self
            .blocks
            .insert_block(Block {
                conversation_id: conversation,
                blocker_id: actor,
                blocked_id: target,
                blocked_at: self.clock.now(),
            })
            .await?;
        self.cache.invalidate(conversation);
        if let Err(error) = self
            .publisher
            .leave_conversation(target, conversation)
            .await
        {
            tracing::warn!(error = %error, "taking the blocked user out of the room failed");
        }
        publish(
            &*self.publisher,
            Audience::User(actor),
            ServerEvent::UserBlocked(block.clone()),
        )
        .await;
        Ok(block)
    }

    /// Lifts the block (never refused for rate, nor counted: contract 4.3). When it stood, publishes `user:unblocked` to the blocker and puts the
    /// blocked user's sockets back in the room (unless another block keeps them out).
    ///
    /// # Errors
    /// [`BlockError`].
    #[tracing::instrument(skip_all, fields(user.id = %actor, conversation.id = %conversation))]
    pub async fn unblock(
        &self,
        actor: UserId,
        conversation: ConversationId,
        target: UserId,
    ) -> Result<UnblockOutcome, BlockError> {
        self.check(actor, conversation, target).await?;
        let Some(block) = self
            .blocks
            .delete_block(conversation, actor, target)
            .await?
        else {
            return Ok(UnblockOutcome::NotBlocked);
        };
        self.cache.invalidate(conversation);
        let remaining = self.blocks.list_conversation_blocks(conversation).await?;
        if !is_kept_out(target, &remaining)
            && let Err(error) = self.publisher.join_conversation(target, conversation).await
        {
            tracing::warn!(error = %error, "putting the unblocked user back in the room failed");
        }
        publish(
            &*self.publisher,
            Audience::User(actor),
            ServerEvent::UserUnblocked(block.clone()),
        )
        .await;
        Ok(UnblockOutcome::Lifted(block))
    }
}
