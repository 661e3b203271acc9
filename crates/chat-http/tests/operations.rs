//! Contract section 6, operations:
//! - `GET /health/live` → `200`; `GET /health/ready` → `200` listing each dependency, `503`
//!   when one is down; no token needed.
//! - `GET /metrics` → the renderer's Prometheus text.
//! - `GET /openapi.json` → OpenAPI 3.1.x listing every path and method of the contract, with
//!   request/response schemas, problem+json error responses and the bearer scheme; the same
//!   document as `chat_http::openapi()`.

mod common;

use axum::http::{Method, StatusCode};
use common::app;
use serde_json::{Value, json};

#[tokio::test]
async fn liveness_is_always_ok_and_needs_no_token() {
    let app = app();
    let answer = app.call(Method::GET, "/health/live", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json, json!({ "status": "ok" }));
}

#[tokio::test]
async fn readiness_lists_each_dependency_and_is_503_when_one_is_down() {
    let app = app();
    let up = app.call(Method::GET, "/health/ready", None, None).await;
    assert_eq!(up.status, StatusCode::OK);
    assert_eq!(
        up.json,
        json!({ "status": "ok", "dependencies": [{ "name": "database", "ok": true }] })
    );

    app.readiness.set_down(true);
    let down = app.call(Method::GET, "/health/ready", None, None).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        down.json,
        json!({ "status": "unavailable", "dependencies": [{ "name": "database", "ok": false, "detail": "connection refused" }] })
    );
}

#[tokio::test]
async fn metrics_are_served_in_the_prometheus_text_format() {
    let app = app();
    let answer = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer
            .content_type()
            .starts_with("text/plain; version=0.0.4")
    );
    assert_eq!(answer.text, "# TYPE chat_up gauge\nchat_up 1\n");
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_every_route() {
    let app = app();
    let answer = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type(), "application/json");
    let doc = &answer.json;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc, &serde_json::to_value(chat_http::openapi()).unwrap());

    let routes = [
        ("post", "/conversations/create/one-to-one"),
        ("get", "/conversations/chat-list"),
        ("get", "/conversations/{id}/messages"),
        ("post", "/conversations/{id}/read"),
        ("post", "/conversations/{id}/block"),
        ("post", "/conversations/{id}/unblock"),
        ("post", "/conversations/{id}/mute"),
        ("post", "/conversations/{id}/unmute"),
        ("get", "/users/me/blocks"),
        ("get", "/users/me/mutes"),
        ("get", "/health/live"),
        ("get", "/health/ready"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
        ("get", "/asyncapi.json"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(
        paths.len(),
        routes.len(),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (method, path) in routes {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path}");
        assert!(
            operation["responses"]["200"].is_object() || operation["responses"]["201"].is_object(),
            "{method} {path}"
        );
        let authenticated = path.starts_with("/conversations") || path.starts_with("/users");
        if authenticated {
            assert_eq!(
                operation["security"],
                json!([{ "bearer": [] }]),
                "{method} {path}"
            );
            assert_eq!(
                operation["responses"]["401"],
                json!({ "$ref": "#/components/responses/Unauthorized" }),
                "{method} {path}"
            );
        }
        if path.contains("{id}") {
            assert!(operation["responses"]["403"].is_object(), "{method} {path}");
            assert!(
                operation["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == "id")
            );
        }
    }
    for (method, path) in [
        ("post", "/conversations/{id}/read"),
        ("post", "/conversations/{id}/block"),
        ("post", "/conversations/{id}/mute"),
    ] {
        let r = &doc["paths"][path][method]["responses"]["429"];
        assert_eq!(
            r,
            &json!({ "$ref": "#/components/responses/TooManyRequests" })
        );
    }
    let create = &doc["paths"]["/conversations/create/one-to-one"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/CreateOneToOne" })
    );

    let components = &doc["components"];
    let problem_media =
        &components["responses"]["BadRequest"]["content"]["application/problem+json"];
    assert_eq!(
        problem_media["schema"],
        json!({ "$ref": "#/components/schemas/Problem" })
    );
    assert!(components["responses"]["TooManyRequests"]["headers"]["Retry-After"].is_object());
    assert_eq!(components["securitySchemes"]["bearer"]["scheme"], "bearer");
    for schema in [
        "Conversation",
        "ChatList",
        "ChatListItem",
        "Message",
        "History",
        "ReadAck",
        "ReadRequest",
        "BlockRequest",
        "BlockResult",
        "MuteRequest",
        "MuteResult",
        "BlockEntry",
        "MuteEntry",
        "Problem",
        "ErrorCode",
    ] {
        assert!(components["schemas"][schema].is_object(), "schema {schema}");
    }
    let message: &Value = &components["schemas"]["Message"]["properties"];
    for field in [
        "messageId",
        "conversationId",
        "senderId",
        "senderName",
        "content",
        "timestamp",
        "serverSequence",
        "readBy",
    ] {
        assert!(message[field].is_object(), "Message.{field}");
    }
    let history_params: Vec<&str> =
        doc["paths"]["/conversations/{id}/messages"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
    assert_eq!(
        history_params,
        [
            "id",
            "limit",
            "offset",
            "beforeSequence",
            "afterSequence",
            "from",
            "to"
        ]
    );
}

#[tokio::test]
async fn the_asyncapi_document_describes_every_socket_event() {
    let app = app();
    let answer = app.call(Method::GET, "/asyncapi.json", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type(), "application/json");
    let doc = &answer.json;
    assert_eq!(doc, &chat_http::asyncapi());
    assert!(doc["asyncapi"].as_str().unwrap().starts_with("3."));
    let messages = doc["channels"]["namespace"]["messages"]
        .as_object()
        .unwrap();
    let names: Vec<&str> = messages
        .values()
        .filter_map(|m| m["name"].as_str())
        .collect();
    for event in [
        "message:send",
        "message:read",
        "typing:start",
        "auth",
        "connected",
        "reconnected",
        "message:received",
        "unread_count:updated",
        "error:rate_limit_exceeded",
    ] {
        assert!(names.contains(&event), "{event} missing from {names:?}");
    }
    assert_eq!(
        doc["operations"]["messageSend"]["action"], "receive",
        "client events are received by the server"
    );
    assert_eq!(doc["operations"]["messageReceived"]["action"], "send");
}
