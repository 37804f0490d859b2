use std::time::{Duration, Instant};

use yutang_wecom::client::api::{
    AddContactWayRequest, BatchGetByUserRequest, GroupChatListRequest, OwnerFilter,
    PATH_ADD_CONTACT_WAY, PATH_BATCH_GET_BY_USER, PATH_GET, PATH_GET_FOLLOW_USER_LIST,
    TransferCustomerRequest,
};
use yutang_wecom::client::codes;
use yutang_wecom::fake::FakeConfig;
use yutang_wecom::{RateLimit, WecomError};

use crate::{GETTOKEN, spawn, spawn_with};

#[tokio::test]
async fn backs_off_on_frequency_and_concurrency_limits() {
    let (fake, client) = spawn().await;
    fake.fail_next(PATH_GET_FOLLOW_USER_LIST, codes::FREQUENCY_LIMIT, 2);
    fake.fail_next(PATH_GET_FOLLOW_USER_LIST, codes::CONCURRENCY_LIMIT, 1);
    let started = Instant::now();
    let staff = client.get_follow_user_list().await.unwrap();
    assert_eq!(staff.len(), 5);
    assert_eq!(fake.calls(PATH_GET_FOLLOW_USER_LIST), 4);
    // 10 + 20 + 40 ms, minus at most 25 % jitter each.
    assert!(started.elapsed() >= Duration::from_millis(50));
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    let (fake, client) = spawn_with(FakeConfig::demo(), |c| c.max_retries = 2).await;
    fake.fail_next(PATH_GET_FOLLOW_USER_LIST, codes::FREQUENCY_LIMIT, 5);
    let error = client.get_follow_user_list().await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::FREQUENCY_LIMIT));
    assert!(error.is_transient());
    assert_eq!(error.slug(), "wecom_rate_limited");
    assert_eq!(fake.calls(PATH_GET_FOLLOW_USER_LIST), 3);
}

#[tokio::test]
async fn system_busy_is_retried_also_on_gettoken() {
    let (fake, client) = spawn().await;
    fake.fail_next(GETTOKEN, codes::SYSTEM_BUSY, 1);
    fake.fail_next(PATH_GET_FOLLOW_USER_LIST, codes::SYSTEM_BUSY, 1);
    client.get_follow_user_list().await.unwrap();
    assert_eq!(fake.calls(GETTOKEN), 2);
    assert_eq!(fake.calls(PATH_GET_FOLLOW_USER_LIST), 2);
}

#[tokio::test]
async fn server_side_minute_quota_answers_45009() {
    let mut config = FakeConfig::demo();
    config.per_minute_limit = Some(3);
    let (fake, client) = spawn_with(config, |c| c.max_retries = 1).await;
    for _ in 0..3 {
        client.get_follow_user_list().await.unwrap();
    }
    let error = client.get_follow_user_list().await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::FREQUENCY_LIMIT));
    assert_eq!(fake.calls(PATH_GET_FOLLOW_USER_LIST), 5);
}

#[tokio::test]
async fn errors_are_mapped_and_not_retried() {
    let (fake, client) = spawn().await;
    let error = client
        .get_external_contact("wmNoSuchCustomer", None)
        .await
        .unwrap_err();
    let WecomError::Api {
        path,
        errcode,
        errmsg,
        trace_id,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(path, PATH_GET);
    assert_eq!(*errcode, codes::INVALID_EXTERNAL_USERID);
    assert!(errmsg.contains("hint"));
    assert_eq!(trace_id.len(), 16);
    assert_eq!(fake.calls(PATH_GET), 1);

    let error = client
        .batch_get_by_user(&BatchGetByUserRequest {
            userid_list: vec!["nobody".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_USERID));
    assert_eq!(fake.calls(PATH_BATCH_GET_BY_USER), 1);
}

#[tokio::test]
async fn documented_limits_are_checked_before_sending() {
    let (fake, client) = spawn().await;
    let too_long_state = AddContactWayRequest {
        contact_type: 1,
        scene: 2,
        state: Some("渠".repeat(31)),
        user: vec!["zhangwei".into()],
        ..Default::default()
    };
    let error = client.add_contact_way(&too_long_state).await.unwrap_err();
    assert!(
        matches!(error, WecomError::InvalidRequest { field: "state", .. }),
        "{error:?}"
    );
    let two_users = AddContactWayRequest {
        contact_type: 1,
        scene: 2,
        user: vec!["zhangwei".into(), "lina".into()],
        ..Default::default()
    };
    assert!(client.add_contact_way(&two_users).await.is_err());
    let thirty = AddContactWayRequest {
        state: Some("渠".repeat(30)),
        ..too_long_state.clone()
    };
    client.add_contact_way(&thirty).await.unwrap();
    assert_eq!(fake.calls(PATH_ADD_CONTACT_WAY), 1);

    let many = TransferCustomerRequest {
        handover_userid: "zhangwei".into(),
        takeover_userid: "lina".into(),
        external_userid: (0..101).map(|i| format!("wm{i}")).collect(),
        transfer_success_msg: None,
    };
    let error = client.transfer_customer(&many).await.unwrap_err();
    assert!(matches!(
        error,
        WecomError::InvalidRequest {
            field: "external_userid",
            ..
        }
    ));
    let error = client
        .groupchat_list(&GroupChatListRequest {
            limit: 1001,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.slug(), "wecom_invalid_request");
    let error = client
        .groupchat_list(&GroupChatListRequest {
            limit: 10,
            owner_filter: Some(OwnerFilter {
                userid_list: (0..101).map(|i| format!("u{i}")).collect(),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(error, WecomError::InvalidRequest { .. }));
    // None of these reached the server (and no token was needed).
    assert_eq!(fake.calls(GETTOKEN), 1);
}

#[tokio::test]
async fn client_side_rate_limit_spaces_calls() {
    let (_fake, client) = spawn_with(FakeConfig::demo(), |c| {
        c.rate_limit = RateLimit {
            burst: 3,
            per: Duration::from_millis(300),
        };
    })
    .await;
    client.access_token().await.unwrap();
    let started = Instant::now();
    for _ in 0..6 {
        client.get_follow_user_list().await.unwrap();
    }
    // 3 at once, then one every 100 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
}
