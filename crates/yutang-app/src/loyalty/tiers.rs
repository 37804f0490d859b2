//! Membership tiers (会员等级): the brand's tier program, each customer's tier, and what moves
//! it.
//!
//! - **Up at once**: the order that qualifies moves its customer up inside the order's own
//!   transaction ([`on_order_in`], after the order row and its points), under the customer's
//!   tier row lock; a replayed order returns before the hook, so it changes nothing. The
//!   first order puts a customer into the program (the lowest tier's threshold is 0).
//! - **Down only after the period**: a tier is held `period_months` from when it was reached
//!   (or last re-qualified), then for `grace_days` more, during which an order that earns it
//!   again holds it for another period. The daily review job ([`REVIEW_KIND`]) takes the
//!   members whose period and grace are over, one transaction each, and moves each down to
//!   the tier their metric earns then (never further), or holds them for another period. A
//!   refund never moves anyone down by itself.
//! - **Benefits**: the member discount, points multiplier (read by the points ledger through
//!   `earning_multiplier_in`) and free-shipping threshold are read by the brand's systems;
//!   the monthly coupon pack and the birthday gift are issued here — once per customer per
//!   Shanghai month (pack) or year (gift, in the birthday month), decided by a
//!   `tier_grants` row and issued with a coupon key per grant, so a re-run never gives twice.
//!
//! Every change is a `tier_history` row and a `tier_changed` timeline entry, which also
//! brings the customer's `tier` / `tier_since` segment attributes up to date.

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::points::PERMILLE;
use yutang_core::loyalty::tiers::{
    self as rules, OnOrder, OnReview, TierMetric, TierProgram, TierSpec,
};
use yutang_core::staff::Permission;
use yutang_store::Tx;
use yutang_store::jobs::NewJob;
use yutang_store::loyalty::tiers::{self as store, TierRow, TierWrite};
pub use yutang_store::loyalty::tiers::{HistoryRow, MemberRow};

use crate::audit::{self, Action, Page, Paged};
use crate::customers::scope_of;
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// Job kind: the daily review (members whose period and grace are over; then every member's
/// monthly pack and birthday gift).
pub const REVIEW_KIND: &str = "tier_review";
/// Job kind: one customer's benefits right after they change tier.
pub const BENEFITS_KIND: &str = "tier_benefits";
/// Members a review pass takes at once.
const BATCH: i64 = 500;

/// The job kinds this area runs (see `crate::job_kinds`).
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(REVIEW_KIND, |app, _job| {
        Box::pin(async move { app.tiers().run_review().await })
    });
    reg.register(BENEFITS_KIND, |app, job| {
        Box::pin(async move { app.tiers().run_benefits_job(&job.payload).await })
    });
}

/// A tier as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TierView {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub rank: i64,
    pub threshold: i64,
    pub discount_percent: i64,
    pub points_multiplier: i64,
    pub monthly_coupon_template_ids: Vec<i64>,
    pub birthday_coupon_template_id: Option<i64>,
    pub free_shipping_threshold_fen: Option<i64>,
    /// Members in the caller's data scope.
    pub members: i64,
}

impl TierView {
    fn of(r: &TierRow, members: i64) -> Self {
        Self {
            id: r.id,
            key: r.tier_key.clone(),
            name: r.name.clone(),
            rank: r.tier_rank,
            threshold: r.threshold,
            discount_percent: r.discount_percent,
            points_multiplier: r.points_multiplier,
            monthly_coupon_template_ids: pack(r),
            birthday_coupon_template_id: r.birthday_coupon_template_id,
            free_shipping_threshold_fen: r.free_shipping_threshold_fen,
            members,
        }
    }
}

/// The program as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramView {
    pub metric: TierMetric,
    pub period_months: i64,
    pub grace_days: i64,
    /// By rank, lowest first. Empty: no program.
    pub tiers: Vec<TierView>,
    /// `null` / `''` before the first save.
    pub updated_at: Option<i64>,
    pub updated_by: String,
}

