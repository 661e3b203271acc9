//! [`UserRepository`](chat_domain::ports::UserRepository) checks.

use super::fixtures::{at, name, user};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    an_unknown_user_is_not_found(r).await;
    a_user_is_created_once_and_keeps_its_first_creation_time(r).await;
    a_given_name_is_set_and_an_absent_name_keeps_the_current_one(r).await;
}

async fn an_unknown_user_is_not_found(r: &Repositories) {
    assert_eq!(r.users.find_user(user()).await.unwrap(), None);
}

async fn a_user_is_created_once_and_keeps_its_first_creation_time(r: &Repositories) {
    let ada = user();
    r.users.upsert_user(ada, None, at(1)).await.unwrap();
    r.users.upsert_user(ada, None, at(5_000)).await.unwrap();
    let found = r.users.find_user(ada).await.unwrap().expect("created");
    assert_eq!(found.id, ada);
    assert_eq!(found.name, None);
    assert_eq!(
        found.created_at,
        at(1),
        "the first sighting is the creation time"
    );
}

async fn a_given_name_is_set_and_an_absent_name_keeps_the_current_one(r: &Repositories) {
    let ada = user();
    r.users
        .upsert_user(ada, Some(name("Ada")), at(10))
        .await
        .unwrap();
    let found = r.users.find_user(ada).await.unwrap().unwrap();
    assert_eq!(found.name, Some(name("Ada")));

    r.users.upsert_user(ada, None, at(20)).await.unwrap();
    let found = r.users.find_user(ada).await.unwrap().unwrap();
    assert_eq!(
        found.name,
        Some(name("Ada")),
        "no name given: the name stays"
    );

    r.users
        .upsert_user(ada, Some(name("Ada Lovelace")), at(30))
        .await
        .unwrap();
    let found = r.users.find_user(ada).await.unwrap().unwrap();
    assert_eq!(
        found.name,
        Some(name("Ada Lovelace")),
        "a new name replaces the old"
    );
    assert_eq!(found.created_at, at(10));
}
