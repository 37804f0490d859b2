//! The console's 邀请有礼 pages and the H5 invite page (issue #19 item 5) through the real
//! forms and the fake WeCom: a program made, refused and edited in the console (the refused
//! field named under its input, the rule's nested fields too), links for a guide, a customer
//! and a guide's own one click, the QR files, the attempts with their reasons in Chinese,
//! archiving behind its confirmation, what store-bound roles see, and the invite page a friend
//! opens (the masked inviter, the add URL or WeCom's QR image, 404 for an unknown code).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form, refused};
use crate::helpers::{Engine, TestApp};
use crate::promotions::{created_id, template, token};
use crate::wecom_sync::{guide, with_fake};

both_engines!(
    console_referral_programs_links_and_attempts,
    console_referral_pages_follow_the_callers_scope,
    invite_pages_show_the_way_to_the_guide,
);

async fn api_json(t: &TestApp, path: &str) -> Value {
    let r = t.get(path, &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

/// A channel (in `store`, or brand-wide) with one live code of `kind` behind guide `g`.
async fn live_code(t: &TestApp, g: i64, store: Option<i64>, kind: &str, state: &str) -> i64 {
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": format!("老带新 {state}"), "kind": "other", "store_id": store}),
        )
        .await,
    )
    .await;
    created_id(
        t.post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": channel, "name": format!("邀请 {state}"), "kind": kind,
                "state": state, "guides": [{"staff_id": g, "daily_cap": 500}]}),
        )
        .await,
    )
    .await
}

