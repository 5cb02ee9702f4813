//! A small dynamic query builder. `sqlx::QueryBuilder` over `Any` writes `?`
//! placeholders, which PostgreSQL rejects; this one numbers them `$1, $2…`,
//! which both engines accept. Its values are kept as [`Param`]s, so that a
//! statement built once runs through sqlx or on a SQLite connection used in
//! place ([`crate::sqlite_writer`]).
use crate::Engine;
use sqlx::any::AnyArguments;
use sqlx::Arguments;

pub struct Sql {
    text: String,
    params: Vec<Param>,
    anonymous: bool,
}

/// A value bound to a statement: what our tables hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(Option<i64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::Int(Some(v))
    }
}

impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Param {
        Param::Int(v)
    }
}

impl From<bool> for Param {
    /// As both engines' schemas keep flags: 0 or 1.
    fn from(v: bool) -> Param {
        Param::Int(Some(i64::from(v)))
    }
}

impl From<String> for Param {
    fn from(v: String) -> Param {
        Param::Text(Some(v))
    }
}

impl From<&str> for Param {
    fn from(v: &str) -> Param {
        Param::Text(Some(v.to_owned()))
    }
}

impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Param {
        Param::Text(v)
    }
}

impl From<Vec<u8>> for Param {
    fn from(v: Vec<u8>) -> Param {
        Param::Blob(Some(v))
    }
}

impl From<Option<Vec<u8>>> for Param {
    fn from(v: Option<Vec<u8>>) -> Param {
        Param::Blob(v)
    }
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Param::Int(Some(v)) => ValueRef::Integer(*v),
            Param::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
            Param::Blob(Some(v)) => ValueRef::Blob(v),
            Param::Int(None) | Param::Text(None) | Param::Blob(None) => ValueRef::Null,
        }))
    }
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            params: Vec::new(),
            anonymous: false,
        }
    }

    /// For statements with many parameters (multi-row inserts): on SQLite
    /// the placeholders are anonymous `?`. sqlx asks SQLite for each bound
    /// parameter's name, which SQLite finds by a linear scan of the numbered
    /// ones, so binding N numbered parameters costs N²; anonymous ones have no
    /// name to look up and are bound in order. PostgreSQL needs `$N`.
    pub fn many(engine: Engine, text: &str) -> Sql {
        Sql {
            anonymous: engine == Engine::Sqlite,
            ..Sql::new(text)
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends the next placeholder and binds `value` to it.
    pub fn bind(&mut self, value: impl Into<Param>) -> &mut Self {
        self.params.push(value.into());
        if self.anonymous {
            self.text.push('?');
        } else {
            self.text.push('$');
            self.text.push_str(&self.params.len().to_string());
        }
        self
    }

    /// Binds each item of `values` through `bind_one`, separated by `sep`.
    pub fn list<I, F>(&mut self, values: I, sep: &str, mut bind_one: F) -> &mut Self
    where
        I: IntoIterator,
        F: FnMut(&mut Self, I::Item),
    {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(sep);
            }
            bind_one(self, v);
        }
        self
    }

    /// [`Sql::list`] for a list where a repeated item changes nothing (an
    /// `IN` list, the rows an `UPDATE … FROM (VALUES …)` matches by key):
    /// the last item is repeated until there are a power of two of them.
    /// A statement built from lists of any length then has one of a few
    /// texts (1, 2, 4 … items), which each connection's statement cache
    /// keeps prepared, instead of a text per length, each prepared anew
    /// (on SQLite, preparing an update of 64 rows took a fifth to a quarter
    /// of the time it then took to run).
    pub fn padded_list<T>(
        &mut self,
        values: &[T],
        sep: &str,
        mut bind_one: impl FnMut(&mut Self, &T),
    ) -> &mut Self {
        let padding = values.len().next_power_of_two() - values.len();
        let repeated = values.last().into_iter().cycle().take(padding);
        self.list(values.iter().chain(repeated), sep, |q, v| bind_one(q, v))
    }

    /// The rows of `WITH v (…, pos) AS (VALUES <rows>) INSERT … SELECT …
    /// FROM v WHERE pos < <kept> ORDER BY pos`, padded like
    /// [`Sql::padded_list`] for the same reason: `bind_row` binds a row's
    /// columns, and each row ends with its position; the padding repeats
    /// the last row at positions past the end, which the statement leaves
    /// out. Binds nothing for no rows. Call [`Sql::bind_kept`] for `<kept>`.
    pub fn padded_rows<T>(
        &mut self,
        rows: &[T],
        mut bind_row: impl FnMut(&mut Self, &T),
    ) -> &mut Self {
        let Some(last) = rows.last() else {
            return self;
        };
        for pos in 0..rows.len().next_power_of_two() {
            if pos > 0 {
                self.push(", ");
            }
            self.push("(");
            bind_row(self, rows.get(pos).unwrap_or(last));
            self.push(", ").bind(pos as i64).push(")");
        }
        self
    }

    /// How many of [`Sql::padded_rows`]' rows are kept.
    pub fn bind_kept<T>(&mut self, rows: &[T]) -> &mut Self {
        self.bind(rows.len() as i64)
    }

    /// The text and its values for sqlx.
    pub fn into_parts(self) -> (String, AnyArguments<'static>) {
        let mut args = AnyArguments::default();
        for param in self.params {
            let added = match param {
                Param::Int(v) => args.add(v),
                Param::Text(v) => args.add(v),
                Param::Blob(v) => args.add(v),
            };
            added.expect("our values always encode");
        }
        (self.text, args)
    }

    /// The text and its values, for a connection used in place.
    pub fn parts(&self) -> (&str, &[Param]) {
        (&self.text, &self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(q: Sql) -> String {
        q.into_parts().0
    }

    #[test]
    fn padded_lists_take_a_power_of_two_shape_repeating_the_last_item() {
        let shape = |n: usize| {
            let items: Vec<i64> = (1..=n as i64).collect();
            let mut q = Sql::new("IN (");
            q.padded_list(&items, ", ", |q, v| {
                q.bind(*v);
            })
            .push(")");
            text(q)
        };
        assert_eq!(shape(1), "IN ($1)");
        assert_eq!(shape(3), "IN ($1, $2, $3, $4)");
        assert_eq!(shape(4), shape(3), "3 and 4 items share one statement");
        assert_eq!(shape(5).matches('$').count(), 8);
        assert_eq!(shape(0), "IN ()");
    }

    #[test]
    fn padded_rows_number_each_row_and_leave_the_padding_out() {
        let rows = ["a", "b", "c"];
        let mut q = Sql::many(Engine::Sqlite, "VALUES ");
        q.padded_rows(&rows, |q, r| {
            q.bind(r.to_string());
        })
        .push(" WHERE pos < ")
        .bind_kept(&rows);
        let (statement, args) = q.into_parts();
        assert_eq!(
            statement, "VALUES (?, ?), (?, ?), (?, ?), (?, ?) WHERE pos < ?",
            "four rows of (value, position), then how many are kept"
        );
        assert_eq!(args.len(), 9);
        let mut empty = Sql::new("VALUES ");
        empty.padded_rows(&[] as &[&str], |_, _| unreachable!());
        assert_eq!(text(empty), "VALUES ");
    }
}
