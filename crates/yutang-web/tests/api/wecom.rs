use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_app::settings::Secret;
use yutang_app::wecom::MAX_ATTEMPTS;
use yutang_wecom::{AesKey, CallbackCrypto};

use crate::helpers::{Engine, TestApp, spawn_with};

both_engines!(
    url_verification_answers_the_bare_echostr,
    callbacks_are_stored_once,
    forged_or_misrouted_callbacks_are_refused_and_store_nothing,
    unknown_events_are_kept,
    callbacks_need_configuration,
    contact_callbacks_become_customers_and_follows,
    corp_tags_are_yutang_tags_both_ways,
);

pub(crate) const CORP: &str = "ww5823bf96d3bd56c7";
pub(crate) const TOKEN: &str = "QDG6eK";

async fn configured(e: Engine) -> (TestApp, CallbackCrypto, String) {
    let key = AesKey::generate().to_encoding_aes_key();
    let k = key.clone();
    let t = spawn_with(e, move |s| {
        s.wecom.corp_id = CORP.into();
        s.wecom.callback_token = Some(Secret::new(TOKEN));
        s.wecom.encoding_aes_key = Some(Secret::new(k));
    })
    .await;
    let crypto = CallbackCrypto::from_encoding_aes_key(TOKEN, &key, CORP).unwrap();
    (t, crypto, key)
}

pub(crate) fn add_contact_xml(external: &str, at: i64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>\
         <UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[{external}]]></ExternalUserID>\
         <State><![CDATA[store-sh-001]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>"
    )
}

/// POST an event the way WeCom does: signature, timestamp and nonce in the query, the
/// envelope in the body.
pub(crate) async fn deliver(t: &TestApp, crypto: &CallbackCrypto, xml: &str) -> reqwest::Response {
    let (ts, nonce) = ("1700000000", "n0nce");
    let envelope = crypto.encrypt_message(xml, ts, nonce).unwrap();
    let enc = yutang_wecom::Envelope::parse(&envelope).unwrap();
    let body = format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>",
        enc.encrypt
    );
    t.client
        .post(t.url(&format!(
            "/wecom/callback?msg_signature={}&timestamp={ts}&nonce={nonce}",
            enc.msg_signature.unwrap_or_default()
        )))
        .body(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn inbox(t: &TestApp) -> yutang_store::wecom::inbox::InboxStats {
    yutang_store::wecom::inbox::stats(&t.app.db, MAX_ATTEMPTS)
        .await
        .unwrap()
}

async fn url_verification_answers_the_bare_echostr(e: Engine) {
    let (t, crypto, _) = configured(e).await;
    let echostr = crypto
        .encrypt_payload(*b"0123456789abcdef", "1616140317555161061")
        .unwrap();
    let sig = crypto.signature("1409659589", "263014780", &echostr);
    let url = format!(
        "/wecom/callback?msg_signature={sig}&timestamp=1409659589&nonce=263014780&echostr={}",
        url::form_urlencoded::byte_serialize(echostr.as_bytes()).collect::<String>()
    );
    let r = t.client.get(t.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "1616140317555161061");
    // A wrong signature is refused with WeCom's code.
    let bad = url.replace(&sig, &"0".repeat(40));
    let r = t.client.get(t.url(&bad)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().starts_with("-40001"));
}

async fn callbacks_are_stored_once(e: Engine) {
    let (t, crypto, _) = configured(e).await;
    let xml = add_contact_xml("wmEXT001", 1_700_000_000);
    for _ in 0..3 {
        let r = deliver(&t, &crypto, &xml).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.text().await.unwrap(), "");
    }
    // Another customer adding the same guide in the same second is a different event.
    assert_eq!(
        deliver(&t, &crypto, &add_contact_xml("wmEXT002", 1_700_000_000))
            .await
            .status(),
        StatusCode::OK
    );
    let s = inbox(&t).await;
    // The receive handler starts processing at once, so only the count is fixed here.
    assert_eq!(s.total, 2);
    let recent = yutang_store::wecom::inbox::recent(&t.app.db, 10)
        .await
        .unwrap();
    assert_eq!(recent[0].event, "change_external_contact");
    assert_eq!(recent[0].change_type, "add_external_contact");
    assert_eq!(recent[0].corp_id, CORP);
    assert!(recent[0].payload.contains("wmEXT002"));
}

