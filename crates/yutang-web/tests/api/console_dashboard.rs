//! The console's overview page as the dashboard (issue #24 item 1): customers, a guide's
//! add and orders written through the API, the rollups brought current by hand
//! (`analytics.follow` is off, so nothing moves behind the test's back), then `/console` shows
//! each figure's total, its change against the period before and its days; the days download
//! as CSV in the page's language; a store manager and a guide see their own scope only; bad
//! addresses get the console's error page.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_core::analytics::{day_label, day_of};

use crate::console::{console_login, page};
use crate::customers::customer_with_phone;
use crate::dashboard::order;
use crate::helpers::{Engine, TestApp, csv_download, spawn_with};

both_engines!(
    console_dashboard_shows_the_figures_and_exports_their_days,
    console_dashboard_keeps_store_managers_and_guides_to_their_scope,
    console_dashboard_refuses_bad_addresses_with_the_error_page,
);

const DAY_MS: i64 = 86_400_000;

/// An app whose rollups move only when the test says so.
async fn app(e: Engine) -> TestApp {
    spawn_with(e, |s| s.analytics.follow = false).await
}

/// The seeded data's ids and times.
struct Seeded {
    store: i64,
    other_store: i64,
    guide: i64,
    other_guide: i64,
    channel: i64,
    /// When the orders of "today" and "yesterday" were paid.
    today: i64,
    yesterday: i64,
}

/// A store with a manager and a guide, another store with its guide, a channel; two
/// customers, the guide's add through the channel, an order of ¥129.00 by the guide today,
/// one of ¥49.50 at the store yesterday and one of ¥100.00 forty days ago (the period
/// before); then the rollups are brought current.
async fn seed(t: &TestApp) -> Seeded {
    let store = t.store("DASH-1").await;
    let other_store = t.store("DASH-2").await;
    t.staff("dash.admin", "admin", None).await;
    t.staff("dash.manager", "store_manager", Some(store)).await;
    let guide = t.staff("dash.guide", "guide", Some(store)).await;
    let other_guide = t.staff("dash.guide2", "guide", Some(other_store)).await;
    let r = t
        .post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "门店台卡 概览", "kind": "store_stand", "store_id": store}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let channel = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    let c1 = customer_with_phone(t, "13800138001", "林小满").await;
    let c2 = customer_with_phone(t, "13800138002", "周一一").await;
    let now = t.app.now() - 60_000;
    let mut tx = t.app.db.begin().await.unwrap();
    let add = yutang_store::acquisition::NewAdd {
        dedup_key: "dash-add-1",
        customer_id: c1,
        channel_id: Some(channel),
        code_id: None,
        state: "dash",
        staff_id: Some(guide),
        added_at: now,
    };
    yutang_store::acquisition::record_add_in(&mut tx, &add)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    order(t, "dash-1", c1, 12_900, now, None, Some(guide)).await;
    order(t, "dash-2", c2, 4_950, now - DAY_MS, Some(store), None).await;
    order(
        t,
        "dash-old",
        c2,
        10_000,
        now - 40 * DAY_MS,
        Some(store),
        None,
    )
    .await;
    t.app.analytics().follow().await.unwrap();
    Seeded {
        store,
        other_store,
        guide,
        other_guide,
        channel,
        today: now,
        yesterday: now - DAY_MS,
    }
}

/// The opening tag of the element with `id` (its attributes).
fn tag<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in\n{html}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

/// An attribute of the element with `id`.
fn attr(html: &str, id: &str, name: &str) -> String {
    let t = tag(html, id);
    let key = format!(" {name}=\"");
    let i = t.find(&key).unwrap_or_else(|| panic!("no {name} in {t}")) + key.len();
    t[i..i + t[i..].find('"').unwrap()].to_owned()
}

/// The HTML of the tile card of `metric` (up to the next tile).
fn tile<'a>(html: &'a str, metric: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"tile-{metric}\""))
        .unwrap_or_else(|| panic!("no tile {metric}"));
    let rest = &html[start..];
    let end = rest[1..]
        .find("class=\"card dash-tile\"")
        .map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// The tile's total, as shown and as its `data-total`.
fn total(html: &str, metric: &str) -> (String, i64) {
    let t = tile(html, metric);
    let i = t.find("data-role=\"total\">").unwrap() + "data-role=\"total\">".len();
    let shown = t[i..i + t[i..].find('<').unwrap()].to_owned();
    let data = attr(html, &format!("tile-{metric}"), "data-total")
        .parse()
        .unwrap();
    (shown, data)
}

