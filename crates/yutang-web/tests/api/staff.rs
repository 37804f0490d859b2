use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, error_of, spawn_app};

both_engines!(
    admin_creates_and_lists_staff,
    bad_staff_input_names_the_field_and_writes_nothing,
    bad_bodies_get_precise_errors,
    guide_sees_only_own_store,
    store_manager_manages_only_own_guides,
    role_changes_are_audited_and_last_admin_is_kept,
    password_reset_ends_sessions,
    concurrent_demotions_keep_one_admin,
    a_refused_staff_change_changes_nothing,
);

async fn staff_total(t: &crate::helpers::TestApp) -> i64 {
    let v: Value = t.get("/api/v1/staff", &t.admin).await.json().await.unwrap();
    v["total"].as_i64().unwrap()
}

async fn admin_creates_and_lists_staff(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("SH-001").await;
    let r = t
        .post(
            "/api/v1/staff",
            &t.admin,
            json!({"username": "sh.guide1", "display_name": "王小明", "role": "guide", "store_id": store, "password": "guide-password"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["display_name"], "王小明");
    assert_eq!(v["store_name"], "门店 SH-001");
    assert_eq!(v["status"], "active");
    assert!(v["created_at"].as_str().unwrap().ends_with('Z'));
    let id = v["id"].as_i64().unwrap();
    let got: Value = t
        .get(&format!("/api/v1/staff/{id}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["username"], "sh.guide1");
    let list: Value = t
        .get(
            &format!("/api/v1/staff?store_id={store}&role=guide&q=小明"),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], id);
    // Duplicate username.
    let r = t
        .post("/api/v1/staff", &t.admin, json!({"username": "sh.guide1", "display_name": "另一个", "role": "guide", "store_id": store}))
        .await;
    let (s, code, field) = error_of(r).await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (StatusCode::CONFLICT, "username_taken", Some("username"))
    );
    // Paging bounds.
    let r = t.get("/api/v1/staff?page_size=1000", &t.admin).await;
    assert_eq!(error_of(r).await.1, "invalid_page_size");
    let r = t.get("/api/v1/staff?page=abc", &t.admin).await;
    assert_eq!(error_of(r).await.1, "invalid_query");
}

async fn bad_staff_input_names_the_field_and_writes_nothing(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("SH-002").await;
    let before = staff_total(&t).await;
    for (body, code, field) in [
        (
            json!({"username": "AB", "display_name": "x", "role": "guide", "store_id": store}),
            "invalid_username",
            "username",
        ),
        (
            json!({"username": "ok.name", "display_name": "", "role": "guide", "store_id": store}),
            "invalid_name",
            "display_name",
        ),
        (
            json!({"username": "ok.name", "display_name": "x", "role": "boss", "store_id": store}),
            "invalid_role",
            "role",
        ),
        (
            json!({"username": "ok.name", "display_name": "x", "role": "guide"}),
            "store_required",
            "store_id",
        ),
        (
            json!({"username": "ok.name", "display_name": "x", "role": "operator", "store_id": store}),
            "store_not_allowed",
            "store_id",
        ),
        (
            json!({"username": "ok.name", "display_name": "x", "role": "guide", "store_id": 99999}),
            "unknown_store",
            "store_id",
        ),
        (
            json!({"username": "ok.name", "display_name": "x", "role": "guide", "store_id": store, "password": "short"}),
            "password_too_short",
            "password",
        ),
    ] {
        let (s, c, f) = error_of(t.post("/api/v1/staff", &t.admin, body).await).await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field))
        );
    }
    assert_eq!(staff_total(&t).await, before);
}

