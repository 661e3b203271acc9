//! `conversations`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub direct_key: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub last_sequence: i64,
    pub last_message_at: Option<TimeDateTimeWithTimeZone>,
    /// What a send checks moves it (`ContextVersion`).
    pub context_version: i64,
    /// A group's title.
    pub title: Option<String>,
    /// Who created a group (`None` for one-to-ones).
    pub created_by: Option<Uuid>,
    /// The creator's idempotency key (unique per creator).
    pub request_id: Option<Uuid>,
    /// The newest change of its change log.
    pub last_change_sequence: i64,
    /// When a group's last member left.
    pub closed_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
