//! Group-buys: staff create and update them and see their teams; customers open and join
//! teams, which fill or expire at their deadline.

use serde::Serialize;
use yutang_core::ids::CustomerId;
use yutang_core::promotions::group_buys::{GroupBuySpec, Team, TeamState};
use yutang_core::time::Millis;
use yutang_store::promotions::{
    self as store, CampaignCounts, GroupBuyRow, GroupBuyWrite, Idem, MemberRow, TeamJoined, TeamRow,
};

use super::{bad_record, manage, public_err, refusal, view};
use crate::error::{AppError, Result};
use crate::idempotency::{fingerprint, parse_idempotency_key};
use crate::{Actor, App};

/// A group-buy team as staff see it: `leader_id` is `None` when the leader is outside the
/// caller's data scope (the row's own `leader_id` must then not be shown).
#[derive(Debug, Clone, Serialize)]
pub struct StaffTeamView {
    pub team: TeamRow,
    pub leader_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupBuyView {
    pub row: GroupBuyRow,
    pub spec: GroupBuySpec,
    /// open, filled, expired teams.
    pub counts: CampaignCounts,
}

/// A team as the share page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TeamView {
    pub team: TeamRow,
    pub group_buy: GroupBuyRow,
    pub spec: GroupBuySpec,
    pub members: Vec<MemberRow>,
    /// "x more needed".
    pub missing: i64,
    pub remaining_stock: i64,
}

/// The group-buy use cases: creating and editing group-buys, opening and joining teams, a
/// team's status and its expiry.
#[derive(Clone, Copy)]
pub struct GroupBuys<'a>(&'a App);

impl std::ops::Deref for GroupBuys<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`GroupBuys`].
    pub fn group_buys(&self) -> GroupBuys<'_> {
        GroupBuys(self)
    }
}

