//! The open-loop sender: messages are scheduled by the clock at a fixed rate over a set of
//! one-to-one pairs (alternating direction), never waiting for acks, and every latency is
//! measured from the message's *intended* send time, so a stalled server shows as latency
//! instead of as a slower offered rate (no coordinated omission).
//!
//! Two latencies per message: *ack* (intended send → the `message:send` ack, which the
//! contract sends only after the commit) and *end to end* (intended send → the peer's
//! `message:received`). Errors are counted, never hidden: failure acks by code, acks that never
//! came, messages acknowledged but never received, and connections that closed.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::{
    fleet::{Client, Pair},
    hist::{HistogramData, Latencies, Summary},
    sio::{Command, Observation, content_for},
};

/// One sending window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Messages per second, all pairs together.
    pub rate: f64,
    /// How long messages are sent.
    pub duration: Duration,
    /// Messages meant to be sent before this much time has passed are not measured.
    pub warmup: Duration,
    /// How long to wait after the last send for outstanding acks and receipts.
    pub drain: Duration,
}

/// What one sender target is: the conversation and both sides' command queues.
#[derive(Debug, Clone)]
pub struct Target {
    conversation: Arc<str>,
    a: mpsc::UnboundedSender<Command>,
    b: mpsc::UnboundedSender<Command>,
}

/// The send targets of `pairs` whose clients are connected.
#[must_use]
pub fn targets(pairs: &[Pair], clients: &[Client]) -> Vec<Target> {
    pairs
        .iter()
        .filter_map(|p| {
            let a = clients.get(p.a)?.handle.as_ref()?.commands();
            let b = clients.get(p.b)?.handle.as_ref()?.commands();
            Some(Target {
                conversation: p.conversation.clone(),
                a,
                b,
            })
        })
        .collect()
}

/// The raw outcome of a window (histograms as data, so shards can be merged).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WindowData {
    /// Offered rate, messages per second.
    pub offered_rate: f64,
    /// Measured seconds (duration less warm-up).
    pub measured_s: f64,
    /// Messages sent in all (warm-up included).
    pub sent: u64,
    /// Messages sent in the measured part.
    pub measured: u64,
    /// Success acks of measured messages.
    pub ack_ok: u64,
    /// Failure acks of measured messages, by code.
    pub ack_errors: BTreeMap<String, u64>,
    /// Measured messages without any ack by the end of the drain.
    pub ack_missing: u64,
    /// `message:received` of measured messages seen by the peer.
    pub received: u64,
    /// Measured messages acknowledged but not received by the peer by the end of the drain.
    pub not_received: u64,
    /// Connections that closed during the window, by reason.
    pub closed: BTreeMap<String, u64>,
    /// Ack latencies.
    pub ack: HistogramData,
    /// End-to-end latencies.
    pub e2e: HistogramData,
}

impl WindowData {
    /// Adds another shard's window (offered rates add up; measured time is the longest).
    pub fn merge(&mut self, o: &Self) {
        self.offered_rate += o.offered_rate;
        self.measured_s = self.measured_s.max(o.measured_s);
        self.sent += o.sent;
        self.measured += o.measured;
        self.ack_ok += o.ack_ok;
        self.ack_missing += o.ack_missing;
        self.received += o.received;
        self.not_received += o.not_received;
        for (k, v) in &o.ack_errors {
            *self.ack_errors.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.closed {
            *self.closed.entry(k.clone()).or_default() += v;
        }
        let mut ack = Latencies::from_data(&self.ack);
        ack.merge(&Latencies::from_data(&o.ack));
        self.ack = ack.to_data();
        let mut e2e = Latencies::from_data(&self.e2e);
        e2e.merge(&Latencies::from_data(&o.e2e));
        self.e2e = e2e.to_data();
    }

    /// The summary form.
    #[must_use]
    pub fn result(&self) -> WindowResult {
        #[expect(clippy::cast_precision_loss, reason = "message counts are small")]
        let achieved_rate = if self.measured_s > 0.0 {
            self.ack_ok as f64 / self.measured_s
        } else {
            0.0
        };
        WindowResult {
            offered_rate: self.offered_rate,
            achieved_rate: (achieved_rate * 10.0).round() / 10.0,
            sent: self.sent,
            measured: self.measured,
            ack_ok: self.ack_ok,
            received: self.received,
            errors: Errors {
                total: self.ack_errors.values().sum::<u64>()
                    + self.ack_missing
                    + self.not_received
                    + self.closed.values().sum::<u64>(),
                ack_errors: self.ack_errors.clone(),
                ack_missing: self.ack_missing,
                not_received: self.not_received,
                closed: self.closed.clone(),
            },
            ack: Latencies::from_data(&self.ack).summary(),
            e2e: Latencies::from_data(&self.e2e).summary(),
        }
    }
}

/// Every kind of error of a window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Errors {
    /// All of them.
    pub total: u64,
    /// Failure acks by code.
    pub ack_errors: BTreeMap<String, u64>,
    /// No ack at all.
    pub ack_missing: u64,
    /// Acknowledged, never received by the peer.
    pub not_received: u64,
    /// Connections closed, by reason.
    pub closed: BTreeMap<String, u64>,
}

