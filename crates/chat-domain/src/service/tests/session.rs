//! `SessionService`: authentication, connect, resume, disconnect (contract 2, 3 and 5).

use std::collections::BTreeMap;

use mockall::{Sequence, predicate::eq};
use uuid::Uuid;

use super::{Mocks, NOW, block, conv, device, msg_id, name, run, seq, socket, stored, user};
use crate::{
    ids::{ConversationId, DeviceId},
    ports::{HistoryPage, SocketSession, TokenError, VerifiedToken},
    presence::{PresenceChange, PresenceStatus},
    resume::{ConversationHead, MAX_PENDING_MESSAGES, ResumePoint},
    sequence::ServerSequence,
    service::{
        AuthError, ConnectRequest, Departure, Principal, RefreshError, ResumeMargin, ResumeWindow,
        ResumedSession,
    },
    time::Timestamp,
};

const ADA: u128 = 1;
const BOB: u128 = 2;
const EXPIRES: Timestamp = Timestamp::from_millis(1_800_000_000_000);
/// Tokens are issued a minute before [`NOW`].
const ISSUED: Timestamp = Timestamp::from_millis(1_700_000_000_000 - 60_000);

fn token_of(who: u128, display: Option<&str>) -> VerifiedToken {
    VerifiedToken {
        user_id: user(who),
        name: display.map(name),
        expires_at: EXPIRES,
        issued_at: Some(ISSUED),
    }
}

fn heads(hs: &[(u128, u64)]) -> Vec<ConversationHead> {
    hs.iter()
        .map(|&(c, s)| ConversationHead {
            conversation_id: conv(c),
            last_sequence: seq(s),
        })
        .collect()
}

fn sequences(ss: &[(u128, u64)]) -> BTreeMap<ConversationId, ServerSequence> {
    ss.iter().map(|&(c, s)| (conv(c), seq(s))).collect()
}

fn connect_request(last_sequences: &[(u128, u64)]) -> ConnectRequest {
    ConnectRequest {
        user_id: user(ADA),
        device_id: device("laptop"),
        socket_id: socket("s-1"),
        last_sequences: sequences(last_sequences),
    }
}

fn resume_point(disconnected_at: Timestamp, ss: &[(u128, u64)]) -> ResumePoint {
    ResumePoint {
        user_id: user(ADA),
        device_id: device("laptop"),
        disconnected_at,
        sequences: sequences(ss),
    }
}

fn own_session() -> SocketSession {
    SocketSession {
        socket_id: socket("s-1"),
        user_id: user(ADA),
        device_id: device("laptop"),
        connected_at: NOW,
    }
}

/// What every connect does besides resuming: the session, unread counts, presence (a second
/// device: the aggregate does not change, so nothing is announced).
fn expect_connect_basics(m: &mut Mocks) {
    m.sessions
        .expect_insert_session()
        .with(eq(SocketSession {
            socket_id: socket("s-1"),
            user_id: user(ADA),
            device_id: device("laptop"),
            connected_at: NOW,
        }))
        .times(1)
        .returning(|_| Ok(()));
    // Only this socket of the device is live: no overlap.
    m.sessions
        .expect_list_user_sessions()
        .with(eq(user(ADA)))
        .returning(|_| Ok(vec![own_session()]));
    m.conversations
        .expect_unread_counts()
        .with(eq(user(ADA)))
        .times(1)
        .returning(|_| Ok(vec![(conv(1), 2)]));
    m.presence
        .expect_set_connection_status()
        .with(
            eq(user(ADA)),
            eq(socket("s-1")),
            eq(PresenceStatus::Online),
            eq(NOW),
        )
        .times(1)
        .returning(|_, _, _, _| {
            Ok(PresenceChange {
                before: PresenceStatus::Online,
                after: PresenceStatus::Online,
            })
        });
    m.publisher.expect_publish().never();
}

