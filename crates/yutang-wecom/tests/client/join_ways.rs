//! Group join ways (客户群「加入群聊」, 99547): the round trip, the bad inputs, joining through
//! a way until its groups are full (and a group is created), members' `state`, and the limit
//! join ways share with contact ways.

use serde_json::json;
use yutang_wecom::client::api::{
    AddContactWayRequest, AddJoinWayRequest, PATH_ADD_JOIN_WAY, PATH_UPDATE_JOIN_WAY,
    QR_JOIN_MEMBER_LIMIT, UpdateJoinWayRequest,
};
use yutang_wecom::client::codes;
use yutang_wecom::fake::FakeEvent;
use yutang_wecom::{WecomClient, WecomError};

use crate::{raw_post, spawn};

const CHAT: &str = "wrDemoGroup0001";
const OTHER_CHAT: &str = "wrDemoGroup0002";

fn qr_way(chats: &[&str], state: &str) -> AddJoinWayRequest {
    AddJoinWayRequest {
        scene: 2,
        chat_id_list: chats.iter().map(|c| (*c).to_owned()).collect(),
        state: Some(state.into()),
        ..Default::default()
    }
}

fn is_invalid(error: &WecomError, expected: &str) -> bool {
    matches!(error, WecomError::InvalidRequest { field, .. } if *field == expected)
}

/// `events` without their `MemChangeList` (each names its own joiner).
fn unlisted(events: &[FakeEvent]) -> Vec<FakeEvent> {
    events
        .iter()
        .cloned()
        .map(|mut e| {
            if let FakeEvent::ChatUpdate {
                mem_change_list, ..
            } = &mut e
            {
                assert_eq!(mem_change_list.len(), 1, "the joiner is named");
                mem_change_list.clear();
            }
            e
        })
        .collect()
}

fn add_member(chat_id: &str) -> FakeEvent {
    FakeEvent::ChatUpdate {
        chat_id: chat_id.to_owned(),
        update_detail: "add_member".to_owned(),
        join_scene: Some(3),
        quit_scene: None,
        mem_change_cnt: Some(1),
        mem_change_list: vec![],
    }
}

async fn members(client: &WecomClient, chat_id: &str) -> usize {
    client
        .groupchat_get(chat_id, false)
        .await
        .unwrap()
        .member_list
        .len()
}

