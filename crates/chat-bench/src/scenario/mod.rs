//! The scenarios of the issue, and the one way every scenario runs: in one process, or as a
//! parent of shard processes, or as one of those shards.
//!
//! A scenario does its part of the work in [`Scenario::run_shard`] (reaching named
//! synchronisation points through a [`Coordinator`], where `/proc` snapshots are taken), then
//! [`Scenario::summarize`] merges the shards' raw data with the snapshots into its result.

pub mod connections;
pub mod cross_node;
pub mod latency;
pub mod smoke;
pub mod storm;
pub mod throughput;

use std::{ffi::OsString, future::Future, io::Write, sync::Arc};

use anyhow::Context as _;
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    fleet::Ctx,
    procfs::{self, Machine, Snapshot, Watch},
    shard::{self, Coordinator, Shard},
    sio::Endpoint,
};

/// What a scenario runs against.
#[derive(Debug, Clone)]
pub struct Env {
    /// Tokens and connection settings.
    pub ctx: Ctx,
    /// The server (`--url`).
    pub url: String,
    /// This process's slice of the work.
    pub shard: Shard,
}

impl Env {
    /// An environment for one process against `url`, minting with `secret`.
    #[must_use]
    pub fn new(url: &str, secret: &str) -> Self {
        Self {
            ctx: Ctx::new(secret),
            url: url.to_owned(),
            shard: Shard::single(),
        }
    }

    /// Resolves `url`.
    ///
    /// # Errors
    /// A bad or unresolvable URL.
    pub async fn endpoint(url: &str) -> anyhow::Result<Arc<Endpoint>> {
        Ok(Arc::new(Endpoint::resolve(url).await?))
    }
}

/// One benchmark scenario.
pub trait Scenario {
    /// What one shard reports (raw, mergeable).
    type Shard: Serialize + DeserializeOwned + Send;
    /// The merged result.
    type Result: Serialize;

    /// The scenario's name (`latency`, …).
    fn name(&self) -> &'static str;

    /// Its configuration, as recorded in the report.
    fn config(&self) -> serde_json::Value;

    /// Whether it can be spread over several processes.
    fn shardable(&self) -> bool {
        true
    }

    /// Does this process's part.
    fn run_shard(
        &self,
        env: &Env,
        coord: &Coordinator,
    ) -> impl Future<Output = anyhow::Result<Self::Shard>>;

    /// Merges the shards' parts with the snapshots.
    fn summarize(&self, shards: Vec<Self::Shard>, snapshots: &[Snapshot]) -> Self::Result;

    /// Writes the human summary.
    ///
    /// # Errors
    /// Writing failed.
    fn print(&self, result: &Self::Result, out: &mut dyn Write) -> std::io::Result<()>;
}

/// How this process takes part in a run.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Everything in this process.
    Single,
    /// Spawn `processes` shard children running `args`.
    Parent {
        /// How many.
        processes: usize,
        /// Their command line (this one without `--processes`).
        args: Vec<OsString>,
    },
    /// A shard child.
    Child,
}

/// A finished run: what was measured, where, and under what load.
#[derive(Debug, Serialize)]
pub struct Report<R> {
    /// The scenario.
    pub scenario: &'static str,
    /// `chat-bench <version>`.
    pub tool: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// The server.
    pub url: String,
    /// The machine.
    pub machine: Machine,
    /// Load averages (1, 5, 15 min) before the run: foreign load, as the run had not started.
    pub loadavg_before: Option<[f64; 3]>,
    /// Load averages after the run.
    pub loadavg_after: Option<[f64; 3]>,
    /// Generator processes.
    pub processes: usize,
    /// The scenario's configuration.
    pub config: serde_json::Value,
    /// The result.
    pub result: R,
    /// The `/proc` snapshots at each synchronisation point.
    pub snapshots: Vec<Snapshot>,
}

/// Runs `scenario` in `mode`; `None` in a shard child (its result went to the parent).
///
/// # Errors
/// Whatever stopped the run.
pub async fn execute<S: Scenario>(
    scenario: &S,
    env: &Env,
    mode: Mode,
    watch: Watch,
) -> anyhow::Result<Option<Report<S::Result>>> {
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let loadavg_before = procfs::loadavg();
    let (shards, snapshots, processes) = match mode {
        Mode::Child => {
            let coord = Coordinator::child();
            let part = scenario.run_shard(env, &coord).await?;
            shard::send_result(&part)?;
            return Ok(None);
        }
        Mode::Single => {
            let coord = Coordinator::local(watch);
            let part = scenario.run_shard(env, &coord).await?;
            (vec![part], coord.into_snapshots(), 1)
        }
        Mode::Parent { processes, args } => {
            anyhow::ensure!(
                scenario.shardable(),
                "{} runs in one process only (drop --processes)",
                scenario.name()
            );
            let (values, snapshots) = shard::run_parent(processes, &args, watch).await?;
            let parts = values
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<Vec<S::Shard>, _>>()
                .context("reading the shards' results")?;
            (parts, snapshots, processes)
        }
    };
    let result = scenario.summarize(shards, &snapshots);
    Ok(Some(Report {
        scenario: scenario.name(),
        tool: format!("chat-bench {}", env!("CARGO_PKG_VERSION")),
        started_at,
        url: env.url.clone(),
        machine: Machine::read(),
        loadavg_before,
        loadavg_after: procfs::loadavg(),
        processes,
        config: scenario.config(),
        result,
        snapshots,
    }))
}
