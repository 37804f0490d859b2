//! The console overview page (概览): a greeting and the dashboard of the caller's scope
//! (issue #24 item 1) — the brand for HQ roles (or one store they pick), their store for a
//! store manager, their own figures for a guide — over a period of Shanghai days chosen in a
//! form, each figure with its change against the period just before and a sparkline of its
//! days drawn here as inline SVG, the adds over today / 7 / 30 days, the top channels and
//! guides, and the days as CSV (`/console/dashboard/export`, in the page's language).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::analytics::{DashboardAsk, DashboardView};
use yutang_app::audit::Page;
use yutang_app::org::StoreQuery;
use yutang_app::staff::StaffQuery;
use yutang_core::access::DataScope;
use yutang_core::analytics::{Tile, day_label, day_of};

use super::layout::{ConsoleQuery, error_page, opt_field_id};
use super::{Console, Ctx, Tr, render};
use crate::api::dashboard::{dashboard_csv, is_money, tile_label};
use crate::api::spreadsheet::{FileFormat, table_download};
use crate::state::AppState;

/// The period presets offered next to the form, in days.
const PRESETS: [i64; 3] = [7, 30, 90];

/// The dashboard form's fields: all optional (the last 30 days of the caller's own scope).
/// `store_id` and `staff_id` come as text: the store `<select>` sends `""` for the brand.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    from: Option<String>,
    to: Option<String>,
    store_id: Option<String>,
    staff_id: Option<String>,
    /// The export's format (`csv`, the default, or `xlsx`).
    format: Option<String>,
}

impl DashboardQuery {
    /// The query as the app takes it (a blank id is none; any other that is not a number is
    /// refused).
    fn ask(&self) -> Result<DashboardAsk, AppError> {
        Ok(DashboardAsk {
            from: self.from.clone(),
            to: self.to.clone(),
            store_id: opt_field_id("store_id", &self.store_id)?,
            staff_id: opt_field_id("staff_id", &self.staff_id)?,
        })
    }
}

async fn dashboard_view(
    s: &AppState,
    c: &Console,
    q: &DashboardQuery,
) -> Result<(DashboardView, DashboardAsk), AppError> {
    let ask = q.ask()?;
    let v = s.app.analytics().dashboard(&c.session.actor, &ask).await?;
    Ok((v, ask))
}

// ---------------------------------------------------------------- the figures as shown

/// `+12.5%`, `-3.0%`, `0.0%` from basis points (tenths of a percent, toward zero).
fn percent(bp: i64, signed: bool) -> String {
    let tenths = bp / 10;
    let sign = match tenths {
        t if t > 0 && signed => "+",
        t if t < 0 => "-",
        _ => "",
    };
    let a = tenths.unsigned_abs();
    format!("{sign}{}.{}%", a / 10, a % 10)
}

/// A figure as text: money as `¥12.90`, counts as they are.
fn figure(metric: &str, x: i64) -> String {
    if is_money(metric) {
        format!("¥{}", yutang_core::money::Fen(x))
    } else {
        x.to_string()
    }
}

/// Whether less of a figure is better (a rise shows as bad news).
fn less_is_better(metric: &str) -> bool {
    matches!(metric, "contacts_lost" | "refunded_fen")
}

/// The width and height of a sparkline's view box.
const SPARK_W: f64 = 120.0;
const SPARK_H: f64 = 32.0;
const SPARK_PAD: f64 = 3.0;

/// A tile's days drawn as a line, scaled between their lowest and highest values.
#[derive(Debug, Clone, PartialEq)]
struct Spark {
    /// `x,y x,y …` for the polyline.
    points: String,
    /// The last day's point (a dot marks it).
    last_x: String,
    last_y: String,
    /// The values, comma-separated (for tests and tools).
    values: String,
    min: i64,
    max: i64,
}

