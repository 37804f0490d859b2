//! Issue #18, the customer list an operations team works in: sorting (API and console),
//! the audited export of every page as filtered and sorted, saved filters (each person's
//! own), and bulk actions on ticked rows (tag, issue a coupon) within the caller's scope.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console::{console_login, csrf_in, page};
use crate::customers::customer_with_phone;
use crate::helpers::{Engine, TestApp, error_of, spawn_app, spawn_with};
use crate::segments::json_ok;

both_engines!(
    customer_list_sorts_exports_and_refuses_bad_sorts,
    list_totals_stop_counting_at_the_cap,
    keyset_pages_walk_every_order_both_ways,
    console_list_sorts_saves_filters_and_acts_on_ticked_rows,
    console_promotions_filter_by_phase_and_issue_to_a_segment,
    console_promotions_page_each_table,
    console_promotions_save_drafts_and_publish,
);

const DAY: i64 = 86_400_000;

/// Three customers in 杭州 with 0, 1 and 2 orders (spend 0, 99, 198 yuan) and one in 苏州.
async fn seed(t: &TestApp) -> [i64; 4] {
    let mut ids = [0; 4];
    for (i, (phone, name)) in [
        ("13900000001", "零单"),
        ("13900000002", "一单"),
        ("13900000003", "两单"),
        ("13900000004", "外城"),
    ]
    .into_iter()
    .enumerate()
    {
        ids[i] = customer_with_phone(t, phone, name).await;
        let city = if i == 3 { "苏州" } else { "杭州" };
        let r = t
            .send_json(
                reqwest::Method::PATCH,
                &format!("/api/v1/customers/{}", ids[i]),
                &t.admin,
                json!({"city": city}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    for (n, (customer, day)) in [
        (ids[1], "2026-03-01"),
        (ids[2], "2026-03-02"),
        (ids[2], "2026-03-05"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = t
            .post(
                "/api/v1/orders",
                &t.admin,
                json!({"external_id": format!("L{n}"), "customer_id": customer, "channel": "store",
                       "paid_at": format!("{day}T12:00:00+08:00"),
                       "lines": [{"sku": "CHERRY", "name": "车厘子", "quantity": 1, "unit_price_fen": 9900}]}),
            )
            .await;
        assert!(r.status().is_success(), "{:?}", r.text().await);
    }
    ids
}

fn ids_of(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn customer_list_sorts_exports_and_refuses_bad_sorts(e: Engine) {
    let t = spawn_app(e).await;
    let [zero, one, two, other] = seed(&t).await;
    let list = |sort: &'static str| {
        let t = &t;
        async move {
            let v = json_ok(
                t.get(
                    &format!("/api/v1/customers?city=%E6%9D%AD%E5%B7%9E&sort={sort}"),
                    &t.admin,
                )
                .await,
                StatusCode::OK,
            )
            .await;
            ids_of(&v)
        }
    };
    assert_eq!(list("-total_spend").await, [two, one, zero]);
    assert_eq!(list("total_spend").await, [zero, one, two]);
    assert_eq!(list("-order_count").await, [two, one, zero]);
    // Customers without an order come last in either direction.
    assert_eq!(list("-last_order").await, [two, one, zero]);
    assert_eq!(list("last_order").await, [one, two, zero]);
    assert_eq!(list("id").await, [zero, one, two]);
    assert_eq!(list("").await, [two, one, zero], "newest first by default");
    let (status, code, field) =
        error_of(t.get("/api/v1/customers?sort=name", &t.admin).await).await;
    assert_eq!(
        (status, code.as_str(), field.as_deref()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_sort",
            Some("sort")
        )
    );

    // The export: every customer the filters pick, in the list's order, audited.
    let r = t
        .post(
            "/api/v1/customers/export",
            &t.admin,
            json!({"city": "杭州", "sort": "-total_spend"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(
        rows[0]
            .trim_start_matches('\u{feff}')
            .starts_with("customer_id,name,phone"),
        "{csv}"
    );
    let exported: Vec<i64> = rows[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(exported, [two, one, zero]);
    assert!(
        !csv.contains(&other.to_string())
            || !rows[1..]
                .iter()
                .any(|l| l.starts_with(&format!("{other},")))
    );
    let audit = json_ok(
        t.get("/api/v1/audit?action=customers_exported", &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    let entry = &audit["items"][0];
    assert_eq!(entry["action"], "customers_exported", "{audit}");
    let detail: Value = serde_json::from_str(entry["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["rows"], 3);
    assert_eq!(detail["city"], "杭州");
    assert_eq!(detail["sort"], "-total_spend");
    // Strict body; a bad sort is named.
    let (status, _, _) = error_of(
        t.post(
            "/api/v1/customers/export",
            &t.admin,
            json!({"town": "杭州"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, code, field) = error_of(
        t.post(
            "/api/v1/customers/export",
            &t.admin,
            json!({"sort": "-phone"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("invalid_sort", Some("sort"))
    );
    // A guide exports only their own customers (none here), phones masked.
    t.staff("cl.guide", "guide", Some(t.store("CL1").await))
        .await;
    let guide = t.login("cl.guide").await;
    let r = t.post("/api/v1/customers/export", &guide, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap().lines().count(), 1, "header only");
}

/// How many coupons a customer holds (the staff read of their coupons).
/// `(total, total_exact, rows)` of `GET /api/v1/customers{query}`.
async fn list_total(t: &TestApp, query: &str) -> (i64, bool, usize) {
    let r = t.get(&format!("/api/v1/customers{query}"), &t.admin).await;
    let v = json_ok(r, StatusCode::OK).await;
    (
        v["total"].as_i64().unwrap(),
        v["total_exact"].as_bool().unwrap(),
        v["items"].as_array().unwrap().len(),
    )
}

/// Issue #17: a list's total is counted only up to `limits.list_count_cap` matches or one
/// past the page, whichever is further; beyond, it is a lower bound (`total_exact` false)
/// that still reaches past the page, and the console shows it with a "+" and a next page.
async fn list_totals_stop_counting_at_the_cap(e: Engine) {
    let t = spawn_with(e, |s| s.limits.list_count_cap = 3).await;
    seed(&t).await; // 4 customers: 3 in 杭州, 1 in 苏州
    // Page 1 of 2 rows: counting stops at the cap (3), a lower bound past the page.
    assert_eq!(list_total(&t, "?page_size=2").await, (3, false, 2));
    // Page 2 of 2 rows needs 5 counted to know of a page 3: all 4 are, exactly.
    assert_eq!(list_total(&t, "?page_size=2&page=2").await, (4, true, 2));
    // The default page (20 rows) counts up to 21: exact.
    assert_eq!(list_total(&t, "").await, (4, true, 4));
    // Filters count their own matches: 3 in 杭州 reach the cap, 1 in 苏州 does not.
    let hz = "?page_size=2&city=%E6%9D%AD%E5%B7%9E";
    assert_eq!(list_total(&t, hz).await, (3, false, 2));
    let sz = "?page_size=2&city=%E8%8B%8F%E5%B7%9E";
    assert_eq!(list_total(&t, sz).await, (1, true, 1));

    // The console pages 50 rows: with 52 customers its first page counts to 51 and says so.
    for i in 0..48 {
        customer_with_phone(&t, &format!("1380000{i:04}"), &format!("批量{i}")).await;
    }
    t.staff("cap.admin", "admin", None).await;
    let cookie = console_login(&t, "cap.admin").await;
    let (status, html) = page(&t, &cookie, "/console/customers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("共 51+ · 1 / 2+ 页"),
        "a capped total: {html}"
    );
    assert!(html.contains("page=2"), "a next page link");
    let (status, html) = page(&t, &cookie, "/console/customers?page=2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("共 52 · 2 / 2 页"),
        "the last page counts exactly"
    );
    // 下一页 reads the page after the first page's last row (a keyset link), showing the
    // rows the offset page shows; its 上一页 goes back to the plain first page.
    let (_, first) = page(&t, &cookie, "/console/customers").await;
    let next = pager_link(&first, "下一页").expect("a next link");
    assert!(next.contains("after=") && next.contains("page=2"), "{next}");
    let (status, by_key) = page(&t, &cookie, &next).await;
    assert_eq!(status, StatusCode::OK);
    let pager = &by_key[by_key.find("class=\"pager\"").unwrap()..];
    // A keyset page counts up to the cap and no further (not up to its own position): a
    // lower bound, and at least as many pages as its number.
    assert!(
        by_key.contains("共 51+ · 2 / 2+ 页"),
        "{}",
        &pager[..400.min(pager.len())]
    );
    assert_eq!(row_ids(&by_key), row_ids(&html));
    assert_eq!(row_ids(&by_key).len(), 2);
    assert_eq!(pager_link(&by_key, "下一页"), None, "the last page");
    let prev = pager_link(&by_key, "上一页").expect("a previous link");
    assert!(
        !prev.contains("before="),
        "page 1 needs no position: {prev}"
    );
    let (_, back) = page(&t, &cookie, &prev).await;
    assert_eq!(row_ids(&back), row_ids(&first));
    // A position that does not parse is a clear refusal, not a page.
    let (status, _) = page(&t, &cookie, "/console/customers?after=x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// The href of the pager's link with this text, unescaped.
fn pager_link(html: &str, text: &str) -> Option<String> {
    let pager = &html[html.find("class=\"pager\"")?..];
    let end = pager.find(&format!(">{text}</a>"))?;
    let start = pager[..end].rfind("href=\"")? + "href=\"".len();
    Some(
        pager[start..end - 1]
            .replace("&#38;", "&")
            .replace("&amp;", "&")
            .replace("&#x2F;", "/"),
    )
}

/// The customer ids of a console list's rows, in order (their 360° links).
fn row_ids(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("href=\"/console/customers/") {
        rest = &rest[i + "href=\"/console/customers/".len()..];
        let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !id.is_empty() && out.last() != Some(&id) {
            out.push(id);
        }
    }
    out
}

/// The ids of one API page and its positions.
async fn keyset_page(t: &TestApp, query: &str) -> (Vec<i64>, Option<String>, Option<String>) {
    let v = json_ok(
        t.get(&format!("/api/v1/customers?{query}"), &t.admin).await,
        StatusCode::OK,
    )
    .await;
    let pos = |k: &str| v[k].as_str().map(str::to_owned);
    (ids_of(&v), pos("next_after"), pos("prev_before"))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Keyset pages (`after` / `before`) of every order walk the whole list forwards and
/// backwards, with ties in every column and customers without an order (last either way),
/// exactly as one big page lists it; positions that do not parse or belong to another order
/// are refused naming the parameter.
async fn keyset_pages_walk_every_order_both_ways(e: Engine) {
    let t = spawn_app(e).await;
    seed(&t).await; // spends 0, 99, 198, 0 (in yuan)
    // More ties: four customers each with one 99-yuan order on the same instant, and four
    // without any order.
    for i in 0..8 {
        let id = customer_with_phone(&t, &format!("1370000{i:04}"), &format!("并列{i}")).await;
        if i % 2 == 0 {
            let r = t
                .post(
                    "/api/v1/orders",
                    &t.admin,
                    json!({"external_id": format!("K{i}"), "customer_id": id, "channel": "store",
                           "paid_at": "2026-03-01T12:00:00+08:00",
                           "lines": [{"sku": "CHERRY", "name": "车厘子", "quantity": 1, "unit_price_fen": 9900}]}),
                )
                .await;
            assert!(r.status().is_success(), "{:?}", r.text().await);
        }
    }
    for key in ["id", "total_spend", "order_count", "last_order"] {
        for sort in [key.to_owned(), format!("-{key}")] {
            let (all, next, prev) = keyset_page(&t, &format!("sort={sort}&page_size=100")).await;
            assert_eq!(all.len(), 12, "{sort}");
            assert_eq!((next, prev), (None, None), "{sort}: one page is all");
            // Forwards, three at a time.
            let (mut walked, mut next, prev) =
                keyset_page(&t, &format!("sort={sort}&page_size=3")).await;
            assert_eq!(prev, None, "{sort}: the first page has nothing before it");
            let mut pages = vec![walked.clone()];
            let mut last_prev = None;
            while let Some(n) = next {
                let (ids, n2, p2) =
                    keyset_page(&t, &format!("sort={sort}&page_size=3&after={}", enc(&n))).await;
                assert!(
                    p2.is_some(),
                    "{sort}: a page after a position has one before it"
                );
                walked.extend(&ids);
                pages.push(ids);
                next = n2;
                last_prev = p2;
            }
            assert_eq!(walked, all, "{sort}: forwards");
            assert_eq!(pages.len(), 4, "{sort}: 12 rows in pages of 3");
            // Backwards from the last page.
            let mut back = pages.pop().unwrap();
            let mut prev = last_prev;
            while let Some(b) = prev {
                let (ids, n2, p2) =
                    keyset_page(&t, &format!("sort={sort}&page_size=3&before={}", enc(&b))).await;
                assert!(
                    n2.is_some(),
                    "{sort}: a page before a position has one after it"
                );
                assert_eq!(Some(&ids), pages.last(), "{sort}: the same pages backwards");
                pages.pop();
                let mut ids = ids;
                ids.extend(back);
                back = ids;
                prev = p2;
            }
            assert!(pages.is_empty(), "{sort}: back to the first page");
            assert_eq!(back, all, "{sort}: backwards");
            // An offset page's position leads back to the page before it.
            let (_, _, prev) = keyset_page(&t, &format!("sort={sort}&page_size=3&page=3")).await;
            let (ids, _, _) = keyset_page(
                &t,
                &format!(
                    "sort={sort}&page_size=3&page=2&before={}",
                    enc(&prev.unwrap())
                ),
            )
            .await;
            assert_eq!(ids, all[3..6].to_vec(), "{sort}: before page 3 is page 2");
        }
    }
    // Positions that do not parse, from another order, or both directions at once.
    let (_, next, _) = keyset_page(&t, "sort=-total_spend&page_size=3").await;
    let next = next.unwrap();
    for (query, field, code) in [
        ("after=x".to_owned(), "after", "invalid_cursor"),
        (
            format!("sort=total_spend&after={}", enc(&next)),
            "after",
            "invalid_cursor",
        ),
        (
            format!("sort=-total_spend&before={}", enc("-total_spend~1")),
            "before",
            "invalid_cursor",
        ),
        (
            format!("sort=-total_spend&after={0}&before={0}", enc(&next)),
            "before",
            "invalid_cursor",
        ),
        // Control characters are refused before the position is read.
        (
            format!("after={}", enc("-id~1\u{1}~1")),
            "after",
            "invalid_characters",
        ),
    ] {
        let r = t.get(&format!("/api/v1/customers?{query}"), &t.admin).await;
        let (status, got, f) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!((f.as_deref(), got.as_str()), (Some(field), code), "{query}");
    }
}

async fn coupons_of(t: &TestApp, customer: i64) -> usize {
    let v = json_ok(
        t.get(&format!("/api/v1/customers/{customer}/coupons"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    v.as_array()
        .map(|a| a.len())
        .unwrap_or_else(|| v["items"].as_array().unwrap().len())
}

/// A post of the list's bulk form as a browser sends it (`ids` repeated).
pub(crate) async fn bulk(t: &TestApp, cookie: &str, body: String) -> reqwest::Response {
    t.client
        .post(t.url("/console/customers/bulk"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn form_post<'a>(
    t: &'a TestApp,
    cookie: &'a str,
    path: &str,
    form: &[(&str, String)],
) -> impl std::future::Future<Output = reqwest::Response> + 'a {
    let req = t
        .client
        .post(t.url(path))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap());
    async move { req.send().await.unwrap() }
}

async fn console_list_sorts_saves_filters_and_acts_on_ticked_rows(e: Engine) {
    let t = spawn_app(e).await;
    let [zero, one, two, other] = seed(&t).await;
    t.staff("cl.admin", "admin", None).await;
    t.staff("cl.other", "admin", None).await;
    let cookie = console_login(&t, "cl.admin").await;

    // Sorting by a header: the link flips the direction and keeps the filters.
    let (status, html) = page(
        &t,
        &cookie,
        "/console/customers?city=%E6%9D%AD%E5%B7%9E&sort=-total_spend",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let pos = |id: i64| html.find(&format!("data-customer=\"{id}\"")).unwrap();
    assert!(
        pos(two) < pos(one) && pos(one) < pos(zero),
        "sorted by spend, most first"
    );
    assert!(!html.contains(&format!("data-customer=\"{other}\"")));
    assert!(
        html.contains("累计消费") && html.contains(" ▼"),
        "the sorted header is marked"
    );
    let flip = html
        .find("data-sort=\"total_spend\"")
        .map(|i| &html[html[..i].rfind("href=").unwrap()..i])
        .unwrap();
    assert!(
        flip.contains("city=%E6%9D%AD%E5%B7%9E") && flip.contains("sort=total_spend"),
        "the header flips, keeping the city: {flip}"
    );
    let (status, html) = page(&t, &cookie, "/console/customers?sort=bogus").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("排序方式无效"), "{html}");

    // Save the filter; it lists as a link to the same list; another admin does not see it.
    let csrf = csrf_in(&html);
    let r = form_post(
        &t,
        &cookie,
        "/console/customers/filters",
        &[
            ("csrf", csrf.clone()),
            ("name", "杭州高消费".into()),
            (
                "query",
                "city=%E6%9D%AD%E5%B7%9E&sort=-total_spend&evil=1".into(),
            ),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&t, &cookie, "/console/customers").await;
    assert!(html.contains("杭州高消费"), "saved filter listed");
    assert!(
        html.contains("href=\"/console/customers?city=%E6%9D%AD%E5%B7%9E&#38;sort=-total_spend\""),
        "only the list's own parameters are kept: {}",
        &html[html.find("chip saved-filter").unwrap()..][..300]
    );
    let other_cookie = console_login(&t, "cl.other").await;
    let (_, other_html) = page(&t, &other_cookie, "/console/customers").await;
    assert!(
        !other_html.contains("杭州高消费"),
        "saved filters are each person's own"
    );
    let id_at =
        html.find("/console/customers/filters/").unwrap() + "/console/customers/filters/".len();
    let filter_id: i64 = html[id_at..].split('/').next().unwrap().parse().unwrap();
    // Someone else cannot delete it; the owner can.
    let r = form_post(
        &t,
        &other_cookie,
        &format!("/console/customers/filters/{filter_id}/delete"),
        &[("csrf", csrf_in(&other_html))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = form_post(
        &t,
        &cookie,
        &format!("/console/customers/filters/{filter_id}/delete"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&t, &cookie, "/console/customers").await;
    assert!(!html.contains("杭州高消费"));

    // The console export is the API's, audited.
    let r = form_post(
        &t,
        &cookie,
        "/console/customers/export",
        &[
            ("csrf", csrf.clone()),
            ("q", String::new()),
            ("city", "杭州".into()),
            ("member_level", String::new()),
            ("guide_id", String::new()),
            ("store_id", String::new()),
            ("sort", "-order_count".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with(&format!("{two},")));

    // Ticked rows → bulk tagging with the ids filled in.
    let r = bulk(
        &t,
        &cookie,
        format!("csrf={csrf}&action=tag&ids={zero}&ids={two}"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/console/tags/bulk?ids={zero},{two}"));
    let (status, html) = page(&t, &cookie, &to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("{zero},{two}")), "ids filled in");

    // Ticked rows → a coupon issued to exactly them, as a job.
    let now = t.app.now();
    let tpl = json_ok(t.post("/api/v1/coupon-templates", &t.admin, json!({
        "name": "勾选发券", "steps": [{"kind": "amount_off", "off_fen": 1000, "threshold_fen": 5000}],
        "validity": {"kind": "days_from_claim", "days": 7},
        "claim_window": {"starts_at": now - DAY, "ends_at": now + DAY},
        "stock": 100, "per_customer": 1, "audience": {"kind": "everyone"}
    })).await, StatusCode::CREATED).await["id"].as_i64().unwrap();
    let (_, html) = page(&t, &cookie, "/console/customers").await;
    assert!(html.contains("勾选发券"), "active templates offered");
    let r = bulk(
        &t,
        &cookie,
        format!("csrf={csrf}&action=coupon&template_id={tpl}&ids={one}&ids={two}"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/console/jobs/")
    );
    t.settle_jobs().await;
    for (c, want) in [(zero, 0), (one, 1), (two, 1), (other, 0)] {
        assert_eq!(coupons_of(&t, c).await, want, "customer {c}");
    }
    // No ids, or an unknown one: refused as a whole.
    let r = bulk(
        &t,
        &cookie,
        format!("csrf={csrf}&action=coupon&template_id={tpl}&ids={zero}&ids=999999"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(coupons_of(&t, zero).await, 0);
    let r = bulk(&t, &cookie, format!("csrf={csrf}&action=tag")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// The promotions list shows each campaign's phase, searches by name and filters by phase;
/// a coupon template's page issues it to a saved segment as a job.
async fn console_promotions_filter_by_phase_and_issue_to_a_segment(e: Engine) {
    let t = spawn_app(e).await;
    let [zero, one, two, other] = seed(&t).await;
    t.staff("cp.admin", "admin", None).await;
    let cookie = console_login(&t, "cp.admin").await;
    let now = t.app.now();
    let template = |name: &str, starts: i64, ends: i64| {
        json!({
            "name": name, "steps": [{"kind": "amount_off", "off_fen": 1000, "threshold_fen": 5000}],
            "validity": {"kind": "days_from_claim", "days": 7},
            "claim_window": {"starts_at": starts, "ends_at": ends},
            "stock": 100, "per_customer": 1, "audience": {"kind": "everyone"}
        })
    };
    let running = json_ok(
        t.post(
            "/api/v1/coupon-templates",
            &t.admin,
            template("春季满减", now - DAY, now + DAY),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    json_ok(
        t.post(
            "/api/v1/coupon-templates",
            &t.admin,
            template("夏季预告", now + DAY, now + 2 * DAY),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let (status, html) = page(&t, &cookie, "/console/promotions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-phase=\"running\">进行中")
            && html.contains("data-phase=\"scheduled\">未开始"),
        "phases shown"
    );
    let (_, html) = page(&t, &cookie, "/console/promotions?phase=scheduled").await;
    assert!(
        html.contains("夏季预告") && !html.contains("春季满减"),
        "only scheduled"
    );
    assert!(html.contains("显示 1 / 2 个活动"));
    let (_, html) = page(
        &t,
        &cookie,
        "/console/promotions?q=%E6%98%A5%E5%AD%A3&lang=en",
    )
    .await;
    assert!(
        html.contains("春季满减") && !html.contains("夏季预告"),
        "search by name"
    );
    let (status, _) = page(&t, &cookie, "/console/promotions?phase=deleted").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // 发给人群 on the template's page: every member of the segment gets one, as a job.
    let seg = json_ok(
        t.post(
            "/api/v1/segments",
            &t.admin,
            json!({"name": "杭州客户", "expression": "city = \"杭州\""}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let (_, html) = page(
        &t,
        &cookie,
        &format!("/console/promotions/coupons/{running}"),
    )
    .await;
    assert!(
        html.contains("id=\"issue-segment\"") && html.contains("杭州客户"),
        "the issue form offers the segment"
    );
    let csrf = csrf_in(&html);
    let r = form_post(
        &t,
        &cookie,
        &format!("/console/promotions/coupons/{running}/issue"),
        &[("csrf", csrf.clone()), ("segment_id", seg.to_string())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/console/jobs/")
    );
    t.settle_jobs().await;
    for (c, want) in [(zero, 1), (one, 1), (two, 1), (other, 0)] {
        assert_eq!(coupons_of(&t, c).await, want, "customer {c}");
    }
    let r = form_post(
        &t,
        &cookie,
        &format!("/console/promotions/coupons/{running}/issue"),
        &[("csrf", csrf), ("segment_id", String::new())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// The rows of the list's table `id` (its `<tr data-…>` rows).
fn table_rows(html: &str, id: &str) -> usize {
    let start = html.find(&format!("<table id=\"{id}\">")).expect(id);
    let end = start + html[start..].find("</table>").unwrap();
    html[start..end].matches("<tr data-").count()
}

/// The promotions list pages each table by itself (20 rows a page), its links keep the search
/// and the other tables' pages, a page past the end shows the last, a bad page number is a
/// clear 422.
async fn console_promotions_page_each_table(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("pp.admin", "admin", None).await;
    let cookie = console_login(&t, "pp.admin").await;
    let now = t.app.now();
    for i in 0..23 {
        json_ok(
            t.post(
                "/api/v1/coupon-templates",
                &t.admin,
                json!({
                    "name": format!("满减券{i:02}"), "steps": [{"kind": "amount_off", "off_fen": 1000, "threshold_fen": 5000}],
                    "validity": {"kind": "days_from_claim", "days": 7},
                    "claim_window": {"starts_at": now - DAY, "ends_at": now + DAY},
                    "stock": 100, "per_customer": 1, "audience": {"kind": "everyone"}
                }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let (status, html) = page(&t, &cookie, "/console/promotions").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(table_rows(&html, "coupon-templates"), 20);
    assert!(
        html.contains("共 23 · 1 / 2 页"),
        "the pager counts every row"
    );
    assert!(
        html.contains("href=\"/console/promotions?coupons_page=2\" rel=\"next\""),
        "next page link"
    );
    assert!(
        !html.contains("data-pager=\"flash_page\""),
        "one page: no pager"
    );
    let (_, html) = page(&t, &cookie, "/console/promotions?coupons_page=2").await;
    assert_eq!(table_rows(&html, "coupon-templates"), 3);
    // Past the end: the last page; the search is kept in the links.
    let (_, html) = page(
        &t,
        &cookie,
        "/console/promotions?q=%E6%BB%A1%E5%87%8F&coupons_page=9",
    )
    .await;
    assert_eq!(table_rows(&html, "coupon-templates"), 3);
    assert!(
        html.contains(
            "href=\"/console/promotions?q=%E6%BB%A1%E5%87%8F&#38;coupons_page=1\" rel=\"prev\""
        ),
        "{html}"
    );
    let (status, html) = page(&t, &cookie, "/console/promotions?coupons_page=abc").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("coupons_page"), "the field is named");
}

/// 保存为草稿 on a new campaign's form keeps it a draft (草稿 in the list, `?phase=draft`, no
/// H5 or share link); its page offers 发布, which opens it.
async fn console_promotions_save_drafts_and_publish(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("pd.admin", "admin", None).await;
    let cookie = console_login(&t, "pd.admin").await;
    let (_, html) = page(&t, &cookie, "/console/promotions/coupons/new").await;
    assert!(html.contains("保存为草稿") && html.contains("保存并发布"));
    let csrf = csrf_in(&html);
    let form = |name: &str, draft: bool| {
        let mut f = vec![
            ("csrf", csrf.clone()),
            ("name", name.to_owned()),
            ("kind", "amount_off".into()),
            ("off_yuan", "10".into()),
            ("threshold_yuan", "59".into()),
            ("validity_kind", "days".into()),
            ("validity_days", "7".into()),
            ("starts", "2026-01-01T10:00".into()),
            ("ends", "2036-01-08T10:00".into()),
            ("stock", "100".into()),
            ("per_customer", "1".into()),
            ("audience", "everyone".into()),
        ];
        if draft {
            f.push(("draft", "1".into()));
        }
        f
    };
    let r = form_post(
        &t,
        &cookie,
        "/console/promotions/coupons",
        &form("草稿券", true),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = form_post(
        &t,
        &cookie,
        "/console/promotions/coupons",
        &form("开放券", false),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let list: Value = t
        .get("/api/v1/coupon-templates", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    let id_of = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .map(|v| {
                (
                    v["id"].as_i64().unwrap(),
                    v["status"].as_str().unwrap().to_owned(),
                )
            })
            .unwrap()
    };
    let (draft, status) = id_of("草稿券");
    assert_eq!(status, "draft");
    assert_eq!(id_of("开放券").1, "active");
    let (_, html) = page(&t, &cookie, "/console/promotions?phase=draft").await;
    assert!(
        html.contains("草稿券") && !html.contains("开放券"),
        "only drafts"
    );
    assert!(html.contains("data-phase=\"draft\">草稿"));
    assert!(
        !html.contains(&format!("/console/promotions/coupons/{draft}/share")),
        "a draft has no share link"
    );
    let (_, html) = page(&t, &cookie, &format!("/console/promotions/coupons/{draft}")).await;
    assert!(
        html.contains("id=\"publish-form\""),
        "the draft's page offers 发布"
    );
    let r = form_post(
        &t,
        &cookie,
        &format!("/console/promotions/coupons/{draft}/publish"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/console/promotions?ok=published"
    );
    let (_, html) = page(&t, &cookie, "/console/promotions?ok=published").await;
    assert!(html.contains("已发布"));
    let (_, html) = page(&t, &cookie, &format!("/console/promotions/coupons/{draft}")).await;
    assert!(!html.contains("id=\"publish-form\""));
    let (_, html) = page(&t, &cookie, "/console/promotions?phase=draft").await;
    assert!(!html.contains("草稿券"));
}
