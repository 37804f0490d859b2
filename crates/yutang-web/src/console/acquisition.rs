//! Console pages for acquisition (引流, issue #19): channels (渠道) and their live codes
//! (渠道活码). Thin handlers over `app.acquisition()`: the list, a channel's page with its
//! codes, a code's page with its QR, its store-stand poster, today's adds and the change log
//! (each guide left out with its reason in the reader's language), and the create/edit forms,
//! which post back with the refused field named next to its input. The QR image and the
//! poster are served from Yutang (`/console/live-codes/{id}/qr.png`, `…/poster.png`), so the
//! pages keep the console's policy of images from Yutang only.
//!
//! The forms repeat inputs (tags, guide rows, link rows), so they are read as pairs. A guide
//! or link row's inputs carry the row's index (`guide_cap_2`), so a refusal names the row.

use std::collections::{BTreeMap, HashMap, HashSet};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::acquisition::channels::ChannelView;
use yutang_app::acquisition::live_codes::{CodeChange, LiveCodeView};
use yutang_app::audit::Page;
use yutang_app::org::StoreQuery;
use yutang_app::staff::StaffQuery;
use yutang_core::acquisition::live_codes::{MAX_DAILY_CAP, MAX_GUIDES, MAX_WEIGHT};
use yutang_core::acquisition::poster::{
    MAX_BRAND_CHARS, MAX_CAPTION_CHARS, MAX_SUBTITLE_CHARS, MAX_TITLE_CHARS,
};
use yutang_core::acquisition::welcome::MAX_ATTACHMENTS;
use yutang_core::acquisition::{
    ChannelKind, ChannelSpec, CodeKind, GuideSlot, LiveCodeSpec, PosterText, Schedule, Spread,
    Welcome, WelcomeAttachment,
};
use yutang_core::ids::StaffId;
use yutang_core::staff::{Permission, StaffStatus};

use super::confirm::{Confirm, confirm_page, grouped};
use super::layout::{ConsoleForm, ConsoleQuery, CsrfForm, FormError, error_page, see_other};
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

use crate::files::{Disposition, file};

/// A refusal found while reading a form: the input it is about and the error code.
#[derive(Debug)]
struct Bad {
    field: String,
    code: &'static str,
}

fn bad(field: impl Into<String>, code: &'static str) -> Bad {
    Bad {
        field: field.into(),
        code,
    }
}

impl Bad {
    fn form_error(self, tr: Tr) -> FormError {
        FormError {
            message: tr.error(self.code),
            field: self.field,
        }
    }
}

fn opt_id(field: &str, s: &str) -> Result<Option<i64>, Bad> {
    match s.trim() {
        "" => Ok(None),
        v => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad(field, "invalid_id")),
    }
}

fn date(field: &str, s: &str) -> Result<Option<NaiveDate>, Bad> {
    match s.trim() {
        "" => Ok(None),
        v => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad(field, "invalid_date")),
    }
}

fn time(field: &str, s: &str) -> Result<Option<NaiveTime>, Bad> {
    match s.trim() {
        "" => Ok(None),
        v => NaiveTime::parse_from_str(v, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(v, "%H:%M:%S"))
            .map(Some)
            .map_err(|_| bad(field, "invalid_time")),
    }
}

/// A row's index from an input name (`guide_cap_3` with `guide_cap_` → 3), below `max`.
fn row_of(key: &str, prefix: &str, max: usize) -> Option<usize> {
    key.strip_prefix(prefix)
        .and_then(|i| i.parse::<usize>().ok())
        .filter(|i| *i < max)
}

/// Rows by index as a list, a row never typed in (a gap) blank.
fn dense<R: Default>(mut rows: BTreeMap<usize, R>) -> Vec<R> {
    let n = rows.keys().next_back().map_or(0, |i| i + 1);
    (0..n)
        .map(|i| rows.remove(&i).unwrap_or_default())
        .collect()
}

/// The refusal's message when it is about `field`.
pub(super) fn err_for(error: &Option<FormError>, field: &str) -> Option<&'static str> {
    error
        .as_ref()
        .filter(|e| e.field == field)
        .map(|e| e.message)
}

/// The banner over a refused form: the field's label (`key`) and why; a refusal about no
/// field of the form is its message alone.
pub(super) fn check_field(tr: Tr, e: &FormError, key: Option<&str>) -> String {
    match key {
        Some(key) => tr.fill(
            "forms.check_field",
            &[("field", tr.t(key)), ("message", e.message)],
        ),
        None => e.message.to_owned(),
    }
}

/// An id → name map of the staff members named, each looked up within the caller's scope;
/// one the caller may not see (or gone) reads `员工 #id`.
async fn staff_names(
    s: &AppState,
    c: &Console,
    ids: impl IntoIterator<Item = i64>,
) -> HashMap<i64, String> {
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        let name = match s.app.staff().get_staff(&c.session.actor, StaffId(id)).await {
            Ok(row) => row.display_name,
            Err(_) => c.ctx.tr.fill("acq.staff_n", &[("id", &id.to_string())]),
        };
        out.insert(id, name);
    }
    out
}

fn name_of(names: &HashMap<i64, String>, id: i64) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
}

/// A choice in a select: the value and its label.
pub struct Choice {
    pub id: i64,
    pub label: String,
}

