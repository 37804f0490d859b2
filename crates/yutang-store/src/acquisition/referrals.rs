//! Referral rows (migration 0022): programs, each inviter's link, and every attempt to bind a
//! friend with its outcome and both sides' rewards.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// A program row (the spec is JSON; the app parses it).
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ProgramRow {
    pub id: i64,
    pub name: String,
    pub live_code_id: i64,
    pub store_id: Option<i64>,
    pub spec: String,
    pub archived_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! program_select {
    () => {
        "SELECT id, name, live_code_id, store_id, spec, archived_at, created_by, created_at, \
         updated_at FROM referral_programs"
    };
}

/// The indexed columns of a program and its spec as JSON.
#[derive(Debug, Clone, Copy)]
pub struct ProgramWrite<'a> {
    pub name: &'a str,
    pub live_code_id: i64,
    pub store_id: Option<i64>,
    pub spec: &'a str,
}

pub async fn insert_program_in(
    tx: &mut Tx,
    p: &ProgramWrite<'_>,
    by: &str,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO referral_programs (name, live_code_id, store_id, spec, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(p.name)
        .bind(p.live_code_id)
        .bind(p.store_id)
        .bind(p.spec)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

pub async fn update_program_in(tx: &mut Tx, id: i64, p: &ProgramWrite<'_>, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE referral_programs SET name = $2, live_code_id = $3, store_id = $4, \
             spec = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(p.name)
        .bind(p.live_code_id)
        .bind(p.store_id)
        .bind(p.spec)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Archive a program; `false` when it was archived already.
pub async fn archive_program_in(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE referral_programs SET archived_at = $2, updated_at = $2 \
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

pub async fn get_program(db: &Db, id: i64) -> Result<ProgramRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, ProgramRow>(concat!(program_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// A program, locked (PostgreSQL) for the rest of the transaction.
pub async fn lock_program_in(tx: &mut Tx, id: i64) -> Result<Option<ProgramRow>> {
    let lock = tx.row_lock();
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, ProgramRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = $1{lock}",
            program_select!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// Programs a caller sees: brand-wide ones and, for a store-bound caller, their store's.
pub async fn list_programs(db: &Db, store: Option<i64>, archived: bool) -> Result<Vec<ProgramRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ProgramRow>(concat!(
            program_select!(),
            " WHERE ($1 IS NULL OR store_id = $1 OR store_id IS NULL) \
             AND ((archived_at IS NOT NULL) = $2) ORDER BY id DESC"
        ))
        .bind(store)
        .bind(archived)
        .fetch_all(pool)
        .await?)
    })
}

/// Programs running on a live code (its changes reach them).
pub async fn programs_of_code(db: &Db, code: i64) -> Result<Vec<ProgramRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ProgramRow>(concat!(
            program_select!(),
            " WHERE live_code_id = $1 AND archived_at IS NULL ORDER BY id"
        ))
        .bind(code)
        .fetch_all(pool)
        .await?)
    })
}

/// An inviter's link.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct LinkRow {
    pub id: i64,
    pub program_id: i64,
    pub code: String,
    pub customer_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub visits: i64,
    pub created_at: i64,
}

macro_rules! link_select {
    () => {
        "SELECT id, program_id, code, customer_id, staff_id, visits, created_at \
         FROM referral_links"
    };
}

/// Who a link belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inviter {
    Customer(i64),
    Staff(i64),
}

/// The inviter's link in a program, made with `code` when there is none yet (a concurrent
/// caller's link wins: both get the same one).
pub async fn link_for_in(
    tx: &mut Tx,
    program: i64,
    inviter: Inviter,
    code: &str,
    now: i64,
) -> Result<(LinkRow, bool)> {
    let (customer, staff) = match inviter {
        Inviter::Customer(c) => (Some(c), None),
        Inviter::Staff(s) => (None, Some(s)),
    };
    in_tx!(tx, conn => {
        let created = sqlx::query(
            "INSERT INTO referral_links (program_id, code, customer_id, staff_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(program)
        .bind(code)
        .bind(customer)
        .bind(staff)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        let row = sqlx::query_as::<_, LinkRow>(concat!(
            link_select!(),
            " WHERE program_id = $1 AND (customer_id = $2 OR staff_id = $3)"
        ))
        .bind(program)
        .bind(customer)
        .bind(staff)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((row, created))
    })
}

pub async fn link_by_code(db: &Db, code: &str) -> Result<Option<LinkRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, LinkRow>(concat!(link_select!(), " WHERE code = $1"))
            .bind(code)
            .fetch_optional(pool)
            .await?)
    })
}

