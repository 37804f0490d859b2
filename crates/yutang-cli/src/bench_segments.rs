//! `yutang bench segments`: segment counts through the bitmap index against the same
//! expressions in SQL on PostgreSQL and SQLite, on a deterministic synthetic brand.
//!
//! Everything measured is the product's own code: the generated brand is loaded into the real
//! tables (created by the real migrations, with the migrations' indexes), the index is built by
//! [`SegmentEngine::rebuild`] (the path `yutang serve` takes at start), expressions are
//! compiled by the engine's parser against the schema it loaded, and the SQL is
//! [`yutang_store::segments::to_sql`] wrapped in `SELECT COUNT(*)`. The counts of both sides
//! must be equal, or the run fails.
//!
//! On PostgreSQL a second SQL baseline follows, unless `--no-facts-table`: the same facts
//! precomputed into one denormalised table with an index on every column and a GIN index on
//! the tags ([`yutang_store::segments::facts_table_sql`]), queried through
//! [`to_sql_from`] with [`SqlSource::FactsTable`] — the most favourable SQL we know how to
//! write for these counts (its upkeep is not counted). Its counts must be equal too.
//!
//! With `--index-only` the generated customers go straight into an [`IndexBuilder`] with the
//! same facts `load_facts` would produce (no database), to measure build and memory at sizes a
//! database load would take too long for.
//!
//! Prints a table; writes nothing but the temporary databases, which it drops at the end
//! unless `--keep`. Progress goes to standard error. Timings are printed, never asserted.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{ConnectOptions, Connection, Executor};
use yutang_app::segments::SegmentEngine;
use yutang_core::segments::{Resolved, Schema, TagId};
use yutang_core::time::Millis;
use yutang_index::{AttrValue, IndexBuilder, SegmentIndex};
use yutang_store::Db;
use yutang_store::db::{DbUrl, Engine, StoreOptions};
use yutang_store::segments::{
    CustomAttr, DAY_MS, SqlSource, date_millis, facts_table_sql, to_sql, to_sql_from,
};

/// 2026-01-01 00:00 Asia/Shanghai: "now" for generation, the index and the SQL.
pub const NOW: i64 = 1_767_196_800_000;

const STAGES: [&str; 6] = ["0-6月", "7-12月", "1-2岁", "2-3岁", "3-6岁", "6岁以上"];
const CITIES: [&str; 24] = [
    "上海", "北京", "广州", "深圳", "成都", "杭州", "武汉", "南京", "重庆", "西安", "苏州", "天津",
    "长沙", "郑州", "东莞", "青岛", "沈阳", "宁波", "昆明", "合肥", "佛山", "福州", "厦门", "济南",
];
const LEVELS: [(&str, u32); 4] = [("普通", 70), ("银卡", 18), ("金卡", 9), ("黑金", 3)];

/// Options of `yutang bench segments`.
#[derive(clap::Args, Debug, Clone)]
pub struct SegmentsArgs {
    /// Customers in the synthetic brand.
    #[arg(long, default_value_t = 10_000_000)]
    pub customers: u32,
    /// Tags (6 baby-stage tags in a single-select group, the rest Zipf-distributed).
    #[arg(long, default_value_t = 400)]
    pub tags: u16,
    /// Databases to load and query, comma-separated: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    pub engines: Vec<String>,
    /// Generate straight into the index builder (no database, no SQL).
    #[arg(long)]
    pub index_only: bool,
    /// Keep the databases instead of dropping them.
    #[arg(long)]
    pub keep: bool,
    /// Query the databases an earlier run left with `--keep` (same `--customers`, `--tags`
    /// and `--seed`) instead of generating and loading them again; they are kept.
    #[arg(long)]
    pub reuse: bool,
    /// RNG seed of the generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Timed index counts per expression (p50/p95).
    #[arg(long, default_value_t = 30)]
    pub index_runs: usize,
    /// Timed SQL counts per expression and engine (p50), after one warm-up.
    #[arg(long, default_value_t = 3)]
    pub sql_runs: usize,
    /// PostgreSQL server URL (a maintenance database); the bench creates and drops its own.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_admin_url: String,
    /// Name of the PostgreSQL database to create (dropped first if it exists).
    #[arg(long, default_value = "yutang_bench_segments")]
    pub pg_database: String,
    /// SQLite file to create (removed first if it exists).
    #[arg(long)]
    pub sqlite_path: Option<PathBuf>,
    /// Also measure this expression (repeatable), after E1–E8.
    #[arg(long = "expr")]
    pub extra: Vec<String>,
    /// Skip PostgreSQL's second baseline (the denormalised facts table with indexes).
    #[arg(long)]
    pub no_facts_table: bool,
}

#[cfg(test)]
impl SegmentsArgs {
    /// Defaults, for tests.
    pub fn with_customers(customers: u32) -> Self {
        Self {
            customers,
            tags: 400,
            engines: vec!["sqlite".into()],
            index_only: false,
            keep: false,
            reuse: false,
            seed: 42,
            index_runs: 20,
            sql_runs: 3,
            pg_admin_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            pg_database: "yutang_bench_segments".into(),
            sqlite_path: None,
            extra: Vec::new(),
            no_facts_table: false,
        }
    }
}

// ----------------------------------------------------------------------------------------
// The generator

/// One order inside the last 365 days (older orders only count in the lifetime aggregates).
#[derive(Debug, Clone, Copy)]
pub struct Order {
    pub paid_at: i64,
    pub amount: i64,
    pub refunded: bool,
}

/// One synthetic customer.
#[derive(Debug, Clone, Default)]
pub struct Cust {
    /// Tag indexes (0-based; the database id is index + 1), sorted.
    pub tags: Vec<u16>,
    pub city: Option<u8>,
    pub level: u8,
    pub order_count: i64,
    pub total_spend: i64,
    pub first_order: Option<i64>,
    pub last_order: Option<i64>,
    pub birthday: Option<String>,
    pub orders: Vec<Order>,
    /// `join_group` time, and `leave_group` time after it.
    pub joined: Option<i64>,
    pub left: Option<i64>,
}