/// The next tier and what it takes.
#[derive(Debug, Clone, Serialize)]
pub struct NextTier {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub threshold: i64,
    /// Metric still missing (never below 0).
    pub remaining: i64,
    /// 0–100: how far from the current tier's threshold to the next one's.
    pub percent: i64,
}

/// A customer's tier card.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerTierView {
    pub customer_id: i64,
    /// The current tier with its benefits (`members` is 0 here); none: not in the program.
    pub tier: Option<TierView>,
    pub tier_since: Option<i64>,
    /// The tier cannot go down before this (then the grace runs).
    pub held_until: Option<i64>,
    /// When a review can move it down: `held_until` plus the grace.
    pub review_at: Option<i64>,
    pub metric: TierMetric,
    /// The metric over the last 365 days.
    pub metric_value: i64,
    /// None at the top tier or without a program.
    pub next: Option<NextTier>,
    /// Newest first (at most 50).
    pub history: Vec<HistoryRow>,
}

fn pack(r: &TierRow) -> Vec<i64> {
    serde_json::from_str(&r.monthly_coupon_template_ids).unwrap_or_default()
}

fn metric_of(s: Option<&store::SettingsRow>) -> TierMetric {
    s.and_then(|s| TierMetric::parse("metric", &s.metric).ok())
        .unwrap_or_default()
}

const DAY_MS: i64 = 86_400_000;

/// The multiplier of the customer's current tier (×1 when they hold none).
pub async fn multiplier_in(tx: &mut Tx, customer: i64) -> Result<i64> {
    Ok(store::multiplier_in(tx, customer)
        .await?
        .unwrap_or(PERMILLE))
}

/// One change, written: the customer's row, a history row, the timeline entry, and the job
/// that gives the new tier's benefits of this month.
struct Change<'a> {
    customer: i64,
    from: Option<&'a TierRow>,
    to: &'a TierRow,
    direction: &'static str,
    metric: TierMetric,
    value: i64,
    source: String,
    order_id: Option<i64>,
    since: i64,
    held_until: i64,
    /// Whether the customer has a row already (else it is inserted).
    existing: bool,
}

/// `false` when the customer's row appeared concurrently (insert lost): nothing written.
async fn write_change_in(tx: &mut Tx, c: &Change<'_>, now: i64) -> Result<bool> {
    if c.existing {
        store::update_customer_tier_in(tx, c.customer, c.to.id, c.since, c.held_until, now).await?;
    } else if !store::insert_customer_tier_in(tx, c.customer, c.to.id, c.since, c.held_until, now)
        .await?
    {
        return Ok(false);
    }
    let history = store::insert_history_in(
        tx,
        &store::NewHistory {
            customer_id: c.customer,
            from_tier_id: c.from.map(|t| t.id),
            to_tier_id: c.to.id,
            direction: c.direction,
            metric: c.metric.as_str(),
            metric_value: c.value,
            source: &c.source,
        },
        now,
    )
    .await?;
    let detail = serde_json::json!({
        "tier": c.to.name,
        "tier_key": c.to.tier_key,
        "from_tier": c.from.map(|t| t.name.clone()),
        "direction": c.direction,
        "metric": c.metric.as_str(),
        "metric_value": c.value,
        "order_id": c.order_id,
    })
    .to_string();
    yutang_store::events::append_in(tx, c.customer, "tier_changed", now, None, &detail, now)
        .await?;
    let key = format!("{BENEFITS_KIND}:{history}");
    let payload = serde_json::json!({ "customer_id": c.customer }).to_string();
    yutang_store::jobs::enqueue_in(
        tx,
        &NewJob {
            kind: BENEFITS_KIND,
            payload: &payload,
            run_at: now,
            idempotency_key: Some(&key),
            created_by: None,
        },
        now,
    )
    .await?;
    Ok(true)
}

