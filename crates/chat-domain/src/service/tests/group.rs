//! `GroupService` over mocks: the rules decide before anything is stored, refusals store,
//! count and publish nothing, rooms follow before the events go out, and a group that moved
//! under a change is read again.

use std::sync::{Arc, Mutex};

use super::{NOW, conv, name, run, user};
use crate::{
    change::{Change, ChangeBody, ChangeSequence, GroupEvent},
    conversation::{Conversation, ConversationKind, Created, Participant},
    events::{Audience, ServerEvent},
    group::{GroupPolicy, GroupTitle, Role},
    ids::ConversationId,
    ports::{
        ContextVersion, GroupApplied, GroupState, MockBlockRepository, MockClock,
        MockEventPublisher, MockGroupRepository, MockIdGenerator, MockPresenceStore,
        MockRateLimiter,
    },
    rate_limit::RateDecision,
    sequence::ServerSequence,
    service::{CreateGroup, GroupError, GroupService, Policies, SendContextCache},
    time::Timestamp,
};

const OWNER: u128 = 1;
const ADMIN: u128 = 2;
const MEMBER: u128 = 3;
const STRANGER: u128 = 9;

fn member(n: u128, role: Role, joined: i64) -> Participant {
    Participant {
        user_id: user(n),
        name: Some(name("x")),
        role,
        joined_at: Timestamp::from_millis(joined),
        left_at: None,
        last_read_sequence: ServerSequence::ZERO,
        last_read_at: None,
    }
}

fn group(kind: ConversationKind) -> Conversation {
    Conversation {
        id: conv(1),
        kind,
        title: GroupTitle::new("Trip").ok(),
        created_at: Timestamp::EPOCH,
        last_sequence: ServerSequence::ZERO,
        participants: vec![
            member(OWNER, Role::Owner, 1),
            member(ADMIN, Role::Admin, 2),
            member(MEMBER, Role::Member, 3),
        ],
    }
}

fn state(kind: ConversationKind, version: u64) -> GroupState {
    GroupState {
        conversation: group(kind),
        version: ContextVersion(version),
        last_change: ChangeSequence::new(5),
    }
}

/// What reached the store: the version asked for and the events, per call.
type Applied = Arc<Mutex<Vec<(ContextVersion, Vec<GroupEvent>)>>>;
/// What was published and which rooms were joined or left, in order.
type Published = Arc<Mutex<Vec<String>>>;

/// The mocks of a group service.
struct Mocks {
    groups: MockGroupRepository,
    rate: MockRateLimiter,
    publisher: MockEventPublisher,
    applied: Applied,
    published: Published,
}

fn changes_for(id: ConversationId, events: &[GroupEvent]) -> Vec<Change> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| Change {
            conversation_id: id,
            sequence: ChangeSequence::new(6 + i as u64),
            at: NOW,
            body: ChangeBody::Group(e.clone()),
        })
        .collect()
}

impl Mocks {
    fn new() -> Self {
        let published = Arc::new(Mutex::new(Vec::new()));
        let mut publisher = MockEventPublisher::new();
        let log = published.clone();
        publisher
            .expect_publish()
            .returning(move |audience, event| {
                let what = match event {
                    ServerEvent::GroupChanged(c) => format!("changed {}", c.sequence),
                    ServerEvent::ConversationJoined { .. } => "joined".to_owned(),
                    ServerEvent::ConversationLeft { .. } => "left".to_owned(),
                    other => format!("{other:?}"),
                };
                log.lock().unwrap().push(format!("{what} -> {audience:?}"));
                Ok(())
            });
        let log = published.clone();
        publisher.expect_join_conversation().returning(move |u, _| {
            log.lock().unwrap().push(format!("room+ {u}"));
            Ok(())
        });
        let log = published.clone();
        publisher
            .expect_leave_conversation()
            .returning(move |u, _| {
                log.lock().unwrap().push(format!("room- {u}"));
                Ok(())
            });
        Self {
            groups: MockGroupRepository::new(),
            rate: MockRateLimiter::new(),
            publisher,
            applied: Arc::default(),
            published,
        }
    }

