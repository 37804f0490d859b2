//! Consultant choice and service ratings (专属顾问与服务评价, issue #23 item 5).
//!
//! **The consultant.** A customer's consultant (专属顾问) is the guide who owns their follows
//! (`follows.is_owner`); their store is the consultant's (else the store of their earliest
//! active follow). The customer sees the consultant with their average rating and the other
//! active guides of that store, and chooses one ([`Ratings::choose`]):
//!
//! - a guide who already follows the customer (an active WeCom contact) becomes the owner at
//!   once (`done`);
//! - otherwise the choice is `pending`: the guide gets a guide task "add this customer" (due in
//!   24 hours, reminded through WeCom if still open) and the change completes when their follow
//!   arrives through the WeCom callback ([`settle_pending_in`], in the callback's transaction).
//!   A new choice supersedes a pending one.
//!
//! Either way the chosen guide is told by a WeCom app message (a job, once per change) and the
//! choice is audited (`consultant_changed`, actor `customer:{id}`). Choosing the current
//! consultant changes nothing. Anything but an active guide of the customer's store is 422
//! `invalid_consultant` on `staff_id`.
//!
//! **Ratings.** A customer rates a guide task done for them or one of their orders, once,
//! 1–5 with an optional comment ([`Ratings::rate`]). The rated guide is the task's guide, or
//! the order's attributed guide, else the consultant at the time. The same rating again (same
//! subject, score and comment) answers the stored one; a different one for a rated subject is
//! 409 `rating_exists`. A score at or under `ratings.low_score` (default 2) queues one WeCom
//! app message per active store manager of the guide's store, in the rating's transaction
//! (idempotent by key, like churn alerts).
//!
//! **Who sees ratings.** A guide their own, a store manager their store's (the guide's store
//! when rated), headquarters and analysts all; the same scope ranks guides and stores by
//! average ([`Ratings::summary`]).

use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::access::Caller;
use yutang_core::ratings::{self as core, SubjectKind};
use yutang_store::Tx;
use yutang_store::customers::{FollowInput, upsert_follow_in};
use yutang_store::jobs::{self as job_store, JobRow, NewJob};
use yutang_store::ratings::{
    self as store, ChangeRow, GuideRow, NewChange, NewRating, RatableRow, RatingFilter, RatingRow,
    SummaryRow,
};
use yutang_wecom::client::api::MessageSendRequest;

use crate::analytics::reports::DEDUPE_SECS;
use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::guide_tasks::NewGuideTask;
use crate::idempotency::{check_replay, fingerprint};
use crate::jobs::JobRegistry;
use crate::staff_scope::StaffScope as Scope;
use crate::{Actor, App};

/// Job kind: tell a store manager about a low rating.
pub const LOW_KIND: &str = "rating_low_notify";
/// Job kind: tell a guide a customer chose them as consultant.
pub const CHOSEN_KIND: &str = "consultant_chosen_notify";
/// What a customer is offered to rate: done tasks and orders of the last this many days.
pub const RATABLE_DAYS: i64 = 90;
/// At most this many of each kind.
const RATABLE_LIMIT: i64 = 20;
const DAY_MS: i64 = 24 * 3600 * 1000;
const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;

pub(crate) fn register(reg: &mut JobRegistry) {
    reg.register(LOW_KIND, |app, job| {
        Box::pin(async move { app.ratings().run_low_notify(job).await })
    });
    reg.register(CHOSEN_KIND, |app, job| {
        Box::pin(async move { app.ratings().run_chosen_notify(job).await })
    });
}

/// The rating and consultant use cases.
pub struct Ratings<'a>(&'a App);

impl std::ops::Deref for Ratings<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    pub fn ratings(&self) -> Ratings<'_> {
        Ratings(self)
    }
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(format!("json: {e}")))
}

/// The audit log's actor for a customer's own action.
fn customer_actor(customer: i64) -> Actor {
    Actor {
        caller: Caller::system(),
        name: format!("customer:{customer}"),
        ip: "h5".into(),
    }
}

fn invalid_consultant() -> AppError {
    FieldError::new(
        "staff_id",
        "invalid_consultant",
        "choose an active guide of your store",
    )
    .into()
}