async fn forged_or_misrouted_callbacks_are_refused_and_store_nothing(e: Engine) {
    let (t, _crypto, key) = configured(e).await;
    let xml = add_contact_xml("wmEXT003", 1_700_000_100);
    // Wrong token → wrong signature.
    let other = CallbackCrypto::from_encoding_aes_key("another-token", &key, CORP).unwrap();
    let r = deliver(&t, &other, &xml).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().starts_with("-40001"));
    // Right token and key but another corp's receive id.
    let other = CallbackCrypto::from_encoding_aes_key(TOKEN, &key, "ww_other_corp").unwrap();
    let r = deliver(&t, &other, &xml).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().starts_with("-40005"));
    // Wrong key.
    let other = CallbackCrypto::from_encoding_aes_key(
        TOKEN,
        &AesKey::generate().to_encoding_aes_key(),
        CORP,
    )
    .unwrap();
    assert_eq!(
        deliver(&t, &other, &xml).await.status(),
        StatusCode::FORBIDDEN
    );
    // Garbage bodies and missing parameters.
    for (q, body) in [
        ("?msg_signature=x&timestamp=1&nonce=2", "<xml><Encrypt>"),
        ("?msg_signature=x&timestamp=1&nonce=2", "not xml at all"),
        (
            "?msg_signature=x&timestamp=1&nonce=2",
            "<xml><Encrypt><![CDATA[%%%not-base64]]></Encrypt></xml>",
        ),
        ("", "<xml/>"),
    ] {
        let r = t
            .client
            .post(t.url(&format!("/wecom/callback{q}")))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status() == StatusCode::FORBIDDEN || r.status() == StatusCode::BAD_REQUEST,
            "{q} {body}: {}",
            r.status()
        );
    }
    let r = t
        .client
        .post(t.url("/wecom/callback?msg_signature=x&timestamp=1&nonce=2"))
        .body(vec![b'a'; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(inbox(&t).await.total, 0);
}

async fn unknown_events_are_kept(e: Engine) {
    let (t, crypto, _) = configured(e).await;
    let xml = format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>1700000200</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[change_future_thing]]></Event><ChangeType><![CDATA[brand_new]]></ChangeType></xml>"
    );
    assert_eq!(deliver(&t, &crypto, &xml).await.status(), StatusCode::OK);
    let recent = yutang_store::wecom::inbox::recent(&t.app.db, 10)
        .await
        .unwrap();
    assert_eq!(
        (recent[0].event.as_str(), recent[0].change_type.as_str()),
        ("change_future_thing", "brand_new")
    );
}