/// Deterministic stream of customers (ids 1, 2, …).
pub struct Generator {
    rng: StdRng,
    tags: u16,
    tag_pick: WeightedIndex<f64>,
    city_pick: WeightedIndex<f64>,
    level_pick: WeightedIndex<u32>,
}

impl Generator {
    pub fn new(tags: u16, seed: u64) -> Result<Self> {
        let generic = u32::from(tags.saturating_sub(STAGES.len() as u16)).max(1);
        Ok(Self {
            rng: StdRng::seed_from_u64(seed),
            tags,
            tag_pick: WeightedIndex::new((0..generic).map(|r| 1.0 / f64::from(r + 1).powf(0.9)))?,
            city_pick: WeightedIndex::new(
                (0..CITIES.len()).map(|r| 1.0 / (r as f64 + 1.0).powf(1.1)),
            )?,
            level_pick: WeightedIndex::new(LEVELS.iter().map(|l| l.1))?,
        })
    }

    /// The next customer into `c` (reusing its allocations).
    pub fn next_into(&mut self, c: &mut Cust) {
        let rng = &mut self.rng;
        c.tags.clear();
        if rng.gen_bool(0.8) {
            c.tags.push(rng.gen_range(0..STAGES.len() as u16));
        }
        let want = rng.gen_range(8..=21);
        let mut attempts = 0;
        while c.tags.len() < want && attempts < 4 * want {
            attempts += 1;
            let tag = STAGES.len() as u16 + self.tag_pick.sample(rng) as u16;
            if tag < self.tags && !c.tags.contains(&tag) {
                c.tags.push(tag);
            }
        }
        c.tags.sort_unstable();
        c.city = rng.gen_bool(0.9).then(|| self.city_pick.sample(rng) as u8);
        c.level = self.level_pick.sample(rng) as u8;
        // Lifetime orders: none for a quarter, else geometric (mean ~3.3); the last one
        // skewed recent (up to two years ago), the first up to three years before it.
        let n: i64 = if rng.gen_bool(0.25) {
            0
        } else {
            let mut k = 1;
            while k < 200 && rng.gen_bool(0.7) {
                k += 1;
            }
            k
        };
        c.orders.clear();
        c.order_count = n;
        c.total_spend = 0;
        c.first_order = None;
        c.last_order = None;
        if n > 0 {
            let days = rng.r#gen::<f64>().powi(2) * 730.0;
            let last = NOW - (days * DAY_MS as f64) as i64 - rng.gen_range(0..DAY_MS);
            let first = if n == 1 {
                last
            } else {
                last - rng.gen_range(DAY_MS..3 * 365 * DAY_MS)
            };
            c.first_order = Some(first);
            c.last_order = Some(last);
            for i in 0..n {
                let at = match i {
                    0 => last,
                    1 => first,
                    _ => rng.gen_range(first..=last),
                };
                let amount = rng.gen_range(3_000..30_000);
                c.total_spend += amount;
                if at >= NOW - 365 * DAY_MS {
                    c.orders.push(Order {
                        paid_at: at,
                        amount,
                        refunded: false,
                    });
                }
            }
        }
        // A few fully refunded orders in the window: in the table, never in a count.
        if rng.gen_bool(0.03) {
            c.orders.push(Order {
                paid_at: NOW - rng.gen_range(0..365 * DAY_MS),
                amount: rng.gen_range(3_000..30_000),
                refunded: true,
            });
        }
        c.orders.sort_unstable_by_key(|o| o.paid_at);
        c.birthday = rng.gen_bool(0.7).then(|| {
            format!(
                "{:04}-{:02}-{:02}",
                rng.gen_range(1976..=2005),
                rng.gen_range(1..=12),
                rng.gen_range(1..=28)
            )
        });
        let g: f64 = rng.r#gen();
        c.joined = None;
        c.left = None;
        if g < 0.4 {
            let join = NOW - rng.gen_range(DAY_MS..730 * DAY_MS);
            c.joined = Some(join);
            if g >= 0.3 {
                c.left = Some(join + rng.gen_range(60_000..(NOW - join)));
            }
        }
    }
}

/// `group/name` of tag index `t`.
pub fn tag_path(t: u16) -> String {
    match STAGES.get(t as usize) {
        Some(stage) => format!("宝宝月龄/{stage}"),
        None => format!("标签/t{t}"),
    }
}

/// The benchmark's expressions (5–8 conditions each), as in the `yutang-index` bench.
pub fn expressions(tags: u16) -> Vec<String> {
    let t = |i: u16| tag_path(i.min(tags.saturating_sub(1)));
    vec![
        format!(
            r#"tag("{}") and city = "上海" and orders_90d >= 2 and not in_group and last_order within 30d"#,
            t(0)
        ),
        format!(
            r#"(tag("{}") or tag("{}")) and level in ("金卡", "黑金") and total_spent_fen >= ¥1000 and last_order within 90d and not tag("{}")"#,
            t(7),
            t(20),
            t(8)
        ),
        format!(
            r#"city in ("北京", "上海", "广州", "深圳") and order_count >= 5 and last_order before 180d ago and not in_group and tag("{}") and not tag("{}")"#,
            t(6),
            t(9)
        ),
        format!(
            r#"tag("{}") and tag("{}") and tag("{}") and not tag("{}") and orders_90d = 0 and first_order after 2024-06-01"#,
            t(1),
            t(12),
            t(30),
            t(6)
        ),
        format!(
            r#"(tag("{}") or tag("{}") or tag("{}")) and (city = "成都" or city = "杭州") and total_spent_fen >= ¥500 and total_spent_fen < ¥5000 and in_group"#,
            t(50),
            t(51),
            t(52)
        ),
        format!(
            r#"not tag("{}") and orders_90d <= 1 and last_order within 365d and level != "普通" and birthday before 1990-01-01"#,
            t(6)
        ),
        format!(
            r#"tag("{}") or tag("{}") or tag("{}") or (orders_90d >= 8 and in_group) or last_order within 3d"#,
            t(100),
            t(200),
            t(300)
        ),
        format!(
            r#"tag("{}") and spent_365d >= ¥300 and orders_365d >= 2 and birth_month in (11, 12, 1) and level in ("银卡", "金卡") and city != "北京" and in_group"#,
            t(2)
        ),
    ]
}

