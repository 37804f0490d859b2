//! The webhook console pages (issue #24 item 6): the list with its create form (a refused
//! form names the field, the signing secret shows once), a webhook's page with its settings,
//! test, pause and resume, secret rotation and delete through a confirmation, the delivery
//! log with its filters and replays, the alert of an automatic pause; and nobody but admins
//! sees or uses any of it.

use reqwest::StatusCode;

use crate::acquisition::run_sql;
use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form};
use crate::helpers::{Engine, TestApp, spawn_with};

both_engines!(
    console_webhooks_create_test_pause_rotate_delete,
    console_webhooks_are_for_admins_only,
);

/// An app that can seal signing secrets on either engine (SQLite would make a key file).
async fn app(e: Engine) -> TestApp {
    spawn_with(e, |s| {
        s.secret_key = Some(yutang_app::settings::Secret::new("ab".repeat(32)));
        // Nothing is sent behind the test's back: it sets delivery states itself.
        s.webhooks.deliver = false;
    })
    .await
}

fn zh(code: &str) -> &'static str {
    yutang_core::error_codes::find(code).expect(code).zh
}

/// Create a webhook through the console form; answers the response.
async fn create(
    t: &TestApp,
    cookie: &str,
    csrf: &str,
    url: &str,
    kinds: &[&str],
) -> reqwest::Response {
    let mut form = vec![
        ("csrf", csrf.to_owned()),
        ("name", "会员中台".to_owned()),
        ("url", url.to_owned()),
        ("other_kinds", String::new()),
    ];
    form.extend(kinds.iter().map(|k| ("kinds", (*k).to_owned())));
    post_form(t, cookie, "/console/webhooks", &form).await
}

