//! Churn alerts (流失提醒, issue #23 item 4): a customer deleting their guide, or a guide
//! deleting a customer, is put in front of the people who can act on it.
//!
//! **Where alerts come from.** The WeCom contact callback (`crate::wecom`) calls
//! [`record_in`] inside the callback's own transaction: `del_follow_user` (the customer deleted
//! the guide) makes a `customer_deleted` alert, `del_external_contact` (the guide deleted the
//! customer; not a deletion made by a transfer) a `guide_deleted` one, each with the customer's
//! value at that moment (orders not fully refunded, net spend, tier). The alert's source key is
//! the callback's (`wecom:{dedup key}`), unique: a replayed callback adds no alert and no
//! message, and a crash loses neither the alert nor its messages (they are queued in the same
//! transaction).
//!
//! **Who is told.** A `customer_deleted` alert goes to the guide and their store's active
//! managers, a `guide_deleted` one to the store's managers only, each as a WeCom app message
//! (one job per recipient, idempotent by key, WeCom's duplicate check on). A recipient without
//! a WeCom account, or a deployment without a self-built app, is recorded as skipped in the
//! job's result; nothing fails.
//!
//! **Who sees what.** A guide sees the `customer_deleted` alerts about themselves; a store
//! manager their store's (the guide's store when it happened); headquarters and analysts every
//! alert. Everyone but analysts marks an alert in their scope handled, with an optional note;
//! the change is a guarded update (`… WHERE status = 'open'`), so handling twice is 409
//! `churn_alert_handled` and of two handlings at once exactly one applies.

use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::churn_alerts::{self as core, Kind, Status};
use yutang_core::identity::mask_phone;
use yutang_core::staff::Role;
use yutang_store::Tx;
use yutang_store::churn_alerts::{self as store, AlertFilter, AlertRow, NewAlert};
use yutang_store::jobs::{self as job_store, JobRow, NewJob};
use yutang_wecom::client::api::MessageSendRequest;

use crate::analytics::reports::DEDUPE_SECS;
use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::jobs::JobRegistry;
use crate::staff_scope::StaffScope as Scope;
use crate::{Actor, App};

/// Job kind: tell one staff member about an alert through a WeCom app message.
pub const NOTIFY_KIND: &str = "churn_alert_notify";
/// A page holds this many alerts unless the caller asks otherwise.
const DEFAULT_PAGE: i64 = 50;
/// A page holds at most this many.
const MAX_PAGE: i64 = 200;

pub(crate) fn register(reg: &mut JobRegistry) {
    reg.register(NOTIFY_KIND, |app, job| {
        Box::pin(async move { app.churn_alerts().run_notify(job).await })
    });
}

/// The churn-alert use cases.
pub struct ChurnAlerts<'a>(&'a App);

impl std::ops::Deref for ChurnAlerts<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    pub fn churn_alerts(&self) -> ChurnAlerts<'_> {
        ChurnAlerts(self)
    }
}

/// The follow that ended, as the callback saw it.
#[derive(Debug, Clone, Copy)]
pub struct Ended<'a> {
    pub kind: Kind,
    pub customer_id: i64,
    /// The guide (or store manager) of the follow.
    pub staff_id: i64,
    /// Their store then.
    pub store_id: Option<i64>,
    /// When WeCom says it happened (epoch milliseconds).
    pub occurred_at: i64,
    /// Makes the alert once, e.g. `wecom:{dedup key}`.
    pub source_key: &'a str,
}

/// Make an alert in the caller's transaction with the customer's value read in it, and queue
/// its WeCom messages (the guide and the store's managers for `customer_deleted`, the
/// managers for `guide_deleted`). `Ok(None)` when an alert with this source key exists
/// already (a replay: nothing else happens).
pub async fn record_in(app: &App, tx: &mut Tx, e: &Ended<'_>) -> Result<Option<i64>> {
    let (orders, spend_fen, tier) = store::value_in(tx, e.customer_id).await?;
    let row = NewAlert {
        kind: e.kind.as_str(),
        customer_id: e.customer_id,
        staff_id: e.staff_id,
        store_id: e.store_id,
        occurred_at: e.occurred_at,
        orders,
        spend_fen,
        tier_id: tier.as_ref().map(|t| t.0),
        tier_name: tier.as_ref().map(|t| t.1.as_str()),
        source_key: e.source_key,
    };
    let now = app.now();
    let Some(id) = store::insert_in(tx, &row, now).await? else {
        return Ok(None);
    };
    let mut recipients = Vec::new();
    if e.kind == Kind::CustomerDeleted {
        recipients.push(e.staff_id);
    }
    if let Some(s) = e.store_id {
        for (manager, _) in store::store_managers_in(tx, s).await? {
            if !recipients.contains(&manager) && manager != e.staff_id {
                recipients.push(manager);
            }
        }
    }
    for staff_id in recipients {
        let key = format!("{NOTIFY_KIND}:{id}:{staff_id}");
        job_store::enqueue_in(
            tx,
            &NewJob {
                kind: NOTIFY_KIND,
                payload: &json(&NotifyJob {
                    alert_id: id,
                    staff_id,
                    outcome: None,
                })?,
                run_at: now,
                idempotency_key: Some(&key),
                created_by: None,
            },
            now,
        )
        .await?;
    }
    Ok(Some(id))
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(format!("json: {e}")))
}

