#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `kill -9` of a real `yutang serve` in the middle of a paid member card settlement (issue
//! #22: "after restart, each difference is refunded once"), on SQLite and PostgreSQL.
//!
//! The test seeds a demo brand through the library and records 400 month-card purchases that
//! ended ten days ago, with savings from nothing to more than the card cost. A node's
//! settlement run settles each ended period in a transaction of its own (marked settled, the
//! refund instruction for the difference, the timeline event). The node is killed with
//! SIGKILL half way:
//!
//! - on PostgreSQL exactly half way: the test holds the row of the 200th due period (`FOR
//!   UPDATE` in its own transaction), so the run settles the 199 before it and waits on that
//!   lock; the test waits for those and kills the node there;
//! - on SQLite, which has no row locks, as soon as the first period is settled (the run may
//!   already have finished by then; the test says which it saw).
//!
//! A second node takes the dead run over once its lease lapses and finishes it. Then every
//! period is settled once, with one event each, and the refunds owed are exactly the
//! differences, once. Every wait is for a state; nothing asserts a duration.

use std::time::Duration;

use yutang_app::Actor;
use yutang_app::loyalty::cards::PurchaseInput;
use yutang_core::ids::CustomerId;
use yutang_store::Db;

mod common;
#[path = "common/drill.rs"]
mod drill;
#[path = "common/node.rs"]
mod node;
use drill::{column, demo_app, exec, scalar, second_node_finishes};
use node::{Node, wait_for};

const PERIODS: usize = 400;
const HELD: usize = 200;
const DAY: i64 = 86_400_000;

const DRILL: &str = "order_no LIKE 'DRILL-%'";

async fn settled(db: &Db) -> i64 {
    scalar(
        db,
        &format!("SELECT COUNT(*) FROM card_periods WHERE {DRILL} AND status = 'settled'"),
    )
    .await
}

async fn crash_during_settlement(url: String) {
    let dir = tempfile::tempdir().unwrap();
    let (app, key_hex) = demo_app(&url, 1_500).await;

    // 400 month cards (the demo's `monthly`, ¥18 with the guarantee) bought 40 days ago by
    // customers without a card, in order, so they fall due in that order.
    let buyers = column(
        &app.db,
        &format!(
            "SELECT id FROM customers WHERE merged_into IS NULL AND id NOT IN \
             (SELECT customer_id FROM card_periods) ORDER BY id LIMIT {PERIODS}"
        ),
    )
    .await;
    assert_eq!(buyers.len(), PERIODS, "the demo has too few customers");
    let bought = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let bought = i64::try_from(bought).unwrap() - 40 * DAY;
    for (i, c) in buyers.iter().enumerate() {
        app.cards()
            .record_purchase(
                &Actor::system(),
                &PurchaseInput {
                    order_no: format!("DRILL-{i:04}"),
                    customer: CustomerId(*c),
                    card_key: "monthly".into(),
                    paid_fen: None,
                    paid_at: Some(bought + i64::try_from(i).unwrap()),
                },
            )
            .await
            .unwrap();
    }
    // Savings from 0 to ¥24.93 (the card costs ¥18): some periods owe the whole price back,
    // some a part, some nothing.
    exec(
        &app.db,
        &format!("UPDATE card_periods SET savings_fen = (id * 37) % 2500 WHERE {DRILL}"),
    )
    .await;
    let owed = scalar(
        &app.db,
        &format!("SELECT COUNT(*) FROM card_periods WHERE {DRILL} AND savings_fen < paid_fen"),
    )
    .await;
    let owed_fen = scalar(
        &app.db,
        &format!(
            "SELECT CAST(COALESCE(SUM(paid_fen - savings_fen), 0) AS BIGINT) FROM card_periods \
             WHERE {DRILL} AND savings_fen < paid_fen"
        ),
    )
    .await;
    assert!(owed > 0 && owed < i64::try_from(PERIODS).unwrap(), "{owed}");
    assert_eq!(settled(&app.db).await, 0);
    let due = column(
        &app.db,
        "SELECT id FROM card_periods WHERE status = 'active' AND ends_at <= \
         (SELECT MAX(ends_at) FROM card_periods WHERE order_no LIKE 'DRILL-%') \
         ORDER BY ends_at, id",
    )
    .await;
    assert_eq!(due.len(), PERIODS, "only the drill's periods are due");

    // PostgreSQL: hold the 200th due period, so the run stops on it with the ones before it
    // settled.
    let mut holder = None;
    if let Db::Postgres(p) = &app.db {
        let mut tx = p.begin().await.unwrap();
        sqlx::query("SELECT status FROM card_periods WHERE id = $1 FOR UPDATE")
            .bind(due[HELD - 1])
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        holder = Some(tx);
    }

    let env = [("YUTANG_SECRET_KEY", key_hex.as_str())];
    let node = Node::start(&url, dir.path(), 1, &env).await;
    let job = app
        .cards()
        .start_settlement(&Actor::system())
        .await
        .unwrap();
    let seen = if holder.is_some() {
        let before = i64::try_from(HELD - 1).unwrap();
        wait_for(
            Duration::from_secs(120),
            "the periods before the held one settling",
            &node.log,
            || async { (settled(&app.db).await == before).then_some(before) },
        )
        .await
    } else {
        wait_for(
            Duration::from_secs(120),
            "the first period settling",
            &node.log,
            || async {
                let n = settled(&app.db).await;
                (n >= 1).then_some(n)
            },
        )
        .await
    };
    node.kill9();
    if let Some(tx) = holder {
        tx.rollback().await.unwrap();
    }
    let left = settled(&app.db).await;
    assert!(
        left >= seen,
        "settled periods cannot vanish: {seen} then {left}"
    );
    if url.starts_with("postgres") {
        assert_eq!(left, seen, "the held period never settled");
    }
    eprintln!("settlement drill: the crash left {left} of {PERIODS} periods settled");
    // What the crash left is consistent: each settled period has its refund (when owed) and
    // its event, nothing more, since each is one transaction.
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM card_refunds WHERE order_no LIKE 'DRILL-%'",
        )
        .await,
        scalar(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM card_periods WHERE {DRILL} AND status = 'settled' \
                 AND savings_fen < paid_fen"
            ),
        )
        .await
    );

    // A second node takes the run over when the dead node's lease lapses, and finishes it.
    second_node_finishes(&url, dir.path(), &env, &app.db, job).await;

    // Every period settled once, one event each; each difference owed once, exactly.
    assert_eq!(settled(&app.db).await, i64::try_from(PERIODS).unwrap());
    assert_eq!(
        scalar(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM events WHERE kind = 'card_settled' AND customer_id IN \
                 (SELECT customer_id FROM card_periods WHERE {DRILL})"
            ),
        )
        .await,
        i64::try_from(PERIODS).unwrap(),
        "a period settled twice or never"
    );
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM card_refunds WHERE order_no LIKE 'DRILL-%'"
        )
        .await,
        owed
    );
    assert_eq!(
        scalar(
            &app.db,
            "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM card_refunds \
             WHERE order_no LIKE 'DRILL-%'"
        )
        .await,
        owed_fen,
        "the refunds owed are the differences"
    );
    assert_eq!(
        scalar(
            &app.db,
            "SELECT COUNT(*) FROM card_refunds r JOIN card_periods p ON p.id = r.period_id \
             WHERE r.order_no LIKE 'DRILL-%' AND r.amount_fen <> p.paid_fen - p.savings_fen"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_card_settlement_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("settlement.db").display());
    crash_during_settlement(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_card_settlement_on_postgres() {
    crash_during_settlement(common::fresh_pg_url().await).await;
}
