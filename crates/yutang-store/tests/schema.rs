#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The two migration trees must describe the same schema: same tables, same columns, same
//! nullability (types differ by dialect on purpose: INTEGER vs BIGINT, INTEGER vs BOOLEAN), and
//! the same keys: primary keys, UNIQUE constraints and unique indexes (by table and columns,
//! since SQLite names a UNIQUE constraint `sqlite_autoindex_…` and PostgreSQL `…_key`), named
//! indexes (by name, table, columns, uniqueness and predicate) and foreign keys (by table,
//! columns, referenced table and columns, and ON DELETE action). Differences the two engines
//! need are allowed by name in [`ALLOWED_KEY_DIFFERENCES`], each with its reason.

use std::collections::BTreeSet;

use rand::Rng;
use yutang_store::{Db, DbUrl, StoreOptions};

/// Key facts (as [`keys`] writes them) one engine has and the other has not, on purpose.
/// `(engine that has it, fact, reason)`.
const ALLOWED_KEY_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "sqlite",
        "fk events (customer_id) -> customers (id) on delete no action",
        "PostgreSQL drops it in 0009 (its per-row RI trigger was half the cost of an event \
         batch; customers are never deleted and ingest resolves each event's customer first); \
         SQLite keeps it, its check measured as noise and dropping it needs a table rebuild",
    ),
    (
        "postgres",
        "index events.events_tx_id (tx_id)",
        "0011: only PostgreSQL follows the event log by writing transaction (tx_id, compared \
         with snapshots); SQLite's single writer follows the id and its tx_id is always 0",
    ),
];

