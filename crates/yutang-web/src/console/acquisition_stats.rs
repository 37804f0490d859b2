//! Channel statistics pages (渠道统计, issue #19 item 7): `/console/acquisition/stats` (every
//! channel, the guide leaderboard, the stores) and `/console/channels/{id}/stats` (one
//! channel per day, guide and store), each over a period of Shanghai days chosen in a form,
//! with the headline figures, a chart of adds and net adds per day (bars) with attributed GMV
//! (line) drawn here as inline SVG like the campaign statistics, the same numbers in tables,
//! and a CSV download (`…/stats.csv`, in the page's language).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::acquisition::stats::{
    AcquisitionStatsView, ChannelStatsView, PeriodView, StatsAsk,
};
use yutang_core::FieldError;
use yutang_core::acquisition::stats::{DayFigures, Figures};

use super::layout::{ConsoleQuery, error_page};
use super::promotion_stats::{Chart, ChartDay, FRAME, Frame, chart_of};
use super::{Console, Ctx, render};
use crate::api::acquisition_stats::{acquisition_csv, channel_csv};
use crate::api::spreadsheet::{FileFormat, table_download};
use crate::state::AppState;

/// The period form's fields (all optional: the last 30 days, a 30-day first-order window).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    first_order_days: Option<String>,
}

impl PeriodQuery {
    fn ask(&self) -> Result<StatsAsk, AppError> {
        let first_order_days = match self.first_order_days.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(s.parse::<i64>().map_err(|_| {
                FieldError::new(
                    "first_order_days",
                    "invalid_count",
                    "first_order_days is a whole number of days",
                )
            })?),
        };
        Ok(StatsAsk {
            from: self.from.clone(),
            to: self.to.clone(),
            first_order_days,
        })
    }
}

/// The chart of a period's days: adds and net adds after 7 days, attributed GMV.
fn chart(days: &[DayFigures]) -> Chart {
    let points: Vec<ChartDay<'_>> = days
        .iter()
        .map(|d| ChartDay {
            day: &d.day,
            first: d.figures.adds,
            second: d.figures.net_adds_d7,
            line_fen: d.figures.gmv_fen,
        })
        .collect();
    chart_of(&points)
}

/// What both pages show the same way.
struct Common {
    chart: Chart,
    frame: Frame,
    /// The period as applied, for the form and the links.
    from: String,
    to: String,
    first_order_days: i64,
}

impl Common {
    fn of(days: &[DayFigures], p: &PeriodView) -> Self {
        Self {
            chart: chart(days),
            frame: FRAME,
            from: p.from.clone(),
            to: p.to.clone(),
            first_order_days: p.first_order_days,
        }
    }

    /// `?from=…&to=…&first_order_days=…` for links keeping the period.
    fn query(&self) -> String {
        format!(
            "from={}&to={}&first_order_days={}",
            self.from, self.to, self.first_order_days
        )
    }
}

/// Texts the templates build from figures.
trait Texts {
    fn ctx(&self) -> &Ctx;

    /// `3 小时`, `2 天 5 小时`, or `—` without first orders.
    fn median(&self, f: &Figures) -> String {
        let tr = self.ctx().tr;
        match f.median_hours_to_first_order {
            None => "—".to_owned(),
            Some(h) if h < 48 => tr.fill("cstats.hours_fmt", &[("h", &h.to_string())]),
            Some(h) => tr.fill(
                "cstats.days_hours_fmt",
                &[("d", &(h / 24).to_string()), ("h", &(h % 24).to_string())],
            ),
        }
    }

    /// A channel kind's name (`store_stand` → 门店台卡).
    fn kind(&self, kind: &str) -> &'static str {
        self.ctx().tr.t(&format!("cstats.kind_{kind}"))
    }

    fn or_none<'a>(&self, name: &'a str, none_key: &str) -> &'a str {
        if name.is_empty() {
            self.ctx().tr.t(none_key)
        } else {
            name
        }
    }

    fn chart_label(&self, name: &str, days: &[DayFigures], totals: &Figures) -> String {
        let (from, to) = match (days.first(), days.last()) {
            (Some(f), Some(l)) => (f.day.as_str(), l.day.as_str()),
            _ => ("-", "-"),
        };
        self.ctx().tr.fill(
            "cstats.chart_label",
            &[
                ("name", name),
                ("from", from),
                ("to", to),
                ("adds", &totals.adds.to_string()),
                ("net", &totals.net_adds_d7.to_string()),
                ("gmv", &self.ctx().yuan(&totals.gmv_fen)),
            ],
        )
    }
}

#[derive(Template)]
#[template(path = "console/channel_stats.html")]
struct ChannelPage {
    ctx: Ctx,
    v: ChannelStatsView,
    c: Common,
}

impl Texts for ChannelPage {
    fn ctx(&self) -> &Ctx {
        &self.ctx
    }
}

impl ChannelPage {
    fn csv_href(&self) -> String {
        format!(
            "/console/channels/{}/stats.csv?{}",
            self.v.channel.channel_id.unwrap_or_default(),
            self.c.query()
        )
    }

    fn label(&self) -> String {
        self.chart_label(&self.v.channel.name, &self.v.days, &self.v.totals)
    }
}

