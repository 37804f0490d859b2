//! The console's metrics page (指标, issue #24 items 2 and 3): customers, WeCom adds through
//! the callback, a group join and orders written through the API, the rollups brought current
//! by hand (`analytics.follow` is off), then `/console/metrics` shows each metric with its
//! definition, the funnel as bars with its breakdown, the cohort matrix, segments, stores and
//! guides with the figures the data makes; every table downloads as CSV in the page's
//! language; a store manager and a guide see their own scope only; bad addresses get the
//! console's error page.

use reqwest::StatusCode;
use serde_json::json;
use yutang_core::analytics::facts::{month_bounds, month_label, month_of};

use crate::acquisition::{add, scalar};
use crate::console::{console_login, page};
use crate::customers::customer_with_phone;
use crate::dashboard::order;
use crate::helpers::{Engine, TestApp, csv_download};
use crate::wecom_sync::{customer, guide, with_fake_and};

both_engines!(
    console_metrics_show_the_figures_with_their_definitions,
    console_metrics_keep_store_managers_and_guides_to_their_scope,
    console_metrics_refuse_bad_addresses_with_the_error_page,
);

/// The seeded data's ids.
struct Seeded {
    store_a: i64,
    store_b: i64,
    g1: i64,
    g2: i64,
    /// `YYYY-MM` of the current month.
    this: String,
}

/// Stores A and B with a guide each (linked to WeCom) and a manager for A. This month: p
/// buys ¥30.00 at A and never joins the pool; x1 adds g1 on WeCom, then orders ¥60.00 and
/// ¥70.00 with g1 at A; x2 adds g2, joins a group and orders ¥20.00 with g2 at B. Then the
/// rollups are brought current.
async fn seed(e: Engine) -> (TestApp, Seeded) {
    let (t, fake, target) = with_fake_and(e, |s| {
        s.analytics.follow = false;
        s.webhooks.deliver = false;
    })
    .await;
    let store_a = t.store("CM-A").await;
    let store_b = t.store("CM-B").await;
    let g1 = guide(&t, store_a, "zhangwei").await;
    let g2 = guide(&t, store_b, "lina").await;
    t.staff("cm.admin", "admin", None).await;
    t.staff("cm.manager", "store_manager", Some(store_a)).await;
    let now = t.app.now();
    let (month_start, _) = month_bounds(month_of(now));
    let early = month_start + (now - month_start) / 2;

    let p = customer_with_phone(&t, "13900001001", "路人甲").await;
    order(&t, "CM-P1", p, 3_000, early, Some(store_a), None).await;
    let (e1, _) = add(&t, &fake, &target, "zhangwei", "小林", None).await;
    let x1 = customer(&t, &e1).await.expect("x1");
    let (e2, _) = add(&t, &fake, &target, "lina", "小郑", None).await;
    let x2 = customer(&t, &e2).await.expect("x2");
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [{"id": "cm-j1", "kind": "join_group", "customer_id": x2,
                "detail": {"chat_id": "cm-g"}}]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let after = t.app.now();
    order(&t, "CM-X1", x1, 6_000, after, Some(store_a), Some(g1)).await;
    order(&t, "CM-X2", x1, 7_000, after, Some(store_a), Some(g1)).await;
    order(&t, "CM-X3", x2, 2_000, after, Some(store_b), Some(g2)).await;
    t.app.analytics().follow().await.unwrap();
    let this = month_label(month_of(now));
    (
        t,
        Seeded {
            store_a,
            store_b,
            g1,
            g2,
            this,
        },
    )
}

/// The opening tag of the element with `id`.
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

/// The table with `id`, up to its end.
fn table<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table #{id} in\n{html}"));
    let rest = &html[start..];
    &rest[..rest.find("</table>").unwrap()]
}

