//! Console pages for invite-a-friend (邀请有礼, issue #19 item 5): the programs with their
//! totals, the create/edit form (a refused field named under its input, the rule's nested
//! fields too), a program's page (settings, totals, refusals by rule, the inviters'
//! leaderboard, the attempts with their status filter and pages), an inviter's link with its
//! QR code, and archiving behind a confirmation page. Thin handlers over
//! `app.acquisition()`; every refusal, status and reward state is shown in the reader's
//! language (the texts are here, under `ref.`, and `i18n::lookup` reads them).
//!
//! Links: a POST makes an inviter's link (a guide their own in one click; operators and admins
//! anyone's) and leads to the link page. The link page and its QR files ask for the link the
//! same way; a link is made once per inviter and program, so they show that one link and
//! never make another.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::acquisition::referrals::{
    Inviter, InviterRow, LinkView, ProgramView, ReferralListRow,
};
use yutang_app::audit::Page;
use yutang_app::org::StoreQuery;
use yutang_app::staff::StaffQuery;
use yutang_core::FieldError;
use yutang_core::acquisition::CodeKind;
use yutang_core::acquisition::referrals::{
    MAX_MIN_ORDER_FEN, Qualification, QualificationKind, ReferralSpec,
};
use yutang_core::ids::{CustomerId, StaffId};
use yutang_core::staff::{Permission, StaffStatus};

use super::confirm::{Confirm, confirm_page, grouped};
use super::layout::{
    ConsoleForm, ConsoleQuery, CsrfForm, FormError, Pager, error_for, error_page, field_error,
    form_error, nonempty, pager, see_other,
};
use super::promotions::yuan_to_fen;
use super::share::download;
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::qr::Matrix;
use crate::state::AppState;

/// The attempts' statuses, in the order a friend goes through them.
const STATUSES: [&str; 5] = ["bound", "qualifying", "rewarded", "disqualified", "refused"];
/// Attempts on one page of the program's page.
const PAGE_SIZE: i64 = 50;

