//! Consultant choice and service ratings (专属顾问与服务评价, migration 0044): a customer's
//! consultant and their store's guides, the choice log, what a customer may rate, the ratings
//! (once per subject and customer, a second insert adds nothing) and their averages.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// A staff member as a consultant: `(id, display name, role, status, store, store name,
/// WeCom userid)`.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GuideRow {
    pub id: i64,
    pub display_name: String,
    pub role: String,
    pub status: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub wecom_userid: Option<String>,
}

macro_rules! guide_select {
    () => {
        "SELECT s.id, s.display_name, s.role, s.status, s.store_id, st.name AS store_name, \
         s.wecom_userid FROM staff s LEFT JOIN stores st ON st.id = s.store_id"
    };
}

/// The customer's consultant: the guide who owns an active follow of theirs.
pub async fn consultant(db: &Db, customer: i64) -> Result<Option<GuideRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GuideRow>(concat!(
            guide_select!(),
            " JOIN follows f ON f.staff_id = s.id WHERE f.customer_id = $1 \
             AND f.state = 'active' AND f.is_owner = $2 ORDER BY f.id LIMIT 1"
        ))
        .bind(customer)
        .bind(true)
        .fetch_optional(pool)
        .await?)
    })
}

/// [`consultant`] in the caller's transaction.
pub async fn consultant_in(tx: &mut Tx, customer: i64) -> Result<Option<GuideRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, GuideRow>(concat!(
            guide_select!(),
            " JOIN follows f ON f.staff_id = s.id WHERE f.customer_id = $1 \
             AND f.state = 'active' AND f.is_owner = $2 ORDER BY f.id LIMIT 1"
        ))
        .bind(customer)
        .bind(true)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// The store of the customer's earliest active follow (for a customer without a consultant).
pub async fn follow_store(db: &Db, customer: i64) -> Result<Option<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT s.store_id FROM follows f JOIN staff s ON s.id = f.staff_id \
             WHERE f.customer_id = $1 AND f.state = 'active' AND s.store_id IS NOT NULL \
             ORDER BY f.id LIMIT 1",
        )
        .bind(customer)
        .fetch_optional(pool)
        .await?
        .flatten())
    })
}

pub async fn guide(db: &Db, id: i64) -> Result<Option<GuideRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GuideRow>(concat!(guide_select!(), " WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?)
    })
}

pub async fn guide_in(tx: &mut Tx, id: i64) -> Result<Option<GuideRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, GuideRow>(concat!(guide_select!(), " WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// The active guides of `store`, by name.
pub async fn store_guides(db: &Db, store: i64) -> Result<Vec<GuideRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GuideRow>(concat!(
            guide_select!(),
            " WHERE s.store_id = $1 AND s.role = 'guide' AND s.status = 'active' \
             ORDER BY s.display_name, s.id"
        ))
        .bind(store)
        .fetch_all(pool)
        .await?)
    })
}

/// The state of the follow between `customer` and `staff`, if there is one.
pub async fn follow_state_in(tx: &mut Tx, customer: i64, staff: i64) -> Result<Option<String>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "SELECT state FROM follows WHERE customer_id = $1 AND staff_id = $2",
        )
        .bind(customer)
        .bind(staff)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// The customer's display name (empty when unknown).
pub async fn customer_name_in(tx: &mut Tx, customer: i64) -> Result<String> {
    in_tx!(tx, conn => {
        let n: Option<Option<String>> =
            sqlx::query_scalar("SELECT name FROM customers WHERE id = $1")
                .bind(customer)
                .fetch_optional(&mut *conn)
                .await?;
        Ok(n.flatten().unwrap_or_default())
    })
}

// ---------------------------------------------------------------- consultant changes

/// A consultant change as stored.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ChangeRow {
    pub id: i64,
    pub customer_id: i64,
    pub from_staff_id: Option<i64>,
    pub to_staff_id: i64,
    pub store_id: Option<i64>,
    pub status: String,
    pub task_id: Option<i64>,
    pub fingerprint: String,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

macro_rules! change_select {
    () => {
        "SELECT id, customer_id, from_staff_id, to_staff_id, store_id, status, task_id, \
         fingerprint, created_at, done_at FROM consultant_changes"
    };
}

/// A change to save.
#[derive(Debug, Clone, Copy)]
pub struct NewChange<'a> {
    pub customer_id: i64,
    pub from_staff_id: Option<i64>,
    pub to_staff_id: i64,
    pub store_id: Option<i64>,
    /// `done` or `pending`.
    pub status: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub fingerprint: &'a str,
}

