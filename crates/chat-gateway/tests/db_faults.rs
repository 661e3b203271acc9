//! Storage faults end to end (protocol 4.6, issue 21): a gateway on a private PostgreSQL
//! cluster, with real Socket.IO clients (`tests/db-faults/clients.mjs`, Node's
//! `socket.io-client`) sending all along: three that send one message at a time and one that
//! pipelines bursts of five, and a poller of `/health/ready`. Meanwhile this test kills the
//! database with SIGKILL (5 s) and starts it again, then holds `LOCK TABLE messages IN ACCESS
//! EXCLUSIVE MODE` from another connection (4 s) and releases it.
//!
//! It checks: every send is answered within 3 s of its emit, `unavailable` while the database
//! is down or locked; `/health/ready` answers within 3 s, `503` during each fault and `200`
//! after; every client sends successfully again within 5 s of the database's return; every
//! acknowledged message is stored.
//!
//! Needs the PostgreSQL binaries (see `chat_testkit::private_pg`) and Node; says it skipped
//! without the binaries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::Stdio,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use chat_testkit::private_pg::PrivatePg;
use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use serde_json::Value;
use support::{SECRET, Server, npm_ci_in};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
    sync::mpsc,
};

/// The contract: every answer within this of the request (ms).
const LIMIT_MS: i64 = 3_000;
/// After the database returns, sends succeed again within this (ms).
const RECOVERY_MS: i64 = 5_000;
/// How long after a fault starts readiness must say so (ms): the check's own limit is 2 s.
const READINESS_FLIP_MS: i64 = 2_500;

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[derive(Debug, Clone)]
struct Answer {
    client: String,
    start: i64,
    end: i64,
    status: String,
    code: Option<String>,
    message_id: String,
}

#[derive(Debug, Clone, Copy)]
struct Probe {
    start: i64,
    end: i64,
    status: u64,
}

/// A fault from `from` to `to` (epoch ms; the database is back at `back`, after a restart).
struct Fault {
    name: &'static str,
    from: i64,
    to: i64,
    back: i64,
}

