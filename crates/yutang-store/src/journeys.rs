//! The journey engine's tables (migration 0038): journeys and their versions, who entered
//! (the enrolment rule is a guarded upsert), the runs and what each step did.
//!
//! Concurrency: several nodes may advance runs at once. On PostgreSQL a batch of due runs is
//! claimed `FOR UPDATE SKIP LOCKED`, and every move of a run is a guarded `UPDATE` on the
//! step and state it was read at, so a run is moved once even if two nodes read it; SQLite
//! serialises writers.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct JourneyRow {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub version: i64,
    pub trigger_kind: String,
    pub trigger_event: Option<String>,
    pub paused_reason: String,
    pub next_fire_at: Option<i64>,
    pub members_at: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const JOURNEY_COLS: &str = "SELECT id, name, status, version, trigger_kind, trigger_event, \
     paused_reason, next_fire_at, members_at, created_by, created_at, updated_at FROM journeys";

/// A journey as written by create and update.
#[derive(Debug, Clone)]
pub struct JourneyWrite<'a> {
    pub name: &'a str,
    pub trigger_kind: &'a str,
    pub trigger_event: Option<&'a str>,
    pub definition: &'a str,
    pub next_fire_at: Option<i64>,
    pub by: Option<i64>,
}

/// A new journey (a draft) with its version 1.
pub async fn insert_in(tx: &mut Tx, j: &JourneyWrite<'_>, now: i64) -> Result<i64> {
    let id: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO journeys (name, status, version, trigger_kind, trigger_event, \
             next_fire_at, created_by, created_at, updated_at) \
             VALUES ($1, 'draft', 1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(j.name)
        .bind(j.trigger_kind)
        .bind(j.trigger_event)
        .bind(j.next_fire_at)
        .bind(j.by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
    });
    insert_version_in(tx, id, 1, j.definition, j.by, now).await?;
    Ok(id)
}

async fn insert_version_in(
    tx: &mut Tx,
    id: i64,
    version: i64,
    definition: &str,
    by: Option<i64>,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO journey_versions (journey_id, version, definition, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(version)
        .bind(definition)
        .bind(by)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// A new version of a journey (the caller holds its row lock); runs in flight keep theirs.
/// A segment trigger's remembered members are dropped: the new expression starts over.
pub async fn new_version_in(tx: &mut Tx, id: i64, j: &JourneyWrite<'_>, now: i64) -> Result<i64> {
    let version: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "UPDATE journeys SET version = version + 1, name = $2, trigger_kind = $3, \
             trigger_event = $4, next_fire_at = $5, members = NULL, members_at = NULL, \
             updated_at = $6 WHERE id = $1 RETURNING version",
        )
        .bind(id)
        .bind(j.name)
        .bind(j.trigger_kind)
        .bind(j.trigger_event)
        .bind(j.next_fire_at)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?
    });
    insert_version_in(tx, id, version, j.definition, j.by, now).await?;
    Ok(version)
}

