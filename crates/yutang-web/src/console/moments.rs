//! `/console/moments` (issue #21 item 3): moments tasks (客户朋友圈), a post the brand writes once
//! and its guides publish to their customers' moments through WeCom. The list of tasks; the
//! composer (a text, up to 9 images uploaded with the form or one link card with its cover,
//! the guides who publish, the WeCom corp tags whose customers see it, now or at a time); and
//! each task's page: its content, the guides with what they did, the latest likes and
//! comments, and the 刷新结果 and 取消 buttons.
//!
//! Every page reads through `app.moments()`: admins, operators and store managers send (a
//! store manager through their store's guides, and sees only their store's tasks), analysts
//! read, guides get the forbidden page. Images are stored through `app.media()` as the
//! promotion forms store theirs, so only those who manage promotions can upload them; others
//! post a text only.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::moments::{MomentDetail, MomentInput, MomentView, SenderChoice};
use yutang_core::FieldError;
use yutang_core::moments::{
    self as core, MAX_IMAGES, MAX_TEXT_CHARS, MomentAttachment, MomentContent, Senders,
};
use yutang_core::staff::{Permission, Role};
use yutang_core::time::Millis;

use super::layout::{
    ConsoleFiles, ConsoleForm, ConsoleQuery, CsrfForm, FormError, error_for, error_page,
    form_error, opt_id, see_other,
};
use super::share::minute;
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

const LIST_PATH: &str = "/console/moments";
const ACTIVE: &str = "moments";
/// Files one composer post may carry: the images, and a link's cover.
pub const MAX_FILES: usize = MAX_IMAGES + 1;

fn detail_path(id: i64) -> String {
    format!("{LIST_PATH}/{id}")
}

/// Whether the caller sends (admins, operators, store managers).
fn can_send(c: &Console) -> bool {
    c.session.actor.can(Permission::SendMessages)
}

/// Whether the caller may upload images (`app.media()`: those who manage promotions).
fn can_upload(c: &Console) -> bool {
    c.session.actor.can(Permission::ManagePromotions)
}

// ---------------------------------------------------------------- labels

fn status_label(tr: Tr, status: &str) -> String {
    super::labels::code_or_raw(tr, "moments.status.", status)
}

fn status_class(status: &str) -> &'static str {
    match status {
        "creating" => "pill active",
        "created" => "pill ok",
        "failed" => "pill failed",
        "cancelled" => "pill disabled",
        _ => "pill",
    }
}

fn sender_state_label(tr: Tr, state: &str) -> String {
    super::labels::code_or_raw(tr, "moments.sender.", state)
}

fn sender_class(state: &str) -> &'static str {
    match state {
        "published" => "pill ok",
        "invalid" => "pill failed",
        _ => "pill",
    }
}

fn reason_label(tr: Tr, reason: &str) -> String {
    if reason.is_empty() {
        "-".to_owned()
    } else {
        super::labels::code_or_raw(tr, "moments.reason.", reason)
    }
}

fn kind_label(tr: Tr, kind: &str) -> String {
    super::labels::code_or_raw(tr, "moments.kind.", kind)
}

/// Why a task failed: its code in words, and the rest (WeCom's answer) as it came.
fn failure_text(tr: Tr, error: &str) -> (String, String) {
    let (code, rest) = error.split_once(':').unwrap_or((error, ""));
    let code = code.trim();
    let key = format!("moments.fail.{code}");
    if text(&key).is_some() {
        (tr.t(&key).to_owned(), rest.trim().to_owned())
    } else if yutang_core::error_codes::find(code).is_some() {
        (tr.error(code).to_owned(), rest.trim().to_owned())
    } else {
        (String::new(), error.to_owned())
    }
}

/// `published / asked`, or `-` before the guides are decided at the send time.
fn published_of(v: &MomentView) -> String {
    let c = &v.counts;
    let asked = c.pending + c.published + c.invalid;
    if asked == 0 && v.status == "scheduled" {
        "-".to_owned()
    } else {
        format!("{} / {asked}", c.published)
    }
}

// ---------------------------------------------------------------- the list

#[derive(Template)]
#[template(path = "console/moments.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<MomentView>,
    can_send: bool,
}

impl ListPage {
    fn status_label(&self, st: &str) -> String {
        status_label(self.ctx.tr, st)
    }
    fn status_class(&self, st: &str) -> &'static str {
        status_class(st)
    }
    fn minute(&self, ms: &i64) -> String {
        minute(*ms)
    }
    fn published(&self, v: &MomentView) -> String {
        published_of(v)
    }
}

