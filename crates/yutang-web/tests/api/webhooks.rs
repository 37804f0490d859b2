//! Outbound webhooks (issue #24 item 6): subscriptions, signed at-least-once delivery with a
//! stable event id, backoff, automatic pause, replay, and the follower reading the event log
//! in commit order. The tests drive the follower and the sender by hand
//! (`app.webhooks().follow()` / `send_due_at`) and wait for states, not times.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_app::webhooks::signature;

use crate::customers::customer_with_phone;
use yutang_app::settings::Secret;

use crate::helpers::{Engine, TestApp, error_of, spawn_with};

both_engines!(
    events_reach_a_subscriber_signed_once,
    failures_back_off_pause_the_webhook_and_replays_deliver,
    a_sender_that_dies_mid_delivery_leaves_it_due_again,
    webhook_management_through_the_api,
    bad_subscriptions_are_refused_naming_the_field,
    concurrent_writers_and_followers_queue_every_event_once,
);

#[derive(Debug, Clone)]
struct Got {
    event_id: String,
    signature: String,
    body: String,
}

/// A receiver on loopback recording every POST and answering `status`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }
    fn answer(&self, s: u16) {
        self.status.store(s, Ordering::SeqCst);
    }
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: String) -> AxStatus {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    r.got.lock().unwrap().push(Got {
        event_id: h("x-yutang-event-id"),
        signature: h("x-yutang-signature"),
        body,
    });
    AxStatus::from_u16(r.status.load(Ordering::SeqCst)).unwrap_or(AxStatus::OK)
}

async fn receiver() -> (String, Receiver) {
    let r = Receiver::default();
    r.answer(200);
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), r)
}

/// An app whose webhooks may target loopback (the receiver), with a short failure run.
async fn app_for_hooks(e: Engine) -> TestApp {
    spawn_with(e, |s| {
        s.secret_key = Some(Secret::new("ab".repeat(32)));
        // The tests drive the follower and the sender by hand.
        s.webhooks.deliver = false;
        s.webhooks.allow_private_targets = true;
        s.webhooks.max_attempts = 2;
        s.webhooks.pause_after_failures = 3;
    })
    .await
}

