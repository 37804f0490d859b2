//! `/console/messages` (issue #21 item 1): mass messages (群发) sent through each customer's
//! guide. The list of messages with the brand's messaging rules (frequency caps, WeCom's
//! receipt rule, the opt-out tag) and their form; the composer, whose 预览触达 shows who the
//! audience would reach now and who not (and why) before 发送 saves the message; and each
//! message's page: its content, counts by state and reason, the guides' WeCom tasks, cancel,
//! remind and refresh buttons, and its recipients filtered by state and paged by customer id.
//!
//! Every page reads through `app.messaging()`: admins, operators and store managers send (a
//! store manager to their store's customers, and sees only their store's messages), analysts
//! read, the rules are HQ's (admins, operators), guides get the forbidden page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::messaging::{
    GroupChoice, GroupRecipientPage, MessageDetail, MessageInput, MessageView, Preview,
    RecipientPage, SettingsView,
};
use yutang_core::FieldError;
use yutang_core::messaging::{
    Attachment, Audience, AudienceForm, Caps, Content, Exclusion, MAX_ATTACHMENTS,
    RECIPIENT_STATES, ReceiptRule, parse_holdout,
};
use yutang_core::staff::{Permission, Role};
use yutang_core::time::Millis;

use super::layout::{
    ConsoleForm, ConsoleQuery, CsrfForm, FormError, error_for, error_page, form_error, opt_id,
    see_other,
};
use super::share::minute;
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

const LIST_PATH: &str = "/console/messages";
const ACTIVE: &str = "messages";
/// Link rows and image rows the composer offers (more come back when a form sent more).
const LINK_ROWS: usize = 3;
const IMAGE_ROWS: usize = 3;
/// Recipients on one page of a message's list.
const RECIPIENTS_PAGE: i64 = 50;

fn detail_path(id: i64) -> String {
    format!("{LIST_PATH}/{id}")
}

/// Whether the caller sends messages (admins, operators, store managers).
fn can_send(c: &Console) -> bool {
    c.session.actor.can(Permission::SendMessages)
}

/// Whether the caller edits the messaging rules (HQ: admins, operators).
fn can_rules(c: &Console) -> bool {
    matches!(c.session.actor.role, Role::Admin | Role::Operator) && can_send(c)
}

// ---------------------------------------------------------------- labels

fn status_label(tr: Tr, status: &str) -> &'static str {
    match status {
        "scheduled" => tr.t("msg.status.scheduled"),
        "sending" => tr.t("msg.status.sending"),
        "sent" => tr.t("msg.status.sent"),
        "cancelled" => tr.t("msg.status.cancelled"),
        _ => tr.t("msg.status.unknown"),
    }
}

fn status_class(status: &str) -> &'static str {
    match status {
        "sending" => "pill active",
        "sent" => "pill ok",
        "cancelled" => "pill disabled",
        _ => "pill",
    }
}

fn kind_label(tr: Tr, kind: &str) -> &'static str {
    match kind {
        "segment" => tr.t("msg.audience.segment"),
        "tags" => tr.t("msg.audience.tags"),
        "groups" => tr.t("msg.audience.groups"),
        "all_groups" => tr.t("msg.audience.all_groups"),
        _ => tr.t("msg.audience.customers"),
    }
}

fn rule_label(tr: Tr, rule: &str) -> &'static str {
    match rule {
        "weekly_7" => tr.t("msg.receipt_rule.weekly_7"),
        "daily_1" => tr.t("msg.receipt_rule.daily_1"),
        _ => tr.t("msg.receipt_rule.month_days"),
    }
}

/// An exclusion or failure reason in words (an unknown one as it is).
fn reason_label(tr: Tr, reason: &str) -> String {
    super::labels::code_or_raw(tr, "msg.reason.", reason)
}

fn recipient_state_label(tr: Tr, state: &str) -> String {
    super::labels::code_or_raw(tr, "msg.recipient.", state)
}

fn task_state_label(tr: Tr, state: &str) -> String {
    super::labels::code_or_raw(tr, "msg.task.", state)
}

/// Recipients put in a guide's WeCom task: delivered, waiting for the guide, or failed once
/// there (not those whose task WeCom refused or never created).
fn sent_to_guides(v: &MessageView) -> i64 {
    let c = &v.counts;
    let lost = ["wecom_error", "wecom_refused"]
        .iter()
        .map(|r| c.reasons.get(*r).copied().unwrap_or(0))
        .sum::<i64>();
    (c.task_created + c.delivered + c.failed - lost).max(0)
}

/// A holdout in basis points as a percentage (`1250` → `12.5%`).
fn percent(bp: i64) -> String {
    let whole = bp / 100;
    let frac = bp % 100;
    if frac == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}.{}%", format!("{frac:02}").trim_end_matches('0'))
    }
}

/// A task's last error: its code's message, and the rest as it came.
fn error_text(tr: Tr, last_error: &str) -> (String, String) {
    let (code, rest) = last_error.split_once(':').unwrap_or((last_error, ""));
    let code = code.trim();
    if yutang_core::error_codes::find(code).is_some() {
        (tr.error(code).to_owned(), rest.trim().to_owned())
    } else {
        (String::new(), last_error.to_owned())
    }
}

// ---------------------------------------------------------------- the rules form

/// The rules form as typed.
#[derive(Debug, Clone, Default)]
pub struct RulesForm {
    daily_cap: String,
    weekly_cap: String,
    receipt_rule: String,
    opt_out_tag_id: String,
}

const RULE_FIELDS: [&str; 4] = ["daily_cap", "weekly_cap", "receipt_rule", "opt_out_tag_id"];

impl RulesForm {
    fn from_view(v: &SettingsView) -> Self {
        Self {
            daily_cap: v.daily_cap.to_string(),
            weekly_cap: v.weekly_cap.to_string(),
            receipt_rule: v.receipt_rule.as_str().to_owned(),
            opt_out_tag_id: v.opt_out_tag_id.map(|t| t.to_string()).unwrap_or_default(),
        }
    }

    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "daily_cap" => f.daily_cap = v.clone(),
                "weekly_cap" => f.weekly_cap = v.clone(),
                "receipt_rule" => f.receipt_rule = v.clone(),
                "opt_out_tag_id" => f.opt_out_tag_id = v.clone(),
                _ => {}
            }
        }
        f
    }

    fn parse(&self) -> Result<(Caps, Option<i64>), AppError> {
        let cap = |field: &'static str, s: &str| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| FieldError::new(field, "invalid_cap", "a whole number"))
        };
        let caps = Caps::parse(
            cap("daily_cap", &self.daily_cap)?,
            cap("weekly_cap", &self.weekly_cap)?,
            self.receipt_rule.trim(),
        )?;
        Ok((caps, opt_id("opt_out_tag_id", &self.opt_out_tag_id)?))
    }

    fn is_rule(&self, r: &str) -> bool {
        self.receipt_rule == r
    }

    fn is_tag(&self, id: &i64) -> bool {
        self.opt_out_tag_id.trim() == id.to_string()
    }
}

