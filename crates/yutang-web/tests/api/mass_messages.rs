//! Mass messages (issue #21 item 1) through the HTTP API against the fake WeCom, on both
//! engines: the preview and the send agree on who is reached and why others are not; each
//! guide gets one WeCom task with exactly their customers; results come back per customer;
//! the frequency cap counts what was sent; reminders stop at WeCom's 3 a day; a send whose
//! commit was lost after WeCom created the task adopts that task instead of making a second;
//! bad input is refused by field and creates nothing; every role sees only what is theirs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_wecom::fake::FakeWecom;

use crate::helpers::{Engine, TestApp, error_of};
use crate::wecom_sync::{guide, with_fake_and};

both_engines!(
    the_preview_and_the_send_agree_and_results_come_back,
    a_lost_commit_after_wecom_created_the_task_sends_nothing_twice,
    bad_input_is_refused_by_field_and_creates_nothing,
    each_role_sees_and_sends_only_its_own,
    a_scheduled_message_can_be_cancelled_once,
    two_messages_prepared_at_once_share_the_frequency_cap,
    a_group_message_goes_through_each_owner_and_counts_per_group,
    a_throttling_storm_slows_sending_and_loses_nothing,
);

/// The fake's active staff (陈静 has resigned and is not linked).
const GUIDES: [&str; 5] = ["zhangwei", "wangfang", "lina", "liuyang", "zhaolei"];

