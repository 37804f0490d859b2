//! Mass messages (migrations 0034, 0035): the brand's messaging rules, messages, one task per
//! sending guide (or group owner), one row per recipient customer (or group), and the contact
//! ledgers the caps count.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// Ids per `IN (…)` list.
const CHUNK: usize = 1000;

// ------------------------------------------------------------------ settings

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SettingsRow {
    pub daily_cap: i64,
    pub weekly_cap: i64,
    pub receipt_rule: String,
    pub opt_out_tag: Option<i64>,
    pub updated_by: Option<i64>,
    pub updated_at: i64,
}

/// The saved rules, if any were saved.
pub async fn settings(db: &Db) -> Result<Option<SettingsRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SettingsRow>(
            "SELECT daily_cap, weekly_cap, receipt_rule, opt_out_tag, updated_by, updated_at \
             FROM messaging_settings WHERE id = 1",
        )
        .fetch_optional(pool)
        .await?)
    })
}

/// Save the rules (one row).
pub async fn save_settings_in(tx: &mut Tx, s: &SettingsRow) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO messaging_settings (id, daily_cap, weekly_cap, receipt_rule, opt_out_tag, \
             updated_by, updated_at) VALUES (1, $1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET daily_cap = excluded.daily_cap, \
             weekly_cap = excluded.weekly_cap, receipt_rule = excluded.receipt_rule, \
             opt_out_tag = excluded.opt_out_tag, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(s.daily_cap)
        .bind(s.weekly_cap)
        .bind(&s.receipt_rule)
        .bind(s.opt_out_tag)
        .bind(s.updated_by)
        .bind(s.updated_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}

// ------------------------------------------------------------------ messages

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub name: String,
    pub content: String,
    pub audience_kind: String,
    pub audience: String,
    pub holdout_bp: i64,
    pub status: String,
    pub send_at: i64,
    pub store_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub prepared_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub tracked_at: Option<i64>,
    pub job_id: Option<i64>,
}

macro_rules! message_select {
    () => {
        "SELECT id, name, content, audience_kind, audience, holdout_bp, status, send_at, store_id, \
         created_by, created_at, updated_at, prepared_at, sent_at, tracked_at, job_id \
         FROM mass_messages"
    };
}

/// A message as saved.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub name: &'a str,
    pub content: &'a str,
    pub audience_kind: &'a str,
    pub audience: &'a str,
    pub holdout_bp: i64,
    pub send_at: i64,
    pub store_id: Option<i64>,
}

