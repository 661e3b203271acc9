//! Fault-injection soak (issue 7): nothing acknowledged is lost, nothing is duplicated, no gap
//! is hidden on resume. `tests/soak/soak.mjs` drives N one-to-one conversations (two users, two
//! devices each) through a TCP proxy that cuts connections mid-frame (acks lost after commit
//! included) and stalls them, while devices also disconnect cleanly and resume with the same
//! deviceId; it retries every send with the same messageId until acknowledged, then checks the
//! recorded history against REST history and chat lists (`tests/soak/checker.mjs`): each check
//! is a count that must be zero. The script prints its figures (sent, acked, retries, drops,
//! resumes, …) and each check.
//!
//! CI (`cargo test -p chat-gateway --test soak`) runs a seconds-long configuration for seeds 1,
//! 2 and 3: on the embedded default (SQLite); on PostgreSQL when `CHAT_TEST_DATABASE_URL` is
//! set; on the production profile (two gateway processes, PostgreSQL and Redis, devices spread
//! over both) when `CHAT_TEST_REDIS_URL` is set too; and the checker's self-test (synthetic
//! histories with each fault injected).
//!
//! The long run (20,000 messages, 500 drops by default; every `CHAT_SOAK_*` variable of
//! `soak.mjs` is honoured, `CHAT_SOAK_PROFILE=postgres` uses `CHAT_TEST_DATABASE_URL`):
//!
//! ```text
//! cargo test --release -p chat-gateway --test soak -- --ignored --nocapture long_soak
//! CHAT_SOAK_SEED=7 CHAT_SOAK_MESSAGES=50000 CHAT_SOAK_DROPS=1000 CHAT_SOAK_REPORT=/tmp/soak.json \
//!   cargo test --release -p chat-gateway --test soak -- --ignored --nocapture long_soak
//! ```
//!
//! A failed `missedByDevice` check prints, per miss, the device's session around it and a
//! breakdown by what followed the drop (`resumeWithoutLastSequences`, `resumeWithLastSequences`,
//! `notResumed` — a fresh `connected` for a known deviceId — or `noReconnect`) and by whether the
//! message was already in flight when the client saw the drop. While a fix is in progress,
//! `CHAT_SOAK_ALLOW=missedByDevice` (long run, or by hand) reports that check without failing;
//! CI allows nothing.
//!
//! Against a gateway started by hand (or two, comma-separated: devices are spread over them):
//! `node crates/chat-gateway/tests/soak/soak.mjs --urls http://127.0.0.1:3000 --secret … --seed 1`
//! (raise `CHAT_RATE_LIMIT_MESSAGE_SEND` and `CHAT_RATE_LIMIT_MESSAGE_READ` on that gateway).
//! `node soak.mjs --check report.json` runs the checker again over a report's recorded input.
//!
//! A seed fixes the chaos schedule (which drop, when by acked count, whom, what kind, where in
//! the frame, how long a stall), reconnect pauses, which reconnects send `lastSequences` and the
//! read markers; the schedule's digest is printed. Timing is the machine's, so the exact
//! interleaving of one seed varies between runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use support::{SECRET, Server, cluster::Cluster, npm_ci_in};
use tokio::process::Command;

/// Rate limits out of the way: the soak measures delivery, not quotas.
const OVERRIDES: &[(&str, &str)] = &[
    ("CHAT_RATE_LIMIT_MESSAGE_SEND", "1000000"),
    ("CHAT_RATE_LIMIT_MESSAGE_READ", "1000000"),
];

/// The CI configuration: 6 pairs x 2 users x 2 devices x 25 messages = 600 messages, 12 drops.
const CI_ARGS: &[&str] = &[
    "--pairs",
    "6",
    "--per-device",
    "25",
    "--drops",
    "12",
    "--stall-ms",
    "1200",
];

const CI_SEEDS: &[u64] = &[1, 2, 3];

fn soak_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/soak")
}

fn blackbox_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/blackbox")
}

