use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::customers::customer_with_phone;
use crate::helpers::{Engine, error_of, spawn_app};

both_engines!(
    batches_are_idempotent_with_per_event_outcomes,
    oversized_and_empty_batches_are_refused,
    full_batches_mix_new_replayed_and_merged,
    reused_event_ids_with_another_body_are_refused,
);

async fn batches_are_idempotent_with_per_event_outcomes(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000011", "周杰").await;
    let batch = json!({"events": [
        {"id": "e1", "kind": "page_view", "customer_id": c, "detail": {"page": "/item/42"}},
        {"id": "e2", "kind": "search", "identity": {"kind": "phone", "value": "+86 138 0000 0011"}, "occurred_at": "2026-05-01T10:00:00+08:00"},
        {"id": "e3", "kind": "teleport", "customer_id": c},
        {"id": "e4", "kind": "check_in", "customer_id": 999999},
        {"id": "e1", "kind": "share", "customer_id": c},
        {"id": "e5", "kind": "coupon_claimed", "identity": {"kind": "phone", "value": "123"}},
        {"kind": "message", "customer_id": c},
        {"id": "e6", "kind": "custom", "customer_id": c, "occurred_at": 1767225600000_i64, "detail": {"name": "quiz"}},
        {"id": "e7", "kind": "join_group", "customer_id": c, "detail": [1]}
    ]});
    let r = t.post("/api/v1/events", &t.admin, batch.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let got: Vec<(String, String)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_owned(),
                r["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("accepted", ""),
        ("accepted", ""),
        ("rejected", "unknown_event_kind"),
        ("rejected", "unknown_customer"),
        ("rejected", "duplicate_in_batch"),
        ("rejected", "invalid_phone"),
        ("rejected", "invalid_event"),
        ("accepted", ""),
        ("rejected", "invalid_detail"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(
        (v["accepted"].as_i64(), v["rejected"].as_i64()),
        (Some(3), Some(6))
    );
    assert_eq!(v["results"][1]["customer_id"], c);
    // Replay: the accepted ones are duplicates now and nothing is stored twice.
    let v: Value = t
        .post("/api/v1/events", &t.admin, batch)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["accepted"].as_i64(), v["duplicates"].as_i64()),
        (Some(0), Some(3))
    );
    let tl: Value = t
        .get(&format!("/api/v1/customers/{c}/timeline"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let client: Vec<&Value> = tl["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["client_id"].is_null())
        .collect();
    assert_eq!(client.len(), 3);
    // Filter by kind, page through.
    let tl: Value = t
        .get(
            &format!("/api/v1/customers/{c}/timeline?kind=search"),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tl["total"], 1);
    assert_eq!(tl["items"][0]["occurred_at"], "2026-05-01T02:00:00.000Z");
    let tl: Value = t
        .get(
            &format!("/api/v1/customers/{c}/timeline?page_size=1&page=2"),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tl["items"].as_array().unwrap().len(), 1);
    assert!(tl["total"].as_i64().unwrap() >= 4);
    let r = t
        .get(
            &format!("/api/v1/customers/{c}/timeline?kind=nope"),
            &t.admin,
        )
        .await;
    assert_eq!(error_of(r).await.1, "unknown_event_kind");
}

async fn oversized_and_empty_batches_are_refused(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000012", "吴磊").await;
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"id": format!("big-{i}"), "kind": "page_view", "customer_id": c}))
        .collect();
    let r = t
        .post("/api/v1/events", &t.admin, json!({"events": many}))
        .await;
    let (s, code, field) = error_of(r).await;
    assert_eq!(
        (s, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "batch_too_large",
            Some("events")
        )
    );
    let r = t
        .post("/api/v1/events", &t.admin, json!({"events": []}))
        .await;
    assert_eq!(error_of(r).await.1, "empty_batch");
    // Exactly 1,000 is fine and lands in one go.
    let full: Vec<Value> = (0..1000)
        .map(|i| json!({"id": format!("full-{i}"), "kind": "page_view", "customer_id": c}))
        .collect();
    let v: Value = t
        .post("/api/v1/events", &t.admin, json!({"events": full}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["accepted"], 1000);
}

/// A full batch of 1,000 where half was sent before: per-event outcomes in order, replays
/// reported, a merged-away id resolved to its survivor, staff ids kept.
async fn full_batches_mix_new_replayed_and_merged(e: Engine) {
    let t = spawn_app(e).await;
    let a = customer_with_phone(&t, "13800000021", "甲").await;
    let b = customer_with_phone(&t, "13800000022", "乙").await;
    let guide = t.staff("ev.guide", "operator", None).await;
    let r = t
        .post(
            &format!("/api/v1/customers/{a}/merge"),
            &t.admin,
            json!({"other_id": b}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let event = |i: usize| {
        json!({"id": format!("big-{i}"), "kind": "page_view",
               "customer_id": if i.is_multiple_of(2) { a } else { b },
               "staff_id": if i.is_multiple_of(3) { Some(guide) } else { None }})
    };
    let first: Vec<Value> = (0..500).map(event).collect();
    let v: Value = t
        .post("/api/v1/events", &t.admin, json!({ "events": first }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["accepted"], 500, "{v}");
    let all: Vec<Value> = (0..1000).map(event).collect();
    let v: Value = t
        .post("/api/v1/events", &t.admin, json!({ "events": all }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["accepted"].as_i64(), v["duplicates"].as_i64()),
        (Some(500), Some(500))
    );
    let results = v["results"].as_array().unwrap();
    for (i, r) in results.iter().enumerate() {
        let want = if i < 500 { "duplicate" } else { "accepted" };
        assert_eq!(r["status"], want, "event {i}: {r}");
        assert_eq!(r["id"], format!("big-{i}"));
        if i >= 500 {
            assert_eq!(r["customer_id"], a, "merged ids resolve to the survivor");
        }
    }
    let tl: Value = t
        .get(
            &format!("/api/v1/customers/{a}/timeline?kind=page_view&page_size=1"),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tl["total"], 1000);
    // Newest first: event 999 (999 % 3 == 0) carries the staff id.
    assert_eq!(tl["items"][0]["client_id"], "big-999", "{tl}");
    assert_eq!(tl["items"][0]["staff_id"], guide, "{tl}");
}

/// Issue #16: an event id re-sent with a different body was reported as a duplicate; it is
/// refused now (per event), while an identical re-send (keys in another order) is a duplicate.
async fn reused_event_ids_with_another_body_are_refused(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13800000061", "林涛").await;
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [
                {"id": "r1", "kind": "page_view", "customer_id": c, "detail": {"page": "/a", "ref": "x"}},
                {"id": "r2", "kind": "search", "customer_id": c}
            ]}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["accepted"], 2, "{v}");
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [
                {"id": "r1", "kind": "page_view", "customer_id": c, "detail": {"ref": "x", "page": "/a"}},
                {"id": "r2", "kind": "search", "customer_id": c, "detail": {"q": "durian"}},
                {"id": "r3", "kind": "search", "customer_id": c}
            ]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let res = &v["results"];
    assert_eq!(res[0]["status"], "duplicate", "{v}");
    assert_eq!(
        (
            res[1]["status"].as_str(),
            res[1]["code"].as_str(),
            res[1]["field"].as_str()
        ),
        (Some("rejected"), Some("event_id_reused"), Some("id")),
        "{v}"
    );
    assert_eq!(res[2]["status"], "accepted", "{v}");
    assert_eq!(
        (
            v["accepted"].as_i64(),
            v["duplicates"].as_i64(),
            v["rejected"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    // The stored event kept its first body.
    let tl: Value = t
        .get(
            &format!("/api/v1/customers/{c}/timeline?kind=search"),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tl["total"], 2);
    assert!(!tl.to_string().contains("durian"), "{tl}");
}
