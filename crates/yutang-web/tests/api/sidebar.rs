//! The chat sidebar (聊天工具栏, issue #23 item 2) on both engines, against the fake WeCom: the
//! JS-SDK signatures check out against the fake's corp and app tickets (fetched once, then
//! cached) and only this site's pages are signed; a guide sees the card of their own customer
//! only, gives a coupon once per Idempotency-Key, sends materials through their tracked link;
//! the group card names only the caller's customers and is refused to a guide outside the group;
//! the page signs in through WeCom inside the WeCom client and its writes need the CSRF token.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use yutang_wecom::fake::FakeWecom;

use crate::console::{console_login, page};
use crate::helpers::{Engine, TestApp};
use crate::mass_messages::synced;

both_engines!(
    signatures_check_out_against_the_fakes_tickets,
    a_guide_sees_the_card_of_their_own_customers_only,
    coupons_and_notes_from_the_card,
    concurrent_taps_never_give_past_the_limit,
    materials_go_through_the_guides_tracked_link,
    the_group_card_names_only_the_callers_customers,
    the_page_signs_in_through_wecom_and_its_writes_need_csrf,
);

const AGENT: i64 = 1_000_031;
const APP_SECRET: &str = "sidebar-app-secret-0001";
const WXWORK_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh";

async fn ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(s, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn error_code(r: reqwest::Response, want: StatusCode) -> (String, Option<String>) {
    let v = ok(r, want).await;
    (
        v["error"]["code"].as_str().unwrap_or_default().to_owned(),
        v["error"]["field"].as_str().map(str::to_owned),
    )
}

async fn register_app(t: &TestApp, fake: &FakeWecom) {
    fake.add_app(AGENT, APP_SECRET);
    let r = t
        .send_json(
            Method::PUT,
            "/api/v1/wecom/settings",
            &t.admin,
            json!({"app_secrets": [{"agent_id": AGENT.to_string(), "secret": APP_SECRET}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// The external ids of customers followed by `userid` and by nobody in `not`.
fn followed_by(fake: &FakeWecom, userid: &str, not: &[&str]) -> Vec<String> {
    fake.with_corp(|c| {
        c.follows
            .iter()
            .filter(|f| f.userid == userid)
            .map(|f| f.external_userid.clone())
            .filter(|e| {
                !c.follows
                    .iter()
                    .any(|f| &f.external_userid == e && not.contains(&f.userid.as_str()))
            })
            .collect()
    })
}

/// A count (or id) read straight from the database.
async fn count(t: &TestApp, sql: String) -> i64 {
    crate::promotions::scalar(t, Box::leak(sql.into_boxed_str())).await
}

fn sha1_hex(s: &str) -> String {
    Sha1::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn signatures_check_out_against_the_fakes_tickets(e: Engine) {
    let (t, fake, _, _) = synced(e).await;
    let guide = t.login("g.zhangwei").await;
    let page_url = t.url("/console/sidebar?from=chat");
    let q = |u: &str| {
        format!(
            "/api/v1/sidebar/jssdk?url={}",
            url::form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>()
        )
    };
    // Without a self-built app there is nothing to sign with: 503, said plainly.
    let (code, _) = error_code(
        t.get(&q(&page_url), &guide).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(code, "wecom_not_configured");
    register_app(&t, &fake).await;

    let v = ok(
        t.get(&q(&format!("{page_url}#top")), &guide).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["corp_id"], fake.corp_id());
    assert_eq!(v["agent_id"], AGENT);
    assert_eq!(v["url"], page_url.as_str(), "signed without the fragment");
    for api in [
        "getCurExternalContact",
        "getCurExternalChat",
        "sendChatMessage",
    ] {
        assert!(
            v["js_api_list"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == api),
            "{api}"
        );
    }
    let corp_ticket = fake.jsapi_ticket().expect("a corp ticket was fetched");
    let app_ticket = fake
        .agent_jsapi_ticket(AGENT)
        .expect("an app ticket was fetched");
    assert_ne!(corp_ticket, app_ticket);
    for (sig, ticket) in [
        (&v["config"], &corp_ticket),
        (&v["agent_config"], &app_ticket),
    ] {
        let want = sha1_hex(&format!(
            "jsapi_ticket={ticket}&noncestr={}&timestamp={}&url={page_url}",
            sig["nonce_str"].as_str().unwrap(),
            sig["timestamp"].as_i64().unwrap(),
        ));
        assert_eq!(sig["signature"], want.as_str());
    }
    // The tickets are cached: more pages signed, no more fetches.
    let fetched = fake.jsapi_ticket_fetches();
    assert_eq!(fetched, 2);
    for i in 0..5 {
        ok(
            t.get(&q(&t.url(&format!("/console/sidebar?n={i}"))), &guide)
                .await,
            StatusCode::OK,
        )
        .await;
    }
    assert_eq!(fake.jsapi_ticket_fetches(), fetched);

    // Only this site's pages, and a clear 422 naming `url` otherwise.
    for bad in [
        "https://evil.example/console/sidebar".to_owned(),
        format!("{}.evil.example/", t.url("")),
        String::new(),
    ] {
        let (code, field) = error_code(
            t.get(&q(&bad), &guide).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(field.as_deref(), Some("url"), "{bad}: {code}");
    }
    let r = t.get("/api/v1/sidebar/jssdk?url=%07", &guide).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Signed-in callers only.
    let r = t
        .req(Method::GET, &q(&page_url), None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn a_guide_sees_the_card_of_their_own_customers_only(e: Engine) {
    let (t, fake, store, customers) = synced(e).await;
    let zhang = t.login("g.zhangwei").await;
    let mine = followed_by(&fake, "zhangwei", &[]);
    let theirs = followed_by(&fake, "wangfang", &["zhangwei"]);
    let ext = &mine[0];
    let v = ok(
        t.get(&format!("/api/v1/sidebar/contacts/{ext}"), &zhang)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["customer"]["id"], customers[ext]);
    assert!(
        v["guides"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["staff_name"] == "g.zhangwei"),
        "{v}"
    );
    assert_eq!(v["can"], json!({"tag": true, "coupon": true, "note": true}));
    if let Some(p) = v["customer"]["phone"].as_str() {
        assert!(p.contains("****"), "phones are masked: {p}");
    }
    for key in ["tags", "orders", "coupons", "notes", "touches", "tasks"] {
        assert!(v[key].is_array(), "{key}: {v}");
    }

    // Another guide's customer, an unknown one and a malformed id: refused, nothing shown.
    for other in [theirs[0].as_str(), "wmNobodyAtAll"] {
        let (code, _) = error_code(
            t.get(&format!("/api/v1/sidebar/contacts/{other}"), &zhang)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(code, "not_found", "{other}");
    }
    let r = t.get("/api/v1/sidebar/contacts/wm%07x", &zhang).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The store's manager sees it; an analyst reads it but may change nothing.
    t.staff("m.sidebar", "store_manager", Some(store)).await;
    let manager = t.login("m.sidebar").await;
    ok(
        t.get(&format!("/api/v1/sidebar/contacts/{ext}"), &manager)
            .await,
        StatusCode::OK,
    )
    .await;
    t.staff("a.sidebar", "analyst", None).await;
    let analyst = t.login("a.sidebar").await;
    let v = ok(
        t.get(&format!("/api/v1/sidebar/contacts/{ext}"), &analyst)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        v["can"],
        json!({"tag": false, "coupon": false, "note": false})
    );
}

async fn coupons_and_notes_from_the_card(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let zhang = t.login("g.zhangwei").await;
    let mine = followed_by(&fake, "zhangwei", &[]);
    let theirs = followed_by(&fake, "wangfang", &["zhangwei"]);
    let ext = &mine[0];
    let tpl = crate::promotions::created_id(
        t.post(
            "/api/v1/coupon-templates",
            &t.admin,
            crate::promotions::template(100, 2),
        )
        .await,
    )
    .await;
    let list = ok(
        t.get("/api/v1/sidebar/coupon-templates", &zhang).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        list.as_array().unwrap().iter().any(|x| x["id"] == tpl),
        "{list}"
    );
    let give = |ext: String, key: &'static str| {
        let t = &t;
        let zhang = zhang.clone();
        async move {
            t.req(
                Method::POST,
                &format!("/api/v1/sidebar/contacts/{ext}/coupons"),
                Some(&zhang),
            )
            .header("idempotency-key", key)
            .json(&json!({"template_id": tpl}))
            .send()
            .await
            .unwrap()
        }
    };
    let first = ok(give(ext.clone(), "tap-1").await, StatusCode::CREATED).await;
    // A double tap answers the first issue and gives nothing more.
    let again = ok(give(ext.clone(), "tap-1").await, StatusCode::OK).await;
    assert_eq!(first["claim_id"], again["claim_id"]);
    let n = count(
        &t,
        format!(
            "SELECT COUNT(*) FROM coupon_claims WHERE customer_id = {}",
            customers[ext]
        ),
    )
    .await;
    assert_eq!(n, 1);
    let card = ok(
        t.get(&format!("/api/v1/sidebar/contacts/{ext}"), &zhang)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(card["coupons"].as_array().unwrap().len(), 1, "{card}");
    // Not to another guide's customer; not by an analyst.
    let r = give(theirs[0].clone(), "tap-2").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    t.staff("a.coupons", "analyst", None).await;
    let analyst = t.login("a.coupons").await;
    let r = t
        .post("/api/v1/sidebar/coupon-templates", &analyst, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let r = t.get("/api/v1/sidebar/coupon-templates", &analyst).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Strict bodies.
    let r = t
        .req(
            Method::POST,
            &format!("/api/v1/sidebar/contacts/{ext}/coupons"),
            Some(&zhang),
        )
        .json(&json!({"template_id": tpl, "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A note added on the customer shows on the card, newest first.
    let cid = customers[ext];
    for body in ["问了儿童座椅的尺寸", "约了周六到店试用"] {
        ok(
            t.post(
                &format!("/api/v1/customers/{cid}/notes"),
                &zhang,
                json!({"body": body}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let card = ok(
        t.get(&format!("/api/v1/sidebar/contacts/{ext}"), &zhang)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(card["notes"][0]["body"], "约了周六到店试用", "{card}");
    assert_eq!(card["notes"][1]["body"], "问了儿童座椅的尺寸");
}

/// Ten taps at once with one key give one set; ten at once with ten keys give exactly the
/// template's per-customer limit (2), whatever the engine's isolation.
async fn concurrent_taps_never_give_past_the_limit(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let zhang = t.login("g.zhangwei").await;
    let mine = followed_by(&fake, "zhangwei", &[]);
    let tpl = crate::promotions::created_id(
        t.post(
            "/api/v1/coupon-templates",
            &t.admin,
            crate::promotions::template(100, 2),
        )
        .await,
    )
    .await;
    let burst = |ext: String, same_key: bool| {
        let mut tasks = Vec::new();
        for i in 0..10 {
            let r = t
                .req(
                    Method::POST,
                    &format!("/api/v1/sidebar/contacts/{ext}/coupons"),
                    Some(&zhang),
                )
                .header(
                    "idempotency-key",
                    if same_key {
                        "burst".to_owned()
                    } else {
                        format!("burst-{i}")
                    },
                )
                .json(&json!({"template_id": tpl}));
            tasks.push(tokio::spawn(
                async move { r.send().await.unwrap().status() },
            ));
        }
        async move {
            let mut out = Vec::new();
            for task in tasks {
                out.push(task.await.unwrap());
            }
            out
        }
    };
    let claims = |c: i64| {
        count(
            &t,
            format!(
                "SELECT COUNT(*) FROM coupon_claims WHERE customer_id = {c} AND template_id = {tpl}"
            ),
        )
    };
    // One key: one set, every answer a success or "still being written".
    let statuses = burst(mine[0].clone(), true).await;
    assert!(
        statuses
            .iter()
            .all(|s| s.is_success() || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(claims(customers[&mine[0]]).await, 1);
    // Ten keys: exactly the limit.
    let statuses = burst(mine[1].clone(), false).await;
    let given = statuses.iter().filter(|s| s.is_success()).count();
    assert_eq!(given, 2, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| s.is_success() || s.is_client_error()),
        "{statuses:?}"
    );
    assert_eq!(claims(customers[&mine[1]]).await, 2);
}

async fn materials_go_through_the_guides_tracked_link(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    let zhang = t.login("g.zhangwei").await;
    let ext = followed_by(&fake, "zhangwei", &[])[0].clone();
    let material = |body: Value| {
        let t = &t;
        async move {
            ok(
                t.post("/api/v1/materials", &t.admin, body).await,
                StatusCode::CREATED,
            )
            .await["id"]
                .as_i64()
                .unwrap()
        }
    };
    let r = t
        .req(Method::POST, "/api/v1/media", Some(&t.admin))
        .header("content-type", "image/png")
        .body(yutang_core::media::solid_png(6, 6, [9, 99, 199]))
        .send()
        .await
        .unwrap();
    let media = ok(r, StatusCode::CREATED).await["id"].as_i64().unwrap();
    let link = material(
        json!({"kind": "link", "title": "春季新品", "body": "新品 8 折，到店还有礼",
        "url": "https://shop.example/spring", "media_id": media}),
    )
    .await;
    let text =
        material(json!({"kind": "text", "title": "欢迎语", "body": "您好，我是您的专属顾问"}))
            .await;
    let send = |material: i64, ext: Option<&str>| {
        let t = &t;
        let zhang = zhang.clone();
        let body = json!({"material_id": material, "external_userid": ext});
        async move { t.post("/api/v1/sidebar/messages", &zhang, body).await }
    };
    let v = ok(send(link, Some(&ext)).await, StatusCode::OK).await;
    assert_eq!(v["message"]["msgtype"], "news", "{v}");
    let token = v["link_token"].as_str().unwrap().to_owned();
    let href = v["message"]["news"]["link"].as_str().unwrap();
    assert_eq!(href, t.url(&format!("/h5/r/{token}")));
    assert_eq!(v["message"]["news"]["title"], "春季新品");
    assert_eq!(
        v["message"]["news"]["imgUrl"],
        t.url(&format!("/h5/media/{media}")).as_str()
    );
    // The same guide, material and customer: the same link.
    let again = ok(send(link, Some(&ext)).await, StatusCode::OK).await;
    assert_eq!(again["link_token"], token.as_str());
    let owner = count(
        &t,
        format!("SELECT customer_id FROM material_links WHERE token = '{token}'"),
    )
    .await;
    assert_eq!(owner, customers[&ext]);
    // Text goes as text, with no link; a group chat gets a link with no customer.
    let v = ok(send(text, Some(&ext)).await, StatusCode::OK).await;
    assert_eq!(
        v["message"],
        json!({"msgtype": "text", "text": {"content": "您好，我是您的专属顾问"}})
    );
    assert!(v["link_token"].is_null());
    let g = ok(send(link, None).await, StatusCode::OK).await;
    assert_ne!(g["link_token"], token.as_str());
    // An archived material is refused; so is another guide's customer.
    ok(
        t.post(
            &format!("/api/v1/materials/{link}/archive"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (code, _) = error_code(send(link, Some(&ext)).await, StatusCode::CONFLICT).await;
    assert_eq!(code, "material_archived");
    let theirs = followed_by(&fake, "wangfang", &["zhangwei"]);
    let r = send(text, Some(&theirs[0])).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t
        .post(
            "/api/v1/sidebar/messages",
            &zhang,
            json!({"material_id": text, "to": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_group_card_names_only_the_callers_customers(e: Engine) {
    let (t, fake, store, customers) = synced(e).await;
    let group = "wrDemoGroup0001";
    let in_group: Vec<String> = fake.with_corp(|c| {
        let g = c.groups.iter().find(|g| g.chat_id == group).unwrap();
        g.members
            .iter()
            .filter(|m| m.member_type == 2)
            .map(|m| m.userid.clone())
            .collect()
    });
    let zhang = t.login("g.zhangwei").await;
    let v = ok(
        t.get(&format!("/api/v1/sidebar/groups/{group}"), &zhang)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["name"], "鱼塘会员福利群①");
    assert_eq!(v["members"], in_group.len() as i64 + 1, "{v}");
    assert_eq!(v["customers"], in_group.len() as i64);
    assert_eq!(v["my_customers"], in_group.len() as i64);
    let named: Vec<i64> = v["member_list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["customer_id"].as_i64())
        .collect();
    for ext in &in_group {
        assert!(named.contains(&customers[ext]), "{ext}");
    }
    // wangfang neither owns nor is in the group.
    let wang = t.login("g.wangfang").await;
    let (code, _) = error_code(
        t.get(&format!("/api/v1/sidebar/groups/{group}"), &wang)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code, "not_found");
    // HQ sees it; a store manager of another store does not.
    ok(
        t.get(&format!("/api/v1/sidebar/groups/{group}"), &t.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    let other = t.store("SB-B").await;
    t.staff("m.other", "store_manager", Some(other)).await;
    let m = t.login("m.other").await;
    let r = t.get(&format!("/api/v1/sidebar/groups/{group}"), &m).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    t.staff("m.own", "store_manager", Some(store)).await;
    let m = t.login("m.own").await;
    ok(
        t.get(&format!("/api/v1/sidebar/groups/{group}"), &m).await,
        StatusCode::OK,
    )
    .await;
    let r = t.get("/api/v1/sidebar/groups/wrNoSuchGroup", &zhang).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn the_page_signs_in_through_wecom_and_its_writes_need_csrf(e: Engine) {
    let (t, fake, _, customers) = synced(e).await;
    // Inside the WeCom client, no session: straight to the silent sign-in.
    let r = t
        .client
        .get(t.url("/console/sidebar"))
        .header("user-agent", WXWORK_UA)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/console/login/wecom?next=%2Fconsole%2Fsidebar"
    );
    // A desktop browser gets the login page as before.
    let r = t
        .client
        .get(t.url("/console/sidebar"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "/console/login?next=%2Fconsole%2Fsidebar"
    );

    let cookie = console_login(&t, "g.zhangwei").await;
    let (status, html) = page(&t, &cookie, "/console/sidebar").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/console/assets/wecom-jssdk.js"), "{html}");
    assert!(!html.contains("res.wx.qq.com") && !html.contains("unpkg"));
    let csrf = {
        let i = html.find("data-csrf=\"").unwrap() + "data-csrf=\"".len();
        html[i..i + html[i..].find('"').unwrap()].to_owned()
    };
    let (status, js) = page(&t, &cookie, "/console/assets/wecom-jssdk.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.starts_with("/*! @wecom/jssdk") && js.contains("var ww="));

    let ext = followed_by(&fake, "zhangwei", &[])[0].clone();
    let cid = customers[&ext];
    let (status, body) = page(
        &t,
        &cookie,
        &format!("/console/sidebar/contact.json?external_userid={ext}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let note = |csrf: Option<String>| {
        let t = &t;
        let cookie = cookie.clone();
        async move {
            let mut r = t
                .client
                .post(t.url("/console/sidebar/note.json"))
                .header("cookie", cookie)
                .json(&json!({"customer_id": cid, "body": "加了微信，约周末到店"}));
            if let Some(c) = csrf {
                r = r.header("x-csrf-token", c);
            }
            r.send().await.unwrap()
        }
    };
    let r = note(None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = note(Some("wrong".into())).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let n = count(
        &t,
        format!("SELECT COUNT(*) FROM customer_notes WHERE customer_id = {cid}"),
    )
    .await;
    assert_eq!(n, 0, "a refused write writes nothing");
    let r = note(Some(csrf)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}
