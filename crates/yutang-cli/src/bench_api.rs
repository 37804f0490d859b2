//! `yutang bench api`: the console's and integrators' hot reads under concurrent load, over
//! loopback HTTP on a seeded demo brand: a customer's 360° view, their tags, the first page of
//! the customer list; `/healthz` in the same run is the baseline (the HTTP layer and the
//! loopback alone), so each endpoint is printed as a ratio of it. The customer list runs
//! twice: as served (its total counted up to `limits.list_count_cap`) and by a second server
//! over the same app whose cap is past the brand, which counts every customer for each page
//! as the list did before the cap. A page in the middle of the list is read both ways: by
//! `page` (an `OFFSET` past every row before it) and by `after` (a keyset position, read from
//! the index). The chat sidebar's customer card (`/api/v1/sidebar/contacts/{external_userid}`)
//! is read as the guide with the most customers, through their session, for their own
//! customers. Requests per second and latency percentiles are printed, never asserted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use tokio::sync::Semaphore;
use yutang_app::settings::Settings;
use yutang_app::tokens::NewTokenInput;
use yutang_app::{Actor, App};
use yutang_core::time::Millis;

use crate::bench_flash::{fresh_pg, serve_on_loopback};

pub struct Params {
    pub customers: usize,
    pub requests: usize,
    pub concurrency: usize,
    /// `sqlite`, `postgres` or `both`.
    pub engines: String,
    pub pg_url: String,
}

