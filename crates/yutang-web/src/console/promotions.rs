//! Console pages for promotions: coupon templates, flash sales and group-buys — lists with
//! claims, uses, stock and conversion, and create/edit forms. Amounts are typed in yuan and
//! converted to integer fen without floats.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use yutang_app::AppError;
use yutang_app::promotions::media::MediaRow;
use yutang_app::promotions::{FlashSaleView, GroupBuyView, Publish, Removal, TemplateView};
use yutang_core::FieldError;
use yutang_core::promotions::coupons::{CouponKind, Scope, TemplateSpec, Validity};
use yutang_core::promotions::flash_sales::FlashSaleSpec;
use yutang_core::promotions::group_buys::GroupBuySpec;
use yutang_core::promotions::{Audience, Phase, Window};
use yutang_core::staff::Permission;
use yutang_core::time::Millis;

use super::confirm::{Confirm, confirm_page, grouped};
use super::layout::{
    ConsoleForm, ConsoleQuery, ConsoleUpload, CsrfForm, FormError, Pager, error_page, form_error,
    opt_id, pager_keyed, see_other,
};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

/// `12.5` → 1250 fen; at most two decimals, never negative, no floats involved.
pub fn yuan_to_fen(field: &'static str, s: &str) -> Result<i64, FieldError> {
    let s = s.trim();
    let bad = || FieldError::new(field, "invalid_yuan", "amount in yuan, e.g. 12.50");
    if s.is_empty() {
        return Ok(0);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || whole.len() > 9
    {
        return Err(bad());
    }
    let w: i64 = whole.parse().map_err(|_| bad())?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    Ok(w * 100 + f)
}

fn fen_to_yuan(fen: i64) -> String {
    yutang_core::money::Fen(fen).to_string()
}

fn int(field: &'static str, s: &str) -> Result<i64, FieldError> {
    s.trim()
        .parse()
        .map_err(|_| FieldError::new(field, "invalid_number", "a whole number is required"))
}

fn time(field: &'static str, s: &str) -> Result<Millis, FieldError> {
    Millis::parse_flexible(field, &s.replace('T', " "))
}

/// `YYYY-MM-DDTHH:MM` in Shanghai time, for `<input type="datetime-local">`.
fn local(ms: i64) -> String {
    let s = Millis(ms).to_shanghai_string().replace(' ', "T");
    s.get(..16).unwrap_or_default().to_owned()
}

/// The form's input for a field the domain names (`off_fen` → `off_yuan`,
/// `claim_window.ends_at` → `ends`); a name the form uses already comes back as it is.
fn input_field(field: &str) -> &str {
    match field {
        "off_fen" => "off_yuan",
        "threshold_fen" => "threshold_yuan",
        "cap_fen" => "cap_yuan",
        "price_fen" => "price_yuan",
        "original_price_fen" => "original_yuan",
        "leader_discount_fen" => "leader_off_yuan",
        "starts_at" | "claim_window.starts_at" => "starts",
        "ends_at" | "claim_window.ends_at" => "ends",
        "remind_hours_before" => "remind_hours",
        "scope" => "channels",
        "steps" => "kind",
        "image_id" => "image",
        other => other,
    }
}

/// Every field of the three forms, as typed (strings), so a refused form comes back filled in.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PromoForm {
    /// `1`: a new campaign is saved as a draft (the 保存为草稿 button); on an edit page, the
    /// campaign is a draft (the page offers 发布).
    draft: String,
    name: String,
    kind: String,
    off_yuan: String,
    threshold_yuan: String,
    /// A stepped amount-off set's further steps, one a line: `199 40` (满199减40).
    more_steps: String,
    /// The template is a stepped set of several kinds, which only the API can edit: the form
    /// shows it without a Save button rather than drop steps.
    #[serde(skip)]
    api_only: bool,
    rate_permille: String,
    cap_yuan: String,
    sku: String,
    item_name: String,
    validity_kind: String,
    validity_days: String,
    valid_from: String,
    valid_to: String,
    starts: String,
    ends: String,
    stock: String,
    per_customer: String,
    audience: String,
    /// The saved segment, when the audience is `segment` (the picker's value).
    segment_id: String,
    /// The member level, when the audience is `level`.
    level: String,
    channels: String,
    return_on_refund: String,
    remind_hours: String,
    price_yuan: String,
    original_yuan: String,
    leader_off_yuan: String,
    hold_minutes: String,
    team_size: String,
    time_limit_minutes: String,
    /// The product image of a flash sale or group-buy: the stored image's id (kept across a
    /// refused save, so a chosen file is uploaded once); `remove_image` ticked drops it. A
    /// file chosen in the form (see [`submit`]) replaces it.
    image_id: String,
    remove_image: String,
}

impl PromoForm {
    fn audience(&self) -> Result<Audience, FieldError> {
        Ok(match self.audience.as_str() {
            "segment" if self.segment_id.trim().is_empty() => {
                return Err(FieldError::new(
                    "segment_id",
                    "required",
                    "choose a saved segment",
                ));
            }
            "segment" => Audience::Segment {
                segment_id: int("segment_id", &self.segment_id)?,
            },
            "level" => Audience::Level {
                level: self.level.trim().to_owned(),
            },
            "group_members" => Audience::GroupMembers,
            _ => Audience::Everyone,
        })
    }

