//! Another backend service reusing the domain: a notification service that lets a user mute a
//! conversation from a push notification ("mute for an hour"), and unmute it again.
//!
//! It builds the one domain service it needs, `MuteService`, over adapters of its own (an
//! in-memory store, a push channel that prints, no quota, the system clock) and gets the
//! contract's rules with it: only participants may mute, the expiry must lie ahead, and the
//! user's devices are told.
//!
//! `cargo run -p chat-domain --example reuse_domain`
#![expect(clippy::print_stdout, reason = "an example shows what happened")]

use std::{
    collections::BTreeMap,
    error::Error,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{SystemTime, UNIX_EPOCH},
};

use chat_domain::{
    Conversation, ConversationId, ConversationKind, Mute, Participant, RepoError, ServerSequence,
    Timestamp, UserId,
    conversation::{ChatListPage, Created, OneToOnePair},
    events::{Audience, ServerEvent},
    paging::PageLimit,
    ports::{
        Clock, ConversationRepository, EventPublisher, MuteRepository, RateLimiter, SendContext,
    },
    rate_limit::{Quota, RateDecision, RateLimitKey},
    read_marker::MarkerAdvance,
    resume::ConversationHead,
    service::{MuteError, MuteService, Policies, SendContextCache},
};
use futures::executor::block_on;
use uuid::Uuid;

/// The notification service's own store: the conversations it knows, and mutes.
#[derive(Default)]
struct MemoryStore {
    conversations: Mutex<BTreeMap<ConversationId, Conversation>>,
    mutes: Mutex<BTreeMap<(ConversationId, UserId), Mute>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What this store does not keep: muting never asks for it.
fn not_kept() -> RepoError {
    RepoError::internal("the notification service keeps no such data")
}

#[async_trait::async_trait]
impl ConversationRepository for MemoryStore {
    async fn find_or_create_one_to_one(
        &self,
        _: OneToOnePair,
        _: ConversationId,
        _: Timestamp,
    ) -> Result<(Conversation, Created), RepoError> {
        Err(not_kept())
    }

    async fn find_conversation(
        &self,
        id: ConversationId,
    ) -> Result<Option<Conversation>, RepoError> {
        Ok(lock(&self.conversations).get(&id).cloned())
    }

    async fn fetch_send_context(
        &self,
        _: ConversationId,
    ) -> Result<Option<SendContext>, RepoError> {
        Err(not_kept())
    }

    async fn list_conversation_heads(&self, _: UserId) -> Result<Vec<ConversationHead>, RepoError> {
        Err(not_kept())
    }

    async fn list_chat_list(
        &self,
        _: UserId,
        _: PageLimit,
        _: u64,
        _: Timestamp,
    ) -> Result<ChatListPage, RepoError> {
        Err(not_kept())
    }

    async fn advance_read_marker(
        &self,
        _: ConversationId,
        _: UserId,
        _: ServerSequence,
        _: Timestamp,
    ) -> Result<MarkerAdvance, RepoError> {
        Err(not_kept())
    }

    async fn unread_count(&self, _: ConversationId, _: UserId) -> Result<u64, RepoError> {
        Err(not_kept())
    }

    async fn unread_counts(&self, _: UserId) -> Result<Vec<(ConversationId, u64)>, RepoError> {
        Err(not_kept())
    }
}

#[async_trait::async_trait]
impl MuteRepository for MemoryStore {
    async fn upsert_mute(&self, mute: Mute) -> Result<Mute, RepoError> {
        lock(&self.mutes).insert((mute.conversation_id, mute.user_id), mute.clone());
        Ok(mute)
    }

