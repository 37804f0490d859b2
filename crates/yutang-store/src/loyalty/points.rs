//! Points ledger rows (migration 0023): the brand's settings, each customer's account with
//! its running balance, the append-only entries, the lots they open and the lots each debit
//! took, redemptions at checkout, and what each refund owed back.
//!
//! Data access only: the app decides (with core's rules) and posts inside one transaction,
//! having locked the account row first ([`lock_account_in`]). The guarded UPDATEs here are
//! the backstop — a balance or a lot never goes below zero even if a caller forgot the lock.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// The stored settings row.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SettingsRow {
    pub earn_points_per_yuan: i64,
    pub redeem_points_per_yuan: i64,
    pub expiry: String,
    pub expiry_days: i64,
    pub max_redeem_percent: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

const SETTINGS_SELECT: &str = "SELECT earn_points_per_yuan, redeem_points_per_yuan, expiry, \
     expiry_days, max_redeem_percent, updated_at, updated_by FROM points_settings WHERE id = 1";

pub async fn settings(db: &Db) -> Result<Option<SettingsRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SettingsRow>(SETTINGS_SELECT)
            .fetch_optional(pool)
            .await?)
    })
}

pub async fn settings_in(tx: &mut Tx) -> Result<Option<SettingsRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, SettingsRow>(SETTINGS_SELECT)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// Replace the settings (the row is created on the first save).
pub async fn put_settings_in(tx: &mut Tx, s: &SettingsRow) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO points_settings (id, earn_points_per_yuan, redeem_points_per_yuan, \
             expiry, expiry_days, max_redeem_percent, updated_at, updated_by) \
             VALUES (1, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
             earn_points_per_yuan = excluded.earn_points_per_yuan, \
             redeem_points_per_yuan = excluded.redeem_points_per_yuan, \
             expiry = excluded.expiry, expiry_days = excluded.expiry_days, \
             max_redeem_percent = excluded.max_redeem_percent, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(s.earn_points_per_yuan)
        .bind(s.redeem_points_per_yuan)
        .bind(&s.expiry)
        .bind(s.expiry_days)
        .bind(s.max_redeem_percent)
        .bind(s.updated_at)
        .bind(&s.updated_by)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// A customer's account.
#[derive(Debug, Clone, Default, FromRow, Serialize)]
pub struct AccountRow {
    pub customer_id: i64,
    pub balance: i64,
    pub earned: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub reversed: i64,
    pub owed: i64,
    pub updated_at: i64,
}

const ACCOUNT_SELECT: &str = "SELECT customer_id, balance, earned, redeemed, expired, reversed, \
     owed, updated_at FROM points_accounts WHERE customer_id = $1";

/// A customer's account (`None`: no movement yet).
pub async fn account(db: &Db, customer: i64) -> Result<Option<AccountRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, AccountRow>(ACCOUNT_SELECT)
            .bind(customer)
            .fetch_optional(pool)
            .await?)
    })
}

/// A customer's account, created empty when it is missing, and locked (PostgreSQL) for the
/// rest of the transaction: every posting to one customer queues here, so each computes its
/// running balance from what the one before committed.
pub async fn lock_account_in(tx: &mut Tx, customer: i64, now: i64) -> Result<AccountRow> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO points_accounts (customer_id, updated_at) VALUES ($1, $2) \
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

/// How an entry changes its customer's account: the balance by `delta`, and the totals.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountDelta {
    pub balance: i64,
    pub earned: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub reversed: i64,
    pub owed: i64,
}

/// Apply a delta to an account, guarded: `false` (nothing written) when the balance or the
/// owed points would go below zero.
pub async fn apply_in(tx: &mut Tx, customer: i64, d: &AccountDelta, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE points_accounts SET balance = balance + $2, earned = earned + $3, \
             redeemed = redeemed + $4, expired = expired + $5, reversed = reversed + $6, \
             owed = owed + $7, updated_at = $8 \
             WHERE customer_id = $1 AND balance + $2 >= 0 AND owed + $7 >= 0",
        )
        .bind(customer)
        .bind(d.balance)
        .bind(d.earned)
        .bind(d.redeemed)
        .bind(d.expired)
        .bind(d.reversed)
        .bind(d.owed)
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
    pub amount: i64,
    pub balance_after: i64,
    pub source_type: String,
    pub source_id: String,
    pub reason: String,
    pub actor: String,
    pub created_at: i64,
}

