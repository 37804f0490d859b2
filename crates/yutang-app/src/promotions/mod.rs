//! Promotions: coupon templates and coupons ([`coupons`]), flash sales ([`flash_sales`]) and
//! group-buys ([`group_buys`]) — the staff use cases (ManagePromotions), the public ones a
//! customer calls with a customer token, and the durable timers (coupon expiry and reminders,
//! flash-sale hold release, group-buy deadlines). This module holds what the three share: the
//! permission checks, audiences, the promotion audit entry, idempotent-replay lookup, and the
//! job kinds with their one handler.

/// The rows this area hands to its callers (read models; defined by the store).
pub use yutang_store::promotions::{
    Claimed, FlashClaimed, Publication, Removal, TeamJoined, TemplateStats,
};

pub mod coupons;
pub mod flash_sales;
pub mod group_buys;
pub mod media;
pub mod stats;

pub use coupons::{CouponView, IssueSummary, TemplateView};
pub use flash_sales::FlashSaleView;
pub use group_buys::{GroupBuyView, StaffTeamView, TeamView};
pub use stats::{CampaignKind, CampaignStatsView};

use roaring::RoaringBitmap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::promotions::coupons::{CouponEvent, CouponState, transition};
use yutang_core::promotions::{Audience, Campaign, PromoRefusal, Window};
use yutang_core::staff::Permission;
use yutang_core::time::Millis;
use yutang_store::jobs::NewJob;
use yutang_store::promotions::{self as store, Idem};
use yutang_store::{StoreError, Tx};

use crate::error::{AppError, Result};
use crate::{Actor, App, idempotency};

/// Issue a template to every member of a segment, as a job with progress.
pub const ISSUE_KIND: &str = "coupon_issue";
/// Every job kind this module runs.
pub const JOB_KINDS: [&str; 5] = [
    ISSUE_KIND,
    store::JOB_COUPON_EXPIRE,
    store::JOB_COUPON_REMIND,
    store::JOB_FLASH_RELEASE,
    store::JOB_TEAM_DEADLINE,
];

/// The job kinds this area runs (see `crate::job_kinds`): all of [`JOB_KINDS`], one handler.
pub(crate) fn register(reg: &mut crate::jobs::JobRegistry) {
    for kind in JOB_KINDS {
        reg.register(kind, |app, job| {
            Box::pin(async move {
                app.promotions()
                    .run_promo_job(&job.kind, job.id, &job.payload, job.progress_done)
                    .await
            })
        });
    }
}

fn manage(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManagePromotions) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn view(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ViewCustomers) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn refusal(r: PromoRefusal) -> AppError {
    AppError::Rule {
        code: r.code(),
        message: r.to_string(),
    }
}

/// Why staff cannot issue from a campaign that is not open: a draft must be published first;
/// anything else is archived.
fn closed(status: &str) -> AppError {
    match status {
        "draft" => AppError::Rule {
            code: "promotion_draft",
            message: "this promotion is a draft; publish it first".into(),
        },
        _ => refusal(PromoRefusal::Inactive),
    }
}

/// A public write's idempotency key, namespaced by what it does and who asks
/// (`flash_claim:{customer}:{client key}`), and the fingerprint of the request (its kind and
/// parts) that a replay must match.
struct PublicWrite {
    key: Option<String>,
    fingerprint: String,
}

impl PublicWrite {
    fn new(kind: &str, customer: CustomerId, key: Option<&str>, parts: &[&str]) -> Result<Self> {
        let key = match key {
            Some(k) => Some(format!(
                "{kind}:{}:{}",
                customer.0,
                idempotency::parse_idempotency_key(k)?
            )),
            None => None,
        };
        let all: Vec<&str> = std::iter::once(kind).chain(parts.iter().copied()).collect();
        Ok(Self {
            key,
            fingerprint: idempotency::fingerprint(&all),
        })
    }

    fn idem(&self) -> Option<Idem<'_>> {
        self.key.as_deref().map(|key| Idem {
            key,
            fingerprint: &self.fingerprint,
        })
    }
}

