//! Promotions over HTTP: what the three areas share — the customer behind a public request
//! ([`CustomerAuth`]), customer tokens (`/api/v1/customer-tokens`, the demo login), the
//! `customer` security scheme and the promotion specs' wire shapes for the OpenAPI document.
//! The areas' own endpoints are in [`super::coupons`], [`super::flash_sales`] and
//! [`super::group_buys`].
//!
//! Staff (bearer `ytk_…`/`yts_…`): `/api/v1/coupon-templates`, `/api/v1/coupons/{id}/…`,
//! `/api/v1/flash-sales`, `/api/v1/flash-sale-claims/{id}/paid`, `/api/v1/group-buys`,
//! `/api/v1/customer-tokens`. Public (bearer customer token `yct_…`, what the H5 pages and the
//! brand's mini-program call): `/api/v1/public/…`. Public writes accept an `Idempotency-Key`
//! header: the same key and body replay the first answer, the same key with another body is 422,
//! a concurrent duplicate is 409 and takes effect once.
//! Times are UTC epoch milliseconds; money is integer fen.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::customer_tokens::TokenRefusal;
use yutang_core::ids::CustomerId;

use crate::auth::{ApiActor, ApiJson, bearer};
use crate::error::{ErrorBody, WebError, WebResult};
use crate::state::AppState;

pub(super) fn json_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The customer behind a public request, from `Authorization: Bearer yct_…`.
pub struct CustomerAuth(pub CustomerId);

impl FromRequestParts<AppState> for CustomerAuth {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let token = bearer(parts).ok_or_else(|| {
            WebError::new(
                StatusCode::UNAUTHORIZED,
                "customer_token_required",
                "send `Authorization: Bearer yct_…` (a customer token)",
            )
        })?;
        match state
            .app
            .customer_tokens()
            .customer_from_token(&token)
            .await
        {
            Ok(c) => Ok(CustomerAuth(c)),
            Err(TokenRefusal::Expired) => Err(WebError::new(
                StatusCode::UNAUTHORIZED,
                "customer_token_expired",
                "the customer token has expired; get a new one",
            )),
            Err(TokenRefusal::BadSignature | TokenRefusal::Malformed) => Err(WebError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_customer_token",
                "the customer token is not valid",
            )),
        }
    }
}

/// 201 for a new write, 200 for a replay.
pub(crate) fn created(replayed: bool) -> StatusCode {
    if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// `?draft=true` on a create: the campaign waits as a draft (`status: "draft"`), closed and
/// invisible to customers until `POST …/{id}/publish`; without it the campaign opens from its
/// window on.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CreateParams {
    pub draft: Option<bool>,
}

impl CreateParams {
    pub fn publish(&self) -> yutang_app::promotions::Publish {
        if self.draft == Some(true) {
            yutang_app::promotions::Publish::Draft
        } else {
            yutang_app::promotions::Publish::Now
        }
    }
}

/// What `POST …/{id}/publish` did: `published` (a draft opened to customers) or
/// `already_published` (nothing changed). An archived campaign is refused with
/// `promotion_inactive`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    pub id: i64,
    pub status: &'static str,
}

impl Published {
    pub fn new(id: i64, p: yutang_app::promotions::Publication) -> Self {
        use yutang_app::promotions::Publication;
        let status = match p {
            Publication::Published => "published",
            // Archived is an error before this is built; answer what it is all the same.
            Publication::AlreadyPublished | Publication::Archived => "already_published",
        };
        Published { id, status }
    }
}

/// What `DELETE` did to a campaign: `deleted` (it had no claims, coupons or teams; it is
/// gone) or `archived` (it has history: kept with its statistics, listed with
/// `status: "archived"`, closed to claims and edits). Deleting an archived campaign again
/// answers `archived` and changes nothing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Removed {
    pub id: i64,
    /// `deleted` or `archived`.
    pub status: &'static str,
}

impl Removed {
    pub fn new(id: i64, r: yutang_app::promotions::Removal) -> Self {
        use yutang_app::promotions::Removal;
        let status = match r {
            Removal::Deleted => "deleted",
            Removal::Archived | Removal::AlreadyArchived => "archived",
        };
        Removed { id, status }
    }
}

// --- customer tokens ---

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerTokenRequest {
    pub customer_id: i64,
    /// Lifetime in seconds, 60–2592000; default 7200.
    #[serde(default)]
    pub ttl_secs: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerTokenOut {
    /// `yct_…`: send as `Authorization: Bearer` to `/api/v1/public/…`.
    pub token: String,
    pub customer_id: i64,
    pub expires_at: i64,
}

/// Mint a customer token (the brand's mini-program backend calls this after its own login).
#[utoipa::path(post, path = "/api/v1/customer-tokens", tag = "promotions", security(("bearer" = [])),
    request_body = CustomerTokenRequest,
    responses((status = 201, body = CustomerTokenOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mint_token(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<CustomerTokenRequest>,
) -> WebResult<(StatusCode, Json<CustomerTokenOut>)> {
    let t = s
        .app
        .customer_tokens()
        .mint_customer_token(&a, CustomerId(r.customer_id), r.ttl_secs)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CustomerTokenOut {
            token: t.token,
            customer_id: t.customer_id,
            expires_at: t.expires_at,
        }),
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemoLoginRequest {
    #[serde(default)]
    pub customer_id: Option<i64>,
}

/// Demo only (404 unless the server runs the demo): a customer token without a brand backend.
#[utoipa::path(post, path = "/api/v1/public/demo-login", tag = "public",
    request_body = DemoLoginRequest,
    responses((status = 201, body = CustomerTokenOut), (status = 404, body = ErrorBody)))]
pub async fn demo_login(
    State(s): State<AppState>,
    ApiJson(r): ApiJson<DemoLoginRequest>,
) -> WebResult<(StatusCode, Json<CustomerTokenOut>)> {
    let t = s
        .app
        .customer_tokens()
        .demo_login(r.customer_id.map(CustomerId))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CustomerTokenOut {
            token: t.token,
            customer_id: t.customer_id,
            expires_at: t.expires_at,
        }),
    ))
}