pub async fn insert_in(tx: &mut Tx, m: &NewMessage<'_>, by: Option<i64>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO mass_messages (name, content, audience_kind, audience, holdout_bp, \
             status, send_at, store_id, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'scheduled', $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(m.name)
        .bind(m.content)
        .bind(m.audience_kind)
        .bind(m.audience)
        .bind(m.holdout_bp)
        .bind(m.send_at)
        .bind(m.store_id)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

pub async fn set_job_in(tx: &mut Tx, id: i64, job: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("UPDATE mass_messages SET job_id = $1 WHERE id = $2")
            .bind(job)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

pub async fn get(db: &Db, id: i64) -> Result<MessageRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, MessageRow>(concat!(message_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The message, locked until the transaction ends (PostgreSQL; SQLite serialises writers):
/// status changes read and write it under this lock.
pub async fn lock_in(tx: &mut Tx, id: i64) -> Result<MessageRow> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = $1{lock}",
            message_select!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

/// Messages newest first (of one store, when `store` is set), at most `limit`.
pub async fn list(db: &Db, store: Option<i64>, limit: i64) -> Result<Vec<MessageRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, MessageRow>(concat!(
            message_select!(),
            " WHERE ($1 IS NULL OR store_id = $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(store)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Set the status (and the matching time column) of a locked message.
pub async fn set_status_in(tx: &mut Tx, id: i64, status: &str, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE mass_messages SET status = $1, updated_at = $2, \
             prepared_at = CASE WHEN $1 = 'sending' THEN $2 ELSE prepared_at END, \
             sent_at = CASE WHEN $1 = 'sent' THEN $2 ELSE sent_at END WHERE id = $3",
        )
        .bind(status)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}

pub async fn set_tracked(db: &Db, id: i64, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE mass_messages SET tracked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

// ------------------------------------------------------------------ targets

/// What a message's recipients are: customers (`mass_message_recipients`, ledger
/// `message_contacts`) or customer groups (`mass_message_groups`, ledger
/// `group_message_contacts`). The tasks, their WeCom calls and the results are the same for
/// both; only these tables and columns differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Customers,
    Groups,
}

impl Target {
    fn table(self) -> &'static str {
        match self {
            Target::Customers => "mass_message_recipients",
            Target::Groups => "mass_message_groups",
        }
    }

    fn id_col(self) -> &'static str {
        match self {
            Target::Customers => "customer_id",
            Target::Groups => "group_id",
        }
    }

    /// The WeCom id WeCom's answers name a recipient by.
    fn wecom_col(self) -> &'static str {
        match self {
            Target::Customers => "external_userid",
            Target::Groups => "chat_id",
        }
    }

    fn ledger(self) -> &'static str {
        match self {
            Target::Customers => "message_contacts",
            Target::Groups => "group_message_contacts",
        }
    }
}

// ------------------------------------------------------------------ preparation facts

/// One follow relation of a customer, with its guide.
#[derive(Debug, Clone, FromRow)]
pub struct FollowFact {
    pub customer_id: i64,
    pub staff_id: i64,
    pub state: String,
    pub is_owner: bool,
    pub since: i64,
    pub staff_status: String,
    pub wecom_userid: Option<String>,
}

/// Push `(id, id, …)` onto a query builder.
macro_rules! push_ids {
    ($qb:expr, $ids:expr) => {{
        $qb.push("(");
        let mut sep = $qb.separated(", ");
        for id in $ids {
            sep.push_bind(*id);
        }
        $qb.push(")");
    }};
}

/// The follow relations of these customers (every state).
pub async fn follows_of(db: &Db, ids: &[i64]) -> Result<Vec<FollowFact>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<FollowFact> = db_run!(db, pool => {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT f.customer_id, f.staff_id, f.state, f.is_owner, f.since, \
                 st.status AS staff_status, st.wecom_userid FROM follows f \
                 JOIN staff st ON st.id = f.staff_id WHERE f.customer_id IN ",
            );
            push_ids!(qb, chunk);
            qb.build_query_as().fetch_all(pool).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// The WeCom contact id of each customer that has one (the smallest, when several).
///
/// The kind is tested inside the aggregate, not in `WHERE`: with `kind = 'wecom_external'`
/// beside a long `customer_id IN (…)`, SQLite chose the `(kind, namespace, value)` index and
/// read every WeCom identity of the brand for each chunk (0.38 s a chunk at 1M customers,
/// 6 minutes for a 1M-customer message; `yutang bench messaging` found it). Filtering on the
/// customer alone keeps both engines on the customer index (4 ms a chunk).
pub async fn external_ids(db: &Db, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(i64, Option<String>)> = db_run!(db, pool => {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT customer_id, MIN(CASE WHEN kind = 'wecom_external' THEN value END) \
                 FROM customer_identities WHERE customer_id IN ",
            );
            push_ids!(qb, chunk);
            qb.push(" GROUP BY customer_id");
            qb.build_query_as().fetch_all(pool).await?
        });
        out.extend(rows.into_iter().filter_map(|(c, v)| v.map(|v| (c, v))));
    }
    Ok(out)
}

