//! The smoke scenario against a real gateway started in this process (SQLite in a temporary
//! directory, port 0, a high `message:send` quota): the tool works end to end.

use std::collections::BTreeMap;

use chat_bench::scenario::smoke::SmokeConfig;
use chat_gateway::{App, Settings, config::Sources};

const SECRET: &str = "chat-bench-smoke-secret-0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_run_passes_against_an_in_process_gateway() {
    // The gateway's warnings (why a send was answered `unavailable`, say) in the test's output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("chat.db").display());
    let env: BTreeMap<String, String> = [
        ("CHAT_BIND", "127.0.0.1:0"),
        ("CHAT_DATABASE_URL", database.as_str()),
        ("CHAT_JWT_SECRET", SECRET),
        ("CHAT_RATE_LIMIT_MESSAGE_SEND", "100000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let settings = Settings::from_sources(&Sources::new(env, BTreeMap::new())).unwrap();
    let app = App::build(settings).await.unwrap();
    let url = format!("http://{}", app.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    let report = tokio::time::timeout(
        std::time::Duration::from_secs(25),
        chat_bench::smoke(&url, SECRET, SmokeConfig::default()),
    )
    .await
    .expect("the smoke run ends in time")
    .unwrap();

    let result = &report.result;
    assert!(result.passed(), "smoke problems: {:#?}", result.problems);
    assert_eq!(result.latency.window.errors.total, 0);
    assert!(result.latency.window.e2e.count > 0);
    assert!(result.latency.window.ack.count > 0);
    assert_eq!(result.storm.storm.connected, 90);
    assert!(report.loadavg_before.is_some());

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
