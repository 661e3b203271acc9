//! Human summaries (written through [`std::io::Write`]) and the JSON report file.

use std::{io::Write, path::Path};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::{fleet::ConnectResult, hist::Summary, load::WindowResult, procfs::CpuUse};

/// One of the goals and how the run compares.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Goal {
    /// What is measured.
    pub what: String,
    /// The goal, as text (`<= 5 ms`).
    pub target: String,
    /// The measured figure, as text.
    pub measured: String,
    /// Met, missed, or not measurable in this run (`None`).
    pub met: Option<bool>,
}

impl Goal {
    /// `value <= limit` (`unit` for the text; `note` appended to the target).
    #[must_use]
    pub fn at_most(what: &str, value: f64, limit: f64, unit: &str, note: &str) -> Self {
        Self {
            what: what.to_owned(),
            target: format!("<= {limit} {unit}{note}"),
            measured: format!("{value:.2} {unit}"),
            met: Some(value <= limit),
        }
    }

    /// `value >= limit`.
    #[must_use]
    pub fn at_least(what: &str, value: f64, limit: f64, unit: &str, note: &str) -> Self {
        Self {
            what: what.to_owned(),
            target: format!(">= {limit} {unit}{note}"),
            measured: format!("{value:.1} {unit}"),
            met: Some(value >= limit),
        }
    }

    /// A count that must not pass `limit`.
    #[must_use]
    pub fn at_most_count(what: &str, value: u64, limit: u64) -> Self {
        Self {
            what: what.to_owned(),
            target: format!("<= {limit}"),
            measured: value.to_string(),
            met: Some(value <= limit),
        }
    }

    /// A goal this run could not measure, and why.
    #[must_use]
    pub fn unmeasured(what: &str, target: &str, why: &str) -> Self {
        Self {
            what: what.to_owned(),
            target: target.to_owned(),
            measured: why.to_owned(),
            met: None,
        }
    }
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "n/a",
    }
}

/// Writes the goals as a table.
///
/// # Errors
/// Writing failed.
pub fn print_goals(out: &mut dyn Write, goals: &[Goal]) -> std::io::Result<()> {
    if goals.is_empty() {
        return Ok(());
    }
    writeln!(out, "goals:")?;
    for g in goals {
        writeln!(
            out,
            "  {:<34} {:<28} {:>14}  {}",
            g.what,
            g.target,
            g.measured,
            verdict(g.met)
        )?;
    }
    Ok(())
}

/// Writes a percentile line.
///
/// # Errors
/// Writing failed.
pub fn print_summary(out: &mut dyn Write, name: &str, s: &Summary) -> std::io::Result<()> {
    writeln!(
        out,
        "  {name:<10} n={:<8} p50={:>8.2}ms p90={:>8.2}ms p99={:>8.2}ms p99.9={:>8.2}ms max={:>8.2}ms",
        s.count, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms
    )
}

/// Writes a window's outcome.
///
/// # Errors
/// Writing failed.
pub fn print_window(out: &mut dyn Write, w: &WindowResult) -> std::io::Result<()> {
    writeln!(
        out,
        "  offered {:.0} msg/s, persisted {:.1} msg/s; sent {} (measured {}), acked ok {}, received {}",
        w.offered_rate, w.achieved_rate, w.sent, w.measured, w.ack_ok, w.received
    )?;
    print_summary(out, "ack", &w.ack)?;
    print_summary(out, "e2e", &w.e2e)?;
    let e = &w.errors;
    writeln!(
        out,
        "  errors: {} (failure acks {:?}, no ack {}, not received {}, closed {:?})",
        e.total, e.ack_errors, e.ack_missing, e.not_received, e.closed
    )
}

/// Writes a connect batch.
///
/// # Errors
/// Writing failed.
pub fn print_connect(out: &mut dyn Write, what: &str, c: &ConnectResult) -> std::io::Result<()> {
    writeln!(
        out,
        "  {what}: {}/{} connected ({} resumed, {} failed) in {:.2} s; handshake p50={:.1}ms p99={:.1}ms; failed attempts {:?}",
        c.connected,
        c.attempted,
        c.resumed,
        c.failed,
        c.wall_s,
        c.times.p50_ms,
        c.times.p99_ms,
        c.attempt_errors
    )
}

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}s"))
}

/// Writes CPU use.
///
/// # Errors
/// Writing failed.
pub fn print_cpu(
    out: &mut dyn Write,
    cpu: Option<&CpuUse>,
    gateway_us_per_msg: Option<f64>,
) -> std::io::Result<()> {
    let Some(c) = cpu else {
        return Ok(());
    };
    writeln!(
        out,
        "  cpu over {:.1} s: gateway {} postgres {} redis {} generator {} | machine {} of which foreign {}",
        c.wall_s,
        secs(c.gateway_s),
        secs(c.postgres_s),
        secs(c.redis_s),
        secs(c.generator_s),
        secs(c.machine_s),
        secs(c.other_s)
    )?;
    if let Some(us) = gateway_us_per_msg {
        writeln!(out, "  gateway cpu per message: {us:.0} us")?;
    }
    Ok(())
}

/// Writes `value` as pretty JSON to `path` (creating its directory).
///
/// # Errors
/// Serialising or writing failed.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}
