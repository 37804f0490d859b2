//! Acquisition (issue #19) through the HTTP API and the fake WeCom: channels, live codes
//! rotated over contact ways, attribution, welcomes, channel tags, once-ever rewards.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_wecom::fake::{CallbackTarget, FakeEvent, FakeWecom};

use crate::helpers::{Engine, TestApp, error_of};
use crate::promotions::{created_id, template};
use crate::wecom::drain;
use crate::wecom_sync::{customer, guide, with_fake};

both_engines!(
    live_code_rotates_attributes_welcomes_and_rewards_once,
    acquisition_links_attribute_like_codes,
    fifty_adds_in_one_second_each_delivered_three_times,
    welcomes_left_by_a_crash_are_sent_once_or_closed,
    welcomes_past_the_window_or_already_sent_are_not_retried,
    bad_channels_and_codes_are_refused_naming_the_field,
    link_quota_is_read_from_wecom_and_kept,
);

const WELCOME_PATH: &str = "/cgi-bin/externalcontact/send_welcome_msg";

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

pub(crate) async fn tag(t: &TestApp) -> i64 {
    let group = json_of(
        t.post(
            "/api/v1/tag-groups",
            &t.admin,
            json!({"name": "来源", "multi": true}),
        )
        .await,
    )
    .await;
    created_id(
        t.post(
            "/api/v1/tags",
            &t.admin,
            json!({"group_id": group["id"], "name": "门店台卡", "color": "#FF0000"}),
        )
        .await,
    )
    .await
}

/// An add through `state` to `userid`, pushed and applied: the new customer's external id,
/// and the callback as delivered (to deliver it again as WeCom's retry would: same payload,
/// same CreateTime).
pub(crate) async fn add(
    t: &TestApp,
    fake: &FakeWecom,
    target: &CallbackTarget,
    userid: &str,
    name: &str,
    state: Option<&str>,
) -> (String, String) {
    let ev = fake.simulate_add_customer(userid, name, state);
    let FakeEvent::AddExternalContact {
        external_userid, ..
    } = &ev
    else {
        panic!("unexpected {ev:?}")
    };
    let xml = ev.to_xml(fake.corp_id(), chrono::Utc::now().timestamp());
    deliver(t, target, &xml).await;
    (external_userid.clone(), xml)
}

/// Deliver a callback's XML (signed and encrypted) and apply the inbox.
pub(crate) async fn deliver(t: &TestApp, target: &CallbackTarget, xml: &str) {
    let http = reqwest::Client::new();
    let ts = chrono::Utc::now().timestamp();
    let out = yutang_wecom::fake::push::push_xml(&http, target, xml, ts)
        .await
        .unwrap();
    assert_eq!(out.status, 200, "{out:?}");
    drain(t).await;
}

