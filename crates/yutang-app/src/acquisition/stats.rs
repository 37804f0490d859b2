//! Channel statistics (渠道统计): one channel's figures over a period (totals, days, guides,
//! stores) and every channel's with the guide leaderboard. The store groups in SQL, core folds
//! and ranks (`yutang_core::acquisition::stats`); this names the rows and scopes them.
//!
//! Who sees what: everyone who sees channels. A store-bound caller (store manager, guide) sees
//! the brand-wide channels and their store's, and in them only the activity of their store's
//! guides (adds they took, customers they brought, orders credited through their adds, rewards
//! of the customers they added).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use yutang_core::access::DataScope;
use yutang_core::acquisition::stats::{
    self as core_stats, DayFigures, Figures, KeySum, Metric, Period, Ranked,
};
use yutang_store::acquisition::stats::{self as store, GroupBy, StatsFilter};

use super::channels::check_scope;
use super::{Acquisition, view};
use crate::Actor;
use crate::error::{AppError, Result};

/// The period asked for, as the API and the console take it.
#[derive(Debug, Clone, Default)]
pub struct StatsAsk {
    /// `YYYY-MM-DD` (Asia/Shanghai); default 29 days before `to`.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (Asia/Shanghai); default today.
    pub to: Option<String>,
    /// The first-order window, 1–365 days; default 30.
    pub first_order_days: Option<i64>,
}

/// A guide's figures (`staff_id` `None`: adds without a known guide).
#[derive(Debug, Clone, Serialize)]
pub struct GuideFigures {
    pub staff_id: Option<i64>,
    pub name: String,
    pub store_id: Option<i64>,
    pub store_name: String,
    pub figures: Figures,
}

/// A store's figures: its guides' added up (`store_id` `None`: guides without a store and
/// adds without a guide).
#[derive(Debug, Clone, Serialize)]
pub struct StoreFigures {
    pub store_id: Option<i64>,
    pub name: String,
    pub figures: Figures,
}

/// A channel's figures (`channel_id` `None`: adds through an unknown or absent state).
#[derive(Debug, Clone, Serialize)]
pub struct ChannelFigures {
    pub channel_id: Option<i64>,
    pub name: String,
    /// The channel's kind (`store_stand` …); empty for the unknown row.
    pub kind: String,
    pub archived: bool,
    pub figures: Figures,
}

/// A guide on the leaderboard, named.
#[derive(Debug, Clone, Serialize)]
pub struct LeaderRow {
    #[serde(flatten)]
    pub ranked: Ranked,
    pub name: String,
    pub store_name: String,
}

/// The period as it was applied.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodView {
    pub from: String,
    pub to: String,
    pub first_order_days: i64,
}

/// One channel's statistics.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelStatsView {
    pub channel: ChannelFigures,
    pub period: PeriodView,
    pub totals: Figures,
    pub days: Vec<DayFigures>,
    pub guides: Vec<GuideFigures>,
    pub stores: Vec<StoreFigures>,
}

/// Every channel's statistics and the guide leaderboard.
#[derive(Debug, Clone, Serialize)]
pub struct AcquisitionStatsView {
    pub period: PeriodView,
    pub totals: Figures,
    pub days: Vec<DayFigures>,
    /// The channels the caller sees (archived ones only with activity in the period), most
    /// adds first, then the unknown channel.
    pub channels: Vec<ChannelFigures>,
    /// Every guide's figures across the channels (most adds first).
    pub guides: Vec<GuideFigures>,
    pub stores: Vec<StoreFigures>,
    pub leaderboard: Vec<LeaderRow>,
}

fn sums(rows: Vec<store::KeyRow>) -> Result<Vec<KeySum>> {
    rows.into_iter()
        .map(|r| {
            let metric = Metric::parse(&r.metric)
                .ok_or_else(|| AppError::Internal(format!("unknown metric {}", r.metric)))?;
            Ok(KeySum {
                metric,
                key: r.grp,
                bucket: r.bucket,
                value: r.value,
            })
        })
        .collect()
}

/// The caller's store filter: `None` for the whole brand.
fn store_filter(actor: &Actor) -> Result<Option<i64>> {
    match actor.caller.data_scope() {
        DataScope::All => Ok(None),
        DataScope::Store(s) | DataScope::Own { store: s, .. } => Ok(Some(s.0)),
        DataScope::Nothing => Err(AppError::Forbidden),
    }
}

fn period_view(p: &Period) -> PeriodView {
    PeriodView {
        from: p.from(),
        to: p.to(),
        first_order_days: p.first_order_days,
    }
}

/// Most adds first, then by id, the `None` row last.
fn by_adds<T>(rows: &mut [T], key: impl Fn(&T) -> (i64, Option<i64>)) {
    rows.sort_by_key(|r| {
        let (adds, id) = key(r);
        (id.is_none(), std::cmp::Reverse(adds), id)
    });
}

/// Named guide and store rows from the per-guide figures.
struct Names {
    staff: HashMap<i64, store::StaffName>,
}

impl Names {
    async fn load(db: &yutang_store::Db, store: Option<i64>) -> Result<Self> {
        let staff = store::staff_names(db, store)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        Ok(Self { staff })
    }

    fn guides(&self, by_guide: &BTreeMap<Option<i64>, Figures>) -> Vec<GuideFigures> {
        let mut out: Vec<GuideFigures> = by_guide
            .iter()
            .map(|(id, f)| {
                let s = id.and_then(|i| self.staff.get(&i));
                GuideFigures {
                    staff_id: *id,
                    name: s.map(|s| s.display_name.clone()).unwrap_or_default(),
                    store_id: s.and_then(|s| s.store_id),
                    store_name: s.and_then(|s| s.store_name.clone()).unwrap_or_default(),
                    figures: f.clone(),
                }
            })
            .collect();
        by_adds(&mut out, |g| (g.figures.adds, g.staff_id));
        out
    }

