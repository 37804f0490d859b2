//! Copying a whole brand between the two engines (`yutang db copy`), table by table.
//!
//! Both databases carry the same migrations, so their tables and columns match (the schema
//! parity test keeps it so); the copy reads each table in primary-key order in chunks and
//! inserts the chunk into the other engine with its ids as they were. The value types come
//! from PostgreSQL's catalogue (SQLite stores booleans as integers). Tables are copied parents
//! first (from SQLite's foreign-key lists); a column that references its own table
//! (`customers.merged_into`) is written after the whole table. Each chunk is inserted with
//! `ON CONFLICT DO NOTHING` in its own transaction, so an interrupted copy is resumed by
//! running it again. Sequences continue where the source's did, so no id is ever reused.
//! [`digest`] gives a table's row count and a SHA-256 over its rows, read the same way on
//! both engines, to verify the copy.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest as _, Sha256};
use sqlx::Row;

use crate::Db;
use crate::error::{Result, StoreError};

/// Rows per chunk (a read, and an insert transaction).
const CHUNK: i64 = 1000;

/// How a column's values are read and bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
}

/// A value in the copy's own terms (booleans as 0/1, as SQLite stores them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// One table's copy plan.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub name: String,
    /// Columns both engines have, with their kind, in a fixed order.
    pub columns: Vec<(String, Kind)>,
    /// The primary key's columns, in key order.
    pub pk: Vec<String>,
    /// Columns referencing this same table: inserted as NULL, set after the table.
    pub self_refs: Vec<String>,
    /// Whether the table has an `id` backed by a sequence (PostgreSQL) / AUTOINCREMENT.
    pub has_id_sequence: bool,
}

fn refused(message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        code: "copy_refused",
        message: message.into(),
    }
}

/// The SQLite and the PostgreSQL side of a copy, whichever direction it goes.
fn sides<'a>(a: &'a Db, b: &'a Db) -> Result<(&'a sqlx::SqlitePool, &'a sqlx::PgPool)> {
    match (a, b) {
        (Db::Sqlite(s), Db::Postgres(p)) | (Db::Postgres(p), Db::Sqlite(s)) => Ok((s, p)),
        _ => Err(refused(
            "a copy goes between SQLite and PostgreSQL (one of each); for a copy on one engine \
             use `yutang backup`",
        )),
    }
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The tables to copy, parents first, with their columns and keys.
pub async fn plan(from: &Db, to: &Db) -> Result<Vec<TablePlan>> {
    let (lite, pg) = sides(from, to)?;
    let tables: Vec<String> = sqlx::query_scalar(
        // webhook_feed, rollup_feed and journey_feed are positions in this engine's own event log (an id
        // on SQLite, a snapshot on PostgreSQL): the destination's are set to its own end after
        // the copy. rollup_state is the destination's own bookkeeping: a rebuild of the
        // rollups is asked for there. The uplift studies are recomputed there from the
        // copied facts (after the rebuild), like any hour.
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' AND name <> 'webhook_feed' AND name <> 'rollup_feed' \
         AND name <> 'journey_feed' AND name <> 'rollup_state' AND name <> 'uplift_cells' AND name <> 'uplift_state' \
         ORDER BY name",
    )
    .fetch_all(lite)
    .await?;
    let mut plans = BTreeMap::new();
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for t in &tables {
        let pg_cols: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(t)
        .fetch_all(pg)
        .await?;
        if pg_cols.is_empty() {
            return Err(refused(format!(
                "table {t} is missing on PostgreSQL; migrate both databases to the same version first"
            )));
        }
        let pg_kinds: BTreeMap<String, Option<Kind>> = pg_cols
            .into_iter()
            .map(|(c, ty)| {
                let k = match ty.as_str() {
                    "bigint" | "integer" | "smallint" => Some(Kind::Int),
                    "boolean" => Some(Kind::Bool),
                    "text" | "character varying" => Some(Kind::Text),
                    "bytea" => Some(Kind::Bytes),
                    // Engine-specific bookkeeping (events.tx_id on PostgreSQL): each side
                    // fills its own by default.
                    _ => None,
                };
                (c, k)
            })
            .collect();
        let info: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT name, pk FROM pragma_table_info({})",
            quote_lit(t)
        )))
        .fetch_all(lite)
        .await?;
        let mut columns = Vec::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (c, k) in &info {
            if *k > 0 {
                pk.push((*k, c.clone()));
            }
            if let Some(Some(kind)) = pg_kinds.get(c) {
                columns.push((c.clone(), *kind));
            }
        }
        pk.sort();
        let pk: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
        if pk.is_empty() {
            return Err(refused(format!("table {t} has no primary key to copy by")));
        }
        let fks: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT \"table\", \"from\" FROM pragma_foreign_key_list({})",
            quote_lit(t)
        )))
        .fetch_all(lite)
        .await?;
        let mut self_refs = Vec::new();
        for (parent, col) in fks {
            if &parent == t {
                self_refs.push(col);
            } else {
                parents.entry(t.clone()).or_default().insert(parent);
            }
        }
        let has_id_sequence: bool = sqlx::query_scalar(
            "SELECT pg_get_serial_sequence($1, 'id') IS NOT NULL \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name = $1 AND column_name = 'id'",
        )
        .bind(t)
        .fetch_optional(pg)
        .await?
        .unwrap_or(false);
        plans.insert(
            t.clone(),
            TablePlan {
                name: t.clone(),
                columns,
                pk,
                self_refs,
                has_id_sequence,
            },
        );
    }
    // Parents first: repeatedly take the tables whose parents are all placed.
    let mut out = Vec::with_capacity(plans.len());
    let mut placed = BTreeSet::new();
    while placed.len() < plans.len() {
        let ready: Vec<String> = plans
            .keys()
            .filter(|t| !placed.contains(*t))
            .filter(|t| {
                parents.get(*t).is_none_or(|ps| {
                    ps.iter()
                        .all(|p| placed.contains(p) || !plans.contains_key(p))
                })
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(refused("the foreign keys between tables form a cycle"));
        }
        for t in ready {
            placed.insert(t.clone());
            out.push(plans[&t].clone());
        }
    }
    Ok(out)
}