#[test]
fn authenticating_without_a_token_is_missing_and_touches_nothing() {
    for token in [None, Some(""), Some("   \t")] {
        let mut m = Mocks::new();
        m.tokens.expect_verify().never();
        m.users.expect_upsert_user().never();
        let got = run(m.services().sessions.authenticate(token));
        assert!(
            matches!(got, Err(AuthError::Token(TokenError::Missing))),
            "{token:?}: {got:?}"
        );
    }
}

#[test]
fn a_refused_token_does_not_touch_the_user_repository() {
    for error in [TokenError::Invalid, TokenError::Expired] {
        let mut m = Mocks::new();
        m.tokens
            .expect_verify()
            .times(1)
            .returning(move |_| Err(error));
        m.users.expect_upsert_user().never();
        let got = run(m.services().sessions.authenticate(Some("bad")));
        assert!(
            matches!(got, Err(AuthError::Token(e)) if e == error),
            "{error:?}: {got:?}"
        );
    }
}

#[test]
fn authenticating_records_the_user_with_the_name_from_the_token() {
    for display in [None, Some("Ada")] {
        let mut m = Mocks::new();
        m.tokens
            .expect_verify()
            .withf(|t: &str| t == "good")
            .times(1)
            .returning(move |_| Ok(token_of(ADA, display)));
        m.users
            .expect_revoked_at()
            .with(eq(user(ADA)))
            .times(1)
            .returning(|_| Ok(None));
        m.users
            .expect_upsert_user()
            .with(eq(user(ADA)), eq(display.map(name)), eq(NOW))
            .times(1)
            .returning(|_, _, _| Ok(()));
        let got = run(m.services().sessions.authenticate(Some("good"))).unwrap();
        assert_eq!(
            got,
            Principal {
                user_id: user(ADA),
                name: display.map(name),
                expires_at: EXPIRES,
                issued_at: Some(ISSUED),
            }
        );
    }
}

#[test]
fn a_refresh_with_another_subject_is_a_different_user() {
    let mut m = Mocks::new();
    m.tokens
        .expect_verify()
        .returning(|_| Ok(token_of(BOB, Some("Bob"))));
    m.users.expect_upsert_user().never();
    let got = run(m.services().sessions.refresh(user(ADA), "bob's token"));
    assert!(matches!(got, Err(RefreshError::DifferentUser)), "{got:?}");
}

#[test]
fn a_refresh_of_the_same_user_updates_the_name_only_when_it_has_one() {
    for display in [None, Some("Ada L.")] {
        let mut m = Mocks::new();
        m.tokens
            .expect_verify()
            .returning(move |_| Ok(token_of(ADA, display)));
        m.users.expect_revoked_at().returning(|_| Ok(None));
        m.users
            .expect_upsert_user()
            .with(eq(user(ADA)), eq(display.map(name)), eq(NOW))
            .times(usize::from(display.is_some()))
            .returning(|_, _, _| Ok(()));
        let got = run(m.services().sessions.refresh(user(ADA), "fresh")).unwrap();
        assert_eq!(got.expires_at, EXPIRES);
        assert_eq!(got.user_id, user(ADA));
    }
}

#[test]
fn a_refresh_with_a_bad_token_is_refused() {
    let mut m = Mocks::new();
    m.tokens
        .expect_verify()
        .returning(|_| Err(TokenError::Expired));
    m.users.expect_upsert_user().never();
    let got = run(m.services().sessions.refresh(user(ADA), "old"));
    assert!(
        matches!(got, Err(RefreshError::Token(TokenError::Expired))),
        "{got:?}"
    );
}

#[test]
fn a_device_keeps_its_id_or_gets_a_fresh_one() {
    let mut m = Mocks::new();
    m.ids
        .expect_new_uuid()
        .times(1)
        .returning(|| Uuid::from_u128(77));
    let services = m.services();
    assert_eq!(
        services.sessions.device_id(Some(device("phone"))),
        device("phone")
    );
    assert_eq!(
        services.sessions.device_id(None),
        DeviceId::generated(Uuid::from_u128(77))
    );
}

