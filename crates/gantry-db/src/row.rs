//! Small helpers for mapping `Any` rows by hand.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{DbError, DbResult};

pub(crate) fn int(row: &AnyRow, column: &'static str) -> DbResult<i64> {
    Ok(row.try_get::<i64, _>(column)?)
}

pub(crate) fn opt_int(row: &AnyRow, column: &'static str) -> DbResult<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(column)?)
}

pub(crate) fn text(row: &AnyRow, column: &'static str) -> DbResult<String> {
    Ok(row.try_get::<String, _>(column)?)
}

pub(crate) fn opt_text(row: &AnyRow, column: &'static str) -> DbResult<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

pub(crate) fn flag(row: &AnyRow, column: &'static str) -> DbResult<bool> {
    Ok(int(row, column)? != 0)
}

/// Parses a stored enum value, reporting the column when it is not one we know.
pub(crate) fn parsed<T>(row: &AnyRow, column: &'static str, parse: impl Fn(&str) -> Option<T>) -> DbResult<T> {
    let value = text(row, column)?;
    parse(&value).ok_or(DbError::Corrupt { column, value })
}

/// The most rows a listing counts: a count that reaches it reads `COUNT_LIMIT + 1`, "more than
/// this". GitLab stops at 10,000 too (and then sends no `X-Total`): counting every match of a
/// common word would cost more than the page itself.
pub const COUNT_LIMIT: i64 = 10_000;

/// Turns a `LIMIT/OFFSET` page into the two bind values.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}
