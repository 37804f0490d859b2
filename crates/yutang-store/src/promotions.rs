//! Coupons, flash sales and group-buys.
//!
//! Never oversell: every claim takes a unit with one guarded statement
//! (`UPDATE … SET sold = sold + 1 WHERE id = $1 AND sold < stock`) inside the claim's
//! transaction. On PostgreSQL the row lock that UPDATE takes serialises concurrent claims of the
//! same campaign and the per-customer count that follows reads the committed claims of everyone
//! before; on SQLite `BEGIN IMMEDIATE` serialises writers. `UNIQUE (…, customer_id, seq)` is
//! the backstop for per-customer limits, `CHECK (sold <= stock)` the backstop for stock.
//! Every public write carries an idempotency key recorded in the same transaction.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::events::append_in;
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TemplateRow {
    pub id: i64,
    pub name: String,
    pub spec: String,
    pub stock: i64,
    pub sold: i64,
    pub per_customer: i64,
    pub claim_starts: i64,
    pub claim_ends: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A template with what happened to it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TemplateStats {
    pub template_id: i64,
    pub claims: i64,
    pub coupons: i64,
    pub used: i64,
    pub expired: i64,
    pub revoked: i64,
    pub discount_fen: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CouponRow {
    pub id: i64,
    pub claim_id: i64,
    pub template_id: i64,
    pub template_name: String,
    pub spec: String,
    pub customer_id: i64,
    pub step: i64,
    pub state: String,
    pub valid_from: i64,
    pub valid_until: i64,
    pub order_id: Option<i64>,
    pub discount_fen: i64,
    pub used_at: Option<i64>,
    pub claimed_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct FlashSaleRow {
    pub id: i64,
    pub name: String,
    pub spec: String,
    pub price_fen: i64,
    pub stock: i64,
    pub sold: i64,
    pub per_customer: i64,
    pub hold_minutes: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct FlashClaimRow {
    pub id: i64,
    pub sale_id: i64,
    pub customer_id: i64,
    pub seq: i64,
    pub state: String,
    pub hold_until: i64,
    pub order_ref: Option<String>,
    pub claimed_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GroupBuyRow {
    pub id: i64,
    pub name: String,
    pub spec: String,
    pub price_fen: i64,
    pub leader_discount_fen: i64,
    pub team_size: i64,
    pub time_limit_minutes: i64,
    pub stock: i64,
    pub sold: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TeamRow {
    pub id: i64,
    pub group_buy_id: i64,
    pub leader_id: i64,
    pub state: String,
    pub members: i64,
    pub size: i64,
    pub deadline: i64,
    pub closed_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MemberRow {
    pub id: i64,
    pub team_id: i64,
    pub customer_id: i64,
    pub inviter_id: Option<i64>,
    pub is_leader: bool,
    pub price_fen: i64,
    pub state: String,
    pub joined_at: i64,
}

/// Counts per campaign for the console.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CampaignCounts {
    pub a: i64,
    pub b: i64,
    pub c: i64,
}

/// An idempotency record to check and write: `key` is already namespaced by the caller
/// (`coupon_claim:{customer}:{client key}`); `fingerprint` identifies the request body.
#[derive(Debug, Clone, Copy)]
pub struct Idem<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
}

/// A coupon to write for a claimed set: its step and validity.
#[derive(Debug, Clone, Copy)]
pub struct NewCoupon {
    pub step: i64,
    pub valid_from: i64,
    pub valid_until: i64,
}

/// What a coupon claim wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimed {
    pub claim_id: i64,
    pub coupon_ids: Vec<i64>,
}

/// A coupon claim or issue as written.
#[derive(Debug, Clone)]
pub struct CouponClaim<'a> {
    pub template_id: i64,
    pub customer_id: i64,
    pub source: &'a str,
    pub coupons: &'a [NewCoupon],
    /// Hours before expiry to enqueue a reminder (0: none).
    pub remind_hours: i64,
    pub idem: Option<Idem<'a>>,
    pub staff_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlashClaimed {
    pub claim_id: i64,
    pub hold_until: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamJoined {
    pub team_id: i64,
    pub member_id: i64,
    pub state: String,
    pub members: i64,
    pub size: i64,
}

/// Job kinds this module enqueues inside its transactions.
pub const JOB_COUPON_EXPIRE: &str = "coupon_expire";
pub const JOB_COUPON_REMIND: &str = "coupon_remind";
pub const JOB_FLASH_RELEASE: &str = "flash_hold_release";
pub const JOB_TEAM_DEADLINE: &str = "group_buy_deadline";

fn refused(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        code,
        message: message.into(),
    }
}

// --- settings (the customer-token secret, the demo switch) ---

/// The value for `key`, inserting `candidate` first if there is none (first writer wins).
pub async fn setting_or_init(db: &Db, key: &str, candidate: &str) -> Result<String> {
    db_run!(db, pool => {
        sqlx::query("INSERT INTO promo_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(candidate)
            .execute(pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM promo_settings WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?)
    })
}

pub async fn setting(db: &Db, key: &str) -> Result<Option<String>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar("SELECT value FROM promo_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?)
    })
}

pub async fn set_setting(db: &Db, key: &str, value: &str) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO promo_settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(pool)
        .await?;
    });
    Ok(())
}

// --- coupon templates ---

/// A template's columns as written.
#[derive(Debug, Clone)]
pub struct TemplateWrite<'a> {
    pub name: &'a str,
    pub spec: &'a str,
    pub stock: i64,
    pub per_customer: i64,
    pub claim_starts: i64,
    pub claim_ends: i64,
}

