//! `/api/v1/segments`: count, list and export the customers a segment expression picks, and
//! saved segments. Everything is within the caller's data scope. Expression errors answer
//! 422 with `position` (byte span, line, column).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yutang_app::segments::{SavedSegment, SegmentExport, SegmentSchema};
use yutang_core::segments::{BuilderJoin, BuilderMisfit, BuilderRows};
use yutang_core::time::Millis;

use super::customers::CustomerOut;
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExpressionRequest {
    /// e.g. `tag("宝宝月龄/0-6月") and city = "上海" and orders_90d >= 2 and not in_group`.
    pub expression: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountOut {
    /// The expression as Yutang prints it.
    pub canonical: String,
    /// Matching customers within the caller's data scope.
    pub count: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MembersRequest {
    pub expression: String,
    /// From 1; out-of-range values are clamped.
    #[serde(default = "one")]
    pub page: i64,
    /// 1–500; out-of-range values are clamped.
    #[serde(default = "fifty")]
    pub page_size: i64,
}

fn one() -> i64 {
    1
}
fn fifty() -> i64 {
    50
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembersOut {
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    /// Customers of this page (phones masked), by id.
    pub items: Vec<CustomerOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchemaAttrOut {
    pub name: String,
    /// text, enum, integer, money, time or yes/no.
    pub kind: String,
    pub options: Vec<String>,
    /// Values offered for a text attribute (others may be typed): channel names for
    /// `channel`, staff usernames for `acquired_by`, within the caller's scope.
    pub suggestions: Vec<SuggestionOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionOut {
    /// What the expression compares with (`acquired_by = "g.li"`).
    pub value: String,
    /// How to show it (`李娜 (g.li)`).
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchemaTagOut {
    pub id: i64,
    pub path: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchemaOut {
    pub attributes: Vec<SchemaAttrOut>,
    pub tags: Vec<SchemaTagOut>,
}

impl From<SegmentSchema> for SchemaOut {
    fn from(s: SegmentSchema) -> Self {
        Self {
            attributes: s
                .attributes
                .into_iter()
                .map(|a| SchemaAttrOut {
                    name: a.name,
                    kind: a.kind.to_owned(),
                    options: a.options,
                    suggestions: a
                        .suggestions
                        .into_iter()
                        .map(|v| SuggestionOut {
                            value: v.value,
                            label: v.label,
                        })
                        .collect(),
                })
                .collect(),
            tags: s
                .tags
                .into_iter()
                .map(|t| SchemaTagOut {
                    id: t.id,
                    path: t.path,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentOut {
    pub id: i64,
    pub name: String,
    pub expression: String,
    /// Live count within the caller's scope; absent when the expression no longer compiles
    /// (e.g. a tag it names was deleted), with `error` saying why.
    pub count: Option<u64>,
    pub error: Option<String>,
    pub updated_at: String,
}

impl From<SavedSegment> for SegmentOut {
    fn from(s: SavedSegment) -> Self {
        Self {
            id: s.row.id,
            name: s.row.name,
            expression: s.row.expression,
            count: s.count,
            error: s.error,
            updated_at: Millis(s.row.updated_at).to_rfc3339(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SegmentRequest {
    pub name: String,
    pub expression: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSegment {
    pub id: i64,
}

/// The attributes and tags an expression may use (for editors and the visual builder).
#[utoipa::path(get, path = "/api/v1/segments/schema", tag = "segments", security(("bearer" = [])),
    responses((status = 200, body = SchemaOut)))]
pub async fn schema(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<SchemaOut>> {
    Ok(Json(s.app.segments().segment_schema(&a).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuilderRowOut {
    /// `tag:<group/name>` for a tag, else the attribute's name.
    pub field: String,
    /// `has`, `exists`, `is_true`, `is_false`, `=`, `!=`, `<`, `<=`, `>`, `>=`, `within`,
    /// `before_ago`, `after` or `before`.
    pub op: String,
    /// Text, an integer, yuan, days or `YYYY-MM-DD`; empty when the operator takes none.
    pub value: String,
    pub not: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuilderRowsOut {
    /// Whether the expression is rows of conditions joined by one `and` or one `or` (what
    /// the console's visual builder shows).
    pub fits: bool,
    /// `and` or `or`; absent when it does not fit.
    pub join: Option<String>,
    pub rows: Vec<BuilderRowOut>,
    /// Why it does not fit: `nested` (`and` inside `or`, `not` over a group) or
    /// `unsupported` (a condition no row shows, such as an `in` list).
    pub misfit: Option<String>,
}

impl From<Result<BuilderRows, BuilderMisfit>> for BuilderRowsOut {
    fn from(r: Result<BuilderRows, BuilderMisfit>) -> Self {
        match r {
            Ok(b) => Self {
                fits: true,
                join: Some(
                    match b.join {
                        BuilderJoin::And => "and",
                        BuilderJoin::Or => "or",
                    }
                    .to_owned(),
                ),
                rows: b
                    .rows
                    .into_iter()
                    .map(|r| BuilderRowOut {
                        field: r.field,
                        op: r.op,
                        value: r.value,
                        not: r.not,
                    })
                    .collect(),
                misfit: None,
            },
            Err(m) => Self {
                fits: false,
                join: None,
                rows: Vec::new(),
                misfit: Some(m.code().to_owned()),
            },
        }
    }
}

/// An expression as the visual builder's rows (for editors that show conditions as rows),
/// or why it does not fit them. Empty text is no rows; an invalid expression is a 422 with
/// its position, as for a count.
#[utoipa::path(post, path = "/api/v1/segments/rows", tag = "segments", security(("bearer" = [])),
    request_body = ExpressionRequest,
    responses((status = 200, body = BuilderRowsOut), (status = 422, body = ErrorBody)))]
pub async fn rows(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<ExpressionRequest>,
) -> WebResult<Json<BuilderRowsOut>> {
    Ok(Json(
        s.app
            .segments()
            .builder_rows(&a, &r.expression)
            .await?
            .into(),
    ))
}

/// Count an expression now.
#[utoipa::path(post, path = "/api/v1/segments/count", tag = "segments", security(("bearer" = [])),
    request_body = ExpressionRequest,
    responses((status = 200, body = CountOut), (status = 422, body = ErrorBody)))]
pub async fn count(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<ExpressionRequest>,
) -> WebResult<Json<CountOut>> {
    let c = s.app.segments().segment_count(&a, &r.expression).await?;
    Ok(Json(CountOut {
        canonical: c.canonical,
        count: c.count,
    }))
}

/// A page of an expression's members, by customer id.
#[utoipa::path(post, path = "/api/v1/segments/members", tag = "segments", security(("bearer" = [])),
    request_body = MembersRequest,
    responses((status = 200, body = MembersOut), (status = 422, body = ErrorBody)))]
pub async fn members(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<MembersRequest>,
) -> WebResult<Json<MembersOut>> {
    member_page(&s, &a, &r.expression, Some(r.page), Some(r.page_size)).await
}

async fn member_page(
    s: &AppState,
    a: &yutang_app::Actor,
    expression: &str,
    page: Option<i64>,
    size: Option<i64>,
) -> WebResult<Json<MembersOut>> {
    // i64 on the wire (what the document says), clamped; no overflow for any page.
    let page = page.unwrap_or(1).clamp(1, i64::MAX).unsigned_abs();
    let size = size.unwrap_or(50).clamp(1, 500).unsigned_abs();
    let p = s
        .app
        .segments()
        .segment_page(a, expression, (page - 1).saturating_mul(size), size)
        .await?;
    let rows = s
        .app
        .segments()
        .customers_by_ids(a, &p.customer_ids)
        .await?;
    Ok(Json(MembersOut {
        total: p.total,
        page,
        page_size: size,
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

/// CSV of an expression's members (audited with the row count). Phones are masked unless the
/// caller may reveal them.
#[utoipa::path(post, path = "/api/v1/segments/export", tag = "segments", security(("bearer" = [])),
    request_body = ExpressionRequest,
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<ExpressionRequest>,
) -> WebResult<Response> {
    let export = s.app.segments().export_segment(&a, &r.expression).await?;
    Ok(csv_response(export))
}

/// A segment export as a streamed CSV download. The headers go out once the export has
/// started (members fixed, audit written); the rows follow 1,000 customers at a time, so
/// the request timeout, which covers producing the headers, does not cut a big export
/// short. A database error mid-way ends the body early (the client sees a truncated
/// download, never a silently short file that looks complete) and is logged.
pub fn csv_response(export: SegmentExport) -> Response {
    // A BOM so Excel opens Chinese text as UTF-8.
    streamed_csv(
        "segment.csv",
        "segment export",
        Bytes::from_static("\u{feff}".as_bytes()),
        export,
        |mut e| async move { Ok(e.next_chunk().await?.map(|chunk| (Bytes::from(chunk), e))) },
    )
}

/// A CSV download streamed piece by piece: `first` (the BOM, perhaps a header row), then each
/// piece `next` makes from the state until it answers `None`. An error ends the body early
/// (a truncated download, never a short file that looks complete) and is logged as `what`
/// stopping.
pub fn streamed_csv<T, F, Fut>(
    file_name: &'static str,
    what: &'static str,
    first: Bytes,
    state: T,
    mut next: F,
) -> Response
where
    T: Send + 'static,
    F: FnMut(T) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Option<(Bytes, T)>, yutang_app::AppError>>
        + Send
        + 'static,
{
    let head = futures_util::stream::once(async move { Ok(first) });
    let rest = futures_util::stream::try_unfold(state, move |s| {
        let piece = next(s);
        async move {
            piece.await.map_err(|err| {
                tracing::error!(error = %err, "{what} stopped");
                std::io::Error::other(err.to_string())
            })
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        Body::from_stream(head.chain(rest)),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/segments", tag = "segments", security(("bearer" = [])),
    responses((status = 200, body = Vec<SegmentOut>)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<SegmentOut>>> {
    Ok(Json(
        s.app
            .segments()
            .list_segments(&a)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/segments", tag = "segments", security(("bearer" = [])),
    request_body = SegmentRequest,
    responses((status = 201, body = CreatedSegment), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<SegmentRequest>,
) -> WebResult<(StatusCode, Json<CreatedSegment>)> {
    let id = s
        .app
        .segments()
        .create_segment(&a, &r.name, &r.expression)
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedSegment { id })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/segments/{id}", tag = "segments", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SegmentOut), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<SegmentOut>> {
    let row = s.app.segments().get_segment(&a, id).await?;
    let (count, error, error_code) = match s.app.segments().segment_count(&a, &row.expression).await
    {
        Ok(c) => (Some(c.count), None, None),
        Err(yutang_app::AppError::Segment(e)) => (None, Some(e.to_string()), Some(e.kind.code())),
        Err(e) => return Err(e.into()),
    };
    let saved = SavedSegment {
        row,
        count,
        error,
        error_code,
    };
    Ok(Json(saved.into()))
}

#[utoipa::path(put, path = "/api/v1/segments/{id}", tag = "segments", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = SegmentRequest,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(r): ApiJson<SegmentRequest>,
) -> WebResult<StatusCode> {
    s.app
        .segments()
        .update_segment(&a, id, &r.name, &r.expression)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/segments/{id}", tag = "segments", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<StatusCode> {
    s.app.segments().delete_segment(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A saved segment's members, paged.
#[utoipa::path(get, path = "/api/v1/segments/{id}/members", tag = "segments", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = MembersOut), (status = 404, body = ErrorBody)))]
pub async fn saved_members(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> WebResult<Json<MembersOut>> {
    let row = s.app.segments().get_segment(&a, id).await?;
    member_page(&s, &a, &row.expression, q.page, q.page_size).await
}

/// A saved segment's members as CSV (audited).
#[utoipa::path(get, path = "/api/v1/segments/{id}/export", tag = "segments", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn saved_export(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Response> {
    let row = s.app.segments().get_segment(&a, id).await?;
    Ok(csv_response(
        s.app.segments().export_segment(&a, &row.expression).await?,
    ))
}
