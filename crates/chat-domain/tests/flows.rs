//! Whole flows through the services over the testkit's fakes (one shared fake database, a
//! recording publisher, a manual clock) and the in-process session, presence and rate-limit
//! adapters: two users, Ada and Bob, with a laptop and a phone each.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chat_domain::{
    block::BlockSide,
    conversation::Created,
    events::{Audience, Delivery, ReadReceipt, ServerEvent, UnreadUpdate},
    ids::{ConversationId, DeviceId, MessageId, SocketId, UserId},
    message::{ContentPolicy, MessageContent, StoredMessage},
    paging::{HistoryAnchor, HistoryQuery, PageLimit},
    ports::Clock,
    presence::PresenceStatus::{Away, Offline, Online},
    read_marker::ReadTarget,
    sequence::ServerSequence,
    service::{
        BlockError, ConnectOutcome, ConnectRequest, Departure, MarkRead, MarkReadError, Policies,
        Ports, RateLimited, ReadAck, ResumedSession, SendMessage, SendMessageError, Services,
        TypingError, TypingKey, UnblockOutcome,
    },
    time::Timestamp,
    user::DisplayName,
};
use chat_memory::{MemoryPresenceStore, MemoryRateLimiter, MemorySessionStore};
use chat_testkit::{
    contract::Repositories,
    fakes::{FakeDb, ManualClock, RecordingPublisher, SequentialIds, StaticTokenVerifier},
};
use uuid::Uuid;

const ADA: u128 = 0xA;
const BOB: u128 = 0xB;

fn user(n: u128) -> UserId {
    UserId::new(Uuid::from_u128(n))
}

fn msg_id(n: u128) -> MessageId {
    MessageId::new(Uuid::from_u128(0x3E_0000 + n))
}

fn seq(n: u64) -> ServerSequence {
    ServerSequence::new(n)
}

/// One device of one user, with the socket it connects through.
#[derive(Debug, Clone)]
struct Device {
    user: UserId,
    device: DeviceId,
    socket: SocketId,
}

fn device(who: u128, name: &str) -> Device {
    let owner = if who == ADA { "ada" } else { "bob" };
    Device {
        user: user(who),
        device: DeviceId::new(&format!("{owner}-{name}")).unwrap(),
        socket: SocketId::new(format!("socket-{owner}-{name}")),
    }
}

/// The services over fakes, and handles on the fakes to look inside.
struct World {
    services: Services,
    ports: Ports,
    repos: Repositories,
    db: FakeDb,
    publisher: RecordingPublisher,
    clock: ManualClock,
}

impl World {
    fn new() -> Self {
        let db = FakeDb::new();
        let repos = db.repositories();
        let clock = ManualClock::new();
        let publisher = RecordingPublisher::new();
        let expires = ManualClock::START.plus_millis(86_400_000);
        let tokens = StaticTokenVerifier::new()
            .with_user(
                "ada-token",
                user(ADA),
                DisplayName::new("Ada").ok(),
                expires,
            )
            .with_user(
                "bob-token",
                user(BOB),
                DisplayName::new("Bob").ok(),
                expires,
            );
        let ports = Ports {
            users: repos.users.clone(),
            conversations: repos.conversations.clone(),
            messages: repos.messages.clone(),
            blocks: repos.blocks.clone(),
            mutes: repos.mutes.clone(),
            sessions: Arc::new(MemorySessionStore::with_clock(Arc::new(clock.clone()))),
            presence: Arc::new(MemoryPresenceStore::new()),
            rate_limiter: Arc::new(MemoryRateLimiter::new()),
            publisher: Arc::new(publisher.clone()),
            tokens: Arc::new(tokens),
            clock: Arc::new(clock.clone()),
            ids: Arc::new(SequentialIds::starting_at(0xC0_0001)),
        };
        Self {
            services: Services::new(ports.clone(), Policies::default()),
            ports,
            repos,
            db,
            publisher,
            clock,
        }
    }

    /// The services of another node over the same storage, rate limits and broker: its own send
    /// context cache, which this node's blocks and mutes do not invalidate.
    fn other_node(&self) -> Services {
        Services::new(self.ports.clone(), Policies::default())
    }

