//! `block:user` / `unblock:user` and their REST twins (contract 4.5).

use std::sync::Arc;

use super::{Policies, Ports, RateLimited, SendContextCache, check_rate, publish};
use crate::{
    block::{Block, BlockTargetError, ensure_block_target, is_kept_out},
    error::RepoError,
    events::{Audience, ServerEvent},
    ids::{ConversationId, UserId},
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
    /// Over the block quota.
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
#[derive(Debug)]
pub struct BlockService {
    ports: Arc<Ports>,
    policies: Policies,
    cache: Arc<SendContextCache>,
}

impl BlockService {
    pub(super) fn new(ports: Arc<Ports>, policies: Policies, cache: Arc<SendContextCache>) -> Self {
        Self {
            ports,
            policies,
            cache,
        }
    }

    async fn check(
        &self,
        actor: UserId,
        conversation: ConversationId,
        target: UserId,
    ) -> Result<(), BlockError> {
        let ports = &*self.ports;
        let found = ports
            .conversations
            .find_conversation(conversation)
            .await?
            .ok_or(BlockError::NotParticipant)?;
        ensure_block_target(actor, target, &found.participants).map_err(|e| match e {
            BlockTargetError::NotParticipant(_) => BlockError::NotParticipant,
            other => BlockError::InvalidTarget(other),
        })?;
        check_rate(
            ports,
            &self.policies,
            actor,
            RateLimitedAction::Block,
            ports.clock.now(),
        )
        .await?
        .map_err(BlockError::RateLimited)
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
        let ports = &*self.ports;
        let block = ports
            .blocks
            .insert_block(Block {
                conversation_id: conversation,
                blocker_id: actor,
                blocked_id: target,
                blocked_at: ports.clock.now(),
            })
            .await?;
        self.cache.invalidate(conversation);
        if let Err(error) = ports
            .publisher
            .leave_conversation(target, conversation)
            .await
        {
            tracing::warn!(error = %error, "taking the blocked user out of the room failed");
        }
        publish(
            ports,
            Audience::User(actor),
            ServerEvent::UserBlocked(block.clone()),
        )
        .await;
        Ok(block)
    }

    /// Lifts the block. When it stood, publishes `user:unblocked` to the blocker and puts the
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
        let ports = &*self.ports;
        let Some(block) = ports
            .blocks
            .delete_block(conversation, actor, target)
            .await?
        else {
            return Ok(UnblockOutcome::NotBlocked);
        };
        self.cache.invalidate(conversation);
        let remaining = ports.blocks.list_conversation_blocks(conversation).await?;
        if !is_kept_out(target, &remaining)
            && let Err(error) = ports
                .publisher
                .join_conversation(target, conversation)
                .await
        {
            tracing::warn!(error = %error, "putting the unblocked user back in the room failed");
        }
        publish(
            ports,
            Audience::User(actor),
            ServerEvent::UserUnblocked(block.clone()),
        )
        .await;
        Ok(UnblockOutcome::Lifted(block))
    }
}
