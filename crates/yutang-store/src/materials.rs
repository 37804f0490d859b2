//! The material library (migration 0037): folders and the materials in them. Tracked links
//! and their views live in [`crate::radar`].

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError, touched};
use crate::tx::Tx;

// ------------------------------------------------------------------ folders

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct FolderRow {
    pub id: i64,
    pub name: String,
    pub sort: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Active materials in the folder.
    pub materials: i64,
}

macro_rules! folder_select {
    () => {
        "SELECT f.id, f.name, f.sort, f.created_at, f.updated_at, \
         (SELECT COUNT(*) FROM materials m WHERE m.folder_id = f.id \
          AND m.status = 'active') AS materials FROM material_folders f"
    };
}

/// Every folder, by `sort` then name.
pub async fn folders(db: &Db) -> Result<Vec<FolderRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, FolderRow>(concat!(folder_select!(), " ORDER BY f.sort, f.name, f.id"))
            .fetch_all(pool)
            .await?)
    })
}

pub async fn get_folder(db: &Db, id: i64) -> Result<FolderRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, FolderRow>(concat!(folder_select!(), " WHERE f.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// A new folder; a name already taken is `Conflict { what: "name" }`.
pub async fn insert_folder_in(tx: &mut Tx, name: &str, sort: i64, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO material_folders (name, sort, created_at, updated_at) \
             VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(name)
        .bind(sort)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "name"))
    })
}

/// Rename or re-sort a folder; a name already taken is `Conflict { what: "name" }`.
pub async fn update_folder_in(tx: &mut Tx, id: i64, name: &str, sort: i64, now: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE material_folders SET name = $1, sort = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(name)
        .bind(sort)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "name"))?
        .rows_affected()
    });
    touched(n)
}

/// Delete a folder holding no active material: its archived materials are left without a
/// folder. Refused with `folder_not_empty` while an active material is in it (the guarded
/// DELETE is the backstop against a material filed at the same moment).
pub async fn delete_folder_in(tx: &mut Tx, id: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE materials SET folder_id = NULL WHERE folder_id = $1 AND status = 'archived'",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "DELETE FROM material_folders WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM materials m WHERE m.folder_id = $1)",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n > 0 {
        return Ok(());
    }
    let exists: Option<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT id FROM material_folders WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    });
    match exists {
        Some(_) => Err(StoreError::Refused {
            code: "folder_not_empty",
            message: "the folder holds active materials: move or archive them first".into(),
        }),
        None => Err(StoreError::NotFound),
    }
}

// ------------------------------------------------------------------ materials

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MaterialRow {
    pub id: i64,
    pub folder_id: Option<i64>,
    pub folder_name: Option<String>,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub media_id: Option<i64>,
    pub appid: Option<String>,
    pub page: Option<String>,
    /// JSON `["label", …]`.
    pub tags: String,
    pub status: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! material_select {
    () => {
        "SELECT m.id, m.folder_id, f.name AS folder_name, m.kind, m.title, m.body, m.url, \
         m.media_id, m.appid, m.page, m.tags, m.status, m.created_by, m.created_at, \
         m.updated_at FROM materials m LEFT JOIN material_folders f ON f.id = m.folder_id"
    };
}

/// A material to save (parsed and checked by the caller).
#[derive(Debug, Clone, Copy)]
pub struct NewMaterial<'a> {
    pub folder_id: Option<i64>,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub url: Option<&'a str>,
    pub media_id: Option<i64>,
    pub appid: Option<&'a str>,
    pub page: Option<&'a str>,
    /// JSON `["label", …]`.
    pub tags: &'a str,
}

pub async fn insert_in(tx: &mut Tx, m: &NewMaterial<'_>, by: Option<i64>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO materials (folder_id, kind, title, body, url, media_id, appid, page, \
             tags, status, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11, $11) RETURNING id",
        )
        .bind(m.folder_id)
        .bind(m.kind)
        .bind(m.title)
        .bind(m.body)
        .bind(m.url)
        .bind(m.media_id)
        .bind(m.appid)
        .bind(m.page)
        .bind(m.tags)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "folder_id"))
    })
}

/// Replace a material's editable fields (its status stays).
pub async fn update_in(tx: &mut Tx, id: i64, m: &NewMaterial<'_>, now: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE materials SET folder_id = $1, kind = $2, title = $3, body = $4, url = $5, \
             media_id = $6, appid = $7, page = $8, tags = $9, updated_at = $10 WHERE id = $11",
        )
        .bind(m.folder_id)
        .bind(m.kind)
        .bind(m.title)
        .bind(m.body)
        .bind(m.url)
        .bind(m.media_id)
        .bind(m.appid)
        .bind(m.page)
        .bind(m.tags)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "folder_id"))?
        .rows_affected()
    });
    touched(n)
}

/// Set a material `active` or `archived`; returns whether it changed (archiving an archived
/// material changes nothing). `NotFound` when there is no such material.
pub async fn set_status_in(tx: &mut Tx, id: i64, status: &str, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE materials SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1",
        )
        .bind(status)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n > 0 {
        return Ok(true);
    }
    let exists: Option<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT id FROM materials WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    });
    exists.map(|_| false).ok_or(StoreError::NotFound)
}

pub async fn get(db: &Db, id: i64) -> Result<MaterialRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, MaterialRow>(concat!(material_select!(), " WHERE m.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// What to list. Every filter is optional; `after` is the last id of the previous page.
#[derive(Debug, Clone, Default)]
pub struct MaterialFilter<'a> {
    pub folder_id: Option<i64>,
    pub kind: Option<&'a str>,
    /// One label the material carries, exactly (case and all).
    pub label: Option<&'a str>,
    /// Part of the title (LIKE's wildcards match themselves; ASCII letters in any case).
    pub q: Option<&'a str>,
    /// `active` or `archived`; both when `None`.
    pub status: Option<&'a str>,
    /// Only materials in no folder.
    pub unfiled: bool,
    pub after: Option<i64>,
}

/// Materials newest first (by id), at most `limit`.
pub async fn list(db: &Db, f: &MaterialFilter<'_>, limit: i64) -> Result<Vec<MaterialRow>> {
    // The label as it appears inside the stored JSON array, quotes included, so "春" does not
    // match "春季". `replace(…) <> tags` is a case-sensitive "contains" that reads the same on
    // both engines (SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
    let label = f
        .label
        .map(|l| serde_json::Value::String(l.to_owned()).to_string());
    let q = f.q.map(crate::org::like_pattern);
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, MaterialRow>(concat!(
            material_select!(),
            " WHERE ($1 IS NULL OR m.folder_id = $1) AND ($2 IS NULL OR m.kind = $2) \
             AND ($3 IS NULL OR replace(m.tags, $3, '') <> m.tags) \
             AND ($4 IS NULL OR LOWER(m.title) LIKE LOWER($4) ESCAPE '\\') \
             AND ($5 IS NULL OR m.status = $5) AND ($6 IS NULL OR m.id < $6) \
             AND ($8 = 0 OR m.folder_id IS NULL) \
             ORDER BY m.id DESC LIMIT $7"
        ))
        .bind(f.folder_id)
        .bind(f.kind)
        .bind(label.as_deref())
        .bind(q.as_deref())
        .bind(f.status)
        .bind(f.after)
        .bind(limit)
        .bind(i64::from(f.unfiled))
        .fetch_all(pool)
        .await?)
    })
}
