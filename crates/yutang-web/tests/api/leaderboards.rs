//! Leaderboards and incentive pools (issue #23 item 6) through the HTTP API: boards rank what
//! was written (WeCom adds and deletes, orders, done tasks) by each metric with shared ranks;
//! each role reads the boards and pools of its own scope; a pool splits 80/20 to the fen,
//! settles once (also when settled ten times at once), refuses changes afterwards and exports
//! for payroll; bad input is refused with nothing written.
//!
//! The apps run without the background follower: each test follows the log itself.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::acquisition::{add, scalar};
use crate::dashboard::order;
use crate::helpers::{Engine, TestApp, csv_download, error_of};
use crate::wecom::drain;
use crate::wecom_sync::{customer, guide, with_fake_and};

both_engines!(
    boards_rank_each_metric_within_the_callers_scope,
    pools_split_settle_once_and_export_for_payroll,
    concurrent_settles_write_the_payouts_once,
    bad_boards_and_pools_are_refused_and_write_nothing,
);

const DAY_MS: i64 = 86_400_000;

async fn ok_json(r: reqwest::Response) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert!(s.is_success(), "{s}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The Shanghai date of an instant, `YYYY-MM-DD`.
fn date_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms + 8 * 3_600_000)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string()
}

/// Two stores (each in a region of its own), guides g1 and g2 in A and g3 in B, a manager of
/// A. Today: two adds to g1, one to g2 (deleted again), one to g3; an order of g1's first
/// customer by g1 (8,800 fen); a task g3 did. 40 days ago: orders of 8,800 fen by g1 and
/// 1,200 fen by g3.
struct World {
    t: TestApp,
    store_a: i64,
    store_b: i64,
    g1: i64,
    g2: i64,
    g3: i64,
}

async fn world(e: Engine) -> World {
    let (t, fake, target) = with_fake_and(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
    })
    .await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let store_a = t.store("LB-A").await;
    let store_b = t.store("LB-B").await;
    let g1 = guide(&t, store_a, "zhangwei").await;
    let g2 = guide(&t, store_a, "wangfang").await;
    let g3 = guide(&t, store_b, "lina").await;
    t.staff("lb.manager", "store_manager", Some(store_a)).await;
    let (x1, _) = add(&t, &fake, &target, "zhangwei", "小林", None).await;
    add(&t, &fake, &target, "zhangwei", "小周", None).await;
    let (x3, _) = add(&t, &fake, &target, "wangfang", "小吴", None).await;
    let (x4, _) = add(&t, &fake, &target, "lina", "小郑", None).await;
    let gone = fake.simulate_customer_deletes_staff("wangfang", &x3);
    assert_eq!(fake.push(&target, &gone).await.unwrap().status, 200);
    drain(&t).await;
    let c1 = customer(&t, &x1).await.unwrap();
    let c4 = customer(&t, &x4).await.unwrap();
    let now = t.app.now();
    order(&t, "LB-1", c1, 8_800, now, Some(store_a), Some(g1)).await;
    order(
        &t,
        "LB-OLD-1",
        c1,
        8_800,
        now - 40 * DAY_MS,
        Some(store_a),
        Some(g1),
    )
    .await;
    order(
        &t,
        "LB-OLD-3",
        c4,
        1_200,
        now - 40 * DAY_MS,
        Some(store_b),
        Some(g3),
    )
    .await;
    scalar(
        &t,
        &format!(
            "INSERT INTO guide_tasks (staff_id, store_id, title, source, dedupe_key, due_at, \
             state, done_at, created_at) VALUES ({g3}, {store_b}, '回访', 'manual', 'lb-task-1', \
             {now}, 'done', {now}, {now}) RETURNING id"
        ),
    )
    .await;
    t.app.analytics().follow().await.unwrap();
    World {
        t,
        store_a,
        store_b,
        g1,
        g2,
        g3,
    }
}

/// `(id, rank, value)` of a board's rows.
fn rows(v: &Value) -> Vec<(i64, Option<i64>, Option<i64>)> {
    v["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["rank"].as_i64(),
                r["value"].as_i64(),
            )
        })
        .collect()
}