/// A choice of a select or a checkbox: a segment, a tag.
pub struct Choice {
    id: i64,
    name: String,
    /// Customers (a segment's or a tag's, within the caller's scope), when known.
    count: Option<u64>,
}

/// A tag group with its tags, for the tag checkboxes.
pub struct TagGroup {
    name: String,
    tags: Vec<Choice>,
}

async fn tag_groups(s: &AppState, c: &Console) -> Result<Vec<TagGroup>, AppError> {
    Ok(s.app
        .tags()
        .tag_catalogue(&c.session.actor)
        .await?
        .into_iter()
        .filter(|g| !g.tags.is_empty())
        .map(|g| TagGroup {
            name: g.group.name,
            tags: g
                .tags
                .into_iter()
                .map(|t| Choice {
                    id: t.tag.id,
                    name: t.tag.name,
                    count: Some(t.customers),
                })
                .collect(),
        })
        .collect())
}

// ---------------------------------------------------------------- the list

#[derive(Template)]
#[template(path = "console/messaging.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<MessageView>,
    rules: SettingsView,
    can_send: bool,
    can_rules: bool,
    form: RulesForm,
    error: Option<FormError>,
    /// The opt-out tag's choices (`group/name`), for HQ.
    tags: Vec<Choice>,
}

impl ListPage {
    fn status_label(&self, st: &str) -> &'static str {
        status_label(self.ctx.tr, st)
    }
    fn status_class(&self, st: &str) -> &'static str {
        status_class(st)
    }
    fn kind_label(&self, v: &MessageView) -> &'static str {
        kind_label(self.ctx.tr, v.audience.kind())
    }
    fn rule_label(&self, r: &str) -> &'static str {
        rule_label(self.ctx.tr, r)
    }
    fn current_rule(&self) -> &'static str {
        rule_label(self.ctx.tr, self.rules.receipt_rule.as_str())
    }
    fn receipt_rules(&self) -> Vec<&'static str> {
        ReceiptRule::ALL.iter().map(|r| r.as_str()).collect()
    }
    fn minute(&self, ms: &i64) -> String {
        minute(*ms)
    }
    /// A count, or `-` before the audience is decided at the send time.
    fn count(&self, v: &MessageView, n: &i64) -> String {
        if v.prepared_at.is_some() {
            n.to_string()
        } else {
            "-".into()
        }
    }
    fn sent_to_guides(&self, v: &MessageView) -> String {
        self.count(v, &sent_to_guides(v))
    }
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    fn general_error(&self) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| !RULE_FIELDS.contains(&e.field.as_str()))
            .map(|e| e.message)
    }
}

async fn list_page(
    s: &AppState,
    mut c: Console,
    status: StatusCode,
    form: Option<RulesForm>,
    error: Option<FormError>,
) -> Response {
    c.ctx.active = ACTIVE;
    let m = s.app.messaging();
    let a = &c.session.actor;
    let rows = match m.list(a).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let rules = match m.settings(a).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let can_rules = can_rules(&c);
    let tags = if can_rules {
        match tag_groups(s, &c).await {
            Ok(groups) => groups
                .into_iter()
                .flat_map(|g| {
                    let group = g.name;
                    g.tags.into_iter().map(move |t| Choice {
                        id: t.id,
                        name: format!("{group}/{}", t.name),
                        count: t.count,
                    })
                })
                .collect(),
            Err(e) => return error_page(c.ctx, e),
        }
    } else {
        Vec::new()
    };
    let form = form.unwrap_or_else(|| RulesForm::from_view(&rules));
    render(
        status,
        &ListPage {
            can_send: can_send(&c),
            can_rules,
            ctx: c.ctx,
            rows,
            rules,
            form,
            error,
            tags,
        },
    )
}

pub async fn list(State(s): State<AppState>, c: Console) -> Response {
    list_page(&s, c, StatusCode::OK, None, None).await
}

/// Save the messaging rules (HQ).
pub async fn save_rules(
    State(s): State<AppState>,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    // Forbidden before the form is read.
    if let Err(e) = s.app.messaging().settings(&c.session.actor).await {
        return error_page(c.ctx, e);
    }
    if !can_rules(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let f = RulesForm::from_pairs(&pairs);
    let saved = match f.parse() {
        Ok((caps, tag)) => {
            s.app
                .messaging()
                .save_settings(&c.session.actor, caps, tag)
                .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => see_other(&format!("{LIST_PATH}?ok=saved#rules")),
        Err(e @ AppError::Forbidden) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            list_page(&s, c, status, Some(f), Some(err)).await
        }
    }
}

// ---------------------------------------------------------------- the composer

/// One link card's row as typed.
#[derive(Debug, Clone, Default)]
pub struct LinkRow {
    title: String,
    url: String,
    desc: String,
    picurl: String,
}

impl LinkRow {
    fn is_blank(&self) -> bool {
        [&self.title, &self.url, &self.desc, &self.picurl]
            .iter()
            .all(|s| s.trim().is_empty())
    }
}

/// The composer as typed, so a refused or previewed form comes back filled in.
#[derive(Debug, Clone)]
pub struct ComposeForm {
    name: String,
    text: String,
    links: Vec<LinkRow>,
    images: Vec<String>,
    /// `segment`, `tags` or `customers`.
    audience: String,
    segment_id: String,
    tag_ids: Vec<String>,
    /// Customer ids, one a line or separated by commas.
    customer_ids: String,
    /// Chosen groups (`audience=groups`).
    group_ids: Vec<String>,
    /// The holdout in percent (0–50).
    holdout: String,
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
            links: vec![LinkRow::default(); LINK_ROWS],
            images: vec![String::new(); IMAGE_ROWS],
            audience: "segment".into(),
            segment_id: String::new(),
            tag_ids: Vec::new(),
            customer_ids: String::new(),
            group_ids: Vec::new(),
            holdout: "0".into(),
            when: "now".into(),
            send_at: String::new(),
        }
    }
}

