//! Paid member cards (付费会员卡): card products, purchases and renewals reported by the
//! brand's order system, their refunds, the savings of each period and the guarantee's
//! settlement.
//!
//! - **Purchases** are recorded idempotently by the order system's `order_no` (a replay with
//!   the same body answers the stored period; another body under that number is 422
//!   `idempotency_key_reused`), under the customer's row lock so two purchases of one
//!   customer chain one after the other: a purchase while a period runs (or is bought ahead)
//!   starts when the last one ends — a renewal.
//! - **Savings** are counted per cause inside the transaction of the cause: an order's
//!   `member_savings` (`order:{id}`, in the order's transaction, when the order was paid in an
//!   active period) and a card coupon used (`coupon:{coupon}:{order}`, in the redemption's
//!   transaction, to the period active then); a replay of either adds nothing.
//! - **Settlement** ([`SETTLEMENT_KIND`], queued hourly from the minute tick, or started by
//!   hand): every active period that has ended is settled in one transaction of its own under
//!   its row lock — marked settled, and with the guarantee and savings below what was paid, a
//!   refund instruction (one per period, unique) for the order system. A crash in the middle
//!   and a re-run, or two runs at once, refund each difference exactly once.
//! - **Monthly pack** ([`PACKS_KIND`] daily, [`PACK_KIND`] right after a purchase): each
//!   member holding a card is given its product's coupons once per Shanghai month (a
//!   `card_grants` row, then each coupon under a key of the grant).

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::cards::{self as rules, CardSpec};
use yutang_core::loyalty::points::PERMILLE;
use yutang_core::loyalty::tiers::shanghai_month;
use yutang_core::staff::Permission;
use yutang_store::Tx;
use yutang_store::jobs::NewJob;
use yutang_store::loyalty::cards::{self as store, ProductRow, ProductWrite};
pub use yutang_store::loyalty::cards::{CardMemberRow, PeriodRow, RefundRow, SavingRow};

use crate::audit::{self, Action, Page, Paged};
use crate::customers::scope_of;
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// Job kind: settle every period that has ended (hourly, or started by hand).
pub const SETTLEMENT_KIND: &str = "card_settlement";
/// Job kind: the daily pass giving every member this month's pack.
pub const PACKS_KIND: &str = "card_packs";
/// Job kind: one customer's pack right after a purchase.
pub const PACK_KIND: &str = "card_pack";
const BATCH: i64 = 500;

pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(SETTLEMENT_KIND, |app, _job| {
        Box::pin(async move { app.cards().run_settlement().await })
    });
    reg.register(PACKS_KIND, |app, _job| {
        Box::pin(async move { app.cards().run_packs().await })
    });
    reg.register(PACK_KIND, |app, job| {
        Box::pin(async move {
            let v: serde_json::Value = serde_json::from_str(&job.payload)
                .map_err(|e| AppError::Internal(format!("card pack payload: {e}")))?;
            let customer = v["customer_id"]
                .as_i64()
                .ok_or_else(|| AppError::Internal("card pack job without customer_id".into()))?;
            let n = app.cards().give_pack(customer).await?;
            Ok(format!("{n} coupons given"))
        })
    });
}

/// A card product as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CardView {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub period_days: i64,
    pub price_fen: i64,
    pub points_multiplier: i64,
    pub monthly_coupon_template_ids: Vec<i64>,
    pub savings_guarantee: bool,
    /// No longer sold (bought periods run on).
    pub archived: bool,
    /// Members holding it now, in the caller's data scope.
    pub members: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

fn pack(r: &ProductRow) -> Vec<i64> {
    serde_json::from_str(&r.monthly_coupon_template_ids).unwrap_or_default()
}

