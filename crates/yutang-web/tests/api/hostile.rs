//! Hostile input at the edge: control characters, unknown fields, trailing bytes, LIKE
//! wildcards, out-of-range instants and numbers. Every answer is a 4xx naming the field, the
//! same on both engines — never a 500, never a silent acceptance.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::customers::customer_with_phone;
use crate::helpers::{Engine, error_of, spawn_app};

both_engines!(
    control_characters_are_refused_naming_the_field,
    unknown_fields_are_refused_on_every_json_body,
    trailing_bytes_after_json_are_malformed,
    like_wildcards_match_themselves,
    query_type_errors_name_the_parameter,
    order_line_errors_name_the_line,
    custom_numbers_are_exact_and_bounded,
    instants_are_bounded,
    openapi_is_usable_by_generated_clients,
);

async fn expect_error(r: reqwest::Response, status: StatusCode, code: &str, field: &str) {
    let (s, c, f) = error_of(r).await;
    assert_eq!(
        (s, c.as_str(), f.as_deref()),
        (status, code, Some(field)),
        "expected {code} on {field}"
    );
}

async fn control_characters_are_refused_naming_the_field(e: Engine) {
    let t = spawn_app(e).await;
    for (path, field) in [
        ("/api/v1/customers?q=a%00b", "q"),
        ("/api/v1/customers?city=a%00b", "city"),
        ("/api/v1/customers?member_level=%01", "member_level"),
        ("/api/v1/staff?q=a%00b", "q"),
    ] {
        let r = t.get(path, &t.admin).await;
        expect_error(
            r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_characters",
            field,
        )
        .await;
    }
    // Unauthenticated, and before any credential check.
    let r = t
        .req(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"username": "a\u{0}b", "password": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_characters",
        "username",
    )
    .await;
    let r = t
        .post(
            "/api/v1/segments/count",
            &t.admin,
            json!({"expression": "city = \"a\u{0}b\""}),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_characters",
        "expression",
    )
    .await;
    let r = t
        .post(
            "/api/v1/customers",
            &t.admin,
            json!({"identities": [{"kind": "phone", "value": "13800000001"}], "name": "王\u{7}"}),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_characters",
        "name",
    )
    .await;
    // Tabs and line breaks are text.
    let r = t
        .post(
            "/api/v1/customers",
            &t.admin,
            json!({"identities": [{"kind": "phone", "value": "13800000001"}], "name": "王芳"}),
        )
        .await;
    assert!(r.status().is_success());
    // The console's forms: a plain 400, not a 500 from the database.
    let r = t
        .req(Method::POST, "/console/login", None)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=a%00b&password=x&csrf=y")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = t
        .req(Method::GET, "/console/login?next=%00", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// Every operation with a JSON request body in the OpenAPI document refuses a key it does not
/// know, naming it, whatever the body's type says about unknown fields.
async fn unknown_fields_are_refused_on_every_json_body(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("probe.admin", "admin", None).await;
    let session = t.login("probe.admin").await;
    let c = customer_with_phone(&t, "13800000002", "李雷").await;
    let r = t
        .post(
            "/api/v1/customer-tokens",
            &t.admin,
            json!({"customer_id": c}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let customer = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let doc: Value = t
        .get("/api/v1/openapi.json", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // JSON bodies (an image upload's body is the file itself).
            if op["requestBody"]["content"]
                .get("application/json")
                .is_none()
            {
                continue;
            }
            // 有赞云's push is the platform's format, not ours: it adds fields over time, so
            // its envelope ignores keys it does not use (docs/integrations.md). Yutang's own
            // generic push is strict like every other body.
            if path == "/api/v1/inbound/youzan/{key}" {
                continue;
            }
            let url = path
                .split('/')
                .map(|s| if s.starts_with('{') { "1" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut answer = None;
            for token in [&t.admin, &session, &customer] {
                let r = t
                    .send_json(method.clone(), &url, token, json!({"__probe": 1}))
                    .await;
                if matches!(r.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                    continue;
                }
                answer = Some(error_of(r).await);
                break;
            }
            checked += 1;
            let want = (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field".to_owned(),
                Some("__probe".to_owned()),
            );
            if answer.as_ref() != Some(&want) {
                wrong.push(format!("{method} {path}: {answer:?}"));
            }
        }
    }
    assert!(checked > 40, "only {checked} operations with a body");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Nested objects too, and the body is not applied.
    let r = t
        .post(
            &format!("/api/v1/customers/{c}/tags"),
            &t.admin,
            json!({"add": [], "remvoe": [9]}),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
        "remvoe",
    )
    .await;
    // Inside the variants of a coupon template (internally tagged enums), too.
    let now = yutang_core::time::Millis::now().0;
    let template = |step: Value, validity: Value, audience: Value| {
        json!({
            "name": "满50减10",
            "steps": [step],
            "validity": validity,
            "claim_window": {"starts_at": now - 86_400_000, "ends_at": now + 86_400_000},
            "stock": 10,
            "per_customer": 1,
            "audience": audience,
        })
    };
    let step = json!({"kind": "amount_off", "off_fen": 1000, "threshold_fen": 5000});
    let validity = json!({"kind": "days_from_claim", "days": 7});
    let everyone = json!({"kind": "everyone"});
    for body in [
        template(
            json!({"kind": "amount_off", "off_fen": 1000, "threshold_fen": 5000, "of_fen": 1}),
            validity.clone(),
            everyone.clone(),
        ),
        template(
            step.clone(),
            json!({"kind": "days_from_claim", "days": 7, "hours": 3}),
            everyone.clone(),
        ),
        template(
            step.clone(),
            validity.clone(),
            json!({"kind": "segment", "segment_id": 1, "segmnet_id": 2}),
        ),
    ] {
        let r = t.post("/api/v1/coupon-templates", &t.admin, body).await;
        let (s, code, _) = error_of(r).await;
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "unknown_field")
        );
    }
    let r = t
        .post(
            "/api/v1/coupon-templates",
            &t.admin,
            template(step, validity, everyone),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = t.get("/api/v1/coupon-templates", &t.admin).await;
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        1
    );
}

async fn trailing_bytes_after_json_are_malformed(e: Engine) {
    let t = spawn_app(e).await;
    let r = t
        .req(Method::POST, "/api/v1/regions", Some(&t.admin))
        .header("content-type", "application/json")
        .body(r#"{"name": "华东"} xyz"#)
        .send()
        .await
        .unwrap();
    let (s, code, _) = error_of(r).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::BAD_REQUEST, "malformed_json")
    );
    // An array is not an object, though serde would read a struct's fields from it by
    // position (Schemathesis: `[null]` was accepted where an object is documented).
    let r = t
        .req(Method::POST, "/api/v1/regions", Some(&t.admin))
        .header("content-type", "application/json")
        .body(r#"["华东"]"#)
        .send()
        .await
        .unwrap();
    let (s, code, field) = error_of(r).await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("body")
        )
    );
    let r = t.get("/api/v1/regions", &t.admin).await;
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        0
    );
    // Whitespace after the value is fine.
    let r = t
        .req(Method::POST, "/api/v1/regions", Some(&t.admin))
        .header("content-type", "application/json")
        .body("{\"name\": \"华东\"}\n ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn like_wildcards_match_themselves(e: Engine) {
    let t = spawn_app(e).await;
    customer_with_phone(&t, "13800000003", "王芳").await;
    customer_with_phone(&t, "13800000004", "李_四").await;
    customer_with_phone(&t, "13800000005", "100%纯").await;
    customer_with_phone(&t, "13800000006", "反\\斜").await;
    for (q, want) in [
        ("%25", vec!["100%纯"]),
        ("_", vec!["李_四"]),
        ("%5C", vec!["反\\斜"]),
        ("%E8%8A%B3", vec!["王芳"]),
    ] {
        let r = t.get(&format!("/api/v1/customers?q={q}"), &t.admin).await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        let names: Vec<&str> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, want, "q={q}");
        assert_eq!(v["total"], json!(want.len()), "q={q}");
    }
    let r = t.get("/api/v1/staff?q=%25", &t.admin).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "{v}");
}