pub(super) async fn store_choices(s: &AppState, c: &Console) -> Vec<Choice> {
    s.app
        .org()
        .list_stores(
            &c.session.actor,
            &StoreQuery {
                page: Page {
                    number: 1,
                    size: 200,
                },
                ..Default::default()
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .map(|r| Choice {
            id: r.id,
            label: r.name,
        })
        .collect()
}

async fn region_choices(s: &AppState, c: &Console) -> Vec<Choice> {
    s.app
        .org()
        .list_regions(&c.session.actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| Choice {
            id: r.id,
            label: r.name,
        })
        .collect()
}

/// Active staff members; `wecom_only`: only those linked to a WeCom userid (who can stand
/// behind a code). Labelled with their store.
async fn staff_choices(s: &AppState, c: &Console, wecom_only: bool) -> Vec<Choice> {
    let rows = s
        .app
        .staff()
        .list_staff(
            &c.session.actor,
            &StaffQuery {
                status: Some(StaffStatus::Active),
                page: Page {
                    number: 1,
                    size: 1000,
                },
                ..Default::default()
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let tr = c.ctx.tr;
    rows.into_iter()
        .filter(|r| !wecom_only || r.wecom_userid.as_deref().is_some_and(|u| !u.is_empty()))
        .map(|r| {
            let place = r
                .store_name
                .clone()
                .unwrap_or_else(|| tr.t("acq.hq").to_owned());
            Choice {
                id: r.id,
                label: format!("{}（{place}）", r.display_name),
            }
        })
        .collect()
}

/// Make sure every id chosen on the form is one of the choices (a guide unlinked since, a
/// staff member outside the list): it stays chosen under its name.
async fn keep_chosen(s: &AppState, c: &Console, choices: &mut Vec<Choice>, chosen: &[i64]) {
    let missing: Vec<i64> = chosen
        .iter()
        .copied()
        .filter(|id| !choices.iter().any(|ch| ch.id == *id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let names = staff_names(s, c, missing.iter().copied()).await;
    for id in missing {
        choices.push(Choice {
            id,
            label: name_of(&names, id),
        });
    }
}

fn kind_label(tr: Tr, kind: ChannelKind) -> &'static str {
    tr.t(&format!("acq.kind.{}", kind.as_str()))
}

/// `2026-05-01 – 2026-05-31`, `2026-05-01 起`, `至 2026-05-31` or 长期.
fn dates_text(tr: Tr, spec: &ChannelSpec) -> String {
    match (spec.starts_on, spec.ends_on) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        (Some(a), None) => tr.fill("acq.from_day", &[("day", &a.to_string())]),
        (None, Some(b)) => tr.fill("acq.until_day", &[("day", &b.to_string())]),
        (None, None) => tr.t("acq.open_dates").to_owned(),
    }
}

pub(super) fn sync_label(tr: Tr, status: &str) -> &'static str {
    match status {
        "synced" => tr.t("acq.sync.synced"),
        "failed" => tr.t("acq.sync.failed"),
        _ => tr.t("acq.sync.pending"),
    }
}

pub(super) fn can_manage(c: &Console) -> bool {
    c.session.actor.can(Permission::ManagePromotions)
}

// ---------------------------------------------------------------- channel list

#[derive(Template)]
#[template(path = "console/channels.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<ChannelLine>,
    archived: bool,
    can_manage: bool,
    /// The acquisition-link quota (shown once read or tried).
    quota: Option<yutang_app::acquisition::quota::LinkQuota>,
}

/// One channel as the list and the channel page show it.
pub struct ChannelLine {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub store: String,
    pub dates: String,
    pub v: ChannelView,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    archived: Option<String>,
    /// `quota=refresh` reads the acquisition-link quota from WeCom now.
    quota: Option<String>,
}

async fn channel_lines(s: &AppState, c: &Console, views: Vec<ChannelView>) -> Vec<ChannelLine> {
    let tr = c.ctx.tr;
    let stores: HashMap<i64, String> = store_choices(s, c)
        .await
        .into_iter()
        .map(|ch| (ch.id, ch.label))
        .collect();
    let regions: HashMap<i64, String> = region_choices(s, c)
        .await
        .into_iter()
        .map(|ch| (ch.id, ch.label))
        .collect();
    views
        .into_iter()
        .map(|v| {
            let store = match (v.spec.store_id, v.spec.region_id) {
                (Some(id), _) => stores
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| tr.fill("acq.store_n", &[("id", &id.to_string())])),
                (None, Some(id)) => regions
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| tr.fill("acq.region_n", &[("id", &id.to_string())])),
                (None, None) => tr.t("acq.brand_wide").to_owned(),
            };
            ChannelLine {
                id: v.id,
                name: v.spec.name.clone(),
                kind: kind_label(tr, v.spec.kind),
                dates: dates_text(tr, &v.spec),
                store,
                v,
            }
        })
        .collect()
}