#[test]
fn sockets_join_every_conversation_but_those_where_the_user_is_blocked() {
    let mut m = Mocks::new();
    m.conversations
        .expect_list_conversation_heads()
        .with(eq(user(ADA)))
        .returning(|_| Ok(heads(&[(1, 3), (2, 0), (3, 9)])));
    m.blocks
        .expect_list_blocks_involving()
        .with(eq(user(ADA)))
        // Ada blocked in 2 (kept out); Ada blocked someone in 3 (stays in).
        .returning(|_| Ok(vec![block(conv(2), BOB, ADA), block(conv(3), ADA, BOB)]));
    let rooms = run(m.services().sessions.rooms(user(ADA))).unwrap();
    assert_eq!(rooms, vec![conv(1), conv(3)]);
}

#[test]
fn a_connect_within_the_window_lists_what_was_missed_from_the_right_cursors() {
    let mut m = Mocks::new();
    expect_connect_basics(&mut m);
    m.sessions
        .expect_take_resume_point()
        .with(eq(user(ADA)), eq(device("laptop")))
        .times(1)
        // Left 1 s ago: conversation 1 at 5, 2 at 3, 4 at 6 (caught up).
        .returning(|_, _| {
            Ok(Some(resume_point(
                NOW.plus_millis(-1_000),
                &[(1, 5), (2, 3), (4, 6)],
            )))
        });
    m.conversations
        .expect_list_conversation_heads()
        .with(eq(user(ADA)))
        .times(1)
        // Now: 1 moved to 7, 2 to 4, 3 is new, 4 did not move.
        .returning(|_| Ok(heads(&[(1, 7), (2, 4), (3, 2), (4, 6)])));
    let pending = vec![
        stored(msg_id(1), conv(1), BOB, 6),
        stored(msg_id(2), conv(1), BOB, 7),
    ];
    let page = pending.clone();
    m.messages
        .expect_list_pending()
        // The client's lastSequences win for conversation 2; the new one starts at 0.
        .with(
            eq(vec![
                (conv(1), seq(5)),
                (conv(2), seq(1)),
                (conv(3), ServerSequence::ZERO),
            ]),
            eq(MAX_PENDING_MESSAGES),
        )
        .times(1)
        .return_once(move |_, _| {
            Ok(HistoryPage {
                items: page,
                has_more: true,
            })
        });

    let got = run(m.services().sessions.connect(connect_request(&[(2, 1)]))).unwrap();

    assert_eq!(
        got.resumed,
        Some(ResumedSession {
            pending,
            has_more: true,
        })
    );
    assert_eq!(got.unread_counts, vec![(conv(1), 2)]);
    assert_eq!(got.server_time, NOW);
}

#[test]
fn a_connect_with_nothing_missed_resumes_without_listing() {
    let mut m = Mocks::new();
    expect_connect_basics(&mut m);
    m.sessions
        .expect_take_resume_point()
        .returning(|_, _| Ok(Some(resume_point(NOW.plus_millis(-1_000), &[(1, 5)]))));
    m.conversations
        .expect_list_conversation_heads()
        .returning(|_| Ok(heads(&[(1, 5)])));
    m.messages.expect_list_pending().never();
    let got = run(m.services().sessions.connect(connect_request(&[]))).unwrap();
    assert_eq!(
        got.resumed,
        Some(ResumedSession {
            pending: vec![],
            has_more: false,
        })
    );
}

#[test]
fn a_connect_outside_the_window_or_of_a_new_device_is_not_resumed() {
    let window = ResumeWindow::default().0;
    let cases = [
        ("window passed", Some(NOW.plus_millis(-window - 1))),
        ("new device", None),
    ];
    for (case, left_at) in cases {
        let mut m = Mocks::new();
        expect_connect_basics(&mut m);
        m.sessions
            .expect_take_resume_point()
            .times(1)
            .returning(move |_, _| Ok(left_at.map(|t| resume_point(t, &[(1, 1)]))));
        m.conversations.expect_list_conversation_heads().never();
        m.messages.expect_list_pending().never();
        let got = run(m.services().sessions.connect(connect_request(&[]))).unwrap();
        assert_eq!(got.resumed, None, "{case}");
    }
}

