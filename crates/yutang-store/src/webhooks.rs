//! Outbound webhooks: subscriptions, their deliveries and the follower's position in the
//! event log (migration 0028). Data access only; the app crate decides what to send.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError, touched};
use crate::tx::Tx;

pub use crate::feed::{FeedEvent, FeedPosition};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SubscriptionRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    /// JSON array of kinds.
    pub kinds: String,
    pub status: String,
    pub paused_reason: String,
    pub consecutive_failures: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Deliveries waiting (due or backing off).
    pub pending: i64,
    /// Deliveries given up after the last attempt.
    pub failed: i64,
    /// When the last delivery succeeded.
    pub last_delivered_at: Option<i64>,
}

macro_rules! subscription_select {
    () => {
        "SELECT s.id, s.name, s.url, s.kinds, s.status, s.paused_reason, s.consecutive_failures, \
         s.created_by, s.created_at, s.updated_at, \
         (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending') AS pending, \
         (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'failed') AS failed, \
         (SELECT MAX(d.delivered_at) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status = 'delivered') AS last_delivered_at \
         FROM webhook_subscriptions s"
    };
}

#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub kinds: &'a str,
    pub secret_sealed: &'a str,
    pub created_by: Option<i64>,
    pub now: i64,
}

pub async fn create_in(tx: &mut Tx, s: &NewSubscription<'_>) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO webhook_subscriptions (name, url, kinds, secret_sealed, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(s.name)
        .bind(s.url)
        .bind(s.kinds)
        .bind(s.secret_sealed)
        .bind(s.created_by)
        .bind(s.now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "webhook"))
    })
}

/// Every subscription not deleted, newest first.
pub async fn list(db: &Db) -> Result<Vec<SubscriptionRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, SubscriptionRow>(concat!(
            subscription_select!(),
            " WHERE s.archived_at IS NULL ORDER BY s.id DESC"
        ))
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// A subscription not deleted (`NotFound` otherwise).
pub async fn get(db: &Db, id: i64) -> Result<SubscriptionRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, SubscriptionRow>(concat!(
            subscription_select!(),
            " WHERE s.id = $1 AND s.archived_at IS NULL"
        ))
        .bind(id)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// Lock a live subscription's row until commit and answer its status (`NotFound`: none, or
/// deleted).
pub async fn lock_in(tx: &mut Tx, id: i64) -> Result<String> {
    let sql = format!(
        "SELECT status FROM webhook_subscriptions WHERE id = $1 AND archived_at IS NULL{}",
        tx.row_lock()
    );
    in_tx!(tx, conn => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .map_err(StoreError::from)
    })
}

pub async fn update_in(
    tx: &mut Tx,
    id: i64,
    name: &str,
    url: &str,
    kinds: &str,
    now: i64,
) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE webhook_subscriptions SET name = $2, url = $3, kinds = $4, updated_at = $5 \
             WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(name)
        .bind(url)
        .bind(kinds)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    touched(n)
}

/// Set the status (active or paused) and its reason; resuming clears the failure count.
pub async fn set_status_in(
    tx: &mut Tx,
    id: i64,
    status: &str,
    reason: &str,
    now: i64,
) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE webhook_subscriptions SET status = $2, paused_reason = $3, updated_at = $4, \
             consecutive_failures = CASE WHEN $2 = 'active' THEN 0 ELSE consecutive_failures END \
             WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(status)
        .bind(reason)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    touched(n)
}

pub async fn set_secret_in(tx: &mut Tx, id: i64, secret_sealed: &str, now: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE webhook_subscriptions SET secret_sealed = $2, updated_at = $3 \
             WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(secret_sealed)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    touched(n)
}

/// Delete a subscription: it stops receiving events and its waiting deliveries are not
/// sent; its delivery log stays.
pub async fn archive_in(tx: &mut Tx, id: i64, now: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE webhook_subscriptions SET archived_at = $2, updated_at = $2 \
             WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    touched(n)
}

