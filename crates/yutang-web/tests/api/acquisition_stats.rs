//! Channel statistics (issue #19 item 7) through the HTTP API: adds pushed through the fake
//! WeCom, orders, refunds and a used reward coupon written through the API, and a
//! time-shaped add (23:30 in Shanghai, deleted two days later, ordering 40 days later)
//! written through the store.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_store::acquisition::NewAdd;

use crate::acquisition::{add, scalar};
use crate::customers::customer_with_phone;
use crate::helpers::{Engine, TestApp, error_of};
use crate::promotions::{created_id, template};
use crate::wecom::drain;
use crate::wecom_sync::{customer, guide, with_fake};

both_engines!(
    channel_stats_count_adds_net_first_orders_gmv_and_reward_cost,
    stats_periods_and_parameters_are_checked,
);

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

async fn ok_json(r: reqwest::Response) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// An order of one line at `paid_at` (UTC millis): its id.
async fn order(t: &TestApp, ext: &str, customer: i64, fen: i64, paid_at: i64) -> i64 {
    let paid = chrono::DateTime::from_timestamp_millis(paid_at)
        .unwrap()
        .to_rfc3339();
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": ext, "customer_id": customer, "channel": "store",
                "paid_at": paid,
                "lines": [{"sku": "A", "name": "苹果", "quantity": 1, "unit_price_fen": fen}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["order"]["id"]
        .as_i64()
        .unwrap()
}

/// The `YYYY-MM-DD` of a Shanghai day number.
fn label(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * 86_400, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string()
}

fn figure(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// The row of `rows` whose `key` is `id`.
fn row<'a>(rows: &'a Value, key: &str, id: Value) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == id)
        .unwrap_or_else(|| panic!("no {key} = {id} in {rows}"))
}

