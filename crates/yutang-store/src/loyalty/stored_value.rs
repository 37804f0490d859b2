//! Stored-value rows (migration 0027): each customer's account with its two portions, the
//! append-only entries, top-ups, spends, the top-up gift rules, and the member gift rules
//! with their grants.
//!
//! Data access only: the app decides (with core's rules) and posts inside one transaction,
//! having locked the account row first ([`lock_account_in`]). The guarded UPDATEs are the
//! backstop — no portion ever goes below zero even if a caller forgot the lock.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// A customer's account.
#[derive(Debug, Clone, Default, FromRow, Serialize)]
pub struct AccountRow {
    pub customer_id: i64,
    pub principal: i64,
    pub gift: i64,
    pub topped_up: i64,
    pub gifted: i64,
    pub spent: i64,
    pub refunded: i64,
    pub clawed_back: i64,
    pub updated_at: i64,
}

const ACCOUNT_SELECT: &str = "SELECT customer_id, principal, gift, topped_up, gifted, spent, \
     refunded, clawed_back, updated_at FROM stored_value_accounts WHERE customer_id = $1";

pub async fn account(db: &Db, customer: i64) -> Result<Option<AccountRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, AccountRow>(ACCOUNT_SELECT)
            .bind(customer)
            .fetch_optional(pool)
            .await?)
    })
}

/// A customer's account, created empty when missing, locked (PostgreSQL) until commit.
pub async fn lock_account_in(tx: &mut Tx, customer: i64, now: i64) -> Result<AccountRow> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO stored_value_accounts (customer_id, updated_at) VALUES ($1, $2) \
             ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(customer)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(format!("{ACCOUNT_SELECT}{lock}")))
            .bind(customer)
            .fetch_one(&mut *conn)
            .await?)
    })
}

/// How an entry changes an account.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountDelta {
    pub principal: i64,
    pub gift: i64,
    pub topped_up: i64,
    pub gifted: i64,
    pub spent: i64,
    pub refunded: i64,
    pub clawed_back: i64,
}

/// Apply a delta, guarded: `false` (nothing written) when a portion would go below zero.
pub async fn apply_in(tx: &mut Tx, customer: i64, d: &AccountDelta, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE stored_value_accounts SET principal = principal + $2, gift = gift + $3, \
             topped_up = topped_up + $4, gifted = gifted + $5, spent = spent + $6, \
             refunded = refunded + $7, clawed_back = clawed_back + $8, updated_at = $9 \
             WHERE customer_id = $1 AND principal + $2 >= 0 AND gift + $3 >= 0",
        )
        .bind(customer)
        .bind(d.principal)
        .bind(d.gift)
        .bind(d.topped_up)
        .bind(d.gifted)
        .bind(d.spent)
        .bind(d.refunded)
        .bind(d.clawed_back)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// A ledger entry.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct EntryRow {
    pub id: i64,
    pub entry_key: String,
    #[serde(skip)]
    pub fingerprint: String,
    pub customer_id: i64,
    pub kind: String,
    pub debit: String,
    pub credit: String,
    pub principal: i64,
    pub gift: i64,
    pub amount: i64,
    pub principal_after: i64,
    pub gift_after: i64,
    pub source_type: String,
    pub source_id: String,
    pub reason: String,
    pub actor: String,
    pub created_at: i64,
}

macro_rules! entry_select {
    () => {
        "SELECT id, entry_key, fingerprint, customer_id, kind, debit, credit, principal, gift, \
         amount, principal_after, gift_after, source_type, source_id, reason, actor, created_at \
         FROM stored_value_entries"
    };
}

pub async fn entry_by_key_in(tx: &mut Tx, key: &str) -> Result<Option<EntryRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, EntryRow>(concat!(entry_select!(), " WHERE entry_key = $1"))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

