//! Tracked links (雷达, issue #21 item 4): `POST /api/v1/materials/{id}/links` makes (or gives
//! back) the link of a material for a guide and a customer, and `GET
//! /api/v1/materials/{id}/stats` counts its opens, viewers, forwards and time on page. The
//! page a link opens is `/h5/r/{token}` (crates/yutang-web/src/radar.rs). See docs/materials.md.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::radar::{LinkView, MaterialStats};
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

/// For whom: the guide who sends (a guide: themselves, the default; a store manager: a guide
/// of their store; HQ: any active guide) and, optionally, the customer it is sent to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIn {
    pub staff_id: Option<i64>,
    pub customer_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MaterialLink)]
pub struct LinkOut {
    pub token: String,
    /// `/h5/r/{token}`.
    pub path: String,
    /// The link to send: the path under `h5.public_url` (null when that is not set).
    pub url: Option<String>,
    pub material_id: i64,
    pub staff_id: i64,
    pub customer_id: Option<i64>,
    pub created_at: String,
}

impl LinkOut {
    fn new(v: LinkView, base: Option<&str>) -> Self {
        Self {
            url: base.map(|b| format!("{b}{}", v.path)),
            token: v.token,
            path: v.path,
            material_id: v.material_id,
            staff_id: v.staff_id,
            customer_id: v.customer_id,
            created_at: Millis(v.created_at).to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MaterialGuideViews)]
pub struct GuideOut {
    pub staff_id: i64,
    pub name: String,
    pub links: i64,
    pub views: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialStatsOut {
    pub material_id: i64,
    /// Links made (one per guide and customer).
    pub links: i64,
    /// Opens.
    pub views: i64,
    /// Distinct viewers (browsers).
    pub viewers: i64,
    /// Opens by someone other than a link's first viewer.
    pub forwards: i64,
    /// Customers who opened their own link.
    pub customers: i64,
    /// Seconds on the page in total, and per open.
    pub seconds: i64,
    pub avg_seconds: i64,
    /// The guides whose links were opened most (empty for a guide, who sees their own).
    pub guides: Vec<GuideOut>,
}

impl From<MaterialStats> for MaterialStatsOut {
    fn from(s: MaterialStats) -> Self {
        Self {
            material_id: s.material_id,
            links: s.links,
            views: s.views,
            viewers: s.viewers,
            forwards: s.forwards,
            customers: s.customers,
            seconds: s.seconds,
            avg_seconds: s.avg_seconds,
            guides: s
                .guides
                .into_iter()
                .map(|g| GuideOut {
                    staff_id: g.staff_id,
                    name: g.name,
                    links: g.links,
                    views: g.views,
                })
                .collect(),
        }
    }
}

/// The tracked link of a material for a guide (and a customer): made once, the same after.
#[utoipa::path(post, path = "/api/v1/materials/{id}/links", tag = "materials", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = LinkIn,
    responses((status = 200, body = LinkOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "material_archived", body = ErrorBody),
        (status = 422, description = "unknown_sender, unknown_customer, required", body = ErrorBody)))]
pub async fn link(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<LinkIn>,
) -> WebResult<Json<LinkOut>> {
    let v = s
        .app
        .radar()
        .link(&a, id, req.staff_id, req.customer_id)
        .await?;
    Ok(Json(LinkOut::new(v, s.app.settings.h5.public_base())))
}

/// A material's opens, viewers, forwards and time on page.
#[utoipa::path(get, path = "/api/v1/materials/{id}/stats", tag = "materials", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MaterialStatsOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stats(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<MaterialStatsOut>> {
    Ok(Json(s.app.radar().stats(&a, id).await?.into()))
}
