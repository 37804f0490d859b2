//! `yutang bench points`: the points ledger's hot paths on a seeded demo brand, each against a
//! floor measured in the same run on the same database:
//!
//! - posting: `entries` earnings through the use case (one transaction each: the account row
//!   locked, the entry, its lot, the balance), `concurrency` at a time over `accounts`
//!   customers — against the same number of one-row INSERT transactions into a scratch table
//!   (the cost of any durable write on this engine);
//! - the same postings in batches of 500 through the batch use case (one transaction each,
//!   set-based), 4 at a time;
//! - the balance read: a customer's stored balance (one row by key) against summing their
//!   entries, the read a ledger without stored balances would make;
//! - the expiry run: every lot made due, then one run over all of them, in lots per second.
//!
//! Prints rates and ratios; never asserts a timing.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use yutang_app::loyalty::points::{EarnItem, EarnOutcome, EarnSource};
use yutang_app::settings::Settings;
use yutang_app::{Actor, App};
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::points::Points;
use yutang_store::Db;

use crate::bench_flash::fresh_pg;

pub struct Params {
    pub accounts: usize,
    pub entries: usize,
    pub concurrency: usize,
    /// `sqlite`, `postgres` or `both`.
    pub engines: String,
    pub pg_url: String,
}

fn now_ms() -> i64 {
    yutang_core::time::Millis::now().0
}

pub async fn points(p: Params) -> Result<()> {
    let engines: Vec<&str> = match p.engines.as_str() {
        "both" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => bail!("--engines is sqlite, postgres or both, not {other}"),
    };
    for engine in engines {
        let dir = std::env::temp_dir().join(format!("yutang-bench-points-{}", now_ms()));
        std::fs::create_dir_all(&dir)?;
        let url = match engine {
            "sqlite" => format!("sqlite://{}", dir.join("bench.db").display()),
            _ => fresh_pg(&p.pg_url).await?,
        };
        let done = run_engine(engine, url, &p).await;
        let _ = std::fs::remove_dir_all(&dir);
        done?;
    }
    Ok(())
}

async fn exec(db: &Db, sql: &str) -> Result<()> {
    match db {
        Db::Sqlite(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(p)
                .await?;
        }
        Db::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(p)
                .await?;
        }
    }
    Ok(())
}

async fn scalar(db: &Db, sql: &str, bind: i64) -> Result<i64> {
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
                .bind(bind)
                .fetch_one(p)
                .await?
        }
        Db::Postgres(p) => {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
                .bind(bind)
                .fetch_one(p)
                .await?
        }
    })
}

/// Run `n` jobs `concurrency` at a time; the rate per second.
async fn rate<F, Fut>(n: usize, concurrency: usize, job: F) -> Result<f64>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let job = job.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<(), anyhow::Error>(());
                }
                job(i).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64().max(1e-9))
}

