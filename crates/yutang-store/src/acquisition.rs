//! Acquisition rows (migration 0018): channels, live codes with their day counters and
//! change log, every add through a channel, first touch per customer, the welcome of each add
//! and the once-ever first-add reward.

pub mod images;
pub mod referrals;
pub mod settings;
pub mod stats;

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// A channel row (the spec is JSON; the app parses it).
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ChannelRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub owner_staff_id: Option<i64>,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    pub spec: String,
    pub archived_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! channel_select {
    () => {
        "SELECT id, name, kind, owner_staff_id, store_id, region_id, spec, archived_at, \
         created_by, created_at, updated_at FROM channels"
    };
}

/// The indexed columns of a channel and its spec as JSON.
#[derive(Debug, Clone, Copy)]
pub struct ChannelWrite<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub owner_staff_id: Option<i64>,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    pub spec: &'a str,
}

pub async fn insert_channel_in(
    tx: &mut Tx,
    c: &ChannelWrite<'_>,
    by: &str,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO channels (name, kind, owner_staff_id, store_id, region_id, spec, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             RETURNING id",
        )
        .bind(c.name)
        .bind(c.kind)
        .bind(c.owner_staff_id)
        .bind(c.store_id)
        .bind(c.region_id)
        .bind(c.spec)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "channel"))
    })
}

/// Rewrites a channel that is not archived; `false` when there is none.
pub async fn update_channel_in(
    tx: &mut Tx,
    id: i64,
    c: &ChannelWrite<'_>,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE channels SET name = $2, kind = $3, owner_staff_id = $4, store_id = $5, \
             region_id = $6, spec = $7, updated_at = $8 WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(c.name)
        .bind(c.kind)
        .bind(c.owner_staff_id)
        .bind(c.store_id)
        .bind(c.region_id)
        .bind(c.spec)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "channel"))?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Archives a channel and its codes; `false` when it was archived already.
pub async fn archive_channel_in(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        let n = sqlx::query(
            "UPDATE channels SET archived_at = $2, updated_at = $2 \
             WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE live_codes SET archived_at = $2, updated_at = $2 \
             WHERE channel_id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        n
    });
    Ok(n == 1)
}

pub async fn get_channel(db: &Db, id: i64) -> Result<ChannelRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, ChannelRow>(concat!(channel_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn get_channel_in(tx: &mut Tx, id: i64) -> Result<Option<ChannelRow>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, ChannelRow>(concat!(channel_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    }))
}

/// Channels, newest first; only one store's (and the brand-wide ones) when `store` is set.
pub async fn list_channels(db: &Db, store: Option<i64>, archived: bool) -> Result<Vec<ChannelRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ChannelRow>(concat!(
            channel_select!(),
            " WHERE ($1 IS NULL OR store_id = $1 OR store_id IS NULL) \
             AND ((archived_at IS NOT NULL) = $2) ORDER BY id DESC"
        ))
        .bind(store)
        .bind(archived)
        .fetch_all(pool)
        .await?)
    })
}

/// A live code row.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct LiveCodeRow {
    pub id: i64,
    pub channel_id: i64,
    pub name: String,
    pub state: String,
    pub spec: String,
    pub config_id: String,
    pub qr_url: String,
    pub users: String,
    pub sync_status: String,
    pub sync_error: String,
    pub synced_at: Option<i64>,
    pub sync_wanted: i64,
    pub sync_done: i64,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! code_select {
    () => {
        "SELECT id, channel_id, name, state, spec, config_id, qr_url, users, sync_status, \
         sync_error, synced_at, sync_wanted, sync_done, archived_at, created_at, updated_at \
         FROM live_codes"
    };
}

pub async fn insert_code_in(
    tx: &mut Tx,
    channel: i64,
    name: &str,
    state: &str,
    spec: &str,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO live_codes (channel_id, name, state, spec, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(channel)
        .bind(name)
        .bind(state)
        .bind(spec)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "state"))
    })
}

/// Rewrites a code's name, state and spec (not archived) and asks for a re-sync.
pub async fn update_code_in(
    tx: &mut Tx,
    id: i64,
    name: &str,
    state: &str,
    spec: &str,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE live_codes SET name = $2, state = $3, spec = $4, updated_at = $5, \
             sync_wanted = sync_wanted + 1 WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(name)
        .bind(state)
        .bind(spec)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "state"))?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Archives one code; `false` when it was archived already. Returns its config id too.
pub async fn archive_code_in(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE live_codes SET archived_at = $2, updated_at = $2 \
             WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

pub async fn get_code(db: &Db, id: i64) -> Result<LiveCodeRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, LiveCodeRow>(concat!(code_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The live code WeCom's `state` names (archived ones too: their adds still count).
pub async fn code_by_state_in(tx: &mut Tx, state: &str) -> Result<Option<LiveCodeRow>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, LiveCodeRow>(concat!(code_select!(), " WHERE state = $1"))
            .bind(state)
            .fetch_optional(&mut *conn)
            .await?
    }))
}

