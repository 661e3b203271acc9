//! Column shapes shared by the migrations.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

/// An instant with millisecond precision: `timestamptz(3)` on PostgreSQL; on SQLite the adapter
/// writes fixed-width RFC 3339 text (`2026-11-25T21:39:34.980Z`), which sorts as it should.
pub(crate) fn timestamp_ms(backend: DbBackend, col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    match backend {
        DbBackend::Postgres => def.custom(Alias::new("timestamptz(3)")),
        _ => def.timestamp_with_time_zone(),
    };
    def.not_null().take()
}

/// [`timestamp_ms`], nullable.
pub(crate) fn timestamp_ms_null(backend: DbBackend, col: impl IntoIden) -> ColumnDef {
    let mut def = timestamp_ms(backend, col);
    def.null().take()
}

/// A non-null UUID column.
pub(crate) fn uuid_col(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).uuid().not_null().take()
}

/// A non-null 64-bit integer column defaulting to zero.
pub(crate) fn counter(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .default(0)
        .take()
}
