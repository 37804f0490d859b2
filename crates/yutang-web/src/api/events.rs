//! `POST /api/v1/events`: batches of up to 1,000 typed events.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::events::{EventInput, EventOutcome, RawBatch};
use yutang_core::FieldError;
use yutang_core::events::{ClientEventId, EventKind, MAX_DETAIL_BYTES};
use yutang_core::ids::{CustomerId, StaffId};
use yutang_core::time::{Millis, Occurred};

use super::customers::IdentityIn;
use crate::auth::{ApiActor, ApiJson};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;
use yutang_app::customers::CustomerRef;

/// One event. Name the customer by `customer_id` or by `identity` (exactly one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    /// Your id for the event, 1–64 visible ASCII characters, unique forever: a replay of the
    /// same id is reported as `duplicate` and changes nothing.
    pub id: String,
    /// page_view, search, add_friend, delete_friend, join_group, leave_group, message,
    /// order_paid, order_refunded, coupon_claimed, check_in, share or custom.
    pub kind: String,
    pub customer_id: Option<i64>,
    pub identity: Option<IdentityIn>,
    /// RFC 3339 or epoch milliseconds; default: when received.
    #[schema(value_type = Option<String>)]
    pub occurred_at: Option<serde_json::Value>,
    /// The staff member involved (e.g. the guide of add_friend).
    pub staff_id: Option<i64>,
    /// Free JSON object, at most 4 KiB.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// 1 to 1,000 events, each an `EventIn` (see the components). Each is judged on its own:
    /// valid events are stored even when others are refused, and a malformed one (e.g. with
    /// an unknown field) is answered in `results` as `invalid_event` — so the items are
    /// documented as free objects.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventResult {
    /// The event's id as sent (absent when it could not be read).
    pub id: Option<String>,
    /// accepted, duplicate or rejected.
    pub status: String,
    pub customer_id: Option<i64>,
    /// For rejected events: a stable code (unknown_event_kind, unknown_customer,
    /// duplicate_in_batch, invalid_event …), a message and the field.
    pub code: Option<String>,
    pub message: Option<String>,
    pub field: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventBatchOut {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    /// One result per event, in the order sent.
    pub results: Vec<EventResult>,
}

fn parse_event(v: serde_json::Value, now: i64, skew: i64) -> Result<EventInput, FieldError> {
    let e: EventIn = serde_json::from_value(v)
        .map_err(|e| FieldError::new("event", "invalid_event", e.to_string()))?;
    let client_id = ClientEventId::parse("id", &e.id)?;
    let kind = EventKind::parse_client("kind", &e.kind)?;
    let customer = match (e.customer_id, &e.identity) {
        (Some(id), None) => CustomerRef::Id(CustomerId(id)),
        (None, Some(i)) => CustomerRef::Identity(i.parse()?),
        _ => {
            return Err(FieldError::new(
                "customer_id",
                "customer_required",
                "name the customer with exactly one of customer_id or identity",
            ));
        }
    };
    let occurred_at = match &e.occurred_at {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(Millis::parse_rfc3339("occurred_at", s)?),
        Some(serde_json::Value::Number(n)) => Some(Millis(n.as_i64().ok_or_else(|| {
            FieldError::new(
                "occurred_at",
                "invalid_time",
                "epoch milliseconds must be an integer",
            )
        })?)),
        Some(_) => {
            return Err(FieldError::new(
                "occurred_at",
                "invalid_time",
                "occurred_at is an RFC 3339 string or epoch milliseconds",
            ));
        }
    };
    // Something that happened: from 2000-01-01 to now (plus the allowed clock skew).
    let occurred_at = occurred_at
        .map(|t| Occurred::parse("occurred_at", t, Millis(now), skew).map(|o| o.millis().0))
        .transpose()?;
    let detail = match e.detail {
        None | Some(serde_json::Value::Null) => "{}".to_owned(),
        Some(d @ serde_json::Value::Object(_)) => d.to_string(),
        Some(_) => {
            return Err(FieldError::new(
                "detail",
                "invalid_detail",
                "detail must be a JSON object",
            ));
        }
    };
    if detail.len() > MAX_DETAIL_BYTES {
        return Err(FieldError::new(
            "detail",
            "detail_too_large",
            "detail must be at most 4 KiB",
        ));
    }
    Ok(EventInput {
        client_id,
        kind,
        customer,
        occurred_at,
        staff_id: e.staff_id.map(StaffId),
        detail,
    })
}

/// Ingest a batch of events into customers' timelines. Idempotent by event id. The reply
/// reports each event: `accepted`, `duplicate` (sent before) or `rejected` with a code.
/// An empty batch or one over 1,000 events is refused as a whole (422).
#[utoipa::path(post, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    request_body = EventBatch,
    responses((status = 200, body = EventBatchOut), (status = 403, body = ErrorBody),
        (status = 422, description = "batch_too_large, empty_batch", body = ErrorBody)))]
pub async fn ingest(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<EventBatch>,
) -> WebResult<Json<EventBatchOut>> {
    let (now, skew) = (s.app.now(), s.app.settings.limits.future_skew_minutes);
    let batch: RawBatch = req
        .events
        .into_iter()
        .map(|v| {
            let id = v.get("id").and_then(|i| i.as_str()).map(str::to_owned);
            (id, parse_event(serde_json::Value::Object(v), now, skew))
        })
        .collect();
    let ids: Vec<Option<String>> = batch.iter().map(|(id, _)| id.clone()).collect();
    let outcomes = s.app.events().ingest_events(&a, batch).await?;
    let mut out = EventBatchOut {
        accepted: 0,
        duplicates: 0,
        rejected: 0,
        results: Vec::with_capacity(outcomes.len()),
    };
    for (id, o) in ids.into_iter().zip(outcomes) {
        let r = match o {
            EventOutcome::Accepted { customer_id } => {
                out.accepted += 1;
                EventResult {
                    id,
                    status: "accepted".into(),
                    customer_id: Some(customer_id),
                    code: None,
                    message: None,
                    field: None,
                }
            }
            EventOutcome::Duplicate => {
                out.duplicates += 1;
                EventResult {
                    id,
                    status: "duplicate".into(),
                    customer_id: None,
                    code: None,
                    message: None,
                    field: None,
                }
            }
            EventOutcome::Rejected {
                code,
                message,
                field,
            } => {
                out.rejected += 1;
                EventResult {
                    id,
                    status: "rejected".into(),
                    customer_id: None,
                    code: Some(code),
                    message: Some(message),
                    field,
                }
            }
        };
        out.results.push(r);
    }
    Ok(Json(out))
}
