//! Churn alerts (流失提醒, issue #23 item 4) through the WeCom callback and the HTTP API against
//! the fake WeCom, on both engines: a customer deleting their guide makes one alert with the
//! customer's value (orders, spend, tier) and WeCom app messages to the guide and the store's
//! manager (a manager without WeCom is skipped); the same callback again adds no alert and no
//! message; a guide deleting a customer alerts the manager only; each role sees and handles
//! only its own; handling twice is 409; bad input is refused by field.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_wecom::fake::{CallbackTarget, FakeEvent, FakeWecom};

use crate::helpers::{Engine, TestApp, error_of};
use crate::wecom_sync::{guide, with_fake_and};

both_engines!(
    a_deleted_guide_alerts_the_guide_and_the_manager_once,
    alerts_are_scoped_and_handled_once,
    bad_input_is_refused_by_field,
    console_churn_alerts_by_role,
);

const AGENT: i64 = 1_000_023;
const APP_SECRET: &str = "churn-app-secret-0001";

async fn ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The world: store A with guides 张伟 (zhangwei) and 李娜 (lina) and a manager linked to
/// wangfang plus one without WeCom; store B with guide liuyang and its manager (zhaolei); an
/// analyst; the self-built app connected.
struct World {
    t: TestApp,
    fake: FakeWecom,
    target: CallbackTarget,
    store_a: i64,
    store_b: i64,
    zhang: i64,
    lina: i64,
    manager_a: i64,
}

async fn world(e: Engine) -> World {
    let (t, fake, target) = with_fake_and(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
        s.journeys.run = false;
        s.secret_key = Some(yutang_app::settings::Secret::new("ab".repeat(32)));
    })
    .await;
    let store_a = t.store("CA-A").await;
    let store_b = t.store("CA-B").await;
    let zhang = guide(&t, store_a, "zhangwei").await;
    let lina = guide(&t, store_a, "lina").await;
    guide(&t, store_b, "liuyang").await;
    let manager_a = t.staff("ca.manager", "store_manager", Some(store_a)).await;
    link(&t, manager_a, "wangfang").await;
    t.staff("ca.manager2", "store_manager", Some(store_a)).await;
    let manager_b = t.staff("cb.manager", "store_manager", Some(store_b)).await;
    link(&t, manager_b, "zhaolei").await;
    t.staff("ca.analyst", "analyst", None).await;
    fake.add_app(AGENT, APP_SECRET);
    let r = t
        .send_json(
            Method::PUT,
            "/api/v1/wecom/settings",
            &t.admin,
            json!({"app_secrets": [{"agent_id": AGENT.to_string(), "secret": APP_SECRET}]}),
        )
        .await;
    ok(r, StatusCode::OK).await;
    World {
        t,
        fake,
        target,
        store_a,
        store_b,
        zhang,
        lina,
        manager_a,
    }
}