async fn console_webhooks_create_test_pause_rotate_delete(e: Engine) {
    let t = app(e).await;
    t.staff("hook.admin", "admin", None).await;
    let cookie = console_login(&t, "hook.admin").await;

    // The nav leads to the list, empty at first.
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/console/webhooks""#), "nav");
    let (status, html) = page(&t, &cookie, "/console/webhooks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"webhook-form\"") && html.contains("value=\"order_paid\""));
    let csrf = csrf_in(&html);

    // A URL that is not http(s): 422 naming the field, what was typed kept.
    let r = create(&t, &cookie, &csrf, "ftp://x", &["order_paid"]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"<p class="field-error" role="alert" data-field="url">{}</p>"#,
            zh("invalid_url")
        )),
        "{html}"
    );
    assert!(html.contains(r#"value="ftp://x""#) && html.contains("value=\"会员中台\""));
    assert!(!html.contains("id=\"new-secret\""));

    // Created: the secret shows this once.
    let r = create(
        &t,
        &cookie,
        &csrf,
        "https://hooks.example.com/yutang",
        &["order_paid", "coupon_used"],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"new-secret\">whsec_"), "{html}");
    let id: i64 = {
        let at = html.find("data-webhook=\"").unwrap() + "data-webhook=\"".len();
        html[at..at + html[at..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    let (_, html) = page(&t, &cookie, "/console/webhooks").await;
    assert!(html.contains("https://hooks.example.com/yutang") && html.contains("启用"));
    assert!(!html.contains("whsec_"), "the secret is not shown again");

    // The webhook's page: its settings filled in, the log empty.
    let path = format!("/console/webhooks/{id}");
    let (status, html) = page(&t, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"value="order_paid" checked"#), "{html}");
    assert!(html.contains(r#"value="coupon_used" checked"#));
    assert!(!html.contains(r#"value="*" id="kind-all" checked"#));
    assert!(!html.contains("data-event="));

    // 发送测试: a ping in the log.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/test"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?ok=tested#deliveries"));
    let (_, html) = page(&t, &cookie, &format!("{path}?ok=tested")).await;
    assert!(html.contains("data-event=\"ping_1\""), "{html}");
    assert!(html.contains("已加入测试推送") && html.contains("测试推送"));
    assert!(
        html.contains("&#34;kind&#34;: &#34;ping&#34;")
            || html.contains("&quot;kind&quot;: &quot;ping&quot;")
    );
    // The log's filters.
    let (status, html) = page(&t, &cookie, &format!("{path}?status=pending")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-event=\"ping_1\""));
    let (status, html) = page(&t, &cookie, &format!("{path}?status=delivered")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("data-event=\"ping_1\""));
    let (status, _) = page(&t, &cookie, &format!("{path}?status=nope")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // A delivery of another webhook is not found through this one.
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/webhooks/{}/deliveries/1/replay", id + 1),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The failed ping: replayed one by one and all at once.
    run_sql(
        &t,
        &format!(
            "UPDATE webhook_deliveries SET status = 'failed', attempts = 12, \
             last_error = 'the receiver answered HTTP 500', last_status = 500 \
             WHERE subscription_id = {id}"
        ),
    )
    .await;
    let (_, html) = page(&t, &cookie, &format!("{path}?status=failed")).await;
    assert!(
        html.contains("data-status=\"failed\"") && html.contains("the receiver answered HTTP 500")
    );
    assert!(html.contains("重发全部失败（1）"));
    let delivery: i64 = {
        let at = html.find("data-delivery=\"").unwrap() + "data-delivery=\"".len();
        html[at..at + html[at..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/deliveries/{delivery}/replay"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?ok=replayed#deliveries"));
    let (_, html) = page(&t, &cookie, &format!("{path}?status=pending")).await;
    assert!(
        html.contains("data-event=\"ping_1\""),
        "replayed: pending again"
    );
    run_sql(
        &t,
        &format!("UPDATE webhook_deliveries SET status = 'failed' WHERE subscription_id = {id}"),
    )
    .await;
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/replay-failed"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&t, &cookie, &format!("{path}?status=failed")).await;
    assert!(!html.contains("data-event=\"ping_1\""));

    // Settings: a refused edit names the field; a good one is saved, other kinds typed.
    let r = post_form(
        &t,
        &cookie,
        &path,
        &[
            ("csrf", csrf.clone()),
            ("name", "会员中台".into()),
            ("url", "https://hooks.example.com/yutang".into()),
            ("other_kinds", String::new()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains(r#"data-field="kinds""#));
    let r = post_form(
        &t,
        &cookie,
        &path,
        &[
            ("csrf", csrf.clone()),
            ("name", "数仓同步".into()),
            ("url", "https://hooks.example.com/dw".into()),
            ("kinds", "order_paid".into()),
            ("other_kinds", "custom.signup, quiz_done".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?ok=saved"));
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains("数仓同步") && html.contains("https://hooks.example.com/dw"));
    assert!(
        html.contains(r#"value="custom.signup, quiz_done""#),
        "{html}"
    );
    assert!(!html.contains(r#"value="coupon_used" checked"#));

    // Pause and resume.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/pause"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(location(&r), format!("{path}?ok=paused"));
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains(r#"data-status="paused">已暂停"#) && html.contains("手动暂停"));
    assert!(html.contains("id=\"webhook-resume\""));
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/resume"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(location(&r), format!("{path}?ok=resumed"));
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains(r#"data-status="active">启用"#) && html.contains("id=\"webhook-pause\""));

    // Paused after repeated failures: an alert on the list and on the page.
    run_sql(
        &t,
        &format!(
            "UPDATE webhook_subscriptions SET status = 'paused', \
             paused_reason = 'too_many_failures' WHERE id = {id}"
        ),
    )
    .await;
    let (_, html) = page(&t, &cookie, "/console/webhooks").await;
    assert!(html.contains("「数仓同步」连续失败自动暂停"), "{html}");
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains("id=\"auto-paused\"") && html.contains("连续失败自动暂停"));
    let (_, html) = page(&t, &format!("{cookie}; yutang_lang=en"), &path).await;
    assert!(html.contains("Paused after repeated failures") && html.contains("Send a test"));

    // Rotating the secret is confirmed, then the new one shows once.
    let (status, html) = page(&t, &cookie, &format!("{path}/rotate")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-outcome="rotate""#) && html.contains("旧密钥立即失效"));
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/rotate"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("id=\"new-secret\">whsec_"));
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(!html.contains("whsec_"));

    // Deleting is confirmed; the webhook is gone.
    let (status, html) = page(&t, &cookie, &format!("{path}/delete")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"data-outcome="delete""#) && html.contains("https://hooks.example.com/dw")
    );
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/delete"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/webhooks?ok=deleted");
    let (_, html) = page(&t, &cookie, "/console/webhooks?ok=deleted").await;
    assert!(html.contains("已删除") && !html.contains("数仓同步"));
    let (status, _) = page(&t, &cookie, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn console_webhooks_are_for_admins_only(e: Engine) {
    let t = app(e).await;
    let store = t.store("HOOK-1").await;
    t.staff("hook.admin2", "admin", None).await;
    let admin = console_login(&t, "hook.admin2").await;
    let (_, html) = page(&t, &admin, "/console/webhooks").await;
    let r = create(
        &t,
        &admin,
        &csrf_in(&html),
        "https://hooks.example.com/yutang",
        &["*"],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = r.text().await.unwrap();
    let at = html.find("data-webhook=\"").unwrap() + "data-webhook=\"".len();
    let id: i64 = html[at..at + html[at..].find('"').unwrap()]
        .parse()
        .unwrap();
    for (user, role, store) in [
        ("hook.ops", "operator", None),
        ("hook.analyst", "analyst", None),
        ("hook.manager", "store_manager", Some(store)),
        ("hook.guide", "guide", Some(store)),
    ] {
        t.staff(user, role, store).await;
        let cookie = console_login(&t, user).await;
        let (_, html) = page(&t, &cookie, "/console").await;
        assert!(!html.contains("/console/webhooks"), "{role}: no nav entry");
        let csrf = csrf_in(&html);
        for path in [
            "/console/webhooks".to_owned(),
            format!("/console/webhooks/{id}"),
            format!("/console/webhooks/{id}/rotate"),
            format!("/console/webhooks/{id}/delete"),
        ] {
            let (status, html) = page(&t, &cookie, &path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} GET {path}");
            assert!(!html.contains("hooks.example.com"), "{role} GET {path}");
        }
        // A refused form is refused for who posts it, not for what it holds.
        let r = create(&t, &cookie, &csrf, "ftp://x", &[]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role}");
        for action in [
            "",
            "/test",
            "/pause",
            "/resume",
            "/rotate",
            "/delete",
            "/replay-failed",
            "/deliveries/1/replay",
        ] {
            let path = format!("/console/webhooks/{id}{action}");
            let r = post_form(
                &t,
                &cookie,
                &path,
                &[
                    ("csrf", csrf.clone()),
                    ("name", "x".into()),
                    ("url", "https://hooks.example.com/x".into()),
                    ("kinds", "*".into()),
                ],
            )
            .await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} POST {path}");
        }
    }
    // Nothing changed.
    let (_, html) = page(&t, &admin, &format!("/console/webhooks/{id}")).await;
    assert!(html.contains(r#"data-status="active""#) && !html.contains("data-event="));
}
