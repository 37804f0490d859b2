//! The mass-message console pages (群发, issue #21 item 1) through HTTP against the fake WeCom:
//! the list with the messaging rules and their form (a 0 cap refused in Chinese under its
//! field), the composer's 预览触达 (the same counts as the API's preview, every exclusion
//! reason in words), 发送 (a message created, its page with counts, reasons, the guides' tasks,
//! 刷新结果 and 提醒导购, the recipients filtered by state and paged), a scheduled message
//! cancelled once, bad input re-rendered under its field without creating anything (and never
//! a 500), and who sees what: analysts read, store managers send to their store and see only
//! its messages, guides are refused.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form, refused};
use crate::helpers::{Engine, TestApp, spawn_app};
use crate::mass_messages::{tag, tag_customer};

both_engines!(
    console_messages_rules_preview_send_and_follow_up,
    console_messages_refuse_bad_input_and_create_nothing,
    console_messages_by_role,
    console_group_messages_pick_groups_and_list_them,
);

fn zh(code: &str) -> &'static str {
    yutang_core::error_codes::find(code).expect(code).zh
}

/// [`crate::mass_messages::synced`] without the store.
async fn synced(
    e: Engine,
) -> (
    TestApp,
    yutang_wecom::fake::FakeWecom,
    BTreeMap<String, i64>,
) {
    let (t, fake, _, customers) = crate::mass_messages::synced(e).await;
    (t, fake, customers)
}

