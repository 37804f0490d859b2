//! Bulk import of customers and orders from CSV (UTF-8, with or without BOM) and Excel
//! (xlsx, xls, xlsb, ods — the first sheet). The first row names the columns; headers are
//! matched to fields by English key or common Chinese name, and `--map 'Header=field'`
//! overrides. A dry run parses every row and reports each bad one (row, column, reason)
//! without writing; a real run writes the valid rows and reports the bad ones. Re-running the
//! same file changes nothing: customers attach by identity, orders are keyed by external id.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::customers::{FollowState, ProfilePatch};
use yutang_core::identity::Identity;
use yutang_core::ids::{CustomerId, StaffId};
use yutang_core::money::Fen;
use yutang_core::orders::{
    OrderLine, OrderStatus, order_amount, parse_channel, parse_external_id, parse_fen,
};
use yutang_core::staff::Permission;
use yutang_core::time::Millis;
use yutang_store::orders::NewOrder;

use crate::customers::{CustomerInput, CustomerRef, FollowChange};
use crate::demo::Progress;
use crate::error::{AppError, Result};
use crate::{Actor, App};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Customers,
    Orders,
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub dry_run: bool,
    /// `(header as in the file, field)` overrides of the automatic column mapping.
    pub mapping: Vec<(String, String)>,
}

/// One bad row: the row number as a spreadsheet shows it (the header is row 1), the column
/// header, a stable code and a message.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read.
    pub rows: usize,
    /// Rows that parsed.
    pub valid_rows: usize,
    /// Customers created / attached (customers), orders created (orders).
    pub created: usize,
    pub attached: usize,
    /// Orders already stored (re-runs).
    pub duplicates: usize,
    pub errors: Vec<RowError>,
    /// Headers that map to no field (ignored).
    pub ignored_columns: Vec<String>,
}

const CUSTOMER_FIELDS: &[(&str, &[&str])] = &[
    ("phone", &["phone", "mobile", "手机号", "手机", "电话"]),
    ("name", &["name", "姓名", "客户姓名"]),
    ("gender", &["gender", "性别"]),
    ("birthday", &["birthday", "生日"]),
    ("city", &["city", "城市"]),
    ("member_level", &["member_level", "会员等级", "等级"]),
    ("unionid", &["unionid"]),
    (
        "wecom_external",
        &["wecom_external", "external_userid", "企微外部联系人id"],
    ),
    ("openid", &["openid"]),
    ("openid_appid", &["openid_appid", "appid"]),
    ("pos_member", &["pos_member", "会员卡号", "会员号"]),
    ("app_user", &["app_user", "app用户id"]),
    ("guide", &["guide", "导购", "归属导购"]),
];

const ORDER_FIELDS: &[(&str, &[&str])] = &[
    ("external_id", &["external_id", "order_id", "订单号"]),
    ("customer_id", &["customer_id", "客户id"]),
    ("phone", &["phone", "customer_phone", "手机号"]),
    ("pos_member", &["pos_member", "会员卡号"]),
    ("channel", &["channel", "渠道"]),
    ("store_code", &["store_code", "门店编码"]),
    ("guide", &["guide", "导购"]),
    ("campaign", &["campaign", "活动"]),
    ("status", &["status", "状态"]),
    ("paid_at", &["paid_at", "支付时间", "下单时间"]),
    ("sku", &["sku", "商品编码"]),
    ("item_name", &["item_name", "商品名称"]),
    ("quantity", &["quantity", "qty", "数量"]),
    ("unit_price_fen", &["unit_price_fen", "单价(分)", "单价分"]),
    ("discount_fen", &["discount_fen", "优惠(分)", "优惠分"]),
];

/// The example row of the customers template, one value per field of [`CUSTOMER_FIELDS`] in
/// order (empty: an optional field the example leaves out).
const CUSTOMER_EXAMPLE: &[&str] = &[
    "13800138000",
    "王芳",
    "female",
    "1990-05-12",
    "上海",
    "金卡",
    "",
    "",
    "",
    "",
    "M20250001",
    "",
    "",
];

