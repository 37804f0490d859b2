//! `/console/materials` (素材库, issue #21 item 4): the material library — posters, images,
//! copy, link cards and mini-program cards, in folders and with free labels — that the brand
//! prepares once and its guides pick to send. The list (filters by folder, kind, label, title
//! and status, each row with its opens, viewers and forwards); headquarters' form to add or
//! edit a material (its image uploaded with the form) and to manage the folders; and each
//! material's page: the material as a customer sees it, its figures, the guides' table, 获取我的
//! 链接 (the tracked link to send) and the archive and restore buttons.
//!
//! Every page reads through `app.materials()` and `app.radar()`: every signed-in role reads
//! (a guide sees their own links' figures); admins and operators write; a guide gets their
//! own link, a store manager one for a guide of their store, headquarters one for any guide;
//! analysts read only.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::materials::{FolderView, MaterialQuery, MaterialView};
use yutang_app::moments::SenderChoice;
use yutang_app::radar::MaterialStats;
use yutang_core::FieldError;
use yutang_core::materials::{Kind, MAX_BODY_CHARS, MAX_TAGS, MAX_TITLE_CHARS, MaterialForm};
use yutang_core::staff::Role;

use super::layout::{
    ConsoleForm, ConsoleQuery, ConsoleUpload, CsrfForm, FormError, error_for, error_page,
    form_error, link, opt_id, see_other,
};
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

const LIST_PATH: &str = "/console/materials";
const ACTIVE: &str = "materials";
/// Materials on one page of the list.
const PAGE: i64 = 50;
/// The folder filter's value for materials in no folder.
const UNFILED: &str = "none";

fn detail_path(id: i64) -> String {
    format!("{LIST_PATH}/{id}")
}

/// Whether the caller edits the library (headquarters: admins and operators).
fn can_edit(c: &Console) -> bool {
    matches!(c.session.actor.role, Role::Admin | Role::Operator)
}

/// Whether the caller makes tracked links (everyone but analysts).
fn can_link(c: &Console) -> bool {
    !matches!(c.session.actor.role, Role::Analyst)
}

fn kind_label(tr: Tr, kind: &str) -> String {
    super::labels::code_or_raw(tr, "materials.kind.", kind)
}

fn status_label(tr: Tr, status: &str) -> String {
    super::labels::code_or_raw(tr, "materials.status.", status)
}

fn status_class(status: &str) -> &'static str {
    match status {
        "active" => "pill ok",
        _ => "pill disabled",
    }
}

/// Line breaks as a browser sends them (`\r\n`) made `\n`.
fn unix_lines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// Labels as typed: separated by commas (`,`, `，` or `、`), blanks dropped.
fn split_labels(s: &str) -> Vec<String> {
    s.split([',', '，', '、'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------- the list

/// The list's filters, as in its address.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// A folder's id, `none` (未分组) or empty (every folder).
    folder: String,
    kind: String,
    label: String,
    q: String,
    /// `active` (the default) or `archived`.
    status: String,
    /// The last id of the previous page.
    after: Option<i64>,
}

impl ListQuery {
    fn archived(&self) -> bool {
        self.status == "archived"
    }

    /// The filters as a query string's pairs (the paging links keep them).
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("folder", self.folder.trim().to_owned()),
            ("kind", self.kind.trim().to_owned()),
            ("label", self.label.trim().to_owned()),
            ("q", self.q.trim().to_owned()),
            (
                "status",
                if self.archived() {
                    "archived".to_owned()
                } else {
                    String::new()
                },
            ),
        ]
    }
}

/// A material in the list with its figures.
pub struct Row {
    m: MaterialView,
    views: i64,
    viewers: i64,
    forwards: i64,
}

#[derive(Template)]
#[template(path = "console/materials.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<Row>,
    folders: Vec<FolderView>,
    q: ListQuery,
    can_edit: bool,
    /// The next page, keeping the filters.
    next: Option<String>,
    /// Back to the first page, when on a later one.
    first: Option<String>,
    /// Why a folder change was refused.
    problem: Option<&'static str>,
}