/// `(zh, en)` for a `ref.` key: the console's referral pages and the H5 invite page.
pub fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "ref.nav" => ("邀请有礼", "Invite a friend"),
        "ref.title" => ("邀请有礼", "Invite a friend"),
        "ref.list_hint" => (
            "老带新：每位顾客或导购都有自己的邀请链接。好友通过链接添加导购（或在邀请页登录后接受邀请）即绑定到邀请人，达标后双方各得奖励，只发一次。自己邀请自己、已是老客户、同一手机号或 unionid 对应多位好友、超出每日上限的邀请会被拒绝，并记录原因。",
            "Each customer or guide gets a personal invite link. A friend who adds a guide through it (or accepts the invite on its page, signed in) is bound to the inviter; when the friend qualifies, both sides are rewarded, once. Self-invites, friends already in the pool, one phone or unionid behind several friends and rewards over the daily cap are refused, with the reason recorded.",
        ),
        "ref.new" => ("新建活动", "New program"),
        "ref.edit" => ("编辑活动", "Edit program"),
        "ref.archive" => ("归档活动", "Archive program"),
        "ref.show_archived" => ("查看已归档活动", "Show archived programs"),
        "ref.show_active" => ("返回进行中的活动", "Back to live programs"),
        "ref.archived_list" => ("已归档", "Archived"),
        "ref.no_programs" => (
            "还没有邀请有礼活动。先在「渠道活码」中建好活码，再新建活动。",
            "No referral programs yet. Make a live code under Channels first, then a program.",
        ),
        "ref.back_list" => ("← 全部活动", "← All programs"),
        "ref.to_channels" => ("渠道活码", "Channels and live codes"),
        "ref.program" => ("邀请有礼活动", "Referral program"),
        "ref.name" => ("活动名称", "Program name"),
        "ref.ex_name" => ("如：邀好友 得50元券", "e.g. Invite a friend, get 50 CNY"),
        "ref.help_name" => (
            "1–40 个字符，显示在邀请页上。",
            "1–40 characters, shown on the invite page.",
        ),
        "ref.live_code" => ("活码", "Live code"),
        "ref.help_live_code" => (
            "好友通过这个活码添加导购。获客链接活码：好友点链接添加导购即绑定邀请人；二维码活码：好友须在邀请页登录后接受邀请才会绑定（企业微信的二维码不能带上每位邀请人的标识）。",
            "Friends add a guide through this code. An acquisition link binds the friend when they add the guide through it; a QR code only when the friend accepts the invite on its page, signed in (WeCom's QR codes cannot carry each inviter's mark).",
        ),
        "ref.no_codes" => (
            "还没有可用的活码：请先到「渠道活码」新建一个。",
            "No live code to choose: make one under Channels first.",
        ),
        "ref.choose" => ("请选择", "Choose"),
        "ref.code_kind.link" => ("获客链接", "Acquisition link"),
        "ref.code_kind.contact_way" => ("二维码", "QR code"),
        "ref.code_n" => ("活码 #{id}", "Live code #{id}"),
        "ref.description" => ("活动说明", "Description"),
        "ref.dates" => ("活动日期", "Dates"),
        "ref.help_description" => (
            "最多 200 个字符，显示在邀请页上。",
            "At most 200 characters, shown on the invite page.",
        ),
        "ref.help_dates" => (
            "在这些日期内（上海时间，含首尾两天）好友才能被绑定；已绑定的好友之后仍可达标。留空表示不限。",
            "Friends can be bound on these days (Shanghai, both included); friends bound in time still qualify later. Leave empty for no limit.",
        ),
        "ref.rule" => ("达标规则", "Qualification"),
        "ref.kind.first_order" => ("好友首单", "The friend's first order"),
        "ref.kind.added" => ("好友添加导购", "The friend adds a guide"),
        "ref.min_order" => ("首单最低实付（元）", "Least first order (CNY)"),
        "ref.help_min_order" => (
            "以元为单位，最多两位小数，如 50 或 49.90；留空为 0。仅「好友首单」规则使用。",
            "In CNY with at most two decimals, e.g. 50 or 49.90; empty is 0. Used by the first-order rule only.",
        ),
        "ref.hold_days" => ("等待期（天）", "Hold (days)"),
        "ref.help_hold_days" => (
            "0–30 天：首单在此期间未退款（或添加后未删除导购）才发奖励。",
            "0–30 days: the rewards wait until the order was not refunded (or the guide not deleted) for this long.",
        ),
        "ref.invitee_reward" => ("好友奖励", "Friend's reward"),
        "ref.help_invitee_reward" => (
            "好友达标后获得的优惠券。",
            "The coupon the friend gets on qualifying.",
        ),
        "ref.inviter_reward" => ("邀请人奖励", "Inviter's reward"),
        "ref.help_inviter_reward" => (
            "邀请人是顾客时获得的优惠券；导购的邀请只计入排行，不发券。",
            "The coupon an inviting customer gets; a guide's invites count on the leaderboard and get no coupon.",
        ),
        "ref.daily_cap" => ("邀请人每日奖励上限", "Inviter's daily reward cap"),
        "ref.help_daily_cap" => (
            "1–1000：同一邀请人每天（上海时间）最多获得的奖励数，超出的不发并记录原因。",
            "1–1000: the most rewards one inviter gets a day (Shanghai); those beyond are withheld and recorded.",
        ),
        "ref.rule.order_min" => (
            "好友首单实付满 ¥{min}",
            "The friend's first order of at least ¥{min}",
        ),
        "ref.rule.order_any" => ("好友完成首单", "The friend's first order"),
        "ref.rule.added" => ("好友添加导购", "The friend adds a guide"),
        "ref.rule.hold_refund" => (
            "，{days} 天内未退款即达标",
            ", not refunded within {days} days",
        ),
        "ref.rule.hold_delete" => (
            "，{days} 天内未删除导购即达标",
            ", not deleting the guide within {days} days",
        ),
        "ref.rule.at_once" => ("即达标", " counts at once"),
        "ref.cap_n" => ("每天最多 {n} 个", "At most {n} a day"),
        "ref.coupon_n" => ("优惠券 #{id}", "Coupon #{id}"),
        "ref.customer_n" => ("顾客 #{id}", "Customer #{id}"),
        "ref.staff_n" => ("员工 #{id}", "Staff #{id}"),
        "ref.running" => ("进行中", "Running"),
        "ref.not_running" => ("未在进行中", "Not running"),
        // Totals.
        "ref.links" => ("邀请链接", "Links"),
        "ref.visits" => ("访问次数", "Visits"),
        "ref.bound" => ("绑定好友", "Friends bound"),
        "ref.qualifying" => ("等待期中", "In hold"),
        "ref.rewarded" => ("已奖励", "Rewarded"),
        "ref.disqualified" => ("未达标", "Disqualified"),
        "ref.refused" => ("被拒绝", "Refused"),
        "ref.invitee_issued" => ("好友券已发", "Friends' coupons issued"),
        "ref.inviter_issued" => ("邀请人券已发", "Inviters' coupons issued"),
        "ref.inviter_withheld" => ("邀请人奖励超上限未发", "Inviters' rewards over the cap"),
        "ref.orders" => ("好友订单", "Friends' orders"),
        "ref.gmv" => ("好友实付（元）", "Friends' GMV (CNY)"),
        "ref.rewards_used" => ("已核销奖励券", "Reward coupons used"),
        "ref.reward_cost" => ("奖励成本（元）", "Reward cost (CNY)"),
        "ref.refusals" => ("被拒绝的邀请（按原因）", "Refused invitations, by rule"),
        "ref.no_refusals" => ("没有被拒绝的邀请", "No refused invitations"),
        "ref.count" => ("次数", "Count"),
        // Statuses, reasons, rewards, ways.
        "ref.status.bound" => ("已绑定", "Bound"),
        "ref.status.qualifying" => ("等待期中", "In hold"),
        "ref.status.rewarded" => ("已奖励", "Rewarded"),
        "ref.status.disqualified" => ("未达标", "Disqualified"),
        "ref.status.refused" => ("已拒绝", "Refused"),
        "ref.reason.self_invite" => ("自己邀请自己", "Invited themselves"),
        "ref.reason.already_in_pool" => ("已是老客户", "Already a customer"),
        "ref.reason.already_invited" => ("已被邀请过", "Already invited"),
        "ref.reason.identity_reused" => (
            "同一手机号/unionid 对应多位好友",
            "One phone or unionid behind several friends",
        ),
        "ref.reason.program_not_running" => ("活动未进行", "The program is not running"),
        "ref.reason.order_refunded" => ("订单已退款", "The order was refunded"),
        "ref.reason.contact_deleted" => ("已删除导购", "Deleted the guide"),
        "ref.reason.inviter_daily_cap" => (
            "邀请人当日奖励已达上限",
            "The inviter's rewards for the day reached the cap",
        ),
        "ref.reward.pending" => ("待发放", "Pending"),
        "ref.reward.issued" => ("已发放", "Issued"),
        "ref.reward.refused" => ("发放失败", "Not issued"),
        "ref.reward.withheld" => ("超上限未发", "Withheld (cap)"),
        "ref.via.add" => ("添加导购", "Added a guide"),
        "ref.via.page" => ("邀请页接受", "Accepted on the page"),
        // The program page.
        "ref.settings" => ("活动设置", "Settings"),
        "ref.leaderboard" => ("邀请排行", "Leaderboard"),
        "ref.rank" => ("名次", "Rank"),
        "ref.inviter" => ("邀请人", "Inviter"),
        "ref.inviter_kind" => ("身份", "Who"),
        "ref.inviter_kind.customer" => ("顾客", "Customer"),
        "ref.inviter_kind.staff" => ("员工", "Staff"),
        "ref.no_inviters" => ("还没有邀请链接", "No links yet"),
        "ref.attempts" => ("邀请记录", "Invitations"),
        "ref.attempts_hint" => (
            "每次好友通过链接添加导购或在邀请页接受邀请都记一条，被拒绝的也记录原因。",
            "Every add through a link and every acceptance on the page is one row; refused ones with their reason.",
        ),
        "ref.friend" => ("好友", "Friend"),
        "ref.via" => ("方式", "How"),
        "ref.status" => ("状态", "Status"),
        "ref.reason" => ("原因", "Reason"),
        "ref.qualifies_at" => ("奖励发放时间", "Rewards due"),
        "ref.at" => ("时间", "When"),
        "ref.all_statuses" => ("全部状态", "Every status"),
        "ref.show_link" => ("查看链接", "Link"),
        // Links.
        "ref.get_link" => ("获取邀请链接", "Get an invite link"),
        "ref.get_link_hint" => (
            "每位邀请人在一个活动中只有一条链接，重复获取得到的是同一条。",
            "Each inviter has one link per program; asking again gives the same link.",
        ),
        "ref.my_link" => ("获取我的邀请链接", "Get my invite link"),
        "ref.for_staff" => ("为员工获取", "For a staff member"),
        "ref.for_customer" => ("为顾客获取", "For a customer"),
        "ref.customer_id" => ("顾客 ID", "Customer id"),
        "ref.get" => ("获取", "Get"),
        "ref.archived_no_links" => (
            "活动已归档，不能再获取邀请链接。",
            "The program is archived: no more links.",
        ),
        "ref.link_title" => ("{name}的邀请链接", "{name}'s invite link"),
        "ref.link_hint" => (
            "把链接或二维码发给好友：好友打开邀请页即可添加导购。",
            "Send the link or the QR code to friends: the invite page leads them to a guide.",
        ),
        "ref.open_page" => ("打开邀请页", "Open the invite page"),
        "ref.state" => ("企业微信 state：", "WeCom state: "),
        "ref.visits_n" => ("访问次数：{n}", "Visits: {n}"),
        "ref.state_hint" => (
            "好友通过此链接添加导购时，企业微信带回这个 state，好友即绑定到邀请人。",
            "When a friend adds the guide through this link, WeCom sends this state back and the friend is bound to the inviter.",
        ),
        "ref.contact_way_hint" => (
            "二维码活码：好友须在邀请页登录后点「接受邀请」才会绑定到邀请人。",
            "QR-code live code: a friend is bound only by accepting the invite on its page, signed in.",
        ),
        "ref.back_program" => ("← 返回活动", "← Back to the program"),
        // Archiving.
        "ref.confirm_subject" => ("邀请有礼活动「{name}」", "Referral program “{name}”"),
        "ref.confirm_links" => (
            "{n} 条邀请链接将不再绑定新的好友",
            "{n} invite links will bind no new friends",
        ),
        "ref.confirm_bound" => (
            "已绑定的 {n} 位好友仍按规则达标并获得奖励",
            "The {n} friends bound so far still qualify and are rewarded",
        ),
        // The H5 invite page (the friend's view).
        "ref.h5.invites_you" => ("{name} 邀请你", "{name} invites you"),
        "ref.h5.a_friend" => ("好友", "A friend"),
        "ref.h5.rule" => ("活动规则", "How it works"),
        "ref.h5.rule.order_min" => (
            "添加导购后，首单实付满 ¥{min}",
            "Add the guide, then place a first order of at least ¥{min}",
        ),
        "ref.h5.rule.order_any" => (
            "添加导购后完成首单",
            "Add the guide, then place a first order",
        ),
        "ref.h5.rule.added" => ("添加导购", "Add the guide"),
        "ref.h5.rule.hold_refund" => ("，{days} 天内未退款", ", not refunded within {days} days"),
        "ref.h5.rule.hold_delete" => (
            "，并保持好友 {days} 天",
            ", and stay in touch for {days} days",
        ),
        "ref.h5.rule.at_once" => ("", ""),
        "ref.h5.gift" => (
            "，即可获得好友专享优惠券。",
            ", and you get a welcome coupon.",
        ),
        "ref.h5.done" => ("，即为邀请成功。", ", and the invitation counts."),
        "ref.h5.running" => ("活动进行中", "The program is running"),
        "ref.h5.ended" => (
            "活动未在进行中（未开始或已结束）",
            "The program is not running (not started or over)",
        ),
        "ref.h5.add_guide" => ("添加导购", "Add the guide"),
        "ref.h5.scan_link" => (
            "在电脑上打开？用微信扫码添加导购",
            "On a computer? Scan with WeChat to add the guide",
        ),
        "ref.h5.scan_qr" => (
            "长按或扫码，添加导购",
            "Press and hold or scan to add the guide",
        ),
        "ref.h5.no_qr" => (
            "添加导购的入口暂未生成，请稍后再试",
            "The way to add the guide is not ready yet; try again later",
        ),
        "ref.h5.accept" => ("接受邀请", "Accept the invitation"),
        "ref.h5.accept_hint" => (
            "已登录：接受邀请后，你就绑定到这位邀请人。",
            "Signed in: accept to be bound to this inviter.",
        ),
        "ref.h5.login" => ("登录后可接受邀请", "Sign in to accept the invitation"),
        "ref.h5.js.bound" => (
            "已接受邀请，按活动规则达标后即可获得奖励",
            "Accepted: meet the rule above to be rewarded",
        ),
        "ref.h5.js.qualifying" => (
            "你已达标，等待期结束后发放奖励",
            "You qualified: the rewards come when the hold is over",
        ),
        "ref.h5.js.rewarded" => ("奖励已发放", "Rewarded"),
        "ref.h5.js.disqualified" => ("未达到活动条件", "The rule was not met"),
        "ref.h5.js.refused" => (
            "无法接受邀请：{r}",
            "The invitation cannot be accepted: {r}",
        ),
        _ => return None,
    })
}

