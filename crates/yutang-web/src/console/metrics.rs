//! The console's metrics page (指标, issue #24 items 2 and 3): the retail metrics of the
//! caller's scope month by month, each with its definition on the page; the two metrics not
//! measurable yet and why; the funnel of the period's new pool members drawn as bars with its
//! breakdown; the cohort matrix shaded by share; segments (brand), stores and guides; every
//! table as CSV under `/console/metrics/export?table=…` in the page's language. The figures
//! come from the monthly cells the rollup follower keeps
//! (`yutang_app::analytics::metrics`); the names, definitions and CSV columns are the API's
//! (`crate::api::metrics`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::analytics::metrics::{Funnel, MetricsAsk, MetricsView, SalesRow};
use yutang_app::analytics::uplift::UpliftView;
use yutang_app::audit::Page;
use yutang_app::org::StoreQuery;
use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::analytics::facts::{FIRST_ORDER_WINDOWS, rate_bp};
use yutang_core::analytics::uplift::{Estimate, Interval};

use super::i18n::lookup;
use super::layout::{ConsoleQuery, error_page, nonempty, opt_field_id};
use super::{Console, Ctx, Tr, render};
use crate::api::metrics::{Table, metric_text, metrics_csv, unit_cell};
use crate::api::spreadsheet::{FileFormat, table_download};
use crate::state::AppState;

/// The form's fields, all optional (the last six months of the caller's own scope, a 30-day
/// first-order window). Ids and the window come as text: a `<select>` sends `""` for none.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    from: Option<String>,
    to: Option<String>,
    store_id: Option<String>,
    staff_id: Option<String>,
    first_order_days: Option<String>,
    /// The export's table (`metrics`, `funnels`, `cohorts`, `segments`, `stores`, `guides`).
    table: Option<String>,
    /// The export's format (`csv`, the default, or `xlsx`).
    format: Option<String>,
}

impl MetricsQuery {
    /// The query as the app takes it: blanks are none; an id or a window that is not a
    /// number is refused.
    fn ask(&self) -> Result<MetricsAsk, AppError> {
        Ok(MetricsAsk {
            from: nonempty(&self.from).map(str::to_owned),
            to: nonempty(&self.to).map(str::to_owned),
            store_id: opt_field_id("store_id", &self.store_id)?,
            staff_id: opt_field_id("staff_id", &self.staff_id)?,
            first_order_days: opt_field_id("first_order_days", &self.first_order_days)?,
        })
    }
}

async fn metrics_view(
    s: &AppState,
    c: &Console,
    q: &MetricsQuery,
) -> Result<(MetricsView, MetricsAsk), AppError> {
    let ask = q.ask()?;
    let v = s.app.analytics().metrics(&c.session.actor, &ask).await?;
    Ok((v, ask))
}

// ---------------------------------------------------------------- the figures as shown

/// A value of `unit` as shown; `—` when there is nothing to show.
fn shown(unit: &str, v: Option<i64>) -> String {
    match v {
        Some(_) => unit_cell(unit, v),
        None => "—".to_owned(),
    }
}

/// `part / whole` as a percentage with two decimals; `—` when `whole` is 0.
fn share(part: i64, whole: i64) -> String {
    shown("bp", rate_bp(part, whole))
}

/// `15%` (or `12.5%`) from basis points, for the healthy-value note.
fn healthy_text(bp: i64) -> String {
    if bp % 100 == 0 {
        format!("{}%", bp / 100)
    } else {
        let t = bp / 10;
        format!("{}.{}%", t / 10, (t % 10).abs())
    }
}

/// A name, or `#id` when there is none.
fn or_id(name: &str, id: i64) -> String {
    if name.is_empty() {
        format!("#{id}")
    } else {
        name.to_owned()
    }
}

/// A metric line as shown.
struct LineRow {
    key: &'static str,
    name: &'static str,
    definition: &'static str,
    unit: &'static str,
    total: String,
    /// The raw total (`""` when none), for `data-total`.
    total_raw: String,
    months: Vec<MonthCell>,
    /// `健康值 ≈ 15%`.
    healthy: Option<String>,
}

struct MonthCell {
    month: String,
    text: String,
    raw: String,
}

/// A metric not measurable yet.
struct Missing {
    key: &'static str,
    name: &'static str,
    definition: &'static str,
    reason: String,
}

