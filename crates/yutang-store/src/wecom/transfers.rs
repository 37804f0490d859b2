//! Staff transfers (在职继承 / 离职继承) and the state of each customer and group they move.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone)]
pub struct NewTransfer<'a> {
    pub kind: &'a str,
    pub handover_staff_id: i64,
    pub takeover_staff_id: i64,
    pub handover_userid: &'a str,
    pub takeover_userid: &'a str,
    pub message: &'a str,
    pub idempotency_key: Option<&'a str>,
    /// The fingerprint of the request that started it, compared when the key comes again.
    pub fingerprint: &'a str,
    pub created_by: &'a str,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TransferRow {
    pub id: i64,
    pub kind: String,
    pub handover_staff_id: i64,
    pub takeover_staff_id: i64,
    pub handover_userid: String,
    pub takeover_userid: String,
    pub message: String,
    pub status: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! transfer_select {
    () => {
        "SELECT id, kind, handover_staff_id, takeover_staff_id, handover_userid, takeover_userid, \
         message, status, created_by, created_at, updated_at FROM wecom_transfers"
    };
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TransferCustomerRow {
    pub id: i64,
    pub transfer_id: i64,
    pub customer_id: i64,
    pub external_userid: String,
    pub status: String,
    pub errcode: i64,
    pub reason: String,
    pub takeover_time: Option<i64>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TransferGroupRow {
    pub id: i64,
    pub transfer_id: i64,
    pub chat_id: String,
    pub status: String,
    pub errcode: i64,
    pub reason: String,
    pub updated_at: i64,
}

/// The transfer an idempotency key created, if any, and the fingerprint of its request (`""`:
/// unknown).
pub async fn by_key_fingerprint(db: &Db, key: &str) -> Result<Option<(i64, String)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT id, fingerprint FROM wecom_transfers WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(pool)
        .await?)
    })
}

/// Record a transfer with its customers `(customer_id, external_userid)` and groups, all
/// pending, in the caller's transaction. A key already used is [`StoreError::Conflict`] (on
/// PostgreSQL the transaction is then aborted: drop it before reading the first transfer).
pub async fn create_in(
    tx: &mut Tx,
    t: &NewTransfer<'_>,
    customers: &[(i64, String)],
    groups: &[String],
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO wecom_transfers (kind, handover_staff_id, takeover_staff_id, handover_userid, \
             takeover_userid, message, idempotency_key, fingerprint, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(t.kind)
        .bind(t.handover_staff_id)
        .bind(t.takeover_staff_id)
        .bind(t.handover_userid)
        .bind(t.takeover_userid)
        .bind(t.message)
        .bind(t.idempotency_key)
        .bind(t.fingerprint)
        .bind(t.created_by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "idempotency_key"))?;
        for (customer, external) in customers {
            sqlx::query(
                "INSERT INTO wecom_transfer_customers (transfer_id, customer_id, external_userid, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (transfer_id, external_userid) DO NOTHING",
            )
            .bind(id)
            .bind(customer)
            .bind(external)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        for chat in groups {
            sqlx::query(
                "INSERT INTO wecom_transfer_groups (transfer_id, chat_id, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (transfer_id, chat_id) DO NOTHING",
            )
            .bind(id)
            .bind(chat)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        Ok(id)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<TransferRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TransferRow>(concat!(transfer_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The latest transfers, newest first.
pub async fn list(db: &Db, limit: i64) -> Result<Vec<TransferRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TransferRow>(concat!(transfer_select!(), " ORDER BY id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(pool)
            .await?)
    })
}

pub async fn set_status(db: &Db, id: i64, status: &str, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE wecom_transfers SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub async fn customers(db: &Db, transfer_id: i64) -> Result<Vec<TransferCustomerRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TransferCustomerRow>(
            "SELECT id, transfer_id, customer_id, external_userid, status, errcode, reason, takeover_time, \
             updated_at FROM wecom_transfer_customers WHERE transfer_id = $1 ORDER BY id",
        )
        .bind(transfer_id)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn groups(db: &Db, transfer_id: i64) -> Result<Vec<TransferGroupRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TransferGroupRow>(
            "SELECT id, transfer_id, chat_id, status, errcode, reason, updated_at \
             FROM wecom_transfer_groups WHERE transfer_id = $1 ORDER BY id",
        )
        .bind(transfer_id)
        .fetch_all(pool)
        .await?)
    })
}