/// The store of each of these staff members that has one.
pub async fn staff_stores(db: &Db, ids: &[i64]) -> Result<HashMap<i64, i64>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(i64, i64)> = db_run!(db, pool => {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT id, store_id FROM staff WHERE store_id IS NOT NULL AND id IN ",
            );
            push_ids!(qb, chunk);
            qb.build_query_as().fetch_all(pool).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// Which of these customers carry a tag.
pub async fn tagged(db: &Db, tag: i64, ids: &[i64]) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<i64> = db_run!(db, pool => {
            let mut qb = sqlx::QueryBuilder::new("SELECT customer_id FROM customer_tags WHERE tag_id = ");
            qb.push_bind(tag);
            qb.push(" AND customer_id IN ");
            push_ids!(qb, chunk);
            qb.build_query_scalar().fetch_all(pool).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// Messages counted per customer: (today, last 7 days, in WeCom's receipt window through
/// WeCom's mass sending).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactCounts {
    pub day: i64,
    pub week: i64,
    pub receipt: i64,
}

pub async fn contact_counts(
    db: &Db,
    ids: &[i64],
    day_since: i64,
    week_since: i64,
    receipt_since: i64,
) -> Result<HashMap<i64, ContactCounts>> {
    let from = day_since.min(week_since).min(receipt_since);
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(i64, i64, i64, i64)> = db_run!(db, pool => {
            let mut qb = sqlx::QueryBuilder::new("SELECT customer_id, SUM(CASE WHEN at >= ");
            qb.push_bind(day_since)
                .push(" THEN 1 ELSE 0 END), SUM(CASE WHEN at >= ")
                .push_bind(week_since)
                .push(" THEN 1 ELSE 0 END), SUM(CASE WHEN wecom_mass AND at >= ")
                .push_bind(receipt_since)
                .push(" THEN 1 ELSE 0 END) FROM message_contacts WHERE at >= ")
                .push_bind(from)
                .push(" AND customer_id IN ");
            push_ids!(qb, chunk);
            qb.push(" GROUP BY customer_id");
            qb.build_query_as().fetch_all(pool).await?
        });
        for (c, day, week, receipt) in rows {
            out.insert(c, ContactCounts { day, week, receipt });
        }
    }
    Ok(out)
}

/// One customer group as a group message's preparation sees it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GroupFact {
    pub id: i64,
    pub chat_id: String,
    pub name: String,
    pub dismissed_at: Option<i64>,
    pub owner_staff_id: Option<i64>,
    /// The owner's status and WeCom userid (when the owner is a linked staff member).
    pub owner_status: Option<String>,
    pub owner_userid: Option<String>,
    pub owner_name: Option<String>,
    pub owner_store_id: Option<i64>,
}