impl GroupBuys<'_> {
    // --- group-buys ---

    fn group_buy_write<'a>(spec: &'a GroupBuySpec, json: &'a str) -> GroupBuyWrite<'a> {
        GroupBuyWrite {
            name: &spec.name,
            spec: json,
            price_fen: spec.price_fen,
            leader_discount_fen: spec.leader_discount_fen,
            team_size: spec.team_size,
            time_limit_minutes: spec.time_limit_minutes,
            stock: spec.stock,
            starts_at: spec.window.starts_at.0,
            ends_at: spec.window.ends_at.0,
        }
    }

    pub async fn create_group_buy(&self, actor: &Actor, spec: GroupBuySpec) -> Result<i64> {
        manage(actor)?;
        let spec = spec.parse()?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let (staff, now) = (actor.staff_id().map(|s| s.0), self.now());
        let op = ("group_buy.create", "group_buy", spec.name.as_str());
        self.promotions()
            .write_campaign(actor, &spec.audience, op, async |tx| {
                Ok(
                    store::create_group_buy_in(
                        tx,
                        &Self::group_buy_write(&spec, &json),
                        staff,
                        now,
                    )
                    .await?,
                )
            })
            .await
    }

    pub async fn update_group_buy(&self, actor: &Actor, id: i64, spec: GroupBuySpec) -> Result<()> {
        manage(actor)?;
        let spec = spec.parse()?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let now = self.now();
        let op = ("group_buy.update", "group_buy", spec.name.as_str());
        self.promotions()
            .write_campaign(actor, &spec.audience, op, async |tx| {
                store::update_group_buy_in(tx, id, &Self::group_buy_write(&spec, &json), now)
                    .await
                    .map_err(AppError::not_found("group-buy"))?;
                Ok(id)
            })
            .await?;
        Ok(())
    }

    async fn group_buy_view(&self, row: GroupBuyRow) -> Result<GroupBuyView> {
        let spec = serde_json::from_str(&row.spec).map_err(bad_record)?;
        let counts = store::team_counts(&self.db, row.id).await?;
        Ok(GroupBuyView { row, spec, counts })
    }

    pub async fn group_buys(&self) -> Result<Vec<GroupBuyView>> {
        let mut out = Vec::new();
        for r in store::list_group_buys(&self.db).await? {
            out.push(self.group_buy_view(r).await?);
        }
        Ok(out)
    }

    pub async fn group_buys_for_staff(&self, actor: &Actor) -> Result<Vec<GroupBuyView>> {
        view(actor)?;
        self.group_buys().await
    }

    pub async fn group_buy(&self, id: i64) -> Result<GroupBuyView> {
        let row = store::get_group_buy(&self.db, id)
            .await
            .map_err(AppError::not_found("group-buy"))?;
        if row.status != "active" {
            return Err(AppError::NotFound { what: "group-buy" });
        }
        self.group_buy_view(row).await
    }

    /// A group-buy's latest teams for staff. Every team is listed (progress is not personal),
    /// but the leader is named only when the caller may see that customer: a store manager
    /// or guide gets `leader_id: None` for another store's (or another guide's) customer.
    pub async fn group_buy_teams(&self, actor: &Actor, id: i64) -> Result<Vec<StaffTeamView>> {
        view(actor)?;
        let teams = store::teams_of(&self.db, id, 200).await?;
        let scope = crate::customers::scope_of(actor);
        let mut visible = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(teams.len());
        for t in teams {
            let leader = match scope {
                Some(s) if s.store.is_none() && s.guide.is_none() => Some(t.leader_id),
                Some(s) => {
                    let seen = match visible.get(&t.leader_id) {
                        Some(v) => *v,
                        None => {
                            let v =
                                yutang_store::customers::in_scope(&self.db, t.leader_id, s).await?;
                            visible.insert(t.leader_id, v);
                            v
                        }
                    };
                    seen.then_some(t.leader_id)
                }
                None => None,
            };
            out.push(StaffTeamView {
                leader_id: leader,
                team: t,
            });
        }
        Ok(out)
    }

    pub async fn open_team(
        &self,
        customer: CustomerId,
        group_buy: i64,
        idempotency_key: Option<&str>,
    ) -> Result<(TeamJoined, bool)> {
        let g = self.group_buy(group_buy).await?;
        let key = match idempotency_key {
            Some(k) => Some(format!(
                "team_open:{}:{}",
                customer.0,
                parse_idempotency_key(k)?
            )),
            None => None,
        };
        let fp = fingerprint(&["team_open", &group_buy.to_string()]);
        let idem = key.as_deref().map(|key| Idem {
            key,
            fingerprint: &fp,
        });
        if !self.promotions().replayable(idem).await? {
            self.promotions()
                .check_audience(&g.spec.audience, customer)
                .await?;
        }
        store::open_team(&self.db, group_buy, customer.0, idem, self.now())
            .await
            .map_err(public_err("group-buy"))
    }

    pub async fn join_team(
        &self,
        customer: CustomerId,
        team: i64,
        inviter: Option<CustomerId>,
        idempotency_key: Option<&str>,
    ) -> Result<(TeamJoined, bool)> {
        let t = store::get_team(&self.db, team)
            .await
            .map_err(AppError::not_found("group"))?;
        let key = match idempotency_key {
            Some(k) => Some(format!(
                "team_join:{}:{}",
                customer.0,
                parse_idempotency_key(k)?
            )),
            None => None,
        };
        let inv = inviter.map(|c| c.0);
        let fp = fingerprint(&[
            "team_join",
            &team.to_string(),
            &inv.map(|i| i.to_string()).unwrap_or_default(),
        ]);
        let idem = key.as_deref().map(|key| Idem {
            key,
            fingerprint: &fp,
        });
        if !self.promotions().replayable(idem).await? {
            // The core rule first, for a clear answer; the store re-checks under the lock.
            let state = TeamState::parse(&t.state).unwrap_or(TeamState::Expired);
            Team {
                state,
                members: t.members,
                size: t.size,
                deadline: Millis(t.deadline),
            }
            .check_join(Millis(self.now()))
            .map_err(refusal)?;
            let g = self.group_buy(t.group_buy_id).await?;
            self.promotions()
                .check_audience(&g.spec.audience, customer)
                .await?;
        }
        store::join_team(&self.db, team, customer.0, inv, idem, self.now())
            .await
            .map_err(public_err("group"))
    }

    /// A team for its share page: members, "x more needed", remaining stock.
    pub async fn team_status(&self, team: i64) -> Result<TeamView> {
        let t = store::get_team(&self.db, team)
            .await
            .map_err(AppError::not_found("group"))?;
        let g = store::get_group_buy(&self.db, t.group_buy_id).await?;
        let spec: GroupBuySpec = serde_json::from_str(&g.spec).map_err(bad_record)?;
        let members = store::team_members(&self.db, team).await?;
        let state = TeamState::parse(&t.state).unwrap_or(TeamState::Expired);
        let missing = Team {
            state,
            members: t.members,
            size: t.size,
            deadline: Millis(t.deadline),
        }
        .missing();
        Ok(TeamView {
            remaining_stock: (g.stock - g.sold).max(0),
            missing,
            members,
            spec,
            group_buy: g,
            team: t,
        })
    }

    /// Run the deadline of a team now (the job does this; tests call it to check that a
    /// second run refunds nothing). Returns members refunded.
    pub async fn expire_team(&self, team: i64) -> Result<i64> {
        Ok(store::expire_team(&self.db, team, self.now()).await?)
    }
}
