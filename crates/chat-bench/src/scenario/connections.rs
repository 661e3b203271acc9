//! `connections`: N authenticated idle connections; gateway RSS per connection, and its growth
//! after waves of dropping and reconnecting every connection (same devices: resumed sessions).

use std::{io::Write, time::Duration};

use serde::{Deserialize, Serialize};

use super::{Env, Scenario, latency::Rig};
use crate::{
    fleet::{ConnectData, ConnectResult},
    procfs::Snapshot,
    report::{self, Goal},
    shard::Coordinator,
};

/// The `connections` scenario's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectionsConfig {
    /// Connections in all (over every shard).
    pub connections: usize,
    /// Drop-and-reconnect waves after the first connect.
    pub waves: usize,
    /// Seconds to let the gateway settle before each reading.
    pub settle_secs: f64,
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        Self {
            connections: 10_000,
            waves: 3,
            settle_secs: 5.0,
        }
    }
}

/// What one shard of `connections` reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectionsShard {
    /// The first connect, then one per wave.
    pub connects: Vec<ConnectData>,
}

/// The gateway's memory at one point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RssPoint {
    /// The point (`baseline`, `connected`, `down:1`, `up:1`, …).
    pub label: String,
    /// RSS, MiB.
    pub rss_mib: Option<f64>,
}

/// The `connections` result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectionsResult {
    /// The first connect, then one per wave.
    pub connects: Vec<ConnectResult>,
    /// Gateway RSS at each point.
    pub rss: Vec<RssPoint>,
    /// (RSS connected − RSS baseline) / connections, KiB.
    pub rss_per_connection_kib: Option<f64>,
    /// (RSS after the last wave − RSS connected) / RSS connected, percent.
    pub growth_after_waves_pct: Option<f64>,
    /// The goals.
    pub goals: Vec<Goal>,
}

/// The `connections` scenario.
#[derive(Debug, Clone, Default)]
pub struct Connections(pub ConnectionsConfig);

#[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
fn mib(bytes: u64) -> f64 {
    (bytes as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0
}

impl Scenario for Connections {
    type Shard = ConnectionsShard;
    type Result = ConnectionsResult;

    fn name(&self) -> &'static str {
        "connections"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    async fn run_shard(&self, env: &Env, coord: &Coordinator) -> anyhow::Result<ConnectionsShard> {
        let c = &self.0;
        let settle = Duration::from_secs_f64(c.settle_secs);
        let endpoint = Env::endpoint(&env.url).await?;
        coord.point("baseline").await?;
        let mut rig = Rig::build(
            env,
            0,
            &endpoint,
            &endpoint,
            env.shard.share(c.connections),
            std::slice::from_ref(&endpoint),
        )
        .await?;
        let mut connects = vec![rig.connect.clone()];
        tokio::time::sleep(settle).await;
        coord.point("connected").await?;
        for wave in 1..=c.waves {
            rig.drop_all();
            tokio::time::sleep(settle).await;
            coord.point(&format!("down:{wave}")).await?;
            connects.push(rig.connect_missing(None, Duration::ZERO).await);
            tokio::time::sleep(settle).await;
            coord.point(&format!("up:{wave}")).await?;
        }
        rig.drop_all();
        Ok(ConnectionsShard { connects })
    }

    fn summarize(
        &self,
        shards: Vec<ConnectionsShard>,
        snapshots: &[Snapshot],
    ) -> ConnectionsResult {
        let waves = shards.iter().map(|s| s.connects.len()).max().unwrap_or(0);
        let connects: Vec<ConnectResult> = (0..waves)
            .map(|i| {
                let mut merged = ConnectData::default();
                for s in &shards {
                    if let Some(c) = s.connects.get(i) {
                        merged.merge(c);
                    }
                }
                merged.result()
            })
            .collect();
        let rss_of = |label: &str| {
            snapshots
                .iter()
                .find(|s| s.label == label)
                .and_then(|s| s.gateway_rss_bytes)
        };
        let rss = snapshots
            .iter()
            .map(|s| RssPoint {
                label: s.label.clone(),
                rss_mib: s.gateway_rss_bytes.map(mib),
            })
            .collect();
        let connected = connects.first().map_or(0, |c| c.connected);
        #[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
        let rss_per_connection_kib = match (rss_of("baseline"), rss_of("connected")) {
            (Some(base), Some(up)) if connected > 0 => {
                let per = (up as f64 - base as f64) / connected as f64 / 1024.0;
                Some((per * 100.0).round() / 100.0)
            }
            _ => None,
        };
        let last = format!("up:{}", self.0.waves);
        #[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
        let growth_after_waves_pct = match (rss_of("connected"), rss_of(&last)) {
            (Some(first), Some(after)) if first > 0 && self.0.waves > 0 => {
                let pct = (after as f64 - first as f64) / first as f64 * 100.0;
                Some((pct * 100.0).round() / 100.0)
            }
            _ => None,
        };
        let failed: u64 = connects.iter().map(|c| c.failed).sum();
        let mut goals = vec![
            match rss_per_connection_kib {
                Some(v) => Goal::at_most("gateway RSS per idle connection", v, 20.0, "KiB", ""),
                None => Goal::unmeasured(
                    "gateway RSS per idle connection",
                    "<= 20 KiB",
                    "no gateway pid",
                ),
            },
            match growth_after_waves_pct {
                Some(v) => Goal::at_most("RSS growth after the waves", v, 5.0, "%", ""),
                None => Goal::unmeasured("RSS growth after the waves", "< 5 %", "no reading"),
            },
        ];
        goals.push(if self.0.connections >= 19_000 {
            #[expect(clippy::cast_precision_loss, reason = "connection counts are small")]
            let held = connected as f64;
            Goal::at_least("connections held on one node", held, 19_000.0, "", "")
        } else {
            Goal::unmeasured(
                "connections held on one node",
                ">= 19000",
                &format!("run with {}", self.0.connections),
            )
        });
        goals.push(Goal::at_most_count("connections that failed", failed, 0));
        ConnectionsResult {
            connects,
            rss,
            rss_per_connection_kib,
            growth_after_waves_pct,
            goals,
        }
    }

    fn print(&self, r: &ConnectionsResult, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "connections: {} idle connections, {} waves",
            self.0.connections, self.0.waves
        )?;
        for (i, c) in r.connects.iter().enumerate() {
            let what = if i == 0 {
                "connect".to_owned()
            } else {
                format!("wave {i}")
            };
            report::print_connect(out, &what, c)?;
        }
        let points: Vec<String> = r
            .rss
            .iter()
            .map(|p| {
                format!(
                    "{}={}",
                    p.label,
                    p.rss_mib
                        .map_or_else(|| "-".to_owned(), |v| format!("{v}MiB"))
                )
            })
            .collect();
        writeln!(out, "  gateway rss: {}", points.join(" "))?;
        writeln!(
            out,
            "  rss per connection: {:?} KiB; growth after waves: {:?} %",
            r.rss_per_connection_kib, r.growth_after_waves_pct
        )?;
        report::print_goals(out, &r.goals)
    }
}
