//! Issue #18: a campaign's statistics per Asia/Shanghai day. Claims, uses on orders, flash
//! claims paid and released, group-buy teams filled and refunded are written through the
//! API; their instants are then moved to known times (the API stamps "now") so the day
//! buckets can be checked exactly — a claim at 23:30 in Shanghai (15:30 UTC) stays on its
//! day, one at 00:30 (16:30 UTC the day before) lands on the next.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, spawn_app};
use crate::promotions::{created_id, customers, group_buy, open_team, order, template};

both_engines!(
    coupon_stats_per_shanghai_day,
    flash_sale_stats_per_day,
    group_buy_stats_per_day,
);

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const OFFSET: i64 = 8 * HOUR;

/// Today's day number in Shanghai, and the instant of `days_ago` days before it at `hh:mm`
/// Shanghai time.
struct Clock {
    today: i64,
}

impl Clock {
    fn new() -> Self {
        let now = chrono::Utc::now().timestamp_millis();
        Self {
            today: (now + OFFSET).div_euclid(DAY),
        }
    }

    fn at(&self, days_ago: i64, hh: i64, mm: i64) -> i64 {
        (self.today - days_ago) * DAY - OFFSET + hh * HOUR + mm * 60_000
    }

    /// `2026-12-04` of `days_ago` days before today.
    fn label(&self, days_ago: i64) -> String {
        chrono::DateTime::from_timestamp((self.today - days_ago) * 86_400, 0)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string()
    }
}

/// Move timestamps: each `(table, column, row id, instant)`.
async fn set(t: &TestApp, moves: &[(&str, &str, i64, i64)]) {
    for (table, col, id, ms) in moves {
        let sql = format!("UPDATE {table} SET {col} = $1 WHERE id = $2");
        macro_rules! run {
            ($pool:expr) => {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(*ms)
                    .bind(*id)
                    .execute($pool)
                    .await
                    .unwrap()
                    .rows_affected()
            };
        }
        let n = match &t.app.db {
            yutang_store::Db::Sqlite(p) => run!(p),
            yutang_store::Db::Postgres(p) => run!(p),
        };
        assert_eq!(n, 1, "{table}.{col} of {id}");
    }
}

