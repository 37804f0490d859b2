use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::customers::customer_with_phone;
use crate::helpers::{Engine, error_of, spawn_app};

both_engines!(
    orders_are_idempotent_and_drive_aggregates,
    bad_orders_get_field_errors,
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
