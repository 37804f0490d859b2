//! Customers, their identities, custom attributes, follow relations and notes.
//!
//! Reads live here; the writes that must commit together are `…_in(tx, …)` functions in
//! [`identities`] (ingest, identities, merges, profiles), [`follows`] and [`notes`], composed
//! by the app crate inside one [`Tx`].

use serde::Serialize;
use sqlx::FromRow;
use yutang_core::customers::{
    CustomerSort, Keyset, ProfilePatch, SearchTerm, SortKey, prefix_upper_bound,
};
use yutang_core::identity::Identity;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::org::like_pattern;
use crate::tx::Tx;

pub mod follows;
pub mod identities;
pub mod notes;

pub use follows::upsert_follow_in;
pub use identities::{
    add_identity_in, create_in, identities_in, identity_owner_in, insert_identity_in,
    move_customer_in, profile_in, resolve_in, set_attributes_in, write_profile_in,
};

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
        concat!(" WHERE c.merged_into IS NULL AND ", scope_condition!())
    };
}

#[derive(Debug, Clone, Default)]
pub struct CustomerFilter<'a> {
    pub scope: Scope,
    /// The search box's text (see `yutang_core::customers::SearchTerm`): phone suffix or
    /// prefix, an identity value, an order number, or a substring of the name.
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
    /// Only customers holding this tag (the `customer_tags (tag_id, customer_id)` index).
    pub tag_id: Option<i64>,
    pub sort: CustomerSort,
    pub limit: i64,
    /// Rows skipped before the page; none when `keyset` is set.
    pub offset: i64,
    /// Read the page from a position instead of skipping `offset` rows: as cheap on the
    /// thousandth page as on the first.
    pub keyset: Option<Keyset>,
    /// How far [`list`] counts: see [`ListTotal`].
    pub count_cap: i64,
}

/// A page of [`list`]: its rows in the list's order, the total, and whether rows go on past
/// the page in the direction it was read (after it for a first, offset or `After` page; before
/// it for a `Before` page).
#[derive(Debug)]
pub struct ListRows {
    pub rows: Vec<CustomerRow>,
    pub total: ListTotal,
    pub more: bool,
}

/// The total of a customer list, counted only as far as it has to be: up to the cap, or up
/// to one past the page asked for when that is further. A brand of 10M customers is not
/// counted in full for every page; the index's segment count is the exact figure when one
/// is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListTotal {
    /// The exact total when `exact`; otherwise a lower bound that still reaches past the
    /// page, so a pager knows a next page exists.
    pub total: i64,
    pub exact: bool,
}

impl ListTotal {
    /// How many matches to count at most for a page at `offset` of `limit` rows.
    pub fn bound(cap: i64, offset: i64, limit: i64) -> i64 {
        cap.max(offset.saturating_add(limit).saturating_add(1))
    }

    /// The total from a count stopped at `bound`: reaching the bound means there may be more.
    pub fn from_count(counted: i64, bound: i64) -> Self {
        Self {
            total: counted,
            exact: counted < bound,
        }
    }
}

/// The `ORDER BY` of a customer list (a fixed text per sort: nothing from the request is
/// spliced in). The id breaks ties in the same direction; customers without an order come
/// last either way. Migration 0016 indexes each order.
fn order_by(sort: CustomerSort) -> &'static str {
    order_of(sort, false)
}

/// [`order_by`], or when `reversed` its exact reverse (customers without an order first), in
/// which a `Before` page is read from its position backwards.
fn order_of(sort: CustomerSort, reversed: bool) -> &'static str {
    if reversed {
        return match (sort.key, sort.desc) {
            (SortKey::Id, false) => " ORDER BY c.id DESC",
            (SortKey::Id, true) => " ORDER BY c.id",
            (SortKey::TotalSpend, false) => " ORDER BY c.total_spend DESC, c.id DESC",
            (SortKey::TotalSpend, true) => " ORDER BY c.total_spend, c.id",
            (SortKey::OrderCount, false) => " ORDER BY c.order_count DESC, c.id DESC",
            (SortKey::OrderCount, true) => " ORDER BY c.order_count, c.id",
            (SortKey::LastOrder, false) => " ORDER BY c.last_order_at DESC NULLS FIRST, c.id DESC",
            (SortKey::LastOrder, true) => " ORDER BY c.last_order_at NULLS FIRST, c.id",
        };
    }
    match (sort.key, sort.desc) {
        (SortKey::Id, false) => " ORDER BY c.id",
        (SortKey::Id, true) => " ORDER BY c.id DESC",
        (SortKey::TotalSpend, false) => " ORDER BY c.total_spend, c.id",
        (SortKey::TotalSpend, true) => " ORDER BY c.total_spend DESC, c.id DESC",
        (SortKey::OrderCount, false) => " ORDER BY c.order_count, c.id",
        (SortKey::OrderCount, true) => " ORDER BY c.order_count DESC, c.id DESC",
        (SortKey::LastOrder, false) => " ORDER BY c.last_order_at NULLS LAST, c.id",
        (SortKey::LastOrder, true) => " ORDER BY c.last_order_at DESC NULLS LAST, c.id DESC",
    }
}

