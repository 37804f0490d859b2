//! Channel live codes: each is one WeCom contact way (type 2, QR scene) whose guides Yutang
//! re-points when the rotation says so.
//!
//! Re-pointing runs under a per-code lease (`yutang_store::sync_lease`): every add and every edit bumps
//! the code's `sync_wanted`; the lease holder reads the counters, computes the rotation
//! (core's pure `rotation`), calls `update_contact_way` only when the guides change, and
//! records the value it saw. It gives the lease back only when nothing was bumped meanwhile,
//! so an add that lands while another node is re-pointing is never left unconsidered, and two
//! nodes never call WeCom for one code at once. The minute tick re-runs every code for the
//! edges of working hours and for midnight.
//!
//! **The QR image** is kept by Yutang (`live_code_images`): after each sync, while holding
//! the lease, a code whose image is missing or was made from another URL gets one — WeCom's
//! contact-way image downloaded through the WeCom client (which fetches only from WeCom's
//! image host or the API's own address), or for an acquisition link the QR of its URL, drawn
//! by Yutang. A failed download is recorded and tried again at the next sync (the minute
//! tick, an add, an edit, 立即同步). The image and the store-stand poster drawn around it are
//! served from here ([`Acquisition::live_code_qr`], [`Acquisition::live_code_poster`]).

use std::collections::HashMap;

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::acquisition::live_codes::{CodeKind, LiveCodeSpec, OffReason, Rotation, rotation};
use yutang_store::acquisition::images::{self, ImageMeta, NewImage};
use yutang_store::acquisition::{self as store, CodeChangeRow, LiveCodeRow, SyncRecord};
use yutang_store::sync_lease::Leased;
use yutang_wecom::client::api::{
    AcquisitionRange, AddContactWayRequest, CreateAcquisitionLinkRequest,
    UpdateAcquisitionLinkRequest, UpdateContactWayRequest, acquisition_link_url,
};

use super::channels::{archived, check_scope};
use super::{Acquisition, manage, shanghai_day, shanghai_time, view};
use crate::Actor;
use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::sync_lease::under_lease;
use crate::wecom::settings::errcode_zh;

/// A live code as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveCodeView {
    pub id: i64,
    #[serde(flatten)]
    pub spec: LiveCodeSpec,
    /// The state WeCom sends back on every add through this code.
    pub state: String,
    /// WeCom's contact way id (`''` until WeCom accepted the code).
    pub config_id: String,
    /// The QR code image WeCom made for the contact way.
    pub qr_url: String,
    /// The staff ids behind the code in WeCom now.
    pub current_staff_ids: Vec<i64>,
    /// `pending`, `synced` or `failed` (`sync_error` says why, in Chinese).
    pub sync_status: String,
    pub sync_error: String,
    pub synced_at: Option<i64>,
    /// Adds through the code today (Shanghai) per guide.
    pub adds_today: Vec<GuideAdds>,
    /// The QR image Yutang keeps for the code (`…/qr.png`), once stored for its `qr_url`.
    pub qr_image: Option<QrImageInfo>,
    /// Why the image is not stored yet (the last download's failure, in Chinese); `''` when
    /// it is stored or was not tried yet.
    pub qr_image_error: String,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The facts of a stored QR image.
#[derive(Debug, Clone, Serialize)]
pub struct QrImageInfo {
    /// `image/png`, or `image/jpeg` when WeCom's image is one.
    pub content_type: String,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    pub size_bytes: i64,
    pub stored_at: i64,
}

/// A stored QR image, to serve.
#[derive(Debug, Clone)]
pub struct QrFile {
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// `live-code-12-qr.png` or `group-code-3-qr.png` (`.jpg` for a JPEG).
    pub filename: String,
}

/// Today's adds of one guide through a code.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GuideAdds {
    pub staff_id: i64,
    pub adds: i64,
}

