//! `yutang db copy`: move a whole brand between SQLite and PostgreSQL (outgrowing SQLite
//! without a migration project, or taking a copy home to a laptop).
//!
//! Both databases are brought to the same schema version first (the source must already be
//! at this binary's version: it is not written to; the destination is migrated). Then every
//! table is copied with its ids, parents first, in resumable chunks
//! (`yutang_store::copy`), sequences continue where the source's stood, and each table is
//! verified by its row count and a SHA-256 over its rows read the same way on both engines.
//! Secrets sealed with the source's key (WeCom settings) are re-sealed with the
//! destination's key when the two differ, and checked to open there.

use yutang_store::copy;
use yutang_store::wecom::settings::WecomSettingsRow;
use yutang_store::{Db, DbUrl, StoreOptions};

use crate::error::{AppError, Result};
use crate::secret_box::{SecretBox, key_file_for, parse_key};
use crate::settings::Secret;

/// Where to copy from and to, and the keys sealing secrets on each side.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    pub from_url: String,
    pub to_url: String,
    /// The source's secret key; `None`: its SQLite key file, if it has one.
    pub from_secret_key: Option<Secret>,
    /// The destination's secret key; `None`: its SQLite key file (made if missing). A
    /// PostgreSQL destination with sealed secrets needs one.
    pub to_secret_key: Option<Secret>,
}

/// One table's outcome.
#[derive(Debug, Clone)]
pub struct TableReport {
    pub table: String,
    pub rows: u64,
    /// Rows inserted now (fewer than `rows` when a resumed copy found some there).
    pub inserted: u64,
    pub digest: String,
}

#[derive(Debug, Clone, Default)]
pub struct CopyReport {
    pub tables: Vec<TableReport>,
    /// Secrets re-sealed for the destination's key.
    pub resealed: usize,
}

/// The fields of `wecom_settings` sealed by [`SecretBox`] (their field names are the
/// associated data: `wecom.<column>`).
const SEALED: [&str; 4] = [
    "contact_secret",
    "callback_token",
    "encoding_aes_key",
    "app_secrets",
];

fn failed(message: impl Into<String>) -> AppError {
    AppError::Rule {
        code: "copy_failed",
        message: message.into(),
    }
}

async fn connect(url: &str) -> Result<Db> {
    let url = DbUrl::parse(url).map_err(AppError::Store)?;
    Ok(Db::connect(&url, &StoreOptions::default()).await?)
}

fn source_box(o: &CopyOptions) -> Result<Option<SecretBox>> {
    if let Some(k) = &o.from_secret_key {
        return Ok(Some(SecretBox::new(parse_key(k.expose())?)));
    }
    match key_file_for(&o.from_url) {
        Some(f) if f.exists() => {
            let s = std::fs::read_to_string(&f)
                .map_err(|e| AppError::Internal(format!("{}: {e}", f.display())))?;
            Ok(Some(SecretBox::new(parse_key(&s)?)))
        }
        _ => Ok(None),
    }
}

/// Copy the source database into the destination; `progress(table, rows read)` is called as
/// chunks land. Running it again after an interruption resumes.
pub async fn run(
    o: &CopyOptions,
    progress: &mut (dyn FnMut(&str, u64) + Send),
) -> Result<CopyReport> {
    let from = connect(&o.from_url).await?;
    let to = connect(&o.to_url).await?;
    let code = Db::migration_versions(from.engine());
    let have = from.applied_migrations().await?;
    if have != code {
        return Err(failed(format!(
            "the source has {} of this version's {} migrations; run `yutang migrate` on it first",
            have.len(),
            code.len()
        )));
    }
    to.migrate().await?;
    if to.applied_migrations().await? != have {
        return Err(failed(
            "the two databases are at different migration versions",
        ));
    }
    // Refuse before copying anything when the secrets could not be carried over.
    let boxes = secret_boxes(o, &from).await?;
    let plans = copy::plan(&from, &to).await?;
    let mut report = CopyReport::default();
    for p in &plans {
        let name = p.name.clone();
        let inserted = copy::copy_table(&from, &to, p, &mut |n| progress(&name, n)).await?;
        copy::finish_table(&from, &to, p).await?;
        let (src, dst) = (copy::digest(&from, p).await?, copy::digest(&to, p).await?);
        // Sealed secrets are re-sealed for the destination's key below (and each checked to
        // open there), so on a resumed copy their bytes differ by design: count only.
        let resealed_table = matches!(
            p.name.as_str(),
            "wecom_settings" | "webhook_subscriptions" | "inbound_sources"
        ) && boxes.is_some();
        if src != dst && !(resealed_table && src.0 == dst.0) {
            return Err(failed(format!(
                "table {} differs after the copy: {} rows ({}) vs {} rows ({}); was the \
                 destination empty, and the source not written to meanwhile?",
                p.name, src.0, src.1, dst.0, dst.1
            )));
        }
        report.tables.push(TableReport {
            table: p.name.clone(),
            rows: src.0,
            inserted,
            digest: src.1,
        });
    }
    // The source's followers handled the copied events already (the webhook deliveries came
    // along); the rollups are recomputed from the copied rows.
    yutang_store::feed::reset_feed_to_end(&to, yutang_store::feed::Feed::Webhooks).await?;
    yutang_store::feed::reset_feed_to_end(&to, yutang_store::feed::Feed::Rollups).await?;
    yutang_store::feed::reset_feed_to_end(&to, yutang_store::feed::Feed::Journeys).await?;
    yutang_store::rollups::request_rebuild(&to).await?;
    if let Some((source, dest)) = &boxes {
        report.resealed = reseal(source, dest, &to).await?
            + reseal_webhooks(source, dest, &to).await?
            + reseal_inbound(source, dest, &to).await?;
    }
    Ok(report)
}