async fn board(t: &TestApp, token: &str, q: &str) -> Value {
    ok_json(t.get(&format!("/api/v1/leaderboards?{q}"), token).await).await
}

async fn boards_rank_each_metric_within_the_callers_scope(e: Engine) {
    let World {
        t,
        store_a,
        store_b,
        g1,
        g2,
        g3,
    } = world(e).await;
    // Adds: g1 first; g2 and g3 tie (one each) and share rank 2, the lower id shown first.
    let v = board(&t, &t.admin, "level=brand&metric=adds&period=month").await;
    assert_eq!(v["level"], "brand");
    assert_eq!(v["subject"], "guides");
    assert_eq!(
        rows(&v),
        vec![
            (g1, Some(1), Some(2)),
            (g2, Some(2), Some(1)),
            (g3, Some(2), Some(1))
        ]
    );
    assert_eq!(v["rows"][0]["figures"]["gmv_fen"], 8_800);
    assert_eq!(v["rows"][0]["store_id"], store_a);
    assert_eq!(v["me"], Value::Null, "an API token is on no board");
    // Net adds: g2's add was deleted.
    let v = board(&t, &t.admin, "level=brand&metric=net_adds&period=month").await;
    assert_eq!(
        rows(&v),
        vec![
            (g1, Some(1), Some(2)),
            (g3, Some(2), Some(1)),
            (g2, Some(3), Some(0))
        ]
    );
    // First-order rate: one of g1's two new customers ordered; the others none.
    let v = board(
        &t,
        &t.admin,
        "level=brand&metric=first_order_rate&period=month",
    )
    .await;
    assert_eq!(rows(&v)[0], (g1, Some(1), Some(5_000)), "{v}");
    assert_eq!(v["rows"][0]["figures"]["first_orders"], 1);
    assert_eq!(v["rows"][0]["figures"]["new_customers"], 2);
    // Tasks done, and ratings (nobody has one: no rank, no value).
    let v = board(&t, &t.admin, "level=brand&metric=tasks_done&period=month").await;
    assert_eq!(rows(&v)[0], (g3, Some(1), Some(1)));
    let v = board(&t, &t.admin, "level=brand&metric=rating&period=month").await;
    assert!(
        rows(&v).iter().all(|r| r.1.is_none() && r.2.is_none()),
        "{v}"
    );
    // GMV 40 days ago (paid minus refunded), by guide and by store.
    let then = date_of(t.app.now() - 40 * DAY_MS);
    let v = board(&t, &t.admin, &format!("metric=gmv&period=day&date={then}")).await;
    assert_eq!(v["level"], "brand", "headquarters defaults to the brand");
    assert_eq!(v["period"]["from"], then.as_str());
    assert_eq!(v["period"]["to"], then.as_str());
    assert_eq!(
        rows(&v)[..2],
        [(g1, Some(1), Some(8_800)), (g3, Some(2), Some(1_200))]
    );
    let v = board(
        &t,
        &t.admin,
        &format!("subject=stores&metric=gmv&period=day&date={then}"),
    )
    .await;
    assert_eq!(
        rows(&v),
        vec![
            (store_a, Some(1), Some(8_800)),
            (store_b, Some(2), Some(1_200))
        ]
    );

    // A store manager: their store by default, their region and the brand; no other store.
    let manager = t.login("lb.manager").await;
    let v = board(&t, &manager, "metric=adds&period=month").await;
    assert_eq!(
        (v["level"].clone(), v["store_id"].clone()),
        (json!("store"), json!(store_a))
    );
    let ids: Vec<i64> = rows(&v).iter().map(|r| r.0).collect();
    assert_eq!(ids, vec![g1, g2]);
    let v = board(&t, &manager, "level=region&period=month").await;
    assert_eq!(rows(&v).len(), 2, "store A is alone in its region");
    assert_eq!(
        rows(&board(&t, &manager, "level=brand&period=month").await).len(),
        3
    );
    let region_b = scalar(
        &t,
        &format!("SELECT region_id FROM stores WHERE id = {store_b}"),
    )
    .await;
    for q in [
        format!("level=store&store_id={store_b}"),
        format!("level=region&region_id={region_b}"),
    ] {
        let (s, code, _) =
            error_of(t.get(&format!("/api/v1/leaderboards?{q}"), &manager).await).await;
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{q}"
        );
    }
    // A guide sees their own row as `me`, and their week with their rank in the store.
    let g = t.login("g.zhangwei").await;
    let v = board(&t, &g, "period=month").await;
    assert_eq!(v["me"]["id"], g1);
    assert_eq!(v["me"]["rank"], 1);
    let w = ok_json(t.get("/api/v1/leaderboards/me", &g).await).await;
    assert_eq!(w["period"]["span"], "week");
    assert_eq!(w["figures"]["adds"], 2);
    assert_eq!(w["figures"]["gmv_fen"], 8_800);
    assert_eq!(
        (w["rank_in_store"].clone(), w["guides_in_store"].clone()),
        (json!(1), json!(2))
    );
    let w = ok_json(
        t.get("/api/v1/leaderboards/me", &t.login("g.wangfang").await)
            .await,
    )
    .await;
    assert_eq!(
        (w["figures"]["net_adds"].clone(), w["rank_in_store"].clone()),
        (json!(0), json!(2))
    );
    // An API token has no week of its own.
    let (s, _, _) = error_of(t.get("/api/v1/leaderboards/me", &t.admin).await).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

