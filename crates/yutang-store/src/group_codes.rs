//! Group live codes (群活码, migration 0047): the codes, their groups in filling order and the
//! joins through them. Their sync lease is [`crate::sync_lease`]'s.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GroupCodeRow {
    pub id: i64,
    pub name: String,
    pub channel_id: Option<i64>,
    pub store_id: Option<i64>,
    pub state: String,
    pub spec: String,
    pub config_id: String,
    pub qr_url: String,
    pub listed: String,
    pub fill: String,
    pub sync_status: String,
    pub sync_error: String,
    pub synced_at: Option<i64>,
    pub sync_wanted: i64,
    pub sync_done: i64,
    /// The `qr_url` the stored image was made from (`''` when none is stored).
    pub qr_image_url: String,
    pub qr_image_error: String,
    pub archived_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! code_select {
    () => {
        "SELECT id, name, channel_id, store_id, state, spec, config_id, qr_url, listed, fill, \
         sync_status, sync_error, synced_at, sync_wanted, sync_done, qr_image_url, \
         qr_image_error, archived_at, created_by, created_at, updated_at FROM group_codes"
    };
}

/// What a code is written with.
#[derive(Debug, Clone, Copy)]
pub struct CodeWrite<'a> {
    pub name: &'a str,
    pub channel_id: Option<i64>,
    pub store_id: Option<i64>,
    pub spec: &'a str,
}

pub async fn insert_in(
    tx: &mut Tx,
    w: &CodeWrite<'_>,
    state: &str,
    created_by: &str,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO group_codes (name, channel_id, store_id, state, spec, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(w.name)
        .bind(w.channel_id)
        .bind(w.store_id)
        .bind(state)
        .bind(w.spec)
        .bind(created_by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "state"))
    })
}

/// Rewrites a live code's settings and asks for a re-sync; `false` when it is archived.
pub async fn update_in(tx: &mut Tx, id: i64, w: &CodeWrite<'_>, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE group_codes SET name = $2, channel_id = $3, store_id = $4, spec = $5, \
             updated_at = $6, sync_wanted = sync_wanted + 1 \
             WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(w.name)
        .bind(w.channel_id)
        .bind(w.store_id)
        .bind(w.spec)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Replaces the operator's groups of a code (positions 0…), keeping the groups WeCom opened
/// for it after them. A group WeCom opened that the operator now names becomes theirs.
pub async fn set_groups_in(tx: &mut Tx, code: i64, groups: &[i64], now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("DELETE FROM group_code_groups WHERE code_id = $1 AND auto_created = $2")
            .bind(code)
            .bind(false)
            .execute(&mut *conn)
            .await?;
        for (pos, g) in groups.iter().enumerate() {
            sqlx::query(
                "INSERT INTO group_code_groups (code_id, group_id, position, auto_created, \
                 added_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code_id, group_id) \
                 DO UPDATE SET position = excluded.position, auto_created = excluded.auto_created",
            )
            .bind(code)
            .bind(*g)
            .bind(i64::try_from(pos).unwrap_or(0))
            .bind(false)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
    });
    Ok(())
}

/// Adds a group WeCom opened for a code after its other groups; `false` when it is there.
pub async fn add_auto_group(db: &Db, code: i64, group: i64, now: i64) -> Result<bool> {
    let n = db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO group_code_groups (code_id, group_id, position, auto_created, added_at) \
             SELECT $1, $2, 1000 + COUNT(*), $3, $4 FROM group_code_groups \
             WHERE code_id = $1 AND auto_created = $3 \
             ON CONFLICT (code_id, group_id) DO NOTHING",
        )
        .bind(code)
        .bind(group)
        .bind(true)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Archives a code; `false` when it was archived already.
pub async fn archive_in(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE group_codes SET archived_at = $2, updated_at = $2 \
             WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

pub async fn get(db: &Db, id: i64) -> Result<GroupCodeRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, GroupCodeRow>(concat!(code_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The code whose join way carries `state` (archived ones too: their joins still count).
pub async fn by_state(db: &Db, state: &str) -> Result<Option<GroupCodeRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GroupCodeRow>(concat!(code_select!(), " WHERE state = $1"))
            .bind(state)
            .fetch_optional(pool)
            .await?)
    })
}

/// Codes, newest first (archived ones or the others).
pub async fn list(db: &Db, archived: bool) -> Result<Vec<GroupCodeRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GroupCodeRow>(concat!(
            code_select!(),
            " WHERE (archived_at IS NOT NULL) = $1 ORDER BY id DESC"
        ))
        .bind(archived)
        .fetch_all(pool)
        .await?)
    })
}

/// A group of a code with what the plan needs.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct PoolRow {
    pub group_id: i64,
    pub chat_id: String,
    pub name: String,
    pub owner_staff_id: Option<i64>,
    /// Members now (staff included).
    pub members: i64,
    pub dismissed: bool,
    pub auto_created: bool,
    pub position: i64,
}

/// The groups of a code in filling order, with their member counts.
pub async fn pool(db: &Db, code: i64) -> Result<Vec<PoolRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, PoolRow>(
            "SELECT g.id AS group_id, g.chat_id, g.name, g.owner_staff_id, \
             (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id \
              AND m.state = 'joined') AS members, \
             (g.dismissed_at IS NOT NULL) AS dismissed, cg.auto_created, cg.position \
             FROM group_code_groups cg JOIN customer_groups g ON g.id = cg.group_id \
             WHERE cg.code_id = $1 ORDER BY cg.position, g.id",
        )
        .bind(code)
        .fetch_all(pool)
        .await?)
    })
}