/// One step of the funnel's bars.
struct Bar {
    step: &'static str,
    label: &'static str,
    count: i64,
    /// The bar's width, percent of the step before all (`joined`), one decimal.
    width: String,
    of_joined: String,
    /// Against the step before (`""` for the first).
    from_previous: String,
}

/// A breakdown row of the funnels.
struct FunnelRow {
    by: &'static str,
    by_label: &'static str,
    id: i64,
    name: String,
    href: Option<String>,
    joined: i64,
    joined_group: i64,
    first_order: i64,
    second_order: i64,
    first_rate: String,
    second_rate: String,
}

/// One cell of the cohort matrix.
struct CohortCell {
    k: usize,
    /// `None`: the month has not begun (an empty cell).
    count: Option<i64>,
    share: String,
    share_bp: String,
    style: String,
}

struct CohortLine {
    month: String,
    joined: i64,
    within: i64,
    within_share: String,
    maturing: bool,
    cells: Vec<CohortCell>,
    /// Contacts kept at the end of each month after joining.
    kept: Vec<CohortCell>,
}

/// A tier or card group as shown.
struct SegLine {
    by: &'static str,
    by_label: &'static str,
    id: i64,
    name: String,
    customers: i64,
    buyers: i64,
    orders: i64,
    net_fen: i64,
    net: String,
    arpu: String,
    frequency: String,
}

/// A store or guide as shown.
struct SalesLine {
    id: i64,
    name: String,
    href: Option<String>,
    buyers: i64,
    orders: i64,
    net_fen: i64,
    net: String,
    traffic: String,
    repurchase: String,
}

/// A store in the HQ roles' scope `<select>`.
struct StoreChoice {
    id: i64,
    name: String,
}

/// The cohort cell's shade: the brand colour with an alpha following the share (white text
/// on the darker ones).
fn shade(bp: i64) -> String {
    let bp = bp.clamp(0, 10_000);
    if bp == 0 {
        return String::new();
    }
    // 0.08 at the least, 0.9 at 100%.
    let alpha = 0.08 + 0.82 * bp as f64 / 10_000.0;
    let ink = if alpha > 0.5 { ";color:#fff" } else { "" };
    format!("background:rgba(11,122,117,{alpha:.2}){ink}")
}

/// A row of the cohort matrix: each month's count, its share of the joined, its shade.
fn cohort_cells(counts: &[Option<i64>], joined: i64) -> Vec<CohortCell> {
    counts
        .iter()
        .enumerate()
        .map(|(k, n)| {
            let bp = n.and_then(|n| rate_bp(n, joined));
            CohortCell {
                k,
                count: *n,
                share: bp.map(|b| unit_cell("bp", Some(b))).unwrap_or_default(),
                share_bp: bp.map(|b| b.to_string()).unwrap_or_default(),
                style: bp.map(shade).unwrap_or_default(),
            }
        })
        .collect()
}

fn bars(tr: Tr, f: &Funnel) -> Vec<Bar> {
    let steps = [
        ("joined", f.joined),
        ("joined_group", f.joined_group),
        ("first_order", f.first_order),
        ("second_order", f.second_order),
    ];
    let mut out = Vec::new();
    for (step, count) in steps {
        let width = match rate_bp(count, f.joined) {
            Some(bp) => {
                let t = bp.clamp(0, 10_000) / 10;
                format!("{}.{}", t / 10, t % 10)
            }
            None => "0".to_owned(),
        };
        // The steps are not a strict sequence (a first order need not follow a group join):
        // each is shown as a share of the joined, and the second order also of the first.
        let from_previous = if step == "second_order" {
            share(count, f.first_order)
        } else {
            String::new()
        };
        out.push(Bar {
            step,
            label: tr.t(&format!("mpage.step.{step}")),
            count,
            width,
            of_joined: share(count, f.joined),
            from_previous,
        });
    }
    out
}

fn sales_lines(rows: &[SalesRow], href: impl Fn(i64) -> Option<String>) -> Vec<SalesLine> {
    rows.iter()
        .map(|r| SalesLine {
            id: r.id,
            name: or_id(&r.name, r.id),
            href: href(r.id),
            buyers: r.buyers,
            orders: r.orders,
            net_fen: r.net_sales_fen,
            net: unit_cell("fen", Some(r.net_sales_fen)),
            traffic: shown("bp", r.traffic_rate_bp),
            repurchase: shown("bp", r.repurchase_rate_bp),
        })
        .collect()
}