pub async fn get(db: &Db, id: i64) -> Result<JourneyRow> {
    let sql = format!("{JOURNEY_COLS} WHERE id = $1");
    db_run!(db, pool => {
        sqlx::query_as::<_, JourneyRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The journey's row, locked until commit.
pub async fn lock_in(tx: &mut Tx, id: i64) -> Result<JourneyRow> {
    let sql = format!("{JOURNEY_COLS} WHERE id = $1{}", tx.row_lock());
    in_tx!(tx, conn => {
        sqlx::query_as::<_, JourneyRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// Every journey, newest first.
pub async fn list(db: &Db) -> Result<Vec<JourneyRow>> {
    let sql = format!("{JOURNEY_COLS} ORDER BY id DESC");
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, JourneyRow>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?)
    })
}

/// The definition of one version.
pub async fn definition(db: &Db, id: i64, version: i64) -> Result<String> {
    db_run!(db, pool => {
        sqlx::query_scalar(
            "SELECT definition FROM journey_versions WHERE journey_id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

/// [`definition`] inside a transaction (the engine reads nothing through the pool while it
/// holds one: on SQLite that would wait for a connection its own lock keeps busy).
pub async fn definition_in(tx: &mut Tx, id: i64, version: i64) -> Result<String> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT definition FROM journey_versions WHERE journey_id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

/// [`get`] inside a transaction, without a lock.
pub async fn get_in(tx: &mut Tx, id: i64) -> Result<JourneyRow> {
    let sql = format!("{JOURNEY_COLS} WHERE id = $1");
    in_tx!(tx, conn => {
        sqlx::query_as::<_, JourneyRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// Every version, newest first: (version, created_at, created_by).
pub async fn versions(db: &Db, id: i64) -> Result<Vec<(i64, i64, Option<i64>)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT version, created_at, created_by FROM journey_versions WHERE journey_id = $1 \
             ORDER BY version DESC",
        )
        .bind(id)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn set_status_in(
    tx: &mut Tx,
    id: i64,
    status: &str,
    reason: &str,
    next_fire_at: Option<i64>,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE journeys SET status = $2, paused_reason = $3, next_fire_at = $4, \
             updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(reason)
        .bind(next_fire_at)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Pause an active journey with a reason (guarded: a journey paused or archived meanwhile
/// is left as it is). Whether it applied.
pub async fn pause_active_in(tx: &mut Tx, id: i64, reason: &str, now: i64) -> Result<bool> {
    Ok(in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE journeys SET status = 'paused', paused_reason = $2, updated_at = $3 \
             WHERE id = $1 AND status = 'active'",
        )
        .bind(id)
        .bind(reason)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }) == 1)
}

/// Move a schedule or date trigger on from the occurrence `fired` (guarded on it, so two nodes
/// fire an occurrence once). Whether this caller moved it.
pub async fn advance_fire_in(tx: &mut Tx, id: i64, fired: i64, next: Option<i64>) -> Result<bool> {
    Ok(in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE journeys SET next_fire_at = $3 WHERE id = $1 AND next_fire_at = $2 \
             AND status = 'active'",
        )
        .bind(id)
        .bind(fired)
        .bind(next)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }) == 1)
}

/// Active schedule and date journeys whose next occurrence is due: (id, occurrence).
pub async fn due_fires(db: &Db, now: i64) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT id, next_fire_at FROM journeys WHERE status = 'active' \
             AND next_fire_at IS NOT NULL AND next_fire_at <= $1 ORDER BY next_fire_at",
        )
        .bind(now)
        .fetch_all(pool)
        .await?)
    })
}

/// Active segment enter / leave journeys last compared before `before`.
pub async fn segment_journeys(db: &Db, before: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT id FROM journeys WHERE status = 'active' \
             AND trigger_kind IN ('segment_enter', 'segment_leave') \
             AND (members_at IS NULL OR members_at < $1) ORDER BY id",
        )
        .bind(before)
        .fetch_all(pool)
        .await?)
    })
}

/// The members a segment trigger saw last (the caller holds the journey's row lock).
pub async fn members_in(tx: &mut Tx, id: i64) -> Result<Option<Vec<u8>>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar::<_, Option<Vec<u8>>>("SELECT members FROM journeys WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .flatten())
    })
}

pub async fn set_members_in(tx: &mut Tx, id: i64, members: &[u8], at: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("UPDATE journeys SET members = $2, members_at = $3 WHERE id = $1")
            .bind(id)
            .bind(members)
            .bind(at)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Active event journeys: (id, version, event kind).
pub async fn event_journeys_in(tx: &mut Tx) -> Result<Vec<(i64, i64, String)>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as(
            "SELECT id, version, trigger_event FROM journeys WHERE status = 'active' \
             AND trigger_kind = 'event' AND trigger_event IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?)
    })
}

/// An enrolment as asked.
#[derive(Debug, Clone)]
pub struct Enrol<'a> {
    pub journey_id: i64,
    pub version: i64,
    /// `once`, `cooldown` or `reentry`.
    pub rule: &'a str,
    pub cooldown_ms: i64,
    pub cause: &'a str,
    pub due_at: i64,
}

