//! The harness of the black-box router tests: the real services over the testkit's fake
//! repositories, the in-process session/presence/rate-limit adapters, a manual clock and a
//! static token table; requests go through the router with `tower::ServiceExt::oneshot`.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test harness")]

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    Router,
    body::{Body, to_bytes},
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use chat_domain::{
    ConversationId, DeviceId, MessageContent, MessageId, SocketId, Timestamp, UserId,
    ports::{Clock, PresenceStore},
    presence::PresenceStatus,
    service::{Policies, Ports, SendMessage, Services},
    user::DisplayName,
};
use chat_http::{DependencyStatus, HttpConfig, HttpState, Readiness, router};
use chat_memory::{MemoryPresenceStore, MemoryRateLimiter, MemorySessionStore};
use chat_testkit::fakes::{
    FakeDb, ManualClock, RecordingPublisher, SequentialIds, StaticTokenVerifier, fake_repositories,
};
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

pub const ALICE: &str = "alice-token";
pub const BOB: &str = "bob-token";
pub const CAROL: &str = "carol-token";
pub const EXPIRED: &str = "expired-token";
pub const BODY_LIMIT: usize = 1024;

pub fn alice() -> UserId {
    UserId::new(Uuid::from_u128(0xa11ce))
}
pub fn bob() -> UserId {
    UserId::new(Uuid::from_u128(0xb0b))
}
pub fn carol() -> UserId {
    UserId::new(Uuid::from_u128(0xca201))
}

/// The field names of a JSON object, sorted.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// A readiness probe that reports one dependency, up or down as the test says.
#[derive(Debug, Default)]
pub struct SwitchableReadiness {
    down: AtomicBool,
}

impl SwitchableReadiness {
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl Readiness for SwitchableReadiness {
    async fn check(&self) -> Vec<DependencyStatus> {
        if self.down.load(Ordering::SeqCst) {
            vec![DependencyStatus::down("database", "connection refused")]
        } else {
            vec![DependencyStatus::up("database")]
        }
    }
}

/// An answer, its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a problem+json answer with `status` and `code`, and returns its body.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.json["code"], code, "{}", self.text);
        assert_eq!(self.json["status"], status, "{}", self.text);
        for field in ["type", "title", "detail"] {
            assert!(self.json[field].is_string(), "{field} in {}", self.text);
        }
        &self.json
    }
}

pub struct TestApp {
    pub router: Router,
    pub services: Services,
    pub db: FakeDb,
    pub publisher: RecordingPublisher,
    pub clock: ManualClock,
    pub presence: Arc<MemoryPresenceStore>,
    pub readiness: Arc<SwitchableReadiness>,
}

pub fn app() -> TestApp {
    app_with(Policies::default())
}

pub fn app_with(policies: Policies) -> TestApp {
    app_with_ports(policies, |_| {})
}

/// An app whose ports `customize` may replace (a failing adapter, say) before the services are
/// built.
pub fn app_with_ports(policies: Policies, customize: impl FnOnce(&mut Ports)) -> TestApp {
    let (repos, db) = fake_repositories();
    let clock = ManualClock::new();
    let publisher = RecordingPublisher::new();
    let presence = Arc::new(MemoryPresenceStore::new());
    let valid_until = ManualClock::START.plus_millis(86_400_000);
    let name = |n: &str| Some(DisplayName::new(n).unwrap());
    let tokens = StaticTokenVerifier::new()
        .with_user(ALICE, alice(), name("Alice"), valid_until)
        .with_user(BOB, bob(), name("Bob"), valid_until)
        .with_user(CAROL, carol(), name("Carol"), valid_until)
        .with_error(EXPIRED, chat_domain::ports::TokenError::Expired);
    let mut ports = Ports {
        users: repos.users,
        conversations: repos.conversations,
        messages: repos.messages,
        blocks: repos.blocks,
        mutes: repos.mutes,
        sessions: Arc::new(MemorySessionStore::new()),
        presence: presence.clone(),
        rate_limiter: Arc::new(MemoryRateLimiter::new()),
        publisher: Arc::new(publisher.clone()),
        tokens: Arc::new(tokens),
        clock: Arc::new(clock.clone()),
        ids: Arc::new(SequentialIds::starting_at(1_000)),
    };
    customize(&mut ports);
    let services = Services::new(ports, policies);
    let readiness = Arc::new(SwitchableReadiness::default());
    let metrics: chat_http::MetricsRenderer =
        Arc::new(|| "# TYPE chat_up gauge\nchat_up 1\n".to_owned());
    let state = HttpState::new(services.clone(), readiness.clone(), metrics);
    let router = router(
        state,
        &HttpConfig {
            max_body_bytes: BODY_LIMIT,
        },
    );
    TestApp {
        router,
        services,
        db,
        publisher,
        clock,
        presence,
        readiness,
    }
}

impl TestApp {
    /// Sends a request with an optional bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    /// Sends a raw request.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn get(&self, uri: &str, token: &str) -> Answer {
        self.call(Method::GET, uri, Some(token), None).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, uri, Some(token), Some(body)).await
    }

    /// Opens the Alice–Bob conversation (both authenticated once, so both have names).
    pub async fn alice_and_bob(&self) -> ConversationId {
        self.get("/users/me/blocks", BOB).await;
        let answer = self
            .post(
                "/conversations/create/one-to-one",
                ALICE,
                serde_json::json!({ "participantId": bob().to_string() }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        ConversationId::parse(answer.json["conversationId"].as_str().unwrap()).unwrap()
    }

    /// `sender` sends `text` in `conversation`, through the messaging service.
    pub async fn send_message(
        &self,
        sender: UserId,
        conversation: ConversationId,
        text: &str,
    ) -> MessageId {
        let id = MessageId::new(Uuid::now_v7());
        self.services
            .messaging
            .send(SendMessage {
                sender_id: sender,
                device_id: DeviceId::new("test-device").unwrap(),
                conversation_id: conversation,
                message_id: id,
                content: MessageContent::new(text, &Default::default()).unwrap(),
                client_sequence: None,
                client_timestamp: None,
            })
            .await
            .unwrap();
        id
    }

    /// Connects one socket of `user`, online.
    pub async fn set_online(&self, user: UserId) {
        self.presence
            .set_connection_status(
                user,
                SocketId::new(format!("s-{user}")),
                PresenceStatus::Online,
                self.clock.now(),
            )
            .await
            .unwrap();
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