    /// The message events (`message:received`) published since the last `clear`.
    fn message_events(&self) -> Vec<ServerEvent> {
        self.publisher
            .events()
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| matches!(e, ServerEvent::MessageReceived(_)))
            .collect()
    }

    /// Authenticates with the user's token, joins the rooms, connects.
    async fn connect(&self, d: &Device) -> ConnectOutcome {
        let token = if d.user == user(ADA) {
            "ada-token"
        } else {
            "bob-token"
        };
        let principal = self
            .services
            .sessions
            .authenticate(Some(token))
            .await
            .unwrap();
        assert_eq!(principal.user_id, d.user);
        self.services.sessions.rooms(d.user).await.unwrap();
        self.services
            .sessions
            .connect(ConnectRequest {
                user_id: d.user,
                device_id: d.device.clone(),
                socket_id: d.socket.clone(),
                last_sequences: Default::default(),
            })
            .await
            .unwrap()
    }

    async fn disconnect(&self, d: &Device) {
        self.leave(d, Departure::Deliberate).await;
    }

    async fn leave(&self, d: &Device, departure: Departure) {
        self.leave_at(d, departure, self.clock.now()).await;
    }

    /// A disconnect seen at `left_at`, handled now.
    async fn leave_at(&self, d: &Device, departure: Departure, left_at: Timestamp) {
        self.services
            .sessions
            .disconnect(
                d.user,
                d.device.clone(),
                d.socket.clone(),
                departure,
                left_at,
            )
            .await
            .unwrap();
    }

    /// Connects all four devices and creates the conversation of Ada and Bob.
    async fn ada_and_bob_online() -> (Self, ConversationId) {
        let world = Self::new();
        for d in all_devices() {
            world.connect(&d).await;
        }
        let (conversation, created) = world
            .services
            .conversations
            .create_one_to_one(user(ADA), user(BOB))
            .await
            .unwrap();
        assert_eq!(created, Created::New);
        world.publisher.clear();
        (world, conversation.id)
    }

    async fn send(
        &self,
        from: &Device,
        conversation: ConversationId,
        id: u128,
        text: &str,
    ) -> Result<Delivery, SendMessageError> {
        self.services
            .messaging
            .send(command(from, conversation, id, text))
            .await
    }

    async fn read(
        &self,
        who: u128,
        conversation: ConversationId,
        up_to: u64,
    ) -> Result<ReadAck, MarkReadError> {
        self.services
            .reads
            .mark_read(MarkRead {
                user_id: user(who),
                conversation_id: conversation,
                target: ReadTarget::new(Some(seq(up_to)), None, vec![]).unwrap(),
            })
            .await
    }

    async fn unread(&self, who: u128, conversation: ConversationId) -> u64 {
        self.repos
            .conversations
            .unread_count(conversation, user(who))
            .await
            .unwrap()
    }

    /// The unread updates `who` was sent since the last `clear`.
    fn unread_updates_to(&self, who: u128) -> Vec<UnreadUpdate> {
        self.publisher
            .events_to(&Audience::User(user(who)))
            .into_iter()
            .filter_map(|e| match e {
                ServerEvent::UnreadCountUpdated(u) => Some(u),
                _ => None,
            })
            .collect()
    }
}

fn all_devices() -> [Device; 4] {
    [
        device(ADA, "laptop"),
        device(ADA, "phone"),
        device(BOB, "laptop"),
        device(BOB, "phone"),
    ]
}

fn command(from: &Device, conversation: ConversationId, id: u128, text: &str) -> SendMessage {
    SendMessage {
        sender_id: from.user,
        device_id: from.device.clone(),
        conversation_id: conversation,
        message_id: msg_id(id),
        content: MessageContent::new(text, &ContentPolicy::default()).unwrap(),
        client_sequence: None,
        client_timestamp: None,
    }
}

fn sequences_of(messages: &[StoredMessage]) -> Vec<u64> {
    messages.iter().map(|m| m.server_sequence.get()).collect()
}

