use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Engine, error_of, spawn_app};

both_engines!(
    regions_and_stores_crud,
    store_input_errors,
    who_may_change_the_org
);

async fn regions_and_stores_crud(e: Engine) {
    let t = spawn_app(e).await;
    let r = t
        .post("/api/v1/regions", &t.admin, json!({"name": "华东大区"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let region = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (s, code, _) = error_of(
        t.post("/api/v1/regions", &t.admin, json!({"name": "华东大区"}))
            .await,
    )
    .await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::CONFLICT, "region_name_taken")
    );
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/regions/{region}"),
            &t.admin,
            json!({"name": "华东"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "华东");
    let r = t
        .post(
            "/api/v1/stores",
            &t.admin,
            json!({"region_id": region, "code": "sh-010", "name": "徐家汇店", "city": "上海", "address": "漕溪北路 1 号"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let store: Value = r.json().await.unwrap();
    assert_eq!(store["code"], "SH-010");
    assert_eq!(store["region_name"], "华东");
    let id = store["id"].as_i64().unwrap();
    let r = t
        .send_json(
            Method::PUT,
            &format!("/api/v1/stores/{id}"),
            &t.admin,
            json!({"region_id": region, "code": "SH-010", "name": "徐家汇旗舰店", "city": "上海"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "徐家汇旗舰店");
    let list: Value = t
        .get("/api/v1/stores?q=旗舰", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    let list: Value = t
        .get(&format!("/api/v1/stores?region_id={region}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    let regions: Value = t
        .get("/api/v1/regions", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(regions[0]["store_count"], 1);
    let r = t
        .post(
            "/api/v1/stores",
            &t.admin,
            json!({"code": "SH-010", "name": "重复"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "store_code_taken");
    assert_eq!(
        t.get("/api/v1/stores/424242", &t.admin).await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn store_input_errors(e: Engine) {
    let t = spawn_app(e).await;
    for (body, code, field) in [
        (
            json!({"code": "上海-1", "name": "x"}),
            "invalid_store_code",
            "code",
        ),
        (
            json!({"code": "", "name": "x"}),
            "invalid_store_code",
            "code",
        ),
        (json!({"code": "X-1", "name": ""}), "invalid_name", "name"),
        (
            json!({"code": "X-1", "name": "x", "region_id": 777}),
            "unknown_region",
            "region_id",
        ),
        (
            json!({"code": "X-1", "name": "x", "city": "市".repeat(21)}),
            "invalid_text",
            "city",
        ),
    ] {
        let (s, c, f) = error_of(t.post("/api/v1/stores", &t.admin, body).await).await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field))
        );
    }
    let list: Value = t
        .get("/api/v1/stores", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
}

async fn who_may_change_the_org(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("D-1").await;
    t.staff("d.ops", "operator", None).await;
    t.staff("d.bi", "analyst", None).await;
    t.staff("d.manager", "store_manager", Some(store)).await;
    let ops = t.login("d.ops").await;
    assert_eq!(
        t.post(
            "/api/v1/stores",
            &ops,
            json!({"code": "D-2", "name": "运营建的店"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    for who in ["d.bi", "d.manager"] {
        let tok = t.login(who).await;
        assert_eq!(
            t.post("/api/v1/stores", &tok, json!({"code": "D-3", "name": "x"}))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            t.post("/api/v1/regions", &tok, json!({"name": "x"}))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
    }
    let analyst = t.login("d.bi").await;
    let list: Value = t
        .get("/api/v1/stores", &analyst)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
}
