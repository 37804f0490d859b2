//! Follow relations (a guide who has the customer as a WeCom contact), written inside the
//! caller's transaction.

use crate::customers::{FollowInput, lock_in};
use crate::error::{Result, StoreError};
use crate::events::append_in;
use crate::tx::Tx;

/// Create or update a follow relation (unique per customer and guide). A customer's first
/// follow makes its guide the owner unless `f.owner` says otherwise; making a guide the
/// owner takes ownership from every other guide. The customer row is locked first, so two
/// guides following the same customer at once cannot both become its owner.
pub async fn upsert_follow_in(tx: &mut Tx, f: &FollowInput<'_>, now: i64) -> Result<i64> {
    lock_in(tx, f.customer_id).await?;
    let (existing, others): (Option<(i64, String, String, bool)>, i64) = in_tx!(tx, conn => {
        let existing = sqlx::query_as(
            "SELECT id, state, remark, is_owner FROM follows WHERE customer_id = $1 AND staff_id = $2",
        )
        .bind(f.customer_id)
        .bind(f.staff_id)
        .fetch_optional(&mut *conn)
        .await?;
        let others = sqlx::query_scalar(
            "SELECT COUNT(*) FROM follows WHERE customer_id = $1 AND staff_id <> $2 AND is_owner = $3",
        )
        .bind(f.customer_id)
        .bind(f.staff_id)
        .bind(true)
        .fetch_one(&mut *conn)
        .await?;
        (existing, others)
    });
    let owner = match (f.owner, &existing) {
        (Some(o), _) => o,
        (None, Some((_, _, _, o))) => *o,
        (None, None) => others == 0,
    };
    let (id, kind) = in_tx!(tx, conn => {
        if owner {
            sqlx::query("UPDATE follows SET is_owner = $1 WHERE customer_id = $2 AND staff_id <> $3")
                .bind(false)
                .bind(f.customer_id)
                .bind(f.staff_id)
                .execute(&mut *conn)
                .await?;
        }
        match existing {
            Some((id, state, remark, was_owner)) => {
                let remark = f.remark.map(str::to_owned).unwrap_or(remark);
                sqlx::query(
                    "UPDATE follows SET remark = $1, state = $2, is_owner = $3, updated_at = $4 WHERE id = $5",
                )
                .bind(&remark)
                .bind(f.state)
                .bind(owner)
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
                let changed = state != f.state || was_owner != owner;
                (id, changed.then_some("follow_changed"))
            }
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO follows (customer_id, staff_id, since, remark, state, is_owner, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(f.customer_id)
                .bind(f.staff_id)
                .bind(f.since)
                .bind(f.remark.unwrap_or(""))
                .bind(f.state)
                .bind(owner)
                .bind(now)
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| StoreError::classify(e, "staff_id"))?;
                (id, Some("followed"))
            }
        }
    });
    if let Some(kind) = kind {
        let d = serde_json::json!({"state": f.state, "owner": owner}).to_string();
        append_in(tx, f.customer_id, kind, now, Some(f.staff_id), &d, now).await?;
    }
    Ok(id)
}
