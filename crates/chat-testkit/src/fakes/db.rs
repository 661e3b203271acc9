//! The one shared state behind every fake repository, as one database would be.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard},
};

use chat_domain::{
    block::Block,
    change::{Change, ChangeSequence},
    conversation::{Conversation, OneToOnePair},
    error::RepoError,
    ids::{ConversationId, DeviceId, MessageId, UserId},
    membership::Window,
    message::StoredMessage,
    mute::Mute,
    ports::ContextVersion,
    sequence::{ClientSequence, ServerSequence},
    time::Timestamp,
    user::User,
};

use uuid::Uuid;

use super::{
    FakeBlockRepository, FakeConversationRepository, FakeGroupRepository, FakeMessageRepository,
    FakeMuteRepository, FakeUserRepository,
};
use crate::contract::Repositories;

/// The state of the fake database. Every fake repository made from one `FakeDb` (or a clone of
/// it) sees the same data, and each port method runs under its one lock, so every method is
/// atomic as a transaction would make it.
#[derive(Debug, Clone, Default)]
pub struct FakeDb {
    state: Arc<Mutex<DbState>>,
}

/// The tables. Names (of participants and senders) are not copied here; they are read from
/// `users` whenever a conversation or message is returned, as a join would.
#[derive(Debug, Default)]
pub(crate) struct DbState {
    pub(crate) unavailable: bool,
    pub(crate) users: HashMap<UserId, User>,
    /// Revocation points of users' tokens.
    pub(crate) revocations: HashMap<UserId, Timestamp>,
    pub(crate) conversations: HashMap<ConversationId, Conversation>,
    pub(crate) pairs: HashMap<OneToOnePair, ConversationId>,
    /// Messages by (conversation, sequence): one conversation's messages are one range.
    pub(crate) messages: BTreeMap<(ConversationId, ServerSequence), StoredMessage>,
    /// Unique key: message id.
    pub(crate) message_ids: HashMap<MessageId, (ConversationId, ServerSequence)>,
    /// Unique key: (conversation, sender, device, client sequence).
    pub(crate) client_sequences: HashMap<ClientSequenceKey, (ConversationId, ServerSequence)>,
    /// Blocks in insertion order (oldest first).
    pub(crate) blocks: Vec<Block>,
    pub(crate) mutes: HashMap<(ConversationId, UserId), Mute>,
    /// Context versions of conversations (absent: 0). Every write that changes what a send
    /// checks moves it, under the same lock as the change.
    pub(crate) context_versions: HashMap<ConversationId, ContextVersion>,
    /// Groups by (creator, request id).
    pub(crate) group_requests: HashMap<(UserId, Uuid), ConversationId>,
    /// Change logs by (conversation, change sequence).
    pub(crate) changes: BTreeMap<(ConversationId, ChangeSequence), Change>,
    /// Each conversation's newest change (absent: none).
    pub(crate) change_heads: HashMap<ConversationId, ChangeSequence>,
    /// Membership windows by (conversation, user), oldest first.
    pub(crate) windows: HashMap<(ConversationId, UserId), Vec<Window>>,
    /// Groups their last member left.
    pub(crate) closed: HashSet<ConversationId>,
}

/// The unique key of a client sequence.
pub(crate) type ClientSequenceKey = (ConversationId, UserId, DeviceId, ClientSequence);

impl FakeDb {
    /// An empty database.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every repository method fail with `RepoError::Unavailable` (storage down) until
    /// switched back.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.state.lock().unwrap().unavailable = unavailable;
    }

    /// The five fake repositories over this database.
    #[must_use]
    pub fn repositories(&self) -> Repositories {
        Repositories {
            users: Arc::new(FakeUserRepository::new(self.clone())),
            conversations: Arc::new(FakeConversationRepository::new(self.clone())),
            messages: Arc::new(FakeMessageRepository::new(self.clone())),
            blocks: Arc::new(FakeBlockRepository::new(self.clone())),
            mutes: Arc::new(FakeMuteRepository::new(self.clone())),
            groups: Arc::new(FakeGroupRepository::new(self.clone())),
        }
    }

    /// Every stored message of `conversation`, ascending by sequence (for assertions).
    #[must_use]
    pub fn messages_of(&self, conversation: ConversationId) -> Vec<StoredMessage> {
        let state = self.state.lock().unwrap();
        state
            .conversation_messages(conversation)
            .map(|m| state.named(m))
            .collect()
    }

    /// Whether the group `id` was closed (its last member left), for assertions.
    #[must_use]
    pub fn is_closed(&self, id: ConversationId) -> bool {
        self.state.lock().unwrap().closed.contains(&id)
    }

    /// How many messages are stored in all (for assertions such as "nothing was saved").
    #[must_use]
    pub fn message_count(&self) -> usize {
        self.state.lock().unwrap().messages.len()
    }

    /// Locks the tables for one port method, or fails as an unavailable database would.
    pub(crate) fn open(&self) -> Result<MutexGuard<'_, DbState>, RepoError> {
        let state = self.state.lock().unwrap();
        if state.unavailable {
            return Err(RepoError::unavailable(std::io::Error::other(
                "fake database set unavailable",
            )));
        }
        Ok(state)
    }
}

/// Fresh fake repositories over one new shared database, and the database itself.
#[must_use]
pub fn fake_repositories() -> (Repositories, FakeDb) {
    let db = FakeDb::new();
    (db.repositories(), db)
}

impl DbState {
    /// The messages of one conversation, ascending by sequence.
    pub(crate) fn conversation_messages(
        &self,
        conversation: ConversationId,
    ) -> impl DoubleEndedIterator<Item = &StoredMessage> + '_ {
        let from = (conversation, ServerSequence::ZERO);
        let to = (conversation, ServerSequence::new(u64::MAX));
        self.messages.range(from..=to).map(|(_, m)| m)
    }

    /// A message with its sender's current name.
    pub(crate) fn named(&self, message: &StoredMessage) -> StoredMessage {
        StoredMessage {
            sender_name: self
                .users
                .get(&message.sender_id)
                .and_then(|u| u.name.clone()),
            ..message.clone()
        }
    }

    /// A conversation with its participants' current names.
    pub(crate) fn conversation(&self, id: ConversationId) -> Option<Conversation> {
        let mut conversation = self.conversations.get(&id)?.clone();
        for p in &mut conversation.participants {
            p.name = self.users.get(&p.user_id).and_then(|u| u.name.clone());
        }
        Some(conversation)
    }

    /// The context version of `conversation`.
    pub(crate) fn context_version(&self, conversation: ConversationId) -> ContextVersion {
        self.context_versions
            .get(&conversation)
            .copied()
            .unwrap_or_default()
    }

    /// Moves the context version of `conversation`, when it exists.
    pub(crate) fn bump_context(&mut self, conversation: ConversationId) {
        if self.conversations.contains_key(&conversation) {
            let version = self.context_versions.entry(conversation).or_default();
            version.0 += 1;
        }
    }

    /// The conversations `user` is an active participant of, by id.
    pub(crate) fn conversations_of(&self, user: UserId) -> Vec<ConversationId> {
        let mut ids: Vec<ConversationId> = self
            .conversations
            .values()
            .filter(|c| c.participant(user).is_some_and(|p| p.is_active()))
            .map(|c| c.id)
            .collect();
        ids.sort_unstable();
        ids
    }
}
