//! Member gifts (issue #22 item 5) through the HTTP API on both engines: birthday (month) and
//! anniversary-of-joining (day) rules give their coupon, points and stored value once per
//! customer per rule per year — the run started twice, and again the next year — and bad
//! rules are refused naming the field.
//!
//! Time is controlled like the tiers tests: the customers' birthdays and joining dates are set
//! relative to today (Asia/Shanghai), and "next year" is made by moving the grants a year back.

use chrono::Datelike;
use chrono_tz::Asia::Shanghai;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::acquisition::scalar;
use crate::customers::customer_with_phone;
use crate::helpers::{Engine, TestApp, error_of, spawn_app};
use crate::promotions::{created_id, template, token};

both_engines!(
    birthday_and_anniversary_gifts_are_given_once_a_year,
    bad_gift_rules_are_refused_naming_the_field,
    a_customer_reads_the_gifts_given_to_them,
);

async fn ok_json(r: reqwest::Response) -> Value {
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(s.is_success(), "{s}: {v}");
    v
}

async fn set_birthday(t: &TestApp, c: i64, birthday: &str) {
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/customers/{c}"),
            &t.admin,
            json!({ "birthday": birthday }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn gift_fen(t: &TestApp, c: i64) -> i64 {
    ok_json(
        t.get(&format!("/api/v1/customers/{c}/stored-value"), &t.admin)
            .await,
    )
    .await["gift_fen"]
        .as_i64()
        .unwrap()
}

async fn points(t: &TestApp, c: i64) -> i64 {
    ok_json(
        t.get(&format!("/api/v1/customers/{c}/points"), &t.admin)
            .await,
    )
    .await["balance"]
        .as_i64()
        .unwrap()
}

async fn birthday_and_anniversary_gifts_are_given_once_a_year(e: Engine) {
    let t = spawn_app(e).await;
    let coupon = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
            .await,
    )
    .await;
    let birthday = ok_json(
        t.post(
            "/api/v1/loyalty/gifts",
            &t.admin,
            json!({"name": "生日礼", "kind": "birthday", "mode": "month",
                   "coupon_template_id": coupon, "points": 100, "gift_fen": 500}),
        )
        .await,
    )
    .await;
    let anniversary = ok_json(
        t.post(
            "/api/v1/loyalty/gifts",
            &t.admin,
            json!({"name": "入会周年礼", "kind": "anniversary", "mode": "day", "gift_fen": 300}),
        )
        .await,
    )
    .await;
    assert_eq!(birthday["status"], json!("active"));

    let now = chrono::Utc::now().with_timezone(&Shanghai);
    let month = now.month();
    let other = month % 12 + 1;
    // Born this month / another month.
    let born = customer_with_phone(&t, "13800020001", "本月生日").await;
    set_birthday(&t, born, &format!("1990-{month:02}-01")).await;
    let not_born = customer_with_phone(&t, "13800020002", "别月生日").await;
    set_birthday(&t, not_born, &format!("1990-{other:02}-01")).await;
    // Joined a year ago today (a leap day falls back four years) / joined today.
    let veteran = customer_with_phone(&t, "13800020003", "老会员").await;
    let joined = now
        .with_year(now.year() - 1)
        .or_else(|| now.with_year(now.year() - 4))
        .unwrap()
        .timestamp_millis();
    crate::acquisition::run_sql(
        &t,
        &format!("UPDATE customers SET created_at = {joined} WHERE id = {veteran}"),
    )
    .await;
    let newcomer = customer_with_phone(&t, "13800020004", "新会员").await;

    // The run, started from the API, as a job.
    let r = t
        .post("/api/v1/loyalty/gifts/runs", &t.admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    t.settle_jobs().await;
    assert_eq!(gift_fen(&t, born).await, 500);
    assert_eq!(points(&t, born).await, 100);
    let coupons = |c: i64| format!("SELECT COUNT(*) FROM coupons WHERE customer_id = {c}");
    assert_eq!(scalar(&t, &coupons(born)).await, 1);
    assert_eq!(gift_fen(&t, not_born).await, 0);
    assert_eq!(gift_fen(&t, veteran).await, 300);
    assert_eq!(gift_fen(&t, newcomer).await, 0);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM member_gift_grants").await,
        2
    );
    // Run again (twice): nothing more.
    t.app.gifts().run_now(None).await.unwrap();
    t.app.gifts().run_now(None).await.unwrap();
    assert_eq!(gift_fen(&t, born).await, 500);
    assert_eq!(points(&t, born).await, 100);
    assert_eq!(scalar(&t, &coupons(born)).await, 1);
    assert_eq!(gift_fen(&t, veteran).await, 300);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM member_gift_grants").await,
        2
    );
    // The daily run is queued once a day, whatever the minute ticks.
    t.app.gifts().schedule_daily().await.unwrap();
    t.app.gifts().schedule_daily().await.unwrap();
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'member_gifts' AND idempotency_key NOT LIKE '%manual%'"
        )
        .await,
        1
    );
    t.settle_jobs().await;
    assert_eq!(gift_fen(&t, born).await, 500);
    // The grants list names them.
    let g = ok_json(t.get("/api/v1/loyalty/gifts/grants", &t.admin).await).await;
    let mut keys: Vec<String> = g
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["grant_key"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    let year = now.year();
    let mut want = vec![
        format!("birthday:{born}:{year}:{}", birthday["id"]),
        format!("anniversary:{veteran}:{year}:{}", anniversary["id"]),
    ];
    want.sort();
    assert_eq!(keys, want);
    // A year later (the grants moved a year back): given again, once.
    t.exec("UPDATE member_gift_grants SET grant_key = grant_key || ':last', year = year - 1")
        .await;
    t.app.gifts().run_now(None).await.unwrap();
    t.app.gifts().run_now(None).await.unwrap();
    assert_eq!(gift_fen(&t, born).await, 1_000);
    assert_eq!(points(&t, born).await, 200);
    assert_eq!(scalar(&t, &coupons(born)).await, 2);
    assert_eq!(gift_fen(&t, veteran).await, 600);
    // An archived rule gives nothing.
    let id = birthday["id"].as_i64().unwrap();
    let r = t
        .send_json(
            Method::DELETE,
            &format!("/api/v1/loyalty/gifts/{id}"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(ok_json(r).await["status"], json!("archived"));
    t.exec(
        "DELETE FROM member_gift_grants WHERE kind = 'birthday' AND grant_key NOT LIKE '%:last'",
    )
    .await;
    t.app.gifts().run_now(None).await.unwrap();
    assert_eq!(gift_fen(&t, born).await, 1_000);
    let l = ok_json(t.get("/api/v1/stored-value/liability", &t.admin).await).await;
    assert_eq!(l["balanced"], json!(true), "{l}");
    assert!(
        t.audit_actions()
            .await
            .contains(&"member_gifts_changed".to_owned())
    );
}

async fn bad_gift_rules_are_refused_naming_the_field(e: Engine) {
    let t = spawn_app(e).await;
    for (body, field, code) in [
        (
            json!({"name": "x", "kind": "wedding", "mode": "month", "points": 1}),
            "kind",
            "invalid_gift_kind",
        ),
        (
            json!({"name": "x", "kind": "birthday", "mode": "week", "points": 1}),
            "mode",
            "invalid_gift_mode",
        ),
        (
            json!({"name": "x", "kind": "birthday", "mode": "day"}),
            "gift_fen",
            "empty_reward",
        ),
        (
            json!({"name": "", "kind": "birthday", "mode": "day", "points": 1}),
            "name",
            "required",
        ),
        (
            json!({"name": "x", "kind": "birthday", "mode": "day", "points": -1}),
            "points",
            "invalid_points",
        ),
        (
            json!({"name": "x", "kind": "birthday", "mode": "day", "coupon_template_id": 999_999}),
            "coupon_template_id",
            "unknown_reference",
        ),
    ] {
        let r = t
            .post("/api/v1/loyalty/gifts", &t.admin, body.clone())
            .await;
        assert_eq!(
            error_of(r).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                code.into(),
                Some(field.into())
            ),
            "{body}"
        );
    }
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM member_gift_rules").await,
        0
    );
    // Updating a rule that does not exist: 404.
    let r = t
        .send_json(
            Method::PUT,
            "/api/v1/loyalty/gifts/999999",
            &t.admin,
            json!({"name": "x", "kind": "birthday", "mode": "day", "points": 1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// `GET /api/v1/public/me/gifts`: the signed-in customer's own gifts with what each gave —
/// the rule's name, the coupon's name, the points and the stored-value gift — and nobody
/// else's; no token is 401.
async fn a_customer_reads_the_gifts_given_to_them(e: Engine) {
    let t = spawn_app(e).await;
    let coupon = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
            .await,
    )
    .await;
    ok_json(
        t.post(
            "/api/v1/loyalty/gifts",
            &t.admin,
            json!({"name": "生日礼", "kind": "birthday", "mode": "month",
                   "coupon_template_id": coupon, "points": 100, "gift_fen": 500}),
        )
        .await,
    )
    .await;
    let now = chrono::Utc::now().with_timezone(&Shanghai);
    let month = now.month();
    let born = customer_with_phone(&t, "13800020011", "本月生日").await;
    set_birthday(&t, born, &format!("1990-{month:02}-01")).await;
    let other = customer_with_phone(&t, "13800020012", "别的顾客").await;
    set_birthday(&t, other, &format!("1990-{:02}-01", month % 12 + 1)).await;

    // Before the run: nothing yet.
    let tok = token(&t, born).await;
    let mine = ok_json(t.get("/api/v1/public/me/gifts", &tok).await).await;
    assert_eq!(mine, json!([]));

    t.app.gifts().run_now(None).await.unwrap();
    let mine = ok_json(t.get("/api/v1/public/me/gifts", &tok).await).await;
    let list = mine.as_array().unwrap();
    assert_eq!(list.len(), 1, "{mine}");
    let g = &list[0];
    assert_eq!(g["kind"], json!("birthday"));
    assert_eq!(g["year"], json!(i64::from(now.year())));
    assert_eq!(g["name"], json!("生日礼"));
    assert_eq!(g["coupon_template_id"], json!(coupon));
    assert_eq!(g["coupon_name"], json!("周二会员日 满50减10"));
    assert_eq!(
        (g["points"].as_i64(), g["gift_fen"].as_i64()),
        (Some(100), Some(500))
    );
    assert_eq!(g["coupon_done"], json!(1));
    assert!(g["created_at"].as_i64().unwrap() > 0);
    assert!(
        g.get("grant_key").is_none() && g.get("customer_id").is_none(),
        "{g}"
    );

    // Another customer sees none of it.
    let other_tok = token(&t, other).await;
    let theirs = ok_json(t.get("/api/v1/public/me/gifts", &other_tok).await).await;
    assert_eq!(theirs, json!([]));
    // No customer token, or a staff token: 401.
    let r = t
        .req(Method::GET, "/api/v1/public/me/gifts", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = t.get("/api/v1/public/me/gifts", &t.admin).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
