//! Flash sales: staff create and update them; a customer claims a unit, held until paid or
//! released by the hold timer.

use serde::Serialize;
use yutang_core::ids::CustomerId;
use yutang_core::promotions::flash_sales::{FlashSaleSpec, Hold, HoldState};
use yutang_core::promotions::{Campaign, PromoRefusal, check_limit};
use yutang_core::staff::Permission;
use yutang_core::time::Millis;
use yutang_store::promotions::{
    self as store, CampaignCounts, CampaignTable, FlashClaimed, FlashSaleRow, FlashSaleWrite,
    Publication, Removal,
};

use super::{Publish, bad_record, campaign, created_in, event_in, manage, refusal, view};
use crate::error::{AppError, Result};
use crate::{Actor, App};

#[derive(Debug, Clone, Serialize)]
pub struct FlashSaleView {
    pub row: FlashSaleRow,
    pub spec: FlashSaleSpec,
    /// held, paid, released claims.
    pub counts: CampaignCounts,
}

/// The flash-sale use cases: creating and editing sales, listing them for staff and customers,
/// claiming a unit and paying for a claim.
#[derive(Clone, Copy)]
pub struct FlashSales<'a>(&'a App);

impl std::ops::Deref for FlashSales<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`FlashSales`].
    pub fn flash_sales(&self) -> FlashSales<'_> {
        FlashSales(self)
    }
}

