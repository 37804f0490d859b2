//! Promotions: coupons and their templates ([`coupons`]), flash sales ([`flash_sales`]) and
//! group-buys ([`group_buys`]); this module holds what the three share (settings, the
//! idempotency record, job enqueueing, the campaign "take one unit" statement).
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

mod coupons;
mod flash_sales;
mod group_buys;
mod stats;

pub use coupons::*;
pub use flash_sales::*;
pub use group_buys::*;
pub use stats::*;

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

// --- the parts a claim is made of ---
//
// The app composes each claim in one transaction: it reads the campaign under its row lock
// (`lock_…_in`), lets core's rules decide, then writes with these statements. Each write is
// still guarded (`… AND sold < stock`, `… AND state = 'held'`) as a backstop, and the
// idempotency record is written in the same transaction.

/// What an earlier request under this idempotency key answered: `Some(result)` when it was
/// the same request by the same customer; a different request under the key is refused.
fn recorded(
    row: Option<(i64, String, String)>,
    customer: i64,
    idem: Idem<'_>,
) -> Result<Option<String>> {
    match row {
        None => Ok(None),
        Some((c, f, r)) if c == customer && f == idem.fingerprint => Ok(Some(r)),
        Some(_) => Err(StoreError::Invalid(yutang_core::FieldError::new(
            "Idempotency-Key",
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        ))),
    }
}

const RECORD_SELECT: &str =
    "SELECT customer_id, fingerprint, result FROM promo_requests WHERE key = $1";

/// The recorded answer to replay for `idem`, read outside any transaction (see [`recorded`]).
pub async fn replay(db: &Db, customer: i64, idem: Idem<'_>) -> Result<Option<String>> {
    let row = db_run!(db, pool => {
        sqlx::query_as(RECORD_SELECT).bind(idem.key).fetch_optional(pool).await?
    });
    recorded(row, customer, idem)
}

/// Record a public write's answer under its idempotency key, in the write's transaction. A
/// concurrent request under the same key that committed first makes this a
/// [`StoreError::Conflict`] (the caller replays that request's answer).
pub async fn record_in(
    tx: &mut Tx,
    customer: i64,
    idem: Idem<'_>,
    result: &str,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO promo_requests (key, customer_id, fingerprint, result, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(idem.key)
        .bind(customer)
        .bind(idem.fingerprint)
        .bind(result)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "Idempotency-Key"))?;
    });
    Ok(())
}

/// The tables a claim takes a unit of stock from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignTable {
    CouponTemplates,
    FlashSales,
    GroupBuys,
}

impl CampaignTable {
    fn name(self) -> &'static str {
        match self {
            CampaignTable::CouponTemplates => "coupon_templates",
            CampaignTable::FlashSales => "flash_sales",
            CampaignTable::GroupBuys => "group_buys",
        }
    }
}

/// What removing a campaign did: deleted outright (it had no history), archived (it has
/// claims, coupons or teams, kept with its statistics and closed to claims), or nothing
/// because it was archived before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    Deleted,
    Archived,
    AlreadyArchived,
}

impl CampaignTable {
    /// How many rows of history a campaign has (`$1` its id): claims and coupons of a
    /// template, claims of a flash sale, teams of a group-buy.
    fn history_sql(self) -> &'static str {
        match self {
            CampaignTable::CouponTemplates => {
                "SELECT (SELECT COUNT(*) FROM coupon_claims WHERE template_id = $1) \
                 + (SELECT COUNT(*) FROM coupons WHERE template_id = $1)"
            }
            CampaignTable::FlashSales => {
                "SELECT COUNT(*) FROM flash_sale_claims WHERE sale_id = $1"
            }
            CampaignTable::GroupBuys => {
                "SELECT COUNT(*) FROM group_buy_teams WHERE group_buy_id = $1"
            }
        }
    }
}

/// Remove a campaign, read under the row lock every claim takes first (so no claim can slip
/// in between the check and the write): with any history (or stock taken) it is archived —
/// the row and everything hanging off it stay, so its statistics stay, and `status =
/// 'archived'` closes it to claims and edits; without history the row is deleted. `None`
/// when there is no such campaign.
pub async fn remove_campaign_in(
    tx: &mut Tx,
    table: CampaignTable,
    id: i64,
    now: i64,
) -> Result<Option<Removal>> {
    let lock = tx.row_lock();
    // The table name is one of the three fixed names, never input.
    let t = table.name();
    in_tx!(tx, conn => {
        let row: Option<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT status, sold FROM {t} WHERE id = $1{lock}"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((status, sold)) = row else {
            return Ok(None);
        };
        match status.as_str() {
            "archived" => return Ok(Some(Removal::AlreadyArchived)),
            "active" | "draft" => {}
            _ => return Ok(None),
        }
        let history: i64 = sqlx::query_scalar(table.history_sql())
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        if history > 0 || sold > 0 {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {t} SET status = 'archived', updated_at = $1 WHERE id = $2"
            )))
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            Ok(Some(Removal::Archived))
        } else {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {t} WHERE id = $1")))
                .bind(id)
                .execute(&mut *conn)
                .await?;
            Ok(Some(Removal::Deleted))
        }
    })
}

/// Make a just-created campaign a draft (in its creating transaction, so no customer ever
/// sees it open): closed to claims and invisible to customers until published.
pub async fn mark_draft_in(tx: &mut Tx, table: CampaignTable, id: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET status = 'draft' WHERE id = $1 AND status = 'active'",
            table.name()
        )))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// What publishing a campaign did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Publication {
    /// A draft was opened to customers.
    Published,
    /// It was published before: nothing changed (a replayed publish).
    AlreadyPublished,
    /// It is archived and cannot be opened again.
    Archived,
}