    fn set_audience(&mut self, a: &Audience) {
        self.audience = match a {
            Audience::Everyone => "everyone",
            Audience::Segment { segment_id } => {
                self.segment_id = segment_id.to_string();
                "segment"
            }
            Audience::Level { level } => {
                self.level = level.clone();
                "level"
            }
            Audience::GroupMembers => "group_members",
        }
        .into();
    }

    /// The input a refusal of this form is about: [`input_field`], with the choices that
    /// depend on what was chosen (the audience's segment or level, the validity's days or dates).
    fn field_of<'a>(&self, field: &'a str) -> &'a str {
        match (field, self.audience.as_str(), self.validity_kind.as_str()) {
            ("audience", "segment", _) => "segment_id",
            ("audience", "level", _) => "level",
            ("steps", _, _) if self.kind == "amount_off" && !self.more_steps.trim().is_empty() => {
                "more_steps"
            }
            ("validity", _, "fixed") => "valid_to",
            ("validity", _, _) => "validity_days",
            _ => input_field(field),
        }
    }

    fn image(&self) -> Result<Option<i64>, FieldError> {
        if self.remove_image.is_empty() {
            opt_id("image_id", &self.image_id)
        } else {
            Ok(None)
        }
    }

    fn window(&self) -> Result<Window, FieldError> {
        Ok(Window {
            starts_at: time("starts", &self.starts)?,
            ends_at: time("ends", &self.ends)?,
        })
    }

    /// The coupon of the chosen kind, from that kind's fields only (the others are ignored),
    /// checked so that a refusal names the form's field (`off_yuan`, not `steps`).
    fn coupon_step(&self) -> Result<CouponKind, FieldError> {
        let threshold = || yuan_to_fen("threshold_yuan", &self.threshold_yuan);
        let step = match self.kind.as_str() {
            "amount_off" => CouponKind::AmountOff {
                off_fen: yuan_to_fen("off_yuan", &self.off_yuan)?,
                threshold_fen: threshold()?,
            },
            "discount" => CouponKind::Discount {
                rate_permille: int("rate_permille", &self.rate_permille)?,
                cap_fen: yuan_to_fen("cap_yuan", &self.cap_yuan)?,
                threshold_fen: threshold()?,
            },
            "free_shipping" => CouponKind::FreeShipping {
                threshold_fen: threshold()?,
            },
            "exchange" => CouponKind::Exchange {
                sku: self.sku.clone(),
                item_name: self.item_name.clone(),
            },
            _ => {
                return Err(FieldError::new(
                    "kind",
                    "invalid_form",
                    "choose a coupon kind",
                ));
            }
        };
        step.check().map_err(|mut e| {
            e.field = input_field(e.field);
            e
        })?;
        Ok(step)
    }

    /// The further steps of a stepped amount-off set (`199 40` or `满199减40` a line).
    fn more_steps(&self) -> Result<Vec<CouponKind>, FieldError> {
        if self.kind != "amount_off" {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for line in self
            .more_steps
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let bad = || {
                FieldError::new(
                    "more_steps",
                    "invalid_yuan",
                    "one step a line: threshold and amount off in yuan, e.g. 199 40",
                )
            };
            let line = line.trim_start_matches('满');
            let mut parts = line
                .split(|c: char| c == '减' || c.is_whitespace())
                .filter(|p| !p.is_empty());
            let (Some(threshold), Some(off), None) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad());
            };
            let step = CouponKind::AmountOff {
                off_fen: yuan_to_fen("more_steps", off).map_err(|_| bad())?,
                threshold_fen: yuan_to_fen("more_steps", threshold).map_err(|_| bad())?,
            };
            step.check().map_err(|mut e| {
                e.field = "more_steps";
                e
            })?;
            out.push(step);
        }
        Ok(out)
    }

    fn coupon(&self) -> Result<TemplateSpec, FieldError> {
        let mut steps = vec![self.coupon_step()?];
        steps.extend(self.more_steps()?);
        let validity = if self.validity_kind == "fixed" {
            Validity::Fixed {
                starts_at: time("valid_from", &self.valid_from)?,
                ends_at: time("valid_to", &self.valid_to)?,
            }
        } else {
            let days = int("validity_days", &self.validity_days)?;
            Validity::DaysFromClaim {
                days: u32::try_from(days).map_err(|_| {
                    FieldError::new("validity_days", "invalid_validity", "days must be positive")
                })?,
            }
        };
        Ok(TemplateSpec {
            name: self.name.clone(),
            steps,
            validity,
            claim_window: self.window()?,
            stock: int("stock", &self.stock)?,
            per_customer: int("per_customer", &self.per_customer)?,
            audience: self.audience()?,
            scope: Scope {
                channels: self
                    .channels
                    .split([',', '，', ' '])
                    .filter(|c| !c.trim().is_empty())
                    .map(|c| c.trim().to_owned())
                    .collect(),
                store_ids: Vec::new(),
            },
            return_on_refund: !self.return_on_refund.is_empty(),
            remind_hours_before: if self.remind_hours.trim().is_empty() {
                0
            } else {
                u32::try_from(int("remind_hours", &self.remind_hours)?).map_err(|_| {
                    FieldError::new("remind_hours", "invalid_count", "0 or more hours")
                })?
            },
        })
    }

    fn from_coupon(s: &TemplateSpec) -> Self {
        let mut f = PromoForm {
            name: s.name.clone(),
            stock: s.stock.to_string(),
            per_customer: s.per_customer.to_string(),
            starts: local(s.claim_window.starts_at.0),
            ends: local(s.claim_window.ends_at.0),
            channels: s.scope.channels.join(","),
            return_on_refund: if s.return_on_refund {
                "on".into()
            } else {
                String::new()
            },
            remind_hours: s.remind_hours_before.to_string(),
            ..Default::default()
        };
        f.set_audience(&s.audience);
        match s.validity {
            Validity::Fixed { starts_at, ends_at } => {
                f.validity_kind = "fixed".into();
                f.valid_from = local(starts_at.0);
                f.valid_to = local(ends_at.0);
            }
            Validity::DaysFromClaim { days } => {
                f.validity_kind = "days".into();
                f.validity_days = days.to_string();
            }
        }
        if let Some(step) = s.steps.first() {
            f.threshold_yuan = fen_to_yuan(step.threshold().0);
            match step {
                CouponKind::AmountOff { off_fen, .. } => {
                    f.kind = "amount_off".into();
                    f.off_yuan = fen_to_yuan(*off_fen);
                }
                CouponKind::Discount {
                    rate_permille,
                    cap_fen,
                    ..
                } => {
                    f.kind = "discount".into();
                    f.rate_permille = rate_permille.to_string();
                    f.cap_yuan = fen_to_yuan(*cap_fen);
                }
                CouponKind::FreeShipping { .. } => f.kind = "free_shipping".into(),
                CouponKind::Exchange { sku, item_name } => {
                    f.kind = "exchange".into();
                    f.sku = sku.clone();
                    f.item_name = item_name.clone();
                }
            }
        }
        let mut more = Vec::new();
        for step in s.steps.iter().skip(1) {
            match step {
                CouponKind::AmountOff {
                    off_fen,
                    threshold_fen,
                } if f.kind == "amount_off" => more.push(format!(
                    "{} {}",
                    fen_to_yuan(*threshold_fen),
                    fen_to_yuan(*off_fen)
                )),
                _ => f.api_only = true,
            }
        }
        f.more_steps = more.join("\n");
        f
    }

    fn flash(&self) -> Result<FlashSaleSpec, FieldError> {
        Ok(FlashSaleSpec {
            name: self.name.clone(),
            sku: self.sku.clone(),
            item_name: self.item_name.clone(),
            price_fen: yuan_to_fen("price_yuan", &self.price_yuan)?,
            original_price_fen: yuan_to_fen("original_yuan", &self.original_yuan)?,
            stock: int("stock", &self.stock)?,
            window: self.window()?,
            per_customer: int("per_customer", &self.per_customer)?,
            hold_minutes: int("hold_minutes", &self.hold_minutes)?,
            audience: self.audience()?,
            image_id: self.image()?,
        })
    }

    fn from_flash(s: &FlashSaleSpec) -> Self {
        let mut f = PromoForm {
            name: s.name.clone(),
            sku: s.sku.clone(),
            item_name: s.item_name.clone(),
            price_yuan: fen_to_yuan(s.price_fen),
            original_yuan: fen_to_yuan(s.original_price_fen),
            stock: s.stock.to_string(),
            starts: local(s.window.starts_at.0),
            ends: local(s.window.ends_at.0),
            per_customer: s.per_customer.to_string(),
            hold_minutes: s.hold_minutes.to_string(),
            image_id: s.image_id.map(|i| i.to_string()).unwrap_or_default(),
            ..Default::default()
        };
        f.set_audience(&s.audience);
        f
    }

    fn group(&self) -> Result<GroupBuySpec, FieldError> {
        Ok(GroupBuySpec {
            name: self.name.clone(),
            sku: self.sku.clone(),
            item_name: self.item_name.clone(),
            price_fen: yuan_to_fen("price_yuan", &self.price_yuan)?,
            original_price_fen: yuan_to_fen("original_yuan", &self.original_yuan)?,
            leader_discount_fen: yuan_to_fen("leader_off_yuan", &self.leader_off_yuan)?,
            team_size: int("team_size", &self.team_size)?,
            time_limit_minutes: int("time_limit_minutes", &self.time_limit_minutes)?,
            stock: int("stock", &self.stock)?,
            window: self.window()?,
            audience: self.audience()?,
            image_id: self.image()?,
        })
    }

    fn from_group(s: &GroupBuySpec) -> Self {
        let mut f = PromoForm {
            name: s.name.clone(),
            sku: s.sku.clone(),
            item_name: s.item_name.clone(),
            price_yuan: fen_to_yuan(s.price_fen),
            original_yuan: fen_to_yuan(s.original_price_fen),
            leader_off_yuan: fen_to_yuan(s.leader_discount_fen),
            team_size: s.team_size.to_string(),
            time_limit_minutes: s.time_limit_minutes.to_string(),
            stock: s.stock.to_string(),
            starts: local(s.window.starts_at.0),
            ends: local(s.window.ends_at.0),
            image_id: s.image_id.map(|i| i.to_string()).unwrap_or_default(),
            ..Default::default()
        };
        f.set_audience(&s.audience);
        f
    }

    /// Defaults for a new form: claimable from now for 7 days.
    fn fresh(what: &str) -> Self {
        let now = Millis::now().0;
        PromoForm {
            kind: "amount_off".into(),
            validity_kind: "days".into(),
            validity_days: "7".into(),
            starts: local(now),
            ends: local(now + 7 * 86_400_000),
            stock: "100".into(),
            per_customer: "1".into(),
            audience: "everyone".into(),
            hold_minutes: "15".into(),
            team_size: if what == "group" {
                "3".into()
            } else {
                String::new()
            },
            time_limit_minutes: "1440".into(),
            remind_hours: "24".into(),
            return_on_refund: "on".into(),
            ..Default::default()
        }
    }
}