pub async fn list(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = ACTIVE;
    let rows = match s.app.moments().list(&c.session.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    render(
        StatusCode::OK,
        &ListPage {
            can_send: can_send(&c),
            ctx: c.ctx,
            rows,
        },
    )
}

// ---------------------------------------------------------------- the composer

/// The composer as typed, so a refused form comes back filled in (uploaded images by their
/// ids: a browser cannot refill a file input).
#[derive(Debug, Clone)]
pub struct ComposeForm {
    name: String,
    text: String,
    /// `images` or `link`.
    attach: String,
    /// Images uploaded with an earlier try of this form, kept.
    image_ids: Vec<String>,
    link_title: String,
    link_url: String,
    /// The link's cover uploaded with an earlier try, kept.
    cover_id: String,
    /// `listed` or `all`.
    senders: String,
    sender_ids: Vec<String>,
    tag_ids: Vec<String>,
    /// `now` or `later`.
    when: String,
    /// `YYYY-MM-DDTHH:MM` in Asia/Shanghai (`<input type="datetime-local">`).
    send_at: String,
}

impl Default for ComposeForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            text: String::new(),
            attach: "images".into(),
            image_ids: Vec::new(),
            link_title: String::new(),
            link_url: String::new(),
            cover_id: String::new(),
            senders: "listed".into(),
            sender_ids: Vec::new(),
            tag_ids: Vec::new(),
            when: "now".into(),
            send_at: String::new(),
        }
    }
}

/// The composer's fields a refusal can name (others show above the form).
const COMPOSE_FIELDS: [&str; 7] = [
    "name",
    "text",
    "attachments",
    "sender_ids",
    "all_senders",
    "tag_ids",
    "send_at",
];

/// The ids ticked in a list of checkboxes (blank ones skipped).
fn checked_ids(field: &'static str, values: &[String]) -> Result<Vec<i64>, FieldError> {
    let mut ids = Vec::new();
    for v in values {
        if let Some(id) = opt_id(field, v)? {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Line breaks as a browser sends them (`\r\n`) made `\n`, the only ones the text keeps.
fn unix_lines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

impl ComposeForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = Self {
            attach: String::new(),
            senders: String::new(),
            when: String::new(),
            ..Self::default()
        };
        for (k, v) in pairs {
            match k.as_str() {
                "name" => f.name = v.clone(),
                "text" => f.text = unix_lines(v),
                "attach" => f.attach = v.clone(),
                "image_id" => f.image_ids.push(v.clone()),
                "link_title" => f.link_title = v.clone(),
                "link_url" => f.link_url = v.clone(),
                "cover_id" => f.cover_id = v.clone(),
                "senders" => f.senders = v.clone(),
                "sender_ids" => f.sender_ids.push(v.clone()),
                "tag_ids" => f.tag_ids.push(v.clone()),
                "when" => f.when = v.clone(),
                "send_at" => f.send_at = v.clone(),
                _ => {}
            }
        }
        if f.attach != "link" {
            f.attach = "images".into();
        }
        if f.senders != "all" {
            f.senders = "listed".into();
        }
        f
    }

    fn is_link(&self) -> bool {
        self.attach == "link"
    }

    /// The images kept, as ids (a tampered id is refused under the images).
    fn kept_images(&self) -> Result<Vec<i64>, FieldError> {
        checked_ids("attachments", &self.image_ids)
    }

    fn parse_attachments(&self) -> Result<Vec<MomentAttachment>, FieldError> {
        if self.is_link() {
            let cover = opt_id("attachments", &self.cover_id)?;
            let blank = self.link_title.trim().is_empty() && self.link_url.trim().is_empty();
            return match cover {
                None if blank => Ok(Vec::new()),
                None => Err(FieldError::new(
                    "attachments",
                    "invalid_attachment",
                    "a link card needs a cover image",
                )),
                Some(id) => Ok(vec![MomentAttachment::link(
                    &self.link_title,
                    &self.link_url,
                    id,
                )?]),
            };
        }
        Ok(self
            .kept_images()?
            .into_iter()
            .map(|media_id| MomentAttachment::Image { media_id })
            .collect())
    }

    fn parse_senders(&self) -> Result<Senders, FieldError> {
        if self.senders == "all" {
            Senders::parse(None, true)
        } else {
            Senders::parse(Some(checked_ids("sender_ids", &self.sender_ids)?), false)
        }
    }

    /// `None`: now; else the Shanghai wall-clock time typed.
    fn parse_send_at(&self) -> Result<Option<i64>, FieldError> {
        if self.when != "later" {
            return Ok(None);
        }
        let s = self.send_at.trim();
        if s.is_empty() {
            return Err(FieldError::new(
                "send_at",
                "invalid_time",
                "choose the send time",
            ));
        }
        Millis::parse_flexible("send_at", &s.replace('T', " ")).map(|m| Some(m.0))
    }

    fn parse(&self) -> Result<MomentInput, FieldError> {
        let name = core::parse_name(&self.name)?;
        let content = MomentContent::parse(&self.text, self.parse_attachments()?)?;
        let senders = self.parse_senders()?;
        let tag_ids = core::parse_visible_tags(checked_ids("tag_ids", &self.tag_ids)?)?;
        let send_at = self.parse_send_at()?;
        Ok(MomentInput {
            name,
            content,
            senders,
            tag_ids,
            send_at,
        })
    }

    fn is_sender(&self, id: &i64) -> bool {
        self.sender_ids.iter().any(|s| s.trim() == id.to_string())
    }
    fn is_tag(&self, id: &i64) -> bool {
        self.tag_ids.iter().any(|t| t.trim() == id.to_string())
    }
    fn is_all(&self) -> bool {
        self.senders == "all"
    }
    fn is_later(&self) -> bool {
        self.when == "later"
    }
    /// The kept images that are ids (for their thumbnails).
    fn image_list(&self) -> Vec<i64> {
        self.image_ids
            .iter()
            .filter_map(|i| i.trim().parse().ok())
            .collect()
    }
    fn cover(&self) -> Option<i64> {
        self.cover_id.trim().parse().ok()
    }
}

/// A WeCom corp tag, for the visible-tag checkboxes.
pub struct TagChoice {
    id: i64,
    name: String,
}

/// A tag group with its WeCom corp tags.
pub struct TagGroup {
    name: String,
    tags: Vec<TagChoice>,
}

/// The WeCom corp tags (those synced from WeCom: WeCom shows a moment by its own tags only),
/// by group.
async fn wecom_tag_groups(s: &AppState, c: &Console) -> Result<Vec<TagGroup>, AppError> {
    Ok(s.app
        .tags()
        .tag_catalogue(&c.session.actor)
        .await?
        .into_iter()
        .map(|g| TagGroup {
            name: g.group.name,
            tags: g
                .tags
                .into_iter()
                .filter(|t| t.tag.wecom_id.is_some())
                .map(|t| TagChoice {
                    id: t.tag.id,
                    name: t.tag.name,
                })
                .collect(),
        })
        .filter(|g| !g.tags.is_empty())
        .collect())
}

#[derive(Template)]
#[template(path = "console/moments_new.html")]
struct ComposePage {
    ctx: Ctx,
    form: ComposeForm,
    error: Option<FormError>,
    guides: Vec<SenderChoice>,
    tag_groups: Vec<TagGroup>,
    /// The caller may upload images (else a text only).
    can_upload: bool,
    /// The caller is a store manager: their store's guides only.
    store_only: bool,
}

impl ComposePage {
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    /// The guides' error, whichever of the two fields it names.
    fn senders_err(&self) -> Option<&'static str> {
        self.err("sender_ids").or_else(|| self.err("all_senders"))
    }
    fn general_error(&self) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| !COMPOSE_FIELDS.contains(&e.field.as_str()))
            .map(|e| e.message)
    }
    fn text_help(&self) -> String {
        self.ctx
            .tr
            .fill("moments.text_help", &[("n", &MAX_TEXT_CHARS.to_string())])
    }
    fn images_help(&self) -> String {
        self.ctx
            .tr
            .fill("moments.images_help", &[("n", &MAX_IMAGES.to_string())])
    }
}

