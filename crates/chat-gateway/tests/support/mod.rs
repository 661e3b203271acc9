//! A real gateway on port 0 for black-box tests, and the runner of the Node suite.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
};

use chat_gateway::{App, Settings, config::Sources};
use tokio::{process::Command, sync::oneshot, task::JoinHandle};

pub mod cluster;
pub mod faults;

/// The HS256 secret every test token is signed with.
pub const SECRET: &str = "blackbox-secret-0123456789";

/// A gateway serving in this process.
pub struct Server {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
    dropped_database: Option<(String, String)>,
}

fn settings(database_url: &str) -> Settings {
    settings_with(database_url, &[])
}

/// Like [`settings`], on the development secret (no `CHAT_JWT_SECRET`): `POST /dev/token` is on.
fn dev_settings(database_url: &str) -> Settings {
    let env: BTreeMap<String, String> = [
        ("CHAT_BIND", "127.0.0.1:0"),
        ("CHAT_DATABASE_URL", database_url),
        ("CHAT_TYPING_TIMEOUT_MS", "800"),
        // the history-paging test sends more than the default 10 a minute
        ("CHAT_RATE_LIMIT_MESSAGE_SEND", "200"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Settings::from_sources(&Sources::new(env, BTreeMap::new())).expect("test settings are valid")
}

impl Server {
    async fn start(
        database_url: &str,
        dir: tempfile::TempDir,
        dropped_database: Option<(String, String)>,
    ) -> Self {
        Self::start_with(settings(database_url), dir, dropped_database).await
    }

    async fn start_with(
        settings: Settings,
        dir: tempfile::TempDir,
        dropped_database: Option<(String, String)>,
    ) -> Self {
        let app = App::build(settings).await.expect("the gateway starts");
        let addr = app.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop,
            task,
            _dir: dir,
            dropped_database,
        }
    }

    /// On a fresh SQLite file.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("chat.db").display());
        Self::start(&url, dir, None).await
    }

    /// On a fresh SQLite file, with the development secret (so `POST /dev/token` is served).
    pub async fn sqlite_dev() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("chat.db").display());
        Self::start_with(dev_settings(&url), dir, None).await
    }

    /// On a fresh PostgreSQL database, when `CHAT_TEST_DATABASE_URL` is set.
    pub async fn postgres() -> Option<Self> {
        let base = std::env::var("CHAT_TEST_DATABASE_URL").ok()?;
        let name = format!("chat_bb_{}", uuid::Uuid::new_v4().simple());
        admin(&base, &format!("CREATE DATABASE {name}")).await;
        let url = match base.rfind('/') {
            Some(i) => format!("{}/{name}", &base[..i]),
            None => panic!("CHAT_TEST_DATABASE_URL has no database name"),
        };
        let dir = tempfile::tempdir().unwrap();
        Some(Self::start(&url, dir, Some((base, name))).await)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the gateway gracefully and drops its database.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
        if let Some((base, name)) = self.dropped_database {
            admin(
                &base,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await;
        }
    }
}

async fn admin(base: &str, sql: &str) {
    use sea_orm::{ConnectionTrait, Database};
    let db = Database::connect(base)
        .await
        .expect("CHAT_TEST_DATABASE_URL is reachable");
    db.execute_unprepared(sql).await.expect(sql);
    db.close().await.ok();
}

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/blackbox")
}

/// Runs every `*.test.mjs` of the suite with `node --test` against `server`.
pub async fn run_node_suite(server: &Server) {
    let dir = suite_dir();
    npm_ci_in(&dir, "socket.io-client").await;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.test.mjs in {}", dir.display());
    let output = Command::new("node")
        .arg("--test")
        .arg("--test-reporter=spec")
        .args(&files)
        .current_dir(&dir)
        .env("CHAT_URL", server.url())
        .env("CHAT_SECRET", SECRET)
        .env("CHAT_GATEWAY_BIN", env!("CARGO_BIN_EXE_chat-gateway"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("node is installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}\n{stderr}");
    assert!(
        output.status.success(),
        "the black-box suite failed (see above)"
    );
}

/// Installs the npm dependencies of `dir` (with `npm ci`) unless `dir/node_modules/{marker}` exists.
pub async fn npm_ci_in(dir: &Path, marker: &str) {
    // Tests of one binary run concurrently: one installs while the others wait (an `npm ci`
    // under a running suite would pull its modules away).
    static INSTALL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _installing = INSTALL.lock().await;
    if dir.join("node_modules").join(marker).exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .await
        .expect("npm is installed");
    assert!(status.success(), "npm ci failed in {}", dir.display());
}

/// Runs every `*.test.mjs` of `dir` with `node --test` and the environment `env`; panics with
/// `what` when they fail (their output is printed).
pub async fn run_node_tests(dir: &Path, env: &[(&str, String)], what: &str) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.test.mjs in {}", dir.display());
    let mut command = Command::new("node");
    command
        .arg("--test")
        .arg("--test-reporter=spec")
        .args(&files)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().await.expect("node is installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}\n{stderr}");
    assert!(output.status.success(), "{what} failed (see above)");
}

/// The test settings, with `overrides` (variable, value) on top.
fn settings_with(database_url: &str, overrides: &[(&str, &str)]) -> Settings {
    let mut env: BTreeMap<String, String> = [
        ("CHAT_BIND", "127.0.0.1:0"),
        ("CHAT_DATABASE_URL", database_url),
        ("CHAT_JWT_SECRET", SECRET),
        ("CHAT_TYPING_TIMEOUT_MS", "800"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in overrides {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    Settings::from_sources(&Sources::new(env, BTreeMap::new())).expect("test settings are valid")
}

impl Server {
    /// On a fresh SQLite file, with `overrides` (e.g. higher rate limits) on the test settings.
    pub async fn sqlite_with(overrides: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("chat.db").display());
        Self::start_with(settings_with(&url, overrides), dir, None).await
    }

    /// On the database at `url` (the test owns it), with `overrides`.
    pub async fn on_database(url: &str, overrides: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::start_with(settings_with(url, overrides), dir, None).await
    }

    /// On a fresh PostgreSQL database when `CHAT_TEST_DATABASE_URL` is set, with `overrides`.
    pub async fn postgres_with(overrides: &[(&str, &str)]) -> Option<Self> {
        let base = std::env::var("CHAT_TEST_DATABASE_URL").ok()?;
        let name = format!("chat_soak_{}", uuid::Uuid::new_v4().simple());
        admin(&base, &format!("CREATE DATABASE {name}")).await;
        let url = match base.rfind('/') {
            Some(i) => format!("{}/{name}", &base[..i]),
            None => panic!("CHAT_TEST_DATABASE_URL has no database name"),
        };
        let dir = tempfile::tempdir().unwrap();
        Some(Self::start_with(settings_with(&url, overrides), dir, Some((base, name))).await)
    }
}
