//! Two `yutang serve` nodes on one PostgreSQL, written through both (issue #17 item 7): the
//! segment index of each follows the other's commits and a caller reads its own write; a
//! flash sale split across both never oversells; a job runs once however many workers
//! poll; a WeCom callback delivered to both is applied once.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_app::settings::{Secret, Settings};
use yutang_wecom::{AesKey, CallbackCrypto};

use crate::helpers::{Engine, TestApp, spawn_with};
use crate::promotions::{created_id, customers, flash_sale, scalar};
use crate::segments::{count, group, json_ok, tag, wait_job};
use crate::wecom::{CORP, TOKEN, add_contact_xml, deliver, drain};

/// Wait until node `t` counts `want` for `expr` (its background loop catches up with the
/// other node's commits about once a second).
async fn eventually_counts(t: &TestApp, expr: &str, want: u64) {
    for _ in 0..200 {
        if count(t, &t.admin, expr).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the node never counted {want} for {expr}");
}

#[tokio::test]
async fn two_nodes_share_one_postgres() {
    let key = AesKey::generate().to_encoding_aes_key();
    let wecom = move |s: &mut Settings| {
        s.wecom.corp_id = CORP.into();
        s.wecom.callback_token = Some(Secret::new(TOKEN));
        s.wecom.encoding_aes_key = Some(Secret::new(key.clone()));
    };
    let a = spawn_with(Engine::Postgres, wecom.clone()).await;
    let url = a.app.settings.database_url.clone();
    let b = spawn_with(Engine::Postgres, move |s| {
        wecom(s);
        s.database_url = url;
    })
    .await;

    // Segment counts: a write on one node is read at once there, and soon on the other.
    let g = group(&a, "两节点", true).await;
    let t1 = tag(&a, g, "甲").await;
    let cs = customers(&a, 30, 7_000).await;
    let expr = r#"tag("两节点/甲")"#;
    for (i, (c, _)) in cs.iter().take(4).enumerate() {
        let node = if i % 2 == 0 { &a } else { &b };
        let r = node
            .post(
                &format!("/api/v1/customers/{c}/tags"),
                &node.admin,
                json!({"add": [t1]}),
            )
            .await;
        assert!(r.status().is_success(), "{:?}", r.text().await);
        // Read-your-write on the node that wrote.
        assert_eq!(count(node, &node.admin, expr).await, i as u64 + 1);
    }
    eventually_counts(&a, expr, 4).await;
    eventually_counts(&b, expr, 4).await;

    // A job started on one node runs once, whichever node's worker takes it.
    let ids: Vec<i64> = cs.iter().map(|(c, _)| *c).collect();
    let v = json_ok(
        b.post(
            "/api/v1/tags/bulk",
            &b.admin,
            json!({"add": [t1], "customer_ids": ids}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let done = wait_job(&a, &a.admin, v["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["added"], 26, "{done}");
    eventually_counts(&a, expr, 30).await;
    eventually_counts(&b, expr, 30).await;
    let tagged = scalar(&a, "SELECT COUNT(*) FROM events WHERE kind = 'tag_added'").await;
    assert_eq!(tagged, 30, "each customer tagged once");

    // A flash sale claimed through both nodes at once: exactly the stock wins.
    let sale = created_id(
        a.post("/api/v1/flash-sales", &a.admin, flash_sale(10))
            .await,
    )
    .await;
    let mut tasks = Vec::new();
    for (i, (_, tok)) in cs.iter().enumerate() {
        let node = if i % 2 == 0 { &a } else { &b };
        let req = node
            .req(
                Method::POST,
                &format!("/api/v1/public/flash-sales/{sale}/claim"),
                None,
            )
            .bearer_auth(tok);
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::CREATED => won += 1,
            s => assert_eq!(s, StatusCode::CONFLICT),
        }
    }
    assert_eq!(won, 10);
    assert_eq!(
        scalar(&b, "SELECT sold FROM flash_sales ORDER BY id DESC LIMIT 1").await,
        10
    );

    // One WeCom callback delivered to both nodes (WeCom retries; a load balancer may send
    // the retry elsewhere): stored once, applied once.
    let store = a.store("TN-1").await;
    let guide = a.staff("tn.guide", "guide", Some(store)).await;
    let r = a
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{guide}"),
            &a.admin,
            json!({"wecom_userid": "zhangsan"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let crypto = CallbackCrypto::from_encoding_aes_key(
        TOKEN,
        a.app
            .settings
            .wecom
            .encoding_aes_key
            .as_ref()
            .unwrap()
            .expose(),
        CORP,
    )
    .unwrap();
    let xml = add_contact_xml("wmTWONODE", 1_700_000_900);
    let (ra, rb) = tokio::join!(deliver(&a, &crypto, &xml), deliver(&b, &crypto, &xml));
    assert_eq!((ra.status(), rb.status()), (StatusCode::OK, StatusCode::OK));
    drain(&a).await;
    drain(&b).await;
    let list: Value = a
        .get("/api/v1/customers?q=wmTWONODE", &a.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let id = list["items"][0]["id"].as_i64().unwrap();
    let timeline: Value = b
        .get(&format!("/api/v1/customers/{id}/timeline"), &b.admin)
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "add_friend").count(),
        1,
        "{kinds:?}"
    );
    let follows: Value = b
        .get(&format!("/api/v1/customers/{id}/follows"), &b.admin)
        .await
        .json()
        .await
        .unwrap();
    let staff: HashSet<i64> = follows
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["staff_id"].as_i64().unwrap())
        .collect();
    assert_eq!(staff, HashSet::from([guide]));
}
