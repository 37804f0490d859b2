//! Leaderboards and incentive pools (排行榜与激励池, issue #23 item 6).
//!
//! **Boards** rank the guides of a store, of a region or of the brand — or the stores of a
//! region or of the brand — by one metric over a day, a week (Monday–Sunday) or a month of
//! Asia/Shanghai days (`yutang_core::leaderboards`). Figures come from the daily rollups and
//! the customer facts the analytics follower keeps (seconds behind the event log), and from
//! guide tasks and ratings directly.
//!
//! Who sees which board: headquarters (and API tokens) any; a store manager or a guide the
//! boards of their own store, their own region and the brand. A board shows names and
//! figures of staff, never a customer, so guides may compare themselves with the brand — the
//! point of a leaderboard. A guide's own row is also returned as `me`.
//!
//! **Incentive pools** (`ManageIncentives`: admin and operator) hold an amount for a period
//! and part of the brand, split by a rule whose shares sum to 100% over the guides' figures
//! for one additive metric. A draft's split is computed live and may be edited or deleted;
//! settling (once the period is over) writes each guide's payout in one guarded update, and a
//! settled pool changes no more — a second settle answers the stored result. Everyone sees
//! the pools that cover them: a store manager the rows of their store, a guide their own row
//! (their breakdown), headquarters every row. The payroll export is a CSV of a settled pool.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::leaderboards::{
    self as core, Contributor, Figures, Level, MAX_POOL_FEN, Metric, Payout, Period, Span,
    SplitRule, Subject, day_label, day_of,
};
use yutang_core::money::Fen;
use yutang_core::staff::{DisplayName, Permission};
use yutang_store::leaderboards::{self as store, GuideRow, NewPool, PoolRow};

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// Pools listed at most.
const POOL_LIST_LIMIT: i64 = 200;

/// The leaderboard and incentive use cases.
pub struct Leaderboards<'a>(&'a App);

impl App {
    pub fn leaderboards(&self) -> Leaderboards<'_> {
        Leaderboards(self)
    }
}

/// A period as shown.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PeriodView {
    pub span: String,
    /// First day, `YYYY-MM-DD` (Asia/Shanghai).
    pub from: String,
    /// Last day, included.
    pub to: String,
}

impl From<Period> for PeriodView {
    fn from(p: Period) -> Self {
        Self {
            span: p.span.as_str().to_owned(),
            from: day_label(p.from_day),
            to: day_label(p.to_day),
        }
    }
}

/// Figures as shown.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct FiguresView {
    pub adds: i64,
    pub net_adds: i64,
    pub new_customers: i64,
    pub first_orders: i64,
    /// Basis points (`None`: nobody joined through them in the period).
    pub first_order_rate_bp: Option<i64>,
    /// Paid minus refunded, fen.
    pub gmv_fen: i64,
    pub tasks_done: i64,
    pub ratings: i64,
    /// Hundredths of a star (`None`: no ratings in the period).
    pub rating_avg_centi: Option<i64>,
}

impl From<Figures> for FiguresView {
    fn from(f: Figures) -> Self {
        Self {
            adds: f.adds,
            net_adds: f.net_adds(),
            new_customers: f.new_customers,
            first_orders: f.first_orders,
            first_order_rate_bp: f.first_order_rate_bp(),
            gmv_fen: f.gmv_fen(),
            tasks_done: f.tasks_done,
            ratings: f.ratings,
            rating_avg_centi: f.rating_avg_centi(),
        }
    }
}

/// A board asked for (query parameters, unparsed).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BoardAsk {
    /// guides (default) or stores.
    pub subject: Option<String>,
    /// store, region or brand (default: the caller's store for store staff, else brand).
    pub level: Option<String>,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    /// Default adds.
    pub metric: Option<String>,
    /// day, week (default) or month.
    pub period: Option<String>,
    /// A day of the period, `YYYY-MM-DD` (default today).
    pub date: Option<String>,
}

/// One row of a board.
#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    /// `None`: no value to rank by (a rate without new customers, no ratings).
    pub rank: Option<i64>,
    /// The guide's staff id or the store's id.
    pub id: i64,
    pub name: String,
    /// The guide's store (for guides).
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// The ranked metric's value.
    pub value: Option<i64>,
    pub figures: FiguresView,
}