fn pool(date: &str, level: &str, store: Option<i64>, metric: &str, fen: i64) -> Value {
    json!({"name": "十二月激励", "period": "month", "date": date, "level": level,
        "store_id": store, "region_id": null, "metric": metric, "amount_fen": fen,
        "individual_pct": 80, "team_pct": 20})
}

/// `(staff_id, individual, team)` of a pool's visible rows.
fn payouts(v: &Value) -> Vec<(i64, i64, i64)> {
    v["payouts"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|p| {
            (
                p["staff_id"].as_i64().unwrap(),
                p["individual_fen"].as_i64().unwrap(),
                p["team_fen"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn pools_split_settle_once_and_export_for_payroll(e: Engine) {
    let World {
        t,
        store_b,
        g1,
        g2,
        g3,
        ..
    } = world(e).await;
    let today = date_of(t.app.now());
    // This month, by adds: 10,000 yuan; 80% by 4 adds (2, 1, 1), 20% by store (3 : 1), then
    // equally in store A.
    let live = ok_json(
        t.post(
            "/api/v1/incentive-pools",
            &t.admin,
            pool(&today, "brand", None, "adds", 1_000_000),
        )
        .await,
    )
    .await;
    assert_eq!(live["state"], "draft");
    assert_eq!(
        payouts(&live),
        vec![
            (g1, 400_000, 75_000),
            (g2, 200_000, 75_000),
            (g3, 200_000, 50_000)
        ]
    );
    let id = live["id"].as_i64().unwrap();
    // The period is not over: it cannot be settled yet.
    let (s, code, _) = error_of(
        t.post(
            &format!("/api/v1/incentive-pools/{id}/settle"),
            &t.admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::CONFLICT, "period_not_over")
    );

    // The month of 40 days ago, by GMV: g1 8,800, g3 1,200.
    let then = date_of(t.app.now() - 40 * DAY_MS);
    let made = ok_json(
        t.post(
            "/api/v1/incentive-pools",
            &t.admin,
            pool(&then, "brand", None, "gmv", 1_000_000),
        )
        .await,
    )
    .await;
    let id = made["id"].as_i64().unwrap();
    // Edited while a draft: a 50/50 rule, then back.
    let mut body = pool(&then, "brand", None, "gmv", 1_000_000);
    body["individual_pct"] = json!(50);
    body["team_pct"] = json!(50);
    let v = ok_json(
        t.send_json(
            Method::PUT,
            &format!("/api/v1/incentive-pools/{id}"),
            &t.admin,
            body,
        )
        .await,
    )
    .await;
    assert_eq!(v["individual_fen"], 500_000);
    ok_json(
        t.send_json(
            Method::PUT,
            &format!("/api/v1/incentive-pools/{id}"),
            &t.admin,
            pool(&then, "brand", None, "gmv", 1_000_000),
        )
        .await,
    )
    .await;
    let settled = ok_json(
        t.post(
            &format!("/api/v1/incentive-pools/{id}/settle"),
            &t.admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(settled["state"], "settled");
    let expected = vec![(g1, 704_000, 88_000), (g2, 0, 88_000), (g3, 96_000, 24_000)];
    assert_eq!(payouts(&settled), expected);
    assert_eq!(settled["unallocated_fen"], 0);
    assert_eq!(settled["payouts"][0]["contribution_bp"], 8_800);
    // A replay answers the same and writes nothing more.
    let again = ok_json(
        t.post(
            &format!("/api/v1/incentive-pools/{id}/settle"),
            &t.admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(payouts(&again), expected);
    assert_eq!(again["settled_at"], settled["settled_at"]);
    let n = scalar(
        &t,
        &format!("SELECT COUNT(*) FROM incentive_payouts WHERE pool_id = {id}"),
    )
    .await;
    assert_eq!(n, 3);
    // A later order in that month changes nothing once settled.
    let c = scalar(&t, "SELECT MIN(id) FROM customers").await;
    order(
        &t,
        "LB-LATE",
        c,
        50_000,
        t.app.now() - 40 * DAY_MS,
        None,
        Some(g2),
    )
    .await;
    t.app.analytics().follow().await.unwrap();
    let v = ok_json(
        t.get(&format!("/api/v1/incentive-pools/{id}"), &t.admin)
            .await,
    )
    .await;
    assert_eq!(payouts(&v), expected);
    // Settled: no edit, no delete.
    let (s, code, _) = error_of(
        t.send_json(
            Method::PUT,
            &format!("/api/v1/incentive-pools/{id}"),
            &t.admin,
            pool(&then, "brand", None, "adds", 1),
        )
        .await,
    )
    .await;
    assert_eq!((s, code.as_str()), (StatusCode::CONFLICT, "pool_settled"));
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/incentive-pools/{id}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.1, "pool_settled");

    // The payroll export: one row per guide, yuan with two decimals.
    let csv = csv_download(
        t.get(&format!("/api/v1/incentive-pools/{id}/export"), &t.admin)
            .await,
    )
    .await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("pool_id,pool,period_from"));
    assert!(
        lines[1].contains("g.zhangwei") && lines[1].ends_with("7040.00,880.00,7920.00"),
        "{csv}"
    );
    assert!(
        t.audit_actions()
            .await
            .iter()
            .any(|a| a == "incentive_pool_changed")
    );

    // Who sees which rows: a manager of A their store's, a guide their own.
    let manager = t.login("lb.manager").await;
    let v = ok_json(
        t.get(&format!("/api/v1/incentive-pools/{id}"), &manager)
            .await,
    )
    .await;
    assert_eq!(payouts(&v), expected[..2].to_vec());
    assert_eq!(v["guides"], 3);
    let lina = t.login("g.lina").await;
    let v = ok_json(t.get(&format!("/api/v1/incentive-pools/{id}"), &lina).await).await;
    assert_eq!(payouts(&v), vec![(g3, 96_000, 24_000)]);
    // Neither changes, settles or exports pools.
    for token in [&manager, &lina] {
        let r = t
            .get(&format!("/api/v1/incentive-pools/{id}/export"), token)
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = t
            .post(
                "/api/v1/incentive-pools",
                token,
                pool(&then, "brand", None, "gmv", 1),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    // A pool of store B is not the manager of A's: not listed, not found.
    let b = ok_json(
        t.post(
            "/api/v1/incentive-pools",
            &t.admin,
            pool(&then, "store", Some(store_b), "gmv", 100),
        )
        .await,
    )
    .await;
    let b_id = b["id"].as_i64().unwrap();
    assert_eq!(payouts(&b), vec![(g3, 80, 20)]);
    let listed = ok_json(t.get("/api/v1/incentive-pools", &manager).await).await;
    let ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&id) && !ids.contains(&b_id), "{listed}");
    let r = t
        .get(&format!("/api/v1/incentive-pools/{b_id}"), &manager)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A draft may be deleted.
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/incentive-pools/{b_id}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = t
        .get(&format!("/api/v1/incentive-pools/{b_id}"), &t.admin)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn concurrent_settles_write_the_payouts_once(e: Engine) {
    let World { t, .. } = world(e).await;
    let then = date_of(t.app.now() - 40 * DAY_MS);
    let made = ok_json(
        t.post(
            "/api/v1/incentive-pools",
            &t.admin,
            pool(&then, "brand", None, "gmv", 999_999),
        )
        .await,
    )
    .await;
    let id = made["id"].as_i64().unwrap();
    let path = format!("/api/v1/incentive-pools/{id}/settle");
    let answers =
        futures_util::future::join_all((0..10).map(|_| t.post(&path, &t.admin, json!({})))).await;
    let mut totals = Vec::new();
    for r in answers {
        let v = ok_json(r).await;
        assert_eq!(v["state"], "settled");
        totals.push(
            v["payouts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["total_fen"].as_i64().unwrap())
                .sum::<i64>(),
        );
    }
    assert!(totals.iter().all(|s| *s == 999_999), "{totals:?}");
    let n = scalar(
        &t,
        &format!("SELECT COUNT(*) FROM incentive_payouts WHERE pool_id = {id}"),
    )
    .await;
    assert_eq!(n, 3);
    let settles = scalar(
        &t,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'incentive_pool_changed' \
             AND target = 'incentive_pool:{id}' AND detail LIKE '%\"settle\"%'"
        ),
    )
    .await;
    assert_eq!(settles, 1);
}

async fn bad_boards_and_pools_are_refused_and_write_nothing(e: Engine) {
    let World { t, .. } = world(e).await;
    for (q, field, code) in [
        ("period=year", "period", "invalid_period"),
        ("date=2026-02-30", "date", "invalid_date"),
        ("metric=likes", "metric", "invalid_metric"),
        ("level=city", "level", "invalid_level"),
        ("subject=teams", "subject", "invalid_kind"),
        (
            "subject=stores&level=store&store_id=1",
            "level",
            "invalid_level",
        ),
        ("level=store", "store_id", "required"),
        ("level=store&store_id=999999", "store_id", "unknown_store"),
        (
            "level=region&region_id=999999",
            "region_id",
            "unknown_region",
        ),
    ] {
        let (s, got, f) =
            error_of(t.get(&format!("/api/v1/leaderboards?{q}"), &t.admin).await).await;
        assert_eq!(
            (s, got.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field)),
            "{q}"
        );
    }
    let r = t.get("/api/v1/leaderboards?colour=red", &t.admin).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let today = date_of(t.app.now());
    let good = pool(&today, "brand", None, "gmv", 100);
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    for (body, field, code) in [
        (with("team_pct", json!(30)), "team_pct", "invalid_shares"),
        (
            with("individual_pct", json!(-10)),
            "individual_pct",
            "invalid_shares",
        ),
        (with("metric", json!("rating")), "metric", "invalid_metric"),
        (
            with("metric", json!("first_order_rate")),
            "metric",
            "invalid_metric",
        ),
        (
            with("amount_fen", json!(-1)),
            "amount_fen",
            "invalid_amount",
        ),
        (
            with("amount_fen", json!(10_000_000_001_i64)),
            "amount_fen",
            "invalid_amount",
        ),
        (
            with("name", json!("激励\u{7}")),
            "name",
            "invalid_characters",
        ),
        (with("name", json!("")), "name", "invalid_name"),
        (with("level", json!("store")), "store_id", "required"),
        (with("level", json!("region")), "region_id", "required"),
        (with("period", json!("quarter")), "period", "invalid_period"),
        (with("date", json!("12/01/2026")), "date", "invalid_date"),
    ] {
        let (s, got, f) = error_of(
            t.post("/api/v1/incentive-pools", &t.admin, body.clone())
                .await,
        )
        .await;
        assert_eq!(
            (s, got.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field)),
            "{body}"
        );
    }
    let r = t
        .post("/api/v1/incentive-pools", &t.admin, with("bonus", json!(1)))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM incentive_pools").await, 0);
    let r = t.get("/api/v1/incentive-pools/999999", &t.admin).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
