//! Console pages for group live codes (群活码, issue #20 item 1). Thin handlers over
//! `app.group_codes()`: the list with each code's fill and today's joins, a code's page (its
//! QR, why it is full, its groups as they fill, joins per day and the latest joins), and the
//! create/edit form, which posts back with the refused field named next to its input.
//!
//! The form's five group selects all carry the name `group_ids`, so the posted order is the
//! filling order and a blank select is skipped.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::group_codes::{CodeGroupView, DayJoins, GroupCodeView};
use yutang_core::group_codes::{
    DEFAULT_CAP, GroupCodeSpec, MAX_BASE_NAME_CHARS, MAX_LISTED, Scene,
};

use super::acquisition::{
    Choice, FileParams, can_manage, check_field, err_for, store_choices, sync_label,
};
use super::confirm::{Confirm, confirm_page, grouped};
use super::layout::{ConsoleForm, ConsoleQuery, CsrfForm, FormError, error_page, see_other};
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

const ACTIVE: &str = "group_codes";

/// A refusal found while reading the form: the input and the error code.
#[derive(Debug)]
struct Bad {
    field: &'static str,
    code: &'static str,
}

impl Bad {
    fn form_error(self, tr: Tr) -> FormError {
        FormError {
            message: tr.error(self.code),
            field: self.field.to_owned(),
        }
    }
}

fn opt_id(field: &'static str, s: &str) -> Result<Option<i64>, Bad> {
    match s.trim() {
        "" => Ok(None),
        v => v.parse::<i64>().map(Some).map_err(|_| Bad {
            field,
            code: "invalid_id",
        }),
    }
}

fn number(field: &'static str, s: &str, blank: i64) -> Result<i64, Bad> {
    match s.trim() {
        "" => Ok(blank),
        v => v.parse::<i64>().map_err(|_| Bad {
            field,
            code: "invalid_number",
        }),
    }
}

fn fill_label(tr: Tr, fill: &str) -> &'static str {
    match fill {
        "overflow" => tr.t("gc.fill.overflow"),
        "full" => tr.t("gc.fill.full"),
        _ => tr.t("gc.fill.open"),
    }
}

fn scene_label(tr: Tr, scene: Scene) -> &'static str {
    tr.t(&format!("gc.scene.{}", scene.as_str()))
}

/// Store and channel names as a code shows them.
struct Names {
    stores: HashMap<i64, String>,
    channels: HashMap<i64, String>,
}

impl Names {
    async fn load(s: &AppState, c: &Console) -> Self {
        let stores = store_choices(s, c)
            .await
            .into_iter()
            .map(|ch| (ch.id, ch.label))
            .collect();
        let acq = s.app.acquisition();
        let mut channels = HashMap::new();
        for archived in [false, true] {
            for v in acq
                .channels(&c.session.actor, archived)
                .await
                .unwrap_or_default()
            {
                channels.insert(v.id, v.spec.name);
            }
        }
        Names { stores, channels }
    }

    fn store(&self, tr: Tr, id: Option<i64>) -> String {
        match id {
            None => tr.t("gc.brand_wide").to_owned(),
            Some(id) => self
                .stores
                .get(&id)
                .cloned()
                .unwrap_or_else(|| tr.fill("gc.store_n", &[("id", &id.to_string())])),
        }
    }

    fn channel(&self, tr: Tr, id: Option<i64>) -> String {
        match id {
            None => "—".to_owned(),
            Some(id) => self
                .channels
                .get(&id)
                .cloned()
                .unwrap_or_else(|| tr.fill("gc.channel_n", &[("id", &id.to_string())])),
        }
    }
}

// ---------------------------------------------------------------- list

/// One code as the list and its page show it.
pub struct CodeLine {
    pub id: i64,
    pub name: String,
    pub store: String,
    pub channel: String,
    pub channel_id: Option<i64>,
    pub groups: usize,
    pub fill: String,
    pub fill_label: &'static str,
    pub sync_status: String,
    pub sync_label: &'static str,
    pub joins_today: i64,
    pub joins_total: i64,
    pub archived: bool,
}