/// The schema the engine loads from the generated tag tables.
pub fn schema(tags: u16) -> Result<Schema> {
    let mut s = Schema::with_customer_attributes();
    for t in 0..tags {
        let path = tag_path(t);
        let (group, name) = path.split_once('/').context("tag path")?;
        s.add_tag(group, name, TagId(i64::from(t) + 1))?;
    }
    Ok(s)
}

/// Windowed order facts as `load_facts` computes them: (orders_90d, orders_365d, spent_365d).
fn windows(c: &Cust) -> (i64, i64, i64) {
    let (mut o90, mut o365, mut s365) = (0, 0, 0);
    for o in c.orders.iter().filter(|o| !o.refunded) {
        if o.paid_at >= NOW - 365 * DAY_MS {
            o365 += 1;
            s365 += o.amount;
            if o.paid_at >= NOW - 90 * DAY_MS {
                o90 += 1;
            }
        }
    }
    (o90, o365, s365)
}

/// Feed one customer into the builder with the facts `load_facts` would read from the tables.
fn add_to_builder(b: &mut IndexBuilder, id: u32, c: &Cust) -> Result<()> {
    b.add_customer(id);
    for t in &c.tags {
        b.add_tag(id, TagId(i64::from(*t) + 1));
    }
    if let Some(city) = c.city {
        b.add_attr(id, "city", AttrValue::Text(CITIES[city as usize]))?;
    }
    b.add_attr(id, "level", AttrValue::Text(LEVELS[c.level as usize].0))?;
    b.add_attr(id, "order_count", AttrValue::Int(c.order_count))?;
    b.add_attr(id, "total_spent_fen", AttrValue::Int(c.total_spend))?;
    if let Some(t) = c.first_order {
        b.add_attr(id, "first_order", AttrValue::Time(Millis(t)))?;
    }
    if let Some(t) = c.last_order {
        b.add_attr(id, "last_order", AttrValue::Time(Millis(t)))?;
    }
    if let Some(d) = &c.birthday {
        if let Some(m) = date_millis(d) {
            b.add_attr(id, "birthday", AttrValue::Time(Millis(m)))?;
        }
        if let Some(month) = d.get(5..7).and_then(|m| m.parse::<i64>().ok()) {
            b.add_attr(id, "birth_month", AttrValue::Int(month))?;
        }
    }
    let (o90, o365, s365) = windows(c);
    b.add_attr(id, "orders_90d", AttrValue::Int(o90))?;
    b.add_attr(id, "orders_365d", AttrValue::Int(o365))?;
    b.add_attr(id, "spent_365d", AttrValue::Int(s365))?;
    b.add_attr(
        id,
        "in_group",
        AttrValue::Bool(c.joined.is_some() && c.left.is_none()),
    )?;
    // The generated brand has no coupons; the product's facts say 0, and so does this.
    b.add_attr(id, "unused_coupons", AttrValue::Int(0))?;
    Ok(())
}

// ----------------------------------------------------------------------------------------
// Measuring

/// Resident set size of this process, in bytes (Linux; 0 elsewhere).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else if v >= 10.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.2} ms")
    }
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

/// Time `runs` calls of `f` (after none: the index has no cold state worth warming).
fn time_index(runs: usize, mut f: impl FnMut() -> u64) -> (u64, Duration, Duration) {
    let mut times = Vec::with_capacity(runs);
    let mut count = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        count = std::hint::black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    (count, percentile(&times, 0.5), percentile(&times, 0.95))
}

/// Per-expression results of one engine.
#[derive(Debug, Clone, Default)]
pub struct EngineResult {
    pub engine: String,
    /// Loaded by an earlier run (`--reuse`): no load, index or analyze figures.
    pub reused: bool,
    pub load: Duration,
    pub indexes: Duration,
    pub analyze: Duration,
    pub build: Duration,
    pub memory_bytes: u64,
    pub rss_delta: u64,
    /// (index count, index p50, index p95, sql count, sql p50) per expression.
    pub rows: Vec<(u64, Duration, Duration, u64, Duration)>,
    /// PostgreSQL's facts-table baseline: the time to create and index it, and its p50 per
    /// expression.
    pub facts: Option<(Duration, Vec<Duration>)>,
}

/// Everything `run` measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub expressions: Vec<String>,
    pub engines: Vec<EngineResult>,
}

/// The expressions a run measures: E1–E8 and any `--expr`.
fn all_expressions(a: &SegmentsArgs) -> Vec<String> {
    let mut exprs = expressions(a.tags);
    exprs.extend(a.extra.iter().cloned());
    exprs
}

pub async fn run(a: &SegmentsArgs) -> Result<()> {
    let exprs = all_expressions(a);
    println!(
        "yutang bench segments: {} customers × {} tags, seed {}, now = 2026-01-01 (Asia/Shanghai)",
        a.customers, a.tags, a.seed
    );
    if a.index_only {
        return index_only(a, &exprs);
    }
    let report = run_engines(a).await?;
    print_report(a, &report);
    Ok(())
}