/// The groups of an audience: these (`ids`), or every group not dismissed (`None`); of one
/// store's owners when `store` is set. Ascending by id.
pub async fn group_facts(
    db: &Db,
    ids: Option<&[i64]>,
    store: Option<i64>,
) -> Result<Vec<GroupFact>> {
    const SELECT: &str = "SELECT g.id, g.chat_id, g.name, g.dismissed_at, g.owner_staff_id, \
         st.status AS owner_status, st.wecom_userid AS owner_userid, \
         st.display_name AS owner_name, st.store_id AS owner_store_id FROM customer_groups g \
         LEFT JOIN staff st ON st.id = g.owner_staff_id WHERE ";
    let mut out: Vec<GroupFact> = Vec::new();
    match ids {
        None => {
            let rows: Vec<GroupFact> = db_run!(db, pool => {
                let mut qb = sqlx::QueryBuilder::new(SELECT);
                qb.push("g.dismissed_at IS NULL");
                if let Some(s) = store {
                    qb.push(" AND st.store_id = ").push_bind(s);
                }
                qb.push(" ORDER BY g.id");
                qb.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Some(ids) => {
            for chunk in ids.chunks(CHUNK) {
                let rows: Vec<GroupFact> = db_run!(db, pool => {
                    let mut qb = sqlx::QueryBuilder::new(SELECT);
                    qb.push("g.id IN ");
                    push_ids!(qb, chunk);
                    if let Some(s) = store {
                        qb.push(" AND st.store_id = ").push_bind(s);
                    }
                    qb.build_query_as().fetch_all(pool).await?
                });
                out.extend(rows);
            }
            out.sort_by_key(|g| g.id);
        }
    }
    Ok(out)
}

/// Mass messages each of these groups received through WeCom since `since`.
pub async fn group_receipts(db: &Db, ids: &[i64], since: i64) -> Result<HashMap<i64, i64>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(i64, i64)> = db_run!(db, pool => {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT group_id, COUNT(*) FROM group_message_contacts WHERE at >= ",
            );
            qb.push_bind(since).push(" AND group_id IN ");
            push_ids!(qb, chunk);
            qb.push(" GROUP BY group_id");
            qb.build_query_as().fetch_all(pool).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

// ------------------------------------------------------------------ preparation writes

/// One recipient as decided (for a group message, `customer_id` is the group's id and
/// `external_userid` its chat id).
#[derive(Debug, Clone)]
pub struct NewRecipient {
    pub customer_id: i64,
    pub state: &'static str,
    pub reason: &'static str,
    pub staff_id: Option<i64>,
    pub task_id: Option<i64>,
    pub external_userid: Option<String>,
}

/// Insert a task (one guide's chunk of recipients), returning its id.
pub async fn insert_task_in(
    tx: &mut Tx,
    message_id: i64,
    staff_id: i64,
    wecom_userid: &str,
    chunk: i64,
    recipients: i64,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO mass_message_tasks (message_id, staff_id, wecom_userid, chunk, recipients, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(message_id)
        .bind(staff_id)
        .bind(wecom_userid)
        .bind(chunk)
        .bind(recipients)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Insert recipients in multi-row statements; those `queued` also enter the target's ledger
/// as `source`.
pub async fn insert_recipients_in(
    tx: &mut Tx,
    target: Target,
    message_id: i64,
    rows: &[NewRecipient],
    source: &str,
    now: i64,
) -> Result<()> {
    let insert = format!(
        "INSERT INTO {} (message_id, {}, state, reason, staff_id, task_id, {}, updated_at) ",
        target.table(),
        target.id_col(),
        target.wecom_col()
    );
    let ledger = match target {
        Target::Customers => "INSERT INTO message_contacts (customer_id, source, wecom_mass, at) ",
        Target::Groups => "INSERT INTO group_message_contacts (group_id, source, at) ",
    };
    let conflict = format!(" ON CONFLICT ({}, source) DO NOTHING", target.id_col());
    // 8 parameters a row: well under SQLite's bound.
    for chunk in rows.chunks(2000) {
        in_tx!(tx, DB, conn => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(insert.clone());
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(message_id)
                    .push_bind(r.customer_id)
                    .push_bind(r.state)
                    .push_bind(r.reason)
                    .push_bind(r.staff_id)
                    .push_bind(r.task_id)
                    .push_bind(r.external_userid.clone())
                    .push_bind(now);
            });
            qb.build().execute(&mut *conn).await?;
        });
        let sent: Vec<i64> = chunk
            .iter()
            .filter(|r| r.state == "queued")
            .map(|r| r.customer_id)
            .collect();
        if sent.is_empty() {
            continue;
        }
        in_tx!(tx, DB, conn => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(ledger);
            qb.push_values(&sent, |mut b, c| {
                b.push_bind(*c).push_bind(source);
                if target == Target::Customers {
                    b.push_bind(true);
                }
                b.push_bind(now);
            });
            qb.push(&conflict);
            qb.build().execute(&mut *conn).await?;
        });
    }
    Ok(())
}

// ------------------------------------------------------------------ tasks

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TaskRow {
    pub id: i64,
    pub message_id: i64,
    pub staff_id: i64,
    pub wecom_userid: String,
    pub chunk: i64,
    pub state: String,
    pub msgid: Option<String>,
    pub recipients: i64,
    pub attempted_at: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub reminders: String,
    pub last_error: String,
    pub updated_at: i64,
    /// The guide's name (joined).
    pub staff_name: String,
}

pub async fn tasks(db: &Db, message_id: i64) -> Result<Vec<TaskRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TaskRow>(
            "SELECT t.id, t.message_id, t.staff_id, t.wecom_userid, t.chunk, t.state, t.msgid, \
             t.recipients, t.attempted_at, t.confirmed_at, t.reminders, t.last_error, t.updated_at, \
             COALESCE(st.display_name, '') AS staff_name FROM mass_message_tasks t \
             LEFT JOIN staff st ON st.id = t.staff_id WHERE t.message_id = $1 ORDER BY t.id",
        )
        .bind(message_id)
        .fetch_all(pool)
        .await?)
    })
}

