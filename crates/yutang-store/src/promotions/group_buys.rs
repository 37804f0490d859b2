//! Group-buys: the campaign, teams opened by a leader and joined by members, the deadline
//! that cancels an unfilled team and refunds its members once.

use super::*;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GroupBuyRow {
    pub id: i64,
    pub name: String,
    pub spec: String,
    pub price_fen: i64,
    pub leader_discount_fen: i64,
    pub team_size: i64,
    pub time_limit_minutes: i64,
    pub stock: i64,
    pub sold: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TeamRow {
    pub id: i64,
    pub group_buy_id: i64,
    pub leader_id: i64,
    pub state: String,
    pub members: i64,
    pub size: i64,
    pub deadline: i64,
    pub closed_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MemberRow {
    pub id: i64,
    pub team_id: i64,
    pub customer_id: i64,
    pub inviter_id: Option<i64>,
    pub is_leader: bool,
    pub price_fen: i64,
    pub state: String,
    pub joined_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamJoined {
    pub team_id: i64,
    pub member_id: i64,
    pub state: String,
    pub members: i64,
    pub size: i64,
}

// --- group-buys ---

#[derive(Debug, Clone)]
pub struct GroupBuyWrite<'a> {
    pub name: &'a str,
    pub spec: &'a str,
    pub price_fen: i64,
    pub leader_discount_fen: i64,
    pub team_size: i64,
    pub time_limit_minutes: i64,
    pub stock: i64,
    pub starts_at: i64,
    pub ends_at: i64,
}

pub async fn create_group_buy_in(
    tx: &mut Tx,
    g: &GroupBuyWrite<'_>,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO group_buys (name, spec, price_fen, leader_discount_fen, team_size, \
             time_limit_minutes, stock, starts_at, ends_at, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(g.name)
        .bind(g.spec)
        .bind(g.price_fen)
        .bind(g.leader_discount_fen)
        .bind(g.team_size)
        .bind(g.time_limit_minutes)
        .bind(g.stock)
        .bind(g.starts_at)
        .bind(g.ends_at)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

pub async fn update_group_buy_in(
    tx: &mut Tx,
    id: i64,
    g: &GroupBuyWrite<'_>,
    now: i64,
) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE group_buys SET name = $1, spec = $2, price_fen = $3, leader_discount_fen = $4, \
             team_size = $5, time_limit_minutes = $6, stock = $7, starts_at = $8, ends_at = $9, \
             updated_at = $10 WHERE id = $11 AND status IN ('active', 'draft') AND sold <= $7",
        )
        .bind(g.name)
        .bind(g.spec)
        .bind(g.price_fen)
        .bind(g.leader_discount_fen)
        .bind(g.team_size)
        .bind(g.time_limit_minutes)
        .bind(g.stock)
        .bind(g.starts_at)
        .bind(g.ends_at)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 1 {
        return Ok(());
    }
    Err(stock_refusal(tx, "group_buys", id, "sold").await?)
}

macro_rules! group_buy_select {
    () => {
        "SELECT id, name, spec, price_fen, leader_discount_fen, team_size, time_limit_minutes, \
         stock, sold, starts_at, ends_at, status, created_at, updated_at FROM group_buys"
    };
}

pub async fn get_group_buy(db: &Db, id: i64) -> Result<GroupBuyRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, GroupBuyRow>(concat!(group_buy_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// Active campaigns (and, with `all`, archived ones too), latest first.
pub async fn list_group_buys(db: &Db, all: bool) -> Result<Vec<GroupBuyRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GroupBuyRow>(concat!(
            group_buy_select!(),
            " WHERE ($1 OR status = 'active') ORDER BY starts_at DESC, id DESC"
        ))
        .bind(all)
        .fetch_all(pool)
        .await?)
    })
}

/// Per group-buy: teams open, filled, expired.
pub async fn team_counts(db: &Db, group_buy: i64) -> Result<CampaignCounts> {
    db_run!(db, pool => {
        let (a, b, c): (i64, i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'filled' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'expired' THEN 1 ELSE 0 END), 0) \
             FROM group_buy_teams WHERE group_buy_id = $1",
        )
        .bind(group_buy)
        .fetch_one(pool)
        .await?;
        Ok(CampaignCounts { a, b, c })
    })
}

macro_rules! team_select {
    () => {
        "SELECT id, group_buy_id, leader_id, state, members, size, deadline, closed_at, created_at \
         FROM group_buy_teams"
    };
}

pub async fn get_team(db: &Db, id: i64) -> Result<TeamRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TeamRow>(concat!(team_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn teams_of(db: &Db, group_buy: i64, limit: i64) -> Result<Vec<TeamRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TeamRow>(concat!(
            team_select!(),
            " WHERE group_buy_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(group_buy)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn team_members(db: &Db, team: i64) -> Result<Vec<MemberRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, MemberRow>(
            "SELECT id, team_id, customer_id, inviter_id, is_leader, price_fen, state, joined_at \
             FROM group_buy_members WHERE team_id = $1 ORDER BY id",
        )
        .bind(team)
        .fetch_all(pool)
        .await?)
    })
}

