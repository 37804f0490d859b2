//! Paid member cards (issue #22 item 2) through the HTTP API: product validation, purchases
//! idempotent on order_no, renewals that follow the running period, savings from orders'
//! member_savings and card coupons counted once, the guarantee's settlement refunding each
//! difference exactly once (also with settlement runs racing), the purchase refund, double
//! points with a card, and the `card_*` segment attributes.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_app::Actor;
use yutang_app::tokens::NewTokenInput;

use crate::acquisition::{run_sql, scalar};
use crate::customers::customer_with_phone;
use crate::helpers::{Engine, TestApp, error_of, spawn_app};
use crate::promotions::{created_id, template, token};

both_engines!(
    bad_input_is_refused_naming_the_field_and_nothing_written,
    purchases_are_idempotent_and_renewals_follow_the_running_period,
    savings_from_orders_and_card_coupons_count_once,
    settlement_refunds_each_difference_exactly_once,
    concurrent_settlement_runs_refund_each_period_once,
    a_refunded_purchase_ends_its_period_and_is_never_settled,
    a_card_doubles_the_points_of_orders_paid_while_it_runs,
    segment_attributes_follow_the_card,
);

const DAY: i64 = 86_400_000;

async fn json_of(r: reqwest::Response) -> Value {
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(s.is_success(), "{s} {v}");
    v
}

fn card_body(key: &str, price: i64, guarantee: bool, pack: &[i64]) -> Value {
    json!({"key": key, "name": format!("卡 {key}"), "period_days": 30, "price_fen": price,
           "points_multiplier": 2000, "monthly_coupon_template_ids": pack,
           "savings_guarantee": guarantee})
}

async fn new_card(t: &TestApp, body: Value) -> i64 {
    created_id(t.post("/api/v1/loyalty/cards", &t.admin, body).await).await
}

async fn api_token(t: &TestApp) -> String {
    t.app
        .tokens()
        .create_token(
            &Actor::system(),
            &NewTokenInput::parse("order system", "operator", None).unwrap(),
        )
        .await
        .unwrap()
        .token
}

async fn buy(
    t: &TestApp,
    tok: &str,
    order_no: &str,
    customer: i64,
    key: &str,
) -> reqwest::Response {
    t.post(
        "/api/v1/member-cards/purchases",
        tok,
        json!({"order_no": order_no, "customer_id": customer, "card_key": key}),
    )
    .await
}

async fn card_of(t: &TestApp, c: i64) -> Value {
    json_of(
        t.get(&format!("/api/v1/customers/{c}/card"), &t.admin)
            .await,
    )
    .await
}

/// An order of `fen` paid now with `savings` of member prices; returns its id.
async fn order(t: &TestApp, id: &str, c: i64, fen: i64, savings: i64) -> i64 {
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": id, "customer_id": c, "channel": "store",
                   "member_savings": savings,
                   "lines": [{"sku": "A", "name": "气泡水", "quantity": 1, "unit_price_fen": fen}]}),
        )
        .await;
    json_of(r).await["order"]["id"].as_i64().unwrap()
}

/// Move every period of `c` back so that it ended a minute ago.
async fn end_periods(t: &TestApp, c: i64) {
    run_sql(
        t,
        &format!(
            "UPDATE card_periods SET starts_at = starts_at - (ends_at - starts_at) - {DAY}, \
             ends_at = {} WHERE customer_id = {c}",
            t.app.now() - 60_000
        ),
    )
    .await;
}

