//! The `yutang` binary: one executable for serving, the demo, migrations and administration.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use yutang_app::import::{ImportKind, ImportOptions};
use yutang_app::settings::Overrides;
use yutang_app::staff::NewStaffInput;
use yutang_app::tokens::NewTokenInput;
use yutang_app::{Actor, App, Settings};

mod backup;
mod bench;
mod bench_api;
mod bench_dashboard;
mod bench_flash;
mod bench_journeys;
mod bench_messaging;
mod bench_points;
mod bench_segments;
mod bench_webhooks;
mod bench_welcome;

#[derive(Parser)]
#[command(
    name = "yutang",
    version,
    about = "鱼塘 Yutang — private-domain operations platform (私域运营平台)"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// TOML configuration file (default: ./yutang.toml when present).
    #[arg(long, global = true, env = "YUTANG_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://path or postgres://user:password@host/db.
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and console (migrates the database first).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Create a demo brand (鲜果时光) in a fresh database, then serve it.
    Demo {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Create the data and exit without serving.
        #[arg(long)]
        seed_only: bool,
        /// How many demo customers to create (with identities, guides and a year of orders).
        #[arg(long, default_value_t = 50_000)]
        customers: usize,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write an online, consistent backup of the database to a new file (SQLite: VACUUM
    /// INTO, integrity-checked; PostgreSQL: pg_dump custom format). The server keeps serving.
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Import customers or orders from a CSV or Excel file (first row = column headers).
    /// Re-running a file changes nothing; bad rows are reported with row, column and reason.
    Import {
        /// What the file holds.
        #[arg(value_enum)]
        what: ImportWhat,
        /// A .csv (UTF-8) or .xlsx/.xls/.xlsb/.ods file.
        file: PathBuf,
        /// Check every row and report the bad ones without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Map a column header to a field, e.g. --map '客户手机=phone' (repeatable).
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        map: Vec<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Benchmarks against an existing database (figures for docs/benchmarks.md).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Manage staff accounts from the server's shell.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage API tokens for integrations.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspect configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Move a whole brand between databases.
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Subcommand)]
enum DbCommand {
    /// Copy every table between SQLite and PostgreSQL with its ids, verified per table by
    /// row count and checksum; resumable (run it again after an interruption). The source
    /// is only read; the destination is migrated first and should be empty. Secrets are
    /// re-sealed with the destination's key (YUTANG_SECRET_KEY, or a SQLite file's key file).
    Copy {
        /// Source database URL (sqlite://… or postgres://…).
        #[arg(long)]
        from: String,
        /// Destination database URL.
        #[arg(long)]
        to: String,
        /// File holding the source's secret key, when it is not the key file beside a
        /// SQLite source.
        #[arg(long)]
        from_secret_key_file: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ImportWhat {
    Customers,
    Orders,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Ingest events through the library call (no HTTP): new events, then the same batches
    /// again as replays. The database needs customers (`yutang demo --seed-only`).
    Ingest {
        #[arg(long, default_value_t = 50)]
        batches: usize,
        #[arg(long, default_value_t = 1000)]
        batch_size: usize,
    },
    /// Segment counts through the bitmap index vs SQL on PostgreSQL and SQLite, on a
    /// generated brand loaded into fresh databases (see docs/benchmarks.md).
    Segments(bench_segments::SegmentsArgs),
    /// The dashboard over daily rollups on a generated brand (fresh databases): rebuild time,
    /// dashboard latency against computing the figures from scratch, the rollups' lag behind
    /// commits and the follower's throughput (see docs/benchmarks.md).
    Dashboard(bench_dashboard::DashboardArgs),
    /// Concurrent flash-sale claims over loopback HTTP on SQLite and PostgreSQL (fresh
    /// databases), compared with a Redis-Lua stock decrement in the same run.
    FlashSale {
        #[arg(long, default_value_t = 10_000)]
        claims: usize,
        #[arg(long, default_value_t = 5_000)]
        customers: usize,
        #[arg(long, default_value_t = 100)]
        stock: i64,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// A PostgreSQL server; a fresh database is created on it.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        pg_url: String,
        #[arg(long, default_value_t = 6379)]
        redis_port: u16,
    },
    /// Preparing a mass message to a segment of `customers` (each with a WeCom contact id and
    /// a guide): the decision alone and the prepare job (decision and writes), against reading
    /// the same rows once.
    Messaging {
        #[arg(long, default_value_t = 1_000_000)]
        customers: u64,
        #[arg(long, default_value_t = 2_000)]
        guides: u64,
        /// `sqlite`, `postgres` or `both`.
        #[arg(long, default_value = "both")]
        engines: String,
        /// A PostgreSQL server; a fresh database is created on it.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        pg_url: String,
    },
    /// The journey engine: a schedule journey over `customers` walked to its end, against one
    /// small transaction per customer-step; and the event follower enrolling `customers`
    /// check-ins.
    Journeys {
        #[arg(long, default_value_t = 20_000)]
        customers: u64,
        /// `sqlite`, `postgres` or `both`.
        #[arg(long, default_value = "both")]
        engines: String,
        /// A PostgreSQL server; a fresh database is created on it.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        pg_url: String,
    },
    /// New contacts adding a guide through a live code at a steady rate over loopback HTTP
    /// (signed callbacks), with a fake WeCom answering in `latency_ms`: the time from each
    /// callback to its welcome (WeCom allows 20 s), against one welcome round trip.
    Welcome {
        #[arg(long, default_value_t = 2_000)]
        adds: usize,
        /// Adds per second.
        #[arg(long, default_value_t = 100)]
        rate: u32,
        #[arg(long, default_value_t = 100)]
        latency_ms: u64,
        /// `sqlite`, `postgres` or `both`.
        #[arg(long, default_value = "both")]
        engines: String,
        /// A PostgreSQL server; a fresh database is created on it.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        pg_url: String,
    },
    /// Outbound webhooks: events written at a steady rate while a `*` subscription delivers
    /// them to a receiver answering in `latency_ms`; commit times alone and while delivering,
    /// the delivery rate and lag.
    Webhooks {
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        /// Events written per second.
        #[arg(long, default_value_t = 1_000)]
        rate: u32,
        #[arg(long, default_value_t = 200)]
        latency_ms: u64,
        /// POSTs in flight at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// `sqlite`, `postgres` or `both`.
        #[arg(long, default_value = "both")]
        engines: String,
        /// A PostgreSQL server; a fresh database is created on it.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        pg_url: String,
    },
    /// The points ledger: postings through the use case against one-row INSERT transactions,
    /// the stored balance read against summing entries, and an expiry run over every lot.
    Points {
        #[arg(long, default_value_t = 5_000)]
        accounts: usize,
        #[arg(long, default_value_t = 50_000)]
        entries: usize,
        /// Postings in flight at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// `sqlite`, `postgres` or `both`.
        #[arg(long, default_value = "both")]
        engines: String,
        /// A PostgreSQL server; a fresh database is created on it.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        pg_url: String,
    },
    /// Hot reads (a customer's 360° view, their tags, the customer list) under concurrent
    /// load over loopback HTTP on a seeded demo brand, against `/healthz` in the same run.
    Api {
        #[arg(long, default_value_t = 50_000)]
        customers: usize,
        /// Requests per endpoint.
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 40)]
        concurrency: usize,
        /// `sqlite`, `postgres` or `both`.
        #[arg(long, default_value = "sqlite")]
        engines: String,
        /// A PostgreSQL server; a fresh database is created on it.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        pg_url: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a staff account; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        /// admin, operator, store_manager, guide or analyst.
        #[arg(long)]
        role: String,
        /// Display name (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// Store id, required for store_manager and guide.
        #[arg(long)]
        store_id: Option<i64>,
        /// Read the password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print its secret once.
    Create {
        #[arg(long)]
        name: String,
        /// admin, operator or analyst.
        #[arg(long)]
        role: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (file, environment and flags merged) with secrets masked.
    Show {
        /// Also apply a --listen override, as `serve` would.
        #[arg(long)]
        listen: Option<String>,
    },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("YUTANG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

fn load(common: &Common, listen: Option<String>) -> Result<Settings> {
    let o = Overrides {
        listen,
        database_url: common.database_url.clone(),
    };
    Settings::load(common.config.as_deref(), &o).map_err(|e| anyhow::anyhow!("{e}"))
}

async fn open(settings: Settings) -> Result<App> {
    let url = settings.database_url.clone();
    App::open(settings)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("opening the database {}", yutang_store::db::redact(&url)))
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { listen } => {
            init_tracing();
            let settings = load(&cli.common, listen)?;
            let app = open(settings).await?;
            if let Some((user, pw)) = app
                .staff()
                .bootstrap_admin()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!("\n  首次启动：已创建管理员账号 / first start: admin account created");
                println!(
                    "  username: {user}\n  password: {pw}\n  (shown once — sign in and change it under 我的账号 / My account)\n"
                );
            }
            serve(app).await
        }
        Command::Demo {
            listen,
            seed_only,
            customers,
        } => {
            init_tracing();
            let mut common = cli.common.clone();
            let default_demo =
                common.database_url.is_none() && std::env::var("YUTANG_DATABASE_URL").is_err();
            if default_demo {
                // The default demo database is recreated on every run.
                for suffix in ["", "-wal", "-shm"] {
                    let p = format!("yutang-demo.db{suffix}");
                    if std::path::Path::new(&p).exists() {
                        std::fs::remove_file(&p).with_context(|| format!("removing old {p}"))?;
                    }
                }
                common.database_url = Some("sqlite://yutang-demo.db".into());
            }
            let mut settings = load(&common, listen)?;
            // A portion of the demo's customers and groups arrive from a fake WeCom corp (below).
            // It starts first so that sign-in with WeCom (the QR login and the OAuth inside the
            // WeCom client) goes to it too. `--customers 0` asks for no customers at all: no
            // WeCom part either.
            let demo_fake = if customers == 0 {
                Err(anyhow::anyhow!("--customers 0"))
            } else {
                yutang_app::demo::wecom::start_demo_fake(
                    yutang_app::demo::wecom::DEMO_TAKEOVER_AFTER_SECS,
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
            };
            if let Ok(fake) = &demo_fake {
                settings.wecom.login_base = fake.base_url().to_owned();
                settings.wecom.oauth_base = fake.base_url().to_owned();
            }
            let app = open(settings).await?;
            let started = std::time::Instant::now();
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg:12} [{bar:30}] {pos}/{len}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            let progress = |stage: &str, done: u64, total: u64| {
                bar.set_message(stage.to_owned());
                bar.set_length(total);
                bar.set_position(done);
            };
            let summary = app
                .demo()
                .seed_demo(customers, &progress)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            bar.finish_and_clear();
            println!(
                "\n  鱼塘 demo: {} ({} regions, {} stores, {} staff, {} customers, {} orders) in {:.1}s",
                yutang_app::demo::DEMO_BRAND,
                summary.regions,
                summary.stores,
                summary.staff,
                summary.customers,
                summary.orders,
                started.elapsed().as_secs_f64()
            );
            println!(
                "  会员: {} member card purchases ({} savings-guarantee refunds owed), {} points mall exchanges, {} stored-value top-ups",
                summary.loyalty.card_purchases,
                summary.loyalty.card_refunds_owed,
                summary.loyalty.exchanges,
                summary.loyalty.top_ups
            );
            println!(
                "  console:  http://{}/console\n  login:    {} / {}  (every demo account, e.g. sh-001.manager, sh-001.guide1, uses the same password)\n",
                app.settings.listen,
                summary.admin_username,
                yutang_app::demo::DEMO_PASSWORD
            );
            // The fake corp's customers and groups arrive through the real client and the real
            // full-sync job. The fake lives as long as this process.
            let wecom_started = std::time::Instant::now();
            let outcome = match demo_fake {
                Ok(fake) => app
                    .demo()
                    .connect_demo_fake(&fake)
                    .await
                    .map(|s| (fake, s))
                    .map_err(|e| anyhow::anyhow!("{e}")),
                Err(e) => Err(e),
            };
            let fake = match outcome {
                Ok((fake, s)) => {
                    println!(
                        "  企业微信 (fake corp {}): {} guides linked, {} customers, {} groups ({} members), {} corp tags synced, {} guide contacts given to the corp in {:.1}s",
                        fake.corp_id(),
                        s.linked_guides,
                        s.customers,
                        s.groups,
                        s.group_members,
                        s.corp_tags,
                        s.contacts_seeded,
                        wecom_started.elapsed().as_secs_f64()
                    );
                    if let Some(userid) = &s.sign_in_userid {
                        println!(
                            "  企业微信登录: the login page's WeCom button (and any console page opened with a wxwork User-Agent) signs in as {} (WeCom userid {userid})",
                            yutang_app::demo::wecom::DEMO_SIGN_IN
                        );
                    }
                    let acq_started = std::time::Instant::now();
                    match app.demo().seed_demo_acquisition(&fake).await {
                        Ok(a) => {
                            println!(
                                "  引流: {} channels with {} live codes, {} adds over 30 days, {} first orders in {:.1}s",
                                a.channels,
                                a.codes,
                                a.adds,
                                a.first_orders,
                                acq_started.elapsed().as_secs_f64()
                            );
                            println!(
                                "  老带新: {} referral program, {} inviters, {} friends, {} rewarded, {} refused attempts",
                                a.referrals.programs,
                                a.referrals.inviters,
                                a.referrals.friends,
                                a.referrals.rewarded,
                                a.referrals.refused
                            );
                        }
                        Err(e) => println!("  引流 demo skipped: {e}"),
                    }
                    match app.demo().seed_demo_group_code().await {
                        Ok(n) => println!(
                            "  群活码: {n} group live code over the synced groups, with its WeCom join way"
                        ),
                        Err(e) => println!("  群活码 demo skipped: {e}"),
                    }
                    Some(fake)
                }
                Err(e) => {
                    println!("  企业微信 demo skipped: {e}");
                    None
                }
            };
            if seed_only {
                return Ok(());
            }
            let served = serve(app).await;
            drop(fake);
            served
        }
        Command::Import {
            what,
            file,
            dry_run,
            map,
            json,
        } => {
            let settings = load(&cli.common, None)?;
            let mut mapping = Vec::new();
            for m in &map {
                let Some((from, to)) = m.split_once('=') else {
                    bail!("--map {m:?}: expected HEADER=FIELD");
                };
                mapping.push((from.to_owned(), to.to_owned()));
            }
            let app = open(settings).await?;
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg:12} [{bar:30}] {pos}/{len} {per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            let progress = |stage: &str, done: u64, total: u64| {
                bar.set_message(stage.to_owned());
                bar.set_length(total);
                bar.set_position(done);
            };
            let kind = match what {
                ImportWhat::Customers => ImportKind::Customers,
                ImportWhat::Orders => ImportKind::Orders,
            };
            let started = std::time::Instant::now();
            let report = app
                .imports()
                .import_file(
                    &Actor::system(),
                    kind,
                    &file,
                    &ImportOptions { dry_run, mapping },
                    &progress,
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            bar.finish_and_clear();
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                let noun = match what {
                    ImportWhat::Customers => "customers",
                    ImportWhat::Orders => "orders",
                };
                println!(
                    "import {noun}: {} rows, {} valid, {} bad{} in {:.1}s",
                    report.rows,
                    report.valid_rows,
                    report.errors.len(),
                    if dry_run {
                        " (dry run: nothing written)"
                    } else {
                        ""
                    },
                    started.elapsed().as_secs_f64()
                );
                if !dry_run {
                    match what {
                        ImportWhat::Customers => println!(
                            "  created {}, attached to existing {}",
                            report.created, report.attached
                        ),
                        ImportWhat::Orders => println!(
                            "  created {}, already imported {}",
                            report.created, report.duplicates
                        ),
                    }
                }
                if !report.ignored_columns.is_empty() {
                    println!("  ignored columns: {}", report.ignored_columns.join(", "));
                }
                for e in &report.errors {
                    println!(
                        "  row {}, column {}: {} — {}",
                        e.row, e.column, e.code, e.message
                    );
                }
            }
            if !report.errors.is_empty() {
                std::process::exit(2);
            }
            Ok(())
        }
        Command::Db(DbCommand::Copy {
            from,
            to,
            from_secret_key_file,
        }) => {
            init_tracing();
            let settings = load(&cli.common, None)?;
            let from_secret_key = match from_secret_key_file {
                Some(f) => Some(yutang_app::settings::Secret::new(
                    std::fs::read_to_string(&f)
                        .with_context(|| format!("reading {}", f.display()))?
                        .trim(),
                )),
                None => None,
            };
            db_copy(yutang_app::db_copy::CopyOptions {
                from_url: from,
                to_url: to,
                from_secret_key,
                to_secret_key: settings.secret_key.clone(),
            })
            .await
        }
        Command::Backup { to } => {
            init_tracing();
            let settings = load(&cli.common, None)?;
            backup::run(&settings, &to).await
        }
        Command::Migrate => {
            init_tracing();
            let settings = load(&cli.common, None)?;
            let app = open(settings).await?;
            println!("migrations applied ({})", app.db.engine().as_str());
            Ok(())
        }
        Command::Admin(AdminCommand::Create {
            username,
            role,
            name,
            store_id,
            password_stdin,
        }) => {
            let settings = load(&cli.common, None)?;
            if !password_stdin {
                bail!("--password-stdin is required");
            }
            let mut pw = String::new();
            std::io::stdin()
                .read_to_string(&mut pw)
                .context("reading the password from stdin")?;
            let pw = pw.trim_end_matches(['\r', '\n']);
            let input = NewStaffInput::parse(
                &username,
                name.as_deref().unwrap_or(&username),
                &role,
                store_id,
                Some(pw),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let app = open(settings).await?;
            let row = app
                .staff()
                .create_staff(&Actor::system(), &input)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created {} (id {}, role {})",
                row.username, row.id, row.role
            );
            Ok(())
        }
        Command::Token(TokenCommand::Create {
            name,
            role,
            expires_in_days,
        }) => {
            let settings = load(&cli.common, None)?;
            let input = NewTokenInput::parse(&name, &role, expires_in_days)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let app = open(settings).await?;
            let t = app
                .tokens()
                .create_token(&Actor::system(), &input)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "token {} (id {}, role {}) — shown once:",
                t.info.name, t.info.id, t.info.role
            );
            println!("{}", t.token);
            Ok(())
        }
        Command::Bench(BenchCommand::Ingest {
            batches,
            batch_size,
        }) => {
            let settings = load(&cli.common, None)?;
            let app = open(settings).await?;
            bench::ingest(&app, batches, batch_size).await
        }
        Command::Bench(BenchCommand::Segments(args)) => bench_segments::run(&args).await,
        Command::Bench(BenchCommand::Dashboard(args)) => bench_dashboard::run(&args).await,
        Command::Bench(BenchCommand::FlashSale {
            claims,
            customers,
            stock,
            concurrency,
            pg_url,
            redis_port,
        }) => {
            bench_flash::flash_sale(bench_flash::Params {
                claims,
                customers,
                stock,
                concurrency,
                pg_url,
                redis_port,
            })
            .await
        }
        Command::Bench(BenchCommand::Api {
            customers,
            requests,
            concurrency,
            engines,
            pg_url,
        }) => {
            // The server's own log (a 500's cause) when asked for: `YUTANG_LOG=warn`.
            if std::env::var_os("YUTANG_LOG").is_some() {
                init_tracing();
            }
            bench_api::api(bench_api::Params {
                customers,
                requests,
                concurrency,
                engines,
                pg_url,
            })
            .await
        }
        Command::Bench(BenchCommand::Messaging {
            customers,
            guides,
            engines,
            pg_url,
        }) => {
            bench_messaging::messaging(bench_messaging::Params {
                customers,
                guides,
                engines,
                pg_url,
            })
            .await
        }
        Command::Bench(BenchCommand::Journeys {
            customers,
            engines,
            pg_url,
        }) => {
            bench_journeys::journeys(bench_journeys::Params {
                customers,
                engines,
                pg_url,
            })
            .await
        }
        Command::Bench(BenchCommand::Welcome {
            adds,
            rate,
            latency_ms,
            engines,
            pg_url,
        }) => {
            bench_welcome::welcome(bench_welcome::Params {
                adds,
                rate,
                latency_ms,
                engines,
                pg_url,
            })
            .await
        }
        Command::Bench(BenchCommand::Webhooks {
            events,
            rate,
            latency_ms,
            concurrency,
            engines,
            pg_url,
        }) => {
            bench_webhooks::webhooks(bench_webhooks::Params {
                events,
                rate,
                latency_ms,
                concurrency,
                engines,
                pg_url,
            })
            .await
        }
        Command::Bench(BenchCommand::Points {
            accounts,
            entries,
            concurrency,
            engines,
            pg_url,
        }) => {
            bench_points::points(bench_points::Params {
                accounts,
                entries,
                concurrency,
                engines,
                pg_url,
            })
            .await
        }
        Command::Config(ConfigCommand::Show { listen }) => {
            let settings = load(&cli.common, listen)?;
            print!("{}", settings.to_masked_toml());
            Ok(())
        }
    }
}

async fn serve(app: App) -> Result<()> {
    let listen = app.settings.listen.clone();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, engine = app.db.engine().as_str(), "yutang serving; console at http://{addr}/console");
    let db = app.db.clone();
    // Housekeeping: drop expired sessions and old login attempts every ten minutes.
    let hk = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = hk.now();
            if let Err(e) = yutang_store::sessions::delete_expired(&hk.db, now).await {
                tracing::warn!(error = %e, "session cleanup");
            }
            if let Err(e) = yutang_store::login_attempts::prune(&hk.db, now - 7 * 86_400_000).await
            {
                tracing::warn!(error = %e, "login-attempt cleanup");
            }
        }
    });
    yutang_web::launch(app, listener, shutdown_signal()).await?;
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn db_copy(o: yutang_app::db_copy::CopyOptions) -> Result<()> {
    let started = std::time::Instant::now();
    let mut last = String::new();
    let report = yutang_app::db_copy::run(&o, &mut |table, rows| {
        if table != last {
            eprintln!("copying {table} …");
            last = table.to_owned();
        }
        if rows % 100_000 == 0 {
            eprintln!("  {table}: {rows} rows");
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows: u64 = report.tables.iter().map(|t| t.rows).sum();
    for t in &report.tables {
        println!(
            "  {:<28} {:>10} rows  {:>10} new  sha256 {}",
            t.table,
            t.rows,
            t.inserted,
            &t.digest[..16]
        );
    }
    println!(
        "copied and verified {} tables, {rows} rows in {:.1} s; {} secrets re-sealed for the destination's key",
        report.tables.len(),
        started.elapsed().as_secs_f64(),
        report.resealed
    );
    Ok(())
}
