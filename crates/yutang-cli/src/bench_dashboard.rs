//! `yutang bench dashboard`: the dashboard read from daily rollups (issue #24: "< 200 ms p95
//! on a generated brand … daily rollups kept incrementally current after commits, not a scan
//! per page view; the benchmark prints the rollup's lag behind commits and its rebuild time").
//!
//! Per engine, on a fresh database migrated by the app:
//!
//! 1. **Generation** (not part of the figures): a brand of `--customers` customers and
//!    `--orders` orders spread over `--days` days, with stores, guides, channels, refunds (5%
//!    of orders), WeCom adds (half the customers, 10% of them deleted again), coupon claims,
//!    group joins and leaves, merges, coupon uses and one `order_paid` event per order (as the
//!    order use case writes) — written with set-based SQL
//!    (`generate_series` on PostgreSQL, a recursive CTE on SQLite) with the big tables'
//!    secondary indexes dropped during the load and re-created after, then `ANALYZE`.
//! 2. **Rebuild**: [`Analytics::rebuild_now`] timed, and the rows it left in `rollup_days`.
//! 3. **Dashboard**: [`Analytics::dashboard`] for the brand, a store and a guide over the
//!    default 30 days and over 365 days (p50 / p95 / max). The baseline in the same run is
//!    the same figures computed from scratch per page view: [`source_rows_in`] over the
//!    period and the previous one, then [`fold`]; the ratio is from-scratch p50 / rollup p50.
//!    The brand's order count of the period must agree between the two, or the run fails.
//! 4. **Lag behind commits**: with the follower loop running as on a serving node
//!    ([`spawn_loop`]), rounds of orders written through the order use case (the call behind
//!    `POST /api/v1/orders`) by concurrent writers, dated now; the time from the last write's
//!    commit until the brand's rollup of today counts every order of today (polled every
//!    10 ms). Then, with the loop stopped, the follower's throughput: the time of
//!    [`Analytics::follow`] over the events of a batch of orders dated today, and over a batch
//!    of late orders dated across the last `--late-days` days (each of them recomputed). The
//!    first of those batches, written with the loop stopped, is the baseline of the order
//!    writes' rate (printed against the rate while the follower runs).
//!
//! Timings are printed, never asserted. The databases are dropped at the end unless `--keep`.
//!
//! [`Analytics::rebuild_now`]: yutang_app::analytics::Analytics::rebuild_now
//! [`Analytics::dashboard`]: yutang_app::analytics::Analytics::dashboard
//! [`Analytics::follow`]: yutang_app::analytics::Analytics::follow
//! [`source_rows_in`]: yutang_store::rollups::source_rows_in
//! [`fold`]: yutang_core::analytics::fold
//! [`spawn_loop`]: yutang_app::analytics::spawn_loop

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use sqlx::{ConnectOptions, Connection, Executor};
use yutang_app::analytics::DashboardAsk;
use yutang_app::analytics::metrics::MetricsAsk;
use yutang_app::customers::CustomerRef;
use yutang_app::orders::OrderInput;
use yutang_app::settings::{Secret, Settings};
use yutang_app::{Actor, App};
use yutang_core::analytics::facts::{self, month_label, month_of};
use yutang_core::analytics::{DAY_MS, SHANGHAI_OFFSET_MS, day_label, day_of, fold};
use yutang_core::ids::{CustomerId, StaffId, StoreId};
use yutang_core::money::Fen;
use yutang_core::orders::{OrderLine, OrderStatus};
use yutang_store::Db;
use yutang_store::feed::{Feed, reset_feed_to_end};

use crate::bench_flash::fresh_pg;

/// Options of `yutang bench dashboard`.
#[derive(clap::Args, Debug, Clone)]
pub struct DashboardArgs {
    /// Customers in the generated brand.
    #[arg(long, default_value_t = 1_000_000)]
    pub customers: i64,
    /// Orders, spread over `--days`.
    #[arg(long, default_value_t = 1_000_000)]
    pub orders: i64,
    /// Days the customers, orders, adds and events are spread over (ending now).
    #[arg(long, default_value_t = 365)]
    pub days: i64,
    #[arg(long, default_value_t = 200)]
    pub stores: i64,
    #[arg(long, default_value_t = 10)]
    pub guides_per_store: i64,
    /// Dashboard calls per case (brand, store, guide × 30 and 365 days).
    #[arg(long, default_value_t = 50)]
    pub calls: usize,
    /// From-scratch computations per period length (the baseline).
    #[arg(long, default_value_t = 5)]
    pub scratch_runs: usize,
    /// Orders written per round of the lag measurement (and per follower batch).
    #[arg(long, default_value_t = 2_000)]
    pub lag_orders: usize,
    #[arg(long, default_value_t = 3)]
    pub lag_rounds: usize,
    /// Concurrent writers of those orders.
    #[arg(long, default_value_t = 4)]
    pub writers: usize,
    /// Days the follower's late batch is spread over (its orders are dated across the last
    /// `late_days` days, so each of those days is recomputed).
    #[arg(long, default_value_t = 30)]
    pub late_days: i64,
    /// `sqlite`, `postgres` or `both`.
    #[arg(long, default_value = "both")]
    pub engines: String,
    /// A PostgreSQL server; a fresh database is created on it.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_url: String,
    /// Keep the generated databases (their location is printed).
    #[arg(long)]
    pub keep: bool,
}