impl ListPage {
    fn kind_label(&self, k: &str) -> String {
        kind_label(self.ctx.tr, k)
    }
    fn status_label(&self, st: &str) -> String {
        status_label(self.ctx.tr, st)
    }
    fn status_class(&self, st: &str) -> &'static str {
        status_class(st)
    }
    fn kinds(&self) -> Vec<(&'static str, String)> {
        Kind::ALL
            .iter()
            .map(|k| (k.as_str(), kind_label(self.ctx.tr, k.as_str())))
            .collect()
    }
    fn folder_is(&self, id: &i64) -> bool {
        self.q.folder.trim() == id.to_string()
    }
    fn unfiled(&self) -> bool {
        self.q.folder.trim() == UNFILED
    }
    fn kind_is(&self, k: &str) -> bool {
        self.q.kind.trim() == k
    }
}

async fn list_page(
    s: &AppState,
    mut c: Console,
    q: ListQuery,
    code: StatusCode,
    problem: Option<&'static str>,
) -> Response {
    c.ctx.active = ACTIVE;
    let a = &c.session.actor;
    let folders = match s.app.materials().folders(a).await {
        Ok(f) => f,
        Err(e) => return error_page(c.ctx, e),
    };
    let folder = q.folder.trim();
    let folder_id = if folder == UNFILED {
        None
    } else {
        match opt_id("folder", folder) {
            Ok(id) => id,
            Err(e) => return error_page(c.ctx, e.into()),
        }
    };
    let query = MaterialQuery {
        folder_id,
        unfiled: folder == UNFILED,
        kind: Some(q.kind.clone()),
        label: Some(q.label.clone()),
        q: Some(q.q.clone()),
        status: Some(if q.archived() { "archived" } else { "active" }.to_owned()),
        after: q.after,
        limit: Some(PAGE),
    };
    let page = s.app.materials().list(a, &query).await;
    let page = match page {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e),
    };
    let mut rows = Vec::with_capacity(page.items.len());
    for m in page.items {
        let st = match s.app.radar().stats(a, m.id).await {
            Ok(st) => st,
            Err(e) => return error_page(c.ctx, e),
        };
        rows.push(Row {
            m,
            views: st.views,
            viewers: st.viewers,
            forwards: st.forwards,
        });
    }
    let params = q.params();
    let next = page
        .next_after
        .map(|n| link(LIST_PATH, &params, &[("after", n.to_string())]));
    let first = q.after.map(|_| link(LIST_PATH, &params, &[]));
    render(
        code,
        &ListPage {
            can_edit: can_edit(&c),
            ctx: c.ctx,
            rows,
            folders,
            q,
            next,
            first,
            problem,
        },
    )
}

pub async fn list(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<ListQuery>,
) -> Response {
    list_page(&s, c, q, StatusCode::OK, None).await
}

// ---------------------------------------------------------------- folders

/// A folder's form: its name.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FolderIn {
    name: String,
}

/// A folder change refused: the list with the reason (forbidden as the error page).
async fn folder_refused(s: &AppState, c: Console, e: AppError) -> Response {
    if matches!(e, AppError::Forbidden) {
        return error_page(c.ctx, e);
    }
    let (status, err) = form_error(c.ctx.tr, e);
    list_page(s, c, ListQuery::default(), status, Some(err.message)).await
}

/// 新建文件夹.
pub async fn folder_create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<FolderIn>,
) -> Response {
    match s
        .app
        .materials()
        .create_folder(&c.session.actor, &f.name, None)
        .await
    {
        Ok(_) => see_other(&format!("{LIST_PATH}?ok=created")),
        Err(e) => folder_refused(&s, c, e).await,
    }
}

/// 重命名 a folder.
pub async fn folder_rename(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<FolderIn>,
) -> Response {
    match s
        .app
        .materials()
        .update_folder(&c.session.actor, id, &f.name, None)
        .await
    {
        Ok(_) => see_other(&format!("{LIST_PATH}?ok=saved")),
        Err(e @ AppError::NotFound { .. }) => error_page(c.ctx, e),
        Err(e) => folder_refused(&s, c, e).await,
    }
}

/// The console's confirmation page (`console/confirm.html`), for deleting a folder.
#[derive(Template)]
#[template(path = "console/confirm.html")]
struct DeleteConfirm {
    ctx: Ctx,
    title: String,
    subject: String,
    impact: Vec<String>,
    outcome: &'static str,
    action: String,
    button: &'static str,
    back: String,
}

