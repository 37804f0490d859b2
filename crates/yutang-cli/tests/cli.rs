#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The command-line contract scripts and operators rely on, on both engines.

use std::io::Write;
use std::process::{Command, Output, Stdio};

mod common;
use common::fresh_pg_url;

fn yutang(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yutang"));
    c.current_dir(dir)
        .args(args)
        .env("YUTANG_LOG", "warn")
        .env_remove("YUTANG_DATABASE_URL");
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn help_lists_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = text(&yutang(dir.path(), &["--help"], None));
    for sub in [
        "serve", "demo", "migrate", "import", "admin", "token", "config",
    ] {
        assert!(out.contains(sub), "{sub} missing from --help:\n{out}");
    }
}

#[test]
fn config_show_masks_secrets_and_refuses_bad_urls() {
    let dir = tempfile::tempdir().unwrap();
    let o = yutang(
        dir.path(),
        &[
            "config",
            "show",
            "--database-url",
            "postgres://yt:hunter2@db/yutang",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("postgres://yt:***@db/yutang") && !out.contains("hunter2"),
        "{out}"
    );
    let o = yutang(
        dir.path(),
        &["migrate", "--database-url", "yutang.db"],
        None,
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("neither a sqlite: nor a postgres:// URL"),
        "{}",
        text(&o)
    );
    assert!(
        !dir.path().join("yutang.db").exists(),
        "a typo must not create a database"
    );
}

fn cli_flow(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let o = yutang(
        dir.path(),
        &["demo", "--seed-only", "--database-url", url],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("20 stores") && out.contains("105 staff"),
        "{out}"
    );
    // A second demo into the same (now non-empty) database is refused.
    let o = yutang(
        dir.path(),
        &["demo", "--seed-only", "--database-url", url],
        None,
    );
    assert!(!o.status.success());
    let o = yutang(dir.path(), &["migrate", "--database-url", url], None);
    assert!(o.status.success(), "{}", text(&o));
    let o = yutang(
        dir.path(),
        &[
            "admin",
            "create",
            "--username",
            "ops.new",
            "--role",
            "operator",
            "--password-stdin",
            "--database-url",
            url,
        ],
        Some("a-long-password\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("created ops.new"));
    let o = yutang(
        dir.path(),
        &[
            "admin",
            "create",
            "--username",
            "x.y",
            "--role",
            "guide",
            "--password-stdin",
            "--database-url",
            url,
        ],
        Some("a-long-password\n"),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("store"), "{}", text(&o));
    let o = yutang(
        dir.path(),
        &[
            "token",
            "create",
            "--name",
            "POS",
            "--role",
            "analyst",
            "--database-url",
            url,
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.trim().starts_with("ytk_") && stdout.trim().len() == 68,
        "{stdout}"
    );
}

#[test]
fn demo_admin_and_token_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    cli_flow(&format!("sqlite://{}", dir.path().join("cli.db").display()));
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_admin_and_token_on_postgres() {
    let url = fresh_pg_url().await;
    tokio::task::spawn_blocking(move || cli_flow(&url))
        .await
        .unwrap();
}

#[test]
fn default_demo_database_is_recreated() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let o = yutang(dir.path(), &["demo", "--seed-only"], None);
        assert!(o.status.success(), "{}", text(&o));
    }
    assert!(dir.path().join("yutang-demo.db").exists());
}

const CUSTOMERS_CSV: &str = "\u{feff}手机号,姓名,性别,生日,城市,会员等级,unionid,导购
+86 138-0000-1001,王芳,女,1990-05-17,上海,金卡,oU_imp_1,sh-001.guide1
13800001002,李娜,female,,杭州,,,
12345,坏号码,,,,,,
13800001004,日期错,,1990-13-01,,,,
13800001005,未知导购,,,,,,nobody.here
\"13800001006\",\"引号, 逗号\",,,,,,
13800001007,多一列,,,,,,,extra
";

const ORDERS_CSV: &str =
    "订单号,手机号,渠道,门店编码,导购,支付时间,商品编码,商品名称,数量,单价(分),优惠(分)
IMP-1,13800001001,store,sh-001,sh-001.guide1,2026-05-01 10:00:00,CHERRY,车厘子,1,19900,0
IMP-1,13800001001,store,sh-001,sh-001.guide1,2026-05-01 10:00:00,APPLE,苹果,2,1290,0
IMP-2,13800001002,mini_program,,,2026-06-01 12:00,MANGO,芒果,1,3990,
IMP-3,13800001002,store,,,2026-06-02 12:00,X,x,1,12.5,
IMP-4,13999999999,store,,,2026-06-03 12:00,X,x,1,100,
IMP-5,13800001002,store,NOPE-1,,2026-06-03 12:00,X,x,1,100,
";

/// A directory to work in and the demo organisation (no customers) in the database at `url`.
fn seeded(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = yutang(
        dir.path(),
        &[
            "demo",
            "--seed-only",
            "--customers",
            "0",
            "--database-url",
            url,
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    dir
}

/// `yutang import ARGS --database-url URL` in `dir`.
fn run_import(dir: &std::path::Path, url: &str, args: &[&str]) -> Output {
    let mut a = vec!["import"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--database-url", url]);
    yutang(dir, &a, None)
}

fn import_flow(url: &str) {
    let dir = seeded(url);
    std::fs::write(dir.path().join("customers.csv"), CUSTOMERS_CSV).unwrap();
    std::fs::write(dir.path().join("orders.csv"), ORDERS_CSV).unwrap();
    let import = |args: &[&str]| run_import(dir.path(), url, args);
    // Dry run: every bad row reported, nothing written.
    let o = import(&["customers", "customers.csv", "--dry-run"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    for want in [
        "7 rows, 3 valid, 4 bad (dry run: nothing written)",
        "row 4, column 手机号: invalid_phone",
        "row 5, column 生日: invalid_date",
        "row 6, column 导购: unknown_staff",
        "row 8, column -: malformed_row",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    // Orders before customers exist: unknown customers, nothing written.
    let o = import(&["orders", "orders.csv", "--dry-run"]);
    assert!(text(&o).contains("unknown_customer"), "{}", text(&o));
    // Real run writes the valid rows; a re-run changes nothing.
    let o = import(&["customers", "customers.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("created 3, attached to existing 0"),
        "{}",
        text(&o)
    );
    let o = import(&["customers", "customers.csv"]);
    assert!(
        text(&o).contains("created 0, attached to existing 3"),
        "{}",
        text(&o)
    );
    let o = import(&["orders", "orders.csv"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    for want in [
        "6 rows, 3 valid, 3 bad",
        "created 2, already imported 0",
        "row 5, column 单价(分): amount_not_integer",
        "row 6, column 手机号: unknown_customer",
        "row 7, column 门店编码: unknown_store",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    let o = import(&["orders", "orders.csv", "--json"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["created"].as_i64(), v["duplicates"].as_i64()),
        (Some(0), Some(2))
    );
    let o = import(&["orders", "orders.csv", "--map", "订单号=nope"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no such field"), "{}", text(&o));
}

#[test]
fn import_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    import_flow(&format!("sqlite://{}", dir.path().join("imp.db").display()));
}

#[tokio::test(flavor = "multi_thread")]
async fn import_on_postgres() {
    let url = fresh_pg_url().await;
    tokio::task::spawn_blocking(move || import_flow(&url))
        .await
        .unwrap();
}

/// A cell of an .xlsx fixture: text, a number, or a date-time (written as an Excel date with
/// a date format, as spreadsheets export them).
enum Cell {
    S(&'static str),
    N(f64),
    D(&'static str),
}

fn write_xlsx(path: &std::path::Path, rows: &[Vec<Cell>]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                Cell::S(s) => ws.write_string(r, c, *s).map(|_| ()),
                Cell::N(n) => ws.write_number(r, c, *n).map(|_| ()),
                Cell::D(d) => {
                    let dt = rust_xlsxwriter::ExcelDateTime::parse_from_str(d).unwrap();
                    ws.write_datetime_with_format(r, c, &dt, &date).map(|_| ())
                }
            }
            .unwrap();
        }
    }
    wb.save(path).unwrap();
}

/// The import flow with Excel workbooks: phones and amounts stored as numbers, paid_at as an
/// Excel date, bad rows reported by row and column, idempotent re-runs.
fn import_xlsx_flow(url: &str) {
    use Cell::{D, N, S};
    let dir = seeded(url);
    write_xlsx(
        &dir.path().join("customers.xlsx"),
        &[
            vec![S("手机号"), S("姓名"), S("城市"), S("会员等级")],
            vec![N(13800002001.0), S("王芳"), S("上海"), S("金卡")],
            vec![S("+86 138-0000-2002"), S("李娜"), S("杭州"), S("")],
            vec![N(12345.0), S("坏号码"), S(""), S("")],
            vec![S(""), S("无身份"), S("北京"), S("")],
        ],
    );
    let at = "2026-05-01 10:00:00";
    write_xlsx(
        &dir.path().join("orders.xlsx"),
        &[
            vec![
                S("订单号"),
                S("手机号"),
                S("渠道"),
                S("支付时间"),
                S("商品编码"),
                S("商品名称"),
                S("数量"),
                S("单价(分)"),
            ],
            vec![
                S("XL-1"),
                N(13800002001.0),
                S("store"),
                D(at),
                S("CHERRY"),
                S("车厘子"),
                N(1.0),
                N(19900.0),
            ],
            vec![
                S("XL-1"),
                N(13800002001.0),
                S("store"),
                D(at),
                S("APPLE"),
                S("苹果"),
                N(2.0),
                N(1290.0),
            ],
            vec![
                S("XL-2"),
                S("13800002002"),
                S("mini_program"),
                S("2026-06-01 12:00"),
                S("MANGO"),
                S("芒果"),
                N(1.0),
                N(3990.0),
            ],
            vec![
                S("XL-3"),
                S("13800002002"),
                S("store"),
                D(at),
                S("X"),
                S("x"),
                N(1.0),
                N(12.5),
            ],
            vec![
                S("XL-4"),
                N(13999999999.0),
                S("store"),
                D(at),
                S("X"),
                S("x"),
                N(1.0),
                N(100.0),
            ],
        ],
    );
    let import = |args: &[&str]| run_import(dir.path(), url, args);
    let o = import(&["customers", "customers.xlsx", "--dry-run"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    for want in [
        "4 rows, 2 valid, 2 bad (dry run: nothing written)",
        "row 4, column 手机号: invalid_phone",
        "row 5, column 手机号: identity_required",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    let o = import(&["customers", "customers.xlsx"]);
    assert!(
        text(&o).contains("created 2, attached to existing 0"),
        "{}",
        text(&o)
    );
    let o = import(&["customers", "customers.xlsx"]);
    assert!(
        text(&o).contains("created 0, attached to existing 2"),
        "{}",
        text(&o)
    );
    let o = import(&["orders", "orders.xlsx", "--dry-run"]);
    let out = text(&o);
    for want in [
        "5 rows, 3 valid, 2 bad (dry run: nothing written)",
        "row 5, column 单价(分): amount_not_integer",
        "row 6, column 手机号: unknown_customer",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    let o = import(&["orders", "orders.xlsx"]);
    assert!(
        text(&o).contains("created 2, already imported 0"),
        "{}",
        text(&o)
    );
    let o = import(&["orders", "orders.xlsx", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&String::from_utf8_lossy(&o.stdout)).unwrap();
    assert_eq!(
        (v["created"].as_i64(), v["duplicates"].as_i64()),
        (Some(0), Some(2))
    );
}

/// The Excel date in `支付时间` is Asia/Shanghai wall time: 10:00 → 02:00 UTC.
async fn paid_at(url: &str, external_id: &str) -> i64 {
    let sql = "SELECT paid_at FROM orders WHERE external_id = $1";
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(external_id)
            .fetch_one(&pool)
            .await
            .unwrap()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(external_id)
            .fetch_one(&pool)
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn import_xlsx_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("imp.db").display());
    let u = url.clone();
    tokio::task::spawn_blocking(move || import_xlsx_flow(&u))
        .await
        .unwrap();
    assert_eq!(paid_at(&url, "XL-1").await, 1_777_600_800_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_xlsx_on_postgres() {
    let url = fresh_pg_url().await;
    let u = url.clone();
    tokio::task::spawn_blocking(move || import_xlsx_flow(&u))
        .await
        .unwrap();
    assert_eq!(paid_at(&url, "XL-1").await, 1_777_600_800_000);
}
