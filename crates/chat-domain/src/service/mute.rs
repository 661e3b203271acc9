//! `mute:conversation` / `unmute:conversation` and their REST twins (contract 4.5).

use std::sync::Arc;

use super::{
    Policies, Ports, RateLimited, SendContextCache, check_rate, participant_conversation, publish,
};
use crate::{
    error::RepoError,
    events::{Audience, ServerEvent},
    ids::{ConversationId, UserId},
    mute::{Mute, MuteUntilInPast, ensure_mute_until},
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
    /// Over the mute quota.
    #[error("rate limit exceeded")]
    RateLimited(RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Mutes.
#[derive(Debug)]
pub struct MuteService {
    ports: Arc<Ports>,
    policies: Policies,
    cache: Arc<SendContextCache>,
}

impl MuteService {
    pub(super) fn new(ports: Arc<Ports>, policies: Policies, cache: Arc<SendContextCache>) -> Self {
        Self {
            ports,
            policies,
            cache,
        }
    }

    async fn check(
        &self,
        user: UserId,
        conversation: ConversationId,
        now: Timestamp,
    ) -> Result<(), MuteError> {
        let ports = &*self.ports;
        participant_conversation(ports, user, conversation)
            .await?
            .ok_or(MuteError::NotParticipant)?;
        check_rate(ports, &self.policies, user, RateLimitedAction::Mute, now)
            .await?
            .map_err(MuteError::RateLimited)
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
        let now = self.ports.clock.now();
        ensure_mute_until(now, muted_until)?;
        self.check(user, conversation, now).await?;
        let mute = self
            .ports
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
            &self.ports,
            Audience::User(user),
            ServerEvent::ConversationMuted(mute.clone()),
        )
        .await;
        Ok(mute)
    }

    /// Unmutes; publishes `conversation:unmuted` to the user when a mute was lifted. Returns
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
        let now = self.ports.clock.now();
        self.check(user, conversation, now).await?;
        let lifted = self.ports.mutes.delete_mute(conversation, user).await?;
        self.cache.invalidate(conversation);
        if lifted.is_some() {
            publish(
                &self.ports,
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
