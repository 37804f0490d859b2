//! `yutang bench flash-sale`: a load generator on loopback firing concurrent flash-sale claims
//! through the public HTTP API (customer tokens, JSON, the guarded `UPDATE` in one
//! transaction) on SQLite and on PostgreSQL, and — in the same run — the industry's usual
//! design, a Redis Lua script that checks the per-customer limit and decrements the stock.
//! Checks the outcome (exactly `stock` winners, nobody over the limit) and prints claims/s
//! and the ratio. Timings are printed, never asserted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use yutang_app::settings::Settings;
use yutang_app::{Actor, App};
use yutang_core::ids::CustomerId;
use yutang_core::promotions::flash_sales::FlashSaleSpec;
use yutang_core::promotions::{Audience, Window};
use yutang_core::time::Millis;

/// What one engine's run measured.
pub struct Run {
    pub label: String,
    pub claims: usize,
    pub winners: usize,
    pub secs: f64,
    /// When the last winner was answered: winners/s is measured over the rush, not over the
    /// refusals that follow it.
    pub last_win_secs: f64,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.claims as f64 / self.secs.max(1e-9)
    }
}

pub struct Params {
    pub claims: usize,
    pub customers: usize,
    pub stock: i64,
    pub concurrency: usize,
    pub pg_url: String,
    pub redis_port: u16,
}