/// Confirm deleting a folder.
pub async fn folder_delete_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    mut c: Console,
) -> Response {
    c.ctx.active = ACTIVE;
    if !can_edit(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let folders = match s.app.materials().folders(&c.session.actor).await {
        Ok(f) => f,
        Err(e) => return error_page(c.ctx, e),
    };
    let Some(folder) = folders.into_iter().find(|f| f.id == id) else {
        return error_page(
            c.ctx,
            AppError::NotFound {
                what: "material_folder",
            },
        );
    };
    let tr = c.ctx.tr;
    let page = DeleteConfirm {
        title: tr.t("materials.folder_delete_title").to_owned(),
        subject: tr.fill("materials.folder_subject", &[("name", &folder.name)]),
        impact: vec![tr.t("materials.folder_delete_impact").to_owned()],
        outcome: "delete",
        action: format!("{LIST_PATH}/folders/{id}/delete"),
        button: tr.t("common.delete"),
        back: LIST_PATH.to_owned(),
        ctx: c.ctx,
    };
    render(StatusCode::OK, &page)
}

/// 删除 a folder: only an empty one (409 `folder_not_empty` shown on the list otherwise).
pub async fn folder_delete(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.materials().delete_folder(&c.session.actor, id).await {
        Ok(()) => see_other(&format!("{LIST_PATH}?ok=deleted")),
        Err(e @ AppError::NotFound { .. }) => error_page(c.ctx, e),
        Err(e) => folder_refused(&s, c, e).await,
    }
}

// ---------------------------------------------------------------- the form

/// The form as typed, so a refused form comes back filled in (an uploaded image by its id: a
/// browser cannot refill a file input).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MaterialIn {
    kind: String,
    title: String,
    body: String,
    url: String,
    appid: String,
    page: String,
    /// Comma-separated.
    tags: String,
    folder_id: String,
    /// The image uploaded before (an earlier try, or the material's own when editing).
    image_id: String,
}

impl Default for MaterialIn {
    fn default() -> Self {
        Self {
            kind: "poster".into(),
            title: String::new(),
            body: String::new(),
            url: String::new(),
            appid: String::new(),
            page: String::new(),
            tags: String::new(),
            folder_id: String::new(),
            image_id: String::new(),
        }
    }
}

/// The form's fields a refusal can name (others show above the form).
const FORM_FIELDS: [&str; 9] = [
    "kind",
    "title",
    "body",
    "url",
    "appid",
    "page",
    "image",
    "tags",
    "folder_id",
];

/// The form's field for a field the library names.
fn form_field(field: &str) -> &str {
    match field {
        "media_id" => "image",
        f if FORM_FIELDS.contains(&f) => f,
        _ => "",
    }
}

impl MaterialIn {
    fn of(m: &MaterialView) -> Self {
        Self {
            kind: m.kind.clone(),
            title: m.title.clone(),
            body: m.body.clone(),
            url: m.url.clone().unwrap_or_default(),
            appid: m.appid.clone().unwrap_or_default(),
            page: m.page.clone().unwrap_or_default(),
            tags: m.tags.join(", "),
            folder_id: m
                .folder
                .as_ref()
                .map(|f| f.id.to_string())
                .unwrap_or_default(),
            image_id: m.media_id.map(|i| i.to_string()).unwrap_or_default(),
        }
    }

    fn kind(&self) -> Option<Kind> {
        Kind::parse("kind", self.kind.trim()).ok()
    }

    /// Whether the chosen kind shows an image (an unknown kind: keep what was sent).
    fn needs_image(&self) -> bool {
        self.kind().is_none_or(Kind::needs_image)
    }

    /// The library's form: only the chosen kind's fields (the others' inputs may still hold
    /// what was typed before the kind changed).
    fn parse(&self) -> Result<MaterialForm, FieldError> {
        let kind = self.kind();
        let only = |k: Kind, v: &str| (kind == Some(k)).then(|| v.trim().to_owned());
        Ok(MaterialForm {
            kind: self.kind.trim().to_owned(),
            title: self.title.clone(),
            body: Some(unix_lines(&self.body)),
            url: only(Kind::Link, &self.url),
            media_id: if self.needs_image() {
                opt_id("image", &self.image_id)?
            } else {
                None
            },
            appid: only(Kind::Miniprogram, &self.appid),
            page: only(Kind::Miniprogram, &self.page),
            tags: Some(split_labels(&self.tags)),
            folder_id: opt_id("folder_id", &self.folder_id)?,
        })
    }

    fn image(&self) -> Option<i64> {
        self.image_id.trim().parse().ok()
    }
    fn kind_is(&self, k: &str) -> bool {
        self.kind.trim() == k
    }
    fn folder_is(&self, id: &i64) -> bool {
        self.folder_id.trim() == id.to_string()
    }
}

