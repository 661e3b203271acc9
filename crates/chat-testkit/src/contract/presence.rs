//! The [`PresenceStore`] contract: per-connection statuses aggregated per user (online wins,
//! all away is away, none is offline), with before/after pairs computed atomically.

use std::sync::Arc;

use chat_domain::{
    ids::{SocketId, UserId},
    ports::PresenceStore,
    presence::{
        PresenceChange,
        PresenceStatus::{self, Away, Offline, Online},
    },
    time::Timestamp,
};
use uuid::Uuid;

/// Racing connections per user in the concurrency checks.
const RACERS: usize = 32;

/// Runs every presence store check against `store`. Uses fresh random ids, so other suites may
/// share the store. The concurrency checks spawn tasks on the current tokio runtime: run the
/// suite on a multi-thread runtime so that they really race.
pub async fn presence_store_contract(store: Arc<dyn PresenceStore>) {
    first_connection_makes_user_online(store.as_ref()).await;
    a_second_connection_says_nothing_changed(store.as_ref()).await;
    online_wins_over_away_and_all_away_is_away(store.as_ref()).await;
    last_connection_leaving_makes_user_offline(store.as_ref()).await;
    removing_an_unknown_connection_changes_nothing(store.as_ref()).await;
    users_are_aggregated_independently(store.as_ref()).await;
    concurrent_changes_announce_each_transition_exactly_once(&store).await;
}

fn user() -> UserId {
    UserId::new(Uuid::new_v4())
}

fn socket() -> SocketId {
    SocketId::new(Uuid::new_v4().simple().to_string())
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_769_509_800_000 + ms)
}

fn change(before: PresenceStatus, after: PresenceStatus) -> PresenceChange {
    PresenceChange { before, after }
}

async fn set(
    store: &dyn PresenceStore,
    user: UserId,
    s: &SocketId,
    to: PresenceStatus,
) -> PresenceChange {
    store
        .set_connection_status(user, s.clone(), to, at(0))
        .await
        .unwrap()
}

async fn remove(store: &dyn PresenceStore, user: UserId, s: &SocketId) -> PresenceChange {
    store
        .remove_connection(user, s.clone(), at(1))
        .await
        .unwrap()
}

async fn presence_of(store: &dyn PresenceStore, user: UserId) -> PresenceStatus {
    store.fetch_presence(vec![user]).await.unwrap()[&user]
}

async fn first_connection_makes_user_online(store: &dyn PresenceStore) {
    let ada = user();
    assert_eq!(
        presence_of(store, ada).await,
        Offline,
        "unknown users are offline"
    );
    let connected = set(store, ada, &socket(), Online).await;
    assert_eq!(connected, change(Offline, Online), "first connection");
    assert_eq!(connected.changed(), Some(Online));
    assert_eq!(presence_of(store, ada).await, Online);
}

async fn a_second_connection_says_nothing_changed(store: &dyn PresenceStore) {
    let ada = user();
    set(store, ada, &socket(), Online).await;
    let second = set(store, ada, &socket(), Online).await;
    assert_eq!(second, change(Online, Online), "second connection");
    assert_eq!(second.changed(), None);
}

async fn online_wins_over_away_and_all_away_is_away(store: &dyn PresenceStore) {
    let ada = user();
    let (phone, laptop) = (socket(), socket());
    set(store, ada, &phone, Online).await;
    set(store, ada, &laptop, Online).await;
    assert_eq!(
        set(store, ada, &phone, Away).await,
        change(Online, Online),
        "one still online"
    );
    assert_eq!(
        set(store, ada, &laptop, Away).await,
        change(Online, Away),
        "all away"
    );
    assert_eq!(presence_of(store, ada).await, Away);
    assert_eq!(
        set(store, ada, &laptop, Away).await,
        change(Away, Away),
        "repeat away"
    );
    assert_eq!(
        set(store, ada, &phone, Online).await,
        change(Away, Online),
        "back online"
    );
    assert_eq!(
        remove(store, ada, &phone).await,
        change(Online, Away),
        "the online one left"
    );
}

