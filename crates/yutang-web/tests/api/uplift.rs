//! Uplift studies (issue #24 item 4) through the HTTP API: customers written with orders,
//! group joins and card purchases months ago; the metrics page's uplift section compares the
//! treated with matched controls exactly as computed by hand, for the brand and a store, and
//! says it is observational evidence; a guide gets none.
use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_core::analytics::facts::{month_bounds, month_label, month_of};

use crate::console::{console_login, page};
use crate::customers::customer_with_phone;
use crate::dashboard::order;
use crate::helpers::{
    Engine, TestApp, assert_same_table, csv_download, error_of, spawn_with, xlsx_download,
};

both_engines!(uplift_compares_the_treated_with_matched_controls);

const DAY_MS: i64 = 86_400_000;

async fn ok_json(r: reqwest::Response) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339()
}

async fn join_group(t: &TestApp, id: &str, customer: i64, at: i64) {
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [{"id": id, "kind": "join_group", "customer_id": customer,
                "occurred_at": rfc3339(at), "detail": {"chat_id": "up-g"}}]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

/// The estimate of `study` for the period's only month.
fn study<'a>(v: &'a Value, key: &str) -> &'a Value {
    let st = v["uplift"]["studies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["study"] == key)
        .unwrap_or_else(|| panic!("no study {key} in {}", v["uplift"]));
    assert_eq!(
        st["pooled"], st["by_month"][0],
        "one month pooled is that month"
    );
    &st["pooled"]
}

fn interval(e: &Value, key: &str) -> (i64, i64, i64) {
    let i = &e[key];
    (
        i["estimate"].as_i64().unwrap(),
        i["low"].as_i64().unwrap(),
        i["high"].as_i64().unwrap(),
    )
}

