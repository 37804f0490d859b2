//! Moments tasks (migration 0036): the task, the guides asked to publish it, the likes and
//! comments WeCom lists on their posts, and Yutang's images uploaded to WeCom as attachments.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MomentRow {
    pub id: i64,
    pub name: String,
    pub content: String,
    pub sender_ids: Option<String>,
    pub visible_tags: String,
    pub status: String,
    pub send_at: i64,
    pub store_id: Option<i64>,
    pub jobid: Option<String>,
    pub moment_id: Option<String>,
    pub attempted_at: Option<i64>,
    pub error: String,
    pub invalid_tags: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
    pub tracked_at: Option<i64>,
}

macro_rules! moment_select {
    () => {
        "SELECT id, name, content, sender_ids, visible_tags, status, send_at, store_id, jobid, \
         moment_id, attempted_at, error, invalid_tags, created_by, created_at, updated_at, \
         sent_at, tracked_at FROM moment_tasks"
    };
}

/// A task to save.
#[derive(Debug, Clone, Copy)]
pub struct NewMoment<'a> {
    pub name: &'a str,
    pub content: &'a str,
    pub sender_ids: Option<&'a str>,
    pub visible_tags: &'a str,
    pub send_at: i64,
    pub store_id: Option<i64>,
}

pub async fn insert_in(tx: &mut Tx, m: &NewMoment<'_>, by: Option<i64>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO moment_tasks (name, content, sender_ids, visible_tags, status, send_at, \
             store_id, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'scheduled', $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(m.name)
        .bind(m.content)
        .bind(m.sender_ids)
        .bind(m.visible_tags)
        .bind(m.send_at)
        .bind(m.store_id)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<MomentRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, MomentRow>(concat!(moment_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The task, locked until the transaction ends (PostgreSQL; SQLite serialises writers).
pub async fn lock_in(tx: &mut Tx, id: i64) -> Result<MomentRow> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        sqlx::query_as::<_, MomentRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = $1{lock}",
            moment_select!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

/// Tasks newest first (of one store, when `store` is set), at most `limit`.
pub async fn list(db: &Db, store: Option<i64>, limit: i64) -> Result<Vec<MomentRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, MomentRow>(concat!(
            moment_select!(),
            " WHERE ($1 IS NULL OR store_id = $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(store)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Set the status of a locked task, with the reason when it failed; `created` stamps
/// `sent_at`.
pub async fn set_status_in(
    tx: &mut Tx,
    id: i64,
    status: &str,
    error: &str,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE moment_tasks SET status = $1, error = $2, updated_at = $3, \
             sent_at = CASE WHEN $1 = 'created' THEN $3 ELSE sent_at END WHERE id = $4",
        )
        .bind(status)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}

/// Stamp the moment `add_moment_task` is about to be called (before the call).
pub async fn set_attempted(db: &Db, id: i64, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE moment_tasks SET attempted_at = $1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// Keep WeCom's job id (its answer to `add_moment_task`).
pub async fn set_jobid(db: &Db, id: i64, jobid: &str, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE moment_tasks SET jobid = $1, updated_at = $2 WHERE id = $3")
            .bind(jobid)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// The task is made in WeCom: its moment id and the tags WeCom did not know.
pub async fn set_created_in(
    tx: &mut Tx,
    id: i64,
    moment_id: &str,
    invalid_tags: &str,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE moment_tasks SET status = 'created', moment_id = $1, invalid_tags = $2, \
             error = '', sent_at = $3, updated_at = $3 WHERE id = $4",
        )
        .bind(moment_id)
        .bind(invalid_tags)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}

pub async fn set_tracked(db: &Db, id: i64, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE moment_tasks SET tracked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// Whether another task already holds this WeCom moment (recovery must not adopt it twice).
pub async fn moment_taken(db: &Db, moment_id: &str) -> Result<bool> {
    db_run!(db, pool => {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM moment_tasks WHERE moment_id = $1")
            .bind(moment_id)
            .fetch_one(pool)
            .await?;
        Ok(n > 0)
    })
}

// ------------------------------------------------------------------ senders

/// Active staff with a WeCom account, `(id, wecom_userid)`: of one store when `store` is set,
/// only those listed when `ids` is set.
pub async fn eligible_senders(
    db: &Db,
    store: Option<i64>,
    ids: Option<&[i64]>,
) -> Result<Vec<(i64, String)>> {
    // Staff are thousands at most: read the store's and keep the listed ones here rather than
    // binding an IN list per engine.
    let all: Vec<(i64, String)> = db_run!(db, pool => {
        sqlx::query_as(
            "SELECT id, wecom_userid FROM staff WHERE status = 'active' \
             AND wecom_userid IS NOT NULL AND wecom_userid <> '' \
             AND ($1 IS NULL OR store_id = $1) ORDER BY id",
        )
        .bind(store)
        .fetch_all(pool)
        .await?
    });
    Ok(match ids {
        Some(ids) => all.into_iter().filter(|(id, _)| ids.contains(id)).collect(),
        None => all,
    })
}

/// One guide's row as written when the task is sent.
#[derive(Debug, Clone)]
pub struct NewSender {
    pub staff_id: i64,
    pub wecom_userid: String,
    pub state: &'static str,
    pub reason: &'static str,
}

pub async fn insert_senders_in(tx: &mut Tx, task_id: i64, rows: &[NewSender]) -> Result<()> {
    for chunk in rows.chunks(500) {
        in_tx!(tx, DB, conn => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO moment_senders (task_id, staff_id, wecom_userid, state, reason) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(task_id)
                    .push_bind(r.staff_id)
                    .push_bind(r.wecom_userid.clone())
                    .push_bind(r.state)
                    .push_bind(r.reason);
            });
            qb.push(" ON CONFLICT (task_id, staff_id) DO NOTHING");
            qb.build().execute(&mut *conn).await?;
        });
    }
    Ok(())
}

/// The guides WeCom refused (`invalid_sender_list`).
pub async fn mark_invalid_in(tx: &mut Tx, task_id: i64, userids: &[String]) -> Result<()> {
    for userid in userids {
        in_tx!(tx, conn => {
            sqlx::query(
                "UPDATE moment_senders SET state = 'invalid', reason = 'wecom_refused' \
                 WHERE task_id = $1 AND wecom_userid = $2",
            )
            .bind(task_id)
            .bind(userid)
            .execute(&mut *conn)
            .await?;
        });
    }
    Ok(())
}

/// A guide published (first seen now); a guide already seen keeps the first time.
pub async fn mark_published(db: &Db, task_id: i64, userid: &str, now: i64) -> Result<bool> {
    db_run!(db, pool => {
        let done = sqlx::query(
            "UPDATE moment_senders SET state = 'published', published_at = $1 \
             WHERE task_id = $2 AND wecom_userid = $3 AND state = 'pending'",
        )
        .bind(now)
        .bind(task_id)
        .bind(userid)
        .execute(pool)
        .await?;
        Ok(done.rows_affected() > 0)
    })
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SenderRow {
    pub staff_id: i64,
    pub display_name: String,
    pub wecom_userid: String,
    pub store_id: Option<i64>,
    pub state: String,
    pub reason: String,
    pub published_at: Option<i64>,
    pub likes: i64,
    pub comments: i64,
}

pub async fn senders(db: &Db, task_id: i64) -> Result<Vec<SenderRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SenderRow>(
            "SELECT m.staff_id, s.display_name, m.wecom_userid, s.store_id, m.state, m.reason, \
             m.published_at, m.likes, m.comments FROM moment_senders m \
             JOIN staff s ON s.id = m.staff_id WHERE m.task_id = $1 ORDER BY m.staff_id",
        )
        .bind(task_id)
        .fetch_all(pool)
        .await?)
    })
}