pub async fn create_template(
    db: &Db,
    t: &TemplateWrite<'_>,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "INSERT INTO coupon_templates (name, spec, stock, per_customer, claim_starts, claim_ends, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(t.name)
        .bind(t.spec)
        .bind(t.stock)
        .bind(t.per_customer)
        .bind(t.claim_starts)
        .bind(t.claim_ends)
        .bind(by)
        .bind(now)
        .fetch_one(pool)
        .await?)
    })
}

/// Update an active template; the stock may not go below what was already claimed.
pub async fn update_template(db: &Db, id: i64, t: &TemplateWrite<'_>, now: i64) -> Result<()> {
    let n = db_run!(db, pool => {
        sqlx::query(
            "UPDATE coupon_templates SET name = $1, spec = $2, stock = $3, per_customer = $4, \
             claim_starts = $5, claim_ends = $6, updated_at = $7 \
             WHERE id = $8 AND status = 'active' AND sold <= $3",
        )
        .bind(t.name)
        .bind(t.spec)
        .bind(t.stock)
        .bind(t.per_customer)
        .bind(t.claim_starts)
        .bind(t.claim_ends)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    if n == 1 {
        return Ok(());
    }
    let t = get_template(db, id).await?;
    if t.status != "active" {
        return Err(StoreError::NotFound);
    }
    Err(StoreError::Invalid(yutang_core::FieldError::new(
        "stock",
        "stock_below_claimed",
        format!("{} already claimed; stock cannot be lower", t.sold),
    )))
}

/// Soft-delete: claimed coupons stay usable, no one can claim any more.
pub async fn delete_template(db: &Db, id: i64, now: i64) -> Result<()> {
    let n = db_run!(db, pool => {
        sqlx::query("UPDATE coupon_templates SET status = 'deleted', updated_at = $1 WHERE id = $2 AND status = 'active'")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    crate::error::touched(n)
}

macro_rules! template_select {
    () => {
        "SELECT id, name, spec, stock, sold, per_customer, claim_starts, claim_ends, status, \
         created_at, updated_at FROM coupon_templates"
    };
}

pub async fn get_template(db: &Db, id: i64) -> Result<TemplateRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TemplateRow>(concat!(template_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// Active templates (and, with `all`, deleted ones too), newest first.
pub async fn list_templates(db: &Db, all: bool) -> Result<Vec<TemplateRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TemplateRow>(concat!(
            template_select!(),
            " WHERE ($1 OR status = 'active') ORDER BY id DESC"
        ))
        .bind(all)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn template_stats(db: &Db) -> Result<Vec<TemplateStats>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TemplateStats>(
            "SELECT t.id AS template_id, \
             (SELECT COUNT(*) FROM coupon_claims c WHERE c.template_id = t.id) AS claims, \
             (SELECT COUNT(*) FROM coupons c WHERE c.template_id = t.id) AS coupons, \
             (SELECT COUNT(*) FROM coupons c WHERE c.template_id = t.id AND c.state = 'used') AS used, \
             (SELECT COUNT(*) FROM coupons c WHERE c.template_id = t.id AND c.state = 'expired') AS expired, \
             (SELECT COUNT(*) FROM coupons c WHERE c.template_id = t.id AND c.state = 'revoked') AS revoked, \
             (SELECT CAST(COALESCE(SUM(c.discount_fen), 0) AS BIGINT) FROM coupons c WHERE c.template_id = t.id AND c.state = 'used') AS discount_fen \
             FROM coupon_templates t",
        )
        .fetch_all(pool)
        .await?)
    })
}

/// How many sets this customer holds of each template (for "claimable" lists).
pub async fn claims_by_customer(db: &Db, customer: i64) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT template_id, COUNT(*) FROM coupon_claims WHERE customer_id = $1 GROUP BY template_id",
        )
        .bind(customer)
        .fetch_all(pool)
        .await?)
    })
}

macro_rules! coupon_select {
    () => {
        "SELECT c.id, c.claim_id, c.template_id, t.name AS template_name, t.spec, c.customer_id, \
         c.step, c.state, c.valid_from, c.valid_until, c.order_id, c.discount_fen, c.used_at, \
         c.claimed_at FROM coupons c JOIN coupon_templates t ON t.id = c.template_id"
    };
}

pub async fn get_coupon(db: &Db, id: i64) -> Result<CouponRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, CouponRow>(concat!(coupon_select!(), " WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn customer_coupons(db: &Db, customer: i64) -> Result<Vec<CouponRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, CouponRow>(concat!(
            coupon_select!(),
            " WHERE c.customer_id = $1 ORDER BY c.id DESC LIMIT 500"
        ))
        .bind(customer)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn coupons_of_order(db: &Db, order_id: i64) -> Result<Vec<CouponRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, CouponRow>(concat!(coupon_select!(), " WHERE c.order_id = $1"))
            .bind(order_id)
            .fetch_all(pool)
            .await?)
    })
}

// --- flash sales ---

#[derive(Debug, Clone)]
pub struct FlashSaleWrite<'a> {
    pub name: &'a str,
    pub spec: &'a str,
    pub price_fen: i64,
    pub stock: i64,
    pub per_customer: i64,
    pub hold_minutes: i64,
    pub starts_at: i64,
    pub ends_at: i64,
}

pub async fn create_flash_sale(
    db: &Db,
    f: &FlashSaleWrite<'_>,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "INSERT INTO flash_sales (name, spec, price_fen, stock, per_customer, hold_minutes, \
             starts_at, ends_at, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(f.name)
        .bind(f.spec)
        .bind(f.price_fen)
        .bind(f.stock)
        .bind(f.per_customer)
        .bind(f.hold_minutes)
        .bind(f.starts_at)
        .bind(f.ends_at)
        .bind(by)
        .bind(now)
        .fetch_one(pool)
        .await?)
    })
}

