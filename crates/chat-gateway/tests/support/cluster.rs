//! Several gateway processes (the real binary) sharing one PostgreSQL database and one Redis:
//! the production profile, for the multi-node black-box suite and the soak.

use std::{process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use super::SECRET;

/// One gateway process.
pub struct Node {
    pub url: String,
    child: Child,
}

impl Node {
    /// The process id (to kill it with SIGKILL from a test).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the node is running")
    }

    /// Waits for the process to end (after a signal), at most `within`.
    pub async fn exited(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, self.child.wait())
            .await
            .is_ok()
    }
}

/// Gateways on one database and one Redis key prefix, each on its own port.
pub struct Cluster {
    pub nodes: Vec<Node>,
    base: String,
    database: String,
    /// What a node is started with: database URL, Redis URL, key prefix, extra variables.
    url: String,
    redis: String,
    prefix: String,
    env: Vec<(String, String)>,
}

/// The shared dependencies, when `CHAT_TEST_DATABASE_URL` and `CHAT_TEST_REDIS_URL` are set.
pub fn production_urls() -> Option<(String, String)> {
    let db = std::env::var("CHAT_TEST_DATABASE_URL").ok()?;
    let redis = std::env::var("CHAT_TEST_REDIS_URL").ok()?;
    Some((db, redis))
}

impl Cluster {
    /// Starts `n` nodes on a fresh database and a fresh key prefix, with `env` on top of the
    /// test settings. The first node migrates the database before the others start.
    pub async fn start(n: usize, env: &[(&str, &str)]) -> Option<Self> {
        let (_, redis) = production_urls()?;
        Self::start_on(n, &redis, env).await
    }

    /// Like [`Self::start`], on the Redis at `redis`.
    pub async fn start_on(n: usize, redis: &str, env: &[(&str, &str)]) -> Option<Self> {
        let (base, _) = production_urls()?;
        Some(Self::start_at(n, &base, redis, env).await)
    }

    /// Like [`Self::start`], on a fresh database of the PostgreSQL server `base` (a URL with a
    /// database name) and the Redis at `redis`.
    pub async fn start_at(n: usize, base: &str, redis: &str, env: &[(&str, &str)]) -> Self {
        let base = base.to_owned();
        let database = format!("chat_mn_{}", uuid::Uuid::new_v4().simple());
        super::admin(&base, &format!("CREATE DATABASE {database}")).await;
        let url = match base.rfind('/') {
            Some(i) => format!("{}/{database}", &base[..i]),
            None => panic!("CHAT_TEST_DATABASE_URL has no database name"),
        };
        let prefix = format!("chat-mn-{}", uuid::Uuid::new_v4().simple());
        let mut cluster = Self {
            nodes: Vec::new(),
            base,
            database,
            url,
            redis: redis.to_owned(),
            prefix,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        for _ in 0..n {
            let node = cluster.spawn("127.0.0.1:0").await;
            cluster.nodes.push(node);
        }
        cluster
    }

    async fn spawn(&self, bind: &str) -> Node {
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.push(("CHAT_BIND", bind));
        spawn(&self.url, &self.redis, &self.prefix, &env).await
    }

    /// Starts node `i` again on its port, once its process has ended (killed or stopped).
    pub async fn restart(&mut self, i: usize) {
        let bind = self.nodes[i].url.trim_start_matches("http://").to_owned();
        let _ = self.nodes[i].exited(Duration::from_secs(30)).await;
        self.nodes[i] = self.spawn(&bind).await;
    }

    /// The URL of the cluster's database.
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// The nodes' base URLs, comma-separated.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.url.clone())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Kills every node still running and drops the database.
    pub async fn stop(mut self) {
        for node in &mut self.nodes {
            let _ = node.child.start_kill();
            let _ = node.child.wait().await;
        }
        super::admin(
            &self.base,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
        )
        .await;
    }
}

async fn spawn(database_url: &str, redis_url: &str, prefix: &str, env: &[(&str, &str)]) -> Node {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chat-gateway"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("CHAT_BIND", "127.0.0.1:0")
        .env("CHAT_DATABASE_URL", database_url)
        .env("CHAT_REDIS_URL", redis_url)
        .env("CHAT_REDIS_KEY_PREFIX", prefix)
        .env("CHAT_JWT_SECRET", SECRET)
        .env("CHAT_TYPING_TIMEOUT_MS", "800")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("the gateway binary starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("reading the node's log") {
            eprintln!("[node] {line}");
            if line.contains("chat gateway listening")
                && let Some(addr) = line.split("addr=").nth(1)
            {
                return addr.split_whitespace().next().map(str::to_owned);
            }
        }
        None
    })
    .await
    .expect("the node starts within 60 s")
    .expect("the node logs its address");
    // Keep draining the log so the node never blocks on a full pipe; show its complaints.
    let tag = addr.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("WARN") || line.contains("ERROR") {
                eprintln!("[node {tag}] {line}");
            }
        }
    });
    Node {
        url: format!("http://{addr}"),
        child,
    }
}
