//! Every socket payload and REST body parser, and its check into domain values: any bytes give
//! a value or a `validation` failure, never a panic.
#![no_main]

use chat_domain::ContentPolicy;
use chat_protocol::{
    ErrorCode,
    inbound::{
        AuthRefresh, BlockRequest, BlockUser, ConversationRef, CreateOneToOne, MessageRead,
        MessageSend, MuteConversation, MuteRequest, PresenceUpdate, ReadRequest, SocketPing,
        parse,
    },
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A failure from a parser must be `validation`.
fn refused<T>(r: Result<T, chat_protocol::Failure>) {
    if let Err(f) = r {
        assert_eq!(f.code, ErrorCode::Validation, "{}", f.message);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let policy = ContentPolicy::default();
    refused(parse::<MessageSend>(value.clone()).and_then(|p| p.validate(&policy)));
    refused(parse::<ConversationRef>(value.clone()).and_then(|p| p.validate()));
    refused(parse::<MessageRead>(value.clone()).and_then(|p| p.validate()));
    refused(parse::<ReadRequest>(value.clone()).and_then(|p| p.validate()));
    refused(parse::<PresenceUpdate>(value.clone()).and_then(|p| p.validate()));
    refused(parse::<BlockUser>(value.clone()).and_then(|p| p.validate()));
    refused(parse::<BlockRequest>(value.clone()).and_then(|p| p.validate()));
    refused(parse::<MuteConversation>(value.clone()).and_then(|p| p.validate()));
    refused(parse::<MuteRequest>(value.clone()).and_then(|p| p.validate()));
    refused(parse::<SocketPing>(value.clone()));
    refused(parse::<AuthRefresh>(value.clone()));
    refused(parse::<CreateOneToOne>(value));
});