macro_rules! entry_select {
    () => {
        "SELECT id, entry_key, fingerprint, customer_id, kind, debit, credit, amount, \
         balance_after, source_type, source_id, reason, actor, created_at FROM points_entries"
    };
}

/// The entry made under `key`, if any.
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
    pub amount: i64,
    pub balance_after: i64,
    pub source_type: &'a str,
    pub source_id: &'a str,
    pub reason: &'a str,
    pub actor: &'a str,
}

pub async fn insert_entry_in(tx: &mut Tx, e: &NewEntry<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO points_entries (entry_key, fingerprint, customer_id, kind, debit, credit, \
             amount, balance_after, source_type, source_id, reason, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(e.key)
        .bind(e.fingerprint)
        .bind(e.customer_id)
        .bind(e.kind)
        .bind(e.debit)
        .bind(e.credit)
        .bind(e.amount)
        .bind(e.balance_after)
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

/// An open lot.
#[derive(Debug, Clone, Copy, FromRow, Serialize)]
pub struct LotRow {
    pub id: i64,
    pub customer_id: i64,
    pub entry_id: i64,
    pub amount: i64,
    pub remaining: i64,
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

macro_rules! lot_select {
    () => {
        "SELECT id, customer_id, entry_id, amount, remaining, expires_at, created_at \
         FROM points_lots"
    };
}

/// A customer's lots with points left (any order: core sorts them).
pub async fn open_lots_in(tx: &mut Tx, customer: i64) -> Result<Vec<LotRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, LotRow>(concat!(
            lot_select!(),
            " WHERE customer_id = $1 AND remaining > 0"
        ))
        .bind(customer)
        .fetch_all(&mut *conn)
        .await?)
    })
}

/// A customer's lots with points left, soonest expiry first (never-expiring last).
pub async fn open_lots(db: &Db, customer: i64) -> Result<Vec<LotRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, LotRow>(concat!(
            lot_select!(),
            " WHERE customer_id = $1 AND remaining > 0 \
             ORDER BY expires_at IS NULL, expires_at, id"
        ))
        .bind(customer)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn lot_in(tx: &mut Tx, id: i64) -> Result<Option<LotRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, LotRow>(concat!(lot_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

pub async fn insert_lot_in(
    tx: &mut Tx,
    customer: i64,
    entry: i64,
    amount: i64,
    expires_at: Option<i64>,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO points_lots (customer_id, entry_id, amount, remaining, expires_at, \
             created_at) VALUES ($1, $2, $3, $3, $4, $5) RETURNING id",
        )
        .bind(customer)
        .bind(entry)
        .bind(amount)
        .bind(expires_at)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Move `delta` points in or out of a lot (negative: taken), guarded so a lot stays within
/// 0..=amount; `false` when it would not.
pub async fn move_lot_in(tx: &mut Tx, lot: i64, delta: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE points_lots SET remaining = remaining + $2 \
             WHERE id = $1 AND remaining + $2 >= 0 AND remaining + $2 <= amount",
        )
        .bind(lot)
        .bind(delta)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Record what a debit took from a lot.
pub async fn insert_lot_move_in(tx: &mut Tx, entry: i64, lot: i64, amount: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("INSERT INTO points_lot_moves (entry_id, lot_id, amount) VALUES ($1, $2, $3)")
            .bind(entry)
            .bind(lot)
            .bind(amount)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// The lots a debit took, with the amounts and each lot's expiry.
pub async fn lot_moves_in(tx: &mut Tx, entry: i64) -> Result<Vec<(i64, i64, Option<i64>)>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, (i64, i64, Option<i64>)>(
            "SELECT m.lot_id, m.amount, l.expires_at FROM points_lot_moves m \
             JOIN points_lots l ON l.id = m.lot_id WHERE m.entry_id = $1 ORDER BY m.lot_id",
        )
        .bind(entry)
        .fetch_all(&mut *conn)
        .await?)
    })
}

