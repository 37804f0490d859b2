//! `yutang bench messaging`: preparing a mass message to a segment of `customers` (issue #21:
//! "a mass message to a 1M-customer segment is prepared — recipients resolved, caps and
//! exclusions applied, one WeCom task per guide in batches — in < 60 s on both engines").
//!
//! The data is written straight into a fresh database with set-based SQL: `guides` guides
//! with WeCom userids in one store, `customers` customers each with a WeCom contact id and an
//! active relation with one guide; every 20th customer has already received a message today
//! (the daily cap excludes them), every 50th deleted their guide. The segment is
//! `order_count >= 0` (everyone). Three timings, same data, same process:
//!
//! - **floor**: reading the rows the decision needs once, with no decision — every follow
//!   with its guide and every contact id, in the same chunks the preparation reads them;
//! - **preview**: resolving the segment and deciding every customer (no writes);
//! - **prepare**: the prepare job itself — the decision plus one transaction writing a
//!   recipient row per customer, one task per guide, the ledger and the send job.
//!
//! Prints each and the ratios to the floor; never asserts a timing.

use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use yutang_app::messaging::MessageInput;
use yutang_app::settings::Settings;
use yutang_app::{Actor, App};
use yutang_core::messaging::{Audience, AudienceForm, Content};
use yutang_store::Db;

use crate::bench_flash::fresh_pg;

pub struct Params {
    pub customers: u64,
    pub guides: u64,
    /// `sqlite`, `postgres` or `both`.
    pub engines: String,
    pub pg_url: String,
}

fn now_ms() -> i64 {
    yutang_core::time::Millis::now().0
}

