//! The brand's acquisition settings (引流设置): the last-touch attribution window of orders.
//!
//! Everyone who sees channels reads them; operators and admins change them (audited as
//! `acquisition_settings_changed`, the field with `before` and `after`). Orders read the
//! window when they are recorded (`crate::orders`), so a change applies to orders recorded
//! after it and never re-credits an order already recorded.

use serde::Serialize;
use yutang_core::acquisition::AcquisitionSettings;
use yutang_store::acquisition::settings as store;

use super::{Acquisition, manage, view};
use crate::Actor;
use crate::audit::{self, Action};
use crate::error::Result;

/// The settings as the API shows them.
#[derive(Debug, Clone, Serialize)]
pub struct AcquisitionSettingsView {
    /// Orders are credited to the channel of the customer's latest add within this many days
    /// before payment (1–90).
    pub attribution_window_days: i64,
    /// The window when none was ever set.
    pub default_attribution_window_days: i64,
    /// When and by whom they were last changed; `null` / `''` while they are the defaults.
    pub updated_at: Option<i64>,
    pub updated_by: String,
}

impl AcquisitionSettingsView {
    fn of(row: Option<store::AcquisitionSettingsRow>) -> Self {
        let default = AcquisitionSettings::default().attribution_window_days;
        match row {
            Some(r) => Self {
                attribution_window_days: r.attribution_window_days,
                default_attribution_window_days: default,
                updated_at: Some(r.updated_at),
                updated_by: r.updated_by,
            },
            None => Self {
                attribution_window_days: default,
                default_attribution_window_days: default,
                updated_at: None,
                updated_by: String::new(),
            },
        }
    }
}

impl Acquisition<'_> {
    pub async fn acquisition_settings(&self, actor: &Actor) -> Result<AcquisitionSettingsView> {
        view(actor)?;
        Ok(AcquisitionSettingsView::of(store::get(&self.db).await?))
    }

    /// Replace the settings. Saving the value in force changes nothing and writes no audit
    /// entry.
    pub async fn save_acquisition_settings(
        &self,
        actor: &Actor,
        attribution_window_days: i64,
    ) -> Result<AcquisitionSettingsView> {
        manage(actor)?;
        let s = AcquisitionSettings::parse(attribution_window_days)?;
        let mut tx = self.db.begin().await?;
        let before = store::lock_in(&mut tx).await?;
        // Unchanged: the transaction is dropped (rolled back), with the row it may have made.
        if before != s.attribution_window_days {
            store::save_in(&mut tx, s.attribution_window_days, self.now(), &actor.name).await?;
            audit::record_in(
                self,
                &mut tx,
                actor,
                Action::AcquisitionSettingsChanged,
                "acquisition_settings",
                &serde_json::json!({
                    "field": "attribution_window_days",
                    "before": before,
                    "after": s.attribution_window_days,
                })
                .to_string(),
            )
            .await?;
            tx.commit().await?;
        }
        self.acquisition_settings(actor).await
    }
}