/// The points an order earned and what its refunds already accounted for (`due` of each).
pub async fn order_points_in(tx: &mut Tx, order: i64) -> Result<(i64, i64)> {
    let key = format!("order:{order}");
    in_tx!(tx, conn => {
        let earned: Option<i64> = sqlx::query_scalar(
            "SELECT amount FROM points_entries WHERE entry_key = $1",
        )
        .bind(&key)
        .fetch_optional(&mut *conn)
        .await?;
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(due) AS BIGINT) FROM points_reversals WHERE order_id = $1",
        )
        .bind(order)
        .fetch_one(&mut *conn)
        .await?;
        Ok((earned.unwrap_or(0), due.unwrap_or(0)))
    })
}

/// Record what a refund owed back; `false` when this refund was recorded already.
#[allow(clippy::too_many_arguments)]
pub async fn insert_reversal_in(
    tx: &mut Tx,
    refund_key: &str,
    order: i64,
    customer: i64,
    due: i64,
    taken: i64,
    entry: Option<i64>,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO points_reversals (refund_key, order_id, customer_id, due, taken, \
             entry_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (refund_key) DO NOTHING",
        )
        .bind(refund_key)
        .bind(order)
        .bind(customer)
        .bind(due)
        .bind(taken)
        .bind(entry)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Lots due to expire at `now`, after lot `after` in id order: the expiry run's next batch.
pub async fn due_lots(db: &Db, now: i64, after: i64, limit: i64) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, (i64, i64)>(
            "SELECT id, customer_id FROM points_lots \
             WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1 AND id > $2 \
             ORDER BY id LIMIT $3",
        )
        .bind(now)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// How many lots are due to expire at `now` (the run's total, for progress).
pub async fn count_due_lots(db: &Db, now: i64) -> Result<i64> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM points_lots \
             WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1",
        )
        .bind(now)
        .fetch_one(pool)
        .await?)
    })
}

/// A redemption at checkout.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RedemptionRow {
    pub id: i64,
    #[serde(skip)]
    pub idempotency_key: String,
    #[serde(skip)]
    pub fingerprint: String,
    pub customer_id: i64,
    pub points: i64,
    pub value_fen: i64,
    pub order_ref: String,
    pub status: String,
    pub entry_id: i64,
    pub cancel_entry_id: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub cancelled_at: Option<i64>,
}

macro_rules! redemption_select {
    () => {
        "SELECT id, idempotency_key, fingerprint, customer_id, points, value_fen, order_ref, \
         status, entry_id, cancel_entry_id, created_by, created_at, cancelled_at \
         FROM points_redemptions"
    };
}

pub async fn redemption_by_key_in(tx: &mut Tx, key: &str) -> Result<Option<RedemptionRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, RedemptionRow>(concat!(
            redemption_select!(),
            " WHERE idempotency_key = $1"
        ))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// A redemption, locked (PostgreSQL) for the rest of the transaction.
pub async fn lock_redemption_in(tx: &mut Tx, id: i64) -> Result<Option<RedemptionRow>> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, RedemptionRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = $1{lock}",
            redemption_select!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