/// A string literal for SQLite's table-valued pragmas (names come from sqlite_master).
fn quote_lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn select_sql(p: &TablePlan, after: bool) -> String {
    // A boolean is read as a 0/1 BIGINT on both engines (SQLite stores it so; PostgreSQL
    // converts here), so one decoder serves both.
    let cols: Vec<String> = p
        .columns
        .iter()
        .map(|(c, kind)| match kind {
            Kind::Bool => format!(
                "CAST(CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN 1 ELSE 0 END AS BIGINT)",
                c = quote(c)
            ),
            _ => quote(c),
        })
        .collect();
    let pk: Vec<String> = p.pk.iter().map(|c| quote(c)).collect();
    let mut sql = format!("SELECT {} FROM {}", cols.join(", "), quote(&p.name));
    if after {
        let marks: Vec<String> = (1..=pk.len()).map(|i| format!("${i}")).collect();
        sql.push_str(&format!(
            " WHERE ({}) > ({})",
            pk.join(", "),
            marks.join(", ")
        ));
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT {CHUNK}", pk.join(", ")));
    sql
}

/// One row as read by [`select_sql`] (booleans arrive as 0/1 integers).
macro_rules! decode_row {
    ($row:expr, $plan:expr) => {{
        let mut vals = Vec::with_capacity($plan.columns.len());
        for (i, (_, kind)) in $plan.columns.iter().enumerate() {
            let v = match kind {
                Kind::Int | Kind::Bool => $row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Val::Null, Val::Int),
                Kind::Text => $row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Val::Null, Val::Text),
                Kind::Bytes => $row
                    .try_get::<Option<Vec<u8>>, _>(i)?
                    .map_or(Val::Null, Val::Bytes),
            };
            vals.push(v);
        }
        vals
    }};
}

