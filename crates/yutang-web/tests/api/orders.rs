use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::customers::customer_with_phone;
use crate::helpers::{Engine, TestApp, error_of, spawn_app};

both_engines!(
    orders_are_idempotent_and_drive_aggregates,
    bad_orders_get_field_errors,
    concurrent_refunds_never_over_refund,
    external_id_reused_with_another_body_is_refused,
    status_changes_never_undo_a_refund,
    concurrent_orders_of_one_customer_keep_aggregates,
    order_list_filters_and_scopes_compose,
);

async fn orders_are_idempotent_and_drive_aggregates(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("CD-001").await;
    let g = t.staff("cd.g1", "guide", Some(store)).await;
    let c = customer_with_phone(&t, "13800000021", "郑爽").await;
    let order = json!({
        "external_id": "POS-1001", "customer_id": c, "channel": "store", "store_id": store,
        "guide_id": g, "campaign": "周二会员日", "paid_at": "2026-03-03T12:00:00+08:00",
        "discount_fen": 990,
        "lines": [
            {"sku": "CHERRY-5", "name": "车厘子 5斤", "quantity": 1, "unit_price_fen": 19900},
            {"sku": "APPLE", "name": "苹果", "quantity": 3, "unit_price_fen": 1290}
        ]
    });
    let r = t.post("/api/v1/orders", &t.admin, order.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["created"], true);
    let o = &v["order"];
    assert_eq!(o["amount_fen"], 19900 + 3 * 1290 - 990);
    assert_eq!(o["lines"].as_array().unwrap().len(), 2);
    assert_eq!(o["guide_id"], g);
    assert_eq!(o["campaign"], "周二会员日");
    let id = o["id"].as_i64().unwrap();
    // Replay: same order, nothing changes.
    let r = t.post("/api/v1/orders", &t.admin, order).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["created"].as_bool(), v["order"]["id"].as_i64()),
        (Some(false), Some(id))
    );
    // A second order by identity.
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": "MP-7", "identity": {"kind": "phone", "value": "138-0000-0021"},
                   "channel": "mini_program", "paid_at": "2026-04-01T12:00:00+08:00",
                   "lines": [{"sku": "BOX", "name": "礼盒", "quantity": 1, "unit_price_fen": 10000}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second = r.json::<Value>().await.unwrap()["order"]["id"]
        .as_i64()
        .unwrap();
    let cust = |v: &Value| {
        (
            v["order_count"].as_i64().unwrap(),
            v["total_spend_fen"].as_i64().unwrap(),
            v["avg_order_value_fen"].as_i64().unwrap(),
        )
    };
    let get = || async {
        let v: Value = t
            .get(&format!("/api/v1/customers/{c}"), &t.admin)
            .await
            .json()
            .await
            .unwrap();
        v["customer"].clone()
    };
    let first_amount = 19900 + 3 * 1290 - 990;
    let v = get().await;
    assert_eq!(
        cust(&v),
        (2, first_amount + 10000, (first_amount + 10000) / 2)
    );
    assert_eq!(v["first_order_at"], "2026-03-03T04:00:00.000Z");
    assert_eq!(v["last_order_at"], "2026-04-01T04:00:00.000Z");
    // Fulfilment.
    for (status, code) in [
        ("shipped", StatusCode::OK),
        ("completed", StatusCode::OK),
        ("completed", StatusCode::OK),
    ] {
        let r = t
            .post(
                &format!("/api/v1/orders/{id}/status"),
                &t.admin,
                json!({"status": status}),
            )
            .await;
        assert_eq!(r.status(), code);
    }
    let r = t
        .post(
            &format!("/api/v1/orders/{id}/status"),
            &t.admin,
            json!({"status": "shipped"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "invalid_transition");
    // Partial refund, replay, then full refund of the second order.
    let refund = json!({"refund_id": "R-1", "amount_fen": 3000});
    let v: Value = t
        .post(
            &format!("/api/v1/orders/{second}/refunds"),
            &t.admin,
            refund.clone(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["applied"].as_bool(), v["order"]["status"].as_str()),
        (Some(true), Some("partially_refunded"))
    );
    let v: Value = t
        .post(
            &format!("/api/v1/orders/{second}/refunds"),
            &t.admin,
            refund,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["applied"], false);
    assert_eq!(v["order"]["refunded_fen"], 3000);
    assert_eq!(
        cust(&get().await),
        (2, first_amount + 7000, (first_amount + 7000) / 2)
    );
    let r = t
        .post(
            &format!("/api/v1/orders/{second}/refunds"),
            &t.admin,
            json!({"refund_id": "R-2", "amount_fen": 7001}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "refund_exceeds_paid");
    let r = t
        .post(
            &format!("/api/v1/orders/{second}/refunds"),
            &t.admin,
            json!({"refund_id": "R-1", "amount_fen": 10}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "refund_id_reused");
    let v: Value = t
        .post(
            &format!("/api/v1/orders/{second}/refunds"),
            &t.admin,
            json!({"refund_id": "R-2", "amount_fen": 7000}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["order"]["status"], "refunded");
    // A fully refunded order no longer counts.
    let v = get().await;
    assert_eq!(cust(&v), (1, first_amount, first_amount));
    assert_eq!(v["last_order_at"], "2026-03-03T04:00:00.000Z");
    let v: Value = t
        .get(
            &format!("/api/v1/orders?customer_id={c}&status=refunded"),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1);
    let tl: Value = t
        .get(
            &format!("/api/v1/customers/{c}/timeline?kind=order_refunded"),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tl["total"], 2);
}

async fn bad_orders_get_field_errors(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000022", "冯伟").await;
    let base = |lines: Value| json!({"external_id": "X-1", "customer_id": c, "channel": "store", "lines": lines});
    for (body, code, field) in [
        (
            base(json!([{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": 129.9}])),
            "amount_not_integer",
            "lines[0].unit_price_fen",
        ),
        (
            base(json!([{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": -100}])),
            "negative_amount",
            "lines[0].unit_price_fen",
        ),
        (
            base(json!([{"sku": "A", "name": "a", "quantity": 0, "unit_price_fen": 100}])),
            "invalid_quantity",
            "lines[0].quantity",
        ),
        (base(json!([])), "no_lines", "lines"),
        (
            json!({"external_id": "X-1", "customer_id": 999999, "channel": "store",
                   "lines": [{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": 100}]}),
            "unknown_customer",
            "customer",
        ),
        (
            json!({"external_id": "X-1", "customer_id": c, "channel": "store", "discount_fen": 0.5,
                   "lines": [{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": 100}]}),
            "amount_not_integer",
            "discount_fen",
        ),
        (
            json!({"external_id": "X-1", "customer_id": c, "channel": "Store!",
                   "lines": [{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": 100}]}),
            "invalid_channel",
            "channel",
        ),
        (
            json!({"external_id": "X-1", "customer_id": c, "channel": "store", "store_id": 999,
                   "lines": [{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": 100}]}),
            "unknown_store",
            "store_id",
        ),
        (
            json!({"external_id": "X-1", "customer_id": c, "channel": "store", "status": "refunded",
                   "lines": [{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": 100}]}),
            "invalid_order_status",
            "status",
        ),
    ] {
        let r = t.post("/api/v1/orders", &t.admin, body).await;
        let (s, got, f) = error_of(r).await;
        assert_eq!(
            (s, got.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field))
        );
    }
    // Nothing was written.
    let v: Value = t
        .get("/api/v1/orders", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 0);
    let r = t
        .post(
            "/api/v1/orders/999/refunds",
            &t.admin,
            json!({"refund_id": "R", "amount_fen": 1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn scalar(t: &TestApp, sql: &'static str) -> i64 {
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        yutang_store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn new_order(t: &TestApp, customer: i64, ext: &str, amount: i64) -> i64 {
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": ext, "customer_id": customer, "channel": "store",
                   "paid_at": "2026-03-03T12:00:00+08:00",
                   "lines": [{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": amount}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["order"]["id"]
        .as_i64()
        .unwrap()
}

/// Fire `n` refunds of `amount` at one order at once, each with its own refund id; returns
/// how many applied. Every other answer must be `refund_exceeds_paid`.
async fn parallel_refunds(t: &TestApp, order: i64, prefix: &str, n: usize, amount: i64) -> usize {
    let mut tasks = Vec::new();
    for i in 0..n {
        let req = t
            .req(
                Method::POST,
                &format!("/api/v1/orders/{order}/refunds"),
                Some(&t.admin),
            )
            .json(&json!({"refund_id": format!("{prefix}-{i}"), "amount_fen": amount}));
        tasks.push(tokio::spawn(async move {
            let r = req.send().await.unwrap();
            let s = r.status();
            let v: Value = r.json().await.unwrap();
            (s, v)
        }));
    }
    let mut applied = 0;
    for task in tasks {
        let (s, v) = task.await.unwrap();
        match s {
            StatusCode::OK => {
                assert_eq!(v["applied"], true, "{v}");
                applied += 1;
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(v["error"]["code"], "refund_exceeds_paid", "{v}")
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    applied
}

/// Issue #16: concurrent refunds (different refund ids) read the refunded amount without a
/// lock and over-refunded on PostgreSQL; aggregates and coupon returns went wrong with them.
async fn concurrent_refunds_never_over_refund(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000031", "韩梅").await;
    new_order(&t, c, "KEEP-1", 3000).await;
    // Ten full refunds at once: exactly one applies.
    let full = new_order(&t, c, "FULL-1", 2000).await;
    assert_eq!(parallel_refunds(&t, full, "RF-FULL", 10, 2000).await, 1);
    let o: Value = t
        .get(&format!("/api/v1/orders/{full}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (o["refunded_fen"].as_i64(), o["status"].as_str()),
        (Some(2000), Some("refunded")),
        "{o}"
    );
    // A coupon used on the next order comes back once its order is fully refunded.
    let tpl = json!({
        "name": "满10减1",
        "steps": [{"kind": "amount_off", "off_fen": 100, "threshold_fen": 1000}],
        "validity": {"kind": "days_from_claim", "days": 7},
        "claim_window": {"starts_at": chrono::Utc::now().timestamp_millis() - 86_400_000,
                         "ends_at": chrono::Utc::now().timestamp_millis() + 86_400_000},
        "stock": 10, "per_customer": 1, "audience": {"kind": "everyone"},
        "return_on_refund": true
    });
    let r = t.post("/api/v1/coupon-templates", &t.admin, tpl).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let tpl_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = t
        .post(
            &format!("/api/v1/coupon-templates/{tpl_id}/issue"),
            &t.admin,
            json!({"customer_id": c}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let coupons: Value = t
        .get(&format!("/api/v1/customers/{c}/coupons"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let coupon = coupons[0]["id"].as_i64().unwrap();
    // Six partial refunds of 400 on 2,000 at once: exactly five apply.
    let part = new_order(&t, c, "PART-1", 2000).await;
    let r = t
        .post(
            &format!("/api/v1/coupons/{coupon}/redeem"),
            &t.admin,
            json!({"order_id": part}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(parallel_refunds(&t, part, "RF-PART", 6, 400).await, 5);
    let o: Value = t
        .get(&format!("/api/v1/orders/{part}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (o["refunded_fen"].as_i64(), o["status"].as_str()),
        (Some(2000), Some("refunded")),
        "{o}"
    );
    assert_eq!(
        scalar(
            &t,
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM order_refunds"
        )
        .await,
        4000
    );
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM events WHERE kind = 'order_refunded'"
        )
        .await,
        6
    );
    let coupons: Value = t
        .get(&format!("/api/v1/customers/{c}/coupons"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(coupons[0]["state"], "claimed", "{coupons}");
    // Only the untouched order counts.
    let v: Value = t
        .get(&format!("/api/v1/customers/{c}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let v = &v["customer"];
    assert_eq!(
        (
            v["order_count"].as_i64(),
            v["total_spend_fen"].as_i64(),
            v["avg_order_value_fen"].as_i64()
        ),
        (Some(1), Some(3000), Some(3000)),
        "{v}"
    );
}

/// Issue #16: an order re-sent under the same external_id with a different body was answered
/// as a duplicate; it is refused now. Identical re-sends (even without paid_at, which defaults
/// to now) stay replays.
async fn external_id_reused_with_another_body_is_refused(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000041", "李雷").await;
    let body = |price: i64| {
        json!({"external_id": "EXT-1", "customer_id": c, "channel": "store",
               "lines": [{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": price}]})
    };
    let r = t.post("/api/v1/orders", &t.admin, body(1000)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = r.json().await.unwrap();
    let r = t.post("/api/v1/orders", &t.admin, body(1000)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["created"], false);
    assert_eq!(again["order"], first["order"]);
    let r = t.post("/api/v1/orders", &t.admin, body(9000)).await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "external_id_reused".into(),
            Some("external_id".into())
        )
    );
    let mut other_customer = body(1000);
    other_customer["customer_id"] = json!(customer_with_phone(&t, "13800000042", "韩梅梅").await);
    let r = t.post("/api/v1/orders", &t.admin, other_customer).await;
    assert_eq!(error_of(r).await.1, "external_id_reused");
    // Nothing changed.
    let o: Value = t
        .get(
            &format!("/api/v1/orders/{}", first["order"]["id"]),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(o["amount_fen"], 1000);
    assert_eq!(o["customer_id"], c);
    // An order stored before fingerprints were kept (empty) accepts any re-send as a replay.
    t.exec("UPDATE orders SET fingerprint = ''").await;
    let r = t.post("/api/v1/orders", &t.admin, body(9000)).await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// Issue #16 audit: marking an order shipped read its status, then wrote `shipped` without a
/// lock; a full refund committing in between was overwritten (a refunded order shown as
/// shipped). Ship and refund race on twenty orders: every one ends `refunded`.
async fn status_changes_never_undo_a_refund(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000071", "王芳").await;
    for i in 0..20 {
        let o = new_order(&t, c, &format!("SHIP-{i}"), 1000).await;
        let ship = t
            .req(
                Method::POST,
                &format!("/api/v1/orders/{o}/status"),
                Some(&t.admin),
            )
            .json(&json!({"status": "completed"}));
        let refund = t
            .req(
                Method::POST,
                &format!("/api/v1/orders/{o}/refunds"),
                Some(&t.admin),
            )
            .json(&json!({"refund_id": format!("RF-SHIP-{i}"), "amount_fen": 1000}));
        let a = tokio::spawn(async move { ship.send().await.unwrap() });
        let b = tokio::spawn(async move { refund.send().await.unwrap() });
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert_eq!(b.status(), StatusCode::OK);
        if a.status() != StatusCode::OK {
            assert_eq!(error_of(a).await.1, "invalid_transition");
        }
        let v: Value = t
            .get(&format!("/api/v1/orders/{o}"), &t.admin)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (v["status"].as_str(), v["refunded_fen"].as_i64()),
            (Some("refunded"), Some(1000)),
            "order {i}: {v}"
        );
    }
}

/// Issue #16: each order refreshes its customer's aggregates from the orders it can see; two
/// transactions for the same customer at once each missed the other's order and the later
/// write won with a stale total. Ten orders at once: the aggregates count all ten.
async fn concurrent_orders_of_one_customer_keep_aggregates(e: Engine) {
    let t = spawn_app(e).await;
    for round in 0..3 {
        one_customer_ten_orders(&t, round).await;
    }
}

async fn one_customer_ten_orders(t: &TestApp, round: usize) {
    let c = customer_with_phone(t, &format!("1380000{round:04}"), "陈静").await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let req = t
            .req(Method::POST, "/api/v1/orders", Some(&t.admin))
            .json(&json!({"external_id": format!("AGG-{round}-{i}"), "customer_id": c, "channel": "store",
                          "paid_at": "2026-03-03T12:00:00+08:00",
                          "lines": [{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": 100 * (i + 1)}]}));
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    let v: Value = t
        .get(&format!("/api/v1/customers/{c}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let v = &v["customer"];
    assert_eq!(
        (v["order_count"].as_i64(), v["total_spend_fen"].as_i64()),
        (Some(10), Some(5500)),
        "{v}"
    );
}

/// The order list builds its `WHERE` from the filters that are set (issue #17: a generic
/// `$n IS NULL OR …` made SQLite scan every order). Each filter alone and together, and each
/// scope, answer what they did before.
async fn order_list_filters_and_scopes_compose(e: Engine) {
    let t = spawn_app(e).await;
    let (north, south) = (t.store("BJ-001").await, t.store("SZ-001").await);
    let gn = t.staff("bj.g1", "guide", Some(north)).await;
    let gs = t.staff("sz.g1", "guide", Some(south)).await;
    t.staff("bj.m1", "store_manager", Some(north)).await;
    let (a, b) = (
        customer_with_phone(&t, "13800000051", "甲").await,
        customer_with_phone(&t, "13800000052", "乙").await,
    );
    crate::customers::follow(&t, a, gn).await;
    crate::customers::follow(&t, b, gs).await;
    let mut ids = std::collections::HashMap::new();
    for (ext, c, store, day) in [
        ("F-1", a, north, 1),
        ("F-2", a, south, 2),
        ("F-3", b, south, 3),
    ] {
        let r = t
            .post(
                "/api/v1/orders",
                &t.admin,
                json!({"external_id": ext, "customer_id": c, "channel": "store", "store_id": store,
                       "paid_at": format!("2026-03-0{day}T12:00:00+08:00"),
                       "lines": [{"sku": "S", "name": "货", "quantity": 1, "unit_price_fen": 1000}]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.insert(
            ext,
            r.json::<Value>().await.unwrap()["order"]["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let r = t
        .post(
            &format!("/api/v1/orders/{}/refunds", ids["F-2"]),
            &t.admin,
            json!({"refund_id": "RF-F2", "amount_fen": 1000}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let list = |path: String, token: String| {
        let t = &t;
        async move {
            let v: Value = t.get(&path, &token).await.json().await.unwrap();
            let got: Vec<i64> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_i64().unwrap())
                .collect();
            assert_eq!(v["total"].as_i64().unwrap() as usize, got.len(), "{path}");
            got
        }
    };
    let admin = t.admin.clone();
    let want = |exts: &[&str]| exts.iter().map(|e| ids[e]).collect::<Vec<_>>();
    assert_eq!(
        list("/api/v1/orders".into(), admin.clone()).await,
        want(&["F-3", "F-2", "F-1"])
    );
    assert_eq!(
        list(format!("/api/v1/orders?customer_id={a}"), admin.clone()).await,
        want(&["F-2", "F-1"])
    );
    assert_eq!(
        list(format!("/api/v1/orders?store_id={south}"), admin.clone()).await,
        want(&["F-3", "F-2"])
    );
    assert_eq!(
        list("/api/v1/orders?status=refunded".into(), admin.clone()).await,
        want(&["F-2"])
    );
    assert_eq!(
        list(
            format!("/api/v1/orders?customer_id={a}&store_id={south}&status=paid"),
            admin.clone()
        )
        .await,
        Vec::<i64>::new()
    );
    // Scopes: the north guide and the north manager see customer a's orders (a is followed
    // in the north store), whichever store sold them; nothing of b.
    for who in ["bj.g1", "bj.m1"] {
        let tok = t.login(who).await;
        assert_eq!(
            list("/api/v1/orders".into(), tok.clone()).await,
            want(&["F-2", "F-1"]),
            "{who}"
        );
        assert_eq!(
            list(format!("/api/v1/orders?store_id={south}"), tok).await,
            want(&["F-2"]),
            "{who}"
        );
    }
}
