//! The Socket.IO adapter over a real socket (a raw Engine.IO v4 / Socket.IO v5 client on
//! tokio-tungstenite, as socketioxide's own tests do), with the real services over the
//! testkit's fakes: payload parsing, the mapping of service errors to codes, and the shapes of
//! the frames every answer is made of.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::{sync::Arc, time::Duration};

use chat_domain::{
    ConversationId, UserId,
    ports::Clock,
    rate_limit::{Quota, RateLimitPolicy},
    service::{Policies, Ports, Services},
    user::DisplayName,
};
use chat_memory::{
    MemoryPresenceStore, MemoryRateLimiter, MemorySessionStore, SystemClock, UuidV7Ids,
};
use chat_socketio::{Rooms, SocketConfig, SocketIoEventPublisher, SocketState, mount};
use chat_testkit::fakes::{StaticTokenVerifier, fake_repositories};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::{WebSocketStream, client_async, tungstenite::Message};
use uuid::Uuid;

const ALICE: &str = "alice-token";
const BOB: &str = "bob-token";
const CAROL: &str = "carol-token";

fn user(n: u128) -> UserId {
    UserId::new(Uuid::from_u128(n))
}

struct Server {
    addr: std::net::SocketAddr,
    services: Services,
}

async fn server(policies: Policies) -> Server {
    let (repos, _db) = fake_repositories();
    let clock = Arc::new(SystemClock);
    let valid_until = clock.now().plus_millis(3_600_000);
    let name = |n: &str| Some(DisplayName::new(n).unwrap());
    let tokens = StaticTokenVerifier::new()
        .with_user(ALICE, user(1), name("Alice"), valid_until)
        .with_user(BOB, user(2), name("Bob"), valid_until)
        .with_user(CAROL, user(3), name("Carol"), valid_until);
    let publisher = Arc::new(SocketIoEventPublisher::new());
    let ports = Ports {
        users: repos.users,
        conversations: repos.conversations,
        messages: repos.messages,
        blocks: repos.blocks,
        mutes: repos.mutes,
        sessions: Arc::new(MemorySessionStore::new()),
        presence: Arc::new(MemoryPresenceStore::new()),
        rate_limiter: Arc::new(MemoryRateLimiter::new()),
        publisher: publisher.clone(),
        tokens: Arc::new(tokens),
        clock: clock.clone(),
        ids: Arc::new(UuidV7Ids),
    };
    let services = Services::new(ports, policies);
    let state = SocketState::new(services.clone(), policies.content, clock);
    let (router, _server) = mount(
        axum::Router::new(),
        SocketConfig::default(),
        state,
        Rooms::<socketioxide_redis::drivers::fred::FredDriver>::Local,
        &publisher,
    )
    .await
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server { addr, services }
}

impl Server {
    /// Alice and Bob's conversation.
    async fn alice_and_bob(&self) -> ConversationId {
        let (c, _) = self
            .services
            .conversations
            .create_one_to_one(user(1), user(2))
            .await
            .unwrap();
        c.id
    }
}

/// A connected client: every event it received, in order.
struct Client {
    ws: WebSocketStream<TcpStream>,
    events: Vec<(String, Value)>,
    next_ack: u64,
}

impl Client {
    async fn connect(server: &Server, token: &str) -> Self {
        let stream = TcpStream::connect(server.addr).await.unwrap();
        let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", server.addr);
        let (ws, _) = client_async(url, stream).await.unwrap();
        let mut client = Self {
            ws,
            events: Vec::new(),
            next_ack: 1,
        };
        let open = client.frame().await;
        assert!(open.starts_with('0'), "{open}");
        client
            .send(format!("40{}", json!({ "token": token, "deviceId": "d1" })))
            .await;
        let connect = client.frame().await;
        assert!(connect.starts_with("40{"), "{connect}");
        client.event("connected").await;
        client
    }

    async fn send(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// The next Socket.IO frame (answering Engine.IO pings on the way).
    async fn frame(&mut self) -> String {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
                .await
                .expect("a frame within 5 s")
                .expect("an open socket")
                .unwrap();
            if let Message::Text(text) = msg {
                if text.as_str() == "2" {
                    self.send("3".to_owned()).await;
                    continue;
                }
                return text.to_string();
            }
        }
    }

    /// Reads frames until the ack of `id`, keeping the events met on the way.
    async fn ack(&mut self, id: u64) -> Value {
        let prefix = format!("43{id}");
        loop {
            let frame = self.frame().await;
            if let Some(rest) = frame.strip_prefix(&prefix) {
                let mut args: Vec<Value> = serde_json::from_str(rest).unwrap();
                return args.remove(0);
            }
            self.keep(&frame);
        }
    }