macro_rules! bind_val {
    ($q:expr, $kind:expr, $v:expr) => {
        match ($kind, $v) {
            (Kind::Bool, Val::Int(i)) => $q.bind(Some(*i != 0)),
            (Kind::Bool, _) => $q.bind(None::<bool>),
            (_, Val::Int(i)) => $q.bind(Some(*i)),
            (_, Val::Text(s)) => $q.bind(Some(s.clone())),
            (_, Val::Bytes(b)) => $q.bind(Some(b.clone())),
            (Kind::Int, Val::Null) => $q.bind(None::<i64>),
            (Kind::Text, Val::Null) => $q.bind(None::<String>),
            (Kind::Bytes, Val::Null) => $q.bind(None::<Vec<u8>>),
        }
    };
}

/// Read one chunk of `p` after the key `after` (`None`: from the start).
async fn read_chunk(db: &Db, p: &TablePlan, after: Option<&[Val]>) -> Result<Vec<Vec<Val>>> {
    let sql = select_sql(p, after.is_some());
    let pk_kinds: Vec<Kind> =
        p.pk.iter()
            .map(|k| {
                p.columns
                    .iter()
                    .find(|(c, _)| c == k)
                    .map_or(Kind::Int, |(_, kind)| *kind)
            })
            .collect();
    db_run!(db, pool => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (v, k) in after.unwrap_or(&[]).iter().zip(&pk_kinds) {
            q = bind_val!(q, k, v);
        }
        let rows = q.fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(decode_row!(row, p));
        }
        Ok(out)
    })
}

fn key_of(p: &TablePlan, row: &[Val]) -> Vec<Val> {
    p.pk.iter()
        .filter_map(|k| p.columns.iter().position(|(c, _)| c == k))
        .map(|i| row[i].clone())
        .collect()
}

/// Insert a chunk, its ids as they are; rows already there (a resumed copy) are skipped.
/// Self-referencing columns are written as NULL here and set by [`finish_table`].
async fn write_chunk(db: &Db, p: &TablePlan, rows: &[Vec<Val>]) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let cols: Vec<String> = p.columns.iter().map(|(c, _)| quote(c)).collect();
    let width = cols.len();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        quote(&p.name),
        cols.join(", ")
    );
    for r in 0..rows.len() {
        if r > 0 {
            sql.push_str(", ");
        }
        let marks: Vec<String> = (1..=width).map(|i| format!("${}", r * width + i)).collect();
        sql.push_str(&format!("({})", marks.join(", ")));
    }
    sql.push_str(" ON CONFLICT DO NOTHING");
    let self_ref: Vec<bool> = p
        .columns
        .iter()
        .map(|(c, _)| p.self_refs.contains(c))
        .collect();
    db_run!(db, pool => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                let v = if self_ref[i] { &Val::Null } else { v };
                q = bind_val!(q, &p.columns[i].1, v);
            }
        }
        let mut tx = pool.begin().await?;
        let n = q.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n)
    })
}

