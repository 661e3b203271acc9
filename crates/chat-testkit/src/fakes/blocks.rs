//! The fake [`BlockRepository`] and [`MuteRepository`].

use chat_domain::{
    block::Block,
    error::RepoError,
    ids::{ConversationId, UserId},
    mute::Mute,
    ports::{BlockRepository, MuteRepository},
    time::Timestamp,
};

use super::FakeDb;

/// Blocks in a [`FakeDb`], unique per (conversation, blocker, blocked).
#[derive(Debug, Clone)]
pub struct FakeBlockRepository {
    db: FakeDb,
}

impl FakeBlockRepository {
    /// Over `db`.
    #[must_use]
    pub fn new(db: FakeDb) -> Self {
        Self { db }
    }

    /// The standing blocks that `keep` selects, oldest first.
    fn select(&self, keep: impl Fn(&Block) -> bool) -> Result<Vec<Block>, RepoError> {
        let mut blocks: Vec<Block> = self
            .db
            .open()?
            .blocks
            .iter()
            .filter(|b| keep(b))
            .cloned()
            .collect();
        // Stable: equal instants keep their insertion order.
        blocks.sort_by_key(|b| b.blocked_at);
        Ok(blocks)
    }
}

fn same(b: &Block, conversation: ConversationId, blocker: UserId, blocked: UserId) -> bool {
    b.conversation_id == conversation && b.blocker_id == blocker && b.blocked_id == blocked
}

#[async_trait::async_trait]
impl BlockRepository for FakeBlockRepository {
    async fn insert_block(&self, block: Block) -> Result<Block, RepoError> {
        let mut state = self.db.open()?;
        let (c, by, of) = (block.conversation_id, block.blocker_id, block.blocked_id);
        if let Some(existing) = state.blocks.iter().find(|b| same(b, c, by, of)) {
            return Ok(existing.clone());
        }
        state.blocks.push(block.clone());
        state.bump_context(c);
        Ok(block)
    }

    async fn list_conversation_blocks(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<Block>, RepoError> {
        self.select(|b| b.conversation_id == conversation)
    }

    async fn list_user_blocks(&self, user: UserId) -> Result<Vec<Block>, RepoError> {
        self.select(|b| b.blocker_id == user)
    }

    async fn list_blocks_involving(&self, user: UserId) -> Result<Vec<Block>, RepoError> {
        self.select(|b| b.blocker_id == user || b.blocked_id == user)
    }

    async fn delete_block(
        &self,
        conversation: ConversationId,
        blocker: UserId,
        blocked: UserId,
    ) -> Result<Option<Block>, RepoError> {
        let mut state = self.db.open()?;
        let index = state
            .blocks
            .iter()
            .position(|b| same(b, conversation, blocker, blocked));
        let lifted = index.map(|i| state.blocks.remove(i));
        if lifted.is_some() {
            state.bump_context(conversation);
        }
        Ok(lifted)
    }
}

/// Mutes in a [`FakeDb`], one per (conversation, user).
#[derive(Debug, Clone)]
pub struct FakeMuteRepository {
    db: FakeDb,
}

impl FakeMuteRepository {
    /// Over `db`.
    #[must_use]
    pub fn new(db: FakeDb) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl MuteRepository for FakeMuteRepository {
    async fn upsert_mute(&self, mute: Mute) -> Result<Mute, RepoError> {
        let key = (mute.conversation_id, mute.user_id);
        let mut state = self.db.open()?;
        state.mutes.insert(key, mute.clone());
        state.bump_context(mute.conversation_id);
        Ok(mute)
    }

    async fn find_mute(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<Option<Mute>, RepoError> {
        Ok(self.db.open()?.mutes.get(&(conversation, user)).cloned())
    }

    async fn list_user_mutes(&self, user: UserId, now: Timestamp) -> Result<Vec<Mute>, RepoError> {
        let mut mutes: Vec<Mute> = self
            .db
            .open()?
            .mutes
            .values()
            .filter(|m| m.user_id == user && m.is_active(now))
            .cloned()
            .collect();
        mutes.sort_by_key(|m| (m.muted_at, m.conversation_id));
        Ok(mutes)
    }

    async fn delete_mute(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<Option<Mute>, RepoError> {
        let mut state = self.db.open()?;
        let lifted = state.mutes.remove(&(conversation, user));
        if lifted.is_some() {
            state.bump_context(conversation);
        }
        Ok(lifted)
    }
}
