//! A row's columns by name, from sqlx or from a SQLite connection used in
//! place: a row type that decodes itself from [`Columns`] is read the same
//! way on either path ([`crate::sqlite_writer::WriteConn::fetch_all`]).
use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};

/// A value a column can be read as on both paths.
pub trait Column: for<'r> Decode<'r, Any> + Type<Any> + rusqlite::types::FromSql {}

impl<T> Column for T where T: for<'r> Decode<'r, Any> + Type<Any> + rusqlite::types::FromSql {}

/// A row whose columns are read by name.
pub trait Columns {
    fn value<T: Column>(&self, name: &str) -> Result<T, sqlx::Error>;
}

impl Columns for AnyRow {
    fn value<T: Column>(&self, name: &str) -> Result<T, sqlx::Error> {
        self.try_get(name)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn value<T: Column>(&self, name: &str) -> Result<T, sqlx::Error> {
        self.get(name).map_err(|e| sqlx::Error::ColumnDecode {
            index: name.to_owned(),
            source: Box::new(e),
        })
    }
}

/// A row type read from [`Columns`].
pub trait FromColumns: Sized {
    fn from_columns(row: &impl Columns) -> Result<Self, sqlx::Error>;
}
