//! Multi-statement use cases that must commit or roll back as one: ingesting a customer,
//! merging, follows, orders and refunds. The body is written once in [`engine_ops!`] and
//! compiled once per engine (`txn::sqlite`, `txn::pg`), the same idea as [`db_run!`] for
//! single queries; [`tx_run!`] picks the module for the database at hand.

use yutang_core::customers::{Gender, Profile, ProfilePatch, merge_profiles};
use yutang_core::identity::{
    Identity, IdentityKind, IngestPlan, MergeCandidate, attach_conflicts, choose_survivor,
    merge_conflicts, plan_ingest,
};
use yutang_core::money::Fen;
use yutang_core::orders::{OrderFact, OrderLine, OrderStatus, aggregate, apply_refund};

use crate::error::{Result, StoreError};

/// Who caused a write, for the audit rows a transaction appends itself.
#[derive(Debug, Clone)]
pub struct AuditCtx<'a> {
    pub actor_kind: &'a str,
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub ip: &'a str,
}

/// What ingesting a record did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    Created,
    Attached,
    /// The record linked customers that were merged into this one.
    Merged(Vec<i64>),
}

/// A record to ingest: identities, profile changes and custom attribute values.
#[derive(Debug, Clone, Default)]
pub struct IngestRecord {
    pub identities: Vec<Identity>,
    pub profile: ProfilePatch,
    /// `(attribute id, normalised value)`.
    pub attributes: Vec<(i64, String)>,
}

/// A follow relation as written.
#[derive(Debug, Clone)]
pub struct FollowInput<'a> {
    pub customer_id: i64,
    pub staff_id: i64,
    pub since: i64,
    pub remark: Option<&'a str>,
    pub state: &'a str,
    /// `Some(true)` makes this guide the owner (and no one else); `None` keeps ownership,
    /// except that a customer's first follow becomes its owner.
    pub owner: Option<bool>,
}

/// An order as written, already validated and resolved.
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    pub external_id: &'a str,
    pub customer_id: i64,
    pub channel: &'a str,
    pub store_id: Option<i64>,
    pub guide_id: Option<i64>,
    pub campaign: &'a str,
    pub status: OrderStatus,
    pub amount: Fen,
    pub discount: Fen,
    pub paid_at: i64,
    pub lines: &'a [OrderLine],
    /// The fingerprint of the input as sent (`""`: unknown, e.g. imports): a later copy with
    /// the same external id and another fingerprint is refused (`external_id_reused`).
    pub fingerprint: &'a str,
}

fn refused(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        code,
        message: message.into(),
    }
}

fn detail(v: serde_json::Value) -> String {
    v.to_string()
}