#[derive(Template)]
#[template(path = "console/promotions.html")]
struct ListPage {
    ctx: Ctx,
    templates: Vec<TemplateView>,
    flash_sales: Vec<FlashSaleView>,
    group_buys: Vec<GroupBuyView>,
    /// Removed campaigns that had history: kept with their statistics, closed.
    archived_templates: Vec<TemplateView>,
    archived_flash_sales: Vec<FlashSaleView>,
    archived_group_buys: Vec<GroupBuyView>,
    can_manage: bool,
    /// The search box and the phase filter as given.
    q: String,
    phase: String,
    now: i64,
    /// Campaigns before the search and filter (to tell "none match" from "none yet").
    total: usize,
    /// Each table's pager, in [`TABLES`] order.
    pagers: [Pager; 6],
    /// Campaigns after the search and filter, across every table.
    matching: usize,
}

impl ListPage {
    fn permille(&self, v: i64) -> String {
        format!("{}.{}%", v / 10, v % 10)
    }

    /// The phase's key (`scheduled` …) of a campaign with this status and window, now.
    fn phase_of(&self, status: &str, starts_at: &i64, ends_at: &i64) -> &'static str {
        Phase::of(status, *starts_at, *ends_at, self.now).as_str()
    }

    fn phase_label(&self, status: &str, starts_at: &i64, ends_at: &i64) -> &'static str {
        self.ctx.tr.t(&format!(
            "promo.phase_{}",
            self.phase_of(status, starts_at, ends_at)
        ))
    }

    /// The phase filter's options: key, label, selected.
    fn phases(&self) -> Vec<(&'static str, &'static str, bool)> {
        Phase::ALL
            .into_iter()
            .map(|p| {
                let key = p.as_str();
                (
                    key,
                    self.ctx.tr.t(&format!("promo.phase_{key}")),
                    self.phase == key,
                )
            })
            .collect()
    }

    /// "显示 3 / 12 个活动" under a search or filter.
    fn shown_text(&self) -> String {
        self.ctx.tr.fill(
            "promo.shown",
            &[
                ("n", &self.shown().to_string()),
                ("total", &self.total.to_string()),
            ],
        )
    }

    fn shown(&self) -> usize {
        self.matching
    }

    /// The pager of the table whose page parameter is `key`.
    fn pager_of(&self, key: &str) -> &Pager {
        let i = TABLES.iter().position(|k| *k == key).unwrap_or(0);
        &self.pagers[i]
    }
}

