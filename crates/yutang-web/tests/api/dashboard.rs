//! The dashboard (issue #24 item 1) through the HTTP API: daily rollups followed from the
//! event log agree with the writes behind them (customers, merges, orders paid late,
//! refunds, coupons, WeCom adds and deletes), with a rebuild from scratch, and with direct
//! SQL over the base tables; each role sees its own scope; bad periods are refused.
//!
//! The apps here run without the background follower (`analytics.follow` off): each test
//! follows the log itself, so what it checks is the incremental path, not a rebuild.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::acquisition::{add, scalar};
use crate::customers::{customer_with_phone, follow};
use crate::helpers::{
    Engine, TestApp, assert_same_table, csv_download, error_of, spawn_with, xlsx_download,
};
use crate::promotions::{created_id, template};
use crate::wecom::drain;
use crate::wecom_sync::{customer, guide, with_fake_and};

both_engines!(
    dashboard_counts_what_was_written_and_compares_periods,
    followed_rollups_equal_a_rebuild_and_the_base_tables,
    each_role_sees_its_own_scope,
    bad_periods_and_scopes_are_refused,
    concurrent_writers_are_all_followed,
);

const DAY_MS: i64 = 86_400_000;

async fn app(e: Engine) -> TestApp {
    spawn_with(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
    })
    .await
}

async fn ok_json(r: reqwest::Response) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// An order of one line paid at `paid_at` (UTC millis) in `store` by `guide`: its id.
pub(crate) async fn order(
    t: &TestApp,
    ext: &str,
    customer: i64,
    fen: i64,
    paid_at: i64,
    store: Option<i64>,
    guide: Option<i64>,
) -> i64 {
    let paid = chrono::DateTime::from_timestamp_millis(paid_at)
        .unwrap()
        .to_rfc3339();
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": ext, "customer_id": customer, "channel": "store",
                "store_id": store, "guide_id": guide, "paid_at": paid,
                "lines": [{"sku": "A", "name": "苹果", "quantity": 1, "unit_price_fen": fen}]}),
        )
        .await;
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["order"]["id"].as_i64().unwrap()
}

