//! The retail metrics, funnels and cohorts (指标, issue #24 items 2 and 3):
//! `GET /api/v1/metrics` and any of its tables as CSV under `GET /api/v1/metrics/export`.
//! Periods are Asia/Shanghai months (`from`, `to`, `YYYY-MM`, both included; the last six by
//! default, at most 24). The figures come from monthly cells the rollup follower keeps; the
//! definitions are in docs/analytics.md and in each line's `definition`.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use yutang_app::analytics::metrics::{
    CohortRow, Funnel, MetricLine, MetricsAsk, MetricsView, SalesRow, SegmentRow,
};
use yutang_app::analytics::uplift::UpliftView;
use yutang_app::analytics::{DashboardScope, Freshness};
use yutang_core::FieldError;
use yutang_core::money::Fen;

use super::spreadsheet::{FileFormat, table_download};
use crate::auth::{ApiActor, ApiQuery};
use crate::console::import::csv_cell;
use crate::console::{Lang, Tr};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MetricsParams {
    /// The first month, `YYYY-MM` in Asia/Shanghai (default: five months before `to`).
    pub from: Option<String>,
    /// The last month, `YYYY-MM` (default: the current month). At most 24 months.
    pub to: Option<String>,
    /// One store's figures (HQ roles; a store manager only their own store).
    pub store_id: Option<i64>,
    /// One guide's figures (HQ roles; a store manager their store's guides; a guide only
    /// themselves).
    pub staff_id: Option<i64>,
    /// 首购开单率's window in days after joining: 1, 7, 14, 30 (default), 60 or 90.
    pub first_order_days: Option<i64>,
    /// The language of names, definitions and the CSV header: zh (default) or en.
    pub lang: Option<String>,
    /// Export only: `metrics` (default), `funnels`, `cohorts`, `segments`, `stores`, `guides`
    /// or `uplift`.
    pub table: Option<String>,
    /// Export only: `csv` (default, UTF-8 with a BOM) or `xlsx` (an Excel workbook).
    pub format: Option<String>,
}

impl MetricsParams {
    fn ask(&self) -> MetricsAsk {
        MetricsAsk {
            from: self.from.clone(),
            to: self.to.clone(),
            store_id: self.store_id,
            staff_id: self.staff_id,
            first_order_days: self.first_order_days,
        }
    }
}

/// A metric line with its name and definition in the asked language.
#[derive(Debug, Serialize)]
pub struct NamedLine {
    #[serde(flatten)]
    pub line: MetricLine,
    pub name: &'static str,
    pub definition: &'static str,
}

/// A metric not measurable yet, with its name and definition.
#[derive(Debug, Serialize)]
pub struct NamedUnavailable {
    pub key: &'static str,
    pub name: &'static str,
    pub definition: &'static str,
    pub reason: &'static str,
}

/// The answer: the app's view with names and definitions.
#[derive(Debug, Serialize)]
pub struct MetricsOut {
    pub scope: DashboardScope,
    pub months: Vec<String>,
    pub first_order_days: i64,
    pub metrics: Vec<NamedLine>,
    pub funnels: Vec<Funnel>,
    pub cohorts: Vec<CohortRow>,
    pub segments: Vec<SegmentRow>,
    pub stores: Vec<SalesRow>,
    pub guides: Vec<SalesRow>,
    pub uplift: Option<UpliftOut>,
    pub holdouts: Option<Vec<yutang_app::messaging::HoldoutStudy>>,
    pub unavailable: Vec<NamedUnavailable>,
    pub freshness: Freshness,
}

/// The uplift section with the reader's words for the evidence and the studies.
#[derive(Debug, Serialize)]
pub struct UpliftOut {
    #[serde(flatten)]
    pub view: UpliftView,
    /// What kind of evidence this is, in words.
    pub evidence_text: &'static str,
    /// How the comparison is made, in words.
    pub method: &'static str,
    /// The studies' names, in the order of `studies`.
    pub study_names: Vec<&'static str>,
}