async fn ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A server on the fake WeCom with the demo corp synced: store `MM-A` with the five active
/// guides linked; returns the customer ids by external id.
pub(crate) async fn synced(e: Engine) -> (TestApp, FakeWecom, i64, BTreeMap<String, i64>) {
    let (t, fake, _) = with_fake_and(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
        // The journey tests tick the engine themselves.
        s.journeys.run = false;
        // So a test may add a self-built app's secret (stored encrypted) on either engine.
        s.secret_key = Some(yutang_app::settings::Secret::new("ab".repeat(32)));
    })
    .await;
    let store = t.store("MM-A").await;
    for g in GUIDES {
        guide(&t, store, g).await;
    }
    let r = t.post("/api/v1/wecom/sync", &t.admin, json!({})).await;
    let id = ok(r, StatusCode::ACCEPTED).await["id"].as_i64().unwrap();
    for _ in 0..600 {
        let v = ok(
            t.get(&format!("/api/v1/wecom/sync/{id}"), &t.admin).await,
            StatusCode::OK,
        )
        .await;
        if v["status"] == "done" {
            break;
        }
        assert_ne!(v["status"], "failed", "{v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    t.settle_jobs().await;
    let mut customers = BTreeMap::new();
    for i in 1..=yutang_wecom::fake::corp::DEMO_CUSTOMERS {
        let ext = format!("wmDemoCustomer{i:04}");
        if let Some(id) = crate::wecom_sync::customer(&t, &ext).await {
            customers.insert(ext, id);
        }
    }
    assert!(customers.len() >= 40, "synced {}", customers.len());
    (t, fake, store, customers)
}

fn ids(m: &BTreeMap<String, i64>) -> Vec<i64> {
    m.values().copied().collect()
}

async fn preview(t: &TestApp, token: &str, audience: Value, holdout: i64) -> Value {
    ok(
        t.post(
            "/api/v1/mass-messages/preview",
            token,
            json!({"audience": audience, "holdout_bp": holdout}),
        )
        .await,
        StatusCode::OK,
    )
    .await
}

async fn send(t: &TestApp, token: &str, body: Value) -> Value {
    ok(
        t.post("/api/v1/mass-messages", token, body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn message(t: &TestApp, id: i64) -> Value {
    ok(
        t.get(&format!("/api/v1/mass-messages/{id}"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await
}

/// Every row of a message's pages at `what` (`recipients` or `groups`), 7 (or 1) a page:
/// the row's `key` id → (state, reason).
async fn every_row(t: &TestApp, id: i64, what: &str, key: &str) -> BTreeMap<i64, (String, String)> {
    let mut out = BTreeMap::new();
    let mut after = 0;
    let limit = if what == "groups" { 1 } else { 7 };
    loop {
        let v = ok(
            t.get(
                &format!("/api/v1/mass-messages/{id}/{what}?limit={limit}&after={after}"),
                &t.admin,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        for r in v["items"].as_array().unwrap() {
            out.insert(
                r[key].as_i64().unwrap(),
                (
                    r["state"].as_str().unwrap().to_owned(),
                    r["reason"].as_str().unwrap().to_owned(),
                ),
            );
        }
        match v["next_after"].as_i64() {
            Some(a) => after = a,
            None => return out,
        }
    }
}

/// Every recipient of a message: customer id → (state, reason).
async fn recipients(t: &TestApp, id: i64) -> BTreeMap<i64, (String, String)> {
    every_row(t, id, "recipients", "customer_id").await
}

fn count_of(m: &BTreeMap<i64, (String, String)>, state: &str) -> usize {
    m.values().filter(|(s, _)| s == state).count()
}

async fn messaging_changes(t: &TestApp) -> usize {
    t.audit_actions()
        .await
        .into_iter()
        .filter(|a| a == "messaging_changed")
        .count()
}

pub(crate) async fn tag(t: &TestApp, name: &str) -> i64 {
    let g = ok(
        t.post(
            "/api/v1/tag-groups",
            &t.admin,
            json!({"name": format!("组-{name}")}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    ok(
        t.post(
            "/api/v1/tags",
            &t.admin,
            json!({"group_id": g, "name": name}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn tag_customer(t: &TestApp, customer: i64, tag: i64) {
    let r = t
        .post(
            &format!("/api/v1/customers/{customer}/tags"),
            &t.admin,
            json!({"add": [tag]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

/// An order paid now.
async fn order_now(t: &TestApp, ext: &str, customer: i64, fen: i64) {
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": ext, "customer_id": customer, "channel": "store",
                "paid_at": chrono::Utc::now().to_rfc3339(),
                "lines": [{"sku": "A", "name": "苹果", "quantity": 1, "unit_price_fen": fen}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
}

async fn the_preview_and_the_send_agree_and_results_come_back(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let mut all = ids(&customers);
    // A customer known only by phone has no guide; one who deleted their only guide neither.
    let walk_in = crate::customers::customer_with_phone(&t, "13700000001", "到店顾客").await;
    all.push(walk_in);
    let gone = all[5];
    let sql =
        format!("UPDATE follows SET state = 'deleted_by_customer' WHERE customer_id = {gone}");
    t.exec(Box::leak(sql.into_boxed_str())).await;
    let n = all.len() as u64;

    // The opt-out tag keeps two customers out.
    let opt = tag(&t, "拒收群发").await;
    tag_customer(&t, all[0], opt).await;
    tag_customer(&t, all[1], opt).await;
    let rules = ok(
        t.send_json(
            Method::PUT,
            "/api/v1/messaging/settings",
            &t.admin,
            json!({"daily_cap": 1, "weekly_cap": 3, "receipt_rule": "month_days", "opt_out_tag_id": opt}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rules["opt_out_tag_id"], opt);

    let audience = json!({"customer_ids": all});
    let p = preview(&t, &t.admin, audience.clone(), 2000).await;
    assert_eq!(p["audience"], n);
    let excluded: u64 = p["excluded"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        p["send"].as_u64().unwrap() + p["holdout"].as_u64().unwrap() + excluded,
        n
    );
    assert_eq!(p["excluded"]["opted_out"], 2, "{p}");
    assert_eq!(p["excluded"]["no_guide"], 1, "{p}");
    assert_eq!(p["excluded"]["deleted_guide"], 1, "{p}");
    let no_guide = 2;
    assert_eq!(p["excluded"]["frequency_cap"], 0);
    let eligible = n - 2 - no_guide;
    assert_eq!(
        p["send"].as_u64().unwrap() + p["holdout"].as_u64().unwrap(),
        eligible
    );
    let guides: u64 = p["guides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["recipients"].as_u64().unwrap())
        .sum();
    assert_eq!(guides, p["send"].as_u64().unwrap());

    // Send now with a 20 % holdout.
    let before = messaging_changes(&t).await;
    let m = send(
        &t,
        &t.admin,
        json!({"name": "周二会员日", "text": "会员日全场 8 折", "holdout_bp": 2000,
               "attachments": [{"kind": "link", "title": "会员日", "url": "https://shop.example.com/day"}],
               "audience": audience}),
    )
    .await;
    let id = m["id"].as_i64().unwrap();
    assert_eq!(messaging_changes(&t).await, before + 1);
    t.settle_jobs().await;
    let v = message(&t, id).await;
    assert_eq!(v["status"], "sent", "{v}");
    let r = recipients(&t, id).await;
    assert_eq!(r.len() as u64, n);
    assert_eq!(count_of(&r, "excluded") as u64, 2 + no_guide);
    let held = count_of(&r, "holdout") as u64;
    let sent = count_of(&r, "task_created");
    assert_eq!(held + sent as u64, eligible);
    assert!(held > 0 && sent > 0, "held {held}, sent {sent}");
    assert_eq!(v["counts"]["task_created"], sent);

    // One WeCom task per guide, with exactly that guide's customers, text and link.
    let templates = fake.msg_templates();
    let tasks = v["tasks"].as_array().unwrap();
    assert_eq!(templates.len(), tasks.len());
    let senders: BTreeSet<&str> = templates.iter().map(|t| t.creator.as_str()).collect();
    assert_eq!(senders.len(), templates.len(), "one task per guide");
    let in_tasks: usize = templates.iter().map(|t| t.targets.len()).sum();
    assert_eq!(in_tasks, sent);
    for tpl in &templates {
        assert_eq!(tpl.text.as_deref(), Some("会员日全场 8 折"));
        assert_eq!(
            tpl.attachments[0]["link"]["url"],
            "https://shop.example.com/day"
        );
        for target in &tpl.targets {
            let c = customers[&target.recipient];
            assert_eq!(r[&c].0, "task_created");
            assert_eq!(target.sender, tpl.creator);
        }
    }

    // One guide sends; the results come back on refresh.
    let first = &templates[0];
    assert!(fake.complete_msg_template_for(&first.msgid, &first.creator));
    let v = ok(
        t.post(
            &format!("/api/v1/mass-messages/{id}/refresh"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["counts"]["delivered"], first.targets.len(), "{v}");
    let confirmed: Vec<&Value> = v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] == "confirmed")
        .collect();
    assert_eq!(confirmed.len(), 1);
    // A second refresh changes nothing.
    let again = message(&t, id).await;
    assert_eq!(again["counts"], v["counts"]);

    // Reminders: the guides who have not sent, at most 3 times in 24 hours.
    let waiting = tasks.len() - 1;
    for round in 0..4 {
        let rem = ok(
            t.post(
                &format!("/api/v1/mass-messages/{id}/remind"),
                &t.admin,
                json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        if round < 3 {
            assert_eq!(rem["reminded"], waiting, "{rem}");
        } else {
            assert_eq!(rem["reminded"], 0);
            assert_eq!(rem["at_limit"], waiting);
        }
    }
    for tpl in &templates[1..] {
        assert_eq!(fake.reminders(&tpl.msgid), 3);
    }
    assert_eq!(fake.reminders(&first.msgid), 0);

    // The measured uplift: orders after the send by two sent customers and one held out.
    let sent_ids: Vec<i64> = r
        .iter()
        .filter(|(_, (s, _))| s == "task_created" || s == "delivered")
        .map(|(c, _)| *c)
        .collect();
    let held_ids: Vec<i64> = r
        .iter()
        .filter(|(_, (s, _))| s == "holdout")
        .map(|(c, _)| *c)
        .collect();
    order_now(&t, "MM-1", sent_ids[0], 100).await;
    order_now(&t, "MM-2", sent_ids[1], 300).await;
    order_now(&t, "MM-3", sent_ids[1], 300).await;
    order_now(&t, "MM-4", held_ids[0], 500).await;
    let u = ok(
        t.get(
            &format!("/api/v1/mass-messages/{id}/uplift?days=7"),
            &t.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(u["evidence"], "randomised_holdout");
    assert_eq!(u["complete"], false);
    assert_eq!(
        u["sent"],
        json!({"customers": sent, "buyers": 2, "orders": 3, "net_fen": 700})
    );
    assert_eq!(
        u["holdout"],
        json!({"customers": held, "buyers": 1, "orders": 1, "net_fen": 500})
    );
    let (s_n, h_n) = (sent as f64, held as f64);
    assert_eq!(
        u["net_fen"]["estimate"],
        (700.0 / s_n - 500.0 / h_n).round() as i64
    );
    assert_eq!(
        u["buyer_share_bp"]["estimate"],
        ((2.0 / s_n - 1.0 / h_n) * 10_000.0).round() as i64
    );
    // The metrics page lists it with the same figures, as randomised evidence.
    let metrics = ok(t.get("/api/v1/metrics", &t.admin).await, StatusCode::OK).await;
    let h = &metrics["holdouts"][0];
    assert_eq!(h["name"], "周二会员日");
    assert_eq!(h["uplift"]["message_id"], id);
    assert_eq!(h["uplift"]["comparison"]["evidence"], "randomised_holdout");
    assert_eq!(
        h["uplift"]["comparison"]["net_fen"]["estimate"],
        u["net_fen"]["estimate"]
    );
    assert_eq!(h["uplift"]["comparison"]["sent"]["customers"], sent);
    t.staff("mm.cadmin", "admin", None).await;
    let cookie = crate::console::console_login(&t, "mm.cadmin").await;
    let (status, html) = crate::console::page(&t, &cookie, "/console/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("<tr data-message=\"{id}\"")),
        "holdout row"
    );
    assert!(html.contains("随机对照"));
    let (status, code, _) = error_of(
        t.get(
            &format!("/api/v1/mass-messages/{id}/uplift?days=0"),
            &t.admin,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_days")
    );

    // The daily cap (1) now excludes everyone this message reached or may reach, not the
    // held-out customers nor those excluded before.
    let p2 = preview(&t, &t.admin, json!({"customer_ids": all}), 0).await;
    assert_eq!(p2["excluded"]["frequency_cap"], sent, "{p2}");
    assert_eq!(p2["send"].as_u64().unwrap(), held);
    fake.shutdown().await;
}

async fn a_lost_commit_after_wecom_created_the_task_sends_nothing_twice(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let m = send(
        &t,
        &t.admin,
        json!({"name": "补发测试", "text": "只发一次", "audience": {"customer_ids": ids(&customers)}}),
    )
    .await;
    let id = m["id"].as_i64().unwrap();
    t.settle_jobs().await;
    let before = fake.msg_templates();
    assert!(!before.is_empty());
    let v = message(&t, id).await;
    let sent = v["counts"]["task_created"].as_i64().unwrap();

    // WeCom created every task, then the commit that recorded them was lost: tasks back to
    // `sending` without msgid, recipients back to `queued`, the message back to `sending`,
    // and the send job runs again.
    let stmts = [
        "UPDATE mass_message_tasks SET state = 'sending', msgid = NULL, attempted_at = updated_at - 1000"
            .to_owned(),
        "UPDATE mass_message_recipients SET state = 'queued' WHERE state = 'task_created'".to_owned(),
        format!("UPDATE mass_messages SET status = 'sending', sent_at = NULL WHERE id = {id}"),
        // The lost commit queued no tracking either.
        "DELETE FROM jobs WHERE kind = 'mass_message_track'".to_owned(),
        format!(
            "INSERT INTO jobs (kind, payload, run_at, created_at, updated_at) \
             VALUES ('mass_message_send', '{{\"message_id\":{id}}}', 0, 0, 0)"
        ),
    ];
    for s in stmts {
        t.exec(Box::leak(s.into_boxed_str())).await;
    }
    t.settle_jobs().await;
    let after = fake.msg_templates();
    assert_eq!(after.len(), before.len(), "no second task in WeCom");
    let v = message(&t, id).await;
    assert_eq!(v["status"], "sent");
    assert_eq!(v["counts"]["task_created"], sent);
    let mut got: Vec<String> = v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["msgid"].as_str().unwrap().to_owned())
        .collect();
    let mut want: Vec<String> = before.iter().map(|t| t.msgid.clone()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "each task adopted its own WeCom task");

    // A WeCom outage fails over to retries, not to lost or doubled tasks: the next message
    // meets one transient error and still makes one task per guide.
    fake.fail_next(yutang_wecom::client::api::PATH_ADD_MSG_TEMPLATE, 45033, 1);
    t.exec("UPDATE message_contacts SET at = 0").await;
    let m2 = send(
        &t,
        &t.admin,
        json!({"name": "重试测试", "text": "第二条", "audience": {"customer_ids": ids(&customers)}}),
    )
    .await;
    let id2 = m2["id"].as_i64().unwrap();
    for _ in 0..600 {
        t.exec("UPDATE jobs SET run_at = 0 WHERE status = 'queued' AND kind = 'mass_message_send'")
            .await;
        t.settle_jobs().await;
        if message(&t, id2).await["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let v2 = message(&t, id2).await;
    assert_eq!(v2["status"], "sent", "{v2}");
    let second: Vec<_> = fake
        .msg_templates()
        .into_iter()
        .filter(|t| t.text.as_deref() == Some("第二条"))
        .collect();
    assert_eq!(second.len(), v2["tasks"].as_array().unwrap().len());
    fake.shutdown().await;
}

async fn bad_input_is_refused_by_field_and_creates_nothing(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let all = ids(&customers);
    let link = json!({"kind": "link", "title": "t", "url": "https://x.example.com"});
    let cases = [
        (
            json!({"name": "x", "audience": {"customer_ids": all}}),
            "text",
            "empty_content",
        ),
        (
            json!({"name": "x", "text": "  ", "audience": {"customer_ids": all}}),
            "text",
            "empty_content",
        ),
        (
            json!({"name": "x", "attachments": vec![link.clone(); 10], "audience": {"customer_ids": all}}),
            "attachments",
            "too_many_items",
        ),
        (
            json!({"name": "x", "attachments": [{"kind": "link", "title": "t", "url": "javascript:1"}], "audience": {"customer_ids": all}}),
            "attachments",
            "invalid_url",
        ),
        (
            json!({"name": "x", "attachments": [{"kind": "video"}], "audience": {"customer_ids": all}}),
            "attachments",
            "invalid_attachment",
        ),
        (
            json!({"name": "", "text": "hi", "audience": {"customer_ids": all}}),
            "name",
            "invalid_name",
        ),
        (
            json!({"name": "a\u{1}b", "text": "hi", "audience": {"customer_ids": all}}),
            "name",
            "invalid_characters",
        ),
        (
            json!({"name": "x", "text": "a\u{7}b", "audience": {"customer_ids": all}}),
            "text",
            "invalid_characters",
        ),
        (
            json!({"name": "x", "text": "hi", "audience": {}}),
            "audience",
            "invalid_audience",
        ),
        (
            json!({"name": "x", "text": "hi", "audience": {"segment_id": 999_999}}),
            "segment_id",
            "unknown_segment",
        ),
        (
            json!({"name": "x", "text": "hi", "audience": {"tag_ids": [999_999]}}),
            "tag_ids",
            "unknown_tag",
        ),
        (
            json!({"name": "x", "text": "hi", "audience": {"customer_ids": [999_999]}}),
            "customer_ids",
            "unknown_customer",
        ),
        (
            json!({"name": "x", "text": "hi", "holdout_bp": 6000, "audience": {"customer_ids": all}}),
            "holdout_bp",
            "invalid_holdout",
        ),
        (
            json!({"name": "x", "text": "hi", "send_at": "2020-01-01T00:00:00Z", "audience": {"customer_ids": all}}),
            "send_at",
            "send_at_past",
        ),
        (
            json!({"name": "x", "text": "hi", "send_at": "tomorrow", "audience": {"customer_ids": all}}),
            "send_at",
            "invalid_time",
        ),
    ];
    for (body, field, code) in cases {
        let (status, got, f) = error_of(
            t.post("/api/v1/mass-messages", &t.admin, body.clone())
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!((got.as_str(), f.as_deref()), (code, Some(field)), "{body}");
    }
    // Unknown keys and trailing bytes are refused too.
    let r = t
        .post(
            "/api/v1/mass-messages",
            &t.admin,
            json!({"name": "x", "text": "hi", "audience": {"customer_ids": all}, "extra": 1}),
        )
        .await;
    assert!(r.status().is_client_error());
    for (body, field) in [
        (
            json!({"daily_cap": 0, "weekly_cap": 3, "receipt_rule": "month_days"}),
            "daily_cap",
        ),
        (
            json!({"daily_cap": 2, "weekly_cap": 1, "receipt_rule": "month_days"}),
            "weekly_cap",
        ),
        (
            json!({"daily_cap": 1, "weekly_cap": 3, "receipt_rule": "hourly"}),
            "receipt_rule",
        ),
        (
            json!({"daily_cap": 1, "weekly_cap": 3, "receipt_rule": "month_days", "opt_out_tag_id": 999_999}),
            "opt_out_tag_id",
        ),
    ] {
        let r = t
            .send_json(Method::PUT, "/api/v1/messaging/settings", &t.admin, body)
            .await;
        let (status, _, f) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(f.as_deref(), Some(field));
    }
    let list = ok(
        t.get("/api/v1/mass-messages", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 0);
    let rules = ok(
        t.get("/api/v1/messaging/settings", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rules["updated_at"], Value::Null, "nothing saved");
    assert_eq!(rules["daily_cap"], 1);
    assert!(fake.msg_templates().is_empty());
    fake.shutdown().await;
}

async fn each_role_sees_and_sends_only_its_own(e: Engine) {
    let (t, fake, store, customers) = synced(e).await;
    let all = ids(&customers);
    let other = t.store("MM-B").await;
    t.staff("mm.manager", "store_manager", Some(store)).await;
    t.staff("mm.other", "store_manager", Some(other)).await;
    t.staff("mm.guide", "guide", Some(store)).await;
    t.staff("mm.analyst", "analyst", None).await;
    let manager = t.login("mm.manager").await;
    let other_manager = t.login("mm.other").await;
    let guide_token = t.login("mm.guide").await;
    let analyst = t.login("mm.analyst").await;

    // The other store's manager sees none of these customers: naming them is refused.
    let (status, code, _) = error_of(
        t.post(
            "/api/v1/mass-messages/preview",
            &other_manager,
            json!({"audience": {"customer_ids": all}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_customer")
    );
    // By tag, the other store's audience is empty.
    let everyone = tag(&t, "全体").await;
    for &c in &all {
        tag_customer(&t, c, everyone).await;
    }
    let p = preview(&t, &other_manager, json!({"tag_ids": [everyone]}), 0).await;
    assert_eq!(p["audience"], 0);
    let p = preview(&t, &manager, json!({"tag_ids": [everyone]}), 0).await;
    assert_eq!(p["audience"], all.len());

    let mine = send(
        &t,
        &manager,
        json!({"name": "门店群发", "text": "到店有礼", "audience": {"tag_ids": [everyone]}}),
    )
    .await;
    let hq = send(
        &t,
        &t.admin,
        json!({"name": "总部群发", "text": "新品上市", "send_at": "2099-01-01T02:00:00Z",
               "audience": {"tag_ids": [everyone]}}),
    )
    .await;
    assert_eq!(mine["store_id"], store);
    assert_eq!(hq["store_id"], Value::Null);
    let listed = |v: Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect()
    };
    let mine_id = mine["id"].as_i64().unwrap();
    let hq_id = hq["id"].as_i64().unwrap();
    assert_eq!(
        listed(
            ok(
                t.get("/api/v1/mass-messages", &manager).await,
                StatusCode::OK
            )
            .await
        ),
        vec![mine_id]
    );
    assert!(
        listed(
            ok(
                t.get("/api/v1/mass-messages", &other_manager).await,
                StatusCode::OK
            )
            .await
        )
        .is_empty()
    );
    assert_eq!(
        listed(
            ok(
                t.get("/api/v1/mass-messages", &analyst).await,
                StatusCode::OK
            )
            .await
        ),
        vec![hq_id, mine_id]
    );
    for path in [
        format!("/api/v1/mass-messages/{hq_id}"),
        format!("/api/v1/mass-messages/{hq_id}/recipients"),
    ] {
        assert_eq!(t.get(&path, &manager).await.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        t.post(
            &format!("/api/v1/mass-messages/{hq_id}/cancel"),
            &manager,
            json!({})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    // Guides: nothing; analysts: read only; store managers: not the rules.
    assert_eq!(
        t.get("/api/v1/mass-messages", &guide_token).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.post(
            "/api/v1/mass-messages",
            &analyst,
            json!({"name": "x", "text": "y", "audience": {"tag_ids": [everyone]}})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.send_json(
            Method::PUT,
            "/api/v1/messaging/settings",
            &manager,
            json!({"daily_cap": 5, "weekly_cap": 9, "receipt_rule": "month_days"})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.get("/api/v1/messaging/settings", &manager).await.status(),
        StatusCode::OK
    );
    fake.shutdown().await;
}

async fn a_scheduled_message_can_be_cancelled_once(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let m = send(
        &t,
        &t.admin,
        json!({"name": "明日预告", "text": "明天见", "send_at": "2099-01-01T02:00:00Z",
               "audience": {"customer_ids": ids(&customers)}}),
    )
    .await;
    let id = m["id"].as_i64().unwrap();
    assert_eq!(m["status"], "scheduled");
    let v = ok(
        t.post(
            &format!("/api/v1/mass-messages/{id}/cancel"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], "cancelled");
    let (status, code, _) = error_of(
        t.post(
            &format!("/api/v1/mass-messages/{id}/cancel"),
            &t.admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "message_not_scheduled")
    );
    // Its preparation, when due, does nothing.
    t.exec("UPDATE jobs SET run_at = 0 WHERE kind = 'mass_message_prepare'")
        .await;
    t.settle_jobs().await;
    let v = message(&t, id).await;
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["counts"]["audience"], 0);
    assert!(fake.msg_templates().is_empty());
    let (status, code, _) = error_of(
        t.post(
            &format!("/api/v1/mass-messages/{id}/remind"),
            &t.admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "message_not_sent")
    );
    fake.shutdown().await;
}

/// Two messages to the same customers prepared at the same moment (two job runners at once;
/// on PostgreSQL two connections at READ COMMITTED) still count one contact ledger: with a
/// daily cap of 1 each customer is sent one of them, and the other excludes them for the cap.
async fn two_messages_prepared_at_once_share_the_frequency_cap(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let all = ids(&customers);
    let eligible = preview(&t, &t.admin, json!({"customer_ids": all}), 0).await["send"]
        .as_u64()
        .unwrap();
    assert!(eligible >= 30, "eligible {eligible}");
    let mut messages = Vec::new();
    for name in ["早安", "午安"] {
        let m = send(
            &t,
            &t.admin,
            json!({"name": name, "text": name, "send_at": "2099-01-01T02:00:00Z",
                   "audience": {"customer_ids": all}}),
        )
        .await;
        messages.push(m["id"].as_i64().unwrap());
    }
    t.exec("UPDATE jobs SET run_at = 0 WHERE kind = 'mass_message_prepare'")
        .await;
    let (a, b) = tokio::join!(t.app.run_one_job(), t.app.run_one_job());
    assert!(a.unwrap() && b.unwrap(), "both runners took a preparation");
    t.settle_jobs().await;

    let mut sent = 0;
    let mut capped = 0;
    for &id in &messages {
        let r = recipients(&t, id).await;
        sent += count_of(&r, "task_created");
        capped += r
            .values()
            .filter(|(s, why)| s == "excluded" && why == "frequency_cap")
            .count();
    }
    assert_eq!(sent as u64, eligible, "each customer is sent one message");
    assert_eq!(capped as u64, eligible, "and capped out of the other");
    let twice = crate::promotions::scalar(
        &t,
        "SELECT COUNT(*) FROM (SELECT customer_id FROM message_contacts \
                 GROUP BY customer_id HAVING COUNT(*) > 1) x",
    )
    .await;
    assert_eq!(twice, 0, "no customer is in the ledger twice today");
    fake.shutdown().await;
}

/// The id of the synced group `chat_id`.
async fn group_id(t: &TestApp, chat_id: &str) -> i64 {
    let sql = format!("SELECT id FROM customer_groups WHERE chat_id = '{chat_id}'");
    crate::promotions::scalar(t, Box::leak(sql.into_boxed_str())).await
}

/// Every group of a group message: group id → (state, reason).
async fn group_rows(t: &TestApp, id: i64) -> BTreeMap<i64, (String, String)> {
    every_row(t, id, "groups", "group_id").await
}

/// A message to customer groups (issue #21 item 2): each group goes through its owner in one
/// chat_type group task per owner; a dismissed group and one whose owner cannot send are
/// excluded by reason; results come back per group; WeCom's receipt rule counts each group's
/// own ledger (not the customers'); a group audience takes no holdout and names unknown
/// groups by field.
async fn a_group_message_goes_through_each_owner_and_counts_per_group(e: Engine) {
    let (t, fake, _, _) = synced(e).await;
    let g1 = group_id(&t, "wrDemoGroup0001").await; // 张伟
    let g2 = group_id(&t, "wrDemoGroup0002").await; // 王芳
    let g3 = group_id(&t, "wrDemoGroup0003").await; // 李娜
    // 陈静 resigned: her group is not synced; one whose owner is no linked staff member is
    // written here as WeCom would leave it.
    t.exec(
        "INSERT INTO customer_groups (chat_id, name, owner_userid, created_at, synced_at, \
         updated_at) VALUES ('wrDemoGroup0004', '陈静的会员群', 'chenjing', 0, 0, 0)",
    )
    .await;
    let g4 = group_id(&t, "wrDemoGroup0004").await;

    // Bad input: a holdout, an unknown group, two forms at once.
    for (body, field, code) in [
        (
            json!({"audience": {"all_groups": true}, "holdout_bp": 1000}),
            "holdout_bp",
            "invalid_holdout",
        ),
        (
            json!({"audience": {"group_ids": [g1, 9_999_999]}}),
            "group_ids",
            "unknown_group",
        ),
        (
            json!({"audience": {"group_ids": [g1], "customer_ids": [1]}}),
            "audience",
            "invalid_audience",
        ),
    ] {
        let r = t
            .post("/api/v1/mass-messages/preview", &t.admin, body)
            .await;
        let (status, got, f) = error_of(r).await;
        assert_eq!(
            (status, got.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field))
        );
    }

    let p = preview(&t, &t.admin, json!({"all_groups": true}), 0).await;
    assert_eq!(p["chat_type"], "group");
    assert_eq!(p["audience"], 4, "{p}");
    assert_eq!(p["send"], 3, "{p}");
    assert_eq!(p["excluded"]["no_owner"], 1, "{p}");
    assert_eq!(p["excluded"]["dismissed"], 0, "{p}");
    assert!(p["excluded"].get("frequency_cap").is_none(), "{p}");
    assert_eq!(p["guides"].as_array().unwrap().len(), 3, "{p}");

    // 李娜's group is dismissed: it is excluded, not sent.
    let sql = format!("UPDATE customer_groups SET dismissed_at = 1 WHERE id = {g3}");
    t.exec(Box::leak(sql.into_boxed_str())).await;
    let p = preview(&t, &t.admin, json!({"group_ids": [g1, g3]}), 0).await;
    assert_eq!(
        (p["audience"].as_u64(), p["send"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(p["excluded"]["dismissed"], 1, "{p}");

    let m = send(
        &t,
        &t.admin,
        json!({"name": "早安群", "text": "早上好，今日鲜果已到店", "audience": {"group_ids": [g1, g2, g3, g4]}}),
    )
    .await;
    let id = m["id"].as_i64().unwrap();
    assert_eq!(m["audience"]["kind"], "groups");
    t.settle_jobs().await;
    let v = message(&t, id).await;
    assert_eq!(v["status"], "sent", "{v}");
    assert_eq!(v["counts"]["audience"], 4, "{v}");
    assert_eq!(v["counts"]["task_created"], 2, "{v}");
    assert_eq!(v["counts"]["reasons"]["dismissed"], 1, "{v}");
    assert_eq!(v["counts"]["reasons"]["no_owner"], 1, "{v}");
    let rows = group_rows(&t, id).await;
    assert_eq!(rows[&g3], ("excluded".to_owned(), "dismissed".to_owned()));
    assert_eq!(rows[&g4], ("excluded".to_owned(), "no_owner".to_owned()));
    // A customer message's page of customers is empty for it.
    let r = ok(
        t.get(&format!("/api/v1/mass-messages/{id}/recipients"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["items"].as_array().unwrap().len(), 0);

    // One chat_type group task per owner, naming exactly their group.
    let templates: Vec<_> = fake
        .msg_templates()
        .into_iter()
        .filter(|m| m.chat_type == "group")
        .collect();
    assert_eq!(templates.len(), 2);
    let mut by_owner: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for tpl in &templates {
        by_owner.insert(
            tpl.creator.clone(),
            tpl.targets.iter().map(|x| x.recipient.clone()).collect(),
        );
    }
    assert_eq!(by_owner["zhangwei"], vec!["wrDemoGroup0001".to_owned()]);
    assert_eq!(by_owner["wangfang"], vec!["wrDemoGroup0002".to_owned()]);

    // 张伟 sends; the results come back for his group only.
    let zhang = templates.iter().find(|x| x.creator == "zhangwei").unwrap();
    assert!(fake.complete_msg_template_for(&zhang.msgid, "zhangwei"));
    let v = ok(
        t.post(
            &format!("/api/v1/mass-messages/{id}/refresh"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["counts"]["delivered"], 1, "{v}");
    assert_eq!(v["counts"]["task_created"], 1, "{v}");
    let rows = group_rows(&t, id).await;
    assert_eq!(rows[&g1].0, "delivered");
    assert_eq!(rows[&g2].0, "task_created");
    // A second read changes nothing.
    let again = ok(
        t.post(
            &format!("/api/v1/mass-messages/{id}/refresh"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["counts"], v["counts"]);

    // The groups' ledger, not the customers', counts it: with WeCom's 1-a-day rule both sent
    // groups are over their cap today, while customers keep theirs.
    ok(
        t.send_json(
            Method::PUT,
            "/api/v1/messaging/settings",
            &t.admin,
            json!({"daily_cap": 1, "weekly_cap": 3, "receipt_rule": "daily_1"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let p = preview(&t, &t.admin, json!({"group_ids": [g1, g2]}), 0).await;
    assert_eq!(p["send"], 0, "{p}");
    assert_eq!(p["excluded"]["receipt_cap"], 2, "{p}");
    let customers = crate::promotions::scalar(&t, "SELECT COUNT(*) FROM message_contacts").await;
    assert_eq!(
        customers, 0,
        "a group message is not a message to each customer"
    );
    fake.shutdown().await;
}

/// A storm of 24 × 45009 (WeCom's frequency limit), more than the client's retries times the
/// job runner's attempts (which used to fail the tasks): the send comes back later in rounds,
/// each waiting longer; when WeCom answers again every guide has exactly one task and no
/// recipient failed.
async fn a_throttling_storm_slows_sending_and_loses_nothing(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    fake.fail_next(yutang_wecom::client::api::PATH_ADD_MSG_TEMPLATE, 45009, 24);
    let m = send(
        &t,
        &t.admin,
        json!({"name": "限流", "text": "风暴中的群发", "audience": {"customer_ids": ids(&customers)}}),
    )
    .await;
    let id = m["id"].as_i64().unwrap();
    t.settle_jobs().await;
    // Throttled: still sending, its continuation waiting for later (not retried at once).
    assert_eq!(message(&t, id).await["status"], "sending");
    let waiting = crate::promotions::scalar(
        &t,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'mass_message_send' AND status = 'queued' \
         AND run_at >= created_at + 5000",
    )
    .await;
    assert_eq!(waiting, 1, "one continuation, at least 5 s later");
    let mut delays = Vec::new();
    for _ in 0..50 {
        if message(&t, id).await["status"] == "sent" {
            break;
        }
        let d = crate::promotions::scalar(
            &t,
            "SELECT COALESCE(MAX(run_at - created_at), 0) FROM jobs \
             WHERE kind = 'mass_message_send' AND status = 'queued'",
        )
        .await;
        delays.push(d);
        t.exec("UPDATE jobs SET run_at = 0 WHERE status = 'queued' AND kind = 'mass_message_send'")
            .await;
        t.settle_jobs().await;
    }
    let v = message(&t, id).await;
    assert_eq!(v["status"], "sent", "{v}");
    assert!(
        delays.len() >= 2 && delays.windows(2).all(|w| w[1] > w[0] || w[1] == 0),
        "each round waits longer: {delays:?}"
    );
    let tasks = v["tasks"].as_array().unwrap();
    assert!(tasks.iter().all(|t| t["state"] == "created"), "{v}");
    assert!(tasks.iter().all(|t| t["last_error"] == ""), "{v}");
    assert_eq!(v["counts"]["failed"], 0, "{v}");
    let made: Vec<_> = fake
        .msg_templates()
        .into_iter()
        .filter(|m| m.text.as_deref() == Some("风暴中的群发"))
        .collect();
    assert_eq!(
        made.len(),
        tasks.len(),
        "one WeCom task per guide, none twice"
    );
    let mut senders: Vec<&str> = made.iter().map(|m| m.creator.as_str()).collect();
    senders.sort_unstable();
    senders.dedup();
    assert_eq!(senders.len(), made.len());
    fake.shutdown().await;
}
