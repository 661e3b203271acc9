//! Storage faults (protocol 4.6, issue 21): a database outage or a lock answers `unavailable`
//! within 3 s of the request, the readiness check says the database cannot commit while it
//! cannot, sends succeed again within 5 s of its return, and nothing acknowledged is lost.
//!
//! PostgreSQL faults run on a private cluster (`chat_testkit::private_pg`), killed with SIGKILL and
//! locked at will; the pools are set up as the gateway sets them up (its defaults: 10
//! connections, a 1.5 s acquire timeout, and one more connection for the append writer).
//! Each "client" sends one message at a time, as a socket's sends are committed, and each send
//! is what the gateway does for `message:send`: read the send context, append at its version.
//! Every send is timed from its start to its answer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use chat_domain::{
    ConversationId, DeviceId, MessageContent, MessageId, NewMessage, OneToOnePair, RepoError,
    Timestamp, UserId,
    ports::{CheckedAppend, ConversationRepository, MessageRepository},
};
use chat_store::{
    DatabaseConnection, SqlConversationRepository, SqlMessageRepository, StoreConfig, can_commit,
    connect, migrate,
};
use chat_testkit::private_pg::PrivatePg;
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

/// The contract: no request waits longer than this for the database.
const LIMIT: Duration = Duration::from_secs(3);
/// After the database returns, sends succeed again within this.
const RECOVERY: Duration = Duration::from_secs(5);
const CLIENTS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Acked,
    Unavailable,
}

#[derive(Debug, Clone, Copy)]
struct Sent {
    id: MessageId,
    started: Instant,
    took: Duration,
    answer: Answer,
}

/// What the gateway holds: the pool, and on PostgreSQL the append writer's own connection.
struct Store {
    db: DatabaseConnection,
    conversations: SqlConversationRepository,
    messages: SqlMessageRepository,
}

async fn store(url: &str) -> Store {
    let cfg = StoreConfig {
        max_connections: 10,
        acquire_timeout: Duration::from_millis(1500),
        ..StoreConfig::new(url)
    };
    let db = connect(&cfg).await.unwrap();
    migrate(&db).await.unwrap();
    let messages = if cfg.is_sqlite() {
        SqlMessageRepository::new(db.clone())
    } else {
        let writer = connect(&StoreConfig {
            max_connections: 1,
            ..cfg.clone()
        })
        .await
        .unwrap();
        SqlMessageRepository::with_writer(db.clone(), writer)
    };
    Store {
        conversations: SqlConversationRepository::new(db.clone()),
        messages,
        db,
    }
}

fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    Timestamp::from_millis(i64::try_from(ms).unwrap())
}

async fn conversation(s: &Store) -> (ConversationId, UserId) {
    let (ada, bob) = (UserId::new(Uuid::new_v4()), UserId::new(Uuid::new_v4()));
    let id = ConversationId::new(Uuid::new_v4());
    s.conversations
        .find_or_create_one_to_one(OneToOnePair::new(ada, bob).unwrap(), id, now())
        .await
        .unwrap();
    (id, ada)
}

/// One `message:send` as the gateway's send service runs it against the store: the send
/// context, then the append at its version (again on a stale version).
async fn send_once(s: &Store, conversation: ConversationId, sender: UserId) -> Sent {
    let id = MessageId::new(Uuid::now_v7());
    let started = Instant::now();
    let answer = async {
        loop {
            let context = s
                .conversations
                .fetch_send_context(conversation)
                .await?
                .expect("the conversation exists");
            let msg = NewMessage {
                id,
                conversation_id: conversation,
                sender_id: sender,
                sender_device_id: DeviceId::new("d1").unwrap(),
                client_sequence: None,
                content: MessageContent::from_trusted("under faults".to_owned()),
                client_timestamp: None,
                created_at: now(),
            };
            match s.messages.append_if_current(msg, context.version).await? {
                CheckedAppend::Done { .. } => return Ok::<_, RepoError>(()),
                CheckedAppend::StaleContext => {}
            }
        }
    }
    .await;
    let took = started.elapsed();
    let answer = match answer {
        Ok(()) => Answer::Acked,
        Err(RepoError::Unavailable(_)) => Answer::Unavailable,
        Err(other) => panic!("a send under a fault answered {other:?} after {took:?}"),
    };
    Sent {
        id,
        started,
        took,
        answer,
    }
}

/// What each client has sent so far.
type Log = Arc<Vec<std::sync::Mutex<Vec<Sent>>>>;