/// Enrol a customer if the rule lets them in: a guarded upsert of their membership (never
/// while a run is in flight; `once` never again; `cooldown` once the days have passed), then
/// the run and its `entered` trace. The run's id, or `None` when the rule kept them out.
pub async fn enrol_in(tx: &mut Tx, e: &Enrol<'_>, customer: i64, now: i64) -> Result<Option<i64>> {
    let since = now.saturating_sub(e.cooldown_ms);
    let admitted: Option<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO journey_members (journey_id, customer_id, entries, last_entered_at, active) \
             VALUES ($1, $2, 1, $3, 1) \
             ON CONFLICT (journey_id, customer_id) DO UPDATE SET \
               entries = journey_members.entries + 1, last_entered_at = $3, active = 1 \
             WHERE journey_members.active = 0 AND $4 <> 'once' \
               AND journey_members.last_entered_at <= $5 \
             RETURNING entries",
        )
        .bind(e.journey_id)
        .bind(customer)
        .bind(now)
        .bind(e.rule)
        .bind(since)
        .fetch_optional(&mut *conn)
        .await?
    });
    if admitted.is_none() {
        return Ok(None);
    }
    let run: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO journey_runs (journey_id, version, customer_id, step, state, due_at, \
             cause, entered_at, updated_at) VALUES ($1, $2, $3, 0, 'active', $4, $5, $6, $6) \
             RETURNING id",
        )
        .bind(e.journey_id)
        .bind(e.version)
        .bind(customer)
        .bind(e.due_at)
        .bind(e.cause)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
    });
    trace_in(
        tx,
        &Trace {
            run_id: run,
            journey_id: e.journey_id,
            step: 0,
            kind: "entry",
            outcome: "entered",
            detail: &serde_json::json!({ "cause": e.cause }).to_string(),
        },
        now,
    )
    .await?;
    Ok(Some(run))
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub journey_id: i64,
    pub version: i64,
    pub customer_id: i64,
    pub step: i64,
    pub state: String,
    pub due_at: i64,
    pub cause: String,
    pub reason: String,
    pub entered_at: i64,
    pub updated_at: i64,
    pub ended_at: Option<i64>,
}

/// How long a claimed run is left to the node that claimed it.
pub const LEASE_MS: i64 = 60_000;

const RUN_COLS: &str = "SELECT r.id, r.journey_id, r.version, r.customer_id, r.step, r.state, \
     r.due_at, r.cause, r.reason, r.entered_at, r.updated_at, r.ended_at FROM journey_runs r";

/// Claim up to `limit` due runs of active journeys, oldest due first; on PostgreSQL the rows
/// stay locked until commit and other nodes skip them.
pub async fn claim_due_in(tx: &mut Tx, now: i64, limit: i64) -> Result<Vec<RunRow>> {
    let lock = match tx {
        Tx::Sqlite(_) => "",
        Tx::Postgres(_) => " FOR UPDATE OF r SKIP LOCKED",
    };
    let sql = format!(
        "{RUN_COLS} JOIN journeys j ON j.id = r.journey_id WHERE r.state = 'active' \
         AND r.due_at <= $1 AND r.lease_until <= $1 AND j.status = 'active' \
         ORDER BY r.due_at, r.id LIMIT $2{lock}"
    );
    let runs = in_tx!(tx, conn => {
        sqlx::query_as::<_, RunRow>(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?
    });
    for r in &runs {
        in_tx!(tx, conn => {
            sqlx::query("UPDATE journey_runs SET lease_until = $2 WHERE id = $1")
                .bind(r.id)
                .bind(now + LEASE_MS)
                .execute(&mut *conn)
                .await?;
        });
    }
    Ok(runs)
}

/// Lock a run at the step and state it was read at, for one step's transaction: `false` when
/// another node has moved it since (on PostgreSQL this waits for that node's commit).
pub async fn lock_run_in(tx: &mut Tx, run: &RunRow) -> Result<bool> {
    let sql = format!(
        "SELECT id FROM journey_runs WHERE id = $1 AND step = $2 AND state = $3{}",
        tx.row_lock()
    );
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .bind(run.id)
            .bind(run.step)
            .bind(&run.state)
            .fetch_optional(&mut *conn)
            .await?
            .is_some())
    })
}

