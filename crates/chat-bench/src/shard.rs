//! Spreading one run over several generator processes (one process may hold at most ~19,000
//! connections here: the open-files limit is 20,000).
//!
//! The parent re-runs its own command line once per shard with `--shard i/N` (and without
//! `--processes`); each child takes every N-th pair / connection and 1/N of the rate. A child
//! and its parent speak in lines: the child prints `@@point <label>` at each synchronisation
//! point and waits for `@@go` on its stdin; the parent answers once every child has reached
//! the point, after taking its `/proc` [`Snapshot`] there. The child ends with
//! `@@result <json>`, and the parent merges the results. In one process the same points just
//! take the snapshot.

use std::{collections::BTreeMap, ffi::OsString, process::Stdio, time::Instant};

use anyhow::{Context as _, bail};
use tokio::{
    io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines, Stdin},
    process::{Child, ChildStdin, Command},
    sync::{Mutex, mpsc},
};

use crate::procfs::{Snapshot, Watch};

const POINT: &str = "@@point ";
const GO: &str = "@@go";
const RESULT: &str = "@@result ";

/// Which slice of the work this process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl Shard {
    /// The whole work in one process.
    #[must_use]
    pub fn single() -> Self {
        Self { index: 0, count: 1 }
    }

    /// Parses `i/N`.
    ///
    /// # Errors
    /// Not `i/N` with `i < N`.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let (i, n) = text.split_once('/').context("--shard is i/N")?;
        let index: usize = i.trim().parse().context("--shard i/N: i")?;
        let count: usize = n.trim().parse().context("--shard i/N: N")?;
        if count == 0 || index >= count {
            bail!("--shard {text}: need 0 <= i < N");
        }
        Ok(Self { index, count })
    }

    /// Whether item `i` of a list belongs to this shard.
    #[must_use]
    pub fn owns(&self, i: usize) -> bool {
        i % self.count == self.index
    }

    /// How many of `total` items belong to this shard.
    #[must_use]
    pub fn share(&self, total: usize) -> usize {
        (0..total).filter(|i| self.owns(*i)).count()
    }

    /// This shard's part of a total rate.
    #[must_use]
    #[expect(clippy::cast_precision_loss, reason = "a handful of shards")]
    pub fn rate(&self, total: f64) -> f64 {
        total / self.count as f64
    }
}

/// Synchronisation points of a run (see the module documentation).
#[derive(Debug)]
pub enum Coordinator {
    /// One process: each point takes a snapshot.
    Local {
        /// What to read.
        watch: Watch,
        /// When the run started.
        started: Instant,
        /// The snapshots so far.
        snapshots: std::sync::Mutex<Vec<Snapshot>>,
    },
    /// A shard child: each point waits for the parent.
    Child {
        /// The parent's answers.
        stdin: Mutex<Lines<BufReader<Stdin>>>,
    },
}

