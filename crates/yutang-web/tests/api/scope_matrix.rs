//! Roles and data scope, endpoint by endpoint. One small world (two stores, a guide and a store
//! manager in each, HQ tokens, customers, promotions, tags, segments), then:
//!
//! - `role_endpoint_matrix` calls EVERY operation in the OpenAPI document as every role and
//!   checks it against [`case`], the expectation table (a path the table does not list fails the
//!   test, so a new endpoint must say who may call it);
//! - one test per fixed leak of issue #16 (items 5–9), each asserting the exact answer.
//!
//! Rules of the matrix: a forbidden role sends the same, valid, body as an allowed one and must
//! be refused with 401 (no or forged credentials), 403 or 404 — use cases check permissions
//! before they validate, so a 422 to a forbidden role counts as a failure. An allowed role may
//! get 409/422 (a rule, or a row an earlier call already changed) but never 401/403/5xx, and 404
//! only where the table says the row may be gone. Store A's manager and guide also call every
//! `{id}` operation with an id outside their scope (store B's customer, order, staff, store):
//! that must be 403/404. And no successful answer to them may name a customer outside their
//! scope (by id under a customer key, as a customer list's `id`, in a CSV's first column, or by
//! name).

use std::collections::{BTreeSet, HashSet};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_app::Actor;
use yutang_app::tokens::NewTokenInput;

use crate::customers::{customer_with_phone, follow};
use crate::helpers::{Engine, TestApp, error_of, spawn_with};

both_engines!(
    role_endpoint_matrix,
    customer_coupons_are_scoped,
    only_hq_writes_saved_segments,
    analyst_cannot_tag,
    group_buy_teams_hide_other_stores_leaders,
    rule_tags_cannot_be_renamed,
);

const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Who calls. `Manager` and `Guide` are the staff of store A (signed-in sessions); the HQ
/// roles are API tokens, like an integration's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    Anon,
    /// A bearer token that looks like an API token but is not one.
    Forged,
    Analyst,
    Guide,
    Manager,
    Operator,
    Admin,
}

use Role::*;

/// Forbidden-looking roles first, so that a write by an allowed role cannot mask what a
/// forbidden one would have done to the intact world.
const ROLES: [Role; 7] = [Anon, Forged, Analyst, Guide, Manager, Operator, Admin];
const EVERY: &[Role] = &[Analyst, Guide, Manager, Operator, Admin];
const HQ_WRITE: &[Role] = &[Operator, Admin];
const ADMIN: &[Role] = &[Admin];
const TAGGERS: &[Role] = &[Guide, Manager, Operator, Admin];
const STAFF_ADMINS: &[Role] = &[Manager, Admin];
const REVEAL: &[Role] = &[Manager, Operator, Admin];
/// Manage scheduled reports: HQ roles that manage, and a store manager (their store's).
const REPORTERS: &[Role] = &[Manager, Operator, Admin];
/// Send mass messages: HQ roles that send, and a store manager (their store's customers).
const SENDERS: &[Role] = &[Manager, Operator, Admin];