/// Channels of the generated brand.
const CHANNELS: i64 = 20;

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(a: &DashboardArgs) -> Result<()> {
    let engines: Vec<&str> = match a.engines.as_str() {
        "both" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => bail!("--engines is sqlite, postgres or both, not {other}"),
    };
    if a.customers < 200 || a.orders < 20 || a.days < 2 || a.stores < 1 || a.guides_per_store < 1 {
        bail!("at least 200 customers, 20 orders, 2 days, 1 store and 1 guide per store");
    }
    println!(
        "dashboard: {} customers, {} orders over {} days, {} stores × {} guides, {} calls per case",
        a.customers, a.orders, a.days, a.stores, a.guides_per_store, a.calls
    );
    for engine in engines {
        let dir = std::env::temp_dir().join(format!(
            "yutang-bench-dashboard-{}",
            yutang_core::time::Millis::now().0
        ));
        std::fs::create_dir_all(&dir)?;
        let url = match engine {
            "sqlite" => format!("sqlite://{}", dir.join("bench.db").display()),
            _ => fresh_pg(&a.pg_url).await?,
        };
        let done = run_engine(engine, &url, &dir, a).await;
        if a.keep {
            println!("{engine}: kept {url}");
        } else {
            if engine == "postgres" {
                drop_pg(&a.pg_url, &url).await?;
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        done?;
    }
    Ok(())
}

async fn drop_pg(admin: &str, url: &str) -> Result<()> {
    let (_, name) = url
        .rsplit_once('/')
        .ok_or_else(|| anyhow!("no database in {url}"))?;
    let mut conn = sqlx::PgConnection::connect(admin).await?;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .await?;
    conn.close().await?;
    Ok(())
}

// ------------------------------------------------------------------ generation

/// The SQL that generates the brand, statement by statement: `(what, sql)`.
struct Gen {
    pg: bool,
    now: i64,
    a: DashboardArgs,
}

impl Gen {
    /// `(prefix, source)`: the rows `x` = 1..=n.
    fn series(&self, n: i64) -> (String, String) {
        if self.pg {
            (
                String::new(),
                format!("generate_series(1::bigint, {n}) AS s(x)"),
            )
        } else {
            (
                format!(
                    "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {n}) "
                ),
                "s".to_owned(),
            )
        }
    }

    /// `INSERT INTO {table} ({cols}) SELECT {select} FROM (SELECT x, {derived} FROM <1..=n>) q`.
    fn insert(&self, table: &str, cols: &str, n: i64, derived: &str, select: &str) -> String {
        let (prefix, src) = self.series(n);
        let derived = if derived.is_empty() {
            String::new()
        } else {
            format!(", {derived}")
        };
        format!(
            "{prefix}INSERT INTO {table} ({cols}) SELECT {select} FROM (SELECT x{derived} FROM {src}) q"
        )
    }

    fn least(&self, a: &str, b: &str) -> String {
        if self.pg {
            format!("LEAST({a}, {b})")
        } else {
            format!("min({a}, {b})")
        }
    }

    /// A pseudo-random number in `0..2^31-1` from `x`, one stream per `k` (deterministic, the
    /// same on both engines).
    fn h(k: usize) -> String {
        const A: [i64; 12] = [
            1_103_515_245,
            2_013_265_921,
            1_664_525_013,
            1_597_334_677,
            1_812_433_253,
            1_181_783_497,
            1_566_083_941,
            2_027_952_893,
            1_935_594_677,
            1_099_087_573,
            1_471_679_303,
            1_709_338_891,
        ];
        format!(
            "((x * {} + {}) % 2147483647)",
            A[k % A.len()],
            12_345 + k * 7_919
        )
    }

    /// An instant in the `days` days before now, from the streams `k` and `k + 1`.
    fn when(&self, k: usize) -> String {
        format!(
            "({} - 1 - (({} % {}) * {DAY_MS} + {} % {DAY_MS}))",
            self.now,
            Self::h(k),
            self.a.days,
            Self::h(k + 1)
        )
    }

    fn statements(&self) -> Vec<(&'static str, String)> {
        let a = &self.a;
        let now = self.now;
        let (n, m) = (a.customers, a.orders);
        let guides = a.stores * a.guides_per_store;
        let regions = (a.stores / 20).max(1);
        let gps = a.guides_per_store;
        let h = Self::h;
        let mut out = vec![
            (
                "regions",
                self.insert(
                    "regions",
                    "id, name, created_at",
                    regions,
                    "",
                    &format!("x, '区域 ' || x, {now}"),
                ),
            ),
            (
                "stores",
                self.insert(
                    "stores",
                    "id, region_id, code, name, created_at, updated_at",
                    a.stores,
                    "",
                    &format!("x, 1 + x % {regions}, 'S' || x, '门店 ' || x, {now}, {now}"),
                ),
            ),
            (
                "staff",
                self.insert(
                    "staff",
                    "id, username, display_name, role, store_id, status, created_at, updated_at",
                    guides,
                    "",
                    &format!(
                        "x, 'guide' || x, '导购 ' || x, 'guide', 1 + (x - 1) / {gps}, 'active', {now}, {now}"
                    ),
                ),
            ),
            (
                "channels",
                self.insert(
                    "channels",
                    "id, name, kind, spec, created_at, updated_at",
                    CHANNELS,
                    "",
                    &format!("x, '渠道 ' || x, 'store_stand', '{{}}', {now}, {now}"),
                ),
            ),
            (
                "customer_groups",
                self.insert(
                    "customer_groups",
                    "chat_id, name, owner_userid, owner_staff_id, created_at, synced_at, updated_at",
                    guides,
                    "",
                    &format!("'wr' || x, '群 ' || x, 'guide' || x, x, {now}, {now}, {now}"),
                ),
            ),
            (
                "coupon_templates",
                self.insert(
                    "coupon_templates",
                    "id, name, spec, stock, per_customer, claim_starts, claim_ends, created_at, updated_at",
                    1,
                    "",
                    &format!(
                        "x, '满100减10', '{{}}', {n}, 1, {}, {}, {now}, {now}",
                        now - a.days * DAY_MS,
                        now + 30 * DAY_MS
                    ),
                ),
            ),
            (
                "customers",
                self.insert(
                    "customers",
                    "id, merged_into, created_at, updated_at",
                    n,
                    &format!("{} AS t", self.when(0)),
                    "x, CASE WHEN x % 200 = 0 THEN x - 1 END, t, t",
                ),
            ),
            (
                "orders",
                self.insert(
                    "orders",
                    "id, external_id, customer_id, channel, store_id, guide_id, status, amount, \
                     paid_at, created_at, updated_at, touch_channel_id",
                    m,
                    &format!(
                        "{} AS t, 1 + {} % {guides} AS g, {} % 10 AS online, {} % 10 AS touched, \
                         1 + {} % {n} AS c, 1000 + {} % 99000 AS amount, 1 + {} % {CHANNELS} AS ch",
                        self.when(2),
                        h(4),
                        h(5),
                        h(6),
                        h(7),
                        h(8),
                        h(9),
                    ),
                    &format!(
                        "x, 'B' || x, c, CASE WHEN online < 2 THEN 'online' ELSE 'store' END, \
                         CASE WHEN online < 2 THEN NULL ELSE 1 + (g - 1) / {gps} END, \
                         CASE WHEN online < 2 THEN NULL ELSE g END, 'paid', amount, t, t, t, \
                         CASE WHEN touched < 3 THEN ch END"
                    ),
                ),
            ),
            (
                "order_refunds (5% of orders)",
                format!(
                    "INSERT INTO order_refunds (order_id, external_id, amount, refunded_at, created_at) \
                     SELECT id, 'R' || id, amount / 2, {t}, {t} FROM orders WHERE id % 20 = 7",
                    t = self.least(
                        &format!("paid_at + (id % 7) * {DAY_MS} + 3600000"),
                        &(now - 1).to_string()
                    ),
                ),
            ),
            (
                "channel_adds (half the customers, 10% deleted)",
                self.insert(
                    "channel_adds",
                    "dedup_key, customer_id, channel_id, state, staff_id, added_at, first_touch, deleted_at",
                    n / 2,
                    &format!(
                        "{} AS t, {} % 10 AS r, 1 + {} % {guides} AS g, 1 + {} % {CHANNELS} AS ch, \
                         {} % {} AS gone",
                        self.when(10),
                        h(1),
                        h(3),
                        h(5),
                        h(7),
                        30 * DAY_MS,
                    ),
                    &format!(
                        "'a' || x, 2 * x, CASE WHEN r < 6 THEN ch END, '', g, t, TRUE, \
                         CASE WHEN r = 9 THEN {} END",
                        self.least("t + gone", &(now - 1).to_string())
                    ),
                ),
            ),
            (
                "coupon_claims (10% of customers)",
                self.insert(
                    "coupon_claims",
                    "template_id, customer_id, seq, source, claimed_at",
                    n / 10,
                    &format!("{} AS t", self.when(3)),
                    "1, 1 + (x - 1) * 10, 1, 'claim', t",
                ),
            ),
            (
                "events: join_group (20% of customers)",
                self.insert(
                    "events",
                    "customer_id, kind, occurred_at, received_at, detail",
                    n / 5,
                    &format!("{} AS t, 1 + {} % {guides} AS g", self.when(5), h(9)),
                    "1 + (x - 1) * 5, 'join_group', t, t, '{\"chat_id\":\"wr' || g || '\"}'",
                ),
            ),
            (
                "events: leave_group (5% of customers)",
                self.insert(
                    "events",
                    "customer_id, kind, occurred_at, received_at, detail",
                    n / 20,
                    &format!("{} AS t, 1 + {} % {guides} AS g", self.when(7), h(11)),
                    "1 + (x - 1) * 20, 'leave_group', t, t, '{\"chat_id\":\"wr' || g || '\"}'",
                ),
            ),
            (
                "customer_acquisition (each add's customer joined the pool by it)",
                "INSERT INTO customer_acquisition (customer_id, channel_id, state, staff_id, acquired_at) \
                 SELECT customer_id, channel_id, '', staff_id, added_at FROM channel_adds"
                    .to_owned(),
            ),
            (
                "events: share (10% of customers)",
                self.insert(
                    "events",
                    "customer_id, kind, occurred_at, received_at, detail",
                    n / 10,
                    &format!("{} AS t", self.when(13)),
                    "3 + (x - 1) * 10, 'share', t, t, '{}'",
                ),
            ),
            (
                "events: merged_into (0.5% of customers)",
                self.insert(
                    "events",
                    "customer_id, kind, occurred_at, received_at, detail",
                    n / 200,
                    &format!("{} AS t", self.when(1)),
                    "200 * x, 'merged_into', t, t, '{\"into\":' || (200 * x - 1) || '}'",
                ),
            ),
            (
                "events: order_paid (one per order, as the order use case writes)",
                "INSERT INTO events (customer_id, kind, occurred_at, received_at, staff_id, detail) \
                 SELECT customer_id, 'order_paid', paid_at, paid_at, guide_id, \
                 '{\"order_id\":' || id || ',\"amount_fen\":' || amount || '}' FROM orders"
                    .to_owned(),
            ),
            (
                "events: coupon_used (10% of orders)",
                "INSERT INTO events (customer_id, kind, occurred_at, received_at, detail) \
                 SELECT customer_id, 'coupon_used', paid_at, paid_at, '{\"order_id\":' || id || '}' \
                 FROM orders WHERE id % 10 = 3"
                    .to_owned(),
            ),
        ];
        if self.pg {
            for t in [
                "regions",
                "stores",
                "staff",
                "channels",
                "coupon_templates",
                "customers",
                "orders",
            ] {
                out.push((
                    "identity sequences",
                    format!(
                        "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"
                    ),
                ));
            }
        }
        out
    }
}

/// The tables the load fills by the million: their secondary indexes are dropped during the
/// load and re-created after (constraints' indexes stay).
const BIG_TABLES: [&str; 6] = [
    "customers",
    "orders",
    "order_refunds",
    "channel_adds",
    "coupon_claims",
    "events",
];

/// Generate the brand into the migrated database at `url`; returns the load and index times.
async fn generate(
    engine: &str,
    url: &str,
    dir: &std::path::Path,
    a: &DashboardArgs,
    now: i64,
) -> Result<(Duration, Duration)> {
    let g = Gen {
        pg: engine == "postgres",
        now,
        a: a.clone(),
    };
    let started = Instant::now();
    let (load, indexes) = if g.pg {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        conn.execute(
            "SET session_replication_role = replica; SET synchronous_commit = off; \
             SET maintenance_work_mem = '1GB'",
        )
        .await?;
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename = ANY($1) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        )
        .bind(BIG_TABLES.map(String::from).to_vec())
        .fetch_all(&mut conn)
        .await?;
        for (name, _) in &indexes {
            conn.execute(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
                .await?;
        }
        for (what, sql) in g.statements() {
            let t = Instant::now();
            let r = conn
                .execute(sqlx::AssertSqlSafe(sql))
                .await
                .with_context(|| format!("generating {what}"))?;
            eprintln!(
                "  postgres: {what}: {} rows, {:.1} s",
                r.rows_affected(),
                t.elapsed().as_secs_f64()
            );
        }
        let load = started.elapsed();
        let t = Instant::now();
        for (name, def) in &indexes {
            let ti = Instant::now();
            conn.execute(sqlx::AssertSqlSafe(def.clone())).await?;
            eprintln!(
                "  postgres: CREATE INDEX {name}: {:.1} s",
                ti.elapsed().as_secs_f64()
            );
        }
        // As autovacuum would leave a table loaded long ago: visibility map and statistics.
        for table in BIG_TABLES {
            conn.execute(sqlx::AssertSqlSafe(format!("VACUUM (ANALYZE) {table}")))
                .await?;
        }
        conn.execute("ANALYZE").await?;
        conn.close().await?;
        (load, t.elapsed())
    } else {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};
        let mut conn = SqliteConnectOptions::new()
            .filename(dir.join("bench.db"))
            .foreign_keys(false)
            .synchronous(SqliteSynchronous::Off)
            .pragma("cache_size", "-524288")
            .pragma("temp_store", "MEMORY")
            .connect()
            .await?;
        let mut indexes: Vec<(String, String)> = Vec::new();
        for t in BIG_TABLES {
            let mut rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL",
            )
            .bind(t)
            .fetch_all(&mut conn)
            .await?;
            indexes.append(&mut rows);
        }
        conn.execute("BEGIN").await?;
        for (name, _) in &indexes {
            conn.execute(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
                .await?;
        }
        for (what, sql) in g.statements() {
            let t = Instant::now();
            let r = conn
                .execute(sqlx::AssertSqlSafe(sql))
                .await
                .with_context(|| format!("generating {what}"))?;
            eprintln!(
                "  sqlite: {what}: {} rows, {:.1} s",
                r.rows_affected(),
                t.elapsed().as_secs_f64()
            );
        }
        let load = started.elapsed();
        let t = Instant::now();
        for (name, def) in &indexes {
            let ti = Instant::now();
            conn.execute(sqlx::AssertSqlSafe(def.clone())).await?;
            eprintln!(
                "  sqlite: CREATE INDEX {name}: {:.1} s",
                ti.elapsed().as_secs_f64()
            );
        }
        conn.execute("COMMIT").await?;
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        conn.close().await?;
        (load, t.elapsed())
    };
    Ok((load, indexes))
}

async fn count(db: &Db, sql: &str) -> Result<i64> {
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(pool)
                .await?
        }
    })
}