/// A link by its code, locked (PostgreSQL): an inviter's rewards are counted and given one
/// at a time.
pub async fn lock_link_in(tx: &mut Tx, code_or_id: LinkKey<'_>) -> Result<Option<LinkRow>> {
    let lock = tx.row_lock();
    Ok(in_tx!(tx, conn => {
        match code_or_id {
            LinkKey::Code(code) => sqlx::query_as::<_, LinkRow>(sqlx::AssertSqlSafe(format!(
                "{} WHERE code = $1{lock}",
                link_select!()
            )))
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?,
            LinkKey::Id(id) => sqlx::query_as::<_, LinkRow>(sqlx::AssertSqlSafe(format!(
                "{} WHERE id = $1{lock}",
                link_select!()
            )))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?,
        }
    }))
}

/// How a link is looked up.
#[derive(Debug, Clone, Copy)]
pub enum LinkKey<'a> {
    Code(&'a str),
    Id(i64),
}

/// One more visit of the invite page (a guarded increment: concurrent visits all count).
pub async fn count_visit(db: &Db, link: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE referral_links SET visits = visits + 1 WHERE id = $1")
            .bind(link)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// An attempt to bind a friend, and what became of it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ReferralRow {
    pub id: i64,
    pub program_id: i64,
    pub link_id: i64,
    pub invitee_id: i64,
    pub via: String,
    pub status: String,
    pub reason: String,
    pub order_id: Option<i64>,
    pub add_id: Option<i64>,
    pub qualifies_at: Option<i64>,
    pub invitee_reward: String,
    pub invitee_claim_id: Option<i64>,
    pub inviter_reward: String,
    pub inviter_claim_id: Option<i64>,
    pub reward_error: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! referral_cols {
    () => {
        "r.id, r.program_id, r.link_id, r.invitee_id, r.via, r.status, r.reason, r.order_id, \
         r.add_id, r.qualifies_at, r.invitee_reward, r.invitee_claim_id, r.inviter_reward, \
         r.inviter_claim_id, r.reward_error, r.created_at, r.updated_at"
    };
}

/// A new attempt.
#[derive(Debug, Clone, Copy)]
pub struct NewReferral<'a> {
    pub dedup_key: &'a str,
    pub program_id: i64,
    pub link_id: i64,
    pub invitee_id: i64,
    pub via: &'a str,
    /// `bound` or `refused`.
    pub status: &'a str,
    pub reason: &'a str,
    pub phone_hash: Option<&'a str>,
    pub unionid_hash: Option<&'a str>,
    pub add_id: Option<i64>,
}

/// Record an attempt. `None` when a row with its key exists (a replay) or, for a binding, when
/// the friend is bound in the program already (a concurrent binding won).
pub async fn insert_referral_in(tx: &mut Tx, r: &NewReferral<'_>, now: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO referrals (dedup_key, program_id, link_id, invitee_id, via, status, \
             reason, phone_hash, unionid_hash, add_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(r.dedup_key)
        .bind(r.program_id)
        .bind(r.link_id)
        .bind(r.invitee_id)
        .bind(r.via)
        .bind(r.status)
        .bind(r.reason)
        .bind(r.phone_hash)
        .bind(r.unionid_hash)
        .bind(r.add_id)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

pub async fn referral_by_key_in(tx: &mut Tx, key: &str) -> Result<Option<ReferralRow>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, ReferralRow>(concat!(
            "SELECT ", referral_cols!(), " FROM referrals r WHERE r.dedup_key = $1"
        ))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// The friend's binding in a program (not a refused attempt), if any.
pub async fn binding_in(tx: &mut Tx, program: i64, invitee: i64) -> Result<Option<ReferralRow>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, ReferralRow>(concat!(
            "SELECT ", referral_cols!(),
            " FROM referrals r WHERE r.program_id = $1 AND r.invitee_id = $2 \
             AND r.status <> 'refused'"
        ))
        .bind(program)
        .bind(invitee)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// The friend's bindings still waiting for a qualifying order or add, with their programs'
/// specs.
pub async fn waiting_of_in(tx: &mut Tx, invitee: i64) -> Result<Vec<(ReferralRow, String)>> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        r: ReferralRow,
        spec: String,
    }
    let rows = in_tx!(tx, conn => {
        sqlx::query_as::<_, Row>(concat!(
            "SELECT ", referral_cols!(), ", p.spec FROM referrals r \
             JOIN referral_programs p ON p.id = r.program_id \
             WHERE r.invitee_id = $1 AND r.status = 'bound' ORDER BY r.id"
        ))
        .bind(invitee)
        .fetch_all(&mut *conn)
        .await?
    });
    Ok(rows.into_iter().map(|x| (x.r, x.spec)).collect())
}

