//! `/api/v1/customers/{id}/notes`: customer notes (跟进记录, issue #23 item 2). Anyone who
//! sees the customer reads them, newest first; every role but the read-only analyst writes
//! them, within the data scope (a customer outside it is 404). See docs/customers.md.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yutang_app::customers::{NotePage, NoteView};
use yutang_core::ids::CustomerId;
use yutang_core::time::Millis;

use crate::api::idempotency::{self, IdempotencyKey};
use crate::api::promotions::created;
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

/// The page size when `limit` is absent.
const DEFAULT_LIMIT: i64 = 20;

/// A note to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CustomerNoteIn)]
pub struct NoteIn {
    /// 1–500 characters after trimming; line breaks allowed, no other control character.
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CustomerNoteOut)]
pub struct NoteOut {
    pub id: i64,
    /// The customer it is about (the survivor, after a merge).
    pub customer_id: i64,
    /// The staff member who wrote it; null when an integration's API token did.
    pub staff_id: Option<i64>,
    /// The author's display name (the token's name for a token).
    pub staff_name: String,
    pub body: String,
    pub created_at: String,
}

impl From<NoteView> for NoteOut {
    fn from(v: NoteView) -> Self {
        Self {
            id: v.id,
            customer_id: v.customer_id,
            staff_id: v.staff_id,
            staff_name: v.staff_name,
            body: v.body,
            created_at: Millis(v.created_at).to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CustomerNotePageOut)]
pub struct NotePageOut {
    /// Newest first.
    pub items: Vec<NoteOut>,
    /// Pass back as `before` for the next page; null on the last page.
    pub next_before: Option<i64>,
}

impl From<NotePage> for NotePageOut {
    fn from(p: NotePage) -> Self {
        Self {
            items: p.items.into_iter().map(NoteOut::from).collect(),
            next_before: p.next_before,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotesParams {
    /// 1–100, default 20.
    pub limit: Option<i64>,
    /// The `next_before` of the previous page (a note id of this customer's).
    pub before: Option<i64>,
}

/// The customer's notes, newest first (anyone who sees the customer; 404 outside the scope).
#[utoipa::path(get, path = "/api/v1/customers/{id}/notes", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "customer id (a merged-away id answers for its survivor)"), NotesParams),
    responses((status = 200, body = NotePageOut), (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_page_size (limit), invalid_cursor (before), invalid_query", body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<NotesParams>,
) -> WebResult<Json<NotePageOut>> {
    let page = s
        .app
        .customers()
        .notes_page(
            &a,
            CustomerId(id),
            p.limit.unwrap_or(DEFAULT_LIMIT),
            p.before,
        )
        .await?;
    Ok(Json(page.into()))
}

/// Write a note about the customer (every role but analysts; 404 outside the scope). 201
/// with the note; with an `Idempotency-Key`, a retry of the same request answers the first
/// note with 200 and writes nothing. A refused text is 422 naming `body`: `required` (empty
/// or blank), `text_too_long` (over 500 characters), `invalid_note_text` (a control character
/// other than a line break, such as a tab) or `invalid_characters` (NUL and the like).
#[utoipa::path(post, path = "/api/v1/customers/{id}/notes", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path, description = "customer id"), IdempotencyKey), request_body = NoteIn,
    responses((status = 201, body = NoteOut), (status = 200, body = NoteOut, description = "replay of an Idempotency-Key"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = idempotency::CONFLICT),
        (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    key: IdempotencyKey,
    ApiJson(b): ApiJson<NoteIn>,
) -> WebResult<(StatusCode, Json<NoteOut>)> {
    let (note, replayed) = s
        .app
        .customers()
        .add_note_keyed(&a, CustomerId(id), &b.body, key.as_deref())
        .await?;
    Ok((created(replayed), Json(note.into())))
}