pub async fn messaging(p: Params) -> Result<()> {
    if p.customers == 0 || p.guides == 0 {
        bail!("--customers and --guides are at least 1");
    }
    let engines: Vec<&str> = match p.engines.as_str() {
        "both" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => bail!("--engines is sqlite, postgres or both, not {other}"),
    };
    for engine in engines {
        let dir = std::env::temp_dir().join(format!("yutang-bench-messaging-{}", now_ms()));
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

/// Run raw SQL (several statements) on either engine.
pub(crate) async fn exec(db: &Db, sql: String) -> Result<()> {
    match db {
        Db::Sqlite(pool) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(pool)
                .await?;
        }
        Db::Postgres(pool) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

async fn count(db: &Db, sql: &'static str) -> Result<i64> {
    Ok(match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
    })
}

/// `n` rows numbered 1..=n, as each engine writes a series.
pub(crate) fn series(db: &Db, n: u64) -> String {
    match db {
        Db::Sqlite(_) => format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
        ),
        Db::Postgres(_) => format!("WITH s(i) AS (SELECT generate_series(1, {n})) "),
    }
}

/// The guides, customers, contact ids, relations and today's ledger, written set-based.
async fn load(db: &Db, p: &Params, store: i64) -> Result<()> {
    let now = now_ms();
    let (c, g) = (p.customers, p.guides);
    let guides = series(db, g);
    exec(
        db,
        format!(
            "{guides}INSERT INTO staff (username, display_name, role, store_id, status, \
             wecom_userid, created_at, updated_at) SELECT 'bench.g' || i, '导购' || i, 'guide', \
             {store}, 'active', 'bench_g' || i, {now}, {now} FROM s"
        ),
    )
    .await?;
    let first_guide = count(
        db,
        "SELECT MIN(id) FROM staff WHERE username LIKE 'bench.g%'",
    )
    .await?;
    let all = series(db, c);
    exec(
        db,
        format!(
            "{all}INSERT INTO customers (id, name, created_at, updated_at) \
             SELECT i, '客户' || i, {now}, {now} FROM s"
        ),
    )
    .await?;
    exec(
        db,
        format!(
            "{all}INSERT INTO customer_identities (customer_id, kind, namespace, value, \
             created_at) SELECT i, 'wecom_external', '', 'wmBench' || i, {now} FROM s"
        ),
    )
    .await?;
    exec(
        db,
        format!(
            "{all}INSERT INTO follows (customer_id, staff_id, since, state, is_owner, updated_at) \
             SELECT i, {first_guide} + (((i * 2654435761) % 4294967296) % {g}), {now}, \
             CASE WHEN i % 50 = 0 THEN 'deleted_by_customer' ELSE 'active' END, TRUE, {now} FROM s"
        ),
    )
    .await?;
    exec(
        db,
        format!(
            "{all}INSERT INTO message_contacts (customer_id, source, wecom_mass, at) \
             SELECT i, 'bench:earlier', TRUE, {now} FROM s WHERE i % 20 = 0"
        ),
    )
    .await?;
    if let Db::Postgres(_) = db {
        exec(
            db,
            "SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT MAX(id) FROM customers)); \
             ANALYZE"
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}

/// The floor: every follow with its guide and every contact id, read once in the chunks the
/// preparation reads them (5,000 customers), without deciding anything.
async fn floor(db: &Db, customers: u64) -> Result<u64> {
    let mut rows = 0u64;
    let ids: Vec<i64> = (1..=i64::try_from(customers)?).collect();
    for chunk in ids.chunks(5000) {
        let follows = yutang_store::messaging::follows_of(db, chunk).await?;
        let ext = yutang_store::messaging::external_ids(db, chunk).await?;
        rows += (follows.len() + ext.len()) as u64;
    }
    Ok(rows)
}

async fn run_engine(engine: &str, url: String, p: &Params) -> Result<()> {
    let app = App::open(Settings {
        database_url: url,
        ..Settings::default()
    })
    .await
    .map_err(|e| anyhow!("{e}"))?;
    let sys = Actor::system();
    let now = now_ms();
    exec(
        &app.db,
        format!(
            "INSERT INTO stores (code, name, city, created_at, updated_at) \
             VALUES ('bench_m', '群发压测门店', '上海', {now}, {now})"
        ),
    )
    .await?;
    let store = count(&app.db, "SELECT MAX(id) FROM stores").await?;
    let t = Instant::now();
    load(&app.db, p, store).await.context("loading")?;
    println!(
        "{engine}: loaded {} customers, {} guides in {:.1}s",
        p.customers,
        p.guides,
        t.elapsed().as_secs_f64()
    );
    let segment = app
        .segments()
        .create_segment(&sys, "全部客户", "order_count >= 0")
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let audience = Audience::parse(AudienceForm {
        segment_id: Some(segment),
        ..AudienceForm::default()
    })
    .map_err(|e| anyhow!("{e:?}"))?;
    // Build the segment index before any timing (a serving node holds it already).
    let t = Instant::now();
    let warm = app
        .messaging()
        .preview(&sys, &audience, 0)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "{engine}: first preview (segment index built) {:.1}s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let rows = floor(&app.db, p.customers).await?;
    let floor_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let preview = app
        .messaging()
        .preview(&sys, &audience, 0)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let preview_s = t.elapsed().as_secs_f64();
    if preview.audience != warm.audience || preview.audience != p.customers {
        bail!("the preview counted {} customers", preview.audience);
    }

    // Whatever setting up queued runs now, so the next job due is the preparation.
    app.drain_jobs().await.map_err(|e| anyhow!("{e}"))?;
    let input = MessageInput::parse(
        "压测群发",
        Content::parse("压测", Vec::new()).map_err(|e| anyhow!("{e:?}"))?,
        audience,
        None,
        None,
    )
    .map_err(|e| anyhow!("{e}"))?;
    let id = app
        .messaging()
        .create(&sys, &input)
        .await
        .map_err(|e| anyhow!("{e}"))?
        .message
        .id;
    let t = Instant::now();
    // The prepare job is the one due now (nothing else is queued).
    if !app.run_one_job().await.map_err(|e| anyhow!("{e}"))? {
        bail!("no prepare job was due");
    }
    let prepare_s = t.elapsed().as_secs_f64();
    let m = yutang_store::messaging::get(&app.db, id).await?;
    if m.status != "sending" {
        bail!("the message is {} after its prepare job", m.status);
    }
    let tasks = yutang_store::messaging::tasks(&app.db, id).await?.len();
    let queued = count(
        &app.db,
        "SELECT COUNT(*) FROM mass_message_recipients WHERE state = 'queued'",
    )
    .await?;
    println!(
        "{engine}: {} customers → {} to send ({} excluded: {}), {tasks} tasks",
        preview.audience,
        preview.send,
        preview.excluded.values().sum::<u64>(),
        preview
            .excluded
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if u64::try_from(queued)? != preview.send {
        bail!(
            "prepared {queued} to send, the preview said {}",
            preview.send
        );
    }
    println!(
        "{engine}: floor (read follows + contact ids, {rows} rows) {floor_s:.2}s · preview \
         (segment + decide) {preview_s:.2}s = {:.1}× floor · prepare (decide + write) \
         {prepare_s:.2}s = {:.1}× floor (goal < 60 s)",
        preview_s / floor_s,
        prepare_s / floor_s
    );
    Ok(())
}
