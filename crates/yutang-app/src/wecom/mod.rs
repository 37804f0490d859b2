//! WeCom (企业微信) callbacks: verify, decrypt, store durably, acknowledge; a job processes the
//! inbox afterwards. WeCom drops a callback that is not answered within 5 s and retries it up
//! to three times, so nothing slow happens before the answer.

pub mod check;
pub mod groups;
pub mod inbox;
pub mod settings;
pub mod sync;
pub mod tags;
pub mod transfers;

use serde::Serialize;
use thiserror::Error;
use yutang_core::access::Caller;
use yutang_core::churn_alerts::Kind as ChurnKind;
use yutang_core::customers::FollowState;
use yutang_core::events::{ClientEventId, EventKind as TimelineKind};
use yutang_core::identity::Identity;
use yutang_core::staff::{Permission, Role};
use yutang_store::wecom::inbox as store;
use yutang_wecom::events::{ChatChange, ContactChange};
use yutang_wecom::{CallbackCrypto, CallbackEvent, CryptoError, EventKind};

use crate::acquisition::on_add::AddFollowUp;
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// Callbacks failing this often are parked (listed for a replay) instead of retried.
pub const MAX_ATTEMPTS: i64 = 5;

/// Job kind: read a contact's details and corp tags from WeCom after its callback was
/// applied (`externalcontact/get`).
pub const CONTACT_DETAILS_KIND: &str = "wecom_contact_details";

/// Why a callback request was refused. Nothing is stored for any of these.
#[derive(Debug, Error)]
pub enum CallbackError {
    /// The corp id, Token or EncodingAESKey is missing or malformed in the settings.
    #[error("WeCom callback is not configured: {0}")]
    NotConfigured(String),
    /// Signature, decryption, padding, receive-id or envelope XML failed (WeCom's -400xx codes).
    #[error("callback refused ({code}): {0}", code = .0.code())]
    Crypto(#[from] CryptoError),
    /// The decrypted payload is not a callback event.
    #[error("callback payload is not an event: {0}")]
    Payload(String),
    #[error(transparent)]
    Store(#[from] yutang_store::StoreError),
}

/// What happened to a delivered callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Stored,
    /// An identical callback was stored before (a WeCom retry or a replay).
    Duplicate,
}

/// The setup checker's view of the connection.
#[derive(Debug, Clone, Serialize)]
pub struct WecomStatus {
    pub corp_id: String,
    pub has_contact_secret: bool,
    pub has_callback_token: bool,
    /// `None` when not set; `Some(Err(reason))` when set but malformed.
    pub encoding_aes_key: Option<Result<(), String>>,
    pub api_base: String,
    pub inbox: store::InboxStats,
    pub recent: Vec<store::InboxRow>,
}

/// The WeCom use cases: the callback and its inbox, contacts, customer groups and their
/// members, corp tags, the full sync, staff-leave transfers, and the WeCom settings.
#[derive(Clone, Copy)]
pub struct Wecom<'a>(&'a App);

