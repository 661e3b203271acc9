//! TypeScript declarations of every payload, generated from the Rust types (ts-rs), for the web
//! client (`crates/chat-gateway/web/protocol.d.ts`, kept current by a test).

use ts_rs::{Config, TS};

use crate::{error, inbound, payload};

/// One declaration per type, exported.
fn declare<T: TS + 'static + ?Sized>(cfg: &Config, out: &mut String) {
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push_str("\n\n");
}

/// Every payload type as one `.d.ts` module; 64-bit integers are `number` (the values the
/// server sends stay below 2^53).
#[must_use]
pub fn declarations() -> String {
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from crates/chat-protocol by `UPDATE_PROTOCOL_TYPES=1 cargo test -p \
         chat-gateway --test protocol_artifacts`.\n// Do not edit: change the Rust types.\n\n",
    );
    macro_rules! all {
        ($($t:ty),* $(,)?) => { $(declare::<$t>(&cfg, &mut out);)* };
    }
    all!(
        error::ErrorCode,
        error::FailureBody,
        error::FailureAck,
        error::ErrorPayload,
        error::MessageFailed,
        inbound::MessageSend,
        inbound::ConversationRef,
        inbound::ReadRequest,
        inbound::MessageRead,
        inbound::PresenceUpdate,
        inbound::BlockRequest,
        inbound::BlockUser,
        inbound::MuteRequest,
        inbound::MuteConversation,
        inbound::SocketPing,
        inbound::AuthRefresh,
        inbound::HandshakeAuth,
        inbound::CreateOneToOne,
        payload::Message,
        payload::DeliveryStatus,
        payload::MessageReceived,
        payload::MessageDelivered,
        payload::ReadAck,
        payload::UnreadCountUpdated,
        payload::ReadReceiptReceived,
        payload::BlockResult,
        payload::BlockEntry,
        payload::MuteChange,
        payload::MuteResult,
        payload::MuteEntry,
        payload::ConversationType,
        payload::Participant,
        payload::Conversation,
        payload::History,
        payload::Presence,
        payload::ChatListParticipant,
        payload::ChatListItem,
        payload::ChatList,
        payload::Connected,
        payload::ResumeStatus,
        payload::Reconnected,
        payload::TypingAck,
        payload::TypingIndicator,
        payload::PresenceAck,
        payload::PresenceChanged,
        payload::Pong,
        payload::SyncHint,
        payload::AuthAck,
        payload::MemberRole,
        payload::ConversationJoined,
        payload::ConversationLeft,
        payload::MemberAdded,
        payload::MemberRemoved,
        payload::MemberRoleChanged,
        payload::ConversationUpdated,
        payload::ConversationCreated,
        payload::ChangeData,
        payload::ChangeKindName,
        payload::ChangeItem,
        payload::Changes,
        payload::Member,
        payload::MemberPage,
        payload::MembersAddedAnswer,
    );
    out
}