/// The order hook: inside the transaction recording order `order_id` (paid at `paid_at`),
/// move its customer up when the metric as of the order earns a better tier, or hold their
/// tier for another period when the order re-qualifies it after its period. Never down.
pub(crate) async fn on_order_in(
    tx: &mut Tx,
    customer: i64,
    order_id: i64,
    paid_at: i64,
    now: i64,
) -> Result<()> {
    let tiers = store::live_tiers_in(tx).await?;
    if tiers.is_empty() {
        return Ok(());
    }
    let settings = store::settings_in(tx).await?;
    let metric = metric_of(settings.as_ref());
    let period = settings.as_ref().map_or(12, |s| s.period_months);
    // As of the order (an order recorded late counts when it was paid); points are counted
    // when posted, which is now for this order's.
    let at = paid_at.min(now);
    let to = if metric == TierMetric::Points12m {
        now
    } else {
        at
    };
    let thresholds: Vec<i64> = tiers.iter().map(|t| t.threshold).collect();
    // Twice at most: a concurrent first order may put the customer in first.
    for _ in 0..2 {
        let current = store::lock_customer_tier_in(tx, customer).await?;
        // Read under the lock: a concurrent order of the customer that held it has committed,
        // so its amount counts here (read committed: each statement sees what committed).
        let as_of_order =
            store::metric_in(tx, customer, metric.as_str(), to - rules::WINDOW_MS, to).await?;
        // And as of now: orders recorded concurrently (or late) may commit in another order
        // than they were paid, so an order paid after this one, committed before it, counts
        // in neither's window "as of the order" — yet the customer held both now.
        let as_of_now = if now > to {
            store::metric_in(tx, customer, metric.as_str(), now - rules::WINDOW_MS, now).await?
        } else {
            as_of_order
        };
        let (value, at) =
            if rules::earned(&thresholds, as_of_now) > rules::earned(&thresholds, as_of_order) {
                (as_of_now, now)
            } else {
                (as_of_order, at)
            };
        let earned = rules::earned(&thresholds, value);
        let held = current.and_then(|c| tiers.iter().find(|t| t.id == c.tier_id).map(|t| (t, c)));
        // A customer holding a removed tier (none can: a tier with members is never removed)
        // is treated as holding none.
        let decision = rules::on_order(
            held.map(|(t, c)| (t.tier_rank, c.held_until)),
            earned.map(|i| tiers[i].tier_rank),
            at,
        );
        match (decision, held, earned) {
            (OnOrder::Renew, Some((t, c)), _) => {
                store::update_customer_tier_in(
                    tx,
                    customer,
                    t.id,
                    c.tier_since,
                    rules::add_months(at, period),
                    now,
                )
                .await?;
                return Ok(());
            }
            (OnOrder::Upgrade, _, Some(e)) => {
                let change = Change {
                    customer,
                    from: held.map(|(t, _)| t),
                    to: &tiers[e],
                    direction: "upgrade",
                    metric,
                    value,
                    source: format!("order:{order_id}"),
                    order_id: Some(order_id),
                    since: at,
                    held_until: rules::add_months(at, period),
                    existing: current.is_some(),
                };
                if write_change_in(tx, &change, now).await? {
                    return Ok(());
                }
            }
            _ => return Ok(()),
        }
    }
    Err(AppError::Internal(format!(
        "customer {customer}: tier row raced twice"
    )))
}

