//! Groups, membership windows and the change log ([`GroupRepository`]): creation and its
//! request-id replay, conditional applies numbered gap-free (under concurrency too), windows
//! that close and reopen, the member list's order, and the changes a member may see.
//!
//! [`GroupRepository`]: chat_domain::ports::GroupRepository

use std::collections::BTreeSet;

use chat_domain::{
    ConversationId, ServerSequence, Timestamp, UserId,
    change::{Change, ChangeBody, ChangeSequence, GroupEvent},
    conversation::{Conversation, ConversationKind, Created},
    group::{GroupTitle, Role},
    membership::Window,
    ports::{GroupApplied, GroupState, NewGroup},
};
use uuid::Uuid;

use super::fixtures::{at, conversation, conversation_id, limit, send, user};
use crate::contract::Repositories;

pub(super) async fn run(r: &Repositories) {
    creating_a_group_is_its_change_one(r).await;
    a_request_id_replays_the_first_group(r).await;
    a_one_to_one_is_created_as_change_one_too(r).await;
    applied_events_take_the_next_change_sequences(r).await;
    a_stale_version_stores_nothing(r).await;
    windows_close_and_reopen_and_hide_the_gap(r).await;
    members_are_listed_owner_first_then_by_joining(r).await;
    a_group_its_last_member_left_keeps_its_log(r).await;
    concurrent_applies_are_numbered_gap_free(r).await;
}

fn ch(n: u64) -> ChangeSequence {
    ChangeSequence::new(n)
}

fn title(raw: &str) -> GroupTitle {
    GroupTitle::new(raw).unwrap()
}

/// A new group of `owner` (created at `now`) with `members`.
pub(super) async fn group(
    r: &Repositories,
    owner: UserId,
    members: &[UserId],
    now: Timestamp,
) -> Conversation {
    let (conv, created) = r
        .groups
        .insert_group(NewGroup {
            id: conversation_id(),
            creator: owner,
            title: title("Trip"),
            members: members.to_vec(),
            request_id: None,
            now,
        })
        .await
        .unwrap();
    assert_eq!(created, Created::New);
    conv
}

async fn state(r: &Repositories, id: ConversationId) -> GroupState {
    r.groups.fetch_group_state(id).await.unwrap().unwrap()
}

/// Applies `events` at the current version; the changes.
async fn apply(
    r: &Repositories,
    id: ConversationId,
    events: Vec<GroupEvent>,
    now: Timestamp,
) -> Vec<Change> {
    let version = state(r, id).await.version;
    match r
        .groups
        .apply_group_events(id, version, events, now)
        .await
        .unwrap()
    {
        GroupApplied::Done(changes) => changes,
        GroupApplied::StaleContext => panic!("nothing moved the version"),
    }
}

fn sequences(changes: &[Change]) -> Vec<u64> {
    changes.iter().map(|c| c.sequence.get()).collect()
}

/// The changes `user` sees after `after`, all of them (pages of 2).
async fn visible(r: &Repositories, id: ConversationId, user: UserId) -> Vec<u64> {
    let mut seen = Vec::new();
    let mut after = ChangeSequence::ZERO;
    loop {
        let page = r
            .groups
            .list_changes(id, user, after, limit(2))
            .await
            .unwrap();
        seen.extend(sequences(&page.items));
        match page.items.last() {
            Some(last) if page.has_more => after = last.sequence,
            _ => return seen,
        }
    }
}

fn role_of(conv: &Conversation, user: UserId) -> Option<Role> {
    conv.participant(user)
        .filter(|p| p.is_active())
        .map(|p| p.role)
}

