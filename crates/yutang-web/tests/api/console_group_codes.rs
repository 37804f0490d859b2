//! The group live code pages (群活码, issue #20 item 1) through HTTP: 群活码 in the menu, an
//! operator creates a code over two customer groups through the form, sees it on the list and
//! on its page (groups in filling order, the sync note in Chinese since no WeCom is set up),
//! edits it; a bad cap and six groups come back under their field with 422 and nothing
//! written; a guide reads the list and the page but may not open the form; archiving goes
//! through the confirm page; the pages read in English too.

use reqwest::StatusCode;

use crate::acquisition::scalar;
use crate::console::{console_login, csrf_in, page};
use crate::console_acquisition::{location, post_form, refused};
use crate::helpers::{Engine, TestApp, spawn_app};

both_engines!(console_group_codes_by_role);

fn zh(code: &str) -> &'static str {
    yutang_core::error_codes::find(code).expect(code).zh
}

/// Six live customer groups, as a sync from WeCom would leave them; their ids.
async fn groups(t: &TestApp) -> Vec<i64> {
    t.exec(
        "INSERT INTO customer_groups (chat_id, name, owner_userid, created_at, synced_at, \
         updated_at) VALUES ('wrGc0001', '福利一群', 'zhangwei', 0, 0, 0), \
         ('wrGc0002', '福利二群', 'zhangwei', 0, 0, 0), \
         ('wrGc0003', '福利三群', 'zhangwei', 0, 0, 0), \
         ('wrGc0004', '福利四群', 'zhangwei', 0, 0, 0), \
         ('wrGc0005', '福利五群', 'zhangwei', 0, 0, 0), \
         ('wrGc0006', '福利六群', 'zhangwei', 0, 0, 0)",
    )
    .await;
    let mut ids = Vec::new();
    for i in 1..=6 {
        ids.push(
            scalar(
                t,
                &format!("SELECT id FROM customer_groups WHERE chat_id = 'wrGc000{i}'"),
            )
            .await,
        );
    }
    ids
}

/// The form's fields: the name, the cap and the groups in filling order (blank selects
/// padded to five, as the browser posts them).
fn form(csrf: &str, name: &str, cap: &str, group_ids: &[i64]) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("csrf", csrf.to_owned()),
        ("name", name.to_owned()),
        ("store_id", String::new()),
        ("channel_id", String::new()),
        ("scene", "qr".to_owned()),
        ("member_cap", cap.to_owned()),
        ("auto_create", "on".to_owned()),
        ("room_base_name", "福利群".to_owned()),
        ("room_base_id", "1".to_owned()),
    ];
    for g in group_ids {
        f.push(("group_ids", g.to_string()));
    }
    for _ in group_ids.len()..5 {
        f.push(("group_ids", String::new()));
    }
    f
}

