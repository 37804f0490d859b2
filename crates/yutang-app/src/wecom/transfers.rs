//! Staff transfers (客户继承): an operator hands a guide's customers (and, for a departed
//! guide, their customer groups) to another guide through WeCom.
//!
//! - **在职继承** (`in_service`): `transfer_customer` (96325) for a guide who stays; WeCom
//!   allows each customer to be transferred at most twice in 90 days.
//! - **离职继承** (`resigned`): `resigned/transfer_customer` (96331) for a guide who left,
//!   and `groupchat/transfer` (92127) for their groups (≤100 per call, ≤300 per person a day).
//! - Groups of a guide who stays go through `groupchat/onjob_transfer` (95703, same limits;
//!   each group at most twice in 90 days).
//!
//! Both move at most [`MAX_TRANSFER_CUSTOMERS`] customers per call; WeCom's answer only says
//! the takeover **started**: the customer can refuse within 24 h, after which the takeover
//! completes. So a transfer is a job (`wecom_transfer`) that sends the pending customers in
//! batches, then polls `transfer_result` (96333); while customers still wait it schedules
//! another poll [`POLL_INTERVAL_MS`] later. `transfer_fail` callbacks mark failures at once.
//!
//! Each customer row goes `pending` → `sending` → `waiting` → `success` | `failed`. A row is
//! marked `sending` before its batch is sent, so a crash mid-call never sends it twice: on the
//! next run, `sending` rows are looked up in `transfer_result` first and only sent again if
//! WeCom has no record of them. On success the follow relation moves: the new guide follows
//! the customer as owner, the old relation becomes `transferred`, and a `follow_changed`
//! event goes on the customer's timeline.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::customers::FollowState;
use yutang_core::ids::{CustomerId, StaffId};
use yutang_core::staff::{Permission, Role};
use yutang_store::events::NewEvent;
use yutang_store::jobs::{self as job_store, NewJob};
use yutang_store::wecom::transfers::{
    self as store, NewTransfer, TransferCustomerLine, TransferCustomerRow, TransferGroupRow,
    TransferRow,
};
use yutang_wecom::client::api::{
    GroupChatTransferRequest, MAX_GROUPCHAT_TRANSFER, MAX_TRANSFER_CUSTOMERS,
    TransferCustomerRequest, TransferResultRequest, TransferStatus,
};

use super::Wecom;
use crate::Actor;
use crate::customers::FollowChange;
use crate::error::{AppError, Result};
use crate::wecom::tags::wecom_err;
use crate::wecom::wecom_actor;

/// Most rows the customer list's 转接 takes at once (a page of the list is at most 100).
const MAX_TICKED: usize = 1000;

/// Who the customer list's ticked rows are handed over from (see [`Wecom::handover_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub guide: i64,
    /// The ticked customers that guide can hand over, by id.
    pub ids: Vec<i64>,
    /// Ticked customers left out: not the guide's active WeCom contacts.
    pub skipped: usize,
}

/// The job kind.
pub const TRANSFER_KIND: &str = "wecom_transfer";

/// The job kinds this area runs (see `crate::job_kinds`).
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(TRANSFER_KIND, |app, job| {
        Box::pin(async move { app.wecom().run_transfer_job(&job.payload).await })
    });
}
/// How long to wait between `transfer_result` polls while customers wait (WeCom completes a
/// takeover 24 h after the call unless the customer refuses).
pub const POLL_INTERVAL_MS: i64 = 60 * 60 * 1000;

/// Which transfer API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    InService,
    Resigned,
}

impl TransferKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferKind::InService => "in_service",
            TransferKind::Resigned => "resigned",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "in_service" => Ok(TransferKind::InService),
            "resigned" => Ok(TransferKind::Resigned),
            _ => Err(FieldError::new(
                "kind",
                "invalid_transfer_kind",
                "kind must be in_service (在职继承) or resigned (离职继承)",
            )
            .into()),
        }
    }
}

/// Which customers or groups to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick<T> {
    All,
    Only(Vec<T>),
    None,
}

/// An operator's transfer request.
#[derive(Debug, Clone)]
pub struct TransferInput {
    pub kind: TransferKind,
    pub handover_staff_id: i64,
    pub takeover_staff_id: i64,
    pub customers: Pick<i64>,
    /// Groups: `groupchat/onjob_transfer` (在职继承) or `groupchat/transfer` (离职继承).
    pub groups: Pick<String>,
    /// Shown to the customers (在职继承 only, ≤200 characters).
    pub message: Option<String>,
}

