//! Bulk tagging from the console: tag or untag a saved segment or an uploaded (or pasted) list
//! of customer ids. The change runs as a durable job; its page shows progress and refreshes
//! itself until the job is done. Scope is the use case's: a guide may only name customers
//! they can see, and a list with anyone else is refused as a whole.

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::jobs::JobView;
use yutang_app::segments::SavedSegment;
use yutang_app::tags::{Audience, GroupWithTags};
use yutang_core::FieldError;

use super::import::{PageError, page_error};
use super::layout::{ConsoleQuery, check_csrf, csrf_failed, error_page};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

/// An id list of 100,000 ids with CRLFs is ~1.2 MB; 4 MiB leaves room for a CSV with a few
/// more columns.
const MAX_LIST_BYTES: usize = 4 * 1024 * 1024;

pub fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_LIST_BYTES + 64 * 1024)
}

#[derive(Template)]
#[template(path = "console/bulk_tags.html")]
struct BulkPage {
    ctx: Ctx,
    groups: Vec<GroupWithTags>,
    segments: Vec<SavedSegment>,
    form: BulkForm,
    error: Option<PageError>,
}

/// The form as typed, so an error shows it again unchanged.
#[derive(Debug, Clone, Default)]
struct BulkForm {
    csrf: String,
    tag_id: String,
    /// "add" or "remove".
    action: String,
    /// "segment" or "ids".
    audience: String,
    segment_id: String,
    ids: String,
    file: Vec<u8>,
}

impl BulkPage {
    fn selected_tag(&self, id: &i64) -> bool {
        self.form.tag_id == id.to_string()
    }

    fn selected_segment(&self, id: &i64) -> bool {
        self.form.segment_id == id.to_string()
    }
}

#[derive(Deserialize)]
pub struct BulkQuery {
    segment: Option<i64>,
    /// Customer ids ticked on the customer list (comma-separated), filled into the id list.
    ids: Option<String>,
}

async fn page(
    s: &AppState,
    mut c: Console,
    status: StatusCode,
    form: BulkForm,
    error: Option<PageError>,
) -> Response {
    c.ctx.active = "tags";
    let a = &c.session.actor;
    let groups = match s.app.tags().tag_catalogue(a).await {
        // Rule-kept groups cannot be changed by hand; leave them out of the choice.
        Ok(g) => g.into_iter().filter(|g| g.group.source != "rule").collect(),
        Err(e) => return error_page(c.ctx, e),
    };
    let segments = match s.app.segments().list_segments(a).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    render(
        status,
        &BulkPage {
            ctx: c.ctx,
            groups,
            segments,
            form,
            error,
        },
    )
}

pub async fn form(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<BulkQuery>,
) -> Response {
    let form = BulkForm {
        action: "add".into(),
        audience: if q.segment.is_some() {
            "segment"
        } else {
            "ids"
        }
        .into(),
        segment_id: q.segment.map(|i| i.to_string()).unwrap_or_default(),
        ids: q.ids.unwrap_or_default(),
        ..BulkForm::default()
    };
    page(&s, c, StatusCode::OK, form, None).await
}

async fn read_form(mut m: Multipart) -> Result<BulkForm, FieldError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            FieldError::new(
                "file",
                "file_too_large",
                format!("the list limit is {} MiB", MAX_LIST_BYTES / (1024 * 1024)),
            )
        } else {
            FieldError::new("file", "upload_failed", format!("the upload failed: {e}"))
        }
    };
    let mut f = BulkForm::default();
    while let Some(field) = m.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => f.file = field.bytes().await.map_err(unreadable)?.to_vec(),
            _ => {
                let v = field.text().await.map_err(unreadable)?;
                match name.as_str() {
                    "csrf" => f.csrf = v,
                    "tag_id" => f.tag_id = v,
                    "action" => f.action = v,
                    "audience" => f.audience = v,
                    "segment_id" => f.segment_id = v,
                    "ids" => f.ids = v,
                    _ => {}
                }
            }
        }
    }
    Ok(f)
}