async fn console_dashboard_shows_the_figures_and_exports_their_days(e: Engine) {
    let t = app(e).await;
    t.staff("dash.first", "admin", None).await;
    let cookie = console_login(&t, "dash.first").await;

    // A new database is recomputed first: the page says its figures may be incomplete.
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("欢迎回来"), "the greeting stays");
    assert!(html.contains("id=\"dash-rebuilding\""), "{html}");
    t.app.analytics().rebuild_if_requested().await.unwrap();

    let s = seed(&t).await;
    let cookie = console_login(&t, "dash.admin").await;
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("id=\"dash-rebuilding\""));
    assert_eq!(attr(&html, "dashboard", "data-level"), "brand");
    assert!(html.contains(">全品牌<"), "the scope is named");
    // Greeting with the counts kept.
    assert_eq!(attr(&html, "count-stores", "id"), "count-stores");

    // The last 30 days by default, against the 30 before.
    assert_eq!(attr(&html, "dash-period", "data-days"), "30");
    let to = day_label(day_of(t.app.now()));
    assert_eq!(attr(&html, "dash-period", "data-to"), to);
    assert_eq!(attr(&html, "dash-to", "value"), to);

    // The tiles: two orders in the period, one before; money in yuan.
    assert_eq!(total(&html, "orders"), ("2".to_owned(), 2));
    assert_eq!(total(&html, "gmv_fen"), ("¥178.50".to_owned(), 17_850));
    assert_eq!(attr(&html, "tile-orders", "data-previous"), "1");
    assert_eq!(attr(&html, "tile-orders", "data-change-bp"), "10000");
    assert!(tile(&html, "orders").contains(">+100.0%<"));
    assert!(tile(&html, "gmv_fen").contains(">+78.5%<"));
    assert!(tile(&html, "gmv_fen").contains("data-tone=\"good\""));
    assert!(tile(&html, "net_gmv_fen").contains("¥178.50"));
    assert_eq!(total(&html, "contacts_added").1, 1);
    // Nothing before: no change to show.
    assert_eq!(attr(&html, "tile-contacts_added", "data-change-bp"), "");
    assert!(tile(&html, "contacts_added").contains(">—<"));
    assert_eq!(total(&html, "new_customers").1, 2);
    assert_eq!(total(&html, "pool").1, 2);
    for metric in [
        "coupons_claimed",
        "group_members",
        "refunded_fen",
        "net_adds",
    ] {
        assert!(html.contains(&format!("id=\"tile-{metric}\"")), "{metric}");
    }
    // Each tile's sparkline: one value per day, the orders on their days, a title to read.
    let spark = |metric: &str| -> Vec<i64> {
        let t = tile(&html, metric);
        let i = t.find("data-values=\"").unwrap() + "data-values=\"".len();
        t[i..i + t[i..].find('"').unwrap()]
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let orders = spark("orders");
    assert_eq!(orders.len(), 30);
    assert_eq!(orders.iter().sum::<i64>(), 2);
    let today_at = 29 - (day_of(t.app.now()) - day_of(s.today)) as usize;
    let yesterday_at = 29 - (day_of(t.app.now()) - day_of(s.yesterday)) as usize;
    assert_eq!((orders[yesterday_at], orders[today_at]), (1, 1));
    assert_eq!(spark("gmv_fen")[today_at], 12_900);
    assert!(tile(&html, "orders").contains("<title>订单数每日走势"));
    assert!(tile(&html, "orders").contains("role=\"img\""));
    // The labels in Chinese.
    for label in [
        "订单数",
        "成交额（元）",
        "私域客户数",
        "新增企微好友",
        "核销率",
    ] {
        assert!(html.contains(label), "{label}");
    }
    // Redemption (brand only): no claims, nothing to show.
    assert_eq!(attr(&html, "dash-redemption", "data-bp"), "");
    // Windows: the add was today.
    let windows = &html[html.find("id=\"dash-windows\"").unwrap()..];
    let added = &windows[windows.find("data-metric=\"contacts_added\"").unwrap()..];
    assert!(
        added.contains("<td data-window=\"today\">1</td>"),
        "{added}"
    );
    assert!(added.contains("<td data-window=\"last_30_days\">1</td>"));
    // Rankings: the channel and the guide with their add, orders and GMV.
    let channels = &html[html.find("id=\"dash-top-channels\"").unwrap()..];
    let row = &channels[channels
        .find(&format!("data-channel=\"{}\"", s.channel))
        .unwrap()..];
    assert!(row.contains("门店台卡 概览"));
    assert!(row.contains("<td data-col=\"contacts_added\">1</td>"));
    let guides = &html[html.find("id=\"dash-top-guides\"").unwrap()..];
    let row = &guides[guides.find(&format!("data-staff=\"{}\"", s.guide)).unwrap()..];
    assert!(row.contains("href=\"/console?from="));
    assert!(row.contains(&format!("&staff_id={}\"", s.guide)), "{row}");
    assert!(row.contains("<td data-col=\"orders\">1</td>"), "{row}");
    assert!(row.contains("129.00"));
    // When the figures were computed, in Shanghai time.
    assert_ne!(attr(&html, "dash-as-of", "data-followed-at"), "0");
    assert!(html.contains("数据更新于 20"), "a Shanghai time");
    // HQ picks a store; presets keep it.
    assert!(html.contains(&format!(
        "<option value=\"{}\">门店 DASH-1</option>",
        s.store
    )));
    assert!(html.contains("data-days=\"7\""));

    // One store: its figures, the contacts of its guides as its pool, no brand-only figures.
    let (status, html) = page(&t, &cookie, &format!("/console?store_id={}", s.store)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(attr(&html, "dashboard", "data-level"), "store");
    assert!(html.contains("门店：门店 DASH-1"));
    assert!(html.contains(&format!("<option value=\"{}\" selected>", s.store)));
    assert_eq!(total(&html, "orders").1, 2);
    assert_eq!(total(&html, "pool").1, 1);
    assert!(tile(&html, "pool").contains("企微好友数"));
    assert!(!html.contains("id=\"tile-new_customers\""));
    assert!(!html.contains("id=\"tile-coupons_claimed\""));
    assert!(!html.contains("id=\"dash-redemption\""));
    assert!(!html.contains("id=\"dash-top-channels\""));
    assert!(attr(&html, "dash-export", "href").contains(&format!("store_id={}", s.store)));
    // Another store has nothing; the empty "all stores" choice is the brand.
    let (_, html) = page(&t, &cookie, &format!("/console?store_id={}", s.other_store)).await;
    assert_eq!(total(&html, "orders").1, 0);
    assert!(html.contains("id=\"dash-top-guides-empty\""));
    let (status, html) = page(&t, &cookie, "/console?from=&to=&store_id=").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(attr(&html, "dashboard", "data-level"), "brand");

    // A period of two days: yesterday and today, against the two days before.
    let (from, to) = (day_label(day_of(s.yesterday)), day_label(day_of(s.today)));
    let q = format!("from={from}&to={to}");
    let (_, html) = page(&t, &cookie, &format!("/console?{q}")).await;
    assert_eq!(attr(&html, "dash-period", "data-days"), "2");
    assert_eq!(attr(&html, "dash-from", "value"), from);
    assert_eq!(total(&html, "orders").1, 2);
    assert_eq!(attr(&html, "tile-orders", "data-change-bp"), "");
    let export = attr(&html, "dash-export", "href").replace("&amp;", "&");
    assert_eq!(export, format!("/console/dashboard/export?{q}"));
    let xlsx = attr(&html, "dash-export-xlsx", "href").replace("&amp;", "&");
    assert_eq!(xlsx, format!("/console/dashboard/export?{q}&format=xlsx"));
    let r = t
        .client
        .get(t.url(&xlsx))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let sheet = crate::helpers::xlsx_download(r).await;
    assert_eq!(sheet.len(), 4, "a header, two days, the totals: {sheet:?}");
    assert_eq!(sheet[0][0], calamine::Data::String("日期".into()));

    // The export: a header of labels, a row per day, the totals; money in yuan.
    let r = t
        .client
        .get(t.url(&export))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let csv = csv_download(r).await;
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 4, "{csv}");
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header[0], "日期");
    let col = |label: &str| header.iter().position(|h| *h == label).expect(label);
    let (orders, gmv) = (col("订单数"), col("成交额（元）"));
    let cells = |i: usize| lines[i].split(',').collect::<Vec<_>>();
    assert_eq!(cells(1)[0], from);
    assert_eq!((cells(1)[orders], cells(1)[gmv]), ("1", "49.50"));
    assert_eq!(cells(2)[0], to);
    assert_eq!((cells(2)[orders], cells(2)[gmv]), ("1", "129.00"));
    assert_eq!(cells(3)[0], "合计");
    assert_eq!((cells(3)[orders], cells(3)[gmv]), ("2", "178.50"));

    // In English: the labels and the CSV's header.
    let en = format!("{cookie}; yutang_lang=en");
    let (_, html) = page(&t, &en, &format!("/console?{q}")).await;
    assert!(html.contains("lang=\"en\""));
    for label in [
        "Welcome back",
        "Orders",
        "GMV (CNY)",
        "Whole brand",
        "Top guides",
        "Export CSV",
    ] {
        assert!(html.contains(label), "{label}");
    }
    assert!(tile(&html, "orders").contains("<title>Orders per day"));
    let r = t
        .client
        .get(t.url(&export))
        .header("cookie", &en)
        .send()
        .await
        .unwrap();
    let csv = csv_download(r).await;
    assert!(csv.starts_with("Day,"), "{csv}");
    assert!(csv.contains("\r\nTotal,"), "{csv}");
}