/// Counts per state.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TransferCounts {
    pub pending: usize,
    pub waiting: usize,
    pub success: usize,
    pub failed: usize,
}

/// A transfer with its customers and groups.
#[derive(Debug, Clone, Serialize)]
pub struct TransferView {
    #[serde(flatten)]
    pub transfer: TransferRow,
    pub customers: TransferCounts,
    pub groups: TransferCounts,
    pub customer_list: Vec<TransferCustomerRow>,
    pub group_list: Vec<TransferGroupRow>,
}

/// A transfer as the console lists it: staff by name and counts by state.
#[derive(Debug, Clone, Serialize)]
pub struct TransferSummary {
    pub transfer: TransferRow,
    pub handover_name: String,
    pub takeover_name: String,
    pub customers: TransferCounts,
    pub groups: TransferCounts,
}

/// A transfer as its console page shows it: the summary, one page of customer rows (with
/// the customers' names) and the groups.
#[derive(Debug, Clone, Serialize)]
pub struct TransferDetail {
    #[serde(flatten)]
    pub summary: TransferSummary,
    /// How many customer rows the chosen state holds (all rows when none is chosen).
    pub matching: usize,
    pub customer_rows: Vec<TransferCustomerLine>,
    pub group_list: Vec<TransferGroupRow>,
}

/// A customer row's state as a filter: `pending` includes the rows being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    Pending,
    Waiting,
    Success,
    Failed,
}

impl RowState {
    pub const ALL: [RowState; 4] = [
        RowState::Success,
        RowState::Waiting,
        RowState::Pending,
        RowState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RowState::Pending => "pending",
            RowState::Waiting => "waiting",
            RowState::Success => "success",
            RowState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "state",
                    "invalid_query",
                    "state must be pending, waiting, success or failed",
                )
                .into()
            })
    }

    /// This state's count.
    pub fn of(self, c: &TransferCounts) -> usize {
        match self {
            RowState::Pending => c.pending,
            RowState::Waiting => c.waiting,
            RowState::Success => c.success,
            RowState::Failed => c.failed,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct JobPayload {
    transfer_id: i64,
    round: i64,
}

/// The job that runs one round of a transfer; its key makes it one job per round.
struct RoundJob {
    payload: String,
    key: String,
}

impl RoundJob {
    fn new(transfer_id: i64, round: i64) -> Result<Self> {
        Ok(Self {
            payload: serde_json::to_string(&JobPayload { transfer_id, round })
                .map_err(|e| AppError::Internal(e.to_string()))?,
            key: format!("{TRANSFER_KIND}:{transfer_id}:{round}"),
        })
    }

    fn job(&self, run_at: i64) -> NewJob<'_> {
        NewJob {
            kind: TRANSFER_KIND,
            payload: &self.payload,
            run_at,
            idempotency_key: Some(&self.key),
            created_by: None,
        }
    }
}

fn count<'a>(states: impl Iterator<Item = &'a str>) -> TransferCounts {
    let mut c = TransferCounts::default();
    for s in states {
        match s {
            "success" => c.success += 1,
            "failed" => c.failed += 1,
            "waiting" => c.waiting += 1,
            _ => c.pending += 1,
        }
    }
    c
}

/// Counts from `(status, count)` rows.
fn count_rows(rows: Vec<(String, i64)>) -> TransferCounts {
    let mut c = TransferCounts::default();
    for (status, n) in rows {
        let n = usize::try_from(n).unwrap_or(0);
        match status.as_str() {
            "success" => c.success += n,
            "failed" => c.failed += n,
            "waiting" => c.waiting += n,
            _ => c.pending += n,
        }
    }
    c
}

/// Why WeCom refused a customer, in words (96333 statuses; global codes otherwise).
fn status_reason(status: TransferStatus) -> &'static str {
    match status {
        TransferStatus::Refused => "customer_refused",
        TransferStatus::TakerAtLimit => "customer_limit_exceed",
        _ => "unknown",
    }
}

