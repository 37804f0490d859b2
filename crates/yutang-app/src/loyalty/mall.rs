//! The points mall's use cases (积分商城): items (admin, operator; audited), exchanges by the
//! POS or an integration (API token) and by the customer (mini-program, H5), the cash part's
//! payment reported by the brand's order system, fulfilment (ship, deliver, fulfil) and
//! cancellation, and the expiry of unpaid exchanges.
//!
//! An exchange is one transaction, in the flash sale's never-oversell order: the item is read
//! under its row lock (every exchange of the item queues there, so the stock and the
//! customer's count read after it are exact), core decides (on sale, stock, per-customer
//! limit), the guarded `UPDATE … WHERE stock > 0` takes the unit, the exchange is written, the
//! points are debited through the ledger (the customer's account row lock; entry key
//! `mall:{exchange}`, source `mall`) and, for a coupon item, the coupon is issued — all or
//! nothing. A replay of the same `Idempotency-Key` finds the exchange and changes nothing.
//!
//! A cancellation or an expiry locks the exchange, then returns the unit (the item's row) and
//! the points (the account's row) — the same lock order as an exchange — and moves the
//! exchange out of the state that held them: core's [`transition`] allows that once, and the
//! return entry's key (`mall_return:{exchange}`) backs it.

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::mall::{
    self as rules, ExchangeAction, ExchangeState, ItemKind, ItemSpec, transition,
};
use yutang_core::loyalty::points::EntryKind;
use yutang_core::promotions::{PromoRefusal, check_limit};
use yutang_core::staff::Permission;
use yutang_store::jobs::{self as job_store, NewJob};
use yutang_store::loyalty::mall::{self as store, ExchangeFilter, ExchangeMove, ItemWrite};
use yutang_store::{StoreError, Tx};

pub use store::{ExchangeRow, ItemRow};

use super::points::{Cause, debit_in, restore_in};
use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::idempotency::{check_replay, fingerprint, in_progress};
use crate::promotions::coupons::TemplateView;
use crate::{Actor, App};

/// The expiry run's job kind: unpaid exchanges past their window give back points and stock.
pub const EXPIRY_KIND: &str = "mall_expiry";
/// Exchanges expired per page of the run.
const EXPIRY_BATCH: i64 = 200;
/// The most exchanges one list page returns.
pub const MAX_PAGE: i64 = 200;

/// The job kinds this area runs (see `crate::job_kinds`).
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(EXPIRY_KIND, |app, job| {
        Box::pin(async move { app.mall().run_expiry(job.id).await })
    });
}

/// A fulfilment or payment step asked of an exchange.
#[derive(Debug, Clone)]
pub enum Step {
    /// The order system reports the cash part paid by this order.
    Pay {
        order_ref: String,
    },
    /// A gift leaves with a carrier and tracking number.
    Ship {
        carrier: String,
        tracking_no: String,
    },
    Deliver,
    Fulfil,
    Cancel,
}

impl Step {
    fn action(&self) -> ExchangeAction {
        match self {
            Step::Pay { .. } => ExchangeAction::Pay,
            Step::Ship { .. } => ExchangeAction::Ship,
            Step::Deliver => ExchangeAction::Deliver,
            Step::Fulfil => ExchangeAction::Fulfil,
            Step::Cancel => ExchangeAction::Cancel,
        }
    }
}

/// The staff list's filters.
#[derive(Debug, Clone, Default)]
pub struct ExchangeQuery {
    pub state: Option<String>,
    pub item_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub kind: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// One page of exchanges, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangePage {
    pub items: Vec<ExchangeRow>,
    /// Pass as `before` for the next (older) page; `None`: this is the last.
    pub next_before: Option<i64>,
}

/// The points-mall use cases.
#[derive(Clone, Copy)]
pub struct Mall<'a>(&'a App);

impl std::ops::Deref for Mall<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of the points mall.
    pub fn mall(&self) -> Mall<'_> {
        Mall(self)
    }
}

