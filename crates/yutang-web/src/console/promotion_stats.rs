//! `/console/promotions/{what}/{id}/stats` (issue #18): one campaign's headline figures, a
//! chart of the days (bars for claims and uses, a line for GMV) drawn here as inline SVG — no
//! script, no outside request, scaled by its viewBox so it reads on a phone — and the same
//! numbers in a table under it. Archived campaigns keep the page.
//!
//! The chart's geometry is integer arithmetic in viewBox units; every bar and GMV point
//! carries its day and value (`data-day`, `data-value`) and a `<title>` with both.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use yutang_app::AppError;
use yutang_app::promotions::{CampaignKind, CampaignStatsView};
use yutang_core::promotions::stats::{DayFigures, Figures};

use super::layout::error_page;
use super::{Console, Ctx, render};
use crate::state::AppState;

/// The viewBox: 400 × 230 units, the plot inside the margins.
const W: i64 = 400;
const H: i64 = 230;
const LEFT: i64 = 34;
const RIGHT: i64 = 50;
const TOP: i64 = 34;
const BOTTOM: i64 = 30;
const PLOT_W: i64 = W - LEFT - RIGHT;
const PLOT_H: i64 = H - TOP - BOTTOM;
/// At most this many day labels under the x axis.
const MAX_X_LABELS: i64 = 6;

/// One bar of the chart.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub day: String,
    pub value: i64,
}

/// A label on an axis at a position along it.
pub struct Tick {
    pub at: i64,
    pub label: String,
}

/// The chart, laid out in viewBox units: two bar series side by side per day (counts, left
/// axis) and a line of an amount (fen, right axis).
pub struct Chart {
    pub first: Vec<Bar>,
    pub second: Vec<Bar>,
    /// The line's `points` and its points (x, y, day, fen).
    pub line: String,
    pub line_points: Vec<(i64, i64, String, i64)>,
    pub x_ticks: Vec<Tick>,
    /// Counts on the left axis, yuan on the right.
    pub count_ticks: Vec<Tick>,
    pub line_ticks: Vec<Tick>,
}

/// One day of a chart: its label (`2026-12-04`), the two counts and the amount in fen.
pub struct ChartDay<'a> {
    pub day: &'a str,
    pub first: i64,
    pub second: i64,
    pub line_fen: i64,
}