#[tokio::test]
async fn join_way_create_get_update_delete() {
    let (fake, client) = spawn().await;
    let remark = "备".repeat(35);
    let config_id = client
        .add_join_way(&AddJoinWayRequest {
            remark: Some(remark.clone()),
            auto_create_room: 1,
            room_base_name: Some("鱼塘福利群".into()),
            room_base_id: Some(10),
            mark_source: Some(true),
            ..qr_way(&[CHAT, OTHER_CHAT], "store_sh_01")
        })
        .await
        .unwrap();
    assert!(!config_id.is_empty());
    let way = client.get_join_way(&config_id).await.unwrap();
    assert_eq!(way.config_id, config_id);
    assert_eq!(way.scene, 2);
    // WeCom cuts the remark to 30 characters.
    assert_eq!(way.remark, "备".repeat(30));
    assert_eq!(way.auto_create_room, 1);
    assert_eq!(way.room_base_name, "鱼塘福利群");
    assert_eq!(way.room_base_id, 10);
    assert_eq!(way.chat_id_list, [CHAT, OTHER_CHAT]);
    assert_eq!(way.state, "store_sh_01");
    assert!(
        way.qr_code
            .starts_with(&format!("{}/wwpic/fakejoin/", fake.base_url())),
        "{}",
        way.qr_code
    );
    let image = client.download_qr_image(&way.qr_code).await.unwrap();
    assert_eq!(image.content_type, "image/png");
    assert!(fake.join_way(&config_id).unwrap().mark_source);

    // A full replacement: a mini-program way has no QR code.
    client
        .update_join_way(&UpdateJoinWayRequest {
            config_id: config_id.clone(),
            scene: 1,
            remark: Some("小程序".into()),
            auto_create_room: 0,
            chat_id_list: vec!["wrDemoGroup0003".into()],
            state: Some("mini_home".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let updated = client.get_join_way(&config_id).await.unwrap();
    assert_eq!(updated.scene, 1);
    assert_eq!(updated.remark, "小程序");
    assert_eq!(updated.auto_create_room, 0);
    assert_eq!(updated.room_base_name, "");
    assert_eq!(updated.chat_id_list, ["wrDemoGroup0003"]);
    assert_eq!(updated.state, "mini_home");
    assert_eq!(updated.qr_code, "");
    assert!(client.download_qr_image(&way.qr_code).await.is_err());

    client.del_join_way(&config_id).await.unwrap();
    assert!(fake.join_way(&config_id).is_none());
    for error in [
        client.get_join_way(&config_id).await.unwrap_err(),
        client.del_join_way(&config_id).await.unwrap_err(),
        client
            .update_join_way(&UpdateJoinWayRequest {
                config_id: config_id.clone(),
                scene: 2,
                chat_id_list: vec![CHAT.into()],
                ..Default::default()
            })
            .await
            .unwrap_err(),
    ] {
        assert_eq!(error.errcode(), Some(codes::INVALID_CONFIG_ID), "{error:?}");
    }
}

#[tokio::test]
async fn join_way_bad_inputs() {
    let (fake, client) = spawn().await;
    let six: Vec<String> = (1..=6)
        .map(|i| format!("wrDemoGroup000{}", i % 4 + 1))
        .collect();
    let long_state = "渠".repeat(31);
    let long_name = "群".repeat(41);

    // The client refuses before sending…
    let cases = [
        (
            AddJoinWayRequest {
                chat_id_list: six.clone(),
                ..qr_way(&[], "s")
            },
            "chat_id_list",
        ),
        (qr_way(&[], "s"), "chat_id_list"),
        (qr_way(&[CHAT], &long_state), "state"),
        (
            AddJoinWayRequest {
                auto_create_room: 1,
                room_base_name: Some(long_name.clone()),
                ..qr_way(&[CHAT], "s")
            },
            "room_base_name",
        ),
        (
            AddJoinWayRequest {
                auto_create_room: 1,
                ..qr_way(&[CHAT], "s")
            },
            "room_base_name",
        ),
        (
            AddJoinWayRequest {
                scene: 3,
                ..qr_way(&[CHAT], "s")
            },
            "scene",
        ),
        (
            AddJoinWayRequest {
                auto_create_room: 2,
                ..qr_way(&[CHAT], "s")
            },
            "auto_create_room",
        ),
    ];
    for (request, field) in cases {
        let error = client.add_join_way(&request).await.unwrap_err();
        assert!(is_invalid(&error, field), "{field}: {error:?}");
    }
    let error = client
        .update_join_way(&UpdateJoinWayRequest {
            config_id: "jwAny".into(),
            scene: 2,
            chat_id_list: six.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(is_invalid(&error, "chat_id_list"), "{error:?}");
    assert!(is_invalid(
        &client.get_join_way("").await.unwrap_err(),
        "config_id"
    ));
    assert!(is_invalid(
        &client.del_join_way("").await.unwrap_err(),
        "config_id"
    ));
    assert_eq!(fake.calls(PATH_ADD_JOIN_WAY), 0);

    // …and the fake refuses what arrives anyway.
    let raw = [
        (
            json!({"scene": 2, "chat_id_list": six}),
            codes::INVALID_PARAMETER,
        ),
        (
            json!({"scene": 2, "chat_id_list": []}),
            codes::INVALID_PARAMETER,
        ),
        (json!({"scene": 2}), codes::INVALID_PARAMETER),
        (
            json!({"scene": 3, "chat_id_list": [CHAT]}),
            codes::INVALID_PARAMETER,
        ),
        (json!({"chat_id_list": [CHAT]}), codes::INVALID_PARAMETER),
        (
            json!({"scene": 2, "chat_id_list": [CHAT], "auto_create_room": 2}),
            codes::INVALID_PARAMETER,
        ),
        (
            json!({"scene": 2, "chat_id_list": [CHAT], "state": long_state}),
            codes::INVALID_PARAMETER,
        ),
        (
            json!({"scene": 2, "chat_id_list": [CHAT], "room_base_name": long_name}),
            codes::INVALID_PARAMETER,
        ),
        (
            json!({"scene": 2, "chat_id_list": [CHAT, "wrNoSuchGroup"]}),
            codes::NOT_EXTERNAL_CHAT,
        ),
    ];
    for (body, code) in raw {
        let answer = raw_post(&fake, &client, PATH_ADD_JOIN_WAY, body.clone()).await;
        assert_eq!(answer["errcode"], json!(code), "{body}");
    }
    // An unknown chat passes the client's checks and is WeCom's to refuse.
    let error = client
        .add_join_way(&qr_way(&["wrNoSuchGroup"], "s"))
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::NOT_EXTERNAL_CHAT));
    assert!(fake.with_corp(|corp| corp.join_ways.is_empty()));

    // Unknown config ids, and an update of a real way with bad fields changes nothing.
    let config_id = client.add_join_way(&qr_way(&[CHAT], "keep")).await.unwrap();
    for body in [
        json!({"config_id": "jwNope", "scene": 2, "chat_id_list": [CHAT]}),
        json!({"config_id": config_id, "scene": 2, "chat_id_list": ["wrNoSuchGroup"]}),
        json!({"config_id": config_id, "scene": 2, "chat_id_list": [CHAT], "state": "渠".repeat(31)}),
    ] {
        let answer = raw_post(&fake, &client, PATH_UPDATE_JOIN_WAY, body.clone()).await;
        assert_ne!(answer["errcode"], json!(0), "{body}");
    }
    let answer = raw_post(
        &fake,
        &client,
        PATH_UPDATE_JOIN_WAY,
        json!({"config_id": "jwNope", "scene": 2, "chat_id_list": [CHAT]}),
    )
    .await;
    assert_eq!(answer["errcode"], json!(codes::INVALID_CONFIG_ID));
    assert_eq!(fake.join_way(&config_id).unwrap().state, "keep");
    for error in [
        client.get_join_way("jwNope").await.unwrap_err(),
        client.del_join_way("jwNope").await.unwrap_err(),
    ] {
        assert_eq!(error.errcode(), Some(codes::INVALID_CONFIG_ID));
    }
}

#[tokio::test]
async fn joins_fill_the_group_then_create_rooms() {
    let (fake, client) = spawn().await;
    let config_id = client
        .add_join_way(&AddJoinWayRequest {
            auto_create_room: 1,
            room_base_name: Some("base ".into()),
            room_base_id: Some(1),
            ..qr_way(&[CHAT], "store_sh_01")
        })
        .await
        .unwrap();
    let before = members(&client, CHAT).await;
    let limit = usize::try_from(QR_JOIN_MEMBER_LIMIT).unwrap();
    let room_for = limit - before;
    let mut created = None;
    for i in 0..201 {
        let events = fake
            .simulate_join_via_way(&config_id, &format!("扫码入群{i}"))
            .unwrap();
        if i < room_for {
            assert_eq!(unlisted(&events), [add_member(CHAT)], "join {i}");
        } else if i == room_for {
            let [FakeEvent::ChatCreate { chat_id }, update] = events.as_slice() else {
                panic!("no group created at join {i}: {events:?}");
            };
            assert_eq!(
                unlisted(std::slice::from_ref(update)),
                [add_member(chat_id)]
            );
            created = Some(chat_id.clone());
        } else {
            assert_eq!(
                unlisted(&events),
                [add_member(created.as_ref().unwrap())],
                "join {i}"
            );
        }
    }
    let created = created.unwrap();

    let group = client.groupchat_get(CHAT, true).await.unwrap();
    assert_eq!(group.member_list.len(), limit);
    let joiner = group.member_list.last().unwrap();
    assert_eq!(joiner.member_type, 2);
    assert_eq!(joiner.join_scene, 3);
    assert_eq!(joiner.name, format!("扫码入群{}", room_for - 1));
    assert_eq!(joiner.state.as_deref(), Some("store_sh_01"));
    assert!(joiner.join_time > 1_700_000_000);
    // Members who did not come through a way carry no state.
    assert_eq!(group.member_list[0].state, None);
    // The joiners are nobody's friends.
    assert!(fake.with_corp(|corp| {
        !corp
            .follows
            .iter()
            .any(|f| f.external_userid == joiner.userid)
    }));

    let room = client.groupchat_get(&created, true).await.unwrap();
    assert_eq!(room.name, "base 1");
    assert_eq!(room.owner, "zhangwei");
    assert_eq!(room.member_list[0].userid, "zhangwei");
    assert_eq!(room.member_list[0].member_type, 1);
    assert_eq!(room.member_list.len(), 1 + 201 - room_for);
    assert!(
        room.member_list[1..]
            .iter()
            .all(|m| m.state.as_deref() == Some("store_sh_01") && m.join_scene == 3)
    );
    let way = fake.join_way(&config_id).unwrap();
    assert_eq!(way.auto_rooms, std::slice::from_ref(&created));
    assert_eq!(way.joins, 201);

    // Someone leaves the first group: the next joiner takes the place.
    let leaver = group.member_list[5].userid.clone();
    let event = fake.simulate_leave_group(CHAT, &leaver).unwrap();
    assert_eq!(
        event,
        FakeEvent::ChatUpdate {
            chat_id: CHAT.into(),
            update_detail: "del_member".into(),
            join_scene: None,
            quit_scene: Some(0),
            mem_change_cnt: Some(1),
            mem_change_list: vec![leaver.clone()],
        }
    );
    assert!(fake.simulate_leave_group(CHAT, &leaver).is_err());
    assert!(fake.simulate_leave_group("wrNoSuchGroup", &leaver).is_err());
    let version = group.member_version.clone();
    assert_eq!(
        unlisted(&fake.simulate_join_via_way(&config_id, "补位").unwrap()),
        [add_member(CHAT)]
    );
    let group = client.groupchat_get(CHAT, false).await.unwrap();
    assert_eq!(group.member_list.len(), limit);
    assert_ne!(group.member_version, version);

    // A second created room once the first is full too, numbered on.
    fake.with_corp(|corp| {
        let room = corp
            .groups
            .iter_mut()
            .find(|g| g.chat_id == created)
            .unwrap();
        let template = room.members[1].clone();
        while room.members.len() < limit {
            let mut member = template.clone();
            member.userid = format!("wmFiller{}", room.members.len());
            room.members.push(member);
        }
    });
    let events = fake.simulate_join_via_way(&config_id, "又一个").unwrap();
    let [FakeEvent::ChatCreate { chat_id }, _] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(
        client.groupchat_get(chat_id, false).await.unwrap().name,
        "base 2"
    );
}

#[tokio::test]
async fn joins_without_auto_create_stop_when_full() {
    let (fake, client) = spawn().await;
    let config_id = client
        .add_join_way(&qr_way(&[OTHER_CHAT, CHAT], "live_2311"))
        .await
        .unwrap();
    let limit = usize::try_from(QR_JOIN_MEMBER_LIMIT).unwrap();
    // An existing customer (a friend of 李娜's only, not in 王芳's group) joins as themselves.
    let customer = "wmDemoCustomer0003";
    assert!(
        !client
            .groupchat_get(OTHER_CHAT, false)
            .await
            .unwrap()
            .member_list
            .iter()
            .any(|m| m.userid == customer)
    );
    assert_eq!(
        unlisted(
            &fake
                .simulate_join_via_way_as(&config_id, customer, "老客")
                .unwrap()
        ),
        [add_member(OTHER_CHAT)]
    );
    let group = client.groupchat_get(OTHER_CHAT, false).await.unwrap();
    let member = group
        .member_list
        .iter()
        .find(|m| m.userid == customer)
        .unwrap();
    assert_eq!(member.state.as_deref(), Some("live_2311"));
    // Already in the group the way picks.
    assert!(
        fake.simulate_join_via_way_as(&config_id, customer, "老客")
            .is_err()
    );

    // The first group fills, then the second, then nothing takes joiners.
    let mut joined = 0;
    while members(&client, OTHER_CHAT).await < limit {
        assert_eq!(
            unlisted(&fake.simulate_join_via_way(&config_id, "人").unwrap()),
            [add_member(OTHER_CHAT)]
        );
        joined += 1;
    }
    assert!(joined > 0);
    while members(&client, CHAT).await < limit {
        assert_eq!(
            unlisted(&fake.simulate_join_via_way(&config_id, "人").unwrap()),
            [add_member(CHAT)]
        );
    }
    let error = fake.simulate_join_via_way(&config_id, "晚到").unwrap_err();
    assert!(error.contains("full"), "{error}");
    assert!(fake.join_way(&config_id).unwrap().auto_rooms.is_empty());
    let groups = fake.with_corp(|corp| corp.groups.len());
    assert_eq!(groups, 4);

    // Unknown and deleted ways take nobody.
    assert!(fake.simulate_join_via_way("jwNope", "路人").is_err());
    client.del_join_way(&config_id).await.unwrap();
    assert!(fake.simulate_join_via_way(&config_id, "路人").is_err());
    assert!(
        fake.simulate_join_via_way_as(&config_id, customer, "老客")
            .is_err()
    );
}

#[tokio::test]
async fn join_ways_share_the_contact_way_limit() {
    let (fake, client) = spawn().await;
    fake.with_corp(|corp| corp.contact_way_limit = 2);
    let contact_way = AddContactWayRequest {
        contact_type: 1,
        scene: 2,
        user: vec!["zhangwei".into()],
        ..Default::default()
    };
    client.add_contact_way(&contact_way).await.unwrap();
    let first = client.add_join_way(&qr_way(&[CHAT], "a")).await.unwrap();
    let error = client
        .add_join_way(&qr_way(&[CHAT], "b"))
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::CONTACT_WAY_LIMIT_REACHED));
    assert_eq!(error.slug(), "wecom_contact_way_limit");
    let error = client.add_contact_way(&contact_way).await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::CONTACT_WAY_LIMIT_REACHED));
    assert_eq!(fake.with_corp(|corp| corp.counted_contact_ways()), 2);
    // Deleting the join way frees a place for either kind.
    client.del_join_way(&first).await.unwrap();
    client.add_contact_way(&contact_way).await.unwrap();
    let error = client
        .add_join_way(&qr_way(&[CHAT], "c"))
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::CONTACT_WAY_LIMIT_REACHED));
}