/// Save a change: `None` when its idempotency key is taken (a concurrent replay).
pub async fn insert_change_in(tx: &mut Tx, c: &NewChange<'_>, now: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO consultant_changes (customer_id, from_staff_id, to_staff_id, store_id, \
             status, idempotency_key, fingerprint, created_at, done_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $5 = 'done' THEN $8 END) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(c.customer_id)
        .bind(c.from_staff_id)
        .bind(c.to_staff_id)
        .bind(c.store_id)
        .bind(c.status)
        .bind(c.idempotency_key)
        .bind(c.fingerprint)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

pub async fn set_change_task_in(tx: &mut Tx, id: i64, task: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("UPDATE consultant_changes SET task_id = $1 WHERE id = $2")
            .bind(task)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

/// The change a client's (namespaced) key made, if any.
pub async fn change_by_key(db: &Db, key: &str) -> Result<Option<ChangeRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ChangeRow>(concat!(change_select!(), " WHERE idempotency_key = $1"))
            .bind(key)
            .fetch_optional(pool)
            .await?)
    })
}

/// The customer's pending change, if any.
pub async fn pending_change(db: &Db, customer: i64) -> Result<Option<ChangeRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ChangeRow>(concat!(
            change_select!(),
            " WHERE customer_id = $1 AND status = 'pending' ORDER BY id DESC LIMIT 1"
        ))
        .bind(customer)
        .fetch_optional(pool)
        .await?)
    })
}

/// Supersede the customer's pending changes (a new choice replaces them).
pub async fn supersede_pending_in(tx: &mut Tx, customer: i64, now: i64) -> Result<u64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query(
            "UPDATE consultant_changes SET status = 'superseded', done_at = $1 \
             WHERE customer_id = $2 AND status = 'pending'",
        )
        .bind(now)
        .bind(customer)
        .execute(&mut *conn)
        .await?
        .rows_affected())
    })
}

/// Complete the customer's pending change to `staff` (a guarded update): `true` when there
/// was one.
pub async fn complete_pending_in(tx: &mut Tx, customer: i64, staff: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE consultant_changes SET status = 'done', done_at = $1 \
             WHERE customer_id = $2 AND to_staff_id = $3 AND status = 'pending'",
        )
        .bind(now)
        .bind(customer)
        .bind(staff)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

// ---------------------------------------------------------------- what to rate

/// Something the customer may rate: `(kind, id, staff, staff name, title, at)`.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RatableRow {
    pub subject_kind: String,
    pub subject_id: i64,
    pub staff_id: Option<i64>,
    pub staff_name: Option<String>,
    /// The task's title, or the order's external id.
    pub title: String,
    /// When the task was done, or the order paid.
    pub at: i64,
    pub amount_fen: Option<i64>,
}

/// The customer's done guide tasks since `since` not yet rated, newest first.
pub async fn ratable_tasks(
    db: &Db,
    customer: i64,
    since: i64,
    limit: i64,
) -> Result<Vec<RatableRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RatableRow>(
            "SELECT 'task' AS subject_kind, t.id AS subject_id, t.staff_id AS staff_id, \
             s.display_name AS staff_name, t.title AS title, \
             CAST(COALESCE(t.done_at, t.created_at) AS BIGINT) AS at, \
             CAST(NULL AS BIGINT) AS amount_fen \
             FROM guide_tasks t LEFT JOIN staff s ON s.id = t.staff_id \
             WHERE t.customer_id = $1 AND t.state = 'done' AND t.done_at >= $2 \
             AND NOT EXISTS (SELECT 1 FROM service_ratings r WHERE r.subject_kind = 'task' \
               AND r.subject_id = t.id AND r.customer_id = $1) \
             ORDER BY t.done_at DESC, t.id DESC LIMIT $3",
        )
        .bind(customer)
        .bind(since)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// The customer's orders paid since `since`, not fully refunded and not yet rated, newest
/// first (the staff is the order's guide, when it has one).
pub async fn ratable_orders(
    db: &Db,
    customer: i64,
    since: i64,
    limit: i64,
) -> Result<Vec<RatableRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RatableRow>(
            "SELECT 'order' AS subject_kind, o.id AS subject_id, o.guide_id AS staff_id, \
             s.display_name AS staff_name, o.external_id AS title, o.paid_at AS at, \
             o.amount AS amount_fen \
             FROM orders o LEFT JOIN staff s ON s.id = o.guide_id \
             WHERE o.customer_id = $1 AND o.paid_at >= $2 AND o.status <> 'refunded' \
             AND NOT EXISTS (SELECT 1 FROM service_ratings r WHERE r.subject_kind = 'order' \
               AND r.subject_id = o.id AND r.customer_id = $1) \
             ORDER BY o.paid_at DESC, o.id DESC LIMIT $3",
        )
        .bind(customer)
        .bind(since)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// A guide task as a subject: `(customer, guide, state)`.
