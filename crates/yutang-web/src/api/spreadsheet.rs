//! The statistics tables as downloads: CSV (UTF-8 with a BOM) or an Excel workbook.
//!
//! Every statistics export writes its table once, as CSV text in the reader's language
//! ([`super::dashboard::dashboard_csv`], [`super::metrics::metrics_csv`], the channel
//! statistics); the Excel file is that same table read back and written as one sheet, so the
//! two formats can never disagree on a column or a figure. Figures become number cells (an
//! operator sums a column without converting it); everything else is a string cell, which a
//! spreadsheet never evaluates, so the apostrophe the CSV adds before a leading formula
//! character is taken off again.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use yutang_core::FieldError;

/// The MIME type of an `.xlsx` workbook.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The format a table is downloaded in (`format=csv|xlsx`, CSV by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileFormat {
    #[default]
    Csv,
    Xlsx,
}

impl FileFormat {
    /// Parse the `format` query parameter.
    pub fn parse(raw: Option<&str>) -> Result<Self, FieldError> {
        match raw {
            None | Some("csv") => Ok(FileFormat::Csv),
            Some("xlsx") => Ok(FileFormat::Xlsx),
            Some(_) => Err(FieldError::new(
                "format",
                "invalid_query",
                "format must be csv or xlsx",
            )),
        }
    }
}

/// A statistics table as a download in the asked format; `csv_name` ends in `.csv` and the
/// workbook takes the same name ending in `.xlsx`.
pub fn table_download(csv_name: &'static str, format: FileFormat, csv: String) -> Response {
    match format {
        FileFormat::Csv => super::acquisition_stats::csv_download(csv_name, csv),
        FileFormat::Xlsx => {
            let stem = csv_name.strip_suffix(".csv").unwrap_or(csv_name);
            match xlsx_of_csv(stem, &csv) {
                Ok(bytes) => workbook_response(&format!("{stem}.xlsx"), bytes),
                Err(e) => {
                    // Writing a workbook in memory fails only on a bug (a sheet name or a
                    // cell the library refuses); the reader gets a 500, the log the reason.
                    tracing::error!(error = %e, file = csv_name, "writing an Excel export");
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }
            }
        }
    }
}