/// What one endpoint measured.
struct Measured {
    label: &'static str,
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Fire `requests` GETs at the paths `path_of(i)` yields, `concurrency` in flight; every
/// answer must be 200.
async fn load(
    client: &reqwest::Client,
    token: &str,
    label: &'static str,
    p: &Params,
    path_of: impl Fn(usize) -> String,
) -> Result<Measured> {
    let gate = Arc::new(Semaphore::new(p.concurrency));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(p.requests);
    for i in 0..p.requests {
        let (client, gate, url, token) =
            (client.clone(), gate.clone(), path_of(i), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.ok()?;
            let sent = Instant::now();
            let r = client.get(&url).bearer_auth(token).send().await.ok()?;
            let status = r.status().as_u16();
            let _ = r.bytes().await.ok()?;
            Some((status, sent.elapsed()))
        }));
    }
    let mut took = Vec::with_capacity(p.requests);
    for t in tasks {
        match t.await? {
            Some((200, d)) => took.push(d),
            Some((s, _)) => bail!("{label}: answered {s}"),
            None => bail!("{label}: a request failed"),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    took.sort();
    Ok(Measured {
        label,
        per_sec: p.requests as f64 / secs.max(1e-9),
        p50: percentile(&took, 0.50),
        p99: percentile(&took, 0.99),
        max: took.last().copied().unwrap_or_default(),
    })
}

async fn run_engine(label: &str, url: String, p: &Params) -> Result<()> {
    let settings = Settings {
        database_url: url,
        ..Settings::default()
    };
    let app = App::open(settings).await.map_err(|e| anyhow!("{e}"))?;
    eprintln!("  {label}: seeding {} customers …", p.customers);
    app.demo()
        .seed_demo(p.customers, &|_, _, _| {})
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let input = NewTokenInput::parse("bench", "admin", None).map_err(|e| anyhow!("{e}"))?;
    let token = app
        .tokens()
        .create_token(&Actor::system(), &input)
        .await
        .map_err(|e| anyhow!("{e}"))?
        .token;
    let (addr, stop) = serve_on_loopback(&app, axum::Router::new()).await?;
    // The same app with a cap past any brand: every page counts all its customers.
    let mut counting_all = app.clone();
    let mut settings = (*app.settings).clone();
    settings.limits.list_count_cap = 100_000_000;
    counting_all.settings = Arc::new(settings);
    let (all_addr, stop_all) = serve_on_loopback(&counting_all, axum::Router::new()).await?;
    let base_all = format!("http://{all_addr}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(p.concurrency)
        .build()?;
    let base = format!("http://{addr}");
    let n = p.customers.max(1);
    // A spread of customers (a multiplicative step visits them in a scattered order).
    let customer = move |i: usize| (i * 7919) % n + 1;
    // Warm up: connections, statement caches, the index.
    load(&client, &token, "warm-up", p, |i| {
        format!("{base}/api/v1/customers/{}", customer(i))
    })
    .await?;
    // The page in the middle of the list, and the position it starts after (the last row
    // of the page before it).
    let mid = (n / 20 / 2).max(2);
    let before_mid: serde_json::Value = client
        .get(format!(
            "{base}/api/v1/customers?page_size=20&page={}",
            mid - 1
        ))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let after: String = before_mid["next_after"]
        .as_str()
        .map(|a| url::form_urlencoded::byte_serialize(a.as_bytes()).collect())
        .ok_or_else(|| anyhow!("page {} of the list has no next_after", mid - 1))?;
    let runs = vec![
        load(&client, &token, "GET /healthz (baseline)", p, |_| {
            format!("{base}/healthz")
        })
        .await?,
        load(&client, &token, "GET /api/v1/customers/{id}", p, |i| {
            format!("{base}/api/v1/customers/{}", customer(i))
        })
        .await?,
        load(&client, &token, "GET /api/v1/customers/{id}/tags", p, |i| {
            format!("{base}/api/v1/customers/{}/tags", customer(i))
        })
        .await?,
        load(
            &client,
            &token,
            "GET /api/v1/customers?page_size=20",
            p,
            |_| format!("{base}/api/v1/customers?page_size=20"),
        )
        .await?,
        load(
            &client,
            &token,
            "GET /api/v1/customers?page_size=20 (counting all)",
            p,
            |_| format!("{base_all}/api/v1/customers?page_size=20"),
        )
        .await?,
        load(
            &client,
            &token,
            "GET /api/v1/customers?page_size=20&page=(the middle) (offset)",
            p,
            |_| format!("{base}/api/v1/customers?page_size=20&page={mid}"),
        )
        .await?,
        load(
            &client,
            &token,
            "GET /api/v1/customers?page_size=20&after=… (the same page by keyset)",
            p,
            |_| format!("{base}/api/v1/customers?page_size=20&page={mid}&after={after}"),
        )
        .await?,
    ];
    // The chat sidebar's card (issue #23 item 2) as the guide who follows the most customers
    // sees it: their own customers, named by WeCom external_userid, through a guide's session.
    let (guide, exts) = sidebar_sample(&app).await?;
    let session = app
        .auth()
        .login(
            &guide,
            yutang_app::demo::DEMO_PASSWORD,
            "127.0.0.1",
            "bench",
        )
        .await
        .map_err(|e| anyhow!("{e}"))?
        .token;
    let mut runs = runs;
    runs.push(
        load(
            &client,
            &session,
            "GET /api/v1/sidebar/contacts/{external_userid} (a guide's own)",
            p,
            |i| format!("{base}/api/v1/sidebar/contacts/{}", exts[i % exts.len()]),
        )
        .await?,
    );
    let _ = stop.send(());
    let _ = stop_all.send(());
    let baseline = runs[0].per_sec;
    println!(
        "\n{label}: {} customers, {} requests per endpoint, {} in flight\n\n| endpoint | req/s | p50 ms | p99 ms | max ms | vs /healthz |\n| --- | ---: | ---: | ---: | ---: | ---: |",
        p.customers, p.requests, p.concurrency
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for r in &runs {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2}× |",
            r.label,
            r.per_sec,
            ms(r.p50),
            ms(r.p99),
            ms(r.max),
            r.per_sec / baseline
        );
    }
    Ok(())
}

/// The active guide who owns the most customers with a WeCom identity, and those customers'
/// external ids (at most 5,000).
async fn sidebar_sample(app: &App) -> Result<(String, Vec<String>)> {
    const TOP: &str = "SELECT st.username FROM follows f JOIN staff st ON st.id = f.staff_id \
        WHERE f.state = 'active' AND st.status = 'active' AND st.role = 'guide' \
        GROUP BY st.username ORDER BY COUNT(*) DESC, st.username LIMIT 1";
    const EXTS: &str = "SELECT i.value FROM customer_identities i \
        JOIN follows f ON f.customer_id = i.customer_id AND f.state = 'active' \
        JOIN staff st ON st.id = f.staff_id \
        WHERE i.kind = 'wecom_external' AND st.username = $1 ORDER BY i.value LIMIT 5000";
    let (guide, exts): (String, Vec<String>) = match &app.db {
        yutang_store::Db::Sqlite(pool) => {
            let g: String = sqlx::query_scalar(TOP).fetch_one(pool).await?;
            let e = sqlx::query_scalar(EXTS).bind(&g).fetch_all(pool).await?;
            (g, e)
        }
        yutang_store::Db::Postgres(pool) => {
            let g: String = sqlx::query_scalar(TOP).fetch_one(pool).await?;
            let e = sqlx::query_scalar(EXTS).bind(&g).fetch_all(pool).await?;
            (g, e)
        }
    };
    if exts.is_empty() {
        bail!("the guide {guide} has no customer with a WeCom identity");
    }
    Ok((guide, exts))
}

pub async fn api(p: Params) -> Result<()> {
    eprintln!(
        "api bench: {} requests per endpoint, {} in flight, {} customers",
        p.requests, p.concurrency, p.customers
    );
    if matches!(p.engines.as_str(), "sqlite" | "both") {
        let dir = std::env::temp_dir().join(format!("yutang-bench-api-{}", Millis::now().0));
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}", dir.join("bench.db").display());
        let done = run_engine("sqlite", url, &p).await;
        let _ = std::fs::remove_dir_all(&dir);
        done?;
    }
    if matches!(p.engines.as_str(), "postgres" | "both") {
        run_engine("postgres", fresh_pg(&p.pg_url).await?, &p).await?;
    }
    if !matches!(p.engines.as_str(), "sqlite" | "postgres" | "both") {
        bail!("--engines is sqlite, postgres or both");
    }
    Ok(())
}
