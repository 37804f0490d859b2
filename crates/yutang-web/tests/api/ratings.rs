//! Consultant choice and service ratings (issue #23 item 5) through the HTTP API against the
//! fake WeCom, on both engines: a customer sees their consultant and chooses another active
//! guide of their store (done at once when the guide follows them, pending with a guide task
//! otherwise, completed when the follow arrives), anything else is 422 on `staff_id`; a done
//! task and an order are rated once (the same rating again answers the stored one, another is
//! 409), bad input writes nothing; a low rating queues one WeCom message per store manager;
//! guides, managers and headquarters each see their own ratings and ranking; the console and
//! the H5 page show them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_wecom::fake::FakeWecom;

use crate::customers::{customer_with_phone, follow};
use crate::helpers::{Engine, TestApp, error_of};
use crate::wecom_sync::{guide, with_fake_and};

both_engines!(
    customers_choose_a_consultant_in_their_store,
    done_tasks_and_orders_are_rated_once,
    a_low_rating_tells_each_store_manager_once,
    ratings_and_rankings_are_scoped,
);

const AGENT: i64 = 1_000_025;
const APP_SECRET: &str = "ratings-app-secret-001";

async fn ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn scalar(t: &TestApp, sql: &str) -> i64 {
    crate::acquisition::scalar(t, sql).await
}

