//! Group-buys: staff create and update them and see their teams; customers open and join
//! teams, which fill or expire at their deadline.

use serde::Serialize;
use yutang_core::ids::CustomerId;
use yutang_core::promotions::group_buys::{GroupBuySpec, Team, TeamState};
use yutang_core::promotions::{Campaign, PromoRefusal};
use yutang_core::time::Millis;
use yutang_store::promotions::{
    self as store, CampaignCounts, CampaignTable, GroupBuyRow, GroupBuyWrite, MemberRow,
    Publication, Removal, TeamJoined, TeamRow,
};

use super::{Publish, bad_record, campaign, created_in, event_in, manage, refusal, view};
use crate::error::{AppError, Result};
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

    /// Create one, open to customers from its window on.
    pub async fn create_group_buy(&self, actor: &Actor, spec: GroupBuySpec) -> Result<i64> {
        self.create_group_buy_as(actor, spec, Publish::Now).await
    }

    /// Create one, as a draft (closed and invisible to customers until published) or open.
    pub async fn create_group_buy_as(
        &self,
        actor: &Actor,
        spec: GroupBuySpec,
        publish: Publish,
    ) -> Result<i64> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.media().check_image_id(spec.image_id).await?;
        let json = serde_json::to_string(&spec).map_err(bad_record)?;
        let (staff, now) = (actor.staff_id().map(|s| s.0), self.now());
        let op = ("group_buy.create", "group_buy", spec.name.as_str());
        self.promotions()
            .write_campaign(actor, &spec.audience, op, async |tx| {
                let id = store::create_group_buy_in(
                    tx,
                    &Self::group_buy_write(&spec, &json),
                    staff,
                    now,
                )
                .await?;
                created_in(tx, CampaignTable::GroupBuys, id, publish).await
            })
            .await
    }

    pub async fn update_group_buy(&self, actor: &Actor, id: i64, spec: GroupBuySpec) -> Result<()> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.media().check_image_id(spec.image_id).await?;
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

    async fn list(&self, all: bool) -> Result<Vec<GroupBuyView>> {
        let mut out = Vec::new();
        for r in store::list_group_buys(&self.db, all).await? {
            out.push(self.group_buy_view(r).await?);
        }
        Ok(out)
    }

    /// The active ones, for customers.
    pub async fn group_buys(&self) -> Result<Vec<GroupBuyView>> {
        self.list(false).await
    }

    /// Every one, active and archived (`row.status`), for staff.
    pub async fn group_buys_for_staff(&self, actor: &Actor) -> Result<Vec<GroupBuyView>> {
        view(actor)?;
        self.list(true).await
    }

    /// One, active or archived, for staff.
    pub async fn group_buy_for_staff(&self, actor: &Actor, id: i64) -> Result<GroupBuyView> {
        view(actor)?;
        let row = store::get_group_buy(&self.db, id)
            .await
            .map_err(AppError::not_found("group-buy"))?;
        self.group_buy_view(row).await
    }

    /// Publish a draft: it opens to customers from its window on (audited); publishing it
    /// again changes nothing; an archived one cannot be opened (`promotion_inactive`).
    pub async fn publish_group_buy(&self, actor: &Actor, id: i64) -> Result<Publication> {
        self.promotions()
            .publish_campaign(
                actor,
                CampaignTable::GroupBuys,
                id,
                ("group_buy", "group-buy"),
            )
            .await
    }

    /// Remove one: archived when it has teams (statistics kept, closed to customers), deleted
    /// when it has none.
    pub async fn delete_group_buy(&self, actor: &Actor, id: i64) -> Result<Removal> {
        self.promotions()
            .remove_campaign(
                actor,
                CampaignTable::GroupBuys,
                id,
                ("group_buy", "group-buy"),
            )
            .await
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

    /// Open a team: the leader takes one unit and pays the leader price. As with a flash-sale
    /// claim, a replay answers first, a closed or sold-out group-buy and the audience are
    /// checked outside the transaction, and core decides again on the row read under its lock.
    pub async fn open_team(
        &self,
        customer: CustomerId,
        group_buy: i64,
        idempotency_key: Option<&str>,
    ) -> Result<(TeamJoined, bool)> {
        let promotions = self.promotions();
        let (write, replayed) = promotions
            .public_write(
                "team_open",
                customer,
                idempotency_key,
                &[&group_buy.to_string()],
            )
            .await?;
        if let Some(r) = replayed {
            return Ok((r, true));
        }
        let idem = write.idem();
        let now = self.now();
        let row = store::get_group_buy(&self.db, group_buy)
            .await
            .map_err(AppError::not_found("group-buy"))?;
        if row.status != "active" {
            return Err(AppError::NotFound { what: "group-buy" });
        }
        group_buy_campaign(&row, true)
            .check_take(Millis(now))
            .map_err(refusal)?;
        let spec: GroupBuySpec = serde_json::from_str(&row.spec).map_err(bad_record)?;
        promotions.check_audience(&spec.audience, customer).await?;
        promotions
            .write_once(customer, idem, async |tx| {
                let g = store::lock_group_buy_in(tx, group_buy)
                    .await?
                    .ok_or(AppError::NotFound { what: "group-buy" })?;
                group_buy_campaign(&g, true).check_take(Millis(now)).map_err(refusal)?;
                let spec: GroupBuySpec = serde_json::from_str(&g.spec).map_err(bad_record)?;
                if !store::take_unit_in(tx, CampaignTable::GroupBuys, group_buy).await? {
                    return Err(refusal(PromoRefusal::OutOfStock));
                }
                let deadline = now + g.time_limit_minutes * 60_000;
                let t = store::NewTeam {
                    group_buy,
                    leader: customer.0,
                    size: g.team_size,
                    deadline,
                };
                let team = store::insert_team_in(tx, &t, now).await?;
                let price_fen = spec.price_for(true);
                let m = store::NewMember {
                    team,
                    customer: customer.0,
                    inviter: None,
                    is_leader: true,
                    price_fen,
                };
                let member = store::insert_member_in(tx, &m, now).await?;
                promotions
                    .timer_in(
                        tx,
                        store::JOB_TEAM_DEADLINE,
                        team,
                        deadline,
                        &format!("group_buy_team:{team}"),
                    )
                    .await?;
                let d = serde_json::json!({"group_buy_id": group_buy, "team_id": team, "leader": true, "price_fen": price_fen});
                event_in(tx, customer.0, "group_buy_joined", None, d, now).await?;
                Ok(TeamJoined {
                    team_id: team,
                    member_id: member,
                    state: TeamState::Open.as_str().into(),
                    members: 1,
                    size: g.team_size,
                })
            })
            .await
    }

    /// Join an open team. In the transaction the team is locked first, then its group-buy
    /// (the deadline timer takes them in the same order): core's [`Team::check_join`] decides
    /// on the team, [`Campaign::check_take`] on the stock (no window: a team opened inside it
    /// may fill after it), and the last member to join confirms everyone.
    pub async fn join_team(
        &self,
        customer: CustomerId,
        team: i64,
        inviter: Option<CustomerId>,
        idempotency_key: Option<&str>,
    ) -> Result<(TeamJoined, bool)> {
        let inv = inviter.map(|c| c.0);
        let parts = [
            team.to_string(),
            inv.map(|i| i.to_string()).unwrap_or_default(),
        ];
        let promotions = self.promotions();
        let (write, replayed) = promotions
            .public_write(
                "team_join",
                customer,
                idempotency_key,
                &[&parts[0], &parts[1]],
            )
            .await?;
        if let Some(r) = replayed {
            return Ok((r, true));
        }
        let idem = write.idem();
        let now = self.now();
        let t = store::get_team(&self.db, team)
            .await
            .map_err(AppError::not_found("group"))?;
        team_rules(&t).check_join(Millis(now)).map_err(refusal)?;
        let g = self.group_buy(t.group_buy_id).await?;
        promotions
            .check_audience(&g.spec.audience, customer)
            .await?;
        promotions
            .write_once(customer, idem, async |tx| {
                let t = store::lock_team_in(tx, team)
                    .await?
                    .ok_or(AppError::NotFound { what: "group" })?;
                if store::is_member_in(tx, team, customer.0).await? {
                    return Err(refusal(PromoRefusal::AlreadyInTeam));
                }
                let rules = team_rules(&t);
                rules.check_join(Millis(now)).map_err(refusal)?;
                let g = store::lock_group_buy_in(tx, t.group_buy_id)
                    .await?
                    .ok_or(AppError::NotFound { what: "group-buy" })?;
                group_buy_campaign(&g, false).check_take(Millis(now)).map_err(refusal)?;
                let spec: GroupBuySpec = serde_json::from_str(&g.spec).map_err(bad_record)?;
                if !store::take_unit_in(tx, CampaignTable::GroupBuys, g.id).await? {
                    return Err(refusal(PromoRefusal::OutOfStock));
                }
                let state = rules.after_join();
                let members = t.members + 1;
                let closed_at = (state == TeamState::Filled).then_some(now);
                let from = (t.state.as_str(), t.members);
                if !store::set_team_in(tx, team, from, (state.as_str(), members), closed_at, now)
                    .await?
                {
                    return Err(AppError::Internal("a locked team changed under its lock".into()));
                }
                let price_fen = spec.price_for(false);
                let m = store::NewMember {
                    team,
                    customer: customer.0,
                    inviter: inv,
                    is_leader: false,
                    price_fen,
                };
                let member = store::insert_member_in(tx, &m, now).await?;
                let d = serde_json::json!({"group_buy_id": g.id, "team_id": team, "leader": false, "inviter": inv, "price_fen": price_fen});
                event_in(tx, customer.0, "group_buy_joined", None, d, now).await?;
                if state == TeamState::Filled {
                    let d = serde_json::json!({"group_buy_id": g.id, "team_id": team});
                    for c in store::confirm_members_in(tx, team, now).await? {
                        event_in(tx, c, "group_buy_confirmed", None, d.clone(), now).await?;
                    }
                }
                Ok(TeamJoined {
                    team_id: team,
                    member_id: member,
                    state: state.as_str().into(),
                    members,
                    size: t.size,
                })
            })
            .await
    }

    /// A team for its share page: members, "x more needed", remaining stock.
    pub async fn team_status(&self, team: i64) -> Result<TeamView> {
        let t = store::get_team(&self.db, team)
            .await
            .map_err(AppError::not_found("group"))?;
        let g = store::get_group_buy(&self.db, t.group_buy_id).await?;
        let spec: GroupBuySpec = serde_json::from_str(&g.spec).map_err(bad_record)?;
        let members = store::team_members(&self.db, team).await?;
        let missing = team_rules(&t).missing();
        Ok(TeamView {
            remaining_stock: (g.stock - g.sold).max(0),
            missing,
            members,
            spec,
            group_buy: g,
            team: t,
        })
    }

    /// The deadline timer (tests call it too, to check that a second run refunds nothing): an
    /// open team past its deadline expires and each paid member is refunded once
    /// ([`Team::on_deadline`] on the team read under its row lock; the refunds' `UNIQUE
    /// (member_id)` is the backstop). Returns members refunded.
    pub async fn expire_team(&self, team: i64) -> Result<i64> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let Some(t) = store::lock_team_in(&mut tx, team).await? else {
            return Ok(0);
        };
        let Some(to) = team_rules(&t).on_deadline(Millis(now)) else {
            return Ok(0);
        };
        let from = (t.state.as_str(), t.members);
        if !store::set_team_in(
            &mut tx,
            team,
            from,
            (to.as_str(), t.members),
            Some(now),
            now,
        )
        .await?
        {
            return Ok(0);
        }
        let refunded = store::refund_members_in(&mut tx, team, now).await?;
        for r in &refunded {
            let d = serde_json::json!({"group_buy_id": t.group_buy_id, "team_id": team, "amount_fen": r.amount_fen});
            event_in(&mut tx, r.customer, "group_buy_refunded", None, d, now).await?;
        }
        store::return_units_in(&mut tx, CampaignTable::GroupBuys, t.group_buy_id, t.members)
            .await?;
        tx.commit().await?;
        Ok(refunded.len() as i64)
    }
}

/// A group-buy as an opening's (`in_window`) or a join's rules see it.
fn group_buy_campaign(g: &GroupBuyRow, in_window: bool) -> Campaign {
    let window = in_window.then_some((g.starts_at, g.ends_at));
    campaign(&g.status, window, g.stock, g.sold)
}

/// A team as core's rules see it (an unknown stored state counts as expired: nobody joins).
fn team_rules(t: &TeamRow) -> Team {
    Team {
        state: TeamState::parse(&t.state).unwrap_or(TeamState::Expired),
        members: t.members,
        size: t.size,
        deadline: Millis(t.deadline),
    }
}