/// The audience the form names, parsed; `Err` names the field to fix.
fn audience(f: &BulkForm) -> Result<Audience, FieldError> {
    match f.audience.as_str() {
        "segment" => f
            .segment_id
            .trim()
            .parse::<i64>()
            .map(Audience::Segment)
            .map_err(|_| FieldError::new("segment_id", "invalid_form", "choose a segment")),
        "ids" => {
            let file = String::from_utf8(f.file.clone()).map_err(|_| {
                FieldError::new("file", "invalid_ids", "the list must be UTF-8 text or CSV")
            })?;
            let mut ids = yutang_core::tags::parse_customer_ids("customer_ids", &f.ids)?;
            for id in yutang_core::tags::parse_customer_ids("customer_ids", &file)? {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            Ok(Audience::Ids(ids))
        }
        _ => Err(FieldError::new(
            "audience",
            "invalid_form",
            "choose a segment or a list of ids",
        )),
    }
}

pub async fn start(
    State(s): State<AppState>,
    c: Console,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    let tr = c.ctx.tr;
    let f = match m {
        Ok(m) => read_form(m).await,
        Err(e) => Err(FieldError::new(
            "file",
            "upload_failed",
            format!("send the form as multipart/form-data: {e}"),
        )),
    };
    let f = match f {
        Ok(f) => f,
        Err(e) => {
            let (status, err) = page_error(tr, AppError::Invalid(e));
            return page(&s, c, status, BulkForm::default(), Some(err)).await;
        }
    };
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    let r = async {
        let tag: i64 = f
            .tag_id
            .trim()
            .parse()
            .map_err(|_| FieldError::new("tag_id", "unknown_tag", "choose a tag"))?;
        let aud = audience(&f)?;
        let (add, remove) = if f.action == "remove" {
            (vec![], vec![tag])
        } else {
            (vec![tag], vec![])
        };
        s.app
            .tags()
            .bulk_tag(&c.session.actor, aud, &add, &remove, None)
            .await
    }
    .await;
    match r {
        Ok(id) => Redirect::to(&format!("/console/jobs/{id}")).into_response(),
        Err(e) => {
            let (status, err) = page_error(tr, e);
            // The uploaded file is not shown again; the pasted ids are.
            let form = BulkForm {
                file: Vec::new(),
                ..f
            };
            page(&s, c, status, form, Some(err)).await
        }
    }
}

#[derive(Template)]
#[template(path = "console/job.html")]
struct JobPage {
    ctx: Ctx,
    job: JobView,
}

impl JobPage {
    fn busy(&self) -> bool {
        matches!(self.job.status.as_str(), "queued" | "running")
    }

    fn percent(&self) -> i64 {
        if self.job.progress_total > 0 {
            (self.job.progress_done * 100 / self.job.progress_total).clamp(0, 100)
        } else if self.busy() {
            0
        } else {
            100
        }
    }

    fn kind_label(&self) -> String {
        let key = format!("jobs.kind_{}", self.job.kind);
        match super::i18n::lookup(&key) {
            Some(_) => self.ctx.tr.t(&key).to_owned(),
            None => self.job.kind.clone(),
        }
    }

    fn status_label(&self) -> &'static str {
        self.ctx.tr.t(&format!("jobs.status_{}", self.job.status))
    }

    /// A number from the job's JSON result, e.g. `added`.
    fn result_n(&self, key: &str) -> i64 {
        self.job
            .result
            .as_ref()
            .and_then(|r| r.get(key))
            .and_then(|v| v.as_i64())
            .unwrap_or(0)
    }
}

pub async fn job(State(s): State<AppState>, mut c: Console, IdPath(id): IdPath) -> Response {
    c.ctx.active = "tags";
    match s.app.job(&c.session.actor, id).await {
        Ok(job) => render(StatusCode::OK, &JobPage { ctx: c.ctx, job }),
        Err(e) => error_page(c.ctx, e),
    }
}