async fn callbacks_need_configuration(e: Engine) {
    let t = spawn_with(e, |_| {}).await;
    let r = t
        .client
        .get(t.url("/wecom/callback?msg_signature=a&timestamp=1&nonce=2&echostr=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(inbox(&t).await.total, 0);
}

/// Process the inbox until nothing is pending (the receive handler also starts a pass).
pub(crate) async fn drain(t: &TestApp) {
    for _ in 0..50 {
        t.app.wecom().process_wecom_inbox(100).await.unwrap();
        if inbox(t).await.unapplied() == 0 {
            // Passes started by the callbacks themselves may still be sending welcomes.
            t.app.wecom().wecom_follow_ups_settled().await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("WeCom inbox did not drain: {:?}", inbox(t).await);
}

async fn contact_callbacks_become_customers_and_follows(e: Engine) {
    let (t, crypto, _) = configured(e).await;
    let store = t.store("WX-1").await;
    let guide = t.staff("wx.guide", "guide", Some(store)).await;
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{guide}"),
            &t.admin,
            json!({"wecom_userid": "zhangsan"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["wecom_userid"], "zhangsan");
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{guide}"),
            &t.admin,
            json!({"wecom_userid": "张三"}),
        )
        .await;
    assert_eq!(crate::helpers::error_of(r).await.1, "invalid_wecom_userid");

    assert_eq!(
        deliver(&t, &crypto, &add_contact_xml("wmCUST01", 1_700_000_300))
            .await
            .status(),
        StatusCode::OK
    );
    drain(&t).await;
    let list: Value = t
        .get("/api/v1/customers?q=wmCUST01", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let id = list["items"][0]["id"].as_i64().unwrap();
    let follows: Value = t
        .get(&format!("/api/v1/customers/{id}/follows"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let f = follows
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["staff_id"] == guide)
        .expect("guide follows the customer");
    assert_eq!(f["state"], "active");
    // The guide now sees the customer; the timeline shows the add.
    let g = t.login("wx.guide").await;
    assert_eq!(
        t.get(&format!("/api/v1/customers/{id}"), &g).await.status(),
        StatusCode::OK
    );
    let tl = t
        .get(&format!("/api/v1/customers/{id}/timeline"), &t.admin)
        .await
        .text()
        .await
        .unwrap();
    assert!(tl.contains("add_friend"), "{tl}");

    // The customer deletes the guide (churn signal); a replay of the same callback is a no-op.
    let del = add_contact_xml("wmCUST01", 1_700_000_400)
        .replace("add_external_contact", "del_follow_user")
        .replace("<State><![CDATA[store-sh-001]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>", "");
    for _ in 0..2 {
        assert_eq!(deliver(&t, &crypto, &del).await.status(), StatusCode::OK);
    }
    drain(&t).await;
    let follows: Value = t
        .get(&format!("/api/v1/customers/{id}/follows"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let f = follows
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["staff_id"] == guide)
        .unwrap();
    assert_eq!(f["state"], "deleted_by_customer");
    let tl: Value = t
        .get(
            &format!("/api/v1/customers/{id}/timeline?kind=delete_friend"),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tl["total"], 1, "{tl}");
    let s = inbox(&t).await;
    assert_eq!((s.total, s.pending, s.failed, s.parked), (2, 0, 0, 0));
}

/// Corp tags arrive as `wecom` tag groups; a tag added in Yutang to such a group is created in
/// WeCom first; a tag deleted in WeCom disappears here on the next sync (or callback).
async fn corp_tags_are_yutang_tags_both_ways(e: Engine) {
    use yutang_wecom::fake::{FakeConfig, FakeWecom};
    let fake = FakeWecom::start(FakeConfig::demo()).await.unwrap();
    let (corp, secret, base) = (
        fake.corp_id().to_owned(),
        fake.secret().to_owned(),
        fake.base_url().to_owned(),
    );
    let t = spawn_with(e, move |s| {
        s.wecom.corp_id = corp;
        s.wecom.contact_secret = Some(Secret::new(secret));
        s.wecom.api_base = base;
    })
    .await;
    let r = t
        .post("/api/v1/tag-groups/sync-wecom", &t.admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    let (groups, tags) = fake.with_corp(|c| {
        (
            c.tag_groups.len(),
            c.tag_groups.iter().map(|g| g.tags.len()).sum::<usize>(),
        )
    });
    assert_eq!(
        (v["groups"].as_u64(), v["tags"].as_u64()),
        (Some(groups as u64), Some(tags as u64))
    );
    let cat: Value = t
        .get("/api/v1/tag-groups", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let channel = cat
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "来源渠道")
        .expect("来源渠道 synced")
        .clone();
    assert_eq!(channel["source"], "wecom");
    assert!(
        channel["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "直播间")
    );
    // Syncing again changes nothing.
    let v: Value = t
        .post("/api/v1/tag-groups/sync-wecom", &t.admin, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["deleted_tags"].as_u64(), v["deleted_groups"].as_u64()),
        (Some(0), Some(0))
    );
    let cat2: Value = t
        .get("/api/v1/tag-groups", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cat2.as_array().unwrap().len(),
        cat.as_array().unwrap().len()
    );

    // Yutang → WeCom: a new tag in the WeCom group is created there first.
    let r = t
        .post(
            "/api/v1/tags",
            &t.admin,
            json!({"group_id": channel["id"], "name": "社群裂变"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let new_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert!(fake.with_corp(|c| {
        c.tag_groups
            .iter()
            .any(|g| g.group_name == "来源渠道" && g.tags.iter().any(|t| t.name == "社群裂变"))
    }));
    // And deleted there with it.
    let r = t
        .send_json(
            Method::DELETE,
            &format!("/api/v1/tags/{new_id}"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!fake.with_corp(|c| {
        c.tag_groups
            .iter()
            .any(|g| g.tags.iter().any(|t| t.name == "社群裂变"))
    }));

    // WeCom → Yutang: a tag deleted in WeCom goes on the next sync, and customers lose it.
    let c = crate::customers::customer_with_phone(&t, "13900001111", "周杰").await;
    let live = channel["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "直播间")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = t
        .post(
            &format!("/api/v1/customers/{c}/tags"),
            &t.admin,
            json!({"add": [live]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    fake.with_corp(|corp| {
        for g in &mut corp.tag_groups {
            g.tags.retain(|t| t.name != "直播间");
        }
    });
    let v: Value = t
        .post("/api/v1/tag-groups/sync-wecom", &t.admin, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["deleted_tags"], 1);
    let tags: Value = t
        .get(&format!("/api/v1/customers/{c}/tags"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(tags.as_array().unwrap().is_empty());
    // Without WeCom configured the sync says so.
    let plain = crate::helpers::spawn_app(e).await;
    let r = plain
        .post("/api/v1/tag-groups/sync-wecom", &plain.admin, json!({}))
        .await;
    assert_eq!(crate::helpers::error_of(r).await.1, "wecom_not_configured");
    fake.shutdown().await;
}
