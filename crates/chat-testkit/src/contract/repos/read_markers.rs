//! Read markers and unread counts: forward only, clamped, derived.

use std::collections::BTreeMap;

use chat_domain::{
    RepoError, ServerSequence,
    read_marker::{MarkerMove, ReadMarker},
};

use super::fixtures::{at, conversation, conversation_id, send, user};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    a_marker_advances_to_the_proposed_sequence(r).await;
    a_marker_is_clamped_to_the_newest_sequence(r).await;
    a_marker_never_moves_back(r).await;
    a_marker_in_an_empty_conversation_stays_at_zero(r).await;
    only_participants_have_markers(r).await;
    concurrent_advances_keep_the_furthest(r).await;
    each_advance_comes_with_the_count_after_its_marker(r).await;
    concurrent_advances_each_pair_their_marker_with_its_count(r).await;
    unread_counts_only_others_messages_after_the_marker(r).await;
    unread_counts_cover_every_conversation_of_the_user(r).await;
}

fn seq(n: u64) -> ServerSequence {
    ServerSequence::new(n)
}

async fn a_marker_advances_to_the_proposed_sequence(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    for i in 1..=3 {
        send(r, conv.id, bob, at(i)).await;
    }
    let moved = r
        .conversations
        .advance_read_marker(conv.id, ada, seq(2), at(50))
        .await
        .unwrap();
    assert_eq!(
        moved.moved,
        MarkerMove::Advanced(ReadMarker {
            sequence: seq(2),
            read_at: Some(at(50))
        })
    );
    assert_eq!(moved.unread_count, 1, "message 3 is left");
    let stored = r
        .conversations
        .find_conversation(conv.id)
        .await
        .unwrap()
        .unwrap();
    let p = stored.participant(ada).unwrap();
    assert_eq!(
        (p.last_read_sequence, p.last_read_at),
        (seq(2), Some(at(50)))
    );
    assert_eq!(
        stored.participant(bob).unwrap().last_read_sequence,
        ServerSequence::ZERO,
        "per user"
    );
}

async fn a_marker_is_clamped_to_the_newest_sequence(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    for i in 1..=3 {
        send(r, conv.id, bob, at(i)).await;
    }
    let moved = r
        .conversations
        .advance_read_marker(conv.id, ada, seq(10), at(60))
        .await
        .unwrap();
    assert_eq!(
        moved.moved,
        MarkerMove::Advanced(ReadMarker {
            sequence: seq(3),
            read_at: Some(at(60))
        })
    );
    let again = r
        .conversations
        .advance_read_marker(conv.id, ada, seq(10), at(70))
        .await
        .unwrap();
    assert_eq!(
        again.moved,
        MarkerMove::Unchanged(ReadMarker {
            sequence: seq(3),
            read_at: Some(at(60))
        }),
        "already at the newest: nothing moves, not even the time"
    );
    send(r, conv.id, bob, at(4)).await;
    let later = r
        .conversations
        .advance_read_marker(conv.id, ada, seq(u64::MAX), at(80))
        .await
        .unwrap();
    assert_eq!(
        later.moved,
        MarkerMove::Advanced(ReadMarker {
            sequence: seq(4),
            read_at: Some(at(80))
        })
    );
}

async fn a_marker_never_moves_back(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    for i in 1..=5 {
        send(r, conv.id, bob, at(i)).await;
    }
    r.conversations
        .advance_read_marker(conv.id, ada, seq(4), at(10))
        .await
        .unwrap();
    let kept = ReadMarker {
        sequence: seq(4),
        read_at: Some(at(10)),
    };
    for older in [0, 1, 3, 4] {
        let moved = r
            .conversations
            .advance_read_marker(conv.id, ada, seq(older), at(20))
            .await
            .unwrap();
        assert_eq!(moved.moved, MarkerMove::Unchanged(kept), "proposal {older}");
        assert_eq!(
            moved.unread_count, 1,
            "proposal {older}: the count after the kept marker"
        );
    }
    let stored = r
        .conversations
        .find_conversation(conv.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.participant(ada).unwrap().last_read_sequence, seq(4));
    assert_eq!(r.conversations.unread_count(conv.id, ada).await.unwrap(), 1);
}

async fn a_marker_in_an_empty_conversation_stays_at_zero(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    let moved = r
        .conversations
        .advance_read_marker(conv.id, ada, seq(5), at(1))
        .await
        .unwrap();
    assert_eq!(
        moved.moved,
        MarkerMove::Unchanged(ReadMarker {
            sequence: ServerSequence::ZERO,
            read_at: None
        })
    );
    assert_eq!(moved.unread_count, 0);
}

