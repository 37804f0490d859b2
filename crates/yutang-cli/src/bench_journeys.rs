//! `yutang bench journeys`: the journey engine's throughput (issue #21: "the journey engine
//! advances ≥ 1M customer-steps per hour on each engine; enrolment on an event adds < 1 ms to
//! the event's commit").
//!
//! `customers` customers are written set-based into a fresh database. Three timings, same
//! data, same process:
//!
//! - **floor**: one small transaction per customer-step doing what a step's bookkeeping does
//!   at the least — a guarded `UPDATE` of one row and one `INSERT` — with no engine;
//! - **schedule**: a one-off schedule journey over everyone (`order_count >= 0`) with four
//!   steps (tag, webhook signal, untag, webhook signal): one tick enrols every customer and
//!   walks each to the end — customer-steps per hour, against the floor;
//! - **events**: an event journey (`check_in`, first step a wait) and `customers` check-in
//!   events committed afterwards: the follower's tick reads them in commit order and enrols
//!   each customer. Enrolment happens in the follower, after the event's commit, so the
//!   commit itself pays nothing; the figure is the follower's cost per event.
//!
//! Prints each and the ratios; never asserts a timing.

use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use yutang_app::journeys::JourneyInput;
use yutang_app::settings::Settings;
use yutang_app::{Actor, App};
use yutang_core::journeys::{Definition, Entry, Step, Trigger};
use yutang_store::Db;

use crate::bench_flash::fresh_pg;
use crate::bench_messaging::{exec, series};

pub struct Params {
    pub customers: u64,
    /// `sqlite`, `postgres` or `both`.
    pub engines: String,
    pub pg_url: String,
}

fn now_ms() -> i64 {
    yutang_core::time::Millis::now().0
}

pub async fn journeys(p: Params) -> Result<()> {
    if p.customers == 0 {
        bail!("--customers is at least 1");
    }
    let engines: Vec<&str> = match p.engines.as_str() {
        "both" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => bail!("--engines is sqlite, postgres or both, not {other}"),
    };
    for engine in engines {
        let dir = std::env::temp_dir().join(format!("yutang-bench-journeys-{}", now_ms()));
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

async fn count(db: &Db, sql: String) -> Result<i64> {
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(pool)
                .await?
        }
    })
}