async fn refund(t: &TestApp, order: i64, id: &str, fen: i64) {
    let r = t
        .post(
            &format!("/api/v1/orders/{order}/refunds"),
            &t.admin,
            json!({"refund_id": id, "amount_fen": fen}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
}

async fn merge(t: &TestApp, into: i64, other: i64) {
    let r = t
        .post(
            &format!("/api/v1/customers/{into}/merge"),
            &t.admin,
            json!({"other_id": other}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
}

async fn issue(t: &TestApp, template: i64, customer: i64) {
    let r = t
        .post(
            &format!("/api/v1/coupon-templates/{template}/issue"),
            &t.admin,
            json!({"customer_id": customer}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

/// The tile named `metric`.
fn tile<'a>(v: &'a Value, metric: &str) -> &'a Value {
    v["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["metric"] == metric)
        .unwrap_or_else(|| panic!("no tile {metric} in {v}"))
}

/// (total, previous) of a tile.
fn tp(v: &Value, metric: &str) -> (i64, i64) {
    let t = tile(v, metric);
    (
        t["total"].as_i64().unwrap(),
        t["previous"].as_i64().unwrap(),
    )
}

async fn dashboard_counts_what_was_written_and_compares_periods(e: Engine) {
    let t = app(e).await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let store = t.store("DB-A").await;
    let g = t.staff("db.g1", "guide", Some(store)).await;
    let a = customer_with_phone(&t, "13800000001", "甲").await;
    let b = customer_with_phone(&t, "13800000002", "乙").await;
    let c = customer_with_phone(&t, "13800000003", "丙").await;
    merge(&t, a, c).await;
    let now = t.app.now();
    // Two orders today (one refunded in part), one 40 days ago (the previous period, written
    // late), one 70 days ago (before both periods).
    let o1 = order(&t, "DB-1", a, 10_000, now, Some(store), Some(g)).await;
    order(&t, "DB-2", b, 5_000, now, None, Some(g)).await;
    order(&t, "DB-3", b, 2_500, now - 40 * DAY_MS, Some(store), None).await;
    order(&t, "DB-4", b, 700, now - 70 * DAY_MS, None, None).await;
    refund(&t, o1, "DB-R1", 3_000).await;
    // Replayed: the same refund changes nothing.
    refund(&t, o1, "DB-R1", 3_000).await;
    let tpl = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(10, 5))
            .await,
    )
    .await;
    issue(&t, tpl, a).await;
    issue(&t, tpl, b).await;
    let coupon = scalar(
        &t,
        &format!("SELECT MIN(id) FROM coupons WHERE customer_id = {a} AND template_id = {tpl}"),
    )
    .await;
    let r = t
        .post(
            &format!("/api/v1/coupons/{coupon}/redeem"),
            &t.admin,
            json!({"order_id": o1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);

    let n = t.app.analytics().follow().await.unwrap();
    assert!(n > 0);
    let v = ok_json(t.get("/api/v1/dashboard", &t.admin).await).await;
    assert_eq!(v["scope"]["level"], "brand");
    assert_eq!(v["period"]["days"].as_array().unwrap().len(), 30);
    assert_eq!(tp(&v, "pool"), (2, 0), "{v}");
    assert_eq!(tp(&v, "new_customers"), (2, 0));
    assert_eq!(tp(&v, "orders"), (2, 1));
    assert_eq!(tp(&v, "gmv_fen"), (15_000, 2_500));
    assert_eq!(tile(&v, "gmv_fen")["change_bp"], 50_000);
    assert_eq!(tp(&v, "refunded_fen"), (3_000, 0));
    assert_eq!(tp(&v, "net_gmv_fen"), (12_000, 2_500));
    assert_eq!(tile(&v, "refunded_fen")["change_bp"], Value::Null);
    assert_eq!(tp(&v, "coupons_claimed"), (2, 0));
    assert_eq!(tp(&v, "coupons_used"), (1, 0));
    assert_eq!(v["coupon_redemption_bp"], 5_000);
    // The days add up to the totals, today last.
    let days = tile(&v, "gmv_fen")["days"].as_array().unwrap();
    assert_eq!(days.last().unwrap(), 15_000);
    assert_eq!(
        days.iter().map(|d| d.as_i64().unwrap()).sum::<i64>(),
        15_000
    );
    // The store's figures follow the order's store, else the guide's.
    let s = ok_json(
        t.get(&format!("/api/v1/dashboard?store_id={store}"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(s["scope"]["level"], "store");
    assert_eq!(s["scope"]["name"], "门店 DB-A");
    assert_eq!(tp(&s, "orders"), (2, 1));
    assert_eq!(tp(&s, "gmv_fen"), (15_000, 2_500));
    assert!(
        s["tiles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["metric"] != "coupons_claimed")
    );
    let gv = ok_json(
        t.get(&format!("/api/v1/dashboard?staff_id={g}"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(tp(&gv, "orders"), (2, 0));
    assert_eq!(tp(&gv, "refunded_fen"), (3_000, 0));
    // A guide who sold without adding anyone is ranked (by GMV after adds).
    assert_eq!(gv["top_guides"][0]["staff_id"], g);
    assert_eq!(gv["top_guides"][0]["gmv_fen"], 15_000);
    assert_eq!(v["top_guides"][0]["staff_id"], g);
    // A longer period takes in the late order of 40 days ago.
    let from = chrono::DateTime::from_timestamp_millis(now - 59 * DAY_MS + 8 * 3_600_000)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let long = ok_json(
        t.get(&format!("/api/v1/dashboard?from={from}"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(tp(&long, "orders"), (3, 1));
    assert_eq!(v["freshness"]["rebuilding"], false);
    assert!(v["freshness"]["followed_at"].as_i64().is_some());

    // The CSV: a header in Chinese (English with lang=en), a row per day, the totals.
    let csv = csv_download(t.get("/api/v1/dashboard/export", &t.admin).await).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 32, "{csv}");
    assert!(lines[0].starts_with("日期,私域客户数"), "{}", lines[0]);
    assert!(lines[31].contains(",150.00,"), "{}", lines[31]);
    let csv = csv_download(t.get("/api/v1/dashboard/export?lang=en", &t.admin).await).await;
    assert!(csv.starts_with("Day,Customers in the pool"), "{csv}");
    // The same as Excel: cell for cell, the days' figures as numbers.
    let sheet = xlsx_download(
        t.get("/api/v1/dashboard/export?lang=en&format=xlsx", &t.admin)
            .await,
    )
    .await;
    assert_same_table(&csv, &sheet);
    assert!(
        matches!(sheet[31][1], calamine::Data::Float(_)),
        "{:?}",
        sheet[31]
    );
    let (s, _, f) = error_of(t.get("/api/v1/dashboard?format=xlsx", &t.admin).await).await;
    assert_eq!(
        (s, f.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("format"))
    );
    let (s, _, f) = error_of(t.get("/api/v1/dashboard/export?format=xls", &t.admin).await).await;
    assert_eq!(
        (s, f.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("format"))
    );
}

/// Random writes through the API, followed now and then; at the end the followed rollups are
/// the rows a rebuild computes, and the brand's sums are the base tables' (from scratch, in
/// SQL).
async fn followed_rollups_equal_a_rebuild_and_the_base_tables(e: Engine) {
    let t = app(e).await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let seed: u64 = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    let stores = [t.store("RP-A").await, t.store("RP-B").await];
    let guides = [
        t.staff("rp.g1", "guide", Some(stores[0])).await,
        t.staff("rp.g2", "guide", Some(stores[1])).await,
    ];
    let tpl = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(1000, 100))
            .await,
    )
    .await;
    let mut customers: Vec<i64> = Vec::new();
    let mut orders: Vec<i64> = Vec::new();
    let now = t.app.now();
    for i in 0..45 {
        match rng.gen_range(0..10) {
            0..=2 => {
                let c = customer_with_phone(&t, &format!("1370000{i:04}"), "随机").await;
                customers.push(c);
                if rng.gen_bool(0.5) {
                    follow(&t, c, guides[rng.gen_range(0..2)]).await;
                }
            }
            3..=5 if !customers.is_empty() => {
                let c = customers[rng.gen_range(0..customers.len())];
                // Paid any time in the last 90 days: late orders land on old days.
                let at = now - rng.gen_range(0..90) * DAY_MS - rng.gen_range(0..DAY_MS);
                let store = [None, Some(stores[0]), Some(stores[1])][rng.gen_range(0..3)];
                let guide = [None, Some(guides[0]), Some(guides[1])][rng.gen_range(0..3)];
                let fen = rng.gen_range(1..100_000);
                orders.push(order(&t, &format!("RP-{seed}-{i}"), c, fen, at, store, guide).await);
            }
            6 if !orders.is_empty() => {
                let o = orders[rng.gen_range(0..orders.len())];
                let left = scalar(
                    &t,
                    &format!("SELECT amount - refunded_amount FROM orders WHERE id = {o}"),
                )
                .await;
                if left > 0 {
                    let fen = rng.gen_range(1..=left);
                    refund(&t, o, &format!("RP-R-{seed}-{i}"), fen).await;
                }
            }
            7 if customers.len() >= 2 => {
                let x = customers.remove(rng.gen_range(0..customers.len()));
                let y = customers[rng.gen_range(0..customers.len())];
                merge(&t, y, x).await;
            }
            8 if !customers.is_empty() => {
                issue(&t, tpl, customers[rng.gen_range(0..customers.len())]).await;
            }
            _ => {
                t.app.analytics().follow().await.unwrap();
            }
        }
    }
    t.app.analytics().follow().await.unwrap();
    let followed = yutang_store::rollups::all_rows(&t.app.db).await.unwrap();
    assert!(!followed.is_empty(), "seed {seed}");
    t.app.analytics().rebuild_now().await.unwrap();
    let rebuilt = yutang_store::rollups::all_rows(&t.app.db).await.unwrap();
    assert_eq!(followed, rebuilt, "seed {seed}");

    // The brand's sums over every day are the base tables' own.
    let brand = |metric: &str| {
        followed
            .iter()
            .filter(|r| r.0 == "b" && r.2 == metric)
            .map(|r| r.4)
            .sum::<i64>()
    };
    let sql = [
        ("orders", "SELECT COUNT(*) FROM orders"),
        (
            "gmv_fen",
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM orders",
        ),
        (
            "refunded_fen",
            "SELECT CAST(COALESCE(SUM(refunded_amount), 0) AS BIGINT) FROM orders",
        ),
        ("coupons_claimed", "SELECT COUNT(*) FROM coupon_claims"),
        ("customers_created", "SELECT COUNT(*) FROM customers"),
        (
            "customers_merged",
            "SELECT COUNT(*) FROM customers WHERE merged_into IS NOT NULL",
        ),
    ];
    for (metric, q) in sql {
        assert_eq!(brand(metric), scalar(&t, q).await, "{metric}, seed {seed}");
    }
    // The dashboard's pool is the customers not merged away.
    let v = ok_json(t.get("/api/v1/dashboard", &t.admin).await).await;
    assert_eq!(
        tp(&v, "pool").0,
        scalar(
            &t,
            "SELECT COUNT(*) FROM customers WHERE merged_into IS NULL"
        )
        .await,
        "seed {seed}"
    );
    // Each store's orders add up with the orders of no store to the brand's.
    let store_orders: i64 = followed
        .iter()
        .filter(|r| r.0 == "s" && r.2 == "orders")
        .map(|r| r.4)
        .sum();
    assert_eq!(store_orders, brand("orders"), "seed {seed}");
}

async fn each_role_sees_its_own_scope(e: Engine) {
    let (t, fake, target) = with_fake_and(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
    })
    .await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let store_a = t.store("SC-A").await;
    let store_b = t.store("SC-B").await;
    let g1 = guide(&t, store_a, "zhangwei").await;
    let g2 = guide(&t, store_a, "wangfang").await;
    let g3 = guide(&t, store_b, "lina").await;
    t.staff("sc.manager", "store_manager", Some(store_a)).await;
    // Adds: two to g1, one to g2, one to g3; g2's customer deletes them again.
    let (x1, _) = add(&t, &fake, &target, "zhangwei", "小林", None).await;
    add(&t, &fake, &target, "zhangwei", "小周", None).await;
    let (x3, _) = add(&t, &fake, &target, "wangfang", "小吴", None).await;
    add(&t, &fake, &target, "lina", "小郑", None).await;
    let gone = fake.simulate_customer_deletes_staff("wangfang", &x3);
    assert_eq!(fake.push(&target, &gone).await.unwrap().status, 200);
    drain(&t).await;
    let c1 = customer(&t, &x1).await.unwrap();
    order(&t, "SC-1", c1, 8_800, t.app.now(), Some(store_a), Some(g1)).await;
    // Customer groups (read live): one of g1's from before the period, one of g3's today,
    // one of g1's made 10 days ago and dismissed 2 days ago.
    let now = t.app.now();
    for (chat, owner, created, dismissed) in [
        ("sc-g1", g1, now - 40 * DAY_MS, None),
        ("sc-g2", g3, now, None),
        ("sc-g3", g1, now - 10 * DAY_MS, Some(now - 2 * DAY_MS)),
    ] {
        let dismissed = dismissed.map_or("NULL".to_owned(), |d: i64| d.to_string());
        scalar(
            &t,
            &format!(
                "INSERT INTO customer_groups (chat_id, name, owner_staff_id, created_at, \
                 dismissed_at, synced_at, updated_at) \
                 VALUES ('{chat}', '群', {owner}, {created}, {dismissed}, {now}, {now}) RETURNING id"
            ),
        )
        .await;
    }
    // Joins and a leave as a mini-program would report them (events through the API): two
    // into g1's group, one into g3's; one of g1's leaves again.
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [
                {"id": "sc-j1", "kind": "join_group", "customer_id": c1, "detail": {"chat_id": "sc-g1"}},
                {"id": "sc-j2", "kind": "join_group", "customer_id": c1, "detail": {"chat_id": "sc-g3"}},
                {"id": "sc-j3", "kind": "join_group", "customer_id": c1, "detail": {"chat_id": "sc-g2"}},
                {"id": "sc-l1", "kind": "leave_group", "customer_id": c1, "detail": {"chat_id": "sc-g1"}},
            ]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    t.app.analytics().follow().await.unwrap();

    let brand = ok_json(t.get("/api/v1/dashboard", &t.admin).await).await;
    assert_eq!(tp(&brand, "group_joins"), (3, 0));
    assert_eq!(tp(&brand, "group_members"), (2, 0));
    assert_eq!(tp(&brand, "groups"), (2, 1));
    let groups = tile(&brand, "groups")["days"].as_array().unwrap().clone();
    assert_eq!(groups[29], 2);
    assert_eq!(groups[20], 2, "g1's second group was made 10 days ago");
    assert_eq!(groups[28], 1, "and dismissed 2 days ago");
    assert_eq!(tp(&brand, "contacts_added").0, 4);
    assert_eq!(tp(&brand, "contacts_lost").0, 1);
    assert_eq!(tp(&brand, "net_adds").0, 3);
    assert_eq!(brand["contacts_added"]["today"], 4);
    assert_eq!(brand["net_adds"]["last_7_days"], 3);
    let top: Vec<(i64, i64)> = brand["top_guides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["staff_id"].as_i64().unwrap(),
                g["contacts_added"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(top[0], (g1, 2));
    assert_eq!(top.len(), 3);
    assert_eq!(brand["top_guides"][0]["gmv_fen"], 8_800);

    let manager = t.login("sc.manager").await;
    let m = ok_json(t.get("/api/v1/dashboard", &manager).await).await;
    assert_eq!(m["scope"]["level"], "store");
    assert_eq!(m["scope"]["store_id"], store_a);
    assert_eq!(tp(&m, "contacts_added").0, 3);
    assert_eq!(tp(&m, "net_adds").0, 2);
    assert_eq!(tp(&m, "pool").0, 2);
    assert_eq!(tp(&m, "gmv_fen").0, 8_800);
    assert_eq!(tp(&m, "groups"), (1, 1));
    assert_eq!(tp(&m, "group_joins"), (2, 0));
    assert_eq!(tp(&m, "group_members"), (1, 0));
    let ids: Vec<i64> = m["top_guides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["staff_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![g1, g2]);
    assert!(m["top_channels"].as_array().unwrap().is_empty());
    // Their own store by id, one of their guides; not the other store, nor its guide.
    let r = t
        .get(&format!("/api/v1/dashboard?store_id={store_a}"), &manager)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let one = ok_json(
        t.get(&format!("/api/v1/dashboard?staff_id={g2}"), &manager)
            .await,
    )
    .await;
    assert_eq!(tp(&one, "net_adds").0, 0);
    assert_eq!(tp(&one, "contacts_lost").0, 1);
    for q in [format!("store_id={store_b}"), format!("staff_id={g3}")] {
        let (s, code, _) = error_of(t.get(&format!("/api/v1/dashboard?{q}"), &manager).await).await;
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{q}"
        );
    }

    let guide = t.login("g.zhangwei").await;
    let gv = ok_json(t.get("/api/v1/dashboard", &guide).await).await;
    assert_eq!(gv["scope"]["level"], "guide");
    assert_eq!(gv["scope"]["staff_id"], g1);
    assert_eq!(tp(&gv, "contacts_added").0, 2);
    assert_eq!(tp(&gv, "orders").0, 1);
    assert_eq!(tp(&gv, "groups"), (1, 1));
    let ids: Vec<i64> = gv["top_guides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["staff_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![g1]);
    for q in [format!("staff_id={g2}"), format!("store_id={store_a}")] {
        let (s, _, _) = error_of(t.get(&format!("/api/v1/dashboard?{q}"), &guide).await).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{q}");
    }
}

async fn bad_periods_and_scopes_are_refused(e: Engine) {
    let t = app(e).await;
    let cases = [
        ("from=2026-13-01", "from", "invalid_date"),
        ("to=yesterday", "to", "invalid_date"),
        ("from=2026-03-01&to=2026-02-01", "from", "invalid_period"),
        ("from=2024-01-01&to=2026-01-01", "from", "invalid_period"),
        ("store_id=1&staff_id=1", "staff_id", "conflicting_filters"),
        ("lang=fr", "lang", "invalid_lang"),
    ];
    for (q, field, code) in cases {
        let path = if field == "lang" {
            format!("/api/v1/dashboard/export?{q}")
        } else {
            format!("/api/v1/dashboard?{q}")
        };
        let (s, got, f) = error_of(t.get(&path, &t.admin).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert_eq!((got.as_str(), f.as_deref()), (code, Some(field)), "{q}");
    }
    let (s, code, _) = error_of(t.get("/api/v1/dashboard?bogus=1", &t.admin).await).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{code}");
    for q in ["store_id=999999", "staff_id=999999"] {
        let (s, _, _) = error_of(t.get(&format!("/api/v1/dashboard?{q}"), &t.admin).await).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{q}");
    }
    // Nothing was written by any of it.
    assert_eq!(
        yutang_store::rollups::all_rows(&t.app.db).await.unwrap(),
        vec![]
    );
}

/// Orders written by concurrent clients while the background follower runs (so on
/// PostgreSQL events commit out of id order around its steps): once it has caught up, every
/// order is in the rollups, as a rebuild computes them.
async fn concurrent_writers_are_all_followed(e: Engine) {
    let t = spawn_with(e, |s| s.webhooks.deliver = false).await;
    let c = customer_with_phone(&t, "13600000001", "并发").await;
    let now = t.app.now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..8_i64 {
        let (client, url, token) = (t.client.clone(), t.url("/api/v1/orders"), t.admin.clone());
        set.spawn(async move {
            for i in 0..15_i64 {
                let paid = chrono::DateTime::from_timestamp_millis(now - ((w * 15 + i) % 40) * DAY_MS)
                    .unwrap()
                    .to_rfc3339();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"external_id": format!("CW-{w}-{i}"), "customer_id": c,
                        "channel": "store", "paid_at": paid,
                        "lines": [{"sku": "A", "name": "苹果", "quantity": 1, "unit_price_fen": 100 + i}]}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    // Caught up: the follower's next step (taken after every write committed) reads the rest.
    t.app.analytics().follow().await.unwrap();
    let followed = yutang_store::rollups::all_rows(&t.app.db).await.unwrap();
    let orders: i64 = followed
        .iter()
        .filter(|r| r.0 == "b" && r.2 == "orders")
        .map(|r| r.4)
        .sum();
    assert_eq!(orders, 120);
    let gmv: i64 = followed
        .iter()
        .filter(|r| r.0 == "b" && r.2 == "gmv_fen")
        .map(|r| r.4)
        .sum();
    assert_eq!(
        gmv,
        scalar(&t, "SELECT CAST(SUM(amount) AS BIGINT) FROM orders").await
    );
    // The monthly cells too: every order counted once, as a rebuild counts them.
    let cells = yutang_store::facts::all_cells(&t.app.db).await.unwrap();
    let cell_orders: i64 = cells
        .iter()
        .filter(|r| r.0 == "m" && r.1 == "b" && r.4 == "orders")
        .map(|r| r.5)
        .sum();
    assert_eq!(cell_orders, 120);
    t.app.analytics().rebuild_now().await.unwrap();
    assert_eq!(
        followed,
        yutang_store::rollups::all_rows(&t.app.db).await.unwrap()
    );
    assert_eq!(
        cells,
        yutang_store::facts::all_cells(&t.app.db).await.unwrap()
    );
}