fn code_line(tr: Tr, names: &Names, v: &GroupCodeView) -> CodeLine {
    CodeLine {
        id: v.id,
        name: v.spec.name.clone(),
        store: names.store(tr, v.spec.store_id),
        channel: names.channel(tr, v.spec.channel_id),
        channel_id: v.spec.channel_id,
        groups: v.groups.len(),
        fill: v.fill.clone(),
        fill_label: fill_label(tr, &v.fill),
        sync_status: v.sync_status.clone(),
        sync_label: sync_label(tr, &v.sync_status),
        joins_today: v.joins_today,
        joins_total: v.joins_total,
        archived: v.archived,
    }
}

#[derive(Template)]
#[template(path = "console/group_codes.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<CodeLine>,
    archived: bool,
    can_manage: bool,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    archived: Option<String>,
}

/// `/console/group-codes`: the codes the caller sees (`?archived=1`: the archived ones).
pub async fn list(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<ListQuery>,
) -> Response {
    c.ctx.active = ACTIVE;
    let archived = matches!(q.archived.as_deref(), Some("1" | "true"));
    let views = match s.app.group_codes().list(&c.session.actor, archived).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let names = Names::load(&s, &c).await;
    let tr = c.ctx.tr;
    let rows = views.iter().map(|v| code_line(tr, &names, v)).collect();
    let can_manage = can_manage(&c);
    render(
        StatusCode::OK,
        &ListPage {
            ctx: c.ctx,
            rows,
            archived,
            can_manage,
        },
    )
}

// ---------------------------------------------------------------- form

/// The form as typed, so a refused form comes back filled in.
#[derive(Debug, Clone, Default)]
pub struct CodeForm {
    name: String,
    store_id: String,
    channel_id: String,
    scene: String,
    member_cap: String,
    auto_create: bool,
    room_base_name: String,
    room_base_id: String,
    /// The chosen groups in filling order (blank selects left out).
    group_ids: Vec<String>,
}

impl CodeForm {
    fn fresh() -> Self {
        CodeForm {
            scene: Scene::Qr.as_str().into(),
            member_cap: DEFAULT_CAP.to_string(),
            auto_create: true,
            room_base_id: "1".into(),
            ..Default::default()
        }
    }

    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = Self::default();
        for (k, v) in pairs {
            let v = v.clone();
            match k.as_str() {
                "name" => f.name = v,
                "store_id" => f.store_id = v,
                "channel_id" => f.channel_id = v,
                "scene" => f.scene = v,
                "member_cap" => f.member_cap = v,
                "auto_create" => f.auto_create = true,
                "room_base_name" => f.room_base_name = v,
                "room_base_id" => f.room_base_id = v,
                "group_ids" if !v.trim().is_empty() => f.group_ids.push(v),
                _ => {}
            }
        }
        f
    }

    fn from_view(v: &GroupCodeView) -> Self {
        let id = |v: Option<i64>| v.map(|i| i.to_string()).unwrap_or_default();
        let spec = &v.spec;
        CodeForm {
            name: spec.name.clone(),
            store_id: id(spec.store_id),
            channel_id: id(spec.channel_id),
            scene: spec.scene.as_str().into(),
            member_cap: spec.member_cap.to_string(),
            auto_create: spec.auto_create,
            room_base_name: spec.room_base_name.clone(),
            room_base_id: spec.room_base_id.to_string(),
            group_ids: spec.group_ids.iter().map(i64::to_string).collect(),
        }
    }

    /// The spec the form describes; the app checks the ranges and the groups.
    fn spec(&self) -> Result<GroupCodeSpec, Bad> {
        let scene = Scene::parse("scene", &self.scene).map_err(|e| Bad {
            field: "scene",
            code: e.code,
        })?;
        let group_ids = self
            .group_ids
            .iter()
            .map(|g| opt_id("group_ids", g))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        Ok(GroupCodeSpec {
            name: self.name.clone(),
            channel_id: opt_id("channel_id", &self.channel_id)?,
            store_id: opt_id("store_id", &self.store_id)?,
            scene,
            member_cap: number("member_cap", &self.member_cap, DEFAULT_CAP)?,
            auto_create: self.auto_create,
            room_base_name: self.room_base_name.clone(),
            room_base_id: number("room_base_id", &self.room_base_id, 1)?,
            group_ids,
        })
    }

    fn is_mini_program(&self) -> bool {
        self.scene.trim() == Scene::MiniProgram.as_str()
    }

    /// The group chosen in the `i`th select (`''`: none).
    fn group_at(&self, i: &usize) -> &str {
        self.group_ids.get(*i).map_or("", |g| g.trim())
    }

    /// One select per group: five, or more when more were posted (so none is lost).
    fn slots(&self) -> Vec<usize> {
        (0..self.group_ids.len().max(MAX_LISTED)).collect()
    }
}