/// One change of the guides behind a code, with the reason for each guide left out.
#[derive(Debug, Clone, Serialize)]
pub struct CodeChange {
    pub at: i64,
    pub staff_ids: Vec<i64>,
    pub off: Vec<serde_json::Value>,
    pub on_backup: bool,
    pub exhausted: bool,
    pub ok: bool,
    pub error: String,
}

fn spec_of(row: &LiveCodeRow) -> Result<LiveCodeSpec> {
    serde_json::from_str(&row.spec)
        .map_err(|e| AppError::Internal(format!("live code {} spec: {e}", row.id)))
}

fn ids_of(json: &str) -> Vec<i64> {
    serde_json::from_str(json).unwrap_or_default()
}

fn audit_detail(op: &str, name: &str) -> String {
    serde_json::json!({ "op": format!("live_code.{op}"), "detail": { "name": name } }).to_string()
}

/// A state Yutang makes up: `yt` and 10 random letters and digits (WeCom allows 30).
fn new_state() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..10)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("yt{tail}")
}

impl Acquisition<'_> {
    async fn view_of(&self, row: LiveCodeRow) -> Result<LiveCodeView> {
        let spec = spec_of(&row)?;
        let adds = store::adds_on(&self.db, row.id, &shanghai_day(self.now())).await?;
        let image = images::meta(&self.db, row.id).await?;
        let (qr_image, qr_image_error) = match image {
            Some(m) if m.is_current(&row.qr_url) => (
                Some(QrImageInfo {
                    content_type: m.content_type,
                    sha256: m.sha256,
                    size_bytes: m.size_bytes,
                    stored_at: m.stored_at.unwrap_or(m.attempted_at),
                }),
                String::new(),
            ),
            Some(m) if m.source_url == row.qr_url => (None, m.error),
            _ => (None, String::new()),
        };
        Ok(LiveCodeView {
            qr_image,
            qr_image_error,
            id: row.id,
            spec,
            current_staff_ids: ids_of(&row.users),
            adds_today: adds
                .into_iter()
                .map(|(staff_id, adds)| GuideAdds { staff_id, adds })
                .collect(),
            state: row.state,
            config_id: row.config_id,
            qr_url: row.qr_url,
            sync_status: row.sync_status,
            sync_error: row.sync_error,
            synced_at: row.synced_at,
            archived: row.archived_at.is_some(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    /// Every guide and the backup must be an active staff member linked to a WeCom userid.
    async fn check_guides(&self, spec: &LiveCodeSpec) -> Result<()> {
        let ids = spec
            .guides
            .iter()
            .map(|g| ("guides", g.staff_id))
            .chain(spec.backup_staff_id.map(|b| ("backup_staff_id", b)));
        for (field, id) in ids {
            let s = yutang_store::staff::get(&self.db, id).await.map_err(|_| {
                FieldError::new(field, "unknown_reference", format!("no staff member {id}"))
            })?;
            if s.status != "active" || s.wecom_userid.as_deref().is_none_or(str::is_empty) {
                return Err(FieldError::new(
                    field,
                    "not_a_wecom_staff",
                    format!("staff member {id} is not an active member linked to a WeCom userid"),
                )
                .into());
            }
        }
        Ok(())
    }

    async fn open_channel(&self, actor: &Actor, id: i64) -> Result<()> {
        let ch = store::get_channel(&self.db, id).await.map_err(|_| {
            AppError::Invalid(FieldError::new(
                "channel_id",
                "unknown_reference",
                "no such channel",
            ))
        })?;
        check_scope(actor, ch.store_id)?;
        if ch.archived_at.is_some() {
            return Err(archived());
        }
        Ok(())
    }

    /// Create a code and its WeCom contact way (tried at once; a WeCom failure is recorded on
    /// the code, in Chinese, and retried by the minute tick).
    pub async fn create_live_code(
        &self,
        actor: &Actor,
        spec: LiveCodeSpec,
    ) -> Result<LiveCodeView> {
        manage(actor)?;
        let mut spec = spec.parse()?;
        self.open_channel(actor, spec.channel_id).await?;
        self.check_guides(&spec).await?;
        let state = spec.state.clone().unwrap_or_else(new_state);
        spec.state = Some(state.clone());
        let json = serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        let id = store::insert_code_in(
            &mut tx,
            spec.channel_id,
            &spec.name,
            &state,
            &json,
            self.now(),
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::ChannelChanged,
            &format!("live_code:{id}"),
            &audit_detail("create", &spec.name),
        )
        .await?;
        tx.commit().await?;
        self.sync_code(id).await?;
        self.live_code(actor, id).await
    }

    /// Edit a code; the contact way follows (state, guides, skip-verify).
    pub async fn update_live_code(
        &self,
        actor: &Actor,
        id: i64,
        spec: LiveCodeSpec,
    ) -> Result<LiveCodeView> {
        manage(actor)?;
        let old = store::get_code(&self.db, id)
            .await
            .map_err(AppError::not_found("live code"))?;
        let mut spec = spec.parse()?;
        if spec.channel_id != old.channel_id {
            return Err(FieldError::new(
                "channel_id",
                "channel_immutable",
                "a code stays in its channel; archive it and create one in the other channel",
            )
            .into());
        }
        if spec_of(&old)?.kind != spec.kind {
            return Err(FieldError::new(
                "kind",
                "code_kind_immutable",
                "a code keeps its type; archive it and create another",
            )
            .into());
        }
        self.open_channel(actor, spec.channel_id).await?;
        self.check_guides(&spec).await?;
        let state = spec.state.clone().unwrap_or_else(|| old.state.clone());
        spec.state = Some(state.clone());
        let json = serde_json::to_string(&spec).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        if !store::update_code_in(&mut tx, id, &spec.name, &state, &json, self.now()).await? {
            return Err(AppError::Rule {
                code: "live_code_archived",
                message: "the live code is archived".into(),
            });
        }
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::ChannelChanged,
            &format!("live_code:{id}"),
            &audit_detail("update", &spec.name),
        )
        .await?;
        tx.commit().await?;
        self.sync_code(id).await?;
        self.live_code(actor, id).await
    }

    /// Archive a code and delete its contact way in WeCom (adds already made stay
    /// attributed; WeCom stops accepting scans).
    pub async fn archive_live_code(&self, actor: &Actor, id: i64) -> Result<LiveCodeView> {
        manage(actor)?;
        let row = store::get_code(&self.db, id)
            .await
            .map_err(AppError::not_found("live code"))?;
        let mut tx = self.db.begin().await?;
        if store::archive_code_in(&mut tx, id, self.now()).await? {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::ChannelChanged,
                &format!("live_code:{id}"),
                &audit_detail("archive", &row.name),
            )
            .await?;
        }
        tx.commit().await?;
        self.delete_contact_way(&row).await;
        self.live_code(actor, id).await
    }

    /// Delete a code's contact way in WeCom; a failure is logged (the code is archived in
    /// Yutang either way, and adds through a stale contact way are still attributed).
    pub(super) async fn delete_contact_way(&self, row: &LiveCodeRow) {
        if row.config_id.is_empty() {
            return;
        }
        match self.wecom().wecom_api().await {
            Ok(Some(api)) => {
                let link = spec_of(row).is_ok_and(|s| s.kind == CodeKind::Link);
                let done = if link {
                    api.delete_acquisition_link(&row.config_id).await
                } else {
                    api.del_contact_way(&row.config_id).await
                };
                if let Err(e) = done {
                    tracing::warn!(code = row.id, error = %e, "deleting a contact way or link failed");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "WeCom settings"),
        }
    }

    /// Codes of a channel the caller sees (every channel's when `None`).
    pub async fn live_codes(
        &self,
        actor: &Actor,
        channel: Option<i64>,
        archived: bool,
    ) -> Result<Vec<LiveCodeView>> {
        view(actor)?;
        let visible: HashMap<i64, Option<i64>> = store::list_channels(&self.db, None, false)
            .await?
            .into_iter()
            .chain(store::list_channels(&self.db, None, true).await?)
            .map(|c| (c.id, c.store_id))
            .collect();
        let mut out = Vec::new();
        for row in store::list_codes(&self.db, channel, archived).await? {
            let store_of = visible.get(&row.channel_id).copied().flatten();
            if check_scope(actor, store_of).is_ok() {
                out.push(self.view_of(row).await?);
            }
        }
        Ok(out)
    }

    pub async fn live_code(&self, actor: &Actor, id: i64) -> Result<LiveCodeView> {
        view(actor)?;
        let row = store::get_code(&self.db, id)
            .await
            .map_err(AppError::not_found("live code"))?;
        let ch = store::get_channel(&self.db, row.channel_id).await?;
        check_scope(actor, ch.store_id).map_err(|_| AppError::NotFound { what: "live code" })?;
        self.view_of(row).await
    }

    /// The changes of the guides behind a code, newest first, with the reasons.
    pub async fn live_code_changes(&self, actor: &Actor, id: i64) -> Result<Vec<CodeChange>> {
        self.live_code(actor, id).await?;
        Ok(store::changes(&self.db, id, 200)
            .await?
            .into_iter()
            .map(|c| CodeChange {
                at: c.at,
                staff_ids: ids_of(&c.users),
                off: serde_json::from_str(&c.reasons).unwrap_or_default(),
                on_backup: c.on_backup,
                exhausted: c.exhausted,
                ok: c.ok,
                error: c.error,
            })
            .collect())
    }

    /// Re-sync a code now (operators: after fixing WeCom settings).
    pub async fn resync_live_code(&self, actor: &Actor, id: i64) -> Result<LiveCodeView> {
        manage(actor)?;
        store::get_code(&self.db, id)
            .await
            .map_err(AppError::not_found("live code"))?;
        let mut tx = self.db.begin().await?;
        store::want_sync_in(&mut tx, id).await?;
        tx.commit().await?;
        self.sync_code(id).await?;
        self.live_code(actor, id).await
    }

    /// Bring one code's contact way in line with its rotation (see the module doc), under
    /// the code's sync lease ([`crate::sync_lease::under_lease`]).
    pub async fn sync_code(&self, id: i64) -> Result<()> {
        under_lease(self, Leased::LiveCodes, id, || async move {
            self.sync_once(id).await?;
            if let Err(e) = self.keep_qr_image(id).await {
                tracing::warn!(code = id, error = %e, "keeping the QR image");
            }
            Ok(())
        })
        .await
    }

    /// Every live code once (the minute tick: working-hour edges, midnight, failed syncs).
    pub async fn refresh_live_codes(&self) -> Result<usize> {
        let ids = store::codes_to_sync(&self.db).await?;
        let n = ids.len();
        for id in ids {
            if let Err(e) = self.sync_code(id).await {
                tracing::warn!(code = id, error = %e, "live code refresh");
            }
        }
        Ok(n)
    }

    async fn sync_once(&self, id: i64) -> Result<()> {
        let row = store::get_code(&self.db, id).await?;
        let now = self.now();
        let seen = row.sync_wanted;
        let keep = |status: &'static str, error: String| {
            let row = &row;
            async move {
                store::record_sync(
                    &self.db,
                    id,
                    &SyncRecord {
                        seen,
                        config_id: &row.config_id,
                        qr_url: &row.qr_url,
                        users: &row.users,
                        status,
                        error: &error,
                        now,
                    },
                )
                .await
            }
        };
        if row.archived_at.is_some() {
            keep("synced", String::new()).await?;
            return Ok(());
        }
        let Some(api) = self.wecom().wecom_api().await? else {
            keep(
                "pending",
                "企业微信 API 尚未配置：请先在“企业微信”页填写企业 ID 和“客户联系” Secret".into(),
            )
            .await?;
            return Ok(());
        };
        let spec = spec_of(&row)?;
        let adds: HashMap<i64, i64> = store::adds_on(&self.db, id, &shanghai_day(now))
            .await?
            .into_iter()
            .collect();
        let rot = rotation(&spec, shanghai_time(now), |s| {
            adds.get(&s).copied().unwrap_or(0)
        });
        let current = ids_of(&row.users);
        let changed = current != rot.users;
        if !changed && row.sync_status == "synced" && !edited_since_sync(&row) {
            keep("synced", String::new()).await?;
            return Ok(());
        }
        let mut userids = Vec::with_capacity(rot.users.len());
        for s in &rot.users {
            let st = yutang_store::staff::get(&self.db, *s).await?;
            match st.wecom_userid.filter(|u| !u.is_empty()) {
                Some(u) => userids.push(u),
                None => {
                    let msg = format!(
                        "员工 {} 未关联企业微信账号，无法接待此活码",
                        st.display_name
                    );
                    keep("failed", msg.clone()).await?;
                    self.log_change(id, &rot, now, false, &msg).await?;
                    return Ok(());
                }
            }
        }
        let state = row.state.clone();
        let result = match (spec.kind, row.config_id.is_empty()) {
            (CodeKind::ContactWay, true) => api
                .add_contact_way(&AddContactWayRequest {
                    contact_type: 2,
                    scene: 2,
                    skip_verify: Some(spec.skip_verify),
                    state: Some(state),
                    user: userids,
                    ..Default::default()
                })
                .await
                .map(|r| (r.config_id, r.qr_code)),
            (CodeKind::ContactWay, false) => api
                .update_contact_way(&UpdateContactWayRequest {
                    config_id: row.config_id.clone(),
                    skip_verify: Some(spec.skip_verify),
                    state: Some(state),
                    user: Some(userids),
                    ..Default::default()
                })
                .await
                .map(|()| (row.config_id.clone(), row.qr_url.clone())),
            // A link carries the state as its customer_channel, in the URL Yutang hands out.
            (CodeKind::Link, true) => match api
                .create_acquisition_link(&CreateAcquisitionLinkRequest {
                    link_name: spec.name.clone(),
                    range: AcquisitionRange {
                        user_list: userids,
                        department_list: Vec::new(),
                    },
                    skip_verify: Some(spec.skip_verify),
                    ..Default::default()
                })
                .await
            {
                Ok(link) => acquisition_link_url(&link.url, &state).map(|u| (link.link_id, u)),
                Err(e) => Err(e),
            },
            (CodeKind::Link, false) => api
                .update_acquisition_link(&UpdateAcquisitionLinkRequest {
                    link_id: row.config_id.clone(),
                    link_name: Some(spec.name.clone()),
                    range: Some(AcquisitionRange {
                        user_list: userids,
                        department_list: Vec::new(),
                    }),
                    skip_verify: Some(spec.skip_verify),
                    ..Default::default()
                })
                .await
                // The state may have been edited: the published URL carries the new one.
                .and_then(|()| Ok((row.config_id.clone(), relink(&row.qr_url, &state)?))),
        };
        match result {
            Ok((config_id, qr_url)) => {
                let (config_id, qr_url): (String, String) = (config_id, qr_url);
                let users = serde_json::to_string(&rot.users).unwrap_or_else(|_| "[]".into());
                store::record_sync(
                    &self.db,
                    id,
                    &SyncRecord {
                        seen,
                        config_id: &config_id,
                        qr_url: &qr_url,
                        users: &users,
                        status: "synced",
                        error: "",
                        now,
                    },
                )
                .await?;
                if changed {
                    self.log_change(id, &rot, now, true, "").await?;
                }
            }
            Err(e) => {
                let msg = describe_wecom(&e);
                tracing::warn!(code = id, error = %e, "contact way sync failed");
                keep("failed", msg.clone()).await?;
                if changed {
                    self.log_change(id, &rot, now, false, &msg).await?;
                }
            }
        }
        Ok(())
    }

    /// Make sure the code's QR image is stored for its `qr_url` (see the module doc). A
    /// failure is recorded on the image row, in Chinese, and tried again at the next sync.
    async fn keep_qr_image(&self, id: i64) -> Result<()> {
        let row = store::get_code(&self.db, id).await?;
        if row.archived_at.is_some() || row.qr_url.is_empty() {
            return Ok(());
        }
        let meta: Option<ImageMeta> = images::meta(&self.db, id).await?;
        if meta.as_ref().is_some_and(|m| m.is_current(&row.qr_url)) {
            return Ok(());
        }
        let made = match spec_of(&row)?.kind {
            CodeKind::Link => yutang_core::qr::Matrix::new(&row.qr_url)
                .map_err(|e| format!("无法为链接生成二维码：{e}"))
                .and_then(|m| {
                    m.png()
                        .map(|png| ("image/png", png))
                        .map_err(|e| format!("无法生成二维码图片：{e}"))
                }),
            CodeKind::ContactWay => match self.wecom().wecom_api().await? {
                None => Err("企业微信 API 尚未配置，无法下载二维码图片".to_owned()),
                Some(api) => api
                    .download_qr_image(&row.qr_url)
                    .await
                    .map(|img| (img.content_type, img.bytes))
                    .map_err(|e| format!("下载企业微信二维码图片失败（{e}），将在下次同步时重试")),
            },
        };
        let now = self.now();
        match made {
            Ok((content_type, bytes)) => {
                use sha2::Digest as _;
                let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
                images::store(
                    &self.db,
                    id,
                    &NewImage {
                        source_url: &row.qr_url,
                        content_type,
                        bytes: &bytes,
                        sha256: &sha256,
                        now,
                    },
                )
                .await?;
            }
            Err(why) => {
                tracing::warn!(code = id, error = %why, "QR image not stored");
                images::failed(&self.db, id, &row.qr_url, &why, now).await?;
            }
        }
        Ok(())
    }

    /// The code's stored QR image (scoped like the code). 409 `qr_not_stored` while there is
    /// none for its current URL, `live_code_archived` once archived (its QR leads nowhere).
    pub async fn live_code_qr(&self, actor: &Actor, id: i64) -> Result<QrFile> {
        Ok(self.stored_qr(actor, id).await?.1)
    }

    /// The code as the caller sees it, and its stored QR image.
    async fn stored_qr(&self, actor: &Actor, id: i64) -> Result<(LiveCodeView, QrFile)> {
        let v = self.live_code(actor, id).await?;
        if v.archived {
            return Err(AppError::Rule {
                code: "live_code_archived",
                message: "the live code is archived: its QR code no longer adds anyone".into(),
            });
        }
        let not_stored = |why: &str| AppError::Rule {
            code: "qr_not_stored",
            message: if why.is_empty() {
                "the QR image is not stored yet: it is made when WeCom has accepted the code".into()
            } else {
                format!("the QR image is not stored yet: {why}")
            },
        };
        let Some((meta, bytes)) = images::image(&self.db, id).await? else {
            return Err(not_stored(&v.qr_image_error));
        };
        if !meta.is_current(&v.qr_url) {
            return Err(not_stored(&v.qr_image_error));
        }
        let ext = if meta.content_type == "image/jpeg" {
            "jpg"
        } else {
            "png"
        };
        let file = QrFile {
            filename: format!("live-code-{id}-qr.{ext}"),
            content_type: meta.content_type,
            bytes,
        };
        Ok((v, file))
    }

    /// The code's store-stand poster as a PNG (scoped like the code): its texts, blank ones
    /// from the channel, around the stored QR image. 409 `qr_not_stored` without an image;
    /// 503 `poster_font_missing` without a CJK font (see `acquisition::poster`).
    pub async fn live_code_poster(&self, actor: &Actor, id: i64) -> Result<Vec<u8>> {
        let (v, qr) = self.stored_qr(actor, id).await?;
        let ch = store::get_channel(&self.db, v.spec.channel_id).await?;
        let store_name = match ch.store_id {
            Some(s) => Some(yutang_store::org::get_store(&self.db, s).await?.name),
            None => None,
        };
        let lines = v.spec.poster.resolve(&ch.name, store_name.as_deref());
        let acq = &self.settings.acquisition;
        let font = super::poster::poster_font(acq.poster_font.as_deref(), acq.poster_font_index)?;
        tokio::task::spawn_blocking(move || {
            let image = super::poster::decode_image(&qr.content_type, &qr.bytes)
                .map_err(|e| AppError::Internal(format!("live code {id} QR image: {e}")))?;
            super::poster::render(&lines, &image, &font)
        })
        .await
        .map_err(|e| AppError::Internal(format!("poster task: {e}")))?
    }

    async fn log_change(
        &self,
        id: i64,
        rot: &Rotation,
        now: i64,
        ok: bool,
        error: &str,
    ) -> Result<()> {
        let reasons: Vec<serde_json::Value> = rot
            .off
            .iter()
            .map(|(staff, why)| off_json(*staff, *why))
            .collect();
        store::insert_change(
            &self.db,
            &CodeChangeRow {
                id: 0,
                code_id: id,
                at: now,
                users: serde_json::to_string(&rot.users).unwrap_or_else(|_| "[]".into()),
                reasons: serde_json::Value::from(reasons).to_string(),
                on_backup: rot.on_backup,
                exhausted: rot.exhausted,
                ok,
                error: error.to_owned(),
            },
        )
        .await?;
        Ok(())
    }
}

/// A link's published URL with `state` as its `customer_channel`, in place of the one it
/// carried: WeCom's link stays, but an edited state must reach the URL, or the adds through
/// it would arrive with the old state and be attributed to no code.
fn relink(url: &str, state: &str) -> std::result::Result<String, yutang_wecom::WecomError> {
    let Ok(mut u) = url::Url::parse(url) else {
        return acquisition_link_url(url, state);
    };
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != "customer_channel")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    u.set_query(None);
    if !kept.is_empty() {
        u.query_pairs_mut().extend_pairs(kept);
    }
    acquisition_link_url(u.as_str(), state)
}