impl CardView {
    fn of(r: &ProductRow, members: i64) -> Self {
        Self {
            id: r.id,
            key: r.card_key.clone(),
            name: r.name.clone(),
            period_days: r.period_days,
            price_fen: r.price_fen,
            points_multiplier: r.points_multiplier,
            monthly_coupon_template_ids: pack(r),
            savings_guarantee: r.savings_guarantee != 0,
            archived: r.archived_at.is_some(),
            members,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A purchase as the order system reports it, parsed at the edge.
#[derive(Debug, Clone)]
pub struct PurchaseInput {
    pub order_no: String,
    pub customer: CustomerId,
    pub card_key: String,
    /// None: the product's price.
    pub paid_fen: Option<i64>,
    /// None: now.
    pub paid_at: Option<i64>,
}

/// A recorded purchase.
#[derive(Debug, Clone, Serialize)]
pub struct Purchase {
    pub period: PeriodRow,
    /// false: a replay of the same purchase (nothing written).
    pub created: bool,
}

/// A customer's card: the period running now, until when they are covered (renewals
/// included), the savings of the current period against what it cost, and the history.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerCardView {
    pub customer_id: i64,
    pub active: bool,
    pub current: Option<PeriodRow>,
    /// The end of the last period bought and not refunded that has not ended (the
    /// `card_expires_at` segment attribute).
    pub expires_at: Option<i64>,
    /// The current period's savings and price (0 without one).
    pub savings_fen: i64,
    pub paid_fen: i64,
    /// Latest first (at most 50).
    pub periods: Vec<PeriodRow>,
    /// Newest first (at most 100).
    pub savings: Vec<SavingRow>,
}

/// The refunds of the guarantee, filtered.
#[derive(Debug, Clone, Default)]
pub struct RefundQuery {
    /// pending or acknowledged; none: both.
    pub status: Option<String>,
    pub page: Page,
}

/// The multiplier of the customer's card covering `at` (×1 without one).
pub async fn multiplier_in(tx: &mut Tx, customer: i64, at: i64) -> Result<i64> {
    Ok(store::multiplier_in(tx, customer, at)
        .await?
        .unwrap_or(PERMILLE))
}

/// The order hook: inside the transaction recording order `order_id`, add its member savings
/// to the customer's card period active when it was paid. A replayed order never gets here;
/// the cause key makes a second count impossible anyway.
pub(crate) async fn on_order_in(
    tx: &mut Tx,
    customer: i64,
    order_id: i64,
    member_savings: i64,
    paid_at: i64,
    now: i64,
) -> Result<()> {
    if member_savings <= 0 {
        return Ok(());
    }
    if let Some(period) = store::lock_covering_in(tx, customer, paid_at).await? {
        store::add_savings_in(
            tx,
            period,
            customer,
            &format!("order:{order_id}"),
            member_savings,
            now,
        )
        .await?;
    }
    Ok(())
}

/// The coupon hook: inside the transaction using coupon `coupon` on order `order`, a coupon
/// given as a card's pack adds its discount to the customer's period active now.
pub(crate) async fn on_coupon_used_in(
    tx: &mut Tx,
    coupon: i64,
    order: i64,
    customer: i64,
    discount: i64,
    now: i64,
) -> Result<()> {
    if discount <= 0 || !store::is_card_coupon_in(tx, coupon).await? {
        return Ok(());
    }
    if let Some(period) = store::lock_covering_in(tx, customer, now).await? {
        store::add_savings_in(
            tx,
            period,
            customer,
            &format!("coupon:{coupon}:{order}"),
            discount,
            now,
        )
        .await?;
    }
    Ok(())
}

/// The use cases of paid member cards.
#[derive(Clone, Copy)]
pub struct Cards<'a>(&'a App);

impl std::ops::Deref for Cards<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Cards`].
    pub fn cards(&self) -> Cards<'_> {
        Cards(self)
    }
}

fn manage(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManagePromotions) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn orders(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManageCustomers) {
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

fn write_of<'a>(s: &'a CardSpec, pack: &'a str) -> ProductWrite<'a> {
    ProductWrite {
        key: &s.key,
        name: &s.name,
        period_days: s.period_days,
        price_fen: s.price_fen,
        points_multiplier: s.points_multiplier,
        monthly_coupon_template_ids: pack,
        savings_guarantee: s.savings_guarantee,
    }
}

fn key_taken() -> AppError {
    AppError::Conflict {
        what: "key",
        code: "already_exists",
    }
}

fn purchase_fingerprint(p: &PurchaseInput) -> String {
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    crate::idempotency::fingerprint(&[
        "card_purchase",
        &p.order_no,
        &p.customer.0.to_string(),
        &p.card_key,
        &opt(p.paid_fen),
        &opt(p.paid_at),
    ])
}

async fn event_in(
    tx: &mut Tx,
    customer: i64,
    kind: &str,
    detail: serde_json::Value,
    now: i64,
) -> Result<()> {
    yutang_store::events::append_in(tx, customer, kind, now, None, &detail.to_string(), now)
        .await?;
    Ok(())
}

impl Cards<'_> {
    /// The card products (archived ones too with `archived`) with their members now in the
    /// caller's data scope.
    pub async fn products(&self, actor: &Actor, archived: bool) -> Result<Vec<CardView>> {
        view(actor)?;
        let rows = store::products(&self.db, archived).await?;
        let counts = match scope_of(actor) {
            Some(scope) => store::member_counts(&self.db, scope, self.now()).await?,
            None => vec![],
        };
        let count = |id: i64| counts.iter().find(|(c, _)| *c == id).map_or(0, |c| c.1);
        Ok(rows.iter().map(|r| CardView::of(r, count(r.id))).collect())
    }

    pub async fn product(&self, actor: &Actor, id: i64) -> Result<CardView> {
        view(actor)?;
        let r = store::product(&self.db, id)
            .await?
            .ok_or(AppError::NotFound { what: "card" })?;
        let members = match scope_of(actor) {
            Some(scope) => store::member_counts(&self.db, scope, self.now())
                .await?
                .into_iter()
                .find(|(c, _)| *c == id)
                .map_or(0, |c| c.1),
            None => 0,
        };
        Ok(CardView::of(&r, members))
    }

    async fn check_pack(tx: &mut Tx, s: &CardSpec) -> Result<()> {
        if let Some(id) = store::missing_template_in(tx, &s.monthly_coupon_template_ids).await? {
            return Err(FieldError::new(
                "monthly_coupon_template_ids",
                "unknown_reference",
                format!("no coupon template {id}"),
            )
            .into());
        }
        Ok(())
    }

    /// Create a card product (operators and admins; audited). A key in use: 409.
    pub async fn create_product(&self, actor: &Actor, spec: CardSpec) -> Result<CardView> {
        manage(actor)?;
        let s = spec.parse()?;
        let now = self.now();
        let pack = serde_json::to_string(&s.monthly_coupon_template_ids)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        Self::check_pack(&mut tx, &s).await?;
        let id = store::insert_product_in(&mut tx, &write_of(&s, &pack), now)
            .await?
            .ok_or_else(key_taken)?;
        self.audit_product(&mut tx, actor, "create", id, &s).await?;
        tx.commit().await?;
        self.product(actor, id).await
    }

    /// Replace a product's fields (periods bought keep the multiplier and guarantee they were
    /// bought with; a new price counts for new purchases). Brings an archived one back.
    pub async fn update_product(&self, actor: &Actor, id: i64, spec: CardSpec) -> Result<CardView> {
        manage(actor)?;
        let s = spec.parse()?;
        let now = self.now();
        let pack = serde_json::to_string(&s.monthly_coupon_template_ids)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        store::lock_product_in(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound { what: "card" })?;
        if let Some(other) = store::lock_product_by_key_in(&mut tx, &s.key).await?
            && other.id != id
        {
            return Err(key_taken());
        }
        Self::check_pack(&mut tx, &s).await?;
        store::update_product_in(&mut tx, id, &write_of(&s, &pack), now).await?;
        self.audit_product(&mut tx, actor, "update", id, &s).await?;
        tx.commit().await?;
        self.product(actor, id).await
    }

    /// Stop selling a product (bought periods run on and settle as usual). Again: nothing.
    pub async fn archive_product(&self, actor: &Actor, id: i64) -> Result<CardView> {
        manage(actor)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = store::lock_product_in(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound { what: "card" })?;
        if row.archived_at.is_none() {
            store::archive_product_in(&mut tx, id, now).await?;
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::CardProductChanged,
                &format!("card:{id}"),
                &serde_json::json!({"op": "card.archive", "key": row.card_key, "name": row.name})
                    .to_string(),
            )
            .await?;
        }
        tx.commit().await?;
        self.product(actor, id).await
    }

    async fn audit_product(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        op: &str,
        id: i64,
        s: &CardSpec,
    ) -> Result<()> {
        audit::record_in(
            self,
            tx,
            actor,
            Action::CardProductChanged,
            &format!("card:{id}"),
            &serde_json::json!({
                "op": format!("card.{op}"),
                "key": s.key,
                "name": s.name,
                "period_days": s.period_days,
                "price_fen": s.price_fen,
                "points_multiplier": s.points_multiplier,
                "monthly_coupon_template_ids": s.monthly_coupon_template_ids,
                "savings_guarantee": s.savings_guarantee,
            })
            .to_string(),
        )
        .await
    }

    /// A card's members now in the caller's data scope, latest to start first.
    pub async fn members(
        &self,
        actor: &Actor,
        card: i64,
        page: Page,
    ) -> Result<Paged<CardMemberRow>> {
        view(actor)?;
        store::product(&self.db, card)
            .await?
            .ok_or(AppError::NotFound { what: "card" })?;
        let Some(scope) = scope_of(actor) else {
            return Ok(Paged {
                items: vec![],
                total: 0,
                page: page.number,
                page_size: page.size,
            });
        };
        let (items, total) =
            store::members(&self.db, card, scope, self.now(), page.size, page.offset()).await?;
        Ok(Paged {
            items,
            total,
            page: page.number,
            page_size: page.size,
        })
    }

    /// Record a purchase or renewal the order system reports (HQ and API tokens). Idempotent
    /// on `order_no`.
    pub async fn record_purchase(&self, actor: &Actor, p: &PurchaseInput) -> Result<Purchase> {
        orders(actor)?;
        let customer = self
            .customers()
            .visible_customer(actor, p.customer)
            .await?
            .0;
        let fp = purchase_fingerprint(p);
        let now = self.now();
        let paid_at = p.paid_at.unwrap_or(now);
        let mut tx = self.db.begin().await?;
        // Purchases of one customer queue here, so each sees the one before it.
        yutang_store::customers::lock_in(&mut tx, customer).await?;
        if let Some(existing) = store::period_by_order_no_in(&mut tx, &p.order_no).await? {
            if existing.fingerprint != fp {
                return Err(FieldError::new(
                    "order_no",
                    "idempotency_key_reused",
                    "this order_no was already reported with another body",
                )
                .into());
            }
            return Ok(Purchase {
                period: existing,
                created: false,
            });
        }
        let product = store::lock_product_by_key_in(&mut tx, &p.card_key)
            .await?
            .filter(|r| r.archived_at.is_none())
            .ok_or_else(|| {
                FieldError::new(
                    "card_key",
                    "unknown_reference",
                    "no card on sale with this key",
                )
            })?;
        let paid_fen = p.paid_fen.unwrap_or(product.price_fen);
        let last = store::last_end_in(&mut tx, customer).await?;
        let np = rules::next_period(paid_at, last, product.period_days);
        let id = store::insert_period_in(
            &mut tx,
            &store::NewPeriod {
                customer_id: customer,
                card_id: product.id,
                order_no: &p.order_no,
                fingerprint: &fp,
                paid_fen,
                points_multiplier: product.points_multiplier,
                savings_guarantee: product.savings_guarantee != 0,
                renewal: np.renewal,
                paid_at,
                starts_at: np.starts_at,
                ends_at: np.ends_at,
            },
            now,
        )
        .await?;
        event_in(
            &mut tx,
            customer,
            if np.renewal {
                "card_renewed"
            } else {
                "card_purchased"
            },
            serde_json::json!({
                "card": product.name,
                "card_key": product.card_key,
                "order_no": p.order_no,
                "paid_fen": paid_fen,
                "starts_at": np.starts_at,
                "ends_at": np.ends_at,
            }),
            now,
        )
        .await?;
        if rules::covers(np.starts_at, np.ends_at, now) && !pack(&product).is_empty() {
            let key = format!("{PACK_KIND}:{id}");
            let payload = serde_json::json!({ "customer_id": customer }).to_string();
            yutang_store::jobs::enqueue_in(
                &mut tx,
                &NewJob {
                    kind: PACK_KIND,
                    payload: &payload,
                    run_at: now,
                    idempotency_key: Some(&key),
                    created_by: None,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        let period = store::period_by_order_no(&self.db, &p.order_no)
            .await?
            .ok_or(AppError::NotFound {
                what: "card period",
            })?;
        Ok(Purchase {
            period,
            created: true,
        })
    }

    /// Refund a card purchase (HQ and API tokens; audited): its period ends now (or, bought
    /// ahead, never starts) and is not settled; later periods keep their dates. Again:
    /// the same answer, nothing changes. A settled period: 409 `card_period_closed`.
    pub async fn refund_purchase(
        &self,
        actor: &Actor,
        order_no: &str,
        reason: &str,
    ) -> Result<PeriodRow> {
        orders(actor)?;
        let now = self.now();
        let found =
            store::period_by_order_no(&self.db, order_no)
                .await?
                .ok_or(AppError::NotFound {
                    what: "card purchase",
                })?;
        self.customers()
            .visible_customer(actor, CustomerId(found.customer_id))
            .await?;
        let mut tx = self.db.begin().await?;
        let p = store::lock_period_in(&mut tx, found.id)
            .await?
            .ok_or(AppError::NotFound {
                what: "card purchase",
            })?;
        match p.status.as_str() {
            "refunded" => return Ok(p),
            "settled" => {
                return Err(AppError::Rule {
                    code: "card_period_closed",
                    message: "this card period has ended and was settled".into(),
                });
            }
            _ => {}
        }
        let ends_at = now.clamp(p.starts_at, p.ends_at);
        store::close_period_in(&mut tx, p.id, "refunded", ends_at, reason, now).await?;
        event_in(
            &mut tx,
            p.customer_id,
            "card_refunded",
            serde_json::json!({
                "card": p.card_name,
                "card_key": p.card_key,
                "order_no": p.order_no,
                "paid_fen": p.paid_fen,
                "ended_at": ends_at,
                "reason": reason,
            }),
            now,
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::CardPurchaseRefunded,
            &format!("card_period:{}", p.id),
            &serde_json::json!({"order_no": p.order_no, "customer_id": p.customer_id, "reason": reason})
                .to_string(),
        )
        .await?;
        tx.commit().await?;
        store::period_by_order_no(&self.db, order_no)
            .await?
            .ok_or(AppError::NotFound {
                what: "card purchase",
            })
    }

    /// A customer's card (customers the caller sees).
    pub async fn customer_card(&self, actor: &Actor, id: CustomerId) -> Result<CustomerCardView> {
        let id = self.customers().visible_customer(actor, id).await?.0;
        self.card_of(id).await
    }

    /// The signed-in customer's own card (H5).
    pub async fn public_card(&self, customer: CustomerId) -> Result<CustomerCardView> {
        self.card_of(customer.0).await
    }

    async fn card_of(&self, id: i64) -> Result<CustomerCardView> {
        let now = self.now();
        let periods = store::periods_of(&self.db, id, 50).await?;
        let current = periods
            .iter()
            .filter(|p| p.status == "active" && rules::covers(p.starts_at, p.ends_at, now))
            .min_by_key(|p| (p.starts_at, p.id))
            .cloned();
        let expires_at = periods
            .iter()
            .filter(|p| p.status == "active" && p.ends_at > now)
            .map(|p| p.ends_at)
            .max();
        Ok(CustomerCardView {
            customer_id: id,
            active: current.is_some(),
            expires_at,
            savings_fen: current.as_ref().map_or(0, |p| p.savings_fen),
            paid_fen: current.as_ref().map_or(0, |p| p.paid_fen),
            current,
            periods,
            savings: store::savings_of(&self.db, id, 100).await?,
        })
    }

    /// The guarantee's refund instructions in the caller's data scope, newest first.
    pub async fn refunds(&self, actor: &Actor, q: &RefundQuery) -> Result<Paged<RefundRow>> {
        view(actor)?;
        if let Some(s) = q.status.as_deref()
            && !matches!(s, "pending" | "acknowledged")
        {
            return Err(FieldError::new(
                "status",
                "invalid_status",
                "the status is pending or acknowledged",
            )
            .into());
        }
        let Some(scope) = scope_of(actor) else {
            return Ok(Paged {
                items: vec![],
                total: 0,
                page: q.page.number,
                page_size: q.page.size,
            });
        };
        let (items, total) = store::refunds(
            &self.db,
            q.status.as_deref(),
            scope,
            q.page.size,
            q.page.offset(),
        )
        .await?;
        Ok(Paged {
            items,
            total,
            page: q.page.number,
            page_size: q.page.size,
        })
    }

    /// The order system confirms it paid a refund (HQ and API tokens; audited). Again: the
    /// same answer, nothing changes.
    pub async fn acknowledge_refund(&self, actor: &Actor, id: i64) -> Result<RefundRow> {
        orders(actor)?;
        let r = store::refund(&self.db, id)
            .await?
            .ok_or(AppError::NotFound {
                what: "card refund",
            })?;
        self.customers()
            .visible_customer(actor, CustomerId(r.customer_id))
            .await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if store::acknowledge_refund_in(&mut tx, id, &actor.name, now).await? {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::CardRefundAcknowledged,
                &format!("card_refund:{id}"),
                &serde_json::json!({"order_no": r.order_no, "customer_id": r.customer_id, "amount_fen": r.amount_fen})
                    .to_string(),
            )
            .await?;
        }
        tx.commit().await?;
        store::refund(&self.db, id)
            .await?
            .ok_or(AppError::NotFound {
                what: "card refund",
            })
    }

    /// Queue this hour's settlement and today's packs (from the minute tick: every node may,
    /// one of each runs).
    pub async fn schedule(&self) -> Result<()> {
        let now = self.now();
        let day = yutang_core::promotions::stats::day_of(now);
        let hour = now.div_euclid(3_600_000);
        self.enqueue(
            SETTLEMENT_KIND,
            &format!("{SETTLEMENT_KIND}:{hour}"),
            None,
            now,
        )
        .await?;
        self.enqueue(PACKS_KIND, &format!("{PACKS_KIND}:{day}"), None, now)
            .await?;
        Ok(())
    }

    /// Start a settlement now (admins, operators, API tokens); one per minute at most: a
    /// second request within it answers the first's job.
    pub async fn start_settlement(&self, actor: &Actor) -> Result<i64> {
        orders(actor)?;
        let now = self.now();
        let key = format!("{SETTLEMENT_KIND}:manual:{}", now / 60_000);
        self.enqueue(SETTLEMENT_KIND, &key, actor.actor_id(), now)
            .await
    }

    async fn enqueue(&self, kind: &str, key: &str, by: Option<i64>, now: i64) -> Result<i64> {
        Ok(yutang_store::jobs::enqueue(
            &self.db,
            &NewJob {
                kind,
                payload: "{}",
                run_at: now,
                idempotency_key: Some(key),
                created_by: by,
            },
            now,
        )
        .await?)
    }

    /// Settle every active period that has ended, each in its own transaction. Returns a
    /// summary.
    pub async fn run_settlement(&self) -> Result<String> {
        let (mut settled, mut refunds, mut refunded_fen) = (0, 0, 0i64);
        let mut seen: Vec<i64> = Vec::new();
        loop {
            let now = self.now();
            let due = store::due(&self.db, now, BATCH).await?;
            // A period another run holds is settled by it; stop rather than loop on it.
            let fresh: Vec<i64> = due
                .iter()
                .copied()
                .filter(|id| !seen.contains(id))
                .collect();
            if fresh.is_empty() {
                break;
            }
            for id in &fresh {
                seen.push(*id);
                if let Some(r) = self.settle_one(*id).await? {
                    settled += 1;
                    if r > 0 {
                        refunds += 1;
                        refunded_fen += r;
                    }
                }
            }
            if (due.len() as i64) < BATCH {
                break;
            }
        }
        Ok(format!(
            "{settled} card periods settled, {refunds} refunds ({refunded_fen} fen) owed"
        ))
    }

    /// Settle one period under its row lock: `None` when it is not due (settled or refunded
    /// by another run, or not ended); else the refund owed (0: none).
    pub async fn settle_one(&self, id: i64) -> Result<Option<i64>> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let Some(p) = store::lock_period_in(&mut tx, id).await? else {
            return Ok(None);
        };
        if p.status != "active" || p.ends_at > now {
            return Ok(None);
        }
        let refund = rules::settlement_refund(p.paid_fen, p.savings_fen, p.savings_guarantee != 0);
        if !store::close_period_in(&mut tx, id, "settled", p.ends_at, "", now).await? {
            return Ok(None);
        }
        if refund > 0 {
            store::insert_refund_in(
                &mut tx,
                id,
                p.customer_id,
                &p.order_no,
                p.paid_fen,
                p.savings_fen,
                refund,
                now,
            )
            .await?;
        }
        event_in(
            &mut tx,
            p.customer_id,
            "card_settled",
            serde_json::json!({
                "card": p.card_name,
                "card_key": p.card_key,
                "order_no": p.order_no,
                "paid_fen": p.paid_fen,
                "savings_fen": p.savings_fen,
                "refund_fen": refund,
            }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(refund))
    }

    /// Give every member holding a card now this month's pack.
    pub async fn run_packs(&self) -> Result<String> {
        let mut after = 0;
        let mut given = 0;
        loop {
            let page = store::holders_after(&self.db, after, self.now(), BATCH).await?;
            for c in &page {
                given += self.give_pack(*c).await?;
            }
            match page.last() {
                Some(last) if (page.len() as i64) == BATCH => after = *last,
                _ => break,
            }
        }
        Ok(format!("{given} card coupons given"))
    }

    /// Give a member this Shanghai month's pack of the card they hold now, once: the grant row
    /// decides the period and templates the first time, and each coupon is issued under a key
    /// of the grant, so a re-run (or a crash in between) issues only what is missing. A
    /// template that cannot be issued (archived, out of stock) is skipped.
    pub async fn give_pack(&self, customer: i64) -> Result<usize> {
        let now = self.now();
        let month = shanghai_month(now);
        let mut tx = self.db.begin().await?;
        let Some((period, json)) = store::covering_pack_in(&mut tx, customer, now).await? else {
            return Ok(0);
        };
        let ids: Vec<i64> = serde_json::from_str(&json).unwrap_or_default();
        if ids.is_empty() {
            return Ok(0);
        }
        let (period, stood) =
            store::grant_in(&mut tx, customer, &month, period, &json, now).await?;
        tx.commit().await?;
        let ids: Vec<i64> = serde_json::from_str(&stood).unwrap_or_default();
        let mut n = 0;
        for (i, template) in ids.into_iter().enumerate() {
            let key = format!("card_pack:{customer}:{month}:{i}:{template}");
            match self
                .coupons()
                .issue_reward(template, CustomerId(customer), &key)
                .await
            {
                Ok(c) => {
                    store::record_coupons(&self.db, &c.coupon_ids, period, customer, now).await?;
                    n += c.coupon_ids.len();
                }
                Err(
                    e @ (AppError::Rule { .. } | AppError::Invalid(_) | AppError::NotFound { .. }),
                ) => {
                    tracing::warn!(customer, template, error = %e, "card coupon not issued");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}
