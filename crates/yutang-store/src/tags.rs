//! Tag groups, tags, customers' tags and auto-tag rules.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TagGroupRow {
    pub id: i64,
    pub name: String,
    pub multi: bool,
    pub sort: i64,
    pub source: String,
    pub wecom_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TagRow {
    pub id: i64,
    pub group_id: i64,
    pub group_name: String,
    pub name: String,
    pub color: String,
    pub sort: i64,
    pub wecom_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A customer's tag with where it came from.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CustomerTagRow {
    pub tag_id: i64,
    pub group_id: i64,
    pub group_name: String,
    pub name: String,
    pub color: String,
    pub source: String,
    pub staff_id: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RuleRow {
    pub id: i64,
    pub name: String,
    pub group_id: i64,
    pub kind: String,
    pub config: String,
    pub enabled: bool,
    pub last_run_at: Option<i64>,
    pub last_changes: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One write of tags to customers: each customer gets `add` and loses `remove`; for a
/// single-select group, adding a tag removes the customer's other tags of that group.
#[derive(Debug, Clone)]
pub struct TagChange<'a> {
    pub customers: &'a [i64],
    pub add: &'a [i64],
    pub remove: &'a [i64],
    pub source: &'a str,
    pub staff_id: Option<i64>,
    /// Who, for the timeline (`"张三"`, `"rule:生命周期"`).
    pub by: &'a str,
}

/// What a [`TagChange`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TagChangeCount {
    pub added: u64,
    pub removed: u64,
}

macro_rules! tag_select {
    () => {
        "SELECT t.id, t.group_id, g.name AS group_name, t.name, t.color, t.sort, t.wecom_id, \
         t.created_at, t.updated_at FROM tags t JOIN tag_groups g ON g.id = t.group_id"
    };
}

macro_rules! group_select {
    () => {
        "SELECT id, name, multi, sort, source, wecom_id, created_at, updated_at FROM tag_groups"
    };
}

pub async fn create_group(
    db: &Db,
    name: &str,
    multi: bool,
    sort: i64,
    source: &str,
    now: i64,
) -> Result<i64> {
    in_own_tx!(db, create_group_in(name, multi, sort, source, now))
}

pub async fn create_group_in(
    tx: &mut Tx,
    name: &str,
    multi: bool,
    sort: i64,
    source: &str,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO tag_groups (name, multi, sort, source, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(name)
        .bind(multi)
        .bind(sort)
        .bind(source)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "name"))
    })
}

pub async fn update_group_in(
    tx: &mut Tx,
    id: i64,
    name: &str,
    multi: bool,
    sort: i64,
    now: i64,
) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query("UPDATE tag_groups SET name = $1, multi = $2, sort = $3, updated_at = $4 WHERE id = $5")
            .bind(name)
            .bind(multi)
            .bind(sort)
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::classify(e, "name"))?
            .rows_affected()
    });
    crate::error::touched(n)
}

pub async fn get_group(db: &Db, id: i64) -> Result<TagGroupRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TagGroupRow>(concat!(group_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn list_groups(db: &Db) -> Result<Vec<TagGroupRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TagGroupRow>(concat!(group_select!(), " ORDER BY sort, id"))
            .fetch_all(pool)
            .await?)
    })
}

pub async fn create_tag(
    db: &Db,
    group_id: i64,
    name: &str,
    color: &str,
    sort: i64,
    now: i64,
) -> Result<i64> {
    in_own_tx!(db, create_tag_in(group_id, name, color, sort, now))
}

pub async fn create_tag_in(
    tx: &mut Tx,
    group_id: i64,
    name: &str,
    color: &str,
    sort: i64,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO tags (group_id, name, color, sort, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(group_id)
        .bind(name)
        .bind(color)
        .bind(sort)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "name"))
    })
}

pub async fn update_tag_in(
    tx: &mut Tx,
    id: i64,
    name: &str,
    color: &str,
    sort: i64,
    now: i64,
) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query("UPDATE tags SET name = $1, color = $2, sort = $3, updated_at = $4 WHERE id = $5")
            .bind(name)
            .bind(color)
            .bind(sort)
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::classify(e, "name"))?
            .rows_affected()
    });
    crate::error::touched(n)
}

