//! The console forms of the stored-value top-up gift rules and the member gift rules (issue
//! #22 item 7): created, refused per field with the values typed kept and nothing written,
//! edited, archived after the confirmation page, audited; a guide sees no form and is refused.

use reqwest::StatusCode;

use crate::acquisition::scalar;
use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form};
use crate::helpers::{Engine, TestApp, spawn_app};
use crate::promotions::{created_id, template};

both_engines!(
    console_top_up_gift_rules_are_created_edited_and_archived,
    console_member_gift_rules_are_created_edited_and_archived,
);

/// A form post: the csrf token and the fields.
fn form(csrf: &str, fields: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut f = vec![("csrf", csrf.to_owned())];
    f.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    f
}

async fn post(
    t: &TestApp,
    cookie: &str,
    path: &str,
    f: &[(&'static str, String)],
) -> (StatusCode, String, String) {
    let r = post_form(t, cookie, path, f).await;
    let status = r.status();
    let to = r
        .headers()
        .get("location")
        .map(|_| location(&r))
        .unwrap_or_default();
    (status, to, r.text().await.unwrap())
}

/// The audit entries of `action` by the console user `actor` on `target`.
async fn audited(t: &TestApp, action: &str, actor: &str, target: &str) -> usize {
    let r = t.get("/api/v1/audit?page_size=200", &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] == action && i["actor_name"] == actor && i["target"] == target)
        .count()
}

/// A guide: no buttons, the form's posts and the archive refused, nothing written.
async fn guide_is_refused(t: &TestApp, path: &str, rules: &str, id: i64, form_id: &str) {
    let store = t.store("LOYALTY-G").await;
    t.staff("loyalty.guide", "guide", Some(store)).await;
    let cookie = console_login(t, "loyalty.guide").await;
    let (s, html) = page(t, &cookie, path).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("data-rule=\"{id}\"")), "{html}");
    assert!(!html.contains(&format!("id=\"{form_id}\"")), "{html}");
    assert!(!html.contains("data-edit="), "{html}");
    assert!(!html.contains("data-archive="), "{html}");
    let csrf = csrf_in(&html);
    let before = scalar(t, &format!("SELECT COUNT(*) FROM {rules}")).await;
    let updated = scalar(t, &format!("SELECT MAX(updated_at) FROM {rules}")).await;
    for target in [
        format!("{path}/rules"),
        format!("{path}/rules/{id}"),
        format!("{path}/rules/{id}/archive"),
    ] {
        let (s, _, _) = post(
            t,
            &cookie,
            &target,
            &form(
                &csrf,
                &[
                    ("name", "导购规则"),
                    ("min_top_up_fen", "100"),
                    ("kind", "birthday"),
                    ("mode", "month"),
                    ("points", "5"),
                ],
            ),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{target}");
    }
    let (s, _) = page(t, &cookie, &format!("{path}/rules/{id}/archive")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        scalar(t, &format!("SELECT COUNT(*) FROM {rules}")).await,
        before
    );
    assert_eq!(
        scalar(t, &format!("SELECT MAX(updated_at) FROM {rules}")).await,
        updated
    );
}