/// Campaigns per page in each table of the list.
const PROMO_PAGE_SIZE: i64 = 20;

/// The list's tables, each paged by its own query parameter (so paging one keeps the others).
const TABLES: [&str; 6] = [
    "coupons_page",
    "flash_page",
    "group_page",
    "archived_coupons_page",
    "archived_flash_page",
    "archived_group_page",
];

/// The rows of one page of a table (pages from 1; past the end: the last page).
fn page_of<T>(rows: Vec<T>, page: i64) -> (Vec<T>, i64) {
    let size = PROMO_PAGE_SIZE as usize;
    let pages = rows.len().div_ceil(size).max(1);
    let page = usize::try_from(page).unwrap_or(1).clamp(1, pages);
    let rows = rows
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    (rows, page as i64)
}

/// The list's search (a part of the name) and phase filter.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    phase: Option<String>,
    coupons_page: Option<i64>,
    flash_page: Option<i64>,
    group_page: Option<i64>,
    archived_coupons_page: Option<i64>,
    archived_flash_page: Option<i64>,
    archived_group_page: Option<i64>,
}

impl ListQuery {
    /// Whether a campaign with this name, status and window is shown.
    fn keeps(
        &self,
        phase: Option<Phase>,
        name: &str,
        status: &str,
        starts: i64,
        ends: i64,
        now: i64,
    ) -> bool {
        let q = self.q.as_deref().map(str::trim).unwrap_or("");
        (q.is_empty() || name.to_lowercase().contains(&q.to_lowercase()))
            && phase.is_none_or(|p| Phase::of(status, starts, ends, now) == p)
    }
}

