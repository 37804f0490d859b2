//! Orders: recorded idempotently by external order id, with status changes and refunds that
//! keep the customer's aggregates current in the same transaction.

/// The rows this area hands to its callers (read models; defined by the store).
pub use yutang_store::orders::{OrderLineRow, OrderRow};

use yutang_core::FieldError;
use yutang_core::acquisition::AcquisitionSettings;
use yutang_core::ids::{CustomerId, OrderId, StaffId, StoreId};
use yutang_core::money::Fen;
use yutang_core::orders::{OrderLine, OrderStatus, apply_refund, order_amount};
use yutang_core::staff::Permission;
use yutang_store::StoreError;
use yutang_store::orders::{self as store, NewOrder};
use yutang_store::tx::Tx;

use crate::audit::{Page, Paged};
use crate::customers::{CustomerRef, scope_of};
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// An order as an integration sends it, parsed.
#[derive(Debug, Clone)]
pub struct OrderInput {
    pub external_id: String,
    pub customer: CustomerRef,
    pub channel: String,
    pub store_id: Option<StoreId>,
    pub guide_id: Option<StaffId>,
    pub campaign: String,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub discount: Fen,
    /// `None`: now.
    pub paid_at: Option<i64>,
    /// What member prices saved the customer (fen, ≥ 0): counts towards their paid member
    /// card's guarantee (see `loyalty::cards`).
    pub member_savings: Fen,
}

/// A customer reference as text, for fingerprints.
pub(crate) fn customer_key(c: &CustomerRef) -> String {
    match c {
        CustomerRef::Id(id) => format!("id:{}", id.0),
        CustomerRef::Identity(i) => format!("{}:{}:{}", i.kind.as_str(), i.namespace, i.value),
    }
}

/// The fingerprint of an order as the integration sent it (parsed; `paid_at` as given, not
/// as defaulted): a re-send with the same external id and the same fingerprint is a replay,
/// with another fingerprint it is refused.
fn order_fingerprint(o: &OrderInput) -> String {
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut parts: Vec<String> = vec![
        "order".into(),
        o.external_id.clone(),
        customer_key(&o.customer),
        o.channel.clone(),
        opt(o.store_id.map(|s| s.0)),
        opt(o.guide_id.map(|g| g.0)),
        o.campaign.clone(),
        o.status.as_str().into(),
        o.discount.0.to_string(),
        opt(o.paid_at),
    ];
    // Only when sent, so the fingerprints of orders recorded before the field existed hold.
    if o.member_savings.0 != 0 {
        parts.push(format!("member_savings:{}", o.member_savings.0));
    }
    for l in &o.lines {
        parts.extend([
            l.sku.clone(),
            l.name.clone(),
            l.quantity.to_string(),
            l.unit_price.0.to_string(),
        ]);
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    crate::idempotency::fingerprint(&refs)
}

fn external_id_reused() -> AppError {
    FieldError::new(
        "external_id",
        "external_id_reused",
        "this external_id was already used for a different order",
    )
    .into()
}

#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub customer_id: Option<CustomerId>,
    pub status: Option<OrderStatus>,
    pub store_id: Option<StoreId>,
    pub page: Page,
}

/// An order with its lines.
#[derive(Debug, Clone)]
pub struct OrderDetail {
    pub order: OrderRow,
    pub lines: Vec<OrderLineRow>,
}

/// The order use cases: recording orders idempotently by external id, reading and listing them
/// in the caller's scope, status changes and refunds.
#[derive(Clone, Copy)]
pub struct Orders<'a>(&'a App);

