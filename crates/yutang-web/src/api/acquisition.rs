//! Acquisition (issue #19): channels (`/api/v1/channels`) and channel live codes
//! (`/api/v1/live-codes`). Operators and admins write; every role that sees the org reads
//! (store-bound roles: their store's channels and the brand-wide ones). A code's QR image and
//! store-stand poster are files (`…/qr.png`, `…/poster.png`), scoped like the code.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::acquisition::channels::ChannelView;
use yutang_app::acquisition::live_codes::{CodeChange, LiveCodeView};
use yutang_core::acquisition::{ChannelSpec, LiveCodeSpec};

use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::files::{Disposition, file};
use crate::state::AppState;

/// `?archived=true` lists archived rows instead of live ones.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChannelListParams {
    pub archived: Option<bool>,
}

/// `?channel_id=` narrows to one channel; `?archived=true` lists archived codes.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CodeListParams {
    pub channel_id: Option<i64>,
    pub archived: Option<bool>,
}

/// The documented shapes of the bodies and answers (the handlers use the domain types).
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// store_stand 门店台卡, package_card 包裹卡, official_account 公众号文章, live_stream 直播,
    /// ad 广告投放, event 线下活动, other 其他.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ChannelKind {
        StoreStand,
        PackageCard,
        OfficialAccount,
        LiveStream,
        Ad,
        Event,
        Other,
    }

    /// One welcome attachment (WeCom page 92599); at most 9.
    #[derive(Serialize, ToSchema)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum WelcomeAttachment {
        /// A WeCom media id or a picture URL from WeCom's image upload (one is required).
        Image {
            media_id: Option<String>,
            pic_url: Option<String>,
        },
        Link {
            title: String,
            url: String,
            picurl: Option<String>,
            desc: Option<String>,
        },
        Miniprogram {
            title: String,
            pic_media_id: String,
            appid: String,
            page: String,
        },
        Video {
            media_id: String,
        },
        File {
            media_id: String,
        },
    }

    /// The welcome: `{customer_name}` and `{guide_name}` in the text are filled in.
    #[derive(Serialize, ToSchema)]
    pub struct Welcome {
        /// At most 3,000 bytes; tabs and line breaks only as control characters.
        pub text: Option<String>,
        pub attachments: Option<Vec<WelcomeAttachment>>,
    }

    /// A channel: `{name, kind, owner_staff_id?, store_id?, region_id?, starts_on?, ends_on?,
    /// tag_ids?, welcome?, reward_template_id?}`.
    #[derive(Serialize, ToSchema)]
    pub struct ChannelSpec {
        /// 1–40 characters.
        pub name: String,
        pub kind: ChannelKind,
        pub owner_staff_id: Option<i64>,
        pub store_id: Option<i64>,
        pub region_id: Option<i64>,
        /// First day (Asia/Shanghai date, `2026-05-01`).
        pub starts_on: Option<String>,
        /// Last day, inclusive.
        pub ends_on: Option<String>,
        /// Tags put on every customer the channel brings (at most 20).
        pub tag_ids: Option<Vec<i64>>,
        pub welcome: Option<Welcome>,
        /// A coupon template issued once per customer ever on their first add.
        pub reward_template_id: Option<i64>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct ChannelTotals {
        pub adds: i64,
        pub new_customers: i64,
        pub deleted: i64,
        pub welcomes_sent: i64,
        pub rewards_issued: i64,
    }

    /// A channel as stored, with its totals.
    #[derive(Serialize, ToSchema)]
    pub struct ChannelOut {
        pub id: i64,
        pub name: String,
        pub kind: ChannelKind,
        pub owner_staff_id: Option<i64>,
        pub store_id: Option<i64>,
        pub region_id: Option<i64>,
        pub starts_on: Option<String>,
        pub ends_on: Option<String>,
        pub tag_ids: Vec<i64>,
        pub welcome: Option<Welcome>,
        pub reward_template_id: Option<i64>,
        pub archived: bool,
        pub created_by: String,
        pub created_at: i64,
        pub updated_at: i64,
        pub totals: ChannelTotals,
    }

    /// A guide behind a code.
    #[derive(Serialize, ToSchema)]
    pub struct GuideSlot {
        pub staff_id: i64,
        /// Adds per Shanghai day through this code before the guide is taken off it (1–10,000).
        pub daily_cap: i64,
        /// Share under a weighted spread (1–100, default 1).
        pub weight: Option<i64>,
    }

    /// Working hours in Asia/Shanghai; outside them the backup guide takes the code.
    #[derive(Serialize, ToSchema)]
    pub struct Schedule {
        /// ISO weekdays, 1 = Monday … 7 = Sunday; empty: every day.
        pub weekdays: Option<Vec<u8>>,
        /// `09:00:00`; give both start and end or neither.
        pub start: Option<String>,
        pub end: Option<String>,
    }

    /// contact_way: a QR code (联系我); link: an acquisition link (获客链接) for ads, SMS and
    /// other apps, its URL carrying the state as `customer_channel`.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum CodeKind {
        ContactWay,
        Link,
    }

    /// even: every guide who is on stands behind the code; weighted: one at a time by weight.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Spread {
        Even,
        Weighted,
    }

    /// The store-stand poster's texts, one line each, no control characters; a blank one
    /// takes its default.
    #[derive(Serialize, ToSchema)]
    pub struct PosterText {
        /// On the coloured band, at most 20 characters; default: the channel's store name.
        pub brand: Option<String>,
        /// The headline, at most 20 characters; default: the channel's name.
        pub title: Option<String>,
        /// Under the title (an offer), at most 40 characters; default: none.
        pub subtitle: Option<String>,
        /// Under the QR, at most 20 characters; default 扫码添加导购企业微信.
        pub caption: Option<String>,
    }

    /// A live code: `{channel_id, name, state?, skip_verify?, guides, backup_staff_id?,
    /// schedule?, spread?, poster?}`.
    #[derive(Serialize, ToSchema)]
    pub struct LiveCodeSpec {
        pub channel_id: i64,
        /// 1–40 characters (a link: at most 30, WeCom's limit).
        pub name: String,
        /// Default contact_way.
        pub kind: Option<CodeKind>,
        /// WeCom's `state`, at most 30 characters without spaces; made up when absent.
        pub state: Option<String>,
        /// Add without the guide confirming (default true).
        pub skip_verify: Option<bool>,
        /// 1–100 guides, each active and linked to a WeCom userid.
        pub guides: Vec<GuideSlot>,
        pub backup_staff_id: Option<i64>,
        pub schedule: Option<Schedule>,
        pub spread: Option<Spread>,
        pub poster: Option<PosterText>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct GuideAdds {
        pub staff_id: i64,
        pub adds: i64,
    }

    /// A live code with where WeCom stands.
    #[derive(Serialize, ToSchema)]
    pub struct LiveCodeOut {
        pub id: i64,
        pub channel_id: i64,
        pub name: String,
        pub kind: CodeKind,
        pub state: String,
        pub skip_verify: bool,
        pub guides: Vec<GuideSlot>,
        pub backup_staff_id: Option<i64>,
        pub schedule: Schedule,
        pub spread: Spread,
        pub poster: PosterText,
        /// WeCom's contact way or link id (`''` until WeCom accepted the code).
        pub config_id: String,
        /// A contact way: the QR image WeCom made; a link: the URL to publish (with the
        /// state as `customer_channel`).
        pub qr_url: String,
        /// Staff behind the code in WeCom now.
        pub current_staff_ids: Vec<i64>,
        /// `pending`, `synced` or `failed`.
        pub sync_status: String,
        /// Why the last sync failed, in Chinese with what to do.
        pub sync_error: String,
        pub synced_at: Option<i64>,
        pub adds_today: Vec<GuideAdds>,
        /// The QR image Yutang keeps (`GET …/qr.png`): WeCom's contact-way image, or the QR of
        /// a link's URL; `null` until stored for the current `qr_url`.
        pub qr_image: Option<QrImage>,
        /// Why the image is not stored yet (the last download failed, in Chinese); retried at
        /// the next sync.
        pub qr_image_error: String,
        pub archived: bool,
        pub created_at: i64,
        pub updated_at: i64,
    }

    /// A stored QR image's facts.
    #[derive(Serialize, ToSchema)]
    pub struct QrImage {
        /// `image/png`, or `image/jpeg` when WeCom's image is one.
        pub content_type: String,
        /// SHA-256 of the bytes, hex.
        pub sha256: String,
        pub size_bytes: i64,
        pub stored_at: i64,
    }

    /// A PNG (or JPEG) file.
    /// PNG and JPEG answers: the same binary schema as uploaded media.
    pub use crate::api::media::ImageFile;

    /// One change of the guides behind a code; `off` lists each guide left out with its
    /// `reason` (`cap_reached` with `adds` and `cap`, `outside_hours`, `not_a_workday`,
    /// `not_their_turn`).
    #[derive(Serialize, ToSchema)]
    pub struct CodeChange {
        pub at: i64,
        pub staff_ids: Vec<i64>,
        pub off: Vec<serde_json::Value>,
        pub on_backup: bool,
        pub exhausted: bool,
        pub ok: bool,
        pub error: String,
    }
}

