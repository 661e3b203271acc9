//! A per-node cache of what a send checks ([`SendContext`]), so that the common send costs one
//! round trip to the database: the append itself, conditioned on the context's version. A
//! stale entry is harmless: the append refuses it, the context is read again and the rules run
//! again. Sharded, so no lock is shared by all sends.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex, PoisonError},
};

use crate::{ids::ConversationId, ports::SendContext};

const SHARDS: usize = 32;
/// Entries per shard before the shard is emptied (a crude bound on memory).
const SHARD_CAPACITY: usize = 2_048;

/// Conversations' send contexts, by id.
#[derive(Debug)]
pub struct SendContextCache {
    hasher: RandomState,
    shards: Vec<Mutex<HashMap<ConversationId, Arc<SendContext>>>>,
}

impl Default for SendContextCache {
    fn default() -> Self {
        Self {
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

impl SendContextCache {
    fn shard(&self, id: ConversationId) -> &Mutex<HashMap<ConversationId, Arc<SendContext>>> {
        let i = usize::try_from(self.hasher.hash_one(id) % SHARDS as u64).unwrap_or(0);
        &self.shards[i]
    }

    /// The cached context of `id`, if any.
    #[must_use]
    pub fn get(&self, id: ConversationId) -> Option<Arc<SendContext>> {
        self.shard(id)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    /// Caches `ctx` unless a newer version is already there.
    pub fn put(&self, ctx: Arc<SendContext>) {
        let id = ctx.conversation.id;
        let mut shard = self
            .shard(id)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if shard.get(&id).is_some_and(|c| c.version > ctx.version) {
            return;
        }
        if shard.len() >= SHARD_CAPACITY && !shard.contains_key(&id) {
            shard.clear();
        }
        shard.insert(id, ctx);
    }

    /// Forgets `id` (after this node changed what a send checks there).
    pub fn invalidate(&self, id: ConversationId) {
        self.shard(id)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }
}
