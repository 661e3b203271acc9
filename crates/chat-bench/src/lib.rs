//! `chat-bench`: an open-loop load generator for any server that speaks the chat contract
//! (Socket.IO v5 over WebSocket, the REST routes of `docs/protocol.md`), and the benchmark
//! scenarios of `docs/benchmarks.md`.
//!
//! It mints HS256 tokens with the server's secret, creates one-to-one conversations over REST,
//! opens many connections (from several source addresses and processes when needed), sends on a
//! clock at a fixed rate without waiting for acks, and measures every latency from the intended
//! send time in HDR histograms. CPU and memory of the gateway, PostgreSQL, Redis and the
//! generator come from `/proc`.
//!
//! # Layout
//! - [`sio`]: the minimal engine.io v4 / Socket.IO v5 client, one task per connection.
//! - [`rest`]: the few REST calls (HTTP/1.1 by hand).
//! - [`fleet`]: users and tokens, conversations, connecting many clients with retries.
//! - [`load`]: the open-loop sender and what a sending window measured.
//! - [`hist`]: latency histograms and their percentiles.
//! - [`procfs`]: `/proc` readings (CPU, RSS, load, machine).
//! - [`shard`]: several generator processes, synchronised at named points.
//! - [`scenario`]: `latency`, `throughput`, `connections`, `storm`, `cross-node` and the smoke run.
//! - [`report`]: summaries and JSON; [`plot`]: the SVG plot.

pub mod fleet;
pub mod hist;
pub mod load;
pub mod plot;
pub mod procfs;
pub mod report;
pub mod rest;
pub mod scenario;
pub mod shard;
pub mod sio;

use crate::{
    procfs::Watch,
    scenario::{
        Env, Mode, Report,
        smoke::{Smoke, SmokeConfig, SmokeResult},
    },
};

/// Runs the smoke scenario in this process against `url` (tokens signed with `secret`),
/// watching no other process: what the CI test does with an in-process gateway.
///
/// # Errors
/// The run could not be set up (bad URL, REST calls refused…). Problems during the run are in
/// [`SmokeResult::problems`].
pub async fn smoke(
    url: &str,
    secret: &str,
    config: SmokeConfig,
) -> anyhow::Result<Report<SmokeResult>> {
    let env = Env::new(url, secret);
    scenario::execute(&Smoke(config), &env, Mode::Single, Watch::none())
        .await?
        .ok_or_else(|| anyhow::anyhow!("the smoke run gave no report"))
}