fn pg_base() -> String {
    std::env::var("YUTANG_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn fresh_pg() -> Db {
    let base = pg_base();
    let name = format!("yutang_test_{:016x}", rand::thread_rng().r#gen::<u64>());
    let admin = Db::connect(&DbUrl::parse(&base).unwrap(), &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is unreachable ({e}); run scripts/test"));
    if let Db::Postgres(p) = &admin {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(p)
            .await
            .unwrap();
    }
    admin.close().await;
    let (head, _) = base.rsplit_once('/').unwrap();
    Db::connect(
        &DbUrl::parse(&format!("{head}/{name}")).unwrap(),
        &StoreOptions::default(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn both_engines_migrate_to_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::connect(
        &DbUrl::parse(&format!("sqlite://{}", dir.path().join("s.db").display())).unwrap(),
        &StoreOptions::default(),
    )
    .await
    .unwrap();
    sqlite.migrate().await.unwrap();
    let pg = fresh_pg().await;
    pg.migrate().await.unwrap();
    // Migrating again is a no-op on both.
    sqlite.migrate().await.unwrap();
    pg.migrate().await.unwrap();
    let a = sqlite.introspect().await.unwrap();
    let b = pg.introspect().await.unwrap();
    assert!(a.len() >= 7, "{a:?}");
    assert_eq!(a, b, "SQLite and PostgreSQL schemas differ");

    let (ka, kb) = (keys(&sqlite).await, keys(&pg).await);
    assert!(
        ka.iter().filter(|k| k.starts_with("fk ")).count() >= 20,
        "{ka:#?}"
    );
    assert!(
        ka.iter().filter(|k| k.starts_with("index ")).count() >= 20,
        "{ka:#?}"
    );
    assert!(
        ka.iter().filter(|k| k.starts_with("unique ")).count() >= 20,
        "{ka:#?}"
    );
    let mut unexplained = Vec::new();
    for (engine, only) in [
        ("sqlite", ka.difference(&kb)),
        ("postgres", kb.difference(&ka)),
    ] {
        for fact in only {
            if !ALLOWED_KEY_DIFFERENCES
                .iter()
                .any(|(e, f, _)| *e == engine && f == fact)
            {
                unexplained.push(format!("only in {engine}: {fact}"));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "SQLite and PostgreSQL keys differ (fix the migration trees, or allow the difference \
         by name with its reason in ALLOWED_KEY_DIFFERENCES):\n{}",
        unexplained.join("\n")
    );
    // An allowed difference that no longer exists is stale.
    for (engine, fact, _) in ALLOWED_KEY_DIFFERENCES {
        let (has, lacks) = if *engine == "sqlite" {
            (&ka, &kb)
        } else {
            (&kb, &ka)
        };
        assert!(
            has.contains(*fact) && !lacks.contains(*fact),
            "stale allowed difference: {engine}: {fact}"
        );
    }
}

/// A partial index's predicate in a form both engines' catalogues agree on: lower case, no
/// brackets, casts or spaces (PostgreSQL writes `(state = 'x'::text)` for `state = 'x'`).
fn predicate(p: Option<String>) -> String {
    match p {
        None => String::new(),
        Some(p) => {
            let mut p = p.to_lowercase();
            for cast in ["::text", "::bigint", "::integer", "::boolean"] {
                p = p.replace(cast, "");
            }
            let p: String = p
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '(' && *c != ')')
                .collect();
            format!(" where {p}")
        }
    }
}

/// (table, index, unique, backing constraint's type, predicate, columns)
type PgIndex = (
    String,
    String,
    bool,
    Option<String>,
    Option<String>,
    Vec<String>,
);
/// (table, referenced table, columns, referenced columns, ON DELETE action code)
type PgForeignKey = (String, String, Vec<String>, Vec<String>, String);

/// The schema's keys as comparable lines:
/// `pk t (a)`, `unique t (a, b)`, `index t.name (a, b)[ unique][ where …]`,
/// `fk t (a) -> u (id) on delete cascade`.
async fn keys(db: &Db) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match db {
        Db::Sqlite(p) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT LIKE '_sqlx%' ORDER BY name",
            )
            .fetch_all(p)
            .await
            .unwrap();
            let pk_of = |t: String| async move {
                let cols: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk",
                )
                .bind(t)
                .fetch_all(p)
                .await
                .unwrap();
                cols
            };
            for t in &tables {
                out.insert(format!("pk {t} ({})", pk_of(t.clone()).await.join(", ")));
                let indexes: Vec<(String, i64, String)> = sqlx::query_as(
                    "SELECT name, \"unique\", origin FROM pragma_index_list($1) ORDER BY name",
                )
                .bind(t)
                .fetch_all(p)
                .await
                .unwrap();
                for (name, unique, origin) in indexes {
                    let cols: Vec<Option<String>> =
                        sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                            .bind(&name)
                            .fetch_all(p)
                            .await
                            .unwrap();
                    let cols = cols
                        .into_iter()
                        .map(|c| c.unwrap_or_else(|| "<expr>".into()))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql: Option<String> = sqlx::query_scalar(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1",
                    )
                    .bind(&name)
                    .fetch_optional(p)
                    .await
                    .unwrap()
                    .flatten();
                    let pred = predicate(sql.as_deref().and_then(|s| {
                        let at = s.to_lowercase().rfind(" where ")?;
                        Some(s[at + 7..].to_owned())
                    }));
                    match origin.as_str() {
                        "pk" => {}
                        "u" => {
                            out.insert(format!("unique {t} ({cols})"));
                        }
                        _ => {
                            if unique == 1 {
                                out.insert(format!("unique {t} ({cols}){pred}"));
                            }
                            let u = if unique == 1 { " unique" } else { "" };
                            out.insert(format!("index {t}.{name} ({cols}){u}{pred}"));
                        }
                    }
                }
                let fks: Vec<(i64, String, String, Option<String>, String)> = sqlx::query_as(
                    "SELECT id, \"table\", \"from\", \"to\", on_delete \
                     FROM pragma_foreign_key_list($1) ORDER BY id, seq",
                )
                .bind(t)
                .fetch_all(p)
                .await
                .unwrap();
                let ids: BTreeSet<i64> = fks.iter().map(|f| f.0).collect();
                for id in ids {
                    let parts: Vec<_> = fks.iter().filter(|f| f.0 == id).collect();
                    let target = parts[0].1.clone();
                    let from: Vec<&str> = parts.iter().map(|f| f.2.as_str()).collect();
                    // `REFERENCES t` without columns means t's primary key.
                    let to: Vec<String> = if parts.iter().all(|f| f.3.is_some()) {
                        parts.iter().map(|f| f.3.clone().unwrap()).collect()
                    } else {
                        pk_of(target.clone()).await
                    };
                    out.insert(format!(
                        "fk {t} ({}) -> {target} ({}) on delete {}",
                        from.join(", "),
                        to.join(", "),
                        parts[0].4.to_lowercase()
                    ));
                }
            }
        }
        Db::Postgres(p) => {
            let pks: Vec<(String, Vec<String>)> = sqlx::query_as(
                "SELECT t.relname::text, ARRAY(SELECT a.attname::text FROM unnest(c.conkey) \
                 WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.conrelid \
                 AND a.attnum = k.n ORDER BY k.o) \
                 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
                 JOIN pg_namespace s ON s.oid = t.relnamespace \
                 WHERE c.contype = 'p' AND s.nspname = current_schema() \
                 AND t.relname NOT LIKE '\\_sqlx%'",
            )
            .fetch_all(p)
            .await
            .unwrap();
            for (t, cols) in pks {
                out.insert(format!("pk {t} ({})", cols.join(", ")));
            }
            let indexes: Vec<PgIndex> =
                sqlx::query_as(
                    "SELECT c.relname::text, i.relname::text, ix.indisunique, \
                     (SELECT con.contype::text FROM pg_constraint con \
                      WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x') LIMIT 1), \
                     pg_get_expr(ix.indpred, ix.indrelid), \
                     ARRAY(SELECT COALESCE(a.attname::text, '<expr>') \
                           FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(n, o) \
                           LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n \
                           ORDER BY k.o) \
                     FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
                     JOIN pg_class c ON c.oid = ix.indrelid \
                     JOIN pg_namespace s ON s.oid = c.relnamespace \
                     WHERE s.nspname = current_schema() AND c.relname NOT LIKE '\\_sqlx%'",
                )
                .fetch_all(p)
                .await
                .unwrap();
            for (t, name, unique, contype, pred, cols) in indexes {
                let cols = cols.join(", ");
                let pred = predicate(pred);
                match contype.as_deref() {
                    Some("p") => {}
                    Some(_) => {
                        out.insert(format!("unique {t} ({cols})"));
                    }
                    None => {
                        if unique {
                            out.insert(format!("unique {t} ({cols}){pred}"));
                        }
                        let u = if unique { " unique" } else { "" };
                        out.insert(format!("index {t}.{name} ({cols}){u}{pred}"));
                    }
                }
            }
            let fks: Vec<PgForeignKey> = sqlx::query_as(
                "SELECT t.relname::text, r.relname::text, \
                 ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) \
                       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), \
                 ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o) \
                       JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o), \
                 c.confdeltype::text \
                 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
                 JOIN pg_class r ON r.oid = c.confrelid \
                 JOIN pg_namespace s ON s.oid = t.relnamespace \
                 WHERE c.contype = 'f' AND s.nspname = current_schema()",
            )
            .fetch_all(p)
            .await
            .unwrap();
            for (t, target, from, to, del) in fks {
                let del = match del.as_str() {
                    "a" => "no action",
                    "r" => "restrict",
                    "c" => "cascade",
                    "n" => "set null",
                    "d" => "set default",
                    other => panic!("unknown ON DELETE action {other:?}"),
                };
                out.insert(format!(
                    "fk {t} ({}) -> {target} ({}) on delete {del}",
                    from.join(", "),
                    to.join(", ")
                ));
            }
        }
    }
    out
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_sync() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(
        &DbUrl::parse(&format!("sqlite://{}", dir.path().join("w.db").display())).unwrap(),
        &StoreOptions::default(),
    )
    .await
    .unwrap();
    let Db::Sqlite(p) = &db else {
        panic!("sqlite expected")
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(p)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(p)
        .await
        .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(p)
        .await
        .unwrap();
    assert_eq!(fk, 1);
}

/// The WeCom apply lock serialises nodes on PostgreSQL, and a holder dropped on an error path
/// (without `release`) frees it rather than parking it on a pooled connection.
#[tokio::test]
async fn wecom_apply_lock_serialises_and_frees_on_drop() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let db = fresh_pg().await;
    let first = yutang_store::wecom::inbox::lock_apply(&db).await.unwrap();
    let got = Arc::new(AtomicBool::new(false));
    let (db2, got2) = (db.clone(), got.clone());
    let waiter = tokio::spawn(async move {
        let second = yutang_store::wecom::inbox::lock_apply(&db2).await.unwrap();
        got2.store(true, Ordering::SeqCst);
        second.release().await.unwrap();
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!got.load(Ordering::SeqCst), "a second holder got the lock");
    drop(first);
    tokio::time::timeout(std::time::Duration::from_secs(20), waiter)
        .await
        .expect("the lock was freed when its holder was dropped")
        .unwrap();
    assert!(got.load(Ordering::SeqCst));
    // Released normally, it can be taken again at once.
    yutang_store::wecom::inbox::lock_apply(&db)
        .await
        .unwrap()
        .release()
        .await
        .unwrap();
}