/// A window's outcome, summarised.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WindowResult {
    /// Offered messages per second.
    pub offered_rate: f64,
    /// Persisted (success-acknowledged) messages per second in the measured part.
    pub achieved_rate: f64,
    /// Messages sent (warm-up included).
    pub sent: u64,
    /// Messages measured.
    pub measured: u64,
    /// Success acks among the measured.
    pub ack_ok: u64,
    /// Receipts among the measured.
    pub received: u64,
    /// Errors.
    pub errors: Errors,
    /// Send → ack.
    pub ack: Summary,
    /// Send → the peer's `message:received`.
    pub e2e: Summary,
}

/// Sends at `window.rate` over `targets` (the first sender of pair `k % n`, alternating sides
/// every round) and collects what `observations` report until every measured message has its
/// ack and receipt or the drain has passed.
pub async fn run_window(
    targets: &[Target],
    observations: &mut mpsc::UnboundedReceiver<Observation>,
    window: Window,
) -> WindowData {
    let start = Instant::now() + Duration::from_millis(50);
    let measure_from = start + window.warmup;
    let end = start + window.duration;
    let mut data = WindowData {
        offered_rate: window.rate,
        measured_s: window.duration.saturating_sub(window.warmup).as_secs_f64(),
        ..WindowData::default()
    };
    if targets.is_empty() || window.rate <= 0.0 {
        return data;
    }
    let sender = {
        let targets = targets.to_vec();
        tokio::spawn(schedule(targets, window.rate, start, end, measure_from))
    };
    let mut sender = Some(sender);
    let mut sent_measured: Option<u64> = None;
    let mut ack = Latencies::new();
    let mut e2e = Latencies::new();
    let mut acks_seen: u64 = 0;
    let drain_deadline = tokio::time::Instant::from_std(end + window.drain);
    loop {
        if let Some(measured) = sent_measured
            && acks_seen >= measured
            && data.received >= data.ack_ok
        {
            break;
        }
        tokio::select! {
            joined = async {
                match sender.as_mut() {
                    Some(handle) => handle.await,
                    None => std::future::pending().await,
                }
            }, if sender.is_some() => {
                sender = None;
                let (sent, measured) = joined.unwrap_or((0, 0));
                data.sent = sent;
                data.measured = measured;
                sent_measured = Some(measured);
            }
            observation = observations.recv() => {
                let Some(observation) = observation else { break };
                match observation {
                    Observation::Ack { intended, at, error, .. } => {
                        if intended < measure_from || intended >= end {
                            continue;
                        }
                        acks_seen += 1;
                        match error {
                            None => {
                                data.ack_ok += 1;
                                ack.record(at.saturating_duration_since(intended));
                            }
                            Some(code) => *data.ack_errors.entry(code).or_default() += 1,
                        }
                    }
                    Observation::Received { intended, at, .. } => {
                        if intended < measure_from || intended >= end {
                            continue;
                        }
                        data.received += 1;
                        e2e.record(at.saturating_duration_since(intended));
                    }
                    Observation::Closed { reason, .. } => {
                        *data.closed.entry(reason).or_default() += 1;
                    }
                }
            }
            () = tokio::time::sleep_until(drain_deadline) => break,
        }
    }
    if let Some(sender) = sender {
        // The drain passed before the sender finished (it could not keep up).
        sender.abort();
    }
    let measured = sent_measured.unwrap_or(acks_seen);
    data.measured = data.measured.max(measured);
    data.ack_missing = data.measured.saturating_sub(acks_seen);
    data.not_received = data.ack_ok.saturating_sub(data.received);
    data.ack = ack.to_data();
    data.e2e = e2e.to_data();
    data
}

/// Sends on schedule; (messages sent, of which measured).
async fn schedule(
    targets: Vec<Target>,
    rate: f64,
    start: Instant,
    end: Instant,
    measure_from: Instant,
) -> (u64, u64) {
    let n = targets.len() as u64;
    let mut sent = 0u64;
    let mut measured = 0u64;
    for k in 0u64.. {
        #[expect(clippy::cast_precision_loss, reason = "message counts are small")]
        let offset = Duration::from_secs_f64(k as f64 / rate);
        let intended = start + offset;
        if intended >= end {
            break;
        }
        if intended > Instant::now() {
            tokio::time::sleep_until(intended.into()).await;
        }
        let Some(target) = usize::try_from(k % n).ok().and_then(|i| targets.get(i)) else {
            break;
        };
        let queue = if (k / n).is_multiple_of(2) {
            &target.a
        } else {
            &target.b
        };
        let payload = format!(
            "{{\"conversationId\":\"{}\",\"messageId\":\"{}\",\"content\":\"{}\"}}",
            target.conversation,
            Uuid::new_v4(),
            content_for(intended)
        );
        if queue.send(Command::Send { intended, payload }).is_ok() {
            sent += 1;
            if intended >= measure_from {
                measured += 1;
            }
        }
    }
    (sent, measured)
}
