#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `kill -9` of a real `yutang serve` while the journey engine walks customers through a
//! journey (issue #21: "kill -9 at any point sends nothing twice and loses no step: a test
//! kills the server during a journey run … restarts, and checks each customer's trace"), on
//! SQLite and PostgreSQL.
//!
//! The test seeds a demo brand through the library and adds a journey of instant steps — a
//! tag (a fresh one), a coupon (a template of its own, one set per customer), and two webhook
//! signals — on a one-off schedule a few seconds ahead whose audience is nearly every
//! customer. A node fires the occurrence (every run and its `entered` line commit with it) and
//! starts walking the runs, one transaction per step (a coupon is issued in its own
//! transaction just before its step's, keyed on the run and step). Once a number of step lines
//! drawn anew each time (1 to a fifth of the journey's) have committed, while runs are still in
//! flight, the node is killed with SIGKILL; the test says what the crash left, including
//! whether it fell between a coupon's issue and its step. The dead node's run leases are
//! expired by hand (what 60 s of waiting would do) and a second node finishes the journey.
//!
//! Then every customer the audience matched has exactly one run, `done`, whose trace is each
//! step once in order (`entry:entered`, `tag:done`, `coupon:done`, `webhook:done` twice,
//! `end:done`); exactly one claim of the template (the one its trace names), one `tag_added`
//! of the tag, and one `journey_signal` event per signal. Nobody outside the audience got
//! anything. A group SOP (owner tasks for every group) fires at the same instant: it has
//! posted exactly once, with one task per group owner. Every wait is for a state, polled with
//! a generous limit; nothing asserts a duration.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use yutang_app::Actor;
use yutang_app::journeys::JourneyInput;
use yutang_core::journeys::{Definition, Entry, GroupDelivery, Step, Trigger};
use yutang_store::Db;

mod common;
#[allow(dead_code)]
#[path = "common/drill.rs"]
mod drill;
#[path = "common/node.rs"]
mod node;
use drill::{column, demo_app, exec, scalar};
use node::{Node, wait_for};

/// Customers the demo seeds: enough that the node is still walking runs when it is killed.
const CUSTOMERS: usize = 2_000;
/// Every customer with an order count (the demo's customers all have one).
const AUDIENCE: &str = "order_count >= 0";
const SIGNALS: [&str; 2] = ["crash_drill", "crash_drill_2"];
/// The node is killed once this many step lines (at most) have committed: a fifth of the
/// journey's (5 lines per run).
const KILL_WITHIN: u32 = CUSTOMERS as u32;

/// (an integer, a text) per row.
async fn pairs(db: &Db, sql: &str) -> Vec<(i64, String)> {
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

/// The trace every run must leave: each step once, in order.
fn expected_trace() -> Vec<String> {
    [
        "0 entry:entered",
        "0 tag:done",
        "1 coupon:done",
        "2 webhook:done",
        "3 webhook:done",
        "4 end:done",
    ]
    .map(String::from)
    .to_vec()
}

/// How many of `items` each value occurs.
fn tally<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeMap<T, usize> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i).or_default() += 1;
    }
    m
}

