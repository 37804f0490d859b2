//! Coupon templates and coupons: staff templates, issuing (one customer, or a segment as a
//! job with progress), redemption and revocation, and the public claim and "my coupons".

use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::money::Fen;
use yutang_core::promotions::coupons::{
    CouponEvent, CouponState, OrderFacts, TemplateSpec, redeem, transition,
};
use yutang_core::promotions::{Campaign, PromoRefusal, check_limit};
use yutang_core::staff::Permission;
use yutang_core::time::Millis;
use yutang_store::StoreError;
use yutang_store::jobs::{self as job_store, NewJob};
use yutang_store::promotions::{
    self as store, CampaignTable, Claimed, CouponClaim, CouponRow, Idem, NewCoupon, Publication,
    Removal, TemplateRow, TemplateStats, TemplateWrite,
};

use super::{
    ISSUE_KIND, Publish, bad_record, campaign, closed, created_in, event_in, manage, refusal, view,
};
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// Customers per progress report in an issue job.
const ISSUE_CHUNK: usize = 200;

/// A template with its parsed spec and counts.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateView {
    pub row: TemplateRow,
    pub spec: TemplateSpec,
    pub stats: Option<TemplateStats>,
}

impl TemplateView {
    /// Used coupons over claimed coupons, in per mille.
    pub fn conversion_permille(&self) -> i64 {
        match &self.stats {
            Some(s) if s.coupons > 0 => s.used * 1000 / s.coupons,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CouponView {
    pub row: CouponRow,
    pub spec: TemplateSpec,
}

/// What an issue job carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IssueJob {
    template_id: i64,
    customers: Vec<i64>,
    staff_id: Option<i64>,
}

/// Summary of an issue job.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct IssueSummary {
    pub issued: i64,
    pub skipped: i64,
}

/// The coupon use cases: templates, issuing (to customers or a segment), claiming, redeeming
/// and revoking coupons, and a customer's coupons.
#[derive(Clone, Copy)]
pub struct Coupons<'a>(&'a App);