async fn compose_page(
    s: &AppState,
    mut c: Console,
    form: ComposeForm,
    status: StatusCode,
    error: Option<FormError>,
) -> Response {
    c.ctx.active = ACTIVE;
    if !can_send(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let guides = match s.app.moments().sender_choices(&c.session.actor).await {
        Ok(g) => g,
        Err(e) => return error_page(c.ctx, e),
    };
    let tag_groups = match wecom_tag_groups(s, &c).await {
        Ok(g) => g,
        Err(e) => return error_page(c.ctx, e),
    };
    render(
        status,
        &ComposePage {
            can_upload: can_upload(&c),
            store_only: c.session.actor.role == Role::StoreManager,
            ctx: c.ctx,
            form,
            error,
            guides,
            tag_groups,
        },
    )
}

pub async fn new(State(s): State<AppState>, c: Console) -> Response {
    compose_page(&s, c, ComposeForm::default(), StatusCode::OK, None).await
}

/// Store the files sent with the form (`images` in image mode, `cover` in link mode; the
/// others are not wanted and not stored) as the promotion forms store theirs, and keep their
/// ids on the form.
async fn store_files(
    s: &AppState,
    c: &Console,
    f: &mut ComposeForm,
    files: Vec<(String, Bytes)>,
) -> Result<(), AppError> {
    let want = if f.is_link() { "cover" } else { "images" };
    let files: Vec<Bytes> = files
        .into_iter()
        .filter(|(name, _)| name == want)
        .map(|(_, b)| b)
        .collect();
    if files.is_empty() {
        return Ok(());
    }
    if !f.is_link() && f.kept_images()?.len() + files.len() > MAX_IMAGES {
        return Err(FieldError::new(
            "attachments",
            "too_many_items",
            format!("at most {MAX_IMAGES} images"),
        )
        .into());
    }
    for bytes in files {
        let (row, _) = s.app.media().upload_image(&c.session.actor, &bytes).await?;
        if f.is_link() {
            f.cover_id = row.id.to_string();
        } else {
            f.image_ids.push(row.id.to_string());
        }
    }
    Ok(())
}

/// 发送: store the files, then create the task; a refusal comes back on the form, what was
/// typed and uploaded kept.
pub async fn submit(
    State(s): State<AppState>,
    ConsoleFiles(c, pairs, files): ConsoleFiles<MAX_FILES>,
) -> Response {
    // Forbidden before the form is read.
    if !can_send(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let mut f = ComposeForm::from_pairs(&pairs);
    let created = match store_files(&s, &c, &mut f, files).await {
        Ok(()) => match f.parse() {
            Ok(input) => s.app.moments().create(&c.session.actor, &input).await,
            Err(e) => Err(e.into()),
        },
        Err(e) => Err(e),
    };
    match created {
        Ok(d) => see_other(&format!("{}?done=created", detail_path(d.moment.id))),
        Err(e @ AppError::Forbidden) => error_page(c.ctx, e),
        Err(e) => {
            let (status, mut err) = form_error(c.ctx.tr, e);
            // An image refused as it was stored names its own field: show it by the images.
            if !COMPOSE_FIELDS.contains(&err.field.as_str()) && !err.field.is_empty() {
                err.field = "attachments".into();
            }
            compose_page(&s, c, f, status, Some(err)).await
        }
    }
}

// ---------------------------------------------------------------- one task

/// A task page's query: what was just done.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DetailQuery {
    /// `created`, `cancelled` or `refreshed`.
    done: Option<String>,
}

/// A like or a comment as shown.
struct InteractionLine {
    kind: String,
    customer: Option<(i64, String)>,
    guide: String,
    at: i64,
}

#[derive(Template)]
#[template(path = "console/moments_detail.html")]
struct DetailPage {
    ctx: Ctx,
    d: MomentDetail,
    can_send: bool,
    /// The guides asked, in words.
    senders: String,
    /// The visible tags, in words (`group/name`), or every customer.
    tags: String,
    /// Visible tags WeCom did not know, in words.
    invalid_tags: String,
    store: Option<String>,
    interactions: Vec<InteractionLine>,
    notice: Option<&'static str>,
    problem: Option<&'static str>,
}

impl DetailPage {
    fn status_label(&self) -> String {
        status_label(self.ctx.tr, &self.d.moment.status)
    }
    fn status_class(&self) -> &'static str {
        status_class(&self.d.moment.status)
    }
    fn minute(&self, ms: &i64) -> String {
        minute(*ms)
    }
    fn opt_minute(&self, ms: &Option<i64>) -> String {
        ms.map_or_else(|| "-".to_owned(), minute)
    }
    fn sender_state(&self, st: &str) -> String {
        sender_state_label(self.ctx.tr, st)
    }
    fn sender_class(&self, st: &str) -> &'static str {
        sender_class(st)
    }
    fn reason(&self, r: &str) -> String {
        reason_label(self.ctx.tr, r)
    }
    fn kind(&self, k: &str) -> String {
        kind_label(self.ctx.tr, k)
    }
    fn failure(&self) -> (String, String) {
        failure_text(self.ctx.tr, &self.d.moment.error)
    }
    fn published(&self) -> String {
        published_of(&self.d.moment)
    }
    fn images(&self) -> Vec<i64> {
        self.d
            .moment
            .content
            .attachments
            .iter()
            .filter_map(|a| match a {
                MomentAttachment::Image { media_id } => Some(*media_id),
                MomentAttachment::Link { .. } => None,
            })
            .collect()
    }
    fn links(&self) -> Vec<(String, String, i64)> {
        self.d
            .moment
            .content
            .attachments
            .iter()
            .filter_map(|a| match a {
                MomentAttachment::Link {
                    title,
                    url,
                    cover_media_id,
                } => Some((title.clone(), url.clone(), *cover_media_id)),
                MomentAttachment::Image { .. } => None,
            })
            .collect()
    }
    fn can_cancel(&self) -> bool {
        self.can_send && matches!(self.d.moment.status.as_str(), "scheduled" | "created")
    }
    fn can_refresh(&self) -> bool {
        self.can_send && (self.d.moment.status == "creating" || self.d.moment.moment_id.is_some())
    }
}

