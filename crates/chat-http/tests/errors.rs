//! Contract sections 2, 4 (codes) and 6 (problems), across every route:
//! - `401 unauthorized` for a missing, non-bearer, unknown or expired token on every
//!   authenticated route.
//! - `400 validation` for malformed JSON, a wrong or missing content type, a body of the wrong
//!   shape, and a non-UUID path id on every conversation route.
//! - `403 not_participant` on every conversation route, for another's conversation and for an
//!   unknown id alike.
//! - `503 unavailable` when storage is down; `413` over the body limit; `404`/`405` problems.
//! - Every error body is `application/problem+json` `{type, title, status, detail, code}`, with
//!   no internal cause in it.

mod common;

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use std::{collections::BTreeMap, sync::Arc};

use chat_domain::{
    RepoError, SocketId, Timestamp, UserId,
    ports::{PresenceStore, RateLimiter},
    presence::{PresenceChange, PresenceStatus},
    rate_limit::{Quota, RateDecision, RateLimitKey},
    service::Policies,
};
use common::{ALICE, BODY_LIMIT, CAROL, EXPIRED, app, app_with_ports, bob};
use serde_json::{Value, json};

/// Every authenticated route, with a body it accepts.
fn authenticated_routes(conversation: &str) -> Vec<(Method, String, Option<Value>)> {
    let bob_body = json!({ "blockedUserId": bob().to_string() });
    let mut routes = vec![
        (
            Method::POST,
            "/conversations/create/one-to-one".to_owned(),
            Some(json!({ "participantId": bob().to_string() })),
        ),
        (Method::GET, "/conversations/chat-list".to_owned(), None),
        (Method::GET, "/users/me/blocks".to_owned(), None),
        (Method::GET, "/users/me/mutes".to_owned(), None),
    ];
    routes.extend(conversation_routes(conversation, &bob_body));
    routes
}

/// Every `/conversations/{id}/…` route, with a body it accepts.
fn conversation_routes(id: &str, bob_body: &Value) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, format!("/conversations/{id}/messages"), None),
        (
            Method::POST,
            format!("/conversations/{id}/read"),
            Some(json!({ "lastReadSequence": 1 })),
        ),
        (
            Method::POST,
            format!("/conversations/{id}/block"),
            Some(bob_body.clone()),
        ),
        (
            Method::POST,
            format!("/conversations/{id}/unblock"),
            Some(bob_body.clone()),
        ),
        (
            Method::POST,
            format!("/conversations/{id}/mute"),
            Some(json!({})),
        ),
        (Method::POST, format!("/conversations/{id}/unmute"), None),
    ]
}

#[tokio::test]
async fn every_authenticated_route_refuses_a_missing_or_bad_token_with_401() {
    let app = app();
    let id = app.alice_and_bob().await.to_string();
    for (method, uri, body) in authenticated_routes(&id) {
        for token in [None, Some("not-a-known-token"), Some(EXPIRED)] {
            let answer = app.call(method.clone(), &uri, token, body.clone()).await;
            answer.assert_problem(401, "unauthorized");
        }
        let basic = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header(header::AUTHORIZATION, "Basic YWxpY2U6cHc=")
            .body(Body::empty())
            .unwrap();
        app.send(basic).await.assert_problem(401, "unauthorized");
    }
}

#[tokio::test]
async fn every_conversation_route_answers_403_to_a_non_participant_and_for_unknown_ids() {
    let app = app();
    let id = app.alice_and_bob().await.to_string();
    let unknown = uuid::Uuid::from_u128(0xdead).to_string();
    let bob_body = json!({ "blockedUserId": bob().to_string() });
    for conversation in [id.as_str(), unknown.as_str()] {
        for (method, uri, body) in conversation_routes(conversation, &bob_body) {
            let answer = app.call(method, &uri, Some(CAROL), body).await;
            answer.assert_problem(403, "not_participant");
        }
    }
}

#[tokio::test]
async fn every_conversation_route_refuses_a_non_uuid_id_with_400() {
    let app = app();
    let bob_body = json!({ "blockedUserId": bob().to_string() });
    for (method, uri, body) in conversation_routes("not-a-uuid", &bob_body) {
        let answer = app.call(method, &uri, Some(ALICE), body).await;
        answer.assert_problem(400, "validation");
    }
}

