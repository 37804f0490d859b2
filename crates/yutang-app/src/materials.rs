//! The material library (素材库, issue #21 item 4): posters, images, copy, link cards and
//! mini-program cards, in folders and with free labels, that the brand prepares once and its
//! guides pick to send.
//!
//! **Who.** Every role reads (a guide picks a material to send; a store manager, an analyst,
//! an operator and an admin look at them); only headquarters writes — admins and operators
//! create, edit, file and archive materials and manage the folders. An API token follows its
//! role the same way.
//!
//! **Materials are archived, never deleted**: tracked links and their views point at them. A
//! folder is deleted only when no active material is in it; its archived materials are left
//! without a folder.

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::materials::{self as core, Material, MaterialForm};
use yutang_core::staff::Role;
use yutang_store::materials::{self as store, FolderRow, MaterialFilter, MaterialRow, NewMaterial};

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// A page holds this many materials unless the caller asks otherwise.
const DEFAULT_PAGE: i64 = 50;
/// A page holds at most this many.
const MAX_PAGE: i64 = 200;

/// The material-library use cases.
pub struct Materials<'a>(&'a App);

impl std::ops::Deref for Materials<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    pub fn materials(&self) -> Materials<'_> {
        Materials(self)
    }
}

/// Every role reads the library. The match names each role so that a new one must decide.
fn require_reader(actor: &Actor) -> Result<()> {
    match actor.caller.role {
        Role::Admin | Role::Operator | Role::StoreManager | Role::Guide | Role::Analyst => Ok(()),
    }
}

/// Headquarters writes it: admins and operators.
fn require_editor(actor: &Actor) -> Result<()> {
    match actor.caller.role {
        Role::Admin | Role::Operator => Ok(()),
        Role::StoreManager | Role::Guide | Role::Analyst => Err(AppError::Forbidden),
    }
}

/// A folder as shown: the folder's row with its count of active materials.
pub type FolderView = FolderRow;

/// The folder a material is filed in.
#[derive(Debug, Clone, Serialize)]
pub struct FolderRef {
    pub id: i64,
    pub name: String,
}