pub async fn get_tag(db: &Db, id: i64) -> Result<TagRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TagRow>(concat!(tag_select!(), " WHERE t.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// All tags, by group order then tag order.
pub async fn list_tags(db: &Db) -> Result<Vec<TagRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TagRow>(concat!(tag_select!(), " ORDER BY g.sort, g.id, t.sort, t.id"))
            .fetch_all(pool)
            .await?)
    })
}

/// How many customers hold each tag, as `(tag id, count)`.
pub async fn tag_counts(db: &Db) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT ct.tag_id, COUNT(*) FROM customer_tags ct JOIN customers c ON c.id = ct.customer_id \
             WHERE c.merged_into IS NULL GROUP BY ct.tag_id",
        )
        .fetch_all(pool)
        .await?)
    })
}

/// A customer's tags.
pub async fn customer_tags(db: &Db, customer: i64) -> Result<Vec<CustomerTagRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, CustomerTagRow>(
            "SELECT ct.tag_id, t.group_id, g.name AS group_name, t.name, t.color, ct.source, \
             ct.staff_id, ct.created_at FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id \
             JOIN tag_groups g ON g.id = t.group_id WHERE ct.customer_id = $1 \
             ORDER BY g.sort, g.id, t.sort, t.id",
        )
        .bind(customer)
        .fetch_all(pool)
        .await?)
    })
}

/// Delete a tag: it leaves every customer (each gets a timeline entry) and the tag is gone.
pub async fn delete_tag(db: &Db, id: i64, by: &str, staff: Option<i64>, now: i64) -> Result<u64> {
    in_own_tx!(db, delete_tag_in(id, by, staff, now))
}

/// Delete a group and its tags; refused while a rule owns it.
pub async fn delete_group(db: &Db, id: i64, by: &str, staff: Option<i64>, now: i64) -> Result<u64> {
    in_own_tx!(db, delete_group_in(id, by, staff, now))
}

/// Delete a group and its tags inside `tx` (its tags' holders get their timeline events in
/// the same transaction); refused while a rule owns it.
pub async fn delete_group_in(
    tx: &mut Tx,
    id: i64,
    by: &str,
    staff: Option<i64>,
    now: i64,
) -> Result<u64> {
    let (tags, ruled): (Vec<i64>, i64) = in_tx!(tx, conn => {
        let tags = sqlx::query_scalar("SELECT id FROM tags WHERE group_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
        let ruled = sqlx::query_scalar("SELECT COUNT(*) FROM tag_rules WHERE group_id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        (tags, ruled)
    });
    if ruled > 0 {
        return Err(StoreError::Refused {
            code: "group_owned_by_rule",
            message: "an auto-tag rule keeps this group; delete the rule first".into(),
        });
    }
    let mut removed = 0;
    for t in tags {
        removed += delete_tag_in(tx, t, by, staff, now).await?;
    }
    let n = in_tx!(tx, conn => {
        sqlx::query("DELETE FROM tag_groups WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(removed)
    }
}

/// Apply a [`TagChange`] in one transaction.
pub async fn change(db: &Db, c: &TagChange<'_>, now: i64) -> Result<TagChangeCount> {
    in_own_tx!(db, change_in(c, now))
}

/// The customers holding `tag`.
pub async fn members(db: &Db, tag: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar("SELECT customer_id FROM customer_tags WHERE tag_id = $1 ORDER BY customer_id")
            .bind(tag)
            .fetch_all(pool)
            .await?)
    })
}

// --- rules ---

macro_rules! rule_select {
    () => {
        "SELECT id, name, group_id, kind, config, enabled, last_run_at, last_changes, created_at, \
         updated_at FROM tag_rules"
    };
}

pub async fn create_rule_in(
    tx: &mut Tx,
    name: &str,
    group_id: i64,
    kind: &str,
    config: &str,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO tag_rules (name, group_id, kind, config, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(name)
        .bind(group_id)
        .bind(kind)
        .bind(config)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "name"))
    })
}