/// A board.
#[derive(Debug, Clone, Serialize)]
pub struct BoardView {
    pub subject: Subject,
    pub level: Level,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    pub metric: Metric,
    pub period: PeriodView,
    pub rows: Vec<BoardRow>,
    /// The caller's own row (a guide on this board).
    pub me: Option<BoardRow>,
}

/// A guide's week, for the mobile workbench.
#[derive(Debug, Clone, Serialize)]
pub struct MyWeek {
    pub period: PeriodView,
    pub figures: FiguresView,
    /// Rank among the store's guides by adds (`None`: no store).
    pub rank_in_store: Option<i64>,
    pub guides_in_store: i64,
    pub store_id: Option<i64>,
}

/// The part of the brand a board or pool covers, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Area {
    level: Level,
    store: Option<i64>,
    region: Option<i64>,
}

impl Area {
    fn scope_id(self) -> Option<i64> {
        match self.level {
            Level::Store => self.store,
            Level::Region => self.region,
            Level::Brand => None,
        }
    }

    /// Whether a guide of `store` (in `region`) belongs to the area.
    fn holds(self, store: Option<i64>, region: Option<i64>) -> bool {
        match self.level {
            Level::Store => store.is_some() && store == self.store,
            Level::Region => region.is_some() && region == self.region,
            Level::Brand => true,
        }
    }
}

/// A pool as edited (strict JSON).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PoolInput {
    pub name: String,
    /// day, week or month.
    pub period: String,
    /// A day of the period, `YYYY-MM-DD`.
    pub date: String,
    /// store, region or brand.
    pub level: String,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    /// adds, net_adds, first_orders, gmv or tasks_done.
    pub metric: String,
    pub amount_fen: i64,
    pub individual_pct: i64,
    pub team_pct: i64,
}

/// A guide's payout as shown.
#[derive(Debug, Clone, Serialize)]
pub struct PayoutView {
    pub staff_id: i64,
    pub username: String,
    pub name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub contribution: i64,
    /// Their share of all contributions, basis points.
    pub contribution_bp: i64,
    pub individual_fen: i64,
    pub team_fen: i64,
    pub total_fen: i64,
}

/// A pool as shown.
#[derive(Debug, Clone, Serialize)]
pub struct PoolView {
    pub id: i64,
    pub name: String,
    pub period: PeriodView,
    pub level: Level,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    pub metric: Metric,
    pub amount_fen: i64,
    pub individual_pct: i64,
    pub team_pct: i64,
    /// draft (the split below is computed now) or settled (as written when settled).
    pub state: String,
    pub individual_fen: i64,
    pub team_fen: i64,
    pub unallocated_fen: i64,
    pub contributions: i64,
    pub settled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The rows the caller may see: every guide for headquarters, the store's for a store
    /// manager, their own for a guide.
    pub payouts: Vec<PayoutView>,
    /// Guides in the pool in all (the caller may see fewer rows).
    pub guides: i64,
}

/// A pool in the list.
#[derive(Debug, Clone, Serialize)]
pub struct PoolLine {
    pub id: i64,
    pub name: String,
    pub period: PeriodView,
    pub level: Level,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    pub metric: Metric,
    pub amount_fen: i64,
    pub individual_pct: i64,
    pub team_pct: i64,
    pub state: String,
}

fn internal(what: &str, v: &str) -> AppError {
    AppError::Internal(format!("stored {what} {v:?} does not parse"))
}

fn row_span(p: &PoolRow) -> Result<Period> {
    let span = Span::parse("period", &p.span).map_err(|_| internal("span", &p.span))?;
    Ok(Period {
        span,
        from_day: p.from_day,
        to_day: p.to_day,
    })
}

fn row_level(p: &PoolRow) -> Result<Level> {
    Level::parse("level", &p.level).map_err(|_| internal("level", &p.level))
}

fn row_metric(p: &PoolRow) -> Result<Metric> {
    Metric::parse("metric", &p.metric).map_err(|_| internal("metric", &p.metric))
}

fn settled() -> AppError {
    AppError::Rule {
        code: "pool_settled",
        message: "this incentive pool is settled and cannot change".into(),
    }
}

/// A parsed pool.
struct ParsedPool {
    name: String,
    period: Period,
    area: Area,
    metric: Metric,
    amount_fen: i64,
    rule: SplitRule,
}

