//! The production profile end to end: three gateway processes (the real binary) on different
//! ports, sharing one PostgreSQL database and one Redis, with clients of one user spread over
//! them (`tests/multinode/*.test.mjs`, Node's official `socket.io-client`). The last test kills
//! a node with SIGKILL and watches its users go offline within the presence lease.
//!
//! Runs when `CHAT_TEST_DATABASE_URL` and `CHAT_TEST_REDIS_URL` are set (`.ci/run` sets both).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{path::Path, process::Stdio, time::Duration};

use support::{SECRET, cluster::Cluster, npm_ci_in, run_node_tests};

/// The fault tests send a message every few milliseconds.
const FAST_SENDS: (&str, &str) = ("CHAT_RATE_LIMIT_MESSAGE_SEND", "1000000");

/// The presence lease the nodes run with: short, so the SIGKILL test is quick.
const LEASE_MS: &str = "1500";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_behave_as_one_server() {
    let Some(cluster) = Cluster::start(3, &[("CHAT_PRESENCE_LEASE_MS", LEASE_MS)]).await else {
        eprintln!("skipped: CHAT_TEST_DATABASE_URL and CHAT_TEST_REDIS_URL are needed");
        return;
    };
    let blackbox = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/blackbox");
    npm_ci_in(&blackbox, "socket.io-client").await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/multinode");
    let env = [
        ("CHAT_NODES", cluster.urls()),
        ("CHAT_URL", cluster.nodes[0].url.clone()),
        ("CHAT_SECRET", SECRET.to_owned()),
        ("CHAT_KILL_PID", cluster.nodes[2].pid().to_string()),
        ("CHAT_LEASE_MS", LEASE_MS.to_owned()),
    ];
    run_node_tests(&dir, &env, "the multi-node suite").await;
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_node_hints_its_sockets_and_they_miss_nothing() {
    let Some(cluster) = Cluster::start(2, &[FAST_SENDS]).await else {
        eprintln!("skipped: CHAT_TEST_DATABASE_URL and CHAT_TEST_REDIS_URL are needed");
        return;
    };
    let blackbox = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/blackbox");
    npm_ci_in(&blackbox, "socket.io-client").await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node-pause");
    let env = [
        ("CHAT_NODES", cluster.urls()),
        ("CHAT_URL", cluster.nodes[0].url.clone()),
        ("CHAT_SECRET", SECRET.to_owned()),
        ("CHAT_PAUSE_PID", cluster.nodes[1].pid().to_string()),
    ];
    run_node_tests(&dir, &env, "the paused node test").await;
    cluster.stop().await;
}

/// A private Redis on a free port (killed and restarted by the test), or `None` without
/// `redis-server`.
async fn private_redis() -> Option<(u16, tokio::process::Child)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = tokio::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some((port, child));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_span_nodes_again_after_redis_restarts() {
    if support::cluster::production_urls().is_none() {
        eprintln!("skipped: CHAT_TEST_DATABASE_URL and CHAT_TEST_REDIS_URL are needed");
        return;
    }
    let (port, redis) = private_redis()
        .await
        .expect("redis-server is installed (CI starts Redis with it)");
    let url = format!("redis://127.0.0.1:{port}");
    let cluster = Cluster::start_on(2, &url, &[FAST_SENDS])
        .await
        .expect("two nodes start");
    let blackbox = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/blackbox");
    npm_ci_in(&blackbox, "socket.io-client").await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/redis-restart");
    let env = [
        ("CHAT_NODES", cluster.urls()),
        ("CHAT_URL", cluster.nodes[0].url.clone()),
        ("CHAT_SECRET", SECRET.to_owned()),
        ("CHAT_REDIS_PORT", port.to_string()),
        ("CHAT_REDIS_PID", redis.id().expect("running").to_string()),
    ];
    run_node_tests(&dir, &env, "the Redis restart suite").await;
    cluster.stop().await;
    // The test's own restarted server is a child of node; this one was killed by it.
    drop(redis);
    let _ = tokio::process::Command::new("redis-cli")
        .args(["-p", &port.to_string(), "shutdown", "nosave"])
        .status()
        .await;
}
