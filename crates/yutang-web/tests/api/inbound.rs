//! Inbound order and member sync (issue #24 item 7): a generic signed order webhook and
//! 有赞云's message push, both mapped idempotently to orders, refunds and customers. The
//! 有赞 side is driven by a fake of the platform ([`FakeYouzan`]) that builds pushes the way
//! its documentation describes them: a JSON envelope whose `msg` is URL-encoded JSON (trade
//! messages) or an object (the newer refund messages), signed with `Event-Sign` =
//! md5(client_id + body + client_secret).

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_app::inbound::{generic_signature, youzan_signature};
use yutang_app::settings::Secret;

use crate::helpers::{Engine, TestApp, error_of, spawn_with};

both_engines!(
    generic_orders_flow_from_created_to_refunded_once,
    generic_messages_are_refused_without_a_valid_signature,
    generic_bad_messages_are_logged_and_named,
    youzan_pushes_map_to_orders_and_members,
    source_management_through_the_api,
    concurrent_copies_of_one_message_write_once,
);

async fn app(e: Engine) -> TestApp {
    spawn_with(e, |s| {
        s.secret_key = Some(Secret::new("cd".repeat(32)));
        // Nothing here needs the webhook loops.
        s.webhooks.deliver = false;
    })
    .await
}

/// Create a source; answers (id, receive path, secret).
async fn source(t: &TestApp, body: Value) -> (i64, String, Option<String>) {
    let r = t.post("/api/v1/inbound-sources", &t.admin, body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    (
        v["source"]["id"].as_i64().unwrap(),
        v["source"]["receive_path"].as_str().unwrap().to_owned(),
        v["secret"].as_str().map(str::to_owned),
    )
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Post a generic message signed with `secret` at `at` (unix seconds).
async fn send_at(t: &TestApp, path: &str, secret: &str, at: i64, body: &str) -> reqwest::Response {
    t.req(reqwest::Method::POST, path, None)
        .header("content-type", "application/json")
        .header(
            "x-yutang-signature",
            generic_signature(secret, at, body.as_bytes()),
        )
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn send(t: &TestApp, path: &str, secret: &str, msg: &Value) -> reqwest::Response {
    send_at(t, path, secret, now_secs(), &msg.to_string()).await
}

async fn json_of(r: reqwest::Response, want: StatusCode) -> Value {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, want, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn paid_order(ext: &str, phone: &str) -> Value {
    json!({
        "external_id": ext,
        "buyer": {"identities": [{"kind": "phone", "value": phone}], "name": "陈静"},
        "lines": [
            {"sku": "CH-5", "name": "车厘子 5 斤", "quantity": 1, "unit_price_fen": 19900},
            {"sku": "BAG", "name": "礼袋", "quantity": 2, "unit_price_fen": 500},
        ],
        "discount_fen": 900,
        "campaign": "双12",
    })
}

async fn customer(t: &TestApp, id: i64) -> Value {
    json_of(
        t.get(&format!("/api/v1/customers/{id}"), &t.admin).await,
        StatusCode::OK,
    )
    .await["customer"]
        .clone()
}

async fn order(t: &TestApp, id: i64) -> Value {
    json_of(
        t.get(&format!("/api/v1/orders/{id}"), &t.admin).await,
        StatusCode::OK,
    )
    .await
}

async fn log(t: &TestApp, source: i64, status: Option<&str>) -> Value {
    let q = status.map(|s| format!("?status={s}")).unwrap_or_default();
    json_of(
        t.get(
            &format!("/api/v1/inbound-sources/{source}/messages{q}"),
            &t.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await
}

async fn generic_orders_flow_from_created_to_refunded_once(e: Engine) {
    let t = app(e).await;
    let store = t.store("SH-01").await;
    let (sid, path, secret) = source(
        &t,
        json!({"name": "小程序商城", "format": "generic", "channel": "mini_program", "store_id": store}),
    )
    .await;
    let secret = secret.unwrap();
    assert!(secret.starts_with("whsec_"));

    // Created, not paid: kept as a draft, no order yet.
    let created =
        json!({"id": "m-1", "type": "order.created", "data": paid_order("SO-100", "13900001111")});
    let r = json_of(send(&t, &path, &secret, &created).await, StatusCode::OK).await;
    assert_eq!(r["status"], "draft");
    assert_eq!(r["order_id"], Value::Null);

    // A shipment before the payment: not yet (the sender should resend later).
    let shipped = json!({"id": "m-3", "type": "order.shipped", "data": {"external_id": "SO-100"}});
    let (status, code, _) = error_of(send(&t, &path, &secret, &shipped).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "order_not_yet_received")
    );

    // Paid, naming only the order: recorded from the draft, under the source's channel and
    // store, for a customer created from the buyer's phone.
    let paid = json!({"id": "m-2", "type": "order.paid",
        "data": {"external_id": "SO-100", "paid_at": "2026-12-01T10:00:00+08:00"}});
    let r = json_of(send(&t, &path, &secret, &paid).await, StatusCode::OK).await;
    assert_eq!(r["status"], "applied");
    assert_eq!(r["replay"], false);
    let oid = r["order_id"].as_i64().unwrap();
    let cid = r["customer_id"].as_i64().unwrap();
    let o = order(&t, oid).await;
    assert_eq!(o["external_id"], "SO-100");
    assert_eq!(o["amount_fen"], 19900 + 1000 - 900);
    assert_eq!(o["channel"], "mini_program");
    assert_eq!(o["store_id"], store);
    assert_eq!(o["campaign"], "双12");
    assert_eq!(o["paid_at"], "2026-12-01T02:00:00.000Z");
    let c = customer(&t, cid).await;
    assert_eq!(c["name"], "陈静");
    assert_eq!(c["order_count"], 1);
    assert_eq!(c["total_spend_fen"], 20000);

    // The same payment again (a resend): a replay, nothing written.
    let r = json_of(send(&t, &path, &secret, &paid).await, StatusCode::OK).await;
    assert_eq!(
        (r["replay"].clone(), r["order_id"].as_i64()),
        (json!(true), Some(oid))
    );
    // The shipment resent now applies; then completed; a late shipped message is ignored.
    let r = json_of(send(&t, &path, &secret, &shipped).await, StatusCode::OK).await;
    assert_eq!(r["status"], "applied");
    let done = json!({"id": "m-4", "type": "order.completed", "data": {"external_id": "SO-100"}});
    json_of(send(&t, &path, &secret, &done).await, StatusCode::OK).await;
    let late = json!({"id": "m-3b", "type": "order.shipped", "data": {"external_id": "SO-100"}});
    let r = json_of(send(&t, &path, &secret, &late).await, StatusCode::OK).await;
    assert_eq!(
        (r["status"].as_str(), r["reason"].as_str()),
        (Some("ignored"), Some("order_is_completed"))
    );
    assert_eq!(order(&t, oid).await["status"], "completed");

    // A partial refund, twice under two message ids but one refund id: applied once.
    for id in ["m-5", "m-5-again"] {
        let refund = json!({"id": id, "type": "order.refunded",
            "data": {"external_id": "SO-100", "refund_id": "RF-1", "amount_fen": 5000}});
        let r = json_of(send(&t, &path, &secret, &refund).await, StatusCode::OK).await;
        assert_eq!(r["status"], "applied");
    }
    let o = order(&t, oid).await;
    assert_eq!(
        (o["refunded_fen"].as_i64(), o["status"].as_str()),
        (Some(5000), Some("partially_refunded"))
    );
    assert_eq!(customer(&t, cid).await["total_spend_fen"], 15000);
    // More than is left to refund: failed for good (422), logged with its reason.
    let too_much = json!({"id": "m-6", "type": "order.refunded",
        "data": {"external_id": "SO-100", "refund_id": "RF-2", "amount_fen": 999999}});
    let (status, _, _) = error_of(send(&t, &path, &secret, &too_much).await).await;
    assert!(
        status == StatusCode::CONFLICT || status == StatusCode::UNPROCESSABLE_ENTITY,
        "{status}"
    );
    assert_eq!(order(&t, oid).await["refunded_fen"], 5000);

    // A member record attaches to the same customer by phone, adding an identity.
    let member = json!({"id": "m-7", "type": "member.upserted", "data": {"identities": [
        {"kind": "phone", "value": "13900001111"}, {"kind": "pos_member", "value": "VIP-88"}]}});
    let r = json_of(send(&t, &path, &secret, &member).await, StatusCode::OK).await;
    assert_eq!(r["customer_id"].as_i64(), Some(cid));

    // A draft closed before payment: its late payment is refused for good.
    let created =
        json!({"id": "m-8", "type": "order.created", "data": paid_order("SO-101", "13900002222")});
    json_of(send(&t, &path, &secret, &created).await, StatusCode::OK).await;
    let closed = json!({"id": "m-9", "type": "order.closed", "data": {"external_id": "SO-101"}});
    let r = json_of(send(&t, &path, &secret, &closed).await, StatusCode::OK).await;
    assert_eq!(r["status"], "applied");
    let paid = json!({"id": "m-10", "type": "order.paid", "data": {"external_id": "SO-101"}});
    let (status, code, _) = error_of(send(&t, &path, &secret, &paid).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "order_closed")
    );
    // A payment for an order never created: not yet.
    let paid = json!({"id": "m-11", "type": "order.paid", "data": {"external_id": "SO-404"}});
    let (_, code, _) = error_of(send(&t, &path, &secret, &paid).await).await;
    assert_eq!(code, "order_not_created");

    // The log: every signed message, with its outcome.
    let all = log(&t, sid, None).await;
    let failed = log(&t, sid, Some("failed")).await;
    assert_eq!(failed["total"], 3, "{failed}");
    assert!(all["total"].as_i64().unwrap() >= 12);
    let m3 = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_key"] == "m-3")
        .unwrap();
    // The shipment failed once, then applied on its resend: one row, two attempts.
    assert_eq!(
        (m3["status"].as_str(), m3["attempts"].as_i64()),
        (Some("applied"), Some(2))
    );
    // Two orders' worth of writes at most: exactly one order exists.
    let orders = json_of(t.get("/api/v1/orders", &t.admin).await, StatusCode::OK).await;
    assert_eq!(orders["total"], 1);
}

async fn generic_messages_are_refused_without_a_valid_signature(e: Engine) {
    let t = app(e).await;
    let (sid, path, secret) = source(
        &t,
        json!({"name": "POS", "format": "generic", "channel": "pos"}),
    )
    .await;
    let secret = secret.unwrap();
    let msg = json!({"id": "s-1", "type": "order.paid", "data": paid_order("SO-1", "13900003333")})
        .to_string();
    let cases = [
        (None, "signature_missing"),
        (Some("v1=abcd".to_owned()), "signature_malformed"),
        (
            Some(generic_signature(
                &secret,
                now_secs() - 3600,
                msg.as_bytes(),
            )),
            "signature_expired",
        ),
        (
            Some(generic_signature("whsec_wrong", now_secs(), msg.as_bytes())),
            "signature_mismatch",
        ),
        // Signed over another body.
        (
            Some(generic_signature(&secret, now_secs(), b"{}")),
            "signature_mismatch",
        ),
    ];
    for (sig, want) in cases {
        let mut req = t
            .req(reqwest::Method::POST, &path, None)
            .header("content-type", "application/json")
            .body(msg.clone());
        if let Some(s) = sig {
            req = req.header("x-yutang-signature", s);
        }
        let (status, code, _) = error_of(req.send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, want));
    }
    // An unknown key, and the other format's path: no such source.
    let any = json!({"id": "s-0", "type": "order.closed", "data": {"external_id": "SO-0"}});
    let r = send(
        &t,
        "/api/v1/inbound/generic/in_aaaaaaaaaaaaaaaaaaaaaaaa",
        &secret,
        &any,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = send(&t, &path.replace("/generic/", "/youzan/"), &secret, &any).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Nothing was written: no log row, no order, no customer.
    assert_eq!(log(&t, sid, None).await["total"], 0);
    let orders = json_of(t.get("/api/v1/orders", &t.admin).await, StatusCode::OK).await;
    assert_eq!(orders["total"], 0);

    // A rotated secret: the old one stops verifying at once.
    let r = t
        .post(
            &format!("/api/v1/inbound-sources/{sid}/rotate-secret"),
            &t.admin,
            json!({}),
        )
        .await;
    let v = json_of(r, StatusCode::OK).await;
    let new = v["secret"].as_str().unwrap().to_owned();
    let m = json!({"id": "s-2", "type": "order.paid", "data": paid_order("SO-2", "13900003333")});
    assert_eq!(
        send(&t, &path, &secret, &m).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send(&t, &path, &new, &m).await.status(), StatusCode::OK);

    // Paused: 503, so the sender tries again later; nothing logged.
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/inbound-sources/{sid}"),
            &t.admin,
            json!({"name": "POS", "channel": "pos", "active": false}),
        )
        .await;
    assert_eq!(json_of(r, StatusCode::OK).await["status"], "paused");
    let m = json!({"id": "s-3", "type": "order.paid", "data": paid_order("SO-3", "13900003333")});
    let (status, code, _) = error_of(send(&t, &path, &new, &m).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "source_paused")
    );
    assert_eq!(log(&t, sid, None).await["total"], 1);
}

async fn generic_bad_messages_are_logged_and_named(e: Engine) {
    let t = app(e).await;
    let (sid, path, secret) = source(
        &t,
        json!({"name": "ERP", "format": "generic", "channel": "erp"}),
    )
    .await;
    let secret = secret.unwrap();
    let mut extra = paid_order("SO-1", "13900004444");
    extra["colour"] = json!("red");
    let mut decimal = paid_order("SO-2", "13900004444");
    decimal["lines"][0]["unit_price_fen"] = json!(199.5);
    let mut control = paid_order("SO-3", "13900004444");
    control["lines"][0]["name"] = json!("车厘子\u{7}");
    let cases = [
        (
            json!({"id": "b-1", "type": "order.paid", "data": extra}).to_string(),
            "unknown_field",
        ),
        (
            json!({"id": "b-2", "type": "order.paid", "data": decimal}).to_string(),
            "amount_not_integer",
        ),
        (
            json!({"id": "b-3", "type": "order.exploded", "data": {}}).to_string(),
            "invalid_kind",
        ),
        (
            json!({"id": "b 6", "type": "order.closed", "data": {"external_id": "SO-5"}})
                .to_string(),
            "invalid_message_id",
        ),
    ];
    for (body, want) in &cases {
        let r = send_at(&t, &path, &secret, now_secs(), body).await;
        let (status, code, _) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(code, *want, "{body}");
    }
    // An envelope that is not strict JSON (bytes after it, an unknown top-level key) is
    // refused before anything is looked up (400 / 422 naming the key) and not logged.
    let trailing =
        json!({"id": "b-4", "type": "order.paid", "data": paid_order("SO-4", "13900004444")})
            .to_string()
            + " x";
    let (status, code, _) =
        error_of(send_at(&t, &path, &secret, now_secs(), &trailing).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "malformed_json")
    );
    let extra_key =
        json!({"id": "b-7", "type": "order.closed", "data": {"external_id": "SO-5"}, "x": 1})
            .to_string();
    let (status, code, field) =
        error_of(send_at(&t, &path, &secret, now_secs(), &extra_key).await).await;
    assert_eq!(
        (status, code.as_str(), field.as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_field", Some("x"))
    );
    // Control characters anywhere in the body: refused up front like every JSON body (422
    // invalid_characters), not logged.
    let body = json!({"id": "b-5", "type": "order.paid", "data": control}).to_string();
    let (status, code, _) = error_of(send_at(&t, &path, &secret, now_secs(), &body).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_characters")
    );
    // The others are in the log as failed, with their code; nothing else was written.
    let failed = log(&t, sid, Some("failed")).await;
    assert_eq!(failed["total"], cases.len() as i64);
    assert!(
        failed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| !m["error_code"].as_str().unwrap().is_empty())
    );
    let orders = json_of(t.get("/api/v1/orders", &t.admin).await, StatusCode::OK).await;
    assert_eq!(orders["total"], 0);
    // The same bad body again: still one row for it (its attempts count up).
    send_at(&t, &path, &secret, now_secs(), &cases[0].0).await;
    assert_eq!(
        log(&t, sid, Some("failed")).await["total"],
        cases.len() as i64
    );
}

/// A fake of 有赞云's message push: builds messages as its documentation describes them and
/// signs them as it does.
struct FakeYouzan {
    client_id: String,
    client_secret: String,
    kdt_id: i64,
}

impl FakeYouzan {
    fn encode(msg: &Value) -> String {
        percent_encoding::utf8_percent_encode(&msg.to_string(), percent_encoding::NON_ALPHANUMERIC)
            .to_string()
    }

    /// A trade message (msg URL-encoded), without `msg_id` when `msg_id` is None (older
    /// messages are told apart by type, shop, id and version).
    fn trade(
        &self,
        kind: &str,
        id: &str,
        msg: &Value,
        msg_id: Option<&str>,
        version: i64,
    ) -> String {
        let mut v = json!({
            "client_id": self.client_id, "kdt_id": self.kdt_id, "kdt_name": "鲜果铺",
            "id": id, "type": kind, "status": "", "msg": Self::encode(msg),
            "version": version, "sendCount": 0, "test": false, "mode": 1, "sign": "ignored",
        });
        if let Some(m) = msg_id {
            v["msg_id"] = json!(m);
        }
        v.to_string()
    }

    fn full_order(tid: &str, phone: &str, open_id: &str) -> Value {
        json!({"full_order_info": {
            "order_info": {"tid": tid, "status": "WAIT_SELLER_SEND_GOODS", "created": "2026-12-02 20:15:00",
                "pay_time": "2026-12-02 20:16:05", "update_time": "2026-12-02 20:16:05"},
            "buyer_info": {"buyer_phone": phone, "yz_open_id": open_id, "fans_nickname": "果果"},
            "pay_info": {"payment": "206.00", "post_fee": "8.00", "total_fee": "208.00"},
            "orders": [
                {"oid": "1", "title": "智利车厘子 JJ 级 5 斤", "num": 1, "price": "199.00", "outer_sku_id": "CH-JJ-5", "item_id": 901},
                {"oid": "2", "title": "冰袋", "num": 1, "price": "1.00", "item_id": 902},
            ],
        }})
    }

    async fn push(
        &self,
        t: &TestApp,
        path: &str,
        body: &str,
        sign: Option<String>,
    ) -> (StatusCode, Value) {
        let sign = sign.unwrap_or_else(|| {
            youzan_signature(&self.client_id, &self.client_secret, body.as_bytes())
        });
        let r = t
            .req(reqwest::Method::POST, path, None)
            .header("content-type", "application/json")
            .header("event-sign", sign)
            .header("client-id", &self.client_id)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }
}

async fn youzan_pushes_map_to_orders_and_members(e: Engine) {
    let t = app(e).await;
    let store = t.store("YZ-ONLINE").await;
    let yz = FakeYouzan {
        client_id: "6ebc499d1478dc9480".into(),
        client_secret: "62b023a465a26b5a0f1c065e32046610".into(),
        kdt_id: 17284278,
    };
    let (sid, path, secret) = source(
        &t,
        json!({"name": "有赞微商城", "format": "youzan", "app_id": yz.client_id,
               "client_secret": yz.client_secret, "store_id": store}),
    )
    .await;
    assert_eq!(
        secret, None,
        "a 有赞 source keeps the app's secret; none is made"
    );
    let ok = json!({"code": 0, "msg": "success"});

    // The platform's URL check (test message): acknowledged, nothing logged.
    let test = json!({"client_id": yz.client_id, "test": true, "msg": ""}).to_string();
    assert_eq!(
        yz.push(&t, &path, &test, Some("x".into())).await,
        (StatusCode::OK, ok.clone())
    );

    // Created (draft), then paid: an order of 198.00 for the goods (206.00 paid less 8.00
    // postage; 200.00 listed, so 2.00 discount), for a customer found by phone and 有赞 open id.
    let full = FakeYouzan::full_order("E20261202201500001", "13700005555", "yzo_abc");
    let created = yz.trade("trade_TradeCreate", "E20261202201500001", &full, None, 1);
    assert_eq!(
        yz.push(&t, &path, &created, None).await,
        (StatusCode::OK, ok.clone())
    );
    let paid = yz.trade(
        "trade_TradePaid",
        "E20261202201500001",
        &full,
        Some("msg-paid-1"),
        2,
    );
    assert_eq!(
        yz.push(&t, &path, &paid, None).await,
        (StatusCode::OK, ok.clone())
    );
    // 有赞 also says "buyer paid" (待发货) for the same order: the same order, nothing new.
    let buyer_pay = yz.trade(
        "trade_TradeBuyerPay",
        "E20261202201500001",
        &full,
        Some("msg-bp-1"),
        3,
    );
    assert_eq!(
        yz.push(&t, &path, &buyer_pay, None).await,
        (StatusCode::OK, ok.clone())
    );
    // A resend of the paid message (sendCount 1, same msg_id): a replay.
    assert_eq!(
        yz.push(&t, &path, &paid, None).await,
        (StatusCode::OK, ok.clone())
    );
    let orders = json_of(t.get("/api/v1/orders", &t.admin).await, StatusCode::OK).await;
    assert_eq!(orders["total"], 1);
    let o = &orders["items"][0];
    assert_eq!(o["external_id"], "E20261202201500001");
    assert_eq!(o["channel"], "youzan");
    assert_eq!(o["store_id"], store);
    assert_eq!(
        (o["amount_fen"].as_i64(), o["discount_fen"].as_i64()),
        (Some(19800), Some(200))
    );
    assert_eq!(o["paid_at"], "2026-12-02T12:16:05.000Z");
    let oid = o["id"].as_i64().unwrap();
    let cid = o["customer_id"].as_i64().unwrap();
    let detail = order(&t, oid).await;
    assert_eq!(detail["lines"][0]["sku"], "CH-JJ-5");
    assert_eq!(detail["lines"][1]["sku"], "902");
    let ids = json_of(
        t.get(&format!("/api/v1/customers/{cid}/identities"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    let kinds: Vec<String> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.contains(&"phone".to_owned()) && kinds.contains(&"shop_buyer".to_owned()),
        "{ids}"
    );

    // Shipped and completed (messages carrying only tid).
    let ship = yz.trade(
        "trade_TradeSellerShip",
        "E20261202201500001",
        &json!({"tid": "E20261202201500001", "update_time": "2026-12-03 09:00:00"}),
        None,
        4,
    );
    assert_eq!(
        yz.push(&t, &path, &ship, None).await,
        (StatusCode::OK, ok.clone())
    );
    assert_eq!(order(&t, oid).await["status"], "shipped");
    // A refund (older message, msg URL-encoded) and the newer refund message for the same
    // refund id: refunded once.
    let old_refund = yz.trade("trade_refund_RefundSuccess", "E20261202201500001",
        &json!({"tid": "E20261202201500001", "refund_id": "201912031001", "refunded_fee": "20.00", "update_time": "2026-12-03 10:00:00"}), None, 5);
    assert_eq!(
        yz.push(&t, &path, &old_refund, None).await,
        (StatusCode::OK, ok.clone())
    );
    let new_refund = json!({"client_id": yz.client_id, "kdt_id": yz.kdt_id, "type": "youzan_trade_RefundSuccess",
        "msg_id": "msg-refund-2", "id": "201912031001",
        "msg": {"tid": "E20261202201500001", "refund_id": "201912031001", "refunded_fee": "20.00", "version": 6}})
        .to_string();
    assert_eq!(
        yz.push(&t, &path, &new_refund, None).await,
        (StatusCode::OK, ok.clone())
    );
    let o = order(&t, oid).await;
    assert_eq!(
        (o["refunded_fen"].as_i64(), o["status"].as_str()),
        (Some(2000), Some("partially_refunded"))
    );

    // A member record (SCRM_CUSTOMER_EVENT) for a new customer.
    let member = yz.trade(
        "SCRM_CUSTOMER_EVENT",
        "u-77",
        &json!({"mobile": "13700006666", "name": "林晓", "is_member": true}),
        Some("msg-cust-1"),
        7,
    );
    assert_eq!(
        yz.push(&t, &path, &member, None).await,
        (StatusCode::OK, ok.clone())
    );
    // Messages Yutang does not sync: acknowledged, logged as ignored.
    let item = yz.trade(
        "ITEM_INFO",
        "901",
        &json!({"item_id": 901}),
        Some("msg-item-1"),
        8,
    );
    assert_eq!(
        yz.push(&t, &path, &item, None).await,
        (StatusCode::OK, ok.clone())
    );
    // A bad amount can never apply: logged as failed, acknowledged (so 有赞 does not fuse the
    // push); the console shows it.
    let mut bad = FakeYouzan::full_order("E2", "13700007777", "yzo_x");
    bad["full_order_info"]["pay_info"]["payment"] = json!("12.345");
    let bad = yz.trade("trade_TradePaid", "E2", &bad, Some("msg-bad"), 9);
    assert_eq!(
        yz.push(&t, &path, &bad, None).await,
        (StatusCode::OK, ok.clone())
    );
    // A payment for an order not there yet would be retried: a shipment of an unknown order.
    let early = yz.trade(
        "trade_TradeSuccess",
        "E404",
        &json!({"tid": "E404"}),
        Some("msg-early"),
        10,
    );
    let (status, ack) = yz.push(&t, &path, &early, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(!ack["msg"].as_str().unwrap().contains("success"), "{ack}");

    // Wrong signature, or signed for another app: refused, nothing logged.
    let before = log(&t, sid, None).await["total"].as_i64().unwrap();
    let (status, ack) = yz
        .push(
            &t,
            &path,
            &paid.replace("\"sendCount\":0", "\"sendCount\":1"),
            Some(youzan_signature(
                &yz.client_id,
                &yz.client_secret,
                paid.as_bytes(),
            )),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!ack["msg"].as_str().unwrap().contains("success"));
    let other = FakeYouzan {
        client_id: "otherapp1".into(),
        client_secret: yz.client_secret.clone(),
        kdt_id: 1,
    };
    let foreign = other.trade(
        "trade_TradePaid",
        "E3",
        &FakeYouzan::full_order("E3", "13700008888", "yzo_y"),
        Some("msg-f"),
        1,
    );
    let (status, _) = yz.push(&t, &path, &foreign, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(log(&t, sid, None).await["total"].as_i64().unwrap(), before);

    let by = |status: &'static str| {
        let t = &t;
        async move { log(t, sid, Some(status)).await["total"].as_i64().unwrap() }
    };
    assert_eq!(by("draft").await, 1);
    assert_eq!(by("ignored").await, 1);
    assert_eq!(by("failed").await, 2);
    assert!(by("applied").await >= 6);
}

async fn source_management_through_the_api(e: Engine) {
    let t = app(e).await;
    // Refusals name the field.
    for (body, field, code) in [
        (
            json!({"name": "x", "format": "shopify", "channel": "web"}),
            "format",
            "invalid_format",
        ),
        (
            json!({"name": "x", "format": "youzan", "client_secret": "abcdefgh12"}),
            "app_id",
            "invalid_app_id",
        ),
        (
            json!({"name": "x", "format": "youzan", "app_id": "abc123"}),
            "client_secret",
            "missing_field",
        ),
        (
            json!({"name": "x", "format": "generic", "channel": "pos", "client_secret": "abcdefgh12"}),
            "client_secret",
            "not_allowed",
        ),
        (
            json!({"name": "x", "format": "generic", "channel": "pos", "store_id": 999999}),
            "store_id",
            "unknown_store",
        ),
        (
            json!({"name": "x", "format": "generic"}),
            "channel",
            "invalid_channel",
        ),
        (
            json!({"name": "x", "format": "generic", "channel": "pos", "extra": 1}),
            "body",
            "unknown_field",
        ),
    ] {
        let r = t
            .post("/api/v1/inbound-sources", &t.admin, body.clone())
            .await;
        let (status, got, f) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        if code != "invalid_channel" && code != "unknown_field" {
            assert_eq!((got.as_str(), f.as_deref()), (code, Some(field)), "{body}");
        }
    }
    let (gid, _, _) = source(
        &t,
        json!({"name": "POS", "format": "generic", "channel": "pos"}),
    )
    .await;
    let (yid, _, _) = source(
        &t,
        json!({"name": "有赞", "format": "youzan", "app_id": "abc123", "client_secret": "secret-123456"}),
    )
    .await;
    let list = json_of(
        t.get("/api/v1/inbound-sources", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    // Nothing lists a secret.
    assert!(!list.to_string().contains("secret-123456") && !list.to_string().contains("whsec_"));
    // A 有赞 source's secret is set, not rotated; a generic one's is rotated, not set.
    let r = t
        .post(
            &format!("/api/v1/inbound-sources/{yid}/rotate-secret"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "not_generic");
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/inbound-sources/{gid}"),
            &t.admin,
            json!({"name": "POS", "channel": "pos", "client_secret": "abcdefgh12"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "not_allowed");
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/inbound-sources/{yid}"),
            &t.admin,
            json!({"name": "有赞商城", "app_id": "abc123", "client_secret": "new-secret-99"}),
        )
        .await;
    assert_eq!(json_of(r, StatusCode::OK).await["name"], "有赞商城");
    // Other roles see nothing of it.
    t.staff("ops.inbound", "operator", None).await;
    let op = t.login("ops.inbound").await;
    assert_eq!(
        t.get("/api/v1/inbound-sources", &op).await.status(),
        StatusCode::FORBIDDEN
    );
    // Deleted: gone from the list, its URL answers 404.
    let path = json_of(
        t.get(&format!("/api/v1/inbound-sources/{gid}"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await["receive_path"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = t
        .req(
            reqwest::Method::DELETE,
            &format!("/api/v1/inbound-sources/{gid}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let any = json!({"id": "d-1", "type": "order.closed", "data": {"external_id": "SO-0"}});
    let r = send(&t, &path, "whsec_x", &any).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let actions = t.audit_actions().await;
    assert!(
        actions
            .iter()
            .filter(|a| *a == "inbound_source_changed")
            .count()
            >= 4
    );
}

async fn concurrent_copies_of_one_message_write_once(e: Engine) {
    let t = app(e).await;
    let (sid, path, secret) = source(
        &t,
        json!({"name": "ERP", "format": "generic", "channel": "erp"}),
    )
    .await;
    let secret = secret.unwrap();
    // Eight copies of one payment and eight of one refund, all at once, several rounds: one
    // order, one refund, the customer's aggregates counted once. A copy that loses the race
    // answers 409 (send again) or the logged outcome; none answers 5xx.
    for round in 0..3 {
        let ext = format!("SO-C{round}");
        let paid = json!({"id": format!("p-{round}"), "type": "order.paid", "data": paid_order(&ext, "13600009999")});
        let copies: Vec<_> = (0..8).map(|_| send(&t, &path, &secret, &paid)).collect();
        for r in futures_util::future::join_all(copies).await {
            assert!(
                r.status() == StatusCode::OK || r.status() == StatusCode::CONFLICT,
                "{}",
                r.status()
            );
        }
        // Resend until every copy's outcome is final (a 409 asks for exactly that).
        let r = loop {
            let r = send(&t, &path, &secret, &paid).await;
            if r.status() == StatusCode::OK {
                break json_of(r, StatusCode::OK).await;
            }
        };
        let oid = r["order_id"].as_i64().unwrap();
        let refund = json!({"id": format!("r-{round}"), "type": "order.refunded",
            "data": {"external_id": ext, "refund_id": format!("RF-{round}"), "amount_fen": 1000}});
        let copies: Vec<_> = (0..8).map(|_| send(&t, &path, &secret, &refund)).collect();
        for r in futures_util::future::join_all(copies).await {
            assert!(
                r.status() == StatusCode::OK || r.status() == StatusCode::CONFLICT,
                "{}",
                r.status()
            );
        }
        loop {
            if send(&t, &path, &secret, &refund).await.status() == StatusCode::OK {
                break;
            }
        }
        assert_eq!(order(&t, oid).await["refunded_fen"], 1000);
    }
    let orders = json_of(t.get("/api/v1/orders", &t.admin).await, StatusCode::OK).await;
    assert_eq!(orders["total"], 3);
    let cid = orders["items"][0]["customer_id"].as_i64().unwrap();
    let c = customer(&t, cid).await;
    assert_eq!(c["order_count"], 3);
    assert_eq!(c["total_spend_fen"], 3 * (20000 - 1000));
    // One log row per message.
    assert_eq!(log(&t, sid, None).await["total"], 6);
}