fn unknown_subject() -> AppError {
    FieldError::new(
        "subject_id",
        "unknown_subject",
        "no such task or order of yours",
    )
    .into()
}

fn not_ratable(why: &str) -> AppError {
    FieldError::new("subject_id", "subject_not_ratable", why.to_owned()).into()
}

fn rating_exists() -> AppError {
    AppError::Rule {
        code: "rating_exists",
        message: "you rated this already, with another score or comment".into(),
    }
}

// ---------------------------------------------------------------- views

/// A guide as the customer sees them.
#[derive(Debug, Clone, Serialize)]
pub struct GuideView {
    pub staff_id: i64,
    pub name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// The average score in thousandths (`4333` for 4.333); `None` without ratings.
    pub average_milli: Option<i64>,
    pub ratings: i64,
}

/// A pending choice.
#[derive(Debug, Clone, Serialize)]
pub struct PendingView {
    pub staff_id: i64,
    pub name: String,
    pub since: i64,
}

/// The customer's consultant and whom they may choose.
#[derive(Debug, Clone, Serialize)]
pub struct ConsultantView {
    pub consultant: Option<GuideView>,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// The other active guides of the store, by name.
    pub choices: Vec<GuideView>,
    /// A choice waiting for the guide to add the customer.
    pub pending: Option<PendingView>,
}

/// What a choice did: `done`, `pending` or `unchanged` (the current consultant again).
#[derive(Debug, Clone, Serialize)]
pub struct ChoiceView {
    pub outcome: String,
    #[serde(flatten)]
    pub view: ConsultantView,
}

/// Something to rate.
#[derive(Debug, Clone, Serialize)]
pub struct RatableView {
    /// `task` or `order`.
    pub subject_kind: String,
    pub subject_id: i64,
    /// Who would be rated.
    pub staff_id: Option<i64>,
    pub staff_name: Option<String>,
    /// The task's title, or the order's number.
    pub title: String,
    /// When the task was done or the order paid.
    pub at: i64,
    pub amount_fen: Option<i64>,
}

/// A rating as shown.
#[derive(Debug, Clone, Serialize)]
pub struct RatingView {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: Option<String>,
    pub staff_id: i64,
    pub staff_name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub subject_kind: String,
    pub subject_id: i64,
    pub score: i64,
    pub comment: String,
    /// Whether it was low when made (the store's managers were told).
    pub low: bool,
    pub created_at: i64,
}

impl From<RatingRow> for RatingView {
    fn from(r: RatingRow) -> Self {
        Self {
            id: r.id,
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            staff_id: r.staff_id,
            staff_name: r.staff_name.unwrap_or_default(),
            store_id: r.store_id,
            store_name: r.store_name,
            subject_kind: r.subject_kind,
            subject_id: r.subject_id,
            score: r.score,
            comment: r.comment,
            low: r.low,
            created_at: r.created_at,
        }
    }
}

/// A page of ratings, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct RatingPage {
    pub items: Vec<RatingView>,
    pub next_before: Option<i64>,
}

/// What to list or rank, as the caller gave it.
#[derive(Debug, Clone, Default)]
pub struct RatingQuery {
    pub staff_id: Option<i64>,
    pub store_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Only scores at or under this (1–5).
    pub max_score: Option<i64>,
    /// Only the last this many days (1–90); all when absent.
    pub days: Option<i64>,
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// How to group the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Staff,
    Store,
}

impl By {
    pub fn from_field(f: &'static str, s: &str) -> std::result::Result<Self, FieldError> {
        match s {
            "staff" => Ok(By::Staff),
            "store" => Ok(By::Store),
            _ => Err(FieldError::new(f, "invalid_group", "staff or store")),
        }
    }
}

/// One line of the ranking.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryLine {
    /// 1 for the best average (ties share the order of more ratings, then the id).
    pub rank: i64,
    /// The guide's or the store's id.
    pub id: Option<i64>,
    pub name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub count: i64,
    /// The average in thousandths.
    pub average_milli: i64,
    /// Ratings at or under the low line when made.
    pub low_count: i64,
}

