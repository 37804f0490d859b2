//! The material library's console pages (素材库, issue #21 item 4) through HTTP: headquarters
//! makes a folder and a poster whose image is uploaded with the multipart form, finds it in
//! the list with each filter, edits it keeping its image, archives and restores it, and cannot
//! delete a folder that still holds it; bad input re-renders under its field, what was typed
//! kept, and creates nothing; a guide reads the list and the material's page and gets their
//! own tracked link from it but is refused the form; an analyst reads; a wrong CSRF token
//! changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_core::media::solid_png;

use crate::acquisition::scalar;
use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form, refused};
use crate::helpers::{Engine, TestApp, spawn_app, spawn_with};

both_engines!(
    console_materials_hq_files_edits_and_archives,
    console_materials_refuse_bad_input_and_create_nothing,
    console_materials_by_role,
    console_materials_a_manager_links_for_their_guides,
    console_materials_links_are_absolute_under_the_public_url,
);

fn zh(code: &str) -> &'static str {
    yutang_core::error_codes::find(code).expect(code).zh
}

/// A console form's fields.
type Form = Vec<(&'static str, String)>;

/// A `multipart/form-data` body of text fields and an optional image (`image` input).
fn multipart(fields: &[(&str, String)], image: Option<&[u8]>) -> (String, Vec<u8>) {
    let boundary = "----yutang-materials-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some(bytes) = image {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\
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
    path: &str,
    fields: &[(&str, String)],
    image: Option<&[u8]>,
) -> (StatusCode, String, Option<String>) {
    let (ct, body) = multipart(fields, image);
    let r = t
        .client
        .post(t.url(path))
        .header("cookie", cookie)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let to = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (status, r.text().await.unwrap(), to)
}

/// The form's fields for a `kind` titled `title`, with `more`.
fn material(csrf: &str, kind: &str, title: &str, more: &[(&'static str, &str)]) -> Form {
    let mut f = vec![
        ("csrf", csrf.to_owned()),
        ("kind", kind.to_owned()),
        ("title", title.to_owned()),
    ];
    f.extend(more.iter().map(|(k, v)| (*k, (*v).to_owned())));
    f
}

/// The id in `/console/materials/{id}?…`.
fn id_in(loc: &str) -> i64 {
    loc.strip_prefix("/console/materials/")
        .unwrap_or_else(|| panic!("{loc}"))
        .split(['?', '/'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn api_material(t: &TestApp, id: i64) -> Value {
    let r = t.get(&format!("/api/v1/materials/{id}"), &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Whether the list at `path` shows material `id`.
async fn lists(t: &TestApp, cookie: &str, path: &str, id: i64) -> bool {
    let (status, html) = page(t, cookie, path).await;
    assert_eq!(status, StatusCode::OK, "{path}\n{html}");
    html.contains(&format!(r#"<tr data-material="{id}""#))
}

async fn console_materials_hq_files_edits_and_archives(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("cmat.admin", "admin", None).await;
    let cookie = console_login(&t, "cmat.admin").await;

    // 素材库 in the menu right after 朋友圈; the list, empty, with 新建素材 and the folders.
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    let moments = html.find(r#"href="/console/moments""#).expect("朋友圈");
    let materials = html.find(r#"href="/console/materials""#).expect("素材库");
    assert!(materials > moments && html[moments..materials].matches("<a ").count() == 1);
    let (status, html) = page(&t, &cookie, "/console/materials").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<a href="/console/materials" class="on">素材库</a>"#));
    assert!(html.contains(r#"id="new-material""#) && html.contains("没有符合条件的素材"));
    assert!(html.contains(r#"id="folder-create""#) && html.contains("还没有文件夹"));
    let csrf = csrf_in(&html);

    // A folder.
    let r = post_form(
        &t,
        &cookie,
        "/console/materials/folders",
        &[("csrf", csrf.clone()), ("name", "会员日".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/materials?ok=created");
    let folder = scalar(&t, "SELECT id FROM material_folders WHERE name = '会员日'").await;
    // The same name again: refused on the list with the reason.
    let r = post_form(
        &t,
        &cookie,
        "/console/materials/folders",
        &[("csrf", csrf.clone()), ("name", "会员日".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains(zh("already_exists")));

    // The form: multipart, the kinds, the folder to file in.
    let (status, html) = page(&t, &cookie, "/console/materials/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"enctype="multipart/form-data""#));
    assert!(html.contains(r#"type="file" id="image" name="image""#));
    assert!(html.contains(r#"<option value="miniprogram">小程序</option>"#));
    assert!(html.contains(&format!(r#"<option value="{folder}">会员日</option>"#)));

    // A poster with its image uploaded with the form.
    let png = solid_png(8, 8, [200, 30, 30]);
    let media_before = scalar(&t, "SELECT COUNT(*) FROM media").await;
    let fid = folder.to_string();
    let form = material(
        &csrf,
        "poster",
        "会员日海报",
        &[
            ("body", "会员日全场 8 折\r\n仅限本周"),
            ("tags", "会员日，春季"),
            ("folder_id", &fid),
        ],
    );
    let (status, html, to) =
        post_multipart(&t, &cookie, "/console/materials/new", &form, Some(&png)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let to = to.unwrap();
    assert!(to.ends_with("?done=created"), "{to}");
    let id = id_in(&to);
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM media").await,
        media_before + 1
    );
    let v = api_material(&t, id).await;
    assert_eq!(v["kind"], "poster");
    assert_eq!(v["body"], "会员日全场 8 折\n仅限本周");
    assert_eq!(v["tags"], json!(["会员日", "春季"]));
    assert_eq!(v["folder"]["id"], folder);
    let media = v["media_id"].as_i64().expect("an image");
    let served = t
        .client
        .get(t.url(&format!("/h5/media/{media}")))
        .send()
        .await
        .unwrap();
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);

    // Its page: as the customer sees it, the figures, the guides' table, the buttons.
    let (status, html) = page(&t, &cookie, &to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("素材已创建"));
    assert!(html.contains(r#"<span id="material-title">会员日海报</span>"#));
    assert!(html.contains(&format!(r#"id="preview-image" src="/h5/media/{media}""#)));
    assert!(html.contains(r#"data-status="active">在用<"#));
    assert!(html.contains(r#"<b id="material-folder">会员日</b>"#));
    assert!(html.contains(r#"<b data-count="views">0</b>"#));
    assert!(html.contains("还没有导购发出这份素材"));
    assert!(html.contains(r#"id="material-edit""#) && html.contains(r#"id="material-archive""#));

    // The list, with each filter.
    let path = format!("/console/materials/{id}");
    let (_, html) = page(&t, &cookie, "/console/materials").await;
    assert!(html.contains(&format!(
        r#"<tr data-material="{id}" data-kind="poster" data-status="active">"#
    )));
    assert!(html.contains(&format!(r#"<img class="thumb" src="/h5/media/{media}""#)));
    assert!(html.contains(&format!(r#"<a href="{path}">会员日海报</a>"#)));
    assert!(html.contains(">海报<") && html.contains(r#"<span class="chip">春季</span>"#));
    assert!(html.contains(&format!(r#"<option value="{folder}">会员日 (1)</option>"#)));
    for (filter, shown) in [
        (format!("folder={folder}"), true),
        ("folder=none".to_owned(), false),
        ("kind=poster".to_owned(), true),
        ("kind=text".to_owned(), false),
        ("label=%E6%98%A5%E5%AD%A3".to_owned(), true), // 春季
        ("label=%E6%98%A5".to_owned(), false),         // 春: labels match whole
        ("q=%E6%B5%B7%E6%8A%A5".to_owned(), true),     // 海报
        ("q=nothing".to_owned(), false),
        ("status=archived".to_owned(), false),
    ] {
        let url = format!("/console/materials?{filter}");
        assert_eq!(lists(&t, &cookie, &url, id).await, shown, "{filter}");
    }

    // Edit: the image kept (its id on the form), the title and the folder changed.
    let (status, html) = page(&t, &cookie, &format!("{path}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(
        r#"<input type="hidden" name="image_id" value="{media}">"#
    )));
    assert!(html.contains(r#"name="title" value="会员日海报""#));
    assert!(html.contains(r#"<option value="poster" selected>"#));
    let mid = media.to_string();
    let form = material(
        &csrf,
        "poster",
        "会员日海报（新）",
        &[
            ("body", "会员日全场 8 折"),
            ("tags", "会员日"),
            ("folder_id", ""),
            ("image_id", &mid),
        ],
    );
    let (status, html, to) =
        post_multipart(&t, &cookie, &format!("{path}/edit"), &form, None).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(to.unwrap(), format!("{path}?done=saved"));
    let v = api_material(&t, id).await;
    assert_eq!(v["title"], "会员日海报（新）");
    assert_eq!(v["media_id"], media, "the image kept");
    assert_eq!(v["folder"], Value::Null);
    assert!(lists(&t, &cookie, "/console/materials?folder=none", id).await);
    // A new image replaces it.
    let blue = solid_png(8, 8, [30, 30, 200]);
    let (status, _, _) =
        post_multipart(&t, &cookie, &format!("{path}/edit"), &form, Some(&blue)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let replaced = api_material(&t, id).await["media_id"].as_i64().unwrap();
    assert_ne!(replaced, media);

    // Back in the folder, which then cannot be deleted: the reason on the list.
    let mut form = form;
    form.retain(|(k, _)| *k != "folder_id" && *k != "image_id");
    form.push(("folder_id", fid.clone()));
    form.push(("image_id", replaced.to_string()));
    let (status, _, _) = post_multipart(&t, &cookie, &format!("{path}/edit"), &form, None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let del = format!("/console/materials/folders/{folder}/delete");
    let (status, html) = page(&t, &cookie, &del).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-outcome="delete""#) && html.contains("文件夹「会员日」"));
    let r = post_form(&t, &cookie, &del, &[("csrf", csrf.clone())]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"<div class="flash bad" role="alert" id="problem">{}</div>"#,
            zh("folder_not_empty")
        )),
        "{html}"
    );

    // Archive (a plain button: reversible), then restore.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/archive"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?done=archived"));
    assert_eq!(api_material(&t, id).await["status"], "archived");
    let (_, html) = page(&t, &cookie, &format!("{path}?done=archived")).await;
    assert!(html.contains("素材已归档") && html.contains(r#"id="material-restore""#));
    assert!(html.contains(r#"id="link-archived""#) && !html.contains(r#"id="link-form""#));
    assert!(!lists(&t, &cookie, "/console/materials", id).await);
    assert!(lists(&t, &cookie, "/console/materials?status=archived", id).await);
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/restore"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{path}?done=restored"));
    assert_eq!(api_material(&t, id).await["status"], "active");
    assert!(lists(&t, &cookie, "/console/materials", id).await);

    // An empty folder is renamed, then deleted.
    let r = post_form(
        &t,
        &cookie,
        "/console/materials/folders",
        &[("csrf", csrf.clone()), ("name", "临时".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let empty = scalar(&t, "SELECT id FROM material_folders WHERE name = '临时'").await;
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/materials/folders/{empty}"),
        &[("csrf", csrf.clone()), ("name", "临时二".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/materials?ok=saved");
    let (_, html) = page(&t, &cookie, "/console/materials").await;
    assert!(html.contains(r#"value="临时二""#));
    let r = post_form(
        &t,
        &cookie,
        &format!("/console/materials/folders/{empty}/delete"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/materials?ok=deleted");
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM material_folders").await, 1);

    // The buttons check the CSRF token before anything else.
    for action in ["archive", "restore", "link"] {
        let r = post_form(
            &t,
            &cookie,
            &format!("{path}/{action}"),
            &[("csrf", "wrong".into())],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(api_material(&t, id).await["status"], "active");

    // In English.
    let (_, html) = page(
        &t,
        &format!("{cookie}; yutang_lang=en"),
        "/console/materials",
    )
    .await;
    assert!(html.contains(">Materials<") && html.contains(">Poster<"));
}

async fn console_materials_refuse_bad_input_and_create_nothing(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("cmat.op", "operator", None).await;
    let cookie = console_login(&t, "cmat.op").await;
    let (_, html) = page(&t, &cookie, "/console/materials/new").await;
    let csrf = csrf_in(&html);
    let send = async |form: Form, image: Option<&[u8]>| {
        let (status, html, _) =
            post_multipart(&t, &cookie, "/console/materials/new", &form, image).await;
        (status, html)
    };

    // A poster without its image: refused under the image, what was typed kept.
    let (status, html) = send(
        material(&csrf, "poster", "没有图片", &[("tags", "春季, 新品")]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&refused("image", zh("required"))), "{html}");
    assert!(html.contains(r#"name="title" value="没有图片""#));
    assert!(html.contains(r#"name="tags" value="春季, 新品""#));
    assert!(html.contains(r#"<option value="poster" selected>"#));

    // A mini-program card with a bad appid: refused under it; the image uploaded with it is
    // kept by its id for the next try.
    let png = solid_png(8, 8, [10, 20, 30]);
    let (status, html) = send(
        material(
            &csrf,
            "miniprogram",
            "小程序卡片",
            &[("appid", "wx123"), ("page", "pages/index/index")],
        ),
        Some(&png),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(&refused("appid", zh("invalid_appid"))),
        "{html}"
    );
    let kept = scalar(&t, "SELECT MAX(id) FROM media").await;
    assert!(html.contains(&format!(
        r#"<input type="hidden" name="image_id" value="{kept}">"#
    )));
    assert!(html.contains(r#"name="page" value="pages/index/index""#));

    // A text without its copy; a link with a bad URL; not an image.
    let (status, html) = send(material(&csrf, "text", "空文案", &[("body", "  ")]), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&refused("body", zh("required"))), "{html}");
    let kept_id = kept.to_string();
    let (status, html) = send(
        material(
            &csrf,
            "link",
            "链接",
            &[("url", "ftp://shop.example"), ("image_id", &kept_id)],
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&refused("url", zh("invalid_url"))), "{html}");
    let (status, html) = send(
        material(&csrf, "image", "坏图", &[]),
        Some(b"plain text".as_slice()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(r#"data-field="image""#), "{html}");
    // A title too long; a folder that does not exist.
    let (status, html) = send(
        material(&csrf, "text", &"标".repeat(65), &[("body", "文案")]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(&refused("title", zh("text_too_long"))),
        "{html}"
    );
    let (status, html) = send(
        material(
            &csrf,
            "text",
            "文案",
            &[("body", "文案"), ("folder_id", "999")],
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(&refused("folder_id", zh("unknown_folder"))),
        "{html}"
    );

    // A wrong CSRF token: refused before anything is stored.
    let media = scalar(&t, "SELECT COUNT(*) FROM media").await;
    let (status, _) = send(
        material("wrong", "poster", "伪造", &[]),
        Some(&solid_png(4, 4, [1, 2, 3])),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM media").await, media);

    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM materials").await, 0);
}

async fn console_materials_by_role(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("MAT-A").await;
    let guide = t.staff("cmat.guide", "guide", Some(store)).await;
    t.staff("cmat.analyst", "analyst", None).await;
    let r = t
        .post(
            "/api/v1/materials",
            &t.admin,
            json!({"kind": "text", "title": "早安文案", "body": "早安，今天到店有惊喜"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/console/materials/{id}");

    // A guide: 素材库 in the menu, the list and the page without HQ's buttons.
    let cookie = console_login(&t, "cmat.guide").await;
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/console/materials""#));
    let csrf = csrf_in(&html);
    assert!(lists(&t, &cookie, "/console/materials", id).await);
    let (_, html) = page(&t, &cookie, "/console/materials").await;
    assert!(!html.contains(r#"id="new-material""#) && !html.contains(r#"id="folder-create""#));
    let (status, html) = page(&t, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="preview-body">早安，今天到店有惊喜<"#));
    assert!(html.contains("我的链接的传播数据") && !html.contains(r#"id="guides-table""#));
    assert!(!html.contains(r#"id="material-edit""#) && !html.contains(r#"id="material-archive""#));
    assert!(html.contains(r#"id="link-form""#) && !html.contains(r#"name="staff_id""#));

    // 获取我的链接: their own (a staff id sent is ignored), the same link twice.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/link"),
        &[("csrf", csrf.clone()), ("customer_id", String::new())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"<div id="link-made" data-staff="{guide}">"#)),
        "{html}"
    );
    assert!(
        html.contains(r#"<input id="link-url" value="/h5/r/"#),
        "{html}"
    );
    assert!(
        html.contains(r#"id="link-relative""#),
        "no public_url in the tests"
    );
    assert!(html.contains("导购：cmat.guide"));
    let sql = format!(
        "SELECT COUNT(*) FROM material_links WHERE material_id = {id} AND staff_id = {guide}"
    );
    assert_eq!(scalar(&t, &sql).await, 1);
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/link"),
        &[("csrf", csrf.clone()), ("staff_id", "1".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(scalar(&t, &sql).await, 1);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM material_links").await, 1);
    // A customer who is not theirs: refused under the field.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/link"),
        &[("csrf", csrf.clone()), ("customer_id", "987654".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("customer_id", zh("unknown_customer"))),
        "{html}"
    );

    // … and refused the form and the buttons.
    for p in [
        "/console/materials/new".to_owned(),
        format!("{path}/edit"),
        "/console/materials/folders/1/delete".to_owned(),
    ] {
        let (status, html) = page(&t, &cookie, &p).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{p}");
        assert!(html.contains(zh("forbidden")));
    }
    let form = material(&csrf, "text", "导购文案", &[("body", "你好")]);
    let (status, _, _) = post_multipart(&t, &cookie, "/console/materials/new", &form, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_multipart(&t, &cookie, &format!("{path}/edit"), &form, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for action in ["archive", "restore"] {
        let r = post_form(
            &t,
            &cookie,
            &format!("{path}/{action}"),
            &[("csrf", csrf.clone())],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let r = post_form(
        &t,
        &cookie,
        "/console/materials/folders",
        &[("csrf", csrf.clone()), ("name", "导购的".into())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM materials").await, 1);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM material_folders").await, 0);
    assert_eq!(api_material(&t, id).await["status"], "active");

    // An analyst reads: the list, the page with the guides' table, no link and no form.
    let cookie = console_login(&t, "cmat.analyst").await;
    assert!(lists(&t, &cookie, "/console/materials", id).await);
    let (status, html) = page(&t, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="guides-table""#));
    assert!(
        html.contains(&format!(
            r#"<tr data-staff="{guide}"><td>cmat.guide</td><td>1</td>"#
        )),
        "{html}"
    );
    assert!(html.contains(r#"<b data-count="links">1</b>"#));
    assert!(html.contains(r#"id="link-analyst""#) && !html.contains(r#"id="link-form""#));
    let (status, _) = page(&t, &cookie, "/console/materials/new").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let csrf = csrf_in(&html);
    let r = post_form(&t, &cookie, &format!("{path}/link"), &[("csrf", csrf)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// A text material made through the API; its id.
async fn text_material(t: &TestApp, title: &str) -> i64 {
    let r = t
        .post(
            "/api/v1/materials",
            &t.admin,
            json!({"kind": "text", "title": title, "body": "早安"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn console_materials_a_manager_links_for_their_guides(e: Engine) {
    let (t, _fake, store, _) = crate::mass_messages::synced(e).await;
    t.staff("cmat.manager", "store_manager", Some(store)).await;
    let other = t.store("MAT-B").await;
    let outsider = t.staff("cmat.outsider", "guide", Some(other)).await;
    let id = text_material(&t, "店长文案").await;
    let path = format!("/console/materials/{id}");
    let zhang = scalar(&t, "SELECT id FROM staff WHERE wecom_userid = 'zhangwei'").await;

    // The guides of their store with a WeCom account to choose from.
    let cookie = console_login(&t, "cmat.manager").await;
    let (status, html) = page(&t, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"<option value="{zhang}">g.zhangwei</option>"#)),
        "{html}"
    );
    assert!(!html.contains(&format!(r#"<option value="{outsider}">"#)));
    assert!(!html.contains(r#"id="material-edit""#));
    let csrf = csrf_in(&html);
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/link"),
        &[("csrf", csrf.clone()), ("staff_id", zhang.to_string())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"<div id="link-made" data-staff="{zhang}">"#)),
        "{html}"
    );
    assert!(html.contains("导购：g.zhangwei"));
    assert!(html.contains(&format!(r#"<option value="{zhang}" selected>"#)));
    let sql = format!(
        "SELECT COUNT(*) FROM material_links WHERE material_id = {id} AND staff_id = {zhang}"
    );
    assert_eq!(scalar(&t, &sql).await, 1);
    // A guide of another store: refused under the guide.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/link"),
        &[("csrf", csrf), ("staff_id", outsider.to_string())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&refused("staff_id", zh("unknown_sender"))),
        "{html}"
    );
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM material_links").await, 1);
}

async fn console_materials_links_are_absolute_under_the_public_url(e: Engine) {
    let t = spawn_with(e, |s| {
        s.h5.public_url = Some("https://m.example.com/".into());
    })
    .await;
    let admin = t.staff("cmat.hq", "admin", None).await;
    let id = text_material(&t, "总部文案").await;
    let path = format!("/console/materials/{id}");
    let cookie = console_login(&t, "cmat.hq").await;
    // No guide with a WeCom account: the link is the admin's own.
    let (_, html) = page(&t, &cookie, &path).await;
    assert!(html.contains(r#"id="link-no-guides""#) && !html.contains(r#"name="staff_id""#));
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/link"),
        &[("csrf", csrf_in(&html)), ("customer_id", String::new())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let token = link_token(&t, id).await;
    assert!(
        html.contains(&format!(
            r#"<input id="link-url" value="https://m.example.com/h5/r/{token}" readonly"#
        )),
        "{html}"
    );
    assert!(!html.contains(r#"id="link-relative""#));
    assert!(html.contains(&format!(r#"data-staff="{admin}""#)));
}

/// The token of the one link of material `id`, asked again through the API (the same link).
async fn link_token(t: &TestApp, id: i64) -> String {
    let r = t
        .post(
            &format!("/api/v1/materials/{id}/links"),
            &t.admin,
            json!({"staff_id": scalar(t, "SELECT MIN(staff_id) FROM material_links").await}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}
