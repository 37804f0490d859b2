//! Scheduled reports (issue #24 item 5) through the HTTP API, on both engines: schedules are
//! created, refused field by field and scoped like the dashboard; a due period is queued once
//! however often the tick runs; the job sends through the fake WeCom once, with the figures
//! and the link, a retry after a failure is sent once, a resend after a lost commit is
//! deduplicated by WeCom, and "send now" queues a period once.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_app::settings::Secret;
use yutang_wecom::fake::{FakeConfig, FakeWecom};

use crate::acquisition::{run_sql, scalar};
use crate::customers::customer_with_phone;
use crate::dashboard::order;
use crate::helpers::{Engine, TestApp, error_of, spawn_with};

both_engines!(
    schedules_are_created_and_refused_by_field,
    store_managers_and_guides_see_only_their_own,
    a_due_period_is_queued_once_and_sent_once,
    a_failed_send_is_retried_and_a_permanent_error_ends_it,
    send_now_is_idempotent,
);

const AGENT: i64 = 1_000_002;
const APP_SECRET: &str = "report-app-secret-0001";
const PUBLIC: &str = "https://scrm.example.com";

/// A server wired to a fake WeCom with a self-built app (AgentId [`AGENT`]) for reports.
async fn with_wecom(e: Engine) -> (TestApp, FakeWecom) {
    let fake = FakeWecom::start(FakeConfig::demo()).await.unwrap();
    fake.add_app(AGENT, APP_SECRET);
    let (corp, secret, base) = (
        fake.corp_id().to_owned(),
        fake.secret().to_owned(),
        fake.base_url().to_owned(),
    );
    let t = spawn_with(e, move |s| {
        s.wecom.corp_id = corp;
        s.wecom.contact_secret = Some(Secret::new(secret));
        s.wecom.api_base = base;
        s.secret_key = Some(Secret::new("ab".repeat(32)));
        s.analytics.follow = false;
        s.webhooks.deliver = false;
        s.h5.public_url = Some(format!("{PUBLIC}/"));
    })
    .await;
    let r = t
        .send_json(
            Method::PUT,
            "/api/v1/wecom/settings",
            &t.admin,
            json!({"app_secrets": [{"agent_id": AGENT.to_string(), "secret": APP_SECRET}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    (t, fake)
}

async fn plain(e: Engine) -> TestApp {
    spawn_with(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
    })
    .await
}

/// A staff member linked to WeCom `userid`.
async fn linked(t: &TestApp, username: &str, role: &str, store: Option<i64>, userid: &str) -> i64 {
    let id = t.staff(username, role, store).await;
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{id}"),
            &t.admin,
            json!({"wecom_userid": userid}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    id
}

/// The audit log's `report_schedule_changed` entries.
async fn schedule_changes(t: &TestApp) -> usize {
    t.audit_actions()
        .await
        .into_iter()
        .filter(|a| a == "report_schedule_changed")
        .count()
}

async fn ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn body(name: &str, recipients: &[i64]) -> Value {
    json!({"name": name, "cadence": "daily", "hour": 9, "recipient_ids": recipients})
}

async fn create(t: &TestApp, token: &str, b: Value) -> Value {
    ok(
        t.post("/api/v1/reports/schedules", token, b).await,
        StatusCode::CREATED,
    )
    .await
}

async fn deliveries(t: &TestApp, schedule: i64) -> Vec<Value> {
    let v = ok(
        t.get(
            &format!("/api/v1/reports/deliveries?schedule_id={schedule}"),
            &t.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    v.as_array().unwrap().clone()
}

/// UTC millis of a Shanghai wall-clock time.
fn shanghai(y: i32, m: u32, d: u32, h: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
        - 8 * 3_600_000
}

/// Run jobs until the delivery of `period` satisfies `done` (the server's own runner may take
/// a job too); panics after 30 s.
async fn wait_for(
    t: &TestApp,
    schedule: i64,
    period: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..600 {
        t.app.drain_jobs().await.unwrap();
        if let Some(d) = deliveries(t, schedule)
            .await
            .into_iter()
            .find(|d| d["period"] == period)
            && done(&d)
        {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("delivery {period} of schedule {schedule} never reached the state");
}

async fn schedules_are_created_and_refused_by_field(e: Engine) {
    let t = plain(e).await;
    let store = t.store("RP-A").await;
    let boss = linked(&t, "rp.boss", "operator", None, "rpboss").await;
    let unlinked = t.staff("rp.nolink", "guide", Some(store)).await;
    let v = create(&t, &t.admin, body("品牌日报", &[boss, boss])).await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["level"], "brand");
    assert_eq!(v["cadence"], "daily");
    assert_eq!(v["hour"], 9);
    assert_eq!(v["lang"], "zh");
    assert_eq!(v["enabled"], true);
    assert_eq!(v["recipients"].as_array().unwrap().len(), 1);
    assert_eq!(v["recipients"][0]["wecom_userid"], "rpboss");
    let list = ok(
        t.get("/api/v1/reports/schedules", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Update: a weekly English report of the store.
    let v = ok(
        t.send_json(
            Method::PUT,
            &format!("/api/v1/reports/schedules/{id}"),
            &t.admin,
            json!({"name": "Store weekly", "cadence": "weekly", "hour": 8, "store_id": store,
                   "recipient_ids": [boss], "lang": "en", "enabled": false}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            &v["level"],
            &v["store_id"],
            &v["cadence"],
            &v["lang"],
            &v["enabled"]
        ),
        (
            &json!("store"),
            &json!(store),
            &json!("weekly"),
            &json!("en"),
            &json!(false)
        )
    );
    assert!(v["next_period"].as_str().unwrap().contains('/'), "{v}");

    // Refused, naming the field.
    let cases = [
        (body("x", &[999_999]), "recipient_ids", "unknown_staff"),
        (body("x", &[unlinked]), "recipient_ids", "no_wecom_userid"),
        (body("x", &[]), "recipient_ids", "no_recipients"),
        (
            json!({"name": "x", "cadence": "daily", "hour": 24, "recipient_ids": [boss]}),
            "hour",
            "invalid_hour",
        ),
        (
            json!({"name": "x", "cadence": "monthly", "hour": 9, "recipient_ids": [boss]}),
            "cadence",
            "invalid_cadence",
        ),
        (
            json!({"name": "x", "cadence": "daily", "hour": 9, "recipient_ids": [boss], "colour": "red"}),
            "colour",
            "unknown_field",
        ),
        (
            json!({"name": "x", "cadence": "daily", "hour": "9", "recipient_ids": [boss]}),
            "hour",
            "invalid_field",
        ),
        (
            json!({"name": "a\u{0007}b", "cadence": "daily", "hour": 9, "recipient_ids": [boss]}),
            "name",
            "invalid_characters",
        ),
        (
            json!({"name": "x", "cadence": "daily", "hour": 9, "recipient_ids": [boss], "lang": "fr"}),
            "lang",
            "invalid_lang",
        ),
        (
            json!({"name": "x", "cadence": "daily", "hour": 9, "recipient_ids": [boss],
                   "store_id": store, "staff_id": unlinked}),
            "staff_id",
            "conflicting_filters",
        ),
    ];
    for (b, field, code) in cases {
        let r = t
            .post("/api/v1/reports/schedules", &t.admin, b.clone())
            .await;
        let (status, got, f) = error_of(r).await;
        assert_eq!(
            (status, got.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field)),
            "{b}"
        );
    }
    // Trailing bytes after the JSON value.
    let r = t
        .req(Method::POST, "/api/v1/reports/schedules", Some(&t.admin))
        .header("content-type", "application/json")
        .body(format!("{} x", body("x", &[boss])))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.1, "malformed_json");
    // A store that does not exist: 404.
    let mut b = body("x", &[boss]);
    b["store_id"] = json!(999_999);
    let r = t.post("/api/v1/reports/schedules", &t.admin, b).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The log needs its schedule.
    let r = t.get("/api/v1/reports/deliveries", &t.admin).await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "required".into(),
            Some("schedule_id".into())
        )
    );
    // Delete: gone from the list and 404 after.
    let r = t
        .send_json(
            Method::DELETE,
            &format!("/api/v1/reports/schedules/{id}"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = t
        .get(&format!("/api/v1/reports/schedules/{id}"), &t.admin)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The audit log: the create, the update and the delete; nothing for the refusals.
    let changes = schedule_changes(&t).await;
    assert_eq!(changes, 3);
}

async fn store_managers_and_guides_see_only_their_own(e: Engine) {
    let t = plain(e).await;
    let (a, b) = (t.store("RP-SA").await, t.store("RP-SB").await);
    let mgr_a = linked(&t, "rp.mgr.a", "store_manager", Some(a), "rpmgra").await;
    let guide_a = linked(&t, "rp.guide.a", "guide", Some(a), "rpguidea").await;
    let guide_b = linked(&t, "rp.guide.b", "guide", Some(b), "rpguideb").await;
    let (m, g) = (t.login("rp.mgr.a").await, t.login("rp.guide.a").await);

    // A store manager's schedule without a scope is their store's.
    let mine = create(&t, &m, body("本店日报", &[mgr_a, guide_a])).await;
    assert_eq!(
        (&mine["level"], &mine["store_id"]),
        (&json!("store"), &json!(a))
    );
    // One of their guides.
    let mut gb = body("导购日报", &[guide_a]);
    gb["staff_id"] = json!(guide_a);
    let v = create(&t, &m, gb).await;
    assert_eq!((&v["level"], &v["store_id"]), (&json!("guide"), &json!(a)));
    // Another store, or its guide: 403; its staff as recipients: unknown to them.
    let mut other = body("x", &[mgr_a]);
    other["store_id"] = json!(b);
    assert_eq!(
        t.post("/api/v1/reports/schedules", &m, other)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let mut other = body("x", &[mgr_a]);
    other["staff_id"] = json!(guide_b);
    assert_eq!(
        t.post("/api/v1/reports/schedules", &m, other)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = t
        .post("/api/v1/reports/schedules", &m, body("x", &[guide_b]))
        .await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_staff".into(),
            Some("recipient_ids".into())
        )
    );
    // HQ's schedule of store B: not in their list, 404 by id.
    let mut hq = body("B 店日报", &[guide_b]);
    hq["store_id"] = json!(b);
    let theirs = create(&t, &t.admin, hq).await["id"].as_i64().unwrap();
    let list = ok(t.get("/api/v1/reports/schedules", &m).await, StatusCode::OK).await;
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&theirs));
    for path in [
        format!("/api/v1/reports/schedules/{theirs}"),
        format!("/api/v1/reports/deliveries?schedule_id={theirs}"),
    ] {
        assert_eq!(
            t.get(&path, &m).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = t
        .post(
            &format!("/api/v1/reports/schedules/{theirs}/send"),
            &m,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A guide may not manage reports at all; the admin sees all three.
    assert_eq!(
        t.get("/api/v1/reports/schedules", &g).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.post("/api/v1/reports/schedules", &g, body("x", &[guide_a]))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let all = ok(
        t.get("/api/v1/reports/schedules", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 3);
}

async fn a_due_period_is_queued_once_and_sent_once(e: Engine) {
    let (t, fake) = with_wecom(e).await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let store = t.store("RP-W").await;
    let recipient = linked(&t, "rp.zw", "store_manager", Some(store), "zhangwei").await;
    let c = customer_with_phone(&t, "13800000101", "甲").await;
    // Two orders on 2026-03-03 (Shanghai), one the day after.
    order(
        &t,
        "RP-1",
        c,
        10_000,
        shanghai(2026, 3, 3, 10),
        Some(store),
        None,
    )
    .await;
    order(
        &t,
        "RP-2",
        c,
        5_000,
        shanghai(2026, 3, 3, 23),
        Some(store),
        None,
    )
    .await;
    order(
        &t,
        "RP-3",
        c,
        7_000,
        shanghai(2026, 3, 4, 0),
        Some(store),
        None,
    )
    .await;
    t.app.analytics().follow().await.unwrap();
    let v = create(&t, &t.admin, body("品牌日报", &[recipient])).await;
    let id = v["id"].as_i64().unwrap();
    let reports = t.app.analytics().reports();

    // Before the hour of 03-04 the 03-03 report is not due; nothing was due before the
    // schedule existed either.
    let before = shanghai(2026, 3, 4, 8);
    assert_eq!(reports.queue_due(before).await.unwrap(), 0);
    run_sql(
        &t,
        &format!("UPDATE report_schedules SET created_at = 0 WHERE id = {id}"),
    )
    .await;
    // Due at 09:00: the tick running twice, and twice at once, queues one delivery.
    let at = shanghai(2026, 3, 4, 9) + 60_000;
    let (x, y) = tokio::join!(reports.queue_due(at), reports.queue_due(at));
    assert_eq!(x.unwrap() + y.unwrap(), 1);
    assert_eq!(reports.queue_due(at).await.unwrap(), 0);
    let rows = scalar(
        &t,
        &format!(
            "SELECT COUNT(*) FROM report_deliveries WHERE schedule_id = {id} \
             AND period = '2026-03-03'"
        ),
    )
    .await;
    assert_eq!(rows, 1);
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'report_send' \
             AND idempotency_key LIKE 'report:%:2026-03-03'"
        )
        .await,
        1
    );

    let d = wait_for(&t, id, "2026-03-03", |d| d["status"] == "sent").await;
    let sent: Vec<_> = fake
        .app_messages()
        .into_iter()
        .filter(|m| m.content.contains("2026-03-03"))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(
        (m.agentid, m.touser.as_slice()),
        (AGENT, &["zhangwei".to_owned()][..])
    );
    assert_eq!(m.dedupe_secs, Some(4 * 3600));
    assert!(
        m.content
            .starts_with("【日报】品牌日报 · 全品牌\n2026-03-03\n"),
        "{}",
        m.content
    );
    assert!(m.content.contains("订单数：2\n"), "{}", m.content);
    assert!(m.content.contains("GMV：¥150.00\n"), "{}", m.content);
    assert!(
        m.content.ends_with(&format!(
            "查看概览：{PUBLIC}/console?from=2026-03-03&to=2026-03-03"
        )),
        "{}",
        m.content
    );
    assert_eq!(d["msgid"], json!(m.msgid));
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["recipients"], json!(["zhangwei"]));
    assert_eq!(d["content"], json!(m.content));

    // The tick again after the send: nothing new.
    assert_eq!(reports.queue_due(at + 3_600_000).await.unwrap(), 0);
    // A crash between WeCom's answer and the commit: the delivery is still pending and its
    // job runs again. The same request goes out, and WeCom's duplicate check drops it.
    run_sql(
        &t,
        &format!(
            "UPDATE report_deliveries SET status = 'pending', msgid = NULL, sent_at = NULL \
             WHERE schedule_id = {id}"
        ),
    )
    .await;
    run_sql(
        &t,
        "UPDATE jobs SET status = 'queued', run_at = 0, locked_until = NULL \
         WHERE kind = 'report_send'",
    )
    .await;
    let again = wait_for(&t, id, "2026-03-03", |d| d["status"] == "sent").await;
    assert_eq!(again["msgid"], json!(m.msgid));
    assert_eq!(again["attempts"], 2);
    assert_eq!(
        fake.app_messages()
            .iter()
            .filter(|m| m.content.contains("2026-03-03"))
            .count(),
        1
    );
    assert_eq!(fake.duplicate_messages(), 1);
    // A weekly schedule covers Monday to Sunday, due on Monday.
    let mut w = body("周报", &[recipient]);
    w["cadence"] = json!("weekly");
    w["store_id"] = json!(store);
    let wid = create(&t, &t.admin, w).await["id"].as_i64().unwrap();
    run_sql(
        &t,
        &format!("UPDATE report_schedules SET created_at = 0 WHERE id = {wid}"),
    )
    .await;
    reports
        .queue_due(shanghai(2026, 3, 9, 9) + 1)
        .await
        .unwrap();
    let d = wait_for(&t, wid, "2026-03-02/2026-03-08", |d| d["status"] == "sent").await;
    let text = d["content"].as_str().unwrap();
    assert!(
        text.starts_with("【周报】周报 · 门店 RP-W\n2026-03-02 ~ 2026-03-08\n"),
        "{text}"
    );
    assert!(
        text.contains("订单数：3\n") && text.contains("GMV：¥220.00"),
        "{text}"
    );
    assert!(text.contains(&format!("&store_id={store}")), "{text}");
}

async fn a_failed_send_is_retried_and_a_permanent_error_ends_it(e: Engine) {
    let (t, fake) = with_wecom(e).await;
    let store = t.store("RP-F").await;
    let ok_staff = linked(&t, "rp.wf", "store_manager", Some(store), "wangfang").await;
    let ghost = linked(&t, "rp.ghost", "guide", Some(store), "ghostuser").await;
    let id = create(&t, &t.admin, body("日报", &[ok_staff])).await["id"]
        .as_i64()
        .unwrap();
    // WeCom unreachable: the first attempt fails and is recorded; the job retries later.
    fake.set_unreachable(true);
    let v = ok(
        t.post(
            &format!("/api/v1/reports/schedules/{id}/send"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let period = v["delivery"]["period"].as_str().unwrap().to_owned();
    let d = wait_for(&t, id, &period, |d| d["attempts"].as_i64() >= Some(1)).await;
    assert_eq!(d["status"], "pending");
    assert!(
        d["last_error"].as_str().unwrap().starts_with("wecom_error"),
        "{d}"
    );
    fake.set_unreachable(false);
    // Past the backoff.
    run_sql(
        &t,
        "UPDATE jobs SET run_at = 0 WHERE kind = 'report_send' AND status = 'queued'",
    )
    .await;
    let d = wait_for(&t, id, &period, |d| d["status"] == "sent").await;
    assert_eq!(d["attempts"], 2);
    assert_eq!(d["last_error"], "");
    assert_eq!(fake.app_messages().len(), 1);
    assert_eq!(fake.app_messages()[0].touser, vec!["wangfang".to_owned()]);

    // Nobody WeCom knows: 81013 ends the delivery at once, after one attempt.
    let lost = create(&t, &t.admin, body("无人接收", &[ghost])).await["id"]
        .as_i64()
        .unwrap();
    let v = ok(
        t.post(
            &format!("/api/v1/reports/schedules/{lost}/send"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let period = v["delivery"]["period"].as_str().unwrap().to_owned();
    let d = wait_for(&t, lost, &period, |d| d["status"] == "failed").await;
    assert_eq!(d["attempts"], 1);
    assert!(d["last_error"].as_str().unwrap().contains("81013"), "{d}");
    assert_eq!(fake.app_messages().len(), 1);
    // Send now queues a failed period again (same delivery, no second row).
    let v = ok(
        t.post(
            &format!("/api/v1/reports/schedules/{lost}/send"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(v["delivery"]["id"], d["id"]);
    assert_eq!(deliveries(&t, lost).await.len(), 1);
}

async fn send_now_is_idempotent(e: Engine) {
    let (t, fake) = with_wecom(e).await;
    let store = t.store("RP-N").await;
    let r1 = linked(&t, "rp.ln", "store_manager", Some(store), "lina").await;
    let r2 = linked(&t, "rp.ly", "guide", Some(store), "liuyang").await;
    let id = create(&t, &t.admin, body("立即发送", &[r1, r2])).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/reports/schedules/{id}/send");
    // Three at once: one queues it.
    let (a, b, c) = tokio::join!(
        t.post(&path, &t.admin, json!({})),
        t.post(&path, &t.admin, json!({})),
        t.post(&path, &t.admin, json!({})),
    );
    let statuses = [a.status(), b.status(), c.status()];
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::ACCEPTED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| s.is_success()), "{statuses:?}");
    let list = deliveries(&t, id).await;
    assert_eq!(list.len(), 1);
    let period = list[0]["period"].as_str().unwrap().to_owned();
    // Audited: the create and the one send that queued.
    let changes = schedule_changes(&t).await;
    assert_eq!(changes, 2);
    wait_for(&t, id, &period, |d| d["status"] == "sent").await;
    // Once sent, asking again answers the same delivery and sends nothing.
    let v = ok(t.post(&path, &t.admin, json!({})).await, StatusCode::OK).await;
    assert_eq!(
        (v["queued"].as_bool(), &v["delivery"]["status"]),
        (Some(false), &json!("sent"))
    );
    t.settle_jobs().await;
    let sent = fake.app_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].touser_raw, "lina|liuyang");
}
