//! The order-sync console pages (issue #24 item 7): the list of sources with its create form
//! (a refused form names the field; a generic source's signing secret shows once, with its
//! receiving URL), a source's page with its guide, settings (pausing included), secret
//! rotation and delete through a confirmation, and the message log — a failed message shows
//! its reason and is retried from the page — for generic and 有赞 sources; and nobody but
//! admins sees or uses any of it.

use reqwest::StatusCode;
use serde_json::json;

use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form};
use crate::helpers::{Engine, TestApp, spawn_with};

both_engines!(
    console_inbound_generic_source_log_retry_rotate_delete,
    console_inbound_youzan_source,
    console_inbound_is_for_admins_only,
);

/// An app that can seal source secrets on either engine.
async fn app(e: Engine) -> TestApp {
    spawn_with(e, |s| {
        s.secret_key = Some(yutang_app::settings::Secret::new("ab".repeat(32)));
    })
    .await
}

fn zh(code: &str) -> &'static str {
    yutang_core::error_codes::find(code).expect(code).zh
}

fn refused(field: &str, code: &str) -> String {
    format!(
        r#"<p class="field-error" role="alert" data-field="{field}">{}</p>"#,
        zh(code)
    )
}

/// The text after `marker` up to the next `end`.
fn between<'a>(html: &'a str, marker: &str, end: char) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    &html[at..at + html[at..].find(end).unwrap()]
}

/// The table row that starts with `marker`, to its end.
fn row_of(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    html[at..at + html[at..].find("</tr>").unwrap()].to_owned()
}

/// Create a source through the console form; answers the response.
async fn create(
    t: &TestApp,
    cookie: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf", csrf.to_owned())];
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    post_form(t, cookie, "/console/inbound", &form).await
}

