//! `Idempotency-Key`: every endpoint that takes it parses it the same way and answers the same
//! errors — 422 `invalid_idempotency_key` for a malformed key, the stored answer for a retry,
//! 422 `idempotency_key_reused` for the same key with another body — and documents it the same.

use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::customers::customer_with_phone;
use crate::helpers::{Engine, TestApp, error_of, spawn_app};
use crate::promotions::{flash_sale, template, token};
use crate::wecom_sync::{customer, guide, with_fake};

both_engines!(
    bulk_tags_parse_replay_and_refuse_reuse,
    wecom_sync_and_transfers_parse_replay_and_refuse_reuse,
    public_writes_parse_replay_and_refuse_reuse,
    every_keyed_endpoint_documents_the_header_alike,
);

const HEADER: &str = "Idempotency-Key";
const DAY: i64 = 86_400_000;

/// Keys that are not 1–100 printable ASCII characters (the last is not even text).
fn malformed() -> Vec<HeaderValue> {
    vec![
        HeaderValue::from_static(""),
        HeaderValue::from_static("a b"),
        HeaderValue::from_str(&"k".repeat(101)).unwrap(),
        HeaderValue::from_bytes("钥匙".as_bytes()).unwrap(),
    ]
}

async fn send(
    t: &TestApp,
    path: &str,
    token: &str,
    key: HeaderValue,
    body: Option<&Value>,
) -> Response {
    let r = t.req(Method::POST, path, Some(token)).header(HEADER, key);
    match body {
        Some(b) => r.json(b),
        None => r,
    }
    .send()
    .await
    .unwrap()
}

/// POST with a (well-formed) key; the answer's status and body.
async fn keyed(
    t: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let r = send(t, path, token, HeaderValue::from_str(key).unwrap(), body).await;
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Every malformed key is refused the same way, naming the header.
async fn refuses_malformed(t: &TestApp, path: &str, token: &str, body: Option<&Value>) {
    for key in malformed() {
        let shown = format!("{key:?}");
        let r = send(t, path, token, key, body).await;
        assert_eq!(
            error_of(r).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_idempotency_key".into(),
                Some(HEADER.into())
            ),
            "{path} with {shown}"
        );
    }
}

fn reused() -> (StatusCode, String, Option<String>) {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused".into(),
        Some(HEADER.into()),
    )
}

async fn reused_answer(t: &TestApp, path: &str, token: &str, key: &str, body: Option<&Value>) {
    let r = send(t, path, token, HeaderValue::from_str(key).unwrap(), body).await;
    assert_eq!(error_of(r).await, reused(), "{path}");
}

