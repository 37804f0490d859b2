//! Issue #19: a live code's QR image, kept by Yutang, and its store-stand poster PNG. The
//! images are read back with a QR decoder: the stored image holds what WeCom's (the fake's)
//! holds, or a link's URL; the poster holds the same code under its texts.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_store::acquisition::{self as store, SyncRecord};
use yutang_wecom::fake::contact_way_qr_text;

use crate::console::{console_login, page};
use crate::helpers::{Engine, TestApp, error_of};
use crate::promotions::created_id;
use crate::share::Gray;
use crate::wecom_sync::{guide, with_fake, with_fake_and};

both_engines!(
    the_qr_image_is_wecoms_kept_and_served_by_yutang,
    a_failed_download_is_retried_at_the_next_sync,
    a_links_qr_is_drawn_by_yutang,
    the_poster_draws_the_texts_around_the_code,
    without_a_cjk_font_the_poster_says_what_to_install,
    bad_poster_settings_are_refused_naming_the_field,
);

const IMAGES: &str = "/wwpic";

async fn json_of(r: reqwest::Response) -> Value {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn bytes_of(r: reqwest::Response, content_type: &str) -> Vec<u8> {
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], content_type);
    r.bytes().await.unwrap().to_vec()
}

/// A store-stand channel of a new store with a guide `userid`: (channel, guide, store).
async fn channel(t: &TestApp, code: &str, name: &str, userid: &str) -> (i64, i64, i64) {
    let store = t.store(code).await;
    let g = guide(t, store, userid).await;
    let ch = created_id(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": name, "kind": "store_stand", "store_id": store}),
        )
        .await,
    )
    .await;
    (ch, g, store)
}