pub async fn redemption(db: &Db, id: i64) -> Result<RedemptionRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, RedemptionRow>(concat!(redemption_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// A new redemption's columns.
#[derive(Debug, Clone, Copy)]
pub struct NewRedemption<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub customer_id: i64,
    pub points: i64,
    pub value_fen: i64,
    pub order_ref: &'a str,
    pub entry_id: i64,
    pub created_by: &'a str,
}

pub async fn insert_redemption_in(tx: &mut Tx, r: &NewRedemption<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO points_redemptions (idempotency_key, fingerprint, customer_id, points, \
             value_fen, order_ref, status, entry_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'applied', $7, $8, $9) RETURNING id",
        )
        .bind(r.key)
        .bind(r.fingerprint)
        .bind(r.customer_id)
        .bind(r.points)
        .bind(r.value_fen)
        .bind(r.order_ref)
        .bind(r.entry_id)
        .bind(r.created_by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Mark a redemption cancelled, guarded: `false` when it was not applied.
pub async fn cancel_redemption_in(tx: &mut Tx, id: i64, entry: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE points_redemptions SET status = 'cancelled', cancel_entry_id = $2, \
             cancelled_at = $3 WHERE id = $1 AND status = 'applied'",
        )
        .bind(id)
        .bind(entry)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// A customer's redemptions, newest first.
pub async fn redemptions_of(db: &Db, customer: i64, limit: i64) -> Result<Vec<RedemptionRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RedemptionRow>(concat!(
            redemption_select!(),
            " WHERE customer_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(customer)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// The books: every account's balance (credits minus debits over all entries), the sum of
/// the customers' stored balances, and the owed points.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Books {
    /// Per account (customer, issued, redeemed, expired, transfer): credits − debits.
    pub accounts: Vec<(String, i64)>,
    /// The sum of the customers' stored balances (must equal the `customer` account).
    pub customer_balances: i64,
    pub customers_with_points: i64,
    pub owed: i64,
    pub entries: i64,
}

pub async fn books(db: &Db) -> Result<Books> {
    db_run!(db, pool => {
        let sums: Vec<(String, i64)> = sqlx::query_as(
            "SELECT account, CAST(SUM(v) AS BIGINT) FROM ( \
               SELECT credit AS account, amount AS v FROM points_entries \
               UNION ALL SELECT debit AS account, -amount AS v FROM points_entries \
             ) t GROUP BY account ORDER BY account",
        )
        .fetch_all(pool)
        .await?;
        let (bal, with, owed): (Option<i64>, i64, Option<i64>) = sqlx::query_as(
            "SELECT CAST(SUM(balance) AS BIGINT), \
                    COUNT(CASE WHEN balance > 0 THEN 1 END), CAST(SUM(owed) AS BIGINT) \
             FROM points_accounts",
        )
        .fetch_one(pool)
        .await?;
        let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM points_entries")
            .fetch_one(pool)
            .await?;
        Ok(Books {
            accounts: sums,
            customer_balances: bal.unwrap_or(0),
            customers_with_points: with,
            owed: owed.unwrap_or(0),
            entries,
        })
    })
}

/// Outstanding points by the Shanghai day their lots expire (days since 1970-01-01 in
/// Asia/Shanghai; `None`: never), soonest first.
pub async fn outstanding_by_expiry(db: &Db) -> Result<Vec<(Option<i64>, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, (Option<i64>, i64)>(
            "SELECT d, CAST(SUM(remaining) AS BIGINT) FROM ( \
               SELECT CASE WHEN expires_at IS NULL THEN NULL \
                      ELSE (expires_at + 28800000 - 1) / 86400000 END AS d, remaining \
               FROM points_lots WHERE remaining > 0) t \
             GROUP BY d ORDER BY d IS NULL, d",
        )
        .fetch_all(pool)
        .await?)
    })
}

/// Post the earnings of orders that were bulk-loaded (the demo's year of orders never passed
/// through the order hook), set-based: one `earn` entry per unrefunded order of at least
/// 1 CNY paid before `until` that has none yet (`order:{id}`, at `points_per_yuan` per CNY,
/// running balances in paid order), a lot for each expiring by `expiry_of` — `(from, to,
/// expires_at)` ranges of `paid_at` — and the accounts. Returns the entries written.
pub async fn post_loaded_orders(
    db: &Db,
    points_per_yuan: i64,
    expiry_of: &[(i64, i64, Option<i64>)],
    now: i64,
) -> Result<u64> {
    let mut case = String::from("CASE");
    for (from, to, at) in expiry_of {
        let v = at.map_or("NULL".to_owned(), |a| a.to_string());
        case.push_str(&format!(
            " WHEN created_at >= {from} AND created_at < {to} THEN {v}"
        ));
    }
    case.push_str(" ELSE NULL END");
    if expiry_of.is_empty() {
        case = "NULL".into();
    }
    let entries = format!(
        "INSERT INTO points_entries (entry_key, fingerprint, customer_id, kind, debit, credit, \
         amount, balance_after, source_type, source_id, reason, actor, created_at) \
         SELECT 'order:' || CAST(o.id AS TEXT), '', o.customer_id, 'earn', 'issued', \
                'customer', o.amount * {points_per_yuan} / 100, \
                SUM(o.amount * {points_per_yuan} / 100) OVER (PARTITION BY o.customer_id \
                    ORDER BY o.paid_at, o.id ROWS UNBOUNDED PRECEDING), \
                'order', CAST(o.id AS TEXT), '', '', o.paid_at \
         FROM orders o \
         WHERE o.refunded_amount = 0 AND o.amount * {points_per_yuan} >= 100 \
           AND NOT EXISTS (SELECT 1 FROM points_entries e \
                           WHERE e.customer_id = o.customer_id) \
         ORDER BY o.paid_at, o.id"
    );
    let lots = format!(
        "INSERT INTO points_lots (customer_id, entry_id, amount, remaining, expires_at, \
         created_at) SELECT customer_id, id, amount, amount, {case}, created_at \
         FROM points_entries e WHERE kind = 'earn' AND source_type = 'order' \
         AND NOT EXISTS (SELECT 1 FROM points_lots l WHERE l.entry_id = e.id) ORDER BY id"
    );
    let accounts = "INSERT INTO points_accounts (customer_id, balance, earned, updated_at) \
         SELECT customer_id, SUM(amount), SUM(amount), $1 FROM points_entries \
         WHERE kind = 'earn' AND source_type = 'order' GROUP BY customer_id \
         ON CONFLICT (customer_id) DO NOTHING";
    db_run!(db, pool => {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(entries))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(sqlx::AssertSqlSafe(lots)).execute(&mut *tx).await?;
        sqlx::query(accounts).bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(n)
    })
}

