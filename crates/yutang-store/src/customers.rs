//! Customers, their identities, custom attributes and follow relations.

use serde::Serialize;
use sqlx::FromRow;
use yutang_core::customers::ProfilePatch;
use yutang_core::identity::Identity;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::org::like_pattern;
pub use crate::txn::AuditCtx;

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

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CustomerRow {
    pub id: i64,
    pub name: String,
    pub gender: String,
    pub birthday: Option<String>,
    pub city: String,
    pub member_level: String,
    pub order_count: i64,
    pub total_spend: i64,
    pub avg_order_value: i64,
    pub first_order_at: Option<i64>,
    pub last_order_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The customer's first phone identity (unmasked: the app masks it).
    pub phone: Option<String>,
    /// The owning guide's name, if any.
    pub owner_name: Option<String>,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct IdentityRow {
    pub id: i64,
    pub customer_id: i64,
    pub kind: String,
    pub namespace: String,
    pub value: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct FollowRow {
    pub id: i64,
    pub customer_id: i64,
    pub staff_id: i64,
    pub staff_name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub since: i64,
    pub remark: String,
    pub state: String,
    pub is_owner: bool,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AttributeDefRow {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub kind: String,
    /// Enum options, one per line.
    pub options: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AttributeValueRow {
    pub attribute_id: i64,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub value: String,
}

/// Which customers a caller may see: `store` limits to customers actively followed by staff
/// of that store, `guide` to customers the guide actively follows; both `None` is everyone.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    pub store: Option<i64>,
    pub guide: Option<i64>,
}

macro_rules! customer_select {
    () => {
        "SELECT c.id, c.name, c.gender, c.birthday, c.city, c.member_level, c.order_count, \
         c.total_spend, c.avg_order_value, c.first_order_at, c.last_order_at, c.created_at, \
         c.updated_at, \
         (SELECT i.value FROM customer_identities i WHERE i.customer_id = c.id AND i.kind = 'phone' \
          ORDER BY i.id LIMIT 1) AS phone, \
         (SELECT t.display_name FROM follows f JOIN staff t ON t.id = f.staff_id \
          WHERE f.customer_id = c.id AND f.is_owner = TRUE LIMIT 1) AS owner_name \
         FROM customers c"
    };
}

/// The data-scope condition on `c` with `$1` = store and `$2` = guide; every customer query
/// includes it.
macro_rules! scope_where {
    () => {
        " WHERE c.merged_into IS NULL \
         AND ($1 IS NULL OR EXISTS (SELECT 1 FROM follows f JOIN staff t ON t.id = f.staff_id \
              WHERE f.customer_id = c.id AND f.state = 'active' AND t.store_id = $1)) \
         AND ($2 IS NULL OR EXISTS (SELECT 1 FROM follows f \
              WHERE f.customer_id = c.id AND f.state = 'active' AND f.staff_id = $2))"
    };
}

macro_rules! customer_filter {
    () => {
        " AND ($3 IS NULL OR c.name LIKE $3 ESCAPE '\\' OR EXISTS (SELECT 1 FROM customer_identities i \
              WHERE i.customer_id = c.id AND (i.value = $4 OR i.value = $5))) \
         AND ($6 IS NULL OR c.city = $6) \
         AND ($7 IS NULL OR c.member_level = $7) \
         AND ($8 IS NULL OR c.gender = $8) \
         AND ($9 IS NULL OR EXISTS (SELECT 1 FROM follows f WHERE f.customer_id = c.id \
              AND f.state = 'active' AND f.staff_id = $9)) \
         AND ($10 IS NULL OR EXISTS (SELECT 1 FROM follows f JOIN staff t ON t.id = f.staff_id \
              WHERE f.customer_id = c.id AND f.state = 'active' AND t.store_id = $10)) \
         AND ($11 IS NULL OR EXISTS (SELECT 1 FROM customer_identities i \
              WHERE i.customer_id = c.id AND i.kind = $11)) \
         AND c.order_count >= $12"
    };
}

#[derive(Debug, Clone, Default)]
pub struct CustomerFilter<'a> {
    pub scope: Scope,
    /// Substring of the name, or an exact identity value.
    pub q: Option<&'a str>,
    /// The query as a normalised phone, when it parses as one.
    pub q_phone: Option<&'a str>,
    pub city: Option<&'a str>,
    pub member_level: Option<&'a str>,
    pub gender: Option<&'a str>,
    pub guide_id: Option<i64>,
    pub store_id: Option<i64>,
    pub identity_kind: Option<&'a str>,
    pub min_orders: i64,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list(db: &Db, f: &CustomerFilter<'_>) -> Result<(Vec<CustomerRow>, i64)> {
    let like = f.q.map(like_pattern);
    let exact = f.q.map(str::trim);
    let phone = f.q_phone.or(exact);
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, CustomerRow>(concat!(
            customer_select!(), scope_where!(), customer_filter!(),
            " ORDER BY c.id DESC LIMIT $13 OFFSET $14"
        ))
        .bind(f.scope.store)
        .bind(f.scope.guide)
        .bind(like.as_deref())
        .bind(exact)
        .bind(phone)
        .bind(f.city)
        .bind(f.member_level)
        .bind(f.gender)
        .bind(f.guide_id)
        .bind(f.store_id)
        .bind(f.identity_kind)
        .bind(f.min_orders)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(pool)
        .await?;
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM customers c", scope_where!(), customer_filter!()
        ))
        .bind(f.scope.store)
        .bind(f.scope.guide)
        .bind(like.as_deref())
        .bind(exact)
        .bind(phone)
        .bind(f.city)
        .bind(f.member_level)
        .bind(f.gender)
        .bind(f.guide_id)
        .bind(f.store_id)
        .bind(f.identity_kind)
        .bind(f.min_orders)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    })
}