/// Copy one table's rows; `progress` gets the rows read so far. Returns the rows inserted
/// (fewer than read when a resumed copy finds some there already).
pub async fn copy_table(
    from: &Db,
    to: &Db,
    p: &TablePlan,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<u64> {
    // Keep the chunk under PostgreSQL's 65,535 bind parameters.
    let mut after: Option<Vec<Val>> = None;
    let (mut read, mut inserted) = (0u64, 0u64);
    let per_insert = (60_000 / p.columns.len().max(1)).max(1);
    loop {
        let rows = read_chunk(from, p, after.as_deref()).await?;
        let Some(last) = rows.last() else { break };
        after = Some(key_of(p, last));
        for part in rows.chunks(per_insert) {
            inserted += write_chunk(to, p, part).await?;
        }
        read += rows.len() as u64;
        progress(read);
        if (rows.len() as i64) < CHUNK {
            break;
        }
    }
    Ok(inserted)
}

/// After a table's rows: set its self-referencing columns, and continue its id sequence
/// where the source's stands (never below the largest id).
pub async fn finish_table(from: &Db, to: &Db, p: &TablePlan) -> Result<()> {
    for col in &p.self_refs {
        let pk = p.pk.first().ok_or_else(|| refused("no key"))?;
        let sql = format!(
            "SELECT {}, {} FROM {} WHERE {} IS NOT NULL ORDER BY {}",
            quote(pk),
            quote(col),
            quote(&p.name),
            quote(col),
            quote(pk)
        );
        let pairs: Vec<(i64, i64)> = db_run!(from, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
        });
        let update = format!(
            "UPDATE {} SET {} = $1 WHERE {} = $2",
            quote(&p.name),
            quote(col),
            quote(pk)
        );
        db_run!(to, pool => {
            let mut tx = pool.begin().await?;
            for (id, target) in &pairs {
                sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                    .bind(target)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
    }
    if !p.has_id_sequence {
        return Ok(());
    }
    let source_seq = sequence_value(from, &p.name).await?;
    let max_id: Option<i64> = db_run!(to, pool => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT MAX(id) FROM {}", quote(&p.name))))
            .fetch_one(pool)
            .await?
    });
    let next = source_seq.max(max_id.unwrap_or(0));
    if next == 0 {
        return Ok(());
    }
    match to {
        Db::Postgres(pool) => {
            sqlx::query("SELECT setval(pg_get_serial_sequence($1, 'id'), $2)")
                .bind(&p.name)
                .bind(next)
                .execute(pool)
                .await?;
        }
        Db::Sqlite(pool) => {
            let n = sqlx::query("UPDATE sqlite_sequence SET seq = $2 WHERE name = $1")
                .bind(&p.name)
                .bind(next)
                .execute(pool)
                .await?
                .rows_affected();
            if n == 0 {
                sqlx::query("INSERT INTO sqlite_sequence (name, seq) VALUES ($1, $2)")
                    .bind(&p.name)
                    .bind(next)
                    .execute(pool)
                    .await?;
            }
        }
    }
    Ok(())
}

/// The last id a table's sequence handed out (0: none).
async fn sequence_value(db: &Db, table: &str) -> Result<i64> {
    Ok(match db {
        Db::Postgres(pool) => sqlx::query_scalar::<_, Option<i64>>(
            "SELECT s.last_value FROM pg_sequences s \
             WHERE quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename) = \
             pg_get_serial_sequence($1, 'id')",
        )
        .bind(table)
        .fetch_optional(pool)
        .await?
        .flatten()
        .unwrap_or(0),
        Db::Sqlite(pool) => {
            sqlx::query_scalar::<_, i64>("SELECT seq FROM sqlite_sequence WHERE name = $1")
                .bind(table)
                .fetch_optional(pool)
                .await?
                .unwrap_or(0)
        }
    })
}

/// A table's row count and a SHA-256 over its rows in key order, each value in the copy's
/// terms (booleans as 0/1), so equal tables give equal digests on either engine.
pub async fn digest(db: &Db, p: &TablePlan) -> Result<(u64, String)> {
    let mut h = Sha256::new();
    let mut n = 0u64;
    let mut after: Option<Vec<Val>> = None;
    loop {
        let rows = read_chunk(db, p, after.as_deref()).await?;
        let Some(last) = rows.last() else { break };
        after = Some(key_of(p, last));
        for row in &rows {
            for v in row {
                match v {
                    Val::Null => h.update(b"N"),
                    Val::Int(i) => {
                        h.update(b"I");
                        h.update(i.to_le_bytes());
                    }
                    Val::Text(s) => {
                        h.update(b"T");
                        h.update((s.len() as u64).to_le_bytes());
                        h.update(s.as_bytes());
                    }
                    Val::Bytes(b) => {
                        h.update(b"B");
                        h.update((b.len() as u64).to_le_bytes());
                        h.update(b);
                    }
                }
            }
        }
        n += rows.len() as u64;
        if (rows.len() as i64) < CHUNK {
            break;
        }
    }
    Ok((n, hex::encode(h.finalize())))
}
