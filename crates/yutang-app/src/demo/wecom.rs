//! The demo's WeCom part: connect the demo brand to a (fake) WeCom corp and let a portion of
//! its customers and groups arrive the real way — the stored settings, the real API client
//! and the real `wecom_full_sync` job. `yutang demo` starts the fake in-process and calls
//! [`Demo::connect_demo_wecom`] with its address.

use serde::Serialize;
use yutang_core::staff::{Role, StaffStatus};

use super::Demo;
use crate::Actor;
use crate::audit::Page;
use crate::error::{AppError, Result};
use crate::staff::StaffQuery;
use crate::wecom::settings::WecomSettingsInput;
use crate::wecom::sync::SyncState;

/// Where the demo's WeCom corp is.
#[derive(Debug, Clone)]
pub struct DemoWecom {
    pub corp_id: String,
    pub secret: String,
    pub api_base: String,
    pub callback_token: String,
    pub encoding_aes_key: String,
    /// The corp's staff userids to link to demo guides, in order.
    pub userids: Vec<String>,
}

/// What arrived.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoWecomSummary {
    pub linked_guides: usize,
    pub customers: u64,
    pub follows: u64,
    pub groups: u64,
    pub group_members: u64,
    pub corp_tags: usize,
}

impl Demo<'_> {
    /// Link the first demo guides to the corp's userids, store the connection settings and run
    /// the full sync to completion.
    pub async fn connect_demo_wecom(&self, corp: &DemoWecom) -> Result<DemoWecomSummary> {
        let system = Actor::system();
        let guides = self
            .staff()
            .list_staff(
                &system,
                &StaffQuery {
                    role: Some(Role::Guide),
                    status: Some(StaffStatus::Active),
                    page: Page {
                        number: 1,
                        size: i64::try_from(corp.userids.len()).unwrap_or(0),
                    },
                    ..StaffQuery::default()
                },
            )
            .await?;
        let mut summary = DemoWecomSummary::default();
        for (guide, userid) in guides.items.iter().zip(&corp.userids) {
            yutang_store::staff::set_wecom_userid(&self.db, guide.id, Some(userid), self.now())
                .await?;
            summary.linked_guides += 1;
        }
        self.wecom()
            .save_wecom_settings(
                &system,
                &WecomSettingsInput {
                    corp_id: Some(corp.corp_id.clone()),
                    api_base: Some(corp.api_base.clone()),
                    contact_secret: Some(corp.secret.clone()),
                    callback_token: Some(corp.callback_token.clone()),
                    encoding_aes_key: Some(corp.encoding_aes_key.clone()),
                    ..WecomSettingsInput::default()
                },
            )
            .await?;
        let job = self.wecom().start_wecom_sync(&system, None).await?;
        self.drain_jobs().await?;
        let done = self.wecom().wecom_sync(&system, job.job.id).await?;
        if done.job.status != "done" {
            return Err(AppError::Internal(format!(
                "the demo's WeCom sync did not finish: {}",
                done.job.error.unwrap_or_default()
            )));
        }
        let st: SyncState = done.state.unwrap_or_default();
        summary.customers = st.customers_created;
        summary.follows = st.follows;
        summary.groups = st.groups;
        summary.group_members = st.members_joined;
        summary.corp_tags = st.tags.map(|t| t.tags).unwrap_or(0);
        Ok(summary)
    }
}