/// The WeCom ids of a task's recipients (contact ids of customers, chat ids of groups), by
/// recipient id.
pub async fn task_recipients(db: &Db, target: Target, task_id: i64) -> Result<Vec<(i64, String)>> {
    let sql = format!(
        "SELECT {id}, COALESCE({w}, '') FROM {t} WHERE task_id = $1 ORDER BY {id}",
        id = target.id_col(),
        w = target.wecom_col(),
        t = target.table()
    );
    db_run!(db, pool => {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(task_id)
            .fetch_all(pool)
            .await?)
    })
}

/// Mark a task `sending` before its WeCom call (a crash after the call leaves it so, and the
/// next run looks WeCom up before calling again). Only `pending` or `sending` tasks move.
pub async fn mark_sending(db: &Db, task_id: i64, now: i64) -> Result<bool> {
    db_run!(db, pool => {
        Ok(sqlx::query(
            "UPDATE mass_message_tasks SET state = 'sending', attempted_at = $1, updated_at = $1 \
             WHERE id = $2 AND state IN ('pending', 'sending')",
        )
        .bind(now)
        .bind(task_id)
        .execute(pool)
        .await?
        .rows_affected()
            == 1)
    })
}

/// Remove ledger rows of recipients a message did not reach after all.
async fn unledger_in(tx: &mut Tx, target: Target, source: &str, ids: &[i64]) -> Result<()> {
    let delete = format!("DELETE FROM {} WHERE source = ", target.ledger());
    let and_in = format!(" AND {} IN ", target.id_col());
    for chunk in ids.chunks(CHUNK) {
        in_tx!(tx, DB, conn => {
            let mut qb = sqlx::QueryBuilder::<DB>::new(delete.clone());
            qb.push_bind(source).push(&and_in);
            push_ids!(qb, chunk);
            qb.build().execute(&mut *conn).await?;
        });
    }
    Ok(())
}

/// The task exists in WeCom: record its msgid; its recipients become `task_created`, except
/// those WeCom refused (`refused`, by WeCom id), which fail as `wecom_refused`.
pub async fn mark_created_in(
    tx: &mut Tx,
    target: Target,
    task_id: i64,
    msgid: &str,
    refused: &[String],
    source: &str,
    now: i64,
) -> Result<()> {
    let created = format!(
        "UPDATE {} SET state = 'task_created', updated_at = $1 \
         WHERE task_id = $2 AND state = 'queued'",
        target.table()
    );
    let refuse = format!(
        "UPDATE {} SET state = 'failed', reason = 'wecom_refused', updated_at = $1 \
         WHERE task_id = $2 AND {} = $3 RETURNING {}",
        target.table(),
        target.wecom_col(),
        target.id_col()
    );
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE mass_message_tasks SET state = 'created', msgid = $1, last_error = '', \
             updated_at = $2 WHERE id = $3",
        )
        .bind(msgid)
        .bind(now)
        .bind(task_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(created.clone()))
            .bind(now)
            .bind(task_id)
            .execute(&mut *conn)
            .await?;
    });
    let mut failed = Vec::new();
    for ext in refused {
        let c: Option<i64> = in_tx!(tx, conn => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(refuse.clone()))
                .bind(now)
                .bind(task_id)
                .bind(ext)
                .fetch_optional(&mut *conn)
                .await?
        });
        failed.extend(c);
    }
    unledger_in(tx, target, source, &failed).await
}

/// The task could not be created: it and its recipients fail with `why`.
pub async fn mark_task_failed_in(
    tx: &mut Tx,
    target: Target,
    task_id: i64,
    why: &str,
    source: &str,
    now: i64,
) -> Result<()> {
    let fail = format!(
        "UPDATE {} SET state = 'failed', reason = 'wecom_error', updated_at = $1 \
         WHERE task_id = $2 AND state = 'queued' RETURNING {}",
        target.table(),
        target.id_col()
    );
    let failed: Vec<i64> = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE mass_message_tasks SET state = 'failed', last_error = $1, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(why)
        .bind(now)
        .bind(task_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query_scalar(sqlx::AssertSqlSafe(fail.clone()))
            .bind(now)
            .bind(task_id)
            .fetch_all(&mut *conn)
            .await?
    });
    unledger_in(tx, target, source, &failed).await
}

