//! Readings from `/proc`: CPU seconds and resident memory of the processes a run watches (the
//! gateway, PostgreSQL, Redis and the generator itself), the load average, and what machine this
//! is. Linux only; elsewhere the readings are absent (`None`), never invented.

use std::{path::Path, time::Instant};

use serde::{Deserialize, Serialize};

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// `utime + stime` of `pid`, in seconds.
#[must_use]
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    // After ')': state (field 3) … utime is field 14, stime field 15.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// `VmRSS` of `pid`, in bytes.
#[must_use]
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The pids whose command name (`/proc/<pid>/comm`, at most 15 bytes) is `name`.
#[must_use]
pub fn pids_named(name: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Busy CPU seconds of the whole machine since boot (all of `/proc/stat`'s `cpu` line but
/// idle and iowait).
#[must_use]
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    let busy: f64 = fields
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    Some(busy / TICKS_PER_SEC)
}

/// Whether the PostgreSQL process `pid` counts for database `db`: a client backend of that
/// database, or a process that is not a client backend (postmaster, writers, checkpointer…),
/// which every database shares. Client backends of other databases (other users' tests on the
/// same server) do not count.
#[must_use]
pub fn postgres_process_serves(pid: u32, db: &str) -> bool {
    let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let title = String::from_utf8_lossy(&raw).replace('\0', " ");
    backend_database(&title).is_none_or(|d| d == db)
}

/// The database of a client backend's process title
/// (`postgres: [cluster: ]user db host(port) state`), `None` for other PostgreSQL processes.
fn backend_database(title: &str) -> Option<&str> {
    let rest = title.trim().strip_prefix("postgres: ")?;
    // Debian names the cluster first: `postgres: 15/main: postgres bench 127.0.0.1(5) idle`.
    let rest = match rest.split_once(": ") {
        Some((cluster, after)) if !cluster.contains(' ') => after,
        _ => rest,
    };
    let tokens: Vec<&str> = rest.split_whitespace().collect();
    let host = tokens.get(2)?;
    (host.contains('(') || *host == "[local]").then(|| tokens[1])
}

/// The 1, 5 and 15 minute load averages.
#[must_use]
pub fn loadavg() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(str::parse::<f64>);
    Some([it.next()?.ok()?, it.next()?.ok()?, it.next()?.ok()?])
}

/// The machine a run was taken on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// `MemTotal`, GiB.
    pub memory_gib: f64,
    /// The first `model name` of `/proc/cpuinfo`.
    pub cpu_model: Option<String>,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: Option<String>,
    /// The open files limit of this process (soft, hard).
    pub nofile_limit: Option<(u64, u64)>,
}

impl Machine {
    /// Reads the machine's description.
    #[must_use]
    pub fn read() -> Self {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Self {
            cores: std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
            memory_gib: (mem_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            cpu_model: cpuinfo
                .lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|s| s.trim().to_owned()),
            nofile_limit: rlimit::getrlimit(rlimit::Resource::NOFILE).ok(),
        }
    }
}

/// Raises this process's open-files limit to its hard limit; the (soft, hard) limit after.
#[must_use]
pub fn raise_nofile_limit() -> Option<(u64, u64)> {
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).ok()?;
    let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard);
    rlimit::getrlimit(rlimit::Resource::NOFILE).ok()
}

/// Which processes a run watches.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// Gateway pids (given with `--gateway-pid`, or found by the name `chat-gateway`).
    pub gateway: Vec<u32>,
    /// Whether PostgreSQL (`postgres`) and Redis (`redis-server`) are looked up by name.
    pub services_by_name: bool,
    /// Count only the PostgreSQL client backends of this database (and the shared processes).
    pub postgres_db: Option<String>,
    /// Generator processes besides this one (shard children).
    pub children: Vec<u32>,
}

impl Watch {
    /// Watches `gateway` when given, else every process named `chat-gateway`, and the
    /// services by name.
    #[must_use]
    pub fn new(gateway: Vec<u32>) -> Self {
        let gateway = if gateway.is_empty() {
            pids_named("chat-gateway")
        } else {
            gateway
        };
        Self {
            gateway,
            services_by_name: true,
            postgres_db: None,
            children: Vec::new(),
        }
    }

    /// Watches nothing but this process (an in-process gateway, tests).
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Readings now, labelled `label`; `t_secs` counts from `since`.
    #[must_use]
    pub fn snapshot(&self, label: &str, since: Instant) -> Snapshot {
        let sum = |pids: &[u32]| -> Option<f64> {
            let values: Vec<f64> = pids.iter().filter_map(|p| cpu_seconds(*p)).collect();
            (!values.is_empty()).then(|| values.iter().sum())
        };
        let mut postgres_by_pid = Vec::new();
        let (postgres_cpu_s, redis_cpu_s) = if self.services_by_name {
            let mut postgres = pids_named("postgres");
            if let Some(db) = &self.postgres_db {
                postgres.retain(|pid| postgres_process_serves(*pid, db));
            }
            postgres_by_pid = postgres
                .iter()
                .filter_map(|p| Some((*p, cpu_seconds(*p)?)))
                .collect();
            (sum(&postgres), sum(&pids_named("redis-server")))
        } else {
            (None, None)
        };
        let mut generator = vec![std::process::id()];
        generator.extend(&self.children);
        Snapshot {
            label: label.to_owned(),
            t_secs: since.elapsed().as_secs_f64(),
            loadavg_1m: loadavg().map(|l| l[0]),
            machine_busy_s: machine_busy_seconds(),
            gateway_cpu_s: sum(&self.gateway),
            postgres_cpu_s,
            postgres_by_pid,
            redis_cpu_s,
            generator_cpu_s: sum(&generator),
            gateway_rss_bytes: {
                let values: Vec<u64> = self.gateway.iter().filter_map(|p| rss_bytes(*p)).collect();
                (!values.is_empty()).then(|| values.iter().sum())
            },
        }
    }
}