/// Customers holding at least `min` points, by id: `(customer, balance)`, at most `limit`.
pub async fn holders(db: &Db, min: i64, limit: i64) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, (i64, i64)>(
            "SELECT customer_id, balance FROM points_accounts WHERE balance >= $1 \
             ORDER BY customer_id LIMIT $2",
        )
        .bind(min)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// A lot due to expire, read under its account's lock.
#[derive(Debug, Clone, Copy, FromRow)]
pub struct DueLot {
    pub id: i64,
    pub customer_id: i64,
    pub remaining: i64,
    /// Debits recorded on the lot so far (makes each expiry entry's key unique even for a
    /// lot a late cancellation refilled after it expired once).
    pub moves: i64,
}

/// Lock the accounts of `customers` (ascending id, the one order every posting takes) and
/// read their balances and owed points: `(customer, balance, owed)`.
pub async fn lock_accounts_in(tx: &mut Tx, customers: &[i64]) -> Result<Vec<(i64, i64, i64)>> {
    if customers.is_empty() {
        return Ok(Vec::new());
    }
    let lock = tx.row_lock();
    in_tx!(tx, DB, conn => {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT customer_id, balance, owed FROM points_accounts WHERE customer_id IN (",
        );
        let mut sep = qb.separated(", ");
        for c in customers {
            sep.push_bind(*c);
        }
        qb.push(") ORDER BY customer_id");
        qb.push(lock);
        Ok(qb.build_query_as::<(i64, i64, i64)>().fetch_all(&mut *conn).await?)
    })
}

/// Of `lots`, those still holding points and due at `now` (read after their accounts were
/// locked, so what a concurrent posting did is seen).
pub async fn due_lots_in(tx: &mut Tx, lots: &[i64], now: i64) -> Result<Vec<DueLot>> {
    if lots.is_empty() {
        return Ok(Vec::new());
    }
    in_tx!(tx, DB, conn => {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT l.id, l.customer_id, l.remaining, \
             (SELECT COUNT(*) FROM points_lot_moves m WHERE m.lot_id = l.id) AS moves \
             FROM points_lots l WHERE l.remaining > 0 AND l.expires_at IS NOT NULL \
             AND l.expires_at <= ",
        );
        qb.push_bind(now);
        qb.push(" AND l.id IN (");
        let mut sep = qb.separated(", ");
        for l in lots {
            sep.push_bind(*l);
        }
        qb.push(") ORDER BY l.customer_id, l.id");
        Ok(qb.build_query_as::<DueLot>().fetch_all(&mut *conn).await?)
    })
}

/// One lot's expiry, computed by the app under the account locks.
#[derive(Debug, Clone)]
pub struct Expiring {
    pub lot: i64,
    pub customer_id: i64,
    pub amount: i64,
    pub balance_after: i64,
    pub key: String,
}

