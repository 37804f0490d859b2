//! The WeCom connection settings row (secrets sealed by the app before they get here).

use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct WecomSettingsRow {
    pub corp_id: String,
    pub api_base: String,
    pub contact_secret: Option<String>,
    pub callback_token: Option<String>,
    pub encoding_aes_key: Option<String>,
    pub app_secrets: Option<String>,
    /// The public callback URL the setup checker probes (not a secret; `''` = not set).
    pub callback_public_url: String,
    pub updated_at: i64,
    pub updated_by: String,
}

const SELECT: &str = "SELECT corp_id, api_base, contact_secret, callback_token, \
     encoding_aes_key, app_secrets, callback_public_url, updated_at, updated_by \
     FROM wecom_settings WHERE id = 1";

pub async fn get(db: &Db) -> Result<Option<WecomSettingsRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, WecomSettingsRow>(SELECT)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// The settings row, locked until the caller's transaction ends: a change reads, edits and
/// writes the whole row, so two admins saving different fields at once must not lose one.
/// The row is created (empty) first if there is none, so the very first saves lock it too; a
/// transaction that ends without a change rolls that back.
pub async fn get_locked_in(tx: &mut Tx) -> Result<Option<WecomSettingsRow>> {
    let sql = format!("{SELECT}{}", tx.row_lock());
    in_tx!(tx, conn => {
        sqlx::query("INSERT INTO wecom_settings (id, updated_at) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
            .execute(&mut *conn)
            .await?;
        Ok(sqlx::query_as::<_, WecomSettingsRow>(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&mut *conn)
            .await?)
    })
}

pub async fn save_in(tx: &mut Tx, r: &WecomSettingsRow) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO wecom_settings (id, corp_id, api_base, contact_secret, callback_token, \
             encoding_aes_key, app_secrets, callback_public_url, updated_at, updated_by) \
             VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET corp_id = excluded.corp_id, api_base = excluded.api_base, \
             contact_secret = excluded.contact_secret, callback_token = excluded.callback_token, \
             encoding_aes_key = excluded.encoding_aes_key, app_secrets = excluded.app_secrets, \
             callback_public_url = excluded.callback_public_url, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(&r.corp_id)
        .bind(&r.api_base)
        .bind(&r.contact_secret)
        .bind(&r.callback_token)
        .bind(&r.encoding_aes_key)
        .bind(&r.app_secrets)
        .bind(&r.callback_public_url)
        .bind(r.updated_at)
        .bind(&r.updated_by)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}