/// The uplift section in the reader's language.
pub fn named_uplift(tr: Tr, view: UpliftView) -> UpliftOut {
    let study_names = view
        .studies
        .iter()
        .map(|st| tr.t(&format!("uplift.study.{}", st.study)))
        .collect();
    UpliftOut {
        evidence_text: tr.t(&format!("uplift.evidence.{}", view.evidence)),
        method: tr.t("uplift.method"),
        study_names,
        view,
    }
}

/// Name and definition of a metric key.
pub fn metric_text(tr: Tr, key: &str) -> (&'static str, &'static str) {
    (
        tr.t(&format!("metric.{key}")),
        tr.t(&format!("metric.{key}.def")),
    )
}

/// The view with names and definitions.
pub fn named(tr: Tr, view: MetricsView) -> MetricsOut {
    let metrics = view
        .metrics
        .into_iter()
        .map(|line| {
            let (name, definition) = metric_text(tr, line.key);
            NamedLine {
                line,
                name,
                definition,
            }
        })
        .collect();
    let unavailable = view
        .unavailable
        .into_iter()
        .map(|u| {
            let (name, definition) = metric_text(tr, u.key);
            NamedUnavailable {
                key: u.key,
                name,
                definition,
                reason: u.reason,
            }
        })
        .collect();
    MetricsOut {
        scope: view.scope,
        months: view.months,
        first_order_days: view.first_order_days,
        metrics,
        funnels: view.funnels,
        cohorts: view.cohorts,
        segments: view.segments,
        stores: view.stores,
        guides: view.guides,
        uplift: view.uplift.map(|u| named_uplift(tr, u)),
        holdouts: view.holdouts,
        unavailable,
        freshness: view.freshness,
    }
}