fn index_only(a: &SegmentsArgs, exprs: &[String]) -> Result<()> {
    let schema = schema(a.tags)?;
    let rss0 = rss_bytes();
    let started = Instant::now();
    let mut g = Generator::new(a.tags, a.seed)?;
    let mut b = IndexBuilder::from_schema(&schema);
    let mut c = Cust::default();
    let mut memberships = 0u64;
    for id in 1..=a.customers {
        g.next_into(&mut c);
        memberships += c.tags.len() as u64;
        add_to_builder(&mut b, id, &c)?;
        if id % 1_000_000 == 0 {
            eprintln!("  generated {id}");
        }
    }
    let index: SegmentIndex = b.build();
    let build = started.elapsed();
    let rss1 = rss_bytes();
    let m = index.memory();
    println!(
        "index only: built in {:.1} s (generation included), {:.2} tags per customer",
        build.as_secs_f64(),
        memberships as f64 / f64::from(a.customers.max(1))
    );
    println!(
        "index memory: {} ({:.1} bytes/customer) = tags {} + time {} + numeric {} + text {} + bool {} + alive {} + word copies of dense sets {}; process RSS grew {}",
        mib(m.total() as u64),
        m.total() as f64 / f64::from(a.customers.max(1)),
        mib(m.tags as u64),
        mib(m.time as u64),
        mib(m.numeric as u64),
        mib(m.text as u64),
        mib(m.bool as u64),
        mib(m.alive as u64),
        mib(m.dense as u64),
        mib(rss1.saturating_sub(rss0))
    );
    println!();
    println!("| # | count | index p50 | index p95 | expression |");
    println!("|---|---:|---:|---:|---|");
    for (i, src) in exprs.iter().enumerate() {
        let expr = schema.compile(src).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (count, p50, p95) =
            time_index(a.index_runs, || index.evaluate(&expr, Millis(NOW)).len());
        println!(
            "| E{} | {count} | {} | {} | `{src}` |",
            i + 1,
            ms(p50),
            ms(p95)
        );
    }
    Ok(())
}

async fn run_engines(a: &SegmentsArgs) -> Result<Report> {
    let exprs = all_expressions(a);
    let mut report = Report {
        expressions: exprs.clone(),
        engines: Vec::new(),
    };
    for name in &a.engines {
        let engine = match name.trim() {
            "sqlite" => Engine::Sqlite,
            "postgres" | "postgresql" => Engine::Postgres,
            other => bail!("unknown engine {other:?} (sqlite, postgres)"),
        };
        let r = run_engine(a, engine, &exprs).await?;
        report.engines.push(r);
    }
    Ok(report)
}

fn sqlite_path(a: &SegmentsArgs) -> PathBuf {
    a.sqlite_path
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("yutang-bench-segments.db"))
}

fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn pg_url(admin: &str, db: &str) -> Result<String> {
    let mut u = url::Url::parse(admin).context("--pg-admin-url")?;
    u.set_path(&format!("/{db}"));
    Ok(u.to_string())
}

async fn pg_admin(a: &SegmentsArgs, sql: String) -> Result<()> {
    let opts = sqlx::postgres::PgConnectOptions::from_str(&a.pg_admin_url)?;
    let mut conn = opts.connect().await.context("connecting to PostgreSQL")?;
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)))
        .await?;
    conn.close().await?;
    Ok(())
}

fn check_db_name(name: &str) -> Result<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("--pg-database must be letters, digits and _");
    }
    Ok(())
}

async fn run_engine(a: &SegmentsArgs, engine: Engine, exprs: &[String]) -> Result<EngineResult> {
    let label = engine.as_str();
    let url = match engine {
        Engine::Sqlite if a.reuse => format!("sqlite://{}", sqlite_path(a).display()),
        Engine::Postgres if a.reuse => {
            check_db_name(&a.pg_database)?;
            pg_url(&a.pg_admin_url, &a.pg_database)?
        }
        Engine::Sqlite => {
            let p = sqlite_path(a);
            remove_sqlite(&p);
            format!("sqlite://{}", p.display())
        }
        Engine::Postgres => {
            check_db_name(&a.pg_database)?;
            pg_admin(
                a,
                format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", a.pg_database),
            )
            .await?;
            pg_admin(a, format!("CREATE DATABASE {}", a.pg_database)).await?;
            pg_url(&a.pg_admin_url, &a.pg_database)?
        }
    };
    let db_url = DbUrl::parse(&url)?;
    let opts = StoreOptions {
        sqlite_synchronous_full: false,
        ..StoreOptions::default()
    };
    let mut r = EngineResult {
        engine: label.into(),
        ..EngineResult::default()
    };
    let db = if a.reuse {
        if engine == Engine::Sqlite && !sqlite_path(a).exists() {
            bail!(
                "--reuse: no SQLite database at {}",
                sqlite_path(a).display()
            );
        }
        r.reused = true;
        println!("{label}: reusing the database an earlier --keep run loaded");
        Db::connect(&db_url, &opts).await?
    } else {
        let db = Db::connect(&db_url, &opts).await?;
        db.migrate().await?;
        load_and_analyze(a, engine, db, &db_url, &opts, &mut r).await?
    };

    // The product's build path.
    let rss0 = rss_bytes();
    let t = Instant::now();
    let seg = SegmentEngine::default();
    seg.rebuild(&db, NOW)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    r.build = t.elapsed();
    r.rss_delta = rss_bytes().saturating_sub(rss0);
    let stats = seg.stats().map_err(|e| anyhow::anyhow!("{e}"))?;
    r.memory_bytes = stats.memory_bytes as u64;
    println!(
        "{label}: index built from the database in {:.1} s: {} customers, {} tags, index memory {} ({:.1} bytes/customer), process RSS grew {}",
        r.build.as_secs_f64(),
        stats.customers,
        stats.tags,
        mib(r.memory_bytes),
        r.memory_bytes as f64 / (stats.customers.max(1) as f64),
        mib(r.rss_delta)
    );
    if stats.customers != u64::from(a.customers) {
        bail!(
            "the index holds {} customers, not {}",
            stats.customers,
            a.customers
        );
    }

    let custom = seg.custom_attrs().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut compiled = Vec::with_capacity(exprs.len());
    for (i, src) in exprs.iter().enumerate() {
        let expr = seg
            .compile(src)
            .map_err(|e| anyhow::anyhow!("E{}: {e}", i + 1))?;
        let mut err = None;
        let (icount, p50, p95) =
            time_index(a.index_runs, || match seg.evaluate(&expr, NOW, None) {
                Ok(m) => m.len(),
                Err(e) => {
                    err = Some(e);
                    0
                }
            });
        if let Some(e) = err {
            bail!("E{}: {e}", i + 1);
        }
        let cond = to_sql(&expr, &custom, engine, Millis(NOW))?;
        let sql =
            format!("SELECT COUNT(*) FROM customers c WHERE c.merged_into IS NULL AND ({cond})");
        let (scount, sp50) = time_sql(&db, &sql, a.sql_runs).await?;
        compare(
            &format!("{label}: E{}", i + 1),
            (icount, p50, p95),
            "SQL",
            (scount, sp50),
            src,
        )?;
        r.rows.push((icount, p50, p95, scount, sp50));
        compiled.push(expr);
    }
    if engine == Engine::Postgres && !a.no_facts_table {
        r.facts = Some(facts_baseline(a, &db, &compiled, &custom, &r.rows, exprs).await?);
    }
    drop(seg);
    db.close().await;
    if !a.keep && !a.reuse {
        match engine {
            Engine::Sqlite => remove_sqlite(&sqlite_path(a)),
            Engine::Postgres => {
                pg_admin(
                    a,
                    format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", a.pg_database),
                )
                .await?
            }
        }
    }
    Ok(r)
}

