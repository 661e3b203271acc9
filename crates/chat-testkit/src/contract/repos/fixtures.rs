//! Fresh ids, instants and a few steps every repository check needs.

use chat_domain::{
    ClientSequence, ConversationId, DeviceId, DisplayName, MessageContent, MessageId, NewMessage,
    OneToOnePair, PageLimit, StoredMessage, Timestamp, UserId,
    conversation::Conversation,
    message::AppendOutcome,
    ports::{ContextVersion, SendContext},
};
use uuid::Uuid;

use crate::contract::Repositories;

/// An instant in 2026, on a whole second; checks add odd milliseconds to it on purpose, so
/// that instants with and without a fraction are compared and ordered.
pub(super) const T0: i64 = 1_769_509_800_000;

pub(super) fn at(offset_ms: i64) -> Timestamp {
    Timestamp::from_millis(T0 + offset_ms)
}

pub(super) fn user() -> UserId {
    UserId::new(Uuid::new_v4())
}

pub(super) fn conversation_id() -> ConversationId {
    ConversationId::new(Uuid::new_v4())
}

pub(super) fn message_id() -> MessageId {
    MessageId::new(Uuid::new_v4())
}

pub(super) fn device(name: &str) -> DeviceId {
    DeviceId::new(name).unwrap()
}

pub(super) fn name(raw: &str) -> DisplayName {
    DisplayName::new(raw).unwrap()
}

pub(super) fn limit(n: i64) -> PageLimit {
    PageLimit::new(n, 1_000).unwrap()
}

pub(super) fn pair(a: UserId, b: UserId) -> OneToOnePair {
    OneToOnePair::new(a, b).unwrap()
}

/// A new one-to-one conversation of `a` and `b`, created at `created`.
pub(super) async fn conversation(
    r: &Repositories,
    a: UserId,
    b: UserId,
    created: Timestamp,
) -> Conversation {
    let (conv, _) = r
        .conversations
        .find_or_create_one_to_one(pair(a, b), conversation_id(), created)
        .await
        .unwrap();
    conv
}

/// A message of `sender` from device `d1`, without a client sequence.
pub(super) fn new_message(
    conversation: ConversationId,
    sender: UserId,
    content: &str,
    created: Timestamp,
) -> NewMessage {
    NewMessage {
        id: message_id(),
        conversation_id: conversation,
        sender_id: sender,
        sender_device_id: device("d1"),
        client_sequence: None,
        content: MessageContent::from_trusted(content.to_owned()),
        client_timestamp: None,
        created_at: created,
    }
}

/// [`new_message`] with a device and client sequence.
pub(super) fn numbered(
    conversation: ConversationId,
    sender: UserId,
    dev: &str,
    client_sequence: u64,
) -> NewMessage {
    NewMessage {
        sender_device_id: device(dev),
        client_sequence: Some(ClientSequence::new(client_sequence)),
        ..new_message(conversation, sender, "numbered", at(0))
    }
}

/// Appends at the current context version and expects a fresh message.
pub(super) async fn append_created(r: &Repositories, msg: NewMessage) -> StoredMessage {
    let context = send_context(r, msg.conversation_id).await;
    let mut stored = match r.append_at(msg, context.version).await.unwrap() {
        AppendOutcome::Created(m) => m,
        AppendOutcome::Duplicate(m) => {
            panic!("expected a new message, got a duplicate of {:?}", m.id)
        }
    };
    // An append may leave the sender's name out; reads carry it. Fill it in to compare.
    if stored.sender_name.is_none() {
        stored.sender_name = context
            .conversation
            .participant(stored.sender_id)
            .and_then(|p| p.name.clone());
    }
    stored
}

/// Sends `content` from `sender` at `created`.
pub(super) async fn send(
    r: &Repositories,
    conversation: ConversationId,
    sender: UserId,
    created: Timestamp,
) -> StoredMessage {
    append_created(r, new_message(conversation, sender, "hello", created)).await
}

/// The send context of an existing conversation.
pub(super) async fn send_context(r: &Repositories, conversation: ConversationId) -> SendContext {
    r.conversations
        .fetch_send_context(conversation)
        .await
        .unwrap()
        .expect("the conversation exists")
}

/// The context version of an existing conversation.
pub(super) async fn version(r: &Repositories, conversation: ConversationId) -> ContextVersion {
    send_context(r, conversation).await.version
}
