//! The points ledger's use cases (积分): settings, posting (inside the transaction of what
//! caused the movement), a customer's account and history, manual adjustments, earnings
//! reported by integrations, redemptions at checkout and their cancellation, the liability
//! report, and the expiry run.
//!
//! Every posting locks the customer's account row first ([`store::lock_account_in`]), so two
//! postings to one customer queue on PostgreSQL and each computes its running balance from
//! what the one before committed; the guarded UPDATEs of the store are the backstop. Every
//! entry has a unique key naming its cause (`order:{id}`, `refund:{id}`, `expire:{lot}`,
//! `redeem:{key}` …): posting the same cause again finds the entry and changes nothing.

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::points::{
    self as rules, EntryKind, Expiry, OpenLot, Points, PointsSettings,
};
use yutang_core::staff::Permission;
use yutang_store::Tx;
use yutang_store::jobs::{self as job_store, NewJob};
use yutang_store::loyalty::points::{self as store, AccountDelta, AccountRow};

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::idempotency::{check_replay, fingerprint};
use crate::{Actor, App};

pub use store::{Books, EntryRow, LotRow, RedemptionRow};

/// The expiry run's job kind.
pub const EXPIRY_KIND: &str = "points_expiry";
/// Lots expired per transaction by the expiry run.
const EXPIRY_BATCH: i64 = 500;
/// The most entries one history page returns.
pub const MAX_PAGE: i64 = 200;

/// The job kinds this area runs (see `crate::job_kinds`).
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(EXPIRY_KIND, |app, job| {
        Box::pin(async move { app.points().run_expiry(job.id).await })
    });
}

/// The result of a posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Posted {
    /// The entry (none when nothing was moved: a zero reversal, an empty transfer).
    pub entry_id: Option<i64>,
    pub amount: i64,
    /// The customer's balance after it.
    pub balance: i64,
    /// `false`: the cause was posted before (a replay), nothing changed now.
    pub created: bool,
}

/// Where an entry comes from, for the ledger's trace.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cause<'a> {
    /// The entry's unique key.
    pub key: &'a str,
    /// A digest of the request (a replay with another body is refused); `""` for causes
    /// whose key already says everything (an order id, a lot id).
    pub fingerprint: &'a str,
    pub source_type: &'a str,
    pub source_id: &'a str,
    pub reason: &'a str,
    pub actor: &'a str,
}

/// The brand's points settings as `tx` sees them (the defaults before the first save).
pub(crate) async fn settings_in(tx: &mut Tx) -> Result<PointsSettings> {
    Ok(match store::settings_in(tx).await? {
        Some(row) => parse_settings(&row)?,
        None => PointsSettings::default(),
    })
}

/// The brand's points settings as committed (the defaults before the first save).
async fn settings_of(db: &yutang_store::Db) -> Result<PointsSettings> {
    Ok(match store::settings(db).await? {
        Some(row) => parse_settings(&row)?,
        None => PointsSettings::default(),
    })
}

fn parse_settings(row: &store::SettingsRow) -> Result<PointsSettings> {
    let expiry = Expiry::from_stored(&row.expiry, row.expiry_days)
        .ok_or_else(|| AppError::Internal(format!("stored points expiry {:?}", row.expiry)))?;
    Ok(PointsSettings::parse(
        row.earn_points_per_yuan,
        row.redeem_points_per_yuan,
        expiry,
        row.max_redeem_percent,
    )?)
}

/// The entry already posted under a cause's key: a replay when it is the same request.
async fn replay_in(tx: &mut Tx, cause: &Cause<'_>) -> Result<Option<Posted>> {
    let Some(e) = store::entry_by_key_in(tx, cause.key).await? else {
        return Ok(None);
    };
    check_replay(&e.fingerprint, cause.fingerprint)?;
    Ok(Some(Posted {
        entry_id: Some(e.id),
        amount: e.amount,
        balance: e.balance_after,
        created: false,
    }))
}

/// Credit a customer `amount` points in a new lot expiring at `expires_at`: an earning or a
/// grant. Points the customer owes (a reversal that found them spent) are settled from it.
pub(crate) async fn credit_in(
    tx: &mut Tx,
    customer: i64,
    kind: EntryKind,
    amount: i64,
    expires_at: Option<i64>,
    cause: &Cause<'_>,
    now: i64,
) -> Result<Posted> {
    debug_assert!(kind.opens_lot());
    if let Some(p) = replay_in(tx, cause).await? {
        return Ok(p);
    }
    let account = store::lock_account_in(tx, customer, now).await?;
    let balance = account.balance + amount;
    let entry = insert_entry_in(tx, customer, kind, amount, balance, cause, now).await?;
    store::insert_lot_in(tx, customer, entry, amount, expires_at, now).await?;
    apply_in(
        tx,
        customer,
        &AccountDelta {
            balance: amount,
            earned: amount,
            ..Default::default()
        },
        now,
    )
    .await?;
    let mut balance = balance;
    if account.owed > 0 {
        let settle = account.owed.min(balance);
        let key = format!("settle:{entry}");
        let posted = take_in(
            tx,
            customer,
            EntryKind::Settle,
            settle,
            balance,
            &Cause {
                key: &key,
                fingerprint: "",
                source_type: cause.source_type,
                source_id: cause.source_id,
                reason: "",
                actor: cause.actor,
            },
            AccountDelta {
                reversed: settle,
                owed: -settle,
                ..Default::default()
            },
            now,
        )
        .await?;
        balance = posted.balance;
    }
    Ok(Posted {
        entry_id: Some(entry),
        amount,
        balance,
        created: true,
    })
}

