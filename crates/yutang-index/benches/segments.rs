//! Segment counts on a synthetic brand: the bitmap index against a naive scan of customer
//! structs, in the same process.
//!
//! ```text
//! cargo bench -p yutang-index --bench segments
//! YUTANG_BENCH_CUSTOMERS=200000 cargo bench -p yutang-index --bench segments
//! ```
//!
//! Environment: `YUTANG_BENCH_CUSTOMERS` (default 1,000,000), `YUTANG_BENCH_TAGS` (default
//! 400), `YUTANG_BENCH_NAIVE_RUNS` (default 3), `YUTANG_BENCH_SEED` (default 42). Without
//! `--bench` on the command line (e.g. `cargo test --benches`) it runs on 20,000 customers.
//!
//! It prints the build time, the index's memory (its own accounting and the process's
//! resident-set growth), and per expression the count, the index's p50/p99 and the naive
//! scan's median with the ratio; then criterion measures each index count.

// A benchmark is a test harness: failing loudly on bad setup is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use yutang_core::segments::{Resolved, Schema, TagId};
use yutang_core::time::Millis;
use yutang_index::reference::Population;
use yutang_index::{AttrValue, IndexBuilder, Row};

const DAY: i64 = 86_400_000;
/// 2026-01-01 00:00 Asia/Shanghai: "now" for every query.
const NOW: Millis = Millis(1_767_196_800_000);

const STAGES: [&str; 6] = ["0-6月", "7-12月", "1-2岁", "2-3岁", "3-6岁", "6岁以上"];
const CITIES: [&str; 24] = [
    "上海", "北京", "广州", "深圳", "成都", "杭州", "武汉", "南京", "重庆", "西安", "苏州", "天津",
    "长沙", "郑州", "东莞", "青岛", "沈阳", "宁波", "昆明", "合肥", "佛山", "福州", "厦门", "济南",
];
const LEVELS: [(&str, u32); 4] = [("普通", 70), ("银卡", 18), ("金卡", 9), ("黑金", 3)];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One synthetic customer, compact so a million fit easily.
struct Gen {
    tags: Vec<u16>,
    city: Option<u8>,
    level: u8,
    orders_90d: i64,
    order_count: i64,
    total_spent_fen: i64,
    last_order: Option<i64>,
    first_order: Option<i64>,
    birthday: Option<i64>,
    in_group: bool,
}

