//! The membership tiers page (会员等级, issue #22 item 1): `/console/loyalty/tiers` shows the
//! program (metric, period, grace, each tier's threshold and benefits and its members in the
//! reader's scope) to everyone who sees customers, with the form that replaces it for
//! operators and admins; `/console/loyalty/tiers/{id}` lists a tier's members.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::audit::{Page, Paged};
use yutang_app::loyalty::tiers::{MemberRow, ProgramView, TierView};
use yutang_core::FieldError;
use yutang_core::loyalty::tiers::{MAX_TIERS, TierMetric, TierProgram, TierSpec};
use yutang_core::staff::Permission;

use super::layout::{
    ConsoleForm, ConsoleQuery, FormError, Pager, error_page, field_error, form_error, pager,
    see_other,
};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

const PATH: &str = "/console/loyalty/tiers";
/// Empty rows under the tiers in force, to add tiers with.
const SPARE_ROWS: usize = 2;

/// The texts of these pages (`tier.*`), zh and en.
pub fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "tier.nav" => ("会员等级", "Membership tiers"),
        "tier.title" => ("会员等级", "Membership tiers"),
        "tier.hint" => (
            "会员按近 365 天的一项指标评定等级：订单达到更高等级的门槛即刻升级；等级至少保持一个保级周期，周期结束后还有宽限期可再次达标，之后每日评定才会按当时的指标降级（最多降到指标对应的等级）。退款不会立即降级。",
            "Members are ranked on one metric over the last 365 days: an order that reaches a higher tier's threshold upgrades at once; a tier is held for at least one period, then a grace during which the member can re-qualify; only then does the daily review move them down, at most to the tier their metric earns. Refunds never downgrade at once.",
        ),
        "tier.none" => ("尚未设置会员等级。", "No membership tiers are set up yet."),
        "tier.metric" => ("评定指标", "Metric"),
        "tier.period" => ("保级周期（月）", "Held for (months)"),
        "tier.grace" => ("宽限期（天）", "Grace (days)"),
        "tier.name" => ("等级名称", "Name"),
        "tier.key" => ("标识", "Key"),
        "tier.rank" => ("级别", "Rank"),
        "tier.threshold" => ("门槛", "Threshold"),
        "tier.discount" => ("会员折扣（% off）", "Member discount (% off)"),
        "tier.multiplier" => ("积分倍数（‰）", "Points multiplier (‰)"),
        "tier.pack" => ("每月券包（券 ID）", "Monthly coupons (template ids)"),
        "tier.birthday" => ("生日礼（券 ID）", "Birthday gift (template id)"),
        "tier.shipping" => ("包邮门槛（元）", "Free shipping from (CNY)"),
        "tier.members" => ("会员数", "Members"),
        "tier.members_title_fmt" => ("{name} · 会员", "{name} · members"),
        "tier.back" => ("返回会员等级", "Back to membership tiers"),
        "tier.customer" => ("客户", "Customer"),
        "tier.since" => ("成为该等级", "In tier since"),
        "tier.held_until" => ("保级至", "Held until"),
        "tier.no_members" => ("该等级暂无会员。", "No members in this tier yet."),
        "tier.edit" => ("设置会员等级", "Set up the tiers"),
        "tier.form_hint" => (
            "保存即整体替换：级别越高门槛须越高，最低级别门槛为 0；标识用于分群条件 tier = \"标识\"。留空标识和名称的行会被忽略；删除仍有会员的等级会被拒绝。消费门槛单位为分（¥500 = 50000），积分倍数 1000 = 1 倍。",
            "Saving replaces the whole program: each higher rank needs a higher threshold and the lowest is 0; the key is what segments match (tier = \"key\"). Rows without key and name are ignored; removing a tier that still has members is refused. Spend thresholds are in fen (¥500 = 50000); a multiplier of 1000 is ×1.",
        ),
        "tier.updated_fmt" => ("上次修改：{at}，{by}", "Last changed {at} by {by}"),
        "tier.none_set" => ("—", "—"),
        "tier.card" => ("会员等级", "Membership tier"),
        "tier.card_none" => ("未入会（尚无订单）", "Not in the program yet (no order)"),
        "tier.next_fmt" => (
            "距 {name} 还差 {remaining}（{percent}%）",
            "{remaining} to {name} ({percent}%)",
        ),
        "tier.metric.spend_12m" => ("近 12 个月消费额", "Spend, last 12 months"),
        "tier.metric.points_12m" => ("近 12 个月获得积分", "Points earned, last 12 months"),
        "tier.metric.orders_12m" => ("近 12 个月订单数", "Orders, last 12 months"),
        "tier.direction.upgrade" => ("升级", "Upgrade"),
        "tier.direction.downgrade" => ("降级", "Downgrade"),
        "tier.points_fmt" => ("{n} 积分", "{n} points"),
        "tier.orders_fmt" => ("{n} 单", "{n} orders"),
        _ => return None,
    })
}