/// The uplift section as shown.
struct UpliftSection {
    /// `observational` (a randomised holdout would say so).
    evidence_key: &'static str,
    /// 观察性对比 (a pill), then what that means.
    evidence_short: &'static str,
    evidence: &'static str,
    method: &'static str,
    /// 计算于 … (Shanghai), or that it was not computed yet.
    computed: String,
    studies: Vec<UpliftStudyLines>,
}

struct UpliftStudyLines {
    key: &'static str,
    name: &'static str,
    rows: Vec<UpliftRow>,
}

/// One row: the months together, or one month.
struct UpliftRow {
    /// `all` or `YYYY-MM`.
    month: String,
    label: String,
    treated: i64,
    matched: i64,
    controls: i64,
    orders: String,
    spend: String,
    next: String,
    lift: String,
    /// The orders interval leaves out zero.
    significant: bool,
}

/// An interval as `+0.250 (0.100 … 0.400)`; `—` when there is none.
fn interval_text(unit: &str, i: Option<Interval>) -> String {
    match i {
        None => "—".to_owned(),
        Some(i) => {
            let plus = if i.estimate > 0 { "+" } else { "" };
            format!(
                "{plus}{} ({} … {})",
                unit_cell(unit, Some(i.estimate)),
                unit_cell(unit, Some(i.low)),
                unit_cell(unit, Some(i.high))
            )
        }
    }
}

fn uplift_row(month: String, label: String, e: &Estimate) -> UpliftRow {
    UpliftRow {
        month,
        label,
        treated: e.treated,
        matched: e.matched,
        controls: e.controls,
        orders: interval_text("milli", e.orders_milli),
        spend: interval_text("fen", e.net_fen),
        next: format!(
            "{} / {}",
            shown("bp", e.next_month_treated_bp),
            shown("bp", e.next_month_control_bp)
        ),
        lift: match e.next_month_lift_bp {
            Some(bp) if bp > 0 => format!("+{}", unit_cell("bp", Some(bp))),
            other => shown("bp", other),
        },
        significant: e.orders_milli.is_some_and(|i| i.excludes_zero()),
    }
}

fn uplift_section(tr: Tr, u: &UpliftView) -> UpliftSection {
    let computed = match u.computed_at {
        Some(at) => tr.fill(
            "mpage.uplift_computed_fmt",
            &[("at", &super::share::minute(at))],
        ),
        None => tr.t("mpage.uplift_pending").to_owned(),
    };
    let studies = u
        .studies
        .iter()
        .map(|st| {
            let mut rows = vec![uplift_row(
                "all".to_owned(),
                tr.t("mpage.uplift_all").to_owned(),
                &st.pooled,
            )];
            rows.extend(
                u.months
                    .iter()
                    .zip(&st.by_month)
                    .map(|(m, e)| uplift_row(m.clone(), m.clone(), e)),
            );
            UpliftStudyLines {
                key: st.study,
                name: tr.t(&format!("uplift.study.{}", st.study)),
                rows,
            }
        })
        .collect();
    UpliftSection {
        evidence_key: u.evidence,
        evidence_short: tr.t(&format!("uplift.evidence_short.{}", u.evidence)),
        evidence: tr.t(&format!("uplift.evidence.{}", u.evidence)),
        method: tr.t("uplift.method"),
        computed,
        studies,
    }
}

/// One mass message with a random holdout, as shown.
struct HoldoutLine {
    id: i64,
    name: String,
    sent_at: String,
    /// `10%`.
    share: String,
    sent: i64,
    held: i64,
    buyers: String,
    spend: String,
    /// The window has not ended yet.
    running: bool,
    /// The spend interval leaves out zero.
    significant: bool,
}

fn holdout_lines(v: &MetricsView) -> Vec<HoldoutLine> {
    v.holdouts
        .iter()
        .flatten()
        .map(|h| {
            let c = &h.uplift.comparison;
            HoldoutLine {
                id: h.uplift.message_id,
                name: h.name.clone(),
                sent_at: super::share::minute(h.uplift.from),
                share: unit_cell("bp", Some(h.uplift.holdout_bp)),
                sent: c.sent.customers,
                held: c.holdout.customers,
                buyers: interval_text("bp", c.buyer_share_bp),
                spend: interval_text("fen", c.net_fen),
                running: !h.uplift.complete,
                significant: c.net_fen.is_some_and(|i| i.excludes_zero()),
            }
        })
        .collect()
}

// ---------------------------------------------------------------- the page

