//! The console's import page: upload (CSV and .xlsx), column mapping, dry run listing bad rows
//! without writing, the real run with progress and summary, idempotent re-runs, limits,
//! permissions, CSRF and the audit trail.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::console::{console_login, csrf_in, page};
use crate::helpers::{Engine, TestApp, csv_download, spawn_app};

both_engines!(
    import_page_csv_dry_run_then_idempotent_run,
    import_page_xlsx_orders_with_bad_rows,
    import_page_mapping_can_be_changed_and_is_checked,
    import_page_refuses_guides_missing_csrf_and_large_files,
    import_templates_download_and_import_cleanly,
);

/// A multipart body with a CSRF token, the kind and one file.
fn multipart(csrf: &str, kind: &str, file_name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----yutang-test-boundary-7d1f";
    let mut b = Vec::new();
    for (name, value) in [("csrf", csrf), ("kind", kind)] {
        b.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    b.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    b.extend_from_slice(content);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

async fn post_multipart(
    t: &TestApp,
    cookie: &str,
    (ct, body): (String, Vec<u8>),
) -> reqwest::Response {
    t.client
        .post(t.url("/console/import"))
        .header("cookie", cookie)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Upload a file that is refused: the status and the page, which must name the file field.
async fn upload_refused(
    t: &TestApp,
    cookie: &str,
    file_name: &str,
    content: &[u8],
) -> (StatusCode, String) {
    let (_, html) = page(t, cookie, "/console/import").await;
    let r = post_multipart(
        t,
        cookie,
        multipart(&csrf_in(&html), "orders", file_name, content),
    )
    .await;
    let status = r.status();
    let html = r.text().await.unwrap();
    assert!(html.contains("data-field=\"file\""), "{html}");
    (status, html)
}

/// Upload a file through the page's form; returns the run id.
pub(crate) async fn upload(
    t: &TestApp,
    cookie: &str,
    kind: &str,
    file_name: &str,
    content: &[u8],
) -> i64 {
    let (s, html) = page(t, cookie, "/console/import").await;
    assert_eq!(s, StatusCode::OK);
    let r = post_multipart(
        t,
        cookie,
        multipart(&csrf_in(&html), kind, file_name, content),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    to.rsplit('/').next().unwrap().parse().unwrap()
}

/// Post the run page's mapping form as it is (the defaults) plus `extra`, to `/check` or
/// `/run`; returns the status.
pub(crate) async fn start(
    t: &TestApp,
    cookie: &str,
    id: i64,
    action: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, String) {
    let (_, html) = page(t, cookie, &format!("/console/import/{id}")).await;
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf_in(&html))];
    for (k, v) in extra {
        form.push(((*k).into(), (*v).into()));
    }
    let r = t
        .client
        .post(t.url(&format!("/console/import/{id}/{action}")))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Poll the status endpoint until the run is no longer busy; returns the status JSON.
pub(crate) async fn wait(t: &TestApp, cookie: &str, id: i64) -> Value {
    for _ in 0..600 {
        let r = t
            .client
            .get(t.url(&format!("/console/import/{id}/status")))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        if v["state"] != "checking" && v["state"] != "running" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

async fn customer_total(t: &TestApp) -> i64 {
    let r = t.get("/api/v1/customers", &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["total"].as_i64().unwrap()
}

async fn order_total(t: &TestApp) -> i64 {
    let r = t.get("/api/v1/orders", &t.admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["total"].as_i64().unwrap()
}

pub(crate) const CUSTOMERS_CSV: &str = "手机号,姓名,城市,备注\n\
    138 0013 8000,王芳,上海,老客户\n\
    12345,坏号码,北京,\n\
    +86 139-0013-9000,李雷,杭州,\n";

async fn import_page_csv_dry_run_then_idempotent_run(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("imp.boss", "admin", None).await;
    let cookie = console_login(&t, "imp.boss").await;
    let (s, html) = page(&t, &cookie, "/console/import").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("upload-form") && html.contains("/console/import"));
    let id = upload(
        &t,
        &cookie,
        "customers",
        "客户.csv",
        CUSTOMERS_CSV.as_bytes(),
    )
    .await;

    // The detected headers with their default mapping (Chinese names matched).
    let (s, html) = page(&t, &cookie, &format!("/console/import/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-header=\"手机号\""), "{html}");
    assert!(html.contains("<option value=\"phone\" selected>"), "{html}");
    assert!(html.contains("<option value=\"city\" selected>"), "{html}");

    // Dry run: the bad phone is listed with its row and column; nothing is written.
    let (s, _) = start(&t, &cookie, id, "check", &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let v = wait(&t, &cookie, id).await;
    assert_eq!(v["state"], "checked", "{v}");
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["summary"]["failed"], 1);
    let (_, html) = page(&t, &cookie, &format!("/console/import/{id}")).await;
    assert!(html.contains("errors-table"), "{html}");
    assert!(
        html.contains("<tr data-code=\"invalid_phone\"><td>3</td><td>手机号</td>"),
        "{html}"
    );
    assert!(html.contains("未写入任何数据"));
    assert_eq!(customer_total(&t).await, 0, "a dry run writes nothing");
    let r = t
        .client
        .get(t.url(&format!("/console/import/{id}/errors.csv")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert!(csv.contains("3,手机号,invalid_phone,"), "{csv}");

    // The real run: two customers inserted, one row failed; the summary is shown.
    let (s, _) = start(&t, &cookie, id, "run", &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let v = wait(&t, &cookie, id).await;
    assert_eq!(v["state"], "done", "{v}");
    assert_eq!(v["summary"]["inserted"], 2);
    assert_eq!(v["summary"]["updated"], 0);
    assert_eq!(v["summary"]["failed"], 1);
    assert_eq!(v["percent"], 100);
    assert_eq!(customer_total(&t).await, 2);
    let (_, html) = page(&t, &cookie, &format!("/console/import/{id}")).await;
    assert!(html.contains("summary-table") && !html.contains("mapping-form"));
    // A finished run cannot run again (its file is gone); uploading again is the way.
    let (s, html) = start(&t, &cookie, id, "run", &[]).await;
    assert_eq!(s, StatusCode::CONFLICT, "{html}");

    // Re-running the same file changes nothing: the customers are matched, not duplicated.
    let again = upload(
        &t,
        &cookie,
        "customers",
        "客户.csv",
        CUSTOMERS_CSV.as_bytes(),
    )
    .await;
    assert_ne!(again, id);
    start(&t, &cookie, again, "run", &[]).await;
    let v = wait(&t, &cookie, again).await;
    assert_eq!(v["summary"]["inserted"], 0, "{v}");
    assert_eq!(v["summary"]["updated"], 2);
    assert_eq!(customer_total(&t).await, 2);

    let actions = t.audit_actions().await;
    assert_eq!(
        actions.iter().filter(|a| *a == "import_started").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "import_finished").count(),
        2
    );
    let (_, html) = page(&t, &cookie, "/console/import").await;
    assert!(html.contains("客户.csv") && html.contains("data-state=\"done\""));
}

/// An .xlsx workbook from rows of cells (numbers where a cell parses as an integer).
fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell.parse::<i64>() {
                Ok(n) if !cell.starts_with('0') && cell.len() < 12 => {
                    ws.write_number(r as u32, c as u16, n as f64).unwrap();
                }
                _ => {
                    ws.write_string(r as u32, c as u16, *cell).unwrap();
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn import_page_xlsx_orders_with_bad_rows(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("imp.ops", "operator", None).await;
    let cookie = console_login(&t, "imp.ops").await;
    let customers = xlsx(&[
        &["phone", "name", "member_level"],
        &["13800138000", "王芳", "金卡"],
        &["13900139000", "李雷", ""],
        &["138001", "坏", ""],
    ]);
    let id = upload(&t, &cookie, "customers", "customers.xlsx", &customers).await;
    start(&t, &cookie, id, "run", &[]).await;
    let v = wait(&t, &cookie, id).await;
    assert_eq!(v["summary"]["inserted"], 2, "{v}");
    assert_eq!(v["summary"]["failed"], 1);

    let orders = xlsx(&[
        &[
            "订单号",
            "手机号",
            "渠道",
            "支付时间",
            "商品编码",
            "商品名称",
            "数量",
            "单价(分)",
        ],
        &[
            "X-1",
            "13800138000",
            "store",
            "2026-06-01 10:00:00",
            "SKU1",
            "车厘子",
            "2",
            "12990",
        ],
        &[
            "X-1",
            "13800138000",
            "store",
            "2026-06-01 10:00:00",
            "SKU2",
            "蓝莓",
            "1",
            "3990",
        ],
        &[
            "X-2",
            "13900139000",
            "mini_program",
            "2026-06-02 09:30:00",
            "SKU1",
            "车厘子",
            "1",
            "12990",
        ],
        &[
            "X-3",
            "13900139000",
            "store",
            "2026-06-02 09:30:00",
            "SKU3",
            "榴莲",
            "1",
            "99.5",
        ],
        &[
            "X-4",
            "13700000000",
            "store",
            "2026-06-02 09:30:00",
            "SKU3",
            "榴莲",
            "1",
            "9950",
        ],
    ]);
    let id = upload(&t, &cookie, "orders", "订单.xlsx", &orders).await;
    start(&t, &cookie, id, "check", &[]).await;
    let v = wait(&t, &cookie, id).await;
    assert_eq!(v["state"], "checked", "{v}");
    assert_eq!(v["summary"]["failed"], 2, "{v}");
    let (_, html) = page(&t, &cookie, &format!("/console/import/{id}")).await;
    assert!(
        html.contains("<td>5</td><td>单价(分)</td>"),
        "decimal amount on row 5: {html}"
    );
    assert!(
        html.contains("data-code=\"unknown_customer\"><td>6</td>"),
        "{html}"
    );
    assert_eq!(order_total(&t).await, 0);

    start(&t, &cookie, id, "run", &[]).await;
    let v = wait(&t, &cookie, id).await;
    assert_eq!(v["state"], "done", "{v}");
    assert_eq!(v["summary"]["inserted"], 2);
    assert_eq!(v["summary"]["failed"], 2);
    assert_eq!(order_total(&t).await, 2);

    // The same workbook again: both orders are skipped as already imported.
    let again = upload(&t, &cookie, "orders", "订单.xlsx", &orders).await;
    start(&t, &cookie, again, "run", &[]).await;
    let v = wait(&t, &cookie, again).await;
    assert_eq!(v["summary"]["inserted"], 0, "{v}");
    assert_eq!(v["summary"]["skipped"], 2);
    assert_eq!(order_total(&t).await, 2);
}

async fn import_page_mapping_can_be_changed_and_is_checked(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("imp.map", "admin", None).await;
    let cookie = console_login(&t, "imp.map").await;
    let id = upload(&t, &cookie, "customers", "c.csv", CUSTOMERS_CSV.as_bytes()).await;
    // Two columns on one field: refused at once, nothing starts.
    let (s, html) = start(&t, &cookie, id, "check", &[("m3", "phone")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("data-field=\"map\""), "{html}");
    // Unknown field: refused too.
    let (s, _) = start(&t, &cookie, id, "check", &[("m3", "no_such_field")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // 备注 → member_level and 城市 ignored: the run uses that mapping.
    let (s, _) = start(
        &t,
        &cookie,
        id,
        "run",
        &[("m2", ""), ("m3", "member_level")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let v = wait(&t, &cookie, id).await;
    assert_eq!(v["summary"]["inserted"], 2, "{v}");
    let r = t.get("/api/v1/customers?q=王芳", &t.admin).await;
    let c = &r.json::<Value>().await.unwrap()["items"][0];
    assert_eq!(c["member_level"], "老客户", "{c}");
    assert_eq!(c["city"], "", "{c}");
}

async fn import_page_refuses_guides_missing_csrf_and_large_files(e: Engine) {
    let t = spawn_app(e).await;
    let store = t.store("IMP-1").await;
    t.staff("imp.guide", "guide", Some(store)).await;
    t.staff("imp.admin", "admin", None).await;
    let guide = console_login(&t, "imp.guide").await;
    let (s, _) = page(&t, &guide, "/console/import").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, html) = page(&t, &guide, "/console/customers").await;
    assert!(!html.contains("/console/import"), "no nav link for guides");

    let cookie = console_login(&t, "imp.admin").await;
    let (_, html) = page(&t, &cookie, "/console").await;
    assert!(html.contains("href=\"/console/import\""));
    // No CSRF token: refused, nothing stored.
    let r = post_multipart(
        &t,
        &cookie,
        multipart("wrong", "customers", "c.csv", CUSTOMERS_CSV.as_bytes()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A guide cannot upload even with a valid token.
    let (_, html) = page(&t, &guide, "/console/customers").await;
    let r = post_multipart(
        &t,
        &guide,
        multipart(
            &csrf_in(&html),
            "customers",
            "c.csv",
            CUSTOMERS_CSV.as_bytes(),
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Over the limit: a clear error on the page.
    let big = vec![b'a'; yutang_app::import_runs::MAX_UPLOAD_BYTES + 1];
    let (status, html) = upload_refused(&t, &cookie, "big.csv", &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(html.contains("文件超过上传大小上限"), "{html}");
    // Not a spreadsheet: refused with the field named.
    let (status, html) = upload_refused(&t, &cookie, "notes.pdf", b"%PDF-1.4").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("文件须为"), "{html}");
    let (_, html) = page(&t, &cookie, "/console/import").await;
    assert!(!html.contains("notes.pdf") && !html.contains("big.csv"));
}

/// Each template on the import page downloads as CSV and, uploaded as it is, imports without a
/// row error: customers first (the orders example buys as the customers example).
async fn import_templates_download_and_import_cleanly(e: Engine) {
    let t = spawn_app(e).await;
    t.staff("tpl.boss", "admin", None).await;
    let store = t.store("TPL").await;
    t.staff("tpl.guide", "guide", Some(store)).await;
    let cookie = console_login(&t, "tpl.boss").await;
    let (_, html) = page(&t, &cookie, "/console/import").await;
    for kind in ["customers", "orders"] {
        let href = format!("/console/import/templates/{kind}.csv");
        assert!(html.contains(&format!("href=\"{href}\"")), "{html}");
        let r = t
            .client
            .get(t.url(&href))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        // Uploaded as downloaded, BOM and all.
        let csv = format!("\u{feff}{}", csv_download(r).await);
        let id = upload(&t, &cookie, kind, &format!("{kind}.csv"), csv.as_bytes()).await;
        // Every column is recognised (none is left unmapped).
        let (_, run) = page(&t, &cookie, &format!("/console/import/{id}")).await;
        assert!(!run.contains("<option value=\"\" selected>"), "{run}");
        let (s, _) = start(&t, &cookie, id, "check", &[]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let v = wait(&t, &cookie, id).await;
        assert_eq!(v["state"], "checked", "{v}");
        assert_eq!(v["summary"]["failed"], 0, "{kind}: {v}");
        let (s, _) = start(&t, &cookie, id, "run", &[]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let v = wait(&t, &cookie, id).await;
        assert_eq!(v["state"], "done", "{v}");
        assert_eq!(v["summary"]["failed"], 0, "{kind}: {v}");
        assert_eq!(v["summary"]["inserted"], 1, "{kind}: {v}");
    }
    assert_eq!(customer_total(&t).await, 1);
    assert_eq!(order_total(&t).await, 1);
    let orders: Value = t
        .get("/api/v1/orders", &t.admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        orders["items"][0]["amount_fen"],
        2 * 19900 - 1000,
        "{orders}"
    );

    // An unknown template is a 404; a guide (who may not import) is refused.
    let r = t
        .client
        .get(t.url("/console/import/templates/staff.csv"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let guide = console_login(&t, "tpl.guide").await;
    let r = t
        .client
        .get(t.url("/console/import/templates/customers.csv"))
        .header("cookie", &guide)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