/// A metric value as text: ¥ for spend, points, orders.
pub(crate) fn metric_text(ctx: &Ctx, metric: TierMetric, v: i64) -> String {
    match metric {
        TierMetric::Spend12m => format!("¥{}", ctx.yuan(&v)),
        TierMetric::Points12m => ctx.tr.fill("tier.points_fmt", &[("n", &v.to_string())]),
        TierMetric::Orders12m => ctx.tr.fill("tier.orders_fmt", &[("n", &v.to_string())]),
    }
}

/// One tier as the table shows it.
struct TierLine {
    id: i64,
    name: String,
    key: String,
    rank: i64,
    threshold: String,
    discount: String,
    multiplier: String,
    pack: String,
    birthday: String,
    shipping: String,
    members: i64,
}

/// One row of the form (the values typed, kept on a refusal).
#[derive(Default)]
struct FormRow {
    i: usize,
    key: String,
    name: String,
    rank: String,
    threshold: String,
    discount: String,
    multiplier: String,
    pack: String,
    birthday: String,
    shipping: String,
}

#[derive(Template)]
#[template(path = "console/tiers.html")]
struct TiersPage {
    ctx: Ctx,
    v: ProgramView,
    lines: Vec<TierLine>,
    can_manage: bool,
    metric: String,
    period: String,
    grace: String,
    rows: Vec<FormRow>,
    error: Option<FormError>,
    metrics: Vec<(&'static str, &'static str)>,
}

impl TiersPage {
    fn new(ctx: Ctx, v: ProgramView, can_manage: bool) -> Self {
        let lines = v.tiers.iter().map(|t| line(&ctx, v.metric, t)).collect();
        let mut rows: Vec<FormRow> = v
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| FormRow {
                i,
                key: t.key.clone(),
                name: t.name.clone(),
                rank: t.rank.to_string(),
                threshold: t.threshold.to_string(),
                discount: t.discount_percent.to_string(),
                multiplier: t.points_multiplier.to_string(),
                pack: ids(&t.monthly_coupon_template_ids),
                birthday: t
                    .birthday_coupon_template_id
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
                shipping: t
                    .free_shipping_threshold_fen
                    .map(|f| f.to_string())
                    .unwrap_or_default(),
            })
            .collect();
        let n = rows.len();
        rows.extend((n..n + SPARE_ROWS).map(|i| FormRow {
            i,
            ..FormRow::default()
        }));
        let metrics = TierMetric::ALL
            .iter()
            .map(|m| (m.as_str(), ctx.tr.t(&format!("tier.metric.{}", m.as_str()))))
            .collect();
        Self {
            metric: v.metric.as_str().to_owned(),
            period: v.period_months.to_string(),
            grace: v.grace_days.to_string(),
            ctx,
            v,
            lines,
            can_manage,
            rows,
            error: None,
            metrics,
        }
    }

    fn metric_label(&self) -> &'static str {
        self.ctx
            .tr
            .t(&format!("tier.metric.{}", self.v.metric.as_str()))
    }

    fn updated_text(&self) -> Option<String> {
        self.v.updated_at.map(|at| {
            self.ctx.tr.fill(
                "tier.updated_fmt",
                &[("at", &self.ctx.time(&at)), ("by", &self.v.updated_by)],
            )
        })
    }
}