#[derive(Template)]
#[template(path = "console/group_code_form.html")]
struct FormPage {
    ctx: Ctx,
    id: Option<i64>,
    f: CodeForm,
    error: Option<FormError>,
    stores: Vec<Choice>,
    channels: Vec<Choice>,
    groups: Vec<Choice>,
    base_name_max: usize,
}

impl FormPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        err_for(&self.error, field)
    }

    fn summary(&self, e: &FormError) -> String {
        let key = match e.field.as_str() {
            "name" => Some("gc.name"),
            "store_id" => Some("gc.store"),
            "channel_id" => Some("gc.channel"),
            "scene" => Some("gc.scene"),
            "member_cap" => Some("gc.member_cap"),
            "auto_create" => Some("gc.auto_create"),
            "room_base_name" => Some("gc.room_base_name"),
            "room_base_id" => Some("gc.room_base_id"),
            "group_ids" => Some("gc.groups"),
            _ => None,
        };
        check_field(self.ctx.tr, e, key)
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/console/group-codes/{id}/edit"),
            None => "/console/group-codes".into(),
        }
    }

    fn back(&self) -> String {
        match self.id {
            Some(id) => format!("/console/group-codes/{id}"),
            None => "/console/group-codes".into(),
        }
    }

    fn slot_label(&self, i: &usize) -> String {
        self.ctx
            .tr
            .fill("gc.group_n", &[("n", &(i + 1).to_string())])
    }
}

/// Add a chosen id missing from the choices (an archived channel, a dismissed group) under
/// a label of its own, so it stays chosen.
fn keep(choices: &mut Vec<Choice>, chosen: &str, label: impl Fn(i64) -> String) {
    if let Ok(id) = chosen.trim().parse::<i64>()
        && !choices.iter().any(|c| c.id == id)
    {
        choices.push(Choice {
            id,
            label: label(id),
        });
    }
}

async fn form_page(
    s: &AppState,
    c: Console,
    id: Option<i64>,
    f: CodeForm,
    status: StatusCode,
    error: Option<FormError>,
) -> Response {
    let tr = c.ctx.tr;
    let a = &c.session.actor;
    let mut channels: Vec<Choice> = s
        .app
        .acquisition()
        .channels(a, false)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|v| Choice {
            id: v.id,
            label: v.spec.name,
        })
        .collect();
    keep(&mut channels, &f.channel_id, |id| {
        tr.fill("gc.channel_n", &[("id", &id.to_string())])
    });
    let mut groups: Vec<Choice> = s
        .app
        .wecom()
        .wecom_groups(a, false, 200, 0)
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .map(|g| Choice {
            id: g.id,
            label: tr.fill(
                "gc.group_label",
                &[("name", &g.name), ("n", &g.members.to_string())],
            ),
        })
        .collect();
    for g in &f.group_ids {
        keep(&mut groups, g, |id| {
            tr.fill("gc.group_id_n", &[("id", &id.to_string())])
        });
    }
    let mut stores = store_choices(s, &c).await;
    keep(&mut stores, &f.store_id, |id| {
        tr.fill("gc.store_n", &[("id", &id.to_string())])
    });
    let page = FormPage {
        ctx: {
            let mut ctx = c.ctx;
            ctx.active = ACTIVE;
            ctx
        },
        id,
        f,
        error,
        stores,
        channels,
        groups,
        base_name_max: MAX_BASE_NAME_CHARS,
    };
    render(status, &page)
}

