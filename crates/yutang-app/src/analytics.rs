//! Analytics (issue #24): the dashboard, read from daily rollups kept current after commits.
//!
//! The **follower** reads the event log in commit order (the change feed the segment index
//! and the webhooks use), notes the Shanghai days its events happened and were written on,
//! and recomputes those days from the base tables in the transaction that moves its
//! position — so a day is always what a from-scratch computation over committed rows gives,
//! whatever arrives late (an order paid last month, a refund, a merge). Recomputing a day
//! costs one indexed range scan per metric; one step reads up to [`STEP_EVENTS`] events
//! first, so a busy day is recomputed once per step, not once per event.
//!
//! A **rebuild** recomputes every day (a new or copied database, a guide moved to another
//! store — the store grain follows the guide's current store); it runs in chunks of days,
//! each under the follower's lock. Every hour today and yesterday are recomputed too: a row
//! whose time differs from its event's by more than the day boundary it crosses is caught
//! there.

pub mod metrics;
pub mod reports;
pub mod uplift;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::acquisition::stats::Period;
use yutang_core::analytics::facts;
use yutang_core::analytics::{
    self as core, DAY_MS, Grain, Metric, SHANGHAI_OFFSET_MS, Tile, day_label, day_of,
};
use yutang_core::staff::Permission;
use yutang_store::facts as facts_store;
use yutang_store::feed::{self, Feed, FeedPosition};
use yutang_store::rollups::{self as store, Keys, Named};

use crate::error::{AppError, Result};
use crate::{Actor, App};

/// Events read per page of the log.
const FEED_PAGE: i64 = 5_000;
/// Events read (and their days noted) before the days are recomputed in one transaction.
pub const STEP_EVENTS: usize = 50_000;
/// Days recomputed per transaction of a rebuild.
const REBUILD_CHUNK_DAYS: i64 = 31;
/// Customers whose facts are recomputed per transaction of a rebuild.
const REBUILD_CHUNK_CUSTOMERS: i64 = 5_000;
/// Rows in the dashboard's rankings.
const TOP: i64 = 10;

/// The analytics use cases.
pub struct Analytics<'a>(&'a App);

impl std::ops::Deref for Analytics<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    pub fn analytics(&self) -> Analytics<'_> {
        Analytics(self)
    }
}

/// Consecutive runs of days (`[first, last]`).
fn runs(days: &BTreeSet<i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &d in days {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == d => *last = d,
            _ => out.push((d, d)),
        }
    }
    out
}

/// `[start, end)` in UTC millis of the Shanghai days `first..=last`.
fn bounds(first: i64, last: i64) -> (i64, i64) {
    (
        first * DAY_MS - SHANGHAI_OFFSET_MS,
        (last + 1) * DAY_MS - SHANGHAI_OFFSET_MS,
    )
}

/// Put the follower at the end of the log (the transaction holds its lock).
async fn to_end_in(tx: &mut yutang_store::tx::Tx) -> Result<()> {
    let end = feed::feed_end_in(tx).await?;
    let at_end = FeedPosition {
        from: end,
        to: None,
        after_id: 0,
    };
    Ok(feed::save_feed_in(tx, Feed::Rollups, &at_end).await?)
}

/// Recompute the days in the transaction (which holds the follower's lock).
async fn recompute_in(tx: &mut yutang_store::tx::Tx, days: &BTreeSet<i64>) -> Result<()> {
    for (first, last) in runs(days) {
        let (from, to) = bounds(first, last);
        let sources = store::source_rows_in(tx, from, to).await?;
        let rows = core::fold(&sources);
        store::replace_days_in(tx, first, last, &rows).await?;
    }
    Ok(())
}

