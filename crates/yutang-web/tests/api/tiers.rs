//! Membership tiers (issue #22 item 1) through the HTTP API: the program's validation, the
//! upgrade on the qualifying order, no downgrade on a refund, the review after the period and
//! its grace, the monthly pack and birthday gift once, the members list's data scope, and the
//! `tier` / `tier_since` segment attributes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::acquisition::scalar;
use crate::console::{console_login, csrf_in, page};
use crate::customers::{customer_with_phone, follow};
use crate::helpers::{Engine, TestApp, error_of, spawn_app};
use crate::promotions::{created_id, template};

both_engines!(
    bad_programs_are_refused_and_nothing_written,
    orders_move_up_at_once_and_refunds_never_down,
    the_review_moves_down_only_after_period_and_grace,
    monthly_pack_and_birthday_gift_are_given_once,
    members_are_listed_within_the_callers_scope,
    the_console_page_sets_up_tiers_and_lists_members,
    concurrent_orders_move_a_customer_up_once_per_tier,
    merges_keep_the_better_tier_with_its_standing,
);

const DAY: i64 = 86_400_000;

async fn json_of(r: reqwest::Response) -> Value {
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(s.is_success(), "{s} {v}");
    v
}

fn tiers_body(pack: &[i64], birthday: Option<i64>) -> Value {
    json!({
        "metric": "spend_12m", "period_months": 12, "grace_days": 30,
        "tiers": [
            {"key": "normal", "name": "普通", "rank": 1, "threshold": 0,
             "monthly_coupon_template_ids": pack, "birthday_coupon_template_id": birthday},
            {"key": "silver", "name": "银卡", "rank": 2, "threshold": 10_000,
             "discount_percent": 2, "points_multiplier": 1200},
            {"key": "gold", "name": "金卡", "rank": 3, "threshold": 50_000,
             "discount_percent": 5, "points_multiplier": 1500, "free_shipping_threshold_fen": 0},
        ]
    })
}

async fn put(t: &TestApp, token: &str, body: Value) -> reqwest::Response {
    t.send_json(Method::PUT, "/api/v1/loyalty/tiers", token, body)
        .await
}

/// An order of `fen` paid `ago` ms before now; returns its id.
async fn order_ago(t: &TestApp, id: &str, customer: i64, fen: i64, ago: i64) -> i64 {
    let paid = chrono::Utc::now() - chrono::Duration::milliseconds(ago);
    order_at(t, id, customer, fen, &paid.to_rfc3339()).await
}

/// An order paid at `paid` (a replay sends the same body).
async fn order_at(t: &TestApp, id: &str, customer: i64, fen: i64, paid: &str) -> i64 {
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": id, "customer_id": customer, "channel": "store",
                "paid_at": paid,
                "lines": [{"sku": "A", "name": "礼盒", "quantity": 1, "unit_price_fen": fen}]}),
        )
        .await;
    json_of(r).await["order"]["id"].as_i64().unwrap()
}

async fn card(t: &TestApp, customer: i64) -> Value {
    json_of(
        t.get(&format!("/api/v1/customers/{customer}/tier"), &t.admin)
            .await,
    )
    .await
}

async fn tier_key(t: &TestApp, customer: i64) -> Value {
    card(t, customer).await["tier"]["key"].clone()
}

async fn segment_count(t: &TestApp, expr: &str) -> i64 {
    json_of(
        t.post(
            "/api/v1/segments/count",
            &t.admin,
            json!({ "expression": expr }),
        )
        .await,
    )
    .await["count"]
        .as_i64()
        .unwrap()
}