/// The fingerprint of a transfer request as sent.
fn transfer_fingerprint(input: &TransferInput) -> String {
    fn pick<T: Serialize>(p: &Pick<T>) -> String {
        match p {
            Pick::All => "all".into(),
            Pick::None => "none".into(),
            Pick::Only(v) => serde_json::to_string(v).unwrap_or_default(),
        }
    }
    crate::idempotency::fingerprint(&[
        TRANSFER_KIND,
        input.kind.as_str(),
        &input.handover_staff_id.to_string(),
        &input.takeover_staff_id.to_string(),
        &pick(&input.customers),
        &pick(&input.groups),
        input.message.as_deref().unwrap_or(""),
    ])
}

impl Wecom<'_> {
    /// The transfer a client's (namespaced) key started, if any; another request under the key
    /// is refused (`idempotency_key_reused`).
    async fn transfer_replay(&self, key: Option<&str>, fingerprint: &str) -> Result<Option<i64>> {
        let Some(k) = key else { return Ok(None) };
        match store::by_key_fingerprint(&self.db, k).await? {
            Some((id, stored)) => {
                crate::idempotency::check_replay(&stored, fingerprint)?;
                Ok(Some(id))
            }
            None => Ok(None),
        }
    }

    /// The guide the customer list's ticked rows are handed over from, so 转接 can open the
    /// transfer form with that guide and those customers filled in: `guide` when the list was
    /// filtered by one, else the rows' one owning guide. Rows that are not that guide's active
    /// WeCom contacts (a customer the guide serves in store only) are left out and counted, so
    /// the form can say so. Refused as a whole when a row is outside the caller's scope, when no
    /// row can be transferred, or (unfiltered) when the rows belong to several guides — a
    /// transfer hands over from one guide.
    pub async fn handover_of(
        &self,
        actor: &Actor,
        ids: &[i64],
        guide: Option<i64>,
    ) -> Result<Handover> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        if ids.len() > MAX_TICKED {
            return Err(FieldError::new(
                "ids",
                "invalid_ids",
                format!("tick at most {MAX_TICKED} customers"),
            )
            .into());
        }
        let ids = self.tags().resolve_ids_in_scope(actor, ids).await?;
        let owners: Vec<(i64, i64)> = match guide {
            Some(g) => store::followed_wecom_customers(&self.db, g)
                .await?
                .into_iter()
                .filter(|(c, _)| ids.contains(c))
                .map(|(c, _)| (c, g))
                .collect(),
            None => store::wecom_owners(&self.db, &ids).await?,
        };
        let mut guides: Vec<i64> = owners.iter().map(|(_, s)| *s).collect();
        guides.sort_unstable();
        guides.dedup();
        let guide = match guides.as_slice() {
            [one] => *one,
            [] => {
                return Err(FieldError::new(
                    "ids",
                    "not_a_wecom_contact",
                    "no ticked customer is an active WeCom contact of the guide",
                )
                .into());
            }
            _ => {
                return Err(FieldError::new(
                    "ids",
                    "several_owners",
                    format!(
                        "the ticked customers belong to {} guides; filter the list by one guide first",
                        guides.len()
                    ),
                )
                .into());
            }
        };
        let transferable: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| owners.iter().any(|(c, _)| c == id))
            .collect();
        Ok(Handover {
            guide,
            skipped: ids.len() - transferable.len(),
            ids: transferable,
        })
    }

    /// Start a transfer (HQ operators and admins). An idempotency key replays the transfer it
    /// started.
    pub async fn start_transfer(
        &self,
        actor: &Actor,
        input: &TransferInput,
        idempotency_key: Option<&str>,
    ) -> Result<TransferView> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        // A retry under the same key is the transfer it started (another body: 422).
        let key = match idempotency_key {
            Some(k) => Some(format!(
                "{}:{}",
                actor.name,
                crate::idempotency::parse_idempotency_key(k)?
            )),
            None => None,
        };
        let fp = transfer_fingerprint(input);
        if let Some(id) = self.transfer_replay(key.as_deref(), &fp).await? {
            return self.transfer(actor, id).await;
        }
        if self.wecom_api().await?.is_none() {
            return Err(AppError::Rule {
                code: "wecom_not_configured",
                message: "set the WeCom corp id and customer-contact secret first".into(),
            });
        }
        if input.handover_staff_id == input.takeover_staff_id {
            return Err(FieldError::new(
                "takeover_staff_id",
                "same_staff",
                "the receiving guide must differ from the departing one",
            )
            .into());
        }
        let staff = |field: &'static str, id: i64| async move {
            let s = yutang_store::staff::get(&self.db, id)
                .await
                .map_err(|_| FieldError::new(field, "unknown_staff", "no such staff member"))?;
            let userid = s
                .wecom_userid
                .clone()
                .filter(|u| !u.is_empty())
                .ok_or_else(|| {
                    FieldError::new(
                        field,
                        "no_wecom_userid",
                        "link this staff member to their WeCom userid first",
                    )
                })?;
            Ok::<_, AppError>((s, userid))
        };
        let (_, handover_userid) = staff("handover_staff_id", input.handover_staff_id).await?;
        let (taker, takeover_userid) = staff("takeover_staff_id", input.takeover_staff_id).await?;
        if !matches!(
            Role::parse("role", &taker.role),
            Ok(Role::Guide | Role::StoreManager)
        ) || taker.status != "active"
        {
            return Err(FieldError::new(
                "takeover_staff_id",
                "not_a_guide",
                "the receiving staff member must be an active guide or store manager",
            )
            .into());
        }
        let message = input
            .message
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty());
        if let Some(m) = message {
            if input.kind == TransferKind::Resigned {
                return Err(FieldError::new(
                    "message",
                    "message_not_supported",
                    "WeCom shows a message only for in-service transfers",
                )
                .into());
            }
            if m.chars().count() > 200 {
                return Err(FieldError::new(
                    "message",
                    "message_too_long",
                    "the message is at most 200 characters",
                )
                .into());
            }
        }
        let followed = store::followed_wecom_customers(&self.db, input.handover_staff_id).await?;
        let customers: Vec<(i64, String)> = match &input.customers {
            Pick::All => followed,
            Pick::None => Vec::new(),
            Pick::Only(ids) => {
                let by_id: HashMap<i64, String> = followed.into_iter().collect();
                let mut out = Vec::new();
                for id in ids {
                    let live = yutang_store::customers::resolve(&self.db, *id)
                        .await?
                        .unwrap_or(*id);
                    let ext = by_id.get(&live).ok_or_else(|| {
                        FieldError::new(
                            "customer_ids",
                            "not_transferable",
                            format!(
                                "customer {id} is not an active WeCom contact of the departing guide"
                            ),
                        )
                    })?;
                    if !out.iter().any(|(c, _)| *c == live) {
                        out.push((live, ext.clone()));
                    }
                }
                out
            }
        };
        let groups: Vec<String> = match (&input.groups, input.kind) {
            (Pick::None, _) => Vec::new(),
            (Pick::All, _) => store::owned_groups(&self.db, input.handover_staff_id).await?,
            (Pick::Only(ids), _) => {
                let owned = store::owned_groups(&self.db, input.handover_staff_id).await?;
                if let Some(bad) = ids.iter().find(|c| !owned.contains(c)) {
                    return Err(FieldError::new(
                        "chat_ids",
                        "not_transferable",
                        format!("group {bad} is not a live group of the departing guide"),
                    )
                    .into());
                }
                let mut v = ids.clone();
                v.sort();
                v.dedup();
                v
            }
        };
        if customers.is_empty() && groups.is_empty() {
            return Err(FieldError::new(
                "customer_ids",
                "nothing_to_transfer",
                "the departing guide has no WeCom customers or groups to transfer",
            )
            .into());
        }
        let now = self.now();
        // The transfer, its first round's job and its audit entry commit together.
        let mut tx = self.db.begin().await?;
        let id = store::create_in(
            &mut tx,
            &NewTransfer {
                kind: input.kind.as_str(),
                handover_staff_id: input.handover_staff_id,
                takeover_staff_id: input.takeover_staff_id,
                handover_userid: &handover_userid,
                takeover_userid: &takeover_userid,
                message: message.unwrap_or(""),
                idempotency_key: key.as_deref(),
                fingerprint: &fp,
                created_by: &actor.name,
            },
            &customers,
            &groups,
            now,
        )
        .await;
        let id = match id {
            // A concurrent request with the same key won.
            Err(yutang_store::StoreError::Conflict { .. }) if key.is_some() => {
                drop(tx);
                let id = self
                    .transfer_replay(key.as_deref(), &fp)
                    .await?
                    .ok_or_else(crate::idempotency::in_progress)?;
                return self.transfer(actor, id).await;
            }
            r => r?,
        };
        job_store::enqueue_in(&mut tx, &RoundJob::new(id, 0)?.job(now), now).await?;
        crate::audit::record_in(
            self,
            &mut tx,
            actor,
            crate::audit::Action::WecomTransferStarted,
            &format!("transfer:{id}"),
            &serde_json::json!({
                "kind": input.kind.as_str(),
                "handover": input.handover_staff_id,
                "takeover": input.takeover_staff_id,
                "customers": customers.len(),
                "groups": groups.len(),
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        self.transfer(actor, id).await
    }

    /// Queue a later round of a transfer (a round queued twice is one job: its key).
    async fn enqueue_transfer_round(&self, id: i64, round: i64, run_at: i64) -> Result<()> {
        let job = RoundJob::new(id, round)?;
        job_store::enqueue(&self.db, &job.job(run_at), self.now()).await?;
        Ok(())
    }

    /// A transfer with every customer's and group's state.
    pub async fn transfer(&self, actor: &Actor, id: i64) -> Result<TransferView> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let transfer = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("transfer"))?;
        let customer_list = store::customers(&self.db, id).await?;
        let group_list = store::groups(&self.db, id).await?;
        Ok(TransferView {
            transfer,
            customers: count(customer_list.iter().map(|c| c.status.as_str())),
            groups: count(group_list.iter().map(|g| g.status.as_str())),
            customer_list,
            group_list,
        })
    }

    /// A transfer's summary: staff names (the userid when the staff row is gone) and counts
    /// by state, counted by the database.
    async fn transfer_summary(
        &self,
        transfer: TransferRow,
        names: &mut HashMap<i64, String>,
    ) -> Result<TransferSummary> {
        let handover_name = self
            .staff_name(names, transfer.handover_staff_id, &transfer.handover_userid)
            .await;
        let takeover_name = self
            .staff_name(names, transfer.takeover_staff_id, &transfer.takeover_userid)
            .await;
        Ok(TransferSummary {
            customers: count_rows(store::customer_counts(&self.db, transfer.id).await?),
            groups: count_rows(store::group_counts(&self.db, transfer.id).await?),
            handover_name,
            takeover_name,
            transfer,
        })
    }

    /// A staff member's display name (the WeCom userid when the row is gone), remembered in
    /// `names`.
    async fn staff_name(&self, names: &mut HashMap<i64, String>, id: i64, userid: &str) -> String {
        if let Some(n) = names.get(&id) {
            return n.clone();
        }
        let n = match yutang_store::staff::get(&self.db, id).await {
            Ok(s) if !s.display_name.is_empty() => s.display_name,
            _ => userid.to_owned(),
        };
        names.insert(id, n.clone());
        n
    }

    /// The latest transfers with staff names and counts (the console's list).
    pub async fn transfer_summaries(&self, actor: &Actor) -> Result<Vec<TransferSummary>> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let mut names = HashMap::new();
        let mut out = Vec::new();
        for t in store::list(&self.db, 50).await? {
            out.push(self.transfer_summary(t, &mut names).await?);
        }
        Ok(out)
    }

    /// One page (`limit` rows from `offset`) of a transfer's customers, optionally only those
    /// in `state`, with the summary and the groups.
    pub async fn transfer_detail(
        &self,
        actor: &Actor,
        id: i64,
        state: Option<RowState>,
        limit: i64,
        offset: i64,
    ) -> Result<TransferDetail> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let transfer = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("transfer"))?;
        let summary = self.transfer_summary(transfer, &mut HashMap::new()).await?;
        let c = &summary.customers;
        let matching = match state {
            Some(s) => s.of(c),
            None => c.pending + c.waiting + c.success + c.failed,
        };
        let customer_rows = store::customer_page(
            &self.db,
            id,
            state.map(RowState::as_str),
            limit.clamp(1, 500),
            offset.max(0),
        )
        .await?;
        Ok(TransferDetail {
            summary,
            matching,
            customer_rows,
            group_list: store::groups(&self.db, id).await?,
        })
    }

    /// Staff members linked to WeCom (who can hand over or take over customers).
    pub async fn wecom_linked_staff(
        &self,
        actor: &Actor,
    ) -> Result<Vec<yutang_store::staff::StaffRow>> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        Ok(yutang_store::staff::wecom_linked(&self.db).await?)
    }

    /// The latest transfers.
    pub async fn transfers(&self, actor: &Actor) -> Result<Vec<TransferView>> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let mut out = Vec::new();
        for t in store::list(&self.db, 50).await? {
            out.push(self.transfer(actor, t.id).await?);
        }
        Ok(out)
    }

    /// Ask WeCom for the transfer's results now (the job also polls on its own).
    pub async fn refresh_transfer(&self, actor: &Actor, id: i64) -> Result<TransferView> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        let t = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("transfer"))?;
        self.poll_transfer(&t).await?;
        self.transfer(actor, id).await
    }

    /// The `wecom_transfer` job: send what is pending, poll, and schedule the next poll while
    /// customers wait.
    pub(crate) async fn run_transfer_job(&self, payload: &str) -> Result<String> {
        let p: JobPayload = serde_json::from_str(payload)
            .map_err(|e| AppError::Internal(format!("bad transfer job payload: {e}")))?;
        let t = store::get(&self.db, p.transfer_id).await?;
        if t.status == "done" {
            return Ok(serde_json::json!({"transfer_id": t.id, "status": "done"}).to_string());
        }
        // Rows a crashed run left `sending`: WeCom may have them already; ask first.
        if store::customers(&self.db, t.id)
            .await?
            .iter()
            .any(|c| c.status == "sending")
        {
            self.poll_transfer(&t).await?;
        }
        self.send_pending_customers(&t).await?;
        self.send_pending_groups(&t).await?;
        let left = self.poll_transfer(&t).await?;
        if left > 0 {
            self.enqueue_transfer_round(t.id, p.round + 1, self.now() + POLL_INTERVAL_MS)
                .await?;
        }
        Ok(serde_json::json!({"transfer_id": t.id, "waiting": left}).to_string())
    }

    async fn send_pending_customers(&self, t: &TransferRow) -> Result<()> {
        let api = self.wecom_api().await?.ok_or(AppError::Rule {
            code: "wecom_not_configured",
            message: "WeCom is not configured any more".into(),
        })?;
        let pending: Vec<TransferCustomerRow> = store::customers(&self.db, t.id)
            .await?
            .into_iter()
            .filter(|c| c.status == "pending")
            .collect();
        for batch in pending.chunks(MAX_TRANSFER_CUSTOMERS) {
            let ids: Vec<i64> = batch.iter().map(|c| c.id).collect();
            store::set_customer(
                &self.db,
                &ids,
                &["pending"],
                "sending",
                0,
                "",
                None,
                self.now(),
            )
            .await?;
            let request = TransferCustomerRequest {
                handover_userid: t.handover_userid.clone(),
                takeover_userid: t.takeover_userid.clone(),
                external_userid: batch.iter().map(|c| c.external_userid.clone()).collect(),
                transfer_success_msg: (t.kind == TransferKind::InService.as_str()
                    && !t.message.is_empty())
                .then(|| t.message.clone()),
            };
            let answer = if t.kind == TransferKind::Resigned.as_str() {
                api.resigned_transfer_customer(&request).await
            } else {
                api.transfer_customer(&request).await
            };
            let results = match answer {
                Ok(r) => r,
                Err(e) => {
                    // The whole call failed: nothing was started, the batch can go again.
                    store::set_customer(
                        &self.db,
                        &ids,
                        &["sending"],
                        "pending",
                        0,
                        "",
                        None,
                        self.now(),
                    )
                    .await?;
                    return Err(wecom_err(e));
                }
            };
            let by_ext: HashMap<&str, i64> = results
                .iter()
                .map(|r| (r.external_userid.as_str(), r.errcode))
                .collect();
            let now = self.now();
            for c in batch {
                match by_ext.get(c.external_userid.as_str()) {
                    Some(0) => {
                        store::set_customer(
                            &self.db,
                            &[c.id],
                            &["sending"],
                            "waiting",
                            0,
                            "",
                            None,
                            now,
                        )
                        .await?;
                    }
                    Some(code) => {
                        store::set_customer(
                            &self.db,
                            &[c.id],
                            &["sending"],
                            "failed",
                            *code,
                            "wecom_refused",
                            None,
                            now,
                        )
                        .await?;
                    }
                    // Not in the answer: the poll finds out.
                    None => {}
                }
            }
        }
        Ok(())
    }

    async fn send_pending_groups(&self, t: &TransferRow) -> Result<()> {
        let api = self.wecom_api().await?.ok_or(AppError::Rule {
            code: "wecom_not_configured",
            message: "WeCom is not configured any more".into(),
        })?;
        let pending: Vec<TransferGroupRow> = store::groups(&self.db, t.id)
            .await?
            .into_iter()
            .filter(|g| g.status == "pending")
            .collect();
        let in_service = t.kind == TransferKind::InService.as_str();
        for batch in pending.chunks(MAX_GROUPCHAT_TRANSFER) {
            let request = GroupChatTransferRequest {
                chat_id_list: batch.iter().map(|g| g.chat_id.clone()).collect(),
                new_owner: t.takeover_userid.clone(),
            };
            let failed = if in_service {
                api.groupchat_onjob_transfer(&request).await
            } else {
                api.groupchat_transfer(&request).await
            }
            .map_err(wecom_err)?;
            let now = self.now();
            for g in batch {
                match failed.iter().find(|f| f.chat_id == g.chat_id) {
                    Some(f) => {
                        store::set_group(&self.db, g.id, "failed", f.errcode, &f.errmsg, now)
                            .await?;
                    }
                    None => {
                        // API writes produce no callback: move the owner here, then record
                        // the row as done (in this order, so `success` implies the owner).
                        store::set_group_owner(
                            &self.db,
                            &g.chat_id,
                            &t.takeover_userid,
                            t.takeover_staff_id,
                            now,
                        )
                        .await?;
                        store::set_group(&self.db, g.id, "success", 0, "", now).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Read `transfer_result` and settle what it reports; returns how many customers still
    /// wait (or are pending).
    async fn poll_transfer(&self, t: &TransferRow) -> Result<usize> {
        let api = self.wecom_api().await?.ok_or(AppError::Rule {
            code: "wecom_not_configured",
            message: "WeCom is not configured any more".into(),
        })?;
        let rows = store::customers(&self.db, t.id).await?;
        if rows
            .iter()
            .any(|c| c.status == "waiting" || c.status == "sending")
        {
            let mut seen: HashMap<String, (TransferStatus, i64)> = HashMap::new();
            let mut cursor = String::new();
            loop {
                let request = TransferResultRequest {
                    handover_userid: t.handover_userid.clone(),
                    takeover_userid: t.takeover_userid.clone(),
                    cursor: cursor.clone(),
                };
                let page = if t.kind == TransferKind::Resigned.as_str() {
                    api.resigned_transfer_result(&request).await
                } else {
                    api.transfer_result(&request).await
                }
                .map_err(wecom_err)?;
                for c in page.customer {
                    seen.insert(
                        c.external_userid.clone(),
                        (c.status(), c.takeover_time.saturating_mul(1000)),
                    );
                }
                if page.next_cursor.is_empty() || page.next_cursor == cursor {
                    break;
                }
                cursor = page.next_cursor;
            }
            let now = self.now();
            for c in rows
                .iter()
                .filter(|c| c.status == "waiting" || c.status == "sending")
            {
                match seen.get(&c.external_userid) {
                    Some((TransferStatus::Completed, at)) => {
                        let moved = store::set_customer(
                            &self.db,
                            &[c.id],
                            &["waiting", "sending"],
                            "success",
                            0,
                            "",
                            Some(*at),
                            now,
                        )
                        .await?;
                        if moved > 0 {
                            self.move_follow(t, c, *at).await?;
                        }
                    }
                    Some((TransferStatus::Waiting, at)) => {
                        store::set_customer(
                            &self.db,
                            &[c.id],
                            &["sending"],
                            "waiting",
                            0,
                            "",
                            Some(*at),
                            now,
                        )
                        .await?;
                    }
                    Some((status, _)) => {
                        let code = match status {
                            TransferStatus::Refused => 3,
                            TransferStatus::TakerAtLimit => 4,
                            TransferStatus::Other(n) => *n,
                            _ => 0,
                        };
                        store::set_customer(
                            &self.db,
                            &[c.id],
                            &["waiting", "sending"],
                            "failed",
                            code,
                            status_reason(*status),
                            None,
                            now,
                        )
                        .await?;
                    }
                    // WeCom has no record of a row sent by a run that died mid-call: send it
                    // again on the next run.
                    None if c.status == "sending" => {
                        store::set_customer(
                            &self.db,
                            &[c.id],
                            &["sending"],
                            "pending",
                            0,
                            "",
                            None,
                            now,
                        )
                        .await?;
                    }
                    None => {}
                }
            }
        }
        let rows = store::customers(&self.db, t.id).await?;
        let groups = store::groups(&self.db, t.id).await?;
        let left = rows
            .iter()
            .filter(|c| c.status != "success" && c.status != "failed")
            .count();
        let groups_left = groups.iter().filter(|g| g.status == "pending").count();
        if left == 0 && groups_left == 0 && t.status != "done" {
            store::set_status(&self.db, t.id, "done", self.now()).await?;
        }
        Ok(left + groups_left)
    }

    /// The takeover completed: the new guide owns the customer, the old relation is marked
    /// transferred, and the timeline says so (once: keyed by the transfer row).
    async fn move_follow(&self, t: &TransferRow, c: &TransferCustomerRow, at: i64) -> Result<()> {
        let actor = wecom_actor();
        let customer = yutang_store::customers::resolve(&self.db, c.customer_id)
            .await?
            .unwrap_or(c.customer_id);
        let since = if at > 0 { at } else { self.now() };
        self.customers()
            .set_follow(
                &actor,
                CustomerId(customer),
                &FollowChange {
                    staff_id: StaffId(t.takeover_staff_id),
                    since: Some(since),
                    remark: None,
                    state: FollowState::Active,
                    owner: Some(true),
                },
            )
            .await?;
        let handover_is_guide = yutang_store::staff::get(&self.db, t.handover_staff_id)
            .await
            .ok()
            .is_some_and(|s| {
                matches!(
                    Role::parse("role", &s.role),
                    Ok(Role::Guide | Role::StoreManager)
                )
            });
        if handover_is_guide {
            self.customers()
                .set_follow(
                    &actor,
                    CustomerId(customer),
                    &FollowChange {
                        staff_id: StaffId(t.handover_staff_id),
                        since: None,
                        remark: None,
                        state: FollowState::Transferred,
                        owner: Some(false),
                    },
                )
                .await?;
        }
        let client_id = format!("wecom:transfer:{}", c.id);
        let detail = serde_json::json!({
            "source": "wecom",
            "transfer_id": t.id,
            "kind": t.kind,
            "from_staff_id": t.handover_staff_id,
            "to_staff_id": t.takeover_staff_id,
        })
        .to_string();
        yutang_store::events::insert_batch(
            &self.db,
            &[NewEvent {
                customer_id: customer,
                kind: "follow_changed",
                client_id: &client_id,
                occurred_at: since,
                staff_id: Some(t.takeover_staff_id),
                detail: &detail,
            }],
            self.now(),
        )
        .await?;
        Ok(())
    }

    /// A `transfer_fail` callback: the customer refused, or the taker is at their limit.
    pub(crate) async fn apply_transfer_fail(
        &self,
        takeover_userid: &str,
        external_userid: &str,
        reason: Option<&str>,
    ) -> Result<usize> {
        let rows = store::waiting_for(&self.db, takeover_userid, external_userid).await?;
        let reason = reason.unwrap_or("transfer_fail");
        let code = match reason {
            "customer_refused" => 3,
            "customer_limit_exceed" => 4,
            _ => 0,
        };
        let now = self.now();
        for r in &rows {
            store::set_customer(
                &self.db,
                &[r.id],
                &["waiting", "sending"],
                "failed",
                code,
                reason,
                None,
                now,
            )
            .await?;
            // The transfer may now be complete.
            let t = store::get(&self.db, r.transfer_id).await?;
            let open = store::customers(&self.db, t.id)
                .await?
                .iter()
                .any(|c| c.status != "success" && c.status != "failed")
                || store::groups(&self.db, t.id)
                    .await?
                    .iter()
                    .any(|g| g.status == "pending");
            if !open {
                store::set_status(&self.db, t.id, "done", now).await?;
            }
        }
        Ok(rows.len())
    }
}
