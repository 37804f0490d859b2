//! Upgrades: every release in `migrations/RELEASES` still has the migrations it shipped
//! (digest per engine), and the current version starts on a database that release left —
//! its schema built by its migrations, its data from `tests/upgrade/<version>.sql` — and
//! serves that data, reads and writes, on both engines.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_store::db::Engine as DbEngine;
use yutang_store::{Db, DbUrl, StoreOptions};

use crate::helpers::{Engine, TestApp, fresh_database_url, spawn_with};

both_engines!(each_release_upgrades_to_this_version);

const RELEASES: &str = include_str!("../../../../migrations/RELEASES");

struct Release {
    version: String,
    last: i64,
    sqlite: String,
    postgres: String,
}

fn releases() -> Vec<Release> {
    RELEASES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 4, "RELEASES line: {l}");
            Release {
                version: f[0].to_owned(),
                last: f[1].parse().expect("last migration"),
                sqlite: f[2].to_owned(),
                postgres: f[3].to_owned(),
            }
        })
        .collect()
}

async fn exec(db: &Db, sql: &str) {
    let done = match db {
        Db::Sqlite(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(p)
            .await
            .map(|_| ()),
        Db::Postgres(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(p)
            .await
            .map(|_| ()),
    };
    done.unwrap_or_else(|e| panic!("{e}: {sql}"));
}

/// Sign in with the fixture's password (`yutang-demo`, hashed by the release).
async fn login(t: &TestApp, username: &str) -> String {
    let r = t
        .req(reqwest::Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"username": username, "password": "yutang-demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "login {username}");
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn json_of(t: &TestApp, path: &str, token: &str) -> Value {
    let r = t.get(path, token).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn each_release_upgrades_to_this_version(e: Engine) {
    let releases = releases();
    assert!(!releases.is_empty());
    for r in releases {
        let engine = match e {
            Engine::Sqlite => DbEngine::Sqlite,
            Engine::Postgres => DbEngine::Postgres,
        };
        let shipped = match e {
            Engine::Sqlite => &r.sqlite,
            Engine::Postgres => &r.postgres,
        };
        assert_eq!(
            &Db::migrations_digest(engine, r.last),
            shipped,
            "a migration shipped in {} (up to {}) was edited; add a new migration instead",
            r.version,
            r.last
        );
        // The release's schema and data.
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database_url(e, &dir).await;
        let db = Db::connect(&DbUrl::parse(&url).unwrap(), &StoreOptions::default())
            .await
            .unwrap();
        db.migrate_to(r.last).await.unwrap();
        assert_eq!(db.applied_migrations().await.unwrap().last(), Some(&r.last));
        let fixture = std::fs::read_to_string(format!(
            "{}/../../tests/upgrade/{}.sql",
            env!("CARGO_MANIFEST_DIR"),
            r.version
        ))
        .expect("tests/upgrade/<version>.sql");
        exec(&db, &fixture).await;
        if let Db::Postgres(_) = db {
            // The release's own writes advanced each id sequence; the fixture's explicit ids
            // did not.
            exec(
                &db,
                "DO $$ DECLARE t text; BEGIN \
                 FOR t IN SELECT table_name FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND column_name = 'id' \
                 AND pg_get_serial_sequence(table_name, 'id') IS NOT NULL LOOP \
                 EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), \
                 GREATEST((SELECT COALESCE(MAX(id), 0) FROM %I), 1))', t, t); \
                 END LOOP; END $$",
            )
            .await;
        }
        db.close().await;

        // The current version on it: migrates, starts, and serves the old data.
        let t = spawn_with(e, |s| s.database_url = url.clone()).await;
        let current = Db::migration_versions(engine);
        assert_eq!(
            t.app.db.applied_migrations().await.unwrap(),
            current,
            "{}",
            r.version
        );
        let admin = login(&t, "admin").await;
        let v = json_of(&t, "/api/v1/customers", &admin).await;
        assert_eq!(v["total"], 2, "{v}");
        // The merged customer resolves to its survivor, with the moved phone.
        let v = json_of(&t, "/api/v1/customers/3", &admin).await;
        assert_eq!(v["customer"]["id"], 1);
        assert_eq!(v["customer"]["total_spend_fen"], 9900);
        assert_eq!(v["identities"].as_array().unwrap().len(), 2, "{v}");
        let v = json_of(&t, "/api/v1/orders?customer_id=2", &admin).await;
        assert_eq!(v["items"][0]["status"], "refunded");
        assert_eq!(v["items"][0]["refunded_fen"], 5000);
        let v = json_of(&t, "/api/v1/customers/2/coupons", &admin).await;
        assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
        let v = json_of(&t, "/api/v1/audit?action=customer_merged", &admin).await;
        assert_eq!(v["total"], 1, "{v}");
        // The segment index was built from the old data.
        let r2 = t
            .post(
                "/api/v1/segments/count",
                &admin,
                json!({"expression": "tag(\"兴趣/车厘子\") and city = \"上海\""}),
            )
            .await;
        assert_eq!(r2.status(), StatusCode::OK);
        assert_eq!(r2.json::<Value>().await.unwrap()["count"], 1);
        // The guide signs in and sees their two customers.
        let guide = login(&t, "sh-001.guide1").await;
        let v = json_of(&t, "/api/v1/customers", &guide).await;
        assert_eq!(v["total"], 2);
        // New writes get new ids and keep the old aggregates right.
        let r2 = t
            .post(
                "/api/v1/orders",
                &admin,
                json!({"external_id": "POS-3", "customer_id": 2, "channel": "store",
                       "lines": [{"sku": "PEAR", "name": "梨", "quantity": 1, "unit_price_fen": 3000}]}),
            )
            .await;
        assert_eq!(r2.status(), StatusCode::CREATED, "{:?}", r2.text().await);
        let v: Value = r2.json().await.unwrap();
        assert_eq!(v["order"]["id"], 3);
        let v = json_of(&t, "/api/v1/customers/2", &admin).await;
        assert_eq!(
            (
                &v["customer"]["order_count"],
                &v["customer"]["total_spend_fen"]
            ),
            (&json!(1), &json!(3000))
        );
    }
}
