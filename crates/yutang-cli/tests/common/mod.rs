//! What the CLI's test binaries share.

use rand::Rng;

/// A fresh, empty PostgreSQL database on `YUTANG_TEST_PG` (default: the local server): its URL.
pub async fn fresh_pg_url() -> String {
    let base = std::env::var("YUTANG_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("yutang_test_{:016x}", rand::thread_rng().r#gen::<u64>());
    let pool = sqlx::PgPool::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    pool.close().await;
    let (head, _) = base
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("YUTANG_TEST_PG has no database: {base}"));
    format!("{head}/{name}")
}
