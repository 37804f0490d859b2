#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `yutang backup` on SQLite: the copy is consistent while writers keep writing, opens as a
//! database with the same migrations, and never overwrites a file.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use yutang_store::backup::{backup_sqlite, verify_sqlite};
use yutang_store::{Db, DbUrl, StoreOptions};

async fn count(db: &Db, sql: &'static str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

#[tokio::test]
async fn a_backup_is_consistent_while_writers_write() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("live.db").display());
    let db = Db::connect(&DbUrl::parse(&url).unwrap(), &StoreOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let Db::Sqlite(pool) = &db else { panic!() };
    for i in 0..500 {
        sqlx::query("INSERT INTO customers (name, created_at, updated_at) VALUES ($1, $2, $2)")
            .bind(format!("c{i}"))
            .bind(i)
            .execute(pool)
            .await
            .unwrap();
    }
    // A writer keeps inserting customers, each with an event, in one transaction: a
    // consistent copy holds exactly one `created` event per customer, whatever it caught.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (pool, stop) = (pool.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let mut tx = pool.begin().await.unwrap();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO customers (created_at, updated_at) VALUES (1, 1) RETURNING id",
                )
                .fetch_one(&mut *tx)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO events (customer_id, kind, occurred_at, received_at, detail) \
                     VALUES ($1, 'created', 1, 1, '{}')",
                )
                .bind(id)
                .execute(&mut *tx)
                .await
                .unwrap();
                tx.commit().await.unwrap();
                n += 1;
                tokio::task::yield_now().await;
            }
            n
        })
    };
    // Wait until the writer has committed something, so the copy races real writes.
    while count(&db, "SELECT COUNT(*) FROM events").await < 20 {
        tokio::task::yield_now().await;
    }
    let to = dir.path().join("copy.db");
    let report = backup_sqlite(&db, &to).await.unwrap();
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written >= 20);
    let rows = |t: &str| {
        report
            .tables
            .iter()
            .find(|(n, _)| n == t)
            .map(|(_, n)| *n)
            .unwrap()
    };
    assert_eq!(
        rows("customers") - 500,
        rows("events"),
        "{:?}",
        report.tables
    );
    assert!(rows("events") >= 20);
    assert!(report.bytes > 0);
    // The copy opens as a Yutang database with nothing to migrate.
    let copy = Db::connect(
        &DbUrl::parse(&format!("sqlite://{}", to.display())).unwrap(),
        &StoreOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        count(&copy, "SELECT COUNT(*) FROM _sqlx_migrations").await,
        count(&db, "SELECT COUNT(*) FROM _sqlx_migrations").await
    );
    copy.migrate().await.unwrap();
    // A second backup to the same file is refused and leaves the first copy as it was.
    let before = verify_sqlite(&to).await.unwrap().tables;
    let again = backup_sqlite(&db, &to).await.unwrap_err();
    assert!(again.to_string().contains("exists"), "{again}");
    assert_eq!(verify_sqlite(&to).await.unwrap().tables, before);
}
