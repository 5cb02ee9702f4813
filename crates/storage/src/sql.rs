//! A small dynamic query builder. `sqlx::QueryBuilder` over `Any` writes `?`
//! placeholders, which PostgreSQL rejects; this one numbers them `$1, $2…`,
//! which both engines accept.
use crate::Engine;
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Encode, Type};

pub struct Sql {
    text: String,
    args: AnyArguments<'static>,
    count: usize,
    anonymous: bool,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            args: AnyArguments::default(),
            count: 0,
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
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'static + Send + Encode<'static, Any> + Type<Any>,
    {
        self.count += 1;
        if self.anonymous {
            self.text.push('?');
        } else {
            self.text.push('$');
            self.text.push_str(&self.count.to_string());
        }
        self.args.add(value).expect("encoding a bound value");
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

    pub fn into_parts(self) -> (String, AnyArguments<'static>) {
        (self.text, self.args)
    }
}