async fn uplift_compares_the_treated_with_matched_controls(e: Engine) {
    let t = spawn_with(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
    })
    .await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let store = t.store("UP-A").await;
    let other_store = t.store("UP-B").await;
    t.staff("up.manager", "store_manager", Some(store)).await;
    t.staff("up.guide", "guide", Some(store)).await;

    // The month compared: its three months after are over.
    let m = month_of(t.app.now()) - 5;
    let day = |month: i64| month_bounds(month).0 + 9 * DAY_MS;
    let label = month_label(m);
    let buy = |ext: &'static str, c: i64, fen: i64, month: i64| {
        let t = &t;
        async move { order(t, ext, c, fen, day(month), Some(store), None).await }
    };

    // Stratum "1 order, under ¥100" before M: two treated, two controls, one excluded.
    let t1 = customer_with_phone(&t, "13900000101", "T1").await;
    buy("UP-T1-0", t1, 5_000, m - 2).await;
    join_group(&t, "up-j1", t1, day(m)).await;
    buy("UP-T1-1", t1, 8_000, m + 1).await;
    buy("UP-T1-2", t1, 8_000, m + 2).await;
    let t2 = customer_with_phone(&t, "13900000102", "T2").await;
    buy("UP-T2-0", t2, 6_000, m - 2).await;
    join_group(&t, "up-j2", t2, day(m)).await;
    buy("UP-T2-1", t2, 6_000, m + 3).await;
    let c1 = customer_with_phone(&t, "13900000103", "C1").await;
    buy("UP-C1-0", c1, 5_000, m - 2).await;
    buy("UP-C1-1", c1, 5_000, m + 1).await;
    let c2 = customer_with_phone(&t, "13900000104", "C2").await;
    buy("UP-C2-0", c2, 4_000, m - 2).await;
    // Fully refunded: not an order.
    let gone = buy("UP-C2-1", c2, 3_000, m + 1).await;
    let r = t
        .post(
            &format!("/api/v1/orders/{gone}/refunds"),
            &t.admin,
            json!({"refund_id": "UP-C2-1-R", "amount_fen": 3_000}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // Joins a group within the months after M: neither treated nor a control in M.
    let l = customer_with_phone(&t, "13900000105", "L").await;
    buy("UP-L-0", l, 5_000, m - 2).await;
    join_group(&t, "up-jl", l, day(m + 2)).await;
    // A big spender who joins: no control like them, unmatched.
    let t3 = customer_with_phone(&t, "13900000106", "T3").await;
    buy("UP-T3-0", t3, 200_000, m - 2).await;
    join_group(&t, "up-j3", t3, day(m)).await;
    // Joins in M without having bought before: not compared.
    let n = customer_with_phone(&t, "13900000107", "N").await;
    join_group(&t, "up-jn", n, day(m)).await;
    buy("UP-N-1", n, 5_000, m + 1).await;

    // Paid members: P buys a card in M (stratum "1 order, ¥100-300"); C4 is like them.
    let r = t
        .post(
            "/api/v1/loyalty/cards",
            &t.admin,
            json!({"key": "upcard", "name": "省钱卡", "period_days": 30, "price_fen": 990,
                   "points_multiplier": 1000, "monthly_coupon_template_ids": [],
                   "savings_guarantee": false}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let p = customer_with_phone(&t, "13900000108", "P").await;
    buy("UP-P-0", p, 15_000, m - 2).await;
    let r = t
        .post(
            "/api/v1/member-cards/purchases",
            &t.admin,
            json!({"order_no": "UP-CARD-P", "customer_id": p, "card_key": "upcard",
                   "paid_at": rfc3339(day(m))}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    buy("UP-P-1", p, 15_000, m + 1).await;
    let c4 = customer_with_phone(&t, "13900000109", "C4").await;
    buy("UP-C4-0", c4, 20_000, m - 2).await;

    t.app.analytics().follow().await.unwrap();
    let q = format!("/api/v1/metrics?from={label}&to={label}");

    // Not computed yet: nothing to compare, and the page says so.
    let v = ok_json(t.get(&q, &t.admin).await).await;
    assert_eq!(v["uplift"]["computed_at"], Value::Null, "{}", v["uplift"]);
    assert_eq!(v["uplift"]["months"], json!([]));

    let a = t.app.analytics();
    assert!(a.refresh_uplift_if_due().await.unwrap());
    // Computed a moment ago: not due again.
    assert!(!a.refresh_uplift_if_due().await.unwrap());
    let v = ok_json(t.get(&q, &t.admin).await).await;
    let u = &v["uplift"];
    assert_eq!(u["evidence"], "observational");
    assert!(u["evidence_text"].as_str().unwrap().contains("观察性"));
    assert_eq!(u["window_months"], 3);
    assert_eq!(u["months"], json!([label]));
    assert!(u["computed_at"].as_i64().is_some());

    // In a group vs not. Treated T1 (+1 order, +¥110), T2 (0, 0) against C1 (0, 0) and C2
    // (-1, -¥40); T3 has no control like them.
    let g = study(&v, "group");
    assert_eq!(
        (&g["treated"], &g["matched"], &g["controls"]),
        (&json!(3), &json!(2), &json!(2)),
        "{g}"
    );
    // 0.5 - (-0.5) orders; variances 0.5/2 + 0.5/2, so ±1.96 * 0.7071.
    assert_eq!(interval(g, "orders_milli"), (1_000, -386, 2_386));
    // ¥55 - (-¥20); variances 60.5M/2 + 8M/2 fen², so ±1.96 * 5852.4.
    assert_eq!(interval(g, "net_fen"), (7_500, -3_971, 18_971));
    assert_eq!(g["next_month_treated_bp"], 5_000);
    assert_eq!(g["next_month_control_bp"], 5_000);
    assert_eq!(g["next_month_lift_bp"], 0);

    // Paid members vs not: P (0, 0, bought the month after) against C4 (-1, -¥200).
    let pm = study(&v, "paid_member");
    assert_eq!(
        (&pm["treated"], &pm["matched"], &pm["controls"]),
        (&json!(1), &json!(1), &json!(1)),
        "{pm}"
    );
    assert_eq!(interval(pm, "orders_milli"), (1_000, 1_000, 1_000));
    assert_eq!(interval(pm, "net_fen"), (20_000, 20_000, 20_000));
    assert_eq!(pm["next_month_treated_bp"], 10_000);
    assert_eq!(
        pm["next_month_lift_bp"],
        Value::Null,
        "no control bought: no ratio"
    );

    // The randomised holdout comparison comes from mass messages with a holdout: none here.
    assert!(
        !v["unavailable"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["key"] == "holdout_uplift")
    );
    assert_eq!(v["holdouts"], json!([]));

    // Recomputed: the same figures.
    a.refresh_uplift().await.unwrap();
    let again = ok_json(t.get(&q, &t.admin).await).await;
    assert_eq!(again["uplift"]["studies"], v["uplift"]["studies"]);

    // The store (every order was there): the same comparison, for HQ and its manager.
    let manager = t.login("up.manager").await;
    let mine = ok_json(t.get(&q, &manager).await).await;
    assert_eq!(mine["scope"]["level"], "store");
    assert_eq!(mine["uplift"]["studies"], v["uplift"]["studies"]);
    let hq = ok_json(t.get(&format!("{q}&store_id={store}"), &t.admin).await).await;
    assert_eq!(hq["uplift"]["studies"], v["uplift"]["studies"]);
    // Another store has nobody to compare.
    let other = ok_json(
        t.get(&format!("{q}&store_id={other_store}"), &t.admin)
            .await,
    )
    .await;
    let og = study(&other, "group");
    assert_eq!(
        (&og["treated"], &og["orders_milli"]),
        (&json!(0), &Value::Null)
    );
    // The manager may not look at it.
    let (s, _, _) = error_of(
        t.get(&format!("{q}&store_id={other_store}"), &manager)
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A guide's customers are too few to compare: no section.
    let guide = t.login("up.guide").await;
    let gv = ok_json(t.get(&q, &guide).await).await;
    assert_eq!(gv["uplift"], Value::Null);

    // The table as CSV and Excel: the months together, then each month, per study.
    let export = format!("/api/v1/metrics/export?table=uplift&from={label}&to={label}");
    let csv = csv_download(t.get(&format!("{export}&lang=en"), &t.admin).await).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("Comparison,Month,Evidence,Treated"),
        "{csv}"
    );
    assert_eq!(lines.len(), 1 + 2 * 2, "{csv}");
    assert!(
        lines[1].starts_with("In a group vs not,All months,Observational,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(",3,2,2,1.000,-0.386,2.386,75.00,-39.71,189.71,50.00%,50.00%,0.00%"),
        "{}",
        lines[1]
    );
    let sheet = xlsx_download(
        t.get(&format!("{export}&lang=en&format=xlsx"), &t.admin)
            .await,
    )
    .await;
    assert_same_table(&csv, &sheet);
    let zh = csv_download(t.get(&export, &t.admin).await).await;
    assert!(zh.contains("\r\n入群 vs 未入群,合计,观察性对比"), "{zh}");

    // The console shows the section with its evidence and the figures.
    t.staff("up.admin", "admin", None).await;
    let cookie = console_login(&t, "up.admin").await;
    let (status, html) = page(
        &t,
        &cookie,
        &format!("/console/metrics?from={label}&to={label}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"m-uplift-evidence\" data-evidence=\"observational\""),
        "{html}"
    );
    assert!(html.contains("id=\"m-uplift-group\""));
    assert!(html.contains("+1.000 (-0.386 … 2.386)"), "{html}");
    assert!(html.contains("+200.00 (200.00 … 200.00)"), "{html}");
}
