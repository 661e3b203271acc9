//! Extracting payloads and answering events: every event that carries an ack gets exactly one
//! answer, and every failure also goes out as `error:{code}` (and `message:failed` for sends).

use std::{convert::Infallible, sync::Arc, time::Instant};

use chat_domain::Timestamp;
use chat_protocol::{
    ErrorPayload, Failure, FailureAck, FailureContext, MessageFailed,
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

/// Which event is answered: its name, and the label its metrics carry (the name for the
/// contract's events, a fixed word for any other, so that clients cannot make new series).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answering<'a> {
    pub(crate) name: &'a str,
    pub(crate) label: &'static str,
}

impl From<&'static str> for Answering<'static> {
    fn from(event: &'static str) -> Self {
        Self {
            name: event,
            label: event,
        }
    }
}

/// Answers one event: the ack (success payload or `{error}`), and on failure `error:{code}`
/// (plus `message:failed` for sends) to the socket.
pub(crate) fn answer<'a, A: Adapter, T: Serialize>(
    s: &SocketRef<A>,
    ack: AckSender<A>,
    event: impl Into<Answering<'a>>,
    context: &FailureContext,
    result: Result<T, Failure>,
    started: Instant,
    now: Timestamp,
) {
    let Answering { name, label } = event.into();
    match result {
        Ok(value) => {
            let _ = ack.send(&value);
            metrics::event_answered(label, "ok", started.elapsed());
        }
        Err(failure) => {
            let frames = render_failure(&failure, name, context, now);
            let _ = ack.send(&frames.ack);
            let _ = s.emit(frames.event, &frames.payload);
            if let Some(failed) = &frames.message_failed {
                let _ = s.emit(outbound::MESSAGE_FAILED, failed);
            }
            metrics::event_answered(label, failure.code.as_str(), started.elapsed());
        }
    }
}

/// What a failed event sends on the socket: its ack, `error:{code}` with the `ErrorPayload`,
/// and for `message:send` also `message:failed`.
#[derive(Debug)]
pub struct FailureFrames {
    /// The ack: `{error: {code, message, retryAfter?, reason?}}`.
    pub ack: FailureAck,
    /// `error:{code}`.
    pub event: String,
    /// Its payload.
    pub payload: ErrorPayload,
    /// `message:failed` (sends only).
    pub message_failed: Option<MessageFailed>,
}

/// How `failure` of `event` is rendered on this transport.
#[must_use]
pub fn render_failure(
    failure: &Failure,
    event: &str,
    context: &FailureContext,
    now: Timestamp,
) -> FailureFrames {
    FailureFrames {
        ack: failure.ack(),
        event: outbound::error(failure.code),
        payload: ErrorPayload::new(failure, event, context, time::format(now)),
        message_failed: (event == inbound::MESSAGE_SEND)
            .then(|| MessageFailed::new(failure, context)),
    }
}