/// Move customer rows to `status` (only rows currently in `from`, so a stale writer cannot
/// undo a final state). Returns how many moved.
#[allow(clippy::too_many_arguments)]
pub async fn set_customer(
    db: &Db,
    ids: &[i64],
    from: &[&str],
    status: &str,
    errcode: i64,
    reason: &str,
    takeover_time: Option<i64>,
    now: i64,
) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let idl = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let froms = from
        .iter()
        .filter(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "UPDATE wecom_transfer_customers SET status = $1, errcode = $2, reason = $3, \
         takeover_time = COALESCE($4, takeover_time), updated_at = $5 \
         WHERE id IN ({idl}) AND status IN ({froms})"
    );
    let n = db_run!(db, pool => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status)
            .bind(errcode)
            .bind(reason)
            .bind(takeover_time)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n)
}

pub async fn set_group(
    db: &Db,
    id: i64,
    status: &str,
    errcode: i64,
    reason: &str,
    now: i64,
) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE wecom_transfer_groups SET status = $1, errcode = $2, reason = $3, updated_at = $4 \
             WHERE id = $5 AND status = 'pending'",
        )
        .bind(status)
        .bind(errcode)
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// The waiting customer rows of transfers to `takeover_userid` for one customer (for the
/// `transfer_fail` callback).
pub async fn waiting_for(
    db: &Db,
    takeover_userid: &str,
    external_userid: &str,
) -> Result<Vec<TransferCustomerRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TransferCustomerRow>(
            "SELECT c.id, c.transfer_id, c.customer_id, c.external_userid, c.status, c.errcode, c.reason, \
             c.takeover_time, c.updated_at FROM wecom_transfer_customers c \
             JOIN wecom_transfers t ON t.id = c.transfer_id \
             WHERE t.takeover_userid = $1 AND c.external_userid = $2 AND c.status IN ('waiting', 'sending') \
             ORDER BY c.id",
        )
        .bind(takeover_userid)
        .bind(external_userid)
        .fetch_all(pool)
        .await?)
    })
}

/// `(customer_id, external_userid)` of every customer a staff member actively follows who
/// has a WeCom identity.
pub async fn followed_wecom_customers(db: &Db, staff_id: i64) -> Result<Vec<(i64, String)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT f.customer_id, MIN(i.value) FROM follows f \
             JOIN customer_identities i ON i.customer_id = f.customer_id AND i.kind = 'wecom_external' \
             JOIN customers c ON c.id = f.customer_id AND c.merged_into IS NULL \
             WHERE f.staff_id = $1 AND f.state = 'active' GROUP BY f.customer_id ORDER BY f.customer_id",
        )
        .bind(staff_id)
        .fetch_all(pool)
        .await?)
    })
}

/// The owning guide of each of these customers that is an active WeCom contact of that guide,
/// as `(customer id, staff id)`: what the customer list's 转接 of ticked rows hands over from.
pub async fn wecom_owners(db: &Db, customer_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    db_run!(db, pool => {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT DISTINCT f.customer_id, f.staff_id FROM follows f \
             JOIN customer_identities i ON i.customer_id = f.customer_id AND i.kind = 'wecom_external' \
             WHERE f.state = 'active' AND f.is_owner = ",
        );
        qb.push_bind(true);
        qb.push(" AND f.customer_id IN (");
        let mut sep = qb.separated(", ");
        for id in customer_ids {
            sep.push_bind(*id);
        }
        qb.push(") ORDER BY f.customer_id");
        Ok(qb.build_query_as().fetch_all(pool).await?)
    })
}

