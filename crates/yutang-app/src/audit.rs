//! The audit log: who did what security-relevant thing, when, from where.

/// The row this area hands to its callers (a read model; defined by the store).
pub use yutang_store::audit::AuditRow;

use serde::Serialize;
use yutang_core::staff::Permission;
use yutang_store::Tx;
use yutang_store::audit as store;

use crate::error::{AppError, Result};
use crate::{Actor, App};

/// Audited actions. The wire/storage form is the snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Login,
    LoginFailed,
    Logout,
    PasswordChanged,
    PasswordReset,
    StaffCreated,
    StaffUpdated,
    RoleChanged,
    StaffDisabled,
    StaffEnabled,
    TokenCreated,
    TokenRevoked,
    AdminBootstrapped,
    CustomerMerged,
    PhoneRevealed,
    SegmentSaved,
    SegmentDeleted,
    SegmentExported,
    CustomersExported,
    TagsChanged,
    TagsBulkChanged,
    TagCatalogChanged,
    TagRuleChanged,
    ImportStarted,
    ImportFinished,
    WecomSyncStarted,
    WecomSettingsChanged,
    WecomConnectionTested,
    WecomTransferStarted,
    WecomCallbackReplayed,
    WecomJobRetried,
    /// Any change to a coupon template, flash sale or group-buy (or a coupon issue); the
    /// operation is named in the detail.
    PromotionChanged,
    /// A channel or live code was created, edited or archived (detail `op`: `channel.create`, `live_code.update` …).
    ChannelChanged,
    /// The brand's acquisition settings (the attribution window) were changed (detail: the
    /// field, `before` and `after`).
    AcquisitionSettingsChanged,
    /// The points ledger's settings changed, or a customer's points were adjusted by hand
    /// (detail `op`: `settings` with `before`/`after`, `adjust` with points, reason, balance).
    PointsChanged,
    /// The membership tier program was replaced (detail: metric, period, grace, tier names).
    TierProgramChanged,
    /// Stored value: a top-up, a top-up or spend refund, or a top-up gift rule changed
    /// (detail `op`: `top_up`, `top_up_refund`, `spend_refund`, `rule.create`, `rule.update`).
    StoredValueChanged,
    /// Member gifts: a birthday / anniversary rule changed (`rule.create`, `rule.update`) or
    /// a run was started by hand (`run`).
    MemberGiftsChanged,
    /// A points-mall item was created, edited or archived, or an exchange was paid, shipped,
    /// delivered, fulfilled or cancelled by staff or an integration (detail `op`:
    /// `item.create`, `exchange.ship` …).
    MallChanged,
    /// A paid member card product was created, edited or archived (detail `op`, key, name).
    CardProductChanged,
    /// A card purchase was refunded: its period ended (detail: order_no, reason).
    CardPurchaseRefunded,
    /// The order system confirmed it paid a card's guarantee refund (detail: refund, amount).
    CardRefundAcknowledged,
    /// The audit log itself was exported (the filter and the row count in the detail).
    AuditExported,
    /// An outbound webhook was created, edited, paused, resumed, deleted, had its secret
    /// rotated, was sent a test, or had deliveries replayed (detail `op`).
    WebhookChanged,
    /// A webhook was paused by Yutang after repeated failed deliveries (the alert).
    WebhookAutoPaused,
    /// An inbound order source was created, edited, deleted, had its secret changed, or had
    /// a logged message retried (detail `op`).
    InboundSourceChanged,
    /// A scheduled report was created, edited, deleted or sent now (detail `op`).
    ReportScheduleChanged,
    /// A mass message was created, cancelled or had its guides reminded, or the messaging
    /// rules were changed (detail `op`).
    MessagingChanged,
    /// A guide task was created by hand, done or skipped (detail `op`).
    GuideTaskChanged,
    /// A churn alert was marked handled (detail: kind, guide, customer, note).
    ChurnAlertHandled,
    /// A customer chose their consultant (detail: from and to staff, done or pending).
    ConsultantChanged,
    /// A note (跟进记录) was written about a customer (detail: the note's id).
    CustomerNoteAdded,
    /// An incentive pool was created, edited, deleted, settled or exported (detail `op`).
    IncentivePoolChanged,
}

