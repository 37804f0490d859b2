//! The journey console pages (自动化旅程, issue #21 item 5) through HTTP: an admin builds a
//! journey in the editor (添加步骤 re-renders with one more row; a tag, a message and a wait
//! saved as the API stores them), sees it in the list, starts it; an event enrols a customer
//! and the page shows the counts per step, the latest runs and the customer's trace (the
//! mass message linked); editing makes a version; pause and archive (through the confirmation
//! page) move it, a refused move shows on the page. Bad input re-renders with what was typed,
//! the error by its field (a step's by its number), and creates nothing; guides are refused,
//! analysts and store managers read without the buttons. A group SOP (群SOP定时) is built in
//! the same editor (groups picked, its one group message with its delivery), refused with its
//! quiet-hours rule by the trigger, posted by the engine, and shown on its page (its posts)
//! and in the SOP calendar's week (群SOP日历), which moves a week at a time.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form};
use crate::helpers::{Engine, TestApp, spawn_app};
use crate::promotions::scalar;

both_engines!(
    console_journeys_build_run_and_follow,
    console_journeys_refuse_bad_input_and_create_nothing,
    console_journeys_by_role,
    console_group_sops_build_post_and_show_in_the_calendar,
);

fn zh(code: &str) -> &'static str {
    yutang_core::error_codes::find(code).expect(code).zh
}

