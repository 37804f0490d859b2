//! Customer notes (跟进记录, issue #23 item 2) through the HTTP API and the console, on both
//! engines: notes list newest first and page with `before`; a guide writes on the customers
//! they follow (another's is 404), an analyst reads but may not write (403); a refused body
//! (empty, blank, 501 characters, a control character, an unknown field) is 422 naming the
//! field with nothing written; an `Idempotency-Key` retry answers the first note and writes
//! one row, one timeline entry and one audit entry; a merge moves the notes to the survivor;
//! the customer page lists them and adds one through a CSRF-checked form.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::acquisition::scalar;
use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form};
use crate::customers::{customer_with_phone, follow};
use crate::helpers::{Engine, TestApp, error_of, spawn_app};

both_engines!(
    notes_list_newest_first_and_page,
    notes_follow_role_and_scope,
    invalid_bodies_are_refused_and_write_nothing,
    idempotency_key_replays_the_note,
    notes_follow_a_merge,
    console_customer_notes,
);

fn notes_path(customer: i64) -> String {
    format!("/api/v1/customers/{customer}/notes")
}

async fn add(t: &TestApp, token: &str, customer: i64, body: &str) -> reqwest::Response {
    t.post(&notes_path(customer), token, json!({ "body": body }))
        .await
}