fn can_manage(c: &Console) -> bool {
    c.session.actor.can(Permission::ManagePromotions)
}

/// `50` or `49.90` (no `.00`).
fn short_yuan(fen: i64) -> String {
    let y = yutang_core::money::Fen(fen).to_string();
    y.strip_suffix(".00").map(str::to_owned).unwrap_or(y)
}

/// The rule in words, from the keys under `prefix` (`ref.rule.` for the console,
/// `ref.h5.rule.` for the friend on the invite page).
pub(crate) fn rule_text(tr: Tr, prefix: &str, q: &Qualification) -> String {
    let k = |name: &str| format!("{prefix}{name}");
    let what = match q.kind {
        QualificationKind::FirstOrder if q.min_order_fen > 0 => {
            tr.fill(&k("order_min"), &[("min", &short_yuan(q.min_order_fen))])
        }
        QualificationKind::FirstOrder => tr.t(&k("order_any")).to_owned(),
        QualificationKind::Added => tr.t(&k("added")).to_owned(),
    };
    let days = q.hold_days.to_string();
    let hold = match q.kind {
        _ if q.hold_days == 0 => tr.t(&k("at_once")).to_owned(),
        QualificationKind::FirstOrder => tr.fill(&k("hold_refund"), &[("days", &days)]),
        QualificationKind::Added => tr.fill(&k("hold_delete"), &[("days", &days)]),
    };
    format!("{what}{hold}")
}

/// A code's label (`ref.status.` + `bound` …), or `-` for an empty code (no reward on that
/// side, no reason).
fn code_label(tr: Tr, prefix: &str, code: &str) -> &'static str {
    if code.is_empty() {
        "-"
    } else {
        tr.t(&format!("{prefix}{code}"))
    }
}

/// `2026-05-01 – 2026-05-31`, `2026-05-01 起`, `至 2026-05-31` or 长期.
fn dates_text(tr: Tr, spec: &ReferralSpec) -> String {
    match (spec.starts_on, spec.ends_on) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        (Some(a), None) => tr.fill("acq.from_day", &[("day", &a.to_string())]),
        (None, Some(b)) => tr.fill("acq.until_day", &[("day", &b.to_string())]),
        (None, None) => tr.t("acq.open_dates").to_owned(),
    }
}

/// A value and its label in a select.
pub struct Pick {
    pub id: i64,
    pub label: String,
}

/// What the pages name by id: live codes (with their channel and kind), stores and coupons,
/// each as the caller may see it.
#[derive(Default)]
struct Names {
    /// id → (label, kind, archived).
    codes: HashMap<i64, (String, CodeKind, bool)>,
    stores: HashMap<i64, String>,
    coupons: HashMap<i64, (String, bool)>,
}

