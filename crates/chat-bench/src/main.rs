//! `chat-bench`: see `chat-bench --help` and `docs/benchmarks.md`.

use std::{
    ffi::OsString,
    io::Write as _,
    net::IpAddr,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context as _;
use chat_bench::{
    plot, procfs,
    procfs::Watch,
    report,
    scenario::{
        self, Env, Mode, Scenario,
        connections::{Connections, ConnectionsConfig},
        cross_node::{CrossNode, CrossNodeConfig},
        latency::{Latency, LatencyConfig},
        smoke::{Smoke, SmokeConfig},
        storm::{Storm, StormConfig},
        throughput::{Throughput, ThroughputConfig},
    },
    shard::Shard,
};
use clap::{Args, Parser, Subcommand};

/// An open-loop load generator for servers that speak the chat contract.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// Run the seconds-long smoke scenario (the same as the `smoke` command).
    #[arg(long, global = true)]
    smoke: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Args)]
struct Common {
    /// The server (`http://host:port`).
    #[arg(
        long,
        global = true,
        env = "CHAT_BENCH_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    url: String,
    /// The HS256 secret the server verifies tokens with.
    #[arg(
        long,
        global = true,
        env = "CHAT_JWT_SECRET",
        default_value = "dev-secret-change-me",
        hide_env_values = true
    )]
    secret: String,
    /// Local addresses to connect from, comma-separated (e.g. 127.0.0.1,127.0.0.2): each
    /// address has its own ~28,000 ephemeral ports.
    #[arg(long, global = true, value_delimiter = ',')]
    source_ips: Vec<IpAddr>,
    /// Spread the clients over this many generator processes (at most ~19,000 connections
    /// each where open files are capped at 20,000).
    #[arg(long, global = true, default_value_t = 1)]
    processes: usize,
    /// Internal: run shard i of N (set by the parent of `--processes`).
    #[arg(long, global = true, hide = true)]
    shard: Option<String>,
    /// The gateway's pid(s) for CPU and RSS readings (default: every process named chat-gateway).
    #[arg(long = "gateway-pid", global = true)]
    gateway_pids: Vec<u32>,
    /// Count only this database's PostgreSQL backends (plus the shared ones: postmaster,
    /// writers, checkpointer); default: every postgres process.
    #[arg(long, global = true)]
    postgres_db: Option<String>,
    /// Where to write the JSON report (default: bench-results/<scenario>.json).
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    /// Handshakes in flight at once when connecting (storms excepted).
    #[arg(long, global = true, default_value_t = 256)]
    connect_concurrency: usize,
    /// Deadline of one handshake, seconds.
    #[arg(long, global = true, default_value_t = 20.0)]
    connect_timeout_secs: f64,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Pairs sending at a fixed rate with idle connections attached: ack and end-to-end latency.
    Latency(LatencyArgs),
    /// Steps the rate up until p99 passes the limit or errors appear.
    Throughput(ThroughputArgs),
    /// Idle connections: gateway RSS per connection and growth after reconnect waves.
    Connections(ConnectionsArgs),
    /// Every client drops at once and reconnects: time until 99.9 % are back.
    Storm(StormArgs),
    /// `latency` with the two sides of each pair on different nodes, against the same node.
    CrossNode(CrossNodeArgs),
    /// The seconds-long end-to-end check.
    Smoke,
    /// Draws the latency-against-rate SVG from a throughput report.
    Plot(PlotArgs),
}

#[derive(Debug, Args)]
struct LatencyArgs {
    /// One-to-one pairs sending.
    #[arg(long, default_value_t = 500)]
    pairs: usize,
    /// Messages per second, all pairs together.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Idle connections attached.
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    /// Seconds of sending.
    #[arg(long, default_value_t = 30.0)]
    duration_secs: f64,
    /// Seconds not measured at the start.
    #[arg(long, default_value_t = 5.0)]
    warmup_secs: f64,
    /// Seconds to wait for late acks and receipts.
    #[arg(long, default_value_t = 5.0)]
    drain_secs: f64,
}

