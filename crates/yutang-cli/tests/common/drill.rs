//! What the crash drills share: a demo brand opened through the library, and raw SQL reads and
//! writes on either engine for setting a drill up and checking what a crash left.

use yutang_app::App;
use yutang_app::settings::{Secret, Settings};
use yutang_store::Db;

/// A demo brand of `customers` on `url`, its queued jobs run, and the secret key (hex) the
/// drill's nodes must be started with to read it.
pub async fn demo_app(url: &str, customers: usize) -> (App, String) {
    let key_hex: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let mut settings = Settings {
        database_url: url.to_owned(),
        secret_key: Some(Secret::new(key_hex.clone())),
        ..Settings::default()
    };
    settings.auth.argon2_memory_kib = 1024;
    settings.auth.argon2_iterations = 1;
    let app = App::open(settings).await.unwrap();
    app.demo()
        .seed_demo(customers, &|_, _, _| {})
        .await
        .unwrap();
    // Whatever the demo queued runs now, so a node has only the drill's run to do.
    app.drain_jobs().await.unwrap();
    (app, key_hex)
}

/// One integer the query answers.
pub async fn scalar(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(p)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

/// The first column of every row.
#[allow(dead_code)]
pub async fn column(db: &Db, sql: &str) -> Vec<i64> {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(p)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(p)
            .await
            .unwrap(),
    }
}

/// Run a statement.
pub async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(p)
            .await
            .map(|_| ()),
        Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(p)
            .await
            .map(|_| ()),
    }
    .unwrap();
}

/// A second node (number 2) started on `url` takes job `job` over once the killed node's
/// lease lapses; waits until the job is done without an error, then kills that node too.
pub async fn second_node_finishes(
    url: &str,
    dir: &std::path::Path,
    env: &[(&str, &str)],
    db: &Db,
    job: i64,
) {
    let node = crate::node::Node::start(url, dir, 2, env).await;
    let finished = crate::node::wait_for(
        std::time::Duration::from_secs(180),
        &format!("job {job} finishing on the second node"),
        &node.log,
        || async {
            let j = yutang_store::jobs::get(db, job).await.unwrap();
            (j.status == "done").then_some(j)
        },
    )
    .await;
    node.kill9();
    assert_eq!(finished.last_error, "", "{finished:?}");
}
