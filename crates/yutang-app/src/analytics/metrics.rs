//! The retail metrics, funnels and cohorts (issue #24 items 2 and 3), read from the monthly
//! cells the follower keeps (`yutang_core::analytics::facts`): a page reads a few hundred
//! cells, never the orders.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::analytics::facts::{
    CellGrain, FIRST_ORDER_WINDOWS, Family, Month, MonthPeriod, RETENTION_MONTHS, cohort, level,
    month, month_bounds, month_label, month_of, rate_bp,
};
use yutang_core::analytics::{DAY_MS, Grain};
use yutang_store::facts::{self as facts_store, CellValue};
use yutang_store::rollups::{self as store, Named};

use super::uplift::UpliftScope;
use super::{Analytics, DashboardAsk, DashboardScope, Freshness, resolve_scope};
use crate::Actor;
use crate::error::Result;

/// 首购开单率's window when none is asked for.
pub const DEFAULT_FIRST_ORDER_DAYS: i64 = 30;
/// The month cells a store's or a guide's sales row reads.
const SALES: [&str; 6] = [
    month::BUYERS,
    month::ORDERS,
    month::NET_FEN,
    month::BROUGHT_IN,
    month::OUTSIDE,
    month::RETURNING,
];
/// Guides listed for the brand (by net sales).
const TOP_GUIDES: usize = 50;

/// What the metrics page is asked for.
#[derive(Debug, Clone, Default)]
pub struct MetricsAsk {
    /// `YYYY-MM` (Asia/Shanghai); default five months before `to`.
    pub from: Option<String>,
    /// `YYYY-MM`; default the current month.
    pub to: Option<String>,
    pub store_id: Option<i64>,
    pub staff_id: Option<i64>,
    /// 首购开单率's window in days: 1, 7, 14, 30, 60 or 90 (default 30).
    pub first_order_days: Option<i64>,
}

/// A metric over the period and month by month.
#[derive(Debug, Clone, Serialize)]
pub struct MetricLine {
    /// `traffic_rate`, `first_order_rate`, `repurchase_rate`, `second_order_rate`,
    /// `repurchase_interval_days`, `purchase_frequency_milli`, `spend_per_buyer_fen`,
    /// `buyers`, `orders`, `net_sales_fen`, `shares`, `referrals`, `referred_orders`,
    /// `referred_sales_fen`, `content_reach`, `content_opens_per_reader_milli`.
    pub key: &'static str,
    /// `bp` (basis points), `milli` (thousandths), `fen`, `days` or `count`.
    pub unit: &'static str,
    /// The period as a whole: rates pool the months' numerators and denominators.
    pub total: Option<i64>,
    /// One value per month of the period (`None`: nothing to divide by, or not kept at
    /// this scope).
    pub months: Vec<Option<i64>>,
    /// What the industry calls healthy (basis points), where there is such a figure.
    pub healthy_bp: Option<i64>,
}

/// A funnel: customers who joined the pool in the period, and how many of them went on.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Funnel {
    /// `brand`, `channel`, `store` or `guide`.
    pub by: &'static str,
    /// The channel, store or guide (0: none).
    pub id: i64,
    pub name: String,
    pub joined: i64,
    pub joined_group: i64,
    pub first_order: i64,
    pub second_order: i64,
}

/// One acquisition month of the cohort matrix.
#[derive(Debug, Clone, Serialize)]
pub struct CohortRow {
    pub month: String,
    pub joined: i64,
    /// Customers with an order in the k-th month after joining (0: the joining month, from
    /// joining on); `None` for months that have not begun.
    pub ordered: Vec<Option<i64>>,
    /// Customers still WeCom contacts of a guide at the end of month k after joining (the
    /// current month: now); `None` for months that have not begun.
    pub kept: Vec<Option<i64>>,
    /// With a first order within the page's window; `maturing` while that window has not
    /// closed for everyone of the month.
    pub first_order_within: i64,
    pub maturing: bool,
}

/// Sales of a group of customers (a tier, card holders or not) over the period.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentRow {
    /// `tier` (id 0: no tier) or `card` (id 1: paid members, 0: the others).
    pub by: &'static str,
    pub id: i64,
    pub name: String,
    /// Customers in it now.
    pub customers: i64,
    pub buyers: i64,
    pub orders: i64,
    pub net_sales_fen: i64,
    /// Net sales per customer of the group (ARPU), fen.
    pub arpu_fen: Option<i64>,
    /// Orders per customer, in thousandths.
    pub frequency_milli: Option<i64>,
}