pub async fn list(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<ListQuery>,
) -> Response {
    c.ctx.active = "promotions";
    let a = &c.session.actor;
    let phase = match q.phase.as_deref().map(str::trim).unwrap_or("") {
        "" => None,
        p => match Phase::parse(p) {
            Some(p) => Some(p),
            None => {
                return error_page(
                    c.ctx,
                    AppError::Invalid(FieldError::new("phase", "invalid_status", "unknown phase")),
                );
            }
        },
    };
    let now = s.app.now();
    let templates = match s.app.coupons().coupon_templates(a).await {
        Ok(t) => t,
        Err(e) => return error_page(c.ctx, e),
    };
    let flash_sales = s
        .app
        .flash_sales()
        .flash_sales_for_staff(a)
        .await
        .unwrap_or_default();
    let group_buys = s
        .app
        .group_buys()
        .group_buys_for_staff(a)
        .await
        .unwrap_or_default();
    let can_manage = a.can(Permission::ManagePromotions);
    let total = templates.len() + flash_sales.len() + group_buys.len();
    let templates: Vec<TemplateView> = templates
        .into_iter()
        .filter(|t| {
            q.keeps(
                phase,
                &t.row.name,
                &t.row.status,
                t.row.claim_starts,
                t.row.claim_ends,
                now,
            )
        })
        .collect();
    let flash_sales: Vec<FlashSaleView> = flash_sales
        .into_iter()
        .filter(|f| {
            q.keeps(
                phase,
                &f.row.name,
                &f.row.status,
                f.row.starts_at,
                f.row.ends_at,
                now,
            )
        })
        .collect();
    let group_buys: Vec<GroupBuyView> = group_buys
        .into_iter()
        .filter(|g| {
            q.keeps(
                phase,
                &g.row.name,
                &g.row.status,
                g.row.starts_at,
                g.row.ends_at,
                now,
            )
        })
        .collect();
    let (templates, archived_templates): (Vec<_>, Vec<_>) = templates
        .into_iter()
        .partition(|t| t.row.status != "archived");
    let (flash_sales, archived_flash_sales): (Vec<_>, Vec<_>) = flash_sales
        .into_iter()
        .partition(|f| f.row.status != "archived");
    let (group_buys, archived_group_buys): (Vec<_>, Vec<_>) = group_buys
        .into_iter()
        .partition(|g| g.row.status != "archived");
    let totals = [
        templates.len(),
        flash_sales.len(),
        group_buys.len(),
        archived_templates.len(),
        archived_flash_sales.len(),
        archived_group_buys.len(),
    ];
    let asked = [
        q.coupons_page,
        q.flash_page,
        q.group_page,
        q.archived_coupons_page,
        q.archived_flash_page,
        q.archived_group_page,
    ]
    .map(|p| p.unwrap_or(1));
    let (templates, p0) = page_of(templates, asked[0]);
    let (flash_sales, p1) = page_of(flash_sales, asked[1]);
    let (group_buys, p2) = page_of(group_buys, asked[2]);
    let (archived_templates, p3) = page_of(archived_templates, asked[3]);
    let (archived_flash_sales, p4) = page_of(archived_flash_sales, asked[4]);
    let (archived_group_buys, p5) = page_of(archived_group_buys, asked[5]);
    let pages = [p0, p1, p2, p3, p4, p5];
    let phase_param = phase.map(|p| p.as_str().to_owned()).unwrap_or_default();
    let pagers = std::array::from_fn(|i| {
        // The links keep the search, the filter and the other tables' pages.
        let mut params = vec![
            ("q", q.q.clone().unwrap_or_default()),
            ("phase", phase_param.clone()),
        ];
        params.extend(
            (0..TABLES.len())
                .filter(|j| *j != i && pages[*j] > 1)
                .map(|j| (TABLES[j], pages[j].to_string())),
        );
        pager_keyed(
            "/console/promotions",
            &params,
            TABLES[i],
            pages[i],
            PROMO_PAGE_SIZE,
            i64::try_from(totals[i]).unwrap_or(i64::MAX),
        )
    });
    render(
        StatusCode::OK,
        &ListPage {
            ctx: c.ctx,
            templates,
            flash_sales,
            group_buys,
            archived_templates,
            archived_flash_sales,
            archived_group_buys,
            can_manage,
            q: q.q.unwrap_or_default(),
            phase: phase_param,
            now,
            total,
            pagers,
            matching: totals.iter().sum(),
        },
    )
}

#[derive(Template)]
#[template(path = "console/promotion_form.html")]
struct FormPage {
    ctx: Ctx,
    /// `coupon`, `flash` or `group`.
    what: &'static str,
    /// `None` for a new one.
    id: Option<i64>,
    f: PromoForm,
    error: Option<FormError>,
    /// The saved segments to pick the audience from.
    segments: Vec<SegmentChoice>,
    /// The product image the form holds (`f.image_id`), for its preview.
    image: Option<MediaRow>,
}

/// One saved segment in the audience picker: its name with its member count.
pub(super) struct SegmentChoice {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) label: String,
}

