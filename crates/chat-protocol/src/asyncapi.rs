//! The AsyncAPI 3 document of the Socket.IO side, generated from the event names and payload
//! types of this crate (never written by hand): one channel (the `/` namespace), an operation
//! per event (`receive` for client events, with their ack as the reply; `send` for server
//! events), and the payload schemas from the same `utoipa` derives as the REST document.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::{
    error::{ErrorCode, ErrorPayload, FailureAck, MessageFailed},
    events::{inbound, outbound},
    inbound::{
        AuthRefresh, BlockUser, ConversationRef, HandshakeAuth, MessageRead, MessageSend,
        MuteConversation, PresenceUpdate, SocketPing,
    },
    payload::{
        AuthAck, BlockEntry, BlockResult, Connected, ConversationJoined, ConversationLeft,
        ConversationUpdated, MemberAdded, MemberRemoved, MemberRoleChanged, MessageDelivered,
        MessageReceived, MuteChange, MuteResult, Pong, PresenceAck, PresenceChanged, ReadAck,
        ReadReceiptReceived, Reconnected, SyncHint, TypingAck, TypingIndicator, UnreadCountUpdated,
    },
};

/// The channel every event travels on.
const CHANNEL: &str = "namespace";

/// The schemas referenced so far, by name.
#[derive(Default)]
struct Schemas(BTreeMap<String, Value>);

impl Schemas {
    /// Adds `T` (and what it references); returns a `$ref` to it.
    fn of<T: ToSchema>(&mut self) -> Value {
        let mut nested = Vec::new();
        T::schemas(&mut nested);
        nested.push((T::name().into_owned(), T::schema()));
        for (name, schema) in nested {
            let schema = serde_json::to_value(schema).unwrap_or(Value::Null);
            self.0.entry(name).or_insert(schema);
        }
        json!({ "$ref": format!("#/components/schemas/{}", T::name()) })
    }
}