pub async fn update_flash_sale(db: &Db, id: i64, f: &FlashSaleWrite<'_>, now: i64) -> Result<()> {
    let n = db_run!(db, pool => {
        sqlx::query(
            "UPDATE flash_sales SET name = $1, spec = $2, price_fen = $3, stock = $4, per_customer = $5, \
             hold_minutes = $6, starts_at = $7, ends_at = $8, updated_at = $9 \
             WHERE id = $10 AND status = 'active' AND sold <= $4",
        )
        .bind(f.name)
        .bind(f.spec)
        .bind(f.price_fen)
        .bind(f.stock)
        .bind(f.per_customer)
        .bind(f.hold_minutes)
        .bind(f.starts_at)
        .bind(f.ends_at)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    if n == 1 {
        return Ok(());
    }
    let s = get_flash_sale(db, id).await?;
    if s.status != "active" {
        return Err(StoreError::NotFound);
    }
    Err(StoreError::Invalid(yutang_core::FieldError::new(
        "stock",
        "stock_below_claimed",
        format!("{} already claimed; stock cannot be lower", s.sold),
    )))
}

macro_rules! flash_select {
    () => {
        "SELECT id, name, spec, price_fen, stock, sold, per_customer, hold_minutes, starts_at, \
         ends_at, status, created_at, updated_at FROM flash_sales"
    };
}

pub async fn get_flash_sale(db: &Db, id: i64) -> Result<FlashSaleRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, FlashSaleRow>(concat!(flash_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn list_flash_sales(db: &Db) -> Result<Vec<FlashSaleRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, FlashSaleRow>(concat!(
            flash_select!(),
            " WHERE status = 'active' ORDER BY starts_at DESC, id DESC"
        ))
        .fetch_all(pool)
        .await?)
    })
}

/// Per sale: claims held, paid, released.
pub async fn flash_counts(db: &Db, sale: i64) -> Result<CampaignCounts> {
    db_run!(db, pool => {
        let (a, b, c): (i64, i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN state = 'held' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'paid' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'released' THEN 1 ELSE 0 END), 0) \
             FROM flash_sale_claims WHERE sale_id = $1",
        )
        .bind(sale)
        .fetch_one(pool)
        .await?;
        Ok(CampaignCounts { a, b, c })
    })
}

pub async fn flash_claims_of(db: &Db, sale: i64, customer: i64) -> Result<Vec<FlashClaimRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, FlashClaimRow>(
            "SELECT id, sale_id, customer_id, seq, state, hold_until, order_ref, claimed_at \
             FROM flash_sale_claims WHERE sale_id = $1 AND customer_id = $2 ORDER BY id",
        )
        .bind(sale)
        .bind(customer)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn get_flash_claim(db: &Db, id: i64) -> Result<FlashClaimRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, FlashClaimRow>(
            "SELECT id, sale_id, customer_id, seq, state, hold_until, order_ref, claimed_at \
             FROM flash_sale_claims WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

// --- group-buys ---

#[derive(Debug, Clone)]
pub struct GroupBuyWrite<'a> {
    pub name: &'a str,
    pub spec: &'a str,
    pub price_fen: i64,
    pub leader_discount_fen: i64,
    pub team_size: i64,
    pub time_limit_minutes: i64,
    pub stock: i64,
    pub starts_at: i64,
    pub ends_at: i64,
}

pub async fn create_group_buy(
    db: &Db,
    g: &GroupBuyWrite<'_>,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "INSERT INTO group_buys (name, spec, price_fen, leader_discount_fen, team_size, \
             time_limit_minutes, stock, starts_at, ends_at, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(g.name)
        .bind(g.spec)
        .bind(g.price_fen)
        .bind(g.leader_discount_fen)
        .bind(g.team_size)
        .bind(g.time_limit_minutes)
        .bind(g.stock)
        .bind(g.starts_at)
        .bind(g.ends_at)
        .bind(by)
        .bind(now)
        .fetch_one(pool)
        .await?)
    })
}

pub async fn update_group_buy(db: &Db, id: i64, g: &GroupBuyWrite<'_>, now: i64) -> Result<()> {
    let n = db_run!(db, pool => {
        sqlx::query(
            "UPDATE group_buys SET name = $1, spec = $2, price_fen = $3, leader_discount_fen = $4, \
             team_size = $5, time_limit_minutes = $6, stock = $7, starts_at = $8, ends_at = $9, \
             updated_at = $10 WHERE id = $11 AND status = 'active' AND sold <= $7",
        )
        .bind(g.name)
        .bind(g.spec)
        .bind(g.price_fen)
        .bind(g.leader_discount_fen)
        .bind(g.team_size)
        .bind(g.time_limit_minutes)
        .bind(g.stock)
        .bind(g.starts_at)
        .bind(g.ends_at)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    if n == 1 {
        return Ok(());
    }
    let s = get_group_buy(db, id).await?;
    if s.status != "active" {
        return Err(StoreError::NotFound);
    }
    Err(StoreError::Invalid(yutang_core::FieldError::new(
        "stock",
        "stock_below_claimed",
        format!("{} already sold; stock cannot be lower", s.sold),
    )))
}

macro_rules! group_buy_select {
    () => {
        "SELECT id, name, spec, price_fen, leader_discount_fen, team_size, time_limit_minutes, \
         stock, sold, starts_at, ends_at, status, created_at, updated_at FROM group_buys"
    };
}

pub async fn get_group_buy(db: &Db, id: i64) -> Result<GroupBuyRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, GroupBuyRow>(concat!(group_buy_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn list_group_buys(db: &Db) -> Result<Vec<GroupBuyRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GroupBuyRow>(concat!(
            group_buy_select!(),
            " WHERE status = 'active' ORDER BY starts_at DESC, id DESC"
        ))
        .fetch_all(pool)
        .await?)
    })
}