/// The saved segments for a picker, each labelled with its member count. Staff who may not
/// see customers get none (the picker then keeps only a segment chosen before).
pub(super) async fn segment_choices(s: &AppState, c: &Console) -> Vec<SegmentChoice> {
    let rows = s
        .app
        .segments()
        .list_segments(&c.session.actor)
        .await
        .unwrap_or_default();
    rows.into_iter()
        .map(|r| {
            let label = match r.count {
                Some(n) => c.ctx.tr.fill(
                    "forms.segment_option",
                    &[
                        ("name", &r.row.name),
                        ("n", &grouped(i64::try_from(n).unwrap_or(i64::MAX))),
                    ],
                ),
                None => r.row.name.clone(),
            };
            SegmentChoice {
                id: r.row.id,
                name: r.row.name,
                label,
            }
        })
        .collect()
}

impl FormPage {
    /// The refusal's message when it is about `field`.
    fn err(&self, field: &str) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| e.field == field)
            .map(|e| e.message)
    }

    /// The banner over the form: which field to look at, and why.
    fn summary(&self, e: &FormError) -> String {
        let key = match e.field.as_str() {
            "name" => "promo.name",
            "kind" => "promo.kind",
            "off_yuan" => "promo.off_yuan",
            "more_steps" => "forms.more_steps",
            "threshold_yuan" => "promo.threshold_yuan",
            "rate_permille" => "promo.rate_permille",
            "cap_yuan" => "promo.cap_yuan",
            "sku" => "forms.sku",
            "item_name" => "promo.item_name",
            "validity_days" => "promo.days",
            "valid_from" => "promo.valid_from",
            "valid_to" => "promo.valid_to",
            "channels" => "promo.channels",
            "remind_hours" => "promo.remind_hours",
            "price_yuan" => "promo.price",
            "original_yuan" => "promo.original_price",
            "hold_minutes" => "promo.hold_minutes",
            "leader_off_yuan" => "promo.leader_off",
            "team_size" => "promo.team_size",
            "time_limit_minutes" => "promo.time_limit",
            "starts" => "forms.starts",
            "ends" => "forms.ends",
            "stock" => "forms.stock",
            "per_customer" => "promo.per_customer",
            "segment_id" => "forms.segment",
            "level" => "forms.level",
            "image" => "promo.image",
            _ => return e.message.to_owned(),
        };
        let tr = self.ctx.tr;
        tr.fill(
            "forms.check_field",
            &[("field", tr.t(key)), ("message", e.message)],
        )
    }

    /// The chosen segment is not in the list (deleted, or not visible to this staff member):
    /// it stays chosen by its id.
    fn segment_missing(&self) -> bool {
        !self.f.segment_id.trim().is_empty()
            && !self
                .segments
                .iter()
                .any(|s| s.id.to_string() == self.f.segment_id.trim())
    }

    fn name_example(&self) -> &'static str {
        match self.what {
            "coupon" => "forms.ex_name_coupon",
            "flash" => "forms.ex_name_flash",
            _ => "forms.ex_name_group",
        }
    }

    fn action(&self) -> String {
        let base = match self.what {
            "coupon" => "coupons",
            "flash" => "flash-sales",
            _ => "group-buys",
        };
        match self.id {
            Some(id) => format!("/console/promotions/{base}/{id}"),
            None => format!("/console/promotions/{base}"),
        }
    }
}

async fn form_page(
    s: &AppState,
    c: Console,
    what: &'static str,
    id: Option<i64>,
    f: PromoForm,
    status: StatusCode,
    error: Option<FormError>,
) -> Response {
    let segments = segment_choices(s, &c).await;
    let image = match f.image_id.trim().parse::<i64>() {
        Ok(id) => s.app.media().image(id).await.ok(),
        Err(_) => None,
    };
    let mut ctx = c.ctx;
    ctx.active = "promotions";
    render(
        status,
        &FormPage {
            ctx,
            what,
            id,
            f,
            error,
            segments,
            image,
        },
    )
}

fn parse_what(what: &str) -> Option<&'static str> {
    match what {
        "coupons" => Some("coupon"),
        "flash-sales" => Some("flash"),
        "group-buys" => Some("group"),
        _ => None,
    }
}

pub async fn new_form(
    State(s): State<AppState>,
    c: Console,
    axum::extract::Path(what): axum::extract::Path<String>,
) -> Response {
    let Some(w) = parse_what(&what) else {
        return error_page(c.ctx, AppError::NotFound { what: "page" });
    };
    if !c.session.actor.can(Permission::ManagePromotions) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    form_page(&s, c, w, None, PromoForm::fresh(w), StatusCode::OK, None).await
}

pub async fn edit_form(
    State(s): State<AppState>,
    c: Console,
    axum::extract::Path((what, id)): axum::extract::Path<(String, i64)>,
) -> Response {
    let a = &c.session.actor;
    // Staff reads: a draft (closed to customers) opens here too.
    let f = match parse_what(&what) {
        Some("coupon") => s
            .app
            .coupons()
            .coupon_template(a, id)
            .await
            .map(|t| (PromoForm::from_coupon(&t.spec), t.row.status)),
        Some("flash") => s
            .app
            .flash_sales()
            .flash_sale_for_staff(a, id)
            .await
            .map(|v| (PromoForm::from_flash(&v.spec), v.row.status)),
        Some(_) => s
            .app
            .group_buys()
            .group_buy_for_staff(a, id)
            .await
            .map(|v| (PromoForm::from_group(&v.spec), v.row.status)),
        None => Err(AppError::NotFound { what: "page" }),
    };
    match (f, parse_what(&what)) {
        (Ok((mut f, status)), Some(w)) => {
            f.draft = if status == "draft" {
                "1".into()
            } else {
                String::new()
            };
            form_page(&s, c, w, Some(id), f, StatusCode::OK, None).await
        }
        (Err(e), _) => error_page(c.ctx, e),
        (Ok(_), None) => error_page(c.ctx, AppError::NotFound { what: "page" }),
    }
}

