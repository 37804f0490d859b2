//! WeCom customer groups (客户群) and their members.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};

/// A group as WeCom last described it.
#[derive(Debug, Clone)]
pub struct GroupUpsert<'a> {
    pub chat_id: &'a str,
    pub name: &'a str,
    pub owner_userid: &'a str,
    pub owner_staff_id: Option<i64>,
    pub notice: &'a str,
    pub created_at: i64,
    pub member_version: &'a str,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GroupRow {
    pub id: i64,
    pub chat_id: String,
    pub name: String,
    pub owner_userid: String,
    pub owner_staff_id: Option<i64>,
    pub notice: String,
    pub created_at: i64,
    pub dismissed_at: Option<i64>,
    pub member_version: String,
    pub synced_at: i64,
    pub updated_at: i64,
    /// Members currently in the group.
    pub members: i64,
}

macro_rules! group_select {
    () => {
        "SELECT g.id, g.chat_id, g.name, g.owner_userid, g.owner_staff_id, g.notice, g.created_at, \
         g.dismissed_at, g.member_version, g.synced_at, g.updated_at, \
         (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id AND m.state = 'joined') AS members \
         FROM customer_groups g"
    };
}

/// Create or refresh a group (a dismissed group that WeCom describes again is live again).
pub async fn upsert_group(db: &Db, g: &GroupUpsert<'_>, now: i64) -> Result<i64> {
    db_run!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO customer_groups (chat_id, name, owner_userid, owner_staff_id, notice, \
             created_at, member_version, synced_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (chat_id) DO UPDATE SET name = excluded.name, \
             owner_userid = excluded.owner_userid, owner_staff_id = excluded.owner_staff_id, \
             notice = excluded.notice, created_at = excluded.created_at, \
             member_version = excluded.member_version, dismissed_at = NULL, \
             synced_at = excluded.synced_at, updated_at = excluded.updated_at RETURNING id",
        )
        .bind(g.chat_id)
        .bind(g.name)
        .bind(g.owner_userid)
        .bind(g.owner_staff_id)
        .bind(g.notice)
        .bind(g.created_at)
        .bind(g.member_version)
        .bind(now)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

pub async fn by_chat_id(db: &Db, chat_id: &str) -> Result<Option<GroupRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, GroupRow>(concat!(group_select!(), " WHERE g.chat_id = $1"))
            .bind(chat_id)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<GroupRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, GroupRow>(concat!(group_select!(), " WHERE g.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// Groups, newest first; `owner` limits to one owner's groups; dismissed ones only when asked.
pub async fn list(
    db: &Db,
    owner: Option<i64>,
    include_dismissed: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<GroupRow>, i64)> {
    let filter = " WHERE ($1 IS NULL OR g.owner_staff_id = $1) AND ($2 OR g.dismissed_at IS NULL)";
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, GroupRow>(sqlx::AssertSqlSafe(format!(
            "{}{filter} ORDER BY g.created_at DESC, g.id DESC LIMIT $3 OFFSET $4",
            group_select!()
        )))
        .bind(owner)
        .bind(include_dismissed)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM customer_groups g{filter}"
        )))
        .bind(owner)
        .bind(include_dismissed)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    })
}

