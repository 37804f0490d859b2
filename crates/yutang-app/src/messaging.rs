//! Mass messages to customers (群发, issue #21 item 1), sent through each customer's guide
//! with WeCom's `add_msg_template`.
//!
//! **Who.** Admins and operators send to the brand; a store manager to their store's
//! customers (the audience is cut to the store when the message is prepared, and the sending
//! guide is one of the store's when the customer has several). Analysts read. Guides and
//! everyone else: 403. The messaging rules (caps, WeCom's receipt rule, the opt-out tag) are
//! HQ's (admin, operator).
//!
//! **The life of a message.** Saved `scheduled` with its prepare job at the send time
//! (cancellable until then). The prepare job decides every customer once, in one
//! transaction, with [`yutang_core::messaging::decide`] — the function the preview uses —
//! writing a recipient row each, a task per sending guide (in chunks of WeCom's per-call
//! limit), and the contact ledger; the message becomes `sending` and the send job is queued
//! in the same transaction. The send job creates each task in WeCom: a task is marked
//! `sending` before its call, so after a crash between WeCom's answer and the commit the next
//! run first looks for the task in WeCom (`get_groupmsg_list_v2`, same sender and text, made
//! since the attempt) and adopts it instead of creating a second one. When every task is
//! created (or failed for good) the message is `sent` and the tracking job reads WeCom's
//! results every [`TRACK_EVERY_MS`] for [`TRACK_FOR_MS`]: guides who confirmed, recipients
//! delivered or failed (not a friend any more; WeCom's receipt cap). A customer a send did
//! not reach leaves the contact ledger, so the caps count only what was sent.
//!
//! **Holdout.** A share of the eligible audience (after every exclusion) is kept unsent and
//! recorded as `holdout`, drawn from (message, customer) so it is stable; the analytics issue
//! compares them with the rest.

use std::collections::{BTreeMap, HashMap, HashSet};

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::messaging::{
    self as core, Attachment, Audience, Caps, Content, Decision, Exclusion, Facts, GroupFacts,
    ReceiptRule, holdout,
};
use yutang_core::staff::{Permission, Role};
use yutang_store::StoreError;
use yutang_store::customers::Scope;
use yutang_store::jobs::{self as job_store, JobRow, NewJob};
use yutang_store::locks::LockKey;
use yutang_store::messaging::{
    self as store, MessageRow, NewRecipient, ResultLine, Target, TaskRow,
};
use yutang_store::tx::Tx;
use yutang_wecom::WecomClient;
use yutang_wecom::client::api::{
    self as wapi, AddMsgTemplateRequest, GroupMsgListRequest, GroupMsgSendResultRequest,
    GroupMsgTaskRequest, MAX_MSG_TEMPLATE_CHATS, MAX_MSG_TEMPLATE_CUSTOMERS, MAX_REMINDS_PER_DAY,
    Text,
};

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::jobs::JobRegistry;
use crate::{Actor, App};

/// Job kind: decide the recipients of a message at its send time.
pub const PREPARE_KIND: &str = "mass_message_prepare";
/// Job kind: create the message's tasks in WeCom.
pub const SEND_KIND: &str = "mass_message_send";
/// Job kind: read WeCom's results of a sent message.
pub const TRACK_KIND: &str = "mass_message_track";
/// How often a sent message's results are read.
pub const TRACK_EVERY_MS: i64 = 10 * 60 * 1000;
/// Continuations of a send WeCom keeps throttling (45009, 45033) or cannot be reached for,
/// before its remaining tasks fail: about 4 hours at [`throttle_delay_ms`].
pub const MAX_THROTTLED_ROUNDS: u32 = 30;
/// For how long after sending they are read (guides confirm within days, or never).
pub const TRACK_FOR_MS: i64 = 3 * 24 * 3600 * 1000;
/// A send time this far in the past is refused (a form submitted a little late is not).
pub(crate) const PAST_SLACK_MS: i64 = 5 * 60 * 1000;
/// Messages the list shows.
const LIST_LIMIT: i64 = 200;
/// Guides the preview names.
const PREVIEW_GUIDES: usize = 20;

pub(crate) fn register(reg: &mut JobRegistry) {
    reg.register(PREPARE_KIND, |app, job| {
        Box::pin(async move { app.messaging().run_prepare(job).await })
    });
    reg.register(SEND_KIND, |app, job| {
        Box::pin(async move { app.messaging().run_send(job).await })
    });
    reg.register(TRACK_KIND, |app, job| {
        Box::pin(async move { app.messaging().run_track(job).await })
    });
}

/// The mass-messaging use cases.
pub struct Messaging<'a>(&'a App);

impl std::ops::Deref for Messaging<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    pub fn messaging(&self) -> Messaging<'_> {
        Messaging(self)
    }
}

/// Callers who may read messages: senders and analysts.
pub(crate) fn require_reader(actor: &Actor) -> Result<()> {
    if actor.can(Permission::SendMessages) || actor.can(Permission::ViewMetrics) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub(crate) fn require_sender(actor: &Actor) -> Result<()> {
    if !actor.can(Permission::SendMessages) {
        return Err(AppError::Forbidden);
    }
    match actor.caller.data_scope() {
        DataScope::All | DataScope::Store(_) => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

/// HQ: the messaging rules.
fn require_hq(actor: &Actor) -> Result<()> {
    match actor.caller.role {
        Role::Admin | Role::Operator if actor.can(Permission::SendMessages) => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

/// The store a caller is limited to (`None`: the brand).
pub(crate) fn own_store(actor: &Actor) -> Option<i64> {
    match actor.caller.data_scope() {
        DataScope::Store(s) => Some(s.0),
        DataScope::Own { store, .. } => Some(store.0),
        _ => None,
    }
}

/// Customers or groups, as the stored audience kind says.
fn target_of(m: &MessageRow) -> Target {
    match m.audience_kind.as_str() {
        "groups" | "all_groups" => Target::Groups,
        _ => Target::Customers,
    }
}

fn source_of(id: i64) -> String {
    format!("mass_message:{id}")
}

/// The payload of a message's jobs.
fn payload_of(id: i64) -> Result<String> {
    json(&MessageJob {
        message_id: id,
        outcome: None,
        round: 0,
    })
}

/// How long a send throttled by WeCom waits before its continuation `round` (1, 2, …): 5 s
/// doubled each round, at most 10 minutes.
pub(crate) fn throttle_delay_ms(round: u32) -> i64 {
    let doubled = 5_000_i64.saturating_mul(1_i64 << round.saturating_sub(1).min(20));
    doubled.min(10 * 60 * 1000)
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.to_string()))
}

// ---------------------------------------------------------------- inputs and views

/// A message as entered.
#[derive(Debug, Clone)]
pub struct MessageInput {
    pub name: String,
    pub content: Content,
    pub audience: Audience,
    pub holdout_bp: i64,
    /// UTC millis; `None`: now.
    pub send_at: Option<i64>,
}

impl MessageInput {
    /// Name 1–40 characters; the content, audience and holdout as [`yutang_core::messaging`]
    /// parses them.
    pub fn parse(
        name: &str,
        content: Content,
        audience: Audience,
        holdout_bp: Option<i64>,
        send_at: Option<i64>,
    ) -> Result<Self> {
        let name = name.trim();
        if !(1..=40).contains(&name.chars().count()) || name.chars().any(char::is_control) {
            return Err(
                FieldError::new("name", "invalid_name", "a name is 1–40 characters").into(),
            );
        }
        let holdout_bp = core::parse_holdout(holdout_bp)?;
        audience.check_holdout(holdout_bp)?;
        Ok(Self {
            name: name.to_owned(),
            content,
            audience,
            holdout_bp,
            send_at,
        })
    }
}

/// The rules as shown.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    pub daily_cap: u32,
    pub weekly_cap: u32,
    pub receipt_rule: ReceiptRule,
    pub opt_out_tag_id: Option<i64>,
    /// The opt-out tag's `group/name`.
    pub opt_out_tag: Option<String>,
    pub updated_at: Option<i64>,
}

/// Recipients by state of one message.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    /// Every customer decided.
    pub audience: i64,
    pub excluded: i64,
    pub holdout: i64,
    /// Not yet in a WeCom task.
    pub queued: i64,
    /// In a guide's task, not yet sent by the guide.
    pub task_created: i64,
    pub delivered: i64,
    pub failed: i64,
    /// Excluded and failed recipients by reason.
    pub reasons: BTreeMap<String, i64>,
}

/// A message as shown.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: i64,
    pub name: String,
    pub content: Content,
    pub audience: Audience,
    pub holdout_bp: i64,
    /// `scheduled`, `sending`, `sent` or `cancelled`.
    pub status: String,
    pub send_at: i64,
    pub store_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub prepared_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub tracked_at: Option<i64>,
    pub counts: Counts,
}