/// Tag ids in words (`group/name`; a tag gone as `#id`).
async fn tag_names(s: &AppState, c: &Console, ids: &[i64]) -> String {
    let names: HashMap<i64, String> = match s.app.tags().tag_catalogue(&c.session.actor).await {
        Ok(groups) => groups
            .into_iter()
            .flat_map(|g| {
                let group = g.group.name;
                g.tags
                    .into_iter()
                    .map(move |t| (t.tag.id, format!("{group}/{}", t.tag.name)))
            })
            .collect(),
        Err(_) => HashMap::new(),
    };
    ids.iter()
        .map(|t| names.get(t).cloned().unwrap_or_else(|| format!("#{t}")))
        .collect::<Vec<_>>()
        .join("、")
}

async fn detail_page(
    s: &AppState,
    mut c: Console,
    id: i64,
    q: &DetailQuery,
    code: StatusCode,
    problem: Option<&'static str>,
) -> Response {
    c.ctx.active = ACTIVE;
    let a = &c.session.actor;
    let d = match s.app.moments().get(a, id).await {
        Ok(d) => d,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let senders = match &d.moment.sender_ids {
        None => tr.t("moments.senders_all").to_owned(),
        Some(ids) => tr.fill("moments.senders_n", &[("n", &ids.len().to_string())]),
    };
    let tags = if d.moment.tag_ids.is_empty() {
        tr.t("moments.tags_none").to_owned()
    } else {
        tag_names(s, &c, &d.moment.tag_ids).await
    };
    let invalid_tags = tag_names(s, &c, &d.moment.invalid_tag_ids).await;
    let store = match d.moment.store_id {
        Some(sid) => Some(
            match s
                .app
                .org()
                .get_store(a, yutang_core::ids::StoreId(sid))
                .await
            {
                Ok(st) => st.name,
                Err(_) => format!("#{sid}"),
            },
        ),
        None => None,
    };
    let guide_names: HashMap<i64, String> = d
        .senders
        .iter()
        .map(|s| (s.staff_id, s.display_name.clone()))
        .collect();
    let interactions = d
        .interactions
        .iter()
        .map(|i| InteractionLine {
            kind: i.kind.clone(),
            customer: i.customer_id.map(|cid| {
                let name = i
                    .customer_name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("#{cid}"));
                (cid, name)
            }),
            guide: guide_names
                .get(&i.staff_id)
                .cloned()
                .unwrap_or_else(|| format!("#{}", i.staff_id)),
            at: i.at,
        })
        .collect();
    let notice = match q.done.as_deref() {
        Some("created") => Some(tr.t("moments.done.created")),
        Some("cancelled") => Some(tr.t("moments.done.cancelled")),
        Some("refreshed") => Some(tr.t("moments.done.refreshed")),
        _ => None,
    };
    render(
        code,
        &DetailPage {
            can_send: can_send(&c),
            ctx: c.ctx,
            d,
            senders,
            tags,
            invalid_tags,
            store,
            interactions,
            notice,
            problem,
        },
    )
}

