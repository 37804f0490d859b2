use yutang_wecom::client::api::{
    GroupChatListRequest, GroupChatTransferRequest, OwnerFilter, TransferCustomerRequest,
    TransferResultRequest, TransferStatus,
};
use yutang_wecom::client::codes;

use crate::spawn;

#[tokio::test]
async fn in_service_transfer_waits_then_completes() {
    let (fake, client) = spawn().await;
    let customers = client.list_external_contacts("zhangwei").await.unwrap();
    let moving: Vec<String> = customers.iter().take(2).cloned().collect();
    let mut request_ids = moving.clone();
    request_ids.push("wmNotHisCustomer".into());
    let results = client
        .transfer_customer(&TransferCustomerRequest {
            handover_userid: "zhangwei".into(),
            takeover_userid: "wangfang".into(),
            external_userid: request_ids,
            transfer_success_msg: Some("您好,后续由王芳为您服务。".into()),
        })
        .await
        .unwrap();
    let codes_by_customer: Vec<(String, i64)> = results
        .into_iter()
        .map(|r| (r.external_userid, r.errcode))
        .collect();
    assert_eq!(
        codes_by_customer,
        [
            (moving[0].clone(), 0),
            (moving[1].clone(), 0),
            ("wmNotHisCustomer".into(), codes::INVALID_EXTERNAL_USERID),
        ]
    );
    let query = TransferResultRequest {
        handover_userid: "zhangwei".into(),
        takeover_userid: "wangfang".into(),
        cursor: String::new(),
    };
    let waiting = client.transfer_result(&query).await.unwrap();
    assert_eq!(waiting.customer.len(), 2);
    assert!(
        waiting
            .customer
            .iter()
            .all(|c| c.status() == TransferStatus::Waiting)
    );
    assert!(waiting.next_cursor.is_empty());
    // Resigned-staff results are a separate list.
    assert!(
        client
            .resigned_transfer_result(&query)
            .await
            .unwrap()
            .customer
            .is_empty()
    );

    assert_eq!(fake.complete_transfers(), 2);
    let done = client.transfer_result(&query).await.unwrap();
    assert!(
        done.customer
            .iter()
            .all(|c| c.status() == TransferStatus::Completed)
    );
    let now_with_wangfang = client.list_external_contacts("wangfang").await.unwrap();
    assert!(moving.iter().all(|id| now_with_wangfang.contains(id)));
    let left_with_zhangwei = client.list_external_contacts("zhangwei").await.unwrap();
    assert!(moving.iter().all(|id| !left_with_zhangwei.contains(id)));
}

#[tokio::test]
async fn resigned_staff_customers_and_groups_are_inherited() {
    let (fake, client) = spawn().await;
    let customers = client.list_external_contacts("chenjing").await.unwrap();
    assert!(!customers.is_empty());
    let results = client
        .resigned_transfer_customer(&TransferCustomerRequest {
            handover_userid: "chenjing".into(),
            takeover_userid: "lina".into(),
            external_userid: customers.clone(),
            transfer_success_msg: None,
        })
        .await
        .unwrap();
    assert!(results.iter().all(|r| r.errcode == 0));
    let query = TransferResultRequest {
        handover_userid: "chenjing".into(),
        takeover_userid: "lina".into(),
        cursor: String::new(),
    };
    assert_eq!(
        client
            .resigned_transfer_result(&query)
            .await
            .unwrap()
            .customer
            .len(),
        customers.len()
    );
    fake.complete_transfers();
    let result = client.resigned_transfer_result(&query).await.unwrap();
    assert!(
        result
            .customer
            .iter()
            .all(|c| c.status() == TransferStatus::Completed)
    );

    let pending = client
        .groupchat_list(&GroupChatListRequest {
            status_filter: Some(1),
            owner_filter: Some(OwnerFilter {
                userid_list: vec!["chenjing".into()],
            }),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(pending.group_chat_list.len(), 1);
    let chat_id = pending.group_chat_list[0].chat_id.clone();
    let failed = client
        .groupchat_transfer(&GroupChatTransferRequest {
            chat_id_list: vec![chat_id.clone(), "wrNoSuchGroup".into()],
            new_owner: "lina".into(),
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].chat_id, "wrNoSuchGroup");
    assert_eq!(failed[0].errcode, codes::NOT_EXTERNAL_CHAT);
    let group = client.groupchat_get(&chat_id, false).await.unwrap();
    assert_eq!(group.owner, "lina");
    assert!(group.member_list.iter().any(|m| m.userid == "lina"));
}

#[tokio::test]
async fn transfer_with_unknown_staff_is_40003() {
    let (_fake, client) = spawn().await;
    let error = client
        .transfer_customer(&TransferCustomerRequest {
            handover_userid: "zhangwei".into(),
            takeover_userid: "nobody".into(),
            external_userid: vec!["wmDemoCustomer0001".into()],
            transfer_success_msg: None,
        })
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_USERID));
}