/// Codes of a channel (all channels when `None`), newest first.
pub async fn list_codes(db: &Db, channel: Option<i64>, archived: bool) -> Result<Vec<LiveCodeRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, LiveCodeRow>(concat!(
            code_select!(),
            " WHERE ($1 IS NULL OR channel_id = $1) AND ((archived_at IS NOT NULL) = $2) \
             ORDER BY id DESC"
        ))
        .bind(channel)
        .bind(archived)
        .fetch_all(pool)
        .await?)
    })
}

/// Ids of the codes that are live and need a sync (asked for, or failed last time).
pub async fn codes_to_sync(db: &Db) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT id FROM live_codes WHERE archived_at IS NULL ORDER BY id",
        )
        .fetch_all(pool)
        .await?)
    })
}

/// Ask for a re-sync of a code (an add through it, an edit).
pub async fn want_sync_in(tx: &mut Tx, id: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("UPDATE live_codes SET sync_wanted = sync_wanted + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// What a sync did to a code.
#[derive(Debug, Clone)]
pub struct SyncRecord<'a> {
    pub seen: i64,
    pub config_id: &'a str,
    pub qr_url: &'a str,
    pub users: &'a str,
    pub status: &'a str,
    pub error: &'a str,
    pub now: i64,
}

pub async fn record_sync(db: &Db, id: i64, r: &SyncRecord<'_>) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE live_codes SET sync_done = $2, config_id = $3, qr_url = $4, users = $5, \
             sync_status = $6, sync_error = $7, synced_at = $8 WHERE id = $1",
        )
        .bind(id)
        .bind(r.seen)
        .bind(r.config_id)
        .bind(r.qr_url)
        .bind(r.users)
        .bind(r.status)
        .bind(r.error)
        .bind(r.now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Adds through a code per guide on a Shanghai day.
pub async fn adds_on(db: &Db, code: i64, day: &str) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT staff_id, adds FROM live_code_adds WHERE code_id = $1 AND day = $2",
        )
        .bind(code)
        .bind(day)
        .fetch_all(pool)
        .await?)
    })
}

/// Count one add through a code for a guide on a day.
pub async fn count_add_in(tx: &mut Tx, code: i64, staff: i64, day: &str) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO live_code_adds (code_id, staff_id, day, adds) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (code_id, day, staff_id) DO UPDATE SET adds = live_code_adds.adds + 1",
        )
        .bind(code)
        .bind(staff)
        .bind(day)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// One change of the guides behind a code.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CodeChangeRow {
    pub id: i64,
    pub code_id: i64,
    pub at: i64,
    pub users: String,
    pub reasons: String,
    pub on_backup: bool,
    pub exhausted: bool,
    pub ok: bool,
    pub error: String,
}

pub async fn insert_change(db: &Db, c: &CodeChangeRow) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO live_code_changes (code_id, at, users, reasons, on_backup, exhausted, \
             ok, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(c.code_id)
        .bind(c.at)
        .bind(&c.users)
        .bind(&c.reasons)
        .bind(c.on_backup)
        .bind(c.exhausted)
        .bind(c.ok)
        .bind(&c.error)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// A code's changes, newest first.
pub async fn changes(db: &Db, code: i64, limit: i64) -> Result<Vec<CodeChangeRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, CodeChangeRow>(
            "SELECT id, code_id, at, users, reasons, on_backup, exhausted, ok, error \
             FROM live_code_changes WHERE code_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(code)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// One add of a WeCom contact.
#[derive(Debug, Clone)]
pub struct NewAdd<'a> {
    pub dedup_key: &'a str,
    pub customer_id: i64,
    pub channel_id: Option<i64>,
    pub code_id: Option<i64>,
    pub state: &'a str,
    pub staff_id: Option<i64>,
    pub added_at: i64,
}

/// Record an add, and the customer's first touch when they have none. `None` when the add was
/// recorded before (a replayed callback); else the add's id and whether it was the first touch.
pub async fn record_add_in(tx: &mut Tx, a: &NewAdd<'_>) -> Result<Option<(i64, bool)>> {
    in_tx!(tx, conn => {
        let first = sqlx::query(
            "INSERT INTO customer_acquisition (customer_id, channel_id, code_id, state, \
             staff_id, acquired_at) SELECT $1, $2, $3, $4, $5, $6 \
             WHERE NOT EXISTS (SELECT 1 FROM channel_adds WHERE dedup_key = $7) \
             ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(a.customer_id)
        .bind(a.channel_id)
        .bind(a.code_id)
        .bind(a.state)
        .bind(a.staff_id)
        .bind(a.added_at)
        .bind(a.dedup_key)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO channel_adds (dedup_key, customer_id, channel_id, code_id, state, \
             staff_id, added_at, first_touch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
        )
        .bind(a.dedup_key)
        .bind(a.customer_id)
        .bind(a.channel_id)
        .bind(a.code_id)
        .bind(a.state)
        .bind(a.staff_id)
        .bind(a.added_at)
        .bind(first)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(id.map(|id| (id, first)))
    })
}

/// The pair (customer, guide) was deleted: the latest add of the pair still open is closed.
pub async fn close_add_in(tx: &mut Tx, customer: i64, staff: i64, at: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE channel_adds SET deleted_at = $3 WHERE id = (SELECT MAX(id) FROM channel_adds \
             WHERE customer_id = $1 AND staff_id = $2 AND deleted_at IS NULL)",
        )
        .bind(customer)
        .bind(staff)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// The channel of the customer's latest add at or after `since` (last touch), if any.
pub async fn last_touch_in(
    tx: &mut Tx,
    customer: i64,
    since: i64,
    until: i64,
) -> Result<Option<i64>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT channel_id FROM channel_adds WHERE customer_id = $1 AND added_at >= $2 \
             AND added_at <= $3 AND channel_id IS NOT NULL ORDER BY added_at DESC, id DESC LIMIT 1",
        )
        .bind(customer)
        .bind(since)
        .bind(until)
        .fetch_optional(&mut *conn)
        .await?
        .flatten()
    }))
}