/// A bound friend qualified with an order or an add: the rewards wait for the hold. Guarded on
/// `bound`, so only the first qualifying event counts; `false` when another came first.
pub async fn set_qualifying_in(
    tx: &mut Tx,
    id: i64,
    order: Option<i64>,
    add: Option<i64>,
    qualifies_at: i64,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE referrals SET status = 'qualifying', order_id = COALESCE($2, order_id), \
             add_id = COALESCE($3, add_id), qualifies_at = $4, updated_at = $5 \
             WHERE id = $1 AND status = 'bound'",
        )
        .bind(id)
        .bind(order)
        .bind(add)
        .bind(qualifies_at)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// A referral, locked (PostgreSQL) for the rest of the transaction.
pub async fn lock_referral_in(tx: &mut Tx, id: i64) -> Result<Option<ReferralRow>> {
    let lock = tx.row_lock();
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, ReferralRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM referrals r WHERE r.id = $1{lock}",
            referral_cols!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// Qualifying referrals whose order is `order` (a refund disqualifies them).
pub async fn qualifying_on_order_in(tx: &mut Tx, order: i64) -> Result<Vec<i64>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT id FROM referrals WHERE order_id = $1 AND status = 'qualifying' ORDER BY id",
        )
        .bind(order)
        .fetch_all(&mut *conn)
        .await?
    }))
}

/// The referral's outcome: disqualified or refused with a reason, or rewarded with each
/// side's reward state and the day the inviter's counted on.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'a> {
    pub status: &'a str,
    pub reason: &'a str,
    pub invitee_reward: &'a str,
    pub inviter_reward: &'a str,
    pub rewarded_day: Option<&'a str>,
}

pub async fn finish_referral_in(tx: &mut Tx, id: i64, o: &Outcome<'_>, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE referrals SET status = $2, reason = $3, invitee_reward = $4, \
             inviter_reward = $5, rewarded_day = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(id)
        .bind(o.status)
        .bind(o.reason)
        .bind(o.invitee_reward)
        .bind(o.inviter_reward)
        .bind(o.rewarded_day)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Which side a reward is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Invitee,
    Inviter,
}

/// A pending reward was issued (`claim`) or refused (`error`). Guarded on `pending`, so a
/// second run changes nothing.
pub async fn finish_reward_in(
    tx: &mut Tx,
    id: i64,
    side: Side,
    status: &str,
    claim: Option<i64>,
    error: &str,
    now: i64,
) -> Result<()> {
    let sql = match side {
        Side::Invitee => {
            "UPDATE referrals SET invitee_reward = $2, invitee_claim_id = $3, \
             reward_error = CASE WHEN $4 = '' THEN reward_error ELSE $4 END, updated_at = $5 \
             WHERE id = $1 AND invitee_reward = 'pending'"
        }
        Side::Inviter => {
            "UPDATE referrals SET inviter_reward = $2, inviter_claim_id = $3, \
             reward_error = CASE WHEN $4 = '' THEN reward_error ELSE $4 END, updated_at = $5 \
             WHERE id = $1 AND inviter_reward = 'pending'"
        }
    };
    in_tx!(tx, conn => {
        sqlx::query(sql)
            .bind(id)
            .bind(status)
            .bind(claim)
            .bind(error)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Rewards the inviter of `link` was given on `day` (pending or issued).
pub async fn inviter_rewards_on_in(tx: &mut Tx, link: i64, day: &str) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM referrals WHERE link_id = $1 AND rewarded_day = $2 \
             AND inviter_reward IN ('pending', 'issued')",
        )
        .bind(link)
        .bind(day)
        .fetch_one(&mut *conn)
        .await?
    }))
}

