//! The brand's acquisition settings (引流设置, issue #19 item 6): `GET/PUT
//! /api/v1/acquisition/settings`. Today one setting: the last-touch attribution window of
//! orders (1–90 days, default 7), applied to orders recorded after a change. Operators and
//! admins write (audited as `acquisition_settings_changed`); every role that sees channels
//! reads.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::acquisition::settings::AcquisitionSettingsView;

use crate::auth::{ApiActor, ApiJson};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

/// The settings in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcquisitionSettingsOut {
    /// An order is credited to the channel of the customer's latest add within this many days
    /// (× 24 h) before its payment (1–90).
    pub attribution_window_days: i64,
    /// The window when none was ever set (7).
    pub default_attribution_window_days: i64,
    /// When they were last changed (epoch ms); `null` while they are the defaults.
    pub updated_at: Option<i64>,
    /// Who last changed them; `''` while they are the defaults.
    pub updated_by: String,
}

impl From<AcquisitionSettingsView> for AcquisitionSettingsOut {
    fn from(v: AcquisitionSettingsView) -> Self {
        Self {
            attribution_window_days: v.attribution_window_days,
            default_attribution_window_days: v.default_attribution_window_days,
            updated_at: v.updated_at,
            updated_by: v.updated_by,
        }
    }
}

/// The whole settings object (every field required; unknown fields are refused).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcquisitionSettingsIn {
    /// 1–90 days. Applies to orders recorded after the change; orders already recorded keep
    /// their channel.
    pub attribution_window_days: i64,
}

/// The acquisition settings (every role that sees channels).
#[utoipa::path(get, path = "/api/v1/acquisition/settings", tag = "acquisition",
    security(("bearer" = [])),
    responses((status = 200, body = AcquisitionSettingsOut), (status = 403, body = ErrorBody)))]
pub async fn get_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<AcquisitionSettingsOut>> {
    Ok(Json(
        s.app.acquisition().acquisition_settings(&a).await?.into(),
    ))
}

/// Replace the acquisition settings (operators and admins; audited). A window outside 1–90
/// days is 422 `invalid_count` naming `attribution_window_days`.
#[utoipa::path(put, path = "/api/v1/acquisition/settings", tag = "acquisition",
    security(("bearer" = [])), request_body = AcquisitionSettingsIn,
    responses((status = 200, body = AcquisitionSettingsOut), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<AcquisitionSettingsIn>,
) -> WebResult<Json<AcquisitionSettingsOut>> {
    let v = s
        .app
        .acquisition()
        .save_acquisition_settings(&a, r.attribution_window_days)
        .await?;
    Ok(Json(v.into()))
}
