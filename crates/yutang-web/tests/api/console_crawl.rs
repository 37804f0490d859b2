//! Issue #18: every console page, in Chinese and in English, on a seeded app (the demo brand
//! plus an import with bad rows, a bulk-tagging job, a WeCom full sync and a promotion change):
//! no audit action shown as `?`, no raw JSON, no raw code (`done`, `store`, …) left as a cell's
//! whole text, and on Chinese pages no English sentence outside code and form values.
//!
//! `YUTANG_CRAWL_DUMP=DIR` writes every page it checks to DIR, to read them.
//!
//! SQLite only: the pages read the same rows on both engines (the engines' differences are
//! covered by the area tests), and the crawl is the slowest console test.

use std::collections::{BTreeSet, VecDeque};

use reqwest::StatusCode;
use serde_json::json;

use crate::console::console_login;
use crate::helpers::{Engine, TestApp};
use crate::import::{start, upload, wait};
use crate::wecom_sync::with_fake;

/// Codes that must never be a text's whole content: statuses, phases, channels, kinds.
const RAW_CODES: &[&str] = &[
    "done",
    "running",
    "pending",
    "queued",
    "failed",
    "parked",
    "uploaded",
    "checking",
    "checked",
    "interrupted",
    "contacts",
    "groups",
    "tags",
    "store",
    "mini_program",
    "shop",
    "pos",
    "app",
    "offline",
    "online",
    "paid",
    "refunded",
    "shipped",
    "completed",
    "active",
    "disabled",
    "lifecycle",
    "rfm",
    "age_months",
    "birthday_month",
    "expression",
    "manual",
    "rule",
    "bulk_tag",
    "tag_rule_run",
    "wecom_sync",
    "system",
    "coupon_template",
    "flash_sale",
    "group_buy",
    "amount_off",
    "discount",
    "free_shipping",
    "exchange",
    // The points ledger's kinds, accounts, sources and states (issue #22).
    "earn",
    "grant",
    "reverse",
    "deduct",
    "redeem",
    "expire",
    "transfer_in",
    "transfer_out",
    "issued",
    "redeemed",
    "expired",
    "applied",
    "cancelled",
    "order",
    "redemption",
    "end_of_next_year",
    "never",
];

/// Words allowed in a run of ASCII words on a Chinese page (names, not sentences).
const ALLOWED_WORDS: &[&str] = &[
    "API",
    "CSV",
    "Excel",
    "xlsx",
    "xls",
    "UTF",
    "ID",
    "IP",
    "RFM",
    "WeCom",
    "Token",
    "Secret",
    "EncodingAESKey",
    "AgentId",
    "App",
    "POS",
    "SKU",
    "OpenID",
    "UnionID",
    "AppID",
    "TXT",
    "H5",
];

/// Pages no link leads to: a bulk-tagging job and the WeCom sync job (given by the seed),
/// and the segment editor showing an expression's error.
const UNLINKED: &[&str] = &[
    "/console/segments/new?expression=orders_90d%20%3E%3D",
    "/console/segments/new?expression=tag(%22%E6%97%A0%E6%AD%A4%2F%E6%A0%87%E7%AD%BE%22)",
    "/console/segments/new?expression=city%20%3D%3D%20%22%E4%B8%8A%E6%B5%B7%22",
    "/console/messages/new",
    "/console/moments/new",
    "/console/materials/new",
    "/console/materials?folder=none",
    // The mobile workbench (linked from the home page for guides only).
    "/console/workbench",
];

