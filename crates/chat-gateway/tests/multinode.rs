//! The production profile end to end: three gateway processes (the real binary) on different
//! ports, sharing one PostgreSQL database and one Redis, with clients of one user spread over
//! them (`tests/multinode/*.test.mjs`, Node's official `socket.io-client`). The last test kills
//! a node with SIGKILL and watches its users go offline within the presence lease.
//!
//! Runs when `CHAT_TEST_DATABASE_URL` and `CHAT_TEST_REDIS_URL` are set (`.ci/run` sets both).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use support::{SECRET, cluster::Cluster, npm_ci_in, run_node_tests};

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
