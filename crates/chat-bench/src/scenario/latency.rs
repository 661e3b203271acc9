//! `latency`: users in one-to-one pairs send at a fixed total rate while idle connections sit
//! attached; ack and end-to-end percentiles, and CPU seconds per process.

use std::{io::Write, sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Env, Scenario};
use crate::{
    fleet::{self, Client, ConnectData, ConnectPlan, ConnectResult, Pair},
    load::{self, Window, WindowData, WindowResult},
    procfs::{CpuUse, Snapshot},
    report::{self, Goal},
    shard::Coordinator,
    sio::{Endpoint, Observation},
};

/// The `latency` scenario's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyConfig {
    /// One-to-one pairs sending.
    pub pairs: usize,
    /// Messages per second, all pairs together.
    pub rate: f64,
    /// Idle connections attached.
    pub idle: usize,
    /// Seconds of sending.
    pub duration_secs: f64,
    /// Seconds at the start not measured.
    pub warmup_secs: f64,
    /// Seconds to wait for the last acks and receipts.
    pub drain_secs: f64,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            pairs: 500,
            rate: 1000.0,
            idle: 10_000,
            duration_secs: 30.0,
            warmup_secs: 5.0,
            drain_secs: 5.0,
        }
    }
}

impl LatencyConfig {
    /// The sending window at `rate` (this shard's part).
    #[must_use]
    pub fn window(&self, rate: f64) -> Window {
        Window {
            rate,
            duration: Duration::from_secs_f64(self.duration_secs),
            warmup: Duration::from_secs_f64(self.warmup_secs.min(self.duration_secs)),
            drain: Duration::from_secs_f64(self.drain_secs),
        }
    }
}

/// A set of connected clients, some of them in sending pairs, and their observations.
#[derive(Debug)]
pub struct Rig {
    /// Every client (pairs first, then idle ones).
    pub clients: Vec<Client>,
    /// The pairs.
    pub pairs: Vec<Pair>,
    observer: mpsc::UnboundedSender<Observation>,
    observations: mpsc::UnboundedReceiver<Observation>,
    concurrency: usize,
    /// How the first connect went.
    pub connect: ConnectData,
}

impl Rig {
    /// Mints `pairs` pairs (side `a` on `a`, `b` on `b`) and `idle` idle users spread over
    /// `idle_on`, creates the conversations, and connects everyone.
    ///
    /// # Errors
    /// Minting or a REST call failed.
    pub async fn build(
        env: &Env,
        pairs: usize,
        a: &Arc<Endpoint>,
        b: &Arc<Endpoint>,
        idle: usize,
        idle_on: &[Arc<Endpoint>],
    ) -> anyhow::Result<Self> {
        let mut clients = Vec::new();
        let pairs = fleet::make_pairs(&env.ctx, pairs, a, b, &mut clients).await?;
        fleet::make_idle(&env.ctx, idle, idle_on, &mut clients)?;
        let (observer, observations) = mpsc::unbounded_channel();
        let mut rig = Self {
            clients,
            pairs,
            observer,
            observations,
            concurrency: env.ctx.connect_concurrency,
            connect: ConnectData::default(),
        };
        rig.connect = rig.connect_missing(None, Duration::ZERO).await;
        Ok(rig)
    }

    /// Connects every client that is not connected (bounded concurrency, retries for up to
    /// 60 s); in a storm (`storm_from`: the drop) all at once, after a random `jitter` each,
    /// times measured from the drop.
    pub async fn connect_missing(
        &mut self,
        storm_from: Option<std::time::Instant>,
        jitter: Duration,
    ) -> ConnectData {
        // In a storm every client tries at once, as real clients would.
        let concurrency = if storm_from.is_some() {
            self.clients.len()
        } else {
            self.concurrency
        };
        let plan = ConnectPlan {
            concurrency,
            deadline: std::time::Instant::now() + Duration::from_secs(60),
            measure_from: storm_from,
            jitter,
        };
        fleet::connect_all(&mut self.clients, plan, Some(&self.observer)).await
    }

    /// Drops every connection at once (no close handshake); the instant of the drop.
    pub fn drop_all(&mut self) -> std::time::Instant {
        let at = std::time::Instant::now();
        for client in &mut self.clients {
            client.drop_connection();
        }
        at
    }

    /// Sends one window over the pairs.
    pub async fn window(&mut self, window: Window) -> WindowData {
        // Observations left over from before (a previous window, a storm) are dropped.
        while self.observations.try_recv().is_ok() {}
        let targets = load::targets(&self.pairs, &self.clients);
        load::run_window(&targets, &mut self.observations, window).await
    }
}

