//! WeCom corp tags and Yutang tags are one concept: corp tag groups become tag groups with
//! source `wecom` (and their WeCom ids), kept in step both ways.
//!
//! - **WeCom → Yutang**: [`Wecom::sync_corp_tags`] reads every corp tag (`get_corp_tag_list`)
//!   and creates, renames, reorders or deletes the matching groups and tags (a manual group
//!   or tag of the same name is adopted rather than duplicated). It runs on every
//!   `change_external_tag` callback and can be started from the API.
//! - **Yutang → WeCom**: a tag created in a `wecom` group is created in WeCom first
//!   (`add_corp_tag`) and stored with the id WeCom gave it; deleting it deletes it in WeCom
//!   (`del_corp_tag`). If WeCom refuses, nothing changes in Yutang.
//! - **Customers' tags, WeCom → Yutang**: the corp tags staff members put on a customer in
//!   WeCom (`follow_info.tag_id` in the full sync, `follow_user[].tags` of `get` on contact
//!   callbacks) become the customer's tags with source `wecom`, through the ordinary tag
//!   change (timeline events included): [`Wecom::apply_wecom_customer_tags`] adds the missing
//!   ones and removes the `wecom`-sourced tags WeCom no longer has. Tags given in Yutang
//!   (manual, bulk, rules, imports) are never removed by it, and applying the same set twice
//!   changes nothing.
//! - **Customers' tags, Yutang → WeCom**: when staff add or remove (by hand or in bulk) a tag
//!   that has a WeCom id, a `wecom_mark_tag` job calls `mark_tag` (92697) for the customer's
//!   owner guide (their `wecom_userid`) and the customer's `external_userid`. The Yutang change
//!   is committed first and never waits for WeCom; a transient WeCom error (busy, rate limit,
//!   token, network) retries the job with backoff from the customer it stopped at, while a
//!   refusal for one customer (e.g. 40096 not this guide's customer) is logged and skipped.
//!   Customers without a WeCom identity or whose owner is not linked to WeCom are skipped.
//!   Changes that came from WeCom (source `wecom`) are never sent back.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use yutang_core::staff::Permission;
use yutang_core::tags::TagSource;
use yutang_store::jobs::{self as job_store, NewJob};
use yutang_store::tags::{self as store, TagChange, TagChangeCount};
use yutang_wecom::client::api::{
    AddCorpTagRequest, DelCorpTagRequest, GetCorpTagListRequest, MarkTagRequest, NewCorpTag,
};
use yutang_wecom::client::codes;

use super::Wecom;
use crate::Actor;
use crate::error::{AppError, Result};
use crate::jobs::LEASE_MS;

/// Job kind: push a Yutang tag change of customers to WeCom (`mark_tag`).
pub const MARK_TAG_KIND: &str = "wecom_mark_tag";

/// The job kinds this area runs (see `crate::job_kinds`).
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(MARK_TAG_KIND, |app, job| {
        Box::pin(async move {
            app.wecom()
                .run_mark_tag_job(job.id, &job.payload, job.progress_done)
                .await
        })
    });
}

/// A `wecom_mark_tag` job: these customers gain `add` and lose `remove` (WeCom tag ids).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MarkTagJob {
    customers: Vec<i64>,
    add: Vec<String>,
    remove: Vec<String>,
}

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