pub async fn show(
    State(s): State<AppState>,
    c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<DetailQuery>,
) -> Response {
    detail_page(&s, c, id, &q, StatusCode::OK, None).await
}

/// After a button: forbidden and not found as the error page; another refusal (a task being
/// created or no longer cancellable, WeCom not configured or unavailable) on the task's page.
async fn refused(s: &AppState, c: Console, id: i64, e: AppError) -> Response {
    if matches!(e, AppError::Forbidden | AppError::NotFound { .. }) {
        return error_page(c.ctx, e);
    }
    let (status, err) = form_error(c.ctx.tr, e);
    detail_page(s, c, id, &DetailQuery::default(), status, Some(err.message)).await
}

/// The console's confirmation page (`console/confirm.html`), for 取消.
#[derive(Template)]
#[template(path = "console/confirm.html")]
struct CancelConfirm {
    ctx: Ctx,
    title: String,
    subject: String,
    impact: Vec<String>,
    outcome: &'static str,
    action: String,
    button: &'static str,
    back: String,
}

/// Confirm cancelling a task: what happens to it in WeCom.
pub async fn cancel_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    mut c: Console,
) -> Response {
    c.ctx.active = ACTIVE;
    if !can_send(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let d = match s.app.moments().get(&c.session.actor, id).await {
        Ok(d) => d,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let impact = if d.moment.status == "created" {
        tr.t("moments.cancel_created")
    } else {
        tr.t("moments.cancel_scheduled")
    };
    let page = CancelConfirm {
        title: tr.t("moments.cancel_title").to_owned(),
        subject: tr.fill("moments.cancel_subject", &[("name", &d.moment.name)]),
        impact: vec![impact.to_owned()],
        outcome: "cancel",
        action: format!("{}/cancel", detail_path(id)),
        button: tr.t("moments.cancel"),
        back: detail_path(id),
        ctx: c.ctx,
    };
    render(StatusCode::OK, &page)
}

/// 取消: before it is sent nothing reaches WeCom; once made, guides who have not published
/// no longer can.
pub async fn cancel(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.moments().cancel(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?done=cancelled", detail_path(id))),
        Err(e) => refused(&s, c, id, e).await,
    }
}

/// 刷新结果: read WeCom now.
pub async fn refresh(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.moments().refresh(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?done=refreshed", detail_path(id))),
        Err(e) => refused(&s, c, id, e).await,
    }
}

// ---------------------------------------------------------------- texts

/// The pages' own texts (`moments.…`).
pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "moments.nav" => ("朋友圈", "Moments"),
        "moments.title" => ("客户朋友圈", "Customer moments"),
        "moments.intro" => (
            "品牌写好一条朋友圈，由导购在企业微信中发表到其客户的朋友圈；这里可以看到哪些导购已发表，以及客户的点赞和评论。",
            "Write a post once and your guides publish it to their customers' moments from WeCom; see here which guides published it, and the customers' likes and comments.",
        ),
        "moments.compose" => ("新建朋友圈", "New post"),
        "moments.back" => ("返回朋友圈", "Back to moments"),
        "moments.empty" => ("还没有朋友圈任务。", "No moments task yet."),
        "moments.name" => ("名称", "Name"),
        "moments.name_help" => (
            "仅用于后台识别，客户看不到；最多 40 个字。",
            "For the console only, customers do not see it; at most 40 characters.",
        ),
        "moments.status" => ("状态", "Status"),
        "moments.send_at" => ("发送时间", "Send time"),
        "moments.published" => ("已发表 / 导购数", "Published / guides"),
        "moments.likes" => ("点赞", "Likes"),
        "moments.comments" => ("评论", "Comments"),
        "moments.status.scheduled" => ("待发送", "Scheduled"),
        "moments.status.creating" => ("创建中", "Creating"),
        "moments.status.created" => ("已下发导购", "Sent to guides"),
        "moments.status.failed" => ("发送失败", "Failed"),
        "moments.status.cancelled" => ("已取消", "Cancelled"),
        // The composer.
        "moments.new_title" => ("新建朋友圈", "New moments post"),
        "moments.store_only" => (
            "店长只能由本店导购发表。",
            "As a store manager you post through your store's guides.",
        ),
        "moments.content" => ("内容", "Content"),
        "moments.text" => ("文字", "Text"),
        "moments.text_help" => (
            "最多 {n} 字，可换行；文字与图片或链接至少填一项。",
            "At most {n} characters, line breaks allowed; a text, images or a link, or both.",
        ),
        "moments.attach" => ("附件", "Attachments"),
        "moments.attach_images" => ("图片", "Images"),
        "moments.attach_link" => ("链接卡片", "Link card"),
        "moments.images" => ("选择图片", "Choose images"),
        "moments.images_help" => (
            "最多 {n} 张 PNG 或 JPEG 图片，与表单一起上传；图片和链接只能选一种。",
            "Up to {n} PNG or JPEG images, uploaded with the form; images or a link, not both.",
        ),
        "moments.images_kept" => (
            "已上传的图片（取消勾选即移除）",
            "Images uploaded (untick to remove)",
        ),
        "moments.images_hq" => (
            "图片和链接封面由总部（管理员、运营）上传；您可以发表纯文字朋友圈。",
            "Images and link covers are uploaded by headquarters (admins and operators); you can post a text.",
        ),
        "moments.link_title" => ("链接标题", "Link title"),
        "moments.link_url" => ("链接地址", "Link URL"),
        "moments.cover" => ("封面图片", "Cover image"),
        "moments.cover_help" => (
            "链接卡片须有封面图片（PNG 或 JPEG）。",
            "A link card needs a cover image (PNG or JPEG).",
        ),
        "moments.cover_kept" => (
            "已上传的封面（取消勾选即移除）",
            "Cover uploaded (untick to remove)",
        ),
        "moments.image_alt" => ("朋友圈图片", "Post image"),
        "moments.senders" => ("发表导购", "Guides who publish"),
        "moments.senders_listed" => ("指定导购", "Chosen guides"),
        "moments.senders_all_pick" => ("全部导购", "All guides"),
        "moments.senders_help" => (
            "只列出在职且已绑定企业微信账号的导购；选择「全部导购」时按发送时的导购确定。",
            "Only active guides with a WeCom account are listed; \"All guides\" means the guides at the send time.",
        ),
        "moments.no_guides" => (
            "没有可发表的导购：请先为导购绑定企业微信账号。",
            "No guide can publish: link your guides to their WeCom accounts first.",
        ),
        "moments.tags" => ("可见客户（企业微信标签）", "Who sees it (WeCom tags)"),
        "moments.tags_help" => (
            "只列出企业微信企业标签。勾选后，只有带有其中任一标签的客户能看到；都不勾选时，导购的全部客户都能看到。",
            "Only WeCom corp tags are listed. When some are ticked, only customers with one of them see the post; with none ticked, all the guides' customers see it.",
        ),
        "moments.no_tags" => (
            "还没有企业微信标签：同步企业微信后可按标签选择；不选时导购的全部客户都能看到。",
            "No WeCom tag yet: sync WeCom to choose by tag; without tags all the guides' customers see it.",
        ),
        "moments.when" => ("发送时间", "When"),
        "moments.when_now" => ("立即发送", "Now"),
        "moments.when_later" => ("定时发送（北京时间）", "At a time (Asia/Shanghai)"),
        "moments.send" => ("发送", "Send"),
        "moments.send_help" => (
            "发送后每位导购会在企业微信收到发表任务，由导购确认后发表到客户朋友圈。",
            "Once sent, each guide gets a task in WeCom and publishes the post by confirming it.",
        ),
        // One task.
        "moments.senders_all" => ("全部导购", "All guides"),
        "moments.senders_n" => ("{n} 位指定导购", "{n} chosen guides"),
        "moments.tags_none" => ("导购的全部客户", "All the guides' customers"),
        "moments.invalid_tags" => ("企业微信不认识的标签", "Tags WeCom did not know"),
        "moments.store" => ("门店", "Store"),
        "moments.created_at" => ("创建时间", "Created"),
        "moments.sent_at" => ("下发导购", "Sent to guides"),
        "moments.tracked_at" => ("最近读取结果", "Results last read"),
        "moments.failure" => ("失败原因", "Why it failed"),
        "moments.link" => ("链接卡片", "Link card"),
        "moments.guides" => ("导购发表情况", "Guides"),
        "moments.guide" => ("导购", "Guide"),
        "moments.sender_state" => ("发表状态", "State"),
        "moments.reason" => ("原因", "Reason"),
        "moments.published_at" => ("发表时间", "Published"),
        "moments.no_guides_yet" => (
            "到发送时间才确定发表的导购。",
            "The guides are decided at the send time.",
        ),
        "moments.interactions" => ("最新点赞和评论", "Latest likes and comments"),
        "moments.customer" => ("客户", "Customer"),
        "moments.kind" => ("类型", "Kind"),
        "moments.at" => ("时间", "When"),
        "moments.colleague" => ("同事或非客户", "A colleague or non-customer"),
        "moments.no_interactions" => ("还没有点赞或评论。", "No like or comment yet."),
        "moments.refresh" => ("刷新结果", "Refresh results"),
        "moments.cancel" => ("取消任务", "Cancel the task"),
        "moments.follow_up_help" => (
            "发表情况、点赞和评论每 30 分钟自动读取一次，持续 7 天；发送时间前取消不会发到企业微信，发出后取消则尚未发表的导购不能再发表。",
            "Who published, likes and comments are read every 30 minutes for 7 days. Cancelled before its send time, nothing reaches WeCom; cancelled later, guides who have not published no longer can.",
        ),
        "moments.cancel_title" => ("取消朋友圈任务", "Cancel the moments task"),
        "moments.cancel_subject" => ("朋友圈任务「{name}」", "Moments task “{name}”"),
        "moments.cancel_scheduled" => (
            "任务尚未发送：取消后不会发到企业微信。",
            "Not sent yet: once cancelled, nothing reaches WeCom.",
        ),
        "moments.cancel_created" => (
            "尚未发表的导购将不能再发表；已发表的朋友圈保留，点赞和评论仍会读取。",
            "Guides who have not published no longer can; what was published stays, and its likes and comments are still read.",
        ),
        "moments.done.created" => (
            "朋友圈任务已创建：到发送时间后，导购会在企业微信收到发表任务。",
            "Task created: at its send time each guide gets a task in WeCom.",
        ),
        "moments.done.cancelled" => ("朋友圈任务已取消", "Task cancelled"),
        "moments.done.refreshed" => ("已读取最新结果", "Results refreshed"),
        // A guide's part (`yutang_core::moments::SENDER_STATES`) and why they cannot.
        "moments.sender.pending" => ("待发表", "Not published yet"),
        "moments.sender.published" => ("已发表", "Published"),
        "moments.sender.invalid" => ("无法发表", "Cannot publish"),
        "moments.reason.not_active" => {
            ("已停用或未绑定企业微信", "Inactive or not linked to WeCom")
        }
        "moments.reason.wecom_refused" => ("企业微信拒绝", "Refused by WeCom"),
        "moments.kind.like" => ("点赞", "Like"),
        "moments.kind.comment" => ("评论", "Comment"),
        // Why a task failed (besides the error codes).
        "moments.fail.no_senders" => (
            "发送时没有可发表的导购",
            "No guide could publish at the send time",
        ),
        "moments.fail.wecom_job_expired" => {
            ("企业微信的创建任务已过期", "WeCom's creation job expired")
        }
        _ => return None,
    })
}