impl Fault {
    fn check(&self, sends: &[Answer], probes: &[Probe]) {
        let during: Vec<&Answer> = sends
            .iter()
            .filter(|a| a.start >= self.from + 100 && a.end <= self.to)
            .collect();
        assert!(!during.is_empty(), "{}: sends were tried", self.name);
        for a in &during {
            assert_eq!(
                a.code.as_deref(),
                Some("unavailable"),
                "{}: a send during the fault: {a:?}",
                self.name
            );
        }
        let first_unavailable = during.iter().map(|a| a.end - a.start).min().unwrap_or(0);
        let slowest = during.iter().map(|a| a.end - a.start).max().unwrap_or(0);
        let flipped = probes
            .iter()
            .find(|p| p.start >= self.from && p.status == 503)
            .map(|p| p.end - self.from);
        let flipped = flipped.unwrap_or_else(|| panic!("{}: readiness never said 503", self.name));
        assert!(
            flipped <= READINESS_FLIP_MS,
            "{}: readiness 503 after {flipped} ms",
            self.name
        );
        for p in probes
            .iter()
            .filter(|p| p.start >= self.from + READINESS_FLIP_MS && p.end <= self.to)
        {
            assert_eq!(
                p.status, 503,
                "{}: readiness during the fault: {p:?}",
                self.name
            );
        }
        let back = probes
            .iter()
            .find(|p| p.start >= self.back && p.status == 200)
            .map(|p| p.end - self.back);
        let back = back.unwrap_or_else(|| panic!("{}: readiness never said 200 again", self.name));
        assert!(
            back <= RECOVERY_MS,
            "{}: readiness 200 again after {back} ms",
            self.name
        );
        let clients: BTreeSet<&str> = sends.iter().map(|a| a.client.as_str()).collect();
        let firsts: Vec<(&str, Option<i64>)> = clients
            .iter()
            .map(|&client| {
                let first = sends
                    .iter()
                    .filter(|a| {
                        a.client == client && a.start >= self.back && a.status == "delivered"
                    })
                    .map(|a| a.end - self.back)
                    .min();
                (client, first)
            })
            .collect();
        eprintln!(
            "{}: first delivery per client after the return (ms): {firsts:?}",
            self.name
        );
        let mut recovered = 0;
        for (client, first) in firsts {
            let first = first.unwrap_or_else(|| panic!("{}: {client} never sent again", self.name));
            assert!(
                first <= RECOVERY_MS,
                "{}: {client} sent again after {first} ms",
                self.name
            );
            recovered = recovered.max(first);
        }
        eprintln!(
            "{}: {} sends during it, all unavailable, in {first_unavailable}..{slowest} ms; \
             readiness 503 after {flipped} ms, 200 again {back} ms after it ended; \
             every client delivered again within {recovered} ms",
            self.name,
            during.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_faults_answer_unavailable_within_3_s_and_readiness_follows() {
    let Some(pg) = PrivatePg::start() else { return };
    let server = Server::on_database(
        &pg.url(),
        &[
            ("CHAT_RATE_LIMIT_MESSAGE_SEND", "1000000"),
            ("CHAT_DATABASE_ACQUIRE_TIMEOUT_MS", "1500"),
        ],
    )
    .await;
    let blackbox = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/blackbox");
    npm_ci_in(&blackbox, "socket.io-client").await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/db-faults/clients.mjs");
    let mut node = Command::new("node")
        .arg(&script)
        .env("CHAT_URL", server.url())
        .env("CHAT_SECRET", SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node is installed");
    let stdin = node.stdin.take().unwrap();
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<Value>();
    let mut reader = BufReader::new(node.stdout.take().unwrap()).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = reader.next_line().await {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = lines_tx.send(v);
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.recv())
            .await
            .expect("the clients start")
            .expect("the clients run");
        let started = line["kind"] == "started";
        seen.push(line);
        if started {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // SIGKILL, 5 s down, started again (crash recovery).
    let killed = now_ms();
    pg.kill();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let restarting = now_ms();
    let pg = tokio::task::spawn_blocking(move || {
        pg.restart();
        pg
    })
    .await
    .unwrap();
    let restarted = now_ms();
    tokio::time::sleep(Duration::from_secs(4)).await;

    // A lock on `messages` from another connection, 4 s.
    let locker = Database::connect(pg.url()).await.unwrap();
    let txn = locker.begin().await.unwrap();
    txn.execute_unprepared("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let locked = now_ms();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let unlocking = now_ms();
    txn.commit().await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;

    drop(stdin);
    loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.recv())
            .await
            .expect("the clients stop")
            .expect("the clients report until done");
        let done = line["kind"] == "done";
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = node.wait().await;

    let sends: Vec<Answer> = seen
        .iter()
        .filter(|v| v["kind"] == "send")
        .map(|v| Answer {
            client: v["client"].as_str().unwrap().to_owned(),
            start: v["start"].as_i64().unwrap(),
            end: v["end"].as_i64().unwrap(),
            status: v["status"].as_str().unwrap().to_owned(),
            code: v["code"].as_str().map(str::to_owned),
            message_id: v["messageId"].as_str().unwrap().to_owned(),
        })
        .collect();
    let probes: Vec<Probe> = seen
        .iter()
        .filter(|v| v["kind"] == "ready")
        .map(|v| Probe {
            start: v["start"].as_i64().unwrap(),
            end: v["end"].as_i64().unwrap(),
            status: v["status"].as_u64().unwrap(),
        })
        .collect();

    let mut slowest: BTreeMap<&str, i64> = BTreeMap::new();
    for a in &sends {
        let took = a.end - a.start;
        let worst = slowest.entry(a.client.as_str()).or_default();
        *worst = (*worst).max(took);
        assert!(took < LIMIT_MS, "a send waited {took} ms: {a:?}");
        assert!(
            a.status == "delivered" || a.code.as_deref() == Some("unavailable"),
            "a send answered {a:?}"
        );
    }
    for p in &probes {
        assert!(
            p.end - p.start < LIMIT_MS,
            "/health/ready took too long: {p:?}"
        );
    }
    eprintln!(
        "{} sends, {} readiness checks; slowest send per client (ms): {slowest:?}; restart took {} ms",
        sends.len(),
        probes.len(),
        restarted - restarting
    );
    Fault {
        name: "SIGKILL",
        from: killed,
        to: restarting,
        back: restarted,
    }
    .check(&sends, &probes);
    Fault {
        name: "LOCK TABLE messages",
        from: locked,
        to: unlocking,
        back: unlocking,
    }
    .check(&sends, &probes);

    // Nothing acknowledged is lost.
    let delivered: Vec<&str> = sends
        .iter()
        .filter(|a| a.status == "delivered")
        .map(|a| a.message_id.as_str())
        .collect();
    let stored: BTreeSet<String> = locker
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT id::text AS id FROM messages",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "id").unwrap())
        .collect();
    for id in &delivered {
        assert!(stored.contains(*id), "acknowledged message {id} is lost");
    }
    eprintln!("{} acknowledged messages, all stored", delivered.len());
    locker.close().await.unwrap();
    server.stop().await;
    drop(pg);
}