/// `$lock` is the row-lock suffix for a `SELECT` whose row the transaction writes next:
/// ` FOR NO KEY UPDATE` on PostgreSQL (READ COMMITTED would otherwise let two transactions
/// read the same amount and both write from it; `NO KEY` leaves the foreign-key share locks
/// of concurrent inserts alone), empty on SQLite, whose `BEGIN IMMEDIATE` already serialises
/// writers.
macro_rules! engine_ops {
    ($DB:ty, $begin:literal, $lock:literal) => {
        use super::*;
        use sqlx::{Pool, Transaction};

        type Tx = Transaction<'static, $DB>;

        pub(crate) async fn append_event(
            tx: &mut Tx,
            customer: i64,
            kind: &str,
            occurred_at: i64,
            staff: Option<i64>,
            detail: &str,
            now: i64,
        ) -> Result<()> {
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
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        async fn audit(tx: &mut Tx, a: &AuditCtx<'_>, action: &str, target: &str, detail: &str, now: i64) -> Result<()> {
            sqlx::query(
                "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, target, detail, ip) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(now)
            .bind(a.actor_kind)
            .bind(a.actor_id)
            .bind(a.actor_name)
            .bind(action)
            .bind(target)
            .bind(detail)
            .bind(a.ip)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// The live customer an id stands for (following merges), with its creation time.
        async fn resolve(tx: &mut Tx, id: i64) -> Result<Option<MergeCandidate>> {
            let mut cur = id;
            for _ in 0..16 {
                let row: Option<(i64, Option<i64>, i64)> = sqlx::query_as(
                    "SELECT id, merged_into, created_at FROM customers WHERE id = $1",
                )
                .bind(cur)
                .fetch_optional(&mut **tx)
                .await?;
                match row {
                    None => return Ok(None),
                    Some((id, None, at)) => {
                        return Ok(Some(MergeCandidate {
                            id: yutang_core::ids::CustomerId(id),
                            created_at: at,
                        }));
                    }
                    Some((_, Some(next), _)) => cur = next,
                }
            }
            Err(refused("merge_cycle", "customer merge chain is too long"))
        }

        async fn identities_of(tx: &mut Tx, customer: i64) -> Result<Vec<Identity>> {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT kind, namespace, value FROM customer_identities WHERE customer_id = $1 ORDER BY id",
            )
            .bind(customer)
            .fetch_all(&mut **tx)
            .await?;
            Ok(rows
                .into_iter()
                .filter_map(|(k, namespace, value)| {
                    IdentityKind::parse("kind", &k).ok().map(|kind| Identity {
                        kind,
                        namespace,
                        value,
                    })
                })
                .collect())
        }

        async fn profile_of(tx: &mut Tx, customer: i64) -> Result<Profile> {
            let (name, gender, birthday, city, member_level): (String, String, Option<String>, String, String) =
                sqlx::query_as(
                    "SELECT name, gender, birthday, city, member_level FROM customers WHERE id = $1",
                )
                .bind(customer)
                .fetch_one(&mut **tx)
                .await?;
            Ok(Profile {
                name,
                gender: Gender::parse("gender", &gender).unwrap_or_default(),
                birthday,
                city,
                member_level,
            })
        }

        async fn write_profile(tx: &mut Tx, customer: i64, p: &Profile, now: i64) -> Result<()> {
            sqlx::query(
                "UPDATE customers SET name = $1, gender = $2, birthday = $3, city = $4, \
                 member_level = $5, updated_at = $6 WHERE id = $7",
            )
            .bind(&p.name)
            .bind(p.gender.as_str())
            .bind(p.birthday.as_deref())
            .bind(&p.city)
            .bind(&p.member_level)
            .bind(now)
            .bind(customer)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Recompute a customer's order aggregates from their orders. The customer row is locked
        /// first, so the orders read below include every transaction that wrote this customer's
        /// aggregates before (no stale total overwrites a newer one).
        pub(crate) async fn refresh_aggregates(tx: &mut Tx, customer: i64, now: i64) -> Result<()> {
            lock_customer(tx, customer).await?;
            let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
                "SELECT amount, refunded_amount, paid_at FROM orders WHERE customer_id = $1",
            )
            .bind(customer)
            .fetch_all(&mut **tx)
            .await?;
            let facts: Vec<OrderFact> = rows
                .into_iter()
                .map(|(a, r, p)| OrderFact {
                    amount: Fen(a),
                    refunded: Fen(r),
                    paid_at: p,
                })
                .collect();
            let a = aggregate(&facts);
            sqlx::query(
                "UPDATE customers SET order_count = $1, total_spend = $2, avg_order_value = $3, \
                 first_order_at = $4, last_order_at = $5, updated_at = $6 WHERE id = $7",
            )
            .bind(a.order_count)
            .bind(a.total_spend.0)
            .bind(a.avg_order_value.0)
            .bind(a.first_order_at)
            .bind(a.last_order_at)
            .bind(now)
            .bind(customer)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Lock a customer row until the transaction ends (PostgreSQL; a no-op on SQLite).
        async fn lock_customer(tx: &mut Tx, customer: i64) -> Result<()> {
            let _: Option<i64> = sqlx::query_scalar(concat!("SELECT id FROM customers WHERE id = $1", $lock))
                .bind(customer)
                .fetch_optional(&mut **tx)
                .await?;
            Ok(())
        }

        /// A fully refunded order returns the coupons used on it whose template says so, in the
        /// refund's own transaction: exactly once, since only `used` coupons move.
        async fn return_coupons(tx: &mut Tx, order: i64, now: i64) -> Result<()> {
            use yutang_core::promotions::coupons::{CouponEvent, CouponState, TemplateSpec, transition};
            use yutang_core::time::Millis;
            let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
                "SELECT c.id, c.customer_id, c.valid_until, t.spec FROM coupons c \
                 JOIN coupon_templates t ON t.id = c.template_id \
                 WHERE c.order_id = $1 AND c.state = 'used' ORDER BY c.id",
            )
            .bind(order)
            .fetch_all(&mut **tx)
            .await?;
            for (id, customer, until, spec) in rows {
                let spec: TemplateSpec =
                    serde_json::from_str(&spec).map_err(|e| refused("bad_record", e.to_string()))?;
                let ev = CouponEvent::Refund { return_on_refund: spec.return_on_refund };
                let Some(to) = transition(CouponState::Used, ev, Millis(now), Millis(until)) else {
                    continue;
                };
                let clear = if to == CouponState::Claimed {
                    "UPDATE coupons SET state = $1, updated_at = $2, order_id = NULL, discount_fen = 0, \
                     used_at = NULL WHERE id = $3 AND state = 'used'"
                } else {
                    "UPDATE coupons SET state = $1, updated_at = $2 WHERE id = $3 AND state = 'used'"
                };
                let n = sqlx::query(clear)
                    .bind(to.as_str())
                    .bind(now)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                if n == 1 {
                    let d = detail(serde_json::json!({"coupon_id": id, "from": "used", "to": to.as_str()}));
                    append_event(tx, customer, "coupon_returned", now, None, &d, now).await?;
                }
            }
            Ok(())
        }

        /// Coupons, flash-sale claims and group-buy places follow the person into the survivor.
        /// A claim's `seq` counts the holder's claims of one template (or sale) under
        /// `UNIQUE (…, customer_id, seq)`, so moved claims are numbered after the survivor's own.
        /// A group-buy member row moves unless the survivor is in the same team already (then
        /// the loser's row stays: one person cannot hold two places of one team under one id).
        async fn move_promotions(tx: &mut Tx, survivor: i64, loser: i64, now: i64) -> Result<()> {
            let claims: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT id, template_id FROM coupon_claims WHERE customer_id = $1 ORDER BY id",
            )
            .bind(loser)
            .fetch_all(&mut **tx)
            .await?;
            for (id, template) in claims {
                sqlx::query(
                    "UPDATE coupon_claims SET customer_id = $1, seq = (SELECT COALESCE(MAX(seq), 0) + 1 \
                     FROM coupon_claims WHERE template_id = $2 AND customer_id = $1) WHERE id = $3",
                )
                .bind(survivor)
                .bind(template)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            }
            sqlx::query("UPDATE coupons SET customer_id = $1, updated_at = $3 WHERE customer_id = $2")
                .bind(survivor)
                .bind(loser)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            let flash: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT id, sale_id FROM flash_sale_claims WHERE customer_id = $1 ORDER BY id",
            )
            .bind(loser)
            .fetch_all(&mut **tx)
            .await?;
            for (id, sale) in flash {
                sqlx::query(
                    "UPDATE flash_sale_claims SET customer_id = $1, updated_at = $4, \
                     seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM flash_sale_claims \
                     WHERE sale_id = $2 AND customer_id = $1) WHERE id = $3",
                )
                .bind(survivor)
                .bind(sale)
                .bind(id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            sqlx::query(
                "UPDATE group_buy_members SET customer_id = $1, updated_at = $3 WHERE customer_id = $2 \
                 AND team_id NOT IN (SELECT team_id FROM group_buy_members WHERE customer_id = $1)",
            )
            .bind(survivor)
            .bind(loser)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            sqlx::query("UPDATE group_buy_members SET inviter_id = $1 WHERE inviter_id = $2")
                .bind(survivor)
                .bind(loser)
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "UPDATE group_buy_teams SET leader_id = $1 WHERE leader_id = $2 \
                 AND id IN (SELECT team_id FROM group_buy_members WHERE customer_id = $1 AND is_leader = $3)",
            )
            .bind(survivor)
            .bind(loser)
            .bind(true)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Move everything of `loser` to `survivor` and mark the loser merged.
        async fn merge_in_tx(
            tx: &mut Tx,
            survivor: i64,
            loser: i64,
            force: bool,
            reason: &str,
            a: &AuditCtx<'_>,
            now: i64,
        ) -> Result<()> {
            if survivor == loser {
                return Ok(());
            }
            if !force {
                let conflicts = merge_conflicts(
                    &identities_of(tx, survivor).await?,
                    &identities_of(tx, loser).await?,
                );
                if let Some(c) = conflicts.first() {
                    return Err(refused(
                        "identity_conflict",
                        format!(
                            "customers {survivor} and {loser} hold different {} identities ({} vs {}); \
                             they look like two people",
                            c.kind, c.left, c.right
                        ),
                    ));
                }
            }
            let merged = merge_profiles(&profile_of(tx, survivor).await?, &profile_of(tx, loser).await?);
            write_profile(tx, survivor, &merged, now).await?;
            sqlx::query("UPDATE customer_identities SET customer_id = $1 WHERE customer_id = $2")
                .bind(survivor)
                .bind(loser)
                .execute(&mut **tx)
                .await?;
            // A guide who follows both keeps the survivor's relation.
            sqlx::query(
                "DELETE FROM follows WHERE customer_id = $2 AND staff_id IN \
                 (SELECT staff_id FROM follows WHERE customer_id = $1)",
            )
            .bind(survivor)
            .bind(loser)
            .execute(&mut **tx)
            .await?;
            let owners: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM follows WHERE customer_id = $1 AND is_owner = $2",
            )
            .bind(survivor)
            .bind(true)
            .fetch_one(&mut **tx)
            .await?;
            if owners > 0 {
                sqlx::query("UPDATE follows SET is_owner = $1 WHERE customer_id = $2")
                    .bind(false)
                    .bind(loser)
                    .execute(&mut **tx)
                    .await?;
            }
            sqlx::query("UPDATE follows SET customer_id = $1, updated_at = $3 WHERE customer_id = $2")
                .bind(survivor)
                .bind(loser)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO customer_attributes (customer_id, attribute_id, value, updated_at) \
                 SELECT $1, attribute_id, value, updated_at FROM customer_attributes \
                 WHERE customer_id = $2 AND attribute_id NOT IN \
                 (SELECT attribute_id FROM customer_attributes WHERE customer_id = $1)",
            )
            .bind(survivor)
            .bind(loser)
            .execute(&mut **tx)
            .await?;
            sqlx::query("DELETE FROM customer_attributes WHERE customer_id = $1")
                .bind(loser)
                .execute(&mut **tx)
                .await?;
            // Tags move too, except where a single-select group already has one of the
            // survivor's tags (the survivor's wins, as for the profile).
            sqlx::query(
                "INSERT INTO customer_tags (customer_id, tag_id, source, staff_id, created_at) \
                 SELECT $1, ct.tag_id, ct.source, ct.staff_id, ct.created_at FROM customer_tags ct \
                 JOIN tags t ON t.id = ct.tag_id JOIN tag_groups g ON g.id = t.group_id \
                 WHERE ct.customer_id = $2 \
                 AND ct.tag_id NOT IN (SELECT tag_id FROM customer_tags WHERE customer_id = $1) \
                 AND (g.multi = $3 OR NOT EXISTS (SELECT 1 FROM customer_tags s \
                      JOIN tags st ON st.id = s.tag_id \
                      WHERE s.customer_id = $1 AND st.group_id = g.id))",
            )
            .bind(survivor)
            .bind(loser)
            .bind(true)
            .execute(&mut **tx)
            .await?;
            sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1")
                .bind(loser)
                .execute(&mut **tx)
                .await?;
            sqlx::query("UPDATE events SET customer_id = $1 WHERE customer_id = $2")
                .bind(survivor)
                .bind(loser)
                .execute(&mut **tx)
                .await?;
            sqlx::query("UPDATE orders SET customer_id = $1 WHERE customer_id = $2")
                .bind(survivor)
                .bind(loser)
                .execute(&mut **tx)
                .await?;
            move_promotions(tx, survivor, loser, now).await?;
            // Earlier losers of the loser now point at the survivor: lookups stay one hop.
            sqlx::query(
                "UPDATE customers SET merged_into = $1, updated_at = $3 WHERE id = $2 OR merged_into = $2",
            )
            .bind(survivor)
            .bind(loser)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            refresh_aggregates(tx, survivor, now).await?;
            refresh_aggregates(tx, loser, now).await?;
            let d = detail(serde_json::json!({"from": loser, "reason": reason}));
            append_event(tx, survivor, "merged", now, None, &d, now).await?;
            let d = detail(serde_json::json!({"into": survivor, "reason": reason}));
            append_event(tx, loser, "merged_into", now, None, &d, now).await?;
            audit(
                tx,
                a,
                "customer_merged",
                &format!("customer:{survivor}"),
                &format!("merged customer {loser} into {survivor} ({reason})"),
                now,
            )
            .await?;
            Ok(())
        }

        async fn set_attributes(tx: &mut Tx, customer: i64, attrs: &[(i64, String)], now: i64) -> Result<()> {
            for (attr, value) in attrs {
                sqlx::query(
                    "INSERT INTO customer_attributes (customer_id, attribute_id, value, updated_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, attribute_id) \
                     DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                )
                .bind(customer)
                .bind(attr)
                .bind(value)
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::classify(e, "attributes"))?;
            }
            Ok(())
        }

        /// Ingest a record: create, attach to the customer its identities name, or merge the
        /// customers they link — then attach new identities and apply the profile.
        pub async fn ingest(
            pool: &Pool<$DB>,
            rec: &IngestRecord,
            a: &AuditCtx<'_>,
            now: i64,
        ) -> Result<(i64, IngestOutcome)> {
            let mut tx = pool.begin_with($begin).await?;
            let out = ingest_in_tx(&mut tx, rec, a, now).await?;
            tx.commit().await?;
            Ok(out)
        }

        /// [`ingest`] inside a transaction the caller commits.
        async fn ingest_in_tx(
            tx: &mut Tx,
            rec: &IngestRecord,
            a: &AuditCtx<'_>,
            now: i64,
        ) -> Result<(i64, IngestOutcome)> {
            let mut owners = Vec::new();
            for i in &rec.identities {
                let owner: Option<i64> = sqlx::query_scalar(
                    "SELECT customer_id FROM customer_identities WHERE kind = $1 AND namespace = $2 AND value = $3",
                )
                .bind(i.kind.as_str())
                .bind(&i.namespace)
                .bind(&i.value)
                .fetch_optional(&mut **tx)
                .await?;
                if let Some(o) = owner
                    && let Some(c) = resolve(tx, o).await?
                {
                    owners.push(c);
                }
            }
            let (id, outcome) = match plan_ingest(&owners) {
                IngestPlan::Create => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO customers (created_at, updated_at) VALUES ($1, $1) RETURNING id",
                    )
                    .bind(now)
                    .fetch_one(&mut **tx)
                    .await?;
                    append_event(tx, id, "created", now, None, "{}", now).await?;
                    (id, IngestOutcome::Created)
                }
                IngestPlan::Attach(c) => (c.0, IngestOutcome::Attached),
                IngestPlan::Merge { survivor, losers } => {
                    for l in &losers {
                        merge_in_tx(tx, survivor.0, l.0, false, "shared identity", a, now).await?;
                    }
                    (survivor.0, IngestOutcome::Merged(losers.iter().map(|l| l.0).collect()))
                }
            };
            let existing = identities_of(tx, id).await?;
            if let Some(c) = attach_conflicts(&existing, &rec.identities).first() {
                return Err(refused(
                    "identity_conflict",
                    format!(
                        "customer {id} already has the {} identity {}; refusing to add {}",
                        c.kind, c.left, c.right
                    ),
                ));
            }
            let mut incoming = rec.identities.clone();
            incoming.sort();
            incoming.dedup();
            for i in incoming.iter().filter(|i| !existing.contains(i)) {
                sqlx::query(
                    "INSERT INTO customer_identities (customer_id, kind, namespace, value, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(i.kind.as_str())
                .bind(&i.namespace)
                .bind(&i.value)
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::classify(e, "identity"))?;
                if outcome != IngestOutcome::Created {
                    let d = detail(serde_json::json!({"kind": i.kind.as_str(), "namespace": i.namespace}));
                    append_event(tx, id, "identity_added", now, None, &d, now).await?;
                }
            }
            if !rec.profile.is_empty() {
                let before = profile_of(tx, id).await?;
                let mut after = before.clone();
                after.apply(&rec.profile);
                if after != before {
                    write_profile(tx, id, &after, now).await?;
                    if outcome != IngestOutcome::Created {
                        append_event(tx, id, "profile_updated", now, None, "{}", now).await?;
                    }
                }
            }
            set_attributes(tx, id, &rec.attributes, now).await?;
            Ok((id, outcome))
        }

        /// Update a live customer's profile and attributes.
        pub async fn update_profile(
            pool: &Pool<$DB>,
            id: i64,
            patch: &ProfilePatch,
            attrs: &[(i64, String)],
            now: i64,
        ) -> Result<()> {
            let mut tx = pool.begin_with($begin).await?;
            let before = profile_of(&mut tx, id).await?;
            let mut after = before.clone();
            after.apply(patch);
            if after != before {
                write_profile(&mut tx, id, &after, now).await?;
            }
            set_attributes(&mut tx, id, attrs, now).await?;
            if after != before || !attrs.is_empty() {
                append_event(&mut tx, id, "profile_updated", now, None, "{}", now).await?;
            }
            tx.commit().await?;
            Ok(())
        }

        /// Add an identity to a customer. An identity that belongs to someone else is refused
        /// (merge the two customers instead); one the customer already has is a no-op.
        pub async fn add_identity(pool: &Pool<$DB>, id: i64, i: &Identity, now: i64) -> Result<bool> {
            let mut tx = pool.begin_with($begin).await?;
            let owner: Option<i64> = sqlx::query_scalar(
                "SELECT customer_id FROM customer_identities WHERE kind = $1 AND namespace = $2 AND value = $3",
            )
            .bind(i.kind.as_str())
            .bind(&i.namespace)
            .bind(&i.value)
            .fetch_optional(&mut *tx)
            .await?;
            match owner {
                Some(o) if o == id => return Ok(false),
                Some(o) => {
                    return Err(refused(
                        "identity_taken",
                        format!("this identity belongs to customer {o}; merge the two customers instead"),
                    ));
                }
                None => {}
            }
            let existing = identities_of(&mut tx, id).await?;
            if let Some(c) = attach_conflicts(&existing, std::slice::from_ref(i)).first() {
                return Err(refused(
                    "identity_conflict",
                    format!("customer {id} already has the {} identity {}", c.kind, c.left),
                ));
            }
            sqlx::query(
                "INSERT INTO customer_identities (customer_id, kind, namespace, value, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(i.kind.as_str())
            .bind(&i.namespace)
            .bind(&i.value)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "identity"))?;
            let d = detail(serde_json::json!({"kind": i.kind.as_str(), "namespace": i.namespace}));
            append_event(&mut tx, id, "identity_added", now, None, &d, now).await?;
            tx.commit().await?;
            Ok(true)
        }

        /// Merge two customers (either may already be merged: both resolve first). Returns
        /// `(survivor, loser)`; merging a customer with itself is a no-op.
        pub async fn merge(
            pool: &Pool<$DB>,
            a_id: i64,
            b_id: i64,
            force: bool,
            a: &AuditCtx<'_>,
            now: i64,
        ) -> Result<(i64, i64)> {
            let mut tx = pool.begin_with($begin).await?;
            let (Some(x), Some(y)) = (resolve(&mut tx, a_id).await?, resolve(&mut tx, b_id).await?) else {
                return Err(StoreError::NotFound);
            };
            if x.id == y.id {
                return Ok((x.id.0, y.id.0));
            }
            let survivor = choose_survivor(&[x, y]).unwrap_or(x.id).0;
            let loser = if survivor == x.id.0 { y.id.0 } else { x.id.0 };
            merge_in_tx(&mut tx, survivor, loser, force, "manual", a, now).await?;
            tx.commit().await?;
            Ok((survivor, loser))
        }

        /// Create or update a follow relation (unique per customer and guide).
        pub async fn upsert_follow(pool: &Pool<$DB>, f: &FollowInput<'_>, now: i64) -> Result<i64> {
            let mut tx = pool.begin_with($begin).await?;
            let id = follow_in_tx(&mut tx, f, now).await?;
            tx.commit().await?;
            Ok(id)
        }

        /// [`upsert_follow`] inside a transaction the caller commits.
        async fn follow_in_tx(tx: &mut Tx, f: &FollowInput<'_>, now: i64) -> Result<i64> {
            // Two guides following the same customer at once must not both become its owner.
            lock_customer(tx, f.customer_id).await?;
            let existing: Option<(i64, String, String, bool)> = sqlx::query_as(
                "SELECT id, state, remark, is_owner FROM follows WHERE customer_id = $1 AND staff_id = $2",
            )
            .bind(f.customer_id)
            .bind(f.staff_id)
            .fetch_optional(&mut **tx)
            .await?;
            let others: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM follows WHERE customer_id = $1 AND staff_id <> $2 AND is_owner = $3",
            )
            .bind(f.customer_id)
            .bind(f.staff_id)
            .bind(true)
            .fetch_one(&mut **tx)
            .await?;
            let owner = match (f.owner, &existing) {
                (Some(o), _) => o,
                (None, Some((_, _, _, o))) => *o,
                (None, None) => others == 0,
            };
            if owner {
                sqlx::query("UPDATE follows SET is_owner = $1 WHERE customer_id = $2 AND staff_id <> $3")
                    .bind(false)
                    .bind(f.customer_id)
                    .bind(f.staff_id)
                    .execute(&mut **tx)
                    .await?;
            }
            let (id, kind) = match existing {
                Some((id, state, remark, was_owner)) => {
                    let remark = f.remark.map(str::to_owned).unwrap_or(remark);
                    sqlx::query(
                        "UPDATE follows SET remark = $1, state = $2, is_owner = $3, updated_at = $4 WHERE id = $5",
                    )
                    .bind(&remark)
                    .bind(f.state)
                    .bind(owner)
                    .bind(now)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                    let changed = state != f.state || was_owner != owner;
                    (id, changed.then_some("follow_changed"))
                }
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO follows (customer_id, staff_id, since, remark, state, is_owner, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(f.customer_id)
                    .bind(f.staff_id)
                    .bind(f.since)
                    .bind(f.remark.unwrap_or(""))
                    .bind(f.state)
                    .bind(owner)
                    .bind(now)
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(|e| StoreError::classify(e, "staff_id"))?;
                    (id, Some("followed"))
                }
            };
            if let Some(kind) = kind {
                let d = detail(serde_json::json!({"state": f.state, "owner": owner}));
                append_event(tx, f.customer_id, kind, now, Some(f.staff_id), &d, now).await?;
            }
            Ok(id)
        }

        /// Insert an order with its lines and its `order_paid` event unless its external id
        /// is stored already; the caller refreshes the customer's aggregates.
        async fn insert_order(tx: &mut Tx, o: &NewOrder<'_>, now: i64) -> Result<(i64, bool)> {
            let existing: Option<(i64, String)> =
                sqlx::query_as("SELECT id, fingerprint FROM orders WHERE external_id = $1")
                    .bind(o.external_id)
                    .fetch_optional(&mut **tx)
                    .await?;
            if let Some((id, stored)) = existing {
                if !stored.is_empty() && !o.fingerprint.is_empty() && stored != o.fingerprint {
                    return Err(refused(
                        "external_id_reused",
                        "this external_id was already used for a different order",
                    ));
                }
                return Ok((id, false));
            }
            let shipped = matches!(o.status, OrderStatus::Shipped | OrderStatus::Completed).then_some(o.paid_at);
            let completed = (o.status == OrderStatus::Completed).then_some(o.paid_at);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO orders (external_id, customer_id, channel, store_id, guide_id, campaign, status, \
                 amount, discount, refunded_amount, paid_at, shipped_at, completed_at, created_at, updated_at, \
                 fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13, $13, $14) RETURNING id",
            )
            .bind(o.external_id)
            .bind(o.customer_id)
            .bind(o.channel)
            .bind(o.store_id)
            .bind(o.guide_id)
            .bind(o.campaign)
            .bind(o.status.as_str())
            .bind(o.amount.0)
            .bind(o.discount.0)
            .bind(o.paid_at)
            .bind(shipped)
            .bind(completed)
            .bind(now)
            .bind(o.fingerprint)
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| StoreError::classify(e, "external_id"))?;
            for (n, l) in o.lines.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price, amount) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(n as i64 + 1)
                .bind(&l.sku)
                .bind(&l.name)
                .bind(l.quantity)
                .bind(l.unit_price.0)
                .bind(l.amount().map(|a| a.0).unwrap_or(0))
                .execute(&mut **tx)
                .await?;
            }
            let d = detail(serde_json::json!({
                "order_id": id, "external_id": o.external_id, "amount_fen": o.amount.0,
                "channel": o.channel, "store_id": o.store_id,
            }));
            append_event(tx, o.customer_id, "order_paid", o.paid_at, o.guide_id, &d, now).await?;
            Ok((id, true))
        }

        /// Record an order, or find the one with the same external id (replay). Returns the
        /// order id and whether it was created now.
        pub async fn create_order(pool: &Pool<$DB>, o: &NewOrder<'_>, now: i64) -> Result<(i64, bool)> {
            let mut tx = pool.begin_with($begin).await?;
            let (id, created) = insert_order(&mut tx, o, now).await?;
            if created {
                refresh_aggregates(&mut tx, o.customer_id, now).await?;
                tx.commit().await?;
            }
            Ok((id, created))
        }

        /// Record many orders in one transaction (imports); each customer's aggregates are
        /// refreshed once. Returns, per order, whether it was created now.
        pub async fn create_orders(pool: &Pool<$DB>, orders: &[NewOrder<'_>], now: i64) -> Result<Vec<bool>> {
            let mut tx = pool.begin_with($begin).await?;
            let mut out = Vec::with_capacity(orders.len());
            let mut touched: Vec<i64> = Vec::new();
            for o in orders {
                let (_, created) = insert_order(&mut tx, o, now).await?;
                if created {
                    touched.push(o.customer_id);
                }
                out.push(created);
            }
            touched.sort_unstable();
            touched.dedup();
            for c in touched {
                refresh_aggregates(&mut tx, c, now).await?;
            }
            tx.commit().await?;
            Ok(out)
        }

        /// Move an order along fulfilment (shipped, completed). Repeating the current status
        /// changes nothing.
        pub async fn set_order_status(pool: &Pool<$DB>, id: i64, to: OrderStatus, at: i64, now: i64) -> Result<()> {
            let mut tx = pool.begin_with($begin).await?;
            let (status, customer): (String, i64) =
                sqlx::query_as(concat!("SELECT status, customer_id FROM orders WHERE id = $1", $lock))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            let cur = OrderStatus::parse("status", &status)?;
            if !cur.can_move_to(to) {
                return Err(refused(
                    "invalid_transition",
                    format!("an order that is {} cannot become {}", cur.as_str(), to.as_str()),
                ));
            }
            if cur == to {
                return Ok(());
            }
            let (sql, kind) = match to {
                OrderStatus::Shipped => (
                    "UPDATE orders SET status = $1, shipped_at = $2, updated_at = $3 WHERE id = $4",
                    "order_shipped",
                ),
                _ => (
                    "UPDATE orders SET status = $1, completed_at = $2, shipped_at = COALESCE(shipped_at, $2), \
                     updated_at = $3 WHERE id = $4",
                    "order_completed",
                ),
            };
            sqlx::query(sql)
                .bind(to.as_str())
                .bind(at)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let d = detail(serde_json::json!({"order_id": id}));
            append_event(&mut tx, customer, kind, at, None, &d, now).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Refund part or all of an order, idempotent by the refund's external id. Returns
        /// whether the refund was applied now (false: a replay).
        pub async fn refund_order(
            pool: &Pool<$DB>,
            id: i64,
            external_id: &str,
            amount: Fen,
            at: i64,
            now: i64,
        ) -> Result<bool> {
            let mut tx = pool.begin_with($begin).await?;
            // Lock the order first: concurrent refunds of it queue here, and each reads the
            // refunded amount (and any refund with the same id) the one before committed.
            let (paid, refunded, customer): (i64, i64, i64) = sqlx::query_as(concat!(
                "SELECT amount, refunded_amount, customer_id FROM orders WHERE id = $1",
                $lock
            ))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let prior: Option<(i64, i64)> =
                sqlx::query_as("SELECT order_id, amount FROM order_refunds WHERE external_id = $1")
                    .bind(external_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((order, amt)) = prior {
                if order != id || amt != amount.0 {
                    return Err(refused(
                        "refund_id_reused",
                        "this refund id was already used for another order or amount",
                    ));
                }
                return Ok(false);
            }
            let (total, status) = apply_refund(Fen(paid), Fen(refunded), amount)?;
            sqlx::query("UPDATE orders SET refunded_amount = $1, status = $2, updated_at = $3 WHERE id = $4")
                .bind(total.0)
                .bind(status.as_str())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO order_refunds (order_id, external_id, amount, refunded_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(external_id)
            .bind(amount.0)
            .bind(at)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "refund_id"))?;
            let d = detail(serde_json::json!({
                "order_id": id, "refund_id": external_id, "amount_fen": amount.0, "status": status.as_str(),
            }));
            append_event(&mut tx, customer, "order_refunded", at, None, &d, now).await?;
            if status == OrderStatus::Refunded {
                return_coupons(&mut tx, id, now).await?;
            }
            refresh_aggregates(&mut tx, customer, now).await?;
            tx.commit().await?;
            Ok(true)
        }

        /// A WeCom contact callback's local effects, in one transaction: the inbox row is
        /// claimed (marked applied), the customer found or created by its identity, the
        /// follow written, the timeline event added (idempotent by its client id) and the
        /// side job that needs WeCom queued (idempotent by its key). Returns the customer, or
        /// `None` when the callback was applied already (then nothing changes).
        pub async fn apply_wecom_contact(
            pool: &Pool<$DB>,
            c: &crate::wecom::ContactApply<'_>,
            a: &AuditCtx<'_>,
            now: i64,
        ) -> Result<Option<i64>> {
            let mut tx = pool.begin_with($begin).await?;
            // First, so that a concurrent applier of the same row waits here and then finds
            // it applied.
            let claimed = sqlx::query(
                "UPDATE wecom_inbox SET processed_at = $1, attempts = attempts + 1, last_error = '' \
                 WHERE id = $2 AND processed_at IS NULL",
            )
            .bind(now)
            .bind(c.inbox_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                return Ok(None);
            }
            let rec = IngestRecord {
                identities: vec![c.identity.clone()],
                ..IngestRecord::default()
            };
            let (customer, _) = ingest_in_tx(&mut tx, &rec, a, now).await?;
            if let Some(staff_id) = c.staff_id {
                let f = FollowInput {
                    customer_id: customer,
                    staff_id,
                    since: c.since,
                    remark: None,
                    state: c.follow_state,
                    owner: None,
                };
                follow_in_tx(&mut tx, &f, now).await?;
            }
            if let Some(e) = &c.event {
                sqlx::query(
                    "INSERT INTO events (customer_id, kind, client_id, occurred_at, received_at, staff_id, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id) DO NOTHING",
                )
                .bind(customer)
                .bind(e.kind)
                .bind(e.client_id)
                .bind(e.occurred_at)
                .bind(now)
                .bind(e.staff_id)
                .bind(e.detail)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(j) = &c.job {
                sqlx::query(
                    "INSERT INTO jobs (kind, payload, run_at, idempotency_key, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $3, $3) ON CONFLICT (idempotency_key) DO NOTHING",
                )
                .bind(j.kind)
                .bind(j.payload)
                .bind(now)
                .bind(j.idempotency_key)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(Some(customer))
        }
    };
}

pub(crate) mod sqlite {
    // Write transactions take SQLite's write lock up front: a deferred transaction that
    // reads and then writes fails at once with SQLITE_BUSY when another connection wrote in
    // between (busy_timeout cannot help a snapshot that went stale).
    engine_ops!(sqlx::Sqlite, "BEGIN IMMEDIATE", "");
}

pub(crate) mod pg {
    engine_ops!(sqlx::Postgres, "BEGIN", " FOR NO KEY UPDATE");
}

/// Call the same-named transactional function of the engine `$db` holds.
macro_rules! tx_run {
    ($db:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $db {
            $crate::db::Db::Sqlite(p) => $crate::txn::sqlite::$f(p, $($arg),*).await,
            $crate::db::Db::Postgres(p) => $crate::txn::pg::$f(p, $($arg),*).await,
        }
    };
}
