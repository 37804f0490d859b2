//! The WeCom callback inbox seen from outside: the callbacks by state (pending, failed,
//! parked) with a replay, the WeCom side jobs that failed for good with a retry, and the
//! `wecom_contact_details` job that reads what a contact callback does not carry.
//!
//! A contact callback is applied in one transaction (customer, identity, follow, timeline
//! event, and this job queued), so a WeCom outage neither blocks nor undoes it; the job then
//! reads the contact from WeCom, retried on its own, and fills in the details and tags.

use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::customers::{Gender, ProfilePatch};
use yutang_core::identity::Identity;
use yutang_core::staff::Permission;
use yutang_store::wecom::inbox::{self as store, InboxStats, InboxStatus};

use super::Wecom;
use crate::Actor;
use crate::audit::{self, Action};
use crate::customers::CustomerInput;
use crate::error::{AppError, Result};
use crate::jobs::JobView;
use crate::wecom::tags::MARK_TAG_KIND;
use crate::wecom::{CONTACT_DETAILS_KIND, MAX_ATTEMPTS, ProcessReport, wecom_actor};

/// The WeCom side jobs whose permanent failures are listed and can be retried.
pub const SIDE_JOB_KINDS: [&str; 2] = [CONTACT_DETAILS_KIND, MARK_TAG_KIND];

/// The job kinds this area runs (see `crate::job_kinds`): the contact-details side job
/// (`wecom_mark_tag` is registered by `wecom_tags`).
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    reg.register(CONTACT_DETAILS_KIND, |app, job| {
        Box::pin(async move { app.wecom().run_contact_details_job(&job.payload).await })
    });
}

/// A `wecom_contact_details` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ContactDetailsJob {
    external_userid: String,
    /// The staff member of the callback (for the log).
    #[serde(default)]
    userid: String,
}

/// One callback as the callbacks view shows it (the payload stays in the database).
#[derive(Debug, Clone, Serialize)]
pub struct CallbackView {
    pub id: i64,
    pub event: String,
    pub change_type: String,
    /// `pending`, `failed`, `parked` or `processed`.
    pub status: &'static str,
    pub attempts: i64,
    /// The last error (or, for a processed callback, why it was only kept).
    pub error: String,
    pub received_at: i64,
    pub processed_at: Option<i64>,
}

impl CallbackView {
    fn of(r: store::InboxRow) -> Self {
        Self {
            status: InboxStatus::of(&r, MAX_ATTEMPTS).as_str(),
            id: r.id,
            event: r.event,
            change_type: r.change_type,
            attempts: r.attempts,
            error: r.last_error,
            received_at: r.received_at,
            processed_at: r.processed_at,
        }
    }
}

/// A page of callbacks with the counts per state.
#[derive(Debug, Clone, Serialize)]
pub struct CallbackList {
    pub counts: InboxStats,
    pub items: Vec<CallbackView>,
    /// How many callbacks the filter matches.
    pub total: i64,
}

fn require_operator(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManageOrg) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

