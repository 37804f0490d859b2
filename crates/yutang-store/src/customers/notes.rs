//! Customer notes (跟进记录, migration 0045): written once inside the caller's transaction
//! (once per client key, when one is given), listed newest first by `(created_at, id)` with
//! a keyset position. A merge moves them with the customer ([`super::move_customer_in`]).

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::Result;
use crate::tx::Tx;

/// A note as listed: its row with its author's current name.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct NoteRow {
    pub id: i64,
    pub customer_id: i64,
    /// The staff member who wrote it; `None` when an API token did.
    pub staff_id: Option<i64>,
    /// The staff member's display name, else the author as the audit log names them.
    pub staff_name: String,
    pub body: String,
    pub created_at: i64,
    /// The fingerprint of the keyed request that wrote it (`""` without a key).
    #[serde(skip)]
    pub fingerprint: String,
}

macro_rules! note_select {
    () => {
        "SELECT n.id, n.customer_id, n.staff_id, \
         COALESCE(NULLIF(s.display_name, ''), n.author) AS staff_name, n.body, n.created_at, \
         n.fingerprint FROM customer_notes n LEFT JOIN staff s ON s.id = n.staff_id"
    };
}

/// A note to save (parsed and checked by the caller).
#[derive(Debug, Clone, Copy)]
pub struct NewNote<'a> {
    pub customer_id: i64,
    pub staff_id: Option<i64>,
    pub author: &'a str,
    pub body: &'a str,
    /// The caller-namespaced idempotency key, if any.
    pub source_key: Option<&'a str>,
    pub fingerprint: &'a str,
}

/// Save a note: `Some(id)` when it is new, `None` when a note with its source key exists
/// (written by a concurrent twin of the request, which the caller replays).
pub async fn insert_in(tx: &mut Tx, n: &NewNote<'_>, now: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO customer_notes (customer_id, staff_id, author, body, source_key, \
             fingerprint, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (source_key) DO NOTHING RETURNING id",
        )
        .bind(n.customer_id)
        .bind(n.staff_id)
        .bind(n.author)
        .bind(n.body)
        .bind(n.source_key)
        .bind(n.fingerprint)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// The note saved under a source key, read in the caller's transaction.
pub async fn by_key_in(tx: &mut Tx, key: &str) -> Result<Option<NoteRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, NoteRow>(concat!(note_select!(), " WHERE n.source_key = $1"))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// A note by id, read in the caller's transaction.
pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<NoteRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, NoteRow>(concat!(note_select!(), " WHERE n.id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// The customer's notes, newest first, at most `limit`; with `before`, only those after
/// that note of the customer's in this order (`None`: no such note of this customer).
pub async fn list(
    db: &Db,
    customer: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Option<Vec<NoteRow>>> {
    db_run!(db, pool => {
        let position: Option<(i64, i64)> = match before {
            None => None,
            Some(b) => {
                let p: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT created_at, id FROM customer_notes WHERE id = $1 AND customer_id = $2",
                )
                .bind(b)
                .bind(customer)
                .fetch_optional(pool)
                .await?;
                match p {
                    Some(p) => Some(p),
                    None => return Ok(None),
                }
            }
        };
        let rows = match position {
            None => {
                sqlx::query_as::<_, NoteRow>(concat!(
                    note_select!(),
                    " WHERE n.customer_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT $2"
                ))
                .bind(customer)
                .bind(limit)
                .fetch_all(pool)
                .await?
            }
            Some((at, id)) => {
                sqlx::query_as::<_, NoteRow>(concat!(
                    note_select!(),
                    " WHERE n.customer_id = $1 \
                     AND (n.created_at < $2 OR (n.created_at = $2 AND n.id < $3)) \
                     ORDER BY n.created_at DESC, n.id DESC LIMIT $4"
                ))
                .bind(customer)
                .bind(at)
                .bind(id)
                .bind(limit)
                .fetch_all(pool)
                .await?
            }
        };
        Ok(Some(rows))
    })
}