    fn stores(&self, by_guide: &BTreeMap<Option<i64>, Figures>) -> Vec<StoreFigures> {
        let store_of: HashMap<i64, Option<i64>> =
            self.staff.values().map(|s| (s.id, s.store_id)).collect();
        let store_name: HashMap<i64, String> = self
            .staff
            .values()
            .filter_map(|s| Some((s.store_id?, s.store_name.clone()?)))
            .collect();
        let mut out: Vec<StoreFigures> = core_stats::by_store(by_guide, &store_of)
            .into_iter()
            .map(|(id, figures)| StoreFigures {
                store_id: id,
                name: id
                    .and_then(|i| store_name.get(&i).cloned())
                    .unwrap_or_default(),
                figures,
            })
            .collect();
        by_adds(&mut out, |s| (s.figures.adds, s.store_id));
        out
    }

    fn leaderboard(&self, by_guide: &BTreeMap<Option<i64>, Figures>) -> Vec<LeaderRow> {
        core_stats::leaderboard(by_guide)
            .into_iter()
            .map(|ranked| {
                let s = self.staff.get(&ranked.staff_id);
                LeaderRow {
                    name: s.map(|s| s.display_name.clone()).unwrap_or_default(),
                    store_name: s.and_then(|s| s.store_name.clone()).unwrap_or_default(),
                    ranked,
                }
            })
            .collect()
    }
}

impl Acquisition<'_> {
    async fn grouped(
        &self,
        by: GroupBy,
        f: &StatsFilter,
    ) -> Result<BTreeMap<Option<i64>, Figures>> {
        let rows = store::key_sums(&self.db, by, f).await?;
        Ok(core_stats::by_key(&sums(rows)?))
    }

    fn filter(
        &self,
        ask: &StatsAsk,
        channel: Option<i64>,
        store: Option<i64>,
    ) -> Result<(Period, StatsFilter)> {
        let p = Period::parse(
            ask.from.as_deref(),
            ask.to.as_deref(),
            ask.first_order_days,
            self.now(),
        )?;
        let (from_ms, to_ms) = p.bounds_ms();
        Ok((
            p,
            StatsFilter {
                from_ms,
                to_ms,
                channel,
                store,
                first_order_ms: p.first_order_ms(),
            },
        ))
    }

    /// One channel's statistics over the period: totals, the days (zeros included), per
    /// guide and per store. 404 for a channel outside a store-bound caller's scope.
    pub async fn channel_stats(
        &self,
        actor: &Actor,
        id: i64,
        ask: &StatsAsk,
    ) -> Result<ChannelStatsView> {
        view(actor)?;
        let row = yutang_store::acquisition::get_channel(&self.db, id)
            .await
            .map_err(AppError::not_found("channel"))?;
        check_scope(actor, row.store_id)?;
        let store = store_filter(actor)?;
        let (p, f) = self.filter(ask, Some(id), store)?;
        let by_day = self.grouped(GroupBy::Day, &f).await?;
        let by_guide = self.grouped(GroupBy::Guide, &f).await?;
        let names = Names::load(&self.db, store).await?;
        let totals = core_stats::total(by_guide.values());
        Ok(ChannelStatsView {
            channel: ChannelFigures {
                channel_id: Some(row.id),
                name: row.name,
                kind: row.kind,
                archived: row.archived_at.is_some(),
                figures: totals.clone(),
            },
            period: period_view(&p),
            totals,
            days: core_stats::series(&by_day, &p),
            guides: names.guides(&by_guide),
            stores: names.stores(&by_guide),
        })
    }

    /// Every channel's statistics over the period (the unknown channel as the last row), the
    /// days, and the guide leaderboard.
    pub async fn acquisition_stats(
        &self,
        actor: &Actor,
        ask: &StatsAsk,
    ) -> Result<AcquisitionStatsView> {
        view(actor)?;
        let store = store_filter(actor)?;
        let (p, f) = self.filter(ask, None, store)?;
        let by_day = self.grouped(GroupBy::Day, &f).await?;
        let by_channel = self.grouped(GroupBy::Channel, &f).await?;
        let by_guide = self.grouped(GroupBy::Guide, &f).await?;
        let names = Names::load(&self.db, store).await?;
        let mut listed = yutang_store::acquisition::list_channels(&self.db, store, false).await?;
        listed.extend(
            yutang_store::acquisition::list_channels(&self.db, store, true)
                .await?
                .into_iter()
                .filter(|c| by_channel.contains_key(&Some(c.id))),
        );
        let mut channels: Vec<ChannelFigures> = listed
            .into_iter()
            .map(|c| ChannelFigures {
                figures: by_channel.get(&Some(c.id)).cloned().unwrap_or_default(),
                channel_id: Some(c.id),
                name: c.name,
                kind: c.kind,
                archived: c.archived_at.is_some(),
            })
            .collect();
        channels.push(ChannelFigures {
            channel_id: None,
            name: String::new(),
            kind: String::new(),
            archived: false,
            figures: by_channel.get(&None).cloned().unwrap_or_default(),
        });
        by_adds(&mut channels, |c| (c.figures.adds, c.channel_id));
        Ok(AcquisitionStatsView {
            period: period_view(&p),
            totals: core_stats::total(by_channel.values()),
            days: core_stats::series(&by_day, &p),
            channels,
            guides: names.guides(&by_guide),
            stores: names.stores(&by_guide),
            leaderboard: names.leaderboard(&by_guide),
        })
    }
}
