//! Invite-a-friend (issue #19 item 5): referral programs (`/api/v1/referral-programs`), each
//! inviter's link, the attempts and the inviters' numbers; and the public side for the H5 page
//! and the mini-program (`/api/v1/public/…`, customer token).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use yutang_app::acquisition::referrals::{
    AcceptOutcome, InvitePage, Inviter, InviterRow, LinkView, ProgramView, ReferralListRow,
};
use yutang_app::audit::Paged;
use yutang_core::FieldError;
use yutang_core::acquisition::referrals::ReferralSpec;

use crate::api::promotions::CustomerAuth;
use crate::auth::{ApiActor, ApiJson, ApiQuery, CodePath, IdPath};
use crate::error::{ErrorBody, WebError, WebResult};
use crate::state::AppState;

/// `?archived=true` lists archived programs instead of live ones.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProgramListParams {
    pub archived: Option<bool>,
}

/// Filter and page of a program's attempts.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReferralListParams {
    /// bound, qualifying, rewarded, disqualified or refused.
    pub status: Option<String>,
    pub page: Option<i64>,
    /// 1–200, default 50.
    pub page_size: Option<i64>,
}

/// Whose link: exactly one of a staff member and a customer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub staff_id: Option<i64>,
    pub customer_id: Option<i64>,
}

/// A link with its absolute URL.
#[derive(Debug, Serialize)]
pub struct LinkOut {
    #[serde(flatten)]
    pub link: LinkView,
    /// The invite page: `h5.public_url` (else this request's host) + `path`.
    pub url: String,
}

fn link_out(s: &AppState, headers: &HeaderMap, link: LinkView) -> LinkOut {
    let (origin, _) = crate::console::share::origin(s, headers);
    LinkOut {
        url: format!("{origin}{}", link.path),
        link,
    }
}