/// A retryable error of a task's call.
pub async fn record_task_error(db: &Db, task_id: i64, why: &str, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE mass_message_tasks SET last_error = $1, updated_at = $2 WHERE id = $3")
            .bind(why)
            .bind(now)
            .bind(task_id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// The guide sent the task in their client.
pub async fn mark_confirmed(db: &Db, task_id: i64, at: i64, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE mass_message_tasks SET state = 'confirmed', confirmed_at = $1, updated_at = $2 \
             WHERE id = $3 AND state = 'created'",
        )
        .bind(at)
        .bind(now)
        .bind(task_id)
        .execute(pool)
        .await?;
        Ok(())
    })
}

/// Record a reminder list (JSON array of times).
pub async fn set_reminders(db: &Db, task_id: i64, reminders: &str, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE mass_message_tasks SET reminders = $1, updated_at = $2 WHERE id = $3")
            .bind(reminders)
            .bind(now)
            .bind(task_id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// One result from WeCom for a recipient of a task.
#[derive(Debug, Clone)]
pub struct ResultLine {
    /// The customer's contact id, or the group's chat id.
    pub wecom_id: String,
    pub state: &'static str,
    pub reason: &'static str,
    pub at: Option<i64>,
}

/// Apply WeCom's results to a task's recipients still waiting (`task_created`): a result
/// replayed changes nothing. Recipients a send failed for leave the ledger.
pub async fn apply_results_in(
    tx: &mut Tx,
    target: Target,
    task_id: i64,
    lines: &[ResultLine],
    source: &str,
    now: i64,
) -> Result<usize> {
    let apply = format!(
        "UPDATE {} SET state = $1, reason = $2, delivered_at = $3, updated_at = $4 \
         WHERE task_id = $5 AND {} = $6 AND state = 'task_created' RETURNING {}",
        target.table(),
        target.wecom_col(),
        target.id_col()
    );
    let mut changed = 0;
    let mut failed = Vec::new();
    for l in lines {
        let c: Option<i64> = in_tx!(tx, conn => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(apply.clone()))
                .bind(l.state)
                .bind(l.reason)
                .bind(l.at)
                .bind(now)
                .bind(task_id)
                .bind(&l.wecom_id)
                .fetch_optional(&mut *conn)
                .await?
        });
        if let Some(c) = c {
            changed += 1;
            if l.state == "failed" {
                failed.push(c);
            }
        }
    }
    unledger_in(tx, target, source, &failed).await?;
    Ok(changed)
}

// ------------------------------------------------------------------ reading recipients

/// Recipients (customers or groups: a message has one kind) per (state, reason).
pub async fn counts(db: &Db, message_id: i64) -> Result<Vec<(String, String, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT state, reason, COUNT(*) FROM (SELECT state, reason FROM \
             mass_message_recipients WHERE message_id = $1 UNION ALL SELECT state, reason \
             FROM mass_message_groups WHERE message_id = $1) r \
             GROUP BY state, reason ORDER BY state, reason",
        )
        .bind(message_id)
        .fetch_all(pool)
        .await?)
    })
}

/// A recipient as listed.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RecipientRow {
    pub customer_id: i64,
    pub customer_name: String,
    pub state: String,
    pub reason: String,
    pub staff_id: Option<i64>,
    pub staff_name: Option<String>,
    pub delivered_at: Option<i64>,
    pub updated_at: i64,
}

/// A page of recipients by customer id (of one state, when given).
pub async fn recipients(
    db: &Db,
    message_id: i64,
    state: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<RecipientRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RecipientRow>(
            "SELECT r.customer_id, COALESCE(c.name, '') AS customer_name, r.state, r.reason, \
             r.staff_id, st.display_name AS staff_name, r.delivered_at, r.updated_at \
             FROM mass_message_recipients r LEFT JOIN customers c ON c.id = r.customer_id \
             LEFT JOIN staff st ON st.id = r.staff_id WHERE r.message_id = $1 \
             AND ($2 IS NULL OR r.state = $2) AND r.customer_id > $3 \
             ORDER BY r.customer_id LIMIT $4",
        )
        .bind(message_id)
        .bind(state)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// A group recipient as listed.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GroupRecipientRow {
    pub group_id: i64,
    pub group_name: String,
    pub state: String,
    pub reason: String,
    pub staff_id: Option<i64>,
    pub staff_name: Option<String>,
    pub delivered_at: Option<i64>,
    pub updated_at: i64,
}

