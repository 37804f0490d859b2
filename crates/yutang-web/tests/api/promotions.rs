use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::customers::customer_with_phone;
use crate::helpers::{Engine, TestApp, error_of, spawn_app};

both_engines!(
    coupon_claims_never_oversell,
    coupon_life_redeem_refund_expire_remind,
    coupon_bad_input_changes_nothing,
    customer_tokens_are_checked,
    flash_sale_claims_hold_and_release_once,
    group_buy_fills_and_expires_exactly_once,
    issue_to_a_segment_as_a_job,
    coupon_returns_once_and_refunded_orders_take_none,
    staff_retries_get_the_original_success,
    a_deleted_segment_is_never_a_campaigns_audience,
    concurrent_joins_and_retries_decide_once,
    removing_archives_history_and_deletes_the_rest,
    drafts_stay_closed_until_published,
);

const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn template(stock: i64, per_customer: i64) -> Value {
    json!({
        "name": "周二会员日 满50减10",
        "steps": [{"kind": "amount_off", "off_fen": 1000, "threshold_fen": 5000}],
        "validity": {"kind": "days_from_claim", "days": 7},
        "claim_window": {"starts_at": now_ms() - DAY, "ends_at": now_ms() + DAY},
        "stock": stock,
        "per_customer": per_customer,
        "audience": {"kind": "everyone"},
        "return_on_refund": true,
        "remind_hours_before": 24
    })
}

pub(crate) fn group_buy(stock: i64) -> Value {
    json!({
        "name": "两人拼 阳光玫瑰", "sku": "GRAPE-1", "item_name": "阳光玫瑰 2 斤",
        "price_fen": 3990, "original_price_fen": 5990, "leader_discount_fen": 500,
        "team_size": 2, "time_limit_minutes": 60, "stock": stock,
        "window": {"starts_at": now_ms() - 1000, "ends_at": now_ms() + DAY},
        "audience": {"kind": "everyone"}
    })
}

