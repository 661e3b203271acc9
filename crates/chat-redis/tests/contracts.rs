//! The port contract suites, and what a shared Redis adds (leases, several nodes: a second
//! pool over the same prefix), against a real Redis when `CHAT_TEST_REDIS_URL` is set (e.g.
//! `redis://127.0.0.1:6379`). Each test uses its own key prefix and deletes its keys after.

#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use std::{sync::Arc, time::Duration};

use chat_domain::{
    ids::{DeviceId, SocketId, UserId},
    ports::{PresenceStore, RateLimiter, SessionStore, SocketSession},
    presence::{
        PresenceChange,
        PresenceStatus::{self, *},
    },
    rate_limit::{Quota, RateDecision, RateLimitKey, RateLimitedAction},
    time::Timestamp,
};
use chat_redis::{
    Keys, Pool, RedisConfig, RedisPresenceStore, RedisRateLimiter, RedisSessionStore, connect,
};
use chat_testkit::contract::{
    presence_store_contract, rate_limiter_contract, session_store_contract,
};
use fred::prelude::{ClientLike, KeysInterface};
use uuid::Uuid;

/// A config with a fresh prefix and a connected pool, or `None` (and a note) without Redis.
async fn redis(configure: impl FnOnce(&mut RedisConfig)) -> Option<(RedisConfig, Pool)> {
    let Ok(url) = std::env::var("CHAT_TEST_REDIS_URL") else {
        eprintln!("skipped: CHAT_TEST_REDIS_URL not set");
        return None;
    };
    let mut config = RedisConfig::new(url);
    config.pool_size = 2;
    config.key_prefix = format!("chat-test:{}", Uuid::new_v4().simple());
    configure(&mut config);
    let pool = connect(&config).await.unwrap();
    Some((config, pool))
}

/// Deletes every key under the test's prefix.
async fn clean_up(config: &RedisConfig, pool: &Pool) {
    let pattern = format!("{}:*", config.key_prefix);
    let keys: Vec<String> = pool
        .next()
        .custom(fred::cmd!("KEYS"), vec![pattern])
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: i64 = pool.del(keys).await.unwrap();
    }
}

fn user() -> UserId {
    UserId::new(Uuid::new_v4())
}

fn socket() -> SocketId {
    SocketId::new(Uuid::new_v4().simple().to_string())
}

fn session_of(user_id: UserId) -> SocketSession {
    let device_id = DeviceId::new("phone").unwrap();
    let (socket_id, connected_at) = (socket(), at(0));
    SocketSession {
        socket_id,
        user_id,
        device_id,
        connected_at,
    }
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_769_509_800_000 + ms)
}

async fn presence_of(store: &RedisPresenceStore, user: UserId) -> PresenceStatus {
    store.fetch_presence(vec![user]).await.unwrap()[&user]
}

fn change(before: PresenceStatus, after: PresenceStatus) -> PresenceChange {
    PresenceChange { before, after }
}

