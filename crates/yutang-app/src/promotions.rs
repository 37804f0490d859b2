//! Promotions: coupon templates and coupons, flash sales and group-buys — the staff use cases
//! (ManagePromotions), the public ones a customer calls with a customer token, and the durable
//! timers (coupon expiry and reminders, flash-sale hold release, group-buy deadlines).

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::money::Fen;
use yutang_core::promotions::coupons::{
    CouponEvent, CouponState, OrderFacts, TemplateSpec, redeem, transition,
};
use yutang_core::promotions::flash_sales::FlashSaleSpec;
use yutang_core::promotions::group_buys::{GroupBuySpec, Team, TeamState};
use yutang_core::promotions::{Audience, PromoRefusal};
use yutang_core::staff::Permission;
use yutang_core::time::Millis;
use yutang_store::StoreError;
use yutang_store::jobs::{self as job_store, NewJob};
use yutang_store::promotions::{
    self as store, CampaignCounts, Claimed, CouponClaim, CouponRow, FlashClaimed, FlashSaleRow,
    FlashSaleWrite, GroupBuyRow, GroupBuyWrite, Idem, MemberRow, NewCoupon, TeamJoined, TeamRow,
    TemplateRow, TemplateStats, TemplateWrite,
};

use crate::error::{AppError, Result};
use crate::idempotency::{fingerprint, parse_idempotency_key};
use crate::{Actor, App, idempotency};

/// Issue a template to every member of a segment, as a job with progress.
pub const ISSUE_KIND: &str = "coupon_issue";
/// Every job kind this module runs.
pub const JOB_KINDS: [&str; 5] = [
    ISSUE_KIND,
    store::JOB_COUPON_EXPIRE,
    store::JOB_COUPON_REMIND,
    store::JOB_FLASH_RELEASE,
    store::JOB_TEAM_DEADLINE,
];

/// The job kinds this area runs (see `crate::job_kinds`): all of [`JOB_KINDS`], one handler.
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    for kind in JOB_KINDS {
        reg.register(kind, |app, job| {
            Box::pin(app.run_promo_job(&job.kind, job.id, &job.payload, job.progress_done))
        });
    }
}
/// Customers per progress report in an issue job.
const ISSUE_CHUNK: usize = 200;

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

fn refusal(r: PromoRefusal) -> AppError {
    AppError::Rule {
        code: r.code(),
        message: r.to_string(),
    }
}

fn bad_record(e: serde_json::Error) -> AppError {
    AppError::Internal(format!("stored promotion does not parse: {e}"))
}

/// Map store errors of a public write: a concurrent duplicate of the same idempotency key is 409.
fn public_err(what: &'static str) -> impl Fn(StoreError) -> AppError {
    move |e| match e {
        StoreError::Conflict { .. } => idempotency::in_progress(),
        StoreError::NotFound => AppError::NotFound { what },
        other => other.into(),
    }
}

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

