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
             updated_at = $10 WHERE id = $11 AND status = 'active' AND sold <= $7",
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

pub async fn list_group_buys(db: &Db) -> Result<Vec<GroupBuyRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GroupBuyRow>(concat!(
            group_buy_select!(),
            " WHERE status = 'active' ORDER BY starts_at DESC, id DESC"
        ))
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

/// Open a team: the leader takes one unit and pays the leader price.
pub async fn open_team_in(
    tx: &mut Tx,
    gb: i64,
    customer: i64,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(TeamJoined, bool)> {
    if let Some(r) = idem_lookup(tx, customer, idem).await? {
        return Ok((from_record(&r)?, true));
    }
    if !take_unit(tx, "group_buys", gb, now).await? {
        return Err(campaign_refusal(tx, "group_buys", "group-buy", gb, now).await?);
    }
    let (size, minutes, price, leader_off): (i64, i64, i64, i64) = in_tx!(tx, conn => {
        sqlx::query_as("SELECT team_size, time_limit_minutes, price_fen, leader_discount_fen FROM group_buys WHERE id = $1")
            .bind(gb)
            .fetch_one(&mut *conn)
            .await?
    });
    let deadline = now + minutes * 60_000;
    let team: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO group_buy_teams (group_buy_id, leader_id, size, deadline, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(gb)
        .bind(customer)
        .bind(size)
        .bind(deadline)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| match StoreError::classify(e, "customer") {
            StoreError::Dangling { .. } => {
                StoreError::Invalid(yutang_core::FieldError::new("customer_id", "unknown_customer", "no such customer"))
            }
            other => other,
        })?
    });
    let member: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO group_buy_members (team_id, customer_id, is_leader, price_fen, joined_at, updated_at) \
             VALUES ($1, $2, TRUE, $3, $4, $4) RETURNING id",
        )
        .bind(team)
        .bind(customer)
        .bind(price - leader_off)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
    });
    enqueue(
        tx,
        JOB_TEAM_DEADLINE,
        &team.to_string(),
        deadline,
        &format!("group_buy_team:{team}"),
        now,
    )
    .await?;
    let d = serde_json::json!({"group_buy_id": gb, "team_id": team, "leader": true, "price_fen": price - leader_off});
    append_in(
        tx,
        customer,
        "group_buy_joined",
        now,
        None,
        &d.to_string(),
        now,
    )
    .await?;
    let out = TeamJoined {
        team_id: team,
        member_id: member,
        state: "open".into(),
        members: 1,
        size,
    };
    idem_store(tx, customer, idem, &to_record(&out)?, now).await?;
    Ok((out, false))
}