/// One guide's task as shown.
#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    pub id: i64,
    pub staff_id: i64,
    pub staff_name: String,
    /// `pending`, `sending`, `created`, `confirmed` or `failed`.
    pub state: String,
    pub recipients: i64,
    pub msgid: Option<String>,
    pub confirmed_at: Option<i64>,
    /// Reminders sent in the last 24 hours (WeCom allows 3).
    pub reminders_24h: usize,
    pub last_error: String,
}

/// A message with its guides' tasks.
#[derive(Debug, Clone, Serialize)]
pub struct MessageDetail {
    #[serde(flatten)]
    pub message: MessageView,
    pub tasks: Vec<TaskView>,
}

/// The reach preview.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    /// `single` (customers, through their guides) or `group` (groups, through their owners).
    pub chat_type: &'static str,
    /// Customers (or groups) in the audience (within the caller's scope).
    pub audience: u64,
    /// Who would be sent now.
    pub send: u64,
    /// Kept unsent for the holdout.
    pub holdout: u64,
    /// Excluded, by reason (every reason listed, 0 included).
    pub excluded: BTreeMap<&'static str, u64>,
    /// The guides (group owners) who would send, most recipients first (at most 20).
    pub guides: Vec<GuideCount>,
    /// The rules applied.
    pub rules: SettingsView,
}

#[derive(Debug, Clone, Serialize)]
pub struct GuideCount {
    pub staff_id: i64,
    pub name: String,
    pub recipients: u64,
}

/// A page of recipients.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientPage {
    pub items: Vec<store::RecipientRow>,
    /// Pass back as `after` for the next page; `None` on the last.
    pub next_after: Option<i64>,
}

/// A customer group the caller may send a message to.
#[derive(Debug, Clone, Serialize)]
pub struct GroupChoice {
    pub id: i64,
    pub name: String,
    /// The owner's name ("" when the owner is not a linked staff member).
    pub owner: String,
    /// Whether the owner can send (an active staff member with a WeCom account).
    pub sendable: bool,
}

/// Groups a composer lists, at most.
const GROUP_CHOICES: usize = 1000;

/// A page of a group message's groups.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRecipientPage {
    pub items: Vec<store::GroupRecipientRow>,
    /// Pass back as `after` for the next page; `None` on the last.
    pub next_after: Option<i64>,
}

/// What a reminder did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reminded {
    /// Guides reminded.
    pub reminded: usize,
    /// Guides not reminded: WeCom's 3 reminders in 24 hours are used up.
    pub at_limit: usize,
}

/// A message's holdout comparison.
#[derive(Debug, Clone, Serialize)]
pub struct UpliftView {
    pub message_id: i64,
    pub holdout_bp: i64,
    pub days: i64,
    /// The window: the send time and `days` later (UTC millis).
    pub from: i64,
    pub to: i64,
    /// Whether the window has ended (until then the figures still grow).
    pub complete: bool,
    pub comparison: holdout::Comparison,
}

/// A message's holdout comparison on the metrics page.
#[derive(Debug, Clone, Serialize)]
pub struct HoldoutStudy {
    pub name: String,
    pub uplift: UpliftView,
}

#[derive(Debug, Serialize, Deserialize)]
struct MessageJob {
    message_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
    /// A send job continued after WeCom throttled it: which continuation (0: the first).
    #[serde(default, skip_serializing_if = "is_zero")]
    round: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The decision for one customer (or group), with who sends.
struct Decided {
    /// The customer's id, or the group's in a group message.
    customer_id: i64,
    decision: Decision,
    sender: Option<(i64, String)>,
    /// The customer's WeCom contact id, or the group's chat id.
    external_userid: Option<String>,
}

impl Messaging<'_> {
    // ------------------------------------------------------------ rules

    async fn caps(&self) -> Result<(Caps, Option<i64>, Option<i64>)> {
        Ok(match store::settings(&self.db).await? {
            Some(s) => (
                Caps::parse(s.daily_cap, s.weekly_cap, &s.receipt_rule)?,
                s.opt_out_tag,
                Some(s.updated_at),
            ),
            None => (Caps::default(), None, None),
        })
    }