impl Wecom<'_> {
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

    /// WeCom tag id → Yutang tag id, for the tags that came from WeCom.
    pub(crate) async fn wecom_tag_map(&self) -> Result<HashMap<String, i64>> {
        let (_, tags) = store::wecom_ids(&self.db).await?;
        Ok(tags.into_iter().map(|(id, w)| (w, id)).collect())
    }

    /// Make the customer's `wecom`-sourced tags the corp tags `wecom_ids` (WeCom tag ids; ids
    /// Yutang does not know yet are skipped until the corp tags are synced). Tags the
    /// customer already holds from another source are left as they are.
    pub(crate) async fn apply_wecom_customer_tags(
        &self,
        customer: i64,
        wecom_ids: &BTreeSet<String>,
        map: &HashMap<String, i64>,
    ) -> Result<TagChangeCount> {
        let wanted: BTreeSet<i64> = wecom_ids
            .iter()
            .filter_map(|w| map.get(w).copied())
            .collect();
        let held = store::customer_tags(&self.db, customer).await?;
        let add: Vec<i64> = wanted
            .iter()
            .copied()
            .filter(|t| !held.iter().any(|h| h.tag_id == *t))
            .collect();
        let linked: BTreeSet<i64> = map.values().copied().collect();
        let remove: Vec<i64> = held
            .iter()
            .filter(|h| {
                h.source == TagSource::Wecom.as_str()
                    && linked.contains(&h.tag_id)
                    && !wanted.contains(&h.tag_id)
            })
            .map(|h| h.tag_id)
            .collect();
        if add.is_empty() && remove.is_empty() {
            return Ok(TagChangeCount::default());
        }
        Ok(store::change(
            &self.db,
            &TagChange {
                customers: &[customer],
                add: &add,
                remove: &remove,
                source: TagSource::Wecom.as_str(),
                staff_id: None,
                by: "wecom",
            },
            self.now(),
        )
        .await?)
    }

    /// Read a contact (`get`, every page of follow users): their details and the union of
    /// the corp tags their staff members put on them. `None` for a customer WeCom no longer
    /// knows (40096). A WeCom error fails (the caller's job retries).
    pub(crate) async fn read_wecom_contact(
        &self,
        api: &yutang_wecom::WecomClient,
        external_userid: &str,
    ) -> Result<Option<(yutang_wecom::client::api::ExternalContact, BTreeSet<String>)>> {
        let mut ids = BTreeSet::new();
        let mut cursor = String::new();
        let mut contact = None;
        // WeCom pages follow users (500 a page); bound the loop all the same.
        for _ in 0..1000 {
            let detail = match api
                .get_external_contact(external_userid, Some(cursor.as_str()))
                .await
            {
                Ok(d) => d,
                Err(e) if e.errcode() == Some(codes::INVALID_EXTERNAL_USERID) => return Ok(None),
                Err(e) => return Err(wecom_err(e)),
            };
            for f in &detail.follow_user {
                ids.extend(
                    f.tags
                        .iter()
                        .filter(|t| t.tag_type == 1)
                        .filter_map(|t| t.tag_id.clone()),
                );
            }
            if contact.is_none() {
                contact = Some(detail.external_contact);
            }
            if detail.next_cursor.is_empty() || detail.next_cursor == cursor {
                break;
            }
            cursor = detail.next_cursor;
        }
        Ok(contact.map(|c| (c, ids)))
    }

    /// Apply the corp tags a contact read found (see [`Wecom::apply_wecom_customer_tags`]).
    pub(crate) async fn apply_read_wecom_tags(
        &self,
        customer: i64,
        ids: &BTreeSet<String>,
    ) -> Result<TagChangeCount> {
        let map = self.wecom_tag_map().await?;
        let n = self.apply_wecom_customer_tags(customer, ids, &map).await?;
        if n.added + n.removed > 0 {
            self.segments.catch_up(&self.db, self.now(), 0).await?;
        }
        Ok(n)
    }

    /// After staff changed customers' tags in Yutang: queue a `mark_tag` job for the tags
    /// that have a WeCom id, when WeCom is configured. Never fails the (committed) change: a
    /// problem queueing is logged.
    pub(crate) async fn queue_mark_tag(&self, customers: &[i64], add: &[i64], remove: &[i64]) {
        if let Err(e) = self.try_queue_mark_tag(customers, add, remove).await {
            tracing::warn!(error = %e, "could not queue the WeCom mark_tag job");
        }
    }

    async fn try_queue_mark_tag(
        &self,
        customers: &[i64],
        add: &[i64],
        remove: &[i64],
    ) -> Result<()> {
        if customers.is_empty() || (add.is_empty() && remove.is_empty()) {
            return Ok(());
        }
        let wecom_of = |ids: &[i64]| {
            let ids = ids.to_vec();
            async move {
                let mut out = Vec::new();
                for id in ids {
                    if let Ok(t) = store::get_tag(&self.db, id).await
                        && let Some(w) = t.wecom_id.filter(|w| !w.is_empty())
                        && !out.contains(&w)
                    {
                        out.push(w);
                    }
                }
                out
            }
        };
        let job = MarkTagJob {
            customers: customers.to_vec(),
            add: wecom_of(add).await,
            remove: wecom_of(remove).await,
        };
        if job.add.is_empty() && job.remove.is_empty() {
            return Ok(());
        }
        if self.wecom_api().await?.is_none() {
            return Ok(());
        }
        let payload = serde_json::to_string(&job).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.now();
        job_store::enqueue(
            &self.db,
            &NewJob {
                kind: MARK_TAG_KIND,
                payload: &payload,
                run_at: now,
                idempotency_key: None,
                created_by: None,
            },
            now,
        )
        .await?;
        Ok(())
    }

    /// Run (the rest of) a `wecom_mark_tag` job from customer `done` on.
    pub(crate) async fn run_mark_tag_job(
        &self,
        job_id: i64,
        payload: &str,
        done: i64,
    ) -> Result<String> {
        let job: MarkTagJob = serde_json::from_str(payload)
            .map_err(|e| AppError::Internal(format!("bad job payload: {e}")))?;
        let Some(api) = self.wecom_api().await? else {
            return Ok(serde_json::json!({"skipped": "wecom_not_configured"}).to_string());
        };
        let total = job.customers.len() as i64;
        let start = usize::try_from(done.max(0))
            .unwrap_or(0)
            .min(job.customers.len());
        let rest = &job.customers[start..];
        let targets: HashMap<i64, (String, String)> =
            yutang_store::wecom::inbox::mark_tag_targets(&self.db, rest)
                .await?
                .into_iter()
                .map(|(c, ext, user)| (c, (ext, user)))
                .collect();
        let (mut sent, mut skipped, mut refused) = (0u64, 0u64, 0u64);
        for (k, customer) in rest.iter().enumerate() {
            let Some((external_userid, userid)) = targets.get(customer) else {
                skipped += 1;
                continue;
            };
            let request = MarkTagRequest {
                userid: userid.clone(),
                external_userid: external_userid.clone(),
                add_tag: job.add.clone(),
                remove_tag: job.remove.clone(),
            };
            match api.mark_tag(&request).await {
                Ok(()) => sent += 1,
                Err(e) if e.is_transient() || e.is_token_error() || e.is_credentials_error() => {
                    let at = i64::try_from(start + k).unwrap_or(total);
                    job_store::progress(&self.db, job_id, at, total, self.now(), LEASE_MS).await?;
                    return Err(wecom_err(e));
                }
                Err(e) => {
                    tracing::warn!(customer, userid = %userid, error = %e, "WeCom refused mark_tag; skipped");
                    refused += 1;
                }
            }
        }
        job_store::progress(&self.db, job_id, total, total, self.now(), LEASE_MS).await?;
        Ok(
            serde_json::json!({"customers": total, "sent": sent, "skipped": skipped, "refused": refused})
                .to_string(),
        )
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
