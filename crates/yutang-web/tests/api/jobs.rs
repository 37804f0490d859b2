//! The job runner after a crash: short leases, renewed while a job runs.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yutang_app::jobs::LEASE_MS;
use yutang_core::time::Millis;
use yutang_store::jobs::{self as store, NewJob};

use crate::helpers::{Engine, TestApp, spawn_app};

both_engines!(
    a_dead_runners_job_is_retried_within_the_short_lease,
    a_heartbeated_job_is_not_taken,
);

async fn set(t: &TestApp, sql: &str, a: i64, id: i64) {
    match &t.app.db {
        yutang_store::Db::Sqlite(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .bind(a)
                .bind(id)
                .execute(p)
                .await
                .unwrap();
        }
        yutang_store::Db::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .bind(a)
                .bind(id)
                .execute(p)
                .await
                .unwrap();
        }
    }
}

/// A runner claims a job and dies without running it (kill -9). Its lease is short, and once
/// that lease's span has passed the live runner claims the job again and runs it.
async fn a_dead_runners_job_is_retried_within_the_short_lease(e: Engine) {
    let t = spawn_app(e).await;
    let r = t.post("/api/v1/tag-rules", &t.admin, json!({"name": "生命周期", "config": {"kind": "lifecycle", "new_days": 30, "active_days": 90, "dormant_days": 180}})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let rule = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    t.settle_jobs().await;
    // Due in an hour, so the server's own runner leaves it alone until the "dead" one, whose
    // clock reads that hour, claims it.
    let due = Millis::now().0 + 3_600_000;
    let id = store::enqueue(
        &t.app.db,
        &NewJob {
            kind: yutang_app::tags::RULE_RUN_KIND,
            payload: &rule.to_string(),
            run_at: due,
            idempotency_key: None,
            created_by: None,
        },
        Millis::now().0,
    )
    .await
    .unwrap();
    let claimed = store::claim(&t.app.db, &t.app.job_kinds(), due, LEASE_MS)
        .await
        .unwrap()
        .expect("the dead runner claims the job");
    assert_eq!(claimed.id, id);
    let lease = claimed.locked_until.unwrap() - due;
    assert!(
        lease <= 30_000,
        "a dead runner holds its job for {lease} ms"
    );
    // Time passes (the job is moved back by an hour and the lease): the lease has expired.
    let shift = 3_600_000 + lease + 1;
    set(
        &t,
        "UPDATE jobs SET run_at = run_at - $1, locked_until = locked_until - $1 WHERE id = $2",
        shift,
        id,
    )
    .await;
    t.settle_jobs().await;
    let j = store::get(&t.app.db, id).await.unwrap();
    assert_eq!((j.status.as_str(), j.attempts), ("done", 2), "{j:?}");
}

/// A job whose runner is alive keeps its lease past the first lease's end: nobody takes it.
/// Once the runner stops renewing (it died), the job can be claimed again.
async fn a_heartbeated_job_is_not_taken(e: Engine) {
    let t = spawn_app(e).await;
    // A kind no runner of the server handles.
    let kinds = ["test_long_job"];
    let id = store::enqueue(
        &t.app.db,
        &NewJob {
            kind: kinds[0],
            payload: "",
            run_at: 0,
            idempotency_key: None,
            created_by: None,
        },
        Millis::now().0,
    )
    .await
    .unwrap();
    let job = store::claim(&t.app.db, &kinds, Millis::now().0, LEASE_MS)
        .await
        .unwrap()
        .expect("claimed");
    let first = job.locked_until.unwrap();
    let guard = t.app.keep_leased(id, Duration::from_millis(20));
    let mut renewed = first;
    for _ in 0..500 {
        renewed = store::get(&t.app.db, id)
            .await
            .unwrap()
            .locked_until
            .unwrap();
        if renewed > first {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(renewed > first, "the lease was never renewed");
    // Another runner whose clock reads past the first lease finds nothing to take.
    let stolen = store::claim(&t.app.db, &kinds, first + 1, LEASE_MS)
        .await
        .unwrap();
    assert!(stolen.is_none(), "a live runner's job was taken");
    drop(guard);
    // The runner is gone: after its last lease, the job is claimed again.
    let last = store::get(&t.app.db, id)
        .await
        .unwrap()
        .locked_until
        .unwrap();
    let again = store::claim(&t.app.db, &kinds, last + LEASE_MS + 1, LEASE_MS)
        .await
        .unwrap();
    assert_eq!(again.map(|j| (j.id, j.attempts)), Some((id, 2)));
}
