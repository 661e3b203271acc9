//! Dependencies a test may break: a private PostgreSQL cluster (`initdb` on a free port, run as
//! the `postgres` user when the test runs as root) and a private Redis, which a test kills,
//! pauses, locks and starts again without touching the shared services on 5432 and 6379.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::process::{Child, Command};

/// Where Debian keeps the PostgreSQL 15 binaries.
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A free TCP port on 127.0.0.1 (free when asked: the caller binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Sends `signal` (`KILL`, `STOP`, `CONT`, `TERM`) to `pid` with kill(1).
pub async fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .await
        .expect("kill(1) runs");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// The direct children of `pid`, from /proc.
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    // "pid (comm) state ppid …": comm may hold spaces, so split after the ')'
                    let rest = &s[s.rfind(')')? + 2..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

async fn wait_for_port(port: u16, within: Duration) -> bool {
    let end = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < end {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The uid and gid of `postgres` when running as root (PostgreSQL refuses to run as root).
fn postgres_ids() -> Option<(u32, u32)> {
    // The effective uid, from /proc (no libc dependency for one number).
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))?;
    if !root {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let mut fields = line.split(':').skip(2);
    let uid = fields.next()?.parse().ok()?;
    let gid = fields.next()?.parse().ok()?;
    Some((uid, gid))
}

fn as_postgres(command: &mut Command) {
    if let Some((uid, gid)) = postgres_ids() {
        command.uid(uid).gid(gid);
    }
}

/// A PostgreSQL cluster of the test's own.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    pub port: u16,
    server: Option<Child>,
}

impl PrivatePostgres {
    /// `None` when the PostgreSQL binaries are not installed.
    pub async fn start() -> Option<Self> {
        if !Path::new(PG_BIN).join("initdb").exists() {
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        if let Some((uid, gid)) = postgres_ids() {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown to postgres");
        }
        let mut initdb = Command::new(Path::new(PG_BIN).join("initdb"));
        initdb
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(dir.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        as_postgres(&mut initdb);
        let status = initdb.status().await.expect("initdb runs");
        assert!(status.success(), "initdb failed");
        let mut pg = Self {
            dir,
            port: free_port(),
            server: None,
        };
        pg.run().await;
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Starts the server (again: after a kill it recovers from its WAL).
    pub async fn run(&mut self) {
        let mut command = Command::new(Path::new(PG_BIN).join("postgres"));
        command
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "max_connections=200"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        as_postgres(&mut command);
        self.server = Some(command.spawn().expect("postgres starts"));
        assert!(
            wait_for_port(self.port, Duration::from_secs(30)).await,
            "the private PostgreSQL did not listen within 30 s"
        );
        // Accepting TCP is not accepting queries during recovery: wait for a query to pass.
        for _ in 0..300 {
            if sea_orm::Database::connect(self.url("postgres"))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the private PostgreSQL did not accept connections within 30 s");
    }

    /// The postmaster's pid while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().and_then(Child::id)
    }

    /// A crash: SIGKILL to the postmaster and every backend at once.
    pub async fn kill(&mut self) {
        if let Some(pid) = self.pid() {
            let backends = children(pid);
            signal(pid, "KILL").await;
            for b in backends {
                let _ = Command::new("kill")
                    .args(["-KILL", &b.to_string()])
                    .status()
                    .await;
            }
        }
        if let Some(mut child) = self.server.take() {
            let _ = child.wait().await;
        }
        // Orphaned backends may take a moment to go; the next start needs the port and the
        // shared memory back.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let backends = children(pid);
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            for b in backends {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &b.to_string()])
                    .status();
            }
        }
    }
}

/// A Redis of the test's own; it keeps nothing on disk, so a restart starts empty.
pub struct PrivateRedis {
    pub port: u16,
    server: Option<Child>,
}

impl PrivateRedis {
    /// `None` without `redis-server`.
    pub async fn start() -> Option<Self> {
        let mut redis = Self {
            port: free_port(),
            server: None,
        };
        redis.run().await.then_some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().and_then(Child::id)
    }

    /// Starts the server (again) on the same port.
    pub async fn run(&mut self) -> bool {
        let Ok(child) = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
        else {
            return false;
        };
        self.server = Some(child);
        wait_for_port(self.port, Duration::from_secs(10)).await
    }

    /// SIGKILL: everything it held is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }
}
