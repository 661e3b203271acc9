//! Port contract suites. Each suite uses fresh random ids, so suites may share one adapter.

pub mod presence;
pub mod rate_limit;
pub mod repos;
pub mod session;

use std::sync::Arc;

use chat_domain::{
    error::RepoError,
    message::{AppendOutcome, NewMessage},
    ports::{
        BlockRepository, CheckedAppend, ContextVersion, ConversationRepository, GroupRepository,
        MessageRepository, MuteRepository, UserRepository,
    },
};

pub use self::{
    presence::presence_store_contract,
    rate_limit::rate_limiter_contract,
    repos::{
        append_concurrency_contract, block_repository_contract, conversation_repository_contract,
        group_repository_contract, message_repository_contract, mute_repository_contract,
        run_repository_contracts, user_repository_contract,
    },
    session::session_store_contract,
};

/// The repositories of one storage backend.
#[derive(Clone)]
pub struct Repositories {
    /// Users.
    pub users: Arc<dyn UserRepository>,
    /// Conversations, participants and read markers.
    pub conversations: Arc<dyn ConversationRepository>,
    /// Messages.
    pub messages: Arc<dyn MessageRepository>,
    /// Blocks.
    pub blocks: Arc<dyn BlockRepository>,
    /// Mutes.
    pub mutes: Arc<dyn MuteRepository>,
    /// Groups, membership windows and change logs.
    pub groups: Arc<dyn GroupRepository>,
}

impl Repositories {
    /// Appends `msg` as a send does once its checks passed: at its conversation's current
    /// context version, read first (`append_if_current`). An unknown conversation is
    /// `RepoError::NotFound`, as the append answers it.
    ///
    /// # Errors
    /// What the read or the append answered.
    ///
    /// # Panics
    /// When the version moved between the read and the append: the checks that store messages
    /// this way move no version meanwhile.
    pub async fn append_at_current_version(
        &self,
        msg: NewMessage,
    ) -> Result<AppendOutcome, RepoError> {
        let version = self
            .conversations
            .fetch_send_context(msg.conversation_id)
            .await?
            .map_or_else(ContextVersion::default, |context| context.version);
        self.append_at(msg, version).await
    }

    /// Appends `msg` at the context version `version`, read before.
    ///
    /// # Errors
    /// What the append answered.
    ///
    /// # Panics
    /// When `version` is not current (`StaleContext`).
    pub async fn append_at(
        &self,
        msg: NewMessage,
        version: ContextVersion,
    ) -> Result<AppendOutcome, RepoError> {
        match self.messages.append_if_current(msg, version).await? {
            CheckedAppend::Done { outcome, .. } => Ok(outcome),
            CheckedAppend::StaleContext => {
                panic!("the context version moved while the message was appended")
            }
        }
    }
}

impl std::fmt::Debug for Repositories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Repositories")
    }
}