async fn bad_programs_are_refused_and_nothing_written(e: Engine) {
    let t = spawn_app(e).await;
    let good = tiers_body(&[], None);
    let cases: Vec<(Value, &str, &str)> = vec![
        // Overlapping thresholds: silver and gold start at the same value.
        (
            {
                let mut b = good.clone();
                b["tiers"][2]["threshold"] = json!(10_000);
                b
            },
            "tiers.threshold",
            "tier_rule_overlap",
        ),
        // The lowest tier must start at 0.
        (
            {
                let mut b = good.clone();
                b["tiers"][0]["threshold"] = json!(1);
                b
            },
            "tiers.threshold",
            "tier_rule_overlap",
        ),
        (
            {
                let mut b = good.clone();
                b["tiers"][1]["points_multiplier"] = json!(0);
                b
            },
            "tiers.points_multiplier",
            "invalid_multiplier",
        ),
        (
            {
                let mut b = good.clone();
                b["tiers"][2]["rank"] = json!(2);
                b
            },
            "tiers.rank",
            "duplicate_tier",
        ),
        (
            {
                let mut b = good.clone();
                b["tiers"][2]["name"] = json!("银卡");
                b
            },
            "tiers.name",
            "duplicate_tier",
        ),
        (
            {
                let mut b = good.clone();
                b["tiers"][2]["key"] = json!("silver");
                b
            },
            "tiers.key",
            "duplicate_tier",
        ),
        (
            {
                let mut b = good.clone();
                b["tiers"][1]["discount_percent"] = json!(60);
                b
            },
            "tiers.discount_percent",
            "invalid_discount",
        ),
        (
            {
                let mut b = good.clone();
                b["tiers"][1]["name"] = json!("银\u{7}卡");
                b
            },
            "tiers[1].name",
            "invalid_characters",
        ),
        (
            {
                let mut b = good.clone();
                b["period_months"] = json!(0);
                b
            },
            "period_months",
            "invalid_period",
        ),
        (
            tiers_body(&[999_999], None),
            "tiers.monthly_coupon_template_ids",
            "unknown_reference",
        ),
    ];
    for (body, field, code) in cases {
        let (status, c, f) = error_of(put(&t, &t.admin, body.clone()).await).await;
        assert_eq!(
            (status, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field)),
            "{body}"
        );
    }
    // Fractional points and unknown fields are refused by the strict JSON.
    let mut b = good.clone();
    b["tiers"][1]["points_multiplier"] = json!(1.5);
    assert_eq!(
        put(&t, &t.admin, b).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut b = good.clone();
    b["tiers"][1]["bonus"] = json!(1);
    assert_eq!(
        put(&t, &t.admin, b).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Nothing was written.
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM tiers").await, 0);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM tier_settings").await, 0);
    let v = json_of(t.get("/api/v1/loyalty/tiers", &t.admin).await).await;
    assert_eq!(v["tiers"], json!([]), "{v}");

    // A good program is saved, sorted by rank, and audited; a tier with members cannot be
    // removed.
    let mut shuffled = good.clone();
    shuffled["tiers"].as_array_mut().unwrap().reverse();
    let v = json_of(put(&t, &t.admin, shuffled).await).await;
    let keys: Vec<&str> = v["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["normal", "silver", "gold"]);
    assert_eq!(v["tiers"][2]["points_multiplier"], 1500);
    assert!(
        t.audit_actions()
            .await
            .iter()
            .any(|a| a == "tier_program_changed")
    );
    let c = customer_with_phone(&t, "13900001001", "金卡客").await;
    order_ago(&t, "T-BIG", c, 60_000, 0).await;
    let mut fewer = good.clone();
    fewer["tiers"].as_array_mut().unwrap().pop();
    let (status, code, _) = error_of(put(&t, &t.admin, fewer).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "tier_has_members")
    );
    // An empty tier may go (and come back under its key).
    let c_keep = json_of(t.get("/api/v1/loyalty/tiers", &t.admin).await).await;
    let silver_id = c_keep["tiers"][1]["id"].clone();
    let mut no_silver = good.clone();
    no_silver["tiers"].as_array_mut().unwrap().remove(1);
    let v = json_of(put(&t, &t.admin, no_silver).await).await;
    assert_eq!(v["tiers"].as_array().unwrap().len(), 2);
    let v = json_of(put(&t, &t.admin, good).await).await;
    assert_eq!(v["tiers"][1]["id"], silver_id);
}

