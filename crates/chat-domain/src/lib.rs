//! The pure domain of the chat gateway: value types, the rules of the contract, the ports the
//! outside world implements, and the use-case services that the inbound adapters call.
//!
//! No runtime, database, cache or transport crate is a dependency of this crate; time and ids
//! come through the [`ports::Clock`] and [`ports::IdGenerator`] ports.
//!
//! # Layout
//! - [`ids`], [`time`], [`sequence`], [`user`], [`message`], [`paging`]: validated value types.
//! - [`conversation`], [`block`], [`mute`], [`read_marker`], [`presence`], [`typing`],
//!   [`rate_limit`], [`ordering`], [`resume`]: the rules, as pure functions and state machines.
//! - [`ports`]: repository, session, presence, rate-limit, publisher, token, clock and id ports
//!   (mockall mocks behind the `mocks` feature); [`error`]: the error every port returns.
//! - [`events`]: the real-time effects services publish.
//! - [`service`]: one service per group of operations of the contract, each with its own error
//!   enum.
//!
//! # Reuse in another service
//! Other backend services reuse this crate rather than the gateway. A service's constructor
//! names the ports it uses, so another process builds just the service it needs over adapters
//! of its own ([`service::Services::new`] is only the gateway's assembler of all of them). Here
//! a notification service lets a user mute a conversation from a push notification, over a
//! store, a publisher, a rate limiter and a clock of its own, in memory
//! (`cargo run -p chat-domain --example reuse_domain` runs the same end to end):
//!
//! ```
//! use std::{collections::BTreeMap, sync::{Arc, Mutex}};
//!
//! use chat_domain::{
//!     Conversation, ConversationId, ConversationKind, Mute, Participant, RepoError,
//!     ServerSequence, Timestamp, UserId,
//!     events::{Audience, ServerEvent},
//!     ports::{Clock, ConversationRepository, EventPublisher, MuteRepository, RateLimiter},
//!     rate_limit::{Quota, RateDecision, RateLimitKey},
//!     service::{MuteService, Policies, SendContextCache},
//! };
//! # use chat_domain::{
//! #     conversation::{ChatListPage, Created, OneToOnePair},
//! #     paging::PageLimit, ports::SendContext, read_marker::MarkerAdvance, resume::ConversationHead,
//! # };
//!
//! /// The notification service's store: its conversations and mutes.
//! #[derive(Default)]
//! struct Store {
//!     conversations: BTreeMap<ConversationId, Conversation>,
//!     mutes: Mutex<BTreeMap<(ConversationId, UserId), Mute>>,
//! }
//!
//! #[async_trait::async_trait]
//! impl ConversationRepository for Store {
//!     async fn find_conversation(
//!         &self,
//!         id: ConversationId,
//!     ) -> Result<Option<Conversation>, RepoError> {
//!         Ok(self.conversations.get(&id).cloned())
//!     }
//!     // Muting calls no other method of this port (hidden here: each answers
//!     // `Err(RepoError::internal("not kept here"))`).
//! #   async fn find_or_create_one_to_one(&self, _: OneToOnePair, _: ConversationId, _: Timestamp)
//! #       -> Result<(Conversation, Created), RepoError> { Err(RepoError::internal("not kept here")) }
//! #   async fn fetch_send_context(&self, _: ConversationId)
//! #       -> Result<Option<SendContext>, RepoError> { Err(RepoError::internal("not kept here")) }
//! #   async fn list_conversation_heads(&self, _: UserId)
//! #       -> Result<Vec<ConversationHead>, RepoError> { Err(RepoError::internal("not kept here")) }
//! #   async fn list_chat_list(&self, _: UserId, _: PageLimit, _: u64, _: Timestamp)
//! #       -> Result<ChatListPage, RepoError> { Err(RepoError::internal("not kept here")) }
//! #   async fn advance_read_marker(&self, _: ConversationId, _: UserId, _: ServerSequence, _: Timestamp)
//! #       -> Result<MarkerAdvance, RepoError> { Err(RepoError::internal("not kept here")) }
//! #   async fn unread_count(&self, _: ConversationId, _: UserId)
//! #       -> Result<u64, RepoError> { Err(RepoError::internal("not kept here")) }
//! #   async fn unread_counts(&self, _: UserId)
//! #       -> Result<Vec<(ConversationId, u64)>, RepoError> { Err(RepoError::internal("not kept here")) }
//! }
//!
//! #[async_trait::async_trait]
//! impl MuteRepository for Store {
//!     async fn upsert_mute(&self, mute: Mute) -> Result<Mute, RepoError> {
//!         let key = (mute.conversation_id, mute.user_id);
//!         self.mutes.lock().unwrap().insert(key, mute.clone());
//!         Ok(mute)
//!     }
//!     async fn find_mute(&self, c: ConversationId, u: UserId) -> Result<Option<Mute>, RepoError> {
//!         Ok(self.mutes.lock().unwrap().get(&(c, u)).cloned())
//!     }
//!     async fn list_user_mutes(&self, u: UserId, now: Timestamp) -> Result<Vec<Mute>, RepoError> {
//!         let mutes = self.mutes.lock().unwrap();
//!         Ok(mutes.values().filter(|m| m.user_id == u && m.is_active(now)).cloned().collect())
//!     }
//!     async fn delete_mute(&self, c: ConversationId, u: UserId) -> Result<Option<Mute>, RepoError> {
//!         Ok(self.mutes.lock().unwrap().remove(&(c, u)))
//!     }
//! }
//!
//! /// Its push channel: here it only remembers what it was given.
//! #[derive(Default)]
//! struct Pushes(Mutex<Vec<(Audience, ServerEvent)>>);
//!
//! #[async_trait::async_trait]
//! impl EventPublisher for Pushes {
//!     async fn publish(&self, to: Audience, event: ServerEvent) -> Result<(), RepoError> {
//!         self.0.lock().unwrap().push((to, event));
//!         Ok(())
//!     }
//!     async fn join_conversation(&self, _: UserId, _: ConversationId) -> Result<(), RepoError> {
//!         Ok(())
//!     }
//!     async fn leave_conversation(&self, _: UserId, _: ConversationId) -> Result<(), RepoError> {
//!         Ok(())
//!     }
//! }
//!
//! /// No quota on muting from a notification.
//! struct Unlimited;
//!
//! #[async_trait::async_trait]
//! impl RateLimiter for Unlimited {
//!     async fn check(&self, _: RateLimitKey, _: Quota, _: Timestamp)
//!         -> Result<RateDecision, RepoError> {
//!         Ok(RateDecision::Allowed)
//!     }
//! }
//!
//! struct FixedClock(Timestamp);
//!
//! impl Clock for FixedClock {
//!     fn now(&self) -> Timestamp {
//!         self.0
//!     }
//! }
//!
//! let (ada, bob) = (UserId::new(uuid::Uuid::from_u128(1)), UserId::new(uuid::Uuid::from_u128(2)));
//! let id = ConversationId::new(uuid::Uuid::from_u128(10));
//! let now = Timestamp::from_millis(1_700_000_000_000);
//! let member = |user_id| Participant {
//!     user_id,
//!     name: None,
//!     role: chat_domain::group::Role::Member,
//!     joined_at: now,
//!     left_at: None,
//!     last_read_sequence: ServerSequence::ZERO,
//!     last_read_at: None,
//! };
//! let conversation = Conversation {
//!     id,
//!     kind: ConversationKind::OneToOne,
//!     title: None,
//!     created_at: now,
//!     last_sequence: ServerSequence::ZERO,
//!     participants: vec![member(ada), member(bob)],
//! };
//! let store = Arc::new(Store {
//!     conversations: BTreeMap::from([(id, conversation)]),
//!     ..Store::default()
//! });
//! let pushes = Arc::new(Pushes::default());
//!
//! // The one service it needs, over its own adapters.
//! let mutes = MuteService::new(
//!     store.clone(),
//!     store.clone(),
//!     Arc::new(Unlimited),
//!     pushes.clone(),
//!     Arc::new(FixedClock(now)),
//!     Policies::default(),
//!     Arc::new(SendContextCache::default()),
//! );
//! let an_hour = Some(now.plus_millis(3_600_000));
//! let mute = futures::executor::block_on(mutes.mute(ada, id, an_hour))?;
//! assert_eq!(mute.muted_until, an_hour);
//! assert_eq!(
//!     pushes.0.lock().unwrap().as_slice(),
//!     [(Audience::User(ada), ServerEvent::ConversationMuted(mute))]
//! );
//! # Ok::<(), chat_domain::service::MuteError>(())
//! ```

pub mod block;
pub mod change;
pub mod conversation;
pub mod error;
pub mod events;
pub mod group;
pub mod ids;
pub mod membership;
pub mod message;
pub mod mute;
pub mod ordering;
pub mod paging;
pub mod ports;
pub mod presence;
pub mod rate_limit;
pub mod read_marker;
pub mod resume;
pub mod sequence;
pub mod service;
pub mod time;
pub mod typing;
pub mod user;

pub use crate::{
    block::{Block, BlockSide},
    conversation::{Conversation, ConversationKind, OneToOnePair, Participant},
    error::RepoError,
    ids::{ConversationId, DeviceId, MessageId, SocketId, UserId},
    message::{AppendOutcome, ContentPolicy, MessageContent, NewMessage, StoredMessage},
    mute::Mute,
    paging::{HistoryAnchor, HistoryQuery, PageLimit},
    presence::PresenceStatus,
    sequence::{ClientSequence, ServerSequence},
    time::Timestamp,
    user::DisplayName,
};