/// What one shard of `latency` reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyShard {
    /// The initial connect.
    pub connect: ConnectData,
    /// The window.
    pub window: WindowData,
}

/// The merged `latency` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyResult {
    /// The initial connect.
    pub connect: ConnectResult,
    /// The window.
    pub window: WindowResult,
    /// CPU seconds per process over the window.
    pub cpu: Option<CpuUse>,
    /// Gateway CPU microseconds per message sent.
    pub gateway_cpu_us_per_msg: Option<f64>,
    /// The goals.
    pub goals: Vec<Goal>,
}

/// The `latency` scenario.
#[derive(Debug, Clone, Default)]
pub struct Latency(pub LatencyConfig);

/// Runs the window of `config` on a rig, between the points `{prefix}start` and `{prefix}end`.
pub(crate) async fn measured_window(
    rig: &mut Rig,
    config: &LatencyConfig,
    rate: f64,
    coord: &Coordinator,
    prefix: &str,
) -> anyhow::Result<WindowData> {
    coord.point(&format!("{prefix}start")).await?;
    let window = rig.window(config.window(rate)).await;
    coord.point(&format!("{prefix}end")).await?;
    Ok(window)
}

/// Merges windows and reads CPU between `{prefix}start` and `{prefix}end`.
pub(crate) fn summarize_window(
    connect: ConnectData,
    windows: &[WindowData],
    snapshots: &[Snapshot],
    prefix: &str,
) -> LatencyResult {
    let mut merged = WindowData::default();
    for w in windows {
        merged.merge(w);
    }
    let window = merged.result();
    let cpu = CpuUse::between_labels(
        snapshots,
        &format!("{prefix}start"),
        &format!("{prefix}end"),
    );
    let gateway_cpu_us_per_msg = cpu
        .as_ref()
        .and_then(|c| c.gateway_s)
        .filter(|_| merged.sent > 0)
        .map(|s| {
            #[expect(clippy::cast_precision_loss, reason = "message counts are small")]
            let per = s * 1e6 / merged.sent as f64;
            per.round()
        });
    LatencyResult {
        connect: connect.result(),
        window,
        cpu,
        gateway_cpu_us_per_msg,
        goals: Vec::new(),
    }
}

impl Scenario for Latency {
    type Shard = LatencyShard;
    type Result = LatencyResult;

    fn name(&self) -> &'static str {
        "latency"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    async fn run_shard(&self, env: &Env, coord: &Coordinator) -> anyhow::Result<LatencyShard> {
        let c = &self.0;
        let endpoint = Env::endpoint(&env.url).await?;
        let mut rig = Rig::build(
            env,
            env.shard.share(c.pairs),
            &endpoint,
            &endpoint,
            env.shard.share(c.idle),
            std::slice::from_ref(&endpoint),
        )
        .await?;
        let window = measured_window(&mut rig, c, env.shard.rate(c.rate), coord, "").await?;
        Ok(LatencyShard {
            connect: rig.connect.clone(),
            window,
        })
    }

    fn summarize(&self, shards: Vec<LatencyShard>, snapshots: &[Snapshot]) -> LatencyResult {
        let mut connect = ConnectData::default();
        for s in &shards {
            connect.merge(&s.connect);
        }
        let windows: Vec<WindowData> = shards.into_iter().map(|s| s.window).collect();
        let mut result = summarize_window(connect, &windows, snapshots, "");
        let e2e = result.window.e2e;
        let full_size = self.0.rate >= 1000.0 && self.0.idle >= 10_000;
        let note = if full_size {
            ""
        } else {
            " (not at the goal's size)"
        };
        result.goals = vec![
            Goal::at_most("e2e p50", e2e.p50_ms, 5.0, "ms", note),
            Goal::at_most("e2e p99", e2e.p99_ms, 20.0, "ms", note),
            Goal::at_most_count("errors", result.window.errors.total, 0),
        ];
        result
    }

    fn print(&self, r: &LatencyResult, out: &mut dyn Write) -> std::io::Result<()> {
        let c = &self.0;
        writeln!(
            out,
            "latency: {} pairs at {} msg/s, {} idle connections, {} s ({} s warm-up)",
            c.pairs, c.rate, c.idle, c.duration_secs, c.warmup_secs
        )?;
        report::print_connect(out, "connect", &r.connect)?;
        report::print_window(out, &r.window)?;
        report::print_cpu(out, r.cpu.as_ref(), r.gateway_cpu_us_per_msg)?;
        report::print_goals(out, &r.goals)
    }
}
