//! Groups (contract section 7) and the change log (section 9): create, read, rename, add,
//! remove, leave, roles and hand-over, the member list, and the changes a member may see.
//!
//! Every membership change runs the pure rules of [`crate::group`] on the group as read at one
//! version, then asks the store to commit the resulting events only if the group is still at
//! that version (as sends do): two admins racing can neither pass the size limit nor leave two
//! owners. Rooms follow before the answer: added members' sockets join the conversation's room
//! on every node, removed members' sockets leave it.

use std::sync::Arc;

use uuid::Uuid;

use super::{Policies, RateLimited, SendContextCache, check_rate, publish};
use crate::{
    block::Block,
    change::{Change, ChangeBody, ChangeSequence, GroupEvent},
    conversation::{Conversation, ConversationKind, Created, Participant},
    error::RepoError,
    events::{Audience, ServerEvent},
    group::{
        GroupAction, GroupDenied, GroupTitle, NewTitleError, Role, Standing, TooManyMembers,
        ensure_may, ensure_size, successor,
    },
    ids::{ConversationId, UserId},
    paging::PageLimit,
    ports::{
        BlockRepository, ChangePage, Clock, EventPublisher, GroupApplied, GroupRepository,
        GroupState, IdGenerator, NewGroup, PresenceStore, RateLimiter,
    },
    presence::PresenceStatus,
    rate_limit::RateLimitedAction,
};

/// Why a group operation failed. Nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// The caller is not a member (or no such conversation; for reads: never was one).
    #[error("not a participant of this conversation")]
    NotParticipant,
    /// The caller's role does not allow it.
    #[error("your role does not allow this")]
    Forbidden,
    /// The target is not a member.
    #[error("no such member")]
    NotFound,
    /// A group operation on a one-to-one conversation.
    #[error("this conversation is not a group")]
    NotAGroup,
    /// A bad title.
    #[error(transparent)]
    Title(#[from] NewTitleError),
    /// The group would grow past its limit.
    #[error(transparent)]
    TooManyMembers(#[from] TooManyMembers),
    /// The owner tried to change their own role.
    #[error("the owner cannot change their own role; hand ownership over instead")]
    OwnerSelfDemotion,
    /// Over the group administration quota.
    #[error("rate limit exceeded")]
    RateLimited(RateLimited),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl From<GroupDenied> for GroupError {
    fn from(denied: GroupDenied) -> Self {
        match denied {
            GroupDenied::Forbidden => Self::Forbidden,
            GroupDenied::OwnerSelfDemotion => Self::OwnerSelfDemotion,
        }
    }
}

/// A group to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateGroup {
    /// Who creates it (its owner).
    pub creator: UserId,
    /// Its title, as sent (the service validates it).
    pub title: String,
    /// The other members (the creator and repeats are left out).
    pub member_ids: Vec<UserId>,
    /// The creator's idempotency key: the same one returns the first group.
    pub request_id: Option<Uuid>,
}

/// The result of adding members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembersAdded {
    /// Who was added, in the order asked.
    pub added: Vec<UserId>,
    /// Who already was a member.
    pub already_members: Vec<UserId>,
}

/// A member with their presence, as the member list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    /// The member (name, role, `joined_at`).
    pub member: Participant,
    /// Their presence (at any group size; offline where a block stands).
    pub presence: PresenceStatus,
}

/// A page of the member list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberList {
    /// Owner first, then by `joined_at`.
    pub items: Vec<MemberView>,
    /// How many members the conversation has.
    pub total: u64,
}

/// How many times an operation re-reads a group that changed under it before giving up.
const MAX_STALE_RETRIES: usize = 4;

/// Whether an operation counts toward `CHAT_RATE_LIMIT_GROUP_ADMIN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quota {
    Counts,
    /// Leaving never counts.
    Free,
}

/// Groups and the change log.
pub struct GroupService {
    groups: Arc<dyn GroupRepository>,
    blocks: Arc<dyn BlockRepository>,
    presence: Arc<dyn PresenceStore>,
    rate_limiter: Arc<dyn RateLimiter>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    policies: Policies,
    cache: Arc<SendContextCache>,
}