/// Recompute the facts of `which` customers and add the difference of their contributions
/// to the cells, in the transaction (which holds the follower's lock).
async fn recompute_facts_in(
    tx: &mut yutang_store::tx::Tx,
    which: facts_store::Customers<'_>,
) -> Result<()> {
    let inputs = facts_store::inputs_in(tx, which).await?;
    let stored = facts_store::stored_in(tx, which).await?;
    let mut ids: Vec<i64> = inputs.keys().chain(stored.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut change = BTreeMap::new();
    let mut new = Vec::with_capacity(inputs.len());
    let none = BTreeMap::new();
    for id in ids {
        let old = stored.get(&id).map(|(f, r)| facts::contributions(f, r));
        let now = match inputs.get(&id) {
            Some(c) => {
                let (f, rows) = facts::facts_of(c);
                let cells = facts::contributions(&f, &rows);
                new.push((id, f, rows));
                cells
            }
            // Merged into another customer (or gone): contributes nothing any more.
            None => BTreeMap::new(),
        };
        facts::delta(old.as_ref().unwrap_or(&none), &now, &mut change);
    }
    change.retain(|_, v| *v != 0);
    facts_store::replace_in(tx, which, &new).await?;
    facts_store::add_cells_in(tx, &change).await?;
    Ok(())
}

/// [`recompute_facts_in`] for the customers a follower step's events name.
async fn recompute_customers_in(tx: &mut yutang_store::tx::Tx, ids: &[i64]) -> Result<()> {
    for chunk in ids.chunks(facts_store::CHUNK) {
        recompute_facts_in(tx, facts_store::Customers::Ids(chunk)).await?;
    }
    Ok(())
}

/// What the dashboard is asked for.
#[derive(Debug, Clone, Default)]
pub struct DashboardAsk {
    /// `YYYY-MM-DD` (Asia/Shanghai); default 29 days before `to`.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (Asia/Shanghai); default today.
    pub to: Option<String>,
    /// One store (HQ roles; a store manager only their own).
    pub store_id: Option<i64>,
    /// One guide (HQ roles; a store manager only their store's; a guide only themselves).
    pub staff_id: Option<i64>,
}

/// Whose figures the dashboard shows.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardScope {
    /// `brand`, `store` or `guide`.
    pub level: &'static str,
    pub store_id: Option<i64>,
    pub staff_id: Option<i64>,
    /// The store's or the guide's name; empty for the brand.
    pub name: String,
}

/// The period as applied: its days and the previous period compared with.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardPeriod {
    pub from: String,
    pub to: String,
    pub previous_from: String,
    pub previous_to: String,
    /// Each day of the period, `YYYY-MM-DD`, oldest first (the tiles' `days` match).
    pub days: Vec<String>,
}

/// A figure over today, the last 7 and the last 30 days (Shanghai days, today included).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Windows {
    pub today: i64,
    pub last_7_days: i64,
    pub last_30_days: i64,
}

/// A ranked guide.
#[derive(Debug, Clone, Serialize)]
pub struct TopGuide {
    pub staff_id: i64,
    pub name: String,
    pub contacts_added: i64,
    pub net_adds: i64,
    pub orders: i64,
    pub gmv_fen: i64,
}

/// A ranked channel.
#[derive(Debug, Clone, Serialize)]
pub struct TopChannel {
    pub channel_id: i64,
    pub name: String,
    pub contacts_added: i64,
    pub net_adds: i64,
    pub orders: i64,
    pub gmv_fen: i64,
}

/// How current the rollups are.
#[derive(Debug, Clone, Serialize)]
pub struct Freshness {
    /// When the follower last caught up with the event log (UTC millis).
    pub followed_at: Option<i64>,
    /// A rebuild of every day is waiting or running: figures may be incomplete until then.
    pub rebuilding: bool,
}

/// The dashboard (概览).
#[derive(Debug, Clone, Serialize)]
pub struct DashboardView {
    pub scope: DashboardScope,
    pub period: DashboardPeriod,
    /// The figures, each with its days and the change against the previous period: `pool`
    /// (a level: customers in the pool for the brand, active WeCom contacts for a store or a
    /// guide; its total is the level at the period's end, `previous` at the previous end),
    /// `new_customers` (brand only), `contacts_added`, `contacts_lost`, `net_adds`, `groups`
    /// (a level: customer groups not dismissed, those the guide or the store's guides own),
    /// `group_joins`, `group_members` (a level), `orders`, `gmv_fen`, `refunded_fen`,
    /// `net_gmv_fen`, `coupons_claimed` (brand only), `coupons_used`.
    pub tiles: Vec<Tile>,
    /// Coupons used per claim over the period, in basis points (brand only; `None` without
    /// claims).
    pub coupon_redemption_bp: Option<i64>,
    pub contacts_added: Windows,
    pub net_adds: Windows,
    /// The channels with most adds in the period (brand only: empty for a store or a guide).
    pub top_channels: Vec<TopChannel>,
    /// The guides with most adds in the period (a store's guides for a store; the guide
    /// alone for a guide).
    pub top_guides: Vec<TopGuide>,
    pub freshness: Freshness,
}

