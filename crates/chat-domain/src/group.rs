//! Groups (contract section 7): roles, titles, and who may do what to whom, as pure rules.

use crate::{ids::UserId, time::Timestamp};

/// Longest group title, in characters.
pub const MAX_TITLE_CHARS: usize = 100;

/// The group settings (`CHAT_MAX_GROUP_MEMBERS`, `CHAT_GROUP_BROADCAST_MAX_MEMBERS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupPolicy {
    /// The largest group, owner included.
    pub max_members: usize,
    /// Above this size, presence and read receipts are not broadcast in the group.
    pub broadcast_max_members: usize,
}

impl Default for GroupPolicy {
    fn default() -> Self {
        Self {
            max_members: 1_000,
            broadcast_max_members: 50,
        }
    }
}

impl GroupPolicy {
    /// Whether a conversation of `members` members gets presence and read-receipt broadcasts.
    #[must_use]
    pub const fn broadcasts_to(&self, members: usize) -> bool {
        members <= self.broadcast_max_members
    }
}

/// A member's role. A group has exactly one owner; both sides of a one-to-one are members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Manages the group, admins included; hands ownership over.
    Owner,
    /// Manages members and the title.
    Admin,
    /// Sends and reads.
    Member,
}

impl Role {
    /// The wire and storage name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// The role named `raw`, if any.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Owner, Self::Admin, Self::Member]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }

    /// Whether this role manages members and the title.
    #[must_use]
    pub const fn manages(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

/// Why a title was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewTitleError {
    /// Empty after trimming.
    #[error("title is empty")]
    Empty,
    /// Longer than [`MAX_TITLE_CHARS`].
    #[error("title is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Contains a control character.
    #[error("title contains control characters")]
    ControlCharacter,
}

/// A group's title: trimmed, 1..=100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupTitle(String);

impl GroupTitle {
    /// Validates and trims a title.
    ///
    /// # Errors
    /// [`NewTitleError`] naming the broken rule.
    pub fn new(raw: &str) -> Result<Self, NewTitleError> {
        let title = raw.trim();
        if title.is_empty() {
            return Err(NewTitleError::Empty);
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(NewTitleError::TooLong {
                max: MAX_TITLE_CHARS,
            });
        }
        if title.chars().any(char::is_control) {
            return Err(NewTitleError::ControlCharacter);
        }
        Ok(Self(title.to_owned()))
    }

    /// The title.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a member asks to do in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupAction {
    /// Change the title.
    Rename,
    /// Add members.
    AddMembers,
    /// Remove a member (oneself: leave).
    Remove {
        /// Whom.
        target: UserId,
        /// The target's role, when the target is a current member.
        target_role: Option<Role>,
    },
    /// Set a member's role (`Owner`: hand ownership over).
    SetRole {
        /// Whom.
        target: UserId,
        /// To what.
        role: Role,
    },
}

/// Why a group action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GroupDenied {
    /// The actor's role does not allow it (`forbidden`).
    #[error("your role does not allow this")]
    Forbidden,
    /// The owner cannot demote themselves (`validation`): hand ownership over instead.
    #[error("the owner cannot change their own role; hand ownership over instead")]
    OwnerSelfDemotion,
}

/// The role rule (contract 7.1 and 7.4): owners and admins rename and add; anyone removes
/// themselves (leaves); owners and admins remove others, but an admin neither the owner nor
/// another admin (checked before whether the target is a member); only the owner sets roles,
/// and never their own.
///
/// # Errors
/// [`GroupDenied`].
pub fn ensure_may(actor: UserId, actor_role: Role, action: GroupAction) -> Result<(), GroupDenied> {
    match action {
        GroupAction::Rename | GroupAction::AddMembers => actor_role
            .manages()
            .then_some(())
            .ok_or(GroupDenied::Forbidden),
        GroupAction::Remove { target, .. } if target == actor => Ok(()),
        GroupAction::Remove { target_role, .. } => match (actor_role, target_role) {
            (Role::Owner, _) | (Role::Admin, Some(Role::Member) | None) => Ok(()),
            _ => Err(GroupDenied::Forbidden),
        },
        GroupAction::SetRole { target, .. } => match actor_role {
            Role::Owner if target == actor => Err(GroupDenied::OwnerSelfDemotion),
            Role::Owner => Ok(()),
            _ => Err(GroupDenied::Forbidden),
        },
    }
}

/// A current member, as succession sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Who.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
    /// When their current membership began.
    pub joined_at: Timestamp,
}

/// Who becomes owner when the owner `leaving` goes: the longest-standing admin, else the
/// longest-standing member (earliest `joined_at` of the current membership; the smaller id on a
/// tie). `None`: nobody is left and the group closes.
#[must_use]
pub fn successor(members: &[Standing], leaving: UserId) -> Option<UserId> {
    let longest = |role: Role| {
        members
            .iter()
            .filter(|m| m.user_id != leaving && m.role == role)
            .min_by_key(|m| (m.joined_at, m.user_id))
            .map(|m| m.user_id)
    };
    longest(Role::Admin).or_else(|| longest(Role::Member))
}