/// Per group-buy: teams open, filled, expired.
pub async fn team_counts(db: &Db, group_buy: i64) -> Result<CampaignCounts> {
    db_run!(db, pool => {
        let (a, b, c): (i64, i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'filled' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'expired' THEN 1 ELSE 0 END), 0) \
             FROM group_buy_teams WHERE group_buy_id = $1",
        )
        .bind(group_buy)
        .fetch_one(pool)
        .await?;
        Ok(CampaignCounts { a, b, c })
    })
}

macro_rules! team_select {
    () => {
        "SELECT id, group_buy_id, leader_id, state, members, size, deadline, closed_at, created_at \
         FROM group_buy_teams"
    };
}

pub async fn get_team(db: &Db, id: i64) -> Result<TeamRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TeamRow>(concat!(team_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn teams_of(db: &Db, group_buy: i64, limit: i64) -> Result<Vec<TeamRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TeamRow>(concat!(
            team_select!(),
            " WHERE group_buy_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(group_buy)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn team_members(db: &Db, team: i64) -> Result<Vec<MemberRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, MemberRow>(
            "SELECT id, team_id, customer_id, inviter_id, is_leader, price_fen, state, joined_at \
             FROM group_buy_members WHERE team_id = $1 ORDER BY id",
        )
        .bind(team)
        .fetch_all(pool)
        .await?)
    })
}

/// Refund rows written for a team (tests and the console check "exactly once" with this).
pub async fn team_refunds(db: &Db, team: i64) -> Result<i64> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM group_buy_refunds r JOIN group_buy_members m ON m.id = r.member_id \
             WHERE m.team_id = $1",
        )
        .bind(team)
        .fetch_one(pool)
        .await?)
    })
}

/// Messages waiting in the outbox for a customer (newest first).
pub async fn outbox_of(db: &Db, customer: i64) -> Result<Vec<(String, String)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT kind, payload FROM message_outbox WHERE customer_id = $1 ORDER BY id DESC",
        )
        .bind(customer)
        .fetch_all(pool)
        .await?)
    })
}

/// Whether a public request with this (namespaced) idempotency key was already recorded.
pub async fn request_exists(db: &Db, key: &str) -> Result<bool> {
    db_run!(db, pool => {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM promo_requests WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?;
        Ok(n > 0)
    })
}

// --- transactional writes ---
//
// Each write takes the caller's transaction (`…_in(tx: &mut Tx, …)`); the `…(db: &Db, …)`
// wrappers below begin and commit one for callers that need nothing else in it. A guarded
// UPDATE (`… AND sold < stock`, `… AND state = 'held'`) is what keeps stock and states right
// under concurrency; its "0 rows" answer is mapped to the refusal the rule would give.

/// The stored result for this key, if the same request was made before; a different request
/// under the same key is refused.
async fn idem_lookup(tx: &mut Tx, customer: i64, idem: Option<Idem<'_>>) -> Result<Option<String>> {
    let Some(i) = idem else { return Ok(None) };
    let row: Option<(i64, String, String)> = in_tx!(tx, conn => {
        sqlx::query_as("SELECT customer_id, fingerprint, result FROM promo_requests WHERE key = $1")
            .bind(i.key)
            .fetch_optional(&mut *conn)
            .await?
    });
    match row {
        None => Ok(None),
        Some((c, f, r)) if c == customer && f == i.fingerprint => Ok(Some(r)),
        Some(_) => Err(StoreError::Invalid(yutang_core::FieldError::new(
            "Idempotency-Key",
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        ))),
    }
}

async fn idem_store(
    tx: &mut Tx,
    customer: i64,
    idem: Option<Idem<'_>>,
    result: &str,
    now: i64,
) -> Result<()> {
    let Some(i) = idem else { return Ok(()) };
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO promo_requests (key, customer_id, fingerprint, result, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(i.key)
        .bind(customer)
        .bind(i.fingerprint)
        .bind(result)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "Idempotency-Key"))?;
    });
    Ok(())
}