impl LatencyArgs {
    fn config(&self) -> LatencyConfig {
        LatencyConfig {
            pairs: self.pairs,
            rate: self.rate,
            idle: self.idle,
            duration_secs: self.duration_secs,
            warmup_secs: self.warmup_secs,
            drain_secs: self.drain_secs,
        }
    }
}

#[derive(Debug, Args)]
struct ThroughputArgs {
    /// One-to-one pairs sending.
    #[arg(long, default_value_t = 500)]
    pairs: usize,
    /// Idle connections attached.
    #[arg(long, default_value_t = 0)]
    idle: usize,
    /// Offered rates, in order, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "500,1000,2000,3000,4000,5000,6000,7000,8000,10000,12000,15000,20000"
    )]
    rates: Vec<f64>,
    /// Seconds per step.
    #[arg(long, default_value_t = 15.0)]
    step_secs: f64,
    /// Seconds not measured at the start of each step.
    #[arg(long, default_value_t = 3.0)]
    warmup_secs: f64,
    /// The p99 limit, ms.
    #[arg(long, default_value_t = 50.0)]
    p99_limit_ms: f64,
    /// Also write the latency-against-rate SVG here.
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ConnectionsArgs {
    /// Connections in all (over every process).
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Drop-and-reconnect waves.
    #[arg(long, default_value_t = 3)]
    waves: usize,
    /// Seconds to let the gateway settle before each reading.
    #[arg(long, default_value_t = 5.0)]
    settle_secs: f64,
}

#[derive(Debug, Args)]
struct StormArgs {
    /// Clients in all.
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    /// Each client waits a random 0..jitter ms before reconnecting.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
}

#[derive(Debug, Args)]
struct CrossNodeArgs {
    #[command(flatten)]
    latency: LatencyArgs,
    /// The other node (the receiving side of every pair connects there).
    #[arg(long)]
    peer_url: String,
}

#[derive(Debug, Args)]
struct PlotArgs {
    /// A throughput report (JSON).
    #[arg(long)]
    input: PathBuf,
    /// The SVG to write.
    #[arg(long)]
    output: PathBuf,
    /// The title.
    #[arg(
        long,
        default_value = "chat-bench throughput: latency against offered rate"
    )]
    title: String,
    /// The p99 limit drawn, ms.
    #[arg(long, default_value_t = 50.0)]
    limit_ms: f64,
}

/// This command line without `--processes` (for the shard children).
fn child_args() -> Vec<OsString> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for arg in std::env::args_os().skip(1) {
        if skip_next {
            skip_next = false;
            continue;
        }
        let text = arg.to_string_lossy();
        if text == "--processes" {
            skip_next = true;
            continue;
        }
        if text.starts_with("--processes=") {
            continue;
        }
        out.push(arg);
    }
    out
}

