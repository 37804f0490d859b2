//! The guide task inbox's console page (待办任务, issue #21 item 6) through HTTP: 待办任务 in
//! the menu after 素材库; headquarters sets a task with 新建任务 (a refusal comes back
//! under its field, what was typed kept, nothing created); the guide sees their own tasks and
//! marks one 完成 (a second time is refused with the reason) or 跳过 with a reason; a store
//! manager sets and skips for their store's guides; an analyst reads without a form; the
//! figures per guide and per store show the completion rate; a wrong CSRF token changes
//! nothing; the page reads in English too.

use reqwest::StatusCode;
use serde_json::Value;
use yutang_core::time::Millis;

use crate::acquisition::scalar;
use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form, refused};
use crate::helpers::{Engine, TestApp, spawn_app};

both_engines!(console_guide_tasks_by_role);

fn zh(code: &str) -> &'static str {
    yutang_core::error_codes::find(code).expect(code).zh
}

/// `YYYY-MM-DDTHH:MM` in Beijing time, `hours` from now (a `datetime-local` value).
fn local(t: &TestApp, hours: i64) -> String {
    let s = Millis(t.app.now() + hours * 3_600_000).to_shanghai_string();
    s[..16].replace(' ', "T")
}

async fn api_task(t: &TestApp, id: i64) -> Value {
    let r = t.get(&format!("/api/v1/guide-tasks/{id}"), &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn tasks(t: &TestApp) -> i64 {
    scalar(t, "SELECT COUNT(*) FROM guide_tasks").await
}

async fn console_guide_tasks_by_role(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("CGT-A").await;
    let g1 = t.staff("cgt.guide1", "guide", Some(store)).await;
    let g2 = t.staff("cgt.guide2", "guide", Some(store)).await;
    t.staff("cgt.manager", "store_manager", Some(store)).await;
    t.staff("cgt.admin", "admin", None).await;
    t.staff("cgt.analyst", "analyst", None).await;
    let admin = console_login(&t, "cgt.admin").await;
    let customer = crate::customers::customer_with_phone(&t, "13812345678", "李女士").await;
    crate::customers::follow(&t, customer, g1).await;

    // 待办任务 in the menu after 素材库 (in its group); the page, empty, with 新建任务 and the figures.
    let (status, html) = page(&t, &admin, "/console").await;
    assert_eq!(status, StatusCode::OK);
    let materials = html.find(r#"href="/console/materials""#).expect("素材库");
    let tasks_at = html
        .find(r#"href="/console/guide-tasks""#)
        .expect("待办任务");
    assert!(tasks_at > materials && !html[materials..tasks_at].contains(r#"class="group""#));
    let (status, html) = page(&t, &admin, "/console/guide-tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<a href="/console/guide-tasks" class="on">待办任务</a>"#));
    assert!(html.contains("没有符合条件的待办") && html.contains(r#"id="task-form""#));
    assert!(html.contains(r#"id="no-stats""#));
    assert!(html.contains(&format!(r#"<option value="{g1}">cgt.guide1</option>"#)));
    let csrf = csrf_in(&html);

    // 新建任务: refused by field, what was typed kept, nothing created.
    let form = |title: &str, due: String, staff: i64| {
        vec![
            ("csrf", csrf.clone()),
            ("staff_id", staff.to_string()),
            ("title", title.to_owned()),
            ("body", "问问宝宝的情况\r\n邀请到店".to_owned()),
            ("customer_id", customer.to_string()),
            ("material_id", String::new()),
            ("due_at", due),
        ]
    };
    for (f, field, code) in [
        (form("", local(&t, 2), g1), "title", "required"),
        (form("回访", local(&t, -3), g1), "due_at", "due_at_past"),
        (form("回访", String::new(), g1), "due_at", "required"),
        (
            form("回访", local(&t, 2), 999_999),
            "staff_id",
            "unknown_guide",
        ),
    ] {
        let r = post_form(&t, &admin, "/console/guide-tasks", &f).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = r.text().await.unwrap();
        assert!(html.contains(&refused(field, zh(code))), "{field}: {html}");
        assert!(html.contains("问问宝宝的情况"), "the details stay typed");
    }
    assert_eq!(tasks(&t).await, 0);
    let r = post_form(
        &t,
        &admin,
        "/console/guide-tasks",
        &form("满月回访", local(&t, 2), g1),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/guide-tasks?ok_task=created");
    let first = scalar(&t, "SELECT MAX(id) FROM guide_tasks").await;
    let v = api_task(&t, first).await;
    assert_eq!(
        (v["staff_id"].as_i64(), v["title"].as_str()),
        (Some(g1), Some("满月回访"))
    );
    assert_eq!(v["body"], "问问宝宝的情况\n邀请到店");
    let (_, html) = page(&t, &admin, "/console/guide-tasks?ok_task=created").await;
    assert!(html.contains("待办已布置"));
    assert!(html.contains(&format!(r#"<tr data-task="{first}" data-state="open">"#)));
    assert!(html.contains("<strong>满月回访</strong>") && html.contains(">待处理<"));
    assert!(html.contains("来源：手动"));
    // The customer by name, the phone masked, linked to the customer's page.
    assert!(html.contains(&format!(
        r#"<a href="/console/customers/{customer}">李女士</a>"#
    )));
    assert!(html.contains("138****5678") && !html.contains("13812345678"));

    // A store manager sets one for their other guide, and sees the form.
    let manager = console_login(&t, "cgt.manager").await;
    let (_, html) = page(&t, &manager, "/console/guide-tasks").await;
    assert!(html.contains(r#"id="task-form""#));
    let mcsrf = csrf_in(&html);
    let mut f = form("整理会员资料", local(&t, 3), g2);
    f[0].1 = mcsrf.clone();
    let r = post_form(&t, &manager, "/console/guide-tasks", &f).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let second = scalar(&t, "SELECT MAX(id) FROM guide_tasks").await;

    // The guide: their own task only, 完成 and 跳过, no form.
    let guide = console_login(&t, "cgt.guide1").await;
    let (status, html) = page(&t, &guide, "/console/guide-tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(r#"data-task="{first}""#)));
    assert!(!html.contains(&format!(r#"data-task="{second}""#)));
    assert!(!html.contains(r#"id="task-form""#) && !html.contains(r#"id="filter-guide""#));
    assert!(html.contains(&format!(r#"action="/console/guide-tasks/{first}/done""#)));
    let gcsrf = csrf_in(&html);
    // A wrong CSRF token changes nothing.
    let r = post_form(
        &t,
        &guide,
        &format!("/console/guide-tasks/{first}/done"),
        &[("csrf", "wrong".into()), ("note", "x".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(api_task(&t, first).await["state"], "open");
    // 完成 with a note; a second time is refused with the reason.
    let done = |csrf: &str| vec![("csrf", csrf.to_owned()), ("note", "已电话回访".to_owned())];
    let r = post_form(
        &t,
        &guide,
        &format!("/console/guide-tasks/{first}/done"),
        &done(&gcsrf),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/guide-tasks?ok_task=done");
    let v = api_task(&t, first).await;
    assert_eq!(
        (v["state"].as_str(), v["reason"].as_str()),
        (Some("done"), Some("已电话回访"))
    );
    let r = post_form(
        &t,
        &guide,
        &format!("/console/guide-tasks/{first}/done"),
        &done(&gcsrf),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains(zh("task_closed")));
    // Another guide's task: not found.
    let r = post_form(
        &t,
        &guide,
        &format!("/console/guide-tasks/{second}/done"),
        &done(&gcsrf),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(api_task(&t, second).await["state"], "open");
    // Done ones under 已完成, with the note.
    let (_, html) = page(&t, &guide, "/console/guide-tasks?state=done").await;
    assert!(html.contains(&format!(r#"<tr data-task="{first}" data-state="done">"#)));
    assert!(html.contains(">已完成<") && html.contains("已电话回访"));

    // The manager skips: a reason is required.
    let skip = |reason: &str| vec![("csrf", mcsrf.clone()), ("reason", reason.to_owned())];
    let r = post_form(
        &t,
        &manager,
        &format!("/console/guide-tasks/{second}/skip"),
        &skip(" "),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains(zh("required")));
    let r = post_form(
        &t,
        &manager,
        &format!("/console/guide-tasks/{second}/skip"),
        &skip("客户出差"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(api_task(&t, second).await["state"], "skipped");

    // The figures: two tasks in the store, one done, one skipped — 50.0%.
    let (_, html) = page(&t, &manager, "/console/guide-tasks?state=all&days=7").await;
    assert!(html.contains(&format!(r#"<tr data-store="{store}"><td>门店 CGT-A</td><td data-count="total">2</td><td data-count="done">1</td><td data-count="skipped">1</td>"#)), "{html}");
    assert!(html.contains(r#"<td data-count="rate">50.0%</td>"#));
    assert!(html.contains(&format!(r#"<tr data-guide="{g1}"><td>cgt.guide1</td><td data-count="total">1</td><td data-count="done">1</td>"#)));
    assert!(html.contains("<strong>近 7 天</strong>"));

    // An analyst reads: no form, no 完成 / 跳过, and a post is refused.
    let analyst = console_login(&t, "cgt.analyst").await;
    let (status, html) = page(&t, &analyst, "/console/guide-tasks?state=all").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(r#"data-task="{first}""#)));
    assert!(!html.contains(r#"id="task-form""#) && !html.contains(r#"data-action="done""#));
    let acsrf = csrf_in(&html);
    let r = post_form(
        &t,
        &analyst,
        "/console/guide-tasks",
        &[
            ("csrf", acsrf),
            ("staff_id", g1.to_string()),
            ("title", "x".into()),
            ("due_at", local(&t, 2)),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(tasks(&t).await, 2);

    // In English.
    let (status, html) = page(
        &t,
        &format!("{admin}; yutang_lang=en"),
        "/console/guide-tasks?state=all",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Guide tasks") && html.contains("Completion rate"));
    assert!(html.contains(">Done<") && html.contains(">Skipped<"));
}