/// The merge hook: inside the transaction merging `loser` into `survivor` (both customer
/// rows locked, the loser's orders already moved), the survivor keeps the better of the two
/// tiers held — with that tier's `since` and period, so a merge neither resets a member's
/// standing nor extends it — or the tier the combined orders earn now when that is better
/// still. The merged-away customer leaves the program; their history stays.
pub(crate) async fn on_merge_in(tx: &mut Tx, survivor: i64, loser: i64, now: i64) -> Result<()> {
    let (first, second) = (survivor.min(loser), survivor.max(loser));
    let a = store::lock_customer_tier_in(tx, first).await?;
    let b = store::lock_customer_tier_in(tx, second).await?;
    let (kept, gone) = if first == survivor { (a, b) } else { (b, a) };
    let Some(gone) = gone else {
        return Ok(());
    };
    store::remove_customer_tier_in(tx, loser).await?;
    let tiers = store::live_tiers_in(tx).await?;
    let rank_of = |id: i64| tiers.iter().find(|t| t.id == id).map(|t| t.tier_rank);
    let (Some(gone_rank), Some(gone_tier)) = (
        rank_of(gone.tier_id),
        tiers.iter().find(|t| t.id == gone.tier_id),
    ) else {
        return Ok(());
    };
    let kept_tier = kept
        .as_ref()
        .and_then(|k| tiers.iter().find(|t| t.id == k.tier_id));
    let settings = store::settings_in(tx).await?;
    let metric = metric_of(settings.as_ref());
    let period = settings.as_ref().map_or(12, |s| s.period_months);
    let value =
        store::metric_in(tx, survivor, metric.as_str(), now - rules::WINDOW_MS, now).await?;
    let thresholds: Vec<i64> = tiers.iter().map(|t| t.threshold).collect();
    let earned = rules::earned(&thresholds, value).map(|i| &tiers[i]);
    let kept_rank = kept_tier.map_or(i64::MIN, |t| t.tier_rank);
    // The best of: what the survivor held, what the loser held, what the orders earn now.
    let (to, since, held_until) = match earned {
        Some(e) if e.tier_rank > gone_rank.max(kept_rank) => {
            (e, now, rules::add_months(now, period))
        }
        _ if gone_rank > kept_rank => (gone_tier, gone.tier_since, gone.held_until),
        _ => return Ok(()),
    };
    let change = Change {
        customer: survivor,
        from: kept_tier,
        to,
        direction: "upgrade",
        metric,
        value,
        source: format!("merge:{loser}"),
        order_id: None,
        since,
        held_until,
        existing: kept.is_some(),
    };
    write_change_in(tx, &change, now).await?;
    Ok(())
}

/// The use cases of the tier program.
#[derive(Clone, Copy)]
pub struct Tiers<'a>(&'a App);