async fn console_top_up_gift_rules_are_created_edited_and_archived(e: Engine) {
    let t = spawn_app(e).await;
    let coupon = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
            .await,
    )
    .await;
    t.staff("sv.ops", "operator", None).await;
    let cookie = console_login(&t, "sv.ops").await;
    let path = "/console/loyalty/stored-value";
    let (s, html) = page(&t, &cookie, path).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"sv-rule-form\""), "{html}");
    assert!(
        html.contains("action=\"/console/loyalty/stored-value/rules\""),
        "{html}"
    );
    assert!(html.contains("新建充值赠送规则"), "{html}");
    let csrf = csrf_in(&html);
    let create = format!("{path}/rules");
    let coupon_s = coupon.to_string();

    // Refused: the field named, the values typed kept, nothing written.
    let cases: Vec<(Vec<(&'static str, &str)>, &str)> = vec![
        (
            vec![
                ("name", "满减门槛零"),
                ("min_top_up_fen", "0"),
                ("gift_fen", "500"),
            ],
            "min_top_up_fen",
        ),
        (
            vec![
                ("name", "负门槛"),
                ("min_top_up_fen", "-100"),
                ("gift_fen", "500"),
            ],
            "min_top_up_fen",
        ),
        (
            vec![
                ("name", "门槛文字"),
                ("min_top_up_fen", "一百"),
                ("gift_fen", "500"),
            ],
            "min_top_up_fen",
        ),
        (
            vec![
                ("name", "什么都不送"),
                ("min_top_up_fen", "10000"),
                ("gift_fen", "0"),
            ],
            "gift_fen",
        ),
        (
            vec![
                ("name", "负赠送"),
                ("min_top_up_fen", "10000"),
                ("gift_fen", "-1"),
            ],
            "gift_fen",
        ),
        (
            vec![
                ("name", "负积分"),
                ("min_top_up_fen", "10000"),
                ("points", "-5"),
            ],
            "points",
        ),
        (
            vec![
                ("name", "无此券"),
                ("min_top_up_fen", "10000"),
                ("coupon_template_id", "99999"),
            ],
            "coupon_template_id",
        ),
        (
            vec![
                ("name", ""),
                ("min_top_up_fen", "10000"),
                ("gift_fen", "500"),
            ],
            "name",
        ),
    ];
    for (fields, field) in cases {
        let (s, _, html) = post(&t, &cookie, &create, &form(&csrf, &fields)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {html}");
        assert!(
            html.contains(&format!("data-field=\"{field}\"")),
            "{field}: {html}"
        );
        for (k, v) in &fields {
            if !v.is_empty() {
                assert!(
                    html.contains(&format!("name=\"{k}\" value=\"{v}\"")),
                    "{k}={v}: {html}"
                );
            }
        }
    }
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM stored_value_gift_rules").await,
        0
    );
    assert_eq!(
        t.audit_actions()
            .await
            .iter()
            .filter(|a| *a == "stored_value_changed")
            .count(),
        0
    );

    // Created: back to the page, listed, audited.
    let (s, to, _) = post(
        &t,
        &cookie,
        &create,
        &form(
            &csrf,
            &[
                ("name", "充300送30"),
                ("min_top_up_fen", "30000"),
                ("gift_fen", "3000"),
                ("points", "50"),
                ("coupon_template_id", &coupon_s),
                ("active", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(
        (s, to.as_str()),
        (
            StatusCode::SEE_OTHER,
            "/console/loyalty/stored-value?ok=saved"
        )
    );
    let id = scalar(&t, "SELECT MAX(id) FROM stored_value_gift_rules").await;
    let v: serde_json::Value = t
        .get("/api/v1/stored-value/top-up-gifts", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v[0]["name"], "充300送30", "{v}");
    assert_eq!(v[0]["min_top_up_fen"], 30000);
    assert_eq!(v[0]["gift_fen"], 3000);
    assert_eq!(v[0]["points"], 50);
    assert_eq!(v[0]["coupon_template_id"], coupon);
    assert_eq!(v[0]["status"], "active");
    for lang in ["zh", "en"] {
        let (s, html) = page(
            &t,
            &format!("{cookie}; yutang_lang={lang}"),
            &format!("{path}?ok=saved"),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            html.contains(&format!("data-rule=\"{id}\" data-status=\"active\"")),
            "{html}"
        );
        assert!(html.contains("¥300.00"), "{html}");
        assert!(
            html.contains(&format!(
                "href=\"/console/loyalty/stored-value?edit={id}#sv-rule-form\""
            )),
            "{html}"
        );
        if lang == "en" {
            assert!(html.contains("New top-up gift rule"), "{html}");
        }
    }
    assert_eq!(
        audited(
            &t,
            "stored_value_changed",
            "sv.ops",
            &format!("stored_value_gift_rule:{id}")
        )
        .await,
        1
    );

    // Edited: the form carries the rule; a bad value refused and nothing changed; then saved.
    let (s, html) = page(&t, &cookie, &format!("{path}?edit={id}")).await;
    assert_eq!(s, StatusCode::OK);
    let update = format!("{path}/rules/{id}");
    assert!(html.contains(&format!("action=\"{update}\"")), "{html}");
    assert!(
        html.contains("name=\"min_top_up_fen\" value=\"30000\""),
        "{html}"
    );
    assert!(html.contains("编辑规则：充300送30"), "{html}");
    let (s, _, html) = post(
        &t,
        &cookie,
        &update,
        &form(
            &csrf,
            &[
                ("name", "充300送30"),
                ("min_top_up_fen", "-1"),
                ("gift_fen", "3000"),
                ("active", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("data-field=\"min_top_up_fen\""), "{html}");
    assert!(html.contains(&format!("action=\"{update}\"")), "{html}");
    assert_eq!(
        scalar(&t, "SELECT min_top_up_fen FROM stored_value_gift_rules").await,
        30000
    );
    let (s, to, _) = post(
        &t,
        &cookie,
        &update,
        &form(
            &csrf,
            &[
                ("name", "充500送60"),
                ("min_top_up_fen", "50000"),
                ("gift_fen", "6000"),
                ("points", ""),
                ("coupon_template_id", ""),
                ("active", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(
        (s, to.as_str()),
        (
            StatusCode::SEE_OTHER,
            "/console/loyalty/stored-value?ok=saved"
        )
    );
    assert_eq!(
        scalar(&t, "SELECT min_top_up_fen FROM stored_value_gift_rules").await,
        50000
    );
    assert_eq!(
        scalar(&t, "SELECT points FROM stored_value_gift_rules").await,
        0
    );
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM stored_value_gift_rules WHERE coupon_template_id IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        audited(
            &t,
            "stored_value_changed",
            "sv.ops",
            &format!("stored_value_gift_rule:{id}")
        )
        .await,
        2
    );

    // Archived after the confirmation page; no archive button then.
    let (s, html) = page(&t, &cookie, &format!("{path}/rules/{id}/archive")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("data-outcome=\"archive\""), "{html}");
    assert!(html.contains("充500送60"), "{html}");
    assert!(
        html.contains("充值满 ¥500.00 的充值将不再获得此规则的赠送"),
        "{html}"
    );
    assert!(!html.contains("??"), "{html}");
    assert!(
        html.contains(&format!("action=\"{path}/rules/{id}/archive\"")),
        "{html}"
    );
    let (s, to, _) = post(
        &t,
        &cookie,
        &format!("{path}/rules/{id}/archive"),
        &form(&csrf, &[]),
    )
    .await;
    assert_eq!(
        (s, to.as_str()),
        (
            StatusCode::SEE_OTHER,
            "/console/loyalty/stored-value?ok=archived"
        )
    );
    let (_, html) = page(&t, &cookie, path).await;
    assert!(
        html.contains(&format!("data-rule=\"{id}\" data-status=\"archived\"")),
        "{html}"
    );
    assert!(!html.contains(&format!("data-archive=\"{id}\"")), "{html}");
    assert_eq!(
        audited(
            &t,
            "stored_value_changed",
            "sv.ops",
            &format!("stored_value_gift_rule:{id}")
        )
        .await,
        3
    );
    // An unknown rule: 404, a form without the session's token: 403.
    let (s, _) = page(&t, &cookie, &format!("{path}/rules/99999/archive")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = post(
        &t,
        &cookie,
        &create,
        &form(
            "nope",
            &[("name", "x"), ("min_top_up_fen", "100"), ("gift_fen", "1")],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM stored_value_gift_rules").await,
        1
    );

    guide_is_refused(&t, path, "stored_value_gift_rules", id, "sv-rule-form").await;
}

async fn console_member_gift_rules_are_created_edited_and_archived(e: Engine) {
    let t = spawn_app(e).await;
    let coupon = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(100, 50))
            .await,
    )
    .await;
    t.staff("gift.admin", "admin", None).await;
    let cookie = console_login(&t, "gift.admin").await;
    let path = "/console/loyalty/gifts";
    let (s, html) = page(&t, &cookie, path).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"gift-rule-form\""), "{html}");
    assert!(html.contains("新建会员礼规则"), "{html}");
    let csrf = csrf_in(&html);
    let create = format!("{path}/rules");
    let coupon_s = coupon.to_string();

    let cases: Vec<(Vec<(&'static str, &str)>, &str)> = vec![
        (
            vec![
                ("name", "生日无礼"),
                ("kind", "birthday"),
                ("mode", "month"),
                ("points", "0"),
            ],
            "gift_fen",
        ),
        (
            vec![
                ("name", "生日负分"),
                ("kind", "birthday"),
                ("mode", "month"),
                ("points", "-10"),
            ],
            "points",
        ),
        (
            vec![
                ("name", "生日文字"),
                ("kind", "birthday"),
                ("mode", "day"),
                ("points", "十"),
            ],
            "points",
        ),
        (
            vec![
                ("name", "节日"),
                ("kind", "festival"),
                ("mode", "month"),
                ("points", "10"),
            ],
            "kind",
        ),
        (
            vec![
                ("name", "每周"),
                ("kind", "anniversary"),
                ("mode", "week"),
                ("points", "10"),
            ],
            "mode",
        ),
        (
            vec![
                ("name", "无此券"),
                ("kind", "birthday"),
                ("mode", "month"),
                ("coupon_template_id", "99999"),
            ],
            "coupon_template_id",
        ),
        (
            vec![
                ("name", "负赠送"),
                ("kind", "birthday"),
                ("mode", "month"),
                ("gift_fen", "-100"),
            ],
            "gift_fen",
        ),
    ];
    for (fields, field) in cases {
        let (s, _, html) = post(&t, &cookie, &create, &form(&csrf, &fields)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {html}");
        assert!(
            html.contains(&format!("data-field=\"{field}\"")),
            "{field}: {html}"
        );
        let name = fields[0].1;
        assert!(
            html.contains(&format!("name=\"name\" value=\"{name}\"")),
            "{html}"
        );
    }
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM member_gift_rules").await,
        0
    );
    assert_eq!(
        t.audit_actions()
            .await
            .iter()
            .filter(|a| *a == "member_gifts_changed")
            .count(),
        0
    );

    // Created.
    let (s, to, _) = post(
        &t,
        &cookie,
        &create,
        &form(
            &csrf,
            &[
                ("name", "生日礼"),
                ("kind", "birthday"),
                ("mode", "day"),
                ("points", "200"),
                ("coupon_template_id", &coupon_s),
                ("gift_fen", ""),
                ("active", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(
        (s, to.as_str()),
        (StatusCode::SEE_OTHER, "/console/loyalty/gifts?ok=saved")
    );
    let id = scalar(&t, "SELECT MAX(id) FROM member_gift_rules").await;
    let v: serde_json::Value = t
        .get("/api/v1/loyalty/gifts", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v[0]["name"], "生日礼", "{v}");
    assert_eq!(v[0]["kind"], "birthday");
    assert_eq!(v[0]["mode"], "day");
    assert_eq!(v[0]["points"], 200);
    assert_eq!(v[0]["gift_fen"], 0);
    assert_eq!(v[0]["coupon_template_id"], coupon);
    for lang in ["zh", "en"] {
        let (s, html) = page(&t, &format!("{cookie}; yutang_lang={lang}"), path).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            html.contains(&format!(
                "data-rule=\"{id}\" data-kind=\"birthday\" data-status=\"active\""
            )),
            "{html}"
        );
        if lang == "en" {
            assert!(html.contains("New member gift rule"), "{html}");
        }
    }
    assert_eq!(
        audited(
            &t,
            "member_gifts_changed",
            "gift.admin",
            &format!("member_gift_rule:{id}")
        )
        .await,
        1
    );

    // Edited: the form carries the rule (its kind and mode selected); refused, then saved.
    let (s, html) = page(&t, &cookie, &format!("{path}?edit={id}")).await;
    assert_eq!(s, StatusCode::OK);
    let update = format!("{path}/rules/{id}");
    assert!(html.contains(&format!("action=\"{update}\"")), "{html}");
    assert!(html.contains("<option value=\"day\" selected>"), "{html}");
    assert!(html.contains("name=\"points\" value=\"200\""), "{html}");
    let (s, _, html) = post(
        &t,
        &cookie,
        &update,
        &form(
            &csrf,
            &[
                ("name", "生日礼"),
                ("kind", "birthday"),
                ("mode", "day"),
                ("points", "0"),
                ("coupon_template_id", ""),
                ("gift_fen", "0"),
                ("active", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("data-field=\"gift_fen\""), "{html}");
    assert_eq!(
        scalar(&t, "SELECT points FROM member_gift_rules").await,
        200
    );
    let (s, to, _) = post(
        &t,
        &cookie,
        &update,
        &form(
            &csrf,
            &[
                ("name", "入会周年礼"),
                ("kind", "anniversary"),
                ("mode", "month"),
                ("points", "100"),
                ("coupon_template_id", ""),
                ("gift_fen", "500"),
                ("active", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(
        (s, to.as_str()),
        (StatusCode::SEE_OTHER, "/console/loyalty/gifts?ok=saved")
    );
    let v: serde_json::Value = t
        .get("/api/v1/loyalty/gifts", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v[0]["kind"], "anniversary", "{v}");
    assert_eq!(v[0]["mode"], "month");
    assert_eq!(v[0]["gift_fen"], 500);
    assert!(v[0]["coupon_template_id"].is_null());
    assert_eq!(
        audited(
            &t,
            "member_gifts_changed",
            "gift.admin",
            &format!("member_gift_rule:{id}")
        )
        .await,
        2
    );

    // Archived after the confirmation page.
    let (s, html) = page(&t, &cookie, &format!("{path}/rules/{id}/archive")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("data-outcome=\"archive\""), "{html}");
    assert!(html.contains("入会周年礼"), "{html}");
    assert!(html.contains("每日任务将不再发放此入会周年礼"), "{html}");
    assert!(html.contains("已经发放的赠送保持不变"), "{html}");
    assert!(!html.contains("??"), "{html}");
    let (s, to, _) = post(
        &t,
        &cookie,
        &format!("{path}/rules/{id}/archive"),
        &form(&csrf, &[]),
    )
    .await;
    assert_eq!(
        (s, to.as_str()),
        (StatusCode::SEE_OTHER, "/console/loyalty/gifts?ok=archived")
    );
    let (_, html) = page(&t, &cookie, path).await;
    assert!(
        html.contains(&format!(
            "data-rule=\"{id}\" data-kind=\"anniversary\" data-status=\"archived\""
        )),
        "{html}"
    );
    assert_eq!(
        audited(
            &t,
            "member_gifts_changed",
            "gift.admin",
            &format!("member_gift_rule:{id}")
        )
        .await,
        3
    );

    guide_is_refused(&t, path, "member_gift_rules", id, "gift-rule-form").await;
}
