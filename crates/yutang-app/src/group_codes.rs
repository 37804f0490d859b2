//! Group live codes (群活码, issue #20 item 1): one WeCom join way per code, listing at most
//! five of the code's groups, re-listed as they fill (core's pure [`plan`]) so a poster
//! printed once keeps working. See docs/group-codes.md.
//!
//! **Re-listing** runs under a per-code lease, as live codes' re-pointing does: a join, a
//! change of one of the code's groups or an edit bumps the code's `sync_wanted`; the lease
//! holder plans, calls `update_join_way` only when the listed groups change, and records the
//! value it saw; it gives the lease back only when nothing was bumped meanwhile, so a join
//! that lands while another node re-lists is never left unconsidered. The minute tick re-plans
//! every code (a failed call, a callback WeCom never sent).
//!
//! **Joins** are recognised after every reconcile of a group ([`GroupCodes::after_group`]):
//! `groupchat/get` names, on each member who joined through a join way, the way's `state`;
//! a member carrying a code's state is recorded once per membership (group, member, join
//! time), attributed to the code's channel, however often WeCom reports the group and in
//! whatever order its callbacks arrive. A group WeCom opened for the code (named after the
//! code's `room_base_name`, created after the code) joins the code's groups.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::acquisition::stats::Period;
use yutang_core::group_codes::{GroupCodeSpec, PoolGroup, Scene, plan};
use yutang_core::staff::Permission;
use yutang_store::group_codes::{
    self as store, CodeWrite, GroupCodeRow, JoinRow, NewJoin, SyncRecord,
};
use yutang_store::sync_lease::Leased;
use yutang_wecom::client::api::{AddJoinWayRequest, GroupChat, UpdateJoinWayRequest};

use crate::acquisition::channels::check_scope;
use crate::acquisition::live_codes::{QrFile, describe_wecom};
use crate::acquisition::shanghai_day;
use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::sync_lease::under_lease;
use crate::{Actor, App};

/// WeCom's member type of an external contact.
const EXTERNAL_MEMBER: i64 = 2;
/// WeCom cuts a join way's remark at 30 characters.
const MAX_REMARK_CHARS: usize = 30;

/// The group live code use cases.
#[derive(Clone, Copy)]
pub struct GroupCodes<'a>(&'a App);

impl std::ops::Deref for GroupCodes<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`GroupCodes`].
    pub fn group_codes(&self) -> GroupCodes<'_> {
        GroupCodes(self)
    }
}

/// A group of a code as shown.
#[derive(Debug, Clone, Serialize)]
pub struct CodeGroupView {
    pub group_id: i64,
    pub chat_id: String,
    pub name: String,
    /// Members now (staff included).
    pub members: i64,
    pub dismissed: bool,
    /// Opened by WeCom for the code when every group was full.
    pub auto_created: bool,
    /// Listed by the join way in WeCom now.
    pub listed: bool,
    /// Joins through the code into this group, ever.
    pub joins: i64,
}

/// A group live code as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupCodeView {
    pub id: i64,
    #[serde(flatten)]
    pub spec: GroupCodeSpec,
    /// The join way's state: WeCom returns it on every member who joined through the code.
    pub state: String,
    /// WeCom's join way id (`''` until WeCom accepted the code).
    pub config_id: String,
    /// The join way's QR code (scene `qr`), as WeCom made it.
    pub qr_url: String,
    /// Whether Yutang keeps the image of `qr_url` (`…/qr.png` serves it).
    pub qr_image: bool,
    /// Why the image is not stored yet (the last download failed, in Chinese).
    pub qr_image_error: String,
    /// The operator's groups and then the ones WeCom opened, in filling order.
    pub groups: Vec<CodeGroupView>,
    /// `open`, `overflow` (every group at the cap; WeCom fills them to its limit, then opens
    /// a new group) or `full` (every group at the cap and no auto-create: add a group).
    pub fill: String,
    /// `pending`, `synced` or `failed` (`sync_error` says why, in Chinese).
    pub sync_status: String,
    pub sync_error: String,
    pub synced_at: Option<i64>,
    pub joins_total: i64,
    /// Joins today (Asia/Shanghai).
    pub joins_today: i64,
    /// Joins by members who are Yutang customers (WeCom friends of a guide).
    pub customer_joins: i64,
    pub archived: bool,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Joins on one day.
