//! Acquisition links (获客链接, 97297) against the fake: round trip, validation on both
//! sides, attribution through `customer_channel`, even spread and quota.

use serde_json::json;
use yutang_wecom::client::api::{
    AcquisitionLinkListRequest, AcquisitionPriorityOption, AcquisitionRange,
    CreateAcquisitionLinkRequest, PATH_ACQUISITION_CREATE_LINK, PATH_ACQUISITION_GET,
    PATH_ACQUISITION_UPDATE_LINK, SendWelcomeMsgRequest, Text, UpdateAcquisitionLinkRequest,
    acquisition_link_scheme, acquisition_link_url,
};
use yutang_wecom::client::codes;
use yutang_wecom::events::{CallbackEvent, ContactChange, EventKind};
use yutang_wecom::{WecomClient, WecomError};

use crate::{added, raw_post, spawn};

fn link_request(name: &str, users: &[&str]) -> CreateAcquisitionLinkRequest {
    CreateAcquisitionLinkRequest {
        link_name: name.to_owned(),
        range: AcquisitionRange {
            user_list: users.iter().map(|u| (*u).to_owned()).collect(),
            department_list: Vec::new(),
        },
        ..Default::default()
    }
}

async fn create(client: &WecomClient, name: &str, users: &[&str]) -> String {
    client
        .create_acquisition_link(&link_request(name, users))
        .await
        .unwrap()
        .link_id
}