/// `/console/channels`: the channels the caller sees (`?archived=1`: the archived ones),
/// with each one's totals.
pub async fn list(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<ListQuery>,
) -> Response {
    c.ctx.active = "channels";
    let archived = matches!(q.archived.as_deref(), Some("1" | "true"));
    let views = match s
        .app
        .acquisition()
        .channels(&c.session.actor, archived)
        .await
    {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let rows = channel_lines(&s, &c, views).await;
    let can_manage = can_manage(&c);
    let refresh = q.quota.as_deref() == Some("refresh");
    let quota = s
        .app
        .acquisition()
        .link_quota(&c.session.actor, refresh)
        .await
        .ok()
        .filter(|q| q.known || q.tried_at.is_some());
    render(
        StatusCode::OK,
        &ListPage {
            ctx: c.ctx,
            rows,
            archived,
            can_manage,
            quota,
        },
    )
}

// ---------------------------------------------------------------- channel page

#[derive(Template)]
#[template(path = "console/channel_view.html")]
struct ChannelPage {
    ctx: Ctx,
    ch: ChannelLine,
    owner: String,
    tags: Vec<String>,
    /// The welcome's attachments as readable lines (`链接：新人礼`).
    attachments: Vec<String>,
    reward: String,
    codes: Vec<CodeLine>,
    can_manage: bool,
}

/// One code in the channel page's table.
pub struct CodeLine {
    pub id: i64,
    pub name: String,
    pub state: String,
    /// A link's URL to publish (`''` for a contact way, whose `qr_url` is WeCom's image).
    pub link_url: String,
    /// Yutang keeps the code's QR image (`…/qr.png` answers).
    pub qr_stored: bool,
    /// Why it is not stored yet (the last download's failure).
    pub qr_error: String,
    pub current: String,
    /// `张伟 3/200` per guide.
    pub adds: Vec<String>,
    pub sync_status: String,
    pub sync_label: &'static str,
    pub sync_error: String,
    pub archived: bool,
}

fn attachment_line(tr: Tr, a: &WelcomeAttachment) -> String {
    let (kind, what) = match a {
        WelcomeAttachment::Image { media_id, pic_url } => (
            "image",
            pic_url
                .clone()
                .or_else(|| media_id.clone())
                .unwrap_or_default(),
        ),
        WelcomeAttachment::Link { title, url, .. } => (
            "link",
            tr.fill("acq.link_line", &[("title", title), ("url", url)]),
        ),
        WelcomeAttachment::Miniprogram { title, .. } => ("miniprogram", title.clone()),
        WelcomeAttachment::Video { media_id } => ("video", media_id.clone()),
        WelcomeAttachment::File { media_id } => ("file", media_id.clone()),
    };
    tr.fill(
        "acq.labelled",
        &[
            ("label", tr.t(&format!("acq.attachment.{kind}"))),
            ("text", &what),
        ],
    )
}

fn code_line(tr: Tr, names: &HashMap<i64, String>, v: LiveCodeView) -> CodeLine {
    let adds_of: HashMap<i64, i64> = v.adds_today.iter().map(|a| (a.staff_id, a.adds)).collect();
    CodeLine {
        id: v.id,
        name: v.spec.name.clone(),
        current: v
            .current_staff_ids
            .iter()
            .map(|id| name_of(names, *id))
            .collect::<Vec<_>>()
            .join("、"),
        adds: v
            .spec
            .guides
            .iter()
            .map(|g| {
                format!(
                    "{} {}/{}",
                    name_of(names, g.staff_id),
                    adds_of.get(&g.staff_id).copied().unwrap_or(0),
                    g.daily_cap
                )
            })
            .collect(),
        sync_label: sync_label(tr, &v.sync_status),
        sync_status: v.sync_status,
        sync_error: v.sync_error,
        state: v.state,
        link_url: if v.spec.kind == CodeKind::Link {
            v.qr_url
        } else {
            String::new()
        },
        qr_stored: v.qr_image.is_some(),
        qr_error: v.qr_image_error,
        archived: v.archived,
    }
}

/// The staff ids a code names (guides, backup, who is behind it now, today's adds).
fn code_staff(v: &LiveCodeView) -> Vec<i64> {
    v.spec
        .guides
        .iter()
        .map(|g| g.staff_id)
        .chain(v.spec.backup_staff_id)
        .chain(v.current_staff_ids.iter().copied())
        .chain(v.adds_today.iter().map(|a| a.staff_id))
        .collect()
}

/// `/console/channels/{id}`: what the channel does, its totals and its live codes.
pub async fn view(State(s): State<AppState>, IdPath(id): IdPath, mut c: Console) -> Response {
    c.ctx.active = "channels";
    let a = &c.session.actor;
    let acq = s.app.acquisition();
    let v = match acq.channel(a, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let mut codes = match acq.live_codes(a, Some(id), false).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    codes.extend(acq.live_codes(a, Some(id), true).await.unwrap_or_default());
    let tr = c.ctx.tr;
    let names = staff_names(
        &s,
        &c,
        codes
            .iter()
            .flat_map(code_staff)
            .chain(v.spec.owner_staff_id)
            .collect::<Vec<_>>(),
    )
    .await;
    let owner = v
        .spec
        .owner_staff_id
        .map(|o| name_of(&names, o))
        .unwrap_or_else(|| tr.t("common.none").to_owned());
    let tag_names: HashMap<i64, String> = s
        .app
        .tags()
        .tag_catalogue(a)
        .await
        .unwrap_or_default()
        .into_iter()
        .flat_map(|g| g.tags)
        .map(|t| (t.tag.id, format!("{}/{}", t.tag.group_name, t.tag.name)))
        .collect();
    let tags = v
        .spec
        .tag_ids
        .iter()
        .map(|t| {
            tag_names
                .get(t)
                .cloned()
                .unwrap_or_else(|| tr.fill("acq.tag_n", &[("id", &t.to_string())]))
        })
        .collect();
    let attachments = v
        .spec
        .welcome
        .iter()
        .flat_map(|w| w.attachments.iter())
        .map(|a| attachment_line(tr, a))
        .collect();
    let reward = match v.spec.reward_template_id {
        None => tr.t("common.none").to_owned(),
        Some(t) => match s.app.coupons().coupon_template(a, t).await {
            Ok(t) => t.row.name,
            Err(_) => tr.fill("acq.coupon_n", &[("id", &t.to_string())]),
        },
    };
    let codes = codes
        .into_iter()
        .map(|v| code_line(tr, &names, v))
        .collect();
    let can_manage = can_manage(&c);
    let ch = channel_lines(&s, &c, vec![v]).await.remove(0);
    render(
        StatusCode::OK,
        &ChannelPage {
            ctx: c.ctx,
            ch,
            owner,
            tags,
            attachments,
            reward,
            codes,
            can_manage,
        },
    )
}

impl ChannelPage {
    fn welcome_text(&self) -> &str {
        self.ch
            .v
            .spec
            .welcome
            .as_ref()
            .map_or("", |w| w.text.as_str())
    }
}

// ---------------------------------------------------------------- channel form

/// One link attachment row of the channel form.
#[derive(Debug, Clone, Default)]
pub struct LinkRow {
    pub title: String,
    pub url: String,
}

/// The channel form as typed, so a refused form comes back filled in.
#[derive(Debug, Clone, Default)]
pub struct ChannelForm {
    name: String,
    kind: String,
    owner_staff_id: String,
    store_id: String,
    region_id: String,
    starts_on: String,
    ends_on: String,
    tag_ids: Vec<String>,
    welcome_text: String,
    links: Vec<LinkRow>,
    reward_template_id: String,
}

impl ChannelForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = Self::default();
        let mut links: BTreeMap<usize, LinkRow> = BTreeMap::new();
        for (k, v) in pairs {
            let v = v.clone();
            match k.as_str() {
                "name" => f.name = v,
                "kind" => f.kind = v,
                "owner_staff_id" => f.owner_staff_id = v,
                "store_id" => f.store_id = v,
                "region_id" => f.region_id = v,
                "starts_on" => f.starts_on = v,
                "ends_on" => f.ends_on = v,
                "tag_ids" => f.tag_ids.push(v),
                "welcome_text" => f.welcome_text = v,
                "reward_template_id" => f.reward_template_id = v,
                k => {
                    if let Some(i) = row_of(k, "link_title_", MAX_ATTACHMENTS) {
                        links.entry(i).or_default().title = v;
                    } else if let Some(i) = row_of(k, "link_url_", MAX_ATTACHMENTS) {
                        links.entry(i).or_default().url = v;
                    }
                }
            }
        }
        f.links = dense(links);
        f
    }

    fn from_spec(spec: &ChannelSpec) -> Self {
        let id = |v: Option<i64>| v.map(|i| i.to_string()).unwrap_or_default();
        let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let (text, links) = match &spec.welcome {
            Some(w) => (
                w.text.clone(),
                w.attachments
                    .iter()
                    .filter_map(|a| match a {
                        WelcomeAttachment::Link { title, url, .. } => Some(LinkRow {
                            title: title.clone(),
                            url: url.clone(),
                        }),
                        _ => None,
                    })
                    .collect(),
            ),
            None => (String::new(), Vec::new()),
        };
        ChannelForm {
            name: spec.name.clone(),
            kind: spec.kind.as_str().to_owned(),
            owner_staff_id: id(spec.owner_staff_id),
            store_id: id(spec.store_id),
            region_id: id(spec.region_id),
            starts_on: day(spec.starts_on),
            ends_on: day(spec.ends_on),
            tag_ids: spec.tag_ids.iter().map(i64::to_string).collect(),
            welcome_text: text,
            links,
            reward_template_id: id(spec.reward_template_id),
        }
    }

    /// Blank link rows to type new links in: two more than filled, at least three, within
    /// the 9 attachments WeCom allows beside the `others` kept.
    fn pad_links(&mut self, others: usize) {
        let room = MAX_ATTACHMENTS.saturating_sub(others);
        let want = (self.links.len() + 2).max(3).min(room);
        while self.links.len() < want {
            self.links.push(LinkRow::default());
        }
    }

    /// The spec the form describes. `original` is the channel's attachments before the edit:
    /// link row `i` replaces the channel's `i`-th link (keeping its picture and description,
    /// which the form does not show; a cleared row drops it), and the attachments the form
    /// does not edit (images, mini-programs, videos, files) stay where they were.
    fn spec(&self, original: &[WelcomeAttachment]) -> Result<ChannelSpec, Bad> {
        let kind = ChannelKind::parse("kind", &self.kind).map_err(|e| bad("kind", e.code))?;
        let old_links: Vec<&WelcomeAttachment> = original
            .iter()
            .filter(|a| matches!(a, WelcomeAttachment::Link { .. }))
            .collect();
        let mut rows: Vec<Option<WelcomeAttachment>> = Vec::new();
        for (i, row) in self.links.iter().enumerate() {
            let (title, url) = (row.title.trim(), row.url.trim());
            if title.is_empty() && url.is_empty() {
                rows.push(None);
                continue;
            }
            if title.is_empty() {
                return Err(bad(format!("link_title_{i}"), "required"));
            }
            if url.is_empty() {
                return Err(bad(format!("link_url_{i}"), "required"));
            }
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(bad(format!("link_url_{i}"), "invalid_url"));
            }
            let (picurl, desc) = match old_links.get(i) {
                Some(WelcomeAttachment::Link { picurl, desc, .. }) => {
                    (picurl.clone(), desc.clone())
                }
                _ => (None, None),
            };
            rows.push(Some(WelcomeAttachment::Link {
                title: title.to_owned(),
                url: url.to_owned(),
                picurl,
                desc,
            }));
        }
        let mut rows = rows.into_iter();
        let mut attachments = Vec::new();
        for a in original {
            match a {
                WelcomeAttachment::Link { .. } => {
                    if let Some(Some(l)) = rows.next() {
                        attachments.push(l);
                    }
                }
                other => attachments.push(other.clone()),
            }
        }
        attachments.extend(rows.flatten());
        let text = self.welcome_text.replace("\r\n", "\n");
        let welcome = (!text.trim().is_empty() || !attachments.is_empty())
            .then_some(Welcome { text, attachments });
        let tag_ids = self
            .tag_ids
            .iter()
            .map(|t| {
                t.trim()
                    .parse::<i64>()
                    .map_err(|_| bad("tag_ids", "invalid_id"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ChannelSpec {
            name: self.name.clone(),
            kind,
            owner_staff_id: opt_id("owner_staff_id", &self.owner_staff_id)?,
            store_id: opt_id("store_id", &self.store_id)?,
            region_id: opt_id("region_id", &self.region_id)?,
            starts_on: date("starts_on", &self.starts_on)?,
            ends_on: date("ends_on", &self.ends_on)?,
            tag_ids,
            welcome,
            reward_template_id: opt_id("reward_template_id", &self.reward_template_id)?,
        })
    }

    fn has_tag(&self, id: impl std::fmt::Display) -> bool {
        let id = id.to_string();
        self.tag_ids.iter().any(|t| t.trim() == id)
    }
}

/// A typed text, or `None` when blank.
fn filled(s: &str) -> Option<String> {
    Some(s.to_owned()).filter(|s| !s.trim().is_empty())
}

/// The form's input for a field the domain names.
fn channel_input(field: &str) -> &str {
    match field {
        "welcome.text" => "welcome_text",
        "welcome.attachments" | "welcome" => "links",
        other => other,
    }
}

#[derive(Template)]
#[template(path = "console/channel_form.html")]
struct ChannelFormPage {
    ctx: Ctx,
    id: Option<i64>,
    f: ChannelForm,
    error: Option<FormError>,
    kinds: Vec<(&'static str, &'static str)>,
    staff: Vec<Choice>,
    stores: Vec<Choice>,
    regions: Vec<Choice>,
    /// Tag groups with their tags (id, name).
    tag_groups: Vec<(String, Vec<Choice>)>,
    coupons: Vec<Choice>,
    /// The attachments the form keeps without showing them for editing, as readable lines.
    others: Vec<String>,
}

impl ChannelFormPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        err_for(&self.error, field)
    }

    fn link_err(&self, what: &str, i: impl std::fmt::Display) -> Option<&'static str> {
        self.err(&format!("link_{what}_{i}"))
    }

    /// The banner over the form: which field to look at, and why.
    fn summary(&self, e: &FormError) -> String {
        let key = match e.field.as_str() {
            "name" => Some("acq.name"),
            "kind" => Some("acq.kind"),
            "owner_staff_id" => Some("acq.owner"),
            "store_id" => Some("acq.store"),
            "region_id" => Some("acq.region"),
            "starts_on" => Some("acq.starts_on"),
            "ends_on" => Some("acq.ends_on"),
            "tag_ids" => Some("acq.tags"),
            "welcome_text" => Some("acq.welcome_text"),
            "reward_template_id" => Some("acq.reward"),
            f if f == "links" || f.starts_with("link_") => Some("acq.links"),
            _ => None,
        };
        check_field(self.ctx.tr, e, key)
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/console/channels/{id}/edit"),
            None => "/console/channels".into(),
        }
    }
}