/// 发给人群: issue the template to every member of a saved segment (within the caller's
/// scope) as a job, and show the job's progress.
#[derive(Deserialize)]
pub struct IssueForm {
    #[allow(dead_code)]
    csrf: String,
    segment_id: Option<String>,
}

pub async fn issue(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<IssueForm>,
) -> Response {
    let segment = match f
        .segment_id
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .parse::<i64>()
    {
        Ok(seg) => seg,
        Err(_) => {
            return error_page(
                c.ctx,
                AppError::Invalid(FieldError::new(
                    "segment_id",
                    "invalid_form",
                    "choose a segment",
                )),
            );
        }
    };
    match s
        .app
        .coupons()
        .issue_coupon_to_segment(&c.session.actor, id, segment)
        .await
    {
        Ok(job) => see_other(&format!("/console/jobs/{job}")),
        Err(e) => error_page(c.ctx, e),
    }
}

async fn save(
    s: &AppState,
    c: &Console,
    w: &str,
    id: Option<i64>,
    f: &PromoForm,
) -> Result<(), AppError> {
    let a = &c.session.actor;
    let publish = if f.draft == "1" {
        Publish::Draft
    } else {
        Publish::Now
    };
    match (w, id) {
        ("coupon", None) => s
            .app
            .coupons()
            .create_coupon_template_as(a, f.coupon()?, publish)
            .await
            .map(drop),
        ("coupon", Some(id)) => {
            s.app
                .coupons()
                .update_coupon_template(a, id, f.coupon()?)
                .await
        }
        ("flash", None) => s
            .app
            .flash_sales()
            .create_flash_sale_as(a, f.flash()?, publish)
            .await
            .map(drop),
        ("flash", Some(id)) => {
            s.app
                .flash_sales()
                .update_flash_sale(a, id, f.flash()?)
                .await
        }
        (_, None) => s
            .app
            .group_buys()
            .create_group_buy_as(a, f.group()?, publish)
            .await
            .map(drop),
        (_, Some(id)) => s.app.group_buys().update_group_buy(a, id, f.group()?).await,
    }
}

/// Save a form. The flash-sale and group-buy forms are `multipart/form-data` with a file input
/// (商品图片), so the image travels with the form in one request and works without
/// JavaScript (forms.js only previews the chosen file): a chosen file is checked and stored
/// first (`POST /api/v1/media`'s rules), its id becomes the form's `image_id`, then the
/// campaign is saved. A refused image comes back on the form under the file input with every
/// typed value kept; a refused save keeps the uploaded image (by its id) so it is not sent
/// again.
async fn submit(
    s: AppState,
    c: Console,
    what: &str,
    id: Option<i64>,
    mut f: PromoForm,
    file: Option<Bytes>,
) -> Response {
    let Some(w) = parse_what(what) else {
        return error_page(c.ctx, AppError::NotFound { what: "page" });
    };
    if let Some(bytes) = file.filter(|_| w != "coupon") {
        match s.app.media().upload_image(&c.session.actor, &bytes).await {
            Ok((row, _)) => {
                f.image_id = row.id.to_string();
                f.remove_image.clear();
            }
            Err(e) => {
                let (status, err) = form_error(c.ctx.tr, e);
                return form_page(&s, c, w, id, f, status, Some(err)).await;
            }
        }
    }
    match save(&s, &c, w, id, &f).await {
        Ok(()) => Redirect::to("/console/promotions?ok=saved").into_response(),
        Err(e) => {
            let (status, mut err) = form_error(c.ctx.tr, e);
            err.field = f.field_of(&err.field).to_owned();
            form_page(&s, c, w, id, f, status, Some(err)).await
        }
    }
}

pub async fn create(
    State(s): State<AppState>,
    axum::extract::Path(what): axum::extract::Path<String>,
    ConsoleUpload(c, f, file): ConsoleUpload<PromoForm>,
) -> Response {
    submit(s, c, &what, None, f, file).await
}

pub async fn update(
    State(s): State<AppState>,
    axum::extract::Path((what, id)): axum::extract::Path<(String, i64)>,
    ConsoleUpload(c, f, file): ConsoleUpload<PromoForm>,
) -> Response {
    submit(s, c, &what, Some(id), f, file).await
}