impl Leaderboards<'_> {
    fn today(&self) -> i64 {
        day_of(self.0.now())
    }

    /// The caller's store and its region (store staff), or `None` for headquarters.
    async fn home(&self, actor: &Actor) -> Result<Option<(i64, Option<i64>)>> {
        match actor.caller.data_scope() {
            DataScope::All => Ok(None),
            DataScope::Store(s) | DataScope::Own { store: s, .. } => {
                let region = store::region_of_store(&self.0.db, s.0)
                    .await?
                    .ok_or(AppError::Forbidden)?;
                Ok(Some((s.0, region)))
            }
            DataScope::Nothing => Err(AppError::Forbidden),
        }
    }

    /// The area asked for, checked against the caller's: store staff may ask for their own
    /// store, their own region and the brand.
    async fn area(
        &self,
        actor: &Actor,
        level: Option<&str>,
        store_id: Option<i64>,
        region_id: Option<i64>,
    ) -> Result<Area> {
        let home = self.home(actor).await?;
        let level = match level {
            Some(l) => Level::parse("level", l)?,
            None if home.is_some() => Level::Store,
            None => Level::Brand,
        };
        let area = match level {
            Level::Brand => Area {
                level,
                store: None,
                region: None,
            },
            Level::Store => {
                let store = match (store_id, home) {
                    (Some(s), _) => s,
                    (None, Some((s, _))) => s,
                    (None, None) => {
                        return Err(FieldError::new(
                            "store_id",
                            "required",
                            "name the store of a store board",
                        )
                        .into());
                    }
                };
                let region = store::region_of_store(&self.0.db, store)
                    .await?
                    .ok_or_else(|| FieldError::new("store_id", "unknown_store", "no such store"))?;
                Area {
                    level,
                    store: Some(store),
                    region,
                }
            }
            Level::Region => {
                let region = match (region_id, home) {
                    (Some(r), _) => r,
                    (None, Some((_, Some(r)))) => r,
                    _ => {
                        return Err(FieldError::new(
                            "region_id",
                            "required",
                            "name the region of a region board",
                        )
                        .into());
                    }
                };
                if !store::region_exists(&self.0.db, region).await? {
                    return Err(
                        FieldError::new("region_id", "unknown_region", "no such region").into(),
                    );
                }
                Area {
                    level,
                    store: None,
                    region: Some(region),
                }
            }
        };
        if let Some((s, r)) = home {
            let ok = match area.level {
                Level::Brand => true,
                Level::Store => area.store == Some(s),
                Level::Region => r.is_some() && area.region == r,
            };
            if !ok {
                return Err(AppError::Forbidden);
            }
        }
        Ok(area)
    }

    /// A board (see the module's documentation).
    pub async fn board(&self, actor: &Actor, ask: &BoardAsk) -> Result<BoardView> {
        if !actor.can(Permission::ViewStaff) {
            return Err(AppError::Forbidden);
        }
        let subject = match ask.subject.as_deref() {
            Some(s) => Subject::parse("subject", s)?,
            None => Subject::Guides,
        };
        let metric = match ask.metric.as_deref() {
            Some(m) => Metric::parse("metric", m)?,
            None => Metric::Adds,
        };
        let period = Period::parse(ask.period.as_deref(), ask.date.as_deref(), self.today())?;
        // Stores rank within a region or the brand (the brand by default).
        let level = match (subject, ask.level.as_deref()) {
            (Subject::Stores, None) => Some(Level::Brand.as_str()),
            (Subject::Stores, Some(l)) if Level::parse("level", l)? == Level::Store => {
                return Err(FieldError::new(
                    "level",
                    "invalid_level",
                    "stores are ranked within a region or the brand",
                )
                .into());
            }
            (_, l) => l,
        };
        let area = self.area(actor, level, ask.store_id, ask.region_id).await?;
        let figures = store::figures(
            &self.0.db,
            subject,
            period.from_day,
            period.to_day,
            period.from_ms(),
            period.to_ms(),
        )
        .await?;
        let mut names: HashMap<i64, (String, Option<i64>, Option<String>)> = HashMap::new();
        let mut keys: Vec<(i64, Figures)> = Vec::new();
        match subject {
            Subject::Guides => {
                for g in self.guides_of(area).await? {
                    let f = figures.get(&g.id).copied().unwrap_or_default();
                    if g.status != "active" && f == Figures::default() {
                        continue;
                    }
                    keys.push((g.id, f));
                    names.insert(g.id, (g.display_name, g.store_id, g.store_name));
                }
            }
            Subject::Stores => {
                for s in store::stores(&self.0.db, area.region).await? {
                    keys.push((s.id, figures.get(&s.id).copied().unwrap_or_default()));
                    names.insert(s.id, (s.name, None, None));
                }
            }
        }
        let me_id = match subject {
            Subject::Guides => actor.caller.staff_id().map(|s| s.0),
            Subject::Stores => None,
        };
        let rows: Vec<BoardRow> = core::rank(keys, metric)
            .into_iter()
            .map(|r| {
                let (name, store_id, store_name) = names.remove(&r.key).unwrap_or_default();
                BoardRow {
                    rank: r.rank,
                    id: r.key,
                    name,
                    store_id,
                    store_name,
                    value: r.value,
                    figures: r.figures.into(),
                }
            })
            .collect();
        let me = me_id.and_then(|id| rows.iter().find(|r| r.id == id).cloned());
        Ok(BoardView {
            subject,
            level: area.level,
            store_id: area.store,
            region_id: area.region,
            metric,
            period: period.into(),
            rows,
            me,
        })
    }

    async fn guides_of(&self, area: Area) -> Result<Vec<GuideRow>> {
        Ok(match area.level {
            Level::Store => store::guides(&self.0.db, area.store, None).await?,
            Level::Region => store::guides(&self.0.db, None, area.region).await?,
            Level::Brand => store::guides(&self.0.db, None, None).await?,
        })
    }

    /// The caller's figures this week and their rank among their store's guides by adds.
    pub async fn my_week(&self, actor: &Actor) -> Result<MyWeek> {
        let Some(me) = actor.caller.staff_id() else {
            return Err(AppError::Forbidden);
        };
        let period = Period::holding(Span::Week, self.today());
        let store_id = match actor.caller.data_scope() {
            DataScope::Store(s) | DataScope::Own { store: s, .. } => Some(s.0),
            _ => None,
        };
        let figures = store::figures(
            &self.0.db,
            Subject::Guides,
            period.from_day,
            period.to_day,
            period.from_ms(),
            period.to_ms(),
        )
        .await?;
        let mine = figures.get(&me.0).copied().unwrap_or_default();
        let (rank_in_store, guides_in_store) = match store_id {
            Some(s) => {
                let rows: Vec<(i64, Figures)> = store::guides(&self.0.db, Some(s), None)
                    .await?
                    .into_iter()
                    .filter(|g| g.status == "active" || g.id == me.0)
                    .map(|g| (g.id, figures.get(&g.id).copied().unwrap_or_default()))
                    .collect();
                let n = rows.len() as i64;
                let rank = core::rank(rows, Metric::Adds)
                    .into_iter()
                    .find(|r| r.key == me.0)
                    .and_then(|r| r.rank);
                (rank, n)
            }
            None => (None, 0),
        };
        Ok(MyWeek {
            period: period.into(),
            figures: mine.into(),
            rank_in_store,
            guides_in_store,
            store_id,
        })
    }

    fn parse_pool(input: &PoolInput) -> Result<ParsedPool> {
        let name = DisplayName::parse("name", &input.name)?;
        let span = Span::parse("period", &input.period)?;
        let day = core::parse_day("date", &input.date)?;
        let period = Period::holding(span, day);
        let level = Level::parse("level", &input.level)?;
        let metric = Metric::parse_additive("metric", &input.metric)?;
        if !(0..=MAX_POOL_FEN).contains(&input.amount_fen) {
            return Err(FieldError::new(
                "amount_fen",
                "invalid_amount",
                "a pool holds 0 to 100,000,000 yuan, in whole fen",
            )
            .into());
        }
        let rule = SplitRule::parse(input.individual_pct, input.team_pct)?;
        let area = Area {
            level,
            store: input.store_id,
            region: input.region_id,
        };
        Ok(ParsedPool {
            name: name.as_str().to_owned(),
            period,
            area,
            metric,
            amount_fen: input.amount_fen,
            rule,
        })
    }

    /// Parse a pool and resolve its area (headquarters only: any store or region).
    async fn checked_pool(&self, actor: &Actor, input: &PoolInput) -> Result<ParsedPool> {
        let mut p = Self::parse_pool(input)?;
        p.area = self
            .area(
                actor,
                Some(p.area.level.as_str()),
                match p.area.level {
                    Level::Store => Some(input.store_id.ok_or_else(|| {
                        FieldError::new("store_id", "required", "name the pool's store")
                    })?),
                    _ => None,
                },
                match p.area.level {
                    Level::Region => Some(input.region_id.ok_or_else(|| {
                        FieldError::new("region_id", "required", "name the pool's region")
                    })?),
                    _ => None,
                },
            )
            .await?;
        if p.area.level != Level::Region {
            p.area.region = None;
        }
        Ok(p)
    }

    fn require_manage(actor: &Actor) -> Result<()> {
        if actor.can(Permission::ManageIncentives) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Create a draft pool.
    pub async fn create(&self, actor: &Actor, input: &PoolInput) -> Result<PoolView> {
        Self::require_manage(actor)?;
        let p = self.checked_pool(actor, input).await?;
        let now = self.0.now();
        let mut tx = self.0.db.begin().await?;
        let id = store::insert_in(
            &mut tx,
            &new_pool(&p),
            actor.caller.staff_id().map(|s| s.0),
            now,
        )
        .await?;
        audit::record_in(
            self.0,
            &mut tx,
            actor,
            Action::IncentivePoolChanged,
            &format!("incentive_pool:{id}"),
            &serde_json::json!({ "op": "create", "pool": input }).to_string(),
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Change a draft pool.
    pub async fn update(&self, actor: &Actor, id: i64, input: &PoolInput) -> Result<PoolView> {
        Self::require_manage(actor)?;
        let p = self.checked_pool(actor, input).await?;
        let now = self.0.now();
        let mut tx = self.0.db.begin().await?;
        let row = store::get_in(&mut tx, id).await?;
        if row.state != "draft" || !store::update_in(&mut tx, id, &new_pool(&p), now).await? {
            return Err(settled());
        }
        audit::record_in(
            self.0,
            &mut tx,
            actor,
            Action::IncentivePoolChanged,
            &format!("incentive_pool:{id}"),
            &serde_json::json!({ "op": "update", "pool": input }).to_string(),
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Delete a draft pool.
    pub async fn delete(&self, actor: &Actor, id: i64) -> Result<()> {
        Self::require_manage(actor)?;
        let mut tx = self.0.db.begin().await?;
        let row = store::get_in(&mut tx, id).await?;
        if row.state != "draft" || !store::delete_in(&mut tx, id).await? {
            return Err(settled());
        }
        audit::record_in(
            self.0,
            &mut tx,
            actor,
            Action::IncentivePoolChanged,
            &format!("incentive_pool:{id}"),
            &serde_json::json!({ "op": "delete", "name": row.name }).to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The pools that cover the caller (headquarters: all), newest period first.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<PoolLine>> {
        let home = self.home(actor).await?;
        let mut out = Vec::new();
        for row in store::list(&self.0.db, POOL_LIST_LIMIT).await? {
            let level = row_level(&row)?;
            let area = pool_area(&row, level);
            if let Some((s, r)) = home
                && !area.holds(Some(s), r)
            {
                continue;
            }
            out.push(PoolLine {
                id: row.id,
                name: row.name.clone(),
                period: row_span(&row)?.into(),
                level,
                store_id: area.store,
                region_id: area.region,
                metric: row_metric(&row)?,
                amount_fen: row.amount_fen,
                individual_pct: row.individual_pct,
                team_pct: row.team_pct,
                state: row.state,
            });
        }
        Ok(out)
    }

    /// The split of a pool: the stored payouts of a settled pool, else computed now.
    async fn split_of(&self, row: &PoolRow) -> Result<(Vec<Payout>, i64, Vec<GuideRow>)> {
        let level = row_level(row)?;
        let area = pool_area(row, level);
        let guides = self.guides_of(area).await?;
        let period = row_span(row)?;
        let metric = row_metric(row)?;
        if row.state == "settled" {
            return Ok((
                store::payouts(&self.0.db, row.id).await?,
                row.unallocated_fen,
                guides,
            ));
        }
        let figures = store::figures(
            &self.0.db,
            Subject::Guides,
            period.from_day,
            period.to_day,
            period.from_ms(),
            period.to_ms(),
        )
        .await?;
        let contributors: Vec<Contributor> = guides
            .iter()
            .filter_map(|g| {
                let f = figures.get(&g.id).copied().unwrap_or_default();
                let c = metric.value(&f).unwrap_or(0).max(0);
                (g.status == "active" || c > 0).then_some(Contributor {
                    staff_id: g.id,
                    store_id: g.store_id,
                    contribution: c,
                })
            })
            .collect();
        let rule = SplitRule::parse(row.individual_pct, row.team_pct)
            .map_err(|_| internal("shares", &row.individual_pct.to_string()))?;
        let split = core::split(row.amount_fen, rule, &contributors);
        Ok((split.payouts, split.unallocated_fen, guides))
    }

    /// A pool with the rows the caller may see.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<PoolView> {
        let home = self.home(actor).await?;
        let row = store::get(&self.0.db, id).await?;
        let level = row_level(&row)?;
        let area = pool_area(&row, level);
        if let Some((s, r)) = home
            && !area.holds(Some(s), r)
        {
            return Err(AppError::NotFound {
                what: "incentive pool",
            });
        }
        let metric = row_metric(&row)?;
        let (payouts, unallocated_fen, guides) = self.split_of(&row).await?;
        Ok(self.view(
            actor,
            &row,
            level,
            area,
            metric,
            payouts,
            unallocated_fen,
            &guides,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn view(
        &self,
        actor: &Actor,
        row: &PoolRow,
        level: Level,
        area: Area,
        metric: Metric,
        payouts: Vec<Payout>,
        unallocated_fen: i64,
        guides: &[GuideRow],
    ) -> PoolView {
        let by_id: BTreeMap<i64, &GuideRow> = guides.iter().map(|g| (g.id, g)).collect();
        let contributions: i64 = payouts.iter().map(|p| p.contribution.max(0)).sum();
        let n = payouts.len() as i64;
        let individual_fen = row.amount_fen * row.individual_pct / 100;
        let visible = |p: &Payout| match actor.caller.data_scope() {
            DataScope::All => true,
            DataScope::Store(s) => p.store_id == Some(s.0),
            DataScope::Own { staff, .. } => p.staff_id == staff.0,
            DataScope::Nothing => false,
        };
        let rows = payouts
            .iter()
            .filter(|p| visible(p))
            .map(|p| {
                let g = by_id.get(&p.staff_id);
                PayoutView {
                    staff_id: p.staff_id,
                    username: g.map(|g| g.username.clone()).unwrap_or_default(),
                    name: g.map(|g| g.display_name.clone()).unwrap_or_default(),
                    store_id: p.store_id,
                    store_name: g.and_then(|g| g.store_name.clone()),
                    contribution: p.contribution,
                    contribution_bp: if contributions > 0 {
                        p.contribution.max(0) * 10_000 / contributions
                    } else {
                        0
                    },
                    individual_fen: p.individual_fen,
                    team_fen: p.team_fen,
                    total_fen: p.total_fen(),
                }
            })
            .collect();
        PoolView {
            id: row.id,
            name: row.name.clone(),
            period: PeriodView {
                span: row.span.clone(),
                from: day_label(row.from_day),
                to: day_label(row.to_day),
            },
            level,
            store_id: area.store,
            region_id: area.region,
            metric,
            amount_fen: row.amount_fen,
            individual_pct: row.individual_pct,
            team_pct: row.team_pct,
            state: row.state.clone(),
            individual_fen,
            team_fen: row.amount_fen - individual_fen,
            unallocated_fen,
            contributions,
            settled_at: row.settled_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            payouts: rows,
            guides: n,
        }
    }

    /// Settle a pool whose period is over: write each guide's payout once. A settled pool
    /// answers its stored result (a replay changes nothing).
    pub async fn settle(&self, actor: &Actor, id: i64) -> Result<PoolView> {
        Self::require_manage(actor)?;
        let row = store::get(&self.0.db, id).await?;
        if row.state == "settled" {
            return self.get(actor, id).await;
        }
        let period = row_span(&row)?;
        if !period.is_over(self.today()) {
            return Err(AppError::Rule {
                code: "period_not_over",
                message: format!(
                    "the period ends on {}; settle it from the next day",
                    day_label(period.to_day)
                ),
            });
        }
        let (payouts, unallocated, _) = self.split_of(&row).await?;
        let now = self.0.now();
        let mut tx = self.0.db.begin().await?;
        let by = actor.caller.staff_id().map(|s| s.0);
        if !store::settle_in(&mut tx, id, row.updated_at, &payouts, unallocated, by, now).await? {
            drop(tx);
            let again = store::get(&self.0.db, id).await?;
            if again.state == "settled" {
                return self.get(actor, id).await;
            }
            return Err(AppError::Rule {
                code: "conflicting_change",
                message: "the pool was edited while it was being settled; settle it again".into(),
            });
        }
        let paid: i64 = payouts.iter().map(Payout::total_fen).sum();
        audit::record_in(
            self.0,
            &mut tx,
            actor,
            Action::IncentivePoolChanged,
            &format!("incentive_pool:{id}"),
            &serde_json::json!({
                "op": "settle",
                "guides": payouts.len(),
                "paid_fen": paid,
                "unallocated_fen": unallocated,
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// The payroll CSV of a settled pool (amounts in yuan with two decimals; the edge adds the
    /// BOM or makes a workbook of it), audited.
    pub async fn export(&self, actor: &Actor, id: i64) -> Result<String> {
        Self::require_manage(actor)?;
        let view = self.get(actor, id).await?;
        if view.state != "settled" {
            return Err(AppError::Rule {
                code: "pool_not_settled",
                message: "settle the pool before exporting it for payroll".into(),
            });
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        let cell = |s: &str| yutang_core::export::spreadsheet_text(s).into_owned();
        let io = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
        w.write_record([
            "pool_id",
            "pool",
            "period_from",
            "period_to",
            "staff_id",
            "username",
            "name",
            "store",
            "metric",
            "contribution",
            "individual_yuan",
            "team_yuan",
            "total_yuan",
        ])
        .map_err(io)?;
        for p in &view.payouts {
            w.write_record([
                view.id.to_string(),
                cell(&view.name),
                view.period.from.clone(),
                view.period.to.clone(),
                p.staff_id.to_string(),
                cell(&p.username),
                cell(&p.name),
                cell(p.store_name.as_deref().unwrap_or("")),
                view.metric.as_str().to_owned(),
                if view.metric == Metric::Gmv {
                    Fen(p.contribution).to_string()
                } else {
                    p.contribution.to_string()
                },
                Fen(p.individual_fen).to_string(),
                Fen(p.team_fen).to_string(),
                Fen(p.total_fen).to_string(),
            ])
            .map_err(io)?;
        }
        let body = w
            .into_inner()
            .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        let body = String::from_utf8(body).map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        audit::record(
            self.0,
            actor,
            Action::IncentivePoolChanged,
            &format!("incentive_pool:{id}"),
            &serde_json::json!({ "op": "export", "rows": view.payouts.len() }).to_string(),
        )
        .await?;
        Ok(body)
    }
}

fn new_pool(p: &ParsedPool) -> NewPool<'_> {
    NewPool {
        name: &p.name,
        span: p.period.span.as_str(),
        from_day: p.period.from_day,
        to_day: p.period.to_day,
        level: p.area.level.as_str(),
        scope_id: p.area.scope_id(),
        metric: p.metric.as_str(),
        amount_fen: p.amount_fen,
        individual_pct: p.rule.individual_pct,
        team_pct: p.rule.team_pct,
    }
}

fn pool_area(row: &PoolRow, level: Level) -> Area {
    match level {
        Level::Store => Area {
            level,
            store: row.scope_id,
            region: None,
        },
        Level::Region => Area {
            level,
            store: None,
            region: row.scope_id,
        },
        Level::Brand => Area {
            level,
            store: None,
            region: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_covers_its_store_region_or_the_brand() {
        let store = Area {
            level: Level::Store,
            store: Some(1),
            region: None,
        };
        assert!(store.holds(Some(1), Some(9)));
        assert!(!store.holds(Some(2), Some(9)));
        let region = Area {
            level: Level::Region,
            store: None,
            region: Some(9),
        };
        assert!(region.holds(Some(2), Some(9)));
        assert!(!region.holds(Some(2), Some(8)) && !region.holds(Some(2), None));
        let brand = Area {
            level: Level::Brand,
            store: None,
            region: None,
        };
        assert!(brand.holds(Some(5), None));
    }
}