async fn creating_a_group_is_its_change_one(r: &Repositories) {
    let (owner, ann, ben) = (user(), user(), user());
    // The creator and repeats are left out by the caller; the store gets the others.
    let conv = group(r, owner, &[ann, ben], at(1)).await;
    assert_eq!(conv.kind, ConversationKind::Group);
    assert_eq!(conv.title, Some(title("Trip")));
    assert_eq!(conv.created_at, at(1));
    assert_eq!(role_of(&conv, owner), Some(Role::Owner));
    assert_eq!(role_of(&conv, ann), Some(Role::Member));
    assert_eq!(role_of(&conv, ben), Some(Role::Member));
    assert_eq!(conv.participants.len(), 3);
    assert!(conv.participants.iter().all(|p| p.joined_at == at(1)));

    let s = state(r, conv.id).await;
    assert_eq!(s.last_change, ch(1));
    assert_eq!(s.conversation, conv);
    for member in [owner, ann, ben] {
        let windows = r.groups.fetch_windows(conv.id, member).await.unwrap();
        assert_eq!(windows.all(), &[Window::open(ServerSequence::ZERO, ch(1))]);
    }
    assert!(
        r.groups
            .fetch_windows(conv.id, user())
            .await
            .unwrap()
            .all()
            .is_empty()
    );
    let page = r
        .groups
        .list_changes(conv.id, ann, ChangeSequence::ZERO, limit(10))
        .await
        .unwrap();
    assert_eq!(page.last_change, ch(1));
    assert!(!page.has_more);
    assert_eq!(
        page.items,
        vec![Change {
            conversation_id: conv.id,
            sequence: ch(1),
            at: at(1),
            body: ChangeBody::Group(GroupEvent::Created {
                kind: ConversationKind::Group,
                title: Some(title("Trip")),
                created_by: Some(owner),
                member_ids: vec![owner, ann, ben],
            }),
        }]
    );
    // Someone who never was a member sees nothing.
    let stranger = r
        .groups
        .list_changes(conv.id, user(), ChangeSequence::ZERO, limit(10))
        .await
        .unwrap();
    assert!(stranger.items.is_empty());
    assert_eq!(stranger.last_change, ChangeSequence::ZERO);
    assert!(
        r.groups
            .fetch_group_state(conversation_id())
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_request_id_replays_the_first_group(r: &Repositories) {
    let (owner, other, ann) = (user(), user(), user());
    let request = Uuid::new_v4();
    let new = |creator, id| NewGroup {
        id,
        creator,
        title: title("Once"),
        members: vec![ann],
        request_id: Some(request),
        now: at(2),
    };
    assert_eq!(
        r.groups
            .find_group_by_request(owner, request)
            .await
            .unwrap(),
        None
    );
    let (first, created) = r
        .groups
        .insert_group(new(owner, conversation_id()))
        .await
        .unwrap();
    assert_eq!(created, Created::New);
    let (again, created) = r
        .groups
        .insert_group(new(owner, conversation_id()))
        .await
        .unwrap();
    assert_eq!(created, Created::Existing);
    assert_eq!(again, first);
    assert_eq!(
        r.groups
            .find_group_by_request(owner, request)
            .await
            .unwrap(),
        Some(first.clone())
    );
    // The key is the creator's: another creator's same key is another group.
    let (theirs, created) = r
        .groups
        .insert_group(new(other, conversation_id()))
        .await
        .unwrap();
    assert_eq!(created, Created::New);
    assert_ne!(theirs.id, first.id);
    // The replay wrote nothing: still change 1 only.
    assert_eq!(state(r, first.id).await.last_change, ch(1));
    // Concurrent replays of a new key: one group.
    let fresh = Uuid::new_v4();
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            let group = NewGroup {
                request_id: Some(fresh),
                ..new(owner, conversation_id())
            };
            tokio::spawn(async move { r.groups.insert_group(group).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in racers {
        outcomes.push(t.await.unwrap());
    }
    assert_eq!(
        outcomes.iter().filter(|(_, c)| *c == Created::New).count(),
        1,
        "one of the racing creations makes the group"
    );
    assert!(outcomes.iter().all(|(g, _)| g.id == outcomes[0].0.id));
    // Without a key, every call is a new group.
    let a = group(r, owner, &[ann], at(3)).await;
    let b = group(r, owner, &[ann], at(3)).await;
    assert_ne!(a.id, b.id);
}

async fn a_one_to_one_is_created_as_change_one_too(r: &Repositories) {
    let (ada, bob) = (user(), user());
    let conv = conversation(r, ada, bob, at(4)).await;
    let s = state(r, conv.id).await;
    assert_eq!(s.last_change, ch(1));
    assert!(
        s.conversation
            .participants
            .iter()
            .all(|p| p.role == Role::Member)
    );
    assert_eq!(s.conversation.title, None);
    let page = r
        .groups
        .list_changes(conv.id, bob, ChangeSequence::ZERO, limit(10))
        .await
        .unwrap();
    let pair = chat_domain::OneToOnePair::new(ada, bob).unwrap();
    assert_eq!(sequences(&page.items), vec![1]);
    assert_eq!(
        page.items[0].body,
        ChangeBody::Group(GroupEvent::Created {
            kind: ConversationKind::OneToOne,
            title: None,
            created_by: None,
            member_ids: pair.users().to_vec(),
        })
    );
    assert!(
        r.groups
            .fetch_windows(conv.id, ada)
            .await
            .unwrap()
            .is_member()
    );
}

async fn applied_events_take_the_next_change_sequences(r: &Repositories) {
    let (owner, ann, ben, cy) = (user(), user(), user(), user());
    let conv = group(r, owner, &[ann], at(0)).await;
    let before = state(r, conv.id).await.version;

    let added = apply(
        r,
        conv.id,
        vec![GroupEvent::MembersAdded {
            user_ids: vec![ben, cy],
            by: owner,
        }],
        at(10),
    )
    .await;
    assert_eq!(sequences(&added), vec![2]);
    assert_eq!(added[0].at, at(10));
    let s = state(r, conv.id).await;
    assert!(s.version > before, "the version moves");
    assert_eq!(s.last_change, ch(2));
    for u in [ben, cy] {
        let p = s.conversation.participant(u).unwrap();
        assert_eq!(
            (p.role, p.joined_at, p.left_at),
            (Role::Member, at(10), None)
        );
        let windows = r.groups.fetch_windows(conv.id, u).await.unwrap();
        assert_eq!(windows.all(), &[Window::open(ServerSequence::ZERO, ch(2))]);
    }

    let renamed = apply(
        r,
        conv.id,
        vec![GroupEvent::Renamed {
            title: title("Trip 2"),
            by: ann,
        }],
        at(11),
    )
    .await;
    assert_eq!(sequences(&renamed), vec![3]);
    let promoted = apply(
        r,
        conv.id,
        vec![GroupEvent::RoleChanged {
            user_id: ann,
            role: Role::Admin,
            by: owner,
        }],
        at(12),
    )
    .await;
    assert_eq!(sequences(&promoted), vec![4]);
    let removed = apply(
        r,
        conv.id,
        vec![GroupEvent::MemberRemoved {
            user_id: cy,
            by: ann,
        }],
        at(13),
    )
    .await;
    assert_eq!(sequences(&removed), vec![5]);
    // The owner leaves and hands over in one commit: two changes.
    let left = apply(
        r,
        conv.id,
        vec![
            GroupEvent::MemberRemoved {
                user_id: owner,
                by: owner,
            },
            GroupEvent::RoleChanged {
                user_id: ann,
                role: Role::Owner,
                by: owner,
            },
        ],
        at(14),
    )
    .await;
    assert_eq!(sequences(&left), vec![6, 7]);
    assert_eq!(
        left[1].body,
        ChangeBody::Group(GroupEvent::RoleChanged {
            user_id: ann,
            role: Role::Owner,
            by: owner
        })
    );

    let s = state(r, conv.id).await;
    assert_eq!(s.last_change, ch(7));
    assert_eq!(s.conversation.title, Some(title("Trip 2")));
    assert_eq!(role_of(&s.conversation, ann), Some(Role::Owner));
    assert_eq!(role_of(&s.conversation, owner), None);
    assert_eq!(
        s.conversation.participant(owner).unwrap().left_at,
        Some(at(14))
    );
    assert_eq!(
        s.conversation.participant(cy).unwrap().left_at,
        Some(at(13))
    );
    assert_eq!(
        s.conversation.participants.len(),
        4,
        "everyone who ever joined"
    );

    // ann was there throughout; ben from 2; cy from 2 to 5; the owner from 1 to 6.
    assert_eq!(visible(r, conv.id, ann).await, vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(visible(r, conv.id, ben).await, vec![2, 3, 4, 5, 6, 7]);
    assert_eq!(visible(r, conv.id, cy).await, vec![2, 3, 4, 5]);
    assert_eq!(visible(r, conv.id, owner).await, vec![1, 2, 3, 4, 5, 6]);
    let all = r
        .groups
        .list_changes(conv.id, ann, ChangeSequence::ZERO, limit(100))
        .await
        .unwrap();
    let mut want = vec![conv_created(r, conv.id, ann).await];
    for c in [added, renamed, promoted, removed, left] {
        want.extend(c);
    }
    assert_eq!(all.items, want, "the log returns what the applies answered");
    let cy_page = r
        .groups
        .list_changes(conv.id, cy, ch(3), limit(100))
        .await
        .unwrap();
    assert_eq!(sequences(&cy_page.items), vec![4, 5]);
    assert_eq!(
        cy_page.last_change,
        ch(5),
        "a former member's head is their removal"
    );
}

async fn conv_created(r: &Repositories, id: ConversationId, member: UserId) -> Change {
    r.groups
        .list_changes(id, member, ChangeSequence::ZERO, limit(1))
        .await
        .unwrap()
        .items
        .remove(0)
}

async fn a_stale_version_stores_nothing(r: &Repositories) {
    let (owner, ann, ben) = (user(), user(), user());
    let conv = group(r, owner, &[ann], at(0)).await;
    let old = state(r, conv.id).await;
    apply(
        r,
        conv.id,
        vec![GroupEvent::Renamed {
            title: title("New"),
            by: owner,
        }],
        at(1),
    )
    .await;
    let stale = r
        .groups
        .apply_group_events(
            conv.id,
            old.version,
            vec![GroupEvent::MembersAdded {
                user_ids: vec![ben],
                by: owner,
            }],
            at(2),
        )
        .await
        .unwrap();
    assert_eq!(stale, GroupApplied::StaleContext);
    let s = state(r, conv.id).await;
    assert_eq!(s.last_change, ch(2), "no change taken");
    assert!(s.conversation.participant(ben).is_none());
    assert!(
        r.groups
            .fetch_windows(conv.id, ben)
            .await
            .unwrap()
            .all()
            .is_empty()
    );
    assert_eq!(visible(r, conv.id, owner).await, vec![1, 2]);
    // An unknown conversation stores nothing either.
    let unknown = r
        .groups
        .apply_group_events(
            conversation_id(),
            old.version,
            vec![GroupEvent::Renamed {
                title: title("X"),
                by: owner,
            }],
            at(3),
        )
        .await
        .unwrap();
    assert_eq!(unknown, GroupApplied::StaleContext);
}

async fn windows_close_and_reopen_and_hide_the_gap(r: &Repositories) {
    let (owner, ann) = (user(), user());
    let conv = group(r, owner, &[ann], at(0)).await;
    send(r, conv.id, owner, at(1)).await; // message 1, ann a member
    apply(
        r,
        conv.id,
        vec![GroupEvent::MemberRemoved {
            user_id: ann,
            by: owner,
        }],
        at(2),
    )
    .await; // 2
    send(r, conv.id, owner, at(3)).await; // message 2, ann away
    apply(
        r,
        conv.id,
        vec![GroupEvent::Renamed {
            title: title("Away"),
            by: owner,
        }],
        at(4),
    )
    .await; // 3
    apply(
        r,
        conv.id,
        vec![GroupEvent::MembersAdded {
            user_ids: vec![ann],
            by: owner,
        }],
        at(5),
    )
    .await; // 4

    let windows = r.groups.fetch_windows(conv.id, ann).await.unwrap();
    let first = Window::open(ServerSequence::ZERO, ch(1)).close(ServerSequence::new(1), ch(2));
    let second = Window::open(ServerSequence::new(2), ch(4));
    assert_eq!(windows.all(), &[first, second]);
    assert!(windows.is_member());
    let s = state(r, conv.id).await;
    let p = s.conversation.participant(ann).unwrap();
    assert_eq!(
        (p.role, p.joined_at, p.left_at),
        (Role::Member, at(5), None)
    );
    assert_eq!(
        p.last_read_sequence,
        ServerSequence::new(2),
        "read up to the newest on re-add"
    );
    assert_eq!(r.conversations.unread_count(conv.id, ann).await.unwrap(), 0);

    assert_eq!(
        visible(r, conv.id, ann).await,
        vec![1, 2, 4],
        "the rename while away is hidden"
    );
    assert_eq!(visible(r, conv.id, owner).await, vec![1, 2, 3, 4]);
    let page = r
        .groups
        .list_changes(conv.id, ann, ChangeSequence::ZERO, limit(2))
        .await
        .unwrap();
    assert_eq!(
        (sequences(&page.items), page.has_more, page.last_change),
        (vec![1, 2], true, ch(4))
    );
    let rest = r
        .groups
        .list_changes(conv.id, ann, ch(2), limit(2))
        .await
        .unwrap();
    assert_eq!((sequences(&rest.items), rest.has_more), (vec![4], false));

    apply(
        r,
        conv.id,
        vec![GroupEvent::MemberRemoved {
            user_id: ann,
            by: ann,
        }],
        at(6),
    )
    .await; // 5
    apply(
        r,
        conv.id,
        vec![GroupEvent::Renamed {
            title: title("Gone"),
            by: owner,
        }],
        at(7),
    )
    .await; // 6
    let windows = r.groups.fetch_windows(conv.id, ann).await.unwrap();
    assert!(!windows.is_member());
    assert_eq!(
        windows.all()[1],
        second.close(ServerSequence::new(2), ch(5))
    );
    let page = r
        .groups
        .list_changes(conv.id, ann, ch(4), limit(10))
        .await
        .unwrap();
    assert_eq!((sequences(&page.items), page.last_change), (vec![5], ch(5)));
}

async fn members_are_listed_owner_first_then_by_joining(r: &Repositories) {
    let (owner, ann, ben, cy, dan) = (user(), user(), user(), user(), user());
    let conv = group(r, owner, &[ann], at(0)).await;
    apply(
        r,
        conv.id,
        vec![GroupEvent::MembersAdded {
            user_ids: vec![ben],
            by: owner,
        }],
        at(20),
    )
    .await;
    apply(
        r,
        conv.id,
        vec![GroupEvent::MembersAdded {
            user_ids: vec![cy, dan],
            by: owner,
        }],
        at(10_000),
    )
    .await;
    apply(
        r,
        conv.id,
        vec![GroupEvent::RoleChanged {
            user_id: ben,
            role: Role::Admin,
            by: owner,
        }],
        at(10_001),
    )
    .await;
    // Ownership handed to the last joiner: they come first.
    apply(
        r,
        conv.id,
        vec![
            GroupEvent::RoleChanged {
                user_id: dan,
                role: Role::Owner,
                by: owner,
            },
            GroupEvent::RoleChanged {
                user_id: owner,
                role: Role::Admin,
                by: owner,
            },
        ],
        at(10_002),
    )
    .await;
    apply(
        r,
        conv.id,
        vec![GroupEvent::MemberRemoved {
            user_id: ann,
            by: dan,
        }],
        at(10_003),
    )
    .await;
    // The owner first, then by joined_at: the old owner at 0, ben at 20, cy at 10 000 (ann
    // is gone).
    let page = r.groups.list_members(conv.id, limit(10), 0).await.unwrap();
    let ids: Vec<UserId> = page.items.iter().map(|p| p.user_id).collect();
    assert_eq!(ids, vec![dan, owner, ben, cy]);
    assert_eq!(page.total, 4, "current members only");
    assert_eq!(page.items[0].role, Role::Owner);
    assert_eq!(page.items[1].role, Role::Admin);
    let middle = r.groups.list_members(conv.id, limit(2), 1).await.unwrap();
    let ids: Vec<UserId> = middle.items.iter().map(|p| p.user_id).collect();
    assert_eq!((ids, middle.total), (vec![owner, ben], 4));
    let past = r.groups.list_members(conv.id, limit(2), 9).await.unwrap();
    assert!(past.items.is_empty());
    assert_eq!(past.total, 4);
    // Two joined at the same instant: by id.
    let (x, y) = (user(), user());
    let tie = group(r, owner, &[x, y], at(0)).await;
    let ids: Vec<UserId> = r
        .groups
        .list_members(tie.id, limit(10), 0)
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.user_id)
        .collect();
    let mut rest = vec![x, y];
    rest.sort();
    assert_eq!(ids, [vec![owner], rest].concat());
}

async fn a_group_its_last_member_left_keeps_its_log(r: &Repositories) {
    let (owner, ann) = (user(), user());
    let conv = group(r, owner, &[ann], at(0)).await;
    apply(
        r,
        conv.id,
        vec![GroupEvent::MemberRemoved {
            user_id: ann,
            by: ann,
        }],
        at(1),
    )
    .await;
    apply(
        r,
        conv.id,
        vec![GroupEvent::MemberRemoved {
            user_id: owner,
            by: owner,
        }],
        at(2),
    )
    .await;
    let s = state(r, conv.id).await;
    assert!(s.conversation.active_participant_ids().next().is_none());
    assert_eq!(s.conversation.participants.len(), 2);
    assert_eq!(s.last_change, ch(3));
    let page = r.groups.list_members(conv.id, limit(10), 0).await.unwrap();
    assert_eq!((page.items.len(), page.total), (0, 0));
    // Former members keep read access to their windows.
    assert_eq!(visible(r, conv.id, owner).await, vec![1, 2, 3]);
    assert_eq!(visible(r, conv.id, ann).await, vec![1, 2]);
    for u in [owner, ann] {
        assert!(
            !r.groups
                .fetch_windows(conv.id, u)
                .await
                .unwrap()
                .is_member()
        );
    }
}

async fn concurrent_applies_are_numbered_gap_free(r: &Repositories) {
    const WRITERS: usize = 12;
    let owner = user();
    let conv = group(r, owner, &[], at(0)).await;
    // Two applies at one version: one commits, the other stores nothing.
    let version = state(r, conv.id).await.version;
    let racers: Vec<_> = (0..2)
        .map(|n| {
            let r = r.clone();
            tokio::spawn(async move {
                let event = GroupEvent::Renamed {
                    title: GroupTitle::new(&format!("race {n}")).unwrap(),
                    by: owner,
                };
                r.groups
                    .apply_group_events(conv.id, version, vec![event], at(1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut done = 0;
    for t in racers {
        match t.await.unwrap() {
            GroupApplied::Done(changes) => {
                assert_eq!(sequences(&changes), vec![2]);
                done += 1;
            }
            GroupApplied::StaleContext => {}
        }
    }
    assert_eq!(done, 1, "exactly one apply at a version commits");

    // Writers that retry on a stale version, as the service does: every apply commits once,
    // and the sequences are exactly 3..=2+2×WRITERS.
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| {
            let r = r.clone();
            tokio::spawn(async move {
                let added = user();
                let events = vec![
                    GroupEvent::MembersAdded {
                        user_ids: vec![added],
                        by: owner,
                    },
                    GroupEvent::RoleChanged {
                        user_id: added,
                        role: Role::Admin,
                        by: owner,
                    },
                ];
                for attempt in 0.. {
                    assert!(attempt < 10_000, "writer {n} never got through");
                    let version = r
                        .groups
                        .fetch_group_state(conv.id)
                        .await
                        .unwrap()
                        .unwrap()
                        .version;
                    match r
                        .groups
                        .apply_group_events(conv.id, version, events.clone(), at(2))
                        .await
                        .unwrap()
                    {
                        GroupApplied::Done(changes) => return (added, sequences(&changes)),
                        GroupApplied::StaleContext => tokio::task::yield_now().await,
                    }
                }
                unreachable!()
            })
        })
        .collect();
    let mut taken = BTreeSet::new();
    let mut added = Vec::new();
    for w in writers {
        let (user, seqs) = w.await.unwrap();
        assert_eq!(seqs.len(), 2);
        assert_eq!(seqs[1], seqs[0] + 1, "one apply's changes are consecutive");
        taken.extend(seqs);
        added.push(user);
    }
    let last = 2 + 2 * WRITERS as u64;
    assert_eq!(taken, (3..=last).collect::<BTreeSet<u64>>());
    assert_eq!(state(r, conv.id).await.last_change, ch(last));
    assert_eq!(
        visible(r, conv.id, owner).await,
        (1..=last).collect::<Vec<u64>>()
    );
    let s = state(r, conv.id).await;
    for u in added {
        assert_eq!(role_of(&s.conversation, u), Some(Role::Admin));
        let w = r.groups.fetch_windows(conv.id, u).await.unwrap();
        assert_eq!(w.all().len(), 1);
    }
}