fn created(c: bool) -> StatusCode {
    if c {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// The documented shapes (the handlers use the domain types).
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// first_order: the friend's first paid order after the binding, at least
    /// `min_order_fen`, not refunded before the hold ends; added: adding a guide after the
    /// binding, still a contact when the hold ends.
    #[derive(Serialize, ToSchema)]
    pub struct Qualification {
        /// first_order or added.
        pub kind: String,
        /// first_order only (fen, default 0).
        pub min_order_fen: Option<i64>,
        /// 0–30 days, default 7.
        pub hold_days: Option<i64>,
    }

    /// A referral program: `{name, live_code_id, description?, starts_on?, ends_on?,
    /// qualification, invitee_reward_template_id?, inviter_reward_template_id?,
    /// inviter_daily_cap?}`.
    #[derive(Serialize, ToSchema)]
    pub struct ReferralSpec {
        /// 1–40 characters.
        pub name: String,
        /// The live code friends add through. An acquisition link (kind link) binds friends
        /// through WeCom; a QR code only on the invite page opened signed in.
        pub live_code_id: i64,
        /// At most 200 characters, shown on the invite page.
        pub description: Option<String>,
        /// First day friends can be bound (Asia/Shanghai date).
        pub starts_on: Option<String>,
        pub ends_on: Option<String>,
        /// Required.
        pub qualification: Qualification,
        /// Coupon the friend gets on qualifying.
        pub invitee_reward_template_id: Option<i64>,
        /// Coupon the inviting customer gets on qualifying.
        pub inviter_reward_template_id: Option<i64>,
        /// 1–1,000 inviter rewards per inviter per day (default 20); beyond it the reward is
        /// withheld and recorded.
        pub inviter_daily_cap: Option<i64>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct ProgramTotals {
        pub links: i64,
        pub visits: i64,
        pub bound: i64,
        pub qualifying: i64,
        pub rewarded: i64,
        pub disqualified: i64,
        /// `[reason, count]` pairs of refused attempts.
        pub refused: Vec<(String, i64)>,
        pub invitee_rewards_issued: i64,
        pub inviter_rewards_issued: i64,
        pub inviter_rewards_withheld: i64,
        pub orders: i64,
        pub gmv_fen: i64,
        /// Reward coupons (both sides) used on orders.
        pub rewards_used: i64,
        /// Their discounts, integer fen.
        pub reward_cost_fen: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct ProgramOut {
        pub id: i64,
        pub name: String,
        pub live_code_id: i64,
        pub description: String,
        pub starts_on: Option<String>,
        pub ends_on: Option<String>,
        pub qualification: Qualification,
        pub invitee_reward_template_id: Option<i64>,
        pub inviter_reward_template_id: Option<i64>,
        pub inviter_daily_cap: i64,
        pub store_id: Option<i64>,
        /// contact_way or link.
        pub code_kind: String,
        pub archived: bool,
        pub created_by: String,
        pub created_at: i64,
        pub updated_at: i64,
        pub totals: ProgramTotals,
    }

    #[derive(Serialize, ToSchema)]
    pub struct LinkOut {
        pub program_id: i64,
        pub code: String,
        /// The WeCom state the link carries (`rf-` + code).
        pub state: String,
        pub path: String,
        pub url: String,
        pub customer_id: Option<i64>,
        pub staff_id: Option<i64>,
        pub visits: i64,
        pub created_at: i64,
    }

    /// One attempt: status bound, qualifying, rewarded, disqualified or refused; `reason`
    /// names the rule (self_invite, already_in_pool, already_invited, identity_reused,
    /// program_not_running, order_refunded, contact_deleted, inviter_daily_cap); each side's
    /// reward '' (none), pending, issued, refused or withheld.
    #[derive(Serialize, ToSchema)]
    pub struct ReferralOut {
        pub id: i64,
        pub program_id: i64,
        pub link_id: i64,
        pub invitee_id: i64,
        pub invitee_name: String,
        /// add or page.
        pub via: String,
        pub status: String,
        pub reason: String,
        pub order_id: Option<i64>,
        pub add_id: Option<i64>,
        pub qualifies_at: Option<i64>,
        pub invitee_reward: String,
        pub invitee_claim_id: Option<i64>,
        pub inviter_reward: String,
        pub inviter_claim_id: Option<i64>,
        pub reward_error: String,
        pub link_code: String,
        pub inviter_customer_id: Option<i64>,
        pub inviter_staff_id: Option<i64>,
        pub inviter_name: String,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct ReferralPage {
        pub items: Vec<ReferralOut>,
        pub total: i64,
        pub page: i64,
        pub page_size: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct InviterOut {
        pub link_id: i64,
        pub code: String,
        pub customer_id: Option<i64>,
        pub staff_id: Option<i64>,
        pub name: String,
        pub visits: i64,
        pub bound: i64,
        pub rewarded: i64,
        pub refused: i64,
    }

    /// What the invite page shows (counts a visit).
    #[derive(Serialize, ToSchema)]
    pub struct InviteOut {
        pub program_id: i64,
        pub name: String,
        pub description: String,
        /// A customer's name masked (张*), or the guide's name.
        pub inviter: String,
        pub running: bool,
        pub code_kind: String,
        /// The acquisition link carrying this inviter's state, or the QR image.
        pub add_url: String,
        pub link_code: String,
        pub qualification: Qualification,
        pub invitee_reward_template_id: Option<i64>,
        /// `/h5/invite/{code}/qr.png`: the QR a friend scans.
        pub qr_path: String,
    }

    /// bound, or refused with the rule in `reason`; `created` false for a repeat.
    #[derive(Serialize, ToSchema)]
    pub struct AcceptOut {
        pub status: String,
        pub reason: Option<String>,
        pub created: bool,
    }
}

#[utoipa::path(get, path = "/api/v1/referral-programs", tag = "acquisition", security(("bearer" = [])),
    params(ProgramListParams),
    responses((status = 200, body = Vec<schema::ProgramOut>), (status = 403, body = ErrorBody)))]
pub async fn list_programs(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<ProgramListParams>,
) -> WebResult<Json<Vec<ProgramView>>> {
    Ok(Json(
        s.app
            .acquisition()
            .programs(&a, p.archived.unwrap_or(false))
            .await?,
    ))
}

/// Create a referral program (operators and admins; audited).
#[utoipa::path(post, path = "/api/v1/referral-programs", tag = "acquisition", security(("bearer" = [])),
    request_body = schema::ReferralSpec,
    responses((status = 201, body = schema::ProgramOut), (status = 422, body = ErrorBody)))]
pub async fn create_program(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(spec): ApiJson<ReferralSpec>,
) -> WebResult<(StatusCode, Json<ProgramView>)> {
    let v = s.app.acquisition().create_program(&a, spec).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[utoipa::path(get, path = "/api/v1/referral-programs/{id}", tag = "acquisition", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::ProgramOut), (status = 404, body = ErrorBody)))]