#[derive(Template)]
#[template(path = "console/metrics.html")]
struct MetricsPage {
    ctx: Ctx,
    v: MetricsView,
    lines: Vec<LineRow>,
    missing: Vec<Missing>,
    bars: Vec<Bar>,
    breakdown: Vec<FunnelRow>,
    cohorts: Vec<CohortLine>,
    /// `0..=12`: the cohort matrix's columns.
    ks: Vec<usize>,
    segments: Vec<SegLine>,
    stores: Vec<SalesLine>,
    guides: Vec<SalesLine>,
    /// The uplift section (brand and store scopes).
    uplift: Option<UpliftSection>,
    /// Mass messages with a random holdout (brand and store scopes).
    holdouts: Vec<HoldoutLine>,
    /// Whether the scope has the holdout table at all (not a guide).
    holdout_scope: bool,
    /// The stores an HQ role may pick (empty for store-bound roles: no `<select>`).
    store_choices: Vec<StoreChoice>,
    hq: bool,
    asked_store: Option<i64>,
    asked_staff: Option<i64>,
    windows: Vec<i64>,
}

impl MetricsPage {
    /// The months the uplift section can compare.
    fn uplift_months(&self) -> &[String] {
        self.v.uplift.as_ref().map_or(&[], |u| u.months.as_slice())
    }

    fn brand(&self) -> bool {
        self.v.scope.level == "brand"
    }

    fn is_store(&self, id: &i64) -> bool {
        self.v.scope.level == "store" && self.v.scope.store_id == Some(*id)
    }

    fn from(&self) -> &str {
        self.v.months.first().map_or("", String::as_str)
    }

    fn to(&self) -> &str {
        self.v.months.last().map_or("", String::as_str)
    }

    /// `from=…&to=…&first_order_days=…` of the page.
    fn period_query(&self) -> String {
        format!(
            "from={}&to={}&first_order_days={}",
            self.from(),
            self.to(),
            self.v.first_order_days
        )
    }

    /// `&store_id=…` or `&staff_id=…` as asked.
    fn scope_query(&self) -> String {
        match (self.asked_store, self.asked_staff) {
            (_, Some(g)) => format!("&staff_id={g}"),
            (Some(s), None) => format!("&store_id={s}"),
            (None, None) => String::new(),
        }
    }

    fn export_href(&self, table: &str) -> String {
        format!(
            "/console/metrics/export?table={table}&{}{}",
            self.period_query(),
            self.scope_query()
        )
    }

    fn scope_text(&self) -> String {
        super::home::scope_text(self.ctx.tr, &self.v.scope)
    }

    fn period_text(&self) -> String {
        self.ctx.tr.fill(
            "mpage.period_fmt",
            &[
                ("from", self.from()),
                ("to", self.to()),
                ("n", &self.v.months.len().to_string()),
            ],
        )
    }

    fn days_text(&self, n: &i64) -> String {
        self.ctx.tr.fill("mpage.days_fmt", &[("n", &n.to_string())])
    }

    fn within_text(&self) -> String {
        self.ctx.tr.fill(
            "mpage.within_fmt",
            &[("n", &self.v.first_order_days.to_string())],
        )
    }

    fn k_text(&self, k: &usize) -> String {
        self.ctx.tr.fill("mpage.month_k", &[("k", &k.to_string())])
    }

    /// The link back from a guide picked in the address to the store or the brand.
    fn back(&self) -> Option<(String, &'static str)> {
        self.asked_staff?;
        if self.ctx.role == "guide" {
            return None;
        }
        let key = if self.hq {
            "dash.back_brand"
        } else {
            "dash.back_store"
        };
        Some((format!("/console/metrics?{}", self.period_query()), key))
    }
}