async fn channel_stats_count_adds_net_first_orders_gmv_and_reward_cost(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store_a = t.store("CS-A").await;
    let store_b = t.store("CS-B").await;
    let g1 = guide(&t, store_a, "zhangwei").await;
    let g2 = guide(&t, store_a, "wangfang").await;
    let g3 = guide(&t, store_b, "lina").await;
    let reward = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 1))
            .await,
    )
    .await;
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "门店台卡 统计", "kind": "store_stand", "store_id": store_a,
                "reward_template_id": reward}),
        )
        .await,
    )
    .await;
    let r = t
        .post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": channel, "name": "收银台", "state": "cs-stand",
                "guides": [{"staff_id": g1, "daily_cap": 100}, {"staff_id": g2, "daily_cap": 100}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Three adds through the code (the third to a guide of store B), one through a state no
    // code has; the second pair is deleted at once (within a day of the add).
    let (x1, _) = add(&t, &fake, &target, "zhangwei", "小林", Some("cs-stand")).await;
    let (x2, _) = add(&t, &fake, &target, "wangfang", "小周", Some("cs-stand")).await;
    let (x3, _) = add(&t, &fake, &target, "lina", "小吴", Some("cs-stand")).await;
    add(&t, &fake, &target, "zhangwei", "小郑", Some("no-such-code")).await;
    let gone = fake.simulate_customer_deletes_staff("wangfang", &x2);
    assert_eq!(fake.push(&target, &gone).await.unwrap().status, 200);
    drain(&t).await;
    t.settle_jobs().await;
    let (c1, c2) = (
        customer(&t, &x1).await.unwrap(),
        customer(&t, &x2).await.unwrap(),
    );
    assert!(customer(&t, &x3).await.is_some());

    // c1 pays 88.00 (credited to the channel, their first order) with the reward coupon
    // (10.00 off); c2 pays 50.00 and gets it all back: no GMV, no first order.
    let now = t.app.now();
    let o1 = order(&t, "CS-O-1", c1, 8800, now).await;
    let coupon = scalar(
        &t,
        &format!("SELECT MIN(id) FROM coupons WHERE customer_id = {c1} AND template_id = {reward}"),
    )
    .await;
    let r = t
        .post(
            &format!("/api/v1/coupons/{coupon}/redeem"),
            &t.admin,
            json!({"order_id": o1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let o2 = order(&t, "CS-O-2", c2, 5000, now).await;
    let r = t
        .post(
            &format!("/api/v1/orders/{o2}/refunds"),
            &t.admin,
            json!({"refund_id": "CS-R-2", "amount_fen": 5000}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);

    let v = ok_json(
        t.get(&format!("/api/v1/channels/{channel}/stats"), &t.admin)
            .await,
    )
    .await;
    let tot = &v["totals"];
    let got: Vec<i64> = [
        "adds",
        "net_adds_d1",
        "net_adds_d7",
        "net_adds_d30",
        "deleted",
        "new_customers",
        "first_orders",
        "first_order_permille",
        "orders",
        "gmv_fen",
        "rewards_used",
        "reward_cost_fen",
    ]
    .iter()
    .map(|k| figure(tot, k))
    .collect();
    assert_eq!(got, [3, 2, 2, 2, 1, 3, 1, 333, 1, 8800, 1, 1000], "{v}");
    assert_eq!(tot["median_hours_to_first_order"], 0, "{v}");
    assert_eq!(v["channel"]["name"], "门店台卡 统计");
    // The last 30 days, zeros included, adding up to the totals.
    let days = v["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days.iter().map(|d| figure(d, "adds")).sum::<i64>(), 3);
    assert_eq!(days.iter().map(|d| figure(d, "gmv_fen")).sum::<i64>(), 8800);
    assert_eq!(v["period"]["first_order_days"], 30);
    // Per guide: the credited order and the reward go to the guide whose add brought them.
    let g = |id: i64| row(&v["guides"], "staff_id", json!(id))["figures"].clone();
    assert_eq!(
        (figure(&g(g1), "adds"), figure(&g(g1), "gmv_fen")),
        (1, 8800)
    );
    assert_eq!(figure(&g(g1), "reward_cost_fen"), 1000);
    assert_eq!(
        (figure(&g(g2), "adds"), figure(&g(g2), "net_adds_d1")),
        (1, 0)
    );
    assert_eq!(figure(&g(g3), "adds"), 1);
    assert_eq!(
        row(&v["guides"], "staff_id", json!(g1))["name"],
        "g.zhangwei"
    );
    // Per store: each store's guides added up.
    let s = |id: i64| row(&v["stores"], "store_id", json!(id))["figures"].clone();
    assert_eq!(
        (figure(&s(store_a), "adds"), figure(&s(store_a), "gmv_fen")),
        (2, 8800)
    );
    assert_eq!(figure(&s(store_b), "adds"), 1);

    // Every channel: the unknown state is a row of its own; the leaderboard ranks by adds,
    // then net adds after 7 days.
    let all = ok_json(t.get("/api/v1/acquisition/stats", &t.admin).await).await;
    let ch = row(&all["channels"], "channel_id", json!(channel));
    assert_eq!(figure(&ch["figures"], "adds"), 3);
    let unknown = row(&all["channels"], "channel_id", Value::Null);
    assert_eq!(figure(&unknown["figures"], "adds"), 1);
    assert_eq!(figure(&all["totals"], "adds"), 4);
    let board: Vec<(i64, i64, i64)> = all["leaderboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (figure(l, "rank"), figure(l, "staff_id"), figure(l, "adds")))
        .collect();
    assert_eq!(board, [(1, g1, 2), (2, g3, 1), (3, g2, 1)], "{all}");

    // Scope: store B's manager does not see store A's channel, nor its adds by their guide;
    // store A's manager sees only store A's guides in it.
    t.staff("cs.manager.b", "store_manager", Some(store_b))
        .await;
    let mb = t.login("cs.manager.b").await;
    let r = t
        .get(&format!("/api/v1/channels/{channel}/stats"), &mb)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let theirs = ok_json(t.get("/api/v1/acquisition/stats", &mb).await).await;
    assert!(
        theirs["channels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["channel_id"] != channel),
        "{theirs}"
    );
    assert_eq!(figure(&theirs["totals"], "adds"), 0, "{theirs}");
    assert_eq!(theirs["leaderboard"], json!([]));
    t.staff("cs.manager.a", "store_manager", Some(store_a))
        .await;
    let ma = t.login("cs.manager.a").await;
    let mine = ok_json(
        t.get(&format!("/api/v1/channels/{channel}/stats"), &ma)
            .await,
    )
    .await;
    assert_eq!(figure(&mine["totals"], "adds"), 2, "{mine}");
    assert!(
        mine["guides"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["staff_id"] != g3)
    );

    // A customer who came in 100 days ago at 23:30 Shanghai time (15:30 UTC) through the
    // channel, deleted two days later, ordering 40 days after the add (credited to no
    // channel: the last touch looks back 7 days).
    let today = (now + 8 * HOUR_MS) / DAY_MS;
    let d = today - 100;
    let added_at = d * DAY_MS - 8 * HOUR_MS + 23 * HOUR_MS + 30 * 60_000;
    let c5 = customer_with_phone(&t, "13800138555", "老顾客").await;
    let mut tx = t.app.db.begin().await.unwrap();
    let key = format!("cs-old-{c5}");
    let recorded = yutang_store::acquisition::record_add_in(
        &mut tx,
        &NewAdd {
            dedup_key: &key,
            customer_id: c5,
            channel_id: Some(channel),
            code_id: None,
            state: "cs-stand",
            staff_id: Some(g1),
            added_at,
        },
    )
    .await
    .unwrap();
    assert_eq!(recorded.map(|r| r.1), Some(true));
    yutang_store::acquisition::close_add_in(&mut tx, c5, g1, added_at + 2 * DAY_MS)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    order(&t, "CS-O-5", c5, 3000, added_at + 40 * DAY_MS).await;

    let period = format!("from={}&to={}", label(d), label(d + 1));
    let old = ok_json(
        t.get(
            &format!("/api/v1/channels/{channel}/stats?{period}"),
            &t.admin,
        )
        .await,
    )
    .await;
    let days = old["days"].as_array().unwrap();
    assert_eq!(days.len(), 2);
    assert_eq!(days[0]["day"], label(d));
    // The 23:30 add is on its Shanghai day, not the next; kept a day, gone within 7.
    let per_day: Vec<(i64, i64, i64, i64, i64)> = days
        .iter()
        .map(|x| {
            (
                figure(x, "adds"),
                figure(x, "net_adds_d1"),
                figure(x, "net_adds_d7"),
                figure(x, "net_adds_d30"),
                figure(x, "deleted"),
            )
        })
        .collect();
    assert_eq!(per_day, [(1, 1, 0, 0, 1), (0, 0, 0, 0, 0)], "{old}");
    // Its order came after the 30-day first-order window: no first order, and no GMV.
    let tot = &old["totals"];
    assert_eq!(
        (
            figure(tot, "new_customers"),
            figure(tot, "first_orders"),
            figure(tot, "gmv_fen")
        ),
        (1, 0, 0)
    );
    assert_eq!(tot["median_hours_to_first_order"], Value::Null);
    // A 60-day window counts it: 40 days = 960 hours.
    let wide = ok_json(
        t.get(
            &format!("/api/v1/channels/{channel}/stats?{period}&first_order_days=60"),
            &t.admin,
        )
        .await,
    )
    .await;
    let tot = &wide["totals"];
    assert_eq!(
        (
            figure(tot, "first_orders"),
            figure(tot, "first_order_permille")
        ),
        (1, 1000)
    );
    assert_eq!(tot["median_hours_to_first_order"], 960);

    // The same figures as CSV, in Chinese by default and in English on request.
    let r = t
        .get(
            &format!("/api/v1/channels/{channel}/stats/export?{period}"),
            &t.admin,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}分组,名称,编号,加好友,"), "{csv}");
    let day_line = format!("\r\n日,{},,1,1,0,0,1,1,0,0.0%,,0,0.00,0,0.00\r\n", label(d));
    assert!(csv.contains(&day_line), "{csv}");
    assert!(csv.contains("\r\n导购,g.zhangwei,"), "{csv}");
    let en = t
        .get(
            &format!("/api/v1/acquisition/stats/export?{period}&lang=en"),
            &t.admin,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(en.starts_with("\u{feff}Section,Name,Id,Adds,"), "{en}");
    assert!(en.contains("\r\nChannel,Unknown channel,,0,"), "{en}");
    let channel_line = format!("\r\nChannel,门店台卡 统计,{channel},1,1,0,0,1,1,0,0.0%,,");
    assert!(en.contains(&channel_line), "{en}");
    for q in [
        format!("/api/v1/acquisition/stats/export?{period}&lang=en"),
        format!("/api/v1/channels/{channel}/stats/export?{period}"),
    ] {
        let csv = crate::helpers::csv_download(t.get(&q, &t.admin).await).await;
        let sheet =
            crate::helpers::xlsx_download(t.get(&format!("{q}&format=xlsx"), &t.admin).await).await;
        crate::helpers::assert_same_table(&csv, &sheet);
    }
    fake.shutdown().await;
}

async fn stats_periods_and_parameters_are_checked(e: Engine) {
    let (t, fake, _) = with_fake(e).await;
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "直播间", "kind": "live_stream"}),
        )
        .await,
    )
    .await;
    let base = format!("/api/v1/channels/{channel}/stats");
    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("to=tomorrow", "to"),
        ("from=2024-01-01&to=2025-01-01", "from"),
        ("from=2026-03-05&to=2026-03-04", "from"),
        ("first_order_days=0", "first_order_days"),
        ("first_order_days=366", "first_order_days"),
    ] {
        for path in [&base, "/api/v1/acquisition/stats"] {
            let (s, _, f) = error_of(t.get(&format!("{path}?{query}"), &t.admin).await).await;
            assert_eq!(
                (s, f.as_deref()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{path}?{query}"
            );
        }
    }
    // Unknown and mistyped parameters are refused; so is an unknown CSV language.
    for url in [
        format!("{base}?colour=red"),
        format!("{base}?first_order_days=x"),
        format!("{base}/export?lang=fr"),
        "/api/v1/acquisition/stats?format=csv".to_owned(),
    ] {
        let (s, _, _) = error_of(t.get(&url, &t.admin).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
    }
    // A whole year (366 days) is fine; a channel that is not there is not found.
    let v = ok_json(
        t.get(&format!("{base}?from=2024-01-01&to=2024-12-31"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(v["days"].as_array().unwrap().len(), 366);
    assert_eq!(v["totals"]["adds"], 0);
    assert_eq!(v["guides"], json!([]));
    let r = t.get("/api/v1/channels/999999/stats", &t.admin).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Without a channel anywhere, the unknown channel is still a row.
    let all = ok_json(t.get("/api/v1/acquisition/stats", &t.admin).await).await;
    let rows = all["channels"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{all}");
    assert_eq!(rows[1]["channel_id"], Value::Null);
    fake.shutdown().await;
}