/// A customer opens a team of a group-buy: its id.
pub(crate) async fn open_team(t: &TestApp, gb: i64, tok: &str) -> i64 {
    let r = t
        .post(
            &format!("/api/v1/public/group-buys/{gb}/open"),
            tok,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["team_id"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn created_id(r: reqwest::Response) -> i64 {
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

pub(crate) async fn token(t: &TestApp, customer: i64) -> String {
    let r = t
        .post(
            "/api/v1/customer-tokens",
            &t.admin,
            json!({"customer_id": customer}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let tok = v["token"].as_str().unwrap().to_owned();
    assert!(tok.starts_with("yct_"));
    tok
}

pub(crate) async fn customers(t: &TestApp, n: usize, base: u64) -> Vec<(i64, String)> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let c = customer_with_phone(t, &format!("139{:08}", base + i as u64), "顾客").await;
        out.push((c, token(t, c).await));
    }
    out
}

pub(crate) async fn scalar(t: &TestApp, sql: &'static str) -> i64 {
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        yutang_store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

/// 200 concurrent claims from 100 customers (two each) at stock 10 and one per customer:
/// exactly 10 winners, nobody over the limit, every loser told why.
async fn coupon_claims_never_oversell(e: Engine) {
    let t = spawn_app(e).await;
    let id = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(10, 1))
            .await,
    )
    .await;
    let cs = customers(&t, 100, 0).await;
    let mut tasks = Vec::new();
    for round in 0..2 {
        for (c, tok) in &cs {
            let client = t.client.clone();
            let url = t.url(&format!("/api/v1/public/coupons/{id}/claim"));
            let (c, tok) = (*c, tok.clone());
            tasks.push(tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(tok)
                    .header("Idempotency-Key", format!("k-{round}"))
                    .send()
                    .await
                    .unwrap();
                let s = r.status();
                let v: Value = r.json().await.unwrap();
                (c, s, v)
            }));
        }
    }
    let mut wins: HashMap<i64, u32> = HashMap::new();
    for task in tasks {
        let (c, s, v) = task.await.unwrap();
        match s {
            StatusCode::CREATED => *wins.entry(c).or_default() += 1,
            StatusCode::CONFLICT => {
                let code = v["error"]["code"].as_str().unwrap();
                assert!(
                    ["out_of_stock", "limit_reached"].contains(&code),
                    "unexpected {v}"
                );
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(wins.values().sum::<u32>(), 10, "{wins:?}");
    assert!(wins.values().all(|n| *n == 1));
    let v: Value = t
        .get(&format!("/api/v1/coupon-templates/{id}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["sold"].as_i64(), v["remaining"].as_i64()),
        (Some(10), Some(0))
    );
    assert_eq!(v["coupons"], 10);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM coupons").await, 10);
    // A winner's timeline records the claim.
    let (winner, _) = wins.iter().next().unwrap();
    let tl: Value = t
        .get(&format!("/api/v1/customers/{winner}/timeline"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(tl.to_string().contains("coupon_claimed"), "{tl}");
}

pub(crate) async fn order(t: &TestApp, customer: i64, ext: &str, amount: i64) -> i64 {
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": ext, "customer_id": customer, "channel": "mini_program",
                   "paid_at": "2026-03-03T12:00:00+08:00",
                   "lines": [{"sku": "CHERRY", "name": "车厘子", "quantity": 1, "unit_price_fen": amount}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["order"]["id"]
        .as_i64()
        .unwrap()
}

async fn coupon_state(t: &TestApp, tok: &str, coupon: i64) -> String {
    let v: Value = t
        .get(&format!("/api/v1/public/coupons/mine/{coupon}"), tok)
        .await
        .json()
        .await
        .unwrap();
    v["state"].as_str().unwrap_or_default().to_owned()
}

/// Members of `unused_coupons >= 1` through the live index and through SQL (they must agree).
async fn unused_coupon_members(t: &TestApp) -> (Vec<i64>, Vec<i64>) {
    let app = &t.app;
    let now = yutang_core::time::Millis::now();
    app.segments.catch_up(&app.db, now.0, 0).await.unwrap();
    let (index, sql, _) =
        crate::segments::members_three_ways(app, "unused_coupons >= 1", now).await;
    (index, sql)
}

async fn coupon_life_redeem_refund_expire_remind(e: Engine) {
    let t = spawn_app(e).await;
    let mut tpl = template(100, 2);
    tpl["validity"] = json!({"kind": "days_from_claim", "days": 2});
    let id = created_id(t.post("/api/v1/coupon-templates", &t.admin, tpl).await).await;
    // The change is in the audit log under its own action, which the audit filter accepts.
    let audit: Value = t
        .get("/api/v1/audit?action=promotion_changed", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let target = format!("coupon_template:{id}");
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["target"] == target.as_str() && i["action"] == "promotion_changed"),
        "{audit}"
    );
    let cs = customers(&t, 1, 500).await;
    let (c, tok) = &cs[0];
    // The claimable list shows it; claiming with a key replays.
    let list: Value = t
        .get("/api/v1/public/coupons", tok)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let claim = |key: &'static str| {
        t.req(
            Method::POST,
            &format!("/api/v1/public/coupons/{id}/claim"),
            Some(tok),
        )
        .header("Idempotency-Key", key)
        .send()
    };
    let r = claim("a").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = r.json().await.unwrap();
    let r = claim("a").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), first);
    let coupon = first["coupon_ids"][0].as_i64().unwrap();
    // "Claimed but did not use a coupon" is a segment attribute, true in index and SQL alike.
    assert_eq!(unused_coupon_members(&t).await, (vec![*c], vec![*c]));
    // Below the threshold: refused, the coupon is still claimed.
    let small = order(&t, *c, "O-SMALL", 4000).await;
    let r = t
        .post(
            &format!("/api/v1/coupons/{coupon}/redeem"),
            &t.admin,
            json!({"order_id": small}),
        )
        .await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, "below_threshold".into(), None)
    );
    assert_eq!(coupon_state(&t, tok, coupon).await, "claimed");
    // Redeemed on a big order, once.
    let big = order(&t, *c, "O-BIG", 8800).await;
    let redeem = json!({"order_id": big});
    let r = t
        .post(
            &format!("/api/v1/coupons/{coupon}/redeem"),
            &t.admin,
            redeem.clone(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["discount_fen"], 1000);
    // Used: not on another order.
    let r = t
        .post(
            &format!("/api/v1/coupons/{coupon}/redeem"),
            &t.admin,
            json!({"order_id": small}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "coupon_not_usable");
    assert_eq!(coupon_state(&t, tok, coupon).await, "used");
    assert_eq!(unused_coupon_members(&t).await, (vec![], vec![]));
    // A full refund returns it (the template says so).
    let r = t
        .post(
            &format!("/api/v1/orders/{big}/refunds"),
            &t.admin,
            json!({"refund_id": "RF-1", "amount_fen": 8800}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    assert_eq!(coupon_state(&t, tok, coupon).await, "claimed");
    // The reminder job (24 h before expiry) records one outbox message, even if run twice.
    t.exec("UPDATE jobs SET run_at = 0 WHERE kind = 'coupon_remind'")
        .await;
    t.settle_jobs().await;
    t.exec("UPDATE jobs SET status = 'queued', run_at = 0 WHERE kind = 'coupon_remind'")
        .await;
    t.settle_jobs().await;
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM message_outbox WHERE kind = 'coupon_expiry_reminder'"
        )
        .await,
        1
    );
    // Expiry: once the validity is over the timer expires it; it can no longer be used.
    t.exec("UPDATE coupons SET valid_until = 1").await;
    t.exec("UPDATE jobs SET run_at = 0 WHERE kind = 'coupon_expire'")
        .await;
    t.settle_jobs().await;
    assert_eq!(coupon_state(&t, tok, coupon).await, "expired");
    let other = order(&t, *c, "O-LATE", 9900).await;
    let r = t
        .post(
            &format!("/api/v1/coupons/{coupon}/redeem"),
            &t.admin,
            json!({"order_id": other}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "coupon_not_usable");
    let tl: Value = t
        .get(&format!("/api/v1/customers/{c}/timeline"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let tl = tl.to_string();
    for kind in [
        "coupon_claimed",
        "coupon_used",
        "coupon_returned",
        "coupon_expired",
    ] {
        assert!(tl.contains(kind), "{kind} missing from {tl}");
    }
}

async fn coupon_bad_input_changes_nothing(e: Engine) {
    let t = spawn_app(e).await;
    // Invalid templates name the field.
    let mut bad = template(0, 1);
    let r = t
        .post("/api/v1/coupon-templates", &t.admin, bad.clone())
        .await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_count".into(),
            Some("stock".into())
        )
    );
    bad["stock"] = json!(5);
    bad["steps"] = json!([{"kind": "amount_off", "off_fen": 6000, "threshold_fen": 5000}]);
    let r = t.post("/api/v1/coupon-templates", &t.admin, bad).await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "off_not_below_threshold".into(),
            Some("steps".into())
        )
    );
    let mut seg = template(5, 1);
    seg["audience"] = json!({"kind": "segment", "segment_id": 999});
    let r = t.post("/api/v1/coupon-templates", &t.admin, seg).await;
    assert_eq!(error_of(r).await.1, "unknown_segment");

    let cs = customers(&t, 2, 700).await;
    let (a, tok_a) = &cs[0];
    let (_, tok_b) = &cs[1];
    // Outside the claim window.
    let mut later = template(5, 1);
    later["claim_window"] = json!({"starts_at": now_ms() + DAY, "ends_at": now_ms() + 2 * DAY});
    let later = created_id(t.post("/api/v1/coupon-templates", &t.admin, later).await).await;
    let r = t
        .post(
            &format!("/api/v1/public/coupons/{later}/claim"),
            tok_a,
            json!({}),
        )
        .await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, "promotion_not_started".into(), None)
    );
    // An unknown member level is refused when the template is made.
    let mut gold = template(5, 1);
    gold["audience"] = json!({"kind": "level", "level": "gold"});
    let r = t
        .post("/api/v1/coupon-templates", &t.admin, gold.clone())
        .await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_audience".into(),
            Some("audience".into())
        )
    );
    // Not in the audience (金卡 members only).
    gold["audience"] = json!({"kind": "level", "level": "金卡"});
    let gold = created_id(t.post("/api/v1/coupon-templates", &t.admin, gold).await).await;
    let r = t
        .post(
            &format!("/api/v1/public/coupons/{gold}/claim"),
            tok_a,
            json!({}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "not_in_audience");
    // Beyond the limit.
    let id = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(5, 1))
            .await,
    )
    .await;
    let path = format!("/api/v1/public/coupons/{id}/claim");
    let r = t.post(&path, tok_a, json!({})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mine: Value = r.json().await.unwrap();
    let coupon = mine["coupon_ids"][0].as_i64().unwrap();
    let r = t.post(&path, tok_a, json!({})).await;
    assert_eq!(error_of(r).await.1, "limit_reached");
    // The same idempotency key for another request.
    let r = t
        .req(Method::POST, &path, Some(tok_b))
        .header("Idempotency-Key", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let other = format!("/api/v1/public/coupons/{gold}/claim");
    let r = t
        .req(Method::POST, &other, Some(tok_b))
        .header("Idempotency-Key", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused".into(),
            Some("Idempotency-Key".into())
        )
    );
    // Another customer's coupon is not found for B.
    let r = t
        .get(&format!("/api/v1/public/coupons/mine/{coupon}"), tok_b)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Redeeming A's coupon on B's order is refused.
    let b_order = order(&t, cs[1].0, "O-B", 9000).await;
    let r = t
        .post(
            &format!("/api/v1/coupons/{coupon}/redeem"),
            &t.admin,
            json!({"order_id": b_order}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "coupon_not_owned");
    // A deleted template cannot be claimed; claimed coupons stay.
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/coupon-templates/{id}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v, json!({"id": id, "status": "archived"}));
    let r = t.post(&path, tok_b, json!({})).await;
    assert_eq!(error_of(r).await.1, "promotion_inactive");
    assert_eq!(coupon_state(&t, tok_a, coupon).await, "claimed");
    // Nothing changed by the refusals: A holds one coupon, the deleted template sold 2.
    let mine: Value = t
        .get("/api/v1/public/coupons/mine", tok_a)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM coupon_claims").await,
        2,
        "only A's and B's first claims"
    );
    let _ = a;
}