/// A group-buy team as staff see it: `leader_id` is `None` when the leader is outside the
/// caller's data scope (the row's own `leader_id` must then not be shown).
#[derive(Debug, Clone, Serialize)]
pub struct StaffTeamView {
    pub team: TeamRow,
    pub leader_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlashSaleView {
    pub row: FlashSaleRow,
    pub spec: FlashSaleSpec,
    /// held, paid, released claims.
    pub counts: CampaignCounts,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupBuyView {
    pub row: GroupBuyRow,
    pub spec: GroupBuySpec,
    /// open, filled, expired teams.
    pub counts: CampaignCounts,
}

/// A team as the share page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TeamView {
    pub team: TeamRow,
    pub group_buy: GroupBuyRow,
    pub spec: GroupBuySpec,
    pub members: Vec<MemberRow>,
    /// "x more needed".
    pub missing: i64,
    pub remaining_stock: i64,
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

impl App {
    // --- audiences ---

    /// Whether a customer belongs to a promotion's audience (through the segment index).
    pub async fn in_audience(&self, audience: &Audience, customer: CustomerId) -> Result<bool> {
        let src = match audience {
            Audience::Everyone => return Ok(true),
            Audience::Segment { segment_id } => {
                match yutang_store::segments::get(&self.db, *segment_id).await {
                    Ok(s) => s.expression,
                    Err(StoreError::NotFound) => return Ok(false),
                    Err(e) => return Err(e.into()),
                }
            }
            other => match other.expression() {
                Some(e) => e,
                None => return Ok(true),
            },
        };
        let Ok(id) = u32::try_from(customer.0) else {
            return Ok(false);
        };
        let expr = self.segments.compile(&src)?;
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        let mut one = RoaringBitmap::new();
        one.insert(id);
        Ok(!self
            .segments
            .evaluate(&expr, self.now(), Some(&one))?
            .is_empty())
    }

    async fn check_audience(&self, audience: &Audience, customer: CustomerId) -> Result<()> {
        if self.in_audience(audience, customer).await? {
            Ok(())
        } else {
            Err(refusal(PromoRefusal::NotInAudience))
        }
    }

    async fn check_segment_exists(&self, audience: &Audience) -> Result<()> {
        if let Audience::Segment { segment_id } = audience {
            yutang_store::segments::get(&self.db, *segment_id)
                .await
                .map_err(|_| {
                    FieldError::new(
                        "audience",
                        "unknown_segment",
                        "no saved segment with this id",
                    )
                })?;
        }
        if let Some(expr) = audience.expression() {
            self.segments.compile(&expr).map_err(|e| {
                FieldError::new(
                    "audience",
                    "invalid_audience",
                    format!("the audience does not match the customer schema: {e}"),
                )
            })?;
        }
        Ok(())
    }

    async fn promo_audit(
        &self,
        actor: &Actor,
        action: &str,
        target: String,
        detail: serde_json::Value,
    ) -> Result<()> {
        // One audit action for every promotion change (`promotion_changed`), the operation
        // in the detail; written straight through the store so the shared `Action` list
        // stays untouched.
        let detail = serde_json::json!({"op": action, "detail": detail}).to_string();
        yutang_store::audit::append(
            &self.db,
            &yutang_store::audit::NewAudit {
                at: self.now(),
                actor_kind: actor.kind(),
                actor_id: actor.actor_id(),
                actor_name: &actor.name,
                action: "promotion_changed",
                target: &target,
                detail: &detail,
                ip: &actor.ip,
            },
        )
        .await?;
        Ok(())
    }

    // --- coupon templates (staff) ---

    pub async fn create_coupon_template(&self, actor: &Actor, spec: TemplateSpec) -> Result<i64> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.check_segment_exists(&spec.audience).await?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let id = store::create_template(
            &self.db,
            &TemplateWrite {
                name: &spec.name,
                spec: &json,
                stock: spec.stock,
                per_customer: spec.per_customer,
                claim_starts: spec.claim_window.starts_at.0,
                claim_ends: spec.claim_window.ends_at.0,
            },
            actor.staff_id().map(|s| s.0),
            self.now(),
        )
        .await?;
        self.promo_audit(
            actor,
            "coupon_template.create",
            format!("coupon_template:{id}"),
            serde_json::json!({"name": spec.name}),
        )
        .await?;
        Ok(id)
    }

    pub async fn update_coupon_template(
        &self,
        actor: &Actor,
        id: i64,
        spec: TemplateSpec,
    ) -> Result<()> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.check_segment_exists(&spec.audience).await?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        store::update_template(
            &self.db,
            id,
            &TemplateWrite {
                name: &spec.name,
                spec: &json,
                stock: spec.stock,
                per_customer: spec.per_customer,
                claim_starts: spec.claim_window.starts_at.0,
                claim_ends: spec.claim_window.ends_at.0,
            },
            self.now(),
        )
        .await
        .map_err(AppError::not_found("coupon template"))?;
        self.promo_audit(
            actor,
            "coupon_template.update",
            format!("coupon_template:{id}"),
            serde_json::json!({"name": spec.name}),
        )
        .await
    }

    pub async fn delete_coupon_template(&self, actor: &Actor, id: i64) -> Result<()> {
        manage(actor)?;
        store::delete_template(&self.db, id, self.now())
            .await
            .map_err(AppError::not_found("coupon template"))?;
        self.promo_audit(
            actor,
            "coupon_template.delete",
            format!("coupon_template:{id}"),
            serde_json::json!({}),
        )
        .await
    }

    fn template_view(row: TemplateRow, stats: Option<TemplateStats>) -> Result<TemplateView> {
        let spec = serde_json::from_str(&row.spec).map_err(bad_record)?;
        Ok(TemplateView { row, spec, stats })
    }

