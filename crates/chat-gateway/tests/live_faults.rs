//! Live delivery under faults (contract 4.6), against the real gateway with Node's official
//! `socket.io-client`: a client that stops reading is disconnected, not skipped
//! (`tests/slow-reader/`). The multi-node faults (Redis restart, a paused node) are in
//! `multinode.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use support::{SECRET, Server, npm_ci_in, run_node_tests};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_stops_reading_is_disconnected_and_resumes() {
    // Thousands of sends in a few seconds.
    let server = Server::sqlite_with(&[("CHAT_RATE_LIMIT_MESSAGE_SEND", "1000000")]).await;
    let blackbox = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/blackbox");
    npm_ci_in(&blackbox, "socket.io-client").await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slow-reader");
    let env = [
        ("CHAT_URL", server.url()),
        ("CHAT_SECRET", SECRET.to_owned()),
    ];
    run_node_tests(&dir, &env, "the slow reader test").await;
    server.stop().await;
}
