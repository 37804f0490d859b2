//! Online backups.
//!
//! SQLite: `VACUUM INTO` writes a consistent, compacted copy of the database from one read
//! transaction while the server keeps serving (writers are not blocked under WAL); the copy
//! is a normal database file that `yutang serve --database-url sqlite://copy` opens as is.
//! PostgreSQL has `pg_dump` for this (docs/operations.md); the CLI runs it.

use std::path::Path;

use crate::Db;
use crate::error::{Result, StoreError};

/// What a backup wrote: rows per table of the copy, and its integrity check.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub tables: Vec<(String, i64)>,
    pub bytes: u64,
}

/// Copy a SQLite database to `to` (which must not exist) and verify the copy: SQLite's
/// `integrity_check` must answer `ok`, and its rows are counted per table.
pub async fn backup_sqlite(db: &Db, to: &Path) -> Result<BackupReport> {
    let Db::Sqlite(pool) = db else {
        return Err(StoreError::Refused {
            code: "backup_engine",
            message: "VACUUM INTO backs up SQLite; use pg_dump for PostgreSQL".into(),
        });
    };
    if to.exists() {
        return Err(StoreError::Refused {
            code: "backup_target_exists",
            message: format!("{} exists; choose a new file", to.display()),
        });
    }
    let target = to.to_str().ok_or_else(|| StoreError::Refused {
        code: "backup_target_path",
        message: "the backup path must be valid UTF-8".into(),
    })?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(pool)
        .await?;
    verify_sqlite(to).await
}

/// Open a SQLite file read-only, check its integrity and count the rows of every table.
pub async fn verify_sqlite(path: &Path) -> Result<BackupReport> {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if check != "ok" {
        return Err(StoreError::Refused {
            code: "backup_corrupt",
            message: format!("the copy failed SQLite's integrity check: {check}"),
        });
    }
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        // Names come from sqlite_master of the copy; quoted as identifiers.
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM \"{}\"",
            name.replace('"', "\"\"")
        )))
        .fetch_one(&mut conn)
        .await?;
        tables.push((name, n));
    }
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport { tables, bytes })
}