/// An edit since the last sync (name, state, guides, skip-verify) must reach WeCom even
/// when the guides behind the code stay the same.
fn edited_since_sync(row: &LiveCodeRow) -> bool {
    row.synced_at.is_none_or(|s| row.updated_at >= s)
}

fn off_json(staff: i64, why: OffReason) -> serde_json::Value {
    let mut v = serde_json::to_value(why).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("staff_id".into(), staff.into());
    }
    v
}

/// A WeCom failure in Chinese, with what to do.
pub(crate) fn describe_wecom(e: &yutang_wecom::WecomError) -> String {
    match e {
        yutang_wecom::WecomError::Api {
            errcode, errmsg, ..
        } => format!(
            "企业微信错误码 {errcode}：{}（{errmsg}）",
            errcode_zh(*errcode)
        ),
        other => format!("无法调用企业微信：{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_state_replaces_the_links_customer_channel() {
        let url = "https://work.weixin.qq.com/ca/cawcde06?customer_channel=old-state";
        assert_eq!(
            relink(url, "new-state").unwrap(),
            "https://work.weixin.qq.com/ca/cawcde06?customer_channel=new-state"
        );
        assert_eq!(
            relink(
                "https://work.weixin.qq.com/ca/x?a=1&customer_channel=s1",
                "s2"
            )
            .unwrap(),
            "https://work.weixin.qq.com/ca/x?a=1&customer_channel=s2"
        );
        assert_eq!(
            relink("https://work.weixin.qq.com/ca/x", "s1").unwrap(),
            "https://work.weixin.qq.com/ca/x?customer_channel=s1"
        );
    }
}
