//! Product images: `POST /api/v1/media` (staff who manage promotions upload one) and the
//! public `GET /h5/media/{id}` that serves it to the H5 pages, so they load nothing from
//! another host.
//!
//! The upload's body is the image's bytes as they are (`Content-Type: image/png`,
//! `image/jpeg` or `image/webp`; no multipart, no base64). What the file is comes from its
//! bytes, never from that header (see `yutang_core::media`); the body may be at most
//! `limits.max_image_bytes` (2 MiB), read up to that and no further, whatever the server's
//! general body limit. The same bytes again answer 200 with the first upload's id.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use yutang_app::promotions::media::{MediaRow, media_url};
use yutang_core::staff::Permission;

use crate::auth::{ApiActor, IdPath};
use crate::error::{ErrorBody, WebError, WebResult};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct MediaOut {
    pub id: i64,
    /// Where the image is served (`/h5/media/{id}`, on this server).
    pub url: String,
    /// `image/png`, `image/jpeg` or `image/webp`, as read from the bytes.
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub size_bytes: i64,
}

impl From<MediaRow> for MediaOut {
    fn from(r: MediaRow) -> Self {
        Self {
            id: r.id,
            url: media_url(r.id),
            content_type: r.content_type,
            width: r.width,
            height: r.height,
            size_bytes: r.size_bytes,
        }
    }
}

/// The upload's body in the OpenAPI document: the file's bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct ImageFile(Vec<u8>);

/// Read a request body of at most `limit` bytes: over it, 413 `image_too_large` naming the
/// field `image` (the reading stops there).
pub async fn read_limited(body: Body, limit: usize) -> Result<Bytes, WebError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let inner = e.into_inner();
        if inner
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            WebError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "image_too_large",
                format!("an image is at most {} KiB", limit / 1024),
            )
            .with_field("image")
        } else {
            WebError::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                format!("the body could not be read: {inner}"),
            )
        }
    })
}

/// Upload a product image (PNG, JPEG or WebP; at most 2 MiB and 4096 pixels a side): the
/// body is the file's bytes, with `Content-Type: image/…`. 201 with its id and URL; the same
/// bytes again answer 200 with the same id. Refusals name the field `image`:
/// 422 `invalid_image` (not one of the three formats by its bytes, or cut off),
/// 413/422 `image_too_large`; 415 `invalid_image` for a `Content-Type` that is not `image/…`.
/// Use the id as `image_id` of a flash sale or group-buy.
#[utoipa::path(post, path = "/api/v1/media", tag = "promotions", security(("bearer" = [])),
    request_body(content((ImageFile = "image/png"), (ImageFile = "image/jpeg"), (ImageFile = "image/webp")),
        description = "The image file's bytes (PNG, JPEG or WebP; send its own `image/…` type)"),
    responses((status = 201, body = MediaOut), (status = 200, body = MediaOut, description = "These bytes were uploaded before: the same id"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_media(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    body: Body,
) -> WebResult<Response> {
    if !a.can(Permission::ManagePromotions) {
        return Err(yutang_app::AppError::Forbidden.into());
    }
    let is_image = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .get(..6)
                .is_some_and(|p| p.eq_ignore_ascii_case("image/"))
        });
    if !is_image {
        return Err(WebError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_image",
            "send the image file's bytes as the body with `Content-Type: image/png`, \
             `image/jpeg` or `image/webp`",
        )
        .with_field("image"));
    }
    let bytes = read_limited(body, s.app.settings.limits.max_image_bytes).await?;
    let (row, created) = s.app.media().upload_image(&a, &bytes).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(MediaOut::from(row))).into_response())
}

/// `GET /h5/media/{id}`: the image's bytes with its own type, cached for good (an id's bytes
/// never change), `ETag` = its SHA-256 (`If-None-Match` → 304), never sniffed as anything
/// else, and a policy that lets it run nothing should it be opened as a page.
pub async fn serve_media(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Response {
    let (row, bytes) = match s.app.media().image_bytes(id).await {
        Ok(v) => v,
        Err(e) => return WebError::from(e).into_response(),
    };
    let etag = format!("\"{}\"", row.sha256);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = bytes.into_response();
        if let Ok(v) = HeaderValue::from_str(&row.content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    res
}