/// Readings at one labelled point of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// The point (`start`, `end`, `connected`, `up:2`, …).
    pub label: String,
    /// Seconds since the run started.
    pub t_secs: f64,
    /// The 1-minute load average.
    pub loadavg_1m: Option<f64>,
    /// Busy CPU seconds of the whole machine.
    pub machine_busy_s: Option<f64>,
    /// CPU seconds of the gateway process(es).
    pub gateway_cpu_s: Option<f64>,
    /// CPU seconds of every `postgres` process counted.
    pub postgres_cpu_s: Option<f64>,
    /// The same per process: backends come and go, so deltas are taken per pid.
    #[serde(default, skip_serializing)]
    pub postgres_by_pid: Vec<(u32, f64)>,
    /// CPU seconds of `redis-server`.
    pub redis_cpu_s: Option<f64>,
    /// CPU seconds of the generator processes.
    pub generator_cpu_s: Option<f64>,
    /// Resident memory of the gateway process(es).
    pub gateway_rss_bytes: Option<u64>,
}

/// CPU seconds spent by each watched process between two snapshots.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CpuUse {
    /// Wall seconds between the snapshots.
    pub wall_s: f64,
    /// Gateway.
    pub gateway_s: Option<f64>,
    /// PostgreSQL (all backends).
    pub postgres_s: Option<f64>,
    /// Redis.
    pub redis_s: Option<f64>,
    /// The generator (all its processes).
    pub generator_s: Option<f64>,
    /// The whole machine.
    pub machine_s: Option<f64>,
    /// Everything else on the machine (foreign load: other users' builds, tests…).
    pub other_s: Option<f64>,
}

impl CpuUse {
    /// The use between `from` and `to`.
    #[must_use]
    pub fn between(from: &Snapshot, to: &Snapshot) -> Self {
        let d = |a: Option<f64>, b: Option<f64>| Some(((b? - a?) * 100.0).round() / 100.0);
        let gateway_s = d(from.gateway_cpu_s, to.gateway_cpu_s);
        // Per pid: a backend that started in between counts whole; one that ended in between
        // is lost (its time is not readable any more), so this slightly undercounts.
        let postgres_s = if to.postgres_by_pid.is_empty() {
            d(from.postgres_cpu_s, to.postgres_cpu_s)
        } else {
            let before: std::collections::HashMap<u32, f64> =
                from.postgres_by_pid.iter().copied().collect();
            let total: f64 = to
                .postgres_by_pid
                .iter()
                .map(|(pid, t)| t - before.get(pid).copied().unwrap_or(0.0))
                .sum();
            Some((total * 100.0).round() / 100.0)
        };
        let redis_s = d(from.redis_cpu_s, to.redis_cpu_s);
        let generator_s = d(from.generator_cpu_s, to.generator_cpu_s);
        let machine_s = d(from.machine_busy_s, to.machine_busy_s);
        let ours = [gateway_s, postgres_s, redis_s, generator_s]
            .iter()
            .flatten()
            .sum::<f64>();
        Self {
            wall_s: ((to.t_secs - from.t_secs) * 1000.0).round() / 1000.0,
            gateway_s,
            postgres_s,
            redis_s,
            generator_s,
            machine_s,
            other_s: machine_s.map(|m| (((m - ours) * 100.0).round() / 100.0).max(0.0)),
        }
    }

    /// The use between the snapshots labelled `from` and `to`, when both were taken.
    #[must_use]
    pub fn between_labels(snapshots: &[Snapshot], from: &str, to: &str) -> Option<Self> {
        let find = |l: &str| snapshots.iter().find(|s| s.label == l);
        Some(Self::between(find(from)?, find(to)?))
    }
}

/// Whether `/proc` exists (readings are possible).
#[must_use]
pub fn available() -> bool {
    Path::new("/proc/self/stat").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_titles_name_their_database() {
        let t = "postgres: 15/main: postgres bench 127.0.0.1(51064) idle";
        assert_eq!(backend_database(t), Some("bench"));
        assert_eq!(
            backend_database("postgres: app chat [local] idle"),
            Some("chat")
        );
        assert_eq!(backend_database("postgres: 15/main: checkpointer"), None);
        assert_eq!(
            backend_database("postgres: 15/main: background writer"),
            None
        );
        assert_eq!(
            backend_database("/usr/lib/postgresql/15/bin/postgres -D /var/lib/x"),
            None
        );
    }

    #[test]
    fn this_process_has_readings() {
        if !available() {
            return;
        }
        let pid = std::process::id();
        assert!(cpu_seconds(pid).is_some());
        assert!(rss_bytes(pid).is_some_and(|b| b > 0));
        assert!(loadavg().is_some());
        let snap = Watch::none().snapshot("x", Instant::now());
        assert!(snap.generator_cpu_s.is_some());
        assert_eq!(snap.gateway_cpu_s, None);
    }
}
