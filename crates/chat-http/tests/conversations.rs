//! Contract section 6, conversations:
//! - `POST /conversations/create/one-to-one`: `201` new / `200` existing `Conversation` with its
//!   exact fields; yourself and a non-UUID `participantId` → `400 validation`; room joins.
//! - `GET /conversations/chat-list`: `{items, total, limit, offset}`, `ChatListItem` fields
//!   (presence, lastMessage with readBy, unreadCount, muted, blockedByMe/blockedMe), defaults
//!   and `limit` bounds (0/101 → `400`), newest activity first.
//! - `*At` fields: RFC 3339 UTC with exactly milliseconds and a `Z`.

mod common;

use axum::http::StatusCode;
use common::{ALICE, BOB, CAROL, alice, app, bob, carol, keys};
use serde_json::{Value, json};

fn is_millis_utc(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 24 && s.ends_with('Z') && s.as_bytes()[19] == b'.' && s.as_bytes()[10] == b'T'
}

#[tokio::test]
async fn creating_a_conversation_answers_201_then_200_with_the_same_conversation() {
    let app = app();
    app.get("/users/me/blocks", BOB).await;
    let body = json!({ "participantId": bob().to_string() });
    let first = app
        .post("/conversations/create/one-to-one", ALICE, body.clone())
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.content_type(), "application/json");
    let c = &first.json;
    assert_eq!(
        keys(c),
        [
            "conversationId",
            "createdAt",
            "memberCount",
            "participants",
            "title",
            "type"
        ]
    );
    assert_eq!(c["title"], serde_json::Value::Null);
    assert_eq!(c["memberCount"], 2);
    assert_eq!(c["type"], "one_to_one");
    assert_eq!(c["createdAt"], "2026-01-27T10:30:00.000Z");
    let participants = c["participants"].as_array().unwrap();
    assert_eq!(participants.len(), 2);
    for p in participants {
        assert_eq!(keys(p), ["joinedAt", "name", "role", "userId"]);
        assert_eq!(p["role"], "member");
        assert!(is_millis_utc(&p["joinedAt"]));
    }
    let bob_entry = participants
        .iter()
        .find(|p| p["userId"] == bob().to_string())
        .unwrap();
    assert_eq!(bob_entry["name"], "Bob");

    let again = app
        .post(
            "/conversations/create/one-to-one",
            BOB,
            json!({ "participantId": alice().to_string() }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json["conversationId"], c["conversationId"]);
    assert_eq!(
        app.publisher.joins().len(),
        2,
        "both users' sockets join the new room once"
    );
}

#[tokio::test]
async fn creating_a_conversation_with_yourself_or_a_non_uuid_is_a_validation_problem() {
    let app = app();
    let me = app
        .post(
            "/conversations/create/one-to-one",
            ALICE,
            json!({ "participantId": alice().to_string() }),
        )
        .await;
    me.assert_problem(400, "validation");
    let bad = app
        .post(
            "/conversations/create/one-to-one",
            ALICE,
            json!({ "participantId": "bob" }),
        )
        .await;
    bad.assert_problem(400, "validation");
    let missing = app
        .post("/conversations/create/one-to-one", ALICE, json!({}))
        .await;
    missing.assert_problem(400, "validation");
    let wrong_type = app
        .post(
            "/conversations/create/one-to-one",
            ALICE,
            json!({ "participantId": 7 }),
        )
        .await;
    wrong_type.assert_problem(400, "validation");
}

#[tokio::test]
async fn chat_list_shows_each_conversation_with_its_exact_fields() {
    let app = app();
    let id = app.alice_and_bob().await;
    app.set_online(bob()).await;
    app.send_message(bob(), id, "hello alice").await;

    let list = app.get("/conversations/chat-list", ALICE).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(keys(&list.json), ["items", "limit", "offset", "total"]);
    assert_eq!(list.json["total"], 1);
    assert_eq!(list.json["limit"], 20);
    assert_eq!(list.json["offset"], 0);
    let item = &list.json["items"][0];
    assert_eq!(
        keys(item),
        [
            "blockedByMe",
            "blockedMe",
            "conversationId",
            "lastMessage",
            "muted",
            "participants",
            "type",
            "unreadCount",
            "updatedAt"
        ]
    );
    assert_eq!(item["conversationId"], id.to_string());
    assert_eq!(item["type"], "one_to_one");
    assert_eq!(item["unreadCount"], 1);
    assert_eq!(item["muted"], false);
    assert_eq!(item["blockedByMe"], false);
    assert_eq!(item["blockedMe"], false);
    assert!(is_millis_utc(&item["updatedAt"]));
    let bob_entry = item["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["userId"] == bob().to_string())
        .unwrap();
    assert_eq!(keys(bob_entry), ["name", "presence", "userId"]);
    assert_eq!(bob_entry["presence"], "online");
    assert_eq!(bob_entry["name"], "Bob");
    let last = &item["lastMessage"];
    assert_eq!(last["content"], "hello alice");
    assert_eq!(last["senderName"], "Bob");
    assert_eq!(last["serverSequence"], 1);
    assert_eq!(last["readBy"], json!([]));

    let empty = app.get("/conversations/chat-list", CAROL).await;
    assert_eq!(
        empty.json,
        json!({ "items": [], "total": 0, "limit": 20, "offset": 0 })
    );
}

#[tokio::test]
async fn chat_list_hides_presence_and_flags_both_sides_of_a_block() {
    let app = app();
    let id = app.alice_and_bob().await;
    app.set_online(bob()).await;
    let blocked = app
        .post(
            &format!("/conversations/{id}/block"),
            ALICE,
            json!({ "blockedUserId": bob().to_string() }),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK);

    let mine = app.get("/conversations/chat-list", ALICE).await;
    let item = &mine.json["items"][0];
    assert_eq!(item["blockedByMe"], true);
    assert_eq!(item["blockedMe"], false);
    assert_eq!(item["lastMessage"], Value::Null);
    let bob_entry = item["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["userId"] == bob().to_string())
        .unwrap();
    assert_eq!(bob_entry["presence"], "offline");

    let theirs = app.get("/conversations/chat-list", BOB).await;
    assert_eq!(theirs.json["items"][0]["blockedMe"], true);
}

#[tokio::test]
async fn chat_list_pages_with_limit_and_offset_and_refuses_out_of_range_limits() {
    let app = app();
    app.alice_and_bob().await;
    let carol_body = json!({ "participantId": carol().to_string() });
    app.post("/conversations/create/one-to-one", ALICE, carol_body)
        .await;
    app.clock.advance(1_000);

    let page = app
        .get("/conversations/chat-list?limit=1&offset=1", ALICE)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.json["total"], 2);
    assert_eq!(page.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        (page.json["limit"].clone(), page.json["offset"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        app.get("/conversations/chat-list?limit=100", ALICE)
            .await
            .status,
        StatusCode::OK
    );

    for query in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=ten",
        "offset=-1",
        "offset=x",
    ] {
        app.get(&format!("/conversations/chat-list?{query}"), ALICE)
            .await
            .assert_problem(400, "validation");
    }
}