async fn orders_move_up_at_once_and_refunds_never_down(e: Engine) {
    let t = spawn_app(e).await;
    json_of(put(&t, &t.admin, tiers_body(&[], None)).await).await;
    let c = customer_with_phone(&t, "13900002001", "升级客").await;
    // Not in the program before an order.
    let v = card(&t, c).await;
    assert_eq!(v["tier"], Value::Null, "{v}");
    assert_eq!(v["next"]["key"], "normal");

    order_ago(&t, "T-1", c, 5_000, 0).await;
    assert_eq!(tier_key(&t, c).await, "normal");
    // The second order reaches silver's threshold: up at once, in the order's transaction.
    let paid = chrono::Utc::now().to_rfc3339();
    let o2 = order_at(&t, "T-2", c, 6_000, &paid).await;
    let v = card(&t, c).await;
    assert_eq!(v["tier"]["key"], "silver", "{v}");
    assert_eq!(v["metric_value"], 11_000);
    assert_eq!(v["next"]["key"], "gold");
    assert_eq!(v["next"]["remaining"], 39_000);
    assert_eq!(v["tier"]["discount_percent"], 2);
    let history = v["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{v}");
    assert_eq!(history[0]["direction"], "upgrade");
    assert_eq!(history[0]["source"], format!("order:{o2}"));
    assert_eq!(history[0]["from_name"], "普通");
    // A replayed order changes nothing.
    assert_eq!(order_at(&t, "T-2", c, 6_000, &paid).await, o2);
    assert_eq!(card(&t, c).await["history"].as_array().unwrap().len(), 2);
    assert_eq!(
        crate::wecom_sync::timeline_count(&t, c, "tier_changed").await,
        2
    );

    // A full refund of the order that qualified: the metric drops, the tier stays.
    let r = t
        .post(
            &format!("/api/v1/orders/{o2}/refunds"),
            &t.admin,
            json!({"refund_id": "T-R-1", "amount_fen": 6000}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let v = card(&t, c).await;
    assert_eq!(v["tier"]["key"], "silver", "{v}");
    assert_eq!(v["metric_value"], 5_000);
    // A review now does not touch it either (its period is not over).
    t.app.tiers().run_review().await.unwrap();
    assert_eq!(tier_key(&t, c).await, "silver");

    // The segment attributes.
    assert_eq!(segment_count(&t, r#"tier = "silver""#).await, 1);
    assert_eq!(segment_count(&t, r#"tier = "gold""#).await, 0);
    assert_eq!(segment_count(&t, "tier_since within 1d").await, 1);
    // The tier's members.
    let tier = v["tier"]["id"].as_i64().unwrap();
    let m = json_of(
        t.get(&format!("/api/v1/loyalty/tiers/{tier}/members"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(m["total"], 1);
    assert_eq!(m["items"][0]["customer_id"], c);
    let p = json_of(t.get("/api/v1/loyalty/tiers", &t.admin).await).await;
    assert_eq!(p["tiers"][1]["members"], 1);
    assert_eq!(p["tiers"][0]["members"], 0);
}

async fn the_review_moves_down_only_after_period_and_grace(e: Engine) {
    let t = spawn_app(e).await;
    json_of(put(&t, &t.admin, tiers_body(&[], None)).await).await;
    // Gold 14 months ago, nothing since: the period (12 months) and grace (30 days) are over.
    let lapsed = customer_with_phone(&t, "13900003001", "过期金卡").await;
    order_ago(&t, "T-L", lapsed, 60_000, 425 * DAY).await;
    // Gold 14 months ago and silver's worth lately: down to silver, not further.
    let partly = customer_with_phone(&t, "13900003002", "降银卡").await;
    order_ago(&t, "T-P1", partly, 60_000, 425 * DAY).await;
    order_ago(&t, "T-P2", partly, 20_000, 10 * DAY).await;
    // Gold 12.5 months ago: the period is over but the grace is not.
    let grace = customer_with_phone(&t, "13900003003", "宽限期").await;
    order_ago(&t, "T-G", grace, 60_000, 380 * DAY).await;
    // Gold 14 months ago and gold's worth again lately (in the grace): held on.
    let renewed = customer_with_phone(&t, "13900003004", "续期").await;
    order_ago(&t, "T-R1", renewed, 60_000, 425 * DAY).await;
    order_ago(&t, "T-R2", renewed, 60_000, 5 * DAY).await;
    for c in [lapsed, partly, grace, renewed] {
        assert_eq!(tier_key(&t, c).await, "gold", "{c}");
    }

    // The daily review runs as a job (queued once a day, whatever the minute ticks).
    t.app.tiers().schedule_review().await.unwrap();
    t.app.tiers().schedule_review().await.unwrap();
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM jobs WHERE kind = 'tier_review'").await,
        1
    );
    t.settle_jobs().await;
    assert_eq!(tier_key(&t, lapsed).await, "normal");
    assert_eq!(tier_key(&t, partly).await, "silver");
    assert_eq!(tier_key(&t, grace).await, "gold");
    assert_eq!(tier_key(&t, renewed).await, "gold");
    let v = card(&t, lapsed).await;
    assert_eq!(v["history"][0]["direction"], "downgrade", "{v}");
    assert_eq!(v["history"][0]["source"], "review");
    assert_eq!(v["history"][0]["from_name"], "金卡");
    assert_eq!(v["metric_value"], 0);
    // The new tier is held for a period from now.
    assert!(v["held_until"].as_i64().unwrap() > chrono::Utc::now().timestamp_millis() + 300 * DAY);
    assert_eq!(
        crate::wecom_sync::timeline_count(&t, lapsed, "tier_changed").await,
        2
    );
    // A second review changes nothing.
    t.app.tiers().run_review().await.unwrap();
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM tier_history WHERE direction = 'downgrade'"
        )
        .await,
        2
    );
    assert_eq!(segment_count(&t, r#"tier = "gold""#).await, 2);
    assert_eq!(segment_count(&t, r#"tier = "normal""#).await, 1);
}

async fn monthly_pack_and_birthday_gift_are_given_once(e: Engine) {
    let t = spawn_app(e).await;
    let (a, b, gift) = (
        created_id(
            t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
                .await,
        )
        .await,
        created_id(
            t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
                .await,
        )
        .await,
        created_id(
            t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
                .await,
        )
        .await,
    );
    let mut body = tiers_body(&[a, b], Some(gift));
    // Silver has a pack of its own.
    body["tiers"][1]["monthly_coupon_template_ids"] = json!([gift]);
    json_of(put(&t, &t.admin, body).await).await;
    let c = customer_with_phone(&t, "13900004001", "生日客").await;
    // Born this month (Asia/Shanghai).
    let month = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%m")
        .to_string();
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/customers/{c}"),
            &t.admin,
            json!({ "birthday": format!("1990-{month}-01") }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let count_sql = format!("SELECT COUNT(*) FROM coupons WHERE customer_id = {c}");
    order_ago(&t, "T-M1", c, 1_000, 0).await;
    t.settle_jobs().await;
    // The pack (two coupons) and the birthday gift.
    assert_eq!(scalar(&t, &count_sql).await, 3);
    // Replays of the review and of the job give nothing again.
    t.app.tiers().run_review().await.unwrap();
    t.app.tiers().run_review().await.unwrap();
    t.app.tiers().give_benefits(c).await.unwrap();
    assert_eq!(scalar(&t, &count_sql).await, 3);
    // Up to silver in the same month: the month's pack was given already.
    order_ago(&t, "T-M2", c, 20_000, 0).await;
    t.settle_jobs().await;
    assert_eq!(tier_key(&t, c).await, "silver");
    assert_eq!(scalar(&t, &count_sql).await, 3);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM tier_grants").await,
        2,
        "one monthly pack and one birthday gift"
    );
    // Next month (the grant of this month is moved back a month): silver's pack, once.
    crate::acquisition::run_sql(
        &t,
        "UPDATE tier_grants SET period = '2000-01' WHERE kind = 'monthly'",
    )
    .await;
    t.app.tiers().run_review().await.unwrap();
    t.app.tiers().run_review().await.unwrap();
    assert_eq!(scalar(&t, &count_sql).await, 4);
}

async fn members_are_listed_within_the_callers_scope(e: Engine) {
    let t = spawn_app(e).await;
    json_of(put(&t, &t.admin, tiers_body(&[], None)).await).await;
    let store = t.store("TIER-A").await;
    let g1 = t.staff("tier.g1", "guide", Some(store)).await;
    let g2 = t.staff("tier.g2", "guide", Some(store)).await;
    let mine = customer_with_phone(&t, "13900005001", "我的客户").await;
    let theirs = customer_with_phone(&t, "13900005002", "别人的客户").await;
    follow(&t, mine, g1).await;
    follow(&t, theirs, g2).await;
    order_ago(&t, "T-S1", mine, 1_000, 0).await;
    order_ago(&t, "T-S2", theirs, 1_000, 0).await;
    let normal = json_of(t.get("/api/v1/loyalty/tiers", &t.admin).await).await["tiers"][0]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/loyalty/tiers/{normal}/members?page_size=10");
    let all = json_of(t.get(&path, &t.admin).await).await;
    assert_eq!(all["total"], 2);
    let guide = t.login("tier.g1").await;
    let seen = json_of(t.get(&path, &guide).await).await;
    assert_eq!(seen["total"], 1, "{seen}");
    assert_eq!(seen["items"][0]["customer_id"], mine);
    let counts = json_of(t.get("/api/v1/loyalty/tiers", &guide).await).await;
    assert_eq!(counts["tiers"][0]["members"], 1);
    // Another guide's customer's card is not found; a guide may not change the program.
    assert_eq!(
        t.get(&format!("/api/v1/customers/{theirs}/tier"), &guide)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        put(&t, &guide, tiers_body(&[], None)).await.status(),
        StatusCode::FORBIDDEN
    );
    // Bad pages: 422.
    assert_eq!(
        t.get(
            &format!("/api/v1/loyalty/tiers/{normal}/members?page_size=0"),
            &t.admin
        )
        .await
        .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        t.get("/api/v1/loyalty/tiers/99999/members", &t.admin)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

async fn the_console_page_sets_up_tiers_and_lists_members(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("tier.ops", "operator", None).await;
    let cookie = console_login(&t, "tier.ops").await;
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/console/loyalty/tiers""#), "{html}");
    let (status, html) = page(&t, &cookie, "/console/loyalty/tiers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("尚未设置会员等级"), "{html}");
    let csrf = csrf_in(&html);
    let post = |rows: Vec<(&'static str, &'static str)>| {
        let (t, cookie, csrf) = (&t, cookie.clone(), csrf.clone());
        async move {
            let mut form = vec![
                ("csrf", csrf.clone()),
                ("metric", "spend_12m".to_owned()),
                ("period_months", "12".to_owned()),
                ("grace_days", "30".to_owned()),
            ];
            form.extend(rows.into_iter().map(|(k, v)| (k, v.to_owned())));
            t.client
                .post(t.url("/console/loyalty/tiers"))
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    // Overlapping thresholds: refused on the page, the values typed kept, nothing saved.
    let r = post(vec![
        ("rank_0", "1"),
        ("name_0", "普通"),
        ("key_0", "normal"),
        ("threshold_0", "0"),
        ("rank_1", "2"),
        ("name_1", "银卡"),
        ("key_1", "silver"),
        ("threshold_1", "0"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-field="tiers.threshold""#), "{html}");
    assert!(html.contains(r#"value="银卡""#), "{html}");
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM tiers").await, 0);
    let r = post(vec![
        ("rank_0", "1"),
        ("name_0", "普通"),
        ("key_0", "normal"),
        ("threshold_0", "0"),
        ("rank_1", "2"),
        ("name_1", "银卡"),
        ("key_1", "silver"),
        ("threshold_1", "10000"),
        ("discount_1", "5"),
        ("multiplier_1", "1500"),
        ("shipping_1", "9900"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c = customer_with_phone(&t, "13900006001", "控制台客").await;
    order_ago(&t, "T-C1", c, 20_000, 0).await;
    for lang in ["zh", "en"] {
        let cookie = format!("{cookie}; yutang_lang={lang}");
        let (status, html) = page(&t, &cookie, "/console/loyalty/tiers").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(r#"data-tier="silver""#), "{html}");
        assert!(html.contains(r#"data-members="1""#), "{html}");
        assert!(html.contains("×1.5"), "{html}");
    }
    let silver = card(&t, c).await["tier"]["id"].as_i64().unwrap();
    let (status, html) = page(&t, &cookie, &format!("/console/loyalty/tiers/{silver}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("控制台客"), "{html}");
    // The customer's 360 page shows the tier and the timeline names the change.
    let (status, html) = page(&t, &cookie, &format!("/console/customers/{c}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="customer-tier""#), "{html}");
    assert!(html.contains("会员等级变化"), "{html}");
}

async fn concurrent_orders_move_a_customer_up_once_per_tier(e: Engine) {
    let t = spawn_app(e).await;
    json_of(put(&t, &t.admin, tiers_body(&[], None)).await).await;
    let c = customer_with_phone(&t, "13900007001", "并发客").await;
    // Ten orders at once, the customer not yet in the program: 60,000 fen in all.
    let orders = (0..10).map(|i| {
        let t = &t;
        async move { order_ago(t, &format!("T-CC-{i}"), c, 6_000, 0).await }
    });
    futures_util::future::join_all(orders).await;
    let v = card(&t, c).await;
    assert_eq!(v["tier"]["key"], "gold", "{v}");
    assert_eq!(v["metric_value"], 60_000);
    assert_eq!(
        scalar(
            &t,
            &format!("SELECT COUNT(*) FROM customer_tiers WHERE customer_id = {c}")
        )
        .await,
        1
    );
    // Each tier reached once at most, every change on the timeline.
    let history = v["history"].as_array().unwrap();
    let mut to: Vec<i64> = history
        .iter()
        .map(|h| h["to_tier_id"].as_i64().unwrap())
        .collect();
    let n = to.len();
    to.sort_unstable();
    to.dedup();
    assert_eq!(to.len(), n, "{v}");
    assert!(history.iter().all(|h| h["direction"] == "upgrade"));
    assert_eq!(
        crate::wecom_sync::timeline_count(&t, c, "tier_changed").await,
        n as i64
    );
    // The same race made deterministic: the order paid later is recorded first. Neither
    // order's window "as of the order" holds both, but the customer holds both now.
    let d = customer_with_phone(&t, "13900007002", "晚到客").await;
    order_ago(&t, "T-LATE-2", d, 30_000, 60_000).await;
    assert_eq!(tier_key(&t, d).await, "silver");
    order_ago(&t, "T-LATE-1", d, 30_000, 120_000).await;
    assert_eq!(tier_key(&t, d).await, "gold");
}

/// A merge keeps the better tier of the two customers, with its `since` and period; the
/// merged-away customer leaves the program; a merge into the better member changes nothing.
async fn merges_keep_the_better_tier_with_its_standing(e: Engine) {
    let t = spawn_app(e).await;
    json_of(put(&t, &t.admin, tiers_body(&[], None)).await).await;
    let a = customer_with_phone(&t, "13900002101", "银卡客").await;
    let b = customer_with_phone(&t, "13900002102", "金卡客").await;
    order_ago(&t, "M-1", a, 12_000, 100 * DAY).await;
    order_ago(&t, "M-2", b, 60_000, 10 * DAY).await;
    assert_eq!(tier_key(&t, a).await, "silver");
    let gold = card(&t, b).await;
    assert_eq!(gold["tier"]["key"], "gold", "{gold}");
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/merge"),
            &t.admin,
            json!({"other_id": b, "force": true}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let v = card(&t, a).await;
    assert_eq!(v["tier"]["key"], "gold", "{v}");
    assert_eq!(v["tier_since"], gold["tier_since"], "{v}");
    assert_eq!(v["held_until"], gold["held_until"], "{v}");
    assert_eq!(v["history"][0]["source"], format!("merge:{b}"), "{v}");
    assert_eq!(v["history"][0]["from_name"], "银卡");
    assert_eq!(
        scalar(
            &t,
            &format!("SELECT COUNT(*) FROM customer_tiers WHERE customer_id = {b}")
        )
        .await,
        0
    );
    // Merging a lesser member into a better one leaves the better one as it was.
    let c = customer_with_phone(&t, "13900002103", "普通客").await;
    order_ago(&t, "M-3", c, 100, DAY).await;
    let before = card(&t, a).await;
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/merge"),
            &t.admin,
            json!({"other_id": c, "force": true}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let after = card(&t, a).await;
    assert_eq!(after["tier"], before["tier"]);
    assert_eq!(after["tier_since"], before["tier_since"]);
    assert_eq!(
        after["history"].as_array().unwrap().len(),
        before["history"].as_array().unwrap().len()
    );
}