/// `GET /console/metrics`: the metrics, funnels and cohorts of the caller's scope.
pub async fn page(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<MetricsQuery>,
) -> Response {
    c.ctx.active = "metrics";
    if q.table.is_some() {
        return error_page(
            c.ctx,
            FieldError::new("table", "invalid_query", "table is for the CSV export").into(),
        );
    }
    let (v, ask) = match metrics_view(&s, &c, &q).await {
        Ok(x) => x,
        Err(e) => return error_page(c.ctx, e),
    };
    let a = &c.session.actor;
    let hq = matches!(a.data_scope(), DataScope::All);
    let store_choices = if hq {
        let all = Page {
            number: 1,
            size: 200,
        };
        match s
            .app
            .org()
            .list_stores(
                a,
                &StoreQuery {
                    page: all,
                    ..Default::default()
                },
            )
            .await
        {
            Ok(list) => list
                .items
                .iter()
                .map(|r| StoreChoice {
                    id: r.id,
                    name: r.name.clone(),
                })
                .collect(),
            Err(e) => return error_page(c.ctx, e),
        }
    } else {
        Vec::new()
    };
    let tr = c.ctx.tr;
    let period = format!(
        "from={}&to={}&first_order_days={}",
        v.months.first().map_or("", String::as_str),
        v.months.last().map_or("", String::as_str),
        v.first_order_days
    );
    let level = v.scope.level;

    let lines = v
        .metrics
        .iter()
        .map(|l| {
            let (name, definition) = metric_text(tr, l.key);
            LineRow {
                key: l.key,
                name,
                definition,
                unit: l.unit,
                total: shown(l.unit, l.total),
                total_raw: l.total.map(|x| x.to_string()).unwrap_or_default(),
                months: v
                    .months
                    .iter()
                    .zip(&l.months)
                    .map(|(m, x)| MonthCell {
                        month: m.clone(),
                        text: shown(l.unit, *x),
                        raw: x.map(|x| x.to_string()).unwrap_or_default(),
                    })
                    .collect(),
                healthy: l
                    .healthy_bp
                    .map(|bp| tr.fill("mpage.healthy_fmt", &[("v", &healthy_text(bp))])),
            }
        })
        .collect();
    let missing = v
        .unavailable
        .iter()
        .map(|u| {
            let (name, definition) = metric_text(tr, u.key);
            let key = format!("mpage.reason.{}", u.key);
            let reason = match lookup(&key) {
                Some(_) => tr.t(&key).to_owned(),
                None => u.reason.to_owned(),
            };
            Missing {
                key: u.key,
                name,
                definition,
                reason,
            }
        })
        .collect();
    let bars = v.funnels.first().map(|f| bars(tr, f)).unwrap_or_default();
    let breakdown = v
        .funnels
        .iter()
        .skip(1)
        .map(|f| {
            let name = match (f.id, f.by) {
                (0, "channel") => tr.t("mpage.none_channel").to_owned(),
                (0, "store") => tr.t("mpage.none_store").to_owned(),
                (0, _) => tr.t("mpage.none_guide").to_owned(),
                _ => or_id(&f.name, f.id),
            };
            let href = match (f.id, f.by) {
                (0, _) => None,
                (id, "store") if hq => Some(format!("/console/metrics?{period}&store_id={id}")),
                (id, "guide") => Some(format!("/console/metrics?{period}&staff_id={id}")),
                (id, "channel") if c.ctx.can_channels => {
                    Some(format!("/console/channels/{id}/stats"))
                }
                _ => None,
            };
            FunnelRow {
                by: f.by,
                by_label: tr.t(&format!("mpage.by.{}", f.by)),
                id: f.id,
                name,
                href,
                joined: f.joined,
                joined_group: f.joined_group,
                first_order: f.first_order,
                second_order: f.second_order,
                first_rate: share(f.first_order, f.joined),
                second_rate: share(f.second_order, f.first_order),
            }
        })
        .collect();
    let width = v.cohorts.first().map_or(13, |c| c.ordered.len());
    let cohorts = v
        .cohorts
        .iter()
        .map(|row| CohortLine {
            month: row.month.clone(),
            joined: row.joined,
            within: row.first_order_within,
            within_share: share(row.first_order_within, row.joined),
            maturing: row.maturing,
            cells: cohort_cells(&row.ordered, row.joined),
            kept: cohort_cells(&row.kept, row.joined),
        })
        .collect();
    let segments = v
        .segments
        .iter()
        .map(|g| {
            let name = match (g.by, g.id) {
                ("tier", 0) => tr.t("mpage.no_tier").to_owned(),
                ("card", 1) => tr.t("mpage.card_holders").to_owned(),
                ("card", _) => tr.t("mpage.card_others").to_owned(),
                _ => or_id(&g.name, g.id),
            };
            SegLine {
                by: g.by,
                by_label: tr.t(&format!("mpage.seg.{}", g.by)),
                id: g.id,
                name,
                customers: g.customers,
                buyers: g.buyers,
                orders: g.orders,
                net_fen: g.net_sales_fen,
                net: unit_cell("fen", Some(g.net_sales_fen)),
                arpu: shown("fen", g.arpu_fen),
                frequency: shown("milli", g.frequency_milli),
            }
        })
        .collect();
    let stores = sales_lines(&v.stores, |id| {
        (hq && level == "brand").then(|| format!("/console/metrics?{period}&store_id={id}"))
    });
    let guides = sales_lines(&v.guides, |id| {
        (level != "guide").then(|| format!("/console/metrics?{period}&staff_id={id}"))
    });
    let page = MetricsPage {
        ctx: c.ctx,
        lines,
        missing,
        uplift: v.uplift.as_ref().map(|u| uplift_section(tr, u)),
        holdouts: holdout_lines(&v),
        holdout_scope: v.holdouts.is_some(),
        bars,
        breakdown,
        cohorts,
        ks: (0..width).collect(),
        segments,
        stores,
        guides,
        store_choices,
        hq,
        asked_store: ask.store_id,
        asked_staff: ask.staff_id,
        windows: FIRST_ORDER_WINDOWS.to_vec(),
        v,
    };
    render(StatusCode::OK, &page)
}

