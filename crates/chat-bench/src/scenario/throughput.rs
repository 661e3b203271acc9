//! `throughput`: steps the offered rate up until p99 passes the limit, errors appear or the
//! server stops keeping up; the highest sustained persisted rate and the gateway's CPU per
//! message at each step. One process (each step's verdict decides the next).

use std::{io::Write, time::Duration};

use serde::{Deserialize, Serialize};

use super::{Env, Scenario, latency::Rig};
use crate::{
    fleet::{ConnectData, ConnectResult},
    load::{Window, WindowData, WindowResult},
    procfs::{CpuUse, Snapshot},
    report::{self, Goal},
    shard::Coordinator,
};

/// The `throughput` scenario's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThroughputConfig {
    /// One-to-one pairs sending.
    pub pairs: usize,
    /// Idle connections attached.
    pub idle: usize,
    /// Offered rates, in order (messages per second).
    pub rates: Vec<f64>,
    /// Seconds per step.
    pub step_secs: f64,
    /// Seconds at the start of each step not measured.
    pub warmup_secs: f64,
    /// Seconds to wait for the last acks and receipts of a step.
    pub drain_secs: f64,
    /// A step passes while ack and end-to-end p99 stay at or below this.
    pub p99_limit_ms: f64,
    /// … and the persisted rate is at least this share of the offered one.
    pub min_sustained: f64,
    /// Seconds of quiet between steps.
    pub pause_secs: f64,
}

impl Default for ThroughputConfig {
    fn default() -> Self {
        Self {
            pairs: 500,
            idle: 0,
            rates: vec![
                500.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0, 7000.0, 8000.0, 10000.0,
                12000.0, 15000.0, 20000.0,
            ],
            step_secs: 15.0,
            warmup_secs: 3.0,
            drain_secs: 5.0,
            p99_limit_ms: 50.0,
            min_sustained: 0.95,
            pause_secs: 2.0,
        }
    }
}

/// What `throughput` reports (one shard only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThroughputShard {
    /// The initial connect.
    pub connect: ConnectData,
    /// One window per step run.
    pub steps: Vec<WindowData>,
}

/// One step of the result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// The window.
    pub window: WindowResult,
    /// CPU over the step.
    pub cpu: Option<CpuUse>,
    /// Gateway CPU microseconds per message.
    pub gateway_cpu_us_per_msg: Option<f64>,
    /// Whether the step met the limits.
    pub passed: bool,
    /// Why not.
    pub stopped_because: Option<String>,
}

/// The `throughput` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThroughputResult {
    /// The initial connect.
    pub connect: ConnectResult,
    /// Every step run.
    pub steps: Vec<Step>,
    /// The highest persisted rate of a passing step.
    pub max_sustained_rate: f64,
    /// The offered rate of that step.
    pub max_sustained_offered: f64,
    /// The goals.
    pub goals: Vec<Goal>,
}

/// The `throughput` scenario.
#[derive(Debug, Clone, Default)]
pub struct Throughput(pub ThroughputConfig);

impl ThroughputConfig {
    /// Why the step `w` fails the limits, if it does.
    #[must_use]
    pub fn verdict(&self, w: &WindowResult) -> Option<String> {
        if w.errors.total > 0 {
            return Some(format!("{} errors", w.errors.total));
        }
        if w.ack.p99_ms > self.p99_limit_ms {
            return Some(format!("ack p99 {:.1} ms", w.ack.p99_ms));
        }
        if w.e2e.p99_ms > self.p99_limit_ms {
            return Some(format!("e2e p99 {:.1} ms", w.e2e.p99_ms));
        }
        if w.achieved_rate < w.offered_rate * self.min_sustained {
            return Some(format!(
                "persisted {:.0} of {:.0} msg/s",
                w.achieved_rate, w.offered_rate
            ));
        }
        None
    }
}

impl Scenario for Throughput {
    type Shard = ThroughputShard;
    type Result = ThroughputResult;

    fn name(&self) -> &'static str {
        "throughput"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn shardable(&self) -> bool {
        false
    }

