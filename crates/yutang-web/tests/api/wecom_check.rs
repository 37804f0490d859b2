//! The WeCom setup checker (`POST /api/v1/wecom/check`, the console's 接入检查) against the
//! fake WeCom, with the test server's own callback route as the public URL and with URLs that
//! fail in each of the ways operators meet: nothing listening, a path that 404s, a proxy
//! that rewrites the body, a redirect, a slow answer, another server, another Yutang.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode as AxStatus, header};
use axum::response::IntoResponse;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_app::settings::Secret;
use yutang_wecom::client::api::{
    PATH_ADD_CONTACT_WAY, PATH_DEL_CONTACT_WAY, PATH_GET_FOLLOW_USER_LIST, PATH_LIST,
};

use crate::console::{console_login, csrf_in};
use crate::helpers::{Engine, TestApp, error_of, spawn_with};
use crate::wecom_sync::with_fake;

both_engines!(
    every_step_passes_through_the_server_s_own_callback,
    unreachable_and_wrong_urls_are_told_apart,
    a_rewriting_proxy_a_redirect_and_a_slow_answer_are_named,
    another_yutang_at_the_url_is_recognised,
    wecom_refusals_name_the_ip_and_the_fix,
    missing_settings_fail_and_skip_what_depends_on_them,
    the_console_saves_the_url_and_shows_the_steps,
);