pub async fn list_rules(db: &Db) -> Result<Vec<RuleRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RuleRow>(concat!(rule_select!(), " ORDER BY id"))
            .fetch_all(pool)
            .await?)
    })
}

pub async fn get_rule(db: &Db, id: i64) -> Result<RuleRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, RuleRow>(concat!(rule_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn set_rule_enabled_in(tx: &mut Tx, id: i64, enabled: bool, now: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query("UPDATE tag_rules SET enabled = $1, updated_at = $2 WHERE id = $3")
            .bind(enabled)
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    crate::error::touched(n)
}

pub async fn rule_ran(db: &Db, id: i64, changes: i64, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE tag_rules SET last_run_at = $1, last_changes = $2 WHERE id = $3")
            .bind(now)
            .bind(changes)
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Delete a rule; its group stays as an ordinary manual group with the tags as they are.
pub async fn delete_rule_in(tx: &mut Tx, id: i64, now: i64) -> Result<()> {
    let group: Option<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT group_id FROM tag_rules WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    });
    let group = group.ok_or(StoreError::NotFound)?;
    in_tx!(tx, conn => {
        sqlx::query("DELETE FROM tag_rules WHERE id = $1").bind(id).execute(&mut *conn).await?;
        sqlx::query("UPDATE tag_groups SET source = 'manual', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(group)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// RFM inputs: `(orders in the window, spend in the window)` for each live customer who
/// ordered since `since`.
pub async fn rfm_inputs(db: &Db, since: i64) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(o.amount - o.refunded_amount), 0) AS BIGINT) FROM orders o \
             JOIN customers c ON c.id = o.customer_id \
             WHERE c.merged_into IS NULL AND o.paid_at >= $1 AND o.status <> 'refunded' \
             GROUP BY o.customer_id",
        )
        .bind(since)
        .fetch_all(pool)
        .await?)
    })
}

/// Append one timeline event per `(customer, detail)`, in multi-row statements.
async fn tag_events(
    tx: &mut Tx,
    kind: &str,
    rows: &[(i64, String)],
    staff: Option<i64>,
    now: i64,
) -> Result<()> {
    for chunk in rows.chunks(2000) {
        in_tx!(tx, DB, conn => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO events (customer_id, kind, occurred_at, received_at, staff_id, detail) ",
            );
            qb.push_values(chunk, |mut b, (cust, detail)| {
                b.push_bind(*cust)
                    .push_bind(kind)
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(staff)
                    .push_bind(detail.as_str());
            });
            qb.build().execute(&mut *conn).await?;
        });
    }
    Ok(())
}

