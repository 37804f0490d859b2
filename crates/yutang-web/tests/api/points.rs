//! The points ledger (issue #22 item 3) through the HTTP API on both engines: orders earn,
//! refunds take back their share (what was spent is owed and settled from the next credit),
//! redemptions are idempotent and never overdraw — also from 50 concurrent clients — lots
//! expire once, oldest first, merges move lots with their expiry, and the books balance.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::customers::customer_with_phone;
use crate::helpers::{Engine, TestApp, error_of, spawn_app};
use crate::promotions::token;

both_engines!(
    orders_earn_and_refunds_take_back_their_share,
    redemptions_are_idempotent_and_cancel_restores_the_lots,
    concurrent_redemptions_spend_a_balance_exactly_once,
    lots_expire_once_soonest_first,
    merges_move_points_with_their_expiry,
    bad_input_is_refused_naming_the_field,
    every_sequence_keeps_the_books_balanced,
    the_tier_held_when_an_order_is_recorded_multiplies_its_points,
    the_demo_pool_earns_its_orders_points_and_the_books_balance,
    batch_earnings_post_once_each_with_their_own_outcome,
);

async fn ok_json(r: reqwest::Response) -> Value {
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(s.is_success(), "{s}: {v}");
    v
}

async fn balance(t: &TestApp, c: i64) -> i64 {
    ok_json(
        t.get(&format!("/api/v1/customers/{c}/points"), &t.admin)
            .await,
    )
    .await["balance"]
        .as_i64()
        .unwrap()
}

async fn account(t: &TestApp, c: i64) -> Value {
    ok_json(
        t.get(&format!("/api/v1/customers/{c}/points"), &t.admin)
            .await,
    )
    .await
}

async fn books_balanced(t: &TestApp) -> Value {
    let v = ok_json(t.get("/api/v1/points/liability", &t.admin).await).await;
    assert_eq!(v["balanced"], json!(true), "{v}");
    let sum: i64 = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["balance"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 0, "{v}");
    v
}

async fn order(t: &TestApp, c: i64, ext: &str, fen: i64) -> i64 {
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": ext, "customer_id": c, "channel": "mini_program",
                   "lines": [{"sku": "CHERRY", "name": "车厘子", "quantity": 1, "unit_price_fen": fen}]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    r.json::<Value>().await.unwrap()["order"]["id"]
        .as_i64()
        .unwrap()
}

async fn refund(t: &TestApp, order: i64, id: &str, fen: i64) -> StatusCode {
    t.post(
        &format!("/api/v1/orders/{order}/refunds"),
        &t.admin,
        json!({"refund_id": id, "amount_fen": fen}),
    )
    .await
    .status()
}

async fn keyed(
    t: &TestApp,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut r = t.req(Method::POST, path, Some(token)).json(&body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    r.send().await.unwrap()
}

async fn grant(t: &TestApp, c: i64, points: i64, key: &str) -> Value {
    let r = keyed(
        t,
        &format!("/api/v1/customers/{c}/points/adjustments"),
        &t.admin,
        Some(key),
        json!({"kind": "grant", "points": points, "reason": "开业补偿"}),
    )
    .await;
    ok_json(r).await
}

async fn redeem(t: &TestApp, c: i64, points: i64, key: &str) -> reqwest::Response {
    keyed(
        t,
        &format!("/api/v1/customers/{c}/points/redemptions"),
        &t.admin,
        Some(key),
        json!({"points": points, "order_ref": "POS-1"}),
    )
    .await
}

async fn kinds(t: &TestApp, c: i64) -> Vec<(String, i64, i64)> {
    let v = ok_json(
        t.get(
            &format!("/api/v1/customers/{c}/points/entries?limit=200"),
            &t.admin,
        )
        .await,
    )
    .await;
    let mut out: Vec<(String, i64, i64)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["amount"].as_i64().unwrap(),
                e["balance_after"].as_i64().unwrap(),
            )
        })
        .collect();
    out.reverse();
    out
}

