use std::time::Duration;

use yutang_wecom::client::api::{PATH_GET_FOLLOW_USER_LIST, PATH_LIST};
use yutang_wecom::client::codes;
use yutang_wecom::fake::FakeConfig;
use yutang_wecom::{ClientConfig, WecomClient, WecomError};

use crate::{GETTOKEN, spawn, spawn_with};

#[tokio::test]
async fn one_gettoken_for_many_calls() {
    let (fake, client) = spawn().await;
    let staff = client.get_follow_user_list().await.unwrap();
    assert_eq!(
        staff,
        ["zhangwei", "wangfang", "lina", "liuyang", "zhaolei"]
    );
    // Concurrent first calls on a fresh client would share one fetch too; here the token is
    // already cached.
    let handles: Vec<_> = staff
        .iter()
        .map(|userid| {
            let client = client.clone();
            let userid = userid.clone();
            tokio::spawn(async move { client.list_external_contacts(&userid).await })
        })
        .collect();
    for handle in handles {
        assert!(!handle.await.unwrap().unwrap().is_empty());
    }
    for _ in 0..5 {
        client.get_follow_user_list().await.unwrap();
    }
    assert_eq!(fake.calls(GETTOKEN), 1);
    assert_eq!(fake.calls(PATH_LIST), 5);
    assert_eq!(fake.calls(PATH_GET_FOLLOW_USER_LIST), 6);
}

#[tokio::test]
async fn concurrent_first_calls_share_one_gettoken() {
    let (fake, client) = spawn().await;
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_follow_user_list().await })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap().unwrap();
    }
    assert_eq!(fake.calls(GETTOKEN), 1);
}

#[tokio::test]
async fn forced_expiry_refreshes_and_retries_once() {
    let (fake, client) = spawn().await;
    let first = client.access_token().await.unwrap();
    client.get_follow_user_list().await.unwrap();
    fake.expire_tokens();
    let staff = client.get_follow_user_list().await.unwrap();
    assert_eq!(staff.len(), 5);
    // 1 ok + 1 answered 42001 + 1 retry with the new token.
    assert_eq!(fake.calls(PATH_GET_FOLLOW_USER_LIST), 3);
    assert_eq!(fake.calls(GETTOKEN), 2);
    assert_ne!(client.access_token().await.unwrap(), first);
}

#[tokio::test]
async fn token_rejected_twice_is_an_error_after_one_retry() {
    let (fake, client) = spawn().await;
    client.access_token().await.unwrap();
    fake.fail_next(PATH_GET_FOLLOW_USER_LIST, codes::INVALID_ACCESS_TOKEN, 2);
    let error = client.get_follow_user_list().await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_ACCESS_TOKEN));
    assert!(error.is_token_error());
    assert_eq!(fake.calls(PATH_GET_FOLLOW_USER_LIST), 2);
    assert_eq!(fake.calls(GETTOKEN), 2);
}

#[tokio::test]
async fn token_refreshed_before_it_expires() {
    let mut config = FakeConfig::demo();
    config.token_ttl = Duration::from_secs(2);
    let (fake, client) = spawn_with(config, |c| {
        c.token_refresh_margin = Duration::from_secs(1);
    })
    .await;
    client.get_follow_user_list().await.unwrap();
    client.get_follow_user_list().await.unwrap();
    assert_eq!(fake.calls(GETTOKEN), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.get_follow_user_list().await.unwrap();
    // Refreshed proactively: no call was answered 42001.
    assert_eq!(fake.calls(GETTOKEN), 2);
    assert_eq!(fake.calls(PATH_GET_FOLLOW_USER_LIST), 3);
}

#[tokio::test]
async fn wrong_secret_is_40001_and_not_retried() {
    let (fake, _) = spawn().await;
    let client = WecomClient::new(
        ClientConfig::new(fake.corp_id(), "wrong-secret").with_api_base(fake.base_url()),
    )
    .unwrap();
    let error = client.get_follow_user_list().await.unwrap_err();
    assert!(
        matches!(error, WecomError::Api { errcode: 40001, .. }),
        "{error:?}"
    );
    assert!(error.is_credentials_error());
    assert!(!error.is_transient());
    assert_eq!(error.slug(), "wecom_invalid_credentials");
    assert!(error.trace_id().is_some_and(|t| t.len() == 16));
    assert_eq!(fake.calls(GETTOKEN), 1);
    assert_eq!(fake.calls(PATH_GET_FOLLOW_USER_LIST), 0);

    let wrong_corp = WecomClient::new(
        ClientConfig::new("wwnotthiscorp", fake.secret()).with_api_base(fake.base_url()),
    )
    .unwrap();
    let error = wrong_corp.access_token().await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_CORPID));
}
