//! `POST /api/v1/events`: batches of typed events from integrations, idempotent by the
//! client's event id, with a per-event outcome. Valid events are stored even when others in
//! the same batch are refused; the valid ones go in one transaction.

/// The row this area hands to its callers (a read model; defined by the store).
pub use yutang_store::events::EventRow;

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::events::{ClientEventId, EventKind, check_batch_size};
use yutang_core::ids::StaffId;
use yutang_core::staff::Permission;
use yutang_store::events::{self as store, NewEvent};

use crate::customers::CustomerRef;
use crate::error::{AppError, Result};
use crate::{Actor, App};

/// One event, parsed at the edge.
#[derive(Debug, Clone)]
pub struct EventInput {
    pub client_id: ClientEventId,
    pub kind: EventKind,
    pub customer: CustomerRef,
    pub occurred_at: Option<i64>,
    pub staff_id: Option<StaffId>,
    /// JSON text (an object), at most [`yutang_core::events::MAX_DETAIL_BYTES`].
    pub detail: String,
}

/// What happened to one event of a batch.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum EventOutcome {
    /// Stored now.
    Accepted { customer_id: i64 },
    /// Its client id was stored before: nothing changed.
    Duplicate,
    /// Refused; nothing of it was stored.
    Rejected {
        code: String,
        message: String,
        field: Option<String>,
    },
}

impl EventOutcome {
    pub fn rejected(e: &FieldError) -> Self {
        EventOutcome::Rejected {
            code: e.code.to_owned(),
            message: e.message.clone(),
            field: Some(e.field.to_owned()),
        }
    }
}

/// A batch as the edge parsed it: each element either a parsed event or why it did not parse
/// (with the client id when one could be read, for duplicate detection).
pub type RawBatch = Vec<(Option<String>, Result<EventInput, FieldError>)>;

/// The event use cases: ingesting batches of typed events from integrations, idempotent by
/// the client's event id, into customers' timelines.
#[derive(Clone, Copy)]
pub struct Events<'a>(&'a App);

impl std::ops::Deref for Events<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    /// The use cases of [`Events`].
    pub fn events(&self) -> Events<'_> {
        Events(self)
    }
}