async fn customer_tokens_are_checked(e: Engine) {
    let t = spawn_app(e).await;
    let cs = customers(&t, 1, 800).await;
    let (c, tok) = &cs[0];
    let r = t.get("/api/v1/public/coupons/mine", tok).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Forged: someone else's id under this signature.
    let forged = tok.replacen(&format!("yct_{c}."), "yct_999.", 1);
    let r = t.get("/api/v1/public/coupons/mine", &forged).await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNAUTHORIZED,
            "invalid_customer_token".into(),
            None
        )
    );
    // Expired: correctly signed with the server's secret, but in the past.
    let secret: String = match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_scalar(
            "SELECT value FROM promo_settings WHERE key = 'customer_token_secret'",
        )
        .fetch_one(p)
        .await
        .unwrap(),
        yutang_store::Db::Postgres(p) => sqlx::query_scalar(
            "SELECT value FROM promo_settings WHERE key = 'customer_token_secret'",
        )
        .fetch_one(p)
        .await
        .unwrap(),
    };
    let old = yutang_app::customer_tokens::sign(&hex::decode(secret).unwrap(), *c, now_ms() - 1000);
    let r = t.get("/api/v1/public/coupons/mine", &old).await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNAUTHORIZED,
            "customer_token_expired".into(),
            None
        )
    );
    // A staff token is not a customer token, and no token at all is refused.
    let r = t.get("/api/v1/public/coupons/mine", &t.admin).await;
    assert_eq!(error_of(r).await.1, "invalid_customer_token");
    let r = t
        .req(Method::GET, "/api/v1/public/coupons/mine", None)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.1, "customer_token_required");
    // Demo login is off outside the demo.
    let r = t
        .req(Method::POST, "/api/v1/public/demo-login", None)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Minting for an unknown customer names the field.
    let r = t
        .post(
            "/api/v1/customer-tokens",
            &t.admin,
            json!({"customer_id": 424242}),
        )
        .await;
    assert_eq!(error_of(r).await.2.as_deref(), Some("customer_id"));
}

pub(crate) fn flash_sale(stock: i64) -> Value {
    json!({
        "name": "周五秒杀 金枕榴莲", "sku": "DURIAN-1", "item_name": "金枕榴莲 1 个",
        "price_fen": 9900, "original_price_fen": 19900, "stock": stock,
        "window": {"starts_at": now_ms() - 1000, "ends_at": now_ms() + DAY},
        "per_customer": 1, "hold_minutes": 15, "audience": {"kind": "everyone"}
    })
}