#[derive(Template)]
#[template(path = "console/materials_form.html")]
struct FormPage {
    ctx: Ctx,
    /// `None`: a new material.
    id: Option<i64>,
    form: MaterialIn,
    folders: Vec<FolderView>,
    error: Option<FormError>,
}

impl FormPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    fn general_error(&self) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| !FORM_FIELDS.contains(&e.field.as_str()))
            .map(|e| e.message)
    }
    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("{}/edit", detail_path(id)),
            None => format!("{LIST_PATH}/new"),
        }
    }
    fn back(&self) -> String {
        self.id.map_or_else(|| LIST_PATH.to_owned(), detail_path)
    }
    fn kinds(&self) -> Vec<(&'static str, String)> {
        Kind::ALL
            .iter()
            .map(|k| (k.as_str(), kind_label(self.ctx.tr, k.as_str())))
            .collect()
    }
    fn title_help(&self) -> String {
        self.ctx.tr.fill(
            "materials.title_help",
            &[("n", &MAX_TITLE_CHARS.to_string())],
        )
    }
    fn body_help(&self) -> String {
        self.ctx
            .tr
            .fill("materials.body_help", &[("n", &MAX_BODY_CHARS.to_string())])
    }
    fn tags_help(&self) -> String {
        self.ctx
            .tr
            .fill("materials.tags_help", &[("n", &MAX_TAGS.to_string())])
    }
}

async fn form_page(
    s: &AppState,
    mut c: Console,
    id: Option<i64>,
    form: MaterialIn,
    code: StatusCode,
    error: Option<FormError>,
) -> Response {
    c.ctx.active = ACTIVE;
    if !can_edit(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let folders = match s.app.materials().folders(&c.session.actor).await {
        Ok(f) => f,
        Err(e) => return error_page(c.ctx, e),
    };
    render(
        code,
        &FormPage {
            ctx: c.ctx,
            id,
            form,
            folders,
            error,
        },
    )
}

/// The new-material form (`?folder=` files it there).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewQuery {
    folder: String,
}

pub async fn new(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<NewQuery>,
) -> Response {
    let form = MaterialIn {
        folder_id: q
            .folder
            .trim()
            .parse::<i64>()
            .map(|i| i.to_string())
            .unwrap_or_default(),
        ..MaterialIn::default()
    };
    form_page(&s, c, None, form, StatusCode::OK, None).await
}

pub async fn edit(State(s): State<AppState>, c: Console, IdPath(id): IdPath) -> Response {
    if !can_edit(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let m = match s.app.materials().get(&c.session.actor, id).await {
        Ok(m) => m,
        Err(e) => return error_page(c.ctx, e),
    };
    form_page(&s, c, Some(id), MaterialIn::of(&m), StatusCode::OK, None).await
}

/// Store the chosen image (when the kind shows one) and save; a refusal comes back on the
/// form, what was typed and uploaded kept.
async fn submit(
    s: AppState,
    c: Console,
    id: Option<i64>,
    mut f: MaterialIn,
    file: Option<Bytes>,
) -> Response {
    // Forbidden before anything is stored.
    if !can_edit(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    if let Some(bytes) = file.filter(|_| f.needs_image()) {
        match s.app.media().upload_image(&c.session.actor, &bytes).await {
            Ok((row, _)) => f.image_id = row.id.to_string(),
            Err(e) => {
                let (status, mut err) = form_error(c.ctx.tr, e);
                err.field = "image".into();
                return form_page(&s, c, id, f, status, Some(err)).await;
            }
        }
    }
    let a = &c.session.actor;
    let saved = match f.parse() {
        Ok(form) => match id {
            None => s.app.materials().create(a, form).await,
            Some(id) => s.app.materials().update(a, id, form).await,
        },
        Err(e) => Err(e.into()),
    };
    match saved {
        Ok(m) => {
            let done = if id.is_some() { "saved" } else { "created" };
            see_other(&format!("{}?done={done}", detail_path(m.id)))
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, mut err) = form_error(c.ctx.tr, e);
            err.field = form_field(&err.field).to_owned();
            form_page(&s, c, id, f, status, Some(err)).await
        }
    }
}

pub async fn create(
    State(s): State<AppState>,
    ConsoleUpload(c, f, file): ConsoleUpload<MaterialIn>,
) -> Response {
    submit(s, c, None, f, file).await
}

pub async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleUpload(c, f, file): ConsoleUpload<MaterialIn>,
) -> Response {
    submit(s, c, Some(id), f, file).await
}