async fn added(t: &TestApp, token: &str, customer: i64, body: &str) -> Value {
    let r = add(t, token, customer, body).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn listed(t: &TestApp, token: &str, path: &str) -> Value {
    let r = t.get(path, token).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn bodies(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap().to_owned())
        .collect()
}

async fn rows(t: &TestApp) -> i64 {
    scalar(t, "SELECT COUNT(*) FROM customer_notes").await
}

async fn note_audits(t: &TestApp) -> usize {
    t.audit_actions()
        .await
        .iter()
        .filter(|a| *a == "customer_note_added")
        .count()
}

async fn note_events(t: &TestApp, customer: i64) -> i64 {
    let v = listed(
        t,
        &t.admin,
        &format!("/api/v1/customers/{customer}/timeline?kind=note_added"),
    )
    .await;
    v["total"].as_i64().unwrap()
}

async fn notes_list_newest_first_and_page(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("NOTE-A").await;
    let guide = t.staff("note.guide", "guide", Some(store)).await;
    let c = customer_with_phone(&t, "13811110001", "王女士").await;
    follow(&t, c, guide).await;
    let g = t.login("note.guide").await;

    // An integration's token writes one (no staff author: the token's name), the guide the rest.
    let first = added(&t, &t.admin, c, "  首次到店，试用了面霜  ").await;
    assert_eq!(first["body"], "首次到店，试用了面霜");
    assert_eq!(first["customer_id"], c);
    assert_eq!(first["staff_id"], Value::Null);
    assert_eq!(first["staff_name"], "token:test admin");
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));
    let second = added(&t, &g, c, "电话回访\n约了周六下午").await;
    assert_eq!(second["staff_id"], guide);
    assert_eq!(second["staff_name"], "note.guide");
    assert_eq!(second["body"], "电话回访\n约了周六下午");
    added(&t, &g, c, "第三条").await;

    // Newest first; pages of two, then the rest with `before`.
    let all = listed(&t, &g, &notes_path(c)).await;
    assert_eq!(
        bodies(&all),
        ["第三条", "电话回访\n约了周六下午", "首次到店，试用了面霜"]
    );
    assert_eq!(all["next_before"], Value::Null);
    let p1 = listed(&t, &g, &format!("{}?limit=2", notes_path(c))).await;
    assert_eq!(bodies(&p1), ["第三条", "电话回访\n约了周六下午"]);
    let next = p1["next_before"].as_i64().expect("a next page");
    assert_eq!(next, second["id"].as_i64().unwrap());
    let p2 = listed(&t, &g, &format!("{}?limit=2&before={next}", notes_path(c))).await;
    assert_eq!(bodies(&p2), ["首次到店，试用了面霜"]);
    assert_eq!(p2["next_before"], Value::Null);

    // The use cases the chat sidebar calls answer the same.
    let actor = yutang_app::Actor {
        caller: yutang_core::access::Caller {
            principal: yutang_core::access::Principal::Staff(yutang_core::ids::StaffId(guide)),
            role: yutang_core::staff::Role::Guide,
            store_id: Some(yutang_core::ids::StoreId(store)),
        },
        name: "note.guide".into(),
        ip: "127.0.0.1".into(),
    };
    let views = t
        .app
        .customers()
        .notes(&actor, yutang_core::ids::CustomerId(c), 2, None)
        .await
        .unwrap();
    assert_eq!(views.len(), 2);
    assert_eq!(views[0].body, "第三条");
    let v = t
        .app
        .customers()
        .add_note(&actor, yutang_core::ids::CustomerId(c), "侧边栏写的")
        .await
        .unwrap();
    assert_eq!((v.customer_id, v.staff_id), (c, Some(guide)));
    assert_eq!(v.staff_name, "note.guide");

    // Each note has its timeline entry and its audit entry.
    assert_eq!(note_events(&t, c).await, 4);
    assert_eq!(note_audits(&t).await, 4);

    // Bad paging is refused by field.
    for (q, field, code) in [
        ("limit=0", "limit", "invalid_page_size"),
        ("limit=101", "limit", "invalid_page_size"),
        ("before=999999", "before", "invalid_cursor"),
        ("after=1", "after", "unknown_field"),
    ] {
        let r = t.get(&format!("{}?{q}", notes_path(c)), &g).await;
        let (status, got, f) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        if code != "unknown_field" {
            assert_eq!((got.as_str(), f.as_deref()), (code, Some(field)), "{q}");
        }
    }
    let r = t.get(&format!("{}?limit=100", notes_path(c)), &g).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Another customer's note is no position in this customer's list (the same answer as
    // for a note that does not exist: nothing about it shows).
    let other = customer_with_phone(&t, "13811110002", "李先生").await;
    let theirs = added(&t, &t.admin, other, "别人的").await["id"]
        .as_i64()
        .unwrap();
    for token in [&g, &t.admin] {
        let r = t
            .get(&format!("{}?before={theirs}", notes_path(c)), token)
            .await;
        assert_eq!(error_of(r).await.1, "invalid_cursor");
    }
    // Its notes are 404 to the guide, who does not see that customer.
    let r = t.get(&notes_path(other), &g).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn notes_follow_role_and_scope(e: Engine) {
    let t = spawn_app(e).await;
    let store_a = t.store("NOTE-SA").await;
    let store_b = t.store("NOTE-SB").await;
    let ga = t.staff("note.ga", "guide", Some(store_a)).await;
    let ga2 = t.staff("note.ga2", "guide", Some(store_a)).await;
    let gb = t.staff("note.gb", "guide", Some(store_b)).await;
    t.staff("note.ma", "store_manager", Some(store_a)).await;
    t.staff("note.analyst", "analyst", None).await;
    let mine = customer_with_phone(&t, "13822220001", "张女士").await;
    let colleague = customer_with_phone(&t, "13822220002", "赵女士").await;
    let other_store = customer_with_phone(&t, "13822220003", "钱女士").await;
    follow(&t, mine, ga).await;
    follow(&t, colleague, ga2).await;
    follow(&t, other_store, gb).await;
    let guide = t.login("note.ga").await;
    let manager = t.login("note.ma").await;
    let analyst = t.login("note.analyst").await;

    // A guide on their own customer: yes; a colleague's or another store's: 404, read or write.
    added(&t, &guide, mine, "导购：喜欢清爽型").await;
    for c in [colleague, other_store] {
        let r = add(&t, &guide, c, "不该写进去").await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{c}");
        let r = t.get(&notes_path(c), &guide).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{c}");
    }
    // A store manager: their store's customers, not another store's.
    added(&t, &manager, colleague, "店长：周末活动已告知").await;
    let r = add(&t, &manager, other_store, "不该写进去").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // An analyst reads every note but writes none (403, and nothing written).
    let r = add(&t, &analyst, mine, "分析师不能写").await;
    assert_eq!(error_of(r).await.0, StatusCode::FORBIDDEN);
    let r = t
        .post(&notes_path(mine), &analyst, json!({"body": ""}))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "permission before input");
    assert_eq!(
        bodies(&listed(&t, &analyst, &notes_path(mine)).await),
        ["导购：喜欢清爽型"]
    );
    // Unknown customers are 404 to everyone; no credentials is 401.
    let r = add(&t, &t.admin, 999_999, "无此客户").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t
        .req(Method::POST, &notes_path(mine), None)
        .json(&json!({"body": "匿名"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(rows(&t).await, 2);
}

async fn invalid_bodies_are_refused_and_write_nothing(e: Engine) {
    let t = spawn_app(e).await;
    let c = customer_with_phone(&t, "13833330001", "孙女士").await;
    let long = "字".repeat(501);
    for (body, code) in [
        (json!({"body": ""}), "required"),
        (json!({"body": "  \n  "}), "required"),
        (json!({"body": long}), "text_too_long"),
        (json!({"body": "响铃\u{7}"}), "invalid_characters"),
        (json!({"body": "空\u{0}字"}), "invalid_characters"),
        (json!({"body": "制表\t符"}), "invalid_note_text"),
        (json!({"body": "回车\r符"}), "invalid_note_text"),
        (json!({"body": 5}), "invalid_field"),
        (json!({"body": null}), "invalid_field"),
        (json!({}), "missing_field"),
        (json!({"body": "好", "pinned": true}), "unknown_field"),
    ] {
        let r = t.post(&notes_path(c), &t.admin, body.clone()).await;
        let (status, got, field) = error_of(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        if !matches!(code, "invalid_field" | "missing_field") {
            assert_eq!(got, code, "{body}");
        }
        if code != "unknown_field" {
            assert_eq!(field.as_deref(), Some("body"), "{body}");
        }
    }
    assert_eq!(rows(&t).await, 0);
    assert_eq!(note_audits(&t).await, 0);
    assert_eq!(note_events(&t, c).await, 0);
    // Exactly 500 characters is fine, as is a browser's line break.
    let n = added(&t, &t.admin, c, &"字".repeat(500)).await;
    assert_eq!(n["body"].as_str().unwrap().chars().count(), 500);
    let n = added(&t, &t.admin, c, "第一行\r\n第二行").await;
    assert_eq!(n["body"], "第一行\n第二行");
    assert_eq!(rows(&t).await, 2);
}

async fn idempotency_key_replays_the_note(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("NOTE-K").await;
    let guide = t.staff("note.kguide", "guide", Some(store)).await;
    let c = customer_with_phone(&t, "13844440001", "周女士").await;
    follow(&t, c, guide).await;
    let send = |token: String, key: &'static str, body: &'static str| {
        let t = &t;
        async move {
            t.req(Method::POST, &notes_path(c), Some(&token))
                .header("Idempotency-Key", key)
                .json(&json!({ "body": body }))
                .send()
                .await
                .unwrap()
        }
    };
    let r = send(t.admin.clone(), "note-1", "约了下周复诊").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = r.json().await.unwrap();
    // The retry answers the first note (200) and writes nothing.
    let r = send(t.admin.clone(), "note-1", "约了下周复诊").await;
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(rows(&t).await, 1);
    assert_eq!(note_audits(&t).await, 1);
    assert_eq!(note_events(&t, c).await, 1);
    // The same key with another text is 422, naming the header; nothing written.
    let r = send(t.admin.clone(), "note-1", "另一段话").await;
    let (status, code, field) = error_of(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "idempotency_key_reused");
    assert_eq!(field.as_deref(), Some("Idempotency-Key"));
    // A malformed key is refused before anything happens.
    let r = send(t.admin.clone(), "两个 字", "约了下周复诊").await;
    assert_eq!(error_of(r).await.1, "invalid_idempotency_key");
    assert_eq!(rows(&t).await, 1);
    // Keys are the caller's own: the guide's `note-1` is another note.
    let g = t.login("note.kguide").await;
    let r = send(g.clone(), "note-1", "约了下周复诊").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let theirs: Value = r.json().await.unwrap();
    assert_ne!(theirs["id"], first["id"]);
    let r = send(g, "note-1", "约了下周复诊").await;
    assert_eq!(r.status(), StatusCode::OK);
    // A refused body under a fresh key writes nothing and does not use the key up.
    let r = send(t.admin.clone(), "note-2", "").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(t.admin.clone(), "note-2", "第二条").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(rows(&t).await, 3);
    assert_eq!(note_audits(&t).await, 3);
    // Without a key, the same text twice is two notes.
    added(&t, &t.admin, c, "无键").await;
    added(&t, &t.admin, c, "无键").await;
    assert_eq!(rows(&t).await, 5);
}

async fn notes_follow_a_merge(e: Engine) {
    let t = spawn_app(e).await;
    let survivor = customer_with_phone(&t, "13855550001", "吴女士").await;
    let loser = customer_with_phone(&t, "13855550002", "吴女士（小号）").await;
    let kept = added(&t, &t.admin, survivor, "主号：会员日会来").await;
    let moved = added(&t, &t.admin, loser, "小号：问过价格").await;
    let r = t
        .post(
            &format!("/api/v1/customers/{survivor}/merge"),
            &t.admin,
            json!({ "other_id": loser }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    // Both notes are the survivor's, newest first; the loser's id answers for the survivor.
    for id in [survivor, loser] {
        let page = listed(&t, &t.admin, &notes_path(id)).await;
        assert_eq!(
            bodies(&page),
            ["小号：问过价格", "主号：会员日会来"],
            "{id}"
        );
        for n in page["items"].as_array().unwrap() {
            assert_eq!(n["customer_id"], survivor);
        }
    }
    assert_ne!(kept["id"], moved["id"]);
    let on_loser = scalar(
        &t,
        &format!("SELECT COUNT(*) FROM customer_notes WHERE customer_id = {loser}"),
    )
    .await;
    assert_eq!(on_loser, 0);
    // A note written through the loser's id lands on the survivor.
    let n = added(&t, &t.admin, loser, "合并后写的").await;
    assert_eq!(n["customer_id"], survivor);
    // The moved note is a position in the survivor's list.
    let page = listed(
        &t,
        &t.admin,
        &format!("{}?before={}", notes_path(survivor), moved["id"]),
    )
    .await;
    assert_eq!(bodies(&page), ["主号：会员日会来"]);
}

async fn console_customer_notes(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("NOTE-C").await;
    let guide = t.staff("note.cguide", "guide", Some(store)).await;
    t.staff("note.canalyst", "analyst", None).await;
    let c = customer_with_phone(&t, "13866660001", "郑女士").await;
    follow(&t, c, guide).await;
    let path = format!("/console/customers/{c}");
    let cookie = console_login(&t, "note.cguide").await;

    // The 跟进记录 section, empty, with its form.
    let (status, html) = page(&t, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="customer-notes""#) && html.contains("跟进记录"));
    assert!(html.contains("还没有跟进记录。"));
    assert!(html.contains(r#"id="add-note-form""#));
    let csrf = csrf_in(&html);
    let form = |body: &str| vec![("csrf", csrf.clone()), ("body", body.to_owned())];

    // Written: back to the page, which lists it with its author and Beijing time.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/notes"),
        &form("试穿了新款\r\n下周再来"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("/console/customers/{c}?ok=saved#customer-notes")
    );
    let (_, html) = page(&t, &cookie, &path).await;
    let at = html.find(r#"id="notes-list""#).unwrap();
    let list = &html[at..];
    assert!(list.contains("试穿了新款\n下周再来"), "{list}");
    assert!(list.contains(r#"<span class="note-author">note.cguide</span>"#));
    let created = t
        .app
        .customers()
        .notes(
            &yutang_app::Actor::system(),
            yutang_core::ids::CustomerId(c),
            1,
            None,
        )
        .await
        .unwrap()[0]
        .created_at;
    let shanghai = yutang_core::time::Millis(created).to_shanghai_string();
    assert!(list.contains(&shanghai), "{shanghai} in {list}");
    // The timeline shows the entry too.
    assert!(html.contains("新增跟进记录"));

    // Refused: the page again with the reason and what was typed; nothing written.
    let long = "字".repeat(501);
    let r = post_form(&t, &cookie, &format!("{path}/notes"), &form(&long)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"id="note-error""#) && html.contains("文字过长"));
    assert!(html.contains(&long));
    let r = post_form(&t, &cookie, &format!("{path}/notes"), &form("   ")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A wrong CSRF token changes nothing.
    let r = post_form(
        &t,
        &cookie,
        &format!("{path}/notes"),
        &[("csrf", "forged".to_owned()), ("body", "伪造".to_owned())],
    )
    .await;
    assert_ne!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(rows(&t).await, 1);

    // English labels.
    let r = t
        .client
        .get(t.url(&path))
        .header("cookie", format!("{cookie}; yutang_lang=en"))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("Add note"), "English page");

    // An analyst reads the notes without a form, and may not post one.
    let analyst = console_login(&t, "note.canalyst").await;
    let (status, html) = page(&t, &analyst, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("试穿了新款") && !html.contains(r#"id="add-note-form""#));
    let csrf = csrf_in(&html);
    let r = post_form(
        &t,
        &analyst,
        &format!("{path}/notes"),
        &[("csrf", csrf), ("body", "分析师".to_owned())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(rows(&t).await, 1);
}