pub async fn entry(db: &Db, id: i64) -> Result<EntryRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, EntryRow>(concat!(entry_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// A new entry's columns.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub customer_id: i64,
    pub kind: &'a str,
    pub debit: &'a str,
    pub credit: &'a str,
    pub principal: i64,
    pub gift: i64,
    pub principal_after: i64,
    pub gift_after: i64,
    pub source_type: &'a str,
    pub source_id: &'a str,
    pub reason: &'a str,
    pub actor: &'a str,
}

pub async fn insert_entry_in(tx: &mut Tx, e: &NewEntry<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO stored_value_entries (entry_key, fingerprint, customer_id, kind, debit, \
             credit, principal, gift, amount, principal_after, gift_after, source_type, \
             source_id, reason, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             RETURNING id",
        )
        .bind(e.key)
        .bind(e.fingerprint)
        .bind(e.customer_id)
        .bind(e.kind)
        .bind(e.debit)
        .bind(e.credit)
        .bind(e.principal)
        .bind(e.gift)
        .bind(e.principal + e.gift)
        .bind(e.principal_after)
        .bind(e.gift_after)
        .bind(e.source_type)
        .bind(e.source_id)
        .bind(e.reason)
        .bind(e.actor)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// A customer's entries, newest first, keyset-paged by id (`before`: exclusive).
pub async fn entries(
    db: &Db,
    customer: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EntryRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, EntryRow>(concat!(
            entry_select!(),
            " WHERE customer_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        ))
        .bind(customer)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// A top-up.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TopUpRow {
    pub id: i64,
    pub order_no: String,
    #[serde(skip)]
    pub fingerprint: String,
    pub customer_id: i64,
    pub amount_fen: i64,
    pub rule_id: Option<i64>,
    pub gift_fen: i64,
    pub gift_points: i64,
    pub coupon_template_id: Option<i64>,
    pub status: String,
    pub entry_id: i64,
    pub refunded_fen: i64,
    pub clawed_back_fen: i64,
    pub created_by: String,
    pub created_at: i64,
    pub refunded_at: Option<i64>,
}

macro_rules! top_up_select {
    () => {
        "SELECT id, order_no, fingerprint, customer_id, amount_fen, rule_id, gift_fen, \
         gift_points, coupon_template_id, status, entry_id, refunded_fen, clawed_back_fen, \
         created_by, created_at, refunded_at FROM stored_value_top_ups"
    };
}

pub async fn top_up_by_order_in(tx: &mut Tx, order_no: &str) -> Result<Option<TopUpRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, TopUpRow>(concat!(top_up_select!(), " WHERE order_no = $1"))
            .bind(order_no)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// A top-up by its order no, locked (PostgreSQL) until commit.
pub async fn lock_top_up_in(tx: &mut Tx, order_no: &str) -> Result<Option<TopUpRow>> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, TopUpRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE order_no = $1{lock}",
            top_up_select!()
        )))
        .bind(order_no)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

pub async fn top_up(db: &Db, id: i64) -> Result<TopUpRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TopUpRow>(concat!(top_up_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn top_ups_of(db: &Db, customer: i64, limit: i64) -> Result<Vec<TopUpRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TopUpRow>(concat!(
            top_up_select!(),
            " WHERE customer_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(customer)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// A new top-up's columns.
#[derive(Debug, Clone, Copy)]
pub struct NewTopUp<'a> {
    pub order_no: &'a str,
    pub fingerprint: &'a str,
    pub customer_id: i64,
    pub amount_fen: i64,
    pub rule_id: Option<i64>,
    pub gift_fen: i64,
    pub gift_points: i64,
    pub coupon_template_id: Option<i64>,
    pub entry_id: i64,
    pub created_by: &'a str,
}

pub async fn insert_top_up_in(tx: &mut Tx, t: &NewTopUp<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO stored_value_top_ups (order_no, fingerprint, customer_id, amount_fen, \
             rule_id, gift_fen, gift_points, coupon_template_id, entry_id, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(t.order_no)
        .bind(t.fingerprint)
        .bind(t.customer_id)
        .bind(t.amount_fen)
        .bind(t.rule_id)
        .bind(t.gift_fen)
        .bind(t.gift_points)
        .bind(t.coupon_template_id)
        .bind(t.entry_id)
        .bind(t.created_by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Mark a paid top-up refunded, guarded on its status: `false` when it was not paid.
pub async fn refund_top_up_in(
    tx: &mut Tx,
    id: i64,
    refunded: i64,
    clawed: i64,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE stored_value_top_ups SET status = 'refunded', refunded_fen = $2, \
             clawed_back_fen = $3, refunded_at = $4 WHERE id = $1 AND status = 'paid'",
        )
        .bind(id)
        .bind(refunded)
        .bind(clawed)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// A spend.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SpendRow {
    pub id: i64,
    #[serde(skip)]
    pub idempotency_key: String,
    #[serde(skip)]
    pub fingerprint: String,
    pub customer_id: i64,
    pub amount_fen: i64,
    pub principal: i64,
    pub gift: i64,
    pub refunded_principal: i64,
    pub refunded_gift: i64,
    pub order_ref: String,
    pub entry_id: i64,
    pub created_by: String,
    pub created_at: i64,
}

macro_rules! spend_select {
    () => {
        "SELECT id, idempotency_key, fingerprint, customer_id, amount_fen, principal, gift, \
         refunded_principal, refunded_gift, order_ref, entry_id, created_by, created_at \
         FROM stored_value_spends"
    };
}

pub async fn spend_by_key_in(tx: &mut Tx, key: &str) -> Result<Option<SpendRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, SpendRow>(concat!(spend_select!(), " WHERE idempotency_key = $1"))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

pub async fn spend(db: &Db, id: i64) -> Result<SpendRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, SpendRow>(concat!(spend_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn spend_in(tx: &mut Tx, id: i64) -> Result<Option<SpendRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, SpendRow>(concat!(spend_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

pub async fn spends_of(db: &Db, customer: i64, limit: i64) -> Result<Vec<SpendRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SpendRow>(concat!(
            spend_select!(),
            " WHERE customer_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(customer)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// A new spend's columns.
#[derive(Debug, Clone, Copy)]
pub struct NewSpend<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub customer_id: i64,
    pub principal: i64,
    pub gift: i64,
    pub order_ref: &'a str,
    pub entry_id: i64,
    pub created_by: &'a str,
}

pub async fn insert_spend_in(tx: &mut Tx, s: &NewSpend<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO stored_value_spends (idempotency_key, fingerprint, customer_id, \
             amount_fen, principal, gift, order_ref, entry_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(s.key)
        .bind(s.fingerprint)
        .bind(s.customer_id)
        .bind(s.principal + s.gift)
        .bind(s.principal)
        .bind(s.gift)
        .bind(s.order_ref)
        .bind(s.entry_id)
        .bind(s.created_by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Add a refund to a spend, guarded so refunds never exceed what the spend took.
pub async fn add_spend_refund_in(tx: &mut Tx, id: i64, principal: i64, gift: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE stored_value_spends SET refunded_principal = refunded_principal + $2, \
             refunded_gift = refunded_gift + $3 WHERE id = $1 \
             AND refunded_principal + $2 <= principal AND refunded_gift + $3 <= gift",
        )
        .bind(id)
        .bind(principal)
        .bind(gift)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// A top-up gift rule.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GiftRuleRow {
    pub id: i64,
    pub name: String,
    pub min_top_up_fen: i64,
    pub gift_fen: i64,
    pub points: i64,
    pub coupon_template_id: Option<i64>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! gift_rule_select {
    () => {
        "SELECT id, name, min_top_up_fen, gift_fen, points, coupon_template_id, status, \
         created_at, updated_at FROM stored_value_gift_rules"
    };
}

pub async fn gift_rules(db: &Db) -> Result<Vec<GiftRuleRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GiftRuleRow>(concat!(
            gift_rule_select!(),
            " ORDER BY status, min_top_up_fen, id"
        ))
        .fetch_all(pool)
        .await?)
    })
}

pub async fn gift_rule(db: &Db, id: i64) -> Result<GiftRuleRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, GiftRuleRow>(concat!(gift_rule_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn gift_rule_in(tx: &mut Tx, id: i64) -> Result<Option<GiftRuleRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, GiftRuleRow>(concat!(gift_rule_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

pub async fn active_gift_rules_in(tx: &mut Tx) -> Result<Vec<GiftRuleRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, GiftRuleRow>(concat!(
            gift_rule_select!(),
            " WHERE status = 'active' ORDER BY id"
        ))
        .fetch_all(&mut *conn)
        .await?)
    })
}

/// A rule's editable columns.
#[derive(Debug, Clone)]
pub struct GiftRuleWrite {
    pub name: String,
    pub min_top_up_fen: i64,
    pub gift_fen: i64,
    pub points: i64,
    pub coupon_template_id: Option<i64>,
    pub status: String,
}

pub async fn insert_gift_rule_in(tx: &mut Tx, r: &GiftRuleWrite, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO stored_value_gift_rules (name, min_top_up_fen, gift_fen, points, \
             coupon_template_id, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(&r.name)
        .bind(r.min_top_up_fen)
        .bind(r.gift_fen)
        .bind(r.points)
        .bind(r.coupon_template_id)
        .bind(&r.status)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

pub async fn update_gift_rule_in(
    tx: &mut Tx,
    id: i64,
    r: &GiftRuleWrite,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE stored_value_gift_rules SET name = $2, min_top_up_fen = $3, gift_fen = $4, \
             points = $5, coupon_template_id = $6, status = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(id)
        .bind(&r.name)
        .bind(r.min_top_up_fen)
        .bind(r.gift_fen)
        .bind(r.points)
        .bind(r.coupon_template_id)
        .bind(&r.status)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// The books: each account's balance from the entries, and the stored balances' totals.
#[derive(Debug, Clone, Default)]
pub struct Books {
    pub accounts: Vec<(String, i64)>,
    pub principal: i64,
    pub gift: i64,
    pub customers_with_balance: i64,
    pub entries: i64,
}

pub async fn books(db: &Db) -> Result<Books> {
    db_run!(db, pool => {
        let credits: Vec<(String, i64)> = sqlx::query_as(
            "SELECT credit, CAST(SUM(amount) AS BIGINT) FROM stored_value_entries GROUP BY credit",
        )
        .fetch_all(pool)
        .await?;
        let debits: Vec<(String, i64)> = sqlx::query_as(
            "SELECT debit, CAST(SUM(amount) AS BIGINT) FROM stored_value_entries GROUP BY debit",
        )
        .fetch_all(pool)
        .await?;
        let mut accounts: std::collections::BTreeMap<String, i64> = Default::default();
        for (a, v) in credits {
            *accounts.entry(a).or_default() += v;
        }
        for (a, v) in debits {
            *accounts.entry(a).or_default() -= v;
        }
        let (principal, gift, holders): (Option<i64>, Option<i64>, i64) = sqlx::query_as(
            "SELECT CAST(SUM(principal) AS BIGINT), CAST(SUM(gift) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN principal + gift > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) FROM stored_value_accounts",
        )
        .fetch_one(pool)
        .await?;
        let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stored_value_entries")
            .fetch_one(pool)
            .await?;
        Ok(Books {
            accounts: accounts.into_iter().collect(),
            principal: principal.unwrap_or(0),
            gift: gift.unwrap_or(0),
            customers_with_balance: holders,
            entries,
        })
    })
}

/// A member gift rule.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MemberGiftRuleRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub mode: String,
    pub coupon_template_id: Option<i64>,
    pub points: i64,
    pub gift_fen: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! member_rule_select {
    () => {
        "SELECT id, name, kind, mode, coupon_template_id, points, gift_fen, status, created_at, \
         updated_at FROM member_gift_rules"
    };
}

pub async fn member_rules(db: &Db) -> Result<Vec<MemberGiftRuleRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, MemberGiftRuleRow>(concat!(
            member_rule_select!(),
            " ORDER BY status, id"
        ))
        .fetch_all(pool)
        .await?)
    })
}

pub async fn member_rule(db: &Db, id: i64) -> Result<MemberGiftRuleRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, MemberGiftRuleRow>(concat!(member_rule_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn member_rule_in(tx: &mut Tx, id: i64) -> Result<Option<MemberGiftRuleRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, MemberGiftRuleRow>(concat!(member_rule_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// A member gift rule's editable columns.
#[derive(Debug, Clone)]
pub struct MemberRuleWrite {
    pub name: String,
    pub kind: String,
    pub mode: String,
    pub coupon_template_id: Option<i64>,
    pub points: i64,
    pub gift_fen: i64,
    pub status: String,
}

pub async fn insert_member_rule_in(tx: &mut Tx, r: &MemberRuleWrite, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO member_gift_rules (name, kind, mode, coupon_template_id, points, \
             gift_fen, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(&r.name)
        .bind(&r.kind)
        .bind(&r.mode)
        .bind(r.coupon_template_id)
        .bind(r.points)
        .bind(r.gift_fen)
        .bind(&r.status)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

pub async fn update_member_rule_in(
    tx: &mut Tx,
    id: i64,
    r: &MemberRuleWrite,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE member_gift_rules SET name = $2, kind = $3, mode = $4, \
             coupon_template_id = $5, points = $6, gift_fen = $7, status = $8, updated_at = $9 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(&r.name)
        .bind(&r.kind)
        .bind(&r.mode)
        .bind(r.coupon_template_id)
        .bind(r.points)
        .bind(r.gift_fen)
        .bind(&r.status)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Live customers after `after` (by id): `(id, created_at, birthday)`.
pub async fn customers_after(
    db: &Db,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, i64, Option<String>)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT id, created_at, birthday FROM customers \
             WHERE id > $1 AND merged_into IS NULL ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// A gift granted.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GrantRow {
    pub id: i64,
    pub grant_key: String,
    pub rule_id: i64,
    pub customer_id: i64,
    pub kind: String,
    pub year: i64,
    pub coupon_template_id: Option<i64>,
    pub points: i64,
    pub gift_fen: i64,
    pub coupon_done: i64,
    pub created_at: i64,
}

macro_rules! grant_select {
    () => {
        "SELECT id, grant_key, rule_id, customer_id, kind, year, coupon_template_id, points, \
         gift_fen, coupon_done, created_at FROM member_gift_grants"
    };
}

/// A new grant's columns.
#[derive(Debug, Clone, Copy)]
pub struct NewGrant<'a> {
    pub key: &'a str,
    pub rule_id: i64,
    pub customer_id: i64,
    pub kind: &'a str,
    pub year: i64,
    pub coupon_template_id: Option<i64>,
    pub points: i64,
    pub gift_fen: i64,
}

/// Record a grant unless its key stands already: `(the grant, created now)`.
pub async fn grant_in(tx: &mut Tx, g: &NewGrant<'_>, now: i64) -> Result<(GrantRow, bool)> {
    in_tx!(tx, conn => {
        let n = sqlx::query(
            "INSERT INTO member_gift_grants (grant_key, rule_id, customer_id, kind, year, \
             coupon_template_id, points, gift_fen, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (grant_key) DO NOTHING",
        )
        .bind(g.key)
        .bind(g.rule_id)
        .bind(g.customer_id)
        .bind(g.kind)
        .bind(g.year)
        .bind(g.coupon_template_id)
        .bind(g.points)
        .bind(g.gift_fen)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        let row = sqlx::query_as::<_, GrantRow>(concat!(grant_select!(), " WHERE grant_key = $1"))
            .bind(g.key)
            .fetch_one(&mut *conn)
            .await?;
        Ok((row, n == 1))
    })
}

pub async fn set_coupon_done(db: &Db, id: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE member_gift_grants SET coupon_done = 1 WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Grants, newest first (`customer`: only theirs).
pub async fn grants(db: &Db, customer: Option<i64>, limit: i64) -> Result<Vec<GrantRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GrantRow>(concat!(
            grant_select!(),
            " WHERE ($1 IS NULL OR customer_id = $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(customer)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// A gift granted to a customer as they see it: the rule's name and the coupon's.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MyGrantRow {
    pub id: i64,
    pub kind: String,
    pub year: i64,
    /// The rule's name (生日礼).
    pub name: String,
    pub coupon_template_id: Option<i64>,
    /// The coupon template's name, when the gift gives one.
    pub coupon_name: Option<String>,
    pub points: i64,
    pub gift_fen: i64,
    /// 1 once the coupon (if any) was handled.
    pub coupon_done: i64,
    pub created_at: i64,
}

/// One customer's grants with their rule's and coupon's names, newest first.
pub async fn grants_of_customer(db: &Db, customer: i64, limit: i64) -> Result<Vec<MyGrantRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, MyGrantRow>(
            "SELECT g.id, g.kind, g.year, r.name, g.coupon_template_id, t.name AS coupon_name, \
             g.points, g.gift_fen, g.coupon_done, g.created_at \
             FROM member_gift_grants g JOIN member_gift_rules r ON r.id = g.rule_id \
             LEFT JOIN coupon_templates t ON t.id = g.coupon_template_id \
             WHERE g.customer_id = $1 ORDER BY g.id DESC LIMIT $2",
        )
        .bind(customer)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Grants whose coupon is still to be issued (a crash between the grant and the issue).
pub async fn grants_missing_coupon(db: &Db, limit: i64) -> Result<Vec<GrantRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GrantRow>(concat!(
            grant_select!(),
            " WHERE coupon_template_id IS NOT NULL AND coupon_done = 0 ORDER BY id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}