async fn subscribe(t: &TestApp, url: &str, kinds: Value) -> (i64, String) {
    let r = t
        .post(
            "/api/v1/webhooks",
            &t.admin,
            json!({"name": "会员中台", "url": url, "kinds": kinds}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    (
        v["webhook"]["id"].as_i64().unwrap(),
        v["secret"].as_str().unwrap().to_owned(),
    )
}

async fn post_events(t: &TestApp, customer: i64, events: &[(&str, &str)]) {
    let list: Vec<Value> = events
        .iter()
        .map(|(id, kind)| json!({"id": id, "kind": kind, "customer_id": customer, "detail": {"n": id}}))
        .collect();
    let r = t
        .post("/api/v1/events", &t.admin, json!({"events": list}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// Verify a delivery's signature header with the secret, as a receiver would.
fn signed_by(g: &Got, secret: &str) -> bool {
    let Some(t) = g
        .signature
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .and_then(|t| t.parse::<i64>().ok())
    else {
        return false;
    };
    signature(secret, t, &g.body) == g.signature
}

async fn get_v(t: &TestApp, path: &str) -> Value {
    t.get(path, &t.admin).await.json().await.unwrap()
}

/// POST an empty object as admin; the answer's JSON.
async fn post_v(t: &TestApp, path: &str) -> Value {
    t.post(path, &t.admin, json!({}))
        .await
        .json()
        .await
        .unwrap()
}

async fn deliver_all(t: &TestApp) {
    t.app.webhooks().follow().await.unwrap();
    while t.app.webhooks().send_due().await.unwrap().claimed > 0 {}
}

async fn events_reach_a_subscriber_signed_once(e: Engine) {
    let t = app_for_hooks(e).await;
    let c = customer_with_phone(&t, "13800000001", "林一").await;
    // Written before the subscription: not sent.
    post_events(&t, c, &[("before", "share")]).await;
    let (url, rx) = receiver().await;
    let (id, secret) = subscribe(&t, &url, json!(["share", "page_view"])).await;
    post_events(
        &t,
        c,
        &[("a", "share"), ("b", "search"), ("c", "page_view")],
    )
    .await;
    deliver_all(&t).await;
    let got = rx.got();
    assert_eq!(
        got.len(),
        2,
        "share and page_view, not search nor the earlier share"
    );
    for g in &got {
        assert!(signed_by(g, &secret), "signature verifies: {}", g.signature);
        assert!(!signed_by(g, "whsec_other"));
        let body: Value = serde_json::from_str(&g.body).unwrap();
        assert_eq!(body["id"], g.event_id);
        assert_eq!(body["customer_id"], c);
        assert!(body["occurred_at"].as_str().unwrap().ends_with('Z'));
    }
    // Deliveries go out concurrently, so they may arrive in any order; the ids follow the log.
    let mut by_id: Vec<(i64, Value)> = got
        .iter()
        .map(|g| {
            let v: Value = serde_json::from_str(&g.body).unwrap();
            (g.event_id["evt_".len()..].parse().unwrap(), v)
        })
        .collect();
    by_id.sort_by_key(|(i, _)| *i);
    let kinds: Vec<&str> = by_id
        .iter()
        .map(|(_, v)| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["share", "page_view"]);
    assert_eq!(by_id[0].1["detail"]["n"], "a");
    // Following and sending again sends nothing more.
    deliver_all(&t).await;
    assert_eq!(rx.got().len(), 2);
    let v: Value = get_v(&t, &format!("/api/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(v["total"], 2);
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "delivered" && d["attempts"] == 1 && d["last_status"] == 200)
    );
    let w: Value = get_v(&t, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(
        (w["pending"].as_i64(), w["failed"].as_i64()),
        (Some(0), Some(0))
    );
    assert!(w["last_delivered_at"].is_string());
}

async fn failures_back_off_pause_the_webhook_and_replays_deliver(e: Engine) {
    let t = app_for_hooks(e).await;
    let c = customer_with_phone(&t, "13800000002", "林二").await;
    let (url, rx) = receiver().await;
    let (id, secret) = subscribe(&t, &url, json!(["*"])).await;
    rx.answer(500);
    post_events(&t, c, &[("f1", "share"), ("f2", "share")]).await;
    t.app.webhooks().follow().await.unwrap();
    let r = t.app.webhooks().send_due().await.unwrap();
    assert_eq!((r.claimed, r.failed), (2, 2));
    // Backing off: nothing is due now.
    assert_eq!(t.app.webhooks().send_due().await.unwrap().claimed, 0);
    let d: Value = get_v(
        &t,
        &format!("/api/v1/webhooks/{id}/deliveries?status=pending"),
    )
    .await;
    assert_eq!(d["total"], 2);
    assert_eq!(d["items"][0]["last_status"], 500);
    assert!(d["items"][0]["next_attempt_at"].is_string());
    // After the backoff, the last attempt (max_attempts = 2): both fail for good, and the
    // fourth failure in a row (≥ 3) pauses the webhook.
    let later = t.app.now() + 11_000;
    let r = t.app.webhooks().send_due_at(later).await.unwrap();
    assert_eq!((r.claimed, r.failed), (2, 2));
    let w: Value = get_v(&t, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(w["status"], "paused");
    assert_eq!(w["paused_reason"], "too_many_failures");
    assert_eq!(w["failed"], 2);
    let audits = t.audit_actions().await;
    assert_eq!(
        audits
            .iter()
            .filter(|a| *a == "webhook_auto_paused")
            .count(),
        1,
        "one alert"
    );
    // Paused: new events queue but are not sent.
    rx.answer(200);
    post_events(&t, c, &[("f3", "share")]).await;
    t.app.webhooks().follow().await.unwrap();
    assert_eq!(
        t.app
            .webhooks()
            .send_due_at(later + 60_000)
            .await
            .unwrap()
            .claimed,
        0
    );
    // Fixed receiver: resume, replay the failed ones.
    let r = t
        .post(
            &format!("/api/v1/webhooks/{id}/resume"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r: Value = t
        .post(
            &format!("/api/v1/webhooks/{id}/replay-failed"),
            &t.admin,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["replayed"], 2);
    deliver_all(&t).await;
    let got = rx.got();
    let ok: Vec<&Got> = got[got.len() - 3..].iter().collect();
    let mut ids: Vec<&str> = ok.iter().map(|g| g.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "f1, f2 (replayed) and f3 once each");
    assert!(ok.iter().all(|g| signed_by(g, &secret)));
    // The failed attempts carried the same event ids: a receiver dedupes by them.
    let failed_ids: std::collections::BTreeSet<&str> =
        got[..4].iter().map(|g| g.event_id.as_str()).collect();
    assert!(failed_ids.iter().all(|i| ids.contains(i)));
    let w: Value = get_v(&t, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(
        (
            w["status"].as_str(),
            w["failed"].as_i64(),
            w["pending"].as_i64()
        ),
        (Some("active"), Some(0), Some(0))
    );
    // Replaying a delivered one sends it again, same id.
    let d: Value = get_v(&t, &format!("/api/v1/webhooks/{id}/deliveries?page_size=1")).await;
    let did = d["items"][0]["id"].as_i64().unwrap();
    let again: Value = t
        .post(
            &format!("/api/v1/webhooks/{id}/deliveries/{did}/replay"),
            &t.admin,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["status"].as_str(), again["attempts"].as_i64()),
        (Some("pending"), Some(0))
    );
    deliver_all(&t).await;
    assert_eq!(
        rx.got().last().unwrap().event_id,
        d["items"][0]["event_id"].as_str().unwrap()
    );
}

async fn a_sender_that_dies_mid_delivery_leaves_it_due_again(e: Engine) {
    let t = app_for_hooks(e).await;
    let c = customer_with_phone(&t, "13800000003", "林三").await;
    let (url, rx) = receiver().await;
    subscribe(&t, &url, json!(["share"])).await;
    post_events(&t, c, &[("k1", "share")]).await;
    t.app.webhooks().follow().await.unwrap();
    // A sender claims the delivery and dies before the POST (kill -9): its lease holds it.
    let now = t.app.now();
    let claimed = yutang_store::webhooks::claim_due(&t.app.db, now, now + 60_000, 500)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(t.app.webhooks().send_due().await.unwrap().claimed, 0);
    assert!(rx.got().is_empty());
    // When the lease ends, another sender sends it, once.
    let r = t.app.webhooks().send_due_at(now + 61_000).await.unwrap();
    assert_eq!((r.claimed, r.delivered), (1, 1));
    assert_eq!(rx.got().len(), 1);
    assert_eq!(
        t.app
            .webhooks()
            .send_due_at(now + 200_000)
            .await
            .unwrap()
            .claimed,
        0
    );
    // The dead sender's outcome, were it to arrive late, changes nothing (stale attempt).
    let stale = yutang_store::webhooks::AttemptOutcome {
        id: claimed[0].id,
        subscription_id: claimed[0].subscription_id,
        attempt: claimed[0].attempts,
        http_status: None,
        error: "late".into(),
        retry_at: Some(now),
        delivered: false,
    };
    yutang_store::webhooks::record_outcomes(&t.app.db, &[stale], now, 3, "x")
        .await
        .unwrap();
    let d = yutang_store::webhooks::delivery(&t.app.db, claimed[0].id)
        .await
        .unwrap();
    assert_eq!(d.status, "delivered");
}

async fn webhook_management_through_the_api(e: Engine) {
    let t = app_for_hooks(e).await;
    let (url, rx) = receiver().await;
    let (id, secret) = subscribe(&t, &url, json!(["order_paid"])).await;
    let list: Value = get_v(&t, "/api/v1/webhooks").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["kinds"], json!(["order_paid"]));
    assert!(
        list[0].get("secret").is_none(),
        "the secret is never listed"
    );
    let kinds: Value = get_v(&t, "/api/v1/webhooks/kinds").await;
    assert!(kinds.as_array().unwrap().iter().any(|k| k == "order_paid"));
    // Edit.
    let r = t
        .send_json(
            Method::PUT,
            &format!("/api/v1/webhooks/{id}"),
            &t.admin,
            json!({"name": "CRM", "url": url, "kinds": ["order_paid", "order_refunded"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["name"].as_str(), v["kinds"].as_array().unwrap().len()),
        (Some("CRM"), 2)
    );
    // A test delivery, signed with the secret; then with a rotated secret.
    let r = t
        .post(&format!("/api/v1/webhooks/{id}/test"), &t.admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        (p["event_id"].as_str(), p["status"].as_str()),
        (Some("ping_1"), Some("pending"))
    );
    deliver_all(&t).await;
    assert!(signed_by(&rx.got()[0], &secret));
    let r: Value = t
        .post(
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            &t.admin,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let fresh = r["secret"].as_str().unwrap().to_owned();
    assert!(fresh.starts_with("whsec_") && fresh != secret);
    t.post(&format!("/api/v1/webhooks/{id}/test"), &t.admin, json!({}))
        .await;
    deliver_all(&t).await;
    let last = rx.got().last().unwrap().clone();
    assert_eq!(last.event_id, "ping_2");
    assert!(signed_by(&last, &fresh) && !signed_by(&last, &secret));
    // Pause and resume are idempotent.
    for _ in 0..2 {
        let v: Value = post_v(&t, &format!("/api/v1/webhooks/{id}/pause")).await;
        assert_eq!(
            (v["status"].as_str(), v["paused_reason"].as_str()),
            (Some("paused"), Some("paused_by_staff"))
        );
    }
    let v: Value = t
        .post(
            &format!("/api/v1/webhooks/{id}/resume"),
            &t.admin,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "active");
    // A delivery of another webhook is not found under this one.
    let (other, _) = subscribe(&t, &url, json!(["*"])).await;
    let r = t
        .post(
            &format!("/api/v1/webhooks/{other}/deliveries/{}/replay", p["id"]),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t
        .get(
            &format!("/api/v1/webhooks/{id}/deliveries?status=lost"),
            &t.admin,
        )
        .await;
    assert_eq!(error_of(r).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    // Delete: gone from the list, 404 after, nothing more queued for it.
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        t.get(&format!("/api/v1/webhooks/{id}"), &t.admin)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let list: Value = get_v(&t, "/api/v1/webhooks").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let actions = t.audit_actions().await;
    assert!(actions.iter().filter(|a| *a == "webhook_changed").count() >= 8);
    // Only admins manage webhooks.
    t.staff("ops1", "operator", None).await;
    let ops = t.login("ops1").await;
    assert_eq!(
        t.get("/api/v1/webhooks", &ops).await.status(),
        StatusCode::FORBIDDEN
    );
}

async fn bad_subscriptions_are_refused_naming_the_field(e: Engine) {
    // Default settings: private targets are refused. (PostgreSQL needs a secret key to seal
    // signing secrets, as for WeCom's.)
    let t = spawn_with(e, |s| s.secret_key = Some(Secret::new("ab".repeat(32)))).await;
    for (body, field, code) in [
        (
            json!({"name": "x", "url": "http://127.0.0.1:9/hook", "kinds": ["*"]}),
            "url",
            "private_target",
        ),
        (
            json!({"name": "x", "url": "http://169.254.169.254/latest", "kinds": ["*"]}),
            "url",
            "private_target",
        ),
        (
            json!({"name": "x", "url": "http://localhost/hook", "kinds": ["*"]}),
            "url",
            "private_target",
        ),
        (
            json!({"name": "x", "url": "ftp://hooks.example.com/", "kinds": ["*"]}),
            "url",
            "invalid_url",
        ),
        (
            json!({"name": "x", "url": "https://hooks.example.com/", "kinds": []}),
            "kinds",
            "no_kinds",
        ),
        (
            json!({"name": "x", "url": "https://hooks.example.com/", "kinds": ["Order Paid"]}),
            "kinds",
            "invalid_kind",
        ),
        (
            json!({"name": "a\u{7}b", "url": "https://hooks.example.com/", "kinds": ["*"]}),
            "name",
            "",
        ),
        (
            json!({"name": "x", "url": "https://hooks.example.com/", "kinds": ["*"], "secret": "mine"}),
            "secret",
            "",
        ),
    ] {
        let r = t.post("/api/v1/webhooks", &t.admin, body.clone()).await;
        let (status, got_code, got_field) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(got_field.as_deref(), Some(field), "{body}");
        if !code.is_empty() {
            assert_eq!(got_code, code, "{body}");
        }
    }
    // A public URL is accepted without being resolved (DNS is checked at each delivery).
    let r = t
        .post(
            "/api/v1/webhooks",
            &t.admin,
            json!({"name": "ok", "url": "https://hooks.example.com/yutang", "kinds": ["*"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let list: Value = get_v(&t, "/api/v1/webhooks").await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "nothing written by the refusals"
    );
    for path in ["/api/v1/webhooks/999999", "/api/v1/webhooks/abc"] {
        assert_eq!(t.get(path, &t.admin).await.status(), StatusCode::NOT_FOUND);
    }
}

/// Writers commit concurrently while two followers (two nodes) run: every event is queued
/// exactly once — none skipped when a smaller id commits after a larger one was read.
async fn concurrent_writers_and_followers_queue_every_event_once(e: Engine) {
    let t = app_for_hooks(e).await;
    let c = customer_with_phone(&t, "13800000004", "林四").await;
    let (url, _rx) = receiver().await;
    let (id, _) = subscribe(&t, &url, json!(["share"])).await;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (client, url, token) = (t.client.clone(), t.url("/api/v1/events"), t.admin.clone());
            tokio::spawn(async move {
                for b in 0..10 {
                    let list: Vec<Value> = (0..20)
                        .map(|i| json!({"id": format!("w{w}-{b}-{i}"), "kind": "share", "customer_id": c}))
                        .collect();
                    let r = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"events": list}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), StatusCode::OK);
                }
            })
        })
        .collect();
    let followers: Vec<_> = (0..2)
        .map(|_| {
            let app = t.app.clone();
            tokio::spawn(async move {
                for _ in 0..30 {
                    app.webhooks().follow().await.unwrap();
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    for f in followers {
        f.await.unwrap();
    }
    t.app.webhooks().follow().await.unwrap();
    let (rows, total) = yutang_store::webhooks::deliveries(&t.app.db, id, None, 1000, 0)
        .await
        .unwrap();
    assert_eq!(total, 800);
    let mut refs: Vec<&str> = rows.iter().map(|r| r.event_ref.as_str()).collect();
    refs.sort_unstable();
    refs.dedup();
    assert_eq!(refs.len(), 800, "each event once");
}
