//! Dependencies a test may break besides the private PostgreSQL cluster of
//! `chat_testkit::private_pg`: a private Redis, which a test kills, pauses and starts again
//! without touching the shared one on 6379, and signals to processes.

use std::{process::Stdio, time::Duration};

use tokio::process::{Child, Command};

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