async fn last_connection_leaving_makes_user_offline(store: &dyn PresenceStore) {
    let ada = user();
    let (phone, laptop) = (socket(), socket());
    set(store, ada, &phone, Online).await;
    set(store, ada, &laptop, Away).await;
    assert_eq!(
        remove(store, ada, &laptop).await,
        change(Online, Online),
        "one left of two"
    );
    assert_eq!(
        remove(store, ada, &phone).await,
        change(Online, Offline),
        "the last one left"
    );
    assert_eq!(presence_of(store, ada).await, Offline);
    let back = set(store, ada, &phone, Online).await;
    assert_eq!(back, change(Offline, Online), "reconnecting after leaving");
}

async fn removing_an_unknown_connection_changes_nothing(store: &dyn PresenceStore) {
    let ada = user();
    assert_eq!(
        remove(store, ada, &socket()).await,
        change(Offline, Offline),
        "never connected"
    );
    set(store, ada, &socket(), Away).await;
    assert_eq!(
        remove(store, ada, &socket()).await,
        change(Away, Away),
        "another socket"
    );
    assert_eq!(presence_of(store, ada).await, Away);
}

async fn users_are_aggregated_independently(store: &dyn PresenceStore) {
    let (ada, bob, eve) = (user(), user(), user());
    let shared = socket();
    set(store, ada, &shared, Online).await;
    assert_eq!(
        set(store, bob, &socket(), Away).await,
        change(Offline, Away)
    );
    let all = store.fetch_presence(vec![ada, bob, eve]).await.unwrap();
    assert_eq!(all.len(), 3, "every user asked for is answered");
    assert_eq!((all[&ada], all[&bob], all[&eve]), (Online, Away, Offline));
    assert_eq!(store.fetch_presence(vec![]).await.unwrap().len(), 0);
    assert_eq!(remove(store, ada, &shared).await, change(Online, Offline));
    assert_eq!(
        presence_of(store, bob).await,
        Away,
        "bob untouched by ada leaving"
    );
}

/// Runs `RACERS` changes of one user at once, one per socket, and returns their outcomes.
async fn race<F, Fut>(sockets: &[SocketId], op: F) -> Vec<PresenceChange>
where
    F: Fn(SocketId) -> Fut,
    Fut: Future<Output = PresenceChange> + Send + 'static,
{
    let tasks: Vec<_> = sockets
        .iter()
        .map(|s| tokio::spawn(op(s.clone())))
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

fn count(outcomes: &[PresenceChange], want: PresenceChange) -> usize {
    outcomes.iter().filter(|&&c| c == want).count()
}

async fn concurrent_changes_announce_each_transition_exactly_once(store: &Arc<dyn PresenceStore>) {
    let ada = user();
    let sockets: Vec<SocketId> = (0..RACERS).map(|_| socket()).collect();
    let op = |to: PresenceStatus| {
        move |s: SocketId| {
            let store = Arc::clone(store);
            async move {
                store
                    .set_connection_status(ada, s, to, at(0))
                    .await
                    .unwrap()
            }
        }
    };

    let connects = race(&sockets, op(Away)).await;
    assert_eq!(count(&connects, change(Offline, Away)), 1, "{connects:?}");
    assert_eq!(
        count(&connects, change(Away, Away)),
        RACERS - 1,
        "{connects:?}"
    );

    let onlines = race(&sockets, op(Online)).await;
    assert_eq!(count(&onlines, change(Away, Online)), 1, "{onlines:?}");
    assert_eq!(
        count(&onlines, change(Online, Online)),
        RACERS - 1,
        "{onlines:?}"
    );

    let leaves = race(&sockets, |s: SocketId| {
        let store = Arc::clone(store);
        async move { store.remove_connection(ada, s, at(1)).await.unwrap() }
    })
    .await;
    assert_eq!(count(&leaves, change(Online, Offline)), 1, "{leaves:?}");
    assert_eq!(
        count(&leaves, change(Online, Online)),
        RACERS - 1,
        "{leaves:?}"
    );
    assert_eq!(presence_of(store.as_ref(), ada).await, Offline);
}
