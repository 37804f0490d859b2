//! Liveness, readiness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use yutang_core::staff::Permission;

use crate::auth::ApiActor;
use crate::error::WebError;
use crate::state::AppState;

/// The process is up.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The process can serve: the database answers.
pub async fn readyz(State(s): State<AppState>) -> Response {
    match s.app.db.ping().await {
        Ok(()) => Json(json!({ "status": "ready", "database": s.app.db.engine().as_str() }))
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
    }
}

/// Prometheus metrics, behind a bearer token with the `ViewMetrics` permission (admin,
/// operator or analyst), so they are never exposed by accident. Point Prometheus'
/// `authorization` setting at an analyst API token.
pub async fn metrics(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Response, WebError> {
    if !actor.can(Permission::ViewMetrics) {
        return Err(yutang_app::AppError::Forbidden.into());
    }
    refresh_gauges(&s).await;
    s.metrics.run_upkeep();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response())
}

/// Gauges read from the database at scrape time: `wecom_inbox_callbacks{status}` counts the
/// WeCom callbacks not applied — `pending` (not tried yet), `failed` (retried by the
/// worker) and `parked` (failed 5 times, waiting for a replay). Alert on `parked > 0`.
async fn refresh_gauges(s: &AppState) {
    match s.app.wecom().wecom_inbox_stats().await {
        Ok(st) => {
            for (status, n) in [
                ("pending", st.pending),
                ("failed", st.failed),
                ("parked", st.parked),
            ] {
                metrics::gauge!("wecom_inbox_callbacks", "status" => status).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading WeCom inbox counts for /metrics"),
    }
}