    pub async fn coupon_templates(&self, actor: &Actor) -> Result<Vec<TemplateView>> {
        view(actor)?;
        let stats = store::template_stats(&self.db).await?;
        store::list_templates(&self.db, false)
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

    /// Write one claimed set: the coupons' validity from the template at `now`.
    async fn write_claim(
        &self,
        t: &TemplateView,
        customer: CustomerId,
        source: &str,
        idem: Option<Idem<'_>>,
        staff: Option<i64>,
    ) -> Result<(Claimed, bool)> {
        let now = self.now();
        let w = t.spec.validity.window(Millis(now));
        let coupons: Vec<NewCoupon> = (0..t.spec.steps.len())
            .map(|i| NewCoupon {
                step: i as i64,
                valid_from: w.starts_at.0,
                valid_until: w.ends_at.0,
            })
            .collect();
        if w.ends_at.0 <= now {
            return Err(refusal(PromoRefusal::CouponNotValidNow));
        }
        store::claim_coupon(
            &self.db,
            &CouponClaim {
                template_id: t.row.id,
                customer_id: customer.0,
                source,
                coupons: &coupons,
                remind_hours: i64::from(t.spec.remind_hours_before),
                idem,
                staff_id: staff,
            },
            now,
        )
        .await
        .map_err(public_err("coupon template"))
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
            return Err(refusal(PromoRefusal::Inactive));
        }
        let (c, _) = self
            .write_claim(&t, customer, "issue", None, actor.staff_id().map(|s| s.0))
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
            return Err(refusal(PromoRefusal::Inactive));
        }
        let seg = yutang_store::segments::get(&self.db, segment)
            .await
            .map_err(|_| FieldError::new("segment_id", "unknown_segment", "no such segment"))?;
        let (_, members) = self.segment_members(actor, &seg.expression).await?;
        let job = IssueJob {
            template_id: template,
            customers: members.iter().map(i64::from).collect(),
            staff_id: actor.staff_id().map(|s| s.0),
        };
        let payload = serde_json::to_string(&job).map_err(bad_record)?;
        let id = job_store::enqueue(
            &self.db,
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
        self.promo_audit(
            actor,
            "coupon_template.issue_segment",
            format!("coupon_template:{template}"),
            serde_json::json!({"segment_id": segment, "customers": job.customers.len(), "job_id": id}),
        )
        .await?;
        Ok(id)
    }

