//! Tracked links (雷达, migration 0037): one link per (material, guide, customer), each open
//! of it, the seconds spent on the page, and the guide notices sent.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct LinkRow {
    pub token: String,
    pub material_id: i64,
    pub staff_id: i64,
    /// 0: no customer (a link for a group or a moments post).
    pub customer_id: i64,
    pub created_at: i64,
}

/// The link for (material, guide, customer), made with `token` unless it exists.
pub async fn link_for(
    db: &Db,
    token: &str,
    material_id: i64,
    staff_id: i64,
    customer_id: i64,
    now: i64,
) -> Result<LinkRow> {
    db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO material_links (token, material_id, staff_id, customer_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (material_id, staff_id, customer_id) DO NOTHING",
        )
        .bind(token)
        .bind(material_id)
        .bind(staff_id)
        .bind(customer_id)
        .bind(now)
        .execute(pool)
        .await?;
        sqlx::query_as::<_, LinkRow>(
            "SELECT token, material_id, staff_id, customer_id, created_at FROM material_links \
             WHERE material_id = $1 AND staff_id = $2 AND customer_id = $3",
        )
        .bind(material_id)
        .bind(staff_id)
        .bind(customer_id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

pub async fn link(db: &Db, token: &str) -> Result<Option<LinkRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, LinkRow>(
            "SELECT token, material_id, staff_id, customer_id, created_at FROM material_links \
             WHERE token = $1",
        )
        .bind(token)
        .fetch_optional(pool)
        .await?)
    })
}

/// The link, locked until the transaction ends (opens of one link are decided one at a
/// time: who viewed first decides what a forward is).
pub async fn lock_link_in(tx: &mut Tx, token: &str) -> Result<LinkRow> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        sqlx::query_as::<_, LinkRow>(sqlx::AssertSqlSafe(format!(
            "SELECT token, material_id, staff_id, customer_id, created_at FROM material_links \
             WHERE token = $1{lock}"
        )))
        .bind(token)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

/// The link's first viewer, if anyone opened it.
pub async fn first_viewer_in(tx: &mut Tx, token: &str) -> Result<Option<String>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "SELECT viewer FROM material_views WHERE token = $1 ORDER BY id LIMIT 1",
        )
        .bind(token)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// This viewer's latest open of the link since `since`, as `(id, forwarded)`.
pub async fn recent_view_in(
    tx: &mut Tx,
    token: &str,
    viewer: &str,
    since: i64,
) -> Result<Option<(i64, i64)>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as(
            "SELECT id, forwarded FROM material_views WHERE token = $1 AND viewer = $2 \
             AND opened_at >= $3 ORDER BY id DESC LIMIT 1",
        )
        .bind(token)
        .bind(viewer)
        .bind(since)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

pub async fn insert_view_in(
    tx: &mut Tx,
    token: &str,
    material_id: i64,
    viewer: &str,
    forwarded: bool,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO material_views (token, material_id, viewer, forwarded, opened_at, \
             seconds, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $5) RETURNING id",
        )
        .bind(token)
        .bind(material_id)
        .bind(viewer)
        .bind(i64::from(forwarded))
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Raise a view's seconds on the page (never lower them: beats may arrive out of order).
/// `false`: no such view for this link and viewer.
pub async fn beat(
    db: &Db,
    token: &str,
    view: i64,
    viewer: &str,
    seconds: i64,
    now: i64,
) -> Result<bool> {
    db_run!(db, pool => {
        let done = sqlx::query(
            "UPDATE material_views SET seconds = CASE WHEN seconds < $1 THEN $1 ELSE seconds END, \
             updated_at = $2 WHERE id = $3 AND token = $4 AND viewer = $5",
        )
        .bind(seconds)
        .bind(now)
        .bind(view)
        .bind(token)
        .bind(viewer)
        .execute(pool)
        .await?;
        Ok(done.rows_affected() > 0)
    })
}