    async fn settings_view(&self) -> Result<SettingsView> {
        let (caps, tag, at) = self.caps().await?;
        let name = match tag {
            Some(t) => match yutang_store::tags::get_tag(&self.db, t).await {
                Ok(r) => Some(format!("{}/{}", r.group_name, r.name)),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        Ok(SettingsView {
            daily_cap: caps.daily,
            weekly_cap: caps.weekly,
            receipt_rule: caps.receipt_rule,
            opt_out_tag_id: tag,
            opt_out_tag: name,
            updated_at: at,
        })
    }

    /// The messaging rules (readers).
    pub async fn settings(&self, actor: &Actor) -> Result<SettingsView> {
        require_reader(actor)?;
        self.settings_view().await
    }

    /// Change the rules (HQ). An opt-out tag must exist.
    pub async fn save_settings(
        &self,
        actor: &Actor,
        caps: Caps,
        opt_out_tag: Option<i64>,
    ) -> Result<SettingsView> {
        require_hq(actor)?;
        if let Some(t) = opt_out_tag {
            match yutang_store::tags::get_tag(&self.db, t).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(
                        FieldError::new("opt_out_tag_id", "unknown_tag", "no such tag").into(),
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut tx = self.db.begin().await?;
        store::save_settings_in(
            &mut tx,
            &store::SettingsRow {
                daily_cap: i64::from(caps.daily),
                weekly_cap: i64::from(caps.weekly),
                receipt_rule: caps.receipt_rule.as_str().to_owned(),
                opt_out_tag,
                updated_by: actor.actor_id(),
                updated_at: self.now(),
            },
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MessagingChanged,
            "messaging",
            &serde_json::json!({
                "op": "messaging.settings",
                "daily_cap": caps.daily,
                "weekly_cap": caps.weekly,
                "receipt_rule": caps.receipt_rule.as_str(),
                "opt_out_tag": opt_out_tag,
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        self.settings_view().await
    }

    // ------------------------------------------------------------ the audience

    /// Check an audience's references now (422 naming the field), within the caller's scope.
    async fn check_audience(&self, actor: &Actor, a: &Audience) -> Result<()> {
        match a {
            Audience::Segment { segment_id } => {
                yutang_store::segments::get(&self.db, *segment_id)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => AppError::Invalid(FieldError::new(
                            "segment_id",
                            "unknown_segment",
                            "no such segment",
                        )),
                        other => other.into(),
                    })?;
            }
            Audience::Tags { tag_ids } => {
                for &t in tag_ids {
                    if let Err(e) = yutang_store::tags::get_tag(&self.db, t).await {
                        return Err(match e {
                            StoreError::NotFound => AppError::Invalid(FieldError::new(
                                "tag_ids",
                                "unknown_tag",
                                format!("no tag {t}"),
                            )),
                            other => other.into(),
                        });
                    }
                }
            }
            Audience::Groups { group_ids } => {
                let found: HashSet<i64> =
                    store::group_facts(&self.db, Some(group_ids), own_store(actor))
                        .await?
                        .into_iter()
                        .map(|g| g.id)
                        .collect();
                if let Some(g) = group_ids.iter().find(|g| !found.contains(g)) {
                    return Err(FieldError::new(
                        "group_ids",
                        "unknown_group",
                        format!("no group {g}"),
                    )
                    .into());
                }
            }
            Audience::AllGroups => {}
            Audience::Customers { customer_ids } => {
                let live = yutang_store::customers::resolve_many(&self.db, customer_ids).await?;
                let visible = self.scope_bitmap(own_store(actor)).await?;
                for id in customer_ids {
                    let ok = live.get(id).is_some_and(|l| {
                        visible
                            .as_ref()
                            .is_none_or(|v| u32::try_from(*l).is_ok_and(|u| v.contains(u)))
                    });
                    if !ok {
                        return Err(FieldError::new(
                            "customer_ids",
                            "unknown_customer",
                            format!("no customer {id}"),
                        )
                        .into());
                    }
                }
            }
        }
        Ok(())
    }

    /// The customers of a store (followed by its guides), or `None` for the brand.
    async fn scope_bitmap(&self, store_id: Option<i64>) -> Result<Option<RoaringBitmap>> {
        let Some(s) = store_id else {
            return Ok(None);
        };
        let ids = yutang_store::segments::scope_members(
            &self.db,
            Scope {
                store: Some(s),
                guide: None,
            },
        )
        .await?;
        Ok(Some(
            ids.into_iter()
                .filter_map(|i| u32::try_from(i).ok())
                .collect(),
        ))
    }

    /// The audience's customers now, within a store (or the brand), ascending.
    async fn members(&self, a: &Audience, store_id: Option<i64>) -> Result<Vec<i64>> {
        let scope = self.scope_bitmap(store_id).await?;
        let bitmap = match a {
            Audience::Segment { segment_id } => {
                let seg = yutang_store::segments::get(&self.db, *segment_id)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => AppError::Invalid(FieldError::new(
                            "segment_id",
                            "unknown_segment",
                            "no such segment",
                        )),
                        other => other.into(),
                    })?;
                self.evaluate(&seg.expression, scope.as_ref()).await?
            }
            Audience::Tags { tag_ids } => {
                let src = tag_ids
                    .iter()
                    .map(|t| format!("tag({t})"))
                    .collect::<Vec<_>>()
                    .join(" and ");
                self.evaluate(&src, scope.as_ref()).await?
            }
            Audience::Customers { customer_ids } => {
                let live = yutang_store::customers::resolve_many(&self.db, customer_ids).await?;
                let mut b: RoaringBitmap = live
                    .values()
                    .filter_map(|&l| u32::try_from(l).ok())
                    .collect();
                if let Some(s) = &scope {
                    b &= s;
                }
                b
            }
            Audience::Groups { .. } | Audience::AllGroups => {
                return Err(AppError::Internal(
                    "a group audience has no customers".into(),
                ));
            }
        };
        Ok(bitmap.iter().map(i64::from).collect())
    }

    async fn evaluate(&self, src: &str, scope: Option<&RoaringBitmap>) -> Result<RoaringBitmap> {
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        let expr = self.segments.compile(src)?;
        self.segments.evaluate(&expr, self.now(), scope)
    }

    /// Decide every customer of `ids` for message `message_id` (0 for a preview).
    async fn decide_all(
        &self,
        ids: &[i64],
        store_id: Option<i64>,
        message_id: i64,
        holdout_bp: i64,
    ) -> Result<Vec<Decided>> {
        let (caps, opt_out, _) = self.caps().await?;
        let now = self.now();
        let w = caps.windows(now);
        let mut out = Vec::with_capacity(ids.len());
        // Each guide's store, read once for the whole audience (a store's message only).
        let mut staff_store: HashMap<i64, Option<i64>> = HashMap::new();
        for chunk in ids.chunks(5000) {
            let follows = store::follows_of(&self.db, chunk).await?;
            if store_id.is_some() {
                self.staff_stores(&follows, &mut staff_store).await?;
            }
            let ext = store::external_ids(&self.db, chunk).await?;
            let opted: HashSet<i64> = match opt_out {
                Some(t) => store::tagged(&self.db, t, chunk)
                    .await?
                    .into_iter()
                    .collect(),
                None => HashSet::new(),
            };
            let counts =
                store::contact_counts(&self.db, chunk, w.day_since, w.week_since, w.receipt_since)
                    .await?;
            let mut by_customer: HashMap<i64, Vec<&store::FollowFact>> = HashMap::new();
            for f in &follows {
                by_customer.entry(f.customer_id).or_default().push(f);
            }
            for &c in chunk {
                let fs = by_customer.get(&c).map(Vec::as_slice).unwrap_or(&[]);
                let sender = choose_sender(fs, store_id, &staff_store);
                let external = ext.get(&c).cloned();
                let k = counts.get(&c).copied().unwrap_or_default();
                let facts = Facts {
                    has_sender: sender.is_some() && external.is_some(),
                    deleted_a_guide: fs.iter().any(|f| f.state == "deleted_by_customer"),
                    opted_out: opted.contains(&c),
                    receipt_count: u32::try_from(k.receipt).unwrap_or(u32::MAX),
                    day_count: u32::try_from(k.day).unwrap_or(u32::MAX),
                    week_count: u32::try_from(k.week).unwrap_or(u32::MAX),
                };
                out.push(Decided {
                    customer_id: c,
                    decision: core::decide(&facts, &caps, &w, message_id, c, holdout_bp),
                    sender,
                    external_userid: external,
                });
            }
        }
        Ok(out)
    }

    /// Decide every group of a group audience now (within a store's owners, or the brand):
    /// the sender is the group's owner.
    async fn decide_groups(&self, a: &Audience, store_id: Option<i64>) -> Result<Vec<Decided>> {
        let ids = match a {
            Audience::Groups { group_ids } => Some(group_ids.as_slice()),
            _ => None,
        };
        let groups = store::group_facts(&self.db, ids, store_id).await?;
        let (caps, _, _) = self.caps().await?;
        let w = caps.windows(self.now());
        let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
        let receipts = store::group_receipts(&self.db, &ids, w.receipt_since).await?;
        Ok(groups
            .into_iter()
            .map(|g| {
                let sender = match (g.owner_staff_id, g.owner_status.as_deref(), &g.owner_userid) {
                    (Some(staff), Some("active"), Some(u)) if !u.is_empty() => {
                        Some((staff, u.clone()))
                    }
                    _ => None,
                };
                let facts = GroupFacts {
                    dismissed: g.dismissed_at.is_some(),
                    has_owner: sender.is_some(),
                    receipt_count: u32::try_from(receipts.get(&g.id).copied().unwrap_or(0))
                        .unwrap_or(u32::MAX),
                };
                Decided {
                    customer_id: g.id,
                    decision: core::decide_group(&facts, &w),
                    sender,
                    external_userid: Some(g.chat_id),
                }
            })
            .collect())
    }

    /// The store of each guide these follows name that `known` does not hold yet, added to
    /// it in one query. Only a store's message needs them (its sender must be of the store).
    async fn staff_stores(
        &self,
        follows: &[store::FollowFact],
        known: &mut HashMap<i64, Option<i64>>,
    ) -> Result<()> {
        let mut missing: Vec<i64> = follows
            .iter()
            .map(|f| f.staff_id)
            .filter(|s| !known.contains_key(s))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let found = store::staff_stores(&self.db, &missing).await?;
        for s in missing {
            known.insert(s, found.get(&s).copied());
        }
        Ok(())
    }

    /// The reach preview of an audience now, within the caller's scope.
    pub async fn preview(
        &self,
        actor: &Actor,
        audience: &Audience,
        holdout_bp: i64,
    ) -> Result<Preview> {
        require_sender(actor)?;
        audience.check_holdout(holdout_bp)?;
        self.check_audience(actor, audience).await?;
        let store_id = own_store(actor);
        let (decided, reasons) = if audience.to_groups() {
            (
                self.decide_groups(audience, store_id).await?,
                &Exclusion::GROUP[..],
            )
        } else {
            let ids = self.members(audience, store_id).await?;
            // A preview draws the holdout as a message not yet numbered would: its share,
            // not its exact members, is what the operator needs.
            (
                self.decide_all(&ids, store_id, 0, holdout_bp).await?,
                &Exclusion::ALL[..],
            )
        };
        let mut p = Preview {
            chat_type: audience.chat_type(),
            audience: decided.len() as u64,
            send: 0,
            holdout: 0,
            excluded: reasons.iter().map(|e| (e.as_str(), 0)).collect(),
            guides: Vec::new(),
            rules: self.settings_view().await?,
        };
        let mut by_guide: HashMap<i64, u64> = HashMap::new();
        for d in &decided {
            match d.decision {
                Decision::Send => {
                    p.send += 1;
                    if let Some((s, _)) = &d.sender {
                        *by_guide.entry(*s).or_default() += 1;
                    }
                }
                Decision::Holdout => p.holdout += 1,
                Decision::Excluded(e) => *p.excluded.entry(e.as_str()).or_default() += 1,
            }
        }
        let mut guides: Vec<(i64, u64)> = by_guide.into_iter().collect();
        guides.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (staff_id, n) in guides.into_iter().take(PREVIEW_GUIDES) {
            let name = yutang_store::staff::get(&self.db, staff_id)
                .await
                .map(|s| s.display_name)
                .unwrap_or_default();
            p.guides.push(GuideCount {
                staff_id,
                name,
                recipients: n,
            });
        }
        Ok(p)
    }

    // ------------------------------------------------------------ messages

    /// Save a message and queue its preparation at its send time.
    pub async fn create(&self, actor: &Actor, input: &MessageInput) -> Result<MessageDetail> {
        require_sender(actor)?;
        let now = self.now();
        let send_at = input.send_at.unwrap_or(now);
        if send_at < now - PAST_SLACK_MS {
            return Err(
                FieldError::new("send_at", "send_at_past", "the send time has passed").into(),
            );
        }
        if send_at > yutang_core::time::LATEST_SCHEDULE.0 {
            return Err(FieldError::new("send_at", "invalid_time", "too far ahead").into());
        }
        self.check_audience(actor, &input.audience).await?;
        let mut tx = self.db.begin().await?;
        let id = self
            .create_in(
                &mut tx,
                input,
                send_at.max(now),
                own_store(actor),
                actor.actor_id(),
            )
            .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MessagingChanged,
            &format!("mass_message:{id}"),
            &serde_json::json!({ "op": "mass_message.create", "send_at": send_at }).to_string(),
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Write a message and its preparation job in the caller's transaction (the journey
    /// engine sends its message steps this way, committing them with the runs they move).
    /// The audience is not checked against a scope here: the caller has resolved it.
    pub(crate) async fn create_in(
        &self,
        tx: &mut Tx,
        input: &MessageInput,
        send_at: i64,
        store_id: Option<i64>,
        by: Option<i64>,
    ) -> Result<i64> {
        let content = json(&input.content)?;
        let audience = json(&input.audience)?;
        let now = self.now();
        let id = store::insert_in(
            tx,
            &store::NewMessage {
                name: &input.name,
                content: &content,
                audience_kind: input.audience.kind(),
                audience: &audience,
                holdout_bp: input.holdout_bp,
                send_at,
                store_id,
            },
            by,
            now,
        )
        .await?;
        let job = job_store::enqueue_in(
            tx,
            &NewJob {
                kind: PREPARE_KIND,
                payload: &payload_of(id)?,
                run_at: send_at,
                idempotency_key: Some(&format!("{PREPARE_KIND}:{id}")),
                created_by: by,
            },
            now,
        )
        .await?;
        store::set_job_in(tx, id, job).await?;
        Ok(id)
    }

    async fn row(&self, actor: &Actor, id: i64) -> Result<MessageRow> {
        require_reader(actor)?;
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("mass_message"))?;
        match own_store(actor) {
            Some(mine) if row.store_id != Some(mine) => Err(AppError::NotFound {
                what: "mass_message",
            }),
            _ => Ok(row),
        }
    }

    async fn view(&self, r: MessageRow) -> Result<MessageView> {
        let mut counts = Counts::default();
        for (state, reason, n) in store::counts(&self.db, r.id).await? {
            counts.audience += n;
            match state.as_str() {
                "excluded" => counts.excluded += n,
                "holdout" => counts.holdout += n,
                "queued" => counts.queued += n,
                "task_created" => counts.task_created += n,
                "delivered" => counts.delivered += n,
                "failed" => counts.failed += n,
                _ => {}
            }
            if !reason.is_empty() {
                *counts.reasons.entry(reason).or_default() += n;
            }
        }
        let bad = |what: &str| AppError::Internal(format!("stored {what} of message {}", r.id));
        Ok(MessageView {
            id: r.id,
            name: r.name,
            content: serde_json::from_str(&r.content).map_err(|_| bad("content"))?,
            audience: serde_json::from_str(&r.audience).map_err(|_| bad("audience"))?,
            holdout_bp: r.holdout_bp,
            status: r.status,
            send_at: r.send_at,
            store_id: r.store_id,
            created_by: r.created_by,
            created_at: r.created_at,
            prepared_at: r.prepared_at,
            sent_at: r.sent_at,
            tracked_at: r.tracked_at,
            counts,
        })
    }

    /// The messages the caller may read, newest first.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<MessageView>> {
        require_reader(actor)?;
        let mut out = Vec::new();
        for r in store::list(&self.db, own_store(actor), LIST_LIMIT).await? {
            out.push(self.view(r).await?);
        }
        Ok(out)
    }

    /// One message with its guides' tasks (404 outside the caller's store).
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<MessageDetail> {
        let row = self.row(actor, id).await?;
        let now = self.now();
        let tasks = store::tasks(&self.db, id)
            .await?
            .into_iter()
            .map(|t| TaskView {
                reminders_24h: recent_reminders(&t.reminders, now).len(),
                id: t.id,
                staff_id: t.staff_id,
                staff_name: t.staff_name,
                state: t.state,
                recipients: t.recipients,
                msgid: t.msgid,
                confirmed_at: t.confirmed_at,
                last_error: t.last_error,
            })
            .collect();
        Ok(MessageDetail {
            message: self.view(row).await?,
            tasks,
        })
    }

    /// A page of a message's recipients by customer id.
    pub async fn recipients(
        &self,
        actor: &Actor,
        id: i64,
        state: Option<&str>,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<RecipientPage> {
        self.row(actor, id).await?;
        let limit = page_limit(state, limit)?;
        let mut items =
            store::recipients(&self.db, id, state, after.unwrap_or(0), limit + 1).await?;
        let more = items.len() as i64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(50));
        let next_after = if more {
            items.last().map(|r| r.customer_id)
        } else {
            None
        };
        Ok(RecipientPage { items, next_after })
    }

    /// A page of a group message's groups by group id.
    pub async fn groups(
        &self,
        actor: &Actor,
        id: i64,
        state: Option<&str>,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<GroupRecipientPage> {
        self.row(actor, id).await?;
        let limit = page_limit(state, limit)?;
        let mut items =
            store::group_recipients(&self.db, id, state, after.unwrap_or(0), limit + 1).await?;
        let more = items.len() as i64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(50));
        let next_after = if more {
            items.last().map(|r| r.group_id)
        } else {
            None
        };
        Ok(GroupRecipientPage { items, next_after })
    }

    /// The groups (not dismissed) the caller may send to — a store manager's store's owners'
    /// — by id, at most 1,000 (a larger brand sends to every group, or names ids by API).
    pub async fn group_choices(&self, actor: &Actor) -> Result<Vec<GroupChoice>> {
        require_sender(actor)?;
        Ok(store::group_facts(&self.db, None, own_store(actor))
            .await?
            .into_iter()
            .take(GROUP_CHOICES)
            .map(|g| GroupChoice {
                sendable: g.owner_status.as_deref() == Some("active")
                    && g.owner_userid.as_deref().is_some_and(|u| !u.is_empty()),
                id: g.id,
                name: g.name,
                owner: g.owner_name.unwrap_or_default(),
            })
            .collect())
    }

    /// Cancel a message that is still scheduled (409 `message_not_scheduled` otherwise).
    pub async fn cancel(&self, actor: &Actor, id: i64) -> Result<MessageDetail> {
        require_sender(actor)?;
        self.row(actor, id).await?;
        let mut tx = self.db.begin().await?;
        let m = store::lock_in(&mut tx, id).await?;
        if m.status != "scheduled" {
            return Err(AppError::Rule {
                code: "message_not_scheduled",
                message: format!("the message is {}, not scheduled", m.status),
            });
        }
        store::set_status_in(&mut tx, id, core::Status::Cancelled.as_str(), self.now()).await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MessagingChanged,
            &format!("mass_message:{id}"),
            &serde_json::json!({ "op": "mass_message.cancel" }).to_string(),
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Remind the guides who have not sent their task (WeCom's `remind_groupmsg_send`, at
    /// most 3 times per task in 24 hours: a guide at the limit is skipped and counted).
    pub async fn remind(&self, actor: &Actor, id: i64) -> Result<Reminded> {
        require_sender(actor)?;
        let m = self.row(actor, id).await?;
        if m.status != "sent" {
            return Err(AppError::Rule {
                code: "message_not_sent",
                message: format!("the message is {}, not sent", m.status),
            });
        }
        let client = self.client().await?;
        let mut out = Reminded::default();
        for t in store::tasks(&self.db, id).await? {
            let (Some(msgid), "created") = (t.msgid.as_deref(), t.state.as_str()) else {
                continue;
            };
            let now = self.now();
            let mut recent = recent_reminders(&t.reminders, now);
            if recent.len() >= MAX_REMINDS_PER_DAY as usize {
                out.at_limit += 1;
                continue;
            }
            client
                .remind_groupmsg_send(msgid)
                .await
                .map_err(|e| wecom_unavailable(&e))?;
            recent.push(now);
            store::set_reminders(&self.db, t.id, &json(&recent)?, now).await?;
            out.reminded += 1;
        }
        audit::record(
            self,
            actor,
            Action::MessagingChanged,
            &format!("mass_message:{id}"),
            &serde_json::json!({ "op": "mass_message.remind", "reminded": out.reminded })
                .to_string(),
        )
        .await?;
        Ok(out)
    }

    /// Read WeCom's results of a sent message now (the tracking job does this on its own).
    pub async fn refresh(&self, actor: &Actor, id: i64) -> Result<MessageDetail> {
        require_sender(actor)?;
        let m = self.row(actor, id).await?;
        if m.status == "sent" {
            let client = self.client().await?;
            self.track(&client, &m).await?;
        }
        self.get(actor, id).await
    }

    /// The randomised comparison of a sent message's recipients with its holdout over the
    /// `days` (1–90, default 7) after the send (see `yutang_core::messaging::holdout`).
    pub async fn uplift(&self, actor: &Actor, id: i64, days: Option<i64>) -> Result<UpliftView> {
        let m = self.row(actor, id).await?;
        let days = days.unwrap_or(7);
        if !(1..=90).contains(&days) {
            return Err(FieldError::new("days", "invalid_days", "1–90 days").into());
        }
        self.uplift_of(&m, days).await
    }

    /// The holdout comparisons of the messages sent in `[from, to)` that kept a holdout (of
    /// one store, when `store` is set), newest first, over 7 days each: the metrics page's
    /// randomised evidence.
    pub(crate) async fn holdout_studies(
        &self,
        store: Option<i64>,
        from: i64,
        to: i64,
    ) -> Result<Vec<HoldoutStudy>> {
        let mut out = Vec::new();
        for m in store::with_holdout(&self.db, store, from, to, 50).await? {
            out.push(HoldoutStudy {
                name: m.name.clone(),
                uplift: self.uplift_of(&m, 7).await?,
            });
        }
        Ok(out)
    }

    async fn uplift_of(&self, m: &MessageRow, days: i64) -> Result<UpliftView> {
        let Some(from) = m.sent_at.or(m.prepared_at) else {
            return Err(AppError::Rule {
                code: "message_not_sent",
                message: format!("the message is {}, not sent", m.status),
            });
        };
        let to = from + days * 86_400_000;
        let mut sent = holdout::Arm::default();
        let mut held = holdout::Arm::default();
        for a in store::holdout_sums(&self.db, m.id, from, to).await? {
            let arm = holdout::Arm {
                customers: a.customers,
                buyers: a.buyers,
                orders: a.orders,
                orders_sq: a.orders_sq,
                net_fen: a.net_fen,
                net_fen_sq: a.net_fen_sq,
            };
            if a.arm == "holdout" {
                held = arm;
            } else {
                sent = arm;
            }
        }
        Ok(UpliftView {
            message_id: m.id,
            holdout_bp: m.holdout_bp,
            days,
            from,
            to,
            complete: self.now() >= to,
            comparison: holdout::compare(sent, held),
        })
    }

    async fn client(&self) -> Result<WecomClient> {
        self.wecom()
            .wecom_api()
            .await?
            .ok_or_else(|| AppError::Unavailable {
                code: "wecom_not_configured",
                message: "WeCom is not configured (corp id and contact secret)".into(),
            })
    }

    // ------------------------------------------------------------ jobs

    fn job_message(job: &JobRow) -> Result<i64> {
        serde_json::from_str::<MessageJob>(&job.payload)
            .map(|j| j.message_id)
            .map_err(|_| AppError::Internal(format!("bad mass message job {}", job.payload)))
    }

    /// The message a job is for, when it is in `status`; otherwise the job's outcome (a
    /// replay, or a message cancelled or moved on since).
    async fn job_row(
        &self,
        job: &JobRow,
        status: &str,
    ) -> Result<std::result::Result<(i64, MessageRow), String>> {
        let id = Self::job_message(job)?;
        let m = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("mass_message"))?;
        if m.status == status {
            Ok(Ok((id, m)))
        } else {
            Ok(Err(Self::outcome(id, &m.status)?))
        }
    }

    fn outcome(id: i64, what: &str) -> Result<String> {
        json(&MessageJob {
            message_id: id,
            outcome: Some(what.to_owned()),
            round: 0,
        })
    }

    /// The prepare job: decide every customer once, write the recipients, tasks and ledger,
    /// and queue the send — in one transaction, so a re-run finds the message `sending` and
    /// does nothing.
    async fn run_prepare(&self, job: &JobRow) -> Result<String> {
        let (id, m) = match self.job_row(job, "scheduled").await? {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        // One preparation at a time, on every node: the decision reads the contact ledger
        // and the transaction below writes it, and two preparations interleaving would both
        // count the ledger as it was before either.
        let _one_at_a_time = self.contact_ledger.lock().await;
        let node_lock = yutang_store::locks::acquire(&self.db, LockKey::ContactLedger).await?;
        let outcome = self.prepare_locked(id, &m).await?;
        node_lock.release().await?;
        Ok(outcome)
    }

    /// [`Self::run_prepare`] under the contact-ledger locks.
    async fn prepare_locked(&self, id: i64, m: &MessageRow) -> Result<String> {
        let audience: Audience = serde_json::from_str(&m.audience)
            .map_err(|_| AppError::Internal(format!("stored audience of message {id}")))?;
        let target = target_of(m);
        let decided = if target == Target::Groups {
            // A group dismissed or handed to another store's owner since is decided as it is
            // now (dismissed, or not in this store's audience any more).
            self.decide_groups(&audience, m.store_id).await?
        } else {
            let ids = match self.members(&audience, m.store_id).await {
                Ok(ids) => ids,
                // The segment or a tag was deleted since: the message goes out to nobody,
                // and says so (every count 0) rather than failing silently.
                Err(AppError::Invalid(_) | AppError::Segment(_)) => Vec::new(),
                Err(e) => return Err(e),
            };
            self.decide_all(&ids, m.store_id, id, m.holdout_bp).await?
        };
        let per_call = match target {
            Target::Customers => MAX_MSG_TEMPLATE_CUSTOMERS,
            Target::Groups => MAX_MSG_TEMPLATE_CHATS,
        };
        let now = self.now();
        let source = source_of(id);
        // Group the sends by guide, in chunks of WeCom's per-call limit.
        let mut by_guide: BTreeMap<(i64, String), Vec<&Decided>> = BTreeMap::new();
        let mut rows = Vec::with_capacity(decided.len());
        for d in &decided {
            match (d.decision, &d.sender) {
                (Decision::Send, Some(s)) => by_guide.entry(s.clone()).or_default().push(d),
                (Decision::Holdout, _) => rows.push(NewRecipient {
                    customer_id: d.customer_id,
                    state: "holdout",
                    reason: "",
                    staff_id: d.sender.as_ref().map(|s| s.0),
                    task_id: None,
                    external_userid: None,
                }),
                (Decision::Excluded(e), _) => rows.push(NewRecipient {
                    customer_id: d.customer_id,
                    state: "excluded",
                    reason: e.as_str(),
                    staff_id: d.sender.as_ref().map(|s| s.0),
                    task_id: None,
                    external_userid: None,
                }),
                (Decision::Send, None) => {
                    return Err(AppError::Internal("a send without a sender".into()));
                }
            }
        }
        let mut tx = self.db.begin().await?;
        let locked = store::lock_in(&mut tx, id).await?;
        if locked.status != "scheduled" {
            return Self::outcome(id, &locked.status);
        }
        for ((staff_id, userid), sends) in &by_guide {
            for (chunk, part) in sends.chunks(per_call).enumerate() {
                let task = store::insert_task_in(
                    &mut tx,
                    id,
                    *staff_id,
                    userid,
                    i64::try_from(chunk).unwrap_or(0),
                    part.len() as i64,
                    now,
                )
                .await?;
                rows.extend(part.iter().map(|d| NewRecipient {
                    customer_id: d.customer_id,
                    state: "queued",
                    reason: "",
                    staff_id: Some(*staff_id),
                    task_id: Some(task),
                    external_userid: d.external_userid.clone(),
                }));
            }
        }
        store::insert_recipients_in(&mut tx, target, id, &rows, &source, now).await?;
        store::set_status_in(&mut tx, id, core::Status::Sending.as_str(), now).await?;
        job_store::enqueue_in(
            &mut tx,
            &NewJob {
                kind: SEND_KIND,
                payload: &payload_of(id)?,
                run_at: now,
                idempotency_key: Some(&format!("{SEND_KIND}:{id}")),
                created_by: None,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Self::outcome(id, "prepared")
    }

    /// The send job: create each pending task in WeCom (see the module's crash rule).
    async fn run_send(&self, job: &JobRow) -> Result<String> {
        let (id, m) = match self.job_row(job, "sending").await? {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        let content: Content = serde_json::from_str(&m.content)
            .map_err(|_| AppError::Internal(format!("stored content of message {id}")))?;
        let source = source_of(id);
        let target = target_of(&m);
        let chat_type = match target {
            Target::Customers => "single",
            Target::Groups => "group",
        };
        let tasks = store::tasks(&self.db, id).await?;
        let client = self.wecom().wecom_api().await?;
        let known: HashSet<String> = tasks.iter().filter_map(|t| t.msgid.clone()).collect();
        for t in tasks
            .iter()
            .filter(|t| t.state == "pending" || t.state == "sending")
        {
            let Some(client) = &client else {
                self.fail_task(
                    t,
                    target,
                    "wecom_not_configured: no contact secret",
                    &source,
                )
                .await?;
                continue;
            };
            let found = if t.state == "sending" {
                match self
                    .find_created(client, chat_type, t, &content, &known)
                    .await
                {
                    Ok(found) => found,
                    Err(e) => {
                        let why = format!("wecom_error: {e}");
                        if let Some(later) =
                            self.throttled(job, id, t, target, &source, &why).await?
                        {
                            return Ok(later);
                        }
                        continue;
                    }
                }
            } else {
                None
            };
            if let Some(msgid) = found {
                let mut tx = self.db.begin().await?;
                store::mark_created_in(&mut tx, target, t.id, &msgid, &[], &source, self.now())
                    .await?;
                tx.commit().await?;
                continue;
            }
            let recipients: Vec<String> = store::task_recipients(&self.db, target, t.id)
                .await?
                .into_iter()
                .map(|(_, e)| e)
                .collect();
            store::mark_sending(&self.db, t.id, self.now()).await?;
            let (external_userid, chat_id_list) = match target {
                Target::Customers => (recipients, Vec::new()),
                Target::Groups => (Vec::new(), recipients),
            };
            let request = AddMsgTemplateRequest {
                chat_type: Some(chat_type.into()),
                external_userid,
                chat_id_list,
                sender: Some(t.wecom_userid.clone()),
                text: (!content.text.is_empty()).then(|| Text {
                    content: content.text.clone(),
                }),
                attachments: content.attachments.iter().map(to_wecom).collect(),
                ..AddMsgTemplateRequest::default()
            };
            match client.add_msg_template(&request).await {
                Ok(r) => {
                    let mut tx = self.db.begin().await?;
                    store::mark_created_in(
                        &mut tx,
                        target,
                        t.id,
                        &r.msgid,
                        &r.fail_list,
                        &source,
                        self.now(),
                    )
                    .await?;
                    tx.commit().await?;
                }
                Err(e) if permanent(&e) => {
                    self.fail_task(t, target, &format!("wecom_error: {e}"), &source)
                        .await?;
                }
                Err(e) => {
                    let why = format!("wecom_error: {e}");
                    if let Some(later) = self.throttled(job, id, t, target, &source, &why).await? {
                        return Ok(later);
                    }
                }
            }
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let locked = store::lock_in(&mut tx, id).await?;
        if locked.status == "sending" {
            store::set_status_in(&mut tx, id, core::Status::Sent.as_str(), now).await?;
            job_store::enqueue_in(
                &mut tx,
                &NewJob {
                    kind: TRACK_KIND,
                    payload: &payload_of(id)?,
                    run_at: now + TRACK_EVERY_MS,
                    idempotency_key: Some(&format!("{TRACK_KIND}:{id}:1")),
                    created_by: None,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Self::outcome(id, "sent")
    }

    /// WeCom throttles (45009, 45033) or cannot be reached, past the client's own retries.
    /// The send comes back later, slower each round, instead of spending the job's attempts:
    /// a storm slows sending down and loses nothing. Created tasks stay created; this one
    /// stays as it is (`sending` once called), so the next round looks it up in WeCom before
    /// calling again. Returns the job's outcome, or `None` when the rounds are used up and
    /// the task failed.
    async fn throttled(
        &self,
        job: &JobRow,
        id: i64,
        t: &TaskRow,
        target: Target,
        source: &str,
        why: &str,
    ) -> Result<Option<String>> {
        let now = self.now();
        store::record_task_error(&self.db, t.id, why, now).await?;
        let round = serde_json::from_str::<MessageJob>(&job.payload)
            .map(|j| j.round)
            .unwrap_or(0);
        if round >= MAX_THROTTLED_ROUNDS {
            self.fail_task(t, target, why, source).await?;
            return Ok(None);
        }
        let next = round + 1;
        let delay = throttle_delay_ms(next);
        job_store::enqueue(
            &self.db,
            &NewJob {
                kind: SEND_KIND,
                payload: &json(&MessageJob {
                    message_id: id,
                    outcome: None,
                    round: next,
                })?,
                run_at: now + delay,
                idempotency_key: Some(&format!("{SEND_KIND}:{id}:{next}")),
                created_by: None,
            },
            now,
        )
        .await?;
        tracing::warn!(
            message = id,
            round = next,
            error = why,
            "mass message send throttled"
        );
        Ok(Some(Self::outcome(
            id,
            &format!("throttled: round {next} in {delay} ms"),
        )?))
    }

    async fn fail_task(&self, t: &TaskRow, target: Target, why: &str, source: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        store::mark_task_failed_in(&mut tx, target, t.id, why, source, self.now()).await?;
        tx.commit().await?;
        tracing::warn!(task = t.id, reason = why, "mass message task failed");
        Ok(())
    }

    /// A task this guide's earlier attempt created in WeCom: same sender, same text, made
    /// since a minute before the attempt, and not another task's.
    async fn find_created(
        &self,
        client: &WecomClient,
        chat_type: &str,
        t: &TaskRow,
        content: &Content,
        known: &HashSet<String>,
    ) -> std::result::Result<Option<String>, yutang_wecom::WecomError> {
        let Some(at) = t.attempted_at else {
            return Ok(None);
        };
        let start = at / 1000 - 60;
        let end = (self.now() / 1000).max(start);
        let mut cursor = String::new();
        loop {
            let page = client
                .get_groupmsg_list_v2(&GroupMsgListRequest {
                    chat_type: Some(chat_type.into()),
                    start_time: start,
                    end_time: end.min(start + wapi::MAX_GROUPMSG_LIST_SPAN_SECS),
                    creator: Some(t.wecom_userid.clone()),
                    filter_type: Some(0),
                    limit: Some(wapi::MAX_GROUPMSG_LIST_LIMIT),
                    cursor: cursor.clone(),
                })
                .await?;
            for g in page.group_msg_list {
                let text = g.text.map(|t| t.content).unwrap_or_default();
                if text == content.text
                    && g.attachments.len() == content.attachments.len()
                    && !known.contains(&g.msgid)
                {
                    return Ok(Some(g.msgid));
                }
            }
            if page.next_cursor.is_empty() {
                return Ok(None);
            }
            cursor = page.next_cursor;
        }
    }

    /// The tracking job: read WeCom's results, and come back while recipients wait.
    async fn run_track(&self, job: &JobRow) -> Result<String> {
        let (id, m) = match self.job_row(job, "sent").await? {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        let Some(client) = self.wecom().wecom_api().await? else {
            return Self::outcome(id, "wecom_not_configured");
        };
        let waiting = self.track(&client, &m).await?;
        let now = self.now();
        let sent_at = m.sent_at.unwrap_or(m.updated_at);
        if waiting > 0 && now + TRACK_EVERY_MS <= sent_at + TRACK_FOR_MS {
            let round = (now - sent_at) / TRACK_EVERY_MS + 2;
            job_store::enqueue(
                &self.db,
                &NewJob {
                    kind: TRACK_KIND,
                    payload: &payload_of(id)?,
                    run_at: now + TRACK_EVERY_MS,
                    idempotency_key: Some(&format!("{TRACK_KIND}:{id}:{round}")),
                    created_by: None,
                },
                now,
            )
            .await?;
        }
        Self::outcome(id, &format!("waiting {waiting}"))
    }

    /// Read every created task's results; returns how many recipients still wait.
    async fn track(&self, client: &WecomClient, m: &MessageRow) -> Result<usize> {
        let source = source_of(m.id);
        let target = target_of(m);
        for t in store::tasks(&self.db, m.id).await? {
            let Some(msgid) = t.msgid.clone() else {
                continue;
            };
            if t.state != "created" && t.state != "confirmed" {
                continue;
            }
            if t.state == "created" {
                let mut cursor = String::new();
                loop {
                    let page = client
                        .get_groupmsg_task(&GroupMsgTaskRequest {
                            msgid: msgid.clone(),
                            limit: Some(1000),
                            cursor: cursor.clone(),
                        })
                        .await
                        .map_err(|e| wecom_unavailable(&e))?;
                    for task in &page.task_list {
                        if task.userid == t.wecom_userid && task.status == 2 {
                            store::mark_confirmed(
                                &self.db,
                                t.id,
                                task.send_time * 1000,
                                self.now(),
                            )
                            .await?;
                        }
                    }
                    if page.next_cursor.is_empty() {
                        break;
                    }
                    cursor = page.next_cursor;
                }
            }
            let mut lines = Vec::new();
            let mut cursor = String::new();
            loop {
                let page = client
                    .get_groupmsg_send_result(&GroupMsgSendResultRequest {
                        msgid: msgid.clone(),
                        userid: t.wecom_userid.clone(),
                        limit: Some(1000),
                        cursor: cursor.clone(),
                    })
                    .await
                    .map_err(|e| wecom_unavailable(&e))?;
                for r in page.send_list {
                    let wecom_id = match target {
                        Target::Customers => r.external_userid,
                        Target::Groups => r.chat_id,
                    };
                    let (Some(wecom_id), Some((state, reason))) =
                        (wecom_id, core::result_state(r.status))
                    else {
                        continue;
                    };
                    lines.push(ResultLine {
                        wecom_id,
                        state,
                        reason,
                        at: (r.send_time > 0).then_some(r.send_time * 1000),
                    });
                }
                if page.next_cursor.is_empty() {
                    break;
                }
                cursor = page.next_cursor;
            }
            if !lines.is_empty() {
                let mut tx = self.db.begin().await?;
                store::apply_results_in(&mut tx, target, t.id, &lines, &source, self.now()).await?;
                tx.commit().await?;
            }
        }
        store::set_tracked(&self.db, m.id, self.now()).await?;
        let waiting = store::counts(&self.db, m.id)
            .await?
            .into_iter()
            .filter(|(s, _, _)| s == "task_created")
            .map(|(_, _, n)| n)
            .sum::<i64>();
        Ok(usize::try_from(waiting).unwrap_or(0))
    }
}

/// The sending guide among a customer's follows: an active relation with an active guide who
/// has a WeCom account; within a store's message a guide of that store; the owner first, then
/// the most recent.
fn choose_sender(
    follows: &[&store::FollowFact],
    store_id: Option<i64>,
    staff_store: &HashMap<i64, Option<i64>>,
) -> Option<(i64, String)> {
    follows
        .iter()
        .filter(|f| f.state == "active" && f.staff_status == "active")
        .filter(|f| store_id.is_none_or(|s| staff_store.get(&f.staff_id) == Some(&Some(s))))
        .filter_map(|f| {
            f.wecom_userid
                .as_deref()
                .filter(|u| !u.is_empty())
                .map(|u| (f, u))
        })
        .max_by_key(|(f, _)| (f.is_owner, f.since, std::cmp::Reverse(f.staff_id)))
        .map(|(f, u)| (f.staff_id, u.to_owned()))
}

/// A recipients page's limit (1–500, default 50), its state filter checked.
fn page_limit(state: Option<&str>, limit: Option<i64>) -> Result<i64> {
    if let Some(s) = state
        && !core::RECIPIENT_STATES.contains(&s)
    {
        return Err(FieldError::new(
            "state",
            "invalid_status",
            format!("one of {}", core::RECIPIENT_STATES.join(", ")),
        )
        .into());
    }
    let limit = limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(FieldError::new("limit", "invalid_page_size", "1–500").into());
    }
    Ok(limit)
}

/// Reminder times of the last 24 hours.
fn recent_reminders(json: &str, now: i64) -> Vec<i64> {
    serde_json::from_str::<Vec<i64>>(json)
        .unwrap_or_default()
        .into_iter()
        .filter(|&t| t > now - 24 * 3600 * 1000)
        .collect()
}

fn to_wecom(a: &Attachment) -> wapi::Attachment {
    match a {
        Attachment::Link {
            title,
            url,
            desc,
            picurl,
        } => wapi::Attachment::link(
            title,
            url,
            (!picurl.is_empty()).then_some(picurl.as_str()),
            (!desc.is_empty()).then_some(desc.as_str()),
        ),
        Attachment::Image { pic_url } => wapi::Attachment(serde_json::json!({
            "msgtype": "image",
            "image": { "pic_url": pic_url },
        })),
    }
}

/// Errors that retrying will not cure.
fn permanent(e: &yutang_wecom::WecomError) -> bool {
    matches!(e, yutang_wecom::WecomError::InvalidRequest { .. })
        || matches!(
            e.errcode(),
            Some(yutang_wecom::client::codes::INVALID_SECRET)
                | Some(yutang_wecom::client::codes::INVALID_CORPID)
                | Some(yutang_wecom::client::codes::INVALID_PARAMETER)
                | Some(wapi::ERR_NO_APP_PRIVILEGE)
        )
}

pub(crate) fn wecom_unavailable(e: &yutang_wecom::WecomError) -> AppError {
    AppError::Unavailable {
        code: "wecom_error",
        message: format!("WeCom answered: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(
        staff: i64,
        state: &str,
        owner: bool,
        since: i64,
        userid: Option<&str>,
    ) -> store::FollowFact {
        store::FollowFact {
            customer_id: 1,
            staff_id: staff,
            state: state.into(),
            is_owner: owner,
            since,
            staff_status: "active".into(),
            wecom_userid: userid.map(str::to_owned),
        }
    }

    #[test]
    fn the_sender_is_an_active_guide_with_wecom_owner_first() {
        let a = f(1, "active", false, 10, Some("a"));
        let b = f(2, "active", true, 5, Some("b"));
        let c = f(3, "deleted_by_customer", true, 20, Some("c"));
        let d = f(4, "active", true, 30, None);
        let stores = HashMap::from([(1, Some(10)), (2, Some(20)), (3, Some(10)), (4, Some(10))]);
        assert_eq!(
            choose_sender(&[&a, &b, &c, &d], None, &stores),
            Some((2, "b".into()))
        );
        // A store's message: only that store's guides.
        assert_eq!(
            choose_sender(&[&a, &b, &c, &d], Some(10), &stores),
            Some((1, "a".into()))
        );
        assert_eq!(choose_sender(&[&c, &d], None, &stores), None);
        let mut gone = a.clone();
        gone.staff_status = "disabled".into();
        assert_eq!(choose_sender(&[&gone], None, &stores), None);
    }

    #[test]
    fn reminders_older_than_a_day_do_not_count() {
        let now = 100 * 3600 * 1000;
        let old = now - 25 * 3600 * 1000;
        let json = format!("[{old}, {}, {}]", now - 1000, now - 2000);
        assert_eq!(recent_reminders(&json, now).len(), 2);
        assert!(recent_reminders("garbage", now).is_empty());
    }
}
