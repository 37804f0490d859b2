//! The event log: every customer's timeline.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct EventRow {
    pub id: i64,
    pub customer_id: i64,
    pub kind: String,
    pub client_id: Option<String>,
    pub occurred_at: i64,
    pub received_at: i64,
    pub staff_id: Option<i64>,
    pub detail: String,
}

/// An event from an integration, its customer already resolved.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub customer_id: i64,
    pub kind: &'a str,
    pub client_id: &'a str,
    pub occurred_at: i64,
    pub staff_id: Option<i64>,
    pub detail: &'a str,
}

/// Insert a batch atomically in one statement (one round trip). Returns, per event, whether
/// it was inserted now (`false`: its client id was already stored — a replay). Client ids
/// must be distinct within the batch (the use case refuses duplicates first).
///
/// PostgreSQL gets the rows as seven arrays through `UNNEST` — one prepared statement with
/// seven parameters whatever the batch size, instead of a 7,000-parameter `VALUES` list that
/// is parsed and planned anew for each batch size. SQLite gets a multi-row `VALUES` insert
/// (binding is cheap in-process).
pub async fn insert_batch(db: &Db, events: &[NewEvent<'_>], now: i64) -> Result<Vec<bool>> {
    insert_batch_fingerprinted(db, events, &vec![""; events.len()], now).await
}

/// [`insert_batch`] storing, per event, the fingerprint of its body as the client sent it
/// (`fingerprints[i]` for `events[i]`; empty: unknown). A replay with another body is found
/// by comparing it with [`stored_fingerprints`].
pub async fn insert_batch_fingerprinted(
    db: &Db,
    events: &[NewEvent<'_>],
    fingerprints: &[&str],
    now: i64,
) -> Result<Vec<bool>> {
    if events.len() != fingerprints.len() {
        return Err(StoreError::Refused {
            code: "bad_batch",
            message: "one fingerprint per event".into(),
        });
    }
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut inserted: std::collections::HashSet<String> = std::collections::HashSet::new();
    match db {
        Db::Postgres(pool) => {
            let n = events.len();
            let (mut customer, mut kind, mut client, mut occurred, mut staff, mut detail) = (
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
            );
            for e in events {
                customer.push(e.customer_id);
                kind.push(e.kind);
                client.push(e.client_id);
                occurred.push(e.occurred_at);
                staff.push(e.staff_id);
                detail.push(e.detail);
            }
            let ids: Vec<String> = sqlx::query_scalar(
                "INSERT INTO events (customer_id, kind, client_id, occurred_at, received_at, staff_id, detail, fingerprint) \
                 SELECT c, k, i, o, $5, s, d, f \
                 FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $6::bigint[], $7::text[], $8::text[]) \
                 AS u(c, k, i, o, s, d, f) \
                 ON CONFLICT (client_id) DO NOTHING RETURNING client_id",
            )
            .bind(&customer)
            .bind(&kind)
            .bind(&client)
            .bind(&occurred)
            .bind(now)
            .bind(&staff)
            .bind(&detail)
            .bind(fingerprints)
            .fetch_all(pool)
            .await?;
            inserted.extend(ids);
        }
        Db::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            // 8 parameters per row: 1,000 rows stay far below SQLite's limit.
            for (chunk, fps) in events.chunks(1000).zip(fingerprints.chunks(1000)) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO events (customer_id, kind, client_id, occurred_at, received_at, staff_id, detail, fingerprint) ",
                );
                qb.push_values(chunk.iter().zip(fps), |mut b, (e, fp)| {
                    b.push_bind(e.customer_id)
                        .push_bind(e.kind)
                        .push_bind(e.client_id)
                        .push_bind(e.occurred_at)
                        .push_bind(now)
                        .push_bind(e.staff_id)
                        .push_bind(e.detail)
                        .push_bind(*fp);
                });
                qb.push(" ON CONFLICT (client_id) DO NOTHING RETURNING client_id");
                let ids: Vec<String> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
                inserted.extend(ids);
            }
            tx.commit().await?;
        }
    }
    Ok(events
        .iter()
        .map(|e| inserted.remove(e.client_id))
        .collect())
}

/// The stored body fingerprints of these client event ids (`""` for events stored before
/// fingerprints were kept).
pub async fn stored_fingerprints(db: &Db, client_ids: &[&str]) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in client_ids.chunks(500) {
        let rows: Vec<(String, String)> = match db {
            Db::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT client_id, fingerprint FROM events WHERE client_id = ANY($1)",
                )
                .bind(chunk)
                .fetch_all(pool)
                .await?
            }
            Db::Sqlite(pool) => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT client_id, fingerprint FROM events WHERE client_id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(pool).await?
            }
        };
        out.extend(rows);
    }
    Ok(out)
}

macro_rules! timeline_where {
    () => {
        " WHERE customer_id = $1 AND ($2 IS NULL OR kind = $2)"
    };
}

pub async fn timeline(
    db: &Db,
    customer: i64,
    kind: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<EventRow>, i64)> {
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, EventRow>(concat!(
            "SELECT id, customer_id, kind, client_id, occurred_at, received_at, staff_id, detail FROM events",
            timeline_where!(),
            " ORDER BY occurred_at DESC, id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(customer)
        .bind(kind)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)?;
        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*) FROM events", timeline_where!()))
            .bind(customer)
            .bind(kind)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

/// Append one timeline event inside the caller's transaction.
pub async fn append_in(
    tx: &mut Tx,
    customer: i64,
    kind: &str,
    occurred_at: i64,
    staff: Option<i64>,
    detail: &str,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO events (customer_id, kind, occurred_at, received_at, staff_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(customer)
        .bind(kind)
        .bind(occurred_at)
        .bind(now)
        .bind(staff)
        .bind(detail)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}