fn spark(days: &[i64]) -> Spark {
    let min = days.iter().copied().min().unwrap_or(0);
    let max = days.iter().copied().max().unwrap_or(0);
    let n = days.len();
    let xy = |i: usize, v: i64| {
        let x = if n <= 1 {
            SPARK_W / 2.0
        } else {
            SPARK_PAD + (SPARK_W - 2.0 * SPARK_PAD) * i as f64 / (n - 1) as f64
        };
        let y = if max == min {
            SPARK_H / 2.0
        } else {
            SPARK_PAD + (SPARK_H - 2.0 * SPARK_PAD) * (max - v) as f64 / (max - min) as f64
        };
        (format!("{x:.1}"), format!("{y:.1}"))
    };
    let pts: Vec<(String, String)> = days.iter().enumerate().map(|(i, v)| xy(i, *v)).collect();
    let (last_x, last_y) = pts.last().cloned().unwrap_or_else(|| xy(0, 0));
    Spark {
        points: pts
            .iter()
            .map(|(x, y)| format!("{x},{y}"))
            .collect::<Vec<_>>()
            .join(" "),
        last_x,
        last_y,
        values: days
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(","),
        min,
        max,
    }
}

/// One figure's card.
struct TileCard {
    metric: &'static str,
    label: &'static str,
    total: i64,
    previous: i64,
    total_text: String,
    previous_text: String,
    /// `+12.5%`, or `—` without a previous period to compare with.
    change_text: String,
    /// The raw change in basis points (`""` without one), for `data-change-bp`.
    change_bp: String,
    /// `up`, `down`, `flat` or `none`.
    trend: &'static str,
    /// `good`, `bad` or `` (no change): the colour.
    tone: &'static str,
    spark: Spark,
    /// The sparkline's accessible name.
    spark_title: String,
}

fn tile_card(tr: Tr, t: &Tile, brand: bool, v: &DashboardView) -> TileCard {
    let label = tile_label(tr, t.metric, brand);
    let (trend, change_text) = match t.change_bp {
        None => ("none", "—".to_owned()),
        Some(bp) => {
            let trend = match bp / 10 {
                x if x > 0 => "up",
                x if x < 0 => "down",
                _ => "flat",
            };
            (trend, percent(bp, true))
        }
    };
    let tone = match (trend, less_is_better(t.metric)) {
        ("up", false) | ("down", true) => "good",
        ("up", true) | ("down", false) => "bad",
        _ => "",
    };
    let spark = spark(&t.days);
    let spark_title = tr.fill(
        "dash.spark_fmt",
        &[
            ("label", label),
            ("from", &v.period.from),
            ("to", &v.period.to),
            ("min", &figure(t.metric, spark.min)),
            ("max", &figure(t.metric, spark.max)),
        ],
    );
    TileCard {
        metric: t.metric,
        label,
        total: t.total,
        previous: t.previous,
        total_text: figure(t.metric, t.total),
        previous_text: figure(t.metric, t.previous),
        change_text,
        change_bp: t.change_bp.map(|b| b.to_string()).unwrap_or_default(),
        trend,
        tone,
        spark,
        spark_title,
    }
}

/// A store in the HQ roles' scope `<select>`.
struct StoreChoice {
    id: i64,
    name: String,
}

/// A period preset link.
struct Preset {
    days: i64,
    label: &'static str,
    href: String,
    current: bool,
}

// ---------------------------------------------------------------- the page

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    ctx: Ctx,
    store_name: Option<String>,
    regions: usize,
    stores: i64,
    staff: i64,
    v: DashboardView,
    tiles: Vec<TileCard>,
    /// The stores an HQ role may pick (empty for store-bound roles: no `<select>`).
    store_choices: Vec<StoreChoice>,
    hq: bool,
    /// The store and guide asked for in the address (kept by the form and the links).
    asked_store: Option<i64>,
    asked_staff: Option<i64>,
    presets: Vec<Preset>,
}

impl HomePage {
    fn brand(&self) -> bool {
        self.v.scope.level == "brand"
    }