#[tokio::test]
async fn malformed_bodies_and_wrong_content_types_are_validation_problems() {
    let app = app();
    let id = app.alice_and_bob().await;
    let uris = [
        "/conversations/create/one-to-one".to_owned(),
        format!("/conversations/{id}/read"),
        format!("/conversations/{id}/block"),
        format!("/conversations/{id}/unblock"),
        format!("/conversations/{id}/mute"),
    ];
    for uri in &uris {
        for (content_type, body) in [
            (Some("application/json"), "{\"participantId\": "),
            (Some("application/json"), "not json"),
            (Some("text/plain"), "{}"),
            (None, "{\"blockedUserId\": \"x\"}"),
        ] {
            let mut request = Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Bearer {ALICE}"));
            if let Some(ct) = content_type {
                request = request.header(header::CONTENT_TYPE, ct);
            }
            let answer = app.send(request.body(Body::from(body)).unwrap()).await;
            answer.assert_problem(400, "validation");
        }
    }
    let empty_body = app.call(Method::POST, &uris[0], Some(ALICE), None).await;
    empty_body.assert_problem(400, "validation");
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let app = app();
    let id = app.alice_and_bob().await;
    let padding = "x".repeat(BODY_LIMIT + 1);
    let body = json!({ "lastReadSequence": 1, "padding": padding });
    let declared = app
        .post(&format!("/conversations/{id}/read"), ALICE, body.clone())
        .await;
    declared.assert_problem(413, "validation");

    let streamed = Request::builder()
        .method(Method::POST)
        .uri(format!("/conversations/{id}/read"))
        .header(header::AUTHORIZATION, format!("Bearer {ALICE}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(chunked(body.to_string()))
        .unwrap();
    app.send(streamed).await.assert_problem(413, "validation");
}

/// A body without a `Content-Length`, in two chunks.
fn chunked(text: String) -> Body {
    let half = text.len() / 2;
    let chunks = [text[..half].to_owned(), text[half..].to_owned()];
    Body::from_stream(futures::stream::iter(
        chunks.map(Ok::<_, std::convert::Infallible>),
    ))
}

#[tokio::test]
async fn storage_outages_are_503_unavailable_without_internal_detail() {
    let app = app();
    let id = app.alice_and_bob().await.to_string();
    app.db.set_unavailable(true);
    for (method, uri, body) in authenticated_routes(&id) {
        let answer = app.call(method, &uri, Some(ALICE), body).await;
        let problem = answer.assert_problem(503, "unavailable");
        assert!(
            !problem["detail"].as_str().unwrap().contains("fake"),
            "{}",
            answer.text
        );
    }
    app.db.set_unavailable(false);
    assert_eq!(
        app.get("/users/me/blocks", ALICE).await.status.as_u16(),
        200
    );
}

/// A port that is down: every call fails with `RepoError::Unavailable`.
#[derive(Debug)]
struct DownAdapter;

fn outage() -> RepoError {
    RepoError::unavailable(std::io::Error::other("connection refused by 10.0.0.7"))
}

#[async_trait::async_trait]
impl RateLimiter for DownAdapter {
    async fn check(
        &self,
        _: RateLimitKey,
        _: Quota,
        _: Timestamp,
    ) -> Result<RateDecision, RepoError> {
        Err(outage())
    }
}

#[async_trait::async_trait]
impl PresenceStore for DownAdapter {
    async fn set_connection_status(
        &self,
        _: UserId,
        _: SocketId,
        _: PresenceStatus,
        _: Timestamp,
    ) -> Result<PresenceChange, RepoError> {
        Err(outage())
    }
    async fn remove_connection(
        &self,
        _: UserId,
        _: SocketId,
        _: Timestamp,
    ) -> Result<PresenceChange, RepoError> {
        Err(outage())
    }
    async fn fetch_presence(
        &self,
        _: Vec<UserId>,
    ) -> Result<BTreeMap<UserId, PresenceStatus>, RepoError> {
        Err(outage())
    }
}

#[tokio::test]
async fn an_adapter_outage_after_authentication_is_503_unavailable() {
    let app = app_with_ports(Policies::default(), |ports| {
        ports.rate_limiter = Arc::new(DownAdapter);
        ports.presence = Arc::new(DownAdapter);
    });
    let id = app.alice_and_bob().await.to_string();
    let bob_body = json!({ "blockedUserId": bob().to_string() });
    // Unblock and unmute use neither adapter (never rate limited): they still answer.
    let mut routes: Vec<_> = conversation_routes(&id, &bob_body)
        .into_iter()
        .filter(|(method, uri, _)| {
            method == Method::POST && !uri.ends_with("/unblock") && !uri.ends_with("/unmute")
        })
        .collect();
    routes.push((Method::GET, "/conversations/chat-list".to_owned(), None));
    for (method, uri, body) in routes {
        let answer = app.call(method, &uri, Some(ALICE), body).await;
        let problem = answer.assert_problem(503, "unavailable");
        assert!(!answer.text.contains("10.0.0.7"), "{problem}");
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems_too() {
    let app = app();
    app.get("/nope", ALICE)
        .await
        .assert_problem(404, "not_found");
    let wrong_method = app
        .call(
            Method::DELETE,
            "/conversations/chat-list",
            Some(ALICE),
            None,
        )
        .await;
    wrong_method.assert_problem(405, "validation");
}

#[tokio::test]
async fn problems_carry_type_title_status_detail_and_code() {
    let app = app();
    let answer = app
        .call(Method::GET, "/conversations/chat-list", None, None)
        .await;
    let problem = answer.assert_problem(401, "unauthorized");
    assert_eq!(problem["type"], "/problems/unauthorized");
    assert_eq!(problem["title"], "Unauthorized");
    assert!(problem.get("retryAfter").is_none());
}