fn require(actor: &Actor, p: Permission) -> Result<()> {
    if actor.can(p) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn not_found_item() -> AppError {
    AppError::NotFound { what: "mall item" }
}

fn not_found_exchange() -> AppError {
    AppError::NotFound {
        what: "mall exchange",
    }
}

fn require_key(k: Option<&str>) -> Result<&str> {
    k.ok_or_else(|| {
        FieldError::new(
            crate::idempotency::HEADER,
            "required",
            "an exchange needs an Idempotency-Key, so a retry never spends twice",
        )
        .into()
    })
}

fn refusal(r: PromoRefusal) -> AppError {
    AppError::Rule {
        code: r.code(),
        message: r.to_string(),
    }
}

fn write_of(spec: &ItemSpec) -> ItemWrite<'_> {
    ItemWrite {
        kind: spec.kind.as_str(),
        name: &spec.name,
        description: &spec.description,
        image_url: spec.image_url.as_deref(),
        points_price: spec.points_price,
        cash_price_fen: spec.cash_price_fen,
        stock: spec.stock,
        per_customer_limit: spec.per_customer_limit,
        coupon_template_id: spec.coupon_template_id,
        sku: spec.sku.as_deref(),
        starts_at: spec.starts_at,
        ends_at: spec.ends_at,
        on_sale: spec.on_sale,
        payment_minutes: spec.payment_minutes,
    }
}

/// A stored kind or state core does not know is a broken row.
fn kind_of(s: &str) -> Result<ItemKind> {
    ItemKind::parse("kind", s).map_err(|_| AppError::Internal(format!("stored mall kind {s:?}")))
}

fn state_of(s: &str) -> Result<ExchangeState> {
    ExchangeState::parse(s).ok_or_else(|| AppError::Internal(format!("stored mall state {s:?}")))
}

async fn event_in(
    tx: &mut Tx,
    customer: i64,
    kind: &str,
    staff: Option<i64>,
    detail: serde_json::Value,
    now: i64,
) -> Result<()> {
    let d = detail.to_string();
    yutang_store::events::append_in(tx, customer, kind, now, staff, &d, now).await?;
    Ok(())
}