    /// Whether the page shows this store (its option is selected).
    fn is_store(&self, id: &i64) -> bool {
        self.v.scope.level == "store" && self.v.scope.store_id == Some(*id)
    }

    /// `&store_id=…` or `&staff_id=…` as asked, for links keeping the scope.
    fn scope_query(&self) -> String {
        match (self.asked_store, self.asked_staff) {
            (_, Some(g)) => format!("&staff_id={g}"),
            (Some(s), None) => format!("&store_id={s}"),
            (None, None) => String::new(),
        }
    }

    /// `from=…&to=…` of the period shown.
    fn period_query(&self) -> String {
        format!("from={}&to={}", self.v.period.from, self.v.period.to)
    }

    fn export_href(&self) -> String {
        format!(
            "/console/dashboard/export?{}{}",
            self.period_query(),
            self.scope_query()
        )
    }

    fn scope_text(&self) -> String {
        scope_text(self.ctx.tr, &self.v.scope)
    }

    fn period_text(&self) -> String {
        let p = &self.v.period;
        self.ctx.tr.fill(
            "dash.period_fmt",
            &[
                ("from", &p.from),
                ("to", &p.to),
                ("pfrom", &p.previous_from),
                ("pto", &p.previous_to),
            ],
        )
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
        Some((format!("/console?{}", self.period_query()), key))
    }

    /// A guide's row links to their figures, unless the page already is theirs.
    fn guide_href(&self, staff_id: &i64) -> Option<String> {
        (self.v.scope.level != "guide")
            .then(|| format!("/console?{}&staff_id={staff_id}", self.period_query()))
    }

    fn redemption_text(&self) -> String {
        match self.v.coupon_redemption_bp {
            Some(bp) => percent(bp, false),
            None => "—".to_owned(),
        }
    }

    fn redemption_bp(&self) -> String {
        self.v
            .coupon_redemption_bp
            .map(|b| b.to_string())
            .unwrap_or_default()
    }

    fn yuan(&self, fen: &i64) -> String {
        figure("gmv_fen", *fen)
    }

    fn or_id(&self, name: &str, id: &i64) -> String {
        if name.is_empty() {
            format!("#{id}")
        } else {
            name.to_owned()
        }
    }
}