async fn link(t: &TestApp, staff: i64, userid: &str) {
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{staff}"),
            &t.admin,
            json!({"wecom_userid": userid}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Deliver `ev` as WeCom does, stamped `at` (seconds), and apply it.
async fn deliver(w: &World, ev: &FakeEvent, at: i64) {
    let xml = ev.to_xml(w.fake.corp_id(), at);
    let out = yutang_wecom::fake::push::push_xml(&reqwest::Client::new(), &w.target, &xml, at)
        .await
        .unwrap();
    assert_eq!(out.status, 200);
    crate::wecom::drain(&w.t).await;
    w.t.settle_jobs().await;
}

/// `ext` adds `userid`: the customer and the follow exist; returns the customer's id.
async fn added(w: &World, userid: &str, ext: &str) -> i64 {
    let ev = FakeEvent::AddExternalContact {
        userid: userid.into(),
        external_userid: ext.into(),
        state: None,
        welcome_code: None,
    };
    deliver(w, &ev, now_secs()).await;
    crate::wecom_sync::customer(&w.t, ext).await.expect(ext)
}

async fn order(t: &TestApp, ext: &str, customer: i64, unit_fen: i64, qty: i64) {
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": ext, "customer_id": customer, "channel": "store",
                "paid_at": chrono::Utc::now().to_rfc3339(),
                "lines": [{"sku": "A", "name": "面霜", "quantity": qty, "unit_price_fen": unit_fen}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
}

/// Put `customer` in a tier named 金卡 (as the tier program would).
async fn gold(t: &TestApp, customer: i64) {
    let sql = "INSERT INTO tiers (tier_key, name, tier_rank, threshold, created_at, updated_at) \
               VALUES ('gold', '金卡', 1, 0, 0, 0)";
    t.exec(sql).await;
    let sql = format!(
        "INSERT INTO customer_tiers (customer_id, tier_id, tier_since, held_until, updated_at) \
         SELECT {customer}, id, 0, 0, 0 FROM tiers WHERE tier_key = 'gold'"
    );
    t.exec(Box::leak(sql.into_boxed_str())).await;
}

async fn alerts(t: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let v = ok(
        t.get(&format!("/api/v1/churn-alerts{query}"), token).await,
        StatusCode::OK,
    )
    .await;
    v["items"].as_array().unwrap().clone()
}

/// The app messages whose text starts with `head`, as (recipients, text).
fn messages(fake: &FakeWecom, head: &str) -> Vec<(Vec<String>, String)> {
    fake.app_messages()
        .into_iter()
        .filter(|m| m.content.starts_with(head))
        .map(|m| (m.touser, m.content))
        .collect()
}

async fn a_deleted_guide_alerts_the_guide_and_the_manager_once(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    let customer = added(&w, "zhangwei", "wmDemoCustomer0001").await;
    order(t, "CA-1", customer, 13_400, 2).await;
    order(t, "CA-2", customer, 990, 1).await;
    gold(t, customer).await;
    assert!(alerts(t, &t.admin, "").await.is_empty());

    // The customer deletes 张伟: one alert with the value, messages to 张伟 and the manager.
    let at = now_secs();
    let gone = w
        .fake
        .simulate_customer_deletes_staff("zhangwei", "wmDemoCustomer0001");
    deliver(&w, &gone, at).await;
    let list = alerts(t, &t.admin, "").await;
    assert_eq!(list.len(), 1, "{list:?}");
    let a = &list[0];
    assert_eq!(a["kind"], "customer_deleted");
    assert_eq!(a["customer_id"], customer);
    assert_eq!(a["staff_id"], w.zhang);
    assert_eq!(a["store_id"], w.store_a);
    assert_eq!(
        (a["orders"].as_i64(), a["spend_fen"].as_i64()),
        (Some(2), Some(27_790))
    );
    assert_eq!(a["tier_name"], "金卡");
    assert_eq!(a["status"], "open");
    assert_eq!(
        a["occurred_at"],
        yutang_core::time::Millis(at * 1000).to_rfc3339()
    );
    let sent = messages(&w.fake, "【流失提醒】");
    let mut to: Vec<String> = sent.iter().flat_map(|(u, _)| u.clone()).collect();
    to.sort();
    assert_eq!(to, ["wangfang", "zhangwei"], "{sent:?}");
    for (_, text) in &sent {
        assert!(text.contains("删除了导购 g.zhangwei"), "{text}");
        assert!(
            text.contains("累计 2 单，消费 ¥277.90，会员等级 金卡。"),
            "{text}"
        );
    }
    // The manager without WeCom is recorded as skipped; nothing failed.
    let skipped = crate::acquisition::scalar(
        t,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'churn_alert_notify' AND status = 'done' \
         AND result LIKE '%skipped: not in WeCom%'",
    )
    .await;
    assert_eq!(skipped, 1);
    let failed = crate::acquisition::scalar(
        t,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'churn_alert_notify' AND status <> 'done'",
    )
    .await;
    assert_eq!(failed, 0);

    // The same callback again: no second alert, no second message.
    deliver(&w, &gone, at).await;
    assert_eq!(alerts(t, &t.admin, "").await.len(), 1);
    assert_eq!(messages(&w.fake, "【流失提醒】").len(), 2);

    // 李娜 deletes a customer: a guide_deleted alert, told to the manager only.
    let other = added(&w, "lina", "wmDemoCustomer0002").await;
    let ev = FakeEvent::DelExternalContact {
        userid: "lina".into(),
        external_userid: "wmDemoCustomer0002".into(),
    };
    deliver(&w, &ev, now_secs()).await;
    let list = alerts(t, &t.admin, "?kind=guide_deleted").await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        (&list[0]["customer_id"], &list[0]["staff_id"]),
        (&json!(other), &json!(w.lina))
    );
    assert_eq!(
        (list[0]["orders"].as_i64(), list[0]["spend_fen"].as_i64()),
        (Some(0), Some(0))
    );
    let sent = messages(&w.fake, "【导购删除客户】");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, ["wangfang"]);
    assert!(
        sent[0].1.contains("导购 g.lina 删除了客户"),
        "{}",
        sent[0].1
    );
    assert_eq!(alerts(t, &t.admin, "").await.len(), 2);
    w.fake.shutdown().await;
}

async fn alerts_are_scoped_and_handled_once(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    added(&w, "zhangwei", "wmDemoCustomer0003").await;
    added(&w, "lina", "wmDemoCustomer0004").await;
    added(&w, "liuyang", "wmDemoCustomer0005").await;
    let gone = w
        .fake
        .simulate_customer_deletes_staff("zhangwei", "wmDemoCustomer0003");
    deliver(&w, &gone, now_secs()).await;
    let ev = FakeEvent::DelExternalContact {
        userid: "lina".into(),
        external_userid: "wmDemoCustomer0004".into(),
    };
    deliver(&w, &ev, now_secs()).await;
    let gone_b = w
        .fake
        .simulate_customer_deletes_staff("liuyang", "wmDemoCustomer0005");
    deliver(&w, &gone_b, now_secs()).await;
    let all = alerts(t, &t.admin, "").await;
    assert_eq!(all.len(), 3);
    let id_of = |kind: &str, staff: i64| {
        all.iter()
            .find(|a| a["kind"] == kind && a["staff_id"] == staff)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let zhang_alert = id_of("customer_deleted", w.zhang);
    let lina_alert = id_of("guide_deleted", w.lina);
    let b_alert = all.iter().find(|a| a["store_id"] == w.store_b).unwrap()["id"]
        .as_i64()
        .unwrap();

    let zhang = t.login("g.zhangwei").await;
    let lina = t.login("g.lina").await;
    let liu = t.login("g.liuyang").await;
    let manager = t.login("ca.manager").await;
    let manager_b = t.login("cb.manager").await;
    let analyst = t.login("ca.analyst").await;
    let ids = |v: Vec<Value>| {
        let mut ids: Vec<i64> = v.iter().map(|a| a["id"].as_i64().unwrap()).collect();
        ids.sort_unstable();
        ids
    };
    let sorted = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    // A guide: their own customer_deleted alerts only.
    assert_eq!(ids(alerts(t, &zhang, "").await), [zhang_alert]);
    assert!(alerts(t, &zhang, "?kind=guide_deleted").await.is_empty());
    assert!(
        alerts(t, &zhang, &format!("?staff_id={}", w.lina))
            .await
            .is_empty()
    );
    assert!(
        alerts(t, &lina, "").await.is_empty(),
        "a guide's own deletion is the manager's"
    );
    assert_eq!(ids(alerts(t, &liu, "").await), [b_alert]);
    for id in [lina_alert, b_alert] {
        let r = t.get(&format!("/api/v1/churn-alerts/{id}"), &zhang).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    // Store managers: their store's; analysts and HQ: all.
    assert_eq!(
        ids(alerts(t, &manager, "").await),
        sorted(vec![zhang_alert, lina_alert])
    );
    assert_eq!(
        ids(alerts(t, &manager, "?kind=guide_deleted").await),
        [lina_alert]
    );
    assert!(
        alerts(t, &manager, &format!("?store_id={}", w.store_b))
            .await
            .is_empty()
    );
    assert_eq!(ids(alerts(t, &manager_b, "").await), [b_alert]);
    assert_eq!(ids(alerts(t, &analyst, "").await).len(), 3);
    assert_eq!(
        ids(alerts(t, &t.admin, &format!("?store_id={}&status=open", w.store_a)).await),
        sorted(vec![zhang_alert, lina_alert])
    );
    // Paging by `before`.
    let v = ok(
        t.get("/api/v1/churn-alerts?limit=2", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    let before = v["next_before"].as_i64().expect("a next page");
    let v = ok(
        t.get(
            &format!("/api/v1/churn-alerts?limit=2&before={before}"),
            &t.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert!(v["next_before"].is_null());

    // Handling: out of scope is 404, an analyst 403; the guide handles theirs once.
    let handle = |id: i64| format!("/api/v1/churn-alerts/{id}/handle");
    let note = json!({"note": "已电话回访，约了周末到店"});
    for (token, id, want) in [
        (&manager_b, zhang_alert, StatusCode::NOT_FOUND),
        (&lina, zhang_alert, StatusCode::NOT_FOUND),
        (&zhang, lina_alert, StatusCode::NOT_FOUND),
        (&analyst, zhang_alert, StatusCode::FORBIDDEN),
    ] {
        let r = t.post(&handle(id), token, note.clone()).await;
        assert_eq!(r.status(), want, "{id}");
    }
    let v = ok(
        t.post(&handle(zhang_alert), &zhang, note.clone()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], "handled");
    assert_eq!(v["handled_by"], w.zhang);
    assert_eq!(v["note"], "已电话回访，约了周末到店");
    assert!(v["handled_at"].is_string());
    let (s, code, _) = error_of(t.post(&handle(zhang_alert), &manager, json!({})).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::CONFLICT, "churn_alert_handled")
    );
    let v = ok(
        t.get(&format!("/api/v1/churn-alerts/{zhang_alert}"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        v["note"], "已电话回访，约了周末到店",
        "the first handling stands"
    );
    // The manager handles the guide_deleted one without a note.
    let v = ok(
        t.post(&handle(lina_alert), &manager, json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (v["status"].as_str(), v["note"].as_str()),
        (Some("handled"), Some(""))
    );
    assert_eq!(v["handled_by"], w.manager_a);
    assert!(alerts(t, &manager, "?status=open").await.is_empty());
    assert_eq!(ids(alerts(t, &manager, "?status=handled").await).len(), 2);
    assert!(
        t.audit_actions()
            .await
            .iter()
            .filter(|a| *a == "churn_alert_handled")
            .count()
            == 2
    );
    w.fake.shutdown().await;
}

async fn bad_input_is_refused_by_field(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    added(&w, "zhangwei", "wmDemoCustomer0006").await;
    let gone = w
        .fake
        .simulate_customer_deletes_staff("zhangwei", "wmDemoCustomer0006");
    deliver(&w, &gone, now_secs()).await;
    let id = alerts(t, &t.admin, "").await[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/churn-alerts/{id}/handle");
    for (body, code, field) in [
        (json!({"nota": "x"}), "unknown_field", None),
        (
            json!({"note": "响铃\u{7}"}),
            "invalid_characters",
            Some("note"),
        ),
        (
            json!({"note": "字".repeat(501)}),
            "text_too_long",
            Some("note"),
        ),
        (json!({"note": 5}), "", None),
    ] {
        let (s, got, f) = error_of(t.post(&path, &t.admin, body.clone()).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        if !code.is_empty() {
            assert_eq!(got, code, "{body}");
        }
        if let Some(field) = field {
            assert_eq!(f.as_deref(), Some(field), "{body}");
        }
    }
    for raw in [r#"{"note": "好"} x"#, "{"] {
        let r = t
            .req(Method::POST, &path, Some(&t.admin))
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{raw}: {}", r.status());
    }
    // Bad filters and unknown ids.
    for q in [
        "?kind=lost",
        "?status=done",
        "?limit=0",
        "?limit=201",
        "?colour=red",
    ] {
        let r = t.get(&format!("/api/v1/churn-alerts{q}"), &t.admin).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
    }
    let (s, code, _) = error_of(t.get("/api/v1/churn-alerts?kind=lost", &t.admin).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_kind")
    );
    let r = t
        .post("/api/v1/churn-alerts/999999/handle", &t.admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t.get("/api/v1/churn-alerts/999999", &t.admin).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Nothing changed.
    let v = ok(
        t.get(&format!("/api/v1/churn-alerts/{id}"), &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (v["status"].as_str(), v["note"].as_str()),
        (Some("open"), Some(""))
    );
    w.fake.shutdown().await;
}

/// An alert written as the WeCom callback writes it; returns its id.
async fn insert_alert(
    t: &TestApp,
    kind: &str,
    customer: i64,
    staff: i64,
    store: i64,
    key: &str,
) -> i64 {
    let sql = format!(
        "INSERT INTO churn_alerts (kind, customer_id, staff_id, store_id, occurred_at, orders, \
         spend_fen, tier_name, source_key, status, note, created_at) VALUES ('{kind}', \
         {customer}, {staff}, {store}, 1796610720000, 3, 26800, '金卡', '{key}', 'open', '', 0) \
         RETURNING id"
    );
    crate::acquisition::scalar(t, &sql).await
}

/// The console page (流失提醒) through HTTP: in the menu; a guide sees their alert with the
/// customer's value and handles it with a note (a second time is refused with the reason);
/// another guide's or a guide-deleted alert is not theirs; the manager sees both kinds and
/// filters; an analyst reads without forms; a wrong CSRF token changes nothing; English.
async fn console_churn_alerts_by_role(e: Engine) {
    use crate::console::{console_login, csrf_in, page};
    use crate::console_acquisition::{location, post_form};
    let t = crate::helpers::spawn_app(e).await;
    let store = t.store("CCA-A").await;
    let g1 = t.staff("cca.guide1", "guide", Some(store)).await;
    let g2 = t.staff("cca.guide2", "guide", Some(store)).await;
    t.staff("cca.manager", "store_manager", Some(store)).await;
    t.staff("cca.analyst", "analyst", None).await;
    let customer = crate::customers::customer_with_phone(&t, "13812345678", "王女士").await;
    crate::customers::follow(&t, customer, g1).await;
    let mine = insert_alert(&t, "customer_deleted", customer, g1, store, "cca:1").await;
    let deleted = insert_alert(&t, "guide_deleted", customer, g2, store, "cca:2").await;

    // The guide: the menu entry, their alert with the value, a handle form.
    let guide = console_login(&t, "cca.guide1").await;
    let (status, html) = page(&t, &guide, "/console/churn-alerts").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<a href="/console/churn-alerts" class="on">流失提醒</a>"#));
    assert!(html.contains(&format!(
        r#"<tr data-alert="{mine}" data-kind="customer_deleted" data-status="open">"#
    )));
    assert!(!html.contains(&format!(r#"data-alert="{deleted}""#)));
    assert!(html.contains("客户删除导购") && html.contains("2026-12-07 10:32:00"));
    assert!(html.contains(r#"<span data-orders="3">3 单</span>"#));
    assert!(
        html.contains("<span data-spend>¥268.00</span>")
            && html.contains("<span data-tier>金卡</span>")
    );
    assert!(html.contains(&format!(
        r#"<a href="/console/customers/{customer}" data-customer="{customer}">王女士</a>"#
    )));
    assert!(html.contains("138****5678") && !html.contains("13812345678"));
    assert!(
        !html.contains(r#"id="filter-kind""#),
        "a guide sees one kind"
    );
    let action = format!("/console/churn-alerts/{mine}/handle");
    assert!(html.contains(&format!(r#"action="{action}""#)));
    let csrf = csrf_in(&html);
    let r = post_form(
        &t,
        &guide,
        &action,
        &[("csrf", "wrong".into()), ("note", "x".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let form = vec![
        ("csrf", csrf.clone()),
        ("note", "已电话回访\r\n周末到店".to_owned()),
    ];
    let r = post_form(&t, &guide, &action, &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/churn-alerts?ok_alert=handled");
    let v: Value = t
        .get(&format!("/api/v1/churn-alerts/{mine}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["status"].as_str(), v["note"].as_str()),
        (Some("handled"), Some("已电话回访\n周末到店"))
    );
    let r = post_form(&t, &guide, &action, &form).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let zh = yutang_core::error_codes::find("churn_alert_handled")
        .unwrap()
        .zh;
    assert!(r.text().await.unwrap().contains(zh));
    let r = post_form(
        &t,
        &guide,
        &format!("/console/churn-alerts/{deleted}/handle"),
        &form,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, html) = page(&t, &guide, "/console/churn-alerts?ok_alert=handled").await;
    assert!(html.contains("已标记为已处理") && html.contains("没有符合条件的流失提醒"));
    let (_, html) = page(&t, &guide, "/console/churn-alerts?status=handled").await;
    assert!(html.contains(&format!(
        r#"data-alert="{mine}" data-kind="customer_deleted" data-status="handled""#
    )));
    assert!(html.contains("已电话回访") && html.contains("处理人 cca.guide1"));

    // Another guide sees nothing: a deletion they made is the manager's to handle.
    let other = console_login(&t, "cca.guide2").await;
    let (_, html) = page(&t, &other, "/console/churn-alerts?status=all").await;
    assert!(!html.contains("data-alert="));

    // The manager: both kinds, filtered by kind; handles the guide-deleted one.
    let manager = console_login(&t, "cca.manager").await;
    let (_, html) = page(&t, &manager, "/console/churn-alerts?status=all").await;
    assert!(
        html.contains(&format!(r#"data-alert="{mine}""#))
            && html.contains(&format!(r#"data-alert="{deleted}""#))
    );
    assert!(html.contains(r#"id="filter-kind""#) && html.contains("导购删除客户"));
    let (_, html) = page(&t, &manager, "/console/churn-alerts?kind=guide_deleted").await;
    assert!(
        !html.contains(&format!(r#"data-alert="{mine}""#))
            && html.contains(&format!(r#"data-alert="{deleted}""#))
    );
    let mcsrf = csrf_in(&html);
    let r = post_form(
        &t,
        &manager,
        &format!("/console/churn-alerts/{deleted}/handle"),
        &[("csrf", mcsrf), ("note", String::new())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // An analyst reads, without forms; a post is refused.
    let analyst = console_login(&t, "cca.analyst").await;
    let (status, html) = page(&t, &analyst, "/console/churn-alerts?status=all").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"data-alert="{mine}""#))
            && !html.contains(r#"data-action="handle""#)
    );
    let r = post_form(
        &t,
        &analyst,
        &format!("/console/churn-alerts/{mine}/handle"),
        &[("csrf", csrf_in(&html)), ("note", "x".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // In English.
    let (status, html) = page(
        &t,
        &format!("{manager}; yutang_lang=en"),
        "/console/churn-alerts?status=all",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Churn alerts")
            && html.contains("Customer deleted guide")
            && html.contains(">Handled<")
    );
}
