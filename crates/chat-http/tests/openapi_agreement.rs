//! The OpenAPI document and the behaviour agree (issue 22, item 6; docs/protocol.md section 7,
//! REST). One test per disagreement found, each checking the document and the answer:
//! - offsets are at most 100000 and sequences at most 2^63 - 1, documented as `maximum`, and
//!   above that `400 validation` (they were accepted, and the chat list echoed them);
//! - the mute body is documented as optional, and an empty body is accepted;
//! - `read {}` is refused, and the document says at least one target (`anyOf`); a
//!   `lastReadSequence` of `1.0` is an `integer` as the schema says, and accepted;
//! - `beforeSequence` with `afterSequence` is refused, and the document says so;
//! - a `blockedUserId` who is no other participant is `400`, and the document says so;
//! - the example `mutedUntil` is in the future, and accepted;
//! - the public operations say `security: []` and answer without a token;
//! - the document has a `servers` entry (the serving origin).
//!
//! `crates/chat-gateway/tests/schemathesis.rs` checks the same against a running gateway.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{ALICE, app, bob, carol};
use serde_json::{Value, json};

/// 2^63 - 1, the largest sequence the databases hold.
const MAX_SEQUENCE: u64 = 9_223_372_036_854_775_807;

fn doc() -> Value {
    serde_json::to_value(chat_http::openapi()).unwrap()
}

/// The schema of the query parameter `name` of `GET path`.
fn query_param(doc: &Value, path: &str, name: &str) -> Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{path} has no parameter {name}"))
        .clone()
}

#[tokio::test]
async fn offsets_and_sequences_have_a_documented_maximum_and_above_it_are_refused() {
    let doc = doc();
    for (path, name, maximum) in [
        ("/conversations/chat-list", "offset", 100_000),
        ("/conversations/{id}/messages", "offset", 100_000),
        (
            "/conversations/{id}/messages",
            "beforeSequence",
            MAX_SEQUENCE,
        ),
        (
            "/conversations/{id}/messages",
            "afterSequence",
            MAX_SEQUENCE,
        ),
    ] {
        let param = query_param(&doc, path, name);
        assert_eq!(param["schema"]["maximum"], maximum, "{path} {name}");
        assert_eq!(param["schema"]["minimum"], 0, "{path} {name}");
    }
    assert_eq!(
        doc["components"]["schemas"]["ReadRequest"]["properties"]["lastReadSequence"]["maximum"],
        MAX_SEQUENCE
    );

    let app = app();
    let id = app.alice_and_bob().await;
    app.send_message(bob(), id, "hello").await;

    let at_most = app
        .get("/conversations/chat-list?offset=100000", ALICE)
        .await;
    assert_eq!(at_most.status, StatusCode::OK, "{}", at_most.text);
    assert_eq!(at_most.json["offset"], 100_000);
    for offset in ["100001", "9223372036854775808", "18446744073709551615"] {
        app.get(&format!("/conversations/chat-list?offset={offset}"), ALICE)
            .await
            .assert_problem(400, "validation");
        app.get(
            &format!("/conversations/{id}/messages?offset={offset}"),
            ALICE,
        )
        .await
        .assert_problem(400, "validation");
    }
    let history = app
        .get(
            &format!("/conversations/{id}/messages?offset=100000"),
            ALICE,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);

    for name in ["beforeSequence", "afterSequence"] {
        let at_most = app
            .get(
                &format!("/conversations/{id}/messages?{name}={MAX_SEQUENCE}"),
                ALICE,
            )
            .await;
        assert_eq!(at_most.status, StatusCode::OK, "{name}: {}", at_most.text);
        let above = app
            .get(
                &format!("/conversations/{id}/messages?{name}={}", MAX_SEQUENCE + 1),
                ALICE,
            )
            .await;
        let problem = above.assert_problem(400, "validation");
        assert!(problem["detail"].as_str().unwrap().contains(name));
    }

    let url = format!("/conversations/{id}/read");
    let clamped = app
        .post(&url, ALICE, json!({ "lastReadSequence": MAX_SEQUENCE }))
        .await;
    assert_eq!(clamped.status, StatusCode::OK, "{}", clamped.text);
    assert_eq!(clamped.json["lastReadSequence"], 1);
    app.post(&url, ALICE, json!({ "lastReadSequence": MAX_SEQUENCE + 1 }))
        .await
        .assert_problem(400, "validation");
}

#[tokio::test]
async fn the_mute_body_is_documented_optional_and_may_be_left_out() {
    let doc = doc();
    let body = &doc["paths"]["/conversations/{id}/mute"]["post"]["requestBody"];
    assert_eq!(body["required"], false, "{body}");
    assert_eq!(
        body["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/MuteRequest" })
    );

    let app = app();
    let id = app.alice_and_bob().await;
    let url = format!("/conversations/{id}/mute");
    let without = app.call(Method::POST, &url, Some(ALICE), None).await;
    assert_eq!(without.status, StatusCode::OK, "{}", without.text);
    assert_eq!(without.json["success"], true);
    assert!(without.json.get("mutedUntil").is_none(), "{}", without.text);
}

