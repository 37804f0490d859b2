//! `/h5/…`: the customer-facing pages (mobile-first; Simplified Chinese by default, English
//! with `?lang=en` or the console's language cookie). Server-rendered
//! shells (askama) plus one small script (`/h5/assets/h5.js`) that calls the same public API
//! the brand's mini-program calls, with a customer token (`yct_…`) taken from `?token=` (a
//! mini-program web-view passes it) and kept in `localStorage`, or — in the demo only — from
//! `POST /api/v1/public/demo-login`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use axum::http::request::Parts;

use yutang_app::acquisition::referrals::InvitePage;
use yutang_app::promotions::media::MediaRow;
use yutang_core::acquisition::CodeKind;

use crate::auth::{IdPath, LANG_COOKIE, cookie};
use crate::console::i18n::{Lang, Tr};
use crate::state::AppState;

/// The texts the page script shows (`h5.js.<key>`), handed to it as JSON in the reader's
/// language.
const JS_TEXTS: &[&str] = &[
    "need_login",
    "token_invalid",
    "token_expired",
    "login_failed",
    "request_failed",
    "out_of_stock",
    "limit_reached",
    "promotion_not_started",
    "promotion_ended",
    "promotion_inactive",
    "not_in_audience",
    "group_full",
    "group_expired",
    "already_in_group",
    "request_in_progress",
    "none_claimable",
    "left",
    "claim",
    "claimed_ok",
    "no_coupons",
    "valid_until",
    "state_claimed",
    "state_used",
    "state_expired",
    "state_revoked",
    "amount_off_over",
    "amount_off",
    "discount",
    "free_shipping",
    "free_shipping_over",
    "exchange",
    "window",
    "flash_won",
    "team_missing",
    "team_filled",
    "team_failed",
    "leader",
    "member",
    "joined",
    "join",
    "join_ok",
    "share",
    "team_yours",
    "team_in",
    "starts_in",
    "ends_in",
    "days",
    "ended",
    "pay_within",
    "pay_now",
    "hold_over",
    "customer_token_required",
    "invalid_customer_token",
    "customer_token_expired",
    "lang",
    "template_gone",
    // The invite page's outcomes (`ref.h5.js.…`) and refusal reasons (`ref.reason.…`).
    "invite_bound",
    "invite_qualifying",
    "invite_rewarded",
    "invite_disqualified",
    "invite_refused",
    "reason_self_invite",
    "reason_already_in_pool",
    "reason_already_invited",
    "reason_identity_reused",
    "reason_program_not_running",
    "reason_order_refunded",
    "reason_contact_deleted",
    "reason_inviter_daily_cap",
    // The member centre (`/h5/member`): entry kinds, sources and its own texts, which live
    // with the console's points pages (`points.kind.…`, `points.source.…`, `points.h5.…`).
    "pkind_earn",
    "pkind_grant",
    "pkind_reverse",
    "pkind_settle",
    "pkind_deduct",
    "pkind_redeem",
    "pkind_cancel",
    "pkind_expire",
    "pkind_transfer_out",
    "pkind_transfer_in",
    "psource_order",
    "psource_grant",
    "psource_redemption",
    "psource_expiry",
    "psource_merge",
    "psource_checkin",
    "psource_task",
    "psource_referral",
    "psource_campaign",
    "psource_mall",
    "psource_gift",
    "member_worth",
    "member_expires_on",
    "member_never",
    "member_no_history",
    "member_no_expiring",
    "member_tier_none",
    "member_tier_held",
    "member_tier_next_spend_12m",
    "member_tier_next_points_12m",
    "member_tier_next_orders_12m",
    "member_tier_next_order",
    "member_tier_top",
    "member_tier_discount",
    "member_tier_multiplier",
    "member_tier_free_shipping",
    // The member centre's card, stored-value, gifts and mall blocks (`points.h5.…`), the
    // stored-value entry kinds (`sv.kind.…`), the gift kinds (`sv.gift_kind.…`) and the
    // exchange states (`mall.state.…`).
    "member_card_active",
    "member_card_expired",
    "member_card_none",
    "member_card_no_card",
    "member_card_until",
    "member_card_ended",
    "member_card_savings",
    "member_card_guarantee",
    "member_sv_split",
    "member_sv_no_entries",
    "member_gifts_none",
    "member_gift_points",
    "member_gift_fen",
    "member_gift_coupon",
    "member_gift_year",
    "member_mall_none",
    "member_mall_points",
    "member_mall_cash",
    "member_mall_stock",
    "member_mall_limit",
    "member_mall_exchange",
    "member_mall_exchanged",
    "member_mall_no_exchanges",
    "member_mall_cancel",
    "member_mall_cancelled",
    "member_mall_pay_by",
    "svkind_top_up",
    "svkind_gift",
    "svkind_spend",
    "svkind_spend_refund",
    "svkind_top_up_refund",
    "svkind_transfer_out",
    "svkind_transfer_in",
    "gkind_birthday",
    "gkind_anniversary",
    "mstate_awaiting_payment",
    "mstate_pending",
    "mstate_shipped",
    "mstate_delivered",
    "mstate_fulfilled",
    "mstate_completed",
    "mstate_cancelled",
    "mstate_expired",
    // The refusals of an exchange the customer can meet (the error codes' own texts).
    "insufficient_points",
    "item_off_sale",
    "invalid_exchange_transition",
    // The consultant page (`/h5/consultant`): its texts (`ratings.h5.…`) and the refusals a
    // customer can meet there (the error codes' own texts).
    "rh5_current",
    "rh5_none",
    "rh5_no_choices",
    "rh5_choose",
    "rh5_chosen_done",
    "rh5_chosen_pending",
    "rh5_chosen_unchanged",
    "rh5_pending",
    "rh5_average",
    "rh5_no_ratings",
    "rh5_nothing_to_rate",
    "rh5_task",
    "rh5_order",
    "rh5_comment",
    "rh5_submit",
    "rh5_thanks",
    "rh5_pick_score",
    "invalid_consultant",
    "rating_exists",
    "subject_not_ratable",
    "unknown_subject",
    "invalid_score",
];