impl std::ops::Deref for Wecom<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Wecom`].
    pub fn wecom(&self) -> Wecom<'_> {
        Wecom(self)
    }
}

impl Wecom<'_> {
    async fn callback_crypto(&self) -> Result<CallbackCrypto, CallbackError> {
        let w = self.wecom_config().await.map_err(|e| match e {
            AppError::Store(s) => CallbackError::Store(s),
            other => CallbackError::NotConfigured(other.to_string()),
        })?;
        if w.corp_id.is_empty() {
            return Err(CallbackError::NotConfigured(
                "wecom.corp_id is empty".into(),
            ));
        }
        let token = w.callback_token.as_ref().ok_or_else(|| {
            CallbackError::NotConfigured("wecom.callback_token is not set".into())
        })?;
        let key = w.encoding_aes_key.as_ref().ok_or_else(|| {
            CallbackError::NotConfigured("wecom.encoding_aes_key is not set".into())
        })?;
        CallbackCrypto::from_encoding_aes_key(token.expose(), key.expose(), w.corp_id.clone())
            .map_err(|e| CallbackError::NotConfigured(format!("wecom.encoding_aes_key: {e}")))
    }

    /// URL verification (GET): the decrypted `echostr` to answer with, verbatim.
    pub async fn wecom_verify_url(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        echostr: &str,
    ) -> Result<String, CallbackError> {
        let crypto = self.callback_crypto().await?;
        Ok(crypto.verify_url(msg_signature, timestamp, nonce, echostr)?)
    }

    /// A delivered callback (POST): verify and decrypt, then store it in the inbox keyed by its
    /// whole payload. Unknown event types are stored too (and logged), never refused.
    pub async fn wecom_receive(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        body: &str,
    ) -> Result<Delivery, CallbackError> {
        let crypto = self.callback_crypto().await?;
        let xml = crypto.decrypt_message(msg_signature, timestamp, nonce, body)?;
        let ev = CallbackEvent::parse(&xml).map_err(|e| CallbackError::Payload(e.to_string()))?;
        let (event, change_type) = event_names(&ev);
        if matches!(ev.kind, EventKind::Unknown { .. }) {
            tracing::warn!(
                event,
                change_type,
                "WeCom callback of an unhandled type stored"
            );
        }
        let inserted = store::insert(
            &self.db,
            &store::NewInboxEvent {
                dedup_key: &ev.dedup_key(),
                corp_id: &ev.corp_id,
                event: &event,
                change_type: &change_type,
                payload: &xml,
                received_at: self.now(),
            },
        )
        .await?;
        Ok(if inserted {
            Delivery::Stored
        } else {
            Delivery::Duplicate
        })
    }

    /// Connection status for the setup checker (admins and operators).
    pub async fn wecom_status(&self, actor: &Actor) -> Result<WecomStatus> {
        if !actor.can(Permission::ManageOrg) {
            return Err(AppError::Forbidden);
        }
        let w = self.wecom_config().await?;
        Ok(WecomStatus {
            corp_id: w.corp_id.clone(),
            has_contact_secret: w.contact_secret.is_some(),
            has_callback_token: w.callback_token.is_some(),
            encoding_aes_key: w.encoding_aes_key.as_ref().map(|k| {
                yutang_wecom::AesKey::parse(k.expose())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }),
            api_base: w.api_base.clone(),
            inbox: store::stats(&self.db, MAX_ATTEMPTS).await?,
            recent: store::recent(&self.db, 20).await?,
        })
    }
}

/// What one pass over the inbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProcessReport {
    pub applied: usize,
    /// Stored for later: event types Yutang does not act on (yet), or that need the API.
    pub kept: usize,
    pub failed: usize,
}

/// What applying one callback did.
enum Applied {
    Done,
    Kept(&'static str),
    /// Applied and marked in the same transaction (or found applied already).
    Committed,
}

impl Wecom<'_> {
    /// Apply pending inbox callbacks, oldest first. Each callback is applied idempotently
    /// (ingest by identity, follow upsert, timeline event keyed by the callback's dedup key),
    /// so a crash between applying and marking re-applies it harmlessly. Failures are retried
    /// on later passes up to [`MAX_ATTEMPTS`] times, then parked for the setup checker.
    ///
    /// What an add sets off outside the database (its welcome, re-pointing its live code,
    /// mirroring tags) runs after the locks are released, all the pass's adds at once, so a
    /// slow WeCom answer never holds up the callbacks behind it (WeCom's 20 s welcome window).
    pub async fn process_wecom_inbox(&self, limit: i64) -> Result<ProcessReport> {
        let _following = self.wecom_follow_ups.read().await;
        let mut follow_ups = Vec::new();
        let report = {
            let _one_at_a_time = self.wecom_inbox.lock().await;
            let node_lock = store::lock_apply(&self.db).await?;
            let report = self
                .process_wecom_inbox_locked(limit, &mut follow_ups)
                .await?;
            node_lock.release().await?;
            report
        };
        self.acquisition().after_adds(follow_ups).await;
        Ok(report)
    }

    /// Wait until every pass over the inbox that started before this call has finished its
    /// adds' follow-ups (tests and the CLI use this to see a settled state).
    pub async fn wecom_follow_ups_settled(&self) {
        drop(self.wecom_follow_ups.write().await);
    }

    async fn process_wecom_inbox_locked(
        &self,
        limit: i64,
        follow_ups: &mut Vec<AddFollowUp>,
    ) -> Result<ProcessReport> {
        let mut report = ProcessReport::default();
        for row in store::pending(&self.db, limit, MAX_ATTEMPTS).await? {
            self.apply_inbox_row(&row, &mut report, follow_ups).await?;
        }
        Ok(report)
    }

    /// Apply one callback and record the outcome on its row.
    async fn apply_inbox_row(
        &self,
        row: &store::InboxRow,
        report: &mut ProcessReport,
        follow_ups: &mut Vec<AddFollowUp>,
    ) -> Result<()> {
        match self.apply_wecom_callback(row, follow_ups).await {
            Ok(Applied::Done) => {
                store::mark_processed(&self.db, row.id, self.now(), "").await?;
                report.applied += 1;
            }
            Ok(Applied::Kept(why)) => {
                store::mark_processed(&self.db, row.id, self.now(), why).await?;
                report.kept += 1;
            }
            Ok(Applied::Committed) => report.applied += 1,
            Err(e) => {
                tracing::warn!(inbox_id = row.id, error = %e, "applying a WeCom callback failed");
                store::mark_failed(&self.db, row.id, &e.to_string()).await?;
                report.failed += 1;
            }
        }
        Ok(())
    }

    /// Apply one callback now (a replay), under the same locks as a pass over the inbox.
    pub(crate) async fn apply_wecom_inbox_row(&self, id: i64) -> Result<ProcessReport> {
        let _following = self.wecom_follow_ups.read().await;
        let mut follow_ups = Vec::new();
        let report = {
            let _one_at_a_time = self.wecom_inbox.lock().await;
            let node_lock = store::lock_apply(&self.db).await?;
            let mut report = ProcessReport::default();
            let row = store::get(&self.db, id)
                .await
                .map_err(AppError::not_found("callback"))?;
            if row.processed_at.is_none() {
                self.apply_inbox_row(&row, &mut report, &mut follow_ups)
                    .await?;
            }
            node_lock.release().await?;
            report
        };
        self.acquisition().after_adds(follow_ups).await;
        Ok(report)
    }

    async fn apply_wecom_callback(
        &self,
        row: &store::InboxRow,
        follow_ups: &mut Vec<AddFollowUp>,
    ) -> Result<Applied> {
        let ev = CallbackEvent::parse(&row.payload)
            .map_err(|e| AppError::Internal(format!("stored callback does not parse: {e}")))?;
        let c = match &ev.kind {
            EventKind::ExternalContact(c) => c,
            EventKind::ExternalChat(chat) => {
                if self.wecom_api().await?.is_none() {
                    return Ok(Applied::Kept(
                        "customer group change kept: the WeCom API is not configured",
                    ));
                }
                let at = ev.create_time.saturating_mul(1000);
                match &chat.change {
                    ChatChange::Dismiss => self.dismiss_wecom_group(&chat.chat_id, at).await?,
                    // create, and every update (members, owner, name, notice): re-read the
                    // group and reconcile, since a quit does not say who left.
                    ChatChange::Create | ChatChange::Update(_) => {
                        self.refresh_wecom_group(&chat.chat_id, at).await?
                    }
                };
                return Ok(Applied::Done);
            }
            EventKind::ExternalTag(_) => {
                // The callback names only ids; read the corp tags and bring ours in line.
                if self.wecom_api().await?.is_none() {
                    return Ok(Applied::Kept(
                        "corp tag change kept: the WeCom API is not configured",
                    ));
                }
                self.sync_corp_tags().await?;
                return Ok(Applied::Done);
            }
            EventKind::Unknown { .. } => return Ok(Applied::Kept("unhandled event type")),
        };
        let (state, timeline) = match &c.change {
            ContactChange::Add { .. } | ContactChange::AddHalf { .. } => {
                (FollowState::Active, Some(TimelineKind::AddFriend))
            }
            ContactChange::Edit => (FollowState::Active, None),
            ContactChange::Delete { .. } => (
                FollowState::DeletedByGuide,
                Some(TimelineKind::DeleteFriend),
            ),
            ContactChange::DeleteFollowUser => (
                FollowState::DeletedByCustomer,
                Some(TimelineKind::DeleteFriend),
            ),
            ContactChange::TransferFail { fail_reason } => {
                // UserID is the taker; mark the waiting transfer rows of this customer failed.
                self.apply_transfer_fail(&c.user_id, &c.external_user_id, fail_reason.as_deref())
                    .await?;
                return Ok(Applied::Done);
            }
        };
        let identity = Identity::parse("wecom_external", None, &c.external_user_id)?;
        let at = ev.create_time.saturating_mul(1000);
        let staff = yutang_store::staff::by_wecom_userid(&self.db, &c.user_id).await?;
        let follower = staff.as_ref().filter(|s| {
            matches!(
                Role::parse("role", &s.role),
                Ok(Role::Guide | Role::StoreManager)
            )
        });
        if follower.is_none() {
            tracing::info!(userid = %c.user_id, "WeCom callback names a userid no guide is linked to");
        }
        let client_id = ClientEventId::parse("id", &format!("wecom:{}", row.dedup_key))?;
        // The callback does not carry the customer's details or tags: reading them needs
        // WeCom, so a job does it afterwards (retried on its own; a WeCom outage neither
        // blocks nor undoes the add).
        let needs_details = matches!(
            c.change,
            ContactChange::Add { .. } | ContactChange::AddHalf { .. } | ContactChange::Edit
        ) && self.wecom_api().await?.is_some();
        let payload = serde_json::json!({
            "external_userid": c.external_user_id,
            "userid": c.user_id,
        })
        .to_string();
        let job_key = format!("{CONTACT_DETAILS_KIND}:{}", row.dedup_key);
        let actor = wecom_actor();
        // All or nothing: the inbox row is claimed first (a concurrent applier of the same
        // row waits on it and then finds it applied), then the customer is found or created
        // by its identity, the follow written, the timeline event added (idempotent by its
        // client id) and the side job queued (idempotent by its key).
        let mut tx = self.db.begin().await?;
        if !store::claim_inbox_in(&mut tx, row.id, self.now()).await? {
            return Ok(Applied::Committed);
        }
        let rec = yutang_store::customers::IngestRecord {
            identities: vec![identity.clone()],
            ..Default::default()
        };
        let (customer, _) =
            crate::customers::identities::ingest_in(self, &mut tx, &actor, &rec).await?;
        let now = self.now();
        if let Some(s) = follower {
            yutang_store::customers::upsert_follow_in(
                &mut tx,
                &yutang_store::customers::FollowInput {
                    customer_id: customer,
                    staff_id: s.id,
                    since: at,
                    remark: None,
                    state: state.as_str(),
                    owner: None,
                },
                now,
            )
            .await?;
            // A customer who chose this guide as consultant before they were a contact.
            if state.as_str() == "active" {
                crate::ratings::settle_pending_in(self, &mut tx, customer, s.id).await?;
            }
        }
        // Acquisition: the add's channel (by WeCom's State), counters, tags, welcome, reward;
        // a deletion closes the pair's open add (net adds).
        let (state_sent, welcome_code) = match &c.change {
            ContactChange::Add {
                state,
                welcome_code,
            }
            | ContactChange::AddHalf {
                state,
                welcome_code,
            } => (state.as_deref(), welcome_code.as_deref()),
            _ => (None, None),
        };
        let mut follow_up = None;
        match &c.change {
            ContactChange::Add { .. } | ContactChange::AddHalf { .. } => {
                let f = self
                    .acquisition()
                    .on_add_in(
                        &mut tx,
                        &crate::acquisition::on_add::AddInput {
                            dedup_key: &row.dedup_key,
                            customer,
                            staff: follower.map(|s| (s.id, s.display_name.as_str())),
                            state: state_sent,
                            welcome_code,
                            at,
                        },
                    )
                    .await?;
                follow_up = Some(f);
            }
            ContactChange::Delete { .. } | ContactChange::DeleteFollowUser => {
                if let Some(s) = follower {
                    self.acquisition()
                        .on_delete_in(&mut tx, customer, s.id, at)
                        .await?;
                }
            }
            _ => {}
        }
        // Churn alerts: who ended the follow, with the customer's value, told to the guide and
        // the store's managers (a deletion made by a transfer is no churn).
        let churn = match &c.change {
            ContactChange::DeleteFollowUser => Some(ChurnKind::CustomerDeleted),
            ContactChange::Delete { source } if source.as_deref() != Some("DELETE_BY_TRANSFER") => {
                Some(ChurnKind::GuideDeleted)
            }
            _ => None,
        };
        if let (Some(kind), Some(s)) = (churn, follower) {
            crate::churn_alerts::record_in(
                self,
                &mut tx,
                &crate::churn_alerts::Ended {
                    kind,
                    customer_id: customer,
                    staff_id: s.id,
                    store_id: s.store_id,
                    occurred_at: at,
                    source_key: client_id.as_str(),
                },
            )
            .await?;
        }
        let mut detail = serde_json::json!({ "source": "wecom", "userid": c.user_id });
        if let Some(st) = state_sent.filter(|s| !s.is_empty()) {
            detail["state"] = st.into();
        }
        if let Some(name) = follow_up.as_ref().and_then(|f| f.channel_name.as_deref()) {
            detail["channel"] = name.into();
        }
        let detail = detail.to_string();
        if let Some(kind) = timeline {
            store::append_event_once_in(
                &mut tx,
                customer,
                &store::ContactEvent {
                    kind: kind.as_str(),
                    client_id: client_id.as_str(),
                    occurred_at: at,
                    staff_id: staff.as_ref().map(|s| s.id),
                    detail: &detail,
                },
                now,
            )
            .await?;
        }
        if needs_details {
            store::enqueue_side_job_in(
                &mut tx,
                &store::SideJob {
                    kind: CONTACT_DETAILS_KIND,
                    payload: &payload,
                    idempotency_key: &job_key,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        follow_ups.extend(follow_up);
        Ok(Applied::Committed)
    }
}

/// The actor WeCom callbacks act as: the system, named `wecom` in the audit log.
pub(crate) fn wecom_actor() -> Actor {
    Actor {
        caller: Caller::system(),
        name: "wecom".into(),
        ip: "wecom-callback".into(),
    }
}

/// The `Event` and `ChangeType` names of a parsed callback, for the inbox columns.
fn event_names(ev: &CallbackEvent) -> (String, String) {
    let event = match &ev.kind {
        EventKind::ExternalContact(_) => "change_external_contact",
        EventKind::ExternalChat(_) => "change_external_chat",
        EventKind::ExternalTag(_) => "change_external_tag",
        EventKind::Unknown {
            event, change_type, ..
        } => {
            return (
                event.clone().unwrap_or_default(),
                change_type.clone().unwrap_or_default(),
            );
        }
    };
    (event.to_owned(), change_type_of(ev))
}

fn change_type_of(ev: &CallbackEvent) -> String {
    use yutang_wecom::events::{ChatChange, ContactChange, TagChange};
    match &ev.kind {
        EventKind::ExternalContact(c) => match &c.change {
            ContactChange::Add { .. } => "add_external_contact",
            ContactChange::AddHalf { .. } => "add_half_external_contact",
            ContactChange::Edit => "edit_external_contact",
            ContactChange::Delete { .. } => "del_external_contact",
            ContactChange::DeleteFollowUser => "del_follow_user",
            ContactChange::TransferFail { .. } => "transfer_fail",
        },
        EventKind::ExternalChat(c) => match &c.change {
            ChatChange::Create => "create",
            ChatChange::Update(_) => "update",
            ChatChange::Dismiss => "dismiss",
        },
        EventKind::ExternalTag(t) => match &t.change {
            TagChange::Create { .. } => "create",
            TagChange::Update { .. } => "update",
            TagChange::Delete { .. } => "delete",
            TagChange::Shuffle { .. } => "shuffle",
        },
        EventKind::Unknown { .. } => "",
    }
    .to_owned()
}