    async fn run_issue_job(&self, job_id: i64, payload: &str, done: i64) -> Result<String> {
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
        let (d, _) = store::use_coupon(&self.db, coupon, order, discount.0, self.now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NotFound { what: "order" },
                other => other.into(),
            })?;
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
        if !store::coupon_transition(
            &self.db,
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
        self.promo_audit(
            actor,
            "coupon.revoke",
            format!("coupon:{coupon}"),
            serde_json::json!({}),
        )
        .await
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
            if self.in_audience(&v.spec.audience, customer).await? {
                out.push(v);
            }
        }
        Ok(out)
    }

    pub async fn claim_coupon(
        &self,
        customer: CustomerId,
        template: i64,
        idempotency_key: Option<&str>,
    ) -> Result<(Claimed, bool)> {
        let row = store::get_template(&self.db, template)
            .await
            .map_err(AppError::not_found("coupon template"))?;
        if row.status != "active" {
            return Err(refusal(PromoRefusal::Inactive));
        }
        let t = Self::template_view(row, None)?;
        let key = match idempotency_key {
            Some(k) => Some(format!(
                "coupon_claim:{}:{}",
                customer.0,
                parse_idempotency_key(k)?
            )),
            None => None,
        };
        let fp = fingerprint(&["coupon_claim", &template.to_string()]);
        let idem = key.as_deref().map(|key| Idem {
            key,
            fingerprint: &fp,
        });
        // A replay answers before the audience check (which may have changed since).
        if key.is_none() || !self.replayable(idem).await? {
            self.check_audience(&t.spec.audience, customer).await?;
        }
        self.write_claim(&t, customer, "claim", idem, None).await
    }

    async fn replayable(&self, idem: Option<Idem<'_>>) -> Result<bool> {
        let Some(i) = idem else { return Ok(false) };
        Ok(store::request_exists(&self.db, i.key).await?)
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
        let live = self.visible_customer(actor, customer).await?;
        self.my_coupons(live).await
    }

    // --- flash sales ---

    fn flash_write<'a>(spec: &'a FlashSaleSpec, json: &'a str) -> FlashSaleWrite<'a> {
        FlashSaleWrite {
            name: &spec.name,
            spec: json,
            price_fen: spec.price_fen,
            stock: spec.stock,
            per_customer: spec.per_customer,
            hold_minutes: spec.hold_minutes,
            starts_at: spec.window.starts_at.0,
            ends_at: spec.window.ends_at.0,
        }
    }

    pub async fn create_flash_sale(&self, actor: &Actor, spec: FlashSaleSpec) -> Result<i64> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.check_segment_exists(&spec.audience).await?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let id = store::create_flash_sale(
            &self.db,
            &Self::flash_write(&spec, &json),
            actor.staff_id().map(|s| s.0),
            self.now(),
        )
        .await?;
        self.promo_audit(
            actor,
            "flash_sale.create",
            format!("flash_sale:{id}"),
            serde_json::json!({"name": spec.name}),
        )
        .await?;
        Ok(id)
    }

    pub async fn update_flash_sale(
        &self,
        actor: &Actor,
        id: i64,
        spec: FlashSaleSpec,
    ) -> Result<()> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.check_segment_exists(&spec.audience).await?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        store::update_flash_sale(&self.db, id, &Self::flash_write(&spec, &json), self.now())
            .await
            .map_err(AppError::not_found("flash sale"))?;
        self.promo_audit(
            actor,
            "flash_sale.update",
            format!("flash_sale:{id}"),
            serde_json::json!({"name": spec.name}),
        )
        .await
    }

    async fn flash_view(&self, row: FlashSaleRow) -> Result<FlashSaleView> {
        let spec = serde_json::from_str(&row.spec).map_err(bad_record)?;
        let counts = store::flash_counts(&self.db, row.id).await?;
        Ok(FlashSaleView { row, spec, counts })
    }

    pub async fn flash_sales(&self) -> Result<Vec<FlashSaleView>> {
        let mut out = Vec::new();
        for r in store::list_flash_sales(&self.db).await? {
            out.push(self.flash_view(r).await?);
        }
        Ok(out)
    }

    pub async fn flash_sales_for_staff(&self, actor: &Actor) -> Result<Vec<FlashSaleView>> {
        view(actor)?;
        self.flash_sales().await
    }

    pub async fn flash_sale(&self, id: i64) -> Result<FlashSaleView> {
        let row = store::get_flash_sale(&self.db, id)
            .await
            .map_err(AppError::not_found("flash sale"))?;
        if row.status != "active" {
            return Err(AppError::NotFound { what: "flash sale" });
        }
        self.flash_view(row).await
    }

    pub async fn claim_flash_sale(
        &self,
        customer: CustomerId,
        sale: i64,
        idempotency_key: Option<&str>,
    ) -> Result<(FlashClaimed, bool)> {
        let s = self.flash_sale(sale).await?;
        let key = match idempotency_key {
            Some(k) => Some(format!(
                "flash_claim:{}:{}",
                customer.0,
                parse_idempotency_key(k)?
            )),
            None => None,
        };
        let fp = fingerprint(&["flash_claim", &sale.to_string()]);
        let idem = key.as_deref().map(|key| Idem {
            key,
            fingerprint: &fp,
        });
        if !self.replayable(idem).await? {
            self.check_audience(&s.spec.audience, customer).await?;
        }
        store::claim_flash(&self.db, sale, customer.0, idem, self.now())
            .await
            .map_err(public_err("flash sale"))
    }

    /// A customer's claims of a flash sale.
    pub async fn my_flash_claims(
        &self,
        customer: CustomerId,
        sale: i64,
    ) -> Result<Vec<store::FlashClaimRow>> {
        Ok(store::flash_claims_of(&self.db, sale, customer.0).await?)
    }

    /// The brand's order system reports a held claim as paid.
    pub async fn pay_flash_claim(&self, actor: &Actor, claim: i64, order_ref: &str) -> Result<()> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let order_ref = yutang_core::orders::parse_external_id("order_ref", order_ref)?;
        store::get_flash_claim(&self.db, claim)
            .await
            .map_err(AppError::not_found("flash sale claim"))?;
        if store::pay_flash(&self.db, claim, &order_ref, self.now()).await? {
            return Ok(());
        }
        // A retry of the same payment (same order_ref) gets the original success; `paid` is
        // final, so this read cannot race.
        let now = store::get_flash_claim(&self.db, claim)
            .await
            .map_err(AppError::not_found("flash sale claim"))?;
        if now.state == "paid" && now.order_ref.as_deref() == Some(order_ref.as_str()) {
            Ok(())
        } else {
            Err(AppError::Rule {
                code: "hold_not_active",
                message: "the claim is not held any more (paid, or released after its hold)".into(),
            })
        }
    }

    // --- group-buys ---

    fn group_buy_write<'a>(spec: &'a GroupBuySpec, json: &'a str) -> GroupBuyWrite<'a> {
        GroupBuyWrite {
            name: &spec.name,
            spec: json,
            price_fen: spec.price_fen,
            leader_discount_fen: spec.leader_discount_fen,
            team_size: spec.team_size,
            time_limit_minutes: spec.time_limit_minutes,
            stock: spec.stock,
            starts_at: spec.window.starts_at.0,
            ends_at: spec.window.ends_at.0,
        }
    }

    pub async fn create_group_buy(&self, actor: &Actor, spec: GroupBuySpec) -> Result<i64> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.check_segment_exists(&spec.audience).await?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let id = store::create_group_buy(
            &self.db,
            &Self::group_buy_write(&spec, &json),
            actor.staff_id().map(|s| s.0),
            self.now(),
        )
        .await?;
        self.promo_audit(
            actor,
            "group_buy.create",
            format!("group_buy:{id}"),
            serde_json::json!({"name": spec.name}),
        )
        .await?;
        Ok(id)
    }

    pub async fn update_group_buy(&self, actor: &Actor, id: i64, spec: GroupBuySpec) -> Result<()> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.check_segment_exists(&spec.audience).await?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        store::update_group_buy(
            &self.db,
            id,
            &Self::group_buy_write(&spec, &json),
            self.now(),
        )
        .await
        .map_err(AppError::not_found("group-buy"))?;
        self.promo_audit(
            actor,
            "group_buy.update",
            format!("group_buy:{id}"),
            serde_json::json!({"name": spec.name}),
        )
        .await
    }

    async fn group_buy_view(&self, row: GroupBuyRow) -> Result<GroupBuyView> {
        let spec = serde_json::from_str(&row.spec).map_err(bad_record)?;
        let counts = store::team_counts(&self.db, row.id).await?;
        Ok(GroupBuyView { row, spec, counts })
    }

    pub async fn group_buys(&self) -> Result<Vec<GroupBuyView>> {
        let mut out = Vec::new();
        for r in store::list_group_buys(&self.db).await? {
            out.push(self.group_buy_view(r).await?);
        }
        Ok(out)
    }

    pub async fn group_buys_for_staff(&self, actor: &Actor) -> Result<Vec<GroupBuyView>> {
        view(actor)?;
        self.group_buys().await
    }

    pub async fn group_buy(&self, id: i64) -> Result<GroupBuyView> {
        let row = store::get_group_buy(&self.db, id)
            .await
            .map_err(AppError::not_found("group-buy"))?;
        if row.status != "active" {
            return Err(AppError::NotFound { what: "group-buy" });
        }
        self.group_buy_view(row).await
    }

    /// A group-buy's latest teams for staff. Every team is listed (progress is not personal),
    /// but the leader is named only when the caller may see that customer: a store manager
    /// or guide gets `leader_id: None` for another store's (or another guide's) customer.
    pub async fn group_buy_teams(&self, actor: &Actor, id: i64) -> Result<Vec<StaffTeamView>> {
        view(actor)?;
        let teams = store::teams_of(&self.db, id, 200).await?;
        let scope = crate::customers::scope_of(actor);
        let mut visible = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(teams.len());
        for t in teams {
            let leader = match scope {
                Some(s) if s.store.is_none() && s.guide.is_none() => Some(t.leader_id),
                Some(s) => {
                    let seen = match visible.get(&t.leader_id) {
                        Some(v) => *v,
                        None => {
                            let v =
                                yutang_store::customers::in_scope(&self.db, t.leader_id, s).await?;
                            visible.insert(t.leader_id, v);
                            v
                        }
                    };
                    seen.then_some(t.leader_id)
                }
                None => None,
            };
            out.push(StaffTeamView {
                leader_id: leader,
                team: t,
            });
        }
        Ok(out)
    }

    pub async fn open_team(
        &self,
        customer: CustomerId,
        group_buy: i64,
        idempotency_key: Option<&str>,
    ) -> Result<(TeamJoined, bool)> {
        let g = self.group_buy(group_buy).await?;
        let key = match idempotency_key {
            Some(k) => Some(format!(
                "team_open:{}:{}",
                customer.0,
                parse_idempotency_key(k)?
            )),
            None => None,
        };
        let fp = fingerprint(&["team_open", &group_buy.to_string()]);
        let idem = key.as_deref().map(|key| Idem {
            key,
            fingerprint: &fp,
        });
        if !self.replayable(idem).await? {
            self.check_audience(&g.spec.audience, customer).await?;
        }
        store::open_team(&self.db, group_buy, customer.0, idem, self.now())
            .await
            .map_err(public_err("group-buy"))
    }

    pub async fn join_team(
        &self,
        customer: CustomerId,
        team: i64,
        inviter: Option<CustomerId>,
        idempotency_key: Option<&str>,
    ) -> Result<(TeamJoined, bool)> {
        let t = store::get_team(&self.db, team)
            .await
            .map_err(AppError::not_found("group"))?;
        let key = match idempotency_key {
            Some(k) => Some(format!(
                "team_join:{}:{}",
                customer.0,
                parse_idempotency_key(k)?
            )),
            None => None,
        };
        let inv = inviter.map(|c| c.0);
        let fp = fingerprint(&[
            "team_join",
            &team.to_string(),
            &inv.map(|i| i.to_string()).unwrap_or_default(),
        ]);
        let idem = key.as_deref().map(|key| Idem {
            key,
            fingerprint: &fp,
        });
        if !self.replayable(idem).await? {
            // The core rule first, for a clear answer; the store re-checks under the lock.
            let state = TeamState::parse(&t.state).unwrap_or(TeamState::Expired);
            Team {
                state,
                members: t.members,
                size: t.size,
                deadline: Millis(t.deadline),
            }
            .check_join(Millis(self.now()))
            .map_err(refusal)?;
            let g = self.group_buy(t.group_buy_id).await?;
            self.check_audience(&g.spec.audience, customer).await?;
        }
        store::join_team(&self.db, team, customer.0, inv, idem, self.now())
            .await
            .map_err(public_err("group"))
    }

    /// A team for its share page: members, "x more needed", remaining stock.
    pub async fn team_status(&self, team: i64) -> Result<TeamView> {
        let t = store::get_team(&self.db, team)
            .await
            .map_err(AppError::not_found("group"))?;
        let g = store::get_group_buy(&self.db, t.group_buy_id).await?;
        let spec: GroupBuySpec = serde_json::from_str(&g.spec).map_err(bad_record)?;
        let members = store::team_members(&self.db, team).await?;
        let state = TeamState::parse(&t.state).unwrap_or(TeamState::Expired);
        let missing = Team {
            state,
            members: t.members,
            size: t.size,
            deadline: Millis(t.deadline),
        }
        .missing();
        Ok(TeamView {
            remaining_stock: (g.stock - g.sold).max(0),
            missing,
            members,
            spec,
            group_buy: g,
            team: t,
        })
    }

    /// Run the deadline of a team now (the job does this; tests call it to check that a
    /// second run refunds nothing). Returns members refunded.
    pub async fn expire_team(&self, team: i64) -> Result<i64> {
        Ok(store::expire_team(&self.db, team, self.now()).await?)
    }

    // --- jobs ---

    /// Run one promotions job; the result is the job's JSON summary.
    pub(crate) async fn run_promo_job(
        &self,
        kind: &str,
        id: i64,
        payload: &str,
        done: i64,
    ) -> Result<String> {
        let target = || -> Result<i64> {
            payload
                .trim()
                .parse()
                .map_err(|_| AppError::Internal(format!("bad {kind} payload")))
        };
        let now = self.now();
        let out = match kind {
            ISSUE_KIND => return self.run_issue_job(id, payload, done).await,
            store::JOB_COUPON_EXPIRE => {
                let c = match store::get_coupon(&self.db, target()?).await {
                    Ok(c) => c,
                    Err(StoreError::NotFound) => return Ok("{}".into()),
                    Err(e) => return Err(e.into()),
                };
                let from = CouponState::parse(&c.state).unwrap_or(CouponState::Revoked);
                match transition(
                    from,
                    CouponEvent::Expire,
                    Millis(now),
                    Millis(c.valid_until),
                ) {
                    Some(to) => {
                        store::coupon_transition(
                            &self.db,
                            c.id,
                            from.as_str(),
                            to.as_str(),
                            "coupon_expired",
                            None,
                            now,
                        )
                        .await?
                    }
                    None => false,
                }
            }
            store::JOB_COUPON_REMIND => store::remind_coupon(&self.db, target()?, now).await?,
            store::JOB_FLASH_RELEASE => store::release_flash(&self.db, target()?, now).await?,
            store::JOB_TEAM_DEADLINE => store::expire_team(&self.db, target()?, now).await? > 0,
            other => {
                return Err(AppError::Internal(format!(
                    "no promotions handler for {other}"
                )));
            }
        };
        Ok(serde_json::json!({ "changed": out }).to_string())
    }
}