async fn bad_input_is_refused_naming_the_field_and_nothing_written(e: Engine) {
    let t = spawn_app(e).await;
    let good = card_body("monthly", 1800, true, &[]);
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("period_days", json!(0), "period_days", "invalid_period"),
        ("price_fen", json!(-1800), "price_fen", "invalid_amount"),
        ("price_fen", json!(0), "price_fen", "invalid_amount"),
        (
            "points_multiplier",
            json!(0),
            "points_multiplier",
            "invalid_multiplier",
        ),
        ("key", json!("Monthly"), "key", "invalid_card_key"),
        (
            "monthly_coupon_template_ids",
            json!([0]),
            "monthly_coupon_template_ids",
            "invalid_id",
        ),
        (
            "monthly_coupon_template_ids",
            json!([999]),
            "monthly_coupon_template_ids",
            "unknown_reference",
        ),
    ];
    for (k, v, field, code) in cases {
        let mut b = good.clone();
        b[k] = v;
        let (s, c, f) = error_of(t.post("/api/v1/loyalty/cards", &t.admin, b).await).await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field))
        );
    }
    // A fractional price never parses.
    let mut b = good.clone();
    b["price_fen"] = json!(18.5);
    let (s, _, f) = error_of(t.post("/api/v1/loyalty/cards", &t.admin, b).await).await;
    assert_eq!(
        (s, f.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("price_fen"))
    );
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM card_products").await, 0);
    // An update with a bad period changes nothing.
    let id = new_card(&t, good.clone()).await;
    let mut b = good.clone();
    b["period_days"] = json!(0);
    let (s, _, f) = error_of(
        t.send_json(
            Method::PUT,
            &format!("/api/v1/loyalty/cards/{id}"),
            &t.admin,
            b,
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, f.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("period_days"))
    );
    assert_eq!(
        scalar(&t, "SELECT period_days FROM card_products").await,
        30
    );
    // A key in use: 409.
    let r = t
        .post("/api/v1/loyalty/cards", &t.admin, good.clone())
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Negative member savings on an order: 422 naming it, no order.
    let c = customer_with_phone(&t, "13900007001", "坏输入").await;
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": "BAD-1", "customer_id": c, "channel": "store",
                   "member_savings": -1,
                   "lines": [{"sku": "A", "name": "水", "quantity": 1, "unit_price_fen": 100}]}),
        )
        .await;
    let (s, _, f) = error_of(r).await;
    assert_eq!(
        (s, f.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("member_savings"))
    );
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM orders").await, 0);
    // A purchase of an unknown card, a negative amount paid: 422, nothing written.
    let (s, _, f) = error_of(buy(&t, &t.admin, "B-1", c, "nope").await).await;
    assert_eq!(
        (s, f.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("card_key"))
    );
    let r = t
        .post(
            "/api/v1/member-cards/purchases",
            &t.admin,
            json!({"order_no": "B-2", "customer_id": c, "card_key": "monthly", "paid_fen": -5}),
        )
        .await;
    let (s, _, f) = error_of(r).await;
    assert_eq!(
        (s, f.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("paid_fen"))
    );
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM card_periods").await, 0);
    // A guide may not report purchases or create cards.
    let store = t.store("CARD-S").await;
    t.staff("card.guide", "guide", Some(store)).await;
    let guide = t.login("card.guide").await;
    assert_eq!(
        buy(&t, &guide, "B-3", c, "monthly").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.post(
            "/api/v1/loyalty/cards",
            &guide,
            card_body("x", 1, false, &[])
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
}

async fn purchases_are_idempotent_and_renewals_follow_the_running_period(e: Engine) {
    let t = spawn_app(e).await;
    new_card(&t, card_body("monthly", 1800, true, &[])).await;
    let tok = api_token(&t).await;
    let c = customer_with_phone(&t, "13900007101", "买卡客").await;
    let r = buy(&t, &tok, "CARD-1", c, "monthly").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let first = json_of(r).await["period"].clone();
    assert_eq!(first["renewal"], json!(0));
    assert_eq!(first["paid_fen"], json!(1800));
    // The same purchase again: the same period, nothing written.
    let r = buy(&t, &tok, "CARD-1", c, "monthly").await;
    assert_eq!(r.status(), StatusCode::OK);
    let again = json_of(r).await;
    assert_eq!(again["created"], json!(false));
    assert_eq!(again["period"]["id"], first["id"]);
    // The same order_no with another body.
    let r = t
        .post(
            "/api/v1/member-cards/purchases",
            &tok,
            json!({"order_no": "CARD-1", "customer_id": c, "card_key": "monthly", "paid_fen": 900}),
        )
        .await;
    let (s, code, f) = error_of(r).await;
    assert_eq!(
        (s, code.as_str(), f.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            Some("order_no")
        )
    );
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM card_periods").await, 1);
    // A renewal while it runs starts when it ends.
    let r = buy(&t, &tok, "CARD-2", c, "monthly").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second = json_of(r).await["period"].clone();
    assert_eq!(second["starts_at"], first["ends_at"]);
    assert_eq!(second["renewal"], json!(1));
    assert_eq!(
        second["ends_at"].as_i64().unwrap() - second["starts_at"].as_i64().unwrap(),
        30 * DAY
    );
    let v = card_of(&t, c).await;
    assert_eq!(v["active"], json!(true));
    assert_eq!(v["current"]["id"], first["id"]);
    assert_eq!(v["expires_at"], second["ends_at"]);
    assert_eq!(v["paid_fen"], json!(1800));
    assert_eq!(
        scalar(
            &t,
            &format!(
                "SELECT COUNT(*) FROM events WHERE customer_id = {c} AND kind = 'card_purchased'"
            )
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &t,
            &format!(
                "SELECT COUNT(*) FROM events WHERE customer_id = {c} AND kind = 'card_renewed'"
            )
        )
        .await,
        1
    );
    // Concurrent purchases of one customer chain, never overlap.
    let t = Arc::new(t);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (t, tok) = (t.clone(), tok.clone());
        tasks.push(tokio::spawn(async move {
            buy(&t, &tok, &format!("CONC-{i}"), c, "monthly")
                .await
                .status()
        }));
    }
    for h in tasks {
        assert_eq!(h.await.unwrap(), StatusCode::CREATED);
    }
    let v = card_of(&t, c).await;
    let mut periods: Vec<(i64, i64)> = v["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["starts_at"].as_i64().unwrap(),
                p["ends_at"].as_i64().unwrap(),
            )
        })
        .collect();
    periods.sort_unstable();
    assert_eq!(periods.len(), 10);
    for w in periods.windows(2) {
        assert_eq!(w[0].1, w[1].0, "periods are consecutive");
    }
    // The member centre sees its own card.
    let ct = token(&t, c).await;
    let me = json_of(t.get("/api/v1/public/me/card", &ct).await).await;
    assert_eq!(me["active"], json!(true));
    assert_eq!(me["expires_at"].as_i64(), Some(periods[9].1));
}

