//! Stored value (储值): top-ups (with the best top-up gift rule), spends at checkout
//! (principal first, gift last), refunds of spends (to the portions they took) and of
//! top-ups (unspent principal in cash, the gift they brought clawed back), the top-up gift
//! rules and the liability report.
//!
//! Every posting locks the customer's account row first ([`store::lock_account_in`]) and only
//! then looks for an earlier answer to the same cause, so two requests for one customer queue
//! on PostgreSQL and the second sees what the first committed. Every entry has a unique key
//! naming its cause (`top_up:{order no}`, `spend:{caller}:{key}`,
//! `spend_refund:{spend}:{refund no}`, `top_up_refund:{top-up}`, `member_gift:{grant}`):
//! posting the same cause again finds the entry and changes nothing.

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::points::EntryKind as PointsKind;
use yutang_core::loyalty::stored_value::{self as rules, EntryKind, Portions, Threshold};
use yutang_core::staff::Permission;
use yutang_store::Tx;
use yutang_store::loyalty::stored_value::{self as store, AccountDelta, AccountRow};

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::idempotency::{check_replay, fingerprint};
use crate::{Actor, App};

pub use store::{EntryRow, GiftRuleRow, SpendRow, TopUpRow};

/// The most entries one history page returns.
pub const MAX_PAGE: i64 = 200;

/// The result of a posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Posted {
    pub entry_id: Option<i64>,
    /// What moved.
    pub moved: Portions,
    /// The customer's portions after it.
    pub balance: Portions,
    /// `false`: posted before (a replay), nothing changed now.
    pub created: bool,
}

/// Where an entry comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cause<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub source_type: &'a str,
    pub source_id: &'a str,
    pub reason: &'a str,
    pub actor: &'a str,
}

/// Post `moved` under `kind` for a customer whose account is already locked and holds
/// `balance`; a cause posted before answers its entry. Refused (`insufficient_balance`) when
/// a portion would go below zero.
#[allow(clippy::too_many_arguments)]
async fn post_locked_in(
    tx: &mut Tx,
    customer: i64,
    balance: Portions,
    kind: EntryKind,
    moved: Portions,
    cause: &Cause<'_>,
    totals: AccountDelta,
    now: i64,
) -> Result<Posted> {
    if let Some(e) = store::entry_by_key_in(tx, cause.key).await? {
        check_replay(&e.fingerprint, cause.fingerprint)?;
        return Ok(Posted {
            entry_id: Some(e.id),
            moved: Portions {
                principal: e.principal,
                gift: e.gift,
            },
            balance: Portions {
                principal: e.principal_after,
                gift: e.gift_after,
            },
            created: false,
        });
    }
    if moved.is_zero() || !moved.is_valid() {
        return Ok(Posted {
            entry_id: None,
            moved: Portions::default(),
            balance,
            created: false,
        });
    }
    let after = if kind.sign() > 0 {
        balance.plus(moved)
    } else {
        balance.minus(moved)
    };
    if !after.is_valid() {
        return Err(insufficient(balance));
    }
    let (debit, credit) = kind.accounts();
    let id = store::insert_entry_in(
        tx,
        &store::NewEntry {
            key: cause.key,
            fingerprint: cause.fingerprint,
            customer_id: customer,
            kind: kind.as_str(),
            debit: debit.as_str(),
            credit: credit.as_str(),
            principal: moved.principal,
            gift: moved.gift,
            principal_after: after.principal,
            gift_after: after.gift,
            source_type: cause.source_type,
            source_id: cause.source_id,
            reason: cause.reason,
            actor: cause.actor,
        },
        now,
    )
    .await?;
    let delta = AccountDelta {
        principal: after.principal - balance.principal,
        gift: after.gift - balance.gift,
        ..totals
    };
    if !store::apply_in(tx, customer, &delta, now).await? {
        return Err(AppError::Internal(format!(
            "stored value of customer {customer} moved under its lock"
        )));
    }
    Ok(Posted {
        entry_id: Some(id),
        moved,
        balance: after,
        created: true,
    })
}

fn portions(a: &AccountRow) -> Portions {
    Portions {
        principal: a.principal,
        gift: a.gift,
    }
}