/// A new code in `channel` with `extra` merged into its body: the code as answered.
async fn code(t: &TestApp, channel: i64, state: &str, guides: Value, extra: Value) -> Value {
    let mut body =
        json!({"channel_id": channel, "name": "收银台", "state": state, "guides": guides});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = t.post("/api/v1/live-codes", &t.admin, body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    json_of(r).await
}

async fn get_code(t: &TestApp, id: i64) -> Value {
    json_of(t.get(&format!("/api/v1/live-codes/{id}"), &t.admin).await).await
}

async fn qr_png(t: &TestApp, id: i64) -> reqwest::Response {
    t.get(&format!("/api/v1/live-codes/{id}/qr.png"), &t.admin)
        .await
}

async fn poster(t: &TestApp, token: &str, id: i64) -> reqwest::Response {
    t.get(&format!("/api/v1/live-codes/{id}/poster.png"), token)
        .await
}

/// The image at WeCom's (the fake's) `qr_code` URL, fetched directly.
async fn wecoms_image(url: &str) -> Vec<u8> {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.bytes().await.unwrap().to_vec()
}

async fn the_qr_image_is_wecoms_kept_and_served_by_yutang(e: Engine) {
    let (t, fake, target) = with_fake(e).await;
    let (ch, g1, store_a) = channel(&t, "QR-A", "门店台卡 徐汇店", "zhangwei").await;
    let g2 = guide(&t, store_a, "wangfang").await;
    let c = code(
        &t,
        ch,
        "qr-a1",
        json!([{"staff_id": g1, "daily_cap": 1}, {"staff_id": g2, "daily_cap": 100}]),
        json!({}),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let config_id = c["config_id"].as_str().unwrap().to_owned();
    let qr_url = c["qr_url"].as_str().unwrap().to_owned();
    assert_eq!(c["sync_status"], "synced", "{c}");
    assert_eq!(c["qr_image"]["content_type"], "image/png", "{c}");
    assert_eq!(c["qr_image_error"], "");
    assert_eq!(fake.calls(IMAGES), 1);

    // The stored image is WeCom's, byte for byte, and reads as the contact way's QR.
    let r = qr_png(&t, id).await;
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"live-code-{id}-qr.png\"").as_str()
    );
    let stored = bytes_of(r, "image/png").await;
    assert_eq!(stored, wecoms_image(&qr_url).await);
    assert_eq!(
        Gray::of_png(&stored).qr_texts(),
        vec![contact_way_qr_text(&config_id)]
    );
    let sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&stored))
    };
    assert_eq!(c["qr_image"]["sha256"], sha.as_str());
    assert_eq!(c["qr_image"]["size_bytes"], stored.len());

    // (The test's own fetch of WeCom's image counts too.)
    let downloads = fake.calls(IMAGES);
    // An add re-points the code (zhangwei reaches the cap): same URL, the image is kept.
    crate::acquisition::add(&t, &fake, &target, "zhangwei", "小林", Some("qr-a1")).await;
    let after = get_code(&t, id).await;
    assert_eq!(after["current_staff_ids"], json!([g2]), "{after}");
    assert_eq!(after["qr_url"], qr_url.as_str());
    assert_eq!(after["qr_image"], c["qr_image"]);
    t.app.acquisition().refresh_live_codes().await.unwrap();
    assert_eq!(fake.calls(IMAGES), downloads, "nothing is downloaded again");

    // A new URL (WeCom made the way again) brings a new image, of the new way.
    let other = code(
        &t,
        ch,
        "qr-a2",
        json!([{"staff_id": g2, "daily_cap": 5}]),
        json!({}),
    )
    .await;
    let other_url = other["qr_url"].as_str().unwrap();
    let row = store::get_code(&t.app.db, id).await.unwrap();
    store::record_sync(
        &t.app.db,
        id,
        &SyncRecord {
            seen: row.sync_done,
            config_id: &row.config_id,
            qr_url: other_url,
            users: &row.users,
            status: "synced",
            error: "",
            now: t.app.now(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        error_of(qr_png(&t, id).await).await.1,
        "qr_not_stored",
        "an image of an older URL is not served"
    );
    t.app.acquisition().refresh_live_codes().await.unwrap();
    let renewed = bytes_of(qr_png(&t, id).await, "image/png").await;
    assert_eq!(
        Gray::of_png(&renewed).qr_texts(),
        vec![contact_way_qr_text(other["config_id"].as_str().unwrap())]
    );
    assert_ne!(get_code(&t, id).await["qr_image"]["sha256"], sha.as_str());

    // Scoped like the code: another store's guide gets 404, this store's the image.
    let (_, _, store_b) = channel(&t, "QR-B", "门店台卡 静安店", "lina").await;
    t.staff("qr.guide.b", "guide", Some(store_b)).await;
    t.staff("qr.guide.a", "guide", Some(store_a)).await;
    let b = t.login("qr.guide.b").await;
    let a = t.login("qr.guide.a").await;
    for path in ["qr.png", "poster.png"] {
        let r = t.get(&format!("/api/v1/live-codes/{id}/{path}"), &b).await;
        assert_eq!(error_of(r).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    let r = t.get(&format!("/api/v1/live-codes/{id}/qr.png"), &a).await;
    assert_eq!(bytes_of(r, "image/png").await, renewed);

    // Archived, the code's QR leads nowhere: no image, no poster.
    let r = t
        .post(
            &format!("/api/v1/live-codes/{id}/archive"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, code, _) = error_of(qr_png(&t, id).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "live_code_archived")
    );
}

async fn a_failed_download_is_retried_at_the_next_sync(e: Engine) {
    let (t, fake, _target) = with_fake(e).await;
    let (ch, g, _) = channel(&t, "QR-F", "包裹卡", "zhangwei").await;
    fake.fail_qr_images(1);
    let c = code(
        &t,
        ch,
        "qr-f1",
        json!([{"staff_id": g, "daily_cap": 5}]),
        json!({}),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    // WeCom accepted the code; only its image could not be fetched.
    assert_eq!(c["sync_status"], "synced", "{c}");
    assert_eq!(c["qr_image"], Value::Null);
    let why = c["qr_image_error"].as_str().unwrap();
    assert!(why.contains("下载企业微信二维码图片失败"), "{why}");
    let (status, code, _) = error_of(qr_png(&t, id).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "qr_not_stored")
    );
    let (status, code, _) = error_of(poster(&t, &t.admin, id).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "qr_not_stored")
    );

    // The code's page says so, and offers no download.
    t.staff("qr.admin", "admin", None).await;
    let cookie = console_login(&t, "qr.admin").await;
    let (status, html) = page(&t, &cookie, &format!("/console/live-codes/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="qr-not-stored""#), "{html}");
    assert!(html.contains("下载企业微信二维码图片失败"), "{html}");
    assert!(!html.contains(r#"id="download-qr""#));

    // The minute tick tries again, and the image is there.
    t.app.acquisition().refresh_live_codes().await.unwrap();
    assert_eq!(fake.calls(IMAGES), 2);
    let after = get_code(&t, id).await;
    assert_eq!(after["qr_image"]["content_type"], "image/png", "{after}");
    assert_eq!(after["qr_image_error"], "");
    let png = bytes_of(qr_png(&t, id).await, "image/png").await;
    assert_eq!(
        Gray::of_png(&png).qr_texts(),
        vec![contact_way_qr_text(c["config_id"].as_str().unwrap())]
    );
    let (_, html) = page(&t, &cookie, &format!("/console/live-codes/{id}")).await;
    assert!(html.contains(r#"id="download-qr""#), "{html}");
}

async fn a_links_qr_is_drawn_by_yutang(e: Engine) {
    let (t, fake, _target) = with_fake(e).await;
    let (ch, g, _) = channel(&t, "QR-L", "公众号文章", "zhangwei").await;
    let c = code(
        &t,
        ch,
        "qr-link1",
        json!([{"staff_id": g, "daily_cap": 5}]),
        json!({"kind": "link"}),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let url = c["qr_url"].as_str().unwrap();
    assert!(url.contains("customer_channel=qr-link1"), "{url}");
    assert_eq!(c["qr_image"]["content_type"], "image/png", "{c}");
    assert_eq!(fake.calls(IMAGES), 0, "nothing to download for a link");
    let png = bytes_of(qr_png(&t, id).await, "image/png").await;
    assert_eq!(Gray::of_png(&png).qr_texts(), vec![url.to_owned()]);

    // An edited state reaches the published URL, and the QR follows it.
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/live-codes/{id}"),
            &t.admin,
            json!({"channel_id": ch, "name": "收银台", "kind": "link", "state": "qr-link2",
                "guides": [{"staff_id": g, "daily_cap": 5}]}),
        )
        .await;
    let after = json_of(r).await;
    let new_url = after["qr_url"].as_str().unwrap();
    assert!(new_url.ends_with("customer_channel=qr-link2"), "{new_url}");
    assert!(!new_url.contains("qr-link1"), "{new_url}");
    assert_ne!(after["qr_image"]["sha256"], c["qr_image"]["sha256"]);
    let png = bytes_of(qr_png(&t, id).await, "image/png").await;
    assert_eq!(Gray::of_png(&png).qr_texts(), vec![new_url.to_owned()]);
}

/// The pixels of rows `y0..y1`.
fn rows(img: &Gray, y0: usize, y1: usize) -> Vec<u8> {
    img.px[y0 * img.w..y1 * img.w].to_vec()
}

/// How many pixels are dark (luma < 128).
fn count_dark(px: &[u8]) -> usize {
    px.iter().filter(|v| **v < 128).count()
}

async fn the_poster_draws_the_texts_around_the_code(e: Engine) {
    let (t, _fake, _target) = with_fake(e).await;
    let (ch, g, _) = channel(&t, "QR-P", "门店台卡 徐汇店", "zhangwei").await;
    let spec = |title: &str| {
        json!({"channel_id": ch, "name": "收银台", "state": "qr-p1",
            "guides": [{"staff_id": g, "daily_cap": 5}],
            "poster": {"title": title, "subtitle": "新人进群领 10 元券"}})
    };
    let r = t
        .post("/api/v1/live-codes", &t.admin, spec("扫码领新人礼"))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let c = json_of(r).await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["poster"]["title"], "扫码领新人礼");
    assert_eq!(c["poster"]["brand"], Value::Null);

    let r = poster(&t, &t.admin, id).await;
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"live-code-{id}-poster.png\"").as_str()
    );
    let first = Gray::of_png(&bytes_of(r, "image/png").await);
    assert_eq!((first.w, first.h), (1080, 1440));
    // The code reads back from the poster.
    assert_eq!(
        first.qr_texts(),
        vec![contact_way_qr_text(c["config_id"].as_str().unwrap())]
    );
    // The title's slot (rows 250–390) has ink.
    let title = rows(&first, 250, 390);
    assert!(count_dark(&title) > 2000, "{}", count_dark(&title));

    // Another title draws other pixels there, and the QR stays where it was.
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/live-codes/{id}"),
            &t.admin,
            spec("到店扫码 加导购"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let second = Gray::of_png(&bytes_of(poster(&t, &t.admin, id).await, "image/png").await);
    assert_ne!(rows(&second, 250, 390), title);
    assert_eq!(rows(&second, 520, 1200), rows(&first, 520, 1200));
    assert_eq!(second.qr_texts(), first.qr_texts());

    // A title of 20 characters, the most, is drawn (smaller) above the same code; the
    // console shows the poster and its download.
    let long = "鲜果时光新人礼扫码加导购领十元无门槛券";
    assert_eq!(long.chars().count(), 19);
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/live-codes/{id}"),
            &t.admin,
            spec(&format!("{long}！")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let third = Gray::of_png(&bytes_of(poster(&t, &t.admin, id).await, "image/png").await);
    assert_eq!(third.qr_texts(), first.qr_texts());
    t.staff("poster.admin", "admin", None).await;
    let cookie = console_login(&t, "poster.admin").await;
    let (_, html) = page(&t, &cookie, &format!("/console/live-codes/{id}")).await;
    assert!(
        html.contains(&format!(
            r#"id="download-poster" href="/console/live-codes/{id}/poster.png?download=1""#
        )),
        "{html}"
    );
    let r = t
        .client
        .get(t.url(&format!("/console/live-codes/{id}/poster.png?download=1")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(Gray::of_png(&bytes_of(r, "image/png").await).w, 1080);
}

async fn without_a_cjk_font_the_poster_says_what_to_install(e: Engine) {
    let (t, _fake, _target) = with_fake_and(e, |s| {
        s.acquisition.poster_font = Some("/nonexistent/yutang-font.ttc".into());
    })
    .await;
    let (ch, g, _) = channel(&t, "QR-N", "门店台卡", "zhangwei").await;
    let c = code(
        &t,
        ch,
        "qr-n1",
        json!([{"staff_id": g, "daily_cap": 5}]),
        json!({}),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    // The QR itself needs no font.
    bytes_of(qr_png(&t, id).await, "image/png").await;
    let r = poster(&t, &t.admin, id).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "poster_font_missing");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("fonts-noto-cjk") && message.contains("acquisition.poster_font"),
        "{message}"
    );
}

async fn bad_poster_settings_are_refused_naming_the_field(e: Engine) {
    let (t, _fake, _target) = with_fake(e).await;
    let (ch, g, _) = channel(&t, "QR-X", "门店台卡", "zhangwei").await;
    let with = |poster: Value| {
        json!({"channel_id": ch, "name": "收银台", "guides": [{"staff_id": g, "daily_cap": 5}],
            "poster": poster})
    };
    for (poster, field, code) in [
        (
            json!({"title": "果".repeat(21)}),
            "poster.title",
            "invalid_text",
        ),
        (
            json!({"subtitle": "x".repeat(41)}),
            "poster.subtitle",
            "invalid_text",
        ),
        (
            json!({"brand": "鲜果\n时光"}),
            "poster.brand",
            "invalid_characters",
        ),
        (
            json!({"caption": "扫码\u{1b}[0m"}),
            "poster.caption",
            "invalid_characters",
        ),
    ] {
        let r = t
            .post("/api/v1/live-codes", &t.admin, with(poster.clone()))
            .await;
        let (status, got, f) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{poster}");
        assert_eq!(
            (got.as_str(), f.as_deref()),
            (code, Some(field)),
            "{poster}"
        );
    }
    // Strict JSON: an unknown poster field is refused too.
    let r = t
        .post(
            "/api/v1/live-codes",
            &t.admin,
            with(json!({"colour": "red"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // An edit is checked the same way; within the limits it is kept.
    let c = code(
        &t,
        ch,
        "qr-x1",
        json!([{"staff_id": g, "daily_cap": 5}]),
        json!({}),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let mut body = with(json!({"title": "果".repeat(20), "brand": " 鲜果时光 "}));
    body["state"] = json!("qr-x1");
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/live-codes/{id}"),
            &t.admin,
            body.clone(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = json_of(r).await;
    assert_eq!(v["poster"]["brand"], "鲜果时光");
    body["poster"]["title"] = json!("果".repeat(21));
    let r = t
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/live-codes/{id}"),
            &t.admin,
            body,
        )
        .await;
    assert_eq!(error_of(r).await.2.as_deref(), Some("poster.title"));
}