/// A console form's fields.
type Form = Vec<(&'static str, String)>;

/// The editor's fields for an event journey `name` on `event`, without quiet hours, with the
/// rows `steps` (`("s0.kind", "tag")` …).
fn editor(csrf: &str, op: &str, name: &str, event: &str, steps: &[(&'static str, String)]) -> Form {
    let mut f = vec![
        ("csrf", csrf.to_owned()),
        ("op", op.to_owned()),
        ("name", name.to_owned()),
        ("trigger", "event".to_owned()),
        ("event", event.to_owned()),
        ("schedule_mode", "weekly".to_owned()),
        ("schedule_time", "10:00".to_owned()),
        ("audience", String::new()),
        ("date_attribute", "birthday".to_owned()),
        ("offset_days", "0".to_owned()),
        ("date_time", "09:00".to_owned()),
        ("expression", String::new()),
        ("entry", "once".to_owned()),
        ("cooldown_days", "30".to_owned()),
        ("quiet", "off".to_owned()),
        ("quiet_start", "22:00".to_owned()),
        ("quiet_end", "08:00".to_owned()),
    ];
    f.extend(steps.iter().cloned());
    f
}

fn s(k: &'static str, v: impl ToString) -> (&'static str, String) {
    (k, v.to_string())
}

/// The journeys the API lists.
async fn api_journeys(t: &TestApp) -> Vec<Value> {
    let r = t.get("/api/v1/journeys", &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Vec<Value>>().await.unwrap()
}

async fn api_journey(t: &TestApp, id: i64) -> Value {
    let r = t.get(&format!("/api/v1/journeys/{id}"), &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The id in `/console/journeys/{id}?…`.
fn id_in(loc: &str) -> i64 {
    loc.strip_prefix("/console/journeys/")
        .unwrap_or_else(|| panic!("{loc}"))
        .split(['?', '/'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The group SOP editor's fields: `weekdays` at `time` (or once `at`), the groups ticked (none:
/// 全部客户群), the group message and its delivery, quiet hours 22:00–08:00 on.
struct GroupSop<'a> {
    name: &'a str,
    weekdays: &'a [u8],
    time: &'a str,
    groups: &'a [i64],
    text: &'a str,
    delivery: &'a str,
}

fn group_editor(csrf: &str, g: &GroupSop<'_>) -> Form {
    let mut f = editor(csrf, "save", g.name, "add_friend", &[]);
    for (k, v) in f.iter_mut() {
        match *k {
            "trigger" => *v = "group_schedule".into(),
            "schedule_time" => *v = g.time.into(),
            "quiet" => *v = "on".into(),
            _ => {}
        }
    }
    f.extend(g.weekdays.iter().map(|d| s("weekdays", d)));
    if g.groups.is_empty() {
        f.push(s("group_scope", "all"));
    } else {
        f.push(s("group_scope", "some"));
        f.extend(g.groups.iter().map(|id| s("group_ids", id)));
    }
    f.extend([
        s("group_text", g.text),
        s("group_delivery", g.delivery),
        s("group_material", ""),
        s("group_attachments", ""),
    ]);
    f
}

/// The calendar's day `date` (`<section … data-date="…">` up to its end).
fn day_of<'a>(html: &'a str, date: &str) -> &'a str {
    let start = html
        .find(&format!(r#"data-date="{date}""#))
        .unwrap_or_else(|| panic!("no day {date}\n{html}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The row of the step table numbered `n` (or `end`).
fn step_row<'a>(html: &'a str, n: &str) -> &'a str {
    let start = html
        .find(&format!(r#"<tr data-step="{n}""#))
        .unwrap_or_else(|| panic!("no step row {n}\n{html}"));
    let rest = &html[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

async fn console_journeys_build_run_and_follow(e: Engine) {
    let (t, _fake, _, customers) = crate::mass_messages::synced(e).await;
    t.staff("cjo.admin", "admin", None).await;
    let cookie = console_login(&t, "cjo.admin").await;
    let tag = crate::mass_messages::tag(&t, "旅程新客").await;

    // 自动化旅程 in the menu right after 素材库; the list, empty, with 新建旅程.
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    let materials = html.find(r#"href="/console/materials""#).expect("素材库");
    let journeys = html
        .find(r#"href="/console/journeys""#)
        .expect("自动化旅程");
    assert!(journeys > materials && html[materials..journeys].matches("<a ").count() == 1);
    let (status, html) = page(&t, &cookie, "/console/journeys").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<a href="/console/journeys" class="on">自动化旅程</a>"#));
    assert!(html.contains(r#"id="new-journey""#) && html.contains("还没有旅程"));

    // The editor: the event kinds in Chinese, the tag catalogue, quiet hours on by default
    // 22:00–08:00, one blank row.
    let (status, html) = page(&t, &cookie, "/console/journeys/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<option value="add_friend" selected>添加好友</option>"#));
    assert!(html.contains(r#"<option value="coupon_reminder_queued">优惠券到期提醒</option>"#));
    assert!(html.contains(&format!(r#"<option value="{tag}">旅程新客</option>"#)));
    assert!(html.contains(r#"id="quiet-on" checked"#));
    assert!(html.contains(r#"name="quiet_start" value="22:00""#));
    assert!(html.contains(r#"id="step-1""#) && !html.contains(r#"id="step-2""#));
    assert!(!html.contains(r#"id="version-hint""#));
    let csrf = csrf_in(&html);

    // 添加步骤: the form again, what was typed kept, one more (blank) row focused; a row
    // without a kind is dropped and nothing is saved.
    let rows = [
        s("s0.kind", "tag"),
        s("s0.tag", tag),
        s("s1.kind", ""),
        s("s2.kind", "message"),
        s("s2.text", "欢迎加入鱼塘会员"),
    ];
    let r = post_form(
        &t,
        &cookie,
        "/console/journeys/new",
        &editor(&csrf, "add", "新客欢迎旅程", "check_in", &rows),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"value="新客欢迎旅程""#));
    assert!(html.contains(&format!(
        r#"<option value="{tag}" selected>旅程新客</option>"#
    )));
    assert!(
        html.contains(r#"name="s1.text" rows="3" maxlength="4000">欢迎加入鱼塘会员</textarea>"#)
    );
    assert!(html.contains(r#"id="step-3""#) && !html.contains(r#"id="step-4""#));
    assert!(html.contains(r#"<select id="s2-kind" name="s2.kind" autofocus>"#));
    assert!(html.contains(r#"<option value="check_in" selected>签到</option>"#));
    assert!(api_journeys(&t).await.is_empty());

    // 保存: a tag, a message and a wait of one hour.
    let rows = [
        s("s0.kind", "tag"),
        s("s0.tag", tag),
        s("s1.kind", "message"),
        s("s1.text", "欢迎加入鱼塘会员"),
        s("s2.kind", "wait"),
        s("s2.amount", 1),
        s("s2.unit", "hour"),
    ];
    let r = post_form(
        &t,
        &cookie,
        "/console/journeys/new",
        &editor(&csrf, "save", "新客欢迎旅程", "check_in", &rows),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let loc = location(&r);
    assert!(loc.ends_with("?done=created"), "{loc}");
    let id = id_in(&loc);
    let v = api_journey(&t, id).await;
    assert_eq!(v["status"], "draft");
    let stored = json!({"trigger": &v["trigger"], "steps": &v["steps"], "entry": &v["entry"],
        "quiet_hours": &v["quiet_hours"]});
    assert_eq!(
        stored,
        json!({"trigger": {"kind": "event", "event": "check_in"},
            "steps": [{"kind": "tag", "tag_id": tag},
                {"kind": "message", "text": "欢迎加入鱼塘会员"},
                {"kind": "wait", "seconds": 3600}],
            "entry": {"rule": "once"}, "quiet_hours": null})
    );

    // Its page: a draft, the steps in words, 启用.
    let path = format!("/console/journeys/{id}");
    let (status, html) = page(&t, &cookie, &loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("旅程已保存为草稿"));
    assert!(html.contains(r#"data-status="draft">草稿</span>"#));
    assert!(html.contains(r#"data-trigger="event">事件：签到</b>"#));
    assert!(html.contains(r#"id="journey-quiet">不设免打扰</b>"#));
    assert!(html.contains(r#"id="journey-entry">仅一次</b>"#));
    assert!(step_row(&html, "1").contains("组-旅程新客/旅程新客"));
    assert!(step_row(&html, "2").contains("欢迎加入鱼塘会员"));
    assert!(step_row(&html, "3").contains("等待 1 小时"));
    assert!(html.contains(r#"id="journey-activate""#) && !html.contains(r#"id="journey-pause""#));

    // The list: its state, trigger in words and counts.
    let (_, html) = page(&t, &cookie, "/console/journeys").await;
    assert!(html.contains(&format!(r#"<tr data-journey="{id}" data-status="draft">"#)));
    assert!(html.contains(r#"<td data-trigger="event">事件：签到</td>"#));

    // 启用, then a check-in enrols a customer: the tag, the message (a mass message), the wait.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/activate"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?done=activated"));
    let c = customers["wmDemoCustomer0005"];
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [{"id": "cjo-1", "kind": "check_in", "customer_id": c}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let report = t.app.journeys().tick().await.unwrap();
    assert_eq!(report.enrolled, 1, "{report:?}");
    let (_, html) = page(&t, &cookie, &format!("{path}?done=activated")).await;
    assert!(html.contains("旅程已启用"));
    assert!(html.contains(r#"data-status="active">进行中</span>"#));
    assert!(step_row(&html, "1").contains(r#"<span data-outcome="done">完成 1</span>"#));
    let message = step_row(&html, "2");
    assert!(
        message.contains(r#"<span data-outcome="sent">已发送 1</span>"#),
        "{message}"
    );
    assert!(message.contains(r#"<span data-outcome="queued">排队发送 1</span>"#));
    assert!(step_row(&html, "3").contains(r#"<span data-outcome="waiting">等待 1</span>"#));
    // Past the last step, waiting out the hour.
    assert!(step_row(&html, "end").contains(r#"<td data-count="waiting">1</td>"#));
    assert!(html.contains(r#"<b data-runs="active">1</b>"#));
    assert!(html.contains(r#"id="journey-pause""#) && !html.contains(r#"id="journey-activate""#));
    // The latest runs link to the customer's trace.
    let trace = format!("{path}?customer_id={c}#trace");
    assert!(html.contains(&format!(r#"<tr data-customer="{c}" data-state="active">"#)));
    assert!(html.contains(&format!(r#"href="{trace}""#)));

    // The customer's trace: each line in Chinese, the mass message linked.
    let mm = scalar(&t, "SELECT MAX(id) FROM mass_messages").await;
    let (status, html) = page(&t, &cookie, &trace).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(r#"id="trace-runs" data-customer="{c}""#)));
    for (kind, outcome, label) in [
        ("entry", "entered", "已进入"),
        ("tag", "done", "完成"),
        ("message", "queued", "排队发送"),
        ("message", "sent", "已发送"),
        ("wait", "waiting", "等待"),
    ] {
        assert!(
            html.contains(&format!(
                r#"<tr data-kind="{kind}" data-outcome="{outcome}">"#
            )),
            "{kind}:{outcome}"
        );
        assert!(html.contains(&format!("<td>{label}</td>")), "{label}");
    }
    assert!(html.contains("事件 #"), "the cause");
    assert!(html.contains("标签 组-旅程新客/旅程新客"));
    assert!(html.contains(&format!(
        r#"群发 <a href="/console/messages/{mm}">#{mm}</a>"#
    )));
    let (status, _) = page(&t, &cookie, &format!("/console/messages/{mm}")).await;
    assert_eq!(status, StatusCode::OK);
    // A customer who never entered, and a bad id.
    let other = customers["wmDemoCustomer0006"];
    let (_, html) = page(&t, &cookie, &format!("{path}?customer_id={other}")).await;
    assert!(html.contains(r#"id="no-runs""#));
    let (status, html) = page(&t, &cookie, &format!("{path}?customer_id=abc")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="trace-error">须为整数"#));

    // 编辑: the form filled in; saving makes version 2, the customer stays on version 1.
    let (status, html) = page(&t, &cookie, &format!("{path}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"id="version-hint""#) && html.contains("已在旅程中的客户继续按原版本执行")
    );
    assert!(html.contains(r#"name="s2.amount" value="1""#));
    assert!(html.contains(r#"<option value="hour" selected>小时</option>"#));
    assert!(html.contains(r#"id="quiet-off" checked"#));
    let rows = [
        s("s0.kind", "tag"),
        s("s0.tag", tag),
        s("s1.kind", "message"),
        s("s1.text", "欢迎加入鱼塘会员！"),
        s("s2.kind", "wait"),
        s("s2.amount", 2),
        s("s2.unit", "day"),
    ];
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/edit"),
        &editor(&csrf, "save", "新客欢迎旅程 v2", "check_in", &rows),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?done=saved"));
    let (_, html) = page(&t, &cookie, &format!("{path}?done=saved")).await;
    assert!(html.contains("已保存为新版本"));
    assert!(html.contains(r#"id="journey-version">v2</b>"#));
    assert!(html.contains(r#"<tr data-version="2">"#) && html.contains(r#"<tr data-version="1">"#));
    assert!(step_row(&html, "3").contains("等待 2 天"));
    assert_eq!(api_journey(&t, id).await["version"], 2);

    // 暂停; a second 暂停 is refused on the page.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/pause"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(location(&r), format!("{path}?done=paused"));
    let (_, html) = page(&t, &cookie, &format!("{path}?done=paused")).await;
    assert!(html.contains(r#"data-status="paused">已暂停</span>"#));
    assert!(html.contains(r#"id="journey-activate""#));
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/pause"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(r#"id="problem">{}"#, zh("journey_state"))));

    // 归档 through the confirmation page: the customer in flight leaves.
    let (status, html) = page(&t, &cookie, &format!("{path}/archive")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-outcome="archive""#));
    assert!(html.contains("自动化旅程「新客欢迎旅程 v2」"));
    assert!(html.contains("进行中的 1 位客户将退出旅程"));
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/archive"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(location(&r), format!("{path}?done=archived"));
    let (_, html) = page(&t, &cookie, &format!("{path}?done=archived")).await;
    assert!(html.contains(r#"data-status="archived">已归档</span>"#));
    assert!(!html.contains(r#"id="journey-actions""#));
    assert!(html.contains(r#"<b data-runs="exited">1</b>"#));
    let (status, _) = page(&t, &cookie, &format!("{path}/edit")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, html) = page(&t, &cookie, &trace).await;
    assert!(html.contains(r#"<tr data-kind="exit" data-outcome="exited">"#));
    assert!(html.contains("原因 旅程已归档"));

    // The audit log says what was done, in words.
    let (_, html) = page(&t, &cookie, "/console/audit").await;
    for op in [
        "新建自动化旅程",
        "启用自动化旅程",
        "暂停自动化旅程",
        "归档自动化旅程",
    ] {
        assert!(html.contains(op), "{op}");
    }
}

async fn console_journeys_refuse_bad_input_and_create_nothing(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("cjo.admin2", "admin", None).await;
    let cookie = console_login(&t, "cjo.admin2").await;
    let tag = crate::mass_messages::tag(&t, "循环标签").await;
    let (_, html) = page(&t, &cookie, "/console/journeys/new").await;
    let csrf = csrf_in(&html);
    let post = |form: Form| {
        let (t, cookie) = (&t, &cookie);
        async move { post_form(t, cookie, "/console/journeys/new", &form).await }
    };

    // A loop without a wait: refused above the steps, naming the step, the rows kept.
    let rows = [
        s("s0.kind", "tag"),
        s("s0.tag", tag),
        s("s1.kind", "goto"),
        s("s1.goto", 1),
    ];
    let r = post(editor(&csrf, "save", "循环旅程", "check_in", &rows)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"<p class="field-error" role="alert" data-field="steps">第 1 步（打标签）：{}"#,
            zh("journey_cycle")
        )),
        "{html}"
    );
    assert!(
        html.contains(
            r#"<fieldset class="step-row" id="step-1" data-step="1" aria-invalid="true">"#
        )
    );
    assert!(html.contains(r#"value="循环旅程""#));
    assert!(html.contains(&format!(
        r#"<option value="{tag}" selected>循环标签</option>"#
    )));
    assert!(html.contains(r#"name="s1.goto" value="1""#));
    assert!(html.contains(r#"<option value="goto" selected>跳转</option>"#));

    // A step's own refusal says which step, of what kind, and what it takes.
    let rows = [
        s("s0.kind", "wait"),
        s("s0.amount", 1),
        s("s0.unit", "hour"),
        s("s1.kind", "webhook"),
        s("s1.signal", "Not OK"),
    ];
    let r = post(editor(&csrf, "save", "信号旅程", "check_in", &rows)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("第 2 步（外部信号）：步骤设置有误（1–40 个小写字母、数字或 _"),
        "{html}"
    );

    // A tag that does not exist: named, and the select keeps it.
    let rows = [s("s0.kind", "tag"), s("s0.tag", 999_999)];
    let r = post(editor(&csrf, "save", "无此标签", "check_in", &rows)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(r#"data-field="steps">{}"#, zh("unknown_tag"))));
    assert!(html.contains(r#"<option value="999999" selected>#999999（已不可用）</option>"#));

    // A name, a trigger, an entry rule and quiet hours, each under its field.
    let rows = [s("s0.kind", "tag"), s("s0.tag", tag)];
    let mut bad_name = editor(&csrf, "save", " ", "check_in", &rows);
    bad_name.retain(|(k, _)| *k != "quiet");
    let r = post(bad_name).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(r#"data-field="name">{}"#, zh("invalid_name"))));
    // No quiet radio sent reads as on.
    assert!(html.contains(r#"id="quiet-on" checked"#));
    let mut weekly = editor(&csrf, "save", "周二会员日", "check_in", &rows);
    for (k, v) in weekly.iter_mut() {
        if *k == "trigger" {
            *v = "schedule".into();
        }
        if *k == "audience" {
            *v = "all".into();
        }
    }
    let r = post(weekly.clone()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(
        r#"data-field="trigger">{}"#,
        zh("invalid_weekdays")
    )));
    assert!(html.contains(r#"<option value="schedule" selected>定时触发</option>"#));
    let mut cooldown = editor(&csrf, "save", "冷却", "check_in", &rows);
    for (k, v) in cooldown.iter_mut() {
        match *k {
            "entry" => *v = "cooldown".into(),
            "cooldown_days" => *v = "0".into(),
            _ => {}
        }
    }
    let r = post(cooldown).await;
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(r#"data-field="entry">{}"#, zh("invalid_cooldown"))));
    assert!(html.contains(r#"id="entry-cooldown" checked"#));
    let mut quiet = editor(&csrf, "save", "免打扰", "check_in", &rows);
    for (k, v) in quiet.iter_mut() {
        match *k {
            "quiet" => *v = "on".into(),
            "quiet_end" => *v = "22:00".into(),
            _ => {}
        }
    }
    let r = post(quiet).await;
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(
        r#"data-field="quiet_hours">{}"#,
        zh("invalid_quiet_hours")
    )));
    // Nothing but a blank row.
    let r = post(editor(
        &csrf,
        "save",
        "空旅程",
        "check_in",
        &[s("s0.kind", "")],
    ))
    .await;
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(
        r#"data-field="steps">{}"#,
        zh("invalid_journey_steps")
    )));
    assert!(html.contains(r#"id="step-1""#), "a blank row to fill");

    // A wrong CSRF token stores nothing either.
    let r = post(editor("forged", "save", "伪造", "check_in", &rows)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(api_journeys(&t).await.is_empty());
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM journeys").await, 0);
}

async fn console_journeys_by_role(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("CJO-A").await;
    t.staff("cjo.guide", "guide", Some(store)).await;
    t.staff("cjo.analyst", "analyst", None).await;
    t.staff("cjo.manager", "store_manager", Some(store)).await;
    let r = t
        .post(
            "/api/v1/journeys",
            &t.admin,
            json!({"name": "角色旅程", "trigger": {"kind": "event", "event": "add_friend"},
                "steps": [{"kind": "wait", "seconds": 3600}], "entry": {"rule": "once"},
                "quiet_hours": {"start": "22:00", "end": "08:00"}}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/console/journeys/{id}");

    // A guide: no menu entry; every page and button is the forbidden page.
    let cookie = console_login(&t, "cjo.guide").await;
    let (_, html) = page(&t, &cookie, "/console").await;
    assert!(!html.contains(r#"href="/console/journeys""#));
    let csrf = csrf_in(&html);
    for p in [
        "/console/journeys".to_owned(),
        "/console/journeys/new".to_owned(),
        path.clone(),
        format!("{path}/edit"),
        format!("{path}/archive"),
        "/console/journeys/calendar".to_owned(),
        "/console/journeys/calendar?week=2026-12-07".to_owned(),
    ] {
        let (status, html) = page(&t, &cookie, &p).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{p}");
        assert!(html.contains(zh("forbidden")), "{p}");
    }
    let r = post_form(&t, &cookie, &format!("{path}/activate"), &[("csrf", csrf)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // An analyst and a store manager read: the list, the page, no buttons, no editor.
    for who in ["cjo.analyst", "cjo.manager"] {
        let cookie = console_login(&t, who).await;
        let (_, html) = page(&t, &cookie, "/console").await;
        assert!(html.contains(r#"href="/console/journeys""#), "{who}");
        let csrf = csrf_in(&html);
        let (status, html) = page(&t, &cookie, "/console/journeys").await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert!(
            html.contains("角色旅程") && !html.contains(r#"id="new-journey""#),
            "{who}"
        );
        assert!(html.contains("事件：添加好友"), "{who}");
        let (status, html) = page(&t, &cookie, &path).await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert!(html.contains("等待 1 小时"), "{who}");
        assert!(html.contains("22:00–08:00"), "{who}");
        assert!(!html.contains(r#"id="journey-actions""#), "{who}");
        assert!(html.contains(r#"id="trace-form""#), "{who}");
        let (status, _) = page(&t, &cookie, "/console/journeys/new").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        // The calendar reads; without the editor, its empty state offers no 新建群SOP.
        let (status, html) = page(&t, &cookie, "/console/journeys/calendar").await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert!(html.contains(r#"id="calendar-empty""#), "{who}");
        assert!(!html.contains(r#"id="new-group-sop""#), "{who}");
        let r = post_form(&t, &cookie, &format!("{path}/activate"), &[("csrf", csrf)]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(api_journey(&t, id).await["status"], "draft");
}

/// A group SOP through the console: the editor offers 群SOP定时 with the groups and the group
/// message's deliveries; a time inside the quiet hours and no group are refused by the trigger
/// with the form kept; saved, it reads back in the editor; the engine posts it (owner tasks;
/// a group mass message linked to its page); the page lists its posts; the SOP calendar shows
/// it on its weekday with what was posted, moves a week at a time and says a bad date.
async fn console_group_sops_build_post_and_show_in_the_calendar(e: Engine) {
    let (t, _fake, _, _) = crate::mass_messages::synced(e).await;
    t.staff("cjo.sop", "admin", None).await;
    let cookie = console_login(&t, "cjo.sop").await;
    let g1 = scalar(
        &t,
        "SELECT id FROM customer_groups WHERE chat_id = 'wrDemoGroup0001'",
    )
    .await;
    let g2 = scalar(
        &t,
        "SELECT id FROM customer_groups WHERE chat_id = 'wrDemoGroup0002'",
    )
    .await;

    let both = [g1, g2];

    // The calendar, linked from the list, before any SOP: this week, empty, 新建群SOP.
    let (_, html) = page(&t, &cookie, "/console/journeys").await;
    assert!(html.contains(r#"href="/console/journeys/calendar" id="journeys-calendar""#));
    let (status, html) = page(&t, &cookie, "/console/journeys/calendar").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>群SOP日历</h1>"));
    assert!(html.contains(r#"<a href="/console/journeys" class="on">自动化旅程</a>"#));
    assert!(html.contains(r#"id="calendar-empty""#));
    assert!(
        html.contains(r#"href="/console/journeys/new?trigger=group_schedule" id="new-group-sop""#)
    );
    assert_eq!(html.matches(r#"<section class="day"#).count(), 7);
    for d in ["周一", "周二", "周三", "周四", "周五", "周六", "周日"] {
        assert!(html.contains(&format!("<span>{d}")), "{d}");
    }

    // The editor from there: 群SOP定时 chosen, the synced groups to tick, 群主待办 by default.
    let (status, html) = page(&t, &cookie, "/console/journeys/new?trigger=group_schedule").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<option value="group_schedule" selected>群SOP定时（客户群）</option>"#)
    );
    assert!(html.contains(&format!(
        r#"name="group_ids" value="{g1}" id="group-{g1}">"#
    )));
    assert!(html.contains(r#"id="groups-some" checked"#));
    assert!(
        html.contains(r#"id="delivery-owner_task" checked> 群主待办（群主手动发送，不计上限）"#)
    );
    assert!(html.contains(r#"id="delivery-mass_message"> 企业群发（计入企业微信每群接收上限）"#));
    assert!(html.contains(r#"id="f-group-message" data-when="trigger=group_schedule""#));
    let csrf = csrf_in(&html);

    // 23:00 is inside the quiet hours: refused by the trigger, everything typed kept.
    let mut sop = GroupSop {
        name: "周三上新",
        weekdays: &[3],
        time: "23:00",
        groups: &both,
        text: "周三上新：草莓到店\n欢迎来选",
        delivery: "owner_task",
    };
    let r = post_form(
        &t,
        &cookie,
        "/console/journeys/new",
        &group_editor(&csrf, &sop),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"data-field="trigger">群SOP的发送时间须在免打扰时段（22:00–08:00）之外"#),
        "{html}"
    );
    assert!(html.contains(r#"<option value="group_schedule" selected>"#));
    assert!(html.contains(r#"name="schedule_time" value="23:00""#));
    assert!(
        html.contains(r#"id="weekday-3" checked"#) && !html.contains(r#"id="weekday-2" checked"#)
    );
    assert!(html.contains(&format!(r#"id="group-{g1}" checked"#)));
    assert!(html.contains(&format!(r#"id="group-{g2}" checked"#)));
    assert!(html.contains(">周三上新：草莓到店\n欢迎来选</textarea>"));
    assert!(html.contains(r#"id="delivery-owner_task" checked"#));
    // No group ticked: the trigger says to pick groups.
    sop.time = "10:00";
    sop.groups = &[];
    let mut none = group_editor(&csrf, &sop);
    for (k, v) in none.iter_mut() {
        if *k == "group_scope" {
            *v = "some".into();
        }
    }
    let r = post_form(&t, &cookie, "/console/journeys/new", &none).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"data-field="trigger">{}（请勾选客户群，或选择全部客户群）"#,
            zh("invalid_audience")
        )),
        "{html}"
    );
    // Empty text: refused under the group message.
    sop.groups = &both;
    sop.text = " ";
    let r = post_form(
        &t,
        &cookie,
        "/console/journeys/new",
        &group_editor(&csrf, &sop),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"data-field="group_message">群消息：{}"#,
            zh("invalid_step")
        )),
        "{html}"
    );
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM journeys").await, 0);

    // Saved: stored as the API stores it.
    sop.text = "周三上新：草莓到店\n欢迎来选";
    let r = post_form(
        &t,
        &cookie,
        "/console/journeys/new",
        &group_editor(&csrf, &sop),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let loc = location(&r);
    let tasks_sop = id_in(&loc);
    let v = api_journey(&t, tasks_sop).await;
    let trigger = &v["trigger"];
    assert_eq!(trigger["kind"], "group_schedule", "{v}");
    assert_eq!(trigger["weekdays"], json!([3]));
    assert_eq!(trigger["time"], "10:00");
    assert_eq!(trigger["group_ids"], json!([g1.min(g2), g1.max(g2)]));
    assert_eq!(trigger["all_groups"], false);
    assert!(trigger["at"].is_null());
    assert_eq!(
        v["steps"],
        json!([{"kind": "group_message", "text": "周三上新：草莓到店\n欢迎来选",
            "delivery": "owner_task"}]),
        "{v}"
    );

    // Its page: the trigger in words, the groups, the delivery, no runs, no posts yet.
    let path = format!("/console/journeys/{tasks_sop}");
    let (status, html) = page(&t, &cookie, &loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"data-trigger="group_schedule">每周三 10:00，2 个群</b>"#),
        "{html}"
    );
    assert!(html.contains(r#"id="journey-groups">2 个群</b>"#));
    assert!(html.contains(r#"id="journey-delivery" data-delivery="owner_task">群主待办</b>"#));
    assert!(html.contains(r#"id="journey-group-names""#));
    assert!(html.contains(r#"id="group-message-text">周三上新：草莓到店"#));
    assert!(html.contains(r#"id="no-sends""#));
    assert!(!html.contains(r#"id="trace-form""#) && !html.contains(r#"id="run-counts""#));

    // The editor reads it back.
    let (_, html) = page(&t, &cookie, &format!("{path}/edit")).await;
    assert!(html.contains(r#"<option value="group_schedule" selected>"#));
    assert!(html.contains(r#"id="weekday-3" checked"#));
    assert!(html.contains(r#"name="schedule_time" value="10:00""#));
    assert!(html.contains(&format!(r#"id="group-{g1}" checked"#)));
    assert!(html.contains(r#"id="delivery-owner_task" checked"#));
    assert!(html.contains(">周三上新：草莓到店\n欢迎来选</textarea>"));

    // A second SOP: every group, a group mass message, Wednesday 11:00.
    let mass = GroupSop {
        name: "周三群发",
        weekdays: &[3],
        time: "11:00",
        groups: &[],
        text: "周三会员日，全场 9 折",
        delivery: "mass_message",
    };
    let r = post_form(
        &t,
        &cookie,
        "/console/journeys/new",
        &group_editor(&csrf, &mass),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let mass_sop = id_in(&location(&r));
    let (_, html) = page(&t, &cookie, &format!("/console/journeys/{mass_sop}")).await;
    assert!(html.contains(r#"data-trigger="group_schedule">每周三 11:00，全部客户群</b>"#));
    assert!(html.contains(r#"data-delivery="mass_message">企业群发</b>"#));

    // Started, and past their Wednesday: the engine posts both.
    for id in [tasks_sop, mass_sop] {
        let r = post_form(
            &t,
            &cookie,
            &format!("/console/journeys/{id}/activate"),
            &[("csrf", csrf.clone())],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let next = |v: &Value| {
        yutang_core::time::Millis::parse_rfc3339("t", v["next_fire_at"].as_str().unwrap())
            .unwrap()
            .0
    };
    let at = next(&api_journey(&t, tasks_sop).await);
    assert_eq!(next(&api_journey(&t, mass_sop).await), at + 3_600_000);
    t.app.journeys().tick_at(at + 3_600_000).await.unwrap();
    let message = scalar(&t, "SELECT MAX(id) FROM mass_messages").await;

    // The posts on their pages: two owner tasks; the mass message linked.
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains(r#"<tr data-send=""#), "{html}");
    assert!(html.contains(r#"<td data-count="groups">2</td>"#));
    assert!(html.contains(r#"<td data-count="skipped">0</td>"#));
    assert!(html.contains(r#"<span data-count="tasks">2 条待办</span>"#));
    let (_, html) = page(&t, &cookie, &format!("/console/journeys/{mass_sop}")).await;
    assert!(html.contains(&format!(
        r#"<a href="/console/messages/{message}" data-message="{message}">群发 #{message}</a>"#
    )));
    let (status, _) = page(&t, &cookie, &format!("/console/messages/{message}")).await;
    assert_eq!(status, StatusCode::OK);

    // The calendar's week of that Wednesday: both on Wednesday, in time order, posted; the
    // other days empty.
    let day = yutang_core::messaging::shanghai_day(at);
    let date = yutang_core::journeys::day_text(day);
    let monday = yutang_core::journeys::week_of(Some(&date), 0).unwrap();
    let week = yutang_core::journeys::day_text(monday);
    let (status, html) = page(
        &t,
        &cookie,
        &format!("/console/journeys/calendar?week={date}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(r#"data-week="{week}""#)), "{html}");
    assert!(!html.contains(r#"id="calendar-empty""#));
    let wed = day_of(&html, &date);
    assert!(wed.contains(r#"data-weekday="3""#) && wed.contains("<span>周三"));
    let (a, b) = (
        wed.find(&format!(r#"data-journey="{tasks_sop}""#))
            .expect("the owner-task SOP"),
        wed.find(&format!(r#"data-journey="{mass_sop}""#))
            .expect("the mass-message SOP"),
    );
    assert!(a < b, "10:00 before 11:00");
    assert!(wed.contains(&format!(
        r#"<a class="name" href="/console/journeys/{tasks_sop}">周三上新</a>"#
    )));
    assert!(wed.contains(r#"data-time="10:00" data-sent="true""#));
    assert!(wed.contains(r#"<span data-tasks="2">2 条待办</span>"#));
    assert!(wed.contains(&format!(r#"data-message="{message}">群发 #{message}</a>"#)));
    assert!(wed.contains(r#"<span class="pill">群SOP</span>"#));
    assert!(wed.contains(r#"data-delivery="owner_task">群主待办</div>"#));
    assert!(wed.contains(r#"data-delivery="mass_message">企业群发</div>"#));
    assert!(wed.contains("周三会员日，全场 9 折"));
    for i in [0, 1, 3, 4, 5, 6] {
        let other = yutang_core::journeys::day_text(monday + i);
        assert!(!day_of(&html, &other).contains("data-journey"), "{other}");
    }
    // A week on: the next Wednesday, not yet posted; and back again.
    let next_week = yutang_core::journeys::day_text(monday + 7);
    let prev_week = yutang_core::journeys::day_text(monday - 7);
    assert!(html.contains(&format!(
        r#"href="/console/journeys/calendar?week={next_week}" id="next-week""#
    )));
    assert!(html.contains(&format!(
        r#"href="/console/journeys/calendar?week={prev_week}" id="prev-week""#
    )));
    let (_, html) = page(
        &t,
        &cookie,
        &format!("/console/journeys/calendar?week={next_week}"),
    )
    .await;
    let wed = day_of(&html, &yutang_core::journeys::day_text(monday + 9));
    assert!(
        wed.contains(r#"data-time="10:00">"#) && !wed.contains("data-sent"),
        "{wed}"
    );
    assert!(html.contains(&format!(
        r#"href="/console/journeys/calendar?week={week}" id="prev-week""#
    )));
    // Paused: still on the calendar, marked.
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/journeys/{mass_sop}/pause"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(
        &t,
        &cookie,
        &format!("/console/journeys/calendar?week={next_week}"),
    )
    .await;
    assert!(html.contains(&format!(
        r#"data-journey="{mass_sop}" data-kind="group_schedule" data-status="paused""#
    )));
    assert!(html.contains(r#"<span class="pill failed" data-paused>已暂停</span>"#));

    // A date that does not read: said on the page, this week shown, the date kept.
    let (status, html) = page(&t, &cookie, "/console/journeys/calendar?week=2026-13-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&format!(
        r#"id="week-error" data-field="week">{}"#,
        zh("invalid_date")
    )));
    assert!(html.contains(r#"name="week" value="2026-13-01" class="invalid""#));
    assert_eq!(html.matches(r#"<section class="day"#).count(), 7);

    // The list: the SOPs' triggers in words.
    let (_, html) = page(&t, &cookie, "/console/journeys").await;
    assert!(html.contains(r#"<td data-trigger="group_schedule">每周三 10:00，2 个群</td>"#));
}