async fn savings_from_orders_and_card_coupons_count_once(e: Engine) {
    let t = spawn_app(e).await;
    let pack_tpl = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
            .await,
    )
    .await;
    let other_tpl = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
            .await,
    )
    .await;
    new_card(&t, card_body("monthly", 1800, true, &[pack_tpl])).await;
    let c = customer_with_phone(&t, "13900007201", "省钱客").await;
    let none = customer_with_phone(&t, "13900007202", "无卡客").await;
    assert_eq!(
        buy(&t, &t.admin, "S-1", c, "monthly").await.status(),
        StatusCode::CREATED
    );
    t.settle_jobs().await;
    // The month's pack: one coupon, remembered as the card's.
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM card_coupons").await, 1);
    t.app.cards().give_pack(c).await.unwrap();
    t.app.cards().run_packs().await.unwrap();
    assert_eq!(
        scalar(
            &t,
            &format!("SELECT COUNT(*) FROM coupons WHERE customer_id = {c}")
        )
        .await,
        1,
        "the pack is given once a month"
    );
    // Member prices saved 300 on an order; its replay adds nothing.
    let o1 = order(&t, "SO-1", c, 10_000, 300).await;
    order(&t, "SO-1", c, 10_000, 300).await;
    assert_eq!(card_of(&t, c).await["savings_fen"], json!(300));
    // Another body under the same external id is refused (member_savings is part of it).
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": "SO-1", "customer_id": c, "channel": "store",
                   "member_savings": 900,
                   "lines": [{"sku": "A", "name": "气泡水", "quantity": 1, "unit_price_fen": 10_000}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A customer without a card saves nothing on the books.
    order(&t, "SO-2", none, 10_000, 300).await;
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM card_savings").await, 1);
    // The card coupon used: its discount (1,000) counts, once, also when retried.
    let coupon = scalar(&t, "SELECT coupon_id FROM card_coupons").await;
    for _ in 0..2 {
        let r = t
            .post(
                &format!("/api/v1/coupons/{coupon}/redeem"),
                &t.admin,
                json!({"order_id": o1}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(card_of(&t, c).await["savings_fen"], json!(1300));
    // A coupon that is not the card's counts nothing.
    let r = t
        .post(
            &format!("/api/v1/coupon-templates/{other_tpl}/issue"),
            &t.admin,
            json!({"customer_id": c}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    t.settle_jobs().await;
    let plain = scalar(
        &t,
        &format!(
            "SELECT MIN(id) FROM coupons WHERE customer_id = {c} AND template_id = {other_tpl}"
        ),
    )
    .await;
    let o2 = order(&t, "SO-3", c, 10_000, 0).await;
    let r = t
        .post(
            &format!("/api/v1/coupons/{plain}/redeem"),
            &t.admin,
            json!({"order_id": o2}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = card_of(&t, c).await;
    assert_eq!(v["savings_fen"], json!(1300));
    let causes: Vec<String> = v["savings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cause"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(causes.len(), 2, "{causes:?}");
    assert!(causes.contains(&format!("order:{o1}")));
    assert!(causes.contains(&format!("coupon:{coupon}:{o1}")));
}

async fn settlement_refunds_each_difference_exactly_once(e: Engine) {
    let t = spawn_app(e).await;
    new_card(&t, card_body("monthly", 1800, true, &[])).await;
    let mut plain = card_body("plain", 1800, false, &[]);
    plain["points_multiplier"] = json!(1000);
    new_card(&t, plain).await;
    let tok = api_token(&t).await;
    let short = customer_with_phone(&t, "13900007301", "省得少").await;
    let enough = customer_with_phone(&t, "13900007302", "省得多").await;
    let unguaranteed = customer_with_phone(&t, "13900007303", "无保障").await;
    buy(&t, &tok, "ST-1", short, "monthly").await;
    buy(&t, &tok, "ST-2", enough, "monthly").await;
    buy(&t, &tok, "ST-3", unguaranteed, "plain").await;
    order(&t, "STO-1", short, 10_000, 500).await;
    order(&t, "STO-2", enough, 10_000, 1800).await;
    for c in [short, enough, unguaranteed] {
        end_periods(&t, c).await;
    }
    // Twice through the app and once through the API: one refund, of the difference.
    t.app.cards().run_settlement().await.unwrap();
    t.app.cards().run_settlement().await.unwrap();
    let r = t
        .post("/api/v1/member-cards/settlement-runs", &tok, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    t.settle_jobs().await;
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM card_refunds").await, 1);
    assert_eq!(
        scalar(
            &t,
            &format!("SELECT amount_fen FROM card_refunds WHERE customer_id = {short}")
        )
        .await,
        1300
    );
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM card_periods WHERE status = 'settled'"
        )
        .await,
        3
    );
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM events WHERE kind = 'card_settled'"
        )
        .await,
        3
    );
    assert_eq!(card_of(&t, short).await["active"], json!(false));
    // A saving reported after the period ended adds nothing to it.
    order(&t, "STO-3", short, 10_000, 5000).await;
    assert_eq!(
        scalar(
            &t,
            &format!("SELECT savings_fen FROM card_periods WHERE customer_id = {short}")
        )
        .await,
        500
    );
    // The order system lists what it owes and confirms it paid, idempotently.
    let list = json_of(
        t.get("/api/v1/member-cards/refunds?status=pending", &tok)
            .await,
    )
    .await;
    assert_eq!(list["total"], json!(1));
    let id = list["items"][0]["id"].as_i64().unwrap();
    assert_eq!(list["items"][0]["savings_fen"], json!(500));
    for _ in 0..2 {
        let v = json_of(
            t.post(
                &format!("/api/v1/member-cards/refunds/{id}/acknowledge"),
                &tok,
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(v["status"], json!("acknowledged"));
    }
    let list = json_of(
        t.get("/api/v1/member-cards/refunds?status=pending", &tok)
            .await,
    )
    .await;
    assert_eq!(list["total"], json!(0));
    let (s, code, _) = error_of(
        t.get("/api/v1/member-cards/refunds?status=paid", &tok)
            .await,
    )
    .await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_status")
    );
    assert_eq!(
        t.audit_actions()
            .await
            .iter()
            .filter(|a| *a == "card_refund_acknowledged")
            .count(),
        1
    );
    // A settled purchase cannot be refunded any more.
    let r = t
        .post(
            "/api/v1/member-cards/purchases/ST-1/refund",
            &tok,
            json!({}),
        )
        .await;
    let (s, code, _) = error_of(r).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::CONFLICT, "card_period_closed")
    );
}

async fn concurrent_settlement_runs_refund_each_period_once(e: Engine) {
    let t = Arc::new(spawn_app(e).await);
    new_card(&t, card_body("monthly", 1800, true, &[])).await;
    let n = if e == Engine::Postgres { 20 } else { 8 };
    let mut customers = Vec::new();
    for i in 0..n {
        let c = customer_with_phone(&t, &format!("1390000{:04}", 7400 + i), "并发结算").await;
        buy(&t, &t.admin, &format!("CC-{i}"), c, "monthly").await;
        if i % 2 == 0 {
            order(&t, &format!("CCO-{i}"), c, 10_000, 2000).await;
        }
        customers.push(c);
    }
    for c in &customers {
        end_periods(&t, *c).await;
    }
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            t.app.cards().run_settlement().await.unwrap()
        }));
    }
    for h in tasks {
        h.await.unwrap();
    }
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM card_refunds").await,
        i64::from(n / 2)
    );
    assert_eq!(
        scalar(
            &t,
            "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM card_refunds"
        )
        .await,
        i64::from(n / 2) * 1800
    );
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM events WHERE kind = 'card_settled'"
        )
        .await,
        i64::from(n)
    );
}