/// Generate and load the brand into a freshly migrated `db`, re-create the migrations'
/// indexes, then `VACUUM (ANALYZE)` / `ANALYZE`; the figures go into `r`.
async fn load_and_analyze(
    a: &SegmentsArgs,
    engine: Engine,
    db: Db,
    db_url: &DbUrl,
    opts: &StoreOptions,
    r: &mut EngineResult,
) -> Result<Db> {
    let label = engine.as_str();
    eprintln!("{label}: loading {} customers", a.customers);
    let (load, indexes) = match &db {
        Db::Postgres(pool) => load_postgres(a, pool).await?,
        Db::Sqlite(_) => {
            db.close().await;
            load_sqlite(a, &sqlite_path(a)).await?
        }
    };
    r.load = load;
    r.indexes = indexes;
    let db = match db {
        Db::Sqlite(_) => Db::connect(db_url, opts).await?,
        pg => pg,
    };
    eprintln!(
        "{label}: loaded in {:.1} s, indexes in {:.1} s; analyzing",
        load.as_secs_f64(),
        indexes.as_secs_f64()
    );
    let t = Instant::now();
    match &db {
        Db::Postgres(pool) => {
            pool.execute("VACUUM (ANALYZE)").await?;
        }
        Db::Sqlite(pool) => {
            pool.execute("ANALYZE").await?;
        }
    }
    r.analyze = t.elapsed();
    println!(
        "{label}: load {:.1} s + the migrations' indexes {:.1} s + {} {:.1} s",
        load.as_secs_f64(),
        indexes.as_secs_f64(),
        if engine == Engine::Postgres {
            "VACUUM ANALYZE"
        } else {
            "ANALYZE"
        },
        r.analyze.as_secs_f64()
    );
    Ok(db)
}

/// Print one expression's index and SQL figures; fail unless the counts are equal.
fn compare(
    what: &str,
    (icount, ip50, ip95): (u64, Duration, Duration),
    sql_label: &str,
    (scount, sp50): (u64, Duration),
    src: &str,
) -> Result<()> {
    println!(
        "{what}: index {icount} in {} (p95 {}), {sql_label} {scount} in {} — {:.0}×",
        ms(ip50),
        ms(ip95),
        ms(sp50),
        sp50.as_secs_f64() / ip50.as_secs_f64().max(1e-9)
    );
    if icount != scount {
        bail!("{what}: the index counts {icount}, {sql_label} {scount}: `{src}`");
    }
    Ok(())
}

/// `sql`'s count and its p50 over `runs` timed runs after one warm-up.
async fn time_sql(db: &Db, sql: &str, runs: usize) -> Result<(u64, Duration)> {
    let mut times = Vec::new();
    let mut count = 0u64;
    for run in 0..=runs.max(1) {
        let t = Instant::now();
        let n: i64 = db_count(db, sql).await?;
        // Run 0 is the warm-up.
        if run > 0 {
            times.push(t.elapsed());
        }
        count = u64::try_from(n).unwrap_or(0);
    }
    times.sort();
    Ok((count, percentile(&times, 0.5)))
}

async fn db_count(db: &Db, sql: &str) -> Result<i64> {
    Ok(match db {
        Db::Postgres(pool) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(pool)
                .await?
        }
        Db::Sqlite(pool) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(pool)
                .await?
        }
    })
}

/// PostgreSQL's second baseline: create the facts table at `NOW`, then count every
/// expression (`compiled`, in the order of `exprs`) over it; the counts must equal the
/// index's (`rows`).
async fn facts_baseline(
    a: &SegmentsArgs,
    db: &Db,
    compiled: &[Resolved],
    custom: &[CustomAttr],
    rows: &[(u64, Duration, Duration, u64, Duration)],
    exprs: &[String],
) -> Result<(Duration, Vec<Duration>)> {
    const TABLE: &str = "bench_customer_facts";
    let Db::Postgres(pool) = db else {
        bail!("the facts table is a PostgreSQL baseline");
    };
    eprintln!("postgres: creating the facts table");
    let t = Instant::now();
    for stmt in facts_table_sql(TABLE, NOW) {
        pool.execute(sqlx::AssertSqlSafe(stmt)).await?;
    }
    let build = t.elapsed();
    println!(
        "postgres: facts table (one row per customer, every column indexed, GIN on tags) created in {:.1} s",
        build.as_secs_f64()
    );
    let mut times = Vec::new();
    for (i, ((expr, src), &(icount, ip50, ip95, ..))) in
        compiled.iter().zip(exprs).zip(rows).enumerate()
    {
        let cond = to_sql_from(
            expr,
            custom,
            Engine::Postgres,
            Millis(NOW),
            SqlSource::FactsTable,
        )?;
        let sql = format!("SELECT COUNT(*) FROM {TABLE} c WHERE {cond}");
        let (count, p50) = time_sql(db, &sql, a.sql_runs).await?;
        compare(
            &format!("postgres: E{}", i + 1),
            (icount, ip50, ip95),
            "facts table",
            (count, p50),
            src,
        )?;
        times.push(p50);
    }
    Ok((build, times))
}