impl Role {
    fn scoped(self) -> bool {
        matches!(self, Guide | Manager)
    }
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// These roles may (any answer but 401, 403 and 5xx; 404 only where `gone_ok`); every
    /// other signed-in role gets 403 or 404, and no credentials 401.
    Roles(&'static [Role]),
    /// No credentials needed (sign-in): nobody gets 401/403/5xx.
    Open,
    /// Any signed-in caller acting on itself (logout, own password): no credentials 401,
    /// otherwise anything but 5xx (an API token has no session or password: 401/403).
    Own,
    /// Customer-token endpoints: staff credentials are not customer tokens, so everyone here
    /// gets 401 (or 404 where the endpoint does not exist on this database).
    Public,
}

/// One row of the expectation table, with what to send.
struct Case {
    who: Who,
    /// The `{id}` for a call within scope.
    id: Option<i64>,
    /// An id outside store A's scope: store A's staff must never get a 2xx with it.
    out_id: Option<i64>,
    body: Option<Value>,
    /// An allowed role may find the row gone (a delete by an earlier role, an id that is
    /// known not to exist, such as a WeCom sync on a database without WeCom).
    gone_ok: bool,
}

impl Case {
    fn new(who: Who) -> Self {
        Self {
            who,
            id: None,
            out_id: None,
            body: None,
            gone_ok: false,
        }
    }
    fn id(mut self, id: i64) -> Self {
        self.id = Some(id);
        self
    }
    fn scoped(mut self, id: i64, out: i64) -> Self {
        self.id = Some(id);
        self.out_id = Some(out);
        self
    }
    fn body(mut self, b: Value) -> Self {
        self.body = Some(b);
        self
    }
    fn gone_ok(mut self) -> Self {
        self.gone_ok = true;
        self
    }
}

/// The small world every test here uses.
struct World {
    t: TestApp,
    operator: String,
    analyst: String,
    manager_a: String,
    guide_a: String,
    store_a: i64,
    store_b: i64,
    region: i64,
    guide_a_id: i64,
    /// A second guide of store A whose account the matrix may edit.
    guide_a2_id: i64,
    guide_b_id: i64,
    /// Followed by guide A: in store A's scope.
    ca: i64,
    /// Followed by guide B: outside store A's scope.
    cb: i64,
    /// Customers the matrix may merge.
    merge_a: i64,
    merge_b: i64,
    spare_token_id: i64,
    /// An outbound webhook, and one to delete.
    webhook: i64,
    spare_webhook: i64,
    inbound_source: i64,
    spare_inbound_source: i64,
    template: i64,
    spare_template: i64,
    coupon_a: i64,
    flash_sale: i64,
    flash_claim: i64,
    group_buy: i64,
    team_a: i64,
    team_b: i64,
    order_a: i64,
    order_b: i64,
    group: i64,
    tag: i64,
    spare_group: i64,
    spare_tag: i64,
    rule: i64,
    spare_rule: i64,
    segment: i64,
    spare_segment: i64,
    job: i64,
    /// Channels of store A and B, one to archive, and live codes in each.
    channel_a: i64,
    channel_b: i64,
    spare_channel: i64,
    code_a: i64,
    code_b: i64,
    spare_code: i64,
    /// Referral programs on store A's and store B's codes, and one to archive.
    referral_a: i64,
    referral_b: i64,
    spare_referral: i64,
    /// The lowest membership tier (both customers are in it through their orders).
    tier: i64,
    /// A paid member card product, one to archive, and a refund instruction (of store A's
    /// customer's first period, settled). Purchases: `880001` (store A's customer, running)
    /// and `880002` (store B's).
    card: i64,
    spare_card: i64,
    card_refund: i64,
    /// Scheduled reports of store A and store B, and one of store A to delete.
    report_a: i64,
    report_b: i64,
    spare_report: i64,
    /// Mass messages of store A and store B (scheduled), and one of store A to cancel.
    message_a: i64,
    message_b: i64,
    spare_message: i64,
    moment_a: i64,
    moment_b: i64,
    spare_moment: i64,
    /// A material and a folder of the library, and a spare of each (to archive, to delete).
    material: i64,
    spare_material: i64,
    material_folder: i64,
    spare_material_folder: i64,
    /// A journey (a draft) and a spare one to archive.
    journey: i64,
    spare_journey: i64,
    /// Guide tasks of store A's guide (one to skip) and of store B's guide.
    guide_task_a: i64,
    spare_guide_task_a: i64,
    guide_task_b: i64,
    /// Churn alerts: store A's guide's customer deleted them, and one of store B.
    churn_a: i64,
    churn_b: i64,
    /// Incentive pools: one of store A, one of store B, a spare to delete, and a brand pool
    /// of a past month to settle and export.
    pool_a: i64,
    pool_b: i64,
    spare_pool: i64,
    past_pool: i64,
    /// A customer group (no WeCom is configured), and group live codes over it: store A's,
    /// store B's and a spare to archive.
    matrix_group: i64,
    gcode_a: i64,
    gcode_b: i64,
    spare_gcode: i64,
}

async fn json_of(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn api_token(t: &TestApp, name: &str, role: &str) -> (i64, String) {
    let c = t
        .app
        .tokens()
        .create_token(
            &Actor::system(),
            &NewTokenInput::parse(name, role, None).unwrap(),
        )
        .await
        .unwrap();
    (c.info.id, c.token)
}

async fn customer_token(t: &TestApp, customer: i64) -> String {
    let v = json_of(
        t.post(
            "/api/v1/customer-tokens",
            &t.admin,
            json!({"customer_id": customer}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    v["token"].as_str().unwrap().to_owned()
}

async fn created(t: &TestApp, path: &str, body: Value) -> i64 {
    json_of(t.post(path, &t.admin, body).await, StatusCode::CREATED).await["id"]
        .as_i64()
        .unwrap()
}

fn template_body(name: &str) -> Value {
    json!({
        "name": name,
        "steps": [{"kind": "amount_off", "off_fen": 1000, "threshold_fen": 5000}],
        "validity": {"kind": "days_from_claim", "days": 7},
        "claim_window": {"starts_at": now_ms() - DAY, "ends_at": now_ms() + DAY},
        "stock": 100,
        "per_customer": 5,
        "audience": {"kind": "everyone"},
        "return_on_refund": true,
        "remind_hours_before": 24
    })
}

fn flash_body() -> Value {
    json!({
        "name": "周五秒杀 金枕榴莲", "sku": "DURIAN-1", "item_name": "金枕榴莲 1 个",
        "price_fen": 9900, "original_price_fen": 19900, "stock": 10,
        "window": {"starts_at": now_ms() - 1000, "ends_at": now_ms() + DAY},
        "per_customer": 1, "hold_minutes": 15, "audience": {"kind": "everyone"}
    })
}

fn group_buy_body() -> Value {
    json!({
        "name": "三人拼 阳光玫瑰", "sku": "GRAPE-1", "item_name": "阳光玫瑰 2 斤",
        "price_fen": 3990, "original_price_fen": 5990, "leader_discount_fen": 500,
        "team_size": 3, "time_limit_minutes": 60, "stock": 100,
        "window": {"starts_at": now_ms() - 1000, "ends_at": now_ms() + DAY},
        "audience": {"kind": "everyone"}
    })
}

fn order_body(ext: &str, customer: i64) -> Value {
    json!({"external_id": ext, "customer_id": customer, "channel": "store",
           "paid_at": "2026-03-03T12:00:00+08:00",
           "lines": [{"sku": "CHERRY", "name": "车厘子", "quantity": 1, "unit_price_fen": 9900}]})
}

async fn shanghai_customer(t: &TestApp, phone: &str, name: &str) -> i64 {
    let id = customer_with_phone(t, phone, name).await;
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            &t.admin,
            json!({"city": "上海"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    id
}

async fn world(e: Engine) -> World {
    // A secret key: PostgreSQL seals webhook signing secrets with it (SQLite has a key file).
    let t = spawn_with(e, |s| {
        s.secret_key = Some(yutang_app::settings::Secret::new("ab".repeat(32)))
    })
    .await;
    let store_a = t.store("MA").await;
    let store_b = t.store("MB").await;
    let stores = json_of(t.get("/api/v1/stores", &t.admin).await, StatusCode::OK).await;
    let region = stores["items"][0]["region_id"].as_i64().unwrap();
    t.staff("mgr.a", "store_manager", Some(store_a)).await;
    let guide_a_id = t.staff("guide.a", "guide", Some(store_a)).await;
    let guide_a2_id = t.staff("guide.a2", "guide", Some(store_a)).await;
    t.staff("mgr.b", "store_manager", Some(store_b)).await;
    let guide_b_id = t.staff("guide.b", "guide", Some(store_b)).await;
    t.staff("matrix.login", "guide", Some(store_a)).await;
    let manager_a = t.login("mgr.a").await;
    let guide_a = t.login("guide.a").await;
    let (_, operator) = api_token(&t, "matrix operator", "operator").await;
    let (_, analyst) = api_token(&t, "matrix analyst", "analyst").await;
    let (spare_token_id, _) = api_token(&t, "matrix spare", "analyst").await;
    let mut hooks = Vec::new();
    for name in ["矩阵推送", "矩阵备用"] {
        let r = t
            .post(
                "/api/v1/webhooks",
                &t.admin,
                json!({"name": name, "url": "https://hooks.example.com/matrix", "kinds": ["*"]}),
            )
            .await;
        hooks.push(
            json_of(r, StatusCode::CREATED).await["webhook"]["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let (webhook, spare_webhook) = (hooks[0], hooks[1]);
    let mut sources = Vec::new();
    for name in ["矩阵接入", "矩阵备用接入"] {
        let r = t
            .post(
                "/api/v1/inbound-sources",
                &t.admin,
                json!({"name": name, "format": "generic", "channel": "pos"}),
            )
            .await;
        sources.push(
            json_of(r, StatusCode::CREATED).await["source"]["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let (inbound_source, spare_inbound_source) = (sources[0], sources[1]);

    // Every customer outside store A's scope is named "外店…", so the matrix can also look for
    // the name in what store A's staff get back.
    let ca = shanghai_customer(&t, "13900000001", "本店顾客甲").await;
    let cb = shanghai_customer(&t, "13900000002", "外店顾客乙").await;
    let merge_a = shanghai_customer(&t, "13900000003", "外店顾客丙").await;
    let merge_b = shanghai_customer(&t, "13900000004", "外店顾客丁").await;
    follow(&t, ca, guide_a_id).await;
    follow(&t, cb, guide_b_id).await;
    // The chat sidebar names customers by WeCom external_userid: give each of the two its own
    // id as one, so `/sidebar/contacts/{external_userid}` can be called in and out of scope.
    for c in [ca, cb] {
        let r = t
            .post(
                &format!("/api/v1/customers/{c}/identities"),
                &t.admin,
                json!({"kind": "wecom_external", "value": c.to_string()}),
            )
            .await;
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    let ca_token = customer_token(&t, ca).await;
    let cb_token = customer_token(&t, cb).await;

    // A tier program before the orders: both customers join its lowest tier with them.
    let program = json_of(
        t.send_json(
            Method::PUT,
            "/api/v1/loyalty/tiers",
            &t.admin,
            tier_program(),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let tier = program["tiers"][0]["id"].as_i64().unwrap();
    let order_of = |v: Value| v["order"]["id"].as_i64().unwrap();
    let order_a = order_of(
        json_of(
            t.post("/api/v1/orders", &t.admin, order_body("M-A", ca))
                .await,
            StatusCode::CREATED,
        )
        .await,
    );
    let order_b = order_of(
        json_of(
            t.post("/api/v1/orders", &t.admin, order_body("M-B", cb))
                .await,
            StatusCode::CREATED,
        )
        .await,
    );

    let template = created(
        &t,
        "/api/v1/coupon-templates",
        template_body("会员日 满50减10"),
    )
    .await;
    let spare_template = created(&t, "/api/v1/coupon-templates", template_body("备用券")).await;
    for c in [ca, cb] {
        let r = t
            .post(
                &format!("/api/v1/coupon-templates/{template}/issue"),
                &t.admin,
                json!({"customer_id": c}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }
    let mine = json_of(
        t.get("/api/v1/public/coupons/mine", &ca_token).await,
        StatusCode::OK,
    )
    .await;
    let coupon_a = mine
        .as_array()
        .and_then(|a| a.first())
        .or_else(|| mine["items"].as_array().and_then(|a| a.first()))
        .map(|c| c["id"].as_i64().unwrap())
        .unwrap_or_else(|| panic!("{mine}"));

    let flash_sale = created(&t, "/api/v1/flash-sales", flash_body()).await;
    let flash_claim = json_of(
        t.post(
            &format!("/api/v1/public/flash-sales/{flash_sale}/claim"),
            &ca_token,
            json!({}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["claim_id"]
        .as_i64()
        .unwrap();

    let group_buy = created(&t, "/api/v1/group-buys", group_buy_body()).await;
    let mut teams = Vec::new();
    for tok in [&ca_token, &cb_token] {
        let v = json_of(
            t.post(
                &format!("/api/v1/public/group-buys/{group_buy}/open"),
                tok,
                json!({}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        teams.push(v["team_id"].as_i64().unwrap());
    }

    let group = created(
        &t,
        "/api/v1/tag-groups",
        json!({"name": "兴趣", "multi": true}),
    )
    .await;
    let tag = created(
        &t,
        "/api/v1/tags",
        json!({"group_id": group, "name": "车厘子"}),
    )
    .await;
    let spare_group = created(&t, "/api/v1/tag-groups", json!({"name": "备用组"})).await;
    let spare_tag = created(
        &t,
        "/api/v1/tags",
        json!({"group_id": group, "name": "榴莲"}),
    )
    .await;
    for c in [ca, cb] {
        let r = t
            .post(
                &format!("/api/v1/customers/{c}/tags"),
                &t.admin,
                json!({"add": [tag]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    }
    let rule = created(
        &t,
        "/api/v1/tag-rules",
        json!({"name": "社群", "config": {"kind": "expression", "tag": "已入群", "expression": "in_group"}}),
    )
    .await;
    let spare_rule = created(
        &t,
        "/api/v1/tag-rules",
        json!({"name": "备用规则", "config": {"kind": "expression", "tag": "上海", "expression": r#"city = "上海""#}}),
    )
    .await;
    let segment = created(
        &t,
        "/api/v1/segments",
        json!({"name": "上海客户", "expression": r#"city = "上海""#}),
    )
    .await;
    let spare_segment = created(
        &t,
        "/api/v1/segments",
        json!({"name": "备用人群", "expression": r#"city = "上海""#}),
    )
    .await;
    let job = json_of(
        t.post(
            "/api/v1/tags/bulk",
            &t.admin,
            json!({"add": [tag], "customer_ids": [ca, cb]}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    t.settle_jobs().await;
    let (channel_a, channel_b, spare_channel, code_a, code_b, spare_code) =
        acquisition_world(&t, store_a, store_b, guide_a_id, guide_b_id).await;
    // Scheduled reports (the guides are linked to WeCom by `acquisition_world`).
    let mut reports = Vec::new();
    for (store, guide) in [
        (store_a, guide_a_id),
        (store_b, guide_b_id),
        (store_a, guide_a_id),
    ] {
        let input = yutang_app::analytics::reports::ScheduleInput::parse(
            "矩阵报表",
            "daily",
            9,
            Some(store),
            None,
            &[guide],
            None,
            None,
        )
        .unwrap();
        let v = t
            .app
            .analytics()
            .reports()
            .create(&yutang_app::Actor::system(), &input)
            .await
            .unwrap();
        reports.push(v.id);
    }
    // Mass messages, scheduled far ahead so that they stay cancellable (made by the system,
    // then given the store a store manager's message has).
    let mut messages = Vec::new();
    for store in [store_a, store_b, store_a] {
        let input = yutang_app::messaging::MessageInput::parse(
            "矩阵群发",
            yutang_core::messaging::Content::parse("矩阵", vec![]).unwrap(),
            yutang_core::messaging::Audience::parse(yutang_core::messaging::AudienceForm {
                customer_ids: Some(vec![ca]),
                ..Default::default()
            })
            .unwrap(),
            None,
            Some(4_000_000_000_000),
        )
        .unwrap();
        let v = t
            .app
            .messaging()
            .create(&yutang_app::Actor::system(), &input)
            .await
            .unwrap();
        let sql = format!(
            "UPDATE mass_messages SET store_id = {store} WHERE id = {}",
            v.message.id
        );
        t.exec(Box::leak(sql.into_boxed_str())).await;
        messages.push(v.message.id);
    }
    // Moments tasks of store A, store B and a spare of store A; store A's guide can publish.
    let sql = format!("UPDATE staff SET wecom_userid = 'matrix-guide-a' WHERE id = {guide_a_id}");
    t.exec(Box::leak(sql.into_boxed_str())).await;
    let mut moments = Vec::new();
    for store in [store_a, store_b, store_a] {
        let sql = format!(
            "INSERT INTO moment_tasks (name, content, visible_tags, status, send_at, store_id, \
             created_at, updated_at) VALUES ('矩阵朋友圈', '{{\"text\":\"矩阵\"}}', '[]', \
             'scheduled', 4000000000000, {store}, 0, 0) RETURNING id"
        );
        moments.push(crate::promotions::scalar(&t, Box::leak(sql.into_boxed_str())).await);
    }
    // The material library: a folder with a material, a spare folder and a spare material.
    let material_folder = created(
        &t,
        "/api/v1/material-folders",
        json!({"name": "矩阵文件夹"}),
    )
    .await;
    let spare_material_folder = created(
        &t,
        "/api/v1/material-folders",
        json!({"name": "矩阵备用文件夹"}),
    )
    .await;
    let material = created(
        &t,
        "/api/v1/materials",
        json!({"kind": "text", "title": "矩阵素材", "body": "你好", "folder_id": material_folder}),
    )
    .await;
    let spare_material = created(
        &t,
        "/api/v1/materials",
        json!({"kind": "text", "title": "矩阵备用素材", "body": "你好"}),
    )
    .await;
    let journey_body = |name: &str| {
        json!({"name": name, "trigger": {"kind": "event", "event": "add_friend"},
            "steps": [{"kind": "wait", "seconds": 3600}], "entry": {"rule": "once"}})
    };
    let journey = created(&t, "/api/v1/journeys", journey_body("矩阵旅程")).await;
    let spare_journey = created(&t, "/api/v1/journeys", journey_body("矩阵备用旅程")).await;
    // Guide tasks: two for store A's guide about store A's customer, one for store B's guide.
    let mut guide_tasks = Vec::new();
    for (staff, customer) in [(guide_a_id, ca), (guide_a_id, ca), (guide_b_id, cb)] {
        guide_tasks.push(
            created(
                &t,
                "/api/v1/guide-tasks",
                json!({"staff_id": staff, "customer_id": customer, "title": "矩阵待办",
                       "due_at": "2099-01-01T00:00:00Z"}),
            )
            .await,
        );
    }
    let mut referrals = Vec::new();
    for code in [code_a, code_b, code_a] {
        let spec = serde_json::from_value(json!({
            "name": "矩阵邀请", "live_code_id": code, "qualification": {"kind": "added"}
        }))
        .unwrap();
        let sys = yutang_app::Actor::system();
        referrals.push(
            t.app
                .acquisition()
                .create_program(&sys, spec)
                .await
                .unwrap()
                .id,
        );
    }
    let (referral_a, referral_b, spare_referral) = (referrals[0], referrals[1], referrals[2]);
    // Churn alerts: store A's customer deleted guide A, store B's customer guide B.
    let mut churn = Vec::new();
    for (n, staff, customer, store) in [(1, guide_a_id, ca, store_a), (2, guide_b_id, cb, store_b)]
    {
        let sql = format!(
            "INSERT INTO churn_alerts (kind, customer_id, staff_id, store_id, occurred_at, \
             orders, spend_fen, source_key, status, note, created_at) VALUES \
             ('customer_deleted', {customer}, {staff}, {store}, 0, 1, 100, 'matrix:{n}', \
             'open', '', 0) RETURNING id"
        );
        churn.push(crate::promotions::scalar(&t, Box::leak(sql.into_boxed_str())).await);
    }

    // Service ratings: store A's customer rated guide A, store B's customer guide B.
    for (n, staff, customer, store) in [(1, guide_a_id, ca, store_a), (2, guide_b_id, cb, store_b)]
    {
        let sql = format!(
            "INSERT INTO service_ratings (customer_id, staff_id, store_id, subject_kind, \
             subject_id, score, comment, fingerprint, created_at) VALUES \
             ({customer}, {staff}, {store}, 'order', {n}, 4, '矩阵', 'matrix:{n}', 0)"
        );
        t.exec(Box::leak(sql.into_boxed_str())).await;
    }

    // Incentive pools (drafts): store A's, store B's and a spare of the brand's (October
    // 2024 onwards), and the brand's of January 2026 (over, so it settles).
    let mut pools = Vec::new();
    for (level, scope, from, to) in [
        ("store", Some(store_a), 20_000, 20_030),
        ("store", Some(store_b), 20_000, 20_030),
        ("brand", None, 20_000, 20_030),
        ("brand", None, 20_454, 20_484),
    ] {
        let scope = scope.map_or("NULL".to_owned(), |s: i64| s.to_string());
        let sql = format!(
            "INSERT INTO incentive_pools (name, span, from_day, to_day, level, scope_id, metric, \
             amount_fen, individual_pct, team_pct, state, created_at, updated_at) VALUES \
             ('矩阵激励', 'month', {from}, {to}, '{level}', {scope}, 'adds', 10000, 80, 20, \
             'draft', 0, 0) RETURNING id"
        );
        pools.push(crate::promotions::scalar(&t, Box::leak(sql.into_boxed_str())).await);
    }

    // A customer group and group live codes of store A, store B and a spare (pending: no
    // WeCom is configured).
    let matrix_group = crate::promotions::scalar(
        &t,
        "INSERT INTO customer_groups (chat_id, name, owner_userid, created_at, synced_at, \
         updated_at) VALUES ('wrMatrixGroup', '矩阵群', '', 0, 0, 0) RETURNING id",
    )
    .await;
    let mut gcodes = Vec::new();
    for store in [store_a, store_b, store_a] {
        let spec = yutang_core::group_codes::GroupCodeSpec {
            name: "矩阵群码".into(),
            channel_id: None,
            store_id: Some(store),
            scene: yutang_core::group_codes::Scene::Qr,
            member_cap: 200,
            auto_create: false,
            room_base_name: String::new(),
            room_base_id: 1,
            group_ids: vec![matrix_group],
        };
        let v = t
            .app
            .group_codes()
            .create(&yutang_app::Actor::system(), spec)
            .await
            .unwrap();
        gcodes.push(v.id);
    }

    // Paid member cards: a card, a spare, purchases for both customers and a settled period
    // of store A's customer with a refund owed.
    let card = json_of(
        t.post("/api/v1/loyalty/cards", &t.admin, card_body("matrix_card"))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let spare_card = json_of(
        t.post("/api/v1/loyalty/cards", &t.admin, card_body("matrix_spare"))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let buy = |no: &'static str, c: i64| {
        t.post(
            "/api/v1/member-cards/purchases",
            &t.admin,
            json!({"order_no": no, "customer_id": c, "card_key": "matrix_card"}),
        )
    };
    json_of(buy("880000", ca).await, StatusCode::CREATED).await;
    crate::acquisition::run_sql(
        &t,
        &format!(
            "UPDATE card_periods SET starts_at = {}, ends_at = {} WHERE order_no = '880000'",
            now_ms() - 40 * DAY,
            now_ms() - 10 * DAY
        ),
    )
    .await;
    t.app.cards().run_settlement().await.unwrap();
    let card_refund = crate::acquisition::scalar(&t, "SELECT id FROM card_refunds").await;
    json_of(buy("880001", ca).await, StatusCode::CREATED).await;
    json_of(buy("880002", cb).await, StatusCode::CREATED).await;

    World {
        t,
        operator,
        analyst,
        manager_a,
        guide_a,
        store_a,
        store_b,
        region,
        guide_a_id,
        guide_a2_id,
        guide_b_id,
        ca,
        cb,
        merge_a,
        merge_b,
        spare_token_id,
        webhook,
        spare_webhook,
        inbound_source,
        spare_inbound_source,
        template,
        spare_template,
        coupon_a,
        flash_sale,
        flash_claim,
        group_buy,
        team_a: teams[0],
        team_b: teams[1],
        order_a,
        order_b,
        group,
        tag,
        spare_group,
        spare_tag,
        rule,
        spare_rule,
        segment,
        spare_segment,
        job,
        channel_a,
        channel_b,
        spare_channel,
        code_a,
        code_b,
        spare_code,
        referral_a,
        referral_b,
        spare_referral,
        tier,
        card,
        spare_card,
        card_refund,
        report_a: reports[0],
        report_b: reports[1],
        spare_report: reports[2],
        message_a: messages[0],
        message_b: messages[1],
        spare_message: messages[2],
        moment_a: moments[0],
        moment_b: moments[1],
        spare_moment: moments[2],
        material,
        spare_material,
        material_folder,
        spare_material_folder,
        journey,
        spare_journey,
        guide_task_a: guide_tasks[0],
        spare_guide_task_a: guide_tasks[1],
        guide_task_b: guide_tasks[2],
        churn_a: churn[0],
        churn_b: churn[1],
        pool_a: pools[0],
        pool_b: pools[1],
        spare_pool: pools[2],
        past_pool: pools[3],
        matrix_group,
        gcode_a: gcodes[0],
        gcode_b: gcodes[1],
        spare_gcode: gcodes[2],
    }
}

fn card_body(key: &str) -> Value {
    json!({"key": key, "name": key, "period_days": 30, "price_fen": 1800,
           "points_multiplier": 2000, "savings_guarantee": true})
}

fn tier_program() -> Value {
    json!({"metric": "spend_12m", "tiers": [
        {"key": "normal", "name": "普通", "rank": 1, "threshold": 0},
        {"key": "gold", "name": "金卡", "rank": 2, "threshold": 1_000_000}
    ]})
}

/// Channels of stores A and B (and a spare to archive) with a live code each; the guides get
/// WeCom userids (no WeCom is configured, so the codes stay pending).
async fn acquisition_world(
    t: &TestApp,
    store_a: i64,
    store_b: i64,
    guide_a: i64,
    guide_b: i64,
) -> (i64, i64, i64, i64, i64, i64) {
    use yutang_core::acquisition::{ChannelKind, ChannelSpec, GuideSlot, LiveCodeSpec};
    let sys = yutang_app::Actor::system();
    let acq = t.app.acquisition();
    for (id, u) in [(guide_a, "matrix_guide_a"), (guide_b, "matrix_guide_b")] {
        yutang_store::staff::set_wecom_userid(&t.app.db, id, Some(u), t.app.now())
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    for (name, store) in [
        ("矩阵渠道A", Some(store_a)),
        ("矩阵渠道B", Some(store_b)),
        ("备用渠道", None),
    ] {
        let spec = ChannelSpec {
            name: name.into(),
            kind: ChannelKind::StoreStand,
            owner_staff_id: None,
            store_id: store,
            region_id: None,
            starts_on: None,
            ends_on: None,
            tag_ids: vec![],
            welcome: None,
            reward_template_id: None,
        };
        ids.push(acq.create_channel(&sys, spec).await.unwrap().id);
    }
    let mut codes = Vec::new();
    for (channel, guide) in [(ids[0], guide_a), (ids[1], guide_b), (ids[0], guide_a)] {
        let spec = LiveCodeSpec {
            channel_id: channel,
            name: "矩阵活码".into(),
            kind: Default::default(),
            state: None,
            skip_verify: true,
            guides: vec![GuideSlot {
                staff_id: guide,
                daily_cap: 10,
                weight: 1,
            }],
            backup_staff_id: None,
            schedule: Default::default(),
            spread: Default::default(),
            poster: Default::default(),
        };
        codes.push(acq.create_live_code(&sys, spec).await.unwrap().id);
    }
    (ids[0], ids[1], ids[2], codes[0], codes[1], codes[2])
}

impl World {
    fn token(&self, r: Role) -> Option<&str> {
        match r {
            Anon => None,
            Forged => Some("ytk_forged0000000000000000000000"),
            Analyst => Some(&self.analyst),
            Guide => Some(&self.guide_a),
            Manager => Some(&self.manager_a),
            Operator => Some(&self.operator),
            Admin => Some(&self.t.admin),
        }
    }
}

/// THE EXPECTATION TABLE: who may call each documented operation, and with what. `None` for an
/// operation it does not list, which fails the matrix.
fn case(w: &World, method: &str, path: &str) -> Option<Case> {
    use Who::*;
    let p = path.strip_prefix("/api/v1").unwrap_or(path);
    let nothing = 999_999;
    let c = match (method, p) {
        // --- auth ---
        ("post", "/auth/login") => Case::new(Open)
            .body(json!({"username": "matrix.login", "password": crate::helpers::PASSWORD})),
        ("post", "/auth/logout") => Case::new(Own),
        ("get", "/auth/me") => Case::new(Roles(EVERY)),
        ("post", "/auth/password") => Case::new(Own).body(
            json!({"current_password": "not-the-password", "new_password": "another-pass-1"}),
        ),
        // --- staff and org ---
        ("get", "/staff") => Case::new(Roles(EVERY)),
        ("post", "/staff") => Case::new(Roles(STAFF_ADMINS)).body(json!({
            "username": "matrix.new", "display_name": "新导购", "role": "guide",
            "store_id": w.store_a, "password": "long enough pw"})),
        ("get", "/staff/{id}") => Case::new(Roles(EVERY)).scoped(w.guide_a2_id, w.guide_b_id),
        ("patch", "/staff/{id}") => Case::new(Roles(STAFF_ADMINS))
            .scoped(w.guide_a2_id, w.guide_b_id)
            .body(json!({"display_name": "改名导购"})),
        ("post", "/staff/{id}/password") => Case::new(Roles(STAFF_ADMINS))
            .scoped(w.guide_a2_id, w.guide_b_id)
            .body(json!({"password": "long enough pw 2"})),
        ("get", "/regions") | ("get", "/stores") => Case::new(Roles(EVERY)),
        ("post", "/regions") => Case::new(Roles(HQ_WRITE)).body(json!({"name": "矩阵大区"})),
        ("patch", "/regions/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.region)
            .body(json!({"name": "矩阵大区改"})),
        ("post", "/stores") => Case::new(Roles(HQ_WRITE))
            .body(json!({"region_id": w.region, "code": "MX", "name": "矩阵门店", "city": "上海"})),
        ("get", "/stores/{id}") => Case::new(Roles(EVERY)).scoped(w.store_a, w.store_b),
        ("put", "/stores/{id}") => Case::new(Roles(HQ_WRITE))
            .scoped(w.store_a, w.store_b)
            .body(json!({"region_id": w.region, "code": "MA", "name": "门店 MA", "city": "上海"})),
        ("get", "/tokens") => Case::new(Roles(ADMIN)),
        ("post", "/tokens") => {
            Case::new(Roles(ADMIN)).body(json!({"name": "matrix new", "role": "analyst"}))
        }
        ("delete", "/tokens/{id}") => Case::new(Roles(ADMIN)).id(w.spare_token_id).gone_ok(),
        // --- scheduled reports (a store manager: their store's; another store's is 404) ---
        ("get", "/reports/schedules") | ("get", "/reports/deliveries") => {
            Case::new(Roles(REPORTERS))
        }
        ("post", "/reports/schedules") => Case::new(Roles(REPORTERS)).body(json!({
            "name": "矩阵新报表", "cadence": "weekly", "hour": 8, "store_id": w.store_a,
            "recipient_ids": [w.guide_a_id]})),
        ("get", "/reports/schedules/{id}") | ("post", "/reports/schedules/{id}/send") => {
            Case::new(Roles(REPORTERS)).scoped(w.report_a, w.report_b)
        }
        ("put", "/reports/schedules/{id}") => Case::new(Roles(REPORTERS))
            .scoped(w.report_a, w.report_b)
            .body(json!({"name": "矩阵报表", "cadence": "daily", "hour": 9,
                "store_id": w.store_a, "recipient_ids": [w.guide_a_id]})),
        ("delete", "/reports/schedules/{id}") => Case::new(Roles(REPORTERS))
            .scoped(w.spare_report, w.report_b)
            .gone_ok(),
        // --- mass messages (a store manager: their store's; another store's is 404; analysts
        // read) and the messaging rules (HQ writes) ---
        ("get", "/mass-messages") | ("get", "/messaging/settings") => {
            Case::new(Roles(&[Analyst, Manager, Operator, Admin]))
        }
        ("put", "/messaging/settings") => Case::new(Roles(HQ_WRITE)).body(json!({
            "daily_cap": 1, "weekly_cap": 3, "receipt_rule": "month_days"})),
        ("post", "/mass-messages/preview") => Case::new(Roles(SENDERS))
            .body(json!({"audience": {"customer_ids": [w.ca]}})),
        ("post", "/mass-messages") => Case::new(Roles(SENDERS)).body(json!({
            "name": "矩阵新群发", "text": "你好", "send_at": "2099-01-01T00:00:00Z",
            "audience": {"customer_ids": [w.ca]}})),
        ("get", "/mass-messages/{id}")
        | ("get", "/mass-messages/{id}/recipients")
        | ("get", "/mass-messages/{id}/groups")
        | ("get", "/mass-messages/{id}/uplift") => {
            Case::new(Roles(&[Analyst, Manager, Operator, Admin])).scoped(w.message_a, w.message_b)
        }
        ("post", "/mass-messages/{id}/remind") | ("post", "/mass-messages/{id}/refresh") => {
            Case::new(Roles(SENDERS)).scoped(w.message_a, w.message_b)
        }
        ("post", "/mass-messages/{id}/cancel") => Case::new(Roles(SENDERS))
            .scoped(w.spare_message, w.message_b),
        // --- moments tasks (as mass messages: a store manager their store's) ---
        ("get", "/moments") => Case::new(Roles(&[Analyst, Manager, Operator, Admin])),
        ("get", "/moments/senders") => Case::new(Roles(SENDERS)),
        ("post", "/moments") => Case::new(Roles(SENDERS)).body(json!({
            "name": "矩阵新朋友圈", "text": "你好", "send_at": "2099-01-01T00:00:00Z",
            "all_senders": true})),
        ("get", "/moments/{id}") => Case::new(Roles(&[Analyst, Manager, Operator, Admin]))
            .scoped(w.moment_a, w.moment_b),
        ("post", "/moments/{id}/refresh") => {
            Case::new(Roles(SENDERS)).scoped(w.moment_a, w.moment_b)
        }
        ("post", "/moments/{id}/cancel") => {
            Case::new(Roles(SENDERS)).scoped(w.spare_moment, w.moment_b)
        }
        // --- the material library (every role reads, HQ writes; brand-wide, no store scope) ---
        ("get", "/material-folders") | ("get", "/materials") => Case::new(Roles(EVERY)),
        ("post", "/material-folders") => {
            Case::new(Roles(HQ_WRITE)).body(json!({"name": "矩阵新文件夹"}))
        }
        ("put", "/material-folders/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.material_folder)
            .body(json!({"name": "矩阵文件夹改"})),
        ("delete", "/material-folders/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.spare_material_folder)
            .gone_ok(),
        ("post", "/materials") => Case::new(Roles(HQ_WRITE))
            .body(json!({"kind": "text", "title": "矩阵新素材", "body": "你好"})),
        ("get", "/materials/{id}") => Case::new(Roles(EVERY)).id(w.material),
        ("put", "/materials/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.material)
            .body(json!({"kind": "text", "title": "矩阵素材改", "body": "你好"})),
        ("post", "/materials/{id}/archive") | ("post", "/materials/{id}/restore") => {
            Case::new(Roles(HQ_WRITE)).id(w.spare_material)
        }
        // Tracked links: a guide for themselves, a store manager for their store's guides, HQ
        // for any; figures for every reader (a guide's are their own links').
        ("post", "/materials/{id}/links") => Case::new(Roles(&[Guide, Manager, Operator, Admin]))
            .id(w.material)
            .body(json!({"staff_id": w.guide_a_id})),
        ("get", "/materials/{id}/stats") => Case::new(Roles(EVERY)).id(w.material),
        // --- journeys (HQ writes; store managers and analysts read; a trace shows only the
        // caller's customers) ---
        ("get", "/journeys") | ("get", "/journeys/calendar") => {
            Case::new(Roles(&[Analyst, Manager, Operator, Admin]))
        }
        ("post", "/journeys") => Case::new(Roles(HQ_WRITE)).body(json!({
            "name": "矩阵新旅程", "trigger": {"kind": "event", "event": "check_in"},
            "steps": [{"kind": "wait", "seconds": 60}], "entry": {"rule": "reentry"}})),
        ("get", "/journeys/{id}") | ("get", "/journeys/{id}/trace") => {
            Case::new(Roles(&[Analyst, Manager, Operator, Admin])).id(w.journey)
        }
        ("put", "/journeys/{id}") => Case::new(Roles(HQ_WRITE)).id(w.journey).body(json!({
            "name": "矩阵旅程改", "trigger": {"kind": "event", "event": "add_friend"},
            "steps": [{"kind": "wait", "seconds": 7200}], "entry": {"rule": "once"}})),
        ("post", "/journeys/{id}/activate") | ("post", "/journeys/{id}/pause") => {
            Case::new(Roles(HQ_WRITE)).id(w.journey)
        }
        ("post", "/journeys/{id}/archive") => Case::new(Roles(HQ_WRITE)).id(w.spare_journey),
        // --- the guide task inbox (a guide their own, a store manager their store's; HQ and
        // store managers set tasks; analysts only read) ---
        ("get", "/guide-tasks") | ("get", "/guide-tasks/stats") => Case::new(Roles(EVERY)),
        ("post", "/guide-tasks") => Case::new(Roles(&[Manager, Operator, Admin])).body(json!({
            "staff_id": w.guide_a_id, "customer_id": w.ca, "title": "矩阵新待办",
            "due_at": "2099-01-01T00:00:00Z"})),
        ("get", "/guide-tasks/{id}") => {
            Case::new(Roles(EVERY)).scoped(w.guide_task_a, w.guide_task_b)
        }
        ("post", "/guide-tasks/{id}/done") => {
            Case::new(Roles(&[Guide, Manager, Operator, Admin]))
                .scoped(w.guide_task_a, w.guide_task_b)
                .body(json!({"note": "矩阵完成"}))
        }
        ("post", "/guide-tasks/{id}/skip") => {
            Case::new(Roles(&[Guide, Manager, Operator, Admin]))
                .scoped(w.spare_guide_task_a, w.guide_task_b)
                .body(json!({"reason": "矩阵跳过"}))
        }
        // --- churn alerts (a guide their own customer_deleted alerts, a store manager their
        // store's; analysts only read) ---
        // --- service ratings (a guide their own, a store manager their store's; the matrix's
        // answers must not name store B's customer to store A's staff) ---
        ("get", "/ratings") | ("get", "/ratings/summary") => Case::new(Roles(EVERY)),
        ("get", "/churn-alerts") => Case::new(Roles(EVERY)),
        ("get", "/churn-alerts/{id}") => Case::new(Roles(EVERY)).scoped(w.churn_a, w.churn_b),
        ("post", "/churn-alerts/{id}/handle") => {
            Case::new(Roles(&[Guide, Manager, Operator, Admin]))
                .scoped(w.churn_a, w.churn_b)
                .body(json!({"note": "矩阵处理"}))
        }
        // --- leaderboards (every role; store staff default to their store) and incentive
        // pools (HQ operations write; everyone reads the pools that cover them) ---
        ("get", "/leaderboards") | ("get", "/incentive-pools") => Case::new(Roles(EVERY)),
        ("get", "/leaderboards/me") => Case::new(Roles(&[Guide, Manager])),
        ("post", "/incentive-pools") => Case::new(Roles(&[Operator, Admin])).body(json!({
            "name": "矩阵新激励", "period": "month", "date": "2026-12-01", "level": "brand",
            "store_id": null, "region_id": null, "metric": "gmv", "amount_fen": 10000,
            "individual_pct": 80, "team_pct": 20})),
        ("get", "/incentive-pools/{id}") => Case::new(Roles(EVERY)).scoped(w.pool_a, w.pool_b),
        ("put", "/incentive-pools/{id}") => Case::new(Roles(&[Operator, Admin]))
            .scoped(w.pool_a, w.pool_b)
            .body(json!({
                "name": "矩阵激励改", "period": "month", "date": "2024-10-05", "level": "brand",
                "store_id": null, "region_id": null, "metric": "adds", "amount_fen": 20000,
                "individual_pct": 70, "team_pct": 30})),
        ("delete", "/incentive-pools/{id}") => {
            Case::new(Roles(&[Operator, Admin])).id(w.spare_pool).gone_ok()
        }
        ("post", "/incentive-pools/{id}/settle") | ("get", "/incentive-pools/{id}/export") => {
            Case::new(Roles(&[Operator, Admin])).id(w.past_pool)
        }
        // --- the chat sidebar (signatures for staff sessions only; cards in scope; analysts
        // only read) ---
        ("get", "/sidebar/jssdk") => Case::new(Roles(&[Guide, Manager])),
        ("get", "/sidebar/contacts/{external_userid}") => {
            Case::new(Roles(EVERY)).scoped(w.ca, w.cb)
        }
        ("post", "/sidebar/contacts/{external_userid}/coupons") => {
            Case::new(Roles(&[Guide, Manager, Operator, Admin]))
                .scoped(w.ca, w.cb)
                .body(json!({"template_id": w.template}))
        }
        ("get", "/sidebar/coupon-templates") => {
            Case::new(Roles(&[Guide, Manager, Operator, Admin]))
        }
        ("get", "/sidebar/groups/{chat_id}") => Case::new(Roles(EVERY)).id(nothing).gone_ok(),
        ("post", "/sidebar/messages") => Case::new(Roles(&[Guide, Manager]))
            .gone_ok()
            .body(json!({"material_id": nothing, "external_userid": w.ca.to_string()})),
        // --- outbound webhooks (admin only) ---
        ("get", "/webhooks") | ("get", "/webhooks/kinds") => Case::new(Roles(ADMIN)),
        ("post", "/webhooks") => Case::new(Roles(ADMIN)).body(
            json!({"name": "矩阵新推送", "url": "https://hooks.example.com/new", "kinds": ["order_paid"]}),
        ),
        ("put", "/webhooks/{id}") => Case::new(Roles(ADMIN)).id(w.webhook).body(
            json!({"name": "矩阵推送改", "url": "https://hooks.example.com/matrix", "kinds": ["*"]}),
        ),
        ("get", "/webhooks/{id}")
        | ("get", "/webhooks/{id}/deliveries")
        | ("post", "/webhooks/{id}/pause")
        | ("post", "/webhooks/{id}/resume")
        | ("post", "/webhooks/{id}/rotate-secret")
        | ("post", "/webhooks/{id}/test")
        | ("post", "/webhooks/{id}/replay-failed") => Case::new(Roles(ADMIN)).id(w.webhook),
        ("delete", "/webhooks/{id}") => Case::new(Roles(ADMIN)).id(w.spare_webhook).gone_ok(),
        // The same id fills both segments: the webhook has no delivery of that id (404).
        ("post", "/webhooks/{id}/deliveries/{delivery_id}/replay") => {
            Case::new(Roles(ADMIN)).id(w.webhook).gone_ok()
        }
        // --- inbound order sync (admin only; the receiving URLs authenticate by signature) ---
        ("get", "/inbound-sources") => Case::new(Roles(ADMIN)),
        ("post", "/inbound-sources") => Case::new(Roles(ADMIN))
            .body(json!({"name": "矩阵新接入", "format": "generic", "channel": "pos"})),
        ("put", "/inbound-sources/{id}") => Case::new(Roles(ADMIN))
            .id(w.inbound_source)
            .body(json!({"name": "矩阵接入改", "channel": "pos"})),
        ("get", "/inbound-sources/{id}")
        | ("get", "/inbound-sources/{id}/messages")
        | ("post", "/inbound-sources/{id}/rotate-secret") => {
            Case::new(Roles(ADMIN)).id(w.inbound_source)
        }
        ("delete", "/inbound-sources/{id}") => {
            Case::new(Roles(ADMIN)).id(w.spare_inbound_source).gone_ok()
        }
        // The same id fills both segments: the source has no message of that id (404).
        ("post", "/inbound-sources/{id}/messages/{message_id}/retry") => {
            Case::new(Roles(ADMIN)).id(w.inbound_source).gone_ok()
        }
        // No bearer credential is a signature: everyone gets 401 or 404 (no such key).
        ("post", "/inbound/generic/{key}") | ("post", "/inbound/youzan/{key}") => {
            Case::new(Public)
                .id(w.inbound_source)
                .body(json!({"id": "m-1", "type": "order.closed", "data": {"external_id": "SO-1"}}))
        }
        ("get", "/audit") | ("get", "/audit/export") => Case::new(Roles(ADMIN)),
        // --- customers ---
        ("get", "/customers") => Case::new(Roles(EVERY)),
        ("post", "/customers/export") => {
            Case::new(Roles(EVERY)).body(json!({"sort": "-total_spend"}))
        }
        ("post", "/customers") => Case::new(Roles(HQ_WRITE)).body(json!({
            "identities": [{"kind": "phone", "value": "13900000099"}], "name": "新客"})),
        ("get", "/customers/{id}")
        | ("get", "/customers/{id}/identities")
        | ("get", "/customers/{id}/follows")
        | ("get", "/customers/{id}/timeline")
        | ("get", "/customers/{id}/tags")
        | ("get", "/customers/{id}/coupons")
        | ("get", "/customers/{id}/tier")
        | ("get", "/customers/{id}/notes") => Case::new(Roles(EVERY)).scoped(w.ca, w.cb),
        ("patch", "/customers/{id}") => Case::new(Roles(HQ_WRITE))
            .scoped(w.ca, w.cb)
            .body(json!({"member_level": "gold"})),
        ("post", "/customers/{id}/identities") => Case::new(Roles(HQ_WRITE))
            .scoped(w.ca, w.cb)
            .body(json!({"kind": "unionid", "value": "matrix-unionid-1"})),
        ("post", "/customers/{id}/merge") => Case::new(Roles(HQ_WRITE))
            .scoped(w.merge_a, w.cb)
            .body(json!({"other_id": w.merge_b}))
            .gone_ok(),
        ("post", "/customers/{id}/follows") => Case::new(Roles(HQ_WRITE))
            .scoped(w.ca, w.cb)
            .body(json!({"staff_id": w.guide_a_id})),
        ("post", "/customers/{id}/reveal-phone") => Case::new(Roles(REVEAL)).scoped(w.ca, w.cb),
        ("post", "/customers/{id}/tags") => Case::new(Roles(TAGGERS))
            .scoped(w.ca, w.cb)
            .body(json!({"add": [w.tag]})),
        // Notes (跟进记录): whoever may tag the customer writes one.
        ("post", "/customers/{id}/notes") => Case::new(Roles(TAGGERS))
            .scoped(w.ca, w.cb)
            .body(json!({"body": "矩阵：电话回访，约周末到店"})),
        ("get", "/customer-attributes") => Case::new(Roles(EVERY)),
        ("post", "/customer-attributes") => Case::new(Roles(HQ_WRITE))
            .body(json!({"key": "matrix_note", "label": "备注", "kind": "text"})),
        ("post", "/events") => Case::new(Roles(HQ_WRITE)).body(
            json!({"events": [{"id": "matrix-1", "kind": "join_group", "customer_id": w.ca}]}),
        ),
        // --- orders ---
        ("get", "/orders") => Case::new(Roles(EVERY)),
        ("post", "/orders") => Case::new(Roles(HQ_WRITE)).body(order_body("M-NEW", w.ca)),
        ("get", "/orders/{id}") => Case::new(Roles(EVERY)).scoped(w.order_a, w.order_b),
        ("post", "/orders/{id}/status") => Case::new(Roles(HQ_WRITE))
            .scoped(w.order_a, w.order_b)
            .body(json!({"status": "completed"})),
        ("post", "/orders/{id}/refunds") => Case::new(Roles(HQ_WRITE))
            .scoped(w.order_a, w.order_b)
            .body(json!({"refund_id": "matrix-r1", "amount_fen": 100})),
        // --- tags ---
        ("get", "/tag-groups") => Case::new(Roles(EVERY)),
        ("post", "/tag-groups") => Case::new(Roles(HQ_WRITE)).body(json!({"name": "矩阵组"})),
        ("post", "/tag-groups/sync-wecom") => Case::new(Roles(HQ_WRITE)),
        ("put", "/tag-groups/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.group)
            .body(json!({"name": "兴趣", "multi": true})),
        ("delete", "/tag-groups/{id}") => Case::new(Roles(HQ_WRITE)).id(w.spare_group).gone_ok(),
        ("post", "/tags") => {
            Case::new(Roles(HQ_WRITE)).body(json!({"group_id": w.group, "name": "矩阵标签"}))
        }
        ("put", "/tags/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.tag)
            .body(json!({"name": "车厘子", "color": "#cc3333"})),
        ("delete", "/tags/{id}") => Case::new(Roles(HQ_WRITE)).id(w.spare_tag).gone_ok(),
        ("post", "/tags/bulk") => {
            Case::new(Roles(TAGGERS)).body(json!({"add": [w.tag], "customer_ids": [w.ca]}))
        }
        ("get", "/jobs/{id}") => Case::new(Roles(HQ_WRITE)).id(w.job),
        ("get", "/tag-rules") => Case::new(Roles(EVERY)),
        ("post", "/tag-rules") => Case::new(Roles(HQ_WRITE)).body(json!({"name": "矩阵规则",
            "config": {"kind": "expression", "tag": "矩阵", "expression": "in_group"}})),
        ("patch", "/tag-rules/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.rule)
            .body(json!({"enabled": true})),
        ("delete", "/tag-rules/{id}") => Case::new(Roles(HQ_WRITE)).id(w.spare_rule).gone_ok(),
        ("post", "/tag-rules/{id}/run") => Case::new(Roles(HQ_WRITE)).id(w.rule),
        // --- segments ---
        ("get", "/segments/schema") | ("get", "/segments") => Case::new(Roles(EVERY)),
        ("post", "/segments/count") | ("post", "/segments/export") | ("post", "/segments/rows") => {
            Case::new(Roles(EVERY)).body(json!({"expression": r#"city = "上海""#}))
        }
        ("post", "/segments/members") => {
            Case::new(Roles(EVERY)).body(json!({"expression": r#"city = "上海""#}))
        }
        ("post", "/segments") => Case::new(Roles(HQ_WRITE))
            .body(json!({"name": "矩阵人群", "expression": r#"city = "上海""#})),
        ("get", "/segments/{id}")
        | ("get", "/segments/{id}/members")
        | ("get", "/segments/{id}/export") => Case::new(Roles(EVERY)).id(w.segment),
        ("put", "/segments/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.segment)
            .body(json!({"name": "上海客户", "expression": r#"city = "上海""#})),
        ("delete", "/segments/{id}") => Case::new(Roles(HQ_WRITE)).id(w.spare_segment).gone_ok(),
        // --- WeCom (not configured here: the allowed roles get a refusal, never a call out) ---
        // A full sync and its status are HQ operations work (ManageOrg): admin and operator.
        ("post", "/wecom/sync") => Case::new(Roles(HQ_WRITE)),
        ("get", "/wecom/settings") => Case::new(Roles(ADMIN)),
        ("put", "/wecom/settings") => Case::new(Roles(ADMIN)).body(json!({"clear": []})),
        ("post", "/wecom/settings/test") => Case::new(Roles(ADMIN)),
        ("post", "/wecom/check") => Case::new(Roles(ADMIN)),
        ("get", "/wecom/sync/{id}") => Case::new(Roles(HQ_WRITE)).id(nothing).gone_ok(),
        // The callback inbox and WeCom side jobs: seen and replayed by HQ.
        ("get", "/wecom/callbacks") | ("get", "/wecom/jobs/failed") => Case::new(Roles(HQ_WRITE)),
        ("post", "/wecom/callbacks/{id}/replay") | ("post", "/wecom/jobs/{id}/retry") => {
            Case::new(Roles(HQ_WRITE)).id(nothing).gone_ok()
        }
        ("get", "/wecom/groups") | ("get", "/wecom/transfers") => Case::new(Roles(HQ_WRITE)),
        ("get", "/wecom/groups/{id}")
        | ("get", "/wecom/transfers/{id}")
        | ("post", "/wecom/transfers/{id}/refresh") => {
            Case::new(Roles(HQ_WRITE)).id(nothing).gone_ok()
        }
        ("post", "/wecom/transfers") => Case::new(Roles(HQ_WRITE)).body(json!({
            "kind": "resigned", "handover_staff_id": w.guide_b_id,
            "takeover_staff_id": w.guide_a_id, "customer_ids": [w.ca]})),
        // --- promotions (staff) ---
        ("get", "/coupon-templates") => Case::new(Roles(EVERY)),
        ("post", "/coupon-templates") => Case::new(Roles(HQ_WRITE)).body(template_body("矩阵券")),
        ("get", "/coupon-templates/{id}") => Case::new(Roles(EVERY)).id(w.template),
        ("put", "/coupon-templates/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.template)
            .body(template_body("会员日 满50减10")),
        ("delete", "/coupon-templates/{id}") => {
            Case::new(Roles(HQ_WRITE)).id(w.spare_template).gone_ok()
        }
        ("post", "/coupon-templates/{id}/issue") => Case::new(Roles(HQ_WRITE))
            .id(w.template)
            .body(json!({"customer_id": w.ca})),
        ("post", "/coupons/{id}/redeem") => Case::new(Roles(HQ_WRITE))
            .id(w.coupon_a)
            .body(json!({"order_id": w.order_a})),
        ("post", "/coupons/{id}/revoke") => Case::new(Roles(HQ_WRITE)).id(w.coupon_a),
        ("get", "/flash-sales") | ("get", "/group-buys") => Case::new(Roles(EVERY)),
        ("post", "/flash-sales") => Case::new(Roles(HQ_WRITE)).body(flash_body()),
        ("get", "/flash-sales/{id}") => Case::new(Roles(EVERY)).id(w.flash_sale),
        ("put", "/flash-sales/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.flash_sale)
            .body(flash_body()),
        // Removing is tried on an id that does not exist (the real ones are used by other
        // rows); the archive/delete outcomes are covered in promotions.rs.
        ("delete", "/flash-sales/{id}") | ("delete", "/group-buys/{id}") => {
            Case::new(Roles(HQ_WRITE)).id(nothing).gone_ok()
        }
        ("post", "/flash-sale-claims/{id}/paid") => Case::new(Roles(HQ_WRITE))
            .id(w.flash_claim)
            .body(json!({"order_ref": "M-A"})),
        ("post", "/group-buys") => Case::new(Roles(HQ_WRITE)).body(group_buy_body()),
        ("get", "/group-buys/{id}") | ("get", "/group-buys/{id}/teams") => {
            Case::new(Roles(EVERY)).id(w.group_buy)
        }
        ("put", "/group-buys/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.group_buy)
            .body(group_buy_body()),
        // --- acquisition ---
        ("get", "/channels") => Case::new(Roles(EVERY)),
        ("post", "/channels") => {
            Case::new(Roles(HQ_WRITE)).body(json!({"name": "矩阵新渠道", "kind": "ad"}))
        }
        ("get", "/channels/{id}") => Case::new(Roles(EVERY)).scoped(w.channel_a, w.channel_b),
        ("put", "/channels/{id}") => Case::new(Roles(HQ_WRITE))
            .id(w.channel_a)
            .body(json!({"name": "矩阵渠道A", "kind": "store_stand", "store_id": w.store_a})),
        ("post", "/channels/{id}/archive") => Case::new(Roles(HQ_WRITE)).id(w.spare_channel),
        ("get", "/group-codes") => Case::new(Roles(EVERY)),
        ("post", "/group-codes") => Case::new(Roles(HQ_WRITE)).body(json!({
            "name": "矩阵新群码", "auto_create": false, "group_ids": [w.matrix_group]})),
        // qr.png: pending codes (no WeCom) keep no image, 409 qr_not_stored.
        ("get", "/group-codes/{id}")
        | ("get", "/group-codes/{id}/joins")
        | ("get", "/group-codes/{id}/qr.png") => {
            Case::new(Roles(EVERY)).scoped(w.gcode_a, w.gcode_b)
        }
        ("put", "/group-codes/{id}") => Case::new(Roles(HQ_WRITE)).id(w.gcode_a).body(json!({
            "name": "矩阵群码", "store_id": w.store_a, "auto_create": false,
            "group_ids": [w.matrix_group]})),
        ("post", "/group-codes/{id}/archive") => Case::new(Roles(HQ_WRITE)).id(w.spare_gcode),
        ("post", "/group-codes/{id}/sync") => Case::new(Roles(HQ_WRITE)).id(w.gcode_a),
        ("get", "/live-codes") => Case::new(Roles(EVERY)),
        ("post", "/live-codes") => Case::new(Roles(HQ_WRITE)).body(json!({
            "channel_id": w.channel_a, "name": "矩阵新活码",
            "guides": [{"staff_id": w.guide_a_id, "daily_cap": 10}]
        })),
        ("get", "/live-codes/{id}") => Case::new(Roles(EVERY)).scoped(w.code_a, w.code_b),
        ("put", "/live-codes/{id}") => Case::new(Roles(HQ_WRITE)).id(w.code_a).body(json!({
            "channel_id": w.channel_a, "name": "矩阵活码",
            "guides": [{"staff_id": w.guide_a_id, "daily_cap": 20}]
        })),
        ("post", "/live-codes/{id}/archive") => Case::new(Roles(HQ_WRITE)).id(w.spare_code),
        ("post", "/live-codes/{id}/sync") => Case::new(Roles(HQ_WRITE)).id(w.code_a),
        ("get", "/live-codes/{id}/changes") => Case::new(Roles(EVERY)).scoped(w.code_a, w.code_b),
        // Without WeCom here the codes have no image yet: 409 in scope, 404 outside it.
        ("get", "/live-codes/{id}/qr.png") | ("get", "/live-codes/{id}/poster.png") => {
            Case::new(Roles(EVERY)).scoped(w.code_a, w.code_b)
        }
        // Channel statistics: whoever reads channels; store-bound roles only their store's.
        ("get", "/channels/{id}/stats") | ("get", "/channels/{id}/stats/export") => {
            Case::new(Roles(EVERY)).scoped(w.channel_a, w.channel_b)
        }
        // The link quota: whoever reads channels (no WeCom here: the reading says so).
        ("get", "/acquisition/link-quota") => Case::new(Roles(EVERY)),
        ("get", "/acquisition/stats") | ("get", "/acquisition/stats/export") => {
            Case::new(Roles(EVERY))
        }
        // The dashboard: everyone who sees customers, each their own scope (a store manager
        // their store, a guide themselves; asking for another store is tested in dashboard.rs).
        ("get", "/dashboard") | ("get", "/dashboard/export") => Case::new(Roles(EVERY)),
        // The metrics page likewise (another store is tested in metrics.rs).
        ("get", "/metrics") | ("get", "/metrics/export") => Case::new(Roles(EVERY)),
        // Referral programs: like channels; a guide asks for their own link only.
        ("get", "/referral-programs") => Case::new(Roles(EVERY)),
        ("post", "/referral-programs") => Case::new(Roles(HQ_WRITE)).body(json!({
            "name": "矩阵新邀请", "live_code_id": w.code_a, "qualification": {"kind": "added"}
        })),
        ("get", "/referral-programs/{id}")
        | ("get", "/referral-programs/{id}/referrals")
        | ("get", "/referral-programs/{id}/inviters") => {
            Case::new(Roles(EVERY)).scoped(w.referral_a, w.referral_b)
        }
        ("put", "/referral-programs/{id}") => {
            Case::new(Roles(HQ_WRITE)).id(w.referral_a).body(json!({
                "name": "矩阵邀请", "live_code_id": w.code_a,
                "qualification": {"kind": "added", "hold_days": 3}
            }))
        }
        ("post", "/referral-programs/{id}/archive") => {
            Case::new(Roles(HQ_WRITE)).id(w.spare_referral)
        }
        ("post", "/referral-programs/{id}/links") => Case::new(Roles(&[Guide, Operator, Admin]))
            .scoped(w.referral_a, w.referral_b)
            .body(json!({"staff_id": w.guide_a_id})),
        // Membership tiers: everyone who sees customers reads the program and the members in
        // their scope; HQ replaces the program.
        ("get", "/loyalty/tiers") => Case::new(Roles(EVERY)),
        ("put", "/loyalty/tiers") => Case::new(Roles(HQ_WRITE)).body(tier_program()),
        ("get", "/loyalty/tiers/{id}/members") => Case::new(Roles(EVERY)).id(w.tier),
        // Paid member cards: everyone who sees customers reads the cards, their members and
        // the refunds in scope; HQ sets cards up; HQ (the order system's token) reports
        // purchases and refunds, confirms refunds paid and starts a settlement.
        ("get", "/loyalty/cards") => Case::new(Roles(EVERY)),
        ("post", "/loyalty/cards") => Case::new(Roles(HQ_WRITE)).body(card_body("matrix_new")),
        ("get", "/loyalty/cards/{id}") | ("get", "/loyalty/cards/{id}/members") => {
            Case::new(Roles(EVERY)).id(w.card)
        }
        ("put", "/loyalty/cards/{id}") => {
            Case::new(Roles(HQ_WRITE)).id(w.card).body(card_body("matrix_card"))
        }
        ("post", "/loyalty/cards/{id}/archive") => Case::new(Roles(HQ_WRITE)).id(w.spare_card),
        ("post", "/member-cards/purchases") => Case::new(Roles(HQ_WRITE)).body(
            json!({"order_no": "matrix-p", "customer_id": w.ca, "card_key": "matrix_card"}),
        ),
        ("post", "/member-cards/purchases/{order_no}/refund") => Case::new(Roles(HQ_WRITE))
            .id(880_001)
            .body(json!({"reason": "矩阵"})),
        ("get", "/customers/{id}/card") => Case::new(Roles(EVERY)).scoped(w.ca, w.cb),
        ("get", "/member-cards/refunds") => Case::new(Roles(EVERY)),
        ("post", "/member-cards/refunds/{id}/acknowledge") => {
            Case::new(Roles(HQ_WRITE)).id(w.card_refund)
        }
        ("post", "/member-cards/settlement-runs") => Case::new(Roles(HQ_WRITE)),
        // The attribution window: everyone who reads channels reads it, HQ writes it.
        ("get", "/acquisition/settings") => Case::new(Roles(EVERY)),
        ("put", "/acquisition/settings") => {
            Case::new(Roles(HQ_WRITE)).body(json!({"attribution_window_days": 14}))
        }
        // The points ledger: everyone reads a customer's points in scope; HQ writes; the
        // liability report is for the roles that see metrics.
        ("get", "/points/settings") => Case::new(Roles(EVERY)),
        ("put", "/points/settings") => Case::new(Roles(HQ_WRITE)).body(json!({
            "earn_points_per_yuan": 1, "redeem_points_per_yuan": 100,
            "expiry": {"rule": "end_of_next_year"}, "max_redeem_percent": 100})),
        ("get", "/points/liability") => Case::new(Roles(&[Analyst, Operator, Admin])),
        ("post", "/points/expiry-runs") => Case::new(Roles(HQ_WRITE)),
        ("post", "/points/earnings") => Case::new(Roles(HQ_WRITE)).body(json!({"earnings": [
            {"customer_id": w.ca, "points": 5, "source_type": "checkin", "source_id": "matrix-b1"}]})),
        ("post", "/points/redemptions/{id}/cancel") => {
            Case::new(Roles(HQ_WRITE)).id(nothing).gone_ok()
        }
        ("get", "/customers/{id}/points")
        | ("get", "/customers/{id}/points/entries")
        | ("get", "/customers/{id}/points/redemptions") => {
            Case::new(Roles(EVERY)).scoped(w.ca, w.cb)
        }
        // Without an Idempotency-Key the allowed roles get 422 (it is required).
        ("post", "/customers/{id}/points/adjustments") => Case::new(Roles(HQ_WRITE))
            .scoped(w.ca, w.cb)
            .body(json!({"kind": "grant", "points": 10, "reason": "矩阵"})),
        ("post", "/customers/{id}/points/redemptions") => Case::new(Roles(HQ_WRITE))
            .scoped(w.ca, w.cb)
            .body(json!({"points": 1})),
        ("post", "/customers/{id}/points/earnings") => Case::new(Roles(HQ_WRITE))
            .scoped(w.ca, w.cb)
            .body(json!({"points": 5, "source_type": "task", "source_id": "matrix-1"})),
        // Stored value and member gifts: everyone reads a customer's stored value in scope
        // and the rules; HQ writes; the liability report and the grants are for the roles
        // that see metrics.
        ("get", "/customers/{id}/stored-value") | ("get", "/customers/{id}/stored-value/entries") => {
            Case::new(Roles(EVERY)).scoped(w.ca, w.cb)
        }
        ("post", "/customers/{id}/stored-value/top-ups") => Case::new(Roles(HQ_WRITE))
            .scoped(w.ca, w.cb)
            .body(json!({"order_no": "matrix-top-up", "amount_fen": 100})),
        // Without an Idempotency-Key the allowed roles get 422 (it is required).
        ("post", "/customers/{id}/stored-value/spends") => Case::new(Roles(HQ_WRITE))
            .scoped(w.ca, w.cb)
            .body(json!({"amount_fen": 1})),
        ("post", "/stored-value/top-ups/{order_no}/refund") => {
            Case::new(Roles(HQ_WRITE)).id(nothing).gone_ok()
        }
        ("post", "/stored-value/spends/{id}/refund") => Case::new(Roles(HQ_WRITE))
            .id(nothing)
            .gone_ok()
            .body(json!({"refund_no": "matrix-refund"})),
        ("get", "/stored-value/liability") | ("get", "/loyalty/gifts/grants") => {
            Case::new(Roles(&[Analyst, Operator, Admin]))
        }
        ("get", "/stored-value/top-up-gifts") | ("get", "/loyalty/gifts") => Case::new(Roles(EVERY)),
        ("post", "/stored-value/top-up-gifts") => Case::new(Roles(HQ_WRITE))
            .body(json!({"name": "矩阵充值礼", "min_top_up_fen": 10_000, "gift_fen": 1_000})),
        ("put", "/stored-value/top-up-gifts/{id}") => Case::new(Roles(HQ_WRITE))
            .id(nothing)
            .gone_ok()
            .body(json!({"name": "矩阵充值礼", "min_top_up_fen": 10_000, "gift_fen": 1_000})),
        ("delete", "/stored-value/top-up-gifts/{id}") | ("delete", "/loyalty/gifts/{id}") => {
            Case::new(Roles(HQ_WRITE)).id(nothing).gone_ok()
        }
        ("post", "/loyalty/gifts") => Case::new(Roles(HQ_WRITE)).body(
            json!({"name": "矩阵生日礼", "kind": "birthday", "mode": "month", "points": 10}),
        ),
        ("put", "/loyalty/gifts/{id}") => Case::new(Roles(HQ_WRITE)).id(nothing).gone_ok().body(
            json!({"name": "矩阵生日礼", "kind": "birthday", "mode": "month", "points": 10}),
        ),
        ("post", "/loyalty/gifts/runs") => Case::new(Roles(HQ_WRITE)),
        ("get", "/public/me/stored-value")
        | ("get", "/public/me/stored-value/entries")
        | ("get", "/public/me/gifts") => Case::new(Public),
        // The points mall: everyone who sees customers reads the items, HQ writes them; the
        // brand-wide exchange list is for the roles that see metrics, a customer's exchanges
        // for whoever sees the customer; exchanges and their steps are HQ writes.
        ("get", "/mall/items") => Case::new(Roles(EVERY)),
        ("post", "/mall/items") => Case::new(Roles(HQ_WRITE)).body(json!({
            "kind": "gift", "name": "矩阵保温杯", "points_price": 100, "stock": 5})),
        ("get", "/mall/items/{id}") => Case::new(Roles(EVERY)).id(nothing).gone_ok(),
        ("put", "/mall/items/{id}") => Case::new(Roles(HQ_WRITE))
            .id(nothing)
            .gone_ok()
            .body(json!({"kind": "gift", "name": "矩阵保温杯", "points_price": 100, "stock": 5})),
        ("delete", "/mall/items/{id}") => Case::new(Roles(HQ_WRITE)).id(nothing).gone_ok(),
        ("get", "/mall/exchanges") => Case::new(Roles(&[Analyst, Operator, Admin])),
        ("get", "/mall/exchanges/{id}") => Case::new(Roles(EVERY)).id(nothing).gone_ok(),
        ("post", "/mall/exchanges/{id}/payment") => Case::new(Roles(HQ_WRITE))
            .id(nothing)
            .gone_ok()
            .body(json!({"order_ref": "MATRIX-1"})),
        ("post", "/mall/exchanges/{id}/ship") => Case::new(Roles(HQ_WRITE))
            .id(nothing)
            .gone_ok()
            .body(json!({"carrier": "顺丰", "tracking_no": "SF1"})),
        ("post", "/mall/exchanges/{id}/deliver")
        | ("post", "/mall/exchanges/{id}/fulfil")
        | ("post", "/mall/exchanges/{id}/cancel") => {
            Case::new(Roles(HQ_WRITE)).id(nothing).gone_ok()
        }
        ("get", "/customers/{id}/mall/exchanges") => Case::new(Roles(EVERY)).scoped(w.ca, w.cb),
        // Without an Idempotency-Key the allowed roles get 422 (it is required).
        ("post", "/customers/{id}/mall/exchanges") => Case::new(Roles(HQ_WRITE))
            .scoped(w.ca, w.cb)
            .body(json!({"item_id": nothing})),
        // Publishing the matrix's live campaigns (already published) changes nothing.
        ("post", "/coupon-templates/{id}/publish") => Case::new(Roles(HQ_WRITE)).id(w.template),
        ("post", "/flash-sales/{id}/publish") => Case::new(Roles(HQ_WRITE)).id(w.flash_sale),
        ("post", "/group-buys/{id}/publish") => Case::new(Roles(HQ_WRITE)).id(w.group_buy),
        // A campaign's statistics: whoever reads the campaigns reads them.
        ("get", "/promotions/coupons/{id}/stats") => Case::new(Roles(EVERY)).id(w.template),
        ("get", "/promotions/flash-sales/{id}/stats") => Case::new(Roles(EVERY)).id(w.flash_sale),
        ("get", "/promotions/group-buys/{id}/stats") => Case::new(Roles(EVERY)).id(w.group_buy),
        // A product image: the matrix's JSON body is refused (415) to those who may upload.
        ("post", "/media") => Case::new(Roles(HQ_WRITE)),
        ("post", "/customer-tokens") => {
            Case::new(Roles(HQ_WRITE)).body(json!({"customer_id": w.ca}))
        }
        // --- public (customer tokens only) ---
        ("post", "/public/demo-login") => Case::new(Public).body(json!({"customer_id": w.ca})),
        ("get", "/public/coupons")
        | ("get", "/public/coupons/mine")
        | ("get", "/public/flash-sales") => Case::new(Public),
        ("get", "/public/coupons/mine/{id}") => Case::new(Public).id(w.coupon_a),
        ("post", "/public/coupons/{id}/claim") => Case::new(Public).id(w.template),
        ("get", "/public/flash-sales/{id}") | ("post", "/public/flash-sales/{id}/claim") => {
            Case::new(Public).id(w.flash_sale)
        }
        ("get", "/public/group-buys/{id}") | ("post", "/public/group-buys/{id}/open") => {
            Case::new(Public).id(w.group_buy)
        }
        ("get", "/public/group-buy-teams/{id}") => Case::new(Public).id(w.team_a),
        ("get", "/public/me/points") | ("get", "/public/me/points/entries") => Case::new(Public),
        ("get", "/public/me/tier") => Case::new(Public),
        ("get", "/public/me/consultant") | ("get", "/public/me/ratable") => Case::new(Public),
        ("post", "/public/me/consultant") => {
            Case::new(Public).body(json!({"staff_id": w.guide_a_id}))
        }
        ("post", "/public/me/ratings") => Case::new(Public)
            .body(json!({"subject_kind": "order", "subject_id": w.order_a, "score": 5})),
        ("get", "/public/me/card") => Case::new(Public),
        ("post", "/public/me/points/redemptions") => Case::new(Public).body(json!({"points": 1})),
        ("post", "/public/me/points/redemptions/{id}/cancel") => {
            Case::new(Public).id(nothing).gone_ok()
        }
        ("get", "/public/mall/items") | ("get", "/public/me/mall/exchanges") => Case::new(Public),
        ("post", "/public/me/mall/exchanges") => {
            Case::new(Public).body(json!({"item_id": nothing}))
        }
        ("post", "/public/me/mall/exchanges/{id}/cancel") => {
            Case::new(Public).id(nothing).gone_ok()
        }
        ("post", "/public/referral-programs/{id}/link") => Case::new(Public).id(w.referral_a),
        // A code of digits is no link's code (they have letters): 401 without a customer
        // token, 404 for the open invite.
        ("post", "/public/invites/{code}/accept") => Case::new(Public).id(1),
        ("get", "/public/invites/{code}") => Case::new(Open).id(1),
        ("post", "/public/group-buy-teams/{id}/join") => Case::new(Public)
            .id(w.team_b)
            .body(json!({"inviter_id": w.cb})),
        _ => return None,
    };
    Some(c)
}

/// Replace every `{…}` segment of a path template with `id`.
fn fill(template: &str, id: Option<i64>) -> String {
    template
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                id.map(|i| i.to_string())
                    .unwrap_or_else(|| panic!("{template}: the table gives no id"))
            } else {
                seg.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Customer ids a JSON answer names: values of keys that name customers, and the `id`s of the
/// items of a customer list. `customer_list` says whether `items[].id` / `[].id` are customers.
fn customer_ids_in(v: &Value, customer_list: bool, out: &mut BTreeSet<i64>) {
    const KEYS: [&str; 6] = [
        "customer_id",
        "leader_id",
        "inviter_id",
        "customer_ids",
        "survivor",
        "loser",
    ];
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if KEYS.contains(&k.as_str()) {
                    match x {
                        Value::Number(n) => {
                            out.extend(n.as_i64());
                        }
                        Value::Array(a) => out.extend(a.iter().filter_map(Value::as_i64)),
                        _ => {}
                    }
                }
                if customer_list
                    && k == "items"
                    && let Value::Array(a) = x
                {
                    out.extend(a.iter().filter_map(|i| i["id"].as_i64()));
                }
                customer_ids_in(x, customer_list && k != "items", out);
            }
        }
        Value::Array(a) => {
            for x in a {
                customer_ids_in(x, false, out);
            }
        }
        _ => {}
    }
}

/// Customer ids in a CSV export's first column.
fn customer_ids_in_csv(text: &str, out: &mut BTreeSet<i64>) {
    for line in text.lines().skip(1) {
        if let Some(first) = line.split(',').next() {
            out.extend(first.trim_matches('"').parse::<i64>().ok());
        }
    }
}

async fn role_endpoint_matrix(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    let doc = json_of(
        t.req(Method::GET, "/api/v1/openapi.json", None)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let mut ops: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                ops.push((method.to_owned(), path.clone()));
            }
        }
    }
    assert!(ops.len() > 80, "only {} operations documented", ops.len());
    let unlisted: Vec<String> = ops
        .iter()
        .filter(|(m, p)| case(&w, m, p).is_none())
        .map(|(m, p)| format!("{} {p}", m.to_uppercase()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "operations missing from the scope matrix's expectation table (say who may call them \
         in scope_matrix.rs `case`): {unlisted:#?}"
    );
    // Deletes after everything else (they remove spare rows), signing out last of all.
    ops.sort_by_key(|(m, p)| match (m.as_str(), p.as_str()) {
        ("post", "/api/v1/auth/logout") => 2,
        ("delete", _) => 1,
        _ => 0,
    });
    // In scope for store A's staff: only the customer guide A follows (the new customers the
    // matrix creates follow nobody).
    let in_scope: HashSet<i64> = [w.ca].into();
    let mut failures: Vec<String> = Vec::new();
    // Positive controls: the leak detector did see store A's own customer in some answers.
    let (mut calls_made, mut own_seen) = (0, 0);
    for (method, path) in &ops {
        let c = case(&w, method, path).unwrap();
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut calls: Vec<(Role, Option<i64>, bool)> = Vec::new();
        for role in ROLES {
            if role.scoped()
                && let Some(out) = c.out_id
            {
                calls.push((role, Some(out), true));
            }
            calls.push((role, c.id, false));
        }
        for (role, id, outside) in calls {
            let url = if path.contains('{') {
                fill(path, id)
            } else {
                path.clone()
            };
            let mut req = t.req(m.clone(), &url, w.token(role));
            if let Some(b) = &c.body {
                req = req.json(b);
            } else if m == Method::POST || m == Method::PUT || m == Method::PATCH {
                req = req.json(&json!({}));
            }
            let r = req.send().await.unwrap();
            calls_made += 1;
            let status = r.status();
            let csv = r
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/csv"));
            let text = r.text().await.unwrap_or_default();
            let what = format!(
                "{} {url} as {role:?}{} → {status}: {}",
                method.to_uppercase(),
                if outside { " (out-of-scope id)" } else { "" },
                text.chars().take(160).collect::<String>()
            );
            let denied = matches!(
                status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
            );
            if status.is_server_error() {
                failures.push(format!("server error: {what}"));
                continue;
            }
            let ok = match (c.who, role) {
                (Who::Public, _) => {
                    status == StatusCode::UNAUTHORIZED || status == StatusCode::NOT_FOUND
                }
                (Who::Open, _) => {
                    !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                }
                (_, Anon | Forged) => status == StatusCode::UNAUTHORIZED,
                (Who::Own, _) => true,
                (Who::Roles(_), _) if outside => {
                    status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND
                }
                (Who::Roles(allowed), _) if allowed.contains(&role) => {
                    !matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                        && (status != StatusCode::NOT_FOUND || c.gone_ok)
                }
                (Who::Roles(_), _) => denied && status != StatusCode::UNAUTHORIZED,
            };
            if !ok {
                failures.push(format!("unexpected answer: {what}"));
                continue;
            }
            // What a store-bound role gets back names no customer outside its scope.
            if role.scoped() && status.is_success() {
                let mut seen = BTreeSet::new();
                if csv {
                    customer_ids_in_csv(&text, &mut seen);
                } else if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    let customer_list = path.ends_with("/customers")
                        || path.ends_with("/members")
                        || path.ends_with("/customers/{id}");
                    customer_ids_in(&v, customer_list, &mut seen);
                    if customer_list && let Value::Array(a) = &v {
                        seen.extend(a.iter().filter_map(|i| i["id"].as_i64()));
                    }
                }
                if seen.contains(&w.ca) || text.contains("本店顾客甲") {
                    own_seen += 1;
                }
                let leaked: Vec<i64> = seen.into_iter().filter(|i| !in_scope.contains(i)).collect();
                if !leaked.is_empty() {
                    failures.push(format!("out-of-scope customers {leaked:?} in: {what}"));
                }
                if text.contains("外店顾客") {
                    failures.push(format!("an out-of-scope customer's name in: {what}"));
                }
            }
        }
    }
    assert!(calls_made > 600, "only {calls_made} calls");
    assert!(
        own_seen >= 10,
        "store A's staff saw their own customer in only {own_seen} answers: is the world right?"
    );
    assert!(
        failures.is_empty(),
        "{} scope/role failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// --- the fixed leaks, one by one ---

/// Item 5: another store's customer's coupons are "not found", like every `/customers/{id}/…`.
async fn customer_coupons_are_scoped(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    for tok in [&w.manager_a, &w.guide_a] {
        let r = t
            .get(&format!("/api/v1/customers/{}/coupons", w.cb), tok)
            .await;
        assert_eq!(error_of(r).await.0, StatusCode::NOT_FOUND);
        let v = json_of(
            t.get(&format!("/api/v1/customers/{}/coupons", w.ca), tok)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
        assert_eq!(v[0]["customer_id"], w.ca);
    }
    let v = json_of(
        t.get(&format!("/api/v1/customers/{}/coupons", w.cb), &w.analyst)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v[0]["customer_id"], w.cb);
}

/// Item 6: saved segments are written by admins and operators only; a store manager can
/// neither change nor delete HQ's segment (nor save one), and the segment is unchanged.
async fn only_hq_writes_saved_segments(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    let path = format!("/api/v1/segments/{}", w.segment);
    for tok in [&w.manager_a, &w.guide_a, &w.analyst] {
        let r = t
            .send_json(
                Method::PUT,
                &path,
                tok,
                json!({"name": "被改了", "expression": "in_group"}),
            )
            .await;
        assert_eq!(error_of(r).await.0, StatusCode::FORBIDDEN);
        let r = t
            .req(Method::DELETE, &path, Some(tok))
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(r).await.0, StatusCode::FORBIDDEN);
        let r = t
            .post(
                "/api/v1/segments",
                tok,
                json!({"name": "门店人群", "expression": "in_group"}),
            )
            .await;
        assert_eq!(error_of(r).await.0, StatusCode::FORBIDDEN);
    }
    let v = json_of(t.get(&path, &w.manager_a).await, StatusCode::OK).await;
    assert_eq!(v["name"], "上海客户", "{v}");
    let r = t
        .send_json(
            Method::PUT,
            &path,
            &w.operator,
            json!({"name": "上海客户2", "expression": "in_group"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    let r = t
        .req(Method::DELETE, &path, Some(&w.operator))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

async fn job_count(t: &TestApp) -> i64 {
    const SQL: &str = "SELECT COUNT(*) FROM jobs";
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_scalar(SQL).fetch_one(p).await.unwrap(),
        yutang_store::Db::Postgres(p) => sqlx::query_scalar(SQL).fetch_one(p).await.unwrap(),
    }
}

/// Item 7: the read-only analyst tags nobody: 403 before anything is written or queued.
async fn analyst_cannot_tag(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    let before_tags = json_of(
        t.get(&format!("/api/v1/customers/{}/tags", w.ca), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    let jobs = job_count(t).await;
    let r = t
        .post(
            &format!("/api/v1/customers/{}/tags", w.ca),
            &w.analyst,
            json!({"add": [w.spare_tag]}),
        )
        .await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::FORBIDDEN, "forbidden".into(), None)
    );
    for audience in [
        json!({"customer_ids": [w.ca, w.cb]}),
        json!({"segment_id": w.segment}),
        json!({"expression": r#"city = "上海""#}),
    ] {
        let mut body = audience;
        body["add"] = json!([w.spare_tag]);
        let r = t.post("/api/v1/tags/bulk", &w.analyst, body).await;
        assert_eq!(error_of(r).await.0, StatusCode::FORBIDDEN);
    }
    assert_eq!(job_count(t).await, jobs, "no job may be queued");
    t.settle_jobs().await;
    let after_tags = json_of(
        t.get(&format!("/api/v1/customers/{}/tags", w.ca), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(before_tags, after_tags);
    // Store staff still tag the customers they see.
    let r = t
        .post(
            &format!("/api/v1/customers/{}/tags", w.ca),
            &w.guide_a,
            json!({"add": [w.spare_tag]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let r = t
        .post(
            "/api/v1/tags/bulk",
            &w.manager_a,
            json!({"remove": [w.spare_tag], "customer_ids": [w.ca]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
}

/// Item 8: a group-buy's teams list every team, but names the leader only to callers who may
/// see that customer.
async fn group_buy_teams_hide_other_stores_leaders(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    let path = format!("/api/v1/group-buys/{}/teams", w.group_buy);
    let leaders = |v: &Value| -> Vec<(i64, Value)> {
        let mut l: Vec<(i64, Value)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["id"].as_i64().unwrap(), x["leader_id"].clone()))
            .collect();
        l.sort_by_key(|x| x.0);
        l
    };
    for tok in [&w.t.admin, &w.operator, &w.analyst] {
        let v = json_of(t.get(&path, tok).await, StatusCode::OK).await;
        assert_eq!(
            leaders(&v),
            vec![(w.team_a, json!(w.ca)), (w.team_b, json!(w.cb))]
        );
    }
    for tok in [&w.manager_a, &w.guide_a] {
        let v = json_of(t.get(&path, tok).await, StatusCode::OK).await;
        assert_eq!(
            leaders(&v),
            vec![(w.team_a, json!(w.ca)), (w.team_b, Value::Null)],
            "{v}"
        );
        assert_eq!(v.as_array().unwrap().len(), 2);
    }
}

/// Item 9: a rule's tags and group keep their names (the rule re-creates a tag by name, so a
/// rename would leave a stray tag behind); colour and order may change; deleting is refused.
async fn rule_tags_cannot_be_renamed(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    let cat = json_of(t.get("/api/v1/tag-groups", &t.admin).await, StatusCode::OK).await;
    let g = cat
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["rule_id"] == json!(w.rule))
        .unwrap_or_else(|| panic!("{cat}"))
        .clone();
    let gid = g["id"].as_i64().unwrap();
    let group_name = g["name"].as_str().unwrap().to_owned();
    let tag = &g["tags"][0];
    let tid = tag["id"].as_i64().unwrap();
    let tag_name = tag["name"].as_str().unwrap().to_owned();
    let put = |path: String, body: Value| async move {
        t.send_json(Method::PUT, &path, &t.admin, body).await
    };
    let r = put(
        format!("/api/v1/tags/{tid}"),
        json!({"name": "改名", "color": "#123456"}),
    )
    .await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, "group_owned_by_rule".into(), None)
    );
    let r = put(
        format!("/api/v1/tag-groups/{gid}"),
        json!({"name": "改名组"}),
    )
    .await;
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, "group_owned_by_rule".into(), None)
    );
    let r = put(
        format!("/api/v1/tag-groups/{gid}"),
        json!({"name": group_name, "multi": true}),
    )
    .await;
    assert_eq!(error_of(r).await.1, "group_owned_by_rule");
    for path in [
        format!("/api/v1/tags/{tid}"),
        format!("/api/v1/tag-groups/{gid}"),
    ] {
        let r = t
            .req(Method::DELETE, &path, Some(&t.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(r).await.1, "group_owned_by_rule");
    }
    // Cosmetic changes are fine.
    let r = put(
        format!("/api/v1/tags/{tid}"),
        json!({"name": tag_name, "color": "#123456", "sort": 3}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    let r = put(
        format!("/api/v1/tag-groups/{gid}"),
        json!({"name": group_name, "multi": false, "sort": 5}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    // The rule runs on and keeps one tag, under its name.
    let r = t
        .post(
            &format!("/api/v1/tag-rules/{}/run", w.rule),
            &t.admin,
            json!({}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    t.settle_jobs().await;
    let cat = json_of(t.get("/api/v1/tag-groups", &t.admin).await, StatusCode::OK).await;
    let g = cat
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == json!(gid))
        .unwrap()
        .clone();
    assert_eq!(g["name"], json!(group_name));
    let tags = g["tags"].as_array().unwrap();
    assert_eq!(tags.len(), 1, "{g}");
    assert_eq!(tags[0]["name"], json!(tag_name));
    assert_eq!(tags[0]["color"], "#123456");
}