/// Debit a customer `amount` points from their lots, soonest expiry first: a redemption, a
/// deduction. Refused (`insufficient_points`, naming `field`) when the balance is short.
pub(crate) async fn debit_in(
    tx: &mut Tx,
    customer: i64,
    kind: EntryKind,
    amount: i64,
    field: &'static str,
    cause: &Cause<'_>,
    now: i64,
) -> Result<Posted> {
    if let Some(p) = replay_in(tx, cause).await? {
        return Ok(p);
    }
    let account = store::lock_account_in(tx, customer, now).await?;
    if account.balance < amount {
        return Err(insufficient(field, account.balance));
    }
    let delta = match kind {
        EntryKind::Redeem => AccountDelta {
            redeemed: amount,
            ..Default::default()
        },
        EntryKind::Deduct => AccountDelta {
            reversed: amount,
            ..Default::default()
        },
        other => {
            return Err(AppError::Internal(format!(
                "{} is not a plain debit",
                other.as_str()
            )));
        }
    };
    take_in(
        tx,
        customer,
        kind,
        amount,
        account.balance,
        cause,
        delta,
        now,
    )
    .await
}

fn insufficient(field: &'static str, balance: i64) -> AppError {
    FieldError::new(
        field,
        "insufficient_points",
        format!("the customer has {balance} points"),
    )
    .into()
}

/// Take `amount` from the customer's lots in spend order, with
/// the account already locked and holding `balance`; post the entry and apply `delta` (the
/// balance part is added here).
#[allow(clippy::too_many_arguments)]
async fn take_in(
    tx: &mut Tx,
    customer: i64,
    kind: EntryKind,
    amount: i64,
    balance: i64,
    cause: &Cause<'_>,
    delta: AccountDelta,
    now: i64,
) -> Result<Posted> {
    let mut lots: Vec<OpenLot> = store::open_lots_in(tx, customer)
        .await?
        .into_iter()
        .map(|l| OpenLot {
            id: l.id,
            remaining: l.remaining,
            expires_at: l.expires_at,
        })
        .collect();
    rules::spend_order(&mut lots);
    let (takes, short) = rules::take_lots(&lots, amount);
    if short > 0 {
        // The lots always hold the balance; a gap is a broken ledger, not a user error.
        return Err(AppError::Internal(format!(
            "customer {customer}'s lots hold {} points less than asked",
            short
        )));
    }
    let after = balance - amount;
    let entry = insert_entry_in(tx, customer, kind, amount, after, cause, now).await?;
    for (lot, n) in takes {
        if !store::move_lot_in(tx, lot, -n).await? {
            return Err(AppError::Internal(format!("lot {lot} holds less than {n}")));
        }
        store::insert_lot_move_in(tx, entry, lot, n).await?;
    }
    apply_in(
        tx,
        customer,
        &AccountDelta {
            balance: -amount,
            ..delta
        },
        now,
    )
    .await?;
    Ok(Posted {
        entry_id: Some(entry),
        amount,
        balance: after,
        created: true,
    })
}

async fn insert_entry_in(
    tx: &mut Tx,
    customer: i64,
    kind: EntryKind,
    amount: i64,
    balance_after: i64,
    cause: &Cause<'_>,
    now: i64,
) -> Result<i64> {
    let (debit, credit) = kind.accounts();
    store::insert_entry_in(
        tx,
        &store::NewEntry {
            key: cause.key,
            fingerprint: cause.fingerprint,
            customer_id: customer,
            kind: kind.as_str(),
            debit: debit.as_str(),
            credit: credit.as_str(),
            amount,
            balance_after,
            source_type: cause.source_type,
            source_id: cause.source_id,
            reason: cause.reason,
            actor: cause.actor,
        },
        now,
    )
    .await
    .map_err(|e| match AppError::from(e) {
        // A concurrent posting of the same cause won the race on the unique key.
        AppError::Conflict { .. } => AppError::Conflict {
            what: "points",
            code: "request_in_progress",
        },
        other => other,
    })
}

async fn apply_in(tx: &mut Tx, customer: i64, d: &AccountDelta, now: i64) -> Result<()> {
    if store::apply_in(tx, customer, d, now).await? {
        Ok(())
    } else {
        Err(AppError::Internal(format!(
            "customer {customer}'s points account refused {d:?}"
        )))
    }
}

/// Give back what a debit took, to the lots it took it from: a cancelled redemption.
pub(crate) async fn restore_in(
    tx: &mut Tx,
    customer: i64,
    debit: i64,
    cause: &Cause<'_>,
    now: i64,
) -> Result<Posted> {
    if let Some(p) = replay_in(tx, cause).await? {
        return Ok(p);
    }
    let account = store::lock_account_in(tx, customer, now).await?;
    let moves = store::lot_moves_in(tx, debit).await?;
    let amount: i64 = moves.iter().map(|m| m.1).sum();
    let after = account.balance + amount;
    let entry = insert_entry_in(tx, customer, EntryKind::Cancel, amount, after, cause, now).await?;
    for (lot, n, _) in moves {
        if !store::move_lot_in(tx, lot, n).await? {
            return Err(AppError::Internal(format!(
                "lot {lot} cannot take back {n}"
            )));
        }
    }
    apply_in(
        tx,
        customer,
        &AccountDelta {
            balance: amount,
            redeemed: -amount,
            ..Default::default()
        },
        now,
    )
    .await?;
    Ok(Posted {
        entry_id: Some(entry),
        amount,
        balance: after,
        created: true,
    })
}