    /// The group reads as `states`, one per read (the last one repeats).
    fn reading(&mut self, states: Vec<GroupState>) {
        let queue = Mutex::new(states);
        self.groups.expect_fetch_group_state().returning(move |_| {
            let mut q = queue.lock().unwrap();
            let next = if q.len() > 1 {
                q.remove(0)
            } else {
                q[0].clone()
            };
            Ok(Some(next))
        });
    }

    /// Applies answer `Done` (or `StaleContext` for the versions in `stale`).
    fn applying(&mut self, stale: &'static [u64]) {
        let applied = self.applied.clone();
        self.groups
            .expect_apply_group_events()
            .returning(move |id, version, events, _| {
                applied.lock().unwrap().push((version, events.clone()));
                if stale.contains(&version.0) {
                    return Ok(GroupApplied::StaleContext);
                }
                Ok(GroupApplied::Done(changes_for(id, &events)))
            });
    }

    fn allowing(&mut self, times: usize) {
        self.rate
            .expect_check()
            .times(times)
            .returning(|_, _, _| Ok(RateDecision::Allowed));
    }

    fn service(self) -> (GroupService, Applied, Published) {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        let mut ids = MockIdGenerator::new();
        ids.expect_new_uuid()
            .returning(|| uuid::Uuid::from_u128(0xC0_0000 + 7));
        let policies = Policies {
            groups: GroupPolicy {
                max_members: 4,
                broadcast_max_members: 50,
            },
            ..Policies::default()
        };
        let service = GroupService::new(
            Arc::new(self.groups),
            Arc::new(MockBlockRepository::new()),
            Arc::new(MockPresenceStore::new()),
            Arc::new(self.rate),
            Arc::new(self.publisher),
            Arc::new(clock),
            Arc::new(ids),
            policies,
            Arc::new(SendContextCache::default()),
        );
        (service, self.applied, self.published)
    }
}

#[test]
fn create_leaves_out_the_creator_and_repeats_and_greets_every_first_member_in_the_room() {
    let mut m = Mocks::new();
    m.allowing(1);
    let inserted = Arc::new(Mutex::new(Vec::new()));
    let seen = inserted.clone();
    m.groups.expect_insert_group().returning(move |g| {
        seen.lock().unwrap().push(g.members.clone());
        let mut c = group(ConversationKind::Group);
        c.id = g.id;
        Ok((c, Created::New))
    });
    let (service, _, published) = m.service();
    let cmd = CreateGroup {
        creator: user(OWNER),
        title: "  Trip ".to_owned(),
        member_ids: vec![user(ADMIN), user(OWNER), user(MEMBER), user(ADMIN)],
        request_id: None,
    };
    let (c, created) = run(service.create(cmd)).unwrap();
    assert_eq!(created, Created::New);
    assert_eq!(inserted.lock().unwrap()[0], vec![user(ADMIN), user(MEMBER)]);
    let log = published.lock().unwrap().clone();
    assert_eq!(log.len(), 6, "{log:?}");
    for (i, who) in [OWNER, ADMIN, MEMBER].into_iter().enumerate() {
        assert_eq!(log[2 * i], format!("room+ {}", user(who)), "the room first");
        assert_eq!(
            log[2 * i + 1],
            format!("joined -> {:?}", Audience::User(user(who)))
        );
    }
    assert_eq!(c.kind, ConversationKind::Group);
}

#[test]
fn a_replayed_request_id_returns_the_first_group_and_counts_nothing() {
    let mut m = Mocks::new();
    m.groups
        .expect_find_group_by_request()
        .returning(|_, _| Ok(Some(group(ConversationKind::Group))));
    m.groups.expect_insert_group().never();
    m.rate.expect_check().never();
    let (service, _, published) = m.service();
    let cmd = CreateGroup {
        creator: user(OWNER),
        title: "Trip".to_owned(),
        member_ids: vec![],
        request_id: Some(uuid::Uuid::from_u128(5)),
    };
    assert_eq!(run(service.create(cmd)).unwrap().1, Created::Existing);
    assert!(published.lock().unwrap().is_empty());
}

