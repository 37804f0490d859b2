//! The brand's acquisition settings row (migration 0021): one row, `id = 1`, absent until an
//! operator first saves (the app then answers the defaults).

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct AcquisitionSettingsRow {
    pub attribution_window_days: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

const SELECT: &str = "SELECT attribution_window_days, updated_at, updated_by \
     FROM acquisition_settings WHERE id = 1";

/// The settings row, `None` before the first save.
pub async fn get(db: &Db) -> Result<Option<AcquisitionSettingsRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, AcquisitionSettingsRow>(SELECT)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// The attribution window in force inside `tx` (an order being recorded reads it in its own
/// transaction, so it sees a change committed before it and never half of one).
pub async fn attribution_window_days_in(tx: &mut Tx) -> Result<Option<i64>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar::<_, i64>(
            "SELECT attribution_window_days FROM acquisition_settings WHERE id = 1",
        )
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// The window in force, locked until `tx` ends: two saves at once queue, so each audit
/// entry's `before` is what the other left. The row is created first (with the column's
/// default) when there is none, so the very first saves lock it too; a transaction that ends
/// without a change rolls that back.
pub async fn lock_in(tx: &mut Tx) -> Result<i64> {
    let sql = format!(
        "SELECT attribution_window_days FROM acquisition_settings WHERE id = 1{}",
        tx.row_lock()
    );
    Ok(in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO acquisition_settings (id, updated_at) VALUES (1, 0) \
             ON CONFLICT (id) DO NOTHING",
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await?
    }))
}

/// Write the settings row (creating it on the first save).
pub async fn save_in(tx: &mut Tx, attribution_window_days: i64, now: i64, by: &str) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO acquisition_settings (id, attribution_window_days, updated_at, updated_by) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
             attribution_window_days = excluded.attribution_window_days, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(attribution_window_days)
        .bind(now)
        .bind(by)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}
