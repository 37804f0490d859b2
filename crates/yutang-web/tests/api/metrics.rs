//! The retail metrics, funnels and cohorts (issue #24 items 2 and 3) through the HTTP API:
//! monthly cells followed from the event log count what was written (buyers brought into
//! the pool, first and second orders, returning buyers, refunds, shares), agree with a
//! rebuild from scratch and with SQL over the base tables on random writes, and are scoped
//! to the caller; bad months and scopes are refused.
//!
//! The apps run without the background follower: each test follows the log itself.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_core::analytics::facts::{month_bounds, month_label, month_of};

use crate::acquisition::{add, scalar};
use crate::customers::customer_with_phone;
use crate::dashboard::order;
use crate::helpers::{Engine, TestApp, assert_same_table, csv_download, error_of, xlsx_download};
use crate::wecom_sync::{customer, guide, with_fake_and};

both_engines!(
    metrics_count_what_was_written,
    followed_cells_equal_a_rebuild_and_the_base_tables,
    bad_months_and_scopes_are_refused,
);

const DAY_MS: i64 = 86_400_000;

async fn ok_json(r: reqwest::Response) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The period total of a metric line.
fn total(v: &Value, key: &str) -> Value {
    v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == key)
        .unwrap_or_else(|| panic!("no metric {key} in {v}"))["total"]
        .clone()
}