/// The ids a query returns, in its order.
async fn ids(t: &TestApp, sql: &'static str) -> Vec<i64> {
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        yutang_store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

async fn stats(t: &TestApp, path: &str) -> Value {
    let r = t
        .get(&format!("/api/v1/promotions/{path}/stats"), &t.admin)
        .await;
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// One column of the daily series.
fn col(v: &Value, name: &str) -> Vec<i64> {
    v["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[name].as_i64().unwrap())
        .collect()
}

fn days(v: &Value) -> Vec<String> {
    v["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["day"].as_str().unwrap().to_owned())
        .collect()
}

/// The four days (three days ago to today) carry the expected columns, and the totals.
fn check(v: &Value, clock: &Clock, cols: &[(&str, [i64; 4])], totals: Value) {
    assert_eq!(
        days(v),
        (0..4).rev().map(|d| clock.label(d)).collect::<Vec<_>>()
    );
    for (name, want) in cols {
        assert_eq!(col(v, name), want.to_vec(), "{name}: {v}");
    }
    assert_eq!(v["totals"], totals);
}

/// The window every campaign here runs in: from three days ago to tomorrow.
fn window() -> Value {
    let now = chrono::Utc::now().timestamp_millis();
    json!({"starts_at": now - 3 * DAY, "ends_at": now + DAY})
}

async fn coupon_stats_per_shanghai_day(e: Engine) {
    let t = spawn_app(e).await;
    let clock = Clock::new();
    let mut tpl = template(100, 1);
    tpl["claim_window"] = window();
    let id = created_id(t.post("/api/v1/coupon-templates", &t.admin, tpl).await).await;
    // Nothing yet: four zero days (three days ago to today).
    let v = stats(&t, &format!("coupons/{id}")).await;
    assert_eq!(
        days(&v),
        (0..4).rev().map(|d| clock.label(d)).collect::<Vec<_>>()
    );
    assert_eq!(col(&v, "claims"), vec![0, 0, 0, 0]);
    let cs = customers(&t, 3, 7100).await;
    let mut claims = Vec::new();
    let mut coupons = Vec::new();
    for (_, tok) in &cs {
        let r = t
            .post(
                &format!("/api/v1/public/coupons/{id}/claim"),
                tok,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        claims.push(v["claim_id"].as_i64().unwrap());
        coupons.push(v["coupon_ids"][0].as_i64().unwrap());
    }
    // Two of them are used, on orders of 80 and 60 yuan (10 yuan off each).
    for (i, amount) in [(0, 8000), (1, 6000)] {
        let o = order(&t, cs[i].0, &format!("STATS-{i}"), amount).await;
        let r = t
            .post(
                &format!("/api/v1/coupons/{}/redeem", coupons[i]),
                &t.admin,
                json!({"order_id": o}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // Claimed 3 days ago at 23:30 (15:30 UTC: still that day), 2 days ago at 00:30 (16:30
    // UTC the day before: the next Shanghai day) and at noon; used 2 days ago and yesterday.
    let (c3, c2, c2b) = (clock.at(3, 23, 30), clock.at(2, 0, 30), clock.at(2, 12, 0));
    set(
        &t,
        &[
            ("coupon_claims", "claimed_at", claims[0], c3),
            ("coupons", "claimed_at", coupons[0], c3),
            ("coupon_claims", "claimed_at", claims[1], c2),
            ("coupons", "claimed_at", coupons[1], c2),
            ("coupon_claims", "claimed_at", claims[2], c2b),
            ("coupons", "claimed_at", coupons[2], c2b),
            ("coupons", "used_at", coupons[0], clock.at(2, 9, 0)),
            ("coupons", "used_at", coupons[1], clock.at(1, 20, 0)),
        ],
    )
    .await;
    let v = stats(&t, &format!("coupons/{id}")).await;
    assert_eq!(v["kind"], "coupon");
    // Conversion is cumulative: 1 use of 3 coupons, then 2 of 3.
    check(
        &v,
        &clock,
        &[
            ("claims", [1, 2, 0, 0]),
            ("eligible", [1, 2, 0, 0]),
            ("uses", [0, 1, 1, 0]),
            ("gmv_fen", [0, 8000, 6000, 0]),
            ("cost_fen", [0, 1000, 1000, 0]),
            ("conversion_permille", [0, 333, 666, 666]),
        ],
        json!({"claims": 3, "uses": 2, "eligible": 3, "released": 0, "gmv_fen": 14000,
               "cost_fen": 2000, "conversion_permille": 666, "cost_per_use_fen": 1000}),
    );
    // Unknown ids: 404 on every kind.
    for path in ["coupons", "flash-sales", "group-buys"] {
        let r = t
            .get(&format!("/api/v1/promotions/{path}/999999/stats"), &t.admin)
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

fn flash_sale() -> Value {
    json!({
        "name": "周五秒杀 金枕榴莲", "sku": "DURIAN-1", "item_name": "金枕榴莲 1 个",
        "price_fen": 9900, "original_price_fen": 19900, "stock": 5,
        "window": window(), "per_customer": 1, "hold_minutes": 15,
        "audience": {"kind": "everyone"}
    })
}

async fn flash_sale_stats_per_day(e: Engine) {
    let t = spawn_app(e).await;
    let clock = Clock::new();
    let id = created_id(t.post("/api/v1/flash-sales", &t.admin, flash_sale()).await).await;
    let cs = customers(&t, 3, 7200).await;
    let mut claims = Vec::new();
    for (_, tok) in &cs {
        let r = t
            .post(
                &format!("/api/v1/public/flash-sales/{id}/claim"),
                tok,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        claims.push(
            r.json::<Value>().await.unwrap()["claim_id"]
                .as_i64()
                .unwrap(),
        );
    }
    for (i, claim) in claims.iter().take(2).enumerate() {
        let r = t
            .post(
                &format!("/api/v1/flash-sale-claims/{claim}/paid"),
                &t.admin,
                json!({"order_ref": format!("MP-{i}")}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    // The third hold runs out and is released.
    t.exec("UPDATE flash_sale_claims SET hold_until = 1 WHERE state = 'held'")
        .await;
    t.exec("UPDATE jobs SET run_at = 0 WHERE kind = 'flash_hold_release'")
        .await;
    t.settle_jobs().await;
    // All claimed 2 days ago; one paid that day, one yesterday, the release yesterday.
    let claimed = clock.at(2, 15, 0);
    let table = "flash_sale_claims";
    set(
        &t,
        &[
            (table, "claimed_at", claims[0], claimed),
            (table, "claimed_at", claims[1], claimed),
            (table, "claimed_at", claims[2], claimed),
            (table, "updated_at", claims[0], clock.at(2, 16, 0)),
            (table, "updated_at", claims[1], clock.at(1, 9, 0)),
            (table, "updated_at", claims[2], clock.at(1, 9, 30)),
        ],
    )
    .await;
    let v = stats(&t, &format!("flash-sales/{id}")).await;
    let totals = json!({"claims": 3, "uses": 2, "eligible": 3, "released": 1,
        "gmv_fen": 19800, "cost_fen": 20000, "conversion_permille": 666,
        "cost_per_use_fen": 10000});
    check(
        &v,
        &clock,
        &[
            ("claims", [0, 3, 0, 0]),
            ("uses", [0, 1, 1, 0]),
            ("released", [0, 0, 1, 0]),
            ("gmv_fen", [0, 9900, 9900, 0]),
            ("cost_fen", [0, 10000, 10000, 0]),
            ("conversion_permille", [0, 333, 666, 666]),
        ],
        totals.clone(),
    );
    // Removed with history, it is archived and keeps its statistics.
    let r = t
        .req(
            reqwest::Method::DELETE,
            &format!("/api/v1/flash-sales/{id}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v = stats(&t, &format!("flash-sales/{id}")).await;
    assert_eq!(
        (v["status"].as_str(), &v["totals"]),
        (Some("archived"), &totals)
    );
}

async fn group_buy_stats_per_day(e: Engine) {
    let t = spawn_app(e).await;
    let clock = Clock::new();
    let mut body = group_buy(100);
    body["window"] = window();
    let gb = created_id(t.post("/api/v1/group-buys", &t.admin, body).await).await;
    let cs = customers(&t, 4, 7300).await;
    // A opens, B joins: filled (A pays 34.90, B 39.90). C opens alone and expires (refunded).
    let filled = open_team(&t, gb, &cs[0].1).await;
    let r = t
        .post(
            &format!("/api/v1/public/group-buy-teams/{filled}/join"),
            &cs[1].1,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let lonely = open_team(&t, gb, &cs[2].1).await;
    t.exec("UPDATE group_buy_teams SET deadline = 1 WHERE state = 'open'")
        .await;
    t.exec("UPDATE jobs SET run_at = 0 WHERE kind = 'group_buy_deadline'")
        .await;
    t.settle_jobs().await;
    // D opens a team still waiting.
    let waiting = open_team(&t, gb, &cs[3].1).await;
    let m = ids(&t, "SELECT id FROM group_buy_members ORDER BY id").await;
    assert_eq!(m.len(), 4);
    let refund = ids(&t, "SELECT id FROM group_buy_refunds").await;
    // Two days ago: A opens (10:00) and C opens (11:00). Yesterday: B joins and the team
    // fills (08:00), C is refunded (12:00), D opens (13:00).
    let (a, c) = (clock.at(2, 10, 0), clock.at(2, 11, 0));
    let (b, d) = (clock.at(1, 8, 0), clock.at(1, 13, 0));
    set(
        &t,
        &[
            ("group_buy_teams", "created_at", filled, a),
            ("group_buy_members", "joined_at", m[0], a),
            ("group_buy_members", "joined_at", m[1], b),
            ("group_buy_teams", "closed_at", filled, b),
            ("group_buy_teams", "created_at", lonely, c),
            ("group_buy_members", "joined_at", m[2], c),
            (
                "group_buy_refunds",
                "refunded_at",
                refund[0],
                clock.at(1, 12, 0),
            ),
            ("group_buy_teams", "created_at", waiting, d),
            ("group_buy_members", "joined_at", m[3], d),
        ],
    )
    .await;
    let v = stats(&t, &format!("group-buys/{gb}")).await;
    // Cost: the leader's 5 yuan plus 20 yuan off the original price for each of the two.
    check(
        &v,
        &clock,
        &[
            ("claims", [0, 2, 2, 0]),
            ("eligible", [0, 2, 1, 0]),
            ("uses", [0, 0, 1, 0]),
            ("released", [0, 0, 1, 0]),
            ("gmv_fen", [0, 0, 7480, 0]),
            ("cost_fen", [0, 0, 4500, 0]),
            ("conversion_permille", [0, 0, 333, 333]),
        ],
        json!({"claims": 4, "uses": 1, "eligible": 3, "released": 1, "gmv_fen": 7480,
               "cost_fen": 4500, "conversion_permille": 333, "cost_per_use_fen": 4500}),
    );
}