/// Apply a [`TagChange`] inside `tx`. Set-based: per tag, one DELETE … RETURNING or
/// INSERT … ON CONFLICT DO NOTHING RETURNING over the whole batch of customers, then one
/// multi-row insert of the timeline events for the rows that really changed.
pub async fn change_in(tx: &mut Tx, c: &TagChange<'_>, now: i64) -> Result<TagChangeCount> {
    let mut count = TagChangeCount::default();
    let mut info = std::collections::HashMap::new();
    for id in c.add.iter().chain(c.remove) {
        let row: Option<(i64, String, String, bool)> = in_tx!(tx, conn => {
            sqlx::query_as(
                "SELECT t.group_id, g.name, t.name, g.multi FROM tags t \
                 JOIN tag_groups g ON g.id = t.group_id WHERE t.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
        });
        let row = row.ok_or(StoreError::Refused {
            code: "unknown_tag",
            message: format!("tag {id} does not exist"),
        })?;
        info.insert(*id, row);
    }
    if c.customers.is_empty() {
        return Ok(count);
    }
    let list = c
        .customers
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let detail = |tag: i64, path: String, replaced_by: Option<i64>| {
        let mut d = serde_json::json!({"tag_id": tag, "tag": path, "source": c.source, "by": c.by});
        if let Some(r) = replaced_by {
            d["replaced_by"] = serde_json::json!(r);
        }
        d.to_string()
    };
    for id in c.remove {
        let (_, g, n, _) = &info[id];
        let gone: Vec<i64> = in_tx!(tx, conn => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "DELETE FROM customer_tags WHERE tag_id = {id} AND customer_id IN ({list}) RETURNING customer_id"
            )))
            .fetch_all(&mut *conn)
            .await?
        });
        count.removed += gone.len() as u64;
        let d = detail(*id, format!("{g}/{n}"), None);
        let rows: Vec<(i64, String)> = gone.into_iter().map(|cust| (cust, d.clone())).collect();
        tag_events(tx, "tag_removed", &rows, c.staff_id, now).await?;
    }
    for id in c.add {
        let (group, g, n, multi) = &info[id];
        let added: Vec<i64> = in_tx!(tx, DB, conn => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO customer_tags (customer_id, tag_id, source, staff_id, created_at) ",
            );
            qb.push_values(c.customers, |mut b, cust| {
                b.push_bind(*cust).push_bind(*id).push_bind(c.source).push_bind(c.staff_id).push_bind(now);
            });
            qb.push(" ON CONFLICT DO NOTHING RETURNING customer_id");
            qb.build_query_scalar()
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| StoreError::classify(e, "customer"))?
        });
        if added.is_empty() {
            continue;
        }
        count.added += added.len() as u64;
        let d = detail(*id, format!("{g}/{n}"), None);
        let rows: Vec<(i64, String)> = added.iter().map(|cust| (*cust, d.clone())).collect();
        tag_events(tx, "tag_added", &rows, c.staff_id, now).await?;
        if !*multi {
            // A single-select group: whoever just got this tag loses the group's others.
            let got = added
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let displaced: Vec<(i64, i64, String)> = in_tx!(tx, conn => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT ct.customer_id, ct.tag_id, t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id \
                     WHERE t.group_id = {group} AND ct.tag_id <> {id} AND ct.customer_id IN ({got})"
                )))
                .fetch_all(&mut *conn)
                .await?
            });
            if displaced.is_empty() {
                continue;
            }
            in_tx!(tx, conn => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM customer_tags WHERE customer_id IN ({got}) AND tag_id <> {id} \
                     AND tag_id IN (SELECT id FROM tags WHERE group_id = {group})"
                )))
                .execute(&mut *conn)
                .await?;
            });
            count.removed += displaced.len() as u64;
            let rows: Vec<(i64, String)> = displaced
                .into_iter()
                .map(|(cust, other, name)| (cust, detail(other, format!("{g}/{name}"), Some(*id))))
                .collect();
            tag_events(tx, "tag_removed", &rows, c.staff_id, now).await?;
        }
    }
    Ok(count)
}

