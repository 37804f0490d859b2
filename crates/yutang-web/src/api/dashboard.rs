//! The dashboard (概览, issue #24 item 1): `GET /api/v1/dashboard` and its days as CSV under
//! `GET /api/v1/dashboard/export`. Periods are Asia/Shanghai days (`from`, `to`, both
//! included; the last 30 days by default, at most 366), compared with the period as long just
//! before. The figures come from daily rollups kept current after commits; the definitions
//! are in docs/analytics.md.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use yutang_app::analytics::{DashboardAsk, DashboardView};

use super::spreadsheet::{FileFormat, table_download};
use crate::auth::{ApiActor, ApiQuery};
use crate::console::Tr;
use crate::console::import::csv_cell;
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;
use yutang_core::FieldError;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DashboardParams {
    /// The first day, `YYYY-MM-DD` in Asia/Shanghai (default: 29 days before `to`).
    pub from: Option<String>,
    /// The last day, `YYYY-MM-DD` in Asia/Shanghai (default: today). At most 366 days.
    pub to: Option<String>,
    /// One store's figures (HQ roles; a store manager only their own store).
    pub store_id: Option<i64>,
    /// One guide's figures (HQ roles; a store manager their store's guides; a guide only
    /// themselves).
    pub staff_id: Option<i64>,
    /// CSV only: the language of the header row, zh (default) or en.
    #[serde(default)]
    pub lang: Option<String>,
    /// Export only: `csv` (default, UTF-8 with a BOM) or `xlsx` (an Excel workbook).
    pub format: Option<String>,
}

impl DashboardParams {
    fn ask(self) -> (DashboardAsk, Option<String>, Option<String>) {
        (
            DashboardAsk {
                from: self.from,
                to: self.to,
                store_id: self.store_id,
                staff_id: self.staff_id,
            },
            self.lang,
            self.format,
        )
    }
}

