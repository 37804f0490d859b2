//! Test kit: a real server on an ephemeral port over a fresh database per test, on either
//! engine, and a small typed client.

use std::net::SocketAddr;

use rand::Rng;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use yutang_app::settings::{AuthSettings, Settings};
use yutang_app::staff::NewStaffInput;
use yutang_app::tokens::NewTokenInput;
use yutang_app::{Actor, App};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub const PASSWORD: &str = "test-password-1";

pub struct TestApp {
    pub addr: SocketAddr,
    pub app: App,
    pub client: Client,
    /// An admin API token.
    pub admin: String,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Base URL of the PostgreSQL server for tests: `YUTANG_TEST_PG`, else the local default.
/// There is no silent skip: if PostgreSQL is unreachable the PostgreSQL half fails loudly
/// (scripts/test starts a throwaway cluster when none is running).
pub fn pg_base() -> String {
    std::env::var("YUTANG_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub async fn fresh_database_url(engine: Engine, dir: &tempfile::TempDir) -> String {
    match engine {
        Engine::Sqlite => format!("sqlite://{}", dir.path().join("test.db").display()),
        Engine::Postgres => {
            let base = pg_base();
            let name = format!("yutang_test_{:016x}", rand::thread_rng().r#gen::<u64>());
            let pool = sqlx::PgPool::connect(&base).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL at {base} is unreachable ({e}); run scripts/test, which starts one"
                )
            });
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .expect("create test database");
            pool.close().await;
            let mut url = url::Url::parse(&base).expect("YUTANG_TEST_PG is a URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
    }
}

pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_with(engine, |_| {}).await
}

pub async fn spawn_with(engine: Engine, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    // `YUTANG_TEST_LOG=warn` shows the server's log while debugging a test.
    if let Ok(filter) = std::env::var("YUTANG_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = Settings {
        database_url: fresh_database_url(engine, &dir).await,
        auth: AuthSettings {
            // Cheap hashing keeps the suite fast; production defaults are tested in unit tests.
            argon2_memory_kib: 1024,
            argon2_iterations: 1,
            ..AuthSettings::default()
        },
        ..Settings::default()
    };
    settings.database.max_connections = 5;
    tweak(&mut settings);
    let app = App::open(settings).await.expect("open app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    let served = app.clone();
    tokio::spawn(async move {
        let _ = yutang_web::launch(served, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    let admin = app
        .tokens()
        .create_token(
            &Actor::system(),
            &NewTokenInput::parse("test admin", "admin", None).expect("token input"),
        )
        .await
        .expect("admin token")
        .token;
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        addr,
        app,
        client,
        admin,
        shutdown: Some(tx),
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn req(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let r = self.client.request(method, self.url(path));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.req(Method::GET, path, Some(token))
            .send()
            .await
            .expect("request")
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> Response {
        self.req(method, path, Some(token))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.send_json(Method::POST, path, token, body).await
    }

    /// Create a region and a store through the API; returns the store id.
    pub async fn store(&self, code: &str) -> i64 {
        let r = self
            .post(
                "/api/v1/regions",
                &self.admin,
                json!({"name": format!("大区-{code}")}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let region = r.json::<Value>().await.expect("json")["id"]
            .as_i64()
            .expect("id");
        let r = self
            .post(
                "/api/v1/stores",
                &self.admin,
                json!({"region_id": region, "code": code, "name": format!("门店 {code}"), "city": "上海"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
        r.json::<Value>().await.expect("json")["id"]
            .as_i64()
            .expect("id")
    }

    /// Create a staff member directly (as the system) with [`PASSWORD`].
    pub async fn staff(&self, username: &str, role: &str, store: Option<i64>) -> i64 {
        let input = NewStaffInput::parse(username, username, role, store, Some(PASSWORD))
            .expect("staff input");
        self.app
            .staff()
            .create_staff(&Actor::system(), &input)
            .await
            .expect("create staff")
            .id
    }

    /// Log in through the API; returns the session token.
    pub async fn login(&self, username: &str) -> String {
        let r = self
            .req(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), StatusCode::OK, "login {username}");
        r.json::<Value>().await.expect("json")["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Actions recorded in the audit log, newest first.
    pub async fn audit_actions(&self) -> Vec<String> {
        let r = self.get("/api/v1/audit?page_size=200", &self.admin).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.expect("json")["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["action"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Run every due job to the end. The server's own worker (one tick a second) may have
    /// claimed a job just before the test's `drain_jobs` looked, so draining alone can return
    /// while that job is still running; wait until no due job is queued or running.
    pub async fn settle_jobs(&self) {
        const PENDING: &str = "SELECT COUNT(*) FROM jobs WHERE status = 'running' \
             OR (status = 'queued' AND run_at <= $1)";
        for _ in 0..600 {
            self.app.drain_jobs().await.expect("drain jobs");
            let now = self.app.now();
            let pending: i64 = match &self.app.db {
                yutang_store::Db::Sqlite(p) => sqlx::query_scalar(PENDING)
                    .bind(now)
                    .fetch_one(p)
                    .await
                    .expect("pending jobs"),
                yutang_store::Db::Postgres(p) => sqlx::query_scalar(PENDING)
                    .bind(now)
                    .fetch_one(p)
                    .await
                    .expect("pending jobs"),
            };
            if pending == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("jobs still pending after 30 s");
    }

    /// Wait until the analytics loop has done the rebuild asked for and computed the uplift
    /// studies after it, so that a test's own writes meet no background recomputation
    /// (a copied or upgraded database starts with both to do).
    pub async fn settle_analytics(&self) {
        for _ in 0..1200 {
            let rollups = yutang_store::rollups::state(&self.app.db)
                .await
                .expect("rollup state");
            let (computed_at, _) = yutang_store::uplift::state(&self.app.db)
                .await
                .expect("uplift state");
            let rebuilt = rollups.requested <= rollups.rebuilt;
            let studied = computed_at.is_some_and(|at| rollups.rebuilt_at.is_none_or(|r| r <= at));
            if rebuilt && studied {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("analytics still rebuilding after 60 s");
    }

    /// Run a statement against the test database (to simulate time passing).
    pub async fn exec(&self, sql: &'static str) {
        match &self.app.db {
            yutang_store::Db::Sqlite(p) => {
                sqlx::query(sql).execute(p).await.expect("exec");
            }
            yutang_store::Db::Postgres(p) => {
                sqlx::query(sql).execute(p).await.expect("exec");
            }
        }
    }
}

/// The error code of a JSON error response.
/// A CSV download: 200, `text/csv`, an attachment, UTF-8 with a BOM (for Excel); the text
/// after the BOM.
pub async fn csv_download(r: Response) -> String {
    assert_eq!(r.status(), StatusCode::OK);
    let header = |name: &str| r.headers()[name].to_str().unwrap_or_default().to_owned();
    assert!(header("content-type").starts_with("text/csv"));
    assert!(header("content-disposition").contains("attachment"));
    let body = r.text().await.expect("CSV body");
    body.strip_prefix('\u{feff}')
        .expect("a UTF-8 BOM for Excel")
        .to_owned()
}

/// An Excel export read back: the rows of its one sheet, as the CSV export of the same table
/// shows them (numbers compared by value, so `129.00` in the CSV and 129 in the workbook are
/// the same cell).
pub async fn xlsx_download(r: Response) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    assert_eq!(r.status(), StatusCode::OK);
    let header = |name: &str| r.headers()[name].to_str().unwrap_or_default().to_owned();
    assert_eq!(
        header("content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(header("content-disposition").contains(".xlsx"));
    let bytes = r.bytes().await.expect("workbook body");
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .expect("a workbook");
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).expect("its sheet");
    range.rows().map(<[calamine::Data]>::to_vec).collect()
}

/// The workbook holds the CSV's table cell for cell: figures as numbers of the same value,
/// text as the same text (without the CSV's formula-defusing apostrophe).
pub fn assert_same_table(csv: &str, sheet: &[Vec<calamine::Data>]) {
    use calamine::Data;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), sheet.len(), "rows: {csv}");
    for (r, (want, got)) in rows.iter().zip(sheet).enumerate() {
        for (c, w) in want.iter().enumerate() {
            let g = got.get(c).unwrap_or(&Data::Empty);
            let same = match g {
                Data::Empty => w.is_empty(),
                Data::Float(f) => w.parse::<f64>().is_ok_and(|x| x == *f),
                Data::Int(i) => w.parse::<f64>().is_ok_and(|x| x == *i as f64),
                Data::String(t) => t == w || w.strip_prefix('\'') == Some(t.as_str()),
                other => panic!("unexpected cell {other:?}"),
            };
            assert!(same, "row {r} column {c}: CSV {w:?}, workbook {g:?}");
        }
        assert!(got.len() <= want.len() || got[want.len()..].iter().all(|d| *d == Data::Empty));
    }
}

pub async fn error_of(r: Response) -> (StatusCode, String, Option<String>) {
    let status = r.status();
    let v: Value = r.json().await.expect("error body is JSON");
    (
        status,
        v["error"]["code"].as_str().unwrap_or_default().to_owned(),
        v["error"]["field"].as_str().map(str::to_owned),
    )
}
