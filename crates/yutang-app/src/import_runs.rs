//! Import runs started from the console: upload a file (kept in the database until the run
//! is done), choose the column mapping, dry-run it (every bad row listed, nothing written),
//! then run it for real. Dry runs and runs work in the background with their progress in the
//! database, so the page can poll it from any node; a heartbeat tells a live run from one
//! whose process died (which can simply be started again: imports are idempotent).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::access::Principal;
use yutang_core::staff::Permission;
use yutang_store::imports::{self as store, ImportRunRow, NewImportRun};

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::import::Imports;
use crate::import::{ImportKind, ImportOptions, ImportReport, Sheet, read_sheet_bytes};
use crate::{Actor, App};

/// The largest file the upload page accepts. Larger imports use `yutang import` on the server.
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;
/// A busy run whose heartbeat is older than this is considered interrupted.
const STALE_MS: i64 = 30_000;
/// How often a busy run writes its progress (and heartbeat).
const HEARTBEAT: Duration = Duration::from_millis(500);
/// How many recent runs the upload page lists.
const RECENT: i64 = 20;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Uploaded; the mapping can be chosen.
    Uploaded,
    /// A dry run is in progress.
    Checking,
    /// A dry run finished; its report is shown and the real run can start.
    Checked,
    /// The real run is in progress.
    Running,
    /// A dry run or run whose process stopped (restart, crash): start it again.
    Interrupted,
    /// The real run finished; the report is final and the file was dropped.
    Done,
    /// The dry run or run stopped on an error that is not about one row (e.g. the database).
    Failed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Uploaded => "uploaded",
            RunState::Checking => "checking",
            RunState::Checked => "checked",
            RunState::Running => "running",
            RunState::Interrupted => "interrupted",
            RunState::Done => "done",
            RunState::Failed => "failed",
        }
    }

    pub fn busy(self) -> bool {
        matches!(self, RunState::Checking | RunState::Running)
    }
}