async fn orders_earn_and_refunds_take_back_their_share(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000001", "积分顾客").await;
    // 129.90 CNY at 1 point per CNY: 129 points (rounded down).
    let o = order(&t, c, "P-1", 12_990).await;
    assert_eq!(balance(&t, c).await, 129);
    // Replaying the order earns nothing more.
    order(&t, c, "P-1", 12_990).await;
    assert_eq!(balance(&t, c).await, 129);
    // A partial refund of 30 CNY takes back floor(129 × 3000 / 12990) = 29.
    assert_eq!(refund(&t, o, "R-1", 3000).await, StatusCode::OK);
    assert_eq!(balance(&t, c).await, 100);
    assert_eq!(refund(&t, o, "R-1", 3000).await, StatusCode::OK);
    assert_eq!(balance(&t, c).await, 100, "a replayed refund takes nothing");
    // The rest of the order: everything it earned is back.
    assert_eq!(refund(&t, o, "R-2", 9990).await, StatusCode::OK);
    assert_eq!(balance(&t, c).await, 0);
    assert_eq!(
        kinds(&t, c).await,
        vec![
            ("earn".into(), 129, 129),
            ("reverse".into(), 29, 100),
            ("reverse".into(), 100, 0)
        ]
    );
    // Spent points are owed, and the next earning settles them first.
    let o2 = order(&t, c, "P-2", 10_000).await;
    assert_eq!(
        redeem(&t, c, 100, "spend-1").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(refund(&t, o2, "R-3", 10_000).await, StatusCode::OK);
    let a = account(&t, c).await;
    assert_eq!(
        (a["balance"].as_i64(), a["owed"].as_i64()),
        (Some(0), Some(100))
    );
    order(&t, c, "P-3", 5_000).await;
    let a = account(&t, c).await;
    assert_eq!(
        (a["balance"].as_i64(), a["owed"].as_i64()),
        (Some(0), Some(50))
    );
    order(&t, c, "P-4", 8_000).await;
    let a = account(&t, c).await;
    assert_eq!(
        (a["balance"].as_i64(), a["owed"].as_i64()),
        (Some(30), Some(0))
    );
    let last = kinds(&t, c).await;
    assert_eq!(
        last[last.len() - 2..],
        [("earn".into(), 80, 80), ("settle".into(), 50, 30)]
    );
    // Every entry traces to its source.
    let v = ok_json(
        t.get(&format!("/api/v1/customers/{c}/points/entries"), &t.admin)
            .await,
    )
    .await;
    for e in v["items"].as_array().unwrap() {
        assert!(!e["source_type"].as_str().unwrap().is_empty(), "{e}");
    }
    let l = books_balanced(&t).await;
    assert_eq!(l["outstanding"], json!(30));
}

async fn redemptions_are_idempotent_and_cancel_restores_the_lots(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000002", "兑换顾客").await;
    grant(&t, c, 300, "g-1").await;
    // A grant replayed with its key is the same entry; with another body it is refused.
    let again = keyed(
        &t,
        &format!("/api/v1/customers/{c}/points/adjustments"),
        &t.admin,
        Some("g-1"),
        json!({"kind": "grant", "points": 300, "reason": "开业补偿"}),
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    let other = keyed(
        &t,
        &format!("/api/v1/customers/{c}/points/adjustments"),
        &t.admin,
        Some("g-1"),
        json!({"kind": "grant", "points": 301, "reason": "开业补偿"}),
    )
    .await;
    assert_eq!(
        error_of(other).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused".into(),
            Some("Idempotency-Key".into())
        )
    );
    assert_eq!(balance(&t, c).await, 300);
    // A redemption without a key is refused; with one it is made once.
    let r = keyed(
        &t,
        &format!("/api/v1/customers/{c}/points/redemptions"),
        &t.admin,
        None,
        json!({"points": 100}),
    )
    .await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "required".into(),
            Some("Idempotency-Key".into())
        )
    );
    let first = ok_json(redeem(&t, c, 150, "pos-1").await).await;
    assert_eq!(
        (first["value_fen"].as_i64(), first["status"].as_str()),
        (Some(150), Some("applied"))
    );
    let replay = redeem(&t, c, 150, "pos-1").await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(ok_json(replay).await["id"], first["id"]);
    assert_eq!(balance(&t, c).await, 150);
    // Above the balance: refused, nothing written.
    assert_eq!(
        error_of(redeem(&t, c, 151, "pos-2").await).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "insufficient_points".into(),
            Some("points".into())
        )
    );
    assert_eq!(balance(&t, c).await, 150);
    // Cancelling gives the points back once.
    let id = first["id"].as_i64().unwrap();
    let path = format!("/api/v1/points/redemptions/{id}/cancel");
    let r = t.post(&path, &t.admin, json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(ok_json(r).await["status"], json!("cancelled"));
    let r = t.post(&path, &t.admin, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(balance(&t, c).await, 300);
    // The customer redeems their own points from the mini-program, and sees their ledger.
    let tok = token(&t, c).await;
    let own = keyed(
        &t,
        "/api/v1/public/me/points/redemptions",
        &tok,
        Some("mp-1"),
        json!({"points": 200, "order_ref": "MP-9", "order_amount_fen": 1000}),
    )
    .await;
    assert_eq!(own.status(), StatusCode::CREATED);
    let mine = ok_json(t.get("/api/v1/public/me/points", &tok).await).await;
    assert_eq!(
        (mine["balance"].as_i64(), mine["value_fen"].as_i64()),
        (Some(100), Some(100))
    );
    let hist = ok_json(
        t.get("/api/v1/public/me/points/entries?limit=2", &tok)
            .await,
    )
    .await;
    assert_eq!(hist["items"].as_array().unwrap().len(), 2);
    let older = hist["next_before"].as_i64().unwrap();
    let hist2 = ok_json(
        t.get(
            &format!("/api/v1/public/me/points/entries?before={older}"),
            &tok,
        )
        .await,
    )
    .await;
    assert_eq!(hist2["items"].as_array().unwrap().len(), 2);
    assert_eq!(hist2["next_before"], Value::Null);
    // The brand's cap on the share of an order points may pay, and whole fen only.
    let r = keyed(
        &t,
        &format!("/api/v1/customers/{c}/points/redemptions"),
        &t.admin,
        Some("pos-3"),
        json!({"points": 60, "order_amount_fen": 100}),
    )
    .await;
    assert!(r.status().is_success());
    let put = t
        .send_json(
            Method::PUT,
            "/api/v1/points/settings",
            &t.admin,
            json!({"earn_points_per_yuan": 2, "redeem_points_per_yuan": 1000,
                   "expiry": {"rule": "days", "days": 30}, "max_redeem_percent": 50}),
        )
        .await;
    assert_eq!(put.status(), StatusCode::OK);
    let r = redeem(&t, c, 15, "pos-4").await;
    assert_eq!(error_of(r).await.1, "fractional_value");
    let r = keyed(
        &t,
        &format!("/api/v1/customers/{c}/points/redemptions"),
        &t.admin,
        Some("pos-5"),
        json!({"points": 20, "order_amount_fen": 3}),
    )
    .await;
    assert_eq!(error_of(r).await.1, "over_redeem_share");
    assert!(
        t.audit_actions()
            .await
            .contains(&"points_changed".to_owned())
    );
    books_balanced(&t).await;
}

async fn concurrent_redemptions_spend_a_balance_exactly_once(e: Engine) {
    let t = Arc::new(spawn_app(e).await);
    let c = customer_with_phone(&t, "13800000003", "并发顾客").await;
    grant(&t, c, 1000, "g-c").await;
    // 50 clients, 100 points each, distinct keys: exactly 10 succeed.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            redeem(&t, c, 100, &format!("c-{i}")).await.status()
        }));
    }
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for h in tasks {
        *by_status.entry(h.await.unwrap().as_u16()).or_default() += 1;
    }
    assert_eq!(by_status.get(&201), Some(&10), "{by_status:?}");
    assert_eq!(by_status.get(&422), Some(&40), "{by_status:?}");
    assert_eq!(balance(&t, c).await, 0);
    // 20 clients with ONE key: one redemption, the rest answer it (or are told it is in
    // progress), never a second spend.
    grant(&t, c, 500, "g-d").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            redeem(&t, c, 100, "same-key").await.status().as_u16()
        }));
    }
    let mut created = 0;
    for h in tasks {
        let s = h.await.unwrap();
        assert!([200, 201, 409].contains(&s), "{s}");
        created += usize::from(s == 201);
    }
    assert_eq!(created, 1);
    assert_eq!(balance(&t, c).await, 400);
    books_balanced(&t).await;
}