/// The example row of the orders template (a purchase of the example customer), one value per
/// field of [`ORDER_FIELDS`] in order.
const ORDER_EXAMPLE: &[&str] = &[
    "POS-20250308-0001",
    "",
    "13800138000",
    "",
    "store",
    "",
    "",
    "春季上新",
    "completed",
    "2025-03-08 14:30:00",
    "SKU-1001",
    "羊毛围巾",
    "2",
    "19900",
    "1000",
];

impl ImportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Customers => "customers",
            ImportKind::Orders => "orders",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s {
            "customers" => Ok(ImportKind::Customers),
            "orders" => Ok(ImportKind::Orders),
            _ => Err(FieldError::new(
                field,
                "invalid_import_kind",
                "choose customers or orders",
            )),
        }
    }

    /// The fields a file of this kind can fill, in display order.
    pub fn fields(self) -> Vec<&'static str> {
        self.aliases().iter().map(|(f, _)| *f).collect()
    }

    /// A CSV template of this kind for people to fill in: a UTF-8 BOM (so Excel reads the
    /// Chinese example as UTF-8), the header row of every field by its own name (the name the
    /// importer matches first) and one example row. The orders example buys as the customers
    /// example, so importing both templates in turn imports cleanly.
    pub fn template_csv(self) -> String {
        let example = match self {
            ImportKind::Customers => CUSTOMER_EXAMPLE,
            ImportKind::Orders => ORDER_EXAMPLE,
        };
        format!(
            "\u{feff}{}\r\n{}\r\n",
            self.fields().join(","),
            example.join(",")
        )
    }

    fn aliases(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            ImportKind::Customers => CUSTOMER_FIELDS,
            ImportKind::Orders => ORDER_FIELDS,
        }
    }

    /// The automatic mapping of each header: `(header, field)`, `""` when no field matches
    /// (the column is ignored).
    pub fn suggest(self, headers: &[String]) -> Vec<(String, String)> {
        let mut taken = std::collections::HashSet::new();
        headers
            .iter()
            .map(|h| {
                let key = h.trim().to_lowercase();
                let field = self
                    .aliases()
                    .iter()
                    .find(|(_, aliases)| aliases.iter().any(|a| a.to_lowercase() == key))
                    .map(|(f, _)| *f)
                    .filter(|f| taken.insert(*f))
                    .unwrap_or("");
                (h.clone(), field.to_owned())
            })
            .collect()
    }
}

impl ImportReport {
    /// The summary the console shows: inserted (customers created, orders created), updated
    /// (existing customers matched by identity and updated), skipped (orders already
    /// imported) and failed (bad rows).
    pub fn summary(&self) -> ImportSummary {
        ImportSummary {
            inserted: self.created,
            updated: self.attached,
            skipped: self.duplicates,
            failed: self.errors.len(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct ImportSummary {
    pub inserted: usize,
    pub updated: usize,
    pub skipped: usize,
    pub failed: usize,
}

/// A table read from a file: headers and rows of cell text.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub headers: Vec<String>,
    /// `(row number, cells)`; a row with a different cell count than the header is kept so it
    /// can be reported.
    pub rows: Vec<(usize, Vec<String>)>,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> AppError {
    AppError::Invalid(FieldError::new(
        "file",
        "unreadable_file",
        format!("{}: {e}", path.display()),
    ))
}

/// Read a CSV or Excel file by its extension.
pub fn read_sheet(path: &Path) -> Result<Sheet> {
    match file_kind(&path.to_string_lossy()) {
        Some(false) => {
            let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
            read_csv(&bytes)
        }
        Some(true) => read_excel(path),
        None => Err(unsupported_file()),
    }
}

/// Parse CSV bytes (UTF-8, optional BOM).
pub fn read_csv(bytes: &[u8]) -> Result<Sheet> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut sheet = Sheet::default();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                // A malformed record (e.g. invalid UTF-8): keep an empty row to report.
                if row == 1 {
                    return Err(AppError::Invalid(FieldError::new(
                        "file",
                        "unreadable_file",
                        format!("header row: {e}"),
                    )));
                }
                sheet.rows.push((row, vec!["\u{0}malformed".into()]));
                continue;
            }
        };
        let cells: Vec<String> = rec.iter().map(|c| c.trim().to_owned()).collect();
        if row == 1 {
            sheet.headers = cells;
        } else if cells.iter().any(|c| !c.is_empty()) {
            sheet.rows.push((row, cells));
        }
    }
    Ok(sheet)
}