/// A promotion's entry on the customer's timeline, in the change's transaction.
async fn event_in(
    tx: &mut Tx,
    customer: i64,
    kind: &str,
    staff: Option<i64>,
    detail: serde_json::Value,
    now: i64,
) -> Result<()> {
    let d = detail.to_string();
    yutang_store::events::append_in(tx, customer, kind, now, staff, &d, now).await?;
    Ok(())
}

/// A campaign row's facts for core's claim rules; `window` (`starts, ends`) where a claim
/// must fall inside one.
fn campaign(status: &str, window: Option<(i64, i64)>, stock: i64, sold: i64) -> Campaign {
    Campaign {
        active: status == "active",
        window: window.map(|(s, e)| Window {
            starts_at: Millis(s),
            ends_at: Millis(e),
        }),
        stock,
        sold,
    }
}

/// Whether a new campaign opens when saved or waits as a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Publish {
    /// Open to customers from its window on.
    #[default]
    Now,
    /// Closed and invisible to customers until published.
    Draft,
}

/// A campaign just inserted in `tx`: made a draft there when asked, so it is never open.
async fn created_in(
    tx: &mut Tx,
    table: store::CampaignTable,
    id: i64,
    publish: Publish,
) -> Result<i64> {
    if publish == Publish::Draft {
        store::mark_draft_in(tx, table, id).await?;
    }
    Ok(id)
}

fn bad_record(e: serde_json::Error) -> AppError {
    AppError::Internal(format!("stored promotion does not parse: {e}"))
}

/// The use cases the three promotion kinds share: audience checks, the promotion audit entry,
/// replays and the promotion job handler.
#[derive(Clone, Copy)]
pub struct Promotions<'a>(&'a App);

impl std::ops::Deref for Promotions<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

fn unknown_segment() -> FieldError {
    FieldError::new(
        "audience",
        "unknown_segment",
        "no saved segment with this id",
    )
}

impl App {
    /// The use cases of [`Promotions`].
    pub fn promotions(&self) -> Promotions<'_> {
        Promotions(self)
    }
}