// ---------------------------------------------------------------- one material

/// A material page's query: what was just done.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DetailQuery {
    /// `created`, `saved`, `archived` or `restored`.
    done: Option<String>,
}

/// 获取我的链接 as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LinkIn {
    staff_id: String,
    customer_id: String,
}

impl LinkIn {
    fn is_staff(&self, id: &i64) -> bool {
        self.staff_id.trim() == id.to_string()
    }
}

/// A link made: what to send.
pub struct LinkMade {
    /// The address to send: absolute under `h5.public_url`, else the path.
    url: String,
    absolute: bool,
    staff_id: i64,
    /// The guide's name (filled in by the page).
    guide: String,
    customer_id: Option<i64>,
}

/// 获取我的链接's part of a material's page: the form as typed, the link made, the refusal.
#[derive(Default)]
pub struct LinkState {
    form: LinkIn,
    made: Option<LinkMade>,
    error: Option<FormError>,
}

#[derive(Template)]
#[template(path = "console/materials_detail.html")]
struct DetailPage {
    ctx: Ctx,
    m: MaterialView,
    st: MaterialStats,
    can_edit: bool,
    can_link: bool,
    /// The caller is a guide: their own link, their own figures.
    is_guide: bool,
    /// The guides a store manager or headquarters may name.
    guides: Vec<SenderChoice>,
    link_form: LinkIn,
    made: Option<LinkMade>,
    error: Option<FormError>,
    notice: Option<&'static str>,
}

impl DetailPage {
    fn kind_label(&self) -> String {
        kind_label(self.ctx.tr, &self.m.kind)
    }
    fn status_label(&self) -> String {
        status_label(self.ctx.tr, &self.m.status)
    }
    fn status_class(&self) -> &'static str {
        status_class(&self.m.status)
    }
    fn active(&self) -> bool {
        self.m.status == "active"
    }
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    /// Whom a link was made for, in words.
    fn link_for(&self, l: &LinkMade) -> String {
        let tr = self.ctx.tr;
        let mut s = tr.fill("materials.link_for", &[("guide", &l.guide)]);
        if let Some(cid) = l.customer_id {
            s.push_str(" · ");
            s.push_str(&tr.fill("materials.link_customer_is", &[("id", &cid.to_string())]));
        }
        s
    }
    fn general_error(&self) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| !["staff_id", "customer_id"].contains(&e.field.as_str()))
            .map(|e| e.message)
    }
}

async fn detail_page(
    s: &AppState,
    mut c: Console,
    id: i64,
    notice: Option<&'static str>,
    link: LinkState,
    code: StatusCode,
) -> Response {
    c.ctx.active = ACTIVE;
    let a = &c.session.actor;
    let m = match s.app.materials().get(a, id).await {
        Ok(m) => m,
        Err(e) => return error_page(c.ctx, e),
    };
    let st = match s.app.radar().stats(a, id).await {
        Ok(st) => st,
        Err(e) => return error_page(c.ctx, e),
    };
    let is_guide = a.role == Role::Guide;
    let guides = if can_link(&c) && !is_guide {
        match s.app.moments().sender_choices(a).await {
            Ok(g) => g,
            Err(e) => return error_page(c.ctx, e),
        }
    } else {
        Vec::new()
    };
    let LinkState {
        form: link_form,
        mut made,
        error,
    } = link;
    if let Some(l) = made.as_mut() {
        l.guide = if a.actor_id() == Some(l.staff_id) {
            c.ctx.display_name.clone()
        } else {
            guides
                .iter()
                .find(|g| g.staff_id == l.staff_id)
                .map_or_else(|| format!("#{}", l.staff_id), |g| g.name.clone())
        };
    }
    render(
        code,
        &DetailPage {
            can_edit: can_edit(&c),
            can_link: can_link(&c),
            is_guide,
            ctx: c.ctx,
            m,
            st,
            guides,
            link_form,
            made,
            error,
            notice,
        },
    )
}

pub async fn show(
    State(s): State<AppState>,
    c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<DetailQuery>,
) -> Response {
    let tr = c.ctx.tr;
    let notice = match q.done.as_deref() {
        Some("created") => Some(tr.t("materials.done.created")),
        Some("saved") => Some(tr.t("materials.done.saved")),
        Some("archived") => Some(tr.t("materials.done.archived")),
        Some("restored") => Some(tr.t("materials.done.restored")),
        _ => None,
    };
    detail_page(&s, c, id, notice, LinkState::default(), StatusCode::OK).await
}

