//! The [`SessionStore`] contract: sessions by socket and by user, resume points taken once and
//! kept only for their TTL.

use std::{collections::BTreeMap, time::Duration};

use chat_domain::{
    ids::{ConversationId, DeviceId, SocketId, UserId},
    ports::{SessionStore, SocketSession},
    resume::ResumePoint,
    sequence::ServerSequence,
    time::Timestamp,
};
use uuid::Uuid;

/// Runs every session store check against `store`. Uses fresh random ids, so other suites may
/// share the store. Waits about a quarter of a second for the TTL check.
pub async fn session_store_contract(store: &dyn SessionStore) {
    sessions_are_listed_by_user(store).await;
    a_deleted_session_is_returned_once_and_no_longer_listed(store).await;
    a_resume_point_is_taken_once(store).await;
    a_later_resume_point_replaces_the_earlier_one(store).await;
    resume_points_are_kept_per_device(store).await;
    an_expired_resume_point_is_never_returned(store).await;
}

fn user() -> UserId {
    UserId::new(Uuid::new_v4())
}

fn device() -> DeviceId {
    DeviceId::generated(Uuid::new_v4())
}

fn session(user: UserId, device: &DeviceId) -> SocketSession {
    SocketSession {
        socket_id: SocketId::new(Uuid::new_v4().simple().to_string()),
        user_id: user,
        device_id: device.clone(),
        connected_at: Timestamp::from_millis(1_769_509_800_000),
    }
}

fn point(user: UserId, device: &DeviceId, newest: u64) -> ResumePoint {
    let conversation = ConversationId::new(Uuid::new_v4());
    ResumePoint {
        user_id: user,
        device_id: device.clone(),
        disconnected_at: Timestamp::from_millis(1_769_509_800_000),
        sequences: BTreeMap::from([(conversation, ServerSequence::new(newest))]),
    }
}

fn sorted(mut sessions: Vec<SocketSession>) -> Vec<SocketSession> {
    sessions.sort_by(|a, b| a.socket_id.cmp(&b.socket_id));
    sessions
}

async fn sessions_are_listed_by_user(store: &dyn SessionStore) {
    let (ada, bob) = (user(), user());
    let (phone, laptop) = (device(), device());
    let mine = [session(ada, &phone), session(ada, &laptop)];
    let theirs = session(bob, &phone);
    for s in mine.iter().chain([&theirs]) {
        store.insert_session(s.clone()).await.unwrap();
    }
    let listed = store.list_user_sessions(ada).await.unwrap();
    assert_eq!(sorted(listed), sorted(mine.to_vec()), "a user's sessions");
    assert_eq!(store.list_user_sessions(bob).await.unwrap(), vec![theirs]);
    assert!(
        store.list_user_sessions(user()).await.unwrap().is_empty(),
        "unknown user"
    );
}

async fn a_deleted_session_is_returned_once_and_no_longer_listed(store: &dyn SessionStore) {
    let ada = user();
    let (gone, kept) = (session(ada, &device()), session(ada, &device()));
    store.insert_session(gone.clone()).await.unwrap();
    store.insert_session(kept.clone()).await.unwrap();

    let deleted = store.delete_session(gone.socket_id.clone()).await.unwrap();
    assert_eq!(deleted, Some(gone.clone()), "delete returns the session");
    let again = store.delete_session(gone.socket_id.clone()).await.unwrap();
    assert_eq!(again, None, "a second delete finds nothing");
    assert_eq!(
        store.list_user_sessions(ada).await.unwrap(),
        vec![kept.clone()]
    );

    store.delete_session(kept.socket_id).await.unwrap();
    assert!(
        store.list_user_sessions(ada).await.unwrap().is_empty(),
        "last one gone"
    );
    let unknown = SocketId::new(Uuid::new_v4().to_string());
    assert_eq!(
        store.delete_session(unknown).await.unwrap(),
        None,
        "unknown socket"
    );
}

async fn a_resume_point_is_taken_once(store: &dyn SessionStore) {
    let (ada, phone) = (user(), device());
    let kept = point(ada, &phone, 7);
    store
        .insert_resume_point(kept.clone(), 60_000)
        .await
        .unwrap();
    let taken = store.take_resume_point(ada, phone.clone()).await.unwrap();
    assert_eq!(taken, Some(kept), "the point as recorded");
    let again = store.take_resume_point(ada, phone).await.unwrap();
    assert_eq!(again, None, "taking forgets the point");
    let never = store.take_resume_point(user(), device()).await.unwrap();
    assert_eq!(never, None, "a device that never left");
}

async fn a_later_resume_point_replaces_the_earlier_one(store: &dyn SessionStore) {
    let (ada, phone) = (user(), device());
    store
        .insert_resume_point(point(ada, &phone, 1), 60_000)
        .await
        .unwrap();
    let later = point(ada, &phone, 2);
    store
        .insert_resume_point(later.clone(), 60_000)
        .await
        .unwrap();
    let taken = store.take_resume_point(ada, phone.clone()).await.unwrap();
    assert_eq!(taken, Some(later), "the later point wins");
    assert_eq!(store.take_resume_point(ada, phone).await.unwrap(), None);
}

async fn resume_points_are_kept_per_device(store: &dyn SessionStore) {
    let (ada, bob) = (user(), user());
    let (phone, laptop) = (device(), device());
    let ada_phone = point(ada, &phone, 1);
    let ada_laptop = point(ada, &laptop, 2);
    let bob_phone = point(bob, &phone, 3);
    for p in [&ada_phone, &ada_laptop, &bob_phone] {
        store.insert_resume_point(p.clone(), 60_000).await.unwrap();
    }
    let taken = store.take_resume_point(ada, laptop.clone()).await.unwrap();
    assert_eq!(taken, Some(ada_laptop), "per device");
    let taken = store.take_resume_point(bob, phone.clone()).await.unwrap();
    assert_eq!(taken, Some(bob_phone), "per user, same device id");
    let taken = store.take_resume_point(ada, phone).await.unwrap();
    assert_eq!(taken, Some(ada_phone), "untouched by the others");
    assert_eq!(store.take_resume_point(ada, laptop).await.unwrap(), None);
}

async fn an_expired_resume_point_is_never_returned(store: &dyn SessionStore) {
    let ada = user();
    let (short, long) = (device(), device());
    store
        .insert_resume_point(point(ada, &short, 1), 100)
        .await
        .unwrap();
    let kept = point(ada, &long, 2);
    store
        .insert_resume_point(kept.clone(), 60_000)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let expired = store.take_resume_point(ada, short).await.unwrap();
    assert_eq!(expired, None, "past its TTL");
    let taken = store.take_resume_point(ada, long).await.unwrap();
    assert_eq!(taken, Some(kept), "within its TTL");
}
