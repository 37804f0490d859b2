//! The guide task inbox (导购待办, issue #21 item 6) through the HTTP API, on both engines:
//! headquarters and store managers set tasks (a manager only for their store's guides); a
//! guide lists and reads only their own, a store manager their store's; a task is done or
//! skipped once (a second closing is 409 `task_closed`, also when eight race); bad input is
//! refused by field and creates nothing; a due task reminds its guide through one WeCom app
//! message, a replayed reminder sends nothing, the next comes 24 hours later and none once the
//! task is closed; the figures per guide and per store add up.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_core::time::Millis;

use crate::helpers::{Engine, TestApp, error_of};
use crate::mass_messages::synced;
use crate::promotions::scalar;

both_engines!(
    tasks_are_set_listed_and_read_within_scope,
    tasks_are_done_or_skipped_once_and_counted,
    bad_input_is_refused_by_field_and_creates_nothing,
    a_due_task_reminds_its_guide_once_per_reminder,
    eight_closings_at_once_apply_once,
);

const AGENT: i64 = 1_000_021;
const APP_SECRET: &str = "guide-task-app-secret-01";
const HOUR: i64 = 3_600_000;

async fn ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn sql(t: &TestApp, sql: String) -> i64 {
    scalar(t, Box::leak(sql.into_boxed_str())).await
}

async fn staff_of(t: &TestApp, userid: &str) -> i64 {
    sql(
        t,
        format!("SELECT id FROM staff WHERE wecom_userid = '{userid}'"),
    )
    .await
}

