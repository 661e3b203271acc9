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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