async fn query_type_errors_name_the_parameter(e: Engine) {
    let t = spawn_app(e).await;
    for path in [
        "/api/v1/customers?page_size=abc",
        "/api/v1/orders?page_size=abc",
        "/api/v1/staff?page_size=abc",
    ] {
        let r = t.get(path, &t.admin).await;
        expect_error(
            r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            "page_size",
        )
        .await;
    }
}

async fn order_line_errors_name_the_line(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000007", "韩梅梅").await;
    let line = json!({"sku": "APPLE", "name": "苹果", "quantity": 1, "unit_price_fen": 100});
    let mut bad = line.clone();
    bad["quantity"] = json!(0);
    let order = json!({"external_id": "L-1", "customer_id": c, "channel": "store",
        "lines": [line.clone(), line.clone(), bad]});
    let r = t.post("/api/v1/orders", &t.admin, order).await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_quantity",
        "lines[2].quantity",
    )
    .await;
    let mut bad = line.clone();
    bad["unit_price_fen"] = json!(1.5);
    let order = json!({"external_id": "L-2", "customer_id": c, "channel": "store",
        "lines": [line, bad]});
    let r = t.post("/api/v1/orders", &t.admin, order).await;
    let (s, _, f) = error_of(r).await;
    assert_eq!(
        (s, f.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("lines[1].unit_price_fen")
        )
    );
}