/// The composer's fields a refusal can name (others show above the form).
const COMPOSE_FIELDS: [&str; 10] = [
    "name",
    "text",
    "attachments",
    "audience",
    "segment_id",
    "tag_ids",
    "customer_ids",
    "group_ids",
    "holdout_bp",
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
            links: Vec::new(),
            images: Vec::new(),
            audience: String::new(),
            holdout: String::new(),
            when: String::new(),
            ..Self::default()
        };
        let (mut titles, mut urls, mut descs, mut pics) = (vec![], vec![], vec![], vec![]);
        for (k, v) in pairs {
            match k.as_str() {
                "name" => f.name = v.clone(),
                "text" => f.text = unix_lines(v),
                "link_title" => titles.push(v.clone()),
                "link_url" => urls.push(v.clone()),
                "link_desc" => descs.push(v.clone()),
                "link_picurl" => pics.push(v.clone()),
                "image_url" => f.images.push(v.clone()),
                "audience" => f.audience = v.clone(),
                "segment_id" => f.segment_id = v.clone(),
                "tag_ids" => f.tag_ids.push(v.clone()),
                "customer_ids" => f.customer_ids = unix_lines(v),
                "group_ids" => f.group_ids.push(v.clone()),
                "holdout" => f.holdout = v.clone(),
                "when" => f.when = v.clone(),
                "send_at" => f.send_at = v.clone(),
                _ => {}
            }
        }
        let rows = titles
            .len()
            .max(urls.len())
            .max(descs.len())
            .max(pics.len());
        let at = |v: &[String], i: usize| v.get(i).cloned().unwrap_or_default();
        f.links = (0..rows)
            .map(|i| LinkRow {
                title: at(&titles, i),
                url: at(&urls, i),
                desc: at(&descs, i),
                picurl: at(&pics, i),
            })
            .collect();
        if f.links.len() < LINK_ROWS {
            f.links.resize(LINK_ROWS, LinkRow::default());
        }
        if f.images.len() < IMAGE_ROWS {
            f.images.resize(IMAGE_ROWS, String::new());
        }
        f
    }

    fn parse_content(&self) -> Result<Content, FieldError> {
        let mut attachments = Vec::new();
        for l in self.links.iter().filter(|l| !l.is_blank()) {
            attachments.push(Attachment::link(&l.title, &l.url, &l.desc, &l.picurl)?);
        }
        for i in self.images.iter().filter(|i| !i.trim().is_empty()) {
            attachments.push(Attachment::image(i)?);
        }
        Content::parse(&self.text, attachments)
    }

    fn parse_audience(&self) -> Result<Audience, FieldError> {
        match self.audience.as_str() {
            "segment" => match opt_id("segment_id", &self.segment_id)? {
                Some(id) => Audience::parse(AudienceForm {
                    segment_id: Some(id),
                    ..AudienceForm::default()
                }),
                None => Err(FieldError::new(
                    "segment_id",
                    "invalid_audience",
                    "choose a segment",
                )),
            },
            "tags" => {
                let ids = checked_ids("tag_ids", &self.tag_ids)?;
                Audience::parse(AudienceForm {
                    tag_ids: Some(ids),
                    ..AudienceForm::default()
                })
            }
            "customers" => {
                let mut ids = Vec::new();
                for part in self
                    .customer_ids
                    .split(|c: char| c.is_whitespace() || ",，、;；".contains(c))
                    .filter(|p| !p.is_empty())
                {
                    ids.push(part.parse::<i64>().map_err(|_| {
                        FieldError::new("customer_ids", "invalid_id", "customer ids are numbers")
                    })?);
                }
                Audience::parse(AudienceForm {
                    customer_ids: Some(ids),
                    ..AudienceForm::default()
                })
            }
            "groups" => {
                let ids = checked_ids("group_ids", &self.group_ids)?;
                Audience::parse(AudienceForm {
                    group_ids: Some(ids),
                    ..AudienceForm::default()
                })
            }
            "all_groups" => Audience::parse(AudienceForm {
                all_groups: Some(true),
                ..AudienceForm::default()
            }),
            _ => Audience::parse(AudienceForm::default()),
        }
    }

    /// The holdout in percent, with at most two decimals, as basis points (0–5,000).
    fn parse_holdout(&self) -> Result<i64, FieldError> {
        let bad = || FieldError::new("holdout_bp", "invalid_holdout", "0–50%");
        let s = self.holdout.trim().trim_end_matches(['%', '％']).trim();
        if s.is_empty() {
            return Ok(0);
        }
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |d: &str| d.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || whole.len() > 3 || frac.len() > 2 || !digits(whole) || !digits(frac)
        {
            return Err(bad());
        }
        let w: i64 = whole.parse().map_err(|_| bad())?;
        let f: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        parse_holdout(Some(w * 100 + f))
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

    fn parse(&self) -> Result<MessageInput, AppError> {
        let content = self.parse_content()?;
        let audience = self.parse_audience()?;
        let holdout = self.parse_holdout()?;
        let send_at = self.parse_send_at()?;
        MessageInput::parse(&self.name, content, audience, Some(holdout), send_at)
    }

    fn is_audience(&self, kind: &str) -> bool {
        self.audience == kind
    }
    fn is_segment(&self, id: &i64) -> bool {
        self.segment_id.trim() == id.to_string()
    }
    fn is_tag(&self, id: &i64) -> bool {
        self.tag_ids.iter().any(|t| t.trim() == id.to_string())
    }
    fn is_group(&self, id: &i64) -> bool {
        self.group_ids.iter().any(|g| g.trim() == id.to_string())
    }
    fn is_later(&self) -> bool {
        self.when == "later"
    }
}

#[derive(Template)]
#[template(path = "console/messaging_new.html")]
struct ComposePage {
    ctx: Ctx,
    form: ComposeForm,
    error: Option<FormError>,
    preview: Option<Preview>,
    segments: Vec<Choice>,
    tag_groups: Vec<TagGroup>,
    /// The groups the caller may send to (not dismissed), for `audience=groups`.
    groups: Vec<GroupChoice>,
    rules: SettingsView,
    /// The caller is a store manager: the audience is cut to their store.
    store_only: bool,
}

impl ComposePage {
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    fn general_error(&self) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| !COMPOSE_FIELDS.contains(&e.field.as_str()))
            .map(|e| e.message)
    }
    fn current_rule(&self) -> &'static str {
        rule_label(self.ctx.tr, self.rules.receipt_rule.as_str())
    }
    fn attachments_help(&self) -> String {
        self.ctx.tr.fill(
            "msg.attachments_help",
            &[("n", &MAX_ATTACHMENTS.to_string())],
        )
    }
    /// Each exclusion reason with its label and count, in the order the rules apply.
    fn exclusions(&self, p: &Preview) -> Vec<(&'static str, String, u64)> {
        let reasons: &[Exclusion] = if p.chat_type == "group" {
            &Exclusion::GROUP
        } else {
            &Exclusion::ALL
        };
        reasons
            .iter()
            .map(|e| {
                let code = e.as_str();
                (
                    code,
                    reason_label(self.ctx.tr, code),
                    p.excluded.get(code).copied().unwrap_or(0),
                )
            })
            .collect()
    }
    fn people(&self, n: &u64) -> String {
        self.ctx.tr.fill("msg.people", &[("n", &n.to_string())])
    }
    /// What the preview counts: customers, or groups.
    fn unit(&self, p: &Preview) -> &'static str {
        if p.chat_type == "group" {
            self.ctx.tr.t("msg.group_count")
        } else {
            self.ctx.tr.t("msg.customers")
        }
    }
    /// A group as the picker names it: its name (or id) and its owner.
    fn group_label(&self, g: &GroupChoice) -> String {
        let name = if g.name.is_empty() {
            format!("#{}", g.id)
        } else {
            g.name.clone()
        };
        if g.owner.is_empty() {
            name
        } else {
            format!("{name}（{}）", g.owner)
        }
    }
    fn excluded_total(&self, p: &Preview) -> u64 {
        p.excluded.values().sum()
    }
}