/// The composer's fields for a message `name` saying `text` (no attachment, no holdout, sent
/// now), with `more` added after them (a later single field wins; link rows add up).
fn compose(csrf: &str, name: &str, text: &str, more: &[(&'static str, String)]) -> Form {
    let mut f = vec![
        ("csrf", csrf.to_owned()),
        ("name", name.to_owned()),
        ("text", text.to_owned()),
        ("holdout", "0".to_owned()),
        ("when", "now".to_owned()),
    ];
    f.extend(more.iter().cloned());
    f
}

/// A console form's fields.
type Form = Vec<(&'static str, String)>;

/// The messages the API lists.
async fn api_messages(t: &TestApp) -> Vec<Value> {
    let r = t.get("/api/v1/mass-messages", &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Vec<Value>>().await.unwrap()
}

/// The number in `data-…="key">N<` of a page.
fn number(html: &str, attr: &str, key: &str) -> u64 {
    let marker = format!("{attr}=\"{key}\">");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker}\n{html}"))
        + marker.len();
    html[at..at + html[at..].find('<').unwrap()]
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{marker}"))
}

/// Shanghai wall-clock time `days` from now as `<input type="datetime-local">` sends it.
fn local_in(t: &TestApp, days: i64) -> String {
    let s = yutang_core::time::Millis(t.app.now() + days * 86_400_000).to_shanghai_string();
    s[..16].replace(' ', "T")
}

async fn console_messages_rules_preview_send_and_follow_up(e: Engine) {
    let (t, fake, customers) = synced(e).await;
    t.staff("cm.admin", "admin", None).await;
    let cookie = console_login(&t, "cm.admin").await;
    let all: Vec<i64> = customers.values().copied().collect();

    // 群发 in the menu; the list, empty, with the rules at their defaults.
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/console/messages""#) && html.contains(">群发<"));
    let (status, html) = page(&t, &cookie, "/console/messages").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"compose\"") && html.contains("还没有群发"));
    assert!(html.contains(r#"data-rule="daily_cap">1<"#), "{html}");
    assert!(html.contains(r#"data-rule="weekly_cap">3<"#));
    assert!(html.contains("每月不超过当月天数条") && html.contains("尚未保存过"));
    assert!(html.contains("id=\"rules-form\""));
    let csrf = csrf_in(&html);

    // A 0 cap: refused under its field in Chinese, what was typed kept; a word neither.
    let opt = tag(&t, "拒收群发").await;
    let rules = |daily: &str, weekly: &str, rule: &str, tag: String| {
        vec![
            ("csrf", csrf.clone()),
            ("daily_cap", daily.to_owned()),
            ("weekly_cap", weekly.to_owned()),
            ("receipt_rule", rule.to_owned()),
            ("opt_out_tag_id", tag),
        ]
    };
    let r = post_form(
        &t,
        &cookie,
        "/console/messages/settings",
        &rules("0", "3", "month_days", String::new()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("daily_cap", zh("invalid_cap"))),
        "{html}"
    );
    assert!(html.contains(r#"name="daily_cap" inputmode="numeric" value="0""#));
    let r = post_form(
        &t,
        &cookie,
        "/console/messages/settings",
        &rules("2", "许多", "month_days", String::new()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("weekly_cap", zh("invalid_cap")))
    );
    let r = post_form(
        &t,
        &cookie,
        "/console/messages/settings",
        &rules("2", "5", "hourly", String::new()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("receipt_rule", zh("invalid_receipt_rule")))
    );
    let r = post_form(
        &t,
        &cookie,
        "/console/messages/settings",
        &rules("2", "5", "weekly_7", "999999".into()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("opt_out_tag_id", zh("unknown_tag")))
    );
    let v: Value = t
        .get("/api/v1/messaging/settings", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["updated_at"], Value::Null, "nothing saved: {v}");
    // Saved: the flash, the rules shown, the API agrees.
    let r = post_form(
        &t,
        &cookie,
        "/console/messages/settings",
        &rules("2", "5", "weekly_7", opt.to_string()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/messages?ok=saved#rules");
    let (_, html) = page(&t, &cookie, "/console/messages?ok=saved").await;
    assert!(html.contains("已保存"));
    assert!(
        html.contains(r#"data-rule="daily_cap">2<"#)
            && html.contains(r#"data-rule="weekly_cap">5<"#)
    );
    assert!(html.contains("每周不超过 7 条") && html.contains("组-拒收群发/拒收群发"));
    assert!(
        html.contains(&format!(r#"<option value="{opt}" selected>"#)),
        "{html}"
    );
    let v: Value = t
        .get("/api/v1/messaging/settings", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["daily_cap"].as_i64(), v["weekly_cap"].as_i64()),
        (Some(2), Some(5))
    );
    assert_eq!(v["receipt_rule"], "weekly_7");
    assert_eq!(v["opt_out_tag_id"], opt);

    // The audience: ten customers with a tag, two of whom opted out.
    let vip = tag(&t, "周末会员").await;
    for c in &all[..10] {
        tag_customer(&t, *c, vip).await;
    }
    tag_customer(&t, all[0], opt).await;
    tag_customer(&t, all[1], opt).await;

    // The composer offers the tag and the segments.
    let (status, html) = page(&t, &cookie, "/console/messages/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"name="tag_ids" value="{vip}""#)),
        "{html}"
    );
    assert!(html.contains("id=\"segment_id\"") && html.contains("id=\"customer_ids\""));
    assert!(html.contains("预览触达") && html.contains(">发送<"));

    // 预览触达: the API's counts, each reason in words; nothing is created.
    let tags = ("tag_ids", vip.to_string());
    let audience = ("audience", "tags".to_owned());
    let form = compose(
        &csrf,
        "",
        "",
        &[audience.clone(), tags.clone(), ("do", "preview".into())],
    );
    let r = post_form(&t, &cookie, "/console/messages/new", &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let api: Value = t
        .post(
            "/api/v1/mass-messages/preview",
            &t.admin,
            json!({"audience": {"tag_ids": [vip]}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(number(&html, "data-preview", "audience"), 10, "{html}");
    assert_eq!(
        number(&html, "data-preview", "audience"),
        api["audience"].as_u64().unwrap()
    );
    assert_eq!(
        number(&html, "data-preview", "send"),
        api["send"].as_u64().unwrap()
    );
    assert_eq!(number(&html, "data-preview", "send"), 8);
    assert_eq!(number(&html, "data-preview", "holdout"), 0);
    assert_eq!(number(&html, "data-preview", "excluded"), 2);
    for (reason, label) in [
        ("no_guide", "没有可发送的导购"),
        ("deleted_guide", "客户已删除导购"),
        ("opted_out", "客户已退订"),
        ("receipt_cap", "超出企业微信接收上限"),
        ("frequency_cap", "超出频次上限"),
    ] {
        let n = api["excluded"][reason].as_u64().unwrap();
        assert!(
            html.contains(&format!(
                r#"<tr data-reason="{reason}"><td>{label}</td><td data-n="{n}">"#
            )),
            "{reason}: {html}"
        );
    }
    assert!(html.contains("id=\"preview-guides\"") && html.contains("data-staff="));
    // The form comes back as typed.
    assert!(html.contains(&format!(r#"name="tag_ids" value="{vip}" checked"#)));
    assert!(html.contains(r#"value="tags" id="audience-tags" checked"#));
    assert!(api_messages(&t).await.is_empty());

    // 发送: a link card, a text typed with the browser's line breaks, a 12.5% holdout.
    let form = compose(
        &csrf,
        "周末会员日",
        "本周末会员日\r\n全场 8 折",
        &[
            audience.clone(),
            tags.clone(),
            ("holdout", "12.5".into()),
            ("link_title", "会员日".into()),
            ("link_url", "https://shop.example.com/day".into()),
            ("link_desc", "到店有礼".into()),
            ("link_picurl", String::new()),
            ("link_title", String::new()),
            ("link_url", String::new()),
            ("link_desc", String::new()),
            ("link_picurl", String::new()),
            ("image_url", String::new()),
            ("do", "send".into()),
        ],
    );
    let r = post_form(&t, &cookie, "/console/messages/new", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let loc = location(&r);
    let id: i64 = loc
        .strip_prefix("/console/messages/")
        .and_then(|rest| rest.strip_suffix("?done=created"))
        .unwrap_or_else(|| panic!("{loc}"))
        .parse()
        .unwrap();
    let listed = api_messages(&t).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "周末会员日");
    assert_eq!(listed[0]["text"], "本周末会员日\n全场 8 折");
    assert_eq!(listed[0]["holdout_bp"], 1250);
    assert_eq!(listed[0]["audience"]["tag_ids"], json!([vip]));
    assert_eq!(
        listed[0]["attachments"][0]["url"],
        "https://shop.example.com/day"
    );
    t.settle_jobs().await;

    // Its page: the notice, the content, the counts, the reasons, the guides' tasks.
    let path = format!("/console/messages/{id}");
    let (status, html) = page(&t, &cookie, &loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("群发已创建"), "{html}");
    assert!(html.contains(r#"id="message-name">周末会员日<"#));
    assert!(html.contains(r#"data-status="sent">已发出<"#), "{html}");
    assert!(html.contains("本周末会员日\n全场 8 折") && html.contains("<b>会员日</b>"));
    assert!(html.contains("组-周末会员/周末会员") && html.contains("12.5%"));
    let api: Value = t
        .get(&format!("/api/v1/mass-messages/{id}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    for key in [
        "audience",
        "task_created",
        "holdout",
        "excluded",
        "delivered",
        "failed",
    ] {
        assert_eq!(
            number(&html, "data-count", key),
            api["counts"][key].as_u64().unwrap(),
            "{key}"
        );
    }
    assert_eq!(number(&html, "data-count", "audience"), 10);
    assert_eq!(number(&html, "data-count", "excluded"), 2);
    assert!(html.contains(r#"<tr data-reason="opted_out"><td>客户已退订</td><td>2</td>"#));
    let tasks = api["tasks"].as_array().unwrap();
    assert!(!tasks.is_empty());
    for task in tasks {
        assert!(html.contains(&format!(
            r#"data-task="{}" data-state="created""#,
            task["id"]
        )));
        assert!(html.contains(task["staff_name"].as_str().unwrap()));
    }
    assert!(html.contains("待导购确认") && html.contains("0 / 3"));
    assert!(html.contains("id=\"message-remind\"") && html.contains("id=\"message-refresh\""));
    assert!(!html.contains("id=\"message-cancel\""));
    // The recipients: every one, then by state (the opted-out in words).
    assert_eq!(html.matches("<tr data-customer=").count(), 10);
    let (status, html) = page(&t, &cookie, &format!("{path}?state=excluded")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<tr data-customer=").count(), 2);
    assert_eq!(
        html.matches(r#"data-state="excluded" data-reason="opted_out""#)
            .count(),
        2
    );
    assert!(html.contains("<td>客户已退订</td>"));
    assert!(html.contains(r#"data-state="excluded" aria-current="true""#));
    let (status, _) = page(&t, &cookie, &format!("{path}?state=nope")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = page(&t, &cookie, &format!("{path}?after=abc")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // 刷新结果 after one guide sent: delivered, that task confirmed.
    let templates = fake.msg_templates();
    let first = &templates[0];
    assert!(fake.complete_msg_template_for(&first.msgid, &first.creator));
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/refresh"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?done=refreshed"));
    let (_, html) = page(&t, &cookie, &location(&r)).await;
    assert!(html.contains("已读取最新发送结果"));
    assert_eq!(
        number(&html, "data-count", "delivered"),
        first.targets.len() as u64
    );
    assert!(html.contains(r#"data-state="confirmed""#) && html.contains("导购已发送"));
    let (_, html) = page(&t, &cookie, &format!("{path}?state=delivered")).await;
    assert_eq!(
        html.matches("<tr data-customer=").count(),
        first.targets.len()
    );

    // 提醒导购: the guides who have not sent.
    let waiting = tasks.len() - 1;
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/remind"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("{path}?done=reminded&n={waiting}&at_limit=0")
    );
    let (_, html) = page(&t, &cookie, &location(&r)).await;
    assert!(html.contains(&format!("已提醒 {waiting} 位导购")), "{html}");
    if waiting > 0 {
        assert!(html.contains("1 / 3"));
    }

    // Listed with its counts.
    let (_, html) = page(&t, &cookie, "/console/messages").await;
    assert!(html.contains(&format!(
        r#"<tr data-message="{id}" data-status="sent" data-kind="tags">"#
    )));
    assert!(html.contains("已发出") && html.contains("<td>标签</td>"));
    assert!(
        html.contains(r#"<td data-count="audience">10</td>"#),
        "{html}"
    );
    assert!(html.contains(r#"<td data-count="excluded">2</td>"#));

    // A message at a time: scheduled, cancelled once.
    let later = local_in(&t, 2);
    let form = compose(
        &csrf,
        "下周上新",
        "新品到店",
        &[
            ("audience", "customers".into()),
            (
                "customer_ids",
                format!("{}\r\n{}，{}", all[2], all[3], all[4]),
            ),
            ("when", "later".into()),
            ("send_at", later.clone()),
            ("do", "send".into()),
        ],
    );
    let r = post_form(&t, &cookie, "/console/messages/new", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let loc = location(&r);
    let path = loc.split('?').next().unwrap().to_owned();
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains(r#"data-status="scheduled">待发送<"#));
    assert!(
        html.contains(&later.replace('T', " ")),
        "the send time in Shanghai"
    );
    assert!(html.contains("3 位指定客户") && html.contains("到发送时间才确定受众"));
    assert!(html.contains("id=\"message-cancel\"") && !html.contains("id=\"message-remind\""));
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/cancel"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?done=cancelled"));
    let (_, html) = page(&t, &cookie, &location(&r)).await;
    assert!(html.contains("群发已取消") && html.contains(r#"data-status="cancelled">已取消<"#));
    assert!(!html.contains("id=\"message-cancel\""));
    // Again: refused on the page, in words.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/cancel"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(zh("message_not_scheduled"))
    );
    // Without the form's token: refused.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/cancel"),
        &[("csrf", "x".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The audit log names what was done.
    let (_, html) = page(&t, &cookie, "/console/audit").await;
    for label in [
        "群发变更",
        "修改群发规则",
        "新建群发",
        "取消群发",
        "提醒导购发送群发",
    ] {
        assert!(html.contains(label), "{label}");
    }

    // In English.
    let en = format!("{cookie}; yutang_lang=en");
    let (_, html) = page(&t, &en, &path).await;
    assert!(html.contains("Cancelled") && html.contains("Mass messages"));
    let (_, html) = page(&t, &en, "/console/messages").await;
    assert!(html.contains("<h1>Mass messages</h1>") && html.contains("At most 7 a week"));
    fake.shutdown().await;
}

async fn console_messages_refuse_bad_input_and_create_nothing(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("cm.op", "operator", None).await;
    let cookie = console_login(&t, "cm.op").await;
    let c1 = crate::customers::customer_with_phone(&t, "13700000011", "王一").await;
    let (_, html) = page(&t, &cookie, "/console/messages/new").await;
    let csrf = csrf_in(&html);
    let to_c1 = [
        ("audience", "customers".to_owned()),
        ("customer_ids", c1.to_string()),
    ];
    let post = |form: Vec<(&'static str, String)>| {
        let t = &t;
        let cookie = &cookie;
        async move { post_form(t, cookie, "/console/messages/new", &form).await }
    };
    let send = |name: &str, text: &str, more: &[(&'static str, String)]| {
        let mut f = compose(&csrf, name, text, &to_c1);
        f.extend(more.iter().cloned());
        f.push(("do", "send".into()));
        f
    };

    // Each refusal comes back under its field in Chinese, the form as typed.
    let cases: Vec<(Form, &str, &str)> = vec![
        (send("", "你好", &[]), "name", "invalid_name"),
        (send("上新\u{7f}", "你好", &[]), "name", "invalid_name"),
        (
            send("x".repeat(41).as_str(), "你好", &[]),
            "name",
            "invalid_name",
        ),
        (send("上新", "", &[]), "text", "empty_content"),
        (
            send("上新", "坏\u{85}字", &[]),
            "text",
            "invalid_characters",
        ),
        (
            send("上新", &"字".repeat(4001), &[]),
            "text",
            "text_too_long",
        ),
        (
            send("上新", "你好", &[("holdout", "abc".into())]),
            "holdout_bp",
            "invalid_holdout",
        ),
        (
            send("上新", "你好", &[("holdout", "51".into())]),
            "holdout_bp",
            "invalid_holdout",
        ),
        (
            send(
                "上新",
                "你好",
                &[("holdout", "99999999999999999999".into())],
            ),
            "holdout_bp",
            "invalid_holdout",
        ),
        (
            send("上新", "你好", &[("customer_ids", "12abc".into())]),
            "customer_ids",
            "invalid_id",
        ),
        (
            send(
                "上新",
                "你好",
                &[("customer_ids", "99999999999999999999".into())],
            ),
            "customer_ids",
            "invalid_id",
        ),
        (
            send("上新", "你好", &[("customer_ids", " ".into())]),
            "customer_ids",
            "invalid_audience",
        ),
        (
            send("上新", "你好", &[("customer_ids", "424242".into())]),
            "customer_ids",
            "unknown_customer",
        ),
        (
            send(
                "上新",
                "你好",
                &[("audience", "segment".into()), ("segment_id", "x".into())],
            ),
            "segment_id",
            "invalid_form",
        ),
        (
            send(
                "上新",
                "你好",
                &[
                    ("audience", "segment".into()),
                    ("segment_id", String::new()),
                ],
            ),
            "segment_id",
            "invalid_audience",
        ),
        (
            send(
                "上新",
                "你好",
                &[("audience", "segment".into()), ("segment_id", "777".into())],
            ),
            "segment_id",
            "unknown_segment",
        ),
        (
            send("上新", "你好", &[("audience", "tags".into())]),
            "tag_ids",
            "invalid_audience",
        ),
        (
            send(
                "上新",
                "你好",
                &[("audience", "tags".into()), ("tag_ids", "888".into())],
            ),
            "tag_ids",
            "unknown_tag",
        ),
        (
            send("上新", "你好", &[("audience", "everyone".into())]),
            "audience",
            "invalid_audience",
        ),
        (
            send(
                "上新",
                "你好",
                &[("when", "later".into()), ("send_at", String::new())],
            ),
            "send_at",
            "invalid_time",
        ),
        (
            send(
                "上新",
                "你好",
                &[("when", "later".into()), ("send_at", "明天早上".into())],
            ),
            "send_at",
            "invalid_time",
        ),
        (
            send(
                "上新",
                "你好",
                &[
                    ("when", "later".into()),
                    ("send_at", "2020-01-01T09:00".into()),
                ],
            ),
            "send_at",
            "send_at_past",
        ),
        (
            send(
                "上新",
                "你好",
                &[
                    ("when", "later".into()),
                    ("send_at", "99999-01-01T09:00".into()),
                ],
            ),
            "send_at",
            "invalid_time",
        ),
        (
            send(
                "上新",
                "你好",
                &[
                    ("link_title", "新品".into()),
                    ("link_url", "javascript:alert(1)".into()),
                ],
            ),
            "attachments",
            "invalid_url",
        ),
        (
            send(
                "上新",
                "你好",
                &[
                    ("link_title", String::new()),
                    ("link_url", "https://x.example.com".into()),
                ],
            ),
            "attachments",
            "invalid_attachment",
        ),
        (
            send(
                "上新",
                "你好",
                &[("image_url", "ftp://x.example.com/a.png".into())],
            ),
            "attachments",
            "invalid_url",
        ),
    ];
    for (form, field, code) in cases {
        let r = post(form.clone()).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field} {code}: {form:?}"
        );
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&refused(field, zh(code))),
            "{field} {code}: {}",
            &html[html.find("<main>").unwrap_or(0)..]
        );
        assert!(html.contains("id=\"message-form\""), "re-rendered");
    }
    // What was typed comes back.
    let r = post(send(
        "周末上新",
        "第一行\r\n第二行",
        &[("holdout", "abc".into())],
    ))
    .await;
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"value="周末上新""#) && html.contains(">第一行\n第二行</textarea>"));
    assert!(html.contains(r#"name="holdout" value="abc""#));

    // Ten link cards: the form has rows for three, a crafted one sends ten: refused.
    let mut ten = Vec::new();
    for i in 0..10 {
        ten.push(("link_title", format!("链接{i}")));
        ten.push(("link_url", format!("https://shop.example.com/{i}")));
        ten.push(("link_desc", String::new()));
        ten.push(("link_picurl", String::new()));
    }
    let r = post(send("十个附件", "", &ten)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("attachments", zh("too_many_items"))),
        "{html}"
    );
    assert_eq!(
        html.matches(r#"name="link_title""#).count(),
        10,
        "every row back"
    );
    // Nine are fine (an attachment without text is a message).
    let r = post(send("九个附件", "", &ten[..36])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // A C0 control character never reaches the form: the console's 400, not a 500.
    let r = post(send("上新\u{1}", "你好", &[])).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post(send("上新", "你\u{0}好", &[])).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // A preview refuses bad audiences the same way (and ignores a missing name).
    let mut f = compose(
        &csrf,
        "",
        "",
        &[
            ("audience", "customers".into()),
            ("customer_ids", "1\n2x".into()),
        ],
    );
    f.push(("do", "preview".into()));
    let r = post(f).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(&refused("customer_ids", zh("invalid_id"))));
    assert!(html.contains(">1\n2x</textarea>") && !html.contains("id=\"preview\""));
    // A form sent without a button previews.
    let r = post(compose(&csrf, "", "", &to_c1)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(number(&html, "data-preview", "audience"), 1);
    assert!(
        html.contains(r#"<tr data-reason="no_guide"><td>没有可发送的导购</td><td data-n="1">"#)
    );

    // Only the nine-attachment message was created.
    let listed = api_messages(&t).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["name"], "九个附件");
    assert_eq!(listed[0]["attachments"].as_array().unwrap().len(), 9);
}

async fn console_messages_by_role(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("CM-R").await;
    let other = t.store("CM-O").await;
    t.staff("cm.analyst", "analyst", None).await;
    t.staff("cm.manager", "store_manager", Some(store)).await;
    t.staff("cm.other", "store_manager", Some(other)).await;
    t.staff("cm.operator", "operator", None).await;
    t.staff("cm.guide", "guide", Some(store)).await;
    let c1 = crate::customers::customer_with_phone(&t, "13700000021", "李二").await;
    // An HQ message, scheduled.
    let r = t
        .post(
            "/api/v1/mass-messages",
            &t.admin,
            json!({"name": "总部群发", "text": "你好", "send_at": "2099-01-01T00:00:00Z",
                   "audience": {"customer_ids": [c1]}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let hq = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let hq_path = format!("/console/messages/{hq}");

    // Analysts read: the list, the rules without their form, a message without its buttons.
    let cookie = console_login(&t, "cm.analyst").await;
    let (status, html) = page(&t, &cookie, "/console/messages").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/console/messages""#), "nav");
    assert!(html.contains("总部群发") && html.contains("id=\"rules-current\""));
    assert!(!html.contains("id=\"compose\"") && !html.contains("id=\"rules-form\""));
    assert!(html.contains("群发规则由总部"));
    let csrf = csrf_in(&html);
    let (status, html) = page(&t, &cookie, &hq_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("总部群发") && !html.contains("id=\"message-cancel\""));
    let (status, html) = page(&t, &cookie, "/console/messages/new").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains(zh("forbidden")));
    let form = compose(
        &csrf,
        "分析",
        "你好",
        &[
            ("audience", "customers".into()),
            ("customer_ids", c1.to_string()),
            ("do", "send".into()),
        ],
    );
    let r = post_form(&t, &cookie, "/console/messages/new", &form).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_form(
        &t,
        &cookie,
        &format!("{hq_path}/cancel"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let rules = [
        ("csrf", csrf.clone()),
        ("daily_cap", "0".into()),
        ("weekly_cap", "3".into()),
        ("receipt_rule", "month_days".into()),
    ];
    let r = post_form(&t, &cookie, "/console/messages/settings", &rules).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "forbidden before the form is read"
    );

    // A store manager: composes for their store, sees only its messages, not the rules form.
    let cookie = console_login(&t, "cm.manager").await;
    let (status, html) = page(&t, &cookie, "/console/messages").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"compose\"") && !html.contains("id=\"rules-form\""));
    assert!(
        !html.contains("总部群发"),
        "HQ's message is not the store's"
    );
    let csrf = csrf_in(&html);
    let (status, _) = page(&t, &cookie, &hq_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = post_form(
        &t,
        &cookie,
        &format!("{hq_path}/cancel"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = post_form(
        &t,
        &cookie,
        "/console/messages/settings",
        &[
            ("csrf", csrf.clone()),
            ("daily_cap", "2".into()),
            ("weekly_cap", "3".into()),
            ("receipt_rule", "month_days".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (status, html) = page(&t, &cookie, "/console/messages/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"store-only\""));
    // A customer outside the store is not theirs to name; a segment's members are cut to it.
    let form = compose(
        &csrf,
        "本店群发",
        "你好",
        &[
            ("audience", "customers".into()),
            ("customer_ids", c1.to_string()),
            ("do", "send".into()),
        ],
    );
    let r = post_form(&t, &cookie, "/console/messages/new", &form).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("customer_ids", zh("unknown_customer")))
    );
    let g = t.staff("cm.g2", "guide", Some(store)).await;
    crate::customers::follow(&t, c1, g).await;
    let later = local_in(&t, 3);
    let form = compose(
        &csrf,
        "本店群发",
        "你好",
        &[
            ("audience", "customers".into()),
            ("customer_ids", c1.to_string()),
            ("when", "later".into()),
            ("send_at", later),
            ("do", "send".into()),
        ],
    );
    let r = post_form(&t, &cookie, "/console/messages/new", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let mine = location(&r).split('?').next().unwrap().to_owned();
    let (status, html) = page(&t, &cookie, &mine).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("本店群发")
            && html.contains("门店 CM-R")
            && html.contains("id=\"message-cancel\"")
    );
    let (_, html) = page(&t, &cookie, "/console/messages").await;
    assert!(html.contains("本店群发"));
    // Another store's manager does not see it.
    let cookie = console_login(&t, "cm.other").await;
    let (status, _) = page(&t, &cookie, &mine).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, html) = page(&t, &cookie, "/console/messages").await;
    assert!(!html.contains("本店群发") && !html.contains("总部群发"));

    // An operator edits the rules.
    let cookie = console_login(&t, "cm.operator").await;
    let (_, html) = page(&t, &cookie, "/console/messages").await;
    assert!(html.contains("id=\"rules-form\"") && html.contains("id=\"compose\""));
    assert!(
        html.contains("总部群发") && html.contains("本店群发"),
        "HQ sees every store's"
    );

    // Guides: no menu entry, the forbidden page everywhere.
    let cookie = console_login(&t, "cm.guide").await;
    let (_, html) = page(&t, &cookie, "/console").await;
    assert!(!html.contains(r#"href="/console/messages""#));
    for path in [
        "/console/messages",
        "/console/messages/new",
        hq_path.as_str(),
    ] {
        let (status, html) = page(&t, &cookie, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains(zh("forbidden")), "{path}");
    }
    let (_, html) = page(&t, &cookie, "/console").await;
    let csrf = csrf_in(&html);
    let r = post_form(
        &t,
        &cookie,
        &format!("{hq_path}/cancel"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_form(
        &t,
        &cookie,
        "/console/messages/new",
        &compose(&csrf, "导购", "你好", &[]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Signed out: the sign-in page.
    let r = t
        .client
        .get(t.url("/console/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// 客户群群发 in the composer (issue #21 item 2): the synced groups offered by name and owner,
/// 预览触达 counting groups with the group reasons in words, a holdout refused under its
/// field, 发送 creating one group task per owner, and the message's page listing its groups.
async fn console_group_messages_pick_groups_and_list_them(e: Engine) {
    let (t, fake, _) = synced(e).await;
    t.staff("cg.admin", "admin", None).await;
    let cookie = console_login(&t, "cg.admin").await;
    let id_of = |chat: &str| {
        let sql = format!("SELECT id FROM customer_groups WHERE chat_id = '{chat}'");
        Box::leak(sql.into_boxed_str()) as &'static str
    };
    let g1 = crate::promotions::scalar(&t, id_of("wrDemoGroup0001")).await;
    let g3 = crate::promotions::scalar(&t, id_of("wrDemoGroup0003")).await;
    let sql = format!("UPDATE customer_groups SET dismissed_at = 1 WHERE id = {g3}");
    t.exec(Box::leak(sql.into_boxed_str())).await;

    let (status, html) = page(&t, &cookie, "/console/messages/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"value="groups" id="audience-groups""#),
        "{html}"
    );
    assert!(html.contains(r#"value="all_groups" id="audience-all-groups""#));
    assert!(
        html.contains(&format!(r#"name="group_ids" value="{g1}""#))
            && html.contains("鱼塘会员福利群①（"),
        "{html}"
    );
    // A dismissed group is not offered.
    assert!(!html.contains(&format!(r#"name="group_ids" value="{g3}""#)));
    let csrf = csrf_in(&html);

    // 预览触达 of two groups, one dismissed since it was picked.
    let form = compose(
        &csrf,
        "",
        "",
        &[
            ("audience", "groups".into()),
            ("group_ids", g1.to_string()),
            ("group_ids", g3.to_string()),
            ("do", "preview".into()),
        ],
    );
    let r = post_form(&t, &cookie, "/console/messages/new", &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(number(&html, "data-preview", "audience"), 2, "{html}");
    assert_eq!(number(&html, "data-preview", "send"), 1);
    assert!(html.contains(r#"<tr data-reason="dismissed"><td>客户群已解散</td><td data-n="1">"#));
    assert!(html.contains(r#"<tr data-reason="no_owner">"#));
    assert!(!html.contains(r#"data-reason="frequency_cap""#));
    assert!(html.contains(&format!(r#"name="group_ids" value="{g1}" checked"#)));

    // A holdout is for customers: refused under its field, nothing created.
    let form = compose(
        &csrf,
        "晚安群",
        "晚安",
        &[
            ("audience", "all_groups".into()),
            ("holdout", "10".into()),
            ("do", "send".into()),
        ],
    );
    let r = post_form(&t, &cookie, "/console/messages/new", &form).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("holdout_bp", zh("invalid_holdout")))
    );
    assert!(api_messages(&t).await.is_empty());

    // 发送 to every group: one task per owner; the page lists the groups.
    let form = compose(
        &csrf,
        "晚安群",
        "晚安，明早 8 点鲜果到店",
        &[("audience", "all_groups".into()), ("do", "send".into())],
    );
    let r = post_form(&t, &cookie, "/console/messages/new", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let loc = location(&r);
    t.settle_jobs().await;
    let groups: Vec<_> = fake
        .msg_templates()
        .into_iter()
        .filter(|m| m.chat_type == "group")
        .collect();
    assert_eq!(
        groups.len(),
        2,
        "张伟 and 王芳 own the groups not dismissed"
    );
    let (status, html) = page(&t, &cookie, &loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("全部客户群"), "{html}");
    assert!(
        html.contains(&format!(r#"data-group="{g1}" data-state="task_created""#)),
        "{html}"
    );
    assert!(html.contains("<th>群主</th>"));
    assert!(!html.contains("data-customer="));
    fake.shutdown().await;
}
