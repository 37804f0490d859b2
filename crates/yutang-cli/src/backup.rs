//! `yutang backup --to FILE`: an online, consistent backup of the configured database.
//!
//! SQLite: `VACUUM INTO` from one read transaction while the server keeps serving, then the
//! copy is opened read-only, integrity-checked and its rows counted per table. PostgreSQL:
//! `pg_dump --format=custom` (one snapshot too), restored with `pg_restore`; the dump is
//! checked by listing it with `pg_restore --list`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use yutang_app::Settings;
use yutang_store::{Db, DbUrl, StoreOptions};

pub async fn run(settings: &Settings, to: &Path) -> Result<()> {
    let url = DbUrl::parse(&settings.database_url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = Db::connect(&url, &StoreOptions::default())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match &db {
        Db::Sqlite(_) => {
            let r = yutang_store::backup::backup_sqlite(&db, to)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "backup written: {} ({} bytes, integrity ok)",
                to.display(),
                r.bytes
            );
            for (table, rows) in &r.tables {
                println!("  {table:<32} {rows:>12}");
            }
            println!("restore: stop the server and use the file as the database (sqlite://…)");
            Ok(())
        }
        Db::Postgres(_) => {
            if to.exists() {
                bail!("{} exists; choose a new file", to.display());
            }
            let status = Command::new("pg_dump")
                .arg("--format=custom")
                .arg("--file")
                .arg(to)
                .arg(&settings.database_url)
                .status()
                .context("running pg_dump (install PostgreSQL's client tools, e.g. Debian's postgresql-client)")?;
            if !status.success() {
                bail!("pg_dump failed ({status})");
            }
            let list = Command::new("pg_restore")
                .arg("--list")
                .arg(to)
                .output()
                .context("running pg_restore --list to check the dump")?;
            if !list.status.success() {
                bail!(
                    "the dump does not read back: {}",
                    String::from_utf8_lossy(&list.stderr)
                );
            }
            let tables = String::from_utf8_lossy(&list.stdout)
                .lines()
                .filter(|l| l.contains(" TABLE DATA "))
                .count();
            println!(
                "backup written: {} (pg_dump custom format, {tables} tables of data)",
                to.display()
            );
            println!(
                "restore: pg_restore --clean --if-exists --dbname <url> {}",
                to.display()
            );
            Ok(())
        }
    }
}
