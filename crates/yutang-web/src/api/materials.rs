//! `/api/v1/materials` and `/api/v1/material-folders`: the material library (素材库, issue #21
//! item 4) — posters, images, copy, link cards and mini-program cards, in folders and with
//! free labels, that guides pick to send. Every role reads; admins and operators write. See
//! docs/materials.md.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::materials::{FolderView, MaterialPage, MaterialQuery, MaterialView};
use yutang_core::materials::MaterialForm;
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

/// A folder: its name (1–30 characters, unique) and where it sorts (lower first; 0 when
/// absent on create, unchanged when absent on update).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MaterialFolderIn)]
pub struct FolderIn {
    pub name: String,
    pub sort: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MaterialFolderOut)]
pub struct FolderOut {
    pub id: i64,
    pub name: String,
    pub sort: i64,
    /// Active materials in the folder.
    pub materials: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<FolderView> for FolderOut {
    fn from(f: FolderView) -> Self {
        Self {
            id: f.id,
            name: f.name,
            sort: f.sort,
            materials: f.materials,
            created_at: ts(f.created_at),
            updated_at: ts(f.updated_at),
        }
    }
}

/// A material: what each kind needs —
/// `poster` and `image`: `media_id` (an uploaded image, `POST /api/v1/media`), a poster's
/// caption in `body`; `text`: the copy in `body`; `link`: `url` (http or https), `media_id`
/// (the cover) and a description in `body`; `miniprogram`: `appid` (`wx` + 16 hex digits),
/// `page` (the page path) and `media_id` (the cover). Every kind: `title` (1–64 characters,
/// one line), up to 20 distinct `tags` of 1–20 characters, an optional `folder_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MaterialIn)]
pub struct MaterialIn {
    /// `poster`, `image`, `text`, `link` or `miniprogram`.
    pub kind: String,
    pub title: String,
    /// Copy, a caption or a description: at most 4000 characters.
    pub body: Option<String>,
    pub url: Option<String>,
    pub media_id: Option<i64>,
    pub appid: Option<String>,
    pub page: Option<String>,
    pub tags: Option<Vec<String>>,
    pub folder_id: Option<i64>,
}

impl From<MaterialIn> for MaterialForm {
    fn from(m: MaterialIn) -> Self {
        MaterialForm {
            kind: m.kind,
            title: m.title,
            body: m.body,
            url: m.url,
            media_id: m.media_id,
            appid: m.appid,
            page: m.page,
            tags: m.tags,
            folder_id: m.folder_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MaterialFolderRef)]
pub struct FolderRefOut {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MaterialOut)]
pub struct MaterialOut {
    pub id: i64,
    /// The folder it is filed in; null when none.
    pub folder: Option<FolderRefOut>,
    /// `poster`, `image`, `text`, `link` or `miniprogram`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub media_id: Option<i64>,
    /// Where the image is served on this server (`/h5/media/{id}`).
    pub image_url: Option<String>,
    pub appid: Option<String>,
    pub page: Option<String>,
    pub tags: Vec<String>,
    /// `active` or `archived`.
    pub status: String,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<MaterialView> for MaterialOut {
    fn from(v: MaterialView) -> Self {
        Self {
            id: v.id,
            folder: v.folder.map(|f| FolderRefOut {
                id: f.id,
                name: f.name,
            }),
            kind: v.kind,
            title: v.title,
            body: v.body,
            url: v.url,
            media_id: v.media_id,
            image_url: v.image_url,
            appid: v.appid,
            page: v.page,
            tags: v.tags,
            status: v.status,
            created_by: v.created_by,
            created_at: ts(v.created_at),
            updated_at: ts(v.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MaterialPageOut)]
pub struct MaterialPageOut {
    pub items: Vec<MaterialOut>,
    /// Pass back as `after` for the next page; null on the last page.
    pub next_after: Option<i64>,
}

impl From<MaterialPage> for MaterialPageOut {
    fn from(p: MaterialPage) -> Self {
        Self {
            items: p.items.into_iter().map(MaterialOut::from).collect(),
            next_after: p.next_after,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MaterialsParams {
    /// Only this folder's materials.
    pub folder_id: Option<i64>,
    /// Only materials in no folder.
    pub unfiled: Option<bool>,
    /// Only this kind: `poster`, `image`, `text`, `link` or `miniprogram`.
    pub kind: Option<String>,
    /// Only materials carrying this label (exactly).
    pub label: Option<String>,
    /// Part of the title.
    pub q: Option<String>,
    /// `active` (default), `archived` or `all`.
    pub status: Option<String>,
    /// The `next_after` of the previous page.
    pub after: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// The folders, by sort order then name, with their count of active materials.
#[utoipa::path(get, path = "/api/v1/material-folders", tag = "materials", security(("bearer" = [])),
    responses((status = 200, body = Vec<FolderOut>), (status = 403, body = ErrorBody)))]
pub async fn list_folders(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<FolderOut>>> {
    let rows = s.app.materials().folders(&a).await?;
    Ok(Json(rows.into_iter().map(FolderOut::from).collect()))
}

/// Create a folder (admins and operators).
#[utoipa::path(post, path = "/api/v1/material-folders", tag = "materials", security(("bearer" = [])),
    request_body = FolderIn,
    responses((status = 201, body = FolderOut), (status = 403, body = ErrorBody),
        (status = 409, description = "already_exists (the name is taken)", body = ErrorBody),
        (status = 422, description = "invalid_name, text_too_long, invalid_characters", body = ErrorBody)))]
pub async fn create_folder(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<FolderIn>,
) -> WebResult<(StatusCode, Json<FolderOut>)> {
    let f = s
        .app
        .materials()
        .create_folder(&a, &req.name, req.sort)
        .await?;
    Ok((StatusCode::CREATED, Json(f.into())))
}

/// Rename or re-sort a folder (admins and operators).
#[utoipa::path(put, path = "/api/v1/material-folders/{id}", tag = "materials", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = FolderIn,
    responses((status = 200, body = FolderOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "already_exists (the name is taken)", body = ErrorBody),
        (status = 422, description = "invalid_name, text_too_long, invalid_characters", body = ErrorBody)))]
pub async fn update_folder(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<FolderIn>,
) -> WebResult<Json<FolderOut>> {
    let f = s
        .app
        .materials()
        .update_folder(&a, id, &req.name, req.sort)
        .await?;
    Ok(Json(f.into()))
}

/// Delete a folder with no active material in it; its archived materials are left without
/// a folder (admins and operators).
#[utoipa::path(delete, path = "/api/v1/material-folders/{id}", tag = "materials", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "folder_not_empty", body = ErrorBody)))]
pub async fn delete_folder(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<StatusCode> {
    s.app.materials().delete_folder(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of materials, newest first, filtered by folder, kind, label, title and status.
#[utoipa::path(get, path = "/api/v1/materials", tag = "materials", security(("bearer" = [])),
    params(MaterialsParams),
    responses((status = 200, body = MaterialPageOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_query, invalid_material_kind, invalid_status, invalid_page_size, unknown_folder, text_too_long", body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<MaterialsParams>,
) -> WebResult<Json<MaterialPageOut>> {
    let q = MaterialQuery {
        folder_id: p.folder_id,
        unfiled: p.unfiled == Some(true),
        kind: p.kind,
        label: p.label,
        q: p.q,
        status: p.status,
        after: p.after,
        limit: p.limit,
    };
    Ok(Json(s.app.materials().list(&a, &q).await?.into()))
}

/// Create a material (admins and operators).
#[utoipa::path(post, path = "/api/v1/materials", tag = "materials", security(("bearer" = [])),
    request_body = MaterialIn,
    responses((status = 201, body = MaterialOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_material_kind, required, text_too_long, invalid_characters, invalid_url, invalid_appid, invalid_page_path, too_many_items, unknown_image, unknown_folder, unknown_field", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<MaterialIn>,
) -> WebResult<(StatusCode, Json<MaterialOut>)> {
    let m = s.app.materials().create(&a, req.into()).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// One material (archived ones too).
#[utoipa::path(get, path = "/api/v1/materials/{id}", tag = "materials", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MaterialOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<MaterialOut>> {
    Ok(Json(s.app.materials().get(&a, id).await?.into()))
}

/// Replace a material's editable fields (the same body as creating it; its status stays).
#[utoipa::path(put, path = "/api/v1/materials/{id}", tag = "materials", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = MaterialIn,
    responses((status = 200, body = MaterialOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "as for creating a material", body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<MaterialIn>,
) -> WebResult<Json<MaterialOut>> {
    Ok(Json(
        s.app.materials().update(&a, id, req.into()).await?.into(),
    ))
}

/// Archive a material: it leaves the library's default list; links already sent keep
/// working. Archiving an archived material changes nothing.
#[utoipa::path(post, path = "/api/v1/materials/{id}/archive", tag = "materials", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MaterialOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<MaterialOut>> {
    Ok(Json(s.app.materials().archive(&a, id).await?.into()))
}

/// Bring an archived material back.
#[utoipa::path(post, path = "/api/v1/materials/{id}/restore", tag = "materials", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MaterialOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn restore(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<MaterialOut>> {
    Ok(Json(s.app.materials().restore(&a, id).await?.into()))
}