/// 新建群活码.
pub async fn new(State(s): State<AppState>, c: Console) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    form_page(&s, c, None, CodeForm::fresh(), StatusCode::OK, None).await
}

/// A code's edit form.
pub async fn edit(State(s): State<AppState>, IdPath(id): IdPath, c: Console) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let v = match s.app.group_codes().get(&c.session.actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    form_page(
        &s,
        c,
        Some(id),
        CodeForm::from_view(&v),
        StatusCode::OK,
        None,
    )
    .await
}

async fn submit(
    s: AppState,
    c: Console,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let mut f = CodeForm::from_pairs(&pairs);
    let tr = c.ctx.tr;
    let codes = s.app.group_codes();
    if let Some(id) = id {
        // The scene cannot change: the edit form shows it, and keeps the code's own.
        match codes.get(&c.session.actor, id).await {
            Ok(v) => f.scene = v.spec.scene.as_str().into(),
            Err(e) => return error_page(c.ctx, e),
        }
    }
    let spec = match f.spec() {
        Ok(spec) => spec,
        Err(b) => {
            let err = b.form_error(tr);
            return form_page(&s, c, id, f, StatusCode::UNPROCESSABLE_ENTITY, Some(err)).await;
        }
    };
    let a = &c.session.actor;
    let saved = match id {
        None => codes.create(a, spec).await,
        Some(id) => codes.update(a, id, spec).await,
    };
    match saved {
        Ok(v) if id.is_none() => see_other(&format!("/console/group-codes/{}?ok=created", v.id)),
        Ok(v) => see_other(&format!("/console/group-codes/{}?ok=saved", v.id)),
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = super::layout::form_error(tr, e);
            form_page(&s, c, id, f, status, Some(err)).await
        }
    }
}

pub async fn create(
    State(s): State<AppState>,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    submit(s, c, None, pairs).await
}

pub async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    submit(s, c, Some(id), pairs).await
}

/// 立即同步: re-plan the code now (after fixing WeCom settings, or to check).
pub async fn sync(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.group_codes().resync(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("/console/group-codes/{id}?ok=synced")),
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn archive_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let v = match s.app.group_codes().get(&c.session.actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("gc.confirm_code", &[("name", &v.spec.name)]),
        impact: vec![
            tr.t("gc.confirm_wecom").to_owned(),
            tr.fill("gc.confirm_joins", &[("n", &grouped(v.joins_total))]),
        ],
        outcome: "archive",
        action: format!("/console/group-codes/{id}/archive"),
        back: "/console/group-codes",
    };
    confirm_page(c.ctx, ACTIVE, confirm)
}

pub async fn archive(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.group_codes().archive(&c.session.actor, id).await {
        Ok(_) => see_other("/console/group-codes?archived=1&ok=archived"),
        Err(e) => error_page(c.ctx, e),
    }
}

// ---------------------------------------------------------------- code page

/// One group of the code's table.
pub struct GroupLine {
    pub g: CodeGroupView,
    /// Members against the cap, 0–100 (the bar's width).
    pub percent: i64,
}

/// One of the latest joins.
pub struct JoinLine {
    pub at: i64,
    pub group: String,
    pub customer_id: Option<i64>,
    /// The member's external userid, all but its last 6 characters hidden.
    pub masked: String,
}

fn masked(userid: &str) -> String {
    let chars: Vec<char> = userid.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(6)..].iter().collect();
    format!("…{tail}")
}

