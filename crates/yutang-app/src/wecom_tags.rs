//! WeCom corp tags and Yutang tags are one concept: corp tag groups become tag groups with
//! source `wecom` (and their WeCom ids), kept in step both ways.
//!
//! - **WeCom → Yutang**: [`App::sync_corp_tags`] reads every corp tag (`get_corp_tag_list`)
//!   and creates, renames, reorders or deletes the matching groups and tags (a manual group
//!   or tag of the same name is adopted rather than duplicated). It runs on every
//!   `change_external_tag` callback and can be started from the API.
//! - **Yutang → WeCom**: a tag created in a `wecom` group is created in WeCom first
//!   (`add_corp_tag`) and stored with the id WeCom gave it; deleting it deletes it in WeCom
//!   (`del_corp_tag`). If WeCom refuses, nothing changes in Yutang.

use serde::{Deserialize, Serialize};
use yutang_core::staff::Permission;
use yutang_store::tags as store;
use yutang_wecom::client::api::{
    AddCorpTagRequest, DelCorpTagRequest, GetCorpTagListRequest, NewCorpTag,
};

use crate::error::{AppError, Result};
use crate::{Actor, App};

/// What a corp tag sync changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CorpTagSync {
    pub groups: usize,
    pub tags: usize,
    pub deleted_tags: usize,
    pub deleted_groups: usize,
}

pub(crate) fn wecom_err(e: yutang_wecom::WecomError) -> AppError {
    AppError::Rule {
        code: "wecom_error",
        message: format!("WeCom refused the call: {e}"),
    }
}

impl App {
    /// Bring Yutang's `wecom` groups and tags in line with WeCom's corp tags.
    pub async fn sync_corp_tags(&self) -> Result<CorpTagSync> {
        let Some(api) = self.wecom_api().await? else {
            return Err(AppError::Rule {
                code: "wecom_not_configured",
                message: "set the WeCom corp id and customer-contact secret first".into(),
            });
        };
        let groups = api
            .get_corp_tag_list(&GetCorpTagListRequest::default())
            .await
            .map_err(wecom_err)?;
        let now = self.now();
        let mut out = CorpTagSync::default();
        let mut seen_groups = Vec::new();
        let mut seen_tags = Vec::new();
        for g in groups.iter().filter(|g| !g.deleted) {
            let gid = store::upsert_wecom_group(&self.db, &g.group_id, &g.group_name, g.order, now)
                .await?;
            seen_groups.push(g.group_id.clone());
            out.groups += 1;
            for t in g.tag.iter().filter(|t| !t.deleted) {
                store::upsert_wecom_tag(&self.db, gid, &t.id, &t.name, t.order, now).await?;
                seen_tags.push(t.id.clone());
                out.tags += 1;
            }
        }
        let (local_groups, local_tags) = store::wecom_ids(&self.db).await?;
        for (id, wid) in local_tags.iter().filter(|(_, w)| !seen_tags.contains(w)) {
            tracing::info!(tag = id, wecom_id = %wid, "corp tag deleted in WeCom");
            store::delete_tag(&self.db, *id, "wecom", None, now).await?;
            out.deleted_tags += 1;
        }
        for (id, _) in local_groups
            .iter()
            .filter(|(_, w)| !seen_groups.contains(w))
        {
            store::delete_group(&self.db, *id, "wecom", None, now).await?;
            out.deleted_groups += 1;
        }
        self.segments.reload_schema(&self.db).await?;
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        Ok(out)
    }

    /// Sync corp tags on an operator's request.
    pub async fn sync_corp_tags_now(&self, actor: &Actor) -> Result<CorpTagSync> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        self.sync_corp_tags().await
    }

    /// For a tag about to be created in a `wecom` group: create it in WeCom and return its
    /// WeCom id.
    pub(crate) async fn push_corp_tag(
        &self,
        group_wecom_id: &str,
        name: &str,
        sort: i64,
    ) -> Result<String> {
        let api = self.wecom_api().await?.ok_or(AppError::Rule {
            code: "wecom_not_configured",
            message: "this group comes from WeCom; configure WeCom to add tags to it".into(),
        })?;
        let g = api
            .add_corp_tag(&AddCorpTagRequest {
                group_id: Some(group_wecom_id.to_owned()),
                tag: vec![NewCorpTag {
                    name: name.to_owned(),
                    order: Some(sort),
                }],
                ..AddCorpTagRequest::default()
            })
            .await
            .map_err(wecom_err)?;
        g.tag
            .iter()
            .find(|t| t.name == name)
            .or(g.tag.first())
            .map(|t| t.id.clone())
            .ok_or_else(|| AppError::Internal("add_corp_tag answered without the tag".into()))
    }

    /// For a tag about to be deleted that came from WeCom: delete it in WeCom.
    pub(crate) async fn delete_corp_tag(&self, wecom_id: &str) -> Result<()> {
        let Some(api) = self.wecom_api().await? else {
            return Ok(());
        };
        api.del_corp_tag(&DelCorpTagRequest {
            tag_id: vec![wecom_id.to_owned()],
            ..DelCorpTagRequest::default()
        })
        .await
        .map_err(wecom_err)
    }
}
