//! Data access for one person's record: identities, the customer row, its profile and
//! attributes, and moving everything of a merged customer to the survivor.
//!
//! Every function takes the caller's [`Tx`]; which customer to create, attach to or merge,
//! and which identities conflict, is decided by core's rules in the app crate
//! (`yutang_core::identity::{plan_ingest, attach_conflicts, merge_conflicts}`). The unique
//! key on `(kind, namespace, value)` stays the backstop under concurrency.

use yutang_core::customers::{Gender, Profile};
use yutang_core::identity::{Identity, IdentityKind, MergeCandidate};
use yutang_core::ids::CustomerId;

use crate::error::{Result, StoreError};
use crate::events::append_in;
use crate::orders::refresh_aggregates_in;
use crate::tx::Tx;

/// The customer holding this identity (possibly one merged since: see [`resolve_in`]).
pub async fn identity_owner_in(tx: &mut Tx, i: &Identity) -> Result<Option<i64>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT customer_id FROM customer_identities WHERE kind = $1 AND namespace = $2 AND value = $3",
        )
        .bind(i.kind.as_str())
        .bind(&i.namespace)
        .bind(&i.value)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// The live customer an id stands for (following merges), with its creation time.
pub async fn resolve_in(tx: &mut Tx, id: i64) -> Result<Option<MergeCandidate>> {
    let mut cur = id;
    for _ in 0..16 {
        let row: Option<(i64, Option<i64>, i64)> = in_tx!(tx, conn => {
            sqlx::query_as("SELECT id, merged_into, created_at FROM customers WHERE id = $1")
                .bind(cur)
                .fetch_optional(&mut *conn)
                .await?
        });
        match row {
            None => return Ok(None),
            Some((id, None, at)) => {
                return Ok(Some(MergeCandidate {
                    id: CustomerId(id),
                    created_at: at,
                }));
            }
            Some((_, Some(next), _)) => cur = next,
        }
    }
    Err(StoreError::Refused {
        code: "merge_cycle",
        message: "customer merge chain is too long".into(),
    })
}

/// A customer's identities, oldest first.
pub async fn identities_in(tx: &mut Tx, customer: i64) -> Result<Vec<Identity>> {
    let rows: Vec<(String, String, String)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT kind, namespace, value FROM customer_identities WHERE customer_id = $1 ORDER BY id",
        )
        .bind(customer)
        .fetch_all(&mut *conn)
        .await?
    });
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

/// Create an empty customer with its `created` timeline event.
pub async fn create_in(tx: &mut Tx, now: i64) -> Result<i64> {
    let id: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar("INSERT INTO customers (created_at, updated_at) VALUES ($1, $1) RETURNING id")
            .bind(now)
            .fetch_one(&mut *conn)
            .await?
    });
    append_in(tx, id, "created", now, None, "{}", now).await?;
    Ok(id)
}

/// Insert one identity of a customer, with an `identity_added` timeline event when
/// `announce`. The unique key refuses an identity another customer holds (`Conflict`).
pub async fn insert_identity_in(
    tx: &mut Tx,
    id: i64,
    i: &Identity,
    announce: bool,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO customer_identities (customer_id, kind, namespace, value, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(i.kind.as_str())
        .bind(&i.namespace)
        .bind(&i.value)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "identity"))?;
    });
    if announce {
        let d = serde_json::json!({"kind": i.kind.as_str(), "namespace": i.namespace}).to_string();
        append_in(tx, id, "identity_added", now, None, &d, now).await?;
    }
    Ok(())
}

/// Add an identity to a customer and announce it on the timeline.
pub async fn add_identity_in(tx: &mut Tx, id: i64, i: &Identity, now: i64) -> Result<()> {
    insert_identity_in(tx, id, i, true, now).await
}