impl Wecom<'_> {
    /// Callbacks in a state (`pending`, `failed`, `parked`, `processed`; all when `None`),
    /// newest first, with the counts (admins and operators).
    pub async fn wecom_callbacks(
        &self,
        actor: &Actor,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<CallbackList> {
        require_operator(actor)?;
        let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(InboxStatus::parse(s).ok_or_else(|| {
                FieldError::new(
                    "status",
                    "invalid_status",
                    "status is pending, failed, parked or processed",
                )
            })?),
        };
        let (rows, total) = store::list(
            &self.db,
            status,
            MAX_ATTEMPTS,
            limit.clamp(1, 200),
            offset.max(0),
        )
        .await?;
        Ok(CallbackList {
            counts: store::stats(&self.db, MAX_ATTEMPTS).await?,
            items: rows.into_iter().map(CallbackView::of).collect(),
            total,
        })
    }

    /// Counts of callbacks per state (for the metrics gauge).
    pub async fn wecom_inbox_stats(&self) -> Result<InboxStats> {
        Ok(store::stats(&self.db, MAX_ATTEMPTS).await?)
    }

    /// Replay a callback that was not applied (parked, failed or pending): its attempts start
    /// over and it is applied now. Applying is idempotent, so a replay never doubles
    /// anything. A callback applied already is refused (409).
    pub async fn replay_wecom_callback(&self, actor: &Actor, id: i64) -> Result<CallbackView> {
        require_operator(actor)?;
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("callback"))?;
        // The reset and its audit entry commit together.
        let mut tx = self.db.begin().await?;
        if row.processed_at.is_some() || !store::reset_attempts_in(&mut tx, id).await? {
            return Err(AppError::Conflict {
                what: "callback",
                code: "callback_already_applied",
            });
        }
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::WecomCallbackReplayed,
            &format!("wecom_callback:{id}"),
            &serde_json::json!({
                "event": row.event, "change_type": row.change_type,
                "attempts": row.attempts, "error": row.last_error,
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        let ProcessReport { failed, .. } = self.apply_wecom_inbox_row(id).await?;
        if failed > 0 {
            tracing::warn!(inbox_id = id, "replayed WeCom callback failed again");
        }
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("callback"))?;
        Ok(CallbackView::of(row))
    }

    /// WeCom side jobs (contact details, mark_tag) that failed for good, newest first.
    pub async fn wecom_failed_jobs(&self, actor: &Actor, limit: i64) -> Result<Vec<JobView>> {
        require_operator(actor)?;
        Ok(
            store::failed_jobs(&self.db, &SIDE_JOB_KINDS, limit.clamp(1, 200))
                .await?
                .into_iter()
                .map(JobView::from)
                .collect(),
        )
    }

    /// Queue a failed WeCom side job again with fresh attempts.
    pub async fn retry_wecom_job(&self, actor: &Actor, id: i64) -> Result<JobView> {
        require_operator(actor)?;
        let job = yutang_store::jobs::get(&self.db, id)
            .await
            .map_err(AppError::not_found("job"))?;
        if !SIDE_JOB_KINDS.contains(&job.kind.as_str()) {
            return Err(AppError::NotFound { what: "job" });
        }
        // The retry and its audit entry commit together.
        let mut tx = self.db.begin().await?;
        if !store::retry_failed_job_in(&mut tx, id, &SIDE_JOB_KINDS, self.now()).await? {
            return Err(AppError::Conflict {
                what: "job",
                code: "job_not_failed",
            });
        }
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::WecomJobRetried,
            &format!("job:{id}"),
            &serde_json::json!({"kind": job.kind, "error": job.last_error}).to_string(),
        )
        .await?;
        tx.commit().await?;
        let job = yutang_store::jobs::get(&self.db, id)
            .await
            .map_err(AppError::not_found("job"))?;
        Ok(job.into())
    }

    /// Run a `wecom_contact_details` job: read the contact from WeCom, fill in the name and
    /// gender Yutang does not have yet and the unionid, and apply the corp tags. A WeCom
    /// error fails the attempt (the runner retries with backoff).
    pub(crate) async fn run_contact_details_job(&self, payload: &str) -> Result<String> {
        let job: ContactDetailsJob = serde_json::from_str(payload)
            .map_err(|e| AppError::Internal(format!("bad job payload: {e}")))?;
        let Some(api) = self.wecom_api().await? else {
            return Ok(serde_json::json!({"skipped": "wecom_not_configured"}).to_string());
        };
        let identity = Identity::parse("wecom_external", None, &job.external_userid)?;
        let Some(customer) = yutang_store::customers::find_by_identity(&self.db, &identity).await?
        else {
            return Ok(serde_json::json!({"skipped": "unknown_customer"}).to_string());
        };
        let Some(customer) = yutang_store::customers::resolve(&self.db, customer).await? else {
            return Ok(serde_json::json!({"skipped": "unknown_customer"}).to_string());
        };
        let Some((contact, tag_ids)) = self.read_wecom_contact(&api, &job.external_userid).await?
        else {
            tracing::info!(external_userid = %job.external_userid, userid = %job.userid, "WeCom no longer knows this contact");
            return Ok(serde_json::json!({"skipped": "unknown_to_wecom"}).to_string());
        };
        let current = yutang_store::customers::get(
            &self.db,
            customer,
            yutang_store::customers::Scope::default(),
        )
        .await
        .map_err(AppError::not_found("customer"))?;
        let mut identities = vec![identity];
        if let Some(u) = contact.unionid.as_deref().filter(|u| !u.is_empty())
            && let Ok(i) = Identity::parse("unionid", None, u)
        {
            identities.push(i);
        }
        // Fill in, never overwrite: staff may have corrected the name in Yutang.
        let name = ProfilePatch::parse(Some(contact.name.as_str()), None, None, None, None)
            .ok()
            .and_then(|p| p.name)
            .filter(|_| current.name.is_empty());
        let gender = match contact.gender {
            1 => Some(Gender::Male),
            2 => Some(Gender::Female),
            _ => None,
        }
        .filter(|_| {
            Gender::parse("gender", &current.gender).unwrap_or_default() == Gender::default()
        });
        let profile = ProfilePatch {
            name,
            gender,
            ..ProfilePatch::default()
        };
        let input = CustomerInput {
            identities,
            profile: profile.clone(),
            ..CustomerInput::default()
        };
        let actor = wecom_actor();
        let ingested = match self.customers().ingest_customer(&actor, &input).await {
            Ok(i) => i,
            // The unionid belongs to a customer Yutang cannot merge with this one (two
            // different identities of a kind): keep the details, leave the unionid out.
            Err(AppError::Rule { code, message }) if input.identities.len() > 1 => {
                tracing::warn!(customer, code, %message, "WeCom unionid not attached");
                self.customers()
                    .ingest_customer(
                        &actor,
                        &CustomerInput {
                            identities: input.identities[..1].to_vec(),
                            profile,
                            ..CustomerInput::default()
                        },
                    )
                    .await?
            }
            Err(e) => return Err(e),
        };
        let tags = self
            .apply_read_wecom_tags(ingested.customer.id, &tag_ids)
            .await?;
        Ok(serde_json::json!({
            "customer_id": ingested.customer.id,
            "tags_added": tags.added,
            "tags_removed": tags.removed,
        })
        .to_string())
    }
}