async fn console_dashboard_keeps_store_managers_and_guides_to_their_scope(e: Engine) {
    let t = app(e).await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let s = seed(&t).await;

    // The store manager: their store, no store to pick, their guides ranked.
    let cookie = console_login(&t, "dash.manager").await;
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(attr(&html, "dashboard", "data-level"), "store");
    assert_eq!(attr(&html, "dash-scope", "data-store"), s.store.to_string());
    assert!(html.contains("门店：门店 DASH-1"));
    assert!(!html.contains("id=\"dash-store\""), "no store select");
    assert_eq!(total(&html, "orders").1, 2);
    assert!(html.contains(&format!("data-staff=\"{}\"", s.guide)));
    // One of their guides, with a way back to the store.
    let (status, html) = page(&t, &cookie, &format!("/console?staff_id={}", s.guide)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(attr(&html, "dashboard", "data-level"), "guide");
    assert!(html.contains("导购：dash.guide"));
    assert_eq!(total(&html, "orders"), ("1".to_owned(), 1));
    assert!(html.contains("id=\"dash-back\""));
    assert!(html.contains(&format!("name=\"staff_id\" value=\"{}\"", s.guide)));
    // Another store, or another store's guide: refused with the error page.
    for path in [
        format!("/console?store_id={}", s.other_store),
        format!("/console?staff_id={}", s.other_guide),
        format!("/console/dashboard/export?store_id={}", s.other_store),
    ] {
        let (status, html) = page(&t, &cookie, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("role=\"alert\""), "{path}: {html}");
        assert!(html.contains("你的角色无权执行此操作"), "{path}");
    }

    // The guide: their own figures only.
    let cookie = console_login(&t, "dash.guide").await;
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(attr(&html, "dashboard", "data-level"), "guide");
    assert_eq!(attr(&html, "dash-scope", "data-staff"), s.guide.to_string());
    assert!(html.contains("导购：dash.guide"));
    assert_eq!(total(&html, "orders"), ("1".to_owned(), 1));
    assert_eq!(total(&html, "gmv_fen"), ("¥129.00".to_owned(), 12_900));
    assert_eq!(total(&html, "contacts_added").1, 1);
    assert!(!html.contains("id=\"dash-store\""));
    assert!(!html.contains("id=\"dash-back\""));
    assert!(!html.contains("id=\"dash-top-channels\""));
    // Their own row is not a link to the page they are on.
    let guides = &html[html.find("id=\"dash-top-guides\"").unwrap()..];
    let guides = &guides[..guides.find("</table>").unwrap()];
    assert!(
        guides.contains(&format!("data-staff=\"{}\"", s.guide)),
        "{guides}"
    );
    assert!(!guides.contains("staff_id="), "{guides}");
    let r = t
        .client
        .get(t.url("/console/dashboard/export"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let csv = csv_download(r).await;
    let last = csv.trim_end().rsplit("\r\n").next().unwrap().to_owned();
    assert!(last.starts_with("合计,"), "{last}");
    assert!(last.contains(",129.00,"), "{last}");
    for path in [
        format!("/console?staff_id={}", s.other_guide),
        format!("/console?store_id={}", s.store),
    ] {
        let (status, _) = page(&t, &cookie, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
}

async fn console_dashboard_refuses_bad_addresses_with_the_error_page(e: Engine) {
    let t = app(e).await;
    t.staff("dash.admin", "admin", None).await;
    let cookie = console_login(&t, "dash.admin").await;
    let zh = |code: &str| yutang_core::error_codes::find(code).expect(code).zh;
    for (path, status, code) in [
        (
            "/console?from=2026-13-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date",
        ),
        (
            "/console?from=yesterday",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date",
        ),
        (
            "/console?from=2026-05-02&to=2026-05-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_period",
        ),
        (
            "/console?from=2024-01-01&to=2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_period",
        ),
        (
            "/console?store_id=abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_form",
        ),
        (
            "/console?page=2",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            "/console?store_id=1&staff_id=1",
            StatusCode::UNPROCESSABLE_ENTITY,
            "conflicting_filters",
        ),
        (
            "/console?store_id=999999",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/console/dashboard/export?to=2026-02-30",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date",
        ),
    ] {
        let r = t
            .client
            .get(t.url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!(
                "<div class=\"flash bad\" role=\"alert\">{}</div>",
                zh(code)
            )),
            "{path}: {html}"
        );
    }
    // Without a session: the sign-in page first, as everywhere in the console.
    let r = t
        .client
        .get(t.url("/console/dashboard/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
