//! Tracked links (雷达, issue #21 item 4) on both engines: a link per (material, guide,
//! customer), made once; its page records each open with the viewer's cookie, a reload is the
//! same view, someone else's open is a forward; the page's beats raise the time on page and
//! only the viewer's own; the customer's timeline shows the read and the forward; the guide is
//! told once per half hour through a WeCom app message; a link material redirects; the
//! figures add up; a guide makes and reads only their own links.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_core::media::solid_png;

use crate::helpers::{Engine, TestApp};
use crate::mass_messages::synced;
use crate::promotions::scalar;

both_engines!(
    a_tracked_link_counts_reads_forwards_and_time_on_page,
    a_guide_links_and_reads_only_their_own,
    ten_first_opens_at_once_make_one_recipient,
    content_reach_counts_the_customers_who_open_what_guides_sent,
);

const AGENT: i64 = 1_000_007;
const APP_SECRET: &str = "radar-app-secret-0001";

async fn ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn material(t: &TestApp, body: Value) -> i64 {
    ok(
        t.post("/api/v1/materials", &t.admin, body).await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

async fn poster(t: &TestApp, title: &str) -> i64 {
    let r = t
        .req(Method::POST, "/api/v1/media", Some(&t.admin))
        .header("content-type", "image/png")
        .body(solid_png(6, 6, [9, 99, 199]))
        .send()
        .await
        .unwrap();
    let media = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    material(
        t,
        json!({"kind": "poster", "title": title, "body": "会员日全场 8 折", "media_id": media}),
    )
    .await
}

async fn staff_of(t: &TestApp, userid: &str) -> i64 {
    let sql = format!("SELECT id FROM staff WHERE wecom_userid = '{userid}'");
    scalar(t, Box::leak(sql.into_boxed_str())).await
}

/// A browser without redirects: each keeps its own cookie by hand.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Open a link as a browser holding `cookie` (if any): the answer, the view id on the page,
/// and the viewer cookie it holds after.
async fn open(
    t: &TestApp,
    token: &str,
    cookie: Option<&str>,
) -> (
    StatusCode,
    Option<i64>,
    Option<String>,
    reqwest::header::HeaderMap,
) {
    let mut req = browser().get(t.url(&format!("/h5/r/{token}")));
    if let Some(c) = cookie {
        req = req.header(COOKIE, format!("yt_v={c}"));
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let set = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("yt_v="))
        .map(|v| v.split(';').next().unwrap().to_owned());
    let html = r.text().await.unwrap();
    let view = html
        .split("data-view=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok());
    (status, view, set.or(cookie.map(str::to_owned)), headers)
}

async fn beat(t: &TestApp, token: &str, cookie: &str, view: i64, seconds: i64) -> StatusCode {
    browser()
        .post(t.url(&format!("/h5/r/{token}/beat")))
        .header(COOKIE, format!("yt_v={cookie}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("view={view}&seconds={seconds}"))
        .send()
        .await
        .unwrap()
        .status()
}

/// The period total of a metric line on the metrics page at `query`.
async fn metric(t: &TestApp, query: &str, key: &str) -> Value {
    let v = ok(
        t.get(&format!("/api/v1/metrics?{query}"), &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        v["unavailable"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["key"] != "content_reach"),
        "{v}"
    );
    v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == key)
        .unwrap_or_else(|| panic!("no metric {key} in {v}"))["total"]
        .clone()
}

async fn stats(t: &TestApp, token: &str, id: i64) -> Value {
    ok(
        t.get(&format!("/api/v1/materials/{id}/stats"), token).await,
        StatusCode::OK,
    )
    .await
}

async fn a_tracked_link_counts_reads_forwards_and_time_on_page(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    fake.add_app(AGENT, APP_SECRET);
    let r = t
        .send_json(
            Method::PUT,
            "/api/v1/wecom/settings",
            &t.admin,
            json!({"app_secrets": [{"agent_id": AGENT.to_string(), "secret": APP_SECRET}]}),
        )
        .await;
    ok(r, StatusCode::OK).await;
    let id = poster(&t, "会员日海报").await;
    let zhang = staff_of(&t, "zhangwei").await;
    let customer = customers["wmDemoCustomer0003"];
    let body = json!({"staff_id": zhang, "customer_id": customer});
    let link = ok(
        t.post(
            &format!("/api/v1/materials/{id}/links"),
            &t.admin,
            body.clone(),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let token = link["token"].as_str().unwrap().to_owned();
    assert_eq!(link["path"], format!("/h5/r/{token}"));
    let again = ok(
        t.post(&format!("/api/v1/materials/{id}/links"), &t.admin, body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        again["token"], link["token"],
        "one link per guide and customer"
    );

    // The customer opens it: a view, a viewer cookie, the page with the poster.
    let (s, view, cookie, _) = open(&t, &token, None).await;
    assert_eq!(s, StatusCode::OK);
    let (view, cookie) = (view.unwrap(), cookie.unwrap());
    // A reload is the same view.
    let (_, again_view, _, _) = open(&t, &token, Some(&cookie)).await;
    assert_eq!(again_view, Some(view));
    // Beats raise the time on page, never lower it, and stop at two hours.
    assert_eq!(
        beat(&t, &token, &cookie, view, 42).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        beat(&t, &token, &cookie, view, 10).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(stats(&t, &t.admin, id).await["seconds"], 42);
    assert_eq!(
        beat(&t, &token, &cookie, view, 1_000_000).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(stats(&t, &t.admin, id).await["seconds"], 7200);
    // Another browser's beat on this view changes nothing.
    let (_, friend_view, friend, _) = open(&t, &token, None).await;
    let (friend_view, friend) = (friend_view.unwrap(), friend.unwrap());
    assert_ne!(friend, cookie);
    assert_eq!(
        beat(&t, &token, &friend, view, 1).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        beat(&t, &token, &friend, friend_view, 30).await,
        StatusCode::NO_CONTENT
    );

    let s = stats(&t, &t.admin, id).await;
    assert_eq!(
        (
            &s["links"],
            &s["views"],
            &s["viewers"],
            &s["forwards"],
            &s["customers"],
            &s["seconds"]
        ),
        (
            &json!(1),
            &json!(2),
            &json!(2),
            &json!(1),
            &json!(1),
            &json!(7230)
        ),
        "{s}"
    );
    assert_eq!(s["guides"][0]["staff_id"], zhang);

    // The customer's timeline: their read and the forward's read, once each.
    let sql = format!(
        "SELECT COUNT(*) FROM events WHERE customer_id = {customer} \
         AND kind IN ('page_view', 'share') AND detail LIKE '%tracked_link%'"
    );
    assert_eq!(scalar(&t, Box::leak(sql.into_boxed_str())).await, 2);

    // The guide is told once (the forward within the half hour adds no second notice).
    t.settle_jobs().await;
    let notices: Vec<_> = fake
        .app_messages()
        .into_iter()
        .filter(|m| m.content.contains("会员日海报"))
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].touser, vec!["zhangwei".to_owned()]);
    assert!(notices[0].content.contains("正在看《会员日海报》"));

    // A link material redirects to its page; unknown and malformed tokens are 404.
    let media = scalar(&t, "SELECT MAX(id) FROM media").await;
    let site = material(
        &t,
        json!({"kind": "link", "title": "春季新品", "url": "https://shop.example/spring",
            "media_id": media}),
    )
    .await;
    let l = ok(
        t.post(
            &format!("/api/v1/materials/{site}/links"),
            &t.admin,
            json!({"staff_id": zhang}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (s, _, _, headers) = open(&t, l["token"].as_str().unwrap(), None).await;
    assert_eq!(s, StatusCode::FOUND);
    assert_eq!(headers[LOCATION], "https://shop.example/spring");
    assert_eq!(stats(&t, &t.admin, site).await["views"], 1);
    for bad in ["AAAAAAAAAAAAAAAAAAAAAA", "nope", "..%2F..%2Fetc"] {
        assert_eq!(open(&t, bad, None).await.0, StatusCode::NOT_FOUND, "{bad}");
    }

    // An archived material makes no new link; the links sent keep working.
    let r = t
        .post(
            &format!("/api/v1/materials/{id}/archive"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .post(
            &format!("/api/v1/materials/{id}/links"),
            &t.admin,
            json!({"staff_id": staff_of(&t, "lina").await}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(open(&t, &token, Some(&cookie)).await.0, StatusCode::OK);
    fake.shutdown().await;
}

async fn a_guide_links_and_reads_only_their_own(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let id = poster(&t, "导购素材").await;
    let zhang = staff_of(&t, "zhangwei").await;
    let wang = staff_of(&t, "wangfang").await;
    let guide = t.login("g.zhangwei").await;
    t.staff("radar.analyst", "analyst", None).await;
    let analyst = t.login("radar.analyst").await;

    // Their own link: no staff id needed. Another guide's: 403.
    let own = ok(
        t.post(&format!("/api/v1/materials/{id}/links"), &guide, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own["staff_id"], zhang);
    let r = t
        .post(
            &format!("/api/v1/materials/{id}/links"),
            &guide,
            json!({"staff_id": wang}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Analysts read figures but make no links.
    let r = t
        .post(
            &format!("/api/v1/materials/{id}/links"),
            &analyst,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A customer outside the guide's scope is refused by field.
    let outside = customers.values().copied().max().unwrap() + 1_000_000;
    let r = t
        .post(
            &format!("/api/v1/materials/{id}/links"),
            &guide,
            json!({"customer_id": outside}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // HQ sends the same material through another guide; the guide's figures are theirs.
    let other = ok(
        t.post(
            &format!("/api/v1/materials/{id}/links"),
            &t.admin,
            json!({"staff_id": wang}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    open(&t, other["token"].as_str().unwrap(), None).await;
    open(&t, own["token"].as_str().unwrap(), None).await;
    open(&t, own["token"].as_str().unwrap(), None).await;
    let mine = stats(&t, &guide, id).await;
    assert_eq!(
        (&mine["links"], &mine["views"]),
        (&json!(1), &json!(2)),
        "{mine}"
    );
    assert_eq!(mine["guides"], json!([]));
    let all = stats(&t, &analyst, id).await;
    assert_eq!(
        (&all["links"], &all["views"]),
        (&json!(2), &json!(3)),
        "{all}"
    );
    fake.shutdown().await;
}

/// Ten browsers open a new link at the same moment: one of them is its recipient, the nine
/// others forwards — the link's row lock decides who was first, on PostgreSQL too.
async fn ten_first_opens_at_once_make_one_recipient(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let id = poster(&t, "并发打开").await;
    let zhang = staff_of(&t, "zhangwei").await;
    let link = ok(
        t.post(
            &format!("/api/v1/materials/{id}/links"),
            &t.admin,
            json!({"staff_id": zhang, "customer_id": customers["wmDemoCustomer0005"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let token = link["token"].as_str().unwrap().to_owned();
    let opens = (0..10).map(|_| open(&t, &token, None));
    for (status, view, _, _) in futures_util::future::join_all(opens).await {
        assert_eq!(status, StatusCode::OK);
        assert!(view.is_some());
    }
    let s = stats(&t, &t.admin, id).await;
    assert_eq!(
        (&s["views"], &s["viewers"], &s["forwards"], &s["customers"]),
        (&json!(10), &json!(10), &json!(9), &json!(1)),
        "{s}"
    );
    fake.shutdown().await;
}

/// 内容种草 (issue #24 item 2, from #21 item 4's tracked links): the customers who opened a
/// material a guide sent them, and their opens per reader, for the brand and for each guide
/// whose links were opened; a reload is no second open, a forward is a share, and an event an
/// integration posts cannot pass for an open.
async fn content_reach_counts_the_customers_who_open_what_guides_sent(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let id = poster(&t, "周末上新").await;
    let zhang = staff_of(&t, "zhangwei").await;
    let wang = staff_of(&t, "wangfang").await;
    let (c1, c2) = (
        customers["wmDemoCustomer0001"],
        customers["wmDemoCustomer0002"],
    );
    let mut tokens = Vec::new();
    for (staff, customer) in [(zhang, c1), (zhang, c2), (wang, c1)] {
        let l = ok(
            t.post(
                &format!("/api/v1/materials/{id}/links"),
                &t.admin,
                json!({"staff_id": staff, "customer_id": customer}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        tokens.push(l["token"].as_str().unwrap().to_owned());
    }
    // c1 opens zhangwei's link, reloads it, and forwards it to a friend who opens it.
    let (_, _, c1_cookie, _) = open(&t, &tokens[0], None).await;
    let c1_cookie = c1_cookie.unwrap();
    open(&t, &tokens[0], Some(&c1_cookie)).await;
    open(&t, &tokens[0], None).await;
    // c2 opens theirs; c1 opens wangfang's.
    open(&t, &tokens[1], None).await;
    open(&t, &tokens[2], Some(&c1_cookie)).await;
    // An integration's page_view that claims to be a tracked open is not one.
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [{"id": "fake-open-1", "kind": "page_view", "customer_id": c2,
                "detail": {"tracked_link": true, "material_id": id}}]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);

    t.app.analytics().follow().await.unwrap();
    // The brand: two readers, three opens (1.5 per reader); the forward is a share.
    assert_eq!(metric(&t, "", "content_reach").await, 2);
    assert_eq!(
        metric(&t, "", "content_opens_per_reader_milli").await,
        1_500
    );
    assert_eq!(metric(&t, "", "shares").await, 1);
    // Each guide counts the customers who opened their links.
    let q = format!("staff_id={zhang}");
    assert_eq!(metric(&t, &q, "content_reach").await, 2);
    assert_eq!(
        metric(&t, &q, "content_opens_per_reader_milli").await,
        1_000
    );
    let q = format!("staff_id={wang}");
    assert_eq!(metric(&t, &q, "content_reach").await, 1);

    // Followed cells are what a rebuild from the base tables gives.
    let followed = yutang_store::facts::all_cells(&t.app.db).await.unwrap();
    t.app.analytics().rebuild_now().await.unwrap();
    assert_eq!(
        followed,
        yutang_store::facts::all_cells(&t.app.db).await.unwrap()
    );
    fake.shutdown().await;
}