/// Write a batch of expiries set-based: the entries, their lot moves, the lots emptied and
/// each account's balance and expired total. Every step is guarded and checked: a lot that
/// no longer holds its amount or a balance that would go negative fails the batch (it rolls
/// back whole).
pub async fn expire_batch_in(tx: &mut Tx, rows: &[Expiring], now: i64) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut per_customer: std::collections::BTreeMap<i64, i64> = Default::default();
    for r in rows {
        *per_customer.entry(r.customer_id).or_default() += r.amount;
    }
    let broken = |what: &str| StoreError::Refused {
        code: "ledger_conflict",
        message: format!("points expiry batch: {what} moved under the lock"),
    };
    in_tx!(tx, DB, conn => {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO points_entries (entry_key, fingerprint, customer_id, kind, debit, \
             credit, amount, balance_after, source_type, source_id, reason, actor, created_at) ",
        );
        qb.push_values(rows, |mut b, r| {
            b.push_bind(&r.key)
                .push_bind("")
                .push_bind(r.customer_id)
                .push_bind("expire")
                .push_bind("customer")
                .push_bind("expired")
                .push_bind(r.amount)
                .push_bind(r.balance_after)
                .push_bind("expiry")
                .push_bind(r.lot.to_string())
                .push_bind("")
                .push_bind("")
                .push_bind(now);
        });
        qb.push(" RETURNING id, entry_key");
        let ids: Vec<(i64, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
        if ids.len() != rows.len() {
            return Err(broken("an entry"));
        }
        let by_key: std::collections::HashMap<&str, i64> =
            ids.iter().map(|(id, k)| (k.as_str(), *id)).collect();
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO points_lot_moves (entry_id, lot_id, amount) ",
        );
        qb.push_values(rows, |mut b, r| {
            b.push_bind(by_key.get(r.key.as_str()).copied().unwrap_or_default())
                .push_bind(r.lot)
                .push_bind(r.amount);
        });
        qb.build().execute(&mut *conn).await?;
        // Each lot empties only if it still holds exactly what was read.
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "WITH v(lot, amt) AS (",
        );
        qb.push_values(rows, |mut b, r| {
            b.push_bind(r.lot).push_bind(r.amount);
        });
        qb.push(
            ") UPDATE points_lots SET remaining = 0 WHERE id IN (SELECT lot FROM v) \
             AND remaining = (SELECT amt FROM v WHERE v.lot = points_lots.id)",
        );
        if qb.build().execute(&mut *conn).await?.rows_affected() != rows.len() as u64 {
            return Err(broken("a lot"));
        }
        let mut qb = sqlx::QueryBuilder::<DB>::new("WITH v(c, amt) AS (");
        qb.push_values(per_customer.iter(), |mut b, (c, amt)| {
            b.push_bind(*c).push_bind(*amt);
        });
        qb.push(
            ") UPDATE points_accounts SET \
             balance = balance - (SELECT amt FROM v WHERE v.c = points_accounts.customer_id), \
             expired = expired + (SELECT amt FROM v WHERE v.c = points_accounts.customer_id), \
             updated_at = ",
        );
        qb.push_bind(now);
        qb.push(
            " WHERE customer_id IN (SELECT c FROM v) \
             AND balance >= (SELECT amt FROM v WHERE v.c = points_accounts.customer_id)",
        );
        if qb.build().execute(&mut *conn).await?.rows_affected() != per_customer.len() as u64 {
            return Err(broken("a balance"));
        }
    });
    Ok(())
}

/// Of `ids`, the live (not merged) customers.
pub async fn live_customers_in(tx: &mut Tx, ids: &[i64]) -> Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    in_tx!(tx, DB, conn => {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT id FROM customers WHERE merged_into IS NULL AND id IN (",
        );
        let mut sep = qb.separated(", ");
        for c in ids {
            sep.push_bind(*c);
        }
        qb.push(")");
        Ok(qb.build_query_scalar::<i64>().fetch_all(&mut *conn).await?)
    })
}