/// Store A: guides 张伟 (zhangwei, the customer's consultant) and 李娜 (lina, who also follows
/// the customer), a new guide who does not, two managers (one on WeCom as wangfang); store B:
/// guide liuyang and its manager; an analyst; customer 王女士 of store A and 赵先生 of store B.
struct World {
    t: TestApp,
    fake: FakeWecom,
    store_a: i64,
    store_b: i64,
    zhang: i64,
    lina: i64,
    newbie: i64,
    liu: i64,
    manager_a: i64,
    wang: i64,
    zhao: i64,
    wang_token: String,
    zhao_token: String,
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

async fn customer_token(t: &TestApp, customer: i64) -> String {
    let v = ok(
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

async fn world(e: Engine) -> World {
    let (t, fake, _target) = with_fake_and(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
        s.journeys.run = false;
        s.secret_key = Some(yutang_app::settings::Secret::new("cd".repeat(32)));
    })
    .await;
    let store_a = t.store("RA-A").await;
    let store_b = t.store("RA-B").await;
    let zhang = guide(&t, store_a, "zhangwei").await;
    let lina = guide(&t, store_a, "lina").await;
    let newbie = t.staff("ra.newbie", "guide", Some(store_a)).await;
    let liu = guide(&t, store_b, "liuyang").await;
    let manager_a = t.staff("ra.manager", "store_manager", Some(store_a)).await;
    link(&t, manager_a, "wangfang").await;
    t.staff("ra.manager2", "store_manager", Some(store_a)).await;
    let manager_b = t.staff("rb.manager", "store_manager", Some(store_b)).await;
    link(&t, manager_b, "zhaolei").await;
    t.staff("ra.analyst", "analyst", None).await;
    t.staff("ra.admin", "admin", None).await;
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
    let wang = customer_with_phone(&t, "13800138101", "王女士").await;
    follow(&t, wang, zhang).await;
    follow(&t, wang, lina).await;
    let zhao = customer_with_phone(&t, "13800138102", "赵先生").await;
    follow(&t, zhao, liu).await;
    let wang_token = customer_token(&t, wang).await;
    let zhao_token = customer_token(&t, zhao).await;
    World {
        t,
        fake,
        store_a,
        store_b,
        zhang,
        lina,
        newbie,
        liu,
        manager_a,
        wang,
        zhao,
        wang_token,
        zhao_token,
    }
}

/// A POST with a customer token and, when given, an `Idempotency-Key`.
async fn customer_post(
    t: &TestApp,
    token: &str,
    path: &str,
    key: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut r = t.req(Method::POST, path, Some(token)).json(&body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    r.send().await.unwrap()
}

async fn choose(w: &World, staff: i64, key: Option<&str>) -> reqwest::Response {
    customer_post(
        &w.t,
        &w.wang_token,
        "/api/v1/public/me/consultant",
        key,
        json!({"staff_id": staff}),
    )
    .await
}

async fn rate(w: &World, token: &str, key: Option<&str>, body: Value) -> reqwest::Response {
    customer_post(&w.t, token, "/api/v1/public/me/ratings", key, body).await
}

/// The app messages whose text starts with `head`, as (recipients, text).
fn messages(fake: &FakeWecom, head: &str) -> Vec<(Vec<String>, String)> {
    fake.app_messages()
        .into_iter()
        .filter(|m| m.content.starts_with(head))
        .map(|m| (m.touser, m.content))
        .collect()
}

/// A guide task for `staff` on `customer`, marked done by the guide when `done`.
async fn task(w: &World, staff: i64, customer: i64, title: &str, done: bool) -> i64 {
    let t = &w.t;
    let due = yutang_core::time::Millis(t.app.now() + 3_600_000).to_rfc3339();
    let v = ok(
        t.post(
            "/api/v1/guide-tasks",
            &t.admin,
            json!({"staff_id": staff, "customer_id": customer, "title": title, "due_at": due}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = v["id"].as_i64().unwrap();
    if done {
        let r = t
            .post(
                &format!("/api/v1/guide-tasks/{id}/done"),
                &t.admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    }
    id
}

async fn order(t: &TestApp, ext: &str, customer: i64, guide: Option<i64>) -> i64 {
    let v = ok(
        t.post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": ext, "customer_id": customer, "channel": "store",
                "guide_id": guide, "paid_at": chrono::Utc::now().to_rfc3339(),
                "lines": [{"sku": "A", "name": "奶粉", "quantity": 1, "unit_price_fen": 26_800}]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    v["order"]["id"].as_i64().unwrap()
}

async fn consultant(w: &World) -> Value {
    ok(
        w.t.get("/api/v1/public/me/consultant", &w.wang_token).await,
        StatusCode::OK,
    )
    .await
}

async fn customers_choose_a_consultant_in_their_store(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    let v = consultant(&w).await;
    assert_eq!(v["consultant"]["staff_id"], w.zhang, "{v}");
    assert_eq!(v["store_id"], w.store_a);
    let mut choices: Vec<i64> = v["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["staff_id"].as_i64().unwrap())
        .collect();
    choices.sort_unstable();
    assert_eq!(choices, [w.lina, w.newbie]);
    assert!(v["pending"].is_null());

    // Another store's guide, a store manager, an unknown id: 422 naming staff_id, nothing
    // written.
    for bad in [w.liu, w.manager_a, 999_999] {
        let (s, code, field) = error_of(choose(&w, bad, None).await).await;
        assert_eq!(
            (s, code.as_str(), field.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_consultant",
                Some("staff_id")
            )
        );
    }
    let r = customer_post(
        t,
        &w.wang_token,
        "/api/v1/public/me/consultant",
        None,
        json!({"staff_id": w.lina, "why": "x"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        scalar(t, "SELECT COUNT(*) FROM consultant_changes").await,
        0
    );
    // No customer token: 401.
    let r = t
        .req(Method::POST, "/api/v1/public/me/consultant", Some(&t.admin))
        .json(&json!({"staff_id": w.lina}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // 李娜 follows the customer already: she is the consultant at once, told through WeCom.
    let v = ok(
        choose(&w, w.lina, Some("choose-1")).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(v["outcome"], "done");
    assert_eq!(v["consultant"]["staff_id"], w.lina);
    let again = ok(choose(&w, w.lina, Some("choose-1")).await, StatusCode::OK).await;
    assert_eq!(again["outcome"], "done");
    let (s, code, field) = error_of(choose(&w, w.zhang, Some("choose-1")).await).await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            Some("Idempotency-Key")
        )
    );
    // The current consultant again changes nothing.
    let v = ok(choose(&w, w.lina, None).await, StatusCode::OK).await;
    assert_eq!(v["outcome"], "unchanged");
    assert_eq!(
        scalar(t, "SELECT COUNT(*) FROM consultant_changes").await,
        1
    );
    assert!(
        t.audit_actions()
            .await
            .contains(&"consultant_changed".to_owned())
    );
    t.settle_jobs().await;
    let sent = messages(&w.fake, "【专属顾问】");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, ["lina"]);
    assert!(sent[0].1.contains("王女士") && sent[0].1.contains("已生效"));

    // A guide who does not follow them: pending, with a task to add the customer.
    let v = ok(choose(&w, w.newbie, None).await, StatusCode::CREATED).await;
    assert_eq!(v["outcome"], "pending");
    assert_eq!(v["consultant"]["staff_id"], w.lina);
    assert_eq!(v["pending"]["staff_id"], w.newbie);
    let tasks = scalar(
        t,
        &format!(
            "SELECT COUNT(*) FROM guide_tasks WHERE staff_id = {} AND customer_id = {} \
             AND state = 'open'",
            w.newbie, w.wang
        ),
    )
    .await;
    assert_eq!(tasks, 1);
    // Their follow arrives: the choice completes.
    follow(t, w.wang, w.newbie).await;
    let v = consultant(&w).await;
    assert_eq!(v["consultant"]["staff_id"], w.newbie, "{v}");
    assert!(v["pending"].is_null());
    assert_eq!(
        scalar(
            t,
            "SELECT COUNT(*) FROM consultant_changes WHERE status = 'done'"
        )
        .await,
        2
    );
    w.fake.shutdown().await;
}

async fn done_tasks_and_orders_are_rated_once(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    let done = task(&w, w.lina, w.wang, "上门送奶粉", true).await;
    let open = task(&w, w.zhang, w.wang, "回访", false).await;
    let own_order = order(t, "RA-1", w.wang, None).await;
    let ratable = ok(
        t.get("/api/v1/public/me/ratable", &w.wang_token).await,
        StatusCode::OK,
    )
    .await;
    let listed: Vec<(String, i64)> = ratable
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["subject_kind"].as_str().unwrap().to_owned(),
                r["subject_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(listed.contains(&("task".into(), done)), "{ratable}");
    assert!(listed.contains(&("order".into(), own_order)), "{ratable}");
    assert!(!listed.contains(&("task".into(), open)));

    // Bad input: refused by field, nothing written.
    for (body, code, field) in [
        (
            json!({"subject_kind": "task", "subject_id": done, "score": 0}),
            "invalid_score",
            "score",
        ),
        (
            json!({"subject_kind": "task", "subject_id": done, "score": 6}),
            "invalid_score",
            "score",
        ),
        (
            json!({"subject_kind": "visit", "subject_id": done, "score": 5}),
            "invalid_subject_kind",
            "subject_kind",
        ),
        (
            json!({"subject_kind": "task", "subject_id": done, "score": 5, "comment": "响铃\u{7}"}),
            "invalid_characters",
            "comment",
        ),
        (
            json!({"subject_kind": "task", "subject_id": done, "score": 5, "comment": "好".repeat(501)}),
            "text_too_long",
            "comment",
        ),
        (
            json!({"subject_kind": "task", "subject_id": open, "score": 5}),
            "subject_not_ratable",
            "subject_id",
        ),
    ] {
        let (s, c, f) = error_of(rate(&w, &w.wang_token, None, body).await).await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field))
        );
    }
    let r = rate(
        &w,
        &w.wang_token,
        None,
        json!({"subject_kind": "task", "subject_id": done, "score": 5, "stars": 5}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Another customer's task: refused.
    let (s, c, f) = error_of(
        rate(
            &w,
            &w.zhao_token,
            None,
            json!({"subject_kind": "task", "subject_id": done, "score": 1}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, c.as_str(), f.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_subject",
            Some("subject_id")
        )
    );
    assert_eq!(scalar(t, "SELECT COUNT(*) FROM service_ratings").await, 0);

    // The done task: rates its guide, 李娜.
    let body = json!({"subject_kind": "task", "subject_id": done, "score": 5, "comment": " 很耐心，谢谢 "});
    let first = ok(
        rate(&w, &w.wang_token, Some("rate-1"), body.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["staff_id"], w.lina);
    assert_eq!(first["store_id"], w.store_a);
    assert_eq!(first["comment"], "很耐心，谢谢");
    assert_eq!(first["low"], false);
    // The same again (with the key, or without): the stored rating.
    let replay = ok(
        rate(&w, &w.wang_token, Some("rate-1"), body.clone()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(replay["id"], first["id"]);
    let replay = ok(rate(&w, &w.wang_token, None, body).await, StatusCode::OK).await;
    assert_eq!(replay["id"], first["id"]);
    // Another score: 409.
    let (s, c, _) = error_of(
        rate(
            &w,
            &w.wang_token,
            None,
            json!({"subject_kind": "task", "subject_id": done, "score": 3}),
        )
        .await,
    )
    .await;
    assert_eq!((s, c.as_str()), (StatusCode::CONFLICT, "rating_exists"));

    // The order without a guide: rates the consultant, 张伟.
    let r = ok(
        rate(
            &w,
            &w.wang_token,
            None,
            json!({"subject_kind": "order", "subject_id": own_order, "score": 4}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(r["staff_id"], w.zhang);
    assert_eq!(r["comment"], "");
    // 赵先生 cannot rate 王女士's order either.
    let (s, c, _) = error_of(
        rate(
            &w,
            &w.zhao_token,
            None,
            json!({"subject_kind": "order", "subject_id": own_order, "score": 5}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, c.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_subject")
    );
    assert_eq!(scalar(t, "SELECT COUNT(*) FROM service_ratings").await, 2);
    let ratable = ok(
        t.get("/api/v1/public/me/ratable", &w.wang_token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ratable, json!([]));
    // Nothing low: no manager was told.
    assert_eq!(
        scalar(
            t,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'rating_low_notify'"
        )
        .await,
        0
    );
    w.fake.shutdown().await;
}

async fn a_low_rating_tells_each_store_manager_once(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    let o = order(t, "RA-2", w.wang, Some(w.zhang)).await;
    let body =
        json!({"subject_kind": "order", "subject_id": o, "score": 1, "comment": "等了很久没人理"});
    let r = ok(
        rate(&w, &w.wang_token, Some("low-1"), body.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(r["low"], true);
    assert_eq!(r["staff_id"], w.zhang);
    // One job per store manager of store A (two), none for store B's.
    let jobs = || async {
        scalar(
            t,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'rating_low_notify'",
        )
        .await
    };
    assert_eq!(jobs().await, 2);
    ok(
        rate(&w, &w.wang_token, Some("low-1"), body).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(jobs().await, 2);
    t.settle_jobs().await;
    let sent = messages(&w.fake, "【低分评价】");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, ["wangfang"]);
    assert!(
        sent[0].1.contains("王女士")
            && sent[0].1.contains("g.zhangwei")
            && sent[0].1.contains("1 星"),
        "{}",
        sent[0].1
    );
    // The manager without WeCom is recorded as skipped; nothing failed.
    assert_eq!(
        scalar(
            t,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'rating_low_notify' AND status = 'done' \
             AND result LIKE '%skipped: not in WeCom%'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            t,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'rating_low_notify' AND status <> 'done'"
        )
        .await,
        0
    );
    // A good rating tells nobody.
    let o2 = order(t, "RA-3", w.wang, Some(w.zhang)).await;
    ok(
        rate(
            &w,
            &w.wang_token,
            None,
            json!({"subject_kind": "order", "subject_id": o2, "score": 3}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(jobs().await, 2);
    w.fake.shutdown().await;
}

async fn listed(t: &TestApp, token: &str, query: &str) -> Vec<i64> {
    let v = ok(
        t.get(&format!("/api/v1/ratings{query}"), token).await,
        StatusCode::OK,
    )
    .await;
    let mut staff: Vec<i64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["staff_id"].as_i64().unwrap())
        .collect();
    staff.sort_unstable();
    staff
}

async fn ratings_and_rankings_are_scoped(e: Engine) {
    let w = world(e).await;
    let t = &w.t;
    for (n, customer, token, guide, score, comment) in [
        (1, w.wang, &w.wang_token, w.zhang, 5, "张伟很专业"),
        (2, w.wang, &w.wang_token, w.lina, 2, "李娜回复太慢"),
        (3, w.zhao, &w.zhao_token, w.liu, 4, "刘洋不错"),
    ] {
        let o = order(t, &format!("RS-{n}"), customer, Some(guide)).await;
        ok(
            rate(
                &w,
                token,
                None,
                json!({"subject_kind": "order", "subject_id": o, "score": score, "comment": comment}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let zhang = t.login("g.zhangwei").await;
    let manager_a = t.login("ra.manager").await;
    let manager_b = t.login("rb.manager").await;
    let analyst = t.login("ra.analyst").await;
    assert_eq!(listed(t, &zhang, "").await, [w.zhang]);
    assert!(
        listed(t, &zhang, &format!("?staff_id={}", w.lina))
            .await
            .is_empty()
    );
    assert_eq!(listed(t, &manager_a, "").await, {
        let mut v = vec![w.zhang, w.lina];
        v.sort_unstable();
        v
    });
    assert!(
        listed(t, &manager_a, &format!("?store_id={}", w.store_b))
            .await
            .is_empty()
    );
    assert_eq!(listed(t, &manager_b, "").await, [w.liu]);
    assert_eq!(listed(t, &analyst, "").await.len(), 3);
    assert_eq!(listed(t, &t.admin, "?max_score=2").await, [w.lina]);
    let (s, c, f) = error_of(t.get("/api/v1/ratings?max_score=9", &t.admin).await).await;
    assert_eq!(
        (s, c.as_str(), f.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_score",
            Some("max_score")
        )
    );

    // The ranking: best average first; stores; a guide sees only their own line.
    let v = ok(
        t.get("/api/v1/ratings/summary?by=staff", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    let order: Vec<(i64, i64, i64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["rank"].as_i64().unwrap(),
                l["id"].as_i64().unwrap(),
                l["average_milli"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [(1, w.zhang, 5000), (2, w.liu, 4000), (3, w.lina, 2000)]
    );
    let v = ok(
        t.get("/api/v1/ratings/summary?by=store", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v[0]["id"], w.store_b);
    assert_eq!(v[1]["id"], w.store_a);
    assert_eq!(v[1]["average_milli"], 3500);
    assert_eq!(v[1]["count"], 2);
    assert_eq!(v[1]["low_count"], 1);
    let v = ok(
        t.get("/api/v1/ratings/summary", &zhang).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], w.zhang);
    let (s, c, _) = error_of(t.get("/api/v1/ratings/summary?by=region", &t.admin).await).await;
    assert_eq!(
        (s, c.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_group")
    );

    // The console: the page by role, the guide's average on the staff page.
    let html = console_get(t, "ra.manager", "/console/ratings").await;
    assert!(
        html.contains("张伟很专业") && html.contains("李娜回复太慢"),
        "{html}"
    );
    assert!(!html.contains("刘洋不错"));
    assert!(html.contains("服务评价"));
    let html = console_get(t, "g.zhangwei", "/console/ratings").await;
    assert!(html.contains("张伟很专业") && !html.contains("李娜回复太慢"));
    let html = console_get(t, "ra.admin", &format!("/console/staff/{}", w.zhang)).await;
    assert!(html.contains("id=\"staff-ratings\""), "{html}");
    assert!(html.contains("data-average=\"5.0\"") && html.contains("张伟很专业"));

    // The H5 page: the consultant, in Chinese by default and English on request.
    let r = t
        .req(
            Method::GET,
            &format!("/h5/consultant?token={}", w.wang_token),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("我的专属顾问"), "{html}");
    assert!(html.contains(&format!("data-staff=\"{}\"", w.zhang)));
    assert!(html.contains("5.0 分 · 1 条评价"), "{html}");
    assert!(html.contains(&format!("class=\"choose\" data-staff=\"{}\"", w.lina)));
    let r = t
        .req(
            Method::GET,
            &format!("/h5/consultant?lang=en&token={}", w.wang_token),
            None,
        )
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("My consultant") && html.contains("Nothing to rate"),
        "{html}"
    );
    w.fake.shutdown().await;
}

/// A console page as `username` sees it (signed in through the console's form).
async fn console_get(t: &TestApp, username: &str, path: &str) -> String {
    let cookie = crate::console::console_login(t, username).await;
    let (status, html) = crate::console::page(t, &cookie, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {html}");
    html
}
