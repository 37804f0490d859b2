//! The console's channel and live-code pages (issue #19) through the real forms and the fake
//! WeCom: a channel and a code created and edited in the console, the refused field named next
//! to its input, the QR and the change log with the reasons in Chinese, the audit labels, and
//! what store-bound roles see.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::acquisition::{add, tag};
use crate::console::{console_login, csrf_in, page};
use crate::helpers::{Engine, TestApp};
use crate::wecom_sync::{guide, with_fake};

both_engines!(
    console_channels_and_live_codes,
    console_channel_pages_follow_the_callers_scope,
);

/// Post a console form (pairs, repeated keys allowed); the response is not followed.
pub(crate) async fn post_form(
    t: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, String)],
) -> reqwest::Response {
    t.client
        .post(t.url(path))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// An API answer as JSON, read as the admin.
async fn api_json(t: &TestApp, path: &str) -> Value {
    t.get(path, &t.admin).await.json().await.unwrap()
}

/// Post a form with nothing but the CSRF token (archive, sync); where it redirects.
async fn post_csrf(t: &TestApp, cookie: &str, path: &str, csrf: &str) -> reqwest::Response {
    post_form(t, cookie, path, &[("csrf", csrf.to_owned())]).await
}

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// The id in `/console/{what}/{id}?…`.
fn id_in(loc: &str, what: &str) -> i64 {
    let rest = loc
        .strip_prefix(&format!("/console/{what}/"))
        .unwrap_or_else(|| panic!("{loc}"));
    rest.split(['?', '/']).next().unwrap().parse().unwrap()
}

pub(crate) fn refused(field: &str, message: &str) -> String {
    format!(r#"<p class="field-error" role="alert" data-field="{field}">{message}</p>"#)
}

async fn console_channels_and_live_codes(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("ACQ-C1").await;
    let g1 = guide(&t, store, "zhangwei").await;
    let g2 = guide(&t, store, "wangfang").await;
    let g3 = guide(&t, store, "lina").await;
    let tag = tag(&t).await;
    t.staff("acq.admin", "admin", None).await;
    let cookie = console_login(&t, "acq.admin").await;

    // The nav leads to the list; the list offers 新建渠道.
    let (status, html) = page(&t, &cookie, "/console/channels").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<a href="/console/channels" class="on">渠道活码</a>"#));
    assert!(html.contains(r#"href="/console/channels/new""#), "{html}");

    // 新建渠道 through the form.
    let (status, html) = page(&t, &cookie, "/console/channels/new").await;
    assert_eq!(status, StatusCode::OK);
    for kind in [
        "门店台卡",
        "包裹卡",
        "公众号文章",
        "直播",
        "广告投放",
        "线下活动",
        "其他",
    ] {
        assert!(html.contains(&format!(">{kind}</option>")), "{kind}");
    }
    assert!(html.contains("{customer_name}") && html.contains("{guide_name}"));
    let csrf = csrf_in(&html);
    let channel_form = |name: &str, link_title: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", name.to_owned()),
            ("kind", "store_stand".into()),
            ("owner_staff_id", g1.to_string()),
            ("store_id", store.to_string()),
            ("region_id", String::new()),
            ("starts_on", "2026-05-01".into()),
            ("ends_on", "2026-12-31".into()),
            ("tag_ids", tag.to_string()),
            (
                "welcome_text",
                "{customer_name} 你好，我是{guide_name}".into(),
            ),
            ("link_title_0", link_title.to_owned()),
            ("link_url_0", "https://h5.example/gift".into()),
            ("link_title_1", String::new()),
            ("link_url_1", String::new()),
            ("reward_template_id", String::new()),
        ]
    };
    // The last day before the first: refused next to 结束日期, what was typed kept.
    let mut bad = channel_form("收银台台卡", "新人礼");
    bad[7].1 = "2026-04-01".into();
    let r = post_form(&t, &cookie, "/console/channels", &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("ends_on", "结束时间须晚于开始时间")),
        "{html}"
    );
    assert!(html.contains(r#"value="收银台台卡""#));
    // A link without its address: named at its row.
    let mut bad = channel_form("收银台台卡", "新人礼");
    bad[11].1 = String::new();
    let r = post_form(&t, &cookie, "/console/channels", &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(&refused("link_url_0", "必填")), "{html}");
    assert!(html.contains("请检查「链接附件」"), "{html}");

    let r = post_form(
        &t,
        &cookie,
        "/console/channels",
        &channel_form("收银台台卡", "新人礼"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = location(&r);
    assert!(loc.ends_with("?ok=created"), "{loc}");
    let channel = id_in(&loc, "channels");
    let api: Value = api_json(&t, &format!("/api/v1/channels/{channel}")).await;
    assert_eq!(api["kind"], "store_stand");
    assert_eq!(api["store_id"], store);
    assert_eq!(api["tag_ids"], json!([tag]));
    assert_eq!(api["starts_on"], "2026-05-01");
    assert_eq!(
        api["welcome"]["attachments"],
        json!([{"type": "link", "title": "新人礼", "url": "https://h5.example/gift",
            "picurl": null, "desc": null}])
    );
    let (status, html) = page(&t, &cookie, &loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已创建"), "the flash");
    assert!(
        html.contains(r#"<div id="channel-kind">门店台卡</div>"#),
        "{html}"
    );
    assert!(html.contains("链接：新人礼（https://h5.example/gift）"));
    assert!(html.contains("2026-05-01 – 2026-12-31"));

    // An image attachment set through the API is kept when the console edits the links.
    let mut spec = api.clone();
    for k in [
        "id",
        "archived",
        "created_by",
        "created_at",
        "updated_at",
        "totals",
    ] {
        spec.as_object_mut().unwrap().remove(k);
    }
    spec["welcome"]["attachments"] = json!([
        {"type": "image", "media_id": "MEDIA-1"},
        {"type": "link", "title": "新人礼", "url": "https://h5.example/gift",
            "picurl": "https://h5.example/p.png", "desc": "说明"}
    ]);
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/channels/{channel}"),
            &t.admin,
            spec,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let (status, html) = page(&t, &cookie, &format!("/console/channels/{channel}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("图片：MEDIA-1"), "{html}");
    assert!(html.contains(r#"name="link_title_0" id="link_title_0" value="新人礼""#));
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/channels/{channel}/edit"),
        &channel_form("收银台台卡", "新人大礼包"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("/console/channels/{channel}?ok=saved")
    );
    let api: Value = api_json(&t, &format!("/api/v1/channels/{channel}")).await;
    assert_eq!(
        api["welcome"]["attachments"],
        json!([
            {"type": "image", "media_id": "MEDIA-1", "pic_url": null},
            {"type": "link", "title": "新人大礼包", "url": "https://h5.example/gift",
                "picurl": "https://h5.example/p.png", "desc": "说明"}
        ])
    );

    // 新建活码: the refused field is named next to its input.
    let new_code = format!("/console/channels/{channel}/live-codes/new");
    let (status, html) = page(&t, &cookie, &new_code).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"<option value="{g1}" >"#)),
        "{html}"
    );
    let code_form = |state: &str, cap0: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "收银台".to_owned()),
            ("state", state.to_owned()),
            ("skip_verify", "on".into()),
            ("guide_staff_0", g1.to_string()),
            ("guide_cap_0", cap0.to_owned()),
            ("guide_weight_0", "1".into()),
            ("guide_staff_1", g2.to_string()),
            ("guide_cap_1", "5".into()),
            ("guide_weight_1", "1".into()),
            ("guide_staff_2", String::new()),
            ("guide_cap_2", "200".into()),
            ("guide_weight_2", "1".into()),
            ("backup_staff_id", g3.to_string()),
            ("start", String::new()),
            ("end", String::new()),
            ("spread", "even".into()),
        ]
    };
    let create = format!("/console/channels/{channel}/live-codes");
    let long_state = "s".repeat(31);
    let r = post_form(&t, &cookie, &create, &code_form(&long_state, "1")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("state", "state 最多 30 个字符（企业微信的限制）")),
        "{html}"
    );
    assert!(html.contains(&format!(r#"value="{long_state}""#)));
    assert!(
        html.contains(r#"id="state" name="state""#)
            && html.contains(r#"class="invalid" aria-invalid="true""#)
    );
    let r = post_form(&t, &cookie, &create, &code_form("sh-c1", "0")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("guide_cap_0", "数量超出范围")),
        "{html}"
    );
    assert!(html.contains("请检查「接待员工」"));
    // Nothing was written by the refusals.
    let codes: Value = t
        .get(
            &format!("/api/v1/live-codes?channel_id={channel}"),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(codes.as_array().unwrap().len(), 0);

    let r = post_form(&t, &cookie, &create, &code_form("sh-c1", "1")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = location(&r);
    let code = id_in(&loc, "live-codes");
    let r = t
        .client
        .get(t.url(&loc))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    // The QR is served by Yutang: the page keeps the console's policy (images from Yutang).
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    assert!(!csp.contains("qpic.cn"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    let html = r.text().await.unwrap();
    let api: Value = api_json(&t, &format!("/api/v1/live-codes/{code}")).await;
    assert_eq!(api["qr_image"]["content_type"], "image/png", "{api}");
    let qr = format!("/console/live-codes/{code}/qr.png");
    assert!(
        html.contains(&format!(r#"<img id="qr-image" src="{qr}""#)),
        "{html}"
    );
    assert!(html.contains(&format!(r#"id="download-qr" href="{qr}?download=1""#)));
    assert!(html.contains(&format!(
        r#"<img id="poster-image" src="/console/live-codes/{code}/poster.png""#
    )));
    let r = t
        .client
        .get(t.url(&qr))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    assert!(r.bytes().await.unwrap().starts_with(b"\x89PNG"));
    assert!(
        html.contains(r#"data-sync="synced">已同步</span>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<div id="current-guides">g.zhangwei、g.wangfang</div>"#),
        "{html}"
    );
    assert!(html.contains(r#"<code id="code-state">sh-c1</code>"#));

    // One add through the code reaches zhangwei's cap of 1: the change log says why.
    add(&t, &fake, &target, "zhangwei", "小林", Some("sh-c1")).await;
    let (_, html) = page(&t, &cookie, &format!("/console/live-codes/{code}")).await;
    assert!(
        html.contains(r#"<div id="current-guides">g.wangfang</div>"#),
        "{html}"
    );
    assert!(
        html.contains("<li>g.zhangwei：今日已加 1/1，已达上限</li>"),
        "{html}"
    );
    assert!(html.contains(r#"<td class="adds">1/1</td>"#));
    // The channel page lists the code with its guides and today's adds.
    let (_, html) = page(&t, &cookie, &format!("/console/channels/{channel}")).await;
    assert!(html.contains(&format!(r#"<tr data-code="{code}">"#)));
    assert!(html.contains("<div>g.zhangwei 1/1</div>"), "{html}");
    assert!(
        html.contains(r#"<div class="n" data-total="adds">1</div>"#),
        "{html}"
    );

    // Edit: zhangwei's cap goes to 3, so they are back behind the code.
    let (status, html) = page(&t, &cookie, &format!("/console/live-codes/{code}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="guide_cap_0" value="1""#), "{html}");
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/live-codes/{code}/edit"),
        &code_form("sh-c1", "3"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/console/live-codes/{code}?ok=saved"));
    let (_, html) = page(&t, &cookie, &format!("/console/live-codes/{code}")).await;
    assert!(
        html.contains(r#"<div id="current-guides">g.zhangwei、g.wangfang</div>"#),
        "{html}"
    );
    assert!(html.contains(r#"<td class="adds">1/3</td>"#));
    // 立即同步.
    let r = post_csrf(
        &t,
        &cookie,
        &format!("/console/live-codes/{code}/sync"),
        &csrf,
    )
    .await;
    assert_eq!(
        location(&r),
        format!("/console/live-codes/{code}?ok=synced")
    );
    let (_, html) = page(&t, &cookie, &location(&r)).await;
    assert!(html.contains("已同步到企业微信"));

    // English.
    let en = format!("{cookie}; yutang_lang=en");
    let (_, html) = page(&t, &en, &format!("/console/live-codes/{code}")).await;
    assert!(
        html.contains("<li>g.zhangwei: 1/1 adds today, at the cap</li>"),
        "{html}"
    );
    let (_, html) = page(&t, &en, "/console/channels").await;
    assert!(html.contains("Channels and live codes") && html.contains(">Store stand</td>"));

    // Archive the code (confirm page, then the post), then the channel.
    let (status, html) = page(&t, &cookie, &format!("/console/live-codes/{code}/archive")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("活码「收银台」"), "{html}");
    let config = api["config_id"].as_str().unwrap().to_owned();
    let r = post_csrf(
        &t,
        &cookie,
        &format!("/console/live-codes/{code}/archive"),
        &csrf,
    )
    .await;
    assert_eq!(
        location(&r),
        format!("/console/channels/{channel}?ok=archived")
    );
    assert!(fake.with_corp(|c| !c.contact_ways.contains_key(&config)));
    let (status, html) = page(&t, &cookie, &format!("/console/channels/{channel}/archive")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已带来的 1 次添加仍计入此渠道"), "{html}");
    let r = post_csrf(
        &t,
        &cookie,
        &format!("/console/channels/{channel}/archive"),
        &csrf,
    )
    .await;
    assert_eq!(location(&r), "/console/channels?archived=1&ok=archived");
    let (_, html) = page(&t, &cookie, "/console/channels").await;
    assert!(!html.contains(&format!(r#"data-channel="{channel}""#)));
    let (_, html) = page(&t, &cookie, "/console/channels?archived=1").await;
    assert!(html.contains(&format!(r#"data-channel="{channel}""#)));

    // The audit log reads the operations in Chinese.
    let (_, html) = page(&t, &cookie, "/console/audit").await;
    for op in [
        "新建渠道",
        "修改渠道",
        "归档渠道",
        "新建渠道活码",
        "修改渠道活码",
        "归档渠道活码",
    ] {
        assert!(html.contains(op), "{op} in the audit log");
    }
    fake.shutdown().await;
}

async fn console_channel_pages_follow_the_callers_scope(e: Engine) {
    let (t, fake, _) = with_fake(e).await;
    let a = t.store("ACQ-SA").await;
    let b = t.store("ACQ-SB").await;
    let mk =
        |name: &str, store: Option<i64>| json!({"name": name, "kind": "event", "store_id": store});
    let mut ids = Vec::new();
    for (name, store) in [
        ("全品牌活动", None),
        ("A店活动", Some(a)),
        ("B店活动", Some(b)),
    ] {
        let r = t.post("/api/v1/channels", &t.admin, mk(name, store)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    t.staff("mgr.a", "store_manager", Some(a)).await;
    let cookie = console_login(&t, "mgr.a").await;
    let (status, html) = page(&t, &cookie, "/console/channels").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<a href="/console/channels" class="on">渠道活码</a>"#));
    assert!(html.contains("全品牌活动") && html.contains("A店活动"));
    assert!(!html.contains("B店活动"), "{html}");
    assert!(
        !html.contains("/console/channels/new"),
        "no 新建渠道 for a store manager"
    );
    let (status, _) = page(&t, &cookie, &format!("/console/channels/{}", ids[1])).await;
    assert_eq!(status, StatusCode::OK);
    let (status, html) = page(&t, &cookie, &format!("/console/channels/{}", ids[2])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("找不到该记录"), "{html}");
    assert!(!html.contains("B店活动"));
    let (status, _) = page(&t, &cookie, "/console/channels/new").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&t, &cookie, &format!("/console/channels/{}/edit", ids[1])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A post is refused by the app too.
    let (_, html) = page(&t, &cookie, "/console/channels").await;
    let csrf = csrf_in(&html);
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/channels/{}/archive", ids[1]),
        &[("csrf", csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let api: Value = api_json(&t, &format!("/api/v1/channels/{}", ids[1])).await;
    assert_eq!(api["archived"], false);
    fake.shutdown().await;
}