impl FlashSales<'_> {
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

    /// Create one, open to customers from its window on.
    pub async fn create_flash_sale(&self, actor: &Actor, spec: FlashSaleSpec) -> Result<i64> {
        self.create_flash_sale_as(actor, spec, Publish::Now).await
    }

    /// Create one, as a draft (closed and invisible to customers until published) or open.
    pub async fn create_flash_sale_as(
        &self,
        actor: &Actor,
        spec: FlashSaleSpec,
        publish: Publish,
    ) -> Result<i64> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.media().check_image_id(spec.image_id).await?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let (staff, now) = (actor.staff_id().map(|s| s.0), self.now());
        let op = ("flash_sale.create", "flash_sale", spec.name.as_str());
        self.promotions()
            .write_campaign(actor, &spec.audience, op, async |tx| {
                let id =
                    store::create_flash_sale_in(tx, &Self::flash_write(&spec, &json), staff, now)
                        .await?;
                created_in(tx, CampaignTable::FlashSales, id, publish).await
            })
            .await
    }

    pub async fn update_flash_sale(
        &self,
        actor: &Actor,
        id: i64,
        spec: FlashSaleSpec,
    ) -> Result<()> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.media().check_image_id(spec.image_id).await?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let now = self.now();
        let op = ("flash_sale.update", "flash_sale", spec.name.as_str());
        self.promotions()
            .write_campaign(actor, &spec.audience, op, async |tx| {
                store::update_flash_sale_in(tx, id, &Self::flash_write(&spec, &json), now)
                    .await
                    .map_err(AppError::not_found("flash sale"))?;
                Ok(id)
            })
            .await?;
        Ok(())
    }

    async fn flash_view(&self, row: FlashSaleRow) -> Result<FlashSaleView> {
        let spec = serde_json::from_str(&row.spec).map_err(bad_record)?;
        let counts = store::flash_counts(&self.db, row.id).await?;
        Ok(FlashSaleView { row, spec, counts })
    }

    async fn list(&self, all: bool) -> Result<Vec<FlashSaleView>> {
        let mut out = Vec::new();
        for r in store::list_flash_sales(&self.db, all).await? {
            out.push(self.flash_view(r).await?);
        }
        Ok(out)
    }

    /// The active ones, for customers.
    pub async fn flash_sales(&self) -> Result<Vec<FlashSaleView>> {
        self.list(false).await
    }

    /// Every one, active and archived (`row.status`), for staff.
    pub async fn flash_sales_for_staff(&self, actor: &Actor) -> Result<Vec<FlashSaleView>> {
        view(actor)?;
        self.list(true).await
    }

    /// One, active or archived, for staff.
    pub async fn flash_sale_for_staff(&self, actor: &Actor, id: i64) -> Result<FlashSaleView> {
        view(actor)?;
        let row = store::get_flash_sale(&self.db, id)
            .await
            .map_err(AppError::not_found("flash sale"))?;
        self.flash_view(row).await
    }

    /// Publish a draft: it opens to customers from its window on (audited); publishing it
    /// again changes nothing; an archived one cannot be opened (`promotion_inactive`).
    pub async fn publish_flash_sale(&self, actor: &Actor, id: i64) -> Result<Publication> {
        self.promotions()
            .publish_campaign(
                actor,
                CampaignTable::FlashSales,
                id,
                ("flash_sale", "flash sale"),
            )
            .await
    }

    /// Remove one: archived when it has claims (statistics kept, closed to customers), deleted
    /// when it has none.
    pub async fn delete_flash_sale(&self, actor: &Actor, id: i64) -> Result<Removal> {
        self.promotions()
            .remove_campaign(
                actor,
                CampaignTable::FlashSales,
                id,
                ("flash_sale", "flash sale"),
            )
            .await
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

    /// Claim one unit of a sale and hold it. Outside the transaction: a replay answers first,
    /// then a closed or sold-out sale is refused without taking the writer (the cheap answer
    /// most claimers of a hot sale get), then the audience is checked against the segment
    /// index. In the transaction: the sale is read under its row lock, core's rules decide
    /// (window, stock, per-customer limit) on what the lock holds, and the writes follow.
    pub async fn claim_flash_sale(
        &self,
        customer: CustomerId,
        sale: i64,
        idempotency_key: Option<&str>,
    ) -> Result<(FlashClaimed, bool)> {
        let promotions = self.promotions();
        let (write, replayed) = promotions
            .public_write(
                "flash_claim",
                customer,
                idempotency_key,
                &[&sale.to_string()],
            )
            .await?;
        if let Some(r) = replayed {
            return Ok((r, true));
        }
        let idem = write.idem();
        let now = self.now();
        let row = store::get_flash_sale(&self.db, sale)
            .await
            .map_err(AppError::not_found("flash sale"))?;
        if row.status != "active" {
            return Err(AppError::NotFound { what: "flash sale" });
        }
        sale_campaign(&row)
            .check_take(Millis(now))
            .map_err(refusal)?;
        let spec: FlashSaleSpec = serde_json::from_str(&row.spec).map_err(bad_record)?;
        promotions.check_audience(&spec.audience, customer).await?;
        promotions
            .write_once(customer, idem, async |tx| {
                let s = store::lock_flash_sale_in(tx, sale)
                    .await?
                    .ok_or(AppError::NotFound { what: "flash sale" })?;
                sale_campaign(&s).check_take(Millis(now)).map_err(refusal)?;
                let (held, total) = store::claim_counts_in(tx, sale, customer.0).await?;
                check_limit(held, s.per_customer).map_err(refusal)?;
                if !store::take_unit_in(tx, CampaignTable::FlashSales, sale).await? {
                    return Err(refusal(PromoRefusal::OutOfStock));
                }
                let hold_until = now + s.hold_minutes * 60_000;
                let claim = store::NewFlashClaim {
                    sale,
                    customer: customer.0,
                    seq: total + 1,
                    hold_until,
                };
                let id = store::insert_flash_claim_in(tx, &claim, now).await?;
                promotions
                    .timer_in(
                        tx,
                        store::JOB_FLASH_RELEASE,
                        id,
                        hold_until,
                        &format!("flash_hold:{id}"),
                    )
                    .await?;
                let d = serde_json::json!({"flash_sale_id": sale, "claim_id": id, "hold_until": hold_until});
                event_in(tx, customer.0, "flash_sale_claimed", None, d, now).await?;
                Ok(FlashClaimed {
                    claim_id: id,
                    hold_until,
                })
            })
            .await
    }

    /// A customer's claims of a flash sale.
    pub async fn my_flash_claims(
        &self,
        customer: CustomerId,
        sale: i64,
    ) -> Result<Vec<store::FlashClaimRow>> {
        Ok(store::flash_claims_of(&self.db, sale, customer.0).await?)
    }

    /// The brand's order system reports a held claim as paid. Core's [`Hold::pay`] decides
    /// on the claim read under its row lock: held and before its time. A retry of the same
    /// payment (same `order_ref`) gets the original success; anything else is
    /// `hold_not_active`.
    pub async fn pay_flash_claim(&self, actor: &Actor, claim: i64, order_ref: &str) -> Result<()> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let order_ref = yutang_core::orders::parse_external_id("order_ref", order_ref)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let c = store::lock_flash_claim_in(&mut tx, claim)
            .await?
            .ok_or(AppError::NotFound {
                what: "flash sale claim",
            })?;
        let hold = hold_of(&c);
        if hold.state == HoldState::Paid && c.order_ref.as_deref() == Some(order_ref.as_str()) {
            return Ok(());
        }
        let Some(to) = hold.pay(Millis(now)) else {
            return Err(AppError::Rule {
                code: "hold_not_active",
                message: "the claim is not held any more (paid, or released after its hold)".into(),
            });
        };
        if !store::set_hold_in(
            &mut tx,
            claim,
            hold.state.as_str(),
            to.as_str(),
            Some(&order_ref),
            now,
        )
        .await?
        {
            return Err(AppError::Internal(
                "a locked hold changed under its lock".into(),
            ));
        }
        let d = serde_json::json!({"flash_sale_id": c.sale_id, "claim_id": claim, "order_ref": order_ref});
        event_in(&mut tx, c.customer_id, "flash_sale_paid", None, d, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The hold timer: an unpaid hold whose time is up is released and its unit returns to the
    /// stock, once ([`Hold::release`] on the claim read under its row lock). `false`: nothing
    /// to do (paid, released already, or not due).
    pub async fn release_hold(&self, claim: i64) -> Result<bool> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let Some(c) = store::lock_flash_claim_in(&mut tx, claim).await? else {
            return Ok(false);
        };
        let hold = hold_of(&c);
        let Some(to) = hold.release(Millis(now)) else {
            return Ok(false);
        };
        if !store::set_hold_in(&mut tx, claim, hold.state.as_str(), to.as_str(), None, now).await? {
            return Ok(false);
        }
        store::return_units_in(&mut tx, CampaignTable::FlashSales, c.sale_id, 1).await?;
        event_in(
            &mut tx,
            c.customer_id,
            "flash_sale_released",
            None,
            serde_json::json!({"flash_sale_id": c.sale_id, "claim_id": claim}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// A flash sale as a claim's rules see it.
fn sale_campaign(s: &FlashSaleRow) -> Campaign {
    campaign(&s.status, Some((s.starts_at, s.ends_at)), s.stock, s.sold)
}

/// A claim's hold as core's rules see it (an unknown stored state counts as released).
fn hold_of(c: &store::FlashClaimRow) -> Hold {
    Hold {
        state: HoldState::parse(&c.state).unwrap_or(HoldState::Released),
        until: Millis(c.hold_until),
    }
}