/// A group would grow past its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a group has at most {max} members (it would have {would_have})")]
pub struct TooManyMembers {
    /// `CHAT_MAX_GROUP_MEMBERS`.
    pub max: usize,
    /// Members after the change.
    pub would_have: usize,
}

/// The size rule: `current + adding` members, owner included, within `max`.
///
/// # Errors
/// [`TooManyMembers`].
pub const fn ensure_size(current: usize, adding: usize, max: usize) -> Result<(), TooManyMembers> {
    let would_have = current.saturating_add(adding);
    if would_have > max {
        return Err(TooManyMembers { max, would_have });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn u(n: u128) -> UserId {
        UserId::new(Uuid::from_u128(n))
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(GroupTitle::new("  Trip  ").unwrap().as_str(), "Trip");
        assert_eq!(GroupTitle::new("   "), Err(NewTitleError::Empty));
        assert_eq!(
            GroupTitle::new(&"x".repeat(101)),
            Err(NewTitleError::TooLong { max: 100 })
        );
        assert!(GroupTitle::new(&"é".repeat(100)).is_ok());
        assert_eq!(
            GroupTitle::new("a\u{7}b"),
            Err(NewTitleError::ControlCharacter)
        );
    }

    #[test]
    fn who_may_do_what_as_a_table() {
        use GroupAction::{AddMembers, Remove, Rename, SetRole};
        use Role::{Admin, Member, Owner};
        let (me, other) = (u(1), u(2));
        let remove = |target, target_role| Remove {
            target,
            target_role,
        };
        let cases: &[(Role, GroupAction, Result<(), GroupDenied>)] = &[
            (Owner, Rename, Ok(())),
            (Admin, Rename, Ok(())),
            (Member, Rename, Err(GroupDenied::Forbidden)),
            (Owner, AddMembers, Ok(())),
            (Admin, AddMembers, Ok(())),
            (Member, AddMembers, Err(GroupDenied::Forbidden)),
            (Member, remove(me, Some(Member)), Ok(())),
            (Owner, remove(me, Some(Owner)), Ok(())),
            (
                Member,
                remove(other, Some(Member)),
                Err(GroupDenied::Forbidden),
            ),
            (Admin, remove(other, Some(Member)), Ok(())),
            (
                Admin,
                remove(other, Some(Admin)),
                Err(GroupDenied::Forbidden),
            ),
            (
                Admin,
                remove(other, Some(Owner)),
                Err(GroupDenied::Forbidden),
            ),
            (Admin, remove(other, None), Ok(())),
            (Member, remove(other, None), Err(GroupDenied::Forbidden)),
            (Owner, remove(other, Some(Admin)), Ok(())),
            (
                Owner,
                SetRole {
                    target: other,
                    role: Admin,
                },
                Ok(()),
            ),
            (
                Owner,
                SetRole {
                    target: other,
                    role: Owner,
                },
                Ok(()),
            ),
            (
                Owner,
                SetRole {
                    target: me,
                    role: Admin,
                },
                Err(GroupDenied::OwnerSelfDemotion),
            ),
            (
                Admin,
                SetRole {
                    target: other,
                    role: Admin,
                },
                Err(GroupDenied::Forbidden),
            ),
            (
                Member,
                SetRole {
                    target: me,
                    role: Admin,
                },
                Err(GroupDenied::Forbidden),
            ),
        ];
        for (role, action, want) in cases {
            assert_eq!(ensure_may(me, *role, *action), *want, "{role:?} {action:?}");
        }
    }

    #[test]
    fn the_longest_standing_admin_then_member_succeeds() {
        let at = Timestamp::from_millis;
        let m = |n, role, t| Standing {
            user_id: u(n),
            role,
            joined_at: at(t),
        };
        let owner = m(1, Role::Owner, 0);
        let members = [
            owner,
            m(2, Role::Member, 5),
            m(3, Role::Admin, 9),
            m(4, Role::Admin, 7),
        ];
        assert_eq!(successor(&members, u(1)), Some(u(4)));
        let no_admins = [owner, m(2, Role::Member, 5), m(3, Role::Member, 3)];
        assert_eq!(successor(&no_admins, u(1)), Some(u(3)));
        let tie = [owner, m(6, Role::Member, 3), m(5, Role::Member, 3)];
        assert_eq!(successor(&tie, u(1)), Some(u(5)));
        assert_eq!(successor(&[owner], u(1)), None);
    }

    #[test]
    fn groups_stay_within_their_size() {
        assert!(ensure_size(998, 2, 1_000).is_ok());
        assert_eq!(
            ensure_size(999, 2, 1_000),
            Err(TooManyMembers {
                max: 1_000,
                would_have: 1_001
            })
        );
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in [Role::Owner, Role::Admin, Role::Member] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("moderator"), None);
    }
}
