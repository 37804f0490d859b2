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

/// Two nodes on one fresh PostgreSQL database, both set up by `settings`.
async fn two_nodes(settings: impl Fn(&mut Settings) + Clone) -> (TestApp, TestApp) {
    let a = spawn_with(Engine::Postgres, settings.clone()).await;
    let url = a.app.settings.database_url.clone();
    let b = spawn_with(Engine::Postgres, move |s| {
        settings(s);
        s.database_url = url;
    })
    .await;
    (a, b)
}

#[tokio::test]
async fn two_nodes_share_one_postgres() {
    let key = AesKey::generate().to_encoding_aes_key();
    let (a, b) = two_nodes(move |s: &mut Settings| {
        s.wecom.corp_id = CORP.into();
        s.wecom.callback_token = Some(Secret::new(TOKEN));
        s.wecom.encoding_aes_key = Some(Secret::new(key.clone()));
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

/// Two nodes re-pointing one live code at once (issue #19: caps under concurrency). Three
/// guides with a daily cap of 3 and a backup stand behind one contact way; customers scan it
/// through the fake WeCom (which hands each to one of the way's users at that moment), and
/// each add's signed callback is delivered to both nodes, twice each (WeCom retries; a load
/// balancer may send a retry elsewhere). [`WORKERS`] customers are in flight at once: each
/// scans, delivers, and scans again only once the re-pointing that follows its add is done
/// (`sync_done` reached the code's `sync_wanted` as it stood after the add committed). Run
/// for an even spread (the way re-pointed when a guide reaches the cap) and a weighted one
/// (re-pointed after nearly every add: many concurrent re-pointings).
///
/// What the design gives, asserted here:
/// - every add is counted exactly once (one `channel_adds` row, one counter increment);
/// - a guide goes over the cap only by adds WeCom had already handed them before the
///   re-pointing that follows the cap-reaching add reached WeCom. With at most W adds in
///   flight and each waiting for its re-pointing, every in-flight add adds at most one past
///   the cap, the cap-reaching one none: adds ≤ cap + W − 1 (reached in practice);
/// - the contact way ends pointing at the guides core's pure `rotation` gives for the final
///   counters, and the code is settled (`sync_done = sync_wanted`, no lease held): no add is
///   left out of the re-pointing — each add's wait is limited to 20 s, well under the minute
///   tick that would otherwise hide a stranded one;
/// - WeCom never saw two `update_contact_way` calls for the contact way at once (the fake
///   answers each after 25 ms, so an overlap would be seen).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_repoint_one_live_code() {
    use std::sync::Arc;

    use yutang_wecom::fake::{FakeConfig, FakeWecom};

    let mut config = FakeConfig::demo();
    config.latency = Duration::from_millis(25);
    let fake = Arc::new(FakeWecom::start(config).await.unwrap());
    let key = AesKey::generate().to_encoding_aes_key();
    let (a, b) = two_nodes(crate::wecom_sync::fake_settings(&fake, &key)).await;
    let store = a.store("TN-LC").await;
    let mut staff = Vec::new();
    for userid in ["zhangwei", "wangfang", "lina", "liuyang"] {
        let id = crate::wecom_sync::guide(&a, store, userid).await;
        staff.push((id, userid));
    }
    let nodes = Arc::new((a, b));
    for spread in ["even", "weighted"] {
        repoint_concurrently(&nodes, &fake, &key, &staff, spread).await;
    }
}

/// How many customers are in flight at once in [`two_nodes_repoint_one_live_code`].
const WORKERS: usize = 4;

/// One code of [`two_nodes_repoint_one_live_code`] under `spread`, on the nodes `nodes`.
async fn repoint_concurrently(
    nodes: &std::sync::Arc<(TestApp, TestApp)>,
    fake: &std::sync::Arc<yutang_wecom::fake::FakeWecom>,
    key: &str,
    staff: &[(i64, &str)],
    spread: &str,
) {
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use yutang_core::acquisition::LiveCodeSpec;
    use yutang_core::acquisition::live_codes::rotation;
    use yutang_wecom::client::api::PATH_UPDATE_CONTACT_WAY;
    use yutang_wecom::fake::{CallbackTarget, FakeEvent};

    const CAP: i64 = 3;
    const ADDS: usize = 18;

    let a = &nodes.0;
    let userid_of: HashMap<i64, &str> = staff.iter().copied().collect();
    let channel = created_id(
        a.post(
            "/api/v1/channels",
            &a.admin,
            json!({"name": format!("两节点活码 {spread}"), "kind": "store_stand"}),
        )
        .await,
    )
    .await;
    let spec_json = json!({
        "channel_id": channel, "name": "收银台", "state": format!("tn-{spread}"),
        "guides": [{"staff_id": staff[0].0, "daily_cap": CAP},
            {"staff_id": staff[1].0, "daily_cap": CAP}, {"staff_id": staff[2].0, "daily_cap": CAP}],
        "backup_staff_id": staff[3].0, "spread": spread
    });
    let spec: LiveCodeSpec = serde_json::from_value(spec_json.clone()).unwrap();
    let code = json_ok(
        a.post("/api/v1/live-codes", &a.admin, spec_json).await,
        StatusCode::CREATED,
    )
    .await;
    let code_id = code["id"].as_i64().unwrap();
    let config_id = code["config_id"].as_str().unwrap().to_owned();
    assert_eq!(code["sync_status"], "synced", "{code}");
    let updates_before = fake.calls(PATH_UPDATE_CONTACT_WAY);

    let targets: Vec<CallbackTarget> = [&nodes.0, &nodes.1]
        .iter()
        .map(|n| CallbackTarget {
            url: n.url("/wecom/callback"),
            token: crate::wecom_sync::TOKEN.into(),
            encoding_aes_key: key.to_owned(),
            receive_id: fake.corp_id().to_owned(),
        })
        .collect();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (fake, nodes, next, targets, config_id) = (
            Arc::clone(fake),
            Arc::clone(nodes),
            Arc::clone(&next),
            targets.clone(),
            config_id.clone(),
        );
        workers.spawn(async move {
            let db = &nodes.0;
            let http = reqwest::Client::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= ADDS {
                    return;
                }
                let ev = fake
                    .simulate_scan_contact_way(&config_id, &format!("扫码客{i}"))
                    .unwrap();
                let FakeEvent::AddExternalContact {
                    external_userid, ..
                } = &ev
                else {
                    panic!("unexpected {ev:?}")
                };
                let at = chrono::Utc::now().timestamp();
                let xml = ev.to_xml(fake.corp_id(), at);
                let pushes = targets
                    .iter()
                    .chain(targets.iter())
                    .map(|t| yutang_wecom::fake::push::push_xml(&http, t, &xml, at));
                for out in futures_util::future::join_all(pushes).await {
                    assert_eq!(out.unwrap().status, 200);
                }
                // The add committed (its customer exists), then the re-pointing that saw it.
                let wanted = eventually(
                    db,
                    &format!(
                        "SELECT COALESCE(MAX(l.sync_wanted), 0) FROM live_codes l \
                         WHERE l.id = {code_id} AND EXISTS (SELECT 1 FROM customer_identities c \
                         WHERE c.kind = 'wecom_external' AND c.value = '{external_userid}')"
                    ),
                    |n| n > 0,
                )
                .await;
                eventually(
                    db,
                    &format!("SELECT sync_done FROM live_codes WHERE id = {code_id}"),
                    |done| done >= wanted,
                )
                .await;
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r.unwrap();
    }
    let (a, b) = (&nodes.0, &nodes.1);
    a.app.wecom().wecom_follow_ups_settled().await;
    b.app.wecom().wecom_follow_ups_settled().await;

    // Every add counted exactly once.
    let counted = |sql: String| async move { crate::acquisition::scalar(a, &sql).await };
    assert_eq!(
        counted(format!(
            "SELECT COUNT(*) FROM channel_adds WHERE code_id = {code_id}"
        ))
        .await,
        ADDS as i64
    );
    let mut adds: HashMap<i64, i64> = HashMap::new();
    for &(s, _) in staff {
        let n = counted(format!(
            "SELECT CAST(COALESCE(SUM(adds), 0) AS BIGINT) FROM live_code_adds \
             WHERE code_id = {code_id} AND staff_id = {s}"
        ))
        .await;
        let by_add = counted(format!(
            "SELECT COUNT(*) FROM channel_adds WHERE code_id = {code_id} AND staff_id = {s}"
        ))
        .await;
        assert_eq!(n, by_add, "{spread}: staff {s}'s counter and adds agree");
        adds.insert(s, n);
    }
    assert_eq!(
        adds.values().sum::<i64>(),
        ADDS as i64,
        "{spread}: {adds:?}"
    );
    // Over the cap only by adds already in flight; the backup took the rest.
    for &(s, _) in &staff[..3] {
        assert!(
            (CAP..=CAP + WORKERS as i64 - 1).contains(&adds[&s]),
            "{spread}: guide {s}: {adds:?}"
        );
    }
    assert!(adds[&staff[3].0] > 0, "{spread}: {adds:?}");

    // Settled, and pointing where the rotation says for the final counters.
    let code = json_ok(
        a.get(&format!("/api/v1/live-codes/{code_id}"), &a.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        counted(format!(
            "SELECT COUNT(*) FROM live_codes WHERE id = {code_id} AND sync_done = sync_wanted \
             AND sync_lease_until IS NULL AND sync_status = 'synced'"
        ))
        .await,
        1,
        "{spread}: {code}"
    );
    let shanghai = (chrono::Utc::now() + chrono::Duration::hours(8)).naive_utc();
    let want = rotation(&spec, shanghai, |s| adds.get(&s).copied().unwrap_or(0));
    assert_eq!(want.users, vec![staff[3].0], "{spread}: {want:?}");
    let users: Vec<&str> = want.users.iter().map(|s| userid_of[s]).collect();
    assert_eq!(
        fake.contact_way(&config_id).unwrap().users,
        users,
        "{spread}"
    );
    assert_eq!(
        code["current_staff_ids"],
        json!(want.users),
        "{spread}: {code}"
    );

    // One caller at a time per contact way.
    let updates = fake.calls(PATH_UPDATE_CONTACT_WAY) - updates_before;
    assert!(updates >= 1, "{spread}: re-pointed {updates} times");
    assert_eq!(
        fake.max_concurrent(PATH_UPDATE_CONTACT_WAY, &config_id),
        1,
        "{spread}: two update_contact_way calls overlapped"
    );
}

/// Poll `sql` (one integer) on `t` until `ok` holds; 20 s at most.
async fn eventually(t: &TestApp, sql: &str, ok: impl Fn(i64) -> bool) -> i64 {
    let mut last = 0;
    for _ in 0..400 {
        last = crate::acquisition::scalar(t, sql).await;
        if ok(last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never reached: {sql} (last {last})");
}