/// `GET /console`: the greeting and the dashboard.
pub async fn home(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<DashboardQuery>,
) -> Response {
    c.ctx.active = "home";
    let (v, ask) = match dashboard_view(&s, &c, &q).await {
        Ok(x) => x,
        Err(e) => return error_page(c.ctx, e),
    };
    let a = &c.session.actor;
    let hq = matches!(a.data_scope(), DataScope::All);
    let all = Page {
        number: 1,
        size: 200,
    };
    let one = Page { number: 1, size: 1 };
    let regions = s.app.org().list_regions(a).await;
    let stores = s
        .app
        .org()
        .list_stores(
            a,
            &StoreQuery {
                page: if hq { all } else { one },
                ..Default::default()
            },
        )
        .await;
    let staff = s
        .app
        .staff()
        .list_staff(
            a,
            &StaffQuery {
                page: one,
                ..Default::default()
            },
        )
        .await;
    let store_name = match a.store_id {
        Some(id) => s.app.org().get_store(a, id).await.ok().map(|s| s.name),
        None => None,
    };
    let (regions, stores, staff) = match (regions, stores, staff) {
        (Ok(r), Ok(st), Ok(sf)) => (r, st, sf),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let brand = v.scope.level == "brand";
    let tiles = v
        .tiles
        .iter()
        .map(|t| tile_card(tr, t, brand, &v))
        .collect();
    let store_choices = if hq {
        stores
            .items
            .iter()
            .map(|r| StoreChoice {
                id: r.id,
                name: r.name.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let today = day_of(s.app.now());
    let shown = v.period.days.len() as i64;
    let mut page = HomePage {
        ctx: c.ctx,
        store_name,
        regions: regions.len(),
        stores: stores.total,
        staff: staff.total,
        tiles,
        store_choices,
        hq,
        asked_store: ask.store_id,
        asked_staff: ask.staff_id,
        presets: Vec::new(),
        v,
    };
    let scope = page.scope_query();
    page.presets = PRESETS
        .into_iter()
        .map(|days| Preset {
            days,
            label: tr.t(&format!("dash.last_{days}")),
            href: format!(
                "/console?from={}&to={}{scope}",
                day_label(today - days + 1),
                day_label(today)
            ),
            current: days == shown && page.v.period.to == day_label(today),
        })
        .collect();
    render(StatusCode::OK, &page)
}

/// `GET /console/dashboard/export`: the dashboard's days as CSV in the page's language.
pub async fn export(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<DashboardQuery>,
) -> Response {
    let format = match FileFormat::parse(q.format.as_deref()) {
        Ok(f) => f,
        Err(e) => return error_page(c.ctx, e.into()),
    };
    match dashboard_view(&s, &c, &q).await {
        Ok((v, _)) => table_download("dashboard.csv", format, dashboard_csv(c.ctx.tr, &v)),
        Err(e) => error_page(c.ctx, e),
    }
}

/// Whose figures these are: 全品牌, 门店：…, 导购：… (the dashboard's and the metrics page's).
pub(super) fn scope_text(tr: Tr, scope: &yutang_app::analytics::DashboardScope) -> String {
    let name = &scope.name;
    match scope.level {
        "store" => tr.fill("dash.scope_store", &[("name", name)]),
        "guide" => tr.fill("dash.scope_guide", &[("name", name)]),
        _ => tr.t("dash.brand").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::lookup;

    #[test]
    fn changes_read_as_signed_percentages() {
        assert_eq!(percent(1250, true), "+12.5%");
        assert_eq!(percent(-300, true), "-3.0%");
        assert_eq!(percent(-6666, true), "-66.6%");
        assert_eq!(percent(5, true), "0.0%");
        assert_eq!(percent(0, true), "0.0%");
        assert_eq!(percent(1250, false), "12.5%");
        assert_eq!(percent(10_000, false), "100.0%");
    }

    #[test]
    fn money_figures_show_in_yuan() {
        assert_eq!(figure("gmv_fen", 12_990), "¥129.90");
        assert_eq!(
            figure("net_gmv_fen", -500),
            format!("¥{}", yutang_core::money::Fen(-500))
        );
        assert_eq!(figure("orders", 3), "3");
    }

    #[test]
    fn a_sparkline_spans_its_box_from_lowest_to_highest() {
        let s = spark(&[0, 5, 10]);
        assert_eq!(s.points, "3.0,29.0 60.0,16.0 117.0,3.0");
        assert_eq!((s.last_x.as_str(), s.last_y.as_str()), ("117.0", "3.0"));
        assert_eq!(s.values, "0,5,10");
        assert_eq!((s.min, s.max), (0, 10));
        // Flat and single-day series sit in the middle.
        assert_eq!(spark(&[4, 4]).points, "3.0,16.0 117.0,16.0");
        assert_eq!(spark(&[7]).points, "60.0,16.0");
        assert_eq!(spark(&[-2, 2]).points, "3.0,29.0 117.0,3.0");
    }

    #[test]
    fn every_tile_and_preset_has_a_label() {
        for m in [
            "pool",
            "pool_scoped",
            "new_customers",
            "contacts_added",
            "contacts_lost",
            "net_adds",
            "groups",
            "group_joins",
            "group_members",
            "orders",
            "gmv_fen",
            "refunded_fen",
            "net_gmv_fen",
            "coupons_claimed",
            "coupons_used",
        ] {
            assert!(lookup(&format!("dash.{m}")).is_some(), "{m}");
        }
        for d in PRESETS {
            assert!(lookup(&format!("dash.last_{d}")).is_some(), "{d}");
        }
    }
}
