//! The fake [`GroupRepository`]: groups, windows and the change log, in the [`FakeDb`] the
//! conversation and message fakes share.

use chat_domain::{
    change::{Change, ChangeBody, ChangeSequence, GroupEvent},
    conversation::{Conversation, ConversationKind, Created, Participant},
    error::RepoError,
    group::Role,
    ids::{ConversationId, UserId},
    membership::{Window, Windows},
    paging::PageLimit,
    ports::{
        ChangePage, ContextVersion, GroupApplied, GroupRepository, GroupState, MemberPage, NewGroup,
    },
    sequence::ServerSequence,
    time::Timestamp,
    user::User,
};
use uuid::Uuid;

use super::{FakeDb, db::DbState};

/// Groups, windows and change logs in a [`FakeDb`].
#[derive(Debug, Clone)]
pub struct FakeGroupRepository {
    db: FakeDb,
}

impl FakeGroupRepository {
    /// Over `db`.
    #[must_use]
    pub fn new(db: FakeDb) -> Self {
        Self { db }
    }
}

impl DbState {
    fn ensure_user(&mut self, id: UserId, now: Timestamp) {
        self.users.entry(id).or_insert(User {
            id,
            name: None,
            created_at: now,
        });
    }

    /// Change 1 of a new conversation (`created`, naming its first members) and their windows.
    pub(crate) fn record_creation(
        &mut self,
        id: ConversationId,
        created: GroupEvent,
        now: Timestamp,
    ) {
        let first = ChangeSequence::new(1);
        if let GroupEvent::Created { member_ids, .. } = &created {
            for member in member_ids {
                self.windows
                    .entry((id, *member))
                    .or_default()
                    .push(Window::open(ServerSequence::ZERO, first));
            }
        }
        self.changes.insert(
            (id, first),
            Change {
                conversation_id: id,
                sequence: first,
                at: now,
                body: ChangeBody::Group(created),
            },
        );
        self.change_heads.insert(id, first);
    }

    fn change_head(&self, id: ConversationId) -> ChangeSequence {
        self.change_heads.get(&id).copied().unwrap_or_default()
    }

    fn windows_of(&self, id: ConversationId, user: UserId) -> Windows {
        Windows::new(self.windows.get(&(id, user)).cloned().unwrap_or_default())
    }

    /// One event's effect, at change `seq`.
    fn apply_event(
        &mut self,
        id: ConversationId,
        event: &GroupEvent,
        seq: ChangeSequence,
        now: Timestamp,
    ) {
        let Some(conv) = self.conversations.get(&id) else {
            return;
        };
        let newest = conv.last_sequence;
        match event {
            GroupEvent::MembersAdded { user_ids, .. } => {
                for user in user_ids {
                    self.ensure_user(*user, now);
                    let fresh = Participant {
                        user_id: *user,
                        name: None,
                        role: Role::Member,
                        joined_at: now,
                        left_at: None,
                        last_read_sequence: newest,
                        last_read_at: None,
                    };
                    if let Some(conv) = self.conversations.get_mut(&id) {
                        match conv.participants.iter_mut().find(|p| p.user_id == *user) {
                            Some(p) => {
                                *p = Participant {
                                    last_read_at: p.last_read_at,
                                    ..fresh
                                };
                            }
                            None => conv.participants.push(fresh),
                        }
                    }
                    self.windows
                        .entry((id, *user))
                        .or_default()
                        .push(Window::open(newest, seq));
                }
            }
            GroupEvent::MemberRemoved { user_id, .. } => {
                if let Some(conv) = self.conversations.get_mut(&id)
                    && let Some(p) = conv
                        .participants
                        .iter_mut()
                        .find(|p| p.user_id == *user_id && p.is_active())
                {
                    p.left_at = Some(now);
                }
                if let Some(w) = self
                    .windows
                    .get_mut(&(id, *user_id))
                    .and_then(|ws| ws.iter_mut().find(|w| w.is_open()))
                {
                    *w = w.close(newest, seq);
                }
            }
            GroupEvent::RoleChanged { user_id, role, .. } => {
                if let Some(p) = self
                    .conversations
                    .get_mut(&id)
                    .and_then(|c| c.participants.iter_mut().find(|p| p.user_id == *user_id))
                {
                    p.role = *role;
                }
            }
            GroupEvent::Renamed { title, .. } => {
                if let Some(conv) = self.conversations.get_mut(&id) {
                    conv.title = Some(title.clone());
                }
            }
            GroupEvent::Created { .. } => {}
        }
    }
}