async fn channel_form_page(
    s: &AppState,
    c: Console,
    id: Option<i64>,
    mut f: ChannelForm,
    original: &[WelcomeAttachment],
    status: StatusCode,
    error: Option<FormError>,
) -> Response {
    let tr = c.ctx.tr;
    let a = &c.session.actor;
    let mut staff = staff_choices(s, &c, false).await;
    if let Ok(Some(owner)) = opt_id("owner_staff_id", &f.owner_staff_id) {
        keep_chosen(s, &c, &mut staff, &[owner]).await;
    }
    let tag_groups = s
        .app
        .tags()
        .tag_catalogue(a)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|g| !g.tags.is_empty())
        .map(|g| {
            (
                g.group.name,
                g.tags
                    .into_iter()
                    .map(|t| Choice {
                        id: t.tag.id,
                        label: t.tag.name,
                    })
                    .collect(),
            )
        })
        .collect();
    let chosen_coupon = opt_id("reward_template_id", &f.reward_template_id)
        .ok()
        .flatten();
    let coupons = s
        .app
        .coupons()
        .coupon_templates(a)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.row.status == "active" || Some(t.row.id) == chosen_coupon)
        .map(|t| Choice {
            id: t.row.id,
            label: t.row.name,
        })
        .collect();
    let others: Vec<String> = original
        .iter()
        .filter(|a| !matches!(a, WelcomeAttachment::Link { .. }))
        .map(|a| attachment_line(tr, a))
        .collect();
    f.pad_links(others.len());
    let kinds = ChannelKind::ALL
        .into_iter()
        .map(|k| (k.as_str(), kind_label(tr, k)))
        .collect();
    let page = ChannelFormPage {
        stores: store_choices(s, &c).await,
        regions: region_choices(s, &c).await,
        ctx: {
            let mut ctx = c.ctx;
            ctx.active = "channels";
            ctx
        },
        id,
        f,
        error,
        kinds,
        staff,
        tag_groups,
        coupons,
        others,
    };
    render(status, &page)
}

/// 新建渠道.
pub async fn channel_new(State(s): State<AppState>, c: Console) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let f = ChannelForm {
        kind: ChannelKind::StoreStand.as_str().into(),
        ..Default::default()
    };
    channel_form_page(&s, c, None, f, &[], StatusCode::OK, None).await
}

/// A channel's edit form.
pub async fn channel_edit(State(s): State<AppState>, IdPath(id): IdPath, c: Console) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let v = match s.app.acquisition().channel(&c.session.actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let original = v
        .spec
        .welcome
        .as_ref()
        .map(|w| w.attachments.clone())
        .unwrap_or_default();
    let f = ChannelForm::from_spec(&v.spec);
    channel_form_page(&s, c, Some(id), f, &original, StatusCode::OK, None).await
}

async fn channel_submit(
    s: AppState,
    c: Console,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> Response {
    let f = ChannelForm::from_pairs(&pairs);
    let tr = c.ctx.tr;
    let acq = s.app.acquisition();
    let original = match id {
        None => Vec::new(),
        Some(id) => match acq.channel(&c.session.actor, id).await {
            Ok(v) => v.spec.welcome.map(|w| w.attachments).unwrap_or_default(),
            Err(e) => return error_page(c.ctx, e),
        },
    };
    let spec = match f.spec(&original) {
        Ok(spec) => spec,
        Err(b) => {
            let err = b.form_error(tr);
            return channel_form_page(
                &s,
                c,
                id,
                f,
                &original,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(err),
            )
            .await;
        }
    };
    let a = &c.session.actor;
    let saved = match id {
        None => acq.create_channel(a, spec).await,
        Some(id) => acq.update_channel(a, id, spec).await,
    };
    match saved {
        Ok(v) if id.is_none() => see_other(&format!("/console/channels/{}?ok=created", v.id)),
        Ok(v) => see_other(&format!("/console/channels/{}?ok=saved", v.id)),
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, mut err) = super::layout::form_error(tr, e);
            err.field = channel_input(&err.field).to_owned();
            channel_form_page(&s, c, id, f, &original, status, Some(err)).await
        }
    }
}