/// The reader's language: `?lang=`, else the language cookie, else Chinese.
fn lang_of(parts: &Parts) -> Lang {
    let asked = parts.uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    asked
        .or_else(|| cookie(parts, LANG_COOKIE).and_then(|c| Lang::parse(&c)))
        .unwrap_or(Lang::Zh)
}

/// The translation key of a script text (`None`: not a translation).
fn js_key(k: &str) -> Option<String> {
    Some(match k {
        // The API's token error codes show the sign-in texts.
        "customer_token_required" => "h5.js.need_login".into(),
        "invalid_customer_token" => "h5.js.token_invalid".into(),
        "customer_token_expired" => "h5.js.token_expired".into(),
        "lang" => return None,
        "insufficient_points"
        | "item_off_sale"
        | "invalid_exchange_transition"
        | "invalid_consultant"
        | "rating_exists"
        | "subject_not_ratable"
        | "unknown_subject"
        | "invalid_score" => format!("err.{k}"),
        k if k.starts_with("rh5_") => format!("ratings.h5.{}", &k[4..]),
        k if k.starts_with("svkind_") => format!("sv.kind.{}", &k[7..]),
        k if k.starts_with("gkind_") => format!("sv.gift_kind.{}", &k[6..]),
        k if k.starts_with("mstate_") => format!("mall.state.{}", &k[7..]),
        k if k.starts_with("pkind_") => format!("points.kind.{}", &k[6..]),
        k if k.starts_with("psource_") => format!("points.source.{}", &k[8..]),
        k if k.starts_with("member_") => format!("points.h5.{}", &k[7..]),
        // The invite page's texts live with the console's referral pages.
        k => match (k.strip_prefix("invite_"), k.strip_prefix("reason_")) {
            (Some(outcome), _) => format!("ref.h5.js.{outcome}"),
            (_, Some(reason)) => format!("ref.reason.{reason}"),
            _ => format!("h5.js.{k}"),
        },
    })
}

