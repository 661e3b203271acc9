//! Committing membership and title events, conditioned on the context version.
//!
//! One write transaction: an `UPDATE` of the conversation's row checks the version, moves it,
//! and takes the events' change sequences (`last_change_sequence + n`) under the row's lock;
//! then each event writes its change and its effect. When the version moved, the `UPDATE`
//! matches nothing and nothing else runs.

use chat_domain::{
    ConversationId, RepoError, Timestamp,
    change::{Change, ChangeBody, GroupEvent},
    ports::{ContextVersion, GroupApplied},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, Value};

use super::event_json;
use crate::{
    error::repo_err,
    mapping,
    sql::{begin_write, finish, retry_busy, stmt},
    users,
};

#[derive(Debug, FromQueryResult)]
struct Moved {
    last_change_sequence: i64,
    last_sequence: i64,
}

/// An event with what it binds, prepared before the transaction.
struct Planned {
    event: GroupEvent,
    data: String,
}

/// The events' effects, in order, at change sequences from `first`.
async fn write<C: ConnectionTrait>(
    txn: &C,
    id: ConversationId,
    planned: &[Planned],
    first: i64,
    newest_message: i64,
    now: &Value,
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let conv: Value = id.get().into();
    let mut removed = false;
    for (seq, p) in (first..).zip(planned) {
        let change = "INSERT INTO conversation_changes (conversation_id, change_sequence, kind, \
                      at, message_id, data) VALUES (?, ?, ?, ?, NULL, ?)";
        let values = vec![
            conv.clone(),
            seq.into(),
            p.event.kind().as_str().into(),
            now.clone(),
            p.data.as_str().into(),
        ];
        txn.execute_raw(stmt(backend, change, values)).await?;
        match &p.event {
            GroupEvent::MembersAdded { user_ids, .. } if !user_ids.is_empty() => {
                let users_sql = users::insert_unnamed(user_ids.len());
                // In id order, as every insert of users: two transactions inserting the same
                // new users never wait on each other in a cycle (PostgreSQL).
                let mut sorted = user_ids.clone();
                sorted.sort_unstable();
                let values = sorted
                    .iter()
                    .flat_map(|u| [u.get().into(), now.clone()])
                    .collect();
                txn.execute_raw(stmt(backend, &users_sql, values)).await?;
                // Re-activated (or new) with role member, joined now, having read everything
                // committed before them.
                let rows = vec!["(?, ?, ?, ?, 0, 'member')"; user_ids.len()].join(", ");
                let upsert = format!(
                    "INSERT INTO participants (conversation_id, user_id, joined_at, \
                     last_read_sequence, unread_count, role) VALUES {rows} \
                     ON CONFLICT (conversation_id, user_id) DO UPDATE SET \
                     joined_at = excluded.joined_at, left_at = NULL, \
                     last_read_sequence = excluded.last_read_sequence, unread_count = 0, \
                     role = excluded.role"
                );
                let values = user_ids
                    .iter()
                    .flat_map(|u| {
                        [
                            conv.clone(),
                            u.get().into(),
                            now.clone(),
                            newest_message.into(),
                        ]
                    })
                    .collect();
                txn.execute_raw(stmt(backend, &upsert, values)).await?;
                let rows = vec!["(?, ?, ?, NULL, ?, NULL)"; user_ids.len()].join(", ");
                let open = format!(
                    "INSERT INTO memberships (conversation_id, user_id, from_change, \
                     until_change, from_sequence, until_sequence) VALUES {rows}"
                );
                let values = user_ids
                    .iter()
                    .flat_map(|u| {
                        [
                            conv.clone(),
                            u.get().into(),
                            seq.into(),
                            (newest_message + 1).into(),
                        ]
                    })
                    .collect();
                txn.execute_raw(stmt(backend, &open, values)).await?;
            }
            GroupEvent::MemberRemoved { user_id, .. } => {
                removed = true;
                let leave = "UPDATE participants SET left_at = ? \
                             WHERE conversation_id = ? AND user_id = ? AND left_at IS NULL";
                let values = vec![now.clone(), conv.clone(), user_id.get().into()];
                txn.execute_raw(stmt(backend, leave, values)).await?;
                let close = "UPDATE memberships SET until_change = ?, until_sequence = ? \
                             WHERE conversation_id = ? AND user_id = ? AND until_change IS NULL";
                let values = vec![
                    seq.into(),
                    newest_message.into(),
                    conv.clone(),
                    user_id.get().into(),
                ];
                txn.execute_raw(stmt(backend, close, values)).await?;
            }
            GroupEvent::RoleChanged { user_id, role, .. } => {
                let set = "UPDATE participants SET role = ? \
                           WHERE conversation_id = ? AND user_id = ?";
                let values = vec![role.as_str().into(), conv.clone(), user_id.get().into()];
                txn.execute_raw(stmt(backend, set, values)).await?;
            }
            GroupEvent::Renamed { title, .. } => {
                let set = "UPDATE conversations SET title = ? WHERE id = ?";
                let values = vec![title.as_str().into(), conv.clone()];
                txn.execute_raw(stmt(backend, set, values)).await?;
            }
            GroupEvent::MembersAdded { .. } | GroupEvent::Created { .. } => {}
        }
    }
    if removed {
        // A group its last member left is closed for good.
        let close = "UPDATE conversations SET closed_at = ? WHERE id = ? AND kind = 'group' \
                     AND closed_at IS NULL AND NOT EXISTS (SELECT 1 FROM participants p \
                     WHERE p.conversation_id = conversations.id AND p.left_at IS NULL)";
        txn.execute_raw(stmt(backend, close, vec![now.clone(), conv]))
            .await?;
    }
    Ok(())
}

/// See the module docs.
pub(super) async fn apply(
    db: &DatabaseConnection,
    id: ConversationId,
    expected: ContextVersion,
    events: Vec<GroupEvent>,
    now: Timestamp,
) -> Result<GroupApplied, RepoError> {
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
    let backend = db.get_database_backend();
    let at = mapping::time_value(backend, now)?;
    let expected = mapping::version_value(expected)?;
    let count = i64::try_from(events.len()).map_err(RepoError::internal)?;
    let planned = events
        .into_iter()
        .map(|event| {
            Ok(Planned {
                data: event_json::encode(&event)?,
                event,
            })
        })
        .collect::<Result<Vec<_>, RepoError>>()?;
    let take = "UPDATE conversations SET context_version = context_version + 1, \
                last_change_sequence = last_change_sequence + ? \
                WHERE id = ? AND context_version = ? \
                RETURNING last_change_sequence, last_sequence";
    let take_values = vec![count.into(), id.get().into(), expected.into()];
    let first = retry_busy(|| async {
        let txn = begin_write(db).await?;
        let result = async {
            let moved = Moved::find_by_statement(stmt(backend, take, take_values.clone()))
                .one(&txn)
                .await?;
            let Some(moved) = moved else {
                return Ok(None);
            };
            let first = moved.last_change_sequence - count + 1;
            write(&txn, id, &planned, first, moved.last_sequence, &at).await?;
            Ok(Some(first))
        }
        .await;
        finish(txn, result).await
    })
    .await
    .map_err(repo_err)?;
    let Some(first) = first else {
        return Ok(GroupApplied::StaleContext);
    };
    let mut sequence = mapping::to_change(first)?;
    let mut changes = Vec::with_capacity(planned.len());
    for p in planned {
        changes.push(Change {
            conversation_id: id,
            sequence,
            at: now,
            body: ChangeBody::Group(p.event),
        });
        sequence = sequence.next();
    }
    Ok(GroupApplied::Done(changes))
}