/// 获取我的链接: the tracked link of the material for the guide (a guide: themselves) and,
/// optionally, a customer — made once, the same link after — shown on the page to copy.
pub async fn make_link(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<LinkIn>,
) -> Response {
    let a = &c.session.actor;
    let parsed = (|| -> Result<(Option<i64>, Option<i64>), FieldError> {
        let staff = if a.role == Role::Guide {
            None
        } else {
            opt_id("staff_id", &f.staff_id)?
        };
        Ok((staff, opt_id("customer_id", &f.customer_id)?))
    })();
    let made = match parsed {
        Ok((staff, customer)) => s.app.radar().link(a, id, staff, customer).await,
        Err(e) => Err(e.into()),
    };
    match made {
        Ok(l) => {
            let base = s.app.settings.h5.public_base();
            let made = LinkMade {
                url: base.map_or_else(|| l.path.clone(), |b| format!("{b}{}", l.path)),
                absolute: base.is_some(),
                staff_id: l.staff_id,
                guide: String::new(),
                customer_id: l.customer_id,
            };
            let link = LinkState {
                form: f,
                made: Some(made),
                error: None,
            };
            detail_page(&s, c, id, None, link, StatusCode::OK).await
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            let link = LinkState {
                form: f,
                made: None,
                error: Some(err),
            };
            detail_page(&s, c, id, None, link, status).await
        }
    }
}

/// 归档 (reversible: its links keep working, guides no longer pick it).
pub async fn archive(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.materials().archive(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?done=archived", detail_path(id))),
        Err(e) => error_page(c.ctx, e),
    }
}

/// 恢复 an archived material.
pub async fn restore(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.materials().restore(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?done=restored", detail_path(id))),
        Err(e) => error_page(c.ctx, e),
    }
}

// ---------------------------------------------------------------- texts