/// The live codes a group belongs to.
pub async fn codes_of_group(db: &Db, group: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT c.id FROM group_code_groups cg JOIN group_codes c ON c.id = cg.code_id \
             WHERE cg.group_id = $1 AND c.archived_at IS NULL ORDER BY c.id",
        )
        .bind(group)
        .fetch_all(pool)
        .await?)
    })
}

/// Ids of the live codes (the minute tick re-plans each: a failed sync, a missed callback).
pub async fn live_ids(db: &Db) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar("SELECT id FROM group_codes WHERE archived_at IS NULL ORDER BY id")
            .fetch_all(pool)
            .await?)
    })
}

/// Ask for a re-sync of a code (a join, an edit, a group that changed).
pub async fn want_sync(db: &Db, id: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE group_codes SET sync_wanted = sync_wanted + 1 WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// What a sync did to a code.
#[derive(Debug, Clone)]
pub struct SyncRecord<'a> {
    pub seen: i64,
    pub config_id: &'a str,
    pub qr_url: &'a str,
    pub listed: &'a str,
    pub fill: &'a str,
    pub status: &'a str,
    pub error: &'a str,
    pub now: i64,
}

pub async fn record_sync(db: &Db, id: i64, r: &SyncRecord<'_>) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE group_codes SET sync_done = $2, config_id = $3, qr_url = $4, listed = $5, \
             fill = $6, sync_status = $7, sync_error = $8, synced_at = $9 WHERE id = $1",
        )
        .bind(id)
        .bind(r.seen)
        .bind(r.config_id)
        .bind(r.qr_url)
        .bind(r.listed)
        .bind(r.fill)
        .bind(r.status)
        .bind(r.error)
        .bind(r.now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// A join through a code.
#[derive(Debug, Clone)]
pub struct NewJoin<'a> {
    pub code_id: i64,
    pub channel_id: Option<i64>,
    pub group_id: i64,
    pub userid: &'a str,
    pub customer_id: Option<i64>,
    pub joined_at: i64,
    pub day: &'a str,
}

/// Records a join once; `false` when this membership was recorded already.
pub async fn record_join(db: &Db, j: &NewJoin<'_>) -> Result<bool> {
    let n = db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO group_code_joins (code_id, channel_id, group_id, userid, customer_id, \
             joined_at, day) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (group_id, userid, joined_at) DO NOTHING",
        )
        .bind(j.code_id)
        .bind(j.channel_id)
        .bind(j.group_id)
        .bind(j.userid)
        .bind(j.customer_id)
        .bind(j.joined_at)
        .bind(j.day)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Joins through a code per Shanghai day in `from..=to`, oldest first.
pub async fn joins_by_day(db: &Db, code: i64, from: &str, to: &str) -> Result<Vec<(String, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT day, COUNT(*) FROM group_code_joins WHERE code_id = $1 \
             AND day >= $2 AND day <= $3 GROUP BY day ORDER BY day",
        )
        .bind(code)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?)
    })
}

/// Joins through a code per group, ever.
pub async fn joins_by_group(db: &Db, code: i64) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT group_id, COUNT(*) FROM group_code_joins WHERE code_id = $1 \
             GROUP BY group_id ORDER BY group_id",
        )
        .bind(code)
        .fetch_all(pool)
        .await?)
    })
}

/// Joins through a code: `(ever, on day)`; members who are Yutang customers among them ever.
pub async fn join_totals(db: &Db, code: i64, day: &str) -> Result<(i64, i64, i64)> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN day = $2 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN customer_id IS NOT NULL THEN 1 ELSE 0 END), 0) \
             FROM group_code_joins WHERE code_id = $1",
        )
        .bind(code)
        .bind(day)
        .fetch_one(pool)
        .await?)
    })
}

/// A join as listed.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct JoinRow {
    pub id: i64,
    pub group_id: i64,
    pub group_name: String,
    pub userid: String,
    pub customer_id: Option<i64>,
    pub joined_at: i64,
}

/// The latest joins through a code.
pub async fn recent_joins(db: &Db, code: i64, limit: i64) -> Result<Vec<JoinRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, JoinRow>(
            "SELECT j.id, j.group_id, g.name AS group_name, j.userid, j.customer_id, j.joined_at \
             FROM group_code_joins j JOIN customer_groups g ON g.id = j.group_id \
             WHERE j.code_id = $1 ORDER BY j.joined_at DESC, j.id DESC LIMIT $2",
        )
        .bind(code)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Stores a code's QR image made from `url`.
pub async fn store_qr_image(
    db: &Db,
    id: i64,
    url: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE group_codes SET qr_image = $2, qr_image_type = $3, qr_image_url = $4, \
             qr_image_error = '' WHERE id = $1",
        )
        .bind(id)
        .bind(bytes)
        .bind(content_type)
        .bind(url)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Records why downloading a code's QR image failed (tried again at the next sync).
pub async fn qr_image_failed(db: &Db, id: i64, error: &str) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE group_codes SET qr_image_error = $2 WHERE id = $1")
            .bind(id)
            .bind(error)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// A code's stored QR image: `(content type, bytes)`, when one is stored for `qr_url`.
pub async fn qr_image(db: &Db, id: i64) -> Result<Option<(String, Vec<u8>)>> {
    let row: Option<(String, Option<Vec<u8>>)> = db_run!(db, pool => {
        sqlx::query_as(
            "SELECT qr_image_type, qr_image FROM group_codes \
             WHERE id = $1 AND qr_image_url = qr_url AND qr_url <> ''",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    });
    Ok(row.and_then(|(t, b)| b.map(|b| (t, b))))
}