async fn flash_sale_claims_hold_and_release_once(e: Engine) {
    let t = spawn_app(e).await;
    let id = created_id(t.post("/api/v1/flash-sales", &t.admin, flash_sale(5)).await).await;
    let cs = customers(&t, 30, 900).await;
    let mut tasks = Vec::new();
    for _ in 0..2 {
        for (c, tok) in &cs {
            let client = t.client.clone();
            let url = t.url(&format!("/api/v1/public/flash-sales/{id}/claim"));
            let (c, tok) = (*c, tok.clone());
            tasks.push(tokio::spawn(async move {
                let r = client.post(url).bearer_auth(tok).send().await.unwrap();
                (c, r.status(), r.json::<Value>().await.unwrap())
            }));
        }
    }
    let mut winners: HashMap<i64, Vec<i64>> = HashMap::new();
    for task in tasks {
        let (c, s, v) = task.await.unwrap();
        if s == StatusCode::CREATED {
            winners
                .entry(c)
                .or_default()
                .push(v["claim_id"].as_i64().unwrap());
        } else {
            assert_eq!(s, StatusCode::CONFLICT, "{v}");
        }
    }
    assert_eq!(winners.values().map(Vec::len).sum::<usize>(), 5);
    assert!(winners.values().all(|v| v.len() == 1));
    // One winner pays; the others' holds run out and are released once.
    let mut claims: Vec<i64> = winners.values().flatten().copied().collect();
    claims.sort();
    let r = t
        .post(
            &format!("/api/v1/flash-sale-claims/{}/paid", claims[0]),
            &t.admin,
            json!({"order_ref": "MP-1"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    t.exec("UPDATE flash_sale_claims SET hold_until = 1").await;
    t.exec("UPDATE jobs SET run_at = 0 WHERE kind = 'flash_hold_release'")
        .await;
    t.settle_jobs().await;
    t.exec("UPDATE jobs SET status = 'queued', run_at = 0 WHERE kind = 'flash_hold_release'")
        .await;
    t.settle_jobs().await;
    let v: Value = t
        .get(&format!("/api/v1/flash-sales/{id}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            v["sold"].as_i64(),
            v["paid"].as_i64(),
            v["released"].as_i64()
        ),
        (Some(1), Some(1), Some(4)),
        "{v}"
    );
    // A released unit can be claimed again.
    let loser = cs.iter().find(|(c, _)| !winners.contains_key(c)).unwrap();
    let r = t
        .post(
            &format!("/api/v1/public/flash-sales/{id}/claim"),
            &loser.1,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Outside the window.
    let mut ended = flash_sale(5);
    ended["window"] = json!({"starts_at": now_ms() - 2 * DAY, "ends_at": now_ms() - DAY});
    let ended = created_id(t.post("/api/v1/flash-sales", &t.admin, ended).await).await;
    let r = t
        .post(
            &format!("/api/v1/public/flash-sales/{ended}/claim"),
            &loser.1,
            json!({}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "promotion_ended");
}

async fn group_buy_fills_and_expires_exactly_once(e: Engine) {
    let t = spawn_app(e).await;
    let gb = created_id(
        t.post(
            "/api/v1/group-buys",
            &t.admin,
            json!({
                "name": "两人拼 阳光玫瑰", "sku": "GRAPE-1", "item_name": "阳光玫瑰 2 斤",
                "price_fen": 3990, "original_price_fen": 5990, "leader_discount_fen": 500,
                "team_size": 2, "time_limit_minutes": 60, "stock": 100,
                "window": {"starts_at": now_ms() - 1000, "ends_at": now_ms() + DAY},
                "audience": {"kind": "everyone"}
            }),
        )
        .await,
    )
    .await;
    let cs = customers(&t, 4, 1000).await;
    let open = |tok: String| {
        let t = &t;
        async move { open_team(t, gb, &tok).await }
    };
    // A opens, B joins from A's link: the team fills and both orders confirm.
    let team = open(cs[0].1.clone()).await;
    let status: Value = t
        .get(&format!("/api/v1/public/group-buy-teams/{team}"), &cs[1].1)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (status["missing"].as_i64(), status["state"].as_str()),
        (Some(1), Some("open"))
    );
    assert_eq!(status["remaining_stock"], 99);
    let join = format!("/api/v1/public/group-buy-teams/{team}/join");
    let r = t
        .post(&join, &cs[1].1, json!({"inviter_id": cs[0].0}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "filled");
    let status: Value = t
        .get(&format!("/api/v1/public/group-buy-teams/{team}"), &cs[1].1)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["missing"], 0);
    let members = status["member_list"].as_array().unwrap();
    assert!(
        members.iter().all(|m| m["state"] == "confirmed"),
        "{status}"
    );
    assert_eq!(members[0]["price_fen"], 3490, "the leader's benefit");
    assert_eq!(members[1]["inviter_id"], cs[0].0);
    // A third customer cannot join a full team, and A cannot join twice.
    let r = t.post(&join, &cs[2].1, json!({})).await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, "group_full".into(), None)
    );
    // C opens a team nobody joins; its deadline passes.
    let lonely = open(cs[2].1.clone()).await;
    t.exec("UPDATE group_buy_teams SET deadline = 1 WHERE state = 'open'")
        .await;
    t.exec("UPDATE jobs SET run_at = 0 WHERE kind = 'group_buy_deadline'")
        .await;
    t.settle_jobs().await;
    // The timer runs again (a restart re-claims it) and the use case is called directly:
    // nothing more is refunded.
    t.exec("UPDATE jobs SET status = 'queued', run_at = 0 WHERE kind = 'group_buy_deadline'")
        .await;
    t.settle_jobs().await;
    assert_eq!(t.app.group_buys().expire_team(lonely).await.unwrap(), 0);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM group_buy_refunds").await,
        1
    );
    let status: Value = t
        .get(
            &format!("/api/v1/public/group-buy-teams/{lonely}"),
            &cs[2].1,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "expired");
    assert_eq!(status["member_list"][0]["state"], "refunded");
    assert_eq!(status["remaining_stock"], 98, "the refunded unit is back");
    // Joining the expired team is refused and changes nothing.
    let r = t
        .post(
            &format!("/api/v1/public/group-buy-teams/{lonely}/join"),
            &cs[3].1,
            json!({}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "group_expired");
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM group_buy_members").await,
        3
    );
    let v: Value = t
        .get(&format!("/api/v1/group-buys/{gb}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            v["teams_filled"].as_i64(),
            v["teams_expired"].as_i64(),
            v["sold"].as_i64()
        ),
        (Some(1), Some(1), Some(2))
    );
}

/// Issuing to a saved segment runs as a job with progress; a re-run (a crash before the job
/// was marked done) issues nothing twice; a segment audience gates public claims.
async fn issue_to_a_segment_as_a_job(e: Engine) {
    let t = spawn_app(e).await;
    let cs = customers(&t, 3, 1200).await;
    let seg = created_id(
        t.post(
            "/api/v1/segments",
            &t.admin,
            json!({"name": "所有客户", "expression": "order_count >= 0"}),
        )
        .await,
    )
    .await;
    let mut tpl = template(10, 1);
    tpl["audience"] = json!({"kind": "segment", "segment_id": seg});
    let id = created_id(t.post("/api/v1/coupon-templates", &t.admin, tpl).await).await;
    let r = t
        .post(
            &format!("/api/v1/coupon-templates/{id}/issue"),
            &t.admin,
            json!({"segment_id": seg}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job = r.json::<Value>().await.unwrap()["job_id"].as_i64().unwrap();
    t.settle_jobs().await;
    let v: Value = t
        .get(&format!("/api/v1/jobs/{job}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(
        (v["progress_done"].as_i64(), v["progress_total"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(v["result"]["issued"], 3);
    t.exec("UPDATE jobs SET status = 'queued', run_at = 0, progress_done = 0 WHERE kind = 'coupon_issue'")
        .await;
    t.settle_jobs().await;
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM coupons").await, 3);
    // Each member holds one; the limit stops a public claim on top.
    let r = t
        .post(
            &format!("/api/v1/public/coupons/{id}/claim"),
            &cs[0].1,
            json!({}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "limit_reached");
    // Issuing needs exactly one target.
    let r = t
        .post(
            &format!("/api/v1/coupon-templates/{id}/issue"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(error_of(r).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn coupon_events(t: &TestApp, kind: &str) -> i64 {
    let q = "SELECT COUNT(*) FROM events WHERE kind = $1";
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_scalar(q).bind(kind).fetch_one(p).await,
        yutang_store::Db::Postgres(p) => sqlx::query_scalar(q).bind(kind).fetch_one(p).await,
    }
    .unwrap()
}

/// Issue #16: claim, redeem, full refund (coupon back), redeem again on the refunded order,
/// replay the refund: the replay returned the coupon a second time. A refunded order takes no
/// coupon, and a replayed refund changes nothing.
async fn coupon_returns_once_and_refunded_orders_take_none(e: Engine) {
    let t = spawn_app(e).await;
    let id = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(10, 1))
            .await,
    )
    .await;
    let cs = customers(&t, 1, 700).await;
    let (c, tok) = &cs[0];
    let r = t
        .req(
            Method::POST,
            &format!("/api/v1/public/coupons/{id}/claim"),
            Some(tok),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let coupon = r.json::<Value>().await.unwrap()["coupon_ids"][0]
        .as_i64()
        .unwrap();
    order(&t, *c, "O-1", 6000).await;
    order(&t, *c, "O-2", 6000).await;
    let o3 = order(&t, *c, "O-3", 6000).await;
    let redeem_path = format!("/api/v1/coupons/{coupon}/redeem");
    let redeem = |o: i64| t.post(&redeem_path, &t.admin, json!({"order_id": o}));
    assert_eq!(redeem(o3).await.status(), StatusCode::OK);
    let refund_path = format!("/api/v1/orders/{o3}/refunds");
    let refund = || {
        t.post(
            &refund_path,
            &t.admin,
            json!({"refund_id": "RF-3", "amount_fen": 6000}),
        )
    };
    let r = refund().await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["applied"], true);
    assert_eq!(coupon_state(&t, tok, coupon).await, "claimed");
    assert_eq!(coupon_events(&t, "coupon_returned").await, 1);
    // The refunded order takes no coupon.
    assert_eq!(
        error_of(redeem(o3).await).await,
        (StatusCode::CONFLICT, "order_refunded".into(), None)
    );
    assert_eq!(coupon_state(&t, tok, coupon).await, "claimed");
    // Even with the coupon on that order again (as the attack left it), a replayed refund
    // changes nothing.
    t.exec("UPDATE coupons SET state = 'used', order_id = (SELECT id FROM orders WHERE external_id = 'O-3'), discount_fen = 1000")
        .await;
    let r = refund().await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["applied"], false);
    assert_eq!(coupon_state(&t, tok, coupon).await, "used");
    assert_eq!(coupon_events(&t, "coupon_returned").await, 1);
}

/// Issue #16: a brand system that retries a staff call after a timeout gets the original
/// success; a different natural key still gets the conflict.
async fn staff_retries_get_the_original_success(e: Engine) {
    let t = spawn_app(e).await;
    // Redeem: same coupon, same order -> 200 with the same body.
    let id = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(10, 1))
            .await,
    )
    .await;
    let cs = customers(&t, 1, 800).await;
    let (c, tok) = &cs[0];
    let r = t
        .post(
            &format!("/api/v1/coupon-templates/{id}/issue"),
            &t.admin,
            json!({"customer_id": c}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let coupon = r.json::<Value>().await.unwrap()["claimed"]["coupon_ids"][0]
        .as_i64()
        .unwrap();
    let o1 = order(&t, *c, "R-1", 6000).await;
    let o2 = order(&t, *c, "R-2", 6000).await;
    let redeem_path = format!("/api/v1/coupons/{coupon}/redeem");
    let redeem = |o: i64| t.post(&redeem_path, &t.admin, json!({"order_id": o}));
    let r = redeem(o1).await;
    assert_eq!(r.status(), StatusCode::OK);
    let first: Value = r.json().await.unwrap();
    let r = redeem(o1).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), first);
    assert_eq!(coupon_events(&t, "coupon_used").await, 1);
    assert_eq!(
        error_of(redeem(o2).await).await,
        (StatusCode::CONFLICT, "coupon_not_usable".into(), None)
    );
    assert_eq!(coupon_state(&t, tok, coupon).await, "used");
    // Parallel retries of one redemption: every one answers the same success, used once.
    let r = t
        .post(
            &format!(
                "/api/v1/coupon-templates/{}/issue",
                created_id(
                    t.post("/api/v1/coupon-templates", &t.admin, template(10, 1))
                        .await,
                )
                .await
            ),
            &t.admin,
            json!({"customer_id": c}),
        )
        .await;
    let second = r.json::<Value>().await.unwrap()["claimed"]["coupon_ids"][0]
        .as_i64()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let req = t
            .req(
                Method::POST,
                &format!("/api/v1/coupons/{second}/redeem"),
                Some(&t.admin),
            )
            .json(&json!({"order_id": o2}));
        tasks.push(tokio::spawn(async move {
            let r = req.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }));
    }
    for task in tasks {
        let (s, v) = task.await.unwrap();
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["discount_fen"], 1000);
    }
    assert_eq!(coupon_events(&t, "coupon_used").await, 2);
    // Flash sale paid: same order_ref -> 204 again; another order_ref -> 409.
    let sale = created_id(t.post("/api/v1/flash-sales", &t.admin, flash_sale(5)).await).await;
    let r = t
        .req(
            Method::POST,
            &format!("/api/v1/public/flash-sales/{sale}/claim"),
            Some(tok),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let claim = r.json::<Value>().await.unwrap()["claim_id"]
        .as_i64()
        .unwrap();
    let paid_path = format!("/api/v1/flash-sale-claims/{claim}/paid");
    let paid = |r: &'static str| t.post(&paid_path, &t.admin, json!({"order_ref": r}));
    assert_eq!(paid("BR-1").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(paid("BR-1").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(coupon_events(&t, "flash_sale_paid").await, 1);
    assert_eq!(
        error_of(paid("BR-2").await).await,
        (StatusCode::CONFLICT, "hold_not_active".into(), None)
    );
}

/// A saved segment deleted while a campaign naming it as its audience is created: one of
/// the two must lose (`segment_in_use` or `unknown_segment`). Before, the campaign checked
/// the segment outside its transaction, and on PostgreSQL both could succeed, leaving a
/// coupon, flash sale or group-buy whose audience pointed at nothing.
async fn a_deleted_segment_is_never_a_campaigns_audience(e: Engine) {
    let t = spawn_app(e).await;
    for round in 0..8 {
        let seg = created_id(
            t.post(
                "/api/v1/segments",
                &t.admin,
                json!({"name": format!("人群{round}"), "expression": "order_count >= 1"}),
            )
            .await,
        )
        .await;
        let mut body = match round % 3 {
            0 => template(10, 1),
            1 => flash_sale(5),
            _ => group_buy(5),
        };
        body["audience"] = json!({"kind": "segment", "segment_id": seg});
        let path = [
            "/api/v1/coupon-templates",
            "/api/v1/flash-sales",
            "/api/v1/group-buys",
        ][round % 3];
        let create = t.req(Method::POST, path, Some(&t.admin)).json(&body);
        let delete = t.req(
            Method::DELETE,
            &format!("/api/v1/segments/{seg}"),
            Some(&t.admin),
        );
        let (c, d) = tokio::join!(async { create.send().await.unwrap() }, async {
            delete.send().await.unwrap()
        });
        let (cs, ds) = (c.status(), d.status());
        let (cb, db) = (c.text().await.unwrap(), d.text().await.unwrap());
        match (cs.is_success(), ds.is_success()) {
            (true, false) => assert!(db.contains("segment_in_use"), "round {round}: {db}"),
            (false, true) => assert!(cb.contains("unknown_segment"), "round {round}: {cb}"),
            _ => panic!("round {round}: create {cs} {cb} / delete {ds} {db}"),
        }
    }
}

/// The claim paths decide on the row read under its lock: ten customers racing for the two
/// free places of a three-person team get exactly two places (the team fills once, everyone
/// in it confirmed, three units sold); eight copies of one keyed flash-sale claim sent at
/// once make one claim, and every copy answers it (or 409 while it is in flight); a joiner
/// racing the deadline timer either joins before the team expires (and is refunded with it)
/// or is refused — never both, never a place in an expired team.
async fn concurrent_joins_and_retries_decide_once(e: Engine) {
    let t = spawn_app(e).await;
    let mut spec = group_buy(100);
    spec["team_size"] = json!(3);
    let gb = created_id(t.post("/api/v1/group-buys", &t.admin, spec).await).await;
    let cs = customers(&t, 12, 1300).await;
    let r = t
        .post(
            &format!("/api/v1/public/group-buys/{gb}/open"),
            &cs[0].1,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let team = r.json::<Value>().await.unwrap()["team_id"]
        .as_i64()
        .unwrap();
    let mut tasks = Vec::new();
    for (_, tok) in &cs[1..11] {
        let client = t.client.clone();
        let url = t.url(&format!("/api/v1/public/group-buy-teams/{team}/join"));
        let tok = tok.clone();
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(tok)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }));
    }
    let (mut joined, mut filled) = (0, 0);
    for task in tasks {
        let (s, v) = task.await.unwrap();
        if s == StatusCode::CREATED {
            joined += 1;
            filled += i32::from(v["state"] == "filled");
        } else {
            assert_eq!(
                (s, v["error"]["code"].as_str()),
                (StatusCode::CONFLICT, Some("group_full")),
                "{v}"
            );
        }
    }
    assert_eq!((joined, filled), (2, 1));
    let status: Value = t
        .get(&format!("/api/v1/public/group-buy-teams/{team}"), &cs[0].1)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (status["state"].as_str(), status["members"].as_i64()),
        (Some("filled"), Some(3)),
        "{status}"
    );
    assert!(
        status["member_list"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "confirmed"),
        "{status}"
    );
    assert_eq!(status["remaining_stock"], 97);

    // Eight copies of one keyed claim at once: one claim, one answer.
    let sale = created_id(t.post("/api/v1/flash-sales", &t.admin, flash_sale(5)).await).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = t.client.clone();
        let url = t.url(&format!("/api/v1/public/flash-sales/{sale}/claim"));
        let tok = cs[11].1.clone();
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(tok)
                .header("Idempotency-Key", "same-tap")
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for task in tasks {
        let (s, v) = task.await.unwrap();
        match s {
            StatusCode::CREATED | StatusCode::OK => {
                created += i32::from(s == StatusCode::CREATED);
                ids.insert(v["claim_id"].as_i64().unwrap());
            }
            _ => assert_eq!(
                (s, v["error"]["code"].as_str()),
                (StatusCode::CONFLICT, Some("request_in_progress")),
                "{v}"
            ),
        }
    }
    assert_eq!((created, ids.len()), (1, 1));
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM flash_sale_claims").await,
        1
    );
    assert_eq!(scalar(&t, "SELECT sold FROM flash_sales").await, 1);

    // A join racing the deadline timer: joined-then-expired (refunded) or refused, never a
    // member of an expired team who was not refunded.
    let r = t
        .post(
            &format!("/api/v1/public/group-buys/{gb}/open"),
            &cs[1].1,
            json!({}),
        )
        .await;
    let lonely = r.json::<Value>().await.unwrap()["team_id"]
        .as_i64()
        .unwrap();
    t.exec("UPDATE group_buy_teams SET deadline = deadline - 3600000 + 300 WHERE state = 'open'")
        .await;
    let join = {
        let client = t.client.clone();
        let url = t.url(&format!("/api/v1/public/group-buy-teams/{lonely}/join"));
        let tok = cs[2].1.clone();
        tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(tok)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        })
    };
    let group_buys = t.app.group_buys();
    let mut refunded = 0;
    // The deadline is due 300 ms after the update above; the timer is called until it fires.
    while refunded == 0 {
        refunded = group_buys.expire_team(lonely).await.unwrap();
        tokio::task::yield_now().await;
    }
    let (s, v) = join.await.unwrap();
    let members = scalar(&t, "SELECT COUNT(*) FROM group_buy_members WHERE state <> 'refunded' AND team_id = (SELECT MAX(id) FROM group_buy_teams)").await;
    assert_eq!(members, 0, "nobody keeps a place in an expired team");
    if s == StatusCode::CREATED {
        assert_eq!(refunded, 2, "{v}");
    } else {
        assert_eq!(refunded, 1);
        assert_eq!(v["error"]["code"], "group_expired", "{v}");
    }
    let v: Value = t
        .get(&format!("/api/v1/group-buys/{gb}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["sold"], 3, "the expired team's units are back: {v}");
}

async fn remove(t: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = t
        .req(Method::DELETE, path, Some(&t.admin))
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn staff_get(t: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = t.get(path, &t.admin).await;
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// `DELETE` on a campaign with history archives it: its statistics stay (read and listed
/// with `status: "archived"`), nobody can claim or join it, and deleting it again changes
/// nothing; on a campaign without history it deletes it. One audit entry per change.
async fn removing_archives_history_and_deletes_the_rest(e: Engine) {
    let t = spawn_app(e).await;
    let cs = customers(&t, 3, 7000).await;

    // A coupon template claimed twice: archived with its claims.
    let tpl = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(10, 1))
            .await,
    )
    .await;
    for (_, tok) in &cs[..2] {
        let path = format!("/api/v1/public/coupons/{tpl}/claim");
        assert_eq!(
            t.post(&path, tok, json!({})).await.status(),
            StatusCode::CREATED
        );
    }
    let (s, v) = remove(&t, &format!("/api/v1/coupon-templates/{tpl}")).await;
    assert_eq!(
        (s, v),
        (StatusCode::OK, json!({"id": tpl, "status": "archived"}))
    );
    let (s, v) = staff_get(&t, &format!("/api/v1/coupon-templates/{tpl}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "archived");
    assert_eq!(
        (v["claims"].as_i64(), v["sold"].as_i64()),
        (Some(2), Some(2))
    );
    let (_, list) = staff_get(&t, "/api/v1/coupon-templates").await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == tpl)
        .cloned();
    assert_eq!(listed.map(|x| x["status"].clone()), Some(json!("archived")));
    let r = t
        .post(
            &format!("/api/v1/public/coupons/{tpl}/claim"),
            &cs[2].1,
            json!({}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "promotion_inactive");
    let public: Value = t
        .get("/api/v1/public/coupons", &cs[2].1)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        public.as_array().unwrap().iter().all(|x| x["id"] != tpl),
        "{public}"
    );
    // Again: still archived, nothing written.
    let audits = scalar(&t, "SELECT COUNT(*) FROM audit_log").await;
    let (s, v) = remove(&t, &format!("/api/v1/coupon-templates/{tpl}")).await;
    assert_eq!(
        (s, v["status"].clone()),
        (StatusCode::OK, json!("archived"))
    );
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM audit_log").await, audits);
    // An archived template cannot be edited.
    let r = t
        .send_json(
            Method::PUT,
            &format!("/api/v1/coupon-templates/{tpl}"),
            &t.admin,
            template(10, 1),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // A template nobody claimed: deleted, gone.
    let unused = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(10, 1))
            .await,
    )
    .await;
    let (s, v) = remove(&t, &format!("/api/v1/coupon-templates/{unused}")).await;
    assert_eq!(
        (s, v),
        (StatusCode::OK, json!({"id": unused, "status": "deleted"}))
    );
    let (s, _) = staff_get(&t, &format!("/api/v1/coupon-templates/{unused}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = remove(&t, &format!("/api/v1/coupon-templates/{unused}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A flash sale with a claim: archived, its counts kept, closed to customers.
    let sale = created_id(t.post("/api/v1/flash-sales", &t.admin, flash_sale(5)).await).await;
    let claim = format!("/api/v1/public/flash-sales/{sale}/claim");
    assert_eq!(
        t.post(&claim, &cs[0].1, json!({})).await.status(),
        StatusCode::CREATED
    );
    let (s, v) = remove(&t, &format!("/api/v1/flash-sales/{sale}")).await;
    assert_eq!(
        (s, v),
        (StatusCode::OK, json!({"id": sale, "status": "archived"}))
    );
    let (s, v) = staff_get(&t, &format!("/api/v1/flash-sales/{sale}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["status"].clone(), v["held"].as_i64(), v["sold"].as_i64()),
        (json!("archived"), Some(1), Some(1))
    );
    let (_, list) = staff_get(&t, "/api/v1/flash-sales").await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == sale && x["status"] == "archived"),
        "{list}"
    );
    let r = t.post(&claim, &cs[1].1, json!({})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t
        .get(&format!("/api/v1/public/flash-sales/{sale}"), &cs[1].1)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // One nobody claimed: deleted.
    let quiet = created_id(t.post("/api/v1/flash-sales", &t.admin, flash_sale(5)).await).await;
    let (s, v) = remove(&t, &format!("/api/v1/flash-sales/{quiet}")).await;
    assert_eq!(
        (s, v),
        (StatusCode::OK, json!({"id": quiet, "status": "deleted"}))
    );
    let (s, _) = staff_get(&t, &format!("/api/v1/flash-sales/{quiet}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A group-buy with a team: archived; a new team cannot be opened. One without: deleted.
    let gb = created_id(t.post("/api/v1/group-buys", &t.admin, group_buy(5)).await).await;
    let open = format!("/api/v1/public/group-buys/{gb}/open");
    assert_eq!(
        t.post(&open, &cs[0].1, json!({})).await.status(),
        StatusCode::CREATED
    );
    let (s, v) = remove(&t, &format!("/api/v1/group-buys/{gb}")).await;
    assert_eq!(
        (s, v),
        (StatusCode::OK, json!({"id": gb, "status": "archived"}))
    );
    let (s, v) = staff_get(&t, &format!("/api/v1/group-buys/{gb}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["status"].clone(), v["teams_open"].as_i64()),
        (json!("archived"), Some(1))
    );
    let r = t.post(&open, &cs[1].1, json!({})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let empty = created_id(t.post("/api/v1/group-buys", &t.admin, group_buy(5)).await).await;
    let (s, v) = remove(&t, &format!("/api/v1/group-buys/{empty}")).await;
    assert_eq!(
        (s, v),
        (StatusCode::OK, json!({"id": empty, "status": "deleted"}))
    );
    let (s, _) = staff_get(&t, &format!("/api/v1/group-buys/{empty}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Every change left one audit entry naming what it did.
    for op in [
        "coupon_template.archive",
        "coupon_template.delete",
        "flash_sale.archive",
        "flash_sale.delete",
        "group_buy.archive",
        "group_buy.delete",
    ] {
        let n: i64 = match &t.app.db {
            yutang_store::Db::Sqlite(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE detail LIKE $1")
                    .bind(format!("%\"{op}\"%"))
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
            yutang_store::Db::Postgres(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE detail LIKE $1")
                    .bind(format!("%\"{op}\"%"))
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(n, 1, "{op}");
    }
}

/// The audit entries of one promotion operation (`op` in the detail) on one target.
async fn promo_ops(t: &TestApp, target: &str, op: &str) -> usize {
    let v: Value = t
        .get(
            "/api/v1/audit?action=promotion_changed&page_size=200",
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            i["target"] == target
                && serde_json::from_str::<Value>(i["detail"].as_str().unwrap_or("{}"))
                    .is_ok_and(|d| d["op"] == op)
        })
        .count()
}

/// A new draft campaign of this kind (`coupon-templates` …): its id.
async fn draft(t: &TestApp, kind: &str, body: Value) -> i64 {
    created_id(
        t.post(&format!("/api/v1/{kind}?draft=true"), &t.admin, body)
            .await,
    )
    .await
}

/// A campaign created with `?draft=true` is staff-only: customers neither see nor claim it,
/// staff cannot issue from it (`promotion_draft`), it can be edited; `…/publish` opens it
/// (once: a second publish changes nothing and writes no audit entry), and an archived
/// campaign cannot be published.
async fn drafts_stay_closed_until_published(e: Engine) {
    let t = spawn_app(e).await;
    let cs = customers(&t, 2, 7600).await;
    let (c0, tok) = (cs[0].0, cs[0].1.as_str());
    let tpl = draft(&t, "coupon-templates", template(10, 1)).await;
    let flash = draft(&t, "flash-sales", flash_sale(5)).await;
    let gb = draft(&t, "group-buys", group_buy(4)).await;
    for path in [
        format!("/api/v1/coupon-templates/{tpl}"),
        format!("/api/v1/flash-sales/{flash}"),
        format!("/api/v1/group-buys/{gb}"),
    ] {
        let (s, v) = staff_get(&t, &path).await;
        assert_eq!(
            (s, v["status"].as_str()),
            (StatusCode::OK, Some("draft")),
            "{path}"
        );
    }
    // Customers: not listed, not found, not claimable.
    for (path, id) in [
        ("/api/v1/public/coupons", tpl),
        ("/api/v1/public/flash-sales", flash),
    ] {
        let list: Value = t.get(path, tok).await.json().await.unwrap();
        assert!(
            list.as_array().unwrap().iter().all(|c| c["id"] != id),
            "{path}: {list}"
        );
    }
    for path in [
        format!("/api/v1/public/flash-sales/{flash}"),
        format!("/api/v1/public/group-buys/{gb}"),
    ] {
        assert_eq!(
            t.get(&path, tok).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for path in [
        format!("/api/v1/public/coupons/{tpl}/claim"),
        format!("/api/v1/public/flash-sales/{flash}/claim"),
        format!("/api/v1/public/group-buys/{gb}/open"),
    ] {
        let r = t.post(&path, tok, json!({})).await;
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
    }
    // Staff cannot issue from a draft, and are told to publish it.
    let r = t
        .post(
            &format!("/api/v1/coupon-templates/{tpl}/issue"),
            &t.admin,
            json!({"customer_id": c0}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "promotion_draft");
    // A draft can be edited (it stays a draft).
    let mut edited = flash_sale(8);
    edited["name"] = json!("周五秒杀 金枕榴莲（改）");
    let r = t
        .send_json(
            Method::PUT,
            &format!("/api/v1/flash-sales/{flash}"),
            &t.admin,
            edited,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, v) = staff_get(&t, &format!("/api/v1/flash-sales/{flash}")).await;
    assert_eq!(
        (v["status"].as_str(), v["stock"].as_i64()),
        (Some("draft"), Some(8))
    );
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM coupon_claims").await
            + scalar(&t, "SELECT COUNT(*) FROM flash_sale_claims").await
            + scalar(&t, "SELECT COUNT(*) FROM group_buy_teams").await,
        0,
        "nothing was taken from a draft"
    );
    // Publish: open to customers; a second publish changes nothing.
    for (kind, path, id) in [
        ("coupon_template", "coupon-templates", tpl),
        ("flash_sale", "flash-sales", flash),
        ("group_buy", "group-buys", gb),
    ] {
        for want in ["published", "already_published"] {
            let r = t
                .post(&format!("/api/v1/{path}/{id}/publish"), &t.admin, json!({}))
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["status"], want, "{path}");
        }
        assert_eq!(
            promo_ops(&t, &format!("{kind}:{id}"), &format!("{kind}.publish")).await,
            1
        );
        let (_, v) = staff_get(&t, &format!("/api/v1/{path}/{id}")).await;
        assert_eq!(v["status"], "active");
    }
    let r = t
        .post(
            &format!("/api/v1/public/coupons/{tpl}/claim"),
            tok,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = t
        .post(
            &format!("/api/v1/public/flash-sales/{flash}/claim"),
            tok,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        t.get(&format!("/api/v1/public/group-buys/{gb}"), tok)
            .await
            .status(),
        StatusCode::OK
    );
    // Unknown: 404; archived (it has a claim now): refused.
    let r = t
        .post(
            "/api/v1/coupon-templates/999999/publish",
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (s, v) = remove(&t, &format!("/api/v1/coupon-templates/{tpl}")).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("archived"))
    );
    let r = t
        .post(
            &format!("/api/v1/coupon-templates/{tpl}/publish"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "promotion_inactive");
    // A draft without history is deleted outright.
    let d = draft(&t, "coupon-templates", template(10, 1)).await;
    let (s, v) = remove(&t, &format!("/api/v1/coupon-templates/{d}")).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("deleted")));
}