#[tokio::test]
async fn a_read_without_a_target_is_refused_and_documented_as_needing_one() {
    let doc = doc();
    let schema = &doc["components"]["schemas"]["ReadRequest"];
    let any_of = schema["anyOf"].as_array().unwrap();
    let required: Vec<&Value> = any_of.iter().map(|s| &s["required"]).collect();
    assert_eq!(
        required,
        [
            &json!(["lastReadSequence"]),
            &json!(["lastReadAt"]),
            &json!(["messageIds"])
        ]
    );
    // Each alternative needs its field given, not null (and the list not empty).
    assert_eq!(
        any_of[0]["properties"]["lastReadSequence"]["type"],
        "integer"
    );
    assert_eq!(any_of[1]["properties"]["lastReadAt"]["type"], "string");
    assert_eq!(any_of[2]["properties"]["messageIds"]["minItems"], 1);

    let app = app();
    let id = app.alice_and_bob().await;
    let url = format!("/conversations/{id}/read");
    for body in [
        json!({}),
        json!({ "lastReadSequence": null }),
        json!({ "lastReadAt": null }),
        json!({ "messageIds": [] }),
        json!({ "": null }),
    ] {
        app.post(&url, ALICE, body)
            .await
            .assert_problem(400, "validation");
    }
    let one = app
        .post(&url, ALICE, json!({ "lastReadSequence": 0 }))
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
}

#[tokio::test]
async fn before_and_after_sequence_together_are_refused_and_documented_so() {
    let doc = doc();
    let path = "/conversations/{id}/messages";
    for (name, other) in [
        ("beforeSequence", "afterSequence"),
        ("afterSequence", "beforeSequence"),
    ] {
        let description = query_param(&doc, path, name)["description"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            description.contains(other) && description.contains("400 validation"),
            "{name}: {description}"
        );
    }

    let app = app();
    let id = app.alice_and_bob().await;
    app.get(
        &format!("/conversations/{id}/messages?beforeSequence=5&afterSequence=1"),
        ALICE,
    )
    .await
    .assert_problem(400, "validation");
}

#[tokio::test]
async fn a_block_target_outside_the_conversation_is_a_documented_400() {
    let doc = doc();
    for path in ["/conversations/{id}/block", "/conversations/{id}/unblock"] {
        assert_eq!(
            doc["paths"][path]["post"]["responses"]["400"],
            json!({ "$ref": "#/components/responses/BlockBadRequest" }),
            "{path}"
        );
    }
    let described = doc["components"]["responses"]["BlockBadRequest"]["description"]
        .as_str()
        .unwrap();
    assert!(
        described.contains("not a participant") && described.contains("yourself"),
        "{described}"
    );

    let app = app();
    let id = app.alice_and_bob().await;
    for action in ["block", "unblock"] {
        let answer = app
            .post(
                &format!("/conversations/{id}/{action}"),
                ALICE,
                json!({ "blockedUserId": carol().to_string() }),
            )
            .await;
        answer.assert_problem(400, "validation");
    }
}

#[tokio::test]
async fn the_example_muted_until_is_in_the_future_and_accepted() {
    let doc = doc();
    let example =
        doc["components"]["schemas"]["MuteRequest"]["properties"]["mutedUntil"]["example"]
            .as_str()
            .unwrap()
            .to_owned();
    let millis = chat_protocol::time::parse(&example, "mutedUntil")
        .unwrap()
        .millis();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    // Decades ahead, so the document does not go stale.
    let ten_years = 10 * 365 * 24 * 3_600 * 1_000;
    assert!(
        i128::from(millis) > i128::try_from(now).unwrap() + ten_years,
        "{example}"
    );

    let app = app();
    let id = app.alice_and_bob().await;
    let muted = app
        .post(
            &format!("/conversations/{id}/mute"),
            ALICE,
            json!({ "mutedUntil": example }),
        )
        .await;
    assert_eq!(muted.status, StatusCode::OK, "{}", muted.text);
    assert_eq!(muted.json["mutedUntil"], example);
}

#[tokio::test]
async fn public_operations_say_security_none_and_answer_without_a_token() {
    let doc = doc();
    assert_eq!(doc["security"], json!([{ "bearer": [] }]));
    let app = app();
    let mut public = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let authenticated = path.starts_with("/conversations") || path.starts_with("/users");
            if authenticated {
                assert_eq!(
                    operation["security"],
                    json!([{ "bearer": [] }]),
                    "{method} {path}"
                );
                continue;
            }
            assert_eq!(operation["security"], json!([]), "{method} {path}");
            assert_eq!(method, "get", "{path}");
            let answer = app.call(Method::GET, path, None, None).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text);
            public.push(path.clone());
        }
    }
    public.sort();
    assert_eq!(
        public,
        [
            "/asyncapi.json",
            "/health/live",
            "/health/ready",
            "/metrics",
            "/openapi.json"
        ]
    );
}

#[tokio::test]
async fn the_document_names_its_server() {
    let doc = doc();
    let servers = doc["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1, "{servers:?}");
    assert_eq!(servers[0]["url"], "/");
    // Relative: the origin that serves the document, wherever the gateway is deployed.
    let app = app();
    let served = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(served.json["servers"], doc["servers"]);
}