/// Whether the customer was in the pool before `at`: a WeCom contact of a guide, an add
/// through a channel, or an order, any of them earlier.
pub async fn in_pool_before_in(tx: &mut Tx, customer: i64, at: i64) -> Result<bool> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM follows WHERE customer_id = $1 AND since < $2) \
             OR EXISTS (SELECT 1 FROM channel_adds WHERE customer_id = $1 AND added_at < $2) \
             OR EXISTS (SELECT 1 FROM orders WHERE customer_id = $1 AND paid_at < $2)",
        )
        .bind(customer)
        .bind(at)
        .fetch_one(&mut *conn)
        .await?
    }))
}

/// The customer's phone numbers and unionids (`kind`, `value`).
pub async fn person_identities_in(tx: &mut Tx, customer: i64) -> Result<Vec<(String, String)>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT kind, value FROM customer_identities WHERE customer_id = $1 \
             AND kind IN ('phone', 'unionid') ORDER BY kind, value",
        )
        .bind(customer)
        .fetch_all(&mut *conn)
        .await?
    }))
}

/// Whether another friend (not `invitee`) has one of these identity hashes (phone or
/// unionid): any binding when `rewarded_only` is false, else only friends already rewarded —
/// and then also friends merged into `invitee` (one person, two accounts).
pub async fn identity_taken_in(
    tx: &mut Tx,
    invitee: i64,
    hashes: &[String],
    rewarded_only: bool,
) -> Result<bool> {
    let statuses: &[&str] = if rewarded_only {
        &["rewarded"]
    } else {
        &["bound", "qualifying", "rewarded", "disqualified"]
    };
    for st in statuses {
        for h in hashes {
            let hit: bool = in_tx!(tx, conn => {
                sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM referrals WHERE invitee_id <> $1 \
                     AND status = $2 AND (phone_hash = $3 OR unionid_hash = $3))",
                )
                .bind(invitee)
                .bind(*st)
                .bind(h)
                .fetch_one(&mut *conn)
                .await?
            });
            if hit {
                return Ok(true);
            }
        }
    }
    if !rewarded_only {
        return Ok(false);
    }
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM referrals r JOIN customers c ON c.id = r.invitee_id \
             WHERE c.merged_into = $1 AND r.status = 'rewarded')",
        )
        .bind(invitee)
        .fetch_one(&mut *conn)
        .await?
    }))
}

/// Keep the friend's identity hashes current (an order may bring a phone).
pub async fn set_hashes_in(
    tx: &mut Tx,
    id: i64,
    phone_hash: Option<&str>,
    unionid_hash: Option<&str>,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE referrals SET phone_hash = COALESCE($2, phone_hash), \
             unionid_hash = COALESCE($3, unionid_hash) WHERE id = $1",
        )
        .bind(id)
        .bind(phone_hash)
        .bind(unionid_hash)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Whether the add is still open (the pair not deleted since).
pub async fn add_open_in(tx: &mut Tx, add: i64) -> Result<bool> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar::<_, bool>(
            "SELECT deleted_at IS NULL FROM channel_adds WHERE id = $1",
        )
        .bind(add)
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or(false)
    }))
}

/// The order's refunded amount (0: none).
pub async fn order_refunded_in(tx: &mut Tx, order: i64) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar::<_, i64>("SELECT refunded_amount FROM orders WHERE id = $1")
            .bind(order)
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or(0)
    }))
}

/// A referral as the program's page lists it: the friend and the inviter named.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ReferralListRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub r: ReferralRow,
    pub invitee_name: String,
    pub link_code: String,
    pub inviter_customer_id: Option<i64>,
    pub inviter_staff_id: Option<i64>,
    pub inviter_name: String,
}

