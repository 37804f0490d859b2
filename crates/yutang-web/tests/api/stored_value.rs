//! Stored value (issue #22 item 5) through the HTTP API on both engines: top-ups with the best
//! top-up gift rule (stored value, points, a coupon), spends principal first and gift last,
//! spend refunds back to the portions taken, top-up refunds returning unspent principal and
//! clawing back their gift, replays changing nothing, 50 concurrent spends of one balance, an
//! insufficient balance writing nothing, bad input naming the field, and balanced books
//! after every generated sequence of them (a property test).

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::acquisition::scalar;
use crate::customers::customer_with_phone;
use crate::helpers::{Engine, TestApp, error_of, spawn_app};
use crate::promotions::{created_id, template, token};

both_engines!(
    top_ups_get_the_best_gift_and_replays_change_nothing,
    spends_take_principal_first_and_refunds_give_back_what_they_took,
    a_top_up_refund_returns_unspent_principal_and_claws_back_its_gift,
    concurrent_spends_spend_a_balance_exactly_once,
    bad_input_is_refused_naming_the_field_and_nothing_written,
    every_sequence_keeps_the_books_balanced,
);

async fn ok_json(r: reqwest::Response) -> Value {
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(s.is_success(), "{s}: {v}");
    v
}

/// `(principal, gift)` of a customer's balance.
async fn balance(t: &TestApp, c: i64) -> (i64, i64) {
    let v = ok_json(
        t.get(&format!("/api/v1/customers/{c}/stored-value"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(
        v["balance_fen"].as_i64().unwrap(),
        v["principal_fen"].as_i64().unwrap() + v["gift_fen"].as_i64().unwrap()
    );
    (
        v["principal_fen"].as_i64().unwrap(),
        v["gift_fen"].as_i64().unwrap(),
    )
}

async fn books_balanced(t: &TestApp) -> Value {
    let v = ok_json(t.get("/api/v1/stored-value/liability", &t.admin).await).await;
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

async fn top_up(t: &TestApp, c: i64, order_no: &str, fen: i64) -> reqwest::Response {
    t.post(
        &format!("/api/v1/customers/{c}/stored-value/top-ups"),
        &t.admin,
        json!({"order_no": order_no, "amount_fen": fen}),
    )
    .await
}

async fn spend(t: &TestApp, c: i64, fen: i64, key: Option<&str>) -> reqwest::Response {
    let mut r = t
        .req(
            Method::POST,
            &format!("/api/v1/customers/{c}/stored-value/spends"),
            Some(&t.admin),
        )
        .json(&json!({"amount_fen": fen, "order_ref": "POS-1"}));
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    r.send().await.unwrap()
}

async fn refund_spend(
    t: &TestApp,
    id: i64,
    refund_no: &str,
    fen: Option<i64>,
) -> reqwest::Response {
    let mut body = json!({"refund_no": refund_no});
    if let Some(f) = fen {
        body["amount_fen"] = json!(f);
    }
    t.post(
        &format!("/api/v1/stored-value/spends/{id}/refund"),
        &t.admin,
        body,
    )
    .await
}

async fn rule(t: &TestApp, body: Value) -> i64 {
    created_id(
        t.post("/api/v1/stored-value/top-up-gifts", &t.admin, body)
            .await,
    )
    .await
}

async fn points(t: &TestApp, c: i64) -> i64 {
    ok_json(
        t.get(&format!("/api/v1/customers/{c}/points"), &t.admin)
            .await,
    )
    .await["balance"]
        .as_i64()
        .unwrap()
}

async fn entry_count(t: &TestApp) -> i64 {
    scalar(t, "SELECT COUNT(*) FROM stored_value_entries").await
}

async fn top_ups_get_the_best_gift_and_replays_change_nothing(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800010001", "储值顾客").await;
    let coupon = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
            .await,
    )
    .await;
    // 100 CNY: 10 CNY gift; 500 CNY: 80 CNY gift, 200 points and a coupon.
    rule(
        &t,
        json!({"name": "充100送10", "min_top_up_fen": 10_000, "gift_fen": 1_000}),
    )
    .await;
    let big = rule(
        &t,
        json!({"name": "充500送80", "min_top_up_fen": 50_000, "gift_fen": 8_000,
               "points": 200, "coupon_template_id": coupon}),
    )
    .await;
    // Below every threshold: no gift.
    let v = ok_json(top_up(&t, c, "TU-1", 5_000).await).await;
    assert_eq!(v["rule_id"], Value::Null);
    assert_eq!(balance(&t, c).await, (5_000, 0));
    // The best rule reached applies, once.
    let r = top_up(&t, c, "TU-2", 60_000).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = ok_json(r).await;
    assert_eq!(v["rule_id"], json!(big));
    assert_eq!(v["gift_fen"], json!(8_000));
    assert_eq!(v["balance"]["principal_fen"], json!(65_000));
    assert_eq!(v["balance"]["gift_fen"], json!(8_000));
    assert_eq!(points(&t, c).await, 200);
    let coupons = format!("SELECT COUNT(*) FROM coupons WHERE customer_id = {c}");
    assert_eq!(scalar(&t, &coupons).await, 1);
    // A replay answers the first top-up and gives nothing again.
    let entries = entry_count(&t).await;
    let r = top_up(&t, c, "TU-2", 60_000).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(ok_json(r).await["id"], v["id"]);
    assert_eq!(balance(&t, c).await, (65_000, 8_000));
    assert_eq!(points(&t, c).await, 200);
    assert_eq!(scalar(&t, &coupons).await, 1);
    assert_eq!(entry_count(&t).await, entries);
    // The same order no with another amount is refused.
    assert_eq!(
        error_of(top_up(&t, c, "TU-2", 60_001).await).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused".into(),
            Some("Idempotency-Key".into())
        )
    );
    // An archived rule stops applying: 100 CNY now gets the 10 CNY rule only if active.
    let small = ok_json(t.get("/api/v1/stored-value/top-up-gifts", &t.admin).await).await;
    let small_id = small
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["min_top_up_fen"] == json!(10_000))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = t
        .send_json(
            Method::DELETE,
            &format!("/api/v1/stored-value/top-up-gifts/{small_id}"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(ok_json(r).await["status"], json!("archived"));
    let v = ok_json(top_up(&t, c, "TU-3", 10_000).await).await;
    assert_eq!(v["rule_id"], Value::Null);
    // Every entry traces to its cause, with the running portions.
    let v = ok_json(
        t.get(
            &format!("/api/v1/customers/{c}/stored-value/entries?limit=200"),
            &t.admin,
        )
        .await,
    )
    .await;
    let kinds: Vec<(&str, i64, i64)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["principal_after"].as_i64().unwrap(),
                e["gift_after"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("top_up", 5_000, 0),
            ("top_up", 65_000, 0),
            ("gift", 65_000, 8_000),
            ("top_up", 75_000, 8_000),
        ]
    );
    // The customer sees their own balance.
    let tok = token(&t, c).await;
    let mine = ok_json(t.get("/api/v1/public/me/stored-value", &tok).await).await;
    assert_eq!(mine["balance_fen"], json!(83_000));
    // …and their own entries, newest first, a page at a time (the member centre's list).
    let page = ok_json(
        t.get("/api/v1/public/me/stored-value/entries?limit=3", &tok)
            .await,
    )
    .await;
    let ids = |p: &Value| -> Vec<i64> {
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    let all: Vec<i64> = ids(&v);
    assert_eq!(ids(&page), all[..3].to_vec());
    assert_eq!(page["items"][0]["kind"], json!("top_up"));
    assert_eq!(page["items"][0]["amount"], json!(10_000));
    let before = page["next_before"].as_i64().unwrap();
    let rest = ok_json(
        t.get(
            &format!("/api/v1/public/me/stored-value/entries?before={before}"),
            &tok,
        )
        .await,
    )
    .await;
    assert_eq!(ids(&rest), all[3..].to_vec());
    assert_eq!(rest["next_before"], Value::Null);
    // Another customer's token sees none of them; a bad limit is 422 naming it.
    let stranger = customer_with_phone(&t, "13800010009", "旁人").await;
    let none = ok_json(
        t.get(
            "/api/v1/public/me/stored-value/entries",
            &token(&t, stranger).await,
        )
        .await,
    )
    .await;
    assert_eq!(none["items"], json!([]));
    let r = t
        .get("/api/v1/public/me/stored-value/entries?limit=x", &tok)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The H5 member centre shows the balance and its split.
    let html = t
        .req(Method::GET, &format!("/h5/member?token={tok}"), None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"member-stored-value\""), "{html}");
    assert!(html.contains("¥830.00"), "{html}");
    let l = books_balanced(&t).await;
    assert_eq!(
        (l["principal_fen"].as_i64(), l["gift_fen"].as_i64()),
        (Some(75_000), Some(8_000))
    );
    assert!(
        t.audit_actions()
            .await
            .contains(&"stored_value_changed".to_owned())
    );
}

async fn spends_take_principal_first_and_refunds_give_back_what_they_took(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800010002", "消费顾客").await;
    rule(
        &t,
        json!({"name": "充100送20", "min_top_up_fen": 10_000, "gift_fen": 2_000}),
    )
    .await;
    ok_json(top_up(&t, c, "S-TU-1", 10_000).await).await;
    assert_eq!(balance(&t, c).await, (10_000, 2_000));
    // 80 CNY: all from the principal.
    let s1 = ok_json(spend(&t, c, 8_000, Some("pos-1")).await).await;
    assert_eq!(
        (s1["principal"].as_i64(), s1["gift"].as_i64()),
        (Some(8_000), Some(0))
    );
    // 30 CNY: the last 20 of principal, then 10 of gift.
    let r = spend(&t, c, 3_000, Some("pos-2")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let s2 = ok_json(r).await;
    assert_eq!(
        (s2["principal"].as_i64(), s2["gift"].as_i64()),
        (Some(2_000), Some(1_000))
    );
    assert_eq!(balance(&t, c).await, (0, 1_000));
    // A replayed spend answers the first; the same key with another body is refused.
    let r = spend(&t, c, 3_000, Some("pos-2")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(ok_json(r).await["id"], s2["id"]);
    assert_eq!(
        error_of(spend(&t, c, 2_999, Some("pos-2")).await).await.1,
        "idempotency_key_reused"
    );
    assert_eq!(balance(&t, c).await, (0, 1_000));
    // Refunding part of the second spend: in its proportion (2:1).
    let id2 = s2["id"].as_i64().unwrap();
    let r = refund_spend(&t, id2, "RF-1", Some(1_500)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = ok_json(r).await;
    assert_eq!(
        (
            v["refunded_principal"].as_i64(),
            v["refunded_gift"].as_i64()
        ),
        (Some(1_000), Some(500))
    );
    assert_eq!(balance(&t, c).await, (1_000, 1_500));
    // The same refund again changes nothing.
    let r = refund_spend(&t, id2, "RF-1", Some(1_500)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(balance(&t, c).await, (1_000, 1_500));
    // More than is left is refused; the rest (no amount) gives back exactly what is left.
    assert_eq!(
        error_of(refund_spend(&t, id2, "RF-2", Some(1_501)).await).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "refund_exceeds_spend".into(),
            Some("amount_fen".into())
        )
    );
    let v = ok_json(refund_spend(&t, id2, "RF-3", None).await).await;
    assert_eq!(
        (
            v["refunded_principal"].as_i64(),
            v["refunded_gift"].as_i64()
        ),
        (Some(2_000), Some(1_000))
    );
    assert_eq!(balance(&t, c).await, (2_000, 2_000));
    // A whole refund of the first spend: the principal it took.
    let id1 = s1["id"].as_i64().unwrap();
    ok_json(refund_spend(&t, id1, "RF-4", None).await).await;
    assert_eq!(balance(&t, c).await, (10_000, 2_000));
    assert_eq!(
        error_of(refund_spend(&t, id1, "RF-5", None).await).await.1,
        "refund_exceeds_spend"
    );
    let l = books_balanced(&t).await;
    assert_eq!(l["outstanding_fen"], json!(12_000));
}

async fn a_top_up_refund_returns_unspent_principal_and_claws_back_its_gift(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800010003", "退款顾客").await;
    rule(
        &t,
        json!({"name": "充100送10", "min_top_up_fen": 10_000, "gift_fen": 1_000}),
    )
    .await;
    ok_json(top_up(&t, c, "R-TU-1", 10_000).await).await;
    ok_json(spend(&t, c, 3_000, Some("r-pos-1")).await).await;
    assert_eq!(balance(&t, c).await, (7_000, 1_000));
    let r = t
        .post(
            "/api/v1/stored-value/top-ups/R-TU-1/refund",
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v = ok_json(r).await;
    assert_eq!(v["status"], json!("refunded"));
    assert_eq!(
        (v["refunded_fen"].as_i64(), v["clawed_back_fen"].as_i64()),
        (Some(7_000), Some(1_000))
    );
    assert_eq!(balance(&t, c).await, (0, 0));
    // Once only.
    let entries = entry_count(&t).await;
    let r = t
        .post(
            "/api/v1/stored-value/top-ups/R-TU-1/refund",
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(entry_count(&t).await, entries);
    // A gift partly spent: only what is left of it is clawed back. The principal is one
    // pool: the refund returns what is unspent, at most the top-up's amount.
    ok_json(top_up(&t, c, "R-TU-2", 10_000).await).await;
    ok_json(spend(&t, c, 10_400, Some("r-pos-2")).await).await;
    ok_json(top_up(&t, c, "R-TU-3", 3_000).await).await;
    assert_eq!(balance(&t, c).await, (3_000, 600));
    let v = ok_json(
        t.post(
            "/api/v1/stored-value/top-ups/R-TU-2/refund",
            &t.admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (v["refunded_fen"].as_i64(), v["clawed_back_fen"].as_i64()),
        (Some(3_000), Some(600))
    );
    assert_eq!(balance(&t, c).await, (0, 0));
    // Nothing left to return: the refund is recorded with no entry.
    let entries = entry_count(&t).await;
    let v = ok_json(
        t.post(
            "/api/v1/stored-value/top-ups/R-TU-3/refund",
            &t.admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (v["status"].as_str(), v["refunded_fen"].as_i64()),
        (Some("refunded"), Some(0))
    );
    assert_eq!(entry_count(&t).await, entries);
    assert_eq!(
        t.post(
            "/api/v1/stored-value/top-ups/NOPE/refund",
            &t.admin,
            json!({})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    books_balanced(&t).await;
}

async fn concurrent_spends_spend_a_balance_exactly_once(e: Engine) {
    let t = Arc::new(spawn_app(e).await);
    let c = customer_with_phone(&t, "13800010004", "并发储值").await;
    ok_json(top_up(&t, c, "C-TU-1", 10_000).await).await;
    // 50 clients, 3 CNY each from a 100 CNY balance, distinct keys: exactly 33 succeed and
    // 17 are refused; 1 CNY is left.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            spend(&t, c, 300, Some(&format!("cc-{i}"))).await.status()
        }));
    }
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for h in tasks {
        *by_status.entry(h.await.unwrap().as_u16()).or_default() += 1;
    }
    assert_eq!(by_status.get(&201), Some(&33), "{by_status:?}");
    assert_eq!(by_status.get(&422), Some(&17), "{by_status:?}");
    assert_eq!(balance(&t, c).await, (100, 0));
    // 20 clients with ONE key: one spend.
    ok_json(top_up(&t, c, "C-TU-2", 1_000).await).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            spend(&t, c, 500, Some("same-key")).await.status().as_u16()
        }));
    }
    let mut created = 0;
    for h in tasks {
        let s = h.await.unwrap();
        assert!([200, 201, 409].contains(&s), "{s}");
        created += usize::from(s == 201);
    }
    assert_eq!(created, 1);
    assert_eq!(balance(&t, c).await, (600, 0));
    books_balanced(&t).await;
}

async fn bad_input_is_refused_naming_the_field_and_nothing_written(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800010005", "坏输入").await;
    ok_json(top_up(&t, c, "B-TU-1", 1_000).await).await;
    let entries = entry_count(&t).await;
    // Insufficient balance: 422, nothing written.
    assert_eq!(
        error_of(spend(&t, c, 1_001, Some("b-1")).await).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "insufficient_balance".into(),
            Some("amount_fen".into())
        )
    );
    assert_eq!(entry_count(&t).await, entries);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM stored_value_spends").await,
        0
    );
    // No key.
    assert_eq!(
        error_of(spend(&t, c, 1, None).await).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "required".into(),
            Some("Idempotency-Key".into())
        )
    );
    for (body, field, code) in [
        (
            json!({"order_no": "B-2", "amount_fen": 0}),
            "amount_fen",
            "invalid_amount",
        ),
        (
            json!({"order_no": "B-2", "amount_fen": -5}),
            "amount_fen",
            "invalid_amount",
        ),
        (
            json!({"order_no": "", "amount_fen": 5}),
            "order_no",
            "invalid_external_id",
        ),
        (
            json!({"order_no": "B-2", "amount_fen": "5"}),
            "amount_fen",
            "invalid_field",
        ),
    ] {
        let r = t
            .post(
                &format!("/api/v1/customers/{c}/stored-value/top-ups"),
                &t.admin,
                body.clone(),
            )
            .await;
        let (s, got_code, got_field) = error_of(r).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(got_field.as_deref(), Some(field), "{body}");
        if code != "invalid_field" {
            assert_eq!(got_code, code, "{body}");
        }
    }
    for (body, field, code) in [
        (
            json!({"name": "", "min_top_up_fen": 100, "gift_fen": 1}),
            "name",
            "required",
        ),
        (
            json!({"name": "x", "min_top_up_fen": 0, "gift_fen": 1}),
            "min_top_up_fen",
            "invalid_amount",
        ),
        (
            json!({"name": "x", "min_top_up_fen": 100}),
            "gift_fen",
            "empty_reward",
        ),
        (
            json!({"name": "x", "min_top_up_fen": 100, "gift_fen": -1}),
            "gift_fen",
            "invalid_amount",
        ),
        (
            json!({"name": "x", "min_top_up_fen": 100, "coupon_template_id": 999_999}),
            "coupon_template_id",
            "unknown_reference",
        ),
    ] {
        let r = t
            .post("/api/v1/stored-value/top-up-gifts", &t.admin, body.clone())
            .await;
        assert_eq!(
            error_of(r).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                code.into(),
                Some(field.into())
            ),
            "{body}"
        );
    }
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM stored_value_gift_rules").await,
        0
    );
    assert_eq!(entry_count(&t).await, entries);
    assert_eq!(balance(&t, c).await, (1_000, 0));
}

