//! Write scripts: the statements of one write transaction, collected first and sent
//! together. On SQLite a script goes to the connection's thread as one multi-statement
//! query (`BEGIN IMMEDIATE; …; COMMIT`), one round trip however many statements it
//! holds: every round trip to sqlx's SQLite thread costs two thread wake-ups, which
//! were most of the CPU time of a message's way through the bot. On PostgreSQL (whose
//! extended protocol takes one statement per query) the statements go one after another
//! inside `BEGIN`/`COMMIT`.
//!
//! Each statement numbers its parameters from `$1`; a script renumbers them when it
//! joins statements. SQL text pushed here must not contain `$` other than parameters.

use sqlx::{AnyConnection, Executor};

use super::Backend;

/// A bound value.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Val {
    /// An integer.
    Int(i64),
    /// An integer or NULL.
    OptInt(Option<i64>),
    /// Text.
    Text(String),
    /// Text or NULL.
    OptText(Option<String>),
    /// Bytes.
    Blob(Vec<u8>),
}

struct Stmt {
    sql: String,
    args: Vec<Val>,
}

/// Statements to run in one transaction, in order.
#[derive(Default)]
pub(super) struct Script {
    stmts: Vec<Stmt>,
}

/// Whether [`Script::run`] opens the transaction or one is open already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tx {
    /// Open it (`BEGIN`), run the statements, commit.
    Whole,
    /// The caller began it: run the statements and commit.
    Finish,
}

impl Script {
    /// Add a statement with its parameters (`$1`…`$n` in `args` order).
    pub fn push(&mut self, sql: impl Into<String>, args: Vec<Val>) {
        self.stmts.push(Stmt { sql: sql.into(), args });
    }

    /// Run the statements and commit; on any error roll back and return it.
    pub async fn run(&self, conn: &mut AnyConnection, backend: Backend, tx: Tx) -> Result<(), sqlx::Error> {
        let result = match backend {
            Backend::Sqlite => {
                let (sql, args) = self.joined(tx);
                bind(sqlx::query(&sql), args).execute(&mut *conn).await.map(|_| ())
            }
            Backend::Postgres => self.one_by_one(conn, tx).await,
        };
        if result.is_err() {
            let _ = conn.execute("ROLLBACK").await;
        }
        result
    }

    async fn one_by_one(&self, conn: &mut AnyConnection, tx: Tx) -> Result<(), sqlx::Error> {
        if tx == Tx::Whole {
            conn.execute("BEGIN").await?;
        }
        for s in &self.stmts {
            bind(sqlx::query(&s.sql), &s.args).execute(&mut *conn).await?;
        }
        conn.execute("COMMIT").await.map(|_| ())
    }

    /// One SQLite query: the statements with their parameters renumbered, framed by the
    /// transaction.
    fn joined(&self, tx: Tx) -> (String, Vec<&Val>) {
        let mut sql = String::with_capacity(self.stmts.iter().map(|s| s.sql.len() + 2).sum::<usize>() + 32);
        if tx == Tx::Whole {
            sql.push_str("BEGIN IMMEDIATE; ");
        }
        let mut args = Vec::new();
        for s in &self.stmts {
            renumber(&s.sql, args.len(), &mut sql);
            sql.push_str("; ");
            args.extend(&s.args);
        }
        sql.push_str("COMMIT");
        (sql, args)
    }
}

/// Append `sql` to `out` with every `$N` turned into `$(N + offset)`.
fn renumber(sql: &str, offset: usize, out: &mut String) {
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
}

/// `q` with `args` bound in order.
pub(super) fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: impl IntoIterator<Item = &'q Val>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for v in args {
        q = match v {
            Val::Int(i) => q.bind(*i),
            Val::OptInt(i) => q.bind(*i),
            Val::Text(t) => q.bind(t.as_str()),
            Val::OptText(t) => q.bind(t.as_deref()),
            Val::Blob(b) => q.bind(b.as_slice()),
        };
    }
    q
}

#[cfg(test)]
mod tests {
    use super::{Script, Tx, Val, renumber};

    #[test]
    fn parameters_are_renumbered_across_statements() {
        let mut out = String::new();
        renumber("UPDATE t SET a = $1 WHERE b = $2 AND c = $10", 3, &mut out);
        assert_eq!(out, "UPDATE t SET a = $4 WHERE b = $5 AND c = $13");
        let mut s = Script::default();
        s.push("DELETE FROM a WHERE id = $1", vec![Val::Int(1)]);
        s.push("INSERT INTO b (x, y) VALUES ($1, $2)", vec![Val::Int(2), Val::Text("t".into())]);
        let (sql, args) = s.joined(Tx::Whole);
        assert_eq!(sql, "BEGIN IMMEDIATE; DELETE FROM a WHERE id = $1; INSERT INTO b (x, y) VALUES ($2, $3); COMMIT");
        assert_eq!(args, [&Val::Int(1), &Val::Int(2), &Val::Text("t".into())]);
        assert_eq!(s.joined(Tx::Finish).0, "DELETE FROM a WHERE id = $1; INSERT INTO b (x, y) VALUES ($2, $3); COMMIT");
    }
}