#[test]
fn a_bad_title_or_too_many_members_stores_and_counts_nothing() {
    for (title, members) in [("   ", 1), ("Trip", 4)] {
        let mut m = Mocks::new();
        m.groups.expect_insert_group().never();
        m.rate.expect_check().never();
        let (service, _, _) = m.service();
        let cmd = CreateGroup {
            creator: user(OWNER),
            title: title.to_owned(),
            member_ids: (10..10 + members).map(user).collect(),
            request_id: None,
        };
        let got = run(service.create(cmd));
        assert!(
            matches!(
                got,
                Err(GroupError::Title(_) | GroupError::TooManyMembers(_))
            ),
            "{got:?}"
        );
    }
}

#[test]
fn outsiders_are_not_participants_before_a_one_to_one_is_not_a_group() {
    let mut m = Mocks::new();
    m.reading(vec![state(ConversationKind::OneToOne, 1)]);
    m.groups.expect_apply_group_events().never();
    let (service, _, _) = m.service();
    let outsider = run(service.rename(user(STRANGER), conv(1), "New"));
    assert!(
        matches!(outsider, Err(GroupError::NotParticipant)),
        "{outsider:?}"
    );
    let member = run(service.rename(user(OWNER), conv(1), "New"));
    assert!(matches!(member, Err(GroupError::NotAGroup)), "{member:?}");
}

#[test]
fn roles_decide_and_a_refusal_changes_counts_and_publishes_nothing() {
    type Op = fn(&GroupService) -> Result<(), GroupError>;
    type Expected = fn(&GroupError) -> bool;
    let cases: [(&str, Op, Expected); 5] = [
        (
            "member renames",
            |s| run(s.rename(user(MEMBER), conv(1), "New")).map(drop),
            |e| matches!(e, GroupError::Forbidden),
        ),
        (
            "member adds",
            |s| run(s.add_members(user(MEMBER), conv(1), vec![user(10)])).map(drop),
            |e| matches!(e, GroupError::Forbidden),
        ),
        (
            "admin removes the owner",
            |s| run(s.remove_member(user(ADMIN), conv(1), user(OWNER))),
            |e| matches!(e, GroupError::Forbidden),
        ),
        (
            "member removes a stranger",
            |s| run(s.remove_member(user(MEMBER), conv(1), user(STRANGER))),
            |e| matches!(e, GroupError::Forbidden),
        ),
        (
            "owner demotes themselves",
            |s| run(s.set_role(user(OWNER), conv(1), user(OWNER), Role::Admin)).map(drop),
            |e| matches!(e, GroupError::OwnerSelfDemotion),
        ),
    ];
    for (what, op, expected) in cases {
        let mut m = Mocks::new();
        m.reading(vec![state(ConversationKind::Group, 1)]);
        m.groups.expect_apply_group_events().never();
        m.rate.expect_check().never();
        let (service, _, published) = m.service();
        let got = op(&service);
        assert!(got.as_ref().is_err_and(expected), "{what}: {got:?}");
        assert!(published.lock().unwrap().is_empty(), "{what}");
    }
}

#[test]
fn removing_someone_who_is_not_a_member_is_not_found_after_the_role_check() {
    let mut m = Mocks::new();
    m.reading(vec![state(ConversationKind::Group, 1)]);
    m.groups.expect_apply_group_events().never();
    m.rate.expect_check().never();
    let (service, _, _) = m.service();
    let got = run(service.remove_member(user(ADMIN), conv(1), user(STRANGER)));
    assert!(matches!(got, Err(GroupError::NotFound)), "{got:?}");
}