/// A material as shown.
#[derive(Debug, Clone, Serialize)]
pub struct MaterialView {
    pub id: i64,
    pub folder: Option<FolderRef>,
    /// `poster`, `image`, `text`, `link` or `miniprogram`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub media_id: Option<i64>,
    /// Where the image is served (`/h5/media/{id}`), when the material has one.
    pub image_url: Option<String>,
    pub appid: Option<String>,
    pub page: Option<String>,
    pub tags: Vec<String>,
    /// `active` or `archived`.
    pub status: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<MaterialRow> for MaterialView {
    fn from(r: MaterialRow) -> Self {
        let folder = match (r.folder_id, r.folder_name) {
            (Some(id), Some(name)) => Some(FolderRef { id, name }),
            _ => None,
        };
        Self {
            id: r.id,
            folder,
            kind: r.kind,
            title: r.title,
            body: r.body,
            url: r.url,
            media_id: r.media_id,
            image_url: r.media_id.map(|id| format!("/h5/media/{id}")),
            appid: r.appid,
            page: r.page,
            tags: serde_json::from_str(&r.tags).unwrap_or_default(),
            status: r.status,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A page of materials, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct MaterialPage {
    pub items: Vec<MaterialView>,
    /// Pass back as `after` for the next page; `None` on the last.
    pub next_after: Option<i64>,
}

/// What to list, as the caller gave it.
#[derive(Debug, Clone, Default)]
pub struct MaterialQuery {
    pub folder_id: Option<i64>,
    /// Only materials in no folder (未分组).
    pub unfiled: bool,
    /// One of the kinds.
    pub kind: Option<String>,
    /// A label the material carries, exactly.
    pub label: Option<String>,
    /// Part of the title.
    pub q: Option<String>,
    /// `active` (the default), `archived` or `all`.
    pub status: Option<String>,
    /// The `next_after` of the previous page.
    pub after: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

fn blank_to_none(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(format!("json: {e}")))
}

impl Materials<'_> {
    // ------------------------------------------------------------ folders

    /// Every folder, by its sort order then name, with its count of active materials.
    pub async fn folders(&self, actor: &Actor) -> Result<Vec<FolderView>> {
        require_reader(actor)?;
        Ok(store::folders(&self.db).await?)
    }

    /// A new folder (409 `already_exists` on `name` when the name is taken).
    pub async fn create_folder(
        &self,
        actor: &Actor,
        name: &str,
        sort: Option<i64>,
    ) -> Result<FolderView> {
        require_editor(actor)?;
        let name = core::parse_folder_name(name)?;
        let sort = sort.unwrap_or(0);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_folder_in(&mut tx, &name, sort, now).await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MessagingChanged,
            &format!("material_folder:{id}"),
            &serde_json::json!({ "op": "material_folder.create", "name": name }).to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(store::get_folder(&self.db, id).await?)
    }

    /// Rename a folder, and re-sort it when `sort` is given.
    pub async fn update_folder(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        sort: Option<i64>,
    ) -> Result<FolderView> {
        require_editor(actor)?;
        let name = core::parse_folder_name(name)?;
        let before = store::get_folder(&self.db, id)
            .await
            .map_err(AppError::not_found("material_folder"))?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        store::update_folder_in(&mut tx, id, &name, sort.unwrap_or(before.sort), now)
            .await
            .map_err(AppError::not_found("material_folder"))?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MessagingChanged,
            &format!("material_folder:{id}"),
            &serde_json::json!({
                "op": "material_folder.update", "before": before.name, "after": name,
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(store::get_folder(&self.db, id).await?)
    }

    /// Delete a folder with no active material in it (409 `folder_not_empty` otherwise).
    pub async fn delete_folder(&self, actor: &Actor, id: i64) -> Result<()> {
        require_editor(actor)?;
        let mut tx = self.db.begin().await?;
        store::delete_folder_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("material_folder"))?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MessagingChanged,
            &format!("material_folder:{id}"),
            &serde_json::json!({ "op": "material_folder.delete" }).to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ------------------------------------------------------------ materials

    /// A page of materials, newest first.
    pub async fn list(&self, actor: &Actor, q: &MaterialQuery) -> Result<MaterialPage> {
        require_reader(actor)?;
        let kind = match blank_to_none(q.kind.as_deref()) {
            Some(k) => Some(core::Kind::parse("kind", k)?.as_str()),
            None => None,
        };
        let status = match blank_to_none(q.status.as_deref()).unwrap_or("active") {
            "all" => None,
            s @ ("active" | "archived") => Some(s),
            _ => {
                return Err(FieldError::new(
                    "status",
                    "invalid_status",
                    "one of active, archived, all",
                )
                .into());
            }
        };
        let text = blank_to_none(q.q.as_deref());
        if text.is_some_and(|t| t.chars().count() > core::MAX_TITLE_CHARS) {
            return Err(FieldError::new(
                "q",
                "text_too_long",
                format!("at most {} characters", core::MAX_TITLE_CHARS),
            )
            .into());
        }
        let limit = q.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(FieldError::new("limit", "invalid_page_size", "1–200").into());
        }
        if let Some(folder) = q.folder_id {
            self.check_folder(folder).await?;
        }
        let filter = MaterialFilter {
            folder_id: q.folder_id,
            kind,
            label: blank_to_none(q.label.as_deref()),
            q: text,
            status,
            unfiled: q.unfiled,
            after: q.after,
        };
        let mut rows = store::list(&self.db, &filter, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(50));
        let next_after = if more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        Ok(MaterialPage {
            items: rows.into_iter().map(MaterialView::from).collect(),
            next_after,
        })
    }

    /// One material (archived ones too).
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<MaterialView> {
        require_reader(actor)?;
        Ok(store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("material"))?
            .into())
    }

    async fn check_folder(&self, id: i64) -> Result<()> {
        match store::get_folder(&self.db, id).await {
            Ok(_) => Ok(()),
            Err(yutang_store::StoreError::NotFound) => {
                Err(
                    FieldError::new("folder_id", "unknown_folder", format!("no folder {id}"))
                        .into(),
                )
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The image and the folder a material names exist.
    async fn check_refs(&self, m: &Material) -> Result<()> {
        if let Some(id) = m.media_id {
            match yutang_store::media::get(&self.db, id).await {
                Ok(_) => {}
                Err(yutang_store::StoreError::NotFound) => {
                    return Err(FieldError::new(
                        "media_id",
                        "unknown_image",
                        format!("no image {id}: upload it with POST /api/v1/media"),
                    )
                    .into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(folder) = m.folder_id {
            self.check_folder(folder).await?;
        }
        Ok(())
    }

    /// Save a new, active material.
    pub async fn create(&self, actor: &Actor, form: MaterialForm) -> Result<MaterialView> {
        require_editor(actor)?;
        let m = Material::parse(form)?;
        self.check_refs(&m).await?;
        let tags = json(&m.tags)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_in(&mut tx, &new_material(&m, &tags), actor.actor_id(), now).await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MessagingChanged,
            &format!("material:{id}"),
            &serde_json::json!({
                "op": "material.create", "kind": m.kind.as_str(), "title": m.title,
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Replace a material's editable fields: kind, title, body, URL, image, mini-program,
    /// labels and folder (an archived material stays archived).
    pub async fn update(&self, actor: &Actor, id: i64, form: MaterialForm) -> Result<MaterialView> {
        require_editor(actor)?;
        let m = Material::parse(form)?;
        store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("material"))?;
        self.check_refs(&m).await?;
        let tags = json(&m.tags)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        store::update_in(&mut tx, id, &new_material(&m, &tags), now)
            .await
            .map_err(AppError::not_found("material"))?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::MessagingChanged,
            &format!("material:{id}"),
            &serde_json::json!({
                "op": "material.update", "kind": m.kind.as_str(), "title": m.title,
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Archive a material: guides no longer see it in the library (its links keep working).
    /// Archiving an archived material changes nothing.
    pub async fn archive(&self, actor: &Actor, id: i64) -> Result<MaterialView> {
        self.set_status(actor, id, "archived", "material.archive")
            .await
    }

    /// Bring an archived material back.
    pub async fn restore(&self, actor: &Actor, id: i64) -> Result<MaterialView> {
        self.set_status(actor, id, "active", "material.restore")
            .await
    }

    async fn set_status(
        &self,
        actor: &Actor,
        id: i64,
        status: &str,
        op: &str,
    ) -> Result<MaterialView> {
        require_editor(actor)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let changed = store::set_status_in(&mut tx, id, status, now)
            .await
            .map_err(AppError::not_found("material"))?;
        if changed {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::MessagingChanged,
                &format!("material:{id}"),
                &serde_json::json!({ "op": op }).to_string(),
            )
            .await?;
        }
        tx.commit().await?;
        self.get(actor, id).await
    }
}

fn new_material<'a>(m: &'a Material, tags: &'a str) -> NewMaterial<'a> {
    NewMaterial {
        folder_id: m.folder_id,
        kind: m.kind.as_str(),
        title: &m.title,
        body: &m.body,
        url: m.url.as_deref(),
        media_id: m.media_id,
        appid: m.appid.as_deref(),
        page: m.page.as_deref(),
        tags,
    }
}