/// Every sealed secret by subscription id (deleted ones included): `yutang db copy`
/// re-seals them for the destination's key.
pub async fn sealed_secrets(db: &Db) -> Result<Vec<(i64, String)>> {
    db_run!(db, pool => {
        sqlx::query_as("SELECT id, secret_sealed FROM webhook_subscriptions ORDER BY id")
            .fetch_all(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// Overwrite one sealed secret as it is (no `updated_at`: a re-seal is not an edit).
pub async fn put_sealed_secret(db: &Db, id: i64, sealed: &str) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE webhook_subscriptions SET secret_sealed = $2 WHERE id = $1")
            .bind(id)
            .bind(sealed)
            .execute(pool)
            .await?;
        Ok(())
    })
}

// ------------------------------------------------------------------ the follower

/// A subscription as the follower fans out to it.
#[derive(Debug, Clone, FromRow)]
pub struct FanoutTarget {
    pub id: i64,
    pub kinds: String,
    pub created_at: i64,
}

/// Every live subscription (active or paused: a paused one keeps its events queued).
pub async fn fanout_targets_in(tx: &mut Tx) -> Result<Vec<FanoutTarget>> {
    in_tx!(tx, conn => {
        sqlx::query_as::<_, FanoutTarget>(
            "SELECT id, kinds, created_at FROM webhook_subscriptions WHERE archived_at IS NULL ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::from)
    })
}

/// A delivery to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub subscription_id: i64,
    pub event_ref: String,
    pub event_kind: String,
    pub payload: String,
}

/// Queue deliveries, due now; one already queued for the same subscription and event is
/// left as it is. Returns how many were queued now.
pub async fn insert_deliveries_in(tx: &mut Tx, rows: &[NewDelivery], now: i64) -> Result<u64> {
    let mut n = 0;
    for chunk in rows.chunks(500) {
        in_tx!(tx, DB, conn => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO webhook_deliveries (subscription_id, event_ref, event_kind, payload, next_attempt_at, created_at) ",
            );
            qb.push_values(chunk, |mut b, d| {
                b.push_bind(d.subscription_id)
                    .push_bind(d.event_ref.clone())
                    .push_bind(d.event_kind.clone())
                    .push_bind(d.payload.clone())
                    .push_bind(now)
                    .push_bind(now);
            });
            qb.push(" ON CONFLICT (subscription_id, event_ref) DO NOTHING");
            n += qb.build().execute(&mut *conn).await?.rows_affected();
        });
    }
    Ok(n)
}

// ------------------------------------------------------------------ sending

/// A delivery claimed for an attempt, with what sending it needs.
#[derive(Debug, Clone, FromRow)]
pub struct DueDelivery {
    pub id: i64,
    pub subscription_id: i64,
    pub event_ref: String,
    pub event_kind: String,
    pub payload: String,
    /// Attempts including this one.
    pub attempts: i64,
    pub url: String,
    pub secret_sealed: String,
}

/// Claim up to `limit` due deliveries of active subscriptions for an attempt: each gets its
/// attempt counted and `next_attempt_at` pushed to `lease_until`, so if this sender dies the
/// delivery is due again then. Concurrent senders (other nodes) skip each other's rows.
pub async fn claim_due(
    db: &Db,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<DueDelivery>> {
    let skip = match db {
        Db::Postgres(_) => " FOR UPDATE OF d SKIP LOCKED",
        Db::Sqlite(_) => "",
    };
    let sql = format!(
        "WITH due AS (SELECT d.id FROM webhook_deliveries d \
           JOIN webhook_subscriptions s ON s.id = d.subscription_id \
           WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
             AND s.status = 'active' AND s.archived_at IS NULL \
           ORDER BY d.next_attempt_at, d.id LIMIT $3{skip}), \
         claimed AS (UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2, last_attempt_at = $1 \
           WHERE id IN (SELECT id FROM due) AND status = 'pending' \
           RETURNING id, subscription_id, event_ref, event_kind, payload, attempts) \
         SELECT c.id, c.subscription_id, c.event_ref, c.event_kind, c.payload, c.attempts, s.url, s.secret_sealed \
         FROM claimed c JOIN webhook_subscriptions s ON s.id = c.subscription_id ORDER BY c.id"
    );
    match db {
        Db::Postgres(pool) => Ok(sqlx::query_as::<_, DueDelivery>(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .fetch_all(pool)
            .await?),
        Db::Sqlite(pool) => {
            // SQLite has no data-modifying CTEs: claim in a write transaction, then read.
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2, last_attempt_at = $1 \
                 WHERE id IN (SELECT d.id FROM webhook_deliveries d \
                   JOIN webhook_subscriptions s ON s.id = d.subscription_id \
                   WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
                     AND s.status = 'active' AND s.archived_at IS NULL \
                   ORDER BY d.next_attempt_at, d.id LIMIT $3) \
                 RETURNING id",
            )
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT d.id, d.subscription_id, d.event_ref, d.event_kind, d.payload, d.attempts, s.url, s.secret_sealed \
                     FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(") ORDER BY d.id");
                out.extend(
                    qb.build_query_as::<DueDelivery>()
                        .fetch_all(&mut *tx)
                        .await?,
                );
            }
            tx.commit().await?;
            Ok(out)
        }
    }
}

