//! Member gifts (会员礼): brand-wide birthday and anniversary gifts — a coupon template,
//! points and/or a stored-value gift — given by the daily `member_gifts` job once per
//! customer per rule per Shanghai year.
//!
//! The birthday is `customers.birthday`; the anniversary is that of the day the customer
//! joined the pool (`customers.created_at`, Asia/Shanghai date), from the first anniversary
//! on. A rule in `month` mode gives in the month (the first run of the month), in `day` mode
//! on the day itself. The grant row (`{kind}:{customer}:{year}:{rule}`, unique) is written in
//! the same transaction as the points and stored value it gives, so a re-run — or a run
//! killed half way and started again — gives nothing twice; its coupon is issued after the
//! commit under a key of the grant, and a later run issues any coupon a crash left out.
//!
//! This is separate from the tiers' birthday coupon (`tiers.birthday_coupon_template_id`,
//! given by the tier review to members of that tier): both may apply to one customer.

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::loyalty::stored_value::{self as rules, GiftKind, GiftMode};
use yutang_core::staff::Permission;
use yutang_store::jobs::{self as job_store, NewJob};
use yutang_store::loyalty::stored_value::{self as store, MemberGiftRuleRow};

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::{Actor, App};

pub use store::{GrantRow, MemberGiftRuleRow as RuleRow, MyGrantRow as MyGiftRow};

/// The daily gifts run's job kind.
pub const GIFTS_KIND: &str = "member_gifts";
/// Customers read per batch by the run.
const BATCH: i64 = 500;
/// The gifts a customer sees in the member centre (the latest; a few a year at most).
const MY_GIFTS: i64 = 50;

/// The job kinds this area runs (see `crate::job_kinds`).
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(GIFTS_KIND, |app, job| {
        Box::pin(async move { app.gifts().run(job.id).await })
    });
}

/// A member gift rule's request.
#[derive(Debug, Clone)]
pub struct RuleInput {
    pub name: String,
    pub kind: String,
    pub mode: String,
    pub coupon_template_id: Option<i64>,
    pub points: i64,
    pub gift_fen: i64,
    pub active: bool,
}

/// What a run gave.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RunOutcome {
    pub customers: i64,
    pub granted: i64,
    pub coupons: i64,
}

pub struct Gifts<'a>(&'a App);

impl std::ops::Deref for Gifts<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of member gifts (会员礼).
    pub fn gifts(&self) -> Gifts<'_> {
        Gifts(self)
    }
}

fn manage(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManageCustomers) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