/// Adds the `customer` security scheme (customer tokens, `yct_…`) to the OpenAPI document.
pub struct CustomerTokenScheme;

impl utoipa::Modify for CustomerTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "customer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Customer token `yct_…` from POST /api/v1/customer-tokens",
                    ))
                    .build(),
            ),
        );
    }
}

/// The promotion specs' wire shapes for the OpenAPI document (the handlers deserialize
/// `yutang_core`'s own types, which are kept free of documentation dependencies; these mirror
/// their serde representation field for field). Times are epoch milliseconds.
#[allow(dead_code)]
pub mod spec_schema {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// Who may claim or join.
    #[derive(Deserialize, ToSchema)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum Audience {
        Everyone,
        /// Members of a saved segment.
        Segment {
            segment_id: i64,
        },
        /// Customers of one member level.
        Level {
            level: String,
        },
        /// Customers in one of the brand's WeCom customer groups.
        GroupMembers,
    }

    /// `[starts_at, ends_at)`, epoch milliseconds, within 2000-01-01..2100-01-01.
    #[derive(Deserialize, ToSchema)]
    pub struct Window {
        pub starts_at: i64,
        pub ends_at: i64,
    }

    /// What one coupon gives.
    #[derive(Deserialize, ToSchema)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum CouponKind {
        /// 满减: `off_fen` off an order of at least `threshold_fen`.
        AmountOff { off_fen: i64, threshold_fen: i64 },
        /// 折扣: pay `rate_permille`/1000, saving at most `cap_fen`.
        Discount {
            rate_permille: i64,
            cap_fen: i64,
            #[serde(default)]
            threshold_fen: i64,
        },
        /// 免运费.
        FreeShipping {
            #[serde(default)]
            threshold_fen: i64,
        },
        /// 兑换券: one item by SKU.
        Exchange { sku: String, item_name: String },
    }

    /// How long a claimed coupon is valid.
    #[derive(Deserialize, ToSchema)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum Validity {
        Fixed { starts_at: i64, ends_at: i64 },
        DaysFromClaim { days: u32 },
    }

    /// Where a coupon may be used: empty lists mean everywhere.
    #[derive(Default, Deserialize, ToSchema)]
    pub struct Scope {
        #[serde(default)]
        pub channels: Vec<String>,
        #[serde(default)]
        pub store_ids: Vec<i64>,
    }

    /// A coupon template.
    #[derive(Deserialize, ToSchema)]
    pub struct TemplateSpec {
        pub name: String,
        /// One coupon, or a stepped set with strictly rising thresholds.
        pub steps: Vec<CouponKind>,
        pub validity: Validity,
        pub claim_window: Window,
        pub stock: i64,
        pub per_customer: i64,
        pub audience: Audience,
        #[serde(default)]
        pub scope: Scope,
        #[serde(default)]
        pub return_on_refund: bool,
        #[serde(default)]
        pub remind_hours_before: u32,
    }

    /// A flash sale.
    #[derive(Deserialize, ToSchema)]
    pub struct FlashSaleSpec {
        pub name: String,
        pub sku: String,
        pub item_name: String,
        pub price_fen: i64,
        #[serde(default)]
        pub original_price_fen: i64,
        pub stock: i64,
        pub window: Window,
        pub per_customer: i64,
        pub hold_minutes: i64,
        pub audience: Audience,
        /// The product image: an id from `POST /api/v1/media` (422 `unknown_image` when there
        /// is none). Absent or null: no image.
        #[serde(default)]
        pub image_id: Option<i64>,
    }

    /// A group-buy.
    #[derive(Deserialize, ToSchema)]
    pub struct GroupBuySpec {
        pub name: String,
        pub sku: String,
        pub item_name: String,
        pub price_fen: i64,
        #[serde(default)]
        pub original_price_fen: i64,
        #[serde(default)]
        pub leader_discount_fen: i64,
        pub team_size: i64,
        pub time_limit_minutes: i64,
        pub stock: i64,
        pub window: Window,
        pub audience: Audience,
        /// The product image: an id from `POST /api/v1/media` (422 `unknown_image` when there
        /// is none). Absent or null: no image.
        #[serde(default)]
        pub image_id: Option<i64>,
    }
}