pub async fn channel_create(
    State(s): State<AppState>,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    channel_submit(s, c, None, pairs).await
}

pub async fn channel_update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    channel_submit(s, c, Some(id), pairs).await
}

/// Confirm archiving a channel: its codes go with it, its adds stay attributed.
pub async fn channel_archive_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let a = &c.session.actor;
    let v = match s.app.acquisition().channel(a, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let codes = s
        .app
        .acquisition()
        .live_codes(a, Some(id), false)
        .await
        .map(|v| v.len())
        .unwrap_or(0);
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("acq.confirm_channel", &[("name", &v.spec.name)]),
        impact: vec![
            tr.fill("acq.confirm_codes", &[("n", &codes.to_string())]),
            tr.fill("acq.confirm_adds", &[("n", &grouped(v.totals.adds))]),
        ],
        outcome: "archive",
        action: format!("/console/channels/{id}/archive"),
        back: "/console/channels",
    };
    confirm_page(c.ctx, "channels", confirm)
}

pub async fn channel_archive(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s
        .app
        .acquisition()
        .archive_channel(&c.session.actor, id)
        .await
    {
        Ok(_) => see_other("/console/channels?archived=1&ok=archived"),
        Err(e) => error_page(c.ctx, e),
    }
}

// ---------------------------------------------------------------- live code form

/// One guide row of the live-code form.
#[derive(Debug, Clone, Default)]
pub struct GuideRow {
    pub staff_id: String,
    pub cap: String,
    pub weight: String,
}

/// The live-code form as typed.
#[derive(Debug, Clone, Default)]
pub struct CodeForm {
    /// `contact_way` (a QR code) or `link` (an acquisition link).
    kind: String,
    name: String,
    state: String,
    skip_verify: bool,
    guides: Vec<GuideRow>,
    backup_staff_id: String,
    weekdays: Vec<String>,
    start: String,
    end: String,
    spread: String,
    poster_brand: String,
    poster_title: String,
    poster_subtitle: String,
    poster_caption: String,
}

impl CodeForm {
    fn fresh() -> Self {
        CodeForm {
            kind: "contact_way".into(),
            skip_verify: true,
            spread: Spread::Even.as_str().into(),
            ..Default::default()
        }
    }

    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = Self::default();
        let mut rows: BTreeMap<usize, GuideRow> = BTreeMap::new();
        for (k, v) in pairs {
            let v = v.clone();
            match k.as_str() {
                "name" => f.name = v,
                "kind" => f.kind = v,
                "state" => f.state = v,
                "skip_verify" => f.skip_verify = true,
                "backup_staff_id" => f.backup_staff_id = v,
                "weekdays" => f.weekdays.push(v),
                "start" => f.start = v,
                "end" => f.end = v,
                "spread" => f.spread = v,
                "poster_brand" => f.poster_brand = v,
                "poster_title" => f.poster_title = v,
                "poster_subtitle" => f.poster_subtitle = v,
                "poster_caption" => f.poster_caption = v,
                k => {
                    if let Some(i) = row_of(k, "guide_staff_", MAX_GUIDES) {
                        rows.entry(i).or_default().staff_id = v;
                    } else if let Some(i) = row_of(k, "guide_cap_", MAX_GUIDES) {
                        rows.entry(i).or_default().cap = v;
                    } else if let Some(i) = row_of(k, "guide_weight_", MAX_GUIDES) {
                        rows.entry(i).or_default().weight = v;
                    }
                }
            }
        }
        f.guides = dense(rows);
        f
    }

    fn from_spec(spec: &LiveCodeSpec) -> Self {
        let hm = |t: Option<NaiveTime>| t.map(|t| t.format("%H:%M").to_string());
        CodeForm {
            kind: match spec.kind {
                CodeKind::ContactWay => "contact_way",
                CodeKind::Link => "link",
            }
            .into(),
            name: spec.name.clone(),
            state: spec.state.clone().unwrap_or_default(),
            skip_verify: spec.skip_verify,
            guides: spec
                .guides
                .iter()
                .map(|g| GuideRow {
                    staff_id: g.staff_id.to_string(),
                    cap: g.daily_cap.to_string(),
                    weight: g.weight.to_string(),
                })
                .collect(),
            backup_staff_id: spec
                .backup_staff_id
                .map(|b| b.to_string())
                .unwrap_or_default(),
            weekdays: spec.schedule.weekdays.iter().map(u8::to_string).collect(),
            start: hm(spec.schedule.start).unwrap_or_default(),
            end: hm(spec.schedule.end).unwrap_or_default(),
            spread: spec.spread.as_str().into(),
            poster_brand: spec.poster.brand.clone().unwrap_or_default(),
            poster_title: spec.poster.title.clone().unwrap_or_default(),
            poster_subtitle: spec.poster.subtitle.clone().unwrap_or_default(),
            poster_caption: spec.poster.caption.clone().unwrap_or_default(),
        }
    }

    /// Blank rows to add guides in: two more than filled, at least three.
    fn pad_guides(&mut self) {
        let want = (self.guides.len() + 2).clamp(3, MAX_GUIDES);
        while self.guides.len() < want {
            self.guides.push(GuideRow {
                staff_id: String::new(),
                cap: "200".into(),
                weight: "1".into(),
            });
        }
    }

    /// The spec the form describes; a row without a staff member is left out.
    fn spec(&self, channel_id: i64) -> Result<LiveCodeSpec, Bad> {
        let mut guides = Vec::new();
        let mut seen = HashSet::new();
        for (i, row) in self.guides.iter().enumerate() {
            let Some(staff_id) = opt_id(&format!("guide_staff_{i}"), &row.staff_id)? else {
                continue;
            };
            if !seen.insert(staff_id) {
                return Err(bad(format!("guide_staff_{i}"), "duplicate_guide"));
            }
            let cap_field = format!("guide_cap_{i}");
            let daily_cap = row
                .cap
                .trim()
                .parse::<i64>()
                .map_err(|_| bad(cap_field.clone(), "invalid_number"))?;
            if !(1..=MAX_DAILY_CAP).contains(&daily_cap) {
                return Err(bad(cap_field, "invalid_count"));
            }
            let weight_field = format!("guide_weight_{i}");
            let weight = match row.weight.trim() {
                "" => 1,
                w => w
                    .parse::<i64>()
                    .map_err(|_| bad(weight_field.clone(), "invalid_number"))?,
            };
            if !(1..=MAX_WEIGHT).contains(&weight) {
                return Err(bad(weight_field, "invalid_count"));
            }
            guides.push(GuideSlot {
                staff_id,
                daily_cap,
                weight,
            });
        }
        if guides.is_empty() {
            return Err(bad("guides", "required"));
        }
        let weekdays = self
            .weekdays
            .iter()
            .map(|d| {
                d.trim()
                    .parse::<u8>()
                    .map_err(|_| bad("weekdays", "invalid_weekday"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let spread = Spread::parse("spread", &self.spread).map_err(|e| bad("spread", e.code))?;
        let kind = match self.kind.trim() {
            "" | "contact_way" => CodeKind::ContactWay,
            "link" => CodeKind::Link,
            _ => return Err(bad("kind", "invalid_code_kind")),
        };
        Ok(LiveCodeSpec {
            channel_id,
            name: self.name.clone(),
            kind,
            state: Some(self.state.trim().to_owned()).filter(|s| !s.is_empty()),
            skip_verify: self.skip_verify,
            guides,
            backup_staff_id: opt_id("backup_staff_id", &self.backup_staff_id)?,
            schedule: Schedule {
                weekdays,
                start: time("start", &self.start)?,
                end: time("end", &self.end)?,
            },
            spread,
            // A blank text takes the channel's default; the app checks the lengths.
            poster: PosterText {
                brand: filled(&self.poster_brand),
                title: filled(&self.poster_title),
                subtitle: filled(&self.poster_subtitle),
                caption: filled(&self.poster_caption),
            },
        })
    }

    fn chosen_staff(&self) -> Vec<i64> {
        self.guides
            .iter()
            .map(|g| g.staff_id.as_str())
            .chain([self.backup_staff_id.as_str()])
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    }

    fn works_on(&self, day: impl std::fmt::Display) -> bool {
        let day = day.to_string();
        self.weekdays.iter().any(|d| d.trim() == day)
    }
}

/// The form's input for a field the domain names (the rows' caps and weights are checked
/// here first, so the app's refusals about guides are about the guides as a whole).
fn code_input(field: &str) -> &str {
    match field {
        "schedule.weekdays" => "weekdays",
        "schedule.start" => "start",
        "schedule.end" => "end",
        "guides.daily_cap" | "guides.weight" | "guides" => "guides",
        "poster.brand" => "poster_brand",
        "poster.title" => "poster_title",
        "poster.subtitle" => "poster_subtitle",
        "poster.caption" => "poster_caption",
        other => other,
    }
}

#[derive(Template)]
#[template(path = "console/live_code_form.html")]
struct CodeFormPage {
    ctx: Ctx,
    channel_id: i64,
    channel_name: String,
    id: Option<i64>,
    f: CodeForm,
    error: Option<FormError>,
    guides: Vec<Choice>,
    weekdays: Vec<(u8, &'static str)>,
}

impl CodeFormPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        err_for(&self.error, field)
    }

    fn row_err(&self, what: &str, i: impl std::fmt::Display) -> Option<&'static str> {
        self.err(&format!("guide_{what}_{i}"))
    }

    /// The poster's inputs: name, label key, value, most characters.
    fn poster_fields(&self) -> [(&'static str, &'static str, &str, usize); 4] {
        [
            (
                "poster_brand",
                "acq.poster_brand",
                &self.f.poster_brand,
                MAX_BRAND_CHARS,
            ),
            (
                "poster_title",
                "acq.poster_title",
                &self.f.poster_title,
                MAX_TITLE_CHARS,
            ),
            (
                "poster_subtitle",
                "acq.poster_subtitle",
                &self.f.poster_subtitle,
                MAX_SUBTITLE_CHARS,
            ),
            (
                "poster_caption",
                "acq.poster_caption",
                &self.f.poster_caption,
                MAX_CAPTION_CHARS,
            ),
        ]
    }

    fn summary(&self, e: &FormError) -> String {
        let key = match e.field.as_str() {
            "name" => Some("acq.code_name"),
            "state" => Some("acq.state"),
            "backup_staff_id" => Some("acq.backup"),
            "weekdays" => Some("acq.weekdays"),
            "start" | "end" => Some("acq.hours"),
            "spread" => Some("acq.spread"),
            "poster_brand" => Some("acq.poster_brand"),
            "poster_title" => Some("acq.poster_title"),
            "poster_subtitle" => Some("acq.poster_subtitle"),
            "poster_caption" => Some("acq.poster_caption"),
            f if f == "guides" || f.starts_with("guide_") => Some("acq.guides"),
            _ => None,
        };
        check_field(self.ctx.tr, e, key)
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/console/live-codes/{id}/edit"),
            None => format!("/console/channels/{}/live-codes", self.channel_id),
        }
    }

    fn back(&self) -> String {
        match self.id {
            Some(id) => format!("/console/live-codes/{id}"),
            None => format!("/console/channels/{}", self.channel_id),
        }
    }
}