/// The floor: `n` transactions, each a guarded UPDATE of one row and one INSERT.
async fn floor(db: &Db, n: u64) -> Result<()> {
    exec(
        db,
        "CREATE TABLE bench_floor (id BIGINT PRIMARY KEY, step BIGINT NOT NULL); \
         CREATE TABLE bench_floor_log (run BIGINT NOT NULL, step BIGINT NOT NULL, at BIGINT NOT NULL); \
         INSERT INTO bench_floor (id, step) VALUES (1, 0)"
            .to_owned(),
    )
    .await?;
    for i in 0..i64::try_from(n)? {
        let mut tx = db.begin().await?;
        match &mut tx {
            yutang_store::tx::Tx::Sqlite(t) => {
                sqlx::query("UPDATE bench_floor SET step = $2 WHERE id = 1 AND step = $1")
                    .bind(i)
                    .bind(i + 1)
                    .execute(&mut **t)
                    .await?;
                sqlx::query("INSERT INTO bench_floor_log (run, step, at) VALUES (1, $1, $2)")
                    .bind(i)
                    .bind(now_ms())
                    .execute(&mut **t)
                    .await?;
            }
            yutang_store::tx::Tx::Postgres(t) => {
                sqlx::query("UPDATE bench_floor SET step = $2 WHERE id = 1 AND step = $1")
                    .bind(i)
                    .bind(i + 1)
                    .execute(&mut **t)
                    .await?;
                sqlx::query("INSERT INTO bench_floor_log (run, step, at) VALUES (1, $1, $2)")
                    .bind(i)
                    .bind(now_ms())
                    .execute(&mut **t)
                    .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

async fn journey(app: &App, name: &str, d: Definition) -> Result<i64> {
    let sys = Actor::system();
    let input = JourneyInput::parse(name, d, app.now()).map_err(|e| anyhow!("{e}"))?;
    let j = app.journeys();
    let id = j
        .create(&sys, &input)
        .await
        .map_err(|e| anyhow!("{e}"))?
        .journey
        .id;
    j.activate(&sys, id).await.map_err(|e| anyhow!("{e}"))?;
    Ok(id)
}

async fn run_engine(engine: &str, url: String, p: &Params) -> Result<()> {
    let app = App::open(Settings {
        database_url: url,
        ..Settings::default()
    })
    .await
    .map_err(|e| anyhow!("{e}"))?;
    let now = now_ms();
    let all = series(&app.db, p.customers);
    exec(
        &app.db,
        format!(
            "{all}INSERT INTO customers (id, name, created_at, updated_at) \
             SELECT i, '客户' || i, {now}, {now} FROM s"
        ),
    )
    .await?;
    exec(
        &app.db,
        format!(
            "INSERT INTO tag_groups (name, multi, sort, source, created_at, updated_at) \
             VALUES ('压测', TRUE, 0, 'manual', {now}, {now})"
        ),
    )
    .await?;
    let group = count(&app.db, "SELECT MAX(id) FROM tag_groups".into()).await?;
    exec(
        &app.db,
        format!(
            "INSERT INTO tags (group_id, name, color, sort, created_at, updated_at) \
             VALUES ({group}, '旅程压测', '', 0, {now}, {now})"
        ),
    )
    .await?;
    let tag = count(&app.db, "SELECT MAX(id) FROM tags".into()).await?;
    if let Db::Postgres(_) = app.db {
        exec(
            &app.db,
            "SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT MAX(id) FROM customers)); ANALYZE"
                .to_owned(),
        )
        .await?;
    }
    app.segments
        .rebuild(&app.db, app.now())
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let steps = 4u64;
    let n = p.customers;

    let t = Instant::now();
    floor(&app.db, n * steps).await?;
    let floor_s = t.elapsed().as_secs_f64();

    let at = app.now() + 1_000;
    let id = journey(
        &app,
        "压测定时",
        Definition {
            trigger: Trigger::Schedule {
                weekdays: Vec::new(),
                time: None,
                at: Some(at),
                audience: "order_count >= 0".into(),
            },
            steps: vec![
                Step::Tag { tag_id: tag },
                Step::Webhook {
                    signal: "bench_one".into(),
                },
                Step::Untag { tag_id: tag },
                Step::Webhook {
                    signal: "bench_two".into(),
                },
            ],
            entry: Entry::Once,
            quiet_hours: None,
        },
    )
    .await?;
    let t = Instant::now();
    let r = app
        .journeys()
        .tick_at(at)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let run_s = t.elapsed().as_secs_f64();
    let done = count(
        &app.db,
        format!("SELECT COUNT(*) FROM journey_runs WHERE journey_id = {id} AND state = 'done'"),
    )
    .await?;
    if u64::try_from(done)? != n || r.steps != n * steps {
        bail!("{done} runs done, {} steps taken", r.steps);
    }
    let per_hour = (n * steps) as f64 / run_s * 3600.0;
    let floor_per_hour = (n * steps) as f64 / floor_s * 3600.0;
    println!(
        "{engine}: floor ({} one-row transactions) {floor_s:.2}s = {floor_per_hour:.0}/h · \
         schedule journey: {n} enrolled and walked {} steps in {run_s:.2}s = {per_hour:.0} \
         customer-steps/h ({:.2}× floor; goal ≥ 1,000,000/h)",
        n * steps,
        r.steps,
        run_s / floor_s
    );

    // Events: an event journey, then `n` check-ins committed after it started.
    let ev = journey(
        &app,
        "压测事件",
        Definition {
            trigger: Trigger::Event {
                event: "check_in".into(),
            },
            steps: vec![Step::Wait { seconds: 3600 }],
            entry: Entry::Once,
            quiet_hours: None,
        },
    )
    .await?;
    let t = Instant::now();
    exec(
        &app.db,
        format!(
            "{all}INSERT INTO events (customer_id, kind, occurred_at, received_at, detail) \
             SELECT i, 'check_in', {now}, {now}, '{{}}' FROM s"
        ),
    )
    .await?;
    let insert_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let r = app.journeys().tick().await.map_err(|e| anyhow!("{e}"))?;
    let follow_s = t.elapsed().as_secs_f64();
    let entered = count(
        &app.db,
        format!("SELECT COUNT(*) FROM journey_runs WHERE journey_id = {ev}"),
    )
    .await?;
    if u64::try_from(entered)? != n {
        bail!("{entered} enrolled of {n} ({} by the tick)", r.enrolled);
    }
    println!(
        "{engine}: {n} check-in events committed in {insert_s:.2}s (set-based; the commit does \
         no journey work) · follower: read, enrolled and took the first step of {n} in \
         {follow_s:.2}s = {:.3} ms per event",
        follow_s * 1000.0 / n as f64
    );
    Ok(())
}