/// `(state, count)` of a task's guides.
pub async fn sender_counts(db: &Db, task_id: i64) -> Result<Vec<(String, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, (String, i64)>(
            "SELECT state, COUNT(*) FROM moment_senders WHERE task_id = $1 GROUP BY state",
        )
        .bind(task_id)
        .fetch_all(pool)
        .await?)
    })
}

// ------------------------------------------------------------------ interactions

/// A like or a comment as WeCom lists it.
#[derive(Debug, Clone)]
pub struct NewInteraction {
    pub kind: &'static str,
    pub who: String,
    pub customer_id: Option<i64>,
    pub at: i64,
}

/// Record what WeCom lists on one guide's post (a re-read adds nothing twice) and recount
/// the guide's likes and comments; returns how many were new.
pub async fn record_interactions_in(
    tx: &mut Tx,
    task_id: i64,
    staff_id: i64,
    rows: &[NewInteraction],
) -> Result<u64> {
    let mut added = 0;
    for chunk in rows.chunks(500) {
        in_tx!(tx, DB, conn => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO moment_interactions (task_id, staff_id, kind, who, customer_id, at) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(task_id)
                    .push_bind(staff_id)
                    .push_bind(r.kind)
                    .push_bind(r.who.clone())
                    .push_bind(r.customer_id)
                    .push_bind(r.at);
            });
            qb.push(" ON CONFLICT (task_id, staff_id, kind, who, at) DO NOTHING");
            added += qb.build().execute(&mut *conn).await?.rows_affected();
        });
    }
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE moment_senders SET \
             likes = (SELECT COUNT(*) FROM moment_interactions i WHERE i.task_id = $1 \
                      AND i.staff_id = $2 AND i.kind = 'like'), \
             comments = (SELECT COUNT(*) FROM moment_interactions i WHERE i.task_id = $1 \
                      AND i.staff_id = $2 AND i.kind = 'comment') \
             WHERE task_id = $1 AND staff_id = $2",
        )
        .bind(task_id)
        .bind(staff_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(added)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct InteractionRow {
    pub staff_id: i64,
    pub kind: String,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub at: i64,
}

/// Likes and comments by customers on a task's posts, newest first, at most `limit`.
pub async fn interactions(db: &Db, task_id: i64, limit: i64) -> Result<Vec<InteractionRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, InteractionRow>(
            "SELECT i.staff_id, i.kind, i.customer_id, c.name AS customer_name, i.at \
             FROM moment_interactions i LEFT JOIN customers c ON c.id = i.customer_id \
             WHERE i.task_id = $1 ORDER BY i.at DESC, i.staff_id LIMIT $2",
        )
        .bind(task_id)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

// ------------------------------------------------------------------ attachments

/// A WeCom media id for this image and purpose that is still good at `good_until`.
pub async fn cached_attachment(
    db: &Db,
    media_id: i64,
    purpose: &str,
    good_until: i64,
) -> Result<Option<String>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT wecom_media_id FROM wecom_attachments \
             WHERE media_id = $1 AND purpose = $2 AND expires_at > $3",
        )
        .bind(media_id)
        .bind(purpose)
        .bind(good_until)
        .fetch_optional(pool)
        .await?)
    })
}

pub async fn save_attachment(
    db: &Db,
    media_id: i64,
    purpose: &str,
    wecom_media_id: &str,
    uploaded_at: i64,
    expires_at: i64,
) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO wecom_attachments (media_id, purpose, wecom_media_id, uploaded_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (media_id, purpose) DO UPDATE \
             SET wecom_media_id = excluded.wecom_media_id, uploaded_at = excluded.uploaded_at, \
             expires_at = excluded.expires_at",
        )
        .bind(media_id)
        .bind(purpose)
        .bind(wecom_media_id)
        .bind(uploaded_at)
        .bind(expires_at)
        .execute(pool)
        .await?;
        Ok(())
    })
}