    async fn run_shard(&self, env: &Env, coord: &Coordinator) -> anyhow::Result<ThroughputShard> {
        let c = &self.0;
        let endpoint = Env::endpoint(&env.url).await?;
        let mut rig = Rig::build(
            env,
            c.pairs,
            &endpoint,
            &endpoint,
            c.idle,
            std::slice::from_ref(&endpoint),
        )
        .await?;
        let mut steps = Vec::new();
        for (k, rate) in c.rates.iter().enumerate() {
            coord.point(&format!("step{k}:start")).await?;
            let window = rig
                .window(Window {
                    rate: *rate,
                    duration: Duration::from_secs_f64(c.step_secs),
                    warmup: Duration::from_secs_f64(c.warmup_secs.min(c.step_secs)),
                    drain: Duration::from_secs_f64(c.drain_secs),
                })
                .await;
            coord.point(&format!("step{k}:end")).await?;
            let failed = c.verdict(&window.result());
            if !coord.is_child() {
                let mut out = std::io::stderr().lock();
                let _ = writeln!(
                    out,
                    "step {k}: offered {rate} msg/s -> persisted {:.0} msg/s, ack p99 {:.1} ms, e2e p99 {:.1} ms{}",
                    window.result().achieved_rate,
                    window.result().ack.p99_ms,
                    window.result().e2e.p99_ms,
                    failed
                        .as_deref()
                        .map(|w| format!(" (stop: {w})"))
                        .unwrap_or_default()
                );
            }
            steps.push(window);
            if failed.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_secs_f64(c.pause_secs)).await;
        }
        Ok(ThroughputShard {
            connect: rig.connect.clone(),
            steps,
        })
    }

    fn summarize(&self, shards: Vec<ThroughputShard>, snapshots: &[Snapshot]) -> ThroughputResult {
        let mut connect = ConnectData::default();
        let mut steps = Vec::new();
        for shard in shards {
            connect.merge(&shard.connect);
            for (k, data) in shard.steps.iter().enumerate() {
                let window = data.result();
                let cpu = CpuUse::between_labels(
                    snapshots,
                    &format!("step{k}:start"),
                    &format!("step{k}:end"),
                );
                let gateway_cpu_us_per_msg = cpu
                    .as_ref()
                    .and_then(|c| c.gateway_s)
                    .filter(|_| data.sent > 0)
                    .map(|s| {
                        #[expect(clippy::cast_precision_loss, reason = "message counts are small")]
                        let per = s * 1e6 / data.sent as f64;
                        per.round()
                    });
                let stopped_because = self.0.verdict(&window);
                steps.push(Step {
                    passed: stopped_because.is_none(),
                    stopped_because,
                    window,
                    cpu,
                    gateway_cpu_us_per_msg,
                });
            }
        }
        let best = steps
            .iter()
            .filter(|s| s.passed)
            .max_by(|a, b| a.window.achieved_rate.total_cmp(&b.window.achieved_rate));
        let max_sustained_rate = best.map_or(0.0, |s| s.window.achieved_rate);
        let max_sustained_offered = best.map_or(0.0, |s| s.window.offered_rate);
        let goals = vec![Goal::at_least(
            "persisted msg/s at p99 <= 50 ms",
            max_sustained_rate,
            5000.0,
            "msg/s",
            "",
        )];
        ThroughputResult {
            connect: connect.result(),
            steps,
            max_sustained_rate,
            max_sustained_offered,
            goals,
        }
    }

    fn print(&self, r: &ThroughputResult, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "throughput: {} pairs, {} idle, {} s steps, limit p99 {} ms",
            self.0.pairs, self.0.idle, self.0.step_secs, self.0.p99_limit_ms
        )?;
        report::print_connect(out, "connect", &r.connect)?;
        writeln!(
            out,
            "  {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8}  verdict",
            "offered",
            "persisted",
            "ack p50",
            "ack p99",
            "e2e p50",
            "e2e p99",
            "e2e p99.9",
            "errors",
            "gw us/msg"
        )?;
        for s in &r.steps {
            let w = &s.window;
            writeln!(
                out,
                "  {:>8.0} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>8}  {}",
                w.offered_rate,
                w.achieved_rate,
                w.ack.p50_ms,
                w.ack.p99_ms,
                w.e2e.p50_ms,
                w.e2e.p99_ms,
                w.e2e.p999_ms,
                w.errors.total,
                s.gateway_cpu_us_per_msg
                    .map_or_else(|| "-".to_owned(), |v| format!("{v:.0}")),
                s.stopped_because.as_deref().unwrap_or("pass")
            )?;
        }
        writeln!(
            out,
            "  highest sustained: {:.1} msg/s persisted (offered {:.0})",
            r.max_sustained_rate, r.max_sustained_offered
        )?;
        report::print_goals(out, &r.goals)
    }
}