/// Refund rows written for a team (tests and the console check "exactly once" with this).
pub async fn team_refunds(db: &Db, team: i64) -> Result<i64> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM group_buy_refunds r JOIN group_buy_members m ON m.id = r.member_id \
             WHERE m.team_id = $1",
        )
        .bind(team)
        .fetch_one(pool)
        .await?)
    })
}

/// A group-buy read under its row lock, for an opening's or a join's decision.
pub async fn lock_group_buy_in(tx: &mut Tx, id: i64) -> Result<Option<GroupBuyRow>> {
    let lock = tx.row_lock();
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, GroupBuyRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = $1{lock}",
            group_buy_select!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// A team read under its row lock, for a join's or the deadline's decision. A join locks the
/// team before its group-buy, as the deadline does, so the two never wait on each other.
pub async fn lock_team_in(tx: &mut Tx, id: i64) -> Result<Option<TeamRow>> {
    let lock = tx.row_lock();
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, TeamRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = $1{lock}",
            team_select!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// Whether a customer holds a place in a team.
pub async fn is_member_in(tx: &mut Tx, team: i64, customer: i64) -> Result<bool> {
    let n: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT COUNT(*) FROM group_buy_members WHERE team_id = $1 AND customer_id = $2")
            .bind(team)
            .bind(customer)
            .fetch_one(&mut *conn)
            .await?
    });
    Ok(n > 0)
}

/// A team to open: its leader, size and deadline.
#[derive(Debug, Clone, Copy)]
pub struct NewTeam {
    pub group_buy: i64,
    pub leader: i64,
    pub size: i64,
    pub deadline: i64,
}

pub async fn insert_team_in(tx: &mut Tx, t: &NewTeam, now: i64) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO group_buy_teams (group_buy_id, leader_id, size, deadline, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(t.group_buy)
        .bind(t.leader)
        .bind(t.size)
        .bind(t.deadline)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| insert_refusal(e, "customer_id", StoreError::Conflict { what: "team" }))?
    }))
}

/// A place in a team, paid at `price_fen`.
#[derive(Debug, Clone, Copy)]
pub struct NewMember {
    pub team: i64,
    pub customer: i64,
    pub inviter: Option<i64>,
    pub is_leader: bool,
    pub price_fen: i64,
}

/// Write a member. `UNIQUE (team_id, customer_id)` is the backstop of "once per team": a
/// duplicate is `already_in_group`; an unknown inviter is refused on `inviter`.
pub async fn insert_member_in(tx: &mut Tx, m: &NewMember, now: i64) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO group_buy_members (team_id, customer_id, inviter_id, is_leader, price_fen, joined_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(m.team)
        .bind(m.customer)
        .bind(m.inviter)
        .bind(m.is_leader)
        .bind(m.price_fen)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| insert_refusal(e, "inviter", refused("already_in_group", "you are already in this group")))?
    }))
}

/// Move a team from `from` (state and member count, as read under its lock) to `to`; `false`
/// when it had moved on (the guard behind the caller's decision).
pub async fn set_team_in(
    tx: &mut Tx,
    team: i64,
    from: (&str, i64),
    to: (&str, i64),
    closed_at: Option<i64>,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE group_buy_teams SET state = $1, members = $2, closed_at = $3, updated_at = $4 \
             WHERE id = $5 AND state = $6 AND members = $7",
        )
        .bind(to.0)
        .bind(to.1)
        .bind(closed_at)
        .bind(now)
        .bind(team)
        .bind(from.0)
        .bind(from.1)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// A filled team confirms every paid member; returns their customers.
pub async fn confirm_members_in(tx: &mut Tx, team: i64, now: i64) -> Result<Vec<i64>> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "UPDATE group_buy_members SET state = 'confirmed', updated_at = $1 \
             WHERE team_id = $2 AND state = 'paid' RETURNING customer_id",
        )
        .bind(now)
        .bind(team)
        .fetch_all(&mut *conn)
        .await?
    }))
}

/// A member refunded by an expired team.
#[derive(Debug, Clone, Copy)]
pub struct Refunded {
    pub member: i64,
    pub customer: i64,
    pub amount_fen: i64,
}

/// Refund every paid member of an expired team. `group_buy_refunds.member_id UNIQUE` is the
/// backstop: a member is refunded once.
pub async fn refund_members_in(tx: &mut Tx, team: i64, now: i64) -> Result<Vec<Refunded>> {
    let paid: Vec<(i64, i64, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "UPDATE group_buy_members SET state = 'refunded', updated_at = $1 \
             WHERE team_id = $2 AND state = 'paid' RETURNING id, customer_id, price_fen",
        )
        .bind(now)
        .bind(team)
        .fetch_all(&mut *conn)
        .await?
    });
    let mut out = Vec::with_capacity(paid.len());
    for (member, customer, amount_fen) in paid {
        in_tx!(tx, conn => {
            sqlx::query("INSERT INTO group_buy_refunds (member_id, amount_fen, refunded_at) VALUES ($1, $2, $3)")
                .bind(member)
                .bind(amount_fen)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map_err(|e| StoreError::classify(e, "refund"))?;
        });
        out.push(Refunded {
            member,
            customer,
            amount_fen,
        });
    }
    Ok(out)
}
