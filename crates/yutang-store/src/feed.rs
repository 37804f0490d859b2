//! Followers of the event log in commit order: each keeps its position in a one-row table
//! (a PostgreSQL snapshot or, on SQLite, whose writers are serialised, an event id) and
//! reads the events committed since, so an event whose smaller id committed late is read
//! with the later stretch, never skipped. The outbound webhooks fan events out to
//! deliveries; the analytics rollups recompute the days events touch.

use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::segments::FeedMark;
use crate::tx::Tx;

/// Which follower's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Outbound webhook deliveries (migration 0028).
    Webhooks,
    /// The analytics rollups (migration 0030).
    Rollups,
    /// The journey engine's event triggers (migration 0038).
    Journeys,
}

impl Feed {
    fn table(self) -> &'static str {
        match self {
            Feed::Webhooks => "webhook_feed",
            Feed::Rollups => "rollup_feed",
            Feed::Journeys => "journey_feed",
        }
    }
}

/// The follower's position, locked until commit so one node follows at a time.
#[derive(Debug, Clone)]
pub struct FeedPosition {
    pub from: String,
    pub to: Option<String>,
    pub after_id: i64,
}

pub async fn lock_feed_in(tx: &mut Tx, feed: Feed) -> Result<FeedPosition> {
    let sql = format!(
        "SELECT from_mark, to_mark, after_id FROM {} WHERE id = 1{}",
        feed.table(),
        tx.row_lock()
    );
    let (from, to, after_id): (String, Option<String>, i64) = in_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *conn).await?
    });
    Ok(FeedPosition { from, to, after_id })
}

pub async fn save_feed_in(tx: &mut Tx, feed: Feed, p: &FeedPosition) -> Result<()> {
    let sql = format!(
        "UPDATE {} SET from_mark = $1, to_mark = $2, after_id = $3 WHERE id = 1",
        feed.table()
    );
    in_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&p.from)
            .bind(&p.to)
            .bind(p.after_id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// The end of the event log as this transaction sees it, as stored text.
pub async fn feed_end_in(tx: &mut Tx) -> Result<String> {
    Ok(match tx {
        Tx::Sqlite(t) => sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM events")
            .fetch_one(&mut **t)
            .await?
            .unwrap_or(0)
            .to_string(),
        Tx::Postgres(t) => {
            sqlx::query_scalar("SELECT pg_current_snapshot()::text")
                .fetch_one(&mut **t)
                .await?
        }
    })
}

/// A stored mark read back for this engine; `None` when it is not one (a database copied from
/// the other engine by `yutang db copy`).
pub fn parse_mark(tx: &Tx, text: &str) -> Option<FeedMark> {
    match tx {
        Tx::Sqlite(_) => text.parse::<i64>().ok().map(FeedMark::Id),
        Tx::Postgres(_) => {
            let parts: Vec<&str> = text.split(':').collect();
            (parts.len() == 3 && parts[..2].iter().all(|p| p.parse::<u64>().is_ok()))
                .then(|| FeedMark::Snapshot(text.to_owned()))
        }
    }
}

/// Put a follower at the end of the log (after `yutang db copy` brought a log in whose
/// events the source's follower already handled).
pub async fn reset_feed_to_end(db: &Db, feed: Feed) -> Result<()> {
    let mut tx = db.begin().await?;
    lock_feed_in(&mut tx, feed).await?;
    let end = feed_end_in(&mut tx).await?;
    save_feed_in(
        &mut tx,
        feed,
        &FeedPosition {
            from: end,
            to: None,
            after_id: 0,
        },
    )
    .await?;
    tx.commit().await
}

/// An event of the log as the follower reads it.
#[derive(Debug, Clone, FromRow)]
pub struct FeedEvent {
    pub id: i64,
    pub customer_id: i64,
    pub kind: String,
    pub occurred_at: i64,
    pub received_at: i64,
    pub staff_id: Option<i64>,
    pub detail: String,
}

/// One page (by id, above `after_id`, at most `limit`) of the events committed after `from`
/// and visible at `to` (both from [`feed_end_in`], `from` taken first): on PostgreSQL the
/// events whose writing transaction is visible in `to` but not in `from`, so an event whose
/// smaller id committed late is read with the later stretch, not skipped.
pub async fn events_between_in(
    tx: &mut Tx,
    from: &FeedMark,
    to: &FeedMark,
    after_id: i64,
    limit: i64,
) -> Result<Vec<FeedEvent>> {
    const COLS: &str =
        "SELECT id, customer_id, kind, occurred_at, received_at, staff_id, detail FROM events ";
    Ok(match (tx, from, to) {
        (Tx::Sqlite(t), FeedMark::Id(from), FeedMark::Id(to)) => {
            sqlx::query_as::<_, FeedEvent>(sqlx::AssertSqlSafe(format!(
                "{COLS} WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3"
            )))
            .bind(after_id.max(*from))
            .bind(to)
            .bind(limit)
            .fetch_all(&mut **t)
            .await?
        }
        (Tx::Postgres(t), FeedMark::Snapshot(from), FeedMark::Snapshot(to)) => {
            sqlx::query_as::<_, FeedEvent>(sqlx::AssertSqlSafe(format!(
                "{COLS} WHERE tx_id >= pg_snapshot_xmin($1::text::pg_snapshot) \
                 AND tx_id < pg_snapshot_xmax($2::text::pg_snapshot) \
                 AND NOT pg_visible_in_snapshot(tx_id, $1::text::pg_snapshot) \
                 AND pg_visible_in_snapshot(tx_id, $2::text::pg_snapshot) \
                 AND id > $3 ORDER BY id LIMIT $4"
            )))
            .bind(from)
            .bind(to)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&mut **t)
            .await?
        }
        _ => {
            return Err(StoreError::Database(sqlx::Error::Protocol(
                "a change-feed mark of the other engine".into(),
            )));
        }
    })
}
