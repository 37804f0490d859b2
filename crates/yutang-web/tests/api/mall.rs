//! The points mall (issue #22 item 4) through the HTTP API on both engines: exchanges are
//! idempotent, keep the per-customer limit and never oversell — also with 50 concurrent
//! clients on the last 5 units — a short balance writes nothing, cancellations and expiries
//! return points and stock exactly once, fulfilment moves only where it may, and bad items
//! are refused naming the field.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::customers::customer_with_phone;
use crate::helpers::{Engine, TestApp, error_of, spawn_app};
use crate::promotions::{template, token};

both_engines!(
    exchanges_are_idempotent_and_traced,
    the_per_customer_limit_holds,
    a_short_balance_writes_nothing,
    fifty_clients_on_the_last_five_never_oversell,
    cancellation_returns_points_and_stock_once,
    unpaid_exchanges_expire_once,
    fulfilment_moves_only_where_it_may,
    bad_items_are_refused_naming_the_field,
);

async fn ok_json(r: reqwest::Response) -> Value {
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(s.is_success(), "{s}: {v}");
    v
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

async fn grant(t: &TestApp, c: i64, points: i64) {
    let r = keyed(
        t,
        &format!("/api/v1/customers/{c}/points/adjustments"),
        &t.admin,
        Some(&format!("grant-{c}-{points}")),
        json!({"kind": "grant", "points": points, "reason": "积分商城测试"}),
    )
    .await;
    ok_json(r).await;
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

async fn books_balanced(t: &TestApp) -> Value {
    let v = ok_json(t.get("/api/v1/points/liability", &t.admin).await).await;
    assert_eq!(v["balanced"], json!(true), "{v}");
    v
}

fn gift(stock: i64, limit: Option<i64>) -> Value {
    json!({"kind": "gift", "name": "品牌保温杯", "points_price": 100, "stock": stock,
           "per_customer_limit": limit, "image_url": "https://img.example.com/cup.png"})
}

async fn item(t: &TestApp, body: Value) -> i64 {
    let r = t.post("/api/v1/mall/items", &t.admin, body).await;
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn item_row(t: &TestApp, id: i64) -> Value {
    ok_json(t.get(&format!("/api/v1/mall/items/{id}"), &t.admin).await).await
}

/// (stock, sold) of an item.
async fn stock(t: &TestApp, id: i64) -> (i64, i64) {
    let v = item_row(t, id).await;
    (v["stock"].as_i64().unwrap(), v["sold"].as_i64().unwrap())
}

async fn exchange(t: &TestApp, c: i64, item: i64, key: &str) -> reqwest::Response {
    keyed(
        t,
        &format!("/api/v1/customers/{c}/mall/exchanges"),
        &t.admin,
        Some(key),
        json!({"item_id": item}),
    )
    .await
}

async fn step(t: &TestApp, id: i64, what: &str, body: Value) -> reqwest::Response {
    t.post(
        &format!("/api/v1/mall/exchanges/{id}/{what}"),
        &t.admin,
        body,
    )
    .await
}

/// The customer's ledger entries `(kind, source_type, amount)`.
async fn entries(t: &TestApp, c: i64) -> Vec<(String, String, i64)> {
    let v = ok_json(
        t.get(
            &format!("/api/v1/customers/{c}/points/entries?limit=200"),
            &t.admin,
        )
        .await,
    )
    .await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["source_type"].as_str().unwrap().to_owned(),
                e["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn timeline_kinds(t: &TestApp, c: i64) -> Vec<String> {
    let v = ok_json(
        t.get(&format!("/api/v1/customers/{c}/timeline"), &t.admin)
            .await,
    )
    .await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn exchanges_are_idempotent_and_traced(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13900000101", "兑换顾客").await;
    grant(&t, c, 500).await;
    let cup = item(&t, gift(3, None)).await;
    let r = exchange(&t, c, cup, "ex-1").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["state"], "pending", "{first}");
    assert_eq!(first["points"], 100);
    assert_eq!((balance(&t, c).await, stock(&t, cup).await), (400, (2, 1)));
    // The replay answers the same exchange and changes nothing.
    let r = exchange(&t, c, cup, "ex-1").await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!((balance(&t, c).await, stock(&t, cup).await), (400, (2, 1)));
    // Another request under the key is refused; no key at all is refused.
    let other = item(&t, gift(3, None)).await;
    let (s, code, _) = error_of(exchange(&t, c, other, "ex-1").await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    let r = keyed(
        &t,
        &format!("/api/v1/customers/{c}/mall/exchanges"),
        &t.admin,
        None,
        json!({"item_id": cup}),
    )
    .await;
    let (s, code, field) = error_of(r).await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "required",
            Some("Idempotency-Key")
        )
    );
    // The customer exchanges for themselves; their list shows both, newest first.
    let tok = token(&t, c).await;
    let items = ok_json(t.get("/api/v1/public/mall/items", &tok).await).await;
    assert_eq!(items.as_array().unwrap().len(), 2, "{items}");
    let r = keyed(
        &t,
        "/api/v1/public/me/mall/exchanges",
        &tok,
        Some("mine-1"),
        json!({"item_id": cup}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = keyed(
        &t,
        "/api/v1/public/me/mall/exchanges",
        &tok,
        Some("mine-1"),
        json!({"item_id": cup}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mine = ok_json(t.get("/api/v1/public/me/mall/exchanges", &tok).await).await;
    assert_eq!(mine.as_array().unwrap().len(), 2, "{mine}");
    assert_eq!((balance(&t, c).await, stock(&t, cup).await), (300, (1, 2)));
    // A coupon item issues its coupon at once, in the same transaction.
    let tpl = ok_json(
        t.post("/api/v1/coupon-templates", &t.admin, template(10, 5))
            .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let coupon = item(
        &t,
        json!({"kind": "coupon", "name": "10 元券", "points_price": 50, "stock": 10,
               "coupon_template_id": tpl}),
    )
    .await;
    let v = ok_json(exchange(&t, c, coupon, "ex-coupon").await).await;
    assert_eq!(v["state"], "completed", "{v}");
    assert!(v["coupon_claim_id"].as_i64().is_some(), "{v}");
    let coupons = ok_json(t.get("/api/v1/public/coupons/mine", &tok).await).await;
    assert_eq!(coupons.as_array().unwrap().len(), 1, "{coupons}");
    // Every debit is in the ledger with its source; the books balance.
    let mall: Vec<_> = entries(&t, c)
        .await
        .into_iter()
        .filter(|e| e.1 == "mall")
        .collect();
    assert_eq!(
        mall.iter().map(|e| (e.0.as_str(), e.2)).collect::<Vec<_>>(),
        vec![("redeem", 50), ("redeem", 100), ("redeem", 100)]
    );
    books_balanced(&t).await;
    let kinds = timeline_kinds(&t, c).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "mall_exchanged").count(),
        3,
        "{kinds:?}"
    );
    // Staff see the customer's exchanges and filter the brand's.
    let v = ok_json(
        t.get(&format!("/api/v1/customers/{c}/mall/exchanges"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
    let v = ok_json(
        t.get("/api/v1/mall/exchanges?state=completed&limit=1", &t.admin)
            .await,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["next_before"], Value::Null);
    let (s, code, field) =
        error_of(t.get("/api/v1/mall/exchanges?state=lost", &t.admin).await).await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_status",
            Some("state")
        )
    );
}

async fn the_per_customer_limit_holds(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13900000102", "限兑顾客").await;
    grant(&t, c, 1000).await;
    let cup = item(&t, gift(10, Some(1))).await;
    let first = ok_json(exchange(&t, c, cup, "l-1").await).await;
    let (s, code, _) = error_of(exchange(&t, c, cup, "l-2").await).await;
    assert_eq!((s, code.as_str()), (StatusCode::CONFLICT, "limit_reached"));
    assert_eq!((balance(&t, c).await, stock(&t, cup).await), (900, (9, 1)));
    // A cancelled exchange does not count any more.
    let id = first["id"].as_i64().unwrap();
    ok_json(step(&t, id, "cancel", json!({})).await).await;
    assert_eq!(
        exchange(&t, c, cup, "l-3").await.status(),
        StatusCode::CREATED
    );
    // Another customer has their own limit.
    let d = customer_with_phone(&t, "13900000103", "另一位").await;
    grant(&t, d, 100).await;
    assert_eq!(
        exchange(&t, d, cup, "l-4").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(stock(&t, cup).await, (8, 2));
}

async fn a_short_balance_writes_nothing(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13900000104", "积分不足").await;
    grant(&t, c, 50).await;
    let cup = item(&t, gift(5, None)).await;
    let (s, code, field) = error_of(exchange(&t, c, cup, "short-1").await).await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "insufficient_points",
            Some("points")
        )
    );
    assert_eq!((balance(&t, c).await, stock(&t, cup).await), (50, (5, 0)));
    let v = ok_json(t.get("/api/v1/mall/exchanges", &t.admin).await).await;
    assert_eq!(v["items"], json!([]));
    assert!(
        !timeline_kinds(&t, c)
            .await
            .iter()
            .any(|k| k == "mall_exchanged")
    );
    // Sold out and off sale are refused before anything is written too.
    let none = item(&t, gift(0, None)).await;
    grant(&t, c, 500).await;
    let (s, code, _) = error_of(exchange(&t, c, none, "short-2").await).await;
    assert_eq!((s, code.as_str()), (StatusCode::CONFLICT, "out_of_stock"));
    let off = item(
        &t,
        json!({"kind": "gift", "name": "下架杯", "points_price": 10, "stock": 5, "on_sale": false}),
    )
    .await;
    let (s, code, _) = error_of(exchange(&t, c, off, "short-3").await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "item_off_sale")
    );
    assert_eq!(balance(&t, c).await, 550);
    books_balanced(&t).await;
}

async fn fifty_clients_on_the_last_five_never_oversell(e: Engine) {
    let t = Arc::new(spawn_app(e).await);
    let cup = item(&t, gift(5, None)).await;
    let mut customers = Vec::new();
    for i in 0..50 {
        let c = customer_with_phone(&t, &format!("1390001{i:04}"), "抢兑").await;
        grant(&t, c, 100).await;
        customers.push(c);
    }
    let mut tasks = Vec::new();
    for (i, c) in customers.iter().copied().enumerate() {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            exchange(&t, c, cup, &format!("race-{i}")).await.status()
        }));
    }
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for h in tasks {
        *by_status.entry(h.await.unwrap().as_u16()).or_default() += 1;
    }
    assert_eq!(by_status.get(&201), Some(&5), "{by_status:?}");
    assert_eq!(by_status.get(&409), Some(&45), "{by_status:?}");
    assert_eq!(stock(&t, cup).await, (0, 5));
    // Exactly the winners paid, 100 each.
    let mut spent = 0;
    for c in &customers {
        let b = balance(&t, *c).await;
        assert!(b == 0 || b == 100, "{b}");
        spent += 100 - b;
    }
    assert_eq!(spent, 500);
    let v = books_balanced(&t).await;
    let redeemed = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == "redeemed")
        .unwrap()["balance"]
        .as_i64()
        .unwrap();
    assert_eq!(redeemed.abs(), 500, "{v}");
    let list = ok_json(t.get("/api/v1/mall/exchanges?limit=200", &t.admin).await).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
}

async fn cancellation_returns_points_and_stock_once(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13900000105", "取消顾客").await;
    grant(&t, c, 300).await;
    let cup = item(&t, gift(5, None)).await;
    let ex = ok_json(exchange(&t, c, cup, "c-1").await).await;
    let id = ex["id"].as_i64().unwrap();
    assert_eq!((balance(&t, c).await, stock(&t, cup).await), (200, (4, 1)));
    let v = ok_json(step(&t, id, "cancel", json!({})).await).await;
    assert_eq!(v["state"], "cancelled", "{v}");
    assert!(v["return_entry_id"].as_i64().is_some());
    assert_eq!((balance(&t, c).await, stock(&t, cup).await), (300, (5, 0)));
    // Cancelling again answers the cancelled exchange and returns nothing more.
    let v = ok_json(step(&t, id, "cancel", json!({})).await).await;
    assert_eq!(v["state"], "cancelled");
    assert_eq!((balance(&t, c).await, stock(&t, cup).await), (300, (5, 0)));
    let cancels = entries(&t, c)
        .await
        .into_iter()
        .filter(|e| e.0 == "cancel" && e.1 == "mall")
        .count();
    assert_eq!(cancels, 1);
    // The customer cancels their own pending exchange, not someone else's.
    let tok = token(&t, c).await;
    let mine = ok_json(
        keyed(
            &t,
            "/api/v1/public/me/mall/exchanges",
            &tok,
            Some("own-1"),
            json!({"item_id": cup}),
        )
        .await,
    )
    .await;
    let mine_id = mine["id"].as_i64().unwrap();
    let d = customer_with_phone(&t, "13900000106", "旁人").await;
    let other_tok = token(&t, d).await;
    let r = t
        .post(
            &format!("/api/v1/public/me/mall/exchanges/{mine_id}/cancel"),
            &other_tok,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for _ in 0..2 {
        let v = ok_json(
            t.post(
                &format!("/api/v1/public/me/mall/exchanges/{mine_id}/cancel"),
                &tok,
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(v["state"], "cancelled");
    }
    assert_eq!((balance(&t, c).await, stock(&t, cup).await), (300, (5, 0)));
    // Concurrent cancels of one exchange return once.
    let ex = ok_json(exchange(&t, c, cup, "c-2").await).await;
    let id = ex["id"].as_i64().unwrap();
    let t = Arc::new(t);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            step(&t, id, "cancel", json!({})).await.status()
        }));
    }
    for h in tasks {
        assert_eq!(h.await.unwrap(), StatusCode::OK);
    }
    assert_eq!((balance(&t, c).await, stock(&t, cup).await), (300, (5, 0)));
    books_balanced(&t).await;
    assert!(t.audit_actions().await.iter().any(|a| a == "mall_changed"));
}

