use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Engine, spawn_app};

both_engines!(
    health_and_readiness,
    metrics_need_a_permitted_token,
    openapi_documents_every_route,
    unknown_routes_are_json_404
);

async fn health_and_readiness(e: Engine) {
    let t = spawn_app(e).await;
    let r = t.req(Method::GET, "/healthz", None).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = t.req(Method::GET, "/readyz", None).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let want = if e == Engine::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(v["database"], want);
}

async fn metrics_need_a_permitted_token(e: Engine) {
    let t = spawn_app(e).await;
    let r = t.req(Method::GET, "/metrics", None).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("www-authenticate"));
    let store = t.store("M-1").await;
    t.staff("guide.m", "guide", Some(store)).await;
    let guide = t.login("guide.m").await;
    assert_eq!(
        t.get("/metrics", &guide).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = t.get("/metrics", &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains("http_requests_total"), "{body}");
}

async fn openapi_documents_every_route(e: Engine) {
    let t = spawn_app(e).await;
    let r = t
        .req(Method::GET, "/api/v1/openapi.json", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert!(v["openapi"].as_str().unwrap().starts_with("3."));
    let paths = v["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/auth/password", "post"),
        ("/api/v1/staff", "get"),
        ("/api/v1/staff", "post"),
        ("/api/v1/staff/{id}", "get"),
        ("/api/v1/staff/{id}", "patch"),
        ("/api/v1/staff/{id}/password", "post"),
        ("/api/v1/regions", "get"),
        ("/api/v1/regions", "post"),
        ("/api/v1/regions/{id}", "patch"),
        ("/api/v1/stores", "get"),
        ("/api/v1/stores", "post"),
        ("/api/v1/stores/{id}", "get"),
        ("/api/v1/stores/{id}", "put"),
        ("/api/v1/tokens", "get"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/tokens/{id}", "delete"),
        ("/api/v1/audit", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} undocumented"
        );
    }
    assert!(v["components"]["securitySchemes"]["bearer"].is_object());
    assert!(v["components"]["schemas"]["ErrorBody"].is_object());
}

async fn unknown_routes_are_json_404(e: Engine) {
    let t = spawn_app(e).await;
    let r = t.get("/api/v1/nope", &t.admin).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    let r = t.get("/api/v1/staff/abc", &t.admin).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
