//! The JSON text a membership or title change keeps in `conversation_changes.data`: the
//! domain's `GroupEvent`, tagged by `type`. Migration m20261202_000010 writes the `created`
//! shape for the conversations that existed before it; keep the two in step.

use chat_domain::{
    ConversationKind, RepoError, UserId,
    change::GroupEvent,
    group::{GroupTitle, Role},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Stored {
    Created {
        kind: String,
        title: Option<String>,
        created_by: Option<Uuid>,
        member_ids: Vec<Uuid>,
    },
    Renamed {
        title: String,
        by: Uuid,
    },
    MembersAdded {
        user_ids: Vec<Uuid>,
        by: Uuid,
    },
    MemberRemoved {
        user_id: Uuid,
        by: Uuid,
    },
    RoleChanged {
        user_id: Uuid,
        role: String,
        by: Uuid,
    },
}

fn ids(users: &[UserId]) -> Vec<Uuid> {
    users.iter().map(|u| u.get()).collect()
}

fn users(ids: Vec<Uuid>) -> Vec<UserId> {
    ids.into_iter().map(UserId::new).collect()
}

/// The stored text of `event`.
pub(crate) fn encode(event: &GroupEvent) -> Result<String, RepoError> {
    let stored = match event {
        GroupEvent::Created {
            kind,
            title,
            created_by,
            member_ids,
        } => Stored::Created {
            kind: kind.as_str().to_owned(),
            title: title.as_ref().map(|t| t.as_str().to_owned()),
            created_by: created_by.map(UserId::get),
            member_ids: ids(member_ids),
        },
        GroupEvent::Renamed { title, by } => Stored::Renamed {
            title: title.as_str().to_owned(),
            by: by.get(),
        },
        GroupEvent::MembersAdded { user_ids, by } => Stored::MembersAdded {
            user_ids: ids(user_ids),
            by: by.get(),
        },
        GroupEvent::MemberRemoved { user_id, by } => Stored::MemberRemoved {
            user_id: user_id.get(),
            by: by.get(),
        },
        GroupEvent::RoleChanged { user_id, role, by } => Stored::RoleChanged {
            user_id: user_id.get(),
            role: role.as_str().to_owned(),
            by: by.get(),
        },
    };
    serde_json::to_string(&stored).map_err(RepoError::internal)
}

fn corrupt() -> RepoError {
    RepoError::internal("stored change is invalid")
}

fn title(raw: &str) -> Result<GroupTitle, RepoError> {
    GroupTitle::new(raw).map_err(|_| corrupt())
}

/// The event stored as `text`.
pub(crate) fn decode(text: &str) -> Result<GroupEvent, RepoError> {
    let stored: Stored = serde_json::from_str(text).map_err(|_| corrupt())?;
    Ok(match stored {
        Stored::Created {
            kind,
            title: t,
            created_by,
            member_ids,
        } => GroupEvent::Created {
            kind: ConversationKind::parse(&kind).ok_or_else(corrupt)?,
            title: t.as_deref().map(title).transpose()?,
            created_by: created_by.map(UserId::new),
            member_ids: users(member_ids),
        },
        Stored::Renamed { title: t, by } => GroupEvent::Renamed {
            title: title(&t)?,
            by: UserId::new(by),
        },
        Stored::MembersAdded { user_ids, by } => GroupEvent::MembersAdded {
            user_ids: users(user_ids),
            by: UserId::new(by),
        },
        Stored::MemberRemoved { user_id, by } => GroupEvent::MemberRemoved {
            user_id: UserId::new(user_id),
            by: UserId::new(by),
        },
        Stored::RoleChanged { user_id, role, by } => GroupEvent::RoleChanged {
            user_id: UserId::new(user_id),
            role: Role::parse(&role).ok_or_else(corrupt)?,
            by: UserId::new(by),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips_and_the_migrations_created_shape_decodes() {
        let (a, b) = (
            UserId::new(Uuid::from_u128(1)),
            UserId::new(Uuid::from_u128(2)),
        );
        let events = [
            GroupEvent::Created {
                kind: ConversationKind::Group,
                title: GroupTitle::new("Trip").ok(),
                created_by: Some(a),
                member_ids: vec![a, b],
            },
            GroupEvent::Renamed {
                title: GroupTitle::new("Trip 2").unwrap(),
                by: a,
            },
            GroupEvent::MembersAdded {
                user_ids: vec![b],
                by: a,
            },
            GroupEvent::MemberRemoved { user_id: b, by: b },
            GroupEvent::RoleChanged {
                user_id: b,
                role: Role::Admin,
                by: a,
            },
        ];
        for event in events {
            assert_eq!(decode(&encode(&event).unwrap()).unwrap(), event);
        }
        let migrated = r#"{"type":"created","kind":"one_to_one","title":null,"created_by":null,
            "member_ids":["00000000-0000-0000-0000-000000000001"]}"#;
        assert_eq!(
            decode(migrated).unwrap(),
            GroupEvent::Created {
                kind: ConversationKind::OneToOne,
                title: None,
                created_by: None,
                member_ids: vec![a],
            }
        );
        assert!(decode(r#"{"type":"typing"}"#).is_err());
    }
}