/// Set the public callback URL through the API.
async fn set_public_url(t: &TestApp, url: &str) {
    let r = t
        .send_json(
            Method::PUT,
            "/api/v1/wecom/settings",
            &t.admin,
            json!({ "callback_public_url": url }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// The public callback URL in the settings.
async fn stored_url(t: &TestApp) -> String {
    let s: Value = t
        .get("/api/v1/wecom/settings", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    s["callback_public_url"].as_str().unwrap().to_owned()
}

/// The details of the checker's audit entries, newest first.
async fn audited_checks(t: &TestApp) -> Vec<Value> {
    let a: Value = t
        .get("/api/v1/audit?action=wecom_connection_tested", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    a["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| serde_json::from_str(i["detail"].as_str().unwrap()).unwrap())
        .collect()
}

/// Run the checker; the steps by key.
async fn check(t: &TestApp) -> Value {
    let r = t.post("/api/v1/wecom/check", &t.admin, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(
        steps
            .iter()
            .map(|s| s["key"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "callback_crypto",
            "callback_url",
            "trusted_ip",
            "read_customers",
            "contact_way"
        ]
    );
    for s in steps {
        // Every text is filled in, in both languages; every failure says what to change.
        for f in ["message_zh", "message_en", "fix_zh", "fix_en"] {
            let text = s[f].as_str().unwrap_or_default();
            assert!(!text.contains('{') && !text.contains("??"), "{f}: {s}");
        }
        assert!(!s["message_zh"].as_str().unwrap().is_empty(), "{s}");
        if s["status"] == "failed" {
            assert!(!s["fix_zh"].as_str().unwrap().is_empty(), "{s}");
            assert!(!s["fix_en"].as_str().unwrap().is_empty(), "{s}");
        }
    }
    v
}

fn step<'a>(v: &'a Value, key: &str) -> &'a Value {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap()
}

/// Step `key`'s text `field` contains `needle`.
fn says(v: &Value, key: &str, field: &str, needle: &str) {
    let text = step(v, key)[field].as_str().unwrap_or_default();
    assert!(
        text.contains(needle),
        "{key}.{field}: {text:?} lacks {needle:?}"
    );
}

/// `(status, code)` of a step.
fn outcome(v: &Value, key: &str) -> (String, String) {
    let s = step(v, key);
    (
        s["status"].as_str().unwrap().to_owned(),
        s["code"].as_str().unwrap().to_owned(),
    )
}

fn is(v: &Value, key: &str, status: &str, code: &str) {
    assert_eq!(
        outcome(v, key),
        (status.to_owned(), code.to_owned()),
        "{key}: {}",
        step(v, key)
    );
}

async fn every_step_passes_through_the_server_s_own_callback(e: Engine) {
    let (t, fake, _) = with_fake(e).await;
    set_public_url(&t, &t.url("/wecom/callback")).await;
    let v = check(&t).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["callback_public_url"], t.url("/wecom/callback"));
    is(&v, "callback_crypto", "ok", "crypto_ok");
    let url = step(&v, "callback_url");
    assert_eq!(url["status"], "ok", "{url}");
    assert!(["url_ok", "url_ok_slow"].contains(&url["code"].as_str().unwrap()));
    let ms = url["latency_ms"].as_u64().unwrap();
    assert!(ms <= 1000, "{ms}");
    assert!(
        url["message_zh"]
            .as_str()
            .unwrap()
            .contains(&format!("{ms} ms"))
    );
    is(&v, "trusted_ip", "ok", "ip_trusted");
    is(&v, "read_customers", "ok", "customers_ok");
    let users = fake.with_corp(|c| c.staff.iter().filter(|s| !s.resigned).count());
    let customers = step(&v, "read_customers");
    assert_eq!(customers["params"]["users"], users.to_string());
    let first = customers["params"]["userid"].as_str().unwrap().to_owned();
    let theirs = fake.with_corp(|c| c.follows.iter().filter(|f| f.userid == first).count());
    assert_eq!(customers["params"]["customers"], theirs.to_string());
    is(&v, "contact_way", "ok", "contact_way_ok");
    // The test contact way was created for that member and deleted at once.
    assert_eq!(fake.calls(PATH_ADD_CONTACT_WAY), 1);
    assert_eq!(fake.calls(PATH_DEL_CONTACT_WAY), 1);
    assert!(fake.with_corp(|c| c.contact_ways.is_empty()));
    assert!(
        step(&v, "contact_way")["params"]["state"]
            .as_str()
            .unwrap()
            .starts_with(yutang_app::wecom::check::TEST_WAY_STATE_PREFIX)
    );
    // The reminder: WeCom must hold the same Token and key.
    says(&v, "callback_crypto", "fix_zh", "Token");
    // Audited, with the passed steps.
    let audited = audited_checks(&t).await;
    let detail = &audited[0];
    assert_eq!(detail["ok"], true, "{detail}");
    assert_eq!(detail["passed"].as_array().unwrap().len(), 5);
}

/// Nothing listens on a port that was just freed.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn unreachable_and_wrong_urls_are_told_apart(e: Engine) {
    let (t, _fake, _) = with_fake(e).await;
    let wrong = format!("http://127.0.0.1:{}/wecom/callback", closed_port());
    set_public_url(&t, &wrong).await;
    let v = check(&t).await;
    assert_eq!(v["ok"], false);
    is(&v, "callback_crypto", "ok", "crypto_ok");
    is(&v, "callback_url", "failed", "url_connect");
    says(&v, "callback_url", "message_zh", "127.0.0.1:");
    // The API steps do not need the URL.
    is(&v, "trusted_ip", "ok", "ip_trusted");
    is(&v, "contact_way", "ok", "contact_way_ok");
    // A path that is not the callback.
    set_public_url(&t, &t.url("/wecom/nothing-here")).await;
    let v = check(&t).await;
    is(&v, "callback_url", "failed", "url_not_found");
    says(&v, "callback_url", "fix_zh", "/wecom/callback");
    // Refused on save: not a URL; nothing changes.
    let (status, code, field) = error_of(
        t.send_json(
            Method::PUT,
            "/api/v1/wecom/settings",
            &t.admin,
            json!({ "callback_public_url": "scrm.example.com/wecom/callback" }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_callback_public_url",
            Some("callback_public_url")
        )
    );
    assert_eq!(stored_url(&t).await, t.url("/wecom/nothing-here"));
}

/// A stand-in for what sits between WeCom and Yutang: a proxy that adds a BOM and a newline,
/// a redirect, a slow proxy, and an unrelated site.
async fn middlebox(target: String) -> (String, tokio::task::JoinHandle<()>) {
    async fn forward(target: &str, q: Option<String>) -> (u16, Vec<u8>) {
        let url = format!("{target}?{}", q.unwrap_or_default());
        let r = reqwest::get(&url).await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }
    let app = axum::Router::new()
        .route(
            "/rewrite",
            axum::routing::get(
                |State(t): State<String>, RawQuery(q): RawQuery| async move {
                    let (_, body) = forward(&t, q).await;
                    let mut out = b"\xEF\xBB\xBF".to_vec();
                    out.extend_from_slice(&body);
                    out.push(b'\n');
                    out
                },
            ),
        )
        .route(
            "/moved",
            axum::routing::get(|| async {
                (
                    AxStatus::MOVED_PERMANENTLY,
                    [(header::LOCATION, "https://scrm.example.com/wecom/callback")],
                )
                    .into_response()
            }),
        )
        .route(
            "/slow",
            axum::routing::get(
                |State(t): State<String>, RawQuery(q): RawQuery| async move {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    forward(&t, q).await.1
                },
            ),
        )
        .route(
            "/site",
            axum::routing::get(|| async { "<!doctype html><title>Brand site</title>" }),
        )
        .with_state(target);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, task)
}

async fn a_rewriting_proxy_a_redirect_and_a_slow_answer_are_named(e: Engine) {
    let (t, _fake, _) = with_fake(e).await;
    let (mb, task) = middlebox(t.url("/wecom/callback")).await;
    set_public_url(&t, &format!("{mb}/rewrite")).await;
    let v = check(&t).await;
    is(&v, "callback_url", "failed", "url_body_rewritten");
    let s = step(&v, "callback_url");
    assert_eq!(s["params"]["changes"], "bom,newline");
    assert!(s["message_zh"].as_str().unwrap().contains("BOM"), "{s}");
    assert!(s["message_zh"].as_str().unwrap().contains("换行"), "{s}");
    assert!(s["detail"].as_str().unwrap().contains("\\u{feff}"), "{s}");

    set_public_url(&t, &format!("{mb}/moved")).await;
    let v = check(&t).await;
    is(&v, "callback_url", "failed", "url_redirect");
    assert_eq!(
        step(&v, "callback_url")["params"]["location"],
        "https://scrm.example.com/wecom/callback"
    );

    set_public_url(&t, &format!("{mb}/site")).await;
    let v = check(&t).await;
    is(&v, "callback_url", "failed", "url_body_different");
    says(&v, "callback_url", "detail", "Brand site");

    set_public_url(&t, &format!("{mb}/slow")).await;
    let v = check(&t).await;
    is(&v, "callback_url", "failed", "url_timeout");
    let ms = step(&v, "callback_url")["latency_ms"].as_u64().unwrap();
    assert!(ms >= 1000, "{ms}");
    task.abort();
}

async fn another_yutang_at_the_url_is_recognised(e: Engine) {
    let (t, fake, _) = with_fake(e).await;
    // Another Yutang for the same corp, set up with another Token.
    let (corp, key) = (
        fake.corp_id().to_owned(),
        yutang_wecom::AesKey::generate().to_encoding_aes_key(),
    );
    let other = spawn_with(e, move |s| {
        s.wecom.corp_id = corp;
        s.wecom.callback_token = Some(Secret::new("AnotherToken"));
        s.wecom.encoding_aes_key = Some(Secret::new(key));
    })
    .await;
    set_public_url(&t, &other.url("/wecom/callback")).await;
    let v = check(&t).await;
    is(&v, "callback_url", "failed", "url_other_token");
    assert_eq!(step(&v, "callback_url")["errcode"], -40001);
    // One that is not set up at all.
    let bare = spawn_with(e, |_| {}).await;
    set_public_url(&t, &bare.url("/wecom/callback")).await;
    let v = check(&t).await;
    is(&v, "callback_url", "failed", "url_not_configured_there");
}

async fn wecom_refusals_name_the_ip_and_the_fix(e: Engine) {
    let (t, fake, _) = with_fake(e).await;
    set_public_url(&t, &t.url("/wecom/callback")).await;
    // 60020: the IP from WeCom's errmsg, and where to add it; what needs the API is skipped.
    fake.fail_next(PATH_GET_FOLLOW_USER_LIST, 60020, 1);
    let v = check(&t).await;
    is(
        &v,
        "callback_url",
        "ok",
        step(&v, "callback_url")["code"].as_str().unwrap(),
    );
    is(&v, "trusted_ip", "failed", "ip_untrusted");
    let ip = step(&v, "trusted_ip");
    assert_eq!(ip["errcode"], 60020);
    assert_eq!(ip["params"]["ip"], "127.0.0.1");
    assert!(
        ip["message_zh"].as_str().unwrap().contains("127.0.0.1"),
        "{ip}"
    );
    assert!(
        ip["fix_zh"].as_str().unwrap().contains("企业可信IP"),
        "{ip}"
    );
    assert!(ip["fix_en"].as_str().unwrap().contains("127.0.0.1"), "{ip}");
    is(&v, "read_customers", "skipped", "skipped_no_api");
    is(&v, "contact_way", "skipped", "skipped_no_follow_user");
    // A wrong secret is the credentials, not the IP.
    fake.fail_next("/cgi-bin/gettoken", 40001, 1);
    let v = check(&t).await;
    is(&v, "trusted_ip", "failed", "api_credentials");
    says(&v, "trusted_ip", "fix_zh", "Secret");
    // A member outside the app's visible range.
    fake.fail_next(PATH_LIST, 60011, 1);
    let v = check(&t).await;
    is(&v, "trusted_ip", "ok", "ip_trusted");
    is(&v, "read_customers", "failed", "customers_error");
    says(&v, "read_customers", "fix_zh", "可见范围");
    is(&v, "contact_way", "skipped", "skipped_no_follow_user");
    // The app may not create contact ways.
    fake.fail_next(PATH_ADD_CONTACT_WAY, 48002, 1);
    let v = check(&t).await;
    is(&v, "read_customers", "ok", "customers_ok");
    is(&v, "contact_way", "failed", "contact_way_error");
    let cw = step(&v, "contact_way");
    assert_eq!(cw["errcode"], 48002);
    assert!(
        cw["fix_zh"].as_str().unwrap().contains("可调用接口的应用"),
        "{cw}"
    );
    // Created but not deleted: the config id is named.
    fake.fail_next(PATH_DEL_CONTACT_WAY, -1, 4);
    let v = check(&t).await;
    is(&v, "contact_way", "failed", "contact_way_not_deleted");
    let id = step(&v, "contact_way")["params"]["config_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(fake.with_corp(|c| c.contact_ways.contains_key(&id)));
    // Each run is audited with what failed.
    let audited = audited_checks(&t).await;
    assert_eq!(audited.len(), 5, "{audited:?}");
    let first = &audited[4];
    assert_eq!(
        (&first["ok"], &first["finding"], &first["failed"]),
        (
            &json!(false),
            &json!("ip_untrusted"),
            &json!(["trusted_ip"])
        ),
        "{first}"
    );
}

async fn missing_settings_fail_and_skip_what_depends_on_them(e: Engine) {
    let t = spawn_with(e, |_| {}).await;
    let v = check(&t).await;
    assert_eq!(v["ok"], false);
    is(&v, "callback_crypto", "failed", "crypto_missing");
    assert_eq!(
        step(&v, "callback_crypto")["params"]["missing"],
        "corp_id,callback_token,encoding_aes_key"
    );
    says(
        &v,
        "callback_crypto",
        "message_zh",
        "企业 ID、回调 Token、EncodingAESKey",
    );
    is(&v, "callback_url", "skipped", "skipped_no_crypto");
    is(&v, "trusted_ip", "failed", "api_missing");
    is(&v, "read_customers", "skipped", "skipped_no_api");
    is(&v, "contact_way", "skipped", "skipped_no_follow_user");
    // The Token and key are there but no URL yet.
    let key = yutang_wecom::AesKey::generate().to_encoding_aes_key();
    let t = spawn_with(e, move |s| {
        s.wecom.corp_id = "ww5823bf96d3bd56c7".into();
        s.wecom.callback_token = Some(Secret::new("QDG6eK"));
        s.wecom.encoding_aes_key = Some(Secret::new(key));
    })
    .await;
    let v = check(&t).await;
    is(&v, "callback_crypto", "ok", "crypto_ok");
    is(&v, "callback_url", "failed", "url_missing");
    // Admins only.
    let store = t.store("S-CK").await;
    for (name, role) in [("ck.ops", "operator"), ("ck.guide", "guide")] {
        t.staff(name, role, (role == "guide").then_some(store))
            .await;
        let token = t.login(name).await;
        let r = t.post("/api/v1/wecom/check", &token, json!({})).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role}");
    }
}

async fn the_console_saves_the_url_and_shows_the_steps(e: Engine) {
    let (t, _fake, _) = with_fake(e).await;
    t.staff("ck.admin", "admin", None).await;
    let cookie = console_login(&t, "ck.admin").await;
    let html = t
        .client
        .get(t.url("/console/settings/wecom"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("接入检查") && html.contains("id=\"wecom-check-form\""));
    let csrf = csrf_in(&html);
    let post = |url: String| {
        t.client
            .post(t.url("/console/settings/wecom/check"))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.clone()), ("callback_public_url", url)])
            .send()
    };
    // Not a URL: refused with the field named, the value kept in the form.
    let r = post("ftp://scrm.example.com/x".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("data-field=\"callback_public_url\"")
            && html.contains("value=\"ftp://scrm.example.com/x\""),
        "{html}"
    );
    // The server's own callback: five steps, all passed.
    let r = post(t.url("/wecom/callback")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(html.matches("data-status=\"ok\"").count(), 5, "{html}");
    assert!(
        html.contains("全部通过") && html.contains("公网回调地址可用"),
        "{html}"
    );
    // Saved (and audited as a settings change).
    assert_eq!(stored_url(&t).await, t.url("/wecom/callback"));
    let actions = t.audit_actions().await;
    assert!(
        actions.contains(&"wecom_settings_changed".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"wecom_connection_tested".to_owned()),
        "{actions:?}"
    );
}