/// The smallest "round" maximum ≥ `v` for an axis (1, 2, 5 × 10ⁿ), at least 1.
fn nice_max(v: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= v {
                return step * m;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// `y` of `v` on an axis whose top is `max`.
fn y_of(v: i64, max: i64) -> i64 {
    TOP + PLOT_H - v.saturating_mul(PLOT_H) / max.max(1)
}

/// Lay out the chart of a campaign's `days`: claims and uses, GMV as the line.
pub fn chart(days: &[DayFigures]) -> Chart {
    let points: Vec<ChartDay<'_>> = days
        .iter()
        .map(|d| ChartDay {
            day: &d.day,
            first: d.figures.claims,
            second: d.figures.uses,
            line_fen: d.figures.gmv_fen,
        })
        .collect();
    chart_of(&points)
}

/// Lay out a chart of `days`.
pub fn chart_of(days: &[ChartDay<'_>]) -> Chart {
    let n = i64::try_from(days.len()).unwrap_or(1).max(1);
    let slot = PLOT_W / n;
    let bar_w = (slot * 3 / 8).clamp(1, 24);
    let count_max = nice_max(
        days.iter()
            .map(|d| d.first.max(d.second))
            .max()
            .unwrap_or(0),
    );
    let line_top = days.iter().map(|d| d.line_fen).max().unwrap_or(0);
    let line_max = nice_max(line_top);
    let mut c = Chart {
        first: Vec::new(),
        second: Vec::new(),
        line: String::new(),
        line_points: Vec::new(),
        x_ticks: Vec::new(),
        // 0, the middle when it is a whole number and not 0, the top.
        count_ticks: [0, count_max / 2, count_max]
            .into_iter()
            .enumerate()
            .filter(|(i, v)| *i != 1 || (*v > 0 && count_max % 2 == 0))
            .map(|(_, v)| v)
            .map(|v| Tick {
                at: y_of(v, count_max),
                label: v.to_string(),
            })
            .collect(),
        // Without any amount the right axis only says ¥0.00.
        line_ticks: [0, line_max]
            .into_iter()
            .filter(|v| *v == 0 || line_top > 0)
            .map(|v| Tick {
                at: y_of(v, line_max),
                label: format!("¥{}", yutang_core::money::Fen(v)),
            })
            .collect(),
    };
    let label_every = (n + MAX_X_LABELS - 1) / MAX_X_LABELS;
    for (i, d) in (0_i64..).zip(days) {
        let center = LEFT + i * slot + slot / 2;
        let bar = |x: i64, value: i64| {
            let y = y_of(value, count_max);
            Bar {
                x,
                y,
                w: bar_w,
                h: TOP + PLOT_H - y,
                day: d.day.to_owned(),
                value,
            }
        };
        c.first.push(bar(center - bar_w, d.first));
        c.second.push(bar(center, d.second));
        let gy = y_of(d.line_fen, line_max);
        if !c.line.is_empty() {
            c.line.push(' ');
        }
        c.line.push_str(&format!("{center},{gy}"));
        c.line_points
            .push((center, gy, d.day.to_owned(), d.line_fen));
        if i % label_every == 0 {
            c.x_ticks.push(Tick {
                at: center,
                // `12-04`: the year is in the table and the titles.
                label: d.day.get(5..).unwrap_or(d.day).to_owned(),
            });
        }
    }
    c
}

/// The viewBox and the plot's edges in it, for a chart's template.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub w: i64,
    pub h: i64,
    pub plot_left: i64,
    pub plot_right: i64,
    pub plot_top: i64,
    pub plot_bottom: i64,
}

/// The one frame every chart is drawn in.
pub const FRAME: Frame = Frame {
    w: W,
    h: H,
    plot_left: LEFT,
    plot_right: W - RIGHT,
    plot_top: TOP,
    plot_bottom: TOP + PLOT_H,
};

#[derive(Template)]
#[template(path = "console/promotion_stats.html")]
struct StatsPage {
    ctx: Ctx,
    v: CampaignStatsView,
    chart: Chart,
    /// The kind's key suffix in the texts (`coupon` …).
    key: &'static str,
    /// The viewBox and the plot's edges in it.
    frame: Frame,
}

impl StatsPage {
    /// A text of this kind (`pstats.claims_coupon` …).
    fn k(&self, name: &str) -> &'static str {
        self.ctx.tr.t(&format!("pstats.{name}_{}", self.key))
    }

    fn pct(&self, permille: &i64) -> String {
        format!("{}.{}%", permille / 10, permille % 10)
    }

    fn totals(&self) -> &Figures {
        &self.v.stats.totals
    }

    /// Whether the kind has a third count (flash-sale releases, group-buy refunds) and a
    /// denominator other than the claims (coupons handed out, teams opened).
    fn has_released(&self) -> bool {
        self.v.kind != CampaignKind::Coupon
    }

    fn has_eligible(&self) -> bool {
        self.v.kind != CampaignKind::FlashSale
    }

    fn chart_label(&self) -> String {
        let days = &self.v.stats.days;
        let (from, to) = match (days.first(), days.last()) {
            (Some(f), Some(l)) => (f.day.as_str(), l.day.as_str()),
            _ => ("-", "-"),
        };
        self.ctx.tr.fill(
            "pstats.chart_label",
            &[
                ("name", &self.v.name),
                ("claims", self.k("claims")),
                ("uses", self.k("uses")),
                ("from", from),
                ("to", to),
                ("claims_n", &self.totals().claims.to_string()),
                ("uses_n", &self.totals().uses.to_string()),
                ("gmv", &self.ctx.yuan(&self.totals().gmv_fen)),
            ],
        )
    }
}

pub async fn page(
    State(s): State<AppState>,
    mut c: Console,
    Path((what, id)): Path<(String, i64)>,
) -> Response {
    c.ctx.active = "promotions";
    let Some(kind) = CampaignKind::parse_path(&what) else {
        return error_page(c.ctx, AppError::NotFound { what: "page" });
    };
    let v = match s
        .app
        .promotions()
        .campaign_stats(&c.session.actor, kind, id)
        .await
    {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let key = match kind {
        CampaignKind::Coupon => "coupon",
        CampaignKind::FlashSale => "flash",
        CampaignKind::GroupBuy => "group",
    };
    let chart = chart(&v.stats.days);
    render(
        StatusCode::OK,
        &StatsPage {
            ctx: c.ctx,
            v,
            chart,
            key,
            frame: FRAME,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: &str, claims: i64, uses: i64, gmv_fen: i64) -> DayFigures {
        DayFigures {
            day_no: 0,
            day: day.into(),
            figures: Figures {
                claims,
                uses,
                gmv_fen,
                ..Figures::default()
            },
        }
    }

    #[test]
    fn bars_and_line_scale_to_the_plot() {
        let c = chart(&[day("2026-12-03", 4, 0, 0), day("2026-12-04", 2, 1, 5000)]);
        // Counts top out at 5 (a round maximum ≥ 4); 4 claims are 4/5 of the plot.
        assert_eq!(c.first[0].h, PLOT_H * 4 / 5);
        assert_eq!(c.first[0].y + c.first[0].h, TOP + PLOT_H);
        assert_eq!(c.second[0].h, 0);
        assert_eq!(
            (c.second[1].value, c.second[1].day.as_str()),
            (1, "2026-12-04")
        );
        // The GMV line: the day with GMV at the top of its axis (¥50.00).
        assert_eq!(c.line_points[1].1, TOP);
        assert_eq!(c.line_points[0].1, TOP + PLOT_H);
        assert_eq!(c.line_ticks[1].label, "¥50.00");
        assert_eq!(c.x_ticks[0].label, "12-03");
        // Everything inside the viewBox.
        for b in c.first.iter().chain(&c.second) {
            assert!(b.x >= LEFT && b.x + b.w <= W - RIGHT, "{}", b.x);
        }
    }

    #[test]
    fn long_series_keep_few_labels_and_thin_bars() {
        let days: Vec<DayFigures> = (0..90).map(|i| day("2026-09-01", i, 0, 0)).collect();
        let c = chart(&days);
        assert!(c.x_ticks.len() <= MAX_X_LABELS as usize);
        assert!(c.first.iter().all(|b| b.w >= 1));
        assert_eq!(nice_max(0), 1);
        // A top of 1 has no middle tick (0 was drawn twice); a top of 2 has one.
        let ticks = |top: i64| -> Vec<String> {
            chart(&[day("2026-09-01", top, 0, 0)])
                .count_ticks
                .into_iter()
                .map(|t| t.label)
                .collect()
        };
        assert_eq!(ticks(1), ["0", "1"]);
        assert_eq!(ticks(2), ["0", "1", "2"]);
        assert_eq!(ticks(5), ["0", "5"]);
        assert_eq!(nice_max(89), 100);
        assert_eq!(nice_max(3), 5);
    }
}