/// The file kinds an import reads, by (lower-case) extension.
fn file_kind(name: &str) -> Option<bool> {
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "csv" | "txt" => Some(false),
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => Some(true),
        _ => None,
    }
}

fn unsupported_file() -> AppError {
    AppError::Invalid(FieldError::new(
        "file",
        "unsupported_file",
        "the file must be .csv, .xlsx, .xls, .xlsb or .ods",
    ))
}

/// Read an uploaded file from memory; `name` (its original file name) decides CSV or Excel.
pub fn read_sheet_bytes(name: &str, bytes: &[u8]) -> Result<Sheet> {
    match file_kind(name) {
        Some(false) => read_csv(bytes),
        Some(true) => {
            let path = Path::new(name);
            let wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
                .map_err(|e| io_err(path, e))?;
            excel_sheet(path, wb)
        }
        None => Err(unsupported_file()),
    }
}

fn read_excel(path: &Path) -> Result<Sheet> {
    let wb = calamine::open_workbook_auto(path).map_err(|e| io_err(path, e))?;
    excel_sheet(path, wb)
}

fn excel_sheet<RS: std::io::Read + std::io::Seek>(
    path: &Path,
    mut wb: calamine::Sheets<RS>,
) -> Result<Sheet> {
    use calamine::{Data, Reader};
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| io_err(path, "the workbook has no sheet"))?
        .map_err(|e| io_err(path, e))?;
    let mut sheet = Sheet::default();
    for (i, r) in range.rows().enumerate() {
        let cells: Vec<String> = r
            .iter()
            .map(|c| match c {
                Data::Int(n) => n.to_string(),
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    format!("{}", *f as i64)
                }
                Data::Float(f) => f.to_string(),
                Data::String(s) => s.trim().to_owned(),
                Data::Bool(b) => b.to_string(),
                Data::DateTime(d) => d
                    .as_datetime()
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
                Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                Data::Error(e) => format!("#{e}"),
                Data::Empty => String::new(),
            })
            .collect();
        if i == 0 {
            sheet.headers = cells;
        } else if cells.iter().any(|c| !c.is_empty()) {
            sheet.rows.push((i + 1, cells));
        }
    }
    Ok(sheet)
}