/// A report's two cells for one SQL baseline: its p50 and how many times the index's.
fn cells(sql_p50: Duration, index_p50: Duration) -> String {
    format!(
        " {} | {:.0}× |",
        ms(sql_p50),
        sql_p50.as_secs_f64() / index_p50.as_secs_f64().max(1e-9)
    )
}

fn print_report(a: &SegmentsArgs, report: &Report) {
    let Some(first) = report.engines.first() else {
        return;
    };
    println!();
    for e in &report.engines {
        let loaded = if e.reused {
            "loaded by an earlier run".to_owned()
        } else {
            format!(
                "load {:.1} s, indexes {:.1} s, analyze {:.1} s",
                e.load.as_secs_f64(),
                e.indexes.as_secs_f64(),
                e.analyze.as_secs_f64()
            )
        };
        println!(
            "- {}: {loaded}; index build from the database {:.1} s; index memory {} ({:.1} B/customer), RSS +{}",
            e.engine,
            e.build.as_secs_f64(),
            mib(e.memory_bytes),
            e.memory_bytes as f64 / f64::from(a.customers.max(1)),
            mib(e.rss_delta)
        );
        if let Some((build, _)) = &e.facts {
            println!(
                "- {}: facts table created and indexed in {:.1} s",
                e.engine,
                build.as_secs_f64()
            );
        }
    }
    println!();
    let mut head = String::from("| # | count | index p50 | index p95 |");
    let mut rule = String::from("|---|---:|---:|---:|");
    for e in &report.engines {
        let _ = write!(head, " {} p50 | {} ÷ index |", e.engine, e.engine);
        rule.push_str("---:|---:|");
        if e.facts.is_some() {
            let _ = write!(head, " {} facts table p50 | facts ÷ index |", e.engine);
            rule.push_str("---:|---:|");
        }
    }
    head.push_str(" expression |");
    rule.push_str("---|");
    println!("{head}\n{rule}");
    for (i, src) in report.expressions.iter().enumerate() {
        let Some(&(count, p50, p95, _, _)) = first.rows.get(i) else {
            continue;
        };
        let mut line = format!("| E{} | {count} | {} | {} |", i + 1, ms(p50), ms(p95));
        for e in &report.engines {
            match e.rows.get(i) {
                Some(&(_, ip50, _, _, sp50)) => line.push_str(&cells(sp50, ip50)),
                None => line.push_str(" – | – |"),
            }
            if let Some((_, facts)) = &e.facts {
                match (e.rows.get(i), facts.get(i)) {
                    (Some(&(_, ip50, ..)), Some(fp50)) => line.push_str(&cells(*fp50, ip50)),
                    _ => line.push_str(" – | – |"),
                }
            }
        }
        let _ = write!(line, " `{src}` |");
        println!("{line}");
    }
}

// ----------------------------------------------------------------------------------------
// Loading

const BIG_TABLES: [&str; 4] = ["customers", "customer_tags", "orders", "events"];

/// The tag catalogue rows (ids 1..=tags; groups 1 宝宝月龄 single-select, 2 标签 multi).
fn catalogue_sql(tags: u16) -> String {
    let mut s = format!(
        "INSERT INTO tag_groups (id, name, multi, sort, source, created_at, updated_at) VALUES \
         (1, '宝宝月龄', FALSE, 1, 'manual', {NOW}, {NOW}), (2, '标签', TRUE, 2, 'manual', {NOW}, {NOW});\n"
    );
    s.push_str("INSERT INTO tags (id, group_id, name, sort, created_at, updated_at) VALUES ");
    for t in 0..tags {
        let path = tag_path(t);
        let (group, name) = path.split_once('/').unwrap_or(("标签", "t"));
        let gid = if group == "宝宝月龄" { 1 } else { 2 };
        if t > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "({}, {gid}, '{name}', {t}, {NOW}, {NOW})", t + 1);
    }
    s.push(';');
    s
}

/// Append one customer's rows in PostgreSQL COPY text format.
fn copy_rows(
    id: u32,
    c: &Cust,
    next_order: &mut u64,
    next_event: &mut u64,
    bufs: &mut [String; 4],
) {
    let [cust, tags, orders, events] = bufs;
    let opt = |v: Option<i64>| v.map_or_else(|| "\\N".to_owned(), |v| v.to_string());
    let _ = writeln!(
        cust,
        "{id}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{NOW}\t{NOW}",
        c.birthday.as_deref().unwrap_or("\\N"),
        c.city.map_or("", |i| CITIES[i as usize]),
        LEVELS[c.level as usize].0,
        c.order_count,
        c.total_spend,
        opt(c.first_order),
        opt(c.last_order),
    );
    for t in &c.tags {
        let _ = writeln!(tags, "{id}\t{}\timport\t{NOW}", t + 1);
    }
    for o in &c.orders {
        *next_order += 1;
        let (status, refunded) = if o.refunded {
            ("refunded", o.amount)
        } else {
            ("completed", 0)
        };
        let _ = writeln!(
            orders,
            "{n}\tB{n:012}\t{id}\tstore\t{status}\t{}\t{refunded}\t{}\t{NOW}\t{NOW}",
            o.amount,
            o.paid_at,
            n = *next_order
        );
    }
    for (kind, at) in [("join_group", c.joined), ("leave_group", c.left)] {
        if let Some(at) = at {
            *next_event += 1;
            let _ = writeln!(events, "{}\t{id}\t{kind}\t{at}\t{at}", *next_event);
        }
    }
}

const COPY_SQL: [&str; 4] = [
    "COPY customers (id, birthday, city, member_level, order_count, total_spend, first_order_at, last_order_at, created_at, updated_at) FROM STDIN",
    "COPY customer_tags (customer_id, tag_id, source, created_at) FROM STDIN",
    "COPY orders (id, external_id, customer_id, channel, status, amount, refunded_amount, paid_at, created_at, updated_at) FROM STDIN",
    "COPY events (id, customer_id, kind, occurred_at, received_at) FROM STDIN",
];