/// An order was recorded: it earns its points (at the customer's multipliers now) in a lot
/// that expires by the brand's rule, counted from when it was paid.
pub(crate) async fn on_order_in(
    tx: &mut Tx,
    customer: i64,
    order: i64,
    paid_fen: i64,
    paid_at: i64,
    now: i64,
) -> Result<()> {
    let settings = settings_in(tx).await?;
    if settings.earn_points_per_yuan == 0 {
        return Ok(());
    }
    let multiplier = super::earning_multiplier_in(tx, customer, paid_at).await?;
    let n = settings.earned_for(paid_fen, multiplier);
    if n == 0 {
        return Ok(());
    }
    let key = format!("order:{order}");
    let id = order.to_string();
    credit_in(
        tx,
        customer,
        EntryKind::Earn,
        n,
        settings.expiry.expires_at(paid_at),
        &Cause {
            key: &key,
            fingerprint: "",
            source_type: "order",
            source_id: &id,
            reason: "",
            actor: "",
        },
        now,
    )
    .await?;
    Ok(())
}

/// A refund of an order was recorded (once per refund id: the caller's replay check ran):
/// take back the refunded share of the order's points. What the customer already spent is
/// added to what they owe, and the next credit pays it.
pub(crate) async fn on_refund_in(
    tx: &mut Tx,
    order: i64,
    customer: i64,
    refund_id: &str,
    order_fen: i64,
    refunded_total: i64,
    now: i64,
) -> Result<()> {
    let (earned, already) = store::order_points_in(tx, order).await?;
    let due = rules::reversal_due(earned, order_fen, refunded_total, already);
    if due == 0 {
        return Ok(());
    }
    let key = format!("refund:{refund_id}");
    let account = store::lock_account_in(tx, customer, now).await?;
    let taken = due.min(account.balance);
    let mut entry = None;
    if taken > 0 {
        let id = order.to_string();
        let posted = take_in(
            tx,
            customer,
            EntryKind::Reverse,
            taken,
            account.balance,
            &Cause {
                key: &key,
                fingerprint: "",
                source_type: "order",
                source_id: &id,
                reason: refund_id,
                actor: "",
            },
            AccountDelta {
                reversed: taken,
                ..Default::default()
            },
            now,
        )
        .await?;
        entry = posted.entry_id;
    }
    if due > taken {
        apply_in(
            tx,
            customer,
            &AccountDelta {
                owed: due - taken,
                ..Default::default()
            },
            now,
        )
        .await?;
    }
    store::insert_reversal_in(tx, &key, order, customer, due, taken, entry, now).await?;
    Ok(())
}