impl Gifts<'_> {
    /// The rules (whoever sees customers).
    pub async fn rules(&self, actor: &Actor) -> Result<Vec<RuleRow>> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        Ok(store::member_rules(&self.db).await?)
    }

    /// Create (`id` none) or replace a rule (admin, operator; audited).
    pub async fn save_rule(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: &RuleInput,
    ) -> Result<(RuleRow, bool)> {
        manage(actor)?;
        let name = rules::parse_name(&input.name)?;
        let kind = GiftKind::parse(&input.kind).ok_or_else(|| {
            FieldError::new(
                "kind",
                "invalid_gift_kind",
                "kind is birthday or anniversary",
            )
        })?;
        let mode = GiftMode::parse(&input.mode)
            .ok_or_else(|| FieldError::new("mode", "invalid_gift_mode", "mode is month or day"))?;
        rules::check_reward(input.coupon_template_id, input.points, input.gift_fen)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        super::stored_value::check_template_in(&mut tx, input.coupon_template_id).await?;
        let write = store::MemberRuleWrite {
            name,
            kind: kind.as_str().into(),
            mode: mode.as_str().into(),
            coupon_template_id: input.coupon_template_id,
            points: input.points,
            gift_fen: input.gift_fen,
            status: if input.active { "active" } else { "archived" }.into(),
        };
        let (rid, before) = match id {
            Some(id) => {
                let before = store::member_rule_in(&mut tx, id)
                    .await?
                    .ok_or(AppError::NotFound { what: "gift rule" })?;
                store::update_member_rule_in(&mut tx, id, &write, now).await?;
                (id, Some(before))
            }
            None => (
                store::insert_member_rule_in(&mut tx, &write, now).await?,
                None,
            ),
        };
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MemberGiftsChanged,
            &format!("member_gift_rule:{rid}"),
            &serde_json::json!({"op": if before.is_some() { "rule.update" } else { "rule.create" },
                "before": before, "name": write.name, "kind": write.kind, "mode": write.mode,
                "coupon_template_id": write.coupon_template_id, "points": write.points,
                "gift_fen": write.gift_fen, "status": write.status})
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok((store::member_rule(&self.db, rid).await?, id.is_none()))
    }

    /// Archive a rule: it stops giving; its grants stay.
    pub async fn archive_rule(&self, actor: &Actor, id: i64) -> Result<RuleRow> {
        manage(actor)?;
        let r: MemberGiftRuleRow = store::member_rule(&self.db, id)
            .await
            .map_err(AppError::not_found("gift rule"))?;
        let input = RuleInput {
            name: r.name,
            kind: r.kind,
            mode: r.mode,
            coupon_template_id: r.coupon_template_id,
            points: r.points,
            gift_fen: r.gift_fen,
            active: false,
        };
        Ok(self.save_rule(actor, Some(id), &input).await?.0)
    }

    /// The latest grants (HQ roles that see metrics: it lists customers brand-wide).
    pub async fn grants(&self, actor: &Actor, limit: i64) -> Result<Vec<GrantRow>> {
        if !actor.can(Permission::ViewMetrics) {
            return Err(AppError::Forbidden);
        }
        Ok(store::grants(&self.db, None, limit.clamp(1, 200)).await?)
    }

    /// The gifts given to a customer, newest first, with the rule's and the coupon's names
    /// (member centre; the customer's own token, so no actor).
    pub async fn my_gifts(&self, customer: yutang_core::ids::CustomerId) -> Result<Vec<MyGiftRow>> {
        Ok(store::grants_of_customer(&self.db, customer.0, MY_GIFTS).await?)
    }

    /// Start a run now (admin, operator; audited); one per minute at most.
    pub async fn start_run(&self, actor: &Actor) -> Result<i64> {
        manage(actor)?;
        let now = self.now();
        let key = format!("{GIFTS_KIND}:manual:{}", now / 60_000);
        let id = self.enqueue(&key, actor.actor_id(), now).await?;
        audit::record(
            self,
            actor,
            Action::MemberGiftsChanged,
            &format!("job:{id}"),
            &serde_json::json!({"op": "run", "job_id": id}).to_string(),
        )
        .await?;
        Ok(id)
    }

    /// Queue today's run (from the minute tick; once per Shanghai day).
    pub async fn schedule_daily(&self) -> Result<i64> {
        let now = self.now();
        let day = crate::acquisition::shanghai_day(now);
        self.enqueue(&format!("{GIFTS_KIND}:{day}"), None, now)
            .await
    }

    async fn enqueue(&self, key: &str, by: Option<i64>, now: i64) -> Result<i64> {
        Ok(job_store::enqueue(
            &self.db,
            &NewJob {
                kind: GIFTS_KIND,
                payload: "{}",
                run_at: now,
                idempotency_key: Some(key),
                created_by: by,
            },
            now,
        )
        .await?)
    }

    /// The run: every live customer, in batches of 500 by id, gets each active rule due today
    /// once this year; then any coupon a grant still owes is issued.
    pub async fn run(&self, job_id: i64) -> Result<String> {
        let out = self.run_now(Some(job_id)).await?;
        Ok(serde_json::to_string(&out).unwrap_or_default())
    }

    /// The run's body (also called by tests without a job).
    pub async fn run_now(&self, job_id: Option<i64>) -> Result<RunOutcome> {
        let now = self.now();
        let today = rules::shanghai_date(now)
            .ok_or_else(|| AppError::Internal(format!("no Shanghai date for {now}")))?;
        let year = chrono::Datelike::year(&today);
        let live: Vec<RuleRow> = store::member_rules(&self.db)
            .await?
            .into_iter()
            .filter(|r| r.status == "active")
            .collect();
        let mut out = RunOutcome::default();
        let mut after = 0i64;
        if !live.is_empty() {
            loop {
                let page = store::customers_after(&self.db, after, BATCH).await?;
                let Some(last) = page.last() else { break };
                after = last.0;
                for (customer, created_at, birthday) in &page {
                    out.customers += 1;
                    let joined = rules::shanghai_date(*created_at);
                    for r in &live {
                        let mode = GiftMode::parse(&r.mode).unwrap_or(GiftMode::Month);
                        let due = match GiftKind::parse(&r.kind) {
                            Some(GiftKind::Birthday) => birthday
                                .as_deref()
                                .is_some_and(|b| rules::birthday_due(b, today, mode)),
                            Some(GiftKind::Anniversary) => {
                                joined.is_some_and(|j| rules::anniversary_due(j, today, mode))
                            }
                            None => false,
                        };
                        if due && self.grant(*customer, r, year, now).await? {
                            out.granted += 1;
                        }
                    }
                }
                if let Some(job) = job_id {
                    job_store::progress(
                        &self.db,
                        job,
                        out.customers,
                        out.customers,
                        self.now(),
                        crate::jobs::LEASE_MS,
                    )
                    .await?;
                }
                if (page.len() as i64) < BATCH {
                    break;
                }
            }
        }
        loop {
            let owed = store::grants_missing_coupon(&self.db, BATCH).await?;
            if owed.is_empty() {
                break;
            }
            for g in &owed {
                if let Some(t) = g.coupon_template_id
                    && self
                        .stored_value()
                        .issue_gift_coupon(t, g.customer_id, &format!("member_gift:{}", g.id))
                        .await?
                {
                    out.coupons += 1;
                }
                // Issued now, before, or not issuable (archived, out of stock): done either way.
                store::set_coupon_done(&self.db, g.id).await?;
            }
            if (owed.len() as i64) < BATCH {
                break;
            }
        }
        Ok(out)
    }

    /// Grant one rule to one customer for `year` unless granted before: the grant row, its
    /// stored-value gift and its points in one transaction. `true` when granted now.
    async fn grant(&self, customer: i64, r: &RuleRow, year: i32, now: i64) -> Result<bool> {
        let kind = GiftKind::parse(&r.kind).unwrap_or(GiftKind::Birthday);
        let key = rules::grant_key(kind, customer, year, r.id);
        let mut tx = self.db.begin().await?;
        let (g, created) = store::grant_in(
            &mut tx,
            &store::NewGrant {
                key: &key,
                rule_id: r.id,
                customer_id: customer,
                kind: kind.as_str(),
                year: i64::from(year),
                coupon_template_id: r.coupon_template_id,
                points: r.points,
                gift_fen: r.gift_fen,
            },
            now,
        )
        .await?;
        if !created {
            return Ok(false);
        }
        let sid = g.id.to_string();
        if g.gift_fen > 0 {
            let ekey = format!("member_gift:{}", g.id);
            super::stored_value::gift_in(
                &mut tx,
                customer,
                g.gift_fen,
                &super::stored_value::Cause {
                    key: &ekey,
                    fingerprint: "",
                    source_type: kind.as_str(),
                    source_id: &sid,
                    reason: &r.name,
                    actor: "system",
                },
                now,
            )
            .await?;
        }
        super::stored_value::gift_points_in(
            &mut tx,
            customer,
            g.points,
            &format!("gift:member:{}", g.id),
            &sid,
            "system",
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
