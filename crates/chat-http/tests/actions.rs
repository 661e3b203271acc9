//! Contract section 6 (with 4.2 and 4.5), actions and the `users/me` lists:
//! - `POST /conversations/{id}/read`: exact `ReadAck` fields, forward-only marker, `lastReadAt`
//!   as RFC 3339, same effects as `message:read`; neither field → `400`.
//! - `POST /conversations/{id}/block` / `unblock`: `{success, conversationId, blockedUserId,
//!   blockedAt?}`, idempotent, effects (`user:blocked`, room leave); self / non-participant
//!   target → `400`.
//! - `POST /conversations/{id}/mute` / `unmute`: `{success, conversationId, mutedAt?,
//!   mutedUntil?}`, empty body allowed, past `mutedUntil` → `400`.
//! - `GET /users/me/blocks` → `[{conversationId, blockedUserId, blockedAt}]`,
//!   `GET /users/me/mutes` → `[{conversationId, mutedAt, mutedUntil}]`.

mod common;

use axum::http::{Method, StatusCode};
use chat_domain::events::{Audience, ServerEvent};
use common::{ALICE, alice, app, bob, carol, keys};
use serde_json::{Value, json};

#[tokio::test]
async fn reading_moves_the_marker_forward_only_and_answers_a_read_ack() {
    let app = app();
    let id = app.alice_and_bob().await;
    for text in ["a", "b", "c"] {
        app.send_message(bob(), id, text).await;
    }
    app.clock.advance(1_234);
    let url = format!("/conversations/{id}/read");

    let ack = app
        .post(&url, ALICE, json!({ "lastReadSequence": 2 }))
        .await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    assert_eq!(
        keys(&ack.json),
        [
            "conversationId",
            "lastReadAt",
            "lastReadSequence",
            "newUnreadCount",
            "updatedAt"
        ]
    );
    assert_eq!(ack.json["conversationId"], id.to_string());
    assert_eq!(ack.json["lastReadSequence"], 2);
    assert_eq!(ack.json["newUnreadCount"], 1);
    assert_eq!(ack.json["updatedAt"], "2026-01-27T10:30:01.234Z");
    assert_eq!(ack.json["lastReadAt"], "2026-01-27T10:30:01.234Z");
    let receipts = app.publisher.events_to(&Audience::Conversation(id));
    assert!(
        receipts
            .iter()
            .any(|e| matches!(e, ServerEvent::ReadReceiptReceived(_)))
    );

    let older = app
        .post(&url, ALICE, json!({ "lastReadSequence": 1 }))
        .await;
    assert_eq!(
        older.json["lastReadSequence"], 2,
        "the marker never moves back"
    );

    let by_time = app
        .post(
            &url,
            ALICE,
            json!({ "lastReadAt": "2026-01-27T10:30:00.000Z" }),
        )
        .await;
    assert_eq!(by_time.json["lastReadSequence"], 3);
    assert_eq!(by_time.json["newUnreadCount"], 0);
}

#[tokio::test]
async fn reading_without_a_target_or_with_a_bad_one_is_a_validation_problem() {
    let app = app();
    let id = app.alice_and_bob().await;
    let url = format!("/conversations/{id}/read");
    for body in [
        json!({}),
        json!({ "lastReadSequence": -1 }),
        json!({ "lastReadSequence": "two" }),
        json!({ "lastReadAt": "yesterday" }),
        json!({ "lastReadAt": 1_769_509_800_000_i64 }),
        json!([1, 2]),
    ] {
        app.post(&url, ALICE, body)
            .await
            .assert_problem(400, "validation");
    }
}