/// A page of a group message's groups by group id (of one state, when given).
pub async fn group_recipients(
    db: &Db,
    message_id: i64,
    state: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<GroupRecipientRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GroupRecipientRow>(
            "SELECT r.group_id, COALESCE(g.name, '') AS group_name, r.state, r.reason, \
             r.staff_id, st.display_name AS staff_name, r.delivered_at, r.updated_at \
             FROM mass_message_groups r LEFT JOIN customer_groups g ON g.id = r.group_id \
             LEFT JOIN staff st ON st.id = r.staff_id WHERE r.message_id = $1 \
             AND ($2 IS NULL OR r.state = $2) AND r.group_id > $3 \
             ORDER BY r.group_id LIMIT $4",
        )
        .bind(message_id)
        .bind(state)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// The messages that still wait for WeCom's results: sent, with a task not final, sent after
/// `since`.
pub async fn tracking(db: &Db, since: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT m.id FROM mass_messages m WHERE m.status = 'sent' AND m.sent_at >= $1 \
             AND (EXISTS (SELECT 1 FROM mass_message_recipients r WHERE r.message_id = m.id \
             AND r.state = 'task_created') OR EXISTS (SELECT 1 FROM mass_message_groups g \
             WHERE g.message_id = m.id AND g.state = 'task_created')) ORDER BY m.id",
        )
        .bind(since)
        .fetch_all(pool)
        .await?)
    })
}

/// One arm's sums for the holdout comparison (see `yutang_core::messaging::holdout`).
#[derive(Debug, Clone, Default, PartialEq, FromRow)]
pub struct ArmSums {
    pub arm: String,
    pub customers: i64,
    pub buyers: i64,
    pub orders: i64,
    pub orders_sq: f64,
    pub net_fen: i64,
    pub net_fen_sq: f64,
}

/// Per arm (`sent`: every recipient not excluded nor held out; `holdout`), the customers and
/// their orders paid in `[from, to)`: buyers, orders (an order refunded in full is not one),
/// net spend (paid minus refunded) and the sums of squares.
pub async fn holdout_sums(db: &Db, message_id: i64, from: i64, to: i64) -> Result<Vec<ArmSums>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ArmSums>(
            "SELECT arm, CAST(COUNT(*) AS BIGINT) AS customers, \
             CAST(SUM(CASE WHEN n > 0 THEN 1 ELSE 0 END) AS BIGINT) AS buyers, \
             CAST(SUM(n) AS BIGINT) AS orders, SUM(CAST(n AS FLOAT) * n) AS orders_sq, \
             CAST(SUM(fen) AS BIGINT) AS net_fen, SUM(CAST(fen AS FLOAT) * fen) AS net_fen_sq \
             FROM (SELECT CASE WHEN r.state = 'holdout' THEN 'holdout' ELSE 'sent' END AS arm, \
               (SELECT COUNT(*) FROM orders o WHERE o.customer_id = r.customer_id \
                 AND o.paid_at >= $2 AND o.paid_at < $3 AND o.amount > o.refunded_amount) AS n, \
               (SELECT COALESCE(SUM(o.amount - o.refunded_amount), 0) FROM orders o \
                 WHERE o.customer_id = r.customer_id AND o.paid_at >= $2 AND o.paid_at < $3) AS fen \
             FROM mass_message_recipients r WHERE r.message_id = $1 AND r.state <> 'excluded') x \
             GROUP BY arm ORDER BY arm",
        )
        .bind(message_id)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?)
    })
}

/// Messages sent in `[from, to)` that kept a holdout (of one store, when `store` is set),
/// newest first, at most `limit`.
pub async fn with_holdout(
    db: &Db,
    store: Option<i64>,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<MessageRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, MessageRow>(concat!(
            message_select!(),
            " WHERE holdout_bp > 0 AND status = 'sent' AND sent_at >= $1 AND sent_at < $2 \
             AND ($3 IS NULL OR store_id = $3) ORDER BY sent_at DESC, id DESC LIMIT $4"
        ))
        .bind(from)
        .bind(to)
        .bind(store)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}