/// A run as the console shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ImportRun {
    pub id: i64,
    pub kind: ImportKind,
    pub file_name: String,
    pub file_bytes: i64,
    pub headers: Vec<String>,
    /// `(header, field)` per header, `""` = ignored.
    pub mapping: Vec<(String, String)>,
    pub state: RunState,
    pub rows_total: i64,
    pub progress_done: i64,
    pub progress_total: i64,
    pub report: Option<ImportReport>,
    pub error: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ImportRun {
    fn from_row(r: ImportRunRow, now: i64) -> Result<Self> {
        let bad = |what: &str| AppError::Internal(format!("import run {}: bad {what}", r.id));
        let kind = ImportKind::parse("kind", &r.kind).map_err(|_| bad("kind"))?;
        let headers: Vec<String> = serde_json::from_str(&r.headers).map_err(|_| bad("headers"))?;
        let mapping: Vec<(String, String)> =
            serde_json::from_str(&r.mapping).map_err(|_| bad("mapping"))?;
        let report: Option<ImportReport> = match &r.report {
            Some(t) => Some(serde_json::from_str(t).map_err(|_| bad("report"))?),
            None => None,
        };
        let stale = r.heartbeat_at.is_none_or(|h| h < now - STALE_MS);
        let state = match r.state.as_str() {
            "uploaded" => RunState::Uploaded,
            "checking" | "running" if stale => RunState::Interrupted,
            "checking" => RunState::Checking,
            "running" => RunState::Running,
            "checked" => RunState::Checked,
            "done" => RunState::Done,
            "failed" => RunState::Failed,
            _ => return Err(bad("state")),
        };
        Ok(Self {
            id: r.id,
            kind,
            file_name: r.file_name,
            file_bytes: r.file_bytes,
            headers,
            mapping,
            state,
            rows_total: r.rows_total,
            progress_done: r.progress_done,
            progress_total: r.progress_total,
            report,
            error: r.error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }

    /// The field a header is mapped to (`""`: ignored).
    pub fn field_of(&self, header: &str) -> &str {
        self.mapping
            .iter()
            .find(|(from, _)| from == header)
            .map(|(_, f)| f.as_str())
            .unwrap_or_default()
    }

    /// Progress in percent (0–100) of the current dry run or run.
    pub fn percent(&self) -> i64 {
        if self.progress_total <= 0 {
            return if self.state.busy() { 0 } else { 100 };
        }
        (self.progress_done * 100 / self.progress_total).clamp(0, 100)
    }
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(format!("json: {e}")))
}

impl Imports<'_> {
    fn check_import_permission(actor: &Actor) -> Result<()> {
        if actor.can(Permission::ManageCustomers) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The CSV template of a kind for whoever may import ([`ImportKind::template_csv`]).
    pub fn import_template(&self, actor: &Actor, kind: ImportKind) -> Result<String> {
        Self::check_import_permission(actor)?;
        Ok(kind.template_csv())
    }

    /// Store an uploaded file after checking that it is readable and has a header row. The
    /// mapping starts as the automatic one.
    pub async fn upload_import(
        &self,
        actor: &Actor,
        kind: ImportKind,
        file_name: &str,
        content: &[u8],
    ) -> Result<ImportRun> {
        Self::check_import_permission(actor)?;
        let file_name = file_name.trim();
        if file_name.is_empty() || content.is_empty() {
            return Err(FieldError::new("file", "file_required", "choose a file to upload").into());
        }
        if content.len() > MAX_UPLOAD_BYTES {
            return Err(FieldError::new(
                "file",
                "file_too_large",
                format!(
                    "the file has {} bytes; the upload limit is {} MiB (use `yutang import` for larger files)",
                    content.len(),
                    MAX_UPLOAD_BYTES / (1024 * 1024)
                ),
            )
            .into());
        }
        let name: String = file_name.chars().take(200).collect();
        let sheet = read_sheet_bytes(&name, content)?;
        if sheet.headers.iter().all(|h| h.is_empty()) {
            return Err(FieldError::new(
                "file",
                "no_header",
                "the first row must name the columns",
            )
            .into());
        }
        let mapping = kind.suggest(&sheet.headers);
        let now = self.now();
        let id = store::create(
            &self.db,
            &NewImportRun {
                kind: kind.as_str(),
                file_name: &name,
                content,
                headers: &json(&sheet.headers)?,
                mapping: &json(&mapping)?,
                rows_total: sheet.rows.len() as i64,
                created_by: match actor.caller.principal {
                    Principal::Staff(s) => Some(s.0),
                    _ => None,
                },
                now,
            },
        )
        .await?;
        self.import_run(actor, id).await
    }

    pub async fn import_run(&self, actor: &Actor, id: i64) -> Result<ImportRun> {
        Self::check_import_permission(actor)?;
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("import run"))?;
        ImportRun::from_row(row, self.now())
    }

    pub async fn list_import_runs(&self, actor: &Actor) -> Result<Vec<ImportRun>> {
        Self::check_import_permission(actor)?;
        let now = self.now();
        store::list(&self.db, RECENT)
            .await?
            .into_iter()
            .map(|r| ImportRun::from_row(r, now))
            .collect()
    }

    /// Start a dry run (`dry_run`) or the real run of an uploaded file with this mapping, in
    /// the background. Refused while another dry run or run of it is in progress, and after
    /// the real run has finished. The mapping is checked first (unknown field, two columns on
    /// one field), so a bad mapping is an immediate error rather than a failed run.
    pub async fn start_import(
        &self,
        actor: &Actor,
        id: i64,
        mapping: Vec<(String, String)>,
        dry_run: bool,
    ) -> Result<ImportRun> {
        let run = self.import_run(actor, id).await?;
        let content = store::content(&self.db, id).await?.ok_or(AppError::Rule {
            code: "import_finished",
            message: "this import has finished; upload the file again to re-run it".into(),
        })?;
        let sheet = read_sheet_bytes(&run.file_name, &content)?;
        drop(content);
        let opts = ImportOptions { dry_run, mapping };
        crate::import::check_mapping(run.kind, &sheet.headers, &opts.mapping)?;
        let now = self.now();
        let state = if dry_run { "checking" } else { "running" };
        // The claim of a real run and its audit entry commit together.
        let mut tx = self.db.begin().await?;
        if !store::claim_in(
            &mut tx,
            id,
            state,
            &json(&opts.mapping)?,
            now,
            now - STALE_MS,
        )
        .await?
        {
            return Err(AppError::Rule {
                code: "import_busy",
                message: "this import is already being checked or run".into(),
            });
        }
        if !dry_run {
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::ImportStarted,
                &format!("import:{id}"),
                &serde_json::json!({
                    "kind": run.kind.as_str(), "file": run.file_name, "rows": sheet.rows.len(),
                })
                .to_string(),
            )
            .await?;
        }
        tx.commit().await?;
        let app = App::clone(self);
        let by = actor.clone();
        let kind = run.kind;
        tokio::spawn(async move {
            app.imports()
                .execute_import(by, id, kind, sheet, opts)
                .await;
        });
        self.import_run(actor, id).await
    }

    /// Mark a dry run `checked` or a run `done` with its report. A run's audit entry is
    /// written in the same transaction, so whoever sees "done" also finds it in the audit log
    /// (and a run whose entry cannot be written does not show as done).
    async fn finish_import(
        &self,
        actor: &Actor,
        id: i64,
        dry_run: bool,
        report: &ImportReport,
    ) -> Result<()> {
        let state = if dry_run { "checked" } else { "done" };
        let text = json(report)?;
        let mut tx = self.db.begin().await?;
        store::finish_in(&mut tx, id, state, Some(&text), "", self.now()).await?;
        if !dry_run {
            let s = report.summary();
            let detail = serde_json::json!({
                "rows": report.rows, "inserted": s.inserted, "updated": s.updated,
                "skipped": s.skipped, "failed": s.failed,
            })
            .to_string();
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::ImportFinished,
                &format!("import:{id}"),
                &detail,
            )
            .await?;
        }
        tx.commit().await?;
        if !dry_run && report.rows > 0 {
            // A bulk load changes the tables' shape; plan the next queries from fresh stats.
            self.db.analyze().await?;
        }
        Ok(())
    }

    /// The background half of [`Imports::start_import`]: run, write progress every half second,
    /// store the report (or the error) at the end.
    async fn execute_import(
        &self,
        actor: Actor,
        id: i64,
        kind: ImportKind,
        sheet: Sheet,
        opts: ImportOptions,
    ) {
        let done = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let (d, t) = (done.clone(), total.clone());
        let progress = move |_stage: &str, n: u64, of: u64| {
            d.store(n, Ordering::Relaxed);
            t.store(of, Ordering::Relaxed);
        };
        // Progress is written by a task of its own: the import may hold a write transaction
        // (SQLite allows one writer), and the writer must not wait for it in the same task.
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let app = App::clone(self);
        let ticker = tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {
                        let n = done.load(Ordering::Relaxed) as i64;
                        let of = total.load(Ordering::Relaxed) as i64;
                        if let Err(e) = store::progress(&app.db, id, n, of, app.now()).await {
                            tracing::warn!(import = id, error = %e, "import progress not saved");
                        }
                    }
                }
            }
        });
        let result = self
            .import_sheet(&actor, kind, &sheet, &opts, &progress)
            .await;
        let _ = stop.send(());
        if let Err(e) = ticker.await {
            tracing::warn!(import = id, error = %e, "import progress task");
        }
        let finished = match result {
            Ok(report) => self.finish_import(&actor, id, opts.dry_run, &report).await,
            Err(e) => {
                tracing::warn!(import = id, error = %e, "import failed");
                let message = match &e {
                    AppError::Invalid(f) => f.message.clone(),
                    AppError::Rule { message, .. } => message.clone(),
                    AppError::Store(_) | AppError::Internal(_) => {
                        "the import stopped on a server error (see the server log); start it again"
                            .into()
                    }
                    other => other.to_string(),
                };
                store::finish(&self.db, id, "failed", None, &message, self.now())
                    .await
                    .map_err(AppError::from)
            }
        };
        if let Err(e) = finished {
            tracing::error!(import = id, error = %e, "import result not saved");
        }
    }
}
