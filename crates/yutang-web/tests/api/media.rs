//! Product images: `POST /api/v1/media` (raw bytes, told by their magic numbers), the public
//! `GET /h5/media/{id}` with its caching and safety headers, `image_id` on flash sales and
//! group-buys (checked to exist), the H5 pages showing the image, and the console's
//! multipart form uploading one with the campaign.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_core::media::solid_png;

use crate::console::{console_login, csrf_in, page};
use crate::helpers::{Engine, TestApp, error_of, spawn_app, spawn_with};
use crate::promotions::{created_id, flash_sale};

both_engines!(
    uploads_are_checked_and_idempotent,
    images_are_served_with_cache_and_safety_headers,
    campaigns_take_only_uploaded_images,
    the_console_form_uploads_the_image_with_the_campaign,
);

async fn upload(t: &TestApp, token: &str, content_type: &str, bytes: Vec<u8>) -> reqwest::Response {
    t.req(Method::POST, "/api/v1/media", Some(token))
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn uploaded(t: &TestApp, bytes: Vec<u8>) -> Value {
    let r = upload(t, &t.admin, "image/png", bytes).await;
    let s = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

async fn uploads_are_checked_and_idempotent(e: Engine) {
    let t = spawn_with(e, |s| s.limits.max_image_bytes = 64 * 1024).await;
    let png = solid_png(30, 20, [255, 90, 60]);
    let v = uploaded(&t, png.clone()).await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["url"], format!("/h5/media/{id}"));
    assert_eq!(v["content_type"], "image/png");
    assert_eq!(
        (v["width"].as_i64(), v["height"].as_i64()),
        (Some(30), Some(20))
    );
    assert_eq!(v["size_bytes"].as_u64(), Some(png.len() as u64));
    // The same bytes again (with another declared type): 200, the same id.
    let r = upload(&t, &t.admin, "image/jpeg", png.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["id"].as_i64(), Some(id));
    assert_eq!(again["content_type"], "image/png");
    // Other bytes, another id; one audit entry per new image.
    let other = uploaded(&t, solid_png(2, 2, [0, 0, 0])).await;
    assert_ne!(other["id"].as_i64(), Some(id));
    let uploads = t
        .audit_actions()
        .await
        .into_iter()
        .filter(|a| a == "promotion_changed")
        .count();
    assert_eq!(uploads, 2);

    // Refusals name the field.
    for (bytes, status, code) in [
        (b"just text, renamed .png".to_vec(), 422, "invalid_image"),
        (png[..png.len() - 5].to_vec(), 422, "invalid_image"),
        (b"GIF89a\x01\x00\x01\x00;".to_vec(), 422, "invalid_image"),
        (solid_png(4097, 1, [1, 1, 1]), 422, "image_too_large"),
        // Over limits.max_image_bytes: refused while reading.
        (solid_png(200, 200, [1, 2, 3]), 413, "image_too_large"),
    ] {
        let (s, c, f) = error_of(upload(&t, &t.admin, "image/png", bytes).await).await;
        assert_eq!(
            (s.as_u16(), c.as_str(), f.as_deref()),
            (status, code, Some("image"))
        );
    }
    // Not an image type: 415, before the body is looked at.
    let (s, c, f) = error_of(upload(&t, &t.admin, "application/json", png.clone()).await).await;
    assert_eq!(
        (s, c.as_str(), f.as_deref()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_image",
            Some("image")
        )
    );
    // Who may: whoever manages promotions (the analyst may not).
    t.staff("ana", "analyst", None).await;
    let ana = t.login("ana").await;
    let r = upload(&t, &ana, "image/png", png.clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .req(Method::POST, "/api/v1/media", None)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn images_are_served_with_cache_and_safety_headers(e: Engine) {
    let t = spawn_app(e).await;
    let png = solid_png(8, 8, [10, 20, 30]);
    let v = uploaded(&t, png.clone()).await;
    let url = v["url"].as_str().unwrap().to_owned();
    // Public: no credentials.
    let r = t.client.get(t.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag.len(), 66, "a quoted SHA-256: {etag}");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    let r = t
        .client
        .get(t.url(&url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = t
        .client
        .get(t.url(&url))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .client
        .get(t.url("/h5/media/999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn campaigns_take_only_uploaded_images(e: Engine) {
    let t = spawn_app(e).await;
    let mut spec = flash_sale(5);
    spec["image_id"] = json!(424_242);
    let (s, c, f) = error_of(t.post("/api/v1/flash-sales", &t.admin, spec.clone()).await).await;
    assert_eq!(
        (s, c.as_str(), f.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_image",
            Some("image_id")
        )
    );
    let img = uploaded(&t, solid_png(40, 30, [0xE8, 0xB9, 0x23])).await;
    let img_id = img["id"].as_i64().unwrap();
    spec["image_id"] = json!(img_id);
    let sale = created_id(t.post("/api/v1/flash-sales", &t.admin, spec.clone()).await).await;
    let v: Value = t
        .get(&format!("/api/v1/flash-sales/{sale}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["spec"]["image_id"].as_i64(), Some(img_id));
    // The H5 page shows it, sized, named by the item, from this server.
    let html = page_text(&t, &format!("/h5/flash-sales/{sale}")).await;
    assert!(
        html.contains(&format!(
            r#"src="/h5/media/{img_id}" width="40" height="30" alt="金枕榴莲 1 个""#
        )),
        "{html}"
    );
    // Without an image the page is as before.
    let plain = created_id(t.post("/api/v1/flash-sales", &t.admin, flash_sale(5)).await).await;
    let html = page_text(&t, &format!("/h5/flash-sales/{plain}")).await;
    assert!(!html.contains("/h5/media/"));
    // Group-buys too, on create and update.
    let group = json!({
        "name": "两人拼 阳光玫瑰", "sku": "GRAPE-1", "item_name": "阳光玫瑰 2 斤",
        "price_fen": 3990, "team_size": 2, "time_limit_minutes": 60, "stock": 10,
        "window": {"starts_at": chrono::Utc::now().timestamp_millis() - 1000,
                   "ends_at": chrono::Utc::now().timestamp_millis() + 86_400_000},
        "audience": {"kind": "everyone"}
    });
    let gb = created_id(t.post("/api/v1/group-buys", &t.admin, group.clone()).await).await;
    let mut bad = group.clone();
    bad["image_id"] = json!(424_242);
    let r = t
        .send_json(
            Method::PUT,
            &format!("/api/v1/group-buys/{gb}"),
            &t.admin,
            bad,
        )
        .await;
    let (s, c, f) = error_of(r).await;
    assert_eq!(
        (s.as_u16(), c.as_str(), f.as_deref()),
        (422, "unknown_image", Some("image_id"))
    );
    let mut good = group;
    good["image_id"] = json!(img_id);
    let r = t
        .send_json(
            Method::PUT,
            &format!("/api/v1/group-buys/{gb}"),
            &t.admin,
            good,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let html = page_text(&t, &format!("/h5/group-buys/{gb}?lang=en")).await;
    assert!(html.contains(&format!(
        r#"src="/h5/media/{img_id}" width="40" height="30" alt="阳光玫瑰 2 斤""#
    )));
    // A team's share link shows it too.
    let cs = crate::promotions::customers(&t, 1, 8800).await;
    let team = crate::promotions::open_team(&t, gb, &cs[0].1).await;
    let html = page_text(&t, &format!("/h5/teams/{team}")).await;
    assert!(
        html.contains(&format!(r#"src="/h5/media/{img_id}""#)),
        "{html}"
    );
    // The pages' policy lets them load images from this server only.
    let r = t
        .client
        .get(t.url(&format!("/h5/group-buys/{gb}")))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("img-src 'self'")
    );
}

/// A `multipart/form-data` body of text fields and one file.
fn multipart(fields: &[(&str, String)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----yutang-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    let (name, bytes) = file.unwrap_or(("", b""));
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn the_console_form_uploads_the_image_with_the_campaign(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("promo.op", "operator", None).await;
    let cookie = console_login(&t, "promo.op").await;
    let (s, html) = page(&t, &cookie, "/console/promotions/flash-sales/new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(r#"enctype="multipart/form-data""#));
    assert!(html.contains(r#"type="file" id="image" name="image""#));
    let csrf = csrf_in(&html);
    let now = chrono::Utc::now().timestamp_millis();
    let local = |ms: i64| {
        yutang_core::time::Millis(ms)
            .to_shanghai_string()
            .replace(' ', "T")[..16]
            .to_owned()
    };
    let fields = |csrf: &str, image_id: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("name", "图片秒杀".to_owned()),
            ("sku", "IMG-1".to_owned()),
            ("item_name", "带图的商品".to_owned()),
            ("price_yuan", "9.9".to_owned()),
            ("original_yuan", "19.9".to_owned()),
            ("hold_minutes", "15".to_owned()),
            ("starts", local(now - 60_000)),
            ("ends", local(now + 86_400_000)),
            ("stock", "10".to_owned()),
            ("per_customer", "1".to_owned()),
            ("audience", "everyone".to_owned()),
            ("image_id", image_id.to_owned()),
        ]
    };
    let post = async |fields: Vec<(&str, String)>, file: Option<(&str, &[u8])>| {
        let (ct, body) = multipart(&fields, file);
        t.client
            .post(t.url("/console/promotions/flash-sales"))
            .header("cookie", &cookie)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap()
    };
    // A text file renamed .png: the form comes back with the error under the file input,
    // every typed value kept, nothing created.
    let r = post(fields(&csrf, ""), Some(("notes.png", b"plain text"))).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-field="image""#), "{html}");
    assert!(html.contains("图片须为完整的 PNG、JPEG 或 WebP 文件"));
    assert!(html.contains("带图的商品"));
    // A wrong CSRF token is refused before anything is stored.
    let png = solid_png(24, 16, [0x8D, 0xB6, 0x00]);
    let r = post(fields("wrong", ""), Some(("grape.png", &png))).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(fields(&csrf, ""), Some(("grape.png", &png))).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let sales: Value = t
        .get("/api/v1/flash-sales", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let sale = &sales[0];
    let img = sale["spec"]["image_id"]
        .as_i64()
        .expect("the sale has the image");
    let served = t
        .client
        .get(t.url(&format!("/h5/media/{img}")))
        .send()
        .await
        .unwrap();
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);
    // The edit form previews it and keeps it when saved without a new file.
    let id = sale["id"].as_i64().unwrap();
    let (_, html) = page(
        &t,
        &cookie,
        &format!("/console/promotions/flash-sales/{id}"),
    )
    .await;
    assert!(
        html.contains(&format!(r#"src="/h5/media/{img}" width="24" height="16""#)),
        "{html}"
    );
    let (ct, body) = multipart(&fields(&csrf, &img.to_string()), None);
    let r = t
        .client
        .post(t.url(&format!("/console/promotions/flash-sales/{id}")))
        .header("cookie", &cookie)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v: Value = t
        .get(&format!("/api/v1/flash-sales/{id}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["spec"]["image_id"].as_i64(), Some(img));
    // Ticking "remove" drops it.
    let mut f = fields(&csrf, &img.to_string());
    f.push(("remove_image", "on".to_owned()));
    let (ct, body) = multipart(&f, None);
    let r = t
        .client
        .post(t.url(&format!("/console/promotions/flash-sales/{id}")))
        .header("cookie", &cookie)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v: Value = t
        .get(&format!("/api/v1/flash-sales/{id}"), &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(v["spec"].get("image_id").is_none_or(Value::is_null));
}

/// The text of a page (no session).
async fn page_text(t: &TestApp, path: &str) -> String {
    t.client
        .get(t.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