impl Names {
    async fn load(s: &AppState, c: &Console) -> Self {
        let a = &c.session.actor;
        let acq = s.app.acquisition();
        let mut channels = HashMap::new();
        for archived in [false, true] {
            for ch in acq.channels(a, archived).await.unwrap_or_default() {
                channels.insert(ch.id, ch.spec.name);
            }
        }
        let mut codes = HashMap::new();
        for archived in [false, true] {
            for code in acq.live_codes(a, None, archived).await.unwrap_or_default() {
                let label = match channels.get(&code.spec.channel_id) {
                    Some(ch) => format!("{ch} · {}", code.spec.name),
                    None => code.spec.name.clone(),
                };
                codes.insert(code.id, (label, code.spec.kind, code.archived));
            }
        }
        let stores = s
            .app
            .org()
            .list_stores(
                a,
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
            .map(|r| (r.id, r.name))
            .collect();
        let coupons = s
            .app
            .coupons()
            .coupon_templates(a)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.row.id, (t.row.name, t.row.status == "active")))
            .collect();
        Names {
            codes,
            stores,
            coupons,
        }
    }

    fn code(&self, tr: Tr, id: i64) -> String {
        self.codes
            .get(&id)
            .map(|c| c.0.clone())
            .unwrap_or_else(|| tr.fill("ref.code_n", &[("id", &id.to_string())]))
    }

    fn store(&self, tr: Tr, id: Option<i64>) -> String {
        match id {
            None => tr.t("acq.brand_wide").to_owned(),
            Some(id) => self
                .stores
                .get(&id)
                .cloned()
                .unwrap_or_else(|| tr.fill("acq.store_n", &[("id", &id.to_string())])),
        }
    }

    fn coupon(&self, tr: Tr, id: Option<i64>) -> String {
        match id {
            None => tr.t("common.none").to_owned(),
            Some(id) => self
                .coupons
                .get(&id)
                .map(|c| c.0.clone())
                .unwrap_or_else(|| tr.fill("ref.coupon_n", &[("id", &id.to_string())])),
        }
    }

    /// The live codes a program can use (not archived), plus `keep` (the one chosen).
    fn code_picks(&self, tr: Tr, keep: Option<i64>) -> Vec<Pick> {
        let mut picks: Vec<Pick> = self
            .codes
            .iter()
            .filter(|(id, c)| !c.2 || Some(**id) == keep)
            .map(|(id, (label, kind, _))| Pick {
                id: *id,
                label: format!("{label}（{}）", kind_label(tr, *kind)),
            })
            .collect();
        if let Some(k) = keep
            && !self.codes.contains_key(&k)
        {
            picks.push(Pick {
                id: k,
                label: self.code(tr, k),
            });
        }
        picks.sort_by_key(|p| p.id);
        picks
    }

    /// The coupons a reward can be (active), plus the ones chosen.
    fn coupon_picks(&self, tr: Tr, keep: &[Option<i64>]) -> Vec<Pick> {
        let mut picks: Vec<Pick> = self
            .coupons
            .iter()
            .filter(|(id, c)| c.1 || keep.contains(&Some(**id)))
            .map(|(id, c)| Pick {
                id: *id,
                label: c.0.clone(),
            })
            .collect();
        for k in keep.iter().flatten() {
            if !self.coupons.contains_key(k) {
                picks.push(Pick {
                    id: *k,
                    label: self.coupon(tr, Some(*k)),
                });
            }
        }
        picks.sort_by_key(|p| p.id);
        picks
    }
}

fn kind_label(tr: Tr, kind: CodeKind) -> &'static str {
    match kind {
        CodeKind::Link => tr.t("ref.code_kind.link"),
        CodeKind::ContactWay => tr.t("ref.code_kind.contact_way"),
    }
}

/// One program as the list and its page show it.
pub struct ProgramLine {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub code_kind: &'static str,
    pub store: String,
    pub dates: String,
    pub rule: String,
    pub refused: i64,
    pub gmv: String,
    /// What the used reward coupons took off orders, in yuan.
    pub reward_cost: String,
    pub v: ProgramView,
}

fn program_line(tr: Tr, names: &Names, v: ProgramView) -> ProgramLine {
    ProgramLine {
        id: v.id,
        name: v.spec.name.clone(),
        code: names.code(tr, v.spec.live_code_id),
        code_kind: kind_label(tr, v.code_kind),
        store: names.store(tr, v.store_id),
        dates: dates_text(tr, &v.spec),
        rule: rule_text(tr, "ref.rule.", &v.spec.rule()),
        refused: v.totals.refused.iter().map(|(_, n)| n).sum(),
        gmv: yutang_core::money::Fen(v.totals.gmv_fen).to_string(),
        reward_cost: yutang_core::money::Fen(v.totals.reward_cost_fen).to_string(),
        v,
    }
}

// ---------------------------------------------------------------- list

#[derive(Template)]
#[template(path = "console/referrals.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<ProgramLine>,
    archived: bool,
    can_manage: bool,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    archived: Option<String>,
}

/// `/console/referrals`: the programs the caller sees with their totals (`?archived=1`: the
/// archived ones).
pub async fn list(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<ListQuery>,
) -> Response {
    c.ctx.active = "referrals";
    let archived = matches!(q.archived.as_deref(), Some("1" | "true"));
    let views = match s
        .app
        .acquisition()
        .programs(&c.session.actor, archived)
        .await
    {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let names = Names::load(&s, &c).await;
    let tr = c.ctx.tr;
    let rows = views
        .into_iter()
        .map(|v| program_line(tr, &names, v))
        .collect();
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

/// The program form as typed, so a refused form comes back filled in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProgramForm {
    name: String,
    live_code_id: String,
    description: String,
    starts_on: String,
    ends_on: String,
    qualification_kind: String,
    min_order_yuan: String,
    hold_days: String,
    invitee_reward_template_id: String,
    inviter_reward_template_id: String,
    inviter_daily_cap: String,
}

fn id_of(field: &'static str, s: &str) -> Result<Option<i64>, FieldError> {
    match s.trim() {
        "" => Ok(None),
        v => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| FieldError::new(field, "invalid_id", "must be a number")),
    }
}

fn whole(field: &'static str, s: &str) -> Result<i64, FieldError> {
    match s.trim() {
        "" => Err(FieldError::new(field, "required", "required")),
        v => v
            .parse::<i64>()
            .map_err(|_| FieldError::new(field, "invalid_number", "a whole number is required")),
    }
}

fn day(field: &'static str, s: &str) -> Result<Option<chrono::NaiveDate>, FieldError> {
    match s.trim() {
        "" => Ok(None),
        v => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| FieldError::new(field, "invalid_date", "a date YYYY-MM-DD")),
    }
}

impl ProgramForm {
    fn fresh() -> Self {
        ProgramForm {
            qualification_kind: QualificationKind::FirstOrder.as_str().into(),
            hold_days: "7".into(),
            inviter_daily_cap: "20".into(),
            ..Default::default()
        }
    }

