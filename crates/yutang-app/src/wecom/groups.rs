//! WeCom customer groups (客户群): the `customer_groups` / `group_members` model, kept in line
//! with `groupchat/get` (96338).
//!
//! A `change_external_chat` callback names only the group (and, for a member quit, not even
//! who left), so every `create` / `update` re-reads the group and reconciles: members WeCom
//! lists that Yutang does not have as joined (or with another join time: they left and came
//! back) join; members Yutang has as joined that WeCom no longer lists leave. A `dismiss`
//! marks the group dismissed and every member as left. Reconciling is idempotent: a second
//! pass over the same WeCom answer changes nothing, and the timeline events it writes are
//! keyed by the member row and join time, so a replay never doubles them.
//!
//! Joins and leaves of members who are Yutang customers (matched by their `wecom_external`
//! identity) append `join_group` / `leave_group` events to their timeline; the membership rows
//! are written first, so the segment index sees them when it consumes the events.

use std::collections::HashMap;

use serde::Serialize;
use yutang_core::events::{ClientEventId, EventKind as TimelineKind};
use yutang_core::identity::Identity;
use yutang_core::ids::{CustomerId, StaffId};
use yutang_core::staff::Permission;
use yutang_store::wecom::groups::{self as store, GroupRow, GroupUpsert, MemberRow, MemberUpsert};
use yutang_wecom::client::api::GroupChat;

use super::Wecom;
use crate::Actor;
use crate::customers::CustomerRef;
use crate::error::{AppError, Result};
use crate::events::{EventInput, EventOutcome};
use crate::wecom::wecom_actor;

/// WeCom's member type for an external contact in `member_list[].type`.
const EXTERNAL_MEMBER: i64 = 2;

/// What reconciling one group changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupDiff {
    /// Members recorded as joined by this pass.
    pub joined: usize,
    /// Members recorded as left by this pass.
    pub left: usize,
    /// Whether the group row was new.
    pub created: bool,
}

/// A page of groups.
#[derive(Debug, Clone, Serialize)]
pub struct GroupList {
    pub items: Vec<GroupRow>,
    pub total: i64,
}

/// A group with its members.
#[derive(Debug, Clone, Serialize)]
pub struct GroupDetail {
    #[serde(flatten)]
    pub group: GroupRow,
    pub member_list: Vec<MemberRow>,
}

struct Timeline {
    client_id: String,
    kind: TimelineKind,
    customer: i64,
    at: i64,
    detail: serde_json::Value,
}