/// Sales of a store or a guide over the period.
#[derive(Debug, Clone, Serialize)]
pub struct SalesRow {
    pub id: i64,
    pub name: String,
    pub buyers: i64,
    pub orders: i64,
    pub net_sales_fen: i64,
    /// 引流率 of the store (or of the guide's buyers), basis points.
    pub traffic_rate_bp: Option<i64>,
    pub repurchase_rate_bp: Option<i64>,
}

/// A metric that cannot be measured yet, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unavailable {
    pub key: &'static str,
    pub reason: &'static str,
}

/// The metrics page (指标).
#[derive(Debug, Clone, Serialize)]
pub struct MetricsView {
    pub scope: DashboardScope,
    /// `YYYY-MM`, oldest first (each line's `months` match).
    pub months: Vec<String>,
    pub first_order_days: i64,
    pub metrics: Vec<MetricLine>,
    /// The period's cohorts (customers who joined in its months) as a whole, then by channel
    /// and store (brand), or by guide (a store).
    pub funnels: Vec<Funnel>,
    pub cohorts: Vec<CohortRow>,
    /// By tier and by card (brand only).
    pub segments: Vec<SegmentRow>,
    /// Stores (brand: every store with sales; a store: itself).
    pub stores: Vec<SalesRow>,
    /// Guides (brand: the 50 with most net sales; a store: its guides; a guide: themselves).
    pub guides: Vec<SalesRow>,
    /// In-group vs not and paid members vs not, over comparable customers (brand and store
    /// scopes; none for a guide, whose customers are too few to compare).
    pub uplift: Option<super::uplift::UpliftView>,
    /// Mass messages sent in the period that kept a random holdout, each compared with it
    /// over the 7 days after the send (brand: every message; a store: its own; none for a
    /// guide): randomised evidence.
    pub holdouts: Option<Vec<crate::messaging::HoldoutStudy>>,
    pub unavailable: Vec<Unavailable>,
    pub freshness: Freshness,
}

/// Cells of one grain key by period and name.
#[derive(Default)]
struct Cells(HashMap<(i64, String), i64>);

impl Cells {
    fn of(rows: &[CellValue]) -> Self {
        let mut m = HashMap::new();
        for r in rows {
            *m.entry((r.period, r.cell.clone())).or_default() += r.value;
        }
        Cells(m)
    }
    fn get(&self, period: Month, cell: &str) -> i64 {
        self.0.get(&(period, cell.to_owned())).copied().unwrap_or(0)
    }
    fn sum(&self, p: MonthPeriod, cell: &str) -> i64 {
        p.months().map(|m| self.get(m, cell)).sum()
    }
}

/// Cells of every key of a grain, summed over the period: key → cell → value.
fn by_key(rows: &[CellValue]) -> BTreeMap<i64, HashMap<String, i64>> {
    let mut out: BTreeMap<i64, HashMap<String, i64>> = BTreeMap::new();
    for r in rows {
        *out.entry(r.key)
            .or_default()
            .entry(r.cell.clone())
            .or_default() += r.value;
    }
    out
}

fn val(m: &HashMap<String, i64>, cell: &str) -> i64 {
    m.get(cell).copied().unwrap_or(0)
}

fn ratio(part: i64, whole: i64, scale: i64) -> Option<i64> {
    (whole > 0).then(|| {
        i64::try_from(i128::from(part) * i128::from(scale) / i128::from(whole)).unwrap_or(i64::MAX)
    })
}