/// How one attempt ended.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub id: i64,
    pub subscription_id: i64,
    /// The attempt number this outcome is for (a stale outcome — the delivery was claimed
    /// again meanwhile — changes nothing).
    pub attempt: i64,
    pub http_status: Option<i64>,
    pub error: String,
    /// `Some`: failed, retry at this time; `None` with `delivered` false: failed for good.
    pub retry_at: Option<i64>,
    pub delivered: bool,
}

/// Record attempts' outcomes and keep each subscription's run of consecutive failures.
/// Returns the subscriptions whose run is now at least `pause_after` and that were paused
/// here (with `reason`), so the caller can raise the alert once.
///
/// Successes, the bulk of a round, are written with one statement on PostgreSQL (`UNNEST`
/// over the round's ids) instead of one round trip each; failures row by row. The runs are
/// then worked out per subscription in the outcomes' order, as if each had been applied in
/// turn: a success resets the run, each failure after it adds one. An outcome for an attempt
/// that is no longer the delivery's current one (it was claimed again) changes nothing.
pub async fn record_outcomes(
    db: &Db,
    outcomes: &[AttemptOutcome],
    now: i64,
    pause_after: i64,
    reason: &str,
) -> Result<Vec<i64>> {
    let mut tx = db.begin().await?;
    let delivered: Vec<&AttemptOutcome> = outcomes.iter().filter(|o| o.delivered).collect();
    let mut changed: std::collections::HashSet<i64> = std::collections::HashSet::new();
    match &mut tx {
        Tx::Postgres(conn) if !delivered.is_empty() => {
            let ids: Vec<i64> = delivered.iter().map(|o| o.id).collect();
            let attempts: Vec<i64> = delivered.iter().map(|o| o.attempt).collect();
            let statuses: Vec<Option<i64>> = delivered.iter().map(|o| o.http_status).collect();
            let done: Vec<i64> = sqlx::query_scalar(
                "UPDATE webhook_deliveries d SET status = 'delivered', delivered_at = $1, last_status = u.http_status, \
                 last_error = '', next_attempt_at = $1 \
                 FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[]) AS u(id, attempt, http_status) \
                 WHERE d.id = u.id AND d.status = 'pending' AND d.attempts = u.attempt RETURNING d.id",
            )
            .bind(now)
            .bind(&ids)
            .bind(&attempts)
            .bind(&statuses)
            .fetch_all(&mut **conn)
            .await?;
            changed.extend(done);
        }
        _ => {
            for o in &delivered {
                let n = in_tx!(&mut tx, conn => {
                    sqlx::query(
                        "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $2, last_status = $3, \
                         last_error = '', next_attempt_at = $2 WHERE id = $1 AND status = 'pending' AND attempts = $4",
                    )
                    .bind(o.id)
                    .bind(now)
                    .bind(o.http_status)
                    .bind(o.attempt)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
                });
                if n > 0 {
                    changed.insert(o.id);
                }
            }
        }
    }
    for o in outcomes.iter().filter(|o| !o.delivered) {
        let n = in_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE webhook_deliveries SET status = CASE WHEN $4 IS NULL THEN 'failed' ELSE 'pending' END, \
                 next_attempt_at = COALESCE($4, next_attempt_at), last_status = $2, last_error = $3 \
                 WHERE id = $1 AND status = 'pending' AND attempts = $5",
            )
            .bind(o.id)
            .bind(o.http_status)
            .bind(&o.error)
            .bind(o.retry_at)
            .bind(o.attempt)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if n > 0 {
            changed.insert(o.id);
        }
    }
    let applied: Vec<(i64, bool)> = outcomes
        .iter()
        .filter(|o| changed.contains(&o.id))
        .map(|o| (o.subscription_id, o.delivered))
        .collect();
    let runs = run_changes(&applied);
    let mut paused = Vec::new();
    for (subscription, reset, failures) in runs {
        in_tx!(&mut tx, conn => {
            if reset {
                sqlx::query(
                    "UPDATE webhook_subscriptions SET consecutive_failures = $2 WHERE id = $1 AND consecutive_failures <> $2",
                )
                .bind(subscription)
                .bind(failures)
                .execute(&mut *conn)
                .await?;
            } else {
                sqlx::query("UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + $2 WHERE id = $1")
                    .bind(subscription)
                    .bind(failures)
                    .execute(&mut *conn)
                    .await?;
            }
            if failures > 0 {
                let n = sqlx::query(
                    "UPDATE webhook_subscriptions SET status = 'paused', paused_reason = $2, updated_at = $3 \
                     WHERE id = $1 AND status = 'active' AND consecutive_failures >= $4",
                )
                .bind(subscription)
                .bind(reason)
                .bind(now)
                .bind(pause_after)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if n > 0 {
                    paused.push(subscription);
                }
            }
        });
    }
    tx.commit().await?;
    Ok(paused)
}