impl Action {
    pub const ALL: [Action; 53] = [
        Action::Login,
        Action::LoginFailed,
        Action::Logout,
        Action::PasswordChanged,
        Action::PasswordReset,
        Action::StaffCreated,
        Action::StaffUpdated,
        Action::RoleChanged,
        Action::StaffDisabled,
        Action::StaffEnabled,
        Action::TokenCreated,
        Action::TokenRevoked,
        Action::AdminBootstrapped,
        Action::CustomerMerged,
        Action::PhoneRevealed,
        Action::SegmentSaved,
        Action::SegmentDeleted,
        Action::SegmentExported,
        Action::CustomersExported,
        Action::TagsChanged,
        Action::TagsBulkChanged,
        Action::TagCatalogChanged,
        Action::TagRuleChanged,
        Action::ImportStarted,
        Action::ImportFinished,
        Action::WecomSyncStarted,
        Action::WecomSettingsChanged,
        Action::WecomConnectionTested,
        Action::WecomTransferStarted,
        Action::WecomCallbackReplayed,
        Action::WecomJobRetried,
        Action::PromotionChanged,
        Action::ChannelChanged,
        Action::AcquisitionSettingsChanged,
        Action::PointsChanged,
        Action::TierProgramChanged,
        Action::StoredValueChanged,
        Action::MemberGiftsChanged,
        Action::MallChanged,
        Action::CardProductChanged,
        Action::CardPurchaseRefunded,
        Action::WebhookChanged,
        Action::WebhookAutoPaused,
        Action::InboundSourceChanged,
        Action::ReportScheduleChanged,
        Action::MessagingChanged,
        Action::CardRefundAcknowledged,
        Action::AuditExported,
        Action::GuideTaskChanged,
        Action::ChurnAlertHandled,
        Action::ConsultantChanged,
        Action::CustomerNoteAdded,
        Action::IncentivePoolChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::Logout => "logout",
            Action::PasswordChanged => "password_changed",
            Action::PasswordReset => "password_reset",
            Action::StaffCreated => "staff_created",
            Action::StaffUpdated => "staff_updated",
            Action::RoleChanged => "role_changed",
            Action::StaffDisabled => "staff_disabled",
            Action::StaffEnabled => "staff_enabled",
            Action::TokenCreated => "token_created",
            Action::TokenRevoked => "token_revoked",
            Action::AdminBootstrapped => "admin_bootstrapped",
            Action::CustomerMerged => "customer_merged",
            Action::PhoneRevealed => "phone_revealed",
            Action::SegmentSaved => "segment_saved",
            Action::SegmentDeleted => "segment_deleted",
            Action::SegmentExported => "segment_exported",
            Action::CustomersExported => "customers_exported",
            Action::TagsChanged => "tags_changed",
            Action::TagsBulkChanged => "tags_bulk_changed",
            Action::TagCatalogChanged => "tag_catalog_changed",
            Action::TagRuleChanged => "tag_rule_changed",
            Action::ImportStarted => "import_started",
            Action::ImportFinished => "import_finished",
            Action::WecomSyncStarted => "wecom_sync_started",
            Action::WecomSettingsChanged => "wecom_settings_changed",
            Action::WecomConnectionTested => "wecom_connection_tested",
            Action::WecomTransferStarted => "wecom_transfer_started",
            Action::WecomCallbackReplayed => "wecom_callback_replayed",
            Action::WecomJobRetried => "wecom_job_retried",
            Action::PromotionChanged => "promotion_changed",
            Action::ChannelChanged => "channel_changed",
            Action::AcquisitionSettingsChanged => "acquisition_settings_changed",
            Action::PointsChanged => "points_changed",
            Action::TierProgramChanged => "tier_program_changed",
            Action::StoredValueChanged => "stored_value_changed",
            Action::MemberGiftsChanged => "member_gifts_changed",
            Action::MallChanged => "mall_changed",
            Action::CardProductChanged => "card_product_changed",
            Action::CardPurchaseRefunded => "card_purchase_refunded",
            Action::WebhookChanged => "webhook_changed",
            Action::WebhookAutoPaused => "webhook_auto_paused",
            Action::InboundSourceChanged => "inbound_source_changed",
            Action::ReportScheduleChanged => "report_schedule_changed",
            Action::MessagingChanged => "messaging_changed",
            Action::CardRefundAcknowledged => "card_refund_acknowledged",
            Action::AuditExported => "audit_exported",
            Action::GuideTaskChanged => "guide_task_changed",
            Action::ChurnAlertHandled => "churn_alert_handled",
            Action::ConsultantChanged => "consultant_changed",
            Action::CustomerNoteAdded => "customer_note_added",
            Action::IncentivePoolChanged => "incentive_pool_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Record an action on its own (no change in a transaction goes with it: a sign-in, a read
/// worth tracing, a call to WeCom).
pub async fn record(
    app: &App,
    actor: &Actor,
    action: Action,
    target: &str,
    detail: &str,
) -> Result<()> {
    let mut tx = app.db.begin().await?;
    record_in(app, &mut tx, actor, action, target, detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Record an action inside the transaction of the change it records: the change and its
/// audit entry commit together, or neither does.
pub async fn record_in(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    action: Action,
    target: &str,
    detail: &str,
) -> Result<()> {
    store::append_in(
        tx,
        &store::NewAudit {
            at: app.now(),
            actor_kind: actor.kind(),
            actor_id: actor.actor_id(),
            actor_name: &actor.name,
            action: action.as_str(),
            target,
            detail,
            ip: &actor.ip,
        },
    )
    .await?;
    tracing::info!(action = action.as_str(), actor = %actor.name, target, detail, "audit");
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<Action>,
    pub actor_id: Option<i64>,
    pub page: Page,
}

/// Paging shared by list use cases: 1-based page, bounded size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: i64,
    pub size: i64,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            number: 1,
            size: 50,
        }
    }
}

impl Page {
    pub const MAX_SIZE: i64 = 200;