/// The documented shape of the answer (the handler serializes the app's view).
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// Whose figures these are.
    #[derive(Serialize, ToSchema)]
    pub struct DashboardScope {
        /// `brand`, `store` or `guide`.
        pub level: String,
        pub store_id: Option<i64>,
        pub staff_id: Option<i64>,
        /// The store's or guide's name; empty for the brand.
        pub name: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct DashboardPeriod {
        pub from: String,
        pub to: String,
        /// The period compared with: as long, just before.
        pub previous_from: String,
        pub previous_to: String,
        /// Each day of the period (`YYYY-MM-DD`), oldest first; every tile's `days` match.
        pub days: Vec<String>,
    }

    /// One figure over the period.
    #[derive(Serialize, ToSchema)]
    pub struct DashboardTile {
        /// `pool`, `new_customers`, `contacts_added`, `contacts_lost`, `net_adds`, `groups`,
        /// `group_joins`, `group_members`, `orders`, `gmv_fen`, `refunded_fen`, `net_gmv_fen`,
        /// `coupons_claimed`, `coupons_used` (see docs/analytics.md).
        pub metric: String,
        /// The period's sum; for the levels `pool`, `groups` and `group_members`, the level at
        /// its end.
        pub total: i64,
        /// The previous period's (a level: at the previous period's end).
        pub previous: i64,
        /// The change in basis points (1/100 of a percent); null when `previous` is 0.
        pub change_bp: Option<i64>,
        /// The value of each day (a level: at each day's end).
        pub days: Vec<i64>,
    }

    /// A figure over today, the last 7 and the last 30 Shanghai days.
    #[derive(Serialize, ToSchema)]
    pub struct DashboardWindows {
        pub today: i64,
        pub last_7_days: i64,
        pub last_30_days: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct DashboardTopChannel {
        pub channel_id: i64,
        pub name: String,
        pub contacts_added: i64,
        pub net_adds: i64,
        pub orders: i64,
        pub gmv_fen: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct DashboardTopGuide {
        pub staff_id: i64,
        pub name: String,
        pub contacts_added: i64,
        pub net_adds: i64,
        pub orders: i64,
        pub gmv_fen: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct DashboardFreshness {
        /// When the rollups last took in new events (UTC millis).
        pub followed_at: Option<i64>,
        /// Every day is being recomputed: figures may be incomplete until it is done.
        pub rebuilding: bool,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Dashboard {
        pub scope: DashboardScope,
        pub period: DashboardPeriod,
        pub tiles: Vec<DashboardTile>,
        /// Coupons used per coupon claimed in the period, in basis points (brand only).
        pub coupon_redemption_bp: Option<i64>,
        pub contacts_added: DashboardWindows,
        pub net_adds: DashboardWindows,
        /// Channels with most adds in the period (brand only).
        pub top_channels: Vec<DashboardTopChannel>,
        /// Guides with most adds in the period (a store's guides; a guide alone).
        pub top_guides: Vec<DashboardTopGuide>,
        pub freshness: DashboardFreshness,
    }
}

/// The dashboard of the caller's scope: the brand for HQ roles (or one store or guide asked
/// for), their store for a store manager, their own figures for a guide.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "analytics",
    security(("bearer" = [])), params(DashboardParams),
    responses((status = 200, body = schema::Dashboard), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dashboard(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<DashboardParams>,
) -> WebResult<Json<DashboardView>> {
    let (ask, _, format) = p.ask();
    if format.is_some() {
        return Err(FieldError::new("format", "invalid_query", "format is for the export").into());
    }
    Ok(Json(s.app.analytics().dashboard(&a, &ask).await?))
}

/// The dashboard's days as CSV (UTF-8 with a BOM): one row per day, one column per figure,
/// then a row of totals; money in yuan.
#[utoipa::path(get, path = "/api/v1/dashboard/export", tag = "analytics",
    security(("bearer" = [])), params(DashboardParams),
    responses((status = 200, description = "The table as CSV (`format=csv`, the default) or an Excel workbook (`format=xlsx`).", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn dashboard_export(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<DashboardParams>,
) -> WebResult<Response> {
    let (ask, lang, format) = p.ask();
    let lang = super::audit::parse_lang(lang.as_deref())?;
    let format = FileFormat::parse(format.as_deref())?;
    let v = s.app.analytics().dashboard(&a, &ask).await?;
    Ok(table_download(
        "dashboard.csv",
        format,
        dashboard_csv(Tr { lang }, &v),
    ))
}

/// The i18n key of a tile's label.
pub fn tile_label(tr: Tr, metric: &str, brand: bool) -> &'static str {
    match metric {
        "pool" if !brand => tr.t("dash.pool_scoped"),
        m => tr.t(&format!("dash.{m}")),
    }
}

/// Whether a tile's values are money in fen.
pub fn is_money(metric: &str) -> bool {
    metric.ends_with("_fen")
}

/// The CSV lines (after the BOM).
pub fn dashboard_csv(tr: Tr, v: &DashboardView) -> String {
    let brand = v.scope.level == "brand";
    let mut cols = vec![csv_cell(tr.t("dash.day"))];
    cols.extend(
        v.tiles
            .iter()
            .map(|t| csv_cell(tile_label(tr, t.metric, brand))),
    );
    let mut out = cols.join(",") + "\r\n";
    let cell = |metric: &str, x: i64| {
        if is_money(metric) {
            yutang_core::money::Fen(x).to_string()
        } else {
            x.to_string()
        }
    };
    for (i, day) in v.period.days.iter().enumerate() {
        let mut row = vec![csv_cell(day)];
        row.extend(v.tiles.iter().map(|t| cell(t.metric, t.days[i])));
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    let mut row = vec![csv_cell(tr.t("dash.total"))];
    row.extend(v.tiles.iter().map(|t| cell(t.metric, t.total)));
    out.push_str(&row.join(","));
    out.push_str("\r\n");
    out
}