/// Set an order's last-touch channel.
pub async fn set_order_touch_in(tx: &mut Tx, order: i64, channel: Option<i64>) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("UPDATE orders SET touch_channel_id = $2 WHERE id = $1")
            .bind(order)
            .bind(channel)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// A customer's first touch.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct FirstTouchRow {
    pub customer_id: i64,
    pub channel_id: Option<i64>,
    pub channel_name: Option<String>,
    pub code_id: Option<i64>,
    pub state: String,
    pub staff_id: Option<i64>,
    pub acquired_at: i64,
}

pub async fn first_touch(db: &Db, customer: i64) -> Result<Option<FirstTouchRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, FirstTouchRow>(
            "SELECT a.customer_id, a.channel_id, ch.name AS channel_name, a.code_id, a.state, \
             a.staff_id, a.acquired_at FROM customer_acquisition a \
             LEFT JOIN channels ch ON ch.id = a.channel_id WHERE a.customer_id = $1",
        )
        .bind(customer)
        .fetch_optional(pool)
        .await?)
    })
}

/// A welcome to send.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct WelcomeRow {
    pub id: i64,
    pub welcome_code: String,
    pub add_id: i64,
    pub deadline: i64,
    pub status: String,
    pub attempts: i64,
    pub error: String,
    pub text: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

macro_rules! welcome_select {
    () => {
        "SELECT id, welcome_code, add_id, deadline, status, attempts, error, text, created_at, \
         finished_at FROM welcome_sends"
    };
}

/// Queue the welcome of an add; `None` when this welcome code has a row already.
pub async fn insert_welcome_in(
    tx: &mut Tx,
    code: &str,
    add_id: i64,
    deadline: i64,
    now: i64,
) -> Result<Option<i64>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO welcome_sends (welcome_code, add_id, deadline, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (welcome_code) DO NOTHING RETURNING id",
        )
        .bind(code)
        .bind(add_id)
        .bind(deadline)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// Claim a welcome for sending: pending, or `sending` with a claim older than `stale_before`
/// (a sender that died). One claimer wins.
pub async fn claim_welcome(
    db: &Db,
    id: i64,
    now: i64,
    stale_before: i64,
) -> Result<Option<WelcomeRow>> {
    let n = db_run!(db, pool => {
        sqlx::query(
            "UPDATE welcome_sends SET status = 'sending', attempts = attempts + 1, \
             finished_at = $2 WHERE id = $1 AND (status = 'pending' \
             OR (status = 'sending' AND finished_at < $3))",
        )
        .bind(id)
        .bind(now)
        .bind(stale_before)
        .execute(pool)
        .await?
        .rows_affected()
    });
    if n == 0 {
        return Ok(None);
    }
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, WelcomeRow>(concat!(welcome_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?)
    })
}

/// Record a welcome's outcome (`pending` puts it back for another try).
pub async fn finish_welcome(
    db: &Db,
    id: i64,
    status: &str,
    error: &str,
    text: &str,
    now: i64,
) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE welcome_sends SET status = $2, error = $3, text = $4, finished_at = $5 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(error)
        .bind(text)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Welcomes still to send or to close: pending, or sending with a stale claim.
