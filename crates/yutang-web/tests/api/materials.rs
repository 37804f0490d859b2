//! The material library (issue #21 item 4) through the HTTP API, on both engines: folders and
//! materials of every kind, listed by folder, kind, label, title and status in keyset pages;
//! a material replaced, archived and restored; a folder renamed, and deleted only once no
//! active material is in it; bad input refused by field, creating nothing; every role reads
//! and only admins and operators write.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_core::media::solid_png;

use crate::helpers::{Engine, TestApp, error_of, spawn_app};
use crate::promotions::scalar;

both_engines!(
    materials_of_every_kind_are_listed_by_filter_in_pages,
    materials_are_replaced_archived_and_restored_and_folders_follow_the_rules,
    bad_input_is_refused_by_field_and_creates_nothing,
    every_role_reads_and_only_hq_writes,
);

async fn ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn image(t: &TestApp, rgb: [u8; 3]) -> i64 {
    let r = t
        .req(Method::POST, "/api/v1/media", Some(&t.admin))
        .header("content-type", "image/png")
        .body(solid_png(8, 8, rgb))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn folder(t: &TestApp, name: &str) -> i64 {
    ok(
        t.post("/api/v1/material-folders", &t.admin, json!({"name": name}))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

async fn material(t: &TestApp, body: Value) -> Value {
    ok(
        t.post("/api/v1/materials", &t.admin, body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn page(t: &TestApp, query: &str) -> Value {
    ok(
        t.get(&format!("/api/v1/materials{query}"), &t.admin).await,
        StatusCode::OK,
    )
    .await
}

/// The ids of a page, in order.
async fn ids(t: &TestApp, query: &str) -> Vec<i64> {
    page(t, query).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn materials_of_every_kind_are_listed_by_filter_in_pages(e: Engine) {
    let t = spawn_app(e).await;
    let spring = folder(&t, "春季上新").await;
    let members = folder(&t, "会员日").await;
    let img = image(&t, [200, 80, 40]).await;

    let poster = material(
        &t,
        json!({"kind": "poster", "title": "春季海报", "body": "春季新品 8 折",
               "media_id": img, "tags": ["春季", "新品", " 新品 "], "folder_id": spring}),
    )
    .await;
    assert_eq!(poster["kind"], "poster");
    assert_eq!(poster["folder"], json!({"id": spring, "name": "春季上新"}));
    assert_eq!(poster["tags"], json!(["春季", "新品"]));
    assert_eq!(poster["image_url"], format!("/h5/media/{img}"));
    assert_eq!(poster["status"], "active");
    assert!(poster["created_by"].is_i64());
    let picture = material(
        &t,
        json!({"kind": "image", "title": "新品图片", "media_id": img, "tags": ["新品"]}),
    )
    .await;
    assert_eq!(picture["folder"], Value::Null);
    let text = material(
        &t,
        json!({"kind": "text", "title": "会员日文案", "body": "会员日全场双倍积分\n快来！",
               "folder_id": members}),
    )
    .await;
    assert_eq!(text["media_id"], Value::Null);
    assert_eq!(text["image_url"], Value::Null);
    assert_eq!(text["body"], "会员日全场双倍积分\n快来！");
    let link = material(
        &t,
        json!({"kind": "link", "title": "春季活动链接", "url": "https://shop.example/spring",
               "body": "春季活动详情", "media_id": img, "folder_id": spring}),
    )
    .await;
    assert_eq!(link["url"], "https://shop.example/spring");
    let card = material(
        &t,
        json!({"kind": "miniprogram", "title": "VIP 积分商城", "appid": "wx1234567890abcdef",
               "page": "pages/mall/index", "media_id": img, "tags": ["VIP"]}),
    )
    .await;
    assert_eq!(card["appid"], "wx1234567890abcdef");
    assert_eq!(card["page"], "pages/mall/index");
    let got = ok(
        t.get(&format!("/api/v1/materials/{}", id_of(&card)), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got, card);

    let all: Vec<i64> = [&card, &link, &text, &picture, &poster]
        .iter()
        .map(|v| id_of(v))
        .collect();
    assert_eq!(ids(&t, "").await, all, "newest first");
    assert_eq!(
        ids(&t, &format!("?folder_id={spring}")).await,
        vec![id_of(&link), id_of(&poster)]
    );
    // 未分组: the picture and the mini-program card have no folder.
    assert_eq!(
        ids(&t, "?unfiled=true").await,
        vec![id_of(&card), id_of(&picture)]
    );
    assert_eq!(ids(&t, "?unfiled=false").await, all);
    assert_eq!(ids(&t, "?kind=text").await, vec![id_of(&text)]);
    assert_eq!(ids(&t, "?kind=miniprogram").await, vec![id_of(&card)]);
    let new = urlencoding("新品");
    assert_eq!(
        ids(&t, &format!("?label={new}")).await,
        vec![id_of(&picture), id_of(&poster)]
    );
    // A label matches whole and exactly: not a part of one, not in another case.
    assert!(
        ids(&t, &format!("?label={}", urlencoding("新")))
            .await
            .is_empty()
    );
    assert!(ids(&t, "?label=vip").await.is_empty());
    assert_eq!(ids(&t, "?label=VIP").await, vec![id_of(&card)]);
    // The title search: a part of it, ASCII letters in any case, wildcards as themselves.
    assert_eq!(
        ids(&t, &format!("?q={}", urlencoding("春季"))).await,
        vec![id_of(&link), id_of(&poster)]
    );
    assert_eq!(ids(&t, "?q=vip").await, vec![id_of(&card)]);
    assert!(ids(&t, "?q=%25").await.is_empty());
    assert!(ids(&t, "?q=_").await.is_empty());
    // Filters combine.
    assert_eq!(
        ids(&t, &format!("?folder_id={spring}&kind=link")).await,
        vec![id_of(&link)]
    );
    assert_eq!(
        ids(&t, &format!("?folder_id={members}&label={new}")).await,
        Vec::<i64>::new()
    );

    // Keyset pages of two.
    let mut seen = Vec::new();
    let mut after: Option<i64> = None;
    let mut pages = 0;
    loop {
        let q = match after {
            Some(a) => format!("?limit=2&after={a}"),
            None => "?limit=2".to_owned(),
        };
        let p = page(&t, &q).await;
        pages += 1;
        let items = p["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|m| m["id"].as_i64().unwrap()));
        match p["next_after"].as_i64() {
            Some(a) => {
                assert_eq!(Some(a), seen.last().copied());
                after = Some(a);
            }
            None => break,
        }
    }
    assert_eq!((pages, seen), (3, all.clone()));
    // A page that ends exactly at the last material says so.
    let p = page(&t, "?limit=5").await;
    assert_eq!(p["next_after"], Value::Null);

    // The folders, by name (same sort), with their active materials counted.
    let folders = ok(
        t.get("/api/v1/material-folders", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    let counts: Vec<(String, i64)> = folders
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["materials"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts.len(), 2);
    assert!(counts.contains(&("春季上新".to_owned(), 2)));
    assert!(counts.contains(&("会员日".to_owned(), 1)));
    // A sort order puts a folder first.
    let first = ok(
        t.post(
            "/api/v1/material-folders",
            &t.admin,
            json!({"name": "置顶", "sort": -1}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["sort"], -1);
    let folders = ok(
        t.get("/api/v1/material-folders", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(folders[0]["name"], "置顶");
}

/// Percent-encode a query value.
fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn materials_are_replaced_archived_and_restored_and_folders_follow_the_rules(e: Engine) {
    let t = spawn_app(e).await;
    let a = folder(&t, "文件夹甲").await;
    let b = folder(&t, "文件夹乙").await;
    let img = image(&t, [1, 2, 3]).await;
    let m = material(
        &t,
        json!({"kind": "text", "title": "文案", "body": "你好", "tags": ["旧"], "folder_id": a}),
    )
    .await;
    let id = id_of(&m);
    let path = format!("/api/v1/materials/{id}");

    // A full replace: another kind, another folder, labels gone, the body as given.
    let put = ok(
        t.send_json(
            Method::PUT,
            &path,
            &t.admin,
            json!({"kind": "link", "title": "链接", "url": "https://shop.example/x",
                   "media_id": img, "folder_id": b}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(put["kind"], "link");
    assert_eq!(put["title"], "链接");
    assert_eq!(put["body"], "");
    assert_eq!(put["tags"], json!([]));
    assert_eq!(put["folder"]["id"], b);
    assert_eq!(put["url"], "https://shop.example/x");
    assert_eq!(put["image_url"], format!("/h5/media/{img}"));
    assert_eq!(put["created_at"], m["created_at"]);
    // Updating a material that does not exist: 404.
    let (s, _, _) = error_of(
        t.send_json(
            Method::PUT,
            "/api/v1/materials/987654",
            &t.admin,
            json!({"kind": "text", "title": "x", "body": "y"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Folder names are unique; a rename shows on the materials in it.
    let r = t
        .post(
            "/api/v1/material-folders",
            &t.admin,
            json!({"name": "文件夹甲"}),
        )
        .await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::CONFLICT,
            "already_exists".to_owned(),
            Some("name".to_owned())
        )
    );
    let r = t
        .send_json(
            Method::PUT,
            &format!("/api/v1/material-folders/{b}"),
            &t.admin,
            json!({"name": "文件夹甲"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "already_exists");
    let renamed = ok(
        t.send_json(
            Method::PUT,
            &format!("/api/v1/material-folders/{b}"),
            &t.admin,
            json!({"name": "  新名字 ", "sort": 5}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (renamed["name"].as_str(), renamed["sort"].as_i64()),
        (Some("新名字"), Some(5))
    );
    // Absent, the sort order stays.
    let renamed = ok(
        t.send_json(
            Method::PUT,
            &format!("/api/v1/material-folders/{b}"),
            &t.admin,
            json!({"name": "新名字"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["sort"], 5);
    let got = ok(t.get(&path, &t.admin).await, StatusCode::OK).await;
    assert_eq!(got["folder"]["name"], "新名字");
    let r = t
        .send_json(
            Method::PUT,
            "/api/v1/material-folders/987654",
            &t.admin,
            json!({"name": "无"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // A folder with an active material is not deleted.
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/material-folders/{b}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r).await,
        (StatusCode::CONFLICT, "folder_not_empty".to_owned(), None)
    );

    // Archive: out of the default list, in the archived one; twice changes nothing.
    let archived = ok(
        t.post(&format!("{path}/archive"), &t.admin, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(archived["status"], "archived");
    let again = ok(
        t.post(&format!("{path}/archive"), &t.admin, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["status"], "archived");
    assert!(ids(&t, "").await.is_empty());
    assert_eq!(ids(&t, "?status=archived").await, vec![id]);
    assert_eq!(ids(&t, "?status=all").await, vec![id]);
    assert!(ids(&t, "?status=active").await.is_empty());
    let folders = ok(
        t.get("/api/v1/material-folders", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        folders
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["materials"] == 0)
    );

    // Now the folder goes; its archived material is left without one.
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/material-folders/{b}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let got = ok(t.get(&path, &t.admin).await, StatusCode::OK).await;
    assert_eq!(got["folder"], Value::Null);
    let folders = ok(
        t.get("/api/v1/material-folders", &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(folders.as_array().unwrap().len(), 1);
    assert_eq!(folders[0]["id"], a);
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/material-folders/{b}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // An empty folder goes at once.
    let r = t
        .req(
            Method::DELETE,
            &format!("/api/v1/material-folders/{a}"),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // Restore: active again, without a folder.
    let restored = ok(
        t.post(&format!("{path}/restore"), &t.admin, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(restored["status"], "active");
    assert_eq!(restored["folder"], Value::Null);
    assert_eq!(ids(&t, "").await, vec![id]);
    for op in ["archive", "restore"] {
        let r = t
            .post(
                &format!("/api/v1/materials/987654/{op}"),
                &t.admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    // Each change is in the audit log: 2 folders, their rename ×2, 2 deletions, the
    // material's creation, update, archive (once) and restore.
    let audited = t
        .audit_actions()
        .await
        .into_iter()
        .filter(|a| a == "messaging_changed")
        .count();
    assert_eq!(audited, 2 + 2 + 2 + 4);
}

async fn bad_input_is_refused_by_field_and_creates_nothing(e: Engine) {
    let t = spawn_app(e).await;
    let img = image(&t, [9, 9, 9]).await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"kind": "video", "title": "x", "media_id": img}),
            "kind",
            "invalid_material_kind",
        ),
        (
            json!({"kind": "poster", "title": "x"}),
            "media_id",
            "required",
        ),
        (
            json!({"kind": "image", "title": "x"}),
            "media_id",
            "required",
        ),
        (json!({"kind": "text", "title": "x"}), "body", "required"),
        (
            json!({"kind": "text", "title": "x", "body": "   "}),
            "body",
            "required",
        ),
        (
            json!({"kind": "link", "title": "x", "media_id": img}),
            "url",
            "required",
        ),
        (
            json!({"kind": "link", "title": "x", "url": "javascript:alert(1)", "media_id": img}),
            "url",
            "invalid_url",
        ),
        (
            json!({"kind": "text", "title": "x", "body": "y", "url": "https://shop.example"}),
            "url",
            "invalid_url",
        ),
        (
            json!({"kind": "link", "title": "x", "url": "https://shop.example/a"}),
            "media_id",
            "required",
        ),
        (
            json!({"kind": "miniprogram", "title": "x", "appid": "wx123", "page": "pages/a",
                   "media_id": img}),
            "appid",
            "invalid_appid",
        ),
        (
            json!({"kind": "miniprogram", "title": "x", "page": "pages/a", "media_id": img}),
            "appid",
            "invalid_appid",
        ),
        (
            json!({"kind": "miniprogram", "title": "x", "appid": "wx1234567890abcdef",
                   "media_id": img}),
            "page",
            "invalid_page_path",
        ),
        (
            json!({"kind": "miniprogram", "title": "x", "appid": "wx1234567890abcdef",
                   "page": "pages/a b", "media_id": img}),
            "page",
            "invalid_page_path",
        ),
        (
            json!({"kind": "miniprogram", "title": "x", "appid": "wx1234567890abcdef",
                   "page": "pages/a"}),
            "media_id",
            "required",
        ),
        (
            json!({"kind": "image", "title": "", "media_id": img}),
            "title",
            "required",
        ),
        (
            json!({"kind": "image", "title": "字".repeat(65), "media_id": img}),
            "title",
            "text_too_long",
        ),
        (
            json!({"kind": "text", "title": "x", "body": "字".repeat(4001)}),
            "body",
            "text_too_long",
        ),
        (
            json!({"kind": "image", "title": "a\nb", "media_id": img}),
            "title",
            "invalid_characters",
        ),
        (
            json!({"kind": "image", "title": "铃\u{7}", "media_id": img}),
            "title",
            "invalid_characters",
        ),
        (
            json!({"kind": "text", "title": "x", "body": "y\u{0}"}),
            "body",
            "invalid_characters",
        ),
        (
            json!({"kind": "image", "title": "x", "media_id": img,
                   "tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "tags",
            "too_many_items",
        ),
        (
            json!({"kind": "image", "title": "x", "media_id": img, "tags": ["字".repeat(21)]}),
            "tags",
            "text_too_long",
        ),
        (
            json!({"kind": "image", "title": "x", "media_id": 987654}),
            "media_id",
            "unknown_image",
        ),
        (
            json!({"kind": "text", "title": "x", "body": "y", "folder_id": 987654}),
            "folder_id",
            "unknown_folder",
        ),
        (
            json!({"kind": "text", "title": "x", "body": "y", "colour": "red"}),
            "colour",
            "unknown_field",
        ),
    ];
    for (body, field, code) in &cases {
        let (s, c, f) = error_of(t.post("/api/v1/materials", &t.admin, body.clone()).await).await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, *code, Some(*field)),
            "{body}"
        );
    }
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM materials").await, 0);

    // The same refusals on an update leave the material as it was.
    let m = material(
        &t,
        json!({"kind": "text", "title": "原文", "body": "原文内容"}),
    )
    .await;
    let path = format!("/api/v1/materials/{}", id_of(&m));
    for (body, field, code) in &cases {
        let (s, c, f) = error_of(
            t.send_json(Method::PUT, &path, &t.admin, body.clone())
                .await,
        )
        .await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, *code, Some(*field)),
            "{body}"
        );
    }
    assert_eq!(ok(t.get(&path, &t.admin).await, StatusCode::OK).await, m);

    // Folders: a name of 1–30 characters on one line, no unknown field.
    let folder_cases: Vec<(Value, &str, &str)> = vec![
        (json!({"name": ""}), "name", "invalid_name"),
        (json!({"name": "   "}), "name", "invalid_name"),
        (json!({"name": "字".repeat(31)}), "name", "text_too_long"),
        (json!({"name": "a\u{1b}b"}), "name", "invalid_characters"),
        (json!({"name": "a\nb"}), "name", "invalid_characters"),
        (json!({"name": "x", "parent": 1}), "parent", "unknown_field"),
    ];
    for (body, field, code) in &folder_cases {
        let (s, c, f) = error_of(
            t.post("/api/v1/material-folders", &t.admin, body.clone())
                .await,
        )
        .await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, *code, Some(*field)),
            "{body}"
        );
    }
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM material_folders").await, 0);

    // The list's parameters.
    for (query, field, code) in [
        ("?kind=video", "kind", "invalid_material_kind"),
        ("?status=gone", "status", "invalid_status"),
        ("?limit=0", "limit", "invalid_page_size"),
        ("?limit=201", "limit", "invalid_page_size"),
        ("?folder_id=987654", "folder_id", "unknown_folder"),
        ("?folder_id=abc", "folder_id", "invalid_query"),
        ("?colour=red", "colour", "invalid_query"),
    ] {
        let (s, c, f) = error_of(t.get(&format!("/api/v1/materials{query}"), &t.admin).await).await;
        assert_eq!(
            (s, c.as_str(), f.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some(field)),
            "{query}"
        );
    }
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM materials").await, 1);
}

async fn every_role_reads_and_only_hq_writes(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("ML").await;
    t.staff("mat.guide", "guide", Some(store)).await;
    t.staff("mat.manager", "store_manager", Some(store)).await;
    t.staff("mat.analyst", "analyst", None).await;
    t.staff("mat.operator", "operator", None).await;
    let guide = t.login("mat.guide").await;
    let manager = t.login("mat.manager").await;
    let analyst = t.login("mat.analyst").await;
    let operator = t.login("mat.operator").await;
    let analyst_token = t
        .app
        .tokens()
        .create_token(
            &yutang_app::Actor::system(),
            &yutang_app::tokens::NewTokenInput::parse("mat analyst", "analyst", None).unwrap(),
        )
        .await
        .unwrap()
        .token;

    // An operator writes, like an admin.
    let f = ok(
        t.post(
            "/api/v1/material-folders",
            &operator,
            json!({"name": "运营文件夹"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let folder_id = id_of(&f);
    let m = ok(
        t.post(
            "/api/v1/materials",
            &operator,
            json!({"kind": "text", "title": "开场白", "body": "您好，我是您的专属顾问", "folder_id": folder_id}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = id_of(&m);
    let before = (
        scalar(&t, "SELECT COUNT(*) FROM materials").await,
        scalar(&t, "SELECT COUNT(*) FROM material_folders").await,
    );

    for who in [&guide, &manager, &analyst, &analyst_token] {
        // Reads.
        let p = ok(t.get("/api/v1/materials", who).await, StatusCode::OK).await;
        assert_eq!(p["items"][0]["id"], id);
        let one = ok(
            t.get(&format!("/api/v1/materials/{id}"), who).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(one["title"], "开场白");
        let fs = ok(t.get("/api/v1/material-folders", who).await, StatusCode::OK).await;
        assert_eq!(fs[0]["id"], folder_id);
        // Writes: 403, with a valid body, and nothing changes.
        let writes = [
            (
                Method::POST,
                "/api/v1/materials".to_owned(),
                json!({"kind": "text", "title": "x", "body": "y"}),
            ),
            (
                Method::PUT,
                format!("/api/v1/materials/{id}"),
                json!({"kind": "text", "title": "改", "body": "改"}),
            ),
            (
                Method::POST,
                format!("/api/v1/materials/{id}/archive"),
                json!({}),
            ),
            (
                Method::POST,
                format!("/api/v1/materials/{id}/restore"),
                json!({}),
            ),
            (
                Method::POST,
                "/api/v1/material-folders".to_owned(),
                json!({"name": "导购文件夹"}),
            ),
            (
                Method::PUT,
                format!("/api/v1/material-folders/{folder_id}"),
                json!({"name": "改名"}),
            ),
        ];
        for (method, path, body) in writes {
            let r = t.send_json(method.clone(), &path, who, body).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{method} {path}");
        }
        let r = t
            .req(
                Method::DELETE,
                &format!("/api/v1/material-folders/{folder_id}"),
                Some(who),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let after = (
        scalar(&t, "SELECT COUNT(*) FROM materials").await,
        scalar(&t, "SELECT COUNT(*) FROM material_folders").await,
    );
    assert_eq!(after, before);
    let still = ok(
        t.get(&format!("/api/v1/materials/{id}"), &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(still, m);
    // Without credentials: 401.
    let r = t
        .req(Method::GET, "/api/v1/materials", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
