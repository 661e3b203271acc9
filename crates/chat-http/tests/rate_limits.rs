//! Contract sections 4 and 6, rate limits on the REST twins of socket events: once over the
//! quota, `POST /conversations/{id}/read`, `/block`, `/unblock`, `/mute` and `/unmute` answer
//! `429 rate_limit_exceeded` with a `Retry-After` header and `retryAfter` in the body; block and
//! unblock share one quota, mute and unmute another; quotas are per user.

mod common;

use axum::http::{StatusCode, header};
use chat_domain::{rate_limit::Quota, service::Policies};
use common::{ALICE, BOB, app_with, bob};
use serde_json::json;

#[tokio::test]
async fn read_block_and_mute_answer_429_with_retry_after_once_over_quota() {
    let mut policies = Policies::default();
    policies.rate.message_read = Quota::per_minute(1);
    policies.rate.block = Quota::per_minute(1);
    policies.rate.mute = Quota::per_minute(1);
    let app = app_with(policies);
    let id = app.alice_and_bob().await;
    let bob_body = json!({ "blockedUserId": bob().to_string() });
    let cases = [
        (
            format!("/conversations/{id}/read"),
            json!({ "lastReadSequence": 0 }),
        ),
        (format!("/conversations/{id}/block"), bob_body.clone()),
        (format!("/conversations/{id}/unblock"), bob_body),
        (format!("/conversations/{id}/mute"), json!({})),
        (format!("/conversations/{id}/unmute"), json!({})),
    ];
    for (n, (url, body)) in cases.iter().enumerate() {
        let first = app.post(url, ALICE, body.clone()).await;
        // block and unblock share one quota, as do mute and unmute.
        if n == 0 || n == 1 || n == 3 {
            assert_eq!(first.status, StatusCode::OK, "{url}: {}", first.text);
        }
        let limited = if first.status == StatusCode::OK {
            app.post(url, ALICE, body.clone()).await
        } else {
            first
        };
        let problem = limited.assert_problem(429, "rate_limit_exceeded");
        let retry_after = problem["retryAfter"].as_u64().unwrap();
        assert!((1..=60).contains(&retry_after), "{url}: {retry_after}");
        assert_eq!(
            limited.headers[header::RETRY_AFTER],
            retry_after.to_string().as_str()
        );
    }
    let other_user = app
        .post(
            &format!("/conversations/{id}/read"),
            BOB,
            json!({ "lastReadSequence": 0 }),
        )
        .await;
    assert_eq!(other_user.status, StatusCode::OK, "quotas are per user");
}
