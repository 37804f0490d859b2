//! Persistence for Yutang over SQLite (embedded default) and PostgreSQL (production).
//!
//! One codebase serves both engines: the engine is chosen once from the URL ([`Db::connect`]),
//! each query's SQL text is shared and the [`db_run!`] macro expands the same body once per
//! engine so each copy type-checks against a concrete pool. Rows stay in this crate
//! (`…Row: FromRow`) and leave as plain records; sqlx never leaks into `yutang-core`.

#[macro_use]
mod macros;
#[macro_use]
pub mod tx;
pub mod acquisition;
pub mod audit;
pub mod backup;
pub mod bulk;
pub mod churn_alerts;
pub mod copy;
pub mod customers;
pub mod db;
pub mod error;
pub mod events;
pub mod facts;
pub mod feed;
pub mod group_codes;
pub mod guide_tasks;
pub mod imports;
pub mod inbound;
pub mod jobs;
pub mod journeys;
pub mod leaderboards;
pub mod locks;
pub mod login_attempts;
pub mod loyalty;
pub mod materials;
pub mod media;
pub mod messaging;
pub mod moments;
pub mod orders;
pub mod org;
pub mod promotions;
pub mod radar;
pub mod ratings;
pub mod reports;
pub mod rollups;
pub mod saved_filters;
pub mod segments;
pub mod sessions;
pub mod staff;
pub mod sync_lease;
pub mod tags;
pub mod tokens;
pub mod uplift;
pub mod webhooks;
pub mod wecom;

pub use db::{Db, DbUrl, Engine, StoreOptions};
pub use error::StoreError;
pub use tx::Tx;
