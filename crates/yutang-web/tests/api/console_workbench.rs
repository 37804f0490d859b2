//! The guide's mobile workbench (移动工作台, issue #23 item 3) through HTTP: inside the WeCom
//! client an unsigned request goes to the silent WeCom sign-in; a guide sees only the
//! customers they follow (masked phones, tags, last touch), finds one by the phone's last four
//! digits and filters by tag and orders; sees only their own open tasks (overdue marked, due
//! in Beijing time), closes one with 完成 (a replayed post changes nothing), skips one with a
//! reason, and is refused another guide's task; sees their own open churn alerts above them; sees the live codes they are on with the QR
//! and the poster; the page is Chinese by default and English through the language switch.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_core::time::Millis;

use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form};
use crate::customers::{customer_with_phone, follow};
use crate::helpers::{Engine, TestApp};
use crate::mass_messages::tag_customer;
use crate::promotions::created_id;
use crate::wecom_sync::{guide, with_fake};

both_engines!(console_workbench_for_a_guide);

const WXWORK_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh";

async fn api_task(t: &TestApp, id: i64) -> Value {
    let r = t.get(&format!("/api/v1/guide-tasks/{id}"), &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn task(t: &TestApp, staff: i64, customer: Option<i64>, title: &str, due: i64) -> i64 {
    created_id(
        t.post(
            "/api/v1/guide-tasks",
            &t.admin,
            json!({"staff_id": staff, "customer_id": customer, "title": title,
                "body": "问问近况", "due_at": Millis(due).to_rfc3339()}),
        )
        .await,
    )
    .await
}

/// The `<li …data-{what}="{id}">…</li>` of a row, or `None` when the page lacks it.
fn row<'a>(html: &'a str, what: &str, id: i64) -> Option<&'a str> {
    let start = html.find(&format!(r#"data-{what}="{id}""#))?;
    let end = html[start..]
        .find("</li>")
        .map_or(html.len(), |e| start + e);
    Some(&html[start..end])
}

async fn console_workbench_for_a_guide(e: Engine) {
    let (t, _fake, _target) = with_fake(e).await;
    let store = t.store("WB-A").await;
    let g1 = guide(&t, store, "zhangwei").await;
    let g2 = guide(&t, store, "wangfang").await;

    // Inside the WeCom client, unsigned: straight to the silent sign-in, the tab kept.
    let r = t
        .client
        .get(t.url("/console/workbench?tab=tasks"))
        .header("user-agent", WXWORK_UA)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/console/login/wecom?next=%2Fconsole%2Fworkbench%3Ftab%3Dtasks"
    );
    let r = t
        .client
        .get(t.url("/console/workbench"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/console/login?next=%2Fconsole%2Fworkbench");

    let mine = customer_with_phone(&t, "13812340204", "李女士").await;
    let mine2 = customer_with_phone(&t, "13700009999", "陈先生").await;
    let other = customer_with_phone(&t, "13912345678", "王先生").await;
    follow(&t, mine, g1).await;
    follow(&t, mine2, g1).await;
    follow(&t, other, g2).await;
    let tag = crate::acquisition::tag(&t).await;
    tag_customer(&t, mine, tag).await;
    tag_customer(&t, other, tag).await;

    let now = t.app.now();
    let soon = now + 2 * 3_600_000;
    let t1 = task(&t, g1, Some(mine), "满月回访", soon).await;
    let late = task(&t, g1, None, "整理会员资料", now - 60_000).await;
    let theirs = task(&t, g2, Some(other), "别人的回访", soon).await;

    // Live codes: one with g1 on it, one with g2 only.
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "门店台卡", "kind": "store_stand", "store_id": store}),
        )
        .await,
    )
    .await;
    let code = |name: &str, staff: i64, state: &str| {
        json!({"channel_id": channel, "name": name, "state": state,
            "guides": [{"staff_id": staff, "daily_cap": 100}]})
    };
    let my_code = created_id(
        t.post("/api/v1/live-codes", &t.admin, code("收银台", g1, "wb-1"))
            .await,
    )
    .await;
    let their_code = created_id(
        t.post("/api/v1/live-codes", &t.admin, code("门口", g2, "wb-2"))
            .await,
    )
    .await;

    let cookie = console_login(&t, "g.zhangwei").await;
    // The console's home leads a guide to the workbench.
    let (_, html) = page(&t, &cookie, "/console").await;
    assert!(html.contains(
        r#"<p id="to-workbench"><a class="button secondary" href="/console/workbench">移动工作台</a></p>"#
    ));

    // 我的客户 by default, in Chinese: the guide's customers only, phones masked, tags.
    let (status, html) = page(&t, &cookie, "/console/workbench").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(
        html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    assert!(
        html.contains(r#"id="tab-customers" data-tab="customers" aria-current="page">我的客户<"#)
    );
    let li = row(&html, "customer", mine).expect("own customer");
    assert!(li.contains("李女士") && li.contains("138****0204"), "{li}");
    assert!(li.contains("<span>门店台卡</span>"), "{li}");
    assert!(li.contains(&format!(r#"href="/console/customers/{mine}""#)));
    assert!(li.contains("最近动态："), "{li}");
    assert!(row(&html, "customer", mine2).is_some());
    assert!(
        row(&html, "customer", other).is_none(),
        "another guide's customer"
    );
    assert!(!html.contains("13812340204") && !html.contains("王先生"));
    assert!(html.contains("共 2 位客户"));
    // The tag filter offers the guide's tags with their count of the guide's customers.
    assert!(
        html.contains(&format!(
            r#"<option value="{tag}">来源 / 门店台卡 (1)</option>"#
        )),
        "{html}"
    );

    // The phone's last four digits find the customer; another guide's customer stays hidden.
    let (_, html) = page(&t, &cookie, "/console/workbench?tab=customers&q=0204").await;
    assert!(row(&html, "customer", mine).is_some());
    assert!(row(&html, "customer", mine2).is_none());
    assert!(html.contains(r#"value="0204""#));
    let (_, html) = page(&t, &cookie, "/console/workbench?q=5678").await;
    assert!(html.contains(r#"id="no-customers""#) && !html.contains("王先生"));
    // The tag filter and the orders filter.
    let (_, html) = page(&t, &cookie, &format!("/console/workbench?tag={tag}")).await;
    assert!(row(&html, "customer", mine).is_some());
    assert!(row(&html, "customer", mine2).is_none());
    assert!(html.contains(&format!(r#"<option value="{tag}" selected>"#)));
    let (_, html) = page(&t, &cookie, "/console/workbench?orders=ordered").await;
    assert!(html.contains(r#"id="no-customers""#), "nobody has ordered");
    assert!(html.contains(r#"<option value="ordered" selected>已下单</option>"#));

    // 流失提醒 above the tasks: the guide's open churn alerts with the customer's value, not
    // another guide's, not a handled one.
    let mut alerts = Vec::new();
    for (n, staff, status) in [(1, g1, "open"), (2, g2, "open"), (3, g1, "handled")] {
        let sql = format!(
            "INSERT INTO churn_alerts (kind, customer_id, staff_id, store_id, occurred_at, \
             orders, spend_fen, source_key, status, note, created_at) VALUES \
             ('customer_deleted', {mine}, {staff}, {store}, 0, 3, 12900, 'wb:{n}', \
             '{status}', '', 0) RETURNING id"
        );
        alerts.push(crate::promotions::scalar(&t, Box::leak(sql.into_boxed_str())).await);
    }
    let (_, html) = page(&t, &cookie, "/console/workbench?tab=tasks").await;
    let alert = row(&html, "alert", alerts[0]).expect("own open alert");
    assert!(
        alert.contains("客户删除导购") && alert.contains("3 笔订单 · 消费 129.00 元"),
        "{alert}"
    );
    assert!(
        row(&html, "alert", alerts[1]).is_none(),
        "another guide's alert"
    );
    assert!(row(&html, "alert", alerts[2]).is_none(), "a handled alert");

    // 我的待办: own open tasks, soonest first, the overdue one marked, due in Beijing time.
    let (status, html) = page(&t, &cookie, "/console/workbench?tab=tasks").await;
    assert_eq!(status, StatusCode::OK);
    let first = row(&html, "task", t1).expect("own task");
    assert!(first.contains("满月回访") && first.contains("李女士"));
    assert!(first.contains("138****0204") && !first.contains("data-overdue"));
    let due = Millis(soon).to_shanghai_string();
    assert!(
        first.contains(&format!("<span data-due>{}</span>", &due[..16])),
        "{first}"
    );
    let overdue = row(&html, "task", late).expect("own overdue task");
    assert!(overdue.contains("data-overdue") && overdue.contains("已逾期"));
    assert!(
        html.find(&format!(r#"data-task="{late}""#)) < html.find(&format!(r#"data-task="{t1}""#))
    );
    assert!(row(&html, "task", theirs).is_none(), "another guide's task");
    let csrf = csrf_in(&html);

    // 完成 closes it; the same post again is refused and changes nothing.
    let done = format!("/console/workbench/tasks/{t1}/done");
    let form = vec![("csrf", csrf.clone()), ("note", "已电话回访".to_owned())];
    let r = post_form(&t, &cookie, &done, &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/workbench?tab=tasks&ok_task=done");
    let closed = api_task(&t, t1).await;
    assert_eq!(
        (closed["state"].as_str(), closed["reason"].as_str()),
        (Some("done"), Some("已电话回访"))
    );
    let (_, html) = page(&t, &cookie, "/console/workbench?tab=tasks&ok_task=done").await;
    assert!(html.contains("待办已完成") && row(&html, "task", t1).is_none());
    let replay = vec![("csrf", csrf.clone()), ("note", "又一次".to_owned())];
    let r = post_form(&t, &cookie, &done, &replay).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains(r#"id="problem""#), "{body}");
    assert_eq!(api_task(&t, t1).await, closed, "the replay changed nothing");

    // Another guide's task: refused as not found, still open.
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/workbench/tasks/{theirs}/done"),
        &form,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/workbench/tasks/{theirs}/skip"),
        &[("csrf", csrf.clone()), ("reason", "不是我的".to_owned())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(api_task(&t, theirs).await["state"], "open");

    // 跳过 needs a reason and the session's CSRF token.
    let skip = format!("/console/workbench/tasks/{late}/skip");
    let r = post_form(
        &t,
        &cookie,
        &skip,
        &[("csrf", csrf.clone()), ("reason", " ".to_owned())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = post_form(
        &t,
        &cookie,
        &skip,
        &[("csrf", "forged".to_owned()), ("reason", "出差".to_owned())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(api_task(&t, late).await["state"], "open");
    let r = post_form(
        &t,
        &cookie,
        &skip,
        &[("csrf", csrf.clone()), ("reason", "客户出差".to_owned())],
    )
    .await;
    assert_eq!(location(&r), "/console/workbench?tab=tasks&ok_task=skipped");
    let v = api_task(&t, late).await;
    assert_eq!(
        (v["state"].as_str(), v["reason"].as_str()),
        (Some("skipped"), Some("客户出差"))
    );
    let (_, html) = page(&t, &cookie, "/console/workbench?tab=tasks").await;
    assert!(html.contains(r#"id="no-tasks""#));

    // 活码海报: the codes the guide is on, with the QR and the poster.
    let (status, html) = page(&t, &cookie, "/console/workbench?tab=codes").await;
    assert_eq!(status, StatusCode::OK);
    let li = row(&html, "code", my_code).expect("own code");
    assert!(li.contains("收银台"), "{li}");
    assert!(
        li.contains(&format!(r#"src="/console/live-codes/{my_code}/qr.png""#)),
        "{li}"
    );
    assert!(li.contains(&format!(
        r#"href="/console/live-codes/{my_code}/poster.png?download=1""#
    )));
    assert!(row(&html, "code", their_code).is_none());
    let r = t
        .client
        .get(t.url(&format!("/console/live-codes/{my_code}/qr.png")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");

    // 本周数据: the guide's week, GMV in yuan, the rank among the store's two guides.
    let (status, html) = page(&t, &cookie, "/console/workbench?tab=numbers").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"id="week""#) && html.contains(r#"data-figure="net_adds""#));
    assert!(
        html.contains(r#"<div class="card" data-figure="gmv"><span class="muted">成交额（元）</span><b>0.00</b></div>"#),
        "{html}"
    );
    assert!(html.contains(r#"data-of="2""#), "{html}");
    assert!(html.contains(r#"href="/console/leaderboards""#));
    assert!(html.contains("（北京时间）"));

    // The language switch leads back to the page, in English.
    let r = t
        .client
        .get(t.url("/console/lang?to=en&back=%2Fconsole%2Fworkbench%3Ftab%3Dtasks"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/console/workbench?tab=tasks");
    let lang = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(lang.starts_with("yutang_lang=en"), "{lang}");
    let en = format!("{cookie}; yutang_lang=en");
    let (_, html) = page(&t, &en, "/console/workbench").await;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(
        html.contains(">Customers<") && html.contains(">Tasks<") && html.contains("2 customers")
    );
    assert!(!html.contains("我的客户") && !html.contains("共 2 位客户"));
    assert!(html.contains(r#"id="lang">中文</a>"#));

    // An administrator follows nobody: an empty list, not the whole pool.
    let admin_id = t.staff("wb.admin", "admin", None).await;
    assert!(admin_id > 0);
    let admin = console_login(&t, "wb.admin").await;
    let (_, html) = page(&t, &admin, "/console").await;
    assert!(
        !html.contains("to-workbench"),
        "the home's link is for guides"
    );
    let (status, html) = page(&t, &admin, "/console/workbench").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="no-customers""#) && !html.contains("李女士"));
}