    fn from_spec(spec: &ReferralSpec) -> Self {
        let id = |v: Option<i64>| v.map(|i| i.to_string()).unwrap_or_default();
        let d = |v: Option<chrono::NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
        let q = spec.rule();
        ProgramForm {
            name: spec.name.clone(),
            live_code_id: spec.live_code_id.to_string(),
            description: spec.description.clone(),
            starts_on: d(spec.starts_on),
            ends_on: d(spec.ends_on),
            qualification_kind: q.kind.as_str().into(),
            min_order_yuan: if q.min_order_fen > 0 {
                short_yuan(q.min_order_fen)
            } else {
                String::new()
            },
            hold_days: q.hold_days.to_string(),
            invitee_reward_template_id: id(spec.invitee_reward_template_id),
            inviter_reward_template_id: id(spec.inviter_reward_template_id),
            inviter_daily_cap: spec.inviter_daily_cap.to_string(),
        }
    }

    /// The spec the form describes. The amount is read as yuan into whole fen (no floats);
    /// an `added` rule has no least amount, so the field is not read for it.
    fn spec(&self) -> Result<ReferralSpec, FieldError> {
        let live_code_id = id_of("live_code_id", &self.live_code_id)?
            .ok_or_else(|| FieldError::new("live_code_id", "required", "choose a live code"))?;
        let kind = match self.qualification_kind.trim() {
            "first_order" => QualificationKind::FirstOrder,
            "added" => QualificationKind::Added,
            "" => {
                return Err(FieldError::new(
                    "qualification_kind",
                    "required",
                    "choose a rule",
                ));
            }
            _ => {
                return Err(FieldError::new(
                    "qualification_kind",
                    "invalid_field",
                    "first_order or added",
                ));
            }
        };
        let min_order_fen = match kind {
            QualificationKind::FirstOrder => yuan_to_fen("min_order_yuan", &self.min_order_yuan)?,
            QualificationKind::Added => 0,
        };
        if min_order_fen > MAX_MIN_ORDER_FEN {
            return Err(FieldError::new(
                "min_order_yuan",
                "amount_out_of_range",
                "at most 1,000,000 CNY",
            ));
        }
        Ok(ReferralSpec {
            name: self.name.clone(),
            live_code_id,
            description: self.description.replace("\r\n", "\n"),
            starts_on: day("starts_on", &self.starts_on)?,
            ends_on: day("ends_on", &self.ends_on)?,
            qualification: Some(Qualification {
                kind,
                min_order_fen,
                hold_days: whole("hold_days", &self.hold_days)?,
            }),
            invitee_reward_template_id: id_of(
                "invitee_reward_template_id",
                &self.invitee_reward_template_id,
            )?,
            inviter_reward_template_id: id_of(
                "inviter_reward_template_id",
                &self.inviter_reward_template_id,
            )?,
            inviter_daily_cap: whole("inviter_daily_cap", &self.inviter_daily_cap)?,
        })
    }
}

/// The form's input for a field the domain names (the rule's fields are nested there).
fn program_input(field: &str) -> &str {
    match field {
        "qualification" | "qualification.kind" => "qualification_kind",
        "qualification.min_order_fen" => "min_order_yuan",
        "qualification.hold_days" => "hold_days",
        other => other,
    }
}

#[derive(Template)]
#[template(path = "console/referral_form.html")]
struct FormPage {
    ctx: Ctx,
    id: Option<i64>,
    f: ProgramForm,
    error: Option<FormError>,
    codes: Vec<Pick>,
    coupons: Vec<Pick>,
    kinds: Vec<(&'static str, &'static str)>,
}

impl FormPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }

    /// The banner over a refused form: the field's label and why.
    fn summary(&self, e: &FormError) -> String {
        let tr = self.ctx.tr;
        let key = match e.field.as_str() {
            "name" => "ref.name",
            "live_code_id" => "ref.live_code",
            "description" => "ref.description",
            "starts_on" | "ends_on" => "ref.dates",
            "qualification_kind" => "ref.rule",
            "min_order_yuan" => "ref.min_order",
            "hold_days" => "ref.hold_days",
            "invitee_reward_template_id" => "ref.invitee_reward",
            "inviter_reward_template_id" => "ref.inviter_reward",
            "inviter_daily_cap" => "ref.daily_cap",
            _ => return e.message.to_owned(),
        };
        tr.fill(
            "forms.check_field",
            &[("field", tr.t(key)), ("message", e.message)],
        )
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/console/referrals/{id}/edit"),
            None => "/console/referrals".into(),
        }
    }

    fn back(&self) -> String {
        match self.id {
            Some(id) => format!("/console/referrals/{id}"),
            None => "/console/referrals".into(),
        }
    }

    fn is(&self, value: &str, id: &i64) -> bool {
        value.trim() == id.to_string()
    }
}

async fn form_page(
    s: &AppState,
    c: Console,
    id: Option<i64>,
    f: ProgramForm,
    status: StatusCode,
    error: Option<FormError>,
) -> Response {
    let names = Names::load(s, &c).await;
    let tr = c.ctx.tr;
    let chosen = |v: &str| v.trim().parse::<i64>().ok();
    let codes = names.code_picks(tr, chosen(&f.live_code_id));
    let coupons = names.coupon_picks(
        tr,
        &[
            chosen(&f.invitee_reward_template_id),
            chosen(&f.inviter_reward_template_id),
        ],
    );
    let kinds = [QualificationKind::FirstOrder, QualificationKind::Added]
        .into_iter()
        .map(|k| (k.as_str(), tr.t(&format!("ref.kind.{}", k.as_str()))))
        .collect();
    let mut ctx = c.ctx;
    ctx.active = "referrals";
    render(
        status,
        &FormPage {
            ctx,
            id,
            f,
            error,
            codes,
            coupons,
            kinds,
        },
    )
}

/// 新建活动.
pub async fn new(State(s): State<AppState>, c: Console) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    form_page(&s, c, None, ProgramForm::fresh(), StatusCode::OK, None).await
}

/// A program's edit form (an archived program is not edited: the app refuses it).
pub async fn edit(State(s): State<AppState>, IdPath(id): IdPath, c: Console) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let v = match s.app.acquisition().program(&c.session.actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    form_page(
        &s,
        c,
        Some(id),
        ProgramForm::from_spec(&v.spec),
        StatusCode::OK,
        None,
    )
    .await
}