#[tokio::test]
async fn two_users_on_two_devices_each_talk_read_and_see_receipts() {
    let world = World::new();
    let (ada_laptop, bob_laptop) = (device(ADA, "laptop"), device(BOB, "laptop"));
    for d in all_devices() {
        let outcome = world.connect(&d).await;
        assert_eq!(outcome.resumed, None, "a first connect is a new session");
        assert!(outcome.unread_counts.is_empty());
    }

    // Creating the conversation puts both users' live sockets in its room, once.
    let (conversation, created) = world
        .services
        .conversations
        .create_one_to_one(user(ADA), user(BOB))
        .await
        .unwrap();
    assert_eq!(created, Created::New);
    let c = conversation.id;
    let mut joined = world.publisher.joins();
    joined.sort_unstable();
    assert_eq!(joined, vec![(user(ADA), c), (user(BOB), c)]);
    let (again, created) = world
        .services
        .conversations
        .create_one_to_one(user(BOB), user(ADA))
        .await
        .unwrap();
    assert_eq!((again.id, created), (c, Created::Existing));
    assert_eq!(
        world.publisher.joins().len(),
        2,
        "an existing one joins nobody"
    );
    let names: Vec<_> = again
        .participants
        .iter()
        .map(|p| p.name.as_ref().map(|n| n.as_str().to_owned()))
        .collect();
    assert!(names.contains(&Some("Ada".into())) && names.contains(&Some("Bob".into())));
    world.publisher.clear();

    // Ada sends: acked to her socket, received by the room, counted for Bob.
    let first = world.send(&ada_laptop, c, 1, "hi Bob").await.unwrap();
    assert_eq!(
        (first.message.server_sequence, first.duplicate),
        (seq(1), false)
    );
    assert_eq!(
        first.message.sender_name.as_ref().map(DisplayName::as_str),
        Some("Ada")
    );
    assert!(
        world
            .publisher
            .events_to(&Audience::Socket(ada_laptop.socket.clone()))
            .is_empty(),
        "message:delivered is the socket adapter's, not a room emit"
    );
    assert_eq!(
        world.publisher.events_to(&Audience::Conversation(c)),
        vec![ServerEvent::MessageReceived(first.message.clone())]
    );
    let updates = world.unread_updates_to(BOB);
    assert_eq!(updates.len(), 1);
    assert_eq!((updates[0].unread_count, updates[0].muted), (1, false));
    assert!(
        world.unread_updates_to(ADA).is_empty(),
        "the sender is not counted"
    );

    // Bob answers; Ada answers again.
    world.clock.advance(1_000);
    let second = world.send(&bob_laptop, c, 2, "hi Ada").await.unwrap();
    world.clock.advance(1_000);
    let third = world.send(&ada_laptop, c, 3, "how are you?").await.unwrap();
    assert_eq!(
        [
            second.message.server_sequence,
            third.message.server_sequence
        ],
        [seq(2), seq(3)]
    );
    assert_eq!(
        (world.unread(ADA, c).await, world.unread(BOB, c).await),
        (1, 2)
    );
    let counts = world
        .repos
        .conversations
        .unread_counts(user(BOB))
        .await
        .unwrap();
    assert_eq!(counts, vec![(c, 2)]);

    // Bob reads everything: his devices get the count, the room gets the receipt.
    world.publisher.clear();
    world.clock.advance(1_000);
    let read_at = world.clock.now();
    let ack = world.read(BOB, c, 3).await.unwrap();
    assert_eq!(
        (ack.last_read_sequence, ack.new_unread_count, ack.advanced),
        (seq(3), 0, true)
    );
    assert_eq!(ack.last_read_at, Some(read_at));
    assert_eq!(
        world.publisher.events(),
        vec![
            (
                Audience::User(user(BOB)),
                ServerEvent::UnreadCountUpdated(UnreadUpdate {
                    conversation_id: c,
                    unread_count: 0,
                    updated_at: read_at,
                    last_read_sequence: seq(3),
                    last_read_at: Some(read_at),
                    muted: false,
                })
            ),
            (
                Audience::Conversation(c),
                ServerEvent::ReadReceiptReceived(ReadReceipt {
                    conversation_id: c,
                    user_id: user(BOB),
                    last_read_sequence: seq(3),
                    last_read_at: Some(read_at),
                })
            ),
        ]
    );

    // Markers only move forward: an older read acks the current marker and publishes nothing.
    world.publisher.clear();
    world.clock.advance(1_000);
    let older = world.read(BOB, c, 1).await.unwrap();
    assert_eq!(
        (older.last_read_sequence, older.last_read_at, older.advanced),
        (seq(3), Some(read_at), false)
    );
    assert!(world.publisher.events().is_empty());
    // A read beyond the newest message stops at it.
    let ada_ack = world.read(ADA, c, 99).await.unwrap();
    assert_eq!(
        (ada_ack.last_read_sequence, ada_ack.new_unread_count),
        (seq(3), 0)
    );

    // History shows who read what, the sender excepted.
    world.clock.advance(1_000);
    world.send(&bob_laptop, c, 4, "fine").await.unwrap();
    let history = world
        .services
        .conversations
        .history(
            user(ADA),
            c,
            HistoryQuery {
                limit: PageLimit::HISTORY_DEFAULT,
                anchor: HistoryAnchor::Newest { offset: 0 },
                from: None,
                to: None,
            },
        )
        .await
        .unwrap();
    let read_by: Vec<_> = history
        .items
        .iter()
        .map(|h| (h.message.server_sequence.get(), h.read_by.clone()))
        .collect();
    assert_eq!(
        read_by,
        vec![
            (1, vec![user(BOB)]),
            (2, vec![user(ADA)]),
            (3, vec![user(BOB)]),
            (4, vec![]),
        ]
    );
    assert!(!history.has_more);
}

