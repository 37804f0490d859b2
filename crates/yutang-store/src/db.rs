//! Choosing and opening the engine.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::error::{Result, StoreError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// A database URL whose engine is known. Only `sqlite:` and `postgres:`/`postgresql:` are
/// accepted: a bare path or a typo is refused rather than silently creating an empty SQLite
/// file somewhere unexpected.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    url: String,
    engine: Engine,
}

impl DbUrl {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let engine = if s.starts_with("sqlite:") {
            Engine::Sqlite
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Engine::Postgres
        } else {
            return Err(StoreError::Url(format!(
                "{:?} is neither a sqlite: nor a postgres:// URL (e.g. sqlite://yutang.db or postgres://user@host/db)",
                redact(s)
            )));
        };
        Ok(Self {
            url: s.to_owned(),
            engine,
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The URL itself, with the password: only for connecting.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The file path of a SQLite URL.
    pub fn sqlite_path(&self) -> Option<&str> {
        if self.engine != Engine::Sqlite {
            return None;
        }
        let rest = self.url.trim_start_matches("sqlite:");
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        Some(rest.split('?').next().unwrap_or(rest))
    }
}

/// Prints the URL with any password replaced by `***`.
impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.url))
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({})", redact(&self.url))
    }
}

/// Replace the password in `scheme://user:password@host` with `***`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            // set_password only fails for cannot-be-a-base URLs, which have no password.
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Pool and durability settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// SQLite `synchronous=FULL` (default): an acknowledged commit survives power loss.
    /// `false` selects `NORMAL`, safe against process crashes only; see
    /// docs/decisions/0001-storage.md.
    pub sqlite_synchronous_full: bool,
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            sqlite_synchronous_full: true,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The database: one closed enum rather than a generic, so application state carries no type
/// parameter.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    pub async fn connect(url: &DbUrl, opts: &StoreOptions) -> Result<Self> {
        match url.engine() {
            Engine::Sqlite => {
                let co = SqliteConnectOptions::from_str(url.expose())
                    .map_err(|e| StoreError::Url(format!("{url}: {e}")))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(if opts.sqlite_synchronous_full {
                        SqliteSynchronous::Full
                    } else {
                        SqliteSynchronous::Normal
                    })
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(co)
                    .await
                    .map_err(StoreError::Database)?;
                Ok(Db::Sqlite(pool))
            }
            Engine::Postgres => {
                let co = PgConnectOptions::from_str(url.expose())
                    .map_err(|e| StoreError::Url(format!("{url}: {e}")))?
                    .application_name("yutang");
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(co)
                    .await
                    .map_err(StoreError::Database)?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Apply pending migrations of this engine's tree.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Versions of the embedded migrations per engine; a test keeps the two lists equal.
    pub fn migration_versions(engine: Engine) -> Vec<i64> {
        let m = match engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        m.iter().map(|m| m.version).collect()
    }

    /// Apply this engine's migrations up to and including `version` only: a database as a
    /// release that shipped with them left it (the upgrade test starts from there).
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        match self {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run_to(version, p).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run_to(version, p).await?,
        }
        Ok(())
    }

    /// SHA-256 over the checksums of this engine's embedded migrations up to `version`, in
    /// order: recorded per release in `migrations/RELEASES`, so a migration that shipped is
    /// never edited afterwards (a database migrated by that release would refuse to start).
    pub fn migrations_digest(engine: Engine, version: i64) -> String {
        use sha2::{Digest as _, Sha256};
        let m = match engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        let mut h = Sha256::new();
        for m in m.iter().filter(|m| m.version <= version) {
            h.update(m.version.to_le_bytes());
            h.update(&m.checksum);
        }
        hex::encode(h.finalize())
    }

    /// Versions of the migrations applied to this database, in order.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        db_run!(self, pool => {
            Ok(sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// Round-trip to the database, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        db_run!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await.map_err(StoreError::Database)?;
        });
        Ok(())
    }

    /// Refresh the planner's statistics (`ANALYZE` on either engine) after a bulk load. A
    /// table loaded in one go is planned from empty-table statistics until autovacuum (or
    /// nothing, on SQLite) gets to it: PostgreSQL then estimated 129 live customers of
    /// 50,000 and sorted them all for a 20-row page (20 ms instead of 0.04 ms).
    /// SQLite samples at most 1,000 rows per index (`analysis_limit`), so this stays quick on
    /// a large file.
    pub async fn analyze(&self) -> Result<()> {
        match self {
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(StoreError::Database)?;
                sqlx::query("PRAGMA analysis_limit = 1000")
                    .execute(&mut *conn)
                    .await
                    .map_err(StoreError::Database)?;
                sqlx::query("ANALYZE")
                    .execute(&mut *conn)
                    .await
                    .map_err(StoreError::Database)?;
            }
            Db::Postgres(pool) => {
                sqlx::query("ANALYZE")
                    .execute(pool)
                    .await
                    .map_err(StoreError::Database)?;
            }
        }
        Ok(())
    }

    /// Whether the database already holds any staff (used by `yutang demo` to refuse to
    /// overwrite a real installation, and by `serve` to bootstrap the first admin).
    pub async fn is_empty(&self) -> Result<bool> {
        let n: i64 = db_run!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM staff").fetch_one(pool).await?
        });
        Ok(n == 0)
    }

    /// Table → sorted (column, nullable) pairs from the engine's catalogue, to check that the
    /// two migration trees describe the same schema.
    pub async fn introspect(&self) -> Result<Vec<(String, Vec<(String, bool)>)>> {
        let mut out: Vec<(String, Vec<(String, bool)>)> = Vec::new();
        match self {
            Db::Sqlite(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
                )
                .fetch_all(pool)
                .await?;
                for t in tables {
                    let cols: Vec<(String, i64, i64)> = sqlx::query_as(
                        "SELECT name, \"notnull\", pk FROM pragma_table_info($1) ORDER BY name",
                    )
                    .bind(&t)
                    .fetch_all(pool)
                    .await?;
                    // An INTEGER PRIMARY KEY is never NULL even though SQLite reports notnull=0.
                    let cols = cols
                        .into_iter()
                        .map(|(n, notnull, pk)| (n, notnull == 0 && pk == 0))
                        .collect();
                    out.push((t, cols));
                }
            }
            Db::Postgres(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE '_sqlx%' ORDER BY table_name",
                )
                .fetch_all(pool)
                .await?;
                for t in tables {
                    let cols: Vec<(String, String)> = sqlx::query_as(
                        "SELECT column_name::text, is_nullable::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY column_name",
                    )
                    .bind(&t)
                    .fetch_all(pool)
                    .await?;
                    let cols = cols
                        .into_iter()
                        .map(|(n, nullable)| (n, nullable == "YES"))
                        .collect();
                    out.push((t, cols));
                }
            }
        }
        Ok(out)
    }

    pub async fn close(&self) {
        db_run!(self, pool => pool.close().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_engine_is_explicit() {
        assert_eq!(
            DbUrl::parse("sqlite://yutang.db").map(|u| u.engine()).ok(),
            Some(Engine::Sqlite)
        );
        assert_eq!(
            DbUrl::parse("sqlite:yutang.db").map(|u| u.engine()).ok(),
            Some(Engine::Sqlite)
        );
        assert_eq!(
            DbUrl::parse("postgresql://u:p@h/db")
                .map(|u| u.engine())
                .ok(),
            Some(Engine::Postgres)
        );
        assert!(DbUrl::parse("yutang.db").is_err());
        assert!(DbUrl::parse("\"sqlite://x.db\"").is_err());
        assert!(DbUrl::parse("mysql://h/db").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        let u = DbUrl::parse("postgres://yutang:s3cret@db.local:5432/yutang").ok();
        let shown = u.map(|u| u.to_string()).unwrap_or_default();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn sqlite_path() {
        let u = DbUrl::parse("sqlite://data/yutang.db?mode=rwc").ok();
        assert_eq!(
            u.as_ref().and_then(|u| u.sqlite_path()),
            Some("data/yutang.db")
        );
    }

    #[test]
    fn migration_trees_have_the_same_versions() {
        let s = Db::migration_versions(Engine::Sqlite);
        assert!(!s.is_empty());
        assert_eq!(s, Db::migration_versions(Engine::Postgres));
    }
}
