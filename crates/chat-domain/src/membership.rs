//! Membership windows (contract 7.3 and 9): a member sees what was committed while they were a
//! member. Each stretch of membership is a [`Window`], from the change that added them to the
//! change that removed them (both shown to them), with the messages committed in between; a
//! re-add opens a new window. History, resume, unread counts, `readBy`, the change log and
//! search all stop at a window's end and start again at the next one's start.
//!
//! The rule is here, as pure functions; the store enforces the same rule in its SQL (a message
//! or change is read only through a join on the reader's windows), and the property test below
//! checks that no sequence of adds, removes, sends and reads lets a user see anything outside
//! their windows.

use crate::{change::ChangeSequence, sequence::ServerSequence};

/// One stretch of membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// The first message visible: one past the conversation's newest when the member was added.
    pub first_sequence: ServerSequence,
    /// The last message visible: the conversation's newest when the member was removed; `None`
    /// while a member.
    pub last_sequence: Option<ServerSequence>,
    /// The change that added the member (shown to them).
    pub first_change: ChangeSequence,
    /// The change that removed the member (shown to them); `None` while a member.
    pub last_change: Option<ChangeSequence>,
}

impl Window {
    /// The window that opens when a member is added by change `adding`, the conversation's
    /// newest message then being `newest`.
    #[must_use]
    pub const fn open(newest: ServerSequence, adding: ChangeSequence) -> Self {
        Self {
            first_sequence: newest.next(),
            last_sequence: None,
            first_change: adding,
            last_change: None,
        }
    }

    /// This window, closed by change `removing`, the conversation's newest message then being
    /// `newest`.
    #[must_use]
    pub const fn close(self, newest: ServerSequence, removing: ChangeSequence) -> Self {
        Self {
            last_sequence: Some(newest),
            last_change: Some(removing),
            ..self
        }
    }

    /// Whether the member is still in it.
    #[must_use]
    pub const fn is_open(&self) -> bool {
        self.last_change.is_none()
    }

    /// Whether message `seq` was committed inside it.
    #[must_use]
    pub fn contains_message(&self, seq: ServerSequence) -> bool {
        seq >= self.first_sequence && self.last_sequence.is_none_or(|last| seq <= last)
    }

    /// Whether change `change` was committed inside it (its opening and closing changes
    /// included).
    #[must_use]
    pub fn contains_change(&self, change: ChangeSequence) -> bool {
        change >= self.first_change && self.last_change.is_none_or(|last| change <= last)
    }
}

/// A user's windows in one conversation, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Windows(Vec<Window>);

impl Windows {
    /// The windows, oldest first.
    #[must_use]
    pub fn new(mut windows: Vec<Window>) -> Self {
        windows.sort_by_key(|w| w.first_change);
        Self(windows)
    }

    /// Every window.
    #[must_use]
    pub fn all(&self) -> &[Window] {
        &self.0
    }

    /// Whether the user is a member now.
    #[must_use]
    pub fn is_member(&self) -> bool {
        self.0.last().is_some_and(Window::is_open)
    }

    /// Whether the user may see message `seq`.
    #[must_use]
    pub fn sees_message(&self, seq: ServerSequence) -> bool {
        self.0.iter().any(|w| w.contains_message(seq))
    }

    /// Whether the user may see change `change`; a change about a message (an edit, a delete, a
    /// reaction) also needs that message inside their windows.
    #[must_use]
    pub fn sees_change(&self, change: ChangeSequence, about: Option<ServerSequence>) -> bool {
        self.0.iter().any(|w| w.contains_change(change))
            && about.is_none_or(|seq| self.sees_message(seq))
    }

    /// The newest change the user may know of: the conversation's `head` while a member, the
    /// end of their last window once removed (`lastChangeSequence` for a former member).
    #[must_use]
    pub fn change_head(&self, head: ChangeSequence) -> ChangeSequence {
        match self.0.last() {
            Some(w) => w.last_change.unwrap_or(head),
            None => ChangeSequence::ZERO,
        }
    }