/// Data scope on the friend (store, guide), as the customer lists apply it.
pub async fn list_referrals(
    db: &Db,
    program: i64,
    status: Option<&str>,
    scope: (Option<i64>, Option<i64>),
    limit: i64,
    offset: i64,
) -> Result<(Vec<ReferralListRow>, i64)> {
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, ReferralListRow>(concat!(
            "SELECT ", referral_cols!(), ", c.name AS invitee_name, l.code AS link_code, \
             l.customer_id AS inviter_customer_id, l.staff_id AS inviter_staff_id, \
             COALESCE(ic.name, st.display_name, '') AS inviter_name \
             FROM referrals r JOIN customers c ON c.id = r.invitee_id \
             JOIN referral_links l ON l.id = r.link_id \
             LEFT JOIN customers ic ON ic.id = l.customer_id \
             LEFT JOIN staff st ON st.id = l.staff_id \
             WHERE ", scope_condition!(), " AND r.program_id = $3 AND ($4 IS NULL OR r.status = $4) \
             ORDER BY r.id DESC LIMIT $5 OFFSET $6"
        ))
        .bind(scope.0)
        .bind(scope.1)
        .bind(program)
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM referrals r JOIN customers c ON c.id = r.invitee_id WHERE ",
            scope_condition!(),
            " AND r.program_id = $3 AND ($4 IS NULL OR r.status = $4)"
        ))
        .bind(scope.0)
        .bind(scope.1)
        .bind(program)
        .bind(status)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    })
}

/// A program's numbers (over the friends in the caller's scope, visits over every link).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ProgramTotals {
    pub links: i64,
    pub visits: i64,
    /// Friends bound (whatever became of them since).
    pub bound: i64,
    pub qualifying: i64,
    pub rewarded: i64,
    pub disqualified: i64,
    /// Refused attempts, by rule.
    pub refused: Vec<(String, i64)>,
    pub invitee_rewards_issued: i64,
    pub inviter_rewards_issued: i64,
    pub inviter_rewards_withheld: i64,
    /// Orders of bound friends paid after their binding, and what they paid net of refunds.
    pub orders: i64,
    pub gmv_fen: i64,
    /// The program's reward coupons (both sides) used on orders, and their discounts: what the
    /// rewards cost (integer fen; a refund that returns a coupon takes it out again).
    pub rewards_used: i64,
    pub reward_cost_fen: i64,
}

pub async fn program_totals(
    db: &Db,
    program: i64,
    scope: (Option<i64>, Option<i64>),
) -> Result<ProgramTotals> {
    db_run!(db, pool => {
        let (links, visits): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), CAST(SUM(visits) AS BIGINT) FROM referral_links WHERE program_id = $1",
        )
        .bind(program)
        .fetch_one(pool)
        .await?;
        let by_status: Vec<(String, String, String, String, i64)> = sqlx::query_as(concat!(
            "SELECT r.status, r.reason, r.invitee_reward, r.inviter_reward, COUNT(*) \
             FROM referrals r JOIN customers c ON c.id = r.invitee_id WHERE ",
            scope_condition!(),
            " AND r.program_id = $3 GROUP BY r.status, r.reason, r.invitee_reward, \
             r.inviter_reward"
        ))
        .bind(scope.0)
        .bind(scope.1)
        .bind(program)
        .fetch_all(pool)
        .await?;
        let (orders, gmv): (i64, Option<i64>) = sqlx::query_as(concat!(
            "SELECT COUNT(o.id), CAST(SUM(o.amount - o.refunded_amount) AS BIGINT) \
             FROM referrals r JOIN customers c ON c.id = r.invitee_id \
             JOIN orders o ON o.customer_id = r.invitee_id AND o.paid_at >= r.created_at \
             WHERE ",
            scope_condition!(),
            " AND r.program_id = $3 AND r.status <> 'refused'"
        ))
        .bind(scope.0)
        .bind(scope.1)
        .bind(program)
        .fetch_one(pool)
        .await?;
        let (rewards_used, cost): (i64, Option<i64>) = sqlx::query_as(concat!(
            "SELECT COUNT(u.id), CAST(SUM(u.discount_fen) AS BIGINT) \
             FROM referrals r JOIN customers c ON c.id = r.invitee_id \
             JOIN coupons u ON u.claim_id = r.invitee_claim_id OR u.claim_id = r.inviter_claim_id \
             WHERE ",
            scope_condition!(),
            " AND r.program_id = $3 AND u.state = 'used'"
        ))
        .bind(scope.0)
        .bind(scope.1)
        .bind(program)
        .fetch_one(pool)
        .await?;
        let mut t = ProgramTotals {
            rewards_used,
            reward_cost_fen: cost.unwrap_or(0),
            links,
            visits: visits.unwrap_or(0),
            orders,
            gmv_fen: gmv.unwrap_or(0),
            ..ProgramTotals::default()
        };
        for (status, reason, invitee, inviter, n) in by_status {
            match status.as_str() {
                "refused" => match t.refused.iter_mut().find(|(r, _)| *r == reason) {
                    Some(e) => e.1 += n,
                    None => t.refused.push((reason, n)),
                },
                s => {
                    t.bound += n;
                    match s {
                        "qualifying" => t.qualifying += n,
                        "rewarded" => t.rewarded += n,
                        "disqualified" => t.disqualified += n,
                        _ => {}
                    }
                }
            }
            if invitee == "issued" {
                t.invitee_rewards_issued += n;
            }
            match inviter.as_str() {
                "issued" => t.inviter_rewards_issued += n,
                "withheld" => t.inviter_rewards_withheld += n,
                _ => {}
            }
        }
        t.refused.sort();
        Ok(t)
    })
}