/// Runs `soak.mjs` with `args` and the environment plus `env`, printing its output; whether it
/// passed. `CHAT_SOAK_*` variables reach it only when `tunable` (the long run): the CI
/// configuration stays what it is.
async fn soak(args: &[String], env: &[(&str, String)], tunable: bool) -> bool {
    // socket.io-client comes from the black-box suite's node_modules
    npm_ci_in(&blackbox_dir(), "socket.io-client").await;
    let mut command = Command::new("node");
    command
        .arg("soak.mjs")
        .args(args)
        .current_dir(soak_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !tunable {
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("CHAT_SOAK_") {
                command.env_remove(key);
            }
        }
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().await.expect("node is installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}\n{stderr}");
    output.status.success()
}

fn run_args(server: &Server, seed: u64, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--urls".to_owned(),
        server.url(),
        "--secret".to_owned(),
        SECRET.to_owned(),
        "--seed".to_owned(),
        seed.to_string(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

#[tokio::test]
async fn the_checker_catches_every_kind_of_fault() {
    assert!(
        soak(&["--self-test".to_owned()], &[], false).await,
        "the checker's self-test failed (see above)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_on_the_embedded_default() {
    let mut failed = Vec::new();
    for &seed in CI_SEEDS {
        let server = Server::sqlite_with(OVERRIDES).await;
        if !soak(&run_args(&server, seed, CI_ARGS), &[], false).await {
            failed.push(seed);
        }
        server.stop().await;
    }
    assert!(
        failed.is_empty(),
        "the soak on SQLite failed for seeds {failed:?} (see above)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_on_postgres() {
    let mut failed = Vec::new();
    for &seed in CI_SEEDS {
        let Some(server) = Server::postgres_with(OVERRIDES).await else {
            eprintln!("skipped: CHAT_TEST_DATABASE_URL not set");
            return;
        };
        if !soak(&run_args(&server, seed, CI_ARGS), &[], false).await {
            failed.push(seed);
        }
        server.stop().await;
    }
    assert!(
        failed.is_empty(),
        "the soak on PostgreSQL failed for seeds {failed:?} (see above)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_on_two_nodes_with_postgres_and_redis() {
    let mut failed = Vec::new();
    for &seed in CI_SEEDS {
        let Some(cluster) = Cluster::start(2, OVERRIDES).await else {
            eprintln!("skipped: CHAT_TEST_DATABASE_URL and CHAT_TEST_REDIS_URL are needed");
            return;
        };
        let mut args = vec![
            "--urls".to_owned(),
            cluster.urls(),
            "--secret".to_owned(),
            SECRET.to_owned(),
            "--seed".to_owned(),
            seed.to_string(),
        ];
        args.extend(CI_ARGS.iter().map(|s| (*s).to_owned()));
        if !soak(&args, &[], false).await {
            failed.push(seed);
        }
        cluster.stop().await;
    }
    assert!(
        failed.is_empty(),
        "the soak on two nodes failed for seeds {failed:?} (see above)"
    );
}

/// The long run; see the top of this file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: run with --ignored (see the top of tests/soak.rs)"]
async fn long_soak() {
    let postgres = std::env::var("CHAT_SOAK_PROFILE").is_ok_and(|p| p == "postgres");
    let server = if postgres {
        Server::postgres_with(OVERRIDES)
            .await
            .expect("CHAT_SOAK_PROFILE=postgres needs CHAT_TEST_DATABASE_URL")
    } else {
        Server::sqlite_with(OVERRIDES).await
    };
    let mut env = Vec::new();
    for (key, default) in [
        ("CHAT_SOAK_MESSAGES", "20000"),
        ("CHAT_SOAK_DROPS", "500"),
        ("CHAT_SOAK_PAIRS", "10"),
        ("CHAT_SOAK_DEADLINE_MS", "1800000"),
    ] {
        if std::env::var_os(key).is_none() {
            env.push((key, default.to_owned()));
        }
    }
    let seed: u64 = std::env::var("CHAT_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let args = vec![
        "--urls".to_owned(),
        server.url(),
        "--secret".to_owned(),
        SECRET.to_owned(),
        "--seed".to_owned(),
        seed.to_string(),
    ];
    let passed = soak(&args, &env, true).await;
    server.stop().await;
    assert!(passed, "the long soak failed (see above)");
}
