//! Channel statistics (渠道统计, issue #19 item 7): `GET /api/v1/channels/{id}/stats`,
//! `GET /api/v1/acquisition/stats`, and each as CSV under `…/stats/export`. Periods are
//! Asia/Shanghai days (`from`, `to`, both included; the last 30 days by default, at most 366);
//! the definitions are in docs/acquisition.md ("Channel statistics").

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use yutang_app::AppError;
use yutang_app::acquisition::stats::{
    AcquisitionStatsView, ChannelStatsView, GuideFigures, StatsAsk, StoreFigures,
};
use yutang_core::acquisition::stats::{DayFigures, Figures};

use super::spreadsheet::{FileFormat, table_download};
use crate::auth::{ApiActor, ApiQuery, IdPath};
use crate::console::Tr;
use crate::console::import::csv_cell;
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// The first day, `YYYY-MM-DD` in Asia/Shanghai (default: 29 days before `to`).
    pub from: Option<String>,
    /// The last day, `YYYY-MM-DD` in Asia/Shanghai (default: today). At most 366 days.
    pub to: Option<String>,
    /// A new customer's first order counts within this many days of their first touch
    /// (1–365, default 30).
    pub first_order_days: Option<i64>,
}

impl StatsParams {
    fn ask(self) -> StatsAsk {
        StatsAsk {
            from: self.from,
            to: self.to,
            first_order_days: self.first_order_days,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsExportParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub first_order_days: Option<i64>,
    /// The language of the header row and the row labels: zh (default) or en.
    pub lang: Option<String>,
    /// Export only: `csv` (default, UTF-8 with a BOM) or `xlsx` (an Excel workbook).
    pub format: Option<String>,
}

impl StatsExportParams {
    fn split(self) -> Result<(StatsAsk, Tr, FileFormat), AppError> {
        let lang = super::audit::parse_lang(self.lang.as_deref())?;
        let format = FileFormat::parse(self.format.as_deref())?;
        let ask = StatsParams {
            from: self.from,
            to: self.to,
            first_order_days: self.first_order_days,
        }
        .ask();
        Ok((ask, Tr { lang }, format))
    }
}

/// The documented shapes of the answers (the handlers serialize the app's views).
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// The figures of a group (the period's totals, a day, a channel, a guide or a store).
    #[derive(Serialize, ToSchema)]
    pub struct Figures {
        /// Adds (a customer adding a guide), by the day of the add.
        pub adds: i64,
        /// Those adds whose pair was not deleted within 1, 7 and 30 days of the add (an add
        /// younger than that counts while the pair stands).
        pub net_adds_d1: i64,
        pub net_adds_d7: i64,
        pub net_adds_d30: i64,
        /// Those adds whose pair has been deleted since.
        pub deleted: i64,
        /// Customers whose first touch was in the period (by its day).
        pub new_customers: i64,
        /// Of them, those who paid an order not fully refunded within `first_order_days` of
        /// their first touch.
        pub first_orders: i64,
        /// `first_orders / new_customers` in permille, rounded down.
        pub first_order_permille: i64,
        /// The median hours from first touch to that first order (rounded down; the lower
        /// middle of an even count); null without first orders, and always in `days`.
        pub median_hours_to_first_order: Option<i64>,
        /// Orders credited to the channel (last touch) paid in the period, not fully refunded.
        pub orders: i64,
        /// Their `amount − refunded_amount`, fen.
        pub gmv_fen: i64,
        /// First-add reward coupons used in the period.
        pub rewards_used: i64,
        /// Their discounts, fen.
        pub reward_cost_fen: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Day {
        /// `2026-12-04` (Asia/Shanghai).
        pub day: String,
        #[serde(flatten)]
        pub figures: Figures,
    }

    /// A guide's figures; `staff_id` null: adds whose guide is not a known staff member.
    #[derive(Serialize, ToSchema)]
    pub struct Guide {
        pub staff_id: Option<i64>,
        pub name: String,
        pub store_id: Option<i64>,
        pub store_name: String,
        pub figures: Figures,
    }

    /// A store's figures (its guides' added up); `store_id` null: guides without a store and
    /// adds without a guide.
    #[derive(Serialize, ToSchema)]
    pub struct Store {
        pub store_id: Option<i64>,
        pub name: String,
        pub figures: Figures,
    }

    /// A channel's figures; `channel_id` null: adds through an unknown or absent state.
    #[derive(Serialize, ToSchema)]
    pub struct Channel {
        pub channel_id: Option<i64>,
        pub name: String,
        /// `store_stand` …; empty for the unknown channel.
        pub kind: String,
        pub archived: bool,
        pub figures: Figures,
    }

    /// A guide on the leaderboard: most adds first, then most net adds after 7 days; equal
    /// guides share a rank.
    #[derive(Serialize, ToSchema)]
    pub struct Leader {
        pub rank: i64,
        pub staff_id: i64,
        pub name: String,
        pub store_name: String,
        pub adds: i64,
        pub net_adds_d7: i64,
        pub new_customers: i64,
        pub first_orders: i64,
    }

    /// The period applied.
    #[derive(Serialize, ToSchema)]
    pub struct Period {
        pub from: String,
        pub to: String,
        pub first_order_days: i64,
    }

    /// One channel's statistics.
    #[derive(Serialize, ToSchema)]
    pub struct ChannelStats {
        pub channel: Channel,
        pub period: Period,
        pub totals: Figures,
        /// Every day of the period, oldest first, zeros included.
        pub days: Vec<Day>,
        /// Most adds first; the guide-less row last.
        pub guides: Vec<Guide>,
        pub stores: Vec<Store>,
    }

    /// Every channel's statistics and the guide leaderboard.
    #[derive(Serialize, ToSchema)]
    pub struct AcquisitionStats {
        pub period: Period,
        pub totals: Figures,
        pub days: Vec<Day>,
        /// The channels you see (archived ones with activity in the period), most adds
        /// first, then the unknown channel.
        pub channels: Vec<Channel>,
        /// Every guide's figures across the channels, most adds first; the guide-less row
        /// last.
        pub guides: Vec<Guide>,
        pub stores: Vec<Store>,
        pub leaderboard: Vec<Leader>,
    }
}

/// One channel's adds, net adds after 1/7/30 days, new customers, first-order rate and time,
/// attributed GMV and reward cost: totals, per day, per guide and per store. Store-bound
/// roles see their store's and brand-wide channels, and only their store's guides in them.
#[utoipa::path(get, path = "/api/v1/channels/{id}/stats", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path), StatsParams),
    responses((status = 200, body = schema::ChannelStats), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn channel_stats(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> WebResult<Json<ChannelStatsView>> {
    Ok(Json(
        s.app.acquisition().channel_stats(&a, id, &p.ask()).await?,
    ))
}

/// The same as CSV (UTF-8 with a BOM): one row for the totals, each day, each guide and each
/// store; money in yuan.
#[utoipa::path(get, path = "/api/v1/channels/{id}/stats/export", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path), StatsExportParams),
    responses((status = 200, description = "The table as CSV (`format=csv`, the default) or an Excel workbook (`format=xlsx`).", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn channel_stats_export(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<StatsExportParams>,
) -> WebResult<Response> {
    let (ask, tr, format) = p.split()?;
    let v = s.app.acquisition().channel_stats(&a, id, &ask).await?;
    Ok(table_download(
        "channel-stats.csv",
        format,
        channel_csv(tr, &v),
    ))
}

/// Every channel's figures over the period (the unknown channel as a row), the totals per
/// day, per guide and per store across the channels, and the guide leaderboard for adds.
#[utoipa::path(get, path = "/api/v1/acquisition/stats", tag = "acquisition",
    security(("bearer" = [])), params(StatsParams),
    responses((status = 200, body = schema::AcquisitionStats), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn acquisition_stats(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> WebResult<Json<AcquisitionStatsView>> {
    Ok(Json(
        s.app.acquisition().acquisition_stats(&a, &p.ask()).await?,
    ))
}

/// The same as CSV (UTF-8 with a BOM): the totals, each day, each channel, each guide (with
/// their leaderboard rank) and each store; money in yuan.
#[utoipa::path(get, path = "/api/v1/acquisition/stats/export", tag = "acquisition",
    security(("bearer" = [])), params(StatsExportParams),
    responses((status = 200, description = "The table as CSV (`format=csv`, the default) or an Excel workbook (`format=xlsx`).", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn acquisition_stats_export(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<StatsExportParams>,
) -> WebResult<Response> {
    let (ask, tr, format) = p.split()?;
    let v = s.app.acquisition().acquisition_stats(&a, &ask).await?;
    Ok(table_download(
        "acquisition-stats.csv",
        format,
        acquisition_csv(tr, &v),
    ))
}

/// A small CSV answered in one piece (a BOM first, so Excel reads Chinese as UTF-8).
pub fn csv_download(file_name: &'static str, body: String) -> Response {
    super::segments::streamed_csv(
        file_name,
        "statistics export",
        Bytes::from(format!("\u{feff}{body}")),
        (),
        |()| async { Ok(None) },
    )
}

/// The CSV columns after the row's section, name and id.
const FIGURE_COLUMNS: [&str; 13] = [
    "cstats.adds",
    "cstats.net_d1",
    "cstats.net_d7",
    "cstats.net_d30",
    "cstats.deleted",
    "cstats.new_customers",
    "cstats.first_orders",
    "cstats.first_order_rate",
    "cstats.median_hours",
    "cstats.orders",
    "cstats.gmv",
    "cstats.rewards_used",
    "cstats.reward_cost",
];

/// A statistics CSV being written: a header row in the reader's language, then one row per
/// group, the first column naming its section (total, day, channel, guide, store).
struct Csv {
    tr: Tr,
    out: String,
    /// Whether rows end with a rank column.
    ranked: bool,
}

impl Csv {
    fn new(tr: Tr, ranked: bool) -> Self {
        let mut cols = vec![
            tr.t("cstats.csv_section"),
            tr.t("cstats.csv_name"),
            tr.t("cstats.csv_id"),
        ];
        cols.extend(FIGURE_COLUMNS.iter().map(|k| tr.t(k)));
        if ranked {
            cols.push(tr.t("cstats.rank"));
        }
        Self {
            tr,
            out: cols.join(",") + "\r\n",
            ranked,
        }
    }

    /// One row; `name` empty is said with `none_key` (no guide, no store, unknown channel).
    fn row(&mut self, section: &str, name: &str, none_key: &str, id: Option<i64>, f: &Figures) {
        self.ranked_row(section, name, none_key, id, f, None);
    }

    fn ranked_row(
        &mut self,
        section: &str,
        name: &str,
        none_key: &str,
        id: Option<i64>,
        f: &Figures,
        rank: Option<i64>,
    ) {
        let yuan = |fen: i64| yutang_core::money::Fen(fen).to_string();
        let name = if name.is_empty() {
            self.tr.t(none_key)
        } else {
            name
        };
        let mut cells = vec![
            csv_cell(self.tr.t(section)),
            csv_cell(name),
            id.map(|i| i.to_string()).unwrap_or_default(),
            f.adds.to_string(),
            f.net_adds_d1.to_string(),
            f.net_adds_d7.to_string(),
            f.net_adds_d30.to_string(),
            f.deleted.to_string(),
            f.new_customers.to_string(),
            f.first_orders.to_string(),
            f.first_order_rate(),
            f.median_hours_to_first_order
                .map(|h| h.to_string())
                .unwrap_or_default(),
            f.orders.to_string(),
            yuan(f.gmv_fen),
            f.rewards_used.to_string(),
            yuan(f.reward_cost_fen),
        ];
        if self.ranked {
            cells.push(rank.map(|r| r.to_string()).unwrap_or_default());
        }
        self.out.push_str(&cells.join(","));
        self.out.push_str("\r\n");
    }

    /// The day, guide and store rows; a guide's rank from `rank_of`.
    fn groups(
        &mut self,
        days: &[DayFigures],
        guides: &[GuideFigures],
        stores: &[StoreFigures],
        rank_of: impl Fn(i64) -> Option<i64>,
    ) {
        for d in days {
            self.row("cstats.section_day", &d.day, "", None, &d.figures);
        }
        for g in guides {
            let rank = g.staff_id.and_then(&rank_of);
            let (name, id) = (&g.name, g.staff_id);
            self.ranked_row(
                "cstats.section_guide",
                name,
                "cstats.no_guide",
                id,
                &g.figures,
                rank,
            );
        }
        for s in stores {
            self.row(
                "cstats.section_store",
                &s.name,
                "cstats.no_store",
                s.store_id,
                &s.figures,
            );
        }
    }
}

/// A channel's statistics as CSV lines (after the BOM): the totals, each day, guide and store.
pub fn channel_csv(tr: Tr, v: &ChannelStatsView) -> String {
    let mut csv = Csv::new(tr, false);
    let c = &v.channel;
    csv.row("cstats.section_total", &c.name, "", c.channel_id, &v.totals);
    csv.groups(&v.days, &v.guides, &v.stores, |_| None);
    csv.out
}

/// Every channel's statistics as CSV lines (after the BOM): the totals, each day, channel,
/// guide (with their leaderboard rank) and store.
pub fn acquisition_csv(tr: Tr, v: &AcquisitionStatsView) -> String {
    let mut csv = Csv::new(tr, true);
    csv.row("cstats.section_total", "", "", None, &v.totals);
    for c in &v.channels {
        let (name, id) = (&c.name, c.channel_id);
        csv.row(
            "cstats.section_channel",
            name,
            "cstats.unknown_channel",
            id,
            &c.figures,
        );
    }
    let rank_of = |id: i64| {
        v.leaderboard
            .iter()
            .find(|l| l.ranked.staff_id == id)
            .map(|l| l.ranked.rank)
    };
    csv.groups(&v.days, &v.guides, &v.stores, rank_of);
    csv.out
}
