//! A per-node cache of what a send checks ([`SendContext`]), so that the common send costs one
//! round trip to the database: the append itself, conditioned on the context's version. A
//! stale entry is harmless: the append refuses it, the context is read again and the rules run
//! again. Bounded (a `quick_cache` cache, sharded, so no lock is shared by all sends): past its
//! capacity the coldest conversations are evicted.

use std::sync::Arc;

use quick_cache::sync::{Cache, EntryAction, EntryResult};

use crate::{ids::ConversationId, ports::SendContext};

/// Conversations whose context a node keeps by default.
const SEND_CONTEXT_CAPACITY: usize = 65_536;

/// Conversations' send contexts, by id.
#[derive(Debug)]
pub struct SendContextCache {
    contexts: Cache<ConversationId, Arc<SendContext>>,
}

impl Default for SendContextCache {
    fn default() -> Self {
        Self::with_capacity(SEND_CONTEXT_CAPACITY)
    }
}

impl SendContextCache {
    /// A cache of at most about `capacity` conversations.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            contexts: Cache::new(capacity),
        }
    }

    /// The cached context of `id`, if any.
    #[must_use]
    pub fn get(&self, id: ConversationId) -> Option<Arc<SendContext>> {
        self.contexts.get(&id)
    }

    /// Caches `ctx` unless a newer version is already there (atomically: a concurrent older
    /// put never replaces a newer one).
    pub fn put(&self, ctx: Arc<SendContext>) {
        let id = ctx.conversation.id;
        let fresh = ctx.clone();
        let entry = self.contexts.entry(&id, None, move |_, cached| {
            if cached.version <= fresh.version {
                *cached = fresh;
            }
            EntryAction::Retain(())
        });
        if let EntryResult::Vacant(slot) = entry {
            // Err: an invalidation removed the slot meanwhile; nothing to keep.
            let _ = slot.insert(ctx);
        }
    }

    /// Forgets `id` (after this node changed what a send checks there).
    pub fn invalidate(&self, id: ConversationId) {
        self.contexts.remove(&id);
    }

    /// How many conversations are cached.
    #[must_use]
    pub fn len(&self) -> usize {
        self.contexts.len()
    }

    /// Whether no conversation is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.contexts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::{
        conversation::{Conversation, ConversationKind},
        ports::ContextVersion,
        sequence::ServerSequence,
        time::Timestamp,
    };

    fn conv(n: u128) -> ConversationId {
        ConversationId::new(Uuid::from_u128(n))
    }

    fn context(id: ConversationId, version: u64) -> Arc<SendContext> {
        Arc::new(SendContext {
            conversation: Conversation {
                id,
                kind: ConversationKind::OneToOne,
                title: None,
                created_at: Timestamp::EPOCH,
                last_sequence: ServerSequence::ZERO,
                participants: Vec::new(),
            },
            blocks: Vec::new(),
            mutes: Vec::new(),
            version: ContextVersion(version),
        })
    }

    fn cached_version(cache: &SendContextCache, id: ConversationId) -> Option<u64> {
        cache.get(id).map(|c| c.version.0)
    }

    #[test]
    fn a_put_context_is_returned() {
        let cache = SendContextCache::default();
        assert!(cache.is_empty());
        cache.put(context(conv(1), 3));
        assert_eq!(cached_version(&cache, conv(1)), Some(3));
        assert_eq!(cached_version(&cache, conv(2)), None);
    }

    #[test]
    fn an_older_version_does_not_replace_a_newer_one() {
        let cache = SendContextCache::default();
        cache.put(context(conv(1), 5));
        cache.put(context(conv(1), 4));
        assert_eq!(cached_version(&cache, conv(1)), Some(5));
        cache.put(context(conv(1), 6));
        assert_eq!(cached_version(&cache, conv(1)), Some(6));
    }

    #[test]
    fn the_same_version_read_again_replaces_the_cached_one() {
        let cache = SendContextCache::default();
        let first = context(conv(1), 5);
        let again = context(conv(1), 5);
        cache.put(first.clone());
        cache.put(again.clone());
        let cached = cache.get(conv(1));
        assert!(cached.is_some_and(|c| Arc::ptr_eq(&c, &again) && !Arc::ptr_eq(&c, &first)));
    }

    #[test]
    fn an_invalidated_conversation_is_read_again() {
        let cache = SendContextCache::default();
        cache.put(context(conv(1), 5));
        cache.put(context(conv(2), 1));
        cache.invalidate(conv(1));
        assert_eq!(cached_version(&cache, conv(1)), None);
        assert_eq!(cached_version(&cache, conv(2)), Some(1));
        // After an invalidation any version is taken again, an older one included.
        cache.put(context(conv(1), 2));
        assert_eq!(cached_version(&cache, conv(1)), Some(2));
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let cache = SendContextCache::with_capacity(64);
        for n in 0..10_000 {
            cache.put(context(conv(n), 1));
        }
        assert!(cache.len() <= 64, "{} cached", cache.len());
        assert!(cache.len() >= 32, "{} cached", cache.len());
        // A conversation in use stays cached while others come and go.
        cache.put(context(conv(1), 1));
        for n in 20_000..30_000 {
            assert!(cache.get(conv(1)).is_some(), "evicted at {n}");
            cache.put(context(conv(n), 1));
        }
    }
}