#[tokio::test]
async fn blocking_and_unblocking_answer_as_the_socket_ack_and_are_idempotent() {
    let app = app();
    let id = app.alice_and_bob().await;
    let body = json!({ "blockedUserId": bob().to_string() });

    let blocked = app
        .post(&format!("/conversations/{id}/block"), ALICE, body.clone())
        .await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.text);
    assert_eq!(
        keys(&blocked.json),
        ["blockedAt", "blockedUserId", "conversationId", "success"]
    );
    assert_eq!(blocked.json["success"], true);
    assert_eq!(blocked.json["conversationId"], id.to_string());
    assert_eq!(blocked.json["blockedUserId"], bob().to_string());
    assert_eq!(blocked.json["blockedAt"], "2026-01-27T10:30:00.000Z");
    assert!(app.publisher.leaves().contains(&(bob(), id)));
    let to_alice = app.publisher.events_to(&Audience::User(alice()));
    assert!(
        to_alice
            .iter()
            .any(|e| matches!(e, ServerEvent::UserBlocked(_)))
    );

    app.clock.advance(5_000);
    let again = app
        .post(&format!("/conversations/{id}/block"), ALICE, body.clone())
        .await;
    assert_eq!(
        again.json["blockedAt"], "2026-01-27T10:30:00.000Z",
        "the standing block is returned"
    );

    let list = app.get("/users/me/blocks", ALICE).await;
    assert_eq!(
        list.json,
        json!([{ "conversationId": id.to_string(), "blockedUserId": bob().to_string(), "blockedAt": "2026-01-27T10:30:00.000Z" }])
    );

    for _ in 0..2 {
        let lifted = app
            .post(&format!("/conversations/{id}/unblock"), ALICE, body.clone())
            .await;
        assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.text);
        assert_eq!(
            lifted.json,
            json!({ "success": true, "conversationId": id.to_string(), "blockedUserId": bob().to_string() })
        );
    }
    assert_eq!(app.get("/users/me/blocks", ALICE).await.json, json!([]));
}

#[tokio::test]
async fn blocking_yourself_or_a_stranger_is_a_validation_problem() {
    let app = app();
    let id = app.alice_and_bob().await;
    for target in [alice(), carol()] {
        let body = json!({ "blockedUserId": target.to_string() });
        app.post(&format!("/conversations/{id}/block"), ALICE, body)
            .await
            .assert_problem(400, "validation");
    }
    for body in [
        json!({}),
        json!({ "blockedUserId": "bob" }),
        json!({ "blockedUserId": null }),
    ] {
        app.post(&format!("/conversations/{id}/unblock"), ALICE, body)
            .await
            .assert_problem(400, "validation");
    }
}

#[tokio::test]
async fn muting_and_unmuting_answer_as_the_socket_ack() {
    let app = app();
    let id = app.alice_and_bob().await;
    let until = "2026-01-28T10:30:00.000Z";

    let muted = app
        .post(
            &format!("/conversations/{id}/mute"),
            ALICE,
            json!({ "mutedUntil": until }),
        )
        .await;
    assert_eq!(muted.status, StatusCode::OK, "{}", muted.text);
    assert_eq!(
        muted.json,
        json!({ "success": true, "conversationId": id.to_string(), "mutedAt": "2026-01-27T10:30:00.000Z", "mutedUntil": until })
    );
    let to_alice = app.publisher.events_to(&Audience::User(alice()));
    assert!(
        to_alice
            .iter()
            .any(|e| matches!(e, ServerEvent::ConversationMuted(_)))
    );
    let list = app.get("/users/me/mutes", ALICE).await;
    assert_eq!(
        list.json,
        json!([{ "conversationId": id.to_string(), "mutedAt": "2026-01-27T10:30:00.000Z", "mutedUntil": until }])
    );
    let chat_list = app.get("/conversations/chat-list", ALICE).await;
    assert_eq!(chat_list.json["items"][0]["muted"], true);

    let forever = app
        .call(
            Method::POST,
            &format!("/conversations/{id}/mute"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(
        forever.status,
        StatusCode::OK,
        "an empty body mutes until unmuted: {}",
        forever.text
    );
    assert_eq!(
        keys(&forever.json),
        ["conversationId", "mutedAt", "success"]
    );
    assert_eq!(
        app.get("/users/me/mutes", ALICE).await.json[0]["mutedUntil"],
        Value::Null
    );

    let unmuted = app
        .call(
            Method::POST,
            &format!("/conversations/{id}/unmute"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(
        unmuted.json,
        json!({ "success": true, "conversationId": id.to_string() })
    );
    assert_eq!(app.get("/users/me/mutes", ALICE).await.json, json!([]));
}

#[tokio::test]
async fn muting_until_the_past_or_with_a_bad_date_is_a_validation_problem() {
    let app = app();
    let id = app.alice_and_bob().await;
    for body in [
        json!({ "mutedUntil": "2026-01-27T10:29:59.000Z" }),
        json!({ "mutedUntil": "2026-01-27T10:30:00.000Z" }),
        json!({ "mutedUntil": "tomorrow" }),
        json!({ "mutedUntil": 5 }),
    ] {
        app.post(&format!("/conversations/{id}/mute"), ALICE, body)
            .await
            .assert_problem(400, "validation");
    }
}