/// `message:send` → `messageSend`, `read_receipt:received` → `readReceiptReceived`.
fn key(event: &str) -> String {
    let mut out = String::with_capacity(event.len());
    let mut upper = false;
    for c in event.chars() {
        if c == ':' || c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The document being built.
struct Document {
    schemas: Schemas,
    messages: BTreeMap<String, Value>,
    operations: BTreeMap<String, Value>,
}

impl Document {
    fn message(&mut self, name: &str, summary: &str, payload: Value) -> Value {
        let key = key(name);
        self.messages.insert(
            key.clone(),
            json!({ "name": name, "summary": summary, "contentType": "application/json", "payload": payload }),
        );
        json!({ "$ref": format!("#/channels/{CHANNEL}/messages/{key}") })
    }

    /// A client event with an ack.
    fn receive(&mut self, event: &str, summary: &str, payload: Value, ack: Value) {
        let request = self.message(event, summary, payload);
        let success = self.message(
            &format!("{event} ack"),
            &format!("The ack of `{event}` on success."),
            ack,
        );
        let failure_payload = self.schemas.of::<FailureAck>();
        let failure = self.message(
            "failure ack",
            "The ack of any client event that failed.",
            failure_payload,
        );
        self.operations.insert(
            key(event),
            json!({
                "action": "receive",
                "summary": summary,
                "channel": { "$ref": format!("#/channels/{CHANNEL}") },
                "messages": [request],
                "reply": {
                    "channel": { "$ref": format!("#/channels/{CHANNEL}") },
                    "messages": [success, failure],
                },
            }),
        );
    }

    /// A server event.
    fn send(&mut self, event: &str, summary: &str, payload: Value) {
        let message = self.message(event, summary, payload);
        self.operations.insert(
            key(event),
            json!({
                "action": "send",
                "summary": summary,
                "channel": { "$ref": format!("#/channels/{CHANNEL}") },
                "messages": [message],
            }),
        );
    }
}

/// The AsyncAPI 3.0 document of every Socket.IO event and payload.
#[must_use]
pub fn document() -> Value {
    let mut doc = Document {
        schemas: Schemas::default(),
        messages: BTreeMap::new(),
        operations: BTreeMap::new(),
    };
    let s = &mut doc.schemas;
    let client = [
        (
            inbound::MESSAGE_SEND,
            "Send a message; acked after it is durably committed.",
            s.of::<MessageSend>(),
            s.of::<MessageDelivered>(),
        ),
        (
            inbound::MESSAGE_READ,
            "Move your read marker forward (at least one of lastReadAt, lastReadSequence, messageIds).",
            s.of::<MessageRead>(),
            s.of::<ReadAck>(),
        ),
        (
            inbound::TYPING_START,
            "You started typing (cleared by itself after CHAT_TYPING_TIMEOUT_MS).",
            s.of::<ConversationRef>(),
            s.of::<TypingAck>(),
        ),
        (
            inbound::TYPING_STOP,
            "You stopped typing.",
            s.of::<ConversationRef>(),
            s.of::<TypingAck>(),
        ),
        (
            inbound::PRESENCE_UPDATE,
            "Set this connection's presence.",
            s.of::<PresenceUpdate>(),
            s.of::<PresenceAck>(),
        ),
        (
            inbound::BLOCK_USER,
            "Block another participant of a conversation (idempotent).",
            s.of::<BlockUser>(),
            s.of::<BlockResult>(),
        ),
        (
            inbound::UNBLOCK_USER,
            "Lift your block (idempotent).",
            s.of::<BlockUser>(),
            s.of::<BlockResult>(),
        ),
        (
            inbound::MUTE_CONVERSATION,
            "Mute a conversation, optionally until an instant.",
            s.of::<MuteConversation>(),
            s.of::<MuteResult>(),
        ),
        (
            inbound::UNMUTE_CONVERSATION,
            "Unmute a conversation.",
            s.of::<MuteConversation>(),
            s.of::<MuteResult>(),
        ),
        (
            inbound::SOCKET_PING,
            "Clock exchange; also emits socket:pong.",
            s.of::<SocketPing>(),
            s.of::<Pong>(),
        ),
        (
            inbound::AUTH,
            "Refresh this socket's token (same user).",
            s.of::<AuthRefresh>(),
            s.of::<AuthAck>(),
        ),
    ];
    let server = [
        (
            outbound::CONNECTED,
            "A new session, after the handshake.",
            s.of::<Connected>(),
        ),
        (
            outbound::RECONNECTED,
            "A resumed session: what was committed while the device was away.",
            s.of::<Reconnected>(),
        ),
        (
            outbound::MESSAGE_DELIVERED,
            "Your message was committed (to the sending socket).",
            s.of::<MessageDelivered>(),
        ),
        (
            outbound::MESSAGE_FAILED,
            "Your send failed (to the sending socket).",
            s.of::<MessageFailed>(),
        ),
        (
            outbound::MESSAGE_RECEIVED,
            "A new message in a conversation you are in.",
            s.of::<MessageReceived>(),
        ),
        (
            outbound::READ_RECEIPT_RECEIVED,
            "A participant's read marker moved.",
            s.of::<ReadReceiptReceived>(),
        ),
        (
            outbound::TYPING_INDICATOR,
            "Someone started or stopped typing.",
            s.of::<TypingIndicator>(),
        ),
        (
            outbound::PRESENCE_CHANGED,
            "A user's presence across devices changed.",
            s.of::<PresenceChanged>(),
        ),
        (
            outbound::USER_BLOCKED,
            "You blocked someone (every device of yours).",
            s.of::<BlockEntry>(),
        ),
        (
            outbound::USER_UNBLOCKED,
            "You lifted a block (every device of yours).",
            s.of::<BlockEntry>(),
        ),
        (
            outbound::CONVERSATION_MUTED,
            "You muted a conversation (every device of yours).",
            s.of::<MuteChange>(),
        ),
        (
            outbound::CONVERSATION_UNMUTED,
            "You unmuted a conversation (every device of yours).",
            s.of::<MuteChange>(),
        ),
        (
            outbound::UNREAD_COUNT_UPDATED,
            "Your unread count of a conversation changed.",
            s.of::<UnreadCountUpdated>(),
        ),
        (
            outbound::CONVERSATION_JOINED,
            "You became a member of a conversation (every device of yours).",
            s.of::<ConversationJoined>(),
        ),
        (
            outbound::CONVERSATION_LEFT,
            "You were removed from a conversation, or left it (every device of yours).",
            s.of::<ConversationLeft>(),
        ),
        (
            outbound::MEMBER_ADDED,
            "Members were added to a group you are in.",
            s.of::<MemberAdded>(),
        ),
        (
            outbound::MEMBER_REMOVED,
            "A member was removed from a group you are in, or left it.",
            s.of::<MemberRemoved>(),
        ),
        (
            outbound::MEMBER_ROLE_CHANGED,
            "A member's role changed in a group you are in.",
            s.of::<MemberRoleChanged>(),
        ),
        (
            outbound::CONVERSATION_UPDATED,
            "A group you are in was renamed.",
            s.of::<ConversationUpdated>(),
        ),
        (
            outbound::SOCKET_PONG,
            "The answer to socket:ping.",
            s.of::<Pong>(),
        ),
        (
            outbound::SYNC_HINT,
            "This node may have missed live events (Redis outage, overflow, pause): the heads \
             of your conversations, to fetch what you lack by history.",
            s.of::<SyncHint>(),
        ),
    ];
    let error_payload = s.of::<ErrorPayload>();
    let handshake = s.of::<HandshakeAuth>();
    for (event, summary, payload, ack) in client {
        doc.receive(event, summary, payload, ack);
    }
    for (event, summary, payload) in server {
        doc.send(event, summary, payload);
    }
    for code in ErrorCode::ALL {
        let summary = format!("A client event failed with `{code}` (also in its ack).");
        doc.send(&outbound::error(code), &summary, error_payload.clone());
    }
    json!({
        "asyncapi": "3.1.0",
        "info": {
            "title": "Chat gateway Socket.IO API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Socket.IO v4 (protocol v5) events of the real-time chat gateway, on the `/` namespace at path `/socket.io/`. Every client event may carry an ack and gets exactly one answer: its success payload, or `{error: {code, message, retryAfter?}}`; a failure is also emitted as `error:{code}`. The handshake's `auth` object is `HandshakeAuth` (`token`, else the `?token=` query); a refused handshake is a `connect_error` whose message is `token_missing`, `token_invalid`, `token_expired`, `token_revoked`, `validation`, `unavailable` or `origin_not_allowed`. Times are RFC 3339 UTC with milliseconds.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "gateway": {
                "host": "127.0.0.1:3000",
                "pathname": "/socket.io/",
                "protocol": "ws",
                "description": "Socket.IO over WebSocket (or HTTP long-polling). CHAT_BIND sets the address.",
                "security": [{ "$ref": "#/components/securitySchemes/handshakeToken" }],
            },
        },
        "channels": {
            CHANNEL: {
                "address": "/",
                "title": "The `/` namespace",
                "messages": doc.messages,
            },
        },
        "operations": doc.operations,
        "components": {
            "schemas": doc.schemas.0,
            "securitySchemes": {
                "handshakeToken": {
                    "type": "httpApiKey",
                    "name": "token",
                    "in": "query",
                    "description": "A JWT, preferably in the handshake `auth.token` (schema HandshakeAuth), else in the `token` query parameter.",
                },
            },
            "x-handshake-auth": handshake,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_keys_are_camel_case() {
        assert_eq!(key("message:send"), "messageSend");
        assert_eq!(key("read_receipt:received"), "readReceiptReceived");
        assert_eq!(key("error:rate_limit_exceeded"), "errorRateLimitExceeded");
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("\"$ref\":\"#/") {
            let path = &rest[at + 9..];
            let end = path.find('"').unwrap_or(path.len());
            let pointer = &path[..end];
            assert!(doc.pointer(pointer).is_some(), "unresolved {pointer}");
            rest = &path[end..];
        }
        assert!(doc.pointer("/operations/messageSend/reply").is_some());
        assert!(doc.pointer("/components/schemas/MessageReceived").is_some());
    }
}