/// Mark a group dismissed; `false` when it was unknown or already dismissed.
pub async fn dismiss(db: &Db, chat_id: &str, at: i64, now: i64) -> Result<bool> {
    let n = db_run!(db, pool => {
        sqlx::query(
            "UPDATE customer_groups SET dismissed_at = $1, updated_at = $2 \
             WHERE chat_id = $3 AND dismissed_at IS NULL",
        )
        .bind(at)
        .bind(now)
        .bind(chat_id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MemberRow {
    pub id: i64,
    pub group_id: i64,
    pub member_type: String,
    pub userid: String,
    pub customer_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub join_time: i64,
    pub join_scene: i64,
    pub invitor_userid: String,
    pub state: String,
    pub left_at: Option<i64>,
    pub updated_at: i64,
}

/// Every member row of a group (joined and left), by id.
pub async fn members(db: &Db, group_id: i64) -> Result<Vec<MemberRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, MemberRow>(
            "SELECT id, group_id, member_type, userid, customer_id, staff_id, join_time, join_scene, \
             invitor_userid, state, left_at, updated_at FROM group_members WHERE group_id = $1 ORDER BY id",
        )
        .bind(group_id)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// A member as WeCom lists it.
#[derive(Debug, Clone)]
pub struct MemberUpsert<'a> {
    pub group_id: i64,
    pub member_type: &'a str,
    pub userid: &'a str,
    pub customer_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub join_time: i64,
    pub join_scene: i64,
    pub invitor_userid: &'a str,
}

/// Record a member as joined (a member who had left and is listed again re-joins).
pub async fn upsert_member(db: &Db, m: &MemberUpsert<'_>, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO group_members (group_id, member_type, userid, customer_id, staff_id, \
             join_time, join_scene, invitor_userid, state, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'joined', $9) \
             ON CONFLICT (group_id, userid) DO UPDATE SET member_type = excluded.member_type, \
             join_logged = CASE WHEN group_members.state = 'joined' \
               AND group_members.join_time = excluded.join_time THEN group_members.join_logged ELSE FALSE END, \
             leave_logged = CASE WHEN group_members.state = 'joined' \
               AND group_members.join_time = excluded.join_time THEN group_members.leave_logged ELSE FALSE END, \
             customer_id = excluded.customer_id, staff_id = excluded.staff_id, \
             join_time = excluded.join_time, join_scene = excluded.join_scene, \
             invitor_userid = excluded.invitor_userid, state = 'joined', left_at = NULL, \
             updated_at = excluded.updated_at",
        )
        .bind(m.group_id)
        .bind(m.member_type)
        .bind(m.userid)
        .bind(m.customer_id)
        .bind(m.staff_id)
        .bind(m.join_time)
        .bind(m.join_scene)
        .bind(m.invitor_userid)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Mark a member row as left at `at`.
pub async fn mark_left(db: &Db, id: i64, at: i64, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE group_members SET state = 'left', left_at = $1, updated_at = $2 \
             WHERE id = $3 AND state = 'joined'",
        )
        .bind(at)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// A customer's current live groups (for the customer page and tests).
pub async fn groups_of_customer(db: &Db, customer_id: i64) -> Result<Vec<String>> {
    db_run!(db, pool => {
        sqlx::query_scalar(
            "SELECT g.chat_id FROM group_members m JOIN customer_groups g ON g.id = m.group_id \
             WHERE m.customer_id = $1 AND m.state = 'joined' AND g.dismissed_at IS NULL \
             ORDER BY g.chat_id",
        )
        .bind(customer_id)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// The saved state of a full-sync job, if it saved any.
pub async fn checkpoint(db: &Db, job_id: i64) -> Result<Option<String>> {
    db_run!(db, pool => {
        sqlx::query_scalar("SELECT state FROM wecom_sync_checkpoints WHERE job_id = $1")
            .bind(job_id)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// Save (replace) a full-sync job's state.
pub async fn save_checkpoint(db: &Db, job_id: i64, state: &str, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO wecom_sync_checkpoints (job_id, state, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(job_id)
        .bind(state)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Customer member rows whose join or leave is not on the timeline yet.
pub async fn unlogged(db: &Db, group_id: i64) -> Result<Vec<(MemberRow, bool, bool)>> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        m: MemberRow,
        join_logged: bool,
        leave_logged: bool,
    }
    let rows: Vec<Row> = db_run!(db, pool => {
        sqlx::query_as::<_, Row>(
            "SELECT id, group_id, member_type, userid, customer_id, staff_id, join_time, join_scene, \
             invitor_userid, state, left_at, updated_at, join_logged, leave_logged FROM group_members \
             WHERE group_id = $1 AND customer_id IS NOT NULL \
             AND (join_logged = FALSE OR (state = 'left' AND leave_logged = FALSE)) ORDER BY id",
        )
        .bind(group_id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| (r.m, r.join_logged, r.leave_logged))
        .collect())
}

/// Mark a membership's events as written, unless the row changed meanwhile (a re-join).
pub async fn mark_logged(db: &Db, id: i64, join_time: i64, state: &str) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE group_members SET join_logged = TRUE, leave_logged = (state = 'left') \
             WHERE id = $1 AND join_time = $2 AND state = $3",
        )
        .bind(id)
        .bind(join_time)
        .bind(state)
        .execute(pool)
        .await?;
    });
    Ok(())
}