async fn unpaid_exchanges_expire_once(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13900000107", "加钱购").await;
    grant(&t, c, 1000).await;
    let mug = item(
        &t,
        json!({"kind": "product", "name": "积分+现金 马克杯", "points_price": 200,
               "cash_price_fen": 990, "stock": 5, "sku": "MUG-1", "payment_minutes": 15}),
    )
    .await;
    // Paid in time: on to pending; the same payment again changes nothing.
    let a = ok_json(exchange(&t, c, mug, "cash-1").await).await;
    assert_eq!(a["state"], "awaiting_payment", "{a}");
    assert_eq!(a["cash_fen"], 990);
    assert!(a["pay_by"].as_i64().unwrap() > a["created_at"].as_i64().unwrap());
    let a_id = a["id"].as_i64().unwrap();
    for _ in 0..2 {
        let v = ok_json(step(&t, a_id, "payment", json!({"order_ref": "ORD-1"})).await).await;
        assert_eq!(
            (v["state"].as_str(), v["order_ref"].as_str()),
            (Some("pending"), Some("ORD-1"))
        );
    }
    let (s, code, _) =
        error_of(step(&t, a_id, "payment", json!({"order_ref": "ORD-2"})).await).await;
    assert_eq!(
        (s, code.as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_exchange_transition"
        )
    );
    // Unpaid past the window: a late payment is refused, the run expires it once.
    let b = ok_json(exchange(&t, c, mug, "cash-2").await).await;
    let b_id = b["id"].as_i64().unwrap();
    assert_eq!((balance(&t, c).await, stock(&t, mug).await), (600, (3, 2)));
    t.exec("UPDATE mall_exchanges SET pay_by = 1000 WHERE state = 'awaiting_payment'")
        .await;
    let (s, code, _) =
        error_of(step(&t, b_id, "payment", json!({"order_ref": "ORD-3"})).await).await;
    assert_eq!(
        (s, code.as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_exchange_transition"
        )
    );
    assert!(t.app.mall().schedule_expiry().await.unwrap().is_some());
    t.settle_jobs().await;
    let v = ok_json(
        t.get(&format!("/api/v1/mall/exchanges/{b_id}"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(v["state"], "expired", "{v}");
    assert_eq!((balance(&t, c).await, stock(&t, mug).await), (800, (4, 1)));
    // Again (as after a crash): nothing is due, nothing returns twice.
    assert!(!t.app.mall().expire_exchange(b_id).await.unwrap());
    assert!(t.app.mall().schedule_expiry().await.unwrap().is_none());
    assert_eq!((balance(&t, c).await, stock(&t, mug).await), (800, (4, 1)));
    // An expired exchange can be neither paid nor cancelled.
    let (_, code, _) = error_of(step(&t, b_id, "cancel", json!({})).await).await;
    assert_eq!(code, "invalid_exchange_transition");
    let returns = entries(&t, c)
        .await
        .into_iter()
        .filter(|e| e.0 == "cancel" && e.1 == "mall")
        .count();
    assert_eq!(returns, 1);
    books_balanced(&t).await;
}

async fn fulfilment_moves_only_where_it_may(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13900000108", "收货顾客").await;
    grant(&t, c, 1000).await;
    let cup = item(&t, gift(5, None)).await;
    let g = ok_json(exchange(&t, c, cup, "f-1").await).await["id"]
        .as_i64()
        .unwrap();
    // A gift: no fulfil, no delivery before shipping, a shipment needs its tracking number.
    for (what, body) in [
        ("fulfil", json!({})),
        ("deliver", json!({})),
        ("payment", json!({"order_ref": "X-1"})),
    ] {
        let (s, code, field) = error_of(step(&t, g, what, body).await).await;
        assert_eq!(
            (s, code.as_str(), field.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_exchange_transition",
                Some("state")
            ),
            "{what}"
        );
    }
    let (s, _, field) = error_of(
        step(
            &t,
            g,
            "ship",
            json!({"carrier": "顺丰", "tracking_no": " "}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, field.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("tracking_no"))
    );
    for _ in 0..2 {
        let v = ok_json(
            step(
                &t,
                g,
                "ship",
                json!({"carrier": "顺丰", "tracking_no": "SF100"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (
                v["state"].as_str(),
                v["carrier"].as_str(),
                v["tracking_no"].as_str()
            ),
            (Some("shipped"), Some("顺丰"), Some("SF100"))
        );
    }
    // Shipped: too late to cancel.
    let (_, code, _) = error_of(step(&t, g, "cancel", json!({})).await).await;
    assert_eq!(code, "invalid_exchange_transition");
    let v = ok_json(step(&t, g, "deliver", json!({})).await).await;
    assert_eq!(v["state"], "delivered");
    assert!(v["finished_at"].as_i64().is_some());
    let v = ok_json(step(&t, g, "deliver", json!({})).await).await;
    assert_eq!(v["state"], "delivered");
    // A product: fulfilled, never shipped.
    let mug = item(
        &t,
        json!({"kind": "product", "name": "马克杯", "points_price": 100, "stock": 5, "sku": "MUG-2"}),
    )
    .await;
    let p = ok_json(exchange(&t, c, mug, "f-2").await).await["id"]
        .as_i64()
        .unwrap();
    let (_, code, _) = error_of(
        step(
            &t,
            p,
            "ship",
            json!({"carrier": "顺丰", "tracking_no": "SF2"}),
        )
        .await,
    )
    .await;
    assert_eq!(code, "invalid_exchange_transition");
    assert_eq!(
        ok_json(step(&t, p, "fulfil", json!({})).await).await["state"],
        "fulfilled"
    );
    let (_, code, _) = error_of(step(&t, p, "cancel", json!({})).await).await;
    assert_eq!(code, "invalid_exchange_transition");
    // The customer cannot cancel a shipped gift either; points stay spent.
    let tok = token(&t, c).await;
    let (s, code, _) = error_of(
        t.post(
            &format!("/api/v1/public/me/mall/exchanges/{g}/cancel"),
            &tok,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, code.as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_exchange_transition"
        )
    );
    assert_eq!(balance(&t, c).await, 800);
    let audited = t.audit_actions().await;
    assert!(
        audited.iter().filter(|a| *a == "mall_changed").count() >= 5,
        "{audited:?}"
    );
    let kinds = timeline_kinds(&t, c).await;
    assert!(
        kinds.iter().any(|k| k == "mall_exchange_changed"),
        "{kinds:?}"
    );
}

async fn bad_items_are_refused_naming_the_field(e: Engine) {
    let t = spawn_app(e).await;
    let base = gift(5, None);
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("stock", json!(-1)), "stock", "invalid_stock"),
        (
            with("points_price", json!(0)),
            "points_price",
            "invalid_points",
        ),
        (
            with("points_price", json!(-5)),
            "points_price",
            "invalid_points",
        ),
        (
            with("cash_price_fen", json!(-1)),
            "cash_price_fen",
            "invalid_amount",
        ),
        (
            with("per_customer_limit", json!(0)),
            "per_customer_limit",
            "invalid_count",
        ),
        (with("kind", json!("car")), "kind", "invalid_item_kind"),
        (with("name", json!("")), "name", "required"),
        (
            with("image_url", json!("javascript:alert(1)")),
            "image_url",
            "invalid_url",
        ),
        (
            with("payment_minutes", json!(0)),
            "payment_minutes",
            "invalid_count",
        ),
        (
            with("coupon_template_id", json!(3)),
            "coupon_template_id",
            "invalid_field",
        ),
        (
            with("kind", json!("coupon")),
            "coupon_template_id",
            "required",
        ),
        (with("kind", json!("product")), "sku", "required"),
        (
            with("starts_at", json!(1_900_000_000_000_i64)),
            "ends_at",
            "required",
        ),
    ];
    for (body, field, code) in cases {
        let (s, got, f) =
            error_of(t.post("/api/v1/mall/items", &t.admin, body.clone()).await).await;
        assert_eq!(
            (s, got.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field)),
            "{body}"
        );
    }
    // A coupon item naming a template that does not exist.
    let (s, code, field) = error_of(
        t.post(
            "/api/v1/mall/items",
            &t.admin,
            json!({"kind": "coupon", "name": "券", "points_price": 10, "stock": 1, "coupon_template_id": 999}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
            Some("coupon_template_id")
        )
    );
    // Fractional points and an unknown field are refused at the edge.
    let r = t
        .post(
            "/api/v1/mall/items",
            &t.admin,
            with("points_price", json!(1.5)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = t
        .post("/api/v1/mall/items", &t.admin, with("colour", json!("red")))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was written.
    let v = ok_json(t.get("/api/v1/mall/items", &t.admin).await).await;
    assert_eq!(v, json!([]));
    // An edit is checked alike and cannot change the kind; a good one is audited.
    let id = item(&t, base.clone()).await;
    let put = |b: Value| {
        t.req(
            Method::PUT,
            &format!("/api/v1/mall/items/{id}"),
            Some(&t.admin),
        )
        .json(&b)
        .send()
    };
    let (_, code, field) = error_of(put(with("stock", json!(-3))).await.unwrap()).await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("invalid_stock", Some("stock"))
    );
    let (_, code, field) = error_of(
        put(json!({"kind": "product", "name": "杯", "points_price": 1, "stock": 1, "sku": "S"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("invalid_field", Some("kind"))
    );
    assert_eq!(stock(&t, id).await, (5, 0));
    let v = ok_json(put(with("stock", json!(9))).await.unwrap()).await;
    assert_eq!(v["stock"], 9);
    // An exchange made before the archive keeps naming its item after it.
    let holder = customer_with_phone(&t, "13900000108", "兑换过").await;
    grant(&t, holder, 100).await;
    let held = ok_json(exchange(&t, holder, id, "arch-0").await).await;
    assert_eq!(held["item_name"], json!("品牌保温杯"), "{held}");
    // Archived: out of the lists, closed to exchanges.
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/mall/items/{id}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let v = ok_json(t.get("/api/v1/mall/items", &t.admin).await).await;
    assert_eq!(v, json!([]));
    let v = ok_json(t.get("/api/v1/mall/items?archived=true", &t.admin).await).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let c = customer_with_phone(&t, "13900000109", "归档").await;
    grant(&t, c, 100).await;
    assert_eq!(
        exchange(&t, c, id, "arch-1").await.status(),
        StatusCode::NOT_FOUND
    );
    let mine = ok_json(
        t.get("/api/v1/public/me/mall/exchanges", &token(&t, holder).await)
            .await,
    )
    .await;
    assert_eq!(mine[0]["id"], held["id"]);
    assert_eq!(mine[0]["item_name"], json!("品牌保温杯"), "{mine}");
}