/// Enqueue a job inside the transaction; the key makes it at most once.
async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    payload: &str,
    run_at: i64,
    key: &str,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO jobs (kind, payload, run_at, idempotency_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(kind)
        .bind(payload)
        .bind(run_at)
        .bind(key)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// A stored replay's answer, or the fresh answer to store under the key.
fn from_record<T: serde::de::DeserializeOwned>(r: &str) -> Result<T> {
    serde_json::from_str(r).map_err(|e| refused("bad_record", e.to_string()))
}

fn to_record<T: Serialize>(out: &T) -> Result<String> {
    serde_json::to_string(out).map_err(|e| refused("bad_record", e.to_string()))
}

/// Claim (or issue) one set of a template for a customer.
pub async fn claim_coupon_in(
    tx: &mut Tx,
    c: &CouponClaim<'_>,
    now: i64,
) -> Result<(Claimed, bool)> {
    if let Some(r) = idem_lookup(tx, c.customer_id, c.idem).await? {
        return Ok((from_record(&r)?, true));
    }
    // The public claim window applies to customers; staff may issue at any time.
    let window_ok = if c.source == "claim" {
        "AND claim_starts <= $2 AND claim_ends > $2"
    } else {
        "AND $2 = $2"
    };
    let taken = in_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE coupon_templates SET sold = sold + 1, updated_at = $2 \
             WHERE id = $1 AND status = 'active' AND sold < stock {window_ok}"
        )))
        .bind(c.template_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if taken == 0 {
        let row: Option<(String, i64, i64, i64, i64)> = in_tx!(tx, conn => {
            sqlx::query_as("SELECT status, sold, stock, claim_starts, claim_ends FROM coupon_templates WHERE id = $1")
                .bind(c.template_id)
                .fetch_optional(&mut *conn)
                .await?
        });
        return Err(match row {
            None => StoreError::NotFound,
            Some((s, _, _, _, _)) if s != "active" => {
                refused("promotion_inactive", "the coupon template was deleted")
            }
            Some((_, _, _, starts, _)) if c.source == "claim" && now < starts => {
                refused("promotion_not_started", "claiming has not started yet")
            }
            Some((_, _, _, _, ends)) if c.source == "claim" && now >= ends => {
                refused("promotion_ended", "claiming has ended")
            }
            Some(_) => refused("out_of_stock", "all coupons have been claimed"),
        });
    }
    let (held, limit): (i64, i64) = in_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM coupon_claims WHERE template_id = $1 AND customer_id = $2), \
             (SELECT per_customer FROM coupon_templates WHERE id = $1)",
        )
        .bind(c.template_id)
        .bind(c.customer_id)
        .fetch_one(&mut *conn)
        .await?
    });
    if held >= limit {
        return Err(refused(
            "limit_reached",
            format!("at most {limit} per customer"),
        ));
    }
    let claim_id: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO coupon_claims (template_id, customer_id, seq, source, claimed_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(c.template_id)
        .bind(c.customer_id)
        .bind(held + 1)
        .bind(c.source)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| match StoreError::classify(e, "customer") {
            StoreError::Conflict { .. } => refused("limit_reached", format!("at most {limit} per customer")),
            StoreError::Dangling { .. } => {
                StoreError::Invalid(yutang_core::FieldError::new("customer_id", "unknown_customer", "no such customer"))
            }
            other => other,
        })?
    });
    let mut ids = Vec::with_capacity(c.coupons.len());
    for nc in c.coupons {
        let id: i64 = in_tx!(tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO coupons (claim_id, template_id, customer_id, step, valid_from, valid_until, \
                 claimed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(claim_id)
            .bind(c.template_id)
            .bind(c.customer_id)
            .bind(nc.step)
            .bind(nc.valid_from)
            .bind(nc.valid_until)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?
        });
        let payload = id.to_string();
        enqueue(
            tx,
            JOB_COUPON_EXPIRE,
            &payload,
            nc.valid_until,
            &format!("coupon_expire:{id}"),
            now,
        )
        .await?;
        let remind_at = nc.valid_until - c.remind_hours * 3_600_000;
        if c.remind_hours > 0 && remind_at > now {
            enqueue(
                tx,
                JOB_COUPON_REMIND,
                &payload,
                remind_at,
                &format!("coupon_remind:{id}"),
                now,
            )
            .await?;
        }
        ids.push(id);
    }
    let d = serde_json::json!({
        "template_id": c.template_id, "claim_id": claim_id, "coupon_ids": ids, "source": c.source,
    });
    append_in(
        tx,
        c.customer_id,
        "coupon_claimed",
        now,
        c.staff_id,
        &d.to_string(),
        now,
    )
    .await?;
    let out = Claimed {
        claim_id,
        coupon_ids: ids,
    };
    idem_store(tx, c.customer_id, c.idem, &to_record(&out)?, now).await?;
    Ok((out, false))
}

/// Use a claimed coupon on an order: only from `claimed` and inside its validity, so a coupon
/// is used once. The order row is locked first (a refund locks it too), and a fully refunded
/// order takes no coupon. Returns the discount and whether it was applied now: using the
/// coupon again on the same order is a replay that answers the stored discount and changes
/// nothing.
pub async fn use_coupon_in(
    tx: &mut Tx,
    id: i64,
    order_id: i64,
    discount: i64,
    now: i64,
) -> Result<(i64, bool)> {
    let lock = tx.row_lock();
    let status: Option<String> = in_tx!(tx, conn => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT status FROM orders WHERE id = $1{lock}")))
            .bind(order_id)
            .fetch_optional(&mut *conn)
            .await?
    });
    let prior: Option<(String, Option<i64>, i64)> = in_tx!(tx, conn => {
        sqlx::query_as("SELECT state, order_id, discount_fen FROM coupons WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    });
    match (status.as_deref(), prior) {
        (None, _) | (_, None) => return Err(StoreError::NotFound),
        (_, Some((state, Some(o), d))) if state == "used" && o == order_id => {
            return Ok((d, false));
        }
        (Some("refunded"), _) => {
            return Err(refused(
                "order_refunded",
                "the order was fully refunded; it takes no coupon",
            ));
        }
        _ => {}
    }
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE coupons SET state = 'used', order_id = $1, discount_fen = $2, used_at = $3, updated_at = $3 \
             WHERE id = $4 AND state = 'claimed' AND valid_from <= $3 AND valid_until > $3",
        )
        .bind(order_id)
        .bind(discount)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 0 {
        return Err(refused(
            "coupon_not_usable",
            "the coupon is not available (already used, expired or revoked)",
        ));
    }
    let customer = coupon_owner(tx, id).await?;
    let d = serde_json::json!({"coupon_id": id, "order_id": order_id, "discount_fen": discount});
    append_in(tx, customer, "coupon_used", now, None, &d.to_string(), now).await?;
    Ok((discount, true))
}

async fn coupon_owner(tx: &mut Tx, id: i64) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT customer_id FROM coupons WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?
    }))
}

/// Move a coupon from `from` to `to` if it is still in `from`; `false` when it was not
/// (another path got there first): the caller changes nothing.
pub async fn coupon_transition_in(
    tx: &mut Tx,
    id: i64,
    from: &str,
    to: &str,
    event: &str,
    staff: Option<i64>,
    now: i64,
) -> Result<bool> {
    let clear = if to == "claimed" {
        ", order_id = NULL, discount_fen = 0, used_at = NULL"
    } else {
        ""
    };
    let n = in_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE coupons SET state = $1, updated_at = $2{clear} WHERE id = $3 AND state = $4"
        )))
        .bind(to)
        .bind(now)
        .bind(id)
        .bind(from)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 0 {
        return Ok(false);
    }
    let customer = coupon_owner(tx, id).await?;
    let d = serde_json::json!({"coupon_id": id, "from": from, "to": to});
    append_in(tx, customer, event, now, staff, &d.to_string(), now).await?;
    Ok(true)
}

