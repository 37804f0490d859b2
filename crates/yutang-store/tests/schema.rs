#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The two migration trees must describe the same schema: same tables, same columns, same
//! nullability (types differ by dialect on purpose: INTEGER vs BIGINT, INTEGER vs BOOLEAN).

use rand::Rng;
use yutang_store::{Db, DbUrl, StoreOptions};

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
    let first = yutang_store::wecom::lock_apply(&db).await.unwrap();
    let got = Arc::new(AtomicBool::new(false));
    let (db2, got2) = (db.clone(), got.clone());
    let waiter = tokio::spawn(async move {
        let second = yutang_store::wecom::lock_apply(&db2).await.unwrap();
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
    yutang_store::wecom::lock_apply(&db)
        .await
        .unwrap()
        .release()
        .await
        .unwrap();
}