pub async fn get_program(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<ProgramView>> {
    Ok(Json(s.app.acquisition().program(&a, id).await?))
}

/// Replace a program's settings (not once archived: 409 `program_archived`).
#[utoipa::path(put, path = "/api/v1/referral-programs/{id}", tag = "acquisition", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = schema::ReferralSpec,
    responses((status = 200, body = schema::ProgramOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_program(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(spec): ApiJson<ReferralSpec>,
) -> WebResult<Json<ProgramView>> {
    Ok(Json(
        s.app.acquisition().update_program(&a, id, spec).await?,
    ))
}

/// Archive a program: no friend is bound any more; those bound before still qualify.
#[utoipa::path(post, path = "/api/v1/referral-programs/{id}/archive", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = schema::ProgramOut), (status = 404, body = ErrorBody)))]
pub async fn archive_program(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<ProgramView>> {
    Ok(Json(s.app.acquisition().archive_program(&a, id).await?))
}

/// The program's attempts, newest first (friends in the caller's data scope).
#[utoipa::path(get, path = "/api/v1/referral-programs/{id}/referrals", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path), ReferralListParams),
    responses((status = 200, body = schema::ReferralPage), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_referrals(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<ReferralListParams>,
) -> WebResult<Json<Paged<ReferralListRow>>> {
    Ok(Json(
        s.app
            .acquisition()
            .program_referrals(
                &a,
                id,
                p.status.as_deref(),
                p.page.unwrap_or(1),
                p.page_size.unwrap_or(50),
            )
            .await?,
    ))
}

/// The program's inviters, most friends bound first (at most 100).
#[utoipa::path(get, path = "/api/v1/referral-programs/{id}/inviters", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Vec<schema::InviterOut>), (status = 404, body = ErrorBody)))]
pub async fn list_inviters(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Vec<InviterRow>>> {
    Ok(Json(s.app.acquisition().program_inviters(&a, id).await?))
}

/// A staff member's or a customer's link (made on first ask: 201; then 200). A guide asks
/// for their own link or one of their customers'; operators and admins for anyone in scope.
#[utoipa::path(post, path = "/api/v1/referral-programs/{id}/links", tag = "acquisition",
    security(("bearer" = [])), params(("id" = i64, Path)), request_body = LinkRequest,
    responses((status = 201, body = schema::LinkOut), (status = 200, body = schema::LinkOut),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_link(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LinkRequest>,
) -> WebResult<(StatusCode, Json<LinkOut>)> {
    let inviter = match (req.staff_id, req.customer_id) {
        (Some(st), None) => Inviter::Staff(st),
        (None, Some(c)) => Inviter::Customer(c),
        _ => {
            return Err(WebError::from(yutang_app::error::AppError::Invalid(
                FieldError::new(
                    "staff_id",
                    "one_inviter",
                    "give exactly one of staff_id and customer_id",
                ),
            )));
        }
    };
    let (link, new) = s.app.acquisition().invite_link(&a, id, inviter).await?;
    Ok((created(new), Json(link_out(&s, &headers, link))))
}

// --- public ---

/// The signed-in customer's own link in a program (made on first ask: 201; then 200).
#[utoipa::path(post, path = "/api/v1/public/referral-programs/{id}/link", tag = "public",
    security(("customer" = [])), params(("id" = i64, Path)),
    responses((status = 201, body = schema::LinkOut), (status = 200, body = schema::LinkOut),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn public_my_link(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> WebResult<(StatusCode, Json<LinkOut>)> {
    let (link, new) = s.app.acquisition().customer_invite_link(c, id).await?;
    Ok((created(new), Json(link_out(&s, &headers, link))))
}

/// A link's invite: the program, the inviter (masked), where to add the guide. Counts a
/// visit. No token needed (the friend may not have one).
#[utoipa::path(get, path = "/api/v1/public/invites/{code}", tag = "public",
    params(("code" = String, Path)),
    responses((status = 200, body = schema::InviteOut), (status = 404, body = ErrorBody)))]
pub async fn public_invite(
    State(s): State<AppState>,
    CodePath(code): CodePath,
) -> WebResult<Json<InvitePage>> {
    s.app
        .acquisition()
        .invite_page(&code)
        .await?
        .map(Json)
        .ok_or_else(|| {
            WebError::from(yutang_app::error::AppError::NotFound {
                what: "referral link",
            })
        })
}

/// The signed-in friend accepts an invite: bound (201), or refused with the rule that
/// stopped it (201, recorded); a repeat answers the first outcome (200).
#[utoipa::path(post, path = "/api/v1/public/invites/{code}/accept", tag = "public",
    security(("customer" = [])), params(("code" = String, Path)),
    responses((status = 201, body = schema::AcceptOut), (status = 200, body = schema::AcceptOut),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn public_accept(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    CodePath(code): CodePath,
) -> WebResult<(StatusCode, Json<AcceptOutcome>)> {
    let out = s.app.acquisition().accept_invite(c, &code).await?;
    Ok((created(out.created), Json(out)))
}