#[derive(Template)]
#[template(path = "console/acquisition_stats.html")]
struct OverviewPage {
    ctx: Ctx,
    v: AcquisitionStatsView,
    c: Common,
    /// The orders' attribution window in force (days), with a link to its settings.
    window_days: i64,
}

impl Texts for OverviewPage {
    fn ctx(&self) -> &Ctx {
        &self.ctx
    }
}

impl OverviewPage {
    fn csv_href(&self) -> String {
        format!("/console/acquisition/stats.csv?{}", self.c.query())
    }

    fn window_text(&self) -> String {
        self.ctx
            .tr
            .fill("cstats.window_fmt", &[("n", &self.window_days.to_string())])
    }

    fn label(&self) -> String {
        let name = self.ctx.tr.t("cstats.title");
        self.chart_label(name, &self.v.days, &self.v.totals)
    }
}

async fn channel_view(
    s: &AppState,
    c: &Console,
    id: i64,
    q: &PeriodQuery,
) -> Result<ChannelStatsView, AppError> {
    let ask = q.ask()?;
    s.app
        .acquisition()
        .channel_stats(&c.session.actor, id, &ask)
        .await
}

async fn overview_view(
    s: &AppState,
    c: &Console,
    q: &PeriodQuery,
) -> Result<AcquisitionStatsView, AppError> {
    let ask = q.ask()?;
    s.app
        .acquisition()
        .acquisition_stats(&c.session.actor, &ask)
        .await
}

/// `GET /console/channels/{id}/stats`.
pub async fn channel_page(
    State(s): State<AppState>,
    mut c: Console,
    Path(id): Path<i64>,
    ConsoleQuery(q): ConsoleQuery<PeriodQuery>,
) -> Response {
    c.ctx.active = "acquisition";
    match channel_view(&s, &c, id, &q).await {
        Ok(v) => {
            let common = Common::of(&v.days, &v.period);
            let page = ChannelPage {
                ctx: c.ctx,
                v,
                c: common,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// `GET /console/channels/{id}/stats.csv`: the page's figures as CSV in its language.
pub async fn channel_csv_file(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<i64>,
    ConsoleQuery(q): ConsoleQuery<PeriodQuery>,
) -> Response {
    channel_file(&s, c, id, &q, FileFormat::Csv).await
}

/// `GET /console/channels/{id}/stats.xlsx`: the same as an Excel workbook.
pub async fn channel_xlsx_file(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<i64>,
    ConsoleQuery(q): ConsoleQuery<PeriodQuery>,
) -> Response {
    channel_file(&s, c, id, &q, FileFormat::Xlsx).await
}

async fn channel_file(
    s: &AppState,
    c: Console,
    id: i64,
    q: &PeriodQuery,
    format: FileFormat,
) -> Response {
    match channel_view(s, &c, id, q).await {
        Ok(v) => table_download("channel-stats.csv", format, channel_csv(c.ctx.tr, &v)),
        Err(e) => error_page(c.ctx, e),
    }
}

/// `GET /console/acquisition/stats`.
pub async fn overview_page(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<PeriodQuery>,
) -> Response {
    c.ctx.active = "acquisition";
    let settings = s
        .app
        .acquisition()
        .acquisition_settings(&c.session.actor)
        .await;
    match overview_view(&s, &c, &q)
        .await
        .and_then(|v| Ok((v, settings?)))
    {
        Ok((v, settings)) => {
            let common = Common::of(&v.days, &v.period);
            let page = OverviewPage {
                ctx: c.ctx,
                v,
                c: common,
                window_days: settings.attribution_window_days,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// `GET /console/acquisition/stats.csv`.
pub async fn overview_csv_file(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<PeriodQuery>,
) -> Response {
    overview_file(&s, c, &q, FileFormat::Csv).await
}

/// `GET /console/acquisition/stats.xlsx`.
pub async fn overview_xlsx_file(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<PeriodQuery>,
) -> Response {
    overview_file(&s, c, &q, FileFormat::Xlsx).await
}

async fn overview_file(s: &AppState, c: Console, q: &PeriodQuery, format: FileFormat) -> Response {
    match overview_view(s, &c, q).await {
        Ok(v) => table_download(
            "acquisition-stats.csv",
            format,
            acquisition_csv(c.ctx.tr, &v),
        ),
        Err(e) => error_page(c.ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::lookup;
    use yutang_core::acquisition::ChannelKind;

    #[test]
    fn every_channel_kind_has_a_name() {
        for k in ChannelKind::ALL {
            assert!(
                lookup(&format!("cstats.kind_{}", k.as_str())).is_some(),
                "{}",
                k.as_str()
            );
        }
    }

    #[test]
    fn the_chart_draws_adds_and_net_adds() {
        let day = |d: &str, adds, net, gmv_fen| DayFigures {
            day_no: 0,
            day: d.into(),
            figures: Figures {
                adds,
                net_adds_d7: net,
                gmv_fen,
                ..Figures::default()
            },
        };
        let c = chart(&[day("2026-12-03", 4, 3, 0), day("2026-12-04", 2, 2, 12_900)]);
        assert_eq!((c.first[0].value, c.second[0].value), (4, 3));
        assert_eq!(c.first[1].day, "2026-12-04");
        assert_eq!(c.line_points[1].3, 12_900);
        assert!(c.first[0].h > c.second[0].h);
    }
}