/// Join an open team. Takes the team's place with a guarded UPDATE first (the deadline timer
/// guards on the same state), then a unit of stock. The last member to join confirms everyone.
pub async fn join_team_in(
    tx: &mut Tx,
    team: i64,
    customer: i64,
    inviter: Option<i64>,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(TeamJoined, bool)> {
    if let Some(r) = idem_lookup(tx, customer, idem).await? {
        return Ok((from_record(&r)?, true));
    }
    let already: Option<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT id FROM group_buy_members WHERE team_id = $1 AND customer_id = $2")
            .bind(team)
            .bind(customer)
            .fetch_optional(&mut *conn)
            .await?
    });
    if already.is_some() {
        return Err(refused("already_in_group", "you are already in this group"));
    }
    let row: Option<(i64, String, i64, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "UPDATE group_buy_teams SET members = members + 1, \
             state = CASE WHEN members + 1 >= size THEN 'filled' ELSE 'open' END, \
             closed_at = CASE WHEN members + 1 >= size THEN $2 ELSE NULL END, updated_at = $2 \
             WHERE id = $1 AND state = 'open' AND members < size AND deadline > $2 \
             RETURNING group_buy_id, state, members, size",
        )
        .bind(team)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some((gb, state, members, size)) = row else {
        let t: Option<(String, i64, i64, i64)> = in_tx!(tx, conn => {
            sqlx::query_as("SELECT state, members, size, deadline FROM group_buy_teams WHERE id = $1")
                .bind(team)
                .fetch_optional(&mut *conn)
                .await?
        });
        return Err(match t {
            None => StoreError::NotFound,
            Some((s, m, z, _)) if s == "filled" || m >= z => {
                refused("group_full", "the group is already full")
            }
            Some(_) => refused("group_expired", "the group has expired"),
        });
    };
    let taken = in_tx!(tx, conn => {
        sqlx::query("UPDATE group_buys SET sold = sold + 1 WHERE id = $1 AND status = 'active' AND sold < stock")
            .bind(gb)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    if taken == 0 {
        return Err(refused("out_of_stock", "sold out"));
    }
    let price: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT price_fen FROM group_buys WHERE id = $1")
            .bind(gb)
            .fetch_one(&mut *conn)
            .await?
    });
    let member: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO group_buy_members (team_id, customer_id, inviter_id, is_leader, price_fen, joined_at, updated_at) \
             VALUES ($1, $2, $3, FALSE, $4, $5, $5) RETURNING id",
        )
        .bind(team)
        .bind(customer)
        .bind(inviter)
        .bind(price)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| match StoreError::classify(e, "customer") {
            StoreError::Conflict { .. } => refused("already_in_group", "you are already in this group"),
            StoreError::Dangling { .. } => {
                StoreError::Invalid(yutang_core::FieldError::new("inviter", "unknown_customer", "no such customer"))
            }
            other => other,
        })?
    });
    let d = serde_json::json!({"group_buy_id": gb, "team_id": team, "leader": false, "inviter": inviter, "price_fen": price});
    append_in(
        tx,
        customer,
        "group_buy_joined",
        now,
        None,
        &d.to_string(),
        now,
    )
    .await?;
    if state == "filled" {
        let confirmed: Vec<i64> = in_tx!(tx, conn => {
            sqlx::query_scalar(
                "UPDATE group_buy_members SET state = 'confirmed', updated_at = $1 \
                 WHERE team_id = $2 AND state = 'paid' RETURNING customer_id",
            )
            .bind(now)
            .bind(team)
            .fetch_all(&mut *conn)
            .await?
        });
        let d = serde_json::json!({"group_buy_id": gb, "team_id": team}).to_string();
        for c in confirmed {
            append_in(tx, c, "group_buy_confirmed", now, None, &d, now).await?;
        }
    }
    let out = TeamJoined {
        team_id: team,
        member_id: member,
        state,
        members,
        size,
    };
    idem_store(tx, customer, idem, &to_record(&out)?, now).await?;
    Ok((out, false))
}

/// The deadline timer: an open team past its deadline is cancelled and each paid member
/// refunded. Guarded on `state = 'open'`, so a second run (or a run after a restart) refunds
/// nothing; `group_buy_refunds.member_id UNIQUE` is the backstop.
pub async fn expire_team_in(tx: &mut Tx, team: i64, now: i64) -> Result<i64> {
    let row: Option<(i64, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "UPDATE group_buy_teams SET state = 'expired', closed_at = $1, updated_at = $1 \
             WHERE id = $2 AND state = 'open' AND deadline <= $1 RETURNING group_buy_id, members",
        )
        .bind(now)
        .bind(team)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some((gb, members)) = row else {
        return Ok(0);
    };
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
    for (member, customer, amount) in &paid {
        in_tx!(tx, conn => {
            sqlx::query("INSERT INTO group_buy_refunds (member_id, amount_fen, refunded_at) VALUES ($1, $2, $3)")
                .bind(member)
                .bind(amount)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map_err(|e| StoreError::classify(e, "refund"))?;
        });
        let d = serde_json::json!({"group_buy_id": gb, "team_id": team, "amount_fen": amount});
        append_in(
            tx,
            *customer,
            "group_buy_refunded",
            now,
            None,
            &d.to_string(),
            now,
        )
        .await?;
    }
    in_tx!(tx, conn => {
        sqlx::query("UPDATE group_buys SET sold = sold - $1 WHERE id = $2 AND sold >= $1")
            .bind(members)
            .bind(gb)
            .execute(&mut *conn)
            .await?;
    });
    Ok(paid.len() as i64)
}

pub async fn open_team(
    db: &Db,
    gb: i64,
    customer: i64,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(TeamJoined, bool)> {
    in_own_tx!(db, open_team_in(gb, customer, idem, now))
}

pub async fn join_team(
    db: &Db,
    team: i64,
    customer: i64,
    inviter: Option<i64>,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(TeamJoined, bool)> {
    in_own_tx!(db, join_team_in(team, customer, inviter, idem, now))
}

pub async fn expire_team(db: &Db, team: i64, now: i64) -> Result<i64> {
    in_own_tx!(db, expire_team_in(team, now))
}