/// `loser` was merged into `survivor`: its points move over lot by lot, each keeping its
/// expiry, and so do the points it owed.
pub(crate) async fn on_merge_in(tx: &mut Tx, survivor: i64, loser: i64, now: i64) -> Result<()> {
    // Lock both accounts in ascending id order, the order every merge takes.
    let (a, b) = (survivor.min(loser), survivor.max(loser));
    let first = store::lock_account_in(tx, a, now).await?;
    let second = store::lock_account_in(tx, b, now).await?;
    let (from, to) = if a == loser {
        (first, second)
    } else {
        (second, first)
    };
    let out_key = format!("merge_out:{loser}");
    if store::entry_by_key_in(tx, &out_key).await?.is_some() {
        return Ok(());
    }
    let src = survivor.to_string();
    let mut lots = store::open_lots_in(tx, loser).await?;
    lots.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.id));
    if from.balance > 0 {
        take_in(
            tx,
            loser,
            EntryKind::TransferOut,
            from.balance,
            from.balance,
            &Cause {
                key: &out_key,
                fingerprint: "",
                source_type: "merge",
                source_id: &src,
                reason: "",
                actor: "",
            },
            AccountDelta::default(),
            now,
        )
        .await?;
        let in_key = format!("merge_in:{loser}");
        let from_id = loser.to_string();
        let after = to.balance + from.balance;
        let entry = insert_entry_in(
            tx,
            survivor,
            EntryKind::TransferIn,
            from.balance,
            after,
            &Cause {
                key: &in_key,
                fingerprint: "",
                source_type: "merge",
                source_id: &from_id,
                reason: "",
                actor: "",
            },
            now,
        )
        .await?;
        for l in lots.iter().filter(|l| l.remaining > 0) {
            store::insert_lot_in(tx, survivor, entry, l.remaining, l.expires_at, now).await?;
        }
        apply_in(
            tx,
            survivor,
            &AccountDelta {
                balance: from.balance,
                ..Default::default()
            },
            now,
        )
        .await?;
    }
    if from.owed > 0 {
        apply_in(
            tx,
            loser,
            &AccountDelta {
                owed: -from.owed,
                ..Default::default()
            },
            now,
        )
        .await?;
        apply_in(
            tx,
            survivor,
            &AccountDelta {
                owed: from.owed,
                ..Default::default()
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// A customer's points as the console and the member centre show them.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub customer_id: i64,
    pub balance: i64,
    /// What the balance is worth at checkout now (fen, rounded down).
    pub value_fen: i64,
    pub earned: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub reversed: i64,
    /// Points a refund could not take back; the next earnings pay them.
    pub owed: i64,
    /// Points expiring within 30 days.
    pub expiring_30d: i64,
    /// Outstanding lots by the day they expire (soonest first; `expires_at` null: never).
    pub expiring: Vec<ExpiringLot>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpiringLot {
    pub expires_at: Option<i64>,
    pub points: i64,
}

/// One page of a customer's ledger, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct EntriesPage {
    pub items: Vec<EntryRow>,
    /// Pass as `before` for the next (older) page; `None`: this is the last.
    pub next_before: Option<i64>,
}

/// The liability report.
#[derive(Debug, Clone, Serialize)]
pub struct Liability {
    /// Outstanding points (the sum of customers' balances) and their worth now (fen).
    pub outstanding: i64,
    pub outstanding_value_fen: i64,
    pub customers_with_points: i64,
    pub owed: i64,
    pub entries: i64,
    /// Each account's balance (credits − debits); they sum to zero.
    pub accounts: Vec<AccountBalance>,
    /// `true` when every account sums to zero and the customers' stored balances equal the
    /// customer account — the books balance.
    pub balanced: bool,
    /// Outstanding points by the Shanghai month they expire (`YYYY-MM`, `never`).
    pub by_expiry_month: Vec<MonthPoints>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountBalance {
    pub account: String,
    pub balance: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthPoints {
    pub month: String,
    pub points: i64,
}

/// A redemption at checkout, as asked.
#[derive(Debug, Clone)]
pub struct RedeemInput {
    pub points: Points,
    /// The brand's order or ticket reference (optional, ≤ 64 visible characters).
    pub order_ref: String,
    /// The order's amount (fen), to hold points to the brand's share cap.
    pub order_amount_fen: Option<i64>,
}

/// The points use cases.
#[derive(Clone, Copy)]
pub struct PointsUseCases<'a>(&'a App);

impl std::ops::Deref for PointsUseCases<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of the points ledger.
    pub fn points(&self) -> PointsUseCases<'_> {
        PointsUseCases(self)
    }
}

fn manage(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManageCustomers) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The key a caller's `Idempotency-Key` is stored under: namespaced per caller.
fn namespaced(actor: &Actor, key: &str) -> String {
    format!("{}:{}:{key}", actor.kind(), actor.actor_id().unwrap_or(0))
}

impl PointsUseCases<'_> {
    /// The brand's settings (anyone who sees customers).
    pub async fn settings(&self, actor: &Actor) -> Result<PointsSettings> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        settings_of(&self.db).await
    }

    /// Replace the settings (admin, operator), audited. They apply to movements after the
    /// change: lots keep the expiry they were given.
    pub async fn put_settings(&self, actor: &Actor, s: PointsSettings) -> Result<PointsSettings> {
        manage(actor)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let before = settings_in(&mut tx).await?;
        let days = match s.expiry {
            Expiry::Days { days } => days,
            _ => 365,
        };
        store::put_settings_in(
            &mut tx,
            &store::SettingsRow {
                earn_points_per_yuan: s.earn_points_per_yuan,
                redeem_points_per_yuan: s.redeem_points_per_yuan,
                expiry: s.expiry.as_str().into(),
                expiry_days: days,
                max_redeem_percent: s.max_redeem_percent,
                updated_at: now,
                updated_by: actor.name.clone(),
            },
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::PointsChanged,
            "points:settings",
            &serde_json::json!({"op": "settings", "before": before, "after": s}).to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(s)
    }

    /// A customer's account (zeros before their first movement), within the caller's scope.
    pub async fn account(&self, actor: &Actor, customer: CustomerId) -> Result<AccountView> {
        let id = self.customers().visible_customer(actor, customer).await?;
        self.account_of(id).await
    }

    /// A customer's account, for the member centre (the customer's own token).
    pub async fn account_of(&self, customer: CustomerId) -> Result<AccountView> {
        let a = store::account(&self.db, customer.0)
            .await?
            .unwrap_or_else(|| AccountRow {
                customer_id: customer.0,
                ..Default::default()
            });
        let settings = settings_of(&self.db).await?;
        let lots = store::open_lots(&self.db, customer.0).await?;
        let soon = self.now() + 30 * 86_400_000;
        let expiring_30d = lots
            .iter()
            .filter(|l| l.expires_at.is_some_and(|at| at <= soon))
            .map(|l| l.remaining)
            .sum();
        let mut expiring: Vec<ExpiringLot> = Vec::new();
        for l in &lots {
            match expiring.last_mut() {
                Some(last) if last.expires_at == l.expires_at => last.points += l.remaining,
                _ => expiring.push(ExpiringLot {
                    expires_at: l.expires_at,
                    points: l.remaining,
                }),
            }
        }
        Ok(AccountView {
            customer_id: customer.0,
            balance: a.balance,
            value_fen: i64::try_from(
                i128::from(a.balance) * 100 / i128::from(settings.redeem_points_per_yuan),
            )
            .unwrap_or(i64::MAX),
            earned: a.earned,
            redeemed: a.redeemed,
            expired: a.expired,
            reversed: a.reversed,
            owed: a.owed,
            expiring_30d,
            expiring,
        })
    }

    /// A page of a customer's ledger, newest first, within the caller's scope.
    pub async fn entries(
        &self,
        actor: &Actor,
        customer: CustomerId,
        before: Option<i64>,
        limit: i64,
    ) -> Result<EntriesPage> {
        let id = self.customers().visible_customer(actor, customer).await?;
        self.entries_of(id, before, limit).await
    }

    /// A page of a customer's own ledger (member centre).
    pub async fn entries_of(
        &self,
        customer: CustomerId,
        before: Option<i64>,
        limit: i64,
    ) -> Result<EntriesPage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let items = store::entries(&self.db, customer.0, before, limit + 1).await?;
        let more = items.len() as i64 > limit;
        let items: Vec<EntryRow> = items.into_iter().take(limit as usize).collect();
        let next_before = if more {
            items.last().map(|e| e.id)
        } else {
            None
        };
        Ok(EntriesPage { items, next_before })
    }

    /// A manual grant (`delta` > 0) or deduction (< 0) with a reason (admin, operator),
    /// audited, once per `Idempotency-Key`. A deduction above the balance is refused.
    pub async fn adjust(
        &self,
        actor: &Actor,
        customer: CustomerId,
        delta: i64,
        reason: &str,
        idempotency_key: Option<&str>,
    ) -> Result<(EntryRow, bool)> {
        manage(actor)?;
        let amount = Points::parse("points", delta.checked_abs().unwrap_or(i64::MAX))?;
        let reason = rules::parse_reason(reason)?;
        let key = idempotency_key.ok_or_else(|| {
            FieldError::new(
                crate::idempotency::HEADER,
                "required",
                "a manual adjustment needs an Idempotency-Key",
            )
        })?;
        let id = self.customers().visible_customer(actor, customer).await?;
        let key = format!("adjust:{}", namespaced(actor, key));
        let fp = fingerprint(&["adjust", &id.0.to_string(), &delta.to_string(), &reason]);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let settings = settings_in(&mut tx).await?;
        let cause = Cause {
            key: &key,
            fingerprint: &fp,
            source_type: "grant",
            source_id: "",
            reason: &reason,
            actor: &actor.name,
        };
        let posted = if delta > 0 {
            credit_in(
                &mut tx,
                id.0,
                EntryKind::Grant,
                amount.get(),
                settings.expiry.expires_at(now),
                &cause,
                now,
            )
            .await?
        } else {
            debit_in(
                &mut tx,
                id.0,
                EntryKind::Deduct,
                amount.get(),
                "points",
                &cause,
                now,
            )
            .await?
        };
        if posted.created {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::PointsChanged,
                &format!("customer:{}", id.0),
                &serde_json::json!({"op": "adjust", "points": delta, "reason": reason,
                    "balance": posted.balance})
                .to_string(),
            )
            .await?;
        }
        tx.commit().await?;
        let entry = store::entry(&self.db, posted.entry_id.unwrap_or_default()).await?;
        Ok((entry, posted.created))
    }

    /// Points an integration reports for something outside orders — a check-in, a task, a
    /// campaign — once per `(source_type, source_id)`.
    pub async fn earn(
        &self,
        actor: &Actor,
        customer: CustomerId,
        points: Points,
        source_type: EarnSource,
        source_id: &str,
        reason: &str,
    ) -> Result<(EntryRow, bool)> {
        manage(actor)?;
        let source_id = rules::parse_source_id("source_id", source_id)?;
        let reason = yutang_core::org::parse_label("reason", reason, rules::MAX_REASON)?;
        let id = self.customers().visible_customer(actor, customer).await?;
        let key = format!("earn:{}:{source_id}", source_type.as_str());
        let fp = fingerprint(&["earn", &id.0.to_string(), &points.get().to_string()]);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let settings = settings_in(&mut tx).await?;
        let posted = credit_in(
            &mut tx,
            id.0,
            EntryKind::Earn,
            points.get(),
            settings.expiry.expires_at(now),
            &Cause {
                key: &key,
                fingerprint: &fp,
                source_type: source_type.as_str(),
                source_id: &source_id,
                reason: &reason,
                actor: &actor.name,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        let entry = store::entry(&self.db, posted.entry_id.unwrap_or_default()).await?;
        Ok((entry, posted.created))
    }

    /// Earnings an integration reports in a batch (check-ins of a day, tasks done): up to
    /// [`MAX_BATCH`] in one transaction, set-based — the accounts locked in id order, every
    /// running balance computed here, entries, lots and balances written in a few statements.
    /// Each item is once per `(source_type, source_id)` like [`Self::earn`]; each gets its own
    /// outcome, and a refused item refuses only itself.
    pub async fn earn_batch(&self, actor: &Actor, items: &[EarnItem]) -> Result<Vec<EarnOutcome>> {
        manage(actor)?;
        if items.is_empty() || items.len() > MAX_BATCH {
            return Err(FieldError::new(
                "earnings",
                "invalid_count",
                format!("a batch holds 1–{MAX_BATCH} earnings"),
            )
            .into());
        }
        struct Item {
            customer: i64,
            points: i64,
            key: String,
            fp: String,
            source_type: &'static str,
            source_id: String,
            reason: String,
        }
        let parsed: Vec<Result<Item, FieldError>> = items
            .iter()
            .map(|i| {
                let points = Points::parse("points", i.points)?;
                let source_id = rules::parse_source_id("source_id", &i.source_id)?;
                let reason = yutang_core::org::parse_label("reason", &i.reason, rules::MAX_REASON)?;
                Ok(Item {
                    customer: i.customer_id,
                    points: points.get(),
                    key: format!("earn:{}:{source_id}", i.source_type.as_str()),
                    fp: fingerprint(&[
                        "earn",
                        &i.customer_id.to_string(),
                        &points.get().to_string(),
                    ]),
                    source_type: i.source_type.as_str(),
                    source_id,
                    reason,
                })
            })
            .collect();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let settings = settings_in(&mut tx).await?;
        let expires_at = settings.expiry.expires_at(now);
        let mut asked: Vec<i64> = parsed.iter().flatten().map(|i| i.customer).collect();
        asked.sort_unstable();
        asked.dedup();
        let live = store::live_customers_in(&mut tx, &asked).await?;
        store::ensure_accounts_in(&mut tx, &live, now).await?;
        let accounts: std::collections::HashMap<i64, (i64, i64)> =
            store::lock_accounts_in(&mut tx, &live)
                .await?
                .into_iter()
                .map(|(c, b, o)| (c, (b, o)))
                .collect();
        let keys: Vec<String> = parsed.iter().flatten().map(|i| i.key.clone()).collect();
        let existing: std::collections::HashMap<String, (String, i64)> =
            store::entries_by_keys_in(&mut tx, &keys)
                .await?
                .into_iter()
                .map(|(k, fp, id)| (k, (fp, id)))
                .collect();
        let mut planned = Vec::with_capacity(parsed.len());
        let mut in_batch: std::collections::HashMap<String, String> = Default::default();
        let mut running: std::collections::HashMap<i64, i64> = Default::default();
        let mut rows: Vec<store::Crediting> = Vec::new();
        let mut one_by_one: Vec<&Item> = Vec::new();
        for p in &parsed {
            let item = match p {
                Err(e) => {
                    planned.push(Planned::Done(rejected(e.clone())));
                    continue;
                }
                Ok(i) => i,
            };
            let reused = || {
                rejected(FieldError::new(
                    "source_id",
                    "source_id_reused",
                    "this source was already posted with other points or for another customer",
                ))
            };
            if let Some((fp, id)) = existing.get(&item.key) {
                planned.push(Planned::Done(if fp.is_empty() || *fp == item.fp {
                    EarnOutcome::Duplicate { entry_id: *id }
                } else {
                    reused()
                }));
                continue;
            }
            if let Some(fp) = in_batch.get(&item.key) {
                planned.push(if *fp == item.fp {
                    Planned::Again(item.key.clone())
                } else {
                    Planned::Done(reused())
                });
                continue;
            }
            let Some((balance, owed)) = accounts.get(&item.customer).copied() else {
                planned.push(Planned::Done(rejected(FieldError::new(
                    "customer_id",
                    "unknown_customer",
                    "no live customer with this id",
                ))));
                continue;
            };
            in_batch.insert(item.key.clone(), item.fp.clone());
            planned.push(Planned::New(item.key.clone()));
            if owed > 0 {
                // Owed points are settled from the credit: the one-by-one path does it.
                one_by_one.push(item);
                continue;
            }
            let bal = running.entry(item.customer).or_insert(balance);
            *bal += item.points;
            rows.push(store::Crediting {
                customer_id: item.customer,
                amount: item.points,
                balance_after: *bal,
                key: item.key.clone(),
                fingerprint: item.fp.clone(),
                source_type: item.source_type.to_owned(),
                source_id: item.source_id.clone(),
                reason: item.reason.clone(),
                actor: actor.name.clone(),
                expires_at,
            });
        }
        let mut created = store::credit_batch_in(&mut tx, &rows, now).await?;
        for item in one_by_one {
            let posted = credit_in(
                &mut tx,
                item.customer,
                EntryKind::Earn,
                item.points,
                expires_at,
                &Cause {
                    key: &item.key,
                    fingerprint: &item.fp,
                    source_type: item.source_type,
                    source_id: &item.source_id,
                    reason: &item.reason,
                    actor: &actor.name,
                },
                now,
            )
            .await?;
            created.insert(item.key.clone(), posted.entry_id.unwrap_or_default());
        }
        tx.commit().await.map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => crate::idempotency::in_progress(),
            other => other,
        })?;
        Ok(planned
            .into_iter()
            .map(|p| match p {
                Planned::Done(o) => o,
                Planned::New(k) => EarnOutcome::Created {
                    entry_id: created.get(&k).copied().unwrap_or_default(),
                },
                Planned::Again(k) => EarnOutcome::Duplicate {
                    entry_id: created.get(&k).copied().unwrap_or_default(),
                },
            })
            .collect())
    }

    /// Redeem points at checkout for a customer (POS, integrations: admin, operator tokens),
    /// once per `Idempotency-Key`.
    pub async fn redeem(
        &self,
        actor: &Actor,
        customer: CustomerId,
        input: &RedeemInput,
        idempotency_key: Option<&str>,
    ) -> Result<(RedemptionRow, bool)> {
        manage(actor)?;
        let id = self.customers().visible_customer(actor, customer).await?;
        let key = require_key(idempotency_key)?;
        self.redeem_for(id, input, &namespaced(actor, key), &actor.name)
            .await
    }

    /// Redeem the customer's own points (mini-program, customer token).
    pub async fn redeem_own(
        &self,
        customer: CustomerId,
        input: &RedeemInput,
        idempotency_key: Option<&str>,
    ) -> Result<(RedemptionRow, bool)> {
        let key = require_key(idempotency_key)?;
        let ns = format!("customer:{}:{key}", customer.0);
        self.redeem_for(customer, input, &ns, &format!("customer:{}", customer.0))
            .await
    }

    async fn redeem_for(
        &self,
        customer: CustomerId,
        input: &RedeemInput,
        key: &str,
        by: &str,
    ) -> Result<(RedemptionRow, bool)> {
        let order_ref = parse_order_ref(&input.order_ref)?;
        let fp = fingerprint(&[
            "redeem",
            &customer.0.to_string(),
            &input.points.get().to_string(),
            &order_ref,
            &input
                .order_amount_fen
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ]);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if let Some(prior) = store::redemption_by_key_in(&mut tx, key).await? {
            check_replay(&prior.fingerprint, &fp)?;
            return Ok((prior, false));
        }
        let settings = settings_in(&mut tx).await?;
        let value = settings.value_of(input.points)?;
        settings.check_share(value, input.order_amount_fen)?;
        let entry_key = format!("redeem:{key}");
        let posted = debit_in(
            &mut tx,
            customer.0,
            EntryKind::Redeem,
            input.points.get(),
            "points",
            &Cause {
                key: &entry_key,
                fingerprint: &fp,
                source_type: "redemption",
                source_id: &order_ref,
                reason: "",
                actor: by,
            },
            now,
        )
        .await?;
        let entry = posted
            .entry_id
            .ok_or_else(|| AppError::Internal("a redemption posted no entry".into()))?;
        let rid = store::insert_redemption_in(
            &mut tx,
            &store::NewRedemption {
                key,
                fingerprint: &fp,
                customer_id: customer.0,
                points: input.points.get(),
                value_fen: value,
                order_ref: &order_ref,
                entry_id: entry,
                created_by: by,
            },
            now,
        )
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => crate::idempotency::in_progress(),
            other => other,
        })?;
        tx.commit().await.map_err(|e| match AppError::from(e) {
            AppError::Conflict { .. } => crate::idempotency::in_progress(),
            other => other,
        })?;
        Ok((store::redemption(&self.db, rid).await?, true))
    }

    /// Cancel a redemption (the POS voided the sale): its points go back to the lots they
    /// came from, once. Cancelling a cancelled redemption answers it as it is.
    pub async fn cancel_redemption(&self, actor: &Actor, id: i64) -> Result<(RedemptionRow, bool)> {
        manage(actor)?;
        let not_found = || AppError::NotFound { what: "redemption" };
        let row = store::redemption(&self.db, id)
            .await
            .map_err(|_| not_found())?;
        self.customers()
            .visible_customer(actor, CustomerId(row.customer_id))
            .await
            .map_err(|_| not_found())?;
        self.cancel_for(id, &actor.name).await
    }

    /// Cancel one of the customer's own redemptions (mini-program).
    pub async fn cancel_own_redemption(
        &self,
        customer: CustomerId,
        id: i64,
    ) -> Result<(RedemptionRow, bool)> {
        let row = store::redemption(&self.db, id)
            .await
            .map_err(AppError::not_found("redemption"))?;
        if row.customer_id != customer.0 {
            return Err(AppError::NotFound { what: "redemption" });
        }
        self.cancel_for(id, &format!("customer:{}", customer.0))
            .await
    }

    async fn cancel_for(&self, id: i64, by: &str) -> Result<(RedemptionRow, bool)> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = store::lock_redemption_in(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound { what: "redemption" })?;
        if row.status != "applied" {
            return Ok((row, false));
        }
        let key = format!("cancel:{id}");
        let sid = id.to_string();
        let posted = restore_in(
            &mut tx,
            row.customer_id,
            row.entry_id,
            &Cause {
                key: &key,
                fingerprint: "",
                source_type: "redemption",
                source_id: &sid,
                reason: "",
                actor: by,
            },
            now,
        )
        .await?;
        let entry = posted.entry_id.unwrap_or_default();
        if !store::cancel_redemption_in(&mut tx, id, entry, now).await? {
            return Err(AppError::Internal(format!(
                "redemption {id} moved under its lock"
            )));
        }
        tx.commit().await?;
        Ok((store::redemption(&self.db, id).await?, true))
    }

    /// A customer's redemptions, newest first (within the caller's scope).
    pub async fn redemptions(
        &self,
        actor: &Actor,
        customer: CustomerId,
    ) -> Result<Vec<RedemptionRow>> {
        let id = self.customers().visible_customer(actor, customer).await?;
        Ok(store::redemptions_of(&self.db, id.0, MAX_PAGE).await?)
    }

    /// The liability report (HQ roles that see metrics).
    pub async fn liability(&self, actor: &Actor) -> Result<Liability> {
        if !actor.can(Permission::ViewMetrics) {
            return Err(AppError::Forbidden);
        }
        let books = store::books(&self.db).await?;
        let settings = settings_of(&self.db).await?;
        let customer_account = books
            .accounts
            .iter()
            .find(|(a, _)| a == "customer")
            .map_or(0, |(_, v)| *v);
        let sum: i64 = books.accounts.iter().map(|(_, v)| *v).sum();
        let mut months: Vec<MonthPoints> = Vec::new();
        for (day, points) in store::outstanding_by_expiry(&self.db).await? {
            let month = match day {
                Some(d) => yutang_core::promotions::stats::day_label(d)
                    .get(..7)
                    .unwrap_or_default()
                    .to_owned(),
                None => "never".to_owned(),
            };
            match months.last_mut() {
                Some(last) if last.month == month => last.points += points,
                _ => months.push(MonthPoints { month, points }),
            }
        }
        Ok(Liability {
            outstanding: books.customer_balances,
            outstanding_value_fen: i64::try_from(
                i128::from(books.customer_balances) * 100
                    / i128::from(settings.redeem_points_per_yuan),
            )
            .unwrap_or(i64::MAX),
            customers_with_points: books.customers_with_points,
            owed: books.owed,
            entries: books.entries,
            balanced: sum == 0 && customer_account == books.customer_balances,
            accounts: books
                .accounts
                .into_iter()
                .map(|(account, balance)| AccountBalance { account, balance })
                .collect(),
            by_expiry_month: months,
        })
    }

    /// Start an expiry run now (admin, operator); the daily run starts by itself. One run
    /// per minute at most: a second request within it answers the first run's job.
    pub async fn start_expiry(&self, actor: &Actor) -> Result<i64> {
        manage(actor)?;
        let now = self.now();
        let key = format!("points_expiry:manual:{}", now / 60_000);
        self.enqueue_expiry(&key, actor.actor_id(), now).await
    }

    /// Enqueue the day's expiry run (from the minute tick; once per Shanghai day).
    pub async fn schedule_daily_expiry(&self) -> Result<i64> {
        let now = self.now();
        let day = yutang_core::promotions::stats::day_of(now);
        self.enqueue_expiry(&format!("points_expiry:{day}"), None, now)
            .await
    }

    async fn enqueue_expiry(&self, key: &str, by: Option<i64>, now: i64) -> Result<i64> {
        Ok(job_store::enqueue(
            &self.db,
            &NewJob {
                kind: EXPIRY_KIND,
                payload: "{}",
                run_at: now,
                idempotency_key: Some(key),
                created_by: by,
            },
            now,
        )
        .await?)
    }

    /// Run an expiry pass: every lot due now expires once, in batches of one transaction
    /// each (set-based: [`expire_batch`]), with the job's progress after each batch. A run that stops (kill -9) is simply
    /// run again: expired lots hold nothing and are not due any more, and each lot's entry
    /// key (`expire:{lot}`) makes a second expiry of it impossible.
    pub async fn run_expiry(&self, job_id: i64) -> Result<String> {
        let now = self.now();
        let total = store::count_due_lots(&self.db, now).await?;
        let mut done = 0i64;
        let mut expired_points = 0i64;
        let mut after = 0i64;
        loop {
            let batch = store::due_lots(&self.db, now, after, EXPIRY_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.0;
            expired_points += expire_batch(&self.db, &batch, now).await?;
            done += batch.len() as i64;
            job_store::progress(
                &self.db,
                job_id,
                done,
                total.max(done),
                self.now(),
                crate::jobs::LEASE_MS,
            )
            .await?;
        }
        Ok(serde_json::json!({"lots": done, "points": expired_points}).to_string())
    }
}