/// The documented shape of the answer.
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    use super::super::dashboard::schema::{DashboardFreshness, DashboardScope};

    /// One metric over the period and month by month.
    #[derive(Serialize, ToSchema)]
    pub struct MetricsLine {
        /// `traffic_rate` (引流率), `first_order_rate` (首购开单率), `repurchase_rate`,
        /// `second_order_rate`, `repurchase_interval_days`, `purchase_frequency_milli`,
        /// `spend_per_buyer_fen`, `buyers`, `orders`, `net_sales_fen`, `shares` (brand only),
        /// `referrals`, `referred_orders`, `referred_sales_fen` (see docs/analytics.md).
        pub key: String,
        /// `bp` (basis points), `milli` (thousandths), `fen`, `days` or `count`.
        pub unit: String,
        /// The whole period; a rate pools its months' numerators and denominators. Null
        /// when there is nothing to divide by.
        pub total: Option<i64>,
        /// One value per month of `months`.
        pub months: Vec<Option<i64>>,
        /// What is considered healthy, in basis points, where there is such a figure.
        pub healthy_bp: Option<i64>,
        pub name: String,
        pub definition: String,
    }

    /// Customers who joined the pool in the period and how far they went.
    #[derive(Serialize, ToSchema)]
    pub struct MetricsFunnel {
        /// `brand`, `store`, `guide` (the scope's own funnel first), then `channel` and
        /// `store` (brand) or `guide` (a store) breakdowns.
        pub by: String,
        /// The channel, store or guide (0: none).
        pub id: i64,
        pub name: String,
        pub joined: i64,
        pub joined_group: i64,
        pub first_order: i64,
        pub second_order: i64,
    }

    /// One joining month of the cohort matrix.
    #[derive(Serialize, ToSchema)]
    pub struct MetricsCohort {
        /// `YYYY-MM`.
        pub month: String,
        pub joined: i64,
        /// Customers with an order in month k after joining, k = 0..=12 (0: the joining
        /// month, from joining on); null for months not begun.
        pub ordered: Vec<Option<i64>>,
        /// Customers still WeCom contacts of a guide at the end of month k after joining
        /// (the current month: now), k = 0..=12; null for months not begun.
        pub kept: Vec<Option<i64>>,
        /// With a first order within `first_order_days` of joining.
        pub first_order_within: i64,
        /// That window has not closed yet for everyone of the month.
        pub maturing: bool,
    }

    /// Sales of a tier or of card holders over the period.
    #[derive(Serialize, ToSchema)]
    pub struct MetricsSegment {
        /// `tier` (id 0: no tier) or `card` (id 1: paid members, 0: the others).
        pub by: String,
        pub id: i64,
        pub name: String,
        /// Customers in it now.
        pub customers: i64,
        pub buyers: i64,
        pub orders: i64,
        pub net_sales_fen: i64,
        /// Net sales per customer (ARPU), fen.
        pub arpu_fen: Option<i64>,
        /// Orders per customer, thousandths.
        pub frequency_milli: Option<i64>,
    }

    /// Sales of a store or a guide over the period.
    #[derive(Serialize, ToSchema)]
    pub struct MetricsSales {
        pub id: i64,
        pub name: String,
        pub buyers: i64,
        pub orders: i64,
        pub net_sales_fen: i64,
        pub traffic_rate_bp: Option<i64>,
        pub repurchase_rate_bp: Option<i64>,
    }

    /// An estimate with its 95% interval.
    #[derive(Serialize, ToSchema)]
    pub struct UpliftInterval {
        pub estimate: i64,
        pub low: i64,
        pub high: i64,
    }

    /// Treated customers against their matched controls.
    #[derive(Serialize, ToSchema)]
    pub struct UpliftEstimate {
        /// Treated customers (joined a group, or bought a card, in the month).
        pub treated: i64,
        /// Treated customers with controls in their stratum of prior orders and spend.
        pub matched: i64,
        /// The controls of those strata.
        pub controls: i64,
        /// Difference in differences of orders per customer (the months after minus the
        /// months before, treated minus controls), thousandths of an order.
        pub orders_milli: Option<UpliftInterval>,
        /// The same for net spend per customer, fen.
        pub net_fen: Option<UpliftInterval>,
        /// Matched treated customers who bought in the month after, basis points.
        pub next_month_treated_bp: Option<i64>,
        /// Controls who did, weighted like the treated, basis points.
        pub next_month_control_bp: Option<i64>,
        /// Treated over controls, minus one, basis points (+50% is 5000).
        pub next_month_lift_bp: Option<i64>,
    }

    /// One study.
    #[derive(Serialize, ToSchema)]
    pub struct UpliftStudy {
        /// `group` (first group join) or `paid_member` (first paid member card).
        pub study: String,
        /// The period's measurable months pooled.
        pub pooled: UpliftEstimate,
        /// One per month of `months`.
        pub by_month: Vec<UpliftEstimate>,
    }

    /// In-group vs not and paid members vs not, over comparable customers.
    #[derive(Serialize, ToSchema)]
    pub struct Uplift {
        /// `observational`: a matched comparison, not a randomised experiment.
        pub evidence: String,
        pub evidence_text: String,
        pub method: String,
        /// Months compared before and after the month of joining.
        pub window_months: i64,
        /// When the studies were computed (UTC millis; null: not yet).
        pub computed_at: Option<i64>,
        /// The period's months that can be measured (`YYYY-MM`).
        pub months: Vec<String>,
        pub studies: Vec<UpliftStudy>,
        pub study_names: Vec<String>,
    }

    /// One arm of a holdout comparison.
    #[derive(Serialize, ToSchema)]
    pub struct HoldoutArm {
        pub customers: i64,
        pub buyers: i64,
        pub orders: i64,
        pub net_fen: i64,
    }

    /// A difference with its 95% interval.
    #[derive(Serialize, ToSchema)]
    pub struct HoldoutInterval {
        pub estimate: i64,
        pub low: i64,
        pub high: i64,
    }

    /// Sent minus holdout over the 7 days after the send.
    #[derive(Serialize, ToSchema)]
    pub struct HoldoutComparison {
        /// `randomised_holdout`: causal evidence, up to chance.
        pub evidence: String,
        pub sent: HoldoutArm,
        pub holdout: HoldoutArm,
        /// Basis points.
        pub buyer_share_bp: Option<HoldoutInterval>,
        /// Thousandths of an order per customer.
        pub orders_milli: Option<HoldoutInterval>,
        /// Fen per customer.
        pub net_fen: Option<HoldoutInterval>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct HoldoutUplift {
        pub message_id: i64,
        pub holdout_bp: i64,
        pub days: i64,
        /// The window (UTC millis).
        pub from: i64,
        pub to: i64,
        pub complete: bool,
        pub comparison: HoldoutComparison,
    }

    /// A mass message that kept a random holdout.
    #[derive(Serialize, ToSchema)]
    pub struct MetricsHoldout {
        pub name: String,
        pub uplift: HoldoutUplift,
    }

    /// A metric that cannot be measured yet.
    #[derive(Serialize, ToSchema)]
    pub struct MetricsUnavailable {
        pub key: String,
        pub name: String,
        pub definition: String,
        pub reason: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Metrics {
        pub scope: DashboardScope,
        /// `YYYY-MM`, oldest first.
        pub months: Vec<String>,
        pub first_order_days: i64,
        pub metrics: Vec<MetricsLine>,
        pub funnels: Vec<MetricsFunnel>,
        pub cohorts: Vec<MetricsCohort>,
        /// By tier and card (brand only).
        pub segments: Vec<MetricsSegment>,
        pub stores: Vec<MetricsSales>,
        pub guides: Vec<MetricsSales>,
        /// Brand and store scopes; null for a guide.
        pub uplift: Option<Uplift>,
        /// Mass messages sent in the period with a random holdout, compared with it (brand and
        /// store scopes; null for a guide).
        pub holdouts: Option<Vec<MetricsHoldout>>,
        pub unavailable: Vec<MetricsUnavailable>,
        pub freshness: DashboardFreshness,
    }
}

/// The retail metrics, funnels and cohorts of the caller's scope: the brand for HQ roles (or
/// one store or guide asked for), their store for a store manager, their own for a guide.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "analytics",
    security(("bearer" = [])), params(MetricsParams),
    responses((status = 200, body = schema::Metrics), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn metrics(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<MetricsParams>,
) -> WebResult<Json<MetricsOut>> {
    let lang = super::audit::parse_lang(p.lang.as_deref())?;
    if p.table.is_some() {
        return Err(FieldError::new("table", "invalid_query", "table is for the export").into());
    }
    if p.format.is_some() {
        return Err(FieldError::new("format", "invalid_query", "format is for the export").into());
    }
    let v = s.app.analytics().metrics(&a, &p.ask()).await?;
    Ok(Json(named(Tr { lang }, v)))
}

/// One of the metrics page's tables as CSV (UTF-8 with a BOM); money in yuan, rates in
/// percent.
#[utoipa::path(get, path = "/api/v1/metrics/export", tag = "analytics",
    security(("bearer" = [])), params(MetricsParams),
    responses((status = 200, description = "The table as CSV (`format=csv`, the default) or an Excel workbook (`format=xlsx`).", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn metrics_export(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<MetricsParams>,
) -> WebResult<Response> {
    let lang = super::audit::parse_lang(p.lang.as_deref())?;
    let table = Table::parse(p.table.as_deref())?;
    let format = FileFormat::parse(p.format.as_deref())?;
    let v = s.app.analytics().metrics(&a, &p.ask()).await?;
    Ok(table_download(
        table.file_name(),
        format,
        metrics_csv(Tr { lang }, &v, table),
    ))
}

/// The tables of the metrics page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Metrics,
    Funnels,
    Cohorts,
    Segments,
    Stores,
    Guides,
    Uplift,
}

impl Table {
    pub const ALL: [Table; 7] = [
        Table::Metrics,
        Table::Funnels,
        Table::Cohorts,
        Table::Segments,
        Table::Stores,
        Table::Guides,
        Table::Uplift,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Metrics => "metrics",
            Table::Funnels => "funnels",
            Table::Cohorts => "cohorts",
            Table::Segments => "segments",
            Table::Stores => "stores",
            Table::Guides => "guides",
            Table::Uplift => "uplift",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Table::Metrics => "metrics.csv",
            Table::Funnels => "metrics-funnels.csv",
            Table::Cohorts => "metrics-cohorts.csv",
            Table::Segments => "metrics-segments.csv",
            Table::Stores => "metrics-stores.csv",
            Table::Guides => "metrics-guides.csv",
            Table::Uplift => "metrics-uplift.csv",
        }
    }

    pub fn parse(s: Option<&str>) -> Result<Self, FieldError> {
        match s {
            None | Some("") => Ok(Table::Metrics),
            Some(x) => Table::ALL
                .into_iter()
                .find(|t| t.name() == x)
                .ok_or_else(|| {
                    FieldError::new(
                        "table",
                        "invalid_query",
                        "table is metrics, funnels, cohorts, segments, stores, guides or uplift",
                    )
                }),
        }
    }
}

/// A value of `unit` as a CSV cell: rates in percent with two decimals, money in yuan,
/// thousandths as a decimal.
pub fn unit_cell(unit: &str, v: Option<i64>) -> String {
    let Some(v) = v else { return String::new() };
    match unit {
        "bp" | "milli" => {
            // The sign is written apart: -50 bp is -0.50%, not 0.50%.
            let sign = if v < 0 { "-" } else { "" };
            let a = v.unsigned_abs();
            if unit == "bp" {
                format!("{sign}{}.{:02}%", a / 100, a % 100)
            } else {
                format!("{sign}{}.{:03}", a / 1000, a % 1000)
            }
        }
        "fen" => Fen(v).to_string(),
        _ => v.to_string(),
    }
}

fn line(cells: Vec<String>) -> String {
    cells.join(",") + "\r\n"
}

/// The CSV lines of one table (after the BOM).
pub fn metrics_csv(tr: Tr, v: &MetricsView, table: Table) -> String {
    let zh = matches!(tr.lang, Lang::Zh);
    let h = |zh_text: &str, en: &str| csv_cell(if zh { zh_text } else { en });
    let mut out = String::new();
    match table {
        Table::Metrics => {
            let mut head = vec![h("指标", "Metric"), h("合计", "Total")];
            head.extend(v.months.iter().map(|m| csv_cell(m)));
            head.push(h("定义", "Definition"));
            out.push_str(&line(head));
            for l in &v.metrics {
                let (name, def) = metric_text(tr, l.key);
                let mut row = vec![csv_cell(name), unit_cell(l.unit, l.total)];
                row.extend(l.months.iter().map(|x| unit_cell(l.unit, *x)));
                row.push(csv_cell(def));
                out.push_str(&line(row));
            }
        }
        Table::Funnels => {
            out.push_str(&line(vec![
                h("维度", "By"),
                h("名称", "Name"),
                h("入池", "Joined"),
                h("入群", "Joined a group"),
                h("首单", "First order"),
                h("二单", "Second order"),
            ]));
            for f in &v.funnels {
                out.push_str(&line(vec![
                    csv_cell(f.by),
                    csv_cell(&f.name),
                    f.joined.to_string(),
                    f.joined_group.to_string(),
                    f.first_order.to_string(),
                    f.second_order.to_string(),
                ]));
            }
        }
        Table::Cohorts => {
            let mut head = vec![h("入池月份", "Joined in"), h("入池人数", "Joined")];
            head.push(h(
                &format!("{} 天内首单", v.first_order_days),
                &format!("First order within {} days", v.first_order_days),
            ));
            let months = v.cohorts.first().map_or(13, |c| c.ordered.len());
            head.extend(
                (0..months).map(|k| h(&format!("第 {k} 月下单"), &format!("Ordered in month {k}"))),
            );
            head.extend((0..months).map(|k| {
                h(
                    &format!("第 {k} 月末留存好友"),
                    &format!("Contacts kept, end of month {k}"),
                )
            }));
            out.push_str(&line(head));
            for c in &v.cohorts {
                let mut row = vec![
                    csv_cell(&c.month),
                    c.joined.to_string(),
                    c.first_order_within.to_string(),
                ];
                row.extend(
                    c.ordered
                        .iter()
                        .map(|x| x.map(|x| x.to_string()).unwrap_or_default()),
                );
                row.extend(
                    c.kept
                        .iter()
                        .map(|x| x.map(|x| x.to_string()).unwrap_or_default()),
                );
                out.push_str(&line(row));
            }
        }
        Table::Segments => {
            out.push_str(&line(vec![
                h("分组", "By"),
                h("名称", "Name"),
                h("客户数", "Customers"),
                h("下单客户", "Buyers"),
                h("订单数", "Orders"),
                h("净销售额（元）", "Net sales (CNY)"),
                h("ARPU（元）", "ARPU (CNY)"),
                h("人均订单", "Orders per customer"),
            ]));
            for s in &v.segments {
                out.push_str(&line(vec![
                    csv_cell(s.by),
                    csv_cell(&s.name),
                    s.customers.to_string(),
                    s.buyers.to_string(),
                    s.orders.to_string(),
                    unit_cell("fen", Some(s.net_sales_fen)),
                    unit_cell("fen", s.arpu_fen),
                    unit_cell("milli", s.frequency_milli),
                ]));
            }
        }
        Table::Stores | Table::Guides => {
            out.push_str(&line(vec![
                h("ID", "ID"),
                h("名称", "Name"),
                h("下单客户", "Buyers"),
                h("订单数", "Orders"),
                h("净销售额（元）", "Net sales (CNY)"),
                h("引流率", "Traffic-to-pool rate"),
                h("复购率", "Repurchase rate"),
            ]));
            let rows = if table == Table::Stores {
                &v.stores
            } else {
                &v.guides
            };
            for s in rows {
                out.push_str(&line(vec![
                    s.id.to_string(),
                    csv_cell(&s.name),
                    s.buyers.to_string(),
                    s.orders.to_string(),
                    unit_cell("fen", Some(s.net_sales_fen)),
                    unit_cell("bp", s.traffic_rate_bp),
                    unit_cell("bp", s.repurchase_rate_bp),
                ]));
            }
        }
        Table::Uplift => uplift_csv(tr, v, &mut out),
    }
    out
}

/// The uplift table: a row per study and month (the pooled months first), estimates with
/// their 95% intervals; empty but for the header for a guide.
fn uplift_csv(tr: Tr, v: &MetricsView, out: &mut String) {
    let zh = matches!(tr.lang, Lang::Zh);
    let h = |zh_text: &str, en: &str| csv_cell(if zh { zh_text } else { en });
    out.push_str(&line(vec![
        h("对比", "Comparison"),
        h("月份", "Month"),
        h("证据类型", "Evidence"),
        h("处理组客户", "Treated"),
        h("已匹配", "Matched"),
        h("对照客户", "Controls"),
        h("人均订单变化差", "Orders per customer, difference"),
        h("下限", "Low"),
        h("上限", "High"),
        h(
            "人均净消费变化差（元）",
            "Net spend per customer, difference (CNY)",
        ),
        h("下限", "Low"),
        h("上限", "High"),
        h("次月复购率（处理组）", "Next-month purchase (treated)"),
        h("次月复购率（对照组）", "Next-month purchase (controls)"),
        h("提升", "Lift"),
    ]));
    let Some(u) = &v.uplift else { return };
    let evidence = tr.t(&format!("uplift.evidence_short.{}", u.evidence));
    for st in &u.studies {
        let name = tr.t(&format!("uplift.study.{}", st.study));
        let total = h("合计", "All months");
        let rows = std::iter::once((total, &st.pooled))
            .chain(u.months.iter().map(|m| csv_cell(m)).zip(&st.by_month));
        for (month, e) in rows {
            let interval = |i: Option<yutang_core::analytics::uplift::Interval>, unit: &str| match i
            {
                Some(i) => [
                    unit_cell(unit, Some(i.estimate)),
                    unit_cell(unit, Some(i.low)),
                    unit_cell(unit, Some(i.high)),
                ],
                None => [String::new(), String::new(), String::new()],
            };
            let mut row = vec![
                csv_cell(name),
                month,
                csv_cell(evidence),
                e.treated.to_string(),
                e.matched.to_string(),
                e.controls.to_string(),
            ];
            row.extend(interval(e.orders_milli, "milli"));
            row.extend(interval(e.net_fen, "fen"));
            row.push(unit_cell("bp", e.next_month_treated_bp));
            row.push(unit_cell("bp", e.next_month_control_bp));
            row.push(unit_cell("bp", e.next_month_lift_bp));
            out.push_str(&line(row));
        }
    }
}