async fn submit(s: AppState, c: Console, id: Option<i64>, f: ProgramForm) -> Response {
    let tr = c.ctx.tr;
    let spec = match f.spec() {
        Ok(spec) => spec,
        Err(e) => {
            let (status, err) = field_error(tr, e);
            return form_page(&s, c, id, f, status, Some(err)).await;
        }
    };
    let acq = s.app.acquisition();
    let a = &c.session.actor;
    let saved = match id {
        None => acq.create_program(a, spec).await,
        Some(id) => acq.update_program(a, id, spec).await,
    };
    match saved {
        Ok(v) if id.is_none() => see_other(&format!("/console/referrals/{}?ok=created", v.id)),
        Ok(v) => see_other(&format!("/console/referrals/{}?ok=saved", v.id)),
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, mut err) = form_error(tr, e);
            err.field = program_input(&err.field).to_owned();
            form_page(&s, c, id, f, status, Some(err)).await
        }
    }
}

pub async fn create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<ProgramForm>,
) -> Response {
    submit(s, c, None, f).await
}

pub async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<ProgramForm>,
) -> Response {
    submit(s, c, Some(id), f).await
}

// ---------------------------------------------------------------- program page

/// One inviter on the leaderboard.
pub struct InviterLine {
    pub row: InviterRow,
    pub kind: &'static str,
    /// The inviter's link page, when the reader may open it.
    pub href: Option<String>,
}

/// One attempt in the program's list.
pub struct AttemptLine {
    pub r: ReferralListRow,
    pub invitee: String,
    pub inviter: String,
    pub via: &'static str,
    pub status: &'static str,
    pub reason: &'static str,
    pub invitee_reward: &'static str,
    pub inviter_reward: &'static str,
}

/// A refused-attempt count by rule.
pub struct RefusalLine {
    pub reason: String,
    pub label: &'static str,
    pub n: String,
}

#[derive(Template)]
#[template(path = "console/referral_view.html")]
struct ProgramPage {
    ctx: Ctx,
    p: ProgramLine,
    invitee_reward: String,
    inviter_reward: String,
    cap: String,
    refusals: Vec<RefusalLine>,
    inviters: Vec<InviterLine>,
    attempts: Vec<AttemptLine>,
    pager: Pager,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    /// The reader's own staff id (the one-click link).
    me: Option<i64>,
    staff: Vec<Pick>,
    /// A refused link request: shown under its input.
    error: Option<FormError>,
}

impl ProgramPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }

    fn n(&self, v: &i64) -> String {
        grouped(*v)
    }
}

#[derive(Deserialize, Default)]
pub struct ViewQuery {
    status: Option<String>,
    page: Option<i64>,
}

fn link_href(program: i64, inviter: Inviter) -> String {
    match inviter {
        Inviter::Staff(s) => format!("/console/referrals/{program}/link?staff_id={s}"),
        Inviter::Customer(c) => format!("/console/referrals/{program}/link?customer_id={c}"),
    }
}

/// Active staff members (the operators' link form), labelled with their store.
async fn staff_picks(s: &AppState, c: &Console) -> Vec<Pick> {
    let tr = c.ctx.tr;
    s.app
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
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let place = r.store_name.unwrap_or_else(|| tr.t("acq.hq").to_owned());
            Pick {
                id: r.id,
                label: format!("{}（{place}）", r.display_name),
            }
        })
        .collect()
}

async fn program_page(
    s: &AppState,
    mut c: Console,
    id: i64,
    q: ViewQuery,
    status: StatusCode,
    error: Option<FormError>,
) -> Response {
    c.ctx.active = "referrals";
    let a = &c.session.actor;
    let acq = s.app.acquisition();
    let v = match acq.program(a, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let filter = nonempty(&q.status).map(str::to_owned);
    let page = q.page.unwrap_or(1).max(1);
    let list = match acq
        .program_referrals(a, id, filter.as_deref(), page, PAGE_SIZE)
        .await
    {
        Ok(l) => l,
        Err(e) => return error_page(c.ctx, e),
    };
    let inviters = acq.program_inviters(a, id).await.unwrap_or_default();
    let tr = c.ctx.tr;
    let names = Names::load(s, &c).await;
    let manage = can_manage(&c);
    let me = a.caller.staff_id().map(|s| s.0);
    let open = !v.archived;
    let refusals = v
        .totals
        .refused
        .iter()
        .map(|(reason, n)| RefusalLine {
            label: code_label(tr, "ref.reason.", reason),
            reason: reason.clone(),
            n: grouped(*n),
        })
        .collect();
    let inviters = inviters
        .into_iter()
        .map(|row| {
            let (kind, inviter) = match (row.customer_id, row.staff_id) {
                (Some(cid), _) => ("ref.inviter_kind.customer", Some(Inviter::Customer(cid))),
                (_, Some(sid)) => ("ref.inviter_kind.staff", Some(Inviter::Staff(sid))),
                _ => ("ref.inviter_kind.staff", None),
            };
            let may = match inviter {
                Some(Inviter::Staff(sid)) => manage || me == Some(sid),
                Some(Inviter::Customer(_)) => manage,
                None => false,
            };
            InviterLine {
                href: inviter.filter(|_| open && may).map(|i| link_href(id, i)),
                kind: tr.t(kind),
                row,
            }
        })
        .collect();
    let attempts = list
        .items
        .into_iter()
        .map(|r| {
            let invitee = if r.invitee_name.trim().is_empty() {
                tr.fill("ref.customer_n", &[("id", &r.r.invitee_id.to_string())])
            } else {
                r.invitee_name.clone()
            };
            let inviter = match (
                r.inviter_name.trim(),
                r.inviter_customer_id,
                r.inviter_staff_id,
            ) {
                ("", Some(cid), _) => tr.fill("ref.customer_n", &[("id", &cid.to_string())]),
                ("", None, Some(sid)) => tr.fill("ref.staff_n", &[("id", &sid.to_string())]),
                (name, _, _) => name.to_owned(),
            };
            AttemptLine {
                invitee,
                inviter,
                via: code_label(tr, "ref.via.", &r.r.via),
                status: code_label(tr, "ref.status.", &r.r.status),
                reason: code_label(tr, "ref.reason.", &r.r.reason),
                invitee_reward: code_label(tr, "ref.reward.", &r.r.invitee_reward),
                inviter_reward: code_label(tr, "ref.reward.", &r.r.inviter_reward),
                r,
            }
        })
        .collect();
    let pager = pager(
        &format!("/console/referrals/{id}"),
        &[("status", filter.clone().unwrap_or_default())],
        list.page,
        list.page_size,
        list.total,
    );
    let statuses = STATUSES
        .iter()
        .map(|s| (*s, tr.t(&format!("ref.status.{s}"))))
        .collect();
    let staff = if manage && open {
        staff_picks(s, &c).await
    } else {
        Vec::new()
    };
    let page = ProgramPage {
        invitee_reward: names.coupon(tr, v.spec.invitee_reward_template_id),
        inviter_reward: names.coupon(tr, v.spec.inviter_reward_template_id),
        cap: tr.fill("ref.cap_n", &[("n", &v.spec.inviter_daily_cap.to_string())]),
        p: program_line(tr, &names, v),
        refusals,
        inviters,
        attempts,
        pager,
        status: filter.unwrap_or_default(),
        statuses,
        can_manage: manage,
        me,
        staff,
        error,
        ctx: c.ctx,
    };
    render(status, &page)
}

/// `/console/referrals/{id}`: settings, totals, refusals by rule, the leaderboard, the
/// attempts (`?status=`, `?page=`) and the link forms.
pub async fn view(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<ViewQuery>,
) -> Response {
    program_page(&s, c, id, q, StatusCode::OK, None).await
}

// ---------------------------------------------------------------- links

/// Whose link: `who` is `staff` (the one-click form sends the reader's own id; the
/// operators' form a chosen one) or `customer` (an id typed in).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkForm {
    who: String,
    staff_id: String,
    customer_id: String,
}