    async fn find_mute(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<Option<Mute>, RepoError> {
        Ok(lock(&self.mutes).get(&(conversation, user)).cloned())
    }

    async fn list_user_mutes(&self, user: UserId, now: Timestamp) -> Result<Vec<Mute>, RepoError> {
        let mutes = lock(&self.mutes);
        let active = mutes
            .values()
            .filter(|m| m.user_id == user && m.is_active(now));
        Ok(active.cloned().collect())
    }

    async fn delete_mute(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<Option<Mute>, RepoError> {
        Ok(lock(&self.mutes).remove(&(conversation, user)))
    }
}

/// The push channel: prints each notification instead of sending it.
struct PrintedPushes;

#[async_trait::async_trait]
impl EventPublisher for PrintedPushes {
    async fn publish(&self, audience: Audience, event: ServerEvent) -> Result<(), RepoError> {
        let what = match event {
            ServerEvent::ConversationMuted(_) => "conversation muted",
            ServerEvent::ConversationUnmuted { .. } => "conversation unmuted",
            _ => "something else",
        };
        match audience {
            Audience::User(user) => println!("  push to every device of {user}: {what}"),
            other => println!("  push to {other:?}: {what}"),
        }
        Ok(())
    }

    async fn join_conversation(&self, _: UserId, _: ConversationId) -> Result<(), RepoError> {
        Ok(())
    }

    async fn leave_conversation(&self, _: UserId, _: ConversationId) -> Result<(), RepoError> {
        Ok(())
    }
}

/// Muting from a notification has no quota here.
struct NoQuota;

#[async_trait::async_trait]
impl RateLimiter for NoQuota {
    async fn check(
        &self,
        _: RateLimitKey,
        _: Quota,
        _: Timestamp,
    ) -> Result<RateDecision, RepoError> {
        Ok(RateDecision::Allowed)
    }
}

struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}

fn participant(user_id: UserId, joined_at: Timestamp) -> Participant {
    Participant {
        user_id,
        name: None,
        role: chat_domain::group::Role::Member,
        joined_at,
        left_at: None,
        last_read_sequence: ServerSequence::ZERO,
        last_read_at: None,
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let (ada, bob, eve) = (
        UserId::new(Uuid::now_v7()),
        UserId::new(Uuid::now_v7()),
        UserId::new(Uuid::now_v7()),
    );
    let chat = ConversationId::new(Uuid::now_v7());
    let clock = Arc::new(SystemClock);
    let now = clock.now();
    let store = Arc::new(MemoryStore::default());
    lock(&store.conversations).insert(
        chat,
        Conversation {
            id: chat,
            kind: ConversationKind::OneToOne,
            title: None,
            created_at: now,
            last_sequence: ServerSequence::ZERO,
            participants: vec![participant(ada, now), participant(bob, now)],
        },
    );

    // The one service this process needs, over its own adapters.
    let mutes = MuteService::new(
        store.clone(),
        store.clone(),
        Arc::new(NoQuota),
        Arc::new(PrintedPushes),
        clock.clone(),
        Policies::default(),
        Arc::new(SendContextCache::default()),
    );

    println!("ada taps \"mute for an hour\":");
    let mute = block_on(mutes.mute(ada, chat, Some(now.plus_millis(3_600_000))))?;
    let until = mute.muted_until.map(Timestamp::to_rfc3339);
    println!("  muted until {}", until.unwrap_or_default());

    println!("a stale notification asks to mute until an hour ago:");
    let refused = block_on(mutes.mute(ada, chat, Some(now.plus_millis(-3_600_000))));
    assert!(matches!(refused, Err(MuteError::UntilInPast(_))));
    println!(
        "  refused: {}",
        refused.err().map(|e| e.to_string()).unwrap_or_default()
    );

    println!("eve, not a participant, tries to mute the conversation:");
    let refused = block_on(mutes.mute(eve, chat, None));
    assert!(matches!(refused, Err(MuteError::NotParticipant)));
    println!(
        "  refused: {}",
        refused.err().map(|e| e.to_string()).unwrap_or_default()
    );

    println!("ada taps \"unmute\":");
    let lifted = block_on(mutes.unmute(ada, chat))?;
    assert_eq!(lifted, Some(mute));
    assert!(block_on(store.find_mute(chat, ada))?.is_none());
    println!("  unmuted");
    Ok(())
}