/// Whether any run of an active journey is due (a cheap check before opening a transaction).
pub async fn any_due(db: &Db, now: i64) -> Result<bool> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM (SELECT 1 FROM journey_runs r JOIN journeys j \
             ON j.id = r.journey_id WHERE r.state IN ('active', 'sending') AND r.due_at <= $1 \
             AND j.status = 'active' LIMIT 1) x",
        )
        .bind(now)
        .fetch_one(pool)
        .await? > 0)
    })
}

/// Move a run from (`from_step`, `from_state`) to its next place. A terminal state ends it
/// and lets the customer enter again under the rule. Whether it applied.
pub async fn move_in(
    tx: &mut Tx,
    run: &RunRow,
    step: i64,
    state: &str,
    due_at: i64,
    reason: &str,
    now: i64,
) -> Result<bool> {
    let terminal = matches!(state, "done" | "exited" | "failed");
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE journey_runs SET step = $2, state = $3, due_at = $4, reason = $5, \
             updated_at = $6, lease_until = 0, ended_at = CASE WHEN $7 THEN $6 ELSE NULL END \
             WHERE id = $1 AND step = $8 AND state = $9",
        )
        .bind(run.id)
        .bind(step)
        .bind(state)
        .bind(due_at)
        .bind(reason)
        .bind(now)
        .bind(terminal)
        .bind(run.step)
        .bind(&run.state)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 1 && terminal {
        in_tx!(tx, conn => {
            sqlx::query(
                "UPDATE journey_members SET active = 0 WHERE journey_id = $1 AND customer_id = $2",
            )
            .bind(run.journey_id)
            .bind(run.customer_id)
            .execute(&mut *conn)
            .await?;
        });
    }
    Ok(n == 1)
}

/// One line of a run's trace.
#[derive(Debug, Clone)]
pub struct Trace<'a> {
    pub run_id: i64,
    pub journey_id: i64,
    pub step: i64,
    pub kind: &'a str,
    pub outcome: &'a str,
    pub detail: &'a str,
}

pub async fn trace_in(tx: &mut Tx, t: &Trace<'_>, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO journey_trace (run_id, journey_id, step, kind, outcome, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.run_id)
        .bind(t.journey_id)
        .bind(t.step)
        .bind(t.kind)
        .bind(t.outcome)
        .bind(t.detail)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Runs waiting for their message batch, one (journey, version, step) at a time, at most
/// `limit`; locked like [`claim_due_in`].
pub async fn claim_sending_in(tx: &mut Tx, limit: i64) -> Result<Vec<RunRow>> {
    let lock = match tx {
        Tx::Sqlite(_) => "",
        Tx::Postgres(_) => " FOR UPDATE OF r SKIP LOCKED",
    };
    const FIRST: &str = "SELECT r.journey_id, r.version, r.step FROM journey_runs r \
         JOIN journeys j ON j.id = r.journey_id WHERE r.state = 'sending' \
         AND j.status = 'active' ORDER BY r.id LIMIT 1";
    let head: Option<(i64, i64, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(FIRST).fetch_optional(&mut *conn).await?
    });
    let Some((j, v, s)) = head else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "{RUN_COLS} WHERE r.state = 'sending' AND r.journey_id = $1 AND r.version = $2 \
         AND r.step = $3 ORDER BY r.id LIMIT $4{lock}"
    );
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, RunRow>(sqlx::AssertSqlSafe(sql))
            .bind(j)
            .bind(v)
            .bind(s)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?)
    })
}

/// Runs in flight per (step, state).
pub async fn step_counts(db: &Db, id: i64) -> Result<Vec<(i64, String, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT step, state, CAST(COUNT(*) AS BIGINT) FROM journey_runs WHERE journey_id = $1 \
             GROUP BY step, state ORDER BY step, state",
        )
        .bind(id)
        .fetch_all(pool)
        .await?)
    })
}