async fn lots_expire_once_soonest_first(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000004", "过期顾客").await;
    grant(&t, c, 100, "lot-1").await;
    grant(&t, c, 50, "lot-2").await;
    // Make the second lot the soonest to expire, and past due.
    t.exec("UPDATE points_lots SET expires_at = 1000 WHERE amount = 50")
        .await;
    // A redemption takes the soonest-expiring lot first: 30 of the 50.
    assert_eq!(redeem(&t, c, 30, "r-1").await.status(), StatusCode::CREATED);
    let a = account(&t, c).await;
    assert_eq!(a["expiring"][0]["points"], json!(20), "{a}");
    let r = t
        .post("/api/v1/points/expiry-runs", &t.admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    t.settle_jobs().await;
    let a = account(&t, c).await;
    assert_eq!(
        (a["balance"].as_i64(), a["expired"].as_i64()),
        (Some(100), Some(20))
    );
    // Another run (as after a crash) expires nothing twice.
    t.exec("UPDATE jobs SET idempotency_key = NULL WHERE kind = 'points_expiry'")
        .await;
    t.post("/api/v1/points/expiry-runs", &t.admin, json!({}))
        .await;
    t.settle_jobs().await;
    assert_eq!(balance(&t, c).await, 100);
    let k = kinds(&t, c).await;
    assert_eq!(k.iter().filter(|e| e.0 == "expire").count(), 1, "{k:?}");
    let l = books_balanced(&t).await;
    let expired = l["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == "expired")
        .unwrap()["balance"]
        .as_i64();
    assert_eq!(expired, Some(20));
}

async fn merges_move_points_with_their_expiry(e: Engine) {
    let t = spawn_app(e).await;
    let a = customer_with_phone(&t, "13800000005", "甲").await;
    let b = customer_with_phone(&t, "13800000006", "乙").await;
    grant(&t, a, 70, "m-1").await;
    grant(&t, b, 30, "m-2").await;
    t.exec("UPDATE points_lots SET expires_at = 4102444800000 WHERE amount = 30")
        .await;
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/merge"),
            &t.admin,
            json!({"other_id": b, "force": true}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let v = account(&t, a).await;
    assert_eq!(v["balance"], json!(100));
    let expiries: Vec<i64> = v["expiring"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["expires_at"].as_i64())
        .collect();
    assert!(expiries.contains(&4_102_444_800_000), "{v}");
    books_balanced(&t).await;
}

async fn bad_input_is_refused_naming_the_field(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000007", "坏输入").await;
    let adj = format!("/api/v1/customers/{c}/points/adjustments");
    for (body, code, field) in [
        (
            json!({"kind": "grant", "points": -5, "reason": "x"}),
            "invalid_points",
            "points",
        ),
        (
            json!({"kind": "grant", "points": 0, "reason": "x"}),
            "invalid_points",
            "points",
        ),
        (
            json!({"kind": "grant", "points": 5, "reason": ""}),
            "required",
            "reason",
        ),
        (
            json!({"kind": "grant", "points": 5, "reason": "a\u{7}b"}),
            "invalid_characters",
            "reason",
        ),
    ] {
        let r = keyed(&t, &adj, &t.admin, Some("bad"), body.clone()).await;
        let (s, got, f) = error_of(r).await;
        assert_eq!(
            (s, got.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field)),
            "{body}"
        );
    }
    // Fractional points and unknown fields are refused by the strict JSON reader.
    for body in [
        json!({"kind": "grant", "points": 1.5, "reason": "x"}),
        json!({"kind": "grant", "points": 5, "reason": "x", "extra": 1}),
    ] {
        let r = keyed(&t, &adj, &t.admin, Some("bad2"), body).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // A grant without a key.
    let r = keyed(
        &t,
        &adj,
        &t.admin,
        None,
        json!({"kind": "grant", "points": 5, "reason": "x"}),
    )
    .await;
    assert_eq!(error_of(r).await.2.as_deref(), Some("Idempotency-Key"));
    // Settings: every field checked.
    for (body, field) in [
        (
            json!({"earn_points_per_yuan": -1, "redeem_points_per_yuan": 100, "expiry": {"rule": "never"}, "max_redeem_percent": 100}),
            "earn_points_per_yuan",
        ),
        (
            json!({"earn_points_per_yuan": 1, "redeem_points_per_yuan": 0, "expiry": {"rule": "never"}, "max_redeem_percent": 100}),
            "redeem_points_per_yuan",
        ),
        (
            json!({"earn_points_per_yuan": 1, "redeem_points_per_yuan": 100, "expiry": {"rule": "days", "days": 0}, "max_redeem_percent": 100}),
            "expiry.days",
        ),
        (
            json!({"earn_points_per_yuan": 1, "redeem_points_per_yuan": 100, "expiry": {"rule": "never"}, "max_redeem_percent": 0}),
            "max_redeem_percent",
        ),
    ] {
        let r = t
            .send_json(Method::PUT, "/api/v1/points/settings", &t.admin, body)
            .await;
        let (s, _, f) = error_of(r).await;
        assert_eq!(
            (s, f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field))
        );
    }
    // A redemption of negative points; an earning with a control character in its id.
    let r = redeem(&t, c, -1, "neg").await;
    assert_eq!(error_of(r).await.1, "invalid_points");
    let r = t
        .post(
            &format!("/api/v1/customers/{c}/points/earnings"),
            &t.admin,
            json!({"points": 5, "source_type": "checkin", "source_id": "d\u{0}1"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was written by any of it.
    assert_eq!(balance(&t, c).await, 0);
    let l = books_balanced(&t).await;
    assert_eq!(l["entries"], json!(0));
    // A check-in earning is made once per source.
    let path = format!("/api/v1/customers/{c}/points/earnings");
    let body = json!({"points": 5, "source_type": "checkin", "source_id": "2026-12-05"});
    assert_eq!(
        t.post(&path, &t.admin, body.clone()).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(t.post(&path, &t.admin, body).await.status(), StatusCode::OK);
    assert_eq!(balance(&t, c).await, 5);
}

/// One step of a generated sequence.
#[derive(Debug, Clone)]
enum Op {
    Order(i64),
    Refund(usize, i64),
    Grant(i64),
    Deduct(i64),
    Redeem(i64),
    Cancel(usize),
    Expire(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (100i64..50_000).prop_map(Op::Order),
        (0usize..8, 1i64..30_000).prop_map(|(i, f)| Op::Refund(i, f)),
        (1i64..500).prop_map(Op::Grant),
        (1i64..300).prop_map(Op::Deduct),
        (1i64..300).prop_map(Op::Redeem),
        (0usize..8).prop_map(Op::Cancel),
        (0usize..8).prop_map(Op::Expire),
    ]
}

/// Every generated sequence of earn / refund / grant / deduct / redeem / cancel / expire,
/// each step sent twice (the second a replay), keeps: the sum of all accounts at zero, no
/// balance below zero, the stored balance equal to the ledger's, and a replay changing
/// nothing.
async fn every_sequence_keeps_the_books_balanced(e: Engine) {
    let t = Arc::new(spawn_app(e).await);
    let rt = tokio::runtime::Handle::current();
    let cases = if e == Engine::Postgres { 12 } else { 24 };
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let result = tokio::task::block_in_place(|| {
        runner.run(&proptest::collection::vec(op(), 1..14), |ops| {
            let t = t.clone();
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            rt.block_on(async move { run_sequence(&t, n, &ops).await });
            Ok(())
        })
    });
    result.unwrap();
}

async fn run_sequence(t: &TestApp, n: u64, ops: &[Op]) {
    let c = customer_with_phone(t, &format!("137{n:08}"), "性质").await;
    let mut orders: Vec<(i64, i64)> = Vec::new();
    let mut redemptions: Vec<i64> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        for replay in [false, true] {
            let before = balance(t, c).await;
            match op {
                Op::Order(fen) => {
                    let id = order(t, c, &format!("S{n}-{i}"), *fen).await;
                    if !replay {
                        orders.push((id, *fen));
                    }
                }
                Op::Refund(k, fen) => {
                    if let Some((id, amount)) = orders.get(k % orders.len().max(1)) {
                        let s = refund(t, *id, &format!("S{n}-R{i}"), (*fen).min(*amount)).await;
                        assert!(
                            s.is_success() || s == StatusCode::UNPROCESSABLE_ENTITY,
                            "{s}"
                        );
                    }
                }
                Op::Grant(p) => {
                    grant(t, c, *p, &format!("S{n}-G{i}")).await;
                }
                Op::Deduct(p) => {
                    let r = keyed(
                        t,
                        &format!("/api/v1/customers/{c}/points/adjustments"),
                        &t.admin,
                        Some(&format!("S{n}-D{i}")),
                        json!({"kind": "deduct", "points": p, "reason": "核对"}),
                    )
                    .await;
                    assert!(
                        r.status().is_success() || r.status() == StatusCode::UNPROCESSABLE_ENTITY
                    );
                }
                Op::Redeem(p) => {
                    let r = redeem(t, c, *p, &format!("S{n}-X{i}")).await;
                    if r.status() == StatusCode::CREATED {
                        redemptions.push(ok_json(r).await["id"].as_i64().unwrap());
                    } else {
                        assert!(
                            r.status().is_success()
                                || r.status() == StatusCode::UNPROCESSABLE_ENTITY
                        );
                    }
                }
                Op::Cancel(k) => {
                    if let Some(id) = redemptions.get(k % redemptions.len().max(1)) {
                        let r = t
                            .post(
                                &format!("/api/v1/points/redemptions/{id}/cancel"),
                                &t.admin,
                                json!({}),
                            )
                            .await;
                        assert!(r.status().is_success());
                    }
                }
                Op::Expire(k) => {
                    // Make one open lot of this customer due, then run the expiry.
                    if !replay {
                        let sql = format!(
                            "UPDATE points_lots SET expires_at = 1000 WHERE id = (SELECT id FROM points_lots \
                             WHERE customer_id = {c} AND remaining > 0 ORDER BY id LIMIT 1 OFFSET {})",
                            k % 3
                        );
                        run_sql(t, &sql).await;
                    }
                    t.app.points().run_expiry(0).await.unwrap();
                }
            }
            let a = account(t, c).await;
            assert!(a["balance"].as_i64().unwrap() >= 0);
            if replay && !matches!(op, Op::Expire(_)) {
                assert_eq!(
                    balance(t, c).await,
                    before,
                    "replaying {op:?} changed the balance"
                );
            }
        }
    }
    // The ledger's running balance ends at the stored balance, and the books balance.
    let k = kinds(t, c).await;
    assert_eq!(k.last().map_or(0, |e| e.2), balance(t, c).await);
    let v = ok_json(t.get("/api/v1/points/liability", &t.admin).await).await;
    assert_eq!(v["balanced"], json!(true), "{v}");
}

async fn run_sql(t: &TestApp, sql: &str) {
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(p)
                .await
                .unwrap();
        }
        yutang_store::Db::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(p)
                .await
                .unwrap();
        }
    }
}

/// An order earns at the multiplier of the tier the customer holds when it is recorded: the
/// order that qualifies for gold earns at ×1, the next at gold's ×2.
async fn the_tier_held_when_an_order_is_recorded_multiplies_its_points(e: Engine) {
    let t = spawn_app(e).await;
    let r = t
        .send_json(
            Method::PUT,
            "/api/v1/loyalty/tiers",
            &t.admin,
            json!({"metric": "spend_12m", "period_months": 12, "grace_days": 30, "tiers": [
                {"key": "normal", "name": "普通", "rank": 1, "threshold": 0},
                {"key": "gold", "name": "金卡", "rank": 2, "threshold": 10_000,
                 "points_multiplier": 2000}]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let c = customer_with_phone(&t, "13800000008", "金卡顾客").await;
    order(&t, c, "T-1", 20_000).await;
    assert_eq!(balance(&t, c).await, 200);
    order(&t, c, "T-2", 10_000).await;
    assert_eq!(balance(&t, c).await, 400);
    books_balanced(&t).await;
}

/// The demo's bulk-loaded orders earn their points as the order hook would: one `earn` entry
/// per unrefunded order with running balances, a lot each, and books that balance; a second
/// posting finds them posted.
async fn the_demo_pool_earns_its_orders_points_and_the_books_balance(e: Engine) {
    let t = spawn_app(e).await;
    t.app.demo().seed_demo(60, &|_, _, _| {}).await.unwrap();
    let l = books_balanced(&t).await;
    assert!(l["outstanding"].as_i64().unwrap() > 0, "{l}");
    assert!(l["entries"].as_i64().unwrap() > 0, "{l}");
    let again = yutang_store::loyalty::points::post_loaded_orders(&t.app.db, 1, &[], t.app.now())
        .await
        .unwrap();
    assert_eq!(again, 0);
    // Each holder's last running balance is their stored balance.
    let holders = yutang_store::loyalty::points::holders(&t.app.db, 1, 5)
        .await
        .unwrap();
    assert!(!holders.is_empty());
    for (c, bal) in holders {
        let k = kinds(&t, c).await;
        assert_eq!(k.last().map(|e| e.2), Some(bal), "{k:?}");
    }
}

/// A batch of earnings: each item posted once with its running balance, repeats inside the
/// batch and across batches answered as duplicates, bad items refused alone, and a customer
/// who owes points settles them from the batch's credit.
async fn batch_earnings_post_once_each_with_their_own_outcome(e: Engine) {
    let t = spawn_app(e).await;
    let a = customer_with_phone(&t, "13800000011", "签到甲").await;
    let b = customer_with_phone(&t, "13800000012", "签到乙").await;
    // b owes 50 points: earned 100 on an order, spent them, the order refunded.
    let o = order(&t, b, "B-1", 10_000).await;
    assert_eq!(
        redeem(&t, b, 100, "b-spend").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(refund(&t, o, "B-R", 5_000).await, StatusCode::OK);
    assert_eq!(account(&t, b).await["owed"], json!(50));
    let body = json!({"earnings": [
        {"customer_id": a, "points": 10, "source_type": "checkin", "source_id": "d1-a"},
        {"customer_id": a, "points": 20, "source_type": "task", "source_id": "t1-a"},
        {"customer_id": a, "points": 10, "source_type": "checkin", "source_id": "d1-a"},
        {"customer_id": a, "points": 11, "source_type": "checkin", "source_id": "d1-a"},
        {"customer_id": b, "points": 80, "source_type": "checkin", "source_id": "d1-b"},
        {"customer_id": 999_999, "points": 5, "source_type": "checkin", "source_id": "d1-x"},
        {"customer_id": a, "points": 0, "source_type": "checkin", "source_id": "d2-a"},
    ]});
    let v = ok_json(
        t.post("/api/v1/points/earnings", &t.admin, body.clone())
            .await,
    )
    .await;
    let st: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        st,
        [
            "created",
            "created",
            "duplicate",
            "rejected",
            "created",
            "rejected",
            "rejected"
        ],
        "{v}"
    );
    assert_eq!(v["results"][3]["code"], json!("source_id_reused"));
    assert_eq!(v["results"][5]["code"], json!("unknown_customer"));
    assert_eq!(v["results"][6]["code"], json!("invalid_points"));
    assert_eq!(v["results"][2]["entry_id"], v["results"][0]["entry_id"]);
    assert_eq!(balance(&t, a).await, 30);
    assert_eq!(
        kinds(&t, a).await,
        vec![("earn".into(), 10, 10), ("earn".into(), 20, 30)]
    );
    let acc = account(&t, b).await;
    assert_eq!(
        (acc["balance"].as_i64(), acc["owed"].as_i64()),
        (Some(30), Some(0))
    );
    // The whole batch again: nothing new.
    let v = ok_json(t.post("/api/v1/points/earnings", &t.admin, body).await).await;
    assert_eq!(v["created"], json!(0));
    assert_eq!(balance(&t, a).await, 30);
    // An empty batch and one of 1,001 are refused whole.
    let r = t
        .post("/api/v1/points/earnings", &t.admin, json!({"earnings": []}))
        .await;
    assert_eq!(error_of(r).await.2.as_deref(), Some("earnings"));
    books_balanced(&t).await;
}
