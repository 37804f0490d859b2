use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Engine, PASSWORD, TestApp, spawn_app};

both_engines!(
    console_requires_sign_in,
    console_login_needs_csrf_and_sets_a_safe_cookie,
    console_is_chinese_by_default_with_english_switch,
    console_forms_refuse_missing_csrf,
    every_console_form_refuses_a_wrong_csrf_token,
    console_staff_and_store_management,
    console_guide_sees_only_own_store,
    console_wrong_password_shows_error,
    console_customer_pages_respect_scope,
    bad_page_addresses_get_the_console_error_page,
    console_forms_name_the_refused_field,
);

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

pub(crate) fn csrf_in(html: &str) -> String {
    let i =
        html.find("name=\"csrf\" value=\"").expect("csrf field") + "name=\"csrf\" value=\"".len();
    html[i..i + html[i..].find('"').unwrap()].to_owned()
}

/// Sign in through the login form; returns the `Cookie` header value to send.
pub(crate) async fn console_login(t: &TestApp, username: &str) -> String {
    let r = t.client.get(t.url("/console/login")).send().await.unwrap();
    let login_cookie =
        cookie_value(&set_cookie(&r, "yutang_login_csrf").expect("login csrf cookie"));
    let csrf = csrf_in(&r.text().await.unwrap());
    let r = t
        .client
        .post(t.url("/console/login"))
        .header("cookie", format!("yutang_login_csrf={login_cookie}"))
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "/console/staff"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console/staff");
    let c = set_cookie(&r, "yutang_session").expect("session cookie");
    format!("yutang_session={}", cookie_value(&c))
}

