//! `cross-node`: `latency` twice, first with both sides of every pair on `--url`, then with
//! one side on `--url` and the other on `--peer-url` (another node sharing the same Redis and
//! database); the latency the crossing adds. Idle connections are spread over both nodes.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::{
    Env, Scenario,
    latency::{LatencyConfig, LatencyResult, LatencyShard, Rig, measured_window, summarize_window},
};
use crate::{
    fleet::ConnectData,
    load::WindowData,
    procfs::Snapshot,
    report::{self, Goal},
    shard::Coordinator,
};

/// The `cross-node` scenario's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrossNodeConfig {
    /// The latency run done twice.
    pub latency: LatencyConfig,
    /// The other node.
    pub peer_url: String,
}

/// What one shard reports: the same-node run, then the cross-node one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrossNodeShard {
    /// Both sides on `--url`.
    pub same: LatencyShard,
    /// Sides on different nodes.
    pub cross: LatencyShard,
}

/// What crossing nodes adds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrossNodeResult {
    /// Both sides on one node.
    pub same_node: LatencyResult,
    /// Sides on different nodes.
    pub cross_node: LatencyResult,
    /// End-to-end p50 added, ms.
    pub added_p50_ms: f64,
    /// End-to-end p99 added, ms.
    pub added_p99_ms: f64,
    /// The goals.
    pub goals: Vec<Goal>,
}

/// The `cross-node` scenario.
#[derive(Debug, Clone)]
pub struct CrossNode(pub CrossNodeConfig);

impl Scenario for CrossNode {
    type Shard = CrossNodeShard;
    type Result = CrossNodeResult;

    fn name(&self) -> &'static str {
        "cross-node"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    async fn run_shard(&self, env: &Env, coord: &Coordinator) -> anyhow::Result<CrossNodeShard> {
        let c = &self.0.latency;
        let home = Env::endpoint(&env.url).await?;
        let peer = Env::endpoint(&self.0.peer_url).await?;
        let pairs = env.shard.share(c.pairs);
        let idle = env.shard.share(c.idle);
        let both = [home.clone(), peer.clone()];
        // The idle connections ride with the cross rig: both runs see them attached.
        let mut same = Rig::build(env, pairs, &home, &home, 0, &both).await?;
        let mut cross = Rig::build(env, pairs, &home, &peer, idle, &both).await?;
        let rate = env.shard.rate(c.rate);
        let same_window = measured_window(&mut same, c, rate, coord, "same:").await?;
        let cross_window = measured_window(&mut cross, c, rate, coord, "cross:").await?;
        Ok(CrossNodeShard {
            same: LatencyShard {
                connect: same.connect.clone(),
                window: same_window,
            },
            cross: LatencyShard {
                connect: cross.connect.clone(),
                window: cross_window,
            },
        })
    }

    fn summarize(&self, shards: Vec<CrossNodeShard>, snapshots: &[Snapshot]) -> CrossNodeResult {
        let merge = |pick: fn(&CrossNodeShard) -> &LatencyShard, prefix: &str| {
            let mut connect = ConnectData::default();
            let mut windows: Vec<WindowData> = Vec::new();
            for s in &shards {
                connect.merge(&pick(s).connect);
                windows.push(pick(s).window.clone());
            }
            summarize_window(connect, &windows, snapshots, prefix)
        };
        let same_node = merge(|s| &s.same, "same:");
        let cross_node = merge(|s| &s.cross, "cross:");
        let added_p50_ms = cross_node.window.e2e.p50_ms - same_node.window.e2e.p50_ms;
        let added_p99_ms = cross_node.window.e2e.p99_ms - same_node.window.e2e.p99_ms;
        let errors = same_node.window.errors.total + cross_node.window.errors.total;
        CrossNodeResult {
            goals: vec![
                Goal::at_most("added e2e p50 across nodes", added_p50_ms, 1.0, "ms", ""),
                Goal::at_most("added e2e p99 across nodes", added_p99_ms, 5.0, "ms", ""),
                Goal::at_most_count("errors", errors, 0),
            ],
            same_node,
            cross_node,
            added_p50_ms,
            added_p99_ms,
        }
    }

    fn print(&self, r: &CrossNodeResult, out: &mut dyn Write) -> std::io::Result<()> {
        let c = &self.0.latency;
        writeln!(
            out,
            "cross-node: {} pairs at {} msg/s, {} idle, {} s; peer {}",
            c.pairs, c.rate, c.idle, c.duration_secs, self.0.peer_url
        )?;
        writeln!(out, " same node:")?;
        report::print_window(out, &r.same_node.window)?;
        writeln!(out, " cross node:")?;
        report::print_window(out, &r.cross_node.window)?;
        report::print_cpu(
            out,
            r.cross_node.cpu.as_ref(),
            r.cross_node.gateway_cpu_us_per_msg,
        )?;
        writeln!(
            out,
            "  added: p50 {:.2} ms, p99 {:.2} ms",
            r.added_p50_ms, r.added_p99_ms
        )?;
        report::print_goals(out, &r.goals)
    }
}