/// A customer's rating, as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct RateInput {
    pub subject_kind: String,
    pub subject_id: i64,
    pub score: i64,
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LowJob {
    rating_id: i64,
    staff_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ChosenJob {
    change_id: i64,
    staff_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
}

/// The filter within the caller's scope; `None` when the asked filter lies outside it.
fn scoped_filter(actor: &Actor, q: &RatingQuery, now: i64) -> Result<Option<RatingFilter>> {
    let scope = Scope::of(actor)?;
    if let Some(m) = q.max_score {
        core::parse_score("max_score", m)?;
    }
    let since = match q.days {
        Some(d) if (1..=90).contains(&d) => Some(now - d * DAY_MS),
        Some(_) => return Err(FieldError::new("days", "invalid_days", "1–90").into()),
        None => None,
    };
    let (mut staff_id, mut store_id) = (q.staff_id, q.store_id);
    match scope {
        Scope::All => {}
        Scope::Store(own) => {
            if store_id.is_some_and(|s| s != own) {
                return Ok(None);
            }
            store_id = Some(own);
        }
        Scope::Guide(own) => {
            if staff_id.is_some_and(|s| s != own) {
                return Ok(None);
            }
            staff_id = Some(own);
        }
    }
    Ok(Some(RatingFilter {
        staff_id,
        store_id,
        customer_id: q.customer_id,
        max_score: q.max_score,
        since,
        before: q.before,
    }))
}

fn guide_view(g: &GuideRow, totals: Option<(i64, i64)>) -> GuideView {
    let (count, sum) = totals.unwrap_or((0, 0));
    GuideView {
        staff_id: g.id,
        name: g.display_name.clone(),
        store_id: g.store_id,
        store_name: g.store_name.clone(),
        average_milli: core::average_milli(sum, count),
        ratings: count,
    }
}

/// Rank summary rows: best average first, then more ratings, then the smaller id.
pub fn rank(rows: Vec<SummaryRow>) -> Vec<SummaryLine> {
    let mut lines: Vec<SummaryLine> = rows
        .into_iter()
        .filter(|r| r.count > 0)
        .map(|r| SummaryLine {
            rank: 0,
            id: r.key_id,
            name: r.name.unwrap_or_default(),
            store_id: r.store_id,
            store_name: r.store_name,
            count: r.count,
            average_milli: core::average_milli(r.score_sum, r.count).unwrap_or(0),
            low_count: r.low_count,
        })
        .collect();
    lines.sort_by(|a, b| {
        b.average_milli
            .cmp(&a.average_milli)
            .then(b.count.cmp(&a.count))
            .then(a.id.cmp(&b.id))
    });
    for (i, l) in lines.iter_mut().enumerate() {
        l.rank = i as i64 + 1;
    }
    lines
}

/// Complete the customer's pending choice of `staff` now that `staff` follows them (the WeCom
/// callback calls this in its transaction after writing an active follow): the guide becomes
/// the owner. `false` when no choice was waiting for them.
pub async fn settle_pending_in(app: &App, tx: &mut Tx, customer: i64, staff: i64) -> Result<bool> {
    let now = app.now();
    if !store::complete_pending_in(tx, customer, staff, now).await? {
        return Ok(false);
    }
    upsert_follow_in(
        tx,
        &FollowInput {
            customer_id: customer,
            staff_id: staff,
            since: now,
            remark: None,
            state: "active",
            owner: Some(true),
        },
        now,
    )
    .await?;
    Ok(true)
}

impl Ratings<'_> {
    fn low_score(&self) -> i64 {
        core::parse_low_score("low_score", self.settings.ratings.low_score)
            .unwrap_or(core::DEFAULT_LOW_SCORE)
    }

    /// The customer's consultant, their store's other active guides and a pending choice.
    pub async fn consultant(&self, customer: i64) -> Result<ConsultantView> {
        let current = store::consultant(&self.db, customer).await?;
        let store_id = match &current {
            Some(c) => c.store_id,
            None => store::follow_store(&self.db, customer).await?,
        };
        let guides = match store_id {
            Some(s) => store::store_guides(&self.db, s).await?,
            None => Vec::new(),
        };
        let mut ids: Vec<i64> = guides.iter().map(|g| g.id).collect();
        if let Some(c) = &current {
            ids.push(c.id);
        }
        let totals = store::staff_totals(&self.db, &ids).await?;
        let total = |id: i64| totals.iter().find(|t| t.0 == id).map(|t| (t.1, t.2));
        let store_name = match (&current, guides.first()) {
            (Some(c), _) if c.store_id == store_id => c.store_name.clone(),
            (_, Some(g)) => g.store_name.clone(),
            _ => None,
        };
        let choices = guides
            .iter()
            .filter(|g| current.as_ref().is_none_or(|c| c.id != g.id))
            .map(|g| guide_view(g, total(g.id)))
            .collect();
        let pending = match store::pending_change(&self.db, customer).await? {
            Some(p) => {
                let name = store::guide(&self.db, p.to_staff_id)
                    .await?
                    .map(|g| g.display_name)
                    .unwrap_or_default();
                Some(PendingView {
                    staff_id: p.to_staff_id,
                    name,
                    since: p.created_at,
                })
            }
            None => None,
        };
        Ok(ConsultantView {
            consultant: current.as_ref().map(|c| guide_view(c, total(c.id))),
            store_id,
            store_name,
            choices,
            pending,
        })
    }

    /// The customer chooses `staff` as their consultant (see the module's doc). Returns what
    /// happened and whether it is a replay of an `Idempotency-Key`.
    pub async fn choose(
        &self,
        customer: i64,
        staff: i64,
        idempotency_key: Option<&str>,
    ) -> Result<(ChoiceView, bool)> {
        let fp = fingerprint(&[
            "consultant_choice",
            &customer.to_string(),
            &staff.to_string(),
        ]);
        let key = idempotency_key.map(|k| format!("customer:{customer}:consultant:{k}"));
        if let Some(k) = &key
            && let Some(prior) = store::change_by_key(&self.db, k).await?
        {
            check_replay(&prior.fingerprint, &fp)?;
            return Ok((self.choice_view(customer, &prior.status).await?, true));
        }
        let current = store::consultant(&self.db, customer).await?;
        let store_id = match &current {
            Some(c) => c.store_id,
            None => store::follow_store(&self.db, customer).await?,
        };
        let guide = store::guide(&self.db, staff).await?;
        let ok = guide.as_ref().is_some_and(|g| {
            g.role == "guide"
                && g.status == "active"
                && store_id.is_some()
                && g.store_id == store_id
        });
        if !ok {
            return Err(invalid_consultant());
        }
        if current.as_ref().is_some_and(|c| c.id == staff) {
            return Ok((self.choice_view(customer, "unchanged").await?, false));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let follows = store::follow_state_in(&mut tx, customer, staff).await?;
        let done = follows.as_deref() == Some("active");
        store::supersede_pending_in(&mut tx, customer, now).await?;
        let status = if done { "done" } else { "pending" };
        let change = NewChange {
            customer_id: customer,
            from_staff_id: current.as_ref().map(|c| c.id),
            to_staff_id: staff,
            store_id,
            status,
            idempotency_key: key.as_deref(),
            fingerprint: &fp,
        };
        let Some(id) = store::insert_change_in(&mut tx, &change, now).await? else {
            // A concurrent request with the same key won.
            drop(tx);
            let prior = match &key {
                Some(k) => store::change_by_key(&self.db, k).await?,
                None => None,
            }
            .ok_or_else(crate::idempotency::in_progress)?;
            check_replay(&prior.fingerprint, &fp)?;
            return Ok((self.choice_view(customer, &prior.status).await?, true));
        };
        let name = store::customer_name_in(&mut tx, customer).await?;
        if done {
            upsert_follow_in(
                &mut tx,
                &FollowInput {
                    customer_id: customer,
                    staff_id: staff,
                    since: now,
                    remark: None,
                    state: "active",
                    owner: Some(true),
                },
                now,
            )
            .await?;
        } else {
            let who = if name.trim().is_empty() {
                format!("#{customer}")
            } else {
                name.trim().chars().take(20).collect()
            };
            let title = format!("添加客户 {who} 为好友（专属顾问）");
            let body =
                "客户在 H5 选择您为专属顾问。请添加客户为企业微信好友，添加后自动成为其专属顾问。";
            let dedupe = format!("consultant_change:{id}");
            let task = crate::guide_tasks::create_in(
                self,
                &mut tx,
                &NewGuideTask {
                    staff_id: staff,
                    customer_id: Some(customer),
                    title: &title,
                    body,
                    material_id: None,
                    source: "manual",
                    source_ref: &dedupe,
                    dedupe_key: &dedupe,
                    due_at: now + DAY_MS,
                    created_by: None,
                },
            )
            .await?;
            if let Some(t) = task {
                store::set_change_task_in(&mut tx, id, t).await?;
            }
        }
        let job_key = format!("{CHOSEN_KIND}:{id}");
        job_store::enqueue_in(
            &mut tx,
            &NewJob {
                kind: CHOSEN_KIND,
                payload: &json(&ChosenJob {
                    change_id: id,
                    staff_id: staff,
                    outcome: None,
                })?,
                run_at: now,
                idempotency_key: Some(&job_key),
                created_by: None,
            },
            now,
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            &customer_actor(customer),
            Action::ConsultantChanged,
            &format!("customer:{customer}"),
            &serde_json::json!({
                "from_staff_id": current.as_ref().map(|c| c.id),
                "to_staff_id": staff,
                "status": status,
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok((self.choice_view(customer, status).await?, false))
    }

    async fn choice_view(&self, customer: i64, outcome: &str) -> Result<ChoiceView> {
        Ok(ChoiceView {
            outcome: match outcome {
                "superseded" => "pending".to_owned(),
                o => o.to_owned(),
            },
            view: self.consultant(customer).await?,
        })
    }

    /// The customer's done tasks and orders of the last [`RATABLE_DAYS`] days not yet rated,
    /// newest first.
    pub async fn ratable(&self, customer: i64) -> Result<Vec<RatableView>> {
        let since = self.now() - RATABLE_DAYS * DAY_MS;
        let mut rows = store::ratable_tasks(&self.db, customer, since, RATABLE_LIMIT).await?;
        rows.extend(store::ratable_orders(&self.db, customer, since, RATABLE_LIMIT).await?);
        // An order without a guide rates the consultant.
        let consultant = store::consultant(&self.db, customer).await?;
        let mut out: Vec<RatableView> = rows
            .into_iter()
            .filter_map(|r: RatableRow| {
                let (staff_id, staff_name) = match r.staff_id {
                    Some(s) => (Some(s), r.staff_name),
                    None => match &consultant {
                        Some(c) => (Some(c.id), Some(c.display_name.clone())),
                        None => return None,
                    },
                };
                Some(RatableView {
                    subject_kind: r.subject_kind,
                    subject_id: r.subject_id,
                    staff_id,
                    staff_name,
                    title: r.title,
                    at: r.at,
                    amount_fen: r.amount_fen,
                })
            })
            .collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.at));
        Ok(out)
    }

    /// The customer rates a task or an order (see the module's doc). Returns the rating and
    /// whether it is new (`false`: a replay answered the stored one).
    pub async fn rate(
        &self,
        customer: i64,
        input: &RateInput,
        idempotency_key: Option<&str>,
    ) -> Result<(RatingView, bool)> {
        let kind = SubjectKind::from_field("subject_kind", input.subject_kind.trim())?;
        let score = core::parse_score("score", input.score)?;
        let comment = core::parse_comment("comment", input.comment.as_deref().unwrap_or(""))?;
        let fp = fingerprint(&[
            "rating",
            kind.as_str(),
            &input.subject_id.to_string(),
            &score.to_string(),
            &comment,
        ]);
        let key = idempotency_key.map(|k| format!("customer:{customer}:rating:{k}"));
        if let Some(prior) = self
            .prior(customer, kind, input.subject_id, key.as_deref(), &fp)
            .await?
        {
            return Ok((prior.into(), false));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let staff = match kind {
            SubjectKind::Task => {
                let Some((owner, guide, state)) =
                    store::task_subject_in(&mut tx, input.subject_id).await?
                else {
                    return Err(unknown_subject());
                };
                if owner != Some(customer) {
                    return Err(unknown_subject());
                }
                if state != "done" {
                    return Err(not_ratable("the task is not done yet"));
                }
                guide
            }
            SubjectKind::Order => {
                let Some((owner, guide, status)) =
                    store::order_subject_in(&mut tx, input.subject_id).await?
                else {
                    return Err(unknown_subject());
                };
                if owner != customer {
                    return Err(unknown_subject());
                }
                if status == "refunded" {
                    return Err(not_ratable("the order was refunded"));
                }
                let consultant = store::consultant_in(&mut tx, customer).await?.map(|c| c.id);
                core::rated_for_order(guide, consultant)
                    .ok_or_else(|| not_ratable("the order has no guide to rate"))?
            }
        };
        let store_id = store::guide_in(&mut tx, staff)
            .await?
            .and_then(|g| g.store_id);
        let low = core::is_low(score, self.low_score());
        let row = NewRating {
            customer_id: customer,
            staff_id: staff,
            store_id,
            subject_kind: kind.as_str(),
            subject_id: input.subject_id,
            score,
            comment: &comment,
            idempotency_key: key.as_deref(),
            fingerprint: &fp,
            low,
        };
        let Some(id) = store::insert_in(&mut tx, &row, now).await? else {
            // A concurrent rating of the subject (or under the key) won.
            drop(tx);
            return match self
                .prior(customer, kind, input.subject_id, key.as_deref(), &fp)
                .await?
            {
                Some(prior) => Ok((prior.into(), false)),
                None => Err(crate::idempotency::in_progress()),
            };
        };
        if low && let Some(s) = store_id {
            for (manager, _) in yutang_store::churn_alerts::store_managers_in(&mut tx, s).await? {
                let key = format!("{LOW_KIND}:{id}:{manager}");
                job_store::enqueue_in(
                    &mut tx,
                    &NewJob {
                        kind: LOW_KIND,
                        payload: &json(&LowJob {
                            rating_id: id,
                            staff_id: manager,
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
        }
        let rating = store::get_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok((rating.into(), true))
    }

    /// The stored rating that answers this request, if any: the key's (the same request, else
    /// 422 `idempotency_key_reused`), then the subject's (the same score and comment, else 409
    /// `rating_exists`).
    async fn prior(
        &self,
        customer: i64,
        kind: SubjectKind,
        subject: i64,
        key: Option<&str>,
        fp: &str,
    ) -> Result<Option<RatingRow>> {
        if let Some(k) = key
            && let Some(prior) = store::by_key(&self.db, k).await?
        {
            check_replay(&prior.fingerprint, fp)?;
            return Ok(Some(prior));
        }
        match store::by_subject(&self.db, kind.as_str(), subject, customer).await? {
            Some(prior) if prior.fingerprint == fp => Ok(Some(prior)),
            Some(_) => Err(rating_exists()),
            None => Ok(None),
        }
    }

    /// A page of ratings in the caller's scope, newest first.
    pub async fn list(&self, actor: &Actor, q: &RatingQuery) -> Result<RatingPage> {
        let limit = q.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(FieldError::new("limit", "invalid_page_size", "1–200").into());
        }
        let Some(filter) = scoped_filter(actor, q, self.now())? else {
            return Ok(RatingPage {
                items: Vec::new(),
                next_before: None,
            });
        };
        let mut rows = store::list(&self.db, &filter, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(50));
        let next_before = if more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        Ok(RatingPage {
            items: rows.into_iter().map(RatingView::from).collect(),
            next_before,
        })
    }

    /// The ranking by guide or by store in the caller's scope: best average first.
    pub async fn summary(
        &self,
        actor: &Actor,
        by: By,
        q: &RatingQuery,
    ) -> Result<Vec<SummaryLine>> {
        let Some(filter) = scoped_filter(actor, q, self.now())? else {
            return Ok(Vec::new());
        };
        let rows = match by {
            By::Staff => store::summary_by_staff(&self.db, &filter).await?,
            By::Store => store::summary_by_store(&self.db, &filter).await?,
        };
        Ok(rank(rows))
    }

    /// The low-rating job: tell one store manager (see the module's doc).
    async fn run_low_notify(&self, job: &JobRow) -> Result<String> {
        let j: LowJob = serde_json::from_str(&job.payload)
            .map_err(|_| AppError::Internal(format!("bad rating job {}", job.payload)))?;
        let outcome = |what: &str| {
            json(&LowJob {
                rating_id: j.rating_id,
                staff_id: j.staff_id,
                outcome: Some(what.to_owned()),
            })
        };
        let rating = match store::get(&self.db, j.rating_id).await {
            Ok(r) => r,
            Err(yutang_store::StoreError::NotFound) => return outcome("skipped: no rating"),
            Err(e) => return Err(e.into()),
        };
        let kind = SubjectKind::from_field("subject_kind", &rating.subject_kind)
            .map_err(|_| AppError::Internal(format!("bad kind {}", rating.subject_kind)))?;
        let text = core::low_rating_text(
            rating.customer_name.as_deref().unwrap_or(""),
            rating.staff_name.as_deref().unwrap_or(""),
            rating.score,
            kind,
            &rating.comment,
        );
        match self.send_text(j.staff_id, &text).await? {
            Ok(()) => outcome("sent"),
            Err(why) => outcome(&why),
        }
    }

    /// The consultant job: tell the chosen guide.
    async fn run_chosen_notify(&self, job: &JobRow) -> Result<String> {
        let j: ChosenJob = serde_json::from_str(&job.payload)
            .map_err(|_| AppError::Internal(format!("bad consultant job {}", job.payload)))?;
        let outcome = |what: &str| {
            json(&ChosenJob {
                change_id: j.change_id,
                staff_id: j.staff_id,
                outcome: Some(what.to_owned()),
            })
        };
        let change: ChangeRow = match store::change(&self.db, j.change_id).await {
            Ok(c) => c,
            Err(yutang_store::StoreError::NotFound) => return outcome("skipped: no change"),
            Err(e) => return Err(e.into()),
        };
        if change.status == "superseded" {
            return outcome("skipped: superseded");
        }
        let mut tx = self.db.begin().await?;
        let name = store::customer_name_in(&mut tx, change.customer_id).await?;
        drop(tx);
        let text = core::chosen_text(&name, change.status == "pending");
        match self.send_text(j.staff_id, &text).await? {
            Ok(()) => outcome("sent"),
            Err(why) => outcome(&why),
        }
    }

    /// Send `text` to one staff member as a WeCom app message: `Ok(Err(why))` when it was
    /// skipped or refused for good, `Err` when it should be retried.
    async fn send_text(&self, staff: i64, text: &str) -> Result<std::result::Result<(), String>> {
        let staff = match yutang_store::staff::get(&self.db, staff).await {
            Ok(s) => s,
            Err(yutang_store::StoreError::NotFound) => return Ok(Err("skipped: no staff".into())),
            Err(e) => return Err(e.into()),
        };
        let Some(userid) = staff
            .wecom_userid
            .filter(|u| !u.is_empty() && staff.status == "active")
        else {
            return Ok(Err("skipped: not in WeCom".into()));
        };
        let Some((agentid, client)) = self.wecom().app_client().await? else {
            return Ok(Err("skipped: wecom_not_configured".into()));
        };
        let request = MessageSendRequest::text(agentid, &[userid], text, DEDUPE_SECS);
        match client.message_send(&request).await {
            Ok(_) => Ok(Ok(())),
            Err(e) if e.is_transient() => Err(AppError::Internal(format!("wecom_error: {e}"))),
            Err(e) => Ok(Err(format!("wecom_error: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, count: i64, sum: i64) -> SummaryRow {
        SummaryRow {
            key_id: Some(id),
            name: Some(format!("g{id}")),
            store_id: None,
            store_name: None,
            count,
            score_sum: sum,
            low_count: 0,
        }
    }

    #[test]
    fn the_ranking_puts_the_best_average_first() {
        let lines = rank(vec![
            row(1, 2, 8),
            row(2, 3, 15),
            row(3, 4, 16),
            row(4, 0, 0),
        ]);
        let order: Vec<_> = lines
            .iter()
            .map(|l| (l.rank, l.id, l.average_milli))
            .collect();
        assert_eq!(
            order,
            vec![(1, Some(2), 5000), (2, Some(3), 4000), (3, Some(1), 4000)]
        );
    }
}