/// The pages' own texts (`materials.…`).
pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "materials.nav" => ("素材库", "Materials"),
        "materials.title" => ("素材库", "Material library"),
        "materials.intro" => (
            "总部准备好海报、图片、文案、链接和小程序卡片，导购挑选后发给客户；每份素材发出的链接都记录打开、访客和转发。",
            "Headquarters prepares posters, images, copy, links and mini-program cards once; guides pick them to send, and each sent link counts its opens, viewers and forwards.",
        ),
        "materials.new" => ("新建素材", "New material"),
        "materials.new_title" => ("新建素材", "New material"),
        "materials.edit_title" => ("编辑素材", "Edit material"),
        "materials.back" => ("返回素材库", "Back to the library"),
        "materials.empty" => ("没有符合条件的素材。", "No material matches."),
        // Filters.
        "materials.folder" => ("文件夹", "Folder"),
        "materials.all_folders" => ("全部文件夹", "All folders"),
        "materials.unfiled" => ("未分组", "No folder"),
        "materials.kind" => ("类型", "Kind"),
        "materials.all_kinds" => ("全部类型", "All kinds"),
        "materials.label" => ("标签", "Label"),
        "materials.search_hint" => ("按标题搜索", "Search titles"),
        "materials.status" => ("状态", "Status"),
        "materials.first_page" => ("回到第一页", "First page"),
        "materials.more" => ("更多", "More"),
        // The list's columns.
        "materials.preview" => ("预览", "Preview"),
        "materials.name" => ("标题", "Title"),
        "materials.labels" => ("标签", "Labels"),
        "materials.updated_at" => ("更新时间", "Updated"),
        "materials.views" => ("打开", "Opens"),
        "materials.viewers" => ("访客", "Viewers"),
        "materials.forwards" => ("转发", "Forwards"),
        "materials.image_alt" => ("素材图片", "Material image"),
        "materials.status.active" => ("在用", "In use"),
        "materials.status.archived" => ("已归档", "Archived"),
        "materials.kind.poster" => ("海报", "Poster"),
        "materials.kind.image" => ("图片", "Image"),
        "materials.kind.text" => ("文字", "Text"),
        "materials.kind.link" => ("链接", "Link"),
        "materials.kind.miniprogram" => ("小程序", "Mini-program"),
        // Folders.
        "materials.folders" => ("文件夹管理", "Folders"),
        "materials.folder_name" => ("文件夹名称", "Folder name"),
        "materials.folder_count" => ("在用素材", "Materials in use"),
        "materials.folder_create" => ("新建文件夹", "New folder"),
        "materials.folder_rename" => ("重命名", "Rename"),
        "materials.folder_help" => (
            "名称最多 30 个字且不能重复；只能删除没有在用素材的文件夹，其中已归档的素材变为未分组。",
            "At most 30 characters, unique. Only a folder without materials in use can be deleted; its archived materials are left without a folder.",
        ),
        "materials.no_folders" => ("还没有文件夹。", "No folder yet."),
        "materials.folder_delete_title" => ("删除文件夹", "Delete the folder"),
        "materials.folder_subject" => ("文件夹「{name}」", "Folder “{name}”"),
        "materials.folder_delete_impact" => (
            "文件夹中已归档的素材将变为未分组；素材本身和它们的链接不受影响。",
            "Its archived materials are left without a folder; the materials and their links are not affected.",
        ),
        // The form.
        "materials.title_field" => ("标题", "Title"),
        "materials.title_help" => (
            "最多 {n} 个字，一行；导购挑选素材时看到，链接和小程序卡片也显示它。",
            "At most {n} characters, one line; guides pick materials by it, and link and mini-program cards show it.",
        ),
        "materials.body" => ("文字内容", "Text"),
        "materials.body_help" => (
            "最多 {n} 字，可换行：文字素材的文案（必填），海报的配文，链接或小程序的描述。",
            "At most {n} characters, line breaks allowed: a text's copy (required), a poster's caption, a card's description.",
        ),
        "materials.url" => ("链接地址", "Link URL"),
        "materials.appid" => ("小程序 AppID", "Mini-program AppID"),
        "materials.appid_help" => (
            "wx 加 16 位十六进制字符，小程序须已关联企业微信。",
            "wx followed by 16 hex digits; the mini-program must be linked to WeCom.",
        ),
        "materials.page" => ("小程序页面路径", "Mini-program page path"),
        "materials.image" => ("图片", "Image"),
        "materials.image_help" => (
            "海报和图片即这张图片，链接和小程序卡片用它作封面；PNG、JPEG 或 WebP，与表单一起上传。文字素材不需要图片。",
            "The poster or image itself, or a card's cover; PNG, JPEG or WebP, uploaded with the form. A text needs none.",
        ),
        "materials.image_current" => (
            "当前图片（选择新图片即替换）",
            "Current image (choose another to replace it)",
        ),
        "materials.tags" => ("标签", "Labels"),
        "materials.tags_help" => (
            "用逗号分隔，最多 {n} 个，每个最多 20 字，便于导购查找（与客户标签无关）。",
            "Separated by commas, at most {n}, each at most 20 characters, for guides to find materials by (not customer tags).",
        ),
        "materials.no_folder" => ("不放入文件夹", "No folder"),
        "materials.save" => ("保存", "Save"),
        // One material.
        "materials.created_at" => ("创建时间", "Created"),
        "materials.customer_view" => ("客户看到的内容", "What the customer sees"),
        "materials.miniprogram_hint" => (
            "小程序卡片在企业微信中发送，客户点击后打开小程序页面。",
            "A mini-program card is sent in WeCom; the customer taps it to open the page.",
        ),
        "materials.figures" => ("传播数据", "Figures"),
        "materials.figures_own" => ("我的链接的传播数据", "Figures of my links"),
        "materials.links" => ("链接数", "Links"),
        "materials.customers" => ("触达客户", "Customers reached"),
        "materials.seconds" => ("总阅读时长（秒）", "Time on page (s)"),
        "materials.avg_seconds" => ("平均阅读时长（秒）", "Average per open (s)"),
        "materials.guides" => ("导购传播情况", "By guide"),
        "materials.guide" => ("导购", "Guide"),
        "materials.no_guides_yet" => ("还没有导购发出这份素材。", "No guide has sent it yet."),
        "materials.get_link" => ("获取我的链接", "Get my link"),
        "materials.link_help" => (
            "每位导购、每位客户的链接各不相同，客户打开后计入该导购，并通知导购；同一导购和客户再次获取时得到同一链接。",
            "Each guide and customer gets a link of their own: an open counts for that guide, who is told; asking again gives the same link.",
        ),
        "materials.link_guide" => ("发送的导购", "Guide who sends"),
        "materials.link_guide_help" => (
            "只列出在职且已绑定企业微信账号的导购。",
            "Only active guides with a WeCom account are listed.",
        ),
        "materials.link_no_guides" => (
            "没有可选的导购（需在职并绑定企业微信账号）；链接将记在您自己名下。",
            "No guide to choose (active, with a WeCom account): the link is made in your own name.",
        ),
        "materials.link_customer" => ("客户 ID（可选）", "Customer ID (optional)"),
        "materials.link_made" => (
            "链接已生成，复制后发给客户：",
            "Your link, to copy and send:",
        ),
        "materials.link_for" => ("导购：{guide}", "Guide: {guide}"),
        "materials.link_customer_is" => ("客户 ID：{id}", "Customer ID: {id}"),
        "materials.link_relative" => (
            "尚未设置 H5 公网地址（h5.public_url），这里只显示路径：请在前面加上本站对外的地址。",
            "The H5 public address (h5.public_url) is not set, so only the path is shown: put the server's public address in front of it.",
        ),
        "materials.link_archived" => (
            "素材已归档，不能再获取链接；已发出的链接仍可打开。",
            "The material is archived: no new link; links already sent still open.",
        ),
        "materials.analyst_hint" => (
            "链接由导购、店长或总部获取。",
            "Links are made by guides, store managers and headquarters.",
        ),
        "materials.archive" => ("归档", "Archive"),
        "materials.restore" => ("恢复", "Restore"),
        "materials.archive_help" => (
            "归档后导购不再看到这份素材，已发出的链接仍可打开；可随时恢复。",
            "Once archived, guides no longer see it and links already sent still open; restore it any time.",
        ),
        "materials.done.created" => ("素材已创建", "Material created"),
        "materials.done.saved" => ("素材已保存", "Material saved"),
        "materials.done.archived" => ("素材已归档", "Material archived"),
        "materials.done.restored" => ("素材已恢复", "Material restored"),
        _ => return None,
    })
}