fn invalid_field(error: &WecomError) -> &'static str {
    match error {
        WecomError::InvalidRequest { field, .. } => field,
        other => panic!("expected a client-side refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn acquisition_link_round_trip() {
    let (fake, client) = spawn().await;
    let created = client
        .create_acquisition_link(&link_request("双十一直播间", &["zhangwei", "lina"]))
        .await
        .unwrap();
    assert!(!created.link_id.is_empty());
    assert_eq!(created.link_name, "双十一直播间");
    assert!(
        created.url.starts_with("https://work.weixin.qq.com/ca/"),
        "{}",
        created.url
    );
    assert!(created.create_time > 0);
    assert!(created.skip_verify, "WeCom's default is true");

    let detail = client.get_acquisition_link(&created.link_id).await.unwrap();
    assert_eq!(detail.link.link_id, created.link_id);
    assert_eq!(detail.link.url, created.url);
    assert_eq!(detail.range.user_list, ["zhangwei", "lina"]);
    assert_eq!(detail.priority_option, None);

    // Pages of the links still valid.
    let second = create(&client, "门店海报", &["wangfang"]).await;
    let first_page = client
        .list_acquisition_links(&AcquisitionLinkListRequest {
            limit: Some(1),
            cursor: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(first_page.link_id_list.len(), 1);
    assert!(!first_page.next_cursor.is_empty());
    let second_page = client
        .list_acquisition_links(&AcquisitionLinkListRequest {
            limit: Some(1),
            cursor: first_page.next_cursor.clone(),
        })
        .await
        .unwrap();
    assert!(second_page.next_cursor.is_empty());
    let mut all = [first_page.link_id_list, second_page.link_id_list].concat();
    all.sort();
    let mut expected = vec![created.link_id.clone(), second.clone()];
    expected.sort();
    assert_eq!(all, expected);

    // The range is replaced as a whole; other fields change only when given.
    client
        .update_acquisition_link(&UpdateAcquisitionLinkRequest {
            link_id: created.link_id.clone(),
            link_name: Some("双十一直播间(返场)".into()),
            range: Some(AcquisitionRange {
                user_list: vec!["liuyang".into()],
                department_list: vec![2],
            }),
            skip_verify: Some(false),
            priority_option: Some(AcquisitionPriorityOption {
                priority_type: 2,
                priority_userid_list: vec!["liuyang".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let detail = client.get_acquisition_link(&created.link_id).await.unwrap();
    assert_eq!(detail.link.link_name, "双十一直播间(返场)");
    assert_eq!(detail.range.user_list, ["liuyang"]);
    assert_eq!(detail.range.department_list, [2]);
    assert!(!detail.link.skip_verify);
    assert_eq!(detail.priority_option.map(|p| p.priority_type), Some(2));
    assert_eq!(detail.link.url, created.url, "the URL never changes");

    client
        .delete_acquisition_link(&created.link_id)
        .await
        .unwrap();
    assert!(fake.acquisition_link(&created.link_id).is_none());
    let error = client
        .get_acquisition_link(&created.link_id)
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_PARAMETER));
    let error = client
        .delete_acquisition_link(&created.link_id)
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_PARAMETER));
    let left = client
        .list_acquisition_links(&AcquisitionLinkListRequest::default())
        .await
        .unwrap();
    assert_eq!(left.link_id_list, [second]);
}

#[tokio::test]
async fn acquisition_link_validation_on_both_sides() {
    let (fake, client) = spawn().await;
    // Client side: refused before sending, naming the field.
    let too_many: Vec<String> = (0..501).map(|i| format!("user{i}")).collect();
    let cases = [
        (link_request("  ", &["zhangwei"]), "link_name"),
        (link_request(&"名".repeat(31), &["zhangwei"]), "link_name"),
        (link_request("空范围", &[]), "range"),
        (
            CreateAcquisitionLinkRequest {
                range: AcquisitionRange {
                    user_list: too_many.clone(),
                    department_list: Vec::new(),
                },
                ..link_request("太多人", &[])
            },
            "range.user_list",
        ),
        (
            CreateAcquisitionLinkRequest {
                priority_option: Some(AcquisitionPriorityOption {
                    priority_type: 3,
                    priority_userid_list: Vec::new(),
                }),
                ..link_request("优先", &["zhangwei"])
            },
            "priority_option.priority_type",
        ),
    ];
    for (request, field) in &cases {
        let error = client.create_acquisition_link(request).await.unwrap_err();
        assert_eq!(invalid_field(&error), *field);
    }
    // 30 characters are fine.
    create(&client, &"名".repeat(30), &["zhangwei"]).await;
    for limit in [0, 101] {
        let error = client
            .list_acquisition_links(&AcquisitionLinkListRequest {
                limit: Some(limit),
                cursor: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(invalid_field(&error), "limit");
    }
    let error = client.get_acquisition_link("").await.unwrap_err();
    assert_eq!(invalid_field(&error), "link_id");
    let error = client
        .update_acquisition_link(&UpdateAcquisitionLinkRequest {
            link_id: "x".into(),
            range: Some(AcquisitionRange::default()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(invalid_field(&error), "range");

    // Fake side: WeCom refuses unknown staff and unknown links…
    let error = client
        .create_acquisition_link(&link_request("无此人", &["zhangwei", "nobody"]))
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_USERID));
    let error = client
        .update_acquisition_link(&UpdateAcquisitionLinkRequest {
            link_id: "cawcdeNope".into(),
            link_name: Some("改名".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_PARAMETER));
    // …and what the client would not send.
    let raw_cases = [
        json!({"range": {"user_list": ["zhangwei"]}}),
        json!({"link_name": "名".repeat(31), "range": {"user_list": ["zhangwei"]}}),
        json!({"link_name": "空", "range": {}}),
        json!({"link_name": "多", "range": {"user_list": too_many}}),
    ];
    for body in raw_cases {
        let answer = raw_post(&fake, &client, PATH_ACQUISITION_CREATE_LINK, body.clone()).await;
        assert_eq!(answer["errcode"], json!(codes::INVALID_PARAMETER), "{body}");
    }
    let answer = raw_post(&fake, &client, PATH_ACQUISITION_GET, json!({})).await;
    assert_eq!(answer["errcode"], json!(codes::INVALID_PARAMETER));
    // Only the one valid link was created.
    assert_eq!(fake.with_corp(|corp| corp.acquisition_links.len()), 1);
    let link_id = fake.with_corp(|corp| corp.acquisition_links.keys().next().cloned().unwrap());
    let answer = raw_post(
        &fake,
        &client,
        PATH_ACQUISITION_UPDATE_LINK,
        json!({"link_id": link_id, "range": {"user_list": ["nobody"]}}),
    )
    .await;
    assert_eq!(answer["errcode"], json!(codes::INVALID_USERID));
    assert_eq!(fake.acquisition_link(&link_id).unwrap().users, ["zhangwei"]);
}

#[tokio::test]
async fn opening_a_link_attributes_spreads_and_uses_quota() {
    let (fake, client) = spawn().await;
    let link_id = create(&client, "直播间", &["zhangwei", "lina"]).await;
    let before = client.get_acquisition_quota().await.unwrap();
    let mut receivers = Vec::new();
    for i in 0..4 {
        let event = fake
            .simulate_open_acquisition_link(&link_id, Some("live_2311"), &format!("直播客{i}"))
            .unwrap();
        let added = added(&event);
        // The callback's State is the customer_channel (96361) …
        assert_eq!(added.state.as_deref(), Some("live_2311"));
        let parsed = CallbackEvent::parse(&event.to_xml("wwcorp", 1_700_000_000)).unwrap();
        let EventKind::ExternalContact(contact) = parsed.kind else {
            panic!("{:?}", parsed.kind);
        };
        assert_eq!(
            contact.change,
            ContactChange::Add {
                state: Some("live_2311".into()),
                welcome_code: Some(added.welcome_code.clone()),
            }
        );
        // … and so is the follow's state, with add_way 16 (通过获客链接添加).
        let detail = client
            .get_external_contact(&added.external_userid, None)
            .await
            .unwrap();
        assert_eq!(detail.follow_user[0].state.as_deref(), Some("live_2311"));
        assert_eq!(detail.follow_user[0].add_way, 16);
        // The welcome code works like any other.
        client
            .send_welcome_msg(&SendWelcomeMsgRequest {
                welcome_code: added.welcome_code,
                text: Some(Text {
                    content: "欢迎来到直播间".into(),
                }),
                attachments: Vec::new(),
            })
            .await
            .unwrap();
        receivers.push(added.userid);
    }
    assert_eq!(receivers, ["zhangwei", "lina", "zhangwei", "lina"]);
    let after = client.get_acquisition_quota().await.unwrap();
    assert_eq!(after.total, before.total + 4);
    assert_eq!(after.balance, before.balance - 4);

    // Without a channel there is no State; a channel over 64 bytes is cut to 64 (97298).
    let event = fake
        .simulate_open_acquisition_link(&link_id, None, "无渠道")
        .unwrap();
    assert_eq!(added(&event).state, None);
    let long = "c".repeat(70);
    let event = fake
        .simulate_open_acquisition_link(&link_id, Some(&long), "长渠道")
        .unwrap();
    assert_eq!(added(&event).state.as_deref(), Some(&long[..64]));

    // A deleted link adds nobody.
    client.delete_acquisition_link(&link_id).await.unwrap();
    assert!(
        fake.simulate_open_acquisition_link(&link_id, Some("live_2311"), "迟来客")
            .is_err()
    );
}

#[tokio::test]
async fn exhausted_quota_stops_the_links() {
    let (fake, client) = spawn().await;
    let link_id = create(&client, "门店海报", &["wangfang"]).await;
    fake.with_corp(|corp| {
        corp.acquisition_quota.balance = 1;
        corp.acquisition_quota.expire_date = 1_767_196_800;
    });
    let quota = client.get_acquisition_quota().await.unwrap();
    assert_eq!(quota.balance, 1);
    assert_eq!(quota.quota_list.len(), 1);
    assert_eq!(quota.quota_list[0].expire_date, 1_767_196_800);
    assert_eq!(quota.quota_list[0].balance, 1);

    fake.simulate_open_acquisition_link(&link_id, Some("poster"), "最后一位")
        .unwrap();
    let customers = fake.with_corp(|corp| corp.customers.len());
    let error = fake
        .simulate_open_acquisition_link(&link_id, Some("poster"), "来晚了")
        .unwrap_err();
    assert!(error.contains("quota"), "{error}");
    assert_eq!(fake.with_corp(|corp| corp.customers.len()), customers);
    let quota = client.get_acquisition_quota().await.unwrap();
    assert_eq!((quota.total, quota.balance), (1, 0));
    assert!(quota.quota_list.is_empty());
    // Links can still be managed; they just add nobody until the quota grows.
    create(&client, "新海报", &["wangfang"]).await;
    fake.with_corp(|corp| corp.acquisition_quota.balance = 5);
    fake.simulate_open_acquisition_link(&link_id, Some("poster"), "补货后")
        .unwrap();
}

#[test]
fn link_url_and_scheme_carry_the_channel() {
    let url = "https://work.weixin.qq.com/ca/caXXXXX";
    assert_eq!(
        acquisition_link_url(url, "WORK").unwrap(),
        "https://work.weixin.qq.com/ca/caXXXXX?customer_channel=WORK"
    );
    // The example of 97297, character for character.
    assert_eq!(
        acquisition_link_scheme(url, "WORK").unwrap(),
        "weixin://biz/ww/profile/https%3A%2F%2Fwork.weixin.qq.com%2Fca%2FcaXXXXX%3Fcustomer_channel%3DWORK"
    );
    assert_eq!(
        acquisition_link_url(url, "门店 A&B").unwrap(),
        "https://work.weixin.qq.com/ca/caXXXXX?customer_channel=%E9%97%A8%E5%BA%97+A%26B"
    );
    assert!(acquisition_link_url(url, &"c".repeat(64)).is_ok());
    for (bad_url, channel, field) in [
        (url, "c".repeat(65), "customer_channel"),
        (url, String::new(), "customer_channel"),
        ("work.weixin.qq.com/ca/x", "WORK".to_owned(), "url"),
    ] {
        let error = acquisition_link_url(bad_url, &channel).unwrap_err();
        assert_eq!(invalid_field(&error), field);
    }
}