/// Notices sent to one guide since `since`, and whether this link had one since `link_since`.
pub async fn notices_in(
    tx: &mut Tx,
    staff_id: i64,
    since: i64,
    token: &str,
    link_since: i64,
) -> Result<(i64, bool)> {
    in_tx!(tx, conn => {
        let staff: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM material_notices WHERE staff_id = $1 AND at >= $2",
        )
        .bind(staff_id)
        .bind(since)
        .fetch_one(&mut *conn)
        .await?;
        let link: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM material_notices WHERE token = $1 AND at >= $2",
        )
        .bind(token)
        .bind(link_since)
        .fetch_one(&mut *conn)
        .await?;
        Ok((staff, link > 0))
    })
}

pub async fn record_notice_in(tx: &mut Tx, token: &str, staff_id: i64, at: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO material_notices (token, staff_id, at) VALUES ($1, $2, $3) \
             ON CONFLICT (token, at) DO NOTHING",
        )
        .bind(token)
        .bind(staff_id)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}

/// A material's figures (of one guide's links when `staff` is set).
#[derive(Debug, Clone, Default, FromRow, Serialize)]
pub struct StatsRow {
    pub links: i64,
    pub views: i64,
    pub viewers: i64,
    pub forwards: i64,
    pub customers: i64,
    pub seconds: i64,
}

pub async fn stats(db: &Db, material_id: i64, staff: Option<i64>) -> Result<StatsRow> {
    db_run!(db, pool => {
        let links: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM material_links WHERE material_id = $1 \
             AND ($2 IS NULL OR staff_id = $2)",
        )
        .bind(material_id)
        .bind(staff)
        .fetch_one(pool)
        .await?;
        let (views, viewers, forwards, customers, seconds): (i64, i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT COUNT(*), COUNT(DISTINCT v.viewer), \
                 CAST(COALESCE(SUM(v.forwarded), 0) AS BIGINT), \
                 COUNT(DISTINCT CASE WHEN l.customer_id <> 0 AND v.forwarded = 0 \
                       THEN l.customer_id END), \
                 CAST(COALESCE(SUM(v.seconds), 0) AS BIGINT) \
                 FROM material_views v JOIN material_links l ON l.token = v.token \
                 WHERE v.material_id = $1 AND ($2 IS NULL OR l.staff_id = $2)",
            )
            .bind(material_id)
            .bind(staff)
            .fetch_one(pool)
            .await?;
        Ok(StatsRow {
            links,
            views,
            viewers,
            forwards,
            customers,
            seconds,
        })
    })
}

/// Views per guide of a material: `(staff_id, name, links, views)`, most viewed first.
pub async fn by_guide(
    db: &Db,
    material_id: i64,
    limit: i64,
) -> Result<Vec<(i64, String, i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT l.staff_id, s.display_name, COUNT(DISTINCT l.token), COUNT(v.id) \
             FROM material_links l JOIN staff s ON s.id = l.staff_id \
             LEFT JOIN material_views v ON v.token = l.token \
             WHERE l.material_id = $1 GROUP BY l.staff_id, s.display_name \
             ORDER BY COUNT(v.id) DESC, l.staff_id LIMIT $2",
        )
        .bind(material_id)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Whether a view was a forward.
pub async fn view_forwarded(db: &Db, view: i64) -> Result<bool> {
    db_run!(db, pool => {
        let f: Option<i64> = sqlx::query_scalar("SELECT forwarded FROM material_views WHERE id = $1")
            .bind(view)
            .fetch_optional(pool)
            .await?;
        Ok(f.unwrap_or(0) != 0)
    })
}

/// Customers with an owning guide in place (an active follow), every `every`-th by id, at
/// most `limit`, with that guide: whom the demo brand's guides sent materials to.
pub async fn owned_sample(db: &Db, every: i64, limit: i64) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT customer_id, staff_id FROM follows \
             WHERE is_owner = TRUE AND state = 'active' AND customer_id % $1 = 0 \
             ORDER BY customer_id LIMIT $2",
        )
        .bind(every)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}
