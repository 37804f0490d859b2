//! The WeCom full sync (`wecom_full_sync` job): everything WeCom knows about the corp's
//! customers, brought into Yutang in four phases:
//!
//! 1. **users**: the staff members with the customer-contact feature
//!    (`get_follow_user_list`, 92571);
//! 2. **contacts**: their customers with details and follow info (`batch/get_by_user`, 92994,
//!    [`USERS_PER_CALL`] userids and [`CONTACTS_PER_PAGE`] customers per call, paged by
//!    cursor) → customers with a `wecom_external` (and `unionid`) identity, and follow
//!    relations for the userids linked to a Yutang guide;
//! 3. **groups**: their customer groups (`groupchat/list`, 93414, filtered by owner
//!    [`OWNERS_PER_CALL`] at a time, which also avoids 81017 in corps over 1000 people) and
//!    each group's members (`groupchat/get`, 96338) → [`crate::wecom::groups`];
//! 4. **tags**: corp tags ([`Wecom::sync_corp_tags`]), then each customer's corp tags as read
//!    in the contacts phase (the union over their follow users) become their `wecom`-sourced
//!    tags ([`Wecom::apply_wecom_customer_tags`]).
//!
//! After every page the job saves its phase, cursor and counts (`wecom_sync_checkpoints`), so
//! a job that fails (and is retried by the runner) or whose node dies (its lease expires and
//! another runner claims it) continues from the last saved page. Every step is an upsert, so
//! re-processing a page, or running the whole sync again, changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use yutang_core::customers::{FollowState, Gender, ProfilePatch};
use yutang_core::identity::Identity;
use yutang_core::ids::{CustomerId, StaffId};
use yutang_core::staff::{Permission, Role};
use yutang_store::jobs::{self as job_store, NewJob};
use yutang_store::wecom::groups as store;
use yutang_wecom::WecomClient;
use yutang_wecom::client::api::{
    BatchGetByUserRequest, ContactWithFollow, GroupChatListRequest, OwnerFilter,
};
use yutang_wecom::client::codes;

use super::Wecom;
use crate::Actor;
use crate::audit::{self, Action};
use crate::customers::{CustomerInput, FollowChange};
use crate::error::{AppError, Result};
use crate::jobs::{JobView, LEASE_MS};
use crate::wecom::tags::{CorpTagSync, wecom_err};
use crate::wecom::wecom_actor;

/// The job kind.
pub const FULL_SYNC_KIND: &str = "wecom_full_sync";

/// The job kinds this area runs (see `crate::job_kinds`).
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(FULL_SYNC_KIND, |app, job| {
        Box::pin(async move { app.wecom().run_wecom_full_sync(job.id).await })
    });
}
/// Staff userids per `batch/get_by_user` call (WeCom allows 1–100; fewer gives finer progress).
pub const USERS_PER_CALL: usize = 20;
/// Customers per `batch/get_by_user` page (WeCom's maximum is 100).
pub const CONTACTS_PER_PAGE: u32 = 100;
/// Owners per `groupchat/list` call (WeCom allows at most 100 in `owner_filter`).
pub const OWNERS_PER_CALL: usize = 100;
/// Groups per `groupchat/list` page (WeCom allows 1–1000).
pub const GROUPS_PER_PAGE: u32 = 100;

/// Where a full sync stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Users,
    Contacts,
    Groups,
    Tags,
    Done,
}

/// A full sync's saved state, also its result when done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncState {
    pub phase: Phase,
    /// The follow users, as `get_follow_user_list` answered at the start.
    pub users: Vec<String>,
    /// Index in `users` of the batch being read (contacts and groups phases).
    pub offset: usize,
    /// Cursor of the next page of the current batch; empty for its first page.
    pub cursor: String,
    /// Contact entries read (a customer followed by two staff members counts twice).
    pub contacts: u64,
    /// Customers Yutang did not know before.
    pub customers_created: u64,
    /// Follow relations recorded (for userids linked to a guide).
    pub follows: u64,
    /// Follow users no Yutang guide or store manager is linked to (`wecom_userid`): their
    /// customers are synced without a follow relation.
    pub unlinked_userids: BTreeSet<String>,
    pub groups: u64,
    pub members_joined: u64,
    pub members_left: u64,
    pub tags: Option<CorpTagSync>,
    /// WeCom tag ids per customer read in the contacts phase (the union over the customer's
    /// follow users), applied in the tags phase once the corp tags are known.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub wecom_tags: BTreeMap<i64, BTreeSet<String>>,
    /// Customer tags added and removed to match WeCom.
    pub customer_tags_added: u64,
    pub customer_tags_removed: u64,
    /// How many times the job (re)started; more than 1 means it resumed.
    pub runs: u64,
}

