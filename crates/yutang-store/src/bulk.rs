//! Bulk loading for the demo and imports: multi-row INSERTs with explicit ids, all tables of
//! one load in one transaction. On PostgreSQL the identity sequences are moved past the
//! loaded ids afterwards, so later single-row inserts do not collide.

use crate::Db;
use crate::error::Result;

/// One value of a bulk row.
#[derive(Debug, Clone)]
pub enum Val {
    I(i64),
    N(Option<i64>),
    S(String),
    T(Option<String>),
    B(bool),
}

/// Rows for one table: its name, its columns and the values, row by row (each row has one
/// value per column).
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Val>>,
}

/// Keep every statement below SQLite's 32,766 bound parameters (PostgreSQL allows 65,535).
const MAX_PARAMS: usize = 30_000;

/// Insert every table's rows in one transaction; `progress(table, rows_done)` after each
/// statement. SQLite gets multi-row INSERTs; PostgreSQL gets `COPY … FROM STDIN` (text
/// format), several times faster than parameterised INSERTs there.
pub async fn load(
    db: &Db,
    tables: &[Table],
    progress: &(dyn Fn(&str, usize) + Sync),
) -> Result<()> {
    match db {
        Db::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            for t in tables {
                let per = (MAX_PARAMS / t.columns.len().max(1)).max(1);
                let mut done = 0;
                for chunk in t.rows.chunks(per) {
                    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
                        "INSERT INTO {} ({}) ",
                        t.name,
                        t.columns.join(", ")
                    ));
                    qb.push_values(chunk, |mut b, row| {
                        for v in row {
                            match v {
                                Val::I(i) => b.push_bind(*i),
                                Val::N(i) => b.push_bind(*i),
                                Val::S(s) => b.push_bind(s.as_str()),
                                Val::T(s) => b.push_bind(s.as_deref()),
                                Val::B(x) => b.push_bind(*x),
                            };
                        }
                    });
                    qb.build().execute(&mut *tx).await?;
                    done += chunk.len();
                    progress(t.name, done);
                }
            }
            tx.commit().await?;
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            for t in tables {
                let mut done = 0;
                for chunk in t.rows.chunks(20_000) {
                    let mut buf = String::with_capacity(chunk.len() * 64);
                    for row in chunk {
                        copy_row(&mut buf, row);
                    }
                    let mut copy = tx
                        .copy_in_raw(&format!(
                            "COPY {} ({}) FROM STDIN",
                            t.name,
                            t.columns.join(", ")
                        ))
                        .await?;
                    copy.send(buf.into_bytes()).await?;
                    copy.finish().await?;
                    done += chunk.len();
                    progress(t.name, done);
                }
            }
            tx.commit().await?;
        }
    }
    if let Db::Postgres(pool) = db {
        for t in tables {
            if !t.columns.contains(&"id") {
                continue;
            }
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE((SELECT MAX(id) FROM {0}), 0) + 1, false)",
                t.name
            )))
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// One row in PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_row(buf: &mut String, row: &[Val]) {
    use std::fmt::Write;
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            buf.push('\t');
        }
        match v {
            Val::I(n) | Val::N(Some(n)) => {
                let _ = write!(buf, "{n}");
            }
            Val::N(None) | Val::T(None) => buf.push_str("\\N"),
            Val::S(s) | Val::T(Some(s)) => {
                for c in s.chars() {
                    match c {
                        '\\' => buf.push_str("\\\\"),
                        '\t' => buf.push_str("\\t"),
                        '\n' => buf.push_str("\\n"),
                        '\r' => buf.push_str("\\r"),
                        c => buf.push(c),
                    }
                }
            }
            Val::B(b) => buf.push(if *b { 't' } else { 'f' }),
        }
    }
    buf.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_rows_escape_text() {
        let mut b = String::new();
        copy_row(
            &mut b,
            &[
                Val::I(1),
                Val::N(None),
                Val::S("a\tb\\c\n".into()),
                Val::T(Some("王".into())),
                Val::B(true),
            ],
        );
        assert_eq!(b, "1\t\\N\ta\\tb\\\\c\\n\t王\tt\n");
    }
}