/// A fresh database on the PostgreSQL server at `base` (named by the time).
pub(crate) async fn fresh_pg(base: &str) -> Result<String> {
    let name = format!("yutang_bench_{}", Millis::now().0);
    let pool = sqlx::PgPool::connect(base)
        .await
        .with_context(|| format!("PostgreSQL at {base}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await?;
    pool.close().await;
    let (head, _) = base
        .rsplit_once('/')
        .ok_or_else(|| anyhow!("--pg-url must end with /database"))?;
    Ok(format!("{head}/{name}"))
}

/// What answers the claims behind the HTTP layer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Design {
    /// Yutang's own claim path (`POST /api/v1/public/flash-sales/{id}/claim`).
    Database,
    /// A Redis Lua gate mounted in the same router, behind the same layers and the same
    /// customer-token check: the like-for-like baseline for the HTTP runs.
    RedisLua,
}

/// Serve `app` (with `extra` routes) on a loopback port with its workers, as `yutang serve`
/// does; the sender stops it.
pub(crate) async fn serve_on_loopback(
    app: &App,
    extra: axum::Router<yutang_web::AppState>,
) -> Result<(std::net::SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = app.clone();
    tokio::spawn(async move {
        let _ = yutang_web::launch_with(served, listener, extra, async {
            let _ = rx.await;
        })
        .await;
    });
    Ok((addr, tx))
}

/// The Redis-Lua gate's state: a connection per request in flight, the script, the keys.
#[derive(Clone)]
struct Gate {
    conns: Arc<Vec<tokio::sync::Mutex<BufReader<TcpStream>>>>,
    next: Arc<std::sync::atomic::AtomicUsize>,
    sha: String,
    stock_key: String,
    per_key: String,
}

/// The gate's handler: the customer token checked by Yutang's own extractor, then one
/// `EVALSHA` (per-customer limit, stock decrement); 201 for a win, 409 for a refusal.
async fn redis_claim(
    axum::Extension(g): axum::Extension<Gate>,
    yutang_web::api::promotions::CustomerAuth(c): yutang_web::api::promotions::CustomerAuth,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let i = g.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % g.conns.len();
    let mut conn = g.conns[i].lock().await;
    let customer = c.0.to_string();
    let args = [
        "EVALSHA",
        &g.sha,
        "2",
        &g.stock_key,
        &g.per_key,
        &customer,
        "1",
    ];
    match cmd(&mut conn, &args).await.as_deref() {
        Ok("1") => (
            axum::http::StatusCode::CREATED,
            axum::Json(serde_json::json!({"won": true})),
        )
            .into_response(),
        Ok(_) => (
            axum::http::StatusCode::CONFLICT,
            axum::Json(serde_json::json!({"error": {"code": "out_of_stock"}})),
        )
            .into_response(),
        Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Set up the gate: the stock key, the script, `conns` connections.
async fn gate(p: &Params) -> Result<Gate> {
    ensure_redis(p.redis_port).await?;
    let mut c = redis_conn(p.redis_port).await?;
    let tag = Millis::now().0;
    let stock_key = format!("yutang:bench:{tag}:http-stock");
    let per_key = format!("yutang:bench:{tag}:http-per");
    cmd(&mut c, &["SET", &stock_key, &p.stock.to_string()]).await?;
    let sha = cmd(&mut c, &["SCRIPT", "LOAD", LUA]).await?;
    let mut conns = Vec::with_capacity(p.concurrency);
    for _ in 0..p.concurrency.clamp(1, 256) {
        conns.push(tokio::sync::Mutex::new(redis_conn(p.redis_port).await?));
    }
    Ok(Gate {
        conns: Arc::new(conns),
        next: Arc::default(),
        sha,
        stock_key,
        per_key,
    })
}

/// One engine: seed the demo brand with `customers`, serve on loopback, create a flash sale,
/// mint a token per customer, fire `claims` claims with `concurrency` in flight at `design`.
async fn http_run(label: &str, url: String, p: &Params, design: Design) -> Result<Run> {
    let mut settings = Settings {
        database_url: url,
        ..Settings::default()
    };
    settings.database.max_connections = 16;
    let app = App::open(settings).await.map_err(|e| anyhow!("{e}"))?;
    eprintln!("  {label}: seeding {} customers …", p.customers);
    app.demo()
        .seed_demo(p.customers, &|_, _, _| {})
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let redis_gate = match design {
        Design::RedisLua => Some(gate(p).await?),
        Design::Database => None,
    };
    let extra = match &redis_gate {
        Some(g) => axum::Router::new()
            .route("/bench/redis-lua/claim", axum::routing::post(redis_claim))
            .layer(axum::Extension(g.clone())),
        None => axum::Router::new(),
    };
    let (addr, tx) = serve_on_loopback(&app, extra).await?;
    let sys = Actor::system();
    let now = app.now();
    let sale = app
        .flash_sales()
        .create_flash_sale(
            &sys,
            FlashSaleSpec {
                name: "压测秒杀".into(),
                sku: "BENCH-1".into(),
                item_name: "压测商品".into(),
                price_fen: 100,
                original_price_fen: 200,
                stock: p.stock,
                window: Window {
                    starts_at: Millis(now - 60_000),
                    ends_at: Millis(now + 3_600_000),
                },
                per_customer: 1,
                hold_minutes: 30,
                audience: Audience::Everyone,
                image_id: None,
            },
        )
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let mut tokens = Vec::with_capacity(p.customers);
    for c in 1..=p.customers as i64 {
        let t = app
            .customer_tokens()
            .mint_customer_token(&sys, CustomerId(c), Some(3600))
            .await
            .map_err(|e| anyhow!("{e}"))?;
        tokens.push((c, t.token));
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(p.concurrency)
        .build()?;
    let url = match design {
        Design::Database => format!("http://{addr}/api/v1/public/flash-sales/{sale}/claim"),
        Design::RedisLua => format!("http://{addr}/bench/redis-lua/claim"),
    };
    // Warm the connection pool and the server before timing.
    let _ = client.get(format!("http://{addr}/healthz")).send().await?;
    let gate = Arc::new(Semaphore::new(p.concurrency));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(p.claims);
    for i in 0..p.claims {
        let (c, tok) = tokens[i % tokens.len()].clone();
        let (client, url, gate) = (client.clone(), url.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.ok()?;
            let r = client.post(&url).bearer_auth(tok).send().await.ok()?;
            Some((c, r.status().as_u16(), start.elapsed().as_secs_f64()))
        }));
    }
    let mut per: HashMap<i64, usize> = HashMap::new();
    let (mut winners, mut refused, mut other) = (0usize, 0usize, 0usize);
    let mut last_win_secs = 0f64;
    for t in tasks {
        match t.await? {
            Some((c, 201, at)) => {
                winners += 1;
                last_win_secs = last_win_secs.max(at);
                *per.entry(c).or_default() += 1;
            }
            Some((_, 409, _)) => refused += 1,
            _ => other += 1,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = tx.send(());
    let sold = match &redis_gate {
        None => {
            app.flash_sales()
                .flash_sale(sale)
                .await
                .map_err(|e| anyhow!("{e}"))?
                .row
                .sold
        }
        Some(g) => {
            let mut c = redis_conn(p.redis_port).await?;
            let left: i64 = cmd(&mut c, &["GET", &g.stock_key]).await?.parse()?;
            cmd(&mut c, &["DEL", &g.stock_key, &g.per_key]).await?;
            p.stock - left
        }
    };
    eprintln!(
        "  {label}: {winners} winners, {refused} refused, {other} other; sold {sold} of {}",
        p.stock
    );
    if winners as i64 != p.stock || sold != p.stock || other != 0 {
        bail!("{label}: expected exactly {} winners", p.stock);
    }
    if per.values().any(|n| *n > 1) {
        bail!("{label}: a customer won more than once");
    }
    Ok(Run {
        label: label.into(),
        claims: p.claims,
        winners,
        secs,
        last_win_secs,
    })
}

// --- Redis: a minimal RESP client (one command at a time per connection) ---

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// Read one reply; integers and simple/bulk strings as text.
async fn reply(r: &mut BufReader<TcpStream>) -> Result<String> {
    let mut line = String::new();
    r.read_line(&mut line).await?;
    let line = line.trim_end().to_owned();
    match line.as_bytes().first() {
        Some(b'+') | Some(b':') => Ok(line[1..].to_owned()),
        Some(b'-') => bail!("redis: {line}"),
        Some(b'$') => {
            let n: i64 = line[1..].parse()?;
            if n < 0 {
                return Ok(String::new());
            }
            let mut body = String::new();
            r.read_line(&mut body).await?;
            Ok(body.trim_end().to_owned())
        }
        _ => bail!("redis: unexpected reply {line:?}"),
    }
}

async fn cmd(r: &mut BufReader<TcpStream>, args: &[&str]) -> Result<String> {
    r.get_mut().write_all(&resp(args)).await?;
    reply(r).await
}

async fn redis_conn(port: u16) -> Result<BufReader<TcpStream>> {
    Ok(BufReader::new(
        TcpStream::connect(("127.0.0.1", port)).await?,
    ))
}

/// Connect, starting `redis-server` if nothing answers.
async fn ensure_redis(port: u16) -> Result<()> {
    if redis_conn(port).await.is_ok() {
        return Ok(());
    }
    eprintln!("  starting redis-server on {port}");
    let st = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--daemonize",
            "yes",
        ])
        .status()
        .context("redis-server")?;
    if !st.success() {
        bail!("redis-server failed to start");
    }
    for _ in 0..50 {
        if redis_conn(port).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    bail!("redis did not come up on {port}")
}

const LUA: &str = "local n = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') \
if n >= tonumber(ARGV[2]) then return -2 end \
local s = tonumber(redis.call('GET', KEYS[1]) or '0') \
if s <= 0 then return -1 end \
redis.call('DECR', KEYS[1]) redis.call('HINCRBY', KEYS[2], ARGV[1], 1) return 1";

async fn redis_run(p: &Params) -> Result<Run> {
    ensure_redis(p.redis_port).await?;
    let mut c = redis_conn(p.redis_port).await?;
    let tag = Millis::now().0;
    let stock_key = format!("yutang:bench:{tag}:stock");
    let per_key = format!("yutang:bench:{tag}:per");
    cmd(&mut c, &["SET", &stock_key, &p.stock.to_string()]).await?;
    let sha = cmd(&mut c, &["SCRIPT", "LOAD", LUA]).await?;
    let conns = p.concurrency.min(256);
    let mut pool = Vec::with_capacity(conns);
    for _ in 0..conns {
        pool.push(redis_conn(p.redis_port).await?);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (w, mut conn) in pool.into_iter().enumerate() {
        let (sha, sk, pk) = (sha.clone(), stock_key.clone(), per_key.clone());
        let (claims, customers) = (p.claims, p.customers);
        tasks.push(tokio::spawn(async move {
            let mut won: Vec<(usize, f64)> = Vec::new();
            let mut i = w;
            while i < claims {
                let customer = (i % customers + 1).to_string();
                let r = cmd(&mut conn, &["EVALSHA", &sha, "2", &sk, &pk, &customer, "1"]).await?;
                if r == "1" {
                    won.push((i % customers + 1, start.elapsed().as_secs_f64()));
                }
                i += conns;
            }
            Ok::<_, anyhow::Error>(won)
        }));
    }
    let mut per: HashMap<usize, usize> = HashMap::new();
    let mut last_win_secs = 0f64;
    for t in tasks {
        for (c, at) in t.await?? {
            *per.entry(c).or_default() += 1;
            last_win_secs = last_win_secs.max(at);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let winners: usize = per.values().sum();
    let left = cmd(&mut c, &["GET", &stock_key]).await?;
    cmd(&mut c, &["DEL", &stock_key, &per_key]).await?;
    eprintln!("  redis-lua: {winners} winners; stock left {left}");
    if winners as i64 != p.stock || per.values().any(|n| *n > 1) {
        bail!("redis-lua: expected exactly {} winners, one each", p.stock);
    }
    Ok(Run {
        label: "redis-lua".into(),
        claims: p.claims,
        winners,
        secs,
        last_win_secs,
    })
}

pub async fn flash_sale(p: Params) -> Result<()> {
    eprintln!(
        "flash-sale bench: {} claims from {} customers at stock {}, {} in flight",
        p.claims, p.customers, p.stock, p.concurrency
    );
    let dir = std::env::temp_dir().join(format!("yutang-bench-{}", Millis::now().0));
    std::fs::create_dir_all(&dir)?;
    let sqlite_url = format!("sqlite://{}", dir.join("bench.db").display());
    let mut runs = vec![http_run("sqlite (HTTP)", sqlite_url.clone(), &p, Design::Database).await?];
    runs.push(
        http_run(
            "postgres (HTTP)",
            fresh_pg(&p.pg_url).await?,
            &p,
            Design::Database,
        )
        .await?,
    );
    runs.push(redis_run(&p).await?);
    // The baseline: the same HTTP layer and token check (tokens from a fresh SQLite brand).
    let gate_url = format!("sqlite://{}", dir.join("gate.db").display());
    runs.push(http_run("redis-lua (HTTP)", gate_url, &p, Design::RedisLua).await?);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\n| design | claims | winners | seconds | claims/s | winners/s (until sold out) | vs Redis-Lua behind HTTP | vs Redis-Lua alone |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    let rate_of = |label: &str| {
        runs.iter()
            .find(|r| r.label == label)
            .map_or(1.0, Run::rate)
    };
    let (gate, bare) = (rate_of("redis-lua (HTTP)"), rate_of("redis-lua"));
    for r in &runs {
        println!(
            "| {} | {} | {} | {:.2} | {:.0} | {:.0} | {:.2}× | {:.2}× |",
            r.label,
            r.claims,
            r.winners,
            r.secs,
            r.rate(),
            r.winners as f64 / r.last_win_secs.max(1e-9),
            r.rate() / gate,
            r.rate() / bare
        );
    }
    Ok(())
}