#[test]
fn the_owner_leaving_hands_over_to_the_longest_standing_admin_and_counts_nothing() {
    let mut m = Mocks::new();
    m.reading(vec![state(ConversationKind::Group, 1)]);
    m.applying(&[]);
    m.rate.expect_check().never();
    let (service, applied, published) = m.service();
    run(service.remove_member(user(OWNER), conv(1), user(OWNER))).unwrap();
    let applied = applied.lock().unwrap();
    assert_eq!(
        applied[0].1,
        vec![
            GroupEvent::MemberRemoved {
                user_id: user(OWNER),
                by: user(OWNER)
            },
            GroupEvent::RoleChanged {
                user_id: user(ADMIN),
                role: Role::Owner,
                by: user(OWNER)
            },
        ]
    );
    let log = published.lock().unwrap().clone();
    assert_eq!(
        log,
        vec![
            format!("changed 6 -> {:?}", Audience::Conversation(conv(1))),
            format!("room- {}", user(OWNER)),
            format!("left -> {:?}", Audience::User(user(OWNER))),
            format!("changed 7 -> {:?}", Audience::Conversation(conv(1))),
        ]
    );
}

#[test]
fn adding_reports_who_was_in_already_joins_the_rooms_then_announces() {
    let mut m = Mocks::new();
    m.reading(vec![state(ConversationKind::Group, 1)]);
    m.applying(&[]);
    m.allowing(1);
    let (service, applied, published) = m.service();
    let got =
        run(service.add_members(user(ADMIN), conv(1), vec![user(10), user(MEMBER), user(10)]))
            .unwrap();
    assert_eq!(got.added, vec![user(10)]);
    assert_eq!(got.already_members, vec![user(MEMBER)]);
    assert_eq!(applied.lock().unwrap().len(), 1);
    let log = published.lock().unwrap().clone();
    assert_eq!(log[0], format!("room+ {}", user(10)));
    assert_eq!(
        log[1],
        format!("changed 6 -> {:?}", Audience::Conversation(conv(1)))
    );
    assert_eq!(log[2], format!("joined -> {:?}", Audience::User(user(10))));
}

#[test]
fn past_the_size_limit_nobody_is_added() {
    let mut m = Mocks::new();
    m.reading(vec![state(ConversationKind::Group, 1)]);
    m.groups.expect_apply_group_events().never();
    m.rate.expect_check().never();
    let (service, _, _) = m.service();
    let got = run(service.add_members(user(OWNER), conv(1), vec![user(10), user(11)]));
    assert!(matches!(got, Err(GroupError::TooManyMembers(_))), "{got:?}");
}

#[test]
fn handing_ownership_over_is_two_role_changes_new_owner_first_and_the_same_role_is_nothing() {
    let mut m = Mocks::new();
    m.reading(vec![state(ConversationKind::Group, 1)]);
    m.applying(&[]);
    m.allowing(1);
    let (service, applied, _) = m.service();
    run(service.set_role(user(OWNER), conv(1), user(MEMBER), Role::Owner)).unwrap();
    run(service.set_role(user(OWNER), conv(1), user(ADMIN), Role::Admin)).unwrap();
    let applied = applied.lock().unwrap();
    assert_eq!(applied.len(), 1, "the same role again is no change");
    assert_eq!(
        applied[0].1,
        vec![
            GroupEvent::RoleChanged {
                user_id: user(MEMBER),
                role: Role::Owner,
                by: user(OWNER)
            },
            GroupEvent::RoleChanged {
                user_id: user(OWNER),
                role: Role::Admin,
                by: user(OWNER)
            },
        ]
    );
}

#[test]
fn a_group_that_moved_is_read_again_and_counted_once() {
    let mut m = Mocks::new();
    m.reading(vec![
        state(ConversationKind::Group, 1),
        state(ConversationKind::Group, 2),
    ]);
    m.applying(&[1]);
    m.allowing(1);
    let (service, applied, _) = m.service();
    run(service.rename(user(ADMIN), conv(1), "New")).unwrap();
    let versions: Vec<u64> = applied.lock().unwrap().iter().map(|(v, _)| v.0).collect();
    assert_eq!(versions, vec![1, 2]);
}