impl Promotions<'_> {
    // --- audiences ---

    /// Whether a customer belongs to a promotion's audience (through the segment index).
    pub async fn in_audience(&self, audience: &Audience, customer: CustomerId) -> Result<bool> {
        let src = match audience {
            Audience::Everyone => return Ok(true),
            Audience::Segment { segment_id } => {
                match yutang_store::segments::get(&self.db, *segment_id).await {
                    Ok(s) => s.expression,
                    Err(StoreError::NotFound) => return Ok(false),
                    Err(e) => return Err(e.into()),
                }
            }
            other => match other.expression() {
                Some(e) => e,
                None => return Ok(true),
            },
        };
        let Ok(id) = u32::try_from(customer.0) else {
            return Ok(false);
        };
        let expr = self.segments.compile(&src)?;
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        let mut one = RoaringBitmap::new();
        one.insert(id);
        Ok(!self
            .segments
            .evaluate(&expr, self.now(), Some(&one))?
            .is_empty())
    }

    async fn check_audience(&self, audience: &Audience, customer: CustomerId) -> Result<()> {
        if self.in_audience(audience, customer).await? {
            Ok(())
        } else {
            Err(refusal(PromoRefusal::NotInAudience))
        }
    }

    async fn check_segment_exists(&self, audience: &Audience) -> Result<()> {
        if let Audience::Segment { segment_id } = audience {
            yutang_store::segments::get(&self.db, *segment_id)
                .await
                .map_err(|_| unknown_segment())?;
        }
        if let Some(expr) = audience.expression() {
            self.segments.compile(&expr).map_err(|e| {
                FieldError::new(
                    "audience",
                    "invalid_audience",
                    format!("the audience does not match the customer schema: {e}"),
                )
            })?;
        }
        Ok(())
    }

    /// One staff write of a campaign (a coupon template, flash sale or group-buy, created or
    /// updated): the audience is checked, then `write` and the audit entry (`op`, target
    /// `{kind}:{id}`) commit in one transaction. A segment audience's row is locked in that
    /// transaction first, and a segment delete takes the same lock, so the two queue: the
    /// campaign finds the segment gone (`unknown_segment`), or the delete finds the campaign
    /// using it (`segment_in_use`). Returns the id `write` returns.
    pub(super) async fn write_campaign(
        &self,
        actor: &Actor,
        audience: &Audience,
        (op, kind, name): (&str, &str, &str),
        write: impl AsyncFnOnce(&mut yutang_store::Tx) -> Result<i64>,
    ) -> Result<i64> {
        self.check_segment_exists(audience).await?;
        let mut tx = self.db.begin().await?;
        if let Audience::Segment { segment_id } = audience
            && !yutang_store::segments::lock_in(&mut tx, *segment_id).await?
        {
            return Err(unknown_segment().into());
        }
        let id = write(&mut tx).await?;
        self.promo_audit(
            &mut tx,
            actor,
            op,
            format!("{kind}:{id}"),
            serde_json::json!({"name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Remove a campaign (the staff "delete"): one with history — claims or coupons of a
    /// template, claims of a flash sale, teams of a group-buy — is archived and keeps its
    /// statistics; one without is deleted. The audit entry (`{kind}.archive` or
    /// `{kind}.delete` in the detail) commits with the change; removing an archived campaign
    /// again changes nothing and writes nothing.
    pub(super) async fn remove_campaign(
        &self,
        actor: &Actor,
        table: store::CampaignTable,
        id: i64,
        (kind, what): (&'static str, &'static str),
    ) -> Result<Removal> {
        manage(actor)?;
        let mut tx = self.db.begin().await?;
        let removal = store::remove_campaign_in(&mut tx, table, id, self.now())
            .await?
            .ok_or(AppError::NotFound { what })?;
        let op = match removal {
            Removal::AlreadyArchived => return Ok(removal),
            Removal::Archived => "archive",
            Removal::Deleted => "delete",
        };
        self.promo_audit(
            &mut tx,
            actor,
            &format!("{kind}.{op}"),
            format!("{kind}:{id}"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(removal)
    }

    /// Publish a draft (the staff 发布), under the row lock claims take. The audit entry
    /// (`{kind}.publish`) commits with the change; publishing a published campaign again
    /// changes nothing and writes nothing; an archived one is refused.
    pub(super) async fn publish_campaign(
        &self,
        actor: &Actor,
        table: store::CampaignTable,
        id: i64,
        (kind, what): (&'static str, &'static str),
    ) -> Result<Publication> {
        manage(actor)?;
        let mut tx = self.db.begin().await?;
        let done = store::publish_campaign_in(&mut tx, table, id, self.now())
            .await?
            .ok_or(AppError::NotFound { what })?;
        match done {
            Publication::AlreadyPublished => return Ok(done),
            Publication::Archived => {
                return Err(AppError::Rule {
                    code: "promotion_inactive",
                    message: format!("this {what} is archived and cannot be published"),
                });
            }
            Publication::Published => {}
        }
        self.promo_audit(
            &mut tx,
            actor,
            &format!("{kind}.publish"),
            format!("{kind}:{id}"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// The audit entry of a promotion change, written in the change's transaction.
    async fn promo_audit(
        &self,
        tx: &mut yutang_store::Tx,
        actor: &Actor,
        action: &str,
        target: String,
        detail: serde_json::Value,
    ) -> Result<()> {
        // One audit action for every promotion change, the operation in the detail.
        let detail = serde_json::json!({"op": action, "detail": detail}).to_string();
        crate::audit::record_in(
            self,
            tx,
            actor,
            crate::audit::Action::PromotionChanged,
            &target,
            &detail,
        )
        .await
    }

    /// The answer to replay when this public write was made before under its idempotency key
    /// (checked before any rule, so a replay after the campaign sold out still answers the
    /// original win).
    async fn replay<T: DeserializeOwned>(
        &self,
        customer: CustomerId,
        idem: Option<Idem<'_>>,
    ) -> Result<Option<T>> {
        let Some(i) = idem else { return Ok(None) };
        match store::replay(&self.db, customer.0, i).await? {
            Some(r) => Ok(Some(serde_json::from_str(&r).map_err(bad_record)?)),
            None => Ok(None),
        }
    }

    /// The start of every public write: its key and fingerprint, and the recorded answer
    /// when the request is a replay (see [`Self::replay`]).
    async fn public_write<T: DeserializeOwned>(
        &self,
        kind: &str,
        customer: CustomerId,
        key: Option<&str>,
        parts: &[&str],
    ) -> Result<(PublicWrite, Option<T>)> {
        let write = PublicWrite::new(kind, customer, key, parts)?;
        let replayed = self.replay(customer, write.idem()).await?;
        Ok((write, replayed))
    }

    /// One public write (a claim, an opening, a join) in one transaction that ends with its
    /// idempotency record. When it fails because a concurrent copy of the same request got
    /// there first (the record's `UNIQUE` key, or a rule that copy's win now breaks), that
    /// copy's answer is the replay; a copy still in flight is 409 `request_in_progress`.
    async fn write_once<T: Serialize + DeserializeOwned>(
        &self,
        customer: CustomerId,
        idem: Option<Idem<'_>>,
        write: impl AsyncFnOnce(&mut Tx) -> Result<T>,
    ) -> Result<(T, bool)> {
        let mut tx = self.db.begin().await?;
        let out = match write(&mut tx).await {
            Ok(out) => out,
            Err(e) => {
                drop(tx);
                return match self.replay(customer, idem).await? {
                    Some(r) => Ok((r, true)),
                    None => Err(e),
                };
            }
        };
        if let Some(i) = idem {
            let record = serde_json::to_string(&out).map_err(bad_record)?;
            if let Err(e) = store::record_in(&mut tx, customer.0, i, &record, self.now()).await {
                drop(tx);
                return match (self.replay(customer, idem).await?, e) {
                    (Some(r), _) => Ok((r, true)),
                    (None, StoreError::Conflict { .. }) => Err(idempotency::in_progress()),
                    (None, e) => Err(e.into()),
                };
            }
        }
        tx.commit().await?;
        Ok((out, false))
    }

    /// Enqueue a promotion's timer (hold release, team deadline, coupon expiry or reminder) in
    /// the transaction that creates what it times; its key makes it at most once.
    async fn timer_in(
        &self,
        tx: &mut Tx,
        kind: &str,
        target: i64,
        run_at: i64,
        key: &str,
    ) -> Result<()> {
        let job = NewJob {
            kind,
            payload: &target.to_string(),
            run_at,
            idempotency_key: Some(key),
            created_by: None,
        };
        yutang_store::jobs::enqueue_fingerprinted_in(tx, &job, "", self.now()).await?;
        Ok(())
    }

    // --- jobs ---

    /// Run one promotions job; the result is the job's JSON summary.
    pub(crate) async fn run_promo_job(
        &self,
        kind: &str,
        id: i64,
        payload: &str,
        done: i64,
    ) -> Result<String> {
        let target = || -> Result<i64> {
            payload
                .trim()
                .parse()
                .map_err(|_| AppError::Internal(format!("bad {kind} payload")))
        };
        let now = self.now();
        let out = match kind {
            ISSUE_KIND => return self.coupons().run_issue_job(id, payload, done).await,
            store::JOB_COUPON_EXPIRE => {
                let c = match store::get_coupon(&self.db, target()?).await {
                    Ok(c) => c,
                    Err(StoreError::NotFound) => return Ok("{}".into()),
                    Err(e) => return Err(e.into()),
                };
                let from = CouponState::parse(&c.state).unwrap_or(CouponState::Revoked);
                match transition(
                    from,
                    CouponEvent::Expire,
                    Millis(now),
                    Millis(c.valid_until),
                ) {
                    Some(to) => {
                        store::coupon_transition(
                            &self.db,
                            c.id,
                            from.as_str(),
                            to.as_str(),
                            "coupon_expired",
                            None,
                            now,
                        )
                        .await?
                    }
                    None => false,
                }
            }
            store::JOB_COUPON_REMIND => store::remind_coupon(&self.db, target()?, now).await?,
            store::JOB_FLASH_RELEASE => self.flash_sales().release_hold(target()?).await?,
            store::JOB_TEAM_DEADLINE => self.group_buys().expire_team(target()?).await? > 0,
            other => {
                return Err(AppError::Internal(format!(
                    "no promotions handler for {other}"
                )));
            }
        };
        Ok(serde_json::json!({ "changed": out }).to_string())
    }
}