async fn bad_bodies_get_precise_errors(e: Engine) {
    let t = spawn_app(e).await;
    let (s, code, field) = error_of(
        t.post(
            "/api/v1/staff",
            &t.admin,
            json!({"username": "a.b.c", "display_name": "x", "role": "admin", "is_root": true}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("is_root")
        )
    );
    let (s, code, field) = error_of(
        t.post(
            "/api/v1/staff",
            &t.admin,
            json!({"username": 5, "display_name": "x", "role": "admin"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("username")
        )
    );
    let r = t
        .req(Method::POST, "/api/v1/staff", Some(&t.admin))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    let (s, code, _) = error_of(r).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::BAD_REQUEST, "malformed_json")
    );
    let r = t
        .req(Method::POST, "/api/v1/staff", Some(&t.admin))
        .body("username=x")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!("{{\"username\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let r = t
        .req(Method::POST, "/api/v1/staff", Some(&t.admin))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let (s, code, _) = error_of(r).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );
}

async fn guide_sees_only_own_store(e: Engine) {
    let t = spawn_app(e).await;
    let a = t.store("A-1").await;
    let b = t.store("B-1").await;
    let g1 = t.staff("a.guide1", "guide", Some(a)).await;
    let g2 = t.staff("a.guide2", "guide", Some(a)).await;
    let other = t.staff("b.guide1", "guide", Some(b)).await;
    let hq = t.staff("hq.ops", "operator", None).await;
    let guide = t.login("a.guide1").await;
    let list: Value = t.get("/api/v1/staff", &guide).await.json().await.unwrap();
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![g1, g2]);
    // Asking for the other store through a filter gives nothing, not the other store.
    let list: Value = t
        .get(&format!("/api/v1/staff?store_id={b}"), &guide)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    for id in [other, hq] {
        let (s, code, _) = error_of(t.get(&format!("/api/v1/staff/{id}"), &guide).await).await;
        assert_eq!((s, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    }
    assert_eq!(
        t.get(&format!("/api/v1/stores/{b}"), &guide).await.status(),
        StatusCode::NOT_FOUND
    );
    let stores: Value = t.get("/api/v1/stores", &guide).await.json().await.unwrap();
    assert_eq!(stores["total"], 1);
    assert_eq!(stores["items"][0]["id"], a);
    let regions: Value = t.get("/api/v1/regions", &guide).await.json().await.unwrap();
    assert_eq!(regions.as_array().unwrap().len(), 1);
    // Admin-only endpoints.
    for path in ["/api/v1/tokens", "/api/v1/audit"] {
        let (s, code, _) = error_of(t.get(path, &guide).await).await;
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{path}"
        );
    }
    let before: Value = t.get("/api/v1/staff", &t.admin).await.json().await.unwrap();
    let r = t
        .post(
            "/api/v1/staff",
            &guide,
            json!({"username": "x.y.z", "display_name": "x", "role": "guide", "store_id": a}),
        )
        .await;
    assert_eq!(error_of(r).await.0, StatusCode::FORBIDDEN);
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{g2}"),
            &guide,
            json!({"display_name": "改名"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let after: Value = t.get("/api/v1/staff", &t.admin).await.json().await.unwrap();
    assert_eq!(before["total"], after["total"]);
}

async fn store_manager_manages_only_own_guides(e: Engine) {
    let t = spawn_app(e).await;
    let a = t.store("A-2").await;
    let b = t.store("B-2").await;
    t.staff("a.manager", "store_manager", Some(a)).await;
    let other_guide = t.staff("b.guide", "guide", Some(b)).await;
    let m = t.login("a.manager").await;
    let r = t
        .post(
            "/api/v1/staff",
            &m,
            json!({"username": "a.new", "display_name": "新人", "role": "guide", "store_id": a}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let new_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for body in [
        json!({"username": "a.new2", "display_name": "x", "role": "guide", "store_id": b}),
        json!({"username": "a.new3", "display_name": "x", "role": "store_manager", "store_id": a}),
        json!({"username": "a.new4", "display_name": "x", "role": "admin"}),
    ] {
        assert_eq!(
            t.post("/api/v1/staff", &m, body).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    // Cannot promote their guide, nor move them to another store.
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{new_id}"),
            &m,
            json!({"role": "store_manager"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{new_id}"),
            &m,
            json!({"store_id": b}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{new_id}"),
            &m,
            json!({"display_name": "新名字"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Another store's guide is invisible.
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{other_guide}"),
            &m,
            json!({"display_name": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn role_changes_are_audited_and_last_admin_is_kept(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("C-1").await;
    let admin_id = t.staff("only.admin", "admin", None).await;
    let g = t.staff("c.guide", "guide", Some(store)).await;
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{g}"),
            &t.admin,
            json!({"role": "operator", "store_id": null}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let v: Value = t
        .get(&format!("/api/v1/staff/{g}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["role"].as_str(), v["store_id"].is_null()),
        (Some("operator"), true)
    );
    let audit: Value = t
        .get("/api/v1/audit?action=role_changed", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["target"], format!("staff:{g}"));
    let detail: serde_json::Value =
        serde_json::from_str(audit["items"][0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(
        detail,
        serde_json::json!({"field": "role", "before": "guide", "after": "operator"})
    );
    // The only active admin cannot be demoted or disabled.
    for body in [json!({"role": "operator"}), json!({"status": "disabled"})] {
        let (s, code, _) = error_of(
            t.send_json(
                Method::PATCH,
                &format!("/api/v1/staff/{admin_id}"),
                &t.admin,
                body,
            )
            .await,
        )
        .await;
        assert_eq!((s, code.as_str()), (StatusCode::CONFLICT, "last_admin"));
    }
    let (s, code, _) = error_of(t.get("/api/v1/audit?action=bogus", &t.admin).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_action")
    );
}

async fn password_reset_ends_sessions(e: Engine) {
    let t = spawn_app(e).await;
    let id = t.staff("reset.me", "analyst", None).await;
    let token = t.login("reset.me").await;
    let r = t
        .post(
            &format!("/api/v1/staff/{id}/password"),
            &t.admin,
            json!({"password": "a-whole-new-one"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t.get("/api/v1/auth/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(
        t.audit_actions()
            .await
            .contains(&"password_reset".to_string())
    );
}

async fn active_admins(t: &crate::helpers::TestApp) -> Vec<i64> {
    let v: Value = t
        .get("/api/v1/staff?page_size=200", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["role"] == "admin" && s["status"] == "active")
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

/// The last-admin rule is a read (how many admins are active) then a write: on PostgreSQL at
/// READ COMMITTED, demoting every admin at once let each request count the others as still
/// active. Every round demotes or disables all active admins concurrently; exactly one must
/// stay, and every other request answers 409 `last_admin`.
async fn concurrent_demotions_keep_one_admin(e: Engine) {
    let t = spawn_app(e).await;
    for round in 0..5 {
        for i in 0..4 {
            t.staff(&format!("adm.{round}.{i}"), "admin", None).await;
        }
        let admins = active_admins(&t).await;
        assert!(admins.len() >= 4, "{admins:?}");
        let mut tasks = Vec::new();
        for (i, id) in admins.iter().enumerate() {
            let body = if i % 2 == 0 {
                json!({"status": "disabled"})
            } else {
                json!({"role": "operator"})
            };
            let req = t
                .req(
                    Method::PATCH,
                    &format!("/api/v1/staff/{id}"),
                    Some(&t.admin),
                )
                .json(&body);
            tasks.push(tokio::spawn(async move {
                let r = req.send().await.unwrap();
                let s = r.status();
                let v: Value = r.json().await.unwrap();
                (s, v)
            }));
        }
        let mut changed = 0;
        for task in tasks {
            let (s, v) = task.await.unwrap();
            match s {
                StatusCode::OK => changed += 1,
                StatusCode::CONFLICT => assert_eq!(v["error"]["code"], "last_admin", "{v}"),
                other => panic!("unexpected {other}: {v}"),
            }
        }
        assert_eq!(active_admins(&t).await.len(), 1, "round {round}");
        assert_eq!(changed, admins.len() - 1, "round {round}");
    }
}

/// A staff change whose WeCom userid is taken by someone else is refused whole: the role and
/// name in the same request stay as they were, and nothing is audited (the change and its
/// link used to be two writes, so the role changed and the answer was 409).
async fn a_refused_staff_change_changes_nothing(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("W-1").await;
    let a = t.staff("w.a", "guide", Some(store)).await;
    let b = t.staff("w.b", "guide", Some(store)).await;
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{a}"),
            &t.admin,
            json!({"wecom_userid": "zhangsan"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let (s, code, _) = error_of(
        t.send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{b}"),
            &t.admin,
            json!({"role": "store_manager", "display_name": "改名", "wecom_userid": "zhangsan"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::CONFLICT, "wecom_userid_taken")
    );
    let v: Value = t
        .get(&format!("/api/v1/staff/{b}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            v["role"].as_str(),
            v["display_name"].as_str(),
            v["wecom_userid"].is_null()
        ),
        (Some("guide"), Some("w.b"), true),
        "{v}"
    );
    assert!(!t.audit_actions().await.contains(&"role_changed".to_owned()));
}