struct ComposeExtra {
    status: StatusCode,
    error: Option<FormError>,
    preview: Option<Preview>,
}

async fn compose_page(
    s: &AppState,
    mut c: Console,
    form: ComposeForm,
    extra: ComposeExtra,
) -> Response {
    c.ctx.active = ACTIVE;
    let a = &c.session.actor;
    let rules = match s.app.messaging().settings(a).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    if !can_send(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let segments = match s.app.segments().list_segments(a).await {
        Ok(rows) => rows
            .into_iter()
            .filter(|r| r.error.is_none())
            .map(|r| Choice {
                id: r.row.id,
                name: r.row.name,
                count: r.count,
            })
            .collect(),
        Err(e) => return error_page(c.ctx, e),
    };
    let tag_groups = match tag_groups(s, &c).await {
        Ok(g) => g,
        Err(e) => return error_page(c.ctx, e),
    };
    let groups = match s.app.messaging().group_choices(a).await {
        Ok(g) => g,
        Err(e) => return error_page(c.ctx, e),
    };
    let store_only = c.session.actor.role == Role::StoreManager;
    render(
        extra.status,
        &ComposePage {
            ctx: c.ctx,
            form,
            error: extra.error,
            preview: extra.preview,
            segments,
            tag_groups,
            groups,
            rules,
            store_only,
        },
    )
}

pub async fn new(State(s): State<AppState>, c: Console) -> Response {
    let extra = ComposeExtra {
        status: StatusCode::OK,
        error: None,
        preview: None,
    };
    compose_page(&s, c, ComposeForm::default(), extra).await
}

/// 预览触达 (`do=preview`, also a form sent without a button) or 发送 (`do=send`).
pub async fn submit(
    State(s): State<AppState>,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    // Forbidden before the form is read.
    if let Err(e) = s.app.messaging().settings(&c.session.actor).await {
        return error_page(c.ctx, e);
    }
    if !can_send(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let f = ComposeForm::from_pairs(&pairs);
    let send = pairs.iter().any(|(k, v)| k == "do" && v == "send");
    let m = s.app.messaging();
    let a = &c.session.actor;
    if send {
        let created = match f.parse() {
            Ok(input) => m.create(a, &input).await,
            Err(e) => Err(e),
        };
        return match created {
            Ok(d) => see_other(&format!("{}?done=created", detail_path(d.message.id))),
            Err(e @ AppError::Forbidden) => error_page(c.ctx, e),
            Err(e) => {
                let (status, err) = form_error(c.ctx.tr, e);
                let extra = ComposeExtra {
                    status,
                    error: Some(err),
                    preview: None,
                };
                compose_page(&s, c, f, extra).await
            }
        };
    }
    let previewed = match (f.parse_audience(), f.parse_holdout()) {
        (Ok(audience), Ok(bp)) => m.preview(a, &audience, bp).await,
        (Err(e), _) | (_, Err(e)) => Err(e.into()),
    };
    let extra = match previewed {
        Ok(p) => ComposeExtra {
            status: StatusCode::OK,
            error: None,
            preview: Some(p),
        },
        Err(e @ AppError::Forbidden) => return error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            ComposeExtra {
                status,
                error: Some(err),
                preview: None,
            }
        }
    };
    compose_page(&s, c, f, extra).await
}

// ---------------------------------------------------------------- one message

/// A message page's query: the recipients' filter and page, and what was just done.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DetailQuery {
    /// Recipients in this state only (`""`: all).
    state: Option<String>,
    /// The `next_after` of the previous page of recipients.
    after: Option<i64>,
    /// `created`, `cancelled`, `refreshed` or `reminded`.
    done: Option<String>,
    /// Reminded: guides reminded, and guides at WeCom's limit.
    n: Option<u64>,
    at_limit: Option<u64>,
}

/// One recipient line of the detail page: a customer (linked to their page) or a group.
struct RecipientLine {
    id: i64,
    name: String,
    href: Option<String>,
    state: String,
    reason: String,
    staff_name: Option<String>,
    delivered_at: Option<i64>,
    updated_at: i64,
}

/// A page of recipient lines and where the next starts.
struct Lines(Vec<RecipientLine>, Option<i64>);

impl From<RecipientPage> for Lines {
    fn from(p: RecipientPage) -> Self {
        let rows = p
            .items
            .into_iter()
            .map(|r| RecipientLine {
                id: r.customer_id,
                name: r.customer_name,
                href: Some(format!("/console/customers/{}", r.customer_id)),
                state: r.state,
                reason: r.reason,
                staff_name: r.staff_name,
                delivered_at: r.delivered_at,
                updated_at: r.updated_at,
            })
            .collect();
        Lines(rows, p.next_after)
    }
}

impl From<GroupRecipientPage> for Lines {
    fn from(p: GroupRecipientPage) -> Self {
        let rows = p
            .items
            .into_iter()
            .map(|r| RecipientLine {
                id: r.group_id,
                name: r.group_name,
                href: None,
                state: r.state,
                reason: r.reason,
                staff_name: r.staff_name,
                delivered_at: r.delivered_at,
                updated_at: r.updated_at,
            })
            .collect();
        Lines(rows, p.next_after)
    }
}

