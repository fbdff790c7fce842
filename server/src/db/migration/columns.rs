//! Column helpers for migrations: the few column shapes every table repeats, so a new
//! migration says what a column is in one line. (Migrations that have run are never changed;
//! these helpers build exactly what those migrations built by hand.)

use sea_orm_migration::prelude::*;

/// A `BIGINT` primary key the database numbers.
pub fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

/// A `VARCHAR(len)`, `NULL` or `NOT NULL`.
pub fn text<T: IntoIden>(col: T, len: u32, null: bool) -> ColumnDef {
    let mut d = ColumnDef::new(col);
    d.string_len(len);
    if null {
        d.null();
    } else {
        d.not_null();
    }
    d
}

/// A `TIMESTAMP WITH TIME ZONE`, `NULL` or `NOT NULL`.
pub fn at<T: IntoIden>(col: T, null: bool) -> ColumnDef {
    let mut d = ColumnDef::new(col);
    d.timestamp_with_time_zone();
    if null {
        d.null();
    } else {
        d.not_null();
    }
    d
}

/// An `INTEGER` that may be `NULL`.
pub fn int<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).integer().null().to_owned()
}

/// Bytes that may be `NULL` (a sealed secret, a file).
pub fn blob<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).binary().null().to_owned()
}

/// A foreign key named `name` from `table.col` to `to_table.to_col`.
pub fn fk(
    name: &str,
    table: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
    to_table: impl IntoIden + 'static,
    to_col: impl IntoIden + 'static,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(to_table, to_col)
        .on_delete(on_delete)
        .to_owned()
}