    /// A read marker that points nowhere the user cannot see: clamped into the last window.
    #[must_use]
    pub fn clamp_marker(&self, marker: ServerSequence) -> ServerSequence {
        match self.0.last() {
            None => ServerSequence::ZERO,
            Some(w) => match w.last_sequence {
                Some(last) => marker.min(last),
                None => marker,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;

    fn seq(n: u64) -> ServerSequence {
        ServerSequence::new(n)
    }
    fn ch(n: u64) -> ChangeSequence {
        ChangeSequence::new(n)
    }

    #[test]
    fn a_window_shows_what_was_committed_inside_it_with_its_edges() {
        let w = Window::open(seq(4), ch(9)).close(seq(7), ch(15));
        let visible: Vec<u64> = (1..10).filter(|&n| w.contains_message(seq(n))).collect();
        assert_eq!(visible, vec![5, 6, 7]);
        assert!(w.contains_change(ch(9)), "the change that added them");
        assert!(w.contains_change(ch(15)), "the change that removed them");
        assert!(!w.contains_change(ch(8)) && !w.contains_change(ch(16)));
    }

    #[test]
    fn a_re_add_opens_a_second_window_and_the_gap_stays_hidden() {
        let windows = Windows::new(vec![
            Window::open(seq(10), ch(20)),
            Window::open(seq(0), ch(1)).close(seq(3), ch(5)),
        ]);
        assert!(windows.is_member());
        let visible: Vec<u64> = (1..14).filter(|&n| windows.sees_message(seq(n))).collect();
        assert_eq!(visible, vec![1, 2, 3, 11, 12, 13]);
        assert!(!windows.sees_change(ch(12), None), "changes while away");
        assert!(
            windows.sees_change(ch(21), Some(seq(2))),
            "about a message they saw"
        );
        assert!(
            !windows.sees_change(ch(21), Some(seq(7))),
            "an edit, inside a window, of a message outside them"
        );
    }

    #[test]
    fn a_former_members_head_is_the_end_of_their_last_window() {
        let gone = Windows::new(vec![Window::open(seq(0), ch(1)).close(seq(3), ch(5))]);
        assert!(!gone.is_member());
        assert_eq!(gone.change_head(ch(40)), ch(5));
        assert_eq!(gone.clamp_marker(seq(9)), seq(3));
        assert_eq!(Windows::default().change_head(ch(40)), ChangeSequence::ZERO);
    }

    /// What happens in a conversation, for the property below.
    #[derive(Debug, Clone)]
    enum Op {
        Add(u8),
        Remove(u8),
        Send(u8),
        Read(u8, u8),
        Edit(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..6u8).prop_map(Op::Add),
            (0..6u8).prop_map(Op::Remove),
            (0..6u8).prop_map(Op::Send),
            (0..6u8, 0..40u8).prop_map(|(u, s)| Op::Read(u, s)),
            (0..40u8).prop_map(Op::Edit),
        ]
    }

    /// A conversation driven by the window functions, beside a plain record of who was a
    /// member when each message and change was committed.
    #[derive(Default)]
    struct Model {
        newest: ServerSequence,
        head: ChangeSequence,
        windows: BTreeMap<u8, Vec<Window>>,
        members: BTreeSet<u8>,
        markers: BTreeMap<u8, ServerSequence>,
        /// message → who was a member when it was committed
        message_audience: BTreeMap<ServerSequence, BTreeSet<u8>>,
        /// change → (who was a member when it was committed, the message it is about)
        change_audience: BTreeMap<ChangeSequence, (BTreeSet<u8>, Option<ServerSequence>)>,
    }

    impl Model {
        fn change(&mut self, about: Option<ServerSequence>, extra: Option<u8>) -> ChangeSequence {
            self.head = self.head.next();
            let mut audience = self.members.clone();
            audience.extend(extra);
            self.change_audience.insert(self.head, (audience, about));
            self.head
        }

        fn apply(&mut self, op: &Op) {
            match *op {
                Op::Add(u) if !self.members.contains(&u) => {
                    self.members.insert(u);
                    let adding = self.change(None, None);
                    self.windows
                        .entry(u)
                        .or_default()
                        .push(Window::open(self.newest, adding));
                    self.markers.insert(u, self.newest);
                }
                Op::Remove(u) if self.members.contains(&u) => {
                    let removing = self.change(None, None);
                    self.members.remove(&u);
                    let (newest, list) = (self.newest, self.windows.entry(u).or_default());
                    if let Some(w) = list.last_mut() {
                        *w = w.close(newest, removing);
                    }
                }
                Op::Send(u) if self.members.contains(&u) => {
                    self.newest = self.newest.next();
                    self.message_audience
                        .insert(self.newest, self.members.clone());
                    self.change(None, None);
                }
                Op::Read(u, s) if self.members.contains(&u) => {
                    let windows = Windows::new(self.windows[&u].clone());
                    let wanted = seq(u64::from(s)).min(self.newest);
                    let marker = windows.clamp_marker(wanted).max(self.markers[&u]);
                    self.markers.insert(u, marker);
                }
                Op::Edit(s) => {
                    let about = seq(u64::from(s));
                    if about >= seq(1) && about <= self.newest {
                        self.change(Some(about), None);
                    }
                }
                _ => {}
            }
        }
    }

    proptest! {
        #[test]
        fn no_sequence_of_changes_shows_a_user_anything_outside_their_windows(
            ops in proptest::collection::vec(op(), 0..80)
        ) {
            let mut model = Model::default();
            for op in &ops {
                model.apply(op);
            }
            for user in 0..6u8 {
                let windows = Windows::new(model.windows.get(&user).cloned().unwrap_or_default());
                prop_assert_eq!(windows.is_member(), model.members.contains(&user));
                for (s, audience) in &model.message_audience {
                    prop_assert_eq!(windows.sees_message(*s), audience.contains(&user), "message {}", s);
                }
                for (c, (audience, about)) in &model.change_audience {
                    let member_then = audience.contains(&user);
                    let want = member_then && about.is_none_or(|s| model.message_audience[&s].contains(&user));
                    prop_assert_eq!(windows.sees_change(*c, *about), want, "change {}", c);
                }
                if let Some(marker) = model.markers.get(&user) {
                    prop_assert!(
                        *marker == ServerSequence::ZERO
                            || windows.sees_message(*marker)
                            || windows.all().iter().any(|w| w.first_sequence == marker.next()),
                        "a marker never points into a gap: {}", marker
                    );
                }
                let head = windows.change_head(model.head);
                prop_assert!(head <= model.head);
                if !windows.is_member() && !windows.all().is_empty() {
                    prop_assert!(windows.sees_change(head, None), "a former member's head is theirs");
                }
            }
        }
    }
}