/// Every kind and status the pages label (for the tests).
#[cfg(test)]
fn labelled_keys() -> Vec<String> {
    let mut keys: Vec<String> = Kind::ALL
        .iter()
        .map(|k| format!("materials.kind.{}", k.as_str()))
        .collect();
    for st in ["active", "archived"] {
        keys.push(format!("materials.status.{st}"));
    }
    for d in ["created", "saved", "archived", "restored"] {
        keys.push(format!("materials.done.{d}"));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: &str) -> MaterialIn {
        MaterialIn {
            kind: kind.into(),
            title: "春季上新".into(),
            body: "第一行\r\n第二行".into(),
            url: "https://shop.example/spring".into(),
            appid: "wx1234567890abcdef".into(),
            page: "pages/index/index".into(),
            tags: "新品，春季, 会员日、 ,".into(),
            folder_id: "3".into(),
            image_id: "7".into(),
        }
    }

    #[test]
    fn the_form_sends_only_the_kinds_fields() {
        let text = form("text").parse().unwrap();
        assert_eq!(text.body.as_deref(), Some("第一行\n第二行"));
        assert_eq!(
            (text.url, text.appid, text.page, text.media_id),
            (None, None, None, None)
        );
        assert_eq!(
            text.tags,
            Some(vec!["新品".into(), "春季".into(), "会员日".into()])
        );
        assert_eq!(text.folder_id, Some(3));
        let link = form("link").parse().unwrap();
        assert_eq!(link.url.as_deref(), Some("https://shop.example/spring"));
        assert_eq!((link.appid, link.media_id), (None, Some(7)));
        let mp = form("miniprogram").parse().unwrap();
        assert_eq!(mp.appid.as_deref(), Some("wx1234567890abcdef"));
        assert_eq!(mp.page.as_deref(), Some("pages/index/index"));
        assert_eq!(mp.url, None);
        let poster = form("poster").parse().unwrap();
        assert_eq!((poster.url, poster.media_id), (None, Some(7)));
        let bad = MaterialIn {
            image_id: "x".into(),
            ..form("poster")
        };
        assert_eq!(bad.parse().unwrap_err().field, "image");
        let bad = MaterialIn {
            folder_id: "x".into(),
            ..form("poster")
        };
        assert_eq!(bad.parse().unwrap_err().field, "folder_id");
    }

    #[test]
    fn refusals_name_the_forms_fields() {
        assert_eq!(form_field("media_id"), "image");
        assert_eq!(form_field("appid"), "appid");
        assert_eq!(form_field("something"), "");
    }

    #[test]
    fn every_label_has_both_languages() {
        for k in labelled_keys() {
            let (zh, en) = text(&k).unwrap_or_else(|| panic!("{k}"));
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }
}
