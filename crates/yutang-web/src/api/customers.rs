//! `/api/v1/customers`: the customer pool. Every read applies the caller's data scope (HQ:
//! all; store manager: customers followed by their store's staff; guide: their own), and an
//! id outside it answers 404. Phone numbers are masked (`138****1234`); the full number comes
//! only from `POST /customers/{id}/reveal-phone`, which is audited.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::customers::{AttributeDefRow, AttributeValueRow, CustomerRow, FollowRow};
use yutang_app::customers::{
    Customer360, CustomerInput, CustomerQuery, FollowChange, IdentityView, Ingested,
};
use yutang_app::events::EventRow;
use yutang_core::FieldError;
use yutang_core::customers::{
    AttributeDef, CustomerSort, FollowState, Keyset, ListCursor, ProfilePatch,
};
use yutang_core::events::EventKind;
use yutang_core::identity::{Identity, IdentityKind};
use yutang_core::ids::{CustomerId, StaffId, StoreId};
use yutang_core::time::Millis;

use super::dto::double_option;
use super::orders::OrderOut;
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOut {
    pub id: i64,
    pub name: String,
    /// female, male or unknown.
    pub gender: String,
    /// YYYY-MM-DD.
    pub birthday: Option<String>,
    pub city: String,
    pub member_level: String,
    /// The first phone number, masked (138****1234).
    pub phone: Option<String>,
    /// The owning guide's name.
    pub owner_name: Option<String>,
    /// Orders not fully refunded.
    pub order_count: i64,
    /// Net of refunds, in fen.
    pub total_spend_fen: i64,
    pub avg_order_value_fen: i64,
    pub first_order_at: Option<String>,
    pub last_order_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CustomerRow> for CustomerOut {
    fn from(r: CustomerRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            gender: r.gender,
            birthday: r.birthday,
            city: r.city,
            member_level: r.member_level,
            phone: r.phone,
            owner_name: r.owner_name,
            order_count: r.order_count,
            total_spend_fen: r.total_spend,
            avg_order_value_fen: r.avg_order_value,
            first_order_at: r.first_order_at.map(ts),
            last_order_at: r.last_order_at.map(ts),
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerOut>,
    /// The customers the filters pick, counted up to the server's `limits.list_count_cap`
    /// (default 10,000) or one past this page when that is further. When `total_exact` is
    /// false this is a lower bound: there are at least this many, and a next page exists.
    pub total: i64,
    /// Whether `total` is the exact count (false: counting stopped at the cap).
    pub total_exact: bool,
    pub page: i64,
    pub page_size: i64,
    /// Pass as `after` (with the same filters and sort) for the next page; null on the last.
    pub next_after: Option<String>,
    /// Pass as `before` (with the same filters and sort) for the previous page; null on the
    /// first.
    pub prev_before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityOut {
    pub id: i64,
    /// wecom_external, unionid, openid, phone, app_user, pos_member or shop_buyer.
    pub kind: String,
    /// The app id of an openid, the platform of a shop buyer id; empty otherwise.
    pub namespace: String,
    /// Phones masked.
    pub value: String,
    /// Phone, unionid and external_userid identify a person on their own.
    pub strong: bool,
    pub created_at: String,
}

impl From<IdentityView> for IdentityOut {
    fn from(i: IdentityView) -> Self {
        Self {
            id: i.id,
            kind: i.kind,
            namespace: i.namespace,
            value: i.value,
            strong: i.strong,
            created_at: ts(i.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowOut {
    pub id: i64,
    pub staff_id: i64,
    pub staff_name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub since: String,
    pub remark: String,
    /// active, deleted_by_customer or deleted_by_guide.
    pub state: String,
    pub is_owner: bool,
    pub updated_at: String,
}

impl From<FollowRow> for FollowOut {
    fn from(f: FollowRow) -> Self {
        Self {
            id: f.id,
            staff_id: f.staff_id,
            staff_name: f.staff_name,
            store_id: f.store_id,
            store_name: f.store_name,
            since: ts(f.since),
            remark: f.remark,
            state: f.state,
            is_owner: f.is_owner,
            updated_at: ts(f.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttributeValueOut {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub value: String,
}

impl From<AttributeValueRow> for AttributeValueOut {
    fn from(a: AttributeValueRow) -> Self {
        Self {
            key: a.key,
            label: a.label,
            kind: a.kind,
            value: a.value,
        }
    }
}

/// The 360° view.
#[derive(Debug, Serialize, ToSchema)]
pub struct Customer360Out {
    pub customer: CustomerOut,
    pub identities: Vec<IdentityOut>,
    pub follows: Vec<FollowOut>,
    pub attributes: Vec<AttributeValueOut>,
    /// The 20 latest orders.
    pub recent_orders: Vec<OrderOut>,
    pub order_total: i64,
}

impl From<Customer360> for Customer360Out {
    fn from(c: Customer360) -> Self {
        Self {
            customer: c.customer.into(),
            identities: c.identities.into_iter().map(Into::into).collect(),
            follows: c.follows.into_iter().map(Into::into).collect(),
            attributes: c.attributes.into_iter().map(Into::into).collect(),
            recent_orders: c
                .recent_orders
                .into_iter()
                .map(OrderOut::from_row)
                .collect(),
            order_total: c.order_total,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IngestOut {
    pub customer: CustomerOut,
    /// created, attached or merged.
    pub outcome: String,
    /// Customer ids merged into this one by the record.
    pub merged: Vec<i64>,
}

impl From<Ingested> for IngestOut {
    fn from(i: Ingested) -> Self {
        Self {
            customer: i.customer.into(),
            outcome: i.outcome.to_owned(),
            merged: i.merged,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityIn {
    pub kind: String,
    /// Required for openid (app id) and shop_buyer (tmall, jd, youzan, douyin).
    pub namespace: Option<String>,
    pub value: String,
}

impl IdentityIn {
    pub fn parse(&self) -> Result<Identity, FieldError> {
        Identity::parse(&self.kind, self.namespace.as_deref(), &self.value)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerRequest {
    /// At least one. A record sharing an identity with a customer attaches to it; one linking
    /// several customers merges them.
    pub identities: Vec<IdentityIn>,
    pub name: Option<String>,
    pub gender: Option<String>,
    /// YYYY-MM-DD.
    pub birthday: Option<String>,
    pub city: Option<String>,
    pub member_level: Option<String>,
    /// Custom attribute values by key (strings or numbers).
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<BTreeMap<String, Box<serde_json::value::RawValue>>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomerRequest {
    pub name: Option<String>,
    pub gender: Option<String>,
    /// `null` clears the birthday.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub birthday: Option<Option<String>>,
    pub city: Option<String>,
    pub member_level: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<BTreeMap<String, Box<serde_json::value::RawValue>>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The other customer. The survivor is whichever was created first.
    pub other_id: i64,
    /// Merge even when both hold different single-valued identities (two unionids …).
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MergeOut {
    pub survivor: i64,
    pub loser: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowRequest {
    pub staff_id: i64,
    /// RFC 3339; default now.
    pub since: Option<String>,
    pub remark: Option<String>,
    /// active (default), deleted_by_customer or deleted_by_guide.
    pub state: Option<String>,
    /// true makes this guide the owner; a customer's first follow is the owner by default.
    pub owner: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealOut {
    pub phones: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub id: i64,
    pub kind: String,
    pub client_id: Option<String>,
    pub occurred_at: String,
    pub received_at: String,
    pub staff_id: Option<i64>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<EventRow> for EventOut {
    fn from(e: EventRow) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            client_id: e.client_id,
            occurred_at: ts(e.occurred_at),
            received_at: ts(e.received_at),
            staff_id: e.staff_id,
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinePage {
    pub items: Vec<EventOut>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttributeDefOut {
    pub id: i64,
    pub key: String,
    pub label: String,
    /// text, number, date or enum.
    pub kind: String,
    pub options: Vec<String>,
    pub created_at: String,
}

impl From<AttributeDefRow> for AttributeDefOut {
    fn from(d: AttributeDefRow) -> Self {
        Self {
            id: d.id,
            key: d.key,
            label: d.label,
            kind: d.kind,
            options: d.options.lines().map(str::to_owned).collect(),
            created_at: ts(d.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeDefRequest {
    /// a–z, 0–9 and '_', e.g. child_birthday.
    pub key: String,
    pub label: String,
    /// text, number, date or enum.
    pub kind: String,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerListParams {
    /// Name substring, or an exact identity value (phones in any common format).
    pub q: Option<String>,
    pub city: Option<String>,
    pub member_level: Option<String>,
    /// female, male or unknown.
    pub gender: Option<String>,
    /// Customers actively followed by this guide (within your scope).
    pub guide_id: Option<i64>,
    /// Customers actively followed by staff of this store (within your scope).
    pub store_id: Option<i64>,
    /// Customers holding an identity of this kind.
    pub identity_kind: Option<String>,
    /// At least this many orders.
    pub min_orders: Option<i64>,
    /// The order: id, total_spend, order_count or last_order, with a leading `-` for
    /// descending (`-total_spend`); newest first (`-id`) by default. Ties go by id.
    pub sort: Option<String>,
    /// 1-based; with `after` or `before` it only numbers the page (no rows are skipped).
    pub page: Option<i64>,
    pub page_size: Option<i64>,
    /// The page after this position: a page's `next_after`, under the same filters and sort.
    /// As fast on page 10,000 as on page 1, where `page` skips every row before it.
    pub after: Option<String>,
    /// The page before this position: a page's `prev_before`, under the same filters and sort.
    pub before: Option<String>,
}

impl CustomerListParams {
    /// The filters as the use case takes them.
    fn query(self) -> Result<CustomerQuery, FieldError> {
        let sort = CustomerSort::parse("sort", self.sort.as_deref().unwrap_or(""))?;
        Ok(CustomerQuery {
            q: self.q,
            city: self.city,
            member_level: self.member_level,
            gender: self
                .gender
                .as_deref()
                .map(|g| {
                    yutang_core::customers::Gender::parse("gender", g)
                        .map(|g| g.as_str().to_owned())
                })
                .transpose()?,
            guide_id: self.guide_id.map(StaffId),
            store_id: self.store_id.map(StoreId),
            identity_kind: self
                .identity_kind
                .as_deref()
                .map(|k| IdentityKind::parse("identity_kind", k))
                .transpose()?,
            min_orders: self.min_orders,
            tag_id: None,
            sort,
            page: Page::parse(self.page, self.page_size)?,
            keyset: match (self.after.as_deref(), self.before.as_deref()) {
                (Some(_), Some(_)) => {
                    return Err(FieldError::new(
                        "before",
                        "invalid_cursor",
                        "give after or before, not both",
                    ));
                }
                (Some(a), None) => Some(Keyset::After(ListCursor::parse("after", a, sort)?)),
                (None, Some(b)) => Some(Keyset::Before(ListCursor::parse("before", b, sort)?)),
                (None, None) => None,
            },
        })
    }
}

/// The filters of a customer-list export (those of `GET /api/v1/customers`, without paging).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerExportRequest {
    pub q: Option<String>,
    pub city: Option<String>,
    pub member_level: Option<String>,
    /// female, male or unknown.
    pub gender: Option<String>,
    pub guide_id: Option<i64>,
    pub store_id: Option<i64>,
    pub identity_kind: Option<String>,
    pub min_orders: Option<i64>,
    /// As in the list: `-total_spend`, `last_order` …
    pub sort: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimelineParams {
    /// Only events of this kind.
    pub kind: Option<String>,
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

fn attr_values(
    a: &Option<BTreeMap<String, Box<serde_json::value::RawValue>>>,
) -> Result<Vec<(String, String)>, FieldError> {
    let mut out = Vec::new();
    for (k, v) in a.iter().flatten() {
        // Numbers are kept as written (`2.4999999999999999` is not 2.5): the raw JSON text.
        let raw = v.get();
        let s = match raw.as_bytes().first() {
            Some(b'"') => serde_json::from_str::<String>(raw).ok(),
            Some(b'-' | b'0'..=b'9') => Some(raw.to_owned()),
            _ => None,
        };
        let Some(s) = s else {
            return Err(FieldError::new(
                "attributes",
                "invalid_attribute_value",
                format!("{k}: value must be a string or a number"),
            ));
        };
        out.push((k.clone(), s));
    }
    Ok(out)
}

/// Customers within your scope, newest first unless sorted, with search and filters.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])),
    params(CustomerListParams),
    responses((status = 200, body = CustomerPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<CustomerListParams>,
) -> WebResult<Json<CustomerPage>> {
    let q = p.query().map_err(AppError::from)?;
    let r = s.app.customers().list_customers(&a, &q).await?;
    Ok(Json(CustomerPage {
        items: r.page.items.into_iter().map(Into::into).collect(),
        total: r.page.total,
        total_exact: r.total_exact,
        page: r.page.page,
        page_size: r.page.page_size,
        next_after: r.next_after,
        prev_before: r.prev_before,
    }))
}

/// CSV of every customer the filters pick within your scope (not one page), in the list's
/// order; audited with the filters and the row count. Phones are masked unless you may reveal
/// them.
#[utoipa::path(post, path = "/api/v1/customers/export", tag = "customers", security(("bearer" = [])),
    request_body = CustomerExportRequest,
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<CustomerExportRequest>,
) -> WebResult<Response> {
    let q = CustomerListParams {
        q: r.q,
        city: r.city,
        member_level: r.member_level,
        gender: r.gender,
        guide_id: r.guide_id,
        store_id: r.store_id,
        identity_kind: r.identity_kind,
        min_orders: r.min_orders,
        sort: r.sort,
        page: None,
        page_size: None,
        after: None,
        before: None,
    }
    .query()
    .map_err(AppError::from)?;
    let export = s.app.customers().export_customers(&a, &q).await?;
    Ok(super::segments::csv_response(export))
}

/// Ingest a customer record: create, attach to the customer sharing an identity, or merge the
/// customers the record links. 201 when created, 200 otherwise.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])),
    request_body = CreateCustomerRequest,
    responses((status = 201, body = IngestOut), (status = 200, body = IngestOut), (status = 403, body = ErrorBody),
        (status = 409, description = "identity_conflict", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<CreateCustomerRequest>,
) -> WebResult<(StatusCode, Json<IngestOut>)> {
    let input = (|| -> Result<CustomerInput, FieldError> {
        Ok(CustomerInput {
            identities: req
                .identities
                .iter()
                .map(IdentityIn::parse)
                .collect::<Result<_, _>>()?,
            profile: ProfilePatch::parse(
                req.name.as_deref(),
                req.gender.as_deref(),
                req.birthday.as_deref().map(Some),
                req.city.as_deref(),
                req.member_level.as_deref(),
            )?,
            attributes: attr_values(&req.attributes)?,
        })
    })()
    .map_err(AppError::from)?;
    let r = s.app.customers().ingest_customer(&a, &input).await?;
    let status = if r.outcome == "created" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(r.into())))
}

/// The 360° view. A merged-away id answers with its survivor (compare `customer.id`).
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Customer360Out), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Customer360Out>> {
    Ok(Json(
        s.app
            .customers()
            .customer_360(&a, CustomerId(id))
            .await?
            .into(),
    ))
}

/// Update profile fields and custom attributes (absent fields are kept).
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UpdateCustomerRequest,
    responses((status = 200, body = CustomerOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<UpdateCustomerRequest>,
) -> WebResult<Json<CustomerOut>> {
    let (patch, attrs) = (|| -> Result<_, FieldError> {
        Ok((
            ProfilePatch::parse(
                req.name.as_deref(),
                req.gender.as_deref(),
                req.birthday.as_ref().map(|b| b.as_deref()),
                req.city.as_deref(),
                req.member_level.as_deref(),
            )?,
            attr_values(&req.attributes)?,
        ))
    })()
    .map_err(AppError::from)?;
    Ok(Json(
        s.app
            .customers()
            .update_customer(&a, CustomerId(id), &patch, &attrs)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/identities", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<IdentityOut>), (status = 404, body = ErrorBody)))]
pub async fn identities(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Vec<IdentityOut>>> {
    let v = s
        .app
        .customers()
        .customer_identities(&a, CustomerId(id))
        .await?;
    Ok(Json(v.into_iter().map(Into::into).collect()))
}

/// Add an identity. One that belongs to another customer is refused (`identity_taken`):
/// merge the two instead. Adding one the customer has is a no-op (200).
#[utoipa::path(post, path = "/api/v1/customers/{id}/identities", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = IdentityIn,
    responses((status = 201, body = Vec<IdentityOut>), (status = 200, body = Vec<IdentityOut>),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_identity(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<IdentityIn>,
) -> WebResult<(StatusCode, Json<Vec<IdentityOut>>)> {
    let identity = req.parse().map_err(AppError::from)?;
    let added = s
        .app
        .customers()
        .add_identity(&a, CustomerId(id), &identity)
        .await?;
    let v = s
        .app
        .customers()
        .customer_identities(&a, CustomerId(id))
        .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(v.into_iter().map(Into::into).collect())))
}

/// Merge another customer with this one. History, identities, attributes, orders and follows
/// move to the survivor (the customer created first); the merge is recorded in both timelines
/// and the audit log; the loser's id keeps resolving to the survivor.
#[utoipa::path(post, path = "/api/v1/customers/{id}/merge", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = MergeRequest,
    responses((status = 200, body = MergeOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "identity_conflict, same_customer or concurrent_merge (another merge of one of them committed first)", body = ErrorBody)))]
pub async fn merge(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<MergeRequest>,
) -> WebResult<Json<MergeOut>> {
    let m = s
        .app
        .customers()
        .merge_customers(&a, CustomerId(id), CustomerId(req.other_id), req.force)
        .await?;
    Ok(Json(MergeOut {
        survivor: m.survivor,
        loser: m.loser,
    }))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/follows", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<FollowOut>), (status = 404, body = ErrorBody)))]
pub async fn follows(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Vec<FollowOut>>> {
    let v = s
        .app
        .customers()
        .customer_follows(&a, CustomerId(id))
        .await?;
    Ok(Json(v.into_iter().map(Into::into).collect()))
}

/// Create or change the relation between a guide and the customer (one per pair).
#[utoipa::path(post, path = "/api/v1/customers/{id}/follows", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = FollowRequest,
    responses((status = 200, body = Vec<FollowOut>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_follow(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<FollowRequest>,
) -> WebResult<Json<Vec<FollowOut>>> {
    let change = (|| -> Result<FollowChange, FieldError> {
        Ok(FollowChange {
            staff_id: StaffId(req.staff_id),
            since: super::dto::opt_occurred(
                "since",
                &req.since,
                s.app.now(),
                s.app.settings.limits.future_skew_minutes,
            )?,
            remark: req.remark.clone(),
            state: FollowState::parse("state", req.state.as_deref().unwrap_or("active"))?,
            owner: req.owner,
        })
    })()
    .map_err(AppError::from)?;
    let v = s
        .app
        .customers()
        .set_follow(&a, CustomerId(id), &change)
        .await?;
    Ok(Json(v.into_iter().map(Into::into).collect()))
}

/// The timeline, newest first, filterable by event kind.
#[utoipa::path(get, path = "/api/v1/customers/{id}/timeline", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path), TimelineParams),
    responses((status = 200, body = TimelinePage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn timeline(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<TimelineParams>,
) -> WebResult<Json<TimelinePage>> {
    let kind = p
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(|k| EventKind::parse_any("kind", k))
        .transpose()
        .map_err(AppError::from)?;
    let page = Page::parse(p.page, p.page_size).map_err(AppError::from)?;
    let r = s
        .app
        .customers()
        .timeline(&a, CustomerId(id), kind, page)
        .await?;
    Ok(Json(TimelinePage {
        items: r.items.into_iter().map(Into::into).collect(),
        total: r.total,
        page: r.page,
        page_size: r.page_size,
    }))
}

/// The customer's full phone numbers. Needs the reveal permission (admin, operator, store
/// manager); every call is written to the audit log.
#[utoipa::path(post, path = "/api/v1/customers/{id}/reveal-phone", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = RevealOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reveal_phone(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<RevealOut>> {
    let phones = s.app.customers().reveal_phones(&a, CustomerId(id)).await?;
    Ok(Json(RevealOut { phones }))
}

#[utoipa::path(get, path = "/api/v1/customer-attributes", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = Vec<AttributeDefOut>)))]
pub async fn list_attributes(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<AttributeDefOut>>> {
    let v = s.app.customers().list_attribute_defs(&a).await?;
    Ok(Json(v.into_iter().map(Into::into).collect()))
}

/// Define a typed custom attribute (e.g. `child_birthday`, date).
#[utoipa::path(post, path = "/api/v1/customer-attributes", tag = "customers", security(("bearer" = [])),
    request_body = AttributeDefRequest,
    responses((status = 201, body = AttributeDefOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_attribute(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<AttributeDefRequest>,
) -> WebResult<(StatusCode, Json<AttributeDefOut>)> {
    let def = AttributeDef::parse(&req.key, &req.label, &req.kind, &req.options)
        .map_err(AppError::from)?;
    let row = s.app.customers().create_attribute_def(&a, &def).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}