/// Expire a batch of due lots in one transaction, set-based: lock their accounts (ascending
/// id), re-read which lots still hold points and are due, compute each entry's running
/// balance per customer, and write entries, lot moves, emptied lots and balances in a handful
/// of statements. Returns the points expired.
async fn expire_batch(db: &yutang_store::Db, batch: &[(i64, i64)], now: i64) -> Result<i64> {
    let mut customers: Vec<i64> = batch.iter().map(|b| b.1).collect();
    customers.sort_unstable();
    customers.dedup();
    let lots: Vec<i64> = batch.iter().map(|b| b.0).collect();
    let mut tx = db.begin().await?;
    let balances: std::collections::HashMap<i64, i64> =
        store::lock_accounts_in(&mut tx, &customers)
            .await?
            .into_iter()
            .map(|(c, b, _)| (c, b))
            .collect();
    let due = store::due_lots_in(&mut tx, &lots, now).await?;
    let mut rows = Vec::with_capacity(due.len());
    let mut running: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for l in &due {
        let bal = running
            .entry(l.customer_id)
            .or_insert_with(|| balances.get(&l.customer_id).copied().unwrap_or(0));
        *bal -= l.remaining;
        if *bal < 0 {
            return Err(AppError::Internal(format!(
                "customer {}'s lots hold more than their balance",
                l.customer_id
            )));
        }
        rows.push(store::Expiring {
            lot: l.id,
            customer_id: l.customer_id,
            amount: l.remaining,
            balance_after: *bal,
            key: format!("expire:{}:{}", l.id, l.moves),
        });
    }
    store::expire_batch_in(&mut tx, &rows, now).await?;
    tx.commit().await?;
    Ok(rows.iter().map(|r| r.amount).sum())
}