impl Analytics<'_> {
    /// The retail metrics, funnels and cohorts of the caller's scope (or of the store or
    /// guide asked for, within it).
    pub async fn metrics(&self, actor: &Actor, ask: &MetricsAsk) -> Result<MetricsView> {
        let dash = DashboardAsk {
            store_id: ask.store_id,
            staff_id: ask.staff_id,
            ..DashboardAsk::default()
        };
        let (grain, key) = resolve_scope(actor, &dash)?;
        let now = self.now();
        let period = MonthPeriod::parse(ask.from.as_deref(), ask.to.as_deref(), now)?;
        let window = ask.first_order_days.unwrap_or(DEFAULT_FIRST_ORDER_DAYS);
        if !FIRST_ORDER_WINDOWS.contains(&window) {
            return Err(FieldError::new(
                "first_order_days",
                "invalid_count",
                "first_order_days is 1, 7, 14, 30, 60 or 90",
            )
            .into());
        }
        let scope = self.scope_view(actor, grain, key).await?;
        let cg = match grain {
            Grain::Brand | Grain::Channel => CellGrain::Brand,
            Grain::Store => CellGrain::Store,
            Grain::Guide => CellGrain::Guide,
        };
        let brand = cg == CellGrain::Brand;
        let (m_fam, a_fam, l_fam) = (
            Family::Month.as_str(),
            Family::Cohort.as_str(),
            Family::Level.as_str(),
        );
        let current = month_of(now);
        // Cohorts: the period's, and the retention matrix follows them up to 12 months on.
        let mine_m = Cells::of(
            &facts_store::cells(
                &self.db,
                m_fam,
                cg.as_str(),
                Some(key),
                period.from,
                period.to,
            )
            .await?,
        );
        let mine_a = Cells::of(
            &facts_store::cells(
                &self.db,
                a_fam,
                cg.as_str(),
                Some(key),
                period.from,
                period.to,
            )
            .await?,
        );

        // ------------------------------------------------------------- the metric lines
        let monthly = |f: &dyn Fn(Month) -> Option<i64>| period.months().map(f).collect();
        let rate_line = |key: &'static str,
                         cells: &Cells,
                         part: &str,
                         whole: &str,
                         scale: i64,
                         unit: &'static str,
                         healthy: Option<i64>| MetricLine {
            key,
            unit,
            total: ratio(cells.sum(period, part), cells.sum(period, whole), scale),
            months: monthly(&|m| ratio(cells.get(m, part), cells.get(m, whole), scale)),
            healthy_bp: healthy,
        };
        let count_line =
            |key: &'static str, cells: &Cells, cell: &str, unit: &'static str| MetricLine {
                key,
                unit,
                total: Some(cells.sum(period, cell)),
                months: monthly(&|m| Some(cells.get(m, cell))),
                healthy_bp: None,
            };
        let within = cohort::ordered_within(window);
        let mut metrics = vec![
            rate_line(
                "traffic_rate",
                &mine_m,
                month::BROUGHT_IN,
                month::OUTSIDE,
                10_000,
                "bp",
                Some(1_500),
            ),
            rate_line(
                "first_order_rate",
                &mine_a,
                &within,
                cohort::JOINED,
                10_000,
                "bp",
                Some(2_000),
            ),
            rate_line(
                "repurchase_rate",
                &mine_m,
                month::RETURNING,
                month::BUYERS,
                10_000,
                "bp",
                None,
            ),
            rate_line(
                "second_order_rate",
                &mine_a,
                cohort::REPURCHASED,
                cohort::ORDERED,
                10_000,
                "bp",
                None,
            ),
            rate_line(
                "repurchase_interval_days",
                &mine_a,
                cohort::REPURCHASE_DAYS,
                cohort::REPURCHASED,
                1,
                "days",
                None,
            ),
            rate_line(
                "purchase_frequency_milli",
                &mine_m,
                month::ORDERS,
                month::BUYERS,
                1_000,
                "milli",
                None,
            ),
            rate_line(
                "spend_per_buyer_fen",
                &mine_m,
                month::NET_FEN,
                month::BUYERS,
                1,
                "fen",
                None,
            ),
            count_line("buyers", &mine_m, month::BUYERS, "count"),
            count_line("orders", &mine_m, month::ORDERS, "count"),
            count_line("net_sales_fen", &mine_m, month::NET_FEN, "fen"),
        ];
        if brand {
            metrics.push(count_line("shares", &mine_m, month::SHARES, "count"));
        }
        metrics.push(count_line("referrals", &mine_m, month::REFERRALS, "count"));
        metrics.push(count_line(
            "referred_orders",
            &mine_m,
            month::REFERRED_ORDERS,
            "count",
        ));
        metrics.push(count_line(
            "referred_sales_fen",
            &mine_m,
            month::REFERRED_FEN,
            "fen",
        ));
        // 内容种草: customers who opened a material a guide sent them, and how often each.
        metrics.push(count_line(
            "content_reach",
            &mine_m,
            month::CONTENT_READERS,
            "count",
        ));
        metrics.push(rate_line(
            "content_opens_per_reader_milli",
            &mine_m,
            month::CONTENT_OPENS,
            month::CONTENT_READERS,
            1_000,
            "milli",
            None,
        ));

        // ------------------------------------------------------------- funnels
        let funnel = |by: &'static str, id: i64, name: String, c: &HashMap<String, i64>| Funnel {
            by,
            id,
            name,
            joined: val(c, cohort::JOINED),
            joined_group: val(c, cohort::GROUPED),
            first_order: val(c, cohort::ORDERED),
            second_order: val(c, cohort::REPURCHASED),
        };
        let mut funnels = Vec::new();
        let mine_sum: HashMap<String, i64> = {
            let mut m = HashMap::new();
            for cell in [
                cohort::JOINED,
                cohort::GROUPED,
                cohort::ORDERED,
                cohort::REPURCHASED,
            ] {
                m.insert(cell.to_owned(), mine_a.sum(period, cell));
            }
            m
        };
        funnels.push(funnel(scope.level, key, scope.name.clone(), &mine_sum));
        let breakdowns: Vec<(&'static str, CellGrain, Named)> = match cg {
            CellGrain::Brand => vec![
                ("channel", CellGrain::Channel, Named::Channels),
                ("store", CellGrain::Store, Named::Stores),
            ],
            CellGrain::Store => vec![("guide", CellGrain::Guide, Named::Staff)],
            _ => Vec::new(),
        };
        let guides_of_store = match cg {
            CellGrain::Store => Some(self.guides_of(key).await?),
            _ => None,
        };
        const FUNNEL: [&str; 4] = [
            cohort::JOINED,
            cohort::GROUPED,
            cohort::ORDERED,
            cohort::REPURCHASED,
        ];
        for (by, g, named) in breakdowns {
            let rows = facts_store::sums(
                &self.db,
                a_fam,
                g.as_str(),
                guides_of_store.as_deref(),
                &FUNNEL,
                period.from,
                period.to,
            )
            .await?;
            let keys = by_key(&rows);
            let ids: Vec<i64> = keys.keys().copied().filter(|k| *k != 0).collect();
            let names: HashMap<i64, String> = store::names(&self.db, named, &ids)
                .await?
                .into_iter()
                .collect();
            let mut list: Vec<Funnel> = keys
                .iter()
                .map(|(id, c)| funnel(by, *id, names.get(id).cloned().unwrap_or_default(), c))
                .filter(|f| f.joined > 0)
                .collect();
            list.sort_by(|a, b| b.joined.cmp(&a.joined).then(a.id.cmp(&b.id)));
            funnels.extend(list);
        }

        // ------------------------------------------------------------- cohorts
        let cohort_cells = &mine_a;
        let cohorts = period
            .months()
            .map(|m| CohortRow {
                month: month_label(m),
                joined: cohort_cells.get(m, cohort::JOINED),
                ordered: (0..=RETENTION_MONTHS)
                    .map(|k| (m + k <= current).then(|| cohort_cells.get(m, &cohort::retained(k))))
                    .collect(),
                kept: (0..=RETENTION_MONTHS)
                    .map(|k| (m + k <= current).then(|| cohort_cells.get(m, &cohort::kept(k))))
                    .collect(),
                first_order_within: cohort_cells.get(m, &within),
                maturing: month_bounds(m).1 + window * DAY_MS > now,
            })
            .collect();

        // ------------------------------------------------------------- segments (brand)
        let mut segments = Vec::new();
        if brand {
            for (by, g) in [("tier", CellGrain::Tier), ("card", CellGrain::Card)] {
                let sales = by_key(
                    &facts_store::sums(
                        &self.db,
                        m_fam,
                        g.as_str(),
                        None,
                        &[month::BUYERS, month::ORDERS, month::NET_FEN],
                        period.from,
                        period.to,
                    )
                    .await?,
                );
                let levels =
                    by_key(&facts_store::cells(&self.db, l_fam, g.as_str(), None, 0, 0).await?);
                let mut ids: Vec<i64> = levels.keys().chain(sales.keys()).copied().collect();
                ids.sort_unstable();
                ids.dedup();
                let names: HashMap<i64, String> = if by == "tier" {
                    self.tier_names().await?
                } else {
                    HashMap::new()
                };
                let none = HashMap::new();
                for id in ids {
                    let s = sales.get(&id).unwrap_or(&none);
                    let customers = levels
                        .get(&id)
                        .map(|c| val(c, level::CUSTOMERS))
                        .unwrap_or(0);
                    if customers == 0 && val(s, month::BUYERS) == 0 {
                        continue;
                    }
                    segments.push(SegmentRow {
                        by,
                        id,
                        name: names.get(&id).cloned().unwrap_or_default(),
                        customers,
                        buyers: val(s, month::BUYERS),
                        orders: val(s, month::ORDERS),
                        net_sales_fen: val(s, month::NET_FEN),
                        arpu_fen: ratio(val(s, month::NET_FEN), customers, 1),
                        frequency_milli: ratio(val(s, month::ORDERS), customers, 1_000),
                    });
                }
            }
        }

        // ------------------------------------------------------------- stores and guides
        let store_key = match cg {
            CellGrain::Brand => None,
            CellGrain::Store => Some(key),
            _ => scope.store_id,
        };
        let stores = if cg == CellGrain::Guide {
            Vec::new()
        } else {
            let one = store_key.map(|k| vec![k]);
            let rows = facts_store::sums(
                &self.db,
                m_fam,
                "s",
                one.as_deref(),
                &SALES,
                period.from,
                period.to,
            )
            .await?;
            self.sales_rows(&rows, Named::Stores, usize::MAX).await?
        };
        let guides = {
            let keys = match cg {
                CellGrain::Guide => Some(vec![key]),
                _ => guides_of_store.clone(),
            };
            let rows = facts_store::sums(
                &self.db,
                m_fam,
                "g",
                keys.as_deref(),
                &SALES,
                period.from,
                period.to,
            )
            .await?;
            self.sales_rows(&rows, Named::Staff, TOP_GUIDES).await?
        };

        let st = store::state(&self.db).await?;
        let uplift = match cg {
            CellGrain::Brand => Some(UpliftScope::Brand),
            CellGrain::Store => Some(UpliftScope::Store(key)),
            _ => None,
        };
        let holdouts = match uplift {
            Some(u) => {
                let store = match u {
                    UpliftScope::Store(s) => Some(s),
                    UpliftScope::Brand => None,
                };
                let (from, _) = yutang_core::analytics::facts::month_bounds(period.from);
                let (_, to) = yutang_core::analytics::facts::month_bounds(period.to);
                Some(self.0.messaging().holdout_studies(store, from, to).await?)
            }
            None => None,
        };
        let uplift = match uplift {
            Some(u) => Some(self.uplift_view(u, period.from, period.to).await?),
            None => None,
        };
        Ok(MetricsView {
            uplift,
            holdouts,
            scope,
            months: period.months().map(month_label).collect(),
            first_order_days: window,
            metrics,
            funnels,
            cohorts,
            segments,
            stores,
            guides,
            unavailable: vec![Unavailable {
                key: "interaction_rate",
                reason: "mass-message deliveries are recorded, but replies need WeCom's conversation archive, which Yutang does not read",
            }],
            freshness: Freshness {
                followed_at: st.followed_at,
                rebuilding: st.requested > st.rebuilt,
            },
        })
    }

    /// Sales rows of the keys with buyers, by net sales, the first `top` of them named.
    async fn sales_rows(
        &self,
        rows: &[CellValue],
        named: Named,
        top: usize,
    ) -> Result<Vec<SalesRow>> {
        let mut out: Vec<SalesRow> = by_key(rows)
            .into_iter()
            .filter(|(id, c)| *id != 0 && val(c, month::BUYERS) > 0)
            .map(|(id, c)| SalesRow {
                id,
                name: String::new(),
                buyers: val(&c, month::BUYERS),
                orders: val(&c, month::ORDERS),
                net_sales_fen: val(&c, month::NET_FEN),
                traffic_rate_bp: rate_bp(val(&c, month::BROUGHT_IN), val(&c, month::OUTSIDE)),
                repurchase_rate_bp: rate_bp(val(&c, month::RETURNING), val(&c, month::BUYERS)),
            })
            .collect();
        out.sort_by(|a, b| b.net_sales_fen.cmp(&a.net_sales_fen).then(a.id.cmp(&b.id)));
        out.truncate(top);
        let ids: Vec<i64> = out.iter().map(|r| r.id).collect();
        let names: HashMap<i64, String> = store::names(&self.db, named, &ids)
            .await?
            .into_iter()
            .collect();
        for r in &mut out {
            r.name = names.get(&r.id).cloned().unwrap_or_default();
        }
        Ok(out)
    }

    /// The ids of a store's staff.
    async fn guides_of(&self, store_id: i64) -> Result<Vec<i64>> {
        Ok(facts_store::staff_of_store(&self.db, store_id).await?)
    }

    async fn tier_names(&self) -> Result<HashMap<i64, String>> {
        Ok(facts_store::tier_names(&self.db)
            .await?
            .into_iter()
            .collect())
    }
}
