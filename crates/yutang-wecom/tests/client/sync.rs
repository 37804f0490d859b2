use std::collections::BTreeSet;

use yutang_wecom::client::api::{
    AddCorpTagRequest, BatchGetByUserRequest, DelCorpTagRequest, EditCorpTagRequest,
    GetCorpTagListRequest, GroupChatListRequest, MarkTagRequest, NewCorpTag, OwnerFilter,
};

use crate::spawn;

#[tokio::test]
async fn batch_get_by_user_pages_through_every_follow() {
    let (fake, client) = spawn().await;
    let staff = client.get_follow_user_list().await.unwrap();
    let mut request = BatchGetByUserRequest {
        userid_list: staff.clone(),
        cursor: String::new(),
        limit: Some(7),
    };
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = client.batch_get_by_user(&request).await.unwrap();
        pages += 1;
        assert!(page.external_contact_list.len() <= 7);
        for entry in page.external_contact_list {
            assert!(!entry.external_contact.name.is_empty());
            assert!(!entry.follow_info.tag_id.is_empty());
            seen.push((
                entry.follow_info.userid,
                entry.external_contact.external_userid,
            ));
        }
        if page.next_cursor.is_empty() {
            break;
        }
        request.cursor = page.next_cursor;
    }
    let expected: BTreeSet<(String, String)> = fake.with_corp(|corp| {
        corp.follows
            .iter()
            .filter(|f| staff.contains(&f.userid))
            .map(|f| (f.userid.clone(), f.external_userid.clone()))
            .collect()
    });
    assert_eq!(seen.len(), expected.len(), "no duplicates, nothing lost");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
    assert!(pages > 5);

    // The single-customer view agrees, with tag names resolved.
    let (userid, external_userid) = expected.iter().next().unwrap();
    let detail = client
        .get_external_contact(external_userid, None)
        .await
        .unwrap();
    assert_eq!(&detail.external_contact.external_userid, external_userid);
    let follow = detail
        .follow_user
        .iter()
        .find(|f| &f.userid == userid)
        .unwrap();
    assert!(follow.tags.iter().any(|t| t.group_name == "客户等级"));
    assert!(follow.state.is_some());
}

#[tokio::test]
async fn groupchat_list_pages_and_needs_owner_filter_for_resigned_owners() {
    let (_fake, client) = spawn().await;
    let mut request = GroupChatListRequest {
        limit: 1,
        ..Default::default()
    };
    let mut unfiltered = Vec::new();
    loop {
        let page = client.groupchat_list(&request).await.unwrap();
        assert!(page.group_chat_list.len() <= 1);
        unfiltered.extend(page.group_chat_list);
        if page.next_cursor.is_empty() {
            break;
        }
        request.cursor = page.next_cursor;
    }
    // The resigned owner's group is only listed with an owner filter.
    assert_eq!(unfiltered.len(), 3);

    let all_owners = GroupChatListRequest {
        owner_filter: Some(OwnerFilter {
            userid_list: ["zhangwei", "wangfang", "lina", "chenjing"]
                .map(String::from)
                .to_vec(),
        }),
        limit: 2,
        ..Default::default()
    };
    let first = client.groupchat_list(&all_owners).await.unwrap();
    assert_eq!(first.group_chat_list.len(), 2);
    let second = client
        .groupchat_list(&GroupChatListRequest {
            cursor: first.next_cursor.clone(),
            ..all_owners.clone()
        })
        .await
        .unwrap();
    assert_eq!(second.group_chat_list.len(), 2);
    assert!(second.next_cursor.is_empty());
    let resigned = second
        .group_chat_list
        .iter()
        .find(|g| g.status == 1)
        .unwrap();

    let group = client.groupchat_get(&resigned.chat_id, true).await.unwrap();
    assert_eq!(group.owner, "chenjing");
    assert!(
        group
            .member_list
            .iter()
            .any(|m| m.member_type == 2 && !m.name.is_empty())
    );
    let unnamed = client
        .groupchat_get(&resigned.chat_id, false)
        .await
        .unwrap();
    assert!(unnamed.member_list.iter().all(|m| m.name.is_empty()));
}

#[tokio::test]
async fn corp_tags_round_trip() {
    let (fake, client) = spawn().await;
    let groups = client
        .get_corp_tag_list(&GetCorpTagListRequest::default())
        .await
        .unwrap();
    assert_eq!(groups.len(), 2);
    let created = client
        .add_corp_tag(&AddCorpTagRequest {
            group_name: Some("兴趣偏好".into()),
            tag: vec![
                NewCorpTag {
                    name: "茶饮".into(),
                    order: None,
                },
                NewCorpTag {
                    name: "烘焙".into(),
                    order: Some(2),
                },
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.group_name, "兴趣偏好");
    assert_eq!(created.tag.len(), 2);
    let tea = created.tag[0].id.clone();
    client
        .mark_tag(&MarkTagRequest {
            userid: "zhangwei".into(),
            external_userid: "wmDemoCustomer0001".into(),
            add_tag: vec![tea.clone()],
            remove_tag: vec!["etDemoLevel0".into()],
        })
        .await
        .unwrap();
    let tags = fake.with_corp(|corp| {
        corp.follows
            .iter()
            .find(|f| f.userid == "zhangwei" && f.external_userid == "wmDemoCustomer0001")
            .unwrap()
            .tag_ids
            .clone()
    });
    assert!(tags.contains(&tea) && !tags.contains(&"etDemoLevel0".to_owned()));
    client
        .edit_corp_tag(&EditCorpTagRequest {
            id: tea.clone(),
            name: Some("新中式茶饮".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let only = client
        .get_corp_tag_list(&GetCorpTagListRequest {
            tag_id: vec![tea.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only[0].tag.len(), 1);
    assert_eq!(only[0].tag[0].name, "新中式茶饮");
    client
        .del_corp_tag(&DelCorpTagRequest {
            group_id: vec![created.group_id.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    let error = client
        .edit_corp_tag(&EditCorpTagRequest {
            id: tea,
            order: Some(1),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(40068));
}
