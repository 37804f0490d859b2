use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, PASSWORD, error_of, spawn_app, spawn_with};

both_engines!(
    login_me_logout,
    wrong_password_is_401_and_audited,
    repeated_failures_lock_the_account,
    forged_and_malformed_tokens_are_refused,
    expired_session_is_refused,
    disabled_staff_cannot_sign_in_and_lose_sessions,
    own_password_change_ends_sessions,
    first_start_bootstraps_one_admin,
);

async fn login_me_logout(e: Engine) {
    let t = spawn_app(e).await;
    let id = t.staff("wang.ops", "operator", None).await;
    let token = t.login("wang.ops").await;
    assert!(token.starts_with("yts_"));
    let me: Value = t.get("/api/v1/auth/me", &token).await.json().await.unwrap();
    assert_eq!(me["kind"], "staff");
    assert_eq!(me["id"], id);
    assert_eq!(me["role"], "operator");
    let r = t
        .req(Method::POST, "/api/v1/auth/logout", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, code, _) = error_of(t.get("/api/v1/auth/me", &token).await).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let actions = t.audit_actions().await;
    assert!(
        actions.contains(&"login".to_string()) && actions.contains(&"logout".to_string()),
        "{actions:?}"
    );
}

async fn wrong_password_is_401_and_audited(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("li.ops", "operator", None).await;
    for (user, pw) in [
        ("li.ops", "wrong-password"),
        ("nobody", PASSWORD),
        ("李", PASSWORD),
    ] {
        let r = t
            .req(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"username": user, "password": pw}))
            .send()
            .await
            .unwrap();
        assert!(r.headers().contains_key("www-authenticate"));
        let (s, code, _) = error_of(r).await;
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            "{user}"
        );
    }
    let failed = t
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "login_failed")
        .count();
    assert_eq!(failed, 3);
}

async fn repeated_failures_lock_the_account(e: Engine) {
    let t = spawn_with(e, |s| s.auth.login_max_failures = 3).await;
    t.staff("zhao.ops", "operator", None).await;
    let attempt = |pw: &'static str| {
        t.req(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"username": "zhao.ops", "password": pw}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("bad-password!").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Locked now, even with the right password.
    let r = attempt(PASSWORD).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
    let (_, code, _) = error_of(r).await;
    assert_eq!(code, "too_many_attempts");
    // Another account is not affected.
    t.staff("qian.ops", "operator", None).await;
    t.login("qian.ops").await;
    // When the lock window has passed, the right password works again.
    t.exec("UPDATE login_attempts SET at = at - 3600000").await;
    assert_eq!(attempt(PASSWORD).await.unwrap().status(), StatusCode::OK);
}

async fn forged_and_malformed_tokens_are_refused(e: Engine) {
    let t = spawn_app(e).await;
    for h in [
        "Bearer ytk_0000000000000000000000000000000000000000000000000000000000000000",
        "Bearer yts_0000000000000000000000000000000000000000000000000000000000000000",
        "Bearer nonsense",
        "Basic YWRtaW46eA==",
        "Bearer ",
    ] {
        let r = t
            .client
            .get(t.url("/api/v1/staff"))
            .header("authorization", h)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{h}");
    }
    let r = t.client.get(t.url("/api/v1/staff")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn expired_session_is_refused(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("sun.ops", "operator", None).await;
    let token = t.login("sun.ops").await;
    assert_eq!(
        t.get("/api/v1/auth/me", &token).await.status(),
        StatusCode::OK
    );
    t.exec("UPDATE sessions SET expires_at = 1").await;
    assert_eq!(
        t.get("/api/v1/auth/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn disabled_staff_cannot_sign_in_and_lose_sessions(e: Engine) {
    let t = spawn_app(e).await;
    let id = t.staff("zhou.ops", "operator", None).await;
    let token = t.login("zhou.ops").await;
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{id}"),
            &t.admin,
            json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        t.get("/api/v1/auth/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = t
        .req(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"username": "zhou.ops", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        t.audit_actions()
            .await
            .contains(&"staff_disabled".to_string())
    );
}

async fn own_password_change_ends_sessions(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("wu.ops", "operator", None).await;
    let token = t.login("wu.ops").await;
    let r = t
        .post(
            "/api/v1/auth/password",
            &token,
            json!({"current_password": "wrong-one-xx", "new_password": "brand-new-pass"}),
        )
        .await;
    let (s, code, field) = error_of(r).await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_password",
            Some("current_password")
        )
    );
    let r = t
        .post(
            "/api/v1/auth/password",
            &token,
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "password_too_short");
    let r = t
        .post(
            "/api/v1/auth/password",
            &token,
            json!({"current_password": PASSWORD, "new_password": "brand-new-pass"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t.get("/api/v1/auth/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = t
        .req(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"username": "wu.ops", "password": "brand-new-pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn first_start_bootstraps_one_admin(e: Engine) {
    let t = spawn_app(e).await;
    let (user, pw) = t
        .app
        .staff()
        .bootstrap_admin()
        .await
        .unwrap()
        .expect("no admin yet, so one is created");
    assert_eq!(user, "admin");
    assert!(pw.len() >= 16);
    // Only once.
    assert!(t.app.staff().bootstrap_admin().await.unwrap().is_none());
    let r = t
        .req(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"username": user, "password": pw}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        t.audit_actions()
            .await
            .contains(&"admin_bootstrapped".to_string())
    );
}