/// The grain and key the caller's dashboard reads.
fn resolve_scope(actor: &Actor, ask: &DashboardAsk) -> Result<(Grain, i64)> {
    if !actor.can(Permission::ViewCustomers) {
        return Err(AppError::Forbidden);
    }
    let own = match actor.caller.data_scope() {
        DataScope::All => None,
        DataScope::Store(s) => Some((Grain::Store, s.0)),
        DataScope::Own { staff, .. } => Some((Grain::Guide, staff.0)),
        DataScope::Nothing => return Err(AppError::Forbidden),
    };
    Ok(match (own, ask.store_id, ask.staff_id) {
        (_, Some(_), Some(_)) => {
            return Err(FieldError::new(
                "staff_id",
                "conflicting_filters",
                "give store_id or staff_id, not both",
            )
            .into());
        }
        (None, None, None) => (Grain::Brand, 0),
        (None, Some(s), None) => (Grain::Store, s),
        (None, None, Some(g)) => (Grain::Guide, g),
        (Some((Grain::Store, mine)), Some(s), None) if s != mine => {
            return Err(AppError::Forbidden);
        }
        (Some((Grain::Store, mine)), _, None) => (Grain::Store, mine),
        // A store manager may look at one of their guides (checked against the store below).
        (Some((Grain::Store, _)), None, Some(g)) => (Grain::Guide, g),
        (Some((_, mine)), None, Some(g)) if g == mine => (Grain::Guide, mine),
        (Some((_, mine)), None, None) => (Grain::Guide, mine),
        (Some(_), _, _) => return Err(AppError::Forbidden),
    })
}