async fn code_form_page(
    s: &AppState,
    c: Console,
    channel: &ChannelView,
    id: Option<i64>,
    mut f: CodeForm,
    status: StatusCode,
    error: Option<FormError>,
) -> Response {
    let tr = c.ctx.tr;
    let mut guides = staff_choices(s, &c, true).await;
    keep_chosen(s, &c, &mut guides, &f.chosen_staff()).await;
    f.pad_guides();
    let weekdays = (1..=7u8)
        .map(|d| (d, tr.t(&format!("acq.weekday.{d}"))))
        .collect();
    let page = CodeFormPage {
        channel_id: channel.id,
        channel_name: channel.spec.name.clone(),
        ctx: {
            let mut ctx = c.ctx;
            ctx.active = "channels";
            ctx
        },
        id,
        f,
        error,
        guides,
        weekdays,
    };
    render(status, &page)
}

/// 新建活码 in a channel.
pub async fn code_new(State(s): State<AppState>, IdPath(channel): IdPath, c: Console) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let ch = match s.app.acquisition().channel(&c.session.actor, channel).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    code_form_page(&s, c, &ch, None, CodeForm::fresh(), StatusCode::OK, None).await
}

/// A code's edit form.
pub async fn code_edit(State(s): State<AppState>, IdPath(id): IdPath, c: Console) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let acq = s.app.acquisition();
    let v = match acq.live_code(&c.session.actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let ch = match acq.channel(&c.session.actor, v.spec.channel_id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let f = CodeForm::from_spec(&v.spec);
    code_form_page(&s, c, &ch, Some(id), f, StatusCode::OK, None).await
}

async fn code_submit(
    s: AppState,
    c: Console,
    channel: i64,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> Response {
    let f = CodeForm::from_pairs(&pairs);
    let tr = c.ctx.tr;
    let acq = s.app.acquisition();
    let ch = match acq.channel(&c.session.actor, channel).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let spec = match f.spec(channel) {
        Ok(spec) => spec,
        Err(b) => {
            let err = b.form_error(tr);
            return code_form_page(
                &s,
                c,
                &ch,
                id,
                f,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(err),
            )
            .await;
        }
    };
    let a = &c.session.actor;
    let saved = match id {
        None => acq.create_live_code(a, spec).await,
        Some(id) => acq.update_live_code(a, id, spec).await,
    };
    match saved {
        Ok(v) if id.is_none() => see_other(&format!("/console/live-codes/{}?ok=created", v.id)),
        Ok(v) => see_other(&format!("/console/live-codes/{}?ok=saved", v.id)),
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, mut err) = super::layout::form_error(tr, e);
            err.field = code_input(&err.field).to_owned();
            code_form_page(&s, c, &ch, id, f, status, Some(err)).await
        }
    }
}

pub async fn code_create(
    State(s): State<AppState>,
    IdPath(channel): IdPath,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    code_submit(s, c, channel, None, pairs).await
}

pub async fn code_update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    let channel = match s.app.acquisition().live_code(&c.session.actor, id).await {
        Ok(v) => v.spec.channel_id,
        Err(e) => return error_page(c.ctx, e),
    };
    code_submit(s, c, channel, Some(id), pairs).await
}