/// Field → column index, from the headers, the aliases and the explicit mapping.
fn map_columns(
    headers: &[String],
    fields: &[(&'static str, &[&str])],
    overrides: &[(String, String)],
) -> Result<(HashMap<&'static str, usize>, Vec<String>)> {
    let mut map = HashMap::new();
    let mut ignored = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let key = h.trim().to_lowercase();
        let wanted = overrides
            .iter()
            .find(|(from, _)| from.trim().to_lowercase() == key)
            .map(|(_, to)| to.as_str());
        let field = fields.iter().find(|(f, aliases)| match wanted {
            Some(w) => *f == w,
            None => aliases.iter().any(|a| a.to_lowercase() == key),
        });
        if wanted.is_some_and(|w| w.trim().is_empty()) {
            ignored.push(h.clone());
            continue;
        }
        match (field, wanted) {
            (Some((f, _)), _) => {
                if let Some(prev) = map.insert(*f, i) {
                    return Err(AppError::Invalid(FieldError::new(
                        "map",
                        "duplicate_mapping",
                        format!(
                            "columns {:?} and {h:?} both map to {f}; map one of them to another field or ignore it",
                            headers.get(prev).map(String::as_str).unwrap_or_default()
                        ),
                    )));
                }
            }
            (None, Some(w)) => {
                return Err(AppError::Invalid(FieldError::new(
                    "map",
                    "unknown_import_field",
                    format!(
                        "--map {h}={w}: no such field; fields are {}",
                        fields
                            .iter()
                            .map(|(f, _)| *f)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )));
            }
            (None, None) => ignored.push(h.clone()),
        }
    }
    Ok((map, ignored))
}

/// Check a mapping against a file's headers without reading any row: unknown fields and two
/// columns on one field are refused.
pub fn check_mapping(
    kind: ImportKind,
    headers: &[String],
    mapping: &[(String, String)],
) -> Result<()> {
    map_columns(headers, kind.aliases(), mapping).map(|_| ())
}

/// One row's cells by field, with errors naming the column header.
struct Row<'a> {
    number: usize,
    cells: &'a [String],
    map: &'a HashMap<&'static str, usize>,
    headers: &'a [String],
}

impl Row<'_> {
    fn get(&self, field: &str) -> Option<&str> {
        self.map
            .get(field)
            .and_then(|i| self.cells.get(*i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// The header of the column mapped to `field`, or the field's name when none is.
    fn column(&self, field: &str) -> String {
        self.map
            .get(field)
            .and_then(|i| self.headers.get(*i))
            .cloned()
            .unwrap_or_else(|| field.to_owned())
    }

    fn error(&self, e: FieldError, field: &str) -> RowError {
        RowError {
            row: self.number,
            column: self.column(field),
            code: e.code.to_owned(),
            message: e.message,
        }
    }

    /// Run a parser on a field, attributing its error to that field's column.
    fn parse<T>(
        &self,
        field: &str,
        f: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Result<Option<T>, RowError> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => f(v).map(Some).map_err(|e| self.error(e, field)),
        }
    }
}

fn malformed(number: usize, cells: &[String], width: usize) -> Option<RowError> {
    if cells.first().is_some_and(|c| c.starts_with('\u{0}')) {
        return Some(RowError {
            row: number,
            column: "-".into(),
            code: "malformed_row".into(),
            message: "the row could not be read (invalid CSV or encoding; save as UTF-8)".into(),
        });
    }
    (cells.len() != width).then(|| RowError {
        row: number,
        column: "-".into(),
        code: "malformed_row".into(),
        message: format!(
            "the row has {} cells but the header has {width}",
            cells.len()
        ),
    })
}

struct CustomerRow {
    input: CustomerInput,
    guide: Option<String>,
}

fn parse_customer(r: &Row<'_>) -> Result<CustomerRow, RowError> {
    let mut ids = Vec::new();
    for kind in [
        "phone",
        "unionid",
        "wecom_external",
        "pos_member",
        "app_user",
    ] {
        if let Some(i) = r.parse(kind, |v| Identity::parse(kind, None, v))? {
            ids.push(i);
        }
    }
    if let Some(v) = r.get("openid") {
        let app = r.get("openid_appid");
        ids.push(Identity::parse("openid", app, v).map_err(|e| {
            r.error(
                e,
                if app.is_some() {
                    "openid_appid"
                } else {
                    "openid"
                },
            )
        })?);
    }
    if ids.is_empty() {
        return Err(RowError {
            row: r.number,
            column: r.column("phone"),
            code: "identity_required".into(),
            message: "a row needs at least one identity (phone, unionid, openid …)".into(),
        });
    }
    let profile = ProfilePatch::parse(
        r.get("name"),
        r.get("gender"),
        r.get("birthday").map(Some),
        r.get("city"),
        r.get("member_level"),
    )
    .map_err(|e| {
        let f = e.field;
        r.error(e, f)
    })?;
    Ok(CustomerRow {
        input: CustomerInput {
            identities: ids,
            profile,
            attributes: vec![],
        },
        guide: r.get("guide").map(str::to_owned),
    })
}

/// An order assembled from its rows.
struct OrderDraft {
    first_row: usize,
    external_id: String,
    customer: CustomerRef,
    channel: String,
    store_code: Option<String>,
    guide: Option<String>,
    campaign: String,
    status: OrderStatus,
    paid_at: i64,
    discount: Fen,
    lines: Vec<OrderLine>,
}

/// An order whose references are resolved, ready to write.
struct ReadyOrder {
    draft: OrderDraft,
    customer: i64,
    store: Option<i64>,
    guide: Option<i64>,
    amount: Fen,
}

fn parse_order_row(r: &Row<'_>, now: i64, skew: i64) -> Result<OrderDraft, RowError> {
    let req = |field: &'static str| {
        r.get(field).ok_or_else(|| RowError {
            row: r.number,
            column: r.column(field),
            code: "missing_field".into(),
            message: format!("{field} is required"),
        })
    };
    let external_id = parse_external_id("external_id", req("external_id")?)
        .map_err(|e| r.error(e, "external_id"))?;
    let customer = if let Some(id) = r.parse("customer_id", |v| {
        v.parse::<i64>().map_err(|_| {
            FieldError::new("customer_id", "invalid_id", "customer_id must be a number")
        })
    })? {
        CustomerRef::Id(CustomerId(id))
    } else if let Some(i) = r.parse("phone", |v| Identity::parse("phone", None, v))? {
        CustomerRef::Identity(i)
    } else if let Some(i) = r.parse("pos_member", |v| Identity::parse("pos_member", None, v))? {
        CustomerRef::Identity(i)
    } else {
        return Err(RowError {
            row: r.number,
            column: r.column("phone"),
            code: "customer_required".into(),
            message: "name the customer by customer_id, phone or pos_member".into(),
        });
    };
    let quantity = r
        .parse("quantity", |v| {
            v.parse::<i64>().map_err(|_| {
                FieldError::new(
                    "quantity",
                    "invalid_quantity",
                    "quantity must be a whole number",
                )
            })
        })?
        .unwrap_or(1);
    let price = parse_fen("unit_price_fen", req("unit_price_fen")?)
        .map_err(|e| r.error(e, "unit_price_fen"))?;
    let line = OrderLine::parse(
        req("sku")?,
        r.get("item_name").unwrap_or(""),
        quantity,
        price,
    )
    .map_err(|e| {
        let f = if e.field == "lines.quantity" {
            "quantity"
        } else if e.field == "lines.sku" {
            "sku"
        } else {
            "item_name"
        };
        r.error(e, f)
    })?;
    Ok(OrderDraft {
        first_row: r.number,
        external_id,
        customer,
        channel: parse_channel(r.get("channel").unwrap_or("store"))
            .map_err(|e| r.error(e, "channel"))?,
        store_code: r.get("store_code").map(str::to_owned),
        guide: r.get("guide").map(str::to_owned),
        campaign: r
            .parse("campaign", |v| {
                yutang_core::org::parse_label("campaign", v, 64)
            })?
            .unwrap_or_default(),
        status: r
            .parse("status", |v| OrderStatus::parse("status", v))?
            .unwrap_or(OrderStatus::Completed),
        paid_at: r
            .parse("paid_at", |v| {
                Millis::parse_flexible("paid_at", v).and_then(|m| {
                    yutang_core::time::Occurred::parse("paid_at", m, Millis(now), skew)
                        .map(|o| o.millis().0)
                })
            })?
            .unwrap_or(now),
        discount: r
            .parse("discount_fen", |v| parse_fen("discount_fen", v))?
            .unwrap_or(Fen(0)),
        lines: vec![line],
    })
}

/// The import use cases: importing customers and orders from CSV or spreadsheet files, directly
/// or as a recorded import run (upload, start, progress, finish).
#[derive(Clone, Copy)]
pub struct Imports<'a>(&'a App);

