//! Regions and stores.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RegionRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub store_count: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct StoreRow {
    pub id: i64,
    pub region_id: Option<i64>,
    pub region_name: Option<String>,
    pub code: String,
    pub name: String,
    pub city: String,
    pub address: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub staff_count: i64,
}

/// Fields of a store as written.
#[derive(Debug, Clone)]
pub struct StoreFields<'a> {
    pub region_id: Option<i64>,
    pub code: &'a str,
    pub name: &'a str,
    pub city: &'a str,
    pub address: &'a str,
}

// SQL fragments are macros so `concat!` joins them at compile time into `'static` text.
macro_rules! region_select {
    () => {
        "SELECT r.id, r.name, r.created_at, \
         (SELECT COUNT(*) FROM stores s WHERE s.region_id = r.id) AS store_count FROM regions r"
    };
}

pub async fn create_region(db: &Db, name: &str, now: i64) -> Result<i64> {
    db_run!(db, pool => {
        sqlx::query_scalar("INSERT INTO regions (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(|e| StoreError::classify(e, "name"))
    })
}

pub async fn rename_region(db: &Db, id: i64, name: &str) -> Result<()> {
    let n = db_run!(db, pool => {
        sqlx::query("UPDATE regions SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(pool)
            .await
            .map_err(|e| StoreError::classify(e, "name"))?
            .rows_affected()
    });
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub async fn get_region(db: &Db, id: i64) -> Result<RegionRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, RegionRow>(concat!(region_select!(), " WHERE r.id = $1"))
            .bind(id)
            .fetch_one(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// Regions, optionally only the one containing `store_id` (for store-bound callers).
pub async fn list_regions(db: &Db, only_store: Option<i64>) -> Result<Vec<RegionRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, RegionRow>(concat!(
            region_select!(),
            " WHERE ($1 IS NULL OR r.id IN (SELECT region_id FROM stores WHERE id = $1)) ORDER BY r.id",
        ))
        .bind(only_store)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

macro_rules! store_select {
    () => {
        "SELECT s.id, s.region_id, r.name AS region_name, s.code, s.name, s.city, \
         s.address, s.created_at, s.updated_at, \
         (SELECT COUNT(*) FROM staff t WHERE t.store_id = s.id) AS staff_count \
         FROM stores s LEFT JOIN regions r ON r.id = s.region_id"
    };
}

macro_rules! store_where {
    () => {
        " WHERE ($1 IS NULL OR s.id = $1) AND ($2 IS NULL OR s.region_id = $2) \
         AND ($3 IS NULL OR s.code LIKE $3 ESCAPE '\\' OR s.name LIKE $3 ESCAPE '\\' \
         OR s.city LIKE $3 ESCAPE '\\')"
    };
}

pub async fn create_store(db: &Db, f: &StoreFields<'_>, now: i64) -> Result<i64> {
    db_run!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO stores (region_id, code, name, city, address, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(f.region_id)
        .bind(f.code)
        .bind(f.name)
        .bind(f.city)
        .bind(f.address)
        .bind(now)
        .fetch_one(pool)
        .await
        .map_err(|e| StoreError::classify(e, "code"))
    })
}

pub async fn update_store(db: &Db, id: i64, f: &StoreFields<'_>, now: i64) -> Result<()> {
    let n = db_run!(db, pool => {
        sqlx::query(
            "UPDATE stores SET region_id = $1, code = $2, name = $3, city = $4, address = $5, \
             updated_at = $6 WHERE id = $7",
        )
        .bind(f.region_id)
        .bind(f.code)
        .bind(f.name)
        .bind(f.city)
        .bind(f.address)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map_err(|e| StoreError::classify(e, "code"))?
        .rows_affected()
    });
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub async fn get_store(db: &Db, id: i64) -> Result<StoreRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, StoreRow>(concat!(store_select!(), " WHERE s.id = $1"))
            .bind(id)
            .fetch_one(pool)
            .await
            .map_err(StoreError::from)
    })
}

#[derive(Debug, Clone, Default)]
pub struct StoreFilter<'a> {
    /// Restrict to one store (store-bound callers).
    pub only_store: Option<i64>,
    pub region_id: Option<i64>,
    /// Substring of code, name or city.
    pub q: Option<&'a str>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list_stores(db: &Db, f: &StoreFilter<'_>) -> Result<(Vec<StoreRow>, i64)> {
    let like = f.q.map(like_pattern);
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, StoreRow>(concat!(store_select!(), store_where!(), " ORDER BY s.id LIMIT $4 OFFSET $5"))
            .bind(f.only_store)
            .bind(f.region_id)
            .bind(like.as_deref())
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*) FROM stores s", store_where!()))
            .bind(f.only_store)
            .bind(f.region_id)
            .bind(like.as_deref())
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

/// `%q%` with LIKE's wildcards (`%`, `_`) and the escape character in `q` escaped, so they
/// match themselves; every LIKE on such a pattern says `ESCAPE '\'` (SQLite has no default
/// escape character).
pub fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The id of the store with this (normalised, upper-case) code.
pub async fn find_store_by_code(db: &Db, code: &str) -> Result<Option<i64>> {
    db_run!(db, pool => {
        sqlx::query_scalar("SELECT id FROM stores WHERE code = $1")
            .bind(code)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from)
    })
}