/// Channels the caller sees, newest first.
#[utoipa::path(get, path = "/api/v1/channels", tag = "acquisition", security(("bearer" = [])),
    params(ChannelListParams),
    responses((status = 200, body = Vec<schema::ChannelOut>), (status = 403, body = ErrorBody)))]
pub async fn list_channels(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<ChannelListParams>,
) -> WebResult<Json<Vec<ChannelView>>> {
    Ok(Json(
        s.app
            .acquisition()
            .channels(&a, p.archived.unwrap_or(false))
            .await?,
    ))
}

/// Create a channel (operators and admins; audited).
#[utoipa::path(post, path = "/api/v1/channels", tag = "acquisition", security(("bearer" = [])),
    request_body = schema::ChannelSpec,
    responses((status = 201, body = schema::ChannelOut), (status = 422, body = ErrorBody)))]
pub async fn create_channel(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(spec): ApiJson<ChannelSpec>,
) -> WebResult<(StatusCode, Json<ChannelView>)> {
    let v = s.app.acquisition().create_channel(&a, spec).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "acquisition", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::ChannelOut), (status = 404, body = ErrorBody)))]
pub async fn get_channel(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<ChannelView>> {
    Ok(Json(s.app.acquisition().channel(&a, id).await?))
}

/// Replace a channel's settings (not once archived: 409 `channel_archived`).
#[utoipa::path(put, path = "/api/v1/channels/{id}", tag = "acquisition", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = schema::ChannelSpec,
    responses((status = 200, body = schema::ChannelOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_channel(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(spec): ApiJson<ChannelSpec>,
) -> WebResult<Json<ChannelView>> {
    Ok(Json(
        s.app.acquisition().update_channel(&a, id, spec).await?,
    ))
}

/// Archive a channel and its codes (their WeCom contact ways are deleted); adds through them
/// stay attributed. Archiving again changes nothing.
#[utoipa::path(post, path = "/api/v1/channels/{id}/archive", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = schema::ChannelOut), (status = 404, body = ErrorBody)))]
pub async fn archive_channel(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<ChannelView>> {
    Ok(Json(s.app.acquisition().archive_channel(&a, id).await?))
}

/// Live codes the caller sees, newest first.
#[utoipa::path(get, path = "/api/v1/live-codes", tag = "acquisition", security(("bearer" = [])),
    params(CodeListParams),
    responses((status = 200, body = Vec<schema::LiveCodeOut>), (status = 403, body = ErrorBody)))]
pub async fn list_codes(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<CodeListParams>,
) -> WebResult<Json<Vec<LiveCodeView>>> {
    Ok(Json(
        s.app
            .acquisition()
            .live_codes(&a, p.channel_id, p.archived.unwrap_or(false))
            .await?,
    ))
}

/// Create a live code and its WeCom contact way. A WeCom refusal does not fail the create:
/// the code answers `sync_status: "failed"` with the reason in Chinese, and is retried every
/// minute and by `POST …/{id}/sync`.
#[utoipa::path(post, path = "/api/v1/live-codes", tag = "acquisition", security(("bearer" = [])),
    request_body = schema::LiveCodeSpec,
    responses((status = 201, body = schema::LiveCodeOut), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_code(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(spec): ApiJson<LiveCodeSpec>,
) -> WebResult<(StatusCode, Json<LiveCodeView>)> {
    let v = s.app.acquisition().create_live_code(&a, spec).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[utoipa::path(get, path = "/api/v1/live-codes/{id}", tag = "acquisition", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::LiveCodeOut), (status = 404, body = ErrorBody)))]
pub async fn get_code(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<LiveCodeView>> {
    Ok(Json(s.app.acquisition().live_code(&a, id).await?))
}

/// Replace a code's settings; its contact way follows.
#[utoipa::path(put, path = "/api/v1/live-codes/{id}", tag = "acquisition", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = schema::LiveCodeSpec,
    responses((status = 200, body = schema::LiveCodeOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_code(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(spec): ApiJson<LiveCodeSpec>,
) -> WebResult<Json<LiveCodeView>> {
    Ok(Json(
        s.app.acquisition().update_live_code(&a, id, spec).await?,
    ))
}

/// Archive a code and delete its WeCom contact way.
#[utoipa::path(post, path = "/api/v1/live-codes/{id}/archive", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = schema::LiveCodeOut), (status = 404, body = ErrorBody)))]
pub async fn archive_code(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<LiveCodeView>> {
    Ok(Json(s.app.acquisition().archive_live_code(&a, id).await?))
}

/// Bring the code's contact way in line with its rotation now (after fixing WeCom settings).
#[utoipa::path(post, path = "/api/v1/live-codes/{id}/sync", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = schema::LiveCodeOut), (status = 404, body = ErrorBody)))]
pub async fn sync_code(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<LiveCodeView>> {
    Ok(Json(s.app.acquisition().resync_live_code(&a, id).await?))
}

/// The changes of the guides behind a code, newest first, with the reason for each guide
/// left out.
#[utoipa::path(get, path = "/api/v1/live-codes/{id}/changes", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Vec<schema::CodeChange>), (status = 404, body = ErrorBody)))]
pub async fn code_changes(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Vec<CodeChange>>> {
    Ok(Json(s.app.acquisition().live_code_changes(&a, id).await?))
}

/// The code's QR image as Yutang keeps it (a download: `live-code-{id}-qr.png`). 409
/// `qr_not_stored` until it is stored for the code's current URL (the download is retried at
/// every sync), `live_code_archived` once archived.
#[utoipa::path(get, path = "/api/v1/live-codes/{id}/qr.png", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, content((schema::ImageFile = "image/png"), (schema::ImageFile = "image/jpeg"))),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn code_qr(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Response> {
    let qr = s.app.acquisition().live_code_qr(&a, id).await?;
    Ok(file(
        &qr.content_type,
        &qr.filename,
        Disposition::Attachment,
        qr.bytes,
    ))
}

/// The code's store-stand poster (1080 × 1440 PNG, 300 dpi: the brand, the title, the
/// subtitle, the QR, the caption), drawn by Yutang (a download: `live-code-{id}-poster.png`).
/// 409 `qr_not_stored` without a stored QR image; 503 `poster_font_missing` when the server
/// has no CJK font (install fonts-noto-cjk or set `acquisition.poster_font`).
#[utoipa::path(get, path = "/api/v1/live-codes/{id}/poster.png", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, content((schema::ImageFile = "image/png"))),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn code_poster(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Response> {
    let png = s.app.acquisition().live_code_poster(&a, id).await?;
    Ok(file(
        "image/png",
        &format!("live-code-{id}-poster.png"),
        Disposition::Attachment,
        png,
    ))
}

/// `?refresh=true` reads WeCom now instead of the last reading.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QuotaParams {
    pub refresh: Option<bool>,
}

/// The quota reading as documented.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LinkQuotaOut {
    pub known: bool,
    pub used: i64,
    pub balance: i64,
    /// Below 100 left.
    pub low: bool,
    /// `[{expires_on: "2027-01-31", balance}]` (Asia/Shanghai days).
    pub expiring: Vec<serde_json::Value>,
    pub read_at: Option<i64>,
    /// The last reading's failure in Chinese ('' when it succeeded).
    pub error: String,
    pub tried_at: Option<i64>,
}

/// The corp's acquisition-link usage quota (获客链接额度; one unit per customer added through a
/// link): the last reading (every 10 minutes while a link code is live), or WeCom's answer
/// now with `refresh=true`.
#[utoipa::path(get, path = "/api/v1/acquisition/link-quota", tag = "acquisition",
    security(("bearer" = [])), params(QuotaParams),
    responses((status = 200, body = LinkQuotaOut), (status = 403, body = ErrorBody)))]
pub async fn link_quota(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<QuotaParams>,
) -> WebResult<Json<yutang_app::acquisition::quota::LinkQuota>> {
    Ok(Json(
        s.app
            .acquisition()
            .link_quota(&a, p.refresh.unwrap_or(false))
            .await?,
    ))
}
