//! Moments tasks (客户朋友圈, issue #21 item 3): the brand writes a post once, its guides
//! publish it to their customers' moments through WeCom's `add_moment_task`, and Yutang reads
//! back who published and the likes and comments on each post.
//!
//! **Who.** As for mass messages: admins and operators for the brand, a store manager for
//! their store's guides; analysts read; everyone else 403.
//!
//! **The life of a task.** Saved `scheduled` with its create job at the send time
//! (cancellable until then). The create job writes the guides asked to publish (the listed
//! ones still active with a WeCom account, or every such guide in scope), uploads the images
//! (上传附件资源; a WeCom media id is reused while it has an hour of its three days left),
//! stamps the attempt, and calls `add_moment_task`; WeCom answers with a job id, which the
//! result job polls (`get_moment_task_result`) until WeCom has made the moment: the task is
//! then `created` with the guides WeCom refused marked. The tracking job reads every
//! [`TRACK_EVERY_MS`] for [`TRACK_FOR_MS`] who published (`get_moment_task`) and the likes and
//! comments on each published post (`get_moment_comments`), each recorded once, the
//! customer's joined to their Yutang profile.
//!
//! **A crash** between WeCom's answer and the commit of the job id leaves the attempt stamped
//! without a job id; the next run first looks for the moment in WeCom (`get_moment_list`,
//! the same text and attachments, made since a minute before the attempt, not another task's)
//! and adopts it instead of making a second one. WeCom throttling (45009, 45033) or an
//! unreachable WeCom makes a job come back later, slower each round, instead of failing.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::moments::{MomentAttachment, MomentContent, Senders, Status};
use yutang_store::jobs::{self as job_store, JobRow, NewJob};
use yutang_store::moments::{
    self as store, InteractionRow, MomentRow, NewInteraction, NewSender, SenderRow,
};
use yutang_wecom::WecomClient;
use yutang_wecom::client::api::{
    self as wapi, AddMomentTaskRequest, ExternalContactList, MediaRef, MomentLink,
    MomentListRequest, SenderList, Text, VisibleRange,
};

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::jobs::JobRegistry;
use crate::messaging::{
    PAST_SLACK_MS, own_store, require_reader, require_sender, throttle_delay_ms, wecom_unavailable,
};
use crate::{Actor, App};

/// Job kind: create a task in WeCom at its send time.
pub const CREATE_KIND: &str = "moment_create";
/// Job kind: poll WeCom's job until the moment is made.
pub const RESULT_KIND: &str = "moment_result";
/// Job kind: read who published, likes and comments.
pub const TRACK_KIND: &str = "moment_track";
/// How often a created task's results are read.
pub const TRACK_EVERY_MS: i64 = 30 * 60 * 1000;
/// How long after creation results are read (a post's likes come in the first days).
pub const TRACK_FOR_MS: i64 = 7 * 24 * 3600 * 1000;
/// WeCom keeps a job id this long (95094: "24小时有效").
const JOB_VALID_MS: i64 = 24 * 3600 * 1000;
/// A WeCom attachment media id is reused while it has at least this long left.
const MEDIA_MARGIN_MS: i64 = 3600 * 1000;
/// Throttled rounds before a job gives up.
const MAX_ROUNDS: u32 = 30;
/// The purpose of an uploaded attachment (WeCom's attachment_type 1).
const PURPOSE: &str = "moment";
const LIST_LIMIT: i64 = 200;
const INTERACTIONS_SHOWN: i64 = 100;

pub(crate) fn register(reg: &mut JobRegistry) {
    reg.register(CREATE_KIND, |app, job| {
        Box::pin(async move { app.moments().run_create(job).await })
    });
    reg.register(RESULT_KIND, |app, job| {
        Box::pin(async move { app.moments().run_result(job).await })
    });
    reg.register(TRACK_KIND, |app, job| {
        Box::pin(async move { app.moments().run_track(job).await })
    });
}

/// The moments use cases.
pub struct Moments<'a>(&'a App);

impl std::ops::Deref for Moments<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    pub fn moments(&self) -> Moments<'_> {
        Moments(self)
    }
}

/// A task as submitted, parsed.
#[derive(Debug, Clone)]
pub struct MomentInput {
    pub name: String,
    pub content: MomentContent,
    pub senders: Senders,
    pub tag_ids: Vec<i64>,
    pub send_at: Option<i64>,
}