/// A campaign's name, its history in the reader's words, and whether it has any.
async fn campaign_impact(
    s: &AppState,
    c: &Console,
    w: &str,
    id: i64,
) -> Result<(String, String, bool), AppError> {
    let (a, tr) = (&c.session.actor, c.ctx.tr);
    Ok(match w {
        "coupon" => {
            let t = s.app.coupons().coupon_template(a, id).await?;
            let (claims, used) = t.stats.as_ref().map_or((0, 0), |st| (st.claims, st.used));
            let has = claims > 0 || t.stats.as_ref().is_some_and(|st| st.coupons > 0);
            let line = tr.fill(
                "confirm.coupon_history",
                &[("claims", &grouped(claims)), ("used", &grouped(used))],
            );
            (
                tr.fill("confirm.coupon", &[("name", &t.row.name)]),
                line,
                has || t.row.sold > 0,
            )
        }
        "flash" => {
            let f = s.app.flash_sales().flash_sale_for_staff(a, id).await?;
            let n = f.counts.a + f.counts.b + f.counts.c;
            let line = tr.fill(
                "confirm.flash_history",
                &[("n", &grouped(n)), ("paid", &grouped(f.counts.b))],
            );
            (
                tr.fill("confirm.flash", &[("name", &f.row.name)]),
                line,
                n > 0 || f.row.sold > 0,
            )
        }
        _ => {
            let g = s.app.group_buys().group_buy_for_staff(a, id).await?;
            let n = g.counts.a + g.counts.b + g.counts.c;
            let line = tr.fill(
                "confirm.group_buy_history",
                &[("n", &grouped(n)), ("filled", &grouped(g.counts.b))],
            );
            (
                tr.fill("confirm.group_buy", &[("name", &g.row.name)]),
                line,
                n > 0 || g.row.sold > 0,
            )
        }
    })
}

/// Confirm removing a coupon template, flash sale or group-buy: its claims (or teams), and
/// whether it will be archived (it has history) or deleted (it has none).
pub async fn delete_confirm(
    State(s): State<AppState>,
    c: Console,
    axum::extract::Path((what, id)): axum::extract::Path<(String, i64)>,
) -> Response {
    let Some(w) = parse_what(&what) else {
        return error_page(c.ctx, AppError::NotFound { what: "page" });
    };
    if !c.session.actor.can(Permission::ManagePromotions) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let (subject, line, has_history) = match campaign_impact(&s, &c, w, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let (outcome, effect) = if has_history {
        ("archive", "confirm.will_archive")
    } else {
        ("delete", "confirm.will_delete")
    };
    let confirm = Confirm {
        subject,
        impact: vec![line, tr.t(effect).to_owned()],
        outcome,
        action: format!("/console/promotions/{what}/{id}/delete"),
        back: "/console/promotions",
    };
    confirm_page(c.ctx, "promotions", confirm)
}

/// 发布 on a draft's page: it opens to customers from its window on.
pub async fn publish(
    State(s): State<AppState>,
    axum::extract::Path((what, id)): axum::extract::Path<(String, i64)>,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    let a = &c.session.actor;
    let r = match parse_what(&what) {
        Some("coupon") => s.app.coupons().publish_coupon_template(a, id).await,
        Some("flash") => s.app.flash_sales().publish_flash_sale(a, id).await,
        Some(_) => s.app.group_buys().publish_group_buy(a, id).await,
        None => Err(AppError::NotFound { what: "page" }),
    };
    match r {
        Ok(_) => see_other("/console/promotions?ok=published"),
        Err(e) => error_page(c.ctx, e),
    }
}

/// Remove a coupon template, flash sale or group-buy: archived when it has history, else
/// deleted; the flash message says which.
pub async fn delete(
    State(s): State<AppState>,
    axum::extract::Path((what, id)): axum::extract::Path<(String, i64)>,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    let a = &c.session.actor;
    let r = match parse_what(&what) {
        Some("coupon") => s.app.coupons().delete_coupon_template(a, id).await,
        Some("flash") => s.app.flash_sales().delete_flash_sale(a, id).await,
        Some(_) => s.app.group_buys().delete_group_buy(a, id).await,
        None => Err(AppError::NotFound { what: "page" }),
    };
    match r {
        Ok(Removal::Deleted) => Redirect::to("/console/promotions?ok=deleted").into_response(),
        Ok(Removal::Archived | Removal::AlreadyArchived) => {
            Redirect::to("/console/promotions?ok=archived#archived").into_response()
        }
        Err(e) => error_page(c.ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_parses_to_fen_without_floats() {
        assert_eq!(yuan_to_fen("p", "12.5"), Ok(1250));
        assert_eq!(yuan_to_fen("p", "0.07"), Ok(7));
        assert_eq!(yuan_to_fen("p", "199"), Ok(19900));
        assert_eq!(yuan_to_fen("p", ""), Ok(0));
        assert!(yuan_to_fen("p", "-1").is_err());
        assert!(yuan_to_fen("p", "1.234").is_err());
        assert!(yuan_to_fen("p", "1e3").is_err());
        assert!(yuan_to_fen("p", ".5").is_err());
    }

    #[test]
    fn forms_round_trip_specs() {
        let mut f = PromoForm::fresh("coupon");
        f.name = "周二会员日".into();
        f.off_yuan = "10".into();
        f.threshold_yuan = "50".into();
        let spec = f.coupon().unwrap().parse().unwrap();
        let back = PromoForm::from_coupon(&spec).coupon().unwrap();
        assert_eq!(back.steps, spec.steps);
        assert_eq!(back.claim_window, spec.claim_window);
    }
}