/// What the steps did, per (step, outcome).
pub async fn trace_counts(db: &Db, id: i64) -> Result<Vec<(i64, String, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT step, outcome, CAST(COUNT(*) AS BIGINT) FROM journey_trace \
             WHERE journey_id = $1 GROUP BY step, outcome ORDER BY step, outcome",
        )
        .bind(id)
        .fetch_all(pool)
        .await?)
    })
}

/// A customer's runs of one journey, newest first.
pub async fn runs_of(db: &Db, journey: i64, customer: i64) -> Result<Vec<RunRow>> {
    let sql =
        format!("{RUN_COLS} WHERE r.journey_id = $1 AND r.customer_id = $2 ORDER BY r.id DESC");
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RunRow>(sqlx::AssertSqlSafe(sql))
            .bind(journey)
            .bind(customer)
            .fetch_all(pool)
            .await?)
    })
}

/// The latest runs of a journey (at most `limit`), newest first.
pub async fn recent_runs(db: &Db, journey: i64, limit: i64) -> Result<Vec<RunRow>> {
    let sql = format!("{RUN_COLS} WHERE r.journey_id = $1 ORDER BY r.id DESC LIMIT $2");
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RunRow>(sqlx::AssertSqlSafe(sql))
            .bind(journey)
            .bind(limit)
            .fetch_all(pool)
            .await?)
    })
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TraceRow {
    pub step: i64,
    pub kind: String,
    pub outcome: String,
    pub detail: String,
    pub at: i64,
}

pub async fn trace_of(db: &Db, run: i64) -> Result<Vec<TraceRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TraceRow>(
            "SELECT step, kind, outcome, detail, at FROM journey_trace WHERE run_id = $1 ORDER BY id",
        )
        .bind(run)
        .fetch_all(pool)
        .await?)
    })
}

/// Customers (not merged away) whose birthday's month-day is one of `keys`, by id after
/// `after`, at most `limit`.
pub async fn birthdays(db: &Db, keys: &[String], after: i64, limit: i64) -> Result<Vec<i64>> {
    let a = keys.first().cloned().unwrap_or_default();
    let b = keys.get(1).cloned().unwrap_or_else(|| a.clone());
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT id FROM customers WHERE merged_into IS NULL AND birthday IS NOT NULL \
             AND (SUBSTR(birthday, 6, 5) = $1 OR SUBSTR(birthday, 6, 5) = $2) AND id > $3 \
             ORDER BY id LIMIT $4",
        )
        .bind(a)
        .bind(b)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Customers whose first order was paid within [`from`, `to`), by id after `after`.
pub async fn first_orders(db: &Db, from: i64, to: i64, after: i64, limit: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT id FROM customers WHERE merged_into IS NULL AND first_order_at >= $1 \
             AND first_order_at < $2 AND id > $3 ORDER BY id LIMIT $4",
        )
        .bind(from)
        .bind(to)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Whether a customer exists and has not been merged into another.
pub async fn customer_live_in(tx: &mut Tx, customer: i64) -> Result<bool> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM customers WHERE id = $1 AND merged_into IS NULL",
        )
        .bind(customer)
        .fetch_one(&mut *conn)
        .await? == 1)
    })
}

/// The customer's owning guide (the owner flag, else the earliest active follow), if any: (staff id, WeCom user id).
pub async fn owner_in(tx: &mut Tx, customer: i64) -> Result<Option<(i64, Option<String>)>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as(
            "SELECT s.id, s.wecom_userid FROM follows f JOIN staff s ON s.id = f.staff_id \
             WHERE f.customer_id = $1 AND f.state = 'active' AND s.status = 'active' \
             ORDER BY f.is_owner DESC, f.since, f.staff_id LIMIT 1",
        )
        .bind(customer)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// Whether a coupon template exists and is active / a material exists and is active / a tag