/// Per subscription, from its applied outcomes in order (`delivered` or not): whether a
/// success reset its run of failures, and how many failures follow the last success (added
/// to the run, or the run itself after a reset).
fn run_changes(applied: &[(i64, bool)]) -> Vec<(i64, bool, i64)> {
    let mut runs: Vec<(i64, bool, i64)> = Vec::new();
    for &(subscription, delivered) in applied {
        let i = match runs.iter().position(|r| r.0 == subscription) {
            Some(i) => i,
            None => {
                runs.push((subscription, false, 0));
                runs.len() - 1
            }
        };
        if delivered {
            runs[i] = (subscription, true, 0);
        } else {
            runs[i].2 += 1;
        }
    }
    runs
}

// ------------------------------------------------------------------ the delivery log

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub subscription_id: i64,
    pub event_ref: String,
    pub event_kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: String,
    pub last_attempt_at: Option<i64>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

macro_rules! delivery_select {
    () => {
        "SELECT id, subscription_id, event_ref, event_kind, payload, status, attempts, next_attempt_at, \
         last_status, last_error, last_attempt_at, created_at, delivered_at FROM webhook_deliveries"
    };
}

/// A page of a subscription's deliveries, newest first, optionally of one status; with the
/// number matching.
pub async fn deliveries(
    db: &Db,
    subscription: i64,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DeliveryRow>, i64)> {
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, DeliveryRow>(concat!(
            delivery_select!(),
            " WHERE subscription_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(subscription)
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE subscription_id = $1 AND ($2 IS NULL OR status = $2)",
        )
        .bind(subscription)
        .bind(status)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    })
}

pub async fn delivery(db: &Db, id: i64) -> Result<DeliveryRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, DeliveryRow>(concat!(delivery_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_one(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// Send a delivery again (same event id, so the receiver can dedupe): due now, attempts
/// counted afresh. A delivery waiting already is left due as it is.
pub async fn replay_in(tx: &mut Tx, id: i64, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, delivered_at = NULL \
             WHERE id = $1 AND status <> 'pending'",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Replay every failed delivery of a subscription; returns how many.
pub async fn replay_failed_in(tx: &mut Tx, subscription: i64, now: i64) -> Result<u64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2 \
             WHERE subscription_id = $1 AND status = 'failed'",
        )
        .bind(subscription)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }))
}

/// How many test deliveries a subscription has had (names the next one `ping_{n+1}`).
pub async fn ping_count_in(tx: &mut Tx, subscription: i64) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE subscription_id = $1 AND event_kind = 'ping'",
        )
        .bind(subscription)
        .fetch_one(&mut *conn)
        .await?
    }))
}

/// The id of a subscription's delivery of an event (`None`: not queued).
pub async fn delivery_id_in(
    tx: &mut Tx,
    subscription: i64,
    event_ref: &str,
) -> Result<Option<i64>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE subscription_id = $1 AND event_ref = $2")
            .bind(subscription)
            .bind(event_ref)
            .fetch_optional(&mut *conn)
            .await?
    }))
}

/// Whether any subscription is live: with none, the loops do not open a write transaction.
pub async fn any_live(db: &Db) -> Result<bool> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM (SELECT 1 FROM webhook_subscriptions WHERE archived_at IS NULL LIMIT 1) t",
        )
        .fetch_one(pool)
        .await?
            > 0)
    })
}

/// Whether a delivery is due at `now` (a read: an idle sender takes no write lock).
pub async fn any_due(db: &Db, now: i64) -> Result<bool> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM (SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 LIMIT 1) t",
        )
        .bind(now)
        .fetch_one(pool)
        .await?
            > 0)
    })
}

#[cfg(test)]
mod tests {
    use super::run_changes;
    use proptest::prelude::*;

    proptest! {
        /// Applying the summarised changes gives the runs that applying each outcome in turn
        /// (a success resets to 0, a failure adds 1) would.
        #[test]
        fn run_changes_match_one_by_one(
            start in proptest::collection::vec(0i64..30, 3),
            outcomes in proptest::collection::vec((0i64..3, any::<bool>()), 0..60),
        ) {
            let mut one_by_one = start.clone();
            for &(s, delivered) in &outcomes {
                let run = &mut one_by_one[s as usize];
                *run = if delivered { 0 } else { *run + 1 };
            }
            let mut summarised = start;
            for (s, reset, failures) in run_changes(&outcomes) {
                let run = &mut summarised[s as usize];
                *run = if reset { failures } else { *run + failures };
            }
            prop_assert_eq!(summarised, one_by_one);
        }
    }
}