/// Publish a draft, read under the campaign's row lock; `None` when there is no such campaign.
pub async fn publish_campaign_in(
    tx: &mut Tx,
    table: CampaignTable,
    id: i64,
    now: i64,
) -> Result<Option<Publication>> {
    let lock = tx.row_lock();
    let t = table.name();
    in_tx!(tx, conn => {
        let status: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT status FROM {t} WHERE id = $1{lock}"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        match status.as_deref() {
            None => Ok(None),
            Some("draft") => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {t} SET status = 'active', updated_at = $1 WHERE id = $2 AND status = 'draft'"
                )))
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
                Ok(Some(Publication::Published))
            }
            Some("archived") => Ok(Some(Publication::Archived)),
            Some(_) => Ok(Some(Publication::AlreadyPublished)),
        }
    })
}

/// Take one unit of an active campaign's stock: `false` when none was taken. The caller has
/// decided on the row read under its lock; this guard is the backstop.
pub async fn take_unit_in(tx: &mut Tx, table: CampaignTable, id: i64) -> Result<bool> {
    let taken = in_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET sold = sold + 1 WHERE id = $1 AND status = 'active' AND sold < stock",
            table.name()
        )))
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(taken == 1)
}

/// Return `n` units to a campaign's stock (a released hold, an expired team's places).
pub async fn return_units_in(tx: &mut Tx, table: CampaignTable, id: i64, n: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET sold = sold - $1 WHERE id = $2 AND sold >= $1",
            table.name()
        )))
        .bind(n)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// The error a claim's insert gets from a `UNIQUE` backstop or a missing customer: a
/// duplicate is `on_duplicate` (the rule the caller already checked, lost to a race), a
/// dangling reference names `field`.
fn insert_refusal(e: sqlx::Error, field: &'static str, on_duplicate: StoreError) -> StoreError {
    match StoreError::classify(e, field) {
        StoreError::Conflict { .. } => on_duplicate,
        StoreError::Dangling { .. } => StoreError::Invalid(yutang_core::FieldError::new(
            field,
            "unknown_customer",
            "no such customer",
        )),
        other => other,
    }
}

/// Why a guarded campaign update (`… WHERE id = $1 AND status IN ('active', 'draft') AND sold <= $stock`)
/// changed nothing: the campaign is gone or deleted (not found), or the new stock is below
/// what was already taken.
async fn stock_refusal(
    tx: &mut Tx,
    table: &'static str,
    id: i64,
    verb: &str,
) -> Result<StoreError> {
    // `table` is one of the three campaign tables named by the callers, never input.
    let row: Option<(String, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT status, sold FROM {table} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    });
    Ok(match row {
        Some((status, sold)) if status == "active" || status == "draft" => {
            StoreError::Invalid(yutang_core::FieldError::new(
                "stock",
                "stock_below_claimed",
                format!("{sold} already {verb}; stock cannot be lower"),
            ))
        }
        _ => StoreError::NotFound,
    })
}

/// Coupons, flash-sale claims and group-buy places follow a merged customer into the
/// survivor. A claim's `seq` counts the holder's claims of one template (or sale) under
/// `UNIQUE (…, customer_id, seq)`, so moved claims are numbered after the survivor's own.
/// A group-buy member row moves unless the survivor is in the same team already (then the
/// loser's row stays: one person cannot hold two places of one team under one id).
pub async fn move_holdings_in(tx: &mut Tx, survivor: i64, loser: i64, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        let claims: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, template_id FROM coupon_claims WHERE customer_id = $1 ORDER BY id",
        )
        .bind(loser)
        .fetch_all(&mut *conn)
        .await?;
        for (id, template) in claims {
            sqlx::query(
                "UPDATE coupon_claims SET customer_id = $1, seq = (SELECT COALESCE(MAX(seq), 0) + 1 \
                 FROM coupon_claims WHERE template_id = $2 AND customer_id = $1) WHERE id = $3",
            )
            .bind(survivor)
            .bind(template)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query("UPDATE coupons SET customer_id = $1, updated_at = $3 WHERE customer_id = $2")
            .bind(survivor)
            .bind(loser)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        let flash: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, sale_id FROM flash_sale_claims WHERE customer_id = $1 ORDER BY id",
        )
        .bind(loser)
        .fetch_all(&mut *conn)
        .await?;
        for (id, sale) in flash {
            sqlx::query(
                "UPDATE flash_sale_claims SET customer_id = $1, updated_at = $4, \
                 seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM flash_sale_claims \
                 WHERE sale_id = $2 AND customer_id = $1) WHERE id = $3",
            )
            .bind(survivor)
            .bind(sale)
            .bind(id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query(
            "UPDATE group_buy_members SET customer_id = $1, updated_at = $3 WHERE customer_id = $2 \
             AND team_id NOT IN (SELECT team_id FROM group_buy_members WHERE customer_id = $1)",
        )
        .bind(survivor)
        .bind(loser)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE group_buy_members SET inviter_id = $1 WHERE inviter_id = $2")
            .bind(survivor)
            .bind(loser)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "UPDATE group_buy_teams SET leader_id = $1 WHERE leader_id = $2 \
             AND id IN (SELECT team_id FROM group_buy_members WHERE customer_id = $1 AND is_leader = $3)",
        )
        .bind(survivor)
        .bind(loser)
        .bind(true)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}