/// The script's texts as JSON (safe inside a `<script type="application/json">`).
fn js_texts(lang: Lang) -> String {
    let tr = Tr { lang };
    let map: serde_json::Map<String, serde_json::Value> = JS_TEXTS
        .iter()
        .map(|k| {
            let text = match js_key(k) {
                Some(key) => tr.t(&key),
                None => lang.code(),
            };
            ((*k).to_owned(), serde_json::Value::from(text))
        })
        .collect();
    serde_json::Value::Object(map)
        .to_string()
        .replace('<', "\\u003c")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/coupons", get(coupons))
        .route("/flash-sales/{id}", get(flash_sale))
        .route("/group-buys/{id}", get(group_buy))
        .route("/teams/{id}", get(team))
        .route("/member", get(member))
        .route("/consultant", get(consultant))
        .route("/invite/{code}", get(invite))
        .route("/invite/{code}/qr.png", get(invite_qr))
        .route("/assets/h5.js", get(script))
        .route("/assets/radar.js", get(crate::radar::script))
        .route("/r/{token}", get(crate::radar::open))
        .route("/r/{token}/beat", axum::routing::post(crate::radar::beat))
        .layer(axum::middleware::from_fn(crate::auth::refuse_control_text))
        .layer(axum::middleware::map_response(h5_headers))
        // Outside the pages' headers: an image has its own (cached for good, no policy to
        // run anything).
        .route("/media/{id}", get(crate::api::media::serve_media))
}

/// Like the console: nothing loads from elsewhere; scripts only from this server. A page that
/// shows WeCom's own image (the invite page of a QR-code program) sets its own policy naming
/// WeCom's image host, and it is kept.
async fn h5_headers(mut res: Response) -> Response {
    if !res.headers().contains_key(header::CONTENT_SECURITY_POLICY) {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        );
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => (StatusCode::OK, Html(html)).into_response(),
        Err(e) => {
            crate::error::internal(&e);
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

impl Shell {
    async fn new(s: &AppState, parts: &Parts, title: String, page: &'static str, id: i64) -> Self {
        let lang = lang_of(parts);
        let demo = s
            .app
            .customer_tokens()
            .demo_login_enabled()
            .await
            .unwrap_or(false);
        let other = if lang == Lang::Zh { "en" } else { "zh" };
        let mut query: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, _)| k != "lang")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        query.push(("lang".into(), other.into()));
        // The path as the browser asked for it (`/h5/…`: the router is nested, so
        // `parts.uri` lacks the prefix).
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(parts.uri.path(), |u| u.0.path())
            .to_owned();
        let lang_href = format!(
            "{}?{}",
            path,
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query)
                .finish()
        );
        Shell {
            tr: Tr { lang },
            lang_href,
            texts: js_texts(lang),
            title,
            page,
            id,
            demo,
        }
    }
}

/// `{n}`-style placeholders filled in.
fn fill(text: &str, values: &[(&str, String)]) -> String {
    values.iter().fold(text.to_owned(), |t, (k, v)| {
        t.replace(&format!("{{{k}}}"), v)
    })
}

fn yuan(fen: i64) -> String {
    yutang_core::money::Fen(fen).to_string()
}

/// What every page's shell needs.
struct Shell {
    tr: Tr,
    /// The same page in the other language.
    lang_href: String,
    /// [`js_texts`].
    texts: String,
    title: String,
    /// `coupons`, `flash_sale`, `group_buy`, `team`: the script's entry point.
    page: &'static str,
    /// The page's resource id (0 for lists).
    id: i64,
    demo: bool,
}

#[derive(Template)]
#[template(path = "h5/coupons.html")]
struct CouponsPage {
    shell: Shell,
}

pub async fn coupons(State(s): State<AppState>, parts: Parts) -> Response {
    let title = Tr {
        lang: lang_of(&parts),
    }
    .t("h5.coupons.title")
    .to_owned();
    render(&CouponsPage {
        shell: Shell::new(&s, &parts, title, "coupons", 0).await,
    })
}

#[derive(Template)]
#[template(path = "h5/flash_sale.html")]
struct FlashSalePage {
    shell: Shell,
    subtitle: String,
    name: String,
    item_name: String,
    price: String,
    original_price: String,
    starts_at: i64,
    ends_at: i64,
    image: Option<MediaRow>,
    /// The brand's order page for a winner (`{claim_id}` still to fill), or "".
    order_url: String,
}

/// A campaign's product image, when it has one (shown with its size, so the page does not
/// shift as it loads).
async fn product_image(s: &AppState, id: Option<i64>) -> Option<MediaRow> {
    s.app.media().image(id?).await.ok()
}

