//! A private PostgreSQL cluster for fault tests: `initdb` into a temporary directory, started
//! on a free port with `pg_ctl`, killed with SIGKILL (the postmaster and every child at once,
//! as a crash or an OOM kill would) and started again. The shared server of
//! `CHAT_TEST_DATABASE_URL` is never touched.
//!
//! The binaries come from `CHAT_TEST_PG_BIN` or `/usr/lib/postgresql/15/bin`; without them
//! the tests say they skipped. PostgreSQL refuses to run as root: as root, the commands run
//! as the `postgres` user (`runuser`).

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use tempfile::TempDir;

/// One private cluster; stopped (immediate mode) when dropped.
#[derive(Debug)]
pub struct PrivatePg {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl PrivatePg {
    /// Creates and starts a cluster; `None` (after saying so) without the binaries.
    pub fn start() -> Option<Self> {
        let bin = std::env::var_os("CHAT_TEST_PG_BIN").map_or_else(
            || PathBuf::from("/usr/lib/postgresql/15/bin"),
            PathBuf::from,
        );
        if !bin.join("initdb").exists() {
            eprintln!("skipped: no PostgreSQL binaries in {}", bin.display());
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let pg = Self {
            dir,
            bin,
            port: free_port(),
            as_postgres: is_root(),
        };
        if pg.as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(pg.dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown the cluster directory");
        }
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        pg.pg_ctl_start();
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.stdin(Stdio::null());
        cmd
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pg_ctl_start(&self) {
        let data = self.data();
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off \
             -c max_connections=60",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
    }

    /// The URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// SIGKILL to the postmaster and all its children at once: every connection breaks and
    /// the port refuses connections until [`Self::restart`].
    pub fn kill(&self) {
        let pid_file = std::fs::read_to_string(self.data().join("postmaster.pid")).unwrap();
        let postmaster: u32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
        let mut pids = children_of(postmaster);
        pids.push(postmaster);
        // A backend may have exited since it was listed: `kill` then fails for that one only.
        let _ = Command::new("kill")
            .arg("-9")
            .args(pids.iter().map(ToString::to_string))
            .stderr(Stdio::null())
            .status()
            .unwrap();
        // Wait until the processes are gone, so that the port is closed for certain.
        for _ in 0..100 {
            if pids
                .iter()
                .all(|p| !Path::new(&format!("/proc/{p}")).exists() || is_zombie(*p))
            {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Starts the cluster again (crash recovery included); returns once it accepts connections.
    pub fn restart(&self) {
        self.pg_ctl_start();
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", data.to_str().unwrap_or(""), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The processes whose parent is `parent` (from `/proc`).
fn children_of(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(stat) = read_stat(pid)
            && stat.ppid == parent
        {
            out.push(pid);
        }
    }
    out
}

struct Stat {
    state: char,
    ppid: u32,
}

fn read_stat(pid: u32) -> Option<Stat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`; comm may hold spaces, so read after the last `)`.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some(Stat { state, ppid })
}

fn is_zombie(pid: u32) -> bool {
    read_stat(pid).is_none_or(|s| s.state == 'Z')
}