/// Create the missing accounts of `customers` (empty).
pub async fn ensure_accounts_in(tx: &mut Tx, customers: &[i64], now: i64) -> Result<()> {
    if customers.is_empty() {
        return Ok(());
    }
    in_tx!(tx, DB, conn => {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO points_accounts (customer_id, updated_at) ",
        );
        qb.push_values(customers, |mut b, c| {
            b.push_bind(*c).push_bind(now);
        });
        qb.push(" ON CONFLICT (customer_id) DO NOTHING");
        qb.build().execute(&mut *conn).await?;
    });
    Ok(())
}

/// The entries already made under `keys`: `(key, fingerprint, id)`.
pub async fn entries_by_keys_in(
    tx: &mut Tx,
    keys: &[String],
) -> Result<Vec<(String, String, i64)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    in_tx!(tx, DB, conn => {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT entry_key, fingerprint, id FROM points_entries WHERE entry_key IN (",
        );
        let mut sep = qb.separated(", ");
        for k in keys {
            sep.push_bind(k.as_str());
        }
        qb.push(")");
        Ok(qb.build_query_as().fetch_all(&mut *conn).await?)
    })
}

/// One credit of a batch, computed by the app under the account locks.
#[derive(Debug, Clone)]
pub struct Crediting {
    pub customer_id: i64,
    pub amount: i64,
    pub balance_after: i64,
    pub key: String,
    pub fingerprint: String,
    pub source_type: String,
    pub source_id: String,
    pub reason: String,
    pub actor: String,
    pub expires_at: Option<i64>,
}

/// Write a batch of `earn` credits set-based: the entries, a lot each, and each account's
/// balance and earned total. Returns the entry ids by key.
pub async fn credit_batch_in(
    tx: &mut Tx,
    rows: &[Crediting],
    now: i64,
) -> Result<std::collections::HashMap<String, i64>> {
    let mut out = std::collections::HashMap::new();
    if rows.is_empty() {
        return Ok(out);
    }
    let mut per_customer: std::collections::BTreeMap<i64, i64> = Default::default();
    for r in rows {
        *per_customer.entry(r.customer_id).or_default() += r.amount;
    }
    in_tx!(tx, DB, conn => {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO points_entries (entry_key, fingerprint, customer_id, kind, debit, \
             credit, amount, balance_after, source_type, source_id, reason, actor, created_at) ",
        );
        qb.push_values(rows, |mut b, r| {
            b.push_bind(&r.key)
                .push_bind(&r.fingerprint)
                .push_bind(r.customer_id)
                .push_bind("earn")
                .push_bind("issued")
                .push_bind("customer")
                .push_bind(r.amount)
                .push_bind(r.balance_after)
                .push_bind(&r.source_type)
                .push_bind(&r.source_id)
                .push_bind(&r.reason)
                .push_bind(&r.actor)
                .push_bind(now);
        });
        qb.push(" RETURNING id, entry_key");
        let ids: Vec<(i64, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
        out.extend(ids.into_iter().map(|(id, k)| (k, id)));
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO points_lots (customer_id, entry_id, amount, remaining, expires_at, \
             created_at) ",
        );
        qb.push_values(rows, |mut b, r| {
            b.push_bind(r.customer_id)
                .push_bind(out.get(&r.key).copied().unwrap_or_default())
                .push_bind(r.amount)
                .push_bind(r.amount)
                .push_bind(r.expires_at)
                .push_bind(now);
        });
        qb.build().execute(&mut *conn).await?;
        let mut qb = sqlx::QueryBuilder::<DB>::new("WITH v(c, amt) AS (");
        qb.push_values(per_customer.iter(), |mut b, (c, amt)| {
            b.push_bind(*c).push_bind(*amt);
        });
        qb.push(
            ") UPDATE points_accounts SET \
             balance = balance + (SELECT amt FROM v WHERE v.c = points_accounts.customer_id), \
             earned = earned + (SELECT amt FROM v WHERE v.c = points_accounts.customer_id), \
             updated_at = ",
        );
        qb.push_bind(now);
        qb.push(" WHERE customer_id IN (SELECT c FROM v)");
        let n = qb.build().execute(&mut *conn).await?.rows_affected();
        if n != per_customer.len() as u64 {
            return Err(StoreError::Refused {
                code: "ledger_conflict",
                message: "points batch: an account is missing".into(),
            });
        }
    });
    Ok(out)
}