#[derive(Template)]
#[template(path = "console/messaging_detail.html")]
struct DetailPage {
    ctx: Ctx,
    d: MessageDetail,
    can_send: bool,
    /// The audience in words, and where it links (a segment's page).
    audience: String,
    audience_href: Option<String>,
    /// The store of a store manager's message.
    store: Option<String>,
    /// The message went to groups: `rows` are its groups.
    to_groups: bool,
    /// The page of recipients (customers or groups).
    rows: Vec<RecipientLine>,
    /// The recipients' state filter (`""`: all).
    state: &'static str,
    /// `(state, href)` of the filters.
    filters: Vec<(&'static str, String)>,
    next: Option<String>,
    first: Option<String>,
    /// What was just done (a green notice).
    notice: Option<String>,
    /// What could not be done (a red notice).
    problem: Option<&'static str>,
}

impl DetailPage {
    fn status_label(&self) -> &'static str {
        status_label(self.ctx.tr, &self.d.message.status)
    }
    fn status_class(&self) -> &'static str {
        status_class(&self.d.message.status)
    }
    fn kind_label(&self) -> &'static str {
        kind_label(self.ctx.tr, self.d.message.audience.kind())
    }
    fn minute(&self, ms: &i64) -> String {
        minute(*ms)
    }
    fn opt_minute(&self, ms: &Option<i64>) -> String {
        ms.map_or_else(|| "-".to_owned(), minute)
    }
    fn holdout(&self) -> String {
        percent(self.d.message.holdout_bp)
    }
    fn prepared(&self) -> bool {
        self.d.message.prepared_at.is_some()
    }
    fn sent_to_guides(&self) -> i64 {
        sent_to_guides(&self.d.message)
    }
    fn reason_label(&self, r: &str) -> String {
        reason_label(self.ctx.tr, r)
    }
    fn recipient_state_label(&self, st: &str) -> String {
        recipient_state_label(self.ctx.tr, st)
    }
    fn task_state_label(&self, st: &str) -> String {
        task_state_label(self.ctx.tr, st)
    }
    fn task_class(&self, st: &str) -> &'static str {
        match st {
            "confirmed" => "pill ok",
            "created" => "pill active",
            "failed" => "pill failed",
            _ => "pill",
        }
    }
    fn error_text(&self, e: &str) -> (String, String) {
        error_text(self.ctx.tr, e)
    }
    fn is_current(&self, st: &str) -> bool {
        self.state == st
    }
    fn reasons(&self) -> Vec<(String, String, i64)> {
        self.d
            .message
            .counts
            .reasons
            .iter()
            .map(|(r, n)| (r.clone(), reason_label(self.ctx.tr, r), *n))
            .collect()
    }
    fn links(&self) -> Vec<(String, String, String, String)> {
        self.d
            .message
            .content
            .attachments
            .iter()
            .filter_map(|a| match a {
                Attachment::Link {
                    title,
                    url,
                    desc,
                    picurl,
                } => Some((title.clone(), url.clone(), desc.clone(), picurl.clone())),
                Attachment::Image { .. } => None,
            })
            .collect()
    }
    fn images(&self) -> Vec<String> {
        self.d
            .message
            .content
            .attachments
            .iter()
            .filter_map(|a| match a {
                Attachment::Image { pic_url } => Some(pic_url.clone()),
                Attachment::Link { .. } => None,
            })
            .collect()
    }
    fn can_cancel(&self) -> bool {
        self.can_send && self.d.message.status == "scheduled"
    }
    fn can_follow_up(&self) -> bool {
        self.can_send && self.d.message.status == "sent"
    }
}