async fn crash_during_a_journey(engine: &str, url: String) {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (app, key_hex) = demo_app(&url, CUSTOMERS).await;
    eprintln!(
        "journey drill ({engine}): demo of {CUSTOMERS} customers seeded in {:?}",
        started.elapsed()
    );
    let sys = Actor::system();
    let db = &app.db;

    // A tag nobody holds and a template nobody claimed: whatever they show, the journey did.
    let group = app
        .tags()
        .create_tag_group(&sys, "断电演练", true, 99)
        .await
        .unwrap();
    let tag = app
        .tags()
        .create_tag(&sys, group, "旅程已到", "#336699", 0)
        .await
        .unwrap();
    let now = app.now();
    let template = app
        .coupons()
        .create_coupon_template(
            &sys,
            serde_json::from_value(json!({
                "name": "断电演练 满50减10",
                "steps": [{"kind": "amount_off", "off_fen": 1000, "threshold_fen": 5000}],
                "validity": {"kind": "days_from_claim", "days": 7},
                "claim_window": {"starts_at": now - 86_400_000, "ends_at": now + 86_400_000},
                "stock": 100_000,
                "per_customer": 1,
                "audience": {"kind": "everyone"},
                "return_on_refund": false,
                "remind_hours_before": 0
            }))
            .unwrap(),
        )
        .await
        .unwrap();

    // The journey: instant steps only, so the whole of it finishes; fires 3 s from now.
    let at = app.now() + 3_000;
    let definition = Definition {
        trigger: Trigger::Schedule {
            weekdays: vec![],
            time: None,
            at: Some(at),
            audience: AUDIENCE.into(),
        },
        steps: vec![
            Step::Tag { tag_id: tag },
            Step::Coupon {
                template_id: template,
            },
            Step::Webhook {
                signal: SIGNALS[0].into(),
            },
            Step::Webhook {
                signal: SIGNALS[1].into(),
            },
        ],
        entry: Entry::Once,
        quiet_hours: None,
    };
    let input = JourneyInput::parse("断电演练", definition, app.now()).unwrap();
    let journeys = app.journeys();
    let id = journeys.create(&sys, &input).await.unwrap().journey.id;
    journeys.activate(&sys, id).await.unwrap();
    // A group SOP at the same instant, as tasks for every group's owner: its occurrence posts
    // once whichever side of the kill it falls on.
    let group_sop = Definition {
        trigger: Trigger::GroupSchedule {
            weekdays: vec![],
            time: None,
            at: Some(at),
            group_ids: vec![],
            all_groups: true,
        },
        steps: vec![Step::GroupMessage {
            text: "断电演练：请在群里发这条".into(),
            attachments: vec![],
            material_id: None,
            delivery: GroupDelivery::OwnerTask,
        }],
        entry: Entry::Reentry,
        quiet_hours: None,
    };
    let input = JourneyInput::parse("断电演练·群SOP", group_sop, app.now()).unwrap();
    let sop = journeys.create(&sys, &input).await.unwrap().journey.id;
    journeys.activate(&sys, sop).await.unwrap();
    let runs_sql = format!("SELECT COUNT(*) FROM journey_runs WHERE journey_id = {id}");
    let done_sql =
        format!("SELECT COUNT(*) FROM journey_runs WHERE journey_id = {id} AND state = 'done'");
    let steps_sql =
        format!("SELECT COUNT(*) FROM journey_trace WHERE journey_id = {id} AND kind <> 'entry'");
    assert_eq!(scalar(db, &runs_sql).await, 0);

    // 1. The node fires the occurrence and walks the runs; killed once `kill_at` step lines
    // have committed (a point drawn anew each time, within the first fifth of the journey's
    // 5 lines per run, so repeated runs kill it at different steps of different runs).
    let kill_at = i64::from(rand::random::<u32>() % KILL_WITHIN) + 1;
    let env = [("YUTANG_SECRET_KEY", key_hex.as_str())];
    let node = Node::start(&url, dir.path(), 1, &env).await;
    let fired = Instant::now();
    wait_for(
        Duration::from_secs(300),
        &format!("{kill_at} step lines of the journey committing"),
        &node.log,
        || async { (scalar(db, &steps_sql).await >= kill_at).then_some(()) },
    )
    .await;
    node.kill9();
    let killed_after = fired.elapsed();
    let runs = scalar(db, &runs_sql).await;
    let done = scalar(db, &done_sql).await;
    let steps_left = scalar(db, &steps_sql).await;
    let claims_left = scalar(
        db,
        &format!("SELECT COUNT(*) FROM coupon_claims WHERE template_id = {template}"),
    )
    .await;
    let coupon_lines_left = scalar(
        db,
        &format!("SELECT COUNT(*) FROM journey_trace WHERE journey_id = {id} AND kind = 'coupon'"),
    )
    .await;
    assert!(runs > 0, "the occurrence fired before the kill");
    eprintln!(
        "journey drill ({engine}): killed at {kill_at} step lines, {killed_after:?} after the \
         node answered: {done} of {runs} runs done, {steps_left} step lines, {claims_left} \
         coupons issued and {coupon_lines_left} coupon steps committed"
    );
    if done == runs {
        eprintln!("journey drill ({engine}): the journey had finished before the kill");
    }

    // 2. The dead node's leases lapse (as they would 60 s later); a second node finishes.
    exec(
        db,
        &format!("UPDATE journey_runs SET lease_until = 0 WHERE journey_id = {id}"),
    )
    .await;
    let node = Node::start(&url, dir.path(), 2, &env).await;
    wait_for(
        Duration::from_secs(600),
        "every run of the journey ending after the restart",
        &node.log,
        || async {
            let open = scalar(
                db,
                &format!(
                    "SELECT COUNT(*) FROM journey_runs WHERE journey_id = {id} \
                     AND state IN ('active', 'sending')"
                ),
            )
            .await;
            (open == 0).then_some(())
        },
    )
    .await;
    let sends_sql = format!("SELECT COUNT(*) FROM journey_group_sends WHERE journey_id = {sop}");
    wait_for(
        Duration::from_secs(120),
        "the group SOP's occurrence posted",
        &node.log,
        || async { (scalar(db, &sends_sql).await == 1).then_some(()) },
    )
    .await;
    node.kill9();
    // One post, and as many owner tasks as it recorded: one per owner with a group open to
    // posting, none twice.
    let tasks = scalar(
        db,
        &format!("SELECT tasks FROM journey_group_sends WHERE journey_id = {sop}"),
    )
    .await;
    let made = scalar(
        db,
        &format!("SELECT COUNT(*) FROM guide_tasks WHERE source_ref = 'journey:{sop}:group'"),
    )
    .await;
    let owners = scalar(
        db,
        "SELECT COUNT(DISTINCT g.owner_staff_id) FROM customer_groups g \
         JOIN staff s ON s.id = g.owner_staff_id \
         WHERE g.dismissed_at IS NULL AND s.status = 'active' \
         AND s.wecom_userid IS NOT NULL AND s.wecom_userid <> ''",
    )
    .await;
    assert_eq!(
        (tasks, made),
        (owners, owners),
        "one owner task per owner, once"
    );
    assert_eq!(scalar(db, &sends_sql).await, 1);
    eprintln!("journey drill ({engine}): the group SOP posted once: {tasks} owner tasks");
    eprintln!(
        "journey drill ({engine}): {runs} runs finished {:?} after the first node answered",
        fired.elapsed()
    );
    assert!(
        scalar(db, &steps_sql).await >= steps_left,
        "committed steps cannot vanish"
    );

    // The journey was never paused, its one occurrence fired, and every run ended `done`, at
    // the end.
    let row = yutang_store::journeys::get(db, id).await.unwrap();
    assert_eq!(row.status, "active", "{row:?}");
    assert_eq!(
        row.next_fire_at, None,
        "the one-off occurrence fired: {row:?}"
    );
    assert_eq!(scalar(db, &done_sql).await, runs, "every run done");
    assert_eq!(
        scalar(
            db,
            &format!("SELECT COUNT(*) FROM journey_runs WHERE journey_id = {id} AND step <> 4"),
        )
        .await,
        0
    );

    // Exactly one run per customer the audience matched at the occurrence (the journey's own
    // effects change no order count), and nobody else.
    let members: BTreeSet<i64> = app
        .segments()
        .segment_members(&sys, AUDIENCE)
        .await
        .unwrap()
        .1
        .iter()
        .map(i64::from)
        .collect();
    let live = scalar(
        db,
        "SELECT COUNT(*) FROM customers WHERE merged_into IS NULL",
    )
    .await;
    eprintln!(
        "journey drill ({engine}): the audience matches {} of {live} live customers",
        members.len()
    );
    assert!(
        members.len() * 2 > CUSTOMERS,
        "the audience matches {} of {live} customers",
        members.len()
    );
    let enrolled = column(
        db,
        &format!("SELECT customer_id FROM journey_runs WHERE journey_id = {id}"),
    )
    .await;
    let per_customer = tally(enrolled.iter().copied());
    let twice: Vec<_> = per_customer.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "customers with several runs: {twice:?}");
    let enrolled: BTreeSet<i64> = per_customer.into_keys().collect();
    assert_eq!(enrolled, members, "the runs are the audience");

    // Each run's trace: every step once, in order.
    let mut traces: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (customer, line) in pairs(
        db,
        &format!(
            "SELECT r.customer_id, CAST(t.step AS TEXT) || ' ' || t.kind || ':' || t.outcome \
             FROM journey_trace t JOIN journey_runs r ON r.id = t.run_id \
             WHERE t.journey_id = {id} ORDER BY t.run_id, t.id"
        ),
    )
    .await
    {
        traces.entry(customer).or_default().push(line);
    }
    assert_eq!(traces.len(), members.len(), "a trace for every run");
    let want = expected_trace();
    for (customer, trace) in &traces {
        assert_eq!(trace, &want, "customer {customer}'s trace");
    }

    // One claim of the template per customer, the one the coupon step's trace names.
    let claims = pairs(
        db,
        &format!(
            "SELECT customer_id, CAST(id AS TEXT) FROM coupon_claims WHERE template_id = {template}"
        ),
    )
    .await;
    let claimed = tally(claims.iter().map(|(c, _)| *c));
    let twice: Vec<_> = claimed.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "customers with several claims: {twice:?}");
    assert_eq!(
        claimed.keys().copied().collect::<BTreeSet<_>>(),
        members,
        "a claim for every run, and for nobody else"
    );
    let claim_of: BTreeMap<i64, i64> = claims
        .iter()
        .map(|(c, claim)| (*c, claim.parse().unwrap()))
        .collect();
    for (customer, detail) in pairs(
        db,
        &format!(
            "SELECT r.customer_id, t.detail FROM journey_trace t JOIN journey_runs r \
             ON r.id = t.run_id WHERE t.journey_id = {id} AND t.kind = 'coupon'"
        ),
    )
    .await
    {
        let d: Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(
            d["claim_id"].as_i64(),
            Some(claim_of[&customer]),
            "customer {customer}'s coupon step: {d}"
        );
    }
    assert_eq!(
        scalar(
            db,
            &format!("SELECT COUNT(*) FROM coupons WHERE template_id = {template}"),
        )
        .await,
        i64::try_from(members.len()).unwrap(),
        "one coupon per claim"
    );

    // The tag: held by every run's customer, added once each.
    let holders = column(
        db,
        &format!("SELECT customer_id FROM customer_tags WHERE tag_id = {tag}"),
    )
    .await;
    assert_eq!(
        holders.iter().copied().collect::<BTreeSet<_>>(),
        members,
        "the tag on every run's customer"
    );
    let added = pairs(
        db,
        "SELECT customer_id, detail FROM events WHERE kind = 'tag_added'",
    )
    .await
    .into_iter()
    .filter(|(_, d)| serde_json::from_str::<Value>(d).unwrap()["tag_id"].as_i64() == Some(tag))
    .map(|(c, _)| c);
    let added = tally(added);
    let twice: Vec<_> = added.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        twice.is_empty(),
        "customers tagged several times: {twice:?}"
    );
    assert_eq!(added.keys().copied().collect::<BTreeSet<_>>(), members);

    // One journey_signal event per signal and customer.
    let signals = pairs(
        db,
        "SELECT customer_id, detail FROM events WHERE kind = 'journey_signal'",
    )
    .await
    .into_iter()
    .filter_map(|(c, d)| {
        let d: Value = serde_json::from_str(&d).unwrap();
        (d["journey_id"].as_i64() == Some(id))
            .then(|| (c, d["signal"].as_str().unwrap().to_owned()))
    });
    let signals = tally(signals);
    for signal in SIGNALS {
        let got: BTreeSet<i64> = signals
            .iter()
            .filter(|((_, s), _)| s == signal)
            .map(|((c, _), _)| *c)
            .collect();
        assert_eq!(got, members, "signal {signal} for every run's customer");
    }
    let twice: Vec<_> = signals.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "signals sent several times: {twice:?}");
    assert_eq!(signals.len(), SIGNALS.len() * members.len());
    eprintln!(
        "journey drill ({engine}): {} customers, each traced once through every step, in {:?}",
        members.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_journey_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("journey.db").display());
    crash_during_a_journey("sqlite", url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_journey_on_postgres() {
    crash_during_a_journey("postgres", common::fresh_pg_url().await).await;
}