async fn events(t: &TestApp, body: Value) {
    let r = t.post("/api/v1/events", &t.admin, body).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
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

async fn metrics_count_what_was_written(e: Engine) {
    let (t, fake, target) = with_fake_and(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
    })
    .await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let store_a = t.store("MT-A").await;
    let store_b = t.store("MT-B").await;
    let g1 = guide(&t, store_a, "zhangwei").await;
    let g2 = guide(&t, store_b, "lina").await;
    t.staff("mt.manager", "store_manager", Some(store_a)).await;
    let now = t.app.now();
    let (month_start, _) = month_bounds(month_of(now));
    // Between the month's start and now: before the adds below.
    let early = month_start + (now - month_start) / 2;
    let two_months_ago = month_bounds(month_of(now) - 2).0 + DAY_MS;

    // p: a buyer at store A who never joins the pool (one more order fully refunded).
    let p = customer_with_phone(&t, "13900000001", "路人").await;
    order(&t, "MT-P1", p, 3_000, early, Some(store_a), None).await;
    let gone = order(&t, "MT-P2", p, 4_000, early, Some(store_a), None).await;
    refund(&t, gone, "MT-P2-R", 4_000).await;
    // q: bought two months ago and this month at store B: a returning buyer.
    let q = customer_with_phone(&t, "13900000002", "老客").await;
    order(&t, "MT-Q1", q, 1_000, two_months_ago, Some(store_b), None).await;
    order(&t, "MT-Q2", q, 2_000, early, Some(store_b), Some(g2)).await;
    // x1: adds guide g1 (joins the pool), bought at store A before and twice after.
    let (e1, _) = add(&t, &fake, &target, "zhangwei", "小林", None).await;
    let x1 = customer(&t, &e1).await.unwrap();
    order(&t, "MT-X0", x1, 5_000, early, Some(store_a), Some(g1)).await;
    let after = t.app.now();
    order(&t, "MT-X1", x1, 6_000, after, Some(store_a), Some(g1)).await;
    order(&t, "MT-X2", x1, 7_000, after, None, Some(g1)).await;
    // x2: adds guide g2 and joins a group, no order; shares twice.
    let (e2, _) = add(&t, &fake, &target, "lina", "小郑", None).await;
    let x2 = customer(&t, &e2).await.unwrap();
    events(
        &t,
        json!({"events": [
            {"id": "mt-j1", "kind": "join_group", "customer_id": x2, "detail": {"chat_id": "mt-g"}},
            {"id": "mt-s1", "kind": "share", "customer_id": x2},
            {"id": "mt-s2", "kind": "share", "customer_id": x2},
        ]}),
    )
    .await;
    // Replayed: nothing changes.
    events(
        &t,
        json!({"events": [{"id": "mt-s1", "kind": "share", "customer_id": x2}]}),
    )
    .await;

    let n = t.app.analytics().follow().await.unwrap();
    assert!(n > 0);
    let this = month_label(month_of(now));
    let v = ok_json(
        t.get(
            &format!("/api/v1/metrics?from={this}&to={this}&first_order_days=1"),
            &t.admin,
        )
        .await,
    )
    .await;
    assert_eq!(v["scope"]["level"], "brand");
    assert_eq!(v["months"], json!([this]));
    // Buyers this month: p, q, x1; outside the pool at the month's start: all three; brought
    // in: x1. Returning: q.
    assert_eq!(total(&v, "buyers"), 3, "{v}");
    assert_eq!(total(&v, "orders"), 5);
    assert_eq!(
        total(&v, "net_sales_fen"),
        3_000 + 2_000 + 5_000 + 6_000 + 7_000
    );
    assert_eq!(total(&v, "traffic_rate"), 3_333);
    assert_eq!(total(&v, "repurchase_rate"), 3_333);
    assert_eq!(total(&v, "purchase_frequency_milli"), 1_666);
    // The cohort of this month: x1 and x2 joined; x1 ordered within a day, twice.
    assert_eq!(total(&v, "first_order_rate"), 5_000);
    assert_eq!(total(&v, "second_order_rate"), 10_000);
    assert_eq!(total(&v, "repurchase_interval_days"), 0);
    assert_eq!(total(&v, "shares"), 2);
    let line = v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == "traffic_rate")
        .unwrap();
    assert_eq!(line["name"], "引流率");
    assert_eq!(line["healthy_bp"], 1_500);
    assert!(line["definition"].as_str().unwrap().contains("15%"));
    assert_eq!(v["funnels"][0]["by"], "brand");
    assert_eq!(
        (
            &v["funnels"][0]["joined"],
            &v["funnels"][0]["joined_group"],
            &v["funnels"][0]["first_order"],
            &v["funnels"][0]["second_order"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(1))
    );
    // By store: A (g1's) and B (g2's), one each.
    let by_store: Vec<(i64, i64)> = v["funnels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["by"] == "store")
        .map(|f| (f["id"].as_i64().unwrap(), f["joined"].as_i64().unwrap()))
        .collect();
    assert_eq!(by_store.len(), 2, "{v}");
    assert!(by_store.contains(&(store_a, 1)) && by_store.contains(&(store_b, 1)));
    assert_eq!(v["cohorts"][0]["joined"], 2);
    assert_eq!(v["cohorts"][0]["ordered"][0], 1);
    assert_eq!(v["cohorts"][0]["ordered"][1], Value::Null);
    assert_eq!(v["cohorts"][0]["kept"][0], 2);
    assert_eq!(v["cohorts"][0]["kept"][1], Value::Null);
    assert_eq!(v["cohorts"][0]["first_order_within"], 1);
    assert_eq!(v["unavailable"][0]["key"], "interaction_rate");
    // Everyone is in no tier and holds no card: one segment each, all customers.
    let live = scalar(
        &t,
        "SELECT COUNT(*) FROM customers WHERE merged_into IS NULL",
    )
    .await;
    let seg: Vec<&Value> = v["segments"].as_array().unwrap().iter().collect();
    assert_eq!(seg.len(), 2, "{v}");
    assert!(
        seg.iter()
            .all(|s| s["customers"] == live && s["buyers"] == 3)
    );
    // Stores: A's buyers p and x1 (x1's order without a store counts for g1's store A).
    let a = v["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == store_a)
        .unwrap();
    assert_eq!((&a["buyers"], &a["orders"]), (&json!(2), &json!(4)));
    assert_eq!(a["traffic_rate_bp"], 5_000);

    // Two months: q's earlier order is in, the rates pool the months.
    let from = month_label(month_of(now) - 2);
    let w = ok_json(
        t.get(&format!("/api/v1/metrics?from={from}&lang=en"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(w["months"].as_array().unwrap().len(), 3);
    assert_eq!(total(&w, "buyers"), 4);
    assert_eq!(total(&w, "repurchase_rate"), 2_500);
    let line = &w["metrics"][0];
    assert_eq!(line["name"], "Traffic-to-pool rate");

    // The store manager sees store A; a guide sees themselves.
    let manager = t.login("mt.manager").await;
    let s = ok_json(t.get("/api/v1/metrics?first_order_days=1", &manager).await).await;
    assert_eq!(s["scope"]["level"], "store");
    assert_eq!(s["scope"]["store_id"], store_a);
    assert_eq!(total(&s, "buyers"), 2);
    assert_eq!(total(&s, "first_order_rate"), 10_000);
    assert!(s["segments"].as_array().unwrap().is_empty());
    assert!(
        s["stores"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["id"] == store_a)
    );
    assert!(
        s["guides"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["id"] == g1)
    );
    assert!(
        s["funnels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["by"] == "store" || f["id"] == g1),
        "{s}"
    );
    // Shares are the brand's only.
    assert!(
        s["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["key"] != "shares")
    );
    let guide_token = t.login("g.lina").await;
    let g = ok_json(t.get("/api/v1/metrics", &guide_token).await).await;
    assert_eq!(g["scope"]["level"], "guide");
    assert_eq!(g["scope"]["staff_id"], g2);
    assert_eq!(total(&g, "buyers"), 1);
    assert_eq!(g["funnels"][0]["joined_group"], 1);
    assert!(g["stores"].as_array().unwrap().is_empty());

    // CSV of each table.
    let csv = csv_download(t.get("/api/v1/metrics/export", &t.admin).await).await;
    assert!(csv.starts_with("指标,合计,"), "{csv}");
    assert!(csv.contains("引流率,"), "{csv}");
    let csv = csv_download(
        t.get(
            &format!("/api/v1/metrics/export?table=stores&lang=en&from={this}"),
            &t.admin,
        )
        .await,
    )
    .await;
    assert!(csv.starts_with("ID,Name,Buyers"), "{csv}");
    assert!(csv.contains(",50.00%,"), "{csv}");
    for table in ["funnels", "cohorts", "segments", "guides"] {
        let csv = csv_download(
            t.get(&format!("/api/v1/metrics/export?table={table}"), &t.admin)
                .await,
        )
        .await;
        assert!(csv.lines().count() >= 2, "{table}: {csv}");
    }
    // Each table as Excel holds what its CSV holds, figures as numbers.
    for table in [
        "metrics", "funnels", "cohorts", "segments", "stores", "guides",
    ] {
        let q = format!("/api/v1/metrics/export?table={table}&lang=en&from={this}");
        let csv = csv_download(t.get(&q, &t.admin).await).await;
        let sheet = xlsx_download(t.get(&format!("{q}&format=xlsx"), &t.admin).await).await;
        assert_same_table(&csv, &sheet);
    }
    let stores = xlsx_download(
        t.get(
            &format!("/api/v1/metrics/export?table=stores&from={this}&format=xlsx"),
            &t.admin,
        )
        .await,
    )
    .await;
    assert!(
        stores[1..]
            .iter()
            .any(|r| r.iter().any(|d| matches!(d, calamine::Data::Float(_)))),
        "figures are number cells: {stores:?}"
    );

    // x2 deletes their guide: the cohort keeps one contact of two.
    let gone = fake.simulate_customer_deletes_staff("lina", &e2);
    assert_eq!(fake.push(&target, &gone).await.unwrap().status, 200);
    crate::wecom::drain(&t).await;
    t.app.analytics().follow().await.unwrap();
    let v = ok_json(
        t.get(&format!("/api/v1/metrics?from={this}&to={this}"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(v["cohorts"][0]["joined"], 2);
    assert_eq!(v["cohorts"][0]["kept"][0], 1, "{}", v["cohorts"]);

    // A rebuild computes the same cells.
    let followed = yutang_store::facts::all_cells(&t.app.db).await.unwrap();
    t.app.analytics().rebuild_now().await.unwrap();
    let rebuilt = yutang_store::facts::all_cells(&t.app.db).await.unwrap();
    assert_eq!(followed, rebuilt);
}

/// Random writes through the API (customers, WeCom adds, orders paid up to 120 days back,
/// refunds, merges, group joins, shares), followed now and then: the cells are what a
/// rebuild computes, and the brand's monthly orders and net sales are the base tables'.
async fn followed_cells_equal_a_rebuild_and_the_base_tables(e: Engine) {
    let (t, fake, target) = with_fake_and(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
    })
    .await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let seed: u64 = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    let stores = [t.store("MP-A").await, t.store("MP-B").await];
    let guides = [
        guide(&t, stores[0], "mp1").await,
        guide(&t, stores[1], "mp2").await,
    ];
    let mut customers: Vec<i64> = Vec::new();
    let mut orders: Vec<i64> = Vec::new();
    let mut wecom: Vec<(&str, String)> = Vec::new();
    let now = t.app.now();
    for i in 0..50 {
        match rng.gen_range(0..13) {
            0..=1 => {
                customers.push(customer_with_phone(&t, &format!("1360000{i:04}"), "随机").await);
            }
            2 => {
                let userid = ["mp1", "mp2"][rng.gen_range(0..2)];
                let (x, _) = add(&t, &fake, &target, userid, "随机", None).await;
                customers.push(customer(&t, &x).await.unwrap());
                wecom.push((userid, x));
            }
            3..=5 if !customers.is_empty() => {
                let c = customers[rng.gen_range(0..customers.len())];
                let at = now - rng.gen_range(0..120) * DAY_MS - rng.gen_range(0..DAY_MS);
                let store = [None, Some(stores[0]), Some(stores[1])][rng.gen_range(0..3)];
                let g = [None, Some(guides[0]), Some(guides[1])][rng.gen_range(0..3)];
                let fen = rng.gen_range(1..50_000);
                orders.push(order(&t, &format!("MP-{seed}-{i}"), c, fen, at, store, g).await);
            }
            6 if !orders.is_empty() => {
                let o = orders[rng.gen_range(0..orders.len())];
                let left = scalar(
                    &t,
                    &format!("SELECT amount - refunded_amount FROM orders WHERE id = {o}"),
                )
                .await;
                if left > 0 {
                    // Now and then the whole rest: the order drops out of the facts.
                    let fen = if rng.gen_bool(0.5) {
                        left
                    } else {
                        rng.gen_range(1..=left)
                    };
                    refund(&t, o, &format!("MP-R-{seed}-{i}"), fen).await;
                }
            }
            7 if customers.len() >= 2 => {
                let x = customers.remove(rng.gen_range(0..customers.len()));
                let y = customers[rng.gen_range(0..customers.len())];
                let r = t
                    .post(
                        &format!("/api/v1/customers/{y}/merge"),
                        &t.admin,
                        json!({"other_id": x}),
                    )
                    .await;
                if r.status() == StatusCode::CONFLICT {
                    // Two WeCom contacts are two people: the merge is refused, nothing moves.
                    let (_, code, _) = error_of(r).await;
                    assert_eq!(code, "identity_conflict");
                    customers.push(x);
                } else {
                    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
                }
            }
            9 if !wecom.is_empty() => {
                let (userid, x) = wecom.swap_remove(rng.gen_range(0..wecom.len()));
                let gone = fake.simulate_customer_deletes_staff(userid, &x);
                assert_eq!(fake.push(&target, &gone).await.unwrap().status, 200);
                crate::wecom::drain(&t).await;
            }
            8 if !customers.is_empty() => {
                let c = customers[rng.gen_range(0..customers.len())];
                let kind = ["join_group", "share"][rng.gen_range(0..2)];
                events(
                    &t,
                    json!({"events": [{"id": format!("mp-{seed}-{i}"), "kind": kind,
                        "customer_id": c, "detail": {"chat_id": "mp-g"}}]}),
                )
                .await;
            }
            _ => {
                t.app.analytics().follow().await.unwrap();
            }
        }
    }
    t.app.analytics().follow().await.unwrap();
    let followed = yutang_store::facts::all_cells(&t.app.db).await.unwrap();
    assert!(!followed.is_empty(), "seed {seed}");
    t.app.analytics().rebuild_now().await.unwrap();
    let rebuilt = yutang_store::facts::all_cells(&t.app.db).await.unwrap();
    assert_eq!(followed, rebuilt, "seed {seed}");

    // The brand's orders and net sales over all months are the base tables' (orders not
    // fully refunded, of customers not merged away — merges move orders to the survivor).
    let brand = |cell: &str| {
        followed
            .iter()
            .filter(|r| r.0 == "m" && r.1 == "b" && r.4 == cell)
            .map(|r| r.5)
            .sum::<i64>()
    };
    assert_eq!(
        brand("orders"),
        scalar(
            &t,
            "SELECT COUNT(*) FROM orders WHERE amount > refunded_amount"
        )
        .await,
        "seed {seed}"
    );
    assert_eq!(
        brand("net_fen"),
        scalar(
            &t,
            "SELECT CAST(COALESCE(SUM(amount - refunded_amount), 0) AS BIGINT) FROM orders"
        )
        .await,
        "seed {seed}"
    );
    assert_eq!(
        brand("shares"),
        scalar(&t, "SELECT COUNT(*) FROM events WHERE kind = 'share'").await,
        "seed {seed}"
    );
    // Customers counted once each, joined ones once in a cohort.
    let level: i64 = followed
        .iter()
        .filter(|r| r.0 == "l" && r.1 == "b")
        .map(|r| r.5)
        .sum();
    assert_eq!(
        level,
        scalar(
            &t,
            "SELECT COUNT(*) FROM customers WHERE merged_into IS NULL"
        )
        .await,
        "seed {seed}"
    );
    let joined: i64 = followed
        .iter()
        .filter(|r| r.0 == "a" && r.1 == "b" && r.4 == "joined")
        .map(|r| r.5)
        .sum();
    assert_eq!(
        joined,
        scalar(
            &t,
            "SELECT COUNT(*) FROM customer_acquisition a JOIN customers c ON c.id = a.customer_id \
             WHERE c.merged_into IS NULL"
        )
        .await,
        "seed {seed}"
    );
}

async fn bad_months_and_scopes_are_refused(e: Engine) {
    let (t, _fake, _target) = with_fake_and(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
    })
    .await;
    let store_a = t.store("MB-A").await;
    let store_b = t.store("MB-B").await;
    let g_b = guide(&t, store_b, "mbg").await;
    t.staff("mb.manager", "store_manager", Some(store_a)).await;
    for (q, field, code) in [
        ("from=2026-13", "from", "invalid_month"),
        ("to=26-01", "to", "invalid_month"),
        ("from=2026-05&to=2026-04", "from", "invalid_month_range"),
        ("from=2024-01&to=2026-01", "from", "invalid_month_range"),
        ("first_order_days=5", "first_order_days", "invalid_count"),
        ("table=metrics", "table", "invalid_query"),
        ("format=xlsx", "format", "invalid_query"),
        ("colour=red", "colour", "invalid_query"),
        ("lang=fr", "lang", "invalid_lang"),
    ] {
        let (s, c, f) = error_of(t.get(&format!("/api/v1/metrics?{q}"), &t.admin).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert_eq!((c.as_str(), f.as_deref()), (code, Some(field)), "{q}");
    }
    let (s, c, _) = error_of(t.get("/api/v1/metrics/export?table=orders", &t.admin).await).await;
    assert_eq!(
        (s, c.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_query")
    );
    let (s, c, f) = error_of(t.get("/api/v1/metrics/export?format=pdf", &t.admin).await).await;
    assert_eq!(
        (s, c.as_str(), f.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            Some("format")
        )
    );
    let (s, c, _) = error_of(
        t.get(
            &format!("/api/v1/metrics?store_id={store_a}&staff_id={g_b}"),
            &t.admin,
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, c.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "conflicting_filters")
    );
    let (s, _, _) = error_of(t.get("/api/v1/metrics?store_id=999999", &t.admin).await).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let manager = t.login("mb.manager").await;
    for q in [format!("store_id={store_b}"), format!("staff_id={g_b}")] {
        let (s, c, _) = error_of(t.get(&format!("/api/v1/metrics?{q}"), &manager).await).await;
        assert_eq!((s, c.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{q}");
        let (s, _, _) = error_of(
            t.get(&format!("/api/v1/metrics/export?{q}"), &manager)
                .await,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{q}");
    }
    let guide_token = t.login("g.mbg").await;
    let (s, _, _) = error_of(
        t.get(&format!("/api/v1/metrics?store_id={store_b}"), &guide_token)
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