/// A live (not merged-away) customer within the scope.
pub async fn get(db: &Db, id: i64, scope: Scope) -> Result<CustomerRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, CustomerRow>(concat!(customer_select!(), scope_where!(), " AND c.id = $3"))
            .bind(scope.store)
            .bind(scope.guide)
            .bind(id)
            .fetch_one(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// Live customers by id (any order of input; output by id). Ids are integers, inlined.
pub async fn get_many(db: &Db, ids: &[i64]) -> Result<Vec<CustomerRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "{} WHERE c.merged_into IS NULL AND c.id IN ({list}) ORDER BY c.id",
        customer_select!()
    );
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, CustomerRow>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?)
    })
}

/// Whether a live customer is within the scope.
pub async fn in_scope(db: &Db, id: i64, scope: Scope) -> Result<bool> {
    let n: i64 = db_run!(db, pool => {
        sqlx::query_scalar(concat!("SELECT COUNT(*) FROM customers c", scope_where!(), " AND c.id = $3"))
            .bind(scope.store)
            .bind(scope.guide)
            .bind(id)
            .fetch_one(pool)
            .await?
    });
    Ok(n > 0)
}

/// The live customer an id stands for, following merges; `None` if the id never existed.
pub async fn resolve(db: &Db, id: i64) -> Result<Option<i64>> {
    let mut cur = id;
    for _ in 0..16 {
        let row: Option<(i64, Option<i64>)> = db_run!(db, pool => {
            sqlx::query_as("SELECT id, merged_into FROM customers WHERE id = $1")
                .bind(cur)
                .fetch_optional(pool)
                .await?
        });
        match row {
            None => return Ok(None),
            Some((id, None)) => return Ok(Some(id)),
            Some((_, Some(next))) => cur = next,
        }
    }
    Ok(None)
}

/// The customer an identity belongs to.
pub async fn find_by_identity(db: &Db, i: &Identity) -> Result<Option<i64>> {
    db_run!(db, pool => {
        sqlx::query_scalar(
            "SELECT customer_id FROM customer_identities WHERE kind = $1 AND namespace = $2 AND value = $3",
        )
        .bind(i.kind.as_str())
        .bind(&i.namespace)
        .bind(&i.value)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::from)
    })
}

pub async fn identities(db: &Db, customer: i64) -> Result<Vec<IdentityRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, IdentityRow>(
            "SELECT id, customer_id, kind, namespace, value, created_at FROM customer_identities \
             WHERE customer_id = $1 ORDER BY id",
        )
        .bind(customer)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

pub async fn follows(db: &Db, customer: i64) -> Result<Vec<FollowRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, FollowRow>(
            "SELECT f.id, f.customer_id, f.staff_id, t.display_name AS staff_name, t.store_id, \
             s.name AS store_name, f.since, f.remark, f.state, f.is_owner, f.updated_at \
             FROM follows f JOIN staff t ON t.id = f.staff_id LEFT JOIN stores s ON s.id = t.store_id \
             WHERE f.customer_id = $1 ORDER BY f.is_owner DESC, f.since",
        )
        .bind(customer)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

pub async fn attributes(db: &Db, customer: i64) -> Result<Vec<AttributeValueRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, AttributeValueRow>(
            "SELECT a.attribute_id, d.key, d.label, d.kind, a.value FROM customer_attributes a \
             JOIN attribute_defs d ON d.id = a.attribute_id WHERE a.customer_id = $1 ORDER BY d.id",
        )
        .bind(customer)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