async fn only_participants_have_markers(r: &Repositories) {
    let (ada, bob, stranger) = (user(), user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    send(r, conv.id, bob, at(1)).await;
    let err = r
        .conversations
        .advance_read_marker(conv.id, stranger, seq(1), at(2))
        .await;
    assert!(
        matches!(err, Err(RepoError::NotFound)),
        "a stranger: {err:?}"
    );
    let err = r
        .conversations
        .advance_read_marker(conversation_id(), ada, seq(1), at(2))
        .await;
    assert!(
        matches!(err, Err(RepoError::NotFound)),
        "an unknown conversation: {err:?}"
    );
}

async fn concurrent_advances_keep_the_furthest(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    for i in 1..=20 {
        send(r, conv.id, bob, at(i)).await;
    }
    let tasks: Vec<_> = (1..=20)
        .rev()
        .map(|n| {
            let repo = r.conversations.clone();
            tokio::spawn(async move {
                repo.advance_read_marker(conv.id, ada, seq(n), at(100))
                    .await
            })
        })
        .collect();
    for t in tasks {
        let moved = t.await.unwrap().unwrap();
        assert!(moved.marker().sequence <= seq(20));
    }
    let stored = r
        .conversations
        .find_conversation(conv.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.participant(ada).unwrap().last_read_sequence, seq(20));
    assert_eq!(r.conversations.unread_count(conv.id, ada).await.unwrap(), 0);
}

async fn each_advance_comes_with_the_count_after_its_marker(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    // 1 bob, 2 ada, 3 bob, 4 bob, 5 ada, 6 bob
    for (i, sender) in [bob, ada, bob, bob, ada, bob].into_iter().enumerate() {
        send(r, conv.id, sender, at(i64::try_from(i).unwrap())).await;
    }
    // (proposal, marker after, count after it): moved, kept (older), moved, clamped.
    let cases = [(2, 2, 3), (1, 2, 3), (4, 4, 1), (9, 6, 0)];
    for (proposal, marker, count) in cases {
        let got = r
            .conversations
            .advance_read_marker(conv.id, ada, seq(proposal), at(10))
            .await
            .unwrap();
        assert_eq!(
            (got.marker().sequence, got.unread_count),
            (seq(marker), count),
            "proposal {proposal}"
        );
    }
}

/// Reads from several devices at once: each answer's count is the count after its own marker,
/// never after the marker another read moved to meanwhile (contract 4.2).
async fn concurrent_advances_each_pair_their_marker_with_its_count(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    for i in 1..=16 {
        send(r, conv.id, bob, at(i)).await;
    }
    let tasks: Vec<_> = [7, 2, 16, 5, 11, 1, 9, 14, 3, 12, 6, 15, 4, 10, 8, 13]
        .into_iter()
        .map(|n| {
            let repo = r.conversations.clone();
            tokio::spawn(async move {
                repo.advance_read_marker(conv.id, ada, seq(n), at(100))
                    .await
            })
        })
        .collect();
    for t in tasks {
        let got = t.await.unwrap().unwrap();
        let marker = got.marker().sequence.get();
        assert_eq!(
            got.unread_count,
            16 - marker,
            "marker {marker} paired with another read's count"
        );
    }
    assert_eq!(r.conversations.unread_count(conv.id, ada).await.unwrap(), 0);
}

async fn unread_counts_only_others_messages_after_the_marker(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(0)).await;
    // 1 bob, 2 ada, 3 bob, 4 bob, 5 ada
    for (i, sender) in [bob, ada, bob, bob, ada].into_iter().enumerate() {
        send(r, conv.id, sender, at(i64::try_from(i).unwrap())).await;
    }
    let unread = |u| r.conversations.unread_count(conv.id, u);
    assert_eq!(unread(ada).await.unwrap(), 3);
    assert_eq!(unread(bob).await.unwrap(), 2);
    let cases = [(1, 2), (2, 2), (3, 1), (5, 0)];
    for (marker, want) in cases {
        r.conversations
            .advance_read_marker(conv.id, ada, seq(marker), at(10))
            .await
            .unwrap();
        assert_eq!(unread(ada).await.unwrap(), want, "marker {marker}");
    }
    assert_eq!(
        unread(bob).await.unwrap(),
        2,
        "one reader's marker leaves the other's count"
    );
}

async fn unread_counts_cover_every_conversation_of_the_user(r: &Repositories) {
    let (ada, bob, cy) = (user(), user(), user());
    let with_bob = conversation(r, ada, bob, at(0)).await;
    let with_cy = conversation(r, ada, cy, at(0)).await;
    let without_ada = conversation(r, bob, cy, at(0)).await;
    send(r, with_bob.id, bob, at(1)).await;
    send(r, with_bob.id, bob, at(2)).await;
    send(r, without_ada.id, bob, at(3)).await;

    let counts: BTreeMap<_, _> = r
        .conversations
        .unread_counts(ada)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([(with_bob.id, 2), (with_cy.id, 0)]),
        "zeros included, others' excluded"
    );
    assert!(
        r.conversations
            .unread_counts(user())
            .await
            .unwrap()
            .is_empty()
    );
}
