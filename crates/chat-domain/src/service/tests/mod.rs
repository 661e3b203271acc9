//! Unit tests of the services over mockall mocks: which ports each use case calls, in which
//! order, and above all which it does not call. A mock panics on any call it was not told to
//! expect, so an expectation left out is an assertion that the port stays untouched; `.never()`
//! spells that out where it is the point of the test.
//!
//! Stateful flows over fakes live in `tests/flows.rs`.

mod block;
mod conversation;
mod messaging;
mod mute;
mod presence;
mod read;
mod session;
mod typing;

use std::{
    future::Future,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicI64, Ordering},
    },
};

use mockall::predicate::eq;
use uuid::Uuid;

use super::{Policies, Ports, Services};
use crate::{
    block::Block,
    conversation::{Conversation, ConversationKind, Participant},
    events::{Audience, ServerEvent},
    ids::{ConversationId, DeviceId, MessageId, SocketId, UserId},
    message::{MessageContent, StoredMessage},
    ports::{
        MockBlockRepository, MockClock, MockConversationRepository, MockEventPublisher,
        MockIdGenerator, MockMessageRepository, MockMuteRepository, MockPresenceStore,
        MockRateLimiter, MockSessionStore, MockTokenVerifier, MockUserRepository,
    },
    rate_limit::RateDecision,
    sequence::ServerSequence,
    time::Timestamp,
    user::DisplayName,
};

/// The instant every test starts at.
const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// Runs a service call to completion (the services need no runtime).
fn run<F: Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

fn user(n: u128) -> UserId {
    UserId::new(Uuid::from_u128(n))
}

fn conv(n: u128) -> ConversationId {
    ConversationId::new(Uuid::from_u128(0xC0_0000 + n))
}

fn msg_id(n: u128) -> MessageId {
    MessageId::new(Uuid::from_u128(0x3E_0000 + n))
}

fn socket(s: &str) -> SocketId {
    SocketId::new(s)
}

fn device(s: &str) -> DeviceId {
    DeviceId::new(s).unwrap()
}

fn seq(n: u64) -> ServerSequence {
    ServerSequence::new(n)
}

fn name(s: &str) -> DisplayName {
    DisplayName::new(s).unwrap()
}

fn participant(n: u128) -> Participant {
    Participant {
        user_id: user(n),
        name: None,
        joined_at: Timestamp::EPOCH,
        left_at: None,
        last_read_sequence: ServerSequence::ZERO,
        last_read_at: None,
    }
}

/// A conversation of the given participants.
fn conversation(id: ConversationId, participants: Vec<Participant>) -> Conversation {
    Conversation {
        id,
        kind: ConversationKind::OneToOne,
        created_at: Timestamp::EPOCH,
        last_sequence: ServerSequence::ZERO,
        participants,
    }
}

fn block(conversation: ConversationId, by: u128, of: u128) -> Block {
    Block {
        conversation_id: conversation,
        blocker_id: user(by),
        blocked_id: user(of),
        blocked_at: Timestamp::EPOCH,
    }
}

fn stored(
    id: MessageId,
    conversation: ConversationId,
    sender: u128,
    sequence: u64,
) -> StoredMessage {
    StoredMessage {
        id,
        conversation_id: conversation,
        sender_id: user(sender),
        sender_name: None,
        sender_device_id: device("phone"),
        client_sequence: None,
        server_sequence: seq(sequence),
        content: MessageContent::from_trusted("hello".into()),
        created_at: NOW,
    }
}

/// Every event published, in order.
#[derive(Debug, Clone, Default)]
struct Published(Arc<Mutex<Vec<(Audience, ServerEvent)>>>);

impl Published {
    fn take(&self) -> Vec<(Audience, ServerEvent)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The test's clock: fixed at [`NOW`] until a test moves it.
#[derive(Debug, Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn set(&self, t: Timestamp) {
        self.0.store(t.millis(), Ordering::SeqCst);
    }
}

/// One mock per port. Set expectations on the fields, then build the services; a port with no
/// expectation panics when called.
struct Mocks {
    users: MockUserRepository,
    conversations: MockConversationRepository,
    messages: MockMessageRepository,
    blocks: MockBlockRepository,
    mutes: MockMuteRepository,
    sessions: MockSessionStore,
    presence: MockPresenceStore,
    rate_limiter: MockRateLimiter,
    publisher: MockEventPublisher,
    tokens: MockTokenVerifier,
    ids: MockIdGenerator,
    clock: TestClock,
    policies: Policies,
}

impl Mocks {
    fn new() -> Self {
        Self {
            users: MockUserRepository::new(),
            conversations: MockConversationRepository::new(),
            messages: MockMessageRepository::new(),
            blocks: MockBlockRepository::new(),
            mutes: MockMuteRepository::new(),
            sessions: MockSessionStore::new(),
            presence: MockPresenceStore::new(),
            rate_limiter: MockRateLimiter::new(),
            publisher: MockEventPublisher::new(),
            tokens: MockTokenVerifier::new(),
            ids: MockIdGenerator::new(),
            clock: TestClock(Arc::new(AtomicI64::new(NOW.millis()))),
            policies: Policies::default(),
        }
    }

    /// `find_conversation(c.id)` answers `c`, as often as asked.
    fn with_conversation(&mut self, c: &Conversation) {
        let c = c.clone();
        self.conversations
            .expect_find_conversation()
            .with(eq(c.id))
            .returning(move |_| Ok(Some(c.clone())));
    }

    /// `list_conversation_blocks(id)` answers `blocks`, as often as asked.
    fn with_blocks(&mut self, id: ConversationId, blocks: Vec<Block>) {
        self.blocks
            .expect_list_conversation_blocks()
            .with(eq(id))
            .returning(move |_| Ok(blocks.clone()));
    }

    /// The rate limiter allows everything.
    fn allow_rate(&mut self) {
        self.rate_limiter
            .expect_check()
            .returning(|_, _, _| Ok(RateDecision::Allowed));
    }

    /// Every publish succeeds and is recorded.
    fn record_publishes(&mut self) -> Published {
        let published = Published::default();
        let log = published.clone();
        self.publisher.expect_publish().returning(move |a, e| {
            log.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((a, e));
            Ok(())
        });
        published
    }

    fn ports(self) -> Ports {
        let mut clock = MockClock::new();
        let time = self.clock.0.clone();
        clock
            .expect_now()
            .returning(move || Timestamp::from_millis(time.load(Ordering::SeqCst)));
        Ports {
            users: Arc::new(self.users),
            conversations: Arc::new(self.conversations),
            messages: Arc::new(self.messages),
            blocks: Arc::new(self.blocks),
            mutes: Arc::new(self.mutes),
            sessions: Arc::new(self.sessions),
            presence: Arc::new(self.presence),
            rate_limiter: Arc::new(self.rate_limiter),
            publisher: Arc::new(self.publisher),
            tokens: Arc::new(self.tokens),
            clock: Arc::new(clock),
            ids: Arc::new(self.ids),
        }
    }

    /// Every service over these mocks (clone `clock` first to move time afterwards).
    fn services(self) -> Services {
        let policies = self.policies;
        Services::new(self.ports(), policies)
    }
}