pub async fn task_subject_in(tx: &mut Tx, id: i64) -> Result<Option<(Option<i64>, i64, String)>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as("SELECT customer_id, staff_id, state FROM guide_tasks WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// An order as a subject: `(customer, guide, status)`.
pub async fn order_subject_in(tx: &mut Tx, id: i64) -> Result<Option<(i64, Option<i64>, String)>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as("SELECT customer_id, guide_id, status FROM orders WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

// ---------------------------------------------------------------- ratings

/// A rating as listed, with the names it points at.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RatingRow {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: Option<String>,
    pub staff_id: i64,
    pub staff_name: Option<String>,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub subject_kind: String,
    pub subject_id: i64,
    pub score: i64,
    pub comment: String,
    pub fingerprint: String,
    pub low: bool,
    pub created_at: i64,
}

macro_rules! rating_select {
    () => {
        "SELECT r.id, r.customer_id, c.name AS customer_name, r.staff_id, \
         s.display_name AS staff_name, r.store_id, st.name AS store_name, r.subject_kind, \
         r.subject_id, r.score, r.comment, r.fingerprint, r.low, r.created_at \
         FROM service_ratings r \
         LEFT JOIN customers c ON c.id = r.customer_id \
         LEFT JOIN staff s ON s.id = r.staff_id \
         LEFT JOIN stores st ON st.id = r.store_id"
    };
}

/// A rating to save (parsed and checked by the caller).
#[derive(Debug, Clone, Copy)]
pub struct NewRating<'a> {
    pub customer_id: i64,
    pub staff_id: i64,
    pub store_id: Option<i64>,
    pub subject_kind: &'a str,
    pub subject_id: i64,
    pub score: i64,
    pub comment: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub fingerprint: &'a str,
    pub low: bool,
}

/// Save a rating once: `Some(id)` when it is new, `None` when the customer rated this subject
/// already or the key is taken (the caller reads what is there).
pub async fn insert_in(tx: &mut Tx, r: &NewRating<'_>, now: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO service_ratings (customer_id, staff_id, store_id, subject_kind, \
             subject_id, score, comment, idempotency_key, fingerprint, low, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(r.customer_id)
        .bind(r.staff_id)
        .bind(r.store_id)
        .bind(r.subject_kind)
        .bind(r.subject_id)
        .bind(r.score)
        .bind(r.comment)
        .bind(r.idempotency_key)
        .bind(r.fingerprint)
        .bind(r.low)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<RatingRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, RatingRow>(concat!(rating_select!(), " WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<RatingRow> {
    in_tx!(tx, conn => {
        sqlx::query_as::<_, RatingRow>(concat!(rating_select!(), " WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The customer's rating of a subject, if any.
pub async fn by_subject(
    db: &Db,
    kind: &str,
    subject: i64,
    customer: i64,
) -> Result<Option<RatingRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RatingRow>(concat!(
            rating_select!(),
            " WHERE r.subject_kind = $1 AND r.subject_id = $2 AND r.customer_id = $3"
        ))
        .bind(kind)
        .bind(subject)
        .bind(customer)
        .fetch_optional(pool)
        .await?)
    })
}

/// The rating a client's (namespaced) key made, if any.
pub async fn by_key(db: &Db, key: &str) -> Result<Option<RatingRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RatingRow>(concat!(rating_select!(), " WHERE r.idempotency_key = $1"))
            .bind(key)
            .fetch_optional(pool)
            .await?)
    })
}

/// What to list; the scope is the caller's (`staff_id` for a guide, `store_id` for a store
/// manager).
#[derive(Debug, Clone, Default)]
pub struct RatingFilter {
    pub staff_id: Option<i64>,
    pub store_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub max_score: Option<i64>,
    pub since: Option<i64>,
    /// The last id of the previous page.
    pub before: Option<i64>,
}

