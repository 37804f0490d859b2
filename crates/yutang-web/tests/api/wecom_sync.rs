//! Customer groups from `change_external_chat` callbacks, and the WeCom full sync, against the
//! fake WeCom through the real client and the real callback receiver.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_app::settings::{Secret, Settings};
use yutang_wecom::AesKey;
use yutang_wecom::client::api::{PATH_BATCH_GET_BY_USER, PATH_GROUPCHAT_GET};
use yutang_wecom::fake::corp::Member;
use yutang_wecom::fake::{CallbackTarget, FakeConfig, FakeEvent, FakeWecom};

use crate::helpers::{Engine, TestApp, error_of, spawn_app, spawn_with};
use crate::wecom::drain;

both_engines!(
    group_callbacks_keep_groups_members_and_timelines,
    full_sync_brings_contacts_groups_and_tags_and_resumes,
    settings_are_validated_encrypted_masked_and_tested,
    console_settings_page_saves_tests_and_syncs,
    staff_transfers_move_customers_and_groups,
    customers_carry_their_wecom_tags,
    yutang_tag_changes_reach_wecom,
    concurrent_settings_saves_keep_every_field,
    the_demo_transfers_what_the_console_offers,
    customer_list_transfer_opens_the_form_for_one_guide,
);

pub(crate) const TOKEN: &str = "SyncT0ken";
const GROUP: &str = "wrDemoGroup0001";

/// A server wired to a running fake WeCom (API and callbacks), and the push target.
/// The settings that connect a node to `fake`: its corp, secret and address, callbacks
/// signed with [`TOKEN`] and encrypted with `key`.
pub(crate) fn fake_settings(fake: &FakeWecom, key: &str) -> impl Fn(&mut Settings) + Clone {
    let (corp, secret, base, key) = (
        fake.corp_id().to_owned(),
        fake.secret().to_owned(),
        fake.base_url().to_owned(),
        key.to_owned(),
    );
    move |s: &mut Settings| {
        s.wecom.corp_id.clone_from(&corp);
        s.wecom.contact_secret = Some(Secret::new(secret.clone()));
        s.wecom.api_base.clone_from(&base);
        s.wecom.callback_token = Some(Secret::new(TOKEN));
        s.wecom.encoding_aes_key = Some(Secret::new(key.clone()));
    }
}

pub(crate) async fn with_fake(e: Engine) -> (TestApp, FakeWecom, CallbackTarget) {
    with_fake_and(e, |_| {}).await
}

/// [`with_fake`] with more settings changed by `tweak`.
pub(crate) async fn with_fake_and(
    e: Engine,
    tweak: impl FnOnce(&mut Settings),
) -> (TestApp, FakeWecom, CallbackTarget) {
    let fake = FakeWecom::start(FakeConfig::demo()).await.unwrap();
    let key = AesKey::generate().to_encoding_aes_key();
    let connect = fake_settings(&fake, &key);
    let t = spawn_with(e, move |s| {
        connect(s);
        tweak(s);
    })
    .await;
    let target = CallbackTarget {
        url: t.url("/wecom/callback"),
        token: TOKEN.into(),
        encoding_aes_key: key,
        receive_id: fake.corp_id().to_owned(),
    };
    (t, fake, target)
}