impl Wecom<'_> {
    /// Read a group from WeCom and reconcile it; `at` (epoch ms) stamps members found gone.
    pub async fn refresh_wecom_group(&self, chat_id: &str, at: i64) -> Result<GroupDiff> {
        let api = self.wecom_api().await?.ok_or(AppError::Rule {
            code: "wecom_not_configured",
            message: "set the WeCom corp id and customer-contact secret first".into(),
        })?;
        let chat = api
            .groupchat_get(chat_id, true)
            .await
            .map_err(crate::wecom::tags::wecom_err)?;
        self.apply_wecom_group(&chat, at).await
    }

    /// Bring one group and its members in line with WeCom's description of it.
    pub async fn apply_wecom_group(&self, chat: &GroupChat, at: i64) -> Result<GroupDiff> {
        if chat.chat_id.is_empty() {
            return Err(AppError::Internal(
                "groupchat/get answered without a chat_id".into(),
            ));
        }
        let now = self.now();
        let mut diff = GroupDiff {
            created: store::by_chat_id(&self.db, &chat.chat_id).await?.is_none(),
            ..GroupDiff::default()
        };
        let owner = yutang_store::staff::by_wecom_userid(&self.db, &chat.owner).await?;
        let group_id = store::upsert_group(
            &self.db,
            &GroupUpsert {
                chat_id: &chat.chat_id,
                name: &chat.name,
                owner_userid: &chat.owner,
                owner_staff_id: owner.as_ref().map(|s| s.id),
                notice: &chat.notice,
                created_at: chat.create_time.saturating_mul(1000),
                member_version: chat.member_version.as_deref().unwrap_or(""),
            },
            now,
        )
        .await?;
        let existing: HashMap<String, MemberRow> = store::members(&self.db, group_id)
            .await?
            .into_iter()
            .map(|m| (m.userid.clone(), m))
            .collect();
        let mut listed = std::collections::HashSet::new();
        for m in &chat.member_list {
            if m.userid.is_empty() || !listed.insert(m.userid.as_str()) {
                continue;
            }
            let external = m.member_type == EXTERNAL_MEMBER;
            let join_time = m.join_time.saturating_mul(1000);
            let (customer_id, staff_id) = if external {
                (self.customer_of_external(&m.userid).await?, None)
            } else {
                let staff = yutang_store::staff::by_wecom_userid(&self.db, &m.userid).await?;
                (None, staff.map(|s| s.id))
            };
            let before = existing.get(&m.userid);
            let unchanged = before.is_some_and(|b| {
                b.state == "joined"
                    && b.join_time == join_time
                    && b.customer_id == customer_id
                    && b.staff_id == staff_id
            });
            if unchanged {
                continue;
            }
            let rejoined = before.is_none_or(|b| b.state != "joined" || b.join_time != join_time);
            store::upsert_member(
                &self.db,
                &MemberUpsert {
                    group_id,
                    member_type: if external { "customer" } else { "staff" },
                    userid: &m.userid,
                    customer_id,
                    staff_id,
                    join_time,
                    join_scene: m.join_scene,
                    invitor_userid: m.invitor.as_ref().map_or("", |i| i.userid.as_str()),
                },
                now,
            )
            .await?;
            if rejoined {
                diff.joined += 1;
            }
        }
        for gone in existing
            .values()
            .filter(|m| m.state == "joined" && !listed.contains(m.userid.as_str()))
        {
            store::mark_left(&self.db, gone.id, at, now).await?;
            diff.left += 1;
        }
        self.log_group_members(group_id, &chat.chat_id, &chat.name)
            .await?;
        self.group_codes().after_group(group_id, chat).await?;
        Ok(diff)
    }

    /// A `dismiss` callback: the group is gone, every member has left.
    pub async fn dismiss_wecom_group(&self, chat_id: &str, at: i64) -> Result<GroupDiff> {
        let Some(group) = store::by_chat_id(&self.db, chat_id).await? else {
            return Ok(GroupDiff::default());
        };
        let now = self.now();
        store::dismiss(&self.db, chat_id, at, now).await?;
        let mut diff = GroupDiff::default();
        for m in store::members(&self.db, group.id)
            .await?
            .iter()
            .filter(|m| m.state == "joined")
        {
            store::mark_left(&self.db, m.id, at, now).await?;
            diff.left += 1;
        }
        self.log_group_members(group.id, chat_id, &group.name)
            .await?;
        // The codes this group belonged to list another group from now on.
        for code in yutang_store::group_codes::codes_of_group(&self.db, group.id).await? {
            yutang_store::group_codes::want_sync(&self.db, code).await?;
            if let Err(e) = self.group_codes().sync(code).await {
                tracing::warn!(code, error = %e, "group code re-plan after a dismiss");
            }
        }
        Ok(diff)
    }

    /// The live customer a WeCom external userid belongs to, if Yutang knows them.
    pub(crate) async fn customer_of_external(&self, external_userid: &str) -> Result<Option<i64>> {
        let identity = Identity::parse("wecom_external", None, external_userid)?;
        let Some(id) = yutang_store::customers::find_by_identity(&self.db, &identity).await? else {
            return Ok(None);
        };
        Ok(yutang_store::customers::resolve(&self.db, id).await?)
    }

    /// Put the joins and leaves of customer members that are not on their timelines yet
    /// there, then flag them. Rows are written before events (so the segment index, which
    /// follows the events, sees the membership) and flags after; the event ids (member row and
    /// join time) make a repeated pass harmless.
    async fn log_group_members(&self, group_id: i64, chat_id: &str, name: &str) -> Result<()> {
        let rows = store::unlogged(&self.db, group_id).await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut timeline = Vec::new();
        for (m, join_logged, leave_logged) in &rows {
            let Some(c) = m.customer_id else { continue };
            if !join_logged {
                timeline.push(Timeline {
                    client_id: format!("wecom:gj:{}:{}", m.id, m.join_time),
                    kind: TimelineKind::JoinGroup,
                    customer: c,
                    at: m.join_time,
                    detail: serde_json::json!({
                        "source": "wecom",
                        "chat_id": chat_id,
                        "group": name,
                        "join_scene": m.join_scene,
                    }),
                });
            }
            if m.state == "left" && !leave_logged {
                timeline.push(leave_event(
                    m,
                    c,
                    m.left_at.unwrap_or(m.updated_at),
                    chat_id,
                    name,
                ));
            }
        }
        self.write_group_timeline(timeline).await?;
        for (m, _, _) in &rows {
            store::mark_logged(&self.db, m.id, m.join_time, &m.state).await?;
        }
        Ok(())
    }

    async fn write_group_timeline(&self, timeline: Vec<Timeline>) -> Result<()> {
        let actor = wecom_actor();
        for chunk in timeline.chunks(yutang_core::events::MAX_BATCH) {
            let mut batch = Vec::with_capacity(chunk.len());
            for t in chunk {
                let client_id = ClientEventId::parse("id", &t.client_id)?;
                batch.push((
                    Some(t.client_id.clone()),
                    Ok(EventInput {
                        client_id,
                        kind: t.kind,
                        customer: CustomerRef::Id(CustomerId(t.customer)),
                        occurred_at: Some(t.at),
                        staff_id: None::<StaffId>,
                        detail: t.detail.to_string(),
                    }),
                ));
            }
            let out = self.events().ingest_events(&actor, batch).await?;
            if let Some(EventOutcome::Rejected { message, .. }) = out
                .iter()
                .find(|o| matches!(o, EventOutcome::Rejected { .. }))
            {
                return Err(AppError::Internal(format!(
                    "group timeline event refused: {message}"
                )));
            }
        }
        Ok(())
    }

    /// Customer groups, newest first (operators and HQ).
    pub async fn wecom_groups(
        &self,
        actor: &Actor,
        include_dismissed: bool,
        limit: i64,
        offset: i64,
    ) -> Result<GroupList> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let (items, total) = store::list(
            &self.db,
            None,
            include_dismissed,
            limit.clamp(1, 200),
            offset.max(0),
        )
        .await?;
        Ok(GroupList { items, total })
    }

    /// One group with its members.
    pub async fn wecom_group(&self, actor: &Actor, id: i64) -> Result<GroupDetail> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let group = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("customer group"))?;
        let member_list = store::members(&self.db, id).await?;
        Ok(GroupDetail { group, member_list })
    }
}

fn leave_event(m: &MemberRow, customer: i64, at: i64, chat_id: &str, name: &str) -> Timeline {
    Timeline {
        client_id: format!("wecom:gl:{}:{}", m.id, m.join_time),
        kind: TimelineKind::LeaveGroup,
        customer,
        at,
        detail: serde_json::json!({ "source": "wecom", "chat_id": chat_id, "group": name }),
    }
}
