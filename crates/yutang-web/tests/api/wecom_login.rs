//! Sign in with WeCom (issue #23 item 1), through the console against the fake WeCom, on both
//! engines: the QR web login and the OAuth page inside the WeCom client both land on `next`
//! with a working session; a forged or missing state, a replayed, expired, malformed or
//! outsider's code, an unlinked or disabled member are refused with a clear page, audited, and
//! open no session; without a configured app the console says so instead of redirecting.

use std::time::Duration;

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use yutang_wecom::fake::FakeWecom;

use crate::helpers::{Engine, TestApp};
use crate::wecom_sync::{guide, with_fake_and};

both_engines!(
    the_qr_web_login_lands_on_next_with_a_working_session,
    inside_the_wecom_client_the_oauth_page_signs_in,
    bad_states_and_codes_are_refused_clearly_and_audited,
    unlinked_and_disabled_members_are_refused,
    without_an_app_the_console_says_sign_in_is_not_set_up,
);

const AGENT: i64 = 1_000_023;
const APP_SECRET: &str = "wecom-login-app-secret-01";
const WXWORK_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh";

/// A server on the fake WeCom (its login pages included) with store `WL-A` and the guide
/// `g.zhangwei` linked to zhangwei; with `app`, the self-built app is registered and saved.
async fn setup(e: Engine, app: bool) -> (TestApp, FakeWecom, i64) {
    let (t, fake, _) = with_fake_and(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
        s.journeys.run = false;
        s.secret_key = Some(yutang_app::settings::Secret::new("cd".repeat(32)));
        // The fake's pages stand in for login.work.weixin.qq.com and open.weixin.qq.com.
        s.wecom.login_base = s.wecom.api_base.clone();
        s.wecom.oauth_base = s.wecom.api_base.clone();
    })
    .await;
    let store = t.store("WL-A").await;
    guide(&t, store, "zhangwei").await;
    if app {
        fake.add_app(AGENT, APP_SECRET);
        let r = t
            .send_json(
                Method::PUT,
                "/api/v1/wecom/settings",
                &t.admin,
                json!({"app_secrets": [{"agent_id": AGENT.to_string(), "secret": APP_SECRET}]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    (t, fake, store)
}

/// A browser: keeps cookies, follows no redirect by itself.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no location in a {}", r.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

fn set_cookie(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(url).unwrap();
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Start a sign-in: the 303 to WeCom's page, checked, and the state it carries.
async fn start(t: &TestApp, b: &Client, ua: &str, next: &str) -> (String, String) {
    let r = b
        .get(t.url(&format!(
            "/console/login/wecom?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )))
        .header("user-agent", ua)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c = set_cookie(&r, "yutang_wecom_login").expect("state cookie");
    for part in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/console/login/wecom",
        "Max-Age=300",
    ] {
        assert!(c.contains(part), "{c}");
    }
    let to = location(&r);
    let state = query_param(&to, "state").expect("state");
    assert!(
        (1..=128).contains(&state.len()) && state.chars().all(|c| c.is_ascii_alphanumeric()),
        "{state}"
    );
    (to, state)
}

/// WeCom's return to the console.
async fn callback(t: &TestApp, b: &Client, query: &str) -> Response {
    b.get(t.url(&format!("/console/login/wecom/callback?{query}")))
        .send()
        .await
        .unwrap()
}

/// A refusal: the login page with `status`, the reason in Chinese, the password form, no
/// session cookie, and the state cookie cleared.
async fn refused(r: Response, status: StatusCode, text: &str) {
    assert_eq!(r.status(), status);
    assert!(set_cookie(&r, "yutang_session").is_none());
    let cleared = set_cookie(&r, "yutang_wecom_login").expect("state cookie cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let body = r.text().await.unwrap();
    assert!(body.contains(text), "{text} not in {body}");
    assert!(body.contains("name=\"password\""), "{body}");
}

/// The audit entries of WeCom sign-ins, newest first: (action, detail).
async fn wecom_audit(t: &TestApp) -> Vec<(String, Value)> {
    let r = t.get("/api/v1/audit?page_size=200", &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| {
            let detail: Value = serde_json::from_str(i["detail"].as_str()?).ok()?;
            (detail["method"] == "wecom")
                .then(|| (i["action"].as_str().unwrap().to_owned(), detail))
        })
        .collect()
}

async fn reasons(t: &TestApp) -> Vec<String> {
    wecom_audit(t)
        .await
        .into_iter()
        .filter(|(a, _)| a == "login_failed")
        .map(|(_, d)| d["reason"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Through WeCom's page (the member confirms) and back: the callback's query.
async fn through_wecom(b: &Client, to: &str, fake: &FakeWecom) -> String {
    let r = b.get(to).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND, "{}", r.text().await.unwrap());
    let back = location(&r);
    assert!(back.starts_with("http"), "{back}");
    let _ = fake;
    back.split_once('?').unwrap().1.to_owned()
}

async fn the_qr_web_login_lands_on_next_with_a_working_session(e: Engine) {
    let (t, fake, _) = setup(e, true).await;
    // The login page offers it beside the password form.
    let r = t
        .client
        .get(t.url("/console/login?next=%2Fconsole%2Fcustomers"))
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("企业微信扫码登录"), "{page}");
    assert!(
        page.contains("/console/login/wecom?next=%2Fconsole%2Fcustomers"),
        "{page}"
    );
    assert!(page.contains("name=\"password\""));

    let b = browser();
    let (to, state) = start(
        &t,
        &b,
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        "/console/customers",
    )
    .await;
    // The QR web login, for this corp's app, returning to the console's callback.
    assert!(
        to.starts_with(&format!("{}/wwlogin/sso/login?", fake.base_url())),
        "{to}"
    );
    assert_eq!(query_param(&to, "login_type").as_deref(), Some("CorpApp"));
    assert_eq!(query_param(&to, "appid").as_deref(), Some(fake.corp_id()));
    assert_eq!(query_param(&to, "agentid"), Some(AGENT.to_string()));
    assert_eq!(
        query_param(&to, "redirect_uri"),
        Some(t.url("/console/login/wecom/callback"))
    );

    // Nobody has scanned yet: WeCom's page does not come back.
    let r = b.get(&to).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    fake.set_web_login_user(Some("zhangwei"));
    let query = through_wecom(&b, &to, &fake).await;
    assert!(query.contains(&format!("state={state}")), "{query}");
    let r = callback(&t, &b, &query).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/customers");
    let session = set_cookie(&r, "yutang_session").expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(
        set_cookie(&r, "yutang_wecom_login")
            .unwrap()
            .contains("Max-Age=0")
    );

    // The session works: the guide's customers page, under their own name.
    let r = b.get(t.url("/console/customers")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains("g.zhangwei"), "{body}");

    // Audited: a login by WeCom, for zhangwei's account.
    let audit = wecom_audit(&t).await;
    assert_eq!(
        audit.first().map(|(a, _)| a.as_str()),
        Some("login"),
        "{audit:?}"
    );
    assert_eq!(audit[0].1["userid"], "zhangwei");
    // The state was spent with its cookie: the same return again is refused.
    let r = callback(&t, &b, &query).await;
    refused(r, StatusCode::FORBIDDEN, "登录请求已失效").await;
}

async fn inside_the_wecom_client_the_oauth_page_signs_in(e: Engine) {
    let (t, fake, _) = setup(e, true).await;
    fake.set_web_login_user(Some("zhangwei"));
    let b = browser();
    let (to, _) = start(&t, &b, WXWORK_UA, "/console/guide-tasks").await;
    assert!(
        to.starts_with(&format!("{}/connect/oauth2/authorize?", fake.base_url())),
        "{to}"
    );
    assert!(to.ends_with("#wechat_redirect"), "{to}");
    assert_eq!(query_param(&to, "scope").as_deref(), Some("snsapi_base"));
    assert_eq!(query_param(&to, "response_type").as_deref(), Some("code"));
    assert_eq!(query_param(&to, "agentid"), Some(AGENT.to_string()));
    let query = through_wecom(&b, &to, &fake).await;
    let r = b
        .get(t.url(&format!("/console/login/wecom/callback?{query}")))
        .header("user-agent", WXWORK_UA)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/guide-tasks");
    let r = b.get(t.url("/console/guide-tasks")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // An unsafe `next` falls back to the console's home.
    let b = browser();
    let (to, _) = start(&t, &b, WXWORK_UA, "//evil.example/x").await;
    let query = through_wecom(&b, &to, &fake).await;
    let r = callback(&t, &b, &query).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console");
}

async fn bad_states_and_codes_are_refused_clearly_and_audited(e: Engine) {
    let (t, fake, _) = setup(e, true).await;
    let forged = "登录请求已失效";

    // No state cookie at all (a link planted in someone's browser).
    let b = browser();
    let code = fake.oauth_code("zhangwei");
    refused(
        callback(&t, &b, &format!("code={code}&state=abc")).await,
        StatusCode::FORBIDDEN,
        forged,
    )
    .await;
    // A state other than the cookie's.
    let (_, state) = start(&t, &b, "Firefox", "/console").await;
    let other = if state.starts_with('a') { "b" } else { "a" };
    let wrong = format!("{other}{}", &state[1..]);
    refused(
        callback(&t, &b, &format!("code={code}&state={wrong}")).await,
        StatusCode::FORBIDDEN,
        forged,
    )
    .await;
    // No state given.
    let (_, _) = start(&t, &b, "Firefox", "/console").await;
    refused(
        callback(&t, &b, &format!("code={code}")).await,
        StatusCode::FORBIDDEN,
        forged,
    )
    .await;
    // The code was never spent: with a good state it still signs in.
    let (_, state) = start(&t, &b, "Firefox", "/console").await;
    let r = callback(&t, &b, &format!("code={code}&state={state}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&r, "yutang_session").is_some());

    // The same code again, with a fresh state: refused by Yutang before WeCom is asked.
    let calls = fake.calls("/cgi-bin/auth/getuserinfo");
    let b = browser();
    let (_, state) = start(&t, &b, "Firefox", "/console").await;
    refused(
        callback(&t, &b, &format!("code={code}&state={state}")).await,
        StatusCode::FORBIDDEN,
        "该企业微信登录凭证已使用过",
    )
    .await;
    assert_eq!(fake.calls("/cgi-bin/auth/getuserinfo"), calls);

    let invalid = "企业微信登录凭证无效或已过期";
    // No code.
    let (_, state) = start(&t, &b, "Firefox", "/console").await;
    refused(
        callback(&t, &b, &format!("state={state}")).await,
        StatusCode::BAD_REQUEST,
        invalid,
    )
    .await;
    // 600 bytes, a DEL, a non-ASCII character, a code WeCom never issued.
    for bad in [
        "x".repeat(600),
        "abc%7Fdef".into(),
        "%E7%A0%81".into(),
        "nosuchcode".into(),
    ] {
        let (_, state) = start(&t, &b, "Firefox", "/console").await;
        refused(
            callback(&t, &b, &format!("code={bad}&state={state}")).await,
            StatusCode::FORBIDDEN,
            invalid,
        )
        .await;
    }
    // A control character never reaches the sign-in: the console refuses it as input.
    let (_, state) = start(&t, &b, "Firefox", "/console").await;
    let r = callback(&t, &b, &format!("code=ab%01c&state={state}")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookie(&r, "yutang_session").is_none());
    // Expired: WeCom's codes live 5 minutes.
    let late = fake.oauth_code("zhangwei");
    fake.advance_clock(Duration::from_secs(301));
    let (_, state) = start(&t, &b, "Firefox", "/console").await;
    refused(
        callback(&t, &b, &format!("code={late}&state={state}")).await,
        StatusCode::FORBIDDEN,
        invalid,
    )
    .await;
    // Someone outside the corp.
    let outsider = fake.oauth_code_for_outsider();
    let (_, state) = start(&t, &b, "Firefox", "/console").await;
    refused(
        callback(&t, &b, &format!("code={outsider}&state={state}")).await,
        StatusCode::FORBIDDEN,
        "只有本企业的成员可以用企业微信登录",
    )
    .await;

    let mut got = reasons(&t).await;
    got.reverse();
    assert_eq!(
        got,
        [
            "forged_state",
            "forged_state",
            "forged_state",
            "replayed_code",
            "invalid_code",
            "invalid_code",
            "invalid_code",
            "invalid_code",
            "invalid_code",
            "invalid_code",
            "not_member",
        ]
    );
    // One session in all: the one good sign-in.
    let logins = wecom_audit(&t)
        .await
        .into_iter()
        .filter(|(a, _)| a == "login")
        .count();
    assert_eq!(logins, 1);
}

async fn unlinked_and_disabled_members_are_refused(e: Engine) {
    let (t, fake, store) = setup(e, true).await;
    let b = browser();
    // lina is a member of the corp, linked to no staff account.
    let code = fake.oauth_code("lina");
    let (_, state) = start(&t, &b, "Firefox", "/console").await;
    refused(
        callback(&t, &b, &format!("code={code}&state={state}")).await,
        StatusCode::FORBIDDEN,
        "此企业微信账号未关联鱼塘员工，请联系管理员",
    )
    .await;
    // wangfang's account is disabled.
    let id = guide(&t, store, "wangfang").await;
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{id}"),
            &t.admin,
            json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    fake.set_web_login_user(Some("wangfang"));
    let (to, _) = start(&t, &b, "Firefox", "/console").await;
    let query = through_wecom(&b, &to, &fake).await;
    refused(
        callback(&t, &b, &query).await,
        StatusCode::FORBIDDEN,
        "已停用",
    )
    .await;

    let audit = wecom_audit(&t).await;
    assert!(audit.iter().all(|(a, _)| a == "login_failed"), "{audit:?}");
    let got: Vec<(String, String)> = audit
        .iter()
        .rev()
        .map(|(_, d)| {
            (
                d["reason"].as_str().unwrap().to_owned(),
                d["userid"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("unknown_wecom_user".to_owned(), "lina".to_owned()),
            ("account_disabled".to_owned(), "wangfang".to_owned()),
        ]
    );
}

async fn without_an_app_the_console_says_sign_in_is_not_set_up(e: Engine) {
    let (t, _fake, _) = setup(e, false).await;
    let page = t
        .client
        .get(t.url("/console/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("/console/login/wecom"), "{page}");
    let b = browser();
    let r = b
        .get(t.url("/console/login/wecom?next=/console"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().get("location").is_none());
    assert!(set_cookie(&r, "yutang_wecom_login").is_none());
    let body = r.text().await.unwrap();
    assert!(body.contains("尚未配置企业微信登录"), "{body}");
    assert!(body.contains("name=\"password\""));
    assert_eq!(reasons(&t).await, ["not_configured"]);
}
