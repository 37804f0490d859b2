//! Issue #18: every campaign's H5 link as a QR code (SVG, PNG) and a poster (SVG) from the
//! console's share page. The PNG is read back with a QR decoder: it holds exactly the
//! campaign's link, built from `h5.public_url`, or from the request's `Host` (the page then
//! says so).

use reqwest::StatusCode;
use serde_json::json;

use crate::console::{console_login, page};
use crate::helpers::{Engine, TestApp, spawn_app, spawn_with};
use crate::promotions::{created_id, flash_sale, group_buy, template};

both_engines!(
    share_pages_serve_the_link_its_qr_code_and_a_poster,
    without_a_public_url_links_follow_the_host_and_the_page_says_so,
);

/// The three campaigns: (path segment, id, name).
async fn campaigns(t: &TestApp, flash_name: &str) -> Vec<(&'static str, i64, String)> {
    let tpl = created_id(
        t.post("/api/v1/coupon-templates", &t.admin, template(10, 1))
            .await,
    )
    .await;
    let mut sale = flash_sale(5);
    sale["name"] = json!(flash_name);
    let sale = created_id(t.post("/api/v1/flash-sales", &t.admin, sale).await).await;
    let gb = created_id(t.post("/api/v1/group-buys", &t.admin, group_buy(10)).await).await;
    vec![
        ("coupons", tpl, "周二会员日 满50减10".to_owned()),
        ("flash-sales", sale, flash_name.to_owned()),
        ("group-buys", gb, "两人拼 阳光玫瑰".to_owned()),
    ]
}

/// The H5 path a campaign's link ends in.
fn h5_path(what: &str, id: i64) -> String {
    match what {
        "coupons" => format!("/h5/coupons?template={id}"),
        _ => format!("/h5/{what}/{id}"),
    }
}

async fn get(
    t: &TestApp,
    cookie: &str,
    path: &str,
    host: Option<&str>,
) -> (StatusCode, String, String, Vec<u8>) {
    let mut req = t.client.get(t.url(path)).header("cookie", cookie);
    if let Some(h) = host {
        req = req.header("host", h);
    }
    let r = req.send().await.unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (r.status(), ct, cd, r.bytes().await.unwrap().to_vec())
}

/// Every QR code found in a PNG, decoded.
fn decode_png_qr(bytes: &[u8]) -> Vec<String> {
    let img = Gray::of_png(bytes);
    assert!(img.w >= 600 && img.w == img.h, "{}×{}", img.w, img.h);
    img.qr_texts()
}

/// A PNG (any colour type) as greyscale: to read its QR codes back and look at its pixels.
pub(crate) struct Gray {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u8>,
}

impl Gray {
    pub fn of_png(bytes: &[u8]) -> Gray {
        let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
        dec.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = dec.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let (w, h, line) = (info.width as usize, info.height as usize, info.line_size);
        let n = info.color_type.samples();
        let mut px = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let p = &buf[y * line + x * n..y * line + x * n + n];
                px.push(match p {
                    [r, g, b, ..] => {
                        ((u32::from(*r) * 299 + u32::from(*g) * 587 + u32::from(*b) * 114) / 1000)
                            as u8
                    }
                    [v, ..] => *v,
                    [] => 255,
                });
            }
        }
        Gray { w, h, px }
    }

    /// The texts of the QR codes in the image.
    pub fn qr_texts(&self) -> Vec<String> {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(self.w, self.h, |x, y| {
            self.px[y * self.w + x]
        });
        img.detect_grids()
            .into_iter()
            .map(|g| g.decode().expect("a readable QR code").1)
            .collect()
    }
}