// ------------------------------------------------------------------ the run

/// What one dashboard case measured.
struct Case {
    label: String,
    p50: Duration,
    p95: Duration,
    max: Duration,
}

async fn run_engine(
    engine: &str,
    url: &str,
    dir: &std::path::Path,
    a: &DashboardArgs,
) -> Result<()> {
    let key_hex: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let mut settings = Settings {
        database_url: url.to_owned(),
        secret_key: Some(Secret::new(key_hex)),
        ..Settings::default()
    };
    // Driven by hand here; the lag measurement starts the loop itself.
    settings.analytics.follow = false;
    let app = App::open(settings).await.map_err(|e| anyhow!("{e}"))?;
    if !app.db.is_empty().await? {
        bail!("{engine}: the fresh database already holds staff");
    }
    let now = app.now();

    // 1. Generation.
    let t = Instant::now();
    let (load, index) = generate(engine, url, dir, a, now).await?;
    app.db.analyze().await?;
    reset_feed_to_end(&app.db, Feed::Rollups).await?;
    let events = count(&app.db, "SELECT COUNT(*) FROM events").await?;
    let refunds = count(&app.db, "SELECT COUNT(*) FROM order_refunds").await?;
    let adds = count(&app.db, "SELECT COUNT(*) FROM channel_adds").await?;
    println!(
        "{engine}: generated {} customers, {} orders, {refunds} refunds, {adds} adds, {events} events \
         in {:.1} s (rows {:.1} s, indexes and statistics {:.1} s; not part of the figures)",
        a.customers,
        a.orders,
        t.elapsed().as_secs_f64(),
        load.as_secs_f64(),
        index.as_secs_f64(),
    );

    // 2. Rebuild.
    let analytics = app.analytics();
    let t = Instant::now();
    analytics.rebuild_now().await.map_err(|e| anyhow!("{e}"))?;
    let rebuild = t.elapsed();
    let rows = count(&app.db, "SELECT COUNT(*) FROM rollup_days").await?;
    let mut per_grain = Vec::new();
    for (g, name) in [
        ("b", "brand"),
        ("s", "store"),
        ("g", "guide"),
        ("c", "channel"),
    ] {
        let n = count(
            &app.db,
            &format!("SELECT COUNT(*) FROM rollup_days WHERE grain = '{g}'"),
        )
        .await?;
        per_grain.push(format!("{name} {n}"));
    }
    // Statistics of the filled table, as autovacuum would leave them on PostgreSQL.
    app.db.analyze().await?;
    println!(
        "{engine}: rebuild of every day ({} days of data) in {:.1} s; rollup_days holds {rows} rows ({})",
        a.days,
        rebuild.as_secs_f64(),
        per_grain.join(", ")
    );

    // 3. Dashboard latency, and the from-scratch baseline.
    let sys = Actor::system();
    let today = day_of(now);
    let year_from = day_label(today - 364);
    let store = (a.stores / 2).max(1);
    let guide = (store - 1) * a.guides_per_store + 1;
    let mut cases: Vec<Case> = Vec::new();
    let mut brand_orders = [0i64; 2];
    for (pi, (plabel, from)) in [("30 days", None), ("365 days", Some(year_from.clone()))]
        .into_iter()
        .enumerate()
    {
        for (slabel, store_id, staff_id) in [
            ("brand".to_owned(), None, None),
            (format!("store {store}"), Some(store), None),
            (format!("guide {guide}"), None, Some(guide)),
        ] {
            let ask = DashboardAsk {
                from: from.clone(),
                to: None,
                store_id,
                staff_id,
            };
            // One warm-up call.
            let view = analytics
                .dashboard(&sys, &ask)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            if store_id.is_none() && staff_id.is_none() {
                brand_orders[pi] = view
                    .tiles
                    .iter()
                    .find(|t| t.metric == "orders")
                    .map_or(0, |t| t.total);
            }
            let mut took = Vec::with_capacity(a.calls);
            for _ in 0..a.calls {
                let t = Instant::now();
                analytics
                    .dashboard(&sys, &ask)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                took.push(t.elapsed());
            }
            took.sort();
            cases.push(Case {
                label: format!("{slabel}, {plabel}"),
                p50: percentile(&took, 0.5),
                p95: percentile(&took, 0.95),
                max: took.last().copied().unwrap_or_default(),
            });
        }
    }
    let mut scratch: Vec<(Duration, usize)> = Vec::new();
    for (pi, len) in [30i64, 365].into_iter().enumerate() {
        let (from_day, to_day) = (today - len + 1, today);
        let from_ms = (from_day - len) * DAY_MS - SHANGHAI_OFFSET_MS;
        let to_ms = (to_day + 1) * DAY_MS - SHANGHAI_OFFSET_MS;
        let mut took = Vec::with_capacity(a.scratch_runs);
        let mut sources = 0;
        for _ in 0..a.scratch_runs.max(1) {
            let t = Instant::now();
            let mut tx = app.db.begin().await?;
            let src = yutang_store::rollups::source_rows_in(&mut tx, from_ms, to_ms).await?;
            tx.commit().await?;
            let rows = fold(&src);
            took.push(t.elapsed());
            sources = src.len();
            let orders: i64 = rows
                .iter()
                .filter(|r| {
                    r.grain == "b" && r.metric == "orders" && (from_day..=to_day).contains(&r.day)
                })
                .map(|r| r.value)
                .sum();
            if orders != brand_orders[pi] {
                bail!(
                    "{engine}: the dashboard's orders over {len} days ({}) differ from the computation from scratch ({orders})",
                    brand_orders[pi]
                );
            }
        }
        took.sort();
        scratch.push((percentile(&took, 0.5), sources));
    }
    println!(
        "{engine}: dashboard() over rollups, {} calls each (brand orders: {} in 30 days, {} in 365 days, equal to the computation from scratch):",
        a.calls, brand_orders[0], brand_orders[1]
    );
    for (i, c) in cases.iter().enumerate() {
        let (base, _) = scratch[i / 3];
        println!(
            "{engine}:   {:22} p50 {:7.1} ms  p95 {:7.1} ms  max {:7.1} ms   from scratch p50 {:8.1} ms ({:.0}×)",
            c.label,
            ms(c.p50),
            ms(c.p95),
            ms(c.max),
            ms(base),
            ms(base) / ms(c.p50).max(0.001),
        );
    }
    for (len, (p50, sources)) in [30, 365].iter().zip(&scratch) {
        println!(
            "{engine}: from scratch over {} days (period + previous, every grain: source_rows_in + fold), {} runs: p50 {:.1} ms, {sources} grouped source rows",
            2 * len,
            a.scratch_runs.max(1),
            ms(*p50),
        );
    }

    // 3b. The metrics page (monthly cells), and its from-scratch baseline: every customer's
    // facts computed from the base tables and summed, as a page without cells would have to.
    let facts_rows = count(&app.db, "SELECT COUNT(*) FROM customer_facts").await?;
    let month_rows = count(&app.db, "SELECT COUNT(*) FROM customer_months").await?;
    let cell_rows = count(&app.db, "SELECT COUNT(*) FROM rollup_cells").await?;
    println!(
        "{engine}: the rebuild also left {facts_rows} customer_facts, {month_rows} customer_months and {cell_rows} rollup_cells rows"
    );
    // The uplift studies, recomputed as a whole (hourly on a serving node): what a page would
    // have to do per view without stored sums. The metrics timings below read the stored sums.
    let t = Instant::now();
    analytics
        .refresh_uplift()
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let uplift_refresh = t.elapsed();
    let uplift_rows = count(&app.db, "SELECT COUNT(*) FROM uplift_cells").await?;
    println!(
        "{engine}: uplift studies recomputed in {:.1} s ({uplift_rows} uplift_cells rows)",
        uplift_refresh.as_secs_f64()
    );
    let this_month = month_of(now);
    let mut mcases: Vec<Case> = Vec::new();
    let mut brand_buyers = [0i64; 2];
    for (pi, (plabel, from)) in [
        ("6 months", None),
        ("24 months", Some(month_label(this_month - 23))),
    ]
    .into_iter()
    .enumerate()
    {
        for (slabel, store_id, staff_id) in [
            ("brand".to_owned(), None, None),
            (format!("store {store}"), Some(store), None),
            (format!("guide {guide}"), None, Some(guide)),
        ] {
            let ask = MetricsAsk {
                from: from.clone(),
                store_id,
                staff_id,
                ..MetricsAsk::default()
            };
            let view = analytics
                .metrics(&sys, &ask)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            if store_id.is_none() && staff_id.is_none() {
                brand_buyers[pi] = view
                    .metrics
                    .iter()
                    .find(|l| l.key == "buyers")
                    .and_then(|l| l.total)
                    .unwrap_or(0);
            }
            let mut took = Vec::with_capacity(a.calls);
            for _ in 0..a.calls {
                let t = Instant::now();
                analytics
                    .metrics(&sys, &ask)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                took.push(t.elapsed());
            }
            took.sort();
            mcases.push(Case {
                label: format!("{slabel}, {plabel}"),
                p50: percentile(&took, 0.5),
                p95: percentile(&took, 0.95),
                max: took.last().copied().unwrap_or_default(),
            });
        }
    }
    let t = Instant::now();
    let max_id = count(&app.db, "SELECT COALESCE(MAX(id), 0) FROM customers").await?;
    let mut scratch_buyers = [0i64; 2];
    let mut lo = 1;
    while lo <= max_id {
        let hi = lo + 50_000;
        let mut tx = app.db.begin().await?;
        let inputs =
            yutang_store::facts::inputs_in(&mut tx, yutang_store::facts::Customers::Range(lo, hi))
                .await?;
        tx.commit().await?;
        for c in inputs.values() {
            let (f, rows) = facts::facts_of(c);
            for (k, v) in facts::contributions(&f, &rows) {
                if k.family == facts::Family::Month
                    && k.grain == facts::CellGrain::Brand
                    && k.cell == facts::month::BUYERS
                {
                    if k.period > this_month - 6 && k.period <= this_month {
                        scratch_buyers[0] += v;
                    }
                    if k.period > this_month - 24 && k.period <= this_month {
                        scratch_buyers[1] += v;
                    }
                }
            }
        }
        lo = hi;
    }
    let scratch_facts = t.elapsed();
    if scratch_buyers != brand_buyers {
        bail!(
            "{engine}: the metrics page's brand buyers {brand_buyers:?} differ from the computation from scratch {scratch_buyers:?}"
        );
    }
    println!(
        "{engine}: metrics() over monthly cells, {} calls each (brand buyers: {} in 6 months, {} in 24 months, equal to the computation from scratch):",
        a.calls, brand_buyers[0], brand_buyers[1]
    );
    for c in &mcases {
        println!(
            "{engine}:   {:22} p50 {:7.1} ms  p95 {:7.1} ms  max {:7.1} ms   from scratch {:8.0} ms ({:.0}×)",
            c.label,
            ms(c.p50),
            ms(c.p95),
            ms(c.max),
            ms(scratch_facts),
            ms(scratch_facts) / ms(c.p50).max(0.001),
        );
    }
    println!(
        "{engine}:   the uplift section alone from scratch would take {:.0} ms per view ({:.0}× the brand page's p50)",
        ms(uplift_refresh),
        ms(uplift_refresh) / mcases.first().map_or(0.001, |c| ms(c.p50).max(0.001)),
    );

    // 4. Lag behind commits, with the follower loop running as on a serving node.
    let app = Arc::new(app);
    let looping = yutang_app::analytics::spawn_loop(&app);
    // Let it start (and find nothing to do).
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let mut lags = Vec::new();
    let mut write_rates = Vec::new();
    for round in 0..a.lag_rounds {
        let (written, took) = write_orders(&app, a, &format!("lag{round}"), None).await?;
        write_rates.push(written as f64 / took.as_secs_f64());
        let committed = Instant::now();
        let today = day_of(app.now());
        let (lo, hi) = (
            today * DAY_MS - SHANGHAI_OFFSET_MS,
            (today + 1) * DAY_MS - SHANGHAI_OFFSET_MS,
        );
        let want = count(
            &app.db,
            &format!("SELECT COUNT(*) FROM orders WHERE paid_at >= {lo} AND paid_at < {hi}"),
        )
        .await?;
        let counted = Instant::now() - committed;
        let deadline = committed + Duration::from_secs(600);
        loop {
            let rows = yutang_store::rollups::by_day(&app.db, "b", 0, today, today).await?;
            let have: i64 = rows
                .iter()
                .filter(|r| r.metric == "orders")
                .map(|r| r.value)
                .sum();
            if have >= want {
                break;
            }
            if Instant::now() > deadline {
                bail!("{engine}: the rollup of today holds {have} orders of {want} after 600 s");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let lag = committed.elapsed();
        println!(
            "{engine}: lag round {}: {written} orders written in {:.2} s ({:.0}/s, {} writers); \
             today's brand rollup counted all {want} orders of today {:.0} ms after the last commit \
             (the check's own COUNT took {:.0} ms of it)",
            round + 1,
            took.as_secs_f64(),
            written as f64 / took.as_secs_f64(),
            a.writers,
            ms(lag),
            ms(counted),
        );
        lags.push(lag);
    }
    looping.abort();
    let _ = looping.await;
    lags.sort();

    // The follower's throughput, driven by hand: today's orders, then late ones.
    let (n_today, alone) = write_orders(&app, a, "follow-today", None).await?;
    let t = Instant::now();
    let read_today = analytics_follow(&app).await?;
    let follow_today = t.elapsed();
    let (n_late, _) = write_orders(&app, a, "follow-late", Some(a.late_days.max(1))).await?;
    let t = Instant::now();
    let read_late = analytics_follow(&app).await?;
    let follow_late = t.elapsed();
    println!(
        "{engine}: follower by hand: {read_today} events ({n_today} orders dated today) in {:.0} ms ({:.0} events/s); \
         {read_late} events ({n_late} late orders dated across the last {} days: each of them recomputed) in {:.1} s ({:.0} events/s)",
        ms(follow_today),
        read_today as f64 / follow_today.as_secs_f64(),
        a.late_days.max(1),
        follow_late.as_secs_f64(),
        read_late as f64 / follow_late.as_secs_f64(),
    );
    let alone_rate = n_today as f64 / alone.as_secs_f64();
    let following_rate = write_rates.iter().sum::<f64>() / write_rates.len().max(1) as f64;
    println!(
        "{engine}: order writes ({} writers): {following_rate:.0}/s with the follower running, \
         {alone_rate:.0}/s with it stopped ({:.2}×)",
        a.writers,
        following_rate / alone_rate.max(0.001),
    );
    println!(
        "{engine}: summary: rebuild {:.1} s ({rows} rows); lag p50 {:.0} ms (max {:.0} ms over {} rounds of {} orders at {:.0} orders/s)",
        rebuild.as_secs_f64(),
        ms(percentile(&lags, 0.5)),
        ms(lags.last().copied().unwrap_or_default()),
        lags.len(),
        a.lag_orders,
        write_rates.iter().sum::<f64>() / write_rates.len().max(1) as f64,
    );
    app.db.close().await;
    Ok(())
}

async fn analytics_follow(app: &App) -> Result<usize> {
    app.analytics().follow().await.map_err(|e| anyhow!("{e}"))
}

/// Write `--lag-orders` orders through the order use case with `--writers` concurrent
/// writers, paid now (`spread_days`: `None`) or across the last `spread_days` days; how many
/// and how long.
async fn write_orders(
    app: &Arc<App>,
    a: &DashboardArgs,
    tag: &str,
    spread_days: Option<i64>,
) -> Result<(usize, Duration)> {
    let writers = a.writers.max(1);
    let per = a.lag_orders.div_ceil(writers);
    let guides = a.stores * a.guides_per_store;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(writers);
    for w in 0..writers {
        let app = Arc::clone(app);
        let tag = tag.to_owned();
        let (customers, gps) = (a.customers, a.guides_per_store);
        let n = per.min(a.lag_orders.saturating_sub(w * per));
        tasks.push(tokio::spawn(async move {
            let sys = Actor::system();
            for i in 0..n {
                let k = (w * per + i) as i64;
                let mix = k.wrapping_mul(2_654_435_761).rem_euclid(2_147_483_647);
                let guide = 1 + mix % guides;
                let amount = 1_000 + mix % 99_000;
                let paid_at = spread_days.map(|d| app.now() - 1 - (mix % d) * DAY_MS);
                let input = OrderInput {
                    external_id: format!("{tag}-{k}"),
                    customer: CustomerRef::Id(CustomerId(1 + (mix / 7) % customers)),
                    channel: "store".into(),
                    store_id: Some(StoreId(1 + (guide - 1) / gps)),
                    guide_id: Some(StaffId(guide)),
                    campaign: String::new(),
                    status: OrderStatus::Paid,
                    lines: vec![OrderLine {
                        sku: "SKU-1".into(),
                        name: "商品".into(),
                        quantity: 1,
                        unit_price: Fen(amount),
                    }],
                    discount: Fen(0),
                    paid_at,
                    member_savings: Fen(0),
                };
                app.orders()
                    .record_order(&sys, &input)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
            }
            anyhow::Ok(n)
        }));
    }
    let mut written = 0;
    for t in tasks {
        written += t.await??;
    }
    Ok((written, started.elapsed()))
}