fn not_found_page(parts: &Parts) -> Response {
    let text = Tr {
        lang: lang_of(parts),
    }
    .t("h5.not_found");
    (
        StatusCode::NOT_FOUND,
        Html(format!("<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'><p style='font:16px sans-serif;padding:24px'>{text}</p>")),
    )
        .into_response()
}

pub async fn flash_sale(State(s): State<AppState>, IdPath(id): IdPath, parts: Parts) -> Response {
    let Ok(v) = s.app.flash_sales().flash_sale(id).await else {
        return not_found_page(&parts);
    };
    let shell = Shell::new(&s, &parts, v.row.name.clone(), "flash_sale", id).await;
    let image = product_image(&s, v.spec.image_id).await;
    render(&FlashSalePage {
        image,
        subtitle: fill(
            shell.tr.t("h5.flash.subtitle"),
            &[
                ("n", v.row.per_customer.to_string()),
                ("m", v.row.hold_minutes.to_string()),
            ],
        ),
        shell,
        name: v.row.name,
        item_name: v.spec.item_name,
        price: yuan(v.spec.price_fen),
        original_price: yuan(v.spec.original_price_fen),
        starts_at: v.row.starts_at,
        ends_at: v.row.ends_at,
        order_url: s
            .app
            .settings
            .h5
            .order_url
            .as_deref()
            .map(|u| u.replace("{sku}", &v.spec.sku))
            .unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "h5/group_buy.html")]
struct GroupBuyPage {
    shell: Shell,
    subtitle: String,
    name: String,
    item_name: String,
    price: String,
    leader_price: String,
    original_price: String,
    image: Option<MediaRow>,
}

pub async fn group_buy(State(s): State<AppState>, IdPath(id): IdPath, parts: Parts) -> Response {
    let Ok(v) = s.app.group_buys().group_buy(id).await else {
        return not_found_page(&parts);
    };
    let shell = Shell::new(&s, &parts, v.row.name.clone(), "group_buy", id).await;
    let image = product_image(&s, v.spec.image_id).await;
    render(&GroupBuyPage {
        image,
        subtitle: fill(
            shell.tr.t("h5.group.subtitle"),
            &[
                ("n", v.spec.team_size.to_string()),
                ("m", v.spec.time_limit_minutes.to_string()),
            ],
        ),
        shell,
        name: v.row.name,
        item_name: v.spec.item_name.clone(),
        price: yuan(v.spec.price_fen),
        leader_price: yuan(v.spec.price_for(true)),
        original_price: yuan(v.spec.original_price_fen),
    })
}

#[derive(Deserialize)]
pub struct TeamQuery {
    /// Who shared the link.
    #[serde(default)]
    inviter: Option<i64>,
}

#[derive(Template)]
#[template(path = "h5/team.html")]
struct TeamPage {
    shell: Shell,
    group_buy_name: String,
    item_name: String,
    /// The group-buy's product image, shown on the share link too.
    image: Option<MediaRow>,
    price: String,
    original_price: String,
    inviter: i64,
}

pub async fn team(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    Query(q): Query<TeamQuery>,
    parts: Parts,
) -> Response {
    let Ok(v) = s.app.group_buys().team_status(id).await else {
        return not_found_page(&parts);
    };
    let title = format!(
        "{} · {}",
        v.group_buy.name,
        Tr {
            lang: lang_of(&parts)
        }
        .t("h5.team.title")
    );
    let image = product_image(&s, v.spec.image_id).await;
    render(&TeamPage {
        shell: Shell::new(&s, &parts, title, "team", id).await,
        group_buy_name: v.group_buy.name,
        item_name: v.spec.item_name,
        image,
        price: yuan(v.spec.price_fen),
        original_price: yuan(v.spec.original_price_fen),
        inviter: q.inviter.unwrap_or(0),
    })
}

#[derive(Template)]
#[template(path = "h5/invite.html")]
struct InviteView {
    shell: Shell,
    invite: InvitePage,
    /// `张* 邀请你`.
    headline: String,
    /// The rule in the friend's words.
    rule: String,
    /// A link program's add URL as a QR code (inline SVG), for a visitor on a computer.
    qr_svg: String,
}

impl InviteView {
    fn is_link(&self) -> bool {
        self.invite.code_kind == CodeKind::Link
    }
}

/// `/h5/invite/{code}`: an inviter's invite as the friend sees it (counts a visit). An unknown
/// code is the not-found page.
pub async fn invite(State(s): State<AppState>, Path(code): Path<String>, parts: Parts) -> Response {
    let invite = match s.app.acquisition().invite_page(&code).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found_page(&parts),
        Err(e) => {
            crate::error::internal(&e);
            let text = Tr {
                lang: lang_of(&parts),
            }
            .t("h5.js.request_failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, text).into_response();
        }
    };
    let shell = Shell::new(&s, &parts, invite.name.clone(), "invite", invite.program_id).await;
    let tr = shell.tr;
    let inviter = if invite.inviter.is_empty() {
        tr.t("ref.h5.a_friend").to_owned()
    } else {
        invite.inviter.clone()
    };
    let reward = if invite.invitee_reward_template_id.is_some() {
        "ref.h5.gift"
    } else {
        "ref.h5.done"
    };
    let rule = format!(
        "{}{}",
        crate::console::referrals::rule_text(tr, "ref.h5.rule.", &invite.qualification),
        tr.t(reward)
    );
    // The standalone SVG without its XML declaration is an element the page can hold.
    let qr_svg = match crate::qr::Matrix::new(&invite.add_url) {
        Ok(m) if invite.code_kind == CodeKind::Link && !invite.add_url.is_empty() => {
            let svg = m.svg();
            svg.find("<svg")
                .map(|i| svg[i..].trim_end().to_owned())
                .unwrap_or_default()
        }
        _ => String::new(),
    };
    render(&InviteView {
        headline: tr.fill("ref.h5.invites_you", &[("name", &inviter)]),
        rule,
        qr_svg,
        shell,
        invite,
    })
}

/// `/h5/invite/{code}/qr.png`: the QR a friend scans, from Yutang (a QR-code program's stored
/// contact-way image; a link program's link with the inviter's state), so the page loads
/// nothing from WeCom's image host. 404 for an unknown code or while no image is stored.
pub async fn invite_qr(State(s): State<AppState>, Path(code): Path<String>) -> Response {
    match s.app.acquisition().invite_qr(&code).await {
        Ok(Some(f)) => (
            [
                (header::CONTENT_TYPE, f.content_type),
                (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
            ],
            f.bytes,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            crate::error::internal(&e);
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// History entries the member centre shows at a time.
const MEMBER_PAGE: i64 = 20;

/// One line of the member centre's points history.
struct HistoryLine {
    id: i64,
    kind: String,
    /// The kind's label (`获得`, `抵现使用` …).
    title: String,
    /// Where it came from (`订单`, `签到` …), "" when nothing is recorded.
    source: String,
    /// `+100` / `-50`.
    change: String,
    credit: bool,
    at: i64,
}

/// The member centre's tier block: the tier, since when and until when it is held, its
/// benefits, and what is left to reach the next one.
struct TierBlock {
    /// The tier's name, or "not a member yet".
    name: String,
    member: bool,
    held: String,
    benefits: Vec<String>,
    /// "Spend ¥x more to reach 金卡", or "the top tier".
    next: String,
    percent: i64,
}

/// A multiplier in thousandths as the customer reads it: `1500` → `1.5`.
fn times(permille: i64) -> String {
    let s = format!("{}.{:03}", permille / 1000, permille % 1000);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The tier block, or `None` when the brand runs no tier programme.
fn tier_block(tr: Tr, v: &yutang_app::loyalty::tiers::CustomerTierView) -> Option<TierBlock> {
    if v.tier.is_none() && v.next.is_none() {
        return None;
    }
    let day = |ms: i64| {
        use yutang_core::promotions::stats::{day_label, day_of};
        day_label(day_of(ms))
    };
    let held = match (v.tier_since, v.held_until) {
        (Some(since), Some(until)) => tr.fill(
            "points.h5.tier_held",
            &[
                ("d", &day(since)),
                ("u", &crate::console::points::last_day(until)),
            ],
        ),
        _ => String::new(),
    };
    let mut benefits = Vec::new();
    if let Some(t) = &v.tier {
        if t.discount_percent > 0 {
            benefits.push(tr.fill(
                "points.h5.tier_discount",
                &[("v", &t.discount_percent.to_string())],
            ));
        }
        if t.points_multiplier != yutang_core::loyalty::points::PERMILLE {
            benefits.push(tr.fill(
                "points.h5.tier_multiplier",
                &[("v", &times(t.points_multiplier))],
            ));
        }
        if let Some(f) = t.free_shipping_threshold_fen {
            benefits.push(tr.fill("points.h5.tier_free_shipping", &[("v", &yuan(f))]));
        }
    }
    let (next, percent) = match &v.next {
        Some(n) if n.remaining == 0 => (
            tr.fill("points.h5.tier_next_order", &[("n", &n.name)]),
            n.percent,
        ),
        Some(n) => {
            let left = match v.metric.as_str() {
                "spend_12m" => yuan(n.remaining),
                _ => n.remaining.to_string(),
            };
            (
                tr.fill(
                    &format!("points.h5.tier_next_{}", v.metric.as_str()),
                    &[("v", &left), ("n", &n.name)],
                ),
                n.percent,
            )
        }
        None => (tr.t("points.h5.tier_top").to_owned(), 100),
    };
    Some(TierBlock {
        name: v.tier.as_ref().map_or_else(
            || tr.t("points.h5.tier_none").to_owned(),
            |t| t.name.clone(),
        ),
        member: v.tier.is_some(),
        held,
        benefits,
        next,
        percent,
    })
}

/// What the member centre shows, when the page knows its customer (`?token=` from the
/// mini-program's web-view); without it the script loads the same from the public API.
struct MemberData {
    balance: i64,
    worth: String,
    /// `(last valid day or "永久有效", points)`, soonest first.
    expiring: Vec<(String, i64)>,
    history: Vec<HistoryLine>,
    next_before: Option<i64>,
    tier: Option<TierBlock>,
}

#[derive(Template)]
#[template(path = "h5/member.html")]
struct MemberPage {
    shell: Shell,
    data: Option<MemberData>,
    /// The stored-value balance, filled when the page knows its customer (else the script
    /// loads it).
    stored_value: Option<StoredValueBlock>,
}

/// The member centre's stored-value balance with its two portions (the latest entries and
/// the member gifts are loaded by the script).
struct StoredValueBlock {
    balance: String,
    /// `本金 ¥… · 赠送金 ¥…`.
    split: String,
}

async fn stored_value_block(s: &AppState, tr: Tr, token: &str) -> Option<StoredValueBlock> {
    let customer = s
        .app
        .customer_tokens()
        .customer_from_token(token)
        .await
        .ok()?;
    let a = s.app.stored_value().account_of(customer).await.ok()?;
    Some(StoredValueBlock {
        balance: format!("¥{}", yuan(a.balance_fen)),
        split: tr.fill(
            "points.h5.sv_split",
            &[("p", &yuan(a.principal_fen)), ("g", &yuan(a.gift_fen))],
        ),
    })
}

impl MemberPage {
    fn time(&self, ms: &i64) -> String {
        yutang_core::time::Millis(*ms).to_shanghai_string()
    }
}

async fn member_data(s: &AppState, tr: Tr, token: &str) -> Option<MemberData> {
    let customer = s
        .app
        .customer_tokens()
        .customer_from_token(token)
        .await
        .ok()?;
    let points = s.app.points();
    let account = points.account_of(customer).await.ok()?;
    let page = points.entries_of(customer, None, MEMBER_PAGE).await.ok()?;
    let tier = s.app.tiers().tier_of(customer).await.ok()?;
    let expiring = account
        .expiring
        .iter()
        .map(|l| {
            let when = match l.expires_at {
                Some(at) => tr.fill(
                    "points.h5.expires_on",
                    &[("d", &crate::console::points::last_day(at))],
                ),
                None => tr.t("points.h5.never").to_owned(),
            };
            (when, l.points)
        })
        .collect();
    let history = page
        .items
        .into_iter()
        .map(|e| {
            let credit = e.credit == "customer";
            HistoryLine {
                title: tr.t(&format!("points.kind.{}", e.kind)).to_owned(),
                source: if e.source_type.is_empty() {
                    String::new()
                } else {
                    crate::console::labels::code_or_raw(tr, "points.source.", &e.source_type)
                },
                change: format!("{}{}", if credit { "+" } else { "-" }, e.amount),
                credit,
                kind: e.kind,
                id: e.id,
                at: e.created_at,
            }
        })
        .collect();
    Some(MemberData {
        balance: account.balance,
        worth: tr.fill("points.h5.worth", &[("v", &yuan(account.value_fen))]),
        expiring,
        history,
        next_before: page.next_before,
        tier: tier_block(tr, &tier),
    })
}

/// `/h5/member`: the member centre — the points balance and what it is worth, the points
/// that expire soonest with their dates, and the history with its sources (older pages
/// loaded by the script), the tier with its benefits and the progress to the next; and,
/// loaded by the script, the paid member card with its savings, the stored-value balance
/// with its latest entries, the member gifts received and the points mall.
pub async fn member(State(s): State<AppState>, parts: Parts) -> Response {
    let tr = Tr {
        lang: lang_of(&parts),
    };
    let token = parts.uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    let (data, stored_value) = match token {
        Some(t) => (
            member_data(&s, tr, &t).await,
            stored_value_block(&s, tr, &t).await,
        ),
        None => (None, None),
    };
    let title = tr.t("points.h5.title").to_owned();
    render(&MemberPage {
        shell: Shell::new(&s, &parts, title, "member", 0).await,
        data,
        stored_value,
    })
}

#[derive(Template)]
#[template(path = "h5/consultant.html")]
struct ConsultantPage {
    shell: Shell,
    /// Filled when the page knows its customer (`?token=`); else the script loads it.
    data: Option<ConsultantData>,
}

/// The consultant page's content, as the server renders it.
struct ConsultantData {
    view: yutang_app::ratings::ConsultantView,
    ratable: Vec<yutang_app::ratings::RatableView>,
}

impl ConsultantPage {
    fn average(&self, g: &yutang_app::ratings::GuideView) -> String {
        match g.average_milli {
            Some(m) => self.shell.tr.fill(
                "ratings.h5.average",
                &[
                    ("avg", &yutang_core::ratings::average_text(m)),
                    ("n", &g.ratings.to_string()),
                ],
            ),
            None => self.shell.tr.t("ratings.h5.no_ratings").to_owned(),
        }
    }
    fn pending(&self, p: &yutang_app::ratings::PendingView) -> String {
        self.shell
            .tr
            .fill("ratings.h5.pending", &[("name", &p.name)])
    }
    fn subject(&self, r: &yutang_app::ratings::RatableView) -> String {
        if r.subject_kind == "order" {
            self.shell.tr.fill("ratings.h5.order", &[("no", &r.title)])
        } else {
            format!("{}：{}", self.shell.tr.t("ratings.h5.task"), r.title)
        }
    }
    fn time(&self, ms: &i64) -> String {
        yutang_core::time::Millis(*ms).to_shanghai_string()
    }
}

async fn consultant_data(s: &AppState, token: &str) -> Option<ConsultantData> {
    let customer = s
        .app
        .customer_tokens()
        .customer_from_token(token)
        .await
        .ok()?;
    let r = s.app.ratings();
    Some(ConsultantData {
        view: r.consultant(customer.0).await.ok()?,
        ratable: r.ratable(customer.0).await.ok()?,
    })
}

/// `/h5/consultant`: the customer's consultant (专属顾问) with their store and average rating,
/// the store's other active guides to choose from, and the done tasks and orders not yet
/// rated, each with a 1–5 star form and a comment.
pub async fn consultant(State(s): State<AppState>, parts: Parts) -> Response {
    let tr = Tr {
        lang: lang_of(&parts),
    };
    let token = parts.uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    let data = match token {
        Some(t) => consultant_data(&s, &t).await,
        None => None,
    };
    let title = tr.t("ratings.h5.title").to_owned();
    render(&ConsultantPage {
        shell: Shell::new(&s, &parts, title, "consultant", 0).await,
        data,
    })
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/h5.js"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::lookup;

    /// Every text the script asks for exists in both languages.
    #[test]
    fn script_texts_exist() {
        for k in JS_TEXTS {
            if let Some(key) = js_key(k) {
                assert!(lookup(&key).is_some(), "{k}: {key}");
            }
        }
        // Every reason a refusal can give has its text for the invite page.
        for r in yutang_core::acquisition::referrals::Refusal::ALL {
            let k = format!("reason_{}", r.as_str());
            assert!(JS_TEXTS.contains(&k.as_str()), "{k}");
        }
        let en = js_texts(Lang::En);
        assert!(en.contains("Sign in to see this") && !en.contains('<'));
    }
}