/// The texts of an XML document (which must be well-formed), entities decoded.
fn xml_texts(svg: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed SVG") {
            quick_xml::events::Event::Text(t) => {
                out.push(t.unescape().expect("known entities").into_owned());
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// The one link in the QR code of a PNG served at `path` (asked for under `host`).
async fn qr_link(t: &TestApp, cookie: &str, path: &str, host: Option<&str>) -> String {
    let (status, _, _, png) = get(t, cookie, path, host).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    let mut links = decode_png_qr(&png);
    assert_eq!(links.len(), 1, "{links:?}");
    links.remove(0)
}

/// The texts of a campaign's poster.
async fn poster_texts(t: &TestApp, cookie: &str, what: &str, id: i64) -> Vec<String> {
    let path = format!("/console/promotions/{what}/{id}/poster.svg");
    let (status, _, _, body) = get(t, cookie, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    xml_texts(&String::from_utf8(body).unwrap())
}

async fn share_pages_serve_the_link_its_qr_code_and_a_poster(e: Engine) {
    let t = spawn_with(e, |s| {
        s.h5.public_url = Some("https://m.example.com/shop/".into());
    })
    .await;
    t.staff("promo.guide", "guide", Some(t.store("S01").await))
        .await;
    t.staff("promo.admin", "admin", None).await;
    let cookie = console_login(&t, "promo.admin").await;
    let all = campaigns(&t, "周五秒杀 金枕榴莲").await;
    // The list links each campaign's share page.
    let (status, list) = page(&t, &cookie, "/console/promotions").await;
    assert_eq!(status, StatusCode::OK);
    for (what, id, name) in &all {
        let base = format!("/console/promotions/{what}/{id}");
        assert!(list.contains(&format!("href=\"{base}/share\"")), "{what}");
        let url = format!("https://m.example.com/shop{}", h5_path(what, *id));
        let (status, ct, _, html) = get(&t, &cookie, &format!("{base}/share"), None).await;
        let html = String::from_utf8(html).unwrap();
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(ct.starts_with("text/html"), "{ct}");
        assert!(html.contains(&format!("value=\"{url}\"")), "{what}: {html}");
        assert!(!html.contains("id=\"host-notice\""), "{what}");
        assert!(html.contains(name.as_str()) && html.contains("微信扫码参与"));
        for file in ["qr.svg", "qr.png", "poster.svg"] {
            assert!(html.contains(&format!("href=\"{base}/{file}\"")), "{file}");
        }
        // The PNG holds exactly the link.
        let (status, ct, cd, png) = get(&t, &cookie, &format!("{base}/qr.png"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ct, "image/png");
        let stem = format!("{}-{id}", what.trim_end_matches('s'));
        assert_eq!(cd, format!("attachment; filename=\"{stem}-qr.png\""));
        assert_eq!(decode_png_qr(&png), vec![url.clone()], "{what}");
        let (status, ct, cd, svg) = get(&t, &cookie, &format!("{base}/qr.svg"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ct, "image/svg+xml; charset=utf-8");
        assert_eq!(cd, format!("attachment; filename=\"{stem}-qr.svg\""));
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<path"), "{svg}");
        xml_texts(&svg);
        let (status, ct, cd, poster) = get(&t, &cookie, &format!("{base}/poster.svg"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ct, "image/svg+xml; charset=utf-8");
        assert_eq!(cd, format!("attachment; filename=\"{stem}-poster.svg\""));
        let texts = xml_texts(&String::from_utf8(poster).unwrap());
        assert!(texts.contains(&url), "{texts:?}");
        assert!(texts.contains(&"微信扫码参与".to_owned()), "{texts:?}");
        assert!(
            texts.iter().any(|x| x.contains("北京时间")),
            "the window in Shanghai time: {texts:?}"
        );
    }
    // The key facts: a sale's price and usual price, a coupon's face value; in English when
    // the console is.
    let texts = poster_texts(&t, &cookie, "flash-sales", all[1].1).await;
    assert!(
        texts.contains(&"¥99.00".to_owned()) && texts.contains(&"原价 ¥199.00".to_owned()),
        "{texts:?}"
    );
    let texts = poster_texts(&t, &cookie, "coupons", all[0].1).await;
    assert!(texts.contains(&"满50减10".to_owned()), "{texts:?}");
    let en = format!("{cookie}; yutang_lang=en");
    let texts = poster_texts(&t, &en, "group-buys", all[2].1).await;
    assert!(
        texts.contains(&"Scan with WeChat to join".to_owned()),
        "{texts:?}"
    );
    assert!(texts.contains(&"Was ¥59.90".to_owned()), "{texts:?}");
    // Unknown campaigns and kinds: the console's 404 page, for the page and the files.
    for path in [
        "/console/promotions/flash-sales/999999/share",
        "/console/promotions/flash-sales/999999/qr.png",
        "/console/promotions/coupons/999999/poster.svg",
        "/console/promotions/group-buys/999999/qr.svg",
        "/console/promotions/teams/1/share",
        &format!("/console/promotions/group-buys/{}/qr.gif", all[2].1),
    ] {
        let (status, ct, _, _) = get(&t, &cookie, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
    }
    // A removed campaign (no claims: deleted) has no page left to link to.
    let r = t
        .req(
            reqwest::Method::DELETE,
            &format!("/api/v1/flash-sales/{}", all[1].1),
            Some(&t.admin),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (status, _, _, _) = get(
        &t,
        &cookie,
        &format!("/console/promotions/flash-sales/{}/share", all[1].1),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Every staff member who sees the promotions may share them; nobody signed out.
    let guide = console_login(&t, "promo.guide").await;
    let share = format!("/console/promotions/group-buys/{}/share", all[2].1);
    assert_eq!(get(&t, &guide, &share, None).await.0, StatusCode::OK);
    let png = format!("/console/promotions/group-buys/{}/qr.png", all[2].1);
    assert_eq!(get(&t, "", &png, None).await.0, StatusCode::SEE_OTHER);
}

async fn without_a_public_url_links_follow_the_host_and_the_page_says_so(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("promo.admin", "admin", None).await;
    let cookie = console_login(&t, "promo.admin").await;
    let hostile = "<秒杀>&\"抢\"";
    let all = campaigns(&t, hostile).await;
    let (_, id, _) = &all[1];
    let base = format!("/console/promotions/flash-sales/{id}");
    let here = t.addr.to_string();
    let (status, _, _, html) = get(&t, &cookie, &format!("{base}/share"), None).await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"host-notice\""), "{html}");
    assert!(
        html.contains("h5.public_url") && html.contains(&here),
        "{html}"
    );
    // The name is escaped in the page and in the inline poster.
    assert!(!html.contains("<秒杀>"), "{html}");
    assert!(html.contains("&lt;秒杀&gt;&amp;&quot;抢&quot;"), "{html}");
    let png = format!("{base}/qr.png");
    assert_eq!(
        qr_link(&t, &cookie, &png, None).await,
        format!("http://{here}/h5/flash-sales/{id}")
    );
    // Behind another name, the link follows it; a malformed Host is not used.
    assert_eq!(
        qr_link(&t, &cookie, &png, Some("shop.example.test:8443")).await,
        format!("http://shop.example.test:8443/h5/flash-sales/{id}")
    );
    assert_eq!(
        qr_link(&t, &cookie, &png, Some("evil.example/x?")).await,
        format!("http://{}/h5/flash-sales/{id}", t.app.settings.listen)
    );
    // The poster is well-formed XML whose texts give the name back as it was typed.
    let (_, _, _, poster) = get(&t, &cookie, &format!("{base}/poster.svg"), None).await;
    let poster = String::from_utf8(poster).unwrap();
    assert!(
        poster.contains("&lt;秒杀&gt;&amp;&quot;抢&quot;"),
        "{poster}"
    );
    let texts = xml_texts(&poster);
    assert!(texts.iter().any(|x| x == hostile), "{texts:?}");
}