/// Give a group a new owner locally (after `groupchat/transfer`: API writes produce no
/// callback).
pub async fn set_group_owner(
    db: &Db,
    chat_id: &str,
    owner_userid: &str,
    owner_staff_id: i64,
    now: i64,
) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE customer_groups SET owner_userid = $1, owner_staff_id = $2, updated_at = $3 \
             WHERE chat_id = $4",
        )
        .bind(owner_userid)
        .bind(owner_staff_id)
        .bind(now)
        .bind(chat_id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Live groups owned by a staff member.
pub async fn owned_groups(db: &Db, staff_id: i64) -> Result<Vec<String>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT chat_id FROM customer_groups WHERE owner_staff_id = $1 AND dismissed_at IS NULL \
             ORDER BY chat_id",
        )
        .bind(staff_id)
        .fetch_all(pool)
        .await?)
    })
}

/// A transfer's customer row as the console lists it, with the customer's name.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TransferCustomerLine {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub external_userid: String,
    pub status: String,
    pub errcode: i64,
    pub reason: String,
    pub takeover_time: Option<i64>,
}

/// How many customer rows of a transfer are in each state: `(status, count)`.
pub async fn customer_counts(db: &Db, transfer_id: i64) -> Result<Vec<(String, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT status, COUNT(*) FROM wecom_transfer_customers WHERE transfer_id = $1 \
             GROUP BY status",
        )
        .bind(transfer_id)
        .fetch_all(pool)
        .await?)
    })
}

/// How many group rows of a transfer are in each state: `(status, count)`.
pub async fn group_counts(db: &Db, transfer_id: i64) -> Result<Vec<(String, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT status, COUNT(*) FROM wecom_transfer_groups WHERE transfer_id = $1 \
             GROUP BY status",
        )
        .bind(transfer_id)
        .fetch_all(pool)
        .await?)
    })
}

/// One page of a transfer's customer rows in the order they were added, with each customer's
/// name; `status` keeps only the rows in that state (`pending` includes `sending`).
pub async fn customer_page(
    db: &Db,
    transfer_id: i64,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<TransferCustomerLine>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TransferCustomerLine>(
            "SELECT r.id, r.customer_id, COALESCE(c.name, '') AS customer_name, r.external_userid, \
             r.status, r.errcode, r.reason, r.takeover_time FROM wecom_transfer_customers r \
             LEFT JOIN customers c ON c.id = r.customer_id \
             WHERE r.transfer_id = $1 AND ($2 = '' OR r.status = $2 \
             OR ($2 = 'pending' AND r.status = 'sending')) \
             ORDER BY r.id LIMIT $3 OFFSET $4",
        )
        .bind(transfer_id)
        .bind(status.unwrap_or(""))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?)
    })
}

/// A customer a WeCom-linked staff member actively follows, as WeCom knows the pair.
#[derive(Debug, Clone, FromRow)]
pub struct LinkedContact {
    pub userid: String,
    /// The external_userid a transfer sends ([`followed_wecom_customers`] picks the same).
    pub external_userid: String,
    pub name: String,
    pub since: i64,
}

/// Every active follow of a WeCom-linked staff member whose customer has a WeCom identity
/// (the pairs the transfer page can offer).
pub async fn linked_contacts(db: &Db) -> Result<Vec<LinkedContact>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, LinkedContact>(
            "SELECT s.wecom_userid AS userid, MIN(i.value) AS external_userid, c.name AS name, \
             MIN(f.since) AS since FROM follows f \
             JOIN staff s ON s.id = f.staff_id AND s.wecom_userid IS NOT NULL AND s.wecom_userid <> '' \
             JOIN customer_identities i ON i.customer_id = f.customer_id AND i.kind = 'wecom_external' \
             JOIN customers c ON c.id = f.customer_id AND c.merged_into IS NULL \
             WHERE f.state = 'active' \
             GROUP BY f.staff_id, f.customer_id, s.wecom_userid, c.name \
             ORDER BY f.staff_id, f.customer_id",
        )
        .fetch_all(pool)
        .await?)
    })
}