async fn scalar(t: &TestApp, sql: &'static str) -> i64 {
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        yutang_store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn audited(t: &TestApp, action: &str) -> usize {
    t.audit_actions()
        .await
        .iter()
        .filter(|a| *a == action)
        .count()
}

async fn created(t: &TestApp, path: &str, body: Value) -> i64 {
    let r = t.post(path, &t.admin, body).await;
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn bulk_tags_parse_replay_and_refuse_reuse(e: Engine) {
    let t = spawn_app(e).await;
    let group = created(
        &t,
        "/api/v1/tag-groups",
        json!({"name": "活动", "multi": true}),
    )
    .await;
    let tag = created(
        &t,
        "/api/v1/tags",
        json!({"group_id": group, "name": "双十二", "color": "#FF0000"}),
    )
    .await;
    let c = customer_with_phone(&t, "13900000001", "顾客").await;
    let path = "/api/v1/tags/bulk";
    let add = json!({"add": [tag], "customer_ids": [c]});
    let remove = json!({"remove": [tag], "customer_ids": [c]});

    refuses_malformed(&t, path, &t.admin, Some(&add)).await;
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM jobs WHERE kind = 'bulk_tag'").await,
        0
    );

    let (s, one) = keyed(&t, path, &t.admin, "k-1", Some(&add)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{one}");
    let (s, two) = keyed(&t, path, &t.admin, "k-1", Some(&add)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{two}");
    assert_eq!(one["id"], two["id"]);
    // The replay changed nothing: one job, one audit entry.
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM jobs WHERE kind = 'bulk_tag'").await,
        1
    );
    assert_eq!(audited(&t, "tags_bulk_changed").await, 1);
    // The same key with another body is refused; another key is another job.
    reused_answer(&t, path, &t.admin, "k-1", Some(&remove)).await;
    let (s, other) = keyed(&t, path, &t.admin, "k-2", Some(&remove)).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_ne!(other["id"], one["id"]);
    // Keys are per caller: another staff member's "k-1" is theirs.
    t.staff("op.idem", "operator", None).await;
    let op = t.login("op.idem").await;
    let (s, theirs) = keyed(&t, path, &op, "k-1", Some(&remove)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{theirs}");
    assert_ne!(theirs["id"], one["id"]);
}

pub(crate) async fn wait_sync(t: &TestApp, id: i64) -> Value {
    let mut v = Value::Null;
    for _ in 0..300 {
        v = t
            .get(&format!("/api/v1/wecom/sync/{id}"), &t.admin)
            .await
            .json()
            .await
            .unwrap();
        if v["status"] == "done" || v["status"] == "failed" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("sync did not finish: {v}");
}

async fn wecom_sync_and_transfers_parse_replay_and_refuse_reuse(e: Engine) {
    let (t, fake, _) = with_fake(e).await;
    let store = t.store("WX-I").await;
    let zhang = guide(&t, store, "zhangwei").await;
    let wang = guide(&t, store, "wangfang").await;

    // The full sync has no body: a key replays the job it started.
    let sync = "/api/v1/wecom/sync";
    refuses_malformed(&t, sync, &t.admin, None).await;
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'wecom_full_sync'"
        )
        .await,
        0
    );
    let (s, v) = keyed(&t, sync, &t.admin, "s-1", None).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(wait_sync(&t, id).await["status"], "done");
    let (s, again) = keyed(&t, sync, &t.admin, "s-1", None).await;
    assert_eq!((s, again["id"].as_i64()), (StatusCode::ACCEPTED, Some(id)));
    assert_eq!(audited(&t, "wecom_sync_started").await, 1);

    // A transfer: the same body replays it, another body under the key is refused.
    let transfers = "/api/v1/wecom/transfers";
    let c1 = customer(&t, "wmDemoCustomer0001").await.unwrap();
    let body = json!({
        "kind": "in_service", "handover_staff_id": zhang, "takeover_staff_id": wang,
        "customer_ids": [c1],
    });
    let all = json!({
        "kind": "in_service", "handover_staff_id": zhang, "takeover_staff_id": wang,
        "customer_ids": "all",
    });
    refuses_malformed(&t, transfers, &t.admin, Some(&body)).await;
    let (s, one) = keyed(&t, transfers, &t.admin, "t-1", Some(&body)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{one}");
    let (s, two) = keyed(&t, transfers, &t.admin, "t-1", Some(&body)).await;
    assert_eq!((s, &two["id"]), (StatusCode::ACCEPTED, &one["id"]));
    reused_answer(&t, transfers, &t.admin, "t-1", Some(&all)).await;
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM wecom_transfers").await, 1);
    assert_eq!(audited(&t, "wecom_transfer_started").await, 1);
    // The sync's key and the transfer's are apart: "s-1" starts a transfer.
    let (s, three) = keyed(&t, transfers, &t.admin, "s-1", Some(&all)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{three}");
    assert_ne!(three["id"], one["id"]);
    fake.shutdown().await;
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn group_buy(name: &str) -> Value {
    json!({
        "name": name, "sku": "GRAPE-1", "item_name": "阳光玫瑰 2 斤",
        "price_fen": 3990, "original_price_fen": 5990, "leader_discount_fen": 500,
        "team_size": 3, "time_limit_minutes": 60, "stock": 100,
        "window": {"starts_at": now_ms() - 1000, "ends_at": now_ms() + DAY},
        "audience": {"kind": "everyone"}
    })
}

/// A first write (201), its replay (200, the same answer), the key with another request (422).
async fn replays(
    t: &TestApp,
    tok: &str,
    first: &str,
    other: &str,
    key: &str,
    body: Option<&Value>,
) -> Value {
    let (s, one) = keyed(t, first, tok, key, body).await;
    assert_eq!(s, StatusCode::CREATED, "{first}: {one}");
    let (s, two) = keyed(t, first, tok, key, body).await;
    assert_eq!((s, &two), (StatusCode::OK, &one), "{first}");
    reused_answer(t, other, tok, key, body).await;
    one
}

async fn public_writes_parse_replay_and_refuse_reuse(e: Engine) {
    let t = spawn_app(e).await;
    let c1 = customer_with_phone(&t, "13900000011", "团长").await;
    let c2 = customer_with_phone(&t, "13900000012", "团员").await;
    let (tok1, tok2) = (token(&t, c1).await, token(&t, c2).await);
    let tpl = created(&t, "/api/v1/coupon-templates", template(10, 1)).await;
    let tpl2 = created(&t, "/api/v1/coupon-templates", template(10, 1)).await;
    let sale = created(&t, "/api/v1/flash-sales", flash_sale(10)).await;
    let sale2 = created(&t, "/api/v1/flash-sales", flash_sale(10)).await;
    let gb = created(&t, "/api/v1/group-buys", group_buy("三人拼 A")).await;
    let gb2 = created(&t, "/api/v1/group-buys", group_buy("三人拼 B")).await;

    let claim = format!("/api/v1/public/coupons/{tpl}/claim");
    let flash = format!("/api/v1/public/flash-sales/{sale}/claim");
    let open = format!("/api/v1/public/group-buys/{gb}/open");
    refuses_malformed(&t, &claim, &tok1, None).await;
    refuses_malformed(&t, &flash, &tok1, None).await;
    refuses_malformed(&t, &open, &tok1, None).await;

    let other = format!("/api/v1/public/coupons/{tpl2}/claim");
    replays(&t, &tok1, &claim, &other, "c-1", None).await;
    let other = format!("/api/v1/public/flash-sales/{sale2}/claim");
    replays(&t, &tok1, &flash, &other, "f-1", None).await;
    let other = format!("/api/v1/public/group-buys/{gb2}/open");
    let team = replays(&t, &tok1, &open, &other, "o-1", None).await["team_id"]
        .as_i64()
        .unwrap();

    let join = format!("/api/v1/public/group-buy-teams/{team}/join");
    let body = json!({});
    refuses_malformed(&t, &join, &tok2, Some(&body)).await;
    let (s, one) = keyed(&t, &join, &tok2, "j-1", Some(&body)).await;
    assert_eq!(s, StatusCode::CREATED, "{one}");
    let (s, two) = keyed(&t, &join, &tok2, "j-1", Some(&body)).await;
    assert_eq!((s, &two), (StatusCode::OK, &one));
    let invited = json!({"inviter_id": c1});
    reused_answer(&t, &join, &tok2, "j-1", Some(&invited)).await;
}

/// The endpoints that take `Idempotency-Key`.
const KEYED: [(&str, &str); 17] = [
    ("/api/v1/tags/bulk", "post"),
    ("/api/v1/wecom/sync", "post"),
    ("/api/v1/wecom/transfers", "post"),
    ("/api/v1/public/coupons/{id}/claim", "post"),
    ("/api/v1/public/flash-sales/{id}/claim", "post"),
    ("/api/v1/public/group-buys/{id}/open", "post"),
    ("/api/v1/public/group-buy-teams/{id}/join", "post"),
    ("/api/v1/customers/{id}/points/adjustments", "post"),
    ("/api/v1/customers/{id}/points/redemptions", "post"),
    ("/api/v1/public/me/points/redemptions", "post"),
    ("/api/v1/customers/{id}/stored-value/spends", "post"),
    ("/api/v1/customers/{id}/mall/exchanges", "post"),
    ("/api/v1/public/me/mall/exchanges", "post"),
    ("/api/v1/customers/{id}/notes", "post"),
    ("/api/v1/public/me/consultant", "post"),
    ("/api/v1/public/me/ratings", "post"),
    ("/api/v1/sidebar/contacts/{external_userid}/coupons", "post"),
];

async fn every_keyed_endpoint_documents_the_header_alike(e: Engine) {
    let t = spawn_app(e).await;
    let doc: Value = t
        .get("/api/v1/openapi.json", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let (mut ops, mut texts) = (Vec::new(), Vec::new());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let header = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == HEADER);
            let Some(header) = header else { continue };
            ops.push((path.clone(), method.clone()));
            assert_eq!(header["in"], "header", "{method} {path}");
            assert_ne!(header["required"], json!(true), "{method} {path}");
            assert_eq!(header["schema"]["maxLength"], 100, "{method} {path}");
            let r = &op["responses"];
            assert!(
                r["409"]["description"]
                    .as_str()
                    .unwrap()
                    .contains("request_in_progress"),
                "{method} {path}: {}",
                r["409"]
            );
            let unprocessable = r["422"]["description"].as_str().unwrap();
            for code in ["invalid_idempotency_key", "idempotency_key_reused"] {
                assert!(unprocessable.contains(code), "{method} {path}: {code}");
            }
            texts.push((
                header["description"].to_string(),
                r["409"]["description"].to_string(),
                unprocessable.to_owned(),
            ));
        }
    }
    ops.sort();
    let mut want: Vec<(String, String)> = KEYED
        .iter()
        .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
        .collect();
    want.sort();
    assert_eq!(ops, want);
    // One description of the header and of its answers, everywhere.
    assert!(texts.windows(2).all(|w| w[0] == w[1]), "{texts:?}");
}
