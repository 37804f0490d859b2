#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `kill -9` of a real `yutang serve` in the middle of a points expiry run (issue #22: "after
//! restart, each lot expires once"), on SQLite and PostgreSQL.
//!
//! The test seeds a demo brand through the library, makes every lot that holds points due,
//! and queues an expiry run; a node picks it up and expires the lots in batches of 500, one
//! transaction each. The node is killed with SIGKILL half way:
//!
//! - on PostgreSQL exactly half way: the test holds the account row of a customer whose first
//!   due lot is in a later batch (`FOR UPDATE` in its own transaction), so the run commits the
//!   batches before it and waits on that lock; the test waits for those batches' entries and
//!   kills the node there;
//! - on SQLite, which has no row locks, as soon as the first batch committed (the run may
//!   already have finished by then; the test says which it saw).
//!
//! A second node takes the dead run over once its lease lapses and finishes it. Then every due
//! lot has exactly one expiry entry, every lot is empty, no customer holds points, and the
//! books balance. Every wait is for a state; nothing asserts a duration.

use std::time::Duration;

use yutang_app::Actor;
use yutang_store::Db;

mod common;
#[path = "common/drill.rs"]
mod drill;
#[path = "common/node.rs"]
mod node;
use drill::{demo_app, exec, scalar, second_node_finishes};
use node::{Node, wait_for};

/// Lots one expiry batch takes (the app's `EXPIRY_BATCH`).
const BATCH: i64 = 500;

async fn ids(db: &Db, sql: &str) -> Vec<(i64, i64)> {
    match db {
        Db::Sqlite(p) => sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(p)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(p)
            .await
            .unwrap(),
    }
}

const DUE: &str = "SELECT id, customer_id FROM points_lots WHERE remaining > 0 ORDER BY id";
const EXPIRED: &str = "SELECT COUNT(*) FROM points_entries WHERE kind = 'expire'";

async fn crash_during_expiry(url: String) {
    let dir = tempfile::tempdir().unwrap();
    let (app, key_hex) = demo_app(&url, 1_500).await;
    exec(
        &app.db,
        "UPDATE points_lots SET expires_at = 1 WHERE remaining > 0",
    )
    .await;
    let due = ids(&app.db, DUE).await;
    let total = i64::try_from(due.len()).unwrap();
    assert!(
        total > 4 * BATCH,
        "the demo leaves {total} lots; the drill needs 5 batches"
    );
    let points_before = scalar(
        &app.db,
        "SELECT CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM points_lots",
    )
    .await;
    assert!(points_before > 0);
    assert_eq!(scalar(&app.db, EXPIRED).await, 0);

    // PostgreSQL: hold the account of the customer whose first due lot comes latest, in a
    // batch after the first, so the run stops on it with the batches before it committed.
    let mut holder = None;
    let mut committed_before_lock = None;
    if let Db::Postgres(p) = &app.db {
        let mut first: std::collections::HashMap<i64, usize> = Default::default();
        for (pos, (_, customer)) in due.iter().enumerate() {
            first.entry(*customer).or_insert(pos);
        }
        let (&customer, &pos) = first
            .iter()
            .filter(|(_, pos)| (**pos as i64) < total - BATCH)
            .max_by_key(|(_, pos)| **pos)
            .unwrap();
        let batches_before = pos as i64 / BATCH;
        assert!(
            batches_before >= 1,
            "customer {customer}'s first lot is at {pos}"
        );
        let mut tx = p.begin().await.unwrap();
        sqlx::query("SELECT balance FROM points_accounts WHERE customer_id = $1 FOR UPDATE")
            .bind(customer)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        holder = Some(tx);
        committed_before_lock = Some(batches_before * BATCH);
    }

    let env = [("YUTANG_SECRET_KEY", key_hex.as_str())];
    let node = Node::start(&url, dir.path(), 1, &env).await;
    let job = app.points().start_expiry(&Actor::system()).await.unwrap();
    let seen = match committed_before_lock {
        Some(n) => {
            wait_for(
                Duration::from_secs(120),
                "the batches before the held account committing",
                &node.log,
                || async { (scalar(&app.db, EXPIRED).await == n).then_some(n) },
            )
            .await
        }
        None => {
            wait_for(
                Duration::from_secs(120),
                "the first batch committing",
                &node.log,
                || async {
                    let n = scalar(&app.db, EXPIRED).await;
                    (n >= BATCH).then_some(n)
                },
            )
            .await
        }
    };
    node.kill9();
    if let Some(tx) = holder {
        tx.rollback().await.unwrap();
    }
    let left = scalar(&app.db, EXPIRED).await;
    assert!(
        left >= seen,
        "committed entries cannot vanish: {seen} then {left}"
    );
    if committed_before_lock.is_some() {
        assert_eq!(left, seen, "the held batch never committed");
        assert!(left < total);
    }
    eprintln!("expiry drill: the crash left {left} of {total} lots expired");
    let job_row = yutang_store::jobs::get(&app.db, job).await.unwrap();
    if left < total {
        assert_ne!(job_row.status, "done", "{job_row:?}");
    }

    // A second node takes the run over when the dead node's lease lapses, and finishes it.
    second_node_finishes(&url, dir.path(), &env, &app.db, job).await;

    // Each due lot expired exactly once; nothing is left; the books balance.
    assert_eq!(scalar(&app.db, EXPIRED).await, total);
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM (SELECT source_id FROM points_entries WHERE kind = 'expire' \
             GROUP BY source_id HAVING COUNT(*) > 1) twice",
        )
        .await,
        0,
        "a lot expired twice"
    );
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM points_lots WHERE remaining > 0"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            &app.db,
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM points_entries \
             WHERE kind = 'expire'"
        )
        .await,
        points_before,
        "every point the lots held expired, once"
    );
    let books = app.points().liability(&Actor::system()).await.unwrap();
    assert!(books.balanced, "{books:?}");
    assert_eq!(books.outstanding, 0, "{books:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_points_expiry_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("expiry.db").display());
    crash_during_expiry(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_points_expiry_on_postgres() {
    crash_during_expiry(common::fresh_pg_url().await).await;
}