#[test]
fn a_connect_with_last_sequences_but_no_point_resumes_from_them() {
    let mut m = Mocks::new();
    expect_connect_basics(&mut m);
    m.sessions
        .expect_take_resume_point()
        .returning(|_, _| Ok(None));
    m.conversations
        .expect_list_conversation_heads()
        .returning(|_| Ok(heads(&[(1, 9), (2, 4)])));
    m.messages
        .expect_first_sequences_after()
        .returning(|_, _| Ok(vec![]));
    // The client named conversation 1 only: nothing is owed in conversation 2.
    m.messages
        .expect_list_pending()
        .with(eq(vec![(conv(1), seq(6))]), eq(MAX_PENDING_MESSAGES))
        .times(1)
        .returning(|_, _| {
            Ok(HistoryPage {
                items: vec![],
                has_more: false,
            })
        });
    let got = run(m.services().sessions.connect(connect_request(&[(1, 6)]))).unwrap();
    assert!(got.resumed.is_some());
}

#[test]
fn the_window_edge_still_resumes() {
    let mut m = Mocks::new();
    expect_connect_basics(&mut m);
    m.sessions.expect_take_resume_point().returning(|_, _| {
        Ok(Some(resume_point(
            NOW.plus_millis(-ResumeWindow::default().0),
            &[(1, 1)],
        )))
    });
    m.conversations
        .expect_list_conversation_heads()
        .returning(|_| Ok(heads(&[(1, 1)])));
    let got = run(m.services().sessions.connect(connect_request(&[]))).unwrap();
    assert!(got.resumed.is_some());
}

#[test]
fn the_first_device_to_connect_announces_the_user_online() {
    let mut m = Mocks::new();
    m.sessions.expect_insert_session().returning(|_| Ok(()));
    m.sessions
        .expect_list_user_sessions()
        .returning(|_| Ok(vec![own_session()]));
    m.sessions
        .expect_take_resume_point()
        .returning(|_, _| Ok(None));
    m.conversations
        .expect_unread_counts()
        .returning(|_| Ok(vec![]));
    m.presence
        .expect_set_connection_status()
        .returning(|_, _, _, _| {
            Ok(PresenceChange {
                before: PresenceStatus::Offline,
                after: PresenceStatus::Online,
            })
        });
    m.conversations
        .expect_list_conversation_heads()
        .returning(|_| Ok(heads(&[(1, 0)])));
    m.blocks
        .expect_list_blocks_involving()
        .returning(|_| Ok(vec![]));
    let published = m.record_publishes();
    run(m.services().sessions.connect(connect_request(&[]))).unwrap();
    assert_eq!(published.take().len(), 1);
}

#[test]
fn a_disconnect_records_the_heads_less_the_margin_for_the_resume_window_before_forgetting_the_session()
 {
    let mut m = Mocks::new();
    m.policies.resume_window = ResumeWindow(60_000);
    m.policies.resume_margin = ResumeMargin::for_heartbeat(8_000);
    let mut order = Sequence::new();
    m.sessions
        .expect_list_user_sessions()
        .with(eq(user(ADA)))
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Ok(vec![own_session()]));
    m.conversations
        .expect_list_conversation_heads()
        .with(eq(user(ADA)))
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Ok(heads(&[(1, 7), (2, 0)])));
    // Messages 6 and 7 of conversation 1 were created within the margin (heartbeat + 2 s), here
    // before a goodbye: they may have crossed it on the wire, so the point stays below.
    m.messages
        .expect_first_sequences_after()
        .with(eq(vec![conv(1), conv(2)]), eq(NOW.plus_millis(-10_000)))
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _| Ok(vec![(conv(1), seq(6))]));
    m.sessions
        .expect_insert_resume_point()
        .with(eq(resume_point(NOW, &[(1, 5), (2, 0)])), eq(60_000))
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _| Ok(()));
    m.sessions
        .expect_delete_session()
        .with(eq(socket("s-1")))
        .times(1)
        .in_sequence(&mut order)
        .returning(|s| {
            Ok(Some(SocketSession {
                socket_id: s,
                user_id: user(ADA),
                device_id: device("laptop"),
                connected_at: Timestamp::EPOCH,
            }))
        });
    m.presence
        .expect_remove_connection()
        .with(eq(user(ADA)), eq(socket("s-1")), eq(NOW))
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _| {
            Ok(PresenceChange {
                before: PresenceStatus::Online,
                after: PresenceStatus::Online,
            })
        });
    m.publisher.expect_publish().never();

    run(m.services().sessions.disconnect(
        user(ADA),
        device("laptop"),
        socket("s-1"),
        Departure::Deliberate,
        NOW,
    ))
    .unwrap();
}

