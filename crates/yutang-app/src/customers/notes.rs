//! Customer notes (跟进记录, issue #23 item 2): what staff wrote down about a customer,
//! newest first. Anyone who sees the customer reads them; writing one needs what tagging the
//! customer needs (every role but the read-only analyst), always within the data scope. A
//! note, its `note_added` timeline event and its audit entry commit together; a client's
//! `Idempotency-Key` makes a retry answer the first note.

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::customers::NoteBody;
use yutang_core::events::EventKind;
use yutang_core::ids::CustomerId;
use yutang_core::staff::Permission;
use yutang_store::customers::notes::{self as store, NewNote, NoteRow};
use yutang_store::events as event_store;

use super::Customers;
use crate::Actor;
use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::idempotency::{check_replay, fingerprint, in_progress};

/// The most notes one page holds.
pub const MAX_NOTES_PAGE: i64 = 100;

/// A note as its readers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteView {
    pub id: i64,
    pub customer_id: i64,
    /// The staff member who wrote it; `None` when an integration's API token did.
    pub staff_id: Option<i64>,
    /// The author's display name (an API token's name when a token wrote it).
    pub staff_name: String,
    pub body: String,
    /// UTC epoch milliseconds.
    pub created_at: i64,
}

impl From<NoteRow> for NoteView {
    fn from(r: NoteRow) -> Self {
        Self {
            id: r.id,
            customer_id: r.customer_id,
            staff_id: r.staff_id,
            staff_name: r.staff_name,
            body: r.body,
            created_at: r.created_at,
        }
    }
}

/// A page of notes, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct NotePage {
    pub items: Vec<NoteView>,
    /// The `before` of the next page; `None` on the last page.
    pub next_before: Option<i64>,
}

impl Customers<'_> {
    /// Write a note about a customer the caller sees (not analysts). See
    /// [`Self::add_note_keyed`] for a write a client may retry.
    pub async fn add_note(&self, actor: &Actor, id: CustomerId, body: &str) -> Result<NoteView> {
        Ok(self.add_note_keyed(actor, id, body, None).await?.0)
    }

    /// [`Self::add_note`] under a client's idempotency key: the same key with the same
    /// customer and text answers the first note (`true`: a replay, nothing written); with
    /// another request it is 422 `idempotency_key_reused`. The customer must be visible
    /// (else 404), the caller may tag customers (else 403), and the text must parse
    /// ([`NoteBody`], else 422 naming `body`) — checked in this order.
    pub async fn add_note_keyed(
        &self,
        actor: &Actor,
        id: CustomerId,
        body: &str,
        idempotency_key: Option<&str>,
    ) -> Result<(NoteView, bool)> {
        let live = self.visible_customer(actor, id).await?;
        if !actor.can(Permission::TagCustomers) {
            return Err(AppError::Forbidden);
        }
        let body = NoteBody::parse(body)?;
        let key = match idempotency_key {
            Some(k) => Some(format!(
                "note:{}:{}:{}",
                actor.kind(),
                actor.actor_id().unwrap_or(0),
                crate::idempotency::parse_idempotency_key(k)?
            )),
            None => None,
        };
        // The customer as the client named it: a merge later does not turn a retry into
        // another request.
        let fp = if key.is_some() {
            fingerprint(&["customer_note", &id.0.to_string(), body.as_str()])
        } else {
            String::new()
        };
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if let Some(k) = &key
            && let Some(prior) = store::by_key_in(&mut tx, k).await?
        {
            check_replay(&prior.fingerprint, &fp)?;
            return Ok((prior.into(), true));
        }
        let staff = actor.staff_id().map(|s| s.0);
        let inserted = store::insert_in(
            &mut tx,
            &NewNote {
                customer_id: live.0,
                staff_id: staff,
                author: &actor.name,
                body: body.as_str(),
                source_key: key.as_deref(),
                fingerprint: &fp,
            },
            now,
        )
        .await?;
        let Some(note) = inserted else {
            // A concurrent request with the same key wrote it first.
            let prior = match &key {
                Some(k) => store::by_key_in(&mut tx, k).await?,
                None => None,
            }
            .ok_or_else(in_progress)?;
            check_replay(&prior.fingerprint, &fp)?;
            return Ok((prior.into(), true));
        };
        let detail = serde_json::json!({"note_id": note}).to_string();
        event_store::append_in(
            &mut tx,
            live.0,
            EventKind::NoteAdded.as_str(),
            now,
            staff,
            &detail,
            now,
        )
        .await?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::CustomerNoteAdded,
            &format!("customer:{}", live.0),
            &detail,
        )
        .await?;
        let row = store::get_in(&mut tx, note)
            .await?
            .ok_or(AppError::NotFound { what: "note" })?;
        tx.commit().await?;
        Ok((row.into(), false))
    }

    /// The notes on a customer the caller sees, newest first: at most `limit` (1–100), after
    /// the note `before` when given (the last id of the previous page).
    pub async fn notes(
        &self,
        actor: &Actor,
        id: CustomerId,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<NoteView>> {
        Ok(self.notes_page(actor, id, limit, before).await?.items)
    }

    /// [`Self::notes`] with the position of the next page.
    pub async fn notes_page(
        &self,
        actor: &Actor,
        id: CustomerId,
        limit: i64,
        before: Option<i64>,
    ) -> Result<NotePage> {
        let live = self.visible_customer(actor, id).await?;
        if !(1..=MAX_NOTES_PAGE).contains(&limit) {
            return Err(FieldError::new(
                "limit",
                "invalid_page_size",
                format!("limit must be between 1 and {MAX_NOTES_PAGE}"),
            )
            .into());
        }
        let mut rows = store::list(&self.db, live.0, before, limit + 1)
            .await?
            .ok_or_else(|| {
                FieldError::new(
                    "before",
                    "invalid_cursor",
                    "before must be the id of one of this customer's notes",
                )
            })?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_before = rows.last().filter(|_| more).map(|r| r.id);
        Ok(NotePage {
            items: rows.into_iter().map(NoteView::from).collect(),
            next_before,
        })
    }
}