async fn run_engine(label: &str, url: String, p: &Params) -> Result<()> {
    let settings = Settings {
        database_url: url,
        ..Settings::default()
    };
    let app = App::open(settings).await.map_err(|e| anyhow!("{e}"))?;
    eprintln!("  {label}: seeding {} customers …", p.accounts);
    app.demo()
        .seed_demo(p.accounts, &|_, _, _| {})
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let ids: Vec<i64> = match &app.db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT id FROM customers WHERE merged_into IS NULL ORDER BY id")
                .fetch_all(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT id FROM customers WHERE merged_into IS NULL ORDER BY id")
                .fetch_all(pool)
                .await?
        }
    };
    if ids.is_empty() {
        bail!("the demo seeded no customers");
    }
    let ids = Arc::new(ids);
    let run = now_ms();

    // Posting through the use case.
    let ledger = {
        let app = app.clone();
        let ids = ids.clone();
        rate(p.entries, p.concurrency, move |i| {
            let app = app.clone();
            let ids = ids.clone();
            async move {
                let c = ids[i % ids.len()];
                app.points()
                    .earn(
                        &Actor::system(),
                        CustomerId(c),
                        Points::parse("points", 10).map_err(|e| anyhow!("{e}"))?,
                        EarnSource::Campaign,
                        &format!("b{run}-{i}"),
                        "",
                    )
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                Ok(())
            }
        })
        .await?
    };

    // Posting in batches of 500 (the batch endpoint's use case), 4 batches at a time.
    let batches = p.entries.div_ceil(500);
    let batched = {
        let app = app.clone();
        let ids = ids.clone();
        let per_batch = rate(batches, 4, move |b| {
            let app = app.clone();
            let ids = ids.clone();
            async move {
                let items: Vec<EarnItem> = (0..500)
                    .map(|j| {
                        let i = b * 500 + j;
                        EarnItem {
                            customer_id: ids[i % ids.len()],
                            points: 10,
                            source_type: EarnSource::Checkin,
                            source_id: format!("b{run}-{i}"),
                            reason: String::new(),
                        }
                    })
                    .collect();
                let out = app
                    .points()
                    .earn_batch(&Actor::system(), &items)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                if out
                    .iter()
                    .any(|o| !matches!(o, EarnOutcome::Created { .. }))
                {
                    bail!("a batch item was not created");
                }
                Ok(())
            }
        })
        .await?;
        per_batch * 500.0
    };

    // The floor: one-row INSERT transactions.
    exec(
        &app.db,
        "CREATE TABLE bench_floor (k TEXT PRIMARY KEY, customer_id BIGINT NOT NULL, v BIGINT NOT NULL)",
    )
    .await?;
    let floor = {
        let db = app.db.clone();
        let ids = ids.clone();
        rate(p.entries, p.concurrency, move |i| {
            let db = db.clone();
            let ids = ids.clone();
            async move {
                let c = ids[i % ids.len()];
                let k = format!("f{i}");
                match &db {
                    Db::Sqlite(pool) => {
                        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                        sqlx::query(
                            "INSERT INTO bench_floor (k, customer_id, v) VALUES ($1, $2, 10)",
                        )
                        .bind(&k)
                        .bind(c)
                        .execute(&mut *tx)
                        .await?;
                        tx.commit().await?;
                    }
                    Db::Postgres(pool) => {
                        let mut tx = pool.begin().await?;
                        sqlx::query(
                            "INSERT INTO bench_floor (k, customer_id, v) VALUES ($1, $2, 10)",
                        )
                        .bind(&k)
                        .bind(c)
                        .execute(&mut *tx)
                        .await?;
                        tx.commit().await?;
                    }
                }
                Ok(())
            }
        })
        .await?
    };
    exec(&app.db, "DROP TABLE bench_floor").await?;
    println!(
        "{label}: posting {} entries over {} accounts ({} at a time): {:.0} entries/s; \
         one-row INSERT transactions {:.0}/s; ratio {:.2}",
        p.entries,
        ids.len(),
        p.concurrency,
        ledger,
        floor,
        ledger / floor.max(1e-9)
    );
    println!(
        "{label}: posting {} entries in batches of 500 (4 at a time): {:.0} entries/s; \
         ratio {:.2} to the one-row floor, {:.2} to one posting per transaction",
        batches * 500,
        batched,
        batched / floor.max(1e-9),
        batched / ledger.max(1e-9)
    );

    // The balance read: stored balance vs summing the entries.
    let reads = 2000usize.min(ids.len() * 4);
    let stored = {
        let db = app.db.clone();
        let ids = ids.clone();
        rate(reads, 1, move |i| {
            let db = db.clone();
            let ids = ids.clone();
            async move {
                scalar(
                    &db,
                    "SELECT balance FROM points_accounts WHERE customer_id = $1",
                    ids[i % ids.len()],
                )
                .await?;
                Ok(())
            }
        })
        .await?
    };
    let summed = {
        let db = app.db.clone();
        let ids = ids.clone();
        rate(reads, 1, move |i| {
            let db = db.clone();
            let ids = ids.clone();
            async move {
                scalar(
                    &db,
                    "SELECT CAST(COALESCE(SUM(CASE WHEN credit = 'customer' THEN amount \
                     ELSE -amount END), 0) AS BIGINT) FROM points_entries WHERE customer_id = $1",
                    ids[i % ids.len()],
                )
                .await?;
                Ok(())
            }
        })
        .await?
    };
    let per_customer = p.entries as f64 / ids.len() as f64;
    println!(
        "{label}: balance reads {stored:.0}/s from the account row vs {summed:.0}/s summing \
         ~{per_customer:.0} entries per customer; ratio {:.2}",
        stored / summed.max(1e-9)
    );

    // The expiry run over every lot.
    exec(
        &app.db,
        "UPDATE points_lots SET expires_at = 1 WHERE remaining > 0",
    )
    .await?;
    let lots = scalar(
        &app.db,
        "SELECT COUNT(*) FROM points_lots WHERE remaining > $1",
        0,
    )
    .await?;
    let start = Instant::now();
    app.points()
        .run_expiry(0)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let secs = start.elapsed().as_secs_f64();
    let per_sec = lots as f64 / secs.max(1e-9);
    let l = app
        .points()
        .liability(&Actor::system())
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "{label}: expiry run over {lots} lots in {secs:.1} s: {per_sec:.0} lots/s (10M lots ≈ {:.0} min); books balanced: {}",
        10_000_000.0 / per_sec.max(1e-9) / 60.0,
        l.balanced
    );
    if !l.balanced || l.outstanding != 0 {
        bail!("{label}: the books do not balance after the run: {l:?}");
    }
    Ok(())
}