#[async_trait::async_trait]
impl GroupRepository for FakeGroupRepository {
    async fn insert_group(&self, group: NewGroup) -> Result<(Conversation, Created), RepoError> {
        let mut state = self.db.open()?;
        if let Some(request) = group.request_id
            && let Some(&existing) = state.group_requests.get(&(group.creator, request))
        {
            let conversation = state
                .conversation(existing)
                .ok_or_else(|| RepoError::internal("requested group vanished"))?;
            return Ok((conversation, Created::Existing));
        }
        if state.conversations.contains_key(&group.id) {
            return Err(RepoError::internal("the new group's id is taken"));
        }
        let mut everyone = vec![group.creator];
        everyone.extend(
            group
                .members
                .iter()
                .copied()
                .filter(|m| *m != group.creator),
        );
        let participants = everyone
            .iter()
            .map(|&user_id| {
                state.ensure_user(user_id, group.now);
                Participant {
                    user_id,
                    name: None,
                    role: if user_id == group.creator {
                        Role::Owner
                    } else {
                        Role::Member
                    },
                    joined_at: group.now,
                    left_at: None,
                    last_read_sequence: ServerSequence::ZERO,
                    last_read_at: None,
                }
            })
            .collect();
        state.conversations.insert(
            group.id,
            Conversation {
                id: group.id,
                kind: ConversationKind::Group,
                title: Some(group.title.clone()),
                created_at: group.now,
                last_sequence: ServerSequence::ZERO,
                participants,
            },
        );
        if let Some(request) = group.request_id {
            state
                .group_requests
                .insert((group.creator, request), group.id);
        }
        let created = GroupEvent::Created {
            kind: ConversationKind::Group,
            title: Some(group.title),
            created_by: Some(group.creator),
            member_ids: everyone,
        };
        state.record_creation(group.id, created, group.now);
        let conversation = state
            .conversation(group.id)
            .ok_or_else(|| RepoError::internal("new group vanished"))?;
        Ok((conversation, Created::New))
    }

    async fn find_group_by_request(
        &self,
        creator: UserId,
        request_id: Uuid,
    ) -> Result<Option<Conversation>, RepoError> {
        let state = self.db.open()?;
        Ok(state
            .group_requests
            .get(&(creator, request_id))
            .and_then(|&id| state.conversation(id)))
    }

    async fn fetch_group_state(&self, id: ConversationId) -> Result<Option<GroupState>, RepoError> {
        let state = self.db.open()?;
        Ok(state.conversation(id).map(|conversation| GroupState {
            conversation,
            version: state.context_version(id),
            last_change: state.change_head(id),
        }))
    }

    async fn apply_group_events(
        &self,
        id: ConversationId,
        expected: ContextVersion,
        events: Vec<GroupEvent>,
        now: Timestamp,
    ) -> Result<GroupApplied, RepoError> {
        let mut state = self.db.open()?;
        if events.is_empty() {
            return Ok(GroupApplied::Done(Vec::new()));
        }
        if events
            .iter()
            .any(|e| matches!(e, GroupEvent::Created { .. }))
        {
            return Err(RepoError::internal(
                "a conversation's creation is not applied to it",
            ));
        }
        if !state.conversations.contains_key(&id) || state.context_version(id) != expected {
            return Ok(GroupApplied::StaleContext);
        }
        let mut changes = Vec::with_capacity(events.len());
        let mut seq = state.change_head(id);
        for event in events {
            seq = seq.next();
            state.apply_event(id, &event, seq, now);
            let change = Change {
                conversation_id: id,
                sequence: seq,
                at: now,
                body: ChangeBody::Group(event),
            };
            state.changes.insert((id, seq), change.clone());
            changes.push(change);
        }
        state.change_heads.insert(id, seq);
        state.bump_context(id);
        let kind = state.conversations.get(&id).map(|c| c.kind);
        let empty = state
            .conversations
            .get(&id)
            .is_some_and(|c| c.active_participant_ids().next().is_none());
        if kind == Some(ConversationKind::Group) && empty {
            state.closed.insert(id);
        }
        Ok(GroupApplied::Done(changes))
    }

    async fn list_members(
        &self,
        id: ConversationId,
        limit: PageLimit,
        offset: u64,
    ) -> Result<MemberPage, RepoError> {
        let state = self.db.open()?;
        let Some(conversation) = state.conversation(id) else {
            return Ok(MemberPage {
                items: Vec::new(),
                total: 0,
            });
        };
        let mut members: Vec<Participant> = conversation
            .participants
            .into_iter()
            .filter(Participant::is_active)
            .collect();
        members.sort_by_key(|p| (p.role != Role::Owner, p.joined_at, p.user_id));
        let total = members.len() as u64;
        let items = members
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit.get() as usize)
            .collect();
        Ok(MemberPage { items, total })
    }

    async fn fetch_windows(&self, id: ConversationId, user: UserId) -> Result<Windows, RepoError> {
        Ok(self.db.open()?.windows_of(id, user))
    }

    async fn list_changes(
        &self,
        id: ConversationId,
        user: UserId,
        after: ChangeSequence,
        limit: PageLimit,
    ) -> Result<ChangePage, RepoError> {
        let state = self.db.open()?;
        let windows = state.windows_of(id, user);
        let from = (id, after.next());
        let to = (id, ChangeSequence::new(u64::MAX));
        let mut visible = state
            .changes
            .range(from..=to)
            .map(|(_, c)| c)
            .filter(|c| windows.sees_change(c.sequence, None))
            .map(|c| match &c.body {
                // Messages as stored now.
                ChangeBody::Message(m) => Change {
                    body: ChangeBody::Message(
                        state
                            .messages
                            .get(&(id, m.server_sequence))
                            .map_or_else(|| m.clone(), |now| state.named(now)),
                    ),
                    ..c.clone()
                },
                ChangeBody::Group(_) => c.clone(),
            });
        let wanted = limit.get() as usize;
        let items: Vec<Change> = visible.by_ref().take(wanted).collect();
        let has_more = visible.next().is_some();
        Ok(ChangePage {
            items,
            has_more,
            last_change: windows.change_head(state.change_head(id)),
        })
    }
}
