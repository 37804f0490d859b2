//! The journey engine (issue #21 item 5) through the HTTP API and the engine's tick, on both
//! engines: an event journey walks a customer through a tag, a coupon, a guide task, a
//! notification, a message (as a mass message), a wait and a webhook signal, each traced
//! once; two engines racing repeat nothing; schedule, birthday and segment-enter triggers
//! enrol the right customers; versions keep runs on theirs; an archived coupon template
//! pauses the journey with a reason; quiet hours hold a message; bad input is refused by
//! field and creates nothing; a group schedule (群 SOP) posts each occurrence once, as a group
//! mass message or as a task per group owner, and the calendar shows its week.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, error_of};
use crate::mass_messages::synced;
use crate::promotions::{scalar, template};

both_engines!(
    an_event_journey_walks_every_step_once,
    racing_engines_repeat_nothing,
    schedule_birthday_and_segment_triggers_enrol_the_right_customers,
    versions_pause_and_a_missing_reference,
    quiet_hours_hold_a_message,
    bad_input_is_refused_by_field_and_creates_nothing,
    guides_cannot_see_journeys_and_managers_only_read,
    a_group_schedule_posts_each_occurrence_once,
    group_schedules_refuse_bad_input_by_field,
);

const AGENT: i64 = 1_000_021;
const APP_SECRET: &str = "journey-app-secret-0001";
const HOUR: i64 = 3_600_000;

async fn ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn q(t: &TestApp, sql: String) -> i64 {
    scalar(t, Box::leak(sql.into_boxed_str())).await
}

async fn create(t: &TestApp, body: Value) -> i64 {
    ok(
        t.post("/api/v1/journeys", &t.admin, body).await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

async fn activate(t: &TestApp, id: i64) -> Value {
    ok(
        t.post(
            &format!("/api/v1/journeys/{id}/activate"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await
}

async fn journey(t: &TestApp, id: i64) -> Value {
    ok(
        t.get(&format!("/api/v1/journeys/{id}"), &t.admin).await,
        StatusCode::OK,
    )
    .await
}

async fn trace(t: &TestApp, id: i64, customer: i64) -> Value {
    ok(
        t.get(
            &format!("/api/v1/journeys/{id}/trace?customer_id={customer}"),
            &t.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await
}

/// The trace of a customer's latest run as `kind:outcome` lines.
async fn lines(t: &TestApp, id: i64, customer: i64) -> Vec<String> {
    let v = trace(t, id, customer).await;
    v[0]["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}:{}",
                l["kind"].as_str().unwrap(),
                l["outcome"].as_str().unwrap()
            )
        })
        .collect()
}

async fn event(t: &TestApp, id: &str, kind: &str, customer: i64) {
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [{"id": id, "kind": kind, "customer_id": customer}]}),
        )
        .await;
    ok(r, StatusCode::OK).await;
}

/// Each body is refused with a 422 naming `code` and `field`.
async fn refused(t: &TestApp, cases: Vec<(Value, &str, &str)>) {
    for (body, code, field) in cases {
        let r = t.post("/api/v1/journeys", &t.admin, body.clone()).await;
        let (s, c, f) = error_of(r).await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field)),
            "{body}"
        );
    }
}

async fn tick(t: &TestApp) -> Value {
    serde_json::to_value(t.app.journeys().tick().await.unwrap()).unwrap()
}

async fn tick_at(t: &TestApp, now: i64) -> Value {
    serde_json::to_value(t.app.journeys().tick_at(now).await.unwrap()).unwrap()
}

async fn any_tag(t: &TestApp) -> i64 {
    scalar(t, "SELECT MIN(id) FROM tags").await
}

async fn coupon(t: &TestApp) -> i64 {
    ok(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 5))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

async fn with_app(t: &TestApp, fake: &yutang_wecom::fake::FakeWecom) {
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
}

fn full_steps(tag: i64, template: i64) -> Value {
    json!([
        {"kind": "tag", "tag_id": tag},
        {"kind": "coupon", "template_id": template},
        {"kind": "task", "title": "新客回访", "body": "问问口味偏好", "due_hours": 24},
        {"kind": "notify", "text": "新客到店，记得回访"},
        {"kind": "message", "text": "欢迎加入鱼塘会员"},
        {"kind": "wait", "seconds": 3600},
        {"kind": "webhook", "signal": "new_member"}
    ])
}