async fn run_scenario<S: Scenario>(
    scenario: &S,
    common: &Common,
    after: impl FnOnce(&S::Result) -> anyhow::Result<bool>,
) -> anyhow::Result<bool> {
    let mut env = Env::new(&common.url, &common.secret);
    env.ctx.source_ips = common.source_ips.clone();
    env.ctx.connect_concurrency = common.connect_concurrency;
    env.ctx.connect_timeout = std::time::Duration::from_secs_f64(common.connect_timeout_secs);
    let mode = if let Some(shard) = &common.shard {
        env.shard = Shard::parse(shard)?;
        Mode::Child
    } else if common.processes > 1 {
        Mode::Parent {
            processes: common.processes,
            args: child_args(),
        }
    } else {
        Mode::Single
    };
    let mut watch = Watch::new(common.gateway_pids.clone());
    watch.postgres_db = common.postgres_db.clone();
    if !matches!(mode, Mode::Child) {
        let mut err = std::io::stderr().lock();
        match watch.gateway.as_slice() {
            [] => writeln!(
                err,
                "note: no gateway process found (pass --gateway-pid); no gateway CPU/RSS readings"
            )?,
            [pid] => writeln!(err, "watching gateway pid {pid}")?,
            many => writeln!(
                err,
                "warning: watching several chat-gateway processes {many:?} (pass --gateway-pid to pick)"
            )?,
        }
    }
    let Some(report) = scenario::execute(scenario, &env, mode, watch).await? else {
        return Ok(true);
    };
    let path = common
        .out
        .clone()
        .unwrap_or_else(|| Path::new("bench-results").join(format!("{}.json", scenario.name())));
    report::write_json(&path, &report)?;
    {
        let mut out = std::io::stdout().lock();
        scenario.print(&report.result, &mut out)?;
        writeln!(
            out,
            "loadavg before {:?}, after {:?}; report: {}",
            report.loadavg_before,
            report.loadavg_after,
            path.display()
        )?;
    }
    after(&report.result)
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let limit = procfs::raise_nofile_limit();
    let common = &cli.common;
    if common.shard.is_none()
        && let Some((soft, _)) = limit
    {
        writeln!(std::io::stderr().lock(), "open files limit: {soft}")?;
    }
    let command = match (cli.command, cli.smoke) {
        (Some(command), _) => command,
        (None, true) => Command::Smoke,
        (None, false) => anyhow::bail!("name a scenario (see --help), or --smoke"),
    };
    match command {
        Command::Latency(a) => run_scenario(&Latency(a.config()), common, |_| Ok(true)).await,
        Command::CrossNode(a) => {
            let scenario = CrossNode(CrossNodeConfig {
                latency: a.latency.config(),
                peer_url: a.peer_url,
            });
            run_scenario(&scenario, common, |_| Ok(true)).await
        }
        Command::Throughput(a) => {
            let scenario = Throughput(ThroughputConfig {
                pairs: a.pairs,
                idle: a.idle,
                rates: a.rates,
                step_secs: a.step_secs,
                warmup_secs: a.warmup_secs,
                p99_limit_ms: a.p99_limit_ms,
                ..ThroughputConfig::default()
            });
            let plot_path = a.plot;
            let limit_ms = a.p99_limit_ms;
            run_scenario(&scenario, common, |result| {
                if let Some(path) = plot_path {
                    let points: Vec<plot::Point> = result
                        .steps
                        .iter()
                        .map(|s| plot::Point {
                            offered: s.window.offered_rate,
                            ack: s.window.ack,
                            e2e: s.window.e2e,
                            passed: s.passed,
                        })
                        .collect();
                    let svg = plot::latency_svg(
                        &points,
                        "chat-bench throughput: latency against offered rate",
                        limit_ms,
                    );
                    std::fs::write(&path, svg)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                Ok(true)
            })
            .await
        }
        Command::Connections(a) => {
            let scenario = Connections(ConnectionsConfig {
                connections: a.connections,
                waves: a.waves,
                settle_secs: a.settle_secs,
            });
            run_scenario(&scenario, common, |_| Ok(true)).await
        }
        Command::Storm(a) => {
            let scenario = Storm(StormConfig {
                clients: a.clients,
                jitter_ms: a.jitter_ms,
                ..StormConfig::default()
            });
            run_scenario(&scenario, common, |_| Ok(true)).await
        }
        Command::Smoke => {
            run_scenario(&Smoke(SmokeConfig::default()), common, |r| Ok(r.passed())).await
        }
        Command::Plot(a) => {
            let json = std::fs::read_to_string(&a.input)
                .with_context(|| format!("reading {}", a.input.display()))?;
            let points = plot::points_from_report(&json)?;
            std::fs::write(&a.output, plot::latency_svg(&points, &a.title, a.limit_ms))
                .with_context(|| format!("writing {}", a.output.display()))?;
            Ok(true)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