/// Seed the pages' data; returns the ids of the jobs it started.
async fn seed(t: &TestApp, cookie: &str) -> Vec<i64> {
    // An import with a bad row (its errors shown on the run page).
    let id = upload(
        t,
        cookie,
        "customers",
        "客户.csv",
        crate::import::CUSTOMERS_CSV.as_bytes(),
    )
    .await;
    start(t, cookie, id, "run", &[]).await;
    wait(t, cookie, id).await;
    let bad_orders = "订单号,客户 ID,渠道,支付时间,商品名称,数量,单价（分）\n\
        X1,1,store,2026-11-01 10:00,苹果,1,990\n\
        X2,999999,mini_program,not a time,梨,1,abc\n";
    let id = upload(t, cookie, "orders", "订单.csv", bad_orders.as_bytes()).await;
    start(t, cookie, id, "check", &[]).await;
    wait(t, cookie, id).await;
    // A bulk-tagging job.
    let r = t
        .post(
            "/api/v1/tags/bulk",
            &t.admin,
            json!({"add": [1], "customer_ids": [1, 2, 3]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let bulk_job = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .expect("bulk job id");
    // Mass messages, one sent now and one scheduled (the detail pages are linked from 群发).
    for send_at in [None, Some("2099-01-01T02:00:00Z")] {
        let mut body = json!({"name": "爬取群发", "text": "你好", "holdout_bp": 1000,
            "audience": {"customer_ids": [1, 2, 3]}});
        if let Some(at) = send_at {
            body["send_at"] = json!(at);
        }
        let r = t.post("/api/v1/mass-messages", &t.admin, body).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }
    // A WeCom full sync.
    let r = t.post("/api/v1/wecom/sync", &t.admin, json!({})).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let sync_job = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .expect("sync job id");
    // An order in another channel (timeline and order table).
    let r = t
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"external_id": "crawl-1", "customer_id": 2, "channel": "mini_program",
                   "paid_at": "2026-11-20T02:00:00Z",
                   "lines": [{"sku": "A1", "name": "苹果", "quantity": 2, "unit_price_fen": 4950}]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    // A channel with an add (its statistics pages), and an add through no channel.
    let r = t
        .post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "门店台卡 收银台", "kind": "store_stand"}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let channel = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64();
    let mut tx = t.app.db.begin().await.unwrap();
    for (key, customer, channel) in [("crawl-add-1", 1, channel), ("crawl-add-2", 2, None)] {
        let add = yutang_store::acquisition::NewAdd {
            dedup_key: key,
            customer_id: customer,
            channel_id: channel,
            code_id: None,
            state: "crawl",
            staff_id: None,
            added_at: t.app.now(),
        };
        yutang_store::acquisition::record_add_in(&mut tx, &add)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // A points-mall item and an exchange (the mall page's items and exchanges with their
    // actions, the item form).
    let r = t
        .post(
            "/api/v1/mall/items",
            &t.admin,
            json!({"kind": "gift", "name": "品牌保温杯", "points_price": 100, "stock": 5,
                   "per_customer_limit": 2}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let mall_item = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64();
    let r = t
        .req(
            reqwest::Method::POST,
            "/api/v1/customers/2/points/adjustments",
            Some(&t.admin),
        )
        .header("Idempotency-Key", "crawl-mall-grant")
        .json(&json!({"kind": "grant", "points": 300, "reason": "积分商城"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let r = t
        .req(
            reqwest::Method::POST,
            "/api/v1/customers/2/mall/exchanges",
            Some(&t.admin),
        )
        .header("Idempotency-Key", "crawl-mall-1")
        .json(&json!({"item_id": mall_item}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    // A top-up gift rule and a member gift rule (their edit forms and archive confirmations).
    let r = t
        .post(
            "/api/v1/stored-value/top-up-gifts",
            &t.admin,
            json!({"name": "充300送30", "min_top_up_fen": 30000, "gift_fen": 3000}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let r = t
        .post(
            "/api/v1/loyalty/gifts",
            &t.admin,
            json!({"name": "生日礼", "kind": "birthday", "mode": "month", "points": 100}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    // Paid member cards: a card held by customer 2, and a period of customer 3 that ended
    // saving nothing (its refund on the cards page).
    let r = t
        .post(
            "/api/v1/loyalty/cards",
            &t.admin,
            json!({"key": "crawl_monthly", "name": "月卡", "period_days": 30, "price_fen": 1800,
                   "points_multiplier": 2000, "savings_guarantee": true}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    for (no, customer) in [("crawl-card-1", 3), ("crawl-card-2", 2)] {
        let r = t
            .post(
                "/api/v1/member-cards/purchases",
                &t.admin,
                json!({"order_no": no, "customer_id": customer, "card_key": "crawl_monthly"}),
            )
            .await;
        assert!(r.status().is_success(), "{:?}", r.text().await);
    }
    crate::acquisition::run_sql(
        t,
        &format!(
            "UPDATE card_periods SET starts_at = {}, ends_at = {} WHERE order_no = 'crawl-card-1'",
            t.app.now() - 40 * 86_400_000,
            t.app.now() - 86_400_000
        ),
    )
    .await;
    t.app.cards().run_settlement().await.unwrap();
    // A webhook with a test delivery (its page, the delivery log and the confirmations).
    let r = t
        .post(
            "/api/v1/webhooks",
            &t.admin,
            json!({"name": "会员中台", "url": "https://hooks.example.com/crawl",
                   "kinds": ["order_paid", "custom.signup"]}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let hook = r.json::<serde_json::Value>().await.unwrap()["webhook"]["id"]
        .as_i64()
        .expect("webhook id");
    let r = t
        .post(
            &format!("/api/v1/webhooks/{hook}/test"),
            &t.admin,
            json!({}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    // A saved segment whose tag is gone (its error on the segment list), once the jobs that
    // use the tag are done.
    t.settle_jobs().await;
    let r = t
        .req(reqwest::Method::DELETE, "/api/v1/tags/1", Some(&t.admin))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    t.settle_jobs().await;
    vec![bulk_job, sync_job]
}

/// A channel with a welcome, a tag and a live code whose first guide reached their cap (the
/// change log's reasons), plus an archived channel.
async fn seed_acquisition(
    t: &TestApp,
    fake: &yutang_wecom::fake::FakeWecom,
    target: &yutang_wecom::fake::CallbackTarget,
) {
    let store = t.store("CRAWL-ACQ").await;
    let g1 = crate::wecom_sync::guide(t, store, "zhangwei").await;
    let g2 = crate::wecom_sync::guide(t, store, "wangfang").await;
    let created = |r: reqwest::Response| async move {
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let channel = created(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "门店台卡 爬取", "kind": "store_stand", "store_id": store,
                "owner_staff_id": g1, "starts_on": "2026-05-01",
                "welcome": {"text": "{customer_name} 你好，我是{guide_name}",
                    "attachments": [{"type": "link", "title": "新人礼", "url": "https://h5.example/gift"},
                        {"type": "image", "media_id": "MEDIA-1"}]}}),
        )
        .await,
    )
    .await;
    let code = created(
        t.post(
            "/api/v1/live-codes",
            &t.admin,
            json!({"channel_id": channel, "name": "收银台", "state": "crawl-1",
                "guides": [{"staff_id": g1, "daily_cap": 1}, {"staff_id": g2, "daily_cap": 50, "weight": 2}],
                "schedule": {"weekdays": [1, 2, 3, 4, 5], "start": "09:00:00", "end": "21:00:00"},
                "spread": "weighted"}),
        )
        .await,
    )
    .await;
    crate::acquisition::add(t, fake, target, "zhangwei", "小林", Some("crawl-1")).await;
    // A referral program on the code, with a guide's and a customer's link, one friend bound
    // and one refused (the program's page, its leaderboard, attempts and link pages).
    let program = created(
        t.post(
            "/api/v1/referral-programs",
            &t.admin,
            json!({"name": "邀好友 爬取", "live_code_id": code, "description": "好友首单满50元",
                "qualification": {"kind": "first_order", "min_order_fen": 5000, "hold_days": 7}}),
        )
        .await,
    )
    .await;
    let links = format!("/api/v1/referral-programs/{program}/links");
    let r = t.post(&links, &t.admin, json!({"staff_id": g1})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = t.post(&links, &t.admin, json!({"customer_id": 1})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let link = r.json::<serde_json::Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let friend = crate::console_referrals::new_customer(t, "uCrawlFriend", "新朋友").await;
    for customer in [friend, 1] {
        crate::console_referrals::accept(t, &link, customer).await;
    }
    let old = created(
        t.post(
            "/api/v1/channels",
            &t.admin,
            json!({"name": "已结束的直播", "kind": "live_stream"}),
        )
        .await,
    )
    .await;
    let r = t
        .post(
            &format!("/api/v1/channels/{old}/archive"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// Moments tasks through the guides `seed_acquisition` linked: one sent now (made in the
/// fake WeCom, its guides listed) and one scheduled (the 朋友圈 list links both pages).
async fn seed_moments(t: &TestApp) {
    for (name, send_at) in [
        ("爬取朋友圈", None),
        ("爬取预告", Some("2099-01-01T02:00:00Z")),
    ] {
        let mut body = json!({"name": name, "text": "春季上新", "all_senders": true});
        if let Some(at) = send_at {
            body["send_at"] = json!(at);
        }
        let r = t.post("/api/v1/moments", &t.admin, body).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }
    t.settle_jobs().await;
}

/// The material library: a folder with a poster (its image uploaded), a text with labels, an
/// archived link card, and a guide's tracked link (the guides' table has a row).
/// Guide tasks (待办任务): open (one past due) with a customer and a material, one done with
/// a note and one skipped with a reason (the states, the sources and the figures).
async fn seed_guide_tasks(t: &TestApp) {
    let guide = crate::acquisition::scalar(
        t,
        "SELECT MIN(id) FROM staff WHERE role = 'guide' AND status = 'active'",
    )
    .await;
    let material =
        crate::acquisition::scalar(t, "SELECT id FROM materials WHERE title = '爬取文案'").await;
    let due = yutang_core::time::Millis(t.app.now() + 3_600_000).to_rfc3339();
    let mut ids = Vec::new();
    for (title, due) in [
        ("爬取回访", due.clone()),
        (
            "爬取到期",
            yutang_core::time::Millis(t.app.now()).to_rfc3339(),
        ),
        ("爬取完成", due.clone()),
        ("爬取跳过", due),
    ] {
        let r = t
            .post(
                "/api/v1/guide-tasks",
                &t.admin,
                json!({"staff_id": guide, "customer_id": 1, "material_id": material,
                    "title": title, "body": "问问近况", "due_at": due}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
        ids.push(
            r.json::<serde_json::Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    for (id, what, body) in [
        (ids[2], "done", json!({"note": "已回访"})),
        (ids[3], "skip", json!({"reason": "客户出差"})),
    ] {
        let r = t
            .post(&format!("/api/v1/guide-tasks/{id}/{what}"), &t.admin, body)
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    }
}

async fn seed_materials(t: &TestApp) {
    let r = t
        .post(
            "/api/v1/material-folders",
            &t.admin,
            json!({"name": "爬取文件夹"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let folder = r.json::<serde_json::Value>().await.unwrap()["id"].clone();
    let r = t
        .req(reqwest::Method::POST, "/api/v1/media", Some(&t.admin))
        .header("content-type", "image/png")
        .body(yutang_core::media::solid_png(6, 6, [9, 99, 199]))
        .send()
        .await
        .unwrap();
    let media = r.json::<serde_json::Value>().await.unwrap()["id"].clone();
    let mut ids = Vec::new();
    for body in [
        json!({"kind": "poster", "title": "爬取海报", "body": "会员日", "media_id": media,
            "folder_id": folder, "tags": ["会员日"]}),
        json!({"kind": "text", "title": "爬取文案", "body": "早安", "tags": ["日常", "早安"]}),
        json!({"kind": "link", "title": "爬取链接", "url": "https://shop.example/new",
            "media_id": media}),
    ] {
        let r = t.post("/api/v1/materials", &t.admin, body).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
        ids.push(
            r.json::<serde_json::Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let r = t
        .post(
            &format!("/api/v1/materials/{}/archive", ids[2]),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let guide = crate::acquisition::scalar(
        t,
        "SELECT MIN(id) FROM staff WHERE role = 'guide' AND status = 'active'",
    )
    .await;
    let r = t
        .post(
            &format!("/api/v1/materials/{}/links", ids[0]),
            &t.admin,
            json!({"staff_id": guide}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
}

/// A page's text nodes outside `<script>` and `<style>`, entities decoded: the tag each sits
/// in, the text, and whether it is inside `<code>`, `<textarea>` or `<pre>` (code and form
/// values, where English words are expected).
fn text_nodes(html: &str) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let mut inside: Vec<String> = Vec::new();
    let mut open = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        let hidden = inside.iter().any(|t| t == "script" || t == "style");
        if !hidden && !text.trim().is_empty() {
            out.push((open.clone(), decode(text.trim()), !inside.is_empty()));
        }
        let Some(gt) = rest[lt..].find('>') else {
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let special = ["script", "style", "code", "textarea", "pre"].contains(&name.as_str());
        if tag.starts_with('/') {
            if special && inside.last() == Some(&name) {
                inside.pop();
            }
        } else if special {
            inside.push(name.clone());
        } else {
            open = name;
        }
        rest = &rest[lt + gt + 1..];
    }
    out
}

fn decode(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The longest run of 3+ ASCII words (letters only, 2+ each, not an allowed name) that
/// follow each other with only spaces and sentence punctuation between them.
fn english_run(text: &str) -> Option<String> {
    let mut best: Vec<&str> = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    for token in text.split(|c: char| c.is_whitespace() || !c.is_ascii()) {
        let word = token.trim_end_matches([',', '.', ';', ':', '!', '?']);
        let is_word = word.len() >= 2
            && word.chars().all(|c| c.is_ascii_alphabetic() || c == '\'')
            && !ALLOWED_WORDS.contains(&word);
        if is_word {
            cur.push(word);
            if cur.len() > best.len() {
                best = cur.clone();
            }
        } else {
            cur.clear();
        }
    }
    (best.len() >= 3).then(|| best.join(" "))
}

/// Same-origin console links of a page worth visiting (no sign-out, no files, no JSON).
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in html.split("href=\"").skip(1) {
        let href = decode(&part[..part.find('"').unwrap_or(0)]);
        if !href.starts_with("/console") || href.starts_with("/console/lang") {
            continue;
        }
        let path = href.split('?').next().unwrap_or_default();
        // The SOP calendar links week to week without end: its own week is crawled, not
        // every other.
        if href.contains("week=") {
            continue;
        }
        if path.ends_with("/logout")
            || path.ends_with(".csv")
            || path.ends_with(".xlsx")
            || path.ends_with("/status")
            || path.ends_with("/export")
            || path.ends_with(".css")
        {
            continue;
        }
        out.push(href);
    }
    out
}

/// Every problem on one page.
fn problems(lang: &str, path: &str, html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (tag, text, in_code) in text_nodes(html) {
        if ["{\"", "[\"", "\":\"", "\":{", "\":["]
            .iter()
            .any(|j| text.contains(j))
            || text
                .split("\":")
                .skip(1)
                .any(|after| after.starts_with(|c: char| c.is_ascii_digit()))
        {
            found.push(format!("{path}: raw JSON in <{tag}>: {text}"));
        }
        if in_code {
            continue;
        }
        if text == "?" || text == "??" {
            found.push(format!("{path}: untranslated {text:?} in <{tag}>"));
        }
        if text
            .split([':', '：', '·'])
            .any(|part| RAW_CODES.contains(&part.trim()))
        {
            found.push(format!("{path}: raw code in <{tag}>: {text}"));
        }
        if lang == "zh"
            && let Some(run) = english_run(&text)
        {
            found.push(format!(
                "{path}: English on a Chinese page in <{tag}>: {run:?} ({text})"
            ));
        }
    }
    found
}

async fn crawl(t: &TestApp, cookie: &str, lang: &str, jobs: &[i64]) -> (usize, Vec<String>) {
    let cookie = format!("{cookie}; yutang_lang={lang}");
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from(["/console".to_owned()]);
    queue.extend(UNLINKED.iter().map(|p| (*p).to_owned()));
    // The channel statistics overview (linked from the channel pages; it links each channel's).
    queue.push_back("/console/acquisition/stats".to_owned());
    queue.extend(jobs.iter().map(|id| format!("/console/jobs/{id}")));
    let mut found = Vec::new();
    let mut pages = 0;
    while let Some(href) = queue.pop_front() {
        if !seen.insert(href.clone()) || seen.len() > 1200 {
            continue;
        }
        let r = t
            .client
            .get(t.url(&href))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let html_page = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if status == StatusCode::SEE_OTHER {
            let to = r.headers()["location"].to_str().unwrap().to_owned();
            if to.starts_with("/console") && !seen.contains(&to) {
                queue.push_back(to);
            }
            continue;
        }
        if !html_page {
            continue;
        }
        let html = r.text().await.unwrap();
        // The broken segment's members page is the error page (checked like any other).
        let broken = href.starts_with("/console/segments/1/members");
        assert!(
            status == StatusCode::OK || (broken && status == StatusCode::UNPROCESSABLE_ENTITY),
            "{lang} {href}: {status}\n{}",
            &html[..html.len().min(2000)]
        );
        pages += 1;
        if let Ok(dir) = std::env::var("YUTANG_CRAWL_DUMP") {
            let name = format!(
                "{dir}/{lang}{}.html",
                href.replace(['/', '?', '&', '='], "_")
            );
            std::fs::write(name, &html).unwrap();
        }
        found.extend(
            problems(lang, &href, &html)
                .into_iter()
                .map(|p| format!("[{lang}] {p}")),
        );
        for l in links(&html) {
            // One page of each paged list beyond the second is enough.
            let deep_page = l.split(['?', '&']).any(|kv| {
                kv.strip_prefix("page=")
                    .is_some_and(|n| n.parse::<u32>().unwrap_or(0) > 2)
            });
            if !deep_page && !seen.contains(&l) {
                queue.push_back(l);
            }
        }
    }
    // Each kind of campaign's statistics page is reached from the promotions list.
    for what in ["coupons", "flash-sales", "group-buys"] {
        let prefix = format!("/console/promotions/{what}/");
        if !seen
            .iter()
            .any(|h| h.starts_with(&prefix) && h.ends_with("/stats"))
        {
            found.push(format!("[{lang}] no {what} statistics page reached"));
        }
    }
    // A channel's statistics page is reached from the overview.
    if !seen
        .iter()
        .any(|h| h.starts_with("/console/channels/") && h.contains("/stats"))
    {
        found.push(format!("[{lang}] no channel statistics page reached"));
    }
    // The channel and live-code pages and their forms are reached from the nav.
    for prefix in [
        "/console/channels/new",
        "/console/live-codes/",
        "/console/channels?archived=1",
    ] {
        if !seen.iter().any(|h| h.starts_with(prefix)) {
            found.push(format!("[{lang}] no page under {prefix} reached"));
        }
    }
    if !seen
        .iter()
        .any(|h| h.starts_with("/console/live-codes/") && h.ends_with("/edit"))
    {
        found.push(format!("[{lang}] no live-code form reached"));
    }
    // The referral pages, their form and the inviters' link pages are reached from the nav.
    for prefix in [
        "/console/referrals/new",
        "/console/referrals?archived=1",
        "/console/referrals/1/edit",
        "/console/referrals/1/link?staff_id=",
        "/console/referrals/1/link?customer_id=",
    ] {
        if !seen.iter().any(|h| h.starts_with(prefix)) {
            found.push(format!("[{lang}] no page under {prefix} reached"));
        }
    }
    // The points pages: the settings and liability from the nav, a customer's points from
    // their 360° page, and an older page of a ledger from it.
    if !seen.contains("/console/loyalty/points") {
        found.push(format!("[{lang}] no points settings page reached"));
    }
    if !seen
        .iter()
        .any(|h| h.starts_with("/console/customers/") && h.ends_with("/points"))
    {
        found.push(format!("[{lang}] no customer points page reached"));
    }
    // Stored value and member gifts from the nav, a customer's stored value from their 360°
    // page.
    for page in ["/console/loyalty/stored-value", "/console/loyalty/gifts"] {
        if !seen.contains(page) {
            found.push(format!("[{lang}] {page} not reached"));
        }
    }
    // The rules' edit forms and archive confirmations are reached from those pages.
    for base in ["/console/loyalty/stored-value", "/console/loyalty/gifts"] {
        if !seen.iter().any(|h| h.starts_with(&format!("{base}?edit="))) {
            found.push(format!("[{lang}] no rule form under {base} reached"));
        }
        if !seen
            .iter()
            .any(|h| h.starts_with(&format!("{base}/rules/")) && h.ends_with("/archive"))
        {
            found.push(format!(
                "[{lang}] no rule archive confirmation under {base} reached"
            ));
        }
    }
    // A card's and a mall item's archive confirmation are reached from their lists.
    for base in ["/console/loyalty/cards/", "/console/loyalty/mall/"] {
        if !seen
            .iter()
            .any(|h| h.starts_with(base) && h.ends_with("/archive"))
        {
            found.push(format!(
                "[{lang}] no archive confirmation under {base} reached"
            ));
        }
    }
    // The points mall, its item form and an item's edit form are reached from the nav.
    for page in ["/console/loyalty/mall", "/console/loyalty/mall/new"] {
        if !seen.contains(page) {
            found.push(format!("[{lang}] no page {page} reached"));
        }
    }
    if !seen
        .iter()
        .any(|h| h.starts_with("/console/customers/") && h.ends_with("/stored-value"))
    {
        found.push(format!("[{lang}] no customer stored-value page reached"));
    }
    if !seen
        .iter()
        .any(|h| h.starts_with("/console/loyalty/mall/") && h.ends_with("/edit"))
    {
        found.push(format!("[{lang}] no mall item form reached"));
    }
    // The member cards page and a card's member list are reached from the nav.
    if !seen
        .iter()
        .any(|h| h.starts_with("/console/loyalty/cards/"))
    {
        found.push(format!("[{lang}] no card member list reached"));
    }
    // The membership tiers page and a tier's member list are reached from the nav.
    if !seen
        .iter()
        .any(|h| h.starts_with("/console/loyalty/tiers/"))
    {
        found.push(format!("[{lang}] no tier member list reached"));
    }
    // A webhook's page, its delivery log's filters and its confirmations, from the nav.
    for end in ["/rotate", "/delete", "status=failed#deliveries"] {
        if !seen
            .iter()
            .any(|h| h.starts_with("/console/webhooks/") && h.ends_with(end))
        {
            found.push(format!("[{lang}] no webhook page ending {end} reached"));
        }
    }
    // Every campaign's share page (QR code and poster) is linked from the promotions list.
    for what in ["coupons", "flash-sales", "group-buys"] {
        assert!(
            seen.iter()
                .any(|h| h.starts_with(&format!("/console/promotions/{what}/"))
                    && h.ends_with("/share")),
            "{lang}: no share page of {what} reached"
        );
    }
    (pages, found)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_page_speaks_its_language() {
    let (t, fake, target) = with_fake(Engine::Sqlite).await;
    // Customers with orders, events and tags; auto-tag rules; segments; coupons with claims;
    // a flash sale; group-buys with teams: the demo brand, small.
    t.app
        .demo()
        .seed_demo(40, &|_, _, _| {})
        .await
        .expect("demo seed");
    t.staff("crawler", "admin", None).await;
    let cookie = console_login(&t, "crawler").await;
    let jobs = seed(&t, &cookie).await;
    seed_acquisition(&t, &fake, &target).await;
    seed_moments(&t).await;
    seed_materials(&t).await;
    seed_guide_tasks(&t).await;
    // A promotion change by a person (the audit page's promotion rows).
    let r = t
        .client
        .get(t.url("/console/promotions"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut all = Vec::new();
    let mut counts = Vec::new();
    for lang in ["zh", "en"] {
        let (pages, found) = crawl(&t, &cookie, lang, &jobs).await;
        println!("console crawl: {pages} pages checked in {lang}");
        counts.push(pages);
        all.extend(found);
    }
    fake.shutdown().await;
    for p in &all {
        println!("{p}");
    }
    assert!(all.is_empty(), "{} problems, first: {}", all.len(), all[0]);
    assert!(
        counts.iter().all(|n| *n >= 60),
        "too few pages reached: {counts:?}"
    );
}

#[test]
fn the_checks_catch_what_the_issue_reports() {
    let bad = "<table><tr><td data-action=\"x\">?</td><td>{&quot;amount_fen&quot;:9900}</td>\
        <td>store</td><td>状态: done</td><td>Failed to parse the row</td></tr></table>";
    let p = problems("zh", "/x", bad);
    assert_eq!(p.len(), 5, "{p:?}");
    let mixed = "<p>订单 ¥99.00 · 门店</p><code>a and or not</code><code>{\"a\":1}</code><td>Yutang API ID</td>";
    assert_eq!(
        problems("zh", "/x", mixed).len(),
        1,
        "raw JSON counts in code too"
    );
    assert_eq!(
        english_run("第 3 行：unexpected end of input"),
        Some("unexpected end of input".into())
    );
    assert_eq!(english_run("Yutang API ID, a b"), None);
}