    fn keep(&mut self, frame: &str) {
        if let Some(rest) = frame.strip_prefix("42") {
            let args: Vec<Value> = serde_json::from_str(rest).unwrap();
            let name = args[0].as_str().unwrap().to_owned();
            self.events
                .push((name, args.get(1).cloned().unwrap_or(Value::Null)));
        }
    }

    /// Emits `event` with `payload` and an ack; returns the ack's first argument.
    async fn emit(&mut self, event: &str, payload: Value) -> Value {
        let id = self.next_ack;
        self.next_ack += 1;
        self.send(format!("42{id}{}", json!([event, payload])))
            .await;
        self.ack(id).await
    }

    /// The first event named `name` received (waiting for it if need be).
    async fn event(&mut self, name: &str) -> Value {
        loop {
            if let Some(i) = self.events.iter().position(|(n, _)| n == name) {
                return self.events.remove(i).1;
            }
            let frame = self.frame().await;
            self.keep(&frame);
        }
    }

    /// Events named `name` received within `ms`.
    async fn count(&mut self, name: &str, ms: u64) -> usize {
        let until = tokio::time::Instant::now() + Duration::from_millis(ms);
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(until, self.ws.next()).await {
            if let Message::Text(text) = msg {
                self.keep(&text);
            }
        }
        self.events.iter().filter(|(n, _)| n == name).count()
    }
}

/// Asserts a failure ack with `code`, and the `error:{code}` event naming `event`.
async fn assert_failure(client: &mut Client, ack: &Value, code: &str, event: &str) -> Value {
    assert_eq!(ack["error"]["code"], code, "{ack}");
    assert!(ack["error"]["message"].is_string(), "{ack}");
    let payload = client.event(&format!("error:{code}")).await;
    assert_eq!(payload["code"], code);
    assert_eq!(payload["event"], event);
    assert_eq!(payload["message"], ack["error"]["message"]);
    assert!(chat_domain::Timestamp::parse_rfc3339(payload["timestamp"].as_str().unwrap()).is_ok());
    payload
}

#[tokio::test]
async fn every_event_with_a_payload_that_is_not_an_object_is_answered_validation() {
    let server = server(Policies::default()).await;
    let mut alice = Client::connect(&server, ALICE).await;
    for event in [
        "message:send",
        "message:read",
        "typing:start",
        "typing:stop",
        "presence:update",
        "block:user",
        "unblock:user",
        "mute:conversation",
        "unmute:conversation",
        "auth",
    ] {
        for payload in [json!("text"), json!(42), json!([1, 2]), json!(null)] {
            let ack = alice.emit(event, payload.clone()).await;
            assert_failure(&mut alice, &ack, "validation", event).await;
        }
    }
}

