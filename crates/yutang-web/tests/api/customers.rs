use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, error_of, spawn_app};

both_engines!(
    ingest_creates_attaches_and_normalises_phones,
    merges_move_everything_and_chain,
    conflicting_identities_refuse_to_merge,
    profile_and_typed_attributes,
    follows_have_one_owner,
    phones_are_masked_and_reveals_audited,
    guide_never_sees_another_guides_customer,
    merged_customers_coupons_follow,
    concurrent_first_follows_make_one_owner,
    overlapping_merges_leave_nothing_on_a_merged_customer,
    search_by_phone_suffix_prefix_identity_and_order,
);

/// Ingest a customer as the admin token; returns the response body.
pub async fn ingest(t: &TestApp, body: Value) -> Value {
    let r = t.post("/api/v1/customers", &t.admin, body).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    r.json().await.unwrap()
}

pub async fn customer_with_phone(t: &TestApp, phone: &str, name: &str) -> i64 {
    ingest(
        t,
        json!({"identities": [{"kind": "phone", "value": phone}], "name": name}),
    )
    .await["customer"]["id"]
        .as_i64()
        .unwrap()
}

pub async fn follow(t: &TestApp, customer: i64, staff: i64) {
    let r = t
        .post(
            &format!("/api/v1/customers/{customer}/follows"),
            &t.admin,
            json!({"staff_id": staff, "remark": "老客户"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
}

async fn get_json(t: &TestApp, path: &str, token: &str) -> Value {
    let r = t.get(path, token).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}: {:?}", r.text().await);
    r.json().await.unwrap()
}

async fn timeline_kinds(t: &TestApp, id: i64) -> Vec<String> {
    let v = get_json(
        t,
        &format!("/api/v1/customers/{id}/timeline?page_size=200"),
        &t.admin,
    )
    .await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn ingest_creates_attaches_and_normalises_phones(e: Engine) {
    let t = spawn_app(e).await;
    let r = t
        .post(
            "/api/v1/customers",
            &t.admin,
            json!({"identities": [{"kind": "phone", "value": "+86 138-0013-8000"}], "name": "王芳", "city": "上海"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["outcome"], "created");
    assert_eq!(v["customer"]["phone"], "138****8000");
    let id = v["customer"]["id"].as_i64().unwrap();
    // Same phone in another format plus a unionid: attaches to the same customer.
    let r = t
        .post(
            "/api/v1/customers",
            &t.admin,
            json!({"identities": [{"kind": "phone", "value": "138 0013 8000"}, {"kind": "unionid", "value": "oUnion1"}], "member_level": "金卡"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["outcome"], "attached");
    assert_eq!(v["customer"]["id"], id);
    assert_eq!(v["customer"]["member_level"], "金卡");
    assert_eq!(v["customer"]["name"], "王芳");
    // Search by the phone in any format, by identity value and by name.
    for q in ["13800138000", "+86%20138-0013-8000", "oUnion1", "王"] {
        let v = get_json(&t, &format!("/api/v1/customers?q={q}"), &t.admin).await;
        assert_eq!(v["total"], 1, "{q}");
        assert_eq!(v["items"][0]["id"], id);
    }
    let v = get_json(&t, "/api/v1/customers?identity_kind=unionid", &t.admin).await;
    assert_eq!(v["total"], 1);
    let v = get_json(&t, "/api/v1/customers?city=北京", &t.admin).await;
    assert_eq!(v["total"], 0);
    // Bad input: each names its field, nothing is written.
    for (body, code, field) in [
        (
            json!({"identities": [{"kind": "phone", "value": "12345"}]}),
            "invalid_phone",
            "value",
        ),
        (
            json!({"identities": [{"kind": "email", "value": "a@b"}]}),
            "invalid_identity_kind",
            "kind",
        ),
        (
            json!({"identities": [{"kind": "openid", "value": "o1"}]}),
            "namespace_required",
            "namespace",
        ),
        (json!({"identities": []}), "identity_required", "identities"),
        (
            json!({"identities": [{"kind": "unionid", "value": "x"}], "birthday": "1990-13-01"}),
            "invalid_date",
            "birthday",
        ),
    ] {
        let (s, c, f) = error_of(t.post("/api/v1/customers", &t.admin, body).await).await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field))
        );
    }
    let v = get_json(&t, "/api/v1/customers", &t.admin).await;
    assert_eq!(v["total"], 1);
    // The identities list shows kinds, strength and masked phones.
    let v = get_json(&t, &format!("/api/v1/customers/{id}/identities"), &t.admin).await;
    let kinds: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["phone", "unionid"]);
    assert_eq!(v[0]["value"], "138****8000");
    assert_eq!(v[0]["strong"], true);
    let kinds = timeline_kinds(&t, id).await;
    assert!(kinds.contains(&"created".to_owned()) && kinds.contains(&"identity_added".to_owned()));
}

async fn merges_move_everything_and_chain(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("SH-001").await;
    let g1 = t.staff("sh.g1", "guide", Some(store)).await;
    let g2 = t.staff("sh.g2", "guide", Some(store)).await;
    let a = customer_with_phone(&t, "13900000001", "甲").await;
    let b = ingest(
        &t,
        json!({"identities": [{"kind": "unionid", "value": "uB"}], "city": "杭州"}),
    )
    .await["customer"]["id"]
        .as_i64()
        .unwrap();
    let c = ingest(
        &t,
        json!({"identities": [{"kind": "pos_member", "value": "POS-9"}]}),
    )
    .await["customer"]["id"]
        .as_i64()
        .unwrap();
    follow(&t, a, g1).await;
    follow(&t, b, g1).await;
    follow(&t, b, g2).await;
    // An order and an event on B.
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": "O-B1", "customer_id": b, "channel": "store", "store_id": store,
                   "lines": [{"sku": "S1", "name": "车厘子", "quantity": 2, "unit_price_fen": 9900}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [{"id": "ev-b-1", "kind": "check_in", "customer_id": b}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Evidence: a record carrying A's phone and B's unionid merges them; A (older) survives.
    let v = ingest(
        &t,
        json!({"identities": [{"kind": "phone", "value": "139 0000 0001"}, {"kind": "unionid", "value": "uB"}]}),
    )
    .await;
    assert_eq!(v["outcome"], "merged");
    assert_eq!(v["customer"]["id"], a);
    assert_eq!(v["merged"], json!([b]));
    // Profile blanks filled from the loser, aggregates moved.
    assert_eq!(v["customer"]["city"], "杭州");
    assert_eq!(v["customer"]["order_count"], 1);
    assert_eq!(v["customer"]["total_spend_fen"], 19800);
    // The loser's id resolves to the survivor.
    let v = get_json(&t, &format!("/api/v1/customers/{b}"), &t.admin).await;
    assert_eq!(v["customer"]["id"], a);
    assert_eq!(v["identities"].as_array().unwrap().len(), 2);
    // g1 followed both: one relation kept; g2's moved.
    let follows = v["follows"].as_array().unwrap();
    assert_eq!(follows.len(), 2);
    assert_eq!(
        follows.iter().filter(|f| f["is_owner"] == true).count(),
        1,
        "{follows:?}"
    );
    assert_eq!(v["recent_orders"][0]["external_id"], "O-B1");
    let kinds = timeline_kinds(&t, a).await;
    assert!(kinds.contains(&"merged".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"check_in".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"order_paid".to_owned()), "{kinds:?}");
    // The loser's own timeline records the merge too (read through the store: its id resolves).
    let (rows, _) = yutang_store::events::timeline(&t.app.db, b, Some("merged_into"), 10, 0)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    // Chain: B (now A) + C → C into A.
    let r = t
        .post(
            &format!("/api/v1/customers/{b}/merge"),
            &t.admin,
            json!({"other_id": c}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["survivor"].as_i64(), v["loser"].as_i64()),
        (Some(a), Some(c))
    );
    for id in [a, b, c] {
        let v = get_json(&t, &format!("/api/v1/customers/{id}"), &t.admin).await;
        assert_eq!(v["customer"]["id"], a);
        assert_eq!(v["identities"].as_array().unwrap().len(), 3);
    }
    // Events and orders sent with a merged id land on the survivor.
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [{"id": "ev-c-1", "kind": "page_view", "customer_id": c}]}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["results"][0]["customer_id"], a);
    let v = get_json(&t, &format!("/api/v1/orders?customer_id={b}"), &t.admin).await;
    assert_eq!(v["total"], 1);
    // Only live customers are listed; merging with itself is refused.
    let v = get_json(&t, "/api/v1/customers", &t.admin).await;
    assert_eq!(v["total"], 1);
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/merge"),
            &t.admin,
            json!({"other_id": b}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "same_customer");
    let merges = t
        .audit_actions()
        .await
        .into_iter()
        .filter(|a| a == "customer_merged")
        .count();
    assert_eq!(merges, 2);
}

async fn conflicting_identities_refuse_to_merge(e: Engine) {
    let t = spawn_app(e).await;
    let a = ingest(
        &t,
        json!({"identities": [{"kind": "unionid", "value": "u1"}]}),
    )
    .await["customer"]["id"]
        .as_i64()
        .unwrap();
    let b = ingest(
        &t,
        json!({"identities": [{"kind": "unionid", "value": "u2"}, {"kind": "phone", "value": "13700000002"}]}),
    )
    .await["customer"]["id"]
        .as_i64()
        .unwrap();
    // A record linking two different WeChat accounts is refused and changes nothing.
    let r = t
        .post(
            "/api/v1/customers",
            &t.admin,
            json!({"identities": [{"kind": "unionid", "value": "u1"}, {"kind": "phone", "value": "13700000002"}]}),
        )
        .await;
    let (s, code, _) = error_of(r).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::CONFLICT, "identity_conflict")
    );
    let v = get_json(&t, "/api/v1/customers", &t.admin).await;
    assert_eq!(v["total"], 2);
    // Adding a second unionid to a customer is refused; an identity of someone else too.
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/identities"),
            &t.admin,
            json!({"kind": "unionid", "value": "u3"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "identity_conflict");
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/identities"),
            &t.admin,
            json!({"kind": "phone", "value": "13700000002"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "identity_taken");
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/identities"),
            &t.admin,
            json!({"kind": "openid", "namespace": "wx0123456789abcdef", "value": "oX"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Manual merge refuses too, unless forced.
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/merge"),
            &t.admin,
            json!({"other_id": b}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "identity_conflict");
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/merge"),
            &t.admin,
            json!({"other_id": b, "force": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .post(
            "/api/v1/customers/999999/merge",
            &t.admin,
            json!({"other_id": a}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn profile_and_typed_attributes(e: Engine) {
    let t = spawn_app(e).await;
    for (body, status) in [
        (
            json!({"key": "baby_stage", "label": "宝宝阶段", "kind": "enum", "options": ["孕期", "0-6月", "6-12月"]}),
            StatusCode::CREATED,
        ),
        (
            json!({"key": "child_birthday", "label": "宝宝生日", "kind": "date"}),
            StatusCode::CREATED,
        ),
        (
            json!({"key": "kids", "label": "孩子数", "kind": "number"}),
            StatusCode::CREATED,
        ),
        (
            json!({"key": "kids", "label": "again", "kind": "number"}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"key": "Bad Key", "label": "x", "kind": "text"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = t.post("/api/v1/customer-attributes", &t.admin, body).await;
        assert_eq!(r.status(), status);
    }
    let v = ingest(
        &t,
        json!({"identities": [{"kind": "app_user", "value": "U1"}], "name": "李娜", "gender": "female",
               "birthday": "1992-03-04", "attributes": {"baby_stage": "0-6月", "kids": 1}}),
    )
    .await;
    let id = v["customer"]["id"].as_i64().unwrap();
    assert_eq!(v["customer"]["gender"], "female");
    assert_eq!(v["customer"]["birthday"], "1992-03-04");
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            &t.admin,
            json!({"birthday": null, "city": "成都", "attributes": {"child_birthday": "2025-08-01"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["birthday"], Value::Null);
    assert_eq!(v["city"], "成都");
    assert_eq!(v["name"], "李娜");
    let v = get_json(&t, &format!("/api/v1/customers/{id}"), &t.admin).await;
    let attrs: Vec<(String, String)> = v["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["key"].as_str().unwrap().to_owned(),
                a["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        attrs,
        [
            ("baby_stage".into(), "0-6月".into()),
            ("child_birthday".into(), "2025-08-01".into()),
            ("kids".into(), "1".into())
        ]
    );
    for (attrs, code) in [
        (json!({"baby_stage": "3岁"}), "invalid_attribute_value"),
        (json!({"child_birthday": "2025/08/01"}), "invalid_date"),
        (json!({"kids": "two"}), "invalid_attribute_value"),
        (json!({"nope": "x"}), "unknown_attribute"),
    ] {
        let r = t
            .send_json(
                Method::PATCH,
                &format!("/api/v1/customers/{id}"),
                &t.admin,
                json!({ "attributes": attrs }),
            )
            .await;
        let (s, c, f) = error_of(r).await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some("attributes"))
        );
    }
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            &t.admin,
            json!({"gender": "robot"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "invalid_gender");
}

async fn follows_have_one_owner(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("BJ-001").await;
    let g1 = t.staff("bj.g1", "guide", Some(store)).await;
    let g2 = t.staff("bj.g2", "guide", Some(store)).await;
    let ops = t.staff("ops.a", "operator", None).await;
    let c = customer_with_phone(&t, "13600000006", "赵敏").await;
    follow(&t, c, g1).await;
    follow(&t, c, g2).await;
    let v = get_json(&t, &format!("/api/v1/customers/{c}/follows"), &t.admin).await;
    let owners: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["is_owner"] == true)
        .map(|f| f["staff_id"].as_i64().unwrap())
        .collect();
    assert_eq!(owners, [g1]);
    assert_eq!(v[0]["remark"], "老客户");
    // Transfer ownership; the customer deletes g1.
    let r = t
        .post(
            &format!("/api/v1/customers/{c}/follows"),
            &t.admin,
            json!({"staff_id": g2, "owner": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .post(
            &format!("/api/v1/customers/{c}/follows"),
            &t.admin,
            json!({"staff_id": g1, "state": "deleted_by_customer"}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    let by: Vec<(i64, bool, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["staff_id"].as_i64().unwrap(),
                f["is_owner"].as_bool().unwrap(),
                f["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(by.contains(&(g2, true, "active".into())), "{by:?}");
    assert!(
        by.contains(&(g1, false, "deleted_by_customer".into())),
        "{by:?}"
    );
    let v = get_json(&t, &format!("/api/v1/customers/{c}"), &t.admin).await;
    assert_eq!(v["customer"]["owner_name"], "bj.g2");
    // Bad follows.
    for (body, code) in [
        (json!({"staff_id": ops}), "not_a_guide"),
        (json!({"staff_id": 99999}), "unknown_staff"),
        (
            json!({"staff_id": g1, "state": "gone"}),
            "invalid_follow_state",
        ),
    ] {
        let r = t
            .post(&format!("/api/v1/customers/{c}/follows"), &t.admin, body)
            .await;
        assert_eq!(error_of(r).await.1, code);
    }
    let kinds = timeline_kinds(&t, c).await;
    assert!(kinds.contains(&"followed".to_owned()) && kinds.contains(&"follow_changed".to_owned()));
}

async fn phones_are_masked_and_reveals_audited(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("GZ-001").await;
    let mgr = t.staff("gz.mgr", "store_manager", Some(store)).await;
    let g = t.staff("gz.g1", "guide", Some(store)).await;
    t.staff("bi.a", "analyst", None).await;
    let c = customer_with_phone(&t, "13512345678", "孙丽").await;
    follow(&t, c, g).await;
    let _ = mgr;
    let v = get_json(&t, &format!("/api/v1/customers/{c}"), &t.admin).await;
    assert_eq!(v["customer"]["phone"], "135****5678");
    assert_eq!(v["identities"][0]["value"], "135****5678");
    let body = t
        .get("/api/v1/customers", &t.admin)
        .await
        .text()
        .await
        .unwrap();
    assert!(!body.contains("13512345678"), "{body}");
    // Store manager (has the permission) reveals: audited.
    let token = t.login("gz.mgr").await;
    let r = t
        .post(
            &format!("/api/v1/customers/{c}/reveal-phone"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["phones"], json!(["13512345678"]));
    assert!(
        t.audit_actions()
            .await
            .contains(&"phone_revealed".to_owned())
    );
    // Guides and analysts may not.
    for who in ["gz.g1", "bi.a"] {
        let token = t.login(who).await;
        let r = t
            .post(
                &format!("/api/v1/customers/{c}/reveal-phone"),
                &token,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
    }
}

async fn guide_never_sees_another_guides_customer(e: Engine) {
    let t = spawn_app(e).await;
    let s1 = t.store("SZ-001").await;
    let s2 = t.store("SZ-002").await;
    let g1 = t.staff("s1.g1", "guide", Some(s1)).await;
    let g2 = t.staff("s1.g2", "guide", Some(s1)).await;
    let g3 = t.staff("s2.g1", "guide", Some(s2)).await;
    t.staff("s1.mgr", "store_manager", Some(s1)).await;
    let x = customer_with_phone(&t, "13300000001", "小明").await;
    let y = customer_with_phone(&t, "13300000002", "小红").await;
    let z = customer_with_phone(&t, "13300000003", "小刚").await;
    follow(&t, x, g1).await;
    follow(&t, y, g2).await;
    follow(&t, z, g3).await;
    let mut order_ids = vec![];
    for (n, c) in [x, y, z].into_iter().enumerate() {
        let r = t
            .post(
                "/api/v1/orders",
                &t.admin,
                json!({"external_id": format!("SCOPE-{n}"), "customer_id": c, "channel": "store",
                       "lines": [{"sku": "S", "name": "苹果", "quantity": 1, "unit_price_fen": 500}]}),
            )
            .await;
        let v: Value = r.json().await.unwrap();
        order_ids.push(v["order"]["id"].as_i64().unwrap());
    }
    let ids = |v: &Value| -> Vec<i64> {
        let mut v: Vec<i64> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect();
        v.sort();
        v
    };
    let tok = t.login("s1.g1").await;
    assert_eq!(ids(&get_json(&t, "/api/v1/customers", &tok).await), [x]);
    for path in [
        "/api/v1/customers?q=13300000002".to_owned(),
        "/api/v1/customers?q=小红".to_owned(),
        format!("/api/v1/customers?guide_id={g2}"),
        format!("/api/v1/customers?store_id={s2}"),
        "/api/v1/customers?min_orders=1&city=".to_owned(),
    ] {
        let v = get_json(&t, &path, &tok).await;
        assert!(
            !ids(&v).contains(&y) && !ids(&v).contains(&z),
            "{path}: {v}"
        );
    }
    for c in [y, z] {
        for suffix in ["", "/identities", "/follows", "/timeline"] {
            let r = t.get(&format!("/api/v1/customers/{c}{suffix}"), &tok).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{c}{suffix}");
        }
        let v = get_json(&t, &format!("/api/v1/orders?customer_id={c}"), &tok).await;
        assert_eq!(v["total"], 0);
    }
    for o in &order_ids[1..] {
        let r = t.get(&format!("/api/v1/orders/{o}"), &tok).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let v = get_json(&t, "/api/v1/orders", &tok).await;
    assert_eq!(ids(&v), [order_ids[0]]);
    // Guides cannot write customers, events or orders.
    let r = t
        .post(
            "/api/v1/customers",
            &tok,
            json!({"identities": [{"kind": "phone", "value": "13300000002"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .post(
            "/api/v1/events",
            &tok,
            json!({"events": [{"id": "g", "kind": "page_view", "customer_id": y}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The store manager sees their store's customers, not the other store's.
    let tok = t.login("s1.mgr").await;
    assert_eq!(ids(&get_json(&t, "/api/v1/customers", &tok).await), [x, y]);
    let r = t.get(&format!("/api/v1/customers/{z}"), &tok).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // When the customer deletes the guide, the guide loses sight of them.
    let r = t
        .post(
            &format!("/api/v1/customers/{x}/follows"),
            &t.admin,
            json!({"staff_id": g1, "state": "deleted_by_customer"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let tok = t.login("s1.g1").await;
    assert_eq!(get_json(&t, "/api/v1/customers", &tok).await["total"], 0);
    // HQ sees all three.
    assert_eq!(
        get_json(&t, "/api/v1/customers", &t.admin).await["total"],
        3
    );
}

/// Issue #16: after merging B into A, A's coupon list and `unused_coupons` ignored B's
/// coupons. Claims, coupons and flash-sale claims move to the survivor (claim numbers that
/// collide under UNIQUE (template, customer, seq) are renumbered).
async fn merged_customers_coupons_follow(e: Engine) {
    use crate::promotions::{flash_sale, template, token};
    let t = spawn_app(e).await;
    let a = ingest(
        &t,
        json!({"identities": [{"kind": "phone", "value": "13800000051"}]}),
    )
    .await["customer"]["id"]
        .as_i64()
        .unwrap();
    let b = ingest(
        &t,
        json!({"identities": [{"kind": "phone", "value": "13800000052"}]}),
    )
    .await["customer"]["id"]
        .as_i64()
        .unwrap();
    let new_template = || async {
        let r = t
            .post("/api/v1/coupon-templates", &t.admin, template(10, 1))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    };
    let (shared, only_b) = (new_template().await, new_template().await);
    for (tpl, c) in [(shared, a), (shared, b), (only_b, b)] {
        let r = t
            .post(
                &format!("/api/v1/coupon-templates/{tpl}/issue"),
                &t.admin,
                json!({"customer_id": c}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }
    let sale = t.post("/api/v1/flash-sales", &t.admin, flash_sale(5)).await;
    let sale = sale.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = t
        .req(
            Method::POST,
            &format!("/api/v1/public/flash-sales/{sale}/claim"),
            Some(&token(&t, b).await),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let count = |expr: &'static str| {
        let t = &t;
        async move {
            let r = t
                .post(
                    "/api/v1/segments/count",
                    &t.admin,
                    json!({"expression": expr}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()["count"].as_i64().unwrap()
        }
    };
    assert_eq!(count("unused_coupons >= 1").await, 2);
    assert_eq!(count("unused_coupons >= 3").await, 0);
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/merge"),
            &t.admin,
            json!({"other_id": b}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["survivor"].as_i64(), v["loser"].as_i64()),
        (Some(a), Some(b))
    );
    let coupons = get_json(&t, &format!("/api/v1/customers/{a}/coupons"), &t.admin).await;
    let coupons = coupons.as_array().unwrap();
    assert_eq!(coupons.len(), 3, "{coupons:?}");
    assert!(coupons.iter().all(|c| c["customer_id"] == a), "{coupons:?}");
    assert_eq!(count("unused_coupons >= 1").await, 1);
    assert_eq!(count("unused_coupons >= 3").await, 1);
    let held = match &t.app.db {
        yutang_store::Db::Sqlite(p) => sqlx::query_as::<_, (i64, i64)>(
            "SELECT (SELECT COUNT(*) FROM flash_sale_claims WHERE customer_id = $1), \
             (SELECT COUNT(DISTINCT seq) FROM coupon_claims WHERE customer_id = $1 AND template_id = $2)",
        )
        .bind(a)
        .bind(shared)
        .fetch_one(p)
        .await
        .unwrap(),
        yutang_store::Db::Postgres(p) => sqlx::query_as::<_, (i64, i64)>(
            "SELECT (SELECT COUNT(*) FROM flash_sale_claims WHERE customer_id = $1), \
             (SELECT COUNT(DISTINCT seq) FROM coupon_claims WHERE customer_id = $1 AND template_id = $2)",
        )
        .bind(a)
        .bind(shared)
        .fetch_one(p)
        .await
        .unwrap(),
    };
    assert_eq!(held, (1, 2));
}

/// Issue #16 audit: the first follow of a customer makes its guide the owner; several guides
/// adding the same new customer at once each read "no owner yet" and all became owners on
/// PostgreSQL. The customer row is locked now: exactly one owner, whatever the interleaving.
async fn concurrent_first_follows_make_one_owner(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("GZ-001").await;
    let mut guides = Vec::new();
    for i in 0..6 {
        guides.push(t.staff(&format!("gz.g{i}"), "guide", Some(store)).await);
    }
    for round in 0..5 {
        let c = customer_with_phone(&t, &format!("1370000{round:04}"), "客").await;
        let mut tasks = Vec::new();
        for g in &guides {
            let req = t
                .req(
                    Method::POST,
                    &format!("/api/v1/customers/{c}/follows"),
                    Some(&t.admin),
                )
                .json(&json!({"staff_id": g}));
            tasks.push(tokio::spawn(
                async move { req.send().await.unwrap().status() },
            ));
        }
        for task in tasks {
            assert!(task.await.unwrap().is_success());
        }
        let v = get_json(&t, &format!("/api/v1/customers/{c}/follows"), &t.admin).await;
        let follows = v.as_array().unwrap();
        assert_eq!(follows.len(), guides.len());
        let owners = follows.iter().filter(|f| f["is_owner"] == true).count();
        assert_eq!(owners, 1, "round {round}: {v}");
    }
}

/// Two merges that share a customer, A+B and B+C, sent at once: each locks both rows and
/// re-checks them, so the second either sees the first (409 `concurrent_merge`, or it merges
/// into the survivor it now resolves to) and never moves C onto a B that was merged away
/// meanwhile. Before, on PostgreSQL, C's identities could end on the merged B, out of the
/// survivor's reach. Invariant: every original id resolves to a live customer that holds its
/// phone.
async fn overlapping_merges_leave_nothing_on_a_merged_customer(e: Engine) {
    let t = spawn_app(e).await;
    for round in 0..8 {
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(customer_with_phone(&t, &format!("1361{round:03}{i:04}"), "客").await);
        }
        let merge = |a: i64, b: i64| {
            let req = t
                .req(
                    Method::POST,
                    &format!("/api/v1/customers/{a}/merge"),
                    Some(&t.admin),
                )
                .json(&json!({"other_id": b}));
            tokio::spawn(async move {
                let r = req.send().await.unwrap();
                let status = r.status();
                (status, r.text().await.unwrap())
            })
        };
        let (first, second) = (merge(ids[0], ids[1]), merge(ids[1], ids[2]));
        for (status, body) in [first.await.unwrap(), second.await.unwrap()] {
            assert!(
                status == StatusCode::OK
                    || (status == StatusCode::CONFLICT && body.contains("concurrent_merge")),
                "round {round}: {status} {body}"
            );
        }
        for (i, id) in ids.iter().enumerate() {
            let live = get_json(&t, &format!("/api/v1/customers/{id}"), &t.admin).await["customer"]
                ["id"]
                .as_i64()
                .unwrap();
            let idents = get_json(
                &t,
                &format!("/api/v1/customers/{live}/identities"),
                &t.admin,
            )
            .await;
            // Phones are shown masked: the last four digits are this customer's index.
            let phone = format!("136****{i:04}");
            assert!(
                idents.to_string().contains(&phone),
                "round {round}: customer {id} resolves to {live}, which lacks {phone}: {idents}"
            );
        }
    }
}

/// Issue #18: store staff search by the last four digits of a phone, or its start; an
/// integration's ids (WeCom external id, unionid) and an order number find their customer
/// too; names match by substring as before. Each within the caller's scope.
async fn search_by_phone_suffix_prefix_identity_and_order(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("SR-001").await;
    let g = t.staff("sr.g1", "guide", Some(store)).await;
    let a = ingest(
        &t,
        json!({"identities": [{"kind": "phone", "value": "18719450204"},
                              {"kind": "wecom_external", "value": "wmSEARCH01"},
                              {"kind": "unionid", "value": "oUNION_SEARCH"}], "name": "周晓梅"}),
    )
    .await["customer"]["id"]
        .as_i64()
        .unwrap();
    let b = customer_with_phone(&t, "13900010204", "吴昊").await;
    let c = customer_with_phone(&t, "18719460000", "郑凯").await;
    follow(&t, a, g).await;
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": "JD-20261204-77", "customer_id": c, "channel": "shop",
                   "lines": [{"sku": "S", "name": "货", "quantity": 1, "unit_price_fen": 100}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let ids = |v: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        ids.sort();
        assert_eq!(v["total"].as_u64().unwrap() as usize, ids.len(), "{v}");
        ids
    };
    for (q, want) in [
        ("0204", vec![a, b]),
        ("0000", vec![c]),
        ("1871945", vec![a]),
        ("187-19", vec![a, c]),
        ("18719450204", vec![a]),
        ("wmSEARCH01", vec![a]),
        ("oUNION_SEARCH", vec![a]),
        ("JD-20261204-77", vec![c]),
        ("晓梅", vec![a]),
        ("9999", vec![]),
    ] {
        let v = get_json(&t, &format!("/api/v1/customers?q={q}"), &t.admin).await;
        assert_eq!(ids(&v), want, "q={q}");
    }
    // The guide's search stays within their customers.
    let tok = t.login("sr.g1").await;
    let v = get_json(&t, "/api/v1/customers?q=0204", &tok).await;
    assert_eq!(ids(&v), vec![a]);
    // Masked display stays masked.
    assert_eq!(v["items"][0]["phone"], "187****0204");
}
