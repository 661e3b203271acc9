//! The port contract suites, run against the in-process adapters.

use std::sync::Arc;

use chat_memory::{MemoryPresenceStore, MemoryRateLimiter, MemorySessionStore};
use chat_testkit::contract::{
    presence_store_contract, rate_limiter_contract, session_store_contract,
};

#[tokio::test]
async fn memory_session_store_keeps_the_session_store_contract() {
    session_store_contract(&MemorySessionStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_presence_store_keeps_the_presence_store_contract() {
    presence_store_contract(Arc::new(MemoryPresenceStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_single_shard_presence_store_keeps_the_contract_too() {
    presence_store_contract(Arc::new(MemoryPresenceStore::with_shards(1))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_rate_limiter_keeps_the_rate_limiter_contract() {
    rate_limiter_contract(Arc::new(MemoryRateLimiter::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_limiter_serves_many_suites_at_once() {
    let limiter = Arc::new(MemoryRateLimiter::with_shards(2));
    let runs: Vec<_> = (0..4)
        .map(|_| tokio::spawn(rate_limiter_contract(limiter.clone())))
        .collect();
    for run in runs {
        run.await.unwrap();
    }
}
