//! Unit tests of the services over mockall mocks: which ports each use case calls, in which
//! order, and above all which it does not call. A mock panics on any call it was not told to
//! expect, so an expectation left out is an assertion that the port stays untouched; `.never()`
//! spells that out where it is the point of the test.
//!
//! Stateful flows over fakes live in `tests/flows.rs`.

mod block;
mod conversation;
mod group;
mod messaging;
mod mute;
mod presence;
mod read;
mod session;
mod typing;

use std::{
    collections::VecDeque,
    future::Future,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicI64, AtomicUsize, Ordering},
    },
};

use mockall::predicate::eq;
use uuid::Uuid;

use super::{Policies, Ports, SendMessage, Services};
use crate::{
    block::Block,
    conversation::{Conversation, ConversationKind, Participant},
    error::RepoError,
    events::{Audience, ServerEvent},
    ids::{ConversationId, DeviceId, MessageId, SocketId, UserId},
    message::{AppendOutcome, MessageContent, NewMessage, StoredMessage},
    mute::Mute,
    ports::{
        CheckedAppend, ContextVersion, MockBlockRepository, MockClock, MockConversationRepository,
        MockEventPublisher, MockIdGenerator, MockMessageRepository, MockMuteRepository,
        MockPresenceStore, MockRateLimiter, MockSessionStore, MockTokenVerifier,
        MockUserRepository, RecipientState, SendContext,
    },
    rate_limit::RateDecision,
    sequence::{ClientSequence, ServerSequence},
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
        role: crate::group::Role::Member,
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
        title: None,
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

/// What a send reads of `conversation`: its blocks and mutes, at `version`.
fn send_context(
    conversation: Conversation,
    blocks: Vec<Block>,
    mutes: Vec<Mute>,
    version: u64,
) -> SendContext {
    SendContext {
        conversation,
        blocks,
        mutes,
        version: ContextVersion(version),
    }
}

/// `sender` sends message `id` ("hello") to `conversation` from their laptop.
fn send_cmd(sender: u128, conversation: ConversationId, id: u128) -> SendMessage {
    SendMessage {
        sender_id: user(sender),
        device_id: device("laptop"),
        conversation_id: conversation,
        message_id: msg_id(id),
        content: MessageContent::from_trusted("hello".into()),
        client_sequence: Some(ClientSequence::new(7)),
        client_timestamp: Some(Timestamp::from_millis(99)),
    }
}

/// The message a repository stores for `new` at `sequence` (no sender name, as the port allows).
fn stored_from(new: &NewMessage, sequence: u64) -> StoredMessage {
    StoredMessage {
        id: new.id,
        conversation_id: new.conversation_id,
        sender_id: new.sender_id,
        sender_name: None,
        sender_device_id: new.sender_device_id.clone(),
        client_sequence: new.client_sequence,
        server_sequence: seq(sequence),
        content: new.content.clone(),
        created_at: new.created_at,
    }
}

/// How many times a port method was called.
#[derive(Debug, Clone, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    fn add(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// One answer of `append_if_current`, given the message.
type AppendAnswer = Box<dyn Fn(&NewMessage) -> Result<CheckedAppend, RepoError> + Send>;

/// The version moved: nothing stored.
fn stale() -> AppendAnswer {
    Box::new(|_| Ok(CheckedAppend::StaleContext))
}

/// Stored at `sequence`; `recipients` are the other participants after it.
fn created(sequence: u64, recipients: Vec<RecipientState>) -> AppendAnswer {
    Box::new(move |new| {
        Ok(CheckedAppend::Done {
            outcome: AppendOutcome::Created(stored_from(new, sequence)),
            recipients: recipients.clone(),
        })
    })
}

/// Every `append_if_current` call: the message and the version it was conditioned on.
#[derive(Debug, Clone, Default)]
struct Appends(Arc<Mutex<Vec<(NewMessage, ContextVersion)>>>);

impl Appends {
    fn record(&self, new: NewMessage, version: ContextVersion) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((new, version));
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// The versions the appends were conditioned on, in order.
    fn versions(&self) -> Vec<u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(_, v)| v.0)
            .collect()
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

    /// `fetch_send_context(id)` answers `contexts` in order, then the last one again; counts
    /// the calls.
    fn with_send_contexts(&mut self, id: ConversationId, contexts: Vec<SendContext>) -> Calls {
        let calls = Calls::default();
        let counter = calls.clone();
        let queue = Mutex::new(VecDeque::from(contexts));
        self.conversations
            .expect_fetch_send_context()
            .with(eq(id))
            .returning(move |_| {
                counter.add();
                let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
                let next = if queue.len() > 1 {
                    queue.pop_front()
                } else {
                    queue.front().cloned()
                };
                Ok(next)
            });
        calls
    }

    /// `append_if_current` answers `answers` in order, one per call (a call beyond them panics);
    /// records the calls.
    fn with_appends(&mut self, answers: Vec<AppendAnswer>) -> Appends {
        let appends = Appends::default();
        let log = appends.clone();
        let queue = Mutex::new(VecDeque::from(answers));
        let most = queue.lock().unwrap_or_else(PoisonError::into_inner).len();
        self.messages
            .expect_append_if_current()
            .times(..=most)
            .returning(move |new, version| {
                log.record(new.clone(), version);
                let answer = queue
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop_front()
                    .expect("an append beyond the scripted answers");
                answer(&new)
            });
        appends
    }

    /// Every `append_if_current` stores a new message (sequences 1, 2, …) with `recipients`;
    /// records the calls.
    fn with_appends_creating(&mut self, recipients: Vec<RecipientState>) -> Appends {
        let appends = Appends::default();
        let log = appends.clone();
        self.messages
            .expect_append_if_current()
            .returning(move |new, version| {
                log.record(new.clone(), version);
                let sequence = u64::try_from(log.count()).unwrap_or(u64::MAX);
                created(sequence, recipients.clone())(&new)
            });
        appends
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