impl Events<'_> {
    pub async fn ingest_events(&self, actor: &Actor, batch: RawBatch) -> Result<Vec<EventOutcome>> {
        if !actor.can(Permission::ManageCustomers) {
            return Err(AppError::Forbidden);
        }
        check_batch_size(batch.len())?;
        let now = self.now();
        let mut outcomes: Vec<Option<EventOutcome>> = vec![None; batch.len()];
        // Duplicate client ids within the batch: the first occurrence is processed, later
        // ones are refused.
        let mut seen: HashSet<String> = HashSet::new();
        // Customer ids resolve in one query per batch (one round trip, not one per event).
        let ids: Vec<i64> = batch
            .iter()
            .filter_map(|(_, p)| match p {
                Ok(EventInput {
                    customer: CustomerRef::Id(id),
                    ..
                }) => Some(id.0),
                _ => None,
            })
            .collect();
        let live = yutang_store::customers::resolve_many(&self.db, &ids).await?;
        let mut resolved: HashMap<String, Option<i64>> = HashMap::new();
        let mut pending: Vec<(usize, EventInput, i64)> = Vec::new();
        for (i, (cid, parsed)) in batch.into_iter().enumerate() {
            if let Some(c) = &cid
                && !seen.insert(c.clone())
            {
                outcomes[i] = Some(EventOutcome::rejected(&FieldError::new(
                    "id",
                    "duplicate_in_batch",
                    format!("event id {c:?} appears more than once in this batch"),
                )));
                continue;
            }
            let ev = match parsed {
                Ok(ev) => ev,
                Err(e) => {
                    outcomes[i] = Some(EventOutcome::rejected(&e));
                    continue;
                }
            };
            let key = format!("{:?}", ev.customer);
            let customer = match (&ev.customer, resolved.get(&key)) {
                (CustomerRef::Id(id), _) => live.get(&id.0).copied(),
                (_, Some(c)) => *c,
                (_, None) => {
                    let c = self
                        .customers()
                        .resolve_customer_ref(&ev.customer)
                        .await?
                        .map(|c| c.0);
                    resolved.insert(key, c);
                    c
                }
            };
            match customer {
                Some(c) => pending.push((i, ev, c)),
                None => {
                    outcomes[i] = Some(EventOutcome::rejected(&FieldError::new(
                        "customer",
                        "unknown_customer",
                        "no customer with this id or identity",
                    )));
                }
            }
        }
        let rows: Vec<NewEvent<'_>> = pending
            .iter()
            .map(|(_, ev, c)| NewEvent {
                customer_id: *c,
                kind: ev.kind.as_str(),
                client_id: ev.client_id.as_str(),
                occurred_at: ev.occurred_at.unwrap_or(now),
                staff_id: ev.staff_id.map(|s| s.0),
                detail: &ev.detail,
            })
            .collect();
        let fps: Vec<String> = pending
            .iter()
            .map(|(_, ev, _)| event_fingerprint(ev))
            .collect();
        let fp_refs: Vec<&str> = fps.iter().map(String::as_str).collect();
        let inserted = store::insert_batch_fingerprinted(&self.db, &rows, &fp_refs, now).await?;
        // A replayed id: the same body is a duplicate; another body is refused (the stored
        // event stays as it was).
        let replayed: Vec<&str> = pending
            .iter()
            .zip(&inserted)
            .filter(|(_, fresh)| !**fresh)
            .map(|((_, ev, _), _)| ev.client_id.as_str())
            .collect();
        let stored = if replayed.is_empty() {
            HashMap::new()
        } else {
            store::stored_fingerprints(&self.db, &replayed).await?
        };
        for (((i, ev, c), fresh), fp) in pending.iter().zip(inserted).zip(&fps) {
            outcomes[*i] = Some(if fresh {
                EventOutcome::Accepted { customer_id: *c }
            } else {
                match stored.get(ev.client_id.as_str()) {
                    Some(old) if !old.is_empty() && old != fp => {
                        EventOutcome::rejected(&FieldError::new(
                            "id",
                            "event_id_reused",
                            format!(
                                "event id {:?} was already used for a different event",
                                ev.client_id.as_str()
                            ),
                        ))
                    }
                    _ => EventOutcome::Duplicate,
                }
            });
        }
        Ok(outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or(EventOutcome::Rejected {
                    code: "internal".into(),
                    message: "not processed".into(),
                    field: None,
                })
            })
            .collect())
    }
}

/// The fingerprint of an event as the client sent it (the time as given, not as defaulted;
/// the detail with its keys sorted), for telling a replay from a reused id.
fn event_fingerprint(ev: &EventInput) -> String {
    let occurred = ev.occurred_at.map(|t| t.to_string()).unwrap_or_default();
    let staff = ev.staff_id.map(|s| s.0.to_string()).unwrap_or_default();
    let detail = serde_json::from_str::<serde_json::Value>(&ev.detail)
        .map(|v| canonical_json(&v))
        .unwrap_or_else(|_| ev.detail.clone());
    crate::idempotency::fingerprint(&[
        "event",
        ev.kind.as_str(),
        &crate::orders::customer_key(&ev.customer),
        &occurred,
        &staff,
        &detail,
    ])
}

/// JSON text with object keys sorted at every level.
pub(crate) fn canonical_json(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&m[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical_json).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_json;

    #[test]
    fn canonical_json_ignores_key_order_only() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"q":2,"p":1}],"x":"s"}}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a":{"x":"s","y":[1,{"p":1,"q":2}]},"b":1}"#).unwrap();
        let c: serde_json::Value =
            serde_json::from_str(r#"{"a":{"x":"s","y":[{"p":1,"q":2},1]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_ne!(canonical_json(&a), canonical_json(&c));
    }
}