impl Coordinator {
    /// A single-process coordinator reading `watch`.
    #[must_use]
    pub fn local(watch: Watch) -> Self {
        Self::Local {
            watch,
            started: Instant::now(),
            snapshots: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// A child's coordinator.
    #[must_use]
    pub fn child() -> Self {
        Self::Child {
            stdin: Mutex::new(BufReader::new(tokio::io::stdin()).lines()),
        }
    }

    /// Whether this is a shard child (which prints only protocol lines on stdout).
    #[must_use]
    pub fn is_child(&self) -> bool {
        matches!(self, Self::Child { .. })
    }

    /// Reaches the point `label`: takes a snapshot, or waits until every shard is there.
    ///
    /// # Errors
    /// The parent went away.
    pub async fn point(&self, label: &str) -> anyhow::Result<()> {
        match self {
            Self::Local {
                watch,
                started,
                snapshots,
            } => {
                let snapshot = watch.snapshot(label, *started);
                if let Ok(mut list) = snapshots.lock() {
                    list.push(snapshot);
                }
                Ok(())
            }
            Self::Child { stdin } => {
                protocol_line(&format!("{POINT}{label}"))?;
                let mut lines = stdin.lock().await;
                match lines.next_line().await? {
                    Some(line) if line.trim() == GO => Ok(()),
                    other => bail!("expected {GO} from the parent at {label}, got {other:?}"),
                }
            }
        }
    }

    /// The snapshots taken (none in a child: the parent takes them).
    #[must_use]
    pub fn into_snapshots(self) -> Vec<Snapshot> {
        match self {
            Self::Local { snapshots, .. } => snapshots.into_inner().unwrap_or_default(),
            Self::Child { .. } => Vec::new(),
        }
    }
}

fn protocol_line(line: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// Prints a child's result for the parent.
///
/// # Errors
/// Serialising or writing failed.
pub fn send_result<T: serde::Serialize>(result: &T) -> anyhow::Result<()> {
    protocol_line(&format!("{RESULT}{}", serde_json::to_string(result)?))
}

/// The parent's side: runs `count` children with `args` (plus `--shard i/N`), answers their
/// points after taking a snapshot with `watch` (which learns the children's pids), and returns
/// their results, in shard order, and the snapshots.
///
/// # Errors
/// A child could not start, failed, or ended without a result.
pub async fn run_parent(
    count: usize,
    args: &[OsString],
    mut watch: Watch,
) -> anyhow::Result<(Vec<serde_json::Value>, Vec<Snapshot>)> {
    let exe = std::env::current_exe().context("finding this executable")?;
    let started = Instant::now();
    let (lines_tx, mut lines_rx) = mpsc::unbounded_channel::<(usize, Option<String>)>();
    let mut children: Vec<Child> = Vec::with_capacity(count);
    let mut stdins: Vec<ChildStdin> = Vec::with_capacity(count);
    for index in 0..count {
        let mut child = Command::new(&exe)
            .args(args)
            .arg("--shard")
            .arg(format!("{index}/{count}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting a shard process")?;
        if let Some(pid) = child.id() {
            watch.children.push(pid);
        }
        let stdout = child.stdout.take().context("a shard's stdout")?;
        stdins.push(child.stdin.take().context("a shard's stdin")?);
        let tx = lines_tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send((index, Some(line))).is_err() {
                    return;
                }
            }
            let _ = tx.send((index, None));
        });
        children.push(child);
    }
    drop(lines_tx);
    let mut waiting: BTreeMap<String, usize> = BTreeMap::new();
    let mut results: Vec<Option<serde_json::Value>> = vec![None; count];
    let mut snapshots = Vec::new();
    let mut open = count;
    while open > 0 {
        let Some((index, line)) = lines_rx.recv().await else {
            break;
        };
        let Some(line) = line else {
            open -= 1;
            if results.get(index).is_some_and(Option::is_none) {
                bail!("shard {index}/{count} ended without a result (see its errors above)");
            }
            continue;
        };
        if let Some(label) = line.strip_prefix(POINT) {
            let reached = waiting.entry(label.to_owned()).or_default();
            *reached += 1;
            if *reached == count {
                snapshots.push(watch.snapshot(label, started));
                for stdin in &mut stdins {
                    stdin.write_all(format!("{GO}\n").as_bytes()).await?;
                    stdin.flush().await?;
                }
            }
        } else if let Some(json) = line.strip_prefix(RESULT) {
            let value = serde_json::from_str(json).context("a shard's result")?;
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(value);
            }
        } else {
            eprintln!("[shard {index}] {line}");
        }
    }
    for mut child in children {
        let status = child.wait().await?;
        if !status.success() {
            bail!("a shard process failed: {status}");
        }
    }
    let results = results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.with_context(|| format!("shard {i} sent no result")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((results, snapshots))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_items_and_rate() {
        let s = Shard::parse("1/3").unwrap();
        assert!(s.owns(1) && s.owns(4) && !s.owns(0));
        assert_eq!(s.share(10), 3);
        assert!((s.rate(300.0) - 100.0).abs() < 1e-9);
        assert!(Shard::parse("3/3").is_err());
        assert_eq!(Shard::single().share(7), 7);
    }
}