#[derive(Debug, Clone)]
enum Op {
    TopUp(i64),
    Spend(i64),
    RefundSpend(usize, Option<i64>),
    RefundTopUp(usize),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        (100i64..30_000).prop_map(Op::TopUp),
        (1i64..20_000).prop_map(Op::Spend),
        (0usize..8, proptest::option::of(1i64..10_000)).prop_map(|(k, f)| Op::RefundSpend(k, f)),
        (0usize..8).prop_map(Op::RefundTopUp),
    ]
}

/// The customer's entries, oldest first.
async fn entries(t: &TestApp, c: i64) -> Vec<Value> {
    let v = ok_json(
        t.get(
            &format!("/api/v1/customers/{c}/stored-value/entries?limit=200"),
            &t.admin,
        )
        .await,
    )
    .await;
    assert!(v["next_before"].is_null(), "more than a page: {v}");
    let mut items = v["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

/// Every generated sequence of top-up / spend / spend refund / top-up refund (with a gift
/// rule in play), each step sent twice (the second a replay), keeps: the books balanced (the
/// accounts sum to zero), no portion below zero, a replay changing neither the balance nor
/// the ledger, and the customer's entries summing to the stored balance with each entry's
/// running portions ending at the account's.
async fn every_sequence_keeps_the_books_balanced(e: Engine) {
    use proptest::test_runner::{Config, TestRunner};
    let t = Arc::new(spawn_app(e).await);
    rule(
        &t,
        json!({"name": "充100送10", "min_top_up_fen": 10_000, "gift_fen": 1_000}),
    )
    .await;
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
    let c = customer_with_phone(t, &format!("136{n:08}"), "储值性质").await;
    let mut top_ups: Vec<String> = Vec::new();
    let mut spends: Vec<i64> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        for replay in [false, true] {
            let before = (balance(t, c).await, entry_count(t).await);
            match op {
                Op::TopUp(fen) => {
                    let order_no = format!("P{n}-T{i}");
                    let r = top_up(t, c, &order_no, *fen).await;
                    let want = if replay {
                        StatusCode::OK
                    } else {
                        StatusCode::CREATED
                    };
                    assert_eq!(r.status(), want);
                    if !replay {
                        top_ups.push(order_no);
                    }
                }
                Op::Spend(fen) => {
                    let r = spend(t, c, *fen, Some(&format!("P{n}-S{i}"))).await;
                    match r.status() {
                        StatusCode::CREATED if !replay => {
                            spends.push(ok_json(r).await["id"].as_i64().unwrap());
                        }
                        StatusCode::OK if replay => {}
                        StatusCode::UNPROCESSABLE_ENTITY => {
                            assert_eq!(error_of(r).await.1, "insufficient_balance");
                        }
                        s => panic!("spend {fen}: {s}"),
                    }
                }
                Op::RefundSpend(k, fen) => {
                    if let Some(id) = spends.get(k % spends.len().max(1)) {
                        let r = refund_spend(t, *id, &format!("P{n}-RS{i}"), *fen).await;
                        let s = r.status();
                        if s == StatusCode::UNPROCESSABLE_ENTITY {
                            assert_eq!(error_of(r).await.1, "refund_exceeds_spend");
                        } else {
                            assert!(s.is_success(), "{s}");
                        }
                    }
                }
                Op::RefundTopUp(k) => {
                    if let Some(order_no) = top_ups.get(k % top_ups.len().max(1)) {
                        let r = t
                            .post(
                                &format!("/api/v1/stored-value/top-ups/{order_no}/refund"),
                                &t.admin,
                                json!({}),
                            )
                            .await;
                        assert!(r.status().is_success(), "{}", r.status());
                    }
                }
            }
            let after = (balance(t, c).await, entry_count(t).await);
            assert!(after.0.0 >= 0 && after.0.1 >= 0, "{after:?}");
            if replay {
                assert_eq!(after, before, "replaying {op:?} changed something");
            }
        }
        books_balanced(t).await;
    }
    // The ledger ends at the stored balance: what was credited to the customer minus what
    // was debited, and the last entry's running portions.
    let (principal, gift) = balance(t, c).await;
    let items = entries(t, c).await;
    let signed = |e: &Value, part: &str| {
        let v = e[part].as_i64().unwrap();
        if e["credit"] == "customer" {
            v
        } else if e["debit"] == "customer" {
            -v
        } else {
            panic!("an entry of the customer moves nothing of theirs: {e}")
        }
    };
    let p: i64 = items.iter().map(|e| signed(e, "principal")).sum();
    let g: i64 = items.iter().map(|e| signed(e, "gift")).sum();
    assert_eq!((p, g), (principal, gift), "{items:?}");
    if let Some(last) = items.last() {
        assert_eq!(
            (
                last["principal_after"].as_i64().unwrap(),
                last["gift_after"].as_i64().unwrap()
            ),
            (principal, gift)
        );
    }
}