/// The row of `table` whose opening tag holds `marker` (e.g. `data-metric="buyers"`).
fn row<'a>(table: &'a str, marker: &str) -> &'a str {
    let start = table
        .find(&format!("<tr {marker}"))
        .unwrap_or_else(|| panic!("no row {marker} in\n{table}"));
    let rest = &table[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

/// The text of the cell of `row` marked `data-col="col"`.
fn col(row: &str, col: &str) -> String {
    let key = format!("data-col=\"{col}\"");
    let at = row
        .find(&key)
        .unwrap_or_else(|| panic!("no column {col} in {row}"));
    let rest = &row[at..];
    let open = rest.find('>').unwrap() + 1;
    rest[open..open + rest[open..].find('<').unwrap()].to_owned()
}

/// The shown total of a metric line and its raw `data-total`.
fn total(html: &str, metric: &str) -> (String, String) {
    let r = row(
        table(html, "m-metrics"),
        &format!("data-metric=\"{metric}\""),
    );
    let key = "data-total=\"";
    let i = r.find(key).unwrap() + key.len();
    let raw = r[i..i + r[i..].find('"').unwrap()].to_owned();
    let key = "data-role=\"total\"><b>";
    let i = r.find(key).unwrap() + key.len();
    (r[i..i + r[i..].find('<').unwrap()].to_owned(), raw)
}

async fn csv(t: &TestApp, cookie: &str, path: &str) -> Vec<Vec<String>> {
    let r = t
        .client
        .get(t.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let body = csv_download(r).await;
    body.trim_end()
        .split("\r\n")
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

async fn console_metrics_show_the_figures_with_their_definitions(e: Engine) {
    let (t, s) = seed(e).await;
    let cookie = console_login(&t, "cm.admin").await;

    // A new database is recomputed first: the page says its figures may be incomplete.
    let (status, html) = page(&t, &cookie, "/console/metrics").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"m-rebuilding\""), "{html}");
    t.app.analytics().rebuild_if_requested().await.unwrap();

    // The nav leads here, next to the overview.
    let (status, html) = page(&t, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    let nav = &html[html.find("id=\"side-nav\"").unwrap()..];
    let home = nav.find("href=\"/console\"").unwrap();
    let metrics = nav
        .find("href=\"/console/metrics\"")
        .expect("the nav entry");
    assert!(metrics > home && nav[home..metrics].matches("<a ").count() == 1);
    assert!(nav[metrics..].starts_with("href=\"/console/metrics\" >指标</a>"));

    // The last six months by default, the brand, a 30-day first-order window.
    let (status, html) = page(&t, &cookie, "/console/metrics").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("id=\"m-rebuilding\""));
    assert!(
        html.contains("href=\"/console/metrics\" class=\"on\""),
        "the nav marks it"
    );
    assert_eq!(attr(&html, "metrics", "data-level"), "brand");
    assert_eq!(attr(&html, "metrics", "data-months"), "6");
    assert_eq!(attr(&html, "metrics", "data-to"), s.this);
    assert_eq!(attr(&html, "m-to", "value"), s.this);
    assert_eq!(attr(&html, "m-to", "type"), "month");
    assert_eq!(attr(&html, "metrics", "data-first-order-days"), "30");
    assert!(html.contains("<option value=\"30\" selected>30 天</option>"));
    assert!(html.contains(">全品牌<"));
    assert!(html.contains(&format!(
        "<option value=\"{}\">门店 CM-A</option>",
        s.store_a
    )));

    // This month only, a one-day window.
    let q = format!("from={0}&to={0}&first_order_days=1", s.this);
    let (status, html) = page(&t, &cookie, &format!("/console/metrics?{q}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(attr(&html, "metrics", "data-months"), "1");
    assert!(html.contains("<option value=\"1\" selected>1 天</option>"));
    // The metric lines: names, their definitions on the page, the healthy value.
    let m = table(&html, "m-metrics");
    let traffic = row(m, "data-metric=\"traffic_rate\"");
    assert!(traffic.contains(">引流率</b>"), "{traffic}");
    assert!(
        traffic.contains("data-role=\"definition\">当月到店（下单）客户中，月初还不在私域"),
        "{traffic}"
    );
    assert!(
        traffic.contains("data-role=\"healthy\">健康值 ≈ 15%<"),
        "{traffic}"
    );
    assert!(row(m, "data-metric=\"first_order_rate\"").contains("健康值 ≈ 20%"));
    assert!(!row(m, "data-metric=\"buyers\"").contains("data-role=\"healthy\""));
    for (name, def) in [
        ("首购开单率", "入池后 N 天内完成首单"),
        ("复购率", "之前月份已经下过单的老客比例"),
        ("下单客户数", "按月去重"),
        ("老带新人数", "被老客邀请绑定"),
    ] {
        assert!(m.contains(&format!(">{name}</b>")), "{name}");
        assert!(m.contains(def), "{def}");
    }
    // Buyers p, x1 and x2; four orders; ¥180.00; all three outside the pool when the month
    // began, x1 and x2 brought in; both new members ordered within a day, x1 twice.
    assert_eq!(total(&html, "buyers"), ("3".into(), "3".into()));
    assert_eq!(total(&html, "orders"), ("4".into(), "4".into()));
    assert_eq!(
        total(&html, "net_sales_fen"),
        ("180.00".into(), "18000".into())
    );
    assert_eq!(
        total(&html, "traffic_rate"),
        ("66.66%".into(), "6666".into())
    );
    assert_eq!(
        total(&html, "first_order_rate"),
        ("100.00%".into(), "10000".into())
    );
    assert_eq!(
        total(&html, "second_order_rate"),
        ("50.00%".into(), "5000".into())
    );
    assert_eq!(
        total(&html, "repurchase_rate"),
        ("0.00%".into(), "0".into())
    );
    assert_eq!(total(&html, "purchase_frequency_milli").0, "1.333");
    assert_eq!(total(&html, "spend_per_buyer_fen").0, "60.00");
    assert!(row(m, "data-metric=\"buyers\"").contains(&format!(
        "data-month=\"{}\" data-value=\"3\">3</td>",
        s.this
    )));
    // The one metric not measurable yet: marked, defined, with the reason in Chinese.
    let u = table(&html, "m-unavailable");
    let r = row(u, "data-metric=\"interaction_rate\"");
    assert!(r.contains("<b>互动率</b>"), "{r}");
    assert!(r.contains("data-role=\"unavailable\">暂无数据<"), "{r}");
    assert!(r.contains("目前无法统计"), "{r}");
    assert!(r.contains("会话存档"), "{r}");
    assert!(!u.contains("content_reach"), "{u}");
    // 内容种草 is measured: a line with its definition (no tracked link was opened here).
    let r = row(m, "data-metric=\"content_reach\"");
    assert!(r.contains(">内容种草</b>"), "{r}");
    assert!(r.contains("雷达链接"), "{r}");
    assert!(row(m, "data-metric=\"content_opens_per_reader_milli\"").contains("人均打开次数"));
    // The funnel: 2 joined, 1 in a group, 2 first orders, 1 second; bars by share of joined.
    let funnel = &html[html.find("id=\"m-funnel\"").unwrap()..];
    let funnel = &funnel[..funnel.find("</div>\n</div>").unwrap_or(funnel.len())];
    for (step, count, width) in [
        ("joined", 2, "100.0"),
        ("joined_group", 1, "50.0"),
        ("first_order", 2, "100.0"),
        ("second_order", 1, "50.0"),
    ] {
        let at = funnel
            .find(&format!("data-step=\"{step}\" data-count=\"{count}\""))
            .unwrap_or_else(|| panic!("{step} {count} in {funnel}"));
        assert!(
            funnel[at..].contains(&format!("style=\"width:{width}%\"")),
            "{step}"
        );
    }
    assert!(funnel.contains(">入群</div>"));
    assert!(funnel.contains("data-role=\"step-rate\">占首单 50.00%"));
    // Only the second order is compared with a step before (the first orders).
    assert_eq!(funnel.matches("data-role=\"step-rate\"").count(), 1);
    // The contacts kept: both customers of the month are still contacts.
    let kept = table(&html, "m-kept");
    assert!(kept.contains("data-k=\"0\" data-count=\"2\""), "{kept}");
    // Its breakdown: by channel (none) and by store, one each for A and B.
    let f = table(&html, "m-funnels");
    let a = row(f, &format!("data-by=\"store\" data-id=\"{}\"", s.store_a));
    assert!(a.contains("门店 CM-A"), "{a}");
    assert!(a.contains(&format!("store_id={}\"", s.store_a)), "{a}");
    assert_eq!(
        (
            col(a, "joined"),
            col(a, "first_order"),
            col(a, "second_order")
        ),
        ("1".into(), "1".into(), "1".into())
    );
    let b = row(f, &format!("data-by=\"store\" data-id=\"{}\"", s.store_b));
    assert_eq!(
        (col(b, "joined"), col(b, "joined_group")),
        ("1".into(), "1".into())
    );
    let none = row(f, "data-by=\"channel\" data-id=\"0\"");
    assert!(none.contains("无渠道"), "{none}");
    assert_eq!(col(none, "joined"), "2");
    // The cohort matrix: this month's 2 both ordered in month 0; month 1 not begun.
    let c = table(&html, "m-cohorts");
    assert!(c.contains("第 0 月</th>") && c.contains("第 12 月</th>"));
    assert!(c.contains(">1 天内首单</th>"));
    let r = row(c, &format!("data-month=\"{}\"", s.this));
    assert!(r.contains("data-joined=\"2\""), "{r}");
    assert_eq!(col(r, "within"), "2 ");
    assert!(
        r.contains(
            "data-k=\"0\" data-count=\"2\" data-share-bp=\"10000\" \
             style=\"background:rgba(11,122,117,0.90);color:#fff\"><span data-role=\"count\">2</span><small>100.00%</small>"
        ),
        "{r}"
    );
    assert!(r.contains("<td class=\"m-cell\" data-k=\"1\"></td>"), "{r}");
    // The window of a day after the month's end has not closed: 成熟中.
    assert!(r.contains("data-role=\"maturing\""), "{r}");
    assert!(r.contains(">成熟中</span>"));
    // Segments: everyone in no tier and holding no card.
    let live = scalar(
        &t,
        "SELECT COUNT(*) FROM customers WHERE merged_into IS NULL",
    )
    .await;
    let g = table(&html, "m-segments");
    for marker in [
        "data-by=\"tier\" data-id=\"0\"",
        "data-by=\"card\" data-id=\"0\"",
    ] {
        let r = row(g, marker);
        assert_eq!(col(r, "customers"), live.to_string(), "{r}");
        assert_eq!(
            (col(r, "buyers"), col(r, "orders")),
            ("3".into(), "4".into())
        );
        assert_eq!(col(r, "net_sales"), "180.00");
    }
    assert!(g.contains("<td>无等级</td>") && g.contains("<td>非付费会员</td>"));
    // Stores: A has p and x1 (three orders, ¥160.00, one of two brought in), B has x2.
    let st = table(&html, "m-stores");
    let a = row(st, &format!("data-store=\"{}\"", s.store_a));
    assert_eq!(
        (col(a, "buyers"), col(a, "orders"), col(a, "net_sales")),
        ("2".into(), "3".into(), "160.00".into())
    );
    assert_eq!(col(a, "traffic_rate"), "50.00%");
    assert_eq!(col(a, "repurchase_rate"), "0.00%");
    let b = row(st, &format!("data-store=\"{}\"", s.store_b));
    assert_eq!(
        (col(b, "buyers"), col(b, "traffic_rate")),
        ("1".into(), "100.00%".into())
    );
    // Guides: g1 with x1's two orders, g2 with x2's; each links to their own page.
    let gd = table(&html, "m-guides");
    let r1 = row(gd, &format!("data-staff=\"{}\"", s.g1));
    assert_eq!(
        (col(r1, "buyers"), col(r1, "orders"), col(r1, "net_sales")),
        ("1".into(), "2".into(), "130.00".into())
    );
    assert!(r1.contains(&format!("&staff_id={}\"", s.g1)), "{r1}");
    assert_eq!(
        col(row(gd, &format!("data-staff=\"{}\"", s.g2)), "orders"),
        "1"
    );
    assert_ne!(attr(&html, "m-as-of", "data-followed-at"), "0");

    // One store picked by HQ: its figures, no brand-only sections.
    let (status, html) = page(
        &t,
        &cookie,
        &format!("/console/metrics?{q}&store_id={}", s.store_a),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(attr(&html, "metrics", "data-level"), "store");
    assert!(html.contains("门店：门店 CM-A"));
    assert!(html.contains(&format!("<option value=\"{}\" selected>", s.store_a)));
    assert_eq!(total(&html, "buyers").1, "2");
    assert!(!html.contains("id=\"m-segments\""));
    assert!(!html.contains("data-metric=\"shares\""));
    assert!(attr(&html, "m-export-stores", "href").contains(&format!("store_id={}", s.store_a)));
    // A blank form is the brand's default.
    let (status, html) = page(
        &t,
        &cookie,
        "/console/metrics?from=&to=&store_id=&first_order_days=",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(attr(&html, "metrics", "data-level"), "brand");

    // The exports: each table as CSV with a BOM, the filters kept, the expected header.
    let (_, html) = page(&t, &cookie, &format!("/console/metrics?{q}")).await;
    let href =
        |table: &str| attr(&html, &format!("m-export-{table}"), "href").replace("&amp;", "&");
    assert_eq!(
        href("metrics"),
        format!("/console/metrics/export?table=metrics&{q}")
    );
    let rows = csv(&t, &cookie, &href("metrics")).await;
    assert_eq!(rows[0], ["指标", "合计", s.this.as_str(), "定义"]);
    let xlsx = attr(&html, "m-export-cohorts-xlsx", "href").replace("&amp;", "&");
    assert_eq!(xlsx, format!("{}&format=xlsx", href("cohorts")));
    let r = t
        .client
        .get(t.url(&xlsx))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let sheet = crate::helpers::xlsx_download(r).await;
    let cohort_csv = csv(&t, &cookie, &href("cohorts")).await;
    assert_eq!(sheet.len(), cohort_csv.len());
    let buyers = rows.iter().find(|r| r[0] == "下单客户数").expect("buyers");
    assert_eq!((buyers[1].as_str(), buyers[2].as_str()), ("3", "3"));
    let traffic = rows.iter().find(|r| r[0] == "引流率").expect("traffic");
    assert_eq!(traffic[1], "66.66%");
    let rows = csv(&t, &cookie, &href("funnels")).await;
    assert_eq!(rows[0], ["维度", "名称", "入池", "入群", "首单", "二单"]);
    assert_eq!(rows[1][0], "brand");
    assert_eq!(rows[1][2..], ["2", "1", "2", "1"]);
    let rows = csv(&t, &cookie, &href("cohorts")).await;
    assert_eq!(
        rows[0][..4],
        ["入池月份", "入池人数", "1 天内首单", "第 0 月下单"]
    );
    assert_eq!(rows[0][3 + 12], "第 12 月下单", "{:?}", rows[0]);
    assert_eq!(rows[1][..4], [s.this.as_str(), "2", "2", "2"]);
    assert_eq!(rows[1][4], "");
    let rows = csv(&t, &cookie, &href("segments")).await;
    assert_eq!(rows[0][..3], ["分组", "名称", "客户数"]);
    assert_eq!(rows.len(), 3);
    let rows = csv(&t, &cookie, &href("stores")).await;
    assert_eq!(
        rows[0],
        [
            "ID",
            "名称",
            "下单客户",
            "订单数",
            "净销售额（元）",
            "引流率",
            "复购率"
        ]
    );
    let a = rows
        .iter()
        .find(|r| r[0] == s.store_a.to_string())
        .expect("store A");
    assert_eq!(a[2..5], ["2", "3", "160.00"]);
    let rows = csv(&t, &cookie, &href("guides")).await;
    assert_eq!(rows[0][..2], ["ID", "名称"]);
    let g1 = rows.iter().find(|r| r[0] == s.g1.to_string()).expect("g1");
    assert_eq!(g1[2..5], ["1", "2", "130.00"]);
    // Without a table: the metric lines.
    let rows = csv(&t, &cookie, &format!("/console/metrics/export?{q}")).await;
    assert_eq!(rows[0][0], "指标");

    // In English: names, definitions, labels and the CSV header.
    let en = format!("{cookie}; yutang_lang=en");
    let (_, html) = page(&t, &en, &format!("/console/metrics?{q}")).await;
    assert!(html.contains("lang=\"en\""));
    for label in [
        ">Traffic-to-pool rate</b>",
        "About 15% a month is healthy.",
        "Healthy ≈ 15%",
        "No data yet",
        "Joined a group",
        "Month 12",
        "Maturing",
        "Export CSV",
        ">Metrics</a>",
    ] {
        assert!(html.contains(label), "{label}");
    }
    let rows = csv(
        &t,
        &en,
        &format!("/console/metrics/export?table=metrics&{q}"),
    )
    .await;
    assert_eq!(rows[0][..2], ["Metric", "Total"]);
    assert!(rows.iter().any(|r| r[0] == "Buyers" && r[1] == "3"));
}

async fn console_metrics_keep_store_managers_and_guides_to_their_scope(e: Engine) {
    let (t, s) = seed(e).await;
    t.app.analytics().rebuild_if_requested().await.unwrap();
    let q = format!("from={0}&to={0}&first_order_days=1", s.this);

    // The store manager: their store, no store to pick, nothing of store B.
    let cookie = console_login(&t, "cm.manager").await;
    let (status, html) = page(&t, &cookie, &format!("/console/metrics?{q}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(attr(&html, "metrics", "data-level"), "store");
    assert_eq!(attr(&html, "m-scope", "data-store"), s.store_a.to_string());
    assert!(html.contains("门店：门店 CM-A"));
    assert!(!html.contains("id=\"m-store\""), "no store select");
    assert!(!html.contains("门店 CM-B"), "no other store");
    assert!(!html.contains(&format!("data-store=\"{}\"", s.store_b)));
    assert!(!html.contains(&format!("data-staff=\"{}\"", s.g2)));
    assert!(!html.contains("id=\"m-segments\""));
    assert_eq!(total(&html, "buyers").1, "2");
    assert_eq!(total(&html, "orders").1, "3");
    // Their store's funnel, broken down by its guides.
    let funnel = &html[html.find("id=\"m-funnel\"").unwrap()..];
    assert!(funnel.contains("data-step=\"joined\" data-count=\"1\""));
    let f = table(&html, "m-funnels");
    assert!(f.contains(&format!("data-by=\"guide\" data-id=\"{}\"", s.g1)));
    assert!(!f.contains("data-by=\"store\""));
    let st = table(&html, "m-stores");
    assert_eq!(st.matches("<tr data-store=").count(), 1);
    assert_eq!(
        col(row(st, &format!("data-store=\"{}\"", s.store_a)), "buyers"),
        "2"
    );
    // One of their guides, with the way back.
    let (status, html) = page(
        &t,
        &cookie,
        &format!("/console/metrics?{q}&staff_id={}", s.g1),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(attr(&html, "metrics", "data-level"), "guide");
    assert!(html.contains("id=\"m-back\""));
    assert!(html.contains(&format!("name=\"staff_id\" value=\"{}\"", s.g1)));
    assert_eq!(total(&html, "orders").1, "2");
    // Another store or its guide: refused with the error page, the export too.
    for path in [
        format!("/console/metrics?store_id={}", s.store_b),
        format!("/console/metrics?staff_id={}", s.g2),
        format!(
            "/console/metrics/export?table=stores&store_id={}",
            s.store_b
        ),
    ] {
        let (status, html) = page(&t, &cookie, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("你的角色无权执行此操作"), "{path}: {html}");
    }
    // The manager's stores export has their store only.
    let rows = csv(
        &t,
        &cookie,
        &format!("/console/metrics/export?table=stores&{q}"),
    )
    .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], s.store_a.to_string());

    // The guide: their own figures, no stores, no store to pick.
    let cookie = console_login(&t, "g.lina").await;
    let (status, html) = page(&t, &cookie, &format!("/console/metrics?{q}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(attr(&html, "metrics", "data-level"), "guide");
    assert_eq!(attr(&html, "m-scope", "data-staff"), s.g2.to_string());
    assert!(html.contains("导购：g.lina"), "{html}");
    assert!(!html.contains("id=\"m-store\""));
    assert!(!html.contains("id=\"m-stores\""));
    assert!(!html.contains("id=\"m-back\""));
    assert_eq!(total(&html, "buyers").1, "1");
    assert_eq!(total(&html, "net_sales_fen").0, "20.00");
    assert!(html.contains("data-step=\"joined_group\" data-count=\"1\""));
    let gd = table(&html, "m-guides");
    let own = row(gd, &format!("data-staff=\"{}\"", s.g2));
    assert!(
        !own.contains("staff_id="),
        "their own row is no link: {own}"
    );
    assert!(!html.contains(&format!("data-staff=\"{}\"", s.g1)));
    for path in [
        format!("/console/metrics?staff_id={}", s.g1),
        format!("/console/metrics?store_id={}", s.store_b),
    ] {
        let (status, _) = page(&t, &cookie, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let rows = csv(
        &t,
        &cookie,
        &format!("/console/metrics/export?table=guides&{q}"),
    )
    .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], s.g2.to_string());
}

async fn console_metrics_refuse_bad_addresses_with_the_error_page(e: Engine) {
    let (t, _) = seed(e).await;
    let cookie = console_login(&t, "cm.admin").await;
    let zh = |code: &str| yutang_core::error_codes::find(code).expect(code).zh;
    for (path, status, code) in [
        (
            "/console/metrics?from=2026-13",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_month",
        ),
        (
            "/console/metrics?from=yesterday",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_month",
        ),
        (
            "/console/metrics?from=2026-06&to=2026-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_month_range",
        ),
        (
            "/console/metrics?from=2020-01&to=2026-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_month_range",
        ),
        (
            "/console/metrics?first_order_days=5",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_count",
        ),
        (
            "/console/metrics?first_order_days=abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_form",
        ),
        (
            "/console/metrics?store_id=abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_form",
        ),
        (
            "/console/metrics?page=2",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            "/console/metrics?table=metrics",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            "/console/metrics?store_id=1&staff_id=1",
            StatusCode::UNPROCESSABLE_ENTITY,
            "conflicting_filters",
        ),
        (
            "/console/metrics?store_id=999999",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/console/metrics/export?table=nope",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
        ),
        (
            "/console/metrics/export?table=cohorts&to=2026-02-30",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_month",
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
    for path in ["/console/metrics", "/console/metrics/export?table=stores"] {
        let r = t.client.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
    }
}
