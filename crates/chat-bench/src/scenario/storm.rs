//! `storm`: every client drops at once (no close handshake, as in a network failure) and
//! reconnects at once with the same device; how long until 99.9 % are back (greeted again).

use std::{io::Write, time::Duration};

use serde::{Deserialize, Serialize};

use super::{Env, Scenario, latency::Rig};
use crate::{
    fleet::{ConnectData, ConnectResult},
    hist::Latencies,
    procfs::{CpuUse, Snapshot},
    report::{self, Goal},
    shard::Coordinator,
};

/// The `storm` scenario's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StormConfig {
    /// Clients in all (over every shard).
    pub clients: usize,
    /// Each client waits a random 0..jitter ms before reconnecting (0: all at once).
    pub jitter_ms: u64,
    /// Seconds to let the gateway settle after the first connect.
    pub settle_secs: f64,
}

impl Default for StormConfig {
    fn default() -> Self {
        Self {
            clients: 10_000,
            jitter_ms: 0,
            settle_secs: 3.0,
        }
    }
}

/// What one shard of `storm` reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StormShard {
    /// The first connect.
    pub connect: ConnectData,
    /// The reconnect, times measured from the drop.
    pub storm: ConnectData,
}

/// How a storm went.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StormResult {
    /// The first connect.
    pub connect: ConnectResult,
    /// The reconnect (times since the drop).
    pub storm: ConnectResult,
    /// Seconds from the drop until half the clients were back.
    pub back_50_s: Option<f64>,
    /// … 99 %.
    pub back_99_s: Option<f64>,
    /// … 99.9 %.
    pub back_999_s: Option<f64>,
    /// … all.
    pub back_all_s: Option<f64>,
    /// CPU from the drop until everyone was back.
    pub cpu: Option<CpuUse>,
    /// The goals.
    pub goals: Vec<Goal>,
}

/// The seconds until a share `q` of `total` clients were back, from the times of those that
/// came back (`None` if fewer than that came back).
fn time_until(times: &Latencies, total: u64, q: f64) -> Option<f64> {
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "client counts are small"
    )]
    let needed = ((total as f64) * q).ceil() as u64;
    if needed == 0 || times.len() < needed {
        return None;
    }
    #[expect(clippy::cast_precision_loss, reason = "client counts are small")]
    let quantile = needed as f64 / times.len() as f64;
    Some((times.quantile_ms(quantile.min(1.0)) / 1000.0 * 1000.0).round() / 1000.0)
}

/// Summarises a storm's reconnect.
#[must_use]
pub fn storm_result(connect: &ConnectData, storm: &ConnectData) -> StormResult {
    let times = Latencies::from_data(&storm.times);
    let total = storm.attempted;
    StormResult {
        connect: connect.result(),
        storm: storm.result(),
        back_50_s: time_until(&times, total, 0.5),
        back_99_s: time_until(&times, total, 0.99),
        back_999_s: time_until(&times, total, 0.999),
        back_all_s: time_until(&times, total, 1.0),
        cpu: None,
        goals: Vec::new(),
    }
}

/// Drops every client of `rig` at once and reconnects them all.
pub(crate) async fn storm(rig: &mut Rig, jitter: Duration) -> ConnectData {
    let dropped = rig.drop_all();
    rig.connect_missing(Some(dropped), jitter).await
}

/// The `storm` scenario.
#[derive(Debug, Clone, Default)]
pub struct Storm(pub StormConfig);

impl Scenario for Storm {
    type Shard = StormShard;
    type Result = StormResult;

    fn name(&self) -> &'static str {
        "storm"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    async fn run_shard(&self, env: &Env, coord: &Coordinator) -> anyhow::Result<StormShard> {
        let c = &self.0;
        let endpoint = Env::endpoint(&env.url).await?;
        let mut rig = Rig::build(
            env,
            0,
            &endpoint,
            &endpoint,
            env.shard.share(c.clients),
            std::slice::from_ref(&endpoint),
        )
        .await?;
        tokio::time::sleep(Duration::from_secs_f64(c.settle_secs)).await;
        coord.point("drop").await?;
        let storm = storm(&mut rig, Duration::from_millis(c.jitter_ms)).await;
        coord.point("back").await?;
        rig.drop_all();
        Ok(StormShard {
            connect: rig.connect.clone(),
            storm,
        })
    }

    fn summarize(&self, shards: Vec<StormShard>, snapshots: &[Snapshot]) -> StormResult {
        let mut connect = ConnectData::default();
        let mut storm = ConnectData::default();
        for s in &shards {
            connect.merge(&s.connect);
            storm.merge(&s.storm);
        }
        let mut result = storm_result(&connect, &storm);
        result.cpu = CpuUse::between_labels(snapshots, "drop", "back");
        let note = if self.0.clients >= 10_000 {
            ""
        } else {
            " (not at the goal's size)"
        };
        result.goals = vec![match result.back_999_s {
            Some(s) => Goal::at_most("99.9 % back after a storm", s, 10.0, "s", note),
            None => Goal {
                what: "99.9 % back after a storm".to_owned(),
                target: format!("<= 10 s{note}"),
                measured: format!("only {} of {} back", storm.connected, storm.attempted),
                met: Some(false),
            },
        }];
        result
    }

    fn print(&self, r: &StormResult, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "storm: {} clients, reconnect jitter {} ms",
            self.0.clients, self.0.jitter_ms
        )?;
        print_storm(out, r)?;
        report::print_cpu(out, r.cpu.as_ref(), None)?;
        report::print_goals(out, &r.goals)
    }
}

/// Writes a storm's outcome.
///
/// # Errors
/// Writing failed.
pub fn print_storm(out: &mut dyn Write, r: &StormResult) -> std::io::Result<()> {
    report::print_connect(out, "connect", &r.connect)?;
    report::print_connect(out, "storm", &r.storm)?;
    let s = |v: Option<f64>| v.map_or_else(|| "never".to_owned(), |v| format!("{v:.3}s"));
    writeln!(
        out,
        "  back: 50% {} | 99% {} | 99.9% {} | all {}",
        s(r.back_50_s),
        s(r.back_99_s),
        s(r.back_999_s),
        s(r.back_all_s)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_until_needs_enough_clients_back() {
        let mut t = Latencies::new();
        for ms in 1..=1000 {
            t.record(Duration::from_millis(ms));
        }
        let half = time_until(&t, 1000, 0.5).unwrap();
        assert!((half - 0.5).abs() < 0.01, "{half}");
        assert!(time_until(&t, 1000, 1.0).unwrap() >= 0.99);
        // 1000 back of 2000: 99.9 % never reached.
        assert_eq!(time_until(&t, 2000, 0.999), None);
    }
}
