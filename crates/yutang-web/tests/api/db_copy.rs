//! `yutang db copy` both ways on a small demo brand: SQLite → PostgreSQL → SQLite. Each
//! copy is verified per table by the copy itself (row counts and checksums); here the
//! servers opened on the copies must answer the API exactly as the original does, WeCom's
//! secrets (re-sealed for each destination's key) must still reach WeCom, ids continue
//! where they stood, and running a copy again changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_app::db_copy::{CopyOptions, run};
use yutang_app::settings::Secret;
use yutang_wecom::fake::{FakeConfig, FakeWecom};

use crate::helpers::{Engine, TestApp, fresh_database_url, spawn_with};

const READS: [&str; 8] = [
    "/api/v1/customers?page_size=100",
    "/api/v1/orders?page_size=100",
    "/api/v1/segments",
    "/api/v1/tag-groups",
    "/api/v1/wecom/groups",
    "/api/v1/coupon-templates",
    "/api/v1/staff",
    "/api/v1/customers/1/timeline",
];

async fn answers(t: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    for path in READS {
        let r = t.get(path, &t.admin).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        out.push(r.json().await.unwrap());
    }
    out
}

/// The first place two JSON values differ, as a JSON pointer with both sides.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let Some(w) = y.get(k) else {
                    return Some(format!("{at}/{k}: missing on the right"));
                };
                if let Some(d) = first_difference(v, w, format!("{at}/{k}")) {
                    return Some(d);
                }
            }
            (x.len() != y.len()).then(|| format!("{at}: keys {:?} vs {:?}", x.keys(), y.keys()))
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                if let Some(d) = first_difference(v, w, format!("{at}/{i}")) {
                    return Some(d);
                }
            }
            (x.len() != y.len()).then(|| format!("{at}: {} vs {} items", x.len(), y.len()))
        }
        _ => (a != b).then(|| format!("{at}: {a} vs {b}")),
    }
}

fn assert_same(got: &[Value], want: &[Value]) {
    for ((path, g), w) in READS.iter().zip(got).zip(want) {
        if let Some(d) = first_difference(g, w, String::new()) {
            panic!("{path} differs at {d}");
        }
    }
}

fn key() -> Secret {
    Secret::new(hex::encode(rand::random::<[u8; 32]>()))
}