async fn a_refunded_purchase_ends_its_period_and_is_never_settled(e: Engine) {
    let t = spawn_app(e).await;
    new_card(&t, card_body("monthly", 1800, true, &[])).await;
    let tok = api_token(&t).await;
    let c = customer_with_phone(&t, "13900007501", "退卡客").await;
    buy(&t, &tok, "RF-1", c, "monthly").await;
    let r = t
        .post(
            "/api/v1/member-cards/purchases/RF-1/refund",
            &tok,
            json!({"reason": "顾客申请退卡"}),
        )
        .await;
    let p = json_of(r).await;
    assert_eq!(p["status"], json!("refunded"));
    // Again: the same answer, one audit entry.
    let again = json_of(
        t.post(
            "/api/v1/member-cards/purchases/RF-1/refund",
            &tok,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(again["ends_at"], p["ends_at"]);
    assert_eq!(again["refund_reason"], json!("顾客申请退卡"));
    assert_eq!(
        t.audit_actions()
            .await
            .iter()
            .filter(|a| *a == "card_purchase_refunded")
            .count(),
        1
    );
    assert_eq!(card_of(&t, c).await["active"], json!(false));
    // Orders after it save nothing on it; the settlement leaves it alone.
    order(&t, "RFO-1", c, 10_000, 300).await;
    end_periods(&t, c).await;
    t.app.cards().run_settlement().await.unwrap();
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM card_refunds").await, 0);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM card_savings").await, 0);
    assert_eq!(
        t.post(
            "/api/v1/member-cards/purchases/NOPE/refund",
            &tok,
            json!({})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
}

async fn a_card_doubles_the_points_of_orders_paid_while_it_runs(e: Engine) {
    let t = spawn_app(e).await;
    let r = t
        .send_json(
            Method::PUT,
            "/api/v1/points/settings",
            &t.admin,
            json!({"earn_points_per_yuan": 1, "redeem_points_per_yuan": 100,
                   "expiry": {"rule": "never"}, "max_redeem_percent": 50}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    new_card(&t, card_body("monthly", 1800, true, &[])).await;
    let c = customer_with_phone(&t, "13900007601", "双倍积分").await;
    order(&t, "DP-1", c, 10_000, 0).await;
    let balance = |v: Value| v["balance"].as_i64().unwrap();
    let b1 = balance(
        json_of(
            t.get(&format!("/api/v1/customers/{c}/points"), &t.admin)
                .await,
        )
        .await,
    );
    assert_eq!(b1, 100);
    buy(&t, &t.admin, "DP-CARD", c, "monthly").await;
    order(&t, "DP-2", c, 10_000, 0).await;
    let b2 = balance(
        json_of(
            t.get(&format!("/api/v1/customers/{c}/points"), &t.admin)
                .await,
        )
        .await,
    );
    assert_eq!(b2 - b1, 200, "double points with the card");
}

async fn segment_count(t: &TestApp, expr: &str) -> i64 {
    json_of(
        t.post(
            "/api/v1/segments/count",
            &t.admin,
            json!({ "expression": expr }),
        )
        .await,
    )
    .await["count"]
        .as_i64()
        .unwrap()
}

async fn segment_attributes_follow_the_card(e: Engine) {
    let t = spawn_app(e).await;
    new_card(&t, card_body("monthly", 1800, true, &[])).await;
    let a = customer_with_phone(&t, "13900007701", "有卡").await;
    let b = customer_with_phone(&t, "13900007702", "卡已结").await;
    customer_with_phone(&t, "13900007703", "无卡").await;
    buy(&t, &t.admin, "SEG-1", a, "monthly").await;
    buy(&t, &t.admin, "SEG-2", b, "monthly").await;
    order(&t, "SEGO-1", a, 10_000, 700).await;
    end_periods(&t, b).await;
    t.app.cards().run_settlement().await.unwrap();
    t.settle_jobs().await;
    assert_eq!(segment_count(&t, "card_active").await, 1);
    assert_eq!(segment_count(&t, "not card_active").await, 2);
    assert_eq!(segment_count(&t, "card_savings_fen >= 700").await, 1);
    assert_eq!(segment_count(&t, "card_savings_fen < 700").await, 0);
    assert_eq!(
        segment_count(&t, "card_expires_at after 2000-01-01").await,
        1
    );
}
