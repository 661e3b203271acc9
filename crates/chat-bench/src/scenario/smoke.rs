//! `--smoke`: a seconds-long run proving the tool works end to end against a server: a small
//! `latency` window, one storm of the same clients, and a second window over the reconnected
//! clients. It passes with no error of any kind, every client back, and non-empty histograms.

use std::{io::Write, time::Duration};

use serde::{Deserialize, Serialize};

use super::{
    Env, Scenario,
    latency::{LatencyConfig, LatencyResult, Rig, measured_window, summarize_window},
    storm::{StormResult, print_storm, storm, storm_result},
};
use crate::{
    fleet::ConnectData,
    load::{WindowData, WindowResult},
    procfs::Snapshot,
    report,
    shard::Coordinator,
};

/// The smoke run's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmokeConfig {
    /// The latency window (also run once more after the storm).
    pub latency: LatencyConfig,
}

impl Default for SmokeConfig {
    fn default() -> Self {
        Self {
            latency: LatencyConfig {
                pairs: 20,
                rate: 200.0,
                idle: 50,
                duration_secs: 2.0,
                warmup_secs: 0.0,
                drain_secs: 5.0,
            },
        }
    }
}

/// What the smoke run collects.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmokeShard {
    /// The first connect.
    pub connect: ConnectData,
    /// The first window.
    pub window: WindowData,
    /// The storm's reconnect.
    pub storm: ConnectData,
    /// The window after the storm.
    pub after_storm: WindowData,
}

/// The smoke result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmokeResult {
    /// The first window.
    pub latency: LatencyResult,
    /// The storm.
    pub storm: StormResult,
    /// The window after the storm.
    pub after_storm: WindowResult,
    /// Everything that went wrong (empty: passed).
    pub problems: Vec<String>,
}

impl SmokeResult {
    /// Whether the run passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The smoke run.
#[derive(Debug, Clone, Default)]
pub struct Smoke(pub SmokeConfig);

fn window_problems(what: &str, w: &WindowResult, problems: &mut Vec<String>) {
    if w.errors.total > 0 {
        problems.push(format!("{what}: {} errors: {:?}", w.errors.total, w.errors));
    }
    if w.ack.count == 0 || w.e2e.count == 0 {
        problems.push(format!(
            "{what}: empty histograms (ack {}, e2e {})",
            w.ack.count, w.e2e.count
        ));
    }
    if w.ack_ok != w.measured {
        problems.push(format!(
            "{what}: {} of {} messages acknowledged",
            w.ack_ok, w.measured
        ));
    }
}

impl Scenario for Smoke {
    type Shard = SmokeShard;
    type Result = SmokeResult;

    fn name(&self) -> &'static str {
        "smoke"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn shardable(&self) -> bool {
        false
    }

    async fn run_shard(&self, env: &Env, coord: &Coordinator) -> anyhow::Result<SmokeShard> {
        let c = &self.0.latency;
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
        let window = measured_window(&mut rig, c, c.rate, coord, "").await?;
        coord.point("drop").await?;
        let storm = storm(&mut rig, Duration::ZERO).await;
        coord.point("back").await?;
        let after_storm = measured_window(&mut rig, c, c.rate, coord, "after:").await?;
        rig.drop_all();
        Ok(SmokeShard {
            connect: rig.connect.clone(),
            window,
            storm,
            after_storm,
        })
    }

    fn summarize(&self, shards: Vec<SmokeShard>, snapshots: &[Snapshot]) -> SmokeResult {
        let mut problems = Vec::new();
        let Some(shard) = shards.into_iter().next() else {
            return SmokeResult {
                latency: summarize_window(ConnectData::default(), &[], snapshots, ""),
                storm: StormResult::default(),
                after_storm: WindowResult::default(),
                problems: vec!["no result".to_owned()],
            };
        };
        let latency = summarize_window(
            shard.connect.clone(),
            std::slice::from_ref(&shard.window),
            snapshots,
            "",
        );
        let mut storm = storm_result(&shard.connect, &shard.storm);
        storm.cpu = crate::procfs::CpuUse::between_labels(snapshots, "drop", "back");
        let after_storm = shard.after_storm.result();
        let c = &self.0.latency;
        let clients = (c.pairs * 2 + c.idle) as u64;
        if latency.connect.connected != clients {
            problems.push(format!(
                "connected {} of {clients} clients",
                latency.connect.connected
            ));
        }
        window_problems("latency", &latency.window, &mut problems);
        if storm.storm.connected != clients || storm.back_all_s.is_none() {
            problems.push(format!(
                "storm: {} of {clients} clients back",
                storm.storm.connected
            ));
        }
        window_problems("after the storm", &after_storm, &mut problems);
        SmokeResult {
            latency,
            storm,
            after_storm,
            problems,
        }
    }

    fn print(&self, r: &SmokeResult, out: &mut dyn Write) -> std::io::Result<()> {
        let c = &self.0.latency;
        writeln!(
            out,
            "smoke: {} pairs at {} msg/s for {} s, {} idle; one storm; again",
            c.pairs, c.rate, c.duration_secs, c.idle
        )?;
        report::print_connect(out, "connect", &r.latency.connect)?;
        report::print_window(out, &r.latency.window)?;
        print_storm(out, &r.storm)?;
        writeln!(out, " after the storm:")?;
        report::print_window(out, &r.after_storm)?;
        if r.passed() {
            writeln!(out, "smoke: PASSED")
        } else {
            writeln!(out, "smoke: FAILED")?;
            for p in &r.problems {
                writeln!(out, "  - {p}")?;
            }
            Ok(())
        }
    }
}
