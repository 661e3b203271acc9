//! Extracting payloads and answering events: every event that carries an ack gets exactly one
//! answer, and every failure also goes out as `error:{code}` (and `message:failed` for sends).

use std::{convert::Infallible, sync::Arc, time::Instant};

use chat_domain::Timestamp;
use chat_protocol::{
    ErrorPayload, Failure, FailureContext, MessageFailed,
    events::{inbound, outbound},
    time,
};
use serde::Serialize;
use serde_json::Value;
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, SocketRef, TryData},
    handler::{FromMessageParts, Value as RawValue},
    socket::Socket,
};

use crate::metrics;

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

/// Answers one event: the ack (success payload or `{error}`), and on failure `error:{code}`
/// (plus `message:failed` for sends) to the socket.
pub(crate) fn answer<A: Adapter, T: Serialize>(
    s: &SocketRef<A>,
    ack: AckSender<A>,
    event: &'static str,
    context: &FailureContext,
    result: Result<T, Failure>,
    started: Instant,
    now: Timestamp,
) {
    match result {
        Ok(value) => {
            let _ = ack.send(&value);
            metrics::event_answered(event, "ok", started.elapsed());
        }
        Err(failure) => {
            let _ = ack.send(&failure.ack());
            let payload = ErrorPayload::new(&failure, event, context, time::format(now));
            let _ = s.emit(outbound::error(failure.code), &payload);
            if event == inbound::MESSAGE_SEND {
                let _ = s.emit(
                    outbound::MESSAGE_FAILED,
                    &MessageFailed::new(&failure, context),
                );
            }
            metrics::event_answered(event, failure.code.as_str(), started.elapsed());
        }
    }
}
