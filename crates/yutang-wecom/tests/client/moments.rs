//! Moments (客户朋友圈) and their attachments through the real client against the fake:
//! upload, the two-step task, publishing, likes and comments, the list, cancelling, and the
//! limits the client and the fake apply.

use std::time::Duration;

use serde_json::json;
use yutang_wecom::client::api::{
    AddMomentTaskRequest, ExternalContactList, MAX_ATTACHMENT_BYTES, MAX_MOMENT_IMAGES,
    MAX_MOMENT_TEXT_CHARS, MEDIA_TTL_SECS, MediaRef, MomentAttachment, MomentLink,
    MomentListRequest, PATH_ADD_MOMENT_TASK, PATH_GET_MOMENT_LIST, PATH_GET_MOMENT_TASK,
    PATH_UPLOAD_ATTACHMENT, SenderList, Text, VisibleRange,
};
use yutang_wecom::client::codes;
use yutang_wecom::fake::{FakeWecom, Hold};
use yutang_wecom::{WecomClient, WecomError};

use crate::{GETTOKEN, raw_post, spawn};

/// A 1×1 PNG.
const PNG: [u8; 67] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The start of an MP4 (an `ftyp` box) and some padding.
fn mp4() -> Vec<u8> {
    let mut bytes = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    bytes.extend_from_slice(&[0; 64]);
    bytes
}

async fn upload_png(client: &WecomClient) -> String {
    let uploaded = client
        .upload_attachment("image", 1, "poster.png", "image/png", PNG.to_vec())
        .await
        .unwrap();
    assert_eq!(uploaded.kind, "image");
    assert!(uploaded.created_at > 0);
    uploaded.media_id
}

fn image(media_id: &str) -> MomentAttachment {
    MomentAttachment::Image {
        image: MediaRef {
            media_id: media_id.to_owned(),
        },
    }
}

fn text(content: &str) -> Option<Text> {
    Some(Text {
        content: content.to_owned(),
    })
}

fn to(users: &[&str]) -> Option<VisibleRange> {
    Some(VisibleRange {
        sender_list: Some(SenderList {
            user_list: users.iter().map(|u| (*u).to_owned()).collect(),
            department_list: Vec::new(),
        }),
        external_contact_list: None,
    })
}

/// Creates the moment and polls the job until it is done; returns the moment id.
async fn create(client: &WecomClient, request: &AddMomentTaskRequest) -> String {
    let jobid = client.add_moment_task(request).await.unwrap();
    let result = client.get_moment_task_result(&jobid).await.unwrap();
    assert_eq!(result.status, 3);
    let outcome = result.result.unwrap();
    assert_eq!(outcome.errcode, 0, "{}", outcome.errmsg);
    outcome.moment_id
}

fn is_invalid_request(error: &WecomError, expected: &str) -> bool {
    matches!(error, WecomError::InvalidRequest { field, .. } if *field == expected)
}

