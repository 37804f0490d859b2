//! Group live codes (群活码, issue #20 item 1) against the fake WeCom through the real client
//! and the real callback receiver: the join way follows the code's groups as they fill, joins
//! are recorded once each and attributed to the code's channel, WeCom's auto-created groups
//! join the code, bad input names its field, and scope holds.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_wecom::fake::corp::Member;
use yutang_wecom::fake::{CallbackTarget, FakeEvent, FakeWecom};

use crate::helpers::{Engine, TestApp, error_of};
use crate::promotions::created_id;
use crate::wecom::drain;
use crate::wecom_sync::{guide, with_fake};

both_engines!(
    codes_move_on_at_the_cap_and_count_every_join_once,
    every_group_full_lets_wecom_open_one_that_joins_the_code,
    bad_codes_name_their_field,
    codes_are_scoped_and_archiving_deletes_the_join_way,
);

const G1: &str = "wrDemoGroup0001";
const G2: &str = "wrDemoGroup0002";

async fn push(t: &TestApp, fake: &FakeWecom, target: &CallbackTarget, ev: &FakeEvent) {
    let out = fake.push(target, ev).await.unwrap();
    assert_eq!(out.status, 200, "{out:?}");
    drain(t).await;
}

/// Bring the fake's groups `chats` into Yutang (as their create callbacks do); their ids.
async fn groups(
    t: &TestApp,
    fake: &FakeWecom,
    target: &CallbackTarget,
    chats: &[&str],
) -> Vec<i64> {
    for chat in chats {
        let ev = FakeEvent::ChatCreate {
            chat_id: (*chat).to_owned(),
        };
        push(t, fake, target, &ev).await;
    }
    let list: Value = t
        .get("/api/v1/wecom/groups?limit=200", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    chats
        .iter()
        .map(|c| {
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["chat_id"] == *c)
                .unwrap_or_else(|| panic!("{c} in {list}"))["id"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

fn members_of(fake: &FakeWecom, chat: &str) -> i64 {
    fake.with_corp(|c| {
        c.groups
            .iter()
            .find(|g| g.chat_id == chat)
            .map_or(0, |g| g.members.len() as i64)
    })
}

async fn code(t: &TestApp, id: i64) -> Value {
    let r = t.get(&format!("/api/v1/group-codes/{id}"), &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Scan the code's QR as a new WeChat user and deliver what WeCom sends.
async fn scan(
    t: &TestApp,
    fake: &FakeWecom,
    target: &CallbackTarget,
    config: &str,
    name: &str,
) -> Vec<FakeEvent> {
    let events = fake.simulate_join_via_way(config, name).unwrap();
    for ev in &events {
        push(t, fake, target, ev).await;
    }
    events
}

fn listed(fake: &FakeWecom, config: &str) -> Vec<String> {
    fake.join_way(config).unwrap().chat_id_list
}

async fn codes_move_on_at_the_cap_and_count_every_join_once(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let store = t.store("GC-1").await;
    guide(&t, store, "zhangwei").await;
    // The second group is small, so it stays under the cap set below.
    fake.with_corp(|c| {
        let g = c.groups.iter_mut().find(|g| g.chat_id == G2).unwrap();
        g.members.truncate(2);
    });
    let ids = groups(&t, &fake, &target, &[G1, G2]).await;
    let channel = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "门店海报", "kind": "store_stand"}),
        )
        .await,
    )
    .await;
    // Room for two more members in the first group.
    let cap = members_of(&fake, G1) + 2;
    let r = t
        .post(
            "/api/v1/group-codes",
            &t.admin,
            json!({"name": "门店福利群", "channel_id": channel, "member_cap": cap,
                "room_base_name": "福利群", "group_ids": ids}),
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["sync_status"], "synced", "{v}");
    assert_eq!(v["fill"], "open");
    let config = v["config_id"].as_str().unwrap().to_owned();
    assert!(!config.is_empty());
    assert!(v["qr_url"].as_str().unwrap().starts_with("http"), "{v}");
    assert_eq!(v["qr_image"], true, "{v}");
    let r = t
        .get(&format!("/api/v1/group-codes/{id}/qr.png"), &t.admin)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let way = fake.join_way(&config).unwrap();
    assert_eq!(way.chat_id_list, [G1, G2]);
    assert_eq!(way.state, v["state"].as_str().unwrap());
    assert!(way.auto_create_room);
    assert_eq!(way.room_base_name, "福利群");

    // Two scans fill the first group to the cap: the code moves on to the second.
    let first = scan(&t, &fake, &target, &config, "顾客甲").await;
    assert_eq!(listed(&fake, &config), [G1, G2]);
    scan(&t, &fake, &target, &config, "顾客乙").await;
    assert_eq!(listed(&fake, &config), [G2], "{}", code(&t, id).await);
    scan(&t, &fake, &target, &config, "顾客丙").await;
    let v = code(&t, id).await;
    assert_eq!(v["joins_total"], 3, "{v}");
    assert_eq!(v["joins_today"], 3);
    let per_group: Vec<(i64, bool)> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["joins"].as_i64().unwrap(), g["listed"].as_bool().unwrap()))
        .collect();
    assert_eq!(per_group, [(2, false), (1, true)], "{v}");
    assert_eq!(v["groups"][0]["members"].as_i64(), Some(cap));

    // A replayed callback and a full re-read change nothing.
    for ev in &first {
        push(&t, &fake, &target, ev).await;
    }
    let again = code(&t, id).await;
    assert_eq!(again["joins_total"], 3);
    let joins: Value = t
        .get(&format!("/api/v1/group-codes/{id}/joins"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(joins["days"][0]["joins"], 3, "{joins}");
    assert_eq!(joins["recent"].as_array().unwrap().len(), 3);
    let attributed = crate::acquisition::scalar(
        &t,
        &format!(
            "SELECT COUNT(*) FROM group_code_joins WHERE code_id = {id} AND channel_id = {channel}"
        ),
    )
    .await;
    assert_eq!(attributed, 3);

    // A member who leaves makes room: the first group is listed again.
    let gone = fake.with_corp(|c| {
        c.groups
            .iter()
            .find(|g| g.chat_id == G1)
            .and_then(|g| g.members.iter().rev().find(|m| m.member_type == 2))
            .map(|m| m.userid.clone())
            .unwrap()
    });
    let ev = fake.simulate_leave_group(G1, &gone).unwrap();
    push(&t, &fake, &target, &ev).await;
    assert_eq!(listed(&fake, &config), [G1, G2]);
    let v = code(&t, id).await;
    assert_eq!(v["joins_total"], 3, "a leave is not a join: {v}");
}

async fn every_group_full_lets_wecom_open_one_that_joins_the_code(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let ids = groups(&t, &fake, &target, &[G1]).await;
    // Fill the group to WeCom's QR limit behind Yutang's back; one update reconciles it.
    fake.with_corp(|c| {
        let g = c.groups.iter_mut().find(|g| g.chat_id == G1).unwrap();
        let mut n = 0;
        while g.members.len() < 200 {
            n += 1;
            g.members.push(Member {
                userid: format!("wmFill{n:04}"),
                member_type: 2,
                join_time: g.create_time + n,
                join_scene: 1,
                invitor: None,
                group_nickname: String::new(),
                name: format!("成员{n}"),
                state: String::new(),
            });
        }
        g.member_version += 1;
    });
    let r = t
        .post(
            "/api/v1/group-codes",
            &t.admin,
            json!({"name": "会员群", "member_cap": 200, "room_base_name": "会员群",
                "room_base_id": 7, "group_ids": ids}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    let id = v["id"].as_i64().unwrap();
    // Created before the members were read: the group looks open until WeCom reports it.
    let ev = FakeEvent::ChatUpdate {
        chat_id: G1.into(),
        update_detail: "add_member".into(),
        join_scene: Some(1),
        quit_scene: None,
        mem_change_cnt: Some(190),
        mem_change_list: vec![],
    };
    push(&t, &fake, &target, &ev).await;
    let v = code(&t, id).await;
    assert_eq!(v["fill"], "overflow", "{v}");
    let config = v["config_id"].as_str().unwrap().to_owned();
    assert_eq!(listed(&fake, &config), [G1]);

    // The next scanner finds every group full: WeCom opens 会员群7 and puts them there.
    let events = scan(&t, &fake, &target, &config, "新顾客").await;
    let FakeEvent::ChatCreate { chat_id: room } = &events[0] else {
        panic!("{events:?}")
    };
    let v = code(&t, id).await;
    assert_eq!(v["fill"], "open", "{v}");
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{v}");
    assert_eq!(groups[1]["chat_id"], room.as_str());
    assert_eq!(groups[1]["name"], "会员群7");
    assert_eq!(groups[1]["auto_created"], true);
    assert_eq!(groups[1]["joins"], 1);
    assert_eq!(listed(&fake, &config), std::slice::from_ref(room));
    assert_eq!(v["joins_total"], 1);
}

async fn bad_codes_name_their_field(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let ids = groups(&t, &fake, &target, &[G1, G2]).await;
    let base = json!({"name": "群码", "room_base_name": "福利群", "group_ids": ids});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("member_cap", json!(0)), "member_cap"),
        (with("member_cap", json!(501)), "member_cap"),
        (
            with("group_ids", json!([ids[0], ids[1], 3, 4, 5, 6])),
            "group_ids",
        ),
        (with("group_ids", json!([])), "group_ids"),
        (with("group_ids", json!([ids[0], ids[0]])), "group_ids"),
        (with("group_ids", json!([999_999])), "group_ids"),
        (with("room_base_name", json!("")), "room_base_name"),
        (
            with("room_base_name", json!("群".repeat(41))),
            "room_base_name",
        ),
        (with("name", json!("a\u{1}b")), "name"),
        (with("channel_id", json!(999_999)), "channel_id"),
        (with("store_id", json!(999_999)), "store_id"),
    ];
    for (body, field) in cases {
        let r = t.post("/api/v1/group-codes", &t.admin, body.clone()).await;
        let (status, _, f) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(f.as_deref(), Some(field), "{body}");
    }
    for body in [with("surprise", json!(1)), with("scene", json!("poster"))] {
        let r = t.post("/api/v1/group-codes", &t.admin, body.clone()).await;
        assert!(r.status().is_client_error(), "{body}");
    }
    // A dismissed group cannot be given to a code.
    let ev = FakeEvent::ChatDismiss { chat_id: G2.into() };
    fake.with_corp(|c| c.groups.retain(|g| g.chat_id != G2));
    push(&t, &fake, &target, &ev).await;
    let r = t.post("/api/v1/group-codes", &t.admin, base.clone()).await;
    let (status, code, f) = error_of(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (code.as_str(), f.as_deref()),
        ("group_dismissed", Some("group_ids"))
    );
    assert_eq!(
        crate::acquisition::scalar(&t, "SELECT COUNT(*) FROM group_codes").await,
        0,
        "nothing half-written"
    );
}

async fn codes_are_scoped_and_archiving_deletes_the_join_way(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let (a, b) = (t.store("GC-A").await, t.store("GC-B").await);
    let ids = groups(&t, &fake, &target, &[G1, G2]).await;
    let mut made = Vec::new();
    for (store, group) in [(Some(a), ids[0]), (Some(b), ids[1]), (None, ids[0])] {
        let v: Value = t
            .post(
                "/api/v1/group-codes",
                &t.admin,
                json!({"name": "门店群", "store_id": store, "auto_create": false,
                    "group_ids": [group]}),
            )
            .await
            .json()
            .await
            .unwrap();
        made.push(v["id"].as_i64().unwrap());
    }
    t.staff("gc.guide", "guide", Some(a)).await;
    let token = t.login("gc.guide").await;
    let list: Value = t
        .get("/api/v1/group-codes", &token)
        .await
        .json()
        .await
        .unwrap();
    let seen: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seen,
        [made[2], made[0]],
        "their store's and the brand's: {list}"
    );
    let r = t
        .get(&format!("/api/v1/group-codes/{}", made[1]), &token)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t
        .post(
            "/api/v1/group-codes",
            &token,
            json!({"name": "x", "auto_create": false, "group_ids": [ids[0]]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let v = code(&t, made[0]).await;
    let config = v["config_id"].as_str().unwrap().to_owned();
    assert!(fake.join_way(&config).is_some());
    for _ in 0..2 {
        let r = t
            .post(
                &format!("/api/v1/group-codes/{}/archive", made[0]),
                &t.admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert!(fake.join_way(&config).is_none(), "the join way is deleted");
    let v = code(&t, made[0]).await;
    assert_eq!(v["archived"], true);
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/group-codes/{}", made[0]),
            &t.admin,
            json!({"name": "改名", "auto_create": false, "group_ids": [ids[0]]}),
        )
        .await;
    let (status, code, _) = error_of(r).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "group_code_archived")
    );
    let archived: Value = t
        .get("/api/v1/group-codes?archived=true", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(archived.as_array().unwrap().len(), 1);
}