fn insufficient(balance: Portions) -> AppError {
    FieldError::new(
        "amount_fen",
        "insufficient_balance",
        format!(
            "the stored-value balance is {} fen ({} paid, {} gift)",
            balance.total(),
            balance.principal,
            balance.gift
        ),
    )
    .into()
}

/// Give a customer a stored-value gift (a top-up gift rule, a member gift) under `cause`.
pub(crate) async fn gift_in(
    tx: &mut Tx,
    customer: i64,
    fen: i64,
    cause: &Cause<'_>,
    now: i64,
) -> Result<Posted> {
    let account = store::lock_account_in(tx, customer, now).await?;
    post_locked_in(
        tx,
        customer,
        portions(&account),
        EntryKind::Gift,
        Portions {
            principal: 0,
            gift: fen,
        },
        cause,
        AccountDelta {
            gifted: fen,
            ..Default::default()
        },
        now,
    )
    .await
}

/// Credit points as a gift (source_type `gift`), with the brand's expiry, under `key`.
pub(crate) async fn gift_points_in(
    tx: &mut Tx,
    customer: i64,
    points: i64,
    key: &str,
    source_id: &str,
    actor: &str,
    now: i64,
) -> Result<()> {
    if points <= 0 {
        return Ok(());
    }
    let settings = super::points::settings_in(tx).await?;
    super::points::credit_in(
        tx,
        customer,
        PointsKind::Earn,
        points,
        settings.expiry.expires_at(now),
        &super::points::Cause {
            key,
            fingerprint: "",
            source_type: "gift",
            source_id,
            reason: "",
            actor,
        },
        now,
    )
    .await?;
    Ok(())
}

/// A merge: the merged-away customer's stored value (both portions) moves to the survivor.
pub(crate) async fn on_merge_in(tx: &mut Tx, survivor: i64, loser: i64, now: i64) -> Result<()> {
    let (first, second) = if survivor < loser {
        (survivor, loser)
    } else {
        (loser, survivor)
    };
    let a = store::lock_account_in(tx, first, now).await?;
    let b = store::lock_account_in(tx, second, now).await?;
    let (lost, kept) = if first == loser { (a, b) } else { (b, a) };
    let moved = portions(&lost);
    if moved.is_zero() {
        return Ok(());
    }
    let out_key = format!("merge_out:{loser}");
    let in_key = format!("merge_in:{loser}");
    let sid = loser.to_string();
    let cause = |key| Cause {
        key,
        fingerprint: "",
        source_type: "merge",
        source_id: &sid,
        reason: "",
        actor: "system",
    };
    post_locked_in(
        tx,
        loser,
        moved,
        EntryKind::TransferOut,
        moved,
        &cause(&out_key),
        AccountDelta::default(),
        now,
    )
    .await?;
    post_locked_in(
        tx,
        survivor,
        portions(&kept),
        EntryKind::TransferIn,
        moved,
        &cause(&in_key),
        AccountDelta::default(),
        now,
    )
    .await?;
    Ok(())
}

/// A customer's stored value.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub customer_id: i64,
    /// principal + gift.
    pub balance_fen: i64,
    pub principal_fen: i64,
    pub gift_fen: i64,
    pub topped_up_fen: i64,
    pub gifted_fen: i64,
    pub spent_fen: i64,
    pub refunded_fen: i64,
    pub clawed_back_fen: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntriesPage {
    pub items: Vec<EntryRow>,
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountBalance {
    pub account: String,
    pub balance: i64,
}

/// The stored-value liability.
#[derive(Debug, Clone, Serialize)]
pub struct Liability {
    /// What customers hold: principal + gift.
    pub outstanding_fen: i64,
    /// Money paid in and not spent or refunded (owed back in goods or cash).
    pub principal_fen: i64,
    /// Bonus not yet spent.
    pub gift_fen: i64,
    pub customers_with_balance: i64,
    pub entries: i64,
    pub accounts: Vec<AccountBalance>,
    /// Every account sums to zero and the stored balances match the ledger.
    pub balanced: bool,
}

/// A top-up as the API answers it.
#[derive(Debug, Clone, Serialize)]
pub struct TopUpView {
    #[serde(flatten)]
    pub top_up: TopUpRow,
    /// The customer's balance after the top-up and its gift (or after the refund).
    pub balance: AccountView,
}

/// A top-up's request.
#[derive(Debug, Clone)]
pub struct TopUpInput {
    pub order_no: String,
    pub amount_fen: i64,
}

/// A spend's request.
#[derive(Debug, Clone)]
pub struct SpendInput {
    pub amount_fen: i64,
    pub order_ref: String,
}

/// A top-up gift rule's request.
#[derive(Debug, Clone)]
pub struct GiftRuleInput {
    pub name: String,
    pub min_top_up_fen: i64,
    pub gift_fen: i64,
    pub points: i64,
    pub coupon_template_id: Option<i64>,
    pub active: bool,
}

/// The use cases of stored value.
pub struct StoredValue<'a>(&'a App);