impl std::fmt::Debug for GroupService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupService")
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

/// The current members as the rules see them.
fn standings(conversation: &Conversation) -> Vec<Standing> {
    conversation
        .participants
        .iter()
        .filter(|p| p.is_active())
        .map(|p| Standing {
            user_id: p.user_id,
            role: p.role,
            joined_at: p.joined_at,
        })
        .collect()
}

/// `user`'s role, while a member.
fn role_of(conversation: &Conversation, user: UserId) -> Option<Role> {
    conversation
        .participant(user)
        .filter(|p| p.is_active())
        .map(|p| p.role)
}

/// The first committed change matching `event`.
fn change_where(changes: &[Change], event: impl Fn(&GroupEvent) -> bool) -> Option<&Change> {
    changes
        .iter()
        .find(|c| matches!(&c.body, ChangeBody::Group(e) if event(e)))
}

impl GroupService {
    /// A group service over these ports. Membership changes invalidate the conversation in
    /// `cache` (the one [`super::MessagingService`] reads).
    #[must_use]
    #[expect(
        clippy::too_many_arguments,
        reason = "a service names each port it uses; each has its own type, none can be swapped"
    )]
    pub fn new(
        groups: Arc<dyn GroupRepository>,
        blocks: Arc<dyn BlockRepository>,
        presence: Arc<dyn PresenceStore>,
        rate_limiter: Arc<dyn RateLimiter>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        policies: Policies,
        cache: Arc<SendContextCache>,
    ) -> Self {
        Self {
            groups,
            blocks,
            presence,
            rate_limiter,
            publisher,
            clock,
            ids,
            policies,
            cache,
        }
    }

    async fn count(&self, actor: UserId) -> Result<(), GroupError> {
        check_rate(
            &*self.rate_limiter,
            &self.policies.rate,
            actor,
            RateLimitedAction::GroupAdmin,
            self.clock.now(),
        )
        .await?
        .map_err(GroupError::RateLimited)
    }

    /// The conversation as it is now; `actor` must be a current member (checked first: a
    /// missing conversation and someone else's answer alike), and it must be a group.
    async fn group(&self, id: ConversationId, actor: UserId) -> Result<GroupState, GroupError> {
        let state = self
            .groups
            .fetch_group_state(id)
            .await?
            .ok_or(GroupError::NotParticipant)?;
        if role_of(&state.conversation, actor).is_none() {
            return Err(GroupError::NotParticipant);
        }
        if state.conversation.kind != ConversationKind::Group {
            return Err(GroupError::NotAGroup);
        }
        Ok(state)
    }

    /// Reads the group, lets `plan` decide the events (or refuse), counts the quota once, and
    /// commits the events at the version read, re-reading a few times when the group moved
    /// meanwhile. No events: nothing is counted, committed or announced.
    async fn change<F>(
        &self,
        id: ConversationId,
        actor: UserId,
        quota: Quota,
        plan: F,
    ) -> Result<(GroupState, Vec<Change>), GroupError>
    where
        F: Fn(&GroupState) -> Result<Vec<GroupEvent>, GroupError> + Send + Sync,
    {
        let mut counted = quota == Quota::Free;
        for _ in 0..MAX_STALE_RETRIES {
            let state = self.group(id, actor).await?;
            let events = plan(&state)?;
            if events.is_empty() {
                return Ok((state, Vec::new()));
            }
            if !counted {
                self.count(actor).await?;
                counted = true;
            }
            let now = self.clock.now();
            match self
                .groups
                .apply_group_events(id, state.version, events, now)
                .await?
            {
                GroupApplied::Done(changes) => {
                    self.cache.invalidate(id);
                    return Ok((state, changes));
                }
                GroupApplied::StaleContext => {}
            }
        }
        Err(GroupError::Repo(RepoError::unavailable(
            "the group kept changing during the operation",
        )))
    }

    /// The conversation as it is now.
    async fn current(&self, id: ConversationId) -> Result<Conversation, GroupError> {
        Ok(self
            .groups
            .fetch_group_state(id)
            .await?
            .ok_or(GroupError::NotParticipant)?
            .conversation)
    }

    async fn join(&self, user: UserId, conversation: ConversationId) {
        if let Err(error) = self.publisher.join_conversation(user, conversation).await {
            tracing::warn!(error = %error, user.id = %user, "joining a member's sockets failed");
        }
    }

    async fn leave(&self, user: UserId, conversation: ConversationId) {
        if let Err(error) = self.publisher.leave_conversation(user, conversation).await {
            tracing::warn!(error = %error, user.id = %user, "removing a member's sockets failed");
        }
    }

    /// `change` to the room.
    async fn announce(&self, change: &Change) {
        let event = ServerEvent::GroupChanged(change.clone());
        publish(
            &*self.publisher,
            Audience::Conversation(change.conversation_id),
            event,
        )
        .await;
    }

    /// `conversation:joined` to `user`.
    async fn welcome(&self, user: UserId, conversation: &Conversation, change: ChangeSequence) {
        let event = ServerEvent::ConversationJoined {
            conversation: conversation.clone(),
            change,
        };
        publish(&*self.publisher, Audience::User(user), event).await;
    }

    /// Creates a group with `cmd.creator` as owner (section 7.1). The same `request_id` from the
    /// same creator returns the first group (`Created::Existing`) and counts nothing. Every
    /// first member, the creator too, gets `conversation:joined` once their sockets joined the
    /// room.
    ///
    /// # Errors
    /// [`GroupError`]: a bad title, too many members, the quota, storage.
    #[tracing::instrument(skip_all, fields(user.id = %cmd.creator))]
    pub async fn create(&self, cmd: CreateGroup) -> Result<(Conversation, Created), GroupError> {
        if let Some(request) = cmd.request_id
            && let Some(existing) = self
                .groups
                .find_group_by_request(cmd.creator, request)
                .await?
        {
            return Ok((existing, Created::Existing));
        }
        let title = GroupTitle::new(&cmd.title)?;
        let mut members: Vec<UserId> = Vec::with_capacity(cmd.member_ids.len());
        for m in cmd.member_ids {
            if m != cmd.creator && !members.contains(&m) {
                members.push(m);
            }
        }
        ensure_size(1, members.len(), self.policies.groups.max_members)?;
        self.count(cmd.creator).await?;
        let (conversation, created) = self
            .groups
            .insert_group(NewGroup {
                id: ConversationId::new(self.ids.new_uuid()),
                creator: cmd.creator,
                title,
                members,
                request_id: cmd.request_id,
                now: self.clock.now(),
            })
            .await?;
        if created == Created::New {
            let first: Vec<UserId> = conversation.active_participant_ids().collect();
            for member in first {
                self.join(member, conversation.id).await;
                self.welcome(member, &conversation, ChangeSequence::new(1))
                    .await;
            }
        }
        Ok((conversation, created))
    }

    /// The conversation, of either kind, for a member or a former member.
    ///
    /// # Errors
    /// `NotParticipant` for anyone who never was a member, an unknown id included.
    pub async fn get(&self, user: UserId, id: ConversationId) -> Result<Conversation, GroupError> {
        let state = self
            .groups
            .fetch_group_state(id)
            .await?
            .ok_or(GroupError::NotParticipant)?;
        if state.conversation.participant(user).is_none() {
            return Err(GroupError::NotParticipant);
        }
        Ok(state.conversation)
    }

    /// Renames a group (owner, admin); `conversation:updated` to its room. The current title
    /// again changes nothing.
    ///
    /// # Errors
    /// [`GroupError`].
    #[tracing::instrument(skip_all, fields(user.id = %actor, conversation.id = %id))]
    pub async fn rename(
        &self,
        actor: UserId,
        id: ConversationId,
        title: &str,
    ) -> Result<Conversation, GroupError> {
        let title = GroupTitle::new(title)?;
        let (_, changes) = self
            .change(id, actor, Quota::Counts, |state| {
                let role = role_of(&state.conversation, actor).ok_or(GroupError::NotParticipant)?;
                ensure_may(actor, role, GroupAction::Rename)?;
                if state.conversation.title.as_ref() == Some(&title) {
                    return Ok(Vec::new());
                }
                Ok(vec![GroupEvent::Renamed {
                    title: title.clone(),
                    by: actor,
                }])
            })
            .await?;
        for change in &changes {
            self.announce(change).await;
        }
        self.current(id).await
    }

    /// Adds members (owner, admin): those already in are reported, not added; over the size
    /// limit nobody is added. The added members' sockets join the room, `member:added` goes to
    /// the room and `conversation:joined` to each added member.
    ///
    /// # Errors
    /// [`GroupError`].
    #[tracing::instrument(skip_all, fields(user.id = %actor, conversation.id = %id))]
    pub async fn add_members(
        &self,
        actor: UserId,
        id: ConversationId,
        user_ids: Vec<UserId>,
    ) -> Result<MembersAdded, GroupError> {
        let max = self.policies.groups.max_members;
        let split = |state: &GroupState| {
            let mut added: Vec<UserId> = Vec::new();
            let mut already: Vec<UserId> = Vec::new();
            for u in &user_ids {
                if role_of(&state.conversation, *u).is_some() {
                    if !already.contains(u) {
                        already.push(*u);
                    }
                } else if !added.contains(u) {
                    added.push(*u);
                }
            }
            (added, already)
        };
        let (state, changes) = self
            .change(id, actor, Quota::Counts, |state| {
                let role = role_of(&state.conversation, actor).ok_or(GroupError::NotParticipant)?;
                ensure_may(actor, role, GroupAction::AddMembers)?;
                let (added, _) = split(state);
                ensure_size(standings(&state.conversation).len(), added.len(), max)?;
                if added.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(vec![GroupEvent::MembersAdded {
                    user_ids: added,
                    by: actor,
                }])
            })
            .await?;
        let (added, already_members) = split(&state);
        if let Some(change) =
            change_where(&changes, |e| matches!(e, GroupEvent::MembersAdded { .. }))
        {
            for user in &added {
                self.join(*user, id).await;
            }
            self.announce(change).await;
            let conversation = self.current(id).await?;
            for user in &added {
                self.welcome(*user, &conversation, change.sequence).await;
            }
        }
        Ok(MembersAdded {
            added,
            already_members,
        })
    }

    /// Removes `target` (owner, admin; anyone themselves: leaving, which counts nothing). An
    /// admin removes neither the owner nor another admin; the role check comes before whether
    /// the target is a member. `member:removed` goes to the room, the target's sockets leave
    /// it and get `conversation:left`; when the owner goes, the longest-standing admin (else
    /// member) becomes owner (`member:role_changed`, `changedBy` the one who left); when the
    /// last member goes, the group closes for good.
    ///
    /// # Errors
    /// [`GroupError`]: `NotFound` when the target is not a member.
    #[tracing::instrument(skip_all, fields(user.id = %actor, conversation.id = %id))]
    pub async fn remove_member(
        &self,
        actor: UserId,
        id: ConversationId,
        target: UserId,
    ) -> Result<(), GroupError> {
        let quota = if actor == target {
            Quota::Free
        } else {
            Quota::Counts
        };
        let (_, changes) = self
            .change(id, actor, quota, |state| {
                let conversation = &state.conversation;
                let role = role_of(conversation, actor).ok_or(GroupError::NotParticipant)?;
                let target_role = role_of(conversation, target);
                ensure_may(
                    actor,
                    role,
                    GroupAction::Remove {
                        target,
                        target_role,
                    },
                )?;
                let target_role = target_role.ok_or(GroupError::NotFound)?;
                let mut events = vec![GroupEvent::MemberRemoved {
                    user_id: target,
                    by: actor,
                }];
                if target_role == Role::Owner
                    && let Some(next) = successor(&standings(conversation), target)
                {
                    events.push(GroupEvent::RoleChanged {
                        user_id: next,
                        role: Role::Owner,
                        by: target,
                    });
                }
                Ok(events)
            })
            .await?;
        for change in &changes {
            self.announce(change).await;
            if let ChangeBody::Group(GroupEvent::MemberRemoved { user_id, by }) = &change.body {
                self.leave(*user_id, id).await;
                let left = ServerEvent::ConversationLeft {
                    conversation_id: id,
                    removed_by: *by,
                    change: change.sequence,
                };
                publish(&*self.publisher, Audience::User(*user_id), left).await;
            }
        }
        Ok(())
    }

    /// Sets `target`'s role (the owner only): `admin` or `member`; `owner` hands ownership over
    /// (the old owner becomes admin: two `member:role_changed`, the new owner first). The
    /// current role again changes nothing and emits nothing.
    ///
    /// # Errors
    /// [`GroupError`]: `OwnerSelfDemotion`, `NotFound` when the target is not a member.
    #[tracing::instrument(skip_all, fields(user.id = %actor, conversation.id = %id))]
    pub async fn set_role(
        &self,
        actor: UserId,
        id: ConversationId,
        target: UserId,
        role: Role,
    ) -> Result<Conversation, GroupError> {
        let (_, changes) = self
            .change(id, actor, Quota::Counts, |state| {
                let conversation = &state.conversation;
                let actor_role = role_of(conversation, actor).ok_or(GroupError::NotParticipant)?;
                ensure_may(actor, actor_role, GroupAction::SetRole { target, role })?;
                let current = role_of(conversation, target).ok_or(GroupError::NotFound)?;
                if current == role {
                    return Ok(Vec::new());
                }
                let mut events = vec![GroupEvent::RoleChanged {
                    user_id: target,
                    role,
                    by: actor,
                }];
                if role == Role::Owner {
                    events.push(GroupEvent::RoleChanged {
                        user_id: actor,
                        role: Role::Admin,
                        by: actor,
                    });
                }
                Ok(events)
            })
            .await?;
        for change in &changes {
            self.announce(change).await;
        }
        self.current(id).await
    }

    /// A page of the current members, owner first, then by `joined_at`, with presence (at any
    /// size; offline where a block stands in a one-to-one). For members of either kind.
    ///
    /// # Errors
    /// `NotParticipant` unless `user` is a current member.
    pub async fn members(
        &self,
        user: UserId,
        id: ConversationId,
        limit: PageLimit,
        offset: u64,
    ) -> Result<MemberList, GroupError> {
        let state = self
            .groups
            .fetch_group_state(id)
            .await?
            .ok_or(GroupError::NotParticipant)?;
        if role_of(&state.conversation, user).is_none() {
            return Err(GroupError::NotParticipant);
        }
        let page = self.groups.list_members(id, limit, offset).await?;
        let users: Vec<UserId> = page.items.iter().map(|p| p.user_id).collect();
        let presence = if users.is_empty() {
            Default::default()
        } else {
            self.presence.fetch_presence(users).await?
        };
        let blocks: Vec<Block> = if state.conversation.kind == ConversationKind::OneToOne {
            self.blocks.list_conversation_blocks(id).await?
        } else {
            Vec::new()
        };
        let items = page
            .items
            .into_iter()
            .map(|member| {
                let hidden = member.user_id != user && !blocks.is_empty();
                let status = presence
                    .get(&member.user_id)
                    .copied()
                    .unwrap_or(PresenceStatus::Offline);
                MemberView {
                    presence: if hidden {
                        PresenceStatus::Offline
                    } else {
                        status
                    },
                    member,
                }
            })
            .collect();
        Ok(MemberList {
            items,
            total: page.total,
        })
    }

    /// Up to `limit` changes after `after` that `user` may see (section 9), for a member or a
    /// former member.
    ///
    /// # Errors
    /// `NotParticipant` for anyone who never was a member, an unknown id included.
    pub async fn changes(
        &self,
        user: UserId,
        id: ConversationId,
        after: ChangeSequence,
        limit: PageLimit,
    ) -> Result<ChangePage, GroupError> {
        if self.groups.fetch_windows(id, user).await?.all().is_empty() {
            return Err(GroupError::NotParticipant);
        }
        Ok(self.groups.list_changes(id, user, after, limit).await?)
    }
}
