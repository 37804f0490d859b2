//! Product images for flash sales and group-buys: staff who manage promotions upload one
//! (checked by `yutang_core::media::parse_image`: PNG, JPEG or WebP from its bytes, within
//! `limits.max_image_bytes` and 4096 pixels a side), and Yutang serves it to the H5 pages
//! itself. The same bytes uploaded again answer the first upload's row (found by SHA-256), so
//! an upload is idempotent without a key. A new image is audited as a promotion change
//! (`media.upload`).

use sha2::{Digest as _, Sha256};
use yutang_core::FieldError;
use yutang_core::media::parse_image;
/// An image's facts as this area hands them out (a read model; defined by the store).
pub use yutang_store::media::MediaRow;
use yutang_store::media::{self as store, NewMedia};

use super::manage;
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// The image use cases.
#[derive(Clone, Copy)]
pub struct Media<'a>(&'a App);

impl std::ops::Deref for Media<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Media`].
    pub fn media(&self) -> Media<'_> {
        Media(self)
    }
}

/// Where the H5 pages (and anyone) load an image.
pub fn media_url(id: i64) -> String {
    format!("/h5/media/{id}")
}

impl Media<'_> {
    /// Check and store an image: its row, and whether it is new (`false`: these bytes were
    /// uploaded before, and that row answers).
    pub async fn upload_image(&self, actor: &Actor, bytes: &[u8]) -> Result<(MediaRow, bool)> {
        manage(actor)?;
        let info = parse_image(bytes, self.settings.limits.max_image_bytes)?;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let mut tx = self.db.begin().await?;
        let (row, created) = store::insert_or_get_in(
            &mut tx,
            &NewMedia {
                sha256: &sha256,
                content_type: info.format.content_type(),
                width: i64::from(info.width),
                height: i64::from(info.height),
                bytes,
                created_by: actor.staff_id().map(|s| s.0),
                created_at: self.now(),
            },
        )
        .await?;
        if created {
            self.promotions()
                .promo_audit(
                    &mut tx,
                    actor,
                    "media.upload",
                    format!("media:{}", row.id),
                    serde_json::json!({
                        "content_type": row.content_type,
                        "width": row.width,
                        "height": row.height,
                        "size_bytes": row.size_bytes,
                    }),
                )
                .await?;
        }
        tx.commit().await?;
        Ok((row, created))
    }

    /// An image's facts (for a page's `<img width height>`).
    pub async fn image(&self, id: i64) -> Result<MediaRow> {
        store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("image"))
    }

    /// An image's facts and bytes, to serve.
    pub async fn image_bytes(&self, id: i64) -> Result<(MediaRow, Vec<u8>)> {
        store::get_with_bytes(&self.db, id)
            .await
            .map_err(AppError::not_found("image"))
    }

    /// A spec's `image_id`, when it has one, names a stored image (else 422 `unknown_image`
    /// on `image_id`).
    pub(super) async fn check_image_id(&self, image_id: Option<i64>) -> Result<()> {
        let Some(id) = image_id else { return Ok(()) };
        match store::get(&self.db, id).await {
            Ok(_) => Ok(()),
            Err(yutang_store::StoreError::NotFound) => Err(FieldError::new(
                "image_id",
                "unknown_image",
                "no uploaded image with this id; upload it with POST /api/v1/media",
            )
            .into()),
            Err(e) => Err(e.into()),
        }
    }
}