#[derive(Debug, Clone, Serialize)]
pub struct DayJoins {
    /// `YYYY-MM-DD` in Asia/Shanghai.
    pub day: String,
    pub joins: i64,
}

/// A code's joins: per day over a range, and the latest ones.
#[derive(Debug, Clone, Serialize)]
pub struct CodeJoins {
    pub days: Vec<DayJoins>,
    pub recent: Vec<JoinRow>,
}

fn manage(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ManagePromotions) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn view(actor: &Actor) -> Result<()> {
    if actor.can(Permission::ViewOrg) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn spec_of(row: &GroupCodeRow) -> Result<GroupCodeSpec> {
    serde_json::from_str(&row.spec)
        .map_err(|e| AppError::Internal(format!("group code {} spec: {e}", row.id)))
}

fn listed_of(row: &GroupCodeRow) -> Vec<String> {
    serde_json::from_str(&row.listed).unwrap_or_default()
}

fn audit_detail(op: &str, name: &str) -> String {
    serde_json::json!({ "op": format!("group_code.{op}"), "detail": { "name": name } }).to_string()
}

/// A state Yutang makes up: `gc` and 10 random letters and digits (WeCom allows 30).
fn new_state() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..10)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("gc{tail}")
}

fn not_found() -> AppError {
    AppError::NotFound { what: "group code" }
}

fn archived_error() -> AppError {
    AppError::Rule {
        code: "group_code_archived",
        message: "the group code is archived".into(),
    }
}