/// Ratings newest first (by id), at most `limit`.
pub async fn list(db: &Db, f: &RatingFilter, limit: i64) -> Result<Vec<RatingRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RatingRow>(concat!(
            rating_select!(),
            " WHERE ($1 IS NULL OR r.staff_id = $1) AND ($2 IS NULL OR r.store_id = $2) \
             AND ($3 IS NULL OR r.customer_id = $3) AND ($4 IS NULL OR r.score <= $4) \
             AND ($5 IS NULL OR r.created_at >= $5) AND ($6 IS NULL OR r.id < $6) \
             ORDER BY r.id DESC LIMIT $7"
        ))
        .bind(f.staff_id)
        .bind(f.store_id)
        .bind(f.customer_id)
        .bind(f.max_score)
        .bind(f.since)
        .bind(f.before)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// One group of the ranking: `(key, name, store, store name, count, sum of scores, low
/// ratings)`.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SummaryRow {
    pub key_id: Option<i64>,
    pub name: Option<String>,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub count: i64,
    pub score_sum: i64,
    pub low_count: i64,
}

/// Counts and sums by rated guide, within the filter (its `before` is ignored).
pub async fn summary_by_staff(db: &Db, f: &RatingFilter) -> Result<Vec<SummaryRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SummaryRow>(
            "SELECT r.staff_id AS key_id, s.display_name AS name, s.store_id AS store_id, \
             st.name AS store_name, COUNT(*) AS count, \
             CAST(SUM(r.score) AS BIGINT) AS score_sum, \
             CAST(SUM(CASE WHEN r.low THEN 1 ELSE 0 END) AS BIGINT) AS low_count \
             FROM service_ratings r LEFT JOIN staff s ON s.id = r.staff_id \
             LEFT JOIN stores st ON st.id = s.store_id \
             WHERE ($1 IS NULL OR r.staff_id = $1) AND ($2 IS NULL OR r.store_id = $2) \
             AND ($3 IS NULL OR r.score <= $3) AND ($4 IS NULL OR r.created_at >= $4) \
             GROUP BY r.staff_id, s.display_name, s.store_id, st.name",
        )
        .bind(f.staff_id)
        .bind(f.store_id)
        .bind(f.max_score)
        .bind(f.since)
        .fetch_all(pool)
        .await?)
    })
}

/// Counts and sums by the rated guide's store then, within the filter.
pub async fn summary_by_store(db: &Db, f: &RatingFilter) -> Result<Vec<SummaryRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SummaryRow>(
            "SELECT r.store_id AS key_id, st.name AS name, r.store_id AS store_id, \
             st.name AS store_name, COUNT(*) AS count, \
             CAST(SUM(r.score) AS BIGINT) AS score_sum, \
             CAST(SUM(CASE WHEN r.low THEN 1 ELSE 0 END) AS BIGINT) AS low_count \
             FROM service_ratings r LEFT JOIN stores st ON st.id = r.store_id \
             WHERE ($1 IS NULL OR r.staff_id = $1) AND ($2 IS NULL OR r.store_id = $2) \
             AND ($3 IS NULL OR r.score <= $3) AND ($4 IS NULL OR r.created_at >= $4) \
             GROUP BY r.store_id, st.name",
        )
        .bind(f.staff_id)
        .bind(f.store_id)
        .bind(f.max_score)
        .bind(f.since)
        .fetch_all(pool)
        .await?)
    })
}

/// The averages of several guides at once: `(staff, count, sum)`.
pub async fn staff_totals(db: &Db, staff: &[i64]) -> Result<Vec<(i64, i64, i64)>> {
    let mut out = Vec::with_capacity(staff.len());
    for s in staff {
        let (count, sum): (i64, i64) = db_run!(db, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), CAST(COALESCE(SUM(score), 0) AS BIGINT) \
                 FROM service_ratings WHERE staff_id = $1",
            )
            .bind(*s)
            .fetch_one(pool)
            .await?
        });
        out.push((*s, count, sum));
    }
    Ok(out)
}

/// For the demo: `(customer, owner, owner's store)` of owned active follows, oldest first.
pub async fn owned_follows(db: &Db, limit: i64) -> Result<Vec<(i64, i64, Option<i64>)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT f.customer_id, f.staff_id, s.store_id FROM follows f \
             JOIN staff s ON s.id = f.staff_id \
             WHERE f.state = 'active' AND f.is_owner = $1 AND s.role = 'guide' \
             ORDER BY f.id LIMIT $2",
        )
        .bind(true)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// One consultant change.
pub async fn change(db: &Db, id: i64) -> Result<ChangeRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, ChangeRow>(concat!(change_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}
