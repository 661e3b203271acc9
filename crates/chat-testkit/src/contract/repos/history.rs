//! History pages: newest first skipped by offset, before and after a sequence, within
//! instants, always ascending, with `has_more` in the paging direction.

use chat_domain::{
    ConversationId, HistoryAnchor, HistoryQuery, ServerSequence, Timestamp, ports::HistoryPage,
};

use super::fixtures::{at, conversation, limit, name, send, user};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    let (ada, bob) = (user(), user());
    r.users
        .upsert_user(bob, Some(name("Bob")), at(0))
        .await
        .unwrap();
    let conv = conversation(r, ada, bob, at(0)).await.id;
    // Ten messages, 1 to 10, at 0.5 s steps (every other one on a whole second).
    for n in 1..=10 {
        send(r, conv, if n % 2 == 0 { ada } else { bob }, instant(n)).await;
    }
    let h = History { r, conv };
    the_newest_page_is_ascending_and_skips_by_offset(&h).await;
    paging_back_before_a_sequence(&h).await;
    catching_up_after_a_sequence(&h).await;
    from_and_to_bound_creation_times_inclusively(&h).await;
    history_pages_carry_sender_names(&h).await;
    an_empty_conversation_has_an_empty_history(r).await;
}

fn instant(n: i64) -> Timestamp {
    at(n * 500)
}

struct History<'a> {
    r: &'a Repositories,
    conv: ConversationId,
}

impl History<'_> {
    async fn page(&self, n: i64, anchor: HistoryAnchor) -> HistoryPage {
        self.within(n, anchor, None, None).await
    }

    async fn within(
        &self,
        n: i64,
        anchor: HistoryAnchor,
        from: Option<i64>,
        to: Option<i64>,
    ) -> HistoryPage {
        let query = HistoryQuery {
            limit: limit(n),
            anchor,
            from: from.map(instant),
            to: to.map(instant),
        };
        self.r
            .messages
            .list_history(self.conv, query)
            .await
            .unwrap()
    }
}

fn seqs(page: &HistoryPage) -> (Vec<u64>, bool) {
    (
        page.items.iter().map(|m| m.server_sequence.get()).collect(),
        page.has_more,
    )
}

fn newest(offset: u64) -> HistoryAnchor {
    HistoryAnchor::Newest { offset }
}

fn before(n: u64) -> HistoryAnchor {
    HistoryAnchor::Before(ServerSequence::new(n))
}

fn after(n: u64) -> HistoryAnchor {
    HistoryAnchor::After(ServerSequence::new(n))
}

async fn the_newest_page_is_ascending_and_skips_by_offset(h: &History<'_>) {
    let cases: [(i64, u64, &[u64], bool); 6] = [
        (3, 0, &[8, 9, 10], true),
        (3, 3, &[5, 6, 7], true),
        (3, 7, &[1, 2, 3], false),
        (3, 8, &[1, 2], false),
        (10, 0, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false),
        (5, 10, &[], false),
    ];
    for (n, offset, want, more) in cases {
        assert_eq!(
            seqs(&h.page(n, newest(offset)).await),
            (want.to_vec(), more),
            "limit {n} offset {offset}"
        );
    }
    assert!(!seqs(&h.page(11, newest(0)).await).1);
}

async fn paging_back_before_a_sequence(h: &History<'_>) {
    let cases: [(i64, u64, &[u64], bool); 5] = [
        (2, 4, &[2, 3], true),
        (2, 3, &[1, 2], false),
        (5, 3, &[1, 2], false),
        (2, 1, &[], false),
        (3, 99, &[8, 9, 10], true),
    ];
    for (n, b, want, more) in cases {
        assert_eq!(
            seqs(&h.page(n, before(b)).await),
            (want.to_vec(), more),
            "limit {n} before {b}"
        );
    }
}

async fn catching_up_after_a_sequence(h: &History<'_>) {
    let cases: [(i64, u64, &[u64], bool); 5] = [
        (2, 7, &[8, 9], true),
        (2, 8, &[9, 10], false),
        (2, 10, &[], false),
        (3, 0, &[1, 2, 3], true),
        (20, 0, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false),
    ];
    for (n, a, want, more) in cases {
        assert_eq!(
            seqs(&h.page(n, after(a)).await),
            (want.to_vec(), more),
            "limit {n} after {a}"
        );
    }
}

async fn from_and_to_bound_creation_times_inclusively(h: &History<'_>) {
    // (limit, anchor, from, to, expected sequences, has_more)
    type Case<'a> = (
        i64,
        HistoryAnchor,
        Option<i64>,
        Option<i64>,
        &'a [u64],
        bool,
    );
    let cases: [Case; 6] = [
        (10, newest(0), Some(3), Some(6), &[3, 4, 5, 6], false),
        (2, newest(0), Some(3), Some(6), &[5, 6], true),
        (2, newest(2), Some(3), Some(6), &[3, 4], false),
        (10, newest(0), Some(9), None, &[9, 10], false),
        (2, before(9), None, Some(6), &[5, 6], true),
        (2, after(2), Some(4), Some(5), &[4, 5], false),
    ];
    for (n, anchor, from, to, want, more) in cases {
        let got = seqs(&h.within(n, anchor, from, to).await);
        assert_eq!(
            got,
            (want.to_vec(), more),
            "limit {n} {anchor:?} from {from:?} to {to:?}"
        );
    }
}

async fn history_pages_carry_sender_names(h: &History<'_>) {
    let page = h.page(2, newest(0)).await;
    let names: Vec<_> = page.items.iter().map(|m| m.sender_name.clone()).collect();
    assert_eq!(
        names,
        vec![Some(name("Bob")), None],
        "9 by Bob, 10 by unnamed Ada"
    );
    let found = h.r.messages.find_message(page.items[0].id).await.unwrap();
    assert_eq!(found.as_ref(), page.items.first());
}

async fn an_empty_conversation_has_an_empty_history(r: &Repositories) {
    let conv = conversation(r, user(), user(), at(0)).await.id;
    let h = History { r, conv };
    for anchor in [newest(0), before(5), after(0)] {
        assert_eq!(
            seqs(&h.page(5, anchor).await),
            (vec![], false),
            "{anchor:?}"
        );
    }
}