impl std::ops::Deref for Imports<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Imports`].
    pub fn imports(&self) -> Imports<'_> {
        Imports(self)
    }
}

impl Imports<'_> {
    /// Import a file of customers or orders. `progress(stage, done, total)`.
    pub async fn import_file(
        &self,
        actor: &Actor,
        kind: ImportKind,
        path: &Path,
        opts: &ImportOptions,
        progress: Progress<'_>,
    ) -> Result<ImportReport> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let sheet = read_sheet(path)?;
        self.import_sheet(actor, kind, &sheet, opts, progress).await
    }

    pub async fn import_sheet(
        &self,
        actor: &Actor,
        kind: ImportKind,
        sheet: &Sheet,
        opts: &ImportOptions,
        progress: Progress<'_>,
    ) -> Result<ImportReport> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let (map, ignored) = map_columns(&sheet.headers, kind.aliases(), &opts.mapping)?;
        let mut report = ImportReport {
            dry_run: opts.dry_run,
            rows: sheet.rows.len(),
            ignored_columns: ignored,
            ..Default::default()
        };
        match kind {
            ImportKind::Customers => {
                self.import_customers(actor, sheet, &map, opts, &mut report, progress)
                    .await?
            }
            ImportKind::Orders => {
                self.import_orders(actor, sheet, &map, opts, &mut report, progress)
                    .await?
            }
        }
        report.errors.sort_by_key(|e| e.row);
        Ok(report)
    }

    async fn staff_by_username(&self, username: &str) -> Result<Option<StaffId>> {
        match yutang_store::staff::credentials_by_username(&self.db, username).await {
            Ok(c) => Ok(Some(StaffId(c.id))),
            Err(yutang_store::StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn import_customers(
        &self,
        actor: &Actor,
        sheet: &Sheet,
        map: &HashMap<&'static str, usize>,
        opts: &ImportOptions,
        report: &mut ImportReport,
        progress: Progress<'_>,
    ) -> Result<()> {
        let width = sheet.headers.len();
        let mut parsed = Vec::new();
        let mut guides: HashMap<String, Option<StaffId>> = HashMap::new();
        for (n, cells) in &sheet.rows {
            if let Some(e) = malformed(*n, cells, width) {
                report.errors.push(e);
                continue;
            }
            let row = Row {
                number: *n,
                cells,
                map,
                headers: &sheet.headers,
            };
            match parse_customer(&row) {
                Ok(c) => {
                    if let Some(g) = &c.guide {
                        if !guides.contains_key(g) {
                            let id = self.staff_by_username(g).await?;
                            guides.insert(g.clone(), id);
                        }
                        if guides.get(g).copied().flatten().is_none() {
                            report.errors.push(row.error(
                                FieldError::new(
                                    "guide",
                                    "unknown_staff",
                                    format!("no staff member with username {g:?}"),
                                ),
                                "guide",
                            ));
                            continue;
                        }
                    }
                    parsed.push((*n, c));
                }
                Err(e) => report.errors.push(e),
            }
        }
        report.valid_rows = parsed.len();
        if opts.dry_run {
            return Ok(());
        }
        let total = parsed.len() as u64;
        for (i, (n, c)) in parsed.iter().enumerate() {
            match self.customers().ingest_customer(actor, &c.input).await {
                Ok(done) => {
                    if done.outcome == "created" {
                        report.created += 1;
                    } else {
                        report.attached += 1;
                    }
                    if let Some(g) = c
                        .guide
                        .as_ref()
                        .and_then(|g| guides.get(g).copied().flatten())
                    {
                        let change = FollowChange {
                            staff_id: g,
                            since: None,
                            remark: None,
                            state: FollowState::Active,
                            owner: None,
                        };
                        if let Err(e) = self
                            .customers()
                            .set_follow(actor, CustomerId(done.customer.id), &change)
                            .await
                        {
                            report.errors.push(row_error_from(*n, "guide", e));
                        }
                    }
                }
                Err(e @ (AppError::Store(_) | AppError::Internal(_))) => return Err(e),
                Err(e) => report.errors.push(row_error_from(*n, "phone", e)),
            }
            if i % 200 == 0 || i + 1 == parsed.len() {
                progress("导入客户 customers", i as u64 + 1, total);
            }
        }
        Ok(())
    }

    async fn import_orders(
        &self,
        actor: &Actor,
        sheet: &Sheet,
        map: &HashMap<&'static str, usize>,
        opts: &ImportOptions,
        report: &mut ImportReport,
        progress: Progress<'_>,
    ) -> Result<()> {
        let _ = actor;
        let width = sheet.headers.len();
        let now = self.now();
        // Rows of one order (same external_id) are its lines; the first row's header fields
        // describe the order and later rows must agree.
        let mut drafts: Vec<OrderDraft> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut bad_orders: HashMap<String, ()> = HashMap::new();
        for (n, cells) in &sheet.rows {
            if let Some(e) = malformed(*n, cells, width) {
                report.errors.push(e);
                continue;
            }
            let row = Row {
                number: *n,
                cells,
                map,
                headers: &sheet.headers,
            };
            let d = match parse_order_row(&row, now, self.settings.limits.future_skew_minutes) {
                Ok(d) => d,
                Err(e) => {
                    if let Some(id) = row.get("external_id") {
                        bad_orders.insert(id.to_owned(), ());
                    }
                    report.errors.push(e);
                    continue;
                }
            };
            match index.get(&d.external_id) {
                Some(&i) => {
                    let o = &mut drafts[i];
                    if o.customer != d.customer || o.channel != d.channel || o.paid_at != d.paid_at
                    {
                        report.errors.push(RowError {
                            row: *n,
                            column: "external_id".into(),
                            code: "inconsistent_order".into(),
                            message: format!(
                                "order {} on row {} has another customer, channel or time",
                                d.external_id, o.first_row
                            ),
                        });
                        bad_orders.insert(d.external_id.clone(), ());
                        continue;
                    }
                    o.lines.extend(d.lines);
                }
                None => {
                    index.insert(d.external_id.clone(), drafts.len());
                    drafts.push(d);
                }
            }
        }
        // Resolve stores, guides and customers once each.
        let mut stores: HashMap<String, Option<i64>> = HashMap::new();
        let mut guides: HashMap<String, Option<StaffId>> = HashMap::new();
        let mut customers: HashMap<String, Option<i64>> = HashMap::new();
        let mut ready: Vec<ReadyOrder> = Vec::new();
        for d in drafts {
            if bad_orders.contains_key(&d.external_id) {
                continue;
            }
            let fail = |field: &str, code: &str, message: String| RowError {
                row: d.first_row,
                column: map
                    .get(field)
                    .and_then(|i| sheet.headers.get(*i))
                    .cloned()
                    .unwrap_or_else(|| field.to_owned()),
                code: code.into(),
                message,
            };
            let amount = match order_amount(&d.lines, d.discount) {
                Ok(a) => a,
                Err(e) => {
                    report.errors.push(fail("discount_fen", e.code, e.message));
                    continue;
                }
            };
            let key = format!("{:?}", d.customer);
            if !customers.contains_key(&key) {
                let c = self
                    .customers()
                    .resolve_customer_ref(&d.customer)
                    .await?
                    .map(|c| c.0);
                customers.insert(key.clone(), c);
            }
            let Some(customer) = customers.get(&key).copied().flatten() else {
                report.errors.push(fail(
                    "phone",
                    "unknown_customer",
                    "no customer with this id, phone or member id; import customers first".into(),
                ));
                continue;
            };
            let store = match &d.store_code {
                None => None,
                Some(code) => {
                    if !stores.contains_key(code) {
                        let id = yutang_store::org::find_store_by_code(
                            &self.db,
                            &code.to_ascii_uppercase(),
                        )
                        .await?;
                        stores.insert(code.clone(), id);
                    }
                    match stores.get(code).copied().flatten() {
                        Some(s) => Some(s),
                        None => {
                            report.errors.push(fail(
                                "store_code",
                                "unknown_store",
                                format!("no store with code {code:?}"),
                            ));
                            continue;
                        }
                    }
                }
            };
            let guide = match &d.guide {
                None => None,
                Some(g) => {
                    if !guides.contains_key(g) {
                        let id = self.staff_by_username(g).await?;
                        guides.insert(g.clone(), id);
                    }
                    match guides.get(g).copied().flatten() {
                        Some(s) => Some(s.0),
                        None => {
                            report.errors.push(fail(
                                "guide",
                                "unknown_staff",
                                format!("no staff member with username {g:?}"),
                            ));
                            continue;
                        }
                    }
                }
            };
            ready.push(ReadyOrder {
                draft: d,
                customer,
                store,
                guide,
                amount,
            });
        }
        report.valid_rows = ready.iter().map(|r| r.draft.lines.len()).sum();
        if opts.dry_run {
            return Ok(());
        }
        let total = ready.len() as u64;
        let mut done = 0u64;
        for chunk in ready.chunks(500) {
            let batch: Vec<NewOrder<'_>> = chunk
                .iter()
                .map(|r| NewOrder {
                    external_id: &r.draft.external_id,
                    customer_id: r.customer,
                    channel: &r.draft.channel,
                    store_id: r.store,
                    guide_id: r.guide,
                    campaign: &r.draft.campaign,
                    status: r.draft.status,
                    amount: r.amount,
                    discount: r.draft.discount,
                    paid_at: r.draft.paid_at,
                    lines: &r.draft.lines,
                    fingerprint: "",
                    member_savings: 0,
                })
                .collect();
            let mut tx = self.db.begin().await?;
            let created = crate::orders::record_many_in(&mut tx, &batch, self.now()).await?;
            tx.commit().await?;
            for c in created {
                if c {
                    report.created += 1;
                } else {
                    report.duplicates += 1;
                }
            }
            done += chunk.len() as u64;
            progress("导入订单 orders", done, total);
        }
        Ok(())
    }
}

fn row_error_from(row: usize, column: &str, e: AppError) -> RowError {
    let (code, message, field) = match e {
        AppError::Invalid(f) => (f.code.to_owned(), f.message, Some(f.field.to_owned())),
        AppError::Rule { code, message } => (code.to_owned(), message, None),
        AppError::Conflict { code, what } => {
            (code.to_owned(), format!("{what} already exists"), None)
        }
        other => ("refused".to_owned(), other.to_string(), None),
    };
    RowError {
        row,
        column: field.unwrap_or_else(|| column.to_owned()),
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_have_every_field_and_a_full_example_row() {
        for kind in [ImportKind::Customers, ImportKind::Orders] {
            let csv = kind.template_csv();
            let sheet = read_csv(csv.as_bytes()).unwrap();
            assert_eq!(sheet.headers, kind.fields(), "{csv}");
            assert_eq!(sheet.rows.len(), 1, "{csv}");
            assert_eq!(sheet.rows[0].1.len(), kind.fields().len(), "{csv}");
            let (map, ignored) = map_columns(&sheet.headers, kind.aliases(), &[]).unwrap();
            assert_eq!(map.len(), kind.fields().len(), "{csv}");
            assert!(ignored.is_empty(), "{csv}");
        }
    }

    #[test]
    fn csv_with_bom_and_chinese_headers_maps_columns() {
        let data =
            "\u{feff}手机号,姓名,备注\n138 0013 8000,王芳,x\n,,\n139,李,y,extra\n".as_bytes();
        let s = read_csv(data).unwrap_or_default();
        assert_eq!(s.headers, ["手机号", "姓名", "备注"]);
        assert_eq!(s.rows.len(), 2);
        let (map, ignored) = map_columns(&s.headers, CUSTOMER_FIELDS, &[]).unwrap_or_default();
        assert_eq!(map.get("phone"), Some(&0));
        assert_eq!(ignored, ["备注"]);
        let (map, _) = map_columns(
            &s.headers,
            CUSTOMER_FIELDS,
            &[("备注".into(), "city".into())],
        )
        .unwrap_or_default();
        assert_eq!(map.get("city"), Some(&2));
        assert!(
            map_columns(
                &s.headers,
                CUSTOMER_FIELDS,
                &[("备注".into(), "nope".into())]
            )
            .is_err()
        );
        assert_eq!(
            malformed(3, &s.rows[1].1, 3).map(|e| e.code),
            Some("malformed_row".into())
        );
        let row = Row {
            number: 2,
            cells: &s.rows[0].1,
            map: &map,
            headers: &s.headers,
        };
        let c = parse_customer(&row).map(|c| c.input.identities[0].value.clone());
        assert_eq!(c, Ok("13800138000".to_owned()));
    }
}
