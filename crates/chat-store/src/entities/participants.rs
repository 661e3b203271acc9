//! `participants`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "participants")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub joined_at: TimeDateTimeWithTimeZone,
    pub left_at: Option<TimeDateTimeWithTimeZone>,
    pub last_read_sequence: i64,
    pub last_read_at: Option<TimeDateTimeWithTimeZone>,
    pub unread_count: i64,
    /// `owner`, `admin` or `member` (`Role`).
    pub role: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