/// 立即同步: re-point the code now (after fixing WeCom settings, or to check).
pub async fn code_sync(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s
        .app
        .acquisition()
        .resync_live_code(&c.session.actor, id)
        .await
    {
        Ok(_) => see_other(&format!("/console/live-codes/{id}?ok=synced")),
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn code_archive_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let v = match s.app.acquisition().live_code(&c.session.actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("acq.confirm_code", &[("name", &v.spec.name)]),
        impact: vec![
            tr.t("acq.confirm_code_wecom").to_owned(),
            tr.t("acq.confirm_code_adds").to_owned(),
        ],
        outcome: "archive",
        action: format!("/console/live-codes/{id}/archive"),
        back: "/console/channels",
    };
    confirm_page(c.ctx, "channels", confirm)
}

pub async fn code_archive(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s
        .app
        .acquisition()
        .archive_live_code(&c.session.actor, id)
        .await
    {
        Ok(v) => see_other(&format!(
            "/console/channels/{}?ok=archived",
            v.spec.channel_id
        )),
        Err(e) => error_page(c.ctx, e),
    }
}

// ---------------------------------------------------------------- live code page

/// One guide of a code: settings and today's adds.
pub struct GuideLine {
    pub name: String,
    pub cap: i64,
    pub weight: i64,
    pub adds: i64,
    /// Behind the code in WeCom now.
    pub on: bool,
}

/// One change of who is behind a code.
pub struct ChangeLine {
    pub at: i64,
    pub guides: String,
    /// Why each guide left out is off, and whether the backup took over.
    pub notes: Vec<String>,
    pub ok: bool,
    pub error: String,
}

fn change_line(tr: Tr, names: &HashMap<i64, String>, c: CodeChange) -> ChangeLine {
    let mut notes: Vec<String> = c
        .off
        .iter()
        .map(|o| {
            let staff = o["staff_id"].as_i64().map(|id| name_of(names, id));
            let reason = o["reason"].as_str().unwrap_or_default();
            let text = match reason {
                "cap_reached" => tr.fill(
                    "acq.reason.cap_reached",
                    &[
                        ("adds", &o["adds"].as_i64().unwrap_or(0).to_string()),
                        ("cap", &o["cap"].as_i64().unwrap_or(0).to_string()),
                    ],
                ),
                "outside_hours" | "not_a_workday" | "not_their_turn" => {
                    tr.t(&format!("acq.reason.{reason}")).to_owned()
                }
                other => other.to_owned(),
            };
            match staff {
                Some(name) => tr.fill("acq.labelled", &[("label", &name), ("text", &text)]),
                None => text,
            }
        })
        .collect();
    if c.on_backup {
        notes.push(tr.t("acq.reason.on_backup").to_owned());
    }
    if c.exhausted {
        notes.push(tr.t("acq.reason.exhausted").to_owned());
    }
    ChangeLine {
        at: c.at,
        guides: c
            .staff_ids
            .iter()
            .map(|id| name_of(names, *id))
            .collect::<Vec<_>>()
            .join("、"),
        notes,
        ok: c.ok,
        error: c.error,
    }
}

#[derive(Template)]
#[template(path = "console/live_code_view.html")]
struct CodePage {
    ctx: Ctx,
    channel_id: i64,
    channel_name: String,
    code: CodeLine,
    v: LiveCodeView,
    guides: Vec<GuideLine>,
    backup: String,
    schedule: String,
    spread: &'static str,
    changes: Vec<ChangeLine>,
    can_manage: bool,
}

fn schedule_text(tr: Tr, s: &Schedule) -> String {
    let days = if s.weekdays.is_empty() || s.weekdays.len() == 7 {
        tr.t("acq.every_day").to_owned()
    } else {
        s.weekdays
            .iter()
            .map(|d| tr.t(&format!("acq.weekday.{d}")))
            .collect::<Vec<_>>()
            .join("、")
    };
    let hours = match (s.start, s.end) {
        (Some(a), Some(b)) => format!("{}–{}", a.format("%H:%M"), b.format("%H:%M")),
        _ => tr.t("acq.all_day").to_owned(),
    };
    format!("{days} {hours}")
}

/// `/console/live-codes/{id}`: the QR, the settings, today's adds per guide, the change log.
pub async fn code_view(State(s): State<AppState>, IdPath(id): IdPath, mut c: Console) -> Response {
    c.ctx.active = "channels";
    let a = &c.session.actor;
    let acq = s.app.acquisition();
    let v = match acq.live_code(a, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let ch = match acq.channel(a, v.spec.channel_id).await {
        Ok(ch) => ch,
        Err(e) => return error_page(c.ctx, e),
    };
    let changes = acq.live_code_changes(a, id).await.unwrap_or_default();
    let tr = c.ctx.tr;
    let names = staff_names(
        &s,
        &c,
        code_staff(&v)
            .into_iter()
            .chain(changes.iter().flat_map(|ch| {
                ch.staff_ids
                    .iter()
                    .copied()
                    .chain(ch.off.iter().filter_map(|o| o["staff_id"].as_i64()))
                    .collect::<Vec<_>>()
            }))
            .collect::<Vec<_>>(),
    )
    .await;
    let adds_of: HashMap<i64, i64> = v.adds_today.iter().map(|a| (a.staff_id, a.adds)).collect();
    let guides = v
        .spec
        .guides
        .iter()
        .map(|g| GuideLine {
            name: name_of(&names, g.staff_id),
            cap: g.daily_cap,
            weight: g.weight,
            adds: adds_of.get(&g.staff_id).copied().unwrap_or(0),
            on: v.current_staff_ids.contains(&g.staff_id),
        })
        .collect();
    let backup = v
        .spec
        .backup_staff_id
        .map(|b| name_of(&names, b))
        .unwrap_or_else(|| tr.t("common.none").to_owned());
    let changes = changes
        .into_iter()
        .map(|ch| change_line(tr, &names, ch))
        .collect();
    let page = CodePage {
        channel_id: ch.id,
        channel_name: ch.spec.name,
        code: code_line(tr, &names, v.clone()),
        guides,
        backup,
        schedule: schedule_text(tr, &v.spec.schedule),
        spread: tr.t(&format!("acq.spread.{}", v.spec.spread.as_str())),
        changes,
        can_manage: can_manage(&c),
        v,
        ctx: c.ctx,
    };
    render(StatusCode::OK, &page)
}

/// `?download=1` saves the file instead of showing it.
#[derive(Debug, Default, Deserialize)]
pub struct FileParams {
    #[serde(default)]
    download: Option<String>,
}

impl FileParams {
    pub(super) fn disposition(&self) -> Disposition {
        if self.download.is_some() {
            Disposition::Attachment
        } else {
            Disposition::Inline
        }
    }
}

/// `/console/live-codes/{id}/qr.png`: the QR image Yutang keeps (scoped like the page).
pub async fn code_qr(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    Query(p): Query<FileParams>,
    c: Console,
) -> Response {
    match s.app.acquisition().live_code_qr(&c.session.actor, id).await {
        Ok(qr) => file(&qr.content_type, &qr.filename, p.disposition(), qr.bytes),
        Err(e) => error_page(c.ctx, e),
    }
}

/// `/console/live-codes/{id}/poster.png`: the store-stand poster, drawn now.
pub async fn code_poster(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    Query(p): Query<FileParams>,
    c: Console,
) -> Response {
    match s
        .app
        .acquisition()
        .live_code_poster(&c.session.actor, id)
        .await
    {
        Ok(png) => file(
            "image/png",
            &format!("live-code-{id}-poster.png"),
            p.disposition(),
            png,
        ),
        Err(e) => error_page(c.ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::console::layout::form_pairs as pairs;

    #[test]
    fn link_rows_replace_links_by_position_and_keep_other_attachments() {
        let original = vec![
            WelcomeAttachment::Image {
                media_id: Some("MEDIA".into()),
                pic_url: None,
            },
            WelcomeAttachment::Link {
                title: "旧".into(),
                url: "https://a.example/".into(),
                picurl: Some("https://a.example/p.png".into()),
                desc: Some("说明".into()),
            },
            WelcomeAttachment::Link {
                title: "删".into(),
                url: "https://b.example/".into(),
                picurl: None,
                desc: None,
            },
        ];
        let f = ChannelForm::from_pairs(&pairs(&[
            ("name", "台卡"),
            ("kind", "store_stand"),
            ("link_title_0", "新标题"),
            ("link_url_0", "https://a.example/"),
            ("link_title_1", ""),
            ("link_url_1", ""),
            ("link_title_2", "加"),
            ("link_url_2", "https://c.example/"),
            ("tag_ids", "3"),
            ("tag_ids", "5"),
        ]));
        let spec = f.spec(&original).unwrap();
        assert_eq!(spec.tag_ids, vec![3, 5]);
        let w = spec.welcome.unwrap();
        assert_eq!(w.attachments.len(), 3);
        assert_eq!(w.attachments[0], original[0]);
        assert_eq!(
            w.attachments[1],
            WelcomeAttachment::Link {
                title: "新标题".into(),
                url: "https://a.example/".into(),
                picurl: Some("https://a.example/p.png".into()),
                desc: Some("说明".into()),
            }
        );
        assert!(
            matches!(&w.attachments[2], WelcomeAttachment::Link { title, .. } if title == "加")
        );
        // A link without a title, or with a URL that is not http(s), names its row.
        let f = ChannelForm::from_pairs(&pairs(&[
            ("name", "台卡"),
            ("kind", "ad"),
            ("link_url_1", "https://c.example/"),
        ]));
        assert_eq!(f.spec(&[]).unwrap_err().field, "link_title_1");
        let f = ChannelForm::from_pairs(&pairs(&[
            ("name", "台卡"),
            ("kind", "ad"),
            ("link_title_0", "x"),
            ("link_url_0", "ftp://c.example/"),
        ]));
        let e = f.spec(&[]).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("link_url_0", "invalid_url"));
    }

    #[test]
    fn guide_rows_name_the_refused_row() {
        let base = [
            ("name", "收银台"),
            ("spread", "weighted"),
            ("guide_staff_0", "7"),
            ("guide_cap_0", "200"),
            ("guide_weight_0", "2"),
            ("guide_staff_1", ""),
            ("guide_cap_1", "200"),
            ("guide_weight_1", "1"),
        ];
        let spec = CodeForm::from_pairs(&pairs(&base)).spec(4).unwrap();
        assert_eq!(
            spec.guides,
            vec![GuideSlot {
                staff_id: 7,
                daily_cap: 200,
                weight: 2
            }]
        );
        assert_eq!(spec.spread, Spread::Weighted);
        assert!(!spec.skip_verify, "an unticked box is false");
        let mut p = pairs(&base);
        p.extend(pairs(&[("guide_staff_2", "8"), ("guide_cap_2", "0")]));
        let e = CodeForm::from_pairs(&p).spec(4).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("guide_cap_2", "invalid_count"));
        let mut p = pairs(&base);
        p.extend(pairs(&[("guide_staff_3", "7"), ("guide_cap_3", "5")]));
        let e = CodeForm::from_pairs(&p).spec(4).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("guide_staff_3", "duplicate_guide")
        );
        let e = CodeForm::from_pairs(&pairs(&[("name", "x"), ("spread", "even")]))
            .spec(4)
            .unwrap_err();
        assert_eq!(e.field, "guides");
        let mut p = pairs(&base);
        p.extend(pairs(&[("start", "9:00"), ("end", "25:00")]));
        assert_eq!(CodeForm::from_pairs(&p).spec(4).unwrap_err().field, "end");
    }

    /// The keys built at run time exist in both languages.
    #[test]
    fn dynamic_keys_exist() {
        use super::super::i18n::lookup;
        let mut keys: Vec<String> = ChannelKind::ALL
            .iter()
            .map(|k| format!("acq.kind.{}", k.as_str()))
            .collect();
        keys.extend((1..=7).map(|d| format!("acq.weekday.{d}")));
        keys.extend(
            [Spread::Even, Spread::Weighted]
                .iter()
                .map(|s| format!("acq.spread.{}", s.as_str())),
        );
        for r in [
            "cap_reached",
            "outside_hours",
            "not_a_workday",
            "not_their_turn",
            "on_backup",
            "exhausted",
        ] {
            keys.push(format!("acq.reason.{r}"));
        }
        for a in ["image", "link", "miniprogram", "video", "file"] {
            keys.push(format!("acq.attachment.{a}"));
        }
        for s in ["synced", "pending", "failed"] {
            keys.push(format!("acq.sync.{s}"));
        }
        for k in keys {
            assert!(lookup(&k).is_some(), "{k}");
        }
        // Each reason the rotation can give is one of the keys above.
        use yutang_core::acquisition::OffReason;
        for r in [
            OffReason::CapReached { adds: 1, cap: 1 },
            OffReason::OutsideHours,
            OffReason::NotAWorkday,
            OffReason::NotTheirTurn,
        ] {
            let v = serde_json::to_value(r).unwrap();
            let key = format!("acq.reason.{}", v["reason"].as_str().unwrap());
            assert!(lookup(&key).is_some(), "{key}");
        }
        let zh = Tr {
            lang: super::super::Lang::Zh,
        };
        let line = change_line(
            zh,
            &HashMap::from([(7, "张伟".to_owned())]),
            CodeChange {
                at: 0,
                staff_ids: vec![9],
                off: vec![
                    serde_json::json!({"reason": "cap_reached", "adds": 200, "cap": 200, "staff_id": 7}),
                ],
                on_backup: true,
                exhausted: false,
                ok: true,
                error: String::new(),
            },
        );
        assert_eq!(
            line.notes,
            vec!["张伟：今日已加 200/200，已达上限", "由备用员工接待"]
        );
        assert_eq!(line.guides, "#9");
    }

    #[test]
    fn forms_round_trip_specs() {
        let spec = LiveCodeSpec {
            kind: CodeKind::ContactWay,
            channel_id: 4,
            name: "收银台".into(),
            state: Some("sh01".into()),
            skip_verify: false,
            guides: vec![GuideSlot {
                staff_id: 7,
                daily_cap: 3,
                weight: 1,
            }],
            backup_staff_id: Some(9),
            schedule: Schedule {
                weekdays: vec![1, 5],
                start: NaiveTime::from_hms_opt(9, 0, 0),
                end: NaiveTime::from_hms_opt(21, 30, 0),
            },
            spread: Spread::Even,
            poster: PosterText {
                title: Some("扫码领新人礼".into()),
                caption: Some("添加店长微信".into()),
                ..Default::default()
            },
        };
        let mut f = CodeForm::from_spec(&spec);
        f.pad_guides();
        assert_eq!(f.guides.len(), 3);
        assert_eq!(f.spec(4).unwrap(), spec);
    }
}