/// Record an expiry reminder in the outbox for a coupon still claimed (once per coupon).
pub async fn remind_coupon_in(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let row: Option<(i64, String, i64, String)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT c.customer_id, c.state, c.valid_until, t.name FROM coupons c \
             JOIN coupon_templates t ON t.id = c.template_id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some((customer, state, until, name)) = row else {
        return Ok(false);
    };
    if state != "claimed" || until <= now {
        return Ok(false);
    }
    let payload = serde_json::json!({"coupon_id": id, "template": name, "valid_until": until});
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO message_outbox (customer_id, kind, payload, dedupe_key, created_at) \
             VALUES ($1, 'coupon_expiry_reminder', $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(customer)
        .bind(payload.to_string())
        .bind(format!("coupon_expiry_reminder:{id}"))
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 1 {
        append_in(
            tx,
            customer,
            "coupon_reminder_queued",
            now,
            None,
            &payload.to_string(),
            now,
        )
        .await?;
    }
    Ok(n == 1)
}

/// Why a guarded "take one unit" UPDATE of a campaign (`flash_sales`, `group_buys`) took
/// nothing: deleted, not started, ended or sold out.
async fn campaign_refusal(
    tx: &mut Tx,
    table: &str,
    what: &str,
    id: i64,
    now: i64,
) -> Result<StoreError> {
    let row: Option<(String, i64, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT status, starts_at, ends_at FROM {table} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    });
    Ok(match row {
        None => StoreError::NotFound,
        Some((s, _, _)) if s != "active" => {
            refused("promotion_inactive", format!("the {what} was deleted"))
        }
        Some((_, starts, _)) if now < starts => refused(
            "promotion_not_started",
            format!("the {what} has not started yet"),
        ),
        Some((_, _, ends)) if now >= ends => {
            refused("promotion_ended", format!("the {what} has ended"))
        }
        Some(_) => refused("out_of_stock", "sold out"),
    })
}

/// Take one unit of an active campaign inside its window (`flash_sales`, `group_buys`):
/// `false` when none was taken.
async fn take_unit(tx: &mut Tx, table: &str, id: i64, now: i64) -> Result<bool> {
    let taken = in_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET sold = sold + 1 WHERE id = $1 AND status = 'active' \
             AND sold < stock AND starts_at <= $2 AND ends_at > $2"
        )))
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(taken == 1)
}

/// Claim one unit of a flash sale and hold it until `hold_until`.
pub async fn claim_flash_in(
    tx: &mut Tx,
    sale: i64,
    customer: i64,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(FlashClaimed, bool)> {
    if let Some(r) = idem_lookup(tx, customer, idem).await? {
        return Ok((from_record(&r)?, true));
    }
    if !take_unit(tx, "flash_sales", sale, now).await? {
        return Err(campaign_refusal(tx, "flash_sales", "flash sale", sale, now).await?);
    }
    let (active, total, limit, hold): (i64, i64, i64, i64) = in_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM flash_sale_claims WHERE sale_id = $1 AND customer_id = $2 AND state <> 'released'), \
             (SELECT COUNT(*) FROM flash_sale_claims WHERE sale_id = $1 AND customer_id = $2), \
             per_customer, hold_minutes FROM flash_sales WHERE id = $1",
        )
        .bind(sale)
        .bind(customer)
        .fetch_one(&mut *conn)
        .await?
    });
    if active >= limit {
        return Err(refused(
            "limit_reached",
            format!("at most {limit} per customer"),
        ));
    }
    let hold_until = now + hold * 60_000;
    let id: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO flash_sale_claims (sale_id, customer_id, seq, hold_until, claimed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(sale)
        .bind(customer)
        .bind(total + 1)
        .bind(hold_until)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| match StoreError::classify(e, "customer") {
            StoreError::Conflict { .. } => refused("limit_reached", format!("at most {limit} per customer")),
            other => other,
        })?
    });
    enqueue(
        tx,
        JOB_FLASH_RELEASE,
        &id.to_string(),
        hold_until,
        &format!("flash_hold:{id}"),
        now,
    )
    .await?;
    let d = serde_json::json!({"flash_sale_id": sale, "claim_id": id, "hold_until": hold_until});
    append_in(
        tx,
        customer,
        "flash_sale_claimed",
        now,
        None,
        &d.to_string(),
        now,
    )
    .await?;
    let out = FlashClaimed {
        claim_id: id,
        hold_until,
    };
    idem_store(tx, customer, idem, &to_record(&out)?, now).await?;
    Ok((out, false))
}

/// Mark a held claim paid (the brand's order system calls this).
pub async fn pay_flash_in(tx: &mut Tx, claim: i64, order_ref: &str, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE flash_sale_claims SET state = 'paid', order_ref = $1, updated_at = $2 \
             WHERE id = $3 AND state = 'held' AND hold_until > $2",
        )
        .bind(order_ref)
        .bind(now)
        .bind(claim)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 1 {
        let (customer, sale): (i64, i64) = in_tx!(tx, conn => {
            sqlx::query_as("SELECT customer_id, sale_id FROM flash_sale_claims WHERE id = $1")
                .bind(claim)
                .fetch_one(&mut *conn)
                .await?
        });
        let d =
            serde_json::json!({"flash_sale_id": sale, "claim_id": claim, "order_ref": order_ref});
        append_in(
            tx,
            customer,
            "flash_sale_paid",
            now,
            None,
            &d.to_string(),
            now,
        )
        .await?;
    }
    Ok(n == 1)
}