fn sealed_values(row: &WecomSettingsRow) -> Vec<(&'static str, String)> {
    SEALED
        .iter()
        .zip([
            &row.contact_secret,
            &row.callback_token,
            &row.encoding_aes_key,
            &row.app_secrets,
        ])
        .filter_map(|(f, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (*f, v)))
        .collect()
}

/// When the source holds sealed secrets: the boxes of both sides (the source's key must
/// open them, and the destination must have a key).
async fn secret_boxes(o: &CopyOptions, from: &Db) -> Result<Option<(SecretBox, SecretBox)>> {
    let mut first: Option<(String, String)> = None;
    if let Some(row) = yutang_store::wecom::settings::get(from).await? {
        first = sealed_values(&row)
            .into_iter()
            .next()
            .map(|(f, v)| (format!("wecom.{f}"), v));
    }
    if first.is_none() {
        first = yutang_store::webhooks::sealed_secrets(from)
            .await?
            .into_iter()
            .next()
            .map(|(_, v)| (crate::webhooks::SEALED_FIELD.to_owned(), v));
    }
    if first.is_none() {
        first = yutang_store::inbound::sealed_secrets(from)
            .await?
            .into_iter()
            .next()
            .map(|(_, v)| (crate::inbound::SEALED_FIELD.to_owned(), v));
    }
    let Some((aad, value)) = first else {
        return Ok(None);
    };
    let source = source_box(o)?.ok_or_else(|| {
        failed("the source holds sealed secrets: give its secret key (--from-secret-key-file)")
    })?;
    source.open(&aad, &value)?;
    let dest_settings = crate::Settings {
        database_url: o.to_url.clone(),
        secret_key: o.to_secret_key.clone(),
        ..crate::Settings::default()
    };
    Ok(Some((source, SecretBox::resolve(&dest_settings)?)))
}

/// Re-seal the destination's WeCom secrets with its own key where the source's sealed
/// them. Each value is opened with the source's key, sealed with the destination's, and
/// opened again there before it is written.
async fn reseal(source: &SecretBox, dest: &SecretBox, to: &Db) -> Result<usize> {
    let Some(mut row) = yutang_store::wecom::settings::get(to).await? else {
        return Ok(0);
    };
    let sealed = sealed_values(&row);
    let mut n = 0;
    for (field, value) in sealed {
        let aad = format!("wecom.{field}");
        // Already readable with the destination's key (same key, or a resumed copy).
        if dest.open(&aad, &value).is_ok() {
            continue;
        }
        let plain = source.open(&aad, &value)?;
        let again = dest.seal(&aad, &plain)?;
        if dest.open(&aad, &again)? != plain {
            return Err(failed(format!("re-sealing {field} did not read back")));
        }
        match field {
            "contact_secret" => row.contact_secret = Some(again),
            "callback_token" => row.callback_token = Some(again),
            "encoding_aes_key" => row.encoding_aes_key = Some(again),
            _ => row.app_secrets = Some(again),
        }
        n += 1;
    }
    if n > 0 {
        let mut tx = to.begin().await?;
        yutang_store::wecom::settings::save_in(&mut tx, &row).await?;
        tx.commit().await?;
    }
    Ok(n)
}

/// Re-seal the destination's webhook signing secrets with its own key, as [`reseal`] does
/// for WeCom's.
async fn reseal_webhooks(source: &SecretBox, dest: &SecretBox, to: &Db) -> Result<usize> {
    let rows = yutang_store::webhooks::sealed_secrets(to).await?;
    let mut n = 0;
    for (id, again) in reseal_rows(source, dest, crate::webhooks::SEALED_FIELD, "webhook", rows)? {
        yutang_store::webhooks::put_sealed_secret(to, id, &again).await?;
        n += 1;
    }
    Ok(n)
}

/// Re-seal the destination's inbound source secrets, likewise.
async fn reseal_inbound(source: &SecretBox, dest: &SecretBox, to: &Db) -> Result<usize> {
    let rows = yutang_store::inbound::sealed_secrets(to).await?;
    let mut n = 0;
    for (id, again) in reseal_rows(
        source,
        dest,
        crate::inbound::SEALED_FIELD,
        "inbound source",
        rows,
    )? {
        yutang_store::inbound::put_sealed_secret(to, id, &again).await?;
        n += 1;
    }
    Ok(n)
}

/// The rows whose sealed value the destination's key does not open yet, each opened with the
/// source's key, sealed with the destination's and checked to open there.
fn reseal_rows(
    source: &SecretBox,
    dest: &SecretBox,
    aad: &str,
    what: &str,
    rows: Vec<(i64, String)>,
) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for (id, value) in rows {
        if dest.open(aad, &value).is_ok() {
            continue;
        }
        let plain = source.open(aad, &value)?;
        let again = dest.seal(aad, &plain)?;
        if dest.open(aad, &again)? != plain {
            return Err(failed(format!(
                "re-sealing {what} {id}'s secret did not read back"
            )));
        }
        out.push((id, again));
    }
    Ok(out)
}