/// COPY the brand into the migrated tables: the big tables' secondary indexes are dropped
/// first and re-created from their own definitions after; foreign keys are not checked
/// during the load (`session_replication_role = replica`; the generator only writes
/// valid references).
async fn load_postgres(a: &SegmentsArgs, pool: &sqlx::PgPool) -> Result<(Duration, Duration)> {
    let started = Instant::now();
    pool.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(catalogue_sql(a.tags))))
        .await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
         AND tablename = ANY($1) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
    )
    .bind(BIG_TABLES.map(String::from).to_vec())
    .fetch_all(pool)
    .await?;
    for (name, _) in &indexes {
        pool.execute(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
            .await?;
    }
    let mut conns = Vec::new();
    for _ in 0..4 {
        let mut c = pool.acquire().await?;
        c.execute("SET session_replication_role = replica; SET synchronous_commit = off")
            .await?;
        conns.push(c);
    }
    let mut it = conns.iter_mut();
    let (Some(c0), Some(c1), Some(c2), Some(c3)) = (it.next(), it.next(), it.next(), it.next())
    else {
        bail!("no connections");
    };
    let mut copies = [
        c0.copy_in_raw(COPY_SQL[0]).await?,
        c1.copy_in_raw(COPY_SQL[1]).await?,
        c2.copy_in_raw(COPY_SQL[2]).await?,
        c3.copy_in_raw(COPY_SQL[3]).await?,
    ];
    let mut g = Generator::new(a.tags, a.seed)?;
    let mut c = Cust::default();
    let mut bufs: [String; 4] = Default::default();
    let (mut next_order, mut next_event) = (0u64, 0u64);
    const FLUSH: usize = 4 << 20;
    for id in 1..=a.customers {
        g.next_into(&mut c);
        copy_rows(id, &c, &mut next_order, &mut next_event, &mut bufs);
        for (copy, buf) in copies.iter_mut().zip(bufs.iter_mut()) {
            if buf.len() >= FLUSH {
                copy.send(buf.as_bytes()).await?;
                buf.clear();
            }
        }
        if id % 1_000_000 == 0 {
            eprintln!(
                "  postgres: {id} customers, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let mut rows = [0u64; 4];
    for (i, (mut copy, buf)) in copies.into_iter().zip(bufs.iter()).enumerate() {
        if !buf.is_empty() {
            copy.send(buf.as_bytes()).await?;
        }
        rows[i] = copy.finish().await?;
    }
    drop(conns);
    let load = started.elapsed();
    println!(
        "postgres: loaded {} customers, {} customer_tags ({:.2} per customer), {} orders (last 365 days), {} group events",
        rows[0],
        rows[1],
        rows[1] as f64 / rows[0].max(1) as f64,
        rows[2],
        rows[3]
    );
    let t = Instant::now();
    for (name, def) in &indexes {
        eprintln!("  postgres: CREATE INDEX {name}");
        pool.execute(sqlx::AssertSqlSafe(def.clone())).await?;
    }
    for (table, col) in [
        ("customers", "id"),
        ("orders", "id"),
        ("events", "id"),
        ("tags", "id"),
        ("tag_groups", "id"),
    ] {
        pool.execute(sqlx::AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{col}'), (SELECT MAX({col}) FROM {table}))"
        )))
        .await?;
    }
    Ok((load, t.elapsed()))
}

/// Multi-row INSERTs (numbers and fixed strings inlined) in large transactions, with the
/// journal and syncs off and the big tables' secondary indexes dropped during the load.
async fn load_sqlite(a: &SegmentsArgs, path: &std::path::Path) -> Result<(Duration, Duration)> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let started = Instant::now();
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .foreign_keys(false)
        .pragma("cache_size", "-262144")
        .pragma("temp_store", "MEMORY")
        .pragma("locking_mode", "EXCLUSIVE");
    let mut conn = opts.connect().await?;
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(catalogue_sql(a.tags))))
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
    for (name, _) in &indexes {
        conn.execute(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
            .await?;
    }
    const PREFIX: [&str; 4] = [
        "INSERT INTO customers (id, birthday, city, member_level, order_count, total_spend, first_order_at, last_order_at, created_at, updated_at) VALUES ",
        "INSERT INTO customer_tags (customer_id, tag_id, source, created_at) VALUES ",
        "INSERT INTO orders (id, external_id, customer_id, channel, status, amount, refunded_amount, paid_at, created_at, updated_at) VALUES ",
        "INSERT INTO events (id, customer_id, kind, occurred_at, received_at) VALUES ",
    ];
    const ROWS_PER_STATEMENT: usize = 2_000;
    let mut stmts: [(String, usize); 4] = Default::default();
    let mut g = Generator::new(a.tags, a.seed)?;
    let mut c = Cust::default();
    let (mut next_order, mut next_event) = (0u64, 0u64);
    let mut counts = [0u64; 4];
    let mut in_txn = 0usize;
    conn.execute("BEGIN").await?;
    let opt = |v: Option<i64>| v.map_or_else(|| "NULL".to_owned(), |v| v.to_string());
    for id in 1..=a.customers {
        g.next_into(&mut c);
        let mut rows: [Vec<String>; 4] = Default::default();
        rows[0].push(format!(
            "({id},{},'{}','{}',{},{},{},{},{NOW},{NOW})",
            c.birthday
                .as_deref()
                .map_or_else(|| "NULL".to_owned(), |b| format!("'{b}'")),
            c.city.map_or("", |i| CITIES[i as usize]),
            LEVELS[c.level as usize].0,
            c.order_count,
            c.total_spend,
            opt(c.first_order),
            opt(c.last_order),
        ));
        for t in &c.tags {
            rows[1].push(format!("({id},{},'import',{NOW})", t + 1));
        }
        for o in &c.orders {
            next_order += 1;
            let (status, refunded) = if o.refunded {
                ("refunded", o.amount)
            } else {
                ("completed", 0)
            };
            rows[2].push(format!(
                "({n},'B{n:012}',{id},'store','{status}',{},{refunded},{},{NOW},{NOW})",
                o.amount,
                o.paid_at,
                n = next_order
            ));
        }
        for (kind, at) in [("join_group", c.joined), ("leave_group", c.left)] {
            if let Some(at) = at {
                next_event += 1;
                rows[3].push(format!("({next_event},{id},'{kind}',{at},{at})"));
            }
        }
        for (i, rs) in rows.iter().enumerate() {
            for row in rs {
                let (s, n) = &mut stmts[i];
                if *n == 0 {
                    s.clear();
                    s.push_str(PREFIX[i]);
                } else {
                    s.push(',');
                }
                s.push_str(row);
                *n += 1;
                counts[i] += 1;
                if *n >= ROWS_PER_STATEMENT {
                    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone())))
                        .await?;
                    *n = 0;
                    in_txn += ROWS_PER_STATEMENT;
                }
            }
        }
        if in_txn >= 2_000_000 {
            conn.execute("COMMIT").await?;
            conn.execute("BEGIN").await?;
            in_txn = 0;
        }
        if id % 1_000_000 == 0 {
            eprintln!(
                "  sqlite: {id} customers, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    for (s, n) in &mut stmts {
        if *n > 0 {
            conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone())))
                .await?;
            *n = 0;
        }
    }
    conn.execute("COMMIT").await?;
    let load = started.elapsed();
    println!(
        "sqlite: loaded {} customers, {} customer_tags ({:.2} per customer), {} orders (last 365 days), {} group events",
        counts[0],
        counts[1],
        counts[1] as f64 / counts[0].max(1) as f64,
        counts[2],
        counts[3]
    );
    let t = Instant::now();
    for (name, def) in &indexes {
        eprintln!("  sqlite: CREATE INDEX {name}");
        conn.execute(sqlx::AssertSqlSafe(def.clone())).await?;
    }
    conn.close().await?;
    Ok((load, t.elapsed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() -> Result<()> {
        let mut a = Generator::new(400, 7)?;
        let mut b = Generator::new(400, 7)?;
        let (mut x, mut y) = (Cust::default(), Cust::default());
        let mut tags = 0;
        for _ in 0..2_000 {
            a.next_into(&mut x);
            b.next_into(&mut y);
            assert_eq!(x.tags, y.tags);
            assert_eq!(x.last_order, y.last_order);
            assert_eq!(x.orders.len(), y.orders.len());
            tags += x.tags.len();
        }
        let avg = tags as f64 / 2_000.0;
        assert!((12.0..17.0).contains(&avg), "{avg} tags per customer");
        Ok(())
    }

    #[test]
    fn every_expression_compiles() -> Result<()> {
        let s = schema(400)?;
        for e in expressions(400) {
            s.compile(&e).map_err(|err| anyhow::anyhow!("{e}: {err}"))?;
        }
        Ok(())
    }

    /// The whole path at tiny scale on SQLite: load, build from the database, index and SQL
    /// counts equal for every expression (the run fails otherwise).
    #[tokio::test]
    async fn index_and_sql_agree_on_sqlite() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut a = SegmentsArgs::with_customers(3_000);
        a.sqlite_path = Some(dir.path().join("bench.db"));
        a.index_runs = 2;
        a.sql_runs = 1;
        let report = run_engines(&a).await?;
        let e = report.engines.first().context("one engine")?;
        assert_eq!(e.rows.len(), expressions(400).len());
        assert!(e.rows.iter().all(|r| r.0 == r.3));
        // Some expression matches someone, so the comparison is not vacuous.
        assert!(e.rows.iter().any(|r| r.0 > 0));
        Ok(())
    }

    /// The PostgreSQL path at tiny scale, with the facts-table baseline: three counts per
    /// expression (index, the product's SQL, the facts table), all equal or the run fails.
    #[tokio::test]
    async fn index_sql_and_facts_table_agree_on_postgres() -> Result<()> {
        let mut a = SegmentsArgs::with_customers(3_000);
        a.engines = vec!["postgres".into()];
        a.pg_admin_url = std::env::var("YUTANG_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        a.pg_database = format!("yutang_bench_test_{:08x}", rand::random::<u32>());
        a.index_runs = 2;
        a.sql_runs = 1;
        let report = run_engines(&a).await?;
        let e = report.engines.first().context("one engine")?;
        assert_eq!(e.rows.len(), expressions(400).len());
        assert!(e.rows.iter().all(|r| r.0 == r.3));
        assert!(e.rows.iter().any(|r| r.0 > 0));
        let (_, facts) = e.facts.as_ref().context("the facts baseline ran")?;
        assert_eq!(facts.len(), e.rows.len());
        Ok(())
    }

    /// The index-only path feeds the builder the facts the database path would load.
    #[tokio::test]
    async fn index_only_matches_the_database_build() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut a = SegmentsArgs::with_customers(2_000);
        a.sqlite_path = Some(dir.path().join("bench.db"));
        a.index_runs = 1;
        a.sql_runs = 1;
        let report = run_engines(&a).await?;
        let db_counts: Vec<u64> = report.engines[0].rows.iter().map(|r| r.0).collect();
        let s = schema(a.tags)?;
        let mut g = Generator::new(a.tags, a.seed)?;
        let mut b = IndexBuilder::from_schema(&s);
        let mut c = Cust::default();
        for id in 1..=a.customers {
            g.next_into(&mut c);
            add_to_builder(&mut b, id, &c)?;
        }
        let index = b.build();
        let direct: Vec<u64> = expressions(a.tags)
            .iter()
            .map(|e| {
                s.compile(e)
                    .map(|x| index.evaluate(&x, Millis(NOW)).len())
                    .unwrap_or(u64::MAX)
            })
            .collect();
        assert_eq!(direct, db_counts);
        Ok(())
    }
}