/// `CLIENTS` clients sending one message at a time (20 ms apart) until `stop`, each
/// recording into its own entry of the log.
fn clients(
    s: &Arc<Store>,
    conversations: &[(ConversationId, UserId)],
    stop: &Arc<AtomicBool>,
) -> (Log, Vec<tokio::task::JoinHandle<()>>) {
    let log: Log = Arc::new(
        conversations
            .iter()
            .map(|_| std::sync::Mutex::new(Vec::new()))
            .collect(),
    );
    let handles = conversations
        .iter()
        .enumerate()
        .map(|(n, &(conversation, sender))| {
            let (s, stop, log) = (s.clone(), stop.clone(), log.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let sent = send_once(&s, conversation, sender).await;
                    log[n].lock().unwrap().push(sent);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    (log, handles)
}

fn snapshot(log: &Log) -> Vec<Vec<Sent>> {
    log.iter().map(|c| c.lock().unwrap().clone()).collect()
}

/// Waits until every client has had a send acknowledged that started after `from` (at most
/// until `from` + [`RECOVERY`]), then stops the clients; what they sent.
async fn recover_and_stop(
    log: &Log,
    handles: Vec<tokio::task::JoinHandle<()>>,
    stop: &AtomicBool,
    from: Instant,
) -> Vec<Vec<Sent>> {
    while recovered_after(&snapshot(log), from) == Duration::MAX && from.elapsed() < RECOVERY {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.await.unwrap();
    }
    snapshot(log)
}

/// Every send answered within the limit; every acknowledged message is stored.
async fn no_send_waited_and_nothing_acked_is_lost(s: &Store, all: &[Vec<Sent>]) {
    let slowest = all.iter().flatten().map(|x| x.took).max().unwrap();
    eprintln!(
        "{} sends, slowest {slowest:?}",
        all.iter().map(Vec::len).sum::<usize>()
    );
    for sent in all.iter().flatten() {
        assert!(
            sent.took < LIMIT,
            "a send waited {:?} ({:?})",
            sent.took,
            sent.answer
        );
    }
    for sent in all.iter().flatten().filter(|x| x.answer == Answer::Acked) {
        let found = s.messages.find_message(sent.id).await.unwrap();
        assert!(
            found.is_some(),
            "acknowledged message {:?} is lost",
            sent.id
        );
    }
}

/// Sends that started at or after `from` and finished by `to`.
fn between(all: &[Vec<Sent>], from: Instant, to: Instant) -> Vec<Sent> {
    all.iter()
        .flatten()
        .filter(|x| x.started >= from && x.started + x.took <= to)
        .copied()
        .collect()
}

/// The longest any client took, from `from`, to get an acknowledged send (started after it).
fn recovered_after(all: &[Vec<Sent>], from: Instant) -> Duration {
    all.iter()
        .map(|client| {
            client
                .iter()
                .find(|x| x.started >= from && x.answer == Answer::Acked)
                .map_or(Duration::MAX, |x| (x.started + x.took) - from)
        })
        .max()
        .unwrap()
}

/// Waits (at most `limit`) until the readiness check answers `ready`; how long it took.
async fn readiness_becomes(db: &DatabaseConnection, ready: bool, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let probe = Instant::now();
        let answer = can_commit(db).await.is_ok();
        assert!(
            probe.elapsed() < LIMIT,
            "the readiness check took {:?}",
            probe.elapsed()
        );
        if answer == ready {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "readiness still {} after {limit:?}",
            !ready
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_killed_answers_unavailable_fast_and_recovers() {
    let Some(pg) = PrivatePg::start() else { return };
    let s = Arc::new(store(&pg.url()).await);
    let mut convs = Vec::new();
    for _ in 0..CLIENTS {
        convs.push(conversation(&s).await);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (log, handles) = clients(&s, &convs, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let killed = Instant::now();
    pg.kill();
    let not_ready = readiness_becomes(&s.db, false, LIMIT).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let restarting = Instant::now();
    let pg = tokio::task::spawn_blocking(move || {
        pg.restart();
        pg
    })
    .await
    .unwrap();
    let back = Instant::now();
    let ready_again = readiness_becomes(&s.db, true, RECOVERY).await;
    let all = recover_and_stop(&log, handles, &stop, back).await;

    let outage = between(&all, killed + Duration::from_millis(100), restarting);
    let unavailable: Vec<Duration> = outage
        .iter()
        .filter(|x| x.answer == Answer::Unavailable)
        .map(|x| x.took)
        .collect();
    eprintln!(
        "SIGKILL: {} sends in the outage, {} unavailable (max {:?}); readiness 503 after \
         {not_ready:?}, 200 again {ready_again:?} after the restart, restart took {:?}",
        outage.len(),
        unavailable.len(),
        unavailable.iter().max(),
        back - restarting
    );
    assert!(!outage.is_empty(), "sends were tried during the outage");
    assert!(
        outage.iter().all(|x| x.answer == Answer::Unavailable),
        "nothing commits while the database is down"
    );
    let recovered = recovered_after(&all, back);
    eprintln!("SIGKILL: every client acked again {recovered:?} after the restart");
    assert!(recovered < RECOVERY, "sends succeed again within 5 s");
    no_send_waited_and_nothing_acked_is_lost(&s, &all).await;
    drop(pg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_table_lock_answers_unavailable_fast_and_readiness_follows() {
    let Some(pg) = PrivatePg::start() else { return };
    let s = Arc::new(store(&pg.url()).await);
    let mut convs = Vec::new();
    for _ in 0..CLIENTS {
        convs.push(conversation(&s).await);
    }
    readiness_becomes(&s.db, true, LIMIT).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (log, handles) = clients(&s, &convs, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Another connection, as an operator's migration or a `LOCK TABLE` would.
    let locker = connect(&StoreConfig {
        max_connections: 1,
        ..StoreConfig::new(pg.url())
    })
    .await
    .unwrap();
    let txn = locker.begin().await.unwrap();
    txn.execute_unprepared("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let locked = Instant::now();
    let not_ready = readiness_becomes(&s.db, false, LIMIT).await;
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(locked.elapsed())).await;
    let unlocking = Instant::now();
    txn.commit().await.unwrap();
    let ready_again = readiness_becomes(&s.db, true, RECOVERY).await;
    let all = recover_and_stop(&log, handles, &stop, unlocking).await;

    let held = between(&all, locked + Duration::from_millis(50), unlocking);
    let unavailable: Vec<Duration> = held
        .iter()
        .filter(|x| x.answer == Answer::Unavailable)
        .map(|x| x.took)
        .collect();
    eprintln!(
        "LOCK: {} sends under the lock, {} unavailable (max {:?}); readiness 503 after \
         {not_ready:?}, 200 again {ready_again:?} after the unlock",
        held.len(),
        unavailable.len(),
        unavailable.iter().max()
    );
    assert!(!held.is_empty(), "sends were tried under the lock");
    assert!(
        held.iter().all(|x| x.answer == Answer::Unavailable),
        "nothing commits under the lock"
    );
    let recovered = recovered_after(&all, unlocking);
    eprintln!("LOCK: every client acked again {recovered:?} after the unlock");
    assert!(recovered < RECOVERY, "sends succeed again within 5 s");
    no_send_waited_and_nothing_acked_is_lost(&s, &all).await;
    locker.close().await.unwrap();
    drop(pg);
}

/// SQLite: another connection holding the write lock (a long write transaction, a backup)
/// answers sends `unavailable` within the limit instead of queueing them behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_write_lock_answers_unavailable_fast_and_readiness_follows() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("chat.db").display());
    let s = Arc::new(store(&url).await);
    let mut convs = Vec::new();
    for _ in 0..CLIENTS {
        convs.push(conversation(&s).await);
    }
    readiness_becomes(&s.db, true, LIMIT).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (log, handles) = clients(&s, &convs, &stop);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let locker = connect(&StoreConfig {
        max_connections: 1,
        ..StoreConfig::new(url.clone())
    })
    .await
    .unwrap();
    let conn = locker.get_sqlite_connection_pool();
    let mut held = conn.acquire().await.unwrap();
    sea_orm::sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *held)
        .await
        .unwrap();
    let locked = Instant::now();
    let not_ready = readiness_becomes(&s.db, false, LIMIT).await;
    tokio::time::sleep(Duration::from_secs(4).saturating_sub(locked.elapsed())).await;
    let unlocking = Instant::now();
    sea_orm::sqlx::query("ROLLBACK")
        .execute(&mut *held)
        .await
        .unwrap();
    drop(held);
    let ready_again = readiness_becomes(&s.db, true, RECOVERY).await;
    let all = recover_and_stop(&log, handles, &stop, unlocking).await;

    let during = between(&all, locked + Duration::from_millis(50), unlocking);
    eprintln!(
        "SQLite lock: {} sends under the lock, max {:?}; readiness 503 after {not_ready:?}, \
         200 again {ready_again:?} after the unlock",
        during.len(),
        during.iter().map(|x| x.took).max()
    );
    assert!(!during.is_empty(), "sends were tried under the lock");
    assert!(
        during.iter().all(|x| x.answer == Answer::Unavailable),
        "nothing commits under the lock"
    );
    let recovered = recovered_after(&all, unlocking);
    eprintln!("SQLite lock: every client acked again {recovered:?} after the unlock");
    assert!(recovered < RECOVERY, "sends succeed again within 5 s");
    no_send_waited_and_nothing_acked_is_lost(&s, &all).await;
}
