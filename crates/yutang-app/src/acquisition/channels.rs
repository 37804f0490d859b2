//! Channels: define, edit, archive, list. Every id a spec names is checked here (the core
//! parse checks shapes only), so a channel never points at a store, tag or coupon that is not
//! there — or at a coupon that can no longer be issued.

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::acquisition::ChannelSpec;
use yutang_store::acquisition::{self as store, ChannelRow, ChannelTotals};

use super::{Acquisition, manage, view};
use crate::Actor;
use crate::audit::{self, Action};
use crate::error::{AppError, Result};

/// A channel as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelView {
    pub id: i64,
    #[serde(flatten)]
    pub spec: ChannelSpec,
    pub archived: bool,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub totals: ChannelTotals,
}

impl ChannelView {
    fn of(row: ChannelRow, totals: ChannelTotals) -> Result<Self> {
        let spec: ChannelSpec = serde_json::from_str(&row.spec)
            .map_err(|e| AppError::Internal(format!("channel {} spec: {e}", row.id)))?;
        Ok(Self {
            id: row.id,
            spec,
            archived: row.archived_at.is_some(),
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
            totals,
        })
    }
}

fn audit_detail(op: &str, name: &str) -> String {
    serde_json::json!({ "op": format!("channel.{op}"), "detail": { "name": name } }).to_string()
}

impl Acquisition<'_> {
    /// Checks the ids a spec names against the database.
    async fn check_refs(&self, spec: &ChannelSpec) -> Result<()> {
        let dangling = |field: &'static str, what: &str| {
            AppError::Invalid(FieldError::new(
                field,
                "unknown_reference",
                format!("no such {what}"),
            ))
        };
        if let Some(id) = spec.store_id {
            let s = yutang_store::org::get_store(&self.db, id)
                .await
                .map_err(|_| dangling("store_id", "store"))?;
            if let (Some(r), Some(sr)) = (spec.region_id, s.region_id)
                && r != sr
            {
                return Err(FieldError::new(
                    "region_id",
                    "region_mismatch",
                    "the store belongs to another region",
                )
                .into());
            }
        }
        if let Some(id) = spec.region_id {
            yutang_store::org::get_region(&self.db, id)
                .await
                .map_err(|_| dangling("region_id", "region"))?;
        }
        if let Some(id) = spec.owner_staff_id {
            yutang_store::staff::get(&self.db, id)
                .await
                .map_err(|_| dangling("owner_staff_id", "staff member"))?;
        }
        for &t in &spec.tag_ids {
            yutang_store::tags::get_tag(&self.db, t)
                .await
                .map_err(|_| dangling("tag_ids", "tag"))?;
        }
        if let Some(id) = spec.reward_template_id {
            let t = yutang_store::promotions::get_template(&self.db, id)
                .await
                .map_err(|_| dangling("reward_template_id", "coupon template"))?;
            if t.status == "archived" {
                return Err(FieldError::new(
                    "reward_template_id",
                    "promotion_archived",
                    "the coupon is archived and can no longer be issued",
                )
                .into());
            }
        }
        Ok(())
    }

    pub async fn create_channel(&self, actor: &Actor, spec: ChannelSpec) -> Result<ChannelView> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.check_refs(&spec).await?;
        let json = serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        let id =
            store::insert_channel_in(&mut tx, &write_of(&spec, &json), &actor.name, self.now())
                .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::ChannelChanged,
            &format!("channel:{id}"),
            &audit_detail("create", &spec.name),
        )
        .await?;
        tx.commit().await?;
        self.channel(actor, id).await
    }

    pub async fn update_channel(
        &self,
        actor: &Actor,
        id: i64,
        spec: ChannelSpec,
    ) -> Result<ChannelView> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.check_refs(&spec).await?;
        let json = serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        if !store::update_channel_in(&mut tx, id, &write_of(&spec, &json), self.now()).await? {
            return Err(match store::get_channel_in(&mut tx, id).await? {
                None => AppError::NotFound { what: "channel" },
                Some(_) => archived(),
            });
        }
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::ChannelChanged,
            &format!("channel:{id}"),
            &audit_detail("update", &spec.name),
        )
        .await?;
        tx.commit().await?;
        self.channel(actor, id).await
    }

    /// Archive a channel and its codes (their WeCom contact ways are deleted afterwards);
    /// adds through them later are still attributed to the channel.
    pub async fn archive_channel(&self, actor: &Actor, id: i64) -> Result<ChannelView> {
        manage(actor)?;
        let row = store::get_channel(&self.db, id)
            .await
            .map_err(AppError::not_found("channel"))?;
        let codes = store::list_codes(&self.db, Some(id), false).await?;
        let mut tx = self.db.begin().await?;
        if store::archive_channel_in(&mut tx, id, self.now()).await? {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::ChannelChanged,
                &format!("channel:{id}"),
                &audit_detail("archive", &row.name),
            )
            .await?;
        }
        tx.commit().await?;
        for c in codes {
            self.delete_contact_way(&c).await;
        }
        self.channel(actor, id).await
    }

    /// Channels the caller sees, newest first.
    pub async fn channels(&self, actor: &Actor, archived: bool) -> Result<Vec<ChannelView>> {
        view(actor)?;
        let store_filter = match actor.caller.data_scope() {
            DataScope::All => None,
            DataScope::Store(s) | DataScope::Own { store: s, .. } => Some(s.0),
            DataScope::Nothing => return Ok(Vec::new()),
        };
        let rows = store::list_channels(&self.db, store_filter, archived).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let totals = store::channel_totals(&self.db, r.id).await?;
            out.push(ChannelView::of(r, totals)?);
        }
        Ok(out)
    }

    /// One channel (404 for a store-bound caller when it belongs to another store).
    pub async fn channel(&self, actor: &Actor, id: i64) -> Result<ChannelView> {
        view(actor)?;
        let row = store::get_channel(&self.db, id)
            .await
            .map_err(AppError::not_found("channel"))?;
        check_scope(actor, row.store_id)?;
        let totals = store::channel_totals(&self.db, id).await?;
        ChannelView::of(row, totals)
    }
}

/// A store-bound caller sees brand-wide channels and their own store's.
pub(crate) fn check_scope(actor: &Actor, store: Option<i64>) -> Result<()> {
    let ok = match (actor.caller.data_scope(), store) {
        (DataScope::All, _) | (_, None) => true,
        (DataScope::Store(s) | DataScope::Own { store: s, .. }, Some(t)) => s.0 == t,
        (DataScope::Nothing, Some(_)) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::NotFound { what: "channel" })
    }
}

pub(super) fn archived() -> AppError {
    AppError::Rule {
        code: "channel_archived",
        message: "the channel is archived".into(),
    }
}

fn write_of<'a>(spec: &'a ChannelSpec, json: &'a str) -> store::ChannelWrite<'a> {
    store::ChannelWrite {
        name: &spec.name,
        kind: spec.kind.as_str(),
        owner_staff_id: spec.owner_staff_id,
        store_id: spec.store_id,
        region_id: spec.region_id,
        spec: json,
    }
}
