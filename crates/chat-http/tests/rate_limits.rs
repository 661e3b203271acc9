//! Contract sections 4 and 6, rate limits on the REST twins of socket events: once over the
//! quota, `POST /conversations/{id}/read`, `/block` and `/mute` answer `429 rate_limit_exceeded`
//! with a `Retry-After` header and `retryAfter` in the body; `/unblock` and `/unmute` are never
//! counted nor refused for rate (4.3); quotas are per user.

mod common;

use axum::http::{StatusCode, header};
use chat_domain::{rate_limit::Quota, service::Policies};
use common::{ALICE, BOB, app_with, bob};
use serde_json::json;

#[tokio::test]
async fn read_block_and_mute_answer_429_with_retry_after_once_over_quota_unblock_and_unmute_never()
{
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
        (format!("/conversations/{id}/mute"), json!({})),
    ];
    for (url, body) in &cases {
        let first = app.post(url, ALICE, body.clone()).await;
        assert_eq!(first.status, StatusCode::OK, "{url}: {}", first.text);
        let limited = app.post(url, ALICE, body.clone()).await;
        let problem = limited.assert_problem(429, "rate_limit_exceeded");
        let retry_after = problem["retryAfter"].as_u64().unwrap();
        assert!((1..=60).contains(&retry_after), "{url}: {retry_after}");
        assert_eq!(
            limited.headers[header::RETRY_AFTER],
            retry_after.to_string().as_str()
        );
    }
    // Over the block and mute quotas, lifting them is still answered, again and again.
    for url in [
        format!("/conversations/{id}/unblock"),
        format!("/conversations/{id}/unmute"),
    ] {
        for _ in 0..3 {
            let lifted = app.post(&url, ALICE, bob_body.clone()).await;
            assert_eq!(lifted.status, StatusCode::OK, "{url}: {}", lifted.text);
        }
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