/// The most earnings one batch may carry.
pub const MAX_BATCH: usize = 1000;

/// One earning of a batch, as sent.
#[derive(Debug, Clone)]
pub struct EarnItem {
    pub customer_id: i64,
    pub points: i64,
    pub source_type: EarnSource,
    pub source_id: String,
    pub reason: String,
}

/// What became of one earning of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EarnOutcome {
    /// Posted now.
    Created { entry_id: i64 },
    /// Its source was posted before (the same points for the same customer): nothing changed.
    Duplicate { entry_id: i64 },
    /// Refused; nothing of it was posted.
    Rejected {
        code: String,
        field: Option<String>,
        message: String,
    },
}

fn rejected(e: FieldError) -> EarnOutcome {
    EarnOutcome::Rejected {
        code: e.code.to_owned(),
        field: Some(e.field.to_owned()),
        message: e.message,
    }
}

/// What a batch item resolved to before the writes.
enum Planned {
    Done(EarnOutcome),
    /// Created by this batch under the key (set-based or one by one).
    New(String),
    /// A repeat, inside this batch, of the item that creates the key.
    Again(String),
}

fn require_key(k: Option<&str>) -> Result<&str> {
    k.ok_or_else(|| {
        FieldError::new(
            crate::idempotency::HEADER,
            "required",
            "a redemption needs an Idempotency-Key, so a retry never spends twice",
        )
        .into()
    })
}

/// An order reference: empty, or 1–64 visible characters.
fn parse_order_ref(s: &str) -> Result<String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    Ok(yutang_core::orders::parse_external_id("order_ref", s)?)
}

/// What an integration may report points for (orders earn by themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EarnSource {
    Checkin,
    Task,
    Referral,
    Campaign,
}

impl EarnSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EarnSource::Checkin => "checkin",
            EarnSource::Task => "task",
            EarnSource::Referral => "referral",
            EarnSource::Campaign => "campaign",
        }
    }
}
