//! The points ledger's console pages and the H5 member centre (issue #22 items 6 and 7):
//! the settings form (saved, refused per field), the liability report with its balanced
//! books, a customer's points with the ledger's running balance and keyset paging, the
//! manual adjustment form (a double submit posts once, refusals under their inputs), a
//! redemption cancelled from the console, what a guide sees and may not do, and the member
//! centre a customer opens from the mini-program.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form, refused};
use crate::customers::{customer_with_phone, follow};
use crate::helpers::{Engine, TestApp};
use crate::promotions::{order, token};

both_engines!(
    console_points_settings_and_liability,
    console_customer_points_ledger_and_adjustments,
    console_points_follow_the_callers_scope,
    h5_member_centre_shows_the_points,
);

fn zh(code: &str) -> &'static str {
    yutang_core::error_codes::find(code).expect(code).zh
}

/// The value of the hidden input `name` in a page.
fn hidden(html: &str, name: &str) -> String {
    let at = format!("name=\"{name}\" value=\"");
    let i = html.find(&at).unwrap_or_else(|| panic!("no {name} field")) + at.len();
    html[i..i + html[i..].find('"').unwrap()].to_owned()
}

async fn api_json(t: &TestApp, path: &str) -> Value {
    let r = t.get(path, &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn balance(t: &TestApp, customer: i64) -> i64 {
    api_json(t, &format!("/api/v1/customers/{customer}/points")).await["balance"]
        .as_i64()
        .unwrap()
}

/// `data-balance-after` of the ledger's rows, newest first.
fn running(html: &str) -> Vec<i64> {
    html.split("data-balance-after=\"")
        .skip(1)
        .map(|p| p[..p.find('"').unwrap()].parse().unwrap())
        .collect()
}

async fn console_points_settings_and_liability(e: Engine) {
    let t = crate::helpers::spawn_app(e).await;
    t.staff("points.admin", "admin", None).await;
    let cookie = console_login(&t, "points.admin").await;
    let c = customer_with_phone(&t, "13900000001", "积分客户").await;
    order(&t, c, "PTS-1", 12_900).await;

    // The nav leads to the page: the rules in force, the form, the liability report.
    let (s, home) = page(&t, &cookie, "/console").await;
    assert_eq!(s, StatusCode::OK);
    assert!(home.contains("href=\"/console/loyalty/points\""), "{home}");
    let (s, html) = page(&t, &cookie, "/console/loyalty/points").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("每消费 1 元得 1 积分"), "{html}");
    assert!(html.contains("100 积分抵 1 元"));
    assert!(html.contains("次年年底过期"));
    assert!(html.contains("id=\"points-settings-form\""));
    assert!(
        html.contains("<div class=\"n\" id=\"outstanding\">129</div>"),
        "{html}"
    );
    assert!(html.contains("¥1.29"));
    assert!(html.contains("data-balanced=\"true\""), "{html}");
    assert!(html.contains("✓ 账目平衡"));
    assert!(html.contains("data-account=\"issued\""));
    assert!(html.contains("品牌发放（负债）"));
    assert!(html.contains("data-month=\"2027-12\""), "{html}");
    let csrf = csrf_in(&html);
    let form = |earn: &str, rule: &str, days: &str, max: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("earn_points_per_yuan", earn.to_owned()),
            ("redeem_points_per_yuan", "100".to_owned()),
            ("expiry_rule", rule.to_owned()),
            ("expiry_days", days.to_owned()),
            ("max_redeem_percent", max.to_owned()),
        ]
    };

    // Refused values: under their inputs, what was typed kept, nothing saved.
    let r = post_form(
        &t,
        &cookie,
        "/console/loyalty/points",
        &form("两个", "end_of_next_year", "365", "100"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("earn_points_per_yuan", zh("invalid_number"))),
        "{html}"
    );
    assert!(html.contains("value=\"两个\""));
    let r = post_form(
        &t,
        &cookie,
        "/console/loyalty/points",
        &form("2", "days", "0", "100"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("expiry.days", zh("invalid_count"))),
        "{html}"
    );
    let r = post_form(
        &t,
        &cookie,
        "/console/loyalty/points",
        &form("2", "never", "", "101"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("max_redeem_percent", zh("invalid_count")))
    );
    let v = api_json(&t, "/api/v1/points/settings").await;
    assert_eq!(v["earn_points_per_yuan"], 1, "{v}");

    // Saved: back to the page with the new rules; the audit log has it.
    let r = post_form(
        &t,
        &cookie,
        "/console/loyalty/points",
        &form("2", "days", "30", "50"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/loyalty/points?ok=saved");
    let v = api_json(&t, "/api/v1/points/settings").await;
    assert_eq!(
        v,
        json!({"earn_points_per_yuan": 2, "redeem_points_per_yuan": 100,
            "expiry": {"rule": "days", "days": 30}, "max_redeem_percent": 50})
    );
    let (_, html) = page(&t, &cookie, "/console/loyalty/points?ok=saved").await;
    assert!(html.contains("获得后 30 天过期"), "{html}");
    assert!(html.contains("积分最多抵扣订单的 50%"));
    assert!(
        t.audit_actions()
            .await
            .contains(&"points_changed".to_owned())
    );

    // In English.
    let en = format!("{cookie}; yutang_lang=en");
    let (s, html) = page(&t, &en, "/console/loyalty/points").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("2 points per CNY spent"), "{html}");
    assert!(html.contains("30 days after earning"));
    assert!(html.contains("✓ The books balance"));

    // An expiry run starts from the page and shows its job.
    let r = post_form(
        &t,
        &cookie,
        "/console/loyalty/points/expiry",
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = location(&r);
    assert!(job.starts_with("/console/jobs/"), "{job}");
    t.settle_jobs().await;
    let (s, html) = page(&t, &cookie, &job).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("积分过期"), "{html}");
    assert!(html.contains("data-state=\"done\""), "{html}");

    // A form without the session's token is refused.
    let r = post_form(
        &t,
        &cookie,
        "/console/loyalty/points",
        &[
            ("csrf", "nope".to_owned()),
            ("earn_points_per_yuan", "9".to_owned()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn console_customer_points_ledger_and_adjustments(e: Engine) {
    let t = crate::helpers::spawn_app(e).await;
    t.staff("points.op", "operator", None).await;
    let cookie = console_login(&t, "points.op").await;
    let c = customer_with_phone(&t, "13900000002", "王小花").await;
    let o = order(&t, c, "PTS-2", 10_000).await;

    // The 360° page links to the points.
    let (s, html) = page(&t, &cookie, &format!("/console/customers/{c}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("<a href=\"/console/customers/{c}/points\"")),
        "{html}"
    );
    assert!(html.contains("id=\"points-line\""));

    let path = format!("/console/customers/{c}/points");
    let (s, html) = page(&t, &cookie, &path).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("王小花 的积分"), "{html}");
    assert!(html.contains("data-balance=\"100\""));
    assert!(html.contains("¥1.00"));
    assert!(html.contains(&format!("订单 #{o}")), "{html}");
    assert!(html.contains("2027-12-31"), "the lot's last day: {html}");
    assert_eq!(running(&html), vec![100]);

    // A grant: posted twice with the form's key (a double click), taken once.
    let csrf = csrf_in(&html);
    let key = hidden(&html, "key");
    assert!(key.len() > 20, "{key}");
    let adjust = format!("{path}/adjust");
    let grant = |key: &str, kind: &str, points: &str, reason: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("key", key.to_owned()),
            ("kind", kind.to_owned()),
            ("points", points.to_owned()),
            ("reason", reason.to_owned()),
        ]
    };
    for _ in 0..2 {
        let r = post_form(
            &t,
            &cookie,
            &adjust,
            &grant(&key, "grant", "50", "客诉补偿"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), format!("{path}?ok=saved"));
    }
    assert_eq!(balance(&t, c).await, 150);
    let (_, html) = page(&t, &cookie, &format!("{path}?ok=saved")).await;
    assert_eq!(running(&html), vec![150, 100], "{html}");
    assert!(
        html.contains("手动发放") && html.contains("客诉补偿"),
        "{html}"
    );
    assert!(html.contains("points.op"), "the actor: {html}");
    assert_ne!(hidden(&html, "key"), key, "a new form, a new key");

    // Refusals under their inputs; nothing written.
    let fresh = hidden(&html, "key");
    let r = post_form(
        &t,
        &cookie,
        &adjust,
        &grant(&fresh, "deduct", "151", "多发"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&refused("points", zh("insufficient_points"))),
        "{body}"
    );
    assert!(body.contains("value=\"151\"") && body.contains(&fresh));
    let r = post_form(&t, &cookie, &adjust, &grant(&fresh, "grant", "0", "零")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("points", zh("invalid_points")))
    );
    let r = post_form(&t, &cookie, &adjust, &grant(&fresh, "grant", "5", "")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("reason", zh("required")))
    );
    assert_eq!(balance(&t, c).await, 150);

    // A deduction with the corrected form's key.
    let r = post_form(&t, &cookie, &adjust, &grant(&fresh, "deduct", "30", "误发")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(balance(&t, c).await, 120);

    // A redemption at checkout, cancelled from the console: the points come back once.
    let r = t
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/customers/{c}/points/redemptions"),
            Some(&t.admin),
        )
        .header("Idempotency-Key", "pos-1")
        .json(&json!({"points": 100, "order_ref": "POS-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let rid = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (_, html) = page(&t, &cookie, &path).await;
    assert_eq!(running(&html), vec![20, 120, 150, 100], "{html}");
    assert!(html.contains("data-status=\"applied\"") && html.contains("POS-9"));
    let cancel = format!("/console/loyalty/points/redemptions/{rid}/cancel");
    assert!(html.contains(&format!("action=\"{cancel}\"")), "{html}");
    for _ in 0..2 {
        let r = post_form(&t, &cookie, &cancel, &[("csrf", csrf.clone())]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), format!("{path}?ok=saved"));
    }
    assert_eq!(balance(&t, c).await, 120);
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains("data-status=\"cancelled\"") && html.contains("已撤销"));
    assert_eq!(running(&html), vec![120, 20, 120, 150, 100]);

    // Keyset paging: older than the newest entry.
    let newest: i64 = {
        let i = html.find("data-entry=\"").unwrap() + "data-entry=\"".len();
        html[i..i + html[i..].find('"').unwrap()].parse().unwrap()
    };
    let (s, older) = page(&t, &cookie, &format!("{path}?before={newest}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(running(&older), vec![20, 120, 150, 100]);
    assert!(
        older.contains(&format!("href=\"{path}\"")),
        "the way back: {older}"
    );
    let (s, _) = page(&t, &cookie, &format!("{path}?before=abc")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // In English.
    let (s, html) = page(&t, &format!("{cookie}; yutang_lang=en"), &path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("s points") && html.contains("Redemption cancelled"));
    assert!(html.contains(&format!("Order #{o}")));

    // An unknown customer.
    let (s, _) = page(&t, &cookie, "/console/customers/999999/points").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn console_points_follow_the_callers_scope(e: Engine) {
    let t = crate::helpers::spawn_app(e).await;
    let store = t.store("PTS-S1").await;
    let g = t.staff("points.guide", "guide", Some(store)).await;
    let mine = customer_with_phone(&t, "13900000003", "我的客户").await;
    let other = customer_with_phone(&t, "13900000004", "别人的客户").await;
    follow(&t, mine, g).await;
    order(&t, mine, "PTS-3", 5_000).await;
    let cookie = console_login(&t, "points.guide").await;

    // Their customer's points, read-only.
    let path = format!("/console/customers/{mine}/points");
    let (s, html) = page(&t, &cookie, &path).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("data-balance=\"50\""));
    assert!(!html.contains("points-adjust-form"), "{html}");
    // Someone else's: not found; the adjustment is refused and writes nothing.
    let (s, _) = page(&t, &cookie, &format!("/console/customers/{other}/points")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let csrf = csrf_in(&html);
    for c in [mine, other] {
        let r = post_form(
            &t,
            &cookie,
            &format!("/console/customers/{c}/points/adjust"),
            &[
                ("csrf", csrf.clone()),
                ("key", format!("guide-{c}")),
                ("kind", "grant".to_owned()),
                ("points", "1000".to_owned()),
                ("reason", "想加".to_owned()),
            ],
        )
        .await;
        assert!(
            r.status() == StatusCode::FORBIDDEN || r.status() == StatusCode::NOT_FOUND,
            "{}",
            r.status()
        );
    }
    assert_eq!(balance(&t, mine).await, 50);
    assert_eq!(balance(&t, other).await, 0);

    // The settings read-only, no liability, no expiry run; saving and starting are refused.
    let (s, html) = page(&t, &cookie, "/console/loyalty/points").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("每消费 1 元得 1 积分"));
    assert!(!html.contains("points-settings-form") && !html.contains("points-liability"));
    assert!(!html.contains("start-expiry"));
    let r = post_form(
        &t,
        &cookie,
        "/console/loyalty/points",
        &[
            ("csrf", csrf.clone()),
            ("earn_points_per_yuan", "9".to_owned()),
            ("redeem_points_per_yuan", "100".to_owned()),
            ("expiry_rule", "never".to_owned()),
            ("max_redeem_percent", "100".to_owned()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_form(
        &t,
        &cookie,
        "/console/loyalty/points/expiry",
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v = api_json(&t, "/api/v1/points/settings").await;
    assert_eq!(v["earn_points_per_yuan"], 1);
}

async fn h5_member_centre_shows_the_points(e: Engine) {
    let t = crate::helpers::spawn_app(e).await;
    let c = customer_with_phone(&t, "13900000005", "会员").await;
    let o = order(&t, c, "PTS-5", 8_800).await;
    let tok = token(&t, c).await;
    let get = |path: String| {
        let t = &t;
        async move { t.client.get(t.url(&path)).send().await.unwrap() }
    };

    // From the mini-program's web-view (?token=): the balance, its worth, the lot's last
    // day, the history with its source, a section kept for the tier block.
    let r = get(format!("/h5/member?token={tok}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains("data-page=\"member\""));
    assert!(
        html.contains("<span class=\"big\" id=\"points-balance\" data-loaded=\"1\">88</span>"),
        "{html}"
    );
    assert!(html.contains("可抵 ¥0.88"));
    assert!(html.contains("2027-12-31 过期"), "{html}");
    assert!(html.contains("获得") && html.contains("订单 · "), "{html}");
    // No tier programme: the tier block is hidden.
    assert!(
        html.contains(
            "<section id=\"member-tier\" class=\"card\" data-loaded=\"1\" hidden></section>"
        ),
        "{html}"
    );
    assert!(!html.contains("cdn") && html.contains("<script src=\"/h5/assets/h5.js\">"));
    let _ = o;

    // In English.
    let html = get(format!("/h5/member?token={tok}&lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Worth ¥0.88") && html.contains("Expire 2027-12-31"),
        "{html}"
    );
    assert!(html.contains("Earned") && html.contains("Order · "));

    // Without a token (or a bad one) the page is the shell the script fills from the API.
    for path in [
        "/h5/member".to_owned(),
        "/h5/member?token=yct_nope".to_owned(),
    ] {
        let r = get(path).await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.contains("class=\"muted loading\"") && !html.contains("data-loaded"));
    }
    // … which is the member's own API.
    let r = t.get("/api/v1/public/me/points", &tok).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["balance"], 88);
    let r = t
        .get("/api/v1/public/me/points/entries?limit=20", &tok)
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["items"][0]["source_type"], "order", "{v}");
    assert_eq!(v["items"][0]["credit"], "customer");
    // The script has the texts it shows.
    let js = get("/h5/assets/h5.js".to_owned())
        .await
        .text()
        .await
        .unwrap();
    assert!(js.contains("/public/me/points/entries") && js.contains("/public/me/tier"));

    // With a tier programme the block shows the tier, its benefits and the way to the next.
    let r = t
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/loyalty/tiers",
            &t.admin,
            json!({"metric": "spend_12m", "period_months": 12, "grace_days": 30, "tiers": [
                {"key": "normal", "name": "普通", "rank": 1, "threshold": 0},
                {"key": "silver", "name": "银卡", "rank": 2, "threshold": 10_000,
                 "discount_percent": 2, "points_multiplier": 1200,
                 "free_shipping_threshold_fen": 9_900},
                {"key": "gold", "name": "金卡", "rank": 3, "threshold": 50_000}]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    // The first order since the programme began brings the customer in.
    let html = get(format!("/h5/member?token={tok}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("尚未成为会员") && html.contains("下一笔订单后即成为普通"),
        "{html}"
    );
    order(&t, c, "PTS-6", 2_000).await;
    let html = get(format!("/h5/member?token={tok}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<span class=\"big\" id=\"tier-name\">银卡</span>"),
        "{html}"
    );
    assert!(
        html.contains("会员价优惠 2%")
            && html.contains("积分 1.2 倍")
            && html.contains("满 ¥99.00 包邮"),
        "{html}"
    );
    assert!(html.contains("再消费 ¥392.00 升级为金卡"), "{html}");
    assert!(html.contains("保级至 "), "{html}");
    let html = get(format!("/h5/member?token={tok}&lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Spend ¥392.00 more to reach 金卡"), "{html}");
    // The script's source: the member's own tier card.
    let v: Value = t
        .get("/api/v1/public/me/tier", &tok)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["tier"]["key"], "silver", "{v}");
    assert_eq!(v["next"]["remaining"], 39_200);
    assert_eq!(v["customer_id"], c);
}