impl SyncState {
    /// The phase as its snake_case name.
    pub fn phase_name(&self) -> &'static str {
        match self.phase {
            Phase::Users => "users",
            Phase::Contacts => "contacts",
            Phase::Groups => "groups",
            Phase::Tags => "tags",
            Phase::Done => "done",
        }
    }

    /// Progress as `(done, total)` steps: one per follow user in each of the contacts and
    /// groups phases, one for the tags.
    fn progress(&self) -> (i64, i64) {
        let n = i64::try_from(self.users.len()).unwrap_or(i64::MAX / 4);
        let at = i64::try_from(self.offset).unwrap_or(0).min(n);
        let total = 2 * n + 1;
        let done = match self.phase {
            Phase::Users => 0,
            Phase::Contacts => at,
            Phase::Groups => n + at,
            Phase::Tags => 2 * n,
            Phase::Done => total,
        };
        (done, total)
    }
}

/// A full-sync job with where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct SyncView {
    #[serde(flatten)]
    pub job: JobView,
    pub state: Option<SyncState>,
}

impl Wecom<'_> {
    /// Start a full sync (admins). While one is queued or running, that one is returned
    /// instead of starting another; an `Idempotency-Key` replays the job it started.
    pub async fn start_wecom_sync(
        &self,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> Result<SyncView> {
        if !actor.can(Permission::ManageOrg) {
            return Err(AppError::Forbidden);
        }
        // A retry under the same key is the job it started (the request has no body).
        let key = match idempotency_key {
            Some(k) => Some(format!(
                "{FULL_SYNC_KIND}:{}:{}",
                actor.name,
                crate::idempotency::parse_idempotency_key(k)?
            )),
            None => None,
        };
        let fp = crate::idempotency::fingerprint(&[FULL_SYNC_KIND]);
        if let Some(k) = &key
            && let Some(id) = crate::idempotency::job_replay(&self.db, k, &fp).await?
        {
            return self.wecom_sync(actor, id).await;
        }
        if self.wecom_api().await?.is_none() {
            return Err(AppError::Rule {
                code: "wecom_not_configured",
                message: "set the WeCom corp id and customer-contact secret first".into(),
            });
        }
        let running = job_store::list(&self.db, Some(FULL_SYNC_KIND), 20)
            .await?
            .into_iter()
            .find(|j| j.status == "queued" || j.status == "running");
        let id = match running {
            Some(j) => j.id,
            None => {
                // The job (with its key) and its audit entry commit together.
                let mut tx = self.db.begin().await?;
                let (id, replayed) = crate::idempotency::enqueue_job_in(
                    &mut tx,
                    &NewJob {
                        kind: FULL_SYNC_KIND,
                        payload: "{}",
                        run_at: self.now(),
                        idempotency_key: key.as_deref(),
                        created_by: actor.staff_id().map(|s| s.0),
                    },
                    &fp,
                    self.now(),
                )
                .await?;
                if replayed {
                    drop(tx);
                    return self.wecom_sync(actor, id).await;
                }
                audit::record_in(
                    self,
                    &mut tx,
                    actor,
                    Action::WecomSyncStarted,
                    &format!("job:{id}"),
                    "{}",
                )
                .await?;
                tx.commit().await?;
                id
            }
        };
        self.wecom_sync(actor, id).await
    }

    /// The latest full sync, if any ran.
    pub async fn latest_wecom_sync(&self, actor: &Actor) -> Result<Option<SyncView>> {
        if !actor.can(Permission::ManageOrg) {
            return Err(AppError::Forbidden);
        }
        match job_store::list(&self.db, Some(FULL_SYNC_KIND), 1)
            .await?
            .first()
        {
            Some(j) => Ok(Some(self.wecom_sync(actor, j.id).await?)),
            None => Ok(None),
        }
    }

    /// A full-sync job and its saved state.
    pub async fn wecom_sync(&self, actor: &Actor, id: i64) -> Result<SyncView> {
        if !actor.can(Permission::ManageOrg) {
            return Err(AppError::Forbidden);
        }
        let job = job_store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("sync job"))?;
        if job.kind != FULL_SYNC_KIND {
            return Err(AppError::NotFound { what: "sync job" });
        }
        let state = store::checkpoint(&self.db, id)
            .await?
            .and_then(|s| serde_json::from_str(&s).ok());
        Ok(SyncView {
            job: job.into(),
            state,
        })
    }

    /// Run (the rest of) a full sync; returns its final state as the job result.
    pub(crate) async fn run_wecom_full_sync(&self, job_id: i64) -> Result<String> {
        let api = self.wecom_api().await?.ok_or(AppError::Rule {
            code: "wecom_not_configured",
            message: "WeCom is not configured any more".into(),
        })?;
        let mut st: SyncState = match store::checkpoint(&self.db, job_id).await? {
            Some(s) => serde_json::from_str(&s)
                .map_err(|e| AppError::Internal(format!("bad sync checkpoint: {e}")))?,
            None => SyncState::default(),
        };
        st.runs += 1;
        self.save_sync(job_id, &st).await?;
        let mut guides: HashMap<String, Option<i64>> = HashMap::new();
        loop {
            match st.phase {
                Phase::Users => {
                    st.users = api.get_follow_user_list().await.map_err(wecom_err)?;
                    st.users.sort();
                    st.users.dedup();
                    st.phase = Phase::Contacts;
                    st.offset = 0;
                    st.cursor.clear();
                }
                Phase::Contacts => {
                    if st.offset >= st.users.len() {
                        st.phase = Phase::Groups;
                        st.offset = 0;
                        st.cursor.clear();
                    } else {
                        let end = (st.offset + USERS_PER_CALL).min(st.users.len());
                        let page = api
                            .batch_get_by_user(&BatchGetByUserRequest {
                                userid_list: st.users[st.offset..end].to_vec(),
                                cursor: st.cursor.clone(),
                                limit: Some(CONTACTS_PER_PAGE),
                            })
                            .await
                            .map_err(wecom_err)?;
                        for entry in &page.external_contact_list {
                            self.sync_contact(entry, &mut guides, &mut st).await?;
                        }
                        if page.next_cursor.is_empty() {
                            st.offset = end;
                            st.cursor.clear();
                        } else {
                            st.cursor = page.next_cursor;
                        }
                    }
                }
                Phase::Groups => {
                    if st.offset >= st.users.len() {
                        st.phase = Phase::Tags;
                        st.offset = 0;
                        st.cursor.clear();
                    } else {
                        let end = (st.offset + OWNERS_PER_CALL).min(st.users.len());
                        self.sync_group_page(&api, end, &mut st).await?;
                    }
                }
                Phase::Tags => {
                    st.tags = Some(self.sync_corp_tags().await?);
                    let map = self.wecom_tag_map().await?;
                    for (customer, ids) in &st.wecom_tags {
                        let n = self.apply_wecom_customer_tags(*customer, ids, &map).await?;
                        st.customer_tags_added += n.added;
                        st.customer_tags_removed += n.removed;
                    }
                    st.wecom_tags.clear();
                    self.segments.catch_up(&self.db, self.now(), 0).await?;
                    st.phase = Phase::Done;
                }
                Phase::Done => {
                    self.save_sync(job_id, &st).await?;
                    return serde_json::to_string(&st)
                        .map_err(|e| AppError::Internal(e.to_string()));
                }
            }
            self.save_sync(job_id, &st).await?;
        }
    }

    async fn sync_group_page(
        &self,
        api: &WecomClient,
        end: usize,
        st: &mut SyncState,
    ) -> Result<()> {
        let page = api
            .groupchat_list(&GroupChatListRequest {
                status_filter: None,
                owner_filter: Some(OwnerFilter {
                    userid_list: st.users[st.offset..end].to_vec(),
                }),
                cursor: st.cursor.clone(),
                limit: GROUPS_PER_PAGE,
            })
            .await
            .map_err(wecom_err)?;
        let now = self.now();
        for g in &page.group_chat_list {
            // Read and write under the same locks as the callback inbox, so neither can land
            // an older snapshot of the group after a newer one.
            let _one_at_a_time = self.wecom_inbox.lock().await;
            let node_lock = yutang_store::wecom::inbox::lock_apply(&self.db).await?;
            let outcome = match api.groupchat_get(&g.chat_id, true).await {
                Ok(chat) => Ok(self.apply_wecom_group(&chat, now).await),
                Err(e) => Err(e),
            };
            node_lock.release().await?;
            match outcome {
                Ok(applied) => {
                    let diff = applied?;
                    st.groups += 1;
                    st.members_joined += diff.joined as u64;
                    st.members_left += diff.left as u64;
                }
                // Dismissed between the list and the read: the dismiss callback handles it.
                Err(e) if e.errcode() == Some(codes::NOT_EXTERNAL_CHAT) => {
                    tracing::info!(chat_id = %g.chat_id, "group gone while syncing");
                }
                Err(e) => return Err(wecom_err(e)),
            }
        }
        if page.next_cursor.is_empty() {
            st.offset = end;
            st.cursor.clear();
        } else {
            st.cursor = page.next_cursor;
        }
        Ok(())
    }

    async fn sync_contact(
        &self,
        entry: &ContactWithFollow,
        guides: &mut HashMap<String, Option<i64>>,
        st: &mut SyncState,
    ) -> Result<()> {
        let c = &entry.external_contact;
        if c.external_userid.is_empty() {
            return Ok(());
        }
        st.contacts += 1;
        let mut identities = vec![Identity::parse("wecom_external", None, &c.external_userid)?];
        if let Some(u) = c.unionid.as_deref().filter(|u| !u.is_empty())
            && let Ok(i) = Identity::parse("unionid", None, u)
        {
            identities.push(i);
        }
        let gender = match c.gender {
            1 => Some(Gender::Male),
            2 => Some(Gender::Female),
            _ => None,
        };
        // A nickname Yutang cannot store (too long, control characters) is left out rather
        // than failing the customer.
        let name = ProfilePatch::parse(Some(c.name.as_str()), None, None, None, None)
            .ok()
            .and_then(|p| p.name);
        let actor = wecom_actor();
        let ingested = self
            .customers()
            .ingest_customer(
                &actor,
                &CustomerInput {
                    identities,
                    profile: ProfilePatch {
                        name,
                        gender,
                        ..ProfilePatch::default()
                    },
                    ..CustomerInput::default()
                },
            )
            .await?;
        if ingested.outcome == "created" {
            st.customers_created += 1;
        }
        let f = &entry.follow_info;
        st.wecom_tags
            .entry(ingested.customer.id)
            .or_default()
            .extend(f.tag_id.iter().cloned());
        let guide = match guides.get(&f.userid) {
            Some(g) => *g,
            None => {
                let g = yutang_store::staff::by_wecom_userid(&self.db, &f.userid)
                    .await?
                    .filter(|s| {
                        matches!(
                            Role::parse("role", &s.role),
                            Ok(Role::Guide | Role::StoreManager)
                        )
                    })
                    .map(|s| s.id);
                guides.insert(f.userid.clone(), g);
                g
            }
        };
        match guide {
            Some(staff) => {
                let remark = yutang_core::customers::parse_remark(&f.remark).ok();
                self.customers()
                    .set_follow(
                        &actor,
                        CustomerId(ingested.customer.id),
                        &FollowChange {
                            staff_id: StaffId(staff),
                            since: Some(f.createtime.saturating_mul(1000)),
                            remark: remark.filter(|r| !r.is_empty()),
                            state: FollowState::Active,
                            owner: None,
                        },
                    )
                    .await?;
                st.follows += 1;
            }
            None => {
                st.unlinked_userids.insert(f.userid.clone());
            }
        }
        Ok(())
    }

    async fn save_sync(&self, job_id: i64, st: &SyncState) -> Result<()> {
        let json = serde_json::to_string(st).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.now();
        store::save_checkpoint(&self.db, job_id, &json, now).await?;
        let (done, total) = st.progress();
        job_store::progress(&self.db, job_id, done, total, now, LEASE_MS).await?;
        Ok(())
    }
}
