use yutang_wecom::client::api::{
    AddContactWayRequest, AddMsgTemplateRequest, Attachment, GroupMsgListRequest,
    GroupMsgSendResultRequest, GroupMsgTaskRequest, SendWelcomeMsgRequest, Text,
    UpdateContactWayRequest,
};
use yutang_wecom::client::codes;

use crate::spawn;

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
    assert!(created.qr_code.starts_with("https://"));
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
    assert_eq!(error.errcode(), Some(codes::INVALID_PARAMETER));
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
    let yutang_wecom::fake::FakeEvent::AddExternalContact {
        welcome_code: Some(code),
        ..
    } = event
    else {
        panic!("{event:?}");
    };
    let request = SendWelcomeMsgRequest {
        welcome_code: code,
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