/// Release an unpaid hold whose time is up: the unit returns to the stock once.
pub async fn release_flash_in(tx: &mut Tx, claim: i64, now: i64) -> Result<bool> {
    let row: Option<(i64, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "UPDATE flash_sale_claims SET state = 'released', updated_at = $1 \
             WHERE id = $2 AND state = 'held' AND hold_until <= $1 RETURNING customer_id, sale_id",
        )
        .bind(now)
        .bind(claim)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some((customer, sale)) = row else {
        return Ok(false);
    };
    in_tx!(tx, conn => {
        sqlx::query("UPDATE flash_sales SET sold = sold - 1 WHERE id = $1 AND sold > 0")
            .bind(sale)
            .execute(&mut *conn)
            .await?;
    });
    let d = serde_json::json!({"flash_sale_id": sale, "claim_id": claim});
    append_in(
        tx,
        customer,
        "flash_sale_released",
        now,
        None,
        &d.to_string(),
        now,
    )
    .await?;
    Ok(true)
}

/// Open a team: the leader takes one unit and pays the leader price.
pub async fn open_team_in(
    tx: &mut Tx,
    gb: i64,
    customer: i64,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(TeamJoined, bool)> {
    if let Some(r) = idem_lookup(tx, customer, idem).await? {
        return Ok((from_record(&r)?, true));
    }
    if !take_unit(tx, "group_buys", gb, now).await? {
        return Err(campaign_refusal(tx, "group_buys", "group-buy", gb, now).await?);
    }
    let (size, minutes, price, leader_off): (i64, i64, i64, i64) = in_tx!(tx, conn => {
        sqlx::query_as("SELECT team_size, time_limit_minutes, price_fen, leader_discount_fen FROM group_buys WHERE id = $1")
            .bind(gb)
            .fetch_one(&mut *conn)
            .await?
    });
    let deadline = now + minutes * 60_000;
    let team: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO group_buy_teams (group_buy_id, leader_id, size, deadline, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(gb)
        .bind(customer)
        .bind(size)
        .bind(deadline)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| match StoreError::classify(e, "customer") {
            StoreError::Dangling { .. } => {
                StoreError::Invalid(yutang_core::FieldError::new("customer_id", "unknown_customer", "no such customer"))
            }
            other => other,
        })?
    });
    let member: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO group_buy_members (team_id, customer_id, is_leader, price_fen, joined_at, updated_at) \
             VALUES ($1, $2, TRUE, $3, $4, $4) RETURNING id",
        )
        .bind(team)
        .bind(customer)
        .bind(price - leader_off)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
    });
    enqueue(
        tx,
        JOB_TEAM_DEADLINE,
        &team.to_string(),
        deadline,
        &format!("group_buy_team:{team}"),
        now,
    )
    .await?;
    let d = serde_json::json!({"group_buy_id": gb, "team_id": team, "leader": true, "price_fen": price - leader_off});
    append_in(
        tx,
        customer,
        "group_buy_joined",
        now,
        None,
        &d.to_string(),
        now,
    )
    .await?;
    let out = TeamJoined {
        team_id: team,
        member_id: member,
        state: "open".into(),
        members: 1,
        size,
    };
    idem_store(tx, customer, idem, &to_record(&out)?, now).await?;
    Ok((out, false))
}

/// Join an open team. Takes the team's place with a guarded UPDATE first (the deadline timer
/// guards on the same state), then a unit of stock. The last member to join confirms everyone.
pub async fn join_team_in(
    tx: &mut Tx,
    team: i64,
    customer: i64,
    inviter: Option<i64>,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(TeamJoined, bool)> {
    if let Some(r) = idem_lookup(tx, customer, idem).await? {
        return Ok((from_record(&r)?, true));
    }
    let already: Option<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT id FROM group_buy_members WHERE team_id = $1 AND customer_id = $2")
            .bind(team)
            .bind(customer)
            .fetch_optional(&mut *conn)
            .await?
    });
    if already.is_some() {
        return Err(refused("already_in_group", "you are already in this group"));
    }
    let row: Option<(i64, String, i64, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "UPDATE group_buy_teams SET members = members + 1, \
             state = CASE WHEN members + 1 >= size THEN 'filled' ELSE 'open' END, \
             closed_at = CASE WHEN members + 1 >= size THEN $2 ELSE NULL END, updated_at = $2 \
             WHERE id = $1 AND state = 'open' AND members < size AND deadline > $2 \
             RETURNING group_buy_id, state, members, size",
        )
        .bind(team)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some((gb, state, members, size)) = row else {
        let t: Option<(String, i64, i64, i64)> = in_tx!(tx, conn => {
            sqlx::query_as("SELECT state, members, size, deadline FROM group_buy_teams WHERE id = $1")
                .bind(team)
                .fetch_optional(&mut *conn)
                .await?
        });
        return Err(match t {
            None => StoreError::NotFound,
            Some((s, m, z, _)) if s == "filled" || m >= z => {
                refused("group_full", "the group is already full")
            }
            Some(_) => refused("group_expired", "the group has expired"),
        });
    };
    let taken = in_tx!(tx, conn => {
        sqlx::query("UPDATE group_buys SET sold = sold + 1 WHERE id = $1 AND status = 'active' AND sold < stock")
            .bind(gb)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    if taken == 0 {
        return Err(refused("out_of_stock", "sold out"));
    }
    let price: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT price_fen FROM group_buys WHERE id = $1")
            .bind(gb)
            .fetch_one(&mut *conn)
            .await?
    });
    let member: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO group_buy_members (team_id, customer_id, inviter_id, is_leader, price_fen, joined_at, updated_at) \
             VALUES ($1, $2, $3, FALSE, $4, $5, $5) RETURNING id",
        )
        .bind(team)
        .bind(customer)
        .bind(inviter)
        .bind(price)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| match StoreError::classify(e, "customer") {
            StoreError::Conflict { .. } => refused("already_in_group", "you are already in this group"),
            StoreError::Dangling { .. } => {
                StoreError::Invalid(yutang_core::FieldError::new("inviter", "unknown_customer", "no such customer"))
            }
            other => other,
        })?
    });
    let d = serde_json::json!({"group_buy_id": gb, "team_id": team, "leader": false, "inviter": inviter, "price_fen": price});
    append_in(
        tx,
        customer,
        "group_buy_joined",
        now,
        None,
        &d.to_string(),
        now,
    )
    .await?;
    if state == "filled" {
        let confirmed: Vec<i64> = in_tx!(tx, conn => {
            sqlx::query_scalar(
                "UPDATE group_buy_members SET state = 'confirmed', updated_at = $1 \
                 WHERE team_id = $2 AND state = 'paid' RETURNING customer_id",
            )
            .bind(now)
            .bind(team)
            .fetch_all(&mut *conn)
            .await?
        });
        let d = serde_json::json!({"group_buy_id": gb, "team_id": team}).to_string();
        for c in confirmed {
            append_in(tx, c, "group_buy_confirmed", now, None, &d, now).await?;
        }
    }
    let out = TeamJoined {
        team_id: team,
        member_id: member,
        state,
        members,
        size,
    };
    idem_store(tx, customer, idem, &to_record(&out)?, now).await?;
    Ok((out, false))
}