/// Posts a multipart upload past the client's checks; WeCom's JSON answer.
async fn raw_upload(
    fake: &FakeWecom,
    client: &WecomClient,
    media_type: &str,
    bytes: Vec<u8>,
) -> serde_json::Value {
    let token = client.access_token().await.unwrap();
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name("f.bin")
        .mime_str("application/octet-stream")
        .unwrap();
    reqwest::Client::new()
        .post(format!("{}{PATH_UPLOAD_ATTACHMENT}", fake.base_url()))
        .query(&[
            ("access_token", token.as_str()),
            ("media_type", media_type),
            ("attachment_type", "1"),
        ])
        .multipart(reqwest::multipart::Form::new().part("media", part))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn moment_upload_create_publish_like_and_comment() {
    let (fake, client) = spawn().await;
    let first = upload_png(&client).await;
    let second = upload_png(&client).await;
    assert_ne!(first, second);
    assert_eq!(fake.uploads(), 2);

    let jobid = client
        .add_moment_task(&AddMomentTaskRequest {
            text: text("双十一新品上市"),
            attachments: vec![image(&first), image(&second)],
            visible_range: Some(VisibleRange {
                // chenjing has resigned; nobody is not staff.
                sender_list: Some(SenderList {
                    user_list: vec![
                        "zhangwei".into(),
                        "wangfang".into(),
                        "chenjing".into(),
                        "nobody".into(),
                    ],
                    department_list: Vec::new(),
                }),
                external_contact_list: Some(ExternalContactList {
                    tag_list: vec!["etDemoLevel2".into(), "etNoSuchTag".into()],
                }),
            }),
        })
        .await
        .unwrap();
    assert!(!jobid.is_empty() && jobid.len() <= 64);

    // The job is still running on the first poll.
    fake.delay_moment_jobs(1);
    let running = client.get_moment_task_result(&jobid).await.unwrap();
    assert_eq!((running.status, running.result), (2, None));
    let done = client.get_moment_task_result(&jobid).await.unwrap();
    assert_eq!(done.status, 3);
    let outcome = done.result.unwrap();
    assert_eq!(outcome.errcode, 0);
    assert_eq!(
        outcome.invalid_sender_list.user_list,
        ["chenjing", "nobody"]
    );
    assert_eq!(
        outcome.invalid_external_contact_list.tag_list,
        ["etNoSuchTag"]
    );
    let moment_id = outcome.moment_id;

    let moments = fake.moments();
    assert_eq!(moments.len(), 1);
    assert_eq!(moments[0].moment_id, moment_id);
    assert_eq!(moments[0].jobid, jobid);
    assert_eq!(moments[0].senders, ["zhangwei", "wangfang"]);
    assert_eq!(moments[0].tag_list, ["etDemoLevel2"]);
    assert_eq!(moments[0].text, "双十一新品上市");
    assert_eq!(moments[0].attachments.as_array().unwrap().len(), 2);

    assert!(fake.publish_moment(&moment_id, "zhangwei"));
    assert!(
        !fake.publish_moment(&moment_id, "zhangwei"),
        "published once"
    );
    assert!(!fake.publish_moment(&moment_id, "lina"), "not a sender");
    assert!(!fake.publish_moment("momNobody", "zhangwei"));
    assert!(fake.like_moment(&moment_id, "zhangwei", "wmDemoCustomer0001"));
    assert!(
        fake.like_moment(&moment_id, "zhangwei", "wangfang"),
        "a colleague"
    );
    assert!(fake.comment_moment(&moment_id, "zhangwei", "wmDemoCustomer0007"));
    assert!(
        !fake.like_moment(&moment_id, "wangfang", "wmDemoCustomer0002"),
        "wangfang has not published"
    );

    let page = client.get_moment_task(&moment_id, "", 1000).await.unwrap();
    let statuses: Vec<(String, i64)> = page
        .task_list
        .into_iter()
        .map(|t| (t.userid, t.publish_status))
        .collect();
    assert_eq!(
        statuses,
        [("zhangwei".to_owned(), 1), ("wangfang".to_owned(), 0)]
    );
    assert!(page.next_cursor.is_empty());
    // Paged.
    let first_page = client.get_moment_task(&moment_id, "", 1).await.unwrap();
    assert_eq!(first_page.task_list.len(), 1);
    let second_page = client
        .get_moment_task(&moment_id, &first_page.next_cursor, 1)
        .await
        .unwrap();
    assert_eq!(second_page.task_list[0].userid, "wangfang");

    let comments = client
        .get_moment_comments(&moment_id, "zhangwei")
        .await
        .unwrap();
    assert_eq!(comments.comment_list.len(), 1);
    assert_eq!(
        comments.comment_list[0].external_userid,
        "wmDemoCustomer0007"
    );
    assert!(comments.comment_list[0].create_time > 0);
    let likers: Vec<(&str, &str)> = comments
        .like_list
        .iter()
        .map(|l| (l.external_userid.as_str(), l.userid.as_str()))
        .collect();
    assert_eq!(likers, [("wmDemoCustomer0001", ""), ("", "wangfang")]);
    let none = client
        .get_moment_comments(&moment_id, "wangfang")
        .await
        .unwrap();
    assert!(none.comment_list.is_empty() && none.like_list.is_empty());
}

#[tokio::test]
async fn an_expired_or_wrong_media_id_fails_the_job_not_the_call() {
    let (fake, client) = spawn().await;
    let cover = upload_png(&client).await;
    fake.advance_clock(Duration::from_secs(
        u64::try_from(MEDIA_TTL_SECS).unwrap() + 1,
    ));
    let jobid = client
        .add_moment_task(&AddMomentTaskRequest {
            attachments: vec![MomentAttachment::Link {
                link: MomentLink {
                    title: "会员日".into(),
                    url: "https://example.com/day".into(),
                    media_id: cover,
                },
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let result = client.get_moment_task_result(&jobid).await.unwrap();
    assert_eq!(result.status, 3);
    let outcome = result.result.unwrap();
    assert_eq!(outcome.errcode, codes::INVALID_MEDIA_ID);
    assert!(outcome.moment_id.is_empty());
    assert!(fake.moments().is_empty());

    // A fresh video used where an image belongs (a link's cover) fails the same way; as a
    // video it works.
    let video = client
        .upload_attachment("video", 1, "clip.mp4", "video/mp4", mp4())
        .await
        .unwrap();
    assert_eq!(video.kind, "video");
    let wrong = client
        .add_moment_task(&AddMomentTaskRequest {
            attachments: vec![image(&video.media_id)],
            ..Default::default()
        })
        .await
        .unwrap();
    let outcome = client
        .get_moment_task_result(&wrong)
        .await
        .unwrap()
        .result
        .unwrap();
    assert_eq!(outcome.errcode, codes::INVALID_MEDIA_ID);
    let moment_id = create(
        &client,
        &AddMomentTaskRequest {
            attachments: vec![MomentAttachment::Video {
                video: MediaRef {
                    media_id: video.media_id,
                },
            }],
            ..Default::default()
        },
    )
    .await;
    // No sender_list: every active member (陈静 has resigned).
    let senders = &fake.moments()[0].senders;
    assert_eq!(fake.moments()[0].moment_id, moment_id);
    assert_eq!(senders.len(), 5);
    assert!(!senders.iter().any(|s| s == "chenjing"));

    let error = client
        .get_moment_task_result("jobNobody")
        .await
        .unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_PARAMETER));
}

#[tokio::test]
async fn client_refuses_what_wecom_would_refuse_before_calling() {
    let (fake, client) = spawn().await;
    let media = upload_png(&client).await;
    let refused = [
        (
            AddMomentTaskRequest::default(),
            "text", // both empty
        ),
        (
            AddMomentTaskRequest {
                text: text(&"鱼".repeat(MAX_MOMENT_TEXT_CHARS + 1)),
                ..Default::default()
            },
            "text.content",
        ),
        (
            AddMomentTaskRequest {
                attachments: vec![
                    image(&media),
                    MomentAttachment::Video {
                        video: MediaRef {
                            media_id: media.clone(),
                        },
                    },
                ],
                ..Default::default()
            },
            "attachments",
        ),
        (
            AddMomentTaskRequest {
                attachments: vec![image(&media); MAX_MOMENT_IMAGES + 1],
                ..Default::default()
            },
            "attachments",
        ),
        (
            AddMomentTaskRequest {
                attachments: vec![
                    MomentAttachment::Video {
                        video: MediaRef {
                            media_id: media.clone(),
                        },
                    };
                    2
                ],
                ..Default::default()
            },
            "attachments",
        ),
        (
            AddMomentTaskRequest {
                attachments: vec![MomentAttachment::Link {
                    link: MomentLink {
                        title: "标".repeat(22), // 66 bytes
                        url: "https://example.com".into(),
                        media_id: media.clone(),
                    },
                }],
                ..Default::default()
            },
            "attachments.link.title",
        ),
        (
            AddMomentTaskRequest {
                attachments: vec![image("")],
                ..Default::default()
            },
            "attachments.media_id",
        ),
    ];
    for (request, field) in &refused {
        let error = client.add_moment_task(request).await.unwrap_err();
        assert!(is_invalid_request(&error, field), "{field}: {error}");
    }
    assert_eq!(fake.calls(PATH_ADD_MOMENT_TASK), 0);
    // 2,000 characters (6,000 bytes) and nine images pass.
    create(
        &client,
        &AddMomentTaskRequest {
            text: text(&"鱼".repeat(MAX_MOMENT_TEXT_CHARS)),
            attachments: vec![image(&media); MAX_MOMENT_IMAGES],
            visible_range: to(&["lina"]),
        },
    )
    .await;

    let uploads_before = fake.calls(PATH_UPLOAD_ATTACHMENT);
    let bad_uploads = [
        ("image", 1, PNG[..5].to_vec(), "media"),
        ("image", 1, b"<html>not an image".to_vec(), "media"),
        ("video", 1, PNG.to_vec(), "media"),
        ("image", 1, vec![0x89; MAX_ATTACHMENT_BYTES + 1], "media"),
        ("image", 2, PNG.to_vec(), "attachment_type"),
        ("file", 1, PNG.to_vec(), "media_type"),
    ];
    for (media_type, attachment_type, bytes, field) in bad_uploads {
        let error = client
            .upload_attachment(media_type, attachment_type, "f.png", "image/png", bytes)
            .await
            .unwrap_err();
        assert!(is_invalid_request(&error, field), "{field}: {error}");
    }
    let error = client
        .upload_attachment("image", 1, "f.png", "not a mime", PNG.to_vec())
        .await
        .unwrap_err();
    assert!(is_invalid_request(&error, "content_type"), "{error}");
    assert_eq!(fake.calls(PATH_UPLOAD_ATTACHMENT), uploads_before);

    let now = fake.with_corp(|corp| corp.now_secs());
    let too_long = MomentListRequest {
        start_time: now - 31 * 86_400,
        end_time: now,
        ..Default::default()
    };
    let error = client.get_moment_list(&too_long).await.unwrap_err();
    assert!(is_invalid_request(&error, "end_time"), "{error}");
    let too_many = MomentListRequest {
        start_time: now - 86_400,
        end_time: now,
        limit: Some(21),
        ..Default::default()
    };
    let error = client.get_moment_list(&too_many).await.unwrap_err();
    assert!(is_invalid_request(&error, "limit"), "{error}");
    assert_eq!(fake.calls(PATH_GET_MOMENT_LIST), 0);
    let error = client.get_moment_task("m", "", 1001).await.unwrap_err();
    assert!(is_invalid_request(&error, "limit"), "{error}");
    assert_eq!(fake.calls(PATH_GET_MOMENT_TASK), 0);
}

#[tokio::test]
async fn fake_refuses_what_wecom_refuses() {
    let (fake, client) = spawn().await;
    let media = upload_png(&client).await;
    let cases = [
        (
            json!({ "text": { "content": "a".repeat(MAX_MOMENT_TEXT_CHARS + 1) } }),
            codes::INVALID_PARAMETER,
            "invalid text size",
        ),
        (
            json!({ "attachments": [
                { "msgtype": "image", "image": { "media_id": media } },
                { "msgtype": "video", "video": { "media_id": media } },
            ] }),
            codes::INVALID_PARAMETER,
            "invalid attachments msgtype",
        ),
        (
            json!({ "attachments": [{ "msgtype": "file", "file": { "media_id": media } }] }),
            codes::INVALID_PARAMETER,
            "invalid attachments msgtype",
        ),
        (
            json!({ "attachments": vec![
                json!({ "msgtype": "image", "image": { "media_id": media } });
                MAX_MOMENT_IMAGES + 1
            ] }),
            codes::INVALID_PARAMETER,
            "invalid attachments size",
        ),
        (
            json!({ "attachments": [{ "msgtype": "link", "link": { "title": "t", "url": "https://x" } }] }),
            codes::MISSING_MEDIA_ID,
            "media_id missing",
        ),
        (json!({}), codes::INVALID_PARAMETER, "both empty"),
    ];
    for (body, errcode, errmsg) in cases {
        let answer = raw_post(&fake, &client, PATH_ADD_MOMENT_TASK, body).await;
        assert_eq!(answer["errcode"], errcode, "{answer}");
        assert!(
            answer["errmsg"].as_str().unwrap().contains(errmsg),
            "{answer}"
        );
    }
    assert!(fake.moments().is_empty());

    let answer = raw_upload(&fake, &client, "image", PNG[..5].to_vec()).await;
    assert_eq!(answer["errcode"], codes::INVALID_FILE_SIZE, "{answer}");
    let answer = raw_upload(&fake, &client, "image", b"GIF89a-not-allowed".to_vec()).await;
    assert_eq!(answer["errcode"], codes::INVALID_FILE_TYPE, "{answer}");
    let mut big = PNG.to_vec();
    big.resize(MAX_ATTACHMENT_BYTES + 1, 0);
    let answer = raw_upload(&fake, &client, "image", big).await;
    assert_eq!(answer["errcode"], codes::INVALID_IMAGE_SIZE, "{answer}");
    let answer = raw_upload(&fake, &client, "file", PNG.to_vec()).await;
    assert_eq!(answer["errcode"], codes::INVALID_MEDIA_TYPE, "{answer}");
    // Not multipart at all, or without the `media` part.
    let answer = raw_post(&fake, &client, PATH_UPLOAD_ATTACHMENT, json!({})).await;
    assert_eq!(answer["errcode"], codes::INVALID_PARAMETER, "{answer}");
    let token = client.access_token().await.unwrap();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}{PATH_UPLOAD_ATTACHMENT}", fake.base_url()))
        .query(&[
            ("access_token", token.as_str()),
            ("media_type", "image"),
            ("attachment_type", "1"),
        ])
        .multipart(reqwest::multipart::Form::new().text("other", "x"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errcode"], codes::EMPTY_MEDIA, "{answer}");
    assert_eq!(fake.uploads(), 1);
}

#[tokio::test]
async fn moment_list_finds_moments_by_time_window() {
    let (fake, client) = spawn().await;
    let media = upload_png(&client).await;
    let first = create(
        &client,
        &AddMomentTaskRequest {
            text: text("早安"),
            attachments: vec![image(&media)],
            visible_range: to(&["zhangwei"]),
        },
    )
    .await;
    fake.advance_clock(Duration::from_secs(2 * 86_400));
    let second = create(
        &client,
        &AddMomentTaskRequest {
            text: text("晚安"),
            ..Default::default()
        },
    )
    .await;
    let now = fake.with_corp(|corp| corp.now_secs());
    let window = |start_time: i64, end_time: i64| MomentListRequest {
        start_time,
        end_time,
        ..Default::default()
    };

    let all = client
        .get_moment_list(&window(now - 3 * 86_400, now))
        .await
        .unwrap();
    let ids: Vec<&str> = all
        .moment_list
        .iter()
        .map(|m| m.moment_id.as_str())
        .collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);
    let moment = &all.moment_list[0];
    assert_eq!(moment.create_type, 0, "created through the API");
    assert_eq!(moment.text.as_ref().unwrap().content, "早安");
    assert_eq!(moment.image, [MediaRef { media_id: media }]);
    assert!(moment.video.is_none() && moment.link.is_none());

    // Only the first falls in a window that ends a day ago.
    let early = client
        .get_moment_list(&window(now - 3 * 86_400, now - 86_400))
        .await
        .unwrap();
    assert_eq!(early.moment_list.len(), 1);
    assert_eq!(early.moment_list[0].moment_id, first);
    // Paged by `limit`.
    let page = client
        .get_moment_list(&MomentListRequest {
            limit: Some(1),
            ..window(now - 3 * 86_400, now)
        })
        .await
        .unwrap();
    assert_eq!(page.moment_list.len(), 1);
    let rest = client
        .get_moment_list(&MomentListRequest {
            limit: Some(1),
            cursor: page.next_cursor.clone(),
            ..window(now - 3 * 86_400, now)
        })
        .await
        .unwrap();
    assert_eq!(rest.moment_list[0].moment_id, second);
    assert!(rest.next_cursor.is_empty());
    // Personal moments only (filter_type 1): none of the API's.
    let personal = client
        .get_moment_list(&MomentListRequest {
            filter_type: Some(1),
            ..window(now - 3 * 86_400, now)
        })
        .await
        .unwrap();
    assert!(personal.moment_list.is_empty());
}

#[tokio::test]
async fn cancelling_stops_later_publishing() {
    let (fake, client) = spawn().await;
    let moment_id = create(
        &client,
        &AddMomentTaskRequest {
            text: text("限时活动"),
            visible_range: to(&["zhangwei", "wangfang"]),
            ..Default::default()
        },
    )
    .await;
    assert!(fake.publish_moment(&moment_id, "zhangwei"));
    client.cancel_moment_task(&moment_id).await.unwrap();
    client.cancel_moment_task(&moment_id).await.unwrap();
    assert!(!fake.publish_moment(&moment_id, "wangfang"));
    assert!(fake.moments()[0].cancelled);
    // What was published stays published, and can still be liked.
    let page = client.get_moment_task(&moment_id, "", 100).await.unwrap();
    let published: Vec<(String, i64)> = page
        .task_list
        .into_iter()
        .map(|t| (t.userid, t.publish_status))
        .collect();
    assert_eq!(
        published,
        [("zhangwei".to_owned(), 1), ("wangfang".to_owned(), 0)]
    );
    assert!(fake.like_moment(&moment_id, "zhangwei", "wmDemoCustomer0001"));
    let error = client.cancel_moment_task("momNobody").await.unwrap_err();
    assert_eq!(error.errcode(), Some(codes::INVALID_PARAMETER));
}

#[tokio::test]
async fn uploads_share_the_token_refresh_and_retries_of_json_calls() {
    let (fake, client) = spawn().await;
    fake.fail_next(PATH_UPLOAD_ATTACHMENT, codes::FREQUENCY_LIMIT, 2);
    upload_png(&client).await;
    assert_eq!(fake.calls(PATH_UPLOAD_ATTACHMENT), 3);
    assert_eq!(fake.calls(GETTOKEN), 1);
    // A token WeCom rejects is refreshed once and the upload sent again, form and all.
    fake.expire_tokens();
    upload_png(&client).await;
    assert_eq!(fake.calls(PATH_UPLOAD_ATTACHMENT), 5);
    assert_eq!(fake.calls(GETTOKEN), 2);
    assert_eq!(fake.uploads(), 2);
    // A held upload waits at the gate like any other path.
    fake.hold(PATH_UPLOAD_ATTACHMENT, Hold::AfterApplying);
    let held = tokio::spawn({
        let client = client.clone();
        async move { upload_png(&client).await }
    });
    while fake.held(PATH_UPLOAD_ATTACHMENT) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(fake.uploads(), 3, "applied, the answer waits");
    fake.release(PATH_UPLOAD_ATTACHMENT);
    held.await.unwrap();
    // The delay of moment jobs applies to any jobid, then runs out.
    let a = client
        .add_moment_task(&AddMomentTaskRequest {
            text: text("a"),
            ..Default::default()
        })
        .await
        .unwrap();
    let b = client
        .add_moment_task(&AddMomentTaskRequest {
            text: text("b"),
            ..Default::default()
        })
        .await
        .unwrap();
    fake.delay_moment_jobs(2);
    assert_eq!(client.get_moment_task_result(&a).await.unwrap().status, 2);
    assert_eq!(client.get_moment_task_result(&b).await.unwrap().status, 2);
    assert_eq!(client.get_moment_task_result(&b).await.unwrap().status, 3);
}