fn ids(v: &[i64]) -> String {
    v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

fn line(ctx: &Ctx, metric: TierMetric, t: &TierView) -> TierLine {
    let none = ctx.tr.t("tier.none_set").to_owned();
    TierLine {
        id: t.id,
        name: t.name.clone(),
        key: t.key.clone(),
        rank: t.rank,
        threshold: metric_text(ctx, metric, t.threshold),
        discount: if t.discount_percent > 0 {
            format!("{}%", t.discount_percent)
        } else {
            none.clone()
        },
        multiplier: format!("×{}", t.points_multiplier as f64 / 1000.0),
        pack: if t.monthly_coupon_template_ids.is_empty() {
            none.clone()
        } else {
            t.monthly_coupon_template_ids
                .iter()
                .map(|i| format!("#{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        },
        birthday: t
            .birthday_coupon_template_id
            .map_or(none.clone(), |b| format!("#{b}")),
        shipping: t
            .free_shipping_threshold_fen
            .map_or(none, |f| format!("¥{}", ctx.yuan(&f))),
        members: t.members,
    }
}

fn can_manage(c: &Console) -> bool {
    c.session.actor.can(Permission::ManagePromotions)
}

/// `GET /console/loyalty/tiers`.
pub async fn page(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "tiers";
    let manage = can_manage(&c);
    match s.app.tiers().program(&c.session.actor).await {
        Ok(v) => render(StatusCode::OK, &TiersPage::new(c.ctx, v, manage)),
        Err(e) => error_page(c.ctx, e),
    }
}

fn int(field: &'static str, s: &str) -> Result<Option<i64>, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>()
        .map(Some)
        .map_err(|_| FieldError::new(field, "invalid_number", "a whole number"))
}

fn row_of(f: &HashMap<String, String>, i: usize) -> FormRow {
    let get = |name: &str| f.get(&format!("{name}_{i}")).cloned().unwrap_or_default();
    FormRow {
        i,
        key: get("key"),
        name: get("name"),
        rank: get("rank"),
        threshold: get("threshold"),
        discount: get("discount"),
        multiplier: get("multiplier"),
        pack: get("pack"),
        birthday: get("birthday"),
        shipping: get("shipping"),
    }
}

fn spec_of(r: &FormRow) -> Result<TierSpec, FieldError> {
    let required = |field: &'static str, v: Option<i64>| {
        v.ok_or_else(|| FieldError::new(field, "required", "required"))
    };
    let pack = r
        .pack
        .split([',', '，', ' '])
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| {
                    FieldError::new(
                        "tiers.monthly_coupon_template_ids",
                        "invalid_ids",
                        "coupon template ids separated by commas",
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TierSpec {
        key: r.key.trim().to_owned(),
        name: r.name.trim().to_owned(),
        rank: required("tiers.rank", int("tiers.rank", &r.rank)?)?,
        threshold: required("tiers.threshold", int("tiers.threshold", &r.threshold)?)?,
        discount_percent: int("tiers.discount_percent", &r.discount)?.unwrap_or(0),
        points_multiplier: int("tiers.points_multiplier", &r.multiplier)?.unwrap_or(1000),
        monthly_coupon_template_ids: pack,
        birthday_coupon_template_id: int(
            "tiers.birthday_coupon_template_id",
            r.birthday.trim_start_matches('#'),
        )?,
        free_shipping_threshold_fen: int("tiers.free_shipping_threshold_fen", &r.shipping)?,
    })
}

/// `POST /console/loyalty/tiers`: replace the program, then back to the page (`?ok=saved`).
pub async fn save(
    State(s): State<AppState>,
    ConsoleForm(mut c, f): ConsoleForm<HashMap<String, String>>,
) -> Response {
    c.ctx.active = "tiers";
    let tr = c.ctx.tr;
    let actor = &c.session.actor;
    let rows: Vec<FormRow> = (0..MAX_TIERS + SPARE_ROWS).map(|i| row_of(&f, i)).collect();
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let parsed = (|| -> Result<TierProgram, FieldError> {
        let tiers = rows
            .iter()
            .filter(|r| !(r.key.trim().is_empty() && r.name.trim().is_empty()))
            .map(spec_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TierProgram {
            metric: TierMetric::parse("metric", &field("metric"))?,
            period_months: int("period_months", &field("period_months"))?.unwrap_or(12),
            grace_days: int("grace_days", &field("grace_days"))?.unwrap_or(30),
            tiers,
        })
    })();
    let result = match parsed {
        Ok(p) => s
            .app
            .tiers()
            .save_program(actor, p)
            .await
            .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    let (status, error) = match result {
        Ok(_) => return see_other(&format!("{PATH}?ok=saved")),
        Err(e) => e,
    };
    if status == StatusCode::FORBIDDEN {
        return error_page(c.ctx, yutang_app::AppError::Forbidden);
    }
    let manage = can_manage(&c);
    match s.app.tiers().program(actor).await {
        Ok(v) => {
            let mut page = TiersPage::new(c.ctx, v, manage);
            // The values typed, the blank rows after them.
            let mut kept: Vec<FormRow> = rows
                .into_iter()
                .filter(|r| !(r.key.is_empty() && r.name.is_empty()))
                .collect();
            let n = kept.len();
            for (i, r) in kept.iter_mut().enumerate() {
                r.i = i;
            }
            kept.extend((n..n + SPARE_ROWS).map(|i| FormRow {
                i,
                ..FormRow::default()
            }));
            page.rows = kept;
            page.metric = field("metric");
            page.period = field("period_months");
            page.grace = field("grace_days");
            page.error = Some(error);
            render(status, &page)
        }
        Err(e) => error_page(c.ctx, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MembersQuery {
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/tier_members.html")]
struct MembersPage {
    ctx: Ctx,
    title: String,
    tier: TierLine,
    members: Paged<MemberRow>,
    pager: Pager,
}

/// `GET /console/loyalty/tiers/{id}`: the tier's members in the reader's scope.
pub async fn members(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<MembersQuery>,
) -> Response {
    c.ctx.active = "tiers";
    let actor = &c.session.actor;
    let page = match Page::parse(q.page, Some(50)) {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e.into()),
    };
    let program = match s.app.tiers().program(actor).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let Some(t) = program.tiers.iter().find(|t| t.id == id) else {
        return error_page(c.ctx, yutang_app::AppError::NotFound { what: "tier" });
    };
    let members = match s.app.tiers().members(actor, id, page).await {
        Ok(m) => m,
        Err(e) => return error_page(c.ctx, e),
    };
    let tier = line(&c.ctx, program.metric, t);
    let title = c
        .ctx
        .tr
        .fill("tier.members_title_fmt", &[("name", &t.name)]);
    let pager = pager(
        &format!("{PATH}/{id}"),
        &[],
        page.number,
        page.size,
        members.total,
    );
    render(
        StatusCode::OK,
        &MembersPage {
            ctx: c.ctx,
            title,
            tier,
            members,
            pager,
        },
    )
}

/// The customer 360 page's tier block: the tier (or "not in the program"), since when and
/// until when it is held, the metric and the progress to the next tier. None without a tier
/// program (or when the card cannot be read).
pub(crate) async fn customer_lines(
    s: &AppState,
    ctx: &Ctx,
    actor: &yutang_app::Actor,
    customer: i64,
) -> Option<Vec<String>> {
    let v = s
        .app
        .tiers()
        .customer_tier(actor, yutang_core::ids::CustomerId(customer))
        .await
        .ok()?;
    if v.tier.is_none() && v.next.is_none() {
        return None;
    }
    let tr = ctx.tr;
    let mut lines = Vec::new();
    match (&v.tier, v.tier_since, v.held_until) {
        (Some(t), Some(since), Some(until)) => lines.push(format!(
            "{} · {} {} · {} {}",
            t.name,
            tr.t("tier.since"),
            ctx.time(&since),
            tr.t("tier.held_until"),
            ctx.time(&until)
        )),
        _ => lines.push(tr.t("tier.card_none").to_owned()),
    }
    lines.push(format!(
        "{}: {}",
        tr.t(&format!("tier.metric.{}", v.metric.as_str())),
        metric_text(ctx, v.metric, v.metric_value)
    ));
    if let Some(n) = &v.next {
        lines.push(tr.fill(
            "tier.next_fmt",
            &[
                ("name", &n.name),
                ("remaining", &metric_text(ctx, v.metric, n.remaining)),
                ("percent", &n.percent.to_string()),
            ],
        ));
    }
    Some(lines)
}