impl std::ops::Deref for Tiers<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Tiers`].
    pub fn tiers(&self) -> Tiers<'_> {
        Tiers(self)
    }
}

fn manage(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManagePromotions) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn view(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ViewCustomers) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

impl Tiers<'_> {
    /// The program with each tier's members in the caller's data scope (everyone who sees
    /// customers).
    pub async fn program(&self, actor: &Actor) -> Result<ProgramView> {
        view(actor)?;
        let settings = store::settings(&self.db).await?;
        let tiers = store::live_tiers(&self.db).await?;
        let counts = match scope_of(actor) {
            Some(scope) => store::member_counts(&self.db, scope).await?,
            None => vec![],
        };
        let count = |id: i64| counts.iter().find(|(t, _)| *t == id).map_or(0, |c| c.1);
        let defaults = TierProgram::default();
        Ok(ProgramView {
            metric: metric_of(settings.as_ref()),
            period_months: settings
                .as_ref()
                .map_or(defaults.period_months, |s| s.period_months),
            grace_days: settings
                .as_ref()
                .map_or(defaults.grace_days, |s| s.grace_days),
            tiers: tiers.iter().map(|t| TierView::of(t, count(t.id))).collect(),
            updated_at: settings.as_ref().map(|s| s.updated_at).filter(|t| *t > 0),
            updated_by: settings.map(|s| s.updated_by).unwrap_or_default(),
        })
    }

    /// Replace the whole program (operators and admins; audited). Tiers are matched by key:
    /// a key not sent is removed from the program, refused while anyone holds it
    /// (`tier_has_members`). Members keep their tier until their next order or review.
    pub async fn save_program(&self, actor: &Actor, program: TierProgram) -> Result<ProgramView> {
        manage(actor)?;
        let p = program.parse()?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        store::lock_settings_in(&mut tx).await?;
        let templates: Vec<i64> = p
            .tiers
            .iter()
            .flat_map(|t| {
                t.monthly_coupon_template_ids
                    .iter()
                    .copied()
                    .chain(t.birthday_coupon_template_id)
            })
            .collect();
        if let Some(id) = store::missing_template_in(&mut tx, &templates).await? {
            let in_pack = p
                .tiers
                .iter()
                .any(|t| t.monthly_coupon_template_ids.contains(&id));
            return Err(FieldError::new(
                if in_pack {
                    "tiers.monthly_coupon_template_ids"
                } else {
                    "tiers.birthday_coupon_template_id"
                },
                "unknown_reference",
                format!("no coupon template {id}"),
            )
            .into());
        }
        let before = store::live_tiers_in(&mut tx).await?;
        for old in &before {
            if p.tiers.iter().all(|t| t.key != old.tier_key) {
                if store::holders_in(&mut tx, old.id).await? > 0 {
                    return Err(AppError::Rule {
                        code: "tier_has_members",
                        message: format!(
                            "tier {:?} still has members: keep it (change its benefits) instead",
                            old.name
                        ),
                    });
                }
                store::archive_tier_in(&mut tx, old.id, now).await?;
            }
        }
        for t in &p.tiers {
            let pack = serde_json::to_string(&t.monthly_coupon_template_ids)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            store::upsert_tier_in(&mut tx, &write_of(t, &pack), now).await?;
        }
        store::save_settings_in(
            &mut tx,
            p.metric.as_str(),
            p.period_months,
            p.grace_days,
            now,
            &actor.name,
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::TierProgramChanged,
            "tier_program",
            &serde_json::json!({
                "metric": p.metric.as_str(),
                "period_months": p.period_months,
                "grace_days": p.grace_days,
                "tiers": p.tiers.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        self.program(actor).await
    }

    /// A tier's members in the caller's data scope (a guide: the customers they follow),
    /// newest in the tier first.
    pub async fn members(&self, actor: &Actor, tier: i64, page: Page) -> Result<Paged<MemberRow>> {
        view(actor)?;
        store::tier(&self.db, tier)
            .await?
            .ok_or(AppError::NotFound { what: "tier" })?;
        let Some(scope) = scope_of(actor) else {
            return Ok(Paged {
                items: vec![],
                total: 0,
                page: page.number,
                page_size: page.size,
            });
        };
        let (items, total) =
            store::members(&self.db, tier, scope, page.size, page.offset()).await?;
        Ok(Paged {
            items,
            total,
            page: page.number,
            page_size: page.size,
        })
    }

    /// A customer's tier card: the tier with its benefits, the metric, the progress to the
    /// next tier and the history (customers the caller sees).
    pub async fn customer_tier(&self, actor: &Actor, id: CustomerId) -> Result<CustomerTierView> {
        let id = self.customers().visible_customer(actor, id).await?;
        self.tier_of(id).await
    }

    /// The same view of the customer a customer token names (the member centre).
    pub async fn tier_of(&self, id: CustomerId) -> Result<CustomerTierView> {
        let id = id.0;
        let now = self.now();
        let settings = store::settings(&self.db).await?;
        let metric = metric_of(settings.as_ref());
        let grace = settings.as_ref().map_or(30, |s| s.grace_days);
        let tiers = store::live_tiers(&self.db).await?;
        let row = store::customer_tier(&self.db, id).await?;
        let value =
            store::metric(&self.db, id, metric.as_str(), now - rules::WINDOW_MS, now).await?;
        let current = match row {
            Some(r) => match tiers.iter().find(|t| t.id == r.tier_id) {
                Some(t) => Some(t.clone()),
                None => store::tier(&self.db, r.tier_id).await?,
            },
            None => None,
        };
        let next = tiers
            .iter()
            .find(|t| current.as_ref().is_none_or(|c| t.tier_rank > c.tier_rank))
            .map(|n| {
                let from = current.as_ref().map_or(0, |c| c.threshold);
                let (remaining, percent) = rules::progress(value, from, n.threshold);
                NextTier {
                    id: n.id,
                    key: n.tier_key.clone(),
                    name: n.name.clone(),
                    threshold: n.threshold,
                    remaining,
                    percent,
                }
            });
        Ok(CustomerTierView {
            customer_id: id,
            tier: current.as_ref().map(|t| TierView::of(t, 0)),
            tier_since: row.map(|r| r.tier_since),
            held_until: row.map(|r| r.held_until),
            review_at: row.map(|r| r.held_until + grace * DAY_MS),
            metric,
            metric_value: value,
            next,
            history: store::history(&self.db, id, 50).await?,
        })
    }

    /// Queue today's review (Asia/Shanghai day) unless it is queued already; the minute tick
    /// calls this, so every node may and only one review a day runs.
    pub async fn schedule_review(&self) -> Result<()> {
        let now = self.now();
        let day = crate::acquisition::shanghai_day(now);
        let key = format!("{REVIEW_KIND}:{day}");
        yutang_store::jobs::enqueue(
            &self.db,
            &NewJob {
                kind: REVIEW_KIND,
                payload: "{}",
                run_at: now,
                idempotency_key: Some(&key),
                created_by: None,
            },
            now,
        )
        .await?;
        Ok(())
    }

    /// The review: every member whose period and grace are over is held for another period
    /// or moved down to the tier their metric earns now; then every member's benefits of
    /// this month. Re-runs are harmless: a member reviewed is held until a later date, and
    /// each benefit is given once per period.
    pub async fn run_review(&self) -> Result<String> {
        let tiers = store::live_tiers(&self.db).await?;
        if tiers.is_empty() {
            return Ok("no tier program".into());
        }
        let settings = store::settings(&self.db).await?;
        let grace = settings.as_ref().map_or(30, |s| s.grace_days);
        let (mut renewed, mut down) = (0, 0);
        loop {
            let now = self.now();
            let due = store::due(&self.db, now - grace * DAY_MS, BATCH).await?;
            if due.is_empty() {
                break;
            }
            for c in &due {
                match self.review_one(*c).await? {
                    Some(true) => down += 1,
                    Some(false) => renewed += 1,
                    None => {}
                }
            }
            if (due.len() as i64) < BATCH {
                break;
            }
        }
        let mut after = 0;
        let mut given = 0;
        // Nothing to give: no pass over the members.
        let gifts = tiers
            .iter()
            .any(|t| !pack(t).is_empty() || t.birthday_coupon_template_id.is_some());
        if gifts {
            loop {
                let page = store::members_after(&self.db, after, BATCH).await?;
                for c in &page {
                    given += self.give_benefits(*c).await?;
                }
                match page.last() {
                    Some(last) if (page.len() as i64) == BATCH => after = *last,
                    _ => break,
                }
            }
        }
        Ok(format!(
            "{down} moved down, {renewed} held for another period, {given} coupon sets given"
        ))
    }

    /// Review one member under their row lock. `Some(true)`: moved down; `Some(false)`: held
    /// for another period; `None`: not due any more (an order renewed them meanwhile).
    async fn review_one(&self, customer: i64) -> Result<Option<bool>> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let tiers = store::live_tiers_in(&mut tx).await?;
        let settings = store::settings_in(&mut tx).await?;
        let metric = metric_of(settings.as_ref());
        let period = settings.as_ref().map_or(12, |s| s.period_months);
        let grace = settings.as_ref().map_or(30, |s| s.grace_days);
        let Some(row) = store::lock_customer_tier_in(&mut tx, customer).await? else {
            return Ok(None);
        };
        if !rules::review_due(row.held_until, grace, now) {
            return Ok(None);
        }
        let value = store::metric_in(
            &mut tx,
            customer,
            metric.as_str(),
            now - rules::WINDOW_MS,
            now,
        )
        .await?;
        let thresholds: Vec<i64> = tiers.iter().map(|t| t.threshold).collect();
        let ranks: Vec<i64> = tiers.iter().map(|t| t.tier_rank).collect();
        let held = tiers.iter().find(|t| t.id == row.tier_id);
        let rank = held.map_or(i64::MAX, |t| t.tier_rank);
        let outcome = match rules::on_review(rank, &ranks, rules::earned(&thresholds, value)) {
            OnReview::Renew => {
                store::update_customer_tier_in(
                    &mut tx,
                    customer,
                    row.tier_id,
                    row.tier_since,
                    rules::add_months(now, period),
                    now,
                )
                .await?;
                false
            }
            OnReview::Downgrade(i) => {
                let from = match held {
                    Some(t) => Some(t.clone()),
                    None => store::tier(&self.db, row.tier_id).await?,
                };
                let change = Change {
                    customer,
                    from: from.as_ref(),
                    to: &tiers[i],
                    direction: "downgrade",
                    metric,
                    value,
                    source: "review".into(),
                    order_id: None,
                    since: now,
                    held_until: rules::add_months(now, period),
                    existing: true,
                };
                write_change_in(&mut tx, &change, now).await?;
                true
            }
        };
        tx.commit().await?;
        Ok(Some(outcome))
    }

    async fn run_benefits_job(&self, payload: &str) -> Result<String> {
        let v: serde_json::Value = serde_json::from_str(payload)
            .map_err(|e| AppError::Internal(format!("tier benefits payload: {e}")))?;
        let customer = v["customer_id"]
            .as_i64()
            .ok_or_else(|| AppError::Internal("tier benefits job without customer_id".into()))?;
        let n = self.give_benefits(customer).await?;
        Ok(format!("{n} coupon sets given"))
    }

    /// Give a member this month's coupon pack and, in their birthday month, this year's
    /// birthday gift — each once: the grant row decides the tier and templates the first
    /// time, and each coupon is issued under a key of the grant, so a re-run (or a crash
    /// between the grant and the coupons) issues only what is missing. Returns the coupon
    /// sets issued now or before for these grants; a template that cannot be issued (archived,
    /// out of stock, over its per-customer limit) is skipped.
    pub async fn give_benefits(&self, customer: i64) -> Result<usize> {
        let now = self.now();
        let month = rules::shanghai_month(now);
        let (year, month_no) = rules::shanghai_year_month(now);
        let mut tx = self.db.begin().await?;
        let Some(row) = store::customer_tier_in(&mut tx, customer).await? else {
            return Ok(0);
        };
        let Some(tier) = store::tier(&self.db, row.tier_id).await? else {
            return Ok(0);
        };
        let mut grants: Vec<(String, Vec<i64>)> = Vec::new();
        let pack_ids = pack(&tier);
        if !pack_ids.is_empty() {
            let json = serde_json::to_string(&pack_ids).unwrap_or_else(|_| "[]".into());
            let (_, stood) =
                store::grant_in(&mut tx, customer, "monthly", &month, tier.id, &json, now).await?;
            let ids: Vec<i64> = serde_json::from_str(&stood).unwrap_or_default();
            grants.push((format!("tier_pack:{customer}:{month}"), ids));
        }
        if let Some(gift) = tier.birthday_coupon_template_id
            && store::birthday_in(&mut tx, customer)
                .await?
                .is_some_and(|b| rules::birthday_in_month(&b, month_no))
        {
            let period = year.to_string();
            let json = format!("[{gift}]");
            let (_, stood) =
                store::grant_in(&mut tx, customer, "birthday", &period, tier.id, &json, now)
                    .await?;
            let ids: Vec<i64> = serde_json::from_str(&stood).unwrap_or_default();
            grants.push((format!("tier_birthday:{customer}:{period}"), ids));
        }
        tx.commit().await?;
        let mut n = 0;
        for (prefix, ids) in grants {
            for (i, template) in ids.into_iter().enumerate() {
                let key = format!("{prefix}:{i}:{template}");
                match self
                    .coupons()
                    .issue_reward(template, CustomerId(customer), &key)
                    .await
                {
                    Ok(_) => n += 1,
                    Err(
                        e @ (AppError::Rule { .. }
                        | AppError::Invalid(_)
                        | AppError::NotFound { .. }),
                    ) => {
                        tracing::warn!(customer, template, error = %e, "tier benefit not issued");
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(n)
    }
}

fn write_of<'a>(t: &'a TierSpec, pack: &'a str) -> TierWrite<'a> {
    TierWrite {
        key: &t.key,
        name: &t.name,
        rank: t.rank,
        threshold: t.threshold,
        discount_percent: t.discount_percent,
        points_multiplier: t.points_multiplier,
        monthly_coupon_template_ids: pack,
        birthday_coupon_template_id: t.birthday_coupon_template_id,
        free_shipping_threshold_fen: t.free_shipping_threshold_fen,
    }
}