/// `GET /console/metrics/export?table=…`: one of the page's tables as CSV in the page's
/// language (the API's columns).
pub async fn export(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<MetricsQuery>,
) -> Response {
    let table = match Table::parse(q.table.as_deref()) {
        Ok(t) => t,
        Err(e) => return error_page(c.ctx, e.into()),
    };
    let format = match FileFormat::parse(q.format.as_deref()) {
        Ok(f) => f,
        Err(e) => return error_page(c.ctx, e.into()),
    };
    match metrics_view(&s, &c, &q).await {
        Ok((v, _)) => table_download(table.file_name(), format, metrics_csv(c.ctx.tr, &v, table)),
        Err(e) => error_page(c.ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::Lang;

    #[test]
    fn figures_read_as_the_page_shows_them() {
        assert_eq!(shown("bp", Some(1_250)), "12.50%");
        assert_eq!(shown("bp", None), "—");
        assert_eq!(shown("fen", Some(12_900)), "129.00");
        assert_eq!(shown("milli", Some(1_500)), "1.500");
        assert_eq!(shown("count", Some(7)), "7");
        assert_eq!(share(1, 4), "25.00%");
        assert_eq!(share(1, 0), "—");
        assert_eq!(healthy_text(1_500), "15%");
        assert_eq!(healthy_text(1_250), "12.5%");
        assert_eq!(or_id("", 3), "#3");
        assert_eq!(or_id("门店", 3), "门店");
    }

    #[test]
    fn cohort_cells_darken_with_their_share() {
        assert_eq!(shade(0), "");
        assert_eq!(shade(5_000), "background:rgba(11,122,117,0.49)");
        assert_eq!(shade(10_000), "background:rgba(11,122,117,0.90);color:#fff");
        assert_eq!(shade(20_000), shade(10_000));
    }

    #[test]
    fn the_funnel_bars_follow_the_steps() {
        let f = Funnel {
            by: "brand",
            id: 0,
            name: String::new(),
            joined: 8,
            joined_group: 4,
            first_order: 2,
            second_order: 1,
        };
        let b = bars(Tr { lang: Lang::Zh }, &f);
        let widths: Vec<&str> = b.iter().map(|b| b.width.as_str()).collect();
        assert_eq!(widths, ["100.0", "50.0", "25.0", "12.5"]);
        assert_eq!(b[0].from_previous, "");
        assert_eq!(b[2].from_previous, "");
        assert_eq!(b[3].from_previous, "50.00%");
        assert_eq!(b[3].of_joined, "12.50%");
        assert_eq!(b[1].label, "入群");
        let empty = bars(Tr { lang: Lang::En }, &Funnel { joined: 0, ..f });
        assert!(empty.iter().all(|b| b.width == "0"));
    }

    #[test]
    fn every_label_the_page_builds_exists() {
        for step in ["joined", "joined_group", "first_order", "second_order"] {
            assert!(lookup(&format!("mpage.step.{step}")).is_some(), "{step}");
        }
        for by in ["brand", "store", "guide", "channel"] {
            assert!(lookup(&format!("mpage.by.{by}")).is_some(), "{by}");
        }
        for by in ["tier", "card"] {
            assert!(lookup(&format!("mpage.seg.{by}")).is_some(), "{by}");
        }
        assert!(lookup("mpage.reason.interaction_rate").is_some());
    }
}
