//! In-memory fakes of the domain's ports, for service tests.
//!
//! The repository fakes share one [`FakeDb`], as the real ones share one database: a
//! message appended through [`FakeMessageRepository`] moves its conversation's last sequence,
//! unread counts and chat list as seen through [`FakeConversationRepository`]. They keep every
//! promise of the port docs, and run the same repository contract suites as the SQL adapters
//! (`tests/fakes.rs`).
//!
//! Typical use: `let (repos, db) = fake_repositories();`, a [`RecordingPublisher`], a
//! [`ManualClock`] and [`SequentialIds`], each kept by the test as a clone (clones share state)
//! and handed to the service in an `Arc`; then assert on `publisher.events_to(&audience)`,
//! advance the clock, or `db.set_unavailable(true)` to see storage failures.

mod blocks;
mod clock;
mod conversations;
mod db;
mod groups;
mod messages;
mod publisher;
mod tokens;
mod users;

pub use self::{
    blocks::{FakeBlockRepository, FakeMuteRepository},
    clock::{ManualClock, SequentialIds},
    conversations::FakeConversationRepository,
    db::{FakeDb, fake_repositories},
    groups::FakeGroupRepository,
    messages::FakeMessageRepository,
    publisher::{PublisherCall, RecordingPublisher},
    tokens::StaticTokenVerifier,
    users::FakeUserRepository,
};