#[test]
fn a_disconnect_while_the_device_has_another_live_socket_records_no_point() {
    let mut m = Mocks::new();
    m.sessions.expect_list_user_sessions().returning(|_| {
        Ok(vec![
            own_session(),
            SocketSession {
                socket_id: socket("s-2"),
                ..own_session()
            },
        ])
    });
    m.sessions.expect_insert_resume_point().never();
    m.sessions.expect_delete_session().returning(|_| Ok(None));
    m.presence.expect_remove_connection().returning(|_, _, _| {
        Ok(PresenceChange {
            before: PresenceStatus::Online,
            after: PresenceStatus::Online,
        })
    });
    run(m.services().sessions.disconnect(
        user(ADA),
        device("laptop"),
        socket("s-1"),
        Departure::Abrupt,
        NOW,
    ))
    .unwrap();
}

#[test]
fn a_user_is_written_once_per_name_not_once_per_connect() {
    let mut m = Mocks::new();
    m.tokens.expect_verify().returning(|t: &str| {
        Ok(token_of(
            ADA,
            match t {
                "nameless" => None,
                "ada" => Some("Ada"),
                _ => Some("Ada L."),
            },
        ))
    });
    m.users.expect_revoked_at().returning(|_| Ok(None));
    let mut writes = Sequence::new();
    for display in [None, Some("Ada"), Some("Ada L.")] {
        m.users
            .expect_upsert_user()
            .with(eq(user(ADA)), eq(display.map(name)), eq(NOW))
            .times(1)
            .in_sequence(&mut writes)
            .returning(|_, _, _| Ok(()));
    }
    let sessions = m.services().sessions;
    for token in [
        "nameless", "nameless", "ada", "ada", "nameless", "renamed", "renamed",
    ] {
        run(sessions.authenticate(Some(token))).unwrap();
    }
}

#[test]
fn a_token_issued_up_to_the_revocation_second_is_revoked_and_records_nothing() {
    // revoked at NOW - 60.5 s: tokens issued in that second (ISSUED is NOW - 60 s, so one
    // second later) and before it are void; ISSUED itself is not
    for (revoked_at, issued_at, revoked) in [
        (ISSUED.millis() - 500, Some(ISSUED), false),
        (ISSUED.millis(), Some(ISSUED), true),
        (ISSUED.millis() + 999, Some(ISSUED), true),
        (ISSUED.millis() - 500, None, true),
    ] {
        let mut m = Mocks::new();
        m.tokens.expect_verify().returning(move |_| {
            Ok(VerifiedToken {
                issued_at,
                ..token_of(ADA, Some("Ada"))
            })
        });
        m.users
            .expect_revoked_at()
            .returning(move |_| Ok(Some(Timestamp::from_millis(revoked_at))));
        m.users
            .expect_upsert_user()
            .times(usize::from(!revoked))
            .returning(|_, _, _| Ok(()));
        let services = m.services();
        let got = run(services.sessions.authenticate(Some("t")));
        let refreshed = run(services.sessions.refresh(user(ADA), "t"));
        if revoked {
            assert!(
                matches!(got, Err(AuthError::Token(TokenError::Revoked))),
                "{revoked_at} {issued_at:?}: {got:?}"
            );
            assert!(
                matches!(refreshed, Err(RefreshError::Token(TokenError::Revoked))),
                "{refreshed:?}"
            );
        } else {
            assert!(got.is_ok(), "{got:?}");
            assert!(refreshed.is_ok(), "{refreshed:?}");
        }
    }
}
