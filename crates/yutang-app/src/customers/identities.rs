//! One person, one record: the rules that decide whether a record creates a customer,
//! attaches to one or merges several, applied inside the caller's transaction.
//!
//! The decisions are core's (`plan_ingest`, `attach_conflicts`, `merge_conflicts`,
//! `merge_profiles`); the store only reads and writes rows. Each merge is audited in the
//! same transaction, so a merge and its audit entry commit together or not at all.

use yutang_core::customers::merge_profiles;
use yutang_core::identity::{IngestPlan, attach_conflicts, merge_conflicts, plan_ingest};
use yutang_store::customers::{self as store, IngestOutcome, IngestRecord};
use yutang_store::tx::Tx;

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::{Actor, App};

fn identity_conflict(message: String) -> AppError {
    AppError::Rule {
        code: "identity_conflict",
        message,
    }
}

/// Ingest a record: create a customer, attach to the customer its identities name, or merge
/// the customers they link — then attach new identities and apply the profile and
/// attributes. Returns the customer and what happened.
pub(crate) async fn ingest_in(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    rec: &IngestRecord,
) -> Result<(i64, IngestOutcome)> {
    let now = app.now();
    let mut owners = Vec::new();
    for i in &rec.identities {
        if let Some(o) = store::identity_owner_in(tx, i).await?
            && let Some(c) = store::resolve_in(tx, o).await?
        {
            owners.push(c);
        }
    }
    let (id, outcome) = match plan_ingest(&owners) {
        IngestPlan::Create => (store::create_in(tx, now).await?, IngestOutcome::Created),
        IngestPlan::Attach(c) => (c.0, IngestOutcome::Attached),
        IngestPlan::Merge { survivor, losers } => {
            // Lock every customer of the merge up front, in id order, so two records that
            // link overlapping customers queue instead of deadlocking.
            let mut ids: Vec<i64> = losers.iter().map(|l| l.0).collect();
            ids.push(survivor.0);
            lock_all(tx, ids).await?;
            for l in &losers {
                merge_in(app, tx, actor, survivor.0, l.0, false, "shared identity").await?;
            }
            (
                survivor.0,
                IngestOutcome::Merged(losers.iter().map(|l| l.0).collect()),
            )
        }
    };
    let existing = store::identities_in(tx, id).await?;
    if let Some(c) = attach_conflicts(&existing, &rec.identities).first() {
        return Err(identity_conflict(format!(
            "customer {id} already has the {} identity {}; refusing to add {}",
            c.kind, c.left, c.right
        )));
    }
    let mut incoming = rec.identities.clone();
    incoming.sort();
    incoming.dedup();
    for i in incoming.iter().filter(|i| !existing.contains(i)) {
        // A new customer's identities are part of its creation, not timeline news.
        store::insert_identity_in(tx, id, i, outcome != IngestOutcome::Created, now).await?;
    }
    if !rec.profile.is_empty() {
        let before = store::profile_in(tx, id).await?;
        let mut after = before.clone();
        after.apply(&rec.profile);
        if after != before {
            store::write_profile_in(tx, id, &after, now).await?;
            if outcome != IngestOutcome::Created {
                yutang_store::events::append_in(tx, id, "profile_updated", now, None, "{}", now)
                    .await?;
            }
        }
    }
    store::set_attributes_in(tx, id, &rec.attributes, now).await?;
    Ok((id, outcome))
}

/// Merge `loser` into `survivor` (both live): refuse two people's conflicting single-valued
/// identities unless `force`, keep the survivor's profile fields where both have one, move
/// everything else and audit the merge.
pub(crate) async fn merge_in(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    survivor: i64,
    loser: i64,
    force: bool,
    reason: &str,
) -> Result<()> {
    if survivor == loser {
        return Ok(());
    }
    // Two merges that share a customer (A+B and B+C) must not both move it: each locks
    // both rows (PostgreSQL; SQLite serialises writers) and then checks that neither was
    // merged by a transaction that committed while it waited. Without this, C could land
    // on B after B moved to A, its identities left on a merged customer.
    lock_all(tx, vec![survivor, loser]).await?;
    for id in [survivor, loser] {
        if store::resolve_in(tx, id).await?.map(|c| c.id.0) != Some(id) {
            return Err(AppError::Conflict {
                what: "customer",
                code: "concurrent_merge",
            });
        }
    }
    if !force {
        let conflicts = merge_conflicts(
            &store::identities_in(tx, survivor).await?,
            &store::identities_in(tx, loser).await?,
        );
        if let Some(c) = conflicts.first() {
            return Err(identity_conflict(format!(
                "customers {survivor} and {loser} hold different {} identities ({} vs {}); \
                 they look like two people",
                c.kind, c.left, c.right
            )));
        }
    }
    let now = app.now();
    let merged = merge_profiles(
        &store::profile_in(tx, survivor).await?,
        &store::profile_in(tx, loser).await?,
    );
    store::write_profile_in(tx, survivor, &merged, now).await?;
    store::move_customer_in(tx, survivor, loser, reason, now).await?;
    // The merged-away customer's points move to the survivor, each lot keeping its expiry.
    crate::loyalty::points::on_merge_in(tx, survivor, loser, now).await?;
    // The survivor keeps the better tier of the two.
    crate::loyalty::tiers::on_merge_in(tx, survivor, loser, now).await?;
    crate::loyalty::stored_value::on_merge_in(tx, survivor, loser, now).await?;
    // Their points-mall exchanges too.
    crate::loyalty::mall::on_merge_in(tx, survivor, loser, now).await?;
    audit::record_in(
        app,
        tx,
        actor,
        Action::CustomerMerged,
        &format!("customer:{survivor}"),
        &serde_json::json!({"from": loser, "into": survivor, "reason": reason}).to_string(),
    )
    .await
}

/// Lock customer rows in ascending id order (the one order every merge uses).
async fn lock_all(tx: &mut Tx, mut ids: Vec<i64>) -> Result<()> {
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        store::lock_in(tx, id).await?;
    }
    Ok(())
}
