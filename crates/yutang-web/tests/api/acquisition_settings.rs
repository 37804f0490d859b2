//! The attribution window (issue #19 item 6): `GET/PUT /api/v1/acquisition/settings`, read
//! by orders when they are recorded.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_wecom::fake::FakeEvent;

use crate::acquisition::{channel_with_code, scalar};
use crate::console::{console_login, csrf_in, page};
use crate::helpers::{Engine, TestApp, error_of};
use crate::wecom::drain;
use crate::wecom_sync::{customer, guide, with_fake};

both_engines!(
    the_window_credits_orders_recorded_after_it,
    bad_windows_are_refused_naming_the_field,
    console_attribution_settings,
);

const DAY_S: i64 = 86_400;
const SETTINGS: &str = "/api/v1/acquisition/settings";

async fn ok_json(r: reqwest::Response) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn put(t: &TestApp, token: &str, body: Value) -> reqwest::Response {
    t.send_json(Method::PUT, SETTINGS, token, body).await
}

/// An order of one line paid now: the channel it was credited to.
async fn order_now(t: &TestApp, ext: &str, customer: i64) -> Option<i64> {
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": ext, "customer_id": customer, "channel": "store",
                "paid_at": chrono::Utc::now().to_rfc3339(),
                "lines": [{"sku": "A", "name": "苹果", "quantity": 1, "unit_price_fen": 990}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    touch_of(t, ext).await
}

async fn touch_of(t: &TestApp, ext: &str) -> Option<i64> {
    let n = scalar(
        t,
        &format!(
            "SELECT COALESCE(MAX(touch_channel_id), 0) FROM orders WHERE external_id = '{ext}'"
        ),
    )
    .await;
    (n != 0).then_some(n)
}

async fn the_window_credits_orders_recorded_after_it(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    // Before anyone set it: 7 days, never changed.
    let v = ok_json(t.get(SETTINGS, &t.admin).await).await;
    assert_eq!(v["attribution_window_days"], 7, "{v}");
    assert_eq!(v["default_attribution_window_days"], 7);
    assert_eq!(v["updated_at"], Value::Null);

    let store = t.store("AW-1").await;
    let g = guide(&t, store, "zhangwei").await;
    let channel = channel_with_code(
        &t,
        json!({"name": "包裹卡", "kind": "package_card"}),
        "aw-card",
        g,
    )
    .await;
    // The customer added the guide through the code 3 days ago (WeCom's CreateTime is the
    // add's time).
    let ev = fake.simulate_add_customer("zhangwei", "三天前", Some("aw-card"));
    let FakeEvent::AddExternalContact {
        external_userid, ..
    } = &ev
    else {
        panic!("unexpected {ev:?}")
    };
    let now = chrono::Utc::now().timestamp();
    let xml = ev.to_xml(fake.corp_id(), now - 3 * DAY_S);
    let out = yutang_wecom::fake::push::push_xml(&reqwest::Client::new(), &target, &xml, now)
        .await
        .unwrap();
    assert_eq!(out.status, 200, "{out:?}");
    drain(&t).await;
    let c = customer(&t, external_userid).await.unwrap();

    // Window 7: the order 3 days after the add is the channel's.
    assert_eq!(order_now(&t, "AW-O-1", c).await, Some(channel));

    // Window 2: an order recorded now is no longer the channel's; the one recorded before
    // the change keeps its channel.
    let v = ok_json(put(&t, &t.admin, json!({"attribution_window_days": 2})).await).await;
    assert_eq!(v["attribution_window_days"], 2, "{v}");
    assert!(v["updated_at"].as_i64().is_some(), "{v}");
    assert!(
        v["updated_by"].as_str().is_some_and(|by| !by.is_empty()),
        "{v}"
    );
    assert_eq!(order_now(&t, "AW-O-2", c).await, None);
    assert_eq!(touch_of(&t, "AW-O-1").await, Some(channel));

    // An operator widens it to 4 days (the add is now a little more than 3 days old): orders
    // recorded after it are credited again. The stats
    // read the stored credit, so the channel's GMV counts the two credited orders.
    let op = t.staff("aw.operator", "operator", None).await;
    assert!(op > 0);
    let op = t.login("aw.operator").await;
    let v = ok_json(put(&t, &op, json!({"attribution_window_days": 4})).await).await;
    assert_eq!(v["updated_by"], "aw.operator", "{v}");
    assert_eq!(order_now(&t, "AW-O-3", c).await, Some(channel));
    let stats = ok_json(
        t.get(&format!("/api/v1/channels/{channel}/stats"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(stats["totals"]["orders"], 2, "{stats}");
    assert_eq!(stats["totals"]["gmv_fen"], 2 * 990, "{stats}");

    // Saving the value in force changes nothing; each change is audited with before/after.
    ok_json(put(&t, &t.admin, json!({"attribution_window_days": 4})).await).await;
    let audit = ok_json(
        t.get(
            "/api/v1/audit?action=acquisition_settings_changed",
            &t.admin,
        )
        .await,
    )
    .await;
    let details: Vec<Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| serde_json::from_str(i["detail"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(details.len(), 2, "{audit}");
    assert_eq!(
        details[0],
        json!({"field": "attribution_window_days", "before": 2, "after": 4})
    );
    assert_eq!(
        details[1],
        json!({"field": "attribution_window_days", "before": 7, "after": 2})
    );
}

async fn bad_windows_are_refused_naming_the_field(e: Engine) {
    let t = crate::helpers::spawn_app(e).await;
    for bad in [
        json!(0),
        json!(91),
        json!(-3),
        json!(2.5),
        json!("7"),
        Value::Null,
    ] {
        let r = put(&t, &t.admin, json!({ "attribution_window_days": bad })).await;
        let (status, _, field) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(field.as_deref(), Some("attribution_window_days"), "{bad}");
    }
    let (status, code, _) =
        error_of(put(&t, &t.admin, json!({"attribution_window_days": 91})).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_count")
    );
    // Strict JSON: an unknown field, or none at all.
    let (status, code, field) = error_of(
        put(
            &t,
            &t.admin,
            json!({"attribution_window_days": 7, "first_touch_days": 30}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("first_touch_days")
        )
    );
    let (status, _, field) = error_of(put(&t, &t.admin, json!({})).await).await;
    assert_eq!(
        (status, field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("attribution_window_days")
        )
    );
    // Nothing changed; an analyst reads it and may not write it.
    t.staff("aw.analyst", "analyst", None).await;
    let analyst = t.login("aw.analyst").await;
    let v = ok_json(t.get(SETTINGS, &analyst).await).await;
    assert_eq!(v["attribution_window_days"], 7);
    let r = put(&t, &analyst, json!({"attribution_window_days": 30})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The bounds themselves are accepted.
    for ok in [1, 90] {
        let v = ok_json(put(&t, &t.admin, json!({"attribution_window_days": ok})).await).await;
        assert_eq!(v["attribution_window_days"], ok);
    }
}

async fn console_attribution_settings(e: Engine) {
    let t = crate::helpers::spawn_app(e).await;
    t.staff("aw.operator", "operator", None).await;
    let cookie = console_login(&t, "aw.operator").await;
    // The statistics page names the window and links to its settings.
    let (status, html) = page(&t, &cookie, "/console/acquisition/stats").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("订单归因窗口：支付前 7 天内最后一次添加的渠道"),
        "{html}"
    );
    assert!(html.contains(r#"href="/console/acquisition/settings""#));
    let (status, html) = page(&t, &cookie, "/console/acquisition/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<strong data-days="7">7 天</strong>"#),
        "{html}"
    );
    assert!(html.contains("（默认）"));
    let csrf = csrf_in(&html);
    let post = |days: &'static str| {
        let (t, cookie, csrf) = (&t, cookie.clone(), csrf.clone());
        async move {
            t.client
                .post(t.url("/console/acquisition/settings"))
                .header("cookie", cookie)
                .form(&[("csrf", csrf.as_str()), ("attribution_window_days", days)])
                .send()
                .await
                .unwrap()
        }
    };
    // Refused values are shown under the input, the value typed kept; nothing is saved.
    for (bad, message) in [
        ("0", "数量超出范围"),
        ("91", "数量超出范围"),
        ("七", "须为整数"),
    ] {
        let r = post(bad).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!(
                r#"<p class="field-error" role="alert" data-field="attribution_window_days">{message}</p>"#
            )),
            "{html}"
        );
        assert!(html.contains(&format!(r#"value="{bad}""#)), "{html}");
    }
    let v = ok_json(t.get(SETTINGS, &t.admin).await).await;
    assert_eq!(v["attribution_window_days"], 7);
    // Saved: back to the page, which shows the new window and who set it.
    let r = post("14").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/console/acquisition/settings?ok=saved"
    );
    let (_, html) = page(&t, &cookie, "/console/acquisition/settings?ok=saved").await;
    assert!(
        html.contains(r#"<strong data-days="14">14 天</strong>"#),
        "{html}"
    );
    assert!(html.contains("aw.operator"), "{html}");
    assert!(!html.contains("（默认）"));
    let v = ok_json(t.get(SETTINGS, &t.admin).await).await;
    assert_eq!(v["attribution_window_days"], 14);
    // An analyst reads the page without the form.
    t.staff("aw.analyst", "analyst", None).await;
    let analyst = console_login(&t, "aw.analyst").await;
    let (status, html) = page(&t, &analyst, "/console/acquisition/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-days="14""#));
    assert!(!html.contains("acquisition-settings-form"), "{html}");
}