impl Analytics<'_> {
    // -------------------------------------------------------------- the follower

    /// Follow the event log until caught up, recomputing the days its events touch.
    /// Returns the number of events read.
    pub async fn follow(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let (n, caught_up) = self.follow_step().await?;
            total += n;
            if caught_up {
                return Ok(total);
            }
        }
    }

    /// Up to [`STEP_EVENTS`] events and the recomputation of their days, in one transaction:
    /// how many were read and whether the log is caught up.
    async fn follow_step(&self) -> Result<(usize, bool)> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let mut pos = feed::lock_feed_in(&mut tx, Feed::Rollups).await?;
        let Some(from) = feed::parse_mark(&tx, &pos.from) else {
            // A position written by the other engine (a database moved by `yutang db copy`):
            // start from the end of the log and recompute every day.
            to_end_in(&mut tx).await?;
            store::request_rebuild_in(&mut tx).await?;
            tx.commit().await?;
            return Ok((0, true));
        };
        let to_text = match &pos.to {
            Some(t) => t.clone(),
            None => feed::feed_end_in(&mut tx).await?,
        };
        let to = feed::parse_mark(&tx, &to_text)
            .ok_or_else(|| AppError::Internal(format!("unreadable feed position {to_text}")))?;
        let mut days = BTreeSet::new();
        let mut customers = BTreeSet::new();
        let mut read = 0;
        let caught_up = loop {
            let events =
                feed::events_between_in(&mut tx, &from, &to, pos.after_id, FEED_PAGE).await?;
            read += events.len();
            for e in &events {
                days.extend(core::touched_days(e.occurred_at, e.received_at));
                customers.insert(e.customer_id);
            }
            if let Some(last) = events.last() {
                pos.after_id = last.id;
            }
            if (events.len() as i64) < FEED_PAGE {
                break true;
            }
            if read >= STEP_EVENTS {
                break false;
            }
        };
        if read == 0 {
            // Nothing new: write nothing (the position moves with the next events).
            tx.commit().await?;
            return Ok((0, true));
        }
        recompute_in(&mut tx, &days).await?;
        let customers: Vec<i64> = customers.into_iter().collect();
        recompute_customers_in(&mut tx, &customers).await?;
        let next = if caught_up {
            FeedPosition {
                from: to_text,
                to: None,
                after_id: 0,
            }
        } else {
            FeedPosition {
                from: pos.from,
                to: Some(to_text),
                after_id: pos.after_id,
            }
        };
        feed::save_feed_in(&mut tx, Feed::Rollups, &next).await?;
        if caught_up {
            store::followed_in(&mut tx, now).await?;
        }
        tx.commit().await?;
        Ok((read, caught_up))
    }

    /// Recompute today and yesterday (Shanghai), under the follower's lock: the hourly
    /// safety net for rows whose time and event fall on different sides of midnight.
    pub async fn refresh_recent(&self) -> Result<()> {
        let today = day_of(self.now());
        self.recompute_days(&[today - 1, today].into()).await
    }

    async fn recompute_days(&self, days: &BTreeSet<i64>) -> Result<()> {
        let mut tx = self.db.begin().await?;
        feed::lock_feed_in(&mut tx, Feed::Rollups).await?;
        recompute_in(&mut tx, days).await?;
        Ok(tx.commit().await?)
    }

    /// Recompute every day if a rebuild was asked for (or one died half way). Returns
    /// whether one ran.
    pub async fn rebuild_if_requested(&self) -> Result<bool> {
        let st = store::state(&self.db).await?;
        if st.requested <= st.rebuilt {
            return Ok(false);
        }
        self.rebuild(st.requested).await?;
        Ok(true)
    }

    /// Recompute every day now (tests and `yutang bench dashboard`).
    pub async fn rebuild_now(&self) -> Result<()> {
        let st = store::state(&self.db).await?;
        self.rebuild(st.requested).await
    }

    async fn rebuild(&self, generation: i64) -> Result<()> {
        // Everything committed so far is recomputed below from the base tables: the follower
        // goes on from here instead of re-reading it (a seeded demo or an upgraded database
        // would otherwise recompute its whole history once more, event page by event page).
        {
            let mut tx = self.db.begin().await?;
            feed::lock_feed_in(&mut tx, Feed::Rollups).await?;
            to_end_in(&mut tx).await?;
            tx.commit().await?;
        }
        let span = {
            let mut tx = self.db.begin().await?;
            let span = store::data_span_in(&mut tx).await?;
            tx.commit().await?;
            span
        };
        let (first, last) = match span {
            Some((lo, hi)) => (day_of(lo), day_of(hi.max(self.now()))),
            None => {
                let today = day_of(self.now());
                (today, today)
            }
        };
        let mut day = first;
        while day <= last {
            let end = (day + REBUILD_CHUNK_DAYS - 1).min(last);
            let mut tx = self.db.begin().await?;
            feed::lock_feed_in(&mut tx, Feed::Rollups).await?;
            if day == first {
                // Days before the data (a database emptied and filled again) hold nothing.
                store::replace_days_in(&mut tx, i64::MIN / 2, first - 1, &[]).await?;
            }
            if end == last {
                store::replace_days_in(&mut tx, last + 1, i64::MAX / 2, &[]).await?;
            }
            recompute_in(&mut tx, &(day..=end).collect()).await?;
            tx.commit().await?;
            day = end + 1;
        }
        // Then every customer's facts, from nothing: the follower may recompute a customer
        // between two chunks, which is harmless since every step adds the difference to what
        // is stored.
        {
            let mut tx = self.db.begin().await?;
            feed::lock_feed_in(&mut tx, Feed::Rollups).await?;
            facts_store::clear_in(&mut tx).await?;
            tx.commit().await?;
        }
        let max = {
            let mut tx = self.db.begin().await?;
            let max = facts_store::max_customer_id_in(&mut tx).await?;
            tx.commit().await?;
            max
        };
        let mut lo = 1;
        loop {
            let hi = lo + REBUILD_CHUNK_CUSTOMERS;
            let mut tx = self.db.begin().await?;
            feed::lock_feed_in(&mut tx, Feed::Rollups).await?;
            recompute_facts_in(&mut tx, facts_store::Customers::Range(lo, hi)).await?;
            // Customers created since the walk began are the follower's (their events come
            // after the position the walk started from).
            let done = hi > max;
            if done {
                store::rebuilt_in(&mut tx, generation, self.now()).await?;
            }
            tx.commit().await?;
            if done {
                break;
            }
            lo = hi;
        }
        Ok(())
    }

    // -------------------------------------------------------------- the dashboard

    /// The dashboard of the caller's scope (or of the store or guide asked for, within it).
    pub async fn dashboard(&self, actor: &Actor, ask: &DashboardAsk) -> Result<DashboardView> {
        let (grain, key) = resolve_scope(actor, ask)?;
        let period = Period::parse(ask.from.as_deref(), ask.to.as_deref(), None, self.now())?;
        let scope = self.scope_view(actor, grain, key).await?;
        let (from_day, to_day) = (period.from_day, period.to_day);
        let len = to_day - from_day + 1;
        let today = day_of(self.now());
        // The previous period, the period, and the last 30 days (for the windows).
        let read_from = (from_day - len).min(today - 29);
        let read_to = to_day.max(today);
        let rows = store::by_day(&self.db, grain.as_str(), key, read_from, read_to).await?;
        let mut by: HashMap<&'static str, BTreeMap<i64, i64>> = HashMap::new();
        for r in &rows {
            if let Some(m) = Metric::parse(&r.metric) {
                *by.entry(m.as_str()).or_default().entry(r.day).or_default() += r.value;
            }
        }
        let empty = BTreeMap::new();
        let series = |m: Metric| by.get(m.as_str()).unwrap_or(&empty);
        let tile = |m: Metric| core::tile(m.as_str(), series(m), from_day, to_day);
        let brand = grain == Grain::Brand;

        let before: HashMap<String, i64> =
            store::totals_before(&self.db, grain.as_str(), key, from_day - len)
                .await?
                .into_iter()
                .collect();
        let before_of = |m: Metric| before.get(m.as_str()).copied().unwrap_or(0);
        // A level: its value at the end of each day, `previous` at the previous period's end.
        let level = |name: &'static str, plus: Metric, minus: Metric| {
            let prev_net: i64 = (from_day - len..from_day)
                .map(|d| series(plus).get(&d).unwrap_or(&0) - series(minus).get(&d).unwrap_or(&0))
                .sum();
            let start = before_of(plus) - before_of(minus) + prev_net;
            let net: Vec<i64> = (from_day..=to_day)
                .map(|d| series(plus).get(&d).unwrap_or(&0) - series(minus).get(&d).unwrap_or(&0))
                .collect();
            let days = core::levels(start, &net);
            let total = days.last().copied().unwrap_or(start);
            Tile {
                metric: name,
                total,
                previous: start,
                change_bp: core::change_bp(total, start),
                days,
            }
        };

        let added = tile(Metric::ContactsAdded);
        let lost = tile(Metric::ContactsLost);
        let net_adds = core::difference("net_adds", &added, &lost);
        let gmv = tile(Metric::Gmv);
        let refunded = tile(Metric::RefundedFen);
        let mut tiles = Vec::new();
        if brand {
            tiles.push(level(
                "pool",
                Metric::CustomersCreated,
                Metric::CustomersMerged,
            ));
            let created = tile(Metric::CustomersCreated);
            let merged = tile(Metric::CustomersMerged);
            tiles.push(core::difference("new_customers", &created, &merged));
        } else {
            tiles.push(level("pool", Metric::ContactsAdded, Metric::ContactsLost));
        }
        tiles.push(added.clone());
        tiles.push(lost);
        tiles.push(net_adds.clone());
        let owners = match grain {
            Grain::Store => Keys::GuidesOf(key),
            Grain::Guide => Keys::One(key),
            Grain::Brand | Grain::Channel => Keys::All,
        };
        let groups: BTreeMap<i64, i64> = store::group_days(&self.db, owners)
            .await?
            .into_iter()
            .collect();
        tiles.push(core::level_tile("groups", &groups, from_day, to_day));
        tiles.push(tile(Metric::GroupJoins));
        tiles.push(level(
            "group_members",
            Metric::GroupJoins,
            Metric::GroupLeaves,
        ));
        tiles.push(tile(Metric::Orders));
        tiles.push(gmv.clone());
        tiles.push(refunded.clone());
        tiles.push(core::difference("net_gmv_fen", &gmv, &refunded));
        let claimed = tile(Metric::CouponsClaimed);
        let used = tile(Metric::CouponsUsed);
        let coupon_redemption_bp = (brand && claimed.total > 0)
            .then(|| {
                i64::try_from(i128::from(used.total) * 10_000 / i128::from(claimed.total)).ok()
            })
            .flatten();
        if brand {
            tiles.push(claimed);
        }
        tiles.push(used);

        let window = |f: &dyn Fn(i64) -> i64| Windows {
            today: f(today),
            last_7_days: (today - 6..=today).map(f).sum(),
            last_30_days: (today - 29..=today).map(f).sum(),
        };
        let day_added = |d: i64| series(Metric::ContactsAdded).get(&d).copied().unwrap_or(0);
        let day_lost = |d: i64| series(Metric::ContactsLost).get(&d).copied().unwrap_or(0);
        let contacts_added = window(&day_added);
        let net_windows = window(&|d| day_added(d) - day_lost(d));

        let top_channels = if brand {
            self.top_channels(from_day, to_day).await?
        } else {
            Vec::new()
        };
        let guide_keys = match grain {
            Grain::Brand => Some(Keys::All),
            Grain::Store => Some(Keys::GuidesOf(key)),
            Grain::Guide => Some(Keys::One(key)),
            Grain::Channel => None,
        };
        let top_guides = match guide_keys {
            Some(keys) => self.top_guides(from_day, to_day, keys).await?,
            None => Vec::new(),
        };
        let st = store::state(&self.db).await?;
        Ok(DashboardView {
            scope,
            period: DashboardPeriod {
                from: day_label(from_day),
                to: day_label(to_day),
                previous_from: day_label(from_day - len),
                previous_to: day_label(from_day - 1),
                days: (from_day..=to_day).map(day_label).collect(),
            },
            tiles,
            coupon_redemption_bp,
            contacts_added,
            net_adds: net_windows,
            top_channels,
            top_guides,
            freshness: Freshness {
                followed_at: st.followed_at,
                rebuilding: st.requested > st.rebuilt,
            },
        })
    }

    /// The scope as shown, checked: a store or a guide that exists, a guide of the caller's
    /// store for a store manager.
    async fn scope_view(&self, actor: &Actor, grain: Grain, key: i64) -> Result<DashboardScope> {
        Ok(match grain {
            Grain::Store => {
                let name = store::names(&self.db, Named::Stores, &[key]).await?;
                let Some((_, name)) = name.into_iter().next() else {
                    return Err(AppError::NotFound { what: "store" });
                };
                DashboardScope {
                    level: "store",
                    store_id: Some(key),
                    staff_id: None,
                    name,
                }
            }
            Grain::Guide => {
                let Some(store_id) = store::store_of_staff(&self.db, key).await? else {
                    return Err(AppError::NotFound { what: "staff" });
                };
                if let DataScope::Store(mine) = actor.caller.data_scope()
                    && store_id != Some(mine.0)
                {
                    return Err(AppError::Forbidden);
                }
                let name = store::names(&self.db, Named::Staff, &[key]).await?;
                DashboardScope {
                    level: "guide",
                    store_id,
                    staff_id: Some(key),
                    name: name.into_iter().next().map(|(_, n)| n).unwrap_or_default(),
                }
            }
            Grain::Brand | Grain::Channel => DashboardScope {
                level: "brand",
                store_id: None,
                staff_id: None,
                name: String::new(),
            },
        })
    }

    /// The top keys of a grain by adds (then GMV: a guide who only sold is ranked too), with
    /// their losses, orders and GMV over the period.
    async fn top(
        &self,
        grain: Grain,
        from_day: i64,
        to_day: i64,
        keys: Keys,
        named: Named,
    ) -> Result<Vec<(i64, String, [i64; 4])>> {
        const METRICS: [Metric; 4] = [
            Metric::ContactsAdded,
            Metric::ContactsLost,
            Metric::Orders,
            Metric::Gmv,
        ];
        let g = grain.as_str();
        let top = store::ranked(
            &self.db,
            g,
            METRICS[0].as_str(),
            METRICS[3].as_str(),
            from_day,
            to_day,
            keys,
            TOP,
        )
        .await?;
        let ids: Vec<i64> = top.iter().map(|(k, _)| *k).collect();
        let names: HashMap<i64, String> = store::names(&self.db, named, &ids)
            .await?
            .into_iter()
            .collect();
        let metrics: Vec<&str> = METRICS.iter().map(|m| m.as_str()).collect();
        let mut sums: HashMap<(i64, String), i64> = HashMap::new();
        for (k, m, v) in store::sums_of(&self.db, g, &metrics, from_day, to_day, &ids).await? {
            sums.insert((k, m), v);
        }
        Ok(ids
            .into_iter()
            .map(|id| {
                let v =
                    METRICS.map(|m| sums.get(&(id, m.as_str().to_owned())).copied().unwrap_or(0));
                (id, names.get(&id).cloned().unwrap_or_default(), v)
            })
            .collect())
    }

    async fn top_channels(&self, from_day: i64, to_day: i64) -> Result<Vec<TopChannel>> {
        Ok(self
            .top(Grain::Channel, from_day, to_day, Keys::All, Named::Channels)
            .await?
            .into_iter()
            .map(|(id, name, [added, lost, orders, gmv])| TopChannel {
                channel_id: id,
                name,
                contacts_added: added,
                net_adds: added - lost,
                orders,
                gmv_fen: gmv,
            })
            .collect())
    }

    async fn top_guides(&self, from_day: i64, to_day: i64, keys: Keys) -> Result<Vec<TopGuide>> {
        Ok(self
            .top(Grain::Guide, from_day, to_day, keys, Named::Staff)
            .await?
            .into_iter()
            .map(|(id, name, [added, lost, orders, gmv])| TopGuide {
                staff_id: id,
                name,
                contacts_added: added,
                net_adds: added - lost,
                orders,
                gmv_fen: gmv,
            })
            .collect())
    }
}