/// Send a generic message signed with `secret` to the receiving path.
async fn send(
    t: &TestApp,
    path: &str,
    secret: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    let body = body.to_string();
    let sig = yutang_app::inbound::generic_signature(secret, t.app.now() / 1000, body.as_bytes());
    t.client
        .post(t.url(path))
        .header("content-type", "application/json")
        .header("x-yutang-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap()
}

fn paid_order(id: &str, external_id: &str) -> serde_json::Value {
    json!({"id": id, "type": "order.paid", "data": {
        "external_id": external_id,
        "buyer": {"identities": [{"kind": "phone", "value": "13800138000"}], "name": "王芳"},
        "lines": [{"sku": "A", "name": "苹果", "quantity": 2, "unit_price_fen": 1500}],
        "discount_fen": 0}})
}

async fn console_inbound_generic_source_log_retry_rotate_delete(e: Engine) {
    let t = app(e).await;
    let store = t.store("IN-1").await;
    t.staff("in.admin", "admin", None).await;
    let cookie = console_login(&t, "in.admin").await;

    // The nav leads to the list, empty at first.
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/console/inbound""#), "nav");
    assert!(html.contains("订单接入"));
    let (status, html) = page(&t, &cookie, "/console/inbound").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"source-form\"") && html.contains(r#"<option value="youzan">有赞"#));
    assert!(!html.contains("data-source="));
    let csrf = csrf_in(&html);

    // A generic source needs a channel: 422 naming the field, what was typed kept.
    let r = create(
        &t,
        &cookie,
        &csrf,
        &[
            ("name", "小程序商城"),
            ("format", "generic"),
            ("channel", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("channel", "invalid_channel")),
        "{html}"
    );
    assert!(html.contains(r#"value="小程序商城""#) && !html.contains("id=\"new-secret\""));
    // A client_id is for 有赞 sources only.
    let r = create(
        &t,
        &cookie,
        &csrf,
        &[
            ("name", "小程序商城"),
            ("format", "generic"),
            ("channel", "mini_program"),
            ("app_id", "abc123"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("app_id", "not_allowed"))
    );

    // Created: the secret and the receiving URL show this once.
    let store_id = store.to_string();
    let r = create(
        &t,
        &cookie,
        &csrf,
        &[
            ("name", "小程序商城"),
            ("format", "generic"),
            ("channel", "mini_program"),
            ("store_id", &store_id),
            ("app_id", ""),
            ("client_secret", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = r.text().await.unwrap();
    let secret = between(&html, "id=\"new-secret\">", '<').to_owned();
    assert!(secret.starts_with("whsec_"), "{html}");
    let id: i64 = between(&html, "data-source=\"", '"').parse().unwrap();
    let url = between(&html, "id=\"created-url\">", '<').to_owned();
    assert!(
        url.starts_with(&format!("http://{}/api/v1/inbound/generic/in_", t.addr)),
        "{url}"
    );
    let receive = url[url.find("/api/").unwrap()..].to_owned();
    let (_, html) = page(&t, &cookie, "/console/inbound").await;
    assert!(html.contains("小程序商城") && html.contains("通用签名") && html.contains("门店 IN-1"));
    assert!(html.contains(">小程序<") && html.contains("启用"));
    assert!(!html.contains("whsec_"), "the secret is not shown again");

    // The source's page: its URL, the guide, the settings filled in, the log empty.
    let path = format!("/console/inbound/{id}");
    let (status, html) = page(&t, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("id=\"source-url\">{url}<")));
    assert!(html.contains("X-Yutang-Signature") && html.contains("<code>order.paid</code>"));
    assert!(html.contains(r#"value="mini_program""#));
    assert!(html.contains(&format!(r#"<option value="{store}" selected>"#)));
    assert!(!html.contains("whsec_") && !html.contains("data-message="));

    // A wrong signature is refused and not logged.
    let shipped =
        json!({"id": "m-ship", "type": "order.shipped", "data": {"external_id": "SO-404"}});
    let r = send(&t, &receive, "whsec_wrong", &shipped).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A shipment for an order not received yet: 409, logged as failed.
    let r = send(&t, &receive, &secret, &shipped).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (_, html) = page(&t, &cookie, &format!("{path}?status=failed")).await;
    assert!(
        html.contains(r#"data-status="failed" data-external="SO-404""#),
        "{html}"
    );
    assert!(html.contains(zh("order_not_yet_received")) && html.contains("订单发货"));
    assert!(html.contains("order_not_yet_received") && html.contains("重试"));
    let message: i64 = between(&html, "data-message=\"", '"').parse().unwrap();
    let (_, html) = page(&t, &cookie, &format!("{path}?status=applied")).await;
    assert!(!html.contains("data-message="));
    let (status, _) = page(&t, &cookie, &format!("{path}?status=nope")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, html) = page(&t, &cookie, "/console/inbound").await;
    assert!(html.contains(&format!(
        r#"href="/console/inbound/{id}?status=failed#messages">1<"#
    )));

    // Retried before the order arrives: still failing, the flash says why.
    let retry = format!("{path}/messages/{message}/retry");
    let r = post_form(&t, &cookie, &retry, &[("csrf", csrf.clone())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("{path}?retried={message}&error=order_not_yet_received#messages")
    );
    let (_, html) = page(&t, &cookie, &location(&r)).await;
    assert!(
        html.contains(&format!(
            "消息 #{message} 重试后仍未成功：{}",
            zh("order_not_yet_received")
        )),
        "{html}"
    );
    // A message of another source is not found through this one.
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/inbound/{}/messages/{message}/retry", id + 1),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The order arrives; the retried shipment applies.
    let r = send(&t, &receive, &secret, &paid_order("m-paid", "SO-404")).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let r = post_form(&t, &cookie, &retry, &[("csrf", csrf.clone())]).await;
    assert_eq!(
        location(&r),
        format!("{path}?retried={message}&outcome=applied#messages")
    );
    let (_, html) = page(&t, &cookie, &location(&r)).await;
    assert!(
        html.contains(&format!("消息 #{message} 已重新处理：已处理")),
        "{html}"
    );
    let row = row_of(&html, &format!("data-message=\"{message}\""));
    assert!(row.contains(r#"data-status="applied""#) && row.contains("href=\"/console/customers/"));
    assert!(!row.contains("class=\"secondary retry\""));
    // Both messages of the order are applied; none failed.
    assert_eq!(
        html.matches(r#"data-status="applied" data-external="SO-404""#)
            .count(),
        2
    );
    assert!(!html.contains(r#"data-status="failed" data-external"#));
    // Retrying a final message writes nothing again.
    let r = post_form(&t, &cookie, &retry, &[("csrf", csrf.clone())]).await;
    assert_eq!(
        location(&r),
        format!("{path}?retried={message}&outcome=applied&replay=1#messages")
    );
    let (_, html) = page(&t, &cookie, &location(&r)).await;
    assert!(html.contains("此前已处理"));

    // Settings: a refused edit names the field; a good one is saved; pausing refuses
    // messages.
    let settings = |name: &str, channel: &str, status: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", name.to_owned()),
            ("channel", channel.to_owned()),
            ("store_id", String::new()),
            ("status", status.to_owned()),
        ]
    };
    let r = post_form(
        &t,
        &cookie,
        &path,
        &settings("小程序商城", "Bad Channel", "active"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(&refused("channel", "invalid_channel")));
    assert!(html.contains(r#"value="Bad Channel""#));
    let r = post_form(
        &t,
        &cookie,
        &path,
        &settings("天猫旗舰店", "tmall", "paused"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?ok=saved"));
    let (_, html) = page(&t, &cookie, &format!("{path}?ok=saved")).await;
    assert!(html.contains("已保存") && html.contains("天猫旗舰店"));
    assert!(html.contains(r#"data-status="paused">已暂停"#) && html.contains("id=\"paused-note\""));
    assert!(
        html.contains(r#"id="source-channel">天猫<"#)
            && html.contains(r#"id="source-store">不指定<"#)
    );
    assert!(html.contains(r#"<option value="paused" selected>"#));
    let r = send(&t, &receive, &secret, &paid_order("m-2", "SO-2")).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = post_form(
        &t,
        &cookie,
        &path,
        &settings("天猫旗舰店", "tmall", "active"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains(r#"data-status="active">启用"#));

    // Rotating the secret is confirmed, then the new one shows once; the old one no longer
    // verifies.
    let (status, html) = page(&t, &cookie, &format!("{path}/rotate")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-outcome="rotate""#) && html.contains("旧密钥立即失效"));
    assert!(html.contains("天猫旗舰店"));
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/rotate"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let rotated = between(&html, "id=\"new-secret\">", '<').to_owned();
    assert!(rotated.starts_with("whsec_") && rotated != secret);
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(!html.contains("whsec_"));
    let r = send(&t, &receive, &secret, &paid_order("m-3", "SO-3")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = send(&t, &receive, &rotated, &paid_order("m-3", "SO-3")).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Deleting is confirmed; the source is gone and its URL answers 404.
    let (status, html) = page(&t, &cookie, &format!("{path}/delete")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-outcome="delete""#) && html.contains(&receive));
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/delete"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/inbound?ok=deleted");
    let (_, html) = page(&t, &cookie, "/console/inbound?ok=deleted").await;
    assert!(html.contains("已删除") && !html.contains("天猫旗舰店"));
    let (status, _) = page(&t, &cookie, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = send(&t, &receive, &rotated, &paid_order("m-4", "SO-4")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        t.audit_actions()
            .await
            .iter()
            .any(|a| a == "inbound_source_changed")
    );
    let (_, html) = page(&t, &cookie, "/console/audit").await;
    assert!(html.contains("修改订单接入"), "{html}");
}

async fn console_inbound_youzan_source(e: Engine) {
    let t = app(e).await;
    t.staff("in.admin3", "admin", None).await;
    let cookie = console_login(&t, "in.admin3").await;
    let (_, html) = page(&t, &cookie, "/console/inbound").await;
    let csrf = csrf_in(&html);

    // A 有赞 source needs the app's client_id, then its client_secret.
    let r = create(
        &t,
        &cookie,
        &csrf,
        &[
            ("name", "有赞商城"),
            ("format", "youzan"),
            ("channel", ""),
            ("app_id", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("app_id", "invalid_app_id")),
        "{html}"
    );
    assert!(html.contains(r#"<option value="youzan" selected>"#));
    let r = create(
        &t,
        &cookie,
        &csrf,
        &[
            ("name", "有赞商城"),
            ("format", "youzan"),
            ("app_id", "yzcid01"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("client_secret", "missing_field")),
        "{html}"
    );
    assert!(html.contains(r#"value="yzcid01""#));
    let r = create(
        &t,
        &cookie,
        &csrf,
        &[
            ("name", "有赞商城"),
            ("format", "youzan"),
            ("channel", ""),
            ("app_id", "yzcid01"),
            ("client_secret", "yz-secret-0001"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = r.text().await.unwrap();
    assert!(!html.contains("id=\"new-secret\"") && !html.contains("yz-secret-0001"));
    assert!(html.contains("推送网址"));
    let id: i64 = between(&html, "data-source=\"", '"').parse().unwrap();
    let url = between(&html, "id=\"created-url\">", '<').to_owned();
    assert!(url.contains("/api/v1/inbound/youzan/in_"), "{url}");
    let receive = url[url.find("/api/").unwrap()..].to_owned();
    let (_, html) = page(&t, &cookie, "/console/inbound").await;
    assert!(html.contains(r#"data-format="youzan""#) && html.contains(">有赞<"));

    // Its page: the subscription steps, the client_id, no rotation.
    let path = format!("/console/inbound/{id}");
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains("消息订阅") && html.contains("<code>trade_TradePaid</code>"));
    assert!(html.contains("<code>SCRM_CUSTOMER_EVENT</code>") && html.contains("Event-Sign"));
    assert!(html.contains(r#"id="source-app-id">yzcid01<"#));
    assert!(!html.contains("id=\"source-rotate\"") && !html.contains("yz-secret-0001"));
    let (status, _) = page(&t, &cookie, &format!("{path}/rotate")).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A new client_secret that is too short names the field; a good one is saved.
    let edit = |app_id: &str, client_secret: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "有赞商城".to_owned()),
            ("channel", "youzan".to_owned()),
            ("store_id", String::new()),
            ("status", "active".to_owned()),
            ("app_id", app_id.to_owned()),
            ("client_secret", client_secret.to_owned()),
        ]
    };
    let r = post_form(&t, &cookie, &path, &edit("yzcid01", "short")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(&refused("client_secret", "invalid_client_secret")));
    assert!(!html.contains("value=\"short\""));
    let r = post_form(&t, &cookie, &path, &edit("yzcid02", "yz-secret-0002")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains(r#"id="source-app-id">yzcid02<"#));

    // A customer message signed with the new secret: applied, the customer linked; a type
    // Yutang does not sync: ignored, with the reason.
    for (msg_id, kind) in [("ym-1", "SCRM_CUSTOMER_EVENT"), ("ym-2", "trade_Other")] {
        let body = json!({"client_id": "yzcid02", "kdt_id": 9, "id": "C1", "type": kind,
            "msg": {"mobile": "13900139000", "name": "李雷"}, "msg_id": msg_id,
            "version": 1, "test": false})
        .to_string();
        let sign =
            yutang_app::inbound::youzan_signature("yzcid02", "yz-secret-0002", body.as_bytes());
        let r = t
            .client
            .post(t.url(&receive))
            .header("content-type", "application/json")
            .header("event-sign", sign)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{kind}");
    }
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains("客户资料变更") && html.contains("href=\"/console/customers/"));
    assert!(html.contains(r#"data-status="ignored""#) && html.contains("鱼塘不同步此类消息"));
    let (_, html) = page(&t, &format!("{cookie}; yutang_lang=en"), &path).await;
    assert!(html.contains("Customer record") && html.contains("Subscribe these messages"));
}

async fn console_inbound_is_for_admins_only(e: Engine) {
    let t = app(e).await;
    let store = t.store("IN-2").await;
    t.staff("in.admin2", "admin", None).await;
    let admin = console_login(&t, "in.admin2").await;
    let (_, html) = page(&t, &admin, "/console/inbound").await;
    let r = create(
        &t,
        &admin,
        &csrf_in(&html),
        &[
            ("name", "收银系统"),
            ("format", "generic"),
            ("channel", "pos"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = r.text().await.unwrap();
    let id: i64 = between(&html, "data-source=\"", '"').parse().unwrap();
    for (user, role, store) in [
        ("in.ops", "operator", None),
        ("in.analyst", "analyst", None),
        ("in.manager", "store_manager", Some(store)),
        ("in.guide", "guide", Some(store)),
    ] {
        t.staff(user, role, store).await;
        let cookie = console_login(&t, user).await;
        let (_, html) = page(&t, &cookie, "/console").await;
        assert!(!html.contains("/console/inbound"), "{role}: no nav entry");
        let csrf = csrf_in(&html);
        for path in [
            "/console/inbound".to_owned(),
            format!("/console/inbound/{id}"),
            format!("/console/inbound/{id}/rotate"),
            format!("/console/inbound/{id}/delete"),
        ] {
            let (status, html) = page(&t, &cookie, &path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} GET {path}");
            assert!(!html.contains("收银系统"), "{role} GET {path}");
        }
        // A refused form is refused for who posts it, not for what it holds.
        let r = create(&t, &cookie, &csrf, &[("name", ""), ("format", "nope")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role}");
        for action in ["", "/rotate", "/delete", "/messages/1/retry"] {
            let path = format!("/console/inbound/{id}{action}");
            let r = post_form(
                &t,
                &cookie,
                &path,
                &[
                    ("csrf", csrf.clone()),
                    ("name", "x".into()),
                    ("channel", "pos".into()),
                    ("status", "paused".into()),
                ],
            )
            .await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} POST {path}");
        }
    }
    // Every form checks the admin's CSRF token before anything else.
    for action in ["", "/rotate", "/delete", "/messages/1/retry"] {
        let path = format!("/console/inbound/{id}{action}");
        let r = post_form(
            &t,
            &admin,
            &path,
            &[
                ("csrf", "wrong".into()),
                ("name", "x".into()),
                ("channel", "pos".into()),
                ("status", "paused".into()),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "admin POST {path}");
    }
    let r = create(
        &t,
        &admin,
        "wrong",
        &[("name", "x"), ("format", "generic"), ("channel", "pos")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nothing changed.
    let (_, html) = page(&t, &admin, "/console/inbound").await;
    assert_eq!(html.matches("<tr data-source=").count(), 1);
    let (_, html) = page(&t, &admin, &format!("/console/inbound/{id}")).await;
    assert!(html.contains(r#"data-status="active""#) && html.contains("收银系统"));
}