impl GroupCodes<'_> {
    /// The channel (open, in the caller's scope), the store and the groups (live customer
    /// groups) a spec names must exist.
    async fn check_refs(&self, actor: &Actor, spec: &GroupCodeSpec) -> Result<()> {
        check_scope(actor, spec.store_id).map_err(|_| AppError::Forbidden)?;
        if let Some(store_id) = spec.store_id {
            yutang_store::org::get_store(&self.db, store_id)
                .await
                .map_err(|_| {
                    FieldError::new(
                        "store_id",
                        "unknown_reference",
                        format!("no store {store_id}"),
                    )
                })?;
        }
        if let Some(ch) = spec.channel_id {
            let row = yutang_store::acquisition::get_channel(&self.db, ch)
                .await
                .map_err(|_| {
                    FieldError::new(
                        "channel_id",
                        "unknown_reference",
                        format!("no channel {ch}"),
                    )
                })?;
            check_scope(actor, row.store_id).map_err(|_| {
                FieldError::new(
                    "channel_id",
                    "unknown_reference",
                    format!("no channel {ch}"),
                )
            })?;
            if row.archived_at.is_some() {
                return Err(FieldError::new(
                    "channel_id",
                    "channel_archived",
                    "the channel is archived",
                )
                .into());
            }
        }
        for g in &spec.group_ids {
            let group = yutang_store::wecom::groups::get(&self.db, *g)
                .await
                .map_err(|_| {
                    FieldError::new("group_ids", "unknown_reference", format!("no group {g}"))
                })?;
            if group.dismissed_at.is_some() {
                return Err(FieldError::new(
                    "group_ids",
                    "group_dismissed",
                    format!("group {g} ({}) is dismissed", group.name),
                )
                .into());
            }
        }
        Ok(())
    }

    fn write_of<'s>(spec: &'s GroupCodeSpec, json: &'s str) -> CodeWrite<'s> {
        CodeWrite {
            name: &spec.name,
            channel_id: spec.channel_id,
            store_id: spec.store_id,
            spec: json,
        }
    }

    /// Create a code and its WeCom join way (tried at once; a WeCom refusal is recorded on
    /// the code, in Chinese, and retried by the minute tick).
    pub async fn create(&self, actor: &Actor, spec: GroupCodeSpec) -> Result<GroupCodeView> {
        manage(actor)?;
        let spec = spec.parse()?;
        self.check_refs(actor, &spec).await?;
        let json = serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let write = Self::write_of(&spec, &json);
        let id = store::insert_in(&mut tx, &write, &new_state(), &actor.name, now).await?;
        store::set_groups_in(&mut tx, id, &spec.group_ids, now).await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::ChannelChanged,
            &format!("group_code:{id}"),
            &audit_detail("create", &spec.name),
        )
        .await?;
        tx.commit().await?;
        self.sync(id).await?;
        self.get(actor, id).await
    }

    /// Replace a code's settings and groups; the join way follows.
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        spec: GroupCodeSpec,
    ) -> Result<GroupCodeView> {
        manage(actor)?;
        let old = self.visible(actor, id).await?;
        let spec = spec.parse()?;
        if spec.scene != spec_of(&old)?.scene {
            return Err(FieldError::new(
                "scene",
                "scene_immutable",
                "a code keeps its scene; archive it and create another",
            )
            .into());
        }
        self.check_refs(actor, &spec).await?;
        let json = serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let write = Self::write_of(&spec, &json);
        if !store::update_in(&mut tx, id, &write, now).await? {
            return Err(archived_error());
        }
        store::set_groups_in(&mut tx, id, &spec.group_ids, now).await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::ChannelChanged,
            &format!("group_code:{id}"),
            &audit_detail("update", &spec.name),
        )
        .await?;
        tx.commit().await?;
        self.sync(id).await?;
        self.get(actor, id).await
    }

    /// Archive a code and delete its join way in WeCom (joins already made stay counted;
    /// WeCom stops accepting scans). Archiving twice changes nothing.
    pub async fn archive(&self, actor: &Actor, id: i64) -> Result<GroupCodeView> {
        manage(actor)?;
        let row = self.visible(actor, id).await?;
        let mut tx = self.db.begin().await?;
        let archived = store::archive_in(&mut tx, id, self.now()).await?;
        if archived {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::ChannelChanged,
                &format!("group_code:{id}"),
                &audit_detail("archive", &row.name),
            )
            .await?;
        }
        tx.commit().await?;
        if archived && !row.config_id.is_empty() {
            match self.wecom().wecom_api().await {
                Ok(Some(api)) => {
                    if let Err(e) = api.del_join_way(&row.config_id).await {
                        tracing::warn!(code = id, error = %e, "deleting a join way failed");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "WeCom settings"),
            }
        }
        self.get(actor, id).await
    }

    /// Re-plan a code now (operators: after fixing WeCom settings).
    pub async fn resync(&self, actor: &Actor, id: i64) -> Result<GroupCodeView> {
        manage(actor)?;
        self.visible(actor, id).await?;
        store::want_sync(&self.db, id).await?;
        self.sync(id).await?;
        self.get(actor, id).await
    }

    /// A code the caller may see (store-bound roles: their store's and the brand-wide ones).
    async fn visible(&self, actor: &Actor, id: i64) -> Result<GroupCodeRow> {
        view(actor)?;
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("group code"))?;
        check_scope(actor, row.store_id).map_err(|_| not_found())?;
        Ok(row)
    }

    pub async fn get(&self, actor: &Actor, id: i64) -> Result<GroupCodeView> {
        let row = self.visible(actor, id).await?;
        self.view_of(row).await
    }

    /// The codes the caller sees, newest first.
    pub async fn list(&self, actor: &Actor, archived: bool) -> Result<Vec<GroupCodeView>> {
        view(actor)?;
        let mut out = Vec::new();
        for row in store::list(&self.db, archived).await? {
            if check_scope(actor, row.store_id).is_ok() {
                out.push(self.view_of(row).await?);
            }
        }
        Ok(out)
    }

    /// A code's joins per Shanghai day over `from..=to` (`YYYY-MM-DD`; the last 30 days by
    /// default, at most 366) and its latest 50.
    pub async fn joins(
        &self,
        actor: &Actor,
        id: i64,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<CodeJoins> {
        let period = Period::parse(from, to, None, self.now())?;
        self.visible(actor, id).await?;
        let days = store::joins_by_day(&self.db, id, &period.from(), &period.to())
            .await?
            .into_iter()
            .map(|(day, joins)| DayJoins { day, joins })
            .collect();
        Ok(CodeJoins {
            days,
            recent: store::recent_joins(&self.db, id, 50).await?,
        })
    }

    async fn view_of(&self, row: GroupCodeRow) -> Result<GroupCodeView> {
        let spec = spec_of(&row)?;
        let listed = listed_of(&row);
        let joins: HashMap<i64, i64> = store::joins_by_group(&self.db, row.id)
            .await?
            .into_iter()
            .collect();
        let groups = store::pool(&self.db, row.id)
            .await?
            .into_iter()
            .map(|p| CodeGroupView {
                listed: listed.contains(&p.chat_id),
                joins: joins.get(&p.group_id).copied().unwrap_or(0),
                group_id: p.group_id,
                chat_id: p.chat_id,
                name: p.name,
                members: p.members,
                dismissed: p.dismissed,
                auto_created: p.auto_created,
            })
            .collect();
        let (joins_total, joins_today, customer_joins) =
            store::join_totals(&self.db, row.id, &shanghai_day(self.now())).await?;
        Ok(GroupCodeView {
            id: row.id,
            spec,
            state: row.state,
            config_id: row.config_id,
            qr_image: !row.qr_url.is_empty() && row.qr_image_url == row.qr_url,
            qr_image_error: row.qr_image_error,
            qr_url: row.qr_url,
            groups,
            fill: row.fill,
            sync_status: row.sync_status,
            sync_error: row.sync_error,
            synced_at: row.synced_at,
            joins_total,
            joins_today,
            customer_joins,
            archived: row.archived_at.is_some(),
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    /// After a group was reconciled with WeCom: record the joins through codes (once per
    /// membership), adopt a group WeCom opened for a code, and re-plan every code the group
    /// belongs to (its member count changed). A failed re-plan is recorded on the code and
    /// retried by the minute tick; it never fails the reconcile.
    pub(crate) async fn after_group(&self, group_id: i64, chat: &GroupChat) -> Result<()> {
        let mut touched: BTreeSet<i64> = store::codes_of_group(&self.db, group_id)
            .await?
            .into_iter()
            .collect();
        let mut codes: HashMap<String, Option<GroupCodeRow>> = HashMap::new();
        // Read only when a member joined through a code (most groups have none).
        let mut group = None;
        for m in &chat.member_list {
            let Some(state) = m.state.as_deref().filter(|s| !s.is_empty()) else {
                continue;
            };
            if m.member_type != EXTERNAL_MEMBER || m.userid.is_empty() {
                continue;
            }
            if !codes.contains_key(state) {
                codes.insert(state.to_owned(), store::by_state(&self.db, state).await?);
            }
            let Some(Some(code)) = codes.get(state) else {
                continue;
            };
            let joined_at = m.join_time.saturating_mul(1000);
            let customer_id = self.wecom().customer_of_external(&m.userid).await?;
            store::record_join(
                &self.db,
                &NewJoin {
                    code_id: code.id,
                    channel_id: code.channel_id,
                    group_id,
                    userid: &m.userid,
                    customer_id,
                    joined_at,
                    day: &shanghai_day(joined_at),
                },
            )
            .await?;
            if code.archived_at.is_some() {
                continue;
            }
            let spec = spec_of(code)?;
            if group.is_none() {
                group = Some(yutang_store::wecom::groups::get(&self.db, group_id).await?);
            }
            let Some(group) = group.as_ref() else {
                continue;
            };
            let opened_for_code = spec.auto_create
                && group.dismissed_at.is_none()
                && !spec.room_base_name.is_empty()
                && group.name.starts_with(&spec.room_base_name)
                && group.created_at >= code.created_at.saturating_sub(60_000);
            if opened_for_code
                && store::add_auto_group(&self.db, code.id, group_id, self.now()).await?
            {
                tracing::info!(
                    code = code.id,
                    group = group_id,
                    "WeCom opened a group for a code"
                );
            }
            touched.insert(code.id);
        }
        for id in touched {
            store::want_sync(&self.db, id).await?;
            if let Err(e) = self.sync(id).await {
                tracing::warn!(code = id, error = %e, "group code re-plan");
            }
        }
        Ok(())
    }

    /// Every live code once (the minute tick).
    pub async fn refresh_all(&self) -> Result<usize> {
        let ids = store::live_ids(&self.db).await?;
        let n = ids.len();
        for id in ids {
            if let Err(e) = self.sync(id).await {
                tracing::warn!(code = id, error = %e, "group code refresh");
            }
        }
        Ok(n)
    }

    /// Bring one code's join way in line with its plan (see the module doc), under the
    /// code's sync lease ([`crate::sync_lease::under_lease`]).
    pub async fn sync(&self, id: i64) -> Result<()> {
        under_lease(self, Leased::GroupCodes, id, || async move {
            self.sync_once(id).await?;
            if let Err(e) = self.keep_qr_image(id).await {
                tracing::warn!(code = id, error = %e, "keeping a group code's QR image");
            }
            Ok(())
        })
        .await
    }

    /// Store the QR image of the code's `qr_url` when it is not stored yet: WeCom's image,
    /// downloaded through the WeCom client (which fetches only from WeCom's image host or the
    /// API's own address). The console may only show images Yutang serves, and a brand prints
    /// the image it downloads. A failure is recorded, in Chinese, and tried at the next sync.
    async fn keep_qr_image(&self, id: i64) -> Result<()> {
        let row = store::get(&self.db, id).await?;
        if row.archived_at.is_some() || row.qr_url.is_empty() || row.qr_image_url == row.qr_url {
            return Ok(());
        }
        let Some(api) = self.wecom().wecom_api().await? else {
            return Ok(());
        };
        match api.download_qr_image(&row.qr_url).await {
            Ok(img) => {
                store::store_qr_image(&self.db, id, &row.qr_url, img.content_type, &img.bytes)
                    .await?;
            }
            Err(e) => {
                let msg = format!("下载企业微信二维码图片失败（{e}），将在下次同步时重试");
                store::qr_image_failed(&self.db, id, &msg).await?;
            }
        }
        Ok(())
    }

    /// The code's QR image as Yutang keeps it (`group-code-{id}-qr.png`, `.jpg` for a JPEG).
    /// 409 `qr_not_stored` until it is stored for the code's current QR URL.
    pub async fn qr_image(&self, actor: &Actor, id: i64) -> Result<QrFile> {
        self.visible(actor, id).await?;
        let (content_type, bytes) = store::qr_image(&self.db, id).await?.ok_or(AppError::Rule {
            code: "qr_not_stored",
            message: "the QR image is not stored yet; it is downloaded after each sync".into(),
        })?;
        let ext = if content_type == "image/jpeg" {
            "jpg"
        } else {
            "png"
        };
        Ok(QrFile {
            filename: format!("group-code-{id}-qr.{ext}"),
            content_type,
            bytes,
        })
    }

    async fn sync_once(&self, id: i64) -> Result<()> {
        let row = store::get(&self.db, id).await?;
        let now = self.now();
        let seen = row.sync_wanted;
        let spec = spec_of(&row)?;
        let pool = store::pool(&self.db, id).await?;
        let groups: Vec<PoolGroup> = pool
            .iter()
            .map(|p| PoolGroup {
                chat_id: p.chat_id.clone(),
                members: p.members,
                dismissed: p.dismissed,
            })
            .collect();
        let planned = plan(&groups, spec.member_cap, spec.auto_create);
        let fill = planned.fill.as_str();
        let record =
            |config_id: &str, qr_url: &str, listed: &[String], status: &str, error: &str| {
                let listed = serde_json::to_string(listed).unwrap_or_else(|_| "[]".into());
                let (config_id, qr_url, status, error) = (
                    config_id.to_owned(),
                    qr_url.to_owned(),
                    status.to_owned(),
                    error.to_owned(),
                );
                async move {
                    store::record_sync(
                        &self.db,
                        id,
                        &SyncRecord {
                            seen,
                            config_id: &config_id,
                            qr_url: &qr_url,
                            listed: &listed,
                            fill,
                            status: &status,
                            error: &error,
                            now,
                        },
                    )
                    .await
                }
            };
        let current = listed_of(&row);
        if row.archived_at.is_some() {
            record(&row.config_id, &row.qr_url, &current, "synced", "").await?;
            return Ok(());
        }
        if planned.chat_ids.is_empty() {
            record(
                &row.config_id,
                &row.qr_url,
                &current,
                "failed",
                "活码的群都已解散：请为活码添加新的客户群",
            )
            .await?;
            return Ok(());
        }
        let Some(api) = self.wecom().wecom_api().await? else {
            record(
                &row.config_id,
                &row.qr_url,
                &current,
                "pending",
                "企业微信 API 尚未配置：请先在“企业微信”页填写企业 ID 和“客户联系” Secret",
            )
            .await?;
            return Ok(());
        };
        let edited = row.synced_at.is_none_or(|s| row.updated_at >= s);
        if current == planned.chat_ids && row.sync_status == "synced" && !edited {
            record(&row.config_id, &row.qr_url, &current, "synced", "").await?;
            return Ok(());
        }
        let remark: String = spec.name.chars().take(MAX_REMARK_CHARS).collect();
        let auto = i64::from(spec.auto_create);
        let base_name = Some(spec.room_base_name.clone()).filter(|s| !s.is_empty());
        let result = if row.config_id.is_empty() {
            match api
                .add_join_way(&AddJoinWayRequest {
                    scene: spec.scene.wecom(),
                    remark: Some(remark),
                    auto_create_room: auto,
                    room_base_name: base_name,
                    room_base_id: Some(spec.room_base_id),
                    chat_id_list: planned.chat_ids.clone(),
                    state: Some(row.state.clone()),
                    mark_source: None,
                })
                .await
            {
                Ok(config_id) => match spec.scene {
                    Scene::Qr => api
                        .get_join_way(&config_id)
                        .await
                        .map(|w| (config_id.clone(), w.qr_code))
                        // The way exists: keep its id even when reading its QR failed, so the
                        // next sync updates it instead of creating a second one.
                        .or_else(|e| {
                            tracing::warn!(code = id, error = %e, "reading a join way's QR");
                            Ok::<_, yutang_wecom::WecomError>((config_id, String::new()))
                        }),
                    Scene::MiniProgram => Ok((config_id, String::new())),
                },
                Err(e) => Err(e),
            }
        } else {
            let updated = api
                .update_join_way(&UpdateJoinWayRequest {
                    config_id: row.config_id.clone(),
                    scene: spec.scene.wecom(),
                    remark: Some(remark),
                    auto_create_room: auto,
                    room_base_name: base_name,
                    room_base_id: Some(spec.room_base_id),
                    chat_id_list: planned.chat_ids.clone(),
                    state: Some(row.state.clone()),
                    mark_source: None,
                })
                .await;
            match updated {
                Ok(()) if row.qr_url.is_empty() && spec.scene == Scene::Qr => api
                    .get_join_way(&row.config_id)
                    .await
                    .map(|w| (row.config_id.clone(), w.qr_code)),
                Ok(()) => Ok((row.config_id.clone(), row.qr_url.clone())),
                Err(e) => Err(e),
            }
        };
        match result {
            Ok((config_id, qr_url)) => {
                record(&config_id, &qr_url, &planned.chat_ids, "synced", "").await?;
            }
            Err(e) => {
                tracing::warn!(code = id, error = %e, "join way sync failed");
                record(
                    &row.config_id,
                    &row.qr_url,
                    &current,
                    "failed",
                    &describe_wecom(&e),
                )
                .await?;
            }
        }
        Ok(())
    }
}