impl std::ops::Deref for StoredValue<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of stored value (储值).
    pub fn stored_value(&self) -> StoredValue<'_> {
        StoredValue(self)
    }
}

fn manage(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManageCustomers) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn namespaced(actor: &Actor, key: &str) -> String {
    format!("{}:{}:{key}", actor.kind(), actor.actor_id().unwrap_or(0))
}

fn in_progress(e: yutang_store::StoreError) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => crate::idempotency::in_progress(),
        other => other,
    }
}

fn view_of(a: Option<AccountRow>, customer: i64) -> AccountView {
    let a = a.unwrap_or_else(|| AccountRow {
        customer_id: customer,
        ..Default::default()
    });
    AccountView {
        customer_id: customer,
        balance_fen: a.principal + a.gift,
        principal_fen: a.principal,
        gift_fen: a.gift,
        topped_up_fen: a.topped_up,
        gifted_fen: a.gifted,
        spent_fen: a.spent,
        refunded_fen: a.refunded,
        clawed_back_fen: a.clawed_back,
    }
}

impl StoredValue<'_> {
    /// A customer's stored value, within the caller's scope.
    pub async fn account(&self, actor: &Actor, customer: CustomerId) -> Result<AccountView> {
        let id = self.customers().visible_customer(actor, customer).await?;
        self.account_of(id).await
    }

    /// A customer's own stored value (member centre).
    pub async fn account_of(&self, customer: CustomerId) -> Result<AccountView> {
        Ok(view_of(
            store::account(&self.db, customer.0).await?,
            customer.0,
        ))
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

    /// A customer's top-ups and spends, newest first (the console's ledger page).
    pub async fn history(
        &self,
        actor: &Actor,
        customer: CustomerId,
    ) -> Result<(Vec<TopUpRow>, Vec<SpendRow>)> {
        let id = self.customers().visible_customer(actor, customer).await?;
        Ok((
            store::top_ups_of(&self.db, id.0, 50).await?,
            store::spends_of(&self.db, id.0, 50).await?,
        ))
    }

    /// Record a top-up paid outside (POS, mini-program payment; admin, operator tokens), once
    /// per external order no: the money goes to the principal, and the best top-up gift rule
    /// (the highest threshold reached) gives its stored-value gift and points in the same
    /// transaction; its coupon is issued right after, keyed by the top-up. A replay with the
    /// same body answers the first top-up; another body is 422 `idempotency_key_reused`.
    pub async fn top_up(
        &self,
        actor: &Actor,
        customer: CustomerId,
        input: &TopUpInput,
    ) -> Result<(TopUpView, bool)> {
        manage(actor)?;
        let order_no = yutang_core::orders::parse_external_id("order_no", &input.order_no)?;
        let amount = rules::parse_fen("amount_fen", input.amount_fen)?;
        let id = self.customers().visible_customer(actor, customer).await?;
        let fp = fingerprint(&["top_up", &id.0.to_string(), &amount.to_string()]);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let account = store::lock_account_in(&mut tx, id.0, now).await?;
        if let Some(prior) = store::top_up_by_order_in(&mut tx, &order_no).await? {
            check_replay(&prior.fingerprint, &fp)?;
            drop(tx);
            self.issue_top_up_coupon(&prior).await?;
            return Ok((self.top_up_view(prior).await?, false));
        }
        let key = format!("top_up:{order_no}");
        let posted = post_locked_in(
            &mut tx,
            id.0,
            portions(&account),
            EntryKind::TopUp,
            Portions {
                principal: amount,
                gift: 0,
            },
            &Cause {
                key: &key,
                fingerprint: &fp,
                source_type: "top_up",
                source_id: &order_no,
                reason: "",
                actor: &actor.name,
            },
            AccountDelta {
                topped_up: amount,
                ..Default::default()
            },
            now,
        )
        .await
        .map_err(|e| match e {
            AppError::Store(s) => in_progress(s),
            other => other,
        })?;
        let entry = posted
            .entry_id
            .ok_or_else(|| AppError::Internal("a top-up posted no entry".into()))?;
        let live = store::active_gift_rules_in(&mut tx).await?;
        let thresholds: Vec<Threshold> = live
            .iter()
            .map(|r| Threshold {
                id: r.id,
                min_top_up_fen: r.min_top_up_fen,
            })
            .collect();
        let rule =
            rules::best_rule(&thresholds, amount).and_then(|r| live.iter().find(|x| x.id == r));
        if let Some(r) = rule {
            if r.gift_fen > 0 {
                let gkey = format!("top_up_gift:{order_no}");
                gift_in(
                    &mut tx,
                    id.0,
                    r.gift_fen,
                    &Cause {
                        key: &gkey,
                        fingerprint: "",
                        source_type: "top_up_gift",
                        source_id: &order_no,
                        reason: &r.name,
                        actor: &actor.name,
                    },
                    now,
                )
                .await?;
            }
            gift_points_in(
                &mut tx,
                id.0,
                r.points,
                &format!("gift:top_up:{order_no}"),
                &order_no,
                &actor.name,
                now,
            )
            .await?;
        }
        let tid = store::insert_top_up_in(
            &mut tx,
            &store::NewTopUp {
                order_no: &order_no,
                fingerprint: &fp,
                customer_id: id.0,
                amount_fen: amount,
                rule_id: rule.map(|r| r.id),
                gift_fen: rule.map_or(0, |r| r.gift_fen),
                gift_points: rule.map_or(0, |r| r.points),
                coupon_template_id: rule.and_then(|r| r.coupon_template_id),
                entry_id: entry,
                created_by: &actor.name,
            },
            now,
        )
        .await
        .map_err(in_progress)?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::StoredValueChanged,
            &format!("customer:{}", id.0),
            &serde_json::json!({"op": "top_up", "order_no": order_no, "amount_fen": amount,
                "rule_id": rule.map(|r| r.id)})
            .to_string(),
        )
        .await?;
        tx.commit().await.map_err(in_progress)?;
        let row = store::top_up(&self.db, tid).await?;
        self.issue_top_up_coupon(&row).await?;
        Ok((self.top_up_view(row).await?, true))
    }

    async fn top_up_view(&self, top_up: TopUpRow) -> Result<TopUpView> {
        let balance = view_of(
            store::account(&self.db, top_up.customer_id).await?,
            top_up.customer_id,
        );
        Ok(TopUpView { top_up, balance })
    }

    /// The coupon a top-up's gift rule gives, issued once (keyed by the top-up): a replay or
    /// a retry after a crash issues it if it is missing. A template that cannot be issued
    /// (archived, out of stock) is skipped with a warning: the top-up stands.
    async fn issue_top_up_coupon(&self, t: &TopUpRow) -> Result<()> {
        if let Some(template) = t.coupon_template_id {
            self.issue_gift_coupon(template, t.customer_id, &format!("sv_top_up:{}", t.id))
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn issue_gift_coupon(
        &self,
        template: i64,
        customer: i64,
        key: &str,
    ) -> Result<bool> {
        match self
            .coupons()
            .issue_reward(template, CustomerId(customer), key)
            .await
        {
            Ok(_) => Ok(true),
            Err(e @ (AppError::Rule { .. } | AppError::Invalid(_) | AppError::NotFound { .. })) => {
                tracing::warn!(customer, template, error = %e, "gift coupon not issued");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Refund a top-up in cash (admin, operator; audited), once: only the unspent principal
    /// comes back (at most the top-up), and the gift the top-up brought is clawed back up to
    /// what is left of the gift portion. A second refund answers the first (200).
    pub async fn refund_top_up(&self, actor: &Actor, order_no: &str) -> Result<(TopUpView, bool)> {
        manage(actor)?;
        let not_found = || AppError::NotFound { what: "top-up" };
        let order_no = yutang_core::orders::parse_external_id("order_no", order_no)
            .map_err(|_| not_found())?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let t = store::top_up_by_order_in(&mut tx, &order_no)
            .await?
            .ok_or_else(not_found)?;
        self.customers()
            .visible_customer(actor, CustomerId(t.customer_id))
            .await
            .map_err(|_| not_found())?;
        let account = store::lock_account_in(&mut tx, t.customer_id, now).await?;
        let t = store::lock_top_up_in(&mut tx, &order_no)
            .await?
            .ok_or_else(not_found)?;
        if t.status != "paid" {
            drop(tx);
            return Ok((self.top_up_view(t).await?, false));
        }
        let back = rules::top_up_refund(t.amount_fen, t.gift_fen, portions(&account));
        let key = format!("top_up_refund:{}", t.id);
        post_locked_in(
            &mut tx,
            t.customer_id,
            portions(&account),
            EntryKind::TopUpRefund,
            back,
            &Cause {
                key: &key,
                fingerprint: "",
                source_type: "top_up",
                source_id: &order_no,
                reason: "",
                actor: &actor.name,
            },
            AccountDelta {
                refunded: back.principal,
                clawed_back: back.gift,
                ..Default::default()
            },
            now,
        )
        .await?;
        if !store::refund_top_up_in(&mut tx, t.id, back.principal, back.gift, now).await? {
            return Err(AppError::Internal(format!(
                "top-up {} moved under its lock",
                t.id
            )));
        }
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::StoredValueChanged,
            &format!("customer:{}", t.customer_id),
            &serde_json::json!({"op": "top_up_refund", "order_no": order_no,
                "refunded_fen": back.principal, "clawed_back_fen": back.gift})
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        let row = store::top_up(&self.db, t.id).await?;
        Ok((self.top_up_view(row).await?, true))
    }

    /// Spend stored value at checkout (POS; admin, operator tokens), once per
    /// `Idempotency-Key`: principal first, then gift. Above the balance is 422
    /// `insufficient_balance` and nothing is written.
    pub async fn spend(
        &self,
        actor: &Actor,
        customer: CustomerId,
        input: &SpendInput,
        idempotency_key: Option<&str>,
    ) -> Result<(SpendRow, bool)> {
        manage(actor)?;
        let amount = rules::parse_fen("amount_fen", input.amount_fen)?;
        let order_ref = if input.order_ref.is_empty() {
            String::new()
        } else {
            yutang_core::orders::parse_external_id("order_ref", &input.order_ref)?
        };
        let key = idempotency_key.ok_or_else(|| {
            FieldError::new(
                crate::idempotency::HEADER,
                "required",
                "a spend needs an Idempotency-Key, so a retry never spends twice",
            )
        })?;
        let id = self.customers().visible_customer(actor, customer).await?;
        let key = namespaced(actor, key);
        let fp = fingerprint(&["spend", &id.0.to_string(), &amount.to_string(), &order_ref]);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let account = store::lock_account_in(&mut tx, id.0, now).await?;
        if let Some(prior) = store::spend_by_key_in(&mut tx, &key).await? {
            check_replay(&prior.fingerprint, &fp)?;
            return Ok((prior, false));
        }
        let balance = portions(&account);
        let took = rules::split_spend(balance, amount).ok_or_else(|| insufficient(balance))?;
        let entry_key = format!("spend:{key}");
        let posted = post_locked_in(
            &mut tx,
            id.0,
            balance,
            EntryKind::Spend,
            took,
            &Cause {
                key: &entry_key,
                fingerprint: &fp,
                source_type: "spend",
                source_id: &order_ref,
                reason: "",
                actor: &actor.name,
            },
            AccountDelta {
                spent: amount,
                ..Default::default()
            },
            now,
        )
        .await
        .map_err(|e| match e {
            AppError::Store(s) => in_progress(s),
            other => other,
        })?;
        let entry = posted
            .entry_id
            .ok_or_else(|| AppError::Internal("a spend posted no entry".into()))?;
        let sid = store::insert_spend_in(
            &mut tx,
            &store::NewSpend {
                key: &key,
                fingerprint: &fp,
                customer_id: id.0,
                principal: took.principal,
                gift: took.gift,
                order_ref: &order_ref,
                entry_id: entry,
                created_by: &actor.name,
            },
            now,
        )
        .await
        .map_err(in_progress)?;
        tx.commit().await.map_err(in_progress)?;
        Ok((store::spend(&self.db, sid).await?, true))
    }

    /// Refund (part of) a spend (admin, operator; audited), once per `refund_no`: the amount
    /// (by default what is left of the spend) goes back to the portions the spend took, in
    /// its proportion, so refunds of the whole spend give back exactly what it took. More
    /// than is left is 422 `refund_exceeds_spend`.
    pub async fn refund_spend(
        &self,
        actor: &Actor,
        spend: i64,
        refund_no: &str,
        amount_fen: Option<i64>,
    ) -> Result<(SpendRow, bool)> {
        manage(actor)?;
        let refund_no = yutang_core::orders::parse_external_id("refund_no", refund_no)?;
        if let Some(a) = amount_fen {
            rules::parse_fen("amount_fen", a)?;
        }
        let not_found = || AppError::NotFound { what: "spend" };
        let row = store::spend(&self.db, spend)
            .await
            .map_err(|_| not_found())?;
        self.customers()
            .visible_customer(actor, CustomerId(row.customer_id))
            .await
            .map_err(|_| not_found())?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let account = store::lock_account_in(&mut tx, row.customer_id, now).await?;
        let row = store::spend_in(&mut tx, spend)
            .await?
            .ok_or_else(not_found)?;
        let took = Portions {
            principal: row.principal,
            gift: row.gift,
        };
        let refunded = Portions {
            principal: row.refunded_principal,
            gift: row.refunded_gift,
        };
        let key = format!("spend_refund:{spend}:{refund_no}");
        let fp = fingerprint(&[
            "spend_refund",
            &spend.to_string(),
            &amount_fen.map(|a| a.to_string()).unwrap_or_default(),
        ]);
        if let Some(prior) = store::entry_by_key_in(&mut tx, &key).await? {
            check_replay(&prior.fingerprint, &fp)?;
            return Ok((row, false));
        }
        let left = took.total() - refunded.total();
        let amount = amount_fen.unwrap_or(left);
        let back = rules::refund_portions(took, refunded, amount).ok_or_else(|| {
            FieldError::new(
                "amount_fen",
                "refund_exceeds_spend",
                format!("{left} fen of this spend is left to refund"),
            )
        })?;
        let sid = spend.to_string();
        post_locked_in(
            &mut tx,
            row.customer_id,
            portions(&account),
            EntryKind::SpendRefund,
            back,
            &Cause {
                key: &key,
                fingerprint: &fp,
                source_type: "spend",
                source_id: &sid,
                reason: &refund_no,
                actor: &actor.name,
            },
            AccountDelta {
                spent: -back.total(),
                ..Default::default()
            },
            now,
        )
        .await?;
        if !store::add_spend_refund_in(&mut tx, spend, back.principal, back.gift).await? {
            return Err(AppError::Internal(format!(
                "spend {spend} moved under its lock"
            )));
        }
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::StoredValueChanged,
            &format!("customer:{}", row.customer_id),
            &serde_json::json!({"op": "spend_refund", "spend_id": spend, "refund_no": refund_no,
                "principal_fen": back.principal, "gift_fen": back.gift})
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok((store::spend(&self.db, spend).await?, true))
    }

    /// The liability report (HQ roles that see metrics).
    pub async fn liability(&self, actor: &Actor) -> Result<Liability> {
        if !actor.can(Permission::ViewMetrics) {
            return Err(AppError::Forbidden);
        }
        let books = store::books(&self.db).await?;
        let customer_account = books
            .accounts
            .iter()
            .find(|(a, _)| a == "customer")
            .map_or(0, |(_, v)| *v);
        let sum: i64 = books.accounts.iter().map(|(_, v)| *v).sum();
        let outstanding = books.principal + books.gift;
        Ok(Liability {
            outstanding_fen: outstanding,
            principal_fen: books.principal,
            gift_fen: books.gift,
            customers_with_balance: books.customers_with_balance,
            entries: books.entries,
            balanced: sum == 0 && customer_account == outstanding,
            accounts: books
                .accounts
                .into_iter()
                .map(|(account, balance)| AccountBalance { account, balance })
                .collect(),
        })
    }

    /// The top-up gift rules (whoever sees customers).
    pub async fn gift_rules(&self, actor: &Actor) -> Result<Vec<GiftRuleRow>> {
        if !actor.can(Permission::ViewCustomers) {
            return Err(AppError::Forbidden);
        }
        Ok(store::gift_rules(&self.db).await?)
    }

    /// Create (`id` none) or replace a top-up gift rule (admin, operator; audited).
    pub async fn save_gift_rule(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: &GiftRuleInput,
    ) -> Result<(GiftRuleRow, bool)> {
        manage(actor)?;
        let name = rules::parse_name(&input.name)?;
        let min = rules::parse_fen("min_top_up_fen", input.min_top_up_fen)?;
        rules::check_reward(input.coupon_template_id, input.points, input.gift_fen)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        check_template_in(&mut tx, input.coupon_template_id).await?;
        let write = store::GiftRuleWrite {
            name,
            min_top_up_fen: min,
            gift_fen: input.gift_fen,
            points: input.points,
            coupon_template_id: input.coupon_template_id,
            status: if input.active { "active" } else { "archived" }.into(),
        };
        let (rid, before) = match id {
            Some(id) => {
                let before = store::gift_rule_in(&mut tx, id)
                    .await?
                    .ok_or(AppError::NotFound { what: "gift rule" })?;
                store::update_gift_rule_in(&mut tx, id, &write, now).await?;
                (id, Some(before))
            }
            None => (
                store::insert_gift_rule_in(&mut tx, &write, now).await?,
                None,
            ),
        };
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::StoredValueChanged,
            &format!("stored_value_gift_rule:{rid}"),
            &serde_json::json!({"op": if before.is_some() { "rule.update" } else { "rule.create" },
                "before": before, "name": write.name, "min_top_up_fen": write.min_top_up_fen,
                "gift_fen": write.gift_fen, "points": write.points,
                "coupon_template_id": write.coupon_template_id, "status": write.status})
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok((store::gift_rule(&self.db, rid).await?, id.is_none()))
    }

    /// Archive a top-up gift rule (it stops applying; top-ups keep naming it).
    pub async fn archive_gift_rule(&self, actor: &Actor, id: i64) -> Result<GiftRuleRow> {
        manage(actor)?;
        let r = store::gift_rule(&self.db, id)
            .await
            .map_err(AppError::not_found("gift rule"))?;
        let input = GiftRuleInput {
            name: r.name,
            min_top_up_fen: r.min_top_up_fen,
            gift_fen: r.gift_fen,
            points: r.points,
            coupon_template_id: r.coupon_template_id,
            active: false,
        };
        Ok(self.save_gift_rule(actor, Some(id), &input).await?.0)
    }
}

/// A coupon template named by a rule must exist (422 `unknown_reference` on
/// `coupon_template_id`).
pub(crate) async fn check_template_in(tx: &mut Tx, template: Option<i64>) -> Result<()> {
    if let Some(t) = template
        && yutang_store::loyalty::tiers::missing_template_in(tx, &[t])
            .await?
            .is_some()
    {
        return Err(FieldError::new(
            "coupon_template_id",
            "unknown_reference",
            format!("no coupon template {t}"),
        )
        .into());
    }
    Ok(())
}