impl LinkForm {
    fn inviter(&self) -> Result<Inviter, FieldError> {
        let (field, value): (&'static str, &str) = match self.who.as_str() {
            "staff" => ("staff_id", &self.staff_id),
            "customer" => ("customer_id", &self.customer_id),
            _ => {
                return Err(FieldError::new(
                    "staff_id",
                    "one_inviter",
                    "give exactly one of staff_id and customer_id",
                ));
            }
        };
        let id = id_of(field, value)?
            .ok_or_else(|| FieldError::new(field, "required", "whose link is it"))?;
        Ok(if field == "staff_id" {
            Inviter::Staff(id)
        } else {
            Inviter::Customer(id)
        })
    }
}

/// 获取邀请链接: make (or find) the inviter's link and show it; a refusal is shown under the
/// input on the program's page.
pub async fn link_create(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<LinkForm>,
) -> Response {
    let tr = c.ctx.tr;
    let refused = |c: Console, (status, err): (StatusCode, FormError)| {
        let s = s.clone();
        async move { program_page(&s, c, id, ViewQuery::default(), status, Some(err)).await }
    };
    let inviter = match f.inviter() {
        Ok(i) => i,
        Err(e) => return refused(c, field_error(tr, e)).await,
    };
    match s
        .app
        .acquisition()
        .invite_link(&c.session.actor, id, inviter)
        .await
    {
        Ok((_, created)) => {
            let to = link_href(id, inviter);
            see_other(&if created {
                format!("{to}&ok=created")
            } else {
                to
            })
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => refused(c, form_error(tr, e)).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LinkQuery {
    staff_id: Option<i64>,
    customer_id: Option<i64>,
}

impl LinkQuery {
    fn inviter(&self) -> Result<Inviter, AppError> {
        match (self.staff_id, self.customer_id) {
            (Some(s), None) => Ok(Inviter::Staff(s)),
            (None, Some(c)) => Ok(Inviter::Customer(c)),
            _ => Err(AppError::Invalid(FieldError::new(
                "staff_id",
                "one_inviter",
                "give exactly one of staff_id and customer_id",
            ))),
        }
    }
}

/// An inviter's link as the link page and its files show it.
struct Shown {
    link: LinkView,
    url: String,
    host_fallback: Option<String>,
    matrix: Matrix,
}

async fn shown(
    s: &AppState,
    c: &Console,
    headers: &HeaderMap,
    id: i64,
    q: &LinkQuery,
) -> Result<Shown, AppError> {
    let inviter = q.inviter()?;
    let (link, _) = s
        .app
        .acquisition()
        .invite_link(&c.session.actor, id, inviter)
        .await?;
    let (origin, host_fallback) = super::share::origin(s, headers);
    let url = format!("{origin}{}", link.path);
    let matrix =
        Matrix::new(&url).map_err(|e| AppError::Internal(format!("QR code for {url}: {e}")))?;
    Ok(Shown {
        link,
        url,
        host_fallback,
        matrix,
    })
}

#[derive(Template)]
#[template(path = "console/referral_link.html")]
struct LinkPage {
    ctx: Ctx,
    program_id: i64,
    program_name: String,
    inviter: String,
    link: LinkView,
    url: String,
    host_fallback: Option<String>,
    is_link_code: bool,
    /// `?staff_id=…` / `?customer_id=…` for the files.
    query: String,
}

impl LinkPage {
    fn title(&self) -> String {
        self.ctx
            .tr
            .fill("ref.link_title", &[("name", &self.inviter)])
    }

    fn host_notice(&self, host: &str) -> String {
        self.ctx.tr.fill("share.host_notice", &[("host", host)])
    }

    fn visits(&self) -> String {
        self.ctx
            .tr
            .fill("ref.visits_n", &[("n", &grouped(self.link.visits))])
    }
}

/// `/console/referrals/{id}/link?staff_id=…|customer_id=…`: the URL, its QR and the files.
pub async fn link_page(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    mut c: Console,
    headers: HeaderMap,
    ConsoleQuery(q): ConsoleQuery<LinkQuery>,
) -> Response {
    c.ctx.active = "referrals";
    let sh = match shown(&s, &c, &headers, id, &q).await {
        Ok(sh) => sh,
        Err(e) => return error_page(c.ctx, e),
    };
    let a = &c.session.actor;
    let tr = c.ctx.tr;
    let program = match s.app.acquisition().program(a, id).await {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e),
    };
    let (inviter, query) = match (sh.link.staff_id, sh.link.customer_id) {
        (Some(sid), _) => (
            s.app
                .staff()
                .get_staff(a, StaffId(sid))
                .await
                .map(|r| r.display_name)
                .unwrap_or_else(|_| tr.fill("ref.staff_n", &[("id", &sid.to_string())])),
            format!("staff_id={sid}"),
        ),
        (_, Some(cid)) => (
            s.app
                .customers()
                .get_customer(a, CustomerId(cid))
                .await
                .ok()
                .map(|r| r.name)
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| tr.fill("ref.customer_n", &[("id", &cid.to_string())])),
            format!("customer_id={cid}"),
        ),
        _ => (String::new(), String::new()),
    };
    render(
        StatusCode::OK,
        &LinkPage {
            ctx: c.ctx,
            program_id: id,
            program_name: program.spec.name,
            is_link_code: program.code_kind == CodeKind::Link,
            inviter,
            url: sh.url,
            host_fallback: sh.host_fallback,
            link: sh.link,
            query,
        },
    )
}

/// The link's QR code: `qr.svg` or `qr.png` (for print); any other name is not found.
pub async fn link_file(
    State(s): State<AppState>,
    Path((id, file)): Path<(i64, String)>,
    c: Console,
    headers: HeaderMap,
    ConsoleQuery(q): ConsoleQuery<LinkQuery>,
) -> Response {
    if !matches!(file.as_str(), "qr.svg" | "qr.png") {
        return error_page(c.ctx, AppError::NotFound { what: "page" });
    }
    let sh = match shown(&s, &c, &headers, id, &q).await {
        Ok(sh) => sh,
        Err(e) => return error_page(c.ctx, e),
    };
    let filename = format!("referral-{id}-{}-{file}", sh.link.code);
    if file == "qr.png" {
        match sh.matrix.png() {
            Ok(png) => download("image/png", &filename, png),
            Err(e) => error_page(c.ctx, AppError::Internal(format!("QR PNG: {e}"))),
        }
    } else {
        download(
            "image/svg+xml; charset=utf-8",
            &filename,
            sh.matrix.svg().into_bytes(),
        )
    }
}

// ---------------------------------------------------------------- archive

/// Confirm archiving: no friend is bound any more; those bound still qualify.
pub async fn archive_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let v = match s.app.acquisition().program(&c.session.actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("ref.confirm_subject", &[("name", &v.spec.name)]),
        impact: vec![
            tr.fill("ref.confirm_links", &[("n", &grouped(v.totals.links))]),
            tr.fill("ref.confirm_bound", &[("n", &grouped(v.totals.bound))]),
        ],
        outcome: "archive",
        action: format!("/console/referrals/{id}/archive"),
        back: "/console/referrals",
    };
    confirm_page(c.ctx, "referrals", confirm)
}