/// exists: the name of what is missing or archived, for pausing a journey.
pub async fn reference_state_in(
    tx: &mut Tx,
    table: &'static str,
    id: i64,
) -> Result<Option<String>> {
    let sql = match table {
        "coupon_templates" => "SELECT status FROM coupon_templates WHERE id = $1",
        "materials" => "SELECT status FROM materials WHERE id = $1",
        _ => "SELECT 'active' FROM tags WHERE id = $1",
    };
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar::<_, String>(sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// End every run in flight of a journey (it was archived): each gets an `exited` trace line,
/// and its customer's membership is released.
pub async fn exit_all_in(tx: &mut Tx, journey: i64, reason: &str, now: i64) -> Result<u64> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO journey_trace (run_id, journey_id, step, kind, outcome, detail, at) \
             SELECT id, journey_id, step, 'exit', 'exited', $2, $3 FROM journey_runs \
             WHERE journey_id = $1 AND state IN ('active', 'sending')",
        )
        .bind(journey)
        .bind(serde_json::json!({ "reason": reason }).to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE journey_members SET active = 0 WHERE journey_id = $1")
            .bind(journey)
            .execute(&mut *conn)
            .await?;
        Ok(sqlx::query(
            "UPDATE journey_runs SET state = 'exited', reason = $2, updated_at = $3, ended_at = $3 \
             WHERE journey_id = $1 AND state IN ('active', 'sending')",
        )
        .bind(journey)
        .bind(reason)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected())
    })
}

/// The id of a demo row by its name (coupon templates) or title (materials).
pub async fn id_by_name(db: &Db, table: &'static str, name: &str) -> Result<i64> {
    let sql = match table {
        "coupon_templates" => "SELECT id FROM coupon_templates WHERE name = $1 ORDER BY id LIMIT 1",
        _ => "SELECT id FROM materials WHERE title = $1 ORDER BY id LIMIT 1",
    };
    db_run!(db, pool => {
        sqlx::query_scalar(sql)
            .bind(name)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// One occurrence of a group schedule, posted.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GroupSendRow {
    pub journey_id: i64,
    pub occurrence_at: i64,
    pub version: i64,
    pub delivery: String,
    pub message_id: Option<i64>,
    pub tasks: i64,
    pub groups: i64,
    pub skipped: i64,
    pub created_at: i64,
}

/// Record an occurrence as posted, once: `false` when it was recorded already (a replay).
pub async fn insert_group_send_in(tx: &mut Tx, r: &GroupSendRow) -> Result<bool> {
    Ok(in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO journey_group_sends (journey_id, occurrence_at, version, delivery, \
             message_id, tasks, groups, skipped, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (journey_id, occurrence_at) DO NOTHING",
        )
        .bind(r.journey_id)
        .bind(r.occurrence_at)
        .bind(r.version)
        .bind(&r.delivery)
        .bind(r.message_id)
        .bind(r.tasks)
        .bind(r.groups)
        .bind(r.skipped)
        .bind(r.created_at)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }) == 1)
}

/// A group schedule's latest posts, newest first.
pub async fn group_sends(db: &Db, journey: i64, limit: i64) -> Result<Vec<GroupSendRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT journey_id, occurrence_at, version, delivery, message_id, tasks, groups, \
             skipped, created_at FROM journey_group_sends WHERE journey_id = $1 \
             ORDER BY occurrence_at DESC LIMIT $2",
        )
        .bind(journey)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Every group post of occurrences in `[from, to)`: a calendar week's past entries.
pub async fn group_sends_between(db: &Db, from: i64, to: i64) -> Result<Vec<GroupSendRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT journey_id, occurrence_at, version, delivery, message_id, tasks, groups, \
             skipped, created_at FROM journey_group_sends \
             WHERE occurrence_at >= $1 AND occurrence_at < $2 ORDER BY occurrence_at",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?)
    })
}

/// Customer groups among `ids` that do not exist (a group schedule names only known groups).
pub async fn missing_groups_in(tx: &mut Tx, ids: &[i64]) -> Result<Vec<i64>> {
    let mut found: Vec<i64> = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<i64> = in_tx!(tx, DB, conn => {
            let mut qb =
                sqlx::QueryBuilder::<DB>::new("SELECT id FROM customer_groups WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_scalar::<i64>().fetch_all(&mut *conn).await?
        });
        found.extend(rows);
    }
    Ok(ids.iter().copied().filter(|i| !found.contains(i)).collect())
}
