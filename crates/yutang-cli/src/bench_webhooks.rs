//! `yutang bench webhooks`: outbound webhook delivery to a slow receiver (issue #24: 1,000
//! events/s to a receiver answering in 200 ms, without blocking writes).
//!
//! Per engine, in one process on one database: writes `events` events at `rate` a second
//! (batches of 100) first with no subscription (the baseline), then again with a `*`
//! subscription whose follower and sender run beside the writer, as on a serving node. Prints
//! the batches' commit times in both runs (p50, p99) and their ratio — whether delivering
//! holds up writes — the delivery rate (events delivered per second from the first write to
//! the last delivery), the lag of the last delivery behind the last write, and duplicates seen
//! by the receiver. Never asserts a timing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use yutang_app::settings::{Secret, Settings};
use yutang_app::webhooks::WebhookInput;
use yutang_app::{Actor, App};
use yutang_store::events::{NewEvent, insert_batch};

use crate::bench_flash::fresh_pg;

pub struct Params {
    pub events: usize,
    /// Events written per second.
    pub rate: u32,
    /// How long the receiver takes to answer each POST.
    pub latency_ms: u64,
    /// POSTs in flight at once (`webhooks.concurrency`).
    pub concurrency: usize,
    /// `sqlite`, `postgres` or `both`.
    pub engines: String,
    pub pg_url: String,
}

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<(HashSet<String>, usize)>>,
    latency: Duration,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap) -> StatusCode {
    tokio::time::sleep(r.latency).await;
    let id = headers
        .get("x-yutang-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut g = r
        .seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    g.1 += 1;
    g.0.insert(id);
    StatusCode::OK
}

pub async fn webhooks(p: Params) -> Result<()> {
    let engines: Vec<&str> = match p.engines.as_str() {
        "both" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => bail!("--engines is sqlite, postgres or both, not {other}"),
    };
    println!(
        "webhooks: {} events written at {}/s, receiver answering in {} ms, {} POSTs in flight",
        p.events, p.rate, p.latency_ms, p.concurrency
    );
    for engine in engines {
        let dir = std::env::temp_dir().join(format!(
            "yutang-bench-webhooks-{}",
            yutang_core::time::Millis::now().0
        ));
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

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Write `n` events for `customer` at `rate` a second, in batches of 100 (one every
/// 100 000 / rate ms); the commit time of each batch in ms, sorted.
async fn write(app: &App, customer: i64, n: usize, rate: u32, tag: &str) -> Result<Vec<f64>> {
    let ids: Vec<String> = (0..n).map(|i| format!("{tag}-{i}")).collect();
    let every = Duration::from_secs_f64(100.0 / f64::from(rate.max(1)));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut took = Vec::with_capacity(n / 100 + 1);
    for chunk in ids.chunks(100) {
        tick.tick().await;
        let at = Instant::now();
        let now = app.now();
        let batch: Vec<NewEvent<'_>> = chunk
            .iter()
            .map(|id| NewEvent {
                customer_id: customer,
                kind: "page_view",
                client_id: id,
                occurred_at: now,
                staff_id: None,
                detail: r#"{"page":"/item/42"}"#,
            })
            .collect();
        insert_batch(&app.db, &batch, now)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        took.push(at.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    Ok(took)
}

async fn run_engine(engine: &str, url: String, p: &Params) -> Result<()> {
    let key_hex: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let mut settings = Settings {
        database_url: url,
        secret_key: Some(Secret::new(key_hex)),
        ..Settings::default()
    };
    settings.webhooks.allow_private_targets = true;
    settings.webhooks.concurrency = p.concurrency;
    let app = App::open(settings).await.map_err(|e| anyhow!("{e}"))?;
    app.demo()
        .seed_demo(10, &|_, _, _| {})
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let customer: Option<i64> = match &app.db {
        yutang_store::Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT MIN(id) FROM customers")
                .fetch_one(pool)
                .await?
        }
        yutang_store::Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT MIN(id) FROM customers")
                .fetch_one(pool)
                .await?
        }
    };
    let customer = customer.ok_or_else(|| anyhow!("the demo has no customer"))?;

    let receiver = Receiver {
        latency: Duration::from_millis(p.latency_ms),
        ..Receiver::default()
    };
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    // The baseline: the same writes with nothing subscribed.
    let base = write(&app, customer, p.events, p.rate, "base").await?;

    let sys = Actor::system();
    let input = WebhookInput::parse("bench", &format!("http://{addr}/hook"), &["*".into()], true)?;
    app.webhooks()
        .create(&sys, &input)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    // The follower and the sender, as `yutang serve` runs them.
    let looping = yutang_app::webhooks::spawn_loops(&app);
    let started = Instant::now();
    let hooked = write(&app, customer, p.events, p.rate, "hooked").await?;
    let written = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let unique = receiver
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
            .len();
        if unique >= p.events || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all = started.elapsed();
    for l in &looping {
        l.abort();
    }
    let (unique, posts) = {
        let g = receiver
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (g.0.len(), g.1)
    };
    let (b50, b99, h50, h99) = (
        percentile(&base, 0.5),
        percentile(&base, 0.99),
        percentile(&hooked, 0.5),
        percentile(&hooked, 0.99),
    );
    println!(
        "{engine:8} batch of 100 commits: alone p50 {b50:.1} ms p99 {b99:.1} ms; while delivering \
         p50 {h50:.1} ms p99 {h99:.1} ms ({:.2}x at p99); delivered {unique}/{} at {:>6.0}/s; \
         last delivery {:.1} s after the last write; {} duplicate POSTs",
        h99 / b99.max(0.001),
        p.events,
        unique as f64 / all.as_secs_f64(),
        (all - written).as_secs_f64(),
        posts - unique,
    );
    Ok(())
}