impl std::ops::Deref for Orders<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Orders`].
    pub fn orders(&self) -> Orders<'_> {
        Orders(self)
    }
}

impl Orders<'_> {
    /// Record an order; a second call with the same external id returns the stored order
    /// (`created = false`) and changes nothing.
    pub async fn record_order(&self, actor: &Actor, o: &OrderInput) -> Result<(OrderDetail, bool)> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        if !matches!(
            o.status,
            OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Completed
        ) {
            return Err(FieldError::new(
                "status",
                "invalid_order_status",
                "a new order is paid, shipped or completed; refunds go through /refunds",
            )
            .into());
        }
        let fp = order_fingerprint(o);
        if let Some((existing, stored)) =
            store::find_by_external_id(&self.db, &o.external_id).await?
        {
            if !stored.is_empty() && stored != fp {
                return Err(external_id_reused());
            }
            return Ok((self.order_detail(existing).await?, false));
        }
        let amount = order_amount(&o.lines, o.discount)?;
        let customer = self
            .customers()
            .resolve_customer_ref(&o.customer)
            .await?
            .ok_or_else(|| {
                FieldError::new(
                    "customer",
                    "unknown_customer",
                    "no customer with this id or identity",
                )
            })?;
        if let Some(s) = o.store_id {
            match yutang_store::org::get_store(&self.db, s.0).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(
                        FieldError::new("store_id", "unknown_store", "no such store").into(),
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(g) = o.guide_id {
            match yutang_store::staff::get(&self.db, g.0).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(FieldError::new(
                        "guide_id",
                        "unknown_staff",
                        "no such staff member",
                    )
                    .into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut tx = self.db.begin().await?;
        let (id, created) = record_in(
            &mut tx,
            &NewOrder {
                external_id: &o.external_id,
                customer_id: customer.0,
                channel: &o.channel,
                store_id: o.store_id.map(|s| s.0),
                guide_id: o.guide_id.map(|g| g.0),
                campaign: &o.campaign,
                status: o.status,
                amount,
                discount: o.discount,
                paid_at: o.paid_at.unwrap_or_else(|| self.now()),
                lines: &o.lines,
                fingerprint: &fp,
                member_savings: o.member_savings.0,
            },
            self.now(),
        )
        .await
        .map_err(order_in_progress)?;
        tx.commit()
            .await
            .map_err(|e| order_in_progress(AppError::from(e)))?;
        Ok((self.order_detail(id).await?, created))
    }

    async fn order_detail(&self, id: i64) -> Result<OrderDetail> {
        let order = store::get(&self.db, id, Default::default())
            .await
            .map_err(AppError::not_found("order"))?;
        let lines = store::lines(&self.db, id).await?;
        Ok(OrderDetail { order, lines })
    }

    /// An order whose customer the caller may see.
    pub async fn get_order(&self, actor: &Actor, id: OrderId) -> Result<OrderDetail> {
        let scope = scope_of(actor).ok_or(AppError::NotFound { what: "order" })?;
        let order = store::get(&self.db, id.0, scope)
            .await
            .map_err(AppError::not_found("order"))?;
        let lines = store::lines(&self.db, id.0).await?;
        Ok(OrderDetail { order, lines })
    }

    pub async fn list_orders(&self, actor: &Actor, q: &OrderQuery) -> Result<Paged<OrderRow>> {
        let Some(scope) = scope_of(actor) else {
            if !actor.can(Permission::ViewCustomers) {
                return Err(AppError::Forbidden);
            }
            return Ok(Paged {
                items: vec![],
                total: 0,
                page: q.page.number,
                page_size: q.page.size,
            });
        };
        // Orders of a merged-away id belong to its survivor now.
        let customer_id = match q.customer_id {
            Some(c) => Some(
                yutang_store::customers::resolve(&self.db, c.0)
                    .await?
                    .unwrap_or(c.0),
            ),
            None => None,
        };
        let (items, total) = store::list(
            &self.db,
            &store::OrderFilter {
                scope,
                customer_id,
                status: q.status.map(OrderStatus::as_str),
                store_id: q.store_id.map(|s| s.0),
                limit: q.page.size,
                offset: q.page.offset(),
            },
        )
        .await?;
        Ok(Paged {
            items,
            total,
            page: q.page.number,
            page_size: q.page.size,
        })
    }

    /// Mark an order shipped or completed.
    pub async fn set_order_status(
        &self,
        actor: &Actor,
        id: OrderId,
        to: OrderStatus,
        at: Option<i64>,
    ) -> Result<OrderDetail> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        if !matches!(to, OrderStatus::Shipped | OrderStatus::Completed) {
            return Err(FieldError::new(
                "status",
                "invalid_order_status",
                "status changes are shipped or completed; refunds go through /refunds",
            )
            .into());
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let order = store::lock_in(&mut tx, id.0)
            .await
            .map_err(AppError::not_found("order"))?;
        let cur = OrderStatus::parse("status", &order.status)?;
        if !cur.can_move_to(to) {
            return Err(AppError::Rule {
                code: "invalid_transition",
                message: format!(
                    "an order that is {} cannot become {}",
                    cur.as_str(),
                    to.as_str()
                ),
            });
        }
        // Repeating the current status changes nothing.
        if cur != to {
            store::set_status_in(&mut tx, id.0, order.customer_id, to, at.unwrap_or(now), now)
                .await?;
            tx.commit().await?;
        }
        self.order_detail(id.0).await
    }

    /// Refund part or all of an order, idempotent by `refund_id`. Returns the order and
    /// whether the refund was applied now.
    pub async fn refund_order(
        &self,
        actor: &Actor,
        id: OrderId,
        refund_id: &str,
        amount: Fen,
        at: Option<i64>,
    ) -> Result<(OrderDetail, bool)> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let refund_id = yutang_core::orders::parse_external_id("refund_id", refund_id)?;
        let now = self.now();
        let in_progress = |e: AppError| match e {
            // A concurrent copy of the same refund won the race.
            AppError::Conflict {
                code: "already_exists",
                ..
            } => AppError::Conflict {
                what: "refund_id",
                code: "refund_in_progress",
            },
            AppError::NotFound { .. } => AppError::NotFound { what: "order" },
            other => other,
        };
        let mut tx = self.db.begin().await?;
        let applied = refund_in(&mut tx, id.0, &refund_id, amount, at.unwrap_or(now), now)
            .await
            .map_err(in_progress)?;
        tx.commit()
            .await
            .map_err(|e| in_progress(AppError::from(e)))?;
        // A fully refunded order returned its coupons (when their template says so) in the
        // refund's own transaction; a replay changes nothing.
        let detail = self.order_detail(id.0).await?;
        Ok((detail, applied))
    }
}

/// A concurrent copy of the same order won the race (the external id's unique key): it is
/// the same order, still being written.
fn order_in_progress(e: AppError) -> AppError {
    match e {
        AppError::Conflict {
            code: "already_exists",
            ..
        } => AppError::Conflict {
            what: "external_id",
            code: "order_in_progress",
        },
        other => other,
    }
}

/// Record an order inside `tx`, or find the one with the same external id (a replay:
/// `created = false`, nothing written; another body under that id is refused). The
/// customer's aggregates are refreshed when it is new.
pub(crate) async fn record_in(tx: &mut Tx, o: &NewOrder<'_>, now: i64) -> Result<(i64, bool)> {
    let window = attribution_in(tx).await?;
    let (id, created) = insert_once_in(tx, o, window, now).await?;
    if created {
        store::refresh_aggregates_in(tx, o.customer_id, now).await?;
    }
    Ok((id, created))
}

/// Record many orders inside `tx` (imports), refreshing each customer's aggregates once.
/// Returns, per order, whether it was created now.
pub(crate) async fn record_many_in(
    tx: &mut Tx,
    orders: &[NewOrder<'_>],
    now: i64,
) -> Result<Vec<bool>> {
    let mut out = Vec::with_capacity(orders.len());
    let mut touched: Vec<i64> = Vec::new();
    let window = attribution_in(tx).await?;
    for o in orders {
        let (_, created) = insert_once_in(tx, o, window, now).await?;
        if created {
            touched.push(o.customer_id);
        }
        out.push(created);
    }
    touched.sort_unstable();
    touched.dedup();
    for c in touched {
        store::refresh_aggregates_in(tx, c, now).await?;
    }
    Ok(out)
}

/// The brand's attribution window as `tx` sees it (the defaults before the first save).
async fn attribution_in(tx: &mut Tx) -> Result<AcquisitionSettings> {
    Ok(
        match yutang_store::acquisition::settings::attribution_window_days_in(tx).await? {
            Some(days) => AcquisitionSettings {
                attribution_window_days: days,
            },
            None => AcquisitionSettings::default(),
        },
    )
}

async fn insert_once_in(
    tx: &mut Tx,
    o: &NewOrder<'_>,
    window: AcquisitionSettings,
    now: i64,
) -> Result<(i64, bool)> {
    if let Some((id, stored)) = store::find_by_external_id_in(tx, o.external_id).await? {
        if !stored.is_empty() && !o.fingerprint.is_empty() && stored != o.fingerprint {
            return Err(external_id_reused());
        }
        return Ok((id, false));
    }
    let id = store::insert_in(tx, o, now).await?;
    // Last touch: the channel of the customer's latest add within the brand's attribution
    // window, as it stands when the order is recorded (a later change does not re-credit it).
    let since = window.touch_since(o.paid_at);
    if let Some(ch) =
        yutang_store::acquisition::last_touch_in(tx, o.customer_id, since, o.paid_at).await?
    {
        yutang_store::acquisition::set_order_touch_in(tx, id, Some(ch)).await?;
    }
    // A referred friend's first order starts the referral's hold.
    crate::acquisition::referrals::on_order_in(tx, o.customer_id, id, o.amount.0, o.paid_at, now)
        .await?;
    // The order earns its points (at the multipliers the customer holds now).
    crate::loyalty::points::on_order_in(tx, o.customer_id, id, o.amount.0, o.paid_at, now).await?;
    crate::loyalty::tiers::on_order_in(tx, o.customer_id, id, o.paid_at, now).await?;
    // Member savings count towards the paid card's period covering the payment.
    crate::loyalty::cards::on_order_in(tx, o.customer_id, id, o.member_savings, o.paid_at, now)
        .await?;
    Ok((id, true))
}

/// Refund part or all of an order inside `tx`, idempotent by the refund's external id.
/// The order row is locked first, so concurrent refunds queue and each computes its total
/// (core's `apply_refund`) from what the one before committed. A full refund returns the
/// coupons used on the order whose template says so, exactly once. Returns whether the
/// refund was applied now (`false`: a replay, which changes nothing).
async fn refund_in(
    tx: &mut Tx,
    id: i64,
    external_id: &str,
    amount: Fen,
    at: i64,
    now: i64,
) -> Result<bool> {
    let order = store::lock_in(tx, id).await?;
    if let Some((prior_order, prior_amount)) = store::refund_by_id_in(tx, external_id).await? {
        if prior_order != id || prior_amount != amount {
            return Err(AppError::Rule {
                code: "refund_id_reused",
                message: "this refund id was already used for another order or amount".into(),
            });
        }
        return Ok(false);
    }
    let (total, status) = apply_refund(order.amount, order.refunded, amount)?;
    store::insert_refund_in(
        tx,
        &store::NewRefund {
            order_id: id,
            customer_id: order.customer_id,
            external_id,
            amount,
            total,
            status,
            at,
        },
        now,
    )
    .await?;
    if status == OrderStatus::Refunded {
        crate::promotions::coupons::return_on_refund_in(tx, id, now).await?;
    }
    // A refund before a referral's hold is over disqualifies it.
    crate::acquisition::referrals::on_refund_in(tx, id, now).await?;
    // The refunded share of the order's points goes back.
    crate::loyalty::points::on_refund_in(
        tx,
        id,
        order.customer_id,
        external_id,
        order.amount.0,
        total.0,
        now,
    )
    .await?;
    store::refresh_aggregates_in(tx, order.customer_id, now).await?;
    Ok(true)
}
