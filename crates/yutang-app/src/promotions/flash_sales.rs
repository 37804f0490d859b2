//! Flash sales: staff create and update them; a customer claims a unit, held until paid or
//! released by the hold timer.

use serde::Serialize;
use yutang_core::ids::CustomerId;
use yutang_core::promotions::flash_sales::FlashSaleSpec;
use yutang_core::staff::Permission;
use yutang_store::promotions::{
    self as store, CampaignCounts, FlashClaimed, FlashSaleRow, FlashSaleWrite, Idem,
};

use super::{bad_record, manage, public_err, view};
use crate::error::{AppError, Result};
use crate::idempotency::{fingerprint, parse_idempotency_key};
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

    pub async fn create_flash_sale(&self, actor: &Actor, spec: FlashSaleSpec) -> Result<i64> {
        manage(actor)?;
        let spec = spec.parse()?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let (staff, now) = (actor.staff_id().map(|s| s.0), self.now());
        let op = ("flash_sale.create", "flash_sale", spec.name.as_str());
        self.promotions()
            .write_campaign(actor, &spec.audience, op, async |tx| {
                Ok(
                    store::create_flash_sale_in(tx, &Self::flash_write(&spec, &json), staff, now)
                        .await?,
                )
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
        if !self.promotions().replayable(idem).await? {
            self.promotions()
                .check_audience(&s.spec.audience, customer)
                .await?;
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
}