/// Link a new guide to a WeCom userid; returns the staff id.
pub(crate) async fn guide(t: &TestApp, store: i64, userid: &str) -> i64 {
    let id = t.staff(&format!("g.{userid}"), "guide", Some(store)).await;
    let r = t
        .send_json(
            Method::PATCH,
            &format!("/api/v1/staff/{id}"),
            &t.admin,
            json!({"wecom_userid": userid}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    id
}

/// The customer holding a `wecom_external` identity, if any.
pub(crate) async fn customer(t: &TestApp, external: &str) -> Option<i64> {
    let v: Value = t
        .get(&format!("/api/v1/customers?q={external}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    v["items"][0]["id"].as_i64()
}

pub(crate) async fn timeline_count(t: &TestApp, id: i64, kind: &str) -> i64 {
    let v: Value = t
        .get(
            &format!("/api/v1/customers/{id}/timeline?kind={kind}"),
            &t.admin,
        )
        .await
        .json()
        .await
        .unwrap();
    v["total"].as_i64().unwrap()
}

/// `in_group` through the segment index, waiting for it to catch up to `want`.
async fn in_group_count(t: &TestApp, want: u64) -> u64 {
    let mut n = 0;
    for _ in 0..60 {
        let r = t
            .post(
                "/api/v1/segments/count",
                &t.admin,
                json!({"expression": "in_group"}),
            )
            .await;
        n = r.json::<Value>().await.unwrap()["count"].as_u64().unwrap();
        if n == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    n
}

async fn push(t: &TestApp, fake: &FakeWecom, target: &CallbackTarget, ev: FakeEvent) {
    let out = fake.push(target, &ev).await.unwrap();
    assert_eq!(out.status, 200, "{out:?}");
    drain(t).await;
}

fn update(detail: &str) -> FakeEvent {
    FakeEvent::ChatUpdate {
        chat_id: GROUP.into(),
        update_detail: detail.into(),
        join_scene: None,
        quit_scene: None,
        mem_change_cnt: Some(1),
        mem_change_list: vec![],
    }
}

async fn group_callbacks_keep_groups_members_and_timelines(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("WX-G").await;
    let owner = guide(&t, store, "zhangwei").await;
    // Two members of the group are already Yutang customers; the others are not (yet).
    let members: Vec<String> = fake.with_corp(|c| {
        let g = c.groups.iter().find(|g| g.chat_id == GROUP).unwrap();
        g.members
            .iter()
            .filter(|m| m.member_type == 2)
            .map(|m| m.userid.clone())
            .collect()
    });
    assert!(members.len() >= 3);
    let mut known = Vec::new();
    for ext in &members[..2] {
        let r = t
            .post(
                "/api/v1/customers",
                &t.admin,
                json!({"identities": [{"kind": "wecom_external", "value": ext}]}),
            )
            .await;
        assert!(r.status().is_success(), "{:?}", r.text().await);
        known.push(customer(&t, ext).await.unwrap());
    }

    push(
        &t,
        &fake,
        &target,
        FakeEvent::ChatCreate {
            chat_id: GROUP.into(),
        },
    )
    .await;
    let list: Value = t
        .get("/api/v1/wecom/groups", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let g = &list["items"][0];
    assert_eq!(g["chat_id"], GROUP);
    assert_eq!(g["owner_userid"], "zhangwei");
    assert_eq!(g["owner_staff_id"], owner);
    assert_eq!(g["members"].as_u64(), Some(members.len() as u64 + 1));
    let gid = g["id"].as_i64().unwrap();
    for c in &known {
        assert_eq!(timeline_count(&t, *c, "join_group").await, 1);
    }
    assert_eq!(in_group_count(&t, 2).await, 2);

    // A member quits: the callback does not say who; Yutang re-reads the group and diffs.
    let gone = members[0].clone();
    fake.with_corp(|c| {
        let g = c.groups.iter_mut().find(|g| g.chat_id == GROUP).unwrap();
        g.members.retain(|m| m.userid != gone);
        g.member_version += 1;
    });
    push(&t, &fake, &target, update("del_member")).await;
    assert_eq!(timeline_count(&t, known[0], "leave_group").await, 1);
    assert_eq!(in_group_count(&t, 1).await, 1);
    // The same news again (another delivery, or a name change) changes nothing.
    push(&t, &fake, &target, update("change_name")).await;
    assert_eq!(timeline_count(&t, known[0], "leave_group").await, 1);
    assert_eq!(timeline_count(&t, known[1], "join_group").await, 1);

    // They come back (a new join time): a second join.
    let back = gone.clone();
    fake.with_corp(|c| {
        let g = c.groups.iter_mut().find(|g| g.chat_id == GROUP).unwrap();
        g.members.push(Member {
            userid: back,
            member_type: 2,
            join_time: 1_700_100_000,
            join_scene: 3,
            invitor: None,
            group_nickname: String::new(),
            name: String::new(),
            state: String::new(),
        });
        g.name = "鱼塘会员福利群②".into();
        g.member_version += 1;
    });
    push(&t, &fake, &target, update("add_member")).await;
    assert_eq!(timeline_count(&t, known[0], "join_group").await, 2);
    assert_eq!(in_group_count(&t, 2).await, 2);
    let detail: Value = t
        .get(&format!("/api/v1/wecom/groups/{gid}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["name"], "鱼塘会员福利群②");
    let row = detail["member_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["userid"] == gone.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (row["state"].as_str(), row["join_scene"].as_i64()),
        (Some("joined"), Some(3))
    );
    assert_eq!(row["customer_id"], known[0]);

    // Dismissed: everyone leaves, the group is hidden unless asked for.
    fake.with_corp(|c| c.groups.retain(|g| g.chat_id != GROUP));
    push(
        &t,
        &fake,
        &target,
        FakeEvent::ChatDismiss {
            chat_id: GROUP.into(),
        },
    )
    .await;
    assert_eq!(in_group_count(&t, 0).await, 0);
    assert_eq!(timeline_count(&t, known[1], "leave_group").await, 1);
    assert_eq!(timeline_count(&t, known[0], "leave_group").await, 2);
    let list: Value = t
        .get("/api/v1/wecom/groups", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    let list: Value = t
        .get("/api/v1/wecom/groups?include_dismissed=true", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert!(list["items"][0]["dismissed_at"].is_i64());
    // The inbox applied everything.
    let s = yutang_store::wecom::inbox::stats(&t.app.db, yutang_app::wecom::MAX_ATTEMPTS)
        .await
        .unwrap();
    assert_eq!((s.pending, s.failed, s.parked), (0, 0, 0));
    // Guides do not see the group list.
    let g = t.login("g.zhangwei").await;
    assert_eq!(
        t.get("/api/v1/wecom/groups", &g).await.status(),
        StatusCode::FORBIDDEN
    );
    fake.shutdown().await;
}

/// Poll a sync job until it is done (or failed).
async fn wait_sync(t: &TestApp, id: i64) -> Value {
    let mut v = Value::Null;
    for _ in 0..300 {
        v = t
            .get(&format!("/api/v1/wecom/sync/{id}"), &t.admin)
            .await
            .json()
            .await
            .unwrap();
        if v["status"] == "done" || v["status"] == "failed" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("sync job did not finish: {v}");
}

async fn full_sync_brings_contacts_groups_and_tags_and_resumes(e: Engine) {
    let (t, fake, _) = with_fake(e).await;
    let store = t.store("WX-S").await;
    let zhang = guide(&t, store, "zhangwei").await;
    guide(&t, store, "wangfang").await;
    // What WeCom holds for the follow users (the resigned member's customers are not read).
    let (expected, groups) = fake.with_corp(|c| {
        let active: Vec<String> = c
            .staff
            .iter()
            .filter(|s| !s.resigned)
            .map(|s| s.userid.clone())
            .collect();
        let mut ext: Vec<String> = c
            .follows
            .iter()
            .filter(|f| active.contains(&f.userid))
            .map(|f| f.external_userid.clone())
            .collect();
        ext.sort();
        ext.dedup();
        let groups = c
            .groups
            .iter()
            .filter(|g| active.contains(&g.owner))
            .count();
        (ext.len(), groups)
    });
    // Tokens expire and the group reads are rate limited past the client's retries: the job
    // fails once after the contacts phase and resumes there.
    let api = t
        .app
        .wecom()
        .wecom_api()
        .await
        .unwrap()
        .expect("configured");
    api.access_token().await.unwrap();
    fake.expire_tokens();
    fake.fail_next(PATH_GROUPCHAT_GET, 45009, 4);

    let r = t
        .req(Method::POST, "/api/v1/wecom/sync", Some(&t.admin))
        .header("Idempotency-Key", "sync-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let v = wait_sync(&t, id).await;
    assert_eq!(v["status"], "done", "{v}");
    let s = &v["state"];
    assert_eq!(s["phase"], "done");
    assert_eq!(s["runs"], 2, "{v}");
    assert_eq!(v["attempts"], 2);
    assert_eq!(v["progress_done"], v["progress_total"]);
    // The expired token was refreshed once (42001 → gettoken → retry).
    assert_eq!(fake.calls("/cgi-bin/gettoken"), 2);
    // The contacts were read once: the retry resumed at the groups phase.
    assert_eq!(fake.calls(PATH_BATCH_GET_BY_USER), 1);
    assert_eq!(
        s["customers_created"].as_u64(),
        Some(expected as u64),
        "{v}"
    );
    assert_eq!(s["groups"].as_u64(), Some(groups as u64));
    assert!(
        s["unlinked_userids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "lina")
    );
    assert!(s["tags"]["tags"].as_u64().unwrap() > 0);
    let list: Value = t
        .get("/api/v1/customers?page_size=1", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"].as_u64(), Some(expected as u64));
    // A customer of 张伟 has the follow relation, the unionid and the group join.
    let c = customer(&t, "wmDemoCustomer0001").await.unwrap();
    let follows: Value = t
        .get(&format!("/api/v1/customers/{c}/follows"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        follows
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["staff_id"] == zhang && f["state"] == "active"),
        "{follows}"
    );
    let ids: Value = t
        .get(&format!("/api/v1/customers/{c}/identities"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(ids.to_string().contains("oDemoUnion0001"), "{ids}");
    // One join per group of a follow user the customer is in.
    let joined = fake.with_corp(|corp| {
        corp.groups
            .iter()
            .filter(|g| g.owner != "chenjing")
            .filter(|g| g.members.iter().any(|m| m.userid == "wmDemoCustomer0001"))
            .count()
    });
    assert!(joined >= 1);
    assert_eq!(timeline_count(&t, c, "join_group").await, joined as i64);
    let members_in_groups = s["members_joined"].as_u64().unwrap();
    assert!(members_in_groups > 0);
    assert!(in_group_count(&t, 1).await >= 1);

    // The same key replays the same job; a new sync changes nothing.
    let r = t
        .req(Method::POST, "/api/v1/wecom/sync", Some(&t.admin))
        .header("Idempotency-Key", "sync-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["id"], id);
    let r = t.post("/api/v1/wecom/sync", &t.admin, json!({})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id2 = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_ne!(id2, id);
    let v = wait_sync(&t, id2).await;
    assert_eq!(v["status"], "done", "{v}");
    let s = &v["state"];
    assert_eq!(
        (
            s["customers_created"].as_u64(),
            s["members_joined"].as_u64(),
            s["members_left"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{v}"
    );
    assert_eq!(s["tags"]["deleted_tags"], 0);
    let list: Value = t
        .get("/api/v1/customers?page_size=1", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"].as_u64(), Some(expected as u64));
    assert_eq!(timeline_count(&t, c, "join_group").await, joined as i64);
    assert!(
        t.audit_actions()
            .await
            .iter()
            .any(|a| a == "wecom_sync_started")
    );

    // Guides may not start it; without WeCom configured it says so.
    let g = t.login("g.zhangwei").await;
    assert_eq!(
        t.post("/api/v1/wecom/sync", &g, json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    let plain = spawn_app(e).await;
    let r = plain
        .post("/api/v1/wecom/sync", &plain.admin, json!({}))
        .await;
    assert_eq!(error_of(r).await.1, "wecom_not_configured");
    fake.shutdown().await;
}

/// A server with nothing WeCom in its configuration (everything comes from the settings API);
/// PostgreSQL needs the secret key, SQLite generates its key file beside the database.
async fn unconfigured(e: Engine) -> TestApp {
    spawn_with(e, move |s| {
        if e == Engine::Postgres {
            s.secret_key = Some(Secret::new("ab".repeat(32)));
        }
    })
    .await
}

async fn put_settings(t: &TestApp, token: &str, body: Value) -> reqwest::Response {
    t.send_json(Method::PUT, "/api/v1/wecom/settings", token, body)
        .await
}

async fn settings_are_validated_encrypted_masked_and_tested(e: Engine) {
    let fake = FakeWecom::start(FakeConfig::demo()).await.unwrap();
    let t = unconfigured(e).await;
    let v: Value = t
        .get("/api/v1/wecom/settings", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["corp_id"], "");
    assert!(v["contact_secret"].is_null());
    assert_eq!(v["api_base"], "https://qyapi.weixin.qq.com");
    // Field-named errors; nothing is stored.
    for (body, field, code) in [
        (
            json!({"encoding_aes_key": "a".repeat(42)}),
            "encoding_aes_key",
            "invalid_encoding_aes_key",
        ),
        (
            json!({"encoding_aes_key": format!("{}!", "a".repeat(42))}),
            "encoding_aes_key",
            "invalid_encoding_aes_key",
        ),
        (json!({"corp_id": "ww 12"}), "corp_id", "invalid_corp_id"),
        (
            json!({"api_base": "ftp://x"}),
            "api_base",
            "invalid_api_base",
        ),
        (
            json!({"callback_token": "has space"}),
            "callback_token",
            "invalid_callback_token",
        ),
        (
            json!({"app_secrets": [{"agent_id": "abc", "secret": "x"}]}),
            "app_secrets",
            "invalid_agent_id",
        ),
    ] {
        let (status, c, f) = error_of(put_settings(&t, &t.admin, body).await).await;
        assert_eq!(
            (status, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field))
        );
    }
    let aes = AesKey::generate().to_encoding_aes_key();
    let r = put_settings(
        &t,
        &t.admin,
        json!({
            "corp_id": fake.corp_id(),
            "contact_secret": fake.secret(),
            "callback_token": TOKEN,
            "encoding_aes_key": aes,
            "api_base": format!("{}/", fake.base_url()),
            "app_secrets": [{"agent_id": "1000002", "secret": "app-secret-000111"}],
        }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains(fake.secret()) && !text.contains(&aes) && !text.contains(TOKEN),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    let tail: String = fake
        .secret()
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert_eq!(v["contact_secret"]["masked"], format!("••••{tail}"));
    assert_eq!(v["api_base"], fake.base_url());
    assert_eq!(v["app_secrets"][0]["agent_id"], "1000002");
    assert_eq!(v["app_secrets"][0]["secret"], "••••0111");
    // At rest: sealed, not in clear.
    let row = yutang_store::wecom::settings::get(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    for sealed in [
        &row.contact_secret,
        &row.callback_token,
        &row.encoding_aes_key,
        &row.app_secrets,
    ] {
        let sealed = sealed.as_deref().unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(
            !sealed.contains(fake.secret())
                && !sealed.contains(&aes)
                && !sealed.contains("app-secret")
        );
    }
    if e == Engine::Sqlite {
        let key = t
            .app
            .settings
            .database_url
            .trim_start_matches("sqlite://")
            .to_owned();
        let key = std::path::Path::new(&key)
            .parent()
            .unwrap()
            .join(yutang_app::secret_box::KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    // Test connection: a token comes back.
    let v: Value = t
        .post("/api/v1/wecom/settings/test", &t.admin, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["errcode"].as_i64()),
        (Some(true), Some(0)),
        "{v}"
    );
    // The callback receiver uses the stored Token and key.
    let target = CallbackTarget {
        url: t.url("/wecom/callback"),
        token: TOKEN.into(),
        encoding_aes_key: aes.clone(),
        receive_id: fake.corp_id().to_owned(),
    };
    let out = fake
        .push(
            &target,
            &FakeEvent::ChatCreate {
                chat_id: GROUP.into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(out.status, 200, "{out:?}");
    drain(&t).await;
    let list: Value = t
        .get("/api/v1/wecom/groups", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1, "{list}");
    // Changing only the corp id keeps the secrets; a wrong secret reports WeCom's 40001.
    let r = put_settings(&t, &t.admin, json!({"contact_secret": "wrong-secret-123"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = t
        .post("/api/v1/wecom/settings/test", &t.admin, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["errcode"].as_i64()),
        (Some(false), Some(40001)),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("Secret"), "{v}");
    let r = put_settings(
        &t,
        &t.admin,
        json!({"corp_id": "wwunknowncorp0001", "contact_secret": fake.secret()}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = t
        .post("/api/v1/wecom/settings/test", &t.admin, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["errcode"].as_i64(), Some(40013), "{v}");
    assert!(v["message"].as_str().unwrap().contains("企业 ID"), "{v}");
    // Clearing a secret.
    let v: Value = put_settings(&t, &t.admin, json!({"clear": ["callback_token"]}))
        .await
        .json()
        .await
        .unwrap();
    assert!(v["callback_token"].is_null());
    assert!(!v["encoding_aes_key"].is_null());
    let actions = t.audit_actions().await;
    assert!(actions.iter().any(|a| a == "wecom_settings_changed"));
    assert!(actions.iter().any(|a| a == "wecom_connection_tested"));
    // Admins only.
    let store = t.store("WX-A").await;
    t.staff("wx.op", "operator", None).await;
    t.staff("wx.g", "guide", Some(store)).await;
    for who in ["wx.op", "wx.g"] {
        let tok = t.login(who).await;
        assert_eq!(
            t.get("/api/v1/wecom/settings", &tok).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            put_settings(&t, &tok, json!({"corp_id": "wwx"}))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
    }
    // Fields set in the configuration are locked.
    let locked = spawn_with(e, |s| {
        s.wecom.corp_id = "wwfromconfig0001".into();
        s.secret_key = Some(Secret::new("cd".repeat(32)));
    })
    .await;
    let v: Value = locked
        .get("/api/v1/wecom/settings", &locked.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["corp_id"], "wwfromconfig0001");
    assert!(
        v["locked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "corp_id")
    );
    let (status, code, field) =
        error_of(put_settings(&locked, &locked.admin, json!({"corp_id": "wwother"})).await).await;
    assert_eq!(
        (status, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "locked_by_config",
            Some("corp_id")
        )
    );
    fake.shutdown().await;
}

async fn console_settings_page_saves_tests_and_syncs(e: Engine) {
    use crate::console::{console_login, csrf_in, page};
    let fake = FakeWecom::start(FakeConfig::demo()).await.unwrap();
    let t = unconfigured(e).await;
    t.staff("wx.admin", "admin", None).await;
    let cookie = console_login(&t, "wx.admin").await;
    let (status, html) = page(&t, &cookie, "/console/settings/wecom").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("企业微信连接") && html.contains("EncodingAESKey"),
        "{html}"
    );
    let csrf = csrf_in(&html);
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        t.client
            .post(t.url(path))
            .header("cookie", &cookie)
            .form(&form)
            .send()
    };
    // A bad key is refused with the field named, in Chinese.
    let r = post(
        "/console/settings/wecom",
        vec![("csrf", csrf.clone()), ("encoding_aes_key", "short".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("data-field=\"encoding_aes_key\"") && html.contains("43 位"),
        "{html}"
    );
    let r = post(
        "/console/settings/wecom",
        vec![
            ("csrf", csrf.clone()),
            ("corp_id", fake.corp_id().into()),
            ("contact_secret", fake.secret().into()),
            ("api_base", fake.base_url().into()),
            ("encoding_aes_key", AesKey::generate().to_encoding_aes_key()),
            ("callback_token", TOKEN.into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&t, &cookie, "/console/settings/wecom?ok=saved").await;
    assert!(html.contains("已保存"));
    assert!(
        !html.contains(fake.secret()),
        "the secret is never shown back"
    );
    let r = post("/console/settings/wecom/test", vec![("csrf", csrf.clone())])
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("连接成功") && html.contains("data-errcode=\"0\""),
        "{html}"
    );
    let r = post("/console/settings/wecom/sync", vec![("csrf", csrf.clone())])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&t, &cookie, "/console/settings/wecom").await;
    assert!(html.contains("id=\"sync-status\""), "{html}");
    // Without the form's token nothing changes.
    let r = post(
        "/console/settings/wecom",
        vec![("corp_id", "wwevil".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Operators do not get the page.
    t.staff("wx.op2", "operator", None).await;
    let op = console_login(&t, "wx.op2").await;
    assert_eq!(
        page(&t, &op, "/console/settings/wecom").await.0,
        StatusCode::FORBIDDEN
    );
    // The transfer page: a form, and a refusal shown with the field named.
    let (status, html) = page(&t, &cookie, "/console/wecom/transfers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("客户继承") && html.contains("id=\"transfer-form\""),
        "{html}"
    );
    let r = post(
        "/console/wecom/transfers",
        vec![
            ("csrf", csrf.clone()),
            ("kind", "in_service".into()),
            ("handover_staff_id", "x".into()),
            ("takeover_staff_id", "1".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("data-field=\"handover_staff_id\"")
    );
    fake.shutdown().await;
}

async fn sync_and_wait(t: &TestApp) {
    let r = t.post("/api/v1/wecom/sync", &t.admin, json!({})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(wait_sync(t, id).await["status"], "done");
}

/// Poll a transfer until nothing is pending or sending.
async fn wait_transfer(t: &TestApp, id: i64) -> Value {
    let mut v = Value::Null;
    for _ in 0..100 {
        v = t
            .get(&format!("/api/v1/wecom/transfers/{id}"), &t.admin)
            .await
            .json()
            .await
            .unwrap();
        let busy = v["customer_list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["status"] == "pending" || c["status"] == "sending")
            || v["group_list"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["status"] == "pending");
        if !busy {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("transfer did not get sent: {v}");
}

async fn staff_transfers_move_customers_and_groups(e: Engine) {
    use yutang_wecom::client::api::{
        PATH_GROUPCHAT_ONJOB_TRANSFER, PATH_GROUPCHAT_TRANSFER, PATH_RESIGNED_TRANSFER_CUSTOMER,
        PATH_TRANSFER_CUSTOMER,
    };
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("WX-T").await;
    let zhang = guide(&t, store, "zhangwei").await;
    let wang = guide(&t, store, "wangfang").await;
    let li = guide(&t, store, "lina").await;
    let zhao = guide(&t, store, "zhaolei").await;
    // A second group of 张伟's, which WeCom will have forgotten by the time it is transferred.
    fake.with_corp(|c| {
        let mut g = c
            .groups
            .iter()
            .find(|g| g.chat_id == GROUP)
            .unwrap()
            .clone();
        g.chat_id = "wrDemoGroup0005".into();
        g.name = "张伟的第二个群".into();
        c.groups.push(g);
    });
    sync_and_wait(&t).await;
    let c1 = customer(&t, "wmDemoCustomer0001").await.unwrap();
    let c7 = customer(&t, "wmDemoCustomer0007").await.unwrap();
    let body = json!({
        "kind": "in_service",
        "handover_staff_id": zhang,
        "takeover_staff_id": wang,
        "customer_ids": [c1, c7],
        "message": "您好，后续由王芳为您服务",
    });
    // Refusals first: nothing is sent.
    for (b, code) in [
        (
            json!({"kind": "in_service", "handover_staff_id": zhang, "takeover_staff_id": zhang, "customer_ids": "all"}),
            "same_staff",
        ),
        (
            json!({"kind": "in_service", "handover_staff_id": wang, "takeover_staff_id": zhang, "customer_ids": [c7]}),
            "not_transferable",
        ),
        (
            json!({"kind": "in_service", "handover_staff_id": zhang, "takeover_staff_id": wang, "chat_ids": ["wrDemoGroup0002"]}),
            "not_transferable",
        ),
        (
            json!({"kind": "sideways", "handover_staff_id": zhang, "takeover_staff_id": wang}),
            "invalid_transfer_kind",
        ),
        (
            json!({"kind": "in_service", "handover_staff_id": zhang, "takeover_staff_id": wang, "customer_ids": 5}),
            "invalid_list",
        ),
    ] {
        let (status, c, _) = error_of(t.post("/api/v1/wecom/transfers", &t.admin, b).await).await;
        assert_eq!(
            (status, c.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, code)
        );
    }
    let g = t.login("g.zhangwei").await;
    assert_eq!(
        t.post("/api/v1/wecom/transfers", &g, body.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(fake.calls(PATH_TRANSFER_CUSTOMER), 0);

    let start = || {
        t.req(Method::POST, "/api/v1/wecom/transfers", Some(&t.admin))
            .header("Idempotency-Key", "tr-1")
            .json(&body)
            .send()
    };
    let r = start().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // A retried request is the same transfer.
    assert_eq!(
        start().await.unwrap().json::<Value>().await.unwrap()["id"],
        id
    );
    let v = wait_transfer(&t, id).await;
    assert_eq!(v["customers"]["waiting"], 2, "{v}");
    assert_eq!(fake.calls(PATH_TRANSFER_CUSTOMER), 1);
    // A run that died between WeCom's answer and recording it leaves rows `sending`: the
    // next pass finds them in transfer_result and does not send them again.
    t.exec("UPDATE wecom_transfer_customers SET status = 'sending'")
        .await;
    let v: Value = t
        .post(
            &format!("/api/v1/wecom/transfers/{id}/refresh"),
            &t.admin,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["customers"]["waiting"], 2, "{v}");
    assert_eq!(fake.calls(PATH_TRANSFER_CUSTOMER), 1);
    // The customer of 0007 refuses: WeCom says so by callback (and in transfer_result).
    fake.with_corp(|c| {
        for tr in c
            .transfers
            .iter_mut()
            .filter(|tr| tr.external_userid == "wmDemoCustomer0007")
        {
            tr.status = 3;
        }
    });
    push(
        &t,
        &fake,
        &target,
        FakeEvent::TransferFail {
            userid: "wangfang".into(),
            external_userid: "wmDemoCustomer0007".into(),
            fail_reason: "customer_refused".into(),
        },
    )
    .await;
    let v: Value = t
        .get(&format!("/api/v1/wecom/transfers/{id}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let row7 = v["customer_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_id"] == c7)
        .unwrap()
        .clone();
    assert_eq!(
        (row7["status"].as_str(), row7["errcode"].as_i64()),
        (Some("failed"), Some(3)),
        "{v}"
    );
    // 24 hours later the other one is taken over.
    assert_eq!(fake.complete_transfers(), 1);
    for _ in 0..2 {
        let v: Value = t
            .post(
                &format!("/api/v1/wecom/transfers/{id}/refresh"),
                &t.admin,
                json!({}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                v["customers"]["success"].as_u64(),
                v["customers"]["failed"].as_u64(),
                v["status"].as_str()
            ),
            (Some(1), Some(1), Some("done")),
            "{v}"
        );
    }
    let follows: Value = t
        .get(&format!("/api/v1/customers/{c1}/follows"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let f = |staff: i64| {
        follows
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["staff_id"] == staff)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(f(wang)["state"], "active", "{follows}");
    assert_eq!(f(wang)["is_owner"], true, "{follows}");
    assert_eq!(f(zhang)["state"], "transferred", "{follows}");
    // The timeline tells the transfer once (the relation changes are there too).
    let tl = t
        .get(
            &format!("/api/v1/customers/{c1}/timeline?kind=follow_changed"),
            &t.admin,
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(tl.matches("transfer_id").count(), 1, "{tl}");
    // The refused customer stays with 张伟.
    let follows7: Value = t
        .get(&format!("/api/v1/customers/{c7}/follows"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        follows7
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["staff_id"] == zhang && f["state"] == "active")
    );

    // 在职继承 of groups: 张伟's groups go to 王芳 through groupchat/onjob_transfer; the group
    // WeCom no longer knows fails on its own row (90501), the other one moves at once.
    fake.with_corp(|c| c.groups.retain(|g| g.chat_id != "wrDemoGroup0005"));
    let r = t
        .post(
            "/api/v1/wecom/transfers",
            &t.admin,
            json!({"kind": "in_service", "handover_staff_id": zhang, "takeover_staff_id": wang, "chat_ids": "all"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
    let id3 = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let v = wait_transfer(&t, id3).await;
    assert_eq!(
        (
            v["groups"]["success"].as_u64(),
            v["groups"]["failed"].as_u64()
        ),
        (Some(1), Some(1)),
        "{v}"
    );
    let failed = v["group_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["status"] == "failed")
        .unwrap()
        .clone();
    assert_eq!(
        (failed["chat_id"].as_str(), failed["errcode"].as_i64()),
        (Some("wrDemoGroup0005"), Some(90501)),
        "{v}"
    );
    assert_eq!(fake.calls(PATH_GROUPCHAT_ONJOB_TRANSFER), 1);
    assert_eq!(fake.calls(PATH_GROUPCHAT_TRANSFER), 0);
    assert!(fake.with_corp(|c| {
        c.groups
            .iter()
            .any(|g| g.chat_id == GROUP && g.owner == "wangfang" && g.status == 0)
    }));
    let groups: Value = t
        .get("/api/v1/wecom/groups", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let g1 = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["chat_id"] == GROUP)
        .unwrap()
        .clone();
    assert_eq!(
        (g1["owner_userid"].as_str(), g1["owner_staff_id"].as_i64()),
        (Some("wangfang"), Some(wang))
    );

    // 离职继承 with the groups: every customer and group of 李娜 goes to 赵磊.
    let r = t
        .post(
            "/api/v1/wecom/transfers",
            &t.admin,
            json!({"kind": "resigned", "handover_staff_id": li, "takeover_staff_id": zhao, "customer_ids": "all", "chat_ids": "all"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
    let id2 = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let v = wait_transfer(&t, id2).await;
    let lis = fake.with_corp(|c| c.follows.iter().filter(|f| f.userid == "lina").count());
    assert_eq!(v["customers"]["waiting"].as_u64(), Some(lis as u64), "{v}");
    assert_eq!(v["groups"]["success"], 1, "{v}");
    assert_eq!(fake.calls(PATH_RESIGNED_TRANSFER_CUSTOMER), 1);
    assert_eq!(fake.calls(PATH_GROUPCHAT_TRANSFER), 1);
    let groups: Value = t
        .get("/api/v1/wecom/groups", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let g3 = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["chat_id"] == "wrDemoGroup0003")
        .unwrap()
        .clone();
    assert_eq!(
        (g3["owner_userid"].as_str(), g3["owner_staff_id"].as_i64()),
        (Some("zhaolei"), Some(zhao))
    );
    assert!(fake.with_corp(|c| {
        c.groups
            .iter()
            .any(|g| g.chat_id == "wrDemoGroup0003" && g.owner == "zhaolei")
    }));
    let list: Value = t
        .get("/api/v1/wecom/transfers", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(
        t.audit_actions()
            .await
            .iter()
            .any(|a| a == "wecom_transfer_started")
    );
    fake.shutdown().await;
}

/// The customer's tags as `path (source)`, sorted.
pub(crate) async fn tag_paths(t: &TestApp, id: i64) -> Vec<String> {
    let v: Value = t
        .get(&format!("/api/v1/customers/{id}/tags"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} ({})",
                r["path"].as_str().unwrap(),
                r["source"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

/// The `group/name (wecom)` paths the fake has on this customer, over all follow users.
pub(crate) fn fake_paths(fake: &FakeWecom, external: &str) -> Vec<String> {
    let mut out: Vec<String> = fake.with_corp(|c| {
        c.follows
            .iter()
            .filter(|f| f.external_userid == external)
            .flat_map(|f| f.tag_ids.clone())
            .filter_map(|id| {
                c.find_tag(&id)
                    .map(|(g, t)| format!("{}/{} (wecom)", g.group_name, t.name))
            })
            .collect()
    });
    out.sort();
    out.dedup();
    out
}

async fn customers_carry_their_wecom_tags(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("WX-TG").await;
    guide(&t, store, "zhangwei").await;
    sync_and_wait(&t).await;
    let c1 = customer(&t, "wmDemoCustomer0001").await.unwrap();
    let want = fake_paths(&fake, "wmDemoCustomer0001");
    assert!(!want.is_empty());
    assert_eq!(tag_paths(&t, c1).await, want);
    let added = timeline_count(&t, c1, "tag_added").await;
    assert_eq!(added, want.len() as i64);

    // A tag of Yutang's own is left alone by WeCom.
    let r = t
        .post(
            "/api/v1/tag-groups",
            &t.admin,
            json!({"name": "兴趣", "multi": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let own_group = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = t
        .post(
            "/api/v1/tags",
            &t.admin,
            json!({"group_id": own_group, "name": "咖啡", "color": "#FF0000"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let own = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = t
        .post(
            &format!("/api/v1/customers/{c1}/tags"),
            &t.admin,
            json!({"add": [own]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // In WeCom the customer loses one tag and gets another; the next sync follows, and a
    // third sync changes nothing.
    fake.with_corp(|c| {
        for f in c
            .follows
            .iter_mut()
            .filter(|f| f.external_userid == "wmDemoCustomer0001")
        {
            f.tag_ids = vec!["etDemoLevel2".into()];
        }
    });
    let want = fake_paths(&fake, "wmDemoCustomer0001");
    for _ in 0..2 {
        sync_and_wait(&t).await;
        let mut with_own = want.clone();
        with_own.push("兴趣/咖啡 (manual)".into());
        with_own.sort();
        assert_eq!(tag_paths(&t, c1).await, with_own);
    }
    // The manual tag and 客户等级/金卡会员: the second sync wrote nothing.
    assert_eq!(timeline_count(&t, c1, "tag_added").await, added + 2);
    assert_eq!(timeline_count(&t, c1, "tag_removed").await, 2);

    // A contact callback queues a job that reads the customer and applies their tags.
    fake.with_corp(|c| {
        for f in c
            .follows
            .iter_mut()
            .filter(|f| f.external_userid == "wmDemoCustomer0001")
        {
            f.tag_ids = vec!["etDemoLevel2".into(), "etDemoChannel0".into()];
        }
    });
    let want = fake_paths(&fake, "wmDemoCustomer0001");
    for _ in 0..2 {
        push(
            &t,
            &fake,
            &target,
            FakeEvent::EditExternalContact {
                userid: "zhangwei".into(),
                external_userid: "wmDemoCustomer0001".into(),
            },
        )
        .await;
    }
    t.settle_jobs().await;
    let mut with_own = want.clone();
    with_own.push("兴趣/咖啡 (manual)".into());
    with_own.sort();
    assert_eq!(tag_paths(&t, c1).await, with_own);
    assert_eq!(timeline_count(&t, c1, "tag_added").await, added + 3);
    assert_eq!(timeline_count(&t, c1, "tag_removed").await, 2);
    fake.shutdown().await;
}

/// The Yutang tag id of `group/name`.
async fn tag_id(t: &TestApp, path: &str) -> i64 {
    let v: Value = t
        .get("/api/v1/tag-groups", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tags"].as_array().unwrap().clone())
        .find(|tag| tag["path"] == path)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// The WeCom tag ids the fake has on `external` for `userid`.
fn fake_tags_of(fake: &FakeWecom, userid: &str, external: &str) -> Vec<String> {
    fake.with_corp(|c| {
        c.follows
            .iter()
            .find(|f| f.userid == userid && f.external_userid == external)
            .map(|f| f.tag_ids.clone())
            .unwrap_or_default()
    })
}

/// Wait until the fake has seen `n` calls of `path`.
async fn wait_calls(fake: &FakeWecom, path: &str, n: u64) -> u64 {
    let mut seen = 0;
    for _ in 0..100 {
        seen = fake.calls(path);
        if seen >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

async fn yutang_tag_changes_reach_wecom(e: Engine) {
    use yutang_wecom::client::api::PATH_MARK_TAG;
    let (t, fake, _target) = with_fake(e).await;
    let store = t.store("WX-MT").await;
    guide(&t, store, "zhangwei").await;
    sync_and_wait(&t).await;
    // The sync applied WeCom's tags to customers: nothing was echoed back.
    assert_eq!(fake.calls(PATH_MARK_TAG), 0);
    let ext = "wmDemoCustomer0001";
    let c1 = customer(&t, ext).await.unwrap();
    let follows: Value = t
        .get(&format!("/api/v1/customers/{c1}/follows"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        follows
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["is_owner"] == true)
    );
    let live = tag_id(&t, "来源渠道/直播间").await;

    // By hand: the owner guide's relation in WeCom gets the tag.
    fake.with_corp(|c| {
        for f in c.follows.iter_mut().filter(|f| f.external_userid == ext) {
            f.tag_ids.retain(|t| t != "etDemoChannel1");
        }
    });
    let base = 0;
    let r = t
        .post(
            &format!("/api/v1/customers/{c1}/tags"),
            &t.admin,
            json!({"add": [live]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(wait_calls(&fake, PATH_MARK_TAG, base + 1).await, base + 1);
    for _ in 0..50 {
        if fake_tags_of(&fake, "zhangwei", ext).contains(&"etDemoChannel1".to_owned()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fake_tags_of(&fake, "zhangwei", ext).contains(&"etDemoChannel1".to_owned()));

    // In bulk: removed in WeCom too; a customer without a WeCom identity is skipped.
    let plain = t
        .post(
            "/api/v1/customers",
            &t.admin,
            json!({"identities": [{"kind": "phone", "value": "13800000001"}], "name": "无企微"}),
        )
        .await;
    assert!(plain.status().is_success());
    let plain_v = plain.json::<Value>().await.unwrap();
    let plain_id = plain_v["customer"]["id"].as_i64();
    assert!(plain_id.is_some(), "{plain_v}");
    let mut ids = vec![c1];
    ids.extend(plain_id);
    let r = t
        .post(
            "/api/v1/tags/bulk",
            &t.admin,
            json!({"remove": [live], "customer_ids": ids}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "{:?}", r.text().await);
    assert_eq!(wait_calls(&fake, PATH_MARK_TAG, base + 2).await, base + 2);
    for _ in 0..50 {
        if !fake_tags_of(&fake, "zhangwei", ext).contains(&"etDemoChannel1".to_owned()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!fake_tags_of(&fake, "zhangwei", ext).contains(&"etDemoChannel1".to_owned()));

    // A later sync brings WeCom's state back without echoing it.
    sync_and_wait(&t).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.calls(PATH_MARK_TAG), base + 2);

    // WeCom busy: the Yutang change is made at once; the job fails (after the client's own
    // retries) and the runner tries again with backoff until WeCom takes it.
    fake.fail_next(PATH_MARK_TAG, 45009, 4);
    let r = t
        .post(
            &format!("/api/v1/customers/{c1}/tags"),
            &t.admin,
            json!({"add": [live]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        tag_paths(&t, c1)
            .await
            .iter()
            .any(|p| p.starts_with("来源渠道/直播间"))
    );
    for _ in 0..200 {
        if fake_tags_of(&fake, "zhangwei", ext).contains(&"etDemoChannel1".to_owned()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fake_tags_of(&fake, "zhangwei", ext).contains(&"etDemoChannel1".to_owned()));
    assert_eq!(fake.calls(PATH_MARK_TAG), base + 2 + 5);
    fake.shutdown().await;
}

/// A settings save reads the row, edits the fields it was given and writes the whole row
/// back: two admins saving different fields at once must both be kept (on PostgreSQL at READ
/// COMMITTED the later write used to carry the earlier read, dropping the other's field).
async fn concurrent_settings_saves_keep_every_field(e: Engine) {
    let t = unconfigured(e).await;
    for round in 0..8 {
        let corp = format!("wwround{round}");
        let base = format!("http://127.0.0.1:{}", 9000 + round);
        let a = t
            .req(Method::PUT, "/api/v1/wecom/settings", Some(&t.admin))
            .json(&json!({ "corp_id": corp }));
        let b = t
            .req(Method::PUT, "/api/v1/wecom/settings", Some(&t.admin))
            .json(&json!({ "api_base": base }));
        let (ra, rb) = tokio::join!(a.send(), b.send());
        assert_eq!(ra.unwrap().status(), StatusCode::OK);
        assert_eq!(rb.unwrap().status(), StatusCode::OK);
        let v: Value = t
            .get("/api/v1/wecom/settings", &t.admin)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (v["corp_id"].as_str(), v["api_base"].as_str()),
            (Some(corp.as_str()), Some(base.as_str())),
            "round {round}: {v}"
        );
    }
}

/// The demo's fake corp knows every guide's WeCom customers: an in-service transfer of all the
/// customers of every staff member the console's transfer form offers goes through with no
/// failure (the first demo transfer used to fail 913 of 921 with 40096), and the transfer
/// page names the staff, says the states in words and pages the rows.
async fn the_demo_transfers_what_the_console_offers(e: Engine) {
    use crate::console::{console_login, page};
    // PostgreSQL stores secrets only under a key (SQLite keeps its own beside the file).
    let key = Secret::new(hex::encode(rand::random::<[u8; 32]>()));
    let t = spawn_with(e, |s| s.secret_key = Some(key)).await;
    t.app.demo().seed_demo(400, &|_, _, _| {}).await.unwrap();
    // Takeovers complete at once, so each transfer's first round finishes it.
    let (fake, summary) = t.app.demo().start_demo_wecom(0).await.unwrap();
    assert!(summary.contacts_seeded > 0, "{summary:?}");
    // The demo's self-built app is registered and stored: sign-in with WeCom is offered, and
    // the fake's logins confirm as the demo's first guide.
    assert!(t.app.auth().wecom_login_available().await.unwrap());
    let signer = yutang_store::staff::wecom_userid_of(&t.app.db, "sh-001.guide1")
        .await
        .unwrap();
    assert!(signer.is_some());
    assert_eq!(summary.sign_in_userid, signer);
    // What the form offers: the staff members linked to WeCom.
    let mut linked: Vec<(i64, String)> = Vec::new();
    for p in 1.. {
        let v: Value = t
            .get(
                &format!("/api/v1/staff?status=active&page_size=200&page={p}"),
                &t.admin,
            )
            .await
            .json()
            .await
            .unwrap();
        let items = v["items"].as_array().unwrap();
        linked.extend(
            items
                .iter()
                .filter(|s| s["wecom_userid"].as_str().is_some_and(|u| !u.is_empty()))
                .map(|s| {
                    let name = s["display_name"].as_str().unwrap().to_owned();
                    (s["id"].as_i64().unwrap(), name)
                }),
        );
        if items.len() < 200 {
            break;
        }
    }
    assert!(
        linked.len() > 50,
        "every guide and manager is linked: {}",
        linked.len()
    );
    // Each hands all their WeCom customers to the next one.
    let mut started = Vec::new();
    for (i, (from, _)) in linked.iter().enumerate() {
        let (to, _) = &linked[(i + 1) % linked.len()];
        let r = t
            .post(
                "/api/v1/wecom/transfers",
                &t.admin,
                json!({"kind": "in_service", "handover_staff_id": from, "takeover_staff_id": to, "customer_ids": "all"}),
            )
            .await;
        if r.status() == StatusCode::ACCEPTED {
            let v: Value = r.json().await.unwrap();
            let n = v["customer_list"].as_array().unwrap().len();
            started.push((v["id"].as_i64().unwrap(), n, i));
        } else {
            let (status, code, _) = error_of(r).await;
            assert_eq!(
                (status.as_u16(), code.as_str()),
                (422, "nothing_to_transfer")
            );
        }
    }
    let sent: usize = started.iter().map(|(_, n, _)| n).sum();
    assert!(
        started.len() > 20 && sent > 250,
        "{} transfers, {sent} customers",
        started.len()
    );
    t.settle_jobs().await;
    for (id, n, _) in &started {
        let v: Value = t
            .get(&format!("/api/v1/wecom/transfers/{id}"), &t.admin)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                v["status"].as_str(),
                v["customers"]["success"].as_u64(),
                v["customers"]["failed"].as_u64()
            ),
            (Some("done"), Some(*n as u64), Some(0)),
            "{v}"
        );
    }
    // The fake agrees: the customers now follow the takers.
    assert_eq!(
        fake.with_corp(|c| c.transfers.iter().filter(|t| t.status == 1).count()),
        sent
    );

    // The transfer page, in both languages.
    t.staff("tr.ops", "operator", None).await;
    let cookie = console_login(&t, "tr.ops").await;
    let (id, n, i) = *started.iter().max_by_key(|(_, n, _)| *n).unwrap();
    let (from, to) = (&linked[i].1, &linked[(i + 1) % linked.len()].1);
    let path = format!("/console/wecom/transfers/{id}");
    for (lang, done, success) in [("zh", "已结束", "接替成功"), ("en", "Finished", "Done")] {
        let (status, html) = page(&t, &format!("{cookie}; yutang_lang={lang}"), &path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(from) && html.contains(to),
            "{lang}: names\n{html}"
        );
        assert!(
            html.contains(done) && html.contains(success),
            "{lang}\n{html}"
        );
        for raw in [">done<", ">running<", ">success<", ">waiting<", ">pending<"] {
            assert!(!html.contains(raw), "{lang}: raw {raw}");
        }
        assert_eq!(
            html.matches("<tr data-status=\"success\"").count(),
            n.min(50)
        );
    }
    // Filters by state and pages: nothing failed, and a bad state is the console's 422.
    let (_, html) = page(&t, &cookie, &format!("{path}?state=failed")).await;
    assert_eq!(html.matches("<tr data-status=").count(), 0, "{html}");
    let (status, _) = page(&t, &cookie, &format!("{path}?state=nonsense")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, html) = page(&t, &cookie, &format!("{path}?page=2")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        html.matches("<tr data-status=").count(),
        n.saturating_sub(50)
    );
    // The list names the staff too.
    let (_, html) = page(&t, &cookie, "/console/wecom/transfers").await;
    assert!(html.contains(from) && !html.contains(">running<"), "{html}");
    fake.shutdown().await;
}

/// 转接 on the customer list's ticked rows opens the transfer form with their one guide and
/// the ids filled in; rows of several guides, or not WeCom contacts, are refused by name; a
/// guide (who may not transfer) is not offered the button and is refused.
async fn customer_list_transfer_opens_the_form_for_one_guide(e: Engine) {
    use crate::console::{console_login, csrf_in, page};
    use crate::customer_list::bulk;
    let (t, _fake, _target) = with_fake(e).await;
    let store = t.store("WX-B").await;
    let zhang = guide(&t, store, "zhangwei").await;
    let wang = guide(&t, store, "wangfang").await;
    sync_and_wait(&t).await;
    // In the fake corp, customer i+1 is followed by staff i % 6 (zhangwei, wangfang, …), and
    // every fourth also by the next one: 7 and 19 are only 张伟's, 2 only 王芳's.
    let c7 = customer(&t, "wmDemoCustomer0007").await.unwrap();
    let c19 = customer(&t, "wmDemoCustomer0019").await.unwrap();
    let c2 = customer(&t, "wmDemoCustomer0002").await.unwrap();
    let plain = crate::customers::customer_with_phone(&t, "13900009999", "门店散客").await;
    t.staff("bt.admin", "admin", None).await;
    let cookie = console_login(&t, "bt.admin").await;
    let (_, html) = page(&t, &cookie, "/console/customers").await;
    assert!(
        html.contains("value=\"transfer\""),
        "admins are offered 转接"
    );
    let csrf = csrf_in(&html);
    let r = bulk(
        &t,
        &cookie,
        format!("csrf={csrf}&action=transfer&ids={c7}&ids={c19}"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        to,
        format!(
            "/console/wecom/transfers?handover_staff_id={zhang}&customer_ids={},{}&skipped=0",
            c7.min(c19),
            c7.max(c19)
        )
    );
    let (status, html) = page(&t, &cookie, &to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("<option value=\"{zhang}\" selected>")),
        "the guide is chosen"
    );
    assert!(html.contains(&format!("value=\"{},{}\"", c7.min(c19), c7.max(c19))));
    assert!(html.contains("已从客户列表带入 2 位客户"), "{html}");
    for (ids, code_text) in [
        (vec![c7, c2], "所选客户属于多位导购"),
        (vec![plain], "都不是该导购的企业微信好友"),
    ] {
        let body = ids
            .iter()
            .fold(format!("csrf={csrf}&action=transfer"), |b, id| {
                format!("{b}&ids={id}")
            });
        let r = bulk(&t, &cookie, body).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains(code_text), "{code_text}: {html}");
    }
    // A ticked row that is no WeCom contact is left out, and the form says so.
    let r = bulk(
        &t,
        &cookie,
        format!("csrf={csrf}&action=transfer&ids={c7}&ids={plain}"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        to,
        format!("/console/wecom/transfers?handover_staff_id={zhang}&customer_ids={c7}&skipped=1")
    );
    let (_, html) = page(&t, &cookie, &to).await;
    assert!(html.contains("已从客户列表带入 1 位客户"));
    assert!(html.contains("另有 1 位勾选的客户不是该导购的企业微信好友"));
    // Filtered by 王芳: customer 2 is hers and 1 (张伟's and hers) too, 7 is not.
    let c1 = customer(&t, "wmDemoCustomer0001").await.unwrap();
    let r = bulk(
        &t,
        &cookie,
        format!("csrf={csrf}&action=transfer&guide_id={wang}&ids={c1}&ids={c2}"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains(&format!("handover_staff_id={wang}&")),
        "the filtered guide hands over"
    );
    let r = bulk(
        &t,
        &cookie,
        format!("csrf={csrf}&action=transfer&guide_id={wang}&ids={c7}"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A guide may not start transfers: no button, and the action is refused.
    let g = console_login(&t, "g.zhangwei").await;
    let (_, html) = page(&t, &g, "/console/customers").await;
    assert!(!html.contains("value=\"transfer\""));
    let csrf = csrf_in(&html);
    let r = bulk(&t, &g, format!("csrf={csrf}&action=transfer&ids={c7}")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