#[tokio::test]
async fn redis_session_store_keeps_the_session_store_contract() {
    let Some((config, pool)) = redis(|_| {}).await else {
        return;
    };
    session_store_contract(&RedisSessionStore::new(pool.clone(), &config)).await;
    clean_up(&config, &pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_presence_store_keeps_the_presence_store_contract() {
    let Some((config, pool)) = redis(|_| {}).await else {
        return;
    };
    presence_store_contract(Arc::new(RedisPresenceStore::new(pool.clone(), &config))).await;
    clean_up(&config, &pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_rate_limiter_keeps_the_rate_limiter_contract() {
    let Some((config, pool)) = redis(|_| {}).await else {
        return;
    };
    rate_limiter_contract(Arc::new(RedisRateLimiter::new(pool.clone(), &config))).await;
    clean_up(&config, &pool).await;
}

#[tokio::test]
async fn a_lapsed_lease_makes_the_user_offline_until_set_again() {
    let lease = Duration::from_millis(300);
    let Some((config, pool)) = redis(|c| c.presence_lease = lease).await else {
        return;
    };
    let store = RedisPresenceStore::new(pool.clone(), &config);
    let (ada, phone) = (user(), socket());
    store
        .set_connection_status(ada, phone.clone(), Online, at(0))
        .await
        .unwrap();
    assert_eq!(presence_of(&store, ada).await, Online);

    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    assert_eq!(presence_of(&store, ada).await, Offline, "lapsed");
    assert!(
        !store.renew(ada, &phone).await.unwrap(),
        "a lapsed lease is not renewed"
    );
    assert_eq!(
        store.sweep_lapsed(at(1)).await.unwrap(),
        vec![(ada, change(Online, Offline))],
        "the sweep announces the lapse"
    );
    let back = store
        .set_connection_status(ada, phone, Online, at(1))
        .await
        .unwrap();
    assert_eq!(
        back,
        change(Offline, Online),
        "setting again announces the return"
    );
    clean_up(&config, &pool).await;
}

#[tokio::test]
async fn a_crashed_nodes_connections_are_swept_once_by_one_of_the_live_nodes() {
    let lease = Duration::from_millis(300);
    let Some((config, pool)) = redis(|c| c.presence_lease = lease).await else {
        return;
    };
    let crashed = RedisPresenceStore::new(pool.clone(), &config);
    let live = RedisPresenceStore::new(pool.clone(), &config);
    let other = RedisPresenceStore::new(pool.clone(), &config);
    let (ada, bob) = (user(), user());
    let (ada_phone, ada_laptop, bob_phone) = (socket(), socket(), socket());
    crashed
        .set_connection_status(ada, ada_phone.clone(), Online, at(0))
        .await
        .unwrap();
    crashed
        .set_connection_status(bob, bob_phone, Away, at(0))
        .await
        .unwrap();
    live.set_connection_status(ada, ada_laptop.clone(), Away, at(0))
        .await
        .unwrap();
    assert!(
        live.sweep_lapsed(at(0)).await.unwrap().is_empty(),
        "nothing lapsed yet"
    );
    // `crashed` stops renewing; `live` keeps its laptop connection.
    for _ in 0..2 {
        tokio::time::sleep(lease / 2 + Duration::from_millis(30)).await;
        assert!(live.renew(ada, &ada_laptop).await.unwrap());
    }
    let (a, b) = tokio::join!(live.sweep_lapsed(at(1)), other.sweep_lapsed(at(1)));
    let mut swept = [a.unwrap(), b.unwrap()].concat();
    swept.sort_by_key(|(u, _)| *u);
    let mut want = vec![(ada, change(Online, Away)), (bob, change(Away, Offline))];
    want.sort_by_key(|(u, _)| *u);
    assert_eq!(swept, want, "each change once, whichever node swept it");
    assert!(
        live.sweep_lapsed(at(2)).await.unwrap().is_empty(),
        "swept already"
    );
    assert_eq!(presence_of(&other, ada).await, Away);
    assert_eq!(presence_of(&other, bob).await, Offline);
    assert_eq!(other.last_seen(bob).await.unwrap(), Some(at(1)));
    clean_up(&config, &pool).await;
}

#[tokio::test]
async fn a_change_after_an_unswept_lapse_is_announced_from_what_others_were_told() {
    let lease = Duration::from_millis(200);
    let Some((config, pool)) = redis(|c| c.presence_lease = lease).await else {
        return;
    };
    let store = RedisPresenceStore::new(pool.clone(), &config);
    let (ada, phone, laptop) = (user(), socket(), socket());
    store
        .set_connection_status(ada, phone, Online, at(0))
        .await
        .unwrap();
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    // The phone lapsed unannounced; the laptop's arrival changes nothing others see...
    let arrived = store
        .set_connection_status(ada, laptop.clone(), Online, at(1))
        .await
        .unwrap();
    assert_eq!(arrived, change(Online, Online));
    // ...and its leaving announces offline (the phone's lapse included).
    let left = store.remove_connection(ada, laptop, at(2)).await.unwrap();
    assert_eq!(left, change(Online, Offline));
    assert!(
        store.sweep_lapsed(at(3)).await.unwrap().is_empty(),
        "nothing left to announce"
    );
    clean_up(&config, &pool).await;
}

#[tokio::test]
async fn renewing_keeps_a_connection_past_its_first_lease() {
    let lease = Duration::from_millis(500);
    let Some((config, pool)) = redis(|c| c.presence_lease = lease).await else {
        return;
    };
    let store = RedisPresenceStore::new(pool.clone(), &config);
    let (ada, phone) = (user(), socket());
    store
        .set_connection_status(ada, phone.clone(), Away, at(0))
        .await
        .unwrap();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(store.renew(ada, &phone).await.unwrap());
    }
    assert_eq!(presence_of(&store, ada).await, Away, "750 ms later");
    assert!(
        !store.renew(user(), &phone).await.unwrap(),
        "unknown connection"
    );
    clean_up(&config, &pool).await;
}

#[tokio::test]
async fn two_nodes_see_one_aggregate_and_last_seen() {
    let Some((config, pool)) = redis(|_| {}).await else {
        return;
    };
    let (a, b) = (
        RedisPresenceStore::new(pool.clone(), &config),
        RedisPresenceStore::new(connect(&config).await.unwrap(), &config),
    );
    let (ada, phone, laptop) = (user(), socket(), socket());
    let first = a
        .set_connection_status(ada, phone.clone(), Online, at(0))
        .await
        .unwrap();
    assert_eq!(first, change(Offline, Online));
    let second = b
        .set_connection_status(ada, laptop.clone(), Away, at(1))
        .await
        .unwrap();
    assert_eq!(
        second,
        change(Online, Online),
        "node b sees node a's connection"
    );
    assert_eq!(presence_of(&b, ada).await, Online);

    assert_eq!(
        a.remove_connection(ada, phone, at(2)).await.unwrap(),
        change(Online, Away)
    );
    assert_eq!(presence_of(&a, ada).await, Away);
    assert_eq!(
        b.last_seen(ada).await.unwrap(),
        None,
        "still connected on b"
    );
    assert_eq!(
        b.remove_connection(ada, laptop, at(3)).await.unwrap(),
        change(Away, Offline)
    );
    assert_eq!(
        a.last_seen(ada).await.unwrap(),
        Some(at(3)),
        "recorded for every node"
    );
    clean_up(&config, &pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_rate_limit_counts_across_nodes() {
    let Some((config, pool)) = redis(|_| {}).await else {
        return;
    };
    let nodes: [Arc<dyn RateLimiter>; 2] = [
        Arc::new(RedisRateLimiter::new(pool.clone(), &config)),
        Arc::new(RedisRateLimiter::new(
            connect(&config).await.unwrap(),
            &config,
        )),
    ];
    let key = RateLimitKey {
        user_id: user(),
        action: RateLimitedAction::MessageSend,
    };
    let quota = Quota::per_minute(3);
    for (i, node) in nodes.iter().cycle().take(3).enumerate() {
        let decision = node.check(key, quota, at(i as i64)).await.unwrap();
        assert_eq!(decision, RateDecision::Allowed, "action {i}");
    }
    for node in &nodes {
        assert_eq!(
            node.check(key, quota, at(3)).await.unwrap(),
            RateDecision::Limited {
                retry_after_secs: 60
            },
            "the fourth, on either node"
        );
    }
    assert_eq!(
        nodes[1].check(key, quota, at(60_000)).await.unwrap(),
        RateDecision::Allowed
    );
    clean_up(&config, &pool).await;
}

#[tokio::test]
async fn a_session_inserted_on_one_node_is_listed_and_deleted_on_another() {
    let Some((config, pool)) = redis(|_| {}).await else {
        return;
    };
    let a = RedisSessionStore::new(pool.clone(), &config);
    let b = RedisSessionStore::new(connect(&config).await.unwrap(), &config);
    let session = session_of(user());
    a.insert_session(session.clone()).await.unwrap();
    assert_eq!(
        b.list_user_sessions(session.user_id).await.unwrap(),
        vec![session.clone()]
    );
    let key = Keys::new(&config.key_prefix).socket(&session.socket_id);
    let ttl: i64 = pool.ttl(key).await.unwrap();
    assert!((1_790..=1_800).contains(&ttl), "a 30 min TTL, got {ttl}");
    assert_eq!(
        b.delete_session(session.socket_id.clone()).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(a.delete_session(session.socket_id).await.unwrap(), None);
    assert!(
        a.list_user_sessions(session.user_id)
            .await
            .unwrap()
            .is_empty()
    );
    clean_up(&config, &pool).await;
}

#[tokio::test]
async fn a_lapsed_session_is_dropped_from_its_users_listing() {
    let Some((config, pool)) = redis(|c| c.session_ttl = Duration::from_millis(200)).await else {
        return;
    };
    let store = RedisSessionStore::new(pool.clone(), &config);
    let ada = user();
    let session = session_of(ada);
    store.insert_session(session.clone()).await.unwrap();
    assert_eq!(store.list_user_sessions(ada).await.unwrap(), vec![session]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        store.list_user_sessions(ada).await.unwrap().is_empty(),
        "a crashed node's socket"
    );
    clean_up(&config, &pool).await;
}