fn generate(n: u32, tags: u16, seed: u64) -> Vec<Gen> {
    let mut rng = StdRng::seed_from_u64(seed);
    // Tags 0..6 are the single-select baby-stage group; the rest follow a Zipf-like law.
    let generic = u32::from(tags.saturating_sub(STAGES.len() as u16)).max(1);
    let tag_pick =
        WeightedIndex::new((0..generic).map(|r| 1.0 / f64::from(r + 1).powf(0.9))).unwrap();
    let city_pick =
        WeightedIndex::new((0..CITIES.len()).map(|r| 1.0 / (r as f64 + 1.0).powf(1.1))).unwrap();
    let level_pick = WeightedIndex::new(LEVELS.iter().map(|l| l.1)).unwrap();
    (0..n)
        .map(|_| {
            let mut t: Vec<u16> = Vec::with_capacity(24);
            if rng.gen_bool(0.8) {
                t.push(rng.gen_range(0..STAGES.len() as u16));
            }
            let want = rng.gen_range(8..=21);
            let mut attempts = 0;
            while t.len() < want && attempts < 4 * want {
                attempts += 1;
                let tag = STAGES.len() as u16 + tag_pick.sample(&mut rng) as u16;
                if tag < tags && !t.contains(&tag) {
                    t.push(tag);
                }
            }
            let order_count: i64 = if rng.gen_bool(0.25) {
                0
            } else {
                let mut c = 1;
                while c < 200 && rng.gen_bool(0.7) {
                    c += 1;
                }
                c
            };
            let orders_90d = if order_count == 0 {
                0
            } else {
                let cap = order_count.min(8) + 1;
                ((rng.r#gen::<f64>().powi(2)) * cap as f64) as i64
            };
            let last_order = (order_count > 0).then(|| {
                let days = rng.r#gen::<f64>().powi(2) * 730.0;
                NOW.0 - (days * DAY as f64) as i64 - rng.gen_range(0..DAY)
            });
            let first_order = last_order.map(|l| l - rng.gen_range(0..3 * 365 * DAY));
            Gen {
                tags: t,
                city: rng.gen_bool(0.9).then(|| city_pick.sample(&mut rng) as u8),
                level: level_pick.sample(&mut rng) as u8,
                orders_90d,
                order_count,
                total_spent_fen: order_count * rng.gen_range(3_000..30_000),
                last_order,
                first_order,
                birthday: rng
                    .gen_bool(0.7)
                    .then(|| NOW.0 - rng.gen_range(20 * 365 * DAY..50 * 365 * DAY)),
                in_group: rng.gen_bool(0.3),
            }
        })
        .collect()
}

fn tag_path(t: u16) -> String {
    match STAGES.get(t as usize) {
        Some(stage) => format!("宝宝月龄/{stage}"),
        None => format!("标签/t{t}"),
    }
}

fn schema(tags: u16) -> Schema {
    let mut s = Schema::with_customer_attributes();
    for t in 0..tags {
        let path = tag_path(t);
        let (group, name) = path.split_once('/').unwrap();
        s.add_tag(group, name, TagId(i64::from(t))).unwrap();
    }
    s
}

fn attrs_of(g: &Gen) -> Vec<(&'static str, AttrValue<'static>)> {
    let mut a = vec![
        ("level", AttrValue::Text(LEVELS[g.level as usize].0)),
        ("orders_90d", AttrValue::Int(g.orders_90d)),
        ("order_count", AttrValue::Int(g.order_count)),
        ("total_spent_fen", AttrValue::Int(g.total_spent_fen)),
        ("in_group", AttrValue::Bool(g.in_group)),
    ];
    if let Some(c) = g.city {
        a.push(("city", AttrValue::Text(CITIES[c as usize])));
    }
    for (name, v) in [
        ("last_order", g.last_order),
        ("first_order", g.first_order),
        ("birthday", g.birthday),
    ] {
        if let Some(v) = v {
            a.push((name, AttrValue::Time(Millis(v))));
        }
    }
    a
}

fn expressions(tags: u16) -> Vec<String> {
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
    ]
}

/// Resident set size in bytes (Linux), for a sanity check of the index's own accounting.
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: u32 = env_or(
        "YUTANG_BENCH_CUSTOMERS",
        if full { 1_000_000 } else { 20_000 },
    );
    let tags: u16 = env_or("YUTANG_BENCH_TAGS", 400u16).max(1);
    let naive_runs: usize = env_or("YUTANG_BENCH_NAIVE_RUNS", 3usize).max(1);
    let seed: u64 = env_or("YUTANG_BENCH_SEED", 42);

    let t0 = Instant::now();
    let rows = generate(n, tags, seed);
    let tag_total: usize = rows.iter().map(|g| g.tags.len()).sum();
    println!(
        "synthetic brand: {n} customers, {tags} tags, {:.1} tags per customer (generated in {:.1?})",
        tag_total as f64 / f64::from(n.max(1)),
        t0.elapsed()
    );

    let schema = schema(tags);
    let rss_before = rss_bytes();
    let t0 = Instant::now();
    let mut builder = IndexBuilder::from_schema(&schema);
    let mut tag_ids: Vec<TagId> = Vec::with_capacity(32);
    for (id, g) in rows.iter().enumerate() {
        tag_ids.clear();
        tag_ids.extend(g.tags.iter().map(|t| TagId(i64::from(*t))));
        let attrs = attrs_of(g);
        builder
            .add_row(&Row {
                id: id as u32,
                tags: &tag_ids,
                attrs: &attrs,
            })
            .unwrap();
    }
    let index = builder.build();
    let build = t0.elapsed();
    let rss_after = rss_bytes();
    let m = index.memory();
    println!("index build: {build:.2?} from {n} rows");
    println!(
        "index memory (accounted): {:.1} MiB = tags {:.1} + text {:.1} + numeric {:.1} + time {:.1} + bool {:.1} + alive {:.1} + word copies of dense sets {:.1}; {:.1} bytes per customer",
        mib(m.total() as u64),
        mib(m.tags as u64),
        mib(m.text as u64),
        mib(m.numeric as u64),
        mib(m.time as u64),
        mib(m.bool as u64),
        mib(m.alive as u64),
        mib(m.dense as u64),
        m.total() as f64 / f64::from(n.max(1))
    );
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        println!(
            "process RSS growth while building (index + builder leftovers): {:.1} MiB",
            mib(b.saturating_sub(a))
        );
    }

    let t0 = Instant::now();
    let mut naive = Population::from_schema(&schema);
    for (id, g) in rows.iter().enumerate() {
        let id = id as u32;
        naive.add_customer(id);
        for t in &g.tags {
            naive.set_tag(id, TagId(i64::from(*t)));
        }
        for (k, v) in attrs_of(g) {
            naive.set_attr(id, k, v).unwrap();
        }
    }
    println!("naive population built in {:.1?}", t0.elapsed());
    drop(rows);

    let sources = match std::env::var("YUTANG_BENCH_EXPR") {
        Ok(src) if !src.trim().is_empty() => vec![src],
        _ => expressions(tags),
    };
    let exprs: Vec<(String, Resolved)> = sources
        .into_iter()
        .map(|src| {
            let r = schema
                .compile(&src)
                .unwrap_or_else(|e| panic!("{src}: {e}"));
            (src, r)
        })
        .collect();

    println!();
    println!(
        "{:<4} {:>10} {:>11} {:>11} {:>12} {:>9}  expression",
        "#", "count", "index p50", "index p99", "naive p50", "ratio"
    );
    for (i, (src, r)) in exprs.iter().enumerate() {
        let count = index.count(r, NOW);
        let mut times = Vec::new();
        let started = Instant::now();
        while times.len() < 15
            || (started.elapsed() < Duration::from_millis(500) && times.len() < 1000)
        {
            let t = Instant::now();
            black_box(index.count(black_box(r), NOW));
            times.push(t.elapsed());
        }
        times.sort();
        let mut naive_times = Vec::new();
        for _ in 0..naive_runs {
            let t = Instant::now();
            let c = naive.count(black_box(r), NOW);
            naive_times.push(t.elapsed());
            assert_eq!(c, count, "index and naive scan disagree on {src}");
        }
        naive_times.sort();
        let p50 = percentile(&times, 0.5);
        let naive_p50 = percentile(&naive_times, 0.5);
        println!(
            "E{:<3} {:>10} {:>11.2?} {:>11.2?} {:>12.2?} {:>8.0}x  {}",
            i + 1,
            count,
            p50,
            percentile(&times, 0.99),
            naive_p50,
            naive_p50.as_secs_f64() / p50.as_secs_f64().max(1e-9),
            src
        );
    }

    // Incremental updates: the cost of keeping the index current after each commit.
    let mut updated = index.clone();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let updates = 100_000u32;
    let t0 = Instant::now();
    for i in 0..updates {
        let id = rng.gen_range(0..n.max(1));
        match i % 4 {
            0 => {
                updated.set_tag(id, TagId(i64::from(rng.gen_range(0..tags))));
            }
            1 => {
                updated.clear_tag(id, TagId(i64::from(rng.gen_range(0..tags))));
            }
            2 => updated
                .set_attr(id, "orders_90d", AttrValue::Int(rng.gen_range(0..10)))
                .unwrap(),
            _ => updated
                .set_attr(
                    id,
                    "last_order",
                    AttrValue::Time(Millis(NOW.0 - rng.gen_range(0..DAY))),
                )
                .unwrap(),
        }
    }
    let per = t0.elapsed() / updates;
    println!();
    println!(
        "{updates} incremental updates (tag set/clear, integer and time attributes): {per:.2?} each"
    );
    drop(updated);

    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut group = c.benchmark_group(format!("segment_count_{n}"));
    for (i, (_, r)) in exprs.iter().enumerate() {
        group.bench_function(format!("E{}", i + 1), |b| {
            b.iter(|| index.count(black_box(r), NOW))
        });
    }
    group.finish();
    c.final_summary();
}
