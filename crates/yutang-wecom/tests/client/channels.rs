use std::time::Duration;

use serde_json::json;
use yutang_wecom::client::api::{
    AddContactWayRequest, AddMsgTemplateRequest, Attachment, GroupMsgListRequest,
    GroupMsgSendResultRequest, GroupMsgTaskRequest, PATH_ADD_CONTACT_WAY, PATH_SEND_WELCOME_MSG,
    PATH_UPDATE_CONTACT_WAY, SendWelcomeMsgRequest, Text, UpdateContactWayRequest,
};
use yutang_wecom::client::codes;
use yutang_wecom::{WecomClient, WecomError};

use crate::{added, raw_post, spawn, welcome_code};

#[tokio::test]
async fn contact_way_create_update_delete() {
    let (fake, client) = spawn().await;
    let created = client
        .add_contact_way(&AddContactWayRequest {
            contact_type: 1,
            scene: 2,
            remark: Some("上海一店".into()),
            skip_verify: Some(true),
            state: Some("store_sh_01".into()),
            user: vec!["zhangwei".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!created.config_id.is_empty());
    // The fake serves the QR on its own address, under WeCom's image path, as a real PNG.
    assert!(
        created
            .qr_code
            .starts_with(&format!("{}/wwpic/", fake.base_url())),
        "{}",
        created.qr_code
    );
    let image = client.download_qr_image(&created.qr_code).await.unwrap();
    assert_eq!(image.content_type, "image/png");
    client
        .update_contact_way(&UpdateContactWayRequest {
            config_id: created.config_id.clone(),
            state: Some("store_sh_02".into()),
            user: Some(vec!["lina".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let (state, users) = fake.with_corp(|corp| {
        let way = &corp.contact_ways[&created.config_id];
        (way.state.clone(), way.users.clone())
    });
    assert_eq!(state, "store_sh_02");
    assert_eq!(users, ["lina"]);
    client.del_contact_way(&created.config_id).await.unwrap();
    assert!(fake.with_corp(|corp| corp.contact_ways.is_empty()));
    let error = client
        .del_contact_way(&created.config_id)
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_CONFIG_ID));
    assert_eq!(error.slug(), "wecom_contact_way_unknown");
    let error = client
        .update_contact_way(&UpdateContactWayRequest {
            config_id: created.config_id,
            user: Some(vec!["nobody".into()]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_USERID));
}

#[tokio::test]
async fn welcome_message_only_once() {
    let (fake, client) = spawn().await;
    let event = fake.simulate_add_customer("wangfang", "钱多多", Some("live_2311"));
    let request = SendWelcomeMsgRequest {
        welcome_code: welcome_code(&event),
        text: Some(Text {
            content: "欢迎加入鱼塘会员!".into(),
        }),
        attachments: vec![Attachment::link(
            "新人礼包",
            "https://example.invalid/gift",
            None,
            Some("领取 20 元券"),
        )],
    };
    client.send_welcome_msg(&request).await.unwrap();
    let error = client.send_welcome_msg(&request).await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::WELCOME_ALREADY_SENT));
    assert_eq!(error.slug(), "wecom_welcome_already_sent");
    assert!(!error.is_transient());
    let too_many = SendWelcomeMsgRequest {
        attachments: vec![Attachment::image("MEDIA"); 10],
        ..request
    };
    assert!(client.send_welcome_msg(&too_many).await.is_err());
}

#[tokio::test]
async fn mass_send_task_and_results() {
    let (fake, client) = spawn().await;
    let created = client
        .add_msg_template(&AddMsgTemplateRequest {
            external_userid: vec![
                "wmDemoCustomer0001".into(),
                "wmDemoCustomer0007".into(),
                "wmNobody".into(),
            ],
            sender: Some("zhangwei".into()),
            text: Some(Text {
                content: "双十一会员专享".into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.fail_list, ["wmNobody"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let list = client
        .get_groupmsg_list_v2(&GroupMsgListRequest {
            start_time: now - 3600,
            end_time: now + 60,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(list.group_msg_list.len(), 1);
    assert_eq!(list.group_msg_list[0].msgid, created.msgid);
    assert!(list.group_msg_list[0].create_time > 0);
    let task = GroupMsgTaskRequest {
        msgid: created.msgid.clone(),
        ..Default::default()
    };
    let tasks = client.get_groupmsg_task(&task).await.unwrap();
    assert_eq!(tasks.task_list.len(), 1);
    assert_eq!(tasks.task_list[0].status, 0);
    assert!(fake.complete_msg_template(&created.msgid));
    let tasks = client.get_groupmsg_task(&task).await.unwrap();
    assert_eq!(tasks.task_list[0].status, 2);
    let results = client
        .get_groupmsg_send_result(&GroupMsgSendResultRequest {
            msgid: created.msgid,
            userid: "zhangwei".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(results.send_list.len(), 2);
    assert!(
        results
            .send_list
            .iter()
            .all(|r| r.status == 1 && r.send_time > 0)
    );

    // Group sends need a sender; the span is at most a month.
    assert!(
        client
            .add_msg_template(&AddMsgTemplateRequest {
                chat_type: Some("group".into()),
                text: Some(Text {
                    content: "x".into()
                }),
                ..Default::default()
            })
            .await
            .is_err()
    );
    assert!(
        client
            .get_groupmsg_list_v2(&GroupMsgListRequest {
                start_time: 0,
                end_time: 40 * 86_400,
                ..Default::default()
            })
            .await
            .is_err()
    );
}

fn greeting(code: &str) -> SendWelcomeMsgRequest {
    SendWelcomeMsgRequest {
        welcome_code: code.to_owned(),
        text: Some(Text {
            content: "欢迎光临鱼塘!".into(),
        }),
        attachments: Vec::new(),
    }
}

async fn multi_way(client: &WecomClient, state: &str, users: &[&str]) -> String {
    client
        .add_contact_way(&AddContactWayRequest {
            contact_type: 2,
            scene: 2,
            state: Some(state.into()),
            user: users.iter().map(|u| (*u).to_owned()).collect(),
            ..Default::default()
        })
        .await
        .unwrap()
        .config_id
}

#[tokio::test]
async fn scans_spread_over_the_ways_current_users() {
    let (fake, client) = spawn().await;
    let config_id = multi_way(&client, "store_sh_01", &["zhangwei", "lina", "wangfang"]).await;
    let mut receivers = Vec::new();
    for i in 0..6 {
        let added = added(
            &fake
                .simulate_scan_contact_way(&config_id, &format!("扫码客{i}"))
                .unwrap(),
        );
        assert_eq!(added.state.as_deref(), Some("store_sh_01"));
        // WeCom's own view of the new follow carries the way's state.
        let detail = client
            .get_external_contact(&added.external_userid, None)
            .await
            .unwrap();
        assert_eq!(detail.external_contact.name, format!("扫码客{i}"));
        let follow = &detail.follow_user[0];
        assert_eq!(follow.userid, added.userid);
        assert_eq!(follow.state.as_deref(), Some("store_sh_01"));
        assert_eq!(follow.add_way, 1);
        receivers.push(added.userid);
    }
    assert_eq!(
        receivers,
        [
            "zhangwei", "lina", "wangfang", "zhangwei", "lina", "wangfang"
        ]
    );

    // New users start from zero adds; the way's new state comes back on the next event.
    client
        .update_contact_way(&UpdateContactWayRequest {
            config_id: config_id.clone(),
            state: Some("store_sh_02".into()),
            user: Some(vec!["lina".into(), "liuyang".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let way = fake.contact_way(&config_id).unwrap();
    assert_eq!(way.users, ["lina", "liuyang"]);
    assert_eq!(way.state, "store_sh_02");
    let mut next = Vec::new();
    for i in 0..3 {
        let added = added(
            &fake
                .simulate_scan_contact_way(&config_id, &format!("新客{i}"))
                .unwrap(),
        );
        assert_eq!(added.state.as_deref(), Some("store_sh_02"));
        next.push(added.userid);
    }
    assert_eq!(next, ["liuyang", "liuyang", "lina"]);
}

#[tokio::test]
async fn scanning_a_missing_or_userless_way_fails() {
    let (fake, client) = spawn().await;
    assert!(fake.simulate_scan_contact_way("cwNope", "路人").is_err());
    // 陈静 has resigned: her single-user way hands out nobody.
    let resigned = client
        .add_contact_way(&AddContactWayRequest {
            contact_type: 1,
            scene: 2,
            user: vec!["chenjing".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let error = fake
        .simulate_scan_contact_way(&resigned.config_id, "路人")
        .unwrap_err();
    assert!(error.contains("no active user"), "{error}");
    let config_id = multi_way(&client, "", &["zhangwei"]).await;
    // No state on the way: no State on the event.
    let event = fake.simulate_scan_contact_way(&config_id, "路人").unwrap();
    assert_eq!(added(&event).state, None);
    client.del_contact_way(&config_id).await.unwrap();
    assert!(fake.contact_way(&config_id).is_none());
    assert!(fake.simulate_scan_contact_way(&config_id, "路人").is_err());
}

#[tokio::test]
async fn welcome_code_expires_after_its_window() {
    let (fake, client) = spawn().await;
    let fresh = welcome_code(&fake.simulate_add_customer("lina", "准时客", None));
    let late = welcome_code(&fake.simulate_add_customer("lina", "迟到客", None));
    // 19 s on: still inside the 20 s window.
    fake.advance_clock(Duration::from_secs(19));
    client.send_welcome_msg(&greeting(&fresh)).await.unwrap();
    // 21 s after it was issued the other code is refused, and stays unused.
    fake.advance_clock(Duration::from_secs(2));
    let error = client.send_welcome_msg(&greeting(&late)).await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_WELCOME_CODE));
    assert_eq!(error.slug(), "wecom_welcome_code_invalid");
    assert!(!error.is_transient());
    assert!(!fake.welcome_code(&late).unwrap().used());
    assert!(fake.welcome_code(&fresh).unwrap().used());

    // A code the fake never issued is the same error.
    let error = client
        .send_welcome_msg(&greeting("WELCOME-never-issued"))
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_WELCOME_CODE));

    // TTL zero: every code is expired as soon as it is issued.
    fake.with_corp(|corp| corp.welcome_code_ttl = Duration::ZERO);
    let code = welcome_code(&fake.simulate_add_customer("lina", "秒过期", None));
    let error = client.send_welcome_msg(&greeting(&code)).await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_WELCOME_CODE));
}

#[tokio::test]
async fn welcome_being_sent_elsewhere_leaves_the_code_usable() {
    let (fake, client) = spawn().await;
    let code = welcome_code(&fake.simulate_add_customer("wangfang", "抢答客", None));
    assert!(fake.welcome_being_sent(&code, 2));
    assert!(!fake.welcome_being_sent("WELCOME-unknown", 1));
    for _ in 0..2 {
        let error = client.send_welcome_msg(&greeting(&code)).await.unwrap_err();
        assert_eq!(error.errcode(), Some(codes::WELCOME_BEING_SENT));
        assert_eq!(error.slug(), "wecom_welcome_being_sent");
        assert!(error.is_transient());
    }
    assert!(!fake.welcome_code(&code).unwrap().used());

    // The path-wide hook: answers 41096 before looking at the code, which stays unused too.
    fake.fail_next(PATH_SEND_WELCOME_MSG, codes::WELCOME_BEING_SENT, 1);
    let error = client.send_welcome_msg(&greeting(&code)).await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::WELCOME_BEING_SENT));
    // One 41096, no client-side retry: it is the caller's decision.
    assert_eq!(fake.calls(PATH_SEND_WELCOME_MSG), 3);
    assert!(!fake.welcome_code(&code).unwrap().used());

    // The retry goes through, and what was sent is recorded.
    client.send_welcome_msg(&greeting(&code)).await.unwrap();
    let sent = fake.welcome_code(&code).unwrap().message.unwrap();
    assert_eq!(sent["text"], json!("欢迎光临鱼塘!"));
    let error = client.send_welcome_msg(&greeting(&code)).await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::WELCOME_ALREADY_SENT));
}

#[tokio::test]
async fn contact_way_quota_is_per_corp() {
    let (fake, client) = spawn().await;
    fake.with_corp(|corp| corp.contact_way_limit = 2);
    let first = multi_way(&client, "a", &["zhangwei"]).await;
    multi_way(&client, "b", &["lina"]).await;
    let third = AddContactWayRequest {
        contact_type: 1,
        scene: 2,
        user: vec!["wangfang".into()],
        ..Default::default()
    };
    let error = client.add_contact_way(&third).await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::CONTACT_WAY_LIMIT_REACHED));
    assert_eq!(error.slug(), "wecom_contact_way_limit");
    assert!(!error.is_transient());
    assert_eq!(fake.with_corp(|corp| corp.contact_ways.len()), 2);
    // Temporary-session ways do not count (96348).
    client
        .add_contact_way(&AddContactWayRequest {
            is_temp: Some(true),
            ..third.clone()
        })
        .await
        .unwrap();
    // Deleting one frees a place.
    client.del_contact_way(&first).await.unwrap();
    client.add_contact_way(&third).await.unwrap();
}

#[tokio::test]
async fn contact_way_state_longer_than_30_characters_is_refused() {
    let (fake, client) = spawn().await;
    let thirty = "渠".repeat(30);
    let thirty_one = "渠".repeat(31);
    let request = AddContactWayRequest {
        contact_type: 1,
        scene: 2,
        user: vec!["zhangwei".into()],
        state: Some(thirty.clone()),
        ..Default::default()
    };
    // 30 characters (90 bytes) are fine: the limit counts characters.
    let created = client.add_contact_way(&request).await.unwrap();
    assert_eq!(fake.contact_way(&created.config_id).unwrap().state, thirty);

    // The client refuses 31 before sending…
    let error = client
        .add_contact_way(&AddContactWayRequest {
            state: Some(thirty_one.clone()),
            ..request.clone()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, WecomError::InvalidRequest { field: "state", .. }),
        "{error:?}"
    );
    let error = client
        .update_contact_way(&UpdateContactWayRequest {
            config_id: created.config_id.clone(),
            state: Some(thirty_one.clone()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, WecomError::InvalidRequest { field: "state", .. }),
        "{error:?}"
    );
    // …and the fake refuses it too when it arrives anyway.
    let adds_before = fake.calls(PATH_ADD_CONTACT_WAY);
    let answer = raw_post(
        &fake,
        &client,
        PATH_ADD_CONTACT_WAY,
        json!({"type": 1, "scene": 2, "user": ["zhangwei"], "state": thirty_one}),
    )
    .await;
    assert_eq!(answer["errcode"], json!(codes::INVALID_PARAMETER));
    assert_eq!(fake.calls(PATH_ADD_CONTACT_WAY), adds_before + 1);
    let answer = raw_post(
        &fake,
        &client,
        PATH_UPDATE_CONTACT_WAY,
        json!({"config_id": created.config_id, "state": thirty_one}),
    )
    .await;
    assert_eq!(answer["errcode"], json!(codes::INVALID_PARAMETER));
    assert_eq!(fake.contact_way(&created.config_id).unwrap().state, thirty);
    assert_eq!(fake.with_corp(|corp| corp.contact_ways.len()), 1);
}

#[tokio::test]
async fn contact_way_type_scene_and_user_count_codes() {
    let (fake, client) = spawn().await;
    let cases = [
        (
            json!({"scene": 2, "user": ["zhangwei"]}),
            codes::MISSING_CONTACT_WAY_TYPE,
        ),
        (
            json!({"type": 3, "scene": 2, "user": ["zhangwei"]}),
            codes::INVALID_CONTACT_WAY_TYPE,
        ),
        (
            json!({"type": 1, "user": ["zhangwei"]}),
            codes::MISSING_CONTACT_WAY_SCENE,
        ),
        (
            json!({"type": 1, "scene": 5, "user": ["zhangwei"]}),
            codes::INVALID_CONTACT_WAY_SCENE,
        ),
        (
            json!({"type": 1, "scene": 2, "user": ["nobody"]}),
            codes::INVALID_USERID,
        ),
    ];
    for (body, code) in cases {
        let answer = raw_post(&fake, &client, PATH_ADD_CONTACT_WAY, body.clone()).await;
        assert_eq!(answer["errcode"], json!(code), "{body}");
    }
    let crowd: Vec<String> = (0..101).map(|i| format!("user{i}")).collect();
    let answer = raw_post(
        &fake,
        &client,
        PATH_ADD_CONTACT_WAY,
        json!({"type": 2, "scene": 2, "user": crowd}),
    )
    .await;
    assert_eq!(answer["errcode"], json!(codes::CONTACT_WAY_TOO_MANY_USERS));
    let error = client
        .add_contact_way(&AddContactWayRequest {
            contact_type: 2,
            scene: 2,
            user: crowd,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, WecomError::InvalidRequest { field: "user", .. }),
        "{error:?}"
    );
    assert!(fake.with_corp(|corp| corp.contact_ways.is_empty()));
}

/// Wait (polling) until the fake holds `n` requests of `path`.
async fn held(fake: &yutang_wecom::fake::FakeWecom, path: &str, n: usize) {
    for _ in 0..400 {
        if fake.held(path) == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{path}: {} held, not {n}", fake.held(path));
}

#[tokio::test]
async fn held_requests_wait_before_or_after_being_applied() {
    use yutang_wecom::fake::Hold;
    let (fake, client) = spawn().await;
    let client = std::sync::Arc::new(client);

    // Held after applying: the welcome is sent, the answer waits until the release.
    let code = welcome_code(&fake.simulate_add_customer("lina", "取走客", None));
    fake.hold(PATH_SEND_WELCOME_MSG, Hold::AfterApplying);
    let c = std::sync::Arc::clone(&client);
    let req = greeting(&code);
    let call = tokio::spawn(async move { c.send_welcome_msg(&req).await });
    held(&fake, PATH_SEND_WELCOME_MSG, 1).await;
    assert!(fake.welcome_code(&code).unwrap().used());
    assert!(!call.is_finished());
    fake.release(PATH_SEND_WELCOME_MSG);
    call.await.unwrap().unwrap();
    assert_eq!(fake.held(PATH_SEND_WELCOME_MSG), 0);

    // Held before applying: dropped unapplied on release (HTTP 503), the code still usable;
    // later requests are not held.
    let code = welcome_code(&fake.simulate_add_customer("lina", "未达客", None));
    fake.hold(PATH_SEND_WELCOME_MSG, Hold::BeforeApplying);
    let c = std::sync::Arc::clone(&client);
    let req = greeting(&code);
    let call = tokio::spawn(async move { c.send_welcome_msg(&req).await });
    held(&fake, PATH_SEND_WELCOME_MSG, 1).await;
    fake.release(PATH_SEND_WELCOME_MSG);
    let error = call.await.unwrap().unwrap_err();
    assert!(matches!(error, WecomError::Status { .. }), "{error:?}");
    assert!(!fake.welcome_code(&code).unwrap().used());
    client.send_welcome_msg(&greeting(&code)).await.unwrap();
    assert!(fake.welcome_code(&code).unwrap().used());
}

#[tokio::test]
async fn overlapping_calls_for_one_contact_way_are_counted() {
    let (fake, client) = spawn().await;
    let client = std::sync::Arc::new(client);
    let config_id = client
        .add_contact_way(&AddContactWayRequest {
            contact_type: 2,
            scene: 2,
            user: vec!["zhangwei".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .config_id;
    let update = |users: &[&str]| UpdateContactWayRequest {
        config_id: config_id.clone(),
        user: Some(users.iter().map(|u| (*u).to_owned()).collect()),
        ..Default::default()
    };
    // One after the other: never more than one at once.
    client.update_contact_way(&update(&["lina"])).await.unwrap();
    client
        .update_contact_way(&update(&["wangfang"]))
        .await
        .unwrap();
    assert_eq!(fake.max_concurrent(PATH_UPDATE_CONTACT_WAY, &config_id), 1);
    // Two at once (the first held inside the fake): seen as two.
    fake.hold(
        PATH_UPDATE_CONTACT_WAY,
        yutang_wecom::fake::Hold::AfterApplying,
    );
    let c = std::sync::Arc::clone(&client);
    let first = update(&["lina"]);
    let first = tokio::spawn(async move { c.update_contact_way(&first).await });
    held(&fake, PATH_UPDATE_CONTACT_WAY, 1).await;
    let c = std::sync::Arc::clone(&client);
    let second = update(&["zhangwei"]);
    let second = tokio::spawn(async move { c.update_contact_way(&second).await });
    held(&fake, PATH_UPDATE_CONTACT_WAY, 2).await;
    fake.release(PATH_UPDATE_CONTACT_WAY);
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(fake.max_concurrent(PATH_UPDATE_CONTACT_WAY, &config_id), 2);
    assert_eq!(
        fake.max_concurrent(PATH_UPDATE_CONTACT_WAY, "no-such-way"),
        0
    );
}
