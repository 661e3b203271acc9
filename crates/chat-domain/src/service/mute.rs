//! `mute:conversation` / `unmute:conversation` and their REST twins (contract 4.5).

use std::sync::Arc;

use super::{
    Policies, RateLimited, SendContextCache, check_rate, participant_conversation, publish,
};
use crate::{
    error::RepoError,
    events::{Audience, ServerEvent},
    ids::{ConversationId, UserId},
    mute::{Mute, MuteUntilInPast, ensure_mute_until},
    ports::{Clock, ConversationRepository, EventPublisher, MuteRepository, RateLimiter},
    rate_limit::RateLimitedAction,
    time::Timestamp,
};

/// Why a mute or unmute failed. Nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum MuteError {
    /// Not an active participant (or no such conversation).
    #[error("not a participant of this conversation")]
    NotParticipant,
    /// `mutedUntil` is not in the future.
    #[error(transparent)]
    UntilInPast(#[from] MuteUntilInPast),
    /// Over the mute quota (a mute only: unmuting is never refused for rate).
    #[error("rate limit exceeded")]
    RateLimited(RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Mutes.
pub struct MuteService {
    conversations: Arc<dyn ConversationRepository>,
    mutes: Arc<dyn MuteRepository>,
    rate_limiter: Arc<dyn RateLimiter>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    policies: Policies,
    cache: Arc<SendContextCache>,
}

impl std::fmt::Debug for MuteService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MuteService")
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

impl MuteService {
    /// A mute service over these ports. A mute or unmute invalidates the conversation in
    /// `cache` (the one [`super::MessagingService`] reads).
    #[must_use]
    pub fn new(
        conversations: Arc<dyn ConversationRepository>,
        mutes: Arc<dyn MuteRepository>,
        rate_limiter: Arc<dyn RateLimiter>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        policies: Policies,
        cache: Arc<SendContextCache>,
    ) -> Self {
        Self {
            conversations,
            mutes,
            rate_limiter,
            publisher,
            clock,
            policies,
            cache,
        }
    }

    async fn check(&self, user: UserId, conversation: ConversationId) -> Result<(), MuteError> {
        participant_conversation(&*self.conversations, user, conversation)
            .await?
            .ok_or(MuteError::NotParticipant)?;
        Ok(())
    }

    /// Mutes (or re-mutes with a new expiry) and publishes `conversation:muted` to the user.
    ///
    /// # Errors
    /// [`MuteError`].
    #[tracing::instrument(skip_all, fields(user.id = %user, conversation.id = %conversation))]
    pub async fn mute(
        &self,
        user: UserId,
        conversation: ConversationId,
        muted_until: Option<Timestamp>,
    ) -> Result<Mute, MuteError> {
        let now = self.clock.now();
        ensure_mute_until(now, muted_until)?;
        self.check(user, conversation).await?;
        check_rate(
            &*self.rate_limiter,
            &self.policies.rate,
            user,
            RateLimitedAction::Mute,
            now,
        )
        .await?
        .map_err(MuteError::RateLimited)?;
        let mute = self
            .mutes
            .upsert_mute(Mute {
                conversation_id: conversation,
                user_id: user,
                muted_at: now,
                muted_until,
            })
            .await?;
        self.cache.invalidate(conversation);
        publish(
            &*self.publisher,
            Audience::User(user),
            ServerEvent::ConversationMuted(mute.clone()),
        )
        .await;
        Ok(mute)
    }

    /// Unmutes (never refused for rate, nor counted: contract 4.3); publishes `conversation:unmuted` to the user when a mute was lifted. Returns
    /// the lifted mute, if any.
    ///
    /// # Errors
    /// [`MuteError`].
    #[tracing::instrument(skip_all, fields(user.id = %user, conversation.id = %conversation))]
    pub async fn unmute(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Option<Mute>, MuteError> {
        self.check(user, conversation).await?;
        let lifted = self.mutes.delete_mute(conversation, user).await?;
        self.cache.invalidate(conversation);
        if lifted.is_some() {
            publish(
                &*self.publisher,
                Audience::User(user),
                ServerEvent::ConversationUnmuted {
                    conversation_id: conversation,
                },
            )
            .await;
        }
        Ok(lifted)
    }
}