#[tokio::test]
async fn a_resend_gets_the_original_ack_and_publishes_nothing_again() {
    let (world, c) = World::ada_and_bob_online().await;
    let (laptop, phone) = (device(ADA, "laptop"), device(ADA, "phone"));
    let original = world.send(&laptop, c, 1, "once").await.unwrap();
    world.publisher.clear();

    world.clock.advance(5_000);
    // The same id from the same sender, even from another device, is the same message.
    for from in [&laptop, &phone] {
        let resent = world.send(from, c, 1, "once").await.unwrap();
        assert!(resent.duplicate);
        assert_eq!(
            resent.message, original.message,
            "same sequence and persistedAt"
        );
        assert_eq!(
            world.publisher.events(),
            vec![(
                Audience::Conversation(c),
                ServerEvent::MessageReceived(resent.message)
            )],
            "the message again to the room (receivers drop repeats), no unread count"
        );
        world.publisher.clear();
    }
    assert_eq!(world.db.messages_of(c).len(), 1);
    assert_eq!(world.unread(BOB, c).await, 1, "counted once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_resends_of_one_id_store_one_message() {
    let (world, c) = World::ada_and_bob_online().await;
    let laptop = device(ADA, "laptop");
    let sends: Vec<_> = (0..10)
        .map(|_| {
            let messaging = world.services.messaging.clone();
            let cmd = command(&laptop, c, 7, "racing");
            tokio::spawn(async move { messaging.send(cmd).await })
        })
        .collect();
    let mut deliveries = Vec::new();
    for send in sends {
        deliveries.push(send.await.unwrap().unwrap());
    }

    assert_eq!(deliveries.iter().filter(|d| !d.duplicate).count(), 1);
    assert!(
        deliveries
            .iter()
            .all(|d| d.message == deliveries[0].message)
    );
    assert_eq!(sequences_of(&world.db.messages_of(c)), vec![1]);
    let received = world
        .publisher
        .events_to(&Audience::Conversation(c))
        .into_iter()
        .filter(|e| matches!(e, ServerEvent::MessageReceived(_)))
        .count();
    assert_eq!(
        received, 10,
        "every send broadcasts, resends included (receivers drop repeats by messageId)"
    );
    assert_eq!(world.unread_updates_to(BOB).len(), 1, "counted once");
    assert_eq!(world.unread(BOB, c).await, 1);
}

#[tokio::test]
async fn a_message_id_used_by_another_sender_or_conversation_is_a_conflict() {
    let (world, c) = World::ada_and_bob_online().await;
    let ada = device(ADA, "laptop");
    world.send(&ada, c, 1, "mine").await.unwrap();
    world.publisher.clear();

    let stolen = world.send(&device(BOB, "laptop"), c, 1, "mine too").await;
    assert!(
        matches!(stolen, Err(SendMessageError::Conflict)),
        "{stolen:?}"
    );

    // Ada and a third user: the same id in another conversation.
    let (other, _) = world
        .services
        .conversations
        .create_one_to_one(user(ADA), user(0xC))
        .await
        .unwrap();
    world.publisher.clear();
    let moved = world.send(&ada, other.id, 1, "elsewhere").await;
    assert!(
        matches!(moved, Err(SendMessageError::Conflict)),
        "{moved:?}"
    );

    assert!(world.publisher.events().is_empty());
    assert_eq!(world.db.message_count(), 1);
}

#[tokio::test]
async fn a_block_stops_sends_both_ways_until_it_is_lifted() {
    let (world, c) = World::ada_and_bob_online().await;
    let (ada, bob) = (device(ADA, "laptop"), device(BOB, "phone"));

    let block = world
        .services
        .blocks
        .block(user(ADA), c, user(BOB))
        .await
        .unwrap();
    assert_eq!(world.publisher.leaves(), vec![(user(BOB), c)]);
    assert_eq!(
        world.publisher.events(),
        vec![(
            Audience::User(user(ADA)),
            ServerEvent::UserBlocked(block.clone())
        )]
    );
    // Blocking again is idempotent: the standing block comes back.
    world.clock.advance(1_000);
    let again = world
        .services
        .blocks
        .block(user(ADA), c, user(BOB))
        .await
        .unwrap();
    assert_eq!(again, block);
    world.publisher.clear();

    let cases = [
        (&ada, BlockSide::YouBlocked),
        (&bob, BlockSide::UserBlocked),
    ];
    for (n, (from, side)) in (1..).zip(cases) {
        let got = world.send(from, c, n, "can you hear me?").await;
        assert!(
            matches!(got, Err(SendMessageError::Blocked(s)) if s == side),
            "{from:?}: {got:?}"
        );
        let typing = world
            .services
            .typing
            .start(
                TypingKey {
                    conversation_id: c,
                    user_id: from.user,
                },
                from.socket.clone(),
            )
            .await;
        assert!(
            matches!(typing, Err(TypingError::Blocked(s)) if s == side),
            "{typing:?}"
        );
    }
    assert_eq!(world.db.message_count(), 0);
    assert!(world.publisher.events().is_empty());
    // A reconnecting socket of Bob stays out of the room; Ada's joins it.
    assert!(
        world
            .services
            .sessions
            .rooms(user(BOB))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        world.services.sessions.rooms(user(ADA)).await.unwrap(),
        vec![c]
    );
    // Only the blocker may lift it.
    let by_bob = world.services.blocks.unblock(user(BOB), c, user(ADA)).await;
    assert!(
        matches!(by_bob, Ok(UnblockOutcome::NotBlocked)),
        "{by_bob:?}"
    );
    let self_block = world.services.blocks.block(user(ADA), c, user(ADA)).await;
    assert!(
        matches!(self_block, Err(BlockError::InvalidTarget(_))),
        "{self_block:?}"
    );

    let lifted = world
        .services
        .blocks
        .unblock(user(ADA), c, user(BOB))
        .await
        .unwrap();
    assert_eq!(lifted, UnblockOutcome::Lifted(block.clone()));
    assert_eq!(world.publisher.joins(), vec![(user(BOB), c)]);
    assert_eq!(
        world.publisher.events(),
        vec![(Audience::User(user(ADA)), ServerEvent::UserUnblocked(block))]
    );
    for (n, from) in (10..).zip([&ada, &bob]) {
        world.send(from, c, n, "back again").await.unwrap();
    }
    assert_eq!(sequences_of(&world.db.messages_of(c)), vec![1, 2]);
    world.publisher.clear();
    let twice = world
        .services
        .blocks
        .unblock(user(ADA), c, user(BOB))
        .await
        .unwrap();
    assert_eq!(twice, UnblockOutcome::NotBlocked);
    assert!(world.publisher.calls().is_empty());
}

#[tokio::test]
async fn a_muted_user_still_gets_unread_updates_flagged_muted() {
    let (world, c) = World::ada_and_bob_online().await;
    let ada = device(ADA, "laptop");

    let mute = world.services.mutes.mute(user(BOB), c, None).await.unwrap();
    assert_eq!(
        world.publisher.events(),
        vec![(
            Audience::User(user(BOB)),
            ServerEvent::ConversationMuted(mute)
        )]
    );
    world.publisher.clear();
    world.send(&ada, c, 1, "psst").await.unwrap();
    let muted: Vec<_> = world
        .unread_updates_to(BOB)
        .iter()
        .map(|u| (u.unread_count, u.muted))
        .collect();
    assert_eq!(muted, vec![(1, true)], "counted, and flagged muted");

    // A mute with an end stops counting as muted once it has passed.
    let until = world.clock.now().plus_millis(1_000);
    world
        .services
        .mutes
        .mute(user(BOB), c, Some(until))
        .await
        .unwrap();
    world.clock.advance(2_000);
    world.publisher.clear();
    world.send(&ada, c, 2, "still there?").await.unwrap();
    let muted: Vec<_> = world
        .unread_updates_to(BOB)
        .iter()
        .map(|u| u.muted)
        .collect();
    assert_eq!(muted, vec![false]);

    // Unmuting tells Bob, once.
    world.services.mutes.mute(user(BOB), c, None).await.unwrap();
    world.publisher.clear();
    let lifted = world.services.mutes.unmute(user(BOB), c).await.unwrap();
    assert!(lifted.is_some());
    assert_eq!(
        world.publisher.events(),
        vec![(
            Audience::User(user(BOB)),
            ServerEvent::ConversationUnmuted { conversation_id: c }
        )]
    );
    world.publisher.clear();
    assert_eq!(
        world.services.mutes.unmute(user(BOB), c).await.unwrap(),
        None
    );
    assert!(world.publisher.events().is_empty());
    world.send(&ada, c, 3, "hello?").await.unwrap();
    let muted: Vec<_> = world
        .unread_updates_to(BOB)
        .iter()
        .map(|u| u.muted)
        .collect();
    assert_eq!(muted, vec![false]);
}

#[tokio::test]
async fn a_message_created_just_before_a_disconnect_is_owed_again_on_resume() {
    let margin = Policies::default().resume_margin.0;
    for departure in [Departure::Deliberate, Departure::Closed, Departure::Abrupt] {
        let (world, c) = World::ada_and_bob_online().await;
        let (ada, bob_phone) = (device(ADA, "laptop"), device(BOB, "phone"));
        let early = world.send(&ada, c, 1, "long before").await.unwrap().message;
        world.clock.advance(margin + 1_000);
        // Emitted half a second before the server saw the device go, after a goodbye too
        // (it may have crossed the goodbye on the wire): maybe lost in flight.
        let late = world.send(&ada, c, 2, "just before").await.unwrap().message;
        world.clock.advance(500);
        world.leave(&bob_phone, departure).await;
        world.clock.advance(1_000);
        let back = world.connect(&bob_phone).await;
        let pending = back.resumed.expect("resumed").pending;
        assert_eq!(
            pending,
            vec![late],
            "{departure:?}: owed again; {early:?} is not"
        );
    }
}

#[tokio::test]
async fn a_message_created_while_a_goodbye_waited_to_be_handled_is_owed() {
    let (world, c) = World::ada_and_bob_online().await;
    let (ada, bob_phone) = (device(ADA, "laptop"), device(BOB, "phone"));
    world.send(&ada, c, 1, "before").await.unwrap();
    world
        .clock
        .advance(Policies::default().resume_margin.0 + 1_000);
    let left_at = world.clock.now();
    world.clock.advance(200);
    // Committed after the goodbye arrived, before its handler (waiting for a turn) ran.
    let during = world.send(&ada, c, 2, "meanwhile").await.unwrap().message;
    world.clock.advance(200);
    world
        .leave_at(&bob_phone, Departure::Deliberate, left_at)
        .await;
    world.clock.advance(1_000);
    let back = world.connect(&bob_phone).await;
    assert_eq!(back.resumed.expect("resumed").pending, vec![during]);
}

#[tokio::test]
async fn a_device_that_returns_within_the_window_gets_exactly_what_it_missed() {
    let (world, c) = World::ada_and_bob_online().await;
    let (ada, bob_laptop, bob_phone) = (
        device(ADA, "laptop"),
        device(BOB, "laptop"),
        device(BOB, "phone"),
    );
    world.send(&ada, c, 1, "before").await.unwrap();
    // Longer ago than the resume margin (heartbeat + 2 s): known delivered.
    world
        .clock
        .advance(Policies::default().resume_margin.0 + 1_000);

    world.disconnect(&bob_phone).await;
    world.clock.advance(60_000);
    let mut missed = Vec::new();
    missed.push(world.send(&ada, c, 2, "while away").await.unwrap().message);
    missed.push(
        world
            .send(&bob_laptop, c, 3, "from my laptop")
            .await
            .unwrap()
            .message,
    );
    missed.push(world.send(&ada, c, 4, "and again").await.unwrap().message);
    world.clock.advance(10 * 60_000);

    let back = world.connect(&bob_phone).await;
    assert_eq!(
        back.resumed,
        Some(ResumedSession {
            pending: missed,
            has_more: false,
        })
    );
    assert_eq!(back.unread_counts, vec![(c, 3)]);

    // A device never seen before starts a new session.
    let tablet = device(BOB, "tablet");
    assert_eq!(world.connect(&tablet).await.resumed, None);

    // Nothing missed: resumed, with nothing pending.
    world.disconnect(&bob_phone).await;
    world.clock.advance(1_000);
    assert_eq!(
        world.connect(&bob_phone).await.resumed,
        Some(ResumedSession {
            pending: vec![],
            has_more: false,
        })
    );

    // Back after the window: a new session, history is the way.
    world.disconnect(&bob_phone).await;
    world.send(&ada, c, 5, "too late").await.unwrap();
    world.clock.advance(Policies::default().resume_window.0 + 1);
    assert_eq!(world.connect(&bob_phone).await.resumed, None);
}

#[tokio::test]
async fn the_eleventh_send_within_a_minute_is_rate_limited_with_a_retry_after() {
    let (world, c) = World::ada_and_bob_online().await;
    let (ada, bob) = (device(ADA, "laptop"), device(BOB, "laptop"));
    for n in 1..=10 {
        world.send(&ada, c, n, "spam").await.unwrap();
        world.clock.advance(1_000);
    }
    // Ten sends from t0 to t0 + 9 s; now t0 + 10 s. The first frees its slot at t0 + 60 s.
    world.publisher.clear();
    let limited = world.send(&ada, c, 11, "one more").await;
    assert!(
        matches!(
            limited,
            Err(SendMessageError::RateLimited(RateLimited {
                retry_after_secs: 50
            }))
        ),
        "{limited:?}"
    );
    assert_eq!(world.db.message_count(), 10);
    assert!(world.publisher.events().is_empty());

    // Limits are per user.
    world.send(&bob, c, 100, "not me").await.unwrap();

    world.clock.advance(50_000);
    world.send(&ada, c, 11, "one more").await.unwrap();
    assert_eq!(world.db.message_count(), 12);
}

#[tokio::test]
async fn presence_is_announced_when_the_first_device_comes_and_the_last_goes() {
    let (world, c) = World::ada_and_bob_online().await;
    let (laptop, phone) = (device(ADA, "laptop"), device(ADA, "phone"));
    let presence = |world: &World| -> Vec<_> {
        world
            .publisher
            .events_to(&Audience::Conversation(c))
            .into_iter()
            .filter_map(|e| match e {
                ServerEvent::PresenceChanged {
                    user_id, status, ..
                } => Some((user_id, status)),
                _ => None,
            })
            .collect()
    };
    world.disconnect(&laptop).await;
    assert!(presence(&world).is_empty(), "the phone is still online");
    world
        .services
        .presence
        .update(user(ADA), phone.socket.clone(), Away)
        .await
        .unwrap();
    world.disconnect(&phone).await;
    world.connect(&phone).await;
    world.connect(&laptop).await;
    assert_eq!(
        presence(&world),
        vec![(user(ADA), Away), (user(ADA), Offline), (user(ADA), Online)]
    );
}

/// Contract 4.1: a resend "returns the original ack". Over the quota, the service looks the id up
/// and still answers a resend of a stored message with the original.
#[tokio::test]
async fn a_resend_is_acked_even_when_the_send_quota_is_spent() {
    let (world, c) = World::ada_and_bob_online().await;
    let ada = device(ADA, "laptop");
    let original = world.send(&ada, c, 1, "first").await.unwrap();
    for n in 2..=10 {
        world.send(&ada, c, n, "more").await.unwrap();
    }
    let resent = world.send(&ada, c, 1, "first").await;
    assert!(
        matches!(&resent, Ok(d) if d.duplicate && d.message == original.message),
        "{resent:?}"
    );
}

/// The first sends cache the conversation's send context; a block placed afterwards on the
/// same node (which forgets the cached context) stops the very next send, both ways.
#[tokio::test]
async fn a_block_placed_after_a_cached_send_is_enforced_on_the_next_send() {
    let (world, c) = World::ada_and_bob_online().await;
    let (ada, bob) = (device(ADA, "laptop"), device(BOB, "laptop"));
    world.send(&ada, c, 1, "hi").await.unwrap();
    world.send(&bob, c, 2, "hi back").await.unwrap();

    world
        .services
        .blocks
        .block(user(ADA), c, user(BOB))
        .await
        .unwrap();
    world.publisher.clear();

    let cases = [
        (&bob, 3, BlockSide::UserBlocked),
        (&ada, 4, BlockSide::YouBlocked),
    ];
    for (from, n, side) in cases {
        let got = world.send(from, c, n, "still there?").await;
        assert!(
            matches!(got, Err(SendMessageError::Blocked(s)) if s == side),
            "{from:?}: {got:?}"
        );
    }
    assert_eq!(sequences_of(&world.db.messages_of(c)), vec![1, 2]);
    assert!(world.publisher.events().is_empty());
}

/// A change made on another node does not reach this node's cache: the append conditioned on
/// the cached version refuses, the send reads the context again and obeys it (a block, a mute).
#[tokio::test]
async fn a_block_placed_on_another_node_after_a_cached_send_is_enforced_on_the_next_send() {
    let (world, c) = World::ada_and_bob_online().await;
    let other = world.other_node();
    let (ada, bob) = (device(ADA, "laptop"), device(BOB, "laptop"));
    world.send(&ada, c, 1, "hi").await.unwrap();
    world.send(&bob, c, 2, "hi back").await.unwrap();

    other.blocks.block(user(ADA), c, user(BOB)).await.unwrap();
    world.publisher.clear();
    let cases = [
        (&bob, 3, BlockSide::UserBlocked),
        (&ada, 4, BlockSide::YouBlocked),
    ];
    for (from, n, side) in cases {
        let got = world.send(from, c, n, "still there?").await;
        assert!(
            matches!(got, Err(SendMessageError::Blocked(s)) if s == side),
            "{from:?}: {got:?}"
        );
    }
    assert_eq!(sequences_of(&world.db.messages_of(c)), vec![1, 2]);
    assert!(world.message_events().is_empty());
}

#[tokio::test]
async fn a_mute_placed_on_another_node_after_a_cached_send_flags_the_next_unread_update() {
    let (world, c) = World::ada_and_bob_online().await;
    let other = world.other_node();
    let ada = device(ADA, "laptop");
    world.send(&ada, c, 1, "hi").await.unwrap();

    other.mutes.mute(user(BOB), c, None).await.unwrap();
    world.publisher.clear();
    world.send(&ada, c, 2, "psst").await.unwrap();
    let muted: Vec<_> = world
        .unread_updates_to(BOB)
        .iter()
        .map(|u| (u.unread_count, u.muted))
        .collect();
    assert_eq!(muted, vec![(2, true)], "Ada's two messages, flagged muted");
}

/// Contract 4.5: once the block is lifted, both may send again. Here this node's cache holds the
/// blocked context (read when the block refused a send) and the block is lifted on another
/// node: the refusal is decided on the cached context, no storage call ever sees the newer
/// version, and Bob stays refused until this node's cache entry goes.
#[tokio::test]

async fn a_block_lifted_on_another_node_is_lifted_on_the_next_send() {
    let (world, c) = World::ada_and_bob_online().await;
    let other = world.other_node();
    let bob = device(BOB, "laptop");
    world.send(&bob, c, 1, "hi").await.unwrap();
    other.blocks.block(user(ADA), c, user(BOB)).await.unwrap();
    let refused = world.send(&bob, c, 2, "hello?").await;
    assert!(
        matches!(
            refused,
            Err(SendMessageError::Blocked(BlockSide::UserBlocked))
        ),
        "{refused:?}"
    );

    let lifted = other.blocks.unblock(user(ADA), c, user(BOB)).await.unwrap();
    assert!(matches!(lifted, UnblockOutcome::Lifted(_)), "{lifted:?}");
    let back = world.send(&bob, c, 3, "back").await;
    assert!(
        matches!(&back, Ok(d) if d.message.server_sequence == seq(2)),
        "{back:?}"
    );
}