pub async fn profile_in(tx: &mut Tx, customer: i64) -> Result<Profile> {
    let (name, gender, birthday, city, member_level): (
        String,
        String,
        Option<String>,
        String,
        String,
    ) = in_tx!(tx, conn => {
        sqlx::query_as("SELECT name, gender, birthday, city, member_level FROM customers WHERE id = $1")
            .bind(customer)
            .fetch_one(&mut *conn)
            .await?
    });
    Ok(Profile {
        name,
        gender: Gender::parse("gender", &gender).unwrap_or_default(),
        birthday,
        city,
        member_level,
    })
}

pub async fn write_profile_in(tx: &mut Tx, customer: i64, p: &Profile, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
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
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Set custom attribute values (`(attribute id, normalised value)`), replacing earlier ones.
pub async fn set_attributes_in(
    tx: &mut Tx,
    customer: i64,
    attrs: &[(i64, String)],
    now: i64,
) -> Result<()> {
    for (attr, value) in attrs {
        in_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO customer_attributes (customer_id, attribute_id, value, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, attribute_id) \
                 DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(customer)
            .bind(attr)
            .bind(value)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::classify(e, "attributes"))?;
        });
    }
    Ok(())
}

/// Move everything of `loser` to `survivor` (whose merged profile the caller wrote) and
/// mark the loser merged, with a timeline event on each side. Earlier losers of the loser
/// point at the survivor afterwards, so lookups stay one hop.
pub async fn move_customer_in(
    tx: &mut Tx,
    survivor: i64,
    loser: i64,
    reason: &str,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("UPDATE customer_identities SET customer_id = $1 WHERE customer_id = $2")
            .bind(survivor)
            .bind(loser)
            .execute(&mut *conn)
            .await?;
        // A guide who follows both keeps the survivor's relation.
        sqlx::query(
            "DELETE FROM follows WHERE customer_id = $2 AND staff_id IN \
             (SELECT staff_id FROM follows WHERE customer_id = $1)",
        )
        .bind(survivor)
        .bind(loser)
        .execute(&mut *conn)
        .await?;
        let owners: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM follows WHERE customer_id = $1 AND is_owner = $2",
        )
        .bind(survivor)
        .bind(true)
        .fetch_one(&mut *conn)
        .await?;
        if owners > 0 {
            sqlx::query("UPDATE follows SET is_owner = $1 WHERE customer_id = $2")
                .bind(false)
                .bind(loser)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("UPDATE follows SET customer_id = $1, updated_at = $3 WHERE customer_id = $2")
            .bind(survivor)
            .bind(loser)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO customer_attributes (customer_id, attribute_id, value, updated_at) \
             SELECT $1, attribute_id, value, updated_at FROM customer_attributes \
             WHERE customer_id = $2 AND attribute_id NOT IN \
             (SELECT attribute_id FROM customer_attributes WHERE customer_id = $1)",
        )
        .bind(survivor)
        .bind(loser)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM customer_attributes WHERE customer_id = $1")
            .bind(loser)
            .execute(&mut *conn)
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
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1")
            .bind(loser)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE events SET customer_id = $1 WHERE customer_id = $2")
            .bind(survivor)
            .bind(loser)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE orders SET customer_id = $1 WHERE customer_id = $2")
            .bind(survivor)
            .bind(loser)
            .execute(&mut *conn)
            .await?;
        // Notes (跟进记录) follow the person; their times keep them in order among the
        // survivor's own.
        sqlx::query("UPDATE customer_notes SET customer_id = $1 WHERE customer_id = $2")
            .bind(survivor)
            .bind(loser)
            .execute(&mut *conn)
            .await?;
    });
    crate::promotions::move_holdings_in(tx, survivor, loser, now).await?;
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE customers SET merged_into = $1, updated_at = $3 WHERE id = $2 OR merged_into = $2",
        )
        .bind(survivor)
        .bind(loser)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    refresh_aggregates_in(tx, survivor, now).await?;
    refresh_aggregates_in(tx, loser, now).await?;
    let d = serde_json::json!({"from": loser, "reason": reason}).to_string();
    append_in(tx, survivor, "merged", now, None, &d, now).await?;
    let d = serde_json::json!({"into": survivor, "reason": reason}).to_string();
    append_in(tx, loser, "merged_into", now, None, &d, now).await?;
    Ok(())
}
