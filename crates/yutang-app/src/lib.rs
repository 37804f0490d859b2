//! Yutang's use cases: one module per area, whose use cases are methods of the area's service
//! (`app.customers()`, `app.tags()`, …; each derefs to the shared [`App`] context). Each use
//! case takes the [`Actor`] behind the request explicitly, checks authorization from it,
//! applies the core rules and writes through the store. Handlers in `yutang-web` stay thin:
//! parse → call one use case → render.

pub mod acquisition;
pub mod actor;
pub mod analytics;
pub mod audit;
pub mod auth;
pub mod auth_wecom;
pub mod churn_alerts;
pub mod customer_tokens;
pub mod customers;
pub mod db_copy;
pub mod demo;
pub mod error;
pub mod events;
pub mod group_codes;
pub mod guide_tasks;
pub mod idempotency;
pub mod import;
pub mod import_runs;
pub mod inbound;
mod job_kinds;
pub mod jobs;
pub mod journeys;
pub mod leaderboards;
pub mod loyalty;
pub mod materials;
pub mod messaging;
pub mod moments;
pub mod orders;
pub mod org;
pub mod promotions;
pub mod radar;
pub mod ratings;
pub mod saved_filters;
pub mod secret_box;
pub mod segments;
pub mod settings;
pub mod sidebar;
pub mod staff;
mod staff_scope;
pub(crate) mod sync_lease;
pub mod tags;
pub mod tokens;
pub mod webhooks;
pub mod wecom;
pub mod workers;

use std::sync::Arc;

pub use actor::Actor;
pub use error::{AppError, Result};
pub use settings::Settings;
use yutang_store::{Db, DbUrl, StoreOptions};

/// Everything a use case needs: the database, the settings, the segment index, the WeCom
/// client and the job registry. Cheap to clone. The use cases themselves are on the per-area
/// services it hands out (`app.customers()`, `app.wecom()`, …), which deref to it.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// The segment index, built from the database at open and kept current.
    pub segments: Arc<segments::SegmentEngine>,
    /// The WeCom settings in force and the API client made from them (tokens cached inside).
    pub(crate) wecom_client: Arc<wecom::settings::Live>,
    /// The customer-token signing secret, loaded (or generated) on first use.
    pub(crate) customer_token_secret: Arc<std::sync::OnceLock<Vec<u8>>>,
    /// Held while WeCom callbacks are applied: a group change re-reads the group and
    /// reconciles, and two passes interleaving (the background loop and a caller draining the
    /// inbox) could let a pass holding an older snapshot write last.
    pub(crate) wecom_inbox: Arc<tokio::sync::Mutex<()>>,
    /// Held (shared) by every pass over the WeCom inbox until its adds' follow-ups (welcomes,
    /// re-pointing) are done, which run after the inbox lock is released; taking it
    /// exclusively waits for them ([`wecom::Wecom::wecom_follow_ups_settled`]).
    pub(crate) wecom_follow_ups: Arc<tokio::sync::RwLock<()>>,
    /// Held (with the `ContactLedger` node lock) while a message's recipients are decided
    /// from the contact ledger and written to it: two messages prepared at once would both
    /// read the ledger before either wrote, and both pass the frequency cap.
    pub(crate) contact_ledger: Arc<tokio::sync::Mutex<()>>,
    /// The job kinds this node runs and their handlers (see `job_kinds`).
    pub(crate) jobs: Arc<jobs::JobRegistry>,
    /// The HTTP clients outbound webhooks are sent with, made on first use.
    pub(crate) webhook_http: Arc<std::sync::OnceLock<webhooks::WebhookHttp>>,
}

impl App {
    /// Open the configured database and bring its schema up to date.
    pub async fn open(settings: Settings) -> Result<Self> {
        let url = DbUrl::parse(&settings.database_url).map_err(AppError::Store)?;
        let opts = StoreOptions {
            max_connections: settings.database.max_connections,
            sqlite_synchronous_full: settings.database.sqlite_synchronous_full,
            ..StoreOptions::default()
        };
        let db = Db::connect(&url, &opts).await?;
        db.migrate().await?;
        let app = Self {
            db,
            settings: Arc::new(settings),
            segments: Arc::new(segments::SegmentEngine::default()),
            wecom_client: Arc::default(),
            customer_token_secret: Arc::default(),
            wecom_inbox: Arc::default(),
            wecom_follow_ups: Arc::default(),
            contact_ledger: Arc::default(),
            jobs: Arc::new(job_kinds::registry()),
            webhook_http: Arc::default(),
        };
        // The segment index is built by `yutang serve` before it listens (see
        // `workers::Workers::start`), or lazily by the first use case that needs it, so
        // one-shot commands (migrate, import, admin) never pay for it.
        Ok(app)
    }

    pub fn now(&self) -> i64 {
        yutang_core::time::Millis::now().0
    }
}