/// The deadline timer: an open team past its deadline is cancelled and each paid member
/// refunded. Guarded on `state = 'open'`, so a second run (or a run after a restart) refunds
/// nothing; `group_buy_refunds.member_id UNIQUE` is the backstop.
pub async fn expire_team_in(tx: &mut Tx, team: i64, now: i64) -> Result<i64> {
    let row: Option<(i64, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "UPDATE group_buy_teams SET state = 'expired', closed_at = $1, updated_at = $1 \
             WHERE id = $2 AND state = 'open' AND deadline <= $1 RETURNING group_buy_id, members",
        )
        .bind(now)
        .bind(team)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some((gb, members)) = row else {
        return Ok(0);
    };
    let paid: Vec<(i64, i64, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "UPDATE group_buy_members SET state = 'refunded', updated_at = $1 \
             WHERE team_id = $2 AND state = 'paid' RETURNING id, customer_id, price_fen",
        )
        .bind(now)
        .bind(team)
        .fetch_all(&mut *conn)
        .await?
    });
    for (member, customer, amount) in &paid {
        in_tx!(tx, conn => {
            sqlx::query("INSERT INTO group_buy_refunds (member_id, amount_fen, refunded_at) VALUES ($1, $2, $3)")
                .bind(member)
                .bind(amount)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map_err(|e| StoreError::classify(e, "refund"))?;
        });
        let d = serde_json::json!({"group_buy_id": gb, "team_id": team, "amount_fen": amount});
        append_in(
            tx,
            *customer,
            "group_buy_refunded",
            now,
            None,
            &d.to_string(),
            now,
        )
        .await?;
    }
    in_tx!(tx, conn => {
        sqlx::query("UPDATE group_buys SET sold = sold - $1 WHERE id = $2 AND sold >= $1")
            .bind(members)
            .bind(gb)
            .execute(&mut *conn)
            .await?;
    });
    Ok(paid.len() as i64)
}

/// Run one `…_in` write in a transaction of its own.
macro_rules! in_own_tx {
    ($db:expr, $f:ident ( $($arg:expr),* $(,)? )) => {{
        let mut tx = $db.begin().await?;
        let out = $f(&mut tx, $($arg),*).await?;
        tx.commit().await?;
        Ok(out)
    }};
}

pub async fn claim_coupon(db: &Db, c: &CouponClaim<'_>, now: i64) -> Result<(Claimed, bool)> {
    in_own_tx!(db, claim_coupon_in(c, now))
}

/// Use a coupon on an order: `(discount, applied now)`; a replay on the same order answers the
/// stored discount.
pub async fn use_coupon(
    db: &Db,
    id: i64,
    order_id: i64,
    discount: i64,
    now: i64,
) -> Result<(i64, bool)> {
    in_own_tx!(db, use_coupon_in(id, order_id, discount, now))
}

pub async fn coupon_transition(
    db: &Db,
    id: i64,
    from: &str,
    to: &str,
    event: &str,
    staff: Option<i64>,
    now: i64,
) -> Result<bool> {
    in_own_tx!(db, coupon_transition_in(id, from, to, event, staff, now))
}

pub async fn remind_coupon(db: &Db, id: i64, now: i64) -> Result<bool> {
    in_own_tx!(db, remind_coupon_in(id, now))
}

pub async fn claim_flash(
    db: &Db,
    sale: i64,
    customer: i64,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(FlashClaimed, bool)> {
    in_own_tx!(db, claim_flash_in(sale, customer, idem, now))
}

pub async fn pay_flash(db: &Db, claim: i64, order_ref: &str, now: i64) -> Result<bool> {
    in_own_tx!(db, pay_flash_in(claim, order_ref, now))
}

pub async fn release_flash(db: &Db, claim: i64, now: i64) -> Result<bool> {
    in_own_tx!(db, release_flash_in(claim, now))
}

pub async fn open_team(
    db: &Db,
    gb: i64,
    customer: i64,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(TeamJoined, bool)> {
    in_own_tx!(db, open_team_in(gb, customer, idem, now))
}

pub async fn join_team(
    db: &Db,
    team: i64,
    customer: i64,
    inviter: Option<i64>,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(TeamJoined, bool)> {
    in_own_tx!(db, join_team_in(team, customer, inviter, idem, now))
}

pub async fn expire_team(db: &Db, team: i64, now: i64) -> Result<i64> {
    in_own_tx!(db, expire_team_in(team, now))
}
