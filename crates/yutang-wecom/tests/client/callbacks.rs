use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use yutang_wecom::crypto::AesKey;
use yutang_wecom::events::{
    CallbackEvent, ChatChange, ContactChange, EventKind, TagChange, TagType, UpdateDetail,
};
use yutang_wecom::fake::{CallbackTarget, FakeEvent};
use yutang_wecom::{CallbackCrypto, CryptoError};

use crate::spawn;

type Received = Arc<Mutex<Vec<(HashMap<String, String>, String)>>>;

/// A minimal callback receiver that records what it gets and answers an empty 200.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/wecom/callback",
            axum::routing::post(
                |State(received): State<Received>,
                 Query(query): Query<HashMap<String, String>>,
                 body: String| async move {
                    received.lock().unwrap().push((query, body));
                    ""
                },
            ),
        )
        .with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}/wecom/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

fn decrypt(
    crypto: &CallbackCrypto,
    query: &HashMap<String, String>,
    body: &str,
) -> Result<String, CryptoError> {
    crypto.decrypt_message(
        &query["msg_signature"],
        &query["timestamp"],
        &query["nonce"],
        body,
    )
}

#[tokio::test]
async fn pushed_callbacks_decrypt_and_parse() {
    let (fake, _client) = spawn().await;
    let (url, received) = receiver().await;
    let key = AesKey::generate();
    let target = CallbackTarget {
        url,
        token: "yutangToken".into(),
        encoding_aes_key: key.to_encoding_aes_key(),
        receive_id: fake.corp_id().to_owned(),
    };
    let added = fake.simulate_add_customer("zhangwei", "孙悟空", Some("store_sh_01"));
    let FakeEvent::AddExternalContact {
        external_userid, ..
    } = &added
    else {
        panic!("{added:?}");
    };
    let external_userid = external_userid.clone();
    let events = [
        added.clone(),
        fake.simulate_customer_deletes_staff("zhangwei", &external_userid),
        FakeEvent::ChatUpdate {
            chat_id: "wrDemoGroup0001".into(),
            update_detail: "add_member".into(),
            join_scene: Some(3),
            quit_scene: None,
            mem_change_cnt: Some(1),
            mem_change_list: vec![],
        },
        FakeEvent::Tag {
            change_type: "create".into(),
            id: "etDemoLevel2".into(),
            tag_type: "tag".into(),
        },
    ];
    for event in &events {
        let outcome = fake.push(&target, event).await.unwrap();
        assert_eq!(outcome.status, 200);
    }
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), events.len());

    let crypto = CallbackCrypto::new("yutangToken", key.clone(), fake.corp_id());
    let parsed: Vec<CallbackEvent> = received
        .iter()
        .map(|(query, body)| CallbackEvent::parse(&decrypt(&crypto, query, body).unwrap()).unwrap())
        .collect();
    for event in &parsed {
        assert_eq!(event.corp_id, fake.corp_id());
        assert_eq!(event.from_user_name, "sys");
    }
    match &parsed[0].kind {
        EventKind::ExternalContact(contact) => {
            assert_eq!(contact.user_id, "zhangwei");
            assert_eq!(contact.external_user_id, external_userid);
            let ContactChange::Add {
                state,
                welcome_code,
            } = &contact.change
            else {
                panic!("{:?}", contact.change);
            };
            assert_eq!(state.as_deref(), Some("store_sh_01"));
            assert!(welcome_code.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &parsed[1].kind,
        EventKind::ExternalContact(c) if c.change == ContactChange::DeleteFollowUser
    ));
    match &parsed[2].kind {
        EventKind::ExternalChat(chat) => {
            assert_eq!(chat.chat_id, "wrDemoGroup0001");
            let ChatChange::Update(update) = &chat.change else {
                panic!("{:?}", chat.change);
            };
            assert_eq!(update.detail, UpdateDetail::AddMember);
            assert_eq!(update.join_scene, Some(3));
            assert_eq!(update.mem_change_cnt, Some(1));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &parsed[3].kind,
        EventKind::ExternalTag(tag) if tag.change == TagChange::Create {
            id: "etDemoLevel2".into(),
            tag_type: Some(TagType::Tag),
        }
    ));
    // Distinct events have distinct dedup keys.
    let keys: std::collections::BTreeSet<String> =
        parsed.iter().map(CallbackEvent::dedup_key).collect();
    assert_eq!(keys.len(), parsed.len());

    // The wrong Token or corp id is refused.
    let (query, body) = &received[0];
    let wrong_token = CallbackCrypto::new("otherToken", key.clone(), fake.corp_id());
    assert_eq!(
        decrypt(&wrong_token, query, body),
        Err(CryptoError::SignatureMismatch)
    );
    let wrong_corp = CallbackCrypto::new("yutangToken", key, "wwsomeoneelse");
    assert!(matches!(
        decrypt(&wrong_corp, query, body),
        Err(CryptoError::ReceiveIdMismatch { .. })
    ));
}