    pub fn parse(number: Option<i64>, size: Option<i64>) -> Result<Self, yutang_core::FieldError> {
        let number = number.unwrap_or(1);
        let size = size.unwrap_or(50);
        if !(1..=1_000_000).contains(&number) {
            return Err(yutang_core::FieldError::new(
                "page",
                "invalid_page",
                "page must be ≥ 1",
            ));
        }
        if !(1..=Self::MAX_SIZE).contains(&size) {
            return Err(yutang_core::FieldError::new(
                "page_size",
                "invalid_page_size",
                format!("page_size must be between 1 and {}", Self::MAX_SIZE),
            ));
        }
        Ok(Self { number, size })
    }

    pub fn offset(self) -> i64 {
        (self.number - 1) * self.size
    }
}

/// One page of results with the total count.
#[derive(Debug, Clone, Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

/// The audit-log use cases: reading the audit log.
#[derive(Clone, Copy)]
pub struct Audit<'a>(&'a App);

impl std::ops::Deref for Audit<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Audit`].
    pub fn audit(&self) -> Audit<'_> {
        Audit(self)
    }
}

impl Audit<'_> {
    pub async fn list_audit(
        &self,
        actor: &Actor,
        q: &AuditQuery,
    ) -> Result<Paged<store::AuditRow>> {
        if !actor.can(Permission::ViewAudit) {
            return Err(AppError::Forbidden);
        }
        let (items, total) = store::list(
            &self.db,
            &store::AuditFilter {
                action: q.action.map(Action::as_str),
                actor_id: q.actor_id,
                limit: q.page.size,
                offset: q.page.offset(),
            },
        )
        .await?;
        Ok(Paged {
            items,
            total,
            page: q.page.number,
            page_size: q.page.size,
        })
    }
    /// Start an export of every entry matching the filter (newest first; `q.page` is
    /// ignored). The extent is fixed now (entries written later, this export's own entry
    /// among them, are not in it), and the export is recorded (the filter and the row count)
    /// before any row is handed out, so an export that cannot be audited does not happen.
    pub async fn export_audit(&self, actor: &Actor, q: &AuditQuery) -> Result<AuditExport> {
        if !actor.can(Permission::ViewAudit) {
            return Err(AppError::Forbidden);
        }
        let action = q.action.map(Action::as_str);
        let (rows, newest) = store::export_extent(&self.db, action, q.actor_id).await?;
        record(
            self,
            actor,
            Action::AuditExported,
            "audit_log",
            &serde_json::json!({"action": action, "actor_id": q.actor_id, "rows": rows})
                .to_string(),
        )
        .await?;
        Ok(AuditExport {
            app: App::clone(self),
            action,
            actor_id: q.actor_id,
            before: newest.saturating_add(1),
            done: rows == 0,
        })
    }
}

/// Entries read per piece of an export.
const EXPORT_CHUNK: i64 = 1000;

/// An audit-log export under way (see [`Audit::export_audit`]).
pub struct AuditExport {
    app: App,
    action: Option<&'static str>,
    actor_id: Option<i64>,
    /// The next piece holds entries with a smaller id.
    before: i64,
    done: bool,
}

impl AuditExport {
    /// The next entries (up to 1,000, newest first); `None` when done.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<store::AuditRow>>> {
        if self.done {
            return Ok(None);
        }
        let rows = store::list_before(
            &self.app.db,
            self.action,
            self.actor_id,
            self.before,
            EXPORT_CHUNK,
        )
        .await?;
        match rows.last() {
            Some(last) if rows.len() as i64 == EXPORT_CHUNK => self.before = last.id,
            _ => self.done = true,
        }
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(rows))
    }
}
