//! The moments console pages (朋友圈, issue #21 item 3) through HTTP against the fake WeCom: the
//! composer lists the synced guides and only the WeCom corp tags; a post with two images
//! uploaded in the multipart form creates a task (the images stored, the task in the API), its
//! page shows the images, the guides and their state, and the list shows it; a scheduled task
//! is cancelled through the confirmation page, once (the second time the refusal shows on the
//! page); bad input re-renders under its field, what was typed and uploaded kept, and creates
//! nothing; analysts read, guides are refused, and a wrong CSRF token stores nothing.

use reqwest::StatusCode;
use serde_json::Value;
use yutang_core::media::solid_png;

use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form, refused};
use crate::helpers::{Engine, TestApp};
use crate::promotions::scalar;

both_engines!(
    console_moments_compose_send_and_follow,
    console_moments_refuse_bad_input_and_create_nothing,
    console_moments_by_role,
);

fn zh(code: &str) -> &'static str {
    yutang_core::error_codes::find(code).expect(code).zh
}

/// A console form's fields.
type Form = Vec<(&'static str, String)>;

/// A `multipart/form-data` body of text fields and files `(input name, file name, bytes)`.
fn multipart(fields: &[(&str, String)], files: &[(&str, &str, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = "----yutang-moments-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (name, file, bytes) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                 Content-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(
    t: &TestApp,
    cookie: &str,
    fields: &[(&str, String)],
    files: &[(&str, &str, Vec<u8>)],
) -> reqwest::Response {
    let (ct, body) = multipart(fields, files);
    t.client
        .post(t.url("/console/moments/new"))
        .header("cookie", cookie)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The composer's fields for a task `name` saying `text`, to the listed guides, now, with
/// `more` added.
fn compose(csrf: &str, name: &str, text: &str, more: &[(&'static str, String)]) -> Form {
    let mut f = vec![
        ("csrf", csrf.to_owned()),
        ("name", name.to_owned()),
        ("text", text.to_owned()),
        ("attach", "images".to_owned()),
        ("senders", "listed".to_owned()),
        ("when", "now".to_owned()),
    ];
    f.extend(more.iter().cloned());
    f
}

/// The tasks the API lists.
async fn api_moments(t: &TestApp) -> Vec<Value> {
    let r = t.get("/api/v1/moments", &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Vec<Value>>().await.unwrap()
}

/// The id in `/console/moments/{id}?…`.
fn id_in(loc: &str) -> i64 {
    loc.strip_prefix("/console/moments/")
        .unwrap_or_else(|| panic!("{loc}"))
        .split(['?', '/'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Run the moments jobs (their later rounds made due at once) until the task leaves
/// `scheduled` and `creating`.
async fn settle(t: &TestApp, id: i64) -> Value {
    for _ in 0..200 {
        t.exec(
            "UPDATE jobs SET run_at = 0 WHERE status = 'queued' \
             AND kind IN ('moment_create', 'moment_result')",
        )
        .await;
        t.settle_jobs().await;
        let v: Value = t
            .get(&format!("/api/v1/moments/{id}"), &t.admin)
            .await
            .json()
            .await
            .unwrap();
        if v["status"] != "scheduled" && v["status"] != "creating" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("moments task {id} did not settle");
}

/// The staff id linked to a WeCom userid.
async fn staff_of(t: &TestApp, userid: &str) -> i64 {
    let sql = format!("SELECT id FROM staff WHERE wecom_userid = '{userid}'");
    scalar(t, Box::leak(sql.into_boxed_str())).await
}

async fn console_moments_compose_send_and_follow(e: Engine) {
    let (t, _fake, _, _) = crate::mass_messages::synced(e).await;
    t.staff("cmo.admin", "admin", None).await;
    let cookie = console_login(&t, "cmo.admin").await;
    let local = crate::mass_messages::tag(&t, "本地标签").await;
    let tags = yutang_store::tags::list_tags(&t.app.db).await.unwrap();
    let wecom: Vec<_> = tags.iter().filter(|t| t.wecom_id.is_some()).collect();
    assert!(!wecom.is_empty(), "the sync made WeCom corp tags");

    // 朋友圈 in the menu next to 群发; the list, empty, with 新建朋友圈.
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    let nav = html.find(r#"href="/console/messages""#).expect("群发");
    let moments = html.find(r#"href="/console/moments""#).expect("朋友圈");
    assert!(moments > nav && html[nav..moments].matches("<a ").count() == 1);
    assert!(html.contains(">朋友圈<"));
    let (status, html) = page(&t, &cookie, "/console/moments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<a href="/console/moments" class="on">朋友圈</a>"#));
    assert!(html.contains(r#"id="compose""#) && html.contains("还没有朋友圈任务"));

    // The composer: a multipart form; the synced guides; the WeCom corp tags by group, not
    // the tag made in Yutang; no tag ticked means every customer of the guides.
    let (status, html) = page(&t, &cookie, "/console/moments/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"enctype="multipart/form-data""#));
    assert!(html.contains(r#"type="file" id="images" name="images""#));
    let zhang = staff_of(&t, "zhangwei").await;
    let wang = staff_of(&t, "wangfang").await;
    for (id, name) in [(zhang, "g.zhangwei"), (wang, "g.wangfang")] {
        assert!(
            html.contains(&format!(
                r#"<input type="checkbox" name="sender_ids" value="{id}"> {name}"#
            )),
            "{name}\n{html}"
        );
    }
    for tag in &wecom {
        assert!(
            html.contains(&format!(
                r#"name="tag_ids" value="{}"> {}"#,
                tag.id, tag.name
            )),
            "{}",
            tag.name
        );
        assert!(html.contains(&format!("<b>{}</b>", tag.group_name)));
    }
    assert!(!html.contains(&format!(r#"name="tag_ids" value="{local}""#)));
    assert!(html.contains("都不勾选时，导购的全部客户都能看到"));
    let csrf = csrf_in(&html);

    // 发送 with two images chosen: stored, the task created, its page.
    let (red, green) = (
        solid_png(8, 8, [200, 30, 30]),
        solid_png(8, 8, [30, 200, 30]),
    );
    let media_before = scalar(&t, "SELECT COUNT(*) FROM media").await;
    let tag = wecom[0].id;
    let form = compose(
        &csrf,
        "春季上新",
        "春季新品到店\n欢迎来看",
        &[
            ("sender_ids", zhang.to_string()),
            ("sender_ids", wang.to_string()),
            ("tag_ids", tag.to_string()),
        ],
    );
    let r = post_multipart(
        &t,
        &cookie,
        &form,
        &[
            ("images", "red.png", red.clone()),
            ("images", "green.png", green.clone()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let loc = location(&r);
    assert!(loc.ends_with("?done=created"), "{loc}");
    let id = id_in(&loc);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM media").await,
        media_before + 2
    );
    let v: Value = t
        .get(&format!("/api/v1/moments/{id}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["name"], "春季上新");
    assert_eq!(
        v["text"], "春季新品到店\n欢迎来看",
        "line breaks kept as \\n"
    );
    let images: Vec<i64> = v["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["kind"], "image");
            a["media_id"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(images.len(), 2);
    for (img, png) in images.iter().zip([&red, &green]) {
        let served = t
            .client
            .get(t.url(&format!("/h5/media/{img}")))
            .send()
            .await
            .unwrap();
        assert_eq!(&served.bytes().await.unwrap().to_vec(), png);
    }
    let mut senders: Vec<i64> = v["sender_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_i64().unwrap())
        .collect();
    senders.sort_unstable();
    let mut want = vec![zhang, wang];
    want.sort_unstable();
    assert_eq!(senders, want);
    assert_eq!(v["tag_ids"], serde_json::json!([tag]));

    let (status, html) = page(&t, &cookie, &loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("朋友圈任务已创建"));
    assert!(html.contains(r#"<span id="moment-name">春季上新</span>"#));
    for img in &images {
        assert!(html.contains(&format!(r#"<img src="/h5/media/{img}""#)));
    }
    assert!(html.contains(">2 位指定导购<"));
    assert!(html.contains(&format!("{}/{}", wecom[0].group_name, wecom[0].name)));

    // WeCom makes the moment: the guides with their state in words, 刷新结果 reads again.
    let v = settle(&t, id).await;
    assert_eq!(v["status"], "created", "{v}");
    let path = format!("/console/moments/{id}");
    let (status, html) = page(&t, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"data-status="created">已下发导购<"#),
        "{html}"
    );
    for (sid, name) in [(zhang, "g.zhangwei"), (wang, "g.wangfang")] {
        let row = format!(r#"<tr data-staff="{sid}" data-state=""#);
        assert!(html.contains(&row), "{row}\n{html}");
        assert!(html.contains(&format!("<td>{name}</td>")));
    }
    assert!(html.contains("待发表") || html.contains("已发表"));
    assert!(html.contains(r#"id="moment-refresh""#) && html.contains(r#"id="moment-cancel""#));
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/refresh"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?done=refreshed"));

    // The list shows it.
    let (_, html) = page(&t, &cookie, "/console/moments").await;
    assert!(html.contains(&format!(r#"<tr data-moment="{id}" data-status="created">"#)));
    assert!(html.contains(&format!(r#"<a href="{path}">春季上新</a>"#)));
    assert!(html.contains("已下发导购"));

    // A task for later, to all guides: cancelled through the confirmation page, once.
    let later = yutang_core::time::Millis(t.app.now() + 2 * 86_400_000).to_shanghai_string()[..16]
        .replace(' ', "T");
    let form = compose(
        &csrf,
        "周末预告",
        "周末见",
        &[
            ("senders", "all".into()),
            ("when", "later".into()),
            ("send_at", later),
        ],
    );
    let r = post_multipart(&t, &cookie, &form, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let later_id = id_in(&location(&r));
    let later_path = format!("/console/moments/{later_id}");
    let (_, html) = page(&t, &cookie, &later_path).await;
    assert!(html.contains(r#"data-status="scheduled">待发送<"#));
    assert!(html.contains(">全部导购<") && html.contains(">导购的全部客户<"));
    assert!(html.contains("到发送时间才确定发表的导购"));
    assert!(!html.contains(r#"id="moment-refresh""#));
    assert!(html.contains(&format!(r#"href="{later_path}/cancel" id="moment-cancel""#)));
    let (status, html) = page(&t, &cookie, &format!("{later_path}/cancel")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-outcome="cancel""#) && html.contains("周末预告"));
    assert!(html.contains("取消后不会发到企业微信"));
    // The buttons check the CSRF token before anything else.
    for action in ["cancel", "refresh"] {
        let r = post_form(
            &t,
            &cookie,
            &format!("{later_path}/{action}"),
            &[("csrf", "wrong".into())],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action}");
        assert!(r.text().await.unwrap().contains("页面已过期"));
    }
    let r = post_form(
        &t,
        &cookie,
        &format!("{later_path}/cancel"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{later_path}?done=cancelled"));
    let (_, html) = page(&t, &cookie, &format!("{later_path}?done=cancelled")).await;
    assert!(html.contains("朋友圈任务已取消") && html.contains(">已取消<"));
    assert!(!html.contains(r#"id="moment-cancel""#));
    let r = post_form(
        &t,
        &cookie,
        &format!("{later_path}/cancel"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"<div class="flash bad" role="alert" id="problem">{}</div>"#,
            zh("message_not_scheduled")
        )),
        "{html}"
    );

    // In English.
    let (_, html) = page(&t, &format!("{cookie}; yutang_lang=en"), "/console/moments").await;
    assert!(html.contains(">Moments<") && html.contains("Sent to guides"));
}

async fn console_moments_refuse_bad_input_and_create_nothing(e: Engine) {
    let (t, _fake, _, _) = crate::mass_messages::synced(e).await;
    t.staff("cmo.op", "operator", None).await;
    let cookie = console_login(&t, "cmo.op").await;
    let (_, html) = page(&t, &cookie, "/console/moments/new").await;
    let csrf = csrf_in(&html);
    let zhang = staff_of(&t, "zhangwei").await;
    let guide = ("sender_ids", zhang.to_string());
    let send = async |form: Form, files: &[(&str, &str, Vec<u8>)]| {
        let r = post_multipart(&t, &cookie, &form, files).await;
        let status = r.status();
        (status, r.text().await.unwrap())
    };

    // No text and no image: refused under the text, the name and the guide kept.
    let (status, html) = send(
        compose(&csrf, "空内容", "  ", std::slice::from_ref(&guide)),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(&refused("text", zh("empty_content"))),
        "{html}"
    );
    assert!(html.contains(r#"name="name" value="空内容""#));
    assert!(html.contains(&format!(r#"name="sender_ids" value="{zhang}" checked>"#)));

    // An image kept across a refusal: the guides left out, the image comes back by its id,
    // and a send with it kept (and nothing new chosen) would carry it.
    let png = solid_png(8, 8, [10, 20, 30]);
    let media_before = scalar(&t, "SELECT COUNT(*) FROM media").await;
    let (status, html) = send(
        compose(&csrf, "只有图片", "", &[]),
        &[("images", "a.png", png.clone())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(r#"data-field="sender_ids""#), "{html}");
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM media").await,
        media_before + 1
    );
    let kept = scalar(&t, "SELECT MAX(id) FROM media").await;
    assert!(html.contains(&format!(
        r#"<input type="checkbox" name="image_id" value="{kept}" checked"#
    )));

    // Not an image: refused by the images, nothing stored.
    let (status, html) = send(
        compose(&csrf, "坏图", "文字", std::slice::from_ref(&guide)),
        &[("images", "notes.png", b"plain text".to_vec())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(r#"data-field="attachments""#), "{html}");
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM media").await,
        media_before + 1
    );

    // Ten images: too many.
    let ids: Vec<(&'static str, String)> =
        (0..10).map(|_| ("image_id", kept.to_string())).collect();
    let mut form = compose(&csrf, "十张", "", std::slice::from_ref(&guide));
    form.extend(ids);
    let (status, html) = send(form, &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&refused("attachments", zh("too_many_items"))));

    // A link without its cover; a time in the past; a tag that is not WeCom's; a name too long.
    let link = compose(
        &csrf,
        "链接",
        "",
        &[
            guide.clone(),
            ("attach", "link".into()),
            ("link_title", "上新".into()),
            ("link_url", "https://shop.example/new".into()),
        ],
    );
    let (status, html) = send(link, &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&refused("attachments", zh("invalid_attachment"))));
    assert!(html.contains(r#"value="https://shop.example/new""#));
    let past = compose(
        &csrf,
        "过去",
        "文字",
        &[
            guide.clone(),
            ("when", "later".into()),
            ("send_at", "2020-01-01T09:00".into()),
        ],
    );
    let (status, html) = send(past, &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&refused("send_at", zh("send_at_past"))));
    let local = crate::mass_messages::tag(&t, "非企微").await;
    let (status, html) = send(
        compose(
            &csrf,
            "本地标签",
            "文字",
            &[guide.clone(), ("tag_ids", local.to_string())],
        ),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&refused("tag_ids", zh("tag_not_in_wecom"))));
    let (status, html) = send(compose(&csrf, &"名".repeat(41), "文字", &[guide]), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&refused("name", zh("invalid_name"))));

    // A wrong CSRF token: refused before anything is stored.
    let mut form = compose("wrong", "伪造", "文字", &[]);
    form.push(("senders", "all".into()));
    let (status, _) = send(form, &[("images", "b.png", solid_png(4, 4, [1, 2, 3]))]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM media").await,
        media_before + 1
    );

    assert!(api_moments(&t).await.is_empty(), "nothing created");
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM moment_tasks").await, 0);
}

async fn console_moments_by_role(e: Engine) {
    let (t, _fake, store, _) = crate::mass_messages::synced(e).await;
    t.staff("cmo.analyst", "analyst", None).await;
    t.staff("cmo.manager", "store_manager", Some(store)).await;
    t.staff("cmo.guide", "guide", Some(store)).await;
    let zhang = staff_of(&t, "zhangwei").await;
    let r = t
        .post(
            "/api/v1/moments",
            &t.admin,
            serde_json::json!({"name": "总部朋友圈", "text": "你好", "sender_ids": [zhang],
                "send_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let hq = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let hq_path = format!("/console/moments/{hq}");

    // Analysts read: the list and the task without buttons; no composer.
    let cookie = console_login(&t, "cmo.analyst").await;
    let (status, html) = page(&t, &cookie, "/console/moments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/console/moments""#), "nav");
    assert!(html.contains("总部朋友圈") && !html.contains(r#"id="compose""#));
    let csrf = csrf_in(&html);
    let (status, html) = page(&t, &cookie, &hq_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("总部朋友圈") && !html.contains(r#"id="moment-cancel""#));
    for path in [
        "/console/moments/new".to_owned(),
        format!("{hq_path}/cancel"),
    ] {
        let (status, html) = page(&t, &cookie, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains(zh("forbidden")));
    }
    let form = compose(&csrf, "分析", "你好", &[("senders", "all".into())]);
    let r = post_multipart(&t, &cookie, &form, &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_form(
        &t,
        &cookie,
        &format!("{hq_path}/cancel"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A store manager: their store's guides, a text only (images are HQ's), not HQ's task.
    let cookie = console_login(&t, "cmo.manager").await;
    let (status, html) = page(&t, &cookie, "/console/moments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="compose""#) && !html.contains("总部朋友圈"));
    let (status, _) = page(&t, &cookie, &hq_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, html) = page(&t, &cookie, "/console/moments/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="store-only""#) && html.contains(r#"id="images-hq""#));
    assert!(html.contains(&format!(r#"name="sender_ids" value="{zhang}""#)));
    let csrf = csrf_in(&html);
    let form = compose(
        &csrf,
        "本店朋友圈",
        "本店上新",
        &[("senders", "all".into())],
    );
    let r = post_multipart(&t, &cookie, &form, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let mine = id_in(&location(&r));
    let (status, html) = page(&t, &cookie, &format!("/console/moments/{mine}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("本店朋友圈") && html.contains("门店 MM-A"));

    // Guides: no menu entry, every page and form refused.
    let cookie = console_login(&t, "cmo.guide").await;
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(r#"href="/console/moments""#));
    let csrf = csrf_in(&html);
    for path in [
        "/console/moments".to_owned(),
        "/console/moments/new".to_owned(),
        format!("/console/moments/{mine}"),
    ] {
        let (status, _) = page(&t, &cookie, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let form = compose(&csrf, "导购", "你好", &[("senders", "all".into())]);
    let r = post_multipart(&t, &cookie, &form, &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    for action in ["cancel", "refresh"] {
        let r = post_form(
            &t,
            &cookie,
            &format!("/console/moments/{mine}/{action}"),
            &[("csrf", csrf.clone())],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(api_moments(&t).await.len(), 2);
}
