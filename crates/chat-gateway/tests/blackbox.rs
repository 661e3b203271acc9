//! Runs the black-box suite (`tests/blackbox/*.test.mjs`, Node's official `socket.io-client`
//! over real sockets) against a real gateway on port 0: once on the embedded default (SQLite,
//! in-process adapters), and once on PostgreSQL when `CHAT_TEST_DATABASE_URL` is set.
//!
//! Node and npm must be installed; the suite's one dependency is installed with `npm ci` on
//! first run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{Server, run_node_suite};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_suite_passes_on_the_embedded_default() {
    let server = Server::sqlite().await;
    run_node_suite(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_suite_passes_on_postgres() {
    let Some(server) = Server::postgres().await else {
        eprintln!("skipped: CHAT_TEST_DATABASE_URL not set");
        return;
    };
    run_node_suite(&server).await;
    server.stop().await;
}