/// Every state, reason and kind the pages label (for the tests).
#[cfg(test)]
fn labelled_keys() -> Vec<String> {
    let mut keys: Vec<String> = yutang_core::moments::SENDER_STATES
        .iter()
        .map(|s| format!("moments.sender.{s}"))
        .collect();
    for st in ["scheduled", "creating", "created", "failed", "cancelled"] {
        keys.push(format!("moments.status.{st}"));
    }
    for r in ["not_active", "wecom_refused"] {
        keys.push(format!("moments.reason.{r}"));
    }
    for k in ["like", "comment"] {
        keys.push(format!("moments.kind.{k}"));
    }
    for f in ["no_senders", "wecom_job_expired"] {
        keys.push(format!("moments.fail.{f}"));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::console::layout::form_pairs as pairs;

    fn field(f: &ComposeForm) -> &'static str {
        match f.parse() {
            Err(e) => e.field,
            Ok(i) => panic!("accepted: {i:?}"),
        }
    }

    #[test]
    fn the_composer_reads_its_fields() {
        let f = ComposeForm::from_pairs(&pairs(&[
            ("csrf", "x"),
            ("name", "春季上新"),
            ("text", "第一行\r\n第二行"),
            ("attach", "images"),
            ("image_id", "4"),
            ("image_id", "5"),
            ("link_title", "ignored"),
            ("senders", "listed"),
            ("sender_ids", "7"),
            ("sender_ids", "8"),
            ("tag_ids", "3"),
            ("when", "later"),
            ("send_at", "2030-01-02T09:30"),
        ]));
        let input = f.parse().unwrap();
        assert_eq!(input.name, "春季上新");
        assert_eq!(input.content.text, "第一行\n第二行");
        assert_eq!(
            input.content.attachments,
            vec![
                MomentAttachment::Image { media_id: 4 },
                MomentAttachment::Image { media_id: 5 }
            ]
        );
        assert_eq!(input.senders, Senders::Listed(vec![7, 8]));
        assert_eq!(input.tag_ids, vec![3]);
        // 09:30 in Shanghai is 01:30 UTC.
        assert_eq!(
            input.send_at.map(|m| Millis(m).to_rfc3339()),
            Some("2030-01-02T01:30:00.000Z".into())
        );
        assert!(f.is_sender(&7) && f.is_tag(&3) && !f.is_all() && f.is_later());
    }

    #[test]
    fn a_link_needs_its_cover_and_all_guides_take_no_list() {
        let base = ComposeForm {
            name: "n".into(),
            text: "t".into(),
            senders: "all".into(),
            ..ComposeForm::default()
        };
        let input = base.parse().unwrap();
        assert_eq!(input.senders, Senders::All);
        assert_eq!(input.send_at, None);
        let link = ComposeForm {
            attach: "link".into(),
            link_title: "上新".into(),
            link_url: "https://shop.example/new".into(),
            image_ids: vec!["9".into()],
            ..base.clone()
        };
        assert_eq!(field(&link), "attachments", "no cover");
        let with_cover = ComposeForm {
            cover_id: "2".into(),
            ..link.clone()
        };
        assert_eq!(
            with_cover.parse().unwrap().content.attachments,
            vec![MomentAttachment::Link {
                title: "上新".into(),
                url: "https://shop.example/new".into(),
                cover_media_id: 2
            }],
            "the images are not the link's"
        );
        let blank_link = ComposeForm {
            attach: "link".into(),
            ..base.clone()
        };
        assert!(blank_link.parse().unwrap().content.attachments.is_empty());
    }

    #[test]
    fn bad_input_names_its_field() {
        let base = ComposeForm {
            name: "n".into(),
            text: "t".into(),
            sender_ids: vec!["1".into()],
            ..ComposeForm::default()
        };
        assert!(base.parse().is_ok());
        let cases: Vec<(ComposeForm, &str)> = vec![
            (
                ComposeForm {
                    name: " ".into(),
                    ..base.clone()
                },
                "name",
            ),
            (
                ComposeForm {
                    text: String::new(),
                    ..base.clone()
                },
                "text",
            ),
            (
                ComposeForm {
                    text: "字".repeat(MAX_TEXT_CHARS + 1),
                    ..base.clone()
                },
                "text",
            ),
            (
                ComposeForm {
                    image_ids: (0..10).map(|i| i.to_string()).collect(),
                    ..base.clone()
                },
                "attachments",
            ),
            (
                ComposeForm {
                    image_ids: vec!["x".into()],
                    ..base.clone()
                },
                "attachments",
            ),
            (
                ComposeForm {
                    sender_ids: Vec::new(),
                    ..base.clone()
                },
                "sender_ids",
            ),
            (
                ComposeForm {
                    tag_ids: vec!["a".into()],
                    ..base.clone()
                },
                "tag_ids",
            ),
            (
                ComposeForm {
                    when: "later".into(),
                    ..base.clone()
                },
                "send_at",
            ),
            (
                ComposeForm {
                    when: "later".into(),
                    send_at: "明天".into(),
                    ..base.clone()
                },
                "send_at",
            ),
        ];
        for (f, want) in cases {
            assert_eq!(field(&f), want, "{f:?}");
        }
    }

    #[test]
    fn failures_read_in_words() {
        let tr = Tr {
            lang: super::super::Lang::Zh,
        };
        assert_eq!(
            failure_text(tr, "no_senders"),
            ("发送时没有可发表的导购".into(), String::new())
        );
        let (said, raw) = failure_text(tr, "wecom_error: 40058 invalid text");
        assert_eq!(said, tr.error("wecom_error"));
        assert_eq!(raw, "40058 invalid text");
        assert_eq!(
            failure_text(tr, "something odd"),
            (String::new(), "something odd".into())
        );
    }

    #[test]
    fn every_label_has_both_languages() {
        for k in labelled_keys() {
            let (zh, en) = text(&k).unwrap_or_else(|| panic!("{k}"));
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }
}
