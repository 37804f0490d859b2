//! The per-row sync lease of codes Yutang keeps in line with WeCom (channel live codes, group
//! live codes): every change bumps the row's `sync_wanted`; one refresher at a time holds the
//! lease (`sync_lease_until`), applies what it read, records the value it saw in `sync_done`
//! and gives the lease back only when nothing was bumped meanwhile. The holder names its lease
//! by `until`, so a refresher whose lease ran out and was taken over cannot renew, release or
//! drop the new holder's.

use crate::Db;
use crate::error::Result;

/// The tables whose rows carry a sync lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leased {
    LiveCodes,
    GroupCodes,
}

impl Leased {
    fn take_sql(self) -> &'static str {
        match self {
            Leased::LiveCodes => {
                "UPDATE live_codes SET sync_lease_until = $3 WHERE id = $1 \
                 AND (sync_lease_until IS NULL OR sync_lease_until < $2)"
            }
            Leased::GroupCodes => {
                "UPDATE group_codes SET sync_lease_until = $3 WHERE id = $1 \
                 AND (sync_lease_until IS NULL OR sync_lease_until < $2)"
            }
        }
    }

    fn release_sql(self) -> &'static str {
        match self {
            Leased::LiveCodes => {
                "UPDATE live_codes SET sync_lease_until = NULL \
                 WHERE id = $1 AND sync_lease_until = $2 AND sync_wanted <= sync_done"
            }
            Leased::GroupCodes => {
                "UPDATE group_codes SET sync_lease_until = NULL \
                 WHERE id = $1 AND sync_lease_until = $2 AND sync_wanted <= sync_done"
            }
        }
    }

    fn renew_sql(self) -> &'static str {
        match self {
            Leased::LiveCodes => {
                "UPDATE live_codes SET sync_lease_until = $3 WHERE id = $1 AND sync_lease_until = $2"
            }
            Leased::GroupCodes => {
                "UPDATE group_codes SET sync_lease_until = $3 WHERE id = $1 AND sync_lease_until = $2"
            }
        }
    }

    fn drop_sql(self) -> &'static str {
        match self {
            Leased::LiveCodes => {
                "UPDATE live_codes SET sync_lease_until = NULL WHERE id = $1 AND sync_lease_until = $2"
            }
            Leased::GroupCodes => {
                "UPDATE group_codes SET sync_lease_until = NULL WHERE id = $1 AND sync_lease_until = $2"
            }
        }
    }
}

/// Take the lease of row `id` until `until`; `false` when another refresher holds it.
pub async fn take(db: &Db, table: Leased, id: i64, now: i64, until: i64) -> Result<bool> {
    let sql = table.take_sql();
    let n = db_run!(db, pool => {
        sqlx::query(sql)
            .bind(id)
            .bind(now)
            .bind(until)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// Give the lease `held` back, unless a sync was asked for after the one recorded (then the
/// holder keeps it and goes again): `false` then, or when the lease is no longer `held`.
pub async fn release(db: &Db, table: Leased, id: i64, held: i64) -> Result<bool> {
    let sql = table.release_sql();
    let n = db_run!(db, pool => {
        sqlx::query(sql).bind(id).bind(held).execute(pool).await?.rows_affected()
    });
    Ok(n == 1)
}

/// Extend the lease `held` to `until` for another pass; `false` when it ran out and another
/// refresher took the row (that one sees every bump).
pub async fn renew(db: &Db, table: Leased, id: i64, held: i64, until: i64) -> Result<bool> {
    let sql = table.renew_sql();
    let n = db_run!(db, pool => {
        sqlx::query(sql)
            .bind(id)
            .bind(held)
            .bind(until)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// Drop the lease `held` whatever happened (a refresher that failed).
pub async fn drop_held(db: &Db, table: Leased, id: i64, held: i64) -> Result<()> {
    let sql = table.drop_sql();
    db_run!(db, pool => {
        sqlx::query(sql).bind(id).bind(held).execute(pool).await?;
    });
    Ok(())
}
