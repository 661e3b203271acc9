//! Runs the browser suite (`tests/browser/*.test.mjs`): the web client served at `/`, in Debian's
//! Chromium (`/usr/bin/chromium`) driven by `playwright-core`, as two users against a real gateway
//! on port 0 (SQLite, development secret, so the page signs in through `POST /dev/token`). A second
//! gateway with a secret of its own checks that `POST /dev/token` is not served there.
//!
//! Needs Node, npm and `apt-get install chromium` (no browser is downloaded); the suite's one
//! dependency is installed with `npm ci` on first run. Screenshots of the main states go to
//! `target/browser-screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use support::{Server, npm_ci_in, run_node_tests};

/// Debian's Chromium; `CHAT_TEST_CHROMIUM` may name another Chromium-based browser (e.g. Google
/// Chrome on hosted CI runners).
fn chromium() -> String {
    std::env::var("CHAT_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_client_works_in_chromium() {
    let chromium = chromium();
    if !Path::new(&chromium).exists() {
        let advice = format!(
            "{chromium} is missing: the browser tests need Debian's Chromium; install it with \
             `apt-get update && apt-get install -y chromium` (as root)"
        );
        // CI (`.ci/run` installs Chromium) must never skip; a developer's machine may.
        assert!(std::env::var_os("CI").is_none(), "{advice}");
        eprintln!("skipped: {advice}");
        return;
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = manifest.join("tests/browser");
    npm_ci_in(&dir, "playwright-core").await;
    let screenshots = manifest.join("../../target/browser-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();

    let dev = Server::sqlite_dev().await;
    let other = Server::sqlite().await;
    run_node_tests(
        &dir,
        &[
            ("CHAT_URL", dev.url()),
            ("CHAT_URL_NO_DEV_TOKENS", other.url()),
            ("CHROMIUM", chromium.clone()),
            (
                "SCREENSHOT_DIR",
                screenshots.canonicalize().unwrap().display().to_string(),
            ),
        ],
        "the browser suite",
    )
    .await;
    other.stop().await;
    dev.stop().await;
}