/// Delete a tag inside `tx`: its holders get a `tag_removed` timeline event. Returns how many
/// customers held it.
pub async fn delete_tag_in(
    tx: &mut Tx,
    id: i64,
    by: &str,
    staff: Option<i64>,
    now: i64,
) -> Result<u64> {
    let name: Option<(String, String)> = in_tx!(tx, conn => {
        sqlx::query_as("SELECT g.name, t.name FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    });
    let (g, n) = name.ok_or(StoreError::NotFound)?;
    let holders: Vec<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT customer_id FROM customer_tags WHERE tag_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
    });
    let d =
        serde_json::json!({"tag_id": id, "tag": format!("{g}/{n}"), "source": "delete", "by": by})
            .to_string();
    let rows: Vec<(i64, String)> = holders.iter().map(|cust| (*cust, d.clone())).collect();
    tag_events(tx, "tag_removed", &rows, staff, now).await?;
    in_tx!(tx, conn => {
        sqlx::query("DELETE FROM customer_tags WHERE tag_id = $1").bind(id).execute(&mut *conn).await?;
        sqlx::query("DELETE FROM tags WHERE id = $1").bind(id).execute(&mut *conn).await?;
    });
    Ok(holders.len() as u64)
}

// --- WeCom corp tags ---

/// Groups and tags that came from WeCom, as `(id, wecom_id)`.
pub async fn wecom_ids(db: &Db) -> Result<(Vec<(i64, String)>, Vec<(i64, String)>)> {
    db_run!(db, pool => {
        let g: Vec<(i64, String)> = sqlx::query_as("SELECT id, wecom_id FROM tag_groups WHERE wecom_id IS NOT NULL")
            .fetch_all(pool)
            .await?;
        let t: Vec<(i64, String)> = sqlx::query_as("SELECT id, wecom_id FROM tags WHERE wecom_id IS NOT NULL")
            .fetch_all(pool)
            .await?;
        Ok((g, t))
    })
}

/// Create or update the group with this WeCom id; a manual group of the same name is adopted.
pub async fn upsert_wecom_group(
    db: &Db,
    wecom_id: &str,
    name: &str,
    sort: i64,
    now: i64,
) -> Result<i64> {
    let existing: Option<i64> = db_run!(db, pool => {
        sqlx::query_scalar("SELECT id FROM tag_groups WHERE wecom_id = $1 OR (wecom_id IS NULL AND name = $2 AND source <> 'rule') ORDER BY wecom_id IS NULL, id LIMIT 1")
            .bind(wecom_id)
            .bind(name)
            .fetch_optional(pool)
            .await?
    });
    match existing {
        Some(id) => {
            db_run!(db, pool => {
                sqlx::query("UPDATE tag_groups SET name = $1, sort = $2, source = 'wecom', wecom_id = $3, updated_at = $4 WHERE id = $5")
                    .bind(name)
                    .bind(sort)
                    .bind(wecom_id)
                    .bind(now)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map_err(|e| StoreError::classify(e, "name"))?;
            });
            Ok(id)
        }
        None => db_run!(db, pool => {
            sqlx::query_scalar(
                "INSERT INTO tag_groups (name, multi, sort, source, wecom_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'wecom', $4, $5, $5) RETURNING id",
            )
            .bind(name)
            .bind(true)
            .bind(sort)
            .bind(wecom_id)
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(|e| StoreError::classify(e, "name"))
        }),
    }
}

/// Create or update the tag with this WeCom id in `group`; a tag of the same name there is
/// adopted.
pub async fn upsert_wecom_tag(
    db: &Db,
    group: i64,
    wecom_id: &str,
    name: &str,
    sort: i64,
    now: i64,
) -> Result<i64> {
    let existing: Option<i64> = db_run!(db, pool => {
        sqlx::query_scalar("SELECT id FROM tags WHERE wecom_id = $1 OR (wecom_id IS NULL AND group_id = $2 AND name = $3) ORDER BY wecom_id IS NULL, id LIMIT 1")
            .bind(wecom_id)
            .bind(group)
            .bind(name)
            .fetch_optional(pool)
            .await?
    });
    match existing {
        Some(id) => {
            db_run!(db, pool => {
                sqlx::query("UPDATE tags SET group_id = $1, name = $2, sort = $3, wecom_id = $4, updated_at = $5 WHERE id = $6")
                    .bind(group)
                    .bind(name)
                    .bind(sort)
                    .bind(wecom_id)
                    .bind(now)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map_err(|e| StoreError::classify(e, "name"))?;
            });
            Ok(id)
        }
        None => db_run!(db, pool => {
            sqlx::query_scalar(
                "INSERT INTO tags (group_id, name, color, sort, wecom_id, created_at, updated_at) \
                 VALUES ($1, $2, '#07c160', $3, $4, $5, $5) RETURNING id",
            )
            .bind(group)
            .bind(name)
            .bind(sort)
            .bind(wecom_id)
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(|e| StoreError::classify(e, "name"))
        }),
    }
}

/// Record the WeCom id of a tag created in Yutang and pushed to WeCom.
pub async fn set_tag_wecom_id_in(tx: &mut Tx, id: i64, wecom_id: &str) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query("UPDATE tags SET wecom_id = $1 WHERE id = $2")
            .bind(wecom_id)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    crate::error::touched(n)
}