fn at(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

fn in_hours(t: &TestApp, h: i64) -> String {
    at(t.app.now() + h * HOUR)
}

async fn create(t: &TestApp, token: &str, body: Value) -> Value {
    ok(
        t.post("/api/v1/guide-tasks", token, body).await,
        StatusCode::CREATED,
    )
    .await
}

/// The ids of the tasks `token` lists with `query`.
async fn listed(t: &TestApp, token: &str, query: &str) -> Vec<i64> {
    ok(
        t.get(&format!("/api/v1/guide-tasks{query}"), token).await,
        StatusCode::OK,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect()
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// A second store with a guide and a manager, and store A's manager and an analyst.
struct People {
    guide_b: i64,
    manager_a: String,
    manager_b: String,
    analyst: String,
}

async fn people(t: &TestApp, store_a: i64) -> People {
    let store_b = t.store("GT-B").await;
    let guide_b = t.staff("gt.guide.b", "guide", Some(store_b)).await;
    t.staff("gt.mgr.a", "store_manager", Some(store_a)).await;
    t.staff("gt.mgr.b", "store_manager", Some(store_b)).await;
    t.staff("gt.analyst", "analyst", None).await;
    People {
        guide_b,
        manager_a: t.login("gt.mgr.a").await,
        manager_b: t.login("gt.mgr.b").await,
        analyst: t.login("gt.analyst").await,
    }
}

async fn tasks_are_set_listed_and_read_within_scope(e: Engine) {
    let (t, fake, store_a, customers) = synced(e).await;
    let p = people(&t, store_a).await;
    let zhang = staff_of(&t, "zhangwei").await;
    let wang = staff_of(&t, "wangfang").await;
    // A customer with a phone, followed by the guide (the phone is shown masked).
    let customer = crate::customers::customer_with_phone(&t, "13912345678", "张女士").await;
    crate::customers::follow(&t, customer, zhang).await;
    assert!(!customers.is_empty());
    let material = ok(
        t.post(
            "/api/v1/materials",
            &t.admin,
            json!({"kind": "text", "title": "满月礼文案", "body": "恭喜宝宝满月"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();

    // Headquarters sets a task for a guide of store A, about a customer, with a material.
    let due = t.app.now() + 2 * HOUR;
    let a1 = create(
        &t,
        &t.admin,
        json!({"staff_id": zhang, "customer_id": customer, "title": " 回访：满月礼 ",
               "body": "问问宝宝的情况\n顺便邀请到店", "material_id": material,
               "due_at": at(due)}),
    )
    .await;
    assert_eq!(a1["staff_id"], zhang);
    assert_eq!(a1["store_id"], store_a);
    assert_eq!(a1["customer_id"], customer);
    assert_eq!(a1["title"], "回访：满月礼");
    assert_eq!(a1["body"], "问问宝宝的情况\n顺便邀请到店");
    assert_eq!(a1["material_id"], material);
    assert_eq!(a1["material_title"], "满月礼文案");
    assert_eq!(
        (&a1["source"], &a1["source_ref"], &a1["state"]),
        (&json!("manual"), &json!(""), &json!("open"))
    );
    assert_eq!(a1["due_at"], at(due));
    assert_eq!(
        (&a1["overdue"], &a1["reminders"]),
        (&json!(false), &json!(0))
    );
    assert!(a1["staff_name"].as_str().is_some_and(|n| !n.is_empty()));
    let got = ok(
        t.get(&format!("/api/v1/guide-tasks/{}", id_of(&a1)), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got, a1);
    // The customer's timeline says so; the first reminder is queued for the due time.
    assert_eq!(
        sql(
            &t,
            format!(
                "SELECT COUNT(*) FROM events WHERE customer_id = {customer} \
                 AND kind = 'guide_task_created'"
            )
        )
        .await,
        1
    );
    assert_eq!(
        sql(
            &t,
            format!(
                "SELECT run_at FROM jobs WHERE idempotency_key = 'guide_task_remind:{}:1'",
                id_of(&a1)
            )
        )
        .await,
        due
    );

    // Store A's manager sets one for another guide of their store; not for store B's.
    let a2 = create(
        &t,
        &p.manager_a,
        json!({"staff_id": wang, "title": "整理会员资料", "due_at": in_hours(&t, 5)}),
    )
    .await;
    assert_eq!(
        a2["created_by"],
        sql(
            &t,
            "SELECT id FROM staff WHERE username = 'gt.mgr.a'".into()
        )
        .await
    );
    let (s, code, field) = error_of(
        t.post(
            "/api/v1/guide-tasks",
            &p.manager_a,
            json!({"staff_id": p.guide_b, "title": "外店", "due_at": in_hours(&t, 5)}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_guide",
            Some("staff_id")
        )
    );
    // Store B's task, by headquarters.
    let b1 = create(
        &t,
        &t.admin,
        json!({"staff_id": p.guide_b, "title": "外店任务", "due_at": in_hours(&t, 3)}),
    )
    .await;
    // Guides and analysts set no task.
    let guide = t.login("g.zhangwei").await;
    for token in [&guide, &p.analyst] {
        let r = t
            .post(
                "/api/v1/guide-tasks",
                token,
                json!({"staff_id": zhang, "title": "自己布置", "due_at": in_hours(&t, 1)}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }

    let (a1, a2, b1) = (id_of(&a1), id_of(&a2), id_of(&b1));
    // Headquarters and analysts: every task, newest first, in keyset pages.
    assert_eq!(listed(&t, &t.admin, "").await, vec![b1, a2, a1]);
    assert_eq!(listed(&t, &p.analyst, "").await, vec![b1, a2, a1]);
    let first = ok(
        t.get("/api/v1/guide-tasks?limit=2", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["next_before"], a2);
    assert_eq!(
        listed(&t, &t.admin, &format!("?limit=2&before={a2}")).await,
        vec![a1]
    );
    // Filters: guide, store, customer, state, due before.
    assert_eq!(
        listed(&t, &t.admin, &format!("?staff_id={zhang}")).await,
        vec![a1]
    );
    assert_eq!(
        listed(&t, &t.admin, &format!("?store_id={store_a}")).await,
        vec![a2, a1]
    );
    assert_eq!(
        listed(&t, &t.admin, &format!("?customer_id={customer}")).await,
        vec![a1]
    );
    assert_eq!(listed(&t, &t.admin, "?state=done").await, Vec::<i64>::new());
    let before = in_hours(&t, 4).replace('+', "%2B");
    assert_eq!(
        listed(&t, &t.admin, &format!("?state=open&due_before={before}")).await,
        vec![b1, a1]
    );
    let (s, code, _) = error_of(t.get("/api/v1/guide-tasks?state=closed", &t.admin).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_status")
    );

    // A guide: their own only; another's is 404, a filter naming another guide finds none.
    assert_eq!(listed(&t, &guide, "").await, vec![a1]);
    assert_eq!(
        listed(&t, &guide, &format!("?staff_id={wang}")).await,
        Vec::<i64>::new()
    );
    let mine = ok(
        t.get(&format!("/api/v1/guide-tasks/{a1}"), &guide).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&mine["customer_name"], &mine["customer_phone"]),
        (&json!("张女士"), &json!("139****5678"))
    );
    for other in [a2, b1] {
        let r = t.get(&format!("/api/v1/guide-tasks/{other}"), &guide).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    // A store manager: their store's; store B's manager, store B's.
    assert_eq!(listed(&t, &p.manager_a, "").await, vec![a2, a1]);
    assert_eq!(listed(&t, &p.manager_b, "").await, vec![b1]);
    assert_eq!(
        listed(
            &t,
            &p.manager_a,
            &format!(
                "?store_id={}",
                sql(
                    &t,
                    format!("SELECT store_id FROM staff WHERE id = {}", p.guide_b)
                )
                .await
            )
        )
        .await,
        Vec::<i64>::new()
    );
    let r = t
        .get(&format!("/api/v1/guide-tasks/{b1}"), &p.manager_a)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t
        .get(&format!("/api/v1/guide-tasks/{a1}"), &p.manager_b)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t.get("/api/v1/guide-tasks/999999", &t.admin).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        t.audit_actions()
            .await
            .iter()
            .any(|a| a == "guide_task_changed")
    );
    fake.shutdown().await;
}

async fn close(t: &TestApp, token: &str, id: i64, what: &str, body: Value) -> reqwest::Response {
    t.post(&format!("/api/v1/guide-tasks/{id}/{what}"), token, body)
        .await
}

async fn tasks_are_done_or_skipped_once_and_counted(e: Engine) {
    let (t, fake, store_a, customers) = synced(e).await;
    let p = people(&t, store_a).await;
    let zhang = staff_of(&t, "zhangwei").await;
    let wang = staff_of(&t, "wangfang").await;
    let customer = customers["wmDemoCustomer0004"];
    let guide = t.login("g.zhangwei").await;
    let task = |staff: i64, title: &str, due: String| json!({"staff_id": staff, "customer_id": customer, "title": title, "due_at": due});
    let done_one = id_of(&create(&t, &t.admin, task(zhang, "回访一", in_hours(&t, 2))).await);
    let skip_one = id_of(&create(&t, &t.admin, task(zhang, "回访二", in_hours(&t, 2))).await);
    // Due now: past due (overdue) a moment later.
    let late = id_of(&create(&t, &t.admin, task(zhang, "回访三", at(t.app.now()))).await);
    let wangs = id_of(&create(&t, &p.manager_a, task(wang, "王芳的任务", in_hours(&t, 2))).await);
    let outside = id_of(
        &create(
            &t,
            &t.admin,
            json!({"staff_id": p.guide_b, "title": "外店", "due_at": in_hours(&t, 2)}),
        )
        .await,
    );

    // Analysts only read; a guide cannot close another guide's task; a manager not another
    // store's.
    let r = close(&t, &p.analyst, done_one, "done", json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = close(&t, &guide, wangs, "done", json!({})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = close(
        &t,
        &p.manager_a,
        outside,
        "skip",
        json!({"reason": "不是本店"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The guide marks one done with a note: once.
    let d = ok(
        close(&t, &guide, done_one, "done", json!({"note": "已电话回访"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&d["state"], &d["reason"]),
        (&json!("done"), &json!("已电话回访"))
    );
    assert!(d["done_at"].is_string());
    for (what, body) in [("done", json!({})), ("skip", json!({"reason": "重复"}))] {
        let (s, code, _) = error_of(close(&t, &guide, done_one, what, body).await).await;
        assert_eq!((s, code.as_str()), (StatusCode::CONFLICT, "task_closed"));
    }
    // A skip needs its reason (1–200 characters, no control characters).
    for (body, code) in [
        (json!({}), "unknown_field"),
        (json!({"reason": "  "}), "required"),
        (json!({"reason": "x".repeat(201)}), "text_too_long"),
        (json!({"reason": "客户\u{7}出差"}), "invalid_characters"),
    ] {
        let (s, got, field) =
            error_of(close(&t, &guide, skip_one, "skip", body.clone()).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        if code != "unknown_field" {
            assert_eq!(
                (got.as_str(), field.as_deref()),
                (code, Some("reason")),
                "{body}"
            );
        }
    }
    let (s, code, field) = error_of(
        close(
            &t,
            &guide,
            done_one,
            "done",
            json!({"note": "x", "extra": 1}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{code} {field:?}");
    // The store manager skips one for their guide.
    let k = ok(
        close(
            &t,
            &p.manager_a,
            skip_one,
            "skip",
            json!({"reason": "客户出差，下周再约"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&k["state"], &k["reason"]),
        (&json!("skipped"), &json!("客户出差，下周再约"))
    );
    // The timeline and the audit log say so.
    for kind in ["guide_task_done", "guide_task_skipped"] {
        assert_eq!(
            sql(
                &t,
                format!(
                    "SELECT COUNT(*) FROM events WHERE customer_id = {customer} AND kind = '{kind}'"
                )
            )
            .await,
            1,
            "{kind}"
        );
    }
    assert_eq!(
        t.audit_actions()
            .await
            .iter()
            .filter(|a| *a == "guide_task_changed")
            .count(),
        // Five made, two closed.
        7
    );
    // The late task is overdue.
    let l = ok(
        t.get(&format!("/api/v1/guide-tasks/{late}"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(l["overdue"], true);
    assert_eq!(listed(&t, &guide, "?state=open").await, vec![late]);

    // The figures: per guide and per store, scoped like the list.
    let s = ok(
        t.get("/api/v1/guide-tasks/stats", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(s["days"], 30);
    let line = |lines: &Value, id: i64| {
        lines
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} in {lines}"))
    };
    let z = line(&s["guides"], zhang);
    assert_eq!(
        (
            &z["total"],
            &z["done"],
            &z["skipped"],
            &z["open"],
            &z["overdue"],
            &z["completion_bp"]
        ),
        (
            &json!(3),
            &json!(1),
            &json!(1),
            &json!(1),
            &json!(1),
            &json!(3333)
        ),
        "{z}"
    );
    let w = line(&s["guides"], wang);
    assert_eq!(
        (&w["total"], &w["open"], &w["completion_bp"]),
        (&json!(1), &json!(1), &json!(0))
    );
    let a = line(&s["stores"], store_a);
    assert_eq!(
        (
            &a["total"],
            &a["done"],
            &a["skipped"],
            &a["open"],
            &a["overdue"],
            &a["completion_bp"]
        ),
        (
            &json!(4),
            &json!(1),
            &json!(1),
            &json!(2),
            &json!(1),
            &json!(2500)
        ),
        "{a}"
    );
    assert_eq!(s["total"]["total"], 5);
    assert_eq!(s["stores"].as_array().unwrap().len(), 2);
    // A store manager sees their store's; a guide their own.
    let m = ok(
        t.get("/api/v1/guide-tasks/stats?days=7", &p.manager_a)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(m["days"], 7);
    assert_eq!(
        (
            m["total"]["total"].as_i64(),
            m["stores"].as_array().unwrap().len()
        ),
        (Some(4), 1)
    );
    let g = ok(
        t.get("/api/v1/guide-tasks/stats", &guide).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(g["total"]["total"], 3);
    assert_eq!(g["guides"].as_array().unwrap().len(), 1);
    for bad in ["0", "91", "x"] {
        let r = t
            .get(&format!("/api/v1/guide-tasks/stats?days={bad}"), &t.admin)
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    fake.shutdown().await;
}

async fn bad_input_is_refused_by_field_and_creates_nothing(e: Engine) {
    let (t, fake, store_a, customers) = synced(e).await;
    let zhang = staff_of(&t, "zhangwei").await;
    let manager = t.staff("gt.bad.mgr", "store_manager", Some(store_a)).await;
    let archived = ok(
        t.post(
            "/api/v1/materials",
            &t.admin,
            json!({"kind": "text", "title": "旧文案", "body": "旧"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let r = t
        .post(
            &format!("/api/v1/materials/{archived}/archive"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let good = json!({"staff_id": zhang, "title": "回访", "due_at": in_hours(&t, 1)});
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    let outside = customers.values().copied().max().unwrap() + 1_000_000;
    let cases: Vec<(Value, StatusCode, &str, &str)> = vec![
        (
            with("title", json!("")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "required",
            "title",
        ),
        (
            with("title", json!("   ")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "required",
            "title",
        ),
        (
            with("title", json!("回\u{7}访")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_characters",
            "title",
        ),
        (
            with("title", json!("回\n访")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_characters",
            "title",
        ),
        (
            with("title", json!("字".repeat(61))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "text_too_long",
            "title",
        ),
        (
            with("body", json!("x".repeat(1001))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "text_too_long",
            "body",
        ),
        (
            with("body", json!("a\u{1b}b")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_characters",
            "body",
        ),
        (
            with("due_at", json!(in_hours(&t, -2))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "due_at_past",
            "due_at",
        ),
        (
            with("due_at", json!("明天")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
            "due_at",
        ),
        (
            with("due_at", json!("2100-01-02T00:00:00Z")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
            "due_at",
        ),
        (
            with("staff_id", json!(999_999)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_guide",
            "staff_id",
        ),
        (
            with("staff_id", json!(manager)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_guide",
            "staff_id",
        ),
        (
            with("customer_id", json!(outside)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_customer",
            "customer_id",
        ),
        (
            with("material_id", json!(999_999)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_material",
            "material_id",
        ),
        (
            with("material_id", json!(archived)),
            StatusCode::CONFLICT,
            "material_archived",
            "",
        ),
        (
            with("surprise", json!(1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            "",
        ),
    ];
    for (body, status, code, field) in cases {
        let (s, got, f) =
            error_of(t.post("/api/v1/guide-tasks", &t.admin, body.clone()).await).await;
        assert_eq!((s, got.as_str()), (status, code), "{body}");
        if !field.is_empty() {
            assert_eq!(f.as_deref(), Some(field), "{body}");
        }
    }
    // A body with trailing bytes, and one that is not JSON.
    for raw in [format!("{good} x"), "{".to_owned()] {
        let r = t
            .req(Method::POST, "/api/v1/guide-tasks", Some(&t.admin))
            .header("content-type", "application/json")
            .body(raw.clone())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{raw}: {}", r.status());
    }
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM guide_tasks").await, 0);
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'guide_task_remind'"
        )
        .await,
        0
    );
    fake.shutdown().await;
}

async fn connect_app(t: &TestApp, fake: &yutang_wecom::fake::FakeWecom) {
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

/// The reminders sent for the task titled `title`.
fn reminders(
    fake: &yutang_wecom::fake::FakeWecom,
    title: &str,
) -> Vec<yutang_wecom::fake::AppMessage> {
    fake.app_messages()
        .into_iter()
        .filter(|m| m.content.starts_with(&format!("待办：{title}（")))
        .collect()
}

async fn job_result(t: &TestApp, key: &str) -> (String, String) {
    let sql = format!("SELECT status || ' ' || result FROM jobs WHERE idempotency_key = '{key}'");
    let got: String = match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(p)
            .await
            .unwrap(),
        yutang_store::Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(p)
            .await
            .unwrap(),
    };
    let (status, result) = got.split_once(' ').unwrap();
    (status.to_owned(), result.to_owned())
}

/// Make the job under `key` due now (as if its time had come), queued again.
async fn due_now(t: &TestApp, key: &str) {
    let sql = format!(
        "UPDATE jobs SET status = 'queued', run_at = 0, locked_until = NULL \
         WHERE idempotency_key = '{key}'"
    );
    t.exec(Box::leak(sql.into_boxed_str())).await;
}

async fn a_due_task_reminds_its_guide_once_per_reminder(e: Engine) {
    let (t, fake, store_a, customers) = synced(e).await;
    let p = people(&t, store_a).await;
    let zhang = staff_of(&t, "zhangwei").await;
    let customer = customers["wmDemoCustomer0005"];

    // Without WeCom's app: the job says so and stops (no retry loop, no reminder counted).
    let quiet = id_of(
        &create(
            &t,
            &t.admin,
            json!({"staff_id": zhang, "title": "无应用时", "due_at": at(t.app.now())}),
        )
        .await,
    );
    t.settle_jobs().await;
    let (status, result) = job_result(&t, &format!("guide_task_remind:{quiet}:1")).await;
    assert_eq!(status, "done");
    assert!(result.contains("wecom_not_configured"), "{result}");
    assert!(fake.app_messages().is_empty());

    connect_app(&t, &fake).await;
    // A guide without a WeCom account: recorded, nothing sent.
    let nowhere = id_of(
        &create(
            &t,
            &t.admin,
            json!({"staff_id": p.guide_b, "title": "外店提醒", "due_at": at(t.app.now())}),
        )
        .await,
    );
    // Due now: the first reminder goes at once.
    let id = id_of(
        &create(
            &t,
            &t.admin,
            json!({"staff_id": zhang, "customer_id": customer, "title": "满月回访",
                   "body": "问问宝宝的情况", "due_at": at(t.app.now())}),
        )
        .await,
    );
    t.settle_jobs().await;
    let (status, result) = job_result(&t, &format!("guide_task_remind:{nowhere}:1")).await;
    assert_eq!(status, "done");
    assert!(result.contains("guide not in WeCom"), "{result}");
    assert!(reminders(&fake, "外店提醒").is_empty());
    let sent = reminders(&fake, "满月回访");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].touser, vec!["zhangwei".to_owned()]);
    assert_eq!(sent[0].agentid, AGENT);
    assert!(sent[0].content.contains("（到期 "), "{}", sent[0].content);
    assert!(sent[0].content.contains("问问宝宝的情况"));
    let task = ok(
        t.get(&format!("/api/v1/guide-tasks/{id}"), &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(task["reminders"], 1);
    assert!(task["reminded_at"].is_string());
    // The next is queued a day later.
    let next = sql(
        &t,
        format!("SELECT run_at FROM jobs WHERE idempotency_key = 'guide_task_remind:{id}:2'"),
    )
    .await;
    assert!(next > t.app.now() + 23 * HOUR, "{next}");

    // A replay of the first reminder (a runner that died after sending) sends nothing.
    due_now(&t, &format!("guide_task_remind:{id}:1")).await;
    t.settle_jobs().await;
    assert_eq!(reminders(&fake, "满月回访").len(), 1);
    assert_eq!(
        fake.duplicate_messages(),
        0,
        "held back by Yutang, not by WeCom"
    );
    let (_, result) = job_result(&t, &format!("guide_task_remind:{id}:1")).await;
    assert!(result.contains("reminded already"), "{result}");

    // A day later, still open: the second reminder.
    due_now(&t, &format!("guide_task_remind:{id}:2")).await;
    t.settle_jobs().await;
    let sent = reminders(&fake, "满月回访");
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].content.contains("第 2 次提醒"),
        "{}",
        sent[1].content
    );
    // Done now: the third sends nothing, and there is no fourth.
    let guide = t.login("g.zhangwei").await;
    ok(
        close(&t, &guide, id, "done", json!({})).await,
        StatusCode::OK,
    )
    .await;
    due_now(&t, &format!("guide_task_remind:{id}:3")).await;
    t.settle_jobs().await;
    assert_eq!(reminders(&fake, "满月回访").len(), 2);
    let (_, result) = job_result(&t, &format!("guide_task_remind:{id}:3")).await;
    assert!(result.contains("closed"), "{result}");
    assert_eq!(
        sql(
            &t,
            format!(
                "SELECT COUNT(*) FROM jobs WHERE idempotency_key LIKE 'guide_task_remind:{id}:%'"
            )
        )
        .await,
        3
    );
    let task = ok(
        t.get(&format!("/api/v1/guide-tasks/{id}"), &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&task["reminders"], &task["state"]),
        (&json!(2), &json!("done"))
    );
    // At most three: reminder 3 of an open task queues no fourth.
    let three = id_of(
        &create(
            &t,
            &t.admin,
            json!({"staff_id": zhang, "title": "三次为止", "due_at": at(t.app.now())}),
        )
        .await,
    );
    t.settle_jobs().await;
    for n in 2..=3 {
        due_now(&t, &format!("guide_task_remind:{three}:{n}")).await;
        t.settle_jobs().await;
    }
    assert_eq!(reminders(&fake, "三次为止").len(), 3);
    assert_eq!(
        sql(
            &t,
            format!(
                "SELECT COUNT(*) FROM jobs WHERE idempotency_key LIKE 'guide_task_remind:{three}:%'"
            )
        )
        .await,
        3
    );
    fake.shutdown().await;
}

/// Eight closings of one task at once (done and skip, by the guide and the managers): exactly
/// one applies, the other seven are 409 `task_closed`.
async fn eight_closings_at_once_apply_once(e: Engine) {
    let (t, fake, store_a, _) = synced(e).await;
    let p = people(&t, store_a).await;
    let zhang = staff_of(&t, "zhangwei").await;
    let guide = t.login("g.zhangwei").await;
    for round in 0..3 {
        let id = id_of(
            &create(&t, &t.admin, json!({"staff_id": zhang, "title": format!("并发 {round}"), "due_at": in_hours(&t, 1)})).await,
        );
        let calls = (0..8).map(|i| {
            let token = match i % 3 {
                0 => guide.clone(),
                1 => p.manager_a.clone(),
                _ => t.admin.clone(),
            };
            let (what, body) = if i % 2 == 0 {
                ("done", json!({"note": format!("第 {i} 个")}))
            } else {
                ("skip", json!({"reason": format!("第 {i} 个")}))
            };
            let t = &t;
            async move { close(t, &token, id, what, body).await.status() }
        });
        let statuses = futures_util::future::join_all(calls).await;
        let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let closed = statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((won, closed), (1, 7), "{statuses:?}");
        let events = sql(
            &t,
            format!("SELECT COUNT(*) FROM audit_log WHERE target = 'guide_task:{id}'"),
        )
        .await;
        assert_eq!(events, 2, "one create, one closing");
    }
    fake.shutdown().await;
}