/// How many guides are where.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SenderCounts {
    pub pending: i64,
    pub published: i64,
    pub invalid: i64,
    pub likes: i64,
    pub comments: i64,
}

/// A task as shown.
#[derive(Debug, Clone, Serialize)]
pub struct MomentView {
    pub id: i64,
    pub name: String,
    pub content: MomentContent,
    /// The listed guides; `None`: every guide in scope.
    pub sender_ids: Option<Vec<i64>>,
    pub tag_ids: Vec<i64>,
    pub status: String,
    pub send_at: i64,
    pub store_id: Option<i64>,
    pub moment_id: Option<String>,
    pub error: String,
    /// Visible tags WeCom did not know.
    pub invalid_tag_ids: Vec<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub tracked_at: Option<i64>,
    pub counts: SenderCounts,
}

/// A task with its guides and the latest likes and comments.
#[derive(Debug, Clone, Serialize)]
pub struct MomentDetail {
    pub moment: MomentView,
    pub senders: Vec<SenderRow>,
    pub interactions: Vec<InteractionRow>,
}

/// A guide who may publish, for the composer.
#[derive(Debug, Clone, Serialize)]
pub struct SenderChoice {
    pub staff_id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct MomentJob {
    moment_task_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
    #[serde(default)]
    round: u32,
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(format!("json: {e}")))
}

fn payload(id: i64, round: u32) -> Result<String> {
    json(&MomentJob {
        moment_task_id: id,
        outcome: None,
        round,
    })
}

fn outcome(id: i64, what: &str) -> Result<String> {
    json(&MomentJob {
        moment_task_id: id,
        outcome: Some(what.to_owned()),
        round: 0,
    })
}

fn job_of(job: &JobRow) -> Result<MomentJob> {
    serde_json::from_str(&job.payload)
        .map_err(|_| AppError::Internal(format!("bad moments job {}", job.payload)))
}

fn ids_of(s: &str) -> Vec<i64> {
    serde_json::from_str(s).unwrap_or_default()
}

/// How long a result poll waits before round `round`: 2 s doubled, at most 5 minutes.
fn poll_delay_ms(round: u32) -> i64 {
    2_000_i64
        .saturating_mul(1_i64 << round.min(20))
        .min(5 * 60 * 1000)
}

fn file_name(media_id: i64, content_type: &str) -> String {
    let ext = if content_type == "image/png" {
        "png"
    } else {
        "jpg"
    };
    format!("yutang-{media_id}.{ext}")
}