fn workbook_response(file_name: &str, bytes: Vec<u8>) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(XLSX_TYPE)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// The CSV table (as the exports write it) as a one-sheet workbook: the first row bold and
/// frozen, figures as numbers, other cells as text.
pub fn xlsx_of_csv(sheet: &str, csv: &str) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(sheet))?;
    let bold = Format::new().set_bold();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let mut widths: Vec<usize> = Vec::new();
    for (r, record) in reader.records().enumerate() {
        // The exports write well-formed CSV; a record that does not parse is skipped, not
        // half written.
        let Ok(record) = record else { continue };
        let row = u32::try_from(r).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (c, cell) in record.iter().enumerate() {
            let col = u16::try_from(c).map_err(|_| XlsxError::RowColumnLimitError)?;
            if widths.len() <= c {
                widths.resize(c + 1, 0);
            }
            widths[c] = widths[c].max(cell.chars().count());
            match (row, Cell::of(cell)) {
                (_, Cell::Empty) => {}
                (0, _) => {
                    ws.write_string_with_format(row, col, cell, &bold)?;
                }
                (_, Cell::Number(n)) => {
                    ws.write_number(row, col, n)?;
                }
                (_, Cell::Text(t)) => {
                    ws.write_string(row, col, t)?;
                }
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    for (c, w) in widths.into_iter().enumerate() {
        let col = u16::try_from(c).map_err(|_| XlsxError::RowColumnLimitError)?;
        // Chinese characters are about twice as wide as a digit.
        ws.set_column_width(col, (w.clamp(6, 40) as f64) * 1.6)?;
    }
    wb.save_to_buffer()
}

/// A worksheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(stem: &str) -> String {
    let name: String = stem
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    if name.is_empty() {
        "export".to_owned()
    } else {
        name
    }
}

/// What one CSV cell becomes in the workbook.
#[derive(Debug, PartialEq)]
enum Cell<'a> {
    Empty,
    Number(f64),
    Text(&'a str),
}

impl<'a> Cell<'a> {
    fn of(cell: &'a str) -> Cell<'a> {
        if cell.is_empty() {
            return Cell::Empty;
        }
        if is_figure(cell)
            && let Ok(n) = cell.parse::<f64>()
        {
            return Cell::Number(n);
        }
        // The CSV's defusing apostrophe (see `spreadsheet_text`) is not needed in a string
        // cell, which is never a formula.
        match cell.strip_prefix('\'') {
            Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => Cell::Text(rest),
            _ => Cell::Text(cell),
        }
    }
}

/// A figure as the exports print them: an optional minus, digits without a leading zero (so
/// codes like `007` or phone numbers stay text), an optional decimal part; at most 15
/// significant digits, which a double holds exactly.
fn is_figure(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(int)
        && (int == "0" || !int.starts_with('0'))
        && frac.is_none_or(digits)
        && int.len() + frac.map_or(0, str::len) <= 15
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_numbers_and_codes_stay_text() {
        assert_eq!(Cell::of("129.00"), Cell::Number(129.0));
        assert_eq!(Cell::of("-5"), Cell::Number(-5.0));
        assert_eq!(Cell::of("0.5"), Cell::Number(0.5));
        assert_eq!(Cell::of("0"), Cell::Number(0.0));
        assert_eq!(Cell::of("007"), Cell::Text("007"));
        assert_eq!(Cell::of("13800000000"), Cell::Number(13_800_000_000.0));
        assert_eq!(Cell::of("1234567890123456"), Cell::Text("1234567890123456"));
        assert_eq!(Cell::of("1."), Cell::Text("1."));
        assert_eq!(Cell::of(".5"), Cell::Text(".5"));
        assert_eq!(Cell::of("12.50%"), Cell::Text("12.50%"));
        assert_eq!(Cell::of("2026-12"), Cell::Text("2026-12"));
        assert_eq!(Cell::of("—"), Cell::Text("—"));
        assert_eq!(Cell::of(""), Cell::Empty);
    }

    #[test]
    fn the_defusing_apostrophe_is_taken_off_only_before_a_formula_character() {
        assert_eq!(Cell::of("'=1+1"), Cell::Text("=1+1"));
        assert_eq!(Cell::of("'-2+3"), Cell::Text("-2+3"));
        assert_eq!(Cell::of("'quoted"), Cell::Text("'quoted"));
    }

    #[test]
    fn sheet_names_are_ones_excel_accepts() {
        assert_eq!(sheet_name("metrics-cohorts"), "metrics-cohorts");
        assert_eq!(sheet_name("a/b[c]"), "abc");
        assert_eq!(sheet_name(""), "export");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
    }

    #[test]
    fn formats_parse_and_anything_else_names_the_field() {
        assert_eq!(FileFormat::parse(None).unwrap(), FileFormat::Csv);
        assert_eq!(FileFormat::parse(Some("csv")).unwrap(), FileFormat::Csv);
        assert_eq!(FileFormat::parse(Some("xlsx")).unwrap(), FileFormat::Xlsx);
        assert!(FileFormat::parse(Some("XLSX")).is_err());
        assert!(FileFormat::parse(Some("")).is_err());
    }

    #[test]
    fn a_workbook_is_written_for_a_table_with_quotes_and_chinese() {
        let csv = "\u{feff}门店,净销售额\n\"上海, 南京西路\",129.00\n'=HYPERLINK(1),-3\n";
        let bytes = xlsx_of_csv("metrics-stores", csv).unwrap();
        // An .xlsx file is a zip archive.
        assert_eq!(&bytes[..2], b"PK");
    }
}