async fn console_group_codes_by_role(e: Engine) {
    let t = spawn_app(e).await;
    let g = groups(&t).await;
    let store = t.store("GC-1").await;
    t.staff("gc.ops", "operator", None).await;
    t.staff("gc.guide", "guide", Some(store)).await;
    let ops = console_login(&t, "gc.ops").await;

    // 群活码 in the menu; the empty list offers 新建群活码.
    let (status, html) = page(&t, &ops, "/console/group-codes").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<a href="/console/group-codes" class="on">群活码</a>"#));
    assert!(html.contains(r#"id="new-group-code""#) && html.contains("还没有群活码"));
    assert!(!html.contains("??"), "{html}");

    // The form: five group selects over the live groups, cap 200 and auto-create on.
    let (status, html) = page(&t, &ops, "/console/group-codes/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="member_cap" name="member_cap" value="200""#));
    assert!(html.contains(r#"id="auto_create" checked"#), "{html}");
    assert!(html.contains("第1个群") && html.contains("第5个群") && !html.contains("第6个群"));
    assert!(html.contains(&format!(
        r#"<option value="{}" >福利一群（0 人）</option>"#,
        g[0]
    )));
    assert!(html.contains("企业微信扫码入群上限 200 人，群上限 500 人"));
    let csrf = csrf_in(&html);

    // Refused: a cap of 0 or 501, six groups; each under its field, what was typed kept.
    for (cap, groups, field, code) in [
        ("0", &g[..2], "member_cap", "invalid_count"),
        ("501", &g[..2], "member_cap", "invalid_count"),
        ("200", &g[..], "group_ids", "too_many_items"),
        ("200", &[][..], "group_ids", "required"),
    ] {
        let r = post_form(
            &t,
            &ops,
            "/console/group-codes",
            &form(&csrf, "门店福利群", cap, groups),
        )
        .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{cap} {field}"
        );
        let html = r.text().await.unwrap();
        assert!(html.contains(&refused(field, zh(code))), "{field}: {html}");
        assert!(html.contains(r#"value="门店福利群""#), "the name is kept");
        assert!(
            html.contains(&format!(r#"value="{cap}""#)),
            "the cap is kept"
        );
    }
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM group_codes").await, 0);

    // Created over 福利二群 then 福利一群 (filling order as chosen).
    let r = post_form(
        &t,
        &ops,
        "/console/group-codes",
        &form(&csrf, "门店福利群", "150", &[g[1], g[0]]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = location(&r);
    assert!(loc.ends_with("?ok=created"), "{loc}");
    let id: i64 = loc
        .trim_start_matches("/console/group-codes/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (status, html) = page(&t, &ops, &loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<h1 id="code-name">门店福利群"#));
    assert!(html.contains(r#"<div id="code-cap">150</div>"#));
    assert!(html.contains(r#"data-fill="open""#) && html.contains("有空位"));
    // No WeCom here: the code waits, and says why in Chinese; no QR yet.
    assert!(html.contains(r#"data-sync="pending""#), "{html}");
    assert!(html.contains("企业微信 API 尚未配置"));
    assert!(html.contains(r#"id="no-qr""#) && !html.contains(r#"id="qr-image""#));
    let second = html.find(&format!(r#"data-group="{}""#, g[1])).unwrap();
    let first = html.find(&format!(r#"data-group="{}""#, g[0])).unwrap();
    assert!(second < first, "the groups in filling order");
    assert!(html.contains(r#"data-members="0/150""#));
    assert!(
        html.contains(r#"id="edit-group-code""#) && html.contains(r#"id="archive-group-code""#)
    );
    assert!(!html.contains("??"), "{html}");

    // On the list: brand-wide, no channel, two groups, nothing joined yet.
    let (_, html) = page(&t, &ops, "/console/group-codes").await;
    let row = &html[html.find(&format!(r#"data-code="{id}""#)).expect("listed")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("门店福利群") && row.contains("全品牌") && row.contains("—"));
    assert!(row.contains(r#"data-groups="2""#) && row.contains(r#"data-fill="open""#));
    assert!(row.contains(r#"data-joins="0/0""#), "{row}");

    // Edited: the scene is shown, not offered; the groups come back in their order.
    let edit = format!("/console/group-codes/{id}/edit");
    let (status, html) = page(&t, &ops, &edit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"value="150""#) && html.contains(r#"<p id="scene">"#));
    assert!(!html.contains(r#"id="scene-qr""#));
    let slot0 = &html[html.find(r#"id="group_0""#).unwrap()..];
    let slot0 = &slot0[..slot0.find("</select>").unwrap()];
    assert!(
        slot0.contains(&format!(r#"<option value="{}" selected>"#, g[1])),
        "{slot0}"
    );
    let csrf = csrf_in(&html);
    let r = post_form(&t, &ops, &edit, &form(&csrf, "门店福利群", "501", &g[..3])).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&refused("member_cap", zh("invalid_count")))
    );
    let r = post_form(&t, &ops, &edit, &form(&csrf, "门店福利群", "180", &g[..3])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/console/group-codes/{id}?ok=saved"));
    let (_, html) = page(&t, &ops, &format!("/console/group-codes/{id}")).await;
    assert!(html.contains(r#"<div id="code-cap">180</div>"#));
    assert!(html.contains(&format!(r#"data-group="{}""#, g[2])));
    // 立即同步 answers with the page.
    let r = post_form(
        &t,
        &ops,
        &format!("/console/group-codes/{id}/sync"),
        &[("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/console/group-codes/{id}?ok=synced"));

    // A guide reads the list and the page, but may not create or change a code.
    let guide = console_login(&t, "gc.guide").await;
    let (status, html) = page(&t, &guide, "/console/group-codes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("门店福利群") && !html.contains(r#"id="new-group-code""#));
    let (status, html) = page(&t, &guide, &format!("/console/group-codes/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(r#"id="edit-group-code""#));
    for path in ["/console/group-codes/new".to_owned(), edit.clone()] {
        let (status, _) = page(&t, &guide, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, html) = page(&t, &guide, "/console/group-codes").await;
    let guide_csrf = csrf_in(&html);
    let r = post_form(
        &t,
        &guide,
        "/console/group-codes",
        &form(&guide_csrf, "导购的群", "200", &g[..1]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM group_codes").await, 1);

    // In English.
    let en = format!("{ops}; yutang_lang=en");
    let (_, html) = page(&t, &en, &format!("/console/group-codes/{id}")).await;
    assert!(html.contains("Room left") && html.contains("Members / cap"));
    assert!(!html.contains("??"), "{html}");

    // Archived through the confirm page: off the list, on the archived one.
    let archive = format!("/console/group-codes/{id}/archive");
    let (status, html) = page(&t, &ops, &archive).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("归档群活码“门店福利群”"), "{html}");
    let r = post_form(&t, &ops, &archive, &[("csrf", csrf_in(&html))]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console/group-codes?archived=1&ok=archived");
    let (_, html) = page(&t, &ops, "/console/group-codes").await;
    assert!(!html.contains(&format!(r#"data-code="{id}""#)));
    let (_, html) = page(&t, &ops, "/console/group-codes?archived=1").await;
    assert!(html.contains(&format!(r#"data-code="{id}""#)));
    let (_, html) = page(&t, &ops, &format!("/console/group-codes/{id}")).await;
    assert!(html.contains("已归档") && !html.contains(r#"id="edit-group-code""#));
}