async fn an_event_journey_walks_every_step_once(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    with_app(&t, &fake).await;
    let tag = any_tag(&t).await;
    let template = coupon(&t).await;
    let id = create(
        &t,
        json!({"name": "新客欢迎", "trigger": {"kind": "event", "event": "check_in"},
            "steps": full_steps(tag, template), "entry": {"rule": "once"}, "quiet_hours": null}),
    )
    .await;
    // A draft enrols nobody.
    let c = customers["wmDemoCustomer0005"];
    event(&t, "j-ev-0", "check_in", c).await;
    tick(&t).await;
    assert_eq!(journey(&t, id).await["runs"]["active"], 0);
    let v = activate(&t, id).await;
    assert_eq!(v["status"], "active");
    event(&t, "j-ev-1", "check_in", c).await;
    let r = tick(&t).await;
    assert_eq!(r["enrolled"], 1, "{r}");
    assert_eq!(
        lines(&t, id, c).await,
        [
            "entry:entered",
            "tag:done",
            "coupon:done",
            "task:done",
            "notify:done",
            "message:queued",
            "message:sent",
            "wait:waiting"
        ]
    );
    // Each effect happened once.
    assert_eq!(
        q(
            &t,
            format!(
                "SELECT COUNT(*) FROM customer_tags WHERE customer_id = {c} AND tag_id = {tag}"
            )
        )
        .await,
        1
    );
    assert_eq!(
        q(&t, format!("SELECT COUNT(*) FROM coupon_claims WHERE customer_id = {c} AND template_id = {template}")).await,
        1
    );
    assert_eq!(
        q(
            &t,
            format!(
                "SELECT COUNT(*) FROM guide_tasks WHERE customer_id = {c} AND source = 'journey'"
            )
        )
        .await,
        1
    );
    let mm = q(
        &t,
        "SELECT COUNT(*) FROM mass_messages WHERE name LIKE '旅程%'".into(),
    )
    .await;
    assert_eq!(mm, 1);
    t.settle_jobs().await;
    let notes: Vec<_> = fake
        .app_messages()
        .into_iter()
        .filter(|m| m.content.contains("记得回访"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    // A second check-in does not enter again (once ever); nothing moves before the wait ends.
    event(&t, "j-ev-2", "check_in", c).await;
    let r = tick(&t).await;
    assert_eq!(
        (r["enrolled"].as_u64(), r["steps"].as_u64()),
        (Some(0), Some(0)),
        "{r}"
    );
    // After the wait: the webhook signal lands on the timeline, and the run ends.
    let r = tick_at(&t, t.app.now() + HOUR + 1000).await;
    assert_eq!(r["steps"], 1, "{r}");
    let l = lines(&t, id, c).await;
    assert_eq!(&l[8..], ["webhook:done", "end:done"]);
    assert_eq!(
        q(
            &t,
            format!(
                "SELECT COUNT(*) FROM events WHERE customer_id = {c} AND kind = 'journey_signal'"
            )
        )
        .await,
        1
    );
    let j = journey(&t, id).await;
    assert_eq!(j["runs"]["done"], 1, "{j}");
    assert_eq!(j["step_counts"][0]["outcomes"]["done"], 1, "{j}");
    assert_eq!(j["step_counts"][5]["outcomes"]["waiting"], 1, "{j}");
    // The run's message went out as a mass message with that customer as its audience.
    let t2 = trace(&t, id, c).await;
    let sent = t2[0]["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["outcome"] == "sent")
        .unwrap()["detail"]["mass_message_id"]
        .as_i64()
        .unwrap();
    let m = ok(
        t.get(&format!("/api/v1/mass-messages/{sent}"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(m["audience"]["customer_ids"], json!([c]), "{m}");
}

async fn racing_engines_repeat_nothing(e: Engine) {
    let (t, _fake, _, customers) = synced(e).await;
    let tag = any_tag(&t).await;
    let template = coupon(&t).await;
    let id = create(
        &t,
        json!({"name": "并发", "trigger": {"kind": "event", "event": "share"},
            "steps": full_steps(tag, template), "entry": {"rule": "reentry"}, "quiet_hours": null}),
    )
    .await;
    activate(&t, id).await;
    let picked: Vec<i64> = customers.values().copied().take(12).collect();
    for (i, c) in picked.iter().enumerate() {
        event(&t, &format!("race-{i}"), "share", *c).await;
    }
    // Four engines at once (on PostgreSQL truly concurrent; SQLite serialises them).
    let (j1, j2, j3, j4) = (
        t.app.journeys(),
        t.app.journeys(),
        t.app.journeys(),
        t.app.journeys(),
    );
    let (a, b, c2, d) = tokio::join!(j1.tick(), j2.tick(), j3.tick(), j4.tick());
    for r in [a, b, c2, d] {
        r.unwrap();
    }
    tick(&t).await;
    for c in &picked {
        assert_eq!(
            q(&t, format!("SELECT COUNT(*) FROM journey_runs WHERE journey_id = {id} AND customer_id = {c}")).await,
            1
        );
        assert_eq!(
            lines(&t, id, *c).await.len(),
            8,
            "customer {c}: {:?}",
            lines(&t, id, *c).await
        );
        assert_eq!(
            q(&t, format!("SELECT COUNT(*) FROM coupon_claims WHERE customer_id = {c} AND template_id = {template}")).await,
            1
        );
        assert_eq!(
            q(&t, format!("SELECT COUNT(*) FROM guide_tasks WHERE customer_id = {c} AND source = 'journey'")).await,
            1
        );
    }
    // Every message went out exactly once, in as few mass messages as the batches made.
    let recipients = q(
        &t,
        "SELECT COUNT(*) FROM journey_trace WHERE outcome = 'sent'".into(),
    )
    .await;
    assert_eq!(recipients, 12);
}

async fn schedule_birthday_and_segment_triggers_enrol_the_right_customers(e: Engine) {
    let (t, _fake, _, customers) = synced(e).await;
    let tag = crate::mass_messages::tag(&t, "旅程").await;
    let ids: Vec<i64> = customers.values().copied().collect();
    let (a, b) = (ids[0], ids[1]);
    // Schedule: every day of the week at 10:00, for the customers carrying the tag.
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/tags"),
            &t.admin,
            json!({"add": [tag], "remove": []}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let sched = create(
        &t,
        json!({"name": "周二会员日", "trigger": {"kind": "schedule", "weekdays": [1,2,3,4,5,6,7],
            "time": "10:00", "audience": format!("tag({tag})")},
            "steps": [{"kind": "webhook", "signal": "member_day"}], "entry": {"rule": "reentry"}}),
    )
    .await;
    let v = activate(&t, sched).await;
    let at = yutang_core::time::Millis::parse_rfc3339("t", v["next_fire_at"].as_str().unwrap())
        .unwrap()
        .0;
    assert!(at > t.app.now());
    tick_at(&t, at - 1000).await;
    assert_eq!(journey(&t, sched).await["runs"]["done"], 0);
    tick_at(&t, at).await;
    let j = journey(&t, sched).await;
    assert_eq!(j["runs"]["done"], 1, "{j}");
    assert_eq!(
        trace(&t, sched, a).await[0]["cause"],
        format!("schedule:{at}")
    );
    // The same occurrence does not fire twice; the next one is a day later.
    tick_at(&t, at + 1000).await;
    assert_eq!(journey(&t, sched).await["runs"]["done"], 1);
    let next = yutang_core::time::Millis::parse_rfc3339(
        "t",
        journey(&t, sched).await["next_fire_at"].as_str().unwrap(),
    )
    .unwrap()
    .0;
    assert_eq!(next, at + 24 * HOUR);

    // Birthday at 09:00: the customer born on the day of the occurrence (any year).
    let bday = create(
        &t,
        json!({"name": "生日礼", "trigger": {"kind": "date", "attribute": "birthday", "time": "09:00"},
            "steps": [{"kind": "webhook", "signal": "birthday"}], "entry": {"rule": "cooldown", "days": 300}}),
    )
    .await;
    let v = activate(&t, bday).await;
    let at = yutang_core::time::Millis::parse_rfc3339("t", v["next_fire_at"].as_str().unwrap())
        .unwrap()
        .0;
    let day = yutang_core::messaging::shanghai_day(at);
    let (_, m, d) = yutang_core::messaging::civil_from_days(day);
    let sql = format!("UPDATE customers SET birthday = '1990-{m:02}-{d:02}' WHERE id = {b}");
    t.exec(Box::leak(sql.into_boxed_str())).await;
    let sql = format!(
        "UPDATE customers SET birthday = '1990-{m:02}-{:02}' WHERE id = {a}",
        if d == 1 { 2 } else { d - 1 }
    );
    t.exec(Box::leak(sql.into_boxed_str())).await;
    tick_at(&t, at).await;
    assert_eq!(trace(&t, bday, b).await.as_array().unwrap().len(), 1);
    assert_eq!(trace(&t, bday, a).await.as_array().unwrap().len(), 0);

    // Segment enter: the first look remembers who is inside; who comes in later enters.
    let enter = create(
        &t,
        json!({"name": "打标即欢迎", "trigger": {"kind": "segment_enter", "expression": format!("tag({tag})")},
            "steps": [{"kind": "webhook", "signal": "entered"}], "entry": {"rule": "once"}}),
    )
    .await;
    activate(&t, enter).await;
    let now = t.app.now();
    tick_at(&t, now).await;
    assert_eq!(journey(&t, enter).await["runs"]["done"], 0);
    let r = t
        .post(
            &format!("/api/v1/customers/{b}/tags"),
            &t.admin,
            json!({"add": [tag], "remove": []}),
        )
        .await;
    assert!(r.status().is_success());
    tick_at(&t, now + 61_000).await;
    let j = journey(&t, enter).await;
    assert_eq!(j["runs"]["done"], 1, "{j}");
    assert_eq!(trace(&t, enter, b).await.as_array().unwrap().len(), 1);
    assert_eq!(trace(&t, enter, a).await.as_array().unwrap().len(), 0);
}

async fn versions_pause_and_a_missing_reference(e: Engine) {
    let (t, _fake, _, customers) = synced(e).await;
    let template = coupon(&t).await;
    let body = |text: &str| {
        json!({"name": "复购提醒", "trigger": {"kind": "event", "event": "order_paid"},
            "steps": [{"kind": "wait", "seconds": 60}, {"kind": "coupon", "template_id": template},
                {"kind": "webhook", "signal": text}],
            "entry": {"rule": "reentry"}})
    };
    let id = create(&t, body("v_one")).await;
    activate(&t, id).await;
    let ids: Vec<i64> = customers.values().copied().collect();
    let (a, b) = (ids[2], ids[3]);
    event(&t, "v-1", "order_paid", a).await;
    tick(&t).await;
    // Version 2: a's run stays on version 1, b enters on 2.
    let v = ok(
        t.send_json(
            Method::PUT,
            &format!("/api/v1/journeys/{id}"),
            &t.admin,
            body("v_two"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["version"], 2);
    assert_eq!(v["versions"].as_array().unwrap().len(), 2);
    event(&t, "v-2", "order_paid", b).await;
    tick(&t).await;
    assert_eq!(trace(&t, id, a).await[0]["version"], 1);
    assert_eq!(trace(&t, id, b).await[0]["version"], 2);
    // Paused: nobody moves, nobody enters.
    ok(
        t.post(&format!("/api/v1/journeys/{id}/pause"), &t.admin, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let later = t.app.now() + 120_000;
    let r = tick_at(&t, later).await;
    assert_eq!(r["steps"], 0, "{r}");
    // The template is archived meanwhile: resuming is refused by field…
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/coupon-templates/{template}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = t
        .post(
            &format!("/api/v1/journeys/{id}/activate"),
            &t.admin,
            json!({}),
        )
        .await;
    let (s, code, field) = error_of(r).await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_template",
            Some("steps")
        )
    );
    // …and a journey that meets it while running pauses with the reason (forced active here,
    // as if the template were archived after it started).
    let sql = format!("UPDATE journeys SET status = 'active' WHERE id = {id}");
    t.exec(Box::leak(sql.into_boxed_str())).await;
    tick_at(&t, later).await;
    let j = journey(&t, id).await;
    assert_eq!(j["status"], "paused", "{j}");
    assert!(
        j["paused_reason"]
            .as_str()
            .unwrap()
            .contains(&template.to_string()),
        "{j}"
    );
    assert_eq!(j["runs"]["active"], 2, "{j}");
    assert!(lines(&t, id, a).await.contains(&"coupon:paused".to_owned()));
    // Archive: the runs in flight exit.
    let j = ok(
        t.post(
            &format!("/api/v1/journeys/{id}/archive"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (j["runs"]["active"].as_i64(), j["runs"]["exited"].as_i64()),
        (Some(0), Some(2)),
        "{j}"
    );
    let r = t
        .send_json(
            Method::PUT,
            &format!("/api/v1/journeys/{id}"),
            &t.admin,
            body("v_three"),
        )
        .await;
    assert_eq!(error_of(r).await.1, "journey_state");
}

async fn quiet_hours_hold_a_message(e: Engine) {
    let (t, _fake, _, customers) = synced(e).await;
    let id = create(
        &t,
        json!({"name": "晚间", "trigger": {"kind": "event", "event": "search"},
            "steps": [{"kind": "message", "text": "晚上好"}], "entry": {"rule": "once"},
            "quiet_hours": {"start": "22:00", "end": "08:00"}}),
    )
    .await;
    activate(&t, id).await;
    let c = customers["wmDemoCustomer0009"];
    event(&t, "q-1", "search", c).await;
    // 23:00 Shanghai on the next day: held until 08:00.
    let now = t.app.now();
    let day = yutang_core::messaging::shanghai_day(now) + 1;
    let eleven = yutang_core::messaging::day_start(day) + 23 * HOUR;
    tick_at(&t, eleven).await;
    let v = trace(&t, id, c).await;
    assert_eq!(v[0]["state"], "active");
    let until = yutang_core::time::Millis::parse_rfc3339("t", v[0]["due_at"].as_str().unwrap())
        .unwrap()
        .0;
    assert_eq!(until, yutang_core::messaging::day_start(day + 1) + 8 * HOUR);
    assert_eq!(lines(&t, id, c).await, ["entry:entered", "message:quiet"]);
    tick_at(&t, until).await;
    assert_eq!(
        lines(&t, id, c).await,
        [
            "entry:entered",
            "message:quiet",
            "message:queued",
            "message:sent",
            "end:done"
        ]
    );
}

async fn bad_input_is_refused_by_field_and_creates_nothing(e: Engine) {
    let t = crate::helpers::spawn_app(e).await;
    let ok_trigger = json!({"kind": "event", "event": "add_friend"});
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"name": "", "trigger": ok_trigger, "steps": [{"kind": "wait", "seconds": 60}], "entry": {"rule": "once"}}),
            "invalid_name",
            "name",
        ),
        (
            json!({"name": "a\u{7}b", "trigger": ok_trigger, "steps": [{"kind": "wait", "seconds": 60}], "entry": {"rule": "once"}}),
            "invalid_characters",
            "name",
        ),
        (
            json!({"name": "x", "trigger": ok_trigger, "steps": [], "entry": {"rule": "once"}}),
            "invalid_journey_steps",
            "steps",
        ),
        (
            json!({"name": "x", "trigger": ok_trigger, "steps": [{"kind": "wait", "seconds": 0}, {"kind": "goto", "step": 0}], "entry": {"rule": "once"}}),
            "invalid_wait",
            "steps",
        ),
        (
            json!({"name": "x", "trigger": ok_trigger, "steps": [{"kind": "webhook", "signal": "a"}, {"kind": "goto", "step": 0}], "entry": {"rule": "once"}}),
            "journey_cycle",
            "steps",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "event", "event": "nope"}, "steps": [{"kind": "wait", "seconds": 60}], "entry": {"rule": "once"}}),
            "unknown_event_kind",
            "trigger",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "schedule", "at": 1000, "audience": "in_group"}, "steps": [{"kind": "wait", "seconds": 60}], "entry": {"rule": "once"}}),
            "schedule_past",
            "trigger",
        ),
        (
            json!({"name": "x", "trigger": ok_trigger, "steps": [{"kind": "tag", "tag_id": 999_999}], "entry": {"rule": "once"}}),
            "unknown_tag",
            "steps",
        ),
        (
            json!({"name": "x", "trigger": ok_trigger, "steps": [{"kind": "coupon", "template_id": 999_999}], "entry": {"rule": "once"}}),
            "unknown_template",
            "steps",
        ),
        (
            json!({"name": "x", "trigger": ok_trigger, "steps": [{"kind": "branch", "expression": "no_such_field > 1", "else_step": 1}], "entry": {"rule": "once"}}),
            "invalid_expression",
            "steps",
        ),
        (
            json!({"name": "x", "trigger": ok_trigger, "steps": [{"kind": "wait", "seconds": 60}], "entry": {"rule": "cooldown", "days": 0}}),
            "invalid_cooldown",
            "entry",
        ),
        (
            json!({"name": "x", "trigger": ok_trigger, "steps": [{"kind": "wait", "seconds": 60}], "entry": {"rule": "once"}, "quiet_hours": {"start": "08:00", "end": "08:00"}}),
            "invalid_quiet_hours",
            "quiet_hours",
        ),
    ];
    refused(&t, cases).await;
    // Unknown keys anywhere are refused.
    let r = t
        .post(
            "/api/v1/journeys",
            &t.admin,
            json!({"name": "x", "trigger": ok_trigger, "steps": [{"kind": "wait", "seconds": 60, "x": 1}], "entry": {"rule": "once"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let list = ok(t.get("/api/v1/journeys", &t.admin).await, StatusCode::OK).await;
    assert_eq!(list, json!([]));
    let r = t
        .post("/api/v1/journeys/999/activate", &t.admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn guides_cannot_see_journeys_and_managers_only_read(e: Engine) {
    let t = crate::helpers::spawn_app(e).await;
    let store = t.store("J-1").await;
    t.staff("j.guide", "guide", Some(store)).await;
    t.staff("j.manager", "store_manager", Some(store)).await;
    t.staff("j.analyst", "analyst", None).await;
    let id = create(
        &t,
        json!({"name": "x", "trigger": {"kind": "event", "event": "add_friend"},
            "steps": [{"kind": "wait", "seconds": 60}], "entry": {"rule": "once"}}),
    )
    .await;
    let mut seen = BTreeMap::new();
    for who in ["j.guide", "j.manager", "j.analyst"] {
        let tok = t.login(who).await;
        let read = t
            .get(&format!("/api/v1/journeys/{id}"), &tok)
            .await
            .status();
        let write = t
            .post(&format!("/api/v1/journeys/{id}/activate"), &tok, json!({}))
            .await
            .status();
        seen.insert(who, (read, write));
    }
    assert_eq!(
        seen["j.guide"],
        (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN)
    );
    assert_eq!(seen["j.manager"], (StatusCode::OK, StatusCode::FORBIDDEN));
    assert_eq!(seen["j.analyst"], (StatusCode::OK, StatusCode::FORBIDDEN));
}

fn millis(v: &Value) -> i64 {
    yutang_core::time::Millis::parse_rfc3339("t", v.as_str().unwrap())
        .unwrap()
        .0
}

/// The `YYYY-MM-DD` (Asia/Shanghai) of an instant.
fn shanghai_date(ms: i64) -> String {
    yutang_core::journeys::day_text(yutang_core::messaging::shanghai_day(ms))
}

/// A group schedule (群 SOP, issue #21 items 5 and 7): each occurrence posts once — as one
/// group mass message through the owners, or as one guide task per group owner — however
/// many engines tick at once, and the calendar's week shows the schedule with its posts.
async fn a_group_schedule_posts_each_occurrence_once(e: Engine) {
    let (t, fake, _, _) = synced(e).await;
    let gid = |chat: &'static str| {
        let t = &t;
        async move {
            scalar(
                t,
                Box::leak(
                    format!("SELECT id FROM customer_groups WHERE chat_id = '{chat}'")
                        .into_boxed_str(),
                ),
            )
            .await
        }
    };
    let (g1, g2) = (gid("wrDemoGroup0001").await, gid("wrDemoGroup0002").await);
    let morning = create(
        &t,
        json!({"name": "早安上新", "trigger": {"kind": "group_schedule", "weekdays": [1,2,3,4,5,6,7],
            "time": "09:00", "group_ids": [g2, g1, g1]},
            "steps": [{"kind": "group_message", "text": "早上好，今日鲜果到店", "delivery": "mass_message"}],
            "entry": {"rule": "reentry"}, "quiet_hours": {"start": "22:00", "end": "08:00"}}),
    )
    .await;
    let v = activate(&t, morning).await;
    assert_eq!(v["trigger"]["group_ids"], json!([g1, g2]), "{v}");
    let at = millis(&v["next_fire_at"]);
    let night = create(
        &t,
        json!({"name": "晚安", "trigger": {"kind": "group_schedule", "weekdays": [1,2,3,4,5,6,7],
            "time": "21:00", "all_groups": true},
            "steps": [{"kind": "group_message", "text": "晚安，明天见", "delivery": "owner_task"}],
            "entry": {"rule": "reentry"}}),
    )
    .await;
    let v = activate(&t, night).await;
    let night_at = millis(&v["next_fire_at"]);

    // Before the first occurrence nothing is posted (which comes first depends on the hour the
    // test runs at).
    tick_at(&t, at.min(night_at) - 1000).await;
    assert_eq!(
        q(&t, "SELECT COUNT(*) FROM journey_group_sends".into()).await,
        0
    );
    // Four engines at the occurrence: one post.
    let (j1, j2, j3, j4) = (
        t.app.journeys(),
        t.app.journeys(),
        t.app.journeys(),
        t.app.journeys(),
    );
    let (a, b, c, d) = tokio::join!(
        j1.tick_at(at),
        j2.tick_at(at),
        j3.tick_at(at),
        j4.tick_at(at)
    );
    for r in [a, b, c, d] {
        r.unwrap();
    }
    tick_at(&t, at + 1000).await;
    let j = journey(&t, morning).await;
    let sends = j["group_sends"].as_array().unwrap();
    assert_eq!(sends.len(), 1, "{j}");
    assert_eq!(sends[0]["delivery"], "mass_message");
    assert_eq!(millis(&sends[0]["occurrence_at"]), at);
    assert_eq!(sends[0]["groups"], 2, "{j}");
    assert_eq!(millis(&j["next_fire_at"]), at + 24 * HOUR);
    let message = sends[0]["message_id"].as_i64().unwrap();
    assert_eq!(
        q(&t, "SELECT COUNT(*) FROM mass_messages".into()).await,
        1,
        "one group mass message"
    );
    // It goes out as any group message does: one chat_type group task per owner.
    t.settle_jobs().await;
    let m = ok(
        t.get(&format!("/api/v1/mass-messages/{message}"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(m["audience"]["kind"], "groups", "{m}");
    assert_eq!(m["counts"]["task_created"], 2, "{m}");
    let groups = fake
        .msg_templates()
        .into_iter()
        .filter(|m| m.chat_type == "group")
        .count();
    assert_eq!(groups, 2);

    // The evening post is a task for each owner (three synced groups, three owners), once.
    tick_at(&t, night_at).await;
    tick_at(&t, night_at + 1000).await;
    let src =
        format!("SELECT COUNT(*) FROM guide_tasks WHERE source_ref = 'journey:{night}:group'");
    assert_eq!(q(&t, src.clone()).await, 3);
    let j = journey(&t, night).await;
    assert_eq!(j["group_sends"][0]["tasks"], 3, "{j}");
    assert_eq!(j["group_sends"][0]["delivery"], "owner_task");
    let body: String = {
        let sql =
            format!("SELECT MIN(body) FROM guide_tasks WHERE source_ref = 'journey:{night}:group'");
        match &t.app.db {
            yutang_store::Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .fetch_one(p)
                .await
                .unwrap(),
            yutang_store::Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(p)
                .await
                .unwrap(),
        }
    };
    assert!(body.starts_with("晚安，明天见"), "{body}");
    // No more mass messages: owner tasks count against no receipt cap.
    assert_eq!(q(&t, "SELECT COUNT(*) FROM mass_messages".into()).await, 1);

    // The calendar's week: both schedules every day, the fired ones with their posts.
    let week = shanghai_date(at);
    let cal = ok(
        t.get(&format!("/api/v1/journeys/calendar?week={week}"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    let days = cal["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[0]["weekday"], 1);
    let day = days.iter().find(|d| d["date"] == week).unwrap();
    let entries = day["entries"].as_array().unwrap();
    let of = |id: i64| entries.iter().find(|x| x["journey_id"] == id).unwrap();
    assert_eq!(of(morning)["time"], "09:00");
    assert_eq!(of(morning)["trigger_kind"], "group_schedule");
    assert_eq!(of(morning)["sent"]["message_id"], message);
    assert_eq!(of(morning)["preview"], "早上好，今日鲜果到店");
    assert_eq!(of(night)["time"], "21:00");
    assert_eq!(of(night)["delivery"], "owner_task");
    for d in days {
        assert_eq!(d["entries"].as_array().unwrap().len(), 2, "{d}");
    }
    let next = ok(
        t.get(
            &format!(
                "/api/v1/journeys/calendar?week={}",
                cal["next_week"].as_str().unwrap()
            ),
            &t.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(next["days"][0]["entries"][0]["sent"].is_null(), "{next}");
    let (s, code, field) = error_of(
        t.get("/api/v1/journeys/calendar?week=2026-02-30", &t.admin)
            .await,
    )
    .await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date",
            Some("week")
        )
    );
    // A paused schedule posts nothing; its entries stay on the calendar.
    ok(
        t.post(
            &format!("/api/v1/journeys/{morning}/pause"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    tick_at(&t, at + 24 * HOUR).await;
    assert_eq!(
        q(
            &t,
            format!("SELECT COUNT(*) FROM journey_group_sends WHERE journey_id = {morning}")
        )
        .await,
        1
    );
}

async fn group_schedules_refuse_bad_input_by_field(e: Engine) {
    let (t, _fake, _, _) = synced(e).await;
    let g1 = scalar(&t, "SELECT MIN(id) FROM customer_groups").await;
    let msg = json!({"kind": "group_message", "text": "早安", "delivery": "mass_message"});
    let daily = |extra: Value| {
        let mut trig = json!({"kind": "group_schedule", "weekdays": [1], "time": "09:00"});
        for (k, v) in extra.as_object().unwrap() {
            trig[k] = v.clone();
        }
        trig
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        // 22:30 falls in the quiet hours.
        (
            json!({"name": "x", "trigger": daily(json!({"time": "22:30", "group_ids": [g1]})), "steps": [msg.clone()],
                "entry": {"rule": "once"}, "quiet_hours": {"start": "22:00", "end": "08:00"}}),
            "invalid_schedule",
            "trigger",
        ),
        (
            json!({"name": "x", "trigger": daily(json!({"group_ids": [9_999_999]})), "steps": [msg.clone()], "entry": {"rule": "once"}}),
            "unknown_group",
            "trigger",
        ),
        (
            json!({"name": "x", "trigger": daily(json!({})), "steps": [msg.clone()], "entry": {"rule": "once"}}),
            "invalid_audience",
            "trigger",
        ),
        (
            json!({"name": "x", "trigger": daily(json!({"all_groups": true})), "steps": [msg.clone(), {"kind": "wait", "seconds": 60}], "entry": {"rule": "once"}}),
            "invalid_journey_steps",
            "steps",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "event", "event": "add_friend"}, "steps": [msg.clone()], "entry": {"rule": "once"}}),
            "invalid_step",
            "steps",
        ),
        (
            json!({"name": "x", "trigger": daily(json!({"all_groups": true})), "steps": [{"kind": "group_message", "text": " ", "delivery": "owner_task"}], "entry": {"rule": "once"}}),
            "invalid_step",
            "steps",
        ),
        (
            json!({"name": "x", "trigger": daily(json!({"all_groups": true})), "steps": [{"kind": "group_message", "text": "a", "delivery": "mass_message", "material_id": 1}], "entry": {"rule": "once"}}),
            "invalid_step",
            "steps",
        ),
        (
            json!({"name": "x", "trigger": daily(json!({"all_groups": true, "weekdays": [9]})), "steps": [msg.clone()], "entry": {"rule": "once"}}),
            "invalid_weekdays",
            "trigger",
        ),
    ];
    refused(&t, cases).await;
    // An unknown delivery, or an unknown key, is refused too.
    for bad in [
        json!({"kind": "group_message", "text": "a", "delivery": "carrier_pigeon"}),
        json!({"kind": "group_message", "text": "a", "delivery": "owner_task", "x": 1}),
    ] {
        let r = t
            .post(
                "/api/v1/journeys",
                &t.admin,
                json!({"name": "x", "trigger": daily(json!({"all_groups": true})), "steps": [bad], "entry": {"rule": "once"}}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(q(&t, "SELECT COUNT(*) FROM journeys".into()).await, 0);
}
