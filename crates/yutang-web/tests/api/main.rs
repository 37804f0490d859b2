#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Black-box tests through the HTTP API, one binary (link time), one module per area.
//! Every test runs twice: on SQLite and on PostgreSQL, each time against a fresh database.

/// Generate `mod name { sqlite, postgres }` test pairs for async test functions `name(engine)`.
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(crate::helpers::Engine::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(crate::helpers::Engine::Postgres).await
                }
            }
        )*
    };
}

mod acquisition;
mod acquisition_poster;
mod acquisition_settings;
mod acquisition_stats;
mod audit;
mod auth;
mod cards;
mod churn_alerts;
mod console;
mod console_acquisition;
mod console_crawl;
mod console_dashboard;
mod console_group_codes;
mod console_guide_tasks;
mod console_inbound;
mod console_journeys;
mod console_leaderboards;
mod console_loyalty;
mod console_materials;
mod console_messaging;
mod console_metrics;
mod console_moments;
mod console_points;
mod console_referrals;
mod console_webhooks;
mod console_workbench;
mod customer_list;
mod customers;
mod dashboard;
mod db_copy;
mod events;
mod gifts;
mod group_codes;
mod guide_tasks;
mod health;
mod helpers;
mod hostile;
mod idempotency;
mod import;
mod inbound;
mod jobs;
mod journeys;
mod leaderboards;
mod mall;
mod mass_messages;
mod materials;
mod media;
mod metrics;
mod moments;
mod notes;
mod orders;
mod org;
mod points;
mod promotion_stats;
mod promotions;
mod radar;
mod ratings;
mod referrals;
mod reports;
mod scope_matrix;
mod segments;
mod segments_acquisition;
mod share;
mod sidebar;
mod staff;
mod stored_value;
mod tiers;
mod tokens;
mod two_nodes;
mod upgrade;
mod uplift;
mod webhooks;
mod wecom;
mod wecom_check;
mod wecom_inbox;
mod wecom_login;
mod wecom_sync;