#[derive(Debug, Serialize, Deserialize)]
struct NotifyJob {
    alert_id: i64,
    /// Who is told.
    staff_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
}

/// Whether the caller's scope covers an alert: a guide sees only the `customer_deleted`
/// alerts about themselves.
fn covers(scope: Scope, a: &AlertRow) -> bool {
    scope.covers(a.staff_id, a.store_id)
        && (scope.staff().is_none() || a.kind == Kind::CustomerDeleted.as_str())
}

/// Who marks alerts handled: the guide, a store manager and headquarters (each within
/// scope); analysts only read. The match names each role so that a new one must decide.
fn require_handler(actor: &Actor) -> Result<()> {
    match actor.caller.role {
        Role::Admin | Role::Operator | Role::StoreManager | Role::Guide => Ok(()),
        Role::Analyst => Err(AppError::Forbidden),
    }
}

fn not_found() -> AppError {
    AppError::NotFound {
        what: "churn_alert",
    }
}

/// An alert as shown.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    pub id: i64,
    /// `customer_deleted` or `guide_deleted`.
    pub kind: String,
    pub customer_id: i64,
    pub customer_name: Option<String>,
    /// The customer's phone, masked (`138****5678`).
    pub customer_phone: Option<String>,
    pub staff_id: i64,
    pub staff_name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub occurred_at: i64,
    /// Orders not fully refunded when it happened.
    pub orders: i64,
    /// Net spend in fen when it happened.
    pub spend_fen: i64,
    pub tier_id: Option<i64>,
    pub tier_name: Option<String>,
    /// `open` or `handled`.
    pub status: String,
    pub handled_by: Option<i64>,
    pub handled_by_name: Option<String>,
    pub handled_at: Option<i64>,
    pub note: String,
    pub created_at: i64,
}

impl From<AlertRow> for AlertView {
    fn from(r: AlertRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            customer_phone: r.customer_phone.map(|p| mask_phone(&p)),
            staff_id: r.staff_id,
            staff_name: r.staff_name.unwrap_or_default(),
            store_id: r.store_id,
            store_name: r.store_name,
            occurred_at: r.occurred_at,
            orders: r.orders,
            spend_fen: r.spend_fen,
            tier_id: r.tier_id,
            tier_name: r.tier_name,
            status: r.status,
            handled_by: r.handled_by,
            handled_by_name: r.handled_by_name,
            handled_at: r.handled_at,
            note: r.note,
            created_at: r.created_at,
        }
    }
}

/// A page of alerts, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct AlertPage {
    pub items: Vec<AlertView>,
    /// Pass back as `before` for the next page; `None` on the last.
    pub next_before: Option<i64>,
}

/// What to list, as the caller gave it.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    /// `customer_deleted` or `guide_deleted`; both when absent.
    pub kind: Option<String>,
    /// `open` or `handled`; both when absent.
    pub status: Option<String>,
    pub staff_id: Option<i64>,
    pub store_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