#[derive(Template)]
#[template(path = "console/group_code_view.html")]
struct CodePage {
    ctx: Ctx,
    code: CodeLine,
    v: GroupCodeView,
    scene: &'static str,
    groups: Vec<GroupLine>,
    /// Joins per day over the last 30 days, newest first (days with joins only).
    days: Vec<DayJoins>,
    days_max: i64,
    recent: Vec<JoinLine>,
    can_manage: bool,
}

impl CodePage {
    fn day_percent(&self, joins: &i64) -> i64 {
        if self.days_max <= 0 {
            0
        } else {
            (joins * 100 / self.days_max).clamp(0, 100)
        }
    }

    fn customer_label(&self, id: &i64) -> String {
        self.ctx
            .tr
            .fill("gc.customer_n", &[("id", &id.to_string())])
    }
}

/// `/console/group-codes/{id}`: the QR, the settings, the groups as they fill and the joins.
pub async fn view(State(s): State<AppState>, IdPath(id): IdPath, mut c: Console) -> Response {
    c.ctx.active = ACTIVE;
    let a = &c.session.actor;
    let codes = s.app.group_codes();
    let v = match codes.get(a, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let joins = match codes.joins(a, id, None, None).await {
        Ok(j) => j,
        Err(e) => return error_page(c.ctx, e),
    };
    let names = Names::load(&s, &c).await;
    let tr = c.ctx.tr;
    let cap = v.spec.member_cap.max(1);
    let groups = v
        .groups
        .iter()
        .map(|g| GroupLine {
            percent: (g.members * 100 / cap).clamp(0, 100),
            g: g.clone(),
        })
        .collect();
    let mut days = joins.days;
    days.reverse();
    let days_max = days.iter().map(|d| d.joins).max().unwrap_or(0);
    let page = CodePage {
        code: code_line(tr, &names, &v),
        scene: scene_label(tr, v.spec.scene),
        groups,
        days,
        days_max,
        recent: joins
            .recent
            .into_iter()
            .map(|j| JoinLine {
                at: j.joined_at,
                masked: masked(&j.userid),
                group: j.group_name,
                customer_id: j.customer_id,
            })
            .collect(),
        can_manage: can_manage(&c),
        v,
        ctx: c.ctx,
    };
    render(StatusCode::OK, &page)
}

// ---------------------------------------------------------------- texts

pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "gc.nav" => ("群活码", "Group codes"),
        "gc.title" => ("群活码", "Group live codes"),
        "gc.intro" => (
            "一个群活码对应企业微信的一个“加入群聊”方式，最多同时挂 5 个客户群。群满员后鱼塘自动换到下一个群，海报印一次就能一直用。",
            "A group code is one WeCom join way listing up to 5 customer groups at a time. When a group fills up, Yutang moves the code on to the next one, so a poster printed once keeps working.",
        ),
        "gc.new" => ("新建群活码", "New group code"),
        "gc.edit" => ("编辑群活码", "Edit group code"),
        "gc.show_archived" => ("查看已归档", "Show archived"),
        "gc.show_active" => ("查看使用中", "Show active"),
        "gc.archived_list" => ("已归档", "Archived"),
        "gc.archived" => ("已归档", "Archived"),
        "gc.none_yet" => (
            "还没有群活码。新建一个，把门店的客户群挂上去。",
            "No group codes yet. Create one and list the store's customer groups on it.",
        ),
        "gc.empty" => ("暂无记录", "Nothing here"),
        "gc.name" => ("名称", "Name"),
        "gc.store" => ("门店", "Store"),
        "gc.channel" => ("渠道", "Channel"),
        "gc.groups_count" => ("群数", "Groups"),
        "gc.fill" => ("群容量", "Capacity"),
        "gc.fill.open" => ("有空位", "Room left"),
        "gc.fill.overflow" => ("群已满·企业微信自动建群", "Full · WeCom opens new groups"),
        "gc.fill.full" => ("群已满·请添加新群", "Full · add a group"),
        "gc.sync_status" => ("同步状态", "Sync status"),
        "gc.joins_today_total" => ("今日 / 累计入群", "Joins today / total"),
        "gc.brand_wide" => ("全品牌", "Whole brand"),
        "gc.store_n" => ("门店 #{id}", "Store #{id}"),
        "gc.channel_n" => ("渠道 #{id}", "Channel #{id}"),
        "gc.group_id_n" => ("客户群 #{id}", "Group #{id}"),
        "gc.group_label" => ("{name}（{n} 人）", "{name} ({n} members)"),
        "gc.no_store" => ("全品牌", "Whole brand"),
        "gc.no_channel" => ("不归属渠道", "No channel"),
        "gc.scene" => ("使用场景", "Scene"),
        "gc.scene.qr" => ("二维码（打印或展示）", "QR code (print or show)"),
        "gc.scene.mini_program" => ("小程序（插件按钮）", "Mini-program (plugin button)"),
        "gc.help_scene" => (
            "创建后不能更改场景；如需更换请归档后新建。",
            "The scene cannot change after creation; archive the code and create another.",
        ),
        "gc.help_name" => (
            "仅内部可见，例如“徐汇店福利群”。",
            "Only staff see it, e.g. “Xuhui store welfare group”.",
        ),
        "gc.help_store" => (
            "门店的群活码只对该门店可见；全品牌的对所有人可见。",
            "A store's code is seen by that store; a brand-wide code by everyone.",
        ),
        "gc.help_channel" => (
            "入群会计入该渠道的统计。",
            "Joins count towards this channel's figures.",
        ),
        "gc.member_cap" => ("每群人数上限", "Members per group"),
        "gc.help_member_cap" => (
            "企业微信扫码入群上限 200 人，群上限 500 人",
            "WeCom stops QR joins at 200 members; a group holds at most 500",
        ),
        "gc.auto_create" => ("群满后自动新建群", "Open a new group when all are full"),
        "gc.room_base_name" => ("新群名称", "New groups' name"),
        "gc.help_room_base_name" => (
            "企业微信自动新建的群以此命名并加上序号，例如“福利群1”。",
            "WeCom names the groups it opens after this, with a number: “Welfare group 1”.",
        ),
        "gc.room_base_id" => ("新群起始序号", "First number"),
        "gc.groups" => ("客户群", "Customer groups"),
        "gc.group_n" => ("第{n}个群", "Group {n}"),
        "gc.no_group" => ("不选", "None"),
        "gc.help_groups" => (
            "按顺序填满：第1个群满员后换到第2个，依此类推。最多 5 个，只能选未解散的客户群。",
            "Filled in order: when group 1 is full the code moves to group 2, and so on. At most 5; only groups that are not dismissed.",
        ),
        "gc.no_groups" => (
            "还没有同步到客户群：请先在企业微信设置中同步客户群。",
            "No customer groups synced yet: sync them from WeCom first.",
        ),
        "gc.code" => ("群活码", "Group code"),
        "gc.state" => ("状态码（state）", "State"),
        "gc.qr" => ("群活码二维码", "Group code QR"),
        "gc.download_qr" => ("下载二维码", "Download the QR code"),
        "gc.qr_not_stored" => (
            "二维码图片尚未保存：每次同步后自动下载。",
            "The QR image is not stored yet: it is downloaded after each sync.",
        ),
        "gc.no_qr" => (
            "企业微信尚未生成二维码：同步成功后在这里显示。",
            "WeCom has not made the QR code yet: it shows here once the code is synced.",
        ),
        "gc.mini_program_hint" => (
            "小程序场景没有二维码：在小程序中通过企业微信插件使用该活码。",
            "A mini-program code has no QR: use it through WeCom's plugin in the mini-program.",
        ),
        "gc.archived_no_qr" => (
            "已归档：企业微信不再接受扫码入群。",
            "Archived: WeCom no longer accepts joins through it.",
        ),
        "gc.alert.overflow" => (
            "所有群都已达到上限，企业微信会把扫码者继续放进这些群直到 200 人后自动新建群",
            "Every group reached the cap: WeCom keeps putting scanners into these groups up to 200 members, then opens a new group",
        ),
        "gc.alert.full" => (
            "所有群都已满，扫码者无法再入群：请编辑活码添加新群",
            "Every group is full and scanners cannot join: edit the code and add a group",
        ),
        "gc.resync" => ("立即同步", "Sync now"),
        "gc.synced_at" => ("上次同步", "Last synced"),
        "gc.group" => ("群", "Group"),
        "gc.members_cap" => ("人数 / 上限", "Members / cap"),
        "gc.listed" => ("当前生效", "Listed now"),
        "gc.auto_created" => ("自动新建", "Opened by WeCom"),
        "gc.dismissed" => ("已解散", "Dismissed"),
        "gc.joins" => ("入群人数", "Joins"),
        "gc.joins_by_day" => ("近 30 天每日入群", "Joins per day, last 30 days"),
        "gc.day" => ("日期", "Day"),
        "gc.recent" => ("最近入群", "Latest joins"),
        "gc.joined_at" => ("入群时间", "Joined"),
        "gc.member" => ("成员", "Member"),
        "gc.customer_n" => ("客户 #{id}", "Customer #{id}"),
        "gc.not_customer" => ("非好友", "Not a friend"),
        "gc.archive" => ("归档", "Archive"),
        "gc.yes" => ("是", "Yes"),
        "gc.no" => ("否", "No"),
        "gc.confirm_code" => ("归档群活码“{name}”", "Archive the group code “{name}”"),
        "gc.confirm_wecom" => (
            "企业微信中的入群方式会被删除，二维码失效",
            "Its WeCom join way is deleted and the QR code stops working",
        ),
        "gc.confirm_joins" => (
            "已记录的 {n} 次入群保留在统计中",
            "The {n} joins recorded stay in the figures",
        ),
        _ => return None,
    })
}