/// Push the `WHERE` of a customer list: the scope and only the filters that are set, so the
/// planner sees real predicates (a generic `$n IS NULL OR …` plans one scan for all values).
/// The search term drives the query from an index where it can: the last four digits of a
/// phone (`customer_identities_phone_last4`), a phone prefix (a range on
/// `customer_identities_value`), an identity value or an order number; free text also
/// matches a substring of the name, which scans.
macro_rules! push_customer_filters {
    ($qb:ident, $f:expr, $term:expr, $pg:expr) => {{
        let f = $f;
        $qb.push(" WHERE c.merged_into IS NULL");
        push_scope!($qb, &f.scope);
        // PostgreSQL plans `IN (subquery)` as a join and may scan every customer for it;
        // `= ANY(ARRAY(subquery))` runs the (indexed) subquery first and probes the ids.
        let (open, close) = if $pg {
            (" c.id = ANY(ARRAY(SELECT customer_id FROM ", "))")
        } else {
            (" c.id IN (SELECT customer_id FROM ", ")")
        };
        match $term {
            Some(SearchTerm::PhoneSuffix(s)) => {
                $qb.push(" AND")
                    .push(open)
                    .push(
                        "customer_identities WHERE kind = 'phone' \
                         AND substr(value, length(value) - 3) = ",
                    )
                    .push_bind(s.clone())
                    .push(close);
            }
            Some(SearchTerm::PhonePrefix(p)) => {
                // All of the unique key (kind, namespace, value): a range scan on it.
                $qb.push(" AND")
                    .push(open)
                    .push(
                        "customer_identities WHERE kind = 'phone' AND namespace = '' AND value >= ",
                    )
                    .push_bind(p.clone())
                    .push(" AND value < ")
                    .push_bind(prefix_upper_bound(p))
                    .push(close);
            }
            Some(SearchTerm::Text(t)) => {
                $qb.push(" AND (c.name LIKE ")
                    .push_bind(like_pattern(t))
                    .push(" ESCAPE '\\' OR")
                    .push(open)
                    .push("customer_identities WHERE value IN (")
                    .push_bind(t.clone())
                    .push(", ")
                    .push_bind(f.q_phone.unwrap_or(t.as_str()).to_owned())
                    .push(")")
                    .push(close)
                    .push(" OR")
                    .push(open)
                    .push("orders WHERE external_id = ")
                    .push_bind(t.clone())
                    .push(close)
                    .push(")");
            }
            None => {}
        }
        if let Some(city) = f.city {
            $qb.push(" AND c.city = ").push_bind(city);
        }
        if let Some(level) = f.member_level {
            $qb.push(" AND c.member_level = ").push_bind(level);
        }
        if let Some(gender) = f.gender {
            $qb.push(" AND c.gender = ").push_bind(gender);
        }
        // The guide and store filters narrow exactly as a data scope does.
        push_scope!(
            $qb,
            &Scope {
                store: f.store_id,
                guide: f.guide_id,
            }
        );
        if let Some(kind) = f.identity_kind {
            $qb.push(
                " AND EXISTS (SELECT 1 FROM customer_identities i \
                 WHERE i.customer_id = c.id AND i.kind = ",
            )
            .push_bind(kind)
            .push(")");
        }
        if f.min_orders > 0 {
            $qb.push(" AND c.order_count >= ").push_bind(f.min_orders);
        }
        if let Some(tag) = f.tag_id {
            $qb.push(" AND")
                .push(open)
                .push("customer_tags WHERE tag_id = ")
                .push_bind(tag)
                .push(close);
        }
    }};
}