async fn custom_numbers_are_exact_and_bounded(e: Engine) {
    let t = spawn_app(e).await;
    let r = t
        .post(
            "/api/v1/customer-attributes",
            &t.admin,
            json!({"key": "score", "label": "积分", "kind": "number", "options": []}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let c = customer_with_phone(&t, "13800000008", "赵六").await;
    for big in [
        "9000000000000000",
        "-9000000000000000",
        "12345678901234567890",
    ] {
        let r = t
            .req(
                Method::PATCH,
                &format!("/api/v1/customers/{c}"),
                Some(&t.admin),
            )
            .header("content-type", "application/json")
            .body(format!(r#"{{"attributes": {{"score": {big}}}}}"#))
            .send()
            .await
            .unwrap();
        let (s, code, _) = error_of(r).await;
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_attribute_value"),
            "{big}"
        );
    }
    // The number as written, rounded half away from zero in decimal: 2, not 3.
    let r = t
        .req(
            Method::PATCH,
            &format!("/api/v1/customers/{c}"),
            Some(&t.admin),
        )
        .header("content-type", "application/json")
        .body(r#"{"attributes": {"score": 2.4999999999999999}}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let v: Value = t
        .get(&format!("/api/v1/customers/{c}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let attrs = v["attributes"].as_array().unwrap();
    assert_eq!(attrs[0]["value"], json!("2.4999999999999999"), "{v}");
    // Wait (bounded, generously for a loaded machine) for the index to know the new field.
    let mut count = None;
    for _ in 0..600 {
        let r = t
            .post(
                "/api/v1/segments/count",
                &t.admin,
                json!({"expression": "score = 2"}),
            )
            .await;
        let n = r.json::<Value>().await.unwrap()["count"].as_u64();
        if n == Some(1) {
            count = n;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(count, Some(1));
    let r = t
        .post(
            "/api/v1/segments/count",
            &t.admin,
            json!({"expression": "score = 3"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["count"], json!(0));
}

async fn instants_are_bounded(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000009", "钱七").await;
    // Events: epoch milliseconds or RFC 3339, from 2000-01-01 to now + the allowed skew.
    let far = [
        json!(i64::MAX),
        json!(i64::MIN),
        json!(100_000_000_000_000_000_i64),
        json!(-1),
        json!("1999-12-31T23:59:59Z"),
        json!("9999-12-31T00:00:00Z"),
    ];
    let events: Vec<Value> = far
        .iter()
        .enumerate()
        .map(|(i, at)| {
            json!({"id": format!("far-{i}"), "kind": "page_view", "customer_id": c, "occurred_at": at})
        })
        .chain([json!({"id": "ok", "kind": "page_view", "customer_id": c,
            "occurred_at": "2026-05-01T10:00:00+08:00"})])
        .collect();
    let r = t
        .post("/api/v1/events", &t.admin, json!({"events": events}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["accepted"].clone(), v["rejected"].clone()),
        (json!(1), json!(6)),
        "{v}"
    );
    for r in &v["results"].as_array().unwrap()[..6] {
        assert_eq!(
            (r["code"].as_str(), r["field"].as_str()),
            (Some("time_out_of_range"), Some("occurred_at")),
            "{r}"
        );
    }
    // Orders: paid_at in the year 9999 would make the customer's last order 9999.
    let order = |id: &str, at: &str| {
        json!({"external_id": id, "customer_id": c, "channel": "store", "paid_at": at,
            "lines": [{"sku": "A", "name": "苹果", "quantity": 1, "unit_price_fen": 100}]})
    };
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            order("T-1", "9999-12-31T00:00:00Z"),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "time_out_of_range",
        "paid_at",
    )
    .await;
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            order("T-2", "1970-01-01T00:00:00Z"),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "time_out_of_range",
        "paid_at",
    )
    .await;
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            order("T-3", "2026-01-01T00:00:00Z"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Segment literals: 1900 (old birthdays) up to 2100.
    for expr in ["last_order after 0000-01-01", "birthday before 2100-01-01"] {
        let r = t
            .post(
                "/api/v1/segments/count",
                &t.admin,
                json!({"expression": expr}),
            )
            .await;
        let (s, code, f) = error_of(r).await;
        assert_eq!(
            (s, code.as_str(), f.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "segment_invalid_date",
                Some("expression")
            ),
            "{expr}"
        );
    }
    let r = t
        .post(
            "/api/v1/segments/count",
            &t.admin,
            json!({"expression": "birthday after 1900-01-01"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Schedules: 2000-01-01 up to 2100-01-01.
    let now = yutang_core::time::Millis::now().0;
    let sale = |starts: i64, ends: i64| {
        json!({
            "name": "秒杀", "sku": "D-1", "item_name": "榴莲", "price_fen": 100,
            "original_price_fen": 200, "stock": 1, "window": {"starts_at": starts, "ends_at": ends},
            "per_customer": 1, "hold_minutes": 15, "audience": {"kind": "everyone"}
        })
    };
    let r = t
        .post("/api/v1/flash-sales", &t.admin, sale(now, i64::MAX))
        .await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "time_out_of_range",
        "ends_at",
    )
    .await;
    let r = t.post("/api/v1/flash-sales", &t.admin, sale(0, now)).await;
    expect_error(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "time_out_of_range",
        "starts_at",
    )
    .await;
    let r = t
        .post("/api/v1/flash-sales", &t.admin, sale(now, now + 3_600_000))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// Generated clients (and Schemathesis) trust the document: parameters where they are sent,
/// real body schemas, nullable fields that are null, and every error status documented.
async fn openapi_is_usable_by_generated_clients(e: Engine) {
    let t = spawn_app(e).await;
    let doc: Value = t
        .get("/api/v1/openapi.json", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                match p["in"].as_str() {
                    Some("path") if !in_path => {
                        wrong.push(format!("{method} {path}: {name} in path"))
                    }
                    Some("query") if p["required"] == json!(true) => {
                        wrong.push(format!("{method} {path}: {name} required"))
                    }
                    _ => {}
                }
            }
            let responses = op["responses"].as_object().unwrap();
            let mut need = vec![];
            if op
                .get("security")
                .is_some_and(|s| !s.as_array().unwrap().is_empty())
            {
                need.push("401");
            }
            if op.get("requestBody").is_some() {
                need.extend(["400", "415", "422"]);
                let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                if schema == &json!({"type": "object"}) {
                    wrong.push(format!("{method} {path}: body is a bare object"));
                }
            }
            for code in need {
                if !responses.contains_key(code) {
                    wrong.push(format!("{method} {path}: {code} undocumented"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let q = &doc["paths"]["/api/v1/customers"]["get"]["parameters"];
    assert!(
        q.as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "page_size" && p["in"] == "query"),
        "{q}"
    );
    let result = &doc["components"]["schemas"]["JobOut"]["properties"]["result"];
    assert!(result.to_string().contains("null"), "{result}");
    let transfers = &doc["paths"]["/api/v1/wecom/transfers"]["get"]["responses"]["200"];
    assert!(transfers.to_string().contains("array"), "{transfers}");
}