impl Mall<'_> {
    // --- items ---

    /// A coupon item's template must exist.
    async fn check_template(&self, spec: &ItemSpec) -> Result<()> {
        if let Some(t) = spec.coupon_template_id {
            self.coupons()
                .coupon_template(&Actor::system(), t)
                .await
                .map_err(|_| {
                    AppError::from(FieldError::new(
                        "coupon_template_id",
                        "unknown_reference",
                        format!("no coupon template {t}"),
                    ))
                })?;
        }
        Ok(())
    }

    /// Create an item (admin, operator), audited.
    pub async fn create_item(&self, actor: &Actor, spec: ItemSpec) -> Result<ItemRow> {
        require(actor, Permission::ManagePromotions)?;
        let spec = spec.parse()?;
        self.check_template(&spec).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_item_in(&mut tx, &write_of(&spec), &actor.name, now).await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MallChanged,
            &format!("mall_item:{id}"),
            &serde_json::json!({"op": "mall_item.create", "name": spec.name, "item_kind": spec.kind.as_str(),
                "stock": spec.stock, "points_price": spec.points_price})
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(store::item(&self.db, id).await?)
    }

    /// Replace an item (admin, operator), audited. Its kind cannot change; `stock` is the
    /// units left from now on.
    pub async fn update_item(&self, actor: &Actor, id: i64, spec: ItemSpec) -> Result<ItemRow> {
        require(actor, Permission::ManagePromotions)?;
        let spec = spec.parse()?;
        let before = store::item(&self.db, id)
            .await
            .map_err(|_| not_found_item())?;
        if before.archived_at.is_some() {
            return Err(not_found_item());
        }
        if before.kind != spec.kind.as_str() {
            return Err(
                FieldError::new("kind", "invalid_field", "an item's kind cannot change").into(),
            );
        }
        self.check_template(&spec).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        store::lock_item_in(&mut tx, id).await?;
        if !store::update_item_in(&mut tx, id, &write_of(&spec), now).await? {
            return Err(not_found_item());
        }
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MallChanged,
            &format!("mall_item:{id}"),
            &serde_json::json!({"op": "mall_item.update", "name": spec.name,
                "before": {"stock": before.stock, "points_price": before.points_price, "on_sale": before.on_sale},
                "after": {"stock": spec.stock, "points_price": spec.points_price, "on_sale": spec.on_sale}})
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(store::item(&self.db, id).await?)
    }

    /// Archive an item (admin, operator), audited: closed to exchanges and out of the lists;
    /// its exchanges keep it. Archiving it again answers 404.
    pub async fn archive_item(&self, actor: &Actor, id: i64) -> Result<()> {
        require(actor, Permission::ManagePromotions)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if !store::archive_item_in(&mut tx, id, now).await? {
            return Err(not_found_item());
        }
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MallChanged,
            &format!("mall_item:{id}"),
            &serde_json::json!({"op": "mall_item.archive"}).to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Items for staff (anyone who sees customers): live ones, or the archived ones.
    pub async fn items(&self, actor: &Actor, archived: bool) -> Result<Vec<ItemRow>> {
        require(actor, Permission::ViewCustomers)?;
        Ok(store::items(&self.db, archived, false).await?)
    }

    pub async fn item(&self, actor: &Actor, id: i64) -> Result<ItemRow> {
        require(actor, Permission::ViewCustomers)?;
        store::item(&self.db, id)
            .await
            .map_err(|_| not_found_item())
    }

    /// Items a customer can exchange now: on sale and inside their window.
    pub async fn public_items(&self) -> Result<Vec<ItemRow>> {
        let now = self.now();
        Ok(store::items(&self.db, false, true)
            .await?
            .into_iter()
            .filter(|i| rules::check_open(i.on_sale, i.starts_at, i.ends_at, now).is_ok())
            .collect())
    }

    // --- exchanges ---

    /// Exchange one unit of an item for a customer (POS, integrations: admin, operator
    /// tokens), once per `Idempotency-Key`: a retry answers the first exchange (`false`).
    pub async fn exchange(
        &self,
        actor: &Actor,
        customer: CustomerId,
        item: i64,
        idempotency_key: Option<&str>,
    ) -> Result<(ExchangeRow, bool)> {
        require(actor, Permission::ManageCustomers)?;
        let id = self.customers().visible_customer(actor, customer).await?;
        let key = require_key(idempotency_key)?;
        let ns = format!("{}:{}:{key}", actor.kind(), actor.actor_id().unwrap_or(0));
        self.exchange_for(id, item, &ns, &actor.name, actor.staff_id().map(|s| s.0))
            .await
    }

    /// The customer exchanges one unit for themselves (mini-program, H5).
    pub async fn exchange_own(
        &self,
        customer: CustomerId,
        item: i64,
        idempotency_key: Option<&str>,
    ) -> Result<(ExchangeRow, bool)> {
        let key = require_key(idempotency_key)?;
        let ns = format!("customer:{}:{key}", customer.0);
        self.exchange_for(
            customer,
            item,
            &ns,
            &format!("customer:{}", customer.0),
            None,
        )
        .await
    }

    async fn exchange_for(
        &self,
        customer: CustomerId,
        item: i64,
        key: &str,
        by: &str,
        staff: Option<i64>,
    ) -> Result<(ExchangeRow, bool)> {
        let fp = fingerprint(&["mall_exchange", &customer.0.to_string(), &item.to_string()]);
        // A replay answers before anything else.
        if let Some(prior) = store::exchange_by_key(&self.db, key).await? {
            check_replay(&prior.fingerprint, &fp)?;
            return Ok((prior, false));
        }
        let row = store::item(&self.db, item)
            .await
            .map_err(|_| not_found_item())?;
        if row.archived_at.is_some() {
            return Err(not_found_item());
        }
        let now = self.now();
        // Closed or sold out: refused without taking the writer.
        rules::check_open(row.on_sale, row.starts_at, row.ends_at, now)?;
        if row.stock <= 0 {
            return Err(refusal(PromoRefusal::OutOfStock));
        }
        let template = match row.coupon_template_id {
            Some(t) => Some(self.coupons().coupon_template(&Actor::system(), t).await?),
            None => None,
        };
        let out = self
            .write_exchange(customer, item, key, &fp, by, staff, template.as_ref(), now)
            .await;
        match out {
            Ok(id) => Ok((store::exchange(&self.db, id).await?, true)),
            Err(e) => {
                // A concurrent copy of the same request may have won: its answer is the replay.
                match store::exchange_by_key(&self.db, key).await? {
                    Some(prior) => {
                        check_replay(&prior.fingerprint, &fp)?;
                        Ok((prior, false))
                    }
                    None => Err(e),
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_exchange(
        &self,
        customer: CustomerId,
        item: i64,
        key: &str,
        fp: &str,
        by: &str,
        staff: Option<i64>,
        template: Option<&TemplateView>,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.db.begin().await?;
        let it = store::lock_item_in(&mut tx, item)
            .await?
            .ok_or_else(not_found_item)?;
        if it.archived_at.is_some() {
            return Err(not_found_item());
        }
        // A copy of this request committed while this one queued: the caller answers it.
        if store::exchange_by_key_in(&mut tx, key).await?.is_some() {
            return Err(in_progress());
        }
        rules::check_open(it.on_sale, it.starts_at, it.ends_at, now)?;
        let kind = kind_of(&it.kind)?;
        if it.stock <= 0 {
            return Err(refusal(PromoRefusal::OutOfStock));
        }
        if let Some(limit) = it.per_customer_limit {
            let held = store::held_in(&mut tx, item, customer.0).await?;
            check_limit(held, limit).map_err(refusal)?;
        }
        if !store::take_unit_in(&mut tx, item, now).await? {
            return Err(refusal(PromoRefusal::OutOfStock));
        }
        let needs_payment = it.cash_price_fen > 0;
        let state = rules::initial_state(kind, needs_payment);
        let coupon = match (state, template) {
            (ExchangeState::Completed, Some(t)) => Some(
                self.coupons()
                    .claim_in(&mut tx, t, customer, "mall", staff, now)
                    .await?
                    .claim_id,
            ),
            (ExchangeState::Completed, None) => {
                return Err(AppError::Internal(format!(
                    "coupon item {item} has no template"
                )));
            }
            _ => None,
        };
        // The ledger entry is keyed by the exchange; the exchange names its entry: the entry
        // is posted first under the request's key, then the exchange, then the entry's trace.
        let entry_key = format!("mall:{key}");
        let posted = debit_in(
            &mut tx,
            customer.0,
            EntryKind::Redeem,
            it.points_price,
            "points",
            &Cause {
                key: &entry_key,
                fingerprint: fp,
                source_type: "mall",
                source_id: &format!("item:{item}"),
                reason: &it.name,
                actor: by,
            },
            now,
        )
        .await?;
        let entry = posted
            .entry_id
            .ok_or_else(|| AppError::Internal("an exchange posted no entry".into()))?;
        let id = store::insert_exchange_in(
            &mut tx,
            &store::NewExchange {
                key,
                fingerprint: fp,
                item_id: item,
                customer_id: customer.0,
                kind: kind.as_str(),
                state: state.as_str(),
                points: it.points_price,
                cash_fen: it.cash_price_fen,
                points_entry_id: entry,
                coupon_claim_id: coupon,
                pay_by: needs_payment.then(|| now + it.payment_minutes * 60_000),
                created_by: by,
            },
            now,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => in_progress(),
            other => other.into(),
        })?;
        event_in(
            &mut tx,
            customer.0,
            "mall_exchanged",
            staff,
            serde_json::json!({"exchange_id": id, "item_id": item, "name": it.name,
                "points": it.points_price, "cash_fen": it.cash_price_fen, "exchange_state": state.as_str()}),
            now,
        )
        .await?;
        tx.commit().await.map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => in_progress(),
            other => other,
        })?;
        Ok(id)
    }

    /// A step by staff or an integration: pay (the order system), ship, deliver, fulfil,
    /// cancel (admin, operator; API tokens), audited. Asking again for the step already made
    /// answers the exchange as it is (`false`).
    pub async fn step(&self, actor: &Actor, id: i64, step: Step) -> Result<(ExchangeRow, bool)> {
        require(actor, Permission::ManageCustomers)?;
        let row = store::exchange(&self.db, id)
            .await
            .map_err(|_| not_found_exchange())?;
        self.customers()
            .visible_customer(actor, CustomerId(row.customer_id))
            .await
            .map_err(|_| not_found_exchange())?;
        self.move_exchange(row, step, &actor.name, Some(actor))
            .await
    }

    /// The customer cancels their own exchange (before it ships).
    pub async fn cancel_own(&self, customer: CustomerId, id: i64) -> Result<(ExchangeRow, bool)> {
        let row = store::exchange(&self.db, id)
            .await
            .map_err(|_| not_found_exchange())?;
        if row.customer_id != customer.0 {
            return Err(not_found_exchange());
        }
        self.move_exchange(row, Step::Cancel, &format!("customer:{}", customer.0), None)
            .await
    }

    async fn move_exchange(
        &self,
        row: ExchangeRow,
        step: Step,
        by: &str,
        actor: Option<&Actor>,
    ) -> Result<(ExchangeRow, bool)> {
        let step = match step {
            Step::Pay { order_ref } => Step::Pay {
                order_ref: yutang_core::orders::parse_external_id("order_ref", &order_ref)?,
            },
            Step::Ship {
                carrier,
                tracking_no,
            } => {
                let (carrier, tracking_no) = rules::parse_shipment(&carrier, &tracking_no)?;
                Step::Ship {
                    carrier,
                    tracking_no,
                }
            }
            other => other,
        };
        let template = if step.action() == ExchangeAction::Pay && row.kind == "coupon" {
            let item = store::item(&self.db, row.item_id).await?;
            match item.coupon_template_id {
                Some(t) => Some(self.coupons().coupon_template(&Actor::system(), t).await?),
                None => None,
            }
        } else {
            None
        };
        let id = row.id;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let e = store::lock_exchange_in(&mut tx, id)
            .await?
            .ok_or_else(not_found_exchange)?;
        let kind = kind_of(&e.kind)?;
        let state = state_of(&e.state)?;
        if already_made(&e, state, &step) {
            return Ok((e, false));
        }
        if step.action() == ExchangeAction::Pay && rules::payment_due(state, e.pay_by, now) {
            return Err(FieldError::new(
                "state",
                "invalid_exchange_transition",
                "the payment window has passed: the exchange expires",
            )
            .into());
        }
        let t = transition(kind, state, step.action())?;
        self.apply_in(
            &mut tx,
            &e,
            kind,
            state,
            t,
            &step,
            by,
            template.as_ref(),
            now,
        )
        .await?;
        if let Some(actor) = actor {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::MallChanged,
                &format!("mall_exchange:{id}"),
                &serde_json::json!({"op": format!("mall_exchange.{}", step.action().as_str()),
                    "customer_id": e.customer_id, "from_state": state.as_str(), "to_state": t.to.as_str()})
                .to_string(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok((store::exchange(&self.db, id).await?, true))
    }

    /// Make the move core allowed on the exchange locked in `tx`: the unit and the points go
    /// back on a return, a coupon item's coupon is issued when it completes, and the exchange
    /// moves from the state read (its guard).
    #[allow(clippy::too_many_arguments)]
    async fn apply_in(
        &self,
        tx: &mut Tx,
        e: &ExchangeRow,
        kind: ItemKind,
        state: ExchangeState,
        t: rules::Transition,
        step: &Step,
        by: &str,
        template: Option<&TemplateView>,
        now: i64,
    ) -> Result<()> {
        let mut return_entry = None;
        if t.returns {
            // Item row, then the account: the lock order of an exchange.
            if !store::return_unit_in(tx, e.item_id, now).await? {
                return Err(AppError::Internal(format!(
                    "mall item {} has no unit of exchange {} to take back",
                    e.item_id, e.id
                )));
            }
            let key = format!("mall_return:{}", e.id);
            let sid = e.id.to_string();
            let posted = restore_in(
                tx,
                e.customer_id,
                e.points_entry_id,
                &Cause {
                    key: &key,
                    fingerprint: "",
                    source_type: "mall",
                    source_id: &sid,
                    reason: t.to.as_str(),
                    actor: by,
                },
                now,
            )
            .await?;
            return_entry = posted.entry_id;
        }
        let mut coupon = None;
        if t.issues_coupon && kind == ItemKind::Coupon {
            let tv = template.ok_or_else(|| {
                AppError::Internal(format!("coupon exchange {} has no template", e.id))
            })?;
            coupon = Some(
                self.coupons()
                    .claim_in(tx, tv, CustomerId(e.customer_id), "mall", None, now)
                    .await?
                    .claim_id,
            );
        }
        let (order_ref, carrier, tracking_no) = match step {
            Step::Pay { order_ref } => (Some(order_ref.as_str()), None, None),
            Step::Ship {
                carrier,
                tracking_no,
            } => (None, Some(carrier.as_str()), Some(tracking_no.as_str())),
            _ => (None, None, None),
        };
        let m = ExchangeMove {
            from: state.as_str(),
            to: t.to.as_str(),
            order_ref,
            carrier,
            tracking_no,
            return_entry_id: return_entry,
            coupon_claim_id: coupon,
            paid: step.action() == ExchangeAction::Pay,
            shipped: t.to == ExchangeState::Shipped,
            finished: matches!(
                t.to,
                ExchangeState::Delivered | ExchangeState::Fulfilled | ExchangeState::Completed
            ),
            returned: t.returns,
            by,
        };
        if !store::move_exchange_in(tx, e.id, &m, now).await? {
            return Err(AppError::Internal(format!(
                "mall exchange {} moved under its lock",
                e.id
            )));
        }
        event_in(
            tx,
            e.customer_id,
            "mall_exchange_changed",
            None,
            serde_json::json!({"exchange_id": e.id, "item_id": e.item_id, "from_state": state.as_str(),
                "to_state": t.to.as_str(), "points_returned": if t.returns { e.points } else { 0 }}),
            now,
        )
        .await?;
        Ok(())
    }

    /// Expire one exchange awaiting payment past its window: points and unit back, once.
    /// `false`: nothing to do (paid, cancelled or expired already, or not due).
    pub async fn expire_exchange(&self, id: i64) -> Result<bool> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let Some(e) = store::lock_exchange_in(&mut tx, id).await? else {
            return Ok(false);
        };
        let state = state_of(&e.state)?;
        if !rules::payment_due(state, e.pay_by, now) {
            return Ok(false);
        }
        let kind = kind_of(&e.kind)?;
        let t = transition(kind, state, ExchangeAction::Expire)?;
        self.apply_in(
            &mut tx,
            &e,
            kind,
            state,
            t,
            &Step::Cancel,
            "system",
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Enqueue an expiry run when an unpaid exchange is past its window (from the minute
    /// tick; at most one run per minute). `None`: nothing is due.
    pub async fn schedule_expiry(&self) -> Result<Option<i64>> {
        let now = self.now();
        if store::due_exchanges(&self.db, now, 0, 1).await?.is_empty() {
            return Ok(None);
        }
        let key = format!("mall_expiry:{}", now / 60_000);
        Ok(Some(
            job_store::enqueue(
                &self.db,
                &NewJob {
                    kind: EXPIRY_KIND,
                    payload: "{}",
                    run_at: now,
                    idempotency_key: Some(&key),
                    created_by: None,
                },
                now,
            )
            .await?,
        ))
    }

    /// Run an expiry pass: every exchange due now expires once, each in its own transaction.
    /// A run that stops is simply run again: an expired exchange is not due any more.
    pub async fn run_expiry(&self, job_id: i64) -> Result<String> {
        let now = self.now();
        let mut after = 0i64;
        let mut expired = 0i64;
        let mut seen = 0i64;
        loop {
            let batch = store::due_exchanges(&self.db, now, after, EXPIRY_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = *last;
            for id in &batch {
                if self.expire_exchange(*id).await? {
                    expired += 1;
                }
            }
            seen += batch.len() as i64;
            job_store::progress(
                &self.db,
                job_id,
                seen,
                seen,
                self.now(),
                crate::jobs::LEASE_MS,
            )
            .await?;
        }
        Ok(serde_json::json!({"expired": expired}).to_string())
    }

    /// Exchanges for staff, newest first. Brand-wide (HQ roles that see metrics), or one
    /// customer's (anyone who sees that customer).
    pub async fn exchanges(&self, actor: &Actor, q: &ExchangeQuery) -> Result<ExchangePage> {
        match q.customer_id {
            Some(c) => {
                self.customers()
                    .visible_customer(actor, CustomerId(c))
                    .await?;
            }
            None => require(actor, Permission::ViewMetrics)?,
        }
        if let Some(s) = q.state.as_deref()
            && ExchangeState::parse(s).is_none()
        {
            return Err(FieldError::new(
                "state",
                "invalid_status",
                "state is awaiting_payment, pending, shipped, delivered, fulfilled, completed, cancelled or expired",
            )
            .into());
        }
        if let Some(k) = q.kind.as_deref() {
            ItemKind::parse("kind", k)?;
        }
        let limit = q.limit.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(FieldError::new("limit", "invalid_page_size", "limit is 1 to 200").into());
        }
        let items = store::exchanges(
            &self.db,
            &ExchangeFilter {
                state: q.state.as_deref(),
                item_id: q.item_id,
                customer_id: q.customer_id,
                kind: q.kind.as_deref(),
                before: q.before,
                limit: limit + 1,
            },
        )
        .await?;
        Ok(page(items, limit))
    }

    /// One exchange for staff who see its customer.
    pub async fn exchange_row(&self, actor: &Actor, id: i64) -> Result<ExchangeRow> {
        require(actor, Permission::ViewCustomers)?;
        let row = store::exchange(&self.db, id)
            .await
            .map_err(|_| not_found_exchange())?;
        self.customers()
            .visible_customer(actor, CustomerId(row.customer_id))
            .await
            .map_err(|_| not_found_exchange())?;
        Ok(row)
    }

    /// The customer's own exchanges, newest first.
    pub async fn my_exchanges(&self, customer: CustomerId) -> Result<Vec<ExchangeRow>> {
        Ok(store::exchanges(
            &self.db,
            &ExchangeFilter {
                customer_id: Some(customer.0),
                limit: MAX_PAGE,
                ..Default::default()
            },
        )
        .await?)
    }
}

fn page(mut items: Vec<ExchangeRow>, limit: i64) -> ExchangePage {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_before = if more {
        items.last().map(|e| e.id)
    } else {
        None
    };
    ExchangePage { items, next_before }
}

/// Whether the step was made already (a retry): the same payment, the same shipment, a
/// delivery, fulfilment or cancellation already recorded.
fn already_made(e: &ExchangeRow, state: ExchangeState, step: &Step) -> bool {
    match step {
        Step::Pay { order_ref } => {
            e.paid_at.is_some() && e.order_ref.as_deref() == Some(order_ref.as_str())
        }
        Step::Ship { tracking_no, .. } => {
            e.shipped_at.is_some() && e.tracking_no.as_deref() == Some(tracking_no.as_str())
        }
        Step::Deliver => state == ExchangeState::Delivered,
        Step::Fulfil => state == ExchangeState::Fulfilled,
        Step::Cancel => state == ExchangeState::Cancelled,
    }
}

/// Move a merged-away customer's exchanges to the survivor (inside the merge).
pub(crate) async fn on_merge_in(tx: &mut Tx, survivor: i64, loser: i64, now: i64) -> Result<()> {
    store::on_merge_in(tx, survivor, loser, now).await?;
    Ok(())
}