pub(crate) async fn page(t: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = t
        .client
        .get(t.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn console_requires_sign_in(e: Engine) {
    let t = spawn_app(e).await;
    for path in ["/console", "/console/staff?q=x", "/console/tokens"] {
        let r = t.client.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        let want = format!(
            "/console/login?next={}",
            url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
        );
        assert_eq!(r.headers()["location"].to_str().unwrap(), want);
    }
    let r = t
        .client
        .get(t.url("/console"))
        .header("cookie", "yutang_session=yts_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn console_login_needs_csrf_and_sets_a_safe_cookie(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("c.admin", "admin", None).await;
    // No CSRF cookie/field: refused, no session.
    let r = t
        .client
        .post(t.url("/console/login"))
        .form(&[
            ("username", "c.admin"),
            ("password", PASSWORD),
            ("csrf", "x"),
            ("next", "/console"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&r, "yutang_session").is_none());
    // Proper login.
    let r = t.client.get(t.url("/console/login")).send().await.unwrap();
    let login_cookie = cookie_value(&set_cookie(&r, "yutang_login_csrf").unwrap());
    let csrf = csrf_in(&r.text().await.unwrap());
    let r = t
        .client
        .post(t.url("/console/login"))
        .header("cookie", format!("yutang_login_csrf={login_cookie}"))
        .form(&[
            ("username", "c.admin"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // An off-site `next` is ignored.
    assert_eq!(r.headers()["location"], "/console");
    let c = set_cookie(&r, "yutang_session").unwrap();
    assert!(c.contains("HttpOnly"), "{c}");
    assert!(c.contains("SameSite=Lax"), "{c}");
    let cookie = format!("yutang_session={}", cookie_value(&c));
    let (s, html) = page(&t, &cookie, "/console").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("欢迎回来"));
    // Logout needs the session's CSRF token.
    let r = t
        .client
        .post(t.url("/console/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .client
        .post(t.url("/console/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf_in(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(page(&t, &cookie, "/console").await.0, StatusCode::SEE_OTHER);
}

async fn console_is_chinese_by_default_with_english_switch(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("c.ops", "operator", None).await;
    let cookie = console_login(&t, "c.ops").await;
    let (_, html) = page(&t, &cookie, "/console/staff").await;
    assert!(html.contains("lang=\"zh-CN\""));
    assert!(html.contains("员工") && html.contains("门店") && html.contains("大区"));
    // Operators are not admins: no tokens or audit in the navigation.
    assert!(!html.contains("/console/tokens") && !html.contains("/console/audit"));
    let r = t
        .client
        .get(t.url("/console/lang?to=en&back=/console/staff"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/console/staff");
    let lang = cookie_value(&set_cookie(&r, "yutang_lang").unwrap());
    let (_, html) = page(
        &t,
        &format!("{cookie}; yutang_lang={lang}"),
        "/console/staff",
    )
    .await;
    assert!(html.contains("lang=\"en\""));
    assert!(html.contains("Staff") && html.contains("Stores"));
    assert!(!html.contains("员工"));
}

async fn console_forms_refuse_missing_csrf(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("c.admin2", "admin", None).await;
    let cookie = console_login(&t, "c.admin2").await;
    let before: Value = t.get("/api/v1/staff", &t.admin).await.json().await.unwrap();
    let r = t
        .client
        .post(t.url("/console/staff"))
        .header("cookie", &cookie)
        .form(&[
            ("username", "csrf.victim"),
            ("display_name", "x"),
            ("role", "admin"),
            ("store_id", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("页面已过期"));
    let after: Value = t.get("/api/v1/staff", &t.admin).await.json().await.unwrap();
    assert_eq!(before["total"], after["total"]);
    let r = t
        .client
        .post(t.url("/console/regions"))
        .header("cookie", &cookie)
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let regions: Value = t
        .get("/api/v1/regions", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(regions.as_array().unwrap().len(), 0);
}

async fn console_staff_and_store_management(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("c.admin3", "admin", None).await;
    let cookie = console_login(&t, "c.admin3").await;
    let (_, html) = page(&t, &cookie, "/console/regions").await;
    let csrf = csrf_in(&html);
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        t.client
            .post(t.url(path))
            .header("cookie", &cookie)
            .form(&form)
            .send()
    };
    let r = post(
        "/console/regions",
        vec![("csrf", csrf.clone()), ("name", "华南大区".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let regions: Value = t
        .get("/api/v1/regions", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let region = regions[0]["id"].as_i64().unwrap().to_string();
    let r = post(
        "/console/stores",
        vec![
            ("csrf", csrf.clone()),
            ("code", "gz-001".into()),
            ("name", "天河店".into()),
            ("region_id", region),
            ("city", "广州".into()),
            ("address", "".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let store = t
        .get("/api/v1/stores", &t.admin)
        .await
        .json::<Value>()
        .await
        .unwrap()["items"][0]["id"]
        .as_i64()
        .unwrap();
    // A bad form re-renders with the translated error and keeps what was typed.
    let r = post(
        "/console/staff",
        vec![
            ("csrf", csrf.clone()),
            ("username", "BAD NAME".into()),
            ("display_name", "陈导购".into()),
            ("role", "guide".into()),
            ("store_id", store.to_string()),
            ("password", "".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("用户名需为")
            && html.contains("陈导购")
            && html.contains("data-field=\"username\"")
    );
    let r = post(
        "/console/staff",
        vec![
            ("csrf", csrf.clone()),
            ("username", "gz.guide1".into()),
            ("display_name", "陈导购".into()),
            ("role", "guide".into()),
            ("store_id", store.to_string()),
            ("password", "guide-password-1".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.ends_with("?ok=created"));
    let (s, html) = page(&t, &cookie, &loc).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("已创建") && html.contains("陈导购"));
    let (_, html) = page(&t, &cookie, "/console/staff?q=gz").await;
    assert!(html.contains("gz.guide1") && html.contains("天河店"));
    // Disable them through the edit form; the audit page shows it.
    let id = loc
        .trim_start_matches("/console/staff/")
        .trim_end_matches("?ok=created")
        .to_owned();
    let r = t
        .client
        .post(t.url(&format!("/console/staff/{id}")))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("display_name", "陈导购"),
            ("role", "guide"),
            ("store_id", &store.to_string()),
            ("status", "disabled"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&t, &cookie, "/console/audit?action=staff_disabled").await;
    assert!(html.contains("停用员工"));
    // Tokens page shows the secret once.
    let r = post(
        "/console/tokens",
        vec![
            ("csrf", csrf.clone()),
            ("name", "有赞店铺".into()),
            ("role", "operator".into()),
            ("expires_in_days", "".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"new-token\">ytk_"));
    let (_, html) = page(&t, &cookie, "/console/tokens").await;
    assert!(html.contains("有赞店铺") && !html.contains("id=\"new-token\""));
}

async fn console_guide_sees_only_own_store(e: Engine) {
    let t = spawn_app(e).await;
    let a = t.store("CA-1").await;
    let b = t.store("CB-1").await;
    t.staff("ca.guide", "guide", Some(a)).await;
    let other = t.staff("cb.guide", "guide", Some(b)).await;
    let cookie = console_login(&t, "ca.guide").await;
    let (_, html) = page(&t, &cookie, "/console/staff").await;
    assert!(html.contains("ca.guide") && !html.contains("cb.guide"));
    let (s, _) = page(&t, &cookie, &format!("/console/staff/{other}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = page(&t, &cookie, "/console/tokens").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, html) = page(&t, &cookie, "/console/stores").await;
    assert!(html.contains("CA-1") && !html.contains("CB-1"));
    assert!(!html.contains("/console/stores/new"));
}

async fn console_wrong_password_shows_error(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("c.user", "operator", None).await;
    let r = t.client.get(t.url("/console/login")).send().await.unwrap();
    let login_cookie = cookie_value(&set_cookie(&r, "yutang_login_csrf").unwrap());
    let csrf = csrf_in(&r.text().await.unwrap());
    let r = t
        .req(Method::POST, "/console/login", None)
        .header("cookie", format!("yutang_login_csrf={login_cookie}"))
        .form(&[
            ("username", "c.user"),
            ("password", "nope-nope-nope"),
            ("csrf", &csrf),
            ("next", "/console"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&r, "yutang_session").is_none());
    assert!(r.text().await.unwrap().contains("用户名或密码错误"));
}

async fn console_customer_pages_respect_scope(e: Engine) {
    use crate::customers::{customer_with_phone, follow};
    let t = spawn_app(e).await;
    let store = t.store("WH-001").await;
    let g1 = t.staff("wh.g1", "guide", Some(store)).await;
    let g2 = t.staff("wh.g2", "guide", Some(store)).await;
    t.staff("wh.mgr", "store_manager", Some(store)).await;
    let mine = customer_with_phone(&t, "13811112222", "欧阳娜娜").await;
    let other = customer_with_phone(&t, "13833334444", "司马懿").await;
    follow(&t, mine, g1).await;
    follow(&t, other, g2).await;
    let cookie = console_login(&t, "wh.g1").await;
    let (s, html) = page(&t, &cookie, "/console/customers").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("欧阳娜娜") && !html.contains("司马懿"),
        "{html}"
    );
    assert!(html.contains("138****2222") && !html.contains("13811112222"));
    let (s, _) = page(&t, &cookie, "/console/customers?q=13833334444").await;
    assert_eq!(s, StatusCode::OK);
    let (_, html) = page(&t, &cookie, "/console/customers?q=13833334444").await;
    assert!(!html.contains("司马懿"));
    let (s, _) = page(&t, &cookie, &format!("/console/customers/{other}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, html) = page(
        &t,
        &cookie,
        &format!("/console/customers/{mine}?kind=followed"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("客户动态") && html.contains("导购添加"),
        "{html}"
    );
    assert!(!html.contains("reveal-phone"), "guides cannot reveal");
    // The store manager reveals the number with the form's CSRF token; it is audited.
    let cookie = console_login(&t, "wh.mgr").await;
    let (_, html) = page(&t, &cookie, &format!("/console/customers/{other}")).await;
    assert!(html.contains("reveal-phone"));
    let csrf = csrf_in(&html);
    let r = t
        .client
        .post(t.url(&format!("/console/customers/{other}/reveal")))
        .header("cookie", &cookie)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .client
        .post(t.url(&format!("/console/customers/{other}/reveal")))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("13833334444"));
    assert!(
        t.audit_actions()
            .await
            .contains(&"phone_revealed".to_owned())
    );
    // English.
    let (_, html) = page(
        &t,
        &format!("{cookie}; yutang_lang=en"),
        "/console/customers",
    )
    .await;
    assert!(html.contains("Customers") && html.contains("Total spend"));
}

/// Every urlencoded console form takes `ConsoleForm`, which checks the token before the form
/// is parsed: a post with a wrong token is a 403 whatever else it carries, and changes nothing.
/// (The sign-in form has its own cookie check, tested above; the two multipart uploads check
/// the token themselves.)
async fn every_console_form_refuses_a_wrong_csrf_token(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("c.admin3", "admin", None).await;
    let cookie = console_login(&t, "c.admin3").await;
    let audit_before: Value = t.get("/api/v1/audit", &t.admin).await.json().await.unwrap();
    let posts = [
        "/console/logout",
        "/console/staff",
        "/console/staff/1",
        "/console/staff/1/password",
        "/console/stores",
        "/console/stores/1",
        "/console/regions",
        "/console/regions/1",
        "/console/tokens",
        "/console/tokens/1/revoke",
        "/console/webhooks",
        "/console/webhooks/1",
        "/console/webhooks/1/test",
        "/console/webhooks/1/pause",
        "/console/webhooks/1/resume",
        "/console/webhooks/1/rotate",
        "/console/webhooks/1/delete",
        "/console/webhooks/1/replay-failed",
        "/console/webhooks/1/deliveries/1/replay",
        "/console/inbound",
        "/console/inbound/1",
        "/console/inbound/1/rotate",
        "/console/inbound/1/delete",
        "/console/inbound/1/messages/1/retry",
        "/console/customers/1/reveal",
        "/console/customers/export",
        "/console/customers/bulk",
        "/console/customers/filters",
        "/console/customers/filters/1/delete",
        "/console/customers/1/tags",
        "/console/tags",
        "/console/tags/1/delete",
        "/console/tags/groups",
        "/console/tags/groups/1/delete",
        "/console/tags/rules",
        "/console/tags/rules/1/run",
        "/console/tags/rules/1/delete",
        "/console/segments",
        "/console/segments/1",
        "/console/segments/1/delete",
        "/console/segments/1/export",
        "/console/import/1/check",
        "/console/import/1/run",
        "/console/promotions/coupons/1/delete",
        "/console/promotions/coupons/1/issue",
        "/console/promotions/coupon",
        "/console/promotions/flash/1",
        "/console/account/password",
        "/console/settings/wecom",
        "/console/settings/wecom/test",
        "/console/settings/wecom/sync",
        "/console/settings/wecom/callbacks/1/replay",
        "/console/settings/wecom/jobs/1/retry",
        "/console/wecom/transfers",
        "/console/wecom/transfers/1/refresh",
        "/console/channels",
        "/console/channels/1/edit",
        "/console/channels/1/archive",
        "/console/channels/1/live-codes",
        "/console/live-codes/1/edit",
        "/console/live-codes/1/sync",
        "/console/live-codes/1/archive",
    ];
    for path in posts {
        for form in [vec![("csrf", "wrong"), ("name", "x")], vec![("name", "x")]] {
            let r = t
                .client
                .post(t.url(path))
                .header("cookie", &cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path} {form:?}");
            assert!(
                r.text().await.unwrap().contains("页面已过期"),
                "POST {path}"
            );
        }
    }
    // Still signed in (the logout post was refused), and nothing was written.
    let r = t
        .client
        .get(t.url("/console"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let audit_after: Value = t.get("/api/v1/audit", &t.admin).await.json().await.unwrap();
    assert_eq!(audit_before["total"], audit_after["total"]);
}

/// Issue #18: `?page=abc` answered axum's plain-text "Failed to deserialize query string";
/// every console page's query now fails into the console's error page, in the reader's
/// language (422 `invalid_query`, as the API answers). And `/favicon.ico` was a 404.
async fn bad_page_addresses_get_the_console_error_page(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("ops.admin", "admin", None).await;
    let cookie = console_login(&t, "ops.admin").await;
    for path in [
        "/console/customers?page=abc",
        "/console/audit?page=-x",
        "/console/staff?page=1.5",
        "/console/stores?page=%FF",
    ] {
        let (status, html) = page(&t, &cookie, path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(html.contains("查询参数无效"), "{path}: {html}");
        assert!(!html.contains("Failed to deserialize"), "{path}");
    }
    let r = t.client.get(t.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.text().await.unwrap().starts_with("<svg"));
}

/// Issue #18: a refused promotion form comes back with what was typed and the error under the
/// field it is about (满99减120 → 减免金额, no amount → 减免金额, a falling stepped set → 更多档位);
/// the fields of another coupon type are ignored; the audience's segment is chosen from the
/// saved segments (listed with their member counts) and saved; a stepped set round-trips
/// through the edit form; the auto-tag rule form names its refused field too.
async fn console_forms_name_the_refused_field(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("promo.admin", "admin", None).await;
    let cookie = console_login(&t, "promo.admin").await;
    let r = t
        .post(
            "/api/v1/segments",
            &t.admin,
            serde_json::json!({"name": "上海车厘子爱好者", "expression": r#"city = "上海""#}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let seg = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (status, html) = page(&t, &cookie, "/console/promotions/coupons/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            r#"<option value="{seg}" data-name="上海车厘子爱好者" >上海车厘子爱好者（0 人）</option>"#
        )),
        "{html}"
    );
    let csrf = csrf_in(&html);
    let post = |path: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut form: Vec<(&str, String)> = vec![
            ("csrf", csrf.clone()),
            ("validity_kind", "days".into()),
            ("validity_days", "7".into()),
            ("starts", "2030-01-01T10:00".into()),
            ("ends", "2030-01-08T10:00".into()),
            ("stock", "100".into()),
            ("per_customer", "1".into()),
            ("audience", "segment".into()),
            ("segment_id", seg.to_string()),
        ];
        form.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        t.client
            .post(t.url(path))
            .header("cookie", &cookie)
            .form(&form)
            .send()
    };
    let refused = |field: &str, message: &str| {
        format!(r#"<p class="field-error" role="alert" data-field="{field}">{message}</p>"#)
    };
    // 满99减120: the error is under 减免金额, and what was typed is kept.
    let r = post(
        "/console/promotions/coupons",
        &[
            ("name", "满99减120"),
            ("kind", "amount_off"),
            ("off_yuan", "120"),
            ("threshold_yuan", "99"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused(
            "off_yuan",
            "减免金额须低于使用门槛（如 满99减20）"
        )),
        "{html}"
    );
    assert!(html.contains(r#"请检查「减免金额（元）」"#), "{html}");
    for kept in [
        r#"name="name" value="满99减120""#,
        r#"name="off_yuan" value="120""#,
        r#"name="threshold_yuan" value="99""#,
    ] {
        assert!(html.contains(kept), "{kept}");
    }
    assert!(html.contains(&format!(
        r#"<option value="{seg}" data-name="上海车厘子爱好者" selected>"#
    )));
    // No amount: named too.
    let r = post(
        "/console/promotions/coupons",
        &[
            ("name", "无金额"),
            ("kind", "amount_off"),
            ("threshold_yuan", "99"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("off_yuan", "请填写大于 0 的金额"))
    );
    // A falling stepped set: named at 更多档位.
    let r = post(
        "/console/promotions/coupons",
        &[
            ("name", "阶梯"),
            ("kind", "amount_off"),
            ("off_yuan", "20"),
            ("threshold_yuan", "99"),
            ("more_steps", "50 10"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"data-field="more_steps">优惠设置有误"#),
        "{html}"
    );
    // A discount: the amount-off fields typed before switching type are ignored.
    let r = post(
        "/console/promotions/coupons",
        &[
            ("name", "85折"),
            ("kind", "discount"),
            ("off_yuan", "not an amount"),
            ("rate_permille", "850"),
            ("cap_yuan", "50"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A stepped set with the segment: saved, and its edit form shows all of it.
    let r = post(
        "/console/promotions/coupons",
        &[
            ("name", "阶梯满减"),
            ("kind", "amount_off"),
            ("off_yuan", "20"),
            ("threshold_yuan", "99"),
            ("more_steps", "199 40\r\n满299减70"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, list) = page(&t, &cookie, "/console/promotions").await;
    let at = list.find(">阶梯满减</a>").expect("listed");
    let start = list[..at].rfind("data-template=\"").unwrap() + "data-template=\"".len();
    let id = &list[start..start + list[start..].find('"').unwrap()];
    let (status, html) = page(&t, &cookie, &format!("/console/promotions/coupons/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(">199.00 40.00\n299.00 70.00</textarea>"),
        "{html}"
    );
    assert!(html.contains(&format!(
        r#"<option value="{seg}" data-name="上海车厘子爱好者" selected>"#
    )));
    // A group-buy whose leader discount is not below the price: named at 团长优惠.
    let r = post(
        "/console/promotions/group-buys",
        &[
            ("name", "两人团"),
            ("sku", "SKU-1"),
            ("item_name", "车厘子"),
            ("price_yuan", "59.90"),
            ("leader_off_yuan", "60"),
            ("team_size", "2"),
            ("time_limit_minutes", "1440"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("leader_off_yuan", "团长优惠须低于活动价")),
        "{html}"
    );
    assert!(html.contains(r#"name="price_yuan" value="59.90""#));
    // The auto-tag rule form: a bad day count is named, the form kept.
    let r = t
        .client
        .post(t.url("/console/tags/rules"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "生命周期 2"),
            ("kind", "lifecycle"),
            ("new_days", "30"),
            ("active_days", "abc"),
            ("dormant_days", "180"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(&refused("active_days", "须为整数")), "{html}");
    assert!(html.contains(r#"name="active_days" value="abc""#));
    assert!(html.contains(r#"name="name" value="生命周期 2""#));
}