/// A customer new to the pool (no guide, no order).
pub(crate) async fn new_customer(t: &TestApp, unionid: &str, name: &str) -> i64 {
    let r = t
        .post(
            "/api/v1/customers",
            &t.admin,
            json!({"identities": [{"kind": "unionid", "value": unionid}], "name": name}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["customer"]["id"]
        .as_i64()
        .unwrap()
}

/// A program through the API (for the scope and H5 tests).
async fn program(t: &TestApp, code: i64, name: &str) -> i64 {
    created_id(
        t.post(
            "/api/v1/referral-programs",
            &t.admin,
            json!({"name": name, "live_code_id": code, "description": "好友首单满50元，双方各得一张券",
                "qualification": {"kind": "first_order", "min_order_fen": 5000, "hold_days": 7}}),
        )
        .await,
    )
    .await
}

/// The signed-in friend accepts the invite of `code` (the public API): the outcome.
pub(crate) async fn accept(t: &TestApp, code: &str, customer: i64) -> Value {
    let tok = token(t, customer).await;
    let r = t
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/public/invites/{code}/accept"),
            Some(&tok),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

/// The link code in a link page (`data-code="…"`).
fn code_in(html: &str) -> String {
    let i = html.find(r#"data-code=""#).expect("link code") + r#"data-code=""#.len();
    html[i..i + html[i..].find('"').unwrap()].to_owned()
}

async fn console_referral_programs_links_and_attempts(e: Engine) {
    let (t, fake, _) = with_fake(e).await;
    let store = t.store("REF-C1").await;
    let g1 = guide(&t, store, "zhangwei").await;
    let g2 = guide(&t, store, "wangfang").await;
    let live = live_code(&t, g1, None, "link", "ref-c1").await;
    let gift = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 1))
            .await,
    )
    .await;
    t.staff("ref.admin", "admin", None).await;
    let cookie = console_login(&t, "ref.admin").await;

    // The nav leads to the list, which offers 新建活动.
    let (status, html) = page(&t, &cookie, "/console/referrals").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<a href="/console/referrals" class="on">邀请有礼</a>"#),
        "{html}"
    );
    assert!(html.contains(r#"href="/console/referrals/new""#));
    assert!(html.contains("还没有邀请有礼活动"));

    // The form offers the live code (with its kind) and the coupons.
    let (status, html) = page(&t, &cookie, "/console/referrals/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            r#"<option value="{live}" >老带新 ref-c1 · 邀请 ref-c1（获客链接）</option>"#
        )),
        "{html}"
    );
    assert!(html.contains(&format!(
        r#"<option value="{gift}" >周二会员日 满50减10</option>"#
    )));
    assert!(html.contains(r#"id="kind-first_order" value="first_order" checked"#));
    let csrf = csrf_in(&html);
    let form = |min: &str, hold: &str, ends: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "邀好友 得50元券".to_owned()),
            ("live_code_id", live.to_string()),
            ("description", "好友首单满50元，双方各得一张券".into()),
            ("starts_on", "2026-01-01".into()),
            ("ends_on", ends.to_owned()),
            ("qualification_kind", "first_order".into()),
            ("min_order_yuan", min.to_owned()),
            ("hold_days", hold.to_owned()),
            ("invitee_reward_template_id", gift.to_string()),
            ("inviter_reward_template_id", gift.to_string()),
            ("inviter_daily_cap", "20".into()),
        ]
    };
    // A hold over 30 days: the domain's `qualification.hold_days`, under 等待期.
    let r = post_form(&t, &cookie, "/console/referrals", &form("49.90", "31", "")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("hold_days", "数量超出范围")),
        "{html}"
    );
    assert!(html.contains("请检查「等待期（天）」"), "{html}");
    assert!(html.contains(r#"id="hold_days" name="hold_days" value="31""#));
    assert!(
        html.contains(r#"value="邀好友 得50元券""#),
        "what was typed is kept"
    );
    // Three decimals of a yuan: refused before the domain sees it (whole fen only).
    let r = post_form(&t, &cookie, "/console/referrals", &form("49.999", "7", "")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused(
            "min_order_yuan",
            "金额格式有误：以元为单位，最多两位小数，如 12.50"
        )),
        "{html}"
    );
    // The last day before the first.
    let r = post_form(
        &t,
        &cookie,
        "/console/referrals",
        &form("49.90", "7", "2025-12-31"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("ends_on", "结束时间须晚于开始时间")),
        "{html}"
    );
    // No live code chosen.
    let mut no_code = form("49.90", "7", "");
    no_code[2].1 = String::new();
    let r = post_form(&t, &cookie, "/console/referrals", &no_code).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("live_code_id", "必填"))
    );
    let none: Value = api_json(&t, "/api/v1/referral-programs").await;
    assert_eq!(none, json!([]), "nothing was written by the refusals");

    let r = post_form(&t, &cookie, "/console/referrals", &form("49.90", "7", "")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = location(&r);
    let id: i64 = loc
        .strip_prefix("/console/referrals/")
        .and_then(|r| r.strip_suffix("?ok=created"))
        .unwrap_or_else(|| panic!("{loc}"))
        .parse()
        .unwrap();
    let api = api_json(&t, &format!("/api/v1/referral-programs/{id}")).await;
    assert_eq!(
        api["qualification"],
        json!({"kind": "first_order", "min_order_fen": 4990, "hold_days": 7})
    );
    assert_eq!(api["starts_on"], "2026-01-01");
    assert_eq!(api["ends_on"], Value::Null);
    assert_eq!(api["inviter_reward_template_id"], gift);
    let (status, html) = page(&t, &cookie, &loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已创建"));
    assert!(
        html.contains(r#"<div id="program-rule">好友首单实付满 ¥49.90，7 天内未退款即达标</div>"#),
        "{html}"
    );
    assert!(html.contains(r#"<div id="program-invitee-reward">周二会员日 满50减10</div>"#));
    assert!(html.contains(r#"<div id="program-cap">每天最多 20 个</div>"#));
    assert!(html.contains("2026-01-01 起"));
    assert!(html.contains(r#"id="my-link""#) && html.contains(r#"id="link-staff""#));

    // Edit: the form comes back as saved; a cap of 5.
    let edit = format!("/console/referrals/{id}/edit");
    let (status, html) = page(&t, &cookie, &edit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="min_order_yuan" name="min_order_yuan" value="49.90""#));
    let mut f = form("49.90", "7", "");
    f[11].1 = "5".into();
    let r = post_form(&t, &cookie, &edit, &f).await;
    assert_eq!(location(&r), format!("/console/referrals/{id}?ok=saved"));
    let api = api_json(&t, &format!("/api/v1/referral-programs/{id}")).await;
    assert_eq!(api["inviter_daily_cap"], 5);

    // A guide's link, asked by the admin: the link page with the URL, the state and the QR.
    let links = format!("/console/referrals/{id}/links");
    let staff_form = |who: &str, staff: String, customer: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("who", who.to_owned()),
            ("staff_id", staff),
            ("customer_id", customer.to_owned()),
        ]
    };
    let r = post_form(
        &t,
        &cookie,
        &links,
        &staff_form("staff", g2.to_string(), ""),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let link_page = location(&r);
    assert_eq!(
        link_page,
        format!("/console/referrals/{id}/link?staff_id={g2}&ok=created")
    );
    let (status, html) = page(&t, &cookie, &link_page).await;
    assert_eq!(status, StatusCode::OK);
    let g2_code = code_in(&html);
    assert!(html.contains("g.wangfang的邀请链接"), "{html}");
    assert!(html.contains(&format!(r#"<code id="link-state">rf-{g2_code}</code>"#)));
    assert!(html.contains(&format!("/h5/invite/{g2_code}\"")), "{html}");
    assert!(html.contains(&format!(
        r#"src="/console/referrals/{id}/link/qr.svg?staff_id={g2}""#
    )));
    // Asked again: the same link.
    let r = post_form(
        &t,
        &cookie,
        &links,
        &staff_form("staff", g2.to_string(), ""),
    )
    .await;
    assert_eq!(
        location(&r),
        format!("/console/referrals/{id}/link?staff_id={g2}")
    );
    // The QR files.
    for (file, kind, magic) in [
        ("qr.svg", "image/svg+xml; charset=utf-8", &b"<?xml"[..]),
        ("qr.png", "image/png", &b"\x89PNG"[..]),
    ] {
        let r = t
            .client
            .get(t.url(&format!(
                "/console/referrals/{id}/link/{file}?staff_id={g2}"
            )))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], kind);
        let disposition = r.headers()["content-disposition"].to_str().unwrap();
        assert!(
            disposition.contains(&format!("referral-{id}-{g2_code}-{file}")),
            "{disposition}"
        );
        assert!(r.bytes().await.unwrap().starts_with(magic), "{file}");
    }
    // A customer's link: a bad id and an unknown customer are named under the input.
    for (typed, message) in [
        ("abc", "ID 须为数字"),
        ("999999", "找不到该客户，请先导入客户"),
    ] {
        let r = post_form(
            &t,
            &cookie,
            &links,
            &staff_form("customer", String::new(), typed),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{typed}");
        let html = r.text().await.unwrap();
        assert!(html.contains(&refused("customer_id", message)), "{html}");
    }
    let inviter = new_customer(&t, "uInviter", "李娜").await;
    let r = post_form(
        &t,
        &cookie,
        &links,
        &staff_form("customer", String::new(), &inviter.to_string()),
    )
    .await;
    let (_, html) = page(&t, &cookie, &location(&r)).await;
    assert!(html.contains("李娜的邀请链接"), "{html}");
    let li_code = code_in(&html);

    // Friends follow 李娜's link: one is bound, 李娜 herself is refused (self-invite).
    let friend = new_customer(&t, "uFriend", "王小明").await;
    assert_eq!(accept(&t, &li_code, friend).await["status"], "bound");
    assert_eq!(accept(&t, &li_code, inviter).await["reason"], "self_invite");
    let (_, html) = page(&t, &cookie, &format!("/console/referrals/{id}")).await;
    assert!(
        html.contains(r#"<tr data-reason="self_invite"><td>自己邀请自己</td><td>1</td></tr>"#),
        "{html}"
    );
    assert!(html.contains(r#"<div class="n" data-total="bound">1</div>"#));
    assert!(html.contains(r#"<div class="n" data-total="refused">1</div>"#));
    assert!(html.contains(r#"data-status="bound" data-reason="""#));
    assert!(html.contains(r#"<td class="status">已绑定</td>"#));
    assert!(html.contains(r#"<td class="reason">自己邀请自己</td>"#));
    assert!(html.contains("<td>邀请页接受</td>"));
    assert!(html.contains(">王小明</a>"), "the friend, named");
    // The leaderboard: 李娜 first (one friend bound), with her link page.
    let board = &html[html.find(r#"id="inviters""#).unwrap()..];
    assert!(
        board.find("李娜").unwrap() < board.find("g.wangfang").unwrap(),
        "{board}"
    );
    assert!(board.contains(&format!(
        r#"href="/console/referrals/{id}/link?customer_id={inviter}""#
    )));
    // The status filter.
    let (_, html) = page(
        &t,
        &cookie,
        &format!("/console/referrals/{id}?status=refused"),
    )
    .await;
    assert!(html.contains(r#"data-status="refused""#));
    assert!(!html.contains(r#"data-status="bound""#), "{html}");
    assert!(html.contains(r#"<option value="refused" selected>已拒绝</option>"#));
    // In English.
    let en = format!("{cookie}; yutang_lang=en");
    let (_, html) = page(&t, &en, &format!("/console/referrals/{id}")).await;
    assert!(html.contains("<td>Invited themselves</td>"), "{html}");
    assert!(
        html.contains("The friend&#39;s first order of at least ¥49.90"),
        "{html}"
    );

    // A guide sees the list and gets their own link in one click.
    let gcookie = console_login(&t, "g.zhangwei").await;
    let (status, html) = page(&t, &gcookie, "/console/referrals").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(r#"<tr data-program="{id}">"#)));
    assert!(!html.contains("/console/referrals/new"), "no 新建活动");
    let (status, html) = page(&t, &gcookie, &format!("/console/referrals/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="my-link""#));
    assert!(!html.contains(r#"id="link-staff""#) && !html.contains(r#"id="edit-program""#));
    let gcsrf = csrf_in(&html);
    let r = post_form(
        &t,
        &gcookie,
        &links,
        &[
            ("csrf", gcsrf.clone()),
            ("who", "staff".into()),
            ("staff_id", g1.to_string()),
        ],
    )
    .await;
    assert_eq!(
        location(&r),
        format!("/console/referrals/{id}/link?staff_id={g1}&ok=created")
    );
    let (status, html) = page(&t, &gcookie, &location(&r)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("g.zhangwei的邀请链接"));
    // … but not another guide's.
    let r = post_form(
        &t,
        &gcookie,
        &links,
        &[
            ("csrf", gcsrf),
            ("who", "staff".into()),
            ("staff_id", g2.to_string()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (status, _) = page(
        &t,
        &gcookie,
        &format!("/console/referrals/{id}/link?staff_id={g2}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for path in ["/console/referrals/new".to_owned(), edit.clone()] {
        let (status, _) = page(&t, &gcookie, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }

    // Archive: the confirmation names what goes on, then the list moves it.
    let (status, html) = page(&t, &cookie, &format!("/console/referrals/{id}/archive")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("邀请有礼活动「邀好友 得50元券」"), "{html}");
    assert!(html.contains("3 条邀请链接将不再绑定新的好友"), "{html}");
    assert!(html.contains("已绑定的 1 位好友仍按规则达标并获得奖励"));
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/referrals/{id}/archive"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(location(&r), "/console/referrals?archived=1&ok=archived");
    let (_, html) = page(&t, &cookie, "/console/referrals").await;
    assert!(!html.contains(&format!(r#"data-program="{id}""#)));
    let (_, html) = page(&t, &cookie, "/console/referrals?archived=1").await;
    assert!(html.contains(&format!(r#"data-program="{id}""#)));
    let (_, html) = page(&t, &cookie, &format!("/console/referrals/{id}")).await;
    assert!(html.contains("活动已归档，不能再获取邀请链接"));
    assert!(!html.contains(r#"id="edit-program""#));
    // The friend's page now says the program is not running.
    let r = t
        .client
        .get(t.url(&format!("/h5/invite/{li_code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"data-running="0">活动未在进行中"#),
        "{html}"
    );
    assert!(!html.contains(r#"id="add-guide""#));

    // The audit log reads the operations in Chinese.
    let (_, html) = page(&t, &cookie, "/console/audit").await;
    for op in ["新建邀请有礼活动", "修改邀请有礼活动", "归档邀请有礼活动"] {
        assert!(html.contains(op), "{op} in the audit log");
    }
    fake.shutdown().await;
}

async fn console_referral_pages_follow_the_callers_scope(e: Engine) {
    let (t, fake, _) = with_fake(e).await;
    let a = t.store("REF-SA").await;
    let b = t.store("REF-SB").await;
    let ga = guide(&t, a, "zhaolei").await;
    let gb = guide(&t, b, "sunli").await;
    let pa = program(
        &t,
        live_code(&t, ga, Some(a), "link", "ref-sa").await,
        "A店老带新",
    )
    .await;
    let pb = program(
        &t,
        live_code(&t, gb, Some(b), "link", "ref-sb").await,
        "B店老带新",
    )
    .await;
    t.staff("mgr.a", "store_manager", Some(a)).await;
    let cookie = console_login(&t, "mgr.a").await;
    let (status, html) = page(&t, &cookie, "/console/referrals").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("A店老带新"));
    assert!(!html.contains("B店老带新"), "{html}");
    let (status, html) = page(&t, &cookie, &format!("/console/referrals/{pa}")).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_in(&html);
    for path in [
        format!("/console/referrals/{pb}"),
        format!("/console/referrals/{pb}/link?staff_id={gb}"),
        format!("/console/referrals/{pb}/link/qr.png?staff_id={gb}"),
    ] {
        let (status, html) = page(&t, &cookie, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("找不到该记录"), "{html}");
        assert!(!html.contains("B店老带新"));
    }
    // A store manager reads; managing is for operators and admins.
    for path in [
        "/console/referrals/new".to_owned(),
        format!("/console/referrals/{pa}/edit"),
        format!("/console/referrals/{pa}/archive"),
    ] {
        let (status, _) = page(&t, &cookie, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/referrals/{pa}/archive"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/referrals/{pb}/links"),
        &[
            ("csrf", csrf),
            ("who", "staff".into()),
            ("staff_id", gb.to_string()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let api = api_json(&t, &format!("/api/v1/referral-programs/{pa}")).await;
    assert_eq!(api["archived"], false);
    assert_eq!(api["totals"]["links"], 0);
    fake.shutdown().await;
}

async fn invite_pages_show_the_way_to_the_guide(e: Engine) {
    let (t, fake, _) = with_fake(e).await;
    let store = t.store("REF-H5").await;
    let g = guide(&t, store, "lina").await;
    let link_program = program(
        &t,
        live_code(&t, g, None, "link", "ref-h5l").await,
        "邀好友 得券",
    )
    .await;
    let qr_program = program(
        &t,
        live_code(&t, g, None, "contact_way", "ref-h5q").await,
        "扫码邀好友",
    )
    .await;
    let inviter = new_customer(&t, "uH5", "欧阳娜娜").await;
    let link_of = |program: i64| {
        let t = &t;
        async move {
            let r = t
                .post(
                    &format!("/api/v1/referral-programs/{program}/links"),
                    &t.admin,
                    json!({"customer_id": inviter}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<Value>().await.unwrap()
        }
    };
    let get = |path: String| {
        let t = &t;
        async move { t.client.get(t.url(&path)).send().await.unwrap() }
    };

    // An acquisition-link program: the masked inviter, the rule, the add URL and its QR.
    let link = link_of(link_program).await;
    let code = link["code"].as_str().unwrap().to_owned();
    let r = get(format!("/h5/invite/{code}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp.contains("qpic"), "{csp}");
    let html = r.text().await.unwrap();
    let invite: Value = t
        .req(
            reqwest::Method::GET,
            &format!("/api/v1/public/invites/{code}"),
            None,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let add_url = invite["add_url"].as_str().unwrap();
    assert!(
        add_url.contains(&format!("customer_channel=rf-{code}")),
        "{add_url}"
    );
    assert!(
        html.contains(r#"<p id="invite-inviter">欧** 邀请你</p>"#),
        "{html}"
    );
    assert!(html.contains("<h1 id=\"invite-name\">邀好友 得券</h1>"));
    assert!(
        html.contains(&format!(
            r#"<a class="button big" id="add-guide" href="{add_url}">添加导购</a>"#
        )),
        "{html}"
    );
    assert!(html.contains(r#"<div class="invite-qr" id="add-qr""#) && html.contains("<svg"));
    assert!(
        html.contains("添加导购后，首单实付满 ¥50，7 天内未退款，即为邀请成功。"),
        "{html}"
    );
    assert!(html.contains(r#"data-running="1">活动进行中"#));
    assert!(
        html.contains(&format!(
            r#"id="lang-switch" href="/h5/invite/{code}?lang=en""#
        )),
        "the language switch stays on the page"
    );
    assert!(html.contains(r#"id="accept-box" hidden"#));
    // Each opening counted a visit (this page and the API read above).
    let p = api_json(&t, &format!("/api/v1/referral-programs/{link_program}")).await;
    assert_eq!(p["totals"]["visits"], 2);
    // In English.
    let html = get(format!("/h5/invite/{code}?lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("欧** invites you"), "{html}");

    // A QR-code program: the code's QR image as Yutang keeps it, served beside the page, so
    // the page keeps the strict policy (nothing from WeCom's image host).
    let code = link_of(qr_program).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = get(format!("/h5/invite/{code}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp.contains("qpic"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"<img id="guide-qr" src="/h5/invite/{code}/qr.png""#
        )),
        "{html}"
    );
    assert!(!html.contains(r#"id="add-guide""#));
    let qr = api_json(&t, &format!("/api/v1/referral-programs/{qr_program}")).await;
    let stored = t
        .get(
            &format!("/api/v1/live-codes/{}/qr.png", qr["live_code_id"]),
            &t.admin,
        )
        .await;
    assert_eq!(stored.status(), StatusCode::OK);
    let stored = stored.bytes().await.unwrap();
    let r = get(format!("/h5/invite/{code}/qr.png")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap(), stored, "the code's own QR image");
    // A link program's QR is its link with the inviter's state, drawn by Yutang.
    let link_code = link["code"].as_str().unwrap();
    let r = get(format!("/h5/invite/{link_code}/qr.png")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let texts = crate::share::Gray::of_png(&r.bytes().await.unwrap()).qr_texts();
    assert!(
        texts.len() == 1 && texts[0].ends_with(&format!("customer_channel=rf-{link_code}")),
        "{texts:?}"
    );
    // Unknown codes have no QR.
    assert_eq!(
        get("/h5/invite/abcdefghjkmn/qr.png".to_owned())
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // A code WeCom refused (its guide is not in the corp) has no way to the guide yet: the
    // page says so instead of a dead button.
    let stranger = guide(&t, store, "nobody-here").await;
    let unsynced = program(
        &t,
        live_code(&t, stranger, None, "link", "ref-h5x").await,
        "未同步的活动",
    )
    .await;
    let code = link_of(unsynced).await["code"].as_str().unwrap().to_owned();
    let html = get(format!("/h5/invite/{code}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<p class="muted" id="no-qr">添加导购的入口暂未生成，请稍后再试</p>"#),
        "{html}"
    );
    assert!(!html.contains(r#"id="add-guide""#));

    // An unknown code, or one that is not a code's shape: the not-found page.
    for path in [
        "/h5/invite/abcdefghjkmn",
        "/h5/invite/nope",
        "/h5/invite/ABCDEFGHJKMN",
    ] {
        let r = get(path.to_owned()).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            r.text().await.unwrap().contains("活动不存在或已结束"),
            "{path}"
        );
    }
    fake.shutdown().await;
}