pub async fn create_attribute(
    db: &Db,
    key: &str,
    label: &str,
    kind: &str,
    options: &str,
    now: i64,
) -> Result<i64> {
    db_run!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO attribute_defs (key, label, kind, options, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(key)
        .bind(label)
        .bind(kind)
        .bind(options)
        .bind(now)
        .fetch_one(pool)
        .await
        .map_err(|e| StoreError::classify(e, "key"))
    })
}

pub async fn list_attributes(db: &Db) -> Result<Vec<AttributeDefRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, AttributeDefRow>(
            "SELECT id, key, label, kind, options, created_at FROM attribute_defs ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

pub async fn ingest(
    db: &Db,
    rec: &IngestRecord,
    audit: &AuditCtx<'_>,
    now: i64,
) -> Result<(i64, IngestOutcome)> {
    tx_run!(db, ingest(rec, audit, now))
}

pub async fn update_profile(
    db: &Db,
    id: i64,
    patch: &ProfilePatch,
    attrs: &[(i64, String)],
    now: i64,
) -> Result<()> {
    tx_run!(db, update_profile(id, patch, attrs, now))
}

/// Add an identity; `Ok(false)` when the customer already had it.
pub async fn add_identity(db: &Db, id: i64, i: &Identity, now: i64) -> Result<bool> {
    tx_run!(db, add_identity(id, i, now))
}

/// Merge two customers; returns `(survivor, loser)`.
pub async fn merge(
    db: &Db,
    a: i64,
    b: i64,
    force: bool,
    audit: &AuditCtx<'_>,
    now: i64,
) -> Result<(i64, i64)> {
    tx_run!(db, merge(a, b, force, audit, now))
}

pub async fn upsert_follow(db: &Db, f: &FollowInput<'_>, now: i64) -> Result<i64> {
    tx_run!(db, upsert_follow(f, now))
}

/// Resolve many ids at once (following merges): id → live customer. Ids that never existed
/// are absent from the map. PostgreSQL gets one array parameter (`= ANY($1)`: one prepared
/// statement whatever the count); SQLite an `IN` list.
pub async fn resolve_many(db: &Db, ids: &[i64]) -> Result<std::collections::HashMap<i64, i64>> {
    let mut out = std::collections::HashMap::new();
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(5000) {
        let rows: Vec<(i64, Option<i64>)> = match db {
            Db::Postgres(pool) => {
                sqlx::query_as("SELECT id, merged_into FROM customers WHERE id = ANY($1::bigint[])")
                    .bind(chunk)
                    .fetch_all(pool)
                    .await?
            }
            Db::Sqlite(pool) => {
                let mut qb =
                    sqlx::QueryBuilder::new("SELECT id, merged_into FROM customers WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(pool).await?
            }
        };
        for (id, merged) in rows {
            match merged {
                None => {
                    out.insert(id, id);
                }
                // Merges keep losers one hop from their survivor; resolve() covers the rest.
                Some(_) => {
                    if let Some(live) = resolve(db, id).await? {
                        out.insert(id, live);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// This area's transactions: ingesting, merging, identities, profiles and follows.
///
/// Written once and expanded into each engine's module (`txn::sqlite`, `txn::pg`) next to the
/// shared plumbing of [`crate::txn`] (see there for `$DB`, `$begin` and `$lock`). Names in the
/// body resolve where it is expanded: the transaction helpers (`Tx`, `append_event`, `audit`,
/// `refused`, …) and the imports of `txn.rs`.
macro_rules! customer_txn_ops {
    ($DB:ty, $begin:literal, $lock:literal) => {
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
                // A new customer's identities are part of its creation, not timeline news.
                insert_identity(tx, id, i, outcome != IngestOutcome::Created, now).await?;
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
            insert_identity(&mut tx, id, i, true, now).await?;
            tx.commit().await?;
            Ok(true)
        }

        /// Insert one identity of a customer, with an `identity_added` timeline event when
        /// `announce`. The unique key refuses an identity another customer holds.
        async fn insert_identity(tx: &mut Tx, id: i64, i: &Identity, announce: bool, now: i64) -> Result<()> {
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
            if announce {
                let d = detail(serde_json::json!({"kind": i.kind.as_str(), "namespace": i.namespace}));
                append_event(tx, id, "identity_added", now, None, &d, now).await?;
            }
            Ok(())
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
    };
}

pub(crate) use customer_txn_ops;
