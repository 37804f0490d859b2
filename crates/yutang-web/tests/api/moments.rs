//! Moments tasks (issue #21 item 3) through the HTTP API against the fake WeCom, on both
//! engines: a post with images goes to the chosen guides and WeCom corp tags; WeCom's
//! asynchronous job is polled; who published, likes and comments come back once each; images
//! are uploaded once and again only when WeCom's copy nears its expiry; a commit lost after
//! WeCom made the moment makes no second one; a throttled WeCom delays and loses nothing; a
//! store manager works with their store's guides only; bad input is refused by field and
//! creates nothing.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_core::media::solid_png;
use yutang_wecom::client::api::{PATH_ADD_MOMENT_TASK, PATH_UPLOAD_ATTACHMENT};

use crate::helpers::{Engine, TestApp, error_of};
use crate::mass_messages::synced;
use crate::promotions::scalar;

both_engines!(
    a_moment_is_published_and_its_likes_and_comments_come_back,
    a_lost_commit_or_a_throttled_wecom_makes_one_moment,
    a_store_manager_posts_through_their_own_guides,
    bad_input_is_refused_by_field_and_creates_nothing,
);

async fn ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn image(t: &TestApp, rgb: [u8; 3]) -> i64 {
    let r = t
        .req(Method::POST, "/api/v1/media", Some(&t.admin))
        .header("content-type", "image/png")
        .body(solid_png(8, 8, rgb))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// The staff id linked to a WeCom userid.
async fn staff_of(t: &TestApp, userid: &str) -> i64 {
    let sql = format!("SELECT id FROM staff WHERE wecom_userid = '{userid}'");
    scalar(t, Box::leak(sql.into_boxed_str())).await
}

/// A tag synced from WeCom: (Yutang id, WeCom corp tag id).
async fn wecom_tag(t: &TestApp) -> (i64, String) {
    let id = scalar(
        t,
        "SELECT id FROM tags WHERE wecom_id IS NOT NULL ORDER BY id LIMIT 1",
    )
    .await;
    let (_, tags) = yutang_store::tags::wecom_ids(&t.app.db).await.unwrap();
    let w = tags.into_iter().find(|(i, _)| *i == id).unwrap().1;
    (id, w)
}

async fn task(t: &TestApp, id: i64) -> Value {
    ok(
        t.get(&format!("/api/v1/moments/{id}"), &t.admin).await,
        StatusCode::OK,
    )
    .await
}

/// Run the moments jobs (their later rounds made due at once) until the task leaves
/// `scheduled` and `creating`.
async fn settle(t: &TestApp, id: i64) -> Value {
    for _ in 0..200 {
        t.exec(
            "UPDATE jobs SET run_at = 0 WHERE status = 'queued' \
             AND kind IN ('moment_create', 'moment_result')",
        )
        .await;
        t.settle_jobs().await;
        let v = task(t, id).await;
        if v["status"] != "scheduled" && v["status"] != "creating" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("moments task {id} did not settle: {}", task(t, id).await);
}

async fn post(t: &TestApp, token: &str, body: Value) -> Value {
    ok(
        t.post("/api/v1/moments", token, body).await,
        StatusCode::CREATED,
    )
    .await
}

fn senders_by_name(v: &Value) -> BTreeMap<String, Value> {
    v["senders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["staff_name"].as_str().unwrap().to_owned(), s.clone()))
        .collect()
}

async fn a_moment_is_published_and_its_likes_and_comments_come_back(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let (a, b) = (
        image(&t, [200, 30, 30]).await,
        image(&t, [30, 200, 30]).await,
    );
    let (tag, wecom_tag) = wecom_tag(&t).await;
    let zhang = staff_of(&t, "zhangwei").await;
    let wang = staff_of(&t, "wangfang").await;
    let choices = ok(
        t.get("/api/v1/moments/senders", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    let offered: Vec<i64> = choices
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["staff_id"].as_i64().unwrap())
        .collect();
    assert!(
        offered.contains(&zhang) && offered.contains(&wang),
        "{choices}"
    );

    // WeCom's job is still running at the first poll: Yutang asks again.
    fake.delay_moment_jobs(1);
    let v = post(
        &t,
        &t.admin,
        json!({"name": "春季上新", "text": "春季新品到店 🌸\n欢迎来店试穿",
            "attachments": [{"kind": "image", "media_id": a}, {"kind": "image", "media_id": b}],
            "sender_ids": [zhang, wang], "tag_ids": [tag]}),
    )
    .await;
    assert_eq!(v["status"], "scheduled");
    let id = v["id"].as_i64().unwrap();
    let v = settle(&t, id).await;
    assert_eq!(v["status"], "created", "{v}");
    let moment_id = v["moment_id"].as_str().unwrap().to_owned();
    assert_eq!(v["counts"]["pending"], 2);
    assert_eq!(fake.uploads(), 2, "each image uploaded once");
    let made = fake.moments();
    assert_eq!(made.len(), 1);
    let mut senders = made[0].senders.clone();
    senders.sort();
    assert_eq!(senders, vec!["wangfang".to_owned(), "zhangwei".to_owned()]);
    assert_eq!(made[0].tag_list, vec![wecom_tag]);
    assert_eq!(made[0].text, "春季新品到店 🌸\n欢迎来店试穿");

    // One guide publishes; two customers like and comment on their post.
    assert!(fake.publish_moment(&moment_id, "zhangwei"));
    assert!(fake.like_moment(&moment_id, "zhangwei", "wmDemoCustomer0001"));
    assert!(fake.like_moment(&moment_id, "zhangwei", "wmDemoCustomer0002"));
    assert!(fake.comment_moment(&moment_id, "zhangwei", "wmDemoCustomer0001"));
    let r = t
        .post(
            &format!("/api/v1/moments/{id}/refresh"),
            &t.admin,
            json!({}),
        )
        .await;
    let v = ok(r, StatusCode::OK).await;
    assert_eq!(
        (&v["counts"]["published"], &v["counts"]["pending"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(
        (&v["counts"]["likes"], &v["counts"]["comments"]),
        (&json!(2), &json!(1))
    );
    let by_name = senders_by_name(&v);
    let zw = by_name.values().find(|s| s["staff_id"] == zhang).unwrap();
    assert_eq!(zw["state"], "published");
    assert!(zw["published_at"].is_string());
    let first = customers["wmDemoCustomer0001"];
    let theirs: Vec<&Value> = v["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["customer_id"] == first)
        .collect();
    assert_eq!(theirs.len(), 2, "customer 1 liked and commented: {v}");

    // Reading again adds nothing twice.
    let again = ok(
        t.post(
            &format!("/api/v1/moments/{id}/refresh"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["counts"], v["counts"]);
    assert_eq!(again["interactions"], v["interactions"]);

    // A second post with the same image reuses WeCom's copy; once that copy nears its
    // three days, the next post uploads it again.
    let body = json!({"name": "到店提醒", "attachments": [{"kind": "image", "media_id": a}],
        "all_senders": true});
    let second = post(&t, &t.admin, body.clone()).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(settle(&t, second).await["status"], "created");
    assert_eq!(fake.uploads(), 2);
    let soon = t.app.now() + 30 * 60 * 1000;
    let sql = format!("UPDATE wecom_attachments SET expires_at = {soon}");
    t.exec(Box::leak(sql.into_boxed_str())).await;
    let third = post(&t, &t.admin, body).await["id"].as_i64().unwrap();
    assert_eq!(settle(&t, third).await["status"], "created");
    assert_eq!(fake.uploads(), 3);
    // "All guides": every active guide with a WeCom account.
    assert_eq!(task(&t, third).await["counts"]["pending"], 5);

    // Cancelling a made task stops the guide who has not published; the post published
    // stays and is still counted.
    let v = ok(
        t.post(&format!("/api/v1/moments/{id}/cancel"), &t.admin, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], "cancelled");
    assert!(!fake.publish_moment(&moment_id, "wangfang"));
    assert_eq!(v["counts"]["likes"], 2);
    let r = t
        .post(&format!("/api/v1/moments/{id}/cancel"), &t.admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    fake.shutdown().await;
}

async fn a_lost_commit_or_a_throttled_wecom_makes_one_moment(e: Engine) {
    let (t, fake, _, _) = synced(e).await;
    let a = image(&t, [10, 20, 30]).await;
    let body = |name: &str| {
        json!({"name": name, "text": name, "attachments": [{"kind": "image", "media_id": a}],
            "all_senders": true})
    };
    let id = post(&t, &t.admin, body("只发一次")).await["id"]
        .as_i64()
        .unwrap();
    let v = settle(&t, id).await;
    let moment_id = v["moment_id"].as_str().unwrap().to_owned();
    assert_eq!(fake.moments().len(), 1);

    // WeCom made the moment, then the commit that kept its job id was lost: the task is back
    // to `creating` with its attempt stamped, and the create job runs again.
    let stmts = [
        format!(
            "UPDATE moment_tasks SET status = 'creating', jobid = NULL, moment_id = NULL, \
             sent_at = NULL, attempted_at = updated_at - 1000 WHERE id = {id}"
        ),
        "DELETE FROM jobs WHERE kind IN ('moment_track', 'moment_result')".to_owned(),
        format!(
            "INSERT INTO jobs (kind, payload, run_at, created_at, updated_at) \
             VALUES ('moment_create', '{{\"moment_task_id\":{id}}}', 0, 0, 0)"
        ),
    ];
    for s in stmts {
        t.exec(Box::leak(s.into_boxed_str())).await;
    }
    let v = settle(&t, id).await;
    assert_eq!(v["status"], "created", "{v}");
    assert_eq!(v["moment_id"].as_str(), Some(moment_id.as_str()), "adopted");
    assert_eq!(fake.moments().len(), 1, "no second moment in WeCom");

    // WeCom throttles the upload and the creation once each: the task comes back later and
    // makes exactly one moment.
    fake.fail_next(PATH_UPLOAD_ATTACHMENT, 45033, 1);
    fake.fail_next(PATH_ADD_MOMENT_TASK, 45009, 1);
    t.exec("DELETE FROM wecom_attachments").await;
    let id2 = post(&t, &t.admin, body("限流之后")).await["id"]
        .as_i64()
        .unwrap();
    let v = settle(&t, id2).await;
    assert_eq!(v["status"], "created", "{v}");
    let made: Vec<_> = fake
        .moments()
        .into_iter()
        .filter(|m| m.text == "限流之后")
        .collect();
    assert_eq!(made.len(), 1);

    // WeCom refuses the job (its copy of the image expired while Yutang still trusted it):
    // the task fails with WeCom's reason, and nothing is retried.
    fake.advance_clock(std::time::Duration::from_secs(3 * 86_400 + 1));
    let id3 = post(&t, &t.admin, body("素材过期")).await["id"]
        .as_i64()
        .unwrap();
    let v = settle(&t, id3).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert!(v["error"].as_str().unwrap().contains("40007"), "{v}");
    fake.shutdown().await;
}

async fn a_store_manager_posts_through_their_own_guides(e: Engine) {
    let (t, fake, store, _) = synced(e).await;
    let other = t.store("MM-B").await;
    let outsider = crate::wecom_sync::guide(&t, other, "liuyang2").await;
    t.staff("mo.manager", "store_manager", Some(store)).await;
    t.staff("mo.guide", "guide", Some(store)).await;
    t.staff("mo.analyst", "analyst", None).await;
    let manager = t.login("mo.manager").await;
    let guide = t.login("mo.guide").await;
    let analyst = t.login("mo.analyst").await;
    let zhang = staff_of(&t, "zhangwei").await;

    let offered = ok(
        t.get("/api/v1/moments/senders", &manager).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(offered.as_array().unwrap().len(), 5, "{offered}");
    assert!(
        !offered
            .to_string()
            .contains(&format!("\"staff_id\":{outsider}"))
    );
    // Another store's guide cannot be asked.
    let r = t
        .post(
            "/api/v1/moments",
            &manager,
            json!({"name": "门店", "text": "你好", "sender_ids": [zhang, outsider]}),
        )
        .await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_sender".into(),
            Some("sender_ids".into())
        )
    );
    let mine = post(
        &t,
        &manager,
        json!({"name": "门店", "text": "你好", "sender_ids": [zhang],
            "send_at": "2099-01-01T00:00:00Z"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let brand = post(
        &t,
        &t.admin,
        json!({"name": "品牌", "text": "你好", "all_senders": true,
            "send_at": "2099-01-01T00:00:00Z"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let listed = ok(t.get("/api/v1/moments", &manager).await, StatusCode::OK).await;
    let ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![mine]);
    let r = t.get(&format!("/api/v1/moments/{brand}"), &manager).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Analysts read; guides neither read nor post.
    let r = t.get(&format!("/api/v1/moments/{brand}"), &analyst).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .post(
            "/api/v1/moments",
            &analyst,
            json!({"name": "x", "text": "x", "all_senders": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t.get("/api/v1/moments", &guide).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A scheduled task is cancelled without WeCom.
    let v = ok(
        t.post(
            &format!("/api/v1/moments/{mine}/cancel"),
            &manager,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], "cancelled");
    assert!(fake.moments().is_empty());
    fake.shutdown().await;
}

async fn bad_input_is_refused_by_field_and_creates_nothing(e: Engine) {
    let (t, fake, store, _) = synced(e).await;
    let a = image(&t, [1, 2, 3]).await;
    let zhang = staff_of(&t, "zhangwei").await;
    let offline = t.staff("mo.nowecom", "guide", Some(store)).await;
    let local_tag = {
        let g = ok(
            t.post(
                "/api/v1/tag-groups",
                &t.admin,
                json!({"name": "本地标签组"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await["id"]
            .as_i64()
            .unwrap();
        ok(
            t.post(
                "/api/v1/tags",
                &t.admin,
                json!({"group_id": g, "name": "仅本地"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await["id"]
            .as_i64()
            .unwrap()
    };
    let images = |n: usize| -> Value {
        (0..n)
            .map(|_| json!({"kind": "image", "media_id": a}))
            .collect::<Vec<_>>()
            .into()
    };
    let link = json!({"kind": "link", "title": "活动", "url": "https://shop.example/a",
        "cover_media_id": a});
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"name": "x", "sender_ids": [zhang]}),
            "text",
            "empty_content",
        ),
        (
            json!({"name": "x", "text": "字".repeat(2001), "sender_ids": [zhang]}),
            "text",
            "text_too_long",
        ),
        (
            json!({"name": "x", "attachments": images(10), "sender_ids": [zhang]}),
            "attachments",
            "too_many_items",
        ),
        (
            json!({"name": "x", "attachments": [link, {"kind": "image", "media_id": a}], "sender_ids": [zhang]}),
            "attachments",
            "invalid_attachment",
        ),
        (
            json!({"name": "x", "attachments": [{"kind": "image", "media_id": 987654}], "sender_ids": [zhang]}),
            "attachments",
            "unknown_image",
        ),
        (
            json!({"name": "x", "attachments": [{"kind": "link", "title": "t", "url": "javascript:x", "cover_media_id": a}], "sender_ids": [zhang]}),
            "attachments",
            "invalid_url",
        ),
        (
            json!({"name": "x", "text": "x"}),
            "sender_ids",
            "invalid_senders",
        ),
        (
            json!({"name": "x", "text": "x", "sender_ids": [zhang], "all_senders": true}),
            "all_senders",
            "invalid_senders",
        ),
        (
            json!({"name": "x", "text": "x", "sender_ids": [offline]}),
            "sender_ids",
            "unknown_sender",
        ),
        (
            json!({"name": "x", "text": "x", "sender_ids": [zhang], "tag_ids": [local_tag]}),
            "tag_ids",
            "tag_not_in_wecom",
        ),
        (
            json!({"name": "x", "text": "x", "sender_ids": [zhang], "tag_ids": [987654]}),
            "tag_ids",
            "unknown_tag",
        ),
        (
            json!({"name": "x", "text": "x", "sender_ids": [zhang], "send_at": "2020-01-01T00:00:00Z"}),
            "send_at",
            "send_at_past",
        ),
        (
            json!({"name": "a\u{1}b", "text": "x", "sender_ids": [zhang]}),
            "name",
            "invalid_characters",
        ),
        (
            json!({"name": "", "text": "x", "sender_ids": [zhang]}),
            "name",
            "invalid_name",
        ),
        (
            json!({"name": "x", "text": "a\u{7}b", "sender_ids": [zhang]}),
            "text",
            "invalid_characters",
        ),
    ];
    for (body, field, code) in cases {
        let r = t.post("/api/v1/moments", &t.admin, body.clone()).await;
        assert_eq!(
            error_of(r).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                code.to_owned(),
                Some(field.to_owned())
            ),
            "{body}"
        );
    }
    // Strict bodies: an unknown field is refused.
    let r = t
        .post(
            "/api/v1/moments",
            &t.admin,
            json!({"name": "x", "text": "x", "all_senders": true, "visible_to": "all"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM moment_tasks").await, 0);
    assert_eq!(fake.calls(PATH_ADD_MOMENT_TASK), 0);
    fake.shutdown().await;
}