pub async fn archive(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s
        .app
        .acquisition()
        .archive_program(&c.session.actor, id)
        .await
    {
        Ok(_) => see_other("/console/referrals?archived=1&ok=archived"),
        Err(e) => error_page(c.ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Lang;
    use super::super::i18n::lookup;
    use super::*;
    use yutang_core::acquisition::referrals::Refusal;

    /// A reward's states (`''`: no reward on that side).
    const REWARD_STATES: [&str; 4] = ["pending", "issued", "refused", "withheld"];

    /// Every key built at run time exists in both languages.
    #[test]
    fn dynamic_keys_exist() {
        let mut keys: Vec<String> = Refusal::ALL
            .iter()
            .map(|r| format!("ref.reason.{}", r.as_str()))
            .collect();
        keys.extend(STATUSES.iter().map(|s| format!("ref.status.{s}")));
        keys.extend(REWARD_STATES.iter().map(|s| format!("ref.reward.{s}")));
        keys.extend(["add", "page"].iter().map(|v| format!("ref.via.{v}")));
        for k in [QualificationKind::FirstOrder, QualificationKind::Added] {
            keys.push(format!("ref.kind.{}", k.as_str()));
        }
        for prefix in ["ref.rule.", "ref.h5.rule."] {
            for k in [
                "order_min",
                "order_any",
                "added",
                "hold_refund",
                "hold_delete",
                "at_once",
            ] {
                keys.push(format!("{prefix}{k}"));
            }
        }
        for k in keys {
            assert!(lookup(&k).is_some(), "{k}");
        }
    }

    #[test]
    fn rules_read_in_words() {
        let (zh, en) = (Tr { lang: Lang::Zh }, Tr { lang: Lang::En });
        let q = |kind, min_order_fen, hold_days| Qualification {
            kind,
            min_order_fen,
            hold_days,
        };
        let first = q(QualificationKind::FirstOrder, 5_000, 7);
        assert_eq!(
            rule_text(zh, "ref.rule.", &first),
            "好友首单实付满 ¥50，7 天内未退款即达标"
        );
        assert_eq!(
            rule_text(en, "ref.rule.", &first),
            "The friend's first order of at least ¥50, not refunded within 7 days"
        );
        assert_eq!(
            rule_text(
                zh,
                "ref.h5.rule.",
                &q(QualificationKind::FirstOrder, 4_990, 0)
            ),
            "添加导购后，首单实付满 ¥49.90"
        );
        assert_eq!(
            rule_text(zh, "ref.rule.", &q(QualificationKind::Added, 0, 3)),
            "好友添加导购，3 天内未删除导购即达标"
        );
        assert_eq!(code_label(zh, "ref.reward.", ""), "-");
        assert_eq!(
            code_label(zh, "ref.reason.", "identity_reused"),
            "同一手机号/unionid 对应多位好友"
        );
    }

    #[test]
    fn the_form_reads_yuan_as_whole_fen_and_names_the_field() {
        let mut f = ProgramForm::fresh();
        f.name = "邀好友".into();
        f.live_code_id = "3".into();
        f.min_order_yuan = "49.9".into();
        let spec = f.spec().unwrap();
        assert_eq!(spec.rule().min_order_fen, 4_990);
        assert_eq!(spec.rule().hold_days, 7);
        assert_eq!(spec.inviter_daily_cap, 20);
        for (yuan, field, code) in [
            ("49.999", "min_order_yuan", "invalid_yuan"),
            ("-1", "min_order_yuan", "invalid_yuan"),
            ("1e3", "min_order_yuan", "invalid_yuan"),
            ("1000000.01", "min_order_yuan", "amount_out_of_range"),
        ] {
            let mut g = f.clone();
            g.min_order_yuan = yuan.into();
            let e = g.spec().unwrap_err();
            assert_eq!((e.field, e.code), (field, code), "{yuan}");
        }
        // An `added` rule has no least amount: the field is not read.
        let mut g = f.clone();
        g.qualification_kind = "added".into();
        g.min_order_yuan = "abc".into();
        assert_eq!(g.spec().unwrap().rule().min_order_fen, 0);
        let mut g = f.clone();
        g.live_code_id = String::new();
        assert_eq!(g.spec().unwrap_err().field, "live_code_id");
        let mut g = f.clone();
        g.hold_days = "7.5".into();
        assert_eq!(g.spec().unwrap_err().field, "hold_days");
        let mut g = f.clone();
        g.ends_on = "2026-13-01".into();
        assert_eq!(g.spec().unwrap_err().field, "ends_on");
        // The domain's nested names come back to the form's inputs.
        assert_eq!(program_input("qualification.hold_days"), "hold_days");
        assert_eq!(
            program_input("qualification.min_order_fen"),
            "min_order_yuan"
        );
        assert_eq!(program_input("name"), "name");
        // Round trip.
        let spec = f.spec().unwrap();
        assert_eq!(ProgramForm::from_spec(&spec).spec().unwrap(), spec);
    }

    #[test]
    fn link_forms_name_their_inviter() {
        let f = |who: &str, s: &str, c: &str| LinkForm {
            who: who.into(),
            staff_id: s.into(),
            customer_id: c.into(),
        };
        assert_eq!(f("staff", "7", "").inviter().unwrap(), Inviter::Staff(7));
        assert_eq!(
            f("customer", "", " 12 ").inviter().unwrap(),
            Inviter::Customer(12)
        );
        let e = f("staff", "x", "").inviter().unwrap_err();
        assert_eq!((e.field, e.code), ("staff_id", "invalid_id"));
        let e = f("customer", "7", "").inviter().unwrap_err();
        assert_eq!((e.field, e.code), ("customer_id", "required"));
        assert_eq!(f("", "7", "").inviter().unwrap_err().code, "one_inviter");
    }
}
