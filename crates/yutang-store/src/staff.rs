//! Staff accounts.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::org::like_pattern;
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub status: String,
    pub wecom_userid: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The credentials half of a staff row, loaded only by the login path.
#[derive(Debug, Clone, FromRow)]
pub struct StaffCredentials {
    pub id: i64,
    pub role: String,
    pub store_id: Option<i64>,
    pub status: String,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewStaff<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub store_id: Option<i64>,
    pub password_hash: Option<&'a str>,
    pub wecom_userid: Option<&'a str>,
}

macro_rules! staff_select {
    () => {
        "SELECT t.id, t.username, t.display_name, t.role, t.store_id, s.name AS store_name, \
         t.status, t.wecom_userid, t.created_at, t.updated_at \
         FROM staff t LEFT JOIN stores s ON s.id = t.store_id"
    };
}

macro_rules! staff_where {
    () => {
        " WHERE ($1 IS NULL OR t.store_id = $1) AND ($2 IS NULL OR t.role = $2) \
         AND ($3 IS NULL OR t.username LIKE $3 ESCAPE '\\' OR t.display_name LIKE $3 ESCAPE '\\') \
         AND ($4 IS NULL OR t.status = $4) AND ($5 = 0 OR t.store_id IS NOT NULL)"
    };
}

pub async fn create(db: &Db, s: &NewStaff<'_>, now: i64) -> Result<i64> {
    in_own_tx!(db, create_in(s, now))
}

pub async fn create_in(tx: &mut Tx, s: &NewStaff<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO staff (username, display_name, role, store_id, status, password_hash, \
             wecom_userid, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $7) RETURNING id",
        )
        .bind(s.username)
        .bind(s.display_name)
        .bind(s.role)
        .bind(s.store_id)
        .bind(s.password_hash)
        .bind(s.wecom_userid)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "username"))
    })
}

/// Insert many staff in one transaction (demo and imports).
pub async fn create_many(db: &Db, rows: &[NewStaff<'_>], now: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        let mut tx = pool.begin().await?;
        let mut ids = Vec::with_capacity(rows.len());
        for s in rows {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO staff (username, display_name, role, store_id, status, password_hash, \
                 wecom_userid, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $7) RETURNING id",
            )
            .bind(s.username)
            .bind(s.display_name)
            .bind(s.role)
            .bind(s.store_id)
            .bind(s.password_hash)
            .bind(s.wecom_userid)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "username"))?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<StaffRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, StaffRow>(concat!(staff_select!(), " WHERE t.id = $1"))
            .bind(id)
            .fetch_one(pool)
            .await
            .map_err(StoreError::from)
    })
}

pub async fn credentials_by_username(db: &Db, username: &str) -> Result<StaffCredentials> {
    db_run!(db, pool => {
        sqlx::query_as::<_, StaffCredentials>(
            "SELECT id, role, store_id, status, password_hash FROM staff WHERE username = $1",
        )
        .bind(username)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

#[derive(Debug, Clone, Default)]
pub struct StaffFilter<'a> {
    pub store_id: Option<i64>,
    /// Only staff that belong to some store (store-bound callers never see HQ staff).
    pub store_bound_only: bool,
    pub role: Option<&'a str>,
    pub status: Option<&'a str>,
    pub q: Option<&'a str>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list(db: &Db, f: &StaffFilter<'_>) -> Result<(Vec<StaffRow>, i64)> {
    let like = f.q.map(like_pattern);
    let bound = i64::from(f.store_bound_only);
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, StaffRow>(concat!(
            staff_select!(),
            staff_where!(),
            " ORDER BY t.id LIMIT $6 OFFSET $7"
        ))
        .bind(f.store_id)
        .bind(f.role)
        .bind(like.as_deref())
        .bind(f.status)
        .bind(bound)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(pool)
        .await?;
        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*) FROM staff t", staff_where!()))
            .bind(f.store_id)
            .bind(f.role)
            .bind(like.as_deref())
            .bind(f.status)
            .bind(bound)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

#[derive(Debug, Clone)]
pub struct StaffUpdate<'a> {
    pub display_name: &'a str,
    pub role: &'a str,
    pub store_id: Option<i64>,
    pub status: &'a str,
}

pub async fn update(db: &Db, id: i64, u: &StaffUpdate<'_>, now: i64) -> Result<()> {
    in_own_tx!(db, update_in(id, u, now))
}

pub async fn update_in(tx: &mut Tx, id: i64, u: &StaffUpdate<'_>, now: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        let n = sqlx::query(
            "UPDATE staff SET display_name = $1, role = $2, store_id = $3, status = $4, \
             updated_at = $5 WHERE id = $6",
        )
        .bind(u.display_name)
        .bind(u.role)
        .bind(u.store_id)
        .bind(u.status)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "store_id"))?
        .rows_affected();
        // A disabled account must lose its sessions at once, in the same transaction.
        if u.status != "active" {
            sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        n
    });
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Set a new password hash and end every session of the account.
pub async fn set_password(db: &Db, id: i64, hash: &str, now: i64) -> Result<()> {
    in_own_tx!(db, set_password_in(id, hash, now))
}

/// Set a new password hash and end every session of the account, in the caller's transaction.
pub async fn set_password_in(tx: &mut Tx, id: i64, hash: &str, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        let n = sqlx::query("UPDATE staff SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// The active admins, their rows locked until the caller's transaction ends: two concurrent
/// changes that would each remove one of the last two admins are serialised, and the second
/// sees the first's result (PostgreSQL re-checks a locked row that changed, and drops it).
pub async fn lock_active_admins_in(tx: &mut Tx) -> Result<i64> {
    let sql = format!(
        "SELECT id FROM staff WHERE role = 'admin' AND status = 'active'{}",
        tx.row_lock()
    );
    let ids: Vec<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await?
    });
    Ok(ids.len() as i64)
}

pub async fn count_active_admins(db: &Db) -> Result<i64> {
    db_run!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE role = 'admin' AND status = 'active'")
            .fetch_one(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// The staff member with this WeCom userid, if any.
pub async fn by_wecom_userid(db: &Db, userid: &str) -> Result<Option<StaffRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, StaffRow>(concat!(staff_select!(), " WHERE t.wecom_userid = $1"))
            .bind(userid)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// The WeCom userid linked to the account `username` (`None`: no such account, or not linked).
pub async fn wecom_userid_of(db: &Db, username: &str) -> Result<Option<String>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT wecom_userid FROM staff WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(pool)
        .await?
        .flatten())
    })
}

/// Link (or unlink, with `None`) a staff account to a WeCom userid.
pub async fn set_wecom_userid(db: &Db, id: i64, userid: Option<&str>, now: i64) -> Result<()> {
    in_own_tx!(db, set_wecom_userid_in(id, userid, now))
}

pub async fn set_wecom_userid_in(
    tx: &mut Tx,
    id: i64,
    userid: Option<&str>,
    now: i64,
) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query("UPDATE staff SET wecom_userid = $1, updated_at = $2 WHERE id = $3")
            .bind(userid)
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::classify(e, "wecom_userid"))?
            .rows_affected()
    });
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Staff members linked to a WeCom userid, by display name (for transfer pickers).
pub async fn wecom_linked(db: &Db) -> Result<Vec<StaffRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, StaffRow>(concat!(
            staff_select!(),
            " WHERE t.wecom_userid IS NOT NULL AND t.wecom_userid <> '' ORDER BY t.display_name, t.id"
        ))
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}