/// `/console/group-codes/{id}/qr.png`: the code's QR image as Yutang keeps it (`?download=1`
/// saves it).
pub async fn qr(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    axum::extract::Query(p): axum::extract::Query<FileParams>,
    c: Console,
) -> Response {
    match s.app.group_codes().qr_image(&c.session.actor, id).await {
        Ok(qr) => crate::files::file(&qr.content_type, &qr.filename, p.disposition(), qr.bytes),
        Err(e) => error_page(c.ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::super::layout::form_pairs;
    use super::*;

    #[test]
    fn the_form_reads_groups_in_order_and_skips_blanks() {
        let f = CodeForm::from_pairs(&form_pairs(&[
            ("name", "福利群"),
            ("scene", "qr"),
            ("member_cap", "150"),
            ("auto_create", "on"),
            ("room_base_name", "福利群"),
            ("room_base_id", ""),
            ("group_ids", "7"),
            ("group_ids", ""),
            ("group_ids", "3"),
        ]));
        let spec = f.spec().unwrap();
        assert_eq!(spec.group_ids, vec![7, 3]);
        assert_eq!((spec.member_cap, spec.room_base_id), (150, 1));
        assert!(spec.auto_create && spec.store_id.is_none());
        let bad = CodeForm {
            member_cap: "many".into(),
            ..f
        };
        assert_eq!(bad.spec().err().unwrap().field, "member_cap");
        assert_eq!(masked("wmAbcdefghij123456"), "…123456");
        assert_eq!(masked("abc"), "…abc");
    }

    #[test]
    fn every_label_is_translated() {
        for k in ["open", "overflow", "full"] {
            assert!(text(&format!("gc.fill.{k}")).is_some(), "{k}");
        }
        for s in [Scene::Qr, Scene::MiniProgram] {
            assert!(text(&format!("gc.scene.{}", s.as_str())).is_some());
        }
    }
}