/// The audience in words: a segment's name (and its page), tags by `group/name`, or how many
/// customers were named.
async fn describe_audience(s: &AppState, c: &Console, a: &Audience) -> (String, Option<String>) {
    let tr = c.ctx.tr;
    let actor = &c.session.actor;
    match a {
        Audience::Segment { segment_id } => {
            match s.app.segments().get_segment(actor, *segment_id).await {
                Ok(seg) => (seg.name, Some(format!("/console/segments/{segment_id}"))),
                Err(_) => (
                    tr.fill("msg.segment_gone", &[("id", &segment_id.to_string())]),
                    None,
                ),
            }
        }
        Audience::Tags { tag_ids } => {
            let names: HashMap<i64, String> = match s.app.tags().tag_catalogue(actor).await {
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
            let list = tag_ids
                .iter()
                .map(|t| names.get(t).cloned().unwrap_or_else(|| format!("#{t}")))
                .collect::<Vec<_>>()
                .join(" + ");
            (list, None)
        }
        Audience::Customers { customer_ids } => (
            tr.fill("msg.customers_n", &[("n", &customer_ids.len().to_string())]),
            None,
        ),
        Audience::Groups { group_ids } => (
            tr.fill("msg.groups_n", &[("n", &group_ids.len().to_string())]),
            None,
        ),
        Audience::AllGroups => (tr.t("msg.audience.all_groups").to_owned(), None),
    }
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
    let m = s.app.messaging();
    let a = &c.session.actor;
    let d = match m.get(a, id).await {
        Ok(d) => d,
        Err(e) => return error_page(c.ctx, e),
    };
    let state = q.state.as_deref().map(str::trim).unwrap_or_default();
    let state = match RECIPIENT_STATES.iter().find(|st| **st == state) {
        Some(st) => *st,
        None if state.is_empty() => "",
        None => {
            return error_page(
                c.ctx,
                FieldError::new("state", "invalid_status", "not a recipient state").into(),
            );
        }
    };
    let to_groups = d.message.audience.to_groups();
    let only = (!state.is_empty()).then_some(state);
    let page: Result<Lines, AppError> = if to_groups {
        m.groups(a, id, only, q.after, Some(RECIPIENTS_PAGE))
            .await
            .map(Into::into)
    } else {
        m.recipients(a, id, only, q.after, Some(RECIPIENTS_PAGE))
            .await
            .map(Into::into)
    };
    let Lines(rows, next_after) = match page {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e),
    };
    let base = detail_path(id);
    let with_state = |extra: &str| {
        let mut parts = Vec::new();
        if !state.is_empty() {
            parts.push(format!("state={state}"));
        }
        if !extra.is_empty() {
            parts.push(extra.to_owned());
        }
        if parts.is_empty() {
            format!("{base}#recipients")
        } else {
            format!("{base}?{}#recipients", parts.join("&"))
        }
    };
    let next = next_after.map(|after| with_state(&format!("after={after}")));
    let first = q.after.map(|_| with_state(""));
    let filters = RECIPIENT_STATES
        .iter()
        .map(|st| (*st, format!("{base}?state={st}#recipients")))
        .collect();
    let tr = c.ctx.tr;
    let notice = match q.done.as_deref() {
        Some("created") => Some(tr.t("msg.done.created").to_owned()),
        Some("cancelled") => Some(tr.t("msg.done.cancelled").to_owned()),
        Some("refreshed") => Some(tr.t("msg.done.refreshed").to_owned()),
        Some("reminded") => Some(tr.fill(
            "msg.done.reminded",
            &[
                ("n", &q.n.unwrap_or(0).to_string()),
                ("limit", &q.at_limit.unwrap_or(0).to_string()),
            ],
        )),
        _ => None,
    };
    let (audience, audience_href) = describe_audience(s, &c, &d.message.audience).await;
    let store = match d.message.store_id {
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
    render(
        code,
        &DetailPage {
            can_send: can_send(&c),
            ctx: c.ctx,
            d,
            audience,
            audience_href,
            store,
            to_groups,
            rows,
            state,
            filters,
            next,
            first,
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

/// After a button: forbidden and not found as the error page; another refusal (a message no
/// longer scheduled, WeCom not configured or unavailable) on the message's page.
async fn refused(s: &AppState, c: Console, id: i64, e: AppError) -> Response {
    if matches!(e, AppError::Forbidden | AppError::NotFound { .. }) {
        return error_page(c.ctx, e);
    }
    let (status, err) = form_error(c.ctx.tr, e);
    detail_page(s, c, id, &DetailQuery::default(), status, Some(err.message)).await
}

/// 取消 a message still scheduled.
pub async fn cancel(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.messaging().cancel(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?done=cancelled", detail_path(id))),
        Err(e) => refused(&s, c, id, e).await,
    }
}

/// 提醒导购: remind the guides who have not sent their task.
pub async fn remind(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.messaging().remind(&c.session.actor, id).await {
        Ok(r) => see_other(&format!(
            "{}?done=reminded&n={}&at_limit={}",
            detail_path(id),
            r.reminded,
            r.at_limit
        )),
        Err(e) => refused(&s, c, id, e).await,
    }
}

/// 刷新结果: read WeCom's results now.
pub async fn refresh(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.messaging().refresh(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?done=refreshed", detail_path(id))),
        Err(e) => refused(&s, c, id, e).await,
    }
}

// ---------------------------------------------------------------- texts

/// The pages' own texts (`msg.…`).
pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "msg.nav" => ("群发", "Mass messages"),
        "msg.title" => ("群发", "Mass messages"),
        "msg.intro" => (
            "通过每位客户的导购在企业微信中群发消息：每位导购收到一条群发任务，在企业微信中确认后发出。发送前可预览触达人数与未触达的原因。",
            "Send a message to customers through each one's guide on WeCom: every guide gets a mass-send task and sends it by confirming it in WeCom. Preview who it reaches, and who not and why, before sending.",
        ),
        "msg.compose" => ("新建群发", "New message"),
        "msg.name" => ("名称", "Name"),
        "msg.name_help" => (
            "仅用于后台识别，客户看不到。",
            "For the console only; customers do not see it.",
        ),
        "msg.status" => ("状态", "Status"),
        "msg.send_at" => ("发送时间", "Send time"),
        "msg.audience" => ("发送对象", "Audience"),
        "msg.audience_kind" => ("对象类型", "Audience type"),
        "msg.audience.segment" => ("人群", "Segment"),
        "msg.audience.tags" => ("标签", "Tags"),
        "msg.audience.customers" => ("指定客户", "Listed customers"),
        "msg.audience.groups" => ("指定客户群", "Chosen groups"),
        "msg.audience.all_groups" => ("全部客户群", "Every group"),
        "msg.groups_pick" => (
            "选择客户群（由群主发送）",
            "Choose groups (their owners send)",
        ),
        "msg.groups_help" => (
            "客户群群发通过群主的企业微信发出，每个群受企业微信接收上限约束；不设对照组。",
            "A group message goes out through each group's owner on WeCom; each group is under WeCom's receipt cap. No holdout.",
        ),
        "msg.no_groups" => (
            "暂无客户群，请先同步企业微信。",
            "No groups yet; sync WeCom first.",
        ),
        "msg.groups_n" => ("{n} 个客户群", "{n} groups"),
        "msg.group" => ("客户群", "Group"),
        "msg.group_count" => ("客户群数", "Groups"),
        "msg.owner" => ("群主", "Owner"),
        "msg.reason.dismissed" => ("客户群已解散", "The group was dismissed"),
        "msg.reason.no_owner" => (
            "群主不可发送（未绑定或已离职）",
            "The owner cannot send (not linked or resigned)",
        ),
        "msg.count.audience" => ("受众", "Audience"),
        "msg.count.sent_to_guides" => ("已下发导购", "Sent to guides"),
        "msg.count.delivered" => ("已送达", "Delivered"),
        "msg.count.holdout" => ("对照组", "Holdout"),
        "msg.count.excluded" => ("已排除", "Excluded"),
        "msg.count.queued" => ("排队中", "Queued"),
        "msg.count.task_created" => ("待导购发送", "Waiting for guides"),
        "msg.count.failed" => ("发送失败", "Failed"),
        "msg.counts_later" => (
            "到发送时间才确定受众，届时显示各项人数。",
            "The audience is decided at the send time; the counts show then.",
        ),
        "msg.status.scheduled" => ("待发送", "Scheduled"),
        "msg.status.sending" => ("发送中", "Sending"),
        "msg.status.sent" => ("已发出", "Sent"),
        "msg.status.cancelled" => ("已取消", "Cancelled"),
        "msg.status.unknown" => ("未知状态", "Unknown status"),
        // Exclusion and failure reasons (`yutang_core::messaging::Exclusion`, the store's
        // failure reasons).
        "msg.reason.no_guide" => ("没有可发送的导购", "No guide to send through"),
        "msg.reason.deleted_guide" => ("客户已删除导购", "The customer deleted their guide"),
        "msg.reason.opted_out" => ("客户已退订", "Opted out"),
        "msg.reason.receipt_cap" => ("超出企业微信接收上限", "Over WeCom's receipt cap"),
        "msg.reason.frequency_cap" => ("超出频次上限", "Over the frequency cap"),
        "msg.reason.wecom_refused" => ("企业微信拒绝", "Refused by WeCom"),
        "msg.reason.not_friend" => ("已不是好友", "No longer a contact"),
        "msg.reason.wecom_error" => ("企业微信错误", "WeCom error"),
        // Recipient states (`yutang_core::messaging::RECIPIENT_STATES`).
        "msg.recipient.excluded" => ("已排除", "Excluded"),
        "msg.recipient.holdout" => ("对照组", "Holdout"),
        "msg.recipient.queued" => ("排队中", "Queued"),
        "msg.recipient.task_created" => ("待导购发送", "Waiting for the guide"),
        "msg.recipient.delivered" => ("已送达", "Delivered"),
        "msg.recipient.failed" => ("发送失败", "Failed"),
        // Task states.
        "msg.task.pending" => ("待创建", "To create"),
        "msg.task.sending" => ("创建中", "Creating"),
        "msg.task.created" => ("待导购确认", "Waiting for the guide"),
        "msg.task.confirmed" => ("导购已发送", "Sent by the guide"),
        "msg.task.failed" => ("创建失败", "Failed"),
        // WeCom's receipt rules (`yutang_core::messaging::ReceiptRule`).
        "msg.receipt_rule.month_days" => (
            "每月不超过当月天数条（企业微信默认）",
            "As many a month as the month has days (WeCom's default)",
        ),
        "msg.receipt_rule.weekly_7" => ("每周不超过 7 条", "At most 7 a week"),
        "msg.receipt_rule.daily_1" => ("每天不超过 1 条", "At most 1 a day"),
        "msg.rules" => ("群发规则", "Messaging rules"),
        "msg.rules_intro" => (
            "每位客户收到的营销消息受频次上限约束；企业微信的接收规则须与企业微信管理后台「客户联系 → 群发助手」中的设置一致；带退订标签的客户不会收到群发。",
            "Each customer's marketing messages are capped; WeCom's receipt rule must match the corp's setting in WeCom's admin (Customer contact → Mass messaging); customers with the opt-out tag receive no mass message.",
        ),
        "msg.daily_cap" => ("每日上限（条/人）", "Daily cap (per customer)"),
        "msg.weekly_cap" => (
            "每周上限（条/人，近 7 天）",
            "Weekly cap (per customer, last 7 days)",
        ),
        "msg.receipt_rule" => ("企业微信接收规则", "WeCom's receipt rule"),
        "msg.opt_out_tag" => ("退订标签", "Opt-out tag"),
        "msg.opt_out_none" => ("不设置", "None"),
        "msg.rules_defaults" => (
            "尚未保存过，使用默认规则。",
            "Never saved: the defaults apply.",
        ),
        "msg.rules_updated" => ("规则更新于", "Rules updated"),
        "msg.rules_hq" => (
            "群发规则由总部（管理员、运营）设置。",
            "The rules are set by headquarters (admins and operators).",
        ),
        "msg.open" => ("查看", "Open"),
        "msg.back" => ("返回群发", "Back to mass messages"),
        "msg.empty" => ("还没有群发。", "No message yet."),
        // The composer.
        "msg.new_title" => ("新建群发", "New mass message"),
        "msg.store_only" => (
            "店长只能发给本店导购跟进的客户，由本店导购发送。",
            "As a store manager you send to your store's customers, through your store's guides.",
        ),
        "msg.content" => ("消息内容", "Content"),
        "msg.text" => ("文字", "Text"),
        "msg.text_help" => (
            "最多 4000 字，可换行；文字与附件至少填一项。",
            "At most 4,000 characters, line breaks allowed; a text, attachments, or both.",
        ),
        "msg.attachments" => ("附件", "Attachments"),
        "msg.attachments_help" => (
            "最多 {n} 个附件；未填写的行会被忽略。",
            "At most {n} attachments; empty rows are ignored.",
        ),
        "msg.link" => ("链接卡片", "Link card"),
        "msg.link_title" => ("标题", "Title"),
        "msg.link_url" => ("链接地址", "Link URL"),
        "msg.link_desc" => ("描述（可选）", "Description (optional)"),
        "msg.link_picurl" => ("封面图片地址（可选）", "Cover image URL (optional)"),
        "msg.image" => ("图片", "Image"),
        "msg.image_url" => ("图片地址", "Image URL"),
        "msg.image_help" => (
            "填写企业微信上传图片接口返回的永久图片地址。",
            "The permanent image URL WeCom's image upload returns.",
        ),
        "msg.audience_help" => (
            "发送时按当时的客户确定受众：人群按其条件计算；标签须同时带有所选的全部标签；指定客户按客户 ID。",
            "The audience is decided at the send time: a segment by its conditions; tags: customers with every tag chosen; listed customers by customer id.",
        ),
        "msg.segment_pick" => ("选择人群", "Choose a segment"),
        "msg.no_segments" => (
            "还没有保存的人群：请先在「人群」页面保存。",
            "No saved segment yet: save one on the segments page first.",
        ),
        "msg.no_tags" => ("还没有标签。", "No tag yet."),
        "msg.customer_ids" => ("客户 ID", "Customer ids"),
        "msg.customer_ids_help" => (
            "每行一个，或用逗号分隔；最多 10000 个。",
            "One a line or separated by commas; at most 10,000.",
        ),
        "msg.people" => ("{n} 人", "{n} customers"),
        "msg.holdout" => ("对照组比例（%）", "Holdout (%)"),
        "msg.holdout_help" => (
            "0–50：符合条件的客户中随机保留这一比例不发送，用于衡量群发效果。",
            "0–50: this share of the eligible customers is kept unsent, at random, to measure the message's effect.",
        ),
        "msg.when" => ("发送时间", "When"),
        "msg.when_now" => ("立即发送", "Now"),
        "msg.when_later" => ("定时发送（北京时间）", "At a time (Asia/Shanghai)"),
        "msg.preview" => ("预览触达", "Preview reach"),
        "msg.send" => ("发送", "Send"),
        "msg.send_help" => (
            "发送后每位导购会在企业微信收到群发任务，由导购确认发出。",
            "Once sent, each guide gets a mass-send task in WeCom and sends it by confirming it.",
        ),
        "msg.preview_title" => ("触达预览", "Reach preview"),
        "msg.preview_intro" => (
            "按当前的客户、导购与群发规则计算；实际发送时会重新计算。",
            "Computed from today's customers, guides and rules; worked out again when the message is sent.",
        ),
        "msg.preview.audience" => ("受众", "Audience"),
        "msg.preview.send" => ("将触达", "Would reach"),
        "msg.preview.holdout" => ("对照组", "Holdout"),
        "msg.preview.excluded" => ("不会触达", "Would not reach"),
        "msg.reason" => ("原因", "Reason"),
        "msg.customers" => ("客户数", "Customers"),
        "msg.guides" => ("发送导购（前 20 位）", "Sending guides (top 20)"),
        "msg.guide" => ("导购", "Guide"),
        "msg.recipients_n" => ("接收客户", "Recipients"),
        "msg.rules_applied" => ("适用规则", "Rules applied"),
        "msg.rules_line" => (
            "每日 {daily} 条 · 每周 {weekly} 条",
            "{daily} a day · {weekly} a week",
        ),
        // One message.
        "msg.created_at" => ("创建时间", "Created"),
        "msg.prepared_at" => ("确定受众", "Audience decided"),
        "msg.sent_at" => ("任务下发", "Tasks created"),
        "msg.tracked_at" => ("最近读取结果", "Results last read"),
        "msg.store" => ("门店", "Store"),
        "msg.segment_gone" => ("人群 #{id}（已删除）", "Segment #{id} (deleted)"),
        "msg.customers_n" => ("{n} 位指定客户", "{n} listed customers"),
        "msg.counts" => ("发送结果", "Results"),
        "msg.reasons" => ("未触达原因", "Why not reached"),
        "msg.no_reasons" => (
            "没有被排除或失败的客户。",
            "No customer excluded or failed.",
        ),
        "msg.tasks" => ("导购任务", "Guides' tasks"),
        "msg.task_state" => ("任务状态", "Task state"),
        "msg.confirmed_at" => ("导购确认时间", "Confirmed"),
        "msg.reminders" => ("24 小时内提醒", "Reminders (24 h)"),
        "msg.last_error" => ("最近错误", "Last error"),
        "msg.no_tasks" => (
            "还没有导购任务：到发送时间才生成。",
            "No task yet: they are made at the send time.",
        ),
        "msg.no_tasks_prepared" => (
            "没有导购任务：受众中没有可以发送的客户。",
            "No task: nobody in the audience could be sent to.",
        ),
        "msg.cancel" => ("取消", "Cancel"),
        "msg.cancel_help" => (
            "发送时间前可以取消；取消后不会发送。",
            "A message can be cancelled until its send time; it is not sent then.",
        ),
        "msg.remind" => ("提醒导购", "Remind guides"),
        "msg.refresh" => ("刷新结果", "Refresh results"),
        "msg.follow_up_help" => (
            "提醒尚未发送的导购（企业微信限每个任务 24 小时内提醒 3 次）；发送结果每 10 分钟自动读取一次，持续 3 天。",
            "Remind the guides who have not sent (WeCom allows 3 reminders per task in 24 hours); results are read every 10 minutes for 3 days.",
        ),
        "msg.recipients" => ("接收客户明细", "Recipients"),
        "msg.customer" => ("客户", "Customer"),
        "msg.delivered_at" => ("送达时间", "Delivered"),
        "msg.updated_at" => ("更新时间", "Updated"),
        "msg.first_page" => ("第一页", "First page"),
        "msg.done.created" => (
            "群发已创建：到发送时间后，导购会在企业微信收到群发任务。",
            "Message created: at its send time each guide gets a task in WeCom.",
        ),
        "msg.done.cancelled" => ("群发已取消", "Message cancelled"),
        "msg.done.refreshed" => ("已读取最新发送结果", "Results refreshed"),
        "msg.done.reminded" => (
            "已提醒 {n} 位导购；{limit} 位今天的提醒次数已用完",
            "{n} guides reminded; {limit} at today's limit",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::console::layout::form_pairs as pairs;

    #[test]
    fn the_composer_reads_its_fields() {
        let f = ComposeForm::from_pairs(&pairs(&[
            ("csrf", "x"),
            ("name", "周末上新"),
            ("text", "第一行\r\n第二行"),
            ("link_title", "新品"),
            ("link_url", "https://shop.example.com/new"),
            ("link_desc", ""),
            ("link_picurl", ""),
            ("link_title", ""),
            ("link_url", ""),
            ("link_desc", ""),
            ("link_picurl", ""),
            ("image_url", ""),
            ("audience", "customers"),
            ("customer_ids", "3\r\n1，2, 3"),
            ("holdout", "12.5"),
            ("when", "now"),
        ]));
        let input = f.parse().unwrap();
        assert_eq!(input.content.text, "第一行\n第二行");
        assert_eq!(input.content.attachments.len(), 1);
        assert_eq!(
            input.audience,
            Audience::Customers {
                customer_ids: vec![1, 2, 3]
            }
        );
        assert_eq!(input.holdout_bp, 1250);
        assert_eq!(input.send_at, None);
        assert_eq!(f.links.len(), LINK_ROWS, "rows are offered again");
        assert_eq!(f.images.len(), IMAGE_ROWS);
    }

    #[test]
    fn bad_numbers_name_their_field() {
        let field = |f: &ComposeForm| match f.parse() {
            Err(AppError::Invalid(e)) => e.field.to_owned(),
            other => panic!("{other:?}"),
        };
        let base = ComposeForm {
            name: "n".into(),
            text: "t".into(),
            audience: "tags".into(),
            tag_ids: vec!["2".into()],
            ..ComposeForm::default()
        };
        assert!(base.parse().is_ok());
        for h in ["abc", "51", "-1", "1.234", "1e3", "99999999999999999999"] {
            let f = ComposeForm {
                holdout: h.into(),
                ..base.clone()
            };
            assert_eq!(field(&f), "holdout_bp", "{h}");
        }
        let f = ComposeForm {
            tag_ids: vec!["x".into()],
            ..base.clone()
        };
        assert_eq!(field(&f), "tag_ids");
        let f = ComposeForm {
            audience: "customers".into(),
            customer_ids: "1\n2x".into(),
            ..base.clone()
        };
        assert_eq!(field(&f), "customer_ids");
        let f = ComposeForm {
            audience: "segment".into(),
            ..base.clone()
        };
        assert_eq!(field(&f), "segment_id");
        let f = ComposeForm {
            audience: "everyone".into(),
            ..base.clone()
        };
        assert_eq!(field(&f), "audience");
        let f = ComposeForm {
            when: "later".into(),
            send_at: "明天".into(),
            ..base.clone()
        };
        assert_eq!(field(&f), "send_at");
        let f = ComposeForm {
            when: "later".into(),
            send_at: "2030-01-02T09:30".into(),
            ..base.clone()
        };
        // 09:30 in Shanghai is 01:30 UTC.
        assert_eq!(
            f.parse().unwrap().send_at.map(|m| Millis(m).to_rfc3339()),
            Some("2030-01-02T01:30:00.000Z".into())
        );
        let f = ComposeForm {
            text: String::new(),
            ..base.clone()
        };
        assert_eq!(field(&f), "text");
        let f = ComposeForm {
            name: "a\u{7f}b".into(),
            ..base
        };
        assert_eq!(field(&f), "name");
    }

    #[test]
    fn the_rules_form_refuses_zero_and_words() {
        let f = RulesForm {
            daily_cap: "0".into(),
            weekly_cap: "3".into(),
            receipt_rule: "month_days".into(),
            opt_out_tag_id: String::new(),
        };
        match f.parse() {
            Err(AppError::Invalid(e)) => {
                assert_eq!((e.field, e.code), ("daily_cap", "invalid_cap"))
            }
            other => panic!("{other:?}"),
        }
        let f = RulesForm {
            daily_cap: "2".into(),
            weekly_cap: "many".into(),
            ..f
        };
        assert!(matches!(f.parse(), Err(AppError::Invalid(e)) if e.field == "weekly_cap"));
        let f = RulesForm {
            weekly_cap: "5".into(),
            opt_out_tag_id: "7".into(),
            ..f
        };
        let (caps, tag) = f.parse().unwrap();
        assert_eq!((caps.daily, caps.weekly, tag), (2, 5, Some(7)));
    }

    #[test]
    fn holdouts_read_as_percentages() {
        assert_eq!(percent(0), "0%");
        assert_eq!(percent(1000), "10%");
        assert_eq!(percent(1250), "12.5%");
        assert_eq!(percent(1205), "12.05%");
    }

    #[test]
    fn every_code_has_both_languages() {
        let mut keys: Vec<String> = Exclusion::ALL
            .iter()
            .chain(Exclusion::GROUP.iter())
            .map(|e| format!("msg.reason.{}", e.as_str()))
            .collect();
        for r in ["wecom_refused", "not_friend", "wecom_error"] {
            keys.push(format!("msg.reason.{r}"));
        }
        for st in RECIPIENT_STATES {
            keys.push(format!("msg.recipient.{st}"));
        }
        for st in ["pending", "sending", "created", "confirmed", "failed"] {
            keys.push(format!("msg.task.{st}"));
        }
        for r in ReceiptRule::ALL {
            keys.push(format!("msg.receipt_rule.{}", r.as_str()));
        }
        for st in ["scheduled", "sending", "sent", "cancelled"] {
            keys.push(format!("msg.status.{st}"));
        }
        for k in ["segment", "tags", "customers", "groups", "all_groups"] {
            keys.push(format!("msg.audience.{k}"));
        }
        for k in keys {
            let (zh, en) = text(&k).unwrap_or_else(|| panic!("{k}"));
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }
}
