//! Figures for `/metrics`: connected sockets, events by name and outcome, ack latency, messages
//! persisted. Recorded through the `metrics` facade; the gateway installs the exporter.

use std::time::Duration;

/// A socket connected (+1) or left (-1).
pub(crate) fn socket_connected(delta: f64) {
    metrics::gauge!("chat_socket_connected").increment(delta);
}

/// One event answered, with its outcome (`ok` or an error code) and ack latency.
pub(crate) fn event_answered(event: &'static str, outcome: &'static str, latency: Duration) {
    metrics::counter!("chat_socket_events_total", "event" => event, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("chat_socket_ack_latency_seconds", "event" => event)
        .record(latency.as_secs_f64());
}

/// A message was committed (not a duplicate).
pub(crate) fn message_persisted() {
    metrics::counter!("chat_messages_persisted_total").increment(1);
}
