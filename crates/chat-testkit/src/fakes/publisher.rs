//! The recording [`EventPublisher`].

use std::sync::{Arc, Mutex, MutexGuard};

use chat_domain::{
    error::RepoError,
    events::{Audience, ServerEvent},
    ids::{ConversationId, UserId},
    ports::EventPublisher,
};

/// One call a [`RecordingPublisher`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublisherCall {
    /// `publish(audience, event)`.
    Publish(Audience, ServerEvent),
    /// `join_conversation(user, conversation)`.
    Join(UserId, ConversationId),
    /// `leave_conversation(user, conversation)`.
    Leave(UserId, ConversationId),
}

/// An [`EventPublisher`] that records every call, in order. Clones share one recording, so a
/// test keeps a clone and hands another to the service.
///
/// With [`set_failing`](Self::set_failing) every call still is recorded (it was attempted) and
/// then fails with `RepoError::Unavailable`, to check that a failed publish does not fail an
/// operation that has committed.
#[derive(Debug, Clone, Default)]
pub struct RecordingPublisher {
    inner: Arc<Mutex<Recording>>,
}

#[derive(Debug, Default)]
struct Recording {
    calls: Vec<PublisherCall>,
    failing: bool,
}

impl RecordingPublisher {
    /// A publisher with nothing recorded, that succeeds.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn recording(&self) -> MutexGuard<'_, Recording> {
        self.inner.lock().unwrap()
    }

    /// Makes every later call fail (`true`) or succeed again (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.recording().failing = failing;
    }

    /// Every call so far, in order.
    #[must_use]
    pub fn calls(&self) -> Vec<PublisherCall> {
        self.recording().calls.clone()
    }

    /// Every published event with its audience, in order.
    #[must_use]
    pub fn events(&self) -> Vec<(Audience, ServerEvent)> {
        let recording = self.recording();
        let published = recording.calls.iter().filter_map(|call| match call {
            PublisherCall::Publish(audience, event) => Some((audience.clone(), event.clone())),
            PublisherCall::Join(..) | PublisherCall::Leave(..) => None,
        });
        published.collect()
    }

    /// The events published to exactly `audience`, in order.
    #[must_use]
    pub fn events_to(&self, audience: &Audience) -> Vec<ServerEvent> {
        let events = self.events().into_iter();
        events
            .filter(|(to, _)| to == audience)
            .map(|(_, event)| event)
            .collect()
    }

    /// Every `join_conversation` call, in order.
    #[must_use]
    pub fn joins(&self) -> Vec<(UserId, ConversationId)> {
        let recording = self.recording();
        let joins = recording.calls.iter().filter_map(|call| match call {
            PublisherCall::Join(user, conversation) => Some((*user, *conversation)),
            PublisherCall::Publish(..) | PublisherCall::Leave(..) => None,
        });
        joins.collect()
    }

    /// Every `leave_conversation` call, in order.
    #[must_use]
    pub fn leaves(&self) -> Vec<(UserId, ConversationId)> {
        let recording = self.recording();
        let leaves = recording.calls.iter().filter_map(|call| match call {
            PublisherCall::Leave(user, conversation) => Some((*user, *conversation)),
            PublisherCall::Publish(..) | PublisherCall::Join(..) => None,
        });
        leaves.collect()
    }

    /// Forgets every call recorded so far (the failing switch stays as it is).
    pub fn clear(&self) {
        self.recording().calls.clear();
    }

    fn record(&self, call: PublisherCall) -> Result<(), RepoError> {
        let mut recording = self.recording();
        recording.calls.push(call);
        if recording.failing {
            return Err(RepoError::unavailable(std::io::Error::other(
                "recording publisher set to fail",
            )));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, audience: Audience, event: ServerEvent) -> Result<(), RepoError> {
        self.record(PublisherCall::Publish(audience, event))
    }

    async fn join_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError> {
        self.record(PublisherCall::Join(user, conversation))
    }

    async fn leave_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError> {
        self.record(PublisherCall::Leave(user, conversation))
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::ids::SocketId;
    use uuid::Uuid;

    use super::*;

    fn event(n: u128) -> ServerEvent {
        ServerEvent::ConversationUnmuted {
            conversation_id: ConversationId::new(Uuid::from_u128(n)),
        }
    }

    #[tokio::test]
    async fn every_call_is_recorded_in_order_and_filtered_by_kind() {
        let publisher = RecordingPublisher::new();
        let handle: &dyn EventPublisher = &publisher.clone();
        let (user, conv) = (
            UserId::new(Uuid::from_u128(1)),
            ConversationId::new(Uuid::nil()),
        );
        let to_user = Audience::User(user);
        let to_socket = Audience::Socket(SocketId::new("s"));
        handle.publish(to_user.clone(), event(1)).await.unwrap();
        handle.join_conversation(user, conv).await.unwrap();
        handle.publish(to_socket.clone(), event(2)).await.unwrap();
        handle.leave_conversation(user, conv).await.unwrap();

        assert_eq!(publisher.calls().len(), 4);
        assert_eq!(
            publisher.events(),
            vec![(to_user.clone(), event(1)), (to_socket, event(2))]
        );
        assert_eq!(publisher.events_to(&to_user), vec![event(1)]);
        assert_eq!(publisher.joins(), vec![(user, conv)]);
        assert_eq!(publisher.leaves(), vec![(user, conv)]);
        publisher.clear();
        assert!(publisher.calls().is_empty());
    }

    #[tokio::test]
    async fn a_failing_publisher_records_the_attempt_and_reports_unavailable() {
        let publisher = RecordingPublisher::new();
        publisher.set_failing(true);
        let user = UserId::new(Uuid::from_u128(1));
        let failed = publisher.publish(Audience::User(user), event(1)).await;
        assert!(
            matches!(failed, Err(RepoError::Unavailable(_))),
            "{failed:?}"
        );
        assert_eq!(publisher.events().len(), 1, "the attempt is recorded");
        publisher.set_failing(false);
        assert!(
            publisher
                .publish(Audience::User(user), event(2))
                .await
                .is_ok()
        );
    }
}