/// The rollups' loop (unless `analytics.follow` is off): a requested rebuild first, then
/// follow the log, [`BUSY_PAUSE`] after a step that read events, [`IDLE`] after one that
/// read nothing;
/// today and yesterday are recomputed every hour.
pub fn spawn_loop(app: &App) -> tokio::task::JoinHandle<()> {
    let app = app.clone();
    tokio::spawn(async move {
        let mut last_refresh = std::time::Instant::now();
        loop {
            let a = app.analytics();
            if let Err(e) = a.rebuild_if_requested().await {
                tracing::warn!(error = %e, "analytics rebuild");
            }
            if let Err(e) = a.refresh_uplift_if_due().await {
                tracing::warn!(error = %e, "analytics uplift");
            }
            if last_refresh.elapsed() >= std::time::Duration::from_secs(3600) {
                last_refresh = std::time::Instant::now();
                if let Err(e) = a.refresh_recent().await {
                    tracing::warn!(error = %e, "analytics refresh");
                }
            }
            match a.follow().await {
                // A pause between busy steps leaves writers room (a step holds SQLite's
                // writer lock while it recomputes).
                Ok(n) if n > 0 => tokio::time::sleep(BUSY_PAUSE).await,
                Ok(_) => tokio::time::sleep(IDLE).await,
                Err(e) => {
                    tracing::warn!(error = %e, "analytics follower");
                    tokio::time::sleep(IDLE).await;
                }
            }
        }
    })
}

/// The follower's pause while the log brings nothing.
const IDLE: std::time::Duration = std::time::Duration::from_millis(500);
/// The follower's pause after a step that read events.
const BUSY_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_recomputed_in_consecutive_runs() {
        let days: BTreeSet<i64> = [3, 4, 5, 9, 11, 12].into();
        assert_eq!(runs(&days), vec![(3, 5), (9, 9), (11, 12)]);
        assert!(runs(&BTreeSet::new()).is_empty());
        let (a, b) = bounds(10, 10);
        assert_eq!(b - a, DAY_MS);
        assert_eq!(day_of(a), 10);
        assert_eq!(day_of(b - 1), 10);
    }
}
