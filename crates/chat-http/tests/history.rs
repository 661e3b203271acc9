//! Contract section 6, history (`GET /conversations/{id}/messages`):
//! - `{items, hasMore}` ascending by `serverSequence`, the exact `Message` fields, `readBy`
//!   (participants but the sender whose marker reached it), `timestamp` with milliseconds.
//! - Paging: newest `limit` (default 50, up to 200), `offset`, `beforeSequence`,
//!   `afterSequence`, `from`/`to` (RFC 3339).
//! - `400 validation`: `limit` 0/201/non-number, both anchors, negative or non-numeric
//!   sequences, `offset` with an anchor, bad dates, `from` after `to`.

mod common;

use axum::http::StatusCode;
use common::{ALICE, BOB, alice, app, bob, keys};
use serde_json::{Value, json};

#[tokio::test]
async fn history_lists_messages_ascending_with_their_exact_fields_and_read_by() {
    let app = app();
    let id = app.alice_and_bob().await;
    let first = app.send_message(alice(), id, "one").await;
    app.clock.advance(1_234);
    app.send_message(bob(), id, "two").await;
    app.post(
        &format!("/conversations/{id}/read"),
        BOB,
        json!({ "lastReadSequence": 1 }),
    )
    .await;

    let history = app
        .get(&format!("/conversations/{id}/messages"), ALICE)
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    assert_eq!(keys(&history.json), ["hasMore", "items"]);
    assert_eq!(history.json["hasMore"], false);
    let items = history.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let m = &items[0];
    assert_eq!(
        keys(m),
        [
            "content",
            "conversationId",
            "messageId",
            "readBy",
            "senderId",
            "senderName",
            "serverSequence",
            "timestamp"
        ]
    );
    assert_eq!(m["messageId"], first.get().to_string());
    assert_eq!(m["conversationId"], id.to_string());
    assert_eq!(m["senderId"], alice().to_string());
    assert_eq!(m["senderName"], "Alice");
    assert_eq!(m["content"], "one");
    assert_eq!(m["timestamp"], "2026-01-27T10:30:00.000Z");
    assert_eq!(m["serverSequence"], 1);
    assert_eq!(m["readBy"], json!([bob().to_string()]));
    assert_eq!(items[1]["timestamp"], "2026-01-27T10:30:01.234Z");
    assert_eq!(items[1]["readBy"], json!([]));
}

#[tokio::test]
async fn history_pages_back_catches_up_and_filters_by_time() {
    let app = app();
    let id = app.alice_and_bob().await;
    for n in 1..=5 {
        app.send_message(alice(), id, &format!("m{n}")).await;
        app.clock.advance(1_000);
    }
    let seqs = |v: &Value| -> Vec<u64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["serverSequence"].as_u64().unwrap())
            .collect()
    };
    let base = format!("/conversations/{id}/messages");
    let newest = app.get(&format!("{base}?limit=2"), ALICE).await;
    assert_eq!(
        (seqs(&newest.json), newest.json["hasMore"].clone()),
        (vec![4, 5], json!(true))
    );
    let skipped = app.get(&format!("{base}?limit=2&offset=2"), ALICE).await;
    assert_eq!(seqs(&skipped.json), vec![2, 3]);
    let back = app
        .get(&format!("{base}?limit=2&beforeSequence=4"), ALICE)
        .await;
    assert_eq!(seqs(&back.json), vec![2, 3]);
    let after = app
        .get(&format!("{base}?limit=2&afterSequence=3"), ALICE)
        .await;
    assert_eq!(
        (seqs(&after.json), after.json["hasMore"].clone()),
        (vec![4, 5], json!(false))
    );
    let window = app
        .get(
            &format!("{base}?from=2026-01-27T10:30:01.000Z&to=2026-01-27T10:30:02.000Z"),
            ALICE,
        )
        .await;
    assert_eq!(seqs(&window.json), vec![2, 3]);
    assert_eq!(
        app.get(&format!("{base}?limit=200"), ALICE).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn history_refuses_malformed_queries() {
    let app = app();
    let id = app.alice_and_bob().await;
    let base = format!("/conversations/{id}/messages");
    for query in [
        "limit=0",
        "limit=201",
        "limit=abc",
        "beforeSequence=3&afterSequence=1",
        "beforeSequence=-1",
        "afterSequence=x",
        "offset=2&beforeSequence=3",
        "from=yesterday",
        "to=2026-13-01T00:00:00Z",
        "from=2026-01-28T00:00:00Z&to=2026-01-27T00:00:00Z",
    ] {
        let answer = app.get(&format!("{base}?{query}"), ALICE).await;
        answer.assert_problem(400, "validation");
    }
}