impl Moments<'_> {
    // ------------------------------------------------------------ reading

    /// Guides the caller may ask to publish: active, with a WeCom account, in scope.
    pub async fn sender_choices(&self, actor: &Actor) -> Result<Vec<SenderChoice>> {
        require_sender(actor)?;
        let ids: Vec<i64> = store::eligible_senders(&self.db, own_store(actor), None)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let s = yutang_store::staff::get(&self.db, id).await?;
            out.push(SenderChoice {
                staff_id: id,
                name: s.display_name,
            });
        }
        Ok(out)
    }

    async fn row(&self, actor: &Actor, id: i64) -> Result<MomentRow> {
        require_reader(actor)?;
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("moment_task"))?;
        match own_store(actor) {
            Some(mine) if row.store_id != Some(mine) => Err(AppError::NotFound {
                what: "moment_task",
            }),
            _ => Ok(row),
        }
    }

    async fn view(&self, r: MomentRow) -> Result<MomentView> {
        let mut counts = SenderCounts::default();
        for (state, n) in store::sender_counts(&self.db, r.id).await? {
            match state.as_str() {
                "pending" => counts.pending += n,
                "published" => counts.published += n,
                "invalid" => counts.invalid += n,
                _ => {}
            }
        }
        for s in store::senders(&self.db, r.id).await? {
            counts.likes += s.likes;
            counts.comments += s.comments;
        }
        let content = serde_json::from_str(&r.content)
            .map_err(|_| AppError::Internal(format!("stored content of moments task {}", r.id)))?;
        Ok(MomentView {
            id: r.id,
            name: r.name,
            content,
            sender_ids: r.sender_ids.as_deref().map(ids_of),
            tag_ids: ids_of(&r.visible_tags),
            status: r.status,
            send_at: r.send_at,
            store_id: r.store_id,
            moment_id: r.moment_id,
            error: r.error,
            invalid_tag_ids: ids_of(&r.invalid_tags),
            created_by: r.created_by,
            created_at: r.created_at,
            sent_at: r.sent_at,
            tracked_at: r.tracked_at,
            counts,
        })
    }

    /// The tasks the caller may read, newest first.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<MomentView>> {
        require_reader(actor)?;
        let mut out = Vec::new();
        for r in store::list(&self.db, own_store(actor), LIST_LIMIT).await? {
            out.push(self.view(r).await?);
        }
        Ok(out)
    }

    /// One task with its guides and the latest likes and comments (404 outside the caller's
    /// store).
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<MomentDetail> {
        let row = self.row(actor, id).await?;
        Ok(MomentDetail {
            senders: store::senders(&self.db, id).await?,
            interactions: store::interactions(&self.db, id, INTERACTIONS_SHOWN).await?,
            moment: self.view(row).await?,
        })
    }

    // ------------------------------------------------------------ writing

    /// Every listed guide is active with a WeCom account in the caller's scope; at least one
    /// such guide exists for "all guides".
    async fn check_senders(&self, actor: &Actor, senders: &Senders) -> Result<()> {
        let store_id = own_store(actor);
        match senders {
            Senders::Listed(ids) => {
                let found = store::eligible_senders(&self.db, store_id, Some(ids)).await?;
                if found.len() != ids.len() {
                    return Err(FieldError::new(
                        "sender_ids",
                        "unknown_sender",
                        "a guide is not active, has no WeCom account, or is not in your scope",
                    )
                    .into());
                }
            }
            Senders::All => {
                if store::eligible_senders(&self.db, store_id, None)
                    .await?
                    .is_empty()
                {
                    return Err(FieldError::new(
                        "all_senders",
                        "unknown_sender",
                        "no guide in your scope has a WeCom account",
                    )
                    .into());
                }
            }
        }
        Ok(())
    }

    /// Every visible tag exists and is a WeCom corp tag (WeCom shows moments by corp tags).
    async fn wecom_tags(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        let (_, tags) = yutang_store::tags::wecom_ids(&self.db).await?;
        let known: HashMap<i64, String> = tags.into_iter().collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match known.get(id) {
                Some(w) => out.push((*id, w.clone())),
                None => {
                    let exists = yutang_store::tags::get_tag(&self.db, *id).await.is_ok();
                    let (code, msg) = if exists {
                        ("tag_not_in_wecom", "this tag is not a WeCom corp tag")
                    } else {
                        ("unknown_tag", "no such tag")
                    };
                    return Err(FieldError::new("tag_ids", code, msg).into());
                }
            }
        }
        Ok(out)
    }

    /// Every image exists and is PNG or JPEG (WeCom takes no WebP).
    async fn check_images(&self, content: &MomentContent) -> Result<()> {
        for id in content.media_ids() {
            let m = yutang_store::media::get(&self.db, id).await.map_err(|_| {
                AppError::from(FieldError::new(
                    "attachments",
                    "unknown_image",
                    format!("no image {id}"),
                ))
            })?;
            if m.content_type != "image/png" && m.content_type != "image/jpeg" {
                return Err(FieldError::new(
                    "attachments",
                    "unsupported_image",
                    format!(
                        "image {id} is {}; WeCom moments take PNG or JPEG",
                        m.content_type
                    ),
                )
                .into());
            }
        }
        Ok(())
    }

    /// Save a task and queue its creation in WeCom at its send time.
    pub async fn create(&self, actor: &Actor, input: &MomentInput) -> Result<MomentDetail> {
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
        self.check_senders(actor, &input.senders).await?;
        self.wecom_tags(&input.tag_ids).await?;
        self.check_images(&input.content).await?;
        let content = json(&input.content)?;
        let sender_ids = match &input.senders {
            Senders::Listed(ids) => Some(json(ids)?),
            Senders::All => None,
        };
        let tags = json(&input.tag_ids)?;
        let run_at = send_at.max(now);
        let mut tx = self.db.begin().await?;
        let id = store::insert_in(
            &mut tx,
            &store::NewMoment {
                name: &input.name,
                content: &content,
                sender_ids: sender_ids.as_deref(),
                visible_tags: &tags,
                send_at: run_at,
                store_id: own_store(actor),
            },
            actor.actor_id(),
            now,
        )
        .await?;
        job_store::enqueue_in(
            &mut tx,
            &NewJob {
                kind: CREATE_KIND,
                payload: &payload(id, 0)?,
                run_at,
                idempotency_key: Some(&format!("{CREATE_KIND}:{id}")),
                created_by: actor.actor_id(),
            },
            now,
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MessagingChanged,
            &format!("moment_task:{id}"),
            &serde_json::json!({ "op": "moment_task.create", "send_at": run_at }).to_string(),
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Cancel a task: before it is sent, nothing reaches WeCom; once made, WeCom stops the
    /// guides who have not published (`cancel_moment_task`) — what was published stays, and
    /// is still tracked. A task being created answers 409 `moment_busy`.
    pub async fn cancel(&self, actor: &Actor, id: i64) -> Result<MomentDetail> {
        require_sender(actor)?;
        let row = self.row(actor, id).await?;
        if row.status == Status::Created.as_str() {
            let moment_id = row.moment_id.clone().unwrap_or_default();
            let client = self.client().await?;
            client
                .cancel_moment_task(&moment_id)
                .await
                .map_err(|e| wecom_unavailable(&e))?;
        }
        let mut tx = self.db.begin().await?;
        let m = store::lock_in(&mut tx, id).await?;
        match m.status.as_str() {
            "scheduled" | "created" => {}
            "creating" => {
                return Err(AppError::Rule {
                    code: "moment_busy",
                    message: "the task is being created in WeCom; try again shortly".into(),
                });
            }
            other => {
                return Err(AppError::Rule {
                    code: "message_not_scheduled",
                    message: format!("the task is {other}"),
                });
            }
        }
        store::set_status_in(&mut tx, id, Status::Cancelled.as_str(), "", self.now()).await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MessagingChanged,
            &format!("moment_task:{id}"),
            &serde_json::json!({ "op": "moment_task.cancel", "from_state": m.status }).to_string(),
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Read WeCom now: the job's result while the task is being created, who published and
    /// the likes and comments once it is made.
    pub async fn refresh(&self, actor: &Actor, id: i64) -> Result<MomentDetail> {
        require_sender(actor)?;
        let row = self.row(actor, id).await?;
        if row.status == Status::Creating.as_str() && row.jobid.is_some() {
            let client = self.client().await?;
            self.poll(&client, &row)
                .await
                .map_err(|e| wecom_unavailable(&e))??;
        } else if row.moment_id.is_some() {
            let client = self.client().await?;
            self.track(&client, &row)
                .await
                .map_err(|e| wecom_unavailable(&e))??;
        }
        self.get(actor, id).await
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

    /// The task a job is for when its status is one of `statuses`; otherwise the job's
    /// outcome (a replay, or a task cancelled or moved on since).
    async fn job_row(
        &self,
        job: &JobRow,
        statuses: &[&str],
    ) -> Result<std::result::Result<(MomentJob, MomentRow), String>> {
        let j = job_of(job)?;
        let m = store::get(&self.db, j.moment_task_id)
            .await
            .map_err(AppError::not_found("moment_task"))?;
        if statuses.contains(&m.status.as_str()) {
            Ok(Ok((j, m)))
        } else {
            Ok(Err(outcome(m.id, &m.status)?))
        }
    }

    async fn fail(&self, id: i64, why: &str) -> Result<String> {
        let mut tx = self.db.begin().await?;
        let m = store::lock_in(&mut tx, id).await?;
        if m.status == Status::Scheduled.as_str() || m.status == Status::Creating.as_str() {
            store::set_status_in(&mut tx, id, Status::Failed.as_str(), why, self.now()).await?;
        }
        tx.commit().await?;
        tracing::warn!(moment_task = id, reason = why, "moments task failed");
        outcome(id, &format!("failed: {why}"))
    }

    /// Come back later (WeCom throttling or unreachable, or its job still running): a new job
    /// of `kind` for round `round` (each round its own job, so a replay adds nothing).
    async fn again(
        &self,
        kind: &'static str,
        id: i64,
        round: u32,
        delay: i64,
        why: &str,
    ) -> Result<String> {
        let now = self.now();
        job_store::enqueue(
            &self.db,
            &NewJob {
                kind,
                payload: &payload(id, round)?,
                run_at: now + delay,
                idempotency_key: Some(&format!("{kind}:{id}:{round}")),
                created_by: None,
            },
            now,
        )
        .await?;
        outcome(id, &format!("again: round {round} in {delay} ms ({why})"))
    }

    /// WeCom throttles or cannot be reached: come back slower each round, and fail the task
    /// when the rounds are used up.
    async fn throttled(
        &self,
        kind: &'static str,
        id: i64,
        round: u32,
        why: &str,
    ) -> Result<String> {
        if round > MAX_ROUNDS {
            return self.fail(id, why).await;
        }
        self.again(kind, id, round, throttle_delay_ms(round), why)
            .await
    }

    /// The create job: write the guides, upload the images, create the task in WeCom.
    async fn run_create(&self, job: &JobRow) -> Result<String> {
        let (j, m) = match self.job_row(job, &["scheduled", "creating"]).await? {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        let id = m.id;
        let m = if m.status == Status::Scheduled.as_str() {
            match self.write_senders(&m).await? {
                Some(m) => m,
                None => return self.fail(id, "no_senders").await,
            }
        } else {
            m
        };
        if m.status != Status::Creating.as_str() {
            return outcome(id, &m.status);
        }
        let Some(client) = self.wecom().wecom_api().await? else {
            return self.fail(id, "wecom_not_configured").await;
        };
        if m.jobid.is_some() {
            return self.again(RESULT_KIND, id, 0, 0, "job id known").await;
        }
        match self.create_in_wecom(&client, &m).await? {
            Ok(done) => Ok(done),
            Err(e) if e.is_transient() => {
                self.throttled(CREATE_KIND, id, j.round + 1, &format!("wecom_error: {e}"))
                    .await
            }
            Err(e) => self.fail(id, &format!("wecom_error: {e}")).await,
        }
    }

    /// Write the guides asked to publish and move the task to `creating` (one transaction, so
    /// a re-run finds it `creating` and writes nothing twice). `None`: no guide can publish.
    async fn write_senders(&self, m: &MomentRow) -> Result<Option<MomentRow>> {
        let listed: Option<Vec<i64>> = m.sender_ids.as_deref().map(ids_of);
        let eligible = store::eligible_senders(&self.db, m.store_id, listed.as_deref()).await?;
        if eligible.is_empty() {
            return Ok(None);
        }
        let mut rows: Vec<NewSender> = eligible
            .iter()
            .map(|(staff_id, userid)| NewSender {
                staff_id: *staff_id,
                wecom_userid: userid.clone(),
                state: "pending",
                reason: "",
            })
            .collect();
        for id in listed.unwrap_or_default() {
            if !eligible.iter().any(|(s, _)| *s == id) {
                let userid = yutang_store::staff::get(&self.db, id)
                    .await
                    .ok()
                    .and_then(|s| s.wecom_userid)
                    .unwrap_or_default();
                rows.push(NewSender {
                    staff_id: id,
                    wecom_userid: userid,
                    state: "invalid",
                    reason: "not_active",
                });
            }
        }
        let mut tx = self.db.begin().await?;
        let locked = store::lock_in(&mut tx, m.id).await?;
        if locked.status == Status::Scheduled.as_str() {
            store::insert_senders_in(&mut tx, m.id, &rows).await?;
            store::set_status_in(&mut tx, m.id, Status::Creating.as_str(), "", self.now()).await?;
        }
        tx.commit().await?;
        Ok(Some(store::get(&self.db, m.id).await?))
    }

    /// Upload the images, then adopt the moment an earlier attempt made or create it; the
    /// outer error is Yutang's, the inner WeCom's.
    async fn create_in_wecom(
        &self,
        client: &WecomClient,
        m: &MomentRow,
    ) -> Result<std::result::Result<String, yutang_wecom::WecomError>> {
        let content: MomentContent = serde_json::from_str(&m.content)
            .map_err(|_| AppError::Internal(format!("stored content of moments task {}", m.id)))?;
        let mut media: HashMap<i64, String> = HashMap::new();
        for media_id in content.media_ids() {
            match self.attachment(client, media_id).await? {
                Ok(w) => {
                    media.insert(media_id, w);
                }
                Err(e) => return Ok(Err(e)),
            }
        }
        if let Some(at) = m.attempted_at {
            match self.find_created(client, at, &content).await? {
                Ok(Some(moment_id)) => {
                    self.created(m.id, &moment_id, &[], &[]).await?;
                    return Ok(Ok(outcome(m.id, "adopted")?));
                }
                Ok(None) => {}
                Err(e) => return Ok(Err(e)),
            }
        }
        let senders: Vec<String> = store::senders(&self.db, m.id)
            .await?
            .into_iter()
            .filter(|s| s.state == "pending")
            .map(|s| s.wecom_userid)
            .collect();
        let tags: Vec<String> = self
            .wecom_tags(&ids_of(&m.visible_tags))
            .await
            .map(|t| t.into_iter().map(|(_, w)| w).collect())
            .unwrap_or_default();
        let request = AddMomentTaskRequest {
            text: (!content.text.is_empty()).then(|| Text {
                content: content.text.clone(),
            }),
            attachments: content
                .attachments
                .iter()
                .map(|a| to_wecom(a, &media))
                .collect(),
            visible_range: Some(VisibleRange {
                sender_list: Some(SenderList {
                    user_list: senders,
                    department_list: Vec::new(),
                }),
                external_contact_list: (!tags.is_empty())
                    .then_some(ExternalContactList { tag_list: tags }),
            }),
        };
        store::set_attempted(&self.db, m.id, self.now()).await?;
        let jobid = match client.add_moment_task(&request).await {
            Ok(jobid) => jobid,
            Err(e) => return Ok(Err(e)),
        };
        store::set_jobid(&self.db, m.id, &jobid, self.now()).await?;
        Ok(Ok(self.again(RESULT_KIND, m.id, 0, 0, "created").await?))
    }

    /// WeCom's media id for one of Yutang's images, uploaded unless a fresh one is kept.
    async fn attachment(
        &self,
        client: &WecomClient,
        media_id: i64,
    ) -> Result<std::result::Result<String, yutang_wecom::WecomError>> {
        let now = self.now();
        if let Some(w) =
            store::cached_attachment(&self.db, media_id, PURPOSE, now + MEDIA_MARGIN_MS).await?
        {
            return Ok(Ok(w));
        }
        let (row, bytes) = yutang_store::media::get_with_bytes(&self.db, media_id)
            .await
            .map_err(AppError::not_found("image"))?;
        let uploaded = match client
            .upload_attachment(
                "image",
                1,
                &file_name(media_id, &row.content_type),
                &row.content_type,
                bytes,
            )
            .await
        {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        store::save_attachment(
            &self.db,
            media_id,
            PURPOSE,
            &uploaded.media_id,
            now,
            now + wapi::MEDIA_TTL_SECS * 1000,
        )
        .await?;
        Ok(Ok(uploaded.media_id))
    }

    /// A moment an earlier attempt made: created by the brand since a minute before the
    /// attempt, with the same text and number of attachments, not another task's.
    async fn find_created(
        &self,
        client: &WecomClient,
        attempted_at: i64,
        content: &MomentContent,
    ) -> Result<std::result::Result<Option<String>, yutang_wecom::WecomError>> {
        let start = attempted_at / 1000 - 60;
        let end = (self.now() / 1000)
            .max(start)
            .min(start + wapi::MAX_MOMENT_LIST_SPAN_SECS);
        let mut cursor = String::new();
        loop {
            let page = match client
                .get_moment_list(&MomentListRequest {
                    start_time: start,
                    end_time: end,
                    creator: None,
                    filter_type: Some(0),
                    cursor: cursor.clone(),
                    limit: Some(wapi::MAX_MOMENT_LIST_LIMIT),
                })
                .await
            {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            for s in page.moment_list {
                let text = s.text.map(|t| t.content).unwrap_or_default();
                let attachments =
                    s.image.len() + usize::from(s.video.is_some()) + usize::from(s.link.is_some());
                if text == content.text
                    && attachments == content.attachments.len()
                    && !store::moment_taken(&self.db, &s.moment_id).await?
                {
                    return Ok(Ok(Some(s.moment_id)));
                }
            }
            if page.next_cursor.is_empty() {
                return Ok(Ok(None));
            }
            cursor = page.next_cursor;
        }
    }

    /// The task is made: mark the guides and tags WeCom refused, queue the tracking.
    async fn created(
        &self,
        id: i64,
        moment_id: &str,
        invalid_userids: &[String],
        invalid_tags: &[String],
    ) -> Result<()> {
        let (_, tags) = yutang_store::tags::wecom_ids(&self.db).await?;
        let invalid_tag_ids: Vec<i64> = tags
            .into_iter()
            .filter(|(_, w)| invalid_tags.contains(w))
            .map(|(id, _)| id)
            .collect();
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let m = store::lock_in(&mut tx, id).await?;
        if m.status == Status::Creating.as_str() {
            store::mark_invalid_in(&mut tx, id, invalid_userids).await?;
            store::set_created_in(&mut tx, id, moment_id, &json(&invalid_tag_ids)?, now).await?;
            job_store::enqueue_in(
                &mut tx,
                &NewJob {
                    kind: TRACK_KIND,
                    payload: &payload(id, 1)?,
                    run_at: now + TRACK_EVERY_MS,
                    idempotency_key: Some(&format!("{TRACK_KIND}:{id}:1")),
                    created_by: None,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ask WeCom for the job's result once: the task is made or failed, or WeCom is still
    /// working (the inner error: call again).
    async fn poll(
        &self,
        client: &WecomClient,
        m: &MomentRow,
    ) -> std::result::Result<Result<String>, yutang_wecom::WecomError> {
        let jobid = m.jobid.clone().unwrap_or_default();
        let r = client.get_moment_task_result(&jobid).await?;
        if r.status != 3 {
            return Ok(outcome(m.id, &format!("wecom job status {}", r.status)));
        }
        let result = r.result.unwrap_or_default();
        if result.errcode != 0 || result.moment_id.is_empty() {
            let why = format!("wecom_error: {} {}", result.errcode, result.errmsg);
            return Ok(self.fail(m.id, &why).await);
        }
        Ok(async {
            self.created(
                m.id,
                &result.moment_id,
                &result.invalid_sender_list.user_list,
                &result.invalid_external_contact_list.tag_list,
            )
            .await?;
            outcome(m.id, "created")
        }
        .await)
    }

    /// The result job: poll until WeCom has made the moment (its job id lasts 24 hours).
    async fn run_result(&self, job: &JobRow) -> Result<String> {
        let (j, m) = match self.job_row(job, &["creating"]).await? {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        let Some(client) = self.wecom().wecom_api().await? else {
            return self.fail(m.id, "wecom_not_configured").await;
        };
        if m.jobid.is_none() {
            return outcome(m.id, "no job id: the create job carries on");
        }
        let round = j.round + 1;
        match self.poll(&client, &m).await {
            Ok(done) => {
                let done = done?;
                let now = store::get(&self.db, m.id).await?;
                if now.status != Status::Creating.as_str() {
                    return Ok(done);
                }
                let started = m.attempted_at.unwrap_or(m.updated_at);
                if self.now() - started > JOB_VALID_MS {
                    return self.fail(m.id, "wecom_job_expired").await;
                }
                self.again(
                    RESULT_KIND,
                    m.id,
                    round,
                    poll_delay_ms(round),
                    "wecom job running",
                )
                .await
            }
            Err(e) if e.is_transient() => {
                let started = m.attempted_at.unwrap_or(m.updated_at);
                if self.now() - started > JOB_VALID_MS {
                    return self.fail(m.id, &format!("wecom_error: {e}")).await;
                }
                self.again(
                    RESULT_KIND,
                    m.id,
                    round,
                    throttle_delay_ms(round.min(MAX_ROUNDS)),
                    &format!("wecom_error: {e}"),
                )
                .await
            }
            Err(e) => self.fail(m.id, &format!("wecom_error: {e}")).await,
        }
    }

    /// The tracking job: read results, and come back for [`TRACK_FOR_MS`].
    async fn run_track(&self, job: &JobRow) -> Result<String> {
        let (j, m) = match self.job_row(job, &["created", "cancelled"]).await? {
            Ok(found) => found,
            Err(done) => return Ok(done),
        };
        if m.moment_id.is_none() {
            return outcome(m.id, "not made");
        }
        let Some(client) = self.wecom().wecom_api().await? else {
            return outcome(m.id, "wecom_not_configured");
        };
        let read = match self.track(&client, &m).await {
            Ok(r) => r?,
            Err(e) => {
                tracing::warn!(moment_task = m.id, error = %e, "moments tracking failed; next round reads again");
                format!("wecom_error: {e}")
            }
        };
        let now = self.now();
        let sent_at = m.sent_at.unwrap_or(m.updated_at);
        if now + TRACK_EVERY_MS <= sent_at + TRACK_FOR_MS {
            let round = j.round + 1;
            job_store::enqueue(
                &self.db,
                &NewJob {
                    kind: TRACK_KIND,
                    payload: &payload(m.id, round)?,
                    run_at: now + TRACK_EVERY_MS,
                    idempotency_key: Some(&format!("{TRACK_KIND}:{}:{round}", m.id)),
                    created_by: None,
                },
                now,
            )
            .await?;
        }
        outcome(m.id, &read)
    }

    /// Read who published and the likes and comments on each published post.
    async fn track(
        &self,
        client: &WecomClient,
        m: &MomentRow,
    ) -> std::result::Result<Result<String>, yutang_wecom::WecomError> {
        let moment_id = m.moment_id.clone().unwrap_or_default();
        let now = self.now();
        let mut published = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = client.get_moment_task(&moment_id, &cursor, 1000).await?;
            published.extend(
                page.task_list
                    .into_iter()
                    .filter(|t| t.publish_status == 1)
                    .map(|t| t.userid),
            );
            if page.next_cursor.is_empty() {
                break;
            }
            cursor = page.next_cursor;
        }
        let mut fresh = 0;
        for userid in &published {
            match store::mark_published(&self.db, m.id, userid, now).await {
                Ok(true) => fresh += 1,
                Ok(false) => {}
                Err(e) => return Ok(Err(e.into())),
            }
        }
        let senders = match store::senders(&self.db, m.id).await {
            Ok(s) => s,
            Err(e) => return Ok(Err(e.into())),
        };
        let mut added = 0;
        for s in senders.iter().filter(|s| s.state == "published") {
            let c = client
                .get_moment_comments(&moment_id, &s.wecom_userid)
                .await?;
            let mut rows = Vec::new();
            for (kind, list) in [("like", c.like_list), ("comment", c.comment_list)] {
                for i in list {
                    let (who, customer_id) = if i.external_userid.is_empty() {
                        (format!("staff:{}", i.userid), None)
                    } else {
                        let cid = match self.wecom().customer_of_external(&i.external_userid).await
                        {
                            Ok(c) => c,
                            Err(e) => return Ok(Err(e)),
                        };
                        (i.external_userid, cid)
                    };
                    rows.push(NewInteraction {
                        kind,
                        who,
                        customer_id,
                        at: i.create_time * 1000,
                    });
                }
            }
            let r: Result<u64> = async {
                let mut tx = self.db.begin().await?;
                let n = store::record_interactions_in(&mut tx, m.id, s.staff_id, &rows).await?;
                tx.commit().await?;
                Ok(n)
            }
            .await;
            match r {
                Ok(n) => added += n,
                Err(e) => return Ok(Err(e)),
            }
        }
        if let Err(e) = store::set_tracked(&self.db, m.id, now).await {
            return Ok(Err(e.into()));
        }
        Ok(Ok(format!(
            "published {} (+{fresh}), interactions +{added}",
            published.len()
        )))
    }
}

fn to_wecom(a: &MomentAttachment, media: &HashMap<i64, String>) -> wapi::MomentAttachment {
    let media_id = media.get(&a.media_id()).cloned().unwrap_or_default();
    match a {
        MomentAttachment::Image { .. } => wapi::MomentAttachment::Image {
            image: MediaRef { media_id },
        },
        MomentAttachment::Link { title, url, .. } => wapi::MomentAttachment::Link {
            link: MomentLink {
                title: title.clone(),
                url: url.clone(),
                media_id,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_slow_down_and_stop_at_five_minutes() {
        assert_eq!(poll_delay_ms(0), 2_000);
        assert_eq!(poll_delay_ms(1), 4_000);
        assert_eq!(poll_delay_ms(30), 5 * 60 * 1000);
    }

    #[test]
    fn uploads_are_named_by_their_format() {
        assert_eq!(file_name(7, "image/png"), "yutang-7.png");
        assert_eq!(file_name(7, "image/jpeg"), "yutang-7.jpg");
    }
}