#[tokio::test]
async fn a_brand_copies_to_postgres_and_back() {
    // The source is quiet during a copy: its webhook loops, which would fan out and attempt
    // deliveries meanwhile, and its rollup follower do not run.
    let a = spawn_with(Engine::Sqlite, |s| {
        s.webhooks.deliver = false;
        s.analytics.follow = false;
    })
    .await;
    a.app.demo().seed_demo(300, &|_, _, _| {}).await.unwrap();
    let fake = FakeWecom::start(FakeConfig::demo()).await.unwrap();
    let userids = fake.with_corp(|c| c.staff.iter().map(|s| s.userid.clone()).collect());
    a.app
        .demo()
        .connect_demo_wecom(&yutang_app::demo::wecom::DemoWecom {
            corp_id: fake.corp_id().to_owned(),
            secret: fake.secret().to_owned(),
            api_base: fake.base_url().to_owned(),
            callback_token: "CopyToken".to_owned(),
            encoding_aes_key: yutang_wecom::AesKey::generate().to_encoding_aes_key(),
            userids,
        })
        .await
        .unwrap();
    // A merge, so a row references its own table (customers.merged_into).
    let r = a
        .post(
            "/api/v1/customers/2/merge",
            &a.admin,
            json!({"other_id": 3}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // A webhook: its signing secret is sealed too.
    let r = a
        .post(
            "/api/v1/webhooks",
            &a.admin,
            json!({"name": "CRM", "url": "https://hooks.example.com/copy", "kinds": ["*"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let hook_secret = r.json::<serde_json::Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    // An inbound order source: its secret is sealed too.
    let r = a
        .post(
            "/api/v1/inbound-sources",
            &a.admin,
            json!({"name": "有赞", "format": "youzan", "app_id": "copyapp1", "client_secret": "copy-secret-1"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    // The source is quiet during a copy: every due job (rules, syncs) has run.
    // Rules run on events and hourly: bring every rule tag up to date (the servers opened on
    // the copies do the same) so each side answers from rules applied to the same data.
    a.app.hourly_tick().await.unwrap();
    a.settle_jobs().await;
    let want = answers(&a).await;

    // SQLite → PostgreSQL, with a new key for the secrets.
    let dir = tempfile::tempdir().unwrap();
    let pg_url = fresh_database_url(Engine::Postgres, &dir).await;
    let pg_key = key();
    let to_pg = CopyOptions {
        from_url: a.app.settings.database_url.clone(),
        to_url: pg_url.clone(),
        from_secret_key: None,
        to_secret_key: Some(pg_key.clone()),
    };
    let report = run(&to_pg, &mut |_, _| {}).await.unwrap();
    assert!(report.tables.len() > 30);
    assert_eq!(
        report.resealed, 5,
        "contact secret, callback token, AES key, the webhook's signing secret, the inbound \
         source's client secret"
    );
    // The demo's pictures (bytes in a BLOB / BYTEA column: three products, a poster and a
    // cover of the material library) came along, verified.
    let media = report.tables.iter().find(|t| t.table == "media").unwrap();
    assert_eq!(media.rows, 5);
    let materials = report
        .tables
        .iter()
        .find(|t| t.table == "materials")
        .unwrap();
    assert_eq!(materials.rows, 7);
    // The demo's ten journeys (five of them group SOPs) and their versions (the journey
    // follower's position is this engine's own and is not copied).
    let count = |name: &str| report.tables.iter().find(|t| t.table == name).unwrap().rows;
    assert_eq!((count("journeys"), count("journey_versions")), (10, 10));
    assert!(report.tables.iter().all(|t| t.table != "journey_feed"));
    let rows: u64 = report.tables.iter().map(|t| t.rows).sum();
    // Again: resumes, finds everything there, changes nothing.
    let again = run(&to_pg, &mut |_, _| {}).await.unwrap();
    assert_eq!(again.tables.iter().map(|t| t.inserted).sum::<u64>(), 0);
    assert_eq!(again.tables.iter().map(|t| t.rows).sum::<u64>(), rows);
    assert_eq!(again.resealed, 0);

    // b is the source of the copy back: its rollup follower (which would rebuild the copied
    // rollups meanwhile) does not run.
    let b = spawn_with(Engine::Postgres, |s| {
        s.database_url = pg_url.clone();
        s.secret_key = Some(pg_key.clone());
        s.analytics.follow = false;
    })
    .await;
    b.app.hourly_tick().await.unwrap();
    b.settle_jobs().await;
    assert_same(&answers(&b).await, &want);
    // The webhook's secret opens with the destination's key, and the follower, whose stored
    // position was SQLite's, starts at the end of PostgreSQL's log.
    let sealer = yutang_app::secret_box::SecretBox::resolve(&b.app.settings).unwrap();
    let sealed = yutang_store::webhooks::sealed_secrets(&b.app.db)
        .await
        .unwrap();
    assert_eq!(
        sealer
            .open(yutang_app::webhooks::SEALED_FIELD, &sealed[0].1)
            .unwrap(),
        hook_secret
    );
    let sealed = yutang_store::inbound::sealed_secrets(&b.app.db)
        .await
        .unwrap();
    assert_eq!(
        sealer
            .open(yutang_app::inbound::SEALED_FIELD, &sealed[0].1)
            .unwrap(),
        "copy-secret-1"
    );
    b.app.webhooks().follow().await.unwrap();
    let r = b
        .post("/api/v1/wecom/settings/test", &b.admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // Ids continue after the copied ones: a new customer gets the next id the source would
    // have given, never a copied one.
    let new_id = crate::customers::customer_with_phone(&b, "13912345678", "新客").await;
    let max_copied = want[0]["total"].as_i64().unwrap();
    assert!(new_id > max_copied, "{new_id} <= {max_copied}");

    // PostgreSQL → SQLite, the key given for the source.
    let back_dir = tempfile::tempdir().unwrap();
    let back_url = format!("sqlite://{}", back_dir.path().join("back.db").display());
    let report = run(
        &CopyOptions {
            from_url: pg_url.clone(),
            to_url: back_url.clone(),
            from_secret_key: Some(pg_key),
            to_secret_key: None,
        },
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.resealed, 5);
    let c = spawn_with(Engine::Sqlite, |s| s.database_url = back_url.clone()).await;
    c.app.hourly_tick().await.unwrap();
    c.settle_jobs().await;
    c.settle_analytics().await;
    let mut now = answers(&c).await;
    // The customer added on PostgreSQL came along.
    assert_eq!(
        now[0]["total"].as_i64().unwrap(),
        want[0]["total"].as_i64().unwrap() + 1
    );
    now[0] = answers(&a).await[0].clone();
    assert_same(&now, &want);
    let r = c
        .post("/api/v1/wecom/settings/test", &c.admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
}