/// Push the condition that keeps the rows on the far side of a keyset position: after it in
/// the list's order, or before it. Positions compare as (column, id) row values, which both
/// engines read as a range of the (column, id) index; customers without an order (a `NULL`
/// `last_order_at`) come after every customer with one, whichever the direction.
macro_rules! push_keyset {
    ($qb:ident, $sort:expr, $keyset:expr) => {{
        let sort: CustomerSort = $sort;
        let (before, c) = match $keyset {
            Keyset::After(c) => (false, c),
            Keyset::Before(c) => (true, c),
        };
        // Rows whose (column, id) is greater than the position's: after it in an ascending
        // list, before it in a descending one.
        let op = if sort.desc == before { " > " } else { " < " };
        let column = match sort.key {
            SortKey::Id => None,
            SortKey::TotalSpend => Some("c.total_spend"),
            SortKey::OrderCount => Some("c.order_count"),
            SortKey::LastOrder => Some("c.last_order_at"),
        };
        match (column, c.value) {
            (None, _) => {
                $qb.push(" AND c.id").push(op).push_bind(c.id);
            }
            (Some(col), Some(v)) => {
                $qb.push(" AND ((")
                    .push(col)
                    .push(", c.id)")
                    .push(op)
                    .push("(")
                    .push_bind(v)
                    .push(", ")
                    .push_bind(c.id)
                    .push(")");
                if sort.key == SortKey::LastOrder && !before {
                    // Everyone without an order comes after the last one with an order.
                    $qb.push(" OR c.last_order_at IS NULL");
                }
                $qb.push(")");
            }
            (Some(col), None) => {
                // A position among the customers without an order (they are last).
                if before {
                    $qb.push(" AND (").push(col).push(" IS NOT NULL OR c.id");
                } else {
                    $qb.push(" AND ").push(col).push(" IS NULL AND (c.id");
                }
                $qb.push(op).push_bind(c.id).push(")");
            }
        }
    }};
}

pub async fn list(db: &Db, f: &CustomerFilter<'_>) -> Result<ListRows> {
    let term = f.q.and_then(SearchTerm::parse);
    let pg = matches!(db, Db::Postgres(_));
    // A keyset page skips nothing, and its count reaches no further than the cap (counting
    // up to its position would cost what the position saves): beyond the cap its total is a
    // lower bound, and its `more` says whether a next page exists.
    let offset = if f.keyset.is_some() { 0 } else { f.offset };
    let bound = ListTotal::bound(f.count_cap, offset, f.limit);
    let reversed = matches!(f.keyset, Some(Keyset::Before(_)));
    let (mut rows, counted) = db_run!(db, pool => {
        let mut qb = sqlx::QueryBuilder::new(customer_select!());
        push_customer_filters!(qb, f, &term, pg);
        if let Some(k) = f.keyset {
            push_keyset!(qb, f.sort, k);
        }
        // One row more than the page says whether the list goes on.
        qb.push(order_of(f.sort, reversed))
            .push(" LIMIT ")
            .push_bind(f.limit.saturating_add(1))
            .push(" OFFSET ")
            .push_bind(offset);
        let rows = qb.build_query_as::<CustomerRow>().fetch_all(pool).await?;
        // The count stops at `bound` rows: `LIMIT` in the subquery ends the scan there.
        let mut qb = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM customers c");
        push_customer_filters!(qb, f, &term, pg);
        qb.push(" LIMIT ").push_bind(bound).push(") t");
        let counted: i64 = qb.build_query_scalar().fetch_one(pool).await?;
        (rows, counted)
    });
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > f.limit;
    rows.truncate(usize::try_from(f.limit).unwrap_or(0));
    if reversed {
        rows.reverse();
    }
    Ok(ListRows {
        rows,
        total: ListTotal::from_count(counted, bound),
        more,
    })
}

/// Every customer id the filters pick (no page), in the list's order: what an export of the
/// list writes. `limit` and `offset` are ignored.
pub async fn list_ids(db: &Db, f: &CustomerFilter<'_>) -> Result<Vec<i64>> {
    let term = f.q.and_then(SearchTerm::parse);
    let pg = matches!(db, Db::Postgres(_));
    db_run!(db, pool => {
        let mut qb = sqlx::QueryBuilder::new("SELECT c.id FROM customers c");
        push_customer_filters!(qb, f, &term, pg);
        qb.push(order_by(f.sort));
        Ok(qb.build_query_scalar::<i64>().fetch_all(pool).await?)
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

/// The customers among a WeCom group's current members that `scope` sees, with their names,
/// in one query (the chat sidebar names these and only these).
pub async fn group_members_in_scope(
    db: &Db,
    group_id: i64,
    scope: Scope,
) -> Result<Vec<(i64, String)>> {
    Ok(db_run!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT c.id, c.name FROM customers c",
            scope_where!(),
            " AND c.id IN (SELECT m.customer_id FROM group_members m WHERE m.group_id = $3 \
             AND m.state = 'joined' AND m.customer_id IS NOT NULL) ORDER BY c.id"
        ))
        .bind(scope.store)
        .bind(scope.guide)
        .bind(group_id)
        .fetch_all(pool)
        .await?
    }))
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

/// Lock a customer row until the transaction ends (PostgreSQL; SQLite's writers are
/// serialised already): writers of one customer's derived columns (aggregates, the owning
/// follow) queue here, so none overwrites a newer value with one computed from stale rows.
pub async fn lock_in(tx: &mut Tx, customer: i64) -> Result<()> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        let _: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM customers WHERE id = $1{lock}"
        )))
        .bind(customer)
        .fetch_optional(&mut *conn)
        .await?;
    });
    Ok(())
}
