//! `/api/v1/tag-groups`, `/api/v1/tags`, `/api/v1/tag-rules`, `/api/v1/customers/{id}/tags`
//! and `/api/v1/jobs/{id}`: the tag catalogue, tagging customers (by hand and in bulk, as a
//! job) and auto-tag rules.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::jobs::JobView;
use yutang_app::tags::{Audience, GroupWithTags};
use yutang_app::tags::{CustomerTagRow, RuleRow};
use yutang_core::FieldError;
use yutang_core::tags::RuleSpec;
use yutang_core::time::Millis;

use crate::api::idempotency::{self, IdempotencyKey};
use crate::auth::{ApiActor, ApiJson, IdPath};
use crate::error::{ErrorBody, WebError, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagOut {
    pub id: i64,
    pub name: String,
    /// `group/name`, as segment expressions write it: `tag("兴趣/水果")`.
    pub path: String,
    pub color: String,
    pub sort: i64,
    /// Customers holding the tag, within the caller's data scope.
    pub customers: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagGroupOut {
    pub id: i64,
    pub name: String,
    /// `false`: a customer holds at most one tag of the group.
    pub multi: bool,
    pub sort: i64,
    /// manual, rule (kept by an auto-tag rule) or wecom.
    pub source: String,
    pub rule_id: Option<i64>,
    pub tags: Vec<TagOut>,
}

impl From<GroupWithTags> for TagGroupOut {
    fn from(g: GroupWithTags) -> Self {
        Self {
            id: g.group.id,
            name: g.group.name.clone(),
            multi: g.group.multi,
            sort: g.group.sort,
            source: g.group.source,
            rule_id: g.rule_id,
            tags: g
                .tags
                .into_iter()
                .map(|t| TagOut {
                    id: t.tag.id,
                    path: format!("{}/{}", g.group.name, t.tag.name),
                    name: t.tag.name,
                    color: t.tag.color,
                    sort: t.tag.sort,
                    customers: t.customers,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupRequest {
    pub name: String,
    /// Default true.
    #[serde(default)]
    pub multi: Option<bool>,
    #[serde(default)]
    pub sort: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TagRequest {
    pub group_id: i64,
    pub name: String,
    /// `#rrggbb`; default `#1677ff`.
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default)]
    pub sort: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TagUpdate {
    pub name: String,
    pub color: String,
    #[serde(default)]
    pub sort: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TagCreated)]
pub struct Created {
    pub id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// Customers who lost a tag.
    pub untagged: u64,
}

#[utoipa::path(get, path = "/api/v1/tag-groups", tag = "tags", security(("bearer" = [])),
    responses((status = 200, body = Vec<TagGroupOut>)))]
pub async fn catalogue(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<TagGroupOut>>> {
    Ok(Json(
        s.app
            .tags()
            .tag_catalogue(&a)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/tag-groups", tag = "tags", security(("bearer" = [])),
    request_body = GroupRequest,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_group(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<GroupRequest>,
) -> WebResult<(StatusCode, Json<Created>)> {
    let id = s
        .app
        .tags()
        .create_tag_group(&a, &r.name, r.multi.unwrap_or(true), r.sort)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(put, path = "/api/v1/tag-groups/{id}", tag = "tags", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = GroupRequest,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_group(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(r): ApiJson<GroupRequest>,
) -> WebResult<StatusCode> {
    s.app
        .tags()
        .update_tag_group(&a, id, &r.name, r.multi.unwrap_or(true), r.sort)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a group and its tags (customers lose them; each gets a timeline entry).
#[utoipa::path(delete, path = "/api/v1/tag-groups/{id}", tag = "tags", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Deleted), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_group(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Deleted>> {
    Ok(Json(Deleted {
        untagged: s.app.tags().delete_tag_group(&a, id).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/tags", tag = "tags", security(("bearer" = [])),
    request_body = TagRequest,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_tag(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<TagRequest>,
) -> WebResult<(StatusCode, Json<Created>)> {
    let color = r.color.as_deref().unwrap_or("#1677ff");
    let id = s
        .app
        .tags()
        .create_tag(&a, r.group_id, &r.name, color, r.sort)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(put, path = "/api/v1/tags/{id}", tag = "tags", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = TagUpdate,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_tag(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(r): ApiJson<TagUpdate>,
) -> WebResult<StatusCode> {
    s.app
        .tags()
        .update_tag(&a, id, &r.name, &r.color, r.sort)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/tags/{id}", tag = "tags", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Deleted), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_tag(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Deleted>> {
    Ok(Json(Deleted {
        untagged: s.app.tags().delete_tag(&a, id).await?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerTagOut {
    pub tag_id: i64,
    pub group_id: i64,
    pub path: String,
    pub color: String,
    /// manual, bulk, rule, import or wecom.
    pub source: String,
    pub staff_id: Option<i64>,
    pub created_at: String,
}

impl From<CustomerTagRow> for CustomerTagOut {
    fn from(r: CustomerTagRow) -> Self {
        Self {
            tag_id: r.tag_id,
            group_id: r.group_id,
            path: format!("{}/{}", r.group_name, r.name),
            color: r.color,
            source: r.source,
            staff_id: r.staff_id,
            created_at: ts(r.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TagChangeRequest {
    #[serde(default)]
    pub add: Vec<i64>,
    #[serde(default)]
    pub remove: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagChangeOut {
    pub added: u64,
    pub removed: u64,
    pub tags: Vec<CustomerTagOut>,
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/tags", tag = "tags", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<CustomerTagOut>), (status = 404, body = ErrorBody)))]
pub async fn customer_tags(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Vec<CustomerTagOut>>> {
    Ok(Json(
        s.app
            .tags()
            .customer_tags(&a, id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Add and remove tags on one customer. In a single-select group, adding a tag removes the
/// customer's other tag of that group. Tags kept by a rule cannot be set by hand.
#[utoipa::path(post, path = "/api/v1/customers/{id}/tags", tag = "tags", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = TagChangeRequest,
    responses((status = 200, body = TagChangeOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_customer_tags(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(r): ApiJson<TagChangeRequest>,
) -> WebResult<Json<TagChangeOut>> {
    let n = s
        .app
        .tags()
        .change_customer_tags(&a, id, &r.add, &r.remove)
        .await?;
    let tags = s
        .app
        .tags()
        .customer_tags(&a, id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(TagChangeOut {
        added: n.added,
        removed: n.removed,
        tags,
    }))
}

/// Exactly one of `expression`, `segment_id` and `customer_ids` names the audience.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkTagRequest {
    #[serde(default)]
    pub add: Vec<i64>,
    #[serde(default)]
    pub remove: Vec<i64>,
    pub expression: Option<String>,
    pub segment_id: Option<i64>,
    /// At most 100,000; all must be within the caller's data scope.
    pub customer_ids: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobOut {
    pub id: i64,
    pub kind: String,
    /// queued, running, done or failed.
    pub status: String,
    pub progress_done: i64,
    pub progress_total: i64,
    pub attempts: i64,
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<JobView> for JobOut {
    fn from(j: JobView) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            status: j.status,
            progress_done: j.progress_done,
            progress_total: j.progress_total,
            attempts: j.attempts,
            result: j.result,
            error: j.error,
            created_at: ts(j.created_at),
            updated_at: ts(j.updated_at),
        }
    }
}

/// Start a bulk tagging job. An `Idempotency-Key` header makes retries return the same job.
#[utoipa::path(post, path = "/api/v1/tags/bulk", tag = "tags", security(("bearer" = [])),
    params(IdempotencyKey), request_body = BulkTagRequest,
    responses((status = 202, body = JobOut), (status = 409, body = ErrorBody, description = idempotency::CONFLICT), (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn bulk(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    key: IdempotencyKey,
    ApiJson(r): ApiJson<BulkTagRequest>,
) -> WebResult<(StatusCode, Json<JobOut>)> {
    let audience = match (r.expression, r.segment_id, r.customer_ids) {
        (Some(e), None, None) => Audience::Expression(e),
        (None, Some(id), None) => Audience::Segment(id),
        (None, None, Some(ids)) => Audience::Ids(ids),
        _ => {
            return Err(WebError::from(yutang_app::AppError::Invalid(
                FieldError::new(
                    "expression",
                    "invalid_audience",
                    "give exactly one of expression, segment_id and customer_ids",
                ),
            )));
        }
    };
    let id = s
        .app
        .tags()
        .bulk_tag(&a, audience, &r.add, &r.remove, key.as_deref())
        .await?;
    let job = s.app.job(&a, id).await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "tags", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = JobOut), (status = 404, body = ErrorBody)))]
pub async fn job(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<JobOut>> {
    Ok(Json(s.app.job(&a, id).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleOut {
    pub id: i64,
    pub name: String,
    pub group_id: i64,
    pub kind: String,
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub enabled: bool,
    pub last_run_at: Option<String>,
    pub last_changes: i64,
}

impl From<RuleRow> for RuleOut {
    fn from(r: RuleRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            group_id: r.group_id,
            kind: r.kind,
            config: serde_json::from_str(&r.config).unwrap_or_default(),
            enabled: r.enabled,
            last_run_at: r.last_run_at.map(ts),
            last_changes: r.last_changes,
        }
    }
}

/// `config` is tagged by `kind`: `lifecycle` {new_days, active_days, dormant_days}, `rfm`
/// {recency_days, frequency_min, monetary_min_fen} (thresholds are re-set to the medians on
/// every run), `age_months` {attribute, buckets: [{from_month, to_month, tag}]},
/// `birthday_month` {tag}, `expression` {tag, expression}.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleRequest {
    pub name: String,
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

#[utoipa::path(get, path = "/api/v1/tag-rules", tag = "tags", security(("bearer" = [])),
    responses((status = 200, body = Vec<RuleOut>)))]
pub async fn rules(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<RuleOut>>> {
    Ok(Json(
        s.app
            .tags()
            .list_tag_rules(&a)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Create an auto-tag rule; it gets its own single-select group and runs at once.
#[utoipa::path(post, path = "/api/v1/tag-rules", tag = "tags", security(("bearer" = [])),
    request_body = RuleRequest,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<RuleRequest>,
) -> WebResult<(StatusCode, Json<Created>)> {
    let spec: RuleSpec = serde_json::from_value(r.config).map_err(|e| {
        WebError::from(yutang_app::AppError::Invalid(FieldError::new(
            "config",
            "invalid_rule",
            e.to_string(),
        )))
    })?;
    let id = s.app.tags().create_tag_rule(&a, &r.name, &spec).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleRun {
    pub changes: u64,
}

#[utoipa::path(post, path = "/api/v1/tag-rules/{id}/run", tag = "tags", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = RuleRun), (status = 404, body = ErrorBody)))]
pub async fn run_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<RuleRun>> {
    Ok(Json(RuleRun {
        changes: s.app.tags().run_tag_rule_now(&a, id).await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RulePatch {
    pub enabled: bool,
}

#[utoipa::path(patch, path = "/api/v1/tag-rules/{id}", tag = "tags", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RulePatch,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn patch_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(r): ApiJson<RulePatch>,
) -> WebResult<StatusCode> {
    s.app.tags().set_tag_rule_enabled(&a, id, r.enabled).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a rule; its group stays, as a manual group with the tags as they are.
#[utoipa::path(delete, path = "/api/v1/tag-rules/{id}", tag = "tags", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<StatusCode> {
    s.app.tags().delete_tag_rule(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CorpTagSyncOut {
    pub groups: usize,
    pub tags: usize,
    pub deleted_tags: usize,
    pub deleted_groups: usize,
}

/// Bring the `wecom` tag groups in line with WeCom's corp tags now (also runs on every
/// `change_external_tag` callback).
#[utoipa::path(post, path = "/api/v1/tag-groups/sync-wecom", tag = "tags", security(("bearer" = [])),
    responses((status = 200, body = CorpTagSyncOut), (status = 409, body = ErrorBody)))]
pub async fn sync_wecom(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<CorpTagSyncOut>> {
    let r = s.app.wecom().sync_corp_tags_now(&a).await?;
    Ok(Json(CorpTagSyncOut {
        groups: r.groups,
        tags: r.tags,
        deleted_tags: r.deleted_tags,
        deleted_groups: r.deleted_groups,
    }))
}