/// One inviter's numbers in a program.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct InviterRow {
    pub link_id: i64,
    pub code: String,
    pub customer_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub name: String,
    pub visits: i64,
    pub bound: i64,
    pub rewarded: i64,
    pub refused: i64,
}

/// The program's inviters, most friends bound first (the leaderboard), within the caller's
/// data scope (store, guide): staff of that store (that guide), and customers followed there
/// (by that guide), as the customer lists scope them.
pub async fn inviters(
    db: &Db,
    program: i64,
    scope: (Option<i64>, Option<i64>),
    limit: i64,
) -> Result<Vec<InviterRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, InviterRow>(
            "SELECT l.id AS link_id, l.code, l.customer_id, l.staff_id, \
             COALESCE(ic.name, st.display_name, '') AS name, l.visits, \
             CAST(COALESCE(SUM(CASE WHEN r.status <> 'refused' THEN 1 ELSE 0 END), 0) AS BIGINT) AS bound, \
             CAST(COALESCE(SUM(CASE WHEN r.status = 'rewarded' THEN 1 ELSE 0 END), 0) AS BIGINT) AS rewarded, \
             CAST(COALESCE(SUM(CASE WHEN r.status = 'refused' THEN 1 ELSE 0 END), 0) AS BIGINT) AS refused \
             FROM referral_links l LEFT JOIN referrals r ON r.link_id = l.id \
             LEFT JOIN customers ic ON ic.id = l.customer_id \
             LEFT JOIN staff st ON st.id = l.staff_id \
             WHERE l.program_id = $1 AND (($3 IS NULL AND $4 IS NULL) \
               OR (l.staff_id IS NOT NULL AND EXISTS (SELECT 1 FROM staff s2 \
                 WHERE s2.id = l.staff_id AND ($3 IS NULL OR s2.store_id = $3) \
                 AND ($4 IS NULL OR s2.id = $4))) \
               OR (l.customer_id IS NOT NULL \
                 AND ($3 IS NULL OR EXISTS (SELECT 1 FROM follows f JOIN staff s3 ON s3.id = f.staff_id \
                   WHERE f.customer_id = l.customer_id AND f.state = 'active' AND s3.store_id = $3)) \
                 AND ($4 IS NULL OR EXISTS (SELECT 1 FROM follows f \
                   WHERE f.customer_id = l.customer_id AND f.state = 'active' AND f.staff_id = $4)))) \
             GROUP BY l.id, l.code, l.customer_id, l.staff_id, ic.name, st.display_name, l.visits \
             ORDER BY bound DESC, rewarded DESC, l.id LIMIT $2",
        )
        .bind(program)
        .bind(limit)
        .bind(scope.0)
        .bind(scope.1)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn get_referral(db: &Db, id: i64) -> Result<Option<ReferralRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ReferralRow>(concat!(
            "SELECT ", referral_cols!(), " FROM referrals r WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?)
    })
}

pub async fn link_by_id(db: &Db, id: i64) -> Result<Option<LinkRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, LinkRow>(concat!(link_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?)
    })
}

/// A customer's name (empty when unknown).
pub async fn customer_name(db: &Db, id: i64) -> Result<String> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar::<_, String>("SELECT name FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
            .unwrap_or_default())
    })
}