/// A channel (`channel` is its JSON) with one live code of `guide` (cap 100) under `state`:
/// the channel's id.
pub(crate) async fn channel_with_code(t: &TestApp, channel: Value, state: &str, guide: i64) -> i64 {
    let id = created_id(t.post("/api/v1/channels", &t.admin, channel).await).await;
    let r = t
        .post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": id, "name": "活码", "state": state,
                "guides": [{"staff_id": guide, "daily_cap": 100}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    id
}

fn way_users(fake: &FakeWecom, config_id: &str) -> Vec<String> {
    fake.with_corp(|c| c.contact_ways[config_id].users.clone())
}

pub(crate) async fn scalar(t: &TestApp, sql: &str) -> i64 {
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(p)
            .await
            .unwrap(),
        yutang_store::Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

async fn live_code_rotates_attributes_welcomes_and_rewards_once(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("ACQ-1").await;
    let g1 = guide(&t, store, "zhangwei").await;
    let g2 = guide(&t, store, "wangfang").await;
    let g3 = guide(&t, store, "lina").await;
    let tag = tag(&t).await;
    let reward = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 1))
            .await,
    )
    .await;
    let r = t
        .post(
            "/api/v1/channels",
            &t.admin,
            json!({
                "name": "门店台卡 上海一店", "kind": "store_stand", "store_id": store,
                "tag_ids": [tag], "reward_template_id": reward,
                "welcome": {"text": "{customer_name} 你好，我是{guide_name}",
                    "attachments": [{"type": "link", "title": "新人礼", "url": "https://h5.example/gift"}]}
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let channel = json_of(r).await["id"].as_i64().unwrap();

    let r = t
        .post(
            "/api/v1/live-codes",
            &t.admin,
            json!({
                "channel_id": channel, "name": "收银台", "state": "sh01-stand",
                "guides": [{"staff_id": g1, "daily_cap": 2}, {"staff_id": g2, "daily_cap": 1}],
                "backup_staff_id": g3
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let code = json_of(r).await;
    assert_eq!(code["sync_status"], "synced", "{code}");
    assert_eq!(code["current_staff_ids"], json!([g1, g2]));
    let config_id = code["config_id"].as_str().unwrap().to_owned();
    let code_id = code["id"].as_i64().unwrap();
    assert_eq!(way_users(&fake, &config_id), ["zhangwei", "wangfang"]);
    assert_eq!(
        fake.with_corp(|c| c.contact_ways[&config_id].state.clone()),
        "sh01-stand"
    );

    // Two adds reach zhangwei's cap: the code is re-pointed at the add that reaches it.
    let (x1, first_event) = add(&t, &fake, &target, "zhangwei", "小林", Some("sh01-stand")).await;
    assert_eq!(way_users(&fake, &config_id), ["zhangwei", "wangfang"]);
    let (x2, _) = add(&t, &fake, &target, "zhangwei", "小周", Some("sh01-stand")).await;
    assert_eq!(way_users(&fake, &config_id), ["wangfang"]);
    // wangfang's one add sends the code to the backup guide.
    let (x3, _) = add(&t, &fake, &target, "wangfang", "小吴", Some("sh01-stand")).await;
    assert_eq!(way_users(&fake, &config_id), ["lina"]);
    let changes = json_of(
        t.get(&format!("/api/v1/live-codes/{code_id}/changes"), &t.admin)
            .await,
    )
    .await;
    let latest = &changes[0];
    assert_eq!(latest["staff_ids"], json!([g3]));
    assert_eq!(latest["on_backup"], true);
    assert!(
        latest["off"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["reason"] == "cap_reached" && o["staff_id"] == g1 && o["cap"] == 2),
        "{changes}"
    );

    // Each add got its welcome, with the names filled in.
    assert_eq!(fake.calls(WELCOME_PATH), 3);
    let welcomes = yutang_store::acquisition::welcomes_of_channel(&t.app.db, channel, 10)
        .await
        .unwrap();
    assert_eq!(welcomes.len(), 3);
    assert!(welcomes.iter().all(|w| w.status == "sent"), "{welcomes:?}");
    assert!(
        welcomes
            .iter()
            .any(|w| w.text == "小林 你好，我是g.zhangwei"),
        "{welcomes:?}"
    );

    // WeCom delivers the first add again: nothing changes (no add, no welcome, no count).
    deliver(&t, &target, &first_event).await;
    assert_eq!(fake.calls(WELCOME_PATH), 3);
    let c1 = customer(&t, &x1).await.unwrap();
    assert_eq!(
        scalar(
            &t,
            &format!("SELECT COUNT(*) FROM channel_adds WHERE customer_id = {c1}")
        )
        .await,
        1
    );

    // The first customer adds a second guide through the code: an add, no second reward.
    let again = FakeEvent::AddExternalContact {
        userid: "lina".into(),
        external_userid: x1.clone(),
        state: Some("sh01-stand".into()),
        welcome_code: None,
    };
    assert_eq!(fake.push(&target, &again).await.unwrap().status, 200);
    drain(&t).await;
    t.settle_jobs().await;
    let ch = json_of(
        t.get(&format!("/api/v1/channels/{channel}"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(ch["totals"]["adds"], 4, "{ch}");
    assert_eq!(ch["totals"]["new_customers"], 3);
    assert_eq!(ch["totals"]["welcomes_sent"], 3);
    assert_eq!(ch["totals"]["rewards_issued"], 3);
    for x in [&x1, &x2, &x3] {
        let c = customer(&t, x).await.unwrap();
        assert_eq!(
            scalar(
                &t,
                &format!(
                    "SELECT COUNT(*) FROM coupon_claims WHERE customer_id = {c} \
                     AND template_id = {reward}"
                )
            )
            .await,
            1,
            "one reward for {x}"
        );
        assert_eq!(
            scalar(
                &t,
                &format!(
                    "SELECT COUNT(*) FROM customer_tags WHERE customer_id = {c} AND tag_id = {tag}"
                )
            )
            .await,
            1
        );
    }

    // An unknown state still creates the customer, attributed to no channel.
    let (x4, _) = add(&t, &fake, &target, "zhaolei", "小郑", Some("no-such-code")).await;
    let c4 = customer(&t, &x4).await.unwrap();
    assert_eq!(
        scalar(
            &t,
            &format!(
                "SELECT COUNT(*) FROM customer_acquisition WHERE customer_id = {c4} \
                 AND channel_id IS NULL AND state = 'no-such-code'"
            )
        )
        .await,
        1
    );

    // An order within 7 days of the add is credited to the channel (last touch).
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": "ACQ-O-1", "customer_id": c1, "channel": "store",
                "paid_at": chrono::Utc::now().to_rfc3339(),
                "lines": [{"sku": "A", "name": "苹果", "quantity": 1, "unit_price_fen": 1290}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        scalar(
            &t,
            &format!(
                "SELECT COUNT(*) FROM orders WHERE external_id = 'ACQ-O-1' \
                 AND touch_channel_id = {channel}"
            )
        )
        .await,
        1
    );

    // Archiving the channel archives the code and deletes its contact way.
    let r = t
        .post(
            &format!("/api/v1/channels/{channel}/archive"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(fake.with_corp(|c| !c.contact_ways.contains_key(&config_id)));
    let code = json_of(
        t.get(&format!("/api/v1/live-codes/{code_id}"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(code["archived"], true);
}

async fn welcomes_past_the_window_or_already_sent_are_not_retried(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("ACQ-2").await;
    let g1 = guide(&t, store, "zhangwei").await;
    let channel = channel_with_code(
        &t,
        json!({"name": "包裹卡", "kind": "package_card", "welcome": {"text": "欢迎"}}),
        "pkg",
        g1,
    )
    .await;

    // An add whose event is a minute old (a node that was down): closed as expired, no call.
    let ev = fake.simulate_add_customer("zhangwei", "旧事件", Some("pkg"));
    let old = chrono::Utc::now().timestamp() - 60;
    let xml = ev.to_xml(fake.corp_id(), old);
    let http = reqwest::Client::new();
    let out = yutang_wecom::fake::push::push_xml(&http, &target, &xml, old)
        .await
        .unwrap();
    assert_eq!(out.status, 200);
    drain(&t).await;
    t.app.acquisition().sweep_welcomes().await.unwrap();
    assert_eq!(fake.calls(WELCOME_PATH), 0);

    // WeCom answers 41051 (another app greeted the customer): recorded, never retried.
    fake.fail_next(WELCOME_PATH, 41051, 1);
    add(&t, &fake, &target, "zhangwei", "新客", Some("pkg")).await;
    t.app.acquisition().sweep_welcomes().await.unwrap();
    t.app.acquisition().sweep_welcomes().await.unwrap();
    assert_eq!(fake.calls(WELCOME_PATH), 1);
    let mut statuses: Vec<String> =
        yutang_store::acquisition::welcomes_of_channel(&t.app.db, channel, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|w| w.status)
            .collect();
    statuses.sort();
    assert_eq!(statuses, ["already_sent", "expired"]);
}

async fn bad_channels_and_codes_are_refused_naming_the_field(e: Engine) {
    let (t, _fake, _target) = with_fake(e).await;
    let store = t.store("ACQ-3").await;
    let g1 = guide(&t, store, "zhangwei").await;
    let unlinked = t.staff("no.wecom", "guide", Some(store)).await;
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "直播间", "kind": "live_stream"}),
        )
        .await,
    )
    .await;
    let code = |extra: Value| {
        let mut body = json!({"channel_id": channel, "name": "码",
            "guides": [{"staff_id": g1, "daily_cap": 200}]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, field) in [
        (code(json!({"state": "x".repeat(31)})), "state"),
        (code(json!({"guides": []})), "guides"),
        (
            code(json!({"guides": [{"staff_id": g1, "daily_cap": 0}]})),
            "guides.daily_cap",
        ),
        (
            code(json!({"guides": [{"staff_id": unlinked, "daily_cap": 5}]})),
            "guides",
        ),
    ] {
        let (s, _, f) = error_of(t.post("/api/v1/live-codes", &t.admin, body.clone()).await).await;
        assert_eq!(
            (s, f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
    let link = json!({"type": "link", "title": "t", "url": "https://a.example/"});
    let tpl = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(10, 1))
            .await,
    )
    .await;
    t.exec("UPDATE coupon_templates SET status = 'archived'")
        .await;
    for (body, field) in [
        (
            json!({"name": "x", "kind": "ad", "welcome": {"attachments": vec![link; 10]}}),
            "welcome.attachments",
        ),
        (
            json!({"name": "x", "kind": "ad", "welcome": {"attachments": [{"type": "image"}]}}),
            "welcome.attachments",
        ),
        (
            json!({"name": "x", "kind": "ad", "reward_template_id": tpl}),
            "reward_template_id",
        ),
        (json!({"name": "x", "kind": "tv"}), "kind"),
        (json!({"name": "a\u{7}b", "kind": "ad"}), "name"),
    ] {
        let (s, _, f) = error_of(t.post("/api/v1/channels", &t.admin, body.clone()).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        if field != "kind" {
            assert_eq!(f.as_deref(), Some(field), "{body}");
        }
    }
    // Unknown fields are refused; a guide may not define channels.
    let (s, _, _) = error_of(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "x", "kind": "ad", "colour": "red"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let guide_token = t.login("g.zhangwei").await;
    let r = t
        .post(
            "/api/v1/channels",
            &guide_token,
            json!({"name": "x", "kind": "ad"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let listed = json_of(t.get("/api/v1/channels", &guide_token).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

/// An acquisition link (获客链接) is a code of kind `link`: WeCom's link is created with the
/// guides as its range, the URL handed out carries the state as `customer_channel`, an add
/// through it is attributed like a scan, and the range is re-pointed at the cap.
async fn acquisition_links_attribute_like_codes(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("ACQ-4").await;
    let g1 = guide(&t, store, "zhangwei").await;
    let g2 = guide(&t, store, "wangfang").await;
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "短信召回", "kind": "ad"}),
        )
        .await,
    )
    .await;
    let r = t
        .post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": channel, "name": "短信链接", "kind": "link", "state": "sms-1204",
                "guides": [{"staff_id": g1, "daily_cap": 1}, {"staff_id": g2, "daily_cap": 50}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let code = json_of(r).await;
    assert_eq!(code["sync_status"], "synced", "{code}");
    assert_eq!(code["kind"], "link");
    let link_id = code["config_id"].as_str().unwrap().to_owned();
    assert!(
        code["qr_url"]
            .as_str()
            .unwrap()
            .contains("customer_channel=sms-1204"),
        "{code}"
    );
    let link = fake
        .acquisition_link(&link_id)
        .expect("the link exists in WeCom");
    assert_eq!(link.users, ["zhangwei", "wangfang"]);

    let ev = fake
        .simulate_open_acquisition_link(&link_id, Some("sms-1204"), "短信客户")
        .unwrap();
    let FakeEvent::AddExternalContact {
        external_userid,
        userid,
        ..
    } = &ev
    else {
        panic!("unexpected {ev:?}")
    };
    assert_eq!(userid, "zhangwei");
    assert_eq!(fake.push(&target, &ev).await.unwrap().status, 200);
    drain(&t).await;
    let c = customer(&t, external_userid).await.unwrap();
    assert_eq!(
        scalar(
            &t,
            &format!(
                "SELECT COUNT(*) FROM customer_acquisition WHERE customer_id = {c} \
                 AND channel_id = {channel}"
            )
        )
        .await,
        1
    );
    // zhangwei reached the cap of 1: the link's range is re-pointed at wangfang.
    let link = fake.acquisition_link(&link_id).unwrap();
    assert_eq!(link.users, ["wangfang"]);
    // Archiving the code deletes the link.
    let id = code["id"].as_i64().unwrap();
    let r = t
        .post(
            &format!("/api/v1/live-codes/{id}/archive"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(fake.acquisition_link(&link_id).is_none());
}

/// Issue #19's reliability case: 50 customers add one guide through one code in the same
/// second and WeCom delivers every callback 3 times, all at once: exactly 50 customers, 50
/// adds, 50 welcomes sent inside the window, 50 rewards, nothing twice.
async fn fifty_adds_in_one_second_each_delivered_three_times(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("ACQ-5").await;
    let g1 = guide(&t, store, "zhangwei").await;
    let reward = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(1000, 1))
            .await,
    )
    .await;
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "开业活动", "kind": "event", "reward_template_id": reward,
                "welcome": {"text": "{customer_name} 欢迎光临"}}),
        )
        .await,
    )
    .await;
    let r = t
        .post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": channel, "name": "开业码", "state": "open-day",
                "guides": [{"staff_id": g1, "daily_cap": 1000}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second = chrono::Utc::now().timestamp();
    let xmls: Vec<String> = (0..50)
        .map(|i| {
            fake.simulate_add_customer("zhangwei", &format!("开业客{i}"), Some("open-day"))
                .to_xml(fake.corp_id(), second)
        })
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for xml in &xmls {
        for _ in 0..3 {
            let (xml, target) = (xml.clone(), target.clone());
            set.spawn(async move {
                let http = reqwest::Client::new();
                yutang_wecom::fake::push::push_xml(&http, &target, &xml, second)
                    .await
                    .unwrap()
            });
        }
    }
    while let Some(out) = set.join_next().await {
        assert_eq!(out.unwrap().status, 200);
    }
    drain(&t).await;
    t.app.acquisition().sweep_welcomes().await.unwrap();
    t.settle_jobs().await;
    let ch = json_of(
        t.get(&format!("/api/v1/channels/{channel}"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(ch["totals"]["adds"], 50, "{ch}");
    assert_eq!(ch["totals"]["new_customers"], 50);
    assert_eq!(ch["totals"]["welcomes_sent"], 50);
    assert_eq!(ch["totals"]["rewards_issued"], 50);
    assert_eq!(fake.calls(WELCOME_PATH), 50);
    assert_eq!(
        scalar(
            &t,
            &format!("SELECT COUNT(*) FROM coupon_claims WHERE template_id = {reward}")
        )
        .await,
        50
    );
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM welcome_sends WHERE finished_at > deadline"
        )
        .await,
        0
    );
}

/// Run one SQL statement (fixtures that stand for a crash).
pub(crate) async fn run_sql(t: &TestApp, sql: &str) {
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

/// The newest welcome: its id and status.
async fn last_welcome(t: &TestApp, channel: i64) -> (i64, String) {
    let w = yutang_store::acquisition::welcomes_of_channel(&t.app.db, channel, 1)
        .await
        .unwrap();
    (w[0].id, w[0].status.clone())
}

/// Sweep until the newest welcome leaves `pending`/`sending` (the server's own per-second
/// sweep runs too; either may take it): its final status.
async fn settled_welcome(t: &TestApp, channel: i64) -> String {
    for _ in 0..100 {
        t.app.acquisition().sweep_welcomes().await.unwrap();
        let (_, status) = last_welcome(t, channel).await;
        if status != "pending" && status != "sending" {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "the welcome never settled: {:?}",
        last_welcome(t, channel).await
    );
}

/// The reliability case "kill -9 between the add and the welcome", as the state a crash
/// leaves: the add committed with its welcome row, the send did not happen (or happened and
/// was not recorded). After a restart the per-second sweep sends it while WeCom's window is
/// open, closes it as expired once the window has passed, and never sends it twice.
async fn welcomes_left_by_a_crash_are_sent_once_or_closed(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("ACQ-6").await;
    let g1 = guide(&t, store, "zhangwei").await;
    let channel = channel_with_code(
        &t,
        json!({"name": "断电演练", "kind": "event", "welcome": {"text": "欢迎 {customer_name}"}}),
        "crash-drill",
        g1,
    )
    .await;

    // The send never reached WeCom (the node died, or WeCom was away): sent once it can be.
    fake.set_unreachable(true);
    add(
        &t,
        &fake,
        &target,
        "zhangwei",
        "断电客",
        Some("crash-drill"),
    )
    .await;
    fake.set_unreachable(false);
    assert_eq!(settled_welcome(&t, channel).await, "sent");
    let sent = fake.calls(WELCOME_PATH);

    // The sender died after WeCom took the welcome but before recording it: its stale claim
    // is taken over, WeCom answers 41051, and the customer got exactly one welcome.
    add(
        &t,
        &fake,
        &target,
        "zhangwei",
        "中断客",
        Some("crash-drill"),
    )
    .await;
    assert_eq!(settled_welcome(&t, channel).await, "sent");
    let (id, _) = last_welcome(&t, channel).await;
    run_sql(
        &t,
        &format!(
            "UPDATE welcome_sends SET status = 'sending', finished_at = {} WHERE id = {id}",
            chrono::Utc::now().timestamp_millis() - 60_000
        ),
    )
    .await;
    assert_eq!(settled_welcome(&t, channel).await, "already_sent");
    assert_eq!(fake.calls(WELCOME_PATH), sent + 2, "one send, one 41051");

    // Down until the window closed: closed as expired, without a call.
    fake.set_unreachable(true);
    add(
        &t,
        &fake,
        &target,
        "zhangwei",
        "迟到客",
        Some("crash-drill"),
    )
    .await;
    fake.set_unreachable(false);
    let (id, _) = last_welcome(&t, channel).await;
    run_sql(
        &t,
        &format!(
            "UPDATE welcome_sends SET status = 'pending', deadline = 1 WHERE id = {id} \
             AND status IN ('pending', 'sending')"
        ),
    )
    .await;
    let calls = fake.calls(WELCOME_PATH);
    let status = settled_welcome(&t, channel).await;
    // The server's own sweep may have sent it in the instant WeCom was back, before the
    // deadline moved (then it went out once, like the first case); otherwise it is closed
    // without another call.
    if status == "expired" {
        assert_eq!(fake.calls(WELCOME_PATH), calls);
    } else {
        assert_eq!(status, "sent");
    }
}

/// The acquisition-link quota (97375): unknown until read, read from WeCom on demand and by
/// the tick (at most every 10 minutes, only while a link code is live), kept when WeCom fails,
/// and shown on the channels page with a warning when low.
async fn link_quota_is_read_from_wecom_and_kept(e: Engine) {
    const PATH: &str = "/cgi-bin/externalcontact/customer_acquisition_quota";
    let (t, fake, _target) = with_fake(e).await;
    let store = t.store("ACQ-Q").await;
    let g = guide(&t, store, "zhouqi").await;
    let q = json_of(t.get("/api/v1/acquisition/link-quota", &t.admin).await).await;
    assert_eq!(
        (q["known"].as_bool(), q["tried_at"].is_null()),
        (Some(false), true),
        "{q}"
    );
    // No link code yet: the tick does not ask WeCom.
    t.app.acquisition().refresh_link_quota().await.unwrap();
    assert_eq!(fake.calls(PATH), 0);
    fake.with_corp(|c| {
        c.acquisition_quota = yutang_wecom::fake::corp::AcquisitionQuota {
            total: 958,
            balance: 42,
            // 2027-01-31 00:00 in Shanghai.
            expire_date: 1_801_324_800,
        }
    });
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "信息流广告", "kind": "ad"}),
        )
        .await,
    )
    .await;
    let r = t
        .post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": channel, "name": "广告链接", "kind": "link",
                "guides": [{"staff_id": g, "daily_cap": 50}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // The tick reads it once, then not again within 10 minutes.
    t.app.acquisition().refresh_link_quota().await.unwrap();
    t.app.acquisition().refresh_link_quota().await.unwrap();
    assert_eq!(fake.calls(PATH), 1);
    let q = json_of(t.get("/api/v1/acquisition/link-quota", &t.admin).await).await;
    assert_eq!(q["known"], true, "{q}");
    assert_eq!(
        (q["used"].as_i64(), q["balance"].as_i64()),
        (Some(958), Some(42))
    );
    assert_eq!(q["low"], true);
    assert_eq!(
        q["expiring"],
        json!([{"expires_on": "2027-01-31", "balance": 42}])
    );
    // WeCom down: the reading keeps the figures and says why, in Chinese.
    fake.set_unreachable(true);
    let q = json_of(
        t.get("/api/v1/acquisition/link-quota?refresh=true", &t.admin)
            .await,
    )
    .await;
    fake.set_unreachable(false);
    assert_eq!(q["balance"], 42, "{q}");
    assert!(!q["error"].as_str().unwrap().is_empty(), "{q}");
    let r = t
        .get("/api/v1/acquisition/link-quota?refresh=1&x=2", &t.admin)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The channels page shows the balance and the warning; reading again clears the error.
    t.staff("quota.admin", "admin", None).await;
    let cookie = crate::console::console_login(&t, "quota.admin").await;
    let (status, html) = crate::console::page(&t, &cookie, "/console/channels?quota=refresh").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"quota-low\""), "{html}");
    assert!(html.contains("data-quota=\"balance\""));
    assert!(!html.contains("id=\"quota-error\""));
}
