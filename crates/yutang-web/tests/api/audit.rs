use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, spawn_app};

both_engines!(audit_log_records_security_actions);

async fn audit_log_records_security_actions(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("audited", "operator", None).await;
    let _ = t
        .req(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"username": "audited", "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    t.login("audited").await;
    let v: Value = t
        .get("/api/v1/audit?page_size=2", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["page_size"], 2);
    assert!(v["total"].as_i64().unwrap() >= 3, "{v}");
    let first = &v["items"][0];
    assert_eq!(first["action"], "login");
    assert_eq!(first["actor_name"], "audited");
    assert_eq!(first["ip"], "127.0.0.1");
    let failed: Value = t
        .get("/api/v1/audit?action=login_failed", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(failed["total"], 1);
    assert_eq!(failed["items"][0]["actor_name"], "audited");
    assert_eq!(
        t.get("/api/v1/audit", &t.login("audited").await)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}