fn blank_to_none(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl ChurnAlerts<'_> {
    /// A page of alerts in the caller's scope, newest first.
    pub async fn list(&self, actor: &Actor, q: &AlertQuery) -> Result<AlertPage> {
        let scope = Scope::of(actor)?;
        let kind = match blank_to_none(q.kind.as_deref()) {
            Some(k) => Some(Kind::from_field("kind", k)?),
            None => None,
        };
        let status = match blank_to_none(q.status.as_deref()) {
            Some(s) => Some(Status::from_field("status", s)?.as_str()),
            None => None,
        };
        let limit = q.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(FieldError::new("limit", "invalid_page_size", "1–200").into());
        }
        let empty = AlertPage {
            items: Vec::new(),
            next_before: None,
        };
        // The scope narrows the filters; a filter outside it finds nothing.
        let (mut staff_id, mut store_id, mut kind) = (q.staff_id, q.store_id, kind);
        match scope {
            Scope::All => {}
            Scope::Store(own) => {
                if store_id.is_some_and(|s| s != own) {
                    return Ok(empty);
                }
                store_id = Some(own);
            }
            Scope::Guide(own) => {
                if staff_id.is_some_and(|s| s != own)
                    || kind.is_some_and(|k| k != Kind::CustomerDeleted)
                {
                    return Ok(empty);
                }
                staff_id = Some(own);
                kind = Some(Kind::CustomerDeleted);
            }
        }
        let filter = AlertFilter {
            kind: kind.map(Kind::as_str),
            status,
            staff_id,
            store_id,
            customer_id: q.customer_id,
            before: q.before,
        };
        let mut rows = store::list(&self.db, &filter, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(50));
        let next_before = if more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        Ok(AlertPage {
            items: rows.into_iter().map(AlertView::from).collect(),
            next_before,
        })
    }

    /// One alert in the caller's scope (404 outside it).
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<AlertView> {
        let scope = Scope::of(actor)?;
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("churn_alert"))?;
        if !covers(scope, &row) {
            return Err(not_found());
        }
        Ok(row.into())
    }

    /// Mark an open alert handled, with an optional note (at most 500 characters): the guide
    /// (their own `customer_deleted` alerts), a store manager (their store's) or headquarters.
    /// Handling it again is 409 `churn_alert_handled`.
    pub async fn handle(&self, actor: &Actor, id: i64, note: Option<&str>) -> Result<AlertView> {
        require_handler(actor)?;
        self.get(actor, id).await?;
        let note = core::parse_note("note", note.unwrap_or(""))?;
        let now = self.now();
        let by = actor.caller.staff_id().map(|s| s.0);
        let mut tx = self.db.begin().await?;
        if !store::handle_in(&mut tx, id, by, &note, now).await? {
            return Err(AppError::Rule {
                code: "churn_alert_handled",
                message: "the churn alert is already handled".into(),
            });
        }
        let row = store::get_in(&mut tx, id).await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::ChurnAlertHandled,
            &format!("churn_alert:{id}"),
            &serde_json::json!({
                "kind": row.kind,
                "staff_id": row.staff_id,
                "customer_id": row.customer_id,
                "note": note,
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// The message job: tell one staff member about an alert (see the module's doc).
    async fn run_notify(&self, job: &JobRow) -> Result<String> {
        let j: NotifyJob = serde_json::from_str(&job.payload)
            .map_err(|_| AppError::Internal(format!("bad churn alert job {}", job.payload)))?;
        let outcome = |what: &str| {
            json(&NotifyJob {
                alert_id: j.alert_id,
                staff_id: j.staff_id,
                outcome: Some(what.to_owned()),
            })
        };
        let alert = match store::get(&self.db, j.alert_id).await {
            Ok(a) => a,
            Err(yutang_store::StoreError::NotFound) => return outcome("skipped: no alert"),
            Err(e) => return Err(e.into()),
        };
        let staff = match yutang_store::staff::get(&self.db, j.staff_id).await {
            Ok(s) => s,
            Err(yutang_store::StoreError::NotFound) => return outcome("skipped: no staff"),
            Err(e) => return Err(e.into()),
        };
        let Some(userid) = staff
            .wecom_userid
            .filter(|u| !u.is_empty() && staff.status == "active")
        else {
            return outcome("skipped: not in WeCom");
        };
        let Some((agentid, client)) = self.wecom().app_client().await? else {
            return outcome("skipped: wecom_not_configured");
        };
        let kind = Kind::from_field("kind", &alert.kind)
            .map_err(|_| AppError::Internal(format!("bad churn alert kind {}", alert.kind)))?;
        let value = core::Value {
            orders: alert.orders,
            spend_fen: alert.spend_fen,
            tier: alert.tier_name.clone(),
        };
        let text = core::message_text(
            kind,
            alert.customer_name.as_deref().unwrap_or(""),
            alert.staff_name.as_deref().unwrap_or(""),
            alert.occurred_at,
            &value,
        );
        let request = MessageSendRequest::text(agentid, &[userid], &text, DEDUPE_SECS);
        match client.message_send(&request).await {
            Ok(_) => outcome("sent"),
            Err(e) if e.is_transient() => Err(AppError::Internal(format!("wecom_error: {e}"))),
            Err(e) => outcome(&format!("wecom_error: {e}")),
        }
    }
}