#[tokio::test]
async fn bad_fields_are_validation_naming_the_field_and_change_nothing() {
    let server = server(Policies::default()).await;
    let c = server.alice_and_bob().await;
    let mut alice = Client::connect(&server, ALICE).await;
    let cases = [
        (
            "message:read",
            json!({ "conversationId": "nope", "lastReadSequence": 1 }),
            "conversationId",
        ),
        (
            "message:read",
            json!({ "conversationId": c.to_string() }),
            "",
        ),
        (
            "message:read",
            json!({ "conversationId": c.to_string(), "lastReadAt": "yesterday" }),
            "lastReadAt",
        ),
        (
            "message:read",
            json!({ "conversationId": c.to_string(), "lastReadSequence": -1 }),
            "",
        ),
        ("typing:start", json!({}), "conversationId"),
        ("presence:update", json!({ "status": "offline" }), ""),
        (
            "block:user",
            json!({ "conversationId": c.to_string(), "blockedUserId": 7 }),
            "",
        ),
        (
            "mute:conversation",
            json!({ "conversationId": c.to_string(), "mutedUntil": "soon" }),
            "mutedUntil",
        ),
        (
            "message:send",
            json!({ "conversationId": c.to_string(), "messageId": "x", "content": "hi" }),
            "messageId",
        ),
        (
            "message:send",
            json!({ "conversationId": c.to_string(), "messageId": Uuid::now_v7().to_string(), "content": "  " }),
            "content",
        ),
    ];
    for (event, payload, field) in cases {
        let ack = alice.emit(event, payload.clone()).await;
        let sent = assert_failure(&mut alice, &ack, "validation", event).await;
        let message = ack["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{event} {payload}: {message}");
        if event == "message:send" {
            let failed = alice.event("message:failed").await;
            assert_eq!(failed["status"], "failed");
            assert_eq!(failed["error"], ack["error"]);
            assert_eq!(failed["conversationId"], sent["conversationId"]);
        }
    }
    let history = server
        .services
        .conversations
        .history(
            user(1),
            c,
            chat_domain::HistoryQuery {
                limit: chat_domain::PageLimit::HISTORY_DEFAULT,
                anchor: chat_domain::HistoryAnchor::Newest { offset: 0 },
                from: None,
                to: None,
            },
        )
        .await
        .unwrap();
    assert!(history.items.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn a_binary_attachment_and_an_unknown_event_are_answered_validation() {
    let server = server(Policies::default()).await;
    let mut alice = Client::connect(&server, ALICE).await;
    // BINARY_EVENT with one attachment and ack id 1, then the attachment.
    alice
        .send(r#"451-1["message:read",{"_placeholder":true,"num":0}]"#.to_owned())
        .await;
    alice
        .ws
        .send(Message::binary(vec![1_u8, 2, 3]))
        .await
        .unwrap();
    let ack = alice.ack(1).await;
    assert_failure(&mut alice, &ack, "validation", "message:read").await;
    assert!(ack["error"]["message"].as_str().unwrap().contains("binary"));

    alice.next_ack = 2;
    let ack = alice.emit("message:edit-everything", json!({})).await;
    assert_failure(&mut alice, &ack, "validation", "message:edit-everything").await;
}

#[tokio::test]
async fn service_errors_carry_the_contracts_codes() {
    let policies = Policies {
        rate: RateLimitPolicy {
            message_read: Quota::per_minute(1),
            ..RateLimitPolicy::default()
        },
        ..Policies::default()
    };
    let server = server(policies).await;
    let c = server.alice_and_bob().await;
    let mut carol = Client::connect(&server, CAROL).await;
    let mut alice = Client::connect(&server, ALICE).await;

    // Outside the conversation: not_participant, for a block too (the caller, not the target).
    let read = json!({ "conversationId": c.to_string(), "lastReadSequence": 0 });
    let ack = carol.emit("message:read", read.clone()).await;
    let err = assert_failure(&mut carol, &ack, "not_participant", "message:read").await;
    assert_eq!(err["conversationId"], c.to_string());
    let block = json!({ "conversationId": c.to_string(), "blockedUserId": user(1).to_string() });
    let ack = carol.emit("block:user", block).await;
    assert_failure(&mut carol, &ack, "not_participant", "block:user").await;
    let unknown = json!({ "conversationId": Uuid::now_v7().to_string() });
    let ack = carol.emit("typing:start", unknown).await;
    assert_failure(&mut carol, &ack, "not_participant", "typing:start").await;

    // A target outside the conversation is a bad field.
    let block = json!({ "conversationId": c.to_string(), "blockedUserId": user(3).to_string() });
    let ack = alice.emit("block:user", block).await;
    assert_failure(&mut alice, &ack, "validation", "block:user").await;

    // Over the quota: rate_limit_exceeded with whole seconds to wait.
    assert!(alice.emit("message:read", read.clone()).await["error"].is_null());
    let ack = alice.emit("message:read", read).await;
    let err = assert_failure(&mut alice, &ack, "rate_limit_exceeded", "message:read").await;
    assert!(ack["error"]["retryAfter"].as_u64().unwrap() >= 1);
    assert_eq!(err["retryAfter"], ack["error"]["retryAfter"]);
}

#[tokio::test]
async fn a_send_is_acked_once_with_message_delivered_to_the_sending_socket_only() {
    let server = server(Policies::default()).await;
    let c = server.alice_and_bob().await;
    let mut alice = Client::connect(&server, ALICE).await;
    let mut bob = Client::connect(&server, BOB).await;
    let message_id = Uuid::now_v7().to_string();
    let send = json!({ "conversationId": c.to_string(), "messageId": message_id, "content": "hi", "clientSequence": 1 });
    let ack = alice.emit("message:send", send.clone()).await;
    assert_eq!(ack["status"], "delivered");
    assert_eq!(ack["duplicate"], false);
    assert_eq!(ack["serverSequence"], 1);
    let delivered = alice.event("message:delivered").await;
    assert_eq!(delivered, ack);

    let received = bob.event("message:received").await;
    assert_eq!(received["messageId"], message_id);
    assert_eq!(received["content"], "hi");
    assert_eq!(received["clientSequence"], 1);
    assert_eq!(received["readBy"], json!([]));
    assert_eq!(
        bob.count("message:delivered", 300).await,
        0,
        "not to others"
    );

    // A resend: the original ack, delivered once more, broadcast again.
    let again = alice.emit("message:send", send).await;
    let mut original = ack.clone();
    original["duplicate"] = json!(true);
    assert_eq!(again, original, "the original ack, marked duplicate");
    assert_eq!(alice.event("message:delivered").await, again);
    assert_eq!(bob.event("message:received").await, received);
    assert_eq!(
        alice.count("message:delivered", 300).await,
        0,
        "once per send"
    );
}