pub async fn open_welcomes(db: &Db, stale_before: i64, limit: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT id FROM welcome_sends WHERE status = 'pending' \
             OR (status = 'sending' AND finished_at < $1) ORDER BY id LIMIT $2",
        )
        .bind(stale_before)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// What a welcome needs: the add's customer, guide and channel.
#[derive(Debug, Clone, FromRow)]
pub struct WelcomeContext {
    pub customer_name: String,
    /// The customer's WeCom external userid (to read the name when the pool has none yet).
    pub external_userid: Option<String>,
    pub staff_name: Option<String>,
    pub channel_spec: Option<String>,
}

pub async fn welcome_context(db: &Db, add_id: i64) -> Result<WelcomeContext> {
    db_run!(db, pool => {
        sqlx::query_as::<_, WelcomeContext>(
            "SELECT c.name AS customer_name, (SELECT i.value FROM customer_identities i \
             WHERE i.customer_id = c.id AND i.kind = 'wecom_external' ORDER BY i.id LIMIT 1) \
             AS external_userid, st.display_name AS staff_name, \
             ch.spec AS channel_spec FROM channel_adds a JOIN customers c ON c.id = a.customer_id \
             LEFT JOIN staff st ON st.id = a.staff_id LEFT JOIN channels ch ON ch.id = a.channel_id \
             WHERE a.id = $1",
        )
        .bind(add_id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

/// The welcomes of a channel's adds, newest first (the console's log).
pub async fn welcomes_of_channel(db: &Db, channel: i64, limit: i64) -> Result<Vec<WelcomeRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, WelcomeRow>(
            "SELECT w.id, w.welcome_code, w.add_id, w.deadline, w.status, w.attempts, w.error, \
             w.text, w.created_at, w.finished_at FROM welcome_sends w \
             JOIN channel_adds a ON a.id = w.add_id WHERE a.channel_id = $1 \
             ORDER BY w.id DESC LIMIT $2",
        )
        .bind(channel)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Note a first-add reward for a customer; `false` when they had one already (ever).
pub async fn insert_reward_in(
    tx: &mut Tx,
    customer: i64,
    channel: i64,
    template: i64,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO acquisition_rewards (customer_id, channel_id, template_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(customer)
        .bind(channel)
        .bind(template)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// A first-add reward.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RewardRow {
    pub customer_id: i64,
    pub channel_id: i64,
    pub template_id: i64,
    pub status: String,
    pub claim_id: Option<i64>,
    pub error: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// A customer's reward, locked (PostgreSQL) for the rest of the transaction.
pub async fn lock_reward_in(tx: &mut Tx, customer: i64) -> Result<Option<RewardRow>> {
    let lock = tx.row_lock();
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, RewardRow>(sqlx::AssertSqlSafe(format!(
            "SELECT customer_id, channel_id, template_id, status, claim_id, error, created_at, \
             finished_at FROM acquisition_rewards WHERE customer_id = $1{lock}"
        )))
        .bind(customer)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

pub async fn finish_reward_in(
    tx: &mut Tx,
    customer: i64,
    status: &str,
    claim: Option<i64>,
    error: &str,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE acquisition_rewards SET status = $2, claim_id = $3, error = $4, \
             finished_at = $5 WHERE customer_id = $1",
        )
        .bind(customer)
        .bind(status)
        .bind(claim)
        .bind(error)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

pub async fn reward_of(db: &Db, customer: i64) -> Result<Option<RewardRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RewardRow>(
            "SELECT customer_id, channel_id, template_id, status, claim_id, error, created_at, \
             finished_at FROM acquisition_rewards WHERE customer_id = $1",
        )
        .bind(customer)
        .fetch_optional(pool)
        .await?)
    })
}

/// A channel's headline figures.
#[derive(Debug, Clone, Default, FromRow, Serialize)]
pub struct ChannelTotals {
    pub adds: i64,
    pub new_customers: i64,
    pub deleted: i64,
    pub welcomes_sent: i64,
    pub rewards_issued: i64,
}

pub async fn channel_totals(db: &Db, channel: i64) -> Result<ChannelTotals> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ChannelTotals>(
            "SELECT \
             (SELECT COUNT(*) FROM channel_adds WHERE channel_id = $1) AS adds, \
             (SELECT COUNT(*) FROM customer_acquisition WHERE channel_id = $1) AS new_customers, \
             (SELECT COUNT(*) FROM channel_adds WHERE channel_id = $1 AND deleted_at IS NOT NULL) \
               AS deleted, \
             (SELECT COUNT(*) FROM welcome_sends w JOIN channel_adds a ON a.id = w.add_id \
               WHERE a.channel_id = $1 AND w.status = 'sent') AS welcomes_sent, \
             (SELECT COUNT(*) FROM acquisition_rewards WHERE channel_id = $1 \
               AND status = 'issued') AS rewards_issued",
        )
        .bind(channel)
        .fetch_one(pool)
        .await?)
    })
}
