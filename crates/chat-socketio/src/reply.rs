//! Extracting payloads and answering events: every event that carries an ack gets exactly one
//! answer, and every failure also goes out as `error:{code}`.

use std::{convert::Infallible, sync::Arc, time::Instant};

use serde::Serialize;
use serde_json::Value;
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, SocketRef, TryData},
    handler::{FromMessageParts, Value as RawValue},
    socket::Socket,
};

use crate::{error::Failure, metrics, names::outbound, wire_time};

/// An event's payload as JSON, or the `validation` failure that it is not one (a binary
/// attachment, or nothing that parses). Never makes socketioxide drop the event.
#[derive(Debug)]
pub(crate) struct Payload(pub(crate) Result<Value, Failure>);

impl<A: Adapter> FromMessageParts<A> for Payload {
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        v: &mut RawValue,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        Ok(Self(read_payload(s, v, ack_id)))
    }
}

pub(crate) fn read_payload<A: Adapter>(
    s: &Arc<Socket<A>>,
    v: &mut RawValue,
    ack_id: &Option<i64>,
) -> Result<Value, Failure> {
    let has_binary = match v {
        RawValue::Str(_, Some(bins)) => !bins.is_empty(),
        RawValue::Str(_, None) => false,
        RawValue::Bytes(_) => true,
    };
    if has_binary {
        return Err(Failure::validation("binary attachments are not accepted"));
    }
    match TryData::<Value>::from_message_parts(s, v, ack_id) {
        Ok(TryData(Ok(value))) => Ok(value),
        Ok(TryData(Err(e))) => Err(Failure::validation(format!(
            "the payload does not parse: {e}"
        ))),
        Err(never) => match never {},
    }
}

/// `ErrorPayload`, emitted as `error:{code}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorPayload<'a> {
    code: &'static str,
    message: &'a str,
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    timestamp: String,
}

/// `message:failed`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FailedPayload<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation_id: Option<&'a str>,
    status: &'static str,
    error: crate::error::FailureBody,
}

/// The ids a failing payload named, for the error event (best effort, before validation).
#[derive(Debug, Default, Clone)]
pub(crate) struct Context {
    pub(crate) conversation_id: Option<String>,
    pub(crate) message_id: Option<String>,
}

impl Context {
    pub(crate) fn of(payload: &Result<Value, Failure>) -> Self {
        let field = |name: &str| {
            payload
                .as_ref()
                .ok()
                .and_then(|v| v.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            conversation_id: field("conversationId"),
            message_id: field("messageId"),
        }
    }
}

/// Answers one event: the ack (success payload or `{error}`), and on failure `error:{code}`
/// (plus `message:failed` for sends) to the socket.
pub(crate) fn answer<A: Adapter, T: Serialize>(
    s: &SocketRef<A>,
    ack: AckSender<A>,
    event: &'static str,
    context: &Context,
    result: Result<T, Failure>,
    started: Instant,
    now: chat_domain::Timestamp,
) {
    match result {
        Ok(value) => {
            let _ = ack.send(&value);
            metrics::event_answered(event, "ok", started.elapsed());
        }
        Err(failure) => {
            let _ = ack.send(&failure.ack());
            let payload = ErrorPayload {
                code: failure.code.as_str(),
                message: &failure.message,
                event,
                conversation_id: context.conversation_id.as_deref(),
                message_id: context.message_id.as_deref(),
                retry_after: failure.retry_after,
                reason: failure.reason,
                timestamp: wire_time::format(now),
            };
            let _ = s.emit(outbound::error(failure.code.as_str()), &payload);
            if event == crate::names::inbound::MESSAGE_SEND {
                let failed = FailedPayload {
                    message_id: context.message_id.as_deref(),
                    conversation_id: context.conversation_id.as_deref(),
                    status: "failed",
                    error: failure.body(),
                };
                let _ = s.emit(outbound::MESSAGE_FAILED, &failed);
            }
            metrics::event_answered(event, failure.code.as_str(), started.elapsed());
        }
    }
}