impl std::ops::Deref for Coupons<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Coupons`].
    pub fn coupons(&self) -> Coupons<'_> {
        Coupons(self)
    }
}

impl Coupons<'_> {
    // --- coupon templates (staff) ---

    /// Create one, open to customers from its window on.
    pub async fn create_coupon_template(&self, actor: &Actor, spec: TemplateSpec) -> Result<i64> {
        self.create_coupon_template_as(actor, spec, Publish::Now)
            .await
    }

    /// Create one, as a draft (closed and invisible to customers until published) or open.
    pub async fn create_coupon_template_as(
        &self,
        actor: &Actor,
        spec: TemplateSpec,
        publish: Publish,
    ) -> Result<i64> {
        manage(actor)?;
        let spec = spec.parse()?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let (staff, now) = (actor.staff_id().map(|s| s.0), self.now());
        let op = (
            "coupon_template.create",
            "coupon_template",
            spec.name.as_str(),
        );
        self.promotions()
            .write_campaign(actor, &spec.audience, op, async |tx| {
                let id = store::create_template_in(tx, &template_write(&spec, &json), staff, now)
                    .await?;
                created_in(tx, CampaignTable::CouponTemplates, id, publish).await
            })
            .await
    }

    pub async fn update_coupon_template(
        &self,
        actor: &Actor,
        id: i64,
        spec: TemplateSpec,
    ) -> Result<()> {
        manage(actor)?;
        let spec = spec.parse()?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let now = self.now();
        let op = (
            "coupon_template.update",
            "coupon_template",
            spec.name.as_str(),
        );
        self.promotions()
            .write_campaign(actor, &spec.audience, op, async |tx| {
                store::update_template_in(tx, id, &template_write(&spec, &json), now)
                    .await
                    .map_err(AppError::not_found("coupon template"))?;
                Ok(id)
            })
            .await?;
        Ok(())
    }

    /// Publish a draft: it opens to customers from its window on (audited); publishing it
    /// again changes nothing; an archived one cannot be opened (`promotion_inactive`).
    pub async fn publish_coupon_template(&self, actor: &Actor, id: i64) -> Result<Publication> {
        self.promotions()
            .publish_campaign(
                actor,
                CampaignTable::CouponTemplates,
                id,
                ("coupon_template", "coupon template"),
            )
            .await
    }

    /// Remove a template: archived when anyone claimed (or was issued) it, so its coupons
    /// stay usable and its statistics stay; deleted when nobody did. Nobody can claim either.
    pub async fn delete_coupon_template(&self, actor: &Actor, id: i64) -> Result<Removal> {
        self.promotions()
            .remove_campaign(
                actor,
                CampaignTable::CouponTemplates,
                id,
                ("coupon_template", "coupon template"),
            )
            .await
    }

    fn template_view(row: TemplateRow, stats: Option<TemplateStats>) -> Result<TemplateView> {
        let spec = serde_json::from_str(&row.spec).map_err(bad_record)?;
        Ok(TemplateView { row, spec, stats })
    }

    /// Every template, active and archived (`row.status`), newest first.
    pub async fn coupon_templates(&self, actor: &Actor) -> Result<Vec<TemplateView>> {
        view(actor)?;
        let stats = store::template_stats(&self.db).await?;
        store::list_templates(&self.db, true)
            .await?
            .into_iter()
            .map(|r| {
                let s = stats.iter().find(|s| s.template_id == r.id).cloned();
                Self::template_view(r, s)
            })
            .collect()
    }

    pub async fn coupon_template(&self, actor: &Actor, id: i64) -> Result<TemplateView> {
        view(actor)?;
        let row = store::get_template(&self.db, id)
            .await
            .map_err(AppError::not_found("coupon template"))?;
        let stats = store::template_stats(&self.db)
            .await?
            .into_iter()
            .find(|s| s.template_id == id);
        Self::template_view(row, stats)
    }

    /// Write one claimed set: the coupons' validity from the template at `now`. In one
    /// transaction ([`Self::claim_in`]): the template is read under its row lock and core
    /// decides (the claim window for a customer's claim, none for a staff issue; the stock;
    /// the per-customer limit), then the claim, its coupons and their expiry and reminder
    /// timers are written.
    async fn write_claim(
        &self,
        t: &TemplateView,
        customer: CustomerId,
        source: &str,
        idem: Option<Idem<'_>>,
        staff: Option<i64>,
    ) -> Result<(Claimed, bool)> {
        let now = self.now();
        self.promotions()
            .write_once(customer, idem, async |tx| {
                self.claim_in(tx, t, customer, source, staff, now).await
            })
            .await
    }

    /// One claimed set of `t` for `customer`, written inside the caller's transaction (a
    /// claim, a staff issue, a points-mall exchange): refused like a claim when the template's
    /// rules say no, and then the caller's whole transaction is rolled back.
    pub(crate) async fn claim_in(
        &self,
        tx: &mut yutang_store::Tx,
        t: &TemplateView,
        customer: CustomerId,
        source: &str,
        staff: Option<i64>,
        now: i64,
    ) -> Result<Claimed> {
        let w = t.spec.validity.window(Millis(now));
        if w.ends_at.0 <= now {
            return Err(refusal(PromoRefusal::CouponNotValidNow));
        }
        let coupons: Vec<NewCoupon> = (0..t.spec.steps.len())
            .map(|i| NewCoupon {
                step: i as i64,
                valid_from: w.starts_at.0,
                valid_until: w.ends_at.0,
            })
            .collect();
        let remind_hours = i64::from(t.spec.remind_hours_before);
        let claim = CouponClaim {
            template_id: t.row.id,
            customer_id: customer.0,
            source,
        };
        let promotions = self.promotions();
        let row = store::lock_template_in(tx, claim.template_id)
            .await?
            .ok_or(AppError::NotFound {
                what: "coupon template",
            })?;
        template_campaign(&row, source == "claim")
            .check_take(Millis(now))
            .map_err(refusal)?;
        let held = store::claim_count_in(tx, row.id, customer.0).await?;
        check_limit(held, row.per_customer).map_err(refusal)?;
        if !store::take_unit_in(tx, CampaignTable::CouponTemplates, row.id).await? {
            return Err(refusal(PromoRefusal::OutOfStock));
        }
        let claim_id = store::insert_claim_in(tx, &claim, held + 1, now).await?;
        let mut ids = Vec::with_capacity(coupons.len());
        for nc in &coupons {
            let id = store::insert_coupon_in(tx, claim_id, &claim, nc, now).await?;
            let key = format!("coupon_expire:{id}");
            promotions
                .timer_in(tx, store::JOB_COUPON_EXPIRE, id, nc.valid_until, &key)
                .await?;
            let remind_at = nc.valid_until - remind_hours * 3_600_000;
            if remind_hours > 0 && remind_at > now {
                let key = format!("coupon_remind:{id}");
                promotions
                    .timer_in(tx, store::JOB_COUPON_REMIND, id, remind_at, &key)
                    .await?;
            }
            ids.push(id);
        }
        event_in(
            tx,
            customer.0,
            "coupon_claimed",
            staff,
            serde_json::json!({
                "template_id": row.id, "claim_id": claim_id, "coupon_ids": ids, "source": source,
            }),
            now,
        )
        .await?;
        Ok(Claimed {
            claim_id,
            coupon_ids: ids,
        })
    }

    /// Issue one set of a template to a customer (staff; no claim window, no audience check).
    pub async fn issue_coupon(
        &self,
        actor: &Actor,
        template: i64,
        customer: CustomerId,
    ) -> Result<Claimed> {
        manage(actor)?;
        let t = self.coupon_template(actor, template).await?;
        if t.row.status != "active" {
            return Err(closed(&t.row.status));
        }
        let (c, _) = self
            .write_claim(&t, customer, "issue", None, actor.staff_id().map(|s| s.0))
            .await?;
        Ok(c)
    }

    /// A guide (or anyone but an analyst) gives one customer in their scope one set of an
    /// active template, from the chat sidebar (导购发券, [`Permission::IssueCoupons`]). The
    /// template's limits apply as to any issue; the claim records the giver. With an
    /// `Idempotency-Key`, a retry (a double tap) answers the first issue (`true`: replayed).
    pub async fn issue_by_guide(
        &self,
        actor: &Actor,
        template: i64,
        customer: CustomerId,
        idempotency_key: Option<&str>,
    ) -> Result<(Claimed, bool)> {
        if !actor.can(Permission::IssueCoupons) {
            return Err(AppError::Forbidden);
        }
        let live = self.customers().visible_customer(actor, customer).await?;
        let staff = actor.staff_id().map(|s| s.0);
        let promotions = self.promotions();
        let (write, replayed) = promotions
            .public_write(
                "coupon_issue",
                live,
                idempotency_key,
                &[&template.to_string(), &staff.unwrap_or(0).to_string()],
            )
            .await?;
        if let Some(r) = replayed {
            return Ok((r, true));
        }
        let row = store::get_template(&self.db, template)
            .await
            .map_err(AppError::not_found("coupon template"))?;
        let t = Self::template_view(row, None)?;
        if t.row.status != "active" {
            return Err(closed(&t.row.status));
        }
        self.write_claim(&t, live, "issue", write.idem(), staff)
            .await
    }

    /// Issue one set of a template as a reward (a first-add reward, a referral), at most
    /// once per `key` for the customer: a second call with the same key answers the first
    /// claim. Refused like a staff issue when the template is a draft or archived.
    pub(crate) async fn issue_reward(
        &self,
        template: i64,
        customer: CustomerId,
        key: &str,
    ) -> Result<Claimed> {
        let t = self.coupon_template(&Actor::system(), template).await?;
        let idem = Idem {
            key,
            fingerprint: key,
        };
        if let Some(r) = self.promotions().replay(customer, Some(idem)).await? {
            return Ok(r);
        }
        if t.row.status != "active" {
            return Err(closed(&t.row.status));
        }
        let (c, _) = self
            .write_claim(&t, customer, "reward", Some(idem), None)
            .await?;
        Ok(c)
    }

    /// Issue a template to every member of a saved segment, as a job; returns the job id.
    pub async fn issue_coupon_to_segment(
        &self,
        actor: &Actor,
        template: i64,
        segment: i64,
    ) -> Result<i64> {
        manage(actor)?;
        let t = self.coupon_template(actor, template).await?;
        if t.row.status != "active" {
            return Err(closed(&t.row.status));
        }
        let seg = yutang_store::segments::get(&self.db, segment)
            .await
            .map_err(|_| FieldError::new("segment_id", "unknown_segment", "no such segment"))?;
        let (_, members) = self
            .segments()
            .segment_members(actor, &seg.expression)
            .await?;
        let customers = members.iter().map(i64::from).collect();
        self.enqueue_issue(
            actor,
            template,
            customers,
            "coupon_template.issue_segment",
            serde_json::json!({"segment_id": segment}),
        )
        .await
    }

    /// Issue a template to customers an operator picked (the rows ticked on the customer
    /// list), as a job; returns the job id. The list is refused as a whole when a customer is
    /// unknown or outside the caller's scope; merged customers count as their survivors.
    pub async fn issue_coupon_to_customers(
        &self,
        actor: &Actor,
        template: i64,
        customers: &[i64],
    ) -> Result<i64> {
        manage(actor)?;
        let t = self.coupon_template(actor, template).await?;
        if t.row.status != "active" {
            return Err(closed(&t.row.status));
        }
        let customers = self.tags().resolve_ids_in_scope(actor, customers).await?;
        self.enqueue_issue(
            actor,
            template,
            customers,
            "coupon_template.issue_customers",
            serde_json::json!({}),
        )
        .await
    }

    /// The issue job and its audit entry, committed together.
    async fn enqueue_issue(
        &self,
        actor: &Actor,
        template: i64,
        customers: Vec<i64>,
        operation: &'static str,
        mut detail: serde_json::Value,
    ) -> Result<i64> {
        let job = IssueJob {
            template_id: template,
            customers,
            staff_id: actor.staff_id().map(|s| s.0),
        };
        let payload = serde_json::to_string(&job).map_err(bad_record)?;
        let mut tx = self.db.begin().await?;
        let id = job_store::enqueue_in(
            &mut tx,
            &NewJob {
                kind: ISSUE_KIND,
                payload: &payload,
                run_at: self.now(),
                idempotency_key: None,
                created_by: job.staff_id,
            },
            self.now(),
        )
        .await?;
        detail["customers"] = job.customers.len().into();
        detail["job_id"] = id.into();
        self.promotions()
            .promo_audit(
                &mut tx,
                actor,
                operation,
                format!("coupon_template:{template}"),
                detail,
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(super) async fn run_issue_job(
        &self,
        job_id: i64,
        payload: &str,
        done: i64,
    ) -> Result<String> {
        let job: IssueJob = serde_json::from_str(payload).map_err(bad_record)?;
        let row = store::get_template(&self.db, job.template_id).await?;
        let t = Self::template_view(row, None)?;
        let total = job.customers.len() as i64;
        let start = usize::try_from(done).unwrap_or(0).min(job.customers.len());
        let mut summary = IssueSummary::default();
        for (i, chunk) in job.customers[start..].chunks(ISSUE_CHUNK).enumerate() {
            for c in chunk {
                // Keyed per job and customer: a job resumed after a crash replays, not repeats.
                let key = format!("coupon_issue:{job_id}:{c}");
                let idem = Idem {
                    key: &key,
                    fingerprint: "issue",
                };
                if self
                    .promotions()
                    .replay::<Claimed>(CustomerId(*c), Some(idem))
                    .await?
                    .is_some()
                {
                    summary.issued += 1;
                    continue;
                }
                match self
                    .write_claim(&t, CustomerId(*c), "issue", Some(idem), job.staff_id)
                    .await
                {
                    Ok(_) => summary.issued += 1,
                    Err(AppError::Rule { .. } | AppError::Invalid(_)) => summary.skipped += 1,
                    Err(e) => return Err(e),
                }
            }
            let so_far = start as i64 + ((i * ISSUE_CHUNK + chunk.len()) as i64);
            job_store::progress(
                &self.db,
                job_id,
                so_far,
                total,
                self.now(),
                crate::jobs::LEASE_MS,
            )
            .await?;
        }
        serde_json::to_string(&summary).map_err(bad_record)
    }

    // --- coupons: redemption and refunds ---

    /// Use a customer's coupon on a recorded order: checks owner, state, validity, scope and
    /// threshold, then marks it used with the discount in fen. Redeeming the same coupon on the
    /// same order again (a retry) answers the original discount and changes nothing; a fully
    /// refunded order takes no coupon (`order_refunded`).
    pub async fn redeem_coupon(
        &self,
        actor: &Actor,
        coupon: i64,
        order: i64,
        shipping: Fen,
    ) -> Result<Fen> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let c = store::get_coupon(&self.db, coupon)
            .await
            .map_err(AppError::not_found("coupon"))?;
        let o = yutang_store::orders::get(&self.db, order, Default::default())
            .await
            .map_err(AppError::not_found("order"))?;
        if o.customer_id != c.customer_id {
            return Err(AppError::Rule {
                code: "coupon_not_owned",
                message: "the coupon belongs to another customer".into(),
            });
        }
        // A retry of a redemption that succeeded: the same answer, nothing changes.
        if c.state == CouponState::Used.as_str() && c.order_id == Some(order) {
            return Ok(Fen(c.discount_fen));
        }
        if o.status == "refunded" {
            return Err(AppError::Rule {
                code: "order_refunded",
                message: "the order was fully refunded; it takes no coupon".into(),
            });
        }
        let spec: TemplateSpec = serde_json::from_str(&c.spec).map_err(bad_record)?;
        let kind = usize::try_from(c.step)
            .ok()
            .and_then(|i| spec.steps.get(i))
            .ok_or_else(|| AppError::Internal("coupon step out of range".into()))?;
        let state = CouponState::parse(&c.state)
            .ok_or_else(|| AppError::Internal("unknown coupon state".into()))?;
        let window = yutang_core::promotions::Window {
            starts_at: Millis(c.valid_from),
            ends_at: Millis(c.valid_until),
        };
        let facts = OrderFacts {
            amount: Fen(o.amount),
            shipping,
            channel: &o.channel,
            store_id: o.store_id,
        };
        let discount = redeem(state, kind, window, &spec.scope, &facts, Millis(self.now()))
            .map_err(refusal)?;
        // The store checks again under the order's lock (a concurrent refund or retry).
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let (d, applied) = store::use_coupon_in(&mut tx, coupon, order, discount.0, now)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NotFound { what: "order" },
                other => other.into(),
            })?;
        // A coupon given as a paid member card's pack counts towards the card's savings.
        if applied {
            crate::loyalty::cards::on_coupon_used_in(&mut tx, coupon, order, c.customer_id, d, now)
                .await?;
        }
        tx.commit().await?;
        Ok(Fen(d))
    }

    /// Revoke a claimed coupon (staff).
    pub async fn revoke_coupon(&self, actor: &Actor, coupon: i64) -> Result<()> {
        manage(actor)?;
        let c = store::get_coupon(&self.db, coupon)
            .await
            .map_err(AppError::not_found("coupon"))?;
        let from = CouponState::parse(&c.state).unwrap_or(CouponState::Revoked);
        let Some(to) = transition(
            from,
            CouponEvent::Revoke,
            Millis(self.now()),
            Millis(c.valid_until),
        ) else {
            return Err(refusal(PromoRefusal::CouponNotUsable));
        };
        let mut tx = self.db.begin().await?;
        if !store::coupon_transition_in(
            &mut tx,
            coupon,
            from.as_str(),
            to.as_str(),
            "coupon_revoked",
            actor.staff_id().map(|s| s.0),
            self.now(),
        )
        .await?
        {
            return Err(refusal(PromoRefusal::CouponNotUsable));
        }
        self.promotions()
            .promo_audit(
                &mut tx,
                actor,
                "coupon.revoke",
                format!("coupon:{coupon}"),
                serde_json::json!({}),
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // --- coupons (public) ---

    /// Templates this customer can claim now: active, in the claim window, with stock, under
    /// the customer's limit and in the audience.
    pub async fn claimable_coupons(&self, customer: CustomerId) -> Result<Vec<TemplateView>> {
        let now = self.now();
        let mine = store::claims_by_customer(&self.db, customer.0).await?;
        let mut out = Vec::new();
        for r in store::list_templates(&self.db, false).await? {
            let held = mine.iter().find(|(t, _)| *t == r.id).map_or(0, |(_, n)| *n);
            if r.claim_starts > now || r.claim_ends <= now || r.sold >= r.stock {
                continue;
            }
            if held >= r.per_customer {
                continue;
            }
            let v = Self::template_view(r, None)?;
            if self
                .promotions()
                .in_audience(&v.spec.audience, customer)
                .await?
            {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// A customer claims one set of a template: a replay answers first; a closed or
    /// exhausted template is refused before the audience check and the transaction (which
    /// decides again under the template's row lock).
    pub async fn claim_coupon(
        &self,
        customer: CustomerId,
        template: i64,
        idempotency_key: Option<&str>,
    ) -> Result<(Claimed, bool)> {
        let promotions = self.promotions();
        let (write, replayed) = promotions
            .public_write(
                "coupon_claim",
                customer,
                idempotency_key,
                &[&template.to_string()],
            )
            .await?;
        if let Some(r) = replayed {
            return Ok((r, true));
        }
        let idem = write.idem();
        let row = store::get_template(&self.db, template)
            .await
            .map_err(AppError::not_found("coupon template"))?;
        template_campaign(&row, true)
            .check_take(Millis(self.now()))
            .map_err(refusal)?;
        let t = Self::template_view(row, None)?;
        promotions
            .check_audience(&t.spec.audience, customer)
            .await?;
        self.write_claim(&t, customer, "claim", idem, None).await
    }

    pub async fn my_coupons(&self, customer: CustomerId) -> Result<Vec<CouponView>> {
        store::customer_coupons(&self.db, customer.0)
            .await?
            .into_iter()
            .map(|row| {
                let spec = serde_json::from_str(&row.spec).map_err(bad_record)?;
                Ok(CouponView { row, spec })
            })
            .collect()
    }

    /// One of the customer's own coupons; another customer's is "not found".
    pub async fn my_coupon(&self, customer: CustomerId, id: i64) -> Result<CouponView> {
        let row = store::get_coupon(&self.db, id)
            .await
            .map_err(AppError::not_found("coupon"))?;
        if row.customer_id != customer.0 {
            return Err(AppError::NotFound { what: "coupon" });
        }
        let spec = serde_json::from_str(&row.spec).map_err(bad_record)?;
        Ok(CouponView { row, spec })
    }

    /// A customer's coupons for staff, within the caller's data scope (a customer outside
    /// it is "not found", like every other `/customers/{id}/…` read).
    pub async fn customer_coupons(
        &self,
        actor: &Actor,
        customer: CustomerId,
    ) -> Result<Vec<CouponView>> {
        view(actor)?;
        let live = self.customers().visible_customer(actor, customer).await?;
        self.my_coupons(live).await
    }
}

/// A fully refunded order returns the coupons used on it whose template says so, inside the
/// refund's transaction: core's `transition` decides each coupon's next state, and the
/// store's update is guarded on `used`, so a coupon is returned exactly once.
pub(crate) async fn return_on_refund_in(
    tx: &mut yutang_store::tx::Tx,
    order: i64,
    now: i64,
) -> Result<()> {
    for c in store::used_on_order_in(tx, order).await? {
        let spec: TemplateSpec = serde_json::from_str(&c.spec).map_err(bad_record)?;
        let ev = CouponEvent::Refund {
            return_on_refund: spec.return_on_refund,
        };
        if let Some(to) = transition(CouponState::Used, ev, Millis(now), Millis(c.valid_until)) {
            store::return_used_in(tx, &c, to.as_str(), now).await?;
        }
    }
    Ok(())
}

fn template_write<'a>(spec: &'a TemplateSpec, json: &'a str) -> TemplateWrite<'a> {
    TemplateWrite {
        name: &spec.name,
        spec: json,
        stock: spec.stock,
        per_customer: spec.per_customer,
        claim_starts: spec.claim_window.starts_at.0,
        claim_ends: spec.claim_window.ends_at.0,
    }
}

/// A template as a claim's rules see it: a customer's claim (`in_window`) must fall in the
/// claim window; a staff issue may come at any time.
fn template_campaign(t: &TemplateRow, in_window: bool) -> Campaign {
    let window = in_window.then_some((t.claim_starts, t.claim_ends));
    campaign(&t.status, window, t.stock, t.sold)
}
